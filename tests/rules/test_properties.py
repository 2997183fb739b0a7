"""Properties of the rules over generated input (hypothesis, bounded to stay fast)."""

from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from evaluation import rules as r

RULES = r.DEFAULT_RULE_SET
CRITERIA = RULES.general_criteria

# Bounded so that the whole rules suite runs in a few seconds.
PROPERTY = settings(max_examples=200, deadline=None)

scores = st.decimals(min_value=0, max_value=100, places=1)
percents = st.integers(min_value=0, max_value=100)


@st.composite
def completions(draw):
    assigned = draw(st.integers(0, 20))
    done = draw(st.integers(0, assigned))
    return r.Completion(
        assigned=assigned,
        done=done,
        late=draw(st.integers(0, done)),
        exceeded=draw(st.integers(0, done)),
        excused=draw(st.integers(0, 3)),
    )


@st.composite
def tasks(draw):
    """A valid task list: whole weights summing to 100 and consistent outcomes."""
    cuts = sorted(draw(st.sets(st.integers(1, 99), max_size=9)))
    bounds = [0, *cuts, 100]
    made = []
    for number, (low, high) in enumerate(pairwise(bounds)):
        done = draw(st.booleans())
        excused = not done and draw(st.booleans())
        made.append(
            r.Task(
                number,
                Decimal(high - low),
                axis=draw(st.integers(1, 6)),
                done=done,
                late=done and draw(st.booleans()),
                exceeded=done and draw(st.booleans()),
                quality_level=draw(st.integers(1, 3)) if done else None,
                excused=excused,
                excuse_reason="Flood" if excused else "",
                difficulty=draw(st.sampled_from([Decimal(1), Decimal("1.5"), Decimal(2)])),
            )
        )
    return made


general_points = st.tuples(*(st.decimals(0, c.max_points, places=1) for c in CRITERIA)).map(
    lambda values: {c.code: v for c, v in zip(CRITERIA, values, strict=True)}
)

candidates = st.lists(st.tuples(scores, st.integers(0, 4), st.booleans()), max_size=25).map(
    lambda rows: [r.QuotaCandidate(i, s, q, head) for i, (s, q, head) in enumerate(rows)]
)


@PROPERTY
@given(candidates, st.integers(0, 200), percents)
def test_allocation_never_breaks_the_quota_and_is_maximal(candidates, others_good, percent):
    allocation = r.allocate_excellent(candidates, others_good, percent)
    heads = {c.id for c in candidates if c.is_head}
    members = [c for c in candidates if not c.is_head]
    kept = [i for i in allocation.allowed if i not in heads]
    assert heads <= set(allocation.allowed)
    assert sorted([*allocation.allowed, *allocation.demoted]) == [c.id for c in candidates]
    good = others_good + len(members) - len(kept)
    assert allocation.good_count == good
    assert r.quota_check(len(kept), good, percent).within_quota
    if allocation.demoted:
        assert not r.quota_check(len(kept) + 1, good - 1, percent).within_quota
    if allocation.demoted and kept:
        score_of = {c.id: c.score for c in members}
        assert min(score_of[i] for i in kept) >= max(score_of[i] for i in allocation.demoted)


@PROPERTY
@given(scores, scores, completions())
def test_the_grade_never_rises_when_the_score_falls(score, lower, completion):
    low, high = sorted((score, lower))
    low_grade = r.grade_from_score(low, completion, RULES).value
    high_grade = r.grade_from_score(high, completion, RULES).value
    assert low_grade.rank <= high_grade.rank


@st.composite
def worsened(draw):
    """A completion and the same with one condition worse: a task late, not done or not exceeded."""
    completion = draw(completions().filter(lambda c: c.done > 0))
    change = draw(st.sampled_from(["late", "not_done", "not_exceeded"]))
    if change == "late" and completion.late < completion.done:
        return completion, replace(completion, late=completion.late + 1)
    if change == "not_exceeded" and completion.exceeded:
        return completion, replace(completion, exceeded=completion.exceeded - 1)
    done = completion.done - 1
    return completion, replace(
        completion,
        done=done,
        late=min(completion.late, done),
        exceeded=min(completion.exceeded, done),
    )


@PROPERTY
@given(scores, worsened())
def test_the_grade_never_rises_when_a_condition_worsens(score, pair):
    better, worse = pair
    assert (
        r.grade_from_score(score, worse, RULES).value.rank
        <= r.grade_from_score(score, better, RULES).value.rank
    )


@PROPERTY
@given(general_points, tasks(), st.data())
def test_a_task_turning_late_or_undone_never_raises_the_grade(points, task_list, data):
    done = [i for i, task in enumerate(task_list) if task.done and not task.late]
    assume(done)
    index = data.draw(st.sampled_from(done))
    worse_task = data.draw(
        st.sampled_from(
            [
                replace(task_list[index], late=True),
                replace(task_list[index], done=False, late=False, exceeded=False),
            ]
        )
    )
    worse = [*task_list[:index], worse_task, *task_list[index + 1 :]]
    before = r.compute_grade(r.AssessmentInput(points, task_list), RULES)
    after = r.compute_grade(r.AssessmentInput(points, worse), RULES)
    assert after.score.total <= before.score.total
    assert after.grade.rank <= before.grade.rank


@PROPERTY
@given(general_points, tasks(), st.booleans())
def test_scores_stay_within_their_parts(points, task_list, by_difficulty):
    rules = replace(RULES, weight_by_difficulty=by_difficulty)
    score = r.total_score(points, task_list, rules)
    assert 0 <= score.general <= 30
    assert 0 <= score.results <= 70
    assert 0 <= score.total <= 100
    assert score.total == score.general + score.results
    assert score.total == score.total.quantize(Decimal("0.1"))


@settings(PROPERTY, max_examples=500)
@given(st.integers(0, 10_000), percents)
def test_integer_round_half_up_agrees_with_decimal_quantize(count_good, percent):
    exact = Decimal(percent * count_good) / 100
    expected = int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    assert r.excellent_quota(count_good, percent).value == expected
