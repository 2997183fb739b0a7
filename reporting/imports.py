"""Excel import of units, cadres, assignments and absences: read, check every row, then write.

A hostile file is refused before openpyxl parses it: the upload size, the zip's entries, their
declared sizes and compression ratios are checked with ``zipfile`` first; openpyxl then reads
in read-only mode (defusedxml is installed, so its XML parsing refuses entity tricks) and
stops at a row cap. Nothing is written unless every row of every sheet is valid.
"""

from __future__ import annotations

import io
import zipfile
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl.utils import get_column_letter

from cadres.models import Absence, Assignment, Cadre, Position, Unit
from cadres.roles import subtree_q
from reporting.workbooks import Sheet, write_workbook

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024  # all entries of the zip together
MAX_ENTRY_BYTES = 50 * 1024 * 1024
MAX_RATIO = 100  # uncompressed / compressed, for entries above RATIO_FLOOR
RATIO_FLOOR = 1024 * 1024
MAX_ENTRIES = 500
MAX_ROWS = 5000  # data rows per sheet
MAX_ERRORS = 200


class ImportRefused(Exception):
    """The file or its rows cannot be imported; ``errors`` says where and why."""

    def __init__(self, errors: Sequence[RowError]):
        self.errors = list(errors)
        super().__init__("; ".join(str(e) for e in self.errors[:5]))


@dataclass(frozen=True)
class RowError:
    """One problem, located by sheet, row and column as the user sees them in Excel."""

    message: str
    sheet: str = ""
    row: int | None = None
    column: str = ""  # "C — Full name"

    def __str__(self) -> str:
        if self.sheet and self.row and self.column:
            return _("Sheet “%(sheet)s”, row %(row)s, column %(column)s: %(message)s") % {
                "sheet": self.sheet,
                "row": self.row,
                "column": self.column,
                "message": self.message,
            }
        if self.sheet and self.row:
            return _("Sheet “%(sheet)s”, row %(row)s: %(message)s") % {
                "sheet": self.sheet,
                "row": self.row,
                "message": self.message,
            }
        if self.sheet:
            return _("Sheet “%(sheet)s”: %(message)s") % {
                "sheet": self.sheet,
                "message": self.message,
            }
        return self.message


# --- The layout of the workbook ---------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    label: Any  # lazy translation
    required: bool = False
    max_length: int | None = None


@dataclass(frozen=True)
class SheetLayout:
    key: str
    title: Any
    columns: tuple[Column, ...]


def _max(model, name) -> int:
    return model._meta.get_field(name).max_length


LAYOUTS = (
    SheetLayout(
        "units",
        gettext_lazy("Units"),
        (
            Column("code", gettext_lazy("Unit code"), True, _max(Unit, "code")),
            Column("name", gettext_lazy("Unit name"), True, _max(Unit, "name")),
            Column("kind", gettext_lazy("Kind of unit"), True),
            Column("parent", gettext_lazy("Parent unit code"), True),
        ),
    ),
    SheetLayout(
        "cadres",
        gettext_lazy("Cadres"),
        (
            Column("code", gettext_lazy("Staff code"), True, _max(Cadre, "code")),
            Column("full_name", gettext_lazy("Full name"), True, _max(Cadre, "full_name")),
            Column("date_of_birth", gettext_lazy("Date of birth")),
            Column("party_post", gettext_lazy("Party post"), False, _max(Cadre, "party_post")),
            Column(
                "government_post",
                gettext_lazy("Government post"),
                False,
                _max(Cadre, "government_post"),
            ),
            Column(
                "mass_organisation_post",
                gettext_lazy("Mass-organisation post"),
                False,
                _max(Cadre, "mass_organisation_post"),
            ),
            Column("evaluation_mode", gettext_lazy("Evaluation cycle")),
        ),
    ),
    SheetLayout(
        "assignments",
        gettext_lazy("Assignments"),
        (
            Column("cadre", gettext_lazy("Staff code"), True),
            Column("unit", gettext_lazy("Unit code"), True),
            Column("title", gettext_lazy("Post"), True, _max(Position, "title")),
            Column("kind", gettext_lazy("Kind of post")),
            Column("collective_role", gettext_lazy("Role in the collective")),
            Column("start_date", gettext_lazy("From"), True),
            Column("end_date", gettext_lazy("To")),
            Column("note", gettext_lazy("Note"), False, _max(Assignment, "note")),
        ),
    ),
    SheetLayout(
        "absences",
        gettext_lazy("Absences"),
        (
            Column("cadre", gettext_lazy("Staff code"), True),
            Column("kind", gettext_lazy("Kind of absence"), True),
            Column("start_date", gettext_lazy("From"), True),
            Column("end_date", gettext_lazy("To"), True),
            Column("reason", gettext_lazy("Reason"), False, _max(Absence, "reason")),
        ),
    ),
)
CHOICES = {
    ("units", "kind"): Unit.Kind,
    ("cadres", "evaluation_mode"): Cadre.EvaluationMode,
    ("assignments", "kind"): Position.Kind,
    ("assignments", "collective_role"): Position.CollectiveRole,
    ("absences", "kind"): Absence.Kind,
}
DEFAULTS = {
    ("cadres", "evaluation_mode"): Cadre.EvaluationMode.QUARTERLY,
    ("assignments", "kind"): Position.Kind.LEADERSHIP,
    ("assignments", "collective_role"): Position.CollectiveRole.MEMBER,
}


def _names(label) -> set[str]:
    """A label as the user may have typed it: in the active language or in English."""
    with translation.override("en"):
        english = str(label)
    return {str(label).strip().lower(), english.strip().lower()}


def _choice_lookup(choices) -> dict[str, str]:
    lookup = {}
    for value, label in choices.choices:
        lookup[str(value).lower()] = value
        for name in _names(label):
            lookup[name] = value
    return lookup


# --- The template -----------------------------------------------------------------------------


def write_template(target) -> None:
    """A workbook to fill in: how-to, the allowed values, and one empty sheet per kind of row."""
    notes = [
        (_("How to fill in this workbook"),),
        (_("Fill one row per unit, cadre, assignment or absence; leave a sheet empty if unused."),),
        (_("Dates are written dd/mm/yyyy. Columns marked * are required."),),
        (_("A unit's parent is an existing unit or a unit on an earlier row of the sheet."),),
        (_("Nothing is saved unless every row is valid; the errors name sheet, row and column."),),
        (_("Keep the sheet names and the header rows as they are."),),
    ]
    values = []
    for (sheet_key, column_key), choices in CHOICES.items():
        layout = next(layout for layout in LAYOUTS if layout.key == sheet_key)
        column = next(c for c in layout.columns if c.key == column_key)
        for value, label in choices.choices:
            values.append((str(layout.title), str(column.label), value, str(label)))
    sheets = [
        Sheet(
            title=_("Instructions"),
            preamble=notes,
            header=(_("Sheet"), _("Column"), _("Value"), _("Meaning")),
            rows=values,
            widths=(16, 24, 24, 60),
        )
    ]
    for layout in LAYOUTS:
        sheets.append(
            Sheet(
                title=str(layout.title),
                header=[f"{c.label}{' *' if c.required else ''}" for c in layout.columns],
                widths=[22] * len(layout.columns),
            )
        )
    write_workbook(target, sheets)


# --- Reading the file safely ------------------------------------------------------------------


def check_archive(data: bytes) -> list[RowError]:
    """Refuse what is not a reasonable .xlsx before any XML is parsed."""
    if len(data) > MAX_UPLOAD_BYTES:
        return [RowError(_("The file is larger than %(mb)s MB.") % {"mb": MAX_UPLOAD_BYTES >> 20})]
    not_xlsx = [RowError(_("The file is not an Excel workbook (.xlsx)."))]
    if not zipfile.is_zipfile(io.BytesIO(data)):
        return not_xlsx
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return not_xlsx
    if len(entries) > MAX_ENTRIES:
        return [RowError(_("The workbook holds too many parts to be a plain data file."))]
    names = {entry.filename for entry in entries}
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        return not_xlsx
    total = 0
    for entry in entries:
        total += entry.file_size
        ratio = entry.file_size / max(entry.compress_size, 1)
        if (
            entry.file_size > MAX_ENTRY_BYTES
            or total > MAX_UNCOMPRESSED_BYTES
            or (entry.file_size > RATIO_FLOOR and ratio > MAX_RATIO)
        ):
            return [
                RowError(
                    _(
                        "The workbook unpacks to far more data than its size suggests; it is "
                        "refused as a possible compression bomb."
                    )
                )
            ]
        if entry.filename.startswith(("/", "\\")) or ".." in entry.filename.split("/"):
            return not_xlsx
    return []


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime | date):
        return value.strftime("%d/%m/%Y")
    return str(value).strip()


@dataclass
class ParsedRow:
    sheet: str  # the sheet's title as in the file
    row: int
    values: dict[str, Any]
    layout: SheetLayout

    def column(self, key: str) -> str:
        index = next(i for i, c in enumerate(self.layout.columns) if c.key == key)
        return f"{get_column_letter(index + 1)} — {self.layout.columns[index].label}"


@dataclass
class Parsed:
    rows: dict[str, list[ParsedRow]] = field(default_factory=lambda: defaultdict(list))
    errors: list[RowError] = field(default_factory=list)


def read_workbook(data: bytes) -> Parsed:
    """The data rows of the known sheets, after the archive checks; header problems as errors."""
    from openpyxl import load_workbook

    problems = check_archive(data)
    if problems:
        raise ImportRefused(problems)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    except Exception as exc:  # openpyxl raises many kinds on a damaged file
        raise ImportRefused(
            [RowError(_("The file could not be read as an Excel workbook."))]
        ) from exc
    parsed = Parsed()
    try:
        titles = {name.strip().lower(): name for name in workbook.sheetnames}
        for layout in LAYOUTS:
            title = next((titles[n] for n in _names(layout.title) if n in titles), None)
            if title is not None:
                _read_sheet(workbook[title], title, layout, parsed)
    except ImportRefused:
        raise
    except Exception as exc:
        raise ImportRefused(
            [RowError(_("The file could not be read as an Excel workbook."))]
        ) from exc
    finally:
        workbook.close()
    if not parsed.errors and not any(parsed.rows.values()):
        parsed.errors.append(
            RowError(
                _("The file holds no rows to import in the sheets %(sheets)s.")
                % {"sheets": ", ".join(f"“{layout.title}”" for layout in LAYOUTS)}
            )
        )
    return parsed


def _read_sheet(worksheet, title: str, layout: SheetLayout, parsed: Parsed) -> None:
    width = len(layout.columns)
    rows = worksheet.iter_rows(min_row=1, max_col=width, values_only=True)
    header = next(rows, None)
    header = list(header or ()) + [None] * width
    header_errors = []
    for index, column in enumerate(layout.columns):
        typed = _cell_text(header[index]).rstrip("*").strip().lower()
        if typed not in _names(column.label):
            header_errors.append(
                RowError(
                    _("the header should read “%(label)s”.") % {"label": column.label},
                    title,
                    1,
                    f"{get_column_letter(index + 1)}",
                )
            )
    if header_errors:
        parsed.errors.extend(header_errors)
        return
    count = 0
    for number, values in enumerate(rows, start=2):
        if values is None or all(v is None or _cell_text(v) == "" for v in values):
            continue
        count += 1
        if count > MAX_ROWS:
            parsed.errors.append(
                RowError(
                    _("the sheet has more than %(max)s rows; split the file.") % {"max": MAX_ROWS},
                    title,
                    number,
                )
            )
            return
        values = list(values) + [None] * (width - len(values))
        parsed.rows[layout.key].append(
            ParsedRow(
                title, number, {c.key: values[i] for i, c in enumerate(layout.columns)}, layout
            )
        )


# --- Checking the rows ------------------------------------------------------------------------


@dataclass
class Plan:
    """What the import will write, in order, once every row is valid."""

    units: list[dict] = field(default_factory=list)
    cadres: list[dict] = field(default_factory=list)
    assignments: list[dict] = field(default_factory=list)
    absences: list[dict] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return {
            "units": len(self.units),
            "cadres": len(self.cadres),
            "assignments": len(self.assignments),
            "absences": len(self.absences),
        }


class _Checker:
    def __init__(self, plan: Plan):
        self.plan = plan

    def error(self, row: ParsedRow, key: str | None, message: str) -> None:
        self.plan.errors.append(
            RowError(message, row.sheet, row.row, row.column(key) if key else "")
        )

    def text(self, row: ParsedRow, key: str) -> str:
        column = next(c for c in row.layout.columns if c.key == key)
        value = _cell_text(row.values.get(key))
        if column.required and not value:
            self.error(row, key, _("this value is required."))
        elif column.max_length and len(value) > column.max_length:
            self.error(
                row, key, _("at most %(max)s characters are allowed.") % {"max": column.max_length}
            )
        return value

    def choice(self, row: ParsedRow, key: str) -> str | None:
        value = _cell_text(row.values.get(key))
        choices = CHOICES[(row.layout.key, key)]
        if not value:
            default = DEFAULTS.get((row.layout.key, key))
            if default is None:
                self.error(row, key, _("this value is required."))
            return default
        found = _choice_lookup(choices).get(value.lower())
        if found is None:
            allowed = ", ".join(str(v) for v in choices.values)
            self.error(
                row,
                key,
                _("“%(value)s” is not one of the allowed values: %(allowed)s.")
                % {"value": value, "allowed": allowed},
            )
        return found

    def date(self, row: ParsedRow, key: str, *, required: bool) -> date | None:
        value = row.values.get(key)
        if value is None or _cell_text(value) == "":
            if required:
                self.error(row, key, _("this date is required."))
            return None
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        text = _cell_text(value)
        for pattern in ("%d/%m/%Y", "%Y-%m-%d"):
            try:
                return datetime.strptime(text, pattern).date()
            except ValueError:
                continue
        self.error(row, key, _("“%(value)s” is not a date written dd/mm/yyyy.") % {"value": text})
        return None


def check_rows(parsed: Parsed, *, tenant, scope: Sequence[Unit]) -> Plan:
    """Validate every row against the file itself and the tenant's data; writes nothing."""
    plan = Plan(errors=list(parsed.errors))
    check = _Checker(plan)
    rows = parsed.rows
    unit_codes = {_cell_text(r.values["code"]) for r in rows["units"]}
    parent_codes = {_cell_text(r.values["parent"]) for r in rows["units"]}
    assignment_units = {_cell_text(r.values["unit"]) for r in rows["assignments"]}
    cadre_codes = {_cell_text(r.values["code"]) for r in rows["cadres"]}
    referenced_cadres = {
        _cell_text(r.values["cadre"]) for r in rows["assignments"] + rows["absences"]
    }
    # Everything the file refers to, read in a fixed number of queries.
    existing_units = {
        u.code: u
        for u in Unit.objects.for_tenant(tenant).filter(
            code__in=(unit_codes | parent_codes | assignment_units) - {""}
        )
    }
    existing_cadres = {
        c.code: c
        for c in Cadre.objects.for_tenant(tenant).filter(
            code__in=(cadre_codes | referenced_cadres) - {""}
        )
    }
    covered = {
        cadre_id
        for cadre_id in Assignment.objects.filter(
            tenant=tenant, cadre__in=list(existing_cadres.values())
        )
        .filter(subtree_q(list(scope), prefix="position__unit__"))
        .values_list("cadre_id", flat=True)
    }

    def in_scope(unit: Unit) -> bool:
        return any(unit.path.startswith(top.path) for top in scope)

    # Units: a new code, a known kind, a parent in scope defined before.
    new_units: dict[str, dict] = {}
    for row in rows["units"]:
        code, name = check.text(row, "code"), check.text(row, "name")
        kind = check.choice(row, "kind")
        parent_code = check.text(row, "parent")
        if code and (code in existing_units or code in new_units):
            check.error(
                row, "code", _("a unit with the code “%(code)s” already exists.") % {"code": code}
            )
        parent = None
        if parent_code:
            if parent_code in new_units:
                parent = new_units[parent_code]
            elif parent_code in existing_units:
                parent = existing_units[parent_code]
                if not in_scope(parent):
                    check.error(
                        row,
                        "parent",
                        _("you may not add units under “%(code)s”.") % {"code": parent_code},
                    )
            else:
                check.error(
                    row,
                    "parent",
                    _("no unit has the code “%(code)s” (a new parent must come on an earlier row).")
                    % {"code": parent_code},
                )
        item = {"row": row, "code": code, "name": name, "kind": kind, "parent": parent}
        if code and code not in new_units:
            new_units[code] = item
        plan.units.append(item)

    # Cadres: a new code and a name.
    new_cadres: dict[str, dict] = {}
    for row in rows["cadres"]:
        code = check.text(row, "code")
        item = {
            "row": row,
            "code": code,
            "full_name": check.text(row, "full_name"),
            "date_of_birth": check.date(row, "date_of_birth", required=False),
            "party_post": check.text(row, "party_post"),
            "government_post": check.text(row, "government_post"),
            "mass_organisation_post": check.text(row, "mass_organisation_post"),
            "evaluation_mode": check.choice(row, "evaluation_mode"),
        }
        if code and (code in existing_cadres or code in new_cadres):
            check.error(
                row, "code", _("a cadre with the code “%(code)s” already exists.") % {"code": code}
            )
        if item["date_of_birth"] and item["date_of_birth"] >= timezone.localdate():
            check.error(row, "date_of_birth", _("the date of birth must be in the past."))
        if code and code not in new_cadres:
            new_cadres[code] = item
        plan.cadres.append(item)

    def cadre_ref(row: ParsedRow) -> Any:
        code = check.text(row, "cadre")
        if not code:
            return None
        if code in new_cadres:
            return new_cadres[code]
        cadre = existing_cadres.get(code)
        if cadre is None:
            check.error(row, "cadre", _("no cadre has the staff code “%(code)s”.") % {"code": code})
        elif cadre.pk not in covered:
            check.error(
                row, "cadre", _("the cadre “%(code)s” works outside your units.") % {"code": code}
            )
        return cadre

    # Assignments: a post held by one cadre at a time, in the file and in the database.
    existing_posts = {
        (p.unit_id, p.title): p
        for p in Position.objects.filter(
            tenant=tenant,
            unit__in=[u for u in existing_units.values() if in_scope(u)],
            title__in={_cell_text(r.values["title"]) for r in rows["assignments"]},
        )
    }
    held = defaultdict(list)
    for assignment in Assignment.objects.filter(position__in=list(existing_posts.values())):
        held[("db", assignment.position_id)].append((assignment.start_date, assignment.end_date))
    for row in rows["assignments"]:
        cadre = cadre_ref(row)
        unit_code = check.text(row, "unit")
        title = check.text(row, "title")
        kind = check.choice(row, "kind")
        role = check.choice(row, "collective_role")
        start = check.date(row, "start_date", required=True)
        end = check.date(row, "end_date", required=False)
        note = check.text(row, "note")
        unit = new_units.get(unit_code) or existing_units.get(unit_code)
        if unit_code and unit is None:
            check.error(row, "unit", _("no unit has the code “%(code)s”.") % {"code": unit_code})
        elif isinstance(unit, Unit) and not in_scope(unit):
            check.error(
                row, "unit", _("the unit “%(code)s” is outside your units.") % {"code": unit_code}
            )
        if start and end and end < start:
            check.error(row, "end_date", _("the assignment cannot end before it starts."))
        post = existing_posts.get((unit.pk, title)) if isinstance(unit, Unit) else None
        if post is not None and (post.kind != kind or post.collective_role != role):
            check.error(
                row,
                "kind",
                _("the post “%(title)s” exists with another kind or role in the collective.")
                % {"title": title},
            )
        key = ("db", post.pk) if post is not None else ("new", unit_code, title)
        if start:
            for other_start, other_end in held[key]:
                if (other_end is None or other_end >= start) and (
                    end is None or other_start <= end
                ):
                    check.error(
                        row,
                        "start_date",
                        _("the post “%(title)s” is already held over these dates.")
                        % {"title": title},
                    )
                    break
            held[key].append((start, end))
        plan.assignments.append(
            {
                "row": row,
                "cadre": cadre,
                "unit": unit,
                "post": post,
                "title": title,
                "kind": kind,
                "collective_role": role,
                "start_date": start,
                "end_date": end,
                "note": note,
            }
        )

    # Absences.
    for row in rows["absences"]:
        cadre = cadre_ref(row)
        kind = check.choice(row, "kind")
        start = check.date(row, "start_date", required=True)
        end = check.date(row, "end_date", required=True)
        reason = check.text(row, "reason")
        if start and end and end < start:
            check.error(row, "end_date", _("the absence cannot end before it starts."))
        if kind == Absence.Kind.OTHER and not reason:
            check.error(
                row, "reason", _("a reason is required for a case decided by the authority.")
            )
        plan.absences.append(
            {
                "row": row,
                "cadre": cadre,
                "kind": kind,
                "start_date": start,
                "end_date": end,
                "reason": reason,
            }
        )
    return plan


def iter_errors(errors: Sequence[RowError]) -> Iterator[RowError]:
    """Errors in the order of the file: by sheet, row, then column."""
    order = {str(layout.title): i for i, layout in enumerate(LAYOUTS)}
    return iter(
        sorted(errors, key=lambda e: (order.get(e.sheet, -1), e.sheet, e.row or 0, e.column))
    )
