"""R8: a collective under 70 % caps its head and its members."""

from decimal import Decimal

import pytest
from django.utils.translation import override

from evaluation import rules as r

RULES = r.DEFAULT_RULE_SET
HEAD, DEPUTY, MEMBER = r.CollectiveRole.HEAD, r.CollectiveRole.DEPUTY, r.CollectiveRole.MEMBER
E, G, C, NC = r.Grade.EXCELLENT, r.Grade.GOOD, r.Grade.COMPLETED, r.Grade.NOT_COMPLETED


@pytest.fixture(autouse=True)
def english():
    with override("en"):
        yield


def targets(done, not_done, excused=0):
    made = [r.CollectiveTarget(i, done=True) for i in range(done)]
    made += [r.CollectiveTarget(done + i, done=False) for i in range(not_done)]
    made += [
        r.CollectiveTarget(done + not_done + i, done=False, excused=True, excuse_reason="Flood")
        for i in range(excused)
    ]
    return made


def graded(grade):
    """A GradeResult with the given grade, as compute_grade would return it."""
    score = r.Score(Decimal(30), Decimal(65), Decimal(95), ())
    return r.GradeResult(grade, score, r.Completion(10, 10, 0, 5, 0), ())


@pytest.mark.parametrize(
    ("done", "not_done", "excused", "percent", "below"),
    [
        (7, 3, 0, Decimal(70), False),  # exactly 70 % is not under
        (69, 31, 0, Decimal(69), True),
        (13, 7, 0, Decimal(65), True),
        (2, 1, 0, Decimal("66.7"), True),
        (10, 0, 0, Decimal(100), False),
        (7, 3, 5, Decimal(70), False),  # excused targets leave the count
        (6, 4, 1, Decimal(60), True),
        (0, 0, 3, Decimal(100), False),  # every target excused
    ],
)
def test_collective_completion(done, not_done, excused, percent, below):
    result = r.collective_completion(targets(done, not_done, excused), RULES)
    assert (result.percent, result.below_threshold) == (percent, below)
    assert result.assigned == done + not_done


def test_the_reason_gives_the_figures():
    result = r.collective_completion(targets(13, 7), RULES)
    assert result.reasons == (
        r.Reason(
            "R8",
            "The collective completed 13 of 20 targets (65%), under the 70% threshold (R8)",
        ),
    )


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ([], "targets"),
        ([r.CollectiveTarget(1, done=True, excused=True, excuse_reason="x")], "targets[0].excused"),
        ([r.CollectiveTarget(1, done=False, excused=True)], "targets[0].excuse_reason"),
    ],
)
def test_bad_targets_name_the_field(bad, field):
    with pytest.raises(r.RuleInputError) as error:
        r.collective_completion(bad, RULES)
    assert error.value.field == field


BELOW = r.collective_completion(targets(13, 7), RULES)
AT_THRESHOLD = r.collective_completion(targets(7, 3), RULES)


@pytest.mark.parametrize(
    ("role", "grade", "collective", "expected"),
    [
        (HEAD, E, BELOW, NC),
        (HEAD, C, BELOW, NC),
        (DEPUTY, E, BELOW, G),
        (MEMBER, E, BELOW, G),
        (DEPUTY, G, BELOW, G),
        (MEMBER, C, BELOW, C),
        (HEAD, E, AT_THRESHOLD, E),
        (DEPUTY, E, AT_THRESHOLD, E),
    ],
)
def test_apply_collective(role, grade, collective, expected):
    assert r.apply_collective(graded(grade), role, collective).grade == expected


def test_the_head_is_told_why():
    result = r.apply_collective(graded(E), HEAD, BELOW)
    assert result.reasons[-1] == r.Reason(
        "R8",
        "The collective completed 65% of its targets (under 70%) → the head is Not completed (R8)",
    )


def test_an_unchanged_grade_gets_no_extra_reason():
    assert r.apply_collective(graded(G), MEMBER, BELOW).reasons == ()
