"""List endpoints run a fixed number of queries, whatever the number of rows (two sizes)."""

import pytest

from cadres import services as org
from cadres.authentication import api_token_create
from cadres.roles import Role
from evaluation import services
from tests import factories
from tests.api.conftest import session_client

# Endpoint → queries for one page: session and user (2), the viewer's grants of every role (one),
# the count and the rows, plus one per prefetched relation.
PINNED = {
    "/api/units/": 5,
    "/api/cadres/": 5,
    "/api/positions/": 5,
    "/api/assignments/": 5,
    "/api/absences/": 5,
    "/api/periods/": 4,
    "/api/catalogue/versions/": 4,
    "/api/catalogue/items/": 4,
    "/api/collectives/": 6,
    "/api/quota-groups/": 5,
    "/api/evaluations/": 5,
    "/api/tokens/": 5,
}


@pytest.fixture
def viewer(unit):
    """One account holding every role over the province, so that every list has rows."""
    user = factories.user(unit.tenant)
    for role in Role:
        org.role_grant(user=user, role=role, unit=unit.unit.parent)
    return user


def grow(u, viewer, size: int) -> None:
    """Add a unit with ``size`` cadres and everything each list shows for them."""
    sub = factories.unit(u.tenant, u.unit.parent)
    cadres = [factories.cadre(sub, role="member") for _ in range(size)]
    for cadre in cadres:
        org.absence_create(
            cadre=cadre,
            kind="training",
            start_date=u.period.start_date,
            end_date=u.period.start_date,
            reason="Bồi dưỡng",
        )
        api_token_create(user=viewer, actor=viewer, name=f"Hệ thống {cadre.pk}")
    services.period_open(period=u.period)
    collective = services.collective_for(period=u.period, unit=sub)
    services.collective_set_targets(
        collective=collective, actor=viewer, targets=[{"title": "Chỉ tiêu"}] * size
    )
    version = services.catalogue_draft(tenant=u.tenant, actor=viewer)
    for n in range(size):
        services.catalogue_add_item(
            version=version,
            actor=viewer,
            code=f"SP{sub.pk}-{n}",
            title="Sản phẩm",
            axis=1,
            expected_product="Báo cáo",
        )
    services.catalogue_submit(version=version, actor=viewer)
    services.catalogue_approve(version=version, actor=viewer)
    services.period_create(tenant=u.tenant, year=2020 + sub.pk % 50, quarter=1 + size % 4)


@pytest.mark.parametrize("endpoint", list(PINNED))
def test_list_queries_do_not_grow_with_the_rows(unit, viewer, endpoint, django_assert_num_queries):
    grow(unit, viewer, 2)
    client = session_client(viewer)
    sizes = []
    for extra in (0, 6):
        if extra:
            grow(unit, viewer, extra)
        with django_assert_num_queries(PINNED[endpoint]):
            response = client.get(endpoint, {"page_size": 100})
        assert response.status_code == 200
        assert len(response.data["results"]) == response.data["count"]
        sizes.append(response.data["count"])
    assert sizes[1] > sizes[0]


def test_a_cadres_autosave_reads_no_role_and_a_superiors_write_still_finds_the_row(unit):
    """The quarter-end surge: a cadre's own evaluation is found without the grants of roles
    (one query fewer on every autosave); a superior's write on a cadre's row goes through the
    grants, and another tenant's row stays a 404."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.api.calls import plan_body, self_assessment_body, url

    cadre = unit.members[0]
    evaluation = unit.evaluation(cadre)
    own, superior = session_client(cadre.user), session_client(unit.superior)
    assert own.put(url(evaluation, "plan"), plan_body(cadre, 4)).status_code == 200
    assert own.post(url(evaluation, "submit-plan"), {}).status_code == 200
    response = superior.post(url(evaluation, "approve-plan"), {"comment": "Đồng ý"})
    assert response.data["state"] == "plan_approved"

    with CaptureQueriesContext(connection) as queries:
        response = own.patch(url(evaluation, "self-assessment"), self_assessment_body(evaluation))
    assert response.status_code == 200, response.data
    assert response.data["assessment"]["score"] == str(response.data["self_score"])
    grants = [q["sql"] for q in queries if "cadres_unituserpermission" in q["sql"]]
    assert grants == []

    other = factories.cadre(factories.unit(factories.tenant()))
    stranger = session_client(other.user)
    refused = stranger.patch(url(evaluation, "self-assessment"), self_assessment_body(evaluation))
    assert refused.status_code == 404


@pytest.mark.parametrize("key", ["abc", "0", "-1", "99999999999999999999", "1e3", "١٢"])
def test_a_write_to_a_key_that_is_no_key_is_a_404_not_an_error(unit, key):
    cadre = unit.members[0]
    response = session_client(cadre.user).patch(
        f"/api/evaluations/{key}/self-assessment/", {"comment": "x"}, format="json"
    )
    assert response.status_code == 404
