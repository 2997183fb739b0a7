"""Reads for the reports: who may see which scope, the rows of the workbooks, the dashboards.

Every read is a fixed number of aggregate queries whatever the number of cadres, so that a
province's dashboard costs what a department's does. The rules (grades, quotas, R15, R16) are
called from ``evaluation.rules`` through ``evaluation.scoring``, never re-done here.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Avg, Count, F, OuterRef, Q, Subquery, Sum, Window
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from cadres.models import Position, Unit
from cadres.roles import Role, covers, granted_units, subtree_q
from cadres.selectors import get_for_user_or_404
from evaluation import rules, scoring
from evaluation.models import (
    AXIS_CHOICES,
    Collective,
    Discrepancy,
    Evaluation,
    EvaluationState,
    Period,
    QuotaGroup,
    Task,
)
from evaluation.permissions import VIEW_ROLES, Action, can
from evaluation.selectors import rule_set_for
from reporting.models import Export

# Exports and imports belong to the organisation department, the authority and the
# administrator; dashboards to anyone who acts on the unit's evaluations.
EXPORT_ROLES = (Role.ORGANISATION, Role.AUTHORITY, Role.ADMINISTRATOR)
DASHBOARD_ROLES = (*VIEW_ROLES, Role.ADMINISTRATOR)
GRADES = tuple(rules.Grade)
# Rows a dashboard lists in a table of names or groups; the counts stay exact, the table says
# how many more there are and the exports hold them all. Kept short: it is the page's cost.
LIST_LIMIT = 50

S = EvaluationState
STATE_ORDER = (
    S.PLANNING,
    S.PLAN_SUBMITTED,
    S.PLAN_APPROVED,
    S.SELF_ASSESSED,
    S.VETTED,
    S.PROPOSED,
    S.DECIDED,
    S.PUBLISHED,
)


@dataclass(frozen=True)
class Step:
    """One of the five steps, the period's deadline for it and the state that completes it."""

    key: str
    label: Any
    deadline_field: str
    done_from: str

    def deadline(self, period: Period) -> date:
        return getattr(period, self.deadline_field)

    def is_done(self, state: str) -> bool:
        return STATE_ORDER.index(state) >= STATE_ORDER.index(self.done_from)


STEPS = (
    Step("plan", gettext_lazy("1. Targets approved"), "plan_deadline", S.PLAN_APPROVED),
    Step("self", gettext_lazy("2. Self-assessment"), "self_assessment_deadline", S.SELF_ASSESSED),
    Step("vet", gettext_lazy("3a. Vetting"), "vetting_deadline", S.VETTED),
    Step("propose", gettext_lazy("3b. Grade proposed"), "proposal_deadline", S.PROPOSED),
    Step("decide", gettext_lazy("4. Grade decided"), "decision_deadline", S.DECIDED),
    Step("publish", gettext_lazy("5. Published"), "report_deadline", S.PUBLISHED),
)


def overdue_step(state: str, period: Period, on: date) -> Step | None:
    """The first step the evaluation has not done although its deadline has passed."""
    if state == S.DEFERRED:
        return None
    return next((s for s in STEPS if not s.is_done(state) and s.deadline(period) < on), None)


def grade_label(value: str) -> str:
    return str(rules.Grade(value).label) if value else ""


# --- Access -------------------------------------------------------------------------------


def may_export(user, unit: Unit) -> bool:
    return any(covers(user, role, unit) for role in EXPORT_ROLES)


def may_view_dashboard(user, unit: Unit) -> bool:
    return any(covers(user, role, unit) for role in DASHBOARD_ROLES)


def _granted(user, roles) -> list[Unit]:
    """Top-most units granted through any of the roles; a unit under another is dropped."""
    units = {unit.pk: unit for role in roles for unit in granted_units(user, role)}
    ordered = sorted(units.values(), key=lambda u: u.path)
    tops: list[Unit] = []
    for unit in ordered:
        if not any(unit.path.startswith(top.path) for top in tops):
            tops.append(unit)
    return tops


def export_scope(user) -> list[Unit]:
    """The units whose subtrees the user may export and import into."""
    return _granted(user, EXPORT_ROLES)


def dashboard_scope(user) -> list[Unit]:
    return _granted(user, DASHBOARD_ROLES)


def unit_for_dashboard_or_404(user, pk) -> Unit:
    """A unit of the user's tenant that one of the user's roles covers; else 404."""
    unit = get_for_user_or_404(Unit.objects.all(), user=user, pk=pk)
    if not may_view_dashboard(user, unit):
        raise Http404
    return unit


def period_for_user_or_404(user, pk) -> Period:
    return get_for_user_or_404(Period.objects.all(), user=user, pk=pk)


def periods_of(user):
    if user.tenant_id is None:
        return Period.objects.none()
    return Period.objects.for_tenant(user.tenant_id).order_by("-year", "-quarter")


def default_period(user) -> Period | None:
    """The latest open quarter, else the latest quarter."""
    periods = periods_of(user)
    return periods.filter(status=Period.Status.OPEN).first() or periods.first()


def units_for_index(user, *, export: bool = False) -> list[Unit]:
    """The units the user holds a dashboard (or export) role on, and their direct sub-units."""
    tops = export_scope(user) if export else dashboard_scope(user)
    if not tops:
        return []
    return list(
        Unit.objects.for_tenant(user.tenant_id)
        .filter(Q(pk__in=[u.pk for u in tops]) | Q(parent_id__in=[u.pk for u in tops]))
        .order_by("path")
    )


def exports_of(user, limit: int = 20) -> list[Export]:
    if user.tenant_id is None:
        return []
    return list(
        Export.objects.for_tenant(user.tenant_id).filter(created_by=user).order_by("-pk")[:limit]
    )


def export_for_user_or_404(user, pk) -> Export:
    """An export is seen by the user who asked for it only."""
    export = get_for_user_or_404(Export.objects.all(), user=user, pk=pk)
    if export.created_by_id != user.pk:
        raise Http404
    return export


# --- Evaluations of a scope -----------------------------------------------------------------


def scope_evaluations(period: Period, units: Sequence[Unit]):
    """Current evaluations of the period graded in the subtrees of ``units``."""
    return Evaluation.objects.filter(
        tenant_id=period.tenant_id, period=period, is_current=True
    ).filter(subtree_q(list(units), prefix="unit__"))


def _stage(evaluation: Evaluation) -> scoring.Stage | None:
    state = evaluation.state
    if state == S.DEFERRED or STATE_ORDER.index(state) < STATE_ORDER.index(S.SELF_ASSESSED):
        return None
    if state == S.SELF_ASSESSED:
        return scoring.Stage.SELF
    return scoring.Stage.VETTED


def completion_of(evaluation: Evaluation, rule_set: rules.RuleSet) -> rules.Completion | None:
    """R7 counts from the prefetched tasks, at the latest stage reached; None before step 2."""
    stage = _stage(evaluation)
    tasks = list(evaluation.tasks.all())
    if stage is None or not tasks:
        return None
    try:
        return rules.task_completion(
            [scoring._result_task(t, n, stage) for n, t in enumerate(tasks, start=1)], rule_set
        )
    except rules.RuleInputError:
        return None


@dataclass(frozen=True)
class FlaggedCadre:
    cadre_id: int
    code: str
    full_name: str
    grades: tuple[str, ...]
    reasons: tuple[rules.Reason, ...]


def replacement_flags(period: Period, evaluations) -> dict[int, FlaggedCadre]:
    """R15 for the cadres of ``evaluations``: quarters of this and last year up to this one."""
    rows = (
        Evaluation.objects.filter(
            tenant_id=period.tenant_id,
            is_current=True,
            cadre_id__in=evaluations.values("cadre_id"),
        )
        .filter(
            Q(period__year=period.year, period__quarter__lte=period.quarter)
            | Q(period__year=period.year - 1)
        )
        .order_by("cadre_id", "period__year", "period__quarter")
        .values_list(
            "cadre_id", "cadre__code", "cadre__full_name", "period__quarter", "decided_grade"
        )
    )
    sequences: dict[int, list] = defaultdict(list)
    names: dict[int, tuple[str, str]] = {}
    for cadre_id, code, name, _quarter, grade in rows:
        # Deferred and undecided quarters are skipped by R15: give them as None.
        sequences[cadre_id].append(grade or None)
        names[cadre_id] = (code, name)
    flagged = {}
    for cadre_id, sequence in sequences.items():
        ruling = rules.replacement_flag(sequence)
        if ruling.value:
            code, name = names[cadre_id]
            labels = tuple(grade_label(g) if g else "—" for g in sequence)
            flagged[cadre_id] = FlaggedCadre(cadre_id, code, name, labels, ruling.reasons)
    return flagged


# --- The unit's quarterly summary (workbook) -------------------------------------------------


def summary_header() -> tuple[str, ...]:
    return (
        _("No."),
        _("Staff code"),
        _("Full name"),
        _("Grading unit"),
        _("Role in the collective"),
        _("Step reached"),
        _("Tasks"),
        _("Tasks done"),
        _("Completion (%)"),
        _("Self-score"),
        _("Self-proposed grade"),
        _("Vetted score"),
        _("Grade proposed by the vetting"),
        _("Grade proposed by the direct superior level"),
        _("Decided grade"),
        _("Deferral"),
        _("Flags"),
    )


def summary_count(unit: Unit, period: Period) -> int:
    return scope_evaluations(period, [unit]).count()


def summary_rows(unit: Unit, period: Period, *, chunk_size: int = 2000) -> Iterator[tuple]:
    """One row per current evaluation of the unit's subtree, streamed in chunks."""
    evaluations = scope_evaluations(period, [unit])
    flagged = replacement_flags(period, evaluations)
    rule_set = rule_set_for(period.tenant, period.start_date)
    queryset = (
        evaluations.select_related("cadre", "unit", "discrepancy")
        .prefetch_related("tasks")
        .order_by("unit__path", "cadre__full_name", "pk")
    )
    for number, evaluation in enumerate(queryset.iterator(chunk_size=chunk_size), start=1):
        completion = completion_of(evaluation, rule_set)
        flags = []
        if evaluation.reassignment_flag:
            flags.append(_("Reassignment considered by the authority"))
        if evaluation.cadre_id in flagged:
            flags.append(_("Replacement flag (R15)"))
        if hasattr(evaluation, "discrepancy"):
            flags.append(_("Proposal above the decision (R17)"))
        if evaluation.discipline_note:
            flags.append(_("Discipline or degradation recorded (R6)"))
        if evaluation.carried_over_from_id:
            flags.append(_("Results carried over from a deferred quarter (R11)"))
        deferral = ""
        if evaluation.state == S.DEFERRED:
            parts = [evaluation.deferral_case, evaluation.deferral_reason]
            deferral = ": ".join(part for part in parts if part)
        yield (
            number,
            evaluation.cadre.code,
            evaluation.cadre.full_name,
            evaluation.unit.name,
            evaluation.get_collective_role_display(),
            evaluation.get_state_display(),
            len(evaluation.tasks.all()),
            completion.done if completion else None,
            completion.percent if completion else None,
            evaluation.self_score,
            grade_label(evaluation.self_grade),
            evaluation.vetted_score,
            grade_label(evaluation.vetted_grade),
            grade_label(evaluation.proposed_grade),
            grade_label(evaluation.decided_grade),
            deferral,
            "; ".join(str(f) for f in flags),
        )


@dataclass
class QuotaGroupSummary:
    """R9 for one quota group: the quota on the decided Good grades, and its members."""

    unit_name: str
    unit_code: str
    percent: int
    good: int = 0
    excellent: int = 0
    proposed_excellent: int = 0
    check: rules.QuotaCheck | None = None
    members: list[tuple] = field(default_factory=list)


def quota_groups(units: Sequence[Unit], period: Period, *, members: bool = True):
    """The quota groups of the subtrees, with counts and (optionally) their members' rows."""
    found = (
        QuotaGroup.objects.filter(period=period)
        .filter(subtree_q(list(units), prefix="unit__"))
        .select_related("unit")
        .order_by("unit__path")
    )
    if not members:
        return _quota_group_counts(found)
    groups = {g.pk: QuotaGroupSummary(g.unit.name, g.unit.code, g.percent) for g in found}
    evaluations = (
        Evaluation.objects.filter(quota_group_id__in=list(groups), is_current=True)
        .select_related("cadre")
        .only(
            "quota_group_id",
            "collective_role",
            "state",
            "vetted_score",
            "proposed_grade",
            "decided_grade",
            "cadre__code",
            "cadre__full_name",
        )
        .order_by("quota_group_id", F("vetted_score").desc(nulls_last=True), "cadre__full_name")
    )
    for evaluation in evaluations if groups else []:
        group = groups[evaluation.quota_group_id]
        outside = scoring.outside_quota(evaluation)
        if not outside and evaluation.state != S.DEFERRED:
            group.good += evaluation.decided_grade == rules.Grade.GOOD
            group.excellent += evaluation.decided_grade == rules.Grade.EXCELLENT
            group.proposed_excellent += evaluation.proposed_grade == rules.Grade.EXCELLENT
        group.members.append(
            (
                evaluation.cadre.code,
                evaluation.cadre.full_name,
                evaluation.get_collective_role_display(),
                _("Outside the members' quota (head)") if outside else "",
                evaluation.vetted_score,
                grade_label(evaluation.proposed_grade),
                grade_label(evaluation.decided_grade),
            )
        )
    for group in groups.values():
        group.check = rules.quota_check(group.excellent, group.good, group.percent)
    return list(groups.values())


def _quota_group_counts(groups) -> list[QuotaGroupSummary]:
    """The groups with their R9 counts, in one query: each count is a subquery on the group's
    evaluations (an index scan of the group), not a join of every evaluation to its group.

    Counted as ``quota_groups`` counts with members: current evaluations, neither deferred nor
    of the head (``scoring.outside_quota``)."""

    def count(**grade):
        members = (
            Evaluation.objects.filter(quota_group=OuterRef("pk"), is_current=True, **grade)
            .exclude(collective_role=Position.CollectiveRole.HEAD)
            .exclude(state=S.DEFERRED)
            .order_by()
            .values("quota_group")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return Coalesce(Subquery(members), 0)

    rows = groups.values_list("unit__name", "unit__code", "percent").annotate(
        good=count(decided_grade=rules.Grade.GOOD),
        excellent=count(decided_grade=rules.Grade.EXCELLENT),
        proposed=count(proposed_grade=rules.Grade.EXCELLENT),
    )
    return [
        QuotaGroupSummary(
            name,
            code,
            percent,
            good=good,
            excellent=excellent,
            proposed_excellent=proposed,
            check=rules.quota_check(excellent, good, percent),
        )
        for name, code, percent, good, excellent, proposed in rows
    ]


@dataclass
class CollectiveSummary:
    unit_name: str
    result: rules.CollectiveResult | None
    graded_at: Any
    targets: list


def collectives(units: Sequence[Unit], period: Period) -> list[CollectiveSummary]:
    """R8 for each collective of the subtrees, computed by the rules from its targets."""
    found = (
        Collective.objects.filter(period=period)
        .filter(subtree_q(list(units), prefix="unit__"))
        .select_related("unit")
        .prefetch_related("targets")
        .order_by("unit__path")
    )
    summaries = []
    for collective in found:
        # One tenant and period object for all: the rule set is read once and cached on it.
        collective.tenant = period.tenant
        collective.period = period
        targets = list(collective.targets.all())
        try:
            result = scoring.collective_result(collective, targets)
        except rules.RuleInputError:
            result = None
        summaries.append(
            CollectiveSummary(collective.unit.name, result, collective.graded_at, targets)
        )
    return summaries


# --- The tenant's report to the level above (R16) -------------------------------------------


@dataclass
class UnitCounts:
    code: str
    name: str
    total: int = 0
    grades: dict = field(default_factory=dict)
    deferred: int = 0
    undecided: int = 0


def _grade_counts(**extra) -> dict:
    counts = {
        f"g_{g.value}": Count("pk", filter=Q(decided_grade=g.value) & ~Q(state=S.DEFERRED))
        for g in GRADES
    }
    counts["deferred"] = Count("pk", filter=Q(state=S.DEFERRED))
    counts["total"] = Count("pk")
    counts.update(extra)
    return counts


def counts_by_unit(period: Period, units: Sequence[Unit]) -> list[UnitCounts]:
    rows = (
        scope_evaluations(period, units)
        .values("unit_id", "unit__code", "unit__name", "unit__path")
        .annotate(**_grade_counts())
        .order_by("unit__path")
    )
    result = []
    for row in rows:
        grades = {g: row[f"g_{g.value}"] for g in GRADES}
        result.append(
            UnitCounts(
                code=row["unit__code"],
                name=row["unit__name"],
                total=row["total"],
                grades=grades,
                deferred=row["deferred"],
                undecided=row["total"] - row["deferred"] - sum(grades.values()),
            )
        )
    return result


@dataclass
class LateUnit:
    code: str
    name: str
    step: Any
    deadline: date
    late: int
    days: int


def late_units(period: Period, units: Sequence[Unit], on: date) -> list[LateUnit]:
    """Units with evaluations behind a step whose deadline has passed, by step."""
    rows = (
        scope_evaluations(period, units)
        .exclude(state__in=[S.DEFERRED, S.PUBLISHED])
        .values("unit__code", "unit__name", "unit__path", "state")
        .annotate(n=Count("pk"))
        .order_by("unit__path")
    )
    late: dict[tuple, int] = defaultdict(int)
    for row in rows:
        step = overdue_step(row["state"], period, on)
        if step is not None:
            late[(row["unit__path"], row["unit__code"], row["unit__name"], step.key)] += row["n"]
    steps = {s.key: s for s in STEPS}
    return [
        LateUnit(
            code,
            name,
            steps[key].label,
            steps[key].deadline(period),
            n,
            (on - steps[key].deadline(period)).days,
        )
        for (_path, code, name, key), n in sorted(late.items())
    ]


@dataclass
class TenantReport:
    period: Period
    rule_set: rules.RuleSet
    on: date
    deadline: date
    lateness: rules.Ruling
    units: list[UnitCounts]
    groups: list[QuotaGroupSummary]
    late: list[LateUnit]
    deferrals: list[tuple]
    flags: list[FlaggedCadre]
    reassignments: list[tuple]
    discrepancies: list[tuple]

    @property
    def totals(self) -> dict:
        return {g: sum(u.grades.get(g, 0) for u in self.units) for g in GRADES}


def tenant_report(period: Period, units: Sequence[Unit], on: date | None = None) -> TenantReport:
    """R16: what the level above receives for the quarter, over the subtrees of ``units``."""
    on = on or timezone.localdate()
    rule_set = rule_set_for(period.tenant, period.start_date)
    evaluations = scope_evaluations(period, units)
    special = (
        evaluations.filter(Q(state=S.DEFERRED) | Q(reassignment_flag=True))
        .order_by("unit__path", "cadre__full_name")
        .values_list(
            "state",
            "reassignment_flag",
            "cadre__code",
            "cadre__full_name",
            "unit__name",
            "deferral_case",
            "deferral_reason",
            "decided_grade",
            "decision_comment",
        )
    )
    deferrals, reassignments = [], []
    for state, reassign, code, name, unit, case, reason, grade, comment in special:
        if state == S.DEFERRED:
            deferrals.append((code, name, unit, case, reason))
        if reassign:
            reassignments.append((code, name, unit, grade_label(grade), comment))
    return TenantReport(
        period=period,
        rule_set=rule_set,
        on=on,
        deadline=rules.report_deadline(period.year, period.quarter, rule_set),
        lateness=rules.is_report_late(period.year, period.quarter, on, rule_set),
        units=counts_by_unit(period, units),
        groups=quota_groups(units, period, members=False),
        late=late_units(period, units, on),
        deferrals=deferrals,
        flags=sorted(replacement_flags(period, evaluations).values(), key=lambda f: f.full_name),
        reassignments=reassignments,
        discrepancies=discrepancy_rows(period, units),
    )


def _person(user) -> str:
    """A user's display name from prefetched columns: the cadre's name, else the account's."""
    cadre = getattr(user, "cadre", None)
    return cadre.full_name if cadre else (user.get_full_name() or user.username)


def discrepancy_rows(period: Period, units: Sequence[Unit]) -> list[tuple]:
    found = (
        Discrepancy.objects.filter(evaluation__in=scope_evaluations(period, units).values("pk"))
        .select_related("evaluation__cadre", "evaluation__unit", "proposer__cadre", "head")
        .order_by("evaluation__unit__path", "evaluation__cadre__full_name")
    )
    return [
        (
            d.evaluation.cadre.code,
            d.evaluation.cadre.full_name,
            d.evaluation.unit.name,
            _person(d.proposer),
            d.head.full_name if d.head else "",
            grade_label(d.proposed_grade),
            grade_label(d.decided_grade),
        )
        for d in found
    ]


# --- Dashboards -----------------------------------------------------------------------------


@dataclass
class Table:
    caption: str
    columns: list
    rows: list
    note: str = ""
    more: int = 0  # rows left out after the first LIST_LIMIT


def _capped(queryset) -> tuple[list, int]:
    """The first LIST_LIMIT rows of a values_list and how many more there are, in one query
    (the window counts the rows before the LIMIT cuts them)."""
    rows = list(queryset.annotate(_listed_of=Window(Count("*")))[:LIST_LIMIT])
    total = rows[0][-1] if rows else 0
    return [row[:-1] for row in rows], total - len(rows)


@dataclass
class Section:
    """A chart and the table that carries the same figures for screen readers and print."""

    key: str
    title: str
    table: Table
    chart: dict | None = None
    extra_tables: list = field(default_factory=list)


@dataclass
class Dashboard:
    title: str
    period: Period | None
    on: date
    sections: list[Section]
    total: int = 0


def _num(value) -> float:
    return float(value) if value is not None else 0.0


def _chart(kind: str, labels, datasets, *, stacked: bool = False, horizontal: bool = False):
    return {
        "type": kind,
        "labels": [str(label) for label in labels],
        "datasets": [
            {"label": str(label), "data": [_num(v) for v in data]} for label, data in datasets
        ],
        "stacked": stacked,
        "horizontal": horizontal,
    }


def _year_counts(period: Period, evaluations) -> dict[int, dict[tuple[str, str], int]]:
    """The current evaluations of the period's year of the cadres of ``evaluations``, counted
    by quarter, state and decided grade: ``{quarter: {(state, grade): n}}``.

    One cadre has one current evaluation a quarter, so the period's own quarter counts the
    scope itself: the steps, the grades and the trend all read this one query. The year's
    periods are given by id: joined by year, PostgreSQL misjudges the rows and loops."""
    periods = dict(
        Period.objects.filter(tenant_id=period.tenant_id, year=period.year).values_list(
            "pk", "quarter"
        )
    )
    counts: dict[int, dict] = {q: defaultdict(int) for q in range(1, 5)}
    year = Evaluation.objects.filter(
        tenant_id=period.tenant_id,
        is_current=True,
        period_id__in=list(periods),
        cadre_id__in=evaluations.values("cadre_id"),
    )
    for period_id, state, grade, n in (
        year.order_by().values_list("period_id", "state", "decided_grade").annotate(n=Count("pk"))
    ):
        counts[periods[period_id]][(state, grade)] += n
    return counts


def _steps_section(period: Period, evaluations, quarter: dict, on: date) -> Section:
    by_state: dict[str, int] = defaultdict(int)
    for (state, _grade), n in quarter.items():
        if state != S.DEFERRED:
            by_state[state] += n
    rows, done_data, pending_data, late_data = [], [], [], []
    for step in STEPS:
        done = sum(n for state, n in by_state.items() if step.is_done(state))
        pending = sum(by_state.values()) - done
        is_past = step.deadline(period) < on
        late = pending if is_past else 0
        rows.append((step.label, step.deadline(period), done, pending, late))
        done_data.append(done)
        pending_data.append(pending - late)
        late_data.append(late)
    section = Section(
        key="steps",
        title=_("Progress through the five steps"),
        table=Table(
            caption=_("Evaluations that have done each step, against the step's deadline"),
            columns=[_("Step"), _("Deadline"), _("Done"), _("Not yet"), _("Late")],
            rows=rows,
        ),
        chart=_chart(
            "bar",
            [s.label for s in STEPS],
            [(_("Done"), done_data), (_("Not yet, in time"), pending_data), (_("Late"), late_data)],
            stacked=True,
            horizontal=True,
        ),
    )
    late_states = [s for s in STATE_ORDER if overdue_step(s, period, on) is not None]
    if late_states:
        late_qs = evaluations.filter(state__in=late_states)
        listed = list(
            late_qs.order_by("unit__path", "cadre__full_name").values_list(
                "cadre__full_name", "unit__name", "state"
            )[:LIST_LIMIT]
        )
        late_rows = []
        for name, unit_name, state in listed:
            step = overdue_step(state, period, on)
            late_rows.append(
                (
                    name,
                    unit_name,
                    S(state).label,
                    step.label,
                    step.deadline(period),
                    (on - step.deadline(period)).days,
                )
            )
        total_late = sum(n for state, n in by_state.items() if state in late_states)
        section.extra_tables.append(
            Table(
                caption=_("Who is late"),
                columns=[
                    _("Cadre"),
                    _("Unit"),
                    _("Step reached"),
                    _("Overdue step"),
                    _("Deadline"),
                    _("Days late"),
                ],
                rows=late_rows,
                more=total_late - len(late_rows),
            )
        )
    return section


def _grades_section(period: Period, units: Sequence[Unit], quarter: dict) -> Section:
    deferred = sum(n for (state, _grade), n in quarter.items() if state == S.DEFERRED)
    decided = [
        sum(n for (state, grade), n in quarter.items() if grade == g and state != S.DEFERRED)
        for g in GRADES
    ]
    undecided = sum(quarter.values()) - deferred - sum(decided)
    groups = quota_groups(units, period, members=False)
    # The groups over their quota first, the rest in the tree's order, so that the short list
    # holds what needs acting on; the count of those over the quota stays exact.
    listed = sorted(groups, key=lambda g: g.check.within_quota)[:LIST_LIMIT]
    note = ""
    if len(groups) > len(listed):
        over = sum(not g.check.within_quota for g in groups)
        if over:
            note = ngettext(
                "%(over)s of %(total)s quota groups is over its quota; it is listed first.",
                "%(over)s of %(total)s quota groups are over their quota; those are listed first.",
                over,
            ) % {"over": over, "total": len(groups)}
        else:
            note = _("None of the %(total)s quota groups is over its quota.") % {
                "total": len(groups)
            }
    group_rows = [
        (
            g.unit_name,
            f"{g.percent}%",
            g.good,
            g.check.quota,
            g.excellent,
            g.proposed_excellent,
            _("Yes") if g.check.within_quota else _("No"),
        )
        for g in listed
    ]
    return Section(
        key="grades",
        title=_("Grades against the Excellent quota"),
        table=Table(
            caption=_("Decided grades"),
            columns=[_("Grade"), _("Evaluations")],
            rows=[(g.label, n) for g, n in zip(GRADES, decided, strict=True)]
            + [(_("Not decided yet"), undecided), (_("Deferred"), deferred)],
        ),
        chart=_chart(
            "bar",
            [g.label for g in GRADES],
            [(_("Decided grades"), decided)],
        ),
        extra_tables=[
            Table(
                caption=_("Excellent quota by quota group (R9)"),
                columns=[
                    _("Quota group"),
                    _("Quota"),
                    _("Good decided"),
                    _("Excellent allowed"),
                    _("Excellent decided"),
                    _("Excellent proposed"),
                    _("Within the quota"),
                ],
                rows=group_rows,
                note=note,
                more=len(groups) - len(listed),
            )
        ],
    )


def _axes_section(evaluations) -> Section:
    rows = (
        Task.objects.filter(evaluation__in=evaluations.values("pk"))
        .values("axis")
        .annotate(
            total=Count("pk"),
            weight=Sum("weight"),
            on_time=Count("pk", filter=Q(progress=Task.Progress.ON_TIME)),
            late=Count("pk", filter=Q(progress=Task.Progress.LATE)),
            not_done=Count("pk", filter=Q(progress=Task.Progress.NOT_DONE)),
            level1=Count("pk", filter=Q(quality_level=1)),
            level2=Count("pk", filter=Q(quality_level=2)),
            level3=Count("pk", filter=Q(quality_level=3)),
        )
        .order_by("axis")
    )
    by_axis = {row["axis"]: row for row in rows}
    labels, table_rows = [], []
    series = {"on_time": [], "late": [], "not_done": [], "unvetted": []}
    for axis, label in [*AXIS_CHOICES, (None, gettext_lazy("No axis"))]:
        row = by_axis.get(axis)
        if row is None:
            continue
        unvetted = row["total"] - row["on_time"] - row["late"] - row["not_done"]
        labels.append(label)
        for key, value in (
            ("on_time", row["on_time"]),
            ("late", row["late"]),
            ("not_done", row["not_done"]),
            ("unvetted", unvetted),
        ):
            series[key].append(value)
        table_rows.append(
            (
                label,
                row["total"],
                row["on_time"],
                row["late"],
                row["not_done"],
                unvetted,
                row["level1"],
                row["level2"],
                row["level3"],
            )
        )
    return Section(
        key="axes",
        title=_("Results by axis"),
        table=Table(
            caption=_("Tasks by result axis, as vetted"),
            columns=[
                _("Axis"),
                _("Tasks"),
                _("On time"),
                _("Late"),
                _("Not done"),
                _("Not vetted yet"),
                _("Quality level 1"),
                _("Quality level 2"),
                _("Quality level 3"),
            ],
            rows=table_rows,
        ),
        chart=_chart(
            "bar",
            [str(label)[:40] for label in labels],
            [
                (_("On time"), series["on_time"]),
                (_("Late"), series["late"]),
                (_("Not done"), series["not_done"]),
                (_("Not vetted yet"), series["unvetted"]),
            ],
            stacked=True,
            horizontal=True,
        ),
    )


LENIENCY_STAGES = (
    ("self_grade", gettext_lazy("Self-proposed")),
    ("vetted_grade", gettext_lazy("Vetting")),
    ("proposed_grade", gettext_lazy("Direct superior level")),
    ("decided_grade", gettext_lazy("Decided")),
)


def _leniency_section(evaluations, *, per_cadre: bool) -> Section:
    counts = {
        f"{stage}_{g.value}": Count("pk", filter=Q(**{stage: g.value}))
        for stage, _label in LENIENCY_STAGES
        for g in GRADES
    }
    totals = evaluations.aggregate(
        avg_self=Avg("self_score"),
        avg_vetted=Avg("vetted_score"),
        avg_decided=Avg("vetted_score", filter=~Q(decided_grade="")),
        **counts,
    )
    rows = [
        (label, *[totals[f"{stage}_{g.value}"] for g in GRADES]) for stage, label in LENIENCY_STAGES
    ]
    datasets = [
        (label, [totals[f"{stage}_{g.value}"] for g in GRADES]) for stage, label in LENIENCY_STAGES
    ]

    def avg(value):
        return rules.round_half_up(Decimal(value)) if value is not None else None

    section = Section(
        key="leniency",
        title=_("Leniency: self-assessment, vetting, proposal and decision"),
        table=Table(
            caption=_("Grades at each stage"),
            columns=[_("Stage"), *[g.label for g in GRADES]],
            rows=rows,
            note=_(
                "Average self-score %(self)s, vetted score %(vetted)s, vetted score of the "
                "decided evaluations %(decided)s."
            )
            % {
                "self": avg(totals["avg_self"]) if totals["avg_self"] is not None else "—",
                "vetted": avg(totals["avg_vetted"]) if totals["avg_vetted"] is not None else "—",
                "decided": avg(totals["avg_decided"]) if totals["avg_decided"] is not None else "—",
            },
        ),
        chart=_chart("bar", [g.label for g in GRADES], datasets),
    )
    proposers, more_proposers = _capped(
        evaluations.filter(proposed_by__isnull=False)
        .values_list(
            "proposed_by",
            "proposed_by__username",
            "proposed_by__first_name",
            "proposed_by__last_name",
            "proposed_by__cadre__full_name",
        )
        .annotate(
            proposals=Count("pk"),
            decided=Count("pk", filter=~Q(decided_grade="")),
            higher=Count("pk", filter=Q(discrepancy__isnull=False)),
        )
        .order_by("-higher", "proposed_by__username")
    )
    section.extra_tables.append(
        Table(
            caption=_("Proposals higher than the decision, per proposer (R17)"),
            columns=[
                _("Proposer"),
                _("Proposals"),
                _("Decided"),
                _("Proposed higher than decided"),
            ],
            rows=[
                (
                    cadre_name or f"{first} {last}".strip() or username,
                    proposals,
                    decided,
                    higher,
                )
                for _pk, username, first, last, cadre_name, proposals, decided, higher in proposers
            ],
            more=more_proposers,
        )
    )
    heads, more_heads = _capped(
        Discrepancy.objects.filter(evaluation__in=evaluations.values("pk"))
        .values_list("head__full_name")
        .annotate(n=Count("pk"))
        .order_by("-n", "head__full_name")
    )
    section.extra_tables.append(
        Table(
            caption=_("Proposals higher than the decision, per head of the unit (R17)"),
            columns=[_("Head"), _("Proposed higher than decided")],
            rows=[(name or "—", n) for name, n in heads],
            more=more_heads,
        )
    )
    if per_cadre:
        section.extra_tables.append(_gaps_table(evaluations))
    return section


def _gaps_table(evaluations) -> Table:
    listed, more = _capped(
        evaluations.filter(self_score__isnull=False)
        .order_by("cadre__full_name", "cadre_id")
        .values_list(
            "cadre__full_name",
            "self_score",
            "vetted_score",
            "self_grade",
            "proposed_grade",
            "decided_grade",
        )
    )
    return Table(
        caption=_("Self-score against vetted score, per cadre"),
        columns=[
            _("Cadre"),
            _("Self-score"),
            _("Vetted score"),
            _("Difference"),
            _("Self-proposed grade"),
            _("Proposed grade"),
            _("Decided grade"),
        ],
        rows=[
            (
                name,
                self_score,
                vetted,
                (self_score - vetted) if vetted is not None else None,
                grade_label(sg),
                grade_label(pg),
                grade_label(dg),
            )
            for name, self_score, vetted, sg, pg, dg in listed
        ],
        more=more,
    )


def _trend_section(period: Period, evaluations, counts: dict, *, per_cadre: bool) -> Section:
    """The year of the period quarter by quarter: counts by grade, and the first cadres' rows.

    The counts come from ``_year_counts``; the cells are read for the listed cadres only (the
    first LIST_LIMIT of the scope by name), not for the whole scope."""
    per_quarter = {q: defaultdict(int) for q in range(1, 5)}
    for quarter, by_state in counts.items():
        for (state, grade), n in by_state.items():
            if state == S.DEFERRED:
                per_quarter[quarter]["deferred"] += n
            elif grade:
                per_quarter[quarter][grade] += n
    quarters = [
        _("Q%(quarter)s/%(year)s") % {"quarter": q, "year": period.year} for q in range(1, 5)
    ]
    datasets = [(g.label, [per_quarter[q][g.value] for q in range(1, 5)]) for g in GRADES]
    section = Section(
        key="trend",
        title=_("The year quarter by quarter"),
        table=Table(
            caption=_("Decided grades by quarter"),
            columns=[_("Quarter"), *[g.label for g in GRADES], _("Deferred")],
            rows=[
                (
                    quarters[q - 1],
                    *[per_quarter[q][g.value] for g in GRADES],
                    per_quarter[q]["deferred"],
                )
                for q in range(1, 5)
            ],
        ),
        chart=_chart("bar", quarters, datasets, stacked=True),
    )
    if per_cadre:
        listed = evaluations.order_by("cadre__full_name", "cadre_id").values("cadre_id")
        cells: dict[int, dict] = {}
        for cadre_id, name, quarter, state, grade, score in (
            Evaluation.objects.filter(
                tenant_id=period.tenant_id,
                is_current=True,
                period__year=period.year,
                cadre_id__in=listed[:LIST_LIMIT],
            )
            .order_by("cadre__full_name", "cadre_id", "period__quarter")
            .values_list(
                "cadre_id",
                "cadre__full_name",
                "period__quarter",
                "state",
                "decided_grade",
                "vetted_score",
            )
        ):
            if state == S.DEFERRED:
                cell = _("Deferred")
            elif grade:
                cell = grade_label(grade)
                if score is not None:
                    cell = f"{cell} ({formats.localize(score)})"
            else:
                cell = S(state).label
            cells.setdefault(cadre_id, {"name": name, 1: "", 2: "", 3: "", 4: ""})[quarter] = cell
        section.extra_tables.append(
            Table(
                caption=_("Year trend per cadre"),
                columns=[_("Cadre"), *quarters],
                rows=[(c["name"], c[1], c[2], c[3], c[4]) for c in cells.values()],
                more=sum(counts[period.quarter].values()) - len(cells),
            )
        )
    return section


def dashboard(
    period: Period, units: Sequence[Unit], *, title: str, per_cadre: bool, on: date | None = None
) -> Dashboard:
    """A unit's or a tenant's dashboard over the subtrees of ``units``."""
    on = on or timezone.localdate()
    evaluations = scope_evaluations(period, units)
    counts = _year_counts(period, evaluations)
    sections = [
        _steps_section(period, evaluations, counts[period.quarter], on),
        _grades_section(period, units, counts[period.quarter]),
        _axes_section(evaluations),
        _leniency_section(evaluations, per_cadre=per_cadre),
        _trend_section(period, evaluations, counts, per_cadre=per_cadre),
    ]
    return Dashboard(title=title, period=period, on=on, sections=sections)


def dashboard_cache_key(
    period: Period, units: Sequence[Unit], *, per_cadre: bool, on: date, language: str
) -> str:
    """The cache key of a dashboard: everything its figures and words depend on.

    The tenant and the scope's units are in the key, so that an entry is only ever read for the
    scope it was computed for (the access checks are made before the cache is read); a long
    list of units is hashed, the tenant stays readable."""
    ids = ",".join(str(pk) for pk in sorted(unit.pk for unit in units))
    if len(ids) > 64:
        ids = hashlib.sha256(ids.encode()).hexdigest()
    return (
        f"reporting:dashboard:t{period.tenant_id}:p{period.pk}:u{ids}:"
        f"{'cadres' if per_cadre else 'counts'}:{on.isoformat()}:{language}"
    )


# --- The central organisation commission: every tenant, counts only -------------------------


def central_quarters() -> list[tuple[int, int]]:
    return list(
        Period.objects.order_by("-year", "-quarter").values_list("year", "quarter").distinct()
    )


def central_dashboard(year: int, quarter: int, on: date | None = None) -> Dashboard:
    """Every tenant's figures for one quarter, aggregated: counts, no person's name."""
    on = on or timezone.localdate()
    evaluations = Evaluation.objects.filter(
        is_current=True, period__year=year, period__quarter=quarter
    )
    per_tenant = (
        evaluations.values("tenant_id", "tenant__name")
        .annotate(
            **_grade_counts(
                published=Count("pk", filter=Q(state=S.PUBLISHED)),
                discrepancies=Count("pk", filter=Q(discrepancy__isnull=False)),
            )
        )
        .order_by("tenant__name")
    )
    periods = {p.pk: p for p in Period.objects.filter(year=year, quarter=quarter)}
    states = evaluations.values("period_id", "tenant_id", "state").annotate(n=Count("pk"))
    late_by_tenant: dict[int, int] = defaultdict(int)
    step_totals = {s.key: [0, 0, 0] for s in STEPS}  # done, pending in time, late
    for row in states:
        period = periods[row["period_id"]]
        if row["state"] == S.DEFERRED:
            continue
        if overdue_step(row["state"], period, on) is not None:
            late_by_tenant[row["tenant_id"]] += row["n"]
        for step in STEPS:
            if step.is_done(row["state"]):
                step_totals[step.key][0] += row["n"]
            elif step.deadline(period) < on:
                step_totals[step.key][2] += row["n"]
            else:
                step_totals[step.key][1] += row["n"]
    tenant_rows, totals = [], defaultdict(int)
    for row in per_tenant:
        decided = [row[f"g_{g.value}"] for g in GRADES]
        for g, n in zip(GRADES, decided, strict=True):
            totals[g] += n
        tenant_rows.append(
            (
                row["tenant__name"],
                row["total"],
                *decided,
                row["deferred"],
                row["published"],
                late_by_tenant[row["tenant_id"]],
                row["discrepancies"],
            )
        )
    label = _("Q%(quarter)s/%(year)s") % {"quarter": quarter, "year": year}
    sections = [
        Section(
            key="tenants",
            title=_("Grades by organisation"),
            table=Table(
                caption=_("Counts by organisation for %(quarter)s") % {"quarter": label},
                columns=[
                    _("Organisation"),
                    _("Evaluations"),
                    *[g.label for g in GRADES],
                    _("Deferred"),
                    _("Published"),
                    _("Late"),
                    _("Proposed higher than decided"),
                ],
                rows=tenant_rows,
            ),
            chart=_chart(
                "bar",
                [g.label for g in GRADES],
                [(_("Decided grades"), [totals[g] for g in GRADES])],
            ),
        ),
        Section(
            key="steps",
            title=_("Progress through the five steps"),
            table=Table(
                caption=_("Evaluations of every organisation by step"),
                columns=[_("Step"), _("Done"), _("Not yet, in time"), _("Late")],
                rows=[(s.label, *step_totals[s.key]) for s in STEPS],
            ),
            chart=_chart(
                "bar",
                [s.label for s in STEPS],
                [
                    (_("Done"), [step_totals[s.key][0] for s in STEPS]),
                    (_("Not yet, in time"), [step_totals[s.key][1] for s in STEPS]),
                    (_("Late"), [step_totals[s.key][2] for s in STEPS]),
                ],
                stacked=True,
                horizontal=True,
            ),
        ),
        _axes_section(evaluations),
    ]
    return Dashboard(
        title=_("All organisations, %(quarter)s") % {"quarter": label},
        period=None,
        on=on,
        sections=sections,
        total=sum(row[1] for row in tenant_rows),
    )


# --- Form 5 -----------------------------------------------------------------------------------


def evaluation_for_form5(user, pk) -> Evaluation:
    """An evaluation the user may view, with what Form 5 prints; another's is a 404."""
    evaluation = get_for_user_or_404(
        Evaluation.objects.select_related(
            "cadre", "unit", "period", "tenant", "vetted_by", "proposed_by", "decided_by"
        ),
        user=user,
        pk=pk,
    )
    if not can(user, Action.VIEW, evaluation):
        raise Http404
    return evaluation
