"""REST API of the quarter: periods, catalogue, collectives, quota groups and evaluations with
their five steps as actions.

Each action calls the same service as the screens and answers with the evaluation as it is
now (state, computed score, grade and reasons). An evaluation the user may not see is a 404;
one they see but may not act on now is a 403 (``evaluation.permissions``).
"""

from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransition
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, status
from rest_framework.decorators import action
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response

from cadres.api import (
    ERRORS,
    IDEMPOTENCY_ERRORS,
    IDEMPOTENCY_PARAMETER,
    ConflictSerializer,
    TenantViewSet,
    error_response,
    idempotent,
    responses,
    validated_filters,
    visible_units,
)
from cadres.api import exception_handler as base_exception_handler
from cadres.authentication import is_tenant_administrator
from cadres.models import Unit
from cadres.roles import Role, covers, granted_units
from cadres.selectors import get_for_user_or_404
from config.compiled_query import CompiledQuery
from evaluation import rules, scoring, services
from evaluation import serializers as s
from evaluation.exceptions import Conflict, QuotaExceeded
from evaluation.models import (
    CatalogueItem,
    CatalogueVersion,
    Collective,
    CriterionScore,
    Evaluation,
    Period,
    QuotaGroup,
    Task,
    TransitionLog,
)
from evaluation.permissions import actionable_evaluations, visible_evaluations

CONFLICT = OpenApiResponse(
    ConflictSerializer,
    description=_("Someone acted first, the step does not allow it, or the quota is full (R9)."),
)


def exception_handler(exc, context):
    """The organisation's error mapping, plus the workflow's conflicts as 409."""
    if isinstance(exc, QuotaExceeded):
        return error_response(
            409, "quota_exceeded", exc.message, ranked_candidates=exc.ranked_candidates
        )
    if isinstance(exc, Conflict):
        return error_response(409, "conflict", exc.message)
    if isinstance(exc, ConcurrentTransition):
        return error_response(409, "conflict", Conflict.default_message)
    if isinstance(exc, rules.RuleInputError):
        exc = exceptions.ValidationError({exc.field: [exc.message]})
    return base_exception_handler(exc, context)


def tenant_unit(user, unit_id: int, field: str = "unit") -> Unit:
    """A unit of the user's tenant named in a filter or a body; another tenant's is unknown."""
    unit = Unit.objects.for_tenant(user.tenant_id).filter(pk=unit_id).first()
    if unit is None:
        raise exceptions.ValidationError({field: [_("Unknown unit.")]})
    return unit


def may_manage_periods(user) -> bool:
    return is_tenant_administrator(user) or bool(granted_units(user, Role.ORGANISATION))


# ---------------------------------------------------------------------------------------------
# Periods


@extend_schema(tags=["periods"])
class PeriodViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """The quarters of the user's organisation, latest first."""

    serializer_class = s.PeriodSerializer
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        user = self.request.user
        if not user.is_authenticated or user.tenant_id is None:
            return Period.objects.none()
        queryset = Period.objects.for_tenant(user.tenant_id).order_by("-year", "-quarter")
        if self.action == "list":
            filters = validated_filters(s.PeriodFilterSerializer, self.request)
            if "year" in filters:
                queryset = queryset.filter(year=filters["year"])
            if "status" in filters:
                queryset = queryset.filter(status=filters["status"])
        return queryset

    @extend_schema(
        parameters=[s.PeriodFilterSerializer],
        responses=responses(s.PeriodSerializer(many=True), 400, 401),
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(responses=responses(s.PeriodSerializer, 401, 404))
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        request=s.PeriodCreateSerializer,
        responses=responses(s.PeriodSerializer, 400, 401, 403, status_code=201),
    )
    def create(self, request):
        """Create a quarter with its step deadlines and the R16 report deadline."""
        if not may_manage_periods(request.user):
            raise exceptions.PermissionDenied(
                _("Only the organisation department or an administrator creates quarters.")
            )
        data = s.PeriodCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        period = services.period_create(
            tenant=request.user.tenant, actor=request.user, **data.validated_data
        )
        return Response(s.PeriodSerializer(period).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses=responses(s.OpeningSummarySerializer, 401, 403, 404),
    )
    @action(detail=True, methods=["post"])
    def open(self, request, pk=None):
        """Create one evaluation per cadre in scope (R11, R12, R18); running it again adds none."""
        period = self.get_object()
        if not may_manage_periods(request.user):
            raise exceptions.PermissionDenied(
                _("Only the organisation department or an administrator opens quarters.")
            )
        summary = services.period_open(period=period, actor=request.user)
        return Response(
            s.OpeningSummarySerializer(
                {
                    "created": summary.created,
                    "deferred": summary.deferred,
                    "carried_over": summary.carried_over,
                    "not_this_quarter": summary.not_this_quarter,
                    "skipped": [
                        {"cadre": cadre.pk, "reason": str(reason)}
                        for cadre, reason in summary.skipped
                    ],
                }
            ).data
        )


# ---------------------------------------------------------------------------------------------
# Catalogue


@extend_schema(tags=["catalogue"])
class CatalogueVersionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Versions of the standard product catalogue: drafted by the advisory body, approved by
    the managing authority."""

    serializer_class = s.CatalogueVersionSerializer
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        user = self.request.user
        if not user.is_authenticated or user.tenant_id is None:
            return CatalogueVersion.objects.none()
        return CatalogueVersion.objects.for_tenant(user.tenant_id).order_by("-number")

    @extend_schema(responses=responses(s.CatalogueVersionSerializer(many=True), 401))
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(responses=responses(s.CatalogueVersionSerializer, 401, 404))
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        request=s.CatalogueDraftSerializer,
        responses=responses(
            s.CatalogueVersionSerializer, 400, 401, 403, status_code=201, extra={409: CONFLICT}
        ),
    )
    def create(self, request):
        """Start a draft version, copying the approved items."""
        data = s.CatalogueDraftSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        version = services.catalogue_draft(
            tenant=request.user.tenant, actor=request.user, note=data.validated_data["note"]
        )
        return Response(s.CatalogueVersionSerializer(version).data, status=201)

    @extend_schema(
        request=s.CatalogueItemSerializer,
        responses=responses(
            s.CatalogueItemSerializer, 400, 401, 403, 404, status_code=201, extra={409: CONFLICT}
        ),
    )
    @action(detail=True, methods=["post"])
    def items(self, request, pk=None):
        """Add an item to a draft version."""
        version = self.get_object()
        data = s.CatalogueItemSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        item = services.catalogue_add_item(
            version=version, actor=request.user, **data.validated_data
        )
        return Response(s.CatalogueItemSerializer(item).data, status=201)

    @extend_schema(
        request=None,
        responses=responses(
            s.CatalogueVersionSerializer, 400, 401, 403, 404, extra={409: CONFLICT}
        ),
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        version = services.catalogue_submit(version=self.get_object(), actor=request.user)
        return Response(s.CatalogueVersionSerializer(version).data)

    @extend_schema(
        request=None,
        responses=responses(s.CatalogueVersionSerializer, 401, 403, 404, extra={409: CONFLICT}),
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        version = services.catalogue_approve(version=self.get_object(), actor=request.user)
        return Response(s.CatalogueVersionSerializer(version).data)


@extend_schema(tags=["catalogue"])
class CatalogueItemViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Items of the approved catalogue (or of the version asked for), to pick tasks from."""

    serializer_class = s.CatalogueItemSerializer
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        user = self.request.user
        if not user.is_authenticated or user.tenant_id is None:
            return CatalogueItem.objects.none()
        queryset = CatalogueItem.objects.for_tenant(user.tenant_id).order_by("code", "pk")
        if self.action != "list":
            return queryset
        filters = validated_filters(s.CatalogueItemFilterSerializer, self.request)
        if "version" in filters:
            queryset = queryset.filter(version_id=filters["version"])
        else:
            queryset = queryset.filter(version__status=CatalogueVersion.Status.APPROVED)
        if "axis" in filters:
            queryset = queryset.filter(axis=filters["axis"])
        return queryset

    @extend_schema(
        parameters=[s.CatalogueItemFilterSerializer],
        responses=responses(s.CatalogueItemSerializer(many=True), 400, 401),
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(responses=responses(s.CatalogueItemSerializer, 401, 404))
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)


# ---------------------------------------------------------------------------------------------
# Collectives


@extend_schema(tags=["collectives"])
class CollectiveViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """A unit's leadership body for a quarter, graded before its members (QĐ 366, R8)."""

    serializer_class = s.CollectiveSerializer
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        user = self.request.user
        queryset = (
            Collective.objects.filter(unit__in=visible_units(user))
            .prefetch_related("targets")
            .order_by("-period__year", "-period__quarter", "unit__path", "pk")
        )
        if self.action == "list":
            filters = validated_filters(s.CollectiveFilterSerializer, self.request)
            if "period" in filters:
                queryset = queryset.filter(period_id=filters["period"])
            if "unit" in filters:
                unit = tenant_unit(user, filters["unit"])
                queryset = queryset.filter(unit__path__startswith=unit.path)
        return queryset

    @extend_schema(
        parameters=[s.CollectiveFilterSerializer],
        responses=responses(s.CollectiveSerializer(many=True), 400, 401),
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(responses=responses(s.CollectiveSerializer, 401, 404))
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    def _reload(self, collective):
        return Collective.objects.prefetch_related("targets").get(pk=collective.pk)

    @extend_schema(
        request=s.CollectiveCreateSerializer,
        responses=responses(s.CollectiveSerializer, 400, 401, 403, status_code=201),
    )
    def create(self, request):
        """Set up (or find) the collective of a unit for a quarter (managing authority)."""
        data = s.CollectiveCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = request.user
        unit = tenant_unit(user, data.validated_data["unit"])
        period = Period.objects.for_tenant(user.tenant_id).filter(pk=data.validated_data["period"])
        if not period.exists():
            raise exceptions.ValidationError({"period": [_("Unknown quarter.")]})
        if not covers(user, Role.AUTHORITY, unit):
            raise exceptions.PermissionDenied(
                _("Only the managing authority sets up the collective of this unit.")
            )
        collective = services.collective_for(period=period.get(), unit=unit)
        return Response(s.CollectiveSerializer(self._reload(collective)).data, status=201)

    @extend_schema(
        request=s.CollectiveTargetsInput,
        responses=responses(s.CollectiveSerializer, 400, 401, 403, 404, extra={409: CONFLICT}),
    )
    @action(detail=True, methods=["put"])
    def targets(self, request, pk=None):
        """Replace the collective's targets assigned by the competent level."""
        collective = self.get_object()
        data = s.CollectiveTargetsInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.collective_set_targets(
            collective=collective, actor=request.user, targets=data.validated_data["targets"]
        )
        return Response(s.CollectiveSerializer(self._reload(collective)).data)

    @extend_schema(
        request=s.CollectiveResultsInput,
        responses=responses(s.CollectiveSerializer, 400, 401, 403, 404, extra={409: CONFLICT}),
    )
    @action(detail=True, methods=["post"])
    def results(self, request, pk=None):
        """Record each target as done or not, with force majeure and its reason."""
        collective = self.get_object()
        data = s.CollectiveResultsInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.collective_record_results(
            collective=collective, actor=request.user, results=data.validated_data["results"]
        )
        return Response(s.CollectiveSerializer(self._reload(collective)).data)

    @extend_schema(
        request=None,
        responses=responses(s.CollectiveSerializer, 400, 401, 403, 404, extra={409: CONFLICT}),
    )
    @action(detail=True, methods=["post"])
    def grade(self, request, pk=None):
        """Compute the collective's completion (R8); its members are decided after it."""
        collective = services.collective_grade(collective=self.get_object(), actor=request.user)
        return Response(s.CollectiveSerializer(self._reload(collective)).data)


# ---------------------------------------------------------------------------------------------
# Quota groups


@extend_schema(tags=["quota"])
class QuotaGroupViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Groups sharing one Excellent quota (R9); open one for its live quota and ranking."""

    serializer_class = s.QuotaGroupSerializer
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        user = self.request.user
        queryset = (
            QuotaGroup.objects.filter(unit__in=visible_units(user))
            .select_related("unit")
            .order_by("-period__year", "-period__quarter", "unit__path", "pk")
        )
        if self.action == "list":
            filters = validated_filters(s.QuotaGroupFilterSerializer, self.request)
            if "period" in filters:
                queryset = queryset.filter(period_id=filters["period"])
            if "unit" in filters:
                unit = tenant_unit(user, filters["unit"])
                queryset = queryset.filter(unit__path__startswith=unit.path)
        return queryset

    @extend_schema(
        parameters=[s.QuotaGroupFilterSerializer],
        responses=responses(s.QuotaGroupSerializer(many=True), 400, 401),
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(responses=responses(s.QuotaGroupDetailSerializer, 401, 404))
    def retrieve(self, request, *args, **kwargs):
        group = self.get_object()
        picture = scoring.quota_picture(group)
        return Response(s.QuotaGroupDetailSerializer(group, context={"quota": picture}).data)


# ---------------------------------------------------------------------------------------------
# Evaluations


def _log_rows(evaluation):
    return [
        {
            "action": row.action,
            "role": row.role,
            "from_state": row.from_state,
            "to_state": row.to_state,
            "reason": row.reason,
            "actor": row.actor_id,
            "created_at": row.created_at,
        }
        for row in TransitionLog.objects.filter(evaluation=evaluation).order_by("created_at", "pk")
    ]


TRANSITION_ANSWERS = {
    200: s.EvaluationDetailSerializer,
    **ERRORS,
    409: CONFLICT,
    **IDEMPOTENCY_ERRORS,
}


def transition_schema(request, summary):
    return extend_schema(
        request=request,
        responses=TRANSITION_ANSWERS,
        parameters=[IDEMPOTENCY_PARAMETER],
        summary=summary,
    )


_OWN_COLUMNS = ["id", "tenant_id", "state"]

# Every autosave of the quarter-end surge finds its evaluation so (config/compiled_query.py).
_OWN_EVALUATION = CompiledQuery(
    lambda pk, user_id, tenant_id: Evaluation.objects.filter(
        pk=pk, cadre__user_id=user_id, tenant_id=tenant_id
    ).values_list(*_OWN_COLUMNS)
)


def _own_evaluation(user, pk) -> Evaluation | None:
    """The user's own evaluation with this key, its key, tenant and state only; else None."""
    key = str(pk)
    if user.tenant_id is None or not (key.isascii() and key.isdigit() and 0 < int(key) < 2**63):
        return None
    for values in _OWN_EVALUATION.rows(pk=int(key), user_id=user.pk, tenant_id=user.tenant_id):
        return Evaluation.from_db("default", _OWN_COLUMNS, values)
    return None


@extend_schema(tags=["evaluations"])
class EvaluationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Evaluations the user may see: their own and those under the units they act for."""

    serializer_class = s.EvaluationSerializer
    lookup_value_regex = r"\d+"

    def get_serializer_class(self):
        return s.EvaluationSerializer if self.action == "list" else s.EvaluationDetailSerializer

    def get_queryset(self):
        user = self.request.user
        queryset = visible_evaluations(user).select_related("cadre", "unit", "tenant")
        if self.action != "list":
            return queryset.prefetch_related(
                Prefetch("tasks", queryset=Task.objects.order_by("order", "pk")),
                Prefetch("criterion_scores", queryset=CriterionScore.objects.order_by("order")),
            )
        filters = validated_filters(s.EvaluationFilterSerializer, self.request)
        if filters.get("current", True):
            queryset = queryset.filter(is_current=True)
        if "actionable" in filters:
            queryset = queryset.filter(
                pk__in=actionable_evaluations(user, filters["actionable"]).values("pk")
            )
        for field, lookup in [
            ("period", "period_id"),
            ("state", "state"),
            ("grade", "decided_grade"),
            ("computed_grade", "computed_grade"),
            ("cadre", "cadre_id"),
        ]:
            if field in filters:
                queryset = queryset.filter(**{lookup: filters[field]})
        if "unit" in filters:
            unit = tenant_unit(user, filters["unit"])
            queryset = queryset.filter(unit__path__startswith=unit.path)
        return queryset.order_by("unit__path", "cadre__full_name", "pk")

    def get_object(self):
        if self.request.method in SAFE_METHODS:
            return get_for_user_or_404(
                self.get_queryset(), user=self.request.user, pk=self.kwargs["pk"]
            )
        # A write hands the row to a service that reads it again under a lock, checks the
        # role there and copies what it read into this row: here only the visibility (404) is
        # settled, on the key, the tenant and the state (django-fsm reads it on creation).
        # The cadre's own evaluation, the whole quarter-end surge, is found without reading
        # the user's roles.
        user, pk = self.request.user, self.kwargs["pk"]
        own = _own_evaluation(user, pk)
        if own is not None:
            return own
        visible = visible_evaluations(user).only("pk", "tenant_id", "state")
        return get_for_user_or_404(visible, user=user, pk=pk)

    def answer(
        self, evaluation, serializer=s.EvaluationDetailSerializer, *, reread=True, **context
    ):
        fresh = self.get_queryset().get(pk=evaluation.pk) if reread else evaluation
        return Response(serializer(fresh, context={"request": self.request, **context}).data)

    @extend_schema(
        parameters=[s.EvaluationFilterSerializer],
        responses=responses(s.EvaluationSerializer(many=True), 400, 401),
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(responses=responses(s.EvaluationDetailSerializer, 401, 404))
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(responses=responses(s.TransitionLogSerializer(many=True), 401, 404))
    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        """Who moved the evaluation from which step to which, when and why."""
        evaluation = self.get_object()
        return Response(s.TransitionLogSerializer(_log_rows(evaluation), many=True).data)

    # --- Step 1 ---

    @extend_schema(
        request=s.PlanInput,
        responses={200: s.EvaluationDetailSerializer, **ERRORS, 409: CONFLICT},
        summary=_("Save the draft targets (replaces the whole plan)"),
    )
    @action(detail=True, methods=["put"], url_path="plan")
    def plan(self, request, pk=None):
        evaluation = self.get_object()
        values = self.validated(s.PlanInput)
        saved = services.evaluation_save_plan(
            evaluation=evaluation,
            actor=request.user,
            tasks=[dict(task) for task in values["tasks"]],
            axis_roles=values["axis_roles"],
            expected_version=values.get("expected_version"),
        )
        return self.answer(saved)

    @transition_schema(s.TransitionInput, _("Submit the targets to the direct superior level"))
    @action(detail=True, methods=["post"], url_path="submit-plan")
    @idempotent
    def submit_plan(self, request, pk=None):
        evaluation = self.get_object()
        values = self.validated(s.TransitionInput)
        done = services.evaluation_submit_plan(
            evaluation=evaluation,
            actor=request.user,
            expected_version=values.get("expected_version"),
        )
        return self.answer(done)

    @transition_schema(s.CommentInput, _("Approve the targets (direct superior level)"))
    @action(detail=True, methods=["post"], url_path="approve-plan")
    @idempotent
    def approve_plan(self, request, pk=None):
        evaluation = self.get_object()
        values = self.validated(s.CommentInput)
        done = services.evaluation_approve_plan(
            evaluation=evaluation,
            actor=request.user,
            comment=values["comment"],
            expected_version=values.get("expected_version"),
        )
        return self.answer(done)

    # --- Step 2 ---

    @extend_schema(
        request=s.SelfAssessmentDraftInput,
        responses={200: s.SelfAssessmentDraftResultSerializer, **ERRORS, 409: CONFLICT},
        summary=_("Save the self-assessment draft and get the live score and grade"),
    )
    @action(detail=True, methods=["patch"], url_path="self-assessment")
    def self_assessment(self, request, pk=None):
        evaluation = self.get_object()
        values = self.validated(s.SelfAssessmentDraftInput)
        saved, assessment = services.evaluation_save_self_assessment(
            evaluation=evaluation,
            actor=request.user,
            task_results={k: dict(v) for k, v in values.get("tasks", {}).items()},
            criteria=values.get("criteria"),
            comment=values.get("comment"),
            self_grade=values.get("self_grade"),
            expected_version=values.get("expected_version"),
        )
        # The draft as the service wrote it: read under the lock with its tasks and criteria
        # and changed in memory, so reading it again would give the same (three queries on
        # every autosave of the quarter-end surge).
        return self.answer(
            saved, s.SelfAssessmentDraftResultSerializer, reread=False, assessment=assessment
        )

    @transition_schema(s.SelfAssessInput, _("Submit the self-assessment (Form 5)"))
    @action(detail=True, methods=["post"], url_path="self-assess")
    @idempotent
    def self_assess(self, request, pk=None):
        evaluation = self.get_object()
        values = self.validated(s.SelfAssessInput)
        done = services.evaluation_self_assess(
            evaluation=evaluation,
            actor=request.user,
            confirm_warnings=values["confirm_warnings"],
            expected_version=values.get("expected_version"),
        )
        return self.answer(done, reread=False)  # read with its rows under the lock, as the draft

    # --- Step 3 ---

    @transition_schema(s.VetInput, _("Vet each task and propose a grade (advisory body)"))
    @action(detail=True, methods=["post"])
    @idempotent
    def vet(self, request, pk=None):
        evaluation = self.get_object()
        values = self.validated(s.VetInput)
        done = services.evaluation_vet(
            evaluation=evaluation,
            actor=request.user,
            task_vetting={k: dict(v) for k, v in values["tasks"].items()},
            criteria=values.get("criteria"),
            comment=values["comment"],
            grade=values.get("grade"),
            expected_version=values.get("expected_version"),
        )
        return self.answer(done)

    @transition_schema(s.GradeInput, _("Comment and propose a grade (direct superior level)"))
    @action(detail=True, methods=["post"])
    @idempotent
    def propose(self, request, pk=None):
        evaluation = self.get_object()
        values = self.validated(s.GradeInput)
        done = services.evaluation_propose(
            evaluation=evaluation,
            actor=request.user,
            grade=values["grade"],
            comment=values["comment"],
            expected_version=values.get("expected_version"),
        )
        return self.answer(done)

    # --- Step 4 and 5 ---

    @transition_schema(s.DecideInput, _("Decide the grade (managing authority; R9 quota)"))
    @action(detail=True, methods=["post"])
    @idempotent
    def decide(self, request, pk=None):
        evaluation = self.get_object()
        values = self.validated(s.DecideInput)
        done = services.evaluation_decide(
            evaluation=evaluation,
            actor=request.user,
            grade=values["grade"],
            comment=values["comment"],
            reassignment=values["reassignment"],
            expected_version=values.get("expected_version"),
        )
        return self.answer(done)

    @transition_schema(s.TransitionInput, _("Publish the decided result"))
    @action(detail=True, methods=["post"])
    @idempotent
    def publish(self, request, pk=None):
        evaluation = self.get_object()
        values = self.validated(s.TransitionInput)
        done = services.evaluation_publish(
            evaluation=evaluation,
            actor=request.user,
            expected_version=values.get("expected_version"),
        )
        return self.answer(done)

    # --- Side paths ---

    @transition_schema(s.ReasonInput, _("Return to the previous step, with a reason"))
    @action(detail=True, methods=["post"], url_path="return")
    @idempotent
    def send_back(self, request, pk=None):
        evaluation = self.get_object()
        values = self.validated(s.ReasonInput)
        done = services.evaluation_return(
            evaluation=evaluation,
            actor=request.user,
            reason=values["reason"],
            expected_version=values.get("expected_version"),
        )
        return self.answer(done)

    @transition_schema(s.DeferInput, _("Defer to the next quarter (R11)"))
    @action(detail=True, methods=["post"])
    @idempotent
    def defer(self, request, pk=None):
        evaluation = self.get_object()
        values = self.validated(s.DeferInput)
        done = services.evaluation_defer(
            evaluation=evaluation,
            actor=request.user,
            case=values["case"],
            reason=values["reason"],
            expected_version=values.get("expected_version"),
        )
        return self.answer(done)

    @transition_schema(s.ReasonInput, _("Reopen a decided or published result as a new revision"))
    @action(detail=True, methods=["post"])
    @idempotent
    def reopen(self, request, pk=None):
        evaluation = self.get_object()
        values = self.validated(s.ReasonInput)
        new = services.evaluation_reopen(
            evaluation=evaluation,
            actor=request.user,
            reason=values["reason"],
            expected_version=values.get("expected_version"),
        )
        return self.answer(new)

    def validated(self, serializer_class) -> dict:
        data = serializer_class(data=self.request.data)
        data.is_valid(raise_exception=True)
        return data.validated_data
