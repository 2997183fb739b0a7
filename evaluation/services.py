"""The five steps of the quarter as services: one transaction each, keyword-only arguments.

Every change of an evaluation's state goes through ``_transition``: it locks the row, checks
the version, the actor's role and the state, applies the step's guard and writes, moves the
state, writes the append-only log and schedules the notifications after commit. The rules
themselves live in ``evaluation.rules`` and are reached through ``evaluation.scoring``.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mass_mail
from django.db import transaction
from django.db.models import Max, Min, Prefetch, prefetch_related_objects
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import can_proceed

from cadres.models import Absence, Assignment, Cadre, Position, Unit, User
from cadres.roles import Role, covers, role_holders
from cadres.selectors import assignments_between
from evaluation import rules, scoring
from evaluation.exceptions import Conflict, QuotaExceeded
from evaluation.models import (
    CatalogueItem,
    CatalogueVersion,
    Collective,
    CollectiveTarget,
    CriterionScore,
    Discrepancy,
    Evaluation,
    EvaluationState,
    Notification,
    Period,
    PublishedResult,
    QuotaGroup,
    ScoreChange,
    SuspensionProposal,
    Task,
    TransitionLog,
)
from evaluation.permissions import SELF, Action, acting_role
from evaluation.selectors import rule_set_for

# ---------------------------------------------------------------------------------------------
# Periods


def default_deadlines(start: date, end: date, report_deadline: date) -> dict[str, date]:
    """Step deadlines of a quarter: targets in two weeks, the rest packed before the report."""
    return {
        "plan_deadline": start + timedelta(days=14),
        "self_assessment_deadline": end - timedelta(days=6),
        "vetting_deadline": end - timedelta(days=3),
        "proposal_deadline": end,
        "decision_deadline": report_deadline - timedelta(days=2),
        "report_deadline": report_deadline,
    }


@transaction.atomic
def period_create(*, tenant, year: int, quarter: int, actor=None, **deadlines) -> Period:
    """Create a quarter with its step deadlines and the R16 reporting deadline."""
    if quarter not in (1, 2, 3, 4):
        raise ValidationError({"quarter": _("The quarter must be 1, 2, 3 or 4.")})
    if Period.objects.filter(tenant=tenant, year=year, quarter=quarter).exists():
        raise ValidationError({"quarter": _("This quarter already exists.")})
    start, end = rules.quarter_bounds(year, quarter)
    rule_set = rule_set_for(tenant, start)
    values = default_deadlines(start, end, rules.report_deadline(year, quarter, rule_set))
    values.update(deadlines)
    period = Period(
        tenant=tenant, year=year, quarter=quarter, start_date=start, end_date=end, **values
    )
    period.full_clean()
    period.save()
    return period


def rule_set_create(*, tenant, actor, version: str, effective_from: date, params: dict):
    """Add a version of the tenant's rule set, in force from a date (checked by the rules)."""
    from cadres.services import audit
    from evaluation.models import RuleSetVersion

    try:
        rules.RuleSet.from_dict(
            params | {"version": version, "effective_from": effective_from.isoformat()}
        )
    except rules.RuleSetError as exc:
        raise ValidationError({exc.field: exc.message}) from exc
    existing = RuleSetVersion.objects.for_tenant(tenant)
    if existing.filter(version=version).exists():
        raise ValidationError({"version": _("This version name is already used.")})
    if existing.filter(effective_from=effective_from).exists():
        raise ValidationError({"effective_from": _("A version already starts on this date.")})
    with transaction.atomic():
        row = RuleSetVersion.objects.create(
            tenant=tenant, version=version, effective_from=effective_from, params=params
        )
        audit(tenant_id=tenant.pk, actor=actor, action="rule_set_create", obj=row)
    tenant.__dict__.pop("_rule_sets", None)
    return row


# ---------------------------------------------------------------------------------------------
# Notifications and history


def notify(*, users: Iterable[User], kind: str, message: str, evaluation=None, url: str = ""):
    """Put a message in each user's inbox now and e-mail it once the transaction commits."""
    recipients = [u for u in users if u is not None and u.is_active]
    if not recipients:
        return
    tenant_id = recipients[0].tenant_id or getattr(evaluation, "tenant_id", None)
    rows = Notification.objects.bulk_create(
        [
            Notification(
                tenant_id=tenant_id,
                recipient=user,
                evaluation=evaluation,
                kind=kind,
                message=message[:500],
                url=url,
            )
            for user in recipients
        ]
    )
    emails = [u.email for u in recipients if u.email]

    def send():
        # One message per person: a reminder to thousands must not show every address.
        if emails:
            subject = _("Quarterly evaluation: something waits for you")
            send_mass_mail([(subject, message, None, [email]) for email in emails], True)
        Notification.objects.filter(pk__in=[r.pk for r in rows]).update(emailed_at=timezone.now())

    transaction.on_commit(send)


def notifications_mark_read(*, user: User, ids: Iterable[int] | None = None) -> int:
    """Mark the user's own unread messages read (all of them when ``ids`` is None).

    Only the recipient's rows are touched: another person's id is simply not found.
    """
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=list(ids))
    return unread.update(read_at=timezone.now())


def _record_changes(evaluation, actor, changes: list[tuple[str, object, object]], reason=""):
    """Append a score-history row for each value that actually changed."""
    ScoreChange.objects.bulk_create(
        [
            ScoreChange(
                tenant_id=evaluation.tenant_id,
                evaluation=evaluation,
                actor=actor,
                field=field,
                old_value="" if old is None else str(old),
                new_value="" if new is None else str(new),
                reason=reason[:500],
            )
            for field, old, new in changes
            if str(old) != str(new)
        ]
    )


def _snapshot(evaluation: Evaluation) -> dict:
    return {
        "self_score": str(evaluation.self_score) if evaluation.self_score is not None else None,
        "vetted_score": (
            str(evaluation.vetted_score) if evaluation.vetted_score is not None else None
        ),
        "computed_score": (
            str(evaluation.computed_score) if evaluation.computed_score is not None else None
        ),
        "computed_grade": evaluation.computed_grade,
        "self_grade": evaluation.self_grade,
        "vetted_grade": evaluation.vetted_grade,
        "proposed_grade": evaluation.proposed_grade,
        "decided_grade": evaluation.decided_grade,
        "reasons": evaluation.computed_reasons,
    }


# Who is told, after each step, that the evaluation waits for them.
NEXT_ACTOR = {
    EvaluationState.PLANNING: SELF,
    EvaluationState.PLAN_SUBMITTED: Role.SUPERIOR,
    EvaluationState.PLAN_APPROVED: SELF,
    EvaluationState.SELF_ASSESSED: Role.ADVISORY,
    EvaluationState.VETTED: Role.SUPERIOR,
    EvaluationState.PROPOSED: Role.AUTHORITY,
    EvaluationState.DECIDED: Role.ORGANISATION,
}
NEXT_STEP_MESSAGES = {
    EvaluationState.PLANNING: gettext_lazy("Your targets for %(period)s were returned: %(reason)s"),
    EvaluationState.PLAN_SUBMITTED: gettext_lazy(
        "%(cadre)s submitted the targets for %(period)s: they wait for your approval."
    ),
    EvaluationState.PLAN_APPROVED: gettext_lazy(
        "Your targets for %(period)s are approved: self-assess at the end of the quarter."
    ),
    EvaluationState.SELF_ASSESSED: gettext_lazy(
        "The self-assessment of %(cadre)s for %(period)s waits for vetting."
    ),
    EvaluationState.VETTED: gettext_lazy(
        "The evaluation of %(cadre)s for %(period)s is vetted: propose a grade."
    ),
    EvaluationState.PROPOSED: gettext_lazy(
        "A grade is proposed for %(cadre)s for %(period)s: it waits for your decision."
    ),
    EvaluationState.DECIDED: gettext_lazy(
        "The grade of %(cadre)s for %(period)s is decided: it can be published."
    ),
}


def _notify_next(evaluation: Evaluation, reason: str = "") -> None:
    role = NEXT_ACTOR.get(evaluation.state)
    if role is None:
        return
    if role == SELF:
        users = [evaluation.cadre.user]
    else:
        users = [u for u in role_holders(role, evaluation.unit) if u.pk != evaluation.cadre.user_id]
    message = NEXT_STEP_MESSAGES[evaluation.state] % {
        "cadre": evaluation.cadre.full_name,
        "period": str(evaluation.period),
        "reason": reason,
    }
    notify(users=users, kind=evaluation.state, message=message, evaluation=evaluation)


# ---------------------------------------------------------------------------------------------
# The one door for state changes


def _read_rows(evaluation: Evaluation) -> None:
    """Read the tasks and criteria once, in the order the screens and the API show them: a
    step checks, changes and scores these rows in memory, and the API answers from them."""
    prefetch_related_objects(
        [evaluation],
        Prefetch("tasks", queryset=Task.objects.order_by("order", "pk")),
        Prefetch("criterion_scores", queryset=CriterionScore.objects.order_by("order")),
    )


def _locked(evaluation: Evaluation) -> Evaluation:
    return (
        Evaluation.objects.select_for_update(of=("self",))
        .select_related("cadre", "unit", "period", "tenant", "quota_group")
        .get(pk=evaluation.pk)
    )


def _transition(
    *,
    evaluation: Evaluation,
    actor: User,
    action: str,
    method: str,
    reason: str = "",
    expected_version: int | None = None,
    apply: Callable[[Evaluation], None] | None = None,
    notify_next: bool = True,
) -> Evaluation:
    """Lock, check, apply, move the state, log; notifications go out after commit."""
    with transaction.atomic():
        locked = _locked(evaluation)
        if locked.tenant_id != actor.tenant_id:
            raise PermissionDenied
        if expected_version is not None and locked.version != expected_version:
            raise Conflict()
        if not locked.is_current or not can_proceed(getattr(locked, method)):
            raise Conflict(
                _("This evaluation is at the step “%(state)s”, where “%(action)s” is not possible.")
                % {"state": locked.get_state_display(), "action": Action(action).label}
            )
        role = acting_role(actor, action, locked)
        if role is None:
            raise PermissionDenied(
                _("You are not allowed to “%(action)s” on this evaluation.")
                % {"action": Action(action).label}
            )
        from_state = locked.state
        if apply is not None:
            apply(locked)
        getattr(locked, method)()
        locked.version += 1
        locked.save()
        TransitionLog.objects.create(
            tenant_id=locked.tenant_id,
            evaluation=locked,
            actor=actor,
            role=role if isinstance(role, str) else role.value,
            action=action,
            from_state=from_state,
            to_state=locked.state,
            reason=reason,
            score_snapshot=_snapshot(locked),
        )
        if notify_next:
            _notify_next(locked, reason)
        _schedule_recomputations(locked, action, from_state)
    evaluation.__dict__.update({k: v for k, v in locked.__dict__.items() if not k.startswith("_")})
    return locked


def _schedule_recomputations(evaluation: Evaluation, action: str, from_state: str) -> None:
    """Queue the R9 quota check and the R7/R8 recomputation a step makes stale."""
    from evaluation import jobs  # jobs builds on these services

    if action in (Action.PROPOSE, Action.DECIDE, Action.RETURN, Action.REOPEN):
        jobs.schedule_quota_check(period=evaluation.period, group_id=evaluation.quota_group_id)
    if action in (Action.VET, Action.REOPEN) or (
        action == Action.RETURN and from_state in (EvaluationState.VETTED, EvaluationState.PROPOSED)
    ):
        jobs.schedule_completion(period=evaluation.period, unit_id=evaluation.unit_id)


def _require_reason(reason: str, field: str = "reason") -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({field: _("A reason is required.")})
    if len(reason) > 2000:
        raise ValidationError({field: _("The reason is too long (2,000 characters at most).")})
    return reason


def _check_grade(grade: str, field: str = "grade") -> str:
    if grade not in {g.value for g in rules.Grade}:
        raise ValidationError({field: _("Choose one of the four grades.")})
    return grade


# ---------------------------------------------------------------------------------------------
# Step 1: targets

SIX_CLEAR_FIELDS = {
    "title": gettext_lazy("the task (what)"),
    "primary_responsible": gettext_lazy("the primary responsible cadre (who)"),
    "deadline": gettext_lazy("the deadline (when)"),
    "responsibility": gettext_lazy("the responsibility"),
    "expected_product": gettext_lazy("the product"),
    "accepting_authority": gettext_lazy("the authority that accepts it"),
}
TASK_PLAN_FIELDS = [
    "objective",
    "title",
    "expected_product",
    "axis",
    "weight",
    "primary_responsible",
    "responsibility",
    "accepting_authority",
    "deadline",
    "catalogue_item",
]


def _approved_catalogue_item(tenant_id, item_id) -> CatalogueItem:
    try:
        return CatalogueItem.objects.select_related("version").get(
            pk=item_id, tenant_id=tenant_id, version__status=CatalogueVersion.Status.APPROVED
        )
    except (CatalogueItem.DoesNotExist, ValueError, TypeError) as exc:
        raise ValidationError(
            {"catalogue_item": _("Pick an item of the approved catalogue.")}
        ) from exc


def _clean_task(task: Task, fields, key: str) -> None:
    """Validate the given fields of a task, errors keyed ``<key>.<field>``.

    Only the fields' own checks run (choices, validators, lengths): they cover every check
    constraint of Task, and the foreign keys were looked up within the tenant already. Django's
    full model validation would otherwise spend one query per constraint and per foreign key of
    every task, which made each autosave cost ~90 queries (bench/README.md); the database
    keeps the constraints all the same.
    """
    skip = [f.name for f in Task._meta.fields if f.name not in fields]
    try:
        task.full_clean(exclude=skip, validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        raise ValidationError(
            {f"{key}.{field}": errors for field, errors in exc.message_dict.items()}
        ) from exc


def _build_task(evaluation: Evaluation, order: int, data: dict) -> Task:
    unknown = set(data) - set(TASK_PLAN_FIELDS) - {"id", "difficulty"}
    if unknown:
        raise ValidationError(
            {"tasks": _("Unknown task fields: %(fields)s") % {"fields": ", ".join(sorted(unknown))}}
        )
    values = {k: data.get(k) for k in TASK_PLAN_FIELDS if k in data}
    item_id = values.pop("catalogue_item", None)
    responsible = values.pop("primary_responsible", None)
    task = Task(tenant_id=evaluation.tenant_id, evaluation=evaluation, order=order)
    if item_id:
        item = _approved_catalogue_item(evaluation.tenant_id, item_id)
        task.catalogue_item = item
        task.difficulty = item.difficulty
        values.setdefault("title", item.title)
        values["axis"] = item.axis
        values.setdefault("expected_product", item.expected_product)
    if responsible is not None:
        responsible_id = getattr(responsible, "pk", responsible)
        try:
            task.primary_responsible = Cadre.objects.get(
                pk=responsible_id, tenant_id=evaluation.tenant_id
            )
        except (Cadre.DoesNotExist, ValueError, TypeError) as exc:
            raise ValidationError(
                {"primary_responsible": _("Choose a cadre of your organisation.")}
            ) from exc
    for key, value in values.items():
        setattr(task, key, "" if value is None and key not in ("axis", "deadline") else value)
    plan_fields = {f.name for f in Task._meta.fields if not f.is_relation}
    _clean_task(task, plan_fields, f"tasks[{order}]")
    return task


def evaluation_save_plan(
    *,
    evaluation: Evaluation,
    actor: User,
    tasks: list[dict],
    axis_roles: dict,
    expected_version: int | None = None,
) -> Evaluation:
    """Save the draft targets (replacing the previous draft); the plan is not yet submitted."""
    with transaction.atomic():
        locked = _locked(evaluation)
        if acting_role(actor, Action.EDIT_PLAN, locked) is None:
            raise PermissionDenied(_("Only the cadre may edit their targets while planning."))
        if expected_version is not None and locked.version != expected_version:
            raise Conflict()
        built = [_build_task(locked, i, data) for i, data in enumerate(tasks)]
        locked.axis_roles = scoring.clean_axis_roles(axis_roles)
        locked.tasks.all().delete()
        Task.objects.bulk_create(built)
        locked.version += 1
        locked.save(update_fields=["axis_roles", "version", "updated_at"])
    return locked


def plan_problems(evaluation: Evaluation) -> list[str]:
    """Why the plan cannot be submitted yet: "six clear" [G §1.2] and R2, as sentences."""
    problems = []
    tasks = list(evaluation.tasks.all())
    if not tasks:
        problems.append(_("Add at least one task."))
    for number, task in enumerate(tasks, start=1):
        missing = [str(label) for f, label in SIX_CLEAR_FIELDS.items() if not getattr(task, f)]
        if missing:
            problems.append(
                _("Task %(number)s is missing %(fields)s.")
                % {"number": number, "fields": ", ".join(missing)}
            )
    problems.extend(r.message for r in scoring.plan_reasons(evaluation, tasks))
    return problems


def evaluation_submit_plan(
    *, evaluation: Evaluation, actor: User, expected_version: int | None = None
) -> Evaluation:
    """Step 1: the cadre submits the targets to the direct superior level."""

    def guard(locked):
        problems = plan_problems(locked)
        if problems:
            raise ValidationError({"tasks": problems})

    return _transition(
        evaluation=evaluation,
        actor=actor,
        action=Action.SUBMIT_PLAN,
        method="submit_plan",
        expected_version=expected_version,
        apply=guard,
    )


def evaluation_approve_plan(
    *, evaluation: Evaluation, actor: User, comment: str = "", expected_version=None
) -> Evaluation:
    """Step 1: the direct superior level approves the targets."""
    return _transition(
        evaluation=evaluation,
        actor=actor,
        action=Action.APPROVE_PLAN,
        method="approve_plan",
        reason=comment,
        expected_version=expected_version,
    )


# ---------------------------------------------------------------------------------------------
# Step 2: self-assessment

TASK_RESULT_FIELDS = {
    "status",
    "completed_on",
    "exceeded",
    "force_majeure_reason",
    "evidence",
    "self_quality_level",
}


def _decimal(value, field: str) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value).replace(",", "."))
    except InvalidOperation as exc:
        raise ValidationError({field: _("Enter a number.")}) from exc
    if not number.is_finite():
        raise ValidationError({field: _("Enter a number.")})
    return number


def _apply_criteria(evaluation, actor, points: dict, column: str, reason: str) -> None:
    scores = {c.code: c for c in evaluation.criterion_scores.all()}
    unknown = set(points) - set(scores)
    if unknown:
        raise ValidationError(
            {"criteria": _("Unknown criteria: %(codes)s") % {"codes": ", ".join(sorted(unknown))}}
        )
    changes = []
    for code, raw in points.items():
        score = scores[code]
        value = _decimal(raw, f"criteria.{code}")
        if value is not None and not (0 <= value <= score.max_points):
            raise ValidationError(
                {
                    f"criteria.{code}": _("%(name)s: enter 0 to %(max)s points.")
                    % {"name": score.name, "max": score.max_points}
                }
            )
        changes.append((f"{column}:{code}", getattr(score, column), value))
        setattr(score, column, value)
    CriterionScore.objects.bulk_update(scores.values(), [column])
    _record_changes(evaluation, actor, changes, reason)


def _tasks_by_id(evaluation, data: dict) -> list[tuple[Task, dict]]:
    tasks = {str(t.pk): t for t in evaluation.tasks.all()}
    unknown = {str(k) for k in data} - set(tasks)
    if unknown:
        raise ValidationError({"tasks": _("Unknown tasks: %(ids)s") % {"ids": ", ".join(unknown)}})
    return [(tasks[str(k)], v) for k, v in data.items()]


def _apply_task_results(evaluation, actor, results: dict) -> None:
    changed = []
    history = []
    for task, values in _tasks_by_id(evaluation, results):
        unknown = set(values) - TASK_RESULT_FIELDS
        if unknown:
            raise ValidationError(
                {f"tasks.{task.pk}": _("Unknown fields: %(f)s") % {"f": ", ".join(sorted(unknown))}}
            )
        for key, value in values.items():
            if key == "self_quality_level" and value not in (None, ""):
                value = int(value) if str(value).isdigit() else value
            history.append((f"task:{task.pk}:{key}", getattr(task, key), value))
            setattr(
                task,
                key,
                value
                if value is not None
                else ("" if key != "completed_on" and key != "self_quality_level" else None),
            )
        _clean_task(task, TASK_RESULT_FIELDS, f"tasks.{task.pk}")
        changed.append(task)
    # One UPDATE a task: a draft sends a few tasks, and bulk_update's CASE for every column
    # costs three times as much in Python (four tasks: 2.9 against 1.0 ms).
    for task in changed:
        Task.objects.filter(pk=task.pk).update(**{f: getattr(task, f) for f in TASK_RESULT_FIELDS})
    _record_changes(evaluation, actor, [h for h in history if "score" in h[0] or "quality" in h[0]])


def evaluation_save_self_assessment(
    *,
    evaluation: Evaluation,
    actor: User,
    task_results: dict | None = None,
    criteria: dict | None = None,
    comment: str | None = None,
    self_grade: str | None = None,
    expected_version: int | None = None,
):
    """Save the self-assessment draft (autosave) and return the live score and grade."""
    with transaction.atomic():
        locked = _locked(evaluation)
        if acting_role(actor, Action.SELF_ASSESS, locked) is None:
            raise PermissionDenied(_("Only the cadre may fill in their self-assessment now."))
        if expected_version is not None and locked.version != expected_version:
            raise Conflict()
        _read_rows(locked)
        if task_results:
            _apply_task_results(locked, actor, task_results)
        if criteria:
            _apply_criteria(locked, actor, criteria, "self_points", _("self-assessment draft"))
        if comment is not None:
            locked.self_comment = comment
        if self_grade:
            locked.self_grade = _check_grade(self_grade, "self_grade")
        result = scoring.assess(locked, stage=scoring.Stage.SELF)
        locked.self_score = result.score
        locked.version += 1
        # A draft changes these columns only (the tasks and criteria are saved above).
        locked.save(
            update_fields=["self_comment", "self_grade", "self_score", "version", "updated_at"]
        )
    return locked, result


def evaluation_self_assess(
    *,
    evaluation: Evaluation,
    actor: User,
    confirm_warnings: bool = False,
    expected_version: int | None = None,
) -> Evaluation:
    """Step 2: the cadre submits the self-assessment (Form 5) with a self-score and grade."""

    def apply(locked):
        _read_rows(locked)
        problems = scoring.self_assessment_problems(locked)
        if problems:
            raise ValidationError({"tasks": problems})
        result = scoring.assess(locked, stage=scoring.Stage.SELF)
        if result.warnings and not confirm_warnings:
            raise ValidationError({"confirm_warnings": [r.message for r in result.warnings]})
        _record_changes(locked, actor, [("self_score", locked.self_score, result.score)])
        locked.self_score = result.score
        if not locked.self_grade:
            locked.self_grade = result.grade
        locked.self_assessed_at = timezone.now()
        scoring.store(locked, result)

    return _transition(
        evaluation=evaluation,
        actor=actor,
        action=Action.SELF_ASSESS,
        method="self_assess",
        expected_version=expected_version,
        apply=apply,
    )


# ---------------------------------------------------------------------------------------------
# Step 3a: vetting; 3b: proposal

VETTING_FIELDS = {
    "progress",
    "quality_level",
    "difficulty_scope",
    "force_majeure_decision",
    "force_majeure_decision_reason",
}


def _apply_vetting(evaluation, actor, task_vetting: dict) -> None:
    changed, history = [], []
    for task, values in _tasks_by_id(evaluation, task_vetting):
        unknown = set(values) - VETTING_FIELDS
        if unknown:
            raise ValidationError(
                {f"tasks.{task.pk}": _("Unknown fields: %(f)s") % {"f": ", ".join(sorted(unknown))}}
            )
        for key, value in values.items():
            if key == "quality_level":
                value = None if value in (None, "") else value
                if value is not None:
                    try:
                        value = int(value)
                    except (TypeError, ValueError) as exc:
                        raise ValidationError(
                            {f"tasks.{task.pk}.quality_level": _("Choose level 1, 2 or 3.")}
                        ) from exc
            elif value is None:
                value = ""
            history.append((f"task:{task.pk}:{key}", getattr(task, key), value))
            setattr(task, key, value)
        if task.force_majeure_decision and not task.force_majeure_decision_reason.strip():
            raise ValidationError(
                {
                    f"tasks.{task.pk}.force_majeure_decision_reason": _(
                        "Give the reason for confirming or refusing force majeure."
                    )
                }
            )
        _clean_task(task, VETTING_FIELDS, f"tasks.{task.pk}")
        changed.append(task)
    Task.objects.bulk_update(changed, sorted(VETTING_FIELDS))
    _record_changes(evaluation, actor, history, _("vetting"))


def evaluation_vet(
    *,
    evaluation: Evaluation,
    actor: User,
    task_vetting: dict,
    criteria: dict | None = None,
    comment: str = "",
    grade: str | None = None,
    expected_version: int | None = None,
) -> Evaluation:
    """Step 3a: the personnel advisory body vets each task and proposes a grade."""

    def apply(locked):
        _read_rows(locked)
        _apply_vetting(locked, actor, task_vetting)
        if criteria:
            _apply_criteria(locked, actor, criteria, "vetted_points", _("vetting"))
        problems = scoring.vetting_problems(locked)
        if problems:
            raise ValidationError({"tasks": problems})
        result = scoring.assess(locked, stage=scoring.Stage.VETTED)
        _record_changes(locked, actor, [("vetted_score", locked.vetted_score, result.score)])
        locked.vetted_score = result.score
        locked.vetted_grade = _check_grade(grade) if grade else result.grade
        locked.vetting_comment = comment
        locked.vetted_by = actor
        locked.vetted_at = timezone.now()
        scoring.store(locked, result)

    return _transition(
        evaluation=evaluation,
        actor=actor,
        action=Action.VET,
        method="vet",
        reason=comment,
        expected_version=expected_version,
        apply=apply,
    )


def evaluation_propose(
    *,
    evaluation: Evaluation,
    actor: User,
    grade: str,
    comment: str = "",
    expected_version: int | None = None,
) -> Evaluation:
    """Step 3b: the direct superior level comments and proposes one of four grades."""
    _check_grade(grade)

    def apply(locked):
        _record_changes(locked, actor, [("proposed_grade", locked.proposed_grade, grade)])
        locked.proposed_grade = grade
        locked.proposal_comment = comment
        locked.proposed_by = actor
        locked.proposed_at = timezone.now()
        scoring.store(locked, scoring.assess(locked, stage=scoring.Stage.VETTED))

    return _transition(
        evaluation=evaluation,
        actor=actor,
        action=Action.PROPOSE,
        method="propose",
        reason=comment,
        expected_version=expected_version,
        apply=apply,
    )


# ---------------------------------------------------------------------------------------------
# Step 4: decision


def _check_quota(locked: Evaluation) -> None:
    """R9: refuse an Excellent that the group's quota cannot hold, with the ranked list."""
    if locked.quota_group_id is None or scoring.outside_quota(locked):
        return
    # Lock the group so that two Excellent decisions in it cannot both pass the check.
    group = QuotaGroup.objects.select_for_update().get(pk=locked.quota_group_id)
    picture = scoring.quota_picture(group, deciding=locked)
    if picture.decided_excellent + 1 > picture.allowed:
        raise QuotaExceeded(
            _(
                "The quota of this group allows %(allowed)s Excellent grade(s) and "
                "%(decided)s are already decided. Candidates by score: %(ranking)s"
            )
            % {
                "allowed": picture.allowed,
                "decided": picture.decided_excellent,
                "ranking": "; ".join(c["label"] for c in picture.ranking),
            },
            ranked_candidates=picture.ranking,
        )


def evaluation_decide(
    *,
    evaluation: Evaluation,
    actor: User,
    grade: str,
    comment: str = "",
    reassignment: bool = False,
    expected_version: int | None = None,
) -> Evaluation:
    """Step 4: the managing authority decides the grade (R5–R9 hold; R17 is recorded)."""
    _check_grade(grade)

    def apply(locked):
        collective = scoring.collective_of(locked)
        if collective is not None and collective.graded_at is None:
            raise ValidationError(
                {"grade": _("Grade the collective of %(unit)s first.") % {"unit": locked.unit}}
            )
        result = scoring.assess(locked, stage=scoring.Stage.VETTED)
        scoring.store(locked, result)
        if rules.Grade(grade).rank > rules.Grade(result.grade).rank:
            raise ValidationError(
                {
                    "grade": [
                        _("The rules allow at most “%(grade)s” for this evaluation:")
                        % {"grade": rules.Grade(result.grade).label}
                    ]
                    + [r.message for r in result.reasons]
                }
            )
        locked.decided_grade = grade
        if grade == rules.Grade.EXCELLENT:
            _check_quota(locked)
        _record_changes(locked, actor, [("decided_grade", "", grade)], comment)
        locked.decision_comment = comment
        locked.reassignment_flag = reassignment
        locked.decided_by = actor
        locked.decided_at = timezone.now()
        found = rules.discrepancy(locked.proposed_grade, grade)
        if found is not None and locked.proposed_by_id:
            Discrepancy.objects.update_or_create(
                evaluation=locked,
                defaults={
                    "tenant_id": locked.tenant_id,
                    "proposer_id": locked.proposed_by_id,
                    "head": scoring.head_of(locked.unit, locked.period),
                    "proposed_grade": locked.proposed_grade,
                    "decided_grade": grade,
                },
            )

    return _transition(
        evaluation=evaluation,
        actor=actor,
        action=Action.DECIDE,
        method="decide",
        reason=comment,
        expected_version=expected_version,
        apply=apply,
    )


# ---------------------------------------------------------------------------------------------
# Step 5: publication


def evaluation_publish(
    *, evaluation: Evaluation, actor: User, expected_version: int | None = None
) -> Evaluation:
    """Step 5: publish a decided result; its record is kept unchanged from now on."""

    def apply(locked):
        locked.published_at = timezone.now()
        locked.published_by = actor
        PublishedResult.objects.create(
            tenant_id=locked.tenant_id,
            evaluation=locked,
            cadre=locked.cadre,
            period=locked.period,
            revision=locked.revision,
            grade=locked.decided_grade,
            score=locked.vetted_score,
            snapshot=scoring.dossier_snapshot(locked),
            published_by=actor,
        )

    published = _transition(
        evaluation=evaluation,
        actor=actor,
        action=Action.PUBLISH,
        method="publish",
        expected_version=expected_version,
        apply=apply,
        notify_next=False,
    )
    notify(
        users=[published.cadre.user],
        kind="published",
        evaluation=published,
        message=_("Your result for %(period)s is published: %(grade)s.")
        % {"period": published.period, "grade": published.get_decided_grade_display()},
    )
    return published


def period_publish(*, period: Period, actor: User) -> int:
    """Publish every decided result of the period that the actor may publish."""
    from evaluation.permissions import actionable_evaluations

    count = 0
    for evaluation in actionable_evaluations(actor, Action.PUBLISH).filter(period=period):
        evaluation_publish(evaluation=evaluation, actor=actor)
        count += 1
    return count


# ---------------------------------------------------------------------------------------------
# Side paths: return, defer, reopen


def evaluation_return(
    *, evaluation: Evaluation, actor: User, reason: str, expected_version: int | None = None
) -> Evaluation:
    """Send an evaluation back to the actor of the previous step, with a mandatory reason."""
    reason = _require_reason(reason)
    return _transition(
        evaluation=evaluation,
        actor=actor,
        action=Action.RETURN,
        method="send_back",
        reason=reason,
        expected_version=expected_version,
    )


DEFERRAL_CASES = {
    "R11a": gettext_lazy("Full-time training of 2 months or more (R11a)"),
    "R11b": gettext_lazy("First appointed with less than 1 month left (R11b)"),
    "R11c": gettext_lazy("Sick or maternity leave of 2 months or more (R11c)"),
    "R11d": gettext_lazy("Under inspection for signs of a violation (R11d)"),
    "R11e": gettext_lazy("Another case decided by the authority (R11e)"),
}


def evaluation_defer(
    *,
    evaluation: Evaluation,
    actor: User,
    case: str,
    reason: str,
    expected_version: int | None = None,
) -> Evaluation:
    """R11: not graded this quarter; the remaining results carry into the next quarter."""
    if case not in DEFERRAL_CASES:
        raise ValidationError({"case": _("Choose the case of deferral.")})
    reason = _require_reason(reason)

    def apply(locked):
        locked.deferral_case = case
        locked.deferral_reason = reason

    return _transition(
        evaluation=evaluation,
        actor=actor,
        action=Action.DEFER,
        method="defer",
        reason=reason,
        expected_version=expected_version,
        apply=apply,
        notify_next=False,
    )


def evaluation_reopen(
    *, evaluation: Evaluation, actor: User, reason: str, expected_version: int | None = None
) -> Evaluation:
    """Reopen a decided or published result as a new revision awaiting a new decision.

    The old revision, its log and its published record stay as they were.
    """
    reason = _require_reason(reason)
    with transaction.atomic():
        old = _locked(evaluation)
        if expected_version is not None and old.version != expected_version:
            raise Conflict()
        if not old.is_current or old.state not in (
            EvaluationState.DECIDED,
            EvaluationState.PUBLISHED,
        ):
            raise Conflict(_("Only a decided or published result can be reopened."))
        if acting_role(actor, Action.REOPEN, old) is None:
            raise PermissionDenied(_("Only the managing authority may reopen a result."))
        Evaluation.objects.filter(pk=old.pk).update(is_current=False)
        copy_fields = {
            f.attname: getattr(old, f.attname)
            for f in Evaluation._meta.concrete_fields
            if f.attname
            not in {
                "id",
                "state",
                "version",
                "revision",
                "previous_revision_id",
                "is_current",
                "decided_grade",
                "decided_by_id",
                "decided_at",
                "decision_comment",
                "reassignment_flag",
                "published_at",
                "published_by_id",
                "created_at",
                "updated_at",
            }
        }
        new = Evaluation.objects.create(
            **copy_fields,
            state=EvaluationState.PROPOSED,
            revision=old.revision + 1,
            previous_revision=old,
            is_current=True,
        )
        tasks = list(old.tasks.all())
        for task in tasks:
            task.pk = None
            task.evaluation = new
        Task.objects.bulk_create(tasks)
        scores = list(old.criterion_scores.all())
        for score in scores:
            score.pk = None
            score.evaluation = new
        CriterionScore.objects.bulk_create(scores)
        TransitionLog.objects.create(
            tenant_id=new.tenant_id,
            evaluation=new,
            actor=actor,
            role=Role.AUTHORITY.value,
            action=Action.REOPEN,
            from_state=old.state,
            to_state=new.state,
            reason=reason,
            score_snapshot={**_snapshot(new), "reopened_revision": old.revision},
        )
        _notify_next(new, reason)
        _schedule_recomputations(new, Action.REOPEN, old.state)
    return new


# ---------------------------------------------------------------------------------------------
# Collectives (graded before their members, QĐ 366)


def collective_for(*, period: Period, unit: Unit) -> Collective:
    collective, _created = Collective.objects.get_or_create(
        period=period, unit=unit, defaults={"tenant_id": unit.tenant_id}
    )
    return collective


def _check_collective_actor(actor, collective, role=Role.AUTHORITY):
    if actor.tenant_id != collective.tenant_id or not covers(actor, role, collective.unit):
        raise PermissionDenied(_("You may not manage the collective of this unit."))


@transaction.atomic
def collective_set_targets(*, collective: Collective, actor: User, targets: list[dict]) -> None:
    """The competent level assigns the collective's targets for the quarter."""
    _check_collective_actor(actor, collective)
    if collective.graded_at is not None:
        raise Conflict(_("The collective is already graded."))
    built = []
    for i, data in enumerate(targets):
        target = CollectiveTarget(
            tenant_id=collective.tenant_id,
            collective=collective,
            title=(data.get("title") or "").strip(),
            assigned_by=data.get("assigned_by", ""),
        )
        if not target.title:
            raise ValidationError({f"targets[{i}].title": _("Name the target.")})
        try:
            target.full_clean(exclude=["collective", "tenant"])
        except ValidationError as exc:
            raise ValidationError(
                {f"targets[{i}].{f}": e for f, e in exc.message_dict.items()}
            ) from exc
        built.append(target)
    collective.targets.all().delete()
    CollectiveTarget.objects.bulk_create(built)


@transaction.atomic
def collective_record_results(*, collective: Collective, actor: User, results: dict) -> None:
    """Record each target as done or not, with force majeure confirmed and its reason."""
    _check_collective_actor(actor, collective)
    if collective.graded_at is not None:
        raise Conflict(_("The collective is already graded."))
    targets = {str(t.pk): t for t in collective.targets.all()}
    for key, values in results.items():
        target = targets.get(str(key))
        if target is None:
            raise ValidationError({"targets": _("Unknown target %(id)s.") % {"id": key}})
        target.status = values.get("status", target.status)
        target.force_majeure_confirmed = bool(values.get("force_majeure_confirmed"))
        target.force_majeure_reason = (values.get("force_majeure_reason") or "").strip()
        if target.force_majeure_confirmed and not target.force_majeure_reason:
            raise ValidationError(
                {f"targets.{key}.force_majeure_reason": _("Give the force majeure reason.")}
            )
        try:
            target.full_clean(exclude=["collective", "tenant"])
        except ValidationError as exc:
            raise ValidationError(
                {f"targets.{key}.{f}": e for f, e in exc.message_dict.items()}
            ) from exc
    CollectiveTarget.objects.bulk_update(
        targets.values(), ["status", "force_majeure_confirmed", "force_majeure_reason"]
    )
    _schedule_collective_completion(collective)


@transaction.atomic
def collective_grade(*, collective: Collective, actor: User) -> Collective:
    """Compute the collective's completion (R8); its members are decided after it."""
    _check_collective_actor(actor, collective)
    collective = Collective.objects.select_for_update().get(pk=collective.pk)
    if collective.graded_at is not None:
        raise Conflict(_("The collective is already graded."))
    targets = list(collective.targets.all())
    if not targets:
        raise ValidationError({"targets": _("The collective has no targets to grade.")})
    if any(t.status == CollectiveTarget.Status.PENDING for t in targets):
        raise ValidationError({"targets": _("Report the result of every target first.")})
    result = scoring.collective_result(collective, targets)
    collective.completion_percent = result.percent
    collective.reasons = scoring.stored_reasons(
        result.reasons, lambda: scoring.collective_result(collective, targets).reasons
    )
    collective.graded_at = timezone.now()
    collective.graded_by = actor
    collective.save()
    _schedule_collective_completion(collective)
    return collective


def _schedule_collective_completion(collective: Collective) -> None:
    from evaluation import jobs  # jobs builds on these services

    jobs.schedule_completion(period=collective.period, unit_id=collective.unit_id)


# ---------------------------------------------------------------------------------------------
# Standard product catalogue


@transaction.atomic
def catalogue_draft(*, tenant, actor: User, note: str = "") -> CatalogueVersion:
    """Start a new draft version, copying the approved items, by the advisory body."""
    if not any(covers(actor, Role.ADVISORY, u) for u in Unit.objects.for_tenant(tenant)[:1]):
        raise PermissionDenied(_("Only the personnel advisory body drafts the catalogue."))
    if CatalogueVersion.objects.filter(
        tenant=tenant,
        status__in=[CatalogueVersion.Status.DRAFT, CatalogueVersion.Status.SUBMITTED],
    ).exists():
        raise Conflict(_("A draft of the catalogue is already open."))
    number = (
        CatalogueVersion.objects.filter(tenant=tenant).aggregate(n=Max("number"))["n"] or 0
    ) + 1
    version = CatalogueVersion.objects.create(tenant=tenant, number=number, note=note)
    approved = CatalogueVersion.objects.filter(
        tenant=tenant, status=CatalogueVersion.Status.APPROVED
    ).first()
    if approved is not None:
        items = list(approved.items.all())
        for item in items:
            item.pk = None
            item.version = version
        CatalogueItem.objects.bulk_create(items)
    return version


@transaction.atomic
def catalogue_add_item(
    *,
    version: CatalogueVersion,
    actor: User,
    code: str,
    title: str,
    axis: int,
    expected_product: str,
    difficulty=Decimal("1"),
) -> CatalogueItem:
    if version.status != CatalogueVersion.Status.DRAFT:
        raise Conflict(_("Only a draft catalogue can be changed."))
    if not any(
        covers(actor, Role.ADVISORY, u) for u in Unit.objects.for_tenant(version.tenant)[:1]
    ):
        raise PermissionDenied(_("Only the personnel advisory body drafts the catalogue."))
    item = CatalogueItem(
        tenant_id=version.tenant_id,
        version=version,
        code=code,
        title=title,
        axis=axis,
        expected_product=expected_product,
        difficulty=_decimal(difficulty, "difficulty"),
    )
    item.full_clean()
    item.save()
    return item


def _catalogue_step(version, actor, role, source, target, message):
    with transaction.atomic():
        locked = CatalogueVersion.objects.select_for_update().get(pk=version.pk)
        if actor.tenant_id != locked.tenant_id or not any(
            covers(actor, role, u) for u in Unit.objects.for_tenant(locked.tenant_id)[:1]
        ):
            raise PermissionDenied(message)
        if locked.status != source:
            raise Conflict(
                _("The catalogue is “%(status)s”.") % {"status": locked.get_status_display()}
            )
        if target == CatalogueVersion.Status.APPROVED:
            CatalogueVersion.objects.filter(
                tenant_id=locked.tenant_id, status=CatalogueVersion.Status.APPROVED
            ).update(status=CatalogueVersion.Status.SUPERSEDED)
            locked.approved_by, locked.approved_at = actor, timezone.now()
        else:
            locked.submitted_by, locked.submitted_at = actor, timezone.now()
        locked.status = target
        locked.save()
    return locked


def catalogue_submit(*, version: CatalogueVersion, actor: User) -> CatalogueVersion:
    """The advisory body submits the draft catalogue to the managing authority."""
    if not version.items.exists():
        raise ValidationError({"items": _("Add at least one item to the catalogue.")})
    return _catalogue_step(
        version,
        actor,
        Role.ADVISORY,
        CatalogueVersion.Status.DRAFT,
        CatalogueVersion.Status.SUBMITTED,
        _("Only the personnel advisory body submits the catalogue."),
    )


def catalogue_approve(*, version: CatalogueVersion, actor: User) -> CatalogueVersion:
    """The managing authority approves the catalogue; the previous version is superseded."""
    return _catalogue_step(
        version,
        actor,
        Role.AUTHORITY,
        CatalogueVersion.Status.SUBMITTED,
        CatalogueVersion.Status.APPROVED,
        _("Only the managing authority approves the catalogue."),
    )


# ---------------------------------------------------------------------------------------------
# Suspension proposals [G §5.1]


@transaction.atomic
def suspension_propose(*, cadre: Cadre, actor: User, reason: str) -> SuspensionProposal:
    """A head proposes to the managing authority the suspension of a cadre they lead."""
    reason = _require_reason(reason)
    unit = scoring.current_unit(cadre)
    if (
        actor.tenant_id != cadre.tenant_id
        or cadre.user_id == actor.pk
        or unit is None
        or not covers(actor, Role.SUPERIOR, unit)
    ):
        raise PermissionDenied(_("Only the head of the cadre's unit may propose a suspension."))
    proposal = SuspensionProposal.objects.create(
        tenant_id=cadre.tenant_id, cadre=cadre, proposed_by=actor, reason=reason
    )
    notify(
        users=role_holders(Role.AUTHORITY, unit),
        kind="suspension",
        message=_("A suspension of %(cadre)s is proposed: %(reason)s")
        % {"cadre": cadre.full_name, "reason": reason},
    )
    return proposal


@transaction.atomic
def suspension_decide(
    *, proposal: SuspensionProposal, actor: User, accept: bool, reason: str
) -> SuspensionProposal:
    """The managing authority records its decision on a suspension proposal."""
    reason = _require_reason(reason)
    proposal = (
        SuspensionProposal.objects.select_for_update().select_related("cadre").get(pk=proposal.pk)
    )
    unit = scoring.current_unit(proposal.cadre)
    if (
        actor.tenant_id != proposal.tenant_id
        or unit is None
        or not covers(actor, Role.AUTHORITY, unit)
    ):
        raise PermissionDenied(_("Only the managing authority decides on a suspension."))
    if proposal.status != SuspensionProposal.Status.PENDING:
        raise Conflict(_("This proposal is already decided."))
    proposal.status = (
        SuspensionProposal.Status.ACCEPTED if accept else SuspensionProposal.Status.REJECTED
    )
    proposal.decided_by, proposal.decided_at = actor, timezone.now()
    proposal.decision_reason = reason
    proposal.save()
    return proposal


# ---------------------------------------------------------------------------------------------
# Opening a quarter


@dataclass
class OpeningSummary:
    created: int = 0
    deferred: int = 0
    carried_over: int = 0
    not_this_quarter: int = 0  # R18: graded half-yearly or yearly
    skipped: list = field(default_factory=list)  # (cadre, reason)


def _post_kind(kind: str) -> rules.PostKind:
    if kind == Position.Kind.COMMITTEE_MEMBER:
        return rules.PostKind.COMMITTEE_ONLY
    return rules.PostKind.LEADERSHIP


@dataclass(frozen=True, slots=True)
class _Spell:
    """One assignment of a cadre overlapping the quarter, as plain values."""

    unit_id: int
    kind: str
    collective_role: str
    start_date: date
    end_date: date | None


def period_open(*, period: Period, actor: User | None = None) -> OpeningSummary:
    """Open a quarter (see ``_period_open``); names and reasons are stored in the tenant's
    language whoever opens it, since every later reader sees them as stored."""
    with translation.override(settings.LANGUAGE_CODE):
        return _period_open(period=period, actor=actor)


@transaction.atomic
def _period_open(*, period: Period, actor: User | None = None) -> OpeningSummary:
    """Create one evaluation per cadre in scope, with bulk inserts; running it twice adds none.

    R18 leaves out cadres graded half-yearly or yearly in other quarters, R11 defers those
    with a ground to defer, R12 picks the unit that grades a cadre who moved, and the results
    of a deferred previous quarter carry into the new plan. The number of queries does not
    depend on the number of cadres (50,000 cadres open in well under a minute).
    """
    # Two openings of one quarter at once would both insert: the second waits here instead.
    period = Period.objects.select_for_update().select_related("tenant").get(pk=period.pk)
    tenant = period.tenant
    rule_set = rule_set_for(tenant, period.start_date)
    start, end = period.start_date, period.end_date
    summary = OpeningSummary()
    already_open = Evaluation.objects.filter(period=period).values("cadre_id")
    spells: dict[int, list[_Spell]] = defaultdict(list)
    modes: dict[int, str] = {}
    # Plain values, not model instances: at 50,000 cadres building objects costs seconds.
    for cadre_id, mode, *spell in (
        assignments_between(start, end, tenant_id=tenant.pk)
        .filter(cadre__is_active=True)
        .exclude(cadre_id__in=already_open)
        .order_by("cadre_id", "start_date")
        .values_list(
            "cadre_id",
            "cadre__evaluation_mode",
            "position__unit_id",
            "position__kind",
            "position__collective_role",
            "start_date",
            "end_date",
        )
    ):
        spells[cadre_id].append(_Spell(*spell))
        modes[cadre_id] = mode
    if not spells:
        _mark_opened(period)
        return summary
    # Whole-tenant reads rather than IN lists of every cadre id: one index scan each.
    earliest_leadership = dict(
        Assignment.objects.filter(tenant=tenant, position__kind=Position.Kind.LEADERSHIP)
        .values_list("cadre_id")
        .annotate(first=Min("start_date"))
        .order_by()
    )
    absences: dict[int, list] = defaultdict(list)
    for cadre_id, kind, absent_from, absent_to in Absence.objects.filter(
        tenant=tenant,
        start_date__lte=end,
        end_date__gte=start,
        kind__in=rules.AbsenceKind.values,
    ).values_list("cadre_id", "kind", "start_date", "end_date"):
        absences[cadre_id].append(rules.Absence(rules.AbsenceKind(kind), absent_from, absent_to))
    previous = _previous_deferred(period)
    graded_here: dict[tuple[str, str], bool] = {}  # R18 depends only on the post and the mode

    new_rows, deferrals, carried, skipped = [], {}, {}, {}
    for cadre_id, cadre_spells in spells.items():
        at_end = [a for a in cadre_spells if a.end_date is None or a.end_date >= end]
        kind = _post_kind(at_end[0].kind) if at_end else rules.PostKind.LEADERSHIP
        key = (kind, modes[cadre_id])
        if key not in graded_here:
            mode = rules.evaluation_mode(kind, rules.EvaluationMode(modes[cadre_id])).value
            graded_here[key] = rules.graded_this_quarter(mode, period.quarter).value
        if not graded_here[key]:
            summary.not_this_quarter += 1
            continue
        try:
            grading = rules.grading_unit(
                [rules.Assignment(a.unit_id, a.start_date, a.end_date) for a in cadre_spells],
                start,
                end,
                rule_set,
            )
        except rules.RuleInputError as exc:
            skipped[cadre_id] = exc.message
            continue
        post = next(a for a in at_end if a.unit_id == grading.unit)
        first = earliest_leadership.get(cadre_id)
        appointments = (
            [rules.Appointment(appointed_on=first, first_leadership_post=True)]
            if first is not None and start <= first <= end
            else []
        )
        ruling = rules.deferral(absences.get(cadre_id, ()), appointments, start, end, rule_set)
        row = {
            "tenant_id": tenant.pk,
            "period_id": period.pk,
            "cadre_id": cadre_id,
            "unit_id": grading.unit,
            "collective_role": post.collective_role,
            "state": EvaluationState.PLANNING,
            "carried_over_from_id": previous.get(cadre_id),
        }
        if ruling.deferred:
            row["state"] = EvaluationState.DEFERRED
            row["deferral_case"] = ruling.reasons[0].rule
            row["deferral_reason"] = " ".join(r.message for r in ruling.reasons)[:500]
            deferrals[cadre_id] = row["deferral_reason"]
        if cadre_id in previous:
            carried[cadre_id] = previous[cadre_id]
        new_rows.append(row)

    groups = _quota_groups(period, {row["unit_id"] for row in new_rows}, rule_set)
    for row in new_rows:
        row["quota_group_id"] = groups[row["unit_id"]].pk
    ids = _insert_evaluations(period, new_rows)
    criteria = [
        (criterion.code, str(criterion.name), criterion.max_points, order)
        for order, criterion in enumerate(rule_set.general_criteria)
    ]
    _insert_criterion_scores(
        tenant.pk, [(ids[row["cadre_id"]], *c) for row in new_rows for c in criteria]
    )
    TransitionLog.objects.bulk_create(
        [
            TransitionLog(
                tenant=tenant,
                evaluation_id=ids[cadre_id],
                actor=actor,
                role="system",
                action=Action.DEFER,
                from_state=EvaluationState.PLANNING,
                to_state=EvaluationState.DEFERRED,
                reason=reason,
            )
            for cadre_id, reason in deferrals.items()
        ],
        batch_size=5000,
    )
    _carry_over_tasks([(ids[cadre_id], source) for cadre_id, source in carried.items()])
    if skipped:
        cadres = Cadre.objects.in_bulk(list(skipped))
        summary.skipped = [(cadres[pk], reason) for pk, reason in skipped.items()]
    summary.created = len(new_rows)
    summary.deferred = len(deferrals)
    summary.carried_over = len(carried)
    _mark_opened(period)
    return summary


def _mark_opened(period: Period) -> None:
    if period.opened_at is None:
        period.opened_at = timezone.now()
        Period.objects.filter(pk=period.pk).update(opened_at=period.opened_at)


def _insert_evaluations(period: Period, rows: list[dict]) -> dict[int, int]:
    """Insert the new evaluations, given as column values; returns cadre id → evaluation id.

    Columns not given take the model's defaults, prepared once; on PostgreSQL the rows go
    through COPY, which at 50,000 cadres is several times faster than INSERT.
    """
    from django.db import connection

    if not rows:
        return {}
    if connection.vendor != "postgresql":
        created = Evaluation.objects.bulk_create([Evaluation(**row) for row in rows], 2000)
        return {e.cadre_id: e.pk for e in created}
    fields = [f for f in Evaluation._meta.concrete_fields if not f.primary_key]
    now = timezone.now()

    def default(f):
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            return now
        return f.get_default()

    defaults = {f.attname: f.get_db_prep_save(default(f), connection) for f in fields}
    given = set().union(*rows)
    prepare = [(f.attname, f.get_db_prep_save) for f in fields if f.attname in given]
    quote = connection.ops.quote_name
    statement = "COPY {table} ({columns}) FROM STDIN".format(
        table=quote(Evaluation._meta.db_table),
        columns=", ".join(quote(f.column) for f in fields),
    )
    with connection.cursor() as cursor:
        with cursor.cursor.copy(statement) as copy:
            for row in rows:
                values = dict(defaults)
                values.update(
                    (name, prep(row[name], connection)) for name, prep in prepare if name in row
                )
                copy.write_row([values[f.attname] for f in fields])
    return dict(
        Evaluation.objects.filter(
            period=period, is_current=True, cadre_id__in=[row["cadre_id"] for row in rows]
        ).values_list("cadre_id", "pk")
    )


def _insert_criterion_scores(tenant_id: int, rows: list[tuple]) -> None:
    """Part A of Form 5 for each new evaluation: (evaluation id, code, name, max, order).

    Four rows per cadre are the bulk of opening a quarter; PostgreSQL's COPY writes them
    several times faster than INSERT.
    """
    from django.db import connection

    if connection.vendor != "postgresql":
        CriterionScore.objects.bulk_create(
            [
                CriterionScore(
                    tenant_id=tenant_id,
                    evaluation_id=evaluation_id,
                    code=code,
                    name=name,
                    max_points=max_points,
                    order=order,
                )
                for evaluation_id, code, name, max_points, order in rows
            ],
            batch_size=5000,
        )
        return
    quote = connection.ops.quote_name
    columns = ("tenant_id", "evaluation_id", "code", "name", "max_points", "order")
    statement = "COPY {table} ({columns}) FROM STDIN".format(
        table=quote(CriterionScore._meta.db_table), columns=", ".join(map(quote, columns))
    )
    with connection.cursor() as cursor:
        with cursor.cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row((tenant_id, *row))


def _previous_deferred(period: Period) -> dict[int, int]:
    """Cadre id → their deferred evaluation of the previous quarter (R11 carry-over)."""
    year, quarter = (
        (period.year, period.quarter - 1) if period.quarter > 1 else (period.year - 1, 4)
    )
    return dict(
        Evaluation.objects.filter(
            tenant_id=period.tenant_id,
            period__year=year,
            period__quarter=quarter,
            is_current=True,
            state=EvaluationState.DEFERRED,
        ).values_list("cadre_id", "pk")
    )


def _quota_groups(period: Period, unit_ids, rule_set) -> dict[int, QuotaGroup]:
    QuotaGroup.objects.bulk_create(
        [
            QuotaGroup(
                tenant_id=period.tenant_id,
                period=period,
                unit_id=unit_id,
                percent=rule_set.excellent_quota_percent,
            )
            for unit_id in unit_ids
        ],
        ignore_conflicts=True,
    )
    return {g.unit_id: g for g in QuotaGroup.objects.filter(period=period, unit_id__in=unit_ids)}


def _carry_over_tasks(pairs: list[tuple[int, int]]) -> None:
    """Copy the unfinished tasks of each deferred quarter into the new quarter's plan.

    ``pairs`` holds (new evaluation id, deferred evaluation id).
    """
    if not pairs:
        return
    sources = defaultdict(list)
    for task in Task.objects.filter(evaluation_id__in=[source for _new, source in pairs]).exclude(
        status=Task.Status.DONE
    ):
        sources[task.evaluation_id].append(task)
    copies = []
    for evaluation_id, source in pairs:
        for task in sources[source]:
            copies.append(
                Task(
                    tenant_id=task.tenant_id,
                    evaluation_id=evaluation_id,
                    order=task.order,
                    objective=task.objective,
                    title=task.title,
                    expected_product=task.expected_product,
                    axis=task.axis,
                    weight=task.weight,
                    primary_responsible_id=task.primary_responsible_id,
                    responsibility=task.responsibility,
                    accepting_authority=task.accepting_authority,
                    catalogue_item_id=task.catalogue_item_id,
                    difficulty=task.difficulty,
                    carried_over_from=task,
                )
            )
    Task.objects.bulk_create(copies, batch_size=5000)
