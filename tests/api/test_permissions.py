"""The permission matrix of tests/evaluation/test_permissions.py, through HTTP.

An actor who sees the evaluation but may not take the action gets 403; one who does not see it
(another cadre, a superior of another unit, another tenant) gets 404. Nothing changes either way.
"""

import pytest

from cadres.roles import Role
from evaluation import services
from evaluation.models import Evaluation, EvaluationState, TransitionLog
from evaluation.permissions import Action
from tests import factories
from tests.api.calls import self_assessment_body, url, vet_body
from tests.api.conftest import session_client, token_client
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
SEES_IT = {"own_cadre", "superior", "advisory", "authority", "organisation"}
# (action, state the evaluation is in, the actors allowed, the state after) — G §2.2 and §4.
MATRIX = [
    (Action.SUBMIT_PLAN, "planning", {"own_cadre"}, "plan_submitted"),
    (Action.APPROVE_PLAN, "plan_submitted", {"superior"}, "plan_approved"),
    (Action.SELF_ASSESS, "plan_approved", {"own_cadre"}, "self_assessed"),
    (Action.VET, "self_assessed", {"advisory"}, "vetted"),
    (Action.PROPOSE, "vetted", {"superior"}, "proposed"),
    (Action.DECIDE, "proposed", {"authority"}, "decided"),
    (Action.PUBLISH, "decided", {"organisation", "authority"}, "published"),
    (Action.RETURN, "plan_submitted", {"superior"}, "planning"),
    (Action.RETURN, "self_assessed", {"advisory"}, "plan_approved"),
    (Action.RETURN, "vetted", {"superior"}, "self_assessed"),
    (Action.RETURN, "proposed", {"authority"}, "vetted"),
    (Action.DEFER, "self_assessed", {"authority"}, "deferred"),
    (Action.REOPEN, "published", {"authority"}, "proposed"),
]
PATHS = {
    Action.SUBMIT_PLAN: "submit-plan",
    Action.APPROVE_PLAN: "approve-plan",
    Action.SELF_ASSESS: "self-assess",
    Action.RETURN: "return",
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


def advance(u, state: str) -> Evaluation:
    """members[0]'s evaluation brought to ``state`` by the real services, ready to move on."""
    cadre = u.members[0]
    evaluation = u.evaluation(cadre)
    if state == "planning":
        services.evaluation_save_plan(
            evaluation=evaluation,
            actor=cadre.user,
            tasks=steps.plan_tasks(cadre),
            axis_roles={"1": "primary", "3": "secondary"},
        )
        return u.evaluation(cadre)
    if state == "plan_submitted":
        advance(u, "planning")
        services.evaluation_submit_plan(evaluation=u.evaluation(cadre), actor=cadre.user)
        return u.evaluation(cadre)
    steps.plan_and_approve(u, cadre)
    if state == "plan_approved":
        body = self_assessment_body(u.evaluation(cadre))
        services.evaluation_save_self_assessment(
            evaluation=u.evaluation(cadre),
            actor=cadre.user,
            task_results=body["tasks"],
            criteria=body["criteria"],
        )
        return u.evaluation(cadre)
    steps.self_assess(u, cadre)
    if state == "self_assessed":
        return u.evaluation(cadre)
    steps.vet(u, cadre)
    if state == "vetted":
        return u.evaluation(cadre)
    services.evaluation_propose(evaluation=u.evaluation(cadre), actor=u.superior, grade="good")
    if state == "proposed":
        return u.evaluation(cadre)
    services.evaluation_decide(evaluation=u.evaluation(cadre), actor=u.authority, grade="good")
    if state == "decided":
        return u.evaluation(cadre)
    services.evaluation_publish(evaluation=u.evaluation(cadre), actor=u.organisation)
    assert state == "published"
    return u.evaluation(cadre)


def body_for(action: str, evaluation: Evaluation) -> dict:
    return {
        Action.VET: lambda: vet_body(evaluation),
        Action.PROPOSE: lambda: {"grade": "good"},
        Action.DECIDE: lambda: {"grade": "good"},
        Action.RETURN: lambda: {"reason": "Bổ sung minh chứng"},
        Action.DEFER: lambda: {"case": "R11e", "reason": "Điều động công tác"},
        Action.REOPEN: lambda: {"reason": "Sai sót trong hồ sơ"},
    }.get(action, dict)()


@pytest.mark.parametrize(("action", "state", "allowed", "after"), MATRIX)
def test_permission_matrix_through_http(world, action, state, allowed, after):
    evaluation = advance(world["unit"], state)
    assert evaluation.state == state
    version, logged = (
        evaluation.version,
        TransitionLog.objects.filter(evaluation=evaluation).count(),
    )
    path = url(evaluation, PATHS.get(action, action.value))
    body = body_for(action, evaluation)
    clients = {actor: session_client(world[actor]) for actor in ACTORS}

    for actor in ACTORS:
        detail = clients[actor].get(url(evaluation))
        if actor not in SEES_IT:
            assert detail.status_code == 404, actor
            continue
        assert (action.value in detail.data["allowed_actions"]) == (actor in allowed), actor

    for actor in sorted(set(ACTORS) - allowed):
        response = clients[actor].post(path, body)
        assert response.status_code == (403 if actor in SEES_IT else 404), actor
        assert response.data["status"] == response.status_code
        assert response.data["detail"]
    evaluation.refresh_from_db()
    assert (evaluation.state, evaluation.version) == (state, version)
    assert TransitionLog.objects.filter(evaluation=evaluation).count() == logged

    # A system holding the allowed actor's token takes the step.
    actor = sorted(allowed)[0]
    response = token_client(world[actor]).post(path, body)
    assert response.status_code == 200, response.data
    assert response.data["state"] == after
    assert Evaluation.objects.get(pk=response.data["id"], is_current=True).state == after


def test_the_cadre_plans_and_self_assesses_only_their_own_evaluation(world):
    u = world["unit"]
    own = advance(u, "planning")
    other = u.evaluation(u.members[1])
    client = session_client(world["own_cadre"])
    plan = {"tasks": [{"title": "Nhiệm vụ"}], "axis_roles": {}}
    assert client.put(url(own, "plan"), plan).status_code == 200
    assert client.put(url(other, "plan"), plan).status_code == 404
    # The superior sees the evaluation but does not write the cadre's targets.
    response = session_client(world["superior"]).put(url(own, "plan"), plan)
    assert response.status_code == 403
    assert Evaluation.objects.get(pk=own.pk).tasks.count() == 1
    response = session_client(world["superior"]).patch(url(own, "self-assessment"), {})
    assert response.status_code == 403


def test_a_state_that_does_not_allow_the_step_is_a_conflict(world):
    evaluation = advance(world["unit"], "planning")
    response = session_client(world["authority"]).post(url(evaluation, "decide"), {"grade": "good"})
    assert response.status_code == 409
    assert response.data["code"] == "conflict"
    assert Evaluation.objects.get(pk=evaluation.pk).state == EvaluationState.PLANNING


def test_an_expected_version_that_moved_on_is_a_conflict(world):
    evaluation = advance(world["unit"], "plan_submitted")
    client = session_client(world["superior"])
    stale = {"expected_version": evaluation.version - 1}
    response = client.post(url(evaluation, "approve-plan"), stale)
    assert response.status_code == 409
    response = client.post(
        url(evaluation, "approve-plan"), {"expected_version": evaluation.version}
    )
    assert response.data["state"] == "plan_approved"
    assert response.data["version"] == evaluation.version + 1
