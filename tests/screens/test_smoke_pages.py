"""Every page opens for the role it is made for (a first pass before the detailed tests)."""

from tests.evaluation import steps


def test_pages_open(unit, as_user):
    u = unit
    steps.plan_and_approve(u, u.members[0])
    evaluation = u.evaluation(u.members[0])
    cadre = as_user(u.members[1].user)
    for url in ["/", "/my/", f"/evaluations/{u.evaluation(u.members[1]).pk}/plan/"]:
        response = cadre.get(url)
        assert response.status_code == 200, (url, response.content.decode()[:3000])
    member0 = as_user(u.members[0].user)
    response = member0.get(f"/evaluations/{evaluation.pk}/self-assessment/")
    assert response.status_code == 200, response.content.decode()[:3000]
    for user, urls in [
        (u.superior, ["/", "/inbox/", f"/evaluations/{evaluation.pk}/"]),
        (u.advisory, ["/", "/vetting/", "/catalogue/"]),
        (
            u.authority,
            [
                "/",
                "/decisions/",
                f"/decisions/{evaluation.quota_group_id}/",
                f"/decisions/{evaluation.quota_group_id}/collective/",
                "/discrepancies/",
                "/flags/",
                "/suspensions/",
                "/catalogue/",
            ],
        ),
        (u.organisation, ["/", "/publication/", "/progress/", "/results/"]),
    ]:
        client = as_user(user)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, (url, response.content.decode()[:3000])
