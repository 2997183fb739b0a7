"""Reads of periods and evaluations, scoped to the user's tenant and role grants.

Every list here is built in a fixed number of queries whatever the number of cadres, so the
screens that show them keep a pinned query count. ``scoring`` and ``services`` import this
module, so it imports them only inside functions.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from django.core.paginator import Page, Paginator
from django.db.models import (
    Case,
    Count,
    DecimalField,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, NullIf
from django.http import Http404
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cadres.models import Cadre, Position, Unit, display_name
from cadres.roles import Role, covers, granted_units, subtree_q
from config.compiled_query import CompiledQuery, attnames, instances
from evaluation import rules
from evaluation.models import (
    CatalogueItem,
    CatalogueVersion,
    Collective,
    Discrepancy,
    Evaluation,
    EvaluationState,
    Period,
    PublishedResult,
    QuotaGroup,
    RuleSetVersion,
    SuspensionProposal,
)
from evaluation.permissions import Action, actionable_evaluations, visible_evaluations

# ---------------------------------------------------------------------------------------------
# Home page


@dataclass
class WorkItem:
    """One line of a home section: what waits, how many, and where to do it."""

    label: str
    url: str
    count: int | None = None
    detail: str = ""


@dataclass
class HomeSection:
    """What waits for one role of the signed-in user on the home page."""

    key: str
    title: str
    units: list = field(default_factory=list)
    items: list = field(default_factory=list)
    empty_text: str = _("Nothing is waiting for you.")


ROLE_SECTION_TITLES = {
    Role.SUPERIOR: _("Direct superior level: plans to approve and assessments to propose on"),
    Role.ADVISORY: _("Personnel advisory body: assessments to vet"),
    Role.AUTHORITY: _("Managing authority: grades to decide"),
    Role.ORGANISATION: _("Organisation department: results to publish and reports"),
    Role.ADMINISTRATOR: _("Tenant administrator: organisation, cadres and periods"),
}


def open_periods(user):
    if user.tenant_id is None:
        return Period.objects.none()
    return Period.objects.for_tenant(user.tenant_id).filter(status=Period.Status.OPEN)


def _count_item(user, action, label, url) -> WorkItem:
    return WorkItem(label=label, url=url, count=actionable_evaluations(user, action).count())


def _role_items(user, role: Role) -> list[WorkItem]:
    if role == Role.SUPERIOR:
        return [
            _count_item(
                user, Action.APPROVE_PLAN, _("Plans to approve"), reverse("superior_inbox")
            ),
            _count_item(
                user,
                Action.PROPOSE,
                _("Assessments to propose a grade on"),
                reverse("superior_inbox") + "#propose",
            ),
        ]
    if role == Role.ADVISORY:
        return [
            _count_item(user, Action.VET, _("Assessments to vet"), reverse("vetting_queue")),
            WorkItem(_("Standard product catalogue"), reverse("catalogue_list")),
        ]
    if role == Role.AUTHORITY:
        return [
            _count_item(user, Action.DECIDE, _("Grades to decide"), reverse("decision_list")),
            WorkItem(
                _("Suspension proposals awaiting a decision"),
                reverse("suspension_list"),
                count=pending_suspensions(user).count(),
            ),
            WorkItem(
                _("Catalogue versions awaiting approval"),
                reverse("catalogue_list"),
                count=tenant_catalogues(user)
                .filter(status=CatalogueVersion.Status.SUBMITTED)
                .count(),
            ),
            WorkItem(
                _("Discrepancies between proposals and decisions (R17)"), reverse("discrepancies")
            ),
            WorkItem(_("Reassignment and replacement flags"), reverse("flags")),
        ]
    if role == Role.ORGANISATION:
        return [
            _count_item(
                user, Action.PUBLISH, _("Decided results to publish"), reverse("publication")
            ),
            WorkItem(_("Progress of the units"), reverse("progress")),
            WorkItem(_("Published results"), reverse("results")),
        ]
    return [
        WorkItem(_("Units and posts"), reverse("admin_units")),
        WorkItem(_("Cadres, assignments and absences"), reverse("admin_cadres")),
        WorkItem(_("Role grants"), reverse("admin_roles")),
        WorkItem(_("Periods"), reverse("admin_periods")),
        WorkItem(_("Rule sets"), reverse("admin_rule_sets")),
    ]


def home_sections(user) -> list[HomeSection]:
    """One section per role the user holds, the cadre's own quarter first."""
    sections = []
    if getattr(user, "cadre", None) is not None:
        items = [
            WorkItem(
                label=str(evaluation.period),
                url=reverse("evaluation_detail", args=[evaluation.pk]),
                detail=evaluation.get_state_display(),
            )
            for evaluation in my_current_evaluations(user)
        ]
        items.append(WorkItem(_("My quarter and past results"), reverse("my_quarter")))
        sections.append(HomeSection(key="cadre", title=_("My quarter"), items=items))
    for role, title in ROLE_SECTION_TITLES.items():
        units = granted_units(user, role)
        if units:
            sections.append(
                HomeSection(key=role.value, title=title, units=units, items=_role_items(user, role))
            )
    if user.is_central_observer:
        try:
            items = [WorkItem(_("Reports across tenants"), reverse("reporting:index"))]
        except NoReverseMatch:  # the reporting app is not mounted
            items = []
        sections.append(
            HomeSection(
                key="central",
                title=_("Central organisation commission: all tenants"),
                items=items,
            )
        )
    return sections


def unread_notifications(user, limit: int = 5):
    return user.notifications.filter(read_at__isnull=True).order_by("-created_at")[:limit]


# ---------------------------------------------------------------------------------------------
# Rule sets


def rule_set_for(tenant, on) -> rules.RuleSet:
    """The tenant's rule set in force on a date; the defaults when the tenant has none."""
    cache = tenant.__dict__.setdefault("_rule_sets", None)
    if cache is None:
        cache = [
            rules.RuleSet.from_dict(
                params | {"version": version, "effective_from": effective_from.isoformat()}
            )
            for params, version, effective_from in _RULE_SETS.rows(tenant_id=tenant.pk)
        ]
        tenant.__dict__["_rule_sets"] = cache
    candidates = [r for r in cache if r.effective_from <= on]
    if not candidates:
        return rules.DEFAULT_RULE_SET
    return rules.rule_set_in_force(candidates, on)


# Read by every score of every step (config/compiled_query.py says why).
_RULE_SETS = CompiledQuery(
    lambda tenant_id: RuleSetVersion.objects.filter(tenant_id=tenant_id).values_list(
        "params", "version", "effective_from"
    )
)


def tenant_rule_sets(tenant):
    return RuleSetVersion.objects.for_tenant(tenant).order_by("-effective_from")


# ---------------------------------------------------------------------------------------------
# Evaluations

EVALUATION_RELATED = ("cadre", "unit", "period", "tenant", "quota_group")


def evaluation_for_user(user, pk) -> Evaluation:
    """One evaluation the user may open; anything else, another tenant's included, is a 404."""
    try:
        return visible_evaluations(user).select_related(*EVALUATION_RELATED).get(pk=pk)
    except (Evaluation.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def evaluation_dossier(evaluation: Evaluation) -> dict:
    """The tasks, criteria and log of one evaluation, in three queries."""
    return {
        "tasks": list(
            evaluation.tasks.select_related("primary_responsible", "catalogue_item").order_by(
                "order", "pk"
            )
        ),
        "criteria": list(evaluation.criterion_scores.order_by("order")),
        "log": list(evaluation.log.select_related("actor__cadre").order_by("created_at", "pk")),
    }


def my_current_evaluations(user):
    """The signed-in cadre's evaluations of the open quarters, until they are published."""
    return (
        Evaluation.objects.filter(
            cadre__user=user,
            tenant_id=user.tenant_id,
            is_current=True,
            period__status=Period.Status.OPEN,
        )
        .exclude(state=EvaluationState.PUBLISHED)
        # The cadre is joined for the filter anyway; the next-step check reads it.
        .select_related("period", "unit", "cadre")
        .order_by("-period__year", "-period__quarter")
    )


def my_history(user):
    """The signed-in cadre's published and closed quarters with their records, newest first."""
    return (
        Evaluation.objects.filter(cadre__user=user, tenant_id=user.tenant_id, is_current=True)
        .filter(Q(state=EvaluationState.PUBLISHED) | ~Q(period__status=Period.Status.OPEN))
        .select_related("period", "unit", "published_result")
        .order_by("-period__year", "-period__quarter")
    )


def inbox(user, action):
    """Evaluations waiting for the user's action, ordered by unit then name."""
    return (
        actionable_evaluations(user, action)
        .select_related(*EVALUATION_RELATED)
        .order_by("unit__path", "period__year", "period__quarter", "cadre__full_name")
    )


# Rows of a page of the superior's inbox, in each of its two lists.
INBOX_PAGE_SIZE = 50


def superior_inbox(user, plans_page=1, propose_page=1, per_page: int | None = None):
    """A page of each list of the superior's inbox: plans to approve, assessments to propose on.

    Two queries whatever the length of the lists: the ids and states of both lists in their
    order (the counts come with them), then the rows of the two pages, with only the columns
    the inbox shows. Ordered by unit, quarter and name, as ``inbox``.
    """
    waiting = actionable_evaluations(user, Action.APPROVE_PLAN) | actionable_evaluations(
        user, Action.PROPOSE
    )
    plans, to_propose = [], []
    for pk, state in waiting.order_by(*_INBOX_ORDER).values_list("pk", "state"):
        (plans if state == EvaluationState.PLAN_SUBMITTED else to_propose).append(pk)
    size = per_page or INBOX_PAGE_SIZE
    pages = (
        Paginator(plans, size).get_page(plans_page),
        Paginator(to_propose, size).get_page(propose_page),
    )
    found = _inbox_lines([pk for page in pages for pk in page.object_list])
    for page in pages:
        page.object_list = [found[pk] for pk in page.object_list if pk in found]
    return pages


@dataclass(frozen=True)
class InboxUnit:
    pk: int
    name: str


@dataclass(frozen=True)
class InboxLine:
    """One line of the superior's inbox, as plain values: building the lines as evaluations
    with their cadre, unit and quarter took twice as long as reading the columns."""

    pk: int
    unit_id: int
    unit: InboxUnit
    period: str
    plan_deadline: date
    cadre_name: str
    collective_role_label: str
    self_score: Decimal | None
    vetted_score: Decimal | None
    computed_grade: str
    vetted_grade: str


def _inbox_lines(ids: list[int]) -> dict[int, InboxLine]:
    roles = dict(Evaluation._meta.get_field("collective_role").flatchoices)
    units, quarters, lines = {}, {}, {}
    for (
        pk,
        unit_id,
        unit_name,
        year,
        quarter,
        plan_deadline,
        cadre_name,
        role,
        *figures,
    ) in Evaluation.objects.filter(pk__in=ids).values_list(
        "pk",
        "unit_id",
        "unit__name",
        "period__year",
        "period__quarter",
        "period__plan_deadline",
        "cadre__full_name",
        "collective_role",
        "self_score",
        "vetted_score",
        "computed_grade",
        "vetted_grade",
    ):
        unit = units.setdefault(unit_id, InboxUnit(unit_id, unit_name))
        if (year, quarter) not in quarters:
            quarters[year, quarter] = str(Period(year=year, quarter=quarter))  # its label
        lines[pk] = InboxLine(
            pk,
            unit_id,
            unit,
            quarters[year, quarter],
            plan_deadline,
            cadre_name,
            roles.get(role, role),
            *figures,
        )
    return lines


# An evaluation's cadre's name, read through the primary key: a join makes PostgreSQL hash the
# tenant's whole cadre table for a page of lines. Unordered: it is one row, and the cadres'
# default order would sort each one.
CADRE_NAME = Subquery(
    Cadre.objects.filter(pk=OuterRef("cadre_id")).order_by().values("full_name")[:1]
)


# The unit's path, the quarter, the cadre's name, then the id for a stable page boundary.
_INBOX_ORDER = (
    "unit__path",
    "period__year",
    "period__quarter",
    CADRE_NAME,
    "pk",
)


def by_unit(evaluations) -> list[tuple[InboxUnit, list[InboxLine]]]:
    """Group the inbox's lines (ordered by unit) under their unit, keeping the order."""
    groups: dict[int, tuple[Unit, list]] = {}
    for evaluation in evaluations:
        groups.setdefault(evaluation.unit_id, (evaluation.unit, []))[1].append(evaluation)
    return list(groups.values())


# ---------------------------------------------------------------------------------------------
# Managing authority


# Quota groups on a page of the decision list: a tenant-wide authority has one per unit and
# open quarter (4,000 at 50,000 cadres).
GROUP_PAGE_SIZE = 50


def quota_groups_page(user, number=1, per_page: int | None = None) -> Page:
    """A page of the quota groups of the open quarters under the user's authority, with counts.

    Two queries whatever the number of groups: the ids of every group in order (their number is
    the paginator's count), then the page's groups with their counts of evaluations.
    """
    units = granted_units(user, Role.AUTHORITY)
    ids = list(
        QuotaGroup.objects.for_tenant(user.tenant_id)
        .filter(period__status=Period.Status.OPEN)
        .filter(subtree_q(units, prefix="unit__"))
        .order_by("-period__year", "-period__quarter", "unit__path", "pk")
        .values_list("pk", flat=True)
    )
    page = Paginator(ids, per_page or GROUP_PAGE_SIZE).get_page(number)
    current = Q(evaluations__is_current=True)
    found = {
        group.pk: group
        for group in QuotaGroup.objects.filter(pk__in=page.object_list)
        .select_related("unit", "period")
        .annotate(
            total=Count("evaluations", filter=current),
            to_decide=Count(
                "evaluations", filter=current & Q(evaluations__state=EvaluationState.PROPOSED)
            ),
            decided=Count(
                "evaluations",
                filter=current
                & Q(evaluations__state__in=[EvaluationState.DECIDED, EvaluationState.PUBLISHED]),
            ),
            proposed_excellent=Count(
                "evaluations",
                filter=current
                & Q(evaluations__proposed_grade=rules.Grade.EXCELLENT)
                & ~Q(evaluations__collective_role=Position.CollectiveRole.HEAD),
            ),
        )
    }
    page.object_list = [found[pk] for pk in page.object_list if pk in found]
    return page


def quota_group_for_user(user, pk, role: Role = Role.AUTHORITY) -> QuotaGroup:
    """A quota group under the user's role, with its unit, quarter and tenant; another
    tenant's, an uncovered one or a key that is no key is a 404."""
    try:
        pk = int(pk)
    except (TypeError, ValueError) as exc:
        raise Http404 from exc
    if user.tenant_id is None or not 0 < pk < 2**63:
        raise Http404
    found = _QUOTA_GROUP.rows(pk=pk, tenant_id=user.tenant_id)
    if not found:
        raise Http404
    group, group.unit, group.period = instances(found[0], QuotaGroup, Unit, Period)
    group.tenant = user.tenant  # the same: the group was read by it
    if not covers(user, role, group.unit):
        raise Http404
    return group


# Read by every board and every tick of its quota meter (config/compiled_query.py says why).
_QUOTA_GROUP = CompiledQuery(
    lambda pk, tenant_id: QuotaGroup.objects.filter(pk=pk, tenant_id=tenant_id).values_list(
        *attnames(QuotaGroup),
        *(f"unit__{name}" for name in attnames(Unit)),
        *(f"period__{name}" for name in attnames(Period)),
    )
)


# Rows of a decision board page: a select, a flag and a version field each, and the reasons
# inline. At 50,000 cadres a page of 50 renders in about half the time of a page of 100.
BOARD_PAGE_SIZE = 50


# The board's order: the head, the deputies, then by score, then by name, then the id. The
# score is the vetted one, else the computed one, zero and missing counting as 0, as
# ``vetted_score or computed_score or 0`` did when the board was sorted in Python.
BOARD_ORDER = (
    Case(
        When(collective_role=Position.CollectiveRole.HEAD, then=Value(0)),
        When(collective_role=Position.CollectiveRole.DEPUTY, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    ),
    Coalesce(
        NullIf("vetted_score", Value(0)),
        NullIf("computed_score", Value(0)),
        Value(0),
        output_field=DecimalField(max_digits=4, decimal_places=1),
    ).desc(),
    CADRE_NAME,
    "pk",
)


# What a line of the board shows and what deciding it checks (``permissions.acting_role``),
# as ``BoardRow`` attribute → column; the decision itself reads the whole row again under a lock.
_BOARD_COLUMNS = {
    "pk": "pk",
    "tenant_id": "tenant_id",
    "unit_id": "unit_id",
    "is_current": "is_current",
    "state": "state",
    "version": "version",
    "collective_role": "collective_role",
    "computed_score": "computed_score",
    "computed_grade": "computed_grade",
    "computed_reasons": "computed_reasons",
    "vetted_score": "vetted_score",
    "vetted_grade": "vetted_grade",
    "proposed_grade": "proposed_grade",
    "decided_grade": "decided_grade",
    "reassignment_flag": "reassignment_flag",
    "proposed_by_id": "proposed_by_id",
    "cadre_name": "cadre__full_name",
    "cadre_user_id": "cadre__user_id",
    "proposer_username": "proposed_by__username",
    "proposer_first_name": "proposed_by__first_name",
    "proposer_last_name": "proposed_by__last_name",
    "proposer_cadre_name": "proposed_by__cadre__full_name",
}


class BoardCadre(NamedTuple):
    full_name: str
    user_id: int | None


class BoardRow:
    """One line of the decision board, read as values rather than as three models a line.

    It carries what the line shows and what is read of an evaluation by the permission check
    (``permissions.acting_role``: tenant, unit, state, cadre's account, proposer), by the
    decision form (``forms.BoardForm``) and by the decision service, which locks the
    evaluation by its key and copies what it read into the row (``services._transition``).
    """

    def __init__(self, values: dict, unit: Unit, tenant):
        self.__dict__.update(values)
        self.cadre = BoardCadre(self.cadre_name, self.cadre_user_id)
        self.proposer_name = (
            display_name(
                self.proposer_username,
                self.proposer_first_name,
                self.proposer_last_name,
                self.proposer_cadre_name,
            )
            if self.proposed_by_id
            else ""
        )
        self.unit, self.tenant = unit, tenant

    def __repr__(self):
        return f"<BoardRow {self.pk}: {self.cadre.full_name}, {self.state}>"


class GroupMember(NamedTuple):
    """What the decision board orders by and R9 reads (``scoring.quota_picture``) of one
    current member of a quota group (a tuple: a group of 500 builds 500 on every board)."""

    pk: int
    state: str
    collective_role: str
    decided_grade: str
    proposed_grade: str
    vetted_grade: str
    computed_grade: str
    vetted_score: Decimal | None
    computed_score: Decimal | None
    full_name: str


_MEMBER_COLUMNS = (
    "pk",
    "state",
    "collective_role",
    "decided_grade",
    "proposed_grade",
    "vetted_grade",
    "computed_grade",
    "vetted_score",
    "computed_score",
    CADRE_NAME,  # as in BOARD_ORDER: PostgreSQL computes it once
)


def _members_of(group_id, ordered):
    query = Evaluation.objects.filter(quota_group_id=group_id, is_current=True)
    return (query.order_by(*BOARD_ORDER) if ordered else query).values_list(*_MEMBER_COLUMNS)


# Read on every board, in a shape that never changes: their SQL is built once (see there).
_MEMBERS = CompiledQuery(lambda group_id: _members_of(group_id, ordered=False))
_MEMBERS_IN_ORDER = CompiledQuery(lambda group_id: _members_of(group_id, ordered=True))
_BOARD_ROWS = CompiledQuery(
    lambda ids: Evaluation.objects.filter(pk__in=ids).values_list(*_BOARD_COLUMNS.values())
)


def group_members(group: QuotaGroup, *, ordered: bool = False) -> list[GroupMember]:
    """Every current evaluation of the quota group, deferred ones and the head included, in
    one query; in the board's order if asked."""
    query = _MEMBERS_IN_ORDER if ordered else _MEMBERS
    return list(map(GroupMember._make, query.rows(group_id=group.pk)))


def board_page(group: QuotaGroup, number=1, per_page: int | None = None) -> Page:
    """One page of a quota group's current evaluations in the board's order.

    Two queries whatever the page: the whole group in order (sorted in SQL; their number is the
    paginator's count; ``page.members`` keeps them for the R9 meter), then the rows of the page.
    A page number out of range gives the last page, anything that is not a number the first
    (``Paginator.get_page``).
    """
    members = group_members(group, ordered=True)
    page = Paginator([member.pk for member in members], per_page or BOARD_PAGE_SIZE).get_page(
        number
    )
    page.members = members
    names = list(_BOARD_COLUMNS)
    rows = _BOARD_ROWS.rows(ids=list(page.object_list)) if page.object_list else []
    found = {row["pk"]: row for row in (dict(zip(names, values, strict=True)) for values in rows)}
    # Every evaluation of a group shares its tenant and, but for a cadre moved since the
    # quarter opened, its unit: the others' units are read in one query.
    units = {group.unit_id: group.unit}
    moved = {values["unit_id"] for values in found.values()} - units.keys()
    if moved:
        units.update(Unit.objects.in_bulk(moved))
    page.object_list = [
        BoardRow(found[pk], units[found[pk]["unit_id"]], group.tenant)
        for pk in page.object_list
        if pk in found
    ]
    return page


def board_collective(group: QuotaGroup) -> Collective | None:
    """The collective of the group's unit with its number of targets, in one query."""
    for row in _BOARD_COLLECTIVE.rows(period_id=group.period_id, unit_id=group.unit_id):
        (collective,) = instances(row, Collective)
        collective.target_count = row[-1]
        return collective
    return None


_BOARD_COLLECTIVE = CompiledQuery(
    lambda period_id, unit_id: (
        Collective.objects.filter(period_id=period_id, unit_id=unit_id)
        .annotate(target_count=Count("targets"))
        .values_list(*attnames(Collective), "target_count")
    )
)


def collective_of_group(group: QuotaGroup) -> Collective | None:
    """The collective of the group's unit for the quarter, without creating it."""
    return (
        Collective.objects.filter(period_id=group.period_id, unit_id=group.unit_id)
        .prefetch_related("targets")
        .select_related("graded_by")
        .first()
    )


def authority_discrepancies(user):
    """R17 rows under the user's authority, newest first."""
    units = granted_units(user, Role.AUTHORITY)
    return (
        Discrepancy.objects.for_tenant(user.tenant_id)
        .filter(subtree_q(units, prefix="evaluation__unit__"))
        .select_related("proposer__cadre", "head", "evaluation__cadre", "evaluation__period")
        .order_by("-created_at")
    )


def discrepancy_totals(queryset) -> dict:
    """How many discrepancies each proposer and each head answers for."""
    by_proposer = list(
        queryset.order_by()
        .values("proposer__username", "proposer__first_name", "proposer__last_name")
        .annotate(n=Count("pk"))
        .order_by("-n", "proposer__username")
    )
    by_head = list(
        queryset.order_by()
        .filter(head__isnull=False)
        .values("head__full_name")
        .annotate(n=Count("pk"))
        .order_by("-n", "head__full_name")
    )
    return {"by_proposer": by_proposer, "by_head": by_head}


def reassignment_flags(user):
    """Decided evaluations the authority flagged for reassignment, under the user's authority."""
    units = granted_units(user, Role.AUTHORITY)
    return (
        Evaluation.objects.for_tenant(user.tenant_id)
        .filter(is_current=True, reassignment_flag=True)
        .filter(subtree_q(units, prefix="unit__"))
        .select_related("cadre", "unit", "period")
        .order_by("-period__year", "-period__quarter", "cadre__full_name")
    )


@dataclass
class ReplacementFlag:
    cadre_name: str
    unit_name: str
    reasons: tuple


def replacement_flags(user) -> list[ReplacementFlag]:
    """R15 for every cadre under the user's authority, from the decided grades in one query."""
    units = granted_units(user, Role.AUTHORITY)
    sequences: dict[int, list] = defaultdict(list)
    names: dict[int, tuple[str, str]] = {}
    rows = (
        Evaluation.objects.for_tenant(user.tenant_id)
        .filter(is_current=True)
        .filter(
            Q(state=EvaluationState.DEFERRED)
            | Q(state__in=[EvaluationState.DECIDED, EvaluationState.PUBLISHED])
        )
        .filter(subtree_q(units, prefix="unit__"))
        .order_by("cadre_id", "period__year", "period__quarter")
        .values_list("cadre_id", "cadre__full_name", "unit__name", "state", "decided_grade")
    )
    for cadre_id, name, unit_name, state, grade in rows:
        sequences[cadre_id].append(None if state == EvaluationState.DEFERRED else grade)
        names[cadre_id] = (name, unit_name)
    flags = []
    for cadre_id, grades in sequences.items():
        ruling = rules.replacement_flag(grades)
        if ruling.value:
            flags.append(ReplacementFlag(*names[cadre_id], ruling.reasons))
    return sorted(flags, key=lambda f: f.cadre_name)


def pending_suspensions(user):
    """Suspension proposals awaiting the authority, for cadres now posted under its units."""
    units = granted_units(user, Role.AUTHORITY)
    today = timezone.localdate()
    posted = SuspensionProposal.objects.filter(
        subtree_q(units, prefix="cadre__assignments__position__unit__"),
        cadre__assignments__start_date__lte=today,
    ).filter(
        Q(cadre__assignments__end_date__isnull=True) | Q(cadre__assignments__end_date__gte=today)
    )
    return (
        SuspensionProposal.objects.for_tenant(user.tenant_id)
        .filter(status=SuspensionProposal.Status.PENDING, pk__in=posted.values("pk"))
        .select_related("cadre", "proposed_by__cadre")
        .order_by("created_at")
    )


def suspension_for_user(user, pk) -> SuspensionProposal:
    try:
        return pending_suspensions(user).get(pk=pk)
    except (SuspensionProposal.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


# ---------------------------------------------------------------------------------------------
# Catalogue


def tenant_root(tenant_id) -> Unit | None:
    """The tenant's first root unit: the catalogue services check roles against it."""
    return Unit.objects.for_tenant(tenant_id).first()


def tenant_catalogues(user):
    return (
        CatalogueVersion.objects.for_tenant(user.tenant_id)
        .annotate(item_count=Count("items"))
        .select_related("submitted_by", "approved_by")
        .order_by("-number")
    )


def catalogue_for_user(user, pk) -> CatalogueVersion:
    try:
        return CatalogueVersion.objects.for_tenant(user.tenant_id).get(pk=pk)
    except (CatalogueVersion.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def approved_catalogue_items(tenant_id):
    return CatalogueItem.objects.filter(
        tenant_id=tenant_id, version__status=CatalogueVersion.Status.APPROVED
    ).order_by("axis", "code")


# ---------------------------------------------------------------------------------------------
# Organisation department


def tenant_periods(user):
    return Period.objects.for_tenant(user.tenant_id).order_by("-year", "-quarter")


def period_for_user(user, pk) -> Period:
    try:
        return Period.objects.for_tenant(user.tenant_id).get(pk=pk)
    except (Period.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def chosen_period(user, pk=None) -> Period | None:
    """The period asked for, else the latest open one, else the latest one."""
    if pk:
        return period_for_user(user, pk)
    periods = tenant_periods(user)
    return periods.filter(status=Period.Status.OPEN).first() or periods.first()


def publication_rows(user, periods) -> list[dict]:
    """Per period: decided results the user may publish, and those already published."""
    publishable = dict(
        actionable_evaluations(user, Action.PUBLISH)
        .filter(period__in=periods)
        .order_by()
        .values_list("period_id")
        .annotate(n=Count("pk"))
    )
    published = dict(
        PublishedResult.objects.filter(tenant_id=user.tenant_id, period__in=periods)
        .order_by()
        .values_list("period_id")
        .annotate(n=Count("pk"))
    )
    return [
        {"period": p, "publishable": publishable.get(p.pk, 0), "published": published.get(p.pk, 0)}
        for p in periods
    ]


# The step each state still waits for, and the period deadline of that step.
STEP_OF_STATE = {
    EvaluationState.PLANNING: ("plan_deadline", _("Targets")),
    EvaluationState.PLAN_SUBMITTED: ("plan_deadline", _("Approval of the targets")),
    EvaluationState.PLAN_APPROVED: ("self_assessment_deadline", _("Self-assessment")),
    EvaluationState.SELF_ASSESSED: ("vetting_deadline", _("Vetting")),
    EvaluationState.VETTED: ("proposal_deadline", _("Proposal")),
    EvaluationState.PROPOSED: ("decision_deadline", _("Decision")),
    EvaluationState.DECIDED: ("report_deadline", _("Publication")),
}
PROGRESS_STATES = [
    EvaluationState.PLANNING,
    EvaluationState.PLAN_SUBMITTED,
    EvaluationState.PLAN_APPROVED,
    EvaluationState.SELF_ASSESSED,
    EvaluationState.VETTED,
    EvaluationState.PROPOSED,
    EvaluationState.DECIDED,
    EvaluationState.PUBLISHED,
    EvaluationState.DEFERRED,
]


@dataclass
class UnitProgress:
    unit: Unit
    counts: list
    total: int
    late: list  # (step label, count, deadline)

    @property
    def late_total(self) -> int:
        return sum(n for _label, n, _deadline in self.late)


def period_progress(user, period: Period, on=None) -> list[UnitProgress]:
    """Per unit under the user's roles: evaluations at each step, and who is late where."""
    on = on or timezone.localdate()
    units = [u for role in (Role.ORGANISATION, Role.AUTHORITY) for u in granted_units(user, role)]
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for unit_id, state, n in (
        Evaluation.objects.filter(period=period, is_current=True)
        .filter(subtree_q(units, prefix="unit__"))
        .order_by()
        .values_list("unit_id", "state")
        .annotate(n=Count("pk"))
    ):
        counts[unit_id][state] = n
    rows = []
    for unit in Unit.objects.filter(pk__in=counts).order_by("path"):
        by_state = counts[unit.pk]
        late = []
        for state, (deadline_field, label) in STEP_OF_STATE.items():
            deadline = getattr(period, deadline_field)
            if by_state.get(state) and on > deadline:
                late.append((label, by_state[state], deadline))
        rows.append(
            UnitProgress(
                unit=unit,
                counts=[by_state.get(s, 0) for s in PROGRESS_STATES],
                total=sum(by_state.values()),
                late=late,
            )
        )
    return rows


def published_results(user, period: Period):
    """The published results of a quarter, for every member of the tenant to read."""
    return (
        PublishedResult.objects.filter(tenant_id=user.tenant_id, period=period)
        # A corrected result replaces the record of the revision it reopened.
        .exclude(evaluation__next_revision__published_result__isnull=False)
        .select_related("cadre", "evaluation__unit")
        .order_by("evaluation__unit__path", "cadre__full_name")
    )
