"""Bad input is refused with a clear, field-level message and nothing is written."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from evaluation import services
from evaluation.exceptions import Conflict
from evaluation.models import CriterionScore, EvaluationState, ScoreChange, Task, TransitionLog
from tests.evaluation import steps


def untouched(evaluation, state, version):
    evaluation.refresh_from_db()
    assert (evaluation.state, evaluation.version) == (state, version)


def test_weights_not_summing_to_100_cannot_be_submitted(unit):
    cadre = unit.members[0]
    evaluation = unit.evaluation(cadre)
    tasks = steps.plan_tasks(cadre)
    tasks[0]["weight"] = 10
    services.evaluation_save_plan(
        evaluation=evaluation, actor=cadre.user, tasks=tasks, axis_roles={"1": "primary"}
    )
    evaluation.refresh_from_db()
    with pytest.raises(ValidationError) as excinfo:
        services.evaluation_submit_plan(evaluation=evaluation, actor=cadre.user)
    messages = " ".join(excinfo.value.message_dict["tasks"])
    assert "not 100%" in messages  # R2
    assert "Axis 3 has tasks but is not marked" in messages
    untouched(evaluation, EvaluationState.PLANNING, evaluation.version)
    assert not TransitionLog.objects.filter(evaluation=evaluation).exists()


def test_a_task_missing_one_of_the_six_clear_cannot_be_submitted(unit):
    cadre = unit.members[0]
    evaluation = unit.evaluation(cadre)
    tasks = steps.plan_tasks(cadre)
    tasks[1]["accepting_authority"] = ""
    tasks[2]["primary_responsible"] = None
    services.evaluation_save_plan(
        evaluation=evaluation,
        actor=cadre.user,
        tasks=tasks,
        axis_roles={"1": "primary", "3": "secondary"},
    )
    evaluation.refresh_from_db()
    with pytest.raises(ValidationError) as excinfo:
        services.evaluation_submit_plan(evaluation=evaluation, actor=cadre.user)
    assert excinfo.value.message_dict["tasks"] == [
        "Task 2 is missing the authority that accepts it.",
        "Task 3 is missing the primary responsible cadre (who).",
    ]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"axis": 7}, "tasks[0].axis"),
        ({"weight": -5}, "tasks[0].weight"),
        ({"weight": "abc"}, "tasks[0].weight"),
        ({"deadline": "31/02/2026"}, "tasks[0].deadline"),
        ({"primary_responsible": 999999}, "primary_responsible"),
        ({"colour": "red"}, "tasks"),
    ],
)
def test_bad_task_fields_are_refused_and_the_old_plan_kept(unit, change, field):
    cadre = unit.members[0]
    evaluation = unit.evaluation(cadre)
    good = steps.plan_tasks(cadre)
    services.evaluation_save_plan(
        evaluation=evaluation, actor=cadre.user, tasks=good, axis_roles={"1": "primary"}
    )
    bad = steps.plan_tasks(cadre)
    bad[0].update(change)
    with pytest.raises(ValidationError) as excinfo:
        services.evaluation_save_plan(
            evaluation=evaluation, actor=cadre.user, tasks=bad, axis_roles={"1": "primary"}
        )
    assert field in excinfo.value.message_dict
    assert Task.objects.filter(evaluation=evaluation).count() == 4
    assert Task.objects.filter(evaluation=evaluation, title="Nhiệm vụ 1").get().weight == 25


def test_a_criterion_score_out_of_range_is_refused(unit):
    cadre = unit.members[0]
    evaluation = steps.plan_and_approve(unit, cadre)
    version = evaluation.version
    for points in ["9", "-1", "abc", "NaN"]:
        with pytest.raises(ValidationError) as excinfo:
            services.evaluation_save_self_assessment(
                evaluation=evaluation,
                actor=cadre.user,
                criteria={"political_ideology": points, "ethics_lifestyle": "8"},
            )
        assert "criteria.political_ideology" in excinfo.value.message_dict
    assert not CriterionScore.objects.filter(
        evaluation=evaluation, self_points__isnull=False
    ).exists()
    assert not ScoreChange.objects.filter(evaluation=evaluation).exists()
    untouched(evaluation, EvaluationState.PLAN_APPROVED, version)


def test_a_quality_level_outside_1_2_3_is_refused(unit):
    cadre = unit.members[0]
    steps.plan_and_approve(unit, cadre)
    evaluation = steps.self_assess(unit, cadre)
    task = evaluation.tasks.first()
    with pytest.raises(ValidationError):
        services.evaluation_vet(
            evaluation=evaluation,
            actor=unit.advisory,
            task_vetting={task.pk: {"progress": "on_time", "quality_level": 4}},
        )
    untouched(evaluation, EvaluationState.SELF_ASSESSED, evaluation.version)
    task.refresh_from_db()
    assert task.quality_level is None


def test_a_transition_out_of_order_is_a_conflict(unit):
    cadre = unit.members[0]
    evaluation = unit.evaluation(cadre)
    with pytest.raises(Conflict):
        services.evaluation_vet(evaluation=evaluation, actor=unit.advisory, task_vetting={})
    with pytest.raises(Conflict):
        services.evaluation_publish(evaluation=evaluation, actor=unit.organisation)
    untouched(evaluation, EvaluationState.PLANNING, 1)


def test_a_return_without_a_reason_is_refused(unit):
    cadre = unit.members[0]
    evaluation = unit.evaluation(cadre)
    services.evaluation_save_plan(
        evaluation=evaluation,
        actor=cadre.user,
        tasks=steps.plan_tasks(cadre),
        axis_roles={"1": "primary", "3": "secondary"},
    )
    evaluation = services.evaluation_submit_plan(evaluation=evaluation, actor=cadre.user)
    for reason in ["", "   ", None]:
        with pytest.raises(ValidationError) as excinfo:
            services.evaluation_return(evaluation=evaluation, actor=unit.superior, reason=reason)
        assert excinfo.value.message_dict == {"reason": ["A reason is required."]}
    untouched(evaluation, EvaluationState.PLAN_SUBMITTED, evaluation.version)
    returned = services.evaluation_return(
        evaluation=evaluation, actor=unit.superior, reason="Bổ sung sản phẩm đầu ra"
    )
    assert returned.state == EvaluationState.PLANNING
    log = TransitionLog.objects.filter(evaluation=evaluation).last()
    assert (log.action, log.reason, log.role) == (
        "return",
        "Bổ sung sản phẩm đầu ra",
        "act_as_superior",
    )


def test_submitting_with_r7_needs_confirmation(unit):
    cadre = unit.members[0]
    steps.plan_and_approve(unit, cadre)
    with pytest.raises(ValidationError) as excinfo:
        steps.self_assess(unit, cadre, not_done=1)
    assert (
        "Completed 3/4 tasks (under 100%) → Not completed (R7)"
        in (excinfo.value.message_dict["confirm_warnings"])
    )
    evaluation = unit.evaluation(cadre)
    assert evaluation.state == EvaluationState.PLAN_APPROVED
    assert evaluation.self_score == 82.5  # the draft keeps the live score
    evaluation = steps.self_assess(unit, cadre, not_done=1, confirm=True)
    assert evaluation.state == EvaluationState.SELF_ASSESSED


def test_a_deferral_needs_a_known_case_and_a_reason(unit):
    evaluation = unit.evaluation(unit.members[0])
    with pytest.raises(ValidationError) as excinfo:
        services.evaluation_defer(evaluation=evaluation, actor=unit.authority, case="x", reason="")
    assert "case" in excinfo.value.message_dict
    with pytest.raises(ValidationError):
        services.evaluation_defer(
            evaluation=evaluation, actor=unit.authority, case="R11e", reason=""
        )
    untouched(evaluation, EvaluationState.PLANNING, 1)
    deferred = services.evaluation_defer(
        evaluation=evaluation,
        actor=unit.authority,
        case="R11a",
        reason="Học tập trung tại Học viện từ 01/04 đến 30/06",
    )
    assert deferred.state == EvaluationState.DEFERRED
    assert date.today()  # the log carries the reason
    assert TransitionLog.objects.get(evaluation=evaluation).reason.startswith("Học tập")
