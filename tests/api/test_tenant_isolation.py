"""Another tenant's ids answer like missing ones (404), in every resource and action."""

import pytest

from cadres import services as org
from cadres.models import Absence, Assignment
from cadres.roles import Role
from evaluation import services
from evaluation.models import CatalogueVersion, Collective, Evaluation, QuotaGroup
from tests import factories
from tests.api.conftest import session_client, token_client


@pytest.fixture
def probe(unit, other_tenant):
    """A user of another tenant holding every role over the whole of their own tenant."""
    root = factories.unit(other_tenant, kind="party_committee")
    user = factories.user(other_tenant)
    for role in Role:
        org.role_grant(user=user, role=role, unit=root)
    u = unit
    absence = org.absence_create(
        cadre=u.members[0],
        kind="training",
        start_date=u.period.start_date,
        end_date=u.period.start_date,
        reason="Bồi dưỡng",
    )
    catalogue = services.catalogue_draft(tenant=u.tenant, actor=u.advisory)
    collective = services.collective_for(period=u.period, unit=u.unit)
    return {
        "client": session_client(user),
        "token_client": token_client(user),
        "ids": {
            "units": u.unit.pk,
            "cadres": u.members[0].pk,
            "positions": Assignment.objects.filter(cadre=u.members[0]).first().position_id,
            "assignments": Assignment.objects.filter(cadre=u.members[0]).first().pk,
            "absences": absence.pk,
            "periods": u.period.pk,
            "catalogue/versions": catalogue.pk,
            "collectives": collective.pk,
            "quota-groups": QuotaGroup.objects.get(unit=u.unit).pk,
            "evaluations": u.evaluation(u.members[0]).pk,
        },
    }


RESOURCES = [
    "units",
    "cadres",
    "positions",
    "assignments",
    "absences",
    "periods",
    "catalogue/versions",
    "collectives",
    "quota-groups",
    "evaluations",
]


@pytest.mark.parametrize("resource", RESOURCES)
def test_another_tenants_object_is_not_found(probe, resource):
    pk = probe["ids"][resource]
    for client in (probe["client"], probe["token_client"]):
        response = client.get(f"/api/{resource}/{pk}/")
        assert response.status_code == 404
        assert response.data == {
            "status": 404,
            "code": "not_found",
            "detail": response.data["detail"],
        }
        listed = client.get(f"/api/{resource}/")
        assert pk not in [row["id"] for row in listed.data["results"]]


ACTIONS = [
    ("post", "evaluations/{pk}/submit-plan/", {}),
    ("post", "evaluations/{pk}/approve-plan/", {}),
    ("put", "evaluations/{pk}/plan/", {"tasks": []}),
    ("patch", "evaluations/{pk}/self-assessment/", {}),
    ("post", "evaluations/{pk}/self-assess/", {}),
    ("post", "evaluations/{pk}/vet/", {"tasks": {}}),
    ("post", "evaluations/{pk}/propose/", {"grade": "good"}),
    ("post", "evaluations/{pk}/decide/", {"grade": "good"}),
    ("post", "evaluations/{pk}/publish/", {}),
    ("post", "evaluations/{pk}/return/", {"reason": "x"}),
    ("post", "evaluations/{pk}/defer/", {"case": "R11e", "reason": "x"}),
    ("post", "evaluations/{pk}/reopen/", {"reason": "x"}),
    ("get", "evaluations/{pk}/history/", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ACTIONS)
def test_another_tenants_evaluation_cannot_be_acted_on(probe, method, path, body):
    pk = probe["ids"]["evaluations"]
    before = Evaluation.objects.get(pk=pk)
    response = getattr(probe["client"], method)(f"/api/{path.format(pk=pk)}", body)
    assert response.status_code == 404
    after = Evaluation.objects.get(pk=pk)
    assert (after.state, after.version) == (before.state, before.version)


def test_another_tenants_organisation_cannot_be_written_or_filtered(probe, unit):
    client = probe["client"]
    ids = probe["ids"]
    assert (
        client.post(f"/api/units/{ids['units']}/move/", {"parent": ids["units"]}).status_code == 404
    )
    response = client.post(
        "/api/units/", {"parent": ids["units"], "code": "X", "name": "X", "kind": "other"}
    )
    assert response.status_code == 400
    assert "parent" in response.data["errors"]
    response = client.post(
        "/api/assignments/",
        {"cadre": ids["cadres"], "position": ids["positions"], "start_date": "2026-04-01"},
    )
    assert response.status_code == 400
    assert set(response.data["errors"]) == {"cadre", "position"}
    response = client.post(
        "/api/absences/",
        {
            "cadre": ids["cadres"],
            "kind": "training",
            "start_date": "2026-04-01",
            "end_date": "2026-06-01",
        },
    )
    assert response.status_code == 400
    assert Absence.objects.filter(cadre_id=ids["cadres"]).count() == 1
    # A filter naming another tenant's unit is refused rather than answered empty.
    assert client.get("/api/evaluations/", {"unit": ids["units"]}).status_code == 400
    assert client.get("/api/cadres/", {"unit": ids["units"]}).status_code == 400
    for path in ["collectives/{pk}/grade/", "collectives/{pk}/results/"]:
        pk = ids["collectives"]
        assert client.post(f"/api/{path.format(pk=pk)}", {"results": {}}).status_code == 404
    assert Collective.objects.get(pk=ids["collectives"]).graded_at is None
    for path in ["submit/", "approve/", "items/"]:
        response = client.post(f"/api/catalogue/versions/{ids['catalogue/versions']}/{path}", {})
        assert response.status_code == 404
    assert CatalogueVersion.objects.get(pk=ids["catalogue/versions"]).status == "draft"
    response = client.post("/api/collectives/", {"period": ids["periods"], "unit": ids["units"]})
    assert response.status_code == 400
