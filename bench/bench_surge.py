"""The quarter-end surge: 200 cadres at once autosaving and submitting their self-assessment
through the REST API for 60 seconds; errors, p50/p95/p99, peak RSS of the gunicorn workers.

Run against the tenant written by ``manage.py generate_scale`` (bench/README.md):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cadreval_bench50k \\
        .venv/bin/python bench/bench_surge.py [--users 200] [--duration 60] [--json out.json]

Each of the ``--users`` threads is one cadre at a time, with a personal API token: it saves the
draft three times (``PATCH /api/evaluations/<id>/self-assessment/``: the first four tasks, the
last four, then the criteria and the comment), pausing ``--think`` seconds between requests as
someone typing does (the screens autosave 800 ms after the last keystroke), then submits
(``POST …/self-assess/``) and hands over to the next cadre. So 200 cadres are always in the
middle of their self-assessment. The cadres are Q4 evaluations whose plan is approved; a run
submits a few thousand of the ~29,000 there are, so the benchmark can be run again. The tokens
it creates are deleted at the end.
"""

import argparse
import json
import os
import random
import secrets
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import loadgen  # noqa: E402

TOKEN_NAME = "bench-surge"


def parse():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenant", default="scale")
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--think", type=float, nargs=2, default=(1.0, 3.0), metavar=("MIN", "MAX"))
    parser.add_argument("--pool", type=int, default=4000, help="evaluations made ready")
    parser.add_argument("--url", help="a running server instead of starting gunicorn")
    parser.add_argument("--port", type=int, default=8077)
    parser.add_argument(
        "--app-role", default="", help="run gunicorn as this role, row-level security on"
    )
    parser.add_argument("--json")
    return parser.parse_args()


def prepare(args):
    """Plan-approved Q4 evaluations with their task ids and criteria, and a token for each."""
    from collections import defaultdict

    from cadres.authentication import TOKEN_PREFIX, _hash
    from cadres.models import ApiToken
    from evaluation.models import CriterionScore, Evaluation, EvaluationState, Period, Task

    q4 = Period.objects.get(tenant__code=args.tenant, year=2026, quarter=4)
    evaluations = list(
        Evaluation.objects.filter(period=q4, is_current=True, state=EvaluationState.PLAN_APPROVED)
        .order_by("cadre__code")
        .values_list("pk", "cadre__user_id", "version")[: args.pool]
    )
    ids = [pk for pk, _user, _version in evaluations]
    tasks, criteria = defaultdict(list), defaultdict(list)
    for evaluation_id, task_id in (
        Task.objects.filter(evaluation_id__in=ids)
        .order_by("evaluation_id", "order", "pk")
        .values_list("evaluation_id", "pk")
    ):
        tasks[evaluation_id].append(task_id)
    for evaluation_id, code, top in CriterionScore.objects.filter(
        evaluation_id__in=ids
    ).values_list("evaluation_id", "code", "max_points"):
        criteria[evaluation_id].append((code, top))
    raw = {user_id: "cvl_" + secrets.token_urlsafe(32) for _pk, user_id, _v in evaluations}
    ApiToken.objects.bulk_create(
        [
            ApiToken(
                user_id=user_id,
                name=TOKEN_NAME,
                prefix=token[: len(TOKEN_PREFIX) + 6],
                key_hash=_hash(token),
            )
            for user_id, token in raw.items()
        ],
        batch_size=2000,
    )
    work = [
        {
            "id": pk,
            "token": raw[user_id],
            "tasks": tasks[pk],
            "criteria": criteria[pk],
        }
        for pk, user_id, _version in evaluations
    ]
    return q4, work


def drafts(item) -> list[dict]:
    """The three autosaves of one self-assessment: tasks 1–4, tasks 5–8, criteria and comment."""

    def result(task_id):
        return {
            "status": "done",
            "completed_on": "2026-10-20",
            "exceeded": task_id % 4 == 0,
            "self_quality_level": 1,
            "evidence": "Báo cáo kết quả số 15/BC, kèm sản phẩm",
        }

    first, second = item["tasks"][:4], item["tasks"][4:]
    return [
        {"tasks": {str(t): result(t) for t in first}},
        {"tasks": {str(t): result(t) for t in second}},
        {
            "criteria": {code: str(top - (top % 1) - 1) for code, top in item["criteria"]},
            "comment": "Hoàn thành các nhiệm vụ của quý đúng tiến độ, có sản phẩm cụ thể.",
        },
    ]


def main():
    args = parse()
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith("postgres"):
        raise SystemExit("Set DATABASE_URL to the database that generate_scale filled.")
    loadgen.setup_django(static=True)
    from cadres.models import ApiToken
    from evaluation.models import Evaluation, EvaluationState

    loadgen.print_machine()
    q4, work = prepare(args)
    print(f"{len(work):,} plan-approved Q4 evaluations ready, each with a personal API token")
    queue = iter(work)
    lock = threading.Lock()
    done, submitted_ids = [], []
    server = None
    try:
        if args.url:
            base, master = args.url.rstrip("/"), None
        else:
            server = loadgen.Gunicorn(
                database_url, port=args.port, app_role=args.app_role
            ).__enter__()
            base, master = server.url, server.process.pid
        rng = random.Random(10)

        def one_cadre(index, record, deadline):
            with lock:
                item = next(queue, None)
                pause = [rng.uniform(*args.think) for _ in range(4)]
            if item is None:
                return False
            session = loadgen.Session(base)
            session.token = item["token"]
            path = f"/api/evaluations/{item['id']}"
            for payload, wait in zip(drafts(item), pause, strict=False):
                time.sleep(wait)
                if time.perf_counter() >= deadline:
                    return None
                began, seconds, ok, status, body = loadgen.timed(
                    session, "PATCH", f"{path}/self-assessment/", payload=payload
                )
                record("autosave", began, seconds, ok, status)
                if not ok:
                    with lock:
                        done.append(("autosave", status, body[:300]))
                    return None
            time.sleep(pause[-1])
            if time.perf_counter() >= deadline:
                return None
            began, seconds, ok, status, body = loadgen.timed(
                session, "POST", f"{path}/self-assess/", payload={"confirm_warnings": True}
            )
            record("submit", began, seconds, ok, status)
            with lock:
                if ok:
                    submitted_ids.append(item["id"])
                else:
                    done.append(("submit", status, body[:300]))
            return None

        with loadgen.MemorySampler(master) as sampler:
            result = loadgen.run_users(args.users, args.duration, one_cadre)
    finally:
        if server is not None:
            server.__exit__(None, None, None)
        ApiToken.objects.filter(name=TOKEN_NAME).delete()

    stored = Evaluation.objects.filter(
        pk__in=submitted_ids, state=EvaluationState.SELF_ASSESSED
    ).count()
    figures = {
        "users": args.users,
        "duration_s": args.duration,
        "think_s": list(args.think),
        "all": result.stats(),
        "autosave": result.stats("autosave"),
        "submit": result.stats("submit"),
        "submitted_and_stored": stored,
        "max_rss_mb": round(sampler.max_mb, 1),
        "load": loadgen.load(),
        "failures": [f"{kind} {status}: {body!r}" for kind, status, body in done[:5]],
        "exceptions": result.errors[:5],
    }
    print(json.dumps(figures, indent=2, ensure_ascii=False))
    every = figures["all"]
    print(
        f"\nsurge: {args.users} cadres for {args.duration:.0f} s: {every['requests']:,} requests "
        f"({every['per_second']}/s), {every['errors']} errors; p95 {every.get('p95_ms')} ms "
        f"(autosave {figures['autosave'].get('p95_ms')} ms, submit "
        f"{figures['submit'].get('p95_ms')} ms); {stored:,} self-assessments submitted; "
        f"max worker RSS {sampler.max_mb:.0f} MB; load {figures['load']}"
    )
    print("goals: zero errors, p95 under 1,000 ms, RSS under 300 MB")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
