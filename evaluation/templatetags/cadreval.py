"""Template helpers of the screens: the role navigation, labels of grades and states, and
form widgets that announce their errors to assistive technology."""

from decimal import Decimal

from django import template
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import formats
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from cadres.roles import Role, granted_units
from evaluation.models import EvaluationState
from evaluation.rules import Grade
from evaluation.scoring import stored_message

register = template.Library()

# (url name, label, the roles that see it; None = every member of a tenant)
NAVIGATION = [
    ("home", _("Home"), None),
    ("my_quarter", _("My quarter"), "cadre"),
    ("superior_inbox", _("Plans and proposals"), (Role.SUPERIOR,)),
    ("vetting_queue", _("Vetting"), (Role.ADVISORY,)),
    ("catalogue_list", _("Catalogue"), (Role.ADVISORY, Role.AUTHORITY)),
    ("decision_list", _("Decisions"), (Role.AUTHORITY,)),
    ("publication", _("Publication"), (Role.ORGANISATION,)),
    ("progress", _("Progress"), (Role.ORGANISATION, Role.AUTHORITY)),
    ("results", _("Results"), None),
    ("reporting:index", _("Reports"), (Role.ORGANISATION, Role.AUTHORITY, Role.ADMINISTRATOR)),
    ("admin_index", _("Organisation"), (Role.ADMINISTRATOR,)),
]


def optional_reverse(name: str, *args) -> str:
    """The URL of a page another app may not have yet, or an empty string."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


@register.simple_tag
def optional_url(name, *args):
    return optional_reverse(name, *args)


@register.simple_tag(takes_context=True)
def nav_items(context):
    """The pages the signed-in user's roles open, with the current one marked."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    if user.tenant_id is None:
        # The central organisation commission reads the reports across tenants only.
        url = optional_reverse("reporting:index") if user.is_central_observer else ""
        return [{"url": url, "label": _("Reports"), "current": False}] if url else []
    items = []
    for name, label, roles in NAVIGATION:
        if roles == "cadre":
            allowed = getattr(user, "cadre", None) is not None
        else:
            allowed = roles is None or any(granted_units(user, role) for role in roles)
        url = optional_reverse(name) if allowed else ""
        if url:
            current = request.path == url if name == "home" else request.path.startswith(url)
            items.append({"url": url, "label": label, "current": current})
    return items


@register.filter
def grade_label(value):
    if not value:
        return "—"
    try:
        return Grade(value).label
    except ValueError:
        return value


@register.filter
def state_label(value):
    try:
        return EvaluationState(value).label
    except ValueError:
        return value


_TENTH = Decimal("0.1")


@register.filter
def score(value, separator=None):
    """A score to one decimal in the active language's way (87,5 in Vietnamese).

    ``separator``: the language's decimal separator, when a table has looked it up once for
    all its scores (a board shows ~130).
    """
    if value in (None, ""):
        return "—"
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    if not -1000 < number < 1000:  # where grouping could apply
        return formats.number_format(number, 1)
    # number_format's own steps for one decimal (it truncates, and shows less than 0.1 as 0),
    # with one lookup of the separator instead of its several.
    if abs(number) < _TENTH:
        number = Decimal(0)
    whole, _point, fraction = f"{number:f}".partition(".")
    return f"{whole}{separator or formats.get_format('DECIMAL_SEPARATOR')}{(fraction + '0')[:1]}"


@register.filter
def reasons(value, language=None):
    """Reasons as (rule, message) pairs, from stored dicts (in the reader's language when the
    record has it, ``scoring.stored_reasons``) or the rules' Reason objects. ``language``: the
    reader's, when a table has looked it up once for all its lines."""
    pairs, language = [], language or get_language()
    for reason in value or ():
        if isinstance(reason, dict):
            pairs.append((reason.get("rule", ""), stored_message(reason, language)))
        else:
            pairs.append((reason.rule, reason.message))
    return pairs


@register.filter
def reasons_list(value):
    """The reasons as a ``<ul class="reasons">``, drawn by Jinja2 (config/jinja2.py): a
    decision board shows some eight reasons on each of its 50 lines."""
    return mark_safe(
        render_to_string("evaluation/reasons.html", {"pairs": reasons(value)}, using="jinja2")
    )


@register.filter
def ranking_list(candidates):
    """R9's ranked candidates (``scoring.quota_picture``) as an ``<ol class="ranking">``, drawn
    by Jinja2 (config/jinja2.py): a group of 500 ranks some 80 candidates on every board."""
    context = {
        "candidates": candidates,
        "separator": formats.get_format("DECIMAL_SEPARATOR"),
    }
    return mark_safe(render_to_string("evaluation/ranking.html", context, using="jinja2"))


@register.filter
def grade_badge(value):
    """A grade as a badge, or a dash when there is none (a filter: boards show three a row)."""
    if not value:
        return mark_safe('<span class="muted">—</span>')
    return format_html('<span class="grade grade-{}">{}</span>', value, grade_label(value))


@register.filter
def state_badge(value):
    return format_html('<span class="state state-{}">{}</span>', value, state_label(value))


@register.filter
def get(mapping, key):
    try:
        return mapping[key]
    except (KeyError, IndexError, TypeError):
        return None


@register.filter
def bound(form, name):
    """The bound field ``name`` of a form, for fields whose names are built in a loop."""
    try:
        return form[name]
    except KeyError:
        return None


@register.simple_tag
def widget(field, **attrs):
    """The field's widget, with aria-invalid and aria-describedby pointing at its messages."""
    if field is None:
        return ""
    described = []
    if field.help_text:
        described.append(f"{field.auto_id}_help")
    if field.errors:
        attrs["aria-invalid"] = "true"
        described.append(f"{field.auto_id}_error")
    if described:
        attrs["aria-describedby"] = " ".join(described)
    attrs = {key.replace("_", "-"): value for key, value in attrs.items()}
    return field.as_widget(attrs=attrs)


@register.filter
def percent_of(part, whole):
    """How much of a bar ``part`` fills (0–100) when ``whole`` fills it all."""
    try:
        return max(0, min(100, round(100 * int(part) / int(whole)))) if int(whole) else 0
    except (TypeError, ValueError):
        return 0
