"""Tenant isolation: another tenant's object is answered like a missing one."""

import pytest
from django.http import Http404

from cadres.models import Cadre, Unit
from cadres.roles import Role
from cadres.selectors import get_for_user_or_404, tenant_scoped
from tests import factories


@pytest.fixture
def two_tenants(tenant, other_tenant):
    mine = factories.unit(tenant, name="Sở Nội vụ")
    theirs = factories.unit(other_tenant, name="Sở Tài chính tỉnh khác")
    return {
        "unit": mine,
        "cadre": factories.cadre(mine, "Phạm Minh Đức"),
        "foreign_unit": theirs,
        "foreign_cadre": factories.cadre(theirs, "Hoàng Thị Em"),
        "admin": factories.holder(Role.ADMINISTRATOR, mine),
        "authority": factories.holder(Role.AUTHORITY, mine),
    }


def test_helper_returns_own_tenant_rows_only(two_tenants):
    user = two_tenants["authority"]
    names = set(tenant_scoped(Cadre.objects.all(), user).values_list("full_name", flat=True))
    assert names == {"Phạm Minh Đức"}
    assert get_for_user_or_404(Cadre.objects.all(), user=user, pk=two_tenants["cadre"].pk)
    with pytest.raises(Http404):
        get_for_user_or_404(Cadre.objects.all(), user=user, pk=two_tenants["foreign_cadre"].pk)
    with pytest.raises(Http404):
        get_for_user_or_404(Cadre.objects.all(), user=user, pk="not-a-number")


def test_a_user_without_tenant_sees_nothing(db):
    stray = factories.user(None)
    assert not tenant_scoped(Unit.objects.all(), stray).exists()


def test_views_answer_404_for_another_tenants_unit(client, two_tenants):
    client.force_login(two_tenants["authority"])
    assert client.get(f"/units/{two_tenants['unit'].pk}/").status_code == 200
    response = client.get(f"/units/{two_tenants['foreign_unit'].pk}/")
    assert response.status_code == 404
    assert "Sở Tài chính" not in response.content.decode()


def test_views_answer_404_without_a_role_over_the_unit(client, two_tenants, tenant):
    bystander = factories.user(tenant)
    client.force_login(bystander)
    assert client.get(f"/units/{two_tenants['unit'].pk}/").status_code == 404


def test_unit_page_lists_its_cadres(client, two_tenants):
    client.force_login(two_tenants["authority"])
    page = client.get(f"/units/{two_tenants['unit'].pk}/").content.decode()
    assert "Phạm Minh Đức" in page
    assert "Hoàng Thị Em" not in page


@pytest.mark.parametrize("model", ["cadre", "unit"])
def test_admin_answers_404_for_another_tenants_object(client, two_tenants, model):
    client.force_login(two_tenants["admin"])
    own = two_tenants[model]
    foreign = two_tenants[f"foreign_{model}"]
    assert client.get(f"/admin/cadres/{model}/{own.pk}/change/").status_code == 200
    assert client.get(f"/admin/cadres/{model}/{foreign.pk}/change/").status_code == 404
    assert client.get(f"/admin/cadres/{model}/{foreign.pk}/delete/").status_code == 404
    listing = client.get(f"/admin/cadres/{model}/").content.decode()
    assert str(own) in listing
    assert str(foreign) not in listing


def test_admin_saves_new_rows_into_the_administrators_tenant(client, two_tenants, tenant):
    client.force_login(two_tenants["admin"])
    response = client.post(
        "/admin/cadres/cadre/add/",
        {
            "code": "CB-NEW",
            "full_name": "Võ Thị Giang",
            "evaluation_mode": "quarterly",
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Cadre.objects.get(code="CB-NEW").tenant == tenant
