"""Opening a quarter as a job: R18, R11, R12, bulk inserts, and the calendar's first day."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cadres import services as cadre_services
from cadres.models import Absence, Position
from evaluation import jobs, services
from evaluation.models import (
    CriterionScore,
    Evaluation,
    EvaluationState,
    Job,
    Period,
    Task,
    TransitionLog,
)
from tests import factories
from tests.evaluation import steps
from tests.jobs.helpers import committee_member, row_counts

pytestmark = pytest.mark.django_db


def tenant_with_cadres(tenant, count: int):
    province = factories.unit(tenant, name="Tỉnh ủy", kind="party_committee")
    units = [factories.unit(tenant, province) for _ in range(2)]
    for i in range(count):
        factories.cadre(units[i % 2], role="head" if i < 2 else "member")
    return services.period_create(tenant=tenant, year=2026, quarter=3)


def opening_queries(period) -> int:
    with CaptureQueriesContext(connection) as queries:
        result = jobs.open_period(tenant_id=period.tenant_id, period_id=period.pk)
    assert result["created"] == Evaluation.objects.filter(period=period).count()
    return len(queries)


def test_opening_takes_the_same_number_of_queries_for_3_or_12_cadres(tenant, other_tenant):
    small = opening_queries(tenant_with_cadres(tenant, 3))
    large = opening_queries(tenant_with_cadres(other_tenant, 12))
    assert small == large
    assert Evaluation.objects.filter(tenant=other_tenant).count() == 12
    assert CriterionScore.objects.filter(tenant=other_tenant).count() == 12 * 4


def test_committee_members_graded_yearly_are_left_out_of_quarter_3(tenant):
    period = tenant_with_cadres(tenant, 2)
    province = factories.unit(tenant, name="Đảng ủy", kind="party_committee")
    yearly = committee_member(province, "Ủy viên Theo Năm", mode="yearly")
    half_yearly = committee_member(province, "Ủy viên Nửa Năm", mode="half_yearly")
    result = jobs.open_period(tenant_id=tenant.pk, period_id=period.pk)
    assert result["not_this_quarter"] == 2  # R18: Q3 is neither a half-year nor the year end
    opened = set(Evaluation.objects.filter(period=period).values_list("cadre_id", flat=True))
    assert yearly.pk not in opened and half_yearly.pk not in opened
    assert len(opened) == 2


def test_a_deferred_quarter_carries_its_unfinished_tasks_into_the_next(tenant):
    """R11: deferred in Q2, the plan's tasks come back in Q3, linked to the old ones."""
    u = steps.build_unit(tenant)
    cadre = u.members[0]
    evaluation = u.evaluation(cadre)
    services.evaluation_save_plan(
        evaluation=evaluation,
        actor=cadre.user,
        tasks=steps.plan_tasks(cadre, 4),
        axis_roles={"1": "primary", "3": "secondary"},
    )
    services.evaluation_defer(
        evaluation=evaluation, actor=u.authority, case="R11a", reason="Học tập trung 3 tháng"
    )
    q3 = services.period_create(tenant=tenant, year=2026, quarter=3)
    result = jobs.open_period(tenant_id=tenant.pk, period_id=q3.pk)
    assert result["carried_over"] == 1
    carried = Evaluation.objects.get(period=q3, cadre=cadre)
    assert carried.carried_over_from_id == evaluation.pk
    assert carried.state == EvaluationState.PLANNING
    titles = list(carried.tasks.values_list("title", flat=True))
    assert titles == ["Nhiệm vụ 1", "Nhiệm vụ 2", "Nhiệm vụ 3", "Nhiệm vụ 4"]
    assert set(carried.tasks.values_list("carried_over_from__evaluation", flat=True)) == {
        evaluation.pk
    }


def test_long_sick_leave_defers_the_cadre_when_the_quarter_opens(tenant):
    """R11c: sick leave of 2 months or more in the quarter."""
    period = tenant_with_cadres(tenant, 3)
    sick = factories.cadre(factories.unit(tenant), "Phạm Thị Nghỉ")
    cadre_services.absence_create(
        cadre=sick,
        kind=Absence.Kind.SICK_LEAVE,
        start_date=date(2026, 7, 1),
        end_date=date(2026, 9, 10),
    )
    result = jobs.open_period(tenant_id=tenant.pk, period_id=period.pk)
    assert result["deferred"] == 1
    evaluation = Evaluation.objects.get(period=period, cadre=sick)
    assert evaluation.state == EvaluationState.DEFERRED
    assert evaluation.deferral_case.startswith("R11")
    log = TransitionLog.objects.get(evaluation=evaluation)
    assert (log.role, log.to_state) == ("system", EvaluationState.DEFERRED)


def test_a_cadre_who_moved_is_graded_by_the_unit_at_quarter_end(tenant):
    """R12: moved on 20/08 from the district to the department; the department grades."""
    period = tenant_with_cadres(tenant, 2)
    district = factories.unit(tenant, name="Huyện ủy")
    department = factories.unit(tenant, name="Ban Tổ chức")
    mover = factories.cadre(district, "Đỗ Văn Chuyển", role="deputy")
    cadre_services.Assignment.objects.filter(cadre=mover).update(end_date=date(2026, 8, 19))
    post = cadre_services.position_create(
        unit=department,
        title="Phó Trưởng ban",
        kind=Position.Kind.LEADERSHIP,
        collective_role=Position.CollectiveRole.DEPUTY,
    )
    cadre_services.assignment_create(cadre=mover, position=post, start_date=date(2026, 8, 20))
    jobs.open_period(tenant_id=tenant.pk, period_id=period.pk)
    evaluation = Evaluation.objects.get(period=period, cadre=mover)
    assert (evaluation.unit_id, evaluation.collective_role) == (department.pk, "deputy")
    assert evaluation.quota_group.unit_id == department.pk


def test_the_calendar_creates_and_opens_the_quarter_on_its_first_day(tenant):
    tenant_with_cadres(tenant, 3)  # Q3 exists; Q4 does not yet
    jobs.tenant_calendar(tenant_id=tenant.pk, as_of=date(2026, 9, 30))
    assert not Period.objects.filter(tenant=tenant, year=2026, quarter=4).exists()
    jobs.tenant_calendar(tenant_id=tenant.pk, as_of=date(2026, 10, 1))
    q4 = Period.objects.get(tenant=tenant, year=2026, quarter=4)
    assert q4.opened_at is not None
    assert Evaluation.objects.filter(period=q4).count() == 3
    # Q3 had been created but not opened: the calendar opened it on its way.
    q3 = Period.objects.get(tenant=tenant, year=2026, quarter=3)
    assert Evaluation.objects.filter(period=q3).count() == 3
    opened = Job.objects.filter(tenant=tenant, kind="open_period")
    assert set(opened.values_list("key", "status")) == {("2026-Q3", "done"), ("2026-Q4", "done")}
    before = row_counts()
    jobs.tenant_calendar(tenant_id=tenant.pk, as_of=date(2026, 10, 1))
    assert row_counts() == before


def test_opening_twice_adds_nothing(tenant):
    period = tenant_with_cadres(tenant, 4)
    jobs.open_period(tenant_id=tenant.pk, period_id=period.pk)
    before = row_counts()
    again = jobs.open_period(tenant_id=tenant.pk, period_id=period.pk)
    assert again["created"] == 0
    assert row_counts() == before
    assert Task.objects.filter(tenant=tenant).count() == 0
