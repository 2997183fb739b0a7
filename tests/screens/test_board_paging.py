"""The decision board and the superior's inbox a page at a time (issue 10): the board's order
across pages, a POST that decides the lines of its own page only, the R9 quota counted over the
whole group whatever the page, and a query count that does not depend on the page."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from evaluation import scoring, selectors, services
from evaluation.models import Evaluation, EvaluationState
from tests.evaluation import steps
from tests.screens import bulk
from tests.screens.helpers import form_data, text


def proposed(unit, cadre, grade, **figures):
    steps.plan_and_approve(unit, cadre)
    steps.self_assess(unit, cadre, **figures)
    steps.vet(unit, cadre)
    return services.evaluation_propose(
        evaluation=unit.evaluation(cadre), actor=unit.superior, grade=grade
    )


def python_order(group) -> list[int]:
    """The board's order as it was before paging: by name in SQL, then sorted in Python."""
    rows = list(
        Evaluation.objects.filter(quota_group=group, is_current=True).order_by(
            "cadre__full_name", "pk"
        )
    )
    rows.sort(
        key=lambda e: (
            {"head": 0, "deputy": 1}.get(e.collective_role, 2),
            -(e.vetted_score or e.computed_score or 0),
        )
    )
    return [e.pk for e in rows]


def board_ids(group) -> list[int]:
    return [row.pk for row in selectors.board_page(group, 1, per_page=10_000).object_list]


def page_of(group, pk, per_page) -> int:
    return board_ids(group).index(pk) // per_page + 1


@pytest.fixture
def mixed(tenant):
    """A group of 120 with scores that tie, are zero or missing, and names out of code order."""
    big = bulk.build(tenant, 120)
    vetted = [None, Decimal("0"), Decimal("85.5"), Decimal("91.0"), Decimal("91.0"), None]
    computed = [None, Decimal("70.0"), Decimal("0"), Decimal("95.5"), Decimal("91.0")]
    for i, evaluation in enumerate(big.evaluations):
        Evaluation.objects.filter(pk=evaluation.pk).update(
            vetted_score=vetted[i % len(vetted)], computed_score=computed[i % len(computed)]
        )
    for i, cadre in enumerate(big.cadres[::7]):
        cadre.full_name = f"Đặng Văn {chr(ord('Z') - i % 26)}"  # ties on score, other names
        cadre.save(update_fields=["full_name"])
    big.group = big.evaluations[0].quota_group
    return big


def test_the_pages_in_turn_give_the_whole_board_in_its_order(mixed, as_user):
    group = mixed.group
    expected = python_order(group)
    pages = [selectors.board_page(group, n, per_page=50) for n in (1, 2, 3)]
    assert [len(p.object_list) for p in pages] == [50, 50, 20]
    assert [row.pk for p in pages for row in p.object_list] == expected
    assert pages[0].paginator.count == 120
    # The head and the deputies lead the first page.
    assert [r.collective_role for r in pages[0].object_list[:3]] == ["head", "deputy", "deputy"]
    # Out of range is the last page; not a number is the first.
    assert selectors.board_page(group, 99, per_page=50).number == 3
    assert selectors.board_page(group, "x", per_page=50).number == 1
    # The screen shows the page asked for, 50 lines, and links to the others.
    body = text(as_user(mixed.authority).get(f"/decisions/{group.pk}/?page=2"))
    names = dict(Evaluation.objects.values_list("pk", "cadre__full_name"))
    shown = [pk for pk in expected if f'href="/evaluations/{pk}/"' in body]
    assert shown == expected[50:100]
    assert names[expected[50]] in body
    assert "Page 2 of 3" in body
    assert "?page=1" in body and "?page=3" in body
    assert 'name="page" value="2"' in body


def _count(client, method, url, data=None) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = getattr(client, method)(url, data) if data else getattr(client, method)(url)
    assert response.status_code == 200, url
    return len(queries)


def test_the_board_and_the_meter_cost_the_same_on_every_page(tenant, other_tenant, as_user):
    small = bulk.build(other_tenant, 10)
    big = bulk.build(tenant, 200)
    counts = {}
    for name, unit, page in (("small", small, 1), ("big 1", big, 1), ("big 3", big, 3)):
        client = as_user(unit.authority)
        board = f"/decisions/{unit.group_id}/?page={page}"
        client.get(board)  # warms the per-process caches
        data = form_data(client.get(board), "board-form")
        data["pick"] = [k.split("_")[1] for k in data if k.startswith("grade_")]
        meter = f"/decisions/{unit.group_id}/meter/"
        counts[name] = (_count(client, "get", board), _count(client, "post", meter, data))
    assert counts["small"] == counts["big 1"] == counts["big 3"]


def test_a_line_whose_cadre_moved_unit_keeps_its_own_unit_at_no_query_a_line(tenant):
    """A cadre moved to another unit since the quarter opened stays in the group; their line
    reads their unit (permission checks cover it), in one query for all such lines."""
    from evaluation.models import QuotaGroup
    from tests import factories

    big = bulk.build(tenant, 60)
    group = QuotaGroup.objects.select_related("unit", "tenant").get(pk=big.group_id)
    moved = [row.pk for row in selectors.board_page(group, 1).object_list[5:8]]
    elsewhere = factories.unit(tenant, big.province, "Sở Tài chính")
    Evaluation.objects.filter(pk__in=moved).update(unit=elsewhere)
    with CaptureQueriesContext(connection) as queries:
        page = selectors.board_page(group, 1)
    assert len(queries) == 3  # the group in order, the page's rows, the moved cadres' unit
    units = {row.pk: row.unit for row in page.object_list}
    assert len(units) == 50
    assert [units[pk] for pk in moved] == [elsewhere] * 3
    assert {unit for pk, unit in units.items() if pk not in moved} == {big.unit}


def test_a_post_decides_the_lines_of_its_own_page_only(tenant, as_user, monkeypatch):
    monkeypatch.setattr(selectors, "BOARD_PAGE_SIZE", 3)
    unit = steps.build_unit(tenant, members=7)
    for cadre in unit.members:
        proposed(unit, cadre, "good")
    group = unit.evaluation(unit.members[0]).quota_group
    ids = board_ids(group)
    page_two, page_three = ids[3:6], ids[6:9]
    client = as_user(unit.authority)
    board = f"/decisions/{group.pk}/"
    data = form_data(client.get(board + "?page=2"), "board-form")
    assert data["page"] == "2"
    # A line of page 3 posted from page 2 is not a choice there: nothing is decided.
    response = client.post(board, {**data, "pick": [page_two[0], page_three[0]]})
    assert response.status_code == 400
    assert not Evaluation.objects.filter(state=EvaluationState.DECIDED).exists()
    response = client.post(board, {**data, "pick": page_two})
    assert response.status_code == 302
    assert response["Location"] == board + "?page=2"
    decided = set(
        Evaluation.objects.filter(state=EvaluationState.DECIDED).values_list("pk", flat=True)
    )
    assert decided == set(page_two)


def test_the_quota_counts_the_whole_group_from_any_page(unit, as_user, monkeypatch):
    monkeypatch.setattr(selectors, "BOARD_PAGE_SIZE", 1)
    for cadre in unit.members[2:5]:
        proposed(unit, cadre, "good")
    best = proposed(unit, unit.members[0], "excellent", exceeded=2)
    other = proposed(unit, unit.members[1], "excellent", exceeded=2, points=("8", "8", "7", "6"))
    group = best.quota_group
    # 3 Good and 2 Excellent proposed: the quota keeps one (R9).
    assert scoring.quota_picture(group).allowed == 1
    client = as_user(unit.authority)
    board = f"/decisions/{group.pk}/"
    best_page, other_page = page_of(group, best.pk, 1), page_of(group, other.pk, 1)
    assert best_page != other_page
    data = form_data(client.get(f"{board}?page={best_page}"), "board-form")
    response = client.post(board, {**data, "one": best.pk, f"grade_{best.pk}": "excellent"})
    assert response.status_code == 302
    # The first page shows the head alone, and the meter of the whole group.
    body = text(client.get(board))
    assert "1 Excellent decided and 2 proposed; 1 allowed" in body
    # Ticking the other Excellent on its own page is over the quota…
    data = form_data(client.get(f"{board}?page={other_page}"), "board-form")
    data.update({"pick": [other.pk], f"grade_{other.pk}": "excellent"})
    meter = client.post(f"{board}meter/", data, HTTP_HX_REQUEST="true")
    assert "1 more Excellent, 2 in all; 1 allowed." in text(meter)
    assert "This is over the quota" in text(meter)
    # …and deciding it is refused with the candidates ranked (R9).
    response = client.post(board, data)
    assert response.status_code == 409
    body = text(response)
    ranked = body.index("Candidates for Excellent")
    assert body.index(unit.members[0].full_name, ranked) < body.index(
        unit.members[1].full_name, ranked
    )
    assert f'name="page" value="{other_page}"' in body
    other.refresh_from_db()
    assert other.state == EvaluationState.PROPOSED


def test_another_tenants_group_is_not_found(unit, other_tenant, as_user):
    stranger = steps.build_unit(other_tenant)
    group = stranger.evaluation(stranger.members[0]).quota_group
    client = as_user(unit.authority)
    assert client.get(f"/decisions/{group.pk}/?page=2").status_code == 404
    assert client.post(f"/decisions/{group.pk}/", {"page": "1"}).status_code == 404
    assert client.post(f"/decisions/{group.pk}/meter/", {"page": "1"}).status_code == 404


# --- The superior's inbox ------------------------------------------------------------------


def submit(unit, cadre):
    evaluation = unit.evaluation(cadre)
    services.evaluation_save_plan(
        evaluation=evaluation,
        actor=cadre.user,
        tasks=steps.plan_tasks(cadre),
        axis_roles={"1": "primary", "3": "secondary"},
    )
    return services.evaluation_submit_plan(evaluation=evaluation, actor=cadre.user)


def test_the_inbox_pages_each_list_and_approves_the_plans_of_its_page(unit, as_user, monkeypatch):
    monkeypatch.setattr(selectors, "INBOX_PAGE_SIZE", 3)
    plans = [submit(unit, cadre) for cadre in unit.cadres[:7]]
    ordered = [e.pk for e in selectors.inbox(unit.superior, "approve_plan")]
    assert sorted(ordered) == sorted(e.pk for e in plans)
    pages = [selectors.superior_inbox(unit.superior, n, 1)[0] for n in (1, 2, 3)]
    assert [e.pk for p in pages for e in p.object_list] == ordered
    client = as_user(unit.superior)
    body = text(client.get("/inbox/?plans=2"))
    assert "7 plans to approve" in body
    shown = [pk for pk in ordered if f'value="{pk}"' in body]
    assert shown == ordered[3:6]
    assert "Page 2 of 3" in body
    assert "?plans=1&amp;propose=1#plans" in body and "?plans=3&amp;propose=1#plans" in body
    data = form_data(client.get("/inbox/?plans=2"), "/inbox/approve/")
    assert (data["plans"], data["propose"]) == ("2", "1")
    response = client.post("/inbox/approve/", {**data, "pick": ordered[3:6]})
    assert response.status_code == 302
    assert response["Location"] == "/inbox/?plans=2&propose=1"
    approved = set(
        Evaluation.objects.filter(state=EvaluationState.PLAN_APPROVED).values_list("pk", flat=True)
    )
    assert approved == set(ordered[3:6])
    # A plan that is not waiting (approved now) is refused, and nothing else is approved.
    response = client.post("/inbox/approve/", {"pick": [ordered[3], ordered[0]]}, follow=True)
    assert "is not one of the available choices" in text(response)
    assert Evaluation.objects.filter(state=EvaluationState.PLAN_APPROVED).count() == 3


def test_the_inbox_costs_the_same_on_every_page(tenant, other_tenant, as_user, monkeypatch):
    monkeypatch.setattr(selectors, "INBOX_PAGE_SIZE", 10)
    small = bulk.build(other_tenant, 10)
    big = bulk.build(tenant, 200)
    counts = {}
    for name, unit, query in (
        ("small", small, ""),
        ("big 1", big, ""),
        ("big 3", big, "?plans=3&propose=2"),
    ):
        client = as_user(unit.superior)
        client.get("/inbox/" + query)
        counts[name] = _count(client, "get", "/inbox/" + query)
    assert counts["small"] == counts["big 1"] == counts["big 3"]
    body = text(as_user(big.superior).get("/inbox/?plans=3&propose=2"))
    assert "Page 3 of 4" in body and "Page 2 of 4" in body


def test_hostile_ticks_on_the_inbox_are_refused_quietly(unit, as_user):
    plan = submit(unit, unit.members[0])
    client = as_user(unit.superior)
    for pick in ("abc", "9" * 30, "-1", "١٢"):
        response = client.post("/inbox/approve/", {"pick": [pick, plan.pk]})
        assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.state == EvaluationState.PLAN_SUBMITTED


def test_the_decision_list_is_paged_newest_quarter_first(unit, as_user, monkeypatch):
    monkeypatch.setattr(selectors, "GROUP_PAGE_SIZE", 1)
    q3 = services.period_create(tenant=unit.tenant, year=2026, quarter=3)
    services.period_open(period=q3)
    client = as_user(unit.authority)
    first, second = text(client.get("/decisions/")), text(client.get("/decisions/?page=2"))
    assert "Quarter 3/2026" in first and "Quarter 2/2026" not in first
    assert "Quarter 2/2026" in second and "Quarter 3/2026" not in second
    assert "Page 1 of 2" in first and "?page=2" in first
    with CaptureQueriesContext(connection) as one:
        client.get("/decisions/")
    with CaptureQueriesContext(connection) as two:
        client.get("/decisions/?page=2")
    assert len(one) == len(two)
