"""A realistic demo organisation: a province with departments, a district and communes.

Everything is built through the real services, so the demo is what users would have made.
"""

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.contrib.auth.hashers import make_password
from django.db import transaction

from cadres import services as org
from cadres.models import Position, Tenant, Unit, User
from cadres.roles import Role
from evaluation import services
from evaluation.models import Period

DEMO_PASSWORD = "Demo@2026"
SURNAMES = [
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Huỳnh",
    "Phan",
    "Vũ",
    "Võ",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Hồ",
    "Ngô",
    "Dương",
    "Lý",
]
MIDDLE = ["Văn", "Thị", "Hữu", "Đức", "Minh", "Thanh", "Quốc", "Ngọc", "Thu", "Hoài", "Xuân"]
GIVEN = [
    "An",
    "Bình",
    "Cường",
    "Dũng",
    "Giang",
    "Hà",
    "Hải",
    "Hạnh",
    "Hiếu",
    "Hòa",
    "Hùng",
    "Hương",
    "Khánh",
    "Lan",
    "Linh",
    "Long",
    "Mai",
    "Nam",
    "Nga",
    "Phong",
    "Phúc",
    "Quang",
    "Quyên",
    "Sơn",
    "Tâm",
    "Thảo",
    "Thắng",
    "Trang",
    "Trung",
    "Tuấn",
    "Uyên",
    "Việt",
    "Yến",
]

# (code, name, kind, head title, deputy title, member title, number of members)
DEPARTMENTS = [
    ("SNV", "Sở Nội vụ", "department", "Giám đốc Sở", "Phó Giám đốc Sở", "Trưởng phòng", 4),
    ("STC", "Sở Tài chính", "department", "Giám đốc Sở", "Phó Giám đốc Sở", "Trưởng phòng", 4),
    ("SYT", "Sở Y tế", "department", "Giám đốc Sở", "Phó Giám đốc Sở", "Trưởng phòng", 3),
    (
        "SKH",
        "Sở Kế hoạch và Đầu tư",
        "department",
        "Giám đốc Sở",
        "Phó Giám đốc Sở",
        "Trưởng phòng",
        3,
    ),
    ("SXD", "Sở Xây dựng", "department", "Giám đốc Sở", "Phó Giám đốc Sở", "Trưởng phòng", 3),
    (
        "TUS",
        "Thành ủy Sơn Hà",
        "district",
        "Bí thư Thành ủy",
        "Phó Bí thư Thành ủy",
        "Ủy viên Ban Thường vụ Thành ủy",
        4,
    ),
    (
        "SGD",
        "Sở Giáo dục và Đào tạo",
        "department",
        "Giám đốc Sở",
        "Phó Giám đốc Sở",
        "Trưởng phòng",
        3,
    ),
    (
        "HTB",
        "Huyện ủy Thanh Bình",
        "district",
        "Bí thư Huyện ủy",
        "Phó Bí thư Huyện ủy",
        "Ủy viên Ban Thường vụ Huyện ủy",
        4,
    ),
]
COMMUNES = [
    ("XAP", "Đảng ủy xã An Phú", "Bí thư Đảng ủy xã", "Phó Bí thư Đảng ủy xã", "Chủ tịch UBND xã"),
    ("XHL", "Đảng ủy xã Hòa Lạc", "Bí thư Đảng ủy xã", "Phó Bí thư Đảng ủy xã", "Chủ tịch UBND xã"),
]


@dataclass
class Demo:
    tenant: Tenant
    accounts: list[tuple[str, str]] = field(default_factory=list)  # (username, what they do)
    units: dict[str, Unit] = field(default_factory=dict)
    cadres: list = field(default_factory=list)


class _Names:
    def __init__(self, seed: int):
        self.random = random.Random(seed)
        self.used: set[str] = set()

    def next(self) -> str:
        while True:
            name = " ".join(
                [
                    self.random.choice(SURNAMES),
                    self.random.choice(MIDDLE),
                    self.random.choice(GIVEN),
                ]
            )
            if name not in self.used:
                self.used.add(name)
                return name


def _user(username: str, **extra) -> User:
    """An account with the demo password, hashed once for the whole demo."""
    global _PASSWORD_HASH
    if _PASSWORD_HASH is None:
        _PASSWORD_HASH = make_password(DEMO_PASSWORD)
    return User.objects.create(username=username, password=_PASSWORD_HASH, **extra)


_PASSWORD_HASH = None


def _account(demo: Demo, username: str, what: str, **extra) -> User:
    user = _user(username, tenant=demo.tenant, **extra)
    demo.accounts.append((username, what))
    return user


def _staff(demo: Demo, unit: Unit, names: _Names, title: str, role: str, username=None):
    """A cadre holding a post in the unit since 1 January 2026, with an account."""
    n = len(demo.cadres) + 1
    user = _user(username or f"cb{n:03d}", tenant=demo.tenant)
    cadre = org.cadre_create(
        tenant=demo.tenant,
        user=user,
        code=f"CB{n:04d}",
        full_name=names.next(),
        date_of_birth=date(1965 + n % 20, 1 + n % 12, 1 + n % 27),
        government_post=f"{title}, {unit.name}",
        party_post="Đảng viên" if role != "head" else "Bí thư Chi bộ",
    )
    position = org.position_create(
        unit=unit, title=title, kind=Position.Kind.LEADERSHIP, collective_role=role
    )
    org.assignment_create(cadre=cadre, position=position, start_date=date(2026, 1, 1))
    demo.cadres.append(cadre)
    return cadre


def build_organisation(seed: int = 2026) -> Demo:
    """The province, its units, about sixty cadres and every role held by someone."""
    names = _Names(seed)
    tenant = Tenant.objects.create(
        code="son-ha",
        name="Tỉnh ủy Sơn Hà",
        kind=Tenant.Kind.PROVINCIAL_COMMITTEE,
        parent_body="ĐẢNG BỘ TỈNH SƠN HÀ",
        place="Sơn Hà",
    )
    demo = Demo(tenant=tenant)
    root = org.unit_create(tenant=tenant, name="Tỉnh ủy Sơn Hà", code="TU", kind="party_committee")
    btc = org.unit_create(
        tenant=tenant, name="Ban Tổ chức Tỉnh ủy", code="BTC", kind="advisory_body", parent=root
    )
    demo.units.update(root=root, btc=btc)

    for code, name, kind, head, deputy, member, members in DEPARTMENTS:
        unit = org.unit_create(tenant=tenant, name=name, code=code, kind=kind, parent=root)
        demo.units[code] = unit
        _staff(demo, unit, names, head, "head", username="giamdoc" if code == "SNV" else None)
        for _ in range(2):
            _staff(demo, unit, names, deputy, "deputy")
        for i in range(members):
            _staff(
                demo,
                unit,
                names,
                f"{member} {i + 1}",
                "member",
                username="canbo" if code == "SNV" and i == 0 else None,
            )
    for code, name, head, deputy, member in COMMUNES:
        unit = org.unit_create(
            tenant=tenant, name=name, code=code, kind="commune", parent=demo.units["HTB"]
        )
        demo.units[code] = unit
        _staff(demo, unit, names, head, "head")
        _staff(demo, unit, names, deputy, "deputy")
        _staff(demo, unit, names, member, "member")
    for i in range(3):
        _staff(
            demo,
            btc,
            names,
            "Phó Trưởng Ban Tổ chức" if i else "Trưởng Ban Tổ chức",
            "deputy" if i else "head",
        )

    # Roles. The head of each department is the direct superior level of its deputies and
    # members; the Standing Committee's office proposes for the heads themselves.
    head_snv = User.objects.get(username="giamdoc")
    org.role_grant(user=head_snv, role=Role.SUPERIOR, unit=demo.units["SNV"])
    demo.accounts.append(("giamdoc", "Giám đốc Sở Nội vụ — cấp trực tiếp sử dụng cán bộ"))
    demo.accounts.append(("canbo", "Trưởng phòng, Sở Nội vụ — cán bộ được đánh giá"))
    for code in ["STC", "SYT", "SGD", "SKH", "SXD", "TUS", "HTB", "XAP", "XHL", "btc"]:
        head = next(
            c
            for c in demo.cadres
            if c.assignments.filter(
                position__unit=demo.units[code], position__collective_role="head"
            ).exists()
        )
        org.role_grant(user=head.user, role=Role.SUPERIOR, unit=demo.units[code])
    superior = _account(
        demo, "captren", "Văn phòng Tỉnh ủy — cấp trực tiếp sử dụng (người đứng đầu các sở)"
    )
    org.role_grant(user=superior, role=Role.SUPERIOR, unit=root)
    advisory = _account(demo, "thamdinh", "Ban Tổ chức — cơ quan tham mưu, thẩm định")
    org.role_grant(user=advisory, role=Role.ADVISORY, unit=root)
    authority = _account(demo, "lanhdao", "Ban Thường vụ Tỉnh ủy — cấp có thẩm quyền quyết định")
    org.role_grant(user=authority, role=Role.AUTHORITY, unit=root)
    organisation = _account(demo, "tochuc", "Ban Tổ chức — công bố kết quả, báo cáo")
    org.role_grant(user=organisation, role=Role.ORGANISATION, unit=root)
    administrator = _account(demo, "quantri", "Quản trị hệ thống của Tỉnh ủy")
    org.role_grant(user=administrator, role=Role.ADMINISTRATOR, unit=root)
    User.objects.create_user(username="trunguong", password=DEMO_PASSWORD, is_central_observer=True)
    demo.accounts.append(("trunguong", "Ban Tổ chức Trung ương — xem tổng hợp mọi đơn vị"))
    return demo


# --- Quarters -------------------------------------------------------------------------------

CRITERIA_POINTS = {
    "political_ideology": "8",
    "ethics_lifestyle": "8",
    "discipline_working_style": "7",
    "unity_exemplary_conduct": "6.5",
}
TASK_TITLES = [
    ("Tham mưu ban hành kế hoạch chuyển đổi số của ngành", 3, "Kế hoạch được phê duyệt"),
    ("Rà soát, sắp xếp tổ chức bộ máy các phòng chuyên môn", 2, "Đề án sắp xếp"),
    ("Giải ngân vốn đầu tư công được giao", 1, "Báo cáo tỷ lệ giải ngân"),
    ("Tổ chức hội nghị đối thoại với Nhân dân", 5, "Biên bản hội nghị"),
]


def _plan(evaluation, cadre, deadline):
    tasks = [
        {
            "objective": "Hoàn thành chương trình công tác quý",
            "title": title,
            "expected_product": product,
            "axis": axis,
            "weight": weight,
            "primary_responsible": cadre.pk,
            "responsibility": "Chủ trì thực hiện",
            "accepting_authority": "Ban Thường vụ Tỉnh ủy",
            "deadline": deadline,
        }
        for (title, axis, product), weight in zip(TASK_TITLES, [40, 20, 25, 15], strict=True)
    ]
    roles = {"1": "primary", "2": "secondary", "3": "primary", "5": "secondary"}
    services.evaluation_save_plan(
        evaluation=evaluation, actor=cadre.user, tasks=tasks, axis_roles=roles
    )
    services.evaluation_submit_plan(evaluation=evaluation, actor=cadre.user)


def _self_assess(evaluation, cadre, profile, finished_on, late_on):
    results = {}
    for i, task in enumerate(evaluation.tasks.all()):
        if profile == "weak" and i == 3:
            results[task.pk] = {"status": "not_done"}
            continue
        results[task.pk] = {
            "status": "done",
            "completed_on": late_on if profile == "late" and i == 3 else finished_on,
            "exceeded": profile == "strong" and i < 2,
            "self_quality_level": 2 if profile == "average" and i == 1 else 1,
            "evidence": "Văn bản báo cáo kết quả số %s/BC" % (10 + i),
        }
    services.evaluation_save_self_assessment(
        evaluation=evaluation,
        actor=cadre.user,
        task_results=results,
        criteria=CRITERIA_POINTS,
        comment="Hoàn thành các nhiệm vụ trọng tâm của quý, chủ động phối hợp.",
    )
    services.evaluation_self_assess(evaluation=evaluation, actor=cadre.user, confirm_warnings=True)


def _vet(evaluation, advisory, profile):
    vetting = {}
    for i, task in enumerate(evaluation.tasks.all()):
        if profile == "weak" and i == 3:
            vetting[task.pk] = {"progress": "not_done"}
            continue
        vetting[task.pk] = {
            "progress": "late" if profile == "late" and i == 3 else "on_time",
            "quality_level": 2 if profile == "modest" or (profile == "average" and i == 1) else 1,
            "difficulty_scope": "Phạm vi toàn ngành",
        }
    services.evaluation_vet(
        evaluation=evaluation,
        actor=advisory,
        task_vetting=vetting,
        criteria={code: "4" for code in CRITERIA_POINTS} if profile == "modest" else None,
        comment="Kết quả phù hợp với sản phẩm đã nộp.",
    )


PROFILES = [
    "strong",
    "average",
    "average",
    "modest",
    "average",
    "strong",
    "average",
    "weak",
    "average",
    "average",
    "late",
]
STOPS = ["planning", "plan_submitted", "plan_approved", "self_assessed", "vetted", "proposed"]


def _superior_for(evaluation, demo):
    """The head of the unit proposes for its members; the Standing office for heads."""
    if evaluation.collective_role == "head":
        return User.objects.get(username="captren")
    head = next(
        c
        for c in demo.cadres
        if c.assignments.filter(
            position__unit=evaluation.unit, position__collective_role="head"
        ).exists()
    )
    return head.user


def run_quarter(demo: Demo, period, *, finish: bool):
    """Walk a quarter: all the way to publication, or leave each cadre at some step."""
    from evaluation.exceptions import QuotaExceeded
    from evaluation.models import Evaluation

    advisory = User.objects.get(username="thamdinh")
    authority = User.objects.get(username="lanhdao")
    organisation = User.objects.get(username="tochuc")
    deadline = period.end_date - timedelta(days=10)
    finished_on = deadline - timedelta(days=5)
    evaluations = list(
        Evaluation.objects.filter(period=period, is_current=True, state="planning")
        .select_related("cadre__user", "unit")
        .order_by("cadre__code")
    )
    for n, evaluation in enumerate(evaluations):
        profile = PROFILES[n % len(PROFILES)]
        stop = "decided" if finish else STOPS[n % len(STOPS)]
        cadre = evaluation.cadre
        if stop == "planning":
            continue
        _plan(evaluation, cadre, deadline)
        if stop == "plan_submitted":
            continue
        superior = _superior_for(evaluation, demo)
        services.evaluation_approve_plan(evaluation=evaluation, actor=superior)
        if stop == "plan_approved":
            continue
        _self_assess(evaluation, cadre, profile, finished_on, deadline + timedelta(days=3))
        if stop == "self_assessed":
            continue
        _vet(evaluation, advisory, profile)
        if stop == "vetted":
            continue
        evaluation.refresh_from_db()
        services.evaluation_propose(
            evaluation=evaluation,
            actor=superior,
            grade=evaluation.computed_grade,
            comment="Đồng ý với kết quả thẩm định.",
        )
    if not finish:
        return
    for unit in {e.unit for e in evaluations}:
        collective = services.collective_for(period=period, unit=unit)
        services.collective_set_targets(
            collective=collective,
            actor=authority,
            targets=[
                {"title": f"Chỉ tiêu {i + 1} giao cho {unit.name}", "assigned_by": "Tỉnh ủy"}
                for i in range(5)
            ],
        )
        services.collective_record_results(
            collective=collective,
            actor=authority,
            results={t.pk: {"status": "done"} for t in collective.targets.all()},
        )
        services.collective_grade(collective=collective, actor=authority)
    for evaluation in evaluations:
        evaluation.refresh_from_db()
        try:
            services.evaluation_decide(
                evaluation=evaluation, actor=authority, grade=evaluation.proposed_grade
            )
        except QuotaExceeded:
            services.evaluation_decide(
                evaluation=evaluation,
                actor=authority,
                grade="good",
                comment="Vượt tỷ lệ Hoàn thành xuất sắc của đơn vị.",
            )
    services.period_publish(period=period, actor=organisation)


@transaction.atomic
def build_demo(seed: int = 2026) -> Demo:
    """The organisation, Q3/2026 published and Q4/2026 under way."""
    demo = build_organisation(seed)
    q3 = services.period_create(tenant=demo.tenant, year=2026, quarter=3)
    services.period_open(period=q3)
    run_quarter(demo, q3, finish=True)
    Period.objects.filter(pk=q3.pk).update(status=Period.Status.CLOSED)
    trainee = demo.cadres[5]
    org.absence_create(
        cadre=trainee,
        kind="training",
        start_date=date(2026, 10, 5),
        end_date=date(2026, 12, 20),
        reason="Lớp bồi dưỡng tập trung tại Học viện Chính trị",
    )
    q4 = services.period_create(tenant=demo.tenant, year=2026, quarter=4)
    services.period_open(period=q4)
    run_quarter(demo, q4, finish=False)
    return demo
