"""config.compiled_query: a read whose SQL is built once gives the rows its queryset gives,
whatever the values of each call, and refuses a build that does not use a value it names."""

from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.models import F
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from cadres.models import Cadre
from config.compiled_query import CompiledQuery
from evaluation import selectors
from evaluation.models import Evaluation
from tests import factories
from tests.screens import bulk

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_groups(tenant, other_tenant):
    """Two groups of different sizes, with tied, zero and missing scores and stored reasons."""
    big, small = bulk.build(tenant, 30), bulk.build(other_tenant, 7)
    scores = [None, Decimal("0"), Decimal("91.0"), Decimal("91.0"), Decimal("85.5")]
    for i, evaluation in enumerate(big.evaluations + small.evaluations):
        Evaluation.objects.filter(pk=evaluation.pk).update(vetted_score=scores[i % len(scores)])
    return big, small


def members_queryset(group_id):
    return (
        Evaluation.objects.filter(quota_group_id=group_id, is_current=True)
        .order_by(*selectors.BOARD_ORDER)
        .values_list(*selectors._MEMBER_COLUMNS)
    )


def test_the_group_in_order_is_the_querysets_for_every_group(two_groups):
    compiled = CompiledQuery(members_queryset)
    for unit in two_groups:
        expected = list(members_queryset(unit.group_id))
        assert len(expected) == len(unit.evaluations)
        assert compiled.rows(group_id=unit.group_id) == expected
    assert compiled.rows(group_id=0) == []


def test_lines_of_any_length_come_converted_as_the_queryset_converts_them(two_groups):
    big, _small = two_groups
    columns = list(selectors._BOARD_COLUMNS.values())
    compiled = CompiledQuery(
        lambda ids: Evaluation.objects.filter(pk__in=ids).values_list(*columns)
    )
    reasons = columns.index("computed_reasons")
    ids = [e.pk for e in big.evaluations]
    for chosen in (ids[:1], ids[:5], ids[3:20], ids[:5]):
        expected = sorted(Evaluation.objects.filter(pk__in=chosen).values_list(*columns))
        got = sorted(compiled.rows(ids=chosen))
        assert got == expected
        assert {row[0] for row in got} == set(chosen)
    # JSON arrives as Python lists (the field's from_db_value), as from the queryset.
    stored = [row[reasons] for row in compiled.rows(ids=ids) if row[reasons]]
    assert stored and all(isinstance(value, list) for value in stored)


def test_its_sql_is_built_once_a_shape_and_each_call_is_one_query(two_groups):
    big, small = two_groups
    built = []

    def build(group_id):
        built.append(group_id)
        return members_queryset(group_id)

    compiled = CompiledQuery(build)
    with CaptureQueriesContext(connection) as queries:
        first = compiled.rows(group_id=big.group_id)
        second = compiled.rows(group_id=small.group_id)
    assert len(queries) == 2
    assert len(built) == 1 and built[0] < 0  # built once, with a stand-in
    assert [row[0] for row in first] == [row[0] for row in members_queryset(big.group_id)]
    assert len(second) == len(small.evaluations)
    assert str(big.group_id) in queries[0]["sql"] and str(small.group_id) in queries[1]["sql"]


def test_a_value_used_twice_is_put_in_both_places_and_one_never_used_is_refused(two_groups):
    big, _small = two_groups
    first = big.evaluations[0]
    twice = CompiledQuery(
        lambda pk: Evaluation.objects.filter(pk=pk, quota_group__evaluations__pk=pk).values_list(
            "pk"
        )
    )
    assert twice.rows(pk=first.pk) == [(first.pk,)]
    assert twice.rows(pk=big.evaluations[1].pk) == [(big.evaluations[1].pk,)]
    ignores = CompiledQuery(lambda unit_id: Evaluation.objects.filter(unit_id=5).values_list("pk"))
    with pytest.raises(ValueError, match="unit_id"):
        ignores.rows(unit_id=first.unit_id)


def test_the_quota_group_comes_whole_to_its_authority_and_as_404_to_anyone_else(two_groups):
    big, small = two_groups
    group = selectors.quota_group_for_user(big.authority, big.group_id)
    assert (group.pk, group.unit, group.period, group.tenant) == (
        big.group_id,
        big.unit,
        big.period,
        big.tenant,
    )
    assert group.unit.path == big.unit.path and str(group.period) == str(big.period)
    for user, key in [
        (big.authority, small.group_id),  # another tenant's
        (big.superior, big.group_id),  # no authority over it
        (big.authority, "12a"),
        (big.authority, 2**63),
        (big.authority, 0),
        (big.authority, None),
    ]:
        with pytest.raises(Http404):
            selectors.quota_group_for_user(user, key)


def test_text_values_are_put_in_their_places_too(two_groups):
    big, small = two_groups
    by_code = CompiledQuery(
        lambda code, name: Cadre.objects.filter(code=code).exclude(full_name=name).values_list("pk")
    )
    first, second = big.cadres[0], small.cadres[1]
    assert by_code.rows(code=first.code, name="—") == [(first.pk,)]
    assert by_code.rows(code=second.code, name="—") == [(second.pk,)]
    assert by_code.rows(code=second.code, name=second.full_name) == []
    assert by_code.rows(code="không có", name="—") == []


def prepared_statements() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, statement FROM pg_prepared_statements")
        return dict(cursor.fetchall())


def test_on_postgresql_a_read_is_prepared_once_a_connection_and_each_call_executes_it(
    two_groups,
):
    big, small = two_groups
    compiled = CompiledQuery(members_queryset)
    before = prepared_statements()
    with CaptureQueriesContext(connection) as queries:
        first = compiled.rows(group_id=big.group_id)
        second = compiled.rows(group_id=small.group_id)
    added = {name: sql for name, sql in prepared_statements().items() if name not in before}
    assert len(added) == 1  # one statement, prepared by the first call only
    ((name, statement),) = added.items()
    assert name.startswith("evaluation_evaluation_read_")
    assert statement.startswith(f"PREPARE {name}(bigint) AS SELECT")
    # The constants of the board's order are written in; the group is the only parameter.
    assert "'head'" in statement and "$1" in statement and "$2" not in statement
    assert [query["sql"] for query in queries] == [
        f"EXECUTE {name}({big.group_id})",
        f"EXECUTE {name}({small.group_id})",
    ]
    assert first == list(members_queryset(big.group_id))
    assert second == list(members_queryset(small.group_id))


def test_percent_signs_and_quotes_in_the_sql_and_its_constants_keep_their_meaning(two_groups):
    big, _small = two_groups
    cadre = big.cadres[0]
    Cadre.objects.filter(pk=cadre.pk).update(full_name=f"{cadre.code} 50%'s")
    # ``startswith`` a column writes ``'%%'`` into the SQL; ``contains`` a constant passes one
    # as a parameter with a quote in it.
    compiled = CompiledQuery(
        lambda code: Cadre.objects.filter(
            code=code, full_name__startswith=F("code"), full_name__contains="50%'"
        ).values_list("pk", "full_name")
    )
    assert compiled.rows(code=cadre.code) == [(cadre.pk, f"{cadre.code} 50%'s")]
    assert compiled.rows(code=big.cadres[1].code) == []


def test_a_statement_prepared_in_a_transaction_that_rolls_back_is_still_there(two_groups):
    big, _small = two_groups
    compiled = CompiledQuery(members_queryset)
    with pytest.raises(RuntimeError), transaction.atomic():
        assert compiled.rows(group_id=big.group_id)
        raise RuntimeError("rolled back")
    assert compiled.rows(group_id=big.group_id) == list(members_queryset(big.group_id))


@pytest.mark.django_db(transaction=True)
def test_a_new_connection_prepares_again(tenant):
    cadre = factories.cadre(factories.unit(tenant), with_user=False)
    compiled = CompiledQuery(lambda pk: Cadre.objects.filter(pk=pk).values_list("full_name"))
    assert compiled.rows(pk=cadre.pk) == [(cadre.full_name,)]
    connection.close()
    assert compiled.rows(pk=cadre.pk) == [(cadre.full_name,)]
    assert len([sql for sql in prepared_statements().values() if "cadres_cadre" in sql]) == 1


def test_turned_off_a_read_runs_its_sql_with_the_values_written_in(two_groups, settings):
    settings.DB_PREPARED_READS = False
    big, _small = two_groups
    compiled = CompiledQuery(members_queryset)
    before = prepared_statements()
    with CaptureQueriesContext(connection) as queries:
        rows = compiled.rows(group_id=big.group_id)
    assert prepared_statements() == before
    assert queries[0]["sql"].startswith("SELECT") and str(big.group_id) in queries[0]["sql"]
    assert rows == list(members_queryset(big.group_id))
