"""The Celery app: Redis broker from REDIS_URL, and the static beat schedule in code.

Run exactly one beat next to the workers (two beats would send every entry twice; the jobs
would not repeat their effects, but the work would be done twice):

    celery -A config worker --loglevel=INFO --concurrency=2
    celery -A config beat --loglevel=INFO --schedule=/var/lib/cadreval/celerybeat-schedule

With no REDIS_URL the settings make tasks run eagerly in-process; ``manage.py run_periodic
--date 2026-07-05`` runs the day's jobs without any broker.
"""

import os

from celery import Celery
from celery.schedules import crontab

from cadres.rls import install_celery_hooks

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("cadreval")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
install_celery_hooks()  # each task runs under its tenant for row-level security

app.conf.timezone = "Asia/Ho_Chi_Minh"  # crontab hours below are Vietnam's
app.conf.task_acks_late = True
app.conf.task_reject_on_worker_lost = True
app.conf.worker_prefetch_multiplier = 1
# Fail fast when Redis is down: the job is in the outbox and the sweeper sends it later.
app.conf.task_publish_retry_policy = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 1,
}
app.conf.broker_transport_options = {
    # A job unacknowledged this long (its worker died) is delivered again; longer than any job.
    "visibility_timeout": 2 * 3600,
    "socket_connect_timeout": 3,
}

app.conf.beat_schedule = {
    # The day's calendar just after midnight: open the quarter on its first day, reminders
    # 7, 3 and 1 day(s) before each deadline, R16 marking on the 5th, the year-end roll-up.
    "calendar-daily": {
        "task": "evaluation.tasks.calendar_tick",
        "schedule": crontab(hour=0, minute=15),
    },
    # The outbox: send again the jobs that never reached the broker or a live worker.
    "outbox-sweeper": {
        "task": "evaluation.tasks.sweep_outbox",
        "schedule": crontab(minute="*/5"),
    },
}
