"""The evaluation rules R1–R19 (docs/rules.md) as plain functions over small frozen dataclasses.

No ORM, no request and no clock: every date is an argument, so a past quarter recomputes exactly
with the rule set that was in force then. Each rule returns its value together with the reasons
(a rule id and a translatable sentence a cadre can read). Input that no rule can decide on raises
RuleInputError naming the field, never a wrong grade.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Generic, TypeVar

from django.db.models import TextChoices
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

T = TypeVar("T")
Key = int | str  # an id chosen by the caller: a primary key, a code or a name

AXES = range(1, 7)
GENERAL_MAX = Decimal(30)
RESULTS_MAX = Decimal(70)
SCORE_MAX = GENERAL_MAX + RESULTS_MAX
ONE_DECIMAL = Decimal("0.1")


# --- Vocabulary -------------------------------------------------------------------------------


class Grade(TextChoices):
    """Xếp loại — the four grades (R4), best first; compare them by `rank`, not by value."""

    EXCELLENT = "excellent", gettext_lazy("Excellent")
    GOOD = "good", gettext_lazy("Good")
    COMPLETED = "completed", gettext_lazy("Completed")
    NOT_COMPLETED = "not_completed", gettext_lazy("Not completed")

    @property
    def rank(self) -> int:
        """4 for Excellent down to 1 for Not completed."""
        return _GRADE_RANK[self]

    def is_higher_than(self, other: Grade) -> bool:
        """Whether this grade is better than `other`."""
        return self.rank > Grade(other).rank


_GRADE_RANK = {grade: len(Grade) - index for index, grade in enumerate(Grade)}


class AxisRole(TextChoices):
    """Vai trò của trục kết quả — how a cadre marks a result axis (R2)."""

    PRIMARY = "primary", gettext_lazy("Primary")
    SECONDARY = "secondary", gettext_lazy("Secondary")


class CollectiveRole(TextChoices):
    """A cadre's place in a collective's leadership body (R8)."""

    HEAD = "head", gettext_lazy("Head")
    DEPUTY = "deputy", gettext_lazy("Deputy")
    MEMBER = "member", gettext_lazy("Member")


class AbsenceKind(TextChoices):
    """A period that can defer a quarter (R11 a, c, d)."""

    TRAINING = "training", gettext_lazy("Full-time training")
    SICK_LEAVE = "sick_leave", gettext_lazy("Sick leave")
    MATERNITY_LEAVE = "maternity_leave", gettext_lazy("Maternity leave")
    INSPECTION = "inspection", gettext_lazy("Under inspection for signs of a violation")


class PostKind(TextChoices):
    """Whether a post carries professional duties (R18)."""

    LEADERSHIP = "leadership", gettext_lazy("Leadership or management post")
    COMMITTEE_ONLY = "committee_only", gettext_lazy("Committee member without professional duties")


class EvaluationMode(TextChoices):
    """How often a cadre is graded (R18)."""

    QUARTERLY = "quarterly", gettext_lazy("Quarterly")
    HALF_YEARLY = "half_yearly", gettext_lazy("Half-yearly")
    YEARLY = "yearly", gettext_lazy("Yearly")


@dataclass(frozen=True, slots=True)
class Reason:
    """One step of a decision: the rule id and a sentence in the language active when made."""

    rule: str
    message: str

    def as_dict(self) -> dict[str, str]:
        """A JSON-safe copy for storage."""
        return {"rule": self.rule, "message": self.message}


@dataclass(frozen=True)  # no slots: they break subscripted construction, Ruling[bool](...)
class Ruling(Generic[T]):
    """A rule's value with the reasons for it."""

    value: T
    reasons: tuple[Reason, ...]


class RuleInputError(ValueError):
    """Input that no rule can decide on; `field` names the offending input."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class RuleSetError(RuleInputError):
    """A rule set that breaks its own invariants."""


# --- Helpers ----------------------------------------------------------------------------------


def _text(message: str, **values: Any) -> str:
    """Fill a translated message, writing decimals and dates the active language's way."""
    separator = None
    for key, value in values.items():
        if isinstance(value, Decimal):
            # Scores, weights and counts need no grouping, only the decimal comma in Vietnamese;
            # this costs a third of number_format, which matters when grading a whole tenant.
            if separator is None:
                separator = formats.get_format("DECIMAL_SEPARATOR")
            values[key] = str(value).replace(".", separator)
        elif isinstance(value, date):
            values[key] = formats.date_format(value, "SHORT_DATE_FORMAT")
    return message % values


def _say(rule: str, message: str, **values: Any) -> Reason:
    """A reason for `rule` from a translated message and its values."""
    return Reason(rule, _text(message, **values))


def _check_whole(
    value: Any, field: str, low: int, high: int | None, error: type = RuleInputError
) -> None:
    # bool is an int in Python, so test the exact type before the range.
    if type(value) is not int or value < low or (high is not None and value > high):
        if high is None:
            message = _text(_("must be a whole number of at least %(low)s"), low=low)
        else:
            message = _text(
                _("must be a whole number from %(low)s to %(high)s"), low=low, high=high
            )
        raise error(field, message)


def _check_grade(value: Any, field: str, *, deferred_ok: bool = True) -> None:
    """Accept a Grade, its stored string or, where allowed, None for a deferred quarter."""
    if (value is not None or not deferred_ok) and value not in Grade.values:
        raise RuleInputError(field, _text(_("unknown grade %(value)s"), value=repr(value)))


def _percent(part: int, whole: int) -> Decimal:
    """part / whole as a percent to 0.1, without the decimal when whole (65, 66.7)."""
    value = round_half_up(Decimal(100 * part) / whole)
    return value.to_integral_value() if value == value.to_integral_value() else value


def round_half_up(value: Decimal) -> Decimal:
    """Round half up to one decimal, the precision of every score (R3)."""
    return value.quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


# --- Rule set ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Criterion:
    """A general criterion of part A of Form 5 and its maximum points (R1)."""

    code: str
    name: str  # the default set uses lazy translations; a tenant's own names are plain text
    max_points: Decimal


DEFAULT_GENERAL_CRITERIA = (
    Criterion("political_ideology", gettext_lazy("Political ideology"), Decimal(8)),
    Criterion("ethics_lifestyle", gettext_lazy("Ethics and lifestyle"), Decimal(8)),
    Criterion("discipline_working_style", gettext_lazy("Discipline and working style"), Decimal(7)),
    Criterion("unity_exemplary_conduct", gettext_lazy("Unity and exemplary conduct"), Decimal(7)),
)


@dataclass(frozen=True, slots=True)
class RuleSet:
    """Bộ quy tắc — a tenant's versioned parameters of R1–R19, validated when built."""

    version: str
    effective_from: date
    # R9: the standard quota, and the raised one an authority may grant an outstanding body.
    excellent_quota_percent: int = 20
    raised_quota_percent: int = 25
    # R5: score floors and the conditions on shares of tasks.
    excellent_floor: Decimal = Decimal(90)
    good_floor: Decimal = Decimal(70)
    completed_floor: Decimal = Decimal(50)
    excellent_exceeded_percent: int = 30
    completed_late_percent: int = 20
    # R3: factors for quality levels 1, 2, 3 and for a late task.
    quality_factors: tuple[Decimal, Decimal, Decimal] = (Decimal(1), Decimal("0.75"), Decimal(0))
    late_factor: Decimal = Decimal("0.75")
    weight_by_difficulty: bool = False
    level_three_not_completed: bool = True  # R7
    forced_not_completed_in_quarter: bool = True  # R6: not only at year end
    collective_threshold_percent: int = 70  # R8
    general_criteria: tuple[Criterion, ...] = DEFAULT_GENERAL_CRITERIA  # R1
    grade_q4_separately: bool = True  # R13
    report_before_day: int = 5  # R16: reports arrive before this day of the next quarter
    long_absence_months: int = 2  # R11 a, c
    first_appointment_months: int = 1  # R11 b
    combine_sick_and_maternity: bool = True  # R11 c
    previous_unit_months: int = 2  # R12
    axis_scoring_from: date = date(2026, 4, 1)  # R2: axes apply from Q2/2026
    year_end_share_percent: int = 50  # R19: share of graded quarters that must reach a grade

    def __post_init__(self) -> None:
        _check_rule_set(self)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe copy: dates as ISO strings, decimals as strings."""
        return {f.name: _to_json(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RuleSet:
        """Rebuild from to_dict(); a missing key takes the default, an unknown key is refused."""
        readers = {f.name: _FROM_JSON[f.type] for f in fields(cls)}
        values = {}
        for name, raw in data.items():
            if name not in readers:
                raise RuleSetError(name, _("unknown rule set parameter"))
            try:
                values[name] = readers[name](raw)
            except (TypeError, ValueError, KeyError, InvalidOperation) as exc:
                message = _text(_("cannot read the value %(value)s"), value=repr(raw))
                raise RuleSetError(name, message) from exc
        for name in ("version", "effective_from"):
            if name not in values:
                raise RuleSetError(name, _("this parameter is required"))
        return cls(**values)


def _check_rule_set(rules: RuleSet) -> None:
    # Messages are built only on failure: the default set is built at import, possibly before
    # the translation machinery is ready.
    if not rules.version.strip():
        raise RuleSetError("version", _("the version must not be empty"))
    for name in (
        "excellent_quota_percent",
        "raised_quota_percent",
        "excellent_exceeded_percent",
        "completed_late_percent",
        "collective_threshold_percent",
        "year_end_share_percent",
    ):
        _check_whole(getattr(rules, name), name, 0, 100, error=RuleSetError)
    if rules.raised_quota_percent < rules.excellent_quota_percent:
        raise RuleSetError(
            "raised_quota_percent", _("the raised quota must not be below the standard quota")
        )
    if not 0 < rules.completed_floor < rules.good_floor < rules.excellent_floor <= SCORE_MAX:
        raise RuleSetError(
            "excellent_floor", _("the floors must rise: 0 < Completed < Good < Excellent ≤ 100")
        )
    factors = rules.quality_factors
    if not (len(factors) == 3 and 1 >= factors[0] >= factors[1] >= factors[2] >= 0):
        raise RuleSetError(
            "quality_factors",
            _("give three factors from 1 down to 0, for quality levels 1, 2 and 3"),
        )
    if not 0 <= rules.late_factor <= 1:
        raise RuleSetError("late_factor", _("the late factor must be from 0 to 1"))
    codes = [criterion.code for criterion in rules.general_criteria]
    if not codes or len(set(codes)) != len(codes):
        raise RuleSetError(
            "general_criteria", _("give at least one criterion, each with its own code")
        )
    if any(criterion.max_points <= 0 for criterion in rules.general_criteria):
        raise RuleSetError("general_criteria", _("every criterion needs a maximum above 0"))
    criteria_total = sum(criterion.max_points for criterion in rules.general_criteria)
    if criteria_total != GENERAL_MAX:
        message = _text(_("the criteria maxima sum to %(total)s, not 30"), total=criteria_total)
        raise RuleSetError("general_criteria", message)
    _check_whole(rules.report_before_day, "report_before_day", 2, 28, error=RuleSetError)
    for name in ("long_absence_months", "first_appointment_months", "previous_unit_months"):
        _check_whole(getattr(rules, name), name, 1, 3, error=RuleSetError)


def _to_json(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Criterion):
        return {"code": value.code, "name": str(value.name), "max_points": str(value.max_points)}
    if isinstance(value, tuple):
        return [_to_json(item) for item in value]
    return value


def _read_exact(kind: type) -> Any:
    def read(raw: Any) -> Any:
        # bool is an int in Python: a JSON true must not pass for a percent, nor 1 for a flag.
        if type(raw) is not kind:
            raise TypeError(raw)
        return raw

    return read


def _read_decimal(raw: Any) -> Decimal:
    if isinstance(raw, bool):
        raise TypeError(raw)
    return Decimal(str(raw))


def _read_criterion(raw: Mapping[str, Any]) -> Criterion:
    return Criterion(str(raw["code"]), str(raw["name"]), _read_decimal(raw["max_points"]))


# Keyed by RuleSet's field annotations: strings, under `from __future__ import annotations`.
_FROM_JSON = {
    "str": _read_exact(str),
    "int": _read_exact(int),
    "bool": _read_exact(bool),
    "date": date.fromisoformat,
    "Decimal": _read_decimal,
    "tuple[Decimal, Decimal, Decimal]": lambda raw: tuple(_read_decimal(item) for item in raw),
    "tuple[Criterion, ...]": lambda raw: tuple(_read_criterion(item) for item in raw),
}

DEFAULT_RULE_SET = RuleSet(version="default-2026", effective_from=date(2026, 1, 1))


def rule_set_in_force(rule_sets: Iterable[RuleSet], on: date) -> RuleSet:
    """The rule set with the latest effective_from on or before `on` (pass the quarter's start)."""
    in_force = [rules for rules in rule_sets if rules.effective_from <= on]
    if not in_force:
        raise RuleInputError("on", _text(_("no rule set is in force on %(date)s"), date=on))
    latest = max(rules.effective_from for rules in in_force)
    candidates = [rules for rules in in_force if rules.effective_from == latest]
    if len(candidates) > 1:
        message = _text(_("two rule sets take effect on %(date)s"), date=latest)
        raise RuleInputError("rule_sets", message)
    return candidates[0]


# --- Plan (R2) --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Task:
    """Nhiệm vụ — a task of the quarter's plan with its vetted outcome (R2, R3, R5, R7)."""

    id: Key
    weight: Decimal  # percent of the plan
    axis: int | None = None
    done: bool = False
    late: bool = False
    exceeded: bool = False  # vượt mức: went beyond the required result
    quality_level: int | None = None  # mức độ đáp ứng: 1 effective, 2 basic, 3 unmet
    excused: bool = False  # not done for force majeure confirmed by the authority
    excuse_reason: str = ""
    difficulty: Decimal = Decimal(1)  # the catalogue item's coefficient


def validate_plan(
    tasks: Sequence[Task],
    axis_roles: Mapping[int, AxisRole],
    rules: RuleSet,
    *,
    quarter_start: date,
) -> list[Reason]:
    """R2: the plan's problems as reasons; an empty list means the plan is valid."""
    return [reason for _field, reason in _plan_problems(tasks, axis_roles, rules, quarter_start)]


def check_plan(
    tasks: Sequence[Task],
    axis_roles: Mapping[int, AxisRole],
    rules: RuleSet,
    *,
    quarter_start: date,
) -> None:
    """R2: raise RuleInputError naming the field of the plan's first problem."""
    for field, reason in _plan_problems(tasks, axis_roles, rules, quarter_start):
        raise RuleInputError(field, reason.message)


def _plan_problems(
    tasks: Sequence[Task],
    axis_roles: Mapping[int, AxisRole],
    rules: RuleSet,
    quarter_start: date,
) -> Iterator[tuple[str, Reason]]:
    if not tasks:
        yield "tasks", _say("R2", _("The plan has no tasks (R2)"))
        return
    # Before axis scoring starts (Q2/2026) tasks need weights but no axes.
    axes_apply = quarter_start >= rules.axis_scoring_from
    for index, task in enumerate(tasks):
        if task.axis is None:
            if axes_apply:
                message = _("Task %(task)s has no result axis (R2)")
                yield f"tasks[{index}].axis", _say("R2", message, task=task.id)
        elif task.axis not in AXES:
            yield f"tasks[{index}].axis", _axis_range_reason(task)
        if task.weight <= 0:
            yield f"tasks[{index}].weight", _weight_reason(task)
    total = sum(task.weight for task in tasks)
    if total != 100:
        yield "tasks", _weights_total_reason(total)
    if axes_apply:
        yield from _axis_role_problems(tasks, axis_roles)


def _axis_role_problems(
    tasks: Sequence[Task], axis_roles: Mapping[int, AxisRole]
) -> Iterator[tuple[str, Reason]]:
    axis_weights: dict[int, Decimal] = {}
    for task in tasks:
        if task.axis in AXES:
            axis_weights[task.axis] = axis_weights.get(task.axis, Decimal(0)) + task.weight
    for axis in sorted(axis_roles):
        if axis not in AXES:
            message = _("Axis %(axis)s is marked but axes run from 1 to 6 (R2)")
            yield "axis_roles", _say("R2", message, axis=axis)
    for axis in sorted(axis_weights):
        if axis not in axis_roles:
            message = _("Axis %(axis)s has tasks but is not marked primary or secondary (R2)")
            yield "axis_roles", _say("R2", message, axis=axis)
    primary = sorted(a for a, role in axis_roles.items() if role == AxisRole.PRIMARY and a in AXES)
    secondary = sorted(
        a for a, role in axis_roles.items() if role == AxisRole.SECONDARY and a in AXES
    )
    if not primary:
        yield "axis_roles", _say("R2", _("No axis is marked primary (R2)"))
    for axis in primary:
        if axis not in axis_weights:
            yield "axis_roles", _say("R2", _("Primary axis %(axis)s has no tasks (R2)"), axis=axis)
            continue
        for other in secondary:
            other_weight = axis_weights.get(other, Decimal(0))
            if axis_weights[axis] <= other_weight:
                message = _(
                    "Primary axis %(primary)s carries %(primary_weight)s%%, not more than "
                    "secondary axis %(secondary)s with %(secondary_weight)s%% (R2)"
                )
                values = {
                    "primary": axis,
                    "primary_weight": axis_weights[axis],
                    "secondary": other,
                    "secondary_weight": other_weight,
                }
                yield "axis_roles", _say("R2", message, **values)


def _axis_range_reason(task: Task) -> Reason:
    message = _("Task %(task)s has axis %(axis)s; axes run from 1 to 6 (R2)")
    return _say("R2", message, task=task.id, axis=task.axis)


def _weight_reason(task: Task) -> Reason:
    message = _("Task %(task)s has weight %(weight)s%%; a weight must be above 0 (R2)")
    return _say("R2", message, task=task.id, weight=task.weight)


def _weights_total_reason(total: Decimal) -> Reason:
    return _say("R2", _("Task weights sum to %(total)s%%, not 100%% (R2)"), total=total)


def _check_tasks(tasks: Sequence[Task]) -> None:
    """Refuse task data that would make any score or grade meaningless."""
    if not tasks:
        raise RuleInputError("tasks", _("The plan has no tasks (R2)"))
    for index, task in enumerate(tasks):
        problem = _task_problem(task)
        if problem is not None:
            attribute, message = problem
            raise RuleInputError(f"tasks[{index}].{attribute}", message)
    total = sum(task.weight for task in tasks)
    if total != 100:
        raise RuleInputError("tasks", _weights_total_reason(total).message)


def _task_problem(task: Task) -> tuple[str, str] | None:
    """The first faulty attribute of a task and what is wrong with it."""
    if task.axis is not None and task.axis not in AXES:
        return "axis", _axis_range_reason(task).message
    if task.weight <= 0:
        return "weight", _weight_reason(task).message
    if task.difficulty <= 0:
        return "difficulty", _("the difficulty must be above 0")
    if task.quality_level is not None and task.quality_level not in (1, 2, 3):
        return "quality_level", _("the quality level must be 1, 2 or 3")
    if task.done and task.quality_level is None:
        return "quality_level", _("a done task needs a quality level")
    if task.done and task.excused:
        return "excused", _("a done task cannot be excused")
    if not task.done and (task.late or task.exceeded):
        return "late" if task.late else "exceeded", _(
            "a task not done can be neither late nor exceeded"
        )
    if task.excused and not task.excuse_reason.strip():
        return "excuse_reason", _("force majeure needs the reason the authority gave")
    return None


# --- Score (R1, R3) ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Score:
    """Điểm — general criteria (0–30) plus task results (0–70), each rounded to 0.1 (R1)."""

    general: Decimal
    results: Decimal
    total: Decimal
    reasons: tuple[Reason, ...]


def task_results_score(tasks: Sequence[Task], rules: RuleSet) -> Ruling[Decimal | None]:
    """R3: task results out of 70, or None when every task is excused (see total_score)."""
    _check_tasks(tasks)
    points, assessed = _results_points(tasks, rules)
    if points is None:
        message = _(
            "Every task is excused by confirmed force majeure; no task is left to score (R3)"
        )
        return Ruling(None, (_say("R3", message),))
    message = _("Task results: %(points)s of 70 points over %(count)s assessed tasks (R3)")
    return Ruling(points, (_say("R3", message, points=points, count=assessed),))


def total_score(
    general_points: Mapping[str, Decimal], tasks: Sequence[Task], rules: RuleSet
) -> Score:
    """R1: the 100-point score of general criteria and task results."""
    _check_tasks(tasks)
    return _score(general_points, tasks, rules)


def _results_points(tasks: Sequence[Task], rules: RuleSet) -> tuple[Decimal | None, int]:
    """R3's formula over the tasks not excused, and how many those are."""
    earned = weights = Decimal(0)
    assessed = 0
    for task in tasks:
        if task.excused:
            continue
        weight = task.weight * task.difficulty if rules.weight_by_difficulty else task.weight
        earned += weight * _task_factor(task, rules)
        weights += weight
        assessed += 1
    if not assessed:
        return None, 0
    return round_half_up(RESULTS_MAX * earned / weights), assessed


def _task_factor(task: Task, rules: RuleSet) -> Decimal:
    # A task not done earns nothing but keeps its weight in the denominator.
    if not task.done:
        return Decimal(0)
    factor = rules.quality_factors[task.quality_level - 1]
    return factor * rules.late_factor if task.late else factor


def _general_points(points: Mapping[str, Decimal], rules: RuleSet) -> Decimal:
    known = {criterion.code for criterion in rules.general_criteria}
    for code in points:
        if code not in known:
            raise RuleInputError(f"general_points.{code}", _("unknown general criterion"))
    total = Decimal(0)
    for criterion in rules.general_criteria:
        field = f"general_points.{criterion.code}"
        if criterion.code not in points:
            raise RuleInputError(field, _("the score of this criterion is missing"))
        value = points[criterion.code]
        if not 0 <= value <= criterion.max_points:
            message = _text(_("the score must be from 0 to %(max)s"), max=criterion.max_points)
            raise RuleInputError(field, message)
        total += value
    return round_half_up(total)


def _score(general_points: Mapping[str, Decimal], tasks: Sequence[Task], rules: RuleSet) -> Score:
    general = _general_points(general_points, rules)
    results, assessed = _results_points(tasks, rules)
    if results is None:
        # DEFAULT: with nothing left to assess, the results part mirrors the general criteria,
        # so force majeure neither rewards nor punishes the cadre.
        results = round_half_up(general * RESULTS_MAX / GENERAL_MAX)
        rule = "R3"
        message = _(
            "Score %(total)s of 100: general criteria %(general)s of 30 plus task results "
            "%(results)s of 70, in proportion to the general criteria as every task is excused "
            "by confirmed force majeure (R3)"
        )
    else:
        rule = "R1"
        message = _(
            "Score %(total)s of 100: general criteria %(general)s of 30 plus task results "
            "%(results)s of 70 over %(count)s assessed tasks (R1)"
        )
    total = general + results
    values = {"total": total, "general": general, "results": results, "count": assessed}
    return Score(general, results, total, (_say(rule, message, **values),))


# --- Grade (R4–R7) ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Completion:
    """Task counts for R5 and R7; excused tasks are outside `assigned`."""

    assigned: int
    done: int
    late: int
    exceeded: int
    excused: int

    @property
    def percent(self) -> Decimal:
        """Share of assigned tasks done, to 0.1; 100 when nothing is left assigned."""
        return _percent(self.done, self.assigned) if self.assigned else Decimal(100)


def task_completion(tasks: Sequence[Task], rules: RuleSet) -> Completion:
    """R7: how many of the quarter's tasks are done, late and exceeded, excused ones aside."""
    _check_tasks(tasks)
    return _completion(tasks, rules)


def _completion(tasks: Sequence[Task], rules: RuleSet) -> Completion:
    assigned = done = late = exceeded = 0
    for task in tasks:
        if task.excused:
            continue
        assigned += 1
        if task.done and not (task.quality_level == 3 and rules.level_three_not_completed):
            done += 1
            late += task.late
            exceeded += task.exceeded
    return Completion(assigned, done, late, exceeded, excused=len(tasks) - assigned)


def grade_from_score(
    score: Decimal,
    completion: Completion,
    rules: RuleSet,
    *,
    led_units_meet_excellent: bool | None = None,
) -> Ruling[Grade]:
    """R5: the highest grade whose score floor and conditions both hold."""
    if not 0 <= score <= SCORE_MAX:
        raise RuleInputError("score", _("the score must be from 0 to 100"))
    c = completion
    if not (0 <= c.late <= c.done and 0 <= c.exceeded <= c.done <= c.assigned):
        raise RuleInputError(
            "completion", _("the counts must satisfy late, exceeded ≤ done ≤ assigned")
        )
    return _grade_from_score(score, completion, rules, led_units_meet_excellent)


def _grade_from_score(
    score: Decimal,
    completion: Completion,
    rules: RuleSet,
    led_units_meet_excellent: bool | None,
) -> Ruling[Grade]:
    reasons: list[Reason] = []
    floors = (
        (Grade.EXCELLENT, rules.excellent_floor),
        (Grade.GOOD, rules.good_floor),
        (Grade.COMPLETED, rules.completed_floor),
    )
    for grade, floor in floors:
        if score < floor:
            continue
        unmet = _unmet_conditions(grade, score, floor, completion, rules, led_units_meet_excellent)
        if not unmet:
            message = _(
                "Score %(score)s reaches the %(grade)s floor of %(floor)s and every condition "
                "holds → %(grade)s (R5)"
            )
            reason = _say("R5", message, score=score, floor=floor, grade=grade.label)
            return Ruling(grade, (*reasons, reason))
        reasons.extend(unmet)
    if score < rules.completed_floor:
        message = _("Score %(score)s is below %(floor)s → Not completed (R5)")
        reasons.append(_say("R5", message, score=score, floor=rules.completed_floor))
    else:
        message = _("No grade has both its floor and its conditions met → Not completed (R5)")
        reasons.append(_say("R5", message))
    return Ruling(Grade.NOT_COMPLETED, tuple(reasons))


def _unmet_conditions(
    grade: Grade,
    score: Decimal,
    floor: Decimal,
    completion: Completion,
    rules: RuleSet,
    led_units_meet_excellent: bool | None,
) -> list[Reason]:
    c = completion
    unmet: list[tuple[str, dict[str, Any]]] = []
    if c.done < c.assigned:
        message = _(
            "Score %(score)s reaches the %(grade)s floor of %(floor)s, but only %(done)s of "
            "%(total)s tasks are done (R5)"
        )
        unmet.append((message, {}))
    if grade in (Grade.EXCELLENT, Grade.GOOD) and c.late:
        message = _(
            "Score %(score)s reaches the %(grade)s floor of %(floor)s, but %(late)s of "
            "%(total)s tasks were late (R5)"
        )
        unmet.append((message, {}))
    if grade == Grade.EXCELLENT:
        if not c.assigned:
            message = _(
                "Score %(score)s reaches the %(grade)s floor of %(floor)s, but every task is "
                "excused, so none exceeded the requirement (R5)"
            )
            unmet.append((message, {}))
        elif c.exceeded * 100 < rules.excellent_exceeded_percent * c.assigned:
            message = _(
                "Score %(score)s reaches the %(grade)s floor of %(floor)s, but %(exceeded)s of "
                "%(total)s tasks exceeded the requirement (%(share)s%%; %(needed)s%% needed) (R5)"
            )
            share = _percent(c.exceeded, c.assigned)
            unmet.append((message, {"share": share, "needed": rules.excellent_exceeded_percent}))
        if led_units_meet_excellent is False:
            message = _(
                "Score %(score)s reaches the %(grade)s floor of %(floor)s, but the units led "
                "directly do not meet the Excellent conditions (R5)"
            )
            unmet.append((message, {}))
    if grade == Grade.COMPLETED and c.late * 100 > rules.completed_late_percent * c.assigned:
        message = _(
            "Score %(score)s reaches the %(grade)s floor of %(floor)s, but %(late)s of "
            "%(total)s tasks were late (%(share)s%%; at most %(allowed)s%% allowed) (R5)"
        )
        share = _percent(c.late, c.assigned)
        unmet.append((message, {"share": share, "allowed": rules.completed_late_percent}))
    counts = {"done": c.done, "late": c.late, "exceeded": c.exceeded, "total": c.assigned}
    return [
        _say("R5", message, score=score, floor=floor, grade=grade.label, **counts, **extra)
        for message, extra in unmet
    ]


@dataclass(frozen=True, slots=True)
class CollectiveResult:
    """R8: how much of its assigned targets a collective completed."""

    assigned: int
    done: int
    excused: int
    percent: Decimal
    threshold_percent: int
    below_threshold: bool
    reasons: tuple[Reason, ...]


@dataclass(frozen=True, slots=True)
class AssessmentInput:
    """Everything grading one cadre for one quarter needs (R1–R8)."""

    general_points: Mapping[str, Decimal]
    tasks: Sequence[Task]
    reprimand_or_above: bool = False  # R6: discipline of reprimand (khiển trách) or above
    degradation_found: bool = False  # R6: a finding of degradation (suy thoái)
    led_units_meet_excellent: bool | None = None  # R5: for a leader of units; None otherwise
    role: CollectiveRole | None = None  # R8, given with `collective`
    collective: CollectiveResult | None = None  # R8: the collective is rated before its members


@dataclass(frozen=True, slots=True)
class GradeResult:
    """A cadre's quarter grade with the score, the task counts and the reasons in order."""

    grade: Grade
    score: Score
    completion: Completion
    reasons: tuple[Reason, ...]

    def as_dict(self) -> dict[str, Any]:
        """A JSON-safe copy for storage."""
        return {
            "grade": self.grade.value,
            "score": str(self.score.total),
            "general": str(self.score.general),
            "results": str(self.score.results),
            "completion": {
                "assigned": self.completion.assigned,
                "done": self.completion.done,
                "late": self.completion.late,
                "exceeded": self.completion.exceeded,
                "excused": self.completion.excused,
            },
            "reasons": [reason.as_dict() for reason in self.reasons],
        }


def compute_grade(assessment: AssessmentInput, rules: RuleSet) -> GradeResult:
    """R1–R8: one cadre's grade for one quarter, with every reason in order."""
    if (assessment.role is None) != (assessment.collective is None):
        raise RuleInputError("collective", _("give both the role and the collective result"))
    _check_tasks(assessment.tasks)
    score = _score(assessment.general_points, assessment.tasks, rules)
    completion = _completion(assessment.tasks, rules)
    reasons = list(score.reasons)
    if completion.excused:
        message = _("Tasks excused by confirmed force majeure leave the count: %(count)s (R7)")
        reasons.append(_say("R7", message, count=completion.excused))
    forced = _forced_not_completed(assessment, rules)
    if forced:
        grade = Grade.NOT_COMPLETED
        reasons.extend(forced)
    elif completion.done < completion.assigned:
        grade = Grade.NOT_COMPLETED
        message = _("Completed %(done)s/%(total)s tasks (under 100%%) → Not completed (R7)")
        reasons.append(_say("R7", message, done=completion.done, total=completion.assigned))
    else:
        ruling = _grade_from_score(
            score.total, completion, rules, assessment.led_units_meet_excellent
        )
        grade = ruling.value
        reasons.extend(ruling.reasons)
    result = GradeResult(grade, score, completion, tuple(reasons))
    if assessment.collective is not None:
        result = apply_collective(result, assessment.role, assessment.collective)
    return result


def _forced_not_completed(assessment: AssessmentInput, rules: RuleSet) -> list[Reason]:
    if not rules.forced_not_completed_in_quarter:
        return []
    reasons = []
    if assessment.reprimand_or_above:
        message = _("Discipline of reprimand or above is recorded → Not completed (R6)")
        reasons.append(_say("R6", message))
    if assessment.degradation_found:
        reasons.append(_say("R6", _("A finding of degradation is recorded → Not completed (R6)")))
    return reasons


# --- Collective (R8) --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CollectiveTarget:
    """A task or target the competent level assigned to a collective (R8)."""

    id: Key
    done: bool
    excused: bool = False  # not done for force majeure confirmed by the authority
    excuse_reason: str = ""


def collective_completion(targets: Sequence[CollectiveTarget], rules: RuleSet) -> CollectiveResult:
    """R8: the collective's completion; exactly the threshold is not under it."""
    if not targets:
        raise RuleInputError("targets", _("the collective has no targets"))
    for index, target in enumerate(targets):
        if target.excused and target.done:
            raise RuleInputError(f"targets[{index}].excused", _("a done task cannot be excused"))
        if target.excused and not target.excuse_reason.strip():
            raise RuleInputError(
                f"targets[{index}].excuse_reason",
                _("force majeure needs the reason the authority gave"),
            )
    counted = [target for target in targets if not target.excused]
    done = sum(target.done for target in counted)
    threshold = rules.collective_threshold_percent
    below = done * 100 < threshold * len(counted)
    reasons = []
    excused = len(targets) - len(counted)
    if excused:
        message = _("Targets excused by confirmed force majeure are left out: %(count)s (R8)")
        reasons.append(_say("R8", message, count=excused))
    if counted:
        percent = _percent(done, len(counted))
        if below:
            message = _(
                "The collective completed %(done)s of %(total)s targets (%(percent)s%%), under "
                "the %(threshold)s%% threshold (R8)"
            )
        else:
            message = _(
                "The collective completed %(done)s of %(total)s targets (%(percent)s%%), not "
                "under the %(threshold)s%% threshold (R8)"
            )
        values = {"done": done, "total": len(counted), "percent": percent, "threshold": threshold}
        reasons.append(_say("R8", message, **values))
    else:
        percent = Decimal(100)
        message = _("Every target is excused, so the collective is not under the threshold (R8)")
        reasons.append(_say("R8", message))
    return CollectiveResult(len(counted), done, excused, percent, threshold, below, tuple(reasons))


def apply_collective(
    grade_result: GradeResult, role: CollectiveRole, collective: CollectiveResult
) -> GradeResult:
    """R8: under the threshold the head is Not completed and no deputy or member is Excellent."""
    if not collective.below_threshold:
        return grade_result
    if role == CollectiveRole.HEAD:
        grade = Grade.NOT_COMPLETED
        message = _(
            "The collective completed %(percent)s%% of its targets (under %(threshold)s%%) → "
            "the head is Not completed (R8)"
        )
    elif grade_result.grade == Grade.EXCELLENT:
        grade = Grade.GOOD
        message = _(
            "The collective completed %(percent)s%% of its targets (under %(threshold)s%%) → a "
            "deputy or member cannot be Excellent; capped at Good (R8)"
        )
    else:
        return grade_result
    reason = _say("R8", message, percent=collective.percent, threshold=collective.threshold_percent)
    return replace(grade_result, grade=grade, reasons=(*grade_result.reasons, reason))


# --- Excellent quota (R9, R10) ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QuotaCandidate:
    """A cadre proposed Excellent in a quota group (R9) or for the year (R10)."""

    id: Key
    score: Decimal
    quarters_proposed_excellent: int = 0
    is_head: bool = False  # the head is outside the members' quota


@dataclass(frozen=True, slots=True)
class Allocation:
    """R9: who keeps Excellent, who falls to Good, and the quota that decided it."""

    allowed: tuple[Key, ...]
    demoted: tuple[Key, ...]
    quota: int
    good_count: int  # Good grades in the group once the demoted are counted
    reasons: tuple[Reason, ...]


@dataclass(frozen=True, slots=True)
class QuotaCheck:
    """R9: whether a number of Excellent decisions fits the quota."""

    within_quota: bool
    quota: int
    reasons: tuple[Reason, ...]


def excellent_quota(count_good: int, percent: int) -> Ruling[int]:
    """R9: at most round_half_up(percent % × count_good) Excellent grades."""
    _check_whole(count_good, "count_good", 0, None)
    _check_whole(percent, "percent", 0, 100)
    quota = (percent * count_good + 50) // 100  # round half up with integers only
    message = _(
        "%(percent)s%% of %(good)s Good is %(exact)s, rounded half up → at most %(quota)s "
        "Excellent (R9)"
    )
    exact = Decimal(percent * count_good) / 100
    reason = _say("R9", message, percent=percent, good=count_good, exact=exact, quota=quota)
    return Ruling(quota, (reason,))


def allocate_excellent(
    candidates: Sequence[QuotaCandidate],
    others_good_count: int,
    percent: int,
    *,
    year_end: bool = False,
) -> Allocation:
    """R9: keep the most candidates the quota allows, best ranked first (R10 order at year end)."""
    _check_whole(others_good_count, "others_good_count", 0, None)
    _check_whole(percent, "percent", 0, 100)
    _check_unique_ids(candidates)
    heads = [candidate for candidate in candidates if candidate.is_head]
    ranked = _ranked([candidate for candidate in candidates if not candidate.is_head], year_end)
    # Each demoted candidate adds one Good to the base, so take the largest k with
    # k ≤ quota(others + n − k); the left side rises and the right falls as k grows.
    n = len(ranked)
    kept = next(
        k for k in range(n, -1, -1) if k <= (percent * (others_good_count + n - k) + 50) // 100
    )
    good_count = others_good_count + n - kept
    quota = excellent_quota(good_count, percent)
    reasons = [
        _say("R9", _("%(id)s is the head, outside the members' quota (R9)"), id=head.id)
        for head in heads
    ]
    reasons.extend(quota.reasons)
    if kept < n:
        # Why not one more: keeping it would shrink the Good base, and the quota with it.
        message = _(
            "Kept %(kept)s of %(count)s candidates: one more would leave %(good)s Good and a "
            "quota of %(quota)s (R9)"
        )
        fewer_good = good_count - 1
        smaller_quota = (percent * fewer_good + 50) // 100
        reasons.append(
            _say("R9", message, kept=kept, count=n, good=fewer_good, quota=smaller_quota)
        )
    if year_end:
        rule = "R10"
        message = _(
            "%(id)s ranks %(rank)s of %(count)s by quarters proposed Excellent, then score "
            "→ Good (R10)"
        )
    else:
        rule = "R9"
        message = _(
            "%(id)s ranks %(rank)s of %(count)s by score, then quarters proposed Excellent "
            "→ Good (R9)"
        )
    for rank, candidate in enumerate(ranked[kept:], start=kept + 1):
        reasons.append(_say(rule, message, id=candidate.id, rank=rank, count=n))
    return Allocation(
        allowed=tuple(c.id for c in heads) + tuple(c.id for c in ranked[:kept]),
        demoted=tuple(c.id for c in ranked[kept:]),
        quota=quota.value,
        good_count=good_count,
        reasons=tuple(reasons),
    )


def quota_check(decided_excellent_count: int, good_count: int, percent: int) -> QuotaCheck:
    """R9: would deciding this many Excellent grades exceed the quota?"""
    _check_whole(decided_excellent_count, "decided_excellent_count", 0, None)
    quota = excellent_quota(good_count, percent)
    within = decided_excellent_count <= quota.value
    if within:
        message = _("%(count)s Excellent is within the quota of %(quota)s (R9)")
    else:
        message = _(
            "%(count)s Excellent exceeds the quota of %(quota)s; rank the candidates by score (R9)"
        )
    reason = _say("R9", message, count=decided_excellent_count, quota=quota.value)
    return QuotaCheck(within, quota.value, (*quota.reasons, reason))


def rank_year_end_candidates(candidates: Sequence[QuotaCandidate]) -> Ruling[tuple[Key, ...]]:
    """R10: order year-end Excellent candidates by quarters proposed Excellent, then score."""
    _check_unique_ids(candidates)
    ranked = _ranked(candidates, year_end=True)
    message = _("%(rank)s. %(id)s: %(quarters)s quarters proposed Excellent, score %(score)s (R10)")
    reasons = tuple(
        _say(
            "R10",
            message,
            rank=rank,
            id=candidate.id,
            quarters=candidate.quarters_proposed_excellent,
            score=candidate.score,
        )
        for rank, candidate in enumerate(ranked, start=1)
    )
    return Ruling(tuple(candidate.id for candidate in ranked), reasons)


def _ranked(candidates: Sequence[QuotaCandidate], year_end: bool) -> list[QuotaCandidate]:
    def key(candidate: QuotaCandidate) -> tuple[Any, ...]:
        # Ints sort before strings, so a mixed list never compares an int with a string.
        tie_break = (isinstance(candidate.id, str), candidate.id)
        if year_end:
            return (-candidate.quarters_proposed_excellent, -candidate.score, tie_break)
        return (-candidate.score, -candidate.quarters_proposed_excellent, tie_break)

    return sorted(candidates, key=key)


def _check_unique_ids(candidates: Sequence[QuotaCandidate]) -> None:
    seen = set()
    for index, candidate in enumerate(candidates):
        if candidate.id in seen:
            raise RuleInputError(f"candidates[{index}].id", _("this id appears twice"))
        seen.add(candidate.id)


# --- Calendar (R16), deferral (R11) and change of unit (R12) ----------------------------------


def quarter_bounds(year: int, quarter: int) -> tuple[date, date]:
    """The first and last day of a quarter."""
    _check_whole(quarter, "quarter", 1, 4)
    last_month = 3 * quarter
    last_day = calendar.monthrange(year, last_month)[1]
    return date(year, last_month - 2, 1), date(year, last_month, last_day)


def quarter_of(day: date) -> tuple[int, int]:
    """The (year, quarter) a day falls in."""
    return day.year, (day.month - 1) // 3 + 1


def report_deadline(year: int, quarter: int, rules: RuleSet) -> date:
    """R16: the last valid day, the day before `report_before_day` of the next quarter."""
    next_quarter_start = quarter_bounds(year, quarter)[1] + timedelta(days=1)
    return next_quarter_start.replace(day=rules.report_before_day - 1)


def is_report_late(year: int, quarter: int, submitted_on: date, rules: RuleSet) -> Ruling[bool]:
    """R16: whether a quarter's report reached the level above after the deadline."""
    deadline = report_deadline(year, quarter, rules)
    late = submitted_on > deadline
    if late:
        message = _("Submitted on %(date)s, after the deadline of %(deadline)s (R16)")
    else:
        message = _("Submitted on %(date)s, by the deadline of %(deadline)s (R16)")
    return Ruling(late, (_say("R16", message, date=submitted_on, deadline=deadline),))


@dataclass(frozen=True, slots=True)
class Absence:
    """A period of training, leave or inspection (R11); `end` is None while it lasts."""

    kind: AbsenceKind
    start: date
    end: date | None = None


@dataclass(frozen=True, slots=True)
class Appointment:
    """Bổ nhiệm — an appointment dated in the quarter (R11b)."""

    appointed_on: date
    first_leadership_post: bool


@dataclass(frozen=True, slots=True)
class Deferral:
    """R11: whether the quarter is deferred and the (year, quarter) its results carry into."""

    deferred: bool
    carried_to: tuple[int, int] | None
    reasons: tuple[Reason, ...]


def deferral(
    absences: Sequence[Absence],
    appointments: Sequence[Appointment],
    quarter_start: date,
    quarter_end: date,
    rules: RuleSet,
    *,
    authority_reason: str | None = None,
) -> Deferral:
    """R11 a–e: whether the cadre is not graded this quarter, and why."""
    _check_quarter_dates(quarter_start, quarter_end)
    spans: dict[AbsenceKind, list[tuple[date, date]]] = {kind: [] for kind in AbsenceKind}
    for index, absence in enumerate(absences):
        spans[AbsenceKind(absence.kind)].append(
            _clip(absence.start, absence.end, quarter_start, quarter_end, f"absences[{index}]")
        )
    months = rules.long_absence_months
    reasons = []
    for start, end in _merged(spans[AbsenceKind.TRAINING]):
        if _lasts_months(start, end, months):
            message = _(
                "Full-time training from %(start)s to %(end)s covers %(months)s months or more "
                "of the quarter (R11a)"
            )
            reasons.append(_say("R11a", message, start=start, end=end, months=months))
    for index, appointment in enumerate(appointments):
        if not quarter_start <= appointment.appointed_on <= quarter_end:
            raise RuleInputError(
                f"appointments[{index}].appointed_on", _("the date lies outside the quarter")
            )
        left = rules.first_appointment_months
        if appointment.first_leadership_post and not _lasts_months(
            appointment.appointed_on, quarter_end, left
        ):
            message = _(
                "First appointed to a leadership post on %(date)s, with less than %(months)s "
                "month(s) of the quarter left (R11b)"
            )
            reasons.append(_say("R11b", message, date=appointment.appointed_on, months=left))
    sick, maternity = spans[AbsenceKind.SICK_LEAVE], spans[AbsenceKind.MATERNITY_LEAVE]
    leave_groups = [sick + maternity] if rules.combine_sick_and_maternity else [sick, maternity]
    for group in leave_groups:
        for start, end in _merged(group):
            if _lasts_months(start, end, months):
                message = _(
                    "Sick or maternity leave from %(start)s to %(end)s covers %(months)s months "
                    "or more of the quarter (R11c)"
                )
                reasons.append(_say("R11c", message, start=start, end=end, months=months))
    # DEFAULT: "under inspection" is read on the quarter's last day; an inspection opened
    # after it is the authority's case (e).
    if any(end == quarter_end for _start, end in spans[AbsenceKind.INSPECTION]):
        message = _("Under inspection for signs of a violation at the end of the quarter (R11d)")
        reasons.append(_say("R11d", message))
    if authority_reason is not None:
        if not authority_reason.strip():
            raise RuleInputError(
                "authority_reason", _("a deferral by the authority needs a stated reason")
            )
        message = _("Deferred by decision of the authority: %(reason)s (R11e)")
        reasons.append(_say("R11e", message, reason=authority_reason.strip()))
    if not reasons:
        return Deferral(False, None, (_say("R11", _("No ground to defer this quarter (R11)")),))
    year, quarter = quarter_of(quarter_end + timedelta(days=1))
    message = _("Not graded this quarter; the results carry into Q%(quarter)s/%(year)s (R11)")
    return Deferral(
        True, (year, quarter), (*reasons, _say("R11", message, quarter=quarter, year=year))
    )


@dataclass(frozen=True, slots=True)
class Assignment:
    """A spell of the cadre in one unit during the quarter (R12); `end` None while it lasts."""

    unit: Key
    start: date
    end: date | None = None


@dataclass(frozen=True, slots=True)
class GradingUnit:
    """R12: the unit that grades, and the earlier units whose comment is required."""

    unit: Key
    comment_units: tuple[Key, ...]
    reasons: tuple[Reason, ...]


def grading_unit(
    assignments_in_quarter: Sequence[Assignment],
    quarter_start: date,
    quarter_end: date,
    rules: RuleSet,
) -> GradingUnit:
    """R12: the unit where the cadre is at quarter end grades; long earlier spells comment."""
    _check_quarter_dates(quarter_start, quarter_end)
    spells: dict[Key, list[tuple[date, date]]] = {}
    for index, assignment in enumerate(assignments_in_quarter):
        spell = _clip(
            assignment.start, assignment.end, quarter_start, quarter_end, f"assignments[{index}]"
        )
        spells.setdefault(assignment.unit, []).append(spell)
    at_end = [
        unit
        for unit, unit_spells in spells.items()
        if any(end == quarter_end for _start, end in unit_spells)
    ]
    if not at_end:
        raise RuleInputError("assignments", _("no assignment covers the last day of the quarter"))
    if len(at_end) > 1:
        raise RuleInputError(
            "assignments", _("more than one unit covers the last day of the quarter")
        )
    unit = at_end[0]
    message = _("%(unit)s grades: the cadre is there at the end of the quarter (R12)")
    reasons = [_say("R12", message, unit=unit)]
    months = rules.previous_unit_months
    comment_units = []
    for other, other_spells in sorted(spells.items(), key=lambda item: min(item[1])):
        if other != unit and any(_lasts_months(s, e, months) for s, e in _merged(other_spells)):
            comment_units.append(other)
            message = _(
                "%(unit)s must comment: the cadre spent %(months)s months or more there in the "
                "quarter (R12)"
            )
            reasons.append(_say("R12", message, unit=other, months=months))
    return GradingUnit(unit, tuple(comment_units), tuple(reasons))


def _check_quarter_dates(quarter_start: date, quarter_end: date) -> None:
    if quarter_bounds(*quarter_of(quarter_start)) != (quarter_start, quarter_end):
        raise RuleInputError("quarter_end", _("the dates are not the bounds of one quarter"))


def _clip(
    start: date, end: date | None, quarter_start: date, quarter_end: date, where: str
) -> tuple[date, date]:
    """The part of a period inside the quarter; a period that misses the quarter is an error."""
    if end is not None and end < start:
        raise RuleInputError(f"{where}.end", _("the end is before the start"))
    if start > quarter_end or (end is not None and end < quarter_start):
        raise RuleInputError(f"{where}.start", _("the period lies outside the quarter"))
    return max(start, quarter_start), quarter_end if end is None else min(end, quarter_end)


def _merged(spans: Iterable[tuple[date, date]]) -> list[tuple[date, date]]:
    """Join overlapping or back-to-back spans: a continuous absence counts as one."""
    merged: list[tuple[date, date]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1] + timedelta(days=1):
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _lasts_months(start: date, end: date, months: int) -> bool:
    """DEFAULT: a span lasts n months when it reaches the day before the same date n months on."""
    return end >= _add_months(start, months) - timedelta(days=1)


def _add_months(day: date, months: int) -> date:
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


# --- Year end (R13–R15, R19), accountability (R17), rhythm (R18) ------------------------------


@dataclass(frozen=True, slots=True)
class QuarterOutcome:
    """One quarter as the year-end review sees it; `grade` is None when deferred."""

    quarter: int
    grade: Grade | None
    proposed_excellent: bool = False
    score: Decimal | None = None


@dataclass(frozen=True, slots=True)
class YearEndProposal:
    """R19: the proposed annual grade for the authority to decide (None when nothing graded)."""

    grade: Grade | None
    quarters_proposed_excellent: int
    mean_score: Decimal | None
    replacement_flag: bool
    reasons: tuple[Reason, ...]


def year_end_proposal(
    quarters: Sequence[QuarterOutcome],
    rules: RuleSet,
    *,
    earlier_grades: Sequence[Grade | None] = (),
    reprimand_or_degradation: bool = False,
) -> YearEndProposal:
    """R19: propose the year's grade from its quarters, Q4 always included (R6, R13–R15)."""
    quarters = sorted(quarters, key=lambda outcome: outcome.quarter)
    for index, outcome in enumerate(quarters):
        _check_whole(outcome.quarter, f"quarters[{index}].quarter", 1, 4)
        if index and outcome.quarter == quarters[index - 1].quarter:
            raise RuleInputError(f"quarters[{index}].quarter", _("this quarter appears twice"))
        _check_grade(outcome.grade, f"quarters[{index}].grade")
        if outcome.score is not None and not 0 <= outcome.score <= SCORE_MAX:
            raise RuleInputError(f"quarters[{index}].score", _("the score must be from 0 to 100"))
    graded = [outcome for outcome in quarters if outcome.grade is not None]
    scores = [outcome.score for outcome in graded if outcome.score is not None]
    flag = replacement_flag([*earlier_grades, *(outcome.grade for outcome in quarters)])
    reasons = []
    q4 = next((outcome for outcome in quarters if outcome.quarter == 4), None)
    if q4 is not None and not rules.grade_q4_separately:
        message = _("Q4 is not graded on its own; its results feed the year-end proposal (R13)")
        reasons.append(_say("R13", message))
    if reprimand_or_degradation:
        grade = Grade.NOT_COMPLETED
        message = _(
            "Discipline of reprimand or above, or a finding of degradation, in the year → "
            "Not completed (R6)"
        )
        reasons.append(_say("R6", message))
    elif not graded:
        grade = None
        message = _("No quarter of the year was graded; the authority grades the year (R19)")
        reasons.append(_say("R19", message))
    else:
        grade = _year_grade(graded, q4.grade if q4 is not None else None, rules, reasons)
    if flag.value:
        reasons.extend(flag.reasons)
    return YearEndProposal(
        grade=grade,
        quarters_proposed_excellent=sum(outcome.proposed_excellent for outcome in quarters),
        mean_score=round_half_up(sum(scores) / len(scores)) if scores else None,
        replacement_flag=flag.value,
        reasons=tuple(reasons),
    )


def _year_grade(
    graded: list[QuarterOutcome], q4_grade: Grade | None, rules: RuleSet, reasons: list[Reason]
) -> Grade:
    """DEFAULT: the highest grade that Q4 and the required share of graded quarters reach."""
    ceiling = Grade(q4_grade) if q4_grade is not None else Grade.EXCELLENT
    if ceiling != Grade.EXCELLENT:
        message = _("Q4 is graded %(grade)s; the year is not proposed above it (R19)")
        reasons.append(_say("R19", message, grade=ceiling.label))
    needed = -(-rules.year_end_share_percent * len(graded) // 100)  # ceiling division
    failed = [outcome.quarter for outcome in graded if outcome.grade == Grade.NOT_COMPLETED]
    for grade in (Grade.EXCELLENT, Grade.GOOD, Grade.COMPLETED):
        if grade.rank > ceiling.rank:
            continue
        if grade == Grade.EXCELLENT and failed:
            message = _("Not completed in Q%(quarter)s rules out Excellent for the year (R14)")
            reasons.append(_say("R14", message, quarter=failed[0]))
            continue
        reached = sum(Grade(outcome.grade).rank >= grade.rank for outcome in graded)
        values = {"reached": reached, "graded": len(graded), "needed": needed}
        if reached >= needed:
            message = _(
                "%(reached)s of %(graded)s graded quarters reach %(grade)s or better "
                "(%(needed)s needed) → %(grade)s for the year (R19)"
            )
            reasons.append(_say("R19", message, grade=grade.label, **values))
            return grade
        message = _(
            "Only %(reached)s of %(graded)s graded quarters reach %(grade)s or better; "
            "%(needed)s needed (R19)"
        )
        reasons.append(_say("R19", message, grade=grade.label, **values))
    reasons.append(_say("R19", _("No better grade holds → Not completed for the year (R19)")))
    return Grade.NOT_COMPLETED


def replacement_flag(grade_sequence: Sequence[Grade | None]) -> Ruling[bool]:
    """R15: Not completed in 2+ consecutive graded quarters; None (deferred) is skipped."""
    run = longest = 0
    for index, grade in enumerate(grade_sequence):
        _check_grade(grade, f"grade_sequence[{index}]")
        if grade is None:
            continue
        run = run + 1 if grade == Grade.NOT_COMPLETED else 0
        longest = max(longest, run)
    if longest >= 2:
        message = _(
            "Not completed in %(count)s consecutive graded quarters → replacement flag for the "
            "managing authority (R15)"
        )
        return Ruling(True, (_say("R15", message, count=longest),))
    message = _("No two consecutive graded quarters are Not completed (R15)")
    return Ruling(False, (_say("R15", message),))


@dataclass(frozen=True, slots=True)
class Discrepancy:
    """R17: a proposed grade higher than the decided one, recorded against the proposer."""

    proposed: Grade
    decided: Grade
    levels: int
    reasons: tuple[Reason, ...]


def discrepancy(proposed: Grade, decided: Grade) -> Discrepancy | None:
    """R17: the record to keep when the proposal is higher than the decision, else None."""
    _check_grade(proposed, "proposed", deferred_ok=False)
    _check_grade(decided, "decided", deferred_ok=False)
    proposed, decided = Grade(proposed), Grade(decided)
    if not proposed.is_higher_than(decided):
        return None
    levels = proposed.rank - decided.rank
    message = _(
        "Proposed %(proposed)s but decided %(decided)s, %(levels)s level(s) lower; the "
        "proposer answers for the proposal (R17)"
    )
    reason = _say("R17", message, proposed=proposed.label, decided=decided.label, levels=levels)
    return Discrepancy(proposed, decided, levels, (reason,))


_GRADED_QUARTERS = {
    EvaluationMode.QUARTERLY: (1, 2, 3, 4),
    EvaluationMode.HALF_YEARLY: (2, 4),
    EvaluationMode.YEARLY: (4,),
}


def evaluation_mode(post_kind: PostKind, tenant_choice: EvaluationMode) -> Ruling[EvaluationMode]:
    """R18: committee members without professional duties follow the tenant's choice."""
    if post_kind == PostKind.COMMITTEE_ONLY:
        mode = EvaluationMode(tenant_choice)
        message = _(
            "A committee member without professional duties is graded as the tenant chose: "
            "%(mode)s (R18)"
        )
        return Ruling(mode, (_say("R18", message, mode=mode.label),))
    message = _("A leadership or management post is graded every quarter (R18)")
    return Ruling(EvaluationMode.QUARTERLY, (_say("R18", message),))


def graded_this_quarter(mode: EvaluationMode, quarter: int) -> Ruling[bool]:
    """R18: whether an evaluation closes at the end of this quarter (half-yearly: Q2 and Q4)."""
    _check_whole(quarter, "quarter", 1, 4)
    mode = EvaluationMode(mode)
    graded = quarter in _GRADED_QUARTERS[mode]
    if graded:
        message = _("%(mode)s evaluation: graded at the end of Q%(quarter)s (R18)")
    else:
        message = _("%(mode)s evaluation: not graded at the end of Q%(quarter)s (R18)")
    return Ruling(graded, (_say("R18", message, mode=mode.label, quarter=quarter),))
