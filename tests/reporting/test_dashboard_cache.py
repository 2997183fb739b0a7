"""The dashboards' figures are cached for a minute per scope, period, day and language; the
access checks come before the cache, and the page says when its figures were computed."""

import re
from datetime import date, datetime

from django.core.cache import cache
from django.test import Client
from django.utils import timezone, translation

from cadres.roles import Role
from evaluation import rules
from evaluation import services as evaluation_services
from reporting import selectors
from tests import factories
from tests.evaluation import steps
from tests.reporting.test_query_counts import UNIT_DASHBOARD_CACHED

AS_OF = re.compile(r"Figures as of (\d\d:\d\d \d\d/\d\d/\d{4}); refreshed every minute\.")
DEFERRED = re.compile(r'<th scope="row">Deferred</th><td>(\d+)</td>')


def english(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def unit_url(u, period=None) -> str:
    return f"/reports/units/{u.unit.pk}/?period={(period or u.period).pk}"


def deferred_shown(response) -> int:
    return int(DEFERRED.search(response.content.decode()).group(1))


def test_a_second_request_within_the_minute_reads_no_figure_from_the_database(
    quarter, django_assert_num_queries
):
    client = english(quarter.authority)
    first = client.get(unit_url(quarter))
    assert first.context["board"] is not None  # computed by this request
    assert deferred_shown(first) == 1
    evaluation_services.evaluation_defer(
        evaluation=quarter.evaluation(quarter.deputies[0]),
        actor=quarter.authority,
        case="R11e",
        reason="Đi học tập trung dài hạn",
    )

    with django_assert_num_queries(UNIT_DASHBOARD_CACHED) as queries:
        second = client.get(unit_url(quarter))

    assert second.status_code == 200 and second.context["board"] is None
    assert not [q for q in queries.captured_queries if "evaluation_evaluation" in q["sql"]]
    assert deferred_shown(second) == 1  # the figures of the first request, as of its time
    assert AS_OF.search(second.content.decode())[1] == AS_OF.search(first.content.decode())[1]
    cache.clear()  # a minute later
    assert deferred_shown(client.get(unit_url(quarter))) == 2


def test_the_page_says_when_its_figures_were_computed(quarter):
    before = timezone.localtime().replace(second=0, microsecond=0)
    page = english(quarter.authority).get(unit_url(quarter)).content.decode()
    after = timezone.localtime()
    computed = datetime.strptime(AS_OF.search(page)[1], "%H:%M %d/%m/%Y")
    assert before <= timezone.make_aware(computed) <= after


def test_language_scope_period_and_day_each_have_their_own_entry(quarter):
    u = quarter
    q1 = evaluation_services.period_create(tenant=u.tenant, year=2026, quarter=1)
    english_client = english(u.authority)
    vietnamese = Client(HTTP_ACCEPT_LANGUAGE="vi")
    vietnamese.force_login(u.authority)

    def computed(client, url) -> bool:
        return client.get(url).context["board"] is not None

    assert computed(english_client, unit_url(u))
    assert computed(vietnamese, unit_url(u))  # another language
    assert computed(english_client, unit_url(u, q1))  # another quarter
    assert computed(english_client, f"/reports/units/{u.unit.parent.pk}/?period={u.period.pk}")
    assert computed(english_client, f"/reports/organisation/?period={u.period.pk}")
    assert not computed(english_client, unit_url(u))
    assert not computed(vietnamese, unit_url(u))

    key = selectors.dashboard_cache_key
    base = {"per_cadre": True, "on": date(2026, 7, 1), "language": "en"}
    keys = {
        key(u.period, [u.unit], **base),
        key(u.period, [u.unit], **{**base, "language": "vi"}),
        key(u.period, [u.unit], **{**base, "on": date(2026, 7, 2)}),
        key(u.period, [u.unit], **{**base, "per_cadre": False}),
        key(q1, [u.unit], **base),
        key(u.period, [u.unit.parent], **base),
    }
    assert len(keys) == 6
    assert all(f":t{u.tenant.pk}:" in k for k in keys)
    # The same scope in another order is the same entry.
    assert key(u.period, [u.unit, u.unit.parent], **base) == key(
        u.period, [u.unit.parent, u.unit], **base
    )


def test_access_is_checked_before_the_cache(quarter, other_tenant):
    u = quarter
    tenant_url = f"/reports/organisation/?period={u.period.pk}"
    assert english(u.authority).get(unit_url(u)).status_code == 200
    assert english(u.organisation).get(tenant_url).status_code == 200

    sibling = factories.unit(u.tenant, u.unit.parent, "Sở khác")
    assert english(factories.holder(Role.SUPERIOR, sibling)).get(unit_url(u)).status_code == 404
    cadre = english(u.members[0].user)  # no role
    assert cadre.get(unit_url(u)).status_code == 404
    assert cadre.get(tenant_url).status_code == 403
    foreign = steps.build_unit(other_tenant, members=1)
    assert english(foreign.authority).get(unit_url(u)).status_code == 404
    assert english(foreign.authority).get(unit_url(foreign, u.period)).status_code == 404
    # Tenant B's organisation department gets its own figures, never tenant A's entry.
    page = english(foreign.organisation).get(f"/reports/organisation/?period={foreign.period.pk}")
    assert page.status_code == 200 and page.context["board"] is not None
    assert deferred_shown(page) == 0  # tenant A has one deferral


def section(board, key):
    return next(s for s in board.sections if s.key == key)


def test_long_lists_stop_at_the_limit_and_say_how_many_more(quarter, monkeypatch):
    monkeypatch.setattr(selectors, "LIST_LIMIT", 3)
    response = english(quarter.authority).get(unit_url(quarter))
    board = response.context["board"]

    late = section(board, "steps").extra_tables[0]
    # Every deadline of Q2/2026 has passed: nine of the ten are late (one is deferred).
    assert (len(late.rows), late.more) == (3, 6)
    proposers, heads, gaps = section(board, "leniency").extra_tables
    assert (len(gaps.rows), gaps.more) == (3, 5)  # eight cadres self-assessed
    assert (len(proposers.rows), proposers.more) == (1, 0)
    assert (len(heads.rows), heads.more) == (1, 0)
    trend = section(board, "trend").extra_tables[0]
    assert (len(trend.rows), trend.more) == (3, 7)  # ten cadres
    assert [row[0] for row in trend.rows] == sorted(row[0] for row in trend.rows)
    page = response.content.decode()
    reports = f'<a href="/reports/?period={quarter.period.pk}">reports page</a>'
    for more in (6, 5, 7):
        assert (
            f"And {more} more, not listed here: the exports on the {reports} hold every row."
            in page
        )


def test_the_quota_table_lists_the_groups_over_their_quota_first(quarter, monkeypatch):
    groups = [
        selectors.QuotaGroupSummary(
            f"Đơn vị {i}", f"U{i}", 20, good=5, excellent=e, check=rules.quota_check(e, 5, 20)
        )
        for i, e in enumerate([1, 0, 3])
    ]
    monkeypatch.setattr(selectors, "quota_groups", lambda units, period, members=True: groups)
    monkeypatch.setattr(selectors, "LIST_LIMIT", 2)
    with translation.override("en"):
        board = selectors.dashboard(quarter.period, [quarter.unit], title="", per_cadre=False)
    table = section(board, "grades").extra_tables[0]
    assert [row[0] for row in table.rows] == ["Đơn vị 2", "Đơn vị 0"]
    assert table.more == 1
    assert table.note == "1 of 3 quota groups is over its quota; it is listed first."
