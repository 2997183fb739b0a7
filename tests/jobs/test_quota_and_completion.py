"""R9 quota flags for the decision board, and R7/R8 recomputed after vetting."""

from decimal import Decimal

import pytest

from evaluation import jobs, services
from evaluation.models import Collective, Notification, QuotaGroup
from tests.evaluation import steps
from tests.jobs.helpers import row_counts

pytestmark = pytest.mark.django_db


def propose(u, cadre, grade, *, exceeded=0, points=("8", "8", "7", "7")):
    steps.plan_and_approve(u, cadre)
    steps.self_assess(u, cadre, exceeded=exceeded, points=points)
    steps.vet(u, cadre, points=points)
    evaluation = u.evaluation(cadre)
    return services.evaluation_propose(evaluation=evaluation, actor=u.superior, grade=grade)


def check(u) -> dict:
    return jobs.check_quotas(tenant_id=u.tenant.pk, period_id=u.period.pk)


def test_proposals_over_the_quota_are_flagged_with_the_ranking_then_cleared(tenant):
    u = steps.build_unit(tenant)
    propose(u, u.members[0], "excellent", exceeded=2)
    propose(u, u.members[1], "excellent", exceeded=2, points=("8", "8", "7", "6"))
    propose(u, u.deputies[0], "excellent", exceeded=2, points=("8", "8", "7", "5"))
    propose(u, u.members[2], "good")
    propose(u, u.deputies[1], "good")
    # 3 Excellent and 2 Good: keeping one leaves 4 Good, whose 20 % rounds to 1 (R9).
    assert check(u) == {"flagged": 1, "cleared": 0}
    group = QuotaGroup.objects.get(period=u.period, unit=u.unit)
    assert group.exceeded_at is not None
    ranking = [(c["cadre"], c["within_quota"]) for c in group.ranked_candidates]
    assert ranking == [
        (u.members[0].full_name, True),
        (u.members[1].full_name, False),
        (u.deputies[0].full_name, False),
    ]
    board = Notification.objects.get(kind="quota_exceeded")
    assert board.recipient == u.authority
    assert u.members[1].full_name in board.message

    flagged_at, before = group.exceeded_at, row_counts()
    assert check(u) == {"flagged": 0, "cleared": 0}
    assert row_counts() == before
    group.refresh_from_db()
    assert group.exceeded_at == flagged_at

    for cadre in (u.members[1], u.deputies[0]):
        services.evaluation_decide(evaluation=u.evaluation(cadre), actor=u.authority, grade="good")
    assert check(u) == {"flagged": 0, "cleared": 1}
    group.refresh_from_db()
    assert (group.exceeded_at, group.ranked_candidates) == (None, [])


def grade_collective(u, *, done: int, not_done: int, grade: bool = True):
    collective = services.collective_for(period=u.period, unit=u.unit)
    services.collective_set_targets(
        collective=collective,
        actor=u.authority,
        targets=[{"title": f"Chỉ tiêu {i}"} for i in range(done + not_done)],
    )
    results = {
        t.pk: {"status": "done" if i < done else "not_done"}
        for i, t in enumerate(collective.targets.order_by("pk"))
    }
    services.collective_record_results(collective=collective, actor=u.authority, results=results)
    if grade:
        services.collective_grade(collective=collective, actor=u.authority)
    return collective


def test_a_collective_under_70_percent_recomputes_its_head_and_deputy(tenant):
    """E8 after the fact: vetted as Excellent, then the collective is graded at 65 %."""
    u = steps.build_unit(tenant)
    for cadre in (u.head, u.deputies[0]):
        propose(u, cadre, "excellent", exceeded=2)
        assert u.evaluation(cadre).computed_grade == "excellent"
    grade_collective(u, done=13, not_done=7)

    result = jobs.recompute_completion(tenant_id=tenant.pk, period_id=u.period.pk)
    assert result == {"collectives": 0, "evaluations": 2}
    head, deputy = u.evaluation(u.head), u.evaluation(u.deputies[0])
    assert (head.computed_grade, deputy.computed_grade) == ("not_completed", "good")
    assert head.computed_reasons[-1]["rule"] == "R8"
    assert head.state == "proposed" and head.proposed_grade == "excellent"  # only the rules' view

    before = row_counts()
    assert jobs.recompute_completion(tenant_id=tenant.pk, period_id=u.period.pk) == {
        "collectives": 0,
        "evaluations": 0,
    }
    assert row_counts() == before


def test_a_collective_not_yet_graded_shows_its_live_completion(tenant):
    u = steps.build_unit(tenant)
    grade_collective(u, done=3, not_done=1, grade=False)
    result = jobs.recompute_completion(
        tenant_id=tenant.pk, period_id=u.period.pk, unit_ids=[u.unit.pk]
    )
    assert result == {"collectives": 1, "evaluations": 0}
    collective = Collective.objects.get(period=u.period, unit=u.unit)
    assert collective.completion_percent == Decimal("75")
    assert collective.graded_at is None
    assert collective.reasons[0]["rule"] == "R8"
