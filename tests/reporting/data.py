"""A quarter of one unit driven through the real services, for the report tests."""

from cadres.roles import Role
from evaluation import services
from tests import factories
from tests.evaluation import steps

HOSTILE_NAME = '=HYPERLINK("http://x")'


def grade_collective(u, *, done: int = 8, not_done: int = 1):
    collective = services.collective_for(period=u.period, unit=u.unit)
    targets = [{"title": f"Chỉ tiêu {i}", "assigned_by": "Tỉnh ủy"} for i in range(done + not_done)]
    services.collective_set_targets(collective=collective, actor=u.authority, targets=targets)
    results = {
        t.pk: {"status": "done" if i < done else "not_done"}
        for i, t in enumerate(collective.targets.order_by("pk"))
    }
    services.collective_record_results(collective=collective, actor=u.authority, results=results)
    return services.collective_grade(collective=collective, actor=u.authority)


def decided_quarter(u):
    """Seven of the ten cadres through the quarter, so that every figure of a report appears.

    Head Excellent (outside the quota); members[0] Excellent; members[1] proposed Excellent
    but decided Good (an R17 discrepancy); members[2..4] Good; members[5] Completed (a late
    task); members[6] Not completed; deputies[0] still planning; deputies[1] deferred.
    """
    m = u.members
    for cadre in [u.head, *m[:7]]:
        steps.plan_and_approve(u, cadre, count=5 if cadre == m[5] else 4)
    steps.self_assess(u, u.head, exceeded=2)
    steps.self_assess(u, m[0], exceeded=2)
    steps.self_assess(u, m[1], exceeded=2, points=("8", "8", "7", "6"))
    for cadre in m[2:5]:
        steps.self_assess(u, cadre)
    steps.self_assess(u, m[5], late=1)
    steps.self_assess(u, m[6], not_done=1, confirm=True)
    steps.vet(u, u.head)
    steps.vet(u, m[0])
    steps.vet(u, m[1], points=("8", "8", "7", "6"))
    for cadre in m[2:5]:
        steps.vet(u, cadre)
    steps.vet(u, m[5], late=1)
    steps.vet(u, m[6], not_done=1)
    proposals = {
        u.head: "excellent",
        m[0]: "excellent",
        m[1]: "excellent",
        m[2]: "good",
        m[3]: "good",
        m[4]: "good",
        m[5]: "completed",
        m[6]: "not_completed",
    }
    for cadre, grade in proposals.items():
        services.evaluation_propose(
            evaluation=u.evaluation(cadre), actor=u.superior, grade=grade, comment="Đề xuất"
        )
    grade_collective(u)
    decisions = {**proposals, m[1]: "good"}
    for cadre, grade in decisions.items():
        services.evaluation_decide(
            evaluation=u.evaluation(cadre), actor=u.authority, grade=grade, comment="Quyết định"
        )
    services.evaluation_defer(
        evaluation=u.evaluation(u.deputies[1]),
        actor=u.authority,
        case="R11e",
        reason="Đi học tập trung dài hạn",
    )
    return decisions


def scaled_unit(tenant, cadres: int):
    """A unit of ``cadres`` cadres; the same seven go through the quarter whatever the size."""
    u = steps.build_unit(tenant, members=cadres - 3)  # plus the head and two deputies
    decided_quarter(u)
    return u


def export_user(u, role=Role.ORGANISATION):
    return factories.holder(role, u.unit.parent)
