"""Form 5 (Mẫu 05, "Bản tự đánh giá, xếp loại của cá nhân") as a PDF, through WeasyPrint.

WeasyPrint is imported inside ``render_pdf`` only: it needs Pango, and the application must
start on a machine without it (the PDF action then says what to install). The renderer may
read the project's own static files and nothing else — no network, no other file.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from urllib.parse import unquote

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext as _

from evaluation import rules, scoring
from evaluation.models import AXIS_CHOICES, QUALITY_LEVELS, Evaluation, EvaluationState

# The documents' base URL: ``.invalid`` never resolves, and only its /static/ path is served.
DOCUMENT_HOST = "http://cadreval.invalid"
SERVED_SUFFIXES = {
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".css": "text/css",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".svg": "image/svg+xml",
}
PDF_MIME_TYPE = "application/pdf"


class PdfUnavailable(RuntimeError):
    """WeasyPrint or the Pango library it needs is missing on this machine."""

    def __init__(self, detail: str = ""):
        self.detail = detail
        super().__init__(
            _(
                "PDF output is not available on this server: WeasyPrint needs the Pango library. "
                "On Debian or Ubuntu install the packages libpango-1.0-0 and libpangoft2-1.0-0, "
                "then restart the application."
            )
        )


class RefusedURL(ValueError):
    """The document asked for something other than one of the project's static files."""


def _static_roots() -> list[Path]:
    roots = []
    for finder in finders.get_finders():
        for storage in getattr(finder, "storages", {}).values():
            location = getattr(storage, "location", None)
            if location:
                roots.append(Path(location).resolve())
    if settings.STATIC_ROOT:
        roots.append(Path(settings.STATIC_ROOT).resolve())
    return roots


def static_file_for(url: str) -> tuple[Path, str]:
    """The static file a document URL names, and its type; RefusedURL for anything else."""
    prefix = DOCUMENT_HOST + settings.STATIC_URL
    if not url.startswith(prefix):
        raise RefusedURL(url)
    relative = unquote(url[len(prefix) :].split("?", 1)[0].split("#", 1)[0])
    parts = relative.split("/")
    if "\\" in relative or "\x00" in relative or any(p in ("", ".", "..") for p in parts):
        raise RefusedURL(url)
    mime_type = SERVED_SUFFIXES.get(Path(relative).suffix.lower())
    if mime_type is None:
        raise RefusedURL(url)
    found = finders.find(relative)
    if not found and settings.STATIC_ROOT:
        candidate = Path(settings.STATIC_ROOT) / relative
        found = str(candidate) if candidate.is_file() else None
    if not found:
        raise RefusedURL(url)
    path = Path(found).resolve()
    # A symbolic link must not lead out of the static folders.
    if not path.is_file() or not any(path.is_relative_to(root) for root in _static_roots()):
        raise RefusedURL(url)
    return path, mime_type


def render_pdf(html: str) -> bytes:
    """Render an HTML document to PDF bytes, reading only the project's static files."""
    try:
        from weasyprint import HTML
        from weasyprint.urls import URLFetcher, URLFetcherResponse
    except (ImportError, OSError) as exc:  # OSError: the Pango library cannot be loaded
        raise PdfUnavailable(str(exc)) from exc

    class StaticOnlyFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            path, mime_type = static_file_for(url)
            return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": mime_type})

    document = HTML(string=html, base_url=DOCUMENT_HOST + "/", url_fetcher=StaticOnlyFetcher())
    return document.write_pdf()


# --- Form 5 -----------------------------------------------------------------------------------

ROMAN_QUARTERS = {1: "I", 2: "II", 3: "III", 4: "IV"}
_ORDER = [
    EvaluationState.PLANNING,
    EvaluationState.PLAN_SUBMITTED,
    EvaluationState.PLAN_APPROVED,
    EvaluationState.SELF_ASSESSED,
    EvaluationState.VETTED,
    EvaluationState.PROPOSED,
    EvaluationState.DECIDED,
    EvaluationState.PUBLISHED,
]


def _reached(evaluation: Evaluation, state: str) -> bool:
    if evaluation.state not in _ORDER:
        return False
    return _ORDER.index(evaluation.state) >= _ORDER.index(state)


def _assessment(evaluation: Evaluation, stage: scoring.Stage):
    try:
        return scoring.assess(evaluation, stage=stage).result
    except rules.RuleInputError:
        return None


def css_string(text: str) -> str:
    """Text as a quoted CSS string (for the page footer's ``content``)."""
    escaped = "".join(c if c.isalnum() or c in " -,.:/()" else f"\\{ord(c):x} " for c in text)
    return f'"{escaped}"'


def form5_context(evaluation: Evaluation) -> dict:
    """Everything Form 5 prints for one evaluation, read from the database."""
    self_result = (
        _assessment(evaluation, scoring.Stage.SELF)
        if _reached(evaluation, EvaluationState.SELF_ASSESSED)
        else None
    )
    vetted_result = (
        _assessment(evaluation, scoring.Stage.VETTED)
        if _reached(evaluation, EvaluationState.VETTED)
        else None
    )
    return build_form5_context(
        evaluation,
        tasks=list(evaluation.tasks.all()),
        criteria=list(evaluation.criterion_scores.all()),
        self_result=self_result,
        vetted_result=vetted_result,
    )


def build_form5_context(
    evaluation: Evaluation,
    *,
    tasks: list,
    criteria: list,
    self_result: rules.GradeResult | None,
    vetted_result: rules.GradeResult | None,
) -> dict:
    """Form 5's context from objects already in memory (the benchmark builds them unsaved)."""
    tasks = sorted(tasks, key=lambda t: (t.axis or 99, t.order, t.pk or 0))
    axis_labels = dict(AXIS_CHOICES)
    roles = evaluation.axis_roles or {}
    groups, number = [], 0
    for task in tasks:
        if not groups or groups[-1]["axis"] != task.axis:
            role = roles.get(str(task.axis))
            groups.append(
                {
                    "axis": task.axis,
                    "label": axis_labels.get(task.axis, _("Tasks without an axis")),
                    "role": rules.AxisRole(role).label if role in rules.AxisRole.values else "",
                    "tasks": [],
                }
            )
        number += 1
        groups[-1]["tasks"].append({"number": number, "task": task})
    levels = Counter(t.quality_level for t in tasks if t.quality_level)
    grades = [
        {
            "label": grade.label,
            "self": evaluation.self_grade == grade.value,
            "vetted": evaluation.vetted_grade == grade.value,
            "proposed": evaluation.proposed_grade == grade.value,
            "decided": evaluation.decided_grade == grade.value,
        }
        for grade in rules.Grade
    ]
    signed_on = evaluation.self_assessed_at or timezone.now()
    period = evaluation.period
    return {
        "evaluation": evaluation,
        "tenant": evaluation.tenant,
        "cadre": evaluation.cadre,
        "period": period,
        "quarter_roman": ROMAN_QUARTERS[period.quarter],
        "signed_on": timezone.localtime(signed_on).date(),
        "criteria": criteria,
        "criteria_max": rules.GENERAL_MAX,
        "results_max": rules.RESULTS_MAX,
        "groups": groups,
        "self_result": self_result,
        "vetted_result": vetted_result,
        "grades": grades,
        "levels": [
            {"label": label, "count": levels.get(level, 0)} for level, label in QUALITY_LEVELS
        ],
        "footer": css_string(_("Form 5 — page")),
        "of_pages": css_string(_("of")),
        "static_prefix": settings.STATIC_URL,
    }


def render_form5_html(context_for) -> str:
    """The form's HTML; ``context_for`` is called inside the site's language."""
    # The form is an official Vietnamese document: it is printed in the site's language.
    with translation.override(settings.LANGUAGE_CODE):
        return render_to_string("reporting/form5.html", context_for())


def form5_html(evaluation: Evaluation) -> str:
    return render_form5_html(lambda: form5_context(evaluation))


def render_form5(evaluation: Evaluation) -> bytes:
    """Form 5 of one evaluation as PDF bytes (PdfUnavailable without WeasyPrint or Pango)."""
    return render_pdf(form5_html(evaluation))


def form5_filename(evaluation: Evaluation) -> str:
    cadre = evaluation.cadre
    name = slugify(cadre.full_name.replace("đ", "d").replace("Đ", "D")) or "cadre"
    with translation.override(settings.LANGUAGE_CODE):
        prefix = slugify(_("Form 5")) or "form-5"
    period = evaluation.period
    return f"{prefix}_Q{period.quarter}-{period.year}_{slugify(cadre.code)}_{name}.pdf"
