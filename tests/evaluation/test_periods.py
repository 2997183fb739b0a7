from datetime import date

import pytest
from django.core.exceptions import ValidationError

from evaluation import services
from evaluation.models import Period


@pytest.mark.parametrize(
    ("year", "quarter", "first", "last", "report_due"),
    [
        (2026, 1, date(2026, 1, 1), date(2026, 3, 31), date(2026, 4, 4)),
        (2026, 2, date(2026, 4, 1), date(2026, 6, 30), date(2026, 7, 4)),  # E13
        (2026, 3, date(2026, 7, 1), date(2026, 9, 30), date(2026, 10, 4)),
        (2026, 4, date(2026, 10, 1), date(2026, 12, 31), date(2027, 1, 4)),
    ],
)
def test_a_quarter_carries_its_bounds_and_the_r16_deadline(
    tenant, year, quarter, first, last, report_due
):
    period = services.period_create(tenant=tenant, year=year, quarter=quarter)
    assert (period.start_date, period.end_date) == (first, last)
    assert period.report_deadline == report_due
    # The steps come before the report, in order.
    assert (
        period.start_date
        < period.plan_deadline
        < period.self_assessment_deadline
        < period.vetting_deadline
        < period.proposal_deadline
        <= period.end_date
        < period.decision_deadline
        < period.report_deadline
    )


def test_a_quarter_exists_once_per_tenant(tenant, other_tenant):
    services.period_create(tenant=tenant, year=2026, quarter=2)
    services.period_create(tenant=other_tenant, year=2026, quarter=2)
    with pytest.raises(ValidationError) as excinfo:
        services.period_create(tenant=tenant, year=2026, quarter=2)
    assert "quarter" in excinfo.value.message_dict
    assert Period.objects.filter(tenant=tenant).count() == 1


@pytest.mark.parametrize("quarter", [0, 5, -1])
def test_a_quarter_outside_1_to_4_is_refused(tenant, quarter):
    with pytest.raises(ValidationError):
        services.period_create(tenant=tenant, year=2026, quarter=quarter)
    assert not Period.objects.exists()


def test_admin_lists_evaluations_read_only_within_the_tenant(client, tenant, other_tenant):
    from cadres.roles import Role
    from tests import factories
    from tests.evaluation.steps import build_unit

    mine = build_unit(tenant, members=1)
    theirs = build_unit(other_tenant, members=1)
    admin = factories.holder(Role.ADMINISTRATOR, mine.unit)
    client.force_login(admin)
    own = mine.evaluation(mine.members[0])
    foreign = theirs.evaluation(theirs.members[0])
    listing = client.get("/admin/evaluation/evaluation/").content.decode()
    assert f"/admin/evaluation/evaluation/{own.pk}/change/" in listing
    assert f"/admin/evaluation/evaluation/{foreign.pk}/change/" not in listing
    assert client.get(f"/admin/evaluation/evaluation/{own.pk}/change/").status_code == 200
    assert client.get(f"/admin/evaluation/evaluation/{foreign.pk}/change/").status_code == 404
    response = client.post(f"/admin/evaluation/evaluation/{own.pk}/change/", {"state": "published"})
    assert response.status_code == 403
    own.refresh_from_db()
    assert own.state == "planning"
