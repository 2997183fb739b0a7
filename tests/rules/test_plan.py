"""R2: axes and weights of a quarter's plan."""

from datetime import date
from decimal import Decimal

import pytest
from django.utils.translation import override

from evaluation import rules as r

RULES = r.DEFAULT_RULE_SET
Q2_2026 = date(2026, 4, 1)
Q1_2026 = date(2026, 1, 1)
PRIMARY, SECONDARY = r.AxisRole.PRIMARY, r.AxisRole.SECONDARY


@pytest.fixture(autouse=True)
def english():
    with override("en"):
        yield


def plan(*axis_weights):
    """Tasks from (axis, weight) pairs, numbered from 1."""
    return [
        r.Task(number, Decimal(weight), axis=axis)
        for number, (axis, weight) in enumerate(axis_weights, start=1)
    ]


def problems(tasks, roles, quarter_start=Q2_2026):
    return [
        reason.message
        for reason in r.validate_plan(tasks, roles, RULES, quarter_start=quarter_start)
    ]


def test_a_valid_plan_has_no_problems():
    tasks = plan((1, 40), (1, 20), (3, 25), (5, 15))
    assert problems(tasks, {1: PRIMARY, 3: SECONDARY, 5: SECONDARY}) == []


def test_weights_in_thirds_sum_to_exactly_100():
    tasks = plan((1, "33.34"), (2, "33.33"), (3, "33.33"))
    assert problems(tasks, {1: PRIMARY, 2: PRIMARY, 3: PRIMARY}) == []


@pytest.mark.parametrize(
    ("tasks", "roles", "expected"),
    [
        ([], {}, "The plan has no tasks (R2)"),
        (plan((None, 100)), {}, "Task 1 has no result axis (R2)"),
        (plan((7, 100)), {}, "Task 1 has axis 7; axes run from 1 to 6 (R2)"),
        (plan((0, 100)), {}, "Task 1 has axis 0; axes run from 1 to 6 (R2)"),
        (
            plan((1, 100), (1, 0)),
            {1: PRIMARY},
            "Task 2 has weight 0%; a weight must be above 0 (R2)",
        ),
        (
            plan((1, 60), (2, 39)),
            {1: PRIMARY, 2: SECONDARY},
            "Task weights sum to 99%, not 100% (R2)",
        ),
        (
            plan((1, 60), (2, 41)),
            {1: PRIMARY, 2: SECONDARY},
            "Task weights sum to 101%, not 100% (R2)",
        ),
        (
            plan((1, 60), (2, 40)),
            {1: PRIMARY},
            "Axis 2 has tasks but is not marked primary or secondary (R2)",
        ),
        (
            plan((1, 60), (2, 40)),
            {1: PRIMARY, 2: SECONDARY, 8: SECONDARY},
            "Axis 8 is marked but axes run from 1 to 6 (R2)",
        ),
        (plan((1, 60), (2, 40)), {1: SECONDARY, 2: SECONDARY}, "No axis is marked primary (R2)"),
        (plan((1, 100)), {1: PRIMARY, 4: PRIMARY}, "Primary axis 4 has no tasks (R2)"),
        (
            plan((1, 50), (2, 50)),
            {1: PRIMARY, 2: SECONDARY},
            "Primary axis 1 carries 50%, not more than secondary axis 2 with 50% (R2)",
        ),
        (
            plan((1, 30), (2, 30), (3, 40)),
            {1: PRIMARY, 2: PRIMARY, 3: SECONDARY},
            "Primary axis 1 carries 30%, not more than secondary axis 3 with 40% (R2)",
        ),
    ],
)
def test_each_problem_is_reported(tasks, roles, expected):
    assert expected in problems(tasks, roles)


def test_every_primary_axis_must_beat_every_secondary_axis():
    tasks = plan((1, 45), (2, 25), (3, 30))
    assert problems(tasks, {1: PRIMARY, 2: PRIMARY, 3: SECONDARY}) == [
        "Primary axis 2 carries 25%, not more than secondary axis 3 with 30% (R2)"
    ]


def test_a_secondary_axis_without_tasks_is_harmless():
    assert problems(plan((1, 100)), {1: PRIMARY, 6: SECONDARY}) == []


def test_before_q2_2026_tasks_need_weights_but_no_axes():
    tasks = plan((None, 70), (None, 30))
    assert problems(tasks, {}, quarter_start=Q1_2026) == []
    assert problems(plan((None, 70), (None, 20)), {}, quarter_start=Q1_2026) == [
        "Task weights sum to 90%, not 100% (R2)"
    ]


def test_all_problems_are_listed_for_live_display():
    tasks = plan((None, 50), (9, 0))
    assert problems(tasks, {}) == [
        "Task 1 has no result axis (R2)",
        "Task 2 has axis 9; axes run from 1 to 6 (R2)",
        "Task 2 has weight 0%; a weight must be above 0 (R2)",
        "Task weights sum to 50%, not 100% (R2)",
        "No axis is marked primary (R2)",
    ]


@pytest.mark.parametrize(
    ("tasks", "roles", "field"),
    [
        ([], {}, "tasks"),
        (plan((1, 60), (None, 40)), {1: PRIMARY}, "tasks[1].axis"),
        (plan((1, 60), (7, 40)), {1: PRIMARY}, "tasks[1].axis"),
        (plan((1, 100), (1, -5)), {1: PRIMARY}, "tasks[1].weight"),
        (plan((1, 60), (2, 30)), {1: PRIMARY, 2: SECONDARY}, "tasks"),
        (plan((1, 50), (2, 50)), {1: PRIMARY, 2: SECONDARY}, "axis_roles"),
    ],
)
def test_check_plan_raises_naming_the_field(tasks, roles, field):
    with pytest.raises(r.RuleInputError) as error:
        r.check_plan(tasks, roles, RULES, quarter_start=Q2_2026)
    assert error.value.field == field


def test_check_plan_passes_a_valid_plan():
    r.check_plan(plan((1, 60), (2, 40)), {1: PRIMARY, 2: SECONDARY}, RULES, quarter_start=Q2_2026)
