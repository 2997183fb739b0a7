"""Every list page runs the same number of queries for a unit of 10 cadres and of 200.

The numbers are pinned: a change that adds a query per row (an N+1) fails at 200, and a
change that adds a fixed query shows up as a new pinned number to review.
"""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from cadres.models import Tenant
from tests.screens import bulk

# page → (who opens it, pinned number of queries for the request, session and user included)
PINNED = {
    "/": ("cadre", 7),
    "/my/": ("cadre", 7),
    "/ (superior)": ("superior", 8),
    "/inbox/": ("superior", 7),
    "/evaluations/{evaluation}/": ("superior", 9),
    "/vetting/": ("advisory", 6),
    "/catalogue/": ("advisory", 7),
    "/decisions/": ("authority", 7),
    "/decisions/{group}/": ("authority", 9),
    "/decisions/{group}/collective/": ("authority", 8),
    "/discrepancies/": ("authority", 8),
    "/flags/": ("authority", 7),
    "/suspensions/": ("authority", 6),
    "/publication/": ("organisation", 8),
    "/progress/": ("organisation", 9),
    "/results/": ("organisation", 9),
    "/organisation/units/": ("administrator", 7),
    "/organisation/cadres/": ("administrator", 8),
    "/organisation/roles/": ("administrator", 7),
    "/units/{unit}/": ("administrator", 10),
    "/organisation/periods/": ("administrator", 6),
    "/organisation/rules/": ("administrator", 7),
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
