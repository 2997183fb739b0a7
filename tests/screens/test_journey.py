"""One quarter of one unit done entirely through the pages, from plan to publication, for
its head, deputies and members (the page-level twin of tests/evaluation/test_quarter_journey)."""

from decimal import Decimal

from evaluation.models import Discrepancy, EvaluationState, PublishedResult, TransitionLog
from tests.screens.helpers import form_data, text

TASKS = [
    ("Tham mưu kế hoạch chuyển đổi số", "1", "40"),
    ("Rà soát tổ chức bộ máy", "1", "30"),
    ("Giải ngân vốn đầu tư công", "1", "15"),
    ("Hội nghị đối thoại với Nhân dân", "3", "15"),
]
# One late task of five is the 20 % Completed allows (R5): members[3] plans five.
FIVE_TASKS = [*TASKS[:3], ("Hội nghị đối thoại với Nhân dân", "3", "10"), ("Sơ kết quý", "1", "5")]
CRITERIA = [
    "political_ideology",
    "ethics_lifestyle",
    "discipline_working_style",
    "unity_exemplary_conduct",
]


def plan_through_the_page(client, evaluation, tasks=TASKS):
    url = f"/evaluations/{evaluation.pk}/plan/"
    page = client.get(url)
    assert page.status_code == 200
    data = form_data(page, "plan-form")
    assert data["tasks-TOTAL_FORMS"] == "1"  # one blank row to start with
    responsible = data["tasks-0-primary_responsible"]
    assert responsible == str(evaluation.cadre_id)
    data["tasks-TOTAL_FORMS"] = str(len(tasks))
    for i, (title, axis, weight) in enumerate(tasks):
        data.update(
            {
                f"tasks-{i}-title": title,
                f"tasks-{i}-objective": "Hoàn thành chương trình công tác quý",
                f"tasks-{i}-expected_product": f"Báo cáo {i + 1}",
                f"tasks-{i}-axis": axis,
                f"tasks-{i}-weight": weight,
                f"tasks-{i}-primary_responsible": responsible,
                f"tasks-{i}-responsibility": "Chủ trì",
                f"tasks-{i}-accepting_authority": "Ban Thường vụ Tỉnh ủy",
                f"tasks-{i}-deadline": "20/06/2026",
            }
        )
    data.update({"axes-axis_1": "primary", "axes-axis_3": "secondary", "action": "submit"})
    response = client.post(url, data)
    assert response.status_code == 302, text(response)[:3000]
    evaluation.refresh_from_db()
    assert evaluation.state == EvaluationState.PLAN_SUBMITTED


def self_assess_through_the_page(
    client, evaluation, *, exceeded=0, late=0, not_done=0, points=("8", "8", "7", "7")
):
    url = f"/evaluations/{evaluation.pk}/self-assessment/"
    data = form_data(client.get(url), "self-form")
    tasks = list(evaluation.tasks.order_by("order", "pk"))
    for i, task in enumerate(tasks):
        prefix = f"task-{task.pk}-"
        if i < not_done:
            data[prefix + "status"] = "not_done"
            continue
        data[prefix + "status"] = "done"
        data[prefix + "completed_on"] = "25/06/2026" if i < not_done + late else "15/06/2026"
        data[prefix + "self_quality_level"] = "1"
        data[prefix + "evidence"] = "Văn bản số 12/BC"
        if i >= len(tasks) - exceeded:
            data[prefix + "exceeded"] = "on"
    for code, value in zip(CRITERIA, points, strict=True):
        data[f"crit_{code}"] = value.replace(".", ",")  # typed the Vietnamese way
    data["comment"] = "Hoàn thành tốt các nhiệm vụ được giao."
    data["action"] = "submit"
    response = client.post(url, data)
    if not_done:
        # R7: the page shows the warning and asks for a confirmation first.
        assert response.status_code == 400
        assert "R7" in text(response)
        assert 'name="confirm_warnings"' in text(response)
        data = form_data(response, "self-form")
        data.update({"confirm_warnings": "on", "action": "submit"})
        response = client.post(url, data)
    assert response.status_code == 302, text(response)[:3000]
    evaluation.refresh_from_db()
    assert evaluation.state == EvaluationState.SELF_ASSESSED


def vet_through_the_page(client, evaluation, *, late=0, not_done=0, points=None):
    url = f"/evaluations/{evaluation.pk}/vet/"
    page = client.get(url)
    assert page.status_code == 200
    data = form_data(page, "vet-form")
    for i, task in enumerate(evaluation.tasks.order_by("order", "pk")):
        prefix = f"task-{task.pk}-"
        if i < not_done:
            data[prefix + "progress"] = "not_done"
            data[prefix + "quality_level"] = ""
        else:
            data[prefix + "progress"] = "late" if i < not_done + late else "on_time"
            data[prefix + "quality_level"] = "1"
            data[prefix + "difficulty_scope"] = "Phạm vi toàn tỉnh"
    if points:
        for code, value in zip(CRITERIA, points, strict=True):
            data[f"crit_{code}"] = value
    data["comment"] = "Đã thẩm định"
    response = client.post(url, data)
    assert response.status_code == 302, text(response)[:3000]
    evaluation.refresh_from_db()
    assert evaluation.state == EvaluationState.VETTED


def test_a_whole_quarter_through_the_pages(unit, as_user):
    u = unit
    evaluations = {cadre: u.evaluation(cadre) for cadre in u.cadres}

    # Step 1: every cadre plans; the superior approves them all at once.
    for cadre in u.cadres:
        tasks = FIVE_TASKS if cadre == u.members[3] else TASKS
        plan_through_the_page(as_user(cadre.user), evaluations[cadre], tasks)
    superior = as_user(u.superior)
    inbox = superior.get("/inbox/")
    assert text(inbox).count('name="pick"') == len(u.cadres)
    response = superior.post("/inbox/approve/", {"pick": [e.pk for e in evaluations.values()]})
    assert response.status_code == 302
    for evaluation in evaluations.values():
        evaluation.refresh_from_db()
        assert evaluation.state == EvaluationState.PLAN_APPROVED

    # Step 2: Form 5 through the page; members[4] left one task undone (R7 warning).
    profile = {
        u.head: {"exceeded": 2},
        u.deputies[0]: {"exceeded": 2, "points": ("8", "8", "7", "5")},
        u.deputies[1]: {},
        u.members[0]: {"exceeded": 2},
        u.members[1]: {"exceeded": 2, "points": ("8", "8", "7", "6")},
        u.members[2]: {},
        u.members[3]: {"late": 1},
        u.members[4]: {"not_done": 1},
    }
    for cadre, figures in profile.items():
        self_assess_through_the_page(as_user(cadre.user), evaluations[cadre], **figures)

    # Step 3a: the advisory body vets through the vetting page.
    advisory = as_user(u.advisory)
    queue = text(advisory.get("/vetting/"))
    assert all(cadre.full_name in queue for cadre in u.cadres)
    vetting = {
        u.deputies[0]: {"points": ("8", "8", "7", "5")},
        u.members[1]: {"points": ("8", "8", "7", "6")},
        u.members[3]: {"late": 1},
        u.members[4]: {"not_done": 1},
    }
    for cadre in u.cadres:
        vet_through_the_page(advisory, evaluations[cadre], **vetting.get(cadre, {}))
    expected = {
        u.head: "excellent",
        u.deputies[0]: "excellent",
        u.deputies[1]: "good",
        u.members[0]: "excellent",
        u.members[1]: "excellent",
        u.members[2]: "good",
        u.members[3]: "completed",
        u.members[4]: "not_completed",
    }
    for cadre, grade in expected.items():
        evaluations[cadre].refresh_from_db()
        assert evaluations[cadre].computed_grade == grade, cadre

    # Step 3b: the superior proposes on the evaluation page what the vetting found.
    for cadre, grade in expected.items():
        evaluation = evaluations[cadre]
        page = superior.get(f"/evaluations/{evaluation.pk}/")
        data = form_data(page, f"/evaluations/{evaluation.pk}/propose/")
        assert data["grade"] == grade  # the form starts from the vetting's grade
        data["comment"] = "Đề xuất"
        assert superior.post(f"/evaluations/{evaluation.pk}/propose/", data).status_code == 302

    # Step 4: the collective first (8 of 9 counted targets), then the board.
    authority = as_user(u.authority)
    group = evaluations[u.head].quota_group_id
    board = f"/decisions/{group}/"
    collective_url = f"/decisions/{group}/collective/"
    targets = "\n".join(f"Chỉ tiêu {i}" for i in range(10))
    response = authority.post(
        collective_url, {"action": "targets", "targets": targets, "assigned_by": "Tỉnh ủy"}
    )
    assert response.status_code == 302
    # With targets set, nobody is decided before the collective is graded.
    data = form_data(authority.get(board), "board-form")
    blocked = authority.post(board, {**data, "one": evaluations[u.members[2]].pk})
    assert blocked.status_code == 400
    assert "Grade the collective" in text(blocked)
    data = form_data(authority.get(collective_url), "results-form")
    keys = sorted(k for k in data if k.endswith("-status"))
    for i, key in enumerate(keys):
        prefix = key.removesuffix("status")
        data[key] = "done" if i < 8 else "not_done"
        if i == 9:
            data[prefix + "force_majeure_confirmed"] = "on"
            data[prefix + "force_majeure_reason"] = "Bão số 3"
    data["action"] = "results"
    assert authority.post(collective_url, data).status_code == 302
    assert authority.post(collective_url, {"action": "grade"}).status_code == 302
    assert "88,9" in text(authority.get(board)) or "88.9" in text(authority.get(board))

    # Decide the six that fit in one go, ticking them on the board.
    first = [u.head, u.members[0], u.members[2], u.members[3], u.members[4], u.deputies[1]]
    data = form_data(authority.get(board), "board-form")
    data["pick"] = [evaluations[c].pk for c in first]
    for cadre in first:
        data[f"grade_{evaluations[cadre].pk}"] = expected[cadre]
    assert authority.post(board, data).status_code == 302
    # Excellent for members[1] is over the quota: 409 with the ranked candidates.
    refused = evaluations[u.members[1]]
    data = form_data(authority.get(board), "board-form")
    data.update({"one": refused.pk, f"grade_{refused.pk}": "excellent"})
    response = authority.post(board, data)
    assert response.status_code == 409
    page = text(response)
    ranking = [u.members[0].full_name, u.members[1].full_name, u.deputies[0].full_name]
    positions = [page.index(name, page.index("Candidates for Excellent")) for name in ranking]
    assert positions == sorted(positions)
    refused.refresh_from_db()
    assert refused.state == EvaluationState.PROPOSED
    for cadre in (u.members[1], u.deputies[0]):
        data = form_data(authority.get(board), "board-form")
        pk = evaluations[cadre].pk
        data.update({"one": pk, f"grade_{pk}": "good", "comment": "Hạn mức"})
        assert authority.post(board, data).status_code == 302
    grades = {c: "good" for c in (u.members[1], u.deputies[0])}
    grades.update({c: expected[c] for c in first})
    # R17: the two proposals above the decision show on the discrepancy page.
    listing = text(authority.get("/discrepancies/"))
    assert u.members[1].full_name in listing and u.deputies[0].full_name in listing
    assert Discrepancy.objects.filter(proposer=u.superior).count() == 2

    # Step 5: the organisation department publishes the quarter.
    organisation = as_user(u.organisation)
    assert "8" in text(organisation.get("/publication/"))
    response = organisation.post(f"/publication/{u.period.pk}/")
    assert response.status_code == 302
    for cadre in u.cadres:
        evaluation = evaluations[cadre]
        evaluation.refresh_from_db()
        assert evaluation.state == EvaluationState.PUBLISHED
        assert PublishedResult.objects.get(evaluation=evaluation).grade == grades[cadre]
        actions = list(
            TransitionLog.objects.filter(evaluation=evaluation).values_list("action", flat=True)
        )
        assert actions == [
            "submit_plan",
            "approve_plan",
            "self_assess",
            "vet",
            "propose",
            "decide",
            "publish",
        ]
    # Every member of the tenant reads the published results; the cadre sees it in history.
    results = text(as_user(u.members[2].user).get(f"/results/?period={u.period.pk}"))
    assert all(cadre.full_name in results for cadre in u.cadres)
    # members[3]: 30 + 70 × (60 % on time + 40 % late × 0.75) = 93 (R3), Completed (R5).
    assert evaluations[u.members[3]].vetted_score == Decimal("93.0")
    history = text(as_user(u.members[3].user).get("/my/"))
    assert "Completed" in history and "93.0" in history
