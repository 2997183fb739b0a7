"""Celery tasks: each takes a tenant id and primary keys and calls one job in ``jobs``.

A task given a ``job_id`` runs through the outbox row (``jobs.run_tracked``), so a retry, a
redelivery after a worker was killed (``acks_late`` with ``reject_on_worker_lost``) or a copy
sent again by the sweeper finds the job done and does nothing.
"""

import logging
from datetime import date
from functools import partial

from celery import shared_task
from celery.contrib.django.task import DjangoTask
from django.db import transaction

from evaluation import jobs

logger = logging.getLogger(__name__)


class JobTask(DjangoTask):
    """A task that is acknowledged only once done, and sent only after the commit."""

    acks_late = True
    reject_on_worker_lost = True

    def delay_on_commit(self, *args, **kwargs) -> None:
        # Django would let a broker error escape from the commit into the web request; the
        # job is already saved in the outbox, so log the error and let the sweeper send it.
        transaction.on_commit(partial(self.send_logged, *args, **kwargs))

    def send_logged(self, *args, **kwargs) -> bool:
        """Send the task now; on failure log it and return False (the outbox keeps the job)."""
        try:
            self.delay(*args, **kwargs)
        except Exception:
            # Eagerly (no REDIS_URL) this also catches the job's own failure, already recorded.
            logger.exception(
                "Could not send or run %s (job %s); it stays in the outbox for the sweeper",
                self.name,
                kwargs.get("job_id"),
            )
            return False
        jobs.mark_sent(kwargs.get("job_id"))
        return True


def _task(**options):
    return shared_task(base=JobTask, ignore_result=True, **options)


@_task()
def calendar_tick(as_of: str | None = None) -> int:
    """The daily beat entry: one calendar job per tenant, through the outbox."""
    return jobs.calendar_tick(as_of=date.fromisoformat(as_of) if as_of else None)


@_task()
def sweep_outbox() -> int:
    return jobs.sweep_outbox()


@_task()
def tenant_calendar(tenant_id: int, as_of: str, job_id: int | None = None):
    return jobs.run_tracked(job_id, jobs.tenant_calendar, tenant_id=tenant_id, as_of=as_of)


@_task()
def open_period(tenant_id: int, period_id: int, job_id: int | None = None):
    return jobs.run_tracked(job_id, jobs.open_period, tenant_id=tenant_id, period_id=period_id)


@_task()
def send_reminders(tenant_id: int, period_id: int, as_of: str, job_id: int | None = None):
    return jobs.run_tracked(
        job_id, jobs.send_reminders, tenant_id=tenant_id, period_id=period_id, as_of=as_of
    )


@_task()
def mark_reports(tenant_id: int, period_id: int, as_of: str, job_id: int | None = None):
    return jobs.run_tracked(
        job_id, jobs.mark_reports, tenant_id=tenant_id, period_id=period_id, as_of=as_of
    )


@_task()
def check_quotas(
    tenant_id: int, period_id: int, group_ids: list | None = None, job_id: int | None = None
):
    return jobs.run_tracked(
        job_id, jobs.check_quotas, tenant_id=tenant_id, period_id=period_id, group_ids=group_ids
    )


@_task()
def recompute_completion(
    tenant_id: int, period_id: int, unit_ids: list | None = None, job_id: int | None = None
):
    return jobs.run_tracked(
        job_id,
        jobs.recompute_completion,
        tenant_id=tenant_id,
        period_id=period_id,
        unit_ids=unit_ids,
    )


@_task()
def year_end_rollup(tenant_id: int, year: int, job_id: int | None = None):
    return jobs.run_tracked(job_id, jobs.year_end_rollup, tenant_id=tenant_id, year=year)
