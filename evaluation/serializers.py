"""JSON shapes of periods, the catalogue, collectives, quota groups and evaluations.

Input serializers check types only; every rule and permission is checked by the services.
"""

import copy

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cadres.models import Cadre, Unit
from evaluation import rules, scoring
from evaluation.models import (
    AXIS_CHOICES,
    QUALITY_LEVELS,
    CatalogueItem,
    CatalogueVersion,
    Collective,
    CollectiveTarget,
    CriterionScore,
    Evaluation,
    EvaluationState,
    Period,
    QuotaGroup,
    Task,
)
from evaluation.permissions import ACTION_STATES, Action, acting_role
from evaluation.services import DEFERRAL_CASES

GRADES = rules.Grade.choices
# The actions one takes (viewing is not one of them).
ACTIONS = [choice for choice in Action.choices if choice[0] != Action.VIEW]
EXPECTED_VERSION = {
    "required": False,
    "min_value": 1,
    "help_text": _(
        "The version you last read; the action is refused with 409 if someone acted since."
    ),
}


class ReasonMessageField(serializers.CharField):
    """A stored reason's sentence in the language of the request (``scoring.stored_message``)."""

    def get_attribute(self, instance):
        if isinstance(instance, dict):
            return scoring.stored_message(instance)
        return super().get_attribute(instance)


class ReasonSerializer(serializers.Serializer):
    rule = serializers.CharField(help_text=_("The rule id, e.g. R5."))
    message = ReasonMessageField()


# ---------------------------------------------------------------------------------------------
# Periods


class PeriodSerializer(serializers.ModelSerializer):
    label = serializers.CharField(source="__str__", read_only=True)

    class Meta:
        model = Period
        fields = [
            "id",
            "year",
            "quarter",
            "label",
            "status",
            "start_date",
            "end_date",
            "plan_deadline",
            "self_assessment_deadline",
            "vetting_deadline",
            "proposal_deadline",
            "decision_deadline",
            "report_deadline",
            "opened_at",
        ]
        read_only_fields = fields


class PeriodCreateSerializer(serializers.Serializer):
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    quarter = serializers.IntegerField(min_value=1, max_value=4)
    plan_deadline = serializers.DateField(required=False)
    self_assessment_deadline = serializers.DateField(required=False)
    vetting_deadline = serializers.DateField(required=False)
    proposal_deadline = serializers.DateField(required=False)
    decision_deadline = serializers.DateField(required=False)
    report_deadline = serializers.DateField(required=False)


class OpeningSummarySerializer(serializers.Serializer):
    created = serializers.IntegerField()
    deferred = serializers.IntegerField()
    carried_over = serializers.IntegerField()
    not_this_quarter = serializers.IntegerField()
    skipped = serializers.ListField(child=serializers.DictField())


class PeriodFilterSerializer(serializers.Serializer):
    year = serializers.IntegerField(required=False, min_value=2000, max_value=2100)
    status = serializers.ChoiceField(choices=Period.Status.choices, required=False)


# ---------------------------------------------------------------------------------------------
# Catalogue


class CatalogueItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = CatalogueItem
        fields = ["id", "version", "code", "title", "axis", "expected_product", "difficulty"]
        read_only_fields = ["id", "version"]
        validators = []  # the service's full_clean checks the code's uniqueness


class CatalogueVersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = CatalogueVersion
        fields = [
            "id",
            "number",
            "status",
            "note",
            "submitted_by",
            "submitted_at",
            "approved_by",
            "approved_at",
        ]
        read_only_fields = fields


class CatalogueDraftSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class CatalogueItemFilterSerializer(serializers.Serializer):
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text=_("A version's id; by default the approved catalogue."),
    )
    axis = serializers.ChoiceField(choices=AXIS_CHOICES, required=False)


# ---------------------------------------------------------------------------------------------
# Collectives


class CollectiveTargetSerializer(serializers.ModelSerializer):
    class Meta:
        model = CollectiveTarget
        fields = [
            "id",
            "title",
            "assigned_by",
            "status",
            "force_majeure_confirmed",
            "force_majeure_reason",
        ]
        read_only_fields = fields


class CollectiveSerializer(serializers.ModelSerializer):
    targets = CollectiveTargetSerializer(many=True, read_only=True)
    reasons = ReasonSerializer(many=True, read_only=True)

    class Meta:
        model = Collective
        fields = [
            "id",
            "period",
            "unit",
            "completion_percent",
            "reasons",
            "graded_at",
            "graded_by",
            "targets",
        ]
        read_only_fields = fields


class CollectiveCreateSerializer(serializers.Serializer):
    period = serializers.IntegerField(min_value=1)
    unit = serializers.IntegerField(min_value=1)


class CollectiveTargetInput(serializers.Serializer):
    title = serializers.CharField(max_length=500)
    assigned_by = serializers.CharField(max_length=255, required=False, allow_blank=True)


class CollectiveTargetsInput(serializers.Serializer):
    targets = CollectiveTargetInput(many=True)


class CollectiveResultInput(serializers.Serializer):
    status = serializers.ChoiceField(choices=CollectiveTarget.Status.choices, required=False)
    force_majeure_confirmed = serializers.BooleanField(required=False)
    force_majeure_reason = serializers.CharField(max_length=500, required=False, allow_blank=True)


class CollectiveResultsInput(serializers.Serializer):
    results = serializers.DictField(
        child=CollectiveResultInput(), help_text=_("Target id → its result.")
    )


class CollectiveFilterSerializer(serializers.Serializer):
    period = serializers.IntegerField(required=False, min_value=1)
    unit = serializers.IntegerField(required=False, min_value=1)


# ---------------------------------------------------------------------------------------------
# Quota groups


class QuotaCandidateSerializer(serializers.Serializer):
    evaluation = serializers.IntegerField()
    cadre = serializers.CharField()
    score = serializers.CharField()
    within_quota = serializers.BooleanField()
    label = serializers.CharField()


class QuotaPictureSerializer(serializers.Serializer):
    """R9 now: how many may be Excellent, how many are, who ranks where."""

    percent = serializers.IntegerField()
    allowed = serializers.IntegerField()
    decided_excellent = serializers.IntegerField()
    proposed_excellent = serializers.IntegerField()
    good = serializers.IntegerField()
    ranking = QuotaCandidateSerializer(many=True)


class QuotaGroupSerializer(serializers.ModelSerializer):
    unit_name = serializers.CharField(source="unit.name", read_only=True)

    class Meta:
        model = QuotaGroup
        fields = ["id", "period", "unit", "unit_name", "percent", "raise_reason", "exceeded_at"]
        read_only_fields = fields


class QuotaGroupDetailSerializer(QuotaGroupSerializer):
    quota = serializers.SerializerMethodField()

    class Meta(QuotaGroupSerializer.Meta):
        fields = [*QuotaGroupSerializer.Meta.fields, "quota"]
        read_only_fields = fields

    @extend_schema_field(QuotaPictureSerializer)
    def get_quota(self, group):
        return QuotaPictureSerializer(self.context["quota"]).data


class QuotaGroupFilterSerializer(serializers.Serializer):
    period = serializers.IntegerField(required=False, min_value=1)
    unit = serializers.IntegerField(
        required=False, min_value=1, help_text=_("Only groups of this unit or under it.")
    )


# ---------------------------------------------------------------------------------------------
# Evaluations


# A ModelSerializer whose fields are built from the model once per class and copied for each
# use, as a plain Serializer copies its declared ones. DRF builds them again for every answer;
# for an evaluation with its tasks that took longer than writing the data (2.5 → 1.1 ms an
# answer, on every autosave of the quarter-end surge). The build depends on the class only
# (its Meta and declared fields), never on the instance or the request. (A comment, not a
# docstring: the API schema would take it as the description of every serializer.)
# A plain field is copied shallowly: binding it to this serializer sets its own name, parent
# and source, and nothing else of it changes while it writes. A nested serializer or a field
# holding another field (many=True relations) is copied deeply, so that what it holds is bound
# to it and reads this answer's context.
class FieldsBuiltOnce:
    def get_fields(self):
        cls = type(self)
        if "_built_fields" not in cls.__dict__:  # each subclass builds its own
            cls._built_fields = super().get_fields()
        return {
            name: copy.deepcopy(field)
            if isinstance(field, serializers.BaseSerializer | serializers.ManyRelatedField)
            else copy.copy(field)
            for name, field in cls._built_fields.items()
        }


class CadreBriefSerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    class Meta:
        model = Cadre
        fields = ["id", "code", "full_name"]
        read_only_fields = fields


class UnitBriefSerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    class Meta:
        model = Unit
        fields = ["id", "code", "name"]
        read_only_fields = fields


class TaskSerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    class Meta:
        model = Task
        fields = [
            "id",
            "order",
            "objective",
            "title",
            "expected_product",
            "axis",
            "weight",
            "primary_responsible",
            "responsibility",
            "accepting_authority",
            "deadline",
            "catalogue_item",
            "difficulty",
            "carried_over_from",
            "status",
            "completed_on",
            "exceeded",
            "force_majeure_reason",
            "evidence",
            "self_quality_level",
            "progress",
            "quality_level",
            "difficulty_scope",
            "force_majeure_decision",
            "force_majeure_decision_reason",
        ]
        read_only_fields = fields


class CriterionSerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    class Meta:
        model = CriterionScore
        fields = ["code", "name", "max_points", "self_points", "vetted_points"]
        read_only_fields = fields


class EvaluationSerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    cadre = CadreBriefSerializer(read_only=True)
    unit = UnitBriefSerializer(read_only=True)
    computed_reasons = ReasonSerializer(many=True, read_only=True)
    allowed_actions = serializers.SerializerMethodField(
        help_text=_("The actions you may take on this evaluation now.")
    )

    class Meta:
        model = Evaluation
        fields = [
            "id",
            "period",
            "cadre",
            "unit",
            "collective_role",
            "quota_group",
            "state",
            "version",
            "revision",
            "is_current",
            "self_score",
            "self_grade",
            "vetted_score",
            "vetted_grade",
            "proposed_grade",
            "decided_grade",
            "computed_score",
            "computed_grade",
            "computed_reasons",
            "reassignment_flag",
            "deferral_case",
            "deferral_reason",
            "allowed_actions",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(ACTIONS)))
    def get_allowed_actions(self, evaluation) -> list[str]:
        user = self.context["request"].user
        if not evaluation.is_current:
            return []
        return [
            a.value
            for a in Action
            if evaluation.state in ACTION_STATES.get(a, ())
            and acting_role(user, a, evaluation) is not None
        ]


class EvaluationDetailSerializer(EvaluationSerializer):
    tasks = TaskSerializer(many=True, read_only=True)
    criteria = CriterionSerializer(source="criterion_scores", many=True, read_only=True)

    class Meta(EvaluationSerializer.Meta):
        fields = [
            *EvaluationSerializer.Meta.fields,
            "axis_roles",
            "self_comment",
            "self_assessed_at",
            "vetting_comment",
            "vetted_by",
            "vetted_at",
            "proposal_comment",
            "proposed_by",
            "proposed_at",
            "decision_comment",
            "decided_by",
            "decided_at",
            "published_at",
            "published_by",
            "discipline_note",
            "previous_unit_comment",
            "previous_revision",
            "carried_over_from",
            "created_at",
            "tasks",
            "criteria",
        ]
        read_only_fields = fields


class TransitionLogSerializer(serializers.Serializer):
    action = serializers.CharField()
    role = serializers.CharField()
    from_state = serializers.CharField()
    to_state = serializers.CharField()
    reason = serializers.CharField()
    actor = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()


class AssessmentSerializer(serializers.Serializer):
    """The live score and grade that the rules give the draft (R1–R8)."""

    score = serializers.DecimalField(max_digits=4, decimal_places=1)
    grade = serializers.ChoiceField(choices=GRADES)
    reasons = ReasonSerializer(many=True)
    warnings = ReasonSerializer(many=True)


class SelfAssessmentDraftResultSerializer(EvaluationDetailSerializer):
    assessment = serializers.SerializerMethodField()

    class Meta(EvaluationDetailSerializer.Meta):
        fields = [*EvaluationDetailSerializer.Meta.fields, "assessment"]
        read_only_fields = fields

    @extend_schema_field(AssessmentSerializer)
    def get_assessment(self, evaluation):
        result = self.context["assessment"]
        return AssessmentSerializer(
            {
                "score": result.score,
                "grade": result.grade,
                "reasons": [r.as_dict() for r in result.reasons],
                "warnings": [r.as_dict() for r in result.warnings],
            }
        ).data


class EvaluationFilterSerializer(serializers.Serializer):
    period = serializers.IntegerField(required=False, min_value=1)
    unit = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text=_("Only evaluations graded in this unit or under it."),
    )
    state = serializers.ChoiceField(choices=EvaluationState.choices, required=False)
    grade = serializers.ChoiceField(
        choices=GRADES, required=False, help_text=_("The decided grade.")
    )
    computed_grade = serializers.ChoiceField(choices=GRADES, required=False)
    cadre = serializers.IntegerField(required=False, min_value=1)
    current = serializers.BooleanField(
        required=False,
        default=True,
        help_text=_("Only current revisions (the default); false lists every revision."),
    )
    actionable = serializers.ChoiceField(
        choices=ACTIONS,
        required=False,
        help_text=_("Only the evaluations on which you may take this action now."),
    )


# --- Inputs of the steps ---------------------------------------------------------------------


class PlanTaskInput(serializers.Serializer):
    objective = serializers.CharField(max_length=500, required=False, allow_blank=True)
    title = serializers.CharField(max_length=500, required=False, allow_blank=True)
    expected_product = serializers.CharField(max_length=500, required=False, allow_blank=True)
    axis = serializers.ChoiceField(choices=AXIS_CHOICES, required=False, allow_null=True)
    weight = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=0, max_value=100, required=False
    )
    primary_responsible = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    responsibility = serializers.CharField(max_length=255, required=False, allow_blank=True)
    accepting_authority = serializers.CharField(max_length=255, required=False, allow_blank=True)
    deadline = serializers.DateField(required=False, allow_null=True)
    catalogue_item = serializers.IntegerField(min_value=1, required=False, allow_null=True)


class PlanInput(serializers.Serializer):
    tasks = PlanTaskInput(many=True, help_text=_("The whole plan: it replaces the draft."))
    axis_roles = serializers.DictField(
        child=serializers.ChoiceField(choices=rules.AxisRole.choices),
        required=False,
        default=dict,
        help_text=_("Axis number (1–6) → primary or secondary (R2)."),
    )
    expected_version = serializers.IntegerField(**EXPECTED_VERSION)


class TaskResultInput(serializers.Serializer):
    status = serializers.ChoiceField(choices=Task.Status.choices, required=False)
    completed_on = serializers.DateField(required=False, allow_null=True)
    exceeded = serializers.BooleanField(required=False)
    force_majeure_reason = serializers.CharField(max_length=500, required=False, allow_blank=True)
    evidence = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    self_quality_level = serializers.ChoiceField(
        choices=QUALITY_LEVELS, required=False, allow_null=True
    )


def points_field():
    return serializers.DecimalField(max_digits=4, decimal_places=1, min_value=0, allow_null=True)


class SelfAssessmentDraftInput(serializers.Serializer):
    tasks = serializers.DictField(
        child=TaskResultInput(), required=False, help_text=_("Task id → its result.")
    )
    criteria = serializers.DictField(
        child=points_field(), required=False, help_text=_("Criterion code → self-score (part A).")
    )
    comment = serializers.CharField(max_length=10000, required=False, allow_blank=True)
    self_grade = serializers.ChoiceField(choices=GRADES, required=False, allow_blank=True)
    expected_version = serializers.IntegerField(**EXPECTED_VERSION)


class TransitionInput(serializers.Serializer):
    expected_version = serializers.IntegerField(**EXPECTED_VERSION)


class CommentInput(TransitionInput):
    comment = serializers.CharField(max_length=10000, required=False, allow_blank=True, default="")


class SelfAssessInput(TransitionInput):
    confirm_warnings = serializers.BooleanField(
        required=False,
        default=False,
        help_text=_("Submit even though the rules warn (the warnings come back as a 400)."),
    )


class TaskVettingInput(serializers.Serializer):
    progress = serializers.ChoiceField(choices=Task.Progress.choices, required=False)
    quality_level = serializers.ChoiceField(choices=QUALITY_LEVELS, required=False, allow_null=True)
    difficulty_scope = serializers.CharField(max_length=500, required=False, allow_blank=True)
    force_majeure_decision = serializers.ChoiceField(
        choices=Task.ForceMajeure.choices, required=False, allow_blank=True
    )
    force_majeure_decision_reason = serializers.CharField(
        max_length=500, required=False, allow_blank=True
    )


class VetInput(CommentInput):
    tasks = serializers.DictField(child=TaskVettingInput(), help_text=_("Task id → its vetting."))
    criteria = serializers.DictField(
        child=points_field(), required=False, help_text=_("Criterion code → vetted points.")
    )
    grade = serializers.ChoiceField(
        choices=GRADES,
        required=False,
        help_text=_("The grade the vetting proposes; by default the rules' grade."),
    )


class GradeInput(CommentInput):
    grade = serializers.ChoiceField(choices=GRADES)


class DecideInput(GradeInput):
    reassignment = serializers.BooleanField(
        required=False, default=False, help_text=_("Flag the cadre for reassignment.")
    )


class ReasonInput(TransitionInput):
    reason = serializers.CharField(max_length=2000, allow_blank=True)


class DeferInput(ReasonInput):
    case = serializers.ChoiceField(choices=list(DEFERRAL_CASES.items()))
