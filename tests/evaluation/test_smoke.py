from evaluation.models import EvaluationState
from tests.evaluation import steps


def test_one_cadre_goes_through_all_steps(unit):
    member = unit.members[0]
    steps.plan_and_approve(unit, member)
    evaluation = steps.self_assess(unit, member, exceeded=2)
    assert evaluation.state == EvaluationState.SELF_ASSESSED
    evaluation = steps.vet(unit, member)
    assert evaluation.state == EvaluationState.VETTED
    assert evaluation.vetted_score == 100
