"""TOTP after the password, for the managing authority and the organisation department of a
tenant that requires it: set up once, then a code at each sign-in, before any other page."""

import re
import time

import pytest
from django.core.exceptions import PermissionDenied
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from cadres.models import AuditEntry, TenantSecurity
from cadres.security import tenant_security_set
from tests.security.conftest import api_session, api_token, browser

pytestmark = pytest.mark.django_db


@pytest.fixture
def required(world):
    tenant_security_set(tenant=world.tenant, actor=world.boss, require_totp=True)
    return world


def code(device, steps_ahead=0):
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():06d}"


def set_up(client, user):
    """Through the setup page: the key is shown, one code confirms it."""
    page = client.get("/accounts/otp/setup/?next=/decisions/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "<svg" in body and "<script" not in body.split("<main", 1)[1]
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    secret = re.search(r'<code class="otp-secret">([A-Z2-7=]+)</code>', body).group(1)
    assert len(secret) >= 32
    response = client.post("/accounts/otp/setup/", {"token": code(device), "next": "/decisions/"})
    assert response.status_code == 302
    assert response["Location"] == "/decisions/"
    device.refresh_from_db()
    assert device.confirmed
    return device


def test_the_authority_must_set_up_then_type_a_code_before_any_page(required):
    w = required
    client = browser(w.authority)
    first = client.get("/decisions/")
    assert first.status_code == 302
    assert first["Location"] == "/accounts/otp/verify/?next=%2Fdecisions%2F"
    # No device yet: the verify page sends to the setup page.
    assert client.get(first["Location"])["Location"].startswith("/accounts/otp/setup/")
    for page in ["/", "/my/", "/reports/", f"/evaluations/{w.objects['evaluation'].pk}/"]:
        assert client.get(page).status_code == 302, page
    device = set_up(client, w.authority)
    assert client.get("/decisions/").status_code == 200
    assert AuditEntry.objects.filter(action="totp_confirm", actor=w.authority).count() == 1

    # The next sign-in needs a code again (a later one: a code is accepted once).
    again = browser(w.authority)
    assert again.get("/decisions/")["Location"].startswith("/accounts/otp/verify/")
    wrong = again.post("/accounts/otp/verify/", {"token": "000000", "next": "/decisions/"})
    assert wrong.status_code == 400
    assert "The code is not valid" in wrong.content.decode()
    device.refresh_from_db()
    device.throttle_reset()  # the second it must wait after a wrong code has passed
    response = again.post(
        "/accounts/otp/verify/", {"token": code(device, steps_ahead=1), "next": "/decisions/"}
    )
    assert response.status_code == 302
    assert again.get("/decisions/").status_code == 200


def test_a_used_code_is_refused_the_second_time(required):
    w = required
    device = set_up(browser(w.organisation), w.organisation)
    device.refresh_from_db()
    replay = browser(w.organisation)
    assert replay.post("/accounts/otp/verify/", {"token": code(device)}).status_code == 400


def test_bad_codes_are_a_message_not_an_error(required):
    client = browser(required.authority)
    client.get("/accounts/otp/setup/")
    for token in ["", "12345", "abcdef", "1" * 5000, "<script>", "12 34 56"]:
        response = client.post("/accounts/otp/setup/", {"token": token})
        assert response.status_code == 400, token
        assert 'class="field-error"' in response.content.decode()
    assert not TOTPDevice.objects.filter(user=required.authority, confirmed=True).exists()


def test_repeated_wrong_codes_are_throttled(required):
    w = required
    device = set_up(browser(w.authority), w.authority)
    client = browser(w.authority)
    for _ in range(3):
        client.post("/accounts/otp/verify/", {"token": "000000"})
    device.refresh_from_db()
    response = client.post("/accounts/otp/verify/", {"token": code(device, steps_ahead=1)})
    assert response.status_code == 400  # the right code, but too soon after the failures
    assert "Too many wrong codes" in response.content.decode()


def test_other_roles_other_tenants_and_a_tenant_without_the_rule_are_not_asked(required):
    w = required
    assert browser(w.superior).get("/inbox/").status_code == 200
    assert browser(w.members[1].user).get("/my/").status_code == 200
    assert browser(w.stranger).get("/decisions/").status_code == 200
    tenant_security_set(tenant=w.tenant, actor=w.boss, require_totp=False)
    assert browser(w.authority).get("/decisions/").status_code == 200


def test_the_setup_page_is_not_for_who_need_no_code(world):
    client = browser(world.authority)
    assert client.get("/accounts/otp/setup/")["Location"] == "/"
    assert not TOTPDevice.objects.filter(user=world.authority).exists()


def test_htmx_and_the_session_api_are_held_too_but_not_a_token(required):
    w = required
    client = browser(w.authority)
    partial = client.get("/decisions/", HTTP_HX_REQUEST="true")
    assert partial.status_code == 204
    assert partial["HX-Redirect"].startswith("/accounts/otp/verify/")
    held = api_session(w.authority).get("/api/cadres/")
    assert held.status_code == 403
    assert held.json()["code"] == "otp_required"
    assert api_token(w.authority).get("/api/cadres/").status_code == 200


def test_signing_out_and_switching_language_stay_open(required):
    client = browser(required.authority)
    assert client.post("/i18n/setlang/", {"language": "vi", "next": "/"}).status_code == 302
    assert client.post("/accounts/logout/").status_code == 302
    assert "_auth_user_id" not in client.session


def test_a_page_of_another_site_is_never_the_next_page(required):
    client = browser(required.authority)
    client.get("/accounts/otp/setup/")
    device = TOTPDevice.objects.get(user=required.authority)
    response = client.post(
        "/accounts/otp/setup/", {"token": code(device), "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_only_the_tenant_or_a_superuser_changes_the_rule(world):
    with pytest.raises(PermissionDenied):
        tenant_security_set(tenant=world.tenant, actor=world.stranger, require_totp=True)
    assert not TenantSecurity.objects.filter(tenant=world.tenant).exists()
    tenant_security_set(tenant=world.tenant, actor=world.boss, require_totp=True)
    entry = AuditEntry.objects.get(action="tenant_security_set")
    assert entry.detail == {"require_totp": True}
