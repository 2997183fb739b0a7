"""Where one page spends its time: SQL against Python, the slowest queries, the busiest functions.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cadreval_bench50k \\
        .venv/bin/python bench/profile_page.py scale-organisation "/reports/organisation/?period=3"

The page is rendered in this process with the benchmark's settings (DEBUG=0), once to warm up,
then ``--repeat`` times with every query timed, then once under cProfile. ``--explain`` prints
the plan (EXPLAIN ANALYZE) of the slowest query. ``--all-proposed GROUP`` renders the page as it
is at the end of a quarter, every current evaluation of the quota group waiting for a decision
(a decision board whose every line carries a grade select), in a transaction rolled back.
"""

import argparse
import cProfile
import io
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import loadgen  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("username")
    parser.add_argument("path")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--sort", default="tottime", help="pstats order: tottime, cumulative…")
    parser.add_argument("--all-proposed", type=int, metavar="GROUP", help="quota group id")
    args = parser.parse_args()
    loadgen.setup_django(static=True)
    from django.db import connection, transaction

    with transaction.atomic():
        if args.all_proposed:
            from evaluation.models import Evaluation, EvaluationState

            Evaluation.objects.filter(quota_group_id=args.all_proposed, is_current=True).exclude(
                state=EvaluationState.DEFERRED
            ).update(state=EvaluationState.PROPOSED, decided_grade="")
        profile(args, connection)
        transaction.set_rollback(True)


def profile(args, connection):
    from django.test import Client

    from cadres.models import User

    client = Client()
    client.force_login(User.objects.get(username=args.username))
    response = client.get(args.path)
    print(f"status {response.status_code}, {len(response.content):,} bytes")
    queries = loadgen.QueryLog()
    totals = []
    for _ in range(args.repeat):
        queries.clear()
        started = time.perf_counter()
        with connection.execute_wrapper(queries):
            client.get(args.path)
        totals.append((time.perf_counter() - started, sum(q[0] for q in queries), len(queries)))
    for total, sql_time, count in totals:
        print(
            f"total {total * 1000:8.1f} ms: SQL {sql_time * 1000:8.1f} ms in {count} queries, "
            f"Python and template {(total - sql_time) * 1000:8.1f} ms"
        )
    print("\nslowest queries of the last render:")
    for seconds, sql, _params in sorted(queries, key=lambda q: q[0], reverse=True)[:8]:
        print(f"{seconds * 1000:8.1f} ms  {' '.join(sql.split())[:300]}")
    if args.explain and queries:
        seconds, sql, params = max(queries, key=lambda q: q[0])
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            print("\n" + "\n".join(row[0] for row in cursor.fetchall()))
    profiler = cProfile.Profile()
    profiler.enable()
    client.get(args.path)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats(args.sort).print_stats(args.top)
    print("\n" + "\n".join(out.getvalue().splitlines()[: args.top + 12]))


if __name__ == "__main__":
    main()
