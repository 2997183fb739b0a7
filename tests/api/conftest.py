import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from cadres.authentication import api_token_create
from tests.evaluation.steps import build_unit


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Throttle counters live in the cache; each test starts from zero.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def unit(tenant):
    return build_unit(tenant)


def session_client(user) -> APIClient:
    """A browser-like client: signed in through the session."""
    client = APIClient()
    client.force_login(user)
    return client


def token_client(user, keyword: str = "Bearer") -> APIClient:
    """A system-like client: a fresh API token of the user in the Authorization header."""
    _token, raw = api_token_create(user=user, actor=user, name="Hệ thống nhân sự")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{keyword} {raw}")
    return client
