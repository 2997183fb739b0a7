"""One whole quarter in a real browser, each actor in a context of their own: a cadre plans
and self-assesses on Form 5 with the live score, the direct superior level approves and
proposes, the advisory body vets, the managing authority grades the collective and decides
within the Excellent quota, the organisation department publishes; then Form 5 as a PDF and
the unit's summary workbook, downloaded through the pages."""

import io
import re
import unicodedata
from decimal import Decimal

import openpyxl
import pytest
from django.utils import translation
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from evaluation import services
from evaluation.models import EvaluationState, PublishedResult
from evaluation.rules import Grade
from reporting import selectors as report_selectors
from reporting import tasks as report_tasks
from reporting.models import Export
from tests import factories
from tests.e2e.helpers import vi, vi_label, vi_number, vi_plural, with_password
from tests.evaluation import steps

TASKS = [
    # title, axis, weight
    ("Tham mưu đề án chuyển đổi số của Sở", "1", "60"),
    ("Số hóa hồ sơ cán bộ", "3", "40"),
]


@pytest.fixture
def quarter(transactional_db):
    """A unit whose cadres, but members[0], went through the services up to the proposal.

    The head is outside the members' quota; members[1] (99 points, 2 of 4 tasks exceeded)
    competes with members[0] for the one Excellent the quota allows; the rest are Good.
    """
    with translation.override("vi"):  # opened by the calendar job, in the default language
        u = steps.build_unit(factories.tenant(name="Tỉnh ủy Hành Trình"))
    figures = {
        u.head: {"exceeded": 2},
        u.members[1]: {"exceeded": 2, "points": ("8", "8", "7", "6")},
    }
    for other in [u.head, *u.deputies, *u.members[1:]]:
        steps.plan_and_approve(u, other)
        steps.self_assess(u, other, **figures.get(other, {}))
        vetted = steps.vet(u, other, points=figures.get(other, {}).get("points"))
        services.evaluation_propose(
            evaluation=vetted, actor=u.superior, grade=vetted.computed_grade, comment="Đề xuất"
        )
    with_password(u.members[0].user, u.superior, u.advisory, u.authority, u.organisation)
    return u


def state_of(u, cadre) -> str:
    return u.evaluation(cadre).state


# --- The steps, one actor at a time -------------------------------------------------------------


def plan_targets(page: Page, evaluation) -> None:
    """Step 1: two tasks, the axes marked, R2 checked live, then submitted."""
    page.goto("/my/")
    page.locator(f"a.primary[href='/evaluations/{evaluation.pk}/plan/']").click()
    for row, (title, axis, weight) in enumerate(TASKS):
        if row:
            page.locator("button[name=action][value=add]").click()
        prefix = f"tasks-{row}-"
        page.fill(f"[name={prefix}title]", title)
        page.fill(f"[name={prefix}objective]", "Hoàn thành chương trình công tác quý II")
        page.fill(f"[name={prefix}expected_product]", f"Báo cáo {row + 1}")
        page.select_option(f"[name={prefix}axis]", axis)
        page.fill(f"[name={prefix}weight]", weight)
        page.fill(f"[name={prefix}deadline]", "20/06/2026")
        page.fill(f"[name={prefix}responsibility]", "Chủ trì")
        page.fill(f"[name={prefix}accepting_authority]", "Ban Thường vụ Tỉnh ủy")
        expect(page.locator(f"[name={prefix}primary_responsible]")).to_have_value(
            str(evaluation.cadre_id)
        )
    page.select_option("[name=axes-axis_1]", "primary")
    page.select_option("[name=axes-axis_3]", "secondary")
    # The live check saves the draft and finds nothing left to fix (R2, the six clear).
    check = page.locator("#plan-check")
    expect(check.locator(".big")).to_have_text(vi("Total weight: %(total)s%%", total="100"))
    expect(check.locator("p.ok")).to_be_visible()
    page.locator("button[name=action][value=submit]").click()
    expect(page).to_have_url(re.compile(rf"/evaluations/{evaluation.pk}/$"))
    expect(page.locator(".messages")).to_contain_text(
        vi("Your targets are submitted for approval.")
    )


def approve_plan(page: Page, evaluation) -> None:
    page.goto("/inbox/")
    page.check(f"#pick-{evaluation.pk}")
    page.locator("form[action='/inbox/approve/'] button[type=submit]").click()
    expect(page.locator(".messages")).to_contain_text(vi("%(count)s plan(s) approved.", count=1))


def self_assess(page: Page, evaluation) -> None:
    """Step 2: Form 5, watching the score and the grade follow what is typed."""
    page.goto("/my/")
    page.locator(f"a.primary[href='/evaluations/{evaluation.pk}/self-assessment/']").click()
    live = page.locator("#live-score")
    # Nothing reported yet: no task done, no point given.
    expect(live.locator(".score-value")).to_have_text(vi_number(0))
    expect(live.locator(".grade")).to_have_text(vi_label(Grade.NOT_COMPLETED))
    for task in evaluation.tasks.order_by("order", "pk"):
        prefix = f"task-{task.pk}-"
        page.select_option(f"[name={prefix}status]", "done")
        page.fill(f"[name={prefix}completed_on]", "15/06/2026")
        page.select_option(f"[name={prefix}self_quality_level]", "1")
        page.fill(f"[name={prefix}evidence]", "Văn bản số 12/BC-SNV")
    for code, points in [
        ("political_ideology", "8"),
        ("ethics_lifestyle", "8"),
        ("discipline_working_style", "7"),
        ("unity_exemplary_conduct", "5"),
    ]:
        page.fill(f"[name=crit_{code}]", points)
    # 28 + 70 = 98: Excellent's floor is reached, but no task exceeded its target (R5).
    expect(live.locator(".score-value")).to_have_text(vi_number(98))
    expect(live.locator(".grade")).to_have_text(vi_label(Grade.GOOD))
    # Typed with a decimal comma: 29.5 + 70.
    page.fill("[name=crit_unity_exemplary_conduct]", "6,5")
    expect(live.locator(".score-value")).to_have_text(vi_number("99.5"))
    expect(live.locator(".grade")).to_have_text(vi_label(Grade.GOOD))
    # One of two tasks exceeded is the 30 % Excellent asks for.
    last = evaluation.tasks.order_by("order", "pk").last()
    page.check(f"[name=task-{last.pk}-exceeded]")
    expect(live.locator(".grade")).to_have_text(vi_label(Grade.EXCELLENT))
    expect(live.locator(".score-value")).to_have_text(vi_number("99.5"))
    page.fill("[name=comment]", "Hoàn thành vượt mức nhiệm vụ số hóa hồ sơ.")
    page.locator("button[name=action][value=submit]").click()
    expect(page).to_have_url(re.compile(rf"/evaluations/{evaluation.pk}/$"))
    expect(page.locator(".messages")).to_contain_text(
        vi("Your self-assessment is submitted for vetting.")
    )


def vet(page: Page, evaluation) -> None:
    """Step 3a: the vetting starts from what the cadre reported; it adds the scope."""
    page.goto("/vetting/")
    page.locator(f"a[href='/evaluations/{evaluation.pk}/vet/']").click()
    for task in evaluation.tasks.order_by("order", "pk"):
        prefix = f"task-{task.pk}-"
        expect(page.locator(f"[name={prefix}progress]")).to_have_value("on_time")
        expect(page.locator(f"[name={prefix}quality_level]")).to_have_value("1")
        page.fill(f"[name={prefix}difficulty_scope]", "Phạm vi toàn tỉnh")
    expect(page.locator("[name=crit_unity_exemplary_conduct]")).to_have_value("6,5")
    page.fill("#vet-form [name=comment]", "Đã thẩm định, đủ minh chứng.")
    page.locator("#vet-form button[type=submit].primary").click()
    expect(page).to_have_url(re.compile(r"/vetting/$"))
    expect(page.locator(".messages")).to_contain_text(
        vi("The evaluation of %(name)s is vetted.", name=evaluation.cadre.full_name)
    )


def propose(page: Page, evaluation) -> None:
    """Step 3b: the superior opens the cadre from the inbox; the form starts at the vetting's
    grade."""
    page.goto("/inbox/")
    page.locator(f"#propose a[href='/evaluations/{evaluation.pk}/']").click()
    form = page.locator(f"form[action='/evaluations/{evaluation.pk}/propose/']")
    expect(form.locator("[name=grade]")).to_have_value(Grade.EXCELLENT)
    form.locator("[name=comment]").fill("Đề nghị Hoàn thành xuất sắc nhiệm vụ.")
    form.locator("button[type=submit]").click()
    expect(page.locator(".messages")).to_contain_text(
        vi("Your proposed grade for %(name)s is recorded.", name=evaluation.cadre.full_name)
    )


def grade_collective(page: Page, group_id: int) -> None:
    """Step 4, first the collective: three targets set, all done, graded (R8)."""
    page.goto("/decisions/")
    page.locator(f"a[href='/decisions/{group_id}/']").click()
    page.locator(f"a[href='/decisions/{group_id}/collective/']").click()
    targets = page.locator("form:has(input[name=action][value=targets])")
    targets.locator("[name=targets]").fill(
        "Giải ngân vốn đầu tư công\nCải cách hành chính\nChuyển đổi số"
    )
    targets.locator("[name=assigned_by]").fill("Tỉnh ủy")
    targets.locator("button[type=submit]").click()
    results = page.locator("#results-form")
    statuses = results.locator("select[name$='-status']")
    expect(statuses).to_have_count(3)
    for index in range(3):
        statuses.nth(index).select_option("done")
    results.locator("button[type=submit]").click()
    # The button asks "graded once, grade it now?"; the actor's page says yes.
    page.locator("form:has(input[name=action][value=grade]) button").click()
    expect(page.locator("#graded-title")).to_have_text(
        vi("Graded: %(percent)s%% completed", percent=vi_number(100))
    )
    page.get_by_role("link", name=vi("Back to the decision board")).click()


def decide_within_quota(page: Page, u, group_id: int) -> None:
    """Step 4: the board, its quota meter, and every line decided at once."""
    expect(page).to_have_url(re.compile(rf"/decisions/{group_id}/$"))
    meter = page.locator("#quota-meter")
    # 20 % of the 6 Good that stay if one of the two candidates is kept → 1 Excellent (R9).
    allowed = vi_plural("%(n)s Excellent allowed now", "%(n)s Excellent allowed now", 1)
    expect(meter.locator(".big")).to_have_text(allowed)
    expect(meter.locator("dl.facts dd")).to_have_text(["2", "0", "6", "20%"])
    ranking = meter.locator("ol.ranking li")
    expect(ranking.nth(0)).to_contain_text(u.members[0].full_name)
    expect(ranking.nth(0).locator(".tag.ok")).to_be_visible()
    expect(ranking.nth(1)).to_contain_text(u.members[1].full_name)
    expect(ranking.nth(1).locator(".tag.warn")).to_be_visible()

    board = page.locator("#board-form")
    board.locator("input[data-check-all=pick]").check()
    expect(board.locator("input[name=pick]:checked")).to_have_count(len(u.cadres))
    # Both proposed Excellent grades ticked: the meter warns before anything is sent.
    expect(meter.locator("p.warnings")).to_contain_text(
        vi("This is over the quota: the last ones will be refused.")
    )
    runner_up = u.evaluation(u.members[1])
    board.locator(f"[name=grade_{runner_up.pk}]").select_option(Grade.GOOD)
    expect(meter.locator("p.ok")).to_be_visible()
    expect(meter.locator("p.warnings")).to_have_count(0)
    board.locator("textarea[name=comment]").fill("Quyết định theo tỷ lệ Hoàn thành xuất sắc.")
    board.locator("> section button[type=submit].primary").click()
    for cadre in u.cadres:
        expect(page.locator(".messages")).to_contain_text(cadre.full_name)
    expect(board.locator("input[name=pick]")).to_have_count(0)  # nothing left to decide
    expect(meter.locator("dl.facts dd").nth(1)).to_have_text("1")  # Excellent decided


def publish(page: Page, period) -> None:
    page.goto("/publication/")
    button = page.locator(f"form[action='/publication/{period.pk}/'] button")
    expect(button).to_contain_text("8")
    button.click()  # "kept unchanged, publish them?": yes
    expect(page.locator(".messages")).to_contain_text(
        vi("%(count)s result(s) of %(period)s published.", count=8, period=period)
    )


def download_form5(page: Page, evaluation) -> bytes:
    page.goto(f"/evaluations/{evaluation.pk}/")
    href = page.locator("a[href$='form5.pdf']").get_attribute("href")
    response = page.request.get(href)  # the context's session cookie goes with it
    assert response.status == 200, response.text()[:500]
    assert response.headers["content-type"] == "application/pdf"
    return response.body()


def export_summary(page: Page, u, queued: list) -> bytes:
    """The unit's summary workbook: start it, watch the job's progress, download it."""
    page.goto("/reports/")
    page.select_option("#export-kind", Export.Kind.UNIT_SUMMARY)
    page.select_option("#export-unit", str(u.unit.pk))
    page.locator("form[action='/reports/exports/'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/reports/exports/\d+/$"))
    export_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    assert queued == [export_id]  # handed to the queue once the request committed
    progress = page.locator(f"#export-progress-{export_id}")
    expect(progress).to_be_visible()
    expect(progress).to_have_attribute("value", "0")
    # A worker picks the job up now; the page, polling, turns the bar into a download link.
    report_tasks.run_export(export_id)
    link = page.locator(f"a[href='/reports/exports/{export_id}/download/']")
    expect(link).to_be_visible()
    expect(progress).to_have_count(0)
    with page.expect_download() as download:
        link.click()
    with open(download.value.path(), "rb") as handle:
        return handle.read()


# --- The journey ---------------------------------------------------------------------------------


@pytest.mark.e2e
def test_one_quarter_by_every_actor_in_their_own_browser(actors, quarter, monkeypatch):
    u = quarter
    cadre = u.members[0]
    evaluation = u.evaluation(cadre)
    group_id = evaluation.quota_group_id
    # No worker runs beside the live server: keep the export jobs it hands to the queue.
    queued: list[int] = []
    monkeypatch.setattr(report_tasks.run_export, "delay", queued.append)

    cadre_page = actors.sign_in("cadre", cadre.user)
    plan_targets(cadre_page, evaluation)
    assert state_of(u, cadre) == EvaluationState.PLAN_SUBMITTED
    assert [(t.title, t.weight) for t in evaluation.tasks.order_by("order")] == [
        (title, Decimal(weight)) for title, _axis, weight in TASKS
    ]

    superior = actors.sign_in("superior", u.superior)
    approve_plan(superior, evaluation)
    assert state_of(u, cadre) == EvaluationState.PLAN_APPROVED

    self_assess(cadre_page, evaluation)
    evaluation.refresh_from_db()
    assert evaluation.state == EvaluationState.SELF_ASSESSED
    assert evaluation.self_score == Decimal("99.5")

    advisory = actors.sign_in("advisory", u.advisory)
    vet(advisory, evaluation)
    evaluation.refresh_from_db()
    assert evaluation.state == EvaluationState.VETTED
    assert (evaluation.vetted_score, evaluation.computed_grade) == (
        Decimal("99.5"),
        Grade.EXCELLENT,
    )

    propose(superior, evaluation)
    evaluation.refresh_from_db()
    assert (evaluation.state, evaluation.proposed_grade) == (
        EvaluationState.PROPOSED,
        Grade.EXCELLENT,
    )

    authority = actors.sign_in("authority", u.authority)
    grade_collective(authority, group_id)
    decide_within_quota(authority, u, group_id)
    decided = {c: u.evaluation(c) for c in u.cadres}
    assert {c.full_name: e.state for c, e in decided.items()} == {
        c.full_name: EvaluationState.DECIDED for c in u.cadres
    }
    assert {c.full_name: e.decided_grade for c, e in decided.items()} == {
        c.full_name: Grade.EXCELLENT if c in (u.head, cadre) else Grade.GOOD for c in u.cadres
    }

    organisation = actors.sign_in("organisation", u.organisation)
    publish(organisation, u.period)
    published = PublishedResult.objects.filter(evaluation__period=u.period)
    assert published.count() == len(u.cadres)
    assert published.get(evaluation=evaluation).grade == Grade.EXCELLENT
    assert state_of(u, cadre) == EvaluationState.PUBLISHED

    # The cadre downloads their Form 5.
    form5 = download_form5(cadre_page, evaluation)
    assert form5[:4] == b"%PDF"
    assert len(form5) > 10_000
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(form5)).pages)
    text = unicodedata.normalize("NFC", " ".join(text.split()))
    assert cadre.full_name in text
    assert TASKS[0][0] in text

    # The organisation department exports the unit's summary workbook.
    workbook = openpyxl.load_workbook(io.BytesIO(export_summary(organisation, u, queued)))
    summary = workbook.worksheets[0]
    with translation.override("vi"):
        header = list(report_selectors.summary_header())
    rows = [[cell.value for cell in row] for row in summary.iter_rows()]
    below_header = rows[rows.index(header) + 1 :]
    name, self_score, vetted_score, grade = (
        vi("Full name"),
        vi("Self-score"),
        vi("Vetted score"),
        vi("Decided grade"),
    )
    by_name = {row[header.index(name)]: dict(zip(header, row, strict=True)) for row in below_header}
    assert set(by_name) == {c.full_name for c in u.cadres}
    mine = by_name[cadre.full_name]
    assert (mine[self_score], mine[vetted_score], mine[grade]) == (
        99.5,
        99.5,
        vi_label(Grade.EXCELLENT),
    )
    assert by_name[u.members[1].full_name][grade] == vi_label(Grade.GOOD)
    assert Export.objects.get(pk=queued[0]).status == Export.Status.DONE

    assert actors.errors == []  # no script error, nothing the CSP refused
