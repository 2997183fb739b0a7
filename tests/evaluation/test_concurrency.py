"""Two deciders act on the same evaluation at the same moment: exactly one wins."""

import threading

import pytest
from django.db import connection
from django.utils import translation

from cadres.roles import Role
from evaluation import services
from evaluation.exceptions import Conflict
from evaluation.models import EvaluationState, TransitionLog
from tests import factories
from tests.evaluation import steps


@pytest.mark.django_db(transaction=True)
def test_two_deciders_at_once_exactly_one_succeeds():
    tenant = factories.tenant()
    unit = steps.build_unit(tenant, members=1)
    cadre = unit.members[0]
    steps.plan_and_approve(unit, cadre)
    steps.self_assess(unit, cadre)
    steps.vet(unit, cadre)
    evaluation = services.evaluation_propose(
        evaluation=unit.evaluation(cadre), actor=unit.superior, grade="good"
    )
    second_decider = factories.holder(Role.AUTHORITY, unit.unit)
    barrier = threading.Barrier(2)
    outcomes = {}

    def decide(name, actor, grade):
        try:
            barrier.wait()
            with translation.override("en"):
                services.evaluation_decide(evaluation=evaluation, actor=actor, grade=grade)
            outcomes[name] = "decided"
        except Conflict as exc:
            outcomes[name] = str(exc.message)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=decide, args=("first", unit.authority, "good")),
        threading.Thread(target=decide, args=("second", second_decider, "completed")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes.values()).count("decided") == 1
    loser = next(message for message in outcomes.values() if message != "decided")
    assert "Grade decided" in loser
    evaluation.refresh_from_db()
    assert evaluation.state == EvaluationState.DECIDED
    assert TransitionLog.objects.filter(evaluation=evaluation, action="decide").count() == 1


def test_a_stale_version_is_a_conflict(unit):
    cadre = unit.members[0]
    steps.plan_and_approve(unit, cadre)
    evaluation = unit.evaluation(cadre)
    with pytest.raises(Conflict):
        services.evaluation_save_self_assessment(
            evaluation=evaluation,
            actor=cadre.user,
            comment="Bản cũ",
            expected_version=evaluation.version - 1,
        )
    evaluation.refresh_from_db()
    assert evaluation.self_comment == ""
