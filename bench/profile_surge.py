"""What one request of the quarter-end surge costs: the three autosaves and the submission of
``bench_surge.py``, made in this process for ``--cadres`` cadres, each timed with its queries.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cadreval_bench50k \\
        .venv/bin/python bench/profile_surge.py [--cadres 40] [--queries] [--profile]

Everything runs in one transaction that is rolled back, so the tenant is left as it was (the
per-request transactions become savepoints). ``--queries`` lists the queries of one cadre's
requests; ``--profile`` prints cProfile's busiest functions for them.
"""

import argparse
import cProfile
import json
import pstats
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_surge  # noqa: E402
import loadgen  # noqa: E402

STEPS = ("autosave 1–4", "autosave 5–8", "autosave criteria", "submit")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenant", default="scale")
    parser.add_argument("--cadres", type=int, default=40)
    parser.add_argument("--queries", action="store_true")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    loadgen.setup_django()
    from django.db import connection, transaction
    from django.test import Client

    queries = loadgen.QueryLog()
    figures = {step: [] for step in STEPS}
    profiler = cProfile.Profile()
    with transaction.atomic():
        _q4, work = bench_surge.prepare(argparse.Namespace(tenant=args.tenant, pool=args.cadres))
        client = Client()
        # The first cadre warms the process up and is left out of the figures.
        for number, item in enumerate(work):
            client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {item['token']}"
            path = f"/api/evaluations/{item['id']}"
            calls = [("patch", f"{path}/self-assessment/", b) for b in bench_surge.drafts(item)]
            calls.append(("post", f"{path}/self-assess/", {"confirm_warnings": True}))
            watched = number == len(work) // 2
            for step, (method, url, body) in zip(STEPS, calls, strict=True):
                queries.clear()
                if watched and args.profile:
                    profiler.enable()
                started = time.perf_counter()
                with connection.execute_wrapper(queries):
                    response = getattr(client, method)(
                        url, json.dumps(body), content_type="application/json"
                    )
                seconds = time.perf_counter() - started
                if watched and args.profile:
                    profiler.disable()
                if response.status_code != 200:
                    sys.exit(f"{step}: {response.status_code} {response.content[:300]!r}")
                if number:
                    figures[step].append((seconds, sum(q[0] for q in queries), len(queries)))
                if watched and args.queries:
                    print(f"\n{step}:")
                    for query_seconds, sql, _params in queries:
                        print(f"{query_seconds * 1000:7.2f} ms  {' '.join(sql.split())[:160]}")
        transaction.set_rollback(True)
    print(f"\nmedian of {args.cadres - 1} cadres, in this process:")
    for step, rows in figures.items():
        total = statistics.median(r[0] for r in rows) * 1000
        sql = statistics.median(r[1] for r in rows) * 1000
        print(f"  {step:18} {total:6.1f} ms, SQL {sql:5.1f} ms, {rows[0][2]} queries")
    if args.profile:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)


if __name__ == "__main__":
    main()
