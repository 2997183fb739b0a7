"""The Vietnamese catalogue is complete, valid and compiled (Vietnamese is the default UI)."""

import gettext
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "locale" / "vi" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
SOURCES = ["config", "cadres", "evaluation", "reporting", "templates", "manage.py"]


def msgids(po: Path, *flags: str) -> list[str]:
    """The msgids msgattrib selects with ``flags`` (the header excluded)."""
    out = subprocess.run(
        ["msgattrib", *flags, "--no-wrap", str(po)], capture_output=True, text=True, check=True
    ).stdout
    return [
        line[len('msgid "') : -1]
        for line in out.splitlines()
        if line.startswith('msgid "') and line != 'msgid ""'
    ]


def test_catalogue_is_valid():
    subprocess.run(["msgfmt", "--check-format", "-o", os.devnull, str(PO)], check=True)


def test_every_entry_is_translated_and_none_is_fuzzy():
    assert msgids(PO, "--untranslated") == []
    assert msgids(PO, "--only-fuzzy") == []


def test_compiled_catalogue_matches_the_source(tmp_path):
    fresh = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "-o", str(fresh), str(PO)], check=True)
    with MO.open("rb") as committed, fresh.open("rb") as compiled:
        assert gettext.GNUTranslations(committed)._catalog == (
            gettext.GNUTranslations(compiled)._catalog
        ), "run: python manage.py compilemessages"


def test_no_user_facing_string_is_missing_from_the_catalogue(tmp_path):
    for name in SOURCES:
        source = ROOT / name
        target = tmp_path / name
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, target)
    shutil.copytree(ROOT / "locale", tmp_path / "locale")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "vi", "--no-obsolete"],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
    )
    missing = msgids(tmp_path / "locale" / "vi" / "LC_MESSAGES" / "django.po", "--untranslated")
    assert missing == [], "run makemessages -l vi and translate: " + "; ".join(missing[:20])
