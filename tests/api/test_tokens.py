"""Per-user API tokens: issued once, stored hashed, revoked at once, throttled per token."""

import hashlib

import pytest
from rest_framework.test import APIClient

from cadres import services as org
from cadres.models import ApiToken, AuditEntry
from cadres.roles import Role
from tests import factories
from tests.api.conftest import session_client


def bearer(raw: str, keyword: str = "Bearer") -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{keyword} {raw}")
    return client


def test_a_token_is_shown_once_stored_hashed_and_works_with_both_keywords(unit):
    owner = unit.authority
    response = session_client(owner).post("/api/tokens/", {"name": "Hệ thống văn bản"})
    assert response.status_code == 201, response.data
    raw = response.data["token"]
    token = ApiToken.objects.get(pk=response.data["id"])
    assert token.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in str(ApiToken.objects.filter(pk=token.pk).values().first())
    assert raw.startswith(response.data["prefix"])
    assert token.last_used_at is None
    listed = session_client(owner).get("/api/tokens/")
    assert [row["id"] for row in listed.data["results"]] == [token.pk]
    assert "token" not in listed.data["results"][0]

    for keyword in ("Bearer", "Token"):
        response = bearer(raw, keyword).get("/api/evaluations/")
        assert response.status_code == 200
        assert response.data["count"] == 8  # the authority sees the whole unit
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert AuditEntry.objects.filter(action="api_token_create", actor=owner).count() == 1


def test_a_revoked_or_unknown_token_is_refused_with_401(unit):
    owner = unit.authority
    created = session_client(owner).post("/api/tokens/", {"name": "Hệ thống"}).data
    response = session_client(owner).post(f"/api/tokens/{created['id']}/revoke/")
    assert response.status_code == 200
    assert response.data["revoked_at"] is not None
    for raw in (created["token"], "cvl_unknown", created["token"] + "x"):
        response = bearer(raw).get("/api/evaluations/")
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Bearer")
        assert response.data["code"] == "authentication_failed"
    assert APIClient().get("/api/evaluations/").status_code == 401
    # An inactive account's tokens stop working too.
    other = session_client(owner).post("/api/tokens/", {"name": "Hệ thống 2"}).data
    owner.is_active = False
    owner.save()
    assert bearer(other["token"]).get("/api/periods/").status_code == 401


def test_the_tenant_administrator_manages_every_accounts_tokens_and_nobody_else_does(unit):
    admin = factories.holder(Role.ADMINISTRATOR, unit.unit.parent)
    cadre = unit.members[0].user
    response = session_client(admin).post("/api/tokens/", {"name": "HRM", "user": cadre.pk})
    assert response.status_code == 201
    assert ApiToken.objects.get(pk=response.data["id"]).user == cadre
    raw = response.data["token"]
    mine = bearer(raw).get("/api/evaluations/")
    assert [row["cadre"]["id"] for row in mine.data["results"]] == [unit.members[0].pk]
    # The cadre sees and may revoke it; another cadre neither sees nor revokes it.
    assert session_client(cadre).get("/api/tokens/").data["count"] == 1
    other = session_client(unit.members[1].user)
    assert other.get("/api/tokens/").data["count"] == 0
    assert other.post(f"/api/tokens/{response.data['id']}/revoke/").status_code == 404
    response = other.post("/api/tokens/", {"name": "HRM", "user": cadre.pk})
    assert response.status_code == 403
    assert session_client(admin).get("/api/tokens/", {"user": cadre.pk}).data["count"] == 1
    token_id = ApiToken.objects.get(user=cadre).pk
    assert session_client(admin).post(f"/api/tokens/{token_id}/revoke/").status_code == 200
    assert bearer(raw).get("/api/evaluations/").status_code == 401


def test_another_tenants_administrator_cannot_touch_the_tokens(unit, other_tenant):
    foreign_admin = factories.holder(Role.ADMINISTRATOR, factories.unit(other_tenant))
    cadre = unit.members[0].user
    response = session_client(foreign_admin).post("/api/tokens/", {"name": "X", "user": cadre.pk})
    assert response.status_code == 400
    created = session_client(cadre).post("/api/tokens/", {"name": "Của tôi"}).data
    assert (
        session_client(foreign_admin).post(f"/api/tokens/{created['id']}/revoke/").status_code
        == 404
    )
    assert ApiToken.objects.get(pk=created["id"]).revoked_at is None


def test_a_token_cannot_mint_or_revoke_tokens(unit):
    owner = unit.authority
    created = session_client(owner).post("/api/tokens/", {"name": "Hệ thống"}).data
    client = bearer(created["token"])
    assert client.post("/api/tokens/", {"name": "Khác"}).status_code in (401, 403)
    assert client.post(f"/api/tokens/{created['id']}/revoke/").status_code in (401, 403)
    assert ApiToken.objects.filter(user=owner).count() == 1


def test_a_token_without_a_name_is_refused(unit):
    response = session_client(unit.authority).post("/api/tokens/", {"name": "  "})
    assert response.status_code == 400
    assert "name" in response.data["errors"]
    assert not ApiToken.objects.exists()


def test_each_token_has_its_own_rate_and_sessions_are_not_counted(unit, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api_token": "3/minute"},
    }
    owner = unit.authority
    first = session_client(owner).post("/api/tokens/", {"name": "A"}).data["token"]
    second = session_client(owner).post("/api/tokens/", {"name": "B"}).data["token"]
    statuses = [bearer(first).get("/api/periods/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = bearer(first).get("/api/periods/")
    assert refused.data["code"] == "throttled"
    assert int(refused["Retry-After"]) > 0
    assert bearer(second).get("/api/periods/").status_code == 200
    assert all(session_client(owner).get("/api/periods/").status_code == 200 for _ in range(5))


@pytest.mark.parametrize("header", ["Bearer", "Bearer a b", "Token"])
def test_a_malformed_authorization_header_is_a_401(db, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/api/periods/")
    assert response.status_code == 401


def test_role_grants_do_not_leak_through_a_new_token(unit):
    # A token acts with the owner's roles as they are now, not as they were when issued.
    owner = factories.holder(Role.AUTHORITY, unit.unit)
    raw = session_client(owner).post("/api/tokens/", {"name": "A"}).data["token"]
    assert bearer(raw).get("/api/evaluations/").data["count"] == 8
    org.role_revoke(user=owner, role=Role.AUTHORITY, unit=unit.unit)
    assert bearer(raw).get("/api/evaluations/").data["count"] == 0


def test_a_token_is_read_with_its_account_and_tenant_and_a_revoked_one_is_not(unit):
    from cadres.authentication import api_token_create, api_token_revoke, token_for

    owner = unit.authority
    token, raw = api_token_create(user=owner, actor=owner, name="Hệ thống A")
    found = token_for(raw)
    assert (found.pk, found.user.pk, found.user.tenant.pk) == (token.pk, owner.pk, unit.tenant.pk)
    assert found.user.tenant.name == unit.tenant.name and found.name == "Hệ thống A"
    assert token_for(raw + "x") is None
    # An account of no tenant (the central commission's) has none, not an empty one.
    observer = factories.user(None, is_central_observer=True)
    _other, observer_raw = api_token_create(user=observer, actor=observer, name="Trung ương")
    read = token_for(observer_raw)
    assert read.user.pk == observer.pk and read.user.tenant_id is None and read.user.tenant is None
    api_token_revoke(token=token, actor=owner)
    assert token_for(raw) is None
