"""R1 and R3: the 100-point score, its rounding, and excused tasks."""

from dataclasses import replace
from decimal import Decimal

import pytest
from django.utils.translation import override

from evaluation import rules as r

RULES = r.DEFAULT_RULE_SET
FULL_POINTS = {c.code: c.max_points for c in RULES.general_criteria}


@pytest.fixture(autouse=True)
def english():
    with override("en"):
        yield


def task(number, weight, **outcome):
    outcome.setdefault("done", True)
    if outcome["done"]:
        outcome.setdefault("quality_level", 1)
    return r.Task(number, Decimal(weight), axis=1, **outcome)


def results(*tasks, rules=RULES):
    return r.task_results_score(list(tasks), rules).value


@pytest.mark.parametrize(
    ("outcome", "expected"),
    [
        ({}, Decimal("70.0")),
        ({"quality_level": 2}, Decimal("52.5")),
        ({"quality_level": 3}, Decimal("0.0")),
        ({"late": True}, Decimal("52.5")),
        ({"quality_level": 2, "late": True}, Decimal("39.4")),  # 39.375 rounds up
        ({"done": False}, Decimal("0.0")),
    ],
)
def test_one_task_of_each_outcome(outcome, expected):
    assert results(task(1, 100, **outcome)) == expected


@pytest.mark.parametrize(
    ("late_weight", "expected"),
    [
        (Decimal(10), Decimal("68.3")),  # 68.25: half up, where banker's rounding gives 68.2
        (Decimal(30), Decimal("64.8")),  # 64.75
        (Decimal(2), Decimal("69.7")),  # 69.65
        (Decimal("0.2"), Decimal("70.0")),  # 69.965
    ],
)
def test_results_round_half_up_to_one_decimal(late_weight, expected):
    assert results(task(1, 100 - late_weight), task(2, late_weight, late=True)) == expected


def test_one_late_task_of_ten():
    tasks = [task(i, 10, late=i == 0) for i in range(10)]
    assert results(*tasks) == Decimal("68.3")


def test_a_task_not_done_keeps_its_weight_in_the_denominator():
    assert results(task(1, 75), task(2, 25, done=False)) == Decimal("52.5")


def test_an_excused_task_leaves_the_denominator():
    excused = task(2, 25, done=False, excused=True, excuse_reason="Flood")
    assert results(task(1, 75), excused) == Decimal("70.0")


def test_difficulty_multiplies_the_weight_only_when_the_rule_set_says_so():
    hard_and_late = task(1, 50, late=True, difficulty=Decimal(3))
    easy = task(2, 50)
    assert results(hard_and_late, easy) == Decimal("61.3")  # 70 × 87.5 / 100 = 61.25
    by_difficulty = replace(RULES, weight_by_difficulty=True)
    assert results(hard_and_late, easy, rules=by_difficulty) == Decimal("56.9")  # 70 × 162.5 / 200


def test_total_is_general_plus_results_with_one_reason():
    points = dict(FULL_POINTS, ethics_lifestyle=Decimal("7.5"))
    score = r.total_score(points, [task(1, 60), task(2, 40, quality_level=2)], RULES)
    assert (score.general, score.results, score.total) == (
        Decimal("29.5"),
        Decimal("63.0"),
        Decimal("92.5"),
    )
    assert score.reasons == (
        r.Reason(
            "R1",
            "Score 92.5 of 100: general criteria 29.5 of 30 plus task results 63.0 of 70 "
            "over 2 assessed tasks (R1)",
        ),
    )


def test_general_points_round_half_up():
    points = dict(FULL_POINTS, political_ideology=Decimal("7.25"), ethics_lifestyle=Decimal("7.8"))
    assert r.total_score(points, [task(1, 100)], RULES).general == Decimal("29.1")  # 29.05


def test_when_every_task_is_excused_the_results_follow_the_general_criteria():
    excused = [task(i, 50, done=False, excused=True, excuse_reason="Typhoon") for i in (1, 2)]
    score = r.total_score(dict.fromkeys(FULL_POINTS, Decimal(6)), excused, RULES)
    assert (score.general, score.results, score.total) == (
        Decimal("24.0"),
        Decimal("56.0"),
        Decimal("80.0"),
    )
    assert score.reasons[0].rule == "R3"
    assert r.task_results_score(excused, RULES).value is None


@pytest.mark.parametrize(
    ("points", "field"),
    [
        ({**FULL_POINTS, "ethics_lifestyle": Decimal("-0.5")}, "general_points.ethics_lifestyle"),
        ({**FULL_POINTS, "ethics_lifestyle": Decimal("8.5")}, "general_points.ethics_lifestyle"),
        (
            {k: v for k, v in FULL_POINTS.items() if k != "political_ideology"},
            "general_points.political_ideology",
        ),
        ({**FULL_POINTS, "leadership": Decimal(1)}, "general_points.leadership"),
    ],
)
def test_bad_general_points_name_the_criterion(points, field):
    with pytest.raises(r.RuleInputError) as error:
        r.total_score(points, [task(1, 100)], RULES)
    assert error.value.field == field


@pytest.mark.parametrize(
    ("bad_task", "field"),
    [
        (task(2, 50, quality_level=4), "tasks[1].quality_level"),
        (task(2, 50, quality_level=0), "tasks[1].quality_level"),
        (r.Task(2, Decimal(50), done=True), "tasks[1].quality_level"),
        (r.Task(2, Decimal(50), axis=7), "tasks[1].axis"),
        (task(2, 0), "tasks[1].weight"),
        (task(2, 50, difficulty=Decimal(0)), "tasks[1].difficulty"),
        (task(2, 50, excused=True, excuse_reason="Flood"), "tasks[1].excused"),
        (task(2, 50, done=False, late=True), "tasks[1].late"),
        (task(2, 50, done=False, exceeded=True), "tasks[1].exceeded"),
        (task(2, 50, done=False, excused=True), "tasks[1].excuse_reason"),
        (task(2, 50, done=False, excused=True, excuse_reason="  "), "tasks[1].excuse_reason"),
        (task(2, 40), "tasks"),
    ],
)
def test_bad_tasks_name_the_field(bad_task, field):
    with pytest.raises(r.RuleInputError) as error:
        r.task_results_score([task(1, 50), bad_task], RULES)
    assert error.value.field == field


def test_no_tasks_is_an_error():
    with pytest.raises(r.RuleInputError) as error:
        r.total_score(FULL_POINTS, [], RULES)
    assert error.value.field == "tasks"
