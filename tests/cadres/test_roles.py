from cadres import services
from cadres.roles import Role, covered_units, covers, granted_units, role_holders
from tests import factories


def test_a_grant_on_a_unit_covers_its_subtree_and_not_a_sibling(tenant):
    province = factories.unit(tenant, name="Tỉnh ủy")
    district_a = factories.unit(tenant, province, "Huyện A")
    commune_a = factories.unit(tenant, district_a, "Xã A")
    district_b = factories.unit(tenant, province, "Huyện B")
    authority = factories.holder(Role.AUTHORITY, district_a)

    assert covers(authority, Role.AUTHORITY, district_a)
    assert covers(authority, Role.AUTHORITY, commune_a)
    assert not covers(authority, Role.AUTHORITY, district_b)
    assert not covers(authority, Role.AUTHORITY, province)
    assert not covers(authority, Role.SUPERIOR, commune_a)
    assert sorted(u.name for u in covered_units(authority, Role.AUTHORITY)) == ["Huyện A", "Xã A"]


def test_a_grant_never_covers_another_tenant(tenant, other_tenant):
    root = factories.unit(tenant)
    foreign = factories.unit(other_tenant)
    authority = factories.holder(Role.AUTHORITY, root)
    assert not covers(authority, Role.AUTHORITY, foreign)


def test_granting_a_role_to_another_tenants_user_is_refused(tenant, other_tenant):
    import pytest
    from django.core.exceptions import ValidationError

    root = factories.unit(tenant)
    stranger = factories.user(other_tenant)
    with pytest.raises(ValidationError):
        services.role_grant(user=stranger, role=Role.AUTHORITY, unit=root)
    assert granted_units(stranger, Role.AUTHORITY) == []


def test_role_holders_include_grants_on_ancestors(tenant):
    province = factories.unit(tenant)
    district = factories.unit(tenant, province)
    on_province = factories.holder(Role.ADVISORY, province)
    on_district = factories.holder(Role.ADVISORY, district)
    factories.holder(Role.SUPERIOR, district)
    assert set(role_holders(Role.ADVISORY, district)) == {on_province, on_district}
    assert set(role_holders(Role.ADVISORY, province)) == {on_province}


def test_revoking_a_role_removes_the_cover(tenant):
    root = factories.unit(tenant)
    superior = factories.holder(Role.SUPERIOR, root)
    services.role_revoke(user=superior, role=Role.SUPERIOR, unit=root)
    assert not covers(superior, Role.SUPERIOR, root)


def test_a_tenant_administrator_can_use_the_admin(tenant):
    root = factories.unit(tenant)
    admin = factories.holder(Role.ADMINISTRATOR, root)
    admin.refresh_from_db()
    assert admin.is_staff
    assert admin.has_perm("cadres.change_cadre")
    assert not admin.has_perm("cadres.change_tenant")
