"""Two tenants for the security tests, built through the real services.

Tenant A carries two markers: ``TENANT_MARKER`` in every name of the tenant (another
tenant and anonymous visitors must never read it) and ``PRIVATE_MARKER`` in the names and
texts of one unit (people of tenant A without a role over that unit must never read it).
"""

from dataclasses import dataclass, field
from datetime import date

from cadres import services as org
from cadres.authentication import api_token_create
from cadres.models import Absence, Assignment, Position
from cadres.roles import Role
from evaluation import services
from evaluation.models import (
    CatalogueItem,
    CatalogueVersion,
    Collective,
    Evaluation,
    Period,
    QuotaGroup,
    SuspensionProposal,
)
from reporting import services as reports
from tests import factories
from tests.evaluation import steps

TENANT_MARKER = "ZZ-TENANT-A-MARKER"
PRIVATE_MARKER = "ZZ-TENANT-A-MARKER-UNIT"


@dataclass
class World:
    tenant: object
    other_tenant: object
    period: Period
    root: object
    unit: object  # the private unit
    sibling: object  # another unit of tenant A
    head: object
    members: list
    boss: object  # every role over the whole of tenant A
    superior: object
    advisory: object
    authority: object
    organisation: object
    wrong_role: object  # every role but the administrator's, over the sibling unit only
    bystander: object  # a cadre of the sibling unit, no role
    stranger: object  # every role over the whole of the other tenant
    objects: dict = field(default_factory=dict)

    def evaluation(self, cadre) -> Evaluation:
        return Evaluation.objects.get(cadre=cadre, period=self.period, is_current=True)


def _private_unit(tenant, root):
    unit = factories.unit(tenant, root, f"{PRIVATE_MARKER} Sở Nội vụ")
    head = factories.cadre(unit, f"{PRIVATE_MARKER} Nguyễn Văn Trưởng", role="head")
    deputy = factories.cadre(unit, f"{PRIVATE_MARKER} Trần Thị Phó", role="deputy")
    members = [
        factories.cadre(unit, f"{PRIVATE_MARKER} Lê Văn Viên {i}", role="member") for i in range(3)
    ]
    return unit, head, [deputy, *members]


def build_world() -> World:
    tenant = factories.tenant(name=f"{TENANT_MARKER} Tỉnh ủy Sơn Hà")
    other = factories.tenant(name="Tỉnh ủy Khác")
    root = factories.unit(tenant, name=f"{TENANT_MARKER} Tỉnh ủy", kind="party_committee")
    unit, head, members = _private_unit(tenant, root)
    sibling = factories.unit(tenant, root, f"{TENANT_MARKER} Sở Tài chính")
    bystander_cadre = factories.cadre(sibling, f"{TENANT_MARKER} Phạm Văn Bên")
    period = services.period_create(tenant=tenant, year=2026, quarter=2)
    services.period_open(period=period)

    roles = {role: factories.holder(role, root) for role in Role}
    boss = factories.user(tenant, username="boss")
    for role in Role:
        org.role_grant(user=boss, role=role, unit=root)
    # Every role over the sibling unit but the administrator's, which is tenant-wide by
    # design (the Django admin and API tokens are scoped to the tenant, not to a subtree).
    wrong_role = factories.user(tenant, username="wrongrole")
    for role in set(Role) - {Role.ADMINISTRATOR}:
        org.role_grant(user=wrong_role, role=role, unit=sibling)

    other_root = factories.unit(other, name="Tỉnh ủy Khác", kind="party_committee")
    factories.cadre(factories.unit(other, other_root, "Sở Khác"), "Cán bộ Tỉnh Khác")
    stranger = factories.user(other, username="stranger")
    for role in Role:
        org.role_grant(user=stranger, role=role, unit=other_root)
    other_period = services.period_create(tenant=other, year=2026, quarter=2)
    services.period_open(period=other_period)

    world = World(
        tenant=tenant,
        other_tenant=other,
        period=period,
        root=root,
        unit=unit,
        sibling=sibling,
        head=head,
        members=members,
        boss=boss,
        superior=roles[Role.SUPERIOR],
        advisory=roles[Role.ADVISORY],
        authority=roles[Role.AUTHORITY],
        organisation=roles[Role.ORGANISATION],
        wrong_role=wrong_role,
        bystander=bystander_cadre.user,
        stranger=stranger,
    )
    _advance(world)
    return world


def _advance(w: World) -> None:
    """Objects of every kind in the private unit, at several steps of the workflow."""
    u = steps.Unit(
        tenant=w.tenant,
        unit=w.unit,
        period=w.period,
        head=w.head,
        deputies=w.members[:1],
        members=w.members[1:],
        superior=w.superior,
        advisory=w.advisory,
        authority=w.authority,
        organisation=w.organisation,
    )
    first, second = w.members[1], w.members[2]
    steps.plan_and_approve(u, first)
    steps.self_assess(u, first)
    steps.vet(u, first)
    services.evaluation_propose(
        evaluation=w.evaluation(first),
        actor=w.superior,
        grade="good",
        comment=f"{PRIVATE_MARKER} nhận xét của cấp trên",
    )
    steps.plan_and_approve(u, second)
    org.absence_create(
        cadre=first,
        kind="training",
        start_date=date(2026, 4, 1),
        end_date=date(2026, 4, 10),
        reason=f"{PRIVATE_MARKER} bồi dưỡng",
    )
    collective = services.collective_for(period=w.period, unit=w.unit)
    services.collective_set_targets(
        collective=collective,
        actor=w.authority,
        targets=[{"title": f"{PRIVATE_MARKER} chỉ tiêu", "assigned_by": "Tỉnh ủy"}],
    )
    version = services.catalogue_draft(tenant=w.tenant, actor=w.advisory)
    services.catalogue_add_item(
        version=version,
        actor=w.advisory,
        code="DM01",
        title=f"{TENANT_MARKER} nhiệm vụ mẫu",
        axis=1,
        expected_product="Báo cáo",
    )
    services.suspension_propose(
        cadre=w.members[3], actor=w.superior, reason=f"{PRIVATE_MARKER} né tránh"
    )
    export = reports.export_request(
        user=w.authority, kind="unit_summary", period=w.period, unit=w.unit
    )
    token, _raw = api_token_create(
        user=w.authority, actor=w.authority, name=f"{TENANT_MARKER} hệ thống"
    )
    w.objects = {
        "evaluation": w.evaluation(first),
        "quota_group": QuotaGroup.objects.get(period=w.period, unit=w.unit),
        "collective": Collective.objects.get(pk=collective.pk),
        "catalogue": CatalogueVersion.objects.get(pk=version.pk),
        "catalogue_item": CatalogueItem.objects.get(version=version),
        "suspension": SuspensionProposal.objects.get(cadre=w.members[3]),
        "period": w.period,
        "unit": w.unit,
        "position": Position.objects.filter(unit=w.unit).first(),
        "assignment": Assignment.objects.filter(cadre=first).first(),
        "absence": Absence.objects.get(cadre=first),
        "cadre": first,
        "export": export,
        "token": token,
        "user": first.user,
        "tenant": w.tenant,
    }
