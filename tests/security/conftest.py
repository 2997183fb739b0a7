import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

from cadres.authentication import api_token_create
from tests.evaluation.steps import build_unit
from tests.security.world import build_world


@pytest.fixture(autouse=True)
def _fresh_cache():
    # django-axes and the API throttle count in the cache; each test starts from zero.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def world(db):
    return build_world()


@pytest.fixture
def unit(tenant):
    return build_unit(tenant)


def browser(user=None, language="en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    if user is not None:
        client.force_login(user)
    return client


def api_session(user) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def api_token(user) -> APIClient:
    _token, raw = api_token_create(user=user, actor=user, name="Hệ thống kiểm thử")
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def make_staff(user, apps=("cadres", "evaluation", "reporting")) -> None:
    """A tenant administrator in the Django admin: staff with every permission on our apps."""
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label__in=apps))


# Figures the security tests report (routes probed, leaks, templates that break the CSP),
# printed after the run whatever the capture mode.
SUMMARY: list[str] = []


def report(line: str) -> None:
    SUMMARY.append(line)


def pytest_terminal_summary(terminalreporter):
    if SUMMARY:
        terminalreporter.section("security")
        for line in SUMMARY:
            terminalreporter.write_line(line)
