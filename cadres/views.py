"""Screens of the organisation: a unit's page for role holders, and the tenant administrator's
screens for units, posts, cadres, assignments, absences and role grants.

An administrator's grant on a unit covers its subtree: they manage the units, posts and
grants under it. Accounts themselves stay in the Django admin, where the tenant scoping of
``cadres.admin`` applies.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cadres import services
from cadres.forms import (
    AssignByCodeForm,
    CadreAbsenceForm,
    CadreForm,
    CadreSearchForm,
    PositionForm,
    RoleGrantForm,
    RoleRevokeForm,
    UnitForm,
    UnitMoveForm,
    indented,
    service_errors,
)
from cadres.models import Assignment, Cadre, Position, Unit, UnitUserPermission
from cadres.roles import Role, covered_units, covers, granted_units, subtree_q
from cadres.selectors import assignments_on, get_for_user_or_404, unit_cadres, unit_subtree


def _attempt(form, call) -> int:
    try:
        call()
    except ValidationError as exc:
        service_errors(form, exc)
        return 400
    return 200


def _administrator(user) -> None:
    if user.tenant_id is None or not granted_units(user, Role.ADMINISTRATOR):
        raise PermissionDenied(_("Only the tenant administrator manages the organisation."))


def _administered_units(user):
    return covered_units(user, Role.ADMINISTRATOR).order_by("path")


def _may_add_root(user) -> bool:
    return any(unit.depth == 0 for unit in granted_units(user, Role.ADMINISTRATOR))


def _administered_unit(user, pk) -> Unit:
    unit = get_for_user_or_404(Unit.objects.all(), user=user, pk=pk)
    if not covers(user, Role.ADMINISTRATOR, unit):
        raise Http404
    return unit


def _current_assignments():
    today = timezone.localdate()
    return (
        Assignment.objects.filter(start_date__lte=today)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
        .select_related("cadre", "position__unit")
        .order_by("-start_date")
    )


# ---------------------------------------------------------------------------------------------
# A unit's page


def _unit_context(user, unit, **forms) -> dict:
    context = {
        "unit": unit,
        "children": unit_subtree(unit).filter(depth=unit.depth + 1),
        "cadres": unit_cadres(unit),
        "may_administer": covers(user, Role.ADMINISTRATOR, unit),
    }
    if context["may_administer"]:
        positions = list(
            unit.positions.prefetch_related(
                Prefetch("assignments", queryset=_current_assignments(), to_attr="current")
            ).order_by("title")
        )
        bound_form = forms.get("assign_form")
        for position in positions:
            # Each post has its own form, with its own field ids.
            if bound_form is not None and bound_form.prefix == f"p{position.pk}":
                position.assign_form = bound_form
            else:
                position.assign_form = AssignByCodeForm(
                    prefix=f"p{position.pk}", tenant=user.tenant
                )
        context["positions"] = positions
        context["position_form"] = forms.get("position_form") or PositionForm()
    return context


@login_required
def unit_detail(request, pk):
    """A unit, its sub-units and its cadres, for anyone holding a role over it."""
    unit = get_for_user_or_404(Unit.objects.all(), user=request.user, pk=pk)
    if not any(covers(request.user, role, unit) for role in Role):
        raise Http404
    return render(request, "cadres/unit_detail.html", _unit_context(request.user, unit))


@login_required
@require_POST
def position_create(request, pk):
    _administrator(request.user)
    unit = _administered_unit(request.user, pk)
    form = PositionForm(request.POST)
    status = 400
    if form.is_valid():
        status = _attempt(form, lambda: services.position_create(unit=unit, **form.cleaned_data))
        if status == 200:
            messages.success(request, _("The post is added."))
            return redirect("unit_detail", pk=unit.pk)
    context = _unit_context(request.user, unit, position_form=form)
    return render(request, "cadres/unit_detail.html", context, status=status)


@login_required
@require_POST
def assign(request, pk):
    """Put a cadre, found by staff code, in a post of a unit the administrator covers."""
    _administrator(request.user)
    position = get_for_user_or_404(
        Position.objects.select_related("unit"), user=request.user, pk=pk
    )
    if not covers(request.user, Role.ADMINISTRATOR, position.unit):
        raise Http404
    form = AssignByCodeForm(request.POST, prefix=f"p{position.pk}", tenant=request.user.tenant)
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        status = _attempt(
            form,
            lambda: services.assignment_create(
                cadre=data["cadre"],
                position=position,
                start_date=data["start_date"],
                end_date=data["end_date"],
                note=data["note"],
                actor=request.user,
            ),
        )
        if status == 200:
            messages.success(
                request,
                _("%(name)s now holds the post %(post)s.")
                % {"name": data["cadre"].full_name, "post": position.title},
            )
            return redirect("unit_detail", pk=position.unit_id)
    context = _unit_context(request.user, position.unit, assign_form=form)
    return render(request, "cadres/unit_detail.html", context, status=status)


# ---------------------------------------------------------------------------------------------
# Tenant administrator


@login_required
def admin_index(request):
    _administrator(request.user)
    return render(
        request,
        "cadres/admin_index.html",
        {"units": granted_units(request.user, Role.ADMINISTRATOR)},
    )


@login_required
def admin_units(request):
    """The unit tree under the administrator's grants, and a form to add a unit."""
    _administrator(request.user)
    user = request.user
    units = _administered_units(user)
    tree = list(units)
    form = UnitForm(request.POST or None, units=units, may_add_root=_may_add_root(user))
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            status = _attempt(
                form,
                lambda: services.unit_create(tenant=user.tenant, actor=user, **form.cleaned_data),
            )
            if status == 200:
                messages.success(
                    request, _("The unit %(name)s is added.") % {"name": form.cleaned_data["name"]}
                )
                return redirect("admin_units")
    return render(
        request,
        "cadres/admin_units.html",
        {
            "units": tree,
            "form": form,
            # One list of choices for every row's "move" select, built once.
            "move_choices": ([("", _("— top level —"))] if _may_add_root(user) else [])
            + [(unit.pk, indented(unit)) for unit in tree],
        },
        status=status,
    )


@login_required
@require_POST
def admin_unit_move(request, pk):
    _administrator(request.user)
    user = request.user
    unit = _administered_unit(user, pk)
    units = _administered_units(user)
    form = UnitMoveForm(request.POST, units=units, may_add_root=_may_add_root(user))
    if form.is_valid():
        try:
            services.unit_move(unit=unit, new_parent=form.cleaned_data["parent"], actor=user)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("The unit %(name)s is moved.") % {"name": unit.name})
    else:
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
    return redirect("admin_units")


@login_required
def admin_cadres(request):
    """The tenant's cadres with their current post; search, and add a cadre."""
    _administrator(request.user)
    user = request.user
    search = CadreSearchForm(request.GET)
    cadres = Cadre.objects.for_tenant(user.tenant_id).prefetch_related(
        Prefetch("assignments", queryset=_current_assignments(), to_attr="current")
    )
    if search.is_valid() and search.cleaned_data["q"]:
        q = search.cleaned_data["q"]
        cadres = cadres.filter(Q(full_name__icontains=q) | Q(code__iexact=q))
    form = CadreForm(request.POST or None, tenant=user.tenant)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            outcome = {}

            def create():
                outcome["cadre"] = services.cadre_create(
                    tenant=user.tenant, actor=user, **form.service_fields()
                )

            status = _attempt(form, create)
            if status == 200:
                messages.success(
                    request,
                    _("%(name)s is added. Put them in a post from the unit's page.")
                    % {"name": outcome["cadre"].full_name},
                )
                return redirect("admin_cadre_detail", pk=outcome["cadre"].pk)
    page = Paginator(cadres.order_by("full_name", "pk"), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "cadres/admin_cadres.html",
        {
            "page": page,
            "search": search,
            "form": form,
            "search_query": "&" + urlencode({"q": request.GET["q"]})
            if request.GET.get("q")
            else "",
        },
        status=status,
    )


@login_required
def admin_cadre_detail(request, pk):
    """One cadre: posts held over time and absences; record an absence (R11)."""
    _administrator(request.user)
    user = request.user
    cadre = get_for_user_or_404(Cadre.objects.select_related("user"), user=user, pk=pk)
    form = CadreAbsenceForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            status = _attempt(
                form,
                lambda: services.absence_create(cadre=cadre, actor=user, **form.cleaned_data),
            )
            if status == 200:
                messages.success(request, _("The absence is recorded."))
                return redirect("admin_cadre_detail", pk=cadre.pk)
    return render(
        request,
        "cadres/admin_cadre_detail.html",
        {
            "cadre": cadre,
            "assignments": cadre.assignments.select_related("position__unit").order_by(
                "-start_date"
            ),
            "absences": cadre.absences.order_by("-start_date"),
            "current": assignments_on(timezone.localdate(), tenant_id=cadre.tenant_id)
            .filter(cadre=cadre)
            .exists(),
            "form": form,
        },
        status=status,
    )


def _grants(user):
    units = granted_units(user, Role.ADMINISTRATOR)
    return (
        UnitUserPermission.objects.filter(
            content_object__tenant_id=user.tenant_id,
            permission__content_type__app_label="cadres",
            permission__codename__in=Role.values,
        )
        .filter(subtree_q(units, prefix="content_object__"))
        .select_related("user", "permission", "content_object")
        .order_by("content_object__path", "permission__codename", "user__username")
    )


@login_required
def admin_roles(request):
    """Who holds which role on which unit; grant and revoke."""
    _administrator(request.user)
    user = request.user
    units = _administered_units(user)
    form = RoleGrantForm(request.POST or None, tenant=user.tenant, units=units)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            status = _attempt(
                form,
                lambda: services.role_grant(
                    user=data["username"],
                    role=Role(data["role"]),
                    unit=data["unit"],
                    granted_by=user,
                ),
            )
            if status == 200:
                messages.success(
                    request,
                    _("%(user)s now acts as “%(role)s” for %(unit)s.")
                    % {
                        "user": data["username"].username,
                        "role": Role(data["role"]).label,
                        "unit": data["unit"].name,
                    },
                )
                return redirect("admin_roles")
    grants = [(grant, Role(grant.permission.codename).label) for grant in _grants(user)]
    return render(
        request,
        "cadres/admin_roles.html",
        {"grants": grants, "form": form},
        status=status,
    )


@login_required
@require_POST
def admin_role_revoke(request):
    _administrator(request.user)
    form = RoleRevokeForm(request.POST)
    if not form.is_valid():
        raise Http404
    try:
        grant = _grants(request.user).get(pk=form.cleaned_data["grant"])
    except UnitUserPermission.DoesNotExist as exc:
        raise Http404 from exc
    services.role_revoke(
        user=grant.user,
        role=Role(grant.permission.codename),
        unit=grant.content_object,
        revoked_by=request.user,
    )
    messages.success(
        request,
        _("%(user)s no longer acts as “%(role)s” for %(unit)s.")
        % {
            "user": grant.user.username,
            "role": Role(grant.permission.codename).label,
            "unit": grant.content_object.name,
        },
    )
    return redirect("admin_roles")
