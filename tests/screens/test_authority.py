"""The managing authority: the decision board per quota group with its live quota meter,
the collective first, decisions one by one or in bulk, the R17 and R15 lists, deferral and
reopening."""

from evaluation import services
from evaluation.models import Evaluation, EvaluationState, QuotaGroup
from tests.evaluation import steps
from tests.screens.helpers import form_data, text


def proposed(unit, cadre, grade, **figures):
    steps.plan_and_approve(unit, cadre)
    steps.self_assess(unit, cadre, **figures)
    steps.vet(unit, cadre, late=figures.get("late", 0), not_done=figures.get("not_done", 0))
    return services.evaluation_propose(
        evaluation=unit.evaluation(cadre), actor=unit.superior, grade=grade
    )


def test_the_decision_list_shows_each_quota_group_with_its_counts(unit, as_user):
    proposed(unit, unit.members[0], "excellent", exceeded=2)
    proposed(unit, unit.members[1], "good")
    body = text(as_user(unit.authority).get("/decisions/"))
    assert "Sở Nội vụ" in body and "Quarter 2/2026" in body
    group = QuotaGroup.objects.get(period=unit.period)
    assert f"/decisions/{group.pk}/" in body
    assert as_user(unit.organisation).get("/decisions/").status_code == 403


def test_the_board_shows_every_cadre_with_score_reasons_and_the_quota(unit, as_user):
    first = proposed(unit, unit.members[0], "excellent", exceeded=2)
    proposed(unit, unit.members[1], "good")
    body = text(as_user(unit.authority).get(f"/decisions/{first.quota_group_id}/"))
    for cadre in unit.cadres:
        assert cadre.full_name in body
    assert "Score 100.0 reaches the Excellent floor of 90" in body  # the reasons (R5)
    assert "Excellent quota (R9)" in body
    assert 'id="quota-meter"' in body
    assert f'name="grade_{first.pk}"' in body  # decidable lines carry a grade
    assert f'name="grade_{unit.evaluation(unit.members[2]).pk}"' not in body  # still planning


def test_the_meter_answers_the_ticked_grades_live(unit, as_user):
    first = proposed(unit, unit.members[0], "excellent", exceeded=2)
    second = proposed(unit, unit.members[1], "excellent", exceeded=2)
    client = as_user(unit.authority)
    url = f"/decisions/{first.quota_group_id}/meter/"
    response = client.post(
        url,
        {
            "pick": [first.pk, second.pk],
            f"grade_{first.pk}": "excellent",
            f"grade_{second.pk}": "excellent",
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    body = text(response)
    assert "<html" not in body
    assert "0 Excellent allowed now" in body  # two Excellent and no Good: quota 0 (R9)
    assert "2 more Excellent, 2 in all; 0 allowed." in body
    assert "This is over the quota" in body


def test_bulk_decisions_stop_at_the_quota_with_the_ranked_candidates(unit, as_user):
    for cadre in unit.members[2:5]:
        proposed(unit, cadre, "good")
    best = proposed(unit, unit.members[0], "excellent", exceeded=2)
    other = proposed(unit, unit.members[1], "excellent", exceeded=2, points=("8", "8", "7", "6"))
    client = as_user(unit.authority)
    board = f"/decisions/{best.quota_group_id}/"
    data = form_data(client.get(board), "board-form")
    data["pick"] = [e.pk for e in Evaluation.objects.filter(state="proposed")]
    response = client.post(board, data)
    # 3 Good + 2 Excellent proposed: the quota keeps one; the second Excellent is refused.
    assert response.status_code == 409
    body = text(response)
    assert "Not decided" in body and "Candidates for Excellent" in body
    assert body.index(unit.members[0].full_name, body.index("Candidates for Excellent")) < (
        body.index(unit.members[1].full_name, body.index("Candidates for Excellent"))
    )
    best.refresh_from_db()
    other.refresh_from_db()
    assert (best.state, best.decided_grade) == (EvaluationState.DECIDED, "excellent")
    assert other.state == EvaluationState.PROPOSED
    decided = Evaluation.objects.filter(state=EvaluationState.DECIDED).count()
    assert decided == 4  # the three Good and the best Excellent


def test_nothing_ticked_is_a_clear_400(unit, as_user):
    evaluation = proposed(unit, unit.members[0], "good")
    board = f"/decisions/{evaluation.quota_group_id}/"
    response = as_user(unit.authority).post(board, {"comment": ""})
    assert response.status_code == 400
    assert "Tick at least one line, or decide one line." in text(response)


def test_a_grade_above_what_the_rules_allow_is_refused_with_the_reasons(unit, as_user):
    # One of four tasks late is 25 %, over the 20 % Completed allows (R5).
    evaluation = proposed(unit, unit.members[0], "good", late=1)
    client = as_user(unit.authority)
    url = f"/evaluations/{evaluation.pk}/decide/"
    data = form_data(client.get(f"/evaluations/{evaluation.pk}/"), url)
    assert data["grade"] == "good"
    response = client.post(url, data)
    assert response.status_code == 400
    body = text(response)
    assert "The rules allow at most “Not completed” for this evaluation:" in body
    assert "1 of 4 tasks were late (25%; at most 20% allowed) (R5)" in body
    evaluation.refresh_from_db()
    assert evaluation.state == EvaluationState.PROPOSED
    response = client.post(url, {**data, "grade": "not_completed", "reassignment": "on"})
    assert response.status_code == 302
    evaluation.refresh_from_db()
    assert (evaluation.decided_grade, evaluation.reassignment_flag) == ("not_completed", True)
    body = text(client.get("/flags/"))
    assert unit.members[0].full_name in body
    # R17: the proposal was higher than the decision.
    assert unit.members[0].full_name in text(client.get("/discrepancies/"))


def test_the_collective_targets_results_and_grade(unit, as_user):
    evaluation = proposed(unit, unit.head, "excellent", exceeded=2)
    client = as_user(unit.authority)
    url = f"/decisions/{evaluation.quota_group_id}/collective/"
    assert client.post(url, {"action": "targets", "targets": "  \n "}).status_code == 400
    lines = "\n".join(f"Chỉ tiêu {i}" for i in range(10))
    assert client.post(url, {"action": "targets", "targets": lines}).status_code == 302
    response = client.post(url, {"action": "grade"})
    assert response.status_code == 400
    assert "Report the result of every target first." in text(response)
    data = form_data(client.get(url), "results-form")
    keys = sorted(k for k in data if k.endswith("-status"))
    for i, key in enumerate(keys):
        data[key] = "done" if i < 6 else "not_done"
    data[keys[9].removesuffix("status") + "force_majeure_confirmed"] = "on"
    response = client.post(url, data)
    assert response.status_code == 400
    assert "Give the force majeure reason." in text(response)
    data[keys[9].removesuffix("status") + "force_majeure_reason"] = "Thiên tai"
    assert client.post(url, data).status_code == 302
    assert client.post(url, {"action": "grade"}).status_code == 302
    body = text(client.get(url))
    assert "66.7" in body and "under the 70% threshold (R8)" in body
    # R8: the head of a collective under 70 % cannot be more than Not completed.
    decide = f"/evaluations/{evaluation.pk}/decide/"
    data = form_data(client.get(f"/evaluations/{evaluation.pk}/"), decide)
    response = client.post(decide, {**data, "grade": "excellent"})
    assert response.status_code == 400
    assert "(R8)" in text(response)


def test_defer_needs_a_case_and_a_reason(unit, as_user):
    evaluation = unit.evaluation(unit.members[0])
    client = as_user(unit.authority)
    url = f"/evaluations/{evaluation.pk}/defer/"
    data = form_data(client.get(f"/evaluations/{evaluation.pk}/"), url)
    response = client.post(url, {**data, "case": "", "reason": ""})
    assert response.status_code == 400
    assert "A reason is required." in text(response)
    response = client.post(url, {**data, "case": "R11a", "reason": "Học tập trung 3 tháng"})
    assert response.status_code == 302
    evaluation.refresh_from_db()
    assert (evaluation.state, evaluation.deferral_case) == (EvaluationState.DEFERRED, "R11a")


def test_reopen_makes_a_new_revision_and_keeps_the_published_record(unit, as_user):
    evaluation = proposed(unit, unit.members[0], "good")
    services.evaluation_decide(evaluation=evaluation, actor=unit.authority, grade="good")
    services.evaluation_publish(evaluation=evaluation, actor=unit.organisation)
    client = as_user(unit.authority)
    url = f"/evaluations/{evaluation.pk}/reopen/"
    data = form_data(client.get(f"/evaluations/{evaluation.pk}/"), url)
    assert client.post(url, {**data, "reason": ""}).status_code == 400
    assert client.post(url, {**data, "reason": "Sai sót số liệu"}).status_code == 302
    current = Evaluation.objects.get(cadre=unit.members[0], is_current=True)
    assert (current.revision, current.state) == (2, EvaluationState.PROPOSED)
    assert "revision 2" in text(client.get(f"/evaluations/{current.pk}/"))
    # The results page keeps the published record of revision 1 until a new one is published.
    assert unit.members[0].full_name in text(client.get(f"/results/?period={unit.period.pk}"))


def test_two_quarters_not_completed_raise_the_replacement_flag(unit, as_user):
    q1 = services.period_create(tenant=unit.tenant, year=2026, quarter=1)
    services.period_open(period=q1)
    cadre = unit.members[4]
    Evaluation.objects.filter(cadre=cadre).update(
        state=EvaluationState.DECIDED, decided_grade="not_completed"
    )
    body = text(as_user(unit.authority).get("/flags/"))
    assert cadre.full_name in body
    assert "Not completed in 2 consecutive graded quarters" in body
    assert unit.members[3].full_name not in body


def test_a_ticked_line_without_a_grade_keeps_what_was_posted_and_names_the_field(unit, as_user):
    first = proposed(unit, unit.members[0], "good")
    second = proposed(unit, unit.members[1], "good")
    client = as_user(unit.authority)
    board = f"/decisions/{first.quota_group_id}/"
    data = form_data(client.get(board), "board-form")
    data.update({"pick": [first.pk, second.pk], f"grade_{first.pk}": "", f"flag_{first.pk}": "on"})
    response = client.post(board, data)
    assert response.status_code == 400
    body = text(response)
    assert (
        f'<select name="grade_{first.pk}" id="id_grade_{first.pk}" aria-invalid="true"'
        f' aria-describedby="id_grade_{first.pk}_error">'
    ) in body
    assert f'id="id_grade_{first.pk}_error">Choose one of the four grades.</span>' in body
    assert f'id="id_flag_{first.pk}" checked>' in body  # the ticked flag is kept
    assert '<option value="good" selected>' in body  # the other line keeps its proposal
    assert Evaluation.objects.filter(state="decided").count() == 0  # nothing decided
    unchanged = as_user(unit.authority).get(board)
    assert f'id="id_flag_{first.pk}">' in text(unchanged)


def test_the_board_and_inbox_lines_speak_the_readers_language(unit, as_user):
    first = proposed(unit, unit.members[0], "good")
    board = f"/decisions/{first.quota_group_id}/"
    vietnamese = text(as_user(unit.authority, language="vi").get(board))
    assert f'aria-label="Chọn {unit.members[0].full_name}"' in vietnamese
    assert "<summary>Lý do</summary>" in vietnamese
    assert '<span class="grade grade-good">Hoàn thành tốt nhiệm vụ</span>' in vietnamese
    assert "Quyết định<span" in vietnamese
    english = text(as_user(unit.authority).get(board))
    assert f'aria-label="Tick {unit.members[0].full_name}"' in english
    assert '<span class="grade grade-good">Good</span>' not in vietnamese
    waiting = unit.evaluation(unit.members[1])
    services.evaluation_save_plan(
        evaluation=waiting,
        actor=unit.members[1].user,
        tasks=steps.plan_tasks(unit.members[1]),
        axis_roles={"1": "primary", "3": "secondary"},
    )
    services.evaluation_submit_plan(evaluation=waiting, actor=unit.members[1].user)
    inbox = text(as_user(unit.superior, language="vi").get("/inbox/"))
    assert f'aria-label="Chọn kế hoạch của {unit.members[1].full_name}"' in inbox
    assert '<th scope="col">Thời hạn xác định mục tiêu, nhiệm vụ</th>' in inbox
