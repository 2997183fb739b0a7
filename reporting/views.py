"""Screens of the reports: thin views that check access, call a selector or a service, render."""

import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cadres.models import Unit
from cadres.selectors import get_for_user_or_404
from reporting import imports, pdf, selectors, services, workbooks
from reporting.forms import ExportForm, ImportForm
from reporting.models import Export

# A dashboard's figures may be this many seconds old; the page says when they were computed.
DASHBOARD_SECONDS = 60


def _period(request):
    """The quarter asked for in ?period=, else the latest open one; another tenant's is a 404."""
    pk = request.GET.get("period")
    if pk:
        return selectors.period_for_user_or_404(request.user, pk)
    return selectors.default_period(request.user)


def _require_export_role(user):
    if not selectors.export_scope(user):
        raise PermissionDenied(
            _(
                "Only the organisation department, the managing authority or an administrator "
                "may export or import."
            )
        )


@require_GET
@login_required
def index(request):
    user = request.user
    period = _period(request)
    context = {
        "period": period,
        "periods": selectors.periods_of(user),
        "units": selectors.units_for_index(user),
        "export_units": selectors.units_for_index(user, export=True),
        "exports": selectors.exports_of(user),
        "export_kinds": Export.Kind.choices,
        "is_central": user.is_central_observer,
        "has_dashboard": bool(selectors.dashboard_scope(user)),
    }
    return render(request, "reporting/index.html", context)


def _dashboard_page(request, period, units, *, title: str, per_cadre: bool, children):
    """A dashboard page whose figures come from a cache of one minute.

    The access checks are done before this is called; the entry is keyed by the tenant, the
    period and the scope's units, so a user only ever reads the figures of a scope they may
    see. What is cached is the rendered HTML of the sections: a hit does no query and no
    template work for them. The page says when the figures were computed."""
    on = timezone.localdate()
    key = selectors.dashboard_cache_key(
        period, units, per_cadre=per_cadre, on=on, language=get_language()
    )
    board = None
    sections = cache.get(key)
    if sections is None:
        board = selectors.dashboard(period, units, title=title, per_cadre=per_cadre, on=on)
        sections = render_to_string(
            "reporting/_board.html", {"board": board, "computed_at": timezone.localtime()}
        )
        cache.set(key, sections, DASHBOARD_SECONDS)
    return render(
        request,
        "reporting/dashboard.html",
        {
            "title": title,
            "period": period,
            "on": on,
            "sections": mark_safe(sections),  # rendered and escaped by the template above
            "board": board,  # only when computed by this request
            "children": children,
            "periods": selectors.periods_of(request.user),
        },
    )


@require_GET
@login_required
def unit_dashboard(request, pk):
    unit = selectors.unit_for_dashboard_or_404(request.user, pk)
    period = _period(request)
    if period is None:
        raise Http404
    return _dashboard_page(
        request,
        period,
        [unit],
        title=_("Dashboard of %(unit)s") % {"unit": unit.name},
        per_cadre=True,
        children=Unit.objects.filter(tenant_id=unit.tenant_id, parent=unit).order_by("path"),
    )


@require_GET
@login_required
def tenant_dashboard(request):
    scope = selectors.dashboard_scope(request.user)
    if not scope:
        raise PermissionDenied(_("You hold no role over any unit."))
    period = _period(request)
    if period is None:
        raise Http404
    return _dashboard_page(
        request,
        period,
        scope,
        title=_("Dashboard of %(tenant)s") % {"tenant": request.user.tenant.name},
        per_cadre=False,
        children=scope,
    )


@require_GET
@login_required
def central_dashboard(request):
    if not request.user.is_central_observer:
        raise Http404
    quarters = selectors.central_quarters()
    chosen = request.GET.get("quarter")
    if chosen:
        try:
            year, quarter = (int(part) for part in chosen.split("-"))
        except ValueError:
            raise Http404 from None
        if (year, quarter) not in quarters:
            raise Http404
    elif quarters:
        year, quarter = quarters[0]
    else:
        return render(request, "reporting/central.html", {"board": None, "quarters": []})
    board = selectors.central_dashboard(year, quarter)
    return render(
        request,
        "reporting/central.html",
        {"board": board, "quarters": quarters, "chosen": (year, quarter)},
    )


@require_GET
@login_required
def form5_pdf(request, pk):
    evaluation = selectors.evaluation_for_form5(request.user, pk)
    try:
        content = pdf.render_form5(evaluation)
    except pdf.PdfUnavailable as exc:
        return render(request, "reporting/pdf_unavailable.html", {"message": str(exc)}, status=503)
    response = HttpResponse(content, content_type=pdf.PDF_MIME_TYPE)
    response["Content-Disposition"] = f'inline; filename="{pdf.form5_filename(evaluation)}"'
    return response


@require_POST
@login_required
def export_create(request):
    _require_export_role(request.user)
    form = ExportForm(request.POST)
    if not form.is_valid():
        return render(request, "reporting/export_invalid.html", {"form": form}, status=400)
    period = selectors.period_for_user_or_404(request.user, form.cleaned_data["period"])
    unit = None
    if form.cleaned_data["unit"]:
        unit = get_for_user_or_404(
            Unit.objects.all(), user=request.user, pk=form.cleaned_data["unit"]
        )
    export = services.export_request(
        user=request.user, kind=form.cleaned_data["kind"], period=period, unit=unit
    )
    return redirect("reporting:export_detail", pk=export.pk)


@require_GET
@login_required
def export_detail(request, pk):
    export = selectors.export_for_user_or_404(request.user, pk)
    if request.htmx:
        return render(request, "reporting/_export_status.html", {"export": export})
    return render(request, "reporting/export_detail.html", {"export": export})


@require_GET
@login_required
def export_download(request, pk):
    export = selectors.export_for_user_or_404(request.user, pk)
    if export.status != Export.Status.DONE or not export.file:
        raise Http404
    content_type = (
        "application/zip" if export.filename.endswith(".zip") else workbooks.XLSX_MIME_TYPE
    )
    return FileResponse(
        export.file.open("rb"),
        as_attachment=True,
        filename=export.filename,
        content_type=content_type,
    )


@require_GET
@login_required
def import_template(request):
    _require_export_role(request.user)
    buffer = io.BytesIO()
    imports.write_template(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=workbooks.XLSX_MIME_TYPE)
    response["Content-Disposition"] = 'attachment; filename="import-template.xlsx"'
    return response


@require_http_methods(["GET", "POST"])
@login_required
def import_upload(request):
    _require_export_role(request.user)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            counts = services.organisation_import(
                actor=request.user, upload=form.cleaned_data["file"]
            )
        except imports.ImportRefused as refused:
            errors = list(imports.iter_errors(refused.errors))
            return render(
                request,
                "reporting/import.html",
                {
                    "form": ImportForm(),
                    "errors": errors[: imports.MAX_ERRORS],
                    "more_errors": max(0, len(errors) - imports.MAX_ERRORS),
                },
                status=400,
            )
        messages.success(
            request,
            _(
                "Imported %(units)s units, %(cadres)s cadres, %(assignments)s assignments and "
                "%(absences)s absences."
            )
            % counts,
        )
        return redirect("reporting:import")
    status = 400 if request.method == "POST" else 200
    return render(request, "reporting/import.html", {"form": form}, status=status)
