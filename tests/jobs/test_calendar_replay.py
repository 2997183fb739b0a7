"""Replaying every day of 2026 with ``run_periodic``: quarters open, reminders go out once."""

from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from evaluation import services
from evaluation.models import (
    Evaluation,
    Job,
    Notification,
    Period,
    ReportStatus,
    SentReminder,
)
from tests.evaluation import steps
from tests.jobs.helpers import row_counts

pytestmark = pytest.mark.django_db


def replay(first: date, last: date, *, twice: bool = False) -> None:
    day = first
    while day <= last:
        call_command("run_periodic", date=day.isoformat(), stdout=StringIO())
        if twice:
            before = row_counts()
            call_command("run_periodic", date=f"{day:%d/%m/%Y}", stdout=StringIO())
            assert row_counts() == before, day
        day += timedelta(days=1)


def kinds_of(user) -> dict[str, int]:
    counts: dict[str, int] = {}
    for kind in Notification.objects.filter(recipient=user).values_list("kind", flat=True):
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def test_every_day_of_2026_twice_sends_each_reminder_once(tenant):
    u = steps.build_unit(tenant)  # Q2 is opened by hand before the replay
    head = u.evaluation(u.head)
    services.evaluation_save_plan(
        evaluation=head,
        actor=u.head.user,
        tasks=steps.plan_tasks(u.head),
        axis_roles={"1": "primary", "3": "secondary"},
    )
    services.evaluation_submit_plan(evaluation=head, actor=u.head.user)
    Notification.objects.all().delete()  # keep only what the calendar sends

    replay(date(2026, 1, 1), date(2026, 12, 31), twice=True)

    periods = Period.objects.filter(tenant=tenant).order_by("quarter")
    assert [p.quarter for p in periods] == [1, 2, 3, 4]
    assert all(p.opened_at is not None for p in periods)
    for period in periods:
        assert Evaluation.objects.filter(period=period).count() == 8
    # Each cadre: the 7-, 3- and 1-day plan reminders of each quarter; the head submitted Q2.
    for cadre in u.cadres:
        expected = 9 if cadre == u.head else 12
        assert kinds_of(cadre.user) == {"reminder_plan": expected}, cadre
    # The superior is reminded of the head's plan waiting for approval in Q2, 3 times.
    assert kinds_of(u.superior) == {"reminder_plan_approval": 3}
    # The organisation department: 3 report reminders for Q1–Q3, Q4's 7-day one on 28/12.
    assert kinds_of(u.organisation) == {"reminder_report": 10}
    # Nobody acted, so on 05/04, 05/07 and 05/10 the authority is told once each.
    assert kinds_of(u.authority) == {"escalation": 3}
    assert kinds_of(u.advisory) == {}
    statuses = ReportStatus.objects.filter(period__tenant=tenant).order_by("period__quarter")
    assert [(s.period.quarter, s.is_late, s.complete_on) for s in statuses] == [
        (1, True, None),
        (2, True, None),
        (3, True, None),
    ]
    assert all(s.outstanding == 8 and s.escalated_at is not None for s in statuses)
    assert SentReminder.objects.filter(period__tenant=tenant).count() == 8 * 12 - 3 + 3 + 10 + 3
    assert set(Job.objects.filter(tenant=tenant, kind="open_period").values_list("key")) == {
        ("2026-Q1",),
        ("2026-Q3",),
        ("2026-Q4",),
    }
    assert not Job.objects.exclude(status=Job.Status.DONE).exists()


def test_the_reminder_of_a_missed_day_goes_out_the_next_day(tenant):
    u = steps.build_unit(tenant)  # Q2: targets due 15/04
    call_command("run_periodic", date="2026-04-09", stdout=StringIO())  # the 8/04 run was missed
    assert Notification.objects.filter(kind="reminder_plan").count() == 8
    call_command("run_periodic", date="2026-04-10", stdout=StringIO())
    assert Notification.objects.filter(kind="reminder_plan").count() == 8
    call_command("run_periodic", date="2026-04-13", stdout=StringIO())  # the 3-day one, late
    message = Notification.objects.filter(recipient=u.head.user).latest("pk").message
    assert "15/04/2026" in message
    assert Notification.objects.filter(kind="reminder_plan").count() == 16


def test_bad_dates_are_refused_with_a_clear_message(tenant):
    with pytest.raises(CommandError, match="31/02/2026"):
        call_command("run_periodic", date="31/02/2026", stdout=StringIO())
    with pytest.raises(CommandError, match="--until"):
        call_command("run_periodic", date="2026-07-05", until="2026-07-01", stdout=StringIO())
    with pytest.raises(CommandError, match="nope"):
        call_command("run_periodic", date="2026-07-05", tenant=["nope"], stdout=StringIO())
    assert Period.objects.count() == 0


def test_a_failing_opening_is_recorded_and_the_day_goes_on(tenant, monkeypatch):
    u = steps.build_unit(tenant)  # Q2 is open; Q3 will fail to open
    q3 = services.period_create(tenant=tenant, year=2026, quarter=3)

    def broken(**kwargs):
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(services, "period_open", broken)
    call_command("run_periodic", date="2026-07-01", stdout=StringIO())
    job = Job.objects.get(tenant=tenant, kind="open_period", key="2026-Q3")
    assert (job.status, job.attempts) == ("pending", 1)
    assert "database hiccup" in job.last_error
    # The same day still sends Q2's report reminder (due 04/07, 3 days left).
    assert Notification.objects.filter(recipient=u.organisation, kind="reminder_report").exists()
    monkeypatch.undo()
    call_command("run_periodic", date="2026-07-02", stdout=StringIO())
    job.refresh_from_db()
    assert (job.status, job.attempts) == ("done", 2)
    assert Evaluation.objects.filter(period=q3).count() == 8
