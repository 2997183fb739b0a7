"""The outbox: jobs are sent after commit, survive a broker outage, and run once.

The last two tests use a real Celery worker (a thread) and the real Redis on database 2.
"""

import logging
import time
from contextlib import contextmanager
from datetime import timedelta

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from django.db import transaction
from django.utils import timezone

from config.celery import app
from evaluation import jobs, services, tasks
from evaluation.models import Evaluation, Job, QuotaGroup
from tests.evaluation import steps
from tests.jobs.helpers import row_counts

REDIS = "redis://127.0.0.1:6379/2"
CLOSED_PORT = "redis://127.0.0.1:6390/0"


@contextmanager
def broker(url: str):
    """Send tasks to ``url`` for real (not eagerly) for the duration of the block."""
    saved = {key: app.conf[key] for key in ("broker_url", "task_always_eager")}
    app.conf.update(broker_url=url, task_always_eager=False)
    app._after_fork()  # forget the connection pool bound to the previous broker
    try:
        yield app
    finally:
        app.conf.update(saved)
        app._after_fork()


@contextmanager
def worker():
    redis.Redis.from_url(REDIS).flushdb()
    with broker(REDIS), start_worker(app, perform_ping_check=False, shutdown_timeout=30):
        yield


def wait_until_finished(job: Job, seconds: float = 60) -> Job:
    """Poll the row until the worker has finished the job (not a timing assertion)."""
    give_up = time.monotonic() + seconds
    while time.monotonic() < give_up:
        job.refresh_from_db()
        if job.status in (Job.Status.DONE, Job.Status.FAILED):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job.pk} still {job.status}")


@pytest.mark.django_db
def test_a_job_is_sent_only_when_the_transaction_commits(
    tenant, django_capture_on_commit_callbacks
):
    u = steps.build_unit(tenant)
    q3 = services.period_create(tenant=tenant, year=2026, quarter=3)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = jobs.enqueue("open_period", tenant_id=tenant.pk, key="2026-Q3", period_id=q3.pk)
    assert len(callbacks) == 1 and job.status == Job.Status.PENDING
    assert not Evaluation.objects.filter(period=q3).exists()
    callbacks[0]()  # the commit: eager mode runs the task in-process
    job.refresh_from_db()
    assert (job.status, job.attempts, job.result["created"]) == ("done", 1, len(u.cadres))
    assert job.enqueued_at is not None

    # The same key again is the same job, already done: nothing is sent or run.
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = jobs.enqueue("open_period", tenant_id=tenant.pk, key="2026-Q3", period_id=q3.pk)
    assert again.pk == job.pk and callbacks == []


@pytest.mark.django_db
def test_each_task_run_twice_changes_nothing_the_second_time(
    tenant, django_capture_on_commit_callbacks
):
    u = steps.build_unit(tenant)
    period = u.period.pk
    calls = [
        (tasks.open_period, {"period_id": period}),
        (tasks.send_reminders, {"period_id": period, "as_of": "2026-04-08"}),
        (tasks.check_quotas, {"period_id": period}),
        (tasks.recompute_completion, {"period_id": period}),
        (tasks.mark_reports, {"period_id": period, "as_of": "2026-07-05"}),
        (tasks.year_end_rollup, {"year": 2026}),
        (tasks.tenant_calendar, {"as_of": "2026-07-05"}),
    ]
    for task, params in calls:
        task.apply(kwargs={"tenant_id": tenant.pk, **params})
        before = row_counts()
        task.apply(kwargs={"tenant_id": tenant.pk, **params})
        assert row_counts() == before, task.name
    # Through the outbox, the second copy of a job finds it done and skips it.
    with django_capture_on_commit_callbacks(execute=True):
        job = jobs.enqueue("reminders", tenant_id=tenant.pk, period_id=period, as_of="2026-04-12")
    job.refresh_from_db()
    assert (job.status, job.attempts) == ("done", 1)
    before = row_counts()
    params = {"period_id": period, "as_of": "2026-04-12"}
    tasks.send_reminders.apply(kwargs={"tenant_id": tenant.pk, "job_id": job.pk, **params})
    job.refresh_from_db()
    assert job.attempts == 1 and row_counts() == before


@pytest.mark.django_db
def test_a_failing_job_is_recorded_and_left_for_the_sweeper(
    tenant, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = jobs.enqueue("open_period", tenant_id=tenant.pk, key="missing", period_id=0)
    job.refresh_from_db()
    assert (job.status, job.attempts) == ("pending", 1)
    assert "DoesNotExist" in job.last_error
    assert job not in jobs.due_jobs()  # not before RESEND_AFTER
    assert job in jobs.due_jobs(now=timezone.now() + jobs.RESEND_AFTER)


@pytest.mark.django_db(transaction=True)
def test_with_the_broker_down_the_service_succeeds_and_the_sweeper_sends_later(tenant, caplog):
    u = steps.build_unit(tenant)
    with broker(CLOSED_PORT), caplog.at_level(logging.ERROR, logger="evaluation.tasks"):
        with transaction.atomic():  # what a view calling a service does
            q3 = services.period_create(tenant=tenant, year=2026, quarter=3)
            job = jobs.enqueue("open_period", tenant_id=tenant.pk, key="2026-Q3", period_id=q3.pk)
    # The commit happened; sending failed and was logged, not raised.
    assert "stays in the outbox" in caplog.text
    job.refresh_from_db()
    assert (job.status, job.enqueued_at, job.attempts) == ("pending", None, 0)
    assert not Evaluation.objects.filter(period=q3).exists()
    with broker(CLOSED_PORT):
        assert jobs.sweep_outbox(now=timezone.now() + timedelta(minutes=5)) == 0  # still down
    job.refresh_from_db()
    assert job.status == "pending"

    with worker():
        assert jobs.sweep_outbox(now=timezone.now() + timedelta(minutes=5)) == 1
        job = wait_until_finished(job)
        assert (job.status, job.attempts) == ("done", 1)
        assert Evaluation.objects.filter(period=q3).count() == len(u.cadres)
        before = row_counts()
        assert jobs.sweep_outbox(now=timezone.now() + timedelta(hours=2)) == 0
    assert row_counts() == before


def propose(u, cadre, grade, *, exceeded=0, points=("8", "8", "7", "7")):
    steps.plan_and_approve(u, cadre)
    steps.self_assess(u, cadre, exceeded=exceeded, points=points)
    steps.vet(u, cadre, points=points)
    evaluation = u.evaluation(cadre)
    return services.evaluation_propose(evaluation=evaluation, actor=u.superior, grade=grade)


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_quota_check_end_to_end(tenant):
    u = steps.build_unit(tenant)
    propose(u, u.members[0], "excellent", exceeded=2)
    propose(u, u.members[1], "excellent", exceeded=2, points=("8", "8", "7", "6"))
    propose(u, u.members[2], "good")
    evaluation = propose(u, u.deputies[0], "excellent", exceeded=2, points=("8", "8", "7", "5"))
    # The proposals above already ran the check in-process; start the worker from a clean flag.
    QuotaGroup.objects.filter(period=u.period).update(exceeded_at=None, ranked_candidates=[])
    with worker():
        with transaction.atomic():
            job = jobs.schedule_quota_check(period=evaluation.period)
        job = wait_until_finished(job)
    assert (job.status, job.result) == ("done", {"flagged": 1, "cleared": 0})
    assert job.enqueued_at is not None
    group = QuotaGroup.objects.get(period=u.period, unit=u.unit)
    assert group.exceeded_at is not None
    assert [c["cadre"] for c in group.ranked_candidates] == [
        u.members[0].full_name,
        u.members[1].full_name,
        u.deputies[0].full_name,
    ]
