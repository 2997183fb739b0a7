"""The organisation department: publication of a quarter, the unit progress view with who
is late where, and the tenant's page of published results."""

from datetime import date

import pytest

from cadres.roles import Role
from evaluation import services
from evaluation.models import Evaluation, EvaluationState, Period, PublishedResult
from tests import factories
from tests.evaluation import steps
from tests.screens.helpers import text


def decided(unit, cadre, grade="good"):
    steps.plan_and_approve(unit, cadre)
    steps.self_assess(unit, cadre)
    evaluation = steps.vet(unit, cadre)
    services.evaluation_propose(evaluation=evaluation, actor=unit.superior, grade=grade)
    return services.evaluation_decide(evaluation=evaluation, actor=unit.authority, grade=grade)


def test_publication_counts_and_publishes_the_decided_results(unit, as_user):
    first, second = decided(unit, unit.members[0]), decided(unit, unit.members[1])
    client = as_user(unit.organisation)
    page = text(client.get("/publication/"))
    assert "Publish 2 results" in page
    response = client.post(f"/publication/{unit.period.pk}/", follow=True)
    assert "2 result(s) of Quarter 2/2026 published." in text(response)
    for evaluation in (first, second):
        evaluation.refresh_from_db()
        assert evaluation.state == EvaluationState.PUBLISHED
    assert PublishedResult.objects.filter(period=unit.period).count() == 2
    assert "Publish 2 results" not in text(client.get("/publication/"))


def test_publication_is_refused_to_other_roles(unit, as_user):
    decided(unit, unit.members[0])
    assert as_user(unit.superior).get("/publication/").status_code == 403
    assert as_user(unit.superior).post(f"/publication/{unit.period.pk}/").status_code == 403
    assert as_user(unit.members[0].user).get("/progress/").status_code == 403
    assert Evaluation.objects.filter(state=EvaluationState.DECIDED).count() == 1


def test_results_show_published_results_only_to_members_of_the_tenant(unit, as_user, other_tenant):
    decided(unit, unit.members[0], "good")
    decided(unit, unit.members[1], "completed")
    services.evaluation_publish(
        evaluation=unit.evaluation(unit.members[0]), actor=unit.organisation
    )
    # Any member of the tenant, even one with no role, reads the published results.
    reader = as_user(unit.members[4].user)
    body = text(reader.get(f"/results/?period={unit.period.pk}"))
    assert unit.members[0].full_name in body and "Good" in body
    assert unit.members[1].full_name not in body  # decided, not published
    # Another tenant's reader sees none of it, and the period id is not theirs: 404.
    stranger = factories.holder(Role.ORGANISATION, factories.unit(other_tenant))
    assert as_user(stranger).get(f"/results/?period={unit.period.pk}").status_code == 404
    assert unit.members[0].full_name not in text(as_user(stranger).get("/results/"))


@pytest.mark.parametrize("bad", ["abc", "999999"])
def test_a_bad_period_is_a_404(unit, as_user, bad):
    assert as_user(unit.organisation).get(f"/progress/?period={bad}").status_code == 404


def test_progress_shows_who_is_late_at_which_step(unit, as_user):
    # Deadlines fixed far in the past and far ahead, whatever the day the tests run.
    Period.objects.filter(pk=unit.period.pk).update(
        plan_deadline=date(2020, 4, 15),
        self_assessment_deadline=date(2100, 6, 24),
        decision_deadline=date(2020, 7, 2),
    )
    steps.plan_and_approve(unit, unit.members[0])  # waits for the self-assessment: not late
    decided(unit, unit.members[1])  # waits for publication: report due later
    proposed = decided(unit, unit.members[2])
    Evaluation.objects.filter(pk=proposed.pk).update(state=EvaluationState.PROPOSED)
    body = text(as_user(unit.organisation).get(f"/progress/?period={unit.period.pk}"))
    assert "Sở Nội vụ" in body
    assert "Targets: 5 (due 15/04/2020)" in body  # the head, two deputies, two members
    assert "Decision: 1 (due 02/07/2020)" in body
    assert "Self-assessment:" not in body
