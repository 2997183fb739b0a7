"""Latency, throughput and CPU a request of each actor's main page at 50,000 cadres, against a
baseline view measured in the same run; query counts at two sizes; peak RSS of the workers.

Run against the tenant written by ``manage.py generate_scale`` (bench/README.md):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cadreval_bench50k \\
        .venv/bin/python bench/bench_pages.py [--duration 30] [--users 20] [--json out.json]

It starts gunicorn as the issue asks (4 sync workers, DEBUG=0) unless ``--url`` names a running
server. Each page is first counted in this process (queries for a large and a small instance of
the same page), then loaded over loopback: one user alone for ``--single`` requests (the
unloaded latency), then ``--users`` users signed in through the login form, each sending its
next request as soon as the last one answered, for ``--duration`` seconds after a warm-up.

The baseline is ``GET /api/periods/<id>/`` as a signed-in cadre: the same middleware, session
and user lookups as every page, then one primary-key query and a small JSON body. A page's
ratio is its p95 (and p50) over the baseline's, so a busy machine shows in both. Each page
also gets the CPU its requests spent under the load, by process (``loadgen.CpuMeter``): on
shared cores the p95 is mostly the queue, and the CPU a request is what the queue is made of.
"""

import argparse
import json
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import loadgen  # noqa: E402

GOAL_P95_MS = 250
GOAL_RATIO = 4
GOAL_RSS_MB = 300


def parse():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenant", default="scale", help="code of the generated tenant")
    parser.add_argument("--small-tenant", default="scale-small", help="for the query counts")
    parser.add_argument("--password", default=None, help="of the generated accounts")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of load per page")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--single", type=int, default=10, help="requests of the lone user")
    parser.add_argument("--pages", nargs="*", help="only these page keys")
    parser.add_argument("--url", help="a running server instead of starting gunicorn")
    parser.add_argument("--port", type=int, default=8077)
    parser.add_argument(
        "--app-role", default="", help="run gunicorn as this role, row-level security on"
    )
    parser.add_argument("--json", help="write the figures to this file")
    return parser.parse_args()


def targets(args):
    """The pages, who opens them, and a smaller instance of each for the query counts."""
    from django.db.models import Count

    from cadres.models import Cadre, Tenant, Unit
    from evaluation.models import Period, QuotaGroup
    from evaluation.scale import BIG_GROUP_CODE, DEFAULT_PASSWORD, MID_UNIT_CODE

    tenant = Tenant.objects.get(code=args.tenant)
    code = tenant.code
    q3 = Period.objects.get(tenant=tenant, year=2026, quarter=3)
    big = Unit.objects.get(tenant=tenant, code=BIG_GROUP_CODE)
    block = Unit.objects.get(pk=big.ancestor_ids[1])
    group = QuotaGroup.objects.get(period=q3, unit=big)
    # Small instances: the smallest quota group of Q3 and the smallest leaf unit.
    small_group = (
        QuotaGroup.objects.filter(period=q3)
        .annotate(n=Count("evaluations"))
        .filter(n__gte=3)
        .order_by("n", "pk")
        .first()
    )
    small_unit = small_group.unit
    cadres = list(
        Cadre.objects.filter(tenant=tenant, assignments__position__unit=big, user__isnull=False)
        .order_by("code")
        .values_list("user__username", flat=True)[: args.users]
    )
    small_tenant = Tenant.objects.filter(code=args.small_tenant).first()
    password = args.password or DEFAULT_PASSWORD
    tenant_size = Cadre.objects.filter(tenant=tenant).count()
    organisation = f"{code}-organisation"
    pages = [
        {
            "key": "baseline",
            "title": "baseline: GET /api/periods/<id>/",
            "path": f"/api/periods/{q3.pk}/",
            "users": cadres,
            "small": (f"/api/periods/{q3.pk}/", cadres[-1]),
        },
        {
            "key": "cadre",
            "title": "cadre's quarter (/my/)",
            "path": "/my/",
            "users": cadres,
            "small": ("/my/", cadres[-1]),
        },
        {
            "key": "inbox",
            "title": f"superior's inbox, unit of {_cadres_in(Unit, MID_UNIT_CODE, tenant)} cadres",
            "path": "/inbox/",
            "users": [f"{code}-sup-{MID_UNIT_CODE.lower()}"],
            "small": ("/inbox/", f"{code}-sup-{small_unit.code.lower()}"),
        },
        {
            "key": "board",
            "title": f"decision board, quota group of {group.evaluations.count()} (Q3)",
            "path": f"/decisions/{group.pk}/",
            "users": [f"{code}-authority"],
            "small": (f"/decisions/{small_group.pk}/", f"{code}-authority"),
        },
        {
            "key": "unit_dashboard",
            "title": f"unit dashboard, {block.name} ({_subtree_cadres(block)} cadres, Q3)",
            "path": f"/reports/units/{block.pk}/?period={q3.pk}",
            "users": [organisation],
            "small": (f"/reports/units/{small_unit.pk}/?period={q3.pk}", organisation),
        },
        {
            "key": "tenant_dashboard",
            "title": f"tenant dashboard, {tenant_size:,} cadres (Q3)",
            "path": f"/reports/organisation/?period={q3.pk}",
            "users": [organisation],
            "small": None,
        },
    ]
    if small_tenant is not None:
        small_q3 = Period.objects.get(tenant=small_tenant, year=2026, quarter=3)
        pages[-1]["small"] = (
            f"/reports/organisation/?period={small_q3.pk}",
            f"{small_tenant.code}-organisation",
        )
    if args.pages:
        pages = [p for p in pages if p["key"] in args.pages or p["key"] == "baseline"]
    return pages, password


def _cadres_in(unit_model, code, tenant) -> int:
    from cadres.models import Cadre

    return Cadre.objects.filter(
        tenant=tenant, assignments__position__unit__code=code, assignments__end_date=None
    ).count()


def _subtree_cadres(unit) -> int:
    from cadres.models import Cadre

    return (
        Cadre.objects.filter(
            tenant_id=unit.tenant_id,
            assignments__position__unit__path__startswith=unit.path,
            assignments__end_date=None,
        )
        .distinct()
        .count()
    )


def count_queries(path: str, username: str) -> dict:
    """Render the page in this process and count its queries (the second of two renders)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import Resolver404, resolve

    from cadres.models import User

    try:
        resolve(path.split("?")[0])
    except Resolver404:
        return {"missing": True}
    client = Client()
    client.force_login(User.objects.get(username=username))
    client.get(path)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    return {
        "status": response.status_code,
        "queries": len(queries),
        "bytes": len(response.content),
        "rows": response.content.count(b"<tr"),
    }


def sign_in_all(base: str, usernames: list[str], password: str) -> dict:
    """One signed-in session per distinct account (PBKDF2 makes each sign-in slow)."""

    def one(username):
        session = loadgen.Session(base)
        session.sign_in(username, password)
        return username, session.cookies

    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(pool.map(one, sorted(set(usernames))))


def measure(base, page, cookies, args, sampler_of) -> dict:
    users = page["users"]

    def session_for(index):
        session = loadgen.Session(base)
        session.cookies = dict(cookies[users[index % len(users)]])
        return session

    first = session_for(0)
    status, body = first.request("GET", page["path"])
    if status != 200:
        return {"error": f"status {status}: {body[:200]!r}"}
    single = []
    for _ in range(args.single):
        began, seconds, ok, status, _body = loadgen.timed(first, "GET", page["path"])
        single.append(seconds * 1000)
    sessions = [session_for(i) for i in range(args.users)]

    def body_of(index, record, deadline):
        began, seconds, ok, status, _data = loadgen.timed(sessions[index], "GET", page["path"])
        record(page["key"], began, seconds, ok, status)

    # The CPU is counted over the warm-up too, so it is divided by every request made then.
    made = []

    def counted(index, record, deadline):
        body_of(index, record, deadline)
        made.append(1)

    with sampler_of() as sampler, loadgen.CpuMeter(sampler.master) as cpu:
        result = loadgen.run_users(args.users, args.duration, counted, warmup=args.warmup)
    stats = result.stats(page["key"])
    stats["cpu_ms_per_request"] = cpu.per_request(len(made))
    stats.update(
        alone_p50_ms=round(loadgen.percentile(single, 50), 1),
        alone_p95_ms=round(loadgen.percentile(single, 95), 1),
        max_rss_mb=round(sampler.max_mb, 1),
        load=loadgen.load(),
        first_errors=result.errors[:3],
    )
    return stats


def main():
    args = parse()
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith("postgres"):
        raise SystemExit("Set DATABASE_URL to the database that generate_scale filled.")
    loadgen.setup_django(static=True)
    loadgen.print_machine()
    pages, password = targets(args)

    print("\nQueries per page (rendered in this process; large instance, then small):")
    for page in pages:
        page["queries"] = count_queries(page["path"], page["users"][0])
        if page["small"]:
            page["queries_small"] = count_queries(*page["small"])
        big, small = page["queries"], page.get("queries_small") or {}
        if big.get("missing"):
            print(f"  {page['title']}: MISSING (no such URL yet)")
            continue
        print(
            f"  {page['title']:<60} {big['queries']:>3} queries ({big['rows']} rows, "
            f"{big['bytes']:,} B)"
            + (
                f"; small: {small['queries']} queries ({small['rows']} rows)"
                if small.get("queries") is not None
                else ""
            )
        )

    server = None
    if args.url:
        base, master = args.url.rstrip("/"), None
    else:
        server = loadgen.Gunicorn(database_url, port=args.port, app_role=args.app_role).__enter__()
        base, master = server.url, server.process.pid
    results = {}
    try:
        accounts = sorted({u for p in pages for u in p["users"]})
        started = time.perf_counter()
        cookies = sign_in_all(base, accounts, password)
        print(f"\nsigned in {len(accounts)} accounts in {time.perf_counter() - started:.1f} s")
        overall = loadgen.MemorySampler(master)
        overall.__enter__()
        order = [*pages, {**pages[0], "key": "baseline_again", "title": "baseline again"}]
        for page in order:
            if page.get("queries", {}).get("missing"):
                results[page["key"]] = {"missing": True}
                continue
            print(f"\n{page['title']} — {page['path']}", flush=True)
            stats = measure(base, page, cookies, args, lambda: loadgen.MemorySampler(master))
            results[page["key"]] = {
                **stats,
                "title": page["title"],
                "path": page["path"],
                "queries": page.get("queries"),
                "queries_small": page.get("queries_small"),
            }
            print("  " + json.dumps(stats, ensure_ascii=False))
        overall.__exit__(None, None, None)
    finally:
        if server is not None:
            server.__exit__(None, None, None)

    report(results, overall.max_mb if master else None, args)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, ensure_ascii=False))


def report(results: dict, max_rss: float | None, args) -> None:
    base = results.get("baseline", {})
    print(
        f"\n{args.users} users, {args.duration:.0f} s per page after a {args.warmup:.0f} s "
        f"warm-up; goals: p95 < {GOAL_P95_MS} ms, p95 ≤ {GOAL_RATIO}× baseline, "
        f"RSS < {GOAL_RSS_MB} MB"
    )
    header = (
        f"{'page':<18}{'alone p50':>10}{'p50':>9}{'p95':>9}{'p99':>9}{'req/s':>8}"
        f"{'err':>5}{'×base p50':>10}{'×base p95':>10}{'queries':>9}{'RSS MB':>8}  load"
    )
    print(header)
    for key, row in results.items():
        if row.get("missing"):
            print(f"{key:<18} missing")
            continue
        if "error" in row or not row.get("requests"):
            print(f"{key:<18} {row.get('error', 'no requests')}")
            continue
        ratio50 = row["p50_ms"] / base["p50_ms"] if base.get("p50_ms") else float("nan")
        ratio95 = row["p95_ms"] / base["p95_ms"] if base.get("p95_ms") else float("nan")
        queries = (row.get("queries") or {}).get("queries", "")
        small = (row.get("queries_small") or {}).get("queries")
        counted = f"{queries}/{small}" if small is not None else f"{queries}"
        print(
            f"{key:<18}{row['alone_p50_ms']:>10.0f}{row['p50_ms']:>9.0f}{row['p95_ms']:>9.0f}"
            f"{row['p99_ms']:>9.0f}{row['per_second']:>8.1f}{row['errors']:>5}"
            f"{ratio50:>10.1f}{ratio95:>10.1f}{counted:>9}{row['max_rss_mb']:>8.0f}  {row['load']}"
        )
    if max_rss is not None:
        print(f"max RSS of any gunicorn worker during the run: {max_rss:.0f} MB")
    print("queries: large instance / small instance of the same page")
    report_cpu(results)


def report_cpu(results: dict) -> None:
    """CPU a request under the same load, by process: the figure the queue does not move."""
    base = results.get("baseline", {}).get("cpu_ms_per_request") or {}
    base_total = sum(base.values())
    print("\nCPU per request under load, ms (gunicorn workers, PostgreSQL, load generator)")
    print(f"{'page':<18}{'app':>8}{'database':>10}{'loadgen':>9}{'total':>8}{'×base':>7}")
    for key, row in results.items():
        cpu = row.get("cpu_ms_per_request")
        if not cpu:
            continue
        total = sum(cpu.values())
        ratio = total / base_total if base_total else float("nan")
        print(
            f"{key:<18}{cpu.get('app', float('nan')):>8.2f}{cpu['database']:>10.2f}"
            f"{cpu['load generator']:>9.2f}{total:>8.2f}{ratio:>7.1f}"
        )


if __name__ == "__main__":
    threading.excepthook = lambda hook: print("thread failed:", hook.exc_value, file=sys.stderr)
    main()
