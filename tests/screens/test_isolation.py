"""Tenant isolation and refusals on every page that takes an id: another tenant's id is
answered like a missing one (404), whatever roles the visitor holds in their own tenant."""

import pytest

from cadres import services as org
from cadres.models import Position
from cadres.roles import Role
from evaluation import services
from evaluation.models import CatalogueVersion, SuspensionProposal
from tests import factories
from tests.evaluation import steps


@pytest.fixture
def world(unit, other_tenant):
    """The unit's objects, and a stranger holding every role over another tenant."""
    steps.plan_and_approve(unit, unit.members[0])
    version = services.catalogue_draft(tenant=unit.tenant, actor=unit.advisory)
    proposal = services.suspension_propose(
        cadre=unit.members[1], actor=unit.superior, reason="Né tránh"
    )
    foreign_root = factories.unit(other_tenant, name="Tỉnh khác", kind="party_committee")
    stranger = factories.user(other_tenant)
    for role in Role:
        org.role_grant(user=stranger, role=role, unit=foreign_root)
    evaluation = unit.evaluation(unit.members[0])
    ids = {
        "evaluation": evaluation.pk,
        "group": evaluation.quota_group_id,
        "catalogue": version.pk,
        "proposal": proposal.pk,
        "period": unit.period.pk,
        "unit": unit.unit.pk,
        "post": Position.objects.filter(unit=unit.unit).first().pk,
        "cadre": unit.members[0].pk,
    }
    assert CatalogueVersion.objects.filter(pk=version.pk).exists()
    assert SuspensionProposal.objects.filter(pk=proposal.pk).exists()
    return {"unit": unit, "stranger": stranger, "ids": ids}


GETS = [
    "/evaluations/{evaluation}/",
    "/evaluations/{evaluation}/plan/",
    "/evaluations/{evaluation}/self-assessment/",
    "/evaluations/{evaluation}/vet/",
    "/decisions/{group}/",
    "/decisions/{group}/meter/",
    "/decisions/{group}/collective/",
    "/catalogue/{catalogue}/",
    "/progress/?period={period}",
    "/results/?period={period}",
    "/units/{unit}/",
    "/organisation/cadres/{cadre}/",
]
POSTS = [
    "/evaluations/{evaluation}/plan/check/",
    "/evaluations/{evaluation}/self-assessment/draft/",
    "/evaluations/{evaluation}/approve/",
    "/evaluations/{evaluation}/return/",
    "/evaluations/{evaluation}/propose/",
    "/evaluations/{evaluation}/decide/",
    "/evaluations/{evaluation}/publish/",
    "/evaluations/{evaluation}/defer/",
    "/evaluations/{evaluation}/reopen/",
    "/evaluations/{evaluation}/suspension/",
    "/suspensions/{proposal}/decide/",
    "/publication/{period}/",
    "/organisation/periods/{period}/open/",
    "/organisation/units/{unit}/move/",
    "/units/{unit}/posts/",
    "/posts/{post}/assign/",
]


@pytest.mark.parametrize("url", GETS)
def test_another_tenants_page_is_a_404(world, as_user, url):
    response = as_user(world["stranger"]).get(url.format(**world["ids"]))
    assert response.status_code == 404
    assert world["unit"].members[0].full_name not in response.content.decode()


@pytest.mark.parametrize("url", POSTS)
def test_another_tenants_action_is_a_404_and_changes_nothing(world, as_user, url):
    evaluation = world["unit"].evaluation(world["unit"].members[0])
    before = (evaluation.state, evaluation.version)
    response = as_user(world["stranger"]).post(
        url.format(**world["ids"]), {"reason": "x", "grade": "good", "version": "1"}
    )
    assert response.status_code == 404
    evaluation.refresh_from_db()
    assert (evaluation.state, evaluation.version) == before


@pytest.mark.parametrize(
    "url",
    [
        "/evaluations/{evaluation}/",
        "/evaluations/{evaluation}/self-assessment/",
        "/decisions/{group}/",
        "/units/{unit}/",
    ],
)
def test_a_member_of_the_tenant_without_a_role_gets_a_404(world, as_user, url):
    bystander = world["unit"].members[3].user  # a cadre of the same unit, no role
    assert as_user(bystander).get(url.format(**world["ids"])).status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "/inbox/",
        "/vetting/",
        "/catalogue/",
        "/decisions/",
        "/discrepancies/",
        "/flags/",
        "/suspensions/",
        "/publication/",
        "/progress/",
        "/organisation/",
    ],
)
def test_role_pages_are_refused_to_a_cadre_without_the_role(world, as_user, url):
    assert as_user(world["unit"].members[3].user).get(url).status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(world, client):
    for url in ["/", "/my/", "/inbox/", f"/evaluations/{world['ids']['evaluation']}/"]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_an_htmx_refusal_is_a_fragment(world, as_user):
    response = as_user(world["stranger"]).get(
        f"/decisions/{world['ids']['group']}/meter/", HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 404
    assert "<html" not in response.content.decode()


def test_the_central_observer_reads_reports_only(world, as_user):
    observer = factories.user(None, is_central_observer=True)
    client = as_user(observer)
    home = client.get("/").content.decode()
    assert "/reports/" in home
    assert world["unit"].members[0].full_name not in home
    assert client.get("/results/").status_code == 403
    assert client.get(f"/evaluations/{world['ids']['evaluation']}/").status_code == 404
