"""Celery tasks of the reporting app: each takes an id and calls one service."""

from celery import shared_task

from reporting import services


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_export(export_id: int) -> None:
    """Build an export's file; a redelivered task finds the export done and does nothing."""
    services.export_run(export_id=export_id)
