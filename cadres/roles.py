"""Roles held over units, and the subtree each grant covers.

A role is a django-guardian object permission on a ``Unit``; a grant on a unit covers every
unit under it, so an authority over a province covers its districts without a row per unit.
"""

from functools import reduce
from operator import or_

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cadres.models import Unit, UnitUserPermission
from config.compiled_query import CompiledQuery, attnames, instances


class Role(models.TextChoices):
    SUPERIOR = "act_as_superior", _("Direct superior level")
    ADVISORY = "act_as_advisory", _("Personnel advisory body")
    AUTHORITY = "act_as_authority", _("Managing authority")
    ORGANISATION = "act_as_organisation", _("Organisation department")
    ADMINISTRATOR = "administer", _("Tenant administrator")

    @property
    def perm(self) -> str:
        return f"cadres.{self.value}"


def granted_units(user, role: Role) -> list[Unit]:
    """Units on which the user holds the role directly.

    Every role is read in one query on first use and kept on the request's user: a page
    asks about several roles (menu, scope, permission checks).
    """
    cache = user.__dict__.get("_granted_units")
    if cache is None:
        cache = {r: [] for r in Role}
        if user.is_authenticated and user.tenant_id is not None:
            for row in _GRANTS.rows(tenant_id=user.tenant_id, user_id=user.pk):
                cache[Role(row[-1])].append(instances(row, Unit)[0])  # the unit, then the role
        user.__dict__["_granted_units"] = cache
    return cache[role]


# Read on every page: its SQL is built once (config/compiled_query.py says why).
_GRANTS = CompiledQuery(
    lambda tenant_id, user_id: (
        Unit.objects.filter(
            tenant_id=tenant_id,
            unituserpermission__user_id=user_id,
            unituserpermission__permission__codename__in=Role.values,
            unituserpermission__permission__content_type__app_label="cadres",
        )
        .order_by("path")
        .distinct()
        .values_list(*attnames(Unit), "unituserpermission__permission__codename")
    )
)


def roles_of(user) -> list[Role]:
    return [role for role in Role if granted_units(user, role)]


def covers(user, role: Role, unit: Unit) -> bool:
    """Whether a grant of ``role`` on the unit or one of its ancestors is held by the user."""
    if unit.tenant_id != user.tenant_id:
        return False
    return any(unit.path.startswith(granted.path) for granted in granted_units(user, role))


def subtree_q(units, prefix: str = "") -> Q:
    """A filter matching rows whose unit lies under any of ``units``; empty list matches none."""
    if not units:
        return Q(pk__in=[])
    return reduce(or_, (Q(**{f"{prefix}path__startswith": unit.path}) for unit in units))


def covered_units(user, role: Role):
    """Every unit of the user's tenant that the role covers."""
    return Unit.objects.for_tenant(user.tenant_id).filter(subtree_q(granted_units(user, role)))


def role_holders(role: Role, unit: Unit):
    """Users holding the role over the unit through a grant on it or on an ancestor."""
    from cadres.models import User

    return User.objects.filter(
        is_active=True,
        pk__in=UnitUserPermission.objects.filter(
            content_object_id__in=unit.ancestor_ids, permission__codename=role.value
        ).values("user_id"),
    )
