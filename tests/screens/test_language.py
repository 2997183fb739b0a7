"""Vietnamese by default, English on request, and no user-facing text left untranslated in
the templates of the screens."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from tests.screens.helpers import text

TEMPLATES = Path(settings.BASE_DIR) / "templates"
# Other engineers' templates are checked by their own tests.
OWN = [
    path
    for path in sorted(TEMPLATES.rglob("*.html"))
    if path.relative_to(TEMPLATES).parts[0] not in ("reporting", "api")
]
BLOCKS = re.compile(r"{%\s*blocktranslate.*?{%\s*endblocktranslate\s*%}", re.S)
COMMENTS = re.compile(r"{#.*?#}|{%\s*comment\s*%}.*?{%\s*endcomment\s*%}|<!--.*?-->", re.S)
TAGS = re.compile(r"{%.*?%}|{{.*?}}", re.S)
CODE = re.compile(r"<(script|style)\b.*?</\1>", re.S)
ATTRIBUTES = re.compile(r'\s(?:aria-label|placeholder|title|alt|data-confirm)="([^"]*)"', re.S)
HTML = re.compile(r"<[^>]*>", re.S)
NAMES = {"cadreval"}  # the product's name is the same in every language


def bare_text(source: str) -> list[str]:
    """Words a visitor would read that no translation tag wraps."""
    source = COMMENTS.sub(" ", source)
    source = BLOCKS.sub(" ", source)
    source = CODE.sub(" ", source)
    found = [TAGS.sub("", value) for value in ATTRIBUTES.findall(source)]
    found.append(HTML.sub(" ", TAGS.sub(" ", source)))
    words = []
    for chunk in found:
        words.extend(
            word for word in chunk.split() if any(c.isalpha() for c in word) and word not in NAMES
        )
    return words


@pytest.mark.parametrize("path", OWN, ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_every_word_of_the_templates_goes_through_translation(path):
    assert bare_text(path.read_text()) == []


def test_the_scanner_catches_bare_text():
    assert bare_text('<p title="Hello">{% translate "Fine" %} Oops</p>') == ["Hello", "Oops"]
    assert bare_text("{% blocktranslate %}Fine {{ x }}{% endblocktranslate %} — 100%") == []


def test_vietnamese_is_the_default_and_english_is_one_switch_away(unit):
    client = Client()
    client.force_login(unit.superior)
    assert '<html lang="vi">' in text(client.get("/inbox/"))
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/inbox/"}, follow=True)
    body = text(response)
    assert '<html lang="en">' in body
    assert "Plans and proposals" in body


INLINE = re.compile(r"""\sstyle=|\son[a-z]+=|<script(?![^>]*\ssrc=)|<style\b""", re.I)


@pytest.mark.parametrize("path", OWN, ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_no_inline_script_or_style_so_a_strict_csp_holds(path):
    assert INLINE.findall(COMMENTS.sub(" ", path.read_text())) == []
