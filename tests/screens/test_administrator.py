"""The tenant administrator's screens: units and posts, cadres with assignments and
absences, role grants, periods and rule sets."""

from datetime import date

import pytest

from cadres.models import Absence, Assignment, Cadre, Unit, UnitUserPermission
from cadres.roles import Role, granted_units
from evaluation.models import Evaluation, Period, RuleSetVersion
from tests import factories
from tests.screens.helpers import text


@pytest.fixture
def org(tenant):
    root = factories.unit(tenant, name="Tỉnh ủy", kind="party_committee")
    department = factories.unit(tenant, root, "Sở Nội vụ")
    return {
        "root": root,
        "department": department,
        "admin": factories.holder(Role.ADMINISTRATOR, root),
        "sub_admin": factories.holder(Role.ADMINISTRATOR, department),
    }


def test_units_are_listed_added_and_moved(org, as_user, tenant):
    client = as_user(org["admin"])
    page = text(client.get("/organisation/units/"))
    assert "Tỉnh ủy" in page and "Sở Nội vụ" in page
    response = client.post(
        "/organisation/units/",
        {"name": "Sở Tài chính", "code": "STC", "kind": "department", "parent": org["root"].pk},
    )
    assert response.status_code == 302
    unit = Unit.objects.get(tenant=tenant, code="STC")
    assert unit.parent == org["root"] and unit.path.startswith(org["root"].path)
    # A code already used in the tenant is refused on its field.
    response = client.post(
        "/organisation/units/",
        {"name": "Trùng", "code": "STC", "kind": "department", "parent": org["root"].pk},
    )
    assert response.status_code == 400
    assert Unit.objects.filter(tenant=tenant, code="STC").count() == 1
    response = client.post(
        f"/organisation/units/{unit.pk}/move/", {"parent": org["department"].pk}, follow=True
    )
    unit.refresh_from_db()
    assert unit.parent == org["department"]
    response = client.post(
        f"/organisation/units/{org['root'].pk}/move/", {"parent": unit.pk}, follow=True
    )
    assert "cannot be moved under itself" in text(response)


def test_a_sub_unit_administrator_sees_and_manages_only_their_subtree(org, as_user):
    client = as_user(org["sub_admin"])
    page = text(client.get("/organisation/units/"))
    assert "Sở Nội vụ" in page and "Tỉnh ủy</a>" not in page
    # No top-level unit for them, and a parent outside their subtree is not a choice.
    response = client.post(
        "/organisation/units/",
        {"name": "Phòng A", "code": "PA", "kind": "other", "parent": org["root"].pk},
    )
    assert response.status_code == 400
    assert client.get(f"/units/{org['root'].pk}/").status_code == 404
    assert client.get("/organisation/periods/").status_code == 403


def test_posts_are_added_and_held_by_a_cadre_found_by_staff_code(org, as_user, tenant):
    client = as_user(org["admin"])
    department = org["department"]
    response = client.post(
        f"/units/{department.pk}/posts/",
        {"title": "Giám đốc Sở", "kind": "leadership", "collective_role": "head"},
    )
    assert response.status_code == 302
    position = department.positions.get()
    cadre = factories.cadre(org["root"], "Nguyễn Văn Mới")
    url = f"/posts/{position.pk}/assign/"
    prefix = f"p{position.pk}-"
    response = client.post(
        url, {prefix + "cadre_code": "KHONG-CO", prefix + "start_date": "01/04/2026"}
    )
    assert response.status_code == 400
    assert "No cadre of your organisation has the staff code KHONG-CO." in text(response)
    response = client.post(
        url, {prefix + "cadre_code": cadre.code, prefix + "start_date": "01/04/2026"}
    )
    assert response.status_code == 302
    assert Assignment.objects.get(position=position).cadre == cadre
    page = text(client.get(f"/units/{department.pk}/"))
    assert "Nguyễn Văn Mới" in page and "since 01/04/2026" in page
    # The post is held: a second cadre over the same dates is refused by the service.
    other = factories.cadre(org["root"], "Trần Thị Sau")
    response = client.post(
        url, {prefix + "cadre_code": other.code, prefix + "start_date": "01/05/2026"}
    )
    assert response.status_code == 400
    assert "This post is already held by Nguyễn Văn Mới" in text(response)


def test_cadres_are_listed_searched_added_and_their_absences_recorded(org, as_user, tenant):
    factories.cadre(org["department"], "Lê Thị Tìm")
    client = as_user(org["admin"])
    assert "Lê Thị Tìm" in text(client.get("/organisation/cadres/?q=Tìm"))
    assert "Lê Thị Tìm" not in text(client.get("/organisation/cadres/?q=Không"))
    account = factories.user(tenant, username="nguoimoi")
    response = client.post(
        "/organisation/cadres/",
        {
            "code": "CB-NEW",
            "full_name": "Võ Thị Giang",
            "date_of_birth": "31/12/1975",
            "evaluation_mode": "quarterly",
            "username": "nguoimoi",
        },
    )
    assert response.status_code == 302
    cadre = Cadre.objects.get(tenant=tenant, code="CB-NEW")
    assert (cadre.user, cadre.date_of_birth) == (account, date(1975, 12, 31))
    response = client.post(
        "/organisation/cadres/",
        {"code": "CB-NEW", "full_name": "Trùng mã", "evaluation_mode": "quarterly"},
    )
    assert response.status_code == 400
    assert "This staff code is already used." in text(response)
    url = f"/organisation/cadres/{cadre.pk}/"
    response = client.post(
        url, {"kind": "other", "start_date": "01/04/2026", "end_date": "30/06/2026"}
    )
    assert response.status_code == 400
    assert "A reason is required for a case decided by the authority." in text(response)
    response = client.post(
        url, {"kind": "training", "start_date": "05/04/2026", "end_date": "03/04/2026"}
    )
    assert response.status_code == 400
    assert not Absence.objects.filter(cadre=cadre).exists()
    response = client.post(
        url,
        {
            "kind": "training",
            "start_date": "01/04/2026",
            "end_date": "30/06/2026",
            "reason": "Học viện",
        },
    )
    assert response.status_code == 302
    assert "01/04/2026" in text(client.get(url))


def test_roles_are_granted_and_revoked(org, as_user, tenant):
    person = factories.user(tenant, username="thamdinh2")
    client = as_user(org["admin"])
    response = client.post(
        "/organisation/roles/",
        {"username": "thamdinh2", "role": Role.ADVISORY.value, "unit": org["department"].pk},
    )
    assert response.status_code == 302
    assert [u.pk for u in granted_units(person, Role.ADVISORY)] == [org["department"].pk]
    page = text(client.get("/organisation/roles/"))
    assert "thamdinh2" in page and "Personnel advisory body" in page
    response = client.post(
        "/organisation/roles/",
        {"username": "khongco", "role": Role.ADVISORY.value, "unit": org["department"].pk},
    )
    assert response.status_code == 400
    assert "No active account of your organisation is called khongco." in text(response)
    grant = UnitUserPermission.objects.get(user=person)
    assert client.post("/organisation/roles/revoke/", {"grant": grant.pk}).status_code == 302
    person.__dict__.pop("_granted_units", None)
    assert granted_units(person, Role.ADVISORY) == []


def test_a_quarter_is_created_and_opened(org, as_user, tenant):
    factories.cadre(org["department"], "Phạm Văn Một", role="head")
    client = as_user(org["admin"])
    assert (
        client.post("/organisation/periods/", {"year": "2026", "quarter": "3"}).status_code == 302
    )
    period = Period.objects.get(tenant=tenant, year=2026, quarter=3)
    assert period.report_deadline == date(2026, 10, 4)  # R16
    response = client.post("/organisation/periods/", {"year": "2026", "quarter": "3"})
    assert response.status_code == 400
    assert "This quarter already exists." in text(response)
    assert (
        client.post("/organisation/periods/", {"year": "2026", "quarter": "5"}).status_code == 400
    )
    response = client.post(f"/organisation/periods/{period.pk}/open/", follow=True)
    assert "1 evaluation(s) created" in text(response)
    assert Evaluation.objects.filter(period=period).count() == 1


def test_a_rule_set_version_is_checked_by_the_rules_module(org, as_user, tenant):
    client = as_user(org["admin"])
    page = client.get("/organisation/rules/")
    assert page.status_code == 200
    data = {key: value for key, value in page.context["form"].initial.items()}
    data.update(
        {
            "version": "2026-b",
            "effective_from": "01/07/2026",
            "excellent_quota_percent": "25",
            "raised_quota_percent": "25",
            "weight_by_difficulty": "on",
        }
    )
    data = {k: v for k, v in data.items() if v is not False}
    bad = {**data, "good_floor": "95"}
    response = client.post("/organisation/rules/", bad)
    assert response.status_code == 400
    assert "the floors must rise" in text(response)
    assert not RuleSetVersion.objects.filter(tenant=tenant).exists()
    assert client.post("/organisation/rules/", data).status_code == 302
    row = RuleSetVersion.objects.get(tenant=tenant)
    assert (row.params["excellent_quota_percent"], row.params["weight_by_difficulty"]) == (25, True)
    assert client.post("/organisation/rules/", data).status_code == 400  # same version name


@pytest.mark.parametrize(
    "url",
    [
        "/organisation/",
        "/organisation/units/",
        "/organisation/cadres/",
        "/organisation/roles/",
        "/organisation/periods/",
        "/organisation/rules/",
    ],
)
def test_the_administration_is_refused_to_other_roles(org, as_user, tenant, url):
    authority = factories.holder(Role.AUTHORITY, org["root"])
    assert as_user(authority).get(url).status_code == 403
