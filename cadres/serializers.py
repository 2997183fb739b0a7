"""JSON shapes of the organisation for the REST API; writes go through cadres.services."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from cadres.models import Absence, ApiToken, Assignment, Cadre, Position, Unit


class UnitSerializer(serializers.ModelSerializer):
    class Meta:
        model = Unit
        fields = ["id", "code", "name", "kind", "parent", "path", "depth", "is_active"]
        read_only_fields = fields


class UnitCreateSerializer(serializers.Serializer):
    parent = serializers.IntegerField(min_value=1, help_text=_("The unit to add this one under."))
    code = serializers.CharField(max_length=50)
    name = serializers.CharField(max_length=255)
    kind = serializers.ChoiceField(choices=Unit.Kind.choices)


class UnitMoveSerializer(serializers.Serializer):
    parent = serializers.IntegerField(
        min_value=1, help_text=_("The unit to move this one (and its sub-units) under.")
    )


class UnitFilterSerializer(serializers.Serializer):
    under = serializers.IntegerField(
        required=False, min_value=1, help_text=_("Only this unit and the units under it.")
    )
    parent = serializers.IntegerField(
        required=False, min_value=1, help_text=_("Only the direct sub-units of this unit.")
    )
    kind = serializers.ChoiceField(choices=Unit.Kind.choices, required=False)


class CadreSerializer(serializers.ModelSerializer):
    class Meta:
        model = Cadre
        fields = [
            "id",
            "code",
            "full_name",
            "date_of_birth",
            "party_post",
            "government_post",
            "mass_organisation_post",
            "evaluation_mode",
            "is_active",
            "user",
        ]
        read_only_fields = ["id", "is_active", "user"]
        # Uniqueness of the code in the tenant is checked by the service's full_clean.
        validators = []


class CadreFilterSerializer(serializers.Serializer):
    unit = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text=_("Only cadres who held a post in this unit or under it."),
    )
    search = serializers.CharField(
        required=False, max_length=100, help_text=_("Part of the name or the staff code.")
    )


class PositionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Position
        fields = ["id", "unit", "title", "kind", "collective_role", "is_active"]
        read_only_fields = ["id", "is_active"]
        extra_kwargs = {"unit": {"queryset": Unit.objects.none()}}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and "unit" in self.fields:
            self.fields["unit"].queryset = Unit.objects.filter(
                tenant_id=getattr(request.user, "tenant_id", None)
            )


class PositionFilterSerializer(serializers.Serializer):
    unit = serializers.IntegerField(
        required=False, min_value=1, help_text=_("Only posts in this unit or under it.")
    )


class AssignmentSerializer(serializers.ModelSerializer):
    unit = serializers.IntegerField(source="position.unit_id", read_only=True)

    class Meta:
        model = Assignment
        fields = ["id", "cadre", "position", "unit", "start_date", "end_date", "note"]
        read_only_fields = ["id"]
        extra_kwargs = {
            "cadre": {"queryset": Cadre.objects.none()},
            "position": {"queryset": Position.objects.none()},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            tenant_id = getattr(request.user, "tenant_id", None)
            self.fields["cadre"].queryset = Cadre.objects.filter(tenant_id=tenant_id)
            self.fields["position"].queryset = Position.objects.filter(
                tenant_id=tenant_id
            ).select_related("unit")


class AssignmentFilterSerializer(serializers.Serializer):
    cadre = serializers.IntegerField(required=False, min_value=1)
    unit = serializers.IntegerField(
        required=False, min_value=1, help_text=_("Only posts in this unit or under it.")
    )
    on = serializers.DateField(
        required=False, help_text=_("Only assignments in force on this date (YYYY-MM-DD).")
    )


class AbsenceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Absence
        fields = ["id", "cadre", "kind", "start_date", "end_date", "reason"]
        read_only_fields = ["id"]
        extra_kwargs = {"cadre": {"queryset": Cadre.objects.none()}}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["cadre"].queryset = Cadre.objects.filter(
                tenant_id=getattr(request.user, "tenant_id", None)
            )


class AbsenceFilterSerializer(serializers.Serializer):
    cadre = serializers.IntegerField(required=False, min_value=1)


class ApiTokenSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "name",
            "prefix",
            "user",
            "username",
            "created_at",
            "last_used_at",
            "revoked_at",
        ]
        read_only_fields = fields


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    token = serializers.CharField(
        read_only=True, help_text=_("The token itself: shown this once, never again.")
    )

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "token"]
        read_only_fields = fields


class ApiTokenCreateSerializer(serializers.Serializer):
    name = serializers.CharField(
        max_length=100, help_text=_("The system that will use the token, e.g. “HR system”.")
    )
    user = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text=_("Another account of the organisation (tenant administrators only)."),
    )


class ApiTokenFilterSerializer(serializers.Serializer):
    user = serializers.IntegerField(required=False, min_value=1)
    active = serializers.BooleanField(required=False, allow_null=True, default=None)
