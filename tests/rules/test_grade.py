"""R4–R7: grades, bands and conditions, forced Not completed, and the 100 % rule."""

import json
from dataclasses import replace
from decimal import Decimal

import pytest
from django.utils.translation import override

from evaluation import rules as r

RULES = r.DEFAULT_RULE_SET
E, G, C, NC = r.Grade.EXCELLENT, r.Grade.GOOD, r.Grade.COMPLETED, r.Grade.NOT_COMPLETED
FULL_POINTS = {c.code: c.max_points for c in RULES.general_criteria}


@pytest.fixture(autouse=True)
def english():
    with override("en"):
        yield


def completion(assigned=10, done=None, late=0, exceeded=0, excused=0):
    return r.Completion(assigned, assigned if done is None else done, late, exceeded, excused)


def grade(score, done_figures, **kwargs):
    return r.grade_from_score(Decimal(score), done_figures, RULES, **kwargs).value


def assessment(tasks, **kwargs):
    return r.AssessmentInput(FULL_POINTS, tasks, **kwargs)


def ten_tasks(**first_task):
    """Ten tasks of 10 %, all done on time at level 1, three exceeded; `first_task` overrides."""
    tasks = [
        r.Task(i, Decimal(10), axis=1, done=True, quality_level=1, exceeded=i >= 7)
        for i in range(10)
    ]
    tasks[0] = replace(tasks[0], **first_task)
    return tasks


def test_grades_have_values_labels_and_a_rank():
    assert [g.value for g in r.Grade] == ["excellent", "good", "completed", "not_completed"]
    assert [str(g.label) for g in r.Grade] == ["Excellent", "Good", "Completed", "Not completed"]
    assert [g.rank for g in r.Grade] == [4, 3, 2, 1]
    assert E.is_higher_than(G) and G.is_higher_than("completed") and not NC.is_higher_than(C)
    assert max(r.Grade, key=lambda g: g.rank) == E


@pytest.mark.parametrize(
    ("score", "figures", "expected"),
    [
        ("90", completion(exceeded=3), E),  # floor exactly 90, exceeded exactly 30 %
        ("89.9", completion(exceeded=3), G),
        ("100", completion(exceeded=2), G),  # 20 % exceeded is not enough (E4)
        ("70", completion(), G),  # floor exactly 70
        ("69.9", completion(), C),
        ("50", completion(), C),  # floor exactly 50
        ("49.9", completion(), NC),
        ("95", completion(late=1, exceeded=5), C),  # one late of ten: no Excellent, no Good
        ("85", completion(late=1), C),  # E5
        ("60", completion(late=2), C),  # exactly 20 % late is allowed
        ("60", completion(late=3), NC),  # 30 % late is not
        ("95", completion(done=9, exceeded=5), NC),  # a task not done fails every grade
        ("95", completion(assigned=0, done=0, excused=4), G),  # all excused: nothing exceeded
        ("0", completion(), NC),
    ],
)
def test_the_highest_grade_whose_floor_and_conditions_hold(score, figures, expected):
    assert grade(score, figures) == expected


def test_a_leader_is_excellent_only_if_the_units_led_are_too():
    figures = completion(exceeded=5)
    assert grade("95", figures, led_units_meet_excellent=True) == E
    assert grade("95", figures, led_units_meet_excellent=None) == E
    assert grade("95", figures, led_units_meet_excellent=False) == G


def test_the_reasons_say_which_condition_failed_at_each_level():
    ruling = r.grade_from_score(Decimal("95"), completion(late=1, exceeded=1), RULES)
    assert [reason.message for reason in ruling.reasons] == [
        "Score 95 reaches the Excellent floor of 90, but 1 of 10 tasks were late (R5)",
        "Score 95 reaches the Excellent floor of 90, but 1 of 10 tasks exceeded the requirement "
        "(10%; 30% needed) (R5)",
        "Score 95 reaches the Good floor of 70, but 1 of 10 tasks were late (R5)",
        "Score 95 reaches the Completed floor of 50 and every condition holds → Completed (R5)",
    ]


@pytest.mark.parametrize(
    ("score", "figures", "message"),
    [
        ("49.9", completion(), "Score 49.9 is below 50 → Not completed (R5)"),
        (
            "60",
            completion(late=3),
            "No grade has both its floor and its conditions met → Not completed (R5)",
        ),
    ],
)
def test_not_completed_says_why(score, figures, message):
    assert r.grade_from_score(Decimal(score), figures, RULES).reasons[-1].message == message


@pytest.mark.parametrize(
    ("score", "figures", "field"),
    [
        ("-0.1", completion(), "score"),
        ("100.1", completion(), "score"),
        ("80", completion(done=11), "completion"),
        ("80", completion(late=11), "completion"),
        ("80", completion(done=5, exceeded=6), "completion"),
    ],
)
def test_grade_from_score_refuses_impossible_input(score, figures, field):
    with pytest.raises(r.RuleInputError) as error:
        r.grade_from_score(Decimal(score), figures, RULES)
    assert error.value.field == field


def test_compute_grade_full_marks_is_excellent():
    result = r.compute_grade(assessment(ten_tasks()), RULES)
    assert (result.grade, result.score.total) == (E, Decimal("100.0"))
    assert result.completion == r.Completion(10, 10, 0, 3, 0)
    assert result.completion.percent == 100


@pytest.mark.parametrize(
    ("flags", "rule_count"),
    [
        ({"reprimand_or_above": True}, 1),
        ({"degradation_found": True}, 1),
        ({"reprimand_or_above": True, "degradation_found": True}, 2),
    ],
)
def test_discipline_or_degradation_forces_not_completed(flags, rule_count):
    result = r.compute_grade(assessment(ten_tasks(), **flags), RULES)
    assert result.grade == NC
    assert [reason.rule for reason in result.reasons].count("R6") == rule_count


def test_the_quarter_rule_for_discipline_can_be_switched_off():
    annual_only = replace(RULES, forced_not_completed_in_quarter=False)
    assert r.compute_grade(assessment(ten_tasks(), reprimand_or_above=True), annual_only).grade == E


@pytest.mark.parametrize(
    ("first_task", "expected"),
    [
        ({}, E),
        ({"done": False, "quality_level": None, "exceeded": False}, NC),  # 9/10: under 100 %
        ({"quality_level": 3}, NC),  # level 3 is not completed (DEFAULT)
        ({"done": False, "quality_level": None, "excused": True, "excuse_reason": "Flood"}, E),
    ],
)
def test_under_100_percent_is_not_completed_unless_excused(first_task, expected):
    assert r.compute_grade(assessment(ten_tasks(**first_task)), RULES).grade == expected


def test_level_three_can_count_as_done_when_the_tenant_says_so():
    lenient = replace(RULES, level_three_not_completed=False)
    result = r.compute_grade(assessment(ten_tasks(quality_level=3)), lenient)
    assert result.completion.done == 10
    assert (result.score.total, result.grade) == (Decimal("93.0"), E)


def test_under_100_percent_reason_reads_well():
    result = r.compute_grade(assessment(ten_tasks(quality_level=3)), RULES)
    assert result.reasons[-1] == r.Reason(
        "R7", "Completed 9/10 tasks (under 100%) → Not completed (R7)"
    )


def test_excused_tasks_are_counted_out_with_a_reason():
    excused = {"done": False, "quality_level": None, "excused": True, "excuse_reason": "Flood"}
    result = r.compute_grade(assessment(ten_tasks(**excused)), RULES)
    assert result.completion == r.Completion(9, 9, 0, 3, 1)
    assert r.Reason("R7", "Tasks excused by confirmed force majeure leave the count: 1 (R7)") in (
        result.reasons
    )


def test_a_role_without_the_collective_result_is_an_error():
    with pytest.raises(r.RuleInputError) as error:
        r.compute_grade(assessment(ten_tasks(), role=r.CollectiveRole.HEAD), RULES)
    assert error.value.field == "collective"


def test_grade_result_as_dict_is_json_safe():
    stored = json.loads(json.dumps(r.compute_grade(assessment(ten_tasks()), RULES).as_dict()))
    assert stored["grade"] == "excellent"
    assert stored["score"] == "100.0"
    assert stored["completion"]["exceeded"] == 3
    assert stored["reasons"][-1] == {
        "rule": "R5",
        "message": "Score 100.0 reaches the Excellent floor of 90 and every condition holds "
        "→ Excellent (R5)",
    }


def test_every_reason_names_its_rule_in_the_sentence():
    result = r.compute_grade(assessment(ten_tasks(late=True)), RULES)
    assert all(f"({reason.rule})" in reason.message for reason in result.reasons)


def test_vietnamese_writes_decimals_with_a_comma():
    tasks = ten_tasks(late=True)
    with override("vi"):
        result = r.compute_grade(assessment(tasks), RULES)
    assert "98,3" in result.reasons[0].message
    assert result.score.total == Decimal("98.3")
