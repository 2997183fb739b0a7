"""The audit tables refuse UPDATE and DELETE in the database itself: raw SQL, ORM bulk
updates and deletes, and a model's save() all fail, and the rows stay as written."""

import pytest
from django.db import DatabaseError, connection, transaction

from cadres.models import AuditEntry
from cadres.services import audit
from evaluation import services
from evaluation.models import PublishedResult, ScoreChange, TransitionLog
from tests.evaluation import steps

pytestmark = pytest.mark.django_db


@pytest.fixture
def audited(unit):
    """One row in each audit table: a whole evaluation through to publication."""
    cadre = unit.head
    steps.plan_and_approve(unit, cadre)
    steps.self_assess(unit, cadre)
    steps.vet(unit, cadre)
    services.evaluation_propose(
        evaluation=unit.evaluation(cadre), actor=unit.superior, grade="good"
    )
    collective = services.collective_for(period=unit.period, unit=unit.unit)
    services.collective_set_targets(
        collective=collective, actor=unit.authority, targets=[{"title": "Chỉ tiêu"}]
    )
    target = collective.targets.get()
    services.collective_record_results(
        collective=collective, actor=unit.authority, results={target.pk: {"status": "done"}}
    )
    services.collective_grade(collective=collective, actor=unit.authority)
    services.evaluation_decide(
        evaluation=unit.evaluation(cadre), actor=unit.authority, grade="good"
    )
    services.evaluation_publish(evaluation=unit.evaluation(cadre), actor=unit.organisation)
    rows = {
        TransitionLog: TransitionLog.objects.filter(evaluation__cadre=cadre).first(),
        ScoreChange: ScoreChange.objects.filter(evaluation__cadre=cadre).first(),
        PublishedResult: PublishedResult.objects.get(evaluation__cadre=cadre),
        AuditEntry: AuditEntry.objects.filter(tenant=unit.tenant).first(),
    }
    assert all(rows.values()), rows
    return rows


MODELS = [TransitionLog, ScoreChange, PublishedResult, AuditEntry]
FIELD = {
    TransitionLog: ("reason", "'rewritten'"),
    ScoreChange: ("reason", "'rewritten'"),
    PublishedResult: ("grade", "'excellent'"),
    AuditEntry: ("action", "'rewritten'"),
}


def refused(action):
    with pytest.raises(DatabaseError) as excinfo, transaction.atomic():
        action()
    assert "append-only" in str(excinfo.value)


def snapshot(row):
    return type(row).objects.filter(pk=row.pk).values().get()


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_raw_sql_update_and_delete_are_refused(audited, model):
    row = audited[model]
    before = snapshot(row)
    table = model._meta.db_table
    column, value = FIELD[model]

    def update():
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET {column} = {value} WHERE id = %s", [row.pk])

    def delete():
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table} WHERE id = %s", [row.pk])

    refused(update)
    refused(delete)
    assert snapshot(row) == before


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_orm_bulk_update_delete_and_save_are_refused(audited, model):
    row = audited[model]
    before = snapshot(row)
    column, _value = FIELD[model]
    rows = model.objects.filter(tenant_id=row.tenant_id)

    refused(lambda: rows.update(**{column: "excellent" if column == "grade" else "rewritten"}))
    refused(lambda: model.objects.filter(pk=row.pk).delete())
    setattr(row, column, "excellent" if column == "grade" else "rewritten")
    refused(row.save)
    assert snapshot(row) == before


def test_inserting_is_still_allowed(unit):
    before = AuditEntry.objects.count()
    audit(tenant_id=unit.tenant.pk, actor=None, action="probe", obj=unit.unit)
    assert AuditEntry.objects.count() == before + 1


def test_the_trigger_is_on_exactly_the_four_audit_tables(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgrelid::regclass::text FROM pg_trigger WHERE tgname = 'append_only' ORDER BY 1"
        )
        tables = [row[0] for row in cursor.fetchall()]
    assert tables == sorted(m._meta.db_table for m in MODELS)
