import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

from tests.evaluation.steps import build_unit


@pytest.fixture
def unit(tenant):
    return build_unit(tenant)


@pytest.fixture
def as_user():
    """A test client signed in as the given user, reading the English screens so that the
    assertions do not depend on the state of the Vietnamese catalogue."""

    def sign_in(user, language="en") -> Client:
        client = Client(HTTP_ACCEPT_LANGUAGE=language)
        client.force_login(user)
        return client

    return sign_in


@pytest.fixture(autouse=True)
def _no_language_left_behind():
    """The test client leaves the last request's language active; put the default back."""
    yield
    translation.activate(settings.LANGUAGE_CODE)
