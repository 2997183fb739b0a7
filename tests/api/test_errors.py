"""Bad input gets a clear 4xx in one error body, and nothing is written."""

import pytest

from cadres.models import Cadre, Unit
from evaluation.models import Evaluation, Period, Task
from tests.api.calls import plan_body, url
from tests.api.conftest import session_client


def test_service_field_errors_are_a_400_with_the_fields(unit):
    cadre = unit.members[0]
    evaluation = unit.evaluation(cadre)
    client = session_client(cadre.user)
    body = plan_body(cadre)
    body["tasks"][0]["weight"] = "150"
    body["tasks"][1]["axis"] = 9
    response = client.put(url(evaluation, "plan"), body)
    assert response.status_code == 400
    assert response.data["code"] == "invalid"
    assert set(response.data["errors"]["tasks"][0]) == {"weight"}
    assert set(response.data["errors"]["tasks"][1]) == {"axis"}
    # The plan saves; submitting with weights that do not reach 100 % is refused by R2.
    body = plan_body(cadre)
    body["tasks"][0]["weight"] = "5"
    assert client.put(url(evaluation, "plan"), body).status_code == 200
    response = client.post(url(evaluation, "submit-plan"), {})
    assert response.status_code == 400
    assert response.data["errors"]["tasks"]
    assert response.data["detail"] == response.data["errors"]["tasks"][0]
    assert Evaluation.objects.get(pk=evaluation.pk).state == "planning"


def test_a_missing_reason_and_an_unknown_grade_are_field_errors(unit):
    evaluation = unit.evaluation(unit.members[0])
    client = session_client(unit.authority)
    response = client.post(url(evaluation, "defer"), {"case": "R11e", "reason": "  "})
    assert response.status_code == 400
    assert list(response.data["errors"]) == ["reason"]
    response = client.post(url(evaluation, "defer"), {"case": "R99", "reason": "x"})
    assert list(response.data["errors"]) == ["case"]
    response = client.post(url(evaluation, "decide"), {"grade": "best"})
    assert list(response.data["errors"]) == ["grade"]
    assert Evaluation.objects.get(pk=evaluation.pk).state == "planning"


def test_unknown_tasks_and_criteria_in_a_draft_are_refused(unit):
    cadre = unit.members[0]
    client = session_client(cadre.user)
    from tests.evaluation import steps

    evaluation = steps.plan_and_approve(unit, cadre)
    response = client.patch(
        url(evaluation, "self-assessment"), {"tasks": {"999999": {"status": "done"}}}
    )
    assert response.status_code == 400
    assert "tasks" in response.data["errors"]
    response = client.patch(url(evaluation, "self-assessment"), {"criteria": {"nope": "3"}})
    assert response.status_code == 400
    response = client.patch(
        url(evaluation, "self-assessment"), {"criteria": {"political_ideology": "99"}}
    )
    assert response.status_code == 400
    assert "criteria.political_ideology" in response.data["errors"]
    assert not Task.objects.filter(evaluation=evaluation).exclude(status="pending").exists()


@pytest.mark.parametrize(
    "query",
    [
        {"state": "nope"},
        {"unit": "abc"},
        {"period": "-1"},
        {"grade": "best"},
        {"actionable": "view"},
        {"current": "maybe"},
    ],
)
def test_bad_filters_are_a_400(unit, query):
    response = session_client(unit.authority).get("/api/evaluations/", query)
    assert response.status_code == 400
    assert set(response.data["errors"]) == set(query)


def test_malformed_json_and_missing_objects(unit):
    client = session_client(unit.authority)
    response = client.generic(
        "POST", url(unit.evaluation(unit.members[0]), "decide"), "{not json", "application/json"
    )
    assert response.status_code == 400
    assert response.data["code"] == "parse_error"
    assert client.get("/api/evaluations/99999999/").status_code == 404
    assert client.get("/api/evaluations/", {"page": 99}).status_code == 404


def test_administrators_write_the_organisation_and_others_may_not(unit):
    from cadres.roles import Role
    from tests import factories

    admin = factories.holder(Role.ADMINISTRATOR, unit.unit.parent)
    client = session_client(admin)
    response = client.post(
        "/api/units/",
        {"parent": unit.unit.pk, "code": "PNV", "name": "Phòng Nội vụ", "kind": "department"},
    )
    assert response.status_code == 201, response.data
    child = Unit.objects.get(pk=response.data["id"])
    assert child.path.startswith(unit.unit.path) and child.depth == unit.unit.depth + 1
    response = client.post(
        "/api/units/",
        {"parent": unit.unit.pk, "code": "PNV", "name": "Trùng mã", "kind": "department"},
    )
    assert response.status_code == 400
    assert Unit.objects.filter(code="PNV").count() == 1
    response = client.post("/api/cadres/", {"code": "CB9", "full_name": "Đỗ Văn Mới"})
    assert response.status_code == 201
    cadre_id = response.data["id"]
    response = client.post(
        "/api/positions/",
        {
            "unit": child.pk,
            "title": "Trưởng phòng",
            "kind": "leadership",
            "collective_role": "head",
        },
    )
    assert response.status_code == 201
    position = response.data["id"]
    body = {"cadre": cadre_id, "position": position, "start_date": "2026-04-01"}
    assert client.post("/api/assignments/", body).status_code == 201
    clash = client.post("/api/assignments/", body | {"cadre": unit.members[0].pk})
    assert clash.status_code == 400
    assert "start_date" in clash.data["errors"]
    response = client.post(
        "/api/absences/",
        {"cadre": cadre_id, "kind": "other", "start_date": "2026-04-01", "end_date": "2026-04-10"},
    )
    assert response.status_code == 400
    assert list(response.data["errors"]) == ["reason"]
    response = client.post(f"/api/units/{child.pk}/move/", {"parent": child.pk})
    assert response.status_code == 400
    # The authority holds no administrator grant: it reads the tree but does not change it.
    authority = session_client(unit.authority)
    assert authority.get(f"/api/units/{child.pk}/").status_code == 200
    response = authority.post("/api/cadres/", {"code": "CB10", "full_name": "Không Được"})
    assert response.status_code == 403
    response = authority.post(f"/api/units/{child.pk}/move/", {"parent": unit.unit.parent.pk})
    assert response.status_code == 403
    assert not Cadre.objects.filter(code="CB10").exists()
    assert Unit.objects.get(pk=child.pk).parent_id == unit.unit.pk


def test_periods_are_created_and_opened_by_the_organisation_department(unit):
    organisation = session_client(unit.organisation)
    response = organisation.post("/api/periods/", {"year": 2026, "quarter": 3})
    assert response.status_code == 201, response.data
    assert response.data["report_deadline"] == "2026-10-04"  # R16
    response = organisation.post(f"/api/periods/{response.data['id']}/open/")
    assert response.data["created"] == 8
    assert organisation.post("/api/periods/", {"year": 2026, "quarter": 3}).status_code == 400
    cadre = session_client(unit.members[0].user)
    assert cadre.post("/api/periods/", {"year": 2026, "quarter": 4}).status_code == 403
    assert not Period.objects.filter(quarter=4).exists()
    assert [p["quarter"] for p in cadre.get("/api/periods/").data["results"]] == [3, 2]
