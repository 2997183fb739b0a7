"""Writes to the organisation: the unit tree, posts, assignments, absences and role grants.

Each service validates everything before it writes and runs in one transaction, so bad input
leaves nothing half-saved.
"""

from datetime import date

from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Concat, Length, Substr
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm, remove_perm

from cadres.models import (
    PATH_STEP,
    Absence,
    Assignment,
    AuditEntry,
    Cadre,
    Position,
    Tenant,
    Unit,
)
from cadres.roles import Role


def audit(*, tenant_id, actor, action: str, obj, detail: dict | None = None) -> AuditEntry:
    return AuditEntry.objects.create(
        tenant_id=tenant_id,
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        object_repr=str(obj)[:255],
        detail=detail or {},
    )


def _path_segment(pk: int) -> str:
    return f"{pk:0{PATH_STEP}d}"


@transaction.atomic
def unit_create(
    *, tenant: Tenant, name: str, code: str, kind: str, parent: Unit | None = None, actor=None
) -> Unit:
    """Add a unit under ``parent`` (or as a root) and give it its materialized path."""
    if parent is not None and parent.tenant_id != tenant.pk:
        raise ValidationError({"parent": _("The parent unit belongs to another organisation.")})
    unit = Unit(tenant=tenant, parent=parent, name=name, code=code, kind=kind)
    unit.full_clean(exclude=["path", "depth"])
    unit.save()
    unit.path = (parent.path if parent else "") + _path_segment(unit.pk)
    unit.depth = parent.depth + 1 if parent else 0
    Unit.objects.filter(pk=unit.pk).update(path=unit.path, depth=unit.depth)
    audit(tenant_id=tenant.pk, actor=actor, action="unit_create", obj=unit)
    return unit


@transaction.atomic
def unit_move(*, unit: Unit, new_parent: Unit | None, actor=None) -> Unit:
    """Move a unit and its whole subtree under another unit, in one update."""
    unit = Unit.objects.select_for_update().get(pk=unit.pk)
    if new_parent is not None:
        new_parent = Unit.objects.get(pk=new_parent.pk)
        if new_parent.tenant_id != unit.tenant_id:
            raise ValidationError({"parent": _("The parent unit belongs to another organisation.")})
        if new_parent.path.startswith(unit.path):
            raise ValidationError(
                {"parent": _("A unit cannot be moved under itself or one of its own sub-units.")}
            )
    old_path, old_depth = unit.path, unit.depth
    new_path = (new_parent.path if new_parent else "") + _path_segment(unit.pk)
    new_depth = new_parent.depth + 1 if new_parent else 0
    Unit.objects.filter(tenant_id=unit.tenant_id, path__startswith=old_path).update(
        path=Concat(Value(new_path), Substr("path", len(old_path) + 1, Length("path"))),
        depth=F("depth") + (new_depth - old_depth),
    )
    Unit.objects.filter(pk=unit.pk).update(parent=new_parent)
    unit.refresh_from_db()
    audit(
        tenant_id=unit.tenant_id,
        actor=actor,
        action="unit_move",
        obj=unit,
        detail={"from": old_path, "to": new_path},
    )
    return unit


@transaction.atomic
def cadre_create(*, tenant: Tenant, actor=None, **fields) -> Cadre:
    cadre = Cadre(tenant=tenant, **fields)
    cadre.full_clean()
    cadre.save()
    audit(tenant_id=tenant.pk, actor=actor, action="cadre_create", obj=cadre)
    return cadre


@transaction.atomic
def position_create(*, unit: Unit, title: str, kind: str, collective_role: str) -> Position:
    position = Position(
        tenant_id=unit.tenant_id, unit=unit, title=title, kind=kind, collective_role=collective_role
    )
    position.full_clean()
    position.save()
    return position


def _overlap_q(start: date, end: date | None) -> Q:
    """Assignments whose [start, end] range meets [start, end] (an open end runs forever)."""
    q = Q(end_date__isnull=True) | Q(end_date__gte=start)
    if end is not None:
        q &= Q(start_date__lte=end)
    return q


@transaction.atomic
def assignment_create(
    *,
    cadre: Cadre,
    position: Position,
    start_date: date,
    end_date: date | None = None,
    note: str = "",
    actor=None,
) -> Assignment:
    """Put a cadre in a post; a post is held by one cadre at a time."""
    errors = {}
    if cadre.tenant_id != position.tenant_id:
        errors["position"] = _("The post belongs to another organisation.")
    if end_date is not None and end_date < start_date:
        errors["end_date"] = _("The assignment cannot end before it starts.")
    if errors:
        raise ValidationError(errors)
    # Lock the post so that two assignments to it cannot both pass the overlap check.
    Position.objects.select_for_update().get(pk=position.pk)
    clash = (
        Assignment.objects.filter(position=position)
        .filter(_overlap_q(start_date, end_date))
        .select_related("cadre")
        .first()
    )
    if clash is not None:
        raise ValidationError(
            {
                "start_date": _(
                    "This post is already held by %(name)s from %(start)s over these dates."
                )
                % {"name": clash.cadre.full_name, "start": clash.start_date.strftime("%d/%m/%Y")}
            }
        )
    assignment = Assignment(
        tenant_id=cadre.tenant_id,
        cadre=cadre,
        position=position,
        start_date=start_date,
        end_date=end_date,
        note=note,
    )
    assignment.full_clean()
    assignment.save()
    audit(tenant_id=cadre.tenant_id, actor=actor, action="assignment_create", obj=assignment)
    return assignment


@transaction.atomic
def absence_create(
    *,
    cadre: Cadre,
    kind: str,
    start_date: date,
    end_date: date,
    reason: str = "",
    actor=None,
) -> Absence:
    errors = {}
    if end_date < start_date:
        errors["end_date"] = _("The absence cannot end before it starts.")
    if kind == Absence.Kind.OTHER and not reason.strip():
        errors["reason"] = _("A reason is required for a case decided by the authority.")
    if errors:
        raise ValidationError(errors)
    absence = Absence(
        tenant_id=cadre.tenant_id,
        cadre=cadre,
        kind=kind,
        start_date=start_date,
        end_date=end_date,
        reason=reason,
    )
    absence.full_clean()
    absence.save()
    audit(tenant_id=cadre.tenant_id, actor=actor, action="absence_create", obj=absence)
    return absence


ADMINISTRATORS_GROUP = "Tenant administrators"


def administrators_group() -> Group:
    """The group giving tenant administrators the Django admin's model permissions."""
    group, created = Group.objects.get_or_create(name=ADMINISTRATORS_GROUP)
    if created:
        group.permissions.set(
            Permission.objects.filter(content_type__app_label__in=["cadres", "evaluation"])
            .exclude(content_type__model__in=["tenant", "auditentry"])
            .exclude(codename__startswith="act_as_")
        )
    return group


def role_grant(*, user, role: Role, unit: Unit, granted_by=None) -> None:
    """Grant a role on a unit, and so on its whole subtree, to a user of the same tenant."""
    if user.tenant_id != unit.tenant_id:
        raise ValidationError({"user": _("The user belongs to another organisation.")})
    with transaction.atomic():
        assign_perm(role.perm, user, unit)
        if role == Role.ADMINISTRATOR:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
            user.groups.add(administrators_group())
        audit(
            tenant_id=unit.tenant_id,
            actor=granted_by,
            action="role_grant",
            obj=unit,
            detail={"user": user.username, "role": role.value},
        )
    user.__dict__.pop("_granted_units", None)


def role_revoke(*, user, role: Role, unit: Unit, revoked_by=None) -> None:
    with transaction.atomic():
        remove_perm(role.perm, user, unit)
        audit(
            tenant_id=unit.tenant_id,
            actor=revoked_by,
            action="role_revoke",
            obj=unit,
            detail={"user": user.username, "role": role.value},
        )
    user.__dict__.pop("_granted_units", None)
