"""A realistic demo organisation: a province with departments, a district and communes.

Everything is built through the real services, so the demo is what users would have made.
"""

import random
from dataclasses import dataclass, field
from datetime import date

from django.db import transaction

from cadres import services as org
from cadres.models import Position, Tenant, Unit, User
from cadres.roles import Role

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


def _account(demo: Demo, username: str, what: str, **extra) -> User:
    user = User.objects.create_user(
        username=username, password=DEMO_PASSWORD, tenant=demo.tenant, **extra
    )
    demo.accounts.append((username, what))
    return user


def _staff(demo: Demo, unit: Unit, names: _Names, title: str, role: str, username=None):
    """A cadre holding a post in the unit since 1 January 2026, with an account."""
    n = len(demo.cadres) + 1
    user = User.objects.create_user(
        username=username or f"cb{n:03d}", password=DEMO_PASSWORD, tenant=demo.tenant
    )
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


@transaction.atomic
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
    for code in ["STC", "SYT", "SGD", "HTB", "XAP", "XHL"]:
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
