"""The direct superior level: the inbox per unit, bulk approval, return with a reason, and
the proposal of a grade on the evaluation page."""

from cadres.roles import Role
from evaluation import services
from evaluation.models import EvaluationState, SuspensionProposal, TransitionLog
from tests import factories
from tests.evaluation import steps
from tests.screens.helpers import form_data, text


def submit(unit, cadre):
    evaluation = unit.evaluation(cadre)
    services.evaluation_save_plan(
        evaluation=evaluation,
        actor=cadre.user,
        tasks=steps.plan_tasks(cadre),
        axis_roles={"1": "primary", "3": "secondary"},
    )
    return services.evaluation_submit_plan(evaluation=evaluation, actor=cadre.user)


def vetted(unit, cadre, **figures):
    steps.plan_and_approve(unit, cadre)
    steps.self_assess(unit, cadre, **figures)
    return steps.vet(unit, cadre)


def test_the_inbox_lists_plans_and_assessments_of_the_units_covered_only(unit, as_user):
    submit(unit, unit.members[0])
    vetted(unit, unit.members[1], exceeded=2)
    # A unit under another superior: its plans are not in this inbox.
    other_unit = factories.unit(unit.tenant, None, "Sở Tài chính")
    stranger = factories.cadre(other_unit, "Đỗ Văn Lạ")
    other_superior = factories.holder(Role.SUPERIOR, other_unit)
    services.period_open(period=unit.period)  # opens the newcomer's evaluation
    submit(unit, stranger)
    body = text(as_user(unit.superior).get("/inbox/"))
    assert unit.members[0].full_name in body  # a plan to approve
    assert unit.members[1].full_name in body  # an assessment to propose on
    assert "Sở Nội vụ" in body
    assert "Đỗ Văn Lạ" not in body
    assert unit.members[2].full_name not in body  # still planning: nothing to do yet
    assert unit.members[0].full_name not in text(as_user(other_superior).get("/inbox/"))


def test_the_inbox_is_for_superiors_only(unit, as_user):
    assert as_user(unit.advisory).get("/inbox/").status_code == 403
    assert as_user(unit.members[0].user).get("/inbox/").status_code == 403


def test_bulk_approval_approves_the_ticked_plans_only(unit, as_user):
    first, second, third = (submit(unit, c) for c in unit.members[:3])
    client = as_user(unit.superior)
    response = client.post("/inbox/approve/", {"pick": [first.pk, second.pk]}, follow=True)
    assert "2 plan(s) approved." in text(response)
    states = {e.pk: e.state for e in (first, second, third) if not e.refresh_from_db()}
    assert states == {
        first.pk: EvaluationState.PLAN_APPROVED,
        second.pk: EvaluationState.PLAN_APPROVED,
        third.pk: EvaluationState.PLAN_SUBMITTED,
    }


def test_bulk_approval_refuses_what_is_not_in_the_inbox(unit, as_user):
    planning = unit.evaluation(unit.members[0])  # not submitted
    response = as_user(unit.superior).post("/inbox/approve/", {"pick": [planning.pk]}, follow=True)
    assert "is not one of the available choices" in text(response)
    planning.refresh_from_db()
    assert planning.state == EvaluationState.PLANNING
    response = as_user(unit.superior).post("/inbox/approve/", {}, follow=True)
    assert "Tick at least one line." in text(response)


def test_return_needs_a_reason_and_goes_back_to_the_cadre(unit, as_user):
    evaluation = submit(unit, unit.members[0])
    client = as_user(unit.superior)
    url = f"/evaluations/{evaluation.pk}/return/"
    data = form_data(client.get(f"/evaluations/{evaluation.pk}/"), url)
    response = client.post(url, {**data, "reason": "   "})
    assert response.status_code == 400
    assert "A reason is required." in text(response)
    evaluation.refresh_from_db()
    assert evaluation.state == EvaluationState.PLAN_SUBMITTED
    response = client.post(url, {**data, "reason": "Bổ sung sản phẩm đầu ra"})
    assert response.status_code == 302
    evaluation.refresh_from_db()
    assert evaluation.state == EvaluationState.PLANNING
    log = TransitionLog.objects.filter(evaluation=evaluation).last()
    assert (log.action, log.reason) == ("return", "Bổ sung sản phẩm đầu ra")


def test_the_evaluation_page_shows_the_vetting_and_the_grade_with_reasons(unit, as_user):
    evaluation = vetted(unit, unit.members[0], exceeded=2)
    body = text(as_user(unit.superior).get(f"/evaluations/{evaluation.pk}/"))
    assert "Propose a grade" in body
    assert "Score 100.0 reaches the Excellent floor of 90" in body  # R5, with its reason
    assert "Nhiệm vụ 1" in body and "Đã thẩm định" in body


def test_propose_records_the_grade_and_comment(unit, as_user):
    evaluation = vetted(unit, unit.members[0], exceeded=2)
    client = as_user(unit.superior)
    url = f"/evaluations/{evaluation.pk}/propose/"
    data = form_data(client.get(f"/evaluations/{evaluation.pk}/"), url)
    assert data["grade"] == "excellent"
    response = client.post(url, {**data, "grade": "good", "comment": "Cần chủ động hơn"})
    assert response.status_code == 302
    evaluation.refresh_from_db()
    assert (evaluation.state, evaluation.proposed_grade, evaluation.proposal_comment) == (
        EvaluationState.PROPOSED,
        "good",
        "Cần chủ động hơn",
    )
    assert evaluation.proposed_by == unit.superior


def test_an_unknown_grade_is_a_field_error(unit, as_user):
    evaluation = vetted(unit, unit.members[0])
    client = as_user(unit.superior)
    url = f"/evaluations/{evaluation.pk}/propose/"
    data = form_data(client.get(f"/evaluations/{evaluation.pk}/"), url)
    response = client.post(url, {**data, "grade": "outstanding"})
    assert response.status_code == 400
    assert "Select a valid choice." in text(response)
    evaluation.refresh_from_db()
    assert evaluation.state == EvaluationState.VETTED


def test_a_stale_page_is_a_conflict(unit, as_user):
    evaluation = vetted(unit, unit.members[0])
    client = as_user(unit.superior)
    url = f"/evaluations/{evaluation.pk}/propose/"
    data = form_data(client.get(f"/evaluations/{evaluation.pk}/"), url)
    data["version"] = str(int(data["version"]) - 1)  # someone acted since the page opened
    response = client.post(url, data)
    assert response.status_code == 409
    assert "has changed since you opened it" in text(response)
    evaluation.refresh_from_db()
    assert evaluation.state == EvaluationState.VETTED


def test_acting_out_of_step_is_a_conflict_or_a_refusal(unit, as_user):
    evaluation = unit.evaluation(unit.members[0])  # still planning
    response = as_user(unit.superior).post(
        f"/evaluations/{evaluation.pk}/propose/", {"grade": "good", "version": "1"}
    )
    assert response.status_code == 409
    # The advisory body may see a submitted plan but never approves it: 403.
    submitted = submit(unit, unit.members[1])
    response = as_user(unit.advisory).post(
        f"/evaluations/{submitted.pk}/approve/", {"version": str(submitted.version)}
    )
    assert response.status_code == 403
    submitted.refresh_from_db()
    assert submitted.state == EvaluationState.PLAN_SUBMITTED


def test_a_superior_proposes_a_suspension_that_the_authority_decides(unit, as_user):
    evaluation = unit.evaluation(unit.members[0])
    client = as_user(unit.superior)
    url = f"/evaluations/{evaluation.pk}/suspension/"
    assert client.post(url, {"reason": ""}).status_code == 400
    assert client.post(url, {"reason": "Né tránh trách nhiệm"}).status_code == 302
    authority = as_user(unit.authority)
    page = authority.get("/suspensions/")
    assert unit.members[0].full_name in text(page) and "Né tránh trách nhiệm" in text(page)
    proposal = SuspensionProposal.objects.get(cadre=unit.members[0])
    decide = f"/suspensions/{proposal.pk}/decide/"
    response = authority.post(decide, {f"s{proposal.pk}-accept": "yes"})
    assert response.status_code == 400
    assert "A reason is required." in text(response)
    response = authority.post(
        decide, {f"s{proposal.pk}-accept": "yes", f"s{proposal.pk}-reason": "Đủ căn cứ"}
    )
    assert response.status_code == 302
    proposal.refresh_from_db()
    assert (proposal.status, proposal.decided_by) == ("accepted", unit.authority)
    assert unit.members[0].full_name not in text(authority.get("/suspensions/"))
    # A cadre cannot propose, and another tenant's proposal id is a 404.
    assert as_user(unit.members[1].user).post(url, {"reason": "x"}).status_code == 404
