"""The changes the figures call for in files issue 10 does not own, tried in this process by
replacing functions at run time, and timed against the code as it is.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cadreval_bench50k \\
        .venv/bin/python bench/try_fixes.py [--rounds 5] [--fixes trend quota roles board cache]

Each page is rendered as in bench_pages.py (same actors, DEBUG=0), alternately with the code
as it is and with the fix, ``--rounds`` times each; the medians and query counts are printed,
and whether the fixed page is byte for byte the same (CSRF tokens aside). Nothing is written
to the database. The proposed changes themselves are described in bench/README.md.
"""

import argparse
import re
import statistics
import sys
import time
from collections import defaultdict
from contextlib import ExitStack, contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import loadgen  # noqa: E402

TOKEN = re.compile(rb'(csrfmiddlewaretoken" value=|nonce=|"X-CSRFToken": )"[^"]*"')


# --- 1. reporting.selectors._trend_section: counts in SQL, names for the listed cadres only ---


def trend_section_in_sql(period, evaluations, *, per_cadre):
    from django.db.models import Count
    from django.utils import formats
    from django.utils.translation import gettext as _

    from evaluation.models import Evaluation
    from reporting import selectors as sel

    year = Evaluation.objects.filter(
        tenant_id=period.tenant_id,
        is_current=True,
        period__year=period.year,
        cadre_id__in=evaluations.values("cadre_id"),
    )
    per_quarter = {q: defaultdict(int) for q in range(1, 5)}
    for quarter, state, grade, n in (
        year.order_by()
        .values_list("period__quarter", "state", "decided_grade")
        .annotate(n=Count("pk"))
    ):
        if state == sel.S.DEFERRED:
            per_quarter[quarter]["deferred"] += n
        elif grade:
            per_quarter[quarter][grade] += n
    cadres: dict[int, dict] = {}
    if per_cadre:
        listed = list(
            evaluations.order_by("cadre__full_name", "cadre_id").values_list("cadre_id", flat=True)[
                : sel.LIST_LIMIT
            ]
        )
        for cadre_id, name, quarter, state, grade, score in (
            year.filter(cadre_id__in=listed)
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
            if state == sel.S.DEFERRED:
                cell = _("Deferred")
            elif grade:
                cell = sel.grade_label(grade)
                if score is not None:
                    cell = f"{cell} ({formats.localize(score)})"
            else:
                cell = sel.S(state).label
            cadres.setdefault(cadre_id, {"name": name, 1: "", 2: "", 3: "", 4: ""})[quarter] = cell
    # From here on, as reporting.selectors._trend_section does it.
    quarters = [
        _("Q%(quarter)s/%(year)s") % {"quarter": q, "year": period.year} for q in range(1, 5)
    ]
    datasets = [(g.label, [per_quarter[q][g.value] for q in range(1, 5)]) for g in sel.GRADES]
    section = sel.Section(
        key="trend",
        title=_("The year quarter by quarter"),
        table=sel.Table(
            caption=_("Decided grades by quarter"),
            columns=[_("Quarter"), *[g.label for g in sel.GRADES], _("Deferred")],
            rows=[
                (
                    quarters[q - 1],
                    *[per_quarter[q][g.value] for g in sel.GRADES],
                    per_quarter[q]["deferred"],
                )
                for q in range(1, 5)
            ],
        ),
        chart=sel._chart("bar", quarters, datasets, stacked=True),
    )
    if per_cadre:
        listed_rows = list(cadres.values())[: sel.LIST_LIMIT]
        section.extra_tables.append(
            sel.Table(
                caption=_("Year trend per cadre"),
                columns=[_("Cadre"), *quarters],
                rows=[(c["name"], c[1], c[2], c[3], c[4]) for c in listed_rows],
            )
        )
    return section


# --- 2. reporting.selectors.quota_groups(members=False): the counts in one GROUP BY ----------


def quota_groups_in_sql(original):
    def quota_groups(units, period, *, members=True):
        if members:
            return original(units, period, members=True)
        from django.db.models import Count, Q

        from cadres.models import Position
        from cadres.roles import subtree_q
        from evaluation import rules
        from evaluation.models import Evaluation, QuotaGroup
        from reporting import selectors as sel

        groups = {
            g.pk: sel.QuotaGroupSummary(g.unit.name, g.unit.code, g.percent)
            for g in QuotaGroup.objects.filter(period=period)
            .filter(subtree_q(list(units), prefix="unit__"))
            .select_related("unit")
            .order_by("unit__path")
        }
        counted = (
            Evaluation.objects.filter(quota_group_id__in=list(groups), is_current=True)
            .exclude(collective_role=Position.CollectiveRole.HEAD)
            .exclude(state=sel.S.DEFERRED)
            .values("quota_group_id")
            .annotate(
                good=Count("pk", filter=Q(decided_grade=rules.Grade.GOOD)),
                excellent=Count("pk", filter=Q(decided_grade=rules.Grade.EXCELLENT)),
                proposed=Count("pk", filter=Q(proposed_grade=rules.Grade.EXCELLENT)),
            )
            .order_by()
        )
        for row in counted if groups else []:
            group = groups[row["quota_group_id"]]
            group.good, group.excellent = row["good"], row["excellent"]
            group.proposed_excellent = row["proposed"]
        for group in groups.values():
            group.check = rules.quota_check(group.excellent, group.good, group.percent)
        return list(groups.values())

    return quota_groups


# --- 3. cadres.roles.granted_units: the five roles in one query ------------------------------


def granted_units_at_once(user, role):
    from cadres.models import UnitUserPermission
    from cadres.roles import Role

    cache = user.__dict__.setdefault("_granted_units", {})
    if role not in cache:
        found = {r: [] for r in Role}
        if user.is_authenticated and user.tenant_id is not None:
            seen = set()
            for grant in (
                UnitUserPermission.objects.filter(
                    user=user,
                    permission__content_type__app_label="cadres",
                    permission__codename__in=Role.values,
                    content_object__tenant_id=user.tenant_id,
                )
                .select_related("content_object", "permission")
                .order_by("content_object__path")
            ):
                key = (grant.permission.codename, grant.content_object_id)
                if key not in seen:
                    seen.add(key)
                    found[Role(grant.permission.codename)].append(grant.content_object)
        for r in Role:
            cache.setdefault(r, found[r])
    return cache[role]


# --- 4. the decision board: 100 rows a page, sorted and cut in SQL; light quota picture -----

BOARD_PAGE = 100


def board_rows_paged(group, page: int = 1):
    from django.db.models import Case, F, IntegerField, Value, When
    from django.db.models.functions import Coalesce

    from evaluation.models import Evaluation

    rows = list(
        Evaluation.objects.filter(quota_group=group, is_current=True)
        .select_related("cadre", "proposed_by__cadre")
        .order_by(
            # As evaluation.selectors.board_rows sorts in Python: head, deputies, then score.
            Case(
                When(collective_role="head", then=Value(0)),
                When(collective_role="deputy", then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            ),
            Coalesce(F("vetted_score"), F("computed_score"), Value(0)).desc(),
            "cadre__full_name",
        )[(page - 1) * BOARD_PAGE : page * BOARD_PAGE]
    )
    for row in rows:  # the group's own unit, period and tenant: no join per row
        row.unit, row.period, row.tenant = group.unit, group.period, group.tenant
    return rows


def quota_picture_light(original):
    """scoring.quota_picture reading only the columns it uses (not the reasons, comments…)."""
    from evaluation import scoring
    from evaluation.models import Evaluation

    class Only:
        """``Evaluation`` as quota_picture sees it: its queries load the columns it reads."""

        class objects:  # noqa: N801 - stands in for the manager
            @staticmethod
            def filter(*args, **kwargs):
                return Evaluation.objects.only(
                    "pk",
                    "quota_group_id",
                    "collective_role",
                    "state",
                    "decided_grade",
                    "proposed_grade",
                    "vetted_grade",
                    "computed_grade",
                    "vetted_score",
                    "computed_score",
                    "is_current",
                    "cadre__full_name",
                ).filter(*args, **kwargs)

    def quota_picture(group, *, deciding=None):
        scoring.Evaluation = Only
        try:
            return original(group, deciding=deciding)
        finally:
            scoring.Evaluation = Evaluation

    return quota_picture


# --- 5. the dashboards: cached for a minute per scope, period, day and language ---------------


def dashboard_cached(original):
    def dashboard(period, units, *, title, per_cadre, on=None):
        from django.core.cache import cache
        from django.utils import timezone, translation

        day = on or timezone.localdate()
        key = "dashboard:{}:{}:{}:{}:{}".format(
            period.pk,
            ",".join(str(u.pk) for u in sorted(units, key=lambda u: u.pk)),
            int(per_cadre),
            day.isoformat(),
            translation.get_language(),
        )
        board = cache.get(key)
        if board is None:
            board = original(period, units, title=title, per_cadre=per_cadre, on=on)
            cache.set(key, board, 60)
        return board

    return dashboard


# --- 6. evaluation.jobs._recompute_unit: tasks and criteria prefetched, one collective a unit


def recompute_unit_prefetched(period, unit_id):
    """jobs._recompute_unit with the members' tasks and criteria read in two queries and the
    unit's collective read once, instead of five queries for each member."""
    from django.utils import timezone

    from evaluation import jobs, rules, scoring
    from evaluation.models import Collective, Evaluation

    changed_collectives = 0
    collective = (
        Collective.objects.select_for_update()
        .filter(period=period, unit_id=unit_id)
        .select_related("period", "tenant")
        .first()
    )
    if collective is not None:
        targets = list(collective.targets.all())
        percent, reasons = None, []
        if targets and all(t.status != t.Status.PENDING for t in targets):
            result = scoring.collective_result(collective, targets)
            percent, reasons = result.percent, [r.as_dict() for r in result.reasons]
        if (collective.completion_percent, jobs._rules_of(collective.reasons)) != (
            percent,
            jobs._rules_of(reasons),
        ):
            Collective.objects.filter(pk=collective.pk).update(
                completion_percent=percent, reasons=reasons
            )
            changed_collectives = 1
            collective.completion_percent, collective.reasons = percent, reasons
    members = (
        Evaluation.objects.select_for_update(of=("self",))
        .filter(period=period, unit_id=unit_id, is_current=True, state__in=jobs.RECOMPUTED_STATES)
        .select_related("cadre", "unit")
        .prefetch_related("tasks", "criterion_scores")
        .order_by("pk")
    )
    original_collective_of = scoring.collective_of
    memo = {}

    def collective_of(evaluation):
        key = evaluation.collective_role == "none"
        if key not in memo:
            memo[key] = original_collective_of(evaluation)
        return memo[key]

    scoring.collective_of = collective_of
    changed = 0
    try:
        for evaluation in members:
            evaluation.tenant, evaluation.period = period.tenant, period
            before = (
                evaluation.computed_score,
                evaluation.computed_grade,
                evaluation.computed_reasons,
            )
            try:
                assessment = scoring.assess(evaluation, stage=scoring.Stage.VETTED)
            except rules.RuleInputError:
                continue
            scoring.store(evaluation, assessment)
            after = (
                evaluation.computed_score,
                evaluation.computed_grade,
                evaluation.computed_reasons,
            )
            if after[:2] != before[:2] or jobs._rules_of(after[2]) != jobs._rules_of(before[2]):
                Evaluation.objects.filter(pk=evaluation.pk).update(
                    computed_score=after[0],
                    computed_grade=after[1],
                    computed_reasons=after[2],
                    updated_at=timezone.now(),
                )
                changed += 1
    finally:
        scoring.collective_of = original_collective_of
    return changed_collectives, changed


# --- 7. evaluation.jobs.year_end_rollup: rows streamed cadre by cadre as tuples ---------------

YEAR_FIELDS = (
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


def year_end_rollup_streamed(*, tenant_id: int, year: int) -> dict:
    """jobs.year_end_rollup reading its rows as a stream of tuples, one cadre at a time, and
    keeping of each cadre only what the ranking and the store need (not every quarter's row)."""
    from datetime import date
    from itertools import groupby
    from operator import itemgetter

    from django.conf import settings
    from django.db import transaction
    from django.db.models import Q
    from django.utils import translation

    from cadres.models import Tenant
    from evaluation import jobs, rules
    from evaluation.models import Evaluation, EvaluationState
    from evaluation.selectors import rule_set_for

    tenant = Tenant.objects.get(pk=tenant_id)
    rule_set = rule_set_for(tenant, date(year, 10, 1))
    rows = (
        Evaluation.objects.filter(tenant_id=tenant_id, is_current=True, period__year__lte=year)
        .filter(Q(state__in=jobs.DECIDED_STATES) | Q(state=EvaluationState.DEFERRED))
        .order_by("cadre_id", "period__year", "period__quarter")
        .values_list(*YEAR_FIELDS)
        .iterator(chunk_size=5000)
    )
    keep = ("cadre__full_name", "cadre__code", "unit_id", "collective_role")
    proposals = {}
    with translation.override(settings.LANGUAGE_CODE):
        for cadre_id, group in groupby(rows, key=itemgetter(0)):
            history = [dict(zip(YEAR_FIELDS, row, strict=True)) for row in group]
            this_year = [r for r in history if r["period__year"] == year]
            if not this_year:
                continue
            proposal = rules.year_end_proposal(
                [
                    rules.QuarterOutcome(
                        quarter=r["period__quarter"],
                        grade=jobs._quarter_grade(r),
                        proposed_excellent=r["proposed_grade"] == rules.Grade.EXCELLENT,
                        score=r["vetted_score"],
                    )
                    for r in this_year
                ],
                rule_set,
                earlier_grades=[
                    jobs._quarter_grade(r) for r in history if r["period__year"] < year
                ],
                reprimand_or_degradation=any(r["discipline_note"] for r in this_year),
            )
            proposals[cadre_id] = {
                "row": {k: this_year[-1][k] for k in keep},
                "grade": proposal.grade,
                "proposal": proposal,
                "reasons": [r.as_dict() for r in proposal.reasons],
            }
        jobs._rank_year_end(proposals, rule_set)
        with transaction.atomic():
            written = jobs._store_year_end(tenant_id, year, proposals)
            notified = jobs._notify_replacement_flags(tenant_id, year)
    return {**written, "notified": notified}


# --- 8. services._apply_task_results: validate the self-assessment fields, not the whole row


def apply_task_results_light(evaluation, actor, results: dict) -> None:
    """services._apply_task_results validating only the fields the cadre sends: Django 5's
    full_clean() otherwise runs one query per check constraint and per foreign key of every
    task (some 20 queries a task). The fields' own checks (choices, lengths, dates) stay; the
    database keeps the constraints."""
    from django.core.exceptions import ValidationError
    from django.utils.translation import gettext as _

    from evaluation import services
    from evaluation.models import Task

    skip = [f.name for f in Task._meta.fields if f.name not in services.TASK_RESULT_FIELDS]
    changed, history = [], []
    for task, values in services._tasks_by_id(evaluation, results):
        unknown = set(values) - services.TASK_RESULT_FIELDS
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
        try:
            task.full_clean(exclude=skip, validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            raise ValidationError(
                {f"tasks.{task.pk}.{field}": errs for field, errs in exc.message_dict.items()}
            ) from exc
        changed.append(task)
    Task.objects.bulk_update(changed, sorted(services.TASK_RESULT_FIELDS))
    services._record_changes(
        evaluation, actor, [h for h in history if "score" in h[0] or "quality" in h[0]]
    )


@contextmanager
def replaced(module, name, new):
    """Replace ``module.name`` and every module's imported copy of it."""
    old = getattr(module, name)
    holders = [m for m in list(sys.modules.values()) if getattr(m, name, None) is old]
    for holder in holders:
        setattr(holder, name, new)
    try:
        yield
    finally:
        for holder in holders:
            setattr(holder, name, old)


def fix(name):
    from cadres import roles
    from evaluation import selectors as evaluation_selectors
    from reporting import selectors

    stack = ExitStack()
    if name == "trend":
        stack.enter_context(replaced(selectors, "_trend_section", trend_section_in_sql))
    elif name == "quota":
        new = quota_groups_in_sql(selectors.quota_groups)
        stack.enter_context(replaced(selectors, "quota_groups", new))
    elif name == "roles":
        stack.enter_context(replaced(roles, "granted_units", granted_units_at_once))
    elif name == "board":
        from evaluation import scoring

        stack.enter_context(replaced(evaluation_selectors, "board_rows", board_rows_paged))
        new = quota_picture_light(scoring.quota_picture)
        stack.enter_context(replaced(scoring, "quota_picture", new))
    elif name == "completion":
        from evaluation import jobs

        stack.enter_context(replaced(jobs, "_recompute_unit", recompute_unit_prefetched))
    elif name == "year_end":
        from evaluation import jobs

        stack.enter_context(replaced(jobs, "year_end_rollup", year_end_rollup_streamed))
    elif name == "autosave":
        from evaluation import services

        stack.enter_context(replaced(services, "_apply_task_results", apply_task_results_light))
    elif name == "cache":
        new = dashboard_cached(selectors.dashboard)
        stack.enter_context(replaced(selectors, "dashboard", new))
    return stack


ALL = ("trend", "quota", "roles", "board", "cache", "completion", "year_end", "autosave")


def apply_all(names=ALL) -> ExitStack:
    """Every proposed change at once (bench/gunicorn_try_fixes.py applies them in each worker)."""
    stack = ExitStack()
    for name in names:
        stack.enter_context(fix(name))
    return stack


PAGES_OF = {
    "trend": ["unit_dashboard", "tenant_dashboard"],
    "quota": ["unit_dashboard", "tenant_dashboard"],
    "roles": ["cadre", "inbox", "board"],
    "board": ["board"],
    "cache": ["unit_dashboard", "tenant_dashboard"],
    "completion": [],
    "year_end": [],
    "autosave": [],
}
SAME_PAGE = {"trend", "quota", "roles", "cache"}


def compare_completion(args, units: int = 200) -> None:
    """The R7/R8 recomputation of ``units`` units of Q3, as is and fixed, each rolled back."""
    from django.db import connection, transaction

    from evaluation import jobs
    from evaluation.models import Evaluation, Period

    period = Period.objects.get(tenant__code=args.tenant, year=2026, quarter=3)
    unit_ids = sorted(
        set(
            Evaluation.objects.filter(period=period, state__in=jobs.RECOMPUTED_STATES)
            .values_list("unit_id", flat=True)
            .distinct()
        )
    )[:units]
    members = Evaluation.objects.filter(
        period=period, unit_id__in=unit_ids, state__in=jobs.RECOMPUTED_STATES
    ).count()
    for label in ("as is", "fixed"):
        count = [0]

        def counter(execute, sql, params, many, context, count=count):
            count[0] += 1
            return execute(sql, params, many, context)

        with ExitStack() as stack:
            if label == "fixed":
                stack.enter_context(fix("completion"))
            with transaction.atomic(), connection.execute_wrapper(counter):
                started = time.perf_counter()
                outcome = jobs.recompute_completion(
                    tenant_id=period.tenant_id, period_id=period.pk, unit_ids=unit_ids
                )
                seconds = time.perf_counter() - started
                transaction.set_rollback(True)
        print(
            f"completion job, {len(unit_ids)} units ({members:,} vetted or proposed): {label}: "
            f"{seconds:.1f} s, {count[0]:,} queries, {outcome}",
            flush=True,
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenant", default="scale")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--fixes", nargs="*", default=list(PAGES_OF))
    args = parser.parse_args()
    loadgen.setup_django(static=True)
    import bench_pages
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from cadres.models import User

    pages, _password = bench_pages.targets(
        argparse.Namespace(tenant=args.tenant, small_tenant="-", users=1, pages=None, password=None)
    )
    pages = {p["key"]: p for p in pages}
    clients = {}

    def render(key):
        page = pages[key]
        if key not in clients:
            clients[key] = Client()
            clients[key].force_login(User.objects.get(username=page["users"][0]))
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            response = clients[key].get(page["path"])
        return time.perf_counter() - started, len(queries), TOKEN.sub(b"", response.content)

    print(f"load average: {loadgen.load()}")
    if "completion" in args.fixes:
        compare_completion(args)
    print(f"{'fix':<8}{'page':<18}{'as is ms':>10}{'fixed ms':>10}{'queries':>10}  same page")
    for name in args.fixes:
        for key in PAGES_OF.get(name, []):
            render(key)  # warm both code paths' caches (templates, rule sets)
            with fix(name):
                render(key)
            before, after = [], []
            for _ in range(args.rounds):
                seconds, queries_before, page_before = render(key)
                before.append(seconds)
                with fix(name):
                    if name == "cache":
                        from django.core.cache import cache

                        cache.clear()
                        miss = render(key)[0]
                    seconds, queries_after, page_after = render(key)
                after.append(seconds)
            same = page_before == page_after if name in SAME_PAGE else "—"
            extra = f" (first, uncached: {miss * 1000:.0f} ms)" if name == "cache" else ""
            print(
                f"{name:<8}{key:<18}{statistics.median(before) * 1000:>10.0f}"
                f"{statistics.median(after) * 1000:>10.0f}"
                f"{f'{queries_before}→{queries_after}':>10}  {same}{extra}",
                flush=True,
            )
    print(f"load average: {loadgen.load()}")


if __name__ == "__main__":
    main()
