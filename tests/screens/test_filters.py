"""The template filters that most pages draw many times."""

from decimal import Decimal

from django.utils import formats, translation
from hypothesis import given
from hypothesis import strategies as st

from evaluation.templatetags.cadreval import score


@given(st.decimals(min_value=-2000, max_value=2000, places=3, allow_nan=False))
def test_score_reads_as_djangos_number_format_with_one_decimal(value):
    for language in ("vi", "en"):
        with translation.override(language):
            assert score(value) == formats.number_format(value, 1)


def test_score_in_each_language_and_without_a_value():
    with translation.override("vi"):
        assert score(Decimal("87.5")) == "87,5"
        assert score("93.45") == "93,4"  # truncated, as number_format does
        assert score(100) == "100,0"
        assert score(Decimal("0.04")) == "0,0"
    with translation.override("en"):
        assert score(Decimal("87.5")) == "87.5"
        assert score(Decimal("-3.25")) == "-3.2"
    assert score(None) == "—" and score("") == "—"


@given(st.integers(min_value=1, max_value=2**63 - 1))
def test_an_address_reversed_once_a_table_is_the_one_reversed_for_the_row(pk):
    from django.urls import reverse

    from config.jinja2 import url_of_each

    assert url_of_each("evaluation_detail")(pk) == reverse("evaluation_detail", args=[pk])
    for language in ("vi", "en"):
        with translation.override(language):
            assert url_of_each("evaluation_detail")(pk) == reverse("evaluation_detail", args=[pk])
