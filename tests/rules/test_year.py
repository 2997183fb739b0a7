"""R13–R15, R17 and R19: the year-end proposal, the replacement flag and discrepancies."""

from dataclasses import replace
from decimal import Decimal

import pytest
from django.utils.translation import override

from evaluation import rules as r

RULES = r.DEFAULT_RULE_SET
E, G, C, NC = r.Grade.EXCELLENT, r.Grade.GOOD, r.Grade.COMPLETED, r.Grade.NOT_COMPLETED


@pytest.fixture(autouse=True)
def english():
    with override("en"):
        yield


def year(*grades, **kwargs):
    """Year-end proposal from the grades of Q1, Q2, ... in order (None when deferred)."""
    quarters = [r.QuarterOutcome(number, grade) for number, grade in enumerate(grades, start=1)]
    return r.year_end_proposal(quarters, RULES, **kwargs)


@pytest.mark.parametrize(
    ("grades", "expected"),
    [
        ((E, E, E, E), E),
        ((E, E, G, E), E),  # three of four Excellent, Q4 too
        ((G, G, E, E), E),  # half the quarters and Q4
        ((E, E, E, G), G),  # Q4 caps the year
        ((G, G, G, E), G),  # one Excellent quarter is not half
        ((E, NC, E, E), G),  # R14
        ((C, C, G, G), G),
        ((G, C, C, C), C),
        ((C, NC, NC, C), C),
        ((G, G, C, NC), NC),  # Q4 Not completed caps the year
        ((NC, NC, C, C), C),
        ((E, None, E, E), E),  # a deferred quarter is skipped
        ((None, None, None, G), G),
    ],
)
def test_year_end_proposal(grades, expected):
    assert year(*grades).grade == expected


def test_the_reasons_walk_down_the_grades():
    assert [reason.message for reason in year(E, NC, E, G).reasons] == [
        "Q4 is graded Good; the year is not proposed above it (R19)",
        "3 of 4 graded quarters reach Good or better (2 needed) → Good for the year (R19)",
    ]
    assert [reason.message for reason in year(E, NC, E, E).reasons] == [
        "Not completed in Q2 rules out Excellent for the year (R14)",
        "3 of 4 graded quarters reach Good or better (2 needed) → Good for the year (R19)",
    ]


def test_a_year_without_any_graded_quarter_is_left_to_the_authority():
    proposal = year(None, None, None, None)
    assert proposal.grade is None
    assert proposal.reasons[-1].rule == "R19"


def test_discipline_in_the_year_forces_not_completed():
    proposal = year(E, E, E, E, reprimand_or_degradation=True)
    assert proposal.grade == NC
    assert proposal.reasons[-1].rule == "R6"


def test_the_share_of_quarters_is_a_tenant_setting():
    strict = replace(RULES, year_end_share_percent=75)
    quarters = [r.QuarterOutcome(q, grade) for q, grade in enumerate((G, G, E, E), start=1)]
    assert r.year_end_proposal(quarters, strict).grade == G


def test_q4_not_graded_on_its_own_still_feeds_the_year():
    rules = replace(RULES, grade_q4_separately=False)
    quarters = [r.QuarterOutcome(q, E) for q in range(1, 5)]
    proposal = r.year_end_proposal(quarters, rules)
    assert proposal.grade == E
    assert proposal.reasons[0].rule == "R13"


def test_the_proposal_carries_the_figures_for_the_year_end_ranking():
    quarters = [
        r.QuarterOutcome(1, E, proposed_excellent=True, score=Decimal("92.5")),
        r.QuarterOutcome(2, G, proposed_excellent=True, score=Decimal("88.0")),
        r.QuarterOutcome(3, None),
        r.QuarterOutcome(4, E, proposed_excellent=True, score=Decimal("95.0")),
    ]
    proposal = r.year_end_proposal(quarters, RULES)
    assert proposal.quarters_proposed_excellent == 3
    assert proposal.mean_score == Decimal("91.8")  # 91.83


def test_the_proposal_raises_the_replacement_flag_across_the_year_end():
    proposal = year(NC, G, G, G, earlier_grades=[G, NC])
    assert proposal.replacement_flag
    assert proposal.reasons[-1].rule == "R15"
    assert not year(NC, G, G, G, earlier_grades=[NC, G]).replacement_flag


@pytest.mark.parametrize(
    ("quarters", "field"),
    [
        ([r.QuarterOutcome(5, E)], "quarters[0].quarter"),
        ([r.QuarterOutcome(2, E), r.QuarterOutcome(2, G)], "quarters[1].quarter"),
        ([r.QuarterOutcome(1, "great")], "quarters[0].grade"),
        ([r.QuarterOutcome(1, E, score=Decimal(101))], "quarters[0].score"),
    ],
)
def test_bad_quarters_name_the_field(quarters, field):
    with pytest.raises(r.RuleInputError) as error:
        r.year_end_proposal(quarters, RULES)
    assert error.value.field == field


@pytest.mark.parametrize(
    ("sequence", "flag"),
    [
        ([G, NC, NC], True),  # E12
        ([NC, None, NC], True),  # the deferred quarter is skipped
        ([NC, G, NC], False),
        ([NC], False),
        ([], False),
        ([E, NC, NC, NC, G], True),
        (["not_completed", "not_completed"], True),  # stored values work too
    ],
)
def test_replacement_flag(sequence, flag):
    assert r.replacement_flag(sequence).value is flag


def test_replacement_flag_reason():
    assert r.replacement_flag([NC, NC, NC]).reasons[0].message == (
        "Not completed in 3 consecutive graded quarters → replacement flag for the managing "
        "authority (R15)"
    )


@pytest.mark.parametrize(
    ("proposed", "decided", "levels"),
    [(E, G, 1), (E, NC, 3), (G, C, 1), ("good", "not_completed", 2)],
)
def test_a_proposal_higher_than_the_decision_is_recorded(proposed, decided, levels):
    record = r.discrepancy(proposed, decided)
    assert record.levels == levels
    assert record.reasons[0].rule == "R17"


@pytest.mark.parametrize(("proposed", "decided"), [(G, E), (G, G), (NC, C)])
def test_no_record_when_the_proposal_is_not_higher(proposed, decided):
    assert r.discrepancy(proposed, decided) is None


def test_discrepancy_reason():
    assert r.discrepancy(E, G).reasons[0].message == (
        "Proposed Excellent but decided Good, 1 level(s) lower; the proposer answers for the "
        "proposal (R17)"
    )


@pytest.mark.parametrize(
    ("proposed", "decided", "field"), [(None, G, "proposed"), (G, "x", "decided")]
)
def test_discrepancy_refuses_unknown_grades(proposed, decided, field):
    with pytest.raises(r.RuleInputError) as error:
        r.discrepancy(proposed, decided)
    assert error.value.field == field
