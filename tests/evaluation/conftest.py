import pytest

from tests.evaluation.steps import build_unit


@pytest.fixture
def unit(tenant):
    return build_unit(tenant)
