"""Test data through the real services, so tests build what users build."""

import itertools
from datetime import date

from cadres import services
from cadres.models import Position, Tenant, User
from cadres.roles import Role

_seq = itertools.count(1)


def tenant(code: str | None = None, name: str | None = None) -> Tenant:
    n = next(_seq)
    return Tenant.objects.create(
        code=code or f"tenant-{n}",
        name=name or f"Tỉnh ủy Thử nghiệm {n}",
        kind=Tenant.Kind.PROVINCIAL_COMMITTEE,
        parent_body="ĐẢNG BỘ TỈNH THỬ NGHIỆM",
        place="Thử nghiệm",
    )


def unit(tenant: Tenant, parent=None, name: str | None = None, kind: str = "department"):
    n = next(_seq)
    return services.unit_create(
        tenant=tenant, parent=parent, name=name or f"Đơn vị {n}", code=f"U{n}", kind=kind
    )


def user(tenant: Tenant | None, username: str | None = None, **extra) -> User:
    n = next(_seq)
    return User.objects.create_user(
        username=username or f"user{n}", password="matkhau-Thu-123", tenant=tenant, **extra
    )


def cadre(unit, full_name: str | None = None, role: str = "member", with_user: bool = True, **kw):
    """A cadre holding a post in ``unit`` since the start of 2026, with an account."""
    n = next(_seq)
    account = user(unit.tenant) if with_user else None
    person = services.cadre_create(
        tenant=unit.tenant, user=account, code=f"CB{n:05d}", full_name=full_name or f"Cán bộ {n}"
    )
    position = services.position_create(
        unit=unit, title=f"Chức vụ {n}", kind=Position.Kind.LEADERSHIP, collective_role=role
    )
    services.assignment_create(
        cadre=person, position=position, start_date=kw.pop("start_date", date(2026, 1, 1))
    )
    return person


def holder(role: Role, unit, username: str | None = None) -> User:
    """A user of the unit's tenant holding ``role`` on ``unit``."""
    account = user(unit.tenant, username=username)
    services.role_grant(user=account, role=role, unit=unit)
    return account
