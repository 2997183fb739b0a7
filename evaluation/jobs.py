"""Scheduled and background jobs as plain functions (issue 6).

The Celery tasks in ``evaluation.tasks`` only pass ids to these functions, and the
``run_periodic`` command calls ``run_calendar`` directly, so every job runs and is tested
without a broker. Each job can run twice without effect: reminders and escalations keep a
``SentReminder`` row with a unique key, R16 marks one ``ReportStatus`` row per unit and quarter,
the year-end roll-up one ``YearEndResult`` per cadre and year, a once-only job one ``Job`` row
per tenant, kind and key; recomputations write only what changed.

Work is committed in small units (one quota group, one unit, one period's reminder kind), so a
worker killed mid-job leaves no half-done unit and the next run finishes the rest.
"""

import logging
import traceback
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import groupby
from operator import itemgetter

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max, Q
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cadres.models import Cadre, Position, Tenant, UnitUserPermission, User
from cadres.roles import Role
from evaluation import rules, scoring, services
from evaluation.models import (
    Collective,
    Evaluation,
    EvaluationState,
    Job,
    Period,
    QuotaGroup,
    ReportStatus,
    SentReminder,
    TransitionLog,
    YearEndResult,
)
from evaluation.permissions import SELF
from evaluation.selectors import rule_set_for

logger = logging.getLogger(__name__)

REMINDER_DAYS = (7, 3, 1)  # reminders go out this many days before each deadline
SEND_GRACE = timedelta(minutes=2)  # a job never sent after this long is sent by the sweeper
RESEND_AFTER = timedelta(minutes=30)  # sent but not started after this long: send again
LEASE = timedelta(minutes=30)  # a job running this long is taken to be on a dead worker
MAX_ATTEMPTS = 5
KEEP_DONE = timedelta(days=30)  # done recomputations and daily calendars are then forgotten
SWEEP_BATCH = 500

# Each kind of job and the Celery task that runs it (the sweeper sends rows by kind).
TASKS = {
    "calendar": "evaluation.tasks.tenant_calendar",
    "open_period": "evaluation.tasks.open_period",
    "reminders": "evaluation.tasks.send_reminders",
    "report_marking": "evaluation.tasks.mark_reports",
    "quota_check": "evaluation.tasks.check_quotas",
    "completion": "evaluation.tasks.recompute_completion",
    "year_end": "evaluation.tasks.year_end_rollup",
}

FINAL_STATES = (EvaluationState.PUBLISHED, EvaluationState.DEFERRED)


# ---------------------------------------------------------------------------------------------
# The outbox


def _task(kind: str):
    from evaluation import tasks  # tasks import this module; import them only when sending

    return getattr(tasks, TASKS[kind].rsplit(".", 1)[1])


def enqueue(kind: str, *, tenant_id: int, key: str = "", **params) -> Job:
    """Record a job in the current transaction and send it to the queue once that commits.

    With a key the job runs once per tenant, kind and key; without one, a job of the same
    kind and parameters still waiting to start absorbs the new request.
    """
    if kind not in TASKS:
        raise ValueError(f"unknown job kind {kind!r}")
    if key:
        job, created = Job.objects.get_or_create(
            tenant_id=tenant_id, kind=kind, key=key, defaults={"params": params}
        )
        if not created:
            return job
    else:
        job = Job.objects.filter(
            tenant_id=tenant_id,
            kind=kind,
            key="",
            params=params,
            status=Job.Status.PENDING,
            started_at__isnull=True,
        ).first()
        if job is not None:
            return job
        job = Job.objects.create(tenant_id=tenant_id, kind=kind, params=params)
    _task(kind).delay_on_commit(tenant_id=tenant_id, job_id=job.pk, **params)
    return job


def schedule_quota_check(*, period: Period, group_id: int | None = None) -> Job:
    """Ask for the R9 check of a period's quota groups (after a proposal, decision or return)."""
    params = {"period_id": period.pk}
    if group_id is not None:
        params["group_ids"] = [group_id]
    return enqueue("quota_check", tenant_id=period.tenant_id, **params)


def schedule_completion(*, period: Period, unit_id: int | None = None) -> Job:
    """Ask for R7/R8 to be recomputed for a unit (after vetting or a change of task results)."""
    params = {"period_id": period.pk}
    if unit_id is not None:
        params["unit_ids"] = [unit_id]
    return enqueue("completion", tenant_id=period.tenant_id, **params)


def mark_sent(job_id: int | None) -> None:
    if job_id is not None:
        Job.objects.filter(pk=job_id, enqueued_at__isnull=True).update(enqueued_at=timezone.now())


def run_tracked(job_id: int | None, body, /, **kwargs):
    """Run a job body once: claim the row, run, record the outcome; skip a job done or taken."""
    if job_id is None:
        return body(**kwargs)
    now = timezone.now()
    claimed = (
        Job.objects.filter(pk=job_id)
        .filter(
            Q(status=Job.Status.PENDING) | Q(status=Job.Status.RUNNING, started_at__lte=now - LEASE)
        )
        .update(status=Job.Status.RUNNING, started_at=now, attempts=F("attempts") + 1)
    )
    if not claimed:
        logger.info("job %s is done or running elsewhere; skipped", job_id)
        return None
    try:
        result = body(**kwargs)
    except Exception:
        attempts = Job.objects.filter(pk=job_id).values_list("attempts", flat=True).first() or 0
        Job.objects.filter(pk=job_id).update(
            status=Job.Status.FAILED if attempts >= MAX_ATTEMPTS else Job.Status.PENDING,
            enqueued_at=timezone.now(),  # the sweeper tries again after RESEND_AFTER
            last_error=traceback.format_exc()[-4000:],
        )
        raise
    Job.objects.filter(pk=job_id).update(
        status=Job.Status.DONE,
        finished_at=timezone.now(),
        result=result if isinstance(result, dict) else {},
        last_error="",
    )
    return result


def _run_once(kind: str, *, tenant_id: int, key: str, body, **params):
    """Run a job inline unless its (tenant, kind, key) row says it is done or running."""
    job, _created = Job.objects.get_or_create(
        tenant_id=tenant_id, kind=kind, key=key, defaults={"params": params}
    )
    if job.status == Job.Status.DONE:
        return None
    try:
        return run_tracked(job.pk, body, tenant_id=tenant_id, **params)
    except Exception:
        # Recorded on the row by run_tracked; the rest of the day's work goes on.
        logger.exception("job %s %s of tenant %s failed", kind, key, tenant_id)
        return None


def due_jobs(*, now=None):
    """Jobs to send again: never sent, sent long ago and not started, or stuck on a dead worker."""
    now = now or timezone.now()
    return (
        Job.objects.filter(attempts__lt=MAX_ATTEMPTS)
        .filter(
            Q(status=Job.Status.PENDING, enqueued_at__isnull=True, created_at__lte=now - SEND_GRACE)
            | Q(status=Job.Status.PENDING, enqueued_at__lte=now - RESEND_AFTER)
            | Q(status=Job.Status.RUNNING, started_at__lte=now - LEASE)
        )
        .order_by("created_at")
    )


def sweep_outbox(*, now=None) -> int:
    """Send the due jobs of the outbox again; returns how many reached the broker."""
    # Done rows are kept a while for the record; those that guard a once-only job stay.
    Job.objects.filter(
        Q(key="") | Q(kind="calendar"),
        status=Job.Status.DONE,
        created_at__lt=(now or timezone.now()) - KEEP_DONE,
    ).delete()
    sent = 0
    for job in due_jobs(now=now)[:SWEEP_BATCH]:
        task = _task(job.kind)
        Job.objects.filter(pk=job.pk).update(enqueued_at=None)
        if task.send_logged(tenant_id=job.tenant_id, job_id=job.pk, **job.params):
            sent += 1
    return sent


# ---------------------------------------------------------------------------------------------
# The calendar


@dataclass
class CalendarSummary:
    as_of: date
    tenants: int = 0
    results: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def calendar_tick(*, as_of: date | None = None) -> int:
    """The daily beat: one calendar job per active tenant, through the outbox."""
    as_of = as_of or timezone.localdate()
    tenant_ids = list(Tenant.objects.order_by("pk").values_list("pk", flat=True))
    with transaction.atomic():
        for tenant_id in tenant_ids:
            enqueue("calendar", tenant_id=tenant_id, key=as_of.isoformat(), as_of=as_of.isoformat())
    return len(tenant_ids)


def run_calendar(*, as_of: date, tenant_ids=None) -> CalendarSummary:
    """Run every periodic job as of a date, tenant by tenant, in this process."""
    summary = CalendarSummary(as_of=as_of)
    tenants = Tenant.objects.order_by("pk")
    if tenant_ids:
        tenants = tenants.filter(pk__in=tenant_ids)
    for tenant_id in tenants.values_list("pk", flat=True):
        try:
            summary.results[tenant_id] = tenant_calendar(tenant_id=tenant_id, as_of=as_of)
        except Exception as exc:
            # One tenant's failure must not hold back the others' reminders.
            logger.exception("the calendar of tenant %s failed on %s", tenant_id, as_of)
            summary.errors[tenant_id] = repr(exc)
        summary.tenants += 1
    return summary


def tenant_calendar(*, tenant_id: int, as_of) -> dict:
    """One tenant's day: open the quarter, remind, check quotas, mark R16, roll up the year."""
    as_of = _as_date(as_of)
    with translation.override(settings.LANGUAGE_CODE):
        tenant = Tenant.objects.get(pk=tenant_id)
        result = {"as_of": as_of.isoformat(), "reminders": 0, "escalations": 0}
        created = ensure_period(tenant=tenant, as_of=as_of)
        if created is not None:
            result["period_created"] = str(created.pk)
        periods = list(
            Period.objects.filter(
                tenant=tenant, status=Period.Status.OPEN, start_date__lte=as_of
            ).order_by("start_date")
        )
        for period in periods:
            key = f"{period.year}-Q{period.quarter}"
            if period.opened_at is None:
                _run_once(
                    "open_period",
                    tenant_id=tenant_id,
                    key=key,
                    body=open_period,
                    period_id=period.pk,
                )
                period.refresh_from_db(fields=["opened_at"])
            if period.opened_at is None:
                continue
            result["reminders"] += send_reminders(
                tenant_id=tenant_id, period_id=period.pk, as_of=as_of
            )["sent"]
            if period.self_assessment_deadline < as_of <= period.report_deadline:
                check_quotas(tenant_id=tenant_id, period_id=period.pk)
            if as_of > period.vetting_deadline:
                _run_once(
                    "completion",
                    tenant_id=tenant_id,
                    key=f"{key}-after-vetting",
                    body=recompute_completion,
                    period_id=period.pk,
                )
            if as_of > period.report_deadline and _reports_outstanding(period):
                result["escalations"] += mark_reports(
                    tenant_id=tenant_id, period_id=period.pk, as_of=as_of.isoformat()
                )["escalated"]
        year = as_of.year - 1
        q4_deadline = rules.report_deadline(year, 4, rule_set_for(tenant, date(year, 10, 1)))
        if as_of > q4_deadline and Period.objects.filter(tenant=tenant, year=year).exists():
            _run_once(
                "year_end", tenant_id=tenant_id, key=str(year), body=year_end_rollup, year=year
            )
    return result


def ensure_period(*, tenant: Tenant, as_of: date) -> Period | None:
    """Create the quarter of ``as_of`` if the tenant has cadres and not yet this quarter."""
    year, quarter = rules.quarter_of(as_of)
    if Period.objects.filter(tenant=tenant, year=year, quarter=quarter).exists():
        return None
    if not Cadre.objects.filter(tenant=tenant, is_active=True).exists():
        return None
    try:
        return services.period_create(tenant=tenant, year=year, quarter=quarter)
    except (ValidationError, IntegrityError):
        return None  # created meanwhile by someone else


def open_period(*, tenant_id: int, period_id: int) -> dict:
    """Open a quarter: one evaluation per cadre in scope (R11, R12, R18), by bulk inserts."""
    period = Period.objects.select_related("tenant").get(pk=period_id, tenant_id=tenant_id)
    summary = services.period_open(period=period)
    return {
        "created": summary.created,
        "deferred": summary.deferred,
        "carried_over": summary.carried_over,
        "not_this_quarter": summary.not_this_quarter,
        "skipped": [[cadre.pk, str(reason)] for cadre, reason in summary.skipped],
    }


# ---------------------------------------------------------------------------------------------
# Role holders over many units at once


def _holders(tenant_id: int, role: Role) -> list[tuple[int, str]]:
    """(user id, granted unit path) of every active holder of the role in the tenant."""
    return list(
        UnitUserPermission.objects.filter(
            content_object__tenant_id=tenant_id,
            permission__codename=role.value,
            user__is_active=True,
        ).values_list("user_id", "content_object__path")
    )


def _holders_over(grants: list[tuple[int, str]], unit_path: str) -> set[int]:
    # A grant covers its subtree (cadres.roles.covers), so a prefix of the path is enough.
    return {user_id for user_id, path in grants if unit_path.startswith(path)}


def _waiting_by_recipient(period: Period, states, role) -> dict[int, int]:
    """Recipient user id → how many evaluations of the period wait for them in ``states``."""
    rows = Evaluation.objects.filter(period=period, is_current=True, state__in=states).values_list(
        "cadre__user_id", "unit__path"
    )
    waiting: dict[int, int] = defaultdict(int)
    if role == SELF:
        for user_id, _path in rows:
            if user_id is not None:
                waiting[user_id] += 1
        if waiting:
            active = set(
                User.objects.filter(pk__in=waiting, is_active=True).values_list("pk", flat=True)
            )
            waiting = defaultdict(int, {k: v for k, v in waiting.items() if k in active})
        return waiting
    grants = _holders(period.tenant_id, role)
    cache: dict[str, set[int]] = {}
    for cadre_user_id, path in rows:
        if path not in cache:
            cache[path] = _holders_over(grants, path)
        for user_id in cache[path]:
            if user_id != cadre_user_id:  # nobody acts on their own evaluation
                waiting[user_id] += 1
    return waiting


# ---------------------------------------------------------------------------------------------
# Deadline reminders


@dataclass(frozen=True)
class ReminderKind:
    code: str
    deadline_field: str
    states: tuple
    role: object  # SELF or a Role
    message: object


REMINDERS = (
    ReminderKind(
        "plan",
        "plan_deadline",
        (EvaluationState.PLANNING,),
        SELF,
        gettext_lazy(
            "Your targets for %(period)s are due on %(deadline)s: %(days)s day(s) left to "
            "submit them."
        ),
    ),
    ReminderKind(
        "plan_approval",
        "plan_deadline",
        (EvaluationState.PLAN_SUBMITTED,),
        Role.SUPERIOR,
        gettext_lazy(
            "%(count)s plan(s) for %(period)s wait for your approval; the deadline is "
            "%(deadline)s (%(days)s day(s) left)."
        ),
    ),
    ReminderKind(
        "self_assessment",
        "self_assessment_deadline",
        (EvaluationState.PLAN_APPROVED,),
        SELF,
        gettext_lazy(
            "Your self-assessment for %(period)s is due on %(deadline)s: %(days)s day(s) left."
        ),
    ),
    ReminderKind(
        "vetting",
        "vetting_deadline",
        (EvaluationState.SELF_ASSESSED,),
        Role.ADVISORY,
        gettext_lazy(
            "%(count)s self-assessment(s) for %(period)s wait for vetting; the deadline is "
            "%(deadline)s (%(days)s day(s) left)."
        ),
    ),
    ReminderKind(
        "proposal",
        "proposal_deadline",
        (EvaluationState.VETTED,),
        Role.SUPERIOR,
        gettext_lazy(
            "%(count)s evaluation(s) for %(period)s wait for your proposed grade; the deadline "
            "is %(deadline)s (%(days)s day(s) left)."
        ),
    ),
    ReminderKind(
        "decision",
        "decision_deadline",
        (EvaluationState.PROPOSED,),
        Role.AUTHORITY,
        gettext_lazy(
            "%(count)s evaluation(s) for %(period)s wait for your decision; the deadline is "
            "%(deadline)s (%(days)s day(s) left)."
        ),
    ),
    ReminderKind(
        "report",
        "report_deadline",
        tuple(s for s in EvaluationState.values if s not in FINAL_STATES),
        Role.ORGANISATION,
        gettext_lazy(
            "The report for %(period)s must reach the level above by %(deadline)s (%(days)s "
            "day(s) left); %(count)s evaluation(s) are not yet published or deferred (R16)."
        ),
    ),
)


def reminder_threshold(deadline: date, as_of: date) -> int | None:
    """The reminder due on a day: 7, 3 or 1 day(s) before, the nearest one not yet passed.

    A day the calendar missed is caught up the next day with the same reminder.
    """
    days_left = (deadline - as_of).days
    if not 1 <= days_left <= max(REMINDER_DAYS):
        return None
    return min(days for days in REMINDER_DAYS if days >= days_left)


def _short_date(day: date) -> str:
    return formats.date_format(day, "SHORT_DATE_FORMAT")


def send_reminders(*, tenant_id: int, period_id, as_of) -> dict:
    """Remind whoever has not acted before a step's or the report's deadline; once each."""
    as_of = _as_date(as_of)
    sent = 0
    period = Period.objects.get(pk=period_id, tenant_id=tenant_id)
    due = [k for k in REMINDERS if reminder_threshold(getattr(period, k.deadline_field), as_of)]
    for kind in due:
        with transaction.atomic():
            # The period's row lock makes two runs on the same day wait for each other.
            period = (
                Period.objects.select_for_update()
                .select_related("tenant")
                .get(pk=period_id, tenant_id=tenant_id)
            )
            deadline = getattr(period, kind.deadline_field)
            days = reminder_threshold(deadline, as_of)
            if days is None:
                continue
            waiting = _waiting_by_recipient(period, kind.states, kind.role)
            already = set(
                SentReminder.objects.filter(
                    period=period, step=kind.code, days_before=days, recipient_id__in=waiting
                ).values_list("recipient_id", flat=True)
            )
            recipients = {uid: n for uid, n in waiting.items() if uid not in already}
            if not recipients:
                continue
            users = User.objects.in_bulk(list(recipients))
            by_message: dict[str, list] = defaultdict(list)
            for user_id, count in recipients.items():
                message = kind.message % {
                    "period": str(period),
                    "deadline": _short_date(deadline),
                    "days": (deadline - as_of).days,
                    "count": count,
                }
                by_message[message].append(users[user_id])
            for message, people in by_message.items():
                services.notify(users=people, kind=f"reminder_{kind.code}", message=message)
            SentReminder.objects.bulk_create(
                [
                    SentReminder(
                        tenant_id=tenant_id,
                        period=period,
                        step=kind.code,
                        days_before=days,
                        recipient_id=user_id,
                    )
                    for user_id in recipients
                ]
            )
            sent += len(recipients)
    return {"sent": sent}


# ---------------------------------------------------------------------------------------------
# R16: reports late or on time, and escalation


def _reports_outstanding(period: Period) -> bool:
    """Whether R16 marking still has something to do: never marked, or a unit incomplete."""
    statuses = ReportStatus.objects.filter(period=period)
    return not statuses.exists() or statuses.filter(complete_on__isnull=True).exists()


def _unit_progress(period: Period) -> dict[int, dict]:
    """Per grading unit: evaluations, those not final, and the day the last became final."""
    current = Evaluation.objects.filter(period=period, is_current=True)
    progress = {
        row["unit_id"]: {
            "evaluations": row["total"],
            "outstanding": row["outstanding"],
            "last": row["last_published"],
        }
        for row in current.values("unit_id").annotate(
            total=Count("pk"),
            outstanding=Count("pk", filter=~Q(state__in=FINAL_STATES)),
            last_published=Max("published_at", filter=Q(state=EvaluationState.PUBLISHED)),
        )
    }
    deferred = (
        TransitionLog.objects.filter(
            evaluation__period=period,
            evaluation__is_current=True,
            evaluation__state=EvaluationState.DEFERRED,
            to_state=EvaluationState.DEFERRED,
        )
        .values("evaluation__unit_id")
        .annotate(last=Max("created_at"))
    )
    for row in deferred:
        entry = progress[row["evaluation__unit_id"]]
        entry["last"] = max(filter(None, [entry["last"], row["last"]]))
    return progress


def mark_reports(*, tenant_id: int, period_id: int, as_of) -> dict:
    """R16 after the deadline: mark each unit's report late or on time, escalate the overdue.

    A unit's report is complete when each of its evaluations is published or deferred; it is
    complete on the day the last one became so. Marks are kept (one row per unit and period)
    and updated when a late unit completes; the authority is told once.
    """
    as_of = _as_date(as_of)
    with translation.override(settings.LANGUAGE_CODE), transaction.atomic():
        period = (
            Period.objects.select_for_update()
            .select_related("tenant")
            .get(pk=period_id, tenant_id=tenant_id)
        )
        rule_set = rule_set_for(period.tenant, period.start_date)
        deadline = rules.report_deadline(period.year, period.quarter, rule_set)
        if as_of <= deadline:
            return {"marked": 0, "updated": 0, "escalated": 0}
        existing = {s.unit_id: s for s in ReportStatus.objects.filter(period=period)}
        new, changed = [], []
        for unit_id, entry in _unit_progress(period).items():
            complete_on = None
            if entry["outstanding"] == 0 and entry["last"] is not None:
                complete_on = timezone.localdate(entry["last"])
            if complete_on is not None:
                ruling = rules.is_report_late(period.year, period.quarter, complete_on, rule_set)
                late, reasons = ruling.value, [r.as_dict() for r in ruling.reasons]
            else:
                late = rules.is_report_late(period.year, period.quarter, as_of, rule_set).value
                reasons = [
                    {
                        "rule": "R16",
                        "message": _(
                            "Not complete by the deadline of %(deadline)s: %(count)s "
                            "evaluation(s) not yet published or deferred (R16)"
                        )
                        % {"deadline": _short_date(deadline), "count": entry["outstanding"]},
                    }
                ]
            values = {
                "evaluations": entry["evaluations"],
                "outstanding": entry["outstanding"],
                "complete_on": complete_on,
                "is_late": late,
                "reasons": reasons,
            }
            status = existing.get(unit_id)
            if status is None:
                new.append(
                    ReportStatus(tenant_id=tenant_id, period=period, unit_id=unit_id, **values)
                )
            elif status.complete_on is None and any(
                getattr(status, k) != v for k, v in values.items()
            ):
                for k, v in values.items():
                    setattr(status, k, v)
                status.updated_at = timezone.now()  # bulk_update does not touch auto_now
                changed.append(status)
        ReportStatus.objects.bulk_create(new)
        if changed:
            ReportStatus.objects.bulk_update(changed, [*values, "updated_at"])
        escalated = _escalate(period, deadline)
    return {"marked": len(new), "updated": len(changed), "escalated": escalated}


def _escalate(period: Period, deadline: date) -> int:
    """Tell each managing authority, once, how many evaluations under it are overdue."""
    overdue = ReportStatus.objects.filter(
        period=period, complete_on__isnull=True, escalated_at__isnull=True
    ).select_related("unit")
    statuses = list(overdue)
    if not statuses:
        return 0
    grants = _holders(period.tenant_id, Role.AUTHORITY)
    per_user: dict[int, list[ReportStatus]] = defaultdict(list)
    for status in statuses:
        for user_id in _holders_over(grants, status.unit.path):
            per_user[user_id].append(status)
    already = set(
        SentReminder.objects.filter(
            period=period, step="escalation", days_before=0, recipient_id__in=per_user
        ).values_list("recipient_id", flat=True)
    )
    users = User.objects.in_bulk([u for u in per_user if u not in already])
    for user_id, user in users.items():
        units = per_user[user_id]
        services.notify(
            users=[user],
            kind="escalation",
            message=_(
                "The report for %(period)s was due by %(deadline)s: %(count)s evaluation(s) in "
                "%(units)s unit(s) under you are still not published or deferred (R16)."
            )
            % {
                "period": str(period),
                "deadline": _short_date(deadline),
                "count": sum(s.outstanding for s in units),
                "units": len(units),
            },
        )
    SentReminder.objects.bulk_create(
        [
            SentReminder(
                tenant_id=period.tenant_id,
                period=period,
                step="escalation",
                days_before=0,
                recipient_id=user_id,
            )
            for user_id in users
        ]
    )
    ReportStatus.objects.filter(pk__in=[s.pk for s in statuses]).update(escalated_at=timezone.now())
    return len(users)


# ---------------------------------------------------------------------------------------------
# R9: quota groups whose proposals exceed the quota


def check_quotas(*, tenant_id: int, period_id: int, group_ids=None) -> dict:
    """Flag each quota group whose Excellent proposals exceed R9, with the ranked candidates."""
    groups = QuotaGroup.objects.filter(tenant_id=tenant_id, period_id=period_id)
    if group_ids:
        groups = groups.filter(pk__in=group_ids)
    flagged = cleared = 0
    with translation.override(settings.LANGUAGE_CODE):
        for group_id in groups.order_by("pk").values_list("pk", flat=True):
            with transaction.atomic():
                group = (
                    QuotaGroup.objects.select_for_update(of=("self",))
                    .select_related("period", "unit")
                    .get(pk=group_id)
                )
                picture = scoring.quota_picture(group)
                if picture.proposed_excellent > picture.allowed:
                    newly = group.exceeded_at is None
                    if newly or group.ranked_candidates != picture.ranking:
                        group.exceeded_at = group.exceeded_at or timezone.now()
                        group.ranked_candidates = picture.ranking
                        group.save(update_fields=["exceeded_at", "ranked_candidates"])
                    if newly:
                        flagged += 1
                        _tell_decision_board(group, picture)
                elif group.exceeded_at is not None or group.ranked_candidates:
                    group.exceeded_at, group.ranked_candidates = None, []
                    group.save(update_fields=["exceeded_at", "ranked_candidates"])
                    cleared += 1
    return {"flagged": flagged, "cleared": cleared}


def _tell_decision_board(group: QuotaGroup, picture) -> None:
    grants = _holders(group.tenant_id, Role.AUTHORITY)
    users = User.objects.filter(pk__in=_holders_over(grants, group.unit.path))
    services.notify(
        users=users,
        kind="quota_exceeded",
        message=_(
            "%(unit)s, %(period)s: %(proposed)s Excellent proposed but the quota allows "
            "%(allowed)s (R9). Candidates by score: %(ranking)s"
        )
        % {
            "unit": group.unit.name,
            "period": str(group.period),
            "proposed": picture.proposed_excellent,
            "allowed": picture.allowed,
            "ranking": "; ".join(c["label"] for c in picture.ranking),
        },
    )


# ---------------------------------------------------------------------------------------------
# R7, R8: completion rules recomputed


RECOMPUTED_STATES = (EvaluationState.VETTED, EvaluationState.PROPOSED)


def recompute_completion(*, tenant_id: int, period_id: int, unit_ids=None) -> dict:
    """Recompute each collective's completion (R8) and its members' grades (R7, R8).

    Only evaluations that are vetted or proposed are recomputed: before vetting nothing is
    settled, and after the decision the grade is the authority's.
    """
    period = Period.objects.select_related("tenant").get(pk=period_id, tenant_id=tenant_id)
    if unit_ids is None:
        unit_ids = set(
            Collective.objects.filter(period=period).values_list("unit_id", flat=True)
        ) | set(
            Evaluation.objects.filter(
                period=period, is_current=True, state__in=RECOMPUTED_STATES
            ).values_list("unit_id", flat=True)
        )
    collectives = evaluations = 0
    unit_ids = sorted(unit_ids)
    with translation.override(settings.LANGUAGE_CODE):
        for start in range(0, len(unit_ids), COMPLETION_BATCH):
            with transaction.atomic():
                c, e = _recompute_units(period, unit_ids[start : start + COMPLETION_BATCH])
            collectives += c
            evaluations += e
    return {"collectives": collectives, "evaluations": evaluations}


# Units recomputed in one transaction: a handful of queries serve them all, and the locks
# are held for well under a second.
COMPLETION_BATCH = 50


def _rules_of(reasons) -> list:
    # Compare what the reasons decide, not their wording (older rows hold one language only).
    return [r.get("rule") if isinstance(r, dict) else r.rule for r in reasons or []]


def _recompute_units(period: Period, unit_ids: list[int]) -> tuple[int, int]:
    collectives = {
        c.unit_id: c
        for c in Collective.objects.select_for_update(of=("self",))
        .filter(period=period, unit_id__in=unit_ids)
        .select_related("period", "tenant")
        .prefetch_related("targets")
    }
    changed_collectives = 0
    for collective in collectives.values():
        targets = list(collective.targets.all())
        percent, reasons = None, []
        if targets and all(t.status != t.Status.PENDING for t in targets):
            result = scoring.collective_result(collective, targets)
            percent, reasons = result.percent, result.reasons
        if (collective.completion_percent, _rules_of(collective.reasons)) != (
            percent,
            _rules_of(reasons),
        ):
            kept = scoring.stored_reasons(
                reasons, lambda c=collective, t=targets: scoring.collective_result(c, t).reasons
            )
            Collective.objects.filter(pk=collective.pk).update(
                completion_percent=percent, reasons=kept
            )
            changed_collectives += 1
    members = (
        Evaluation.objects.select_for_update(of=("self",))
        .filter(period=period, unit_id__in=unit_ids, is_current=True, state__in=RECOMPUTED_STATES)
        .select_related("cadre", "unit")
        # Two queries for every member of the batch instead of two per member.
        .prefetch_related("tasks", "criterion_scores")
        .order_by("pk")
    )
    changed = 0
    for evaluation in members:
        evaluation.tenant, evaluation.period = period.tenant, period  # share the rule-set cache
        before = (evaluation.computed_score, evaluation.computed_grade, evaluation.computed_reasons)
        try:
            assessment = scoring.assess(
                evaluation,
                stage=scoring.Stage.VETTED,
                collective=collectives.get(evaluation.unit_id),
            )
        except rules.RuleInputError:
            logger.warning("evaluation %s cannot be assessed; left as it is", evaluation.pk)
            continue
        after = (assessment.score, assessment.grade)
        if after != before[:2] or _rules_of(assessment.reasons) != _rules_of(before[2]):
            scoring.store(evaluation, assessment)  # in every language: only when it changed
            Evaluation.objects.filter(pk=evaluation.pk).update(
                computed_score=evaluation.computed_score,
                computed_grade=evaluation.computed_grade,
                computed_reasons=evaluation.computed_reasons,
                updated_at=timezone.now(),
            )
            changed += 1
    return changed_collectives, changed


# ---------------------------------------------------------------------------------------------
# Year end: R10, R13–R15, R19


DECIDED_STATES = (EvaluationState.DECIDED, EvaluationState.PUBLISHED)


def _quarter_grade(row: dict):
    """A quarter as the year-end rules see it: its decided grade, None when deferred."""
    if row["state"] == EvaluationState.DEFERRED:
        return None
    return rules.Grade(row["decided_grade"])


YEAR_END_FIELDS = (
    "cadre_id",
    "cadre__full_name",
    "cadre__code",
    "unit_id",
    "collective_role",
    "state",
    "decided_grade",
    "proposed_grade",
    "vetted_score",
    "discipline_note",
    "period__year",
    "period__quarter",
)
# What the ranking and the store keep of a cadre's last quarter of the year.
YEAR_END_KEPT = ("cadre__full_name", "cadre__code", "unit_id", "collective_role")


def year_end_rollup(*, tenant_id: int, year: int) -> dict:
    """R19: propose each cadre's grade for the year from its quarters; R15 flags; R10 ranks."""
    tenant = Tenant.objects.get(pk=tenant_id)
    rule_set = rule_set_for(tenant, date(year, 10, 1))
    # Streamed cadre by cadre as tuples: a ministry's whole history never sits in memory.
    rows = (
        Evaluation.objects.filter(tenant_id=tenant_id, is_current=True, period__year__lte=year)
        .filter(Q(state__in=DECIDED_STATES) | Q(state=EvaluationState.DEFERRED))
        .order_by("cadre_id", "period__year", "period__quarter")
        .values_list(*YEAR_END_FIELDS)
        .iterator(chunk_size=5000)
    )
    with translation.override(settings.LANGUAGE_CODE):
        proposals = {}
        for cadre_id, group in groupby(rows, key=itemgetter(0)):
            history = [dict(zip(YEAR_END_FIELDS, row, strict=True)) for row in group]
            this_year = [r for r in history if r["period__year"] == year]
            if not this_year:
                continue
            proposal = rules.year_end_proposal(
                [
                    rules.QuarterOutcome(
                        quarter=r["period__quarter"],
                        grade=_quarter_grade(r),
                        proposed_excellent=r["proposed_grade"] == rules.Grade.EXCELLENT,
                        score=r["vetted_score"],
                    )
                    for r in this_year
                ],
                rule_set,
                earlier_grades=[_quarter_grade(r) for r in history if r["period__year"] < year],
                reprimand_or_degradation=any(r["discipline_note"] for r in this_year),
            )
            proposals[cadre_id] = {
                "row": {key: this_year[-1][key] for key in YEAR_END_KEPT},
                "grade": proposal.grade,
                "proposal": proposal,
                "reasons": [r.as_dict() for r in proposal.reasons],
            }
        _rank_year_end(proposals, rule_set)
        with transaction.atomic():
            written = _store_year_end(tenant_id, year, proposals)
            notified = _notify_replacement_flags(tenant_id, year)
    return {**written, "notified": notified}


def _rank_year_end(proposals: dict, rule_set) -> None:
    """R10: within each unit, keep the Excellent proposals the quota allows, ranked."""
    by_unit: dict[int, list[int]] = defaultdict(list)
    for cadre_id, entry in proposals.items():
        by_unit[entry["row"]["unit_id"]].append(cadre_id)
    for cadre_ids in by_unit.values():
        # The candidate's label is its id: it names the cadre in the R10 reasons.
        labels = {
            cid: "{cadre__full_name} ({cadre__code})".format(**proposals[cid]["row"])
            for cid in cadre_ids
        }
        candidates = [
            rules.QuotaCandidate(
                id=labels[cid],
                score=proposals[cid]["proposal"].mean_score or 0,
                quarters_proposed_excellent=proposals[cid]["proposal"].quarters_proposed_excellent,
                is_head=proposals[cid]["row"]["collective_role"] == Position.CollectiveRole.HEAD,
            )
            for cid in cadre_ids
            if proposals[cid]["grade"] == rules.Grade.EXCELLENT
        ]
        if not candidates:
            continue
        good = sum(1 for cid in cadre_ids if proposals[cid]["grade"] == rules.Grade.GOOD)
        allocation = rules.allocate_excellent(
            candidates, good, rule_set.excellent_quota_percent, year_end=True
        )
        if not allocation.demoted:
            continue
        reasons = [r.as_dict() for r in allocation.reasons]
        for cid in cadre_ids:
            if proposals[cid]["grade"] != rules.Grade.EXCELLENT:
                continue
            if labels[cid] in allocation.demoted:
                proposals[cid]["grade"] = rules.Grade.GOOD
            proposals[cid]["reasons"] = proposals[cid]["reasons"] + reasons


def _store_year_end(tenant_id: int, year: int, proposals: dict) -> dict:
    existing = {
        r.cadre_id: r
        for r in YearEndResult.objects.select_for_update().filter(tenant_id=tenant_id, year=year)
    }
    new, changed = [], []
    fields = [
        "unit_id",
        "proposed_grade",
        "mean_score",
        "quarters_proposed_excellent",
        "replacement_flag",
        "reasons",
    ]
    for cadre_id, entry in proposals.items():
        proposal = entry["proposal"]
        values = {
            "unit_id": entry["row"]["unit_id"],
            "proposed_grade": entry["grade"].value if entry["grade"] is not None else "",
            "mean_score": proposal.mean_score,
            "quarters_proposed_excellent": proposal.quarters_proposed_excellent,
            "replacement_flag": proposal.replacement_flag,
            "reasons": entry["reasons"],
        }
        result = existing.get(cadre_id)
        if result is None:
            new.append(YearEndResult(tenant_id=tenant_id, cadre_id=cadre_id, year=year, **values))
        elif any(getattr(result, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(result, k, v)
            result.computed_at = timezone.now()  # bulk_update does not touch auto_now
            changed.append(result)
    YearEndResult.objects.bulk_create(new, batch_size=2000)
    if changed:
        YearEndResult.objects.bulk_update(changed, [*fields, "computed_at"], batch_size=2000)
    return {"created": len(new), "updated": len(changed)}


def _notify_replacement_flags(tenant_id: int, year: int) -> int:
    """R15: tell the managing authority over each flagged cadre, once per cadre and year."""
    flagged = list(
        YearEndResult.objects.filter(
            tenant_id=tenant_id, year=year, replacement_flag=True, flag_notified_at__isnull=True
        ).select_related("cadre", "unit")
    )
    if not flagged:
        return 0
    grants = _holders(tenant_id, Role.AUTHORITY)
    users = User.objects.in_bulk({user_id for user_id, _path in grants})
    for result in flagged:
        path = result.unit.path if result.unit else ""
        holders = [users[u] for u in _holders_over(grants, path) if u in users] if path else []
        services.notify(
            users=holders,
            kind="replacement_flag",
            message=_(
                "%(cadre)s was Not completed in two or more consecutive graded quarters up to "
                "%(year)s: consider reassignment (R15)."
            )
            % {"cadre": result.cadre.full_name, "year": year},
        )
    YearEndResult.objects.filter(pk__in=[r.pk for r in flagged]).update(
        flag_notified_at=timezone.now()
    )
    return len(flagged)
