"""REST API of the organisation (units, cadres, posts, assignments, absences, API tokens), and
what every API view shares: one error body, pagination and idempotency keys.

Reads are scoped to the user's tenant first and then to the units their roles cover; writes go
through ``cadres.services`` and are open to the tenant administrator of the unit concerned.
"""

import hashlib
import json
from datetime import timedelta
from functools import wraps

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.decorators import action
from rest_framework.pagination import PageNumberPagination
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

from cadres import serializers as s
from cadres import services
from cadres.authentication import api_token_create, api_token_revoke, is_tenant_administrator
from cadres.models import (
    Absence,
    ApiToken,
    Assignment,
    Cadre,
    IdempotencyKey,
    Position,
    Unit,
    User,
)
from cadres.roles import Role, covers, granted_units, subtree_q
from cadres.selectors import assignments_on, get_for_user_or_404, tenant_scoped

# ---------------------------------------------------------------------------------------------
# Errors: one body for every 4xx answer


class ErrorSerializer(serializers.Serializer):
    """The body of every error answer."""

    status = serializers.IntegerField()
    code = serializers.CharField()
    detail = serializers.CharField()
    errors = serializers.DictField(
        child=serializers.JSONField(),
        required=False,
        help_text=_("Field errors: the field's name, then its messages."),
    )


class ConflictSerializer(ErrorSerializer):
    ranked_candidates = serializers.ListField(
        child=serializers.DictField(),
        required=False,
        help_text=_("R9: the Excellent candidates of the quota group ranked by score."),
    )


def error_response(http_status: int, code: str, detail, errors=None, headers=None, **extra):
    body = {"status": http_status, "code": code, "detail": str(detail)}
    if errors is not None:
        body["errors"] = errors
    body.update(extra)
    return Response(body, status=http_status, headers=headers)


def _first_message(errors) -> str | None:
    if isinstance(errors, dict):
        for value in errors.values():
            found = _first_message(value)
            if found:
                return found
    elif isinstance(errors, list):
        for value in errors:
            found = _first_message(value)
            if found:
                return found
    elif errors:
        return str(errors)
    return None


def exception_handler(exc, context):
    """Field errors → 400, forbidden → 403, not visible → 404, each in the one error body."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=as_serializer_error(exc))
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args[:1])
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        detail = _first_message(errors) or _("The request is not valid.")
        body = error_response(response.status_code, "invalid", detail, errors=errors).data
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else response.data
        code = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        body = error_response(
            response.status_code, code if isinstance(code, str) else "error", detail
        ).data
    response.data = body
    return response


ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description=_("Invalid input, with field errors.")),
    401: OpenApiResponse(ErrorSerializer, description=_("Not signed in, or a bad token.")),
    403: OpenApiResponse(ErrorSerializer, description=_("Visible to you, but not yours to do.")),
    404: OpenApiResponse(ErrorSerializer, description=_("Missing, or not visible to you.")),
}
READ_ERRORS = {code: ERRORS[code] for code in (400, 401, 404)}


def responses(ok, *codes, status_code=200, extra=None):
    """An operation's answers: the success and the listed error codes."""
    answers = {status_code: ok}
    answers.update({code: ERRORS[code] for code in codes})
    answers.update(extra or {})
    return answers


# ---------------------------------------------------------------------------------------------
# Pagination


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


# ---------------------------------------------------------------------------------------------
# Idempotency keys on the transitions

IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_TTL = timedelta(hours=24)
IDEMPOTENCY_PARAMETER = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description=_(
        "Any unique string (a UUID) up to 255 characters. Sending the same key again within "
        "24 hours replays the first answer without acting twice."
    ),
)


class IdempotencyKeyReused(exceptions.APIException):
    status_code = 422
    default_code = "idempotency_key_reused"
    default_detail = _("This Idempotency-Key was already used for a different request.")


IDEMPOTENCY_ERRORS = {
    422: OpenApiResponse(
        ErrorSerializer, description=_("The Idempotency-Key was used for another request.")
    )
}


def _fingerprint(request) -> str:
    body = json.dumps(request.data, sort_keys=True, default=str)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def idempotent(view_method):
    """Store the answer under the user's key and replay it when the key comes again.

    The key row is inserted in the same transaction as the action: a second request with the
    same key waits on the unique index until the first commits, then replays its answer.
    """

    @wraps(view_method)
    def wrapper(self, request, *args, **kwargs):
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if key is None:
            return view_method(self, request, *args, **kwargs)
        key = key.strip()
        if not key or len(key) > 255:
            raise exceptions.ValidationError(
                {IDEMPOTENCY_HEADER: [_("Send a key of 1 to 255 characters.")]}
            )
        fingerprint = _fingerprint(request)
        with transaction.atomic():
            IdempotencyKey.objects.filter(
                user=request.user, key=key, created_at__lt=timezone.now() - IDEMPOTENCY_TTL
            ).delete()
            record, created = IdempotencyKey.objects.get_or_create(
                user=request.user, key=key, defaults={"fingerprint": fingerprint}
            )
            if not created:
                if record.fingerprint != fingerprint:
                    raise IdempotencyKeyReused()
                replay = Response(record.response_body, status=record.response_status)
                replay["Idempotent-Replayed"] = "true"
                return replay
            try:
                response = view_method(self, request, *args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - the handler re-raises what it cannot map
                response = self.handle_exception(exc)
            if response.status_code >= 500:
                transaction.set_rollback(True)
                return response
            record.response_status = response.status_code
            record.response_body = json.loads(JSONRenderer().render(response.data) or b"null")
            record.save(update_fields=["response_status", "response_body"])
        return response

    return wrapper


def idempotency_keys_prune() -> int:
    """Delete the keys older than a day (for a periodic task)."""
    deleted, _rows = IdempotencyKey.objects.filter(
        created_at__lt=timezone.now() - IDEMPOTENCY_TTL
    ).delete()
    return deleted


# ---------------------------------------------------------------------------------------------
# Scoping helpers


def role_units(user) -> list[Unit]:
    """The units on which the user holds any role (each covers its subtree)."""
    return [unit for role in Role for unit in granted_units(user, role)]


def visible_units(user):
    if not user.is_authenticated or user.tenant_id is None:
        return Unit.objects.none()
    return Unit.objects.for_tenant(user.tenant_id).filter(subtree_q(role_units(user)))


def visible_cadres(user):
    """The user's own cadre, and every cadre who held a post under a unit the user acts for."""
    if not user.is_authenticated or user.tenant_id is None:
        return Cadre.objects.none()
    posted = Assignment.objects.filter(cadre=OuterRef("pk")).filter(
        subtree_q(role_units(user), prefix="position__unit__")
    )
    return Cadre.objects.for_tenant(user.tenant_id).filter(Q(user=user) | Q(Exists(posted)))


def require_administrator(user, unit: Unit) -> None:
    if not covers(user, Role.ADMINISTRATOR, unit):
        raise exceptions.PermissionDenied(_("Only the tenant administrator of this unit may."))


def validated_filters(serializer_class, request) -> dict:
    filters = serializer_class(data=request.query_params)
    filters.is_valid(raise_exception=True)
    return {k: v for k, v in filters.validated_data.items() if v is not None}


def subtree_of(user, unit_id: int) -> Unit:
    """A unit named in a filter: it must be one the user sees, or the filter is refused."""
    unit = visible_units(user).filter(pk=unit_id).first()
    if unit is None:
        raise exceptions.ValidationError({"unit": [_("Choose a unit that you act for.")]})
    return unit


class TenantViewSet(viewsets.GenericViewSet):
    pagination_class = Pagination

    def get_object(self):
        return get_for_user_or_404(
            self.get_queryset(), user=self.request.user, pk=self.kwargs["pk"]
        )


# ---------------------------------------------------------------------------------------------
# Units


@extend_schema(tags=["organisation"])
class UnitViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """The tree of units under the roles the user holds, ordered by their path."""

    serializer_class = s.UnitSerializer
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        queryset = visible_units(self.request.user).order_by("path")
        if self.action != "list":
            return queryset
        filters = validated_filters(s.UnitFilterSerializer, self.request)
        if "under" in filters:
            under = subtree_of(self.request.user, filters["under"])
            queryset = queryset.filter(path__startswith=under.path)
        if "parent" in filters:
            queryset = queryset.filter(parent_id=filters["parent"])
        if "kind" in filters:
            queryset = queryset.filter(kind=filters["kind"])
        return queryset

    @extend_schema(
        parameters=[s.UnitFilterSerializer],
        responses=responses(s.UnitSerializer(many=True), 400, 401),
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(responses=responses(s.UnitSerializer, 401, 404))
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        request=s.UnitCreateSerializer,
        responses=responses(s.UnitSerializer, 400, 401, 403, status_code=201),
    )
    def create(self, request):
        data = s.UnitCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        parent = visible_units(request.user).filter(pk=values.pop("parent")).first()
        if parent is None:
            raise exceptions.ValidationError({"parent": [_("Choose a unit that you act for.")]})
        require_administrator(request.user, parent)
        unit = services.unit_create(
            tenant=parent.tenant, parent=parent, actor=request.user, **values
        )
        return Response(s.UnitSerializer(unit).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=s.UnitMoveSerializer, responses=responses(s.UnitSerializer, 400, 401, 403, 404)
    )
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        """Move the unit and its whole subtree under another unit."""
        unit = self.get_object()
        data = s.UnitMoveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        parent = visible_units(request.user).filter(pk=data.validated_data["parent"]).first()
        if parent is None:
            raise exceptions.ValidationError({"parent": [_("Choose a unit that you act for.")]})
        require_administrator(request.user, unit)
        require_administrator(request.user, parent)
        moved = services.unit_move(unit=unit, new_parent=parent, actor=request.user)
        return Response(s.UnitSerializer(moved).data)


# ---------------------------------------------------------------------------------------------
# Cadres, posts, assignments, absences


@extend_schema(tags=["organisation"])
class CadreViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Cadres of the units the user acts for, and the user's own record."""

    serializer_class = s.CadreSerializer
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        queryset = visible_cadres(self.request.user).order_by("full_name", "pk")
        if self.action != "list":
            return queryset
        filters = validated_filters(s.CadreFilterSerializer, self.request)
        if "unit" in filters:
            unit = subtree_of(self.request.user, filters["unit"])
            queryset = queryset.filter(
                Exists(
                    Assignment.objects.filter(
                        cadre=OuterRef("pk"), position__unit__path__startswith=unit.path
                    )
                )
            )
        if filters.get("search"):
            term = filters["search"]
            queryset = queryset.filter(Q(full_name__icontains=term) | Q(code__iexact=term))
        return queryset

    @extend_schema(
        parameters=[s.CadreFilterSerializer],
        responses=responses(s.CadreSerializer(many=True), 400, 401),
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(responses=responses(s.CadreSerializer, 401, 404))
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(responses=responses(s.CadreSerializer, 400, 401, 403, status_code=201))
    def create(self, request):
        """Add a cadre to the organisation (tenant administrators)."""
        if not is_tenant_administrator(request.user):
            raise exceptions.PermissionDenied(_("Only a tenant administrator may add cadres."))
        data = s.CadreSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        cadre = services.cadre_create(
            tenant=request.user.tenant, actor=request.user, **data.validated_data
        )
        return Response(s.CadreSerializer(cadre).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["organisation"])
class PositionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Posts in the units the user acts for."""

    serializer_class = s.PositionSerializer
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        user = self.request.user
        if not user.is_authenticated or user.tenant_id is None:
            return Position.objects.none()
        queryset = (
            Position.objects.for_tenant(user.tenant_id)
            .filter(subtree_q(role_units(user), prefix="unit__"))
            .order_by("unit__path", "title", "pk")
        )
        if self.action == "list":
            filters = validated_filters(s.PositionFilterSerializer, self.request)
            if "unit" in filters:
                unit = subtree_of(user, filters["unit"])
                queryset = queryset.filter(unit__path__startswith=unit.path)
        return queryset

    @extend_schema(
        parameters=[s.PositionFilterSerializer],
        responses=responses(s.PositionSerializer(many=True), 400, 401),
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(responses=responses(s.PositionSerializer, 401, 404))
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(responses=responses(s.PositionSerializer, 400, 401, 403, status_code=201))
    def create(self, request):
        data = s.PositionSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        values = data.validated_data
        require_administrator(request.user, values["unit"])
        position = services.position_create(**values)
        return Response(s.PositionSerializer(position).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["organisation"])
class AssignmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Who held which post when (R11, R12), in the units the user acts for."""

    serializer_class = s.AssignmentSerializer
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        user = self.request.user
        if not user.is_authenticated or user.tenant_id is None:
            return Assignment.objects.none()
        queryset = (
            Assignment.objects.for_tenant(user.tenant_id)
            .filter(subtree_q(role_units(user), prefix="position__unit__") | Q(cadre__user=user))
            .select_related("position")
            .order_by("cadre_id", "-start_date", "pk")
        )
        if self.action != "list":
            return queryset
        filters = validated_filters(s.AssignmentFilterSerializer, self.request)
        if "cadre" in filters:
            queryset = queryset.filter(cadre_id=filters["cadre"])
        if "unit" in filters:
            unit = subtree_of(user, filters["unit"])
            queryset = queryset.filter(position__unit__path__startswith=unit.path)
        if "on" in filters:
            queryset = queryset.filter(
                pk__in=assignments_on(filters["on"], tenant_id=user.tenant_id).values("pk")
            )
        return queryset

    @extend_schema(
        parameters=[s.AssignmentFilterSerializer],
        responses=responses(s.AssignmentSerializer(many=True), 400, 401),
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(responses=responses(s.AssignmentSerializer, 401, 404))
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(responses=responses(s.AssignmentSerializer, 400, 401, 403, status_code=201))
    def create(self, request):
        data = s.AssignmentSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        values = data.validated_data
        require_administrator(request.user, values["position"].unit)
        assignment = services.assignment_create(actor=request.user, **values)
        return Response(s.AssignmentSerializer(assignment).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["organisation"])
class AbsenceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Training, leave and inspections (R11) of the cadres the user sees."""

    serializer_class = s.AbsenceSerializer
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        user = self.request.user
        queryset = Absence.objects.filter(cadre__in=visible_cadres(user)).order_by(
            "cadre_id", "start_date", "pk"
        )
        if self.action == "list":
            filters = validated_filters(s.AbsenceFilterSerializer, self.request)
            if "cadre" in filters:
                queryset = queryset.filter(cadre_id=filters["cadre"])
        return queryset

    @extend_schema(
        parameters=[s.AbsenceFilterSerializer],
        responses=responses(s.AbsenceSerializer(many=True), 400, 401),
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(responses=responses(s.AbsenceSerializer, 401, 404))
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(responses=responses(s.AbsenceSerializer, 400, 401, 403, status_code=201))
    def create(self, request):
        """Record an absence for a cadre posted under a unit the user administers."""
        data = s.AbsenceSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        values = data.validated_data
        administered = granted_units(request.user, Role.ADMINISTRATOR)
        if (
            not Assignment.objects.filter(cadre=values["cadre"])
            .filter(subtree_q(administered, prefix="position__unit__"))
            .exists()
        ):
            raise exceptions.PermissionDenied(
                _("Only the tenant administrator of the cadre's unit may.")
            )
        absence = services.absence_create(actor=request.user, **values)
        return Response(s.AbsenceSerializer(absence).data, status=status.HTTP_201_CREATED)


# ---------------------------------------------------------------------------------------------
# API tokens


@extend_schema(tags=["tokens"])
class ApiTokenViewSet(mixins.ListModelMixin, TenantViewSet):
    """The user's own tokens; a tenant administrator sees and manages every account's.

    Only a signed-in browser session manages tokens: a token cannot mint or revoke tokens,
    so a leaked one cannot outlive its own revocation.
    """

    serializer_class = s.ApiTokenSerializer
    authentication_classes = [SessionAuthentication]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        user = self.request.user
        queryset = ApiToken.objects.select_related("user")
        if is_tenant_administrator(user):
            queryset = queryset.filter(user__tenant_id=user.tenant_id)
        else:
            queryset = queryset.filter(user=user)
        if self.action == "list":
            filters = validated_filters(s.ApiTokenFilterSerializer, self.request)
            if "user" in filters:
                queryset = queryset.filter(user_id=filters["user"])
            if filters.get("active") is not None:
                queryset = queryset.filter(revoked_at__isnull=filters["active"])
        return queryset

    def get_object(self):
        try:
            return self.get_queryset().get(pk=self.kwargs["pk"])
        except (ApiToken.DoesNotExist, ValueError) as exc:
            raise Http404 from exc

    @extend_schema(
        parameters=[s.ApiTokenFilterSerializer],
        responses=responses(s.ApiTokenSerializer(many=True), 400, 401),
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request=s.ApiTokenCreateSerializer,
        responses=responses(s.ApiTokenCreatedSerializer, 400, 401, 403, status_code=201),
    )
    def create(self, request):
        """Issue a token; the answer is the only time the token itself is shown."""
        data = s.ApiTokenCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        owner = request.user
        if "user" in data.validated_data:
            owner = (
                tenant_scoped(User.objects.all(), request.user)
                .filter(pk=data.validated_data["user"])
                .first()
            )
            if owner is None:
                raise exceptions.ValidationError({"user": [_("Choose an account of yours.")]})
        token, raw = api_token_create(
            user=owner, actor=request.user, name=data.validated_data["name"]
        )
        token.token = raw
        return Response(s.ApiTokenCreatedSerializer(token).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=responses(s.ApiTokenSerializer, 401, 403, 404))
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        """Revoke the token at once; it is kept, revoked, for the record."""
        token = api_token_revoke(token=self.get_object(), actor=request.user)
        return Response(s.ApiTokenSerializer(token).data)
