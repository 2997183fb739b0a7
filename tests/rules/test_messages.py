"""Every message of the rules module is translatable and has its Vietnamese line in the docs."""

import ast
import re
from pathlib import Path

import pytest
from django.utils.translation import override

from evaluation import rules as r

APPENDIX_ROW = re.compile(r"^\| `(?P<msgid>[^`]+)` \| `(?P<vi>[^`]+)` \|$")
PLACEHOLDER = re.compile(r"%\(\w+\)s|%%")


def source_msgids():
    """The literal strings passed to gettext or gettext_lazy in evaluation/rules.py."""
    tree = ast.parse(Path(r.__file__).read_text(encoding="utf-8"))
    return {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in ("_", "gettext_lazy")
    }


def appendix():
    docs = Path(__file__).resolve().parents[2] / "docs" / "rules.md"
    rows = (APPENDIX_ROW.match(line) for line in docs.read_text(encoding="utf-8").splitlines())
    return {row["msgid"]: row["vi"] for row in rows if row}


SOURCE = source_msgids()
VIETNAMESE = appendix()


def test_every_msgid_has_a_vietnamese_line_and_none_is_stale():
    assert sorted(SOURCE - VIETNAMESE.keys()) == []
    assert sorted(VIETNAMESE.keys() - SOURCE) == []


@pytest.mark.parametrize("msgid", sorted(SOURCE))
def test_the_translation_keeps_the_placeholders_and_has_diacritics(msgid):
    translation = VIETNAMESE[msgid]
    assert sorted(PLACEHOLDER.findall(translation)) == sorted(PLACEHOLDER.findall(msgid))
    assert not translation.isascii()


def test_the_e6_sentence_reads_in_vietnamese():
    msgid = "Completed %(done)s/%(total)s tasks (under 100%%) → Not completed (R7)"
    assert VIETNAMESE[msgid] % {"done": 19, "total": 20} == (
        "Hoàn thành 19/20 nhiệm vụ (dưới 100%) → “Không hoàn thành nhiệm vụ” (R7)"
    )


def test_reasons_come_out_in_vietnamese_under_vietnamese():
    # Asserts the shape, not the wording, so retranslating the catalogue does not break it.
    with override("vi"):
        reason = r.replacement_flag([r.Grade.NOT_COMPLETED, r.Grade.NOT_COMPLETED]).reasons[0]
        label = str(r.Grade.NOT_COMPLETED.label)
    assert label == "Không hoàn thành nhiệm vụ"
    assert reason.rule == "R15"
    assert label in reason.message
    assert reason.message.endswith("(R15)")


def test_reasons_are_english_sentences_under_english():
    with override("en"):
        ruling = r.excellent_quota(7, 20)
    assert ruling.reasons[0] == r.Reason(
        "R9", "20% of 7 Good is 1.4, rounded half up → at most 1 Excellent (R9)"
    )
    assert ruling.reasons[0].as_dict() == {
        "rule": "R9",
        "message": "20% of 7 Good is 1.4, rounded half up → at most 1 Excellent (R9)",
    }


def test_error_messages_are_translated_too():
    with override("en"), pytest.raises(r.RuleInputError) as error:
        r.excellent_quota(7, 120)
    assert (error.value.field, error.value.message) == (
        "percent",
        "must be a whole number from 0 to 100",
    )
    assert str(error.value) == "percent: must be a whole number from 0 to 100"
