import pytest
from django.core.exceptions import ValidationError

from cadres import services
from cadres.models import AuditEntry, Unit
from cadres.selectors import unit_subtree
from tests import factories


@pytest.fixture
def tree(tenant):
    """province ─┬─ district A ── commune A1 ── hamlet A1a
    └─ district B ── commune B1"""
    province = factories.unit(tenant, name="Tỉnh ủy", kind="party_committee")
    district_a = factories.unit(tenant, province, "Huyện A", "district")
    commune_a1 = factories.unit(tenant, district_a, "Xã A1", "commune")
    hamlet = factories.unit(tenant, commune_a1, "Thôn A1a", "other")
    district_b = factories.unit(tenant, province, "Huyện B", "district")
    commune_b1 = factories.unit(tenant, district_b, "Xã B1", "commune")
    return {
        "province": province,
        "a": district_a,
        "a1": commune_a1,
        "a1a": hamlet,
        "b": district_b,
        "b1": commune_b1,
    }


def names(queryset):
    return sorted(queryset.values_list("name", flat=True))


def test_subtree_of_a_unit_is_the_unit_and_its_descendants(tree):
    assert names(unit_subtree(tree["a"])) == ["Huyện A", "Thôn A1a", "Xã A1"]
    assert names(unit_subtree(tree["b1"])) == ["Xã B1"]
    assert unit_subtree(tree["province"]).count() == 6


def test_subtree_is_one_query(tree, django_assert_num_queries):
    with django_assert_num_queries(1):
        list(unit_subtree(tree["a"]))


def test_subtree_never_crosses_tenants(tree, other_tenant):
    foreign = factories.unit(other_tenant, name="Đơn vị khác")
    assert foreign.name not in names(unit_subtree(tree["province"]))


def test_path_and_depth_follow_the_tree(tree):
    assert tree["a1a"].depth == 3
    assert tree["a1a"].ancestor_ids == [
        tree["province"].pk,
        tree["a"].pk,
        tree["a1"].pk,
        tree["a1a"].pk,
    ]


def test_moving_a_unit_moves_its_whole_subtree(tree):
    services.unit_move(unit=tree["a1"], new_parent=tree["b"])
    assert names(unit_subtree(tree["b"])) == ["Huyện B", "Thôn A1a", "Xã A1", "Xã B1"]
    assert names(unit_subtree(tree["a"])) == ["Huyện A"]
    hamlet = Unit.objects.get(pk=tree["a1a"].pk)
    assert hamlet.depth == 3
    assert hamlet.path.startswith(Unit.objects.get(pk=tree["b"].pk).path)
    assert AuditEntry.objects.filter(action="unit_move").count() == 1


def test_moving_a_unit_under_its_own_descendant_is_refused(tree):
    before = dict(Unit.objects.values_list("pk", "path"))
    with pytest.raises(ValidationError) as excinfo:
        services.unit_move(unit=tree["a"], new_parent=tree["a1a"])
    assert "parent" in excinfo.value.message_dict
    assert "sub-units" in excinfo.value.message_dict["parent"][0]
    assert dict(Unit.objects.values_list("pk", "path")) == before
    assert Unit.objects.get(pk=tree["a"].pk).parent_id == tree["province"].pk


def test_moving_a_unit_under_itself_is_refused(tree):
    with pytest.raises(ValidationError):
        services.unit_move(unit=tree["a"], new_parent=tree["a"])


def test_moving_under_another_tenants_unit_is_refused(tree, other_tenant):
    foreign = factories.unit(other_tenant)
    with pytest.raises(ValidationError):
        services.unit_move(unit=tree["a"], new_parent=foreign)
    assert Unit.objects.get(pk=tree["a"].pk).parent_id == tree["province"].pk


def test_unit_codes_are_unique_within_a_tenant_only(tenant, other_tenant):
    services.unit_create(tenant=tenant, name="Ban Tổ chức", code="BTC", kind="advisory_body")
    services.unit_create(tenant=other_tenant, name="Ban Tổ chức", code="BTC", kind="advisory_body")
    with pytest.raises(ValidationError) as excinfo:
        services.unit_create(tenant=tenant, name="Ban khác", code="BTC", kind="advisory_body")
    assert "__all__" in excinfo.value.message_dict
    assert Unit.objects.filter(tenant=tenant, code="BTC").count() == 1
