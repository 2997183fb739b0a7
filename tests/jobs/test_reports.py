"""R16 on the 5th: each unit's report on time or late, and escalation to the authority."""

from datetime import date

import pytest

from evaluation import jobs, services
from evaluation.models import EvaluationState, Notification, ReportStatus
from tests.evaluation import steps
from tests.jobs.helpers import clock, row_counts

pytestmark = pytest.mark.django_db


def defer(u, cadre, day: date):
    with clock(day):
        return services.evaluation_defer(
            evaluation=u.evaluation(cadre), actor=u.authority, case="R11e", reason="Biệt phái"
        )


def publish_one(u, cadre, day: date):
    with clock(day):
        steps.plan_and_approve(u, cadre)
        steps.self_assess(u, cadre)
        steps.vet(u, cadre)
        evaluation = u.evaluation(cadre)
        services.evaluation_propose(evaluation=evaluation, actor=u.superior, grade="good")
        services.evaluation_decide(evaluation=evaluation, actor=u.authority, grade="good")
        return services.evaluation_publish(evaluation=evaluation, actor=u.organisation)


def mark(u, day: date) -> dict:
    return jobs.mark_reports(tenant_id=u.tenant.pk, period_id=u.period.pk, as_of=day.isoformat())


def test_a_unit_complete_on_the_2nd_of_july_is_on_time(tenant):
    u = steps.build_unit(tenant)
    for cadre in u.cadres[1:]:
        defer(u, cadre, date(2026, 6, 20))
    assert publish_one(u, u.head, date(2026, 7, 2)).state == EvaluationState.PUBLISHED
    assert mark(u, date(2026, 7, 4)) == {"marked": 0, "updated": 0, "escalated": 0}  # not yet
    assert mark(u, date(2026, 7, 5)) == {"marked": 1, "updated": 0, "escalated": 0}
    status = ReportStatus.objects.get(period=u.period, unit=u.unit)
    assert (status.complete_on, status.is_late, status.outstanding) == (date(2026, 7, 2), False, 0)
    assert status.reasons[0]["rule"] == "R16"
    assert not Notification.objects.filter(kind="escalation").exists()


def test_an_incomplete_unit_is_late_escalated_once_then_completes_late(tenant):
    u = steps.build_unit(tenant)
    for cadre in u.cadres[1:]:
        defer(u, cadre, date(2026, 6, 20))
    assert mark(u, date(2026, 7, 5)) == {"marked": 1, "updated": 0, "escalated": 1}
    status = ReportStatus.objects.get(period=u.period, unit=u.unit)
    assert (status.complete_on, status.is_late, status.outstanding) == (None, True, 1)
    assert status.escalated_at is not None
    escalation = Notification.objects.get(kind="escalation")
    assert escalation.recipient == u.authority
    assert "04/07/2026" in escalation.message

    before = row_counts()
    assert mark(u, date(2026, 7, 6)) == {"marked": 0, "updated": 0, "escalated": 0}
    assert row_counts() == before

    defer(u, u.head, date(2026, 7, 10))
    assert mark(u, date(2026, 7, 11)) == {"marked": 0, "updated": 1, "escalated": 0}
    status.refresh_from_db()
    assert (status.complete_on, status.is_late, status.outstanding) == (date(2026, 7, 10), True, 0)
    assert "10/07/2026" in status.reasons[0]["message"]
    assert Notification.objects.filter(kind="escalation").count() == 1
