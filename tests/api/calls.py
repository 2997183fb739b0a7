"""The steps of tests/evaluation/steps.py, sent through the REST API instead of the services."""

from datetime import date

from tests.evaluation.steps import CRITERIA, plan_tasks


def url(evaluation, action: str = "") -> str:
    return f"/api/evaluations/{evaluation.pk}/" + (f"{action}/" if action else "")


def plan_body(cadre, count: int = 4) -> dict:
    tasks = []
    for task in plan_tasks(cadre, count):
        tasks.append(
            task | {"weight": str(task["weight"]), "deadline": task["deadline"].isoformat()}
        )
    return {"tasks": tasks, "axis_roles": {"1": "primary", "3": "secondary"}}


def self_assessment_body(
    evaluation, *, exceeded=0, late=0, not_done=0, points=("8", "8", "7", "7")
) -> dict:
    tasks = list(evaluation.tasks.order_by("order", "pk"))
    results = {}
    for i, task in enumerate(tasks):
        if i < not_done:
            results[str(task.pk)] = {"status": "not_done"}
            continue
        finished = date(2026, 6, 25) if i < not_done + late else date(2026, 6, 15)
        results[str(task.pk)] = {
            "status": "done",
            "completed_on": finished.isoformat(),
            "exceeded": i >= len(tasks) - exceeded,
            "self_quality_level": 1,
            "evidence": "Văn bản số 12/BC",
        }
    return {
        "tasks": results,
        "criteria": dict(zip(CRITERIA, points, strict=True)),
        "comment": "Hoàn thành tốt các nhiệm vụ được giao.",
    }


def vet_body(evaluation, *, level=1, late=0, not_done=0, points=None) -> dict:
    vetting = {}
    for i, task in enumerate(evaluation.tasks.order_by("order", "pk")):
        if i < not_done:
            vetting[str(task.pk)] = {"progress": "not_done"}
        else:
            vetting[str(task.pk)] = {
                "progress": "late" if i < not_done + late else "on_time",
                "quality_level": level,
                "difficulty_scope": "Phạm vi toàn tỉnh",
            }
    body = {"tasks": vetting, "comment": "Đã thẩm định"}
    if points:
        body["criteria"] = dict(zip(CRITERIA, points, strict=True))
    return body
