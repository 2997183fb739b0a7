"""What each part of a decision board costs in CPU time, in this process, against the baseline.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cadreval_bench50k \\
        .venv/bin/python bench/profile_board.py [GROUP] [--user scale-authority]

Each part is run ``--repeat`` times in a row, five times over; the best of the five is printed
(``time.process_time``: the shared cores' other work counts less than in wall time). GROUP is
the quota group's id (by default the largest group of the generated tenant's Q3). The last two
lines are whole requests through Django's test client: the board, and the baseline request of
``bench_pages.py`` as a cadre. Then the view in wall time (PostgreSQL's part counts there), with
the compiled reads prepared and without (``DB_PREPARED_READS``), in turns. Nothing is written.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import loadgen  # noqa: E402


def five_runs(function, repeat: int, clock=time.process_time) -> list[float]:
    """Milliseconds a call, in five runs of ``repeat`` calls after one to warm up."""
    function()
    runs = []
    for _ in range(5):
        started = clock()
        for _ in range(repeat):
            function()
        runs.append((clock() - started) / repeat * 1000)
    return sorted(runs)


def best_of_five(function, repeat: int) -> float:
    return five_runs(function, repeat)[0]


def median_wall(function, repeat: int) -> float:
    return five_runs(function, repeat, clock=time.perf_counter)[2]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("group", type=int, nargs="?")
    parser.add_argument("--user", default="scale-authority")
    parser.add_argument("--cadre", default="scale-cb000000", help="signs in for the baseline")
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args()
    loadgen.setup_django(static=True)
    from django.db.models import Count
    from django.template.loader import render_to_string
    from django.test import Client, RequestFactory
    from django.utils import translation

    from cadres.models import User
    from evaluation import lines, scoring, selectors, views
    from evaluation.forms import BoardForm
    from evaluation.models import Evaluation, QuotaGroup

    translation.activate("vi")
    user = User.objects.get(username=args.user)
    group_id = args.group or (
        QuotaGroup.objects.filter(tenant=user.tenant, period__quarter=3)
        .annotate(size=Count("evaluations"))
        .order_by("-size")
        .values_list("pk", flat=True)
        .first()
    )
    request = RequestFactory().get(f"/decisions/{group_id}/")
    request.user = user
    group = selectors.quota_group_for_user(user, group_id)
    page = selectors.board_page(group, 1)
    decidable = views._decidable(user, page)
    ids = [row.pk for row in page.object_list]
    board, baseline = Client(), Client()
    board.force_login(user)
    baseline.force_login(User.objects.get(username=args.cadre))
    context = views._board_context(request, group, page)
    parts = [
        ("the quota group, access checked", lambda: selectors.quota_group_for_user(user, group_id)),
        ("the group in order (R9 members)", lambda: selectors.group_members(group, ordered=True)),
        (
            "the page's rows, SQL built each time",
            lambda: list(
                Evaluation.objects.filter(pk__in=ids).values_list(
                    *selectors._BOARD_COLUMNS.values()
                )
            ),
        ),
        ("the page's rows, SQL built once", lambda: selectors._BOARD_ROWS.rows(ids=ids)),
        ("board_page (both of the above)", lambda: selectors.board_page(group, 1)),
        ("the decision form", lambda: BoardForm(rows=decidable)),
        ("the lines", lambda: lines.board_lines(page.object_list, BoardForm(rows=decidable))),
        ("the R9 picture", lambda: scoring.quota_picture(group, members=page.members)),
        ("the collective", lambda: selectors.board_collective(group)),
        (
            "the page around the lines",
            lambda: render_to_string("evaluation/decision_board.html", context, request=request),
        ),
        ("the view", lambda: views.decision_board(request, group_id)),
        ("whole request: the board", lambda: board.get(f"/decisions/{group_id}/")),
        ("whole request: the baseline", lambda: baseline.get(f"/api/periods/{group.period_id}/")),
    ]
    print(f"quota group {group_id}: {page.paginator.count} cadres, {len(decidable)} decidable")
    for label, function in parts:
        print(f"{label:36s} {best_of_five(function, args.repeat):7.2f} ms")
    from django.conf import settings

    walls = {True: [], False: []}
    for _ in range(3):
        for prepared in walls:
            settings.DB_PREPARED_READS = prepared
            walls[prepared].append(
                median_wall(lambda: views.decision_board(request, group_id), args.repeat)
            )
    for prepared, runs in walls.items():
        label = f"the view, wall time, {'reads prepared' if prepared else 'not prepared'}"
        print(f"{label:36s} {sorted(runs)[1]:7.2f} ms")


if __name__ == "__main__":
    main()
