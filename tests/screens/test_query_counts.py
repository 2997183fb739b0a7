"""Every list page runs the same number of queries for a unit of 10 cadres and of 200.

The numbers are pinned: a change that adds a query per row (an N+1) fails at 200, and a
change that adds a fixed query shows up as a new pinned number to review.
"""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cadres.models import Tenant
from evaluation.models import Evaluation, EvaluationState
from tests.screens import bulk

# page → (who opens it, pinned number of queries for the request, session and user included;
# the user comes with its tenant in one query: cadres.security.AccountBackend)
PINNED = {
    "/": ("cadre", 6),
    "/my/": ("cadre", 6),
    "/ (superior)": ("superior", 7),
    "/inbox/": ("superior", 6),
    "/evaluations/{evaluation}/": ("superior", 8),
    "/vetting/": ("advisory", 5),
    "/catalogue/": ("advisory", 6),
    "/decisions/": ("authority", 6),
    "/decisions/{group}/": ("authority", 8),
    "/decisions/{group}/collective/": ("authority", 7),
    "/discrepancies/": ("authority", 7),
    "/flags/": ("authority", 6),
    "/suspensions/": ("authority", 5),
    "/publication/": ("organisation", 7),
    "/progress/": ("organisation", 8),
    "/results/": ("organisation", 8),
    "/organisation/units/": ("administrator", 6),
    "/organisation/cadres/": ("administrator", 7),
    "/organisation/roles/": ("administrator", 6),
    "/units/{unit}/": ("administrator", 9),
    "/organisation/periods/": ("administrator", 5),
    "/organisation/rules/": ("administrator", 6),
}


def _measure(as_user, big) -> dict[str, int]:
    counts = {}
    for page, (who, _pinned) in PINNED.items():
        user = big.cadres[3].user if who == "cadre" else getattr(big, who)
        client = as_user(user)
        url = page.split(" ")[0].format(
            evaluation=big.evaluations[3].pk, group=big.group_id, unit=big.unit.pk
        )
        assert client.get(url).status_code == 200, url  # warms the per-process caches
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, url
        counts[page] = len(queries)
    return counts


def test_list_pages_keep_their_query_count_at_10_and_200_cadres(db, as_user):
    measured = {}
    for size in (10, 200):
        tenant = Tenant.objects.create(
            code=f"qc-{size}", name=f"Tỉnh {size}", kind="provincial_committee"
        )
        big = bulk.build(tenant, size)
        assert len(big.evaluations) == size
        measured[size] = _measure(as_user, big)
    pinned = {page: number for page, (_who, number) in PINNED.items()}
    assert measured[10] == pinned
    assert measured[200] == pinned


def test_a_cadres_quarter_with_a_step_to_take_reads_the_cadre_once(db, as_user, tenant):
    """The next step of each open quarter is checked on the cadre's own evaluations: their
    cadre comes with them, not in one more query each."""
    big = bulk.build(tenant, 10)
    cadre = big.cadres[3]
    Evaluation.objects.filter(cadre=cadre).update(state=EvaluationState.PLAN_APPROVED)
    client = as_user(cadre.user)
    assert client.get("/my/").status_code == 200
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/my/")
    assert response.status_code == 200
    assert reverse("self_assessment", args=[big.evaluations[3].pk]) in response.content.decode()
    assert len(queries) == PINNED["/my/"][1]
    assert sum('FROM "cadres_cadre"' in query["sql"] for query in queries) == 1
