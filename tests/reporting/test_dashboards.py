"""Dashboards per unit, per tenant and across tenants: figures, tables beside charts, access."""

from datetime import date

from django.contrib.staticfiles import finders
from django.utils.translation import gettext as _

from cadres.roles import Role
from evaluation import rules
from evaluation import services as evaluation_services
from reporting import selectors
from tests import factories
from tests.evaluation import steps

G = rules.Grade


def section(board, key):
    return next(s for s in board.sections if s.key == key)


def test_unit_dashboard_shows_who_is_late_against_the_step_deadlines(quarter):
    u = quarter
    # 28/06/2026: the self-assessment (24/06) and vetting (27/06) deadlines have passed,
    # the proposal deadline (30/06) has not.
    board = selectors.dashboard(u.period, [u.unit], title="", per_cadre=True, on=date(2026, 6, 28))
    steps_section = section(board, "steps")
    by_step = {str(row[0]): row[2:] for row in steps_section.table.rows}
    assert by_step[str(selectors.STEPS[0].label)] == (8, 1, 1)  # done, not yet, late
    assert by_step[str(selectors.STEPS[3].label)] == (8, 1, 0)  # not due yet
    [late] = steps_section.extra_tables[0].rows
    assert late[0] == "Trần Thị Phó 1"
    assert late[3] == selectors.STEPS[0].label and late[5] == 74  # 15/04 → 28/06


def test_unit_dashboard_grades_quota_axes_leniency_and_trend(quarter):
    u = quarter
    board = selectors.dashboard(u.period, [u.unit], title="", per_cadre=True, on=date(2026, 7, 1))

    grades = section(board, "grades")
    assert [row[1] for row in grades.table.rows] == [2, 4, 1, 1, 1, 1]  # … undecided, deferred
    assert grades.chart["datasets"][0]["data"] == [2.0, 4.0, 1.0, 1.0]
    [group] = grades.extra_tables[0].rows
    assert group == ("Sở Nội vụ", "20%", 4, 1, 1, 2, _("Yes"))

    axes = section(board, "axes")
    # Seven plans of 3 + 1 tasks and one of 4 + 1 (axes 1 + 3); one task late, one not done.
    assert [row[1:6] for row in axes.table.rows] == [(25, 23, 1, 1, 0), (8, 8, 0, 0, 0)]

    leniency = section(board, "leniency")
    rows = {str(row[0]): row[1:] for row in leniency.table.rows}
    assert rows[str(selectors.LENIENCY_STAGES[2][1])] == (3, 3, 1, 1)  # proposed
    assert rows[str(selectors.LENIENCY_STAGES[3][1])] == (2, 4, 1, 1)  # decided
    proposers = leniency.extra_tables[0].rows
    assert proposers == [(u.superior.username, 8, 8, 1)]
    heads = leniency.extra_tables[1].rows
    assert heads == [("Nguyễn Văn Trưởng", 1)]

    trend = section(board, "trend")
    q2 = trend.table.rows[1]
    assert q2[1:] == (2, 4, 1, 1, 1)
    per_cadre = {row[0]: row[1:] for row in trend.extra_tables[0].rows}
    assert per_cadre["Lê Văn Viên 1"][1].startswith(str(G.GOOD.label))
    assert per_cadre["Trần Thị Phó 2"][1] == _("Deferred")


def test_the_page_puts_a_table_beside_each_chart_and_uses_the_vendored_library(quarter, client):
    client.force_login(quarter.authority)
    response = client.get(f"/reports/units/{quarter.unit.pk}/?period={quarter.period.pk}")
    assert response.status_code == 200
    page = response.content.decode()
    for key in ["steps", "grades", "axes", "leniency", "trend"]:
        assert f'data-chart="chart-{key}"' in page
        assert f'aria-describedby="table-{key}"' in page
        assert f'<table id="table-{key}">' in page
        assert f'<script id="chart-{key}" type="application/json">' in page
    assert '<script src="/static/vendor/chart/chart.umd.min.js" defer>' in page
    assert finders.find("vendor/chart/chart.umd.min.js")
    assert "Chart.js v4" in open(finders.find("vendor/chart/chart.umd.min.js")).read(200)
    assert "Lê Văn Viên 1" in page and "cdn" not in page.lower()


def test_tenant_dashboard_covers_every_unit_the_user_acts_for(quarter, client):
    u = quarter
    second = factories.unit(u.tenant, u.unit.parent, "Sở Tư pháp")
    factories.cadre(second, "Phan Văn Một", role="head")
    evaluation_services.period_open(period=u.period)
    client.force_login(u.organisation)
    response = client.get(f"/reports/organisation/?period={u.period.pk}")
    assert response.status_code == 200
    board = response.context["board"]
    grades = section(board, "grades")
    assert grades.table.rows[4][1] == 2  # undecided: deputies[0] and the new head


def test_central_observer_sees_every_tenant_as_counts_without_names(quarter, client, other_tenant):
    other = steps.build_unit(other_tenant, members=1)
    observer = factories.user(None, is_central_observer=True)
    client.force_login(observer)

    response = client.get("/reports/central/?quarter=2026-2")

    assert response.status_code == 200
    page = response.content.decode()
    rows = {row[0]: row[1:] for row in response.context["board"].sections[0].table.rows}
    assert rows[quarter.tenant.name][:5] == (10, 2, 4, 1, 1)
    assert rows[other.tenant.name][:5] == (4, 0, 0, 0, 0)
    for person in ["Lê Văn Viên", "Nguyễn Văn Trưởng", "Trần Thị Phó", quarter.superior.username]:
        assert person not in page


def test_central_dashboard_is_for_the_central_observer_only(quarter, client):
    client.force_login(quarter.organisation)
    assert client.get("/reports/central/").status_code == 404
    observer = factories.user(None, is_central_observer=True)
    client.force_login(observer)
    assert client.get("/reports/central/?quarter=2031-1").status_code == 404
    assert client.get("/reports/central/?quarter=x").status_code == 404
    assert client.get(f"/reports/units/{quarter.unit.pk}/").status_code == 404


def test_another_tenants_unit_or_period_is_a_404(unit, client, other_tenant):
    foreign = steps.build_unit(other_tenant, members=1)
    client.force_login(unit.authority)
    assert client.get(f"/reports/units/{foreign.unit.pk}/").status_code == 404
    assert (
        client.get(f"/reports/units/{unit.unit.pk}/?period={foreign.period.pk}").status_code == 404
    )
    assert client.get(f"/reports/?period={foreign.period.pk}").status_code == 404
    assert client.get(f"/reports/units/{unit.unit.pk}/?period=abc").status_code == 404


def test_a_unit_the_user_does_not_act_for_is_a_404(unit, client):
    sibling = factories.unit(unit.tenant, unit.unit.parent, "Sở khác")
    client.force_login(factories.holder(Role.SUPERIOR, sibling))
    assert client.get(f"/reports/units/{unit.unit.pk}/").status_code == 404
    client.force_login(unit.members[0].user)  # a cadre without a role
    assert client.get(f"/reports/units/{unit.unit.pk}/").status_code == 404
    assert client.get("/reports/organisation/").status_code == 403


def test_the_index_lists_dashboards_and_exports_by_role(unit, client):
    client.force_login(unit.superior)
    page = client.get("/reports/").content.decode()
    assert f"/reports/units/{unit.unit.pk}/" in page
    assert "/reports/exports/" not in page  # the superior may not export
    client.force_login(unit.organisation)
    page = client.get("/reports/").content.decode()
    assert 'action="/reports/exports/"' in page and "/reports/import/" in page
