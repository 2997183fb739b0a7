"""Every URL pattern of the project, filled with the id of an object of tenant A.

The patterns are read from the resolver, so a page or an API route added later is probed
without changing the tests; a route whose parameters cannot be filled makes the matrix fail
until it is mapped here (or excluded with a reason).
"""

import re
from dataclasses import dataclass

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404

# Which object of tenant A fills the ``pk`` of a route, by the start of its path.
PK_OBJECTS = [
    (r"api/\^units/", "unit"),
    (r"api/\^cadres/", "cadre"),
    (r"api/\^positions/", "position"),
    (r"api/\^assignments/", "assignment"),
    (r"api/\^absences/", "absence"),
    (r"api/\^tokens/", "token"),
    (r"api/\^periods/", "period"),
    (r"api/\^catalogue/versions/", "catalogue"),
    (r"api/\^catalogue/items/", "catalogue_item"),
    (r"api/\^collectives/", "collective"),
    (r"api/\^quota-groups/", "quota_group"),
    (r"api/\^evaluations/", "evaluation"),
    (r"reports/units/", "unit"),
    (r"reports/evaluations/", "evaluation"),
    (r"reports/exports/", "export"),
    (r"units/", "unit"),
    (r"posts/", "position"),
    (r"organisation/units/", "unit"),
    (r"organisation/cadres/", "cadre"),
    (r"organisation/periods/", "period"),
    (r"evaluations/", "evaluation"),
    (r"catalogue/", "catalogue"),
    (r"decisions/", "quota_group"),
    (r"suspensions/", "suspension"),
    (r"publication/", "period"),
]
# Objects that every role holder of tenant A may see (tenant-wide), unlike the private unit's.
TENANT_WIDE = {"period", "catalogue", "catalogue_item", "tenant"}
# Routes that cannot be filled with an object of tenant A, and why (keep this tiny).
EXCLUDED = {
    "admin:cadres_unit_permissions_manage_group": "groups are not tenant-owned; object_pk is "
    "probed through admin:cadres_unit_permissions",
}
ADMIN_MODEL = re.compile(r"^admin/(?P<app>\w+)/(?P<model>\w+)/")
ROUTE_PARAM = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")
REGEX_PARAM = re.compile(r"\(\?P<(?P<name>\w+)>[^)]*\)")
UNKNOWN = "999999999"


@dataclass
class Route:
    template: str  # the concatenated pattern, e.g. "api/^units/(?P<pk>\\d+)/$"
    name: str | None
    callback: object
    params: list[str]
    url: str = ""
    object_key: str | None = None  # the tenant A object the url names, if any

    @property
    def label(self) -> str:
        return self.name or self.template

    @property
    def is_api(self) -> bool:
        return self.template.startswith("api/")

    @property
    def is_admin(self) -> bool:
        return self.template.startswith("admin/")


def _walk(patterns, prefix="", namespace=None):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            name = pattern.name and (f"{namespace}:{pattern.name}" if namespace else pattern.name)
            template = prefix + str(pattern.pattern)
            params = [m["name"] for m in REGEX_PARAM.finditer(template)]
            params += [m["name"] for m in ROUTE_PARAM.finditer(REGEX_PARAM.sub("", template))]
            yield Route(template, name, pattern.callback, params)


def all_routes() -> list[Route]:
    return list(_walk(get_resolver().url_patterns))


def _admin_object(route: Route, objects: dict) -> tuple[str, str | None]:
    match = ADMIN_MODEL.match(route.template)
    if not match:
        return UNKNOWN, None
    try:
        model = apps.get_model(match["app"], match["model"])
    except LookupError:
        return UNKNOWN, None
    tenant = objects["tenant"]
    if model._meta.label == "cadres.Tenant":
        return str(tenant.pk), "tenant"
    if model._meta.label == "cadres.User":
        return str(objects["user"].pk), "user"
    if any(f.name == "tenant" for f in model._meta.fields):
        row = model._default_manager.filter(tenant=tenant).order_by("pk").first()
        if row is not None:
            return str(row.pk), f"admin:{model._meta.label_lower}"
    if model._meta.label == "cadres.UnitUserPermission":
        row = model._default_manager.filter(content_object__tenant=tenant).first()
        return (str(row.pk), "admin:cadres.unituserpermission") if row else (UNKNOWN, None)
    return UNKNOWN, None


def _value(route: Route, param: str, objects: dict) -> tuple[str, str | None]:
    if param == "format":
        return "json", None
    if param == "app_label":
        return "cadres", None
    if param == "url":
        return "zz-no-such-page/", None
    if param == "content_type_id":
        return str(ContentType.objects.get_for_model(objects["cadre"]).pk), None
    if param == "user_id":
        return str(objects["user"].pk), "user"
    if route.is_admin:
        if route.template.startswith("admin/r/"):
            return str(objects["cadre"].pk), "cadre"
        return _admin_object(route, objects)
    for prefix, key in PK_OBJECTS:
        if re.match(prefix, route.template):
            return str(objects[key].pk), key
    raise LookupError(f"no object for {param} in {route.template}")


def _fill(template: str, values: dict[str, str]) -> str:
    url = REGEX_PARAM.sub(lambda m: values[m["name"]], template)
    url = ROUTE_PARAM.sub(lambda m: values[m["name"]], url)
    url = url.replace("^", "").replace("$", "").replace("/?", "").replace("\\.", ".")
    return "/" + url


def filled_routes(objects: dict) -> tuple[list[Route], list[str]]:
    """The routes with their urls, and the routes that could not be filled (to fail on)."""
    routes, unfilled = [], []
    for route in all_routes():
        if route.name in EXCLUDED:
            continue
        values, keys = {}, []
        try:
            for param in route.params:
                values[param], key = _value(route, param, objects)
                if key:
                    keys.append(key)
        except LookupError as exc:
            unfilled.append(str(exc))
            continue
        route.url = _fill(route.template, values)
        route.object_key = keys[0] if keys else None
        try:
            match = resolve(route.url.split("?")[0])
        except Resolver404:
            unfilled.append(f"{route.label}: {route.url} does not resolve")
            continue
        if match.func is not route.callback and route.name and match.view_name != route.name:
            unfilled.append(f"{route.label}: {route.url} resolves to {match.view_name}")
            continue
        routes.append(route)
    return routes, unfilled
