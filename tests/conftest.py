import pytest

from tests import factories


@pytest.fixture
def tenant(db):
    return factories.tenant()


@pytest.fixture
def other_tenant(db):
    return factories.tenant()
