"""The worked examples E1–E13 of domain.md, one test each."""

from datetime import date
from decimal import Decimal

import pytest
from django.utils.translation import override

from evaluation import rules as r

RULES = r.DEFAULT_RULE_SET
Q2_2026 = r.quarter_bounds(2026, 2)


@pytest.fixture(autouse=True)
def english():
    with override("en"):
        yield


def points(political, ethics, discipline, unity):
    """General criteria points in the default set's order."""
    codes = [criterion.code for criterion in RULES.general_criteria]
    return dict(zip(codes, map(Decimal, (political, ethics, discipline, unity)), strict=True))


def done_tasks(count, *, late=0, exceeded=0):
    """`count` tasks of equal weight, all done at quality level 1; the first `late` are late."""
    weight = Decimal(100) / count
    return [
        r.Task(
            i,
            weight,
            axis=1,
            done=True,
            quality_level=1,
            late=i < late,
            exceeded=i >= count - exceeded,
        )
        for i in range(count)
    ]


def test_e1_seven_good_allow_one_excellent():
    quota = r.excellent_quota(7, 20)
    assert quota.value == 1
    assert "20% of 7 Good is 1.4" in quota.reasons[0].message


def test_e2_eight_good_allow_two_excellent():
    assert r.excellent_quota(8, 20).value == 2


def test_e3_two_good_at_25_percent_allow_one_excellent():
    assert r.excellent_quota(2, 25).value == 1


def test_e4_score_92_with_20_percent_exceeded_is_good():
    result = r.compute_grade(
        r.AssessmentInput(points(6, 6, 5, 5), done_tasks(10, exceeded=2)), RULES
    )
    assert result.score.total == Decimal("92.0")
    assert result.grade == r.Grade.GOOD
    assert any(
        "2 of 10 tasks exceeded the requirement (20%; 30% needed)" in x.message
        for x in result.reasons
    )


def test_e5_score_85_with_one_late_task_is_completed():
    result = r.compute_grade(
        r.AssessmentInput(points(5, "4.2", 4, "3.5"), done_tasks(10, late=1)), RULES
    )
    assert result.score.total == Decimal("85.0")
    assert result.grade == r.Grade.COMPLETED
    assert [x.message for x in result.reasons[1:]] == [
        "Score 85.0 reaches the Good floor of 70, but 1 of 10 tasks were late (R5)",
        "Score 85.0 reaches the Completed floor of 50 and every condition holds → Completed (R5)",
    ]


def test_e6_nineteen_of_twenty_done_is_not_completed():
    tasks = done_tasks(20)[:19] + [r.Task(19, Decimal(5), axis=1)]
    result = r.compute_grade(r.AssessmentInput(points(6, 6, 5, "4.5"), tasks), RULES)
    assert result.score.total == Decimal("88.0")
    assert result.grade == r.Grade.NOT_COMPLETED
    assert result.reasons[-1] == r.Reason(
        "R7", "Completed 19/20 tasks (under 100%) → Not completed (R7)"
    )


def test_e7_the_missing_task_excused_is_good():
    excused = r.Task(19, Decimal(5), axis=1, excused=True, excuse_reason="Storm closed the site")
    tasks = done_tasks(20)[:19] + [excused]
    result = r.compute_grade(r.AssessmentInput(points(6, 6, 5, "4.5"), tasks), RULES)
    assert (result.completion.done, result.completion.assigned) == (19, 19)
    assert result.grade == r.Grade.GOOD


def test_e8_collective_at_65_percent():
    targets = [r.CollectiveTarget(i, done=i < 13) for i in range(20)]
    collective = r.collective_completion(targets, RULES)
    assert collective.below_threshold
    own_field = done_tasks(10, exceeded=4)
    head = r.AssessmentInput(
        points(6, 6, 6, 5), own_field, role=r.CollectiveRole.HEAD, collective=collective
    )
    deputy = r.AssessmentInput(
        points(6, 6, 6, 5), own_field, role=r.CollectiveRole.DEPUTY, collective=collective
    )
    assert r.compute_grade(head, RULES).grade == r.Grade.NOT_COMPLETED
    deputy_result = r.compute_grade(deputy, RULES)
    assert deputy_result.score.total == Decimal("93.0")
    assert deputy_result.grade == r.Grade.GOOD
    assert deputy_result.reasons[-1].rule == "R8"
    assert "capped at Good" in deputy_result.reasons[-1].message


def test_e9_training_10_april_to_25_june_defers_to_q3():
    training = r.Absence(r.AbsenceKind.TRAINING, date(2026, 4, 10), date(2026, 6, 25))
    result = r.deferral([training], [], *Q2_2026, RULES)
    assert result.deferred
    assert result.carried_to == (2026, 3)
    assert [x.rule for x in result.reasons] == ["R11a", "R11"]


def test_e10_first_appointed_on_10_june_is_deferred():
    result = r.deferral(
        [], [r.Appointment(date(2026, 6, 10), first_leadership_post=True)], *Q2_2026, RULES
    )
    assert result.deferred
    assert result.reasons[0].rule == "R11b"


def test_e11_a_not_completed_quarter_rules_out_excellent_for_the_year():
    quarters = [
        r.QuarterOutcome(1, r.Grade.EXCELLENT),
        r.QuarterOutcome(2, r.Grade.NOT_COMPLETED),
        r.QuarterOutcome(3, r.Grade.EXCELLENT),
    ]
    proposal = r.year_end_proposal(quarters, RULES)
    assert proposal.grade != r.Grade.EXCELLENT
    assert "R14" in [x.rule for x in proposal.reasons]


def test_e12_not_completed_in_q2_and_q3_raises_the_replacement_flag():
    grades = [r.Grade.GOOD, r.Grade.NOT_COMPLETED, r.Grade.NOT_COMPLETED]
    assert r.replacement_flag(grades).value is True


def test_e13_q2_2026_report_is_due_by_4_july_2026():
    assert r.report_deadline(2026, 2, RULES) == date(2026, 7, 4)
