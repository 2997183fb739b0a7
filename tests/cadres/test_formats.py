from datetime import date
from decimal import Decimal

import pytest
from django import forms
from django.utils import formats, translation

from cadres import services
from cadres.forms import AbsenceForm
from cadres.models import Absence
from tests import factories


@pytest.fixture(autouse=True)
def vietnamese():
    with translation.override("vi"):
        yield


def test_a_date_typed_dd_mm_yyyy_is_accepted_and_shown_back_the_same(tenant):
    person = factories.cadre(factories.unit(tenant))
    form = AbsenceForm(
        tenant=tenant,
        data={
            "cadre": person.pk,
            "kind": Absence.Kind.SICK_LEAVE,
            "start_date": "31/03/2026",
            "end_date": "03/04/2026",
        },
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["start_date"] == date(2026, 3, 31)
    assert form.cleaned_data["end_date"] == date(2026, 4, 3)  # 3 April, not 4 March
    absence = services.absence_create(**form.cleaned_data)
    shown = AbsenceForm(tenant=tenant, instance=absence)
    assert 'value="31/03/2026"' in str(shown["start_date"])
    assert formats.date_format(absence.end_date, "SHORT_DATE_FORMAT") == "03/04/2026"


def test_an_impossible_date_gives_a_field_error(tenant):
    person = factories.cadre(factories.unit(tenant))
    form = AbsenceForm(
        tenant=tenant,
        data={
            "cadre": person.pk,
            "kind": Absence.Kind.SICK_LEAVE,
            "start_date": "31/02/2026",
            "end_date": "03/04/2026",
        },
    )
    assert not form.is_valid()
    assert "start_date" in form.errors


def test_a_decimal_comma_is_accepted():
    field = forms.DecimalField(localize=True, decimal_places=1)
    assert field.clean("87,5") == Decimal("87.5")
    assert formats.number_format(Decimal("87.5"), 1) == "87,5"


def test_a_cadre_of_another_tenant_is_not_a_valid_choice(tenant, other_tenant):
    foreign = factories.cadre(factories.unit(other_tenant))
    form = AbsenceForm(
        tenant=tenant,
        data={
            "cadre": foreign.pk,
            "kind": Absence.Kind.SICK_LEAVE,
            "start_date": "01/04/2026",
            "end_date": "03/04/2026",
        },
    )
    assert not form.is_valid()
    assert "cadre" in form.errors
