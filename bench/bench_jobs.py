"""Time the tenant-wide jobs at 50,000 cadres: opening a quarter, the R9 quota check, the R7/R8
completion recomputation, the R19 year-end roll-up and the R16 marking; queries and peak RSS.

Run against the tenant written by ``manage.py generate_scale`` (bench/README.md):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cadreval_bench50k \\
        .venv/bin/python bench/bench_jobs.py [--only open quota completion year_end marking]

Each job is the function the Celery task calls (``evaluation.jobs``), run in this process as a
worker would, inside a transaction that is rolled back: every run measures the same work on
the same data. The quota and completion jobs run on Q3/2026 (in vetting, proposal and decision);
the opening is of Q1/2027 (the year after the generated one, with Q4's deferrals carried over).
Inside one transaction the jobs' per-group commits are savepoints, so the figures leave out one
commit (an fsync) per quota group or unit.
"""

import argparse
import json
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import loadgen  # noqa: E402

GOALS = {"open": 60, "quota": 30, "completion": 30, "year_end": 60}


class Peak:
    """Peak RSS of this process while a job runs, sampled every 50 ms."""

    def __init__(self):
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, loadgen.rss_mb(os.getpid()) or 0)
            self._stop.wait(0.05)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


class Queries:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def run(name: str, body) -> dict:
    """Run ``body()`` in a transaction rolled back; time, queries, peak RSS and its result."""
    from django.db import connection, transaction

    counter = Queries()
    before = loadgen.rss_mb(os.getpid())
    with transaction.atomic(), Peak() as peak, connection.execute_wrapper(counter):
        started = time.perf_counter()
        outcome = body()
        seconds = time.perf_counter() - started
        transaction.set_rollback(True)
    figures = {
        "seconds": round(seconds, 1),
        "goal_seconds": GOALS.get(name),
        "queries": counter.count,
        "rss_before_mb": round(before or 0),
        "peak_rss_mb": round(peak.peak),
        "load": loadgen.load(),
        "result": {k: v for k, v in (outcome or {}).items() if k != "skipped"},
    }
    print(f"{name}: {json.dumps(figures, ensure_ascii=False)}", flush=True)
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenant", default="scale")
    parser.add_argument("--only", nargs="*")
    parser.add_argument("--json")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("Set DATABASE_URL to the database that generate_scale filled.")
    loadgen.setup_django()
    from datetime import date

    from cadres.models import Cadre, Tenant
    from evaluation import jobs, services
    from evaluation.models import Evaluation, Period

    loadgen.print_machine()
    tenant = Tenant.objects.get(code=args.tenant)
    q3 = Period.objects.get(tenant=tenant, year=2026, quarter=3)
    print(
        f"tenant {tenant.code}: {Cadre.objects.filter(tenant=tenant).count():,} cadres, "
        f"{Evaluation.objects.filter(tenant=tenant).count():,} evaluations; Q3 has "
        f"{Evaluation.objects.filter(period=q3, state__in=jobs.RECOMPUTED_STATES).count():,} "
        f"vetted or proposed, {q3.quota_groups.count():,} quota groups"
    )

    def open_next_quarter():
        period = services.period_create(tenant=tenant, year=2027, quarter=1)
        return jobs.open_period(tenant_id=tenant.pk, period_id=period.pk)

    plan = {
        "open": open_next_quarter,
        "quota": lambda: jobs.check_quotas(tenant_id=tenant.pk, period_id=q3.pk),
        "completion": lambda: jobs.recompute_completion(tenant_id=tenant.pk, period_id=q3.pk),
        "year_end": lambda: jobs.year_end_rollup(tenant_id=tenant.pk, year=2026),
        "marking": lambda: jobs.mark_reports(
            tenant_id=tenant.pk, period_id=q3.pk, as_of=date(2026, 11, 25)
        ),
    }
    figures = {}
    for name, body in plan.items():
        if args.only and name not in args.only:
            continue
        figures[name] = run(name, body)
    print("\njob            seconds  goal   queries  peak RSS MB  load")
    for name, row in figures.items():
        goal = f"{row['goal_seconds']} s" if row["goal_seconds"] else "—"
        print(
            f"{name:<14}{row['seconds']:>8.1f}  {goal:<6}{row['queries']:>8}  "
            f"{row['peak_rss_mb']:>11}  {row['load']}"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
