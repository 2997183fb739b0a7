"""The lines of the longest tables, drawn by Jinja2 templates (config/jinja2.py says why).

Each function here returns HTML (a table's lines, or whole tables) for its Django page template
to place.
"""

from django.template.loader import render_to_string
from django.utils import formats
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from cadres.models import Position
from evaluation import selectors
from evaluation.forms import GRADES, NO_CHOICE
from evaluation.models import EvaluationState
from evaluation.rules import Grade
from evaluation.templatetags.cadreval import grade_badge, reasons, score, state_badge


def board_lines(rows, form) -> str:
    """The decision board's lines; those the form can decide carry their grade, flag and version
    as the form holds them (the posted values when a decision was refused)."""
    language, separator = get_language(), formats.get_format("DECIMAL_SEPARATOR")
    for row in rows:
        row.cells = _decision_cells(form, row.pk) if row.pk in form.rows else None
        row.reason_pairs = reasons(row.computed_reasons, language)
        # The vetted score once there is one (zero included), else the computed one.
        shown = row.computed_score if row.vetted_score is None else row.vetted_score
        row.score_text = score(shown, separator)
    context = {
        "rows": rows,
        "grades": [(value, str(label)) for value, label in NO_CHOICE + GRADES],
        **_labels(),
    }
    return mark_safe(render_to_string("evaluation/board_lines.html", context, using="jinja2"))


def _labels() -> dict:
    """Badges and labels in the active language, built once a table rather than once a cell."""
    return {
        "grade_badges": {value: grade_badge(value) for value in ("", *Grade.values)},
        "state_badges": {value: state_badge(value) for value in EvaluationState.values},
        "roles": {value: str(label) for value, label in Position.CollectiveRole.choices},
    }


def _decision_cells(form, pk) -> dict:
    grade = form[f"grade_{pk}"]
    return {
        "grade": grade.value() or "",
        "grade_label": grade.label,
        "grade_errors": grade.errors,
        "flag": form[f"flag_{pk}"].value(),
        "version": form[f"version_{pk}"].value(),
    }


def inbox_tables(kind: str, evaluations) -> str:
    """The superior's inbox: the ``plans`` or the ``proposals`` of its page, a table a unit."""
    context = {"kind": kind, "groups": selectors.by_unit(evaluations), **_labels()}
    return mark_safe(render_to_string("evaluation/inbox_tables.html", context, using="jinja2"))
