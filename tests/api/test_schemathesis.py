"""Property-based run of schemathesis against the schema, in-process through WSGI: whatever the
generated input, no operation answers 500. Bounded: a few examples per operation."""

from pathlib import Path

import pytest
import schemathesis
from django.conf import settings
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error

from cadres import services as org
from cadres.authentication import api_token_create
from cadres.models import Absence, Assignment, Cadre, Position, Unit
from cadres.roles import Role
from config.wsgi import application
from evaluation import services
from evaluation.models import (
    CatalogueItem,
    CatalogueVersion,
    Collective,
    Evaluation,
    Period,
    QuotaGroup,
)
from tests import factories
from tests.evaluation import steps
from tests.evaluation.steps import build_unit

MODELS = {
    "units": Unit,
    "cadres": Cadre,
    "positions": Position,
    "assignments": Assignment,
    "absences": Absence,
    "periods": Period,
    "catalogue/versions": CatalogueVersion,
    "catalogue/items": CatalogueItem,
    "collectives": Collective,
    "quota-groups": QuotaGroup,
    "evaluations": Evaluation,
}


def demo_like_tenant(tenant):
    """A unit whose eight cadres stand at every step of the quarter, and its collective."""
    u = build_unit(tenant)
    stops = {
        u.members[1]: "plan_approved",
        u.members[2]: "self_assessed",
        u.members[3]: "vetted",
        u.members[4]: "proposed",
        u.deputies[0]: "decided",
        u.deputies[1]: "published",
    }
    for cadre, stop in stops.items():
        steps.plan_and_approve(u, cadre)
        if stop == "plan_approved":
            continue
        steps.self_assess(u, cadre)
        if stop == "self_assessed":
            continue
        steps.vet(u, cadre)
        if stop == "vetted":
            continue
        services.evaluation_propose(evaluation=u.evaluation(cadre), actor=u.superior, grade="good")
        if stop == "proposed":
            continue
        services.evaluation_decide(evaluation=u.evaluation(cadre), actor=u.authority, grade="good")
        if stop == "published":
            services.evaluation_publish(evaluation=u.evaluation(cadre), actor=u.organisation)
    org.absence_create(
        cadre=u.members[0],
        kind="training",
        start_date=u.period.start_date,
        end_date=u.period.start_date,
        reason="Bồi dưỡng",
    )
    version = services.catalogue_draft(tenant=tenant, actor=u.advisory)
    services.catalogue_add_item(
        version=version,
        actor=u.advisory,
        code="SP1",
        title="Báo cáo chuyên đề",
        axis=1,
        expected_product="Báo cáo",
    )
    services.collective_for(period=u.period, unit=u.unit)
    return u


@pytest.fixture
def world(tenant):
    u = demo_like_tenant(tenant)
    # One account acting in every role over the province, as a system integrating them would.
    user = factories.user(tenant)
    for role in Role:
        org.role_grant(user=user, role=role, unit=u.unit.parent)
    _token, raw = api_token_create(user=user, actor=user, name="Schemathesis")
    return {"headers": {"Authorization": f"Bearer {raw}"}, "tenant": tenant}


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    # The real WSGI handler closes "old" connections around each request, which would close
    # the test's transaction; Django's own test client disconnects the same handler.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True)
def _generous_rate(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api_token": "100000/hour"},
    }


# The committed schema, which test_schema.py proves equal to the generated one.
schema = schemathesis.openapi.from_path(str(Path(settings.BASE_DIR) / "docs" / "openapi.yaml"))
schema.app = application


def point_at_real_rows(case, tenant) -> None:
    """Half the generated ids are mapped onto rows of the tenant, so that the operations reach
    the services instead of stopping at 404."""
    value = case.path_parameters.get("id") if case.path_parameters else None
    if not isinstance(value, int) or value % 2:
        return
    resource = case.operation.path.removeprefix("/api/").split("/{id}")[0]
    model = MODELS.get(resource)
    if model is None:
        return
    field = "user__tenant" if resource == "tokens" else "tenant"
    ids = list(model.objects.filter(**{field: tenant}).order_by("pk").values_list("pk", flat=True))
    if ids:
        case.path_parameters["id"] = ids[(value // 2) % len(ids)]


@schema.parametrize()
@hypothesis_settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_no_generated_request_gets_a_server_error(case, world):
    point_at_real_rows(case, world["tenant"])
    response = case.call(headers=world["headers"])
    case.validate_response(response, checks=[not_a_server_error])
