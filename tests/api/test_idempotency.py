"""Idempotency keys on the transitions: the same key from the same user replays the answer."""

from cadres.models import IdempotencyKey
from cadres.roles import Role
from evaluation.models import Discrepancy, Evaluation, TransitionLog
from tests import factories
from tests.api.calls import url
from tests.api.conftest import session_client, token_client
from tests.evaluation import steps


def proposed(u, cadre):
    steps.plan_and_approve(u, cadre)
    steps.self_assess(u, cadre)
    return steps.vet(u, cadre)


def test_the_same_key_replays_the_answer_without_acting_twice(unit):
    evaluation = proposed(unit, unit.members[0])
    client = token_client(unit.superior)
    headers = {"HTTP_IDEMPOTENCY_KEY": "4f7c-propose-1"}
    first = client.post(url(evaluation, "propose"), {"grade": "good"}, **headers)
    assert first.status_code == 200
    again = client.post(url(evaluation, "propose"), {"grade": "good"}, **headers)
    assert again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert TransitionLog.objects.filter(evaluation=evaluation, action="propose").count() == 1
    assert Evaluation.objects.get(pk=evaluation.pk).version == first.data["version"]
    # Without the key the second call is a new request, and the step is already taken.
    assert client.post(url(evaluation, "propose"), {"grade": "good"}).status_code == 409


def test_a_refusal_is_replayed_too_and_a_new_key_acts_anew(unit):
    evaluation = proposed(unit, unit.members[0])
    client = session_client(unit.superior)
    response = client.post(
        url(evaluation, "propose"), {"grade": "excellent"}, HTTP_IDEMPOTENCY_KEY="k1"
    )
    assert response.status_code == 200
    # Deciding below the proposal records a discrepancy (R17) once, however often it is sent.
    authority = session_client(unit.authority)
    for _ in range(3):
        response = authority.post(
            url(evaluation, "decide"), {"grade": "good"}, HTTP_IDEMPOTENCY_KEY="d1"
        )
        assert response.data["state"] == "decided"
    assert Discrepancy.objects.filter(evaluation=evaluation).count() == 1
    refused = authority.post(
        url(evaluation, "decide"), {"grade": "good"}, HTTP_IDEMPOTENCY_KEY="d2"
    )
    assert refused.status_code == 409
    replay = authority.post(url(evaluation, "decide"), {"grade": "good"}, HTTP_IDEMPOTENCY_KEY="d2")
    assert (replay.status_code, replay.json()) == (409, refused.json())


def test_a_key_reused_for_another_request_is_refused(unit):
    evaluation = proposed(unit, unit.members[0])
    client = session_client(unit.superior)
    client.post(url(evaluation, "return"), {"reason": "Bổ sung"}, HTTP_IDEMPOTENCY_KEY="same")
    response = client.post(
        url(evaluation, "return"), {"reason": "Khác"}, HTTP_IDEMPOTENCY_KEY="same"
    )
    assert response.status_code == 422
    assert response.data["code"] == "idempotency_key_reused"
    assert TransitionLog.objects.filter(evaluation=evaluation, action="return").count() == 1


def test_keys_belong_to_one_user(unit):
    first = proposed(unit, unit.members[0])
    second = proposed(unit, unit.members[1])
    other_superior = factories.holder(Role.SUPERIOR, unit.unit)
    a = session_client(unit.superior).post(
        url(first, "propose"), {"grade": "good"}, HTTP_IDEMPOTENCY_KEY="x"
    )
    b = session_client(other_superior).post(
        url(second, "propose"), {"grade": "good"}, HTTP_IDEMPOTENCY_KEY="x"
    )
    assert (a.data["id"], b.data["id"]) == (first.pk, second.pk)
    assert b.get("Idempotent-Replayed") is None
    assert IdempotencyKey.objects.filter(key="x").count() == 2


def test_a_key_of_the_wrong_length_is_a_field_error(unit):
    evaluation = proposed(unit, unit.members[0])
    client = session_client(unit.superior)
    for key in ["", "k" * 256]:
        response = client.post(
            url(evaluation, "propose"), {"grade": "good"}, HTTP_IDEMPOTENCY_KEY=key
        )
        assert response.status_code == 400
        assert "Idempotency-Key" in response.data["errors"]
    assert Evaluation.objects.get(pk=evaluation.pk).state == "vetted"
