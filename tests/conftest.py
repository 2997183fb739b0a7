import pytest
from django.core.cache import cache
from django.utils import translation

from tests import factories


@pytest.fixture
def tenant(db):
    return factories.tenant()


@pytest.fixture
def other_tenant(db):
    return factories.tenant()


@pytest.fixture(autouse=True)
def english_messages():
    """Service-level tests read messages in English; pages still render Vietnamese by default
    because the locale middleware activates the language of each request."""
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def empty_cache():
    """The dashboards are cached for a minute: each test starts with an empty cache."""
    cache.clear()
    yield
    cache.clear()
