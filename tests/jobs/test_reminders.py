"""Deadline reminders: 7, 3 and 1 day(s) before, to whoever has not acted, once each."""

from datetime import date

import pytest

from cadres.roles import Role
from evaluation import jobs, services
from evaluation.models import Notification, SentReminder
from tests import factories
from tests.evaluation import steps
from tests.jobs.helpers import row_counts

pytestmark = pytest.mark.django_db


def remind(u, day: date) -> int:
    return jobs.send_reminders(tenant_id=u.tenant.pk, period_id=u.period.pk, as_of=day)["sent"]


def inbox(user) -> list[tuple[str, str]]:
    return list(
        Notification.objects.filter(recipient=user, kind__startswith="reminder_")
        .order_by("pk")
        .values_list("kind", "message")
    )


@pytest.mark.parametrize(
    ("deadline", "day", "expected"),
    [
        (date(2026, 4, 15), date(2026, 4, 7), None),
        (date(2026, 4, 15), date(2026, 4, 8), 7),
        (date(2026, 4, 15), date(2026, 4, 11), 7),
        (date(2026, 4, 15), date(2026, 4, 12), 3),
        (date(2026, 4, 15), date(2026, 4, 13), 3),
        (date(2026, 4, 15), date(2026, 4, 14), 1),
        (date(2026, 4, 15), date(2026, 4, 15), None),
        (date(2026, 4, 15), date(2026, 4, 16), None),
    ],
)
def test_the_reminder_due_on_a_day(deadline, day, expected):
    assert jobs.reminder_threshold(deadline, day) == expected


def test_each_step_reminds_the_people_who_must_act(tenant):
    u = steps.build_unit(tenant)  # Q2/2026: targets by 15/04, vetting by 27/06
    second_superior = factories.holder(Role.SUPERIOR, u.unit)
    head = u.evaluation(u.head)
    services.evaluation_save_plan(
        evaluation=head,
        actor=u.head.user,
        tasks=steps.plan_tasks(u.head),
        axis_roles={"1": "primary", "3": "secondary"},
    )
    services.evaluation_submit_plan(evaluation=head, actor=u.head.user)
    steps.plan_and_approve(u, u.members[0])
    steps.plan_and_approve(u, u.members[1])
    steps.self_assess(u, u.members[1])
    Notification.objects.all().delete()

    # 8/04: 7 days before the targets are due.
    assert remind(u, date(2026, 4, 8)) == 5 + 2
    planning = [u.deputies[0], u.deputies[1], u.members[2], u.members[3], u.members[4]]
    for cadre in planning:
        [(kind, message)] = inbox(cadre.user)
        assert kind == "reminder_plan" and "15/04/2026" in message
    for cadre in (u.head, u.members[0], u.members[1]):
        assert inbox(cadre.user) == []
    for superior in (u.superior, second_superior):
        [(kind, message)] = inbox(superior)
        assert kind == "reminder_plan_approval" and "15/04/2026" in message

    before = row_counts()
    assert remind(u, date(2026, 4, 8)) == 0
    assert remind(u, date(2026, 4, 9)) == 0  # still the 7-day reminder: already sent
    assert row_counts() == before

    # 21/06: the self-assessment is due in 3 days (24/06), vetting in 6 (27/06).
    assert remind(u, date(2026, 6, 21)) == 1 + 1
    assert [k for k, _m in inbox(u.members[0].user)] == ["reminder_self_assessment"]
    assert [k for k, _m in inbox(u.advisory)] == ["reminder_vetting"]
    # 24/06: vetting in 3 days; 27/06: the report to the level above in 7 (04/07).
    assert remind(u, date(2026, 6, 24)) == 1
    assert [k for k, _m in inbox(u.advisory)] == ["reminder_vetting", "reminder_vetting"]
    assert remind(u, date(2026, 6, 27)) == 1
    [(kind, message)] = inbox(u.organisation)
    assert kind == "reminder_report" and "04/07/2026" in message
    assert SentReminder.objects.filter(period=u.period).count() == 7 + 2 + 1 + 1
