"""One quarter of one unit through all five steps, every step sent through the REST API."""

from decimal import Decimal

from evaluation.models import (
    Discrepancy,
    EvaluationState,
    PublishedResult,
    QuotaGroup,
    TransitionLog,
)
from tests.api.calls import plan_body, self_assessment_body, url, vet_body
from tests.api.conftest import session_client, token_client


def test_a_whole_quarter_for_head_deputies_members_and_collective(unit):
    u = unit
    cadre_clients = {cadre: session_client(cadre.user) for cadre in u.cadres}
    superior = session_client(u.superior)
    advisory = token_client(u.advisory)
    authority = token_client(u.authority, keyword="Token")
    organisation = token_client(u.organisation)

    # Step 1: each cadre saves and submits the targets; the superior approves them.
    for cadre in u.cadres:
        client, evaluation = cadre_clients[cadre], u.evaluation(cadre)
        count = 5 if cadre == u.members[3] else 4
        response = client.put(url(evaluation, "plan"), plan_body(cadre, count))
        assert response.status_code == 200, response.data
        assert len(response.data["tasks"]) == count
        assert response.data["state"] == "planning"
        response = client.post(url(evaluation, "submit-plan"), {})
        assert response.data["state"] == "plan_submitted", response.data
        response = superior.post(url(evaluation, "approve-plan"), {"comment": "Đồng ý"})
        assert response.data["state"] == "plan_approved", response.data

    # Step 2: the draft answers with the live score; submitting stores it.
    figures = {
        u.head: {"exceeded": 2},
        u.deputies[0]: {"exceeded": 2, "points": ("8", "8", "7", "5")},
        u.deputies[1]: {},
        u.members[0]: {"exceeded": 2},
        u.members[1]: {"exceeded": 2, "points": ("8", "8", "7", "6")},
        u.members[2]: {},
        u.members[3]: {"late": 1},
        u.members[4]: {"not_done": 1},
    }
    for cadre, options in figures.items():
        client, evaluation = cadre_clients[cadre], u.evaluation(cadre)
        draft = client.patch(
            url(evaluation, "self-assessment"), self_assessment_body(evaluation, **options)
        )
        assert draft.status_code == 200, draft.data
        assert draft.data["assessment"]["score"] == str(draft.data["self_score"])
        # The draft's answer is written from the rows as saved: the same as reading them again.
        saved = {k: v for k, v in draft.data.items() if k != "assessment"}
        assert saved == client.get(url(evaluation)).data
        response = client.post(
            url(evaluation, "self-assess"), {"confirm_warnings": cadre == u.members[4]}
        )
        assert response.data["state"] == "self_assessed", response.data
        assert response.data == client.get(url(evaluation)).data
    # R7: the unconfirmed shortfall was a warning before it was confirmed.
    evaluation = u.evaluation(u.members[4])
    assert any(r["rule"] == "R7" for r in evaluation.computed_reasons)

    # Step 3a: the advisory body vets; the answer carries the rules' grade and reasons.
    vetting = {
        u.deputies[0]: {"points": ("8", "8", "7", "5")},
        u.members[1]: {"points": ("8", "8", "7", "6")},
        u.members[3]: {"late": 1},
        u.members[4]: {"not_done": 1},
    }
    expected = {
        u.head: ("excellent", "100.0"),
        u.deputies[0]: ("excellent", "98.0"),
        u.deputies[1]: ("good", "100.0"),
        u.members[0]: ("excellent", "100.0"),
        u.members[1]: ("excellent", "99.0"),
        u.members[2]: ("good", "100.0"),
        u.members[3]: ("completed", "96.5"),
        u.members[4]: ("not_completed", "82.5"),
    }
    for cadre in u.cadres:
        evaluation = u.evaluation(cadre)
        response = advisory.post(
            url(evaluation, "vet"), vet_body(evaluation, **vetting.get(cadre, {}))
        )
        assert response.status_code == 200, response.data
        got = (response.data["computed_grade"], response.data["vetted_score"])
        assert got == expected[cadre], cadre
        assert response.data["computed_reasons"], cadre
        assert response.data["computed_score"] == expected[cadre][1]
    response = superior.get(url(u.evaluation(u.members[4])))
    assert "R7" in {r["rule"] for r in response.data["computed_reasons"]}

    # Step 3b: the superior proposes what the vetting found.
    for cadre, (grade, _score) in expected.items():
        response = superior.post(
            url(u.evaluation(cadre), "propose"), {"grade": grade, "comment": "Đề xuất"}
        )
        assert response.data["state"] == "proposed", response.data
        assert response.data["proposed_grade"] == grade

    # Step 4: the collective first (8 of 9 counted targets = 88.9 %).
    response = authority.post("/api/collectives/", {"period": u.period.pk, "unit": u.unit.pk})
    assert response.status_code == 201, response.data
    collective = response.data["id"]
    targets = [{"title": f"Chỉ tiêu {i}", "assigned_by": "Tỉnh ủy"} for i in range(10)]
    response = authority.put(f"/api/collectives/{collective}/targets/", {"targets": targets})
    assert len(response.data["targets"]) == 10
    results = {}
    for i, target in enumerate(response.data["targets"]):
        if i < 8:
            results[target["id"]] = {"status": "done"}
        elif i < 9:
            results[target["id"]] = {"status": "not_done"}
        else:
            results[target["id"]] = {
                "status": "not_done",
                "force_majeure_confirmed": True,
                "force_majeure_reason": "Bão số 3 làm gián đoạn thi công",
            }
    response = authority.post(f"/api/collectives/{collective}/results/", {"results": results})
    assert response.status_code == 200, response.data
    response = authority.post(f"/api/collectives/{collective}/grade/", {})
    assert Decimal(response.data["completion_percent"]) == Decimal("88.9")

    decided = {}
    for cadre in [u.head, u.members[0], u.members[2], u.members[3], u.members[4], u.deputies[1]]:
        response = authority.post(url(u.evaluation(cadre), "decide"), {"grade": expected[cadre][0]})
        assert response.data["state"] == "decided", response.data
        decided[cadre] = response.data["decided_grade"]

    # R9: 7 members outside the head, 3 proposed Excellent and 2 Good: the quota keeps 1.
    group = QuotaGroup.objects.get(period=u.period, unit=u.unit)
    response = authority.get(f"/api/quota-groups/{group.pk}/")
    assert response.data["quota"]["allowed"] == 1
    assert response.data["quota"]["decided_excellent"] == 1
    rankings = {
        u.members[1]: [u.members[0], u.members[1], u.deputies[0]],
        u.deputies[0]: [u.members[0], u.deputies[0]],  # members[1] is Good by now
    }
    for cadre, expected_ranking in rankings.items():
        evaluation = u.evaluation(cadre)
        response = authority.post(url(evaluation, "decide"), {"grade": "excellent"})
        assert response.status_code == 409
        assert response.data["code"] == "quota_exceeded"
        ranking = [c["cadre"] for c in response.data["ranked_candidates"]]
        assert ranking == [c.full_name for c in expected_ranking]
        assert u.evaluation(cadre).state == EvaluationState.PROPOSED
        response = authority.post(
            url(evaluation, "decide"), {"grade": "good", "comment": "Hạn mức"}
        )
        assert response.status_code == 200, response.data
        decided[cadre] = response.data["decided_grade"]
    assert decided == {
        u.head: "excellent",
        u.members[0]: "excellent",
        u.members[1]: "good",
        u.deputies[0]: "good",
        u.members[2]: "good",
        u.deputies[1]: "good",
        u.members[3]: "completed",
        u.members[4]: "not_completed",
    }
    # R17: the two proposals above the decision are recorded against the proposer.
    discrepancies = Discrepancy.objects.filter(proposer=u.superior)
    assert sorted(d.evaluation.cadre.full_name for d in discrepancies) == sorted(
        [u.members[1].full_name, u.deputies[0].full_name]
    )

    # Step 5: the organisation department publishes what waits for it.
    waiting = organisation.get("/api/evaluations/", {"actionable": "publish"})
    assert waiting.data["count"] == 8
    for row in waiting.data["results"]:
        response = organisation.post(f"/api/evaluations/{row['id']}/publish/", {})
        assert response.data["state"] == "published", response.data
    for cadre in u.cadres:
        evaluation = u.evaluation(cadre)
        record = PublishedResult.objects.get(evaluation=evaluation)
        assert record.grade == decided[cadre]
        # The cadre reads their own published result, and nobody else's.
        own = cadre_clients[cadre].get(url(evaluation))
        assert own.data["decided_grade"] == decided[cadre]
        assert own.data["allowed_actions"] == []
        history = cadre_clients[cadre].get(url(evaluation, "history"))
        assert [row["action"] for row in history.data] == [
            "submit_plan",
            "approve_plan",
            "self_assess",
            "vet",
            "propose",
            "decide",
            "publish",
        ]
    mine = cadre_clients[u.members[0]].get("/api/evaluations/")
    assert [row["cadre"]["id"] for row in mine.data["results"]] == [u.members[0].pk]
    published = authority.get(
        "/api/evaluations/", {"period": u.period.pk, "state": "published", "grade": "good"}
    )
    assert published.data["count"] == 4
    assert TransitionLog.objects.filter(evaluation__period=u.period).count() == 8 * 7
