"""The personnel advisory body: the vetting queue, the vetting page (quality levels,
progress, force majeure with a reason) and the catalogue editor."""

from decimal import Decimal

from evaluation.models import CatalogueItem, CatalogueVersion, EvaluationState, Task
from tests.evaluation import steps
from tests.screens.helpers import form_data, text


def self_assessed(unit, cadre, **figures):
    steps.plan_and_approve(unit, cadre)
    return steps.self_assess(unit, cadre, **figures)


def test_the_queue_lists_self_assessed_evaluations_per_unit(unit, as_user):
    self_assessed(unit, unit.members[0])
    steps.plan_and_approve(unit, unit.members[1])  # not self-assessed yet
    body = text(as_user(unit.advisory).get("/vetting/"))
    assert unit.members[0].full_name in body
    assert unit.members[1].full_name not in body
    assert "Sở Nội vụ" in body
    assert as_user(unit.superior).get("/vetting/").status_code == 403


def test_the_vetting_page_starts_from_the_cadres_report(unit, as_user):
    evaluation = self_assessed(unit, unit.members[0], late=1)
    data = form_data(as_user(unit.advisory).get(f"/evaluations/{evaluation.pk}/vet/"), "vet-form")
    tasks = list(evaluation.tasks.order_by("order", "pk"))
    assert data[f"task-{tasks[0].pk}-progress"] == "late"  # completed after its deadline
    assert data[f"task-{tasks[1].pk}-progress"] == "on_time"
    assert data[f"task-{tasks[1].pk}-quality_level"] == "1"
    assert data["crit_political_ideology"] == "8"  # the cadre's points until changed


def test_vetting_records_levels_and_the_score(unit, as_user):
    evaluation = self_assessed(unit, unit.members[0])
    client = as_user(unit.advisory)
    url = f"/evaluations/{evaluation.pk}/vet/"
    data = form_data(client.get(url), "vet-form")
    first = evaluation.tasks.order_by("order", "pk").first()
    data[f"task-{first.pk}-quality_level"] = "2"
    data[f"task-{first.pk}-difficulty_scope"] = "Toàn tỉnh"
    data["comment"] = "Nhiệm vụ 1 còn hạn chế"
    response = client.post(url, data)
    assert response.status_code == 302
    evaluation.refresh_from_db()
    assert evaluation.state == EvaluationState.VETTED
    # 30 + 70 × (25 % × 0.75 + 75 %) = 95.6 (R3); no task exceeded → Good (R5).
    assert evaluation.vetted_score == Decimal("95.6")
    assert evaluation.vetted_grade == "good"
    assert Task.objects.get(pk=first.pk).quality_level == 2


def test_force_majeure_needs_a_reason_and_nothing_is_written_without_it(unit, as_user):
    evaluation = self_assessed(unit, unit.members[0], not_done=1, confirm=True)
    client = as_user(unit.advisory)
    url = f"/evaluations/{evaluation.pk}/vet/"
    data = form_data(client.get(url), "vet-form")
    undone = evaluation.tasks.order_by("order", "pk").first()
    data[f"task-{undone.pk}-progress"] = "not_done"
    data[f"task-{undone.pk}-quality_level"] = ""
    data[f"task-{undone.pk}-force_majeure_decision"] = "confirmed"
    response = client.post(url, data)
    assert response.status_code == 400
    assert "Give the reason for confirming or refusing force majeure." in text(response)
    evaluation.refresh_from_db()
    assert evaluation.state == EvaluationState.SELF_ASSESSED
    assert Task.objects.get(pk=undone.pk).force_majeure_decision == ""
    data[f"task-{undone.pk}-force_majeure_decision_reason"] = "Bão số 3 (xác nhận)"
    assert client.post(url, data).status_code == 302
    evaluation.refresh_from_db()
    # The excused task leaves the count: 3 of 3 done (R7), so not "Not completed".
    assert evaluation.vetted_grade == "good"
    assert any(
        r["rule"] == "R7" and "excused" in r["messages"]["en"] for r in evaluation.computed_reasons
    )


def test_a_quality_level_is_needed_for_a_done_task(unit, as_user):
    evaluation = self_assessed(unit, unit.members[0])
    client = as_user(unit.advisory)
    url = f"/evaluations/{evaluation.pk}/vet/"
    data = form_data(client.get(url), "vet-form")
    task = evaluation.tasks.order_by("order", "pk").first()
    data[f"task-{task.pk}-quality_level"] = ""
    response = client.post(url, data)
    assert response.status_code == 400
    assert "Give the quality level of task 1." in text(response)
    data[f"task-{task.pk}-quality_level"] = "4"
    response = client.post(url, data)
    assert response.status_code == 400
    assert "Select a valid choice." in text(response)


def test_only_the_advisory_body_vets(unit, as_user):
    evaluation = self_assessed(unit, unit.members[0])
    assert as_user(unit.superior).get(f"/evaluations/{evaluation.pk}/vet/").status_code == 403
    assert (
        as_user(unit.members[1].user).get(f"/evaluations/{evaluation.pk}/vet/").status_code == 404
    )


def test_the_catalogue_is_drafted_filled_submitted_and_approved(unit, as_user):
    advisory = as_user(unit.advisory)
    response = advisory.post("/catalogue/", {"note": "Danh mục 2026"})
    assert response.status_code == 302
    version = CatalogueVersion.objects.get(tenant=unit.tenant)
    url = f"/catalogue/{version.pk}/"
    # Submitting an empty draft is refused with the reason.
    response = advisory.post(url, {"action": "submit"})
    assert response.status_code == 400
    assert "Add at least one item to the catalogue." in text(response)
    item = {
        "action": "add",
        "code": "CĐS-01",
        "title": "Kế hoạch chuyển đổi số",
        "axis": "3",
        "expected_product": "Kế hoạch",
        "difficulty": "1.2",
    }
    assert advisory.post(url, item).status_code == 302
    assert CatalogueItem.objects.get(version=version).difficulty == Decimal("1.2")
    bad = {**item, "code": "CĐS-02", "axis": "9", "difficulty": "0"}
    response = advisory.post(url, bad)
    assert response.status_code == 400
    assert CatalogueItem.objects.filter(version=version).count() == 1
    # A second draft while one is open is a conflict.
    response = advisory.post("/catalogue/", {"note": ""})
    assert response.status_code == 409
    assert "already open" in text(response)
    assert advisory.post(url, {"action": "submit"}).status_code == 302
    # The advisory body cannot approve; the authority can.
    assert "Approve the catalogue" not in text(advisory.get(url))
    assert advisory.post(url, {"action": "approve"}).status_code == 403
    authority = as_user(unit.authority)
    assert "Approve the catalogue" in text(authority.get(url))
    assert authority.post(url, {"action": "approve"}).status_code == 302
    version.refresh_from_db()
    assert (version.status, version.approved_by) == ("approved", unit.authority)
