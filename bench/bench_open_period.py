"""Time ``services.period_open`` for one tenant of 50,000 cadres (issue 6).

Run (the database is created if missing, migrated, then filled with a new tenant each run):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cadreval_bench \
        .venv/bin/python bench/bench_open_period.py --cadres 50000

Options: ``--cadres N`` (default 50,000), ``--units N`` (default N / 25, about 2,000 at full
size). The tenant gets a tree of units, one post and one assignment per cadre, 1 % of cadres
who moved unit during the quarter (R12), 1 % on long leave (R11), 1 % graded yearly
(R18) and 1 % deferred last quarter with unfinished tasks to carry over (R11).
It prints the time to build the data, then the time and the query count of ``period_open``.
"""

import argparse
import os
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database named in DATABASE_URL if it does not exist yet."""
    import dj_database_url
    import psycopg

    config = dj_database_url.parse(url)
    if "postgresql" not in config["ENGINE"]:
        raise SystemExit("DATABASE_URL must point at PostgreSQL")
    with psycopg.connect(
        dbname="postgres",
        user=config["USER"],
        password=config["PASSWORD"] or None,
        host=config["HOST"] or None,
        port=config["PORT"] or None,
        autocommit=True,
    ) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{config["NAME"]}"')


class QueryCounter:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def build_tenant(cadre_count: int, unit_count: int):
    """A tenant of ``cadre_count`` cadres in ``unit_count`` units, with bulk inserts only."""
    from cadres.models import PATH_STEP, Absence, Assignment, Cadre, Position, Tenant, Unit
    from evaluation import services
    from evaluation.models import Evaluation, EvaluationState, Period, Task

    stamp = f"{time.time_ns()}"
    tenant = Tenant.objects.create(
        code=f"bench-{stamp}", name=f"Bench {stamp}", kind=Tenant.Kind.PROVINCIAL_COMMITTEE
    )
    root = Unit.objects.create(tenant=tenant, kind="party_committee", code="ROOT", name="Tỉnh ủy")
    root.path = f"{root.pk:0{PATH_STEP}d}"
    Unit.objects.filter(pk=root.pk).update(path=root.path)
    districts = Unit.objects.bulk_create(
        [
            Unit(tenant=tenant, parent=root, kind="district", code=f"D{i}", name=f"Huyện {i}")
            for i in range(max(1, unit_count // 30))
        ]
    )
    for unit in districts:
        unit.path, unit.depth = root.path + f"{unit.pk:0{PATH_STEP}d}", 1
    Unit.objects.bulk_update(districts, ["path", "depth"])
    leaves = Unit.objects.bulk_create(
        [
            Unit(
                tenant=tenant,
                parent=districts[i % len(districts)],
                kind="department",
                code=f"P{i}",
                name=f"Phòng {i}",
            )
            for i in range(unit_count - len(districts) - 1)
        ],
        batch_size=2000,
    )
    for unit in leaves:
        unit.path = unit.parent.path + f"{unit.pk:0{PATH_STEP}d}"
        unit.depth = 2
    Unit.objects.bulk_update(leaves, ["path", "depth"], batch_size=2000)
    units = [root, *districts, *leaves]

    one_percent = max(1, cadre_count // 100)
    cadres = Cadre.objects.bulk_create(
        [
            Cadre(
                tenant=tenant,
                code=f"CB{i:06d}",
                full_name=f"Cán bộ {i}",
                evaluation_mode="yearly" if i < one_percent else "quarterly",
            )
            for i in range(cadre_count)
        ],
        batch_size=5000,
    )
    roles = ["head", "deputy", "deputy", "member", "member", "member", "member", "member"]
    positions = Position.objects.bulk_create(
        [
            Position(
                tenant=tenant,
                unit=units[i % len(units)],
                title=f"Chức vụ {i}",
                kind=(
                    Position.Kind.COMMITTEE_MEMBER if i < one_percent else Position.Kind.LEADERSHIP
                ),
                collective_role=roles[(i // len(units)) % len(roles)],
            )
            for i in range(cadre_count + one_percent)
        ],
        batch_size=5000,
    )
    assignments = [
        Assignment(
            tenant=tenant,
            cadre=cadre,
            position=positions[i],
            start_date=date(2025, 1, 1),
            # The second percentile moves on 15/05 to a post in another unit (R12).
            end_date=date(2026, 5, 14) if one_percent <= i < 2 * one_percent else None,
        )
        for i, cadre in enumerate(cadres)
    ]
    assignments += [
        Assignment(
            tenant=tenant,
            cadre=cadres[one_percent + j],
            position=positions[cadre_count + j],
            start_date=date(2026, 5, 15),
        )
        for j in range(one_percent)
    ]
    Assignment.objects.bulk_create(assignments, batch_size=5000)
    Absence.objects.bulk_create(
        [
            Absence(
                tenant=tenant,
                cadre=cadres[2 * one_percent + j],
                kind="sick_leave",
                start_date=date(2026, 4, 1),
                end_date=date(2026, 6, 20),
            )
            for j in range(one_percent)
        ]
    )
    previous = services.period_create(tenant=tenant, year=2026, quarter=1)
    deferred = Evaluation.objects.bulk_create(
        [
            Evaluation(
                tenant=tenant,
                period=previous,
                cadre=cadres[3 * one_percent + j],
                unit=positions[3 * one_percent + j].unit,
                collective_role="member",
                state=EvaluationState.DEFERRED,
                deferral_case="R11a",
            )
            for j in range(one_percent)
        ]
    )
    Task.objects.bulk_create(
        [
            Task(
                tenant=tenant,
                evaluation=evaluation,
                order=k,
                title=f"Nhiệm vụ {k}",
                weight=25,
                axis=1,
                primary_responsible_id=evaluation.cadre_id,
                status="pending",
            )
            for evaluation in deferred
            for k in range(4)
        ]
    )
    period = Period.objects.create(
        tenant=tenant,
        year=2026,
        quarter=2,
        start_date=date(2026, 4, 1),
        end_date=date(2026, 6, 30),
        plan_deadline=date(2026, 4, 15),
        self_assessment_deadline=date(2026, 6, 24),
        vetting_deadline=date(2026, 6, 27),
        proposal_deadline=date(2026, 6, 30),
        decision_deadline=date(2026, 7, 2),
        report_deadline=date(2026, 7, 4),
    )
    return tenant, period


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cadres", type=int, default=50_000)
    parser.add_argument("--units", type=int, default=None)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database the benchmark may fill.")
    ensure_database(url)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from evaluation import services
    from evaluation.models import CriterionScore, Evaluation, Task

    call_command("migrate", verbosity=0)
    units = args.units or max(40, args.cadres // 25)
    started = time.perf_counter()
    tenant, period = build_tenant(args.cadres, units)
    print(
        f"built tenant {tenant.code}: {args.cadres:,} cadres in {units:,} units "
        f"in {time.perf_counter() - started:.1f} s"
    )

    counter = QueryCounter()
    started = time.perf_counter()
    with connection.execute_wrapper(counter):
        summary = services.period_open(period=period)
    elapsed = time.perf_counter() - started
    print(
        f"period_open: {elapsed:.1f} s, {counter.count} queries (COPY streams not counted); "
        f"created {summary.created:,}, "
        f"deferred {summary.deferred:,}, carried over {summary.carried_over:,}, "
        f"not this quarter (R18) {summary.not_this_quarter:,}, skipped {len(summary.skipped):,}"
    )
    print(
        f"rows: {Evaluation.objects.filter(period=period).count():,} evaluations, "
        f"{CriterionScore.objects.filter(evaluation__period=period).count():,} criterion scores, "
        f"{Task.objects.filter(evaluation__period=period).count():,} carried tasks"
    )
    counter = QueryCounter()
    started = time.perf_counter()
    with connection.execute_wrapper(counter):
        again = services.period_open(period=period)
    print(
        f"period_open again: {time.perf_counter() - started:.1f} s, {counter.count} queries, "
        f"created {again.created}"
    )


if __name__ == "__main__":
    main()
