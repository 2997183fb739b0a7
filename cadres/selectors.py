"""Reads of the organisation, always scoped to the user's tenant first."""

from datetime import date

from django.db.models import Q
from django.http import Http404
from django.utils import timezone

from cadres.models import Assignment, Unit


def tenant_scoped(queryset, user):
    """The rows of ``queryset`` that belong to the user's tenant (none for tenantless users)."""
    if user.is_superuser and user.tenant_id is None:
        return queryset
    if not user.is_authenticated or user.tenant_id is None:
        return queryset.none()
    return queryset.filter(tenant_id=user.tenant_id)


def get_for_user_or_404(queryset, *, user, pk):
    """One row of the user's tenant; another tenant's id is answered like a missing one."""
    try:
        return tenant_scoped(queryset, user).get(pk=pk)
    except (queryset.model.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def unit_subtree(unit: Unit):
    """The unit and every unit under it: one indexed prefix query on the path."""
    return Unit.objects.filter(tenant_id=unit.tenant_id, path__startswith=unit.path)


def assignments_on(on: date, *, tenant_id):
    """Assignments in force on a date."""
    return Assignment.objects.filter(tenant_id=tenant_id, start_date__lte=on).filter(
        Q(end_date__isnull=True) | Q(end_date__gte=on)
    )


def assignments_between(start: date, end: date, *, tenant_id):
    """Assignments that overlap the dates [start, end], e.g. a quarter."""
    return Assignment.objects.filter(tenant_id=tenant_id, start_date__lte=end).filter(
        Q(end_date__isnull=True) | Q(end_date__gte=start)
    )


def unit_cadres(unit: Unit, on: date | None = None):
    """Cadres holding a post in the unit on a date (today by default), with their post."""
    on = on or timezone.localdate()
    return (
        assignments_on(on, tenant_id=unit.tenant_id)
        .filter(position__unit=unit)
        .select_related("cadre", "position")
        .order_by("position__collective_role", "cadre__full_name")
    )
