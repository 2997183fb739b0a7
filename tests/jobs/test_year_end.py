"""Year-end roll-up: R19 from the quarters, R14, R15 across years, R10 ranking, notices."""

from datetime import date
from decimal import Decimal

import pytest

from cadres.models import Assignment
from evaluation import jobs, services
from evaluation.models import Evaluation, EvaluationState, Job, Notification, YearEndResult
from tests.evaluation import steps
from tests.jobs.helpers import row_counts

pytestmark = pytest.mark.django_db

E, G, NC, DEF = "excellent", "good", "not_completed", None


def record(period, cadre, grade, *, proposed=None, score="85"):
    """A quarter decided (or deferred, grade None): the roll-up reads only these fields.

    The five steps for four quarters of eight cadres would bury the point of these tests, so
    the decided outcome is written directly; the workflow has its own tests.
    """
    Evaluation.objects.filter(period=period, cadre=cadre).update(
        state=EvaluationState.DEFERRED if grade is None else EvaluationState.DECIDED,
        decided_grade=grade or "",
        proposed_grade=proposed or grade or "",
        vetted_score=None if grade is None else Decimal(score),
    )


@pytest.fixture
def year(tenant):
    """Four quarters of 2026 for one unit, and Q4/2025 for one member who was there."""
    u = steps.build_unit(tenant, quarter=1)
    periods = [u.period]
    for quarter in (2, 3, 4):
        period = services.period_create(tenant=tenant, year=2026, quarter=quarter)
        services.period_open(period=period)
        periods.append(period)
    Assignment.objects.filter(cadre=u.members[0]).update(start_date=date(2025, 1, 1))
    q4_2025 = services.period_create(tenant=tenant, year=2025, quarter=4)
    services.period_open(period=q4_2025)
    record(q4_2025, u.members[0], NC)
    plan = {
        u.head: ([E, E, E, E], [E, E, E, E], "96"),
        u.deputies[0]: ([E, NC, E, E], None, "90"),  # E11
        u.deputies[1]: ([G, NC, NC, G], None, "75"),  # E12
        u.members[0]: ([DEF, NC, G, G], None, "72"),  # NC in Q4/2025, Q1 deferred, NC in Q2
        u.members[1]: ([E, E, E, E], [E, E, E, E], "92"),
        u.members[2]: ([E, E, E, E], [G, E, E, E], "95"),
        u.members[3]: ([E, E, E, E], [E, E, E, E], "91"),
        u.members[4]: ([G, G, G, G], None, "80"),
    }
    for cadre, (grades, proposed, score) in plan.items():
        for i, period in enumerate(periods):
            record(period, cadre, grades[i], proposed=proposed and proposed[i], score=score)
    return u


def results(u) -> dict:
    rows = YearEndResult.objects.filter(year=2026, tenant=u.tenant)
    return {r.cadre_id: r for r in rows}


def test_the_year_is_proposed_from_its_quarters_with_r10_r14_r15(year):
    u = year
    assert jobs.year_end_rollup(tenant_id=u.tenant.pk, year=2026) == {
        "created": 8,
        "updated": 0,
        "notified": 2,
    }
    by_cadre = results(u)
    grades = {c: by_cadre[c.pk].proposed_grade for c in u.cadres}
    assert grades == {
        u.head: E,  # outside the members' quota
        u.deputies[0]: G,  # R14: Not completed in Q2 rules out Excellent
        u.deputies[1]: G,
        u.members[0]: G,
        u.members[1]: E,  # R10: 4 quarters proposed Excellent, 92
        u.members[2]: G,  # R10: only 3 quarters proposed Excellent despite 95
        u.members[3]: G,  # R10: 4 quarters but 91 < 92
        u.members[4]: G,
    }
    assert any(r["rule"] == "R14" for r in by_cadre[u.deputies[0].pk].reasons)
    assert any(r["rule"] == "R10" for r in by_cadre[u.members[2].pk].reasons)
    flags = {c for c in u.cadres if by_cadre[c.pk].replacement_flag}
    assert flags == {u.deputies[1], u.members[0]}  # E12, and across the year end (R15)
    member = by_cadre[u.members[1].pk]
    assert (member.quarters_proposed_excellent, member.mean_score) == (4, Decimal("92.0"))
    notices = Notification.objects.filter(kind="replacement_flag")
    assert {n.recipient for n in notices} == {u.authority}
    for cadre in (u.deputies[1], u.members[0]):
        assert sum(cadre.full_name in n.message for n in notices) == 1

    before = row_counts()
    assert jobs.year_end_rollup(tenant_id=u.tenant.pk, year=2026) == {
        "created": 0,
        "updated": 0,
        "notified": 0,
    }
    assert row_counts() == before


def test_the_calendar_rolls_the_year_up_once_after_the_q4_report_deadline(year):
    u = year
    jobs.tenant_calendar(tenant_id=u.tenant.pk, as_of=date(2027, 1, 4))
    assert not YearEndResult.objects.filter(year=2026).exists()
    jobs.tenant_calendar(tenant_id=u.tenant.pk, as_of=date(2027, 1, 5))
    assert YearEndResult.objects.filter(year=2026).count() == 8
    job = Job.objects.get(tenant=u.tenant, kind="year_end")
    assert (job.key, job.status, job.result["created"]) == ("2026", "done", 8)
    before = row_counts()
    jobs.tenant_calendar(tenant_id=u.tenant.pk, as_of=date(2027, 1, 6))
    assert row_counts() == before
