"""The isolation matrix: every route of the project (pages, API, admin, reports), filled with
ids of tenant A's objects, probed by a user of another tenant (session and API token), by
users of tenant A without a role over the private unit, and anonymously.

Nobody of them reads tenant A's marker (or the private unit's marker) anywhere, reaches an
object route (it answers 403/404/405 or sends to sign-in), or changes tenant A's rows.
"""

import pickle
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.core.cache import caches
from django.db import transaction
from django.test import Client
from rest_framework.test import APIClient

from cadres.models import ApiToken, Assignment, Cadre, Unit, UnitUserPermission, User
from evaluation.models import Evaluation
from tests.security import routes as R
from tests.security.conftest import make_staff, report
from tests.security.world import PRIVATE_MARKER, TENANT_MARKER

pytestmark = pytest.mark.django_db

PUBLIC = {
    "login",
    "logout",
    "set_language",
    "api-schema",
    "api-docs",
    "admin:login",
    "admin:logout",
    "admin:jsi18n",
}
NO_POST_FOR_SIGNED_IN = {"logout", "admin:logout"}  # would end the prober's own session
QUERY = "?period={period}&unit={unit}&cadre={cadre}&evaluation={evaluation}&group={quota_group}"


@dataclass
class Actor:
    name: str
    user: object
    marker: str  # what this actor must never read
    private_only: bool  # object routes refused only for the private unit's objects
    methods: tuple
    token: bool = False


def _clients(actor: Actor, world):
    if actor.token:
        from cadres.authentication import api_token_create

        _t, raw = api_token_create(user=actor.user, actor=actor.user, name="Sonde")
        api = APIClient(HTTP_ACCEPT_LANGUAGE="en")
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        return None, api
    page, api = Client(HTTP_ACCEPT_LANGUAGE="en"), APIClient(HTTP_ACCEPT_LANGUAGE="en")
    if actor.user is not None:
        page.force_login(actor.user)
        api.force_login(actor.user)
    return page, api


def _text(response) -> str:
    if getattr(response, "streaming", False):
        content = b"".join(response.streaming_content)
    else:
        content = response.content
    headers = " ".join(f"{key}: {value}" for key, value in response.items())
    return content.decode("utf-8", "replace") + " " + headers


def _post_body(objects) -> dict:
    """Plausible fields, every id one of tenant A's: a form or serializer takes what it knows."""
    return {
        "evaluation": objects["evaluation"].pk,
        "evaluations": [objects["evaluation"].pk],
        "ids": [objects["evaluation"].pk],
        "pk": objects["evaluation"].pk,
        "cadre": objects["cadre"].pk,
        "unit": objects["unit"].pk,
        "parent": objects["unit"].pk,
        "period": objects["period"].pk,
        "position": objects["position"].pk,
        "user": objects["user"].pk,
        "collective": objects["collective"].pk,
        "group": objects["quota_group"].pk,
        "version": objects["evaluation"].version,
        "expected_version": objects["evaluation"].version,
        "reason": "Thăm dò",
        "comment": "Thăm dò",
        "grade": "good",
        "kind": "unit_summary",
        "role": "act_as_authority",
        "code": "ZZ1",
        "staff_code": objects["cadre"].code,
        "title": "Thăm dò",
        "name": "Thăm dò",
        "year": 2026,
        "quarter": 3,
        "start_date": "2026-04-01",
        "next": "/",
    }


def _probe(client, method, url, body, is_api):
    kwargs = {}
    if method in ("post", "put", "patch"):
        kwargs = {"data": body, "format": "json"} if is_api else {"data": body}
    with transaction.atomic():  # a failing view must not poison the rest of the run
        return getattr(client, method)(url, **kwargs)


def _snapshot_all(world) -> dict:
    """Every row of tenant A, with the account and grant rows that hang on it."""
    tenant = world.tenant
    rows = {}
    for model in apps.get_models():
        if any(f.name == "tenant" for f in model._meta.fields) and model is not User:
            rows[model._meta.label] = list(model._default_manager.filter(tenant=tenant).values())
    rows["grants"] = list(UnitUserPermission.objects.filter(content_object__tenant=tenant).values())
    rows["users"] = list(User.objects.filter(tenant=tenant).values().order_by("pk"))
    for row in rows["users"]:
        row.pop("last_login")
    rows["tokens"] = list(ApiToken.objects.filter(user__tenant=tenant).values("pk", "revoked_at"))
    return {label: sorted(values, key=lambda r: r.get("id") or 0) for label, values in rows.items()}


def _snapshot_private(world) -> dict:
    """The rows of the private unit: what tenant A's people without a role there must keep."""
    unit = world.unit
    cadres = Cadre.objects.filter(assignments__position__unit=unit)
    evaluations = Evaluation.objects.filter(cadre__in=cadres)
    return {
        "units": list(Unit.objects.filter(path__startswith=unit.path).values()),
        "cadres": list(cadres.values().order_by("pk")),
        "evaluations": list(evaluations.values().order_by("pk")),
        "tasks": list(
            apps.get_model("evaluation", "Task")
            .objects.filter(evaluation__in=evaluations)
            .values()
            .order_by("pk")
        ),
        "assignments": list(Assignment.objects.filter(position__unit=unit).values().order_by("pk")),
        "grants": list(
            UnitUserPermission.objects.filter(content_object__path__startswith=unit.path)
            .values()
            .order_by("pk")
        ),
        "suspensions": list(
            apps.get_model("evaluation", "SuspensionProposal")
            .objects.filter(cadre__in=cadres)
            .values()
        ),
        "collective": list(
            apps.get_model("evaluation", "Collective").objects.filter(unit=unit).values()
        ),
        "export": list(
            apps.get_model("reporting", "Export")
            .objects.filter(pk=world.objects["export"].pk)
            .values("pk", "status", "created_by_id")
        ),
        "token": list(ApiToken.objects.filter(pk=world.objects["token"].pk).values("revoked_at")),
    }


def _actors(world):
    make_staff(world.stranger)  # an administrator of the other tenant, in the admin too
    return {
        "anonymous": Actor("anonymous", None, TENANT_MARKER, False, ("get", "post")),
        "other tenant": Actor(
            "other tenant", world.stranger, TENANT_MARKER, False, ("get", "query", "post")
        ),
        "other tenant (API token)": Actor(
            "other tenant (API token)",
            world.stranger,
            TENANT_MARKER,
            False,
            ("get", "post", "put", "patch", "delete"),
            token=True,
        ),
        "wrong role": Actor(
            "wrong role", world.wrong_role, PRIVATE_MARKER, True, ("get", "query", "post")
        ),
        "no role": Actor("no role", world.bystander, PRIVATE_MARKER, True, ("get", "post")),
    }


def _expected(actor: Actor, route: R.Route, response) -> str | None:
    """Why the answer is wrong, or None."""
    status = response.status_code
    if status >= 500:
        return f"status {status}"
    if route.name in PUBLIC:
        return None
    if actor.user is None and not actor.token:
        location = response.get("Location", "")
        if 300 <= status < 400 and "login" not in location:
            return f"anonymous sent to {location}"
        if 200 <= status < 300:
            return f"anonymous got {status}"
        return None
    protected = route.object_key is not None and not (
        actor.private_only and route.object_key in R.TENANT_WIDE
    )
    if protected and 200 <= status < 300:
        return f"{status} on another's {route.object_key}"
    return None


ACTORS = ["anonymous", "other tenant", "other tenant (API token)", "wrong role", "no role"]


@pytest.mark.parametrize("actor_name", ACTORS)
def test_nobody_outside_reads_reaches_or_changes_tenant_a(world, actor_name):
    routes, unfilled = R.filled_routes(world.objects)
    assert unfilled == [], "map these routes in tests/security/routes.py: " + "; ".join(unfilled)
    actor = _actors(world)[actor_name]
    page, api = _clients(actor, world)
    snapshot = _snapshot_private if actor.private_only else _snapshot_all
    before = snapshot(world)
    body = _post_body(world.objects)
    query = QUERY.format(**{k: getattr(v, "pk", "") for k, v in world.objects.items()})
    failures, probes, probed_routes = [], 0, 0
    for route in routes:
        client = api if route.is_api else page
        if client is None:
            continue
        probed_routes += 1
        for method in actor.methods:
            if method == "post" and actor.user and route.name in NO_POST_FOR_SIGNED_IN:
                continue
            if method in ("put", "patch", "delete") and not route.is_api:
                continue
            url = route.url + (query if method == "query" else "")
            verb = "get" if method == "query" else method
            probes += 1
            try:
                response = _probe(client, verb, url, body, route.is_api)
            except Exception as exc:  # a server error, raised by the test client
                failures.append(f"{verb.upper()} {url}: raised {exc!r:.200}")
                continue
            if actor.marker in _text(response):
                failures.append(f"{verb.upper()} {url}: LEAK of {actor.marker}")
            problem = _expected(actor, route, response)
            if problem:
                failures.append(f"{verb.upper()} {url}: {problem}")
    after = snapshot(world)
    changed = [label for label in before if before[label] != after.get(label)]
    report(
        f"isolation matrix, {actor.name}: {probed_routes} routes × {len(actor.methods)} "
        f"methods = {probes} probes; {len(failures)} failures, {len(changed)} tables changed"
    )
    assert changed == [], f"{actor.name} changed tenant A's {changed}"
    assert failures == [], "\n".join(failures[:40])


def test_the_marker_is_there_to_be_found(world):
    """The harness sees tenant A's data when the right person asks: no vacuous pass."""
    routes, _unfilled = R.filled_routes(world.objects)
    client, api = Client(HTTP_ACCEPT_LANGUAGE="en"), APIClient(HTTP_ACCEPT_LANGUAGE="en")
    for c in (client, api):
        c.force_login(world.boss)
    found = set()
    for route in routes:
        if route.object_key is None:
            continue
        response = _probe(api if route.is_api else client, "get", route.url, {}, route.is_api)
        if response.status_code == 200 and PRIVATE_MARKER in _text(response):
            found.add(route.label)
    report(
        f"isolation matrix, control: tenant A's administrator reads the marker on "
        f"{len(found)} routes"
    )
    assert {
        "evaluation_detail",
        "unit_detail",
        "api-evaluation-detail",
        "api-cadre-detail",
    } <= found
    assert len(found) >= 30


def test_cached_values_of_tenant_a_carry_its_id_in_the_key(world):
    """Whatever the pages cache, a value holding tenant A's data has a key naming tenant A."""
    cache = caches["default"]
    cache.clear()
    routes, _unfilled = R.filled_routes(world.objects)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(world.boss)
    api = _clients(Actor("boss", world.boss, "", False, (), token=True), world)[1]
    for route in routes:
        if not route.is_admin:
            _probe(api if route.is_api else client, "get", route.url, {}, route.is_api)
    tenant = world.tenant
    checked = 0
    for key, value in list(getattr(cache, "_cache", {}).items()):
        checked += 1
        data = pickle.loads(value) if isinstance(value, bytes) else value
        if TENANT_MARKER in repr(data):
            assert str(tenant.pk) in key or tenant.code in key, key
    report(f"cache: {checked} keys after tenant A's pages, every one with A's data names A")
