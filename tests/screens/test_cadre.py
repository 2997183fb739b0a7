"""The cadre's screens: "My quarter", the plan with its live R2 check, Form 5 with the live
score and autosave, and the history of published results."""

from decimal import Decimal

import pytest

from evaluation import services
from evaluation.models import CatalogueVersion, EvaluationState, Task
from tests.evaluation import steps
from tests.screens.helpers import form_data, text


def plan_data(page, rows):
    """The plan form as read from the page, with ``rows`` typed into it."""
    data = form_data(page, "plan-form")
    data["tasks-TOTAL_FORMS"] = str(len(rows))
    for i, row in enumerate(rows):
        data.update({f"tasks-{i}-{key}": value for key, value in row.items()})
    return data


def six_clear(title, axis, weight, responsible):
    return {
        "title": title,
        "axis": axis,
        "weight": weight,
        "expected_product": "Báo cáo",
        "primary_responsible": responsible,
        "responsibility": "Chủ trì",
        "accepting_authority": "Ban Thường vụ",
        "deadline": "20/06/2026",
    }


def test_my_quarter_shows_the_open_quarter_and_what_to_do(unit, as_user):
    cadre = unit.members[0]
    page = as_user(cadre.user).get("/my/")
    assert page.status_code == 200
    body = text(page)
    assert "Quarter 2/2026" in body
    assert f"/evaluations/{unit.evaluation(cadre).pk}/plan/" in body
    assert "No past quarter yet." in body


def test_an_account_without_a_cadre_is_refused_my_quarter(unit, as_user):
    assert as_user(unit.superior).get("/my/").status_code == 403


def test_the_live_check_saves_the_draft_and_answers_with_the_r2_problems(unit, as_user):
    cadre = unit.members[0]
    evaluation = unit.evaluation(cadre)
    client = as_user(cadre.user)
    url = f"/evaluations/{evaluation.pk}/plan/"
    page = client.get(url)
    assert "Add at least one task." in text(page)
    rows = [
        six_clear("Nhiệm vụ A", "1", "60", cadre.pk),
        six_clear("Nhiệm vụ B", "3", "30", cadre.pk),
    ]
    data = plan_data(page, rows)
    data.update({"axes-axis_1": "primary", "axes-axis_3": "secondary"})
    response = client.post(f"{url}check/", data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = text(response)
    assert 'id="plan-check"' in body and "<html" not in body  # the fragment only
    assert "Total weight: 90%" in body
    assert "Task weights sum to 90.00%, not 100% (R2)" in body
    assert list(evaluation.tasks.values_list("title", flat=True)) == ["Nhiệm vụ A", "Nhiệm vụ B"]
    data["tasks-1-weight"] = "40"
    body = text(client.post(f"{url}check/", data, HTTP_HX_REQUEST="true"))
    assert "it can be submitted" in body
    assert evaluation.tasks.get(title="Nhiệm vụ B").weight == Decimal(40)


def test_a_live_check_with_a_bad_number_saves_nothing_and_names_the_field(unit, as_user):
    cadre = unit.members[0]
    evaluation = unit.evaluation(cadre)
    client = as_user(cadre.user)
    url = f"/evaluations/{evaluation.pk}/plan/"
    data = plan_data(client.get(url), [six_clear("Nhiệm vụ A", "1", "nhiều", cadre.pk)])
    response = client.post(f"{url}check/", data, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    assert "Task 1, Weight (%): Enter a number." in text(response)
    assert not evaluation.tasks.exists()


def test_a_row_without_a_title_is_a_field_error(unit, as_user):
    cadre = unit.members[0]
    evaluation = unit.evaluation(cadre)
    client = as_user(cadre.user)
    url = f"/evaluations/{evaluation.pk}/plan/"
    row = six_clear("", "1", "100", cadre.pk)
    response = client.post(url, {**plan_data(client.get(url), [row]), "action": "save"})
    assert response.status_code == 400
    assert "This field cannot be blank." in text(response)
    assert not evaluation.tasks.exists()


def test_submitting_a_plan_with_problems_is_refused_and_listed(unit, as_user):
    cadre = unit.members[0]
    evaluation = unit.evaluation(cadre)
    client = as_user(cadre.user)
    url = f"/evaluations/{evaluation.pk}/plan/"
    row = six_clear("Nhiệm vụ A", "1", "100", cadre.pk)
    row["accepting_authority"] = ""
    response = client.post(url, {**plan_data(client.get(url), [row]), "action": "submit"})
    assert response.status_code == 400
    body = text(response)
    assert "Task 1 is missing the authority that accepts it." in body
    assert "Axis 1 has tasks but is not marked primary or secondary (R2)" in body
    evaluation.refresh_from_db()
    assert evaluation.state == EvaluationState.PLANNING
    assert evaluation.tasks.count() == 1  # the draft is kept


def test_add_a_row_and_an_item_of_the_approved_catalogue(unit, as_user):
    version = services.catalogue_draft(tenant=unit.tenant, actor=unit.advisory)
    item = services.catalogue_add_item(
        version=version,
        actor=unit.advisory,
        code="CĐS-01",
        title="Kế hoạch chuyển đổi số",
        axis=3,
        expected_product="Kế hoạch được phê duyệt",
        difficulty="1.2",
    )
    services.catalogue_submit(version=version, actor=unit.advisory)
    services.catalogue_approve(version=version, actor=unit.authority)
    cadre = unit.members[0]
    client = as_user(cadre.user)
    url = f"/evaluations/{unit.evaluation(cadre).pk}/plan/"
    page = client.get(url)
    assert "CĐS-01 — Kế hoạch chuyển đổi số" in text(page)
    data = plan_data(page, [six_clear("Nhiệm vụ A", "1", "70", cadre.pk)])
    added = client.post(url, {**data, "action": "add"})
    assert form_data(added, "plan-form")["tasks-TOTAL_FORMS"] == "2"
    data = form_data(added, "plan-form")
    picked = client.post(url, {**data, "action": "add_item", "catalogue_pick": item.pk})
    data = form_data(picked, "plan-form")
    # The blank row left untouched is dropped; the item comes filled from the catalogue.
    assert data["tasks-TOTAL_FORMS"] == "2"
    assert data["tasks-1-title"] == "Kế hoạch chuyển đổi số"
    assert data["tasks-1-axis"] == "3"
    assert data["tasks-1-catalogue_item"] == str(item.pk)
    row = six_clear("Kế hoạch chuyển đổi số", "3", "30", cadre.pk)
    data.update({f"tasks-1-{key}": value for key, value in row.items()})
    data.update({"axes-axis_1": "primary", "axes-axis_3": "secondary", "action": "submit"})
    assert client.post(url, data).status_code == 302
    task = Task.objects.get(evaluation=unit.evaluation(cadre), catalogue_item=item)
    assert task.difficulty == Decimal("1.20")
    assert unit.evaluation(cadre).state == EvaluationState.PLAN_SUBMITTED
    assert CatalogueVersion.objects.get(pk=version.pk).status == "approved"


def test_an_unknown_catalogue_item_is_a_clear_400(unit, as_user):
    cadre = unit.members[0]
    client = as_user(cadre.user)
    url = f"/evaluations/{unit.evaluation(cadre).pk}/plan/"
    data = plan_data(client.get(url), [six_clear("A", "1", "100", cadre.pk)])
    response = client.post(url, {**data, "action": "add_item", "catalogue_pick": "999999"})
    assert response.status_code == 400
    assert "Pick an item of the approved catalogue." in text(response)


@pytest.mark.parametrize("who", ["other_cadre", "superior"])
def test_the_plan_of_someone_else_is_not_theirs_to_edit(unit, as_user, who):
    evaluation = unit.evaluation(unit.members[0])
    user = unit.members[1].user if who == "other_cadre" else unit.superior
    response = as_user(user).get(f"/evaluations/{evaluation.pk}/plan/")
    # Another cadre cannot even see it; the superior sees it but does not edit it.
    assert response.status_code == (404 if who == "other_cadre" else 403)


def test_the_plan_page_closes_once_submitted(unit, as_user):
    cadre = unit.members[0]
    steps.plan_and_approve(unit, cadre)
    response = as_user(cadre.user).get(f"/evaluations/{unit.evaluation(cadre).pk}/plan/")
    assert response.status_code == 403
    assert "This step is not open" in text(response)


def self_data(client, evaluation, *, not_done=0, points=("8", "8", "7", "7")):
    data = form_data(client.get(f"/evaluations/{evaluation.pk}/self-assessment/"), "self-form")
    for i, task in enumerate(evaluation.tasks.order_by("order", "pk")):
        prefix = f"task-{task.pk}-"
        if i < not_done:
            data[prefix + "status"] = "not_done"
        else:
            data.update(
                {
                    prefix + "status": "done",
                    prefix + "completed_on": "15/06/2026",
                    prefix + "self_quality_level": "1",
                }
            )
    for code, value in zip(steps.CRITERIA, points, strict=True):
        data[f"crit_{code}"] = value
    return data


def test_the_autosave_returns_the_live_score_grade_and_reasons(unit, as_user):
    cadre = unit.members[0]
    evaluation = steps.plan_and_approve(unit, cadre)
    client = as_user(cadre.user)
    data = self_data(client, evaluation, points=("8", "7,5", "7", "7"))
    response = client.post(
        f"/evaluations/{evaluation.pk}/self-assessment/draft/", data, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    body = text(response)
    assert 'id="live-score"' in body and "<html" not in body
    assert "99.5" in body  # 29.5 + 70
    assert "Good" in body  # no task exceeded: not Excellent (R5)
    assert "(R5)" in body and "(R1)" in body
    evaluation.refresh_from_db()
    assert evaluation.self_score == Decimal("99.5")
    assert evaluation.state == EvaluationState.PLAN_APPROVED  # a draft, not submitted
    assert evaluation.criterion_scores.get(code="ethics_lifestyle").self_points == Decimal("7.5")


def test_a_criterion_out_of_range_is_a_field_error_and_nothing_is_saved(unit, as_user):
    cadre = unit.members[0]
    evaluation = steps.plan_and_approve(unit, cadre)
    client = as_user(cadre.user)
    data = self_data(client, evaluation, points=("9", "8", "7", "7"))
    response = client.post(
        f"/evaluations/{evaluation.pk}/self-assessment/draft/", data, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422
    name = evaluation.criterion_scores.get(code="political_ideology").name  # as stored
    assert f"{name}: enter 0 to 8.0 points." in text(response)
    assert not evaluation.criterion_scores.filter(self_points__isnull=False).exists()
    response = client.post(
        f"/evaluations/{evaluation.pk}/self-assessment/", {**data, "action": "save"}
    )
    assert response.status_code == 400
    assert 'aria-invalid="true"' in text(response)


def test_an_impossible_date_is_refused_with_its_field(unit, as_user):
    cadre = unit.members[0]
    evaluation = steps.plan_and_approve(unit, cadre)
    client = as_user(cadre.user)
    data = self_data(client, evaluation)
    task = evaluation.tasks.first()
    data[f"task-{task.pk}-completed_on"] = "31/02/2026"
    response = client.post(f"/evaluations/{evaluation.pk}/self-assessment/draft/", data)
    assert response.status_code == 422
    assert "Task 1, Completed on: Enter a valid date." in text(response)


def test_r7_asks_for_a_confirmation_before_submitting(unit, as_user):
    cadre = unit.members[0]
    evaluation = steps.plan_and_approve(unit, cadre)
    client = as_user(cadre.user)
    url = f"/evaluations/{evaluation.pk}/self-assessment/"
    response = client.post(url, {**self_data(client, evaluation, not_done=1), "action": "submit"})
    assert response.status_code == 400
    body = text(response)
    assert "Completed 3/4 tasks (under 100%) → Not completed (R7)" in body
    assert 'name="confirm_warnings"' in body
    evaluation.refresh_from_db()
    assert evaluation.state == EvaluationState.PLAN_APPROVED
    assert evaluation.self_score == Decimal("82.5")  # the draft was kept
    data = {**form_data(response, "self-form"), "confirm_warnings": "on", "action": "submit"}
    assert client.post(url, data).status_code == 302
    evaluation.refresh_from_db()
    assert evaluation.state == EvaluationState.SELF_ASSESSED
    assert evaluation.self_grade == "not_completed"


def test_missing_results_are_listed_when_submitting(unit, as_user):
    cadre = unit.members[0]
    evaluation = steps.plan_and_approve(unit, cadre)
    client = as_user(cadre.user)
    url = f"/evaluations/{evaluation.pk}/self-assessment/"
    data = form_data(client.get(url), "self-form")
    response = client.post(url, {**data, "action": "submit"})
    assert response.status_code == 400
    assert "Report the result of task 1." in text(response)
    assert "Score the criterion" in text(response)


def test_history_lists_published_results_only_as_records(unit, as_user):
    cadre = unit.members[0]
    evaluation = steps.plan_and_approve(unit, cadre)
    steps.self_assess(unit, cadre)
    steps.vet(unit, cadre)
    services.evaluation_propose(evaluation=evaluation, actor=unit.superior, grade="good")
    services.evaluation_decide(evaluation=evaluation, actor=unit.authority, grade="good")
    client = as_user(cadre.user)
    assert "No past quarter yet." in text(client.get("/my/"))
    services.evaluation_publish(evaluation=evaluation, actor=unit.organisation)
    body = text(client.get("/my/"))
    assert "Quarter 2/2026" in body and "Good" in body and "100.0" in body
    # Another cadre of the unit has nothing published: nothing in their history.
    assert "No past quarter yet." in text(as_user(unit.members[1].user).get("/my/"))
