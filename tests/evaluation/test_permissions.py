"""Permission matrix: each transition against each kind of actor."""

import pytest
from django.core.exceptions import PermissionDenied

from cadres.roles import Role
from evaluation import services
from evaluation.models import Evaluation, EvaluationState, TransitionLog
from evaluation.permissions import Action, actionable_evaluations, can
from tests import factories
from tests.evaluation import steps

ACTORS = [
    "own_cadre",
    "other_cadre",
    "superior",
    "superior_of_another_unit",
    "advisory",
    "authority",
    "organisation",
    "other_tenant",
]
# (action, state the evaluation is in, the actors allowed) — G §2.2 and §4.
MATRIX = [
    (Action.SUBMIT_PLAN, EvaluationState.PLANNING, {"own_cadre"}),
    (Action.APPROVE_PLAN, EvaluationState.PLAN_SUBMITTED, {"superior"}),
    (Action.SELF_ASSESS, EvaluationState.PLAN_APPROVED, {"own_cadre"}),
    (Action.VET, EvaluationState.SELF_ASSESSED, {"advisory"}),
    (Action.PROPOSE, EvaluationState.VETTED, {"superior"}),
    (Action.DECIDE, EvaluationState.PROPOSED, {"authority"}),
    (Action.PUBLISH, EvaluationState.DECIDED, {"organisation", "authority"}),
    (Action.RETURN, EvaluationState.PLAN_SUBMITTED, {"superior"}),
    (Action.RETURN, EvaluationState.SELF_ASSESSED, {"advisory"}),
    (Action.RETURN, EvaluationState.VETTED, {"superior"}),
    (Action.RETURN, EvaluationState.PROPOSED, {"authority"}),
    (Action.DEFER, EvaluationState.SELF_ASSESSED, {"authority"}),
    (Action.REOPEN, EvaluationState.PUBLISHED, {"authority"}),
]
CALLS = {
    Action.SUBMIT_PLAN: lambda e, a: services.evaluation_submit_plan(evaluation=e, actor=a),
    Action.APPROVE_PLAN: lambda e, a: services.evaluation_approve_plan(evaluation=e, actor=a),
    Action.SELF_ASSESS: lambda e, a: services.evaluation_self_assess(evaluation=e, actor=a),
    Action.VET: lambda e, a: services.evaluation_vet(evaluation=e, actor=a, task_vetting={}),
    Action.PROPOSE: lambda e, a: services.evaluation_propose(evaluation=e, actor=a, grade="good"),
    Action.DECIDE: lambda e, a: services.evaluation_decide(evaluation=e, actor=a, grade="good"),
    Action.PUBLISH: lambda e, a: services.evaluation_publish(evaluation=e, actor=a),
    Action.RETURN: lambda e, a: services.evaluation_return(evaluation=e, actor=a, reason="Sửa"),
    Action.DEFER: lambda e, a: services.evaluation_defer(
        evaluation=e, actor=a, case="R11e", reason="Điều động"
    ),
    Action.REOPEN: lambda e, a: services.evaluation_reopen(evaluation=e, actor=a, reason="Sai"),
}


@pytest.fixture
def world(unit, other_tenant):
    other_unit = factories.unit(unit.tenant, unit.unit.parent, "Sở Tài chính")
    foreign = factories.unit(other_tenant)
    return {
        "unit": unit,
        "own_cadre": unit.members[0].user,
        "other_cadre": unit.members[1].user,
        "superior": unit.superior,
        "superior_of_another_unit": factories.holder(Role.SUPERIOR, other_unit),
        "advisory": unit.advisory,
        "authority": unit.authority,
        "organisation": unit.organisation,
        "other_tenant": factories.holder(Role.AUTHORITY, foreign),
    }


def at_state(unit, state) -> Evaluation:
    evaluation = unit.evaluation(unit.members[0])
    Evaluation.objects.filter(pk=evaluation.pk).update(state=state)
    return Evaluation.objects.get(pk=evaluation.pk)


@pytest.mark.parametrize(("action", "state", "allowed"), MATRIX)
def test_permission_matrix(world, action, state, allowed):
    evaluation = at_state(world["unit"], state)
    for actor in ACTORS:
        assert can(world[actor], action, evaluation) == (actor in allowed), actor
        listed = actionable_evaluations(world[actor], action).filter(pk=evaluation.pk).exists()
        assert listed == (actor in allowed), actor


@pytest.mark.parametrize(("action", "state", "allowed"), MATRIX)
def test_refused_actors_change_nothing(world, action, state, allowed):
    evaluation = at_state(world["unit"], state)
    for actor in set(ACTORS) - allowed:
        with pytest.raises(PermissionDenied):
            CALLS[action](evaluation, world[actor])
        evaluation.refresh_from_db()
        assert evaluation.state == state
        assert evaluation.version == 1
    assert not TransitionLog.objects.filter(evaluation=evaluation).exists()


def test_a_cadre_never_proposes_or_decides_on_themself(unit):
    head = unit.head
    services_role = [Role.SUPERIOR, Role.AUTHORITY, Role.ADVISORY]
    from cadres import services as org

    for role in services_role:
        org.role_grant(user=head.user, role=role, unit=unit.unit)
    own = unit.evaluation(head)
    for action, state in [
        (Action.APPROVE_PLAN, EvaluationState.PLAN_SUBMITTED),
        (Action.VET, EvaluationState.SELF_ASSESSED),
        (Action.PROPOSE, EvaluationState.VETTED),
        (Action.DECIDE, EvaluationState.PROPOSED),
    ]:
        Evaluation.objects.filter(pk=own.pk).update(state=state)
        own.refresh_from_db()
        assert not can(head.user, action, own), action
    # …while the same grants let the head act on a member of the unit.
    member = unit.evaluation(unit.members[0])
    Evaluation.objects.filter(pk=member.pk).update(state=EvaluationState.VETTED)
    member.refresh_from_db()
    assert can(head.user, Action.PROPOSE, member)


def test_the_proposer_is_not_the_decider_when_the_tenant_separates_them(unit):
    from cadres import services as org

    org.role_grant(user=unit.superior, role=Role.AUTHORITY, unit=unit.unit)
    cadre = unit.members[0]
    steps.plan_and_approve(unit, cadre)
    steps.self_assess(unit, cadre)
    steps.vet(unit, cadre)
    evaluation = services.evaluation_propose(
        evaluation=unit.evaluation(cadre), actor=unit.superior, grade="good"
    )
    with pytest.raises(PermissionDenied):
        services.evaluation_decide(evaluation=evaluation, actor=unit.superior, grade="good")
    unit.tenant.separate_proposer_and_decider = False
    unit.tenant.save()
    evaluation = unit.evaluation(cadre)
    decided = services.evaluation_decide(evaluation=evaluation, actor=unit.superior, grade="good")
    assert decided.state == EvaluationState.DECIDED
