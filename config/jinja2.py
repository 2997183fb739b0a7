"""The Jinja2 environment of the lines of the longest tables (``templates/jinja2/``).

A decision board draws 50 cadres, each with its reasons, three grades and a grade select; drawn
by the Django template language the lines were most of the page's time. Drawn by Jinja2, a
board of 50 waiting lines takes 34–35 ms instead of 51–55, the lines of a board as generated
2.7 ms instead of 4.1 (bench/README.md). The pages around them stay Django templates.
The lines translate with Django's catalogue: ``{{ _("…") }}`` is found by ``makemessages`` as
in any template, and ``|format(name=…)`` fills a placeholder.
"""

from django.template.defaultfilters import date
from django.urls import reverse
from django.utils.translation import gettext, ngettext
from jinja2 import Environment

from evaluation.templatetags import cadreval

# A key every ``<int:pk>`` pattern accepts, reversed once and replaced by each row's key.
ANY_KEY = 2_147_483_647


def url_of_each(name):
    """The address of one page a row, ``url_of_each("evaluation_detail")(pk)``: reversed once
    a table, not once a line (reverse is most of a line's cost after the escaping)."""
    head, tail = reverse(name, args=[ANY_KEY]).split(str(ANY_KEY))
    return lambda pk: f"{head}{int(pk)}{tail}"


def environment(**options):
    env = Environment(extensions=["jinja2.ext.i18n"], **options)
    env.install_gettext_callables(gettext, ngettext)
    env.globals["url_of_each"] = url_of_each
    env.filters["date"] = date
    for name in ("score", "reasons"):
        env.filters[name] = getattr(cadreval, name)
    return env
