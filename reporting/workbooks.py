"""Excel workbooks written with openpyxl in write-only mode, row by row from iterators.

The writers take plain rows (tuples), so the same code serves a 50,000-row export and the
benchmark that feeds it rows from memory. Every string is written as text: a name such as
``=HYPERLINK(...)`` typed by a user stays a string and is never stored as a formula.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Font

DATE_FORMAT = "DD/MM/YYYY"
XLSX_MIME_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PROGRESS_EVERY = 1000
_SHEET_TITLE_BAD = re.compile(r"[\[\]:*?/\\]")

Progress = Callable[[int], None]


@dataclass
class Sheet:
    """One worksheet: optional lines above the table, a header row, then the rows."""

    title: str
    header: Sequence[Any] = ()
    rows: Iterable[Sequence[Any]] = ()
    preamble: Sequence[Sequence[Any]] = ()
    widths: Sequence[int] = ()
    tables: list[tuple[Sequence[Any], Iterable[Sequence[Any]]]] = field(default_factory=list)


def safe_sheet_title(title: str, used: set[str]) -> str:
    """A sheet title Excel accepts: 31 characters, none of []:*?/\\, unique in the book."""
    base = _SHEET_TITLE_BAD.sub(" ", str(title)).strip().strip("'") or "Sheet"
    base = base[:31]
    candidate, n = base, 1
    while candidate.lower() in used:
        n += 1
        suffix = f" ({n})"
        candidate = base[: 31 - len(suffix)] + suffix
    used.add(candidate.lower())
    return candidate


class _CellMaker:
    """Turns Python values into what a write-only sheet takes, strings always as text."""

    def __init__(self, worksheet):
        self.worksheet = worksheet
        self.bold = Font(bold=True)

    def text(self, value: str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
        if value.startswith("="):
            # openpyxl would store it as a formula; force the string type instead.
            cell = WriteOnlyCell(self.worksheet, value=value)
            cell.data_type = "s"
            return cell
        return value

    def value(self, value: Any):
        if value is None or isinstance(value, bool | int | float | Decimal):
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Promise):
            return self.text(str(value))
        if isinstance(value, datetime):
            if timezone.is_aware(value):
                value = timezone.localtime(value).replace(tzinfo=None)
            cell = WriteOnlyCell(self.worksheet, value=value)
            cell.number_format = DATE_FORMAT + " hh:mm"
            return cell
        if isinstance(value, date):
            cell = WriteOnlyCell(self.worksheet, value=value)
            cell.number_format = DATE_FORMAT
            return cell
        return self.text(str(value))

    def row(self, values: Sequence[Any]) -> list:
        return [self.value(v) for v in values]

    def header(self, values: Sequence[Any]) -> list:
        cells = []
        for value in values:
            cell = self.value(value)
            if not isinstance(cell, Cell):
                cell = WriteOnlyCell(self.worksheet, value=cell)
            cell.font = self.bold
            cells.append(cell)
        return cells


def _counted(rows: Iterable, progress: Progress | None, start: int) -> Iterator:
    count = start
    for row in rows:
        yield row
        count += 1
        if progress is not None and count % PROGRESS_EVERY == 0:
            progress(count)


def write_workbook(target, sheets: Iterable[Sheet], progress: Progress | None = None) -> int:
    """Write the sheets to ``target`` (a path or a binary file); returns the rows written."""
    workbook = Workbook(write_only=True)
    used: set[str] = set()
    written = 0
    for sheet in sheets:
        worksheet = workbook.create_sheet(safe_sheet_title(sheet.title, used))
        for index, width in enumerate(sheet.widths):
            worksheet.column_dimensions[_column_letter(index)].width = width
        make = _CellMaker(worksheet)
        for line in sheet.preamble:
            worksheet.append(make.row(line))
        if sheet.preamble:
            worksheet.append([])
        tables = [(sheet.header, sheet.rows), *sheet.tables]
        for number, (header, rows) in enumerate(tables):
            if number:
                worksheet.append([])
            if header:
                worksheet.append(make.header(header))
            for row in _counted(rows, progress, written):
                worksheet.append(make.row(row))
                written += 1
    workbook.save(target)
    return written


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


# --- The unit's quarterly summary -------------------------------------------------------------


def summary_sheets(
    *,
    title: str,
    header: Sequence[Any],
    rows: Iterable[Sequence[Any]],
    quota_groups: Sequence = (),
    collectives: Sequence = (),
) -> Iterator[Sheet]:
    """The summary sheet, one sheet per quota group, and the collectives' sheet."""
    yield Sheet(
        title=_("Summary"),
        preamble=[(title,)],
        header=header,
        rows=rows,
        widths=(6, 12, 28, 24, 14, 18, 8, 8, 10, 10, 16, 10, 16, 16, 16, 28, 40),
    )
    for group in quota_groups:
        check = group.check
        yield Sheet(
            title=_("Quota %(unit)s") % {"unit": group.unit_code or group.unit_name},
            preamble=[
                (_("Excellent quota (R9)"), group.unit_name),
                (_("Quota (%)"), group.percent),
                (_("Good decided"), group.good),
                (_("Excellent allowed"), check.quota),
                (_("Excellent decided"), group.excellent),
                (_("Excellent proposed"), group.proposed_excellent),
                (_("Within the quota"), _("Yes") if check.within_quota else _("No")),
                *[(_("Reason"), reason.message) for reason in check.reasons],
            ],
            header=(
                _("Staff code"),
                _("Full name"),
                _("Role in the collective"),
                _("Quota"),
                _("Vetted score"),
                _("Proposed grade"),
                _("Decided grade"),
            ),
            rows=group.members,
            widths=(14, 28, 16, 26, 12, 16, 16),
        )
    target_rows = []
    summary_rows = []
    for collective in collectives:
        result = collective.result
        summary_rows.append(
            (
                collective.unit_name,
                result.assigned if result else None,
                result.done if result else None,
                result.excused if result else None,
                result.percent if result else None,
                result.threshold_percent if result else None,
                (_("Yes") if result.below_threshold else _("No")) if result else "",
                collective.graded_at,
                " ".join(r.message for r in result.reasons) if result else "",
            )
        )
        for target in collective.targets:
            target_rows.append(
                (
                    collective.unit_name,
                    target.title,
                    target.assigned_by,
                    target.get_status_display(),
                    _("Yes") if target.force_majeure_confirmed else "",
                    target.force_majeure_reason,
                )
            )
    yield Sheet(
        title=_("Collective"),
        header=(
            _("Unit"),
            _("Targets counted"),
            _("Done"),
            _("Excused"),
            _("Completion (%)"),
            _("Threshold (%)"),
            _("Under the threshold"),
            _("Graded on"),
            _("Reasons (R8)"),
        ),
        rows=summary_rows,
        tables=[
            (
                (
                    _("Unit"),
                    _("Target"),
                    _("Assigned by"),
                    _("Result"),
                    _("Force majeure confirmed"),
                    _("Force majeure reason"),
                ),
                target_rows,
            )
        ],
        widths=(28, 40, 20, 14, 12, 12, 12, 16, 60),
    )


# --- The tenant's report to the level above (R16) ---------------------------------------------


def tenant_report_sheets(report, *, tenant) -> Iterator[Sheet]:
    """The report's sheets, from a ``reporting.selectors.TenantReport``."""
    from evaluation.rules import Grade

    grades = list(Grade)
    period = report.period
    totals = report.totals
    yield Sheet(
        title=_("Report"),
        preamble=[
            (_("Quarterly report to the level above (R16)"),),
            (_("Organisation"), tenant.name),
            (_("Parent body"), tenant.parent_body),
            (_("Quarter"), str(period)),
            (_("Due by"), report.deadline),
            (_("Drawn up on"), report.on),
            (_("On time"), _("No") if report.lateness.value else _("Yes")),
            (_("Reason"), " ".join(r.message for r in report.lateness.reasons)),
        ],
        header=(_("Figure"), _("Count")),
        rows=[
            (_("Evaluations"), sum(u.total for u in report.units)),
            *[(grade.label, totals[grade]) for grade in grades],
            (_("Not decided yet"), sum(u.undecided for u in report.units)),
            (_("Deferred"), len(report.deferrals)),
            (_("Late units"), len({(u.code) for u in report.late})),
            (_("Replacement flags (R15)"), len(report.flags)),
            (_("Reassignment considered by the authority"), len(report.reassignments)),
            (_("Proposals above the decision (R17)"), len(report.discrepancies)),
        ],
        widths=(44, 40),
    )
    yield Sheet(
        title=_("By unit"),
        header=(
            _("Unit code"),
            _("Unit"),
            _("Evaluations"),
            *[grade.label for grade in grades],
            _("Deferred"),
            _("Not decided yet"),
        ),
        rows=(
            (u.code, u.name, u.total, *[u.grades[g] for g in grades], u.deferred, u.undecided)
            for u in report.units
        ),
        widths=(12, 36, 12, 14, 14, 14, 16, 12, 16),
    )
    yield Sheet(
        title=_("By quota group"),
        header=(
            _("Unit code"),
            _("Quota group"),
            _("Quota (%)"),
            _("Good decided"),
            _("Excellent allowed"),
            _("Excellent decided"),
            _("Excellent proposed"),
            _("Within the quota"),
        ),
        rows=(
            (
                g.unit_code,
                g.unit_name,
                g.percent,
                g.good,
                g.check.quota,
                g.excellent,
                g.proposed_excellent,
                _("Yes") if g.check.within_quota else _("No"),
            )
            for g in report.groups
        ),
        widths=(12, 36, 10, 14, 16, 16, 16, 14),
    )
    yield Sheet(
        title=_("Late units"),
        header=(
            _("Unit code"),
            _("Unit"),
            _("Overdue step"),
            _("Deadline"),
            _("Evaluations"),
            _("Days late"),
        ),
        rows=((u.code, u.name, u.step, u.deadline, u.late, u.days) for u in report.late),
        widths=(12, 36, 24, 12, 12, 10),
    )
    yield Sheet(
        title=_("Deferrals"),
        header=(_("Staff code"), _("Full name"), _("Unit"), _("Case"), _("Reason")),
        rows=report.deferrals,
        widths=(12, 28, 30, 10, 60),
    )
    yield Sheet(
        title=_("Replacement flags"),
        header=(_("Staff code"), _("Full name"), _("Grades, quarter by quarter"), _("Reason")),
        rows=(
            (f.code, f.full_name, " → ".join(f.grades), " ".join(r.message for r in f.reasons))
            for f in report.flags
        ),
        tables=[
            (
                (
                    _("Staff code"),
                    _("Full name"),
                    _("Unit"),
                    _("Decided grade"),
                    _("Comment of the managing authority"),
                ),
                report.reassignments,
            )
        ],
        widths=(12, 28, 40, 60, 40),
    )
    yield Sheet(
        title=_("Discrepancies"),
        header=(
            _("Staff code"),
            _("Full name"),
            _("Unit"),
            _("Proposer"),
            _("Head of the unit"),
            _("Proposed grade"),
            _("Decided grade"),
        ),
        rows=report.discrepancies,
        widths=(12, 28, 30, 28, 28, 16, 16),
    )
