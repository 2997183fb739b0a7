from datetime import date

import pytest
from django.core.exceptions import ValidationError

from cadres import services
from cadres.models import Absence, Assignment, Position
from tests import factories


@pytest.fixture
def post(tenant):
    unit = factories.unit(tenant)
    return services.position_create(
        unit=unit, title="Giám đốc Sở", kind=Position.Kind.LEADERSHIP, collective_role="head"
    )


@pytest.fixture
def person(tenant):
    return services.cadre_create(tenant=tenant, code="CB1", full_name="Nguyễn Văn An")


def test_an_assignment_that_ends_before_it_starts_is_refused(post, person):
    with pytest.raises(ValidationError) as excinfo:
        services.assignment_create(
            cadre=person, position=post, start_date=date(2026, 5, 1), end_date=date(2026, 4, 30)
        )
    assert "end_date" in excinfo.value.message_dict
    assert Assignment.objects.count() == 0


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (date(2026, 3, 1), date(2026, 4, 15)),  # overlaps the start
        (date(2026, 6, 30), None),  # open-ended, starts inside
        (date(2026, 4, 10), date(2026, 4, 20)),  # inside
        (date(2026, 1, 1), date(2026, 12, 31)),  # around
    ],
)
def test_overlapping_assignments_in_one_post_are_refused(post, person, tenant, start, end):
    services.assignment_create(
        cadre=person, position=post, start_date=date(2026, 4, 1), end_date=date(2026, 6, 30)
    )
    other = services.cadre_create(tenant=tenant, code="CB2", full_name="Trần Thị Bình")
    with pytest.raises(ValidationError) as excinfo:
        services.assignment_create(cadre=other, position=post, start_date=start, end_date=end)
    assert "Nguyễn Văn An" in excinfo.value.message_dict["start_date"][0]
    assert Assignment.objects.count() == 1


def test_consecutive_assignments_in_one_post_are_accepted(post, person, tenant):
    services.assignment_create(
        cadre=person, position=post, start_date=date(2026, 1, 1), end_date=date(2026, 5, 9)
    )
    successor = services.cadre_create(tenant=tenant, code="CB2", full_name="Lê Văn Cường")
    services.assignment_create(cadre=successor, position=post, start_date=date(2026, 5, 10))
    assert Assignment.objects.filter(position=post).count() == 2


def test_an_assignment_to_another_tenants_post_is_refused(person, other_tenant):
    foreign_post = services.position_create(
        unit=factories.unit(other_tenant), title="X", kind="leadership", collective_role="member"
    )
    with pytest.raises(ValidationError):
        services.assignment_create(cadre=person, position=foreign_post, start_date=date(2026, 1, 1))
    assert Assignment.objects.count() == 0


def test_an_absence_that_ends_before_it_starts_is_refused(person):
    with pytest.raises(ValidationError) as excinfo:
        services.absence_create(
            cadre=person,
            kind=Absence.Kind.TRAINING,
            start_date=date(2026, 6, 25),
            end_date=date(2026, 4, 10),
        )
    assert "end_date" in excinfo.value.message_dict
    assert Absence.objects.count() == 0


def test_another_case_of_absence_needs_a_reason(person):
    with pytest.raises(ValidationError) as excinfo:
        services.absence_create(
            cadre=person,
            kind=Absence.Kind.OTHER,
            start_date=date(2026, 4, 1),
            end_date=date(2026, 4, 30),
        )
    assert "reason" in excinfo.value.message_dict
