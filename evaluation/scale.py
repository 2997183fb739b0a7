"""A tenant of any size for the scale benchmarks, generated from a seed (issue 10).

``scale_generate`` writes one provincial tenant: a tree of units four or five levels deep,
cadres with accounts, posts, assignments (movers for R12, newcomers for R11b) and absences
(R11), role holders on units who can sign in, an approved catalogue, and the four quarters of
2026. Each quarter is opened by ``services.period_open`` (R11, R12, R18 and the quota groups
come from there), then its evaluations are spread over every step: Q1 and Q2 published and
closed, Q3 late in vetting, proposal and decision, Q4 planning. Every evaluation has eight
tasks; scores, grades and reasons come from ``evaluation.rules`` through the same adapter as
the services (``scoring._result_task``), collectives from ``rules.collective_completion``,
decided Excellent grades from ``rules.allocate_excellent`` within each quota group (R9), and
R16 marks from ``jobs.mark_reports``.

The same seed gives the same tenant (names, tree, states, tasks, scores, grades) whatever the
database ids; ``scale_fingerprint`` digests a tenant without its ids to show it. Rows go in
with COPY and INSERT … SELECT from temporary tables, in one transaction: a failure leaves
nothing behind. PostgreSQL only.
"""

import hashlib
import json
import math
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock
from decimal import Decimal
from enum import Enum
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.db.models import Count
from django.utils import translation
from django.utils.translation import gettext as _

from cadres.models import (
    PATH_STEP,
    Absence,
    Assignment,
    Cadre,
    Position,
    Tenant,
    Unit,
    UnitUserPermission,
    User,
)
from cadres.roles import Role
from evaluation import jobs, rules, scoring, services
from evaluation.models import (
    CatalogueItem,
    CatalogueVersion,
    Collective,
    CollectiveTarget,
    CriterionScore,
    Discrepancy,
    Evaluation,
    EvaluationState,
    Period,
    PublishedResult,
    QuotaGroup,
    ReportStatus,
    Task,
    TransitionLog,
)
from evaluation.permissions import SELF, Action
from evaluation.selectors import rule_set_for

S = EvaluationState
YEAR = 2026
DEFAULT_PASSWORD = "Scale@2026"  # every generated account; documented in bench/README.md
TASKS_PER_EVALUATION = 8
TARGETS_PER_COLLECTIVE = 5
BIG_GROUP = 500  # the decision board's quota group at full size
MID_UNIT = 200  # the superior's inbox unit at full size
BIG_GROUP_CODE = "B500"
MID_UNIT_CODE = "B200"

# Where each quarter stands on 25/11/2026: the share (per mille) of each state among the
# evaluations not already deferred when the quarter opened.
STATE_SHARES = {
    1: [(S.PUBLISHED, 975), (S.DEFERRED, 25)],
    2: [(S.PUBLISHED, 955), (S.DECIDED, 20), (S.DEFERRED, 25)],
    3: [
        (S.PUBLISHED, 220),
        (S.DECIDED, 200),
        (S.PROPOSED, 200),
        (S.VETTED, 150),
        (S.SELF_ASSESSED, 100),
        (S.PLAN_APPROVED, 60),
        (S.PLAN_SUBMITTED, 30),
        (S.PLANNING, 10),
        (S.DEFERRED, 30),
    ],
    4: [
        (S.PLANNING, 120),
        (S.PLAN_SUBMITTED, 200),
        (S.PLAN_APPROVED, 580),
        (S.SELF_ASSESSED, 70),
        (S.DEFERRED, 30),
    ],
}
CLOSED_QUARTERS = (1, 2)
GRADED_COLLECTIVE_QUARTERS = (1, 2, 3)
# R16 is marked for the quarters whose report deadline has passed, as of these days.
REPORT_MARKED_ON = {1: date(2026, 4, 10), 2: date(2026, 7, 10), 3: date(2026, 10, 10)}

# The workflow in order: the number of steps an evaluation has gone through in each state.
PROGRESS = {
    S.PLANNING: 0,
    S.PLAN_SUBMITTED: 1,
    S.PLAN_APPROVED: 2,
    S.SELF_ASSESSED: 3,
    S.VETTED: 4,
    S.PROPOSED: 5,
    S.DECIDED: 6,
    S.PUBLISHED: 7,
}
# Step k (1…7): action, from, to, the role that acts.
STEPS = [
    (1, Action.SUBMIT_PLAN, S.PLANNING, S.PLAN_SUBMITTED, "self"),
    (2, Action.APPROVE_PLAN, S.PLAN_SUBMITTED, S.PLAN_APPROVED, "superior"),
    (3, Action.SELF_ASSESS, S.PLAN_APPROVED, S.SELF_ASSESSED, "self"),
    (4, Action.VET, S.SELF_ASSESSED, S.VETTED, "advisory"),
    (5, Action.PROPOSE, S.VETTED, S.PROPOSED, "superior"),
    (6, Action.DECIDE, S.PROPOSED, S.DECIDED, "authority"),
    (7, Action.PUBLISH, S.DECIDED, S.PUBLISHED, "organisation"),
]
STEP_ROLES = {
    "self": SELF,
    "superior": Role.SUPERIOR.value,
    "advisory": Role.ADVISORY.value,
    "authority": Role.AUTHORITY.value,
    "organisation": Role.ORGANISATION.value,
}
# Task stages: what the task rows of an evaluation hold.
PLAN_ONLY, SELF_RESULTS, VETTED_RESULTS, PART_DONE = 0, 1, 2, -1
# The columns of an evaluation the generator sets after the quarter is opened.
EVALUATION_COLUMNS = [
    "state",
    "version",
    "axis_roles",
    "self_comment",
    "self_score",
    "self_grade",
    "self_assessed_at",
    "vetting_comment",
    "vetted_score",
    "vetted_grade",
    "vetted_by_id",
    "vetted_at",
    "proposal_comment",
    "proposed_grade",
    "proposed_by_id",
    "proposed_at",
    "decision_comment",
    "decided_grade",
    "decided_by_id",
    "decided_at",
    "reassignment_flag",
    "published_at",
    "published_by_id",
    "computed_score",
    "computed_grade",
    "computed_reasons",
    "deferral_case",
    "deferral_reason",
    "previous_unit_comment",
    "discipline_note",
]
EVALUATION_DEFAULTS = {
    **{
        c: ""
        for c in EVALUATION_COLUMNS
        if c.endswith(("_comment", "_grade")) or c in ("deferral_case", "deferral_reason")
    },
    "reassignment_flag": False,
    "computed_reasons": "[]",
    "discipline_note": "",
}

# --- Words ------------------------------------------------------------------------------------

SURNAMES = [
    ("Nguyễn", 380),
    ("Trần", 110),
    ("Lê", 95),
    ("Phạm", 70),
    ("Hoàng", 30),
    ("Huỳnh", 20),
    ("Phan", 45),
    ("Vũ", 25),
    ("Võ", 15),
    ("Đặng", 21),
    ("Bùi", 20),
    ("Đỗ", 14),
    ("Hồ", 13),
    ("Ngô", 13),
    ("Dương", 10),
    ("Lý", 5),
]
MIDDLE = {"m": ["Văn", "Hữu", "Đức", "Minh", "Quốc", "Thanh", "Công", "Xuân", "Trọng", "Đình"]}
MIDDLE["f"] = ["Thị", "Ngọc", "Thu", "Thanh", "Kim", "Minh", "Hồng", "Thúy"]
GIVEN = {
    "m": "An Bình Cường Dũng Hải Hùng Huy Khánh Long Minh Nam Phong Quân Sơn Thắng Toàn Trung "
    "Tuấn Việt Vinh Hiếu Khoa Lâm Nghĩa Phúc Quang Tài Thành Tùng".split(),
    "f": "Anh Châu Dung Giang Hà Hạnh Hằng Hoa Hương Lan Linh Mai Nga Ngọc Nhung Phương Thảo "
    "Trang Tuyết Yến Diệp Hiền Loan Nhàn Oanh Quyên Thủy Vân".split(),
}
PLACES = (
    "Tân An|Phú Mỹ|Bình Minh|Hòa Bình|An Phú|Long Hưng|Thạnh Lợi|Vĩnh Phúc|Đông Hòa|Tây Sơn|"
    "Hưng Long|Quang Trung|Phước Hải|Mỹ Xuân|Cẩm Thành|Nghĩa Lộ|Bảo Lộc|Thuận An|Gia Lộc|Kim Sơn|"
    "Hải Châu|Xuân Trường|Yên Thế|Lạc Sơn|Châu Thành|Cái Bè|Ninh Hòa|Sơn Tịnh|Tam Nông|Đức Linh"
).split("|")
DEPARTMENTS = (
    "Nội vụ|Tài chính|Kế hoạch và Đầu tư|Xây dựng|Giao thông vận tải|Giáo dục và Đào tạo|Y tế|"
    "Tư pháp|Công Thương|Nông nghiệp và Môi trường|Văn hóa, Thể thao và Du lịch|"
    "Khoa học và Công nghệ|Lao động, Thương binh và Xã hội|Ngoại vụ|Dân tộc và Tôn giáo"
).split("|")
OFFICES = (
    "Tổ chức cán bộ|Kế hoạch – Tài chính|Văn phòng|Thanh tra|Pháp chế|Tổng hợp|Quản lý chất lượng|"
    "Hành chính – Quản trị|Công nghệ thông tin|Thi đua – Khen thưởng|Kiểm tra|Tuyên truyền"
).split("|")
TASKS_BY_AXIS = {
    1: [
        "Triển khai kế hoạch phát triển kinh tế – xã hội quý",
        "Đẩy nhanh giải ngân vốn đầu tư công",
        "Tháo gỡ vướng mắc cho dự án trọng điểm",
        "Thu ngân sách đạt chỉ tiêu quý",
        "Cải thiện môi trường đầu tư kinh doanh",
        "Hoàn thành chỉ tiêu nông thôn mới",
    ],
    2: [
        "Rà soát, sửa đổi quy chế làm việc",
        "Phân cấp, ủy quyền giải quyết thủ tục",
        "Kiểm tra, giám sát việc thực hiện phân cấp",
        "Hoàn thiện quy định quản lý nội bộ",
        "Giải quyết dứt điểm đơn thư tồn đọng",
        "Tổng kết thực hiện cơ chế một cửa",
    ],
    3: [
        "Số hóa hồ sơ, tài liệu lưu trữ",
        "Đưa dịch vụ công trực tuyến toàn trình vào vận hành",
        "Ứng dụng phần mềm quản lý văn bản điều hành",
        "Xây dựng cơ sở dữ liệu chuyên ngành",
        "Triển khai chữ ký số cho cán bộ",
        "Đề xuất sáng kiến cải tiến quy trình",
    ],
    4: [
        "Tổ chức sinh hoạt chuyên đề chi bộ",
        "Kiểm tra việc thực hiện nghị quyết",
        "Phòng, chống tham nhũng, lãng phí, tiêu cực",
        "Đánh giá chất lượng tổ chức cơ sở đảng",
        "Bồi dưỡng, kết nạp đảng viên mới",
        "Củng cố đoàn kết nội bộ",
    ],
    5: [
        "Chăm lo gia đình chính sách dịp lễ",
        "Thực hiện chương trình giảm nghèo bền vững",
        "Tổ chức hoạt động văn hóa, thể thao",
        "Nâng cao chất lượng dịch vụ y tế cơ sở",
        "Hỗ trợ nhà ở cho hộ khó khăn",
        "Giải quyết việc làm cho người lao động",
    ],
    6: [
        "Diễn tập khu vực phòng thủ",
        "Giữ vững an ninh chính trị, trật tự xã hội",
        "Tuyển quân đạt chỉ tiêu",
        "Phối hợp công tác đối ngoại nhân dân",
        "Phòng cháy, chữa cháy và cứu nạn, cứu hộ",
        "Tuyên truyền chủ quyền biên giới, biển đảo",
    ],
}
OBJECTIVES = {
    1: "Hoàn thành các chỉ tiêu kinh tế – xã hội được giao",
    2: "Hoàn thiện thể chế, phân cấp gắn với kiểm tra, giám sát",
    3: "Đẩy mạnh chuyển đổi số và đổi mới sáng tạo",
    4: "Xây dựng Đảng, hệ thống chính trị trong sạch, vững mạnh",
    5: "Chăm lo đời sống vật chất, tinh thần của nhân dân",
    6: "Bảo đảm quốc phòng, an ninh, đối ngoại",
}
PRODUCTS = ["Báo cáo kết quả", "Kế hoạch triển khai", "Đề án", "Quyết định ban hành", "Biên bản"]
TARGET_TITLES = [
    "Hoàn thành chỉ tiêu thu ngân sách quý",
    "Giải quyết đúng hạn hồ sơ thủ tục hành chính",
    "Triển khai nghị quyết của cấp ủy cấp trên",
    "Hoàn thành kế hoạch kiểm tra, giám sát",
    "Thực hiện chương trình chuyển đổi số",
]
# The plan templates: each slot's axis and weight; R2 holds for each (checked when generating).
TEMPLATES = [
    ([1, 1, 1, 2, 2, 3, 4, 6], [15, 15, 10, 15, 10, 15, 10, 10], {1, 2}),
    ([2, 2, 2, 1, 1, 3, 5, 6], [15, 15, 15, 10, 10, 15, 10, 10], {1, 2}),
    ([4, 4, 4, 1, 1, 3, 3, 5], [15, 15, 10, 15, 10, 10, 10, 15], {1, 4}),
    ([6, 6, 6, 6, 1, 2, 3, 5], [15, 15, 15, 15, 10, 10, 10, 10], {6}),
]
DEADLINE_BACK = [70, 60, 50, 40, 35, 25, 20, 12]  # days before the quarter's end, per slot
# Profile kinds: (kind, share per mille).
PROFILE_KINDS = [
    ("excellent", 160),
    ("good", 600),
    ("completed", 140),
    ("not_completed", 55),
    ("force_majeure", 45),
]
PROFILES = 240


VACUUMED = (
    Unit,
    User,
    Cadre,
    Position,
    Assignment,
    Absence,
    UnitUserPermission,
    Evaluation,
    Task,
    CriterionScore,
    TransitionLog,
    PublishedResult,
    Discrepancy,
    QuotaGroup,
    Collective,
    CollectiveTarget,
    ReportStatus,
)


class ScaleError(ValidationError):
    pass


@dataclass
class ScaleSummary:
    tenant: Tenant
    password: str
    counts: dict = field(default_factory=dict)
    states: dict = field(default_factory=dict)  # quarter → state → evaluations
    seconds: dict = field(default_factory=dict)  # phase → seconds
    accounts: dict = field(default_factory=dict)  # what the benchmarks sign in as
    units: dict = field(default_factory=dict)  # named units of the benchmarks → id


# --- The blueprint: plain Python, deterministic from the seed --------------------------------


@dataclass
class _Unit:
    index: int
    code: str
    name: str
    kind: str
    depth: int
    parent: int | None
    block: int = 0  # the level-1 unit above it (the root for the root)
    size: int = 0
    children: int = 0
    id: int = 0
    path: str = ""


@dataclass
class _Cadre:
    index: int
    code: str
    full_name: str
    first_name: str
    last_name: str
    born: date
    unit: int
    role: str
    post_kind: str
    mode: str
    since: date
    moved_on: date | None = None
    moved_from: int | None = None
    absences: list = field(default_factory=list)
    discipline_quarter: int | None = None
    id: int = 0
    user_id: int = 0


def _pick(rng: random.Random, weighted):
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights)[0]


def _level_sizes(units: int) -> list[int]:
    """Units per level below the root: a few blocks, many offices and teams (4–5 levels)."""
    n1 = max(2, round(units * 0.012))
    n2 = max(2, round(units * 0.09))
    n4 = max(1, round(units * 0.40))
    n3 = units - 1 - n1 - n2 - n4
    return [n1, n2, n3, n4]


def _tree(rng: random.Random, units: int) -> list[_Unit]:
    n1, n2, n3, n4 = _level_sizes(units)
    tree = [_Unit(0, "U0000", "Tỉnh ủy", Unit.Kind.PARTY_COMMITTEE, 0, None)]

    def add(depth, parent, kind, name):
        unit = _Unit(len(tree), f"U{len(tree):04d}", name, kind, depth, parent)
        unit.block = unit.index if depth == 1 else tree[parent].block
        tree[parent].children += 1
        tree.append(unit)
        return unit

    level1 = []
    for i in range(n1):
        place = PLACES[i % len(PLACES)]
        if i == 0:
            kind, name = Unit.Kind.ADVISORY_BODY, "Ban Tổ chức Tỉnh ủy"
        elif i % 20 == 19:
            kind, name = Unit.Kind.MASS_ORGANISATION, f"Ủy ban Mặt trận Tổ quốc – khối {i}"
        elif i % 3 == 2:
            department = DEPARTMENTS[(i // 3) % len(DEPARTMENTS)]
            kind, name = Unit.Kind.DEPARTMENT, f"Sở {department}"
        else:
            kind, name = Unit.Kind.DISTRICT, f"Huyện {place}"
        if i >= len(PLACES) and kind != Unit.Kind.ADVISORY_BODY:
            name = f"{name} {i // len(PLACES) + 1}"
        level1.append(add(1, 0, kind, name))

    def spread(parents, count, depth):
        order = parents[:]
        rng.shuffle(order)
        created = []
        for i in range(count):
            parent = order[i % len(order)]
            n = parent.children + 1
            if parent.kind == Unit.Kind.DISTRICT and depth == 2 and n % 4 != 0:
                kind = Unit.Kind.COMMUNE
                name = f"{'Xã' if n % 3 else 'Phường'} {PLACES[(n + i) % len(PLACES)]} {n}"
            elif depth == 2:
                kind = Unit.Kind.DEPARTMENT
                name = f"Phòng {OFFICES[n % len(OFFICES)]} – {parent.name}"
            elif depth == 3:
                kind = Unit.Kind.OTHER
                name = f"Bộ phận {OFFICES[(n + 3) % len(OFFICES)]} số {n} – {parent.name}"
            else:
                kind = Unit.Kind.OTHER
                name = f"Tổ công tác số {n} – {parent.name}"
            created.append(add(depth, parent.index, kind, name[:255]))
        return created

    level2 = spread(level1, n2, 2)
    level3 = spread(level2, n3, 3)
    # Only some offices have teams under them: branches end at depth 3 or 4.
    hosts = level3[:]
    rng.shuffle(hosts)
    spread(hosts[: max(1, math.ceil(len(hosts) * 0.45))], n4, 4)
    return tree


def _sizes(rng: random.Random, tree: list[_Unit], cadres: int) -> tuple[int, int]:
    """Cadres per unit: two named units for the benchmarks, the rest by a skewed draw."""
    big_size, mid_size = min(BIG_GROUP, cadres // 10), min(MID_UNIT, cadres // 25)
    big = next(u for u in tree if u.depth == 2)
    mid = next(u for u in tree if u.depth == 3 and u.children == 0)
    big.code, big.size, big.name = BIG_GROUP_CODE, big_size, f"Sở Giáo dục và Đào tạo – {big.name}"
    mid.code, mid.size, mid.name = MID_UNIT_CODE, mid_size, f"Phòng Tổ chức cán bộ – {mid.name}"
    others = [u for u in tree if u.index not in (big.index, mid.index)]
    left = cadres - big_size - mid_size - 3 * len(others)
    if left < 0:
        raise ScaleError(_("Give at least three cadres per unit."))
    depth_factor = {0: 3.0, 1: 2.0, 2: 1.5, 3: 1.0, 4: 0.7}
    weights = [rng.lognormvariate(0, 0.8) * depth_factor[u.depth] for u in others]
    total = sum(weights)
    shares = [left * w / total for w in weights]
    extra = [int(s) for s in shares]
    # Largest remainders take the cadres the floors left over.
    for i in sorted(range(len(others)), key=lambda i: shares[i] - extra[i], reverse=True)[
        : left - sum(extra)
    ]:
        extra[i] += 1
    for unit, n in zip(others, extra, strict=True):
        unit.size = 3 + n
    return big.index, mid.index


def _cadres(rng: random.Random, tree: list[_Unit]) -> list[_Cadre]:
    people = []
    for unit in tree:
        deputies = 1 if unit.size < 10 else 2 if unit.size < 40 else 3
        for k in range(unit.size):
            gender = "f" if rng.random() < 0.32 else "m"
            surname = _pick(rng, SURNAMES)
            middle = rng.choice(MIDDLE[gender])
            given = rng.choice(GIVEN[gender])
            role = "head" if k == 0 else "deputy" if k <= deputies else "member"
            post_kind, mode = Position.Kind.LEADERSHIP, Cadre.EvaluationMode.QUARTERLY
            draw = rng.random()
            if role == "member" and unit.depth <= 1 and draw < 0.08:
                # R18: committee members without professional duties.
                post_kind = Position.Kind.COMMITTEE_MEMBER
                mode = Cadre.EvaluationMode.YEARLY if draw < 0.05 else "half_yearly"
            elif role == "member" and draw > 0.98:
                role, post_kind = "none", Position.Kind.NON_LEADERSHIP_TITLE
            index = len(people)
            people.append(
                _Cadre(
                    index=index,
                    code=f"CB{index:06d}",
                    full_name=f"{surname} {middle} {given}",
                    first_name=given,
                    last_name=f"{surname} {middle}",
                    born=date(1965, 1, 1) + timedelta(days=rng.randrange(25 * 365)),
                    unit=unit.index,
                    role=role,
                    post_kind=post_kind,
                    mode=mode,
                    since=date(2012, 1, 1) + timedelta(days=rng.randrange(14 * 365)),
                )
            )
    _life_events(rng, tree, people)
    return people


def _quarter_start(quarter: int) -> date:
    return rules.quarter_bounds(YEAR, quarter)[0]


def _life_events(rng: random.Random, tree: list[_Unit], people: list[_Cadre]) -> None:
    """Movers (R12), newcomers (R11b), absences (R11) and discipline (R6)."""
    deep = [u.index for u in tree if u.depth >= 2]
    for person in people:
        draw = rng.random()
        movable = person.role == "member" and person.post_kind == Position.Kind.LEADERSHIP
        if movable and tree[person.unit].depth >= 2 and draw < 0.010:
            # Half move in Q2 with more than two months in the old unit, half in Q3 with less.
            person.moved_on = date(YEAR, 6, 10) if draw < 0.005 else date(YEAR, 8, 20)
            person.moved_from = rng.choice([u for u in deep[:50] if u != person.unit] or [0])
        elif movable and draw < 0.013:
            person.since = date(YEAR, 9, 10)  # first appointed with under a month of Q3 left
        draw = rng.random()
        if draw < 0.020:
            start = _quarter_start(rng.randint(1, 4)) + timedelta(days=rng.randint(5, 60))
            end = start + timedelta(days=rng.randint(10, 20))
            person.absences.append((Absence.Kind.SICK_LEAVE, start, end, "Điều trị ngắn ngày"))
        elif draw < 0.024:
            quarter = rng.randint(1, 4)
            start, end = rules.quarter_bounds(YEAR, quarter)
            person.absences.append(
                (
                    Absence.Kind.TRAINING,
                    start + timedelta(days=9),
                    end - timedelta(days=5),
                    "Học tập trung lớp cao cấp lý luận chính trị",
                )
            )
        elif draw < 0.026:
            person.absences.append(
                (Absence.Kind.MATERNITY_LEAVE, date(YEAR, 5, 1), date(YEAR, 10, 31), "")
            )
        elif draw < 0.027:
            person.absences.append(
                (
                    Absence.Kind.INSPECTION,
                    date(YEAR, 10, 5),
                    date(YEAR, 12, 20),
                    "Kiểm tra khi có dấu hiệu vi phạm",
                )
            )
        if rng.random() < 0.002:
            person.discipline_quarter = rng.randint(1, 3)


# --- Task profiles: eight tasks with their results, graded by the rules ----------------------


@dataclass(frozen=True)
class _Slot:
    title: str
    objective: str
    product: str
    axis: int
    weight: int
    deadline_back: int
    catalogue: int | None  # index into the catalogue items
    status: str  # self-reported
    shift: int  # completed_on − deadline in days (> 0 is late)
    exceeded: bool
    self_level: int | None
    fm_reason: str
    progress: str  # vetted
    quality: int | None
    fm_decision: str
    fm_decision_reason: str


@dataclass(frozen=True)
class _Profile:
    index: int
    kind: str
    template: int
    slots: tuple[_Slot, ...]
    self_points: tuple[tuple[str, Decimal], ...]
    vetted_points: tuple[tuple[str, Decimal | None], ...]
    comment: str

    @property
    def axis_roles(self) -> dict[str, str]:
        primary = TEMPLATES[self.template][2]
        return {
            str(a): "primary" if a in primary else "secondary"
            for a in sorted({s.axis for s in self.slots})
        }


def _profile(rng: random.Random, index: int, criteria) -> _Profile:
    kind = _pick(rng, PROFILE_KINDS)
    template = rng.randrange(len(TEMPLATES))
    axes, weights, _primary = TEMPLATES[template]
    late = set(rng.sample(range(8), rng.randint(1, 2))) if kind == "completed" else set()
    missing = rng.randrange(8) if kind in ("not_completed", "force_majeure") else None
    exceeded = set(rng.sample(range(8), 3 if kind == "excellent" else rng.randint(0, 2)))
    confirmed = rng.random() < 0.75
    slots = []
    used: Counter = Counter()
    for k in range(TASKS_PER_EVALUATION):
        axis = axes[k]
        title = TASKS_BY_AXIS[axis][(index + used[axis]) % len(TASKS_BY_AXIS[axis])]
        used[axis] += 1
        level = 1
        if kind == "good" and rng.random() < 0.15:
            level = 2
        elif kind in ("completed", "not_completed") and rng.random() < 0.3:
            level = 2
        status, progress, quality, fm, fm_decision, fm_decision_reason = (
            Task.Status.DONE,
            Task.Progress.LATE if k in late else Task.Progress.ON_TIME,
            level,
            "",
            "",
            "",
        )
        self_level = 1 if level == 2 and rng.random() < 0.6 else level  # cadres rate higher
        if k == missing and kind == "not_completed":
            status, progress, quality, self_level = (
                Task.Status.NOT_DONE,
                Task.Progress.NOT_DONE,
                None,
                None,
            )
        elif k == missing:
            status, progress, quality, self_level = (
                Task.Status.FORCE_MAJEURE,
                Task.Progress.NOT_DONE,
                None,
                None,
            )
            fm = "Ảnh hưởng của bão lũ, không thể tổ chức thực hiện"
            fm_decision = Task.ForceMajeure.CONFIRMED if confirmed else Task.ForceMajeure.REFUSED
            fm_decision_reason = (
                "Cấp có thẩm quyền xác nhận bất khả kháng do thiên tai"
                if confirmed
                else "Không đủ căn cứ xác nhận bất khả kháng"
            )
        slots.append(
            _Slot(
                title=title,
                objective=OBJECTIVES[axis],
                product=f"{PRODUCTS[(index + k) % len(PRODUCTS)]} {title.lower()}",
                axis=axis,
                weight=weights[k],
                deadline_back=DEADLINE_BACK[k],
                catalogue=(axis - 1) * 6 + (index + k) % 6 if rng.random() < 0.3 else None,
                status=status,
                shift=rng.randint(2, 9) if k in late else -rng.randint(1, 8),
                exceeded=status == Task.Status.DONE and k in exceeded,
                self_level=self_level,
                fm_reason=fm,
                progress=progress,
                quality=quality,
                fm_decision=fm_decision,
                fm_decision_reason=fm_decision_reason,
            )
        )
    drop = {"excellent": [0, 0, 0.5], "good": [0.5, 1, 1.5], "completed": [1, 2, 3]}.get(
        kind, [1, 2, 3, 4]
    )
    self_points, vetted_points = [], []
    for criterion in criteria:
        own = max(Decimal(0), criterion.max_points - Decimal(str(rng.choice(drop))))
        self_points.append((criterion.code, own))
        vetted = own - Decimal("0.5") if rng.random() < 0.3 and own >= 1 else None
        vetted_points.append((criterion.code, vetted))
    comment = {
        "excellent": "Hoàn thành xuất sắc, vượt nhiều chỉ tiêu được giao.",
        "good": "Hoàn thành tốt các nhiệm vụ được giao đúng tiến độ.",
        "completed": "Hoàn thành nhiệm vụ, còn một số việc chậm tiến độ.",
    }.get(kind, "Còn nhiệm vụ chưa hoàn thành, đã nêu rõ nguyên nhân.")
    return _Profile(
        index, kind, template, tuple(slots), tuple(self_points), tuple(vetted_points), comment
    )


class _Grader:
    """The rules' grade of each (profile, stage, collective, discipline) — computed once."""

    def __init__(self, profiles: list[_Profile], rule_set: rules.RuleSet):
        self.rule_set = rule_set
        self.memo: dict = {}
        reference_end = date(YEAR, 6, 30)
        # Unsaved tasks read by the services' own adapter: the same mapping as the screens.
        self.tasks = {
            p.index: [
                Task(
                    weight=Decimal(s.weight),
                    axis=s.axis,
                    difficulty=Decimal(1),
                    status=s.status,
                    deadline=reference_end - timedelta(days=s.deadline_back),
                    completed_on=(
                        reference_end - timedelta(days=s.deadline_back - s.shift)
                        if s.status == Task.Status.DONE
                        else None
                    ),
                    exceeded=s.exceeded,
                    self_quality_level=s.self_level,
                    force_majeure_reason=s.fm_reason,
                    progress=s.progress,
                    quality_level=s.quality,
                    force_majeure_decision=s.fm_decision,
                    force_majeure_decision_reason=s.fm_decision_reason,
                )
                for s in p.slots
            ]
            for p in profiles
        }
        self.profiles = {p.index: p for p in profiles}

    def result(self, profile: int, stage: scoring.Stage, role, collective, reprimand: bool):
        """(score, grade, reasons as stored) of scoring.assess for such an evaluation."""
        below = collective is not None and collective.below_threshold and role != "none"
        key = (profile, stage, role if below else None, collective if below else None, reprimand)
        if key not in self.memo:
            p = self.profiles[profile]
            selfs = dict(p.self_points)
            if stage is scoring.Stage.SELF:
                points = selfs
            else:
                points = {c: v if v is not None else selfs[c] for c, v in p.vetted_points}
            extra = {}
            if below:
                extra = {"role": rules.CollectiveRole(role), "collective": collective}
            outcome = rules.compute_grade(
                rules.AssessmentInput(
                    general_points=points,
                    tasks=[
                        scoring._result_task(t, n, stage)
                        for n, t in enumerate(self.tasks[profile], start=1)
                    ],
                    reprimand_or_above=reprimand,
                    **extra,
                ),
                self.rule_set,
            )
            self.memo[key] = (
                outcome.score.total,
                outcome.grade.value,
                json.dumps([r.as_dict() for r in outcome.reasons], ensure_ascii=False),
            )
        return self.memo[key]


# --- Writing rows ------------------------------------------------------------------------------


def _reserve_ids(model, count: int) -> list[int]:
    """Ids taken from the table's sequence, so that rows can point at each other before COPY."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [model._meta.db_table, count],
        )
        return [row[0] for row in cursor.fetchall()]


def _copy(model, rows: list[dict]) -> None:
    """COPY rows given as {attname: value}; missing columns take the model's defaults."""
    if not rows:
        return
    now = datetime.now(tz=ZoneInfo(settings.TIME_ZONE))
    given = set(rows[0])
    columns, defaults, json_columns = [], [], set()
    for f in model._meta.concrete_fields:
        if f.primary_key and f.attname not in given:
            continue
        columns.append(f)
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            defaults.append(now)
        else:
            defaults.append(f.get_default())  # "" for text columns that are not null
        if isinstance(f, models.JSONField):
            json_columns.add(f.attname)
    quote = connection.ops.quote_name
    statement = "COPY {} ({}) FROM STDIN".format(
        quote(model._meta.db_table), ", ".join(quote(f.column) for f in columns)
    )
    names = [f.attname for f in columns]
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for row in rows:
            values = []
            for name, default in zip(names, defaults, strict=True):
                value = row.get(name, default)
                if name in json_columns and not isinstance(value, str):
                    value = json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False)
                values.append(_plain(value))
            copy.write_row(values)


def _plain(value):
    """Choices members as their values: COPY adapts plain types only."""
    return value.value if isinstance(value, Enum) else value


def _execute(sql: str, params=None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _is_superuser() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        row = cursor.fetchone()
    return bool(row and row[0])


def verify_references(tenant: Tenant) -> None:
    """Every foreign key of the tenant's rows points at an existing row, or ScaleError."""
    quote = connection.ops.quote_name
    broken = []
    for model in (*VACUUMED, CatalogueVersion, CatalogueItem):
        table = quote(model._meta.db_table)
        if any(f.attname == "tenant_id" for f in model._meta.concrete_fields):
            scope, params = "c.tenant_id = %s", [tenant.pk]
        else:  # role grants: through the unit they are granted on
            scope = "c.content_object_id IN (SELECT id FROM cadres_unit WHERE tenant_id = %s)"
            params = [tenant.pk]
        for f in model._meta.concrete_fields:
            if not f.is_relation:
                continue
            target = f.target_field
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT count(*) FROM {table} c WHERE {scope} AND c.{quote(f.column)} "
                    f"IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "
                    f"{quote(target.model._meta.db_table)} p WHERE p.{quote(target.column)} "
                    f"= c.{quote(f.column)})",
                    params,
                )
                missing = cursor.fetchone()[0]
            if missing:
                broken.append(f"{model._meta.label}.{f.name}: {missing}")
    if broken:
        raise ScaleError(
            _("Rows point at rows that do not exist: %(broken)s") % {"broken": "; ".join(broken)}
        )


def _at(day: date, minutes: int = 0) -> datetime:
    return datetime.combine(day, clock(8, 0), tzinfo=ZoneInfo(settings.TIME_ZONE)) + timedelta(
        minutes=minutes
    )


# --- The generator ------------------------------------------------------------------------------


class _Generator:
    def __init__(self, *, cadres, units, seed, tenant_code, password):
        self.count, self.unit_count, self.seed = cadres, units, seed
        self.code, self.password = tenant_code, password
        self.summary = None
        self.clock = time.perf_counter()

    def rng(self, topic: str) -> random.Random:
        # One stream per topic: a change in one part does not reshuffle the others.
        return random.Random(f"{self.seed}:{topic}")

    def lap(self, phase: str) -> None:
        now = time.perf_counter()
        self.summary.seconds[phase] = round(now - self.clock, 2)
        self.clock = now

    def run(self) -> ScaleSummary:
        tree = _tree(self.rng("tree"), self.unit_count)
        self.big, self.mid = _sizes(self.rng("sizes"), tree, self.count)
        people = _cadres(self.rng("people"), tree)
        self.tree, self.people = tree, people
        # Large INSERT … SELECTs on tables whose statistics lag: compiling them costs more
        # than it saves.
        _execute("SET LOCAL jit = off")
        self.bulk_checks = _is_superuser()
        if self.bulk_checks:
            # As pg_restore --disable-triggers does: no row-by-row foreign-key triggers (some
            # twelve million checks at COMMIT at full size); verify_references checks every
            # reference of the tenant's rows with one anti-join per foreign key instead.
            _execute("SET LOCAL session_replication_role = replica")
        tenant = Tenant.objects.create(
            code=self.code,
            name=f"Tỉnh ủy Quy Mô ({self.code})",
            kind=Tenant.Kind.PROVINCIAL_COMMITTEE,
            parent_body="ĐẢNG BỘ TỈNH QUY MÔ",
            place="Quy Mô",
        )
        self.tenant = tenant
        self.summary = ScaleSummary(tenant=tenant, password=self.password)
        self.lap("blueprint")
        self.write_units()
        self.write_people()
        self.write_roles()
        self.write_catalogue()
        self.lap("organisation")
        rule_set = rule_set_for(tenant, date(YEAR, 1, 1))
        for axes, weights, primary in TEMPLATES:
            # R2 must hold for every plan the generator writes.
            problems = rules.validate_plan(
                [
                    rules.Task(id=k, weight=Decimal(w), axis=a)
                    for k, (a, w) in enumerate(zip(axes, weights, strict=True))
                ],
                {
                    a: rules.AxisRole.PRIMARY if a in primary else rules.AxisRole.SECONDARY
                    for a in set(axes)
                },
                rule_set,
                quarter_start=date(YEAR, 4, 1),
            )
            if problems:
                raise RuntimeError(f"scale: a plan template breaks R2: {problems}")
        profile_rng = self.rng("profiles")
        self.profiles = [
            _profile(profile_rng, i, rule_set.general_criteria) for i in range(PROFILES)
        ]
        self.grader = _Grader(self.profiles, rule_set)
        for quarter in (1, 2, 3, 4):
            period = services.period_create(tenant=tenant, year=YEAR, quarter=quarter)
            services.period_open(period=period)
            self.lap(f"Q{quarter} opened")
            self.fill_quarter(period)
            self.lap(f"Q{quarter} filled")
        for quarter, as_of in REPORT_MARKED_ON.items():
            period = Period.objects.get(tenant=tenant, year=YEAR, quarter=quarter)
            jobs.mark_reports(tenant_id=tenant.pk, period_id=period.pk, as_of=as_of)
        Period.objects.filter(tenant=tenant, quarter__in=CLOSED_QUARTERS).update(
            status=Period.Status.CLOSED
        )
        for table in ("scale_evaluation", "scale_slot", "scale_criterion"):
            _execute(f"DROP TABLE IF EXISTS {table}")
        self.lap("R16 marks")
        if self.bulk_checks:
            _execute("SET LOCAL session_replication_role = DEFAULT")
            verify_references(tenant)
            self.lap("references verified")
        self.count_rows()
        return self.summary

    # --- The organisation ---

    def write_units(self) -> None:
        ids = _reserve_ids(Unit, len(self.tree))
        for unit, pk in zip(self.tree, ids, strict=True):
            unit.id = pk
            parent_path = self.tree[unit.parent].path if unit.parent is not None else ""
            unit.path = parent_path + f"{pk:0{PATH_STEP}d}"
        _copy(
            Unit,
            [
                {
                    "id": u.id,
                    "tenant_id": self.tenant.pk,
                    "parent_id": self.tree[u.parent].id if u.parent is not None else None,
                    "kind": u.kind,
                    "code": u.code,
                    "name": u.name,
                    "path": u.path,
                    "depth": u.depth,
                }
                for u in self.tree
            ],
        )

    def username(self, name: str) -> str:
        return f"{self.code}-{name}".lower()

    def write_people(self) -> None:
        people, tree, tenant_id = self.people, self.tree, self.tenant.pk
        digest = make_password(self.password)  # one hash for every account: hashing is slow
        user_ids = _reserve_ids(User, len(people))
        cadre_ids = _reserve_ids(Cadre, len(people))
        for person, user_id, cadre_id in zip(people, user_ids, cadre_ids, strict=True):
            person.user_id, person.id = user_id, cadre_id
        joined = _at(date(YEAR, 1, 2))
        _copy(
            User,
            [
                {
                    "id": p.user_id,
                    "password": digest,
                    "username": self.username(p.code),
                    "first_name": p.first_name,
                    "last_name": p.last_name,
                    "date_joined": joined,
                    "tenant_id": tenant_id,
                }
                for p in people
            ],
        )
        _copy(
            Cadre,
            [
                {
                    "id": p.id,
                    "tenant_id": tenant_id,
                    "user_id": p.user_id,
                    "code": p.code,
                    "full_name": p.full_name,
                    "date_of_birth": p.born,
                    "party_post": "Đảng ủy viên" if p.role in ("head", "deputy") else "",
                    "government_post": {"head": "Trưởng", "deputy": "Phó"}.get(p.role, "")
                    + (f" {tree[p.unit].name}" if p.role in ("head", "deputy") else ""),
                    "evaluation_mode": p.mode,
                }
                for p in people
            ],
        )
        movers = [p for p in people if p.moved_on]
        position_ids = _reserve_ids(Position, len(people) + len(movers))
        titles = {"head": "Trưởng", "deputy": "Phó Trưởng", "member": "Chuyên viên chính"}
        positions, assignments = [], []
        for p, pk in zip(people, position_ids, strict=False):
            positions.append(
                {
                    "id": pk,
                    "tenant_id": tenant_id,
                    "unit_id": tree[p.unit].id,
                    "title": f"{titles.get(p.role, 'Chuyên viên')} ({p.code})",
                    "kind": p.post_kind,
                    "collective_role": p.role,
                }
            )
            assignments.append(
                {
                    "tenant_id": tenant_id,
                    "cadre_id": p.id,
                    "position_id": pk,
                    "start_date": p.moved_on or p.since,
                    "end_date": None,
                }
            )
        for p, pk in zip(movers, position_ids[len(people) :], strict=True):
            positions.append(
                {
                    "id": pk,
                    "tenant_id": tenant_id,
                    "unit_id": tree[p.moved_from].id,
                    "title": f"Chuyên viên chính ({p.code}, trước khi chuyển)",
                    "kind": Position.Kind.LEADERSHIP,
                    "collective_role": Position.CollectiveRole.MEMBER,
                }
            )
            assignments.append(
                {
                    "tenant_id": tenant_id,
                    "cadre_id": p.id,
                    "position_id": pk,
                    "start_date": p.since,
                    "end_date": p.moved_on - timedelta(days=1),
                    "note": "Điều động",
                }
            )
        _copy(Position, positions)
        _copy(Assignment, assignments)
        _copy(
            Absence,
            [
                {
                    "tenant_id": tenant_id,
                    "cadre_id": p.id,
                    "kind": kind,
                    "start_date": start,
                    "end_date": end,
                    "reason": reason,
                }
                for p in people
                for kind, start, end, reason in p.absences
            ],
        )
        self.cadre_index = {p.id: p.index for p in people}
        self.unit_index = {u.id: u.index for u in tree}

    def write_roles(self) -> None:
        """A superior per unit; advisory, authority and organisation per block and at the root."""
        tree, tenant_id = self.tree, self.tenant.pk
        digest = make_password(self.password)
        holders = []  # (username, first name, unit index, role)
        for unit in tree:
            holders.append((f"sup-{unit.code}", "Cấp trên", unit.index, Role.SUPERIOR))
        for unit in tree:
            if unit.depth > 1:
                continue
            suffix = "" if unit.depth == 0 else f"-{unit.code}"
            holders += [
                (f"advisory{suffix}", "Tham mưu", unit.index, Role.ADVISORY),
                (f"authority{suffix}", "Thẩm quyền", unit.index, Role.AUTHORITY),
                (f"organisation{suffix}", "Tổ chức", unit.index, Role.ORGANISATION),
            ]
        holders.append(("admin", "Quản trị", 0, Role.ADMINISTRATOR))
        ids = _reserve_ids(User, len(holders))
        joined = _at(date(YEAR, 1, 2))
        _copy(
            User,
            [
                {
                    "id": pk,
                    "password": digest,
                    "username": self.username(name),
                    "first_name": first,
                    "last_name": tree[unit].name[:150],
                    "date_joined": joined,
                    "tenant_id": tenant_id,
                }
                for pk, (name, first, unit, _role) in zip(ids, holders, strict=True)
            ],
        )
        permissions = dict(
            Permission.objects.filter(
                content_type__app_label="cadres", codename__in=[r.value for r in Role]
            ).values_list("codename", "pk")
        )
        _copy(
            UnitUserPermission,
            [
                {
                    "permission_id": permissions[role.value],
                    "user_id": pk,
                    "content_object_id": tree[unit].id,
                }
                for pk, (_name, _first, unit, role) in zip(ids, holders, strict=True)
            ],
        )
        by_name = {name: pk for pk, (name, *_rest) in zip(ids, holders, strict=True)}
        self.superior = {u.index: by_name[f"sup-{u.code}"] for u in tree}

        def of_block(role: str, unit: _Unit) -> int:
            block = tree[unit.block]
            return by_name[role if block.depth == 0 else f"{role}-{block.code}"]

        self.advisory = {u.index: of_block("advisory", u) for u in tree}
        self.authority = {u.index: of_block("authority", u) for u in tree}
        self.organisation = {u.index: of_block("organisation", u) for u in tree}
        self.holders = len(holders)

    def write_catalogue(self) -> None:
        version = CatalogueVersion.objects.create(
            tenant=self.tenant,
            number=1,
            status=CatalogueVersion.Status.APPROVED,
            note="Danh mục sản phẩm chuẩn năm 2026",
            submitted_by_id=self.advisory[0],
            submitted_at=_at(date(2025, 12, 15)),
            approved_by_id=self.authority[0],
            approved_at=_at(date(2025, 12, 20)),
        )
        ids = _reserve_ids(CatalogueItem, 36)
        _copy(
            CatalogueItem,
            [
                {
                    "id": ids[(axis - 1) * 6 + k],
                    "tenant_id": self.tenant.pk,
                    "version_id": version.pk,
                    "code": f"T{axis}-{k + 1:02d}",
                    "title": TASKS_BY_AXIS[axis][k],
                    "axis": axis,
                    "expected_product": f"Báo cáo {TASKS_BY_AXIS[axis][k].lower()}",
                    "difficulty": Decimal(1),
                }
                for axis in range(1, 7)
                for k in range(6)
            ],
        )
        self.catalogue_ids = ids

    # --- A quarter ---

    def fill_quarter(self, period: Period) -> None:
        quarter, tree = period.quarter, self.tree
        rows = list(
            Evaluation.objects.filter(period=period).values_list(
                "pk",
                "cadre_id",
                "unit_id",
                "state",
                "collective_role",
                "quota_group_id",
                "deferral_case",
                "deferral_reason",
            )
        )
        rows.sort(key=lambda r: self.cadre_index[r[1]])
        carried = dict(
            Task.objects.filter(evaluation__period=period)
            .values_list("evaluation_id")
            .annotate(n=Count("pk"))
            .order_by()
        )
        collectives = self.write_collectives(
            period, sorted({r[2] for r in rows}, key=self.unit_index.get)
        )
        rng = self.rng(f"q{quarter}:states")
        group_rng = self.rng(f"q{quarter}:groups")
        groups = list(QuotaGroup.objects.filter(period=period).values_list("pk", "unit_id"))
        groups.sort(key=lambda g: self.unit_index[g[1]])
        raised = [pk for pk, _unit in groups if group_rng.random() < 0.05]
        QuotaGroup.objects.filter(pk__in=raised).update(
            percent=25, raise_reason="Tập thể được đánh giá hoàn thành xuất sắc nhiệm vụ năm trước"
        )
        percent = {pk: 25 if pk in raised else 20 for pk, _unit in groups}
        start, end = period.start_date, period.end_date
        values = []
        for pk, cadre_id, unit_id, state, role, group_id, case, reason in rows:
            person = self.people[self.cadre_index[cadre_id]]
            unit = self.unit_index[unit_id]
            target = state if state == S.DEFERRED else _pick(rng, STATE_SHARES[quarter])
            profile = rng.randrange(PROFILES)
            lenient, flag, jitter = rng.random() < 0.06, rng.random() < 0.4, rng.randrange(600)
            reprimand = person.discipline_quarter == quarter
            row = {
                "id": pk,
                "cadre_id": cadre_id,
                "user_id": person.user_id,
                "unit": unit,
                "group": group_id,
                "role": role,
                "profile": profile,
                "state": target,
                "deferral_case": case,
                "deferral_reason": reason,
                "discipline_note": "Khiển trách (quyết định kỷ luật trong quý)"
                if reprimand
                else "",
                "previous_unit_comment": (
                    f"Nhận xét của {tree[person.moved_from].name}: hoàn thành nhiệm vụ."
                    if person.moved_on and start <= person.moved_on <= end
                    else ""
                ),
                "carried": carried.get(pk, 0),
                "superior_id": self.superior[unit],
                "advisory_id": self.advisory[unit],
                "authority_id": self.authority[unit],
                "organisation_id": self.organisation[unit],
                "axis_roles": self.profiles[profile].axis_roles,
            }
            times = [
                _at(start + timedelta(days=6), jitter),
                _at(start + timedelta(days=11), jitter),
                _at(period.self_assessment_deadline - timedelta(days=2), jitter),
                _at(period.vetting_deadline - timedelta(days=1), jitter),
                _at(period.proposal_deadline - timedelta(days=1), jitter),
                _at(period.decision_deadline - timedelta(days=1), jitter),
                _at(period.report_deadline - timedelta(days=1), jitter),
            ]
            row.update({f"t{k}": t for k, t in enumerate(times, start=1)})
            if target == S.DEFERRED and state != S.DEFERRED:
                # Deferred during the quarter by the authority (R11e), part of the plan done.
                row.update(
                    stage=PART_DONE,
                    progress=2,
                    deferred_at=_at(end - timedelta(days=20), jitter),
                    deferral_case="R11e",
                    deferral_reason="Cấp có thẩm quyền quyết định hoãn đánh giá: được cử đi "
                    "công tác đột xuất dài ngày (R11e)",
                )
            elif target == S.DEFERRED:
                row.update(stage=PLAN_ONLY, progress=0, deferred_at=None)
            else:
                progress = PROGRESS[target]
                stage = VETTED_RESULTS if progress >= 4 else SELF_RESULTS if progress == 3 else 0
                row.update(stage=stage, progress=progress, deferred_at=None)
                self.grade_row(row, collectives.get(unit_id), reprimand, lenient, flag)
            values.append(row)
        self.allocate_quota(values, percent)
        self.write_evaluations(period, values)
        self.summary.states[quarter] = dict(Counter(str(v["state"]) for v in values))

    def grade_row(self, row, collective, reprimand, lenient, flag) -> None:
        progress, profile = row["progress"], self.profiles[row["profile"]]
        if progress < 3:
            return
        role = row["role"]
        self_score, self_grade, self_reasons = self.grader.result(
            profile.index, scoring.Stage.SELF, role, collective, reprimand
        )
        row.update(
            self_comment=profile.comment,
            self_score=self_score,
            self_grade=self_grade,
            self_assessed_at=row["t3"],
            computed_score=self_score,
            computed_grade=self_grade,
            computed_reasons=self_reasons,
        )
        if progress < 4:
            return
        score, grade, reasons = self.grader.result(
            profile.index, scoring.Stage.VETTED, role, collective, reprimand
        )
        row.update(
            vetting_comment="Đã thẩm định kết quả, sản phẩm từng nhiệm vụ.",
            vetted_score=score,
            vetted_grade=grade,
            vetted_by_id=row["advisory_id"],
            vetted_at=row["t4"],
            computed_score=score,
            computed_grade=grade,
            computed_reasons=reasons,
        )
        if progress < 5:
            return
        proposed = rules.Grade(grade)
        if lenient and proposed != rules.Grade.EXCELLENT:
            proposed = list(rules.Grade)[list(rules.Grade).index(proposed) - 1]
        row.update(
            proposal_comment="Đồng ý với kết quả thẩm định."
            if proposed == grade
            else "Đề nghị xem xét mức cao hơn do khối lượng công việc lớn.",
            proposed_grade=proposed.value,
            proposed_by_id=row["superior_id"],
            proposed_at=row["t5"],
        )
        if progress < 6:
            return
        # The authority decides at most what the rules allow (R5–R8); R9 comes after.
        row.update(
            decision_comment="Quyết định mức xếp loại theo kết quả thẩm định.",
            decided_grade=grade,
            decided_by_id=row["authority_id"],
            decided_at=row["t6"],
            reassignment_flag=grade == rules.Grade.NOT_COMPLETED and flag,
        )
        if progress == 7:
            row.update(published_at=row["t7"], published_by_id=row["organisation_id"])

    def allocate_quota(self, values: list[dict], percent: dict) -> None:
        """R9 on the decided grades of each group: the demoted Excellent become Good."""
        by_group = defaultdict(list)
        for row in values:
            if row.get("decided_grade") and row["role"] != Position.CollectiveRole.HEAD:
                by_group[row["group"]].append(row)
        for group, members in by_group.items():
            candidates = [
                rules.QuotaCandidate(id=self.cadre_index[r["cadre_id"]], score=r["vetted_score"])
                for r in members
                if r["decided_grade"] == rules.Grade.EXCELLENT
            ]
            if not candidates:
                continue
            good = sum(1 for r in members if r["decided_grade"] == rules.Grade.GOOD)
            allocation = rules.allocate_excellent(candidates, good, percent[group])
            demoted = set(allocation.demoted)
            for r in members:
                if self.cadre_index[r["cadre_id"]] in demoted:
                    r["decided_grade"] = rules.Grade.GOOD.value
                    r["decision_comment"] = "Vượt tỷ lệ hoàn thành xuất sắc nhiệm vụ (R9)."

    def write_collectives(self, period: Period, unit_ids: list[int]) -> dict:
        """A collective per unit, its five targets; graded with R8 in Q1–Q3."""
        rng = self.rng(f"q{period.quarter}:collectives")
        graded = period.quarter in GRADED_COLLECTIVE_QUARTERS
        rule_set = self.grader.rule_set
        results, collectives, plans = {}, [], []
        for unit_id in unit_ids:
            unit = self.unit_index[unit_id]
            below = rng.random() < 0.06
            excused = rng.random() < 0.05
            statuses = []
            for k in range(TARGETS_PER_COLLECTIVE):
                if not graded:
                    statuses.append((CollectiveTarget.Status.PENDING, False))
                elif below:
                    statuses.append((CollectiveTarget.Status.DONE if k < 3 else "not_done", False))
                elif excused and k == TARGETS_PER_COLLECTIVE - 1:
                    statuses.append((CollectiveTarget.Status.NOT_DONE, True))
                else:
                    statuses.append((CollectiveTarget.Status.DONE, False))
            row = {
                "tenant_id": self.tenant.pk,
                "period_id": period.pk,
                "unit_id": unit_id,
            }
            if graded:
                result = rules.collective_completion(
                    [
                        rules.CollectiveTarget(
                            id=k,
                            done=s == "done",
                            excused=fm,
                            excuse_reason="Thiên tai" if fm else "",
                        )
                        for k, (s, fm) in enumerate(statuses)
                    ],
                    rule_set,
                )
                results[unit_id] = result
                row.update(
                    completion_percent=result.percent,
                    reasons=[r.as_dict() for r in result.reasons],
                    graded_at=_at(period.proposal_deadline),
                    graded_by_id=self.authority[unit],
                )
            collectives.append(row)
            plans.append(statuses)
        ids = _reserve_ids(Collective, len(collectives))
        for row, pk in zip(collectives, ids, strict=True):
            row["id"] = pk
        _copy(Collective, collectives)
        _copy(
            CollectiveTarget,
            [
                {
                    "tenant_id": self.tenant.pk,
                    "collective_id": pk,
                    "title": TARGET_TITLES[k],
                    "assigned_by": "Ban Thường vụ Tỉnh ủy",
                    "status": status,
                    "force_majeure_confirmed": fm,
                    "force_majeure_reason": "Thiên tai" if fm else "",
                }
                for pk, statuses in zip(ids, plans, strict=True)
                for k, (status, fm) in enumerate(statuses)
            ],
        )
        return results

    def write_evaluations(self, period: Period, values: list[dict]) -> None:
        """The quarter's evaluations, tasks, criteria, log, published records, discrepancies."""
        self.write_profiles()
        extra = {
            "profile": "int",
            "stage": "int",
            "progress": "int",
            "carried": "int",
            "user_id": "bigint",
            "superior_id": "bigint",
            "advisory_id": "bigint",
            "authority_id": "bigint",
            "organisation_id": "bigint",
            "deferred_at": "timestamptz",
            **{f"t{k}": "timestamptz" for k in range(1, 8)},
        }
        _execute("DROP TABLE IF EXISTS scale_evaluation")
        _execute(
            "CREATE TEMP TABLE scale_evaluation AS SELECT * FROM evaluation_evaluation WITH NO DATA"
        )
        _execute(
            "ALTER TABLE scale_evaluation "
            + ", ".join(f"ADD COLUMN {name} {kind}" for name, kind in extra.items())
        )
        columns = ["id", "cadre_id", *EVALUATION_COLUMNS, *extra]
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY scale_evaluation ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for row in values:
                row["version"] = 1 + row["progress"] + (2 if row["progress"] >= 3 else 0)
                row["axis_roles"] = json.dumps(row["axis_roles"])
                copy.write_row([_plain(row.get(c, EVALUATION_DEFAULTS.get(c))) for c in columns])
        _execute("ANALYZE scale_evaluation")
        assignments = ", ".join(f"{c} = g.{c}" for c in EVALUATION_COLUMNS)
        _execute(
            f"UPDATE evaluation_evaluation e SET {assignments} "
            "FROM scale_evaluation g WHERE e.id = g.id"
        )
        self.write_tasks(period)
        _execute(
            """
            UPDATE evaluation_criterionscore cs
               SET self_points = c.self_points,
                   vetted_points = CASE WHEN g.stage >= 2 THEN c.vetted_points END
              FROM scale_evaluation g JOIN scale_criterion c ON c.profile = g.profile
             WHERE cs.evaluation_id = g.id AND cs.code = c.code AND g.stage >= 1
            """
        )
        self.write_log()
        self.write_published(period)
        self.write_discrepancies(period, values)

    def write_profiles(self) -> None:
        """The profiles as temporary tables, read by the INSERT … SELECT of tasks and criteria."""
        if getattr(self, "_profiles_written", False):
            return
        self._profiles_written = True
        _execute("DROP TABLE IF EXISTS scale_slot")
        _execute("DROP TABLE IF EXISTS scale_criterion")
        _execute(
            """
            CREATE TEMP TABLE scale_slot (
                profile int, slot int, title text, objective text, product text, axis int,
                weight numeric(5, 2), deadline_back int, catalogue_item_id bigint, status text,
                shift int, exceeded boolean, self_level int, fm_reason text, progress text,
                quality int, fm_decision text, fm_decision_reason text
            )
            """
        )
        _execute(
            "CREATE TEMP TABLE scale_criterion "
            "(profile int, code text, self_points numeric(4, 1), vetted_points numeric(4, 1))"
        )
        with connection.cursor() as cursor:
            with cursor.cursor.copy("COPY scale_slot FROM STDIN") as copy:
                for p in self.profiles:
                    for k, s in enumerate(p.slots):
                        item = self.catalogue_ids[s.catalogue] if s.catalogue is not None else None
                        copy.write_row(
                            [
                                p.index,
                                k,
                                s.title,
                                s.objective,
                                s.product,
                                s.axis,
                                Decimal(s.weight),
                                s.deadline_back,
                                item,
                                s.status,
                                s.shift,
                                s.exceeded,
                                s.self_level,
                                s.fm_reason,
                                s.progress,
                                s.quality,
                                s.fm_decision,
                                s.fm_decision_reason,
                            ]
                        )
            with cursor.cursor.copy("COPY scale_criterion FROM STDIN") as copy:
                for p in self.profiles:
                    vetted = dict(p.vetted_points)
                    for code, own in p.self_points:
                        copy.write_row([p.index, code, own, vetted[code]])

    def write_tasks(self, period: Period) -> None:
        """Eight tasks per evaluation: tasks carried over from a deferred quarter take the first
        slots of the new plan (their weight and axis re-planned), new ones fill the rest."""
        end = period.end_date.isoformat()
        done = "(g.stage >= 1 AND s.status = 'done') OR (g.stage = -1 AND {slot} < 3)"
        outcome = {
            "deadline": f"DATE '{end}' - s.deadline_back",
            "status": "CASE WHEN g.stage >= 1 THEN s.status WHEN g.stage = -1 AND {slot} < 3 "
            "THEN 'done' ELSE 'pending' END",
            "completed_on": f"CASE WHEN {done} THEN DATE '{end}' - s.deadline_back "
            "+ CASE WHEN g.stage = -1 THEN -3 ELSE s.shift END END",
            "exceeded": "g.stage >= 1 AND s.exceeded",
            "force_majeure_reason": "CASE WHEN g.stage >= 1 THEN s.fm_reason ELSE '' END",
            "evidence": f"CASE WHEN {done} THEN 'Văn bản, báo cáo kèm theo hồ sơ' ELSE '' END",
            "self_quality_level": "CASE WHEN g.stage >= 1 THEN s.self_level END",
            "progress": "CASE WHEN g.stage >= 2 THEN s.progress ELSE '' END",
            "quality_level": "CASE WHEN g.stage >= 2 THEN s.quality END",
            "difficulty_scope": "CASE WHEN g.stage >= 2 THEN 'Phạm vi toàn đơn vị' ELSE '' END",
            "force_majeure_decision": "CASE WHEN g.stage >= 2 THEN s.fm_decision ELSE '' END",
            "force_majeure_decision_reason": "CASE WHEN g.stage >= 2 THEN s.fm_decision_reason "
            "ELSE '' END",
            "weight": "s.weight",
            "axis": "s.axis",
        }
        plan = {
            "tenant_id": str(self.tenant.pk),
            "evaluation_id": "g.id",
            "order": "s.slot",
            "objective": "s.objective",
            "title": "s.title",
            "expected_product": "s.product",
            "primary_responsible_id": "g.cadre_id",
            "responsibility": "'Chủ trì'",
            "accepting_authority": "'Ban Thường vụ Tỉnh ủy'",
            "catalogue_item_id": "s.catalogue_item_id",
            "difficulty": "1",
            "carried_over_from_id": "NULL",
            "evidence_file": "''",
        }
        quote = connection.ops.quote_name
        columns = [f.column for f in Task._meta.concrete_fields if not f.primary_key]
        missing = set(columns) - set(plan) - set(outcome)
        if missing:
            raise RuntimeError(f"scale: no value for the task columns {sorted(missing)}")
        # Carried tasks first: they are renumbered 0, 1, … and take those slots' plan and results.
        sets = ", ".join(
            f"{quote(c)} = {expression.format(slot='c.slot')}"
            for c, expression in [("order", "c.slot"), *outcome.items()]
        )
        _execute(
            f"""
            UPDATE evaluation_task t SET {sets}
              FROM (SELECT t2.id, t2.evaluation_id,
                           row_number() OVER (PARTITION BY t2.evaluation_id
                                              ORDER BY t2."order", t2.id) - 1 AS slot
                      FROM evaluation_task t2 JOIN scale_evaluation g2 ON g2.id = t2.evaluation_id
                     WHERE g2.carried > 0) c
              JOIN scale_evaluation g ON g.id = c.evaluation_id
              JOIN scale_slot s ON s.profile = g.profile AND s.slot = c.slot
             WHERE t.id = c.id
            """
        )
        values = {**plan, **{c: e.format(slot="s.slot") for c, e in outcome.items()}}
        _execute(
            f"""
            INSERT INTO evaluation_task ({", ".join(quote(c) for c in columns)})
            SELECT {", ".join(values[c] for c in columns)}
              FROM scale_evaluation g JOIN scale_slot s ON s.profile = g.profile
             WHERE s.slot >= g.carried
            """
        )

    def write_log(self) -> None:
        """The transition log of each evaluation, one row per step it went through."""
        steps = " UNION ALL ".join(
            f"SELECT {k} AS k, '{action}' AS action, '{source}' AS from_state, "
            f"'{target}' AS to_state, '{who}' AS who"
            for k, action, source, target, who in STEPS
        )
        actor = (
            "CASE s.who "
            + " ".join(
                f"WHEN '{who}' THEN g.{'user' if who == 'self' else who}_id" for who in STEP_ROLES
            )
            + " END"
        )
        role = (
            "CASE s.who "
            + " ".join(f"WHEN '{w}' THEN '{r}'" for w, r in STEP_ROLES.items())
            + " END"
        )
        when = "CASE s.k " + " ".join(f"WHEN {k} THEN g.t{k}" for k in range(1, 8)) + " END"
        snapshot = """jsonb_build_object(
            'self_score', CASE WHEN s.k >= 3 THEN g.self_score::text END,
            'vetted_score', CASE WHEN s.k >= 4 THEN g.vetted_score::text END,
            'computed_score', CASE WHEN s.k >= 3 THEN g.computed_score::text END,
            'computed_grade', CASE WHEN s.k >= 3 THEN g.computed_grade ELSE '' END,
            'self_grade', CASE WHEN s.k >= 3 THEN g.self_grade ELSE '' END,
            'vetted_grade', CASE WHEN s.k >= 4 THEN g.vetted_grade ELSE '' END,
            'proposed_grade', CASE WHEN s.k >= 5 THEN g.proposed_grade ELSE '' END,
            'decided_grade', CASE WHEN s.k >= 6 THEN g.decided_grade ELSE '' END,
            'reasons', CASE WHEN s.k >= 3 THEN g.computed_reasons ELSE '[]'::jsonb END)"""
        tenant = self.tenant.pk
        _execute(
            f"""
            INSERT INTO evaluation_transitionlog (tenant_id, evaluation_id, actor_id, role, action,
                from_state, to_state, reason, score_snapshot, created_at)
            SELECT {tenant}, g.id, {actor}, {role}, s.action, s.from_state, s.to_state,
                   CASE WHEN s.k = 5 THEN g.proposal_comment WHEN s.k = 6 THEN g.decision_comment
                        ELSE '' END,
                   {snapshot}, {when}
              FROM scale_evaluation g JOIN ({steps}) s ON s.k <= g.progress
            """
        )
        _execute(
            f"""
            INSERT INTO evaluation_transitionlog (tenant_id, evaluation_id, actor_id, role, action,
                from_state, to_state, reason, score_snapshot, created_at)
            SELECT {tenant}, g.id, g.authority_id, '{Role.AUTHORITY.value}', '{Action.DEFER}',
                   CASE g.progress WHEN 0 THEN 'planning' WHEN 1 THEN 'plan_submitted'
                        ELSE 'plan_approved' END,
                   'deferred', g.deferral_reason, '{{}}'::jsonb, g.deferred_at
              FROM scale_evaluation g WHERE g.deferred_at IS NOT NULL
            """
        )

    def write_published(self, period: Period) -> None:
        """The immutable record of each published result, shaped as scoring.dossier_snapshot
        (built by PostgreSQL from the rows just written; the tests compare the two)."""
        task = ", ".join(
            f"'{key}', {value}"
            for key, value in [
                ("title", "t.title"),
                ("objective", "t.objective"),
                ("expected_product", "t.expected_product"),
                ("axis", "t.axis"),
                ("weight", "t.weight::text"),
                ("deadline", "t.deadline::text"),
                ("status", "t.status"),
                ("completed_on", "t.completed_on::text"),
                ("exceeded", "t.exceeded"),
                ("progress", "t.progress"),
                ("quality_level", "t.quality_level"),
                ("force_majeure", "t.force_majeure_decision"),
                ("force_majeure_reason", "t.force_majeure_decision_reason"),
            ]
        )
        _execute(
            f"""
            INSERT INTO evaluation_publishedresult (tenant_id, evaluation_id, cadre_id, period_id,
                revision, grade, score, snapshot, published_by_id, published_at)
            SELECT e.tenant_id, e.id, e.cadre_id, e.period_id, e.revision, e.decided_grade,
                   e.vetted_score,
                   jsonb_build_object(
                       'cadre', jsonb_build_object('id', c.id, 'full_name', c.full_name,
                                                   'code', c.code),
                       'period', jsonb_build_object('year', %(year)s, 'quarter', %(quarter)s),
                       'unit', jsonb_build_object('id', u.id, 'name', u.name),
                       'revision', e.revision,
                       'axis_roles', e.axis_roles,
                       'tasks', COALESCE(tasks.list, '[]'::jsonb),
                       'criteria', COALESCE(criteria.list, '[]'::jsonb),
                       'self_score', e.self_score::text,
                       'self_grade', e.self_grade,
                       'vetted_score', e.vetted_score::text,
                       'vetted_grade', e.vetted_grade,
                       'proposed_grade', e.proposed_grade,
                       'decided_grade', e.decided_grade,
                       'reasons', e.computed_reasons,
                       'comments', jsonb_build_object('self', e.self_comment,
                                                      'vetting', e.vetting_comment,
                                                      'proposal', e.proposal_comment,
                                                      'decision', e.decision_comment),
                       'reassignment_flag', e.reassignment_flag),
                   e.published_by_id, e.published_at
              FROM evaluation_evaluation e
              JOIN cadres_cadre c ON c.id = e.cadre_id
              JOIN cadres_unit u ON u.id = e.unit_id
              LEFT JOIN LATERAL (
                   SELECT jsonb_agg(jsonb_build_object({task}) ORDER BY t."order", t.id) AS list
                     FROM evaluation_task t WHERE t.evaluation_id = e.id) tasks ON true
              LEFT JOIN LATERAL (
                   SELECT jsonb_agg(jsonb_build_object('code', k.code, 'name', k.name,
                                                       'max', k.max_points::text,
                                                       'self', k.self_points::text,
                                                       'vetted', k.vetted_points::text)
                                    ORDER BY k."order") AS list
                     FROM evaluation_criterionscore k WHERE k.evaluation_id = e.id) criteria
                   ON true
             WHERE e.period_id = %(period)s AND e.state = 'published'
            """,
            {"year": period.year, "quarter": period.quarter, "period": period.pk},
        )

    def write_discrepancies(self, period: Period, values: list[dict]) -> None:
        """R17 where the proposal was higher than the decision, with the unit's head."""
        heads = {p.unit: p.id for p in self.people if p.role == Position.CollectiveRole.HEAD}
        rows = []
        for row in values:
            if not row.get("decided_grade"):
                continue
            found = rules.discrepancy(row["proposed_grade"], row["decided_grade"])
            if found is None:
                continue
            rows.append(
                {
                    "tenant_id": self.tenant.pk,
                    "evaluation_id": row["id"],
                    "proposer_id": row["proposed_by_id"],
                    "head_id": heads.get(row["unit"]),
                    "proposed_grade": row["proposed_grade"],
                    "decided_grade": row["decided_grade"],
                    "created_at": row["decided_at"],
                }
            )
        _copy(Discrepancy, rows)

    # --- What was written ---

    def count_rows(self) -> None:
        tenant = self.tenant
        summary = self.summary
        q = {"tenant": tenant}
        summary.counts = {
            "units": Unit.objects.filter(**q).count(),
            "cadres": Cadre.objects.filter(**q).count(),
            "accounts": User.objects.filter(**q).count(),
            "role grants": UnitUserPermission.objects.filter(content_object__tenant=tenant).count(),
            "posts": Position.objects.filter(**q).count(),
            "assignments": Assignment.objects.filter(**q).count(),
            "absences": Absence.objects.filter(**q).count(),
            "evaluations": Evaluation.objects.filter(**q).count(),
            "tasks": Task.objects.filter(**q).count(),
            "criterion scores": CriterionScore.objects.filter(**q).count(),
            "transitions": TransitionLog.objects.filter(**q).count(),
            "published results": PublishedResult.objects.filter(**q).count(),
            "discrepancies": Discrepancy.objects.filter(**q).count(),
            "quota groups": QuotaGroup.objects.filter(**q).count(),
            "collectives": Collective.objects.filter(**q).count(),
            "collective targets": CollectiveTarget.objects.filter(**q).count(),
        }
        summary.units = {
            "root": self.tree[0].id,
            "big_group_unit": self.tree[self.big].id,
            "inbox_unit": self.tree[self.mid].id,
            "big_group_block": self.tree[self.tree[self.big].block].id,
        }
        summary.accounts = {
            "cadre": self.username(self.people[0].code),
            "superior_of_inbox_unit": self.username(f"sup-{MID_UNIT_CODE}"),
            "authority": self.username("authority"),
            "organisation": self.username("organisation"),
            "advisory": self.username("advisory"),
            "administrator": self.username("admin"),
        }


def scale_generate(
    *,
    cadres: int,
    units: int,
    seed: int,
    tenant_code: str,
    password: str = DEFAULT_PASSWORD,
) -> ScaleSummary:
    """Write a tenant of ``cadres`` cadres in ``units`` units, the same for the same seed."""
    if connection.vendor != "postgresql":
        raise ScaleError(_("The scale generator needs PostgreSQL."))
    if units < 10:
        raise ScaleError({"units": _("Give at least 10 units: the tree has five levels.")})
    if cadres < 3 * units + 50:
        raise ScaleError(
            {
                "cadres": _("Give at least %(n)s cadres for %(units)s units.")
                % {"n": 3 * units + 50, "units": units}
            }
        )
    if Tenant.objects.filter(code=tenant_code).exists():
        raise ScaleError(
            {
                "tenant_code": _("A tenant with the code %(code)s exists already.")
                % {"code": tenant_code}
            }
        )
    generator = _Generator(
        cadres=cadres, units=units, seed=seed, tenant_code=tenant_code, password=password
    )
    # Grades and reasons are stored in the language of the site, as the jobs do.
    with translation.override(settings.LANGUAGE_CODE), transaction.atomic():
        summary = generator.run()
        committing = time.perf_counter()
    # PostgreSQL checks the deferred foreign keys of every row written here at COMMIT.
    summary.seconds["commit"] = round(time.perf_counter() - committing, 2)
    if not connection.in_atomic_block:
        # The quarters are written then updated: clear the old row versions and give the
        # planner the new sizes before anyone measures anything.
        started = time.perf_counter()
        with connection.cursor() as cursor:
            for model in VACUUMED:
                cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
        summary.seconds["vacuum and statistics"] = round(time.perf_counter() - started, 2)
    return summary


# --- Fingerprint -------------------------------------------------------------------------------


def scale_fingerprint(tenant: Tenant) -> str:
    """A digest of the tenant's content without database ids, timestamps of writing or its code:
    two tenants generated from the same seed have the same fingerprint."""
    prefix = f"{tenant.code}-"
    digest = hashlib.sha256()

    def feed(label, rows):
        digest.update(label.encode())
        for row in rows:
            digest.update(repr(row).replace(prefix, "~").encode())

    t = {"tenant": tenant}
    feed(
        "units",
        Unit.objects.filter(**t)
        .order_by("code")
        .values_list("code", "parent__code", "depth", "name", "kind"),
    )
    feed(
        "cadres",
        Cadre.objects.filter(**t)
        .order_by("code")
        .values_list("code", "full_name", "date_of_birth", "evaluation_mode", "user__username"),
    )
    feed(
        "accounts",
        User.objects.filter(**t)
        .order_by("username")
        .values_list("username", "first_name", "last_name"),
    )
    feed(
        "grants",
        UnitUserPermission.objects.filter(content_object__tenant=tenant)
        .order_by("user__username", "permission__codename")
        .values_list("user__username", "content_object__code", "permission__codename"),
    )
    feed(
        "posts",
        Assignment.objects.filter(**t)
        .order_by("cadre__code", "start_date")
        .values_list(
            "cadre__code",
            "position__unit__code",
            "position__title",
            "position__kind",
            "position__collective_role",
            "start_date",
            "end_date",
        ),
    )
    feed(
        "absences",
        Absence.objects.filter(**t)
        .order_by("cadre__code", "start_date")
        .values_list("cadre__code", "kind", "start_date", "end_date"),
    )
    evaluation_fields = [
        "state",
        "unit__code",
        "collective_role",
        "version",
        "quota_group__percent",
        "self_score",
        "self_grade",
        "self_assessed_at",
        "vetted_score",
        "vetted_grade",
        "vetted_by__username",
        "proposed_grade",
        "proposed_by__username",
        "decided_grade",
        "decided_by__username",
        "published_at",
        "computed_score",
        "computed_grade",
        "computed_reasons",
        "deferral_case",
        "reassignment_flag",
        "previous_unit_comment",
        "discipline_note",
        "carried_over_from__period__quarter",
    ]
    feed(
        "evaluations",
        Evaluation.objects.filter(**t)
        .order_by("period__quarter", "cadre__code")
        .values_list("period__quarter", "cadre__code", *evaluation_fields),
    )
    feed(
        "tasks",
        Task.objects.filter(**t)
        .order_by("evaluation__period__quarter", "evaluation__cadre__code", "order")
        .values_list(
            "evaluation__period__quarter",
            "evaluation__cadre__code",
            "order",
            "title",
            "axis",
            "weight",
            "deadline",
            "status",
            "completed_on",
            "exceeded",
            "self_quality_level",
            "progress",
            "quality_level",
            "force_majeure_decision",
            "catalogue_item__code",
            "carried_over_from__evaluation__period__quarter",
        ),
    )
    feed(
        "criteria",
        CriterionScore.objects.filter(**t)
        .order_by("evaluation__period__quarter", "evaluation__cadre__code", "order")
        .values_list(
            "evaluation__period__quarter",
            "evaluation__cadre__code",
            "code",
            "self_points",
            "vetted_points",
        ),
    )
    feed(
        "log",
        TransitionLog.objects.filter(**t)
        .order_by("evaluation__period__quarter", "evaluation__cadre__code", "created_at", "action")
        .values_list(
            "evaluation__period__quarter",
            "evaluation__cadre__code",
            "action",
            "to_state",
            "actor__username",
            "role",
        ),
    )
    feed(
        "collectives",
        CollectiveTarget.objects.filter(**t)
        .order_by("collective__period__quarter", "collective__unit__code", "title")
        .values_list(
            "collective__period__quarter",
            "collective__unit__code",
            "collective__completion_percent",
            "title",
            "status",
            "force_majeure_confirmed",
        ),
    )
    feed(
        "published",
        PublishedResult.objects.filter(**t)
        .order_by("period__quarter", "cadre__code")
        .values_list(
            "period__quarter",
            "cadre__code",
            "grade",
            "score",
            "snapshot__tasks",
            "snapshot__criteria",
        ),
    )
    feed(
        "discrepancies",
        Discrepancy.objects.filter(**t)
        .order_by("evaluation__period__quarter", "evaluation__cadre__code")
        .values_list(
            "evaluation__period__quarter",
            "evaluation__cadre__code",
            "proposer__username",
            "head__code",
            "proposed_grade",
            "decided_grade",
        ),
    )
    feed(
        "reports",
        ReportStatus.objects.filter(**t)
        .order_by("period__quarter", "unit__code")
        .values_list(
            "period__quarter", "unit__code", "evaluations", "outstanding", "complete_on", "is_late"
        ),
    )
    return digest.hexdigest()
