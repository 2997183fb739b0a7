"""A user of tenant B, holding every role over B's units, types tenant A's addresses into the
browser: each is a 404 page, and nothing of tenant A's shows. Tenant A's own organisation
department opens the same addresses first, so the probe is known to hit real pages."""

import pytest
from django.utils import translation
from playwright.sync_api import expect

from cadres import services as org
from cadres.roles import Role
from evaluation import services
from evaluation.models import Evaluation
from tests import factories
from tests.e2e.helpers import vi, with_password

# Names found only in tenant A; any of them on a page of tenant B's user is a leak.
MARKERS = ["Tỉnh ủy Dấu Vết Alpha", "Ban Bí Mật Alpha", "Phạm Thị Dấu Vết"]
PAGES = [
    "/evaluations/{evaluation}/",
    "/reports/evaluations/{evaluation}/form5.pdf",
    "/units/{unit}/",
    "/reports/units/{unit}/?period={period}",
    "/decisions/{group}/",
]


@pytest.fixture
def tenants(transactional_db):
    with translation.override("vi"):
        alpha = factories.tenant(name=MARKERS[0])
        root = factories.unit(alpha, name="Tỉnh ủy", kind="party_committee")
        unit = factories.unit(alpha, root, name=MARKERS[1])
        cadre = factories.cadre(unit, MARKERS[2], role="head")
        period = services.period_create(tenant=alpha, year=2026, quarter=2)
        services.period_open(period=period)
    insider = factories.holder(Role.ORGANISATION, root)
    org.role_grant(user=insider, role=Role.AUTHORITY, unit=root)

    beta = factories.tenant()
    beta_root = factories.unit(beta, name="Tỉnh ủy", kind="party_committee")
    stranger = factories.user(beta)
    for role in Role:
        org.role_grant(user=stranger, role=role, unit=beta_root)
    with_password(insider, stranger)

    evaluation = Evaluation.objects.get(cadre=cadre, period=period, is_current=True)
    ids = {
        "evaluation": evaluation.pk,
        "unit": unit.pk,
        "period": period.pk,
        "group": evaluation.quota_group_id,
    }
    return {"insider": insider, "stranger": stranger, "urls": [p.format(**ids) for p in PAGES]}


@pytest.mark.e2e
def test_another_tenants_addresses_are_404_pages_that_show_none_of_its_data(actors, tenants):
    insider = actors.sign_in("tenant-a", tenants["insider"])
    for url in tenants["urls"]:
        if url.endswith(".pdf"):
            response = insider.request.get(url)
            assert (response.status, response.body()[:4]) == (200, b"%PDF"), url
            continue
        response = insider.goto(url)
        assert response.status == 200, url
        assert any(marker in insider.content() for marker in MARKERS[1:]), url

    stranger = actors.sign_in("tenant-b", tenants["stranger"])
    for url in tenants["urls"]:
        response = stranger.goto(url)
        assert response.status == 404, url
        expect(stranger.locator("main h1")).to_have_text(vi("Not found"))
        content = stranger.content()
        assert not [marker for marker in MARKERS if marker in content], url
    # No page of either tenant raised a script error or ran anything the CSP refused.
    assert actors.errors == []
