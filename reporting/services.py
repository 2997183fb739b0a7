"""Writes of the reporting app: exports requested and built, and the organisation import."""

from __future__ import annotations

import logging
import tempfile
import zipfile
from collections.abc import Callable
from functools import partial

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import transaction
from django.http import Http404
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext as _

from cadres import services as cadre_services
from cadres.models import Unit, User
from evaluation.models import EvaluationState, Period
from evaluation.permissions import Action, can
from reporting import imports, pdf, selectors, workbooks
from reporting.models import Export

logger = logging.getLogger(__name__)

KINDS_WITH_UNIT = (Export.Kind.UNIT_SUMMARY, Export.Kind.FORM5_BATCH)


# --- Exports ----------------------------------------------------------------------------------


def _check_export(user: User, kind: str, period: Period, unit: Unit | None) -> None:
    """Raise PermissionDenied unless the user may make this export now."""
    if user.tenant_id is None or period.tenant_id != user.tenant_id:
        raise PermissionDenied(_("You may not export this organisation's data."))
    if kind in KINDS_WITH_UNIT:
        if unit is None or unit.tenant_id != user.tenant_id or not selectors.may_export(user, unit):
            raise PermissionDenied(
                _(
                    "Only the organisation department, the managing authority "
                    "or the administrator of this unit may export it."
                )
            )
    elif not selectors.export_scope(user):
        raise PermissionDenied(
            _(
                "Only the organisation department, the managing authority or "
                "an administrator may draw up the report."
            )
        )


@transaction.atomic
def export_request(*, user: User, kind: str, period: Period, unit: Unit | None = None) -> Export:
    """Record an export and start its job once the transaction commits."""
    if kind not in Export.Kind.values:
        raise ValidationError({"kind": _("Choose a kind of export.")})
    _check_export(user, kind, period, unit)
    parameters = {"period": period.pk, "language": translation.get_language() or ""}
    if kind in KINDS_WITH_UNIT:
        parameters["unit"] = unit.pk
    export = Export.objects.create(
        tenant_id=user.tenant_id, kind=kind, parameters=parameters, created_by=user
    )
    transaction.on_commit(partial(_send, export.pk))
    return export


def _send(export_id: int) -> None:
    from reporting.tasks import run_export

    try:
        run_export.delay(export_id)
    except Exception:
        # The request has committed; a broker error must not turn it into a 500.
        logger.exception("Could not queue export %s", export_id)
        Export.objects.filter(pk=export_id, status=Export.Status.PENDING).update(
            status=Export.Status.FAILED,
            error=_("The export could not be queued; try again later."),
            finished_at=timezone.now(),
        )


class _Progress:
    """Writes the share done to the export row, only when it moves by a whole percent."""

    def __init__(self, export_id: int, total: int, ceiling: int = 95):
        self.export_id, self.total, self.ceiling, self.last = export_id, max(total, 1), ceiling, -1

    def __call__(self, done: int) -> None:
        percent = min(self.ceiling, done * self.ceiling // self.total)
        if percent != self.last:
            self.last = percent
            Export.objects.filter(pk=self.export_id).update(progress=percent)


def _objects(export: Export) -> tuple[Period, Unit | None]:
    tenant_id = export.tenant_id
    try:
        period = Period.objects.select_related("tenant").get(
            pk=export.parameters.get("period"), tenant_id=tenant_id
        )
        unit = None
        if export.kind in KINDS_WITH_UNIT:
            unit = Unit.objects.get(pk=export.parameters.get("unit"), tenant_id=tenant_id)
    except (Period.DoesNotExist, Unit.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
    return period, unit


def _build_unit_summary(export: Export, target, period: Period, unit: Unit) -> str:
    progress = _Progress(export.pk, selectors.summary_count(unit, period))
    title = _("Quarterly summary of %(unit)s, %(period)s") % {"unit": unit.name, "period": period}
    workbooks.write_workbook(
        target,
        workbooks.summary_sheets(
            title=title,
            header=selectors.summary_header(),
            rows=selectors.summary_rows(unit, period),
            quota_groups=selectors.quota_groups([unit], period),
            collectives=selectors.collectives([unit], period),
        ),
        progress=progress,
    )
    name = slugify(_("quarterly summary")) or "summary"
    return f"{name}_{slugify(unit.code)}_Q{period.quarter}-{period.year}.xlsx"


def _build_tenant_report(export: Export, target, period: Period, unit: None) -> str:
    scope = selectors.export_scope(export.created_by)
    Export.objects.filter(pk=export.pk).update(progress=10)
    report = selectors.tenant_report(period, scope)
    Export.objects.filter(pk=export.pk).update(progress=60)
    workbooks.write_workbook(target, workbooks.tenant_report_sheets(report, tenant=period.tenant))
    name = slugify(_("report to the level above")) or "report"
    return f"{name}_Q{period.quarter}-{period.year}.xlsx"


def _build_form5_batch(export: Export, target, period: Period, unit: Unit) -> str:
    user = export.created_by
    evaluations = [
        e
        for e in selectors.scope_evaluations(period, [unit])
        .exclude(state=EvaluationState.DEFERRED)
        .select_related("cadre", "unit", "period", "vetted_by", "proposed_by", "decided_by")
        .prefetch_related("tasks", "criterion_scores")
        .order_by("unit__path", "cadre__full_name", "pk")
        if can(user, Action.VIEW, e)
    ]
    if not evaluations:
        raise ValidationError(_("There is no Form 5 you may view in this unit for the quarter."))
    progress = _Progress(export.pk, len(evaluations))
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for done, evaluation in enumerate(evaluations, start=1):
            evaluation.tenant = period.tenant  # one object: the rule set is read once
            archive.writestr(pdf.form5_filename(evaluation), pdf.render_form5(evaluation))
            progress(done)
    name = slugify(_("Form 5")) or "form-5"
    return f"{name}_{slugify(unit.code)}_Q{period.quarter}-{period.year}.zip"


BUILDERS: dict[str, Callable] = {
    Export.Kind.UNIT_SUMMARY: _build_unit_summary,
    Export.Kind.TENANT_REPORT: _build_tenant_report,
    Export.Kind.FORM5_BATCH: _build_form5_batch,
}


def _fail(export: Export, message: str) -> Export:
    export.status = Export.Status.FAILED
    export.error = message
    export.finished_at = timezone.now()
    export.save(update_fields=["status", "error", "finished_at"])
    return export


def export_run(*, export_id: int) -> Export | None:
    """Build the export's file; a finished export is left as it is (the job is idempotent)."""
    with transaction.atomic():
        export = (
            Export.objects.select_for_update()
            .select_related("created_by", "tenant")
            .filter(pk=export_id)
            .first()
        )
        if export is None:
            logger.warning("Export %s no longer exists", export_id)
            return None
        if export.status == Export.Status.DONE:
            return export
        export.status, export.progress, export.error = Export.Status.RUNNING, 0, ""
        export.save(update_fields=["status", "progress", "error"])
    language = export.parameters.get("language") or None
    with translation.override(language):
        try:
            period, unit = _objects(export)
            # Roles may have changed since the request: check again with today's grants.
            _check_export(export.created_by, export.kind, period, unit)
            suffix = ".zip" if export.kind == Export.Kind.FORM5_BATCH else ".xlsx"
            with tempfile.TemporaryFile(suffix=suffix) as target:
                filename = BUILDERS[export.kind](export, target, period, unit)
                target.seek(0)
                export.file.save(filename, File(target), save=False)
        except (PermissionDenied, Http404):
            return _fail(export, _("You may no longer make this export."))
        except pdf.PdfUnavailable as exc:
            return _fail(export, str(exc))
        except ValidationError as exc:
            return _fail(export, " ".join(exc.messages))
        except Exception:
            logger.exception("Export %s failed", export.pk)
            return _fail(export, _("The export failed. Try again, or tell the administrator."))
    export.filename = filename
    export.status = Export.Status.DONE
    export.progress = 100
    export.finished_at = timezone.now()
    export.save(update_fields=["file", "filename", "status", "progress", "finished_at"])
    return export


# --- Import -----------------------------------------------------------------------------------


def organisation_import(*, actor: User, upload) -> dict[str, int]:
    """Import units, cadres, assignments and absences from a workbook: all rows or none.

    Raises ``imports.ImportRefused`` with every problem found, by sheet, row and column.
    """
    scope = selectors.export_scope(actor)
    if actor.tenant_id is None or not scope:
        raise PermissionDenied(
            _(
                "Only the organisation department, the managing authority or "
                "an administrator may import."
            )
        )
    if upload.size > imports.MAX_UPLOAD_BYTES:
        raise imports.ImportRefused(
            [
                imports.RowError(
                    _("The file is larger than %(mb)s MB.") % {"mb": imports.MAX_UPLOAD_BYTES >> 20}
                )
            ]
        )
    data = upload.read(imports.MAX_UPLOAD_BYTES + 1)
    parsed = imports.read_workbook(data)
    plan = imports.check_rows(parsed, tenant=actor.tenant, scope=scope)
    if plan.errors:
        raise imports.ImportRefused(plan.errors)
    current = None
    try:
        with transaction.atomic():
            units, cadres, posts = {}, {}, {}
            for current in plan.units:
                parent = current["parent"]
                if isinstance(parent, dict):
                    parent = units[parent["code"]]
                units[current["code"]] = cadre_services.unit_create(
                    tenant=actor.tenant,
                    name=current["name"],
                    code=current["code"],
                    kind=current["kind"],
                    parent=parent,
                    actor=actor,
                )
            for current in plan.cadres:
                fields = {k: v for k, v in current.items() if k != "row" and v is not None}
                cadres[current["code"]] = cadre_services.cadre_create(
                    tenant=actor.tenant, actor=actor, **fields
                )

            def resolve(value, created):
                return created[value["code"]] if isinstance(value, dict) else value

            for current in plan.assignments:
                unit = resolve(current["unit"], units)
                post = current["post"] or posts.get((unit.pk, current["title"]))
                if post is None:
                    post = cadre_services.position_create(
                        unit=unit,
                        title=current["title"],
                        kind=current["kind"],
                        collective_role=current["collective_role"],
                    )
                    posts[(unit.pk, current["title"])] = post
                cadre_services.assignment_create(
                    cadre=resolve(current["cadre"], cadres),
                    position=post,
                    start_date=current["start_date"],
                    end_date=current["end_date"],
                    note=current["note"],
                    actor=actor,
                )
            for current in plan.absences:
                cadre_services.absence_create(
                    cadre=resolve(current["cadre"], cadres),
                    kind=current["kind"],
                    start_date=current["start_date"],
                    end_date=current["end_date"],
                    reason=current["reason"],
                    actor=actor,
                )
            cadre_services.audit(
                tenant_id=actor.tenant_id,
                actor=actor,
                action="import",
                obj=actor.tenant,
                detail=plan.counts,
            )
    except ValidationError as exc:
        # A check the plan could not foresee (e.g. a concurrent change): nothing is kept.
        row = current["row"] if current else None
        raise imports.ImportRefused(
            [
                imports.RowError(message, row.sheet if row else "", row.row if row else None)
                for message in exc.messages
            ]
        ) from exc
    return plan.counts
