"""Cost of the reporting layer over the libraries it wraps; prints figures, asserts nothing.

1. The unit summary workbook (``reporting.workbooks``) for 50,000 rows against openpyxl in
   write-only mode appending the very same cells: time ratio and peak memory (tracemalloc).
2. One Form 5 (context, template and ``reporting.pdf.render_pdf`` with its static-only URL
   fetcher) against WeasyPrint rendering the same HTML directly: time ratio.

Run from the project root: `.venv/bin/python bench/bench_exports.py [--rows N] [--repeat R]`;
`--write-form5 PATH` only writes the sample Form 5 (the source of docs/screenshots/form5-page1.png).
No database is needed: rows are built in memory with a fixed seed, and Form 5 is filled from
unsaved model instances graded by ``evaluation.rules``.
"""

import argparse
import gc
import os
import random
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.utils import timezone, translation  # noqa: E402
from openpyxl import Workbook  # noqa: E402

from cadres.models import Cadre, Tenant, Unit, User  # noqa: E402
from evaluation import rules, scoring  # noqa: E402
from evaluation.models import CriterionScore, Evaluation, Period, Task  # noqa: E402
from reporting import pdf, selectors, workbooks  # noqa: E402

SEED = 2026
SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng"]
MIDDLE = ["Văn", "Thị", "Minh", "Hữu", "Thanh", "Ngọc", "Quốc"]
GIVEN = ["An", "Bình", "Chi", "Dũng", "Giang", "Hà", "Khôi", "Lan", "Mạnh", "Nga", "Phúc", "Trưởng"]


def summary_rows(count: int) -> list[tuple]:
    """Rows shaped like ``selectors.summary_rows``: codes, names, labels, scores, flags."""
    rng = random.Random(SEED)
    grades = [str(g.label) for g in rules.Grade]
    rows = []
    for n in range(1, count + 1):
        tasks = rng.randint(4, 8)
        done = tasks - (rng.random() < 0.05)
        score = Decimal(rng.randint(600, 1000)) / 10
        grade = rng.choice(grades)
        rows.append(
            (
                n,
                f"CB{n:06d}",
                f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}",
                f"Sở {n // 100:03d}",
                "Thành viên",
                "Đã quyết định mức xếp loại",
                tasks,
                done,
                Decimal(100 * done) / tasks,
                score,
                grade,
                score,
                grade,
                grade,
                grade,
                "" if rng.random() > 0.01 else "R11e: Đi học tập trung",
                "" if rng.random() > 0.02 else "Proposal above the decision (R17)",
            )
        )
    return rows


def write_ours(rows, target) -> None:
    sheets = workbooks.summary_sheets(
        title="Quarterly summary", header=selectors.summary_header(), rows=iter(rows)
    )
    workbooks.write_workbook(target, sheets)


def write_direct(rows, target) -> None:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Summary")
    sheet.append(("Quarterly summary",))
    sheet.append([])
    sheet.append(list(selectors.summary_header()))
    for row in rows:
        sheet.append(row)
    workbook.create_sheet("Collective").append(["Unit"])
    workbook.save(target)


def timed(function, *args, repeat: int) -> float:
    """The best of ``repeat`` runs, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        function(*args)
        best = min(best, time.perf_counter() - start)
    return best


def peak_memory(function, *args) -> int:
    gc.collect()
    tracemalloc.start()
    function(*args)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def bench_workbook(count: int, repeat: int) -> None:
    rows = summary_rows(count)
    with tempfile.TemporaryDirectory() as folder:
        ours_path, direct_path = Path(folder, "ours.xlsx"), Path(folder, "direct.xlsx")
        ours = timed(write_ours, rows, ours_path, repeat=repeat)
        direct = timed(write_direct, rows, direct_path, repeat=repeat)
        ours_peak = peak_memory(write_ours, rows, ours_path)
        direct_peak = peak_memory(write_direct, rows, direct_path)
        sizes = ours_path.stat().st_size, direct_path.stat().st_size
    print(f"Unit summary workbook, {count:,} rows × {len(rows[0])} columns (best of {repeat})")
    print(
        f"  reporting.workbooks     {ours:7.2f} s   peak {ours_peak / 2**20:6.1f} MiB   "
        f"{sizes[0] / 2**20:5.1f} MiB file"
    )
    print(
        f"  openpyxl write-only     {direct:7.2f} s   peak {direct_peak / 2**20:6.1f} MiB   "
        f"{sizes[1] / 2**20:5.1f} MiB file"
    )
    print(
        f"  ratio                   {ours / direct:7.2f} ×        "
        f"{ours_peak / direct_peak:6.2f} × memory"
    )
    print("  (the rows themselves are in memory for both and not counted as peak: tracemalloc")
    print("   measures what the writing allocates on top of them)")


def form5_objects():
    """An unsaved evaluation with five tasks on two axes, graded by the rules."""
    tenant = Tenant(
        name="Tỉnh ủy Thử nghiệm", parent_body="ĐẢNG BỘ TỈNH THỬ NGHIỆM", place="Thử nghiệm"
    )
    unit = Unit(tenant=tenant, name="Sở Nội vụ", code="SNV")
    cadre = Cadre(
        tenant=tenant,
        code="CB000001",
        full_name="Nguyễn Văn Trưởng",
        date_of_birth=date(1972, 3, 9),
        party_post="Tỉnh ủy viên",
        government_post="Giám đốc Sở Nội vụ",
    )
    period = Period(
        tenant=tenant, year=2026, quarter=2, start_date=date(2026, 4, 1), end_date=date(2026, 6, 30)
    )
    authority = User(username="authority", first_name="Hà", last_name="Phạm")
    evaluation = Evaluation(
        tenant=tenant,
        unit=unit,
        cadre=cadre,
        period=period,
        state="decided",
        axis_roles={"1": "primary", "3": "secondary"},
        self_comment="Hoàn thành tốt các nhiệm vụ được giao, chủ động tham mưu.",
        self_grade="excellent",
        vetted_grade="excellent",
        proposed_grade="excellent",
        decided_grade="good",
        vetting_comment="Đã thẩm định, đúng thực tế.",
        proposal_comment="Đề xuất Hoàn thành xuất sắc nhiệm vụ.",
        decision_comment="Quyết định Hoàn thành tốt nhiệm vụ theo tỷ lệ.",
        decided_by=authority,
        self_assessed_at=timezone.make_aware(datetime(2026, 6, 25, 9, 0)),
    )
    tasks = [
        Task(
            evaluation=evaluation,
            order=n,
            axis=1 if n < 4 else 3,
            weight=Decimal(20),
            title=f"Nhiệm vụ trọng tâm số {n}: tham mưu đề án cải cách hành chính",
            expected_product=f"Báo cáo số {n}/BC-SNV",
            deadline=date(2026, 6, 20),
            status="done",
            completed_on=date(2026, 6, 15),
            self_quality_level=1,
            exceeded=n in (1, 2),
            progress="on_time",
            quality_level=1,
        )
        for n in range(1, 6)
    ]
    points = dict(
        zip(
            [c.code for c in rules.DEFAULT_GENERAL_CRITERIA],
            [Decimal("8.0"), Decimal("8.0"), Decimal("7.0"), Decimal("6.0")],
            strict=True,
        )
    )
    criteria = [
        CriterionScore(
            evaluation=evaluation,
            code=c.code,
            name=str(c.name),
            max_points=c.max_points,
            self_points=points[c.code],
            vetted_points=points[c.code],
            order=i,
        )
        for i, c in enumerate(rules.DEFAULT_GENERAL_CRITERIA)
    ]

    def grade(stage):
        return rules.compute_grade(
            rules.AssessmentInput(
                general_points=points,
                tasks=[scoring._result_task(t, n, stage) for n, t in enumerate(tasks, 1)],
            ),
            rules.DEFAULT_RULE_SET,
        )

    self_result, vetted_result = grade(scoring.Stage.SELF), grade(scoring.Stage.VETTED)
    evaluation.self_score = self_result.score.total
    evaluation.vetted_score = vetted_result.score.total
    return evaluation, tasks, criteria, self_result, vetted_result


def sample_form5() -> bytes:
    """The benchmark's Form 5 as PDF bytes (docs/screenshots/form5-page1.png is its page 1)."""
    evaluation, tasks, criteria, self_result, vetted_result = form5_objects()
    return pdf.render_pdf(
        pdf.render_form5_html(
            lambda: pdf.build_form5_context(
                evaluation,
                tasks=tasks,
                criteria=criteria,
                self_result=self_result,
                vetted_result=vetted_result,
            )
        )
    )


def bench_form5(repeat: int) -> None:
    evaluation, tasks, criteria, self_result, vetted_result = form5_objects()

    def context():
        return pdf.build_form5_context(
            evaluation,
            tasks=tasks,
            criteria=criteria,
            self_result=self_result,
            vetted_result=vetted_result,
        )

    def ours():
        return pdf.render_pdf(pdf.render_form5_html(context))

    html = pdf.render_form5_html(context)
    # The same document for WeasyPrint alone: fonts by file URL, its default fetcher.
    direct_html = html.replace(
        f'url("{pdf.settings.STATIC_URL}', f'url("{(ROOT / "static").as_uri()}/'
    )

    def direct():
        from weasyprint import HTML

        return HTML(string=direct_html, base_url=str(ROOT)).write_pdf()

    ours(), direct()  # warm up: fonts, imports, template loading
    ours_times = [timed(ours, repeat=1) for _ in range(repeat)]
    direct_times = [timed(direct, repeat=1) for _ in range(repeat)]
    ours_median, direct_median = statistics.median(ours_times), statistics.median(direct_times)
    print(f"Form 5, {len(tasks)} tasks on 2 axes (median of {repeat})")
    print(f"  reporting.pdf           {ours_median * 1000:7.0f} ms   {len(ours()) / 1024:6.1f} KiB")
    print(
        f"  WeasyPrint alone        {direct_median * 1000:7.0f} ms   "
        f"{len(direct()) / 1024:6.1f} KiB"
    )
    print(f"  ratio                   {ours_median / direct_median:7.2f} ×")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--form5-repeat", type=int, default=7)
    parser.add_argument(
        "--write-form5", metavar="PATH", help="only write the sample Form 5 to PATH (a PDF)"
    )
    args = parser.parse_args()
    if args.write_form5:
        Path(args.write_form5).write_bytes(sample_form5())
        return
    with translation.override("vi"):
        bench_workbook(args.rows, args.repeat)
        print()
        bench_form5(args.form5_repeat)


if __name__ == "__main__":
    main()
