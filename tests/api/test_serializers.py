"""The evaluation's answers are built from fields made once a class (``FieldsBuiltOnce``):
two answers made side by side each write their own evaluation, tasks and context."""

from decimal import Decimal

from django.test import RequestFactory

from evaluation import serializers as s
from evaluation.rules import Grade
from tests.evaluation import steps


class Result:
    def __init__(self, score, grade):
        self.score, self.grade, self.reasons, self.warnings = Decimal(score), grade, [], []


def test_two_answers_built_side_by_side_keep_their_own_rows_and_context(unit):
    first, second = unit.members[0], unit.members[1]
    steps.plan_and_approve(unit, first, count=4)
    steps.plan_and_approve(unit, second, count=5)
    a, b = unit.evaluation(first), unit.evaluation(second)
    request_a, request_b = RequestFactory().get("/"), RequestFactory().get("/")
    request_a.user, request_b.user = first.user, second.user
    # Both built before either writes: a field shared between them would write the other's.
    answer_a = s.SelfAssessmentDraftResultSerializer(
        a, context={"request": request_a, "assessment": Result("91.5", Grade.EXCELLENT)}
    )
    answer_b = s.SelfAssessmentDraftResultSerializer(
        b, context={"request": request_b, "assessment": Result("62.0", Grade.COMPLETED)}
    )
    _ = answer_b.fields, answer_a.fields
    data_b, data_a = answer_b.data, answer_a.data
    assert (data_a["id"], data_b["id"]) == (a.pk, b.pk)
    assert data_a["assessment"]["score"] == "91.5" and data_a["assessment"]["grade"] == "excellent"
    assert data_b["assessment"]["score"] == "62.0" and data_b["assessment"]["grade"] == "completed"
    assert [t["id"] for t in data_a["tasks"]] == list(
        a.tasks.order_by("order", "pk").values_list("pk", flat=True)
    )
    assert len(data_b["tasks"]) == 5 and len(data_a["tasks"]) == 4
    assert data_a["cadre"]["full_name"] == first.full_name
    assert data_b["cadre"]["full_name"] == second.full_name
    # Each answer asks its own request's user what they may do: their own quarter, both.
    assert "self_assess" in data_a["allowed_actions"]
    assert data_a["allowed_actions"] == data_b["allowed_actions"]
    # The fields kept by the class are never bound to an answer.
    built = s.SelfAssessmentDraftResultSerializer._built_fields
    assert all(getattr(field, "parent", None) is None for field in built.values())
    assert answer_a.fields["tasks"] is not answer_b.fields["tasks"]
    assert answer_a.fields["id"] is not built["id"]
