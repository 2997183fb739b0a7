"""Sign-in and sessions: django-axes locks a username from one address after five failures
for fifteen minutes; a session ends after 30 idle minutes or 10 hours in any case."""

import time
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.utils import timezone, translation

from cadres.security import SESSION_SEEN, SESSION_STARTED
from tests import factories
from tests.security.conftest import api_token, browser

PASSWORD = "matkhau-Thu-123"  # tests/factories.py
LOCKED = "Too many failed sign-in attempts"

pytestmark = pytest.mark.django_db


def sign_in(client, username, password, address="10.0.0.1", **extra):
    return client.post(
        "/accounts/login/",
        {"username": username, "password": password},
        REMOTE_ADDR=address,
        **extra,
    )


@pytest.fixture
def account(tenant):
    return factories.user(tenant, username="nguoidung")


def fail_five_times(client, username, address="10.0.0.1"):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = sign_in(client, username, "sai-mat-khau", address)
        assert response.status_code == 200  # the form again, with the usual error
        assert LOCKED not in response.content.decode()
    return sign_in(client, username, "sai-mat-khau", address)


def test_five_failures_lock_the_username_from_that_address(account):
    client = browser()
    fifth = fail_five_times(client, account.username)
    assert fifth.status_code == 429
    assert LOCKED in fifth.content.decode()
    # Even the right password is refused now, with the same page and no session.
    sixth = sign_in(client, account.username, PASSWORD)
    assert sixth.status_code == 429
    assert "15 minutes" in sixth.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_lock_is_per_username_and_address(account, tenant):
    fail_five_times(browser(), account.username, "10.0.0.1")
    # The same account from another address, and another account from the same address.
    assert sign_in(browser(), account.username, PASSWORD, "10.0.0.2").status_code == 302
    other = factories.user(tenant, username="nguoikhac")
    assert sign_in(browser(), other.username, PASSWORD, "10.0.0.1").status_code == 302


def test_the_lock_ends_after_the_cool_off(account):
    fail_five_times(browser(), account.username)
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert sign_in(browser(), account.username, PASSWORD).status_code == 302


def test_a_success_clears_the_failures(account):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(browser(), account.username, "sai-mat-khau")
    assert sign_in(browser(), account.username, PASSWORD).status_code == 302
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(browser(), account.username, "sai-mat-khau").status_code == 200


def test_the_lockout_page_is_vietnamese_by_default(account):
    client = browser(language="vi")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = sign_in(client, account.username, "sai-mat-khau")
    page = response.content.decode()
    assert response.status_code == 429
    assert '<html lang="vi">' in page
    with translation.override("vi"):
        expected = translation.gettext(
            "Too many failed sign-in attempts. Signing in to this account from your address "
            "is locked for %(minutes)s minutes."
        ) % {"minutes": 15}
    assert expected in page


def test_behind_a_proxy_the_forwarded_address_is_the_one_locked(account, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    client = browser()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, account.username, "sai", "172.16.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4")
    assert AccessAttempt.objects.get().ip_address == "1.2.3.4"
    # The proxy's own address is shared by everyone: another client is not locked out.
    ok = sign_in(
        browser(), account.username, PASSWORD, "172.16.0.1", HTTP_X_FORWARDED_FOR="5.6.7.8"
    )
    assert ok.status_code == 302


# --- Sessions ---


def age_session(client, *, started=0, seen=0):
    session = client.session
    now = int(time.time())
    session[SESSION_STARTED] = now - started
    session[SESSION_SEEN] = now - seen
    session.save()


def test_a_session_idle_for_30_minutes_is_signed_out(account):
    client = browser(account)
    assert client.get("/").status_code == 200
    age_session(client, started=3600, seen=31 * 60)
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=%2F"
    assert "_auth_user_id" not in client.session
    assert client.get("/")["Location"].startswith("/accounts/login/")


def test_a_session_is_signed_out_10_hours_after_sign_in_however_busy(account):
    client = browser(account)
    age_session(client, started=10 * 3600 + 1, seen=5)
    assert client.get("/").status_code == 302
    assert "_auth_user_id" not in client.session


def test_a_busy_session_under_both_limits_stays(account):
    client = browser(account)
    age_session(client, started=9 * 3600, seen=29 * 60)
    assert client.get("/").status_code == 200
    assert int(time.time()) - client.session[SESSION_SEEN] < 5  # the idle clock restarted


def test_an_expired_htmx_request_reloads_the_sign_in_page(account):
    client = browser(account)
    age_session(client, started=3600, seen=3600)
    response = client.get("/", HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith("/accounts/login/?next=")


def test_an_expired_session_cannot_call_the_api_but_a_token_can(account):
    client = browser(account)
    assert client.get("/api/periods/").status_code == 200
    age_session(client, started=3600, seen=3600)
    assert client.get("/api/periods/").status_code in (401, 403)
    assert api_token(account).get("/api/periods/").status_code == 200


def test_signing_in_starts_the_clock(account):
    client = browser()
    assert sign_in(client, account.username, PASSWORD).status_code == 302
    assert abs(client.session[SESSION_STARTED] - int(time.time())) < 5
