"""A unit of any size built with bulk inserts, its cadres spread over every step.

The services build one cadre in a dozen queries; for the query-count tests a unit of 200
needs to be ready in a second, so this writes the rows directly, then opens the quarter
with the real ``period_open`` (itself bulk).
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from cadres.models import Assignment, Cadre, Position, User
from cadres.roles import Role
from evaluation import services
from evaluation.models import (
    Collective,
    CollectiveTarget,
    Discrepancy,
    Evaluation,
    EvaluationState,
    PublishedResult,
    SuspensionProposal,
    Task,
)
from tests import factories

STATES = [
    EvaluationState.PLAN_SUBMITTED,
    EvaluationState.SELF_ASSESSED,
    EvaluationState.VETTED,
    EvaluationState.PROPOSED,
    EvaluationState.DECIDED,
    EvaluationState.PUBLISHED,
]
GRADES = ["excellent", "good", "good", "completed", "good"]


@dataclass
class BigUnit:
    tenant: object
    province: object
    unit: object
    period: object
    cadres: list
    evaluations: list
    superior: object
    advisory: object
    authority: object
    organisation: object
    administrator: object

    @property
    def group_id(self):
        return self.evaluations[0].quota_group_id


def build(tenant, size: int) -> BigUnit:
    province = factories.unit(tenant, name="Tỉnh ủy", kind="party_committee")
    unit = factories.unit(tenant, province, "Sở Nội vụ")
    tag = f"t{tenant.pk}"
    users = User.objects.bulk_create(
        [User(username=f"{tag}-cb{i:04d}", tenant=tenant, password="!") for i in range(size)]
    )
    cadres = Cadre.objects.bulk_create(
        [
            Cadre(tenant=tenant, user=users[i], code=f"{tag}-{i:05d}", full_name=f"Cán bộ {i:04d}")
            for i in range(size)
        ]
    )
    roles = ["head", "deputy", "deputy"] + ["member"] * size
    positions = Position.objects.bulk_create(
        [
            Position(tenant=tenant, unit=unit, title=f"Chức vụ {i}", collective_role=roles[i])
            for i in range(size)
        ]
    )
    Assignment.objects.bulk_create(
        [
            Assignment(tenant=tenant, cadre=c, position=p, start_date=date(2026, 1, 1))
            for c, p in zip(cadres, positions, strict=True)
        ]
    )
    period = services.period_create(tenant=tenant, year=2026, quarter=2)
    services.period_open(period=period)
    holders = {
        role: factories.holder(role, province)
        for role in (Role.SUPERIOR, Role.ADVISORY, Role.AUTHORITY, Role.ORGANISATION)
    }
    administrator = factories.holder(Role.ADMINISTRATOR, province)
    evaluations = list(Evaluation.objects.filter(period=period).order_by("cadre__code"))
    _spread_over_the_steps(evaluations, holders, period)
    return BigUnit(
        tenant=tenant,
        province=province,
        unit=unit,
        period=period,
        cadres=cadres,
        evaluations=evaluations,
        superior=holders[Role.SUPERIOR],
        advisory=holders[Role.ADVISORY],
        authority=holders[Role.AUTHORITY],
        organisation=holders[Role.ORGANISATION],
        administrator=administrator,
    )


def _spread_over_the_steps(evaluations, holders, period):
    tenant_id = period.tenant_id
    Task.objects.bulk_create(
        [
            Task(
                tenant_id=tenant_id,
                evaluation=e,
                order=i,
                title=f"Nhiệm vụ {i + 1}",
                axis=1 if i == 0 else 3,
                weight=Decimal(60 if i == 0 else 40),
                deadline=date(2026, 6, 20),
            )
            for e in evaluations
            for i in range(2)
        ]
    )
    superior, authority = holders[Role.SUPERIOR], holders[Role.AUTHORITY]
    published = []
    for index, evaluation in enumerate(evaluations):
        state = STATES[index % len(STATES)]
        grade = GRADES[index % len(GRADES)]
        values = {"state": state, "axis_roles": {"1": "primary", "3": "secondary"}}
        if state != EvaluationState.PLAN_SUBMITTED:
            values.update(self_score=Decimal("92.5"), self_grade=grade, computed_grade=grade)
            values["computed_reasons"] = [{"rule": "R5", "message": "Score 92.5 (R5)"}]
        if state in (
            EvaluationState.VETTED,
            EvaluationState.PROPOSED,
            EvaluationState.DECIDED,
            EvaluationState.PUBLISHED,
        ):
            values.update(vetted_score=Decimal("91.0"), vetted_grade=grade)
        if state in (EvaluationState.PROPOSED, EvaluationState.DECIDED, EvaluationState.PUBLISHED):
            values.update(proposed_grade=grade, proposed_by=superior)
        if state in (EvaluationState.DECIDED, EvaluationState.PUBLISHED):
            decided = "good" if grade == "excellent" else grade
            values.update(decided_grade=decided, decided_by=authority, reassignment_flag=True)
        Evaluation.objects.filter(pk=evaluation.pk).update(**values)
        evaluation.__dict__.update(values)
        if state == EvaluationState.PUBLISHED:
            published.append(evaluation)
    PublishedResult.objects.bulk_create(
        [
            PublishedResult(
                tenant_id=tenant_id,
                evaluation=e,
                cadre_id=e.cadre_id,
                period=period,
                revision=1,
                grade=e.decided_grade,
                score=e.vetted_score,
                snapshot={},
                published_by=holders[Role.ORGANISATION],
            )
            for e in published
        ]
    )
    Discrepancy.objects.bulk_create(
        [
            Discrepancy(
                tenant_id=tenant_id,
                evaluation=e,
                proposer=superior,
                head_id=evaluations[0].cadre_id,
                proposed_grade=e.proposed_grade,
                decided_grade=e.decided_grade,
            )
            for e in evaluations
            if e.decided_grade and e.proposed_grade != e.decided_grade
        ]
    )
    SuspensionProposal.objects.bulk_create(
        [
            SuspensionProposal(
                tenant_id=tenant_id, cadre_id=e.cadre_id, proposed_by=superior, reason="Né tránh"
            )
            for e in evaluations[::5]
        ]
    )
    collective = Collective.objects.create(
        tenant_id=tenant_id, period=period, unit_id=evaluations[0].unit_id
    )
    CollectiveTarget.objects.bulk_create(
        [
            CollectiveTarget(tenant_id=tenant_id, collective=collective, title=f"Chỉ tiêu {i}")
            for i in range(max(2, len(evaluations) // 5))
        ]
    )
