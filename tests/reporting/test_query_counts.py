"""Query counts of the dashboards and exports, pinned and equal at 10 and at 60 cadres."""

from reporting import services
from reporting.models import Export
from tests import factories
from tests.reporting.data import scaled_unit

# One number per page or job; each holds at both sizes, so none grows with the cadres.
# The dashboards were 24 and 21: four fewer since the roles are read in one query
# (cadres/roles.py), then one and two fewer since the steps, grades and trend share one count
# of the year and the quota groups are counted in the query that reads them; then one fewer on
# every page since the signed-in account is read with its tenant (AccountBackend).
UNIT_DASHBOARD = 18
TENANT_DASHBOARD = 14
# Within the minute the figures come from the cache: session, user, access, quarters, sub-units.
UNIT_DASHBOARD_CACHED = 8
TENANT_DASHBOARD_CACHED = 6
CENTRAL_DASHBOARD = 8
REPORTS_INDEX = 9  # 14 before the roles were read in one query (cadres/roles.py), 10 before
# the account was read with its tenant
UNIT_SUMMARY_EXPORT = 17
TENANT_REPORT_EXPORT = 16  # 19: two fewer with the roles in one query, one with the quota counts


def test_dashboards_and_exports_cost_the_same_at_10_and_at_60_cadres(
    db, client, django_assert_num_queries
):
    units = [scaled_unit(factories.tenant(), size) for size in (10, 60)]
    assert [len(u.members) + 3 for u in units] == [10, 60]
    observer = factories.user(None, is_central_observer=True)
    for u in units:
        client.force_login(u.authority)
        with django_assert_num_queries(UNIT_DASHBOARD):
            page = client.get(f"/reports/units/{u.unit.pk}/?period={u.period.pk}")
        assert page.context["board"].sections[1].table.rows[1][1] == 4  # four Good
        with django_assert_num_queries(TENANT_DASHBOARD):
            assert client.get(f"/reports/organisation/?period={u.period.pk}").status_code == 200
        with django_assert_num_queries(UNIT_DASHBOARD_CACHED):
            page = client.get(f"/reports/units/{u.unit.pk}/?period={u.period.pk}")
        assert page.status_code == 200 and page.context["board"] is None
        with django_assert_num_queries(TENANT_DASHBOARD_CACHED):
            assert client.get(f"/reports/organisation/?period={u.period.pk}").status_code == 200
        with django_assert_num_queries(REPORTS_INDEX):
            assert client.get(f"/reports/?period={u.period.pk}").status_code == 200
        client.force_login(observer)
        with django_assert_num_queries(CENTRAL_DASHBOARD):
            assert client.get("/reports/central/?quarter=2026-2").status_code == 200

        summary = services.export_request(
            user=u.organisation, kind=Export.Kind.UNIT_SUMMARY, period=u.period, unit=u.unit
        )
        report = services.export_request(
            user=u.organisation, kind=Export.Kind.TENANT_REPORT, period=u.period
        )
        with django_assert_num_queries(UNIT_SUMMARY_EXPORT):
            assert services.export_run(export_id=summary.pk).status == Export.Status.DONE
        with django_assert_num_queries(TENANT_REPORT_EXPORT):
            assert services.export_run(export_id=report.pk).status == Export.Status.DONE
