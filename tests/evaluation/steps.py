"""Drive evaluations through the real services, step by step, for the workflow tests."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from cadres.roles import Role
from evaluation import services
from evaluation.models import Evaluation, Period
from tests import factories

CRITERIA = [
    "political_ideology",
    "ethics_lifestyle",
    "discipline_working_style",
    "unity_exemplary_conduct",
]


@dataclass
class Unit:
    """One unit with its head, two deputies, five members and the four acting roles."""

    tenant: object
    unit: object
    period: Period
    head: object
    deputies: list
    members: list
    superior: object
    advisory: object
    authority: object
    organisation: object

    @property
    def cadres(self):
        return [self.head, *self.deputies, *self.members]

    def evaluation(self, cadre) -> Evaluation:
        return Evaluation.objects.get(cadre=cadre, period=self.period, is_current=True)


def build_unit(tenant, *, members: int = 5, year: int = 2026, quarter: int = 2) -> Unit:
    province = factories.unit(tenant, name="Tỉnh ủy", kind="party_committee")
    unit = factories.unit(tenant, province, "Sở Nội vụ")
    head = factories.cadre(unit, "Nguyễn Văn Trưởng", role="head")
    deputies = [factories.cadre(unit, f"Trần Thị Phó {i}", role="deputy") for i in (1, 2)]
    staff = [factories.cadre(unit, f"Lê Văn Viên {i}", role="member") for i in range(members)]
    period = services.period_create(tenant=tenant, year=year, quarter=quarter)
    services.period_open(period=period)
    return Unit(
        tenant=tenant,
        unit=unit,
        period=period,
        head=head,
        deputies=deputies,
        members=staff,
        superior=factories.holder(Role.SUPERIOR, province),
        advisory=factories.holder(Role.ADVISORY, province),
        authority=factories.holder(Role.AUTHORITY, province),
        organisation=factories.holder(Role.ORGANISATION, province),
    )


def plan_tasks(cadre, count: int = 4) -> list[dict]:
    """``count`` tasks on axes 1 (primary) and 3 (secondary), weights summing to 100."""
    weights = [Decimal(100) / count] * count
    weights[-1] = Decimal(100) - sum(weights[:-1])
    return [
        {
            "objective": "Hoàn thành kế hoạch công tác quý",
            "title": f"Nhiệm vụ {i + 1}",
            "expected_product": f"Báo cáo {i + 1}",
            "axis": 1 if i < count - 1 else 3,
            "weight": weights[i],
            "primary_responsible": cadre.pk,
            "responsibility": "Chủ trì",
            "accepting_authority": "Ban Thường vụ Tỉnh ủy",
            "deadline": date(2026, 6, 20),
        }
        for i in range(count)
    ]


def plan_and_approve(u: Unit, cadre, count: int = 4) -> Evaluation:
    evaluation = u.evaluation(cadre)
    services.evaluation_save_plan(
        evaluation=evaluation,
        actor=cadre.user,
        tasks=plan_tasks(cadre, count),
        axis_roles={"1": "primary", "3": "secondary"},
    )
    services.evaluation_submit_plan(evaluation=evaluation, actor=cadre.user)
    return services.evaluation_approve_plan(evaluation=evaluation, actor=u.superior)


def self_assess(
    u: Unit,
    cadre,
    *,
    exceeded: int = 0,
    late: int = 0,
    not_done: int = 0,
    points=("8", "8", "7", "7"),
    confirm=False,
) -> Evaluation:
    evaluation = u.evaluation(cadre)
    tasks = list(evaluation.tasks.all())
    results = {}
    for i, task in enumerate(tasks):
        if i < not_done:
            results[task.pk] = {"status": "not_done"}
            continue
        results[task.pk] = {
            "status": "done",
            "completed_on": date(2026, 6, 25) if i < not_done + late else date(2026, 6, 15),
            "exceeded": i >= len(tasks) - exceeded,
            "self_quality_level": 1,
            "evidence": "Văn bản số 12/BC",
        }
    services.evaluation_save_self_assessment(
        evaluation=evaluation,
        actor=cadre.user,
        task_results=results,
        criteria=dict(zip(CRITERIA, points, strict=True)),
        comment="Hoàn thành tốt các nhiệm vụ được giao.",
    )
    return services.evaluation_self_assess(
        evaluation=evaluation, actor=cadre.user, confirm_warnings=confirm
    )


def vet(
    u: Unit, cadre, *, level: int = 1, late: int = 0, not_done: int = 0, points=None
) -> Evaluation:
    evaluation = u.evaluation(cadre)
    vetting = {}
    for i, task in enumerate(evaluation.tasks.all()):
        if i < not_done:
            vetting[task.pk] = {"progress": "not_done"}
        else:
            vetting[task.pk] = {
                "progress": "late" if i < not_done + late else "on_time",
                "quality_level": level,
                "difficulty_scope": "Phạm vi toàn tỉnh",
            }
    criteria = dict(zip(CRITERIA, points, strict=True)) if points else None
    return services.evaluation_vet(
        evaluation=evaluation,
        actor=u.advisory,
        task_vetting=vetting,
        criteria=criteria,
        comment="Đã thẩm định",
    )
