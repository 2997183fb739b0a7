"""Stored evaluations turned into the rules module's inputs, and its answers stored back.

The rules (``evaluation.rules``) know nothing of the database; this module is the one place
that reads tasks, criteria, collectives and quota groups into the rules' dataclasses.
"""

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext as _

from cadres.models import Cadre, Position, Unit
from cadres.selectors import assignments_on
from config.compiled_query import CompiledQuery, attnames, instances
from evaluation import rules
from evaluation.models import (
    Collective,
    Evaluation,
    EvaluationState,
    QuotaGroup,
    Task,
)
from evaluation.selectors import GroupMember, group_members, rule_set_for


class Stage(enum.Enum):
    SELF = "self"  # the cadre's own figures (step 2)
    VETTED = "vetted"  # the advisory body's figures (step 3 onwards)


def rule_set_of(evaluation: Evaluation) -> rules.RuleSet:
    """The rule set in force at the start of the evaluation's quarter."""
    return rule_set_for(evaluation.tenant, evaluation.period.start_date)


def clean_axis_roles(axis_roles: dict) -> dict:
    """Axis roles as stored: {"1": "primary", …}; anything else is a field error."""
    from django.core.exceptions import ValidationError

    cleaned = {}
    for axis, role in (axis_roles or {}).items():
        if str(axis) not in {str(a) for a in rules.AXES} or role not in rules.AxisRole.values:
            raise ValidationError(
                {"axis_roles": _("Mark axes 1 to 6 as primary or secondary only.")}
            )
        cleaned[str(axis)] = role
    return cleaned


def _axis_roles(evaluation: Evaluation) -> dict[int, rules.AxisRole]:
    return {int(a): rules.AxisRole(r) for a, r in (evaluation.axis_roles or {}).items()}


def _plan_task(task: Task, number: int) -> rules.Task:
    return rules.Task(
        id=number,
        weight=task.weight or Decimal(0),
        axis=task.axis,
        difficulty=task.difficulty,
    )


def plan_reasons(evaluation: Evaluation, tasks: list[Task]) -> list[rules.Reason]:
    """R2 problems of the plan (an empty list when the weights and axes are right)."""
    if not tasks:
        return []
    return rules.validate_plan(
        [_plan_task(t, n) for n, t in enumerate(tasks, start=1)],
        _axis_roles(evaluation),
        rule_set_of(evaluation),
        quarter_start=evaluation.period.start_date,
    )


def _result_task(task: Task, number: int, stage: Stage) -> rules.Task:
    if stage is Stage.SELF:
        done = task.status == Task.Status.DONE
        late = bool(
            done and task.completed_on and task.deadline and task.completed_on > task.deadline
        )
        level = task.self_quality_level or (1 if done else None)
        excused = task.status == Task.Status.FORCE_MAJEURE
        reason = task.force_majeure_reason or _("claimed by the cadre")
    else:
        done = task.progress in (Task.Progress.ON_TIME, Task.Progress.LATE)
        late = task.progress == Task.Progress.LATE
        level = task.quality_level or (1 if done else None)
        excused = not done and task.force_majeure_decision == Task.ForceMajeure.CONFIRMED
        reason = task.force_majeure_decision_reason
    return rules.Task(
        id=number,
        weight=task.weight,
        axis=task.axis,
        done=done,
        late=late,
        exceeded=bool(done and task.exceeded),
        quality_level=level,
        excused=excused,
        excuse_reason=reason if excused else "",
        difficulty=task.difficulty,
    )


def _general_points(evaluation: Evaluation, stage: Stage, rule_set) -> dict[str, Decimal]:
    column = "self_points" if stage is Stage.SELF else "vetted_points"
    stored = {c.code: getattr(c, column) for c in evaluation.criterion_scores.all()}
    if stage is Stage.VETTED:
        # Criteria the vetting left untouched keep the cadre's own points.
        selfs = {c.code: c.self_points for c in evaluation.criterion_scores.all()}
        stored = {code: (v if v is not None else selfs.get(code)) for code, v in stored.items()}
    return {c.code: stored.get(c.code) or Decimal(0) for c in rule_set.general_criteria}


@dataclass(frozen=True)
class Assessment:
    """The rules' grade for an evaluation at a stage, with warnings to show before submitting."""

    score: Decimal
    grade: str
    reasons: tuple[rules.Reason, ...]
    warnings: tuple[rules.Reason, ...]
    result: rules.GradeResult
    # The same grading again, in whatever language is active when it is called (``store``).
    regrade: Callable[[], rules.GradeResult] = field(repr=False, compare=False)


def stored_reasons(
    reasons: Sequence[rules.Reason], recompute: Callable[[], Sequence[rules.Reason]]
) -> list[dict]:
    """Reasons as a record keeps them: the sentence in the tenant's language (``message``, what
    exports and the published dossier read) and in each language of the screens
    (``messages``), so that everyone who opens the record reads their own language rather than
    the language of whoever caused the computation. ``recompute`` gives the same reasons again
    in the active language; the rules name the same steps in every language."""
    active = translation.get_language()
    by_language = {}
    for code, _name in settings.LANGUAGES:
        if code == active:
            by_language[code] = list(reasons)
        else:
            with translation.override(code):
                by_language[code] = list(recompute())
    record = by_language.get(settings.LANGUAGE_CODE, list(reasons))
    if any(len(said) != len(record) for said in by_language.values()):  # never expected
        return [reason.as_dict() for reason in record]
    return [
        {
            "rule": reason.rule,
            "message": reason.message,
            "messages": {code: said[number].message for code, said in by_language.items()},
        }
        for number, reason in enumerate(record)
    ]


def stored_message(reason: dict, language: str | None = None) -> str:
    """A stored reason's sentence in the reader's language (``language``, else the active one)
    when the record has it (see ``stored_reasons``), else the one it was stored with."""
    in_every_language = reason.get("messages") or {}
    return in_every_language.get(language or translation.get_language()) or reason.get(
        "message", ""
    )


def collective_of(evaluation: Evaluation) -> Collective | None:
    """The collective of the evaluation's unit for the quarter, if one was set up.

    Its targets are read only when needed: a collective counts for its members once graded
    (R8), and until then each autosave of the quarter-end surge would read them for nothing.
    """
    if evaluation.collective_role == Position.CollectiveRole.NONE:
        return None
    # One collective a unit and quarter (a unique constraint).
    for row in _COLLECTIVE.rows(period_id=evaluation.period_id, unit_id=evaluation.unit_id):
        return instances(row, Collective)[0]
    return None


# Read by every autosave of a cadre in a collective (config/compiled_query.py says why).
_COLLECTIVE = CompiledQuery(
    lambda period_id, unit_id: Collective.objects.filter(
        period_id=period_id, unit_id=unit_id
    ).values_list(*attnames(Collective))
)


def collective_result(collective: Collective, targets=None) -> rules.CollectiveResult:
    targets = targets if targets is not None else list(collective.targets.all())
    return rules.collective_completion(
        [
            rules.CollectiveTarget(
                id=t.pk,
                done=t.status == t.Status.DONE,
                excused=t.force_majeure_confirmed and t.status != t.Status.DONE,
                excuse_reason=t.force_majeure_reason,
            )
            for t in targets
        ],
        rule_set_for(collective.tenant, collective.period.start_date),
    )


_LOOK_UP = object()


def assess(evaluation: Evaluation, *, stage: Stage, collective=_LOOK_UP) -> Assessment:
    """Score and grade the evaluation with the rules in force (R1–R8).

    ``collective`` is the unit's collective when the caller has it already (the completion job
    reads it once per unit); it only counts for members that belong to it.
    """
    rule_set = rule_set_of(evaluation)
    tasks = list(evaluation.tasks.all())
    if not tasks:
        raise rules.RuleInputError("tasks", _("The plan has no tasks (R2)"))
    if collective is _LOOK_UP or evaluation.collective_role == Position.CollectiveRole.NONE:
        collective = collective_of(evaluation)
    graded = collective is not None and collective.graded_at is not None
    targets = list(collective.targets.all()) if graded else []
    points = _general_points(evaluation, stage, rule_set)
    task_inputs = [_result_task(t, n, stage) for n, t in enumerate(tasks, start=1)]

    def grade() -> rules.GradeResult:
        collective_input = {}
        if graded:
            collective_input = {
                "role": rules.CollectiveRole(evaluation.collective_role),
                "collective": collective_result(collective, targets),
            }
        return rules.compute_grade(
            rules.AssessmentInput(
                general_points=points,
                tasks=task_inputs,
                reprimand_or_above=bool(evaluation.discipline_note),
                **collective_input,
            ),
            rule_set,
        )

    result = grade()
    warnings = [r for r in result.reasons if r.rule == "R7" and result.grade == "not_completed"]
    if stage is Stage.SELF and any(t.status == Task.Status.FORCE_MAJEURE for t in tasks):
        warnings.append(
            rules.Reason(
                "R7",
                _(
                    "Force majeure counts only once the authority confirms it with a reason; "
                    "until then the task may count as not done (R7)"
                ),
            )
        )
    return Assessment(
        score=result.score.total,
        grade=result.grade.value,
        reasons=result.reasons,
        warnings=tuple(warnings),
        result=result,
        regrade=grade,
    )


def store(evaluation: Evaluation, assessment: Assessment) -> None:
    """Keep the latest computed score, grade and reasons on the evaluation."""
    evaluation.computed_score = assessment.score
    evaluation.computed_grade = assessment.grade
    evaluation.computed_reasons = stored_reasons(
        assessment.reasons, lambda: assessment.regrade().reasons
    )


def self_assessment_problems(evaluation: Evaluation) -> list[str]:
    """What the cadre must still fill in before submitting Form 5."""
    problems = []
    for number, task in enumerate(evaluation.tasks.all(), start=1):
        if task.status == Task.Status.PENDING:
            problems.append(_("Report the result of task %(n)s.") % {"n": number})
        elif task.status == Task.Status.DONE and task.completed_on is None:
            problems.append(_("Give the completion date of task %(n)s.") % {"n": number})
        elif task.status == Task.Status.FORCE_MAJEURE and not task.force_majeure_reason.strip():
            problems.append(_("Give the force majeure reason of task %(n)s.") % {"n": number})
    for criterion in evaluation.criterion_scores.all():
        if criterion.self_points is None:
            problems.append(_("Score the criterion “%(name)s”.") % {"name": criterion.name})
    return problems


def vetting_problems(evaluation: Evaluation) -> list[str]:
    """What the advisory body must still give before the vetting is complete."""
    problems = []
    for number, task in enumerate(evaluation.tasks.all(), start=1):
        if not task.progress:
            problems.append(_("Give the progress of task %(n)s.") % {"n": number})
        elif task.progress != Task.Progress.NOT_DONE and task.quality_level is None:
            problems.append(_("Give the quality level of task %(n)s.") % {"n": number})
        if task.status == Task.Status.FORCE_MAJEURE and not task.force_majeure_decision:
            problems.append(
                _("Confirm or refuse the force majeure claimed for task %(n)s.") % {"n": number}
            )
    return problems


# --- Quota (R9) ----------------------------------------------------------------------------


def outside_quota(evaluation: Evaluation) -> bool:
    """The head is outside the members' quota (R9)."""
    return evaluation.collective_role == Position.CollectiveRole.HEAD


def best_known_grade(evaluation: Evaluation) -> str:
    return (
        evaluation.decided_grade
        or evaluation.proposed_grade
        or evaluation.vetted_grade
        or evaluation.computed_grade
    )


@dataclass(frozen=True)
class QuotaPicture:
    """R9 for one group now: how many may be Excellent, how many are, who ranks where."""

    percent: int
    allowed: int
    decided_excellent: int
    proposed_excellent: int
    good: int
    ranking: list[dict]
    allocation: rules.Allocation


def quota_picture(
    group: QuotaGroup, *, deciding: Evaluation | None = None, members=None
) -> QuotaPicture:
    """The group's Excellent candidates ranked, and the largest number the quota allows.

    One query of the columns it reads, whatever the size of the group, or none when the
    decision board has read ``members`` already (``selectors.group_members``). ``deciding`` is
    the evaluation being decided: its grades as they are in memory replace its stored ones.
    """
    members = [
        member
        for member in (group_members(group) if members is None else members)
        if member.state != EvaluationState.DEFERRED and not outside_quota(member)
    ]
    if deciding is not None:
        members = [_as_decided(deciding, m) if m.pk == deciding.pk else m for m in members]
    candidates, others_good, decided_excellent = [], 0, 0
    for member in members:
        grade = best_known_grade(member)
        if grade == rules.Grade.EXCELLENT:
            candidates.append(member)
            if member.decided_grade == rules.Grade.EXCELLENT and (
                deciding is None or member.pk != deciding.pk
            ):
                decided_excellent += 1
        elif grade == rules.Grade.GOOD:
            others_good += 1
    allocation = rules.allocate_excellent(
        [
            rules.QuotaCandidate(id=m.pk, score=m.vetted_score or m.computed_score or Decimal(0))
            for m in candidates
        ],
        others_good,
        group.percent,
    )
    by_id = {m.pk: m for m in candidates}
    order = list(allocation.allowed) + list(allocation.demoted)
    ranking = [
        {
            "evaluation": pk,
            "cadre": by_id[pk].full_name,
            "score": str(by_id[pk].vetted_score or by_id[pk].computed_score or ""),
            "within_quota": pk in allocation.allowed,
            "label": f"{by_id[pk].full_name} ({by_id[pk].vetted_score})",
        }
        for pk in order
    ]
    return QuotaPicture(
        percent=group.percent,
        allowed=len(allocation.allowed),
        decided_excellent=decided_excellent,
        proposed_excellent=len(candidates),
        good=allocation.good_count,
        ranking=ranking,
        allocation=allocation,
    )


def _as_decided(deciding: Evaluation, stored: GroupMember) -> GroupMember:
    """The member being decided, with the grades and scores it has in memory."""
    return GroupMember(
        deciding.pk,
        stored.state,
        stored.collective_role,
        deciding.decided_grade,
        deciding.proposed_grade,
        deciding.vetted_grade,
        deciding.computed_grade,
        deciding.vetted_score,
        deciding.computed_score,
        stored.full_name,
    )


# --- Organisation facts --------------------------------------------------------------------


def head_of(unit: Unit, period) -> Cadre | None:
    """The head of the unit's collective at the end of the quarter."""
    assignment = (
        assignments_on(period.end_date, tenant_id=unit.tenant_id)
        .filter(position__unit=unit, position__collective_role=Position.CollectiveRole.HEAD)
        .select_related("cadre")
        .first()
    )
    return assignment.cadre if assignment else None


def current_unit(cadre: Cadre, on=None) -> Unit | None:
    from django.utils import timezone

    assignment = (
        assignments_on(on or timezone.localdate(), tenant_id=cadre.tenant_id)
        .filter(cadre=cadre)
        .select_related("position__unit")
        .order_by("-start_date")
        .first()
    )
    return assignment.position.unit if assignment else None


def dossier_snapshot(evaluation: Evaluation) -> dict:
    """Everything of one quarter's evaluation, frozen for the archive and the published record."""

    def s(value):
        return None if value is None else str(value)

    return {
        "cadre": {
            "id": evaluation.cadre_id,
            "full_name": evaluation.cadre.full_name,
            "code": evaluation.cadre.code,
        },
        "period": {"year": evaluation.period.year, "quarter": evaluation.period.quarter},
        "unit": {"id": evaluation.unit_id, "name": evaluation.unit.name},
        "revision": evaluation.revision,
        "axis_roles": evaluation.axis_roles,
        "tasks": [
            {
                "title": t.title,
                "objective": t.objective,
                "expected_product": t.expected_product,
                "axis": t.axis,
                "weight": s(t.weight),
                "deadline": s(t.deadline),
                "status": t.status,
                "completed_on": s(t.completed_on),
                "exceeded": t.exceeded,
                "progress": t.progress,
                "quality_level": t.quality_level,
                "force_majeure": t.force_majeure_decision,
                "force_majeure_reason": t.force_majeure_decision_reason,
            }
            for t in evaluation.tasks.all()
        ],
        "criteria": [
            {
                "code": c.code,
                "name": c.name,
                "max": s(c.max_points),
                "self": s(c.self_points),
                "vetted": s(c.vetted_points),
            }
            for c in evaluation.criterion_scores.all()
        ],
        "self_score": s(evaluation.self_score),
        "self_grade": evaluation.self_grade,
        "vetted_score": s(evaluation.vetted_score),
        "vetted_grade": evaluation.vetted_grade,
        "proposed_grade": evaluation.proposed_grade,
        "decided_grade": evaluation.decided_grade,
        "reasons": evaluation.computed_reasons,
        "comments": {
            "self": evaluation.self_comment,
            "vetting": evaluation.vetting_comment,
            "proposal": evaluation.proposal_comment,
            "decision": evaluation.decision_comment,
        },
        "reassignment_flag": evaluation.reassignment_flag,
    }


def evaluations_in_quota(group: QuotaGroup):
    return Evaluation.objects.filter(quota_group=group, is_current=True).filter(
        ~Q(state=EvaluationState.DEFERRED)
    )
