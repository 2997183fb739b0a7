import pytest
from django.conf import settings
from django.utils import translation

from tests.evaluation.steps import build_unit
from tests.reporting import data


@pytest.fixture(autouse=True)
def site_language():
    """Each test in the site's language, whatever an earlier test left active."""
    with translation.override(settings.LANGUAGE_CODE):
        yield


@pytest.fixture
def unit(tenant):
    return build_unit(tenant, members=7)


@pytest.fixture
def quarter(unit):
    """The unit with its quarter decided (see data.decided_quarter)."""
    data.decided_quarter(unit)
    return unit
