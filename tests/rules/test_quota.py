"""R9 and R10: the Excellent quota, its allocation and the year-end ranking."""

from decimal import Decimal

import pytest
from django.utils.translation import override

from evaluation import rules as r


@pytest.fixture(autouse=True)
def english():
    with override("en"):
        yield


def candidate(id, score, quarters=0, head=False):
    return r.QuotaCandidate(id, Decimal(score), quarters, head)


@pytest.mark.parametrize(
    ("good", "percent", "quota"),
    [
        (7, 20, 1),  # 1.4 (E1)
        (8, 20, 2),  # 1.6 (E2)
        (2, 25, 1),  # 0.5 rounds up (E3)
        (2, 20, 0),  # 0.4
        (3, 20, 1),  # 0.6
        (5, 20, 1),  # exactly 1
        (10, 25, 3),  # 2.5 rounds up
        (18, 25, 5),  # 4.5 rounds up
        (0, 20, 0),
        (100, 20, 20),
        (9, 0, 0),
        (9, 100, 9),
    ],
)
def test_excellent_quota_rounds_half_up(good, percent, quota):
    assert r.excellent_quota(good, percent).value == quota


@pytest.mark.parametrize(
    ("good", "percent", "field"),
    [
        (-1, 20, "count_good"),
        (7, 101, "percent"),
        (7, -5, "percent"),
        (7, 20.0, "percent"),
        (7, True, "percent"),
        ("7", 20, "count_good"),
    ],
)
def test_excellent_quota_refuses_bad_input(good, percent, field):
    with pytest.raises(r.RuleInputError) as error:
        r.excellent_quota(good, percent)
    assert error.value.field == field


def test_allocation_keeps_the_largest_number_the_quota_allows():
    # Keeping 3 leaves 7 Good (quota 1); keeping 2 leaves 8 Good (quota 2).
    candidates = [candidate("a", 95), candidate("b", 97), candidate("c", 91)]
    allocation = r.allocate_excellent(candidates, others_good_count=7, percent=20)
    assert (allocation.allowed, allocation.demoted) == (("b", "a"), ("c",))
    assert (allocation.quota, allocation.good_count) == (2, 8)
    assert [reason.message for reason in allocation.reasons] == [
        "20% of 8 Good is 1.6, rounded half up → at most 2 Excellent (R9)",
        "Kept 2 of 3 candidates: one more would leave 7 Good and a quota of 1 (R9)",
        "c ranks 3 of 3 by score, then quarters proposed Excellent → Good (R9)",
    ]


@pytest.mark.parametrize(
    ("count", "others", "percent", "kept"),
    [
        (0, 10, 20, 0),
        (1, 0, 20, 0),  # one Excellent needs at least three Good at 20 %
        (1, 2, 20, 0),  # 0.4 of two Good rounds down
        (1, 3, 20, 1),  # 0.6 of three Good rounds up
        (1, 2, 25, 1),  # 0.5 of two Good rounds up (E3)
        (5, 5, 20, 2),
        (10, 40, 20, 8),
        (10, 40, 25, 10),
    ],
)
def test_allocation_table(count, others, percent, kept):
    candidates = [candidate(i, 90 + i % 10) for i in range(count)]
    allocation = r.allocate_excellent(candidates, others, percent)
    assert len(allocation.allowed) == kept
    assert len(allocation.demoted) == count - kept


def test_ties_break_on_quarters_proposed_excellent_then_id():
    candidates = [
        candidate(3, 92, quarters=1),
        candidate(2, 92, quarters=2),
        candidate(1, 92, quarters=1),
    ]
    allocation = r.allocate_excellent(candidates, others_good_count=4, percent=20)
    assert (allocation.allowed, allocation.demoted) == ((2,), (1, 3))


def test_the_head_is_outside_the_members_quota():
    candidates = [candidate("head", 91, head=True), candidate("member", 99)]
    allocation = r.allocate_excellent(candidates, others_good_count=0, percent=20)
    assert (allocation.allowed, allocation.demoted) == (("head",), ("member",))
    assert allocation.reasons[0] == r.Reason(
        "R9", "head is the head, outside the members' quota (R9)"
    )


def test_year_end_allocation_ranks_by_quarters_proposed_excellent_first():
    candidates = [candidate("a", 99, quarters=2), candidate("b", 91, quarters=4)]
    allocation = r.allocate_excellent(candidates, others_good_count=4, percent=20, year_end=True)
    assert (allocation.allowed, allocation.demoted) == (("b",), ("a",))
    assert allocation.reasons[-1].rule == "R10"


def test_duplicate_ids_are_refused():
    with pytest.raises(r.RuleInputError) as error:
        r.allocate_excellent([candidate(1, 95), candidate(1, 96)], 10, 20)
    assert error.value.field == "candidates[1].id"


@pytest.mark.parametrize(
    ("others", "percent", "field"),
    [(-1, 20, "others_good_count"), (10, 26.0, "percent"), (10, 120, "percent")],
)
def test_allocation_refuses_bad_counts(others, percent, field):
    with pytest.raises(r.RuleInputError) as error:
        r.allocate_excellent([candidate(1, 95)], others, percent)
    assert error.value.field == field


@pytest.mark.parametrize(
    ("decided", "good", "percent", "within", "quota"),
    [
        (1, 7, 20, True, 1),
        (2, 7, 20, False, 1),
        (2, 8, 20, True, 2),
        (1, 2, 25, True, 1),
        (0, 0, 20, True, 0),
        (1, 0, 20, False, 0),
    ],
)
def test_quota_check(decided, good, percent, within, quota):
    check = r.quota_check(decided, good, percent)
    assert (check.within_quota, check.quota) == (within, quota)


def test_quota_check_explains_a_refusal():
    check = r.quota_check(2, 7, 20)
    assert check.reasons[-1].message == (
        "2 Excellent exceeds the quota of 1; rank the candidates by score (R9)"
    )


def test_year_end_candidates_rank_by_quarters_proposed_excellent_then_score():
    candidates = [
        candidate("low-score", 90, quarters=3),
        candidate("one-quarter", 99, quarters=1),
        candidate("high-score", 95, quarters=3),
    ]
    ranking = r.rank_year_end_candidates(candidates)
    assert ranking.value == ("high-score", "low-score", "one-quarter")
    assert ranking.reasons[0].message == (
        "1. high-score: 3 quarters proposed Excellent, score 95 (R10)"
    )


def test_mixed_int_and_string_ids_still_sort():
    ranking = r.rank_year_end_candidates([candidate("x", 90), candidate(7, 90)])
    assert ranking.value == (7, "x")
