"""One quarter of one unit through all five steps with the real services (issue: workflow)."""

from decimal import Decimal

import pytest
from django.core import mail

from evaluation import services
from evaluation.exceptions import QuotaExceeded
from evaluation.models import (
    Discrepancy,
    EvaluationState,
    Notification,
    PublishedResult,
    TransitionLog,
)
from tests.evaluation import steps


def grade_collective(u, *, done: int, not_done: int, excused: int = 0):
    collective = services.collective_for(period=u.period, unit=u.unit)
    targets = [
        {"title": f"Chỉ tiêu {i}", "assigned_by": "Tỉnh ủy"}
        for i in range(done + not_done + excused)
    ]
    services.collective_set_targets(collective=collective, actor=u.authority, targets=targets)
    results = {}
    for i, target in enumerate(collective.targets.order_by("pk")):
        if i < done:
            results[target.pk] = {"status": "done"}
        elif i < done + not_done:
            results[target.pk] = {"status": "not_done"}
        else:
            results[target.pk] = {
                "status": "not_done",
                "force_majeure_confirmed": True,
                "force_majeure_reason": "Bão số 3 làm gián đoạn thi công",
            }
    services.collective_record_results(collective=collective, actor=u.authority, results=results)
    return services.collective_grade(collective=collective, actor=u.authority)


def test_a_whole_quarter_for_head_deputies_members_and_collective(unit):
    u = unit
    for cadre in u.cadres:
        # Five tasks for members[3]: one late of five is the 20 % Completed allows.
        steps.plan_and_approve(u, cadre, count=5 if cadre == u.members[3] else 4)
    # Step 2. Figures chosen so that every grade appears.
    steps.self_assess(u, u.head, exceeded=2)
    steps.self_assess(u, u.deputies[0], exceeded=2, points=("8", "8", "7", "5"))
    steps.self_assess(u, u.deputies[1])
    steps.self_assess(u, u.members[0], exceeded=2)
    steps.self_assess(u, u.members[1], exceeded=2, points=("8", "8", "7", "6"))
    steps.self_assess(u, u.members[2])
    steps.self_assess(u, u.members[3], late=1)
    steps.self_assess(u, u.members[4], not_done=1, confirm=True)
    # Step 3a: vetting confirms the cadres' figures.
    steps.vet(u, u.head)
    steps.vet(u, u.deputies[0], points=("8", "8", "7", "5"))
    steps.vet(u, u.deputies[1])
    steps.vet(u, u.members[0])
    steps.vet(u, u.members[1], points=("8", "8", "7", "6"))
    steps.vet(u, u.members[2])
    steps.vet(u, u.members[3], late=1)
    steps.vet(u, u.members[4], not_done=1)
    expected = {
        u.head: ("excellent", "100.0"),
        u.deputies[0]: ("excellent", "98.0"),
        u.deputies[1]: ("good", "100.0"),
        u.members[0]: ("excellent", "100.0"),
        u.members[1]: ("excellent", "99.0"),
        u.members[2]: ("good", "100.0"),
        u.members[3]: ("completed", "96.5"),
        u.members[4]: ("not_completed", "82.5"),
    }
    for cadre, (grade, score) in expected.items():
        evaluation = u.evaluation(cadre)
        assert (evaluation.computed_grade, str(evaluation.vetted_score)) == (grade, score), cadre
    assert any(r["rule"] == "R7" for r in u.evaluation(u.members[4]).computed_reasons)

    # Step 3b: the superior proposes what the vetting found.
    for cadre, (grade, _score) in expected.items():
        services.evaluation_propose(
            evaluation=u.evaluation(cadre), actor=u.superior, grade=grade, comment="Đề xuất"
        )

    # Step 4: the collective first (8 of 9 counted targets = 88.9 %), then its people.
    collective = grade_collective(u, done=8, not_done=1, excused=1)
    assert collective.completion_percent == Decimal("88.9")
    decided = {}
    for cadre in [u.head, u.members[0], u.members[2], u.members[3], u.members[4], u.deputies[1]]:
        decided[cadre] = services.evaluation_decide(
            evaluation=u.evaluation(cadre), actor=u.authority, grade=expected[cadre][0]
        )
    # 7 members outside the head; 3 proposed Excellent and 2 Good: the quota keeps 1.
    rankings = {
        u.members[1]: [u.members[0], u.members[1], u.deputies[0]],
        u.deputies[0]: [u.members[0], u.deputies[0]],  # members[1] is Good by now
    }
    for cadre, expected_ranking in rankings.items():
        with pytest.raises(QuotaExceeded) as excinfo:
            services.evaluation_decide(
                evaluation=u.evaluation(cadre), actor=u.authority, grade="excellent"
            )
        ranking = [c["cadre"] for c in excinfo.value.ranked_candidates]
        assert ranking == [c.full_name for c in expected_ranking]
        assert u.evaluation(cadre).state == EvaluationState.PROPOSED
        decided[cadre] = services.evaluation_decide(
            evaluation=u.evaluation(cadre), actor=u.authority, grade="good", comment="Hạn mức"
        )
    grades = {c: e.decided_grade for c, e in decided.items()}
    assert grades == {
        u.head: "excellent",  # outside the members' quota
        u.members[0]: "excellent",
        u.members[1]: "good",
        u.deputies[0]: "good",
        u.members[2]: "good",
        u.deputies[1]: "good",
        u.members[3]: "completed",
        u.members[4]: "not_completed",
    }
    # R17: the two proposals above the decision are recorded against the proposer.
    discrepancies = Discrepancy.objects.filter(proposer=u.superior)
    assert sorted(d.evaluation.cadre.full_name for d in discrepancies) == sorted(
        [u.members[1].full_name, u.deputies[0].full_name]
    )
    assert {d.head for d in discrepancies} == {u.head}

    # Step 5: publication.
    mail.outbox.clear()
    assert services.period_publish(period=u.period, actor=u.organisation) == 8
    for cadre in u.cadres:
        evaluation = u.evaluation(cadre)
        assert evaluation.state == EvaluationState.PUBLISHED
        record = PublishedResult.objects.get(evaluation=evaluation)
        assert record.grade == grades[cadre]
        assert record.snapshot["cadre"]["full_name"] == cadre.full_name
        assert Notification.objects.filter(recipient=cadre.user, kind="published").count() == 1
        actions = list(
            TransitionLog.objects.filter(evaluation=evaluation).values_list("action", flat=True)
        )
        assert actions == [
            "submit_plan",
            "approve_plan",
            "self_assess",
            "vet",
            "propose",
            "decide",
            "publish",
        ]
    assert len(mail.outbox) == 0  # the demo accounts have no e-mail address


def test_collective_under_70_percent_makes_the_head_not_completed_and_caps_deputies(unit):
    """E8: the collective at 65 %; a deputy with 93 and an exceeded field is at most Good."""
    u = unit
    for cadre in [u.head, u.deputies[0]]:
        steps.plan_and_approve(u, cadre)
        steps.self_assess(u, cadre, exceeded=2)
        steps.vet(u, cadre, points=("8", "8", "7", "7"))
        services.evaluation_propose(
            evaluation=u.evaluation(cadre), actor=u.superior, grade="excellent"
        )
    collective = grade_collective(u, done=13, not_done=7)
    assert collective.completion_percent == Decimal("65")
    for cadre, allowed in [(u.head, "not_completed"), (u.deputies[0], "good")]:
        with pytest.raises(Exception) as excinfo:
            services.evaluation_decide(
                evaluation=u.evaluation(cadre), actor=u.authority, grade="excellent"
            )
        assert "R8" in str(excinfo.value)
        evaluation = services.evaluation_decide(
            evaluation=u.evaluation(cadre), actor=u.authority, grade=allowed
        )
        assert evaluation.computed_grade == allowed


def test_members_cannot_be_decided_before_their_collective(unit):
    u = unit
    collective = services.collective_for(period=u.period, unit=u.unit)
    services.collective_set_targets(
        collective=collective, actor=u.authority, targets=[{"title": "Chỉ tiêu"}]
    )
    cadre = u.members[0]
    steps.plan_and_approve(u, cadre)
    steps.self_assess(u, cadre)
    steps.vet(u, cadre)
    services.evaluation_propose(evaluation=u.evaluation(cadre), actor=u.superior, grade="good")
    with pytest.raises(Exception) as excinfo:
        services.evaluation_decide(evaluation=u.evaluation(cadre), actor=u.authority, grade="good")
    assert "collective" in str(excinfo.value)
    assert u.evaluation(cadre).state == EvaluationState.PROPOSED
