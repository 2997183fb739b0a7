"""Reopening a published result creates a revision; the published record stays as it was."""

import pytest
from django.core.exceptions import ValidationError

from evaluation import services
from evaluation.models import Evaluation, EvaluationState, PublishedResult, TransitionLog
from tests.evaluation import steps


@pytest.fixture
def published(unit):
    cadre = unit.members[0]
    steps.plan_and_approve(unit, cadre)
    steps.self_assess(unit, cadre)
    steps.vet(unit, cadre)
    services.evaluation_propose(
        evaluation=unit.evaluation(cadre), actor=unit.superior, grade="good"
    )
    services.evaluation_decide(
        evaluation=unit.evaluation(cadre), actor=unit.authority, grade="good"
    )
    return services.evaluation_publish(evaluation=unit.evaluation(cadre), actor=unit.organisation)


def frozen(evaluation):
    record = PublishedResult.objects.get(evaluation=evaluation)
    log = list(TransitionLog.objects.filter(evaluation=evaluation).values())
    row = Evaluation.objects.filter(pk=evaluation.pk).values().get()
    row.pop("is_current")
    return record.grade, record.snapshot, log, row


def test_reopen_keeps_the_published_result_and_its_log(unit, published):
    before = frozen(published)
    revision = services.evaluation_reopen(
        evaluation=published, actor=unit.authority, reason="Phát hiện sai sót số liệu"
    )
    assert revision.pk != published.pk
    assert (revision.revision, revision.state, revision.is_current) == (2, "proposed", True)
    assert revision.previous_revision_id == published.pk
    assert revision.tasks.count() == published.tasks.count() == 4
    assert frozen(published) == before
    assert not Evaluation.objects.get(pk=published.pk).is_current
    log = list(TransitionLog.objects.filter(evaluation=revision).values_list("action", "reason"))
    assert log == [("reopen", "Phát hiện sai sót số liệu")]

    decided = services.evaluation_decide(
        evaluation=revision, actor=unit.authority, grade="completed", comment="Điều chỉnh"
    )
    services.evaluation_publish(evaluation=decided, actor=unit.organisation)
    grades = list(
        PublishedResult.objects.filter(cadre=unit.members[0])
        .order_by("revision")
        .values_list("revision", "grade")
    )
    assert grades == [(1, "good"), (2, "completed")]
    assert frozen(published) == before


def test_reopen_needs_a_reason_and_the_authority(unit, published):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(ValidationError):
        services.evaluation_reopen(evaluation=published, actor=unit.authority, reason="  ")
    with pytest.raises(PermissionDenied):
        services.evaluation_reopen(evaluation=published, actor=unit.organisation, reason="Sai")
    assert Evaluation.objects.filter(cadre=unit.members[0]).count() == 1
    assert Evaluation.objects.get(pk=published.pk).state == EvaluationState.PUBLISHED
