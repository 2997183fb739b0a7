"""Django admin for every model, scoped to the tenant of a tenant administrator."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from guardian.admin import GuardedModelAdmin

from cadres.models import (
    Absence,
    Assignment,
    AuditEntry,
    Cadre,
    Position,
    Tenant,
    TenantSecurity,
    Unit,
    UnitUserPermission,
    User,
)
from cadres.selectors import tenant_scoped


class TenantScopedAdmin(admin.ModelAdmin):
    """Superusers see every tenant; anyone else sees and writes only their own tenant's rows."""

    def get_queryset(self, request):
        return tenant_scoped(super().get_queryset(request), request.user)

    def get_exclude(self, request, obj=None):
        exclude = list(super().get_exclude(request, obj) or [])
        if not request.user.is_superuser:
            exclude.append("tenant")
        return exclude

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        related = db_field.related_model
        if related is Tenant and not request.user.is_superuser:
            kwargs["queryset"] = Tenant.objects.filter(pk=request.user.tenant_id)
        elif any(f.name == "tenant" for f in related._meta.fields):
            kwargs["queryset"] = tenant_scoped(related._default_manager.all(), request.user)
        elif related is User:
            kwargs["queryset"] = tenant_scoped(User.objects.all(), request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_object(self, request, object_id, from_field=None):
        # Another tenant's id is answered like a missing one: 404, not a redirect.
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404
        return obj

    def save_model(self, request, obj, form, change):
        if not request.user.is_superuser:
            obj.tenant_id = request.user.tenant_id
        super().save_model(request, obj, form, change)


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "kind"]
    search_fields = ["name", "code"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(pk=request.user.tenant_id)


@admin.register(User)
class UserAdmin(TenantScopedAdmin, BaseUserAdmin):
    list_display = ["username", "first_name", "last_name", "tenant", "is_active"]
    list_filter = ["is_active", "is_staff"]
    fieldsets = BaseUserAdmin.fieldsets + (
        (_("Organisation"), {"fields": ("tenant", "is_central_observer")}),
    )

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser:
            return fieldsets
        # Tenant administrators manage accounts, not platform-wide privileges.
        hidden = {"tenant", "is_central_observer", "is_superuser", "user_permissions", "groups"}
        return [
            (name, {**opts, "fields": [f for f in opts["fields"] if f not in hidden]})
            for name, opts in fieldsets
        ]


@admin.register(Unit)
class UnitAdmin(TenantScopedAdmin, GuardedModelAdmin):
    list_display = ["name", "code", "kind", "depth", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "code"]
    readonly_fields = ["path", "depth"]


@admin.register(Cadre)
class CadreAdmin(TenantScopedAdmin):
    list_display = ["full_name", "code", "government_post", "evaluation_mode", "is_active"]
    list_filter = ["evaluation_mode", "is_active"]
    search_fields = ["full_name", "code"]
    raw_id_fields = ["user"]


@admin.register(Position)
class PositionAdmin(TenantScopedAdmin):
    list_display = ["title", "unit", "kind", "collective_role", "is_active"]
    list_filter = ["kind", "collective_role"]
    list_select_related = ["unit"]
    search_fields = ["title", "unit__name"]


@admin.register(Assignment)
class AssignmentAdmin(TenantScopedAdmin):
    list_display = ["cadre", "position", "start_date", "end_date"]
    list_select_related = ["cadre", "position__unit"]
    search_fields = ["cadre__full_name"]


@admin.register(Absence)
class AbsenceAdmin(TenantScopedAdmin):
    list_display = ["cadre", "kind", "start_date", "end_date"]
    list_filter = ["kind"]
    list_select_related = ["cadre"]


@admin.register(UnitUserPermission)
class RoleGrantAdmin(admin.ModelAdmin):
    list_display = ["user", "permission", "content_object"]
    list_select_related = ["user", "permission", "content_object"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(content_object__tenant_id=request.user.tenant_id)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            kwargs["queryset"] = tenant_scoped(User.objects.all(), request.user)
        elif db_field.name == "content_object":
            kwargs["queryset"] = tenant_scoped(Unit.objects.all(), request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(AuditEntry)
class AuditEntryAdmin(TenantScopedAdmin):
    list_display = ["created_at", "actor", "action", "object_repr"]
    list_filter = ["action"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TenantSecurity)
class TenantSecurityAdmin(admin.ModelAdmin):
    """Whether the tenant requires a one-time code; saved through the audited service."""

    list_display = ["tenant", "require_totp"]
    fields = ["tenant", "require_totp"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(tenant_id=request.user.tenant_id)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "tenant" and not request.user.is_superuser:
            kwargs["queryset"] = Tenant.objects.filter(pk=request.user.tenant_id)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        from cadres.security import tenant_security_set

        tenant_security_set(tenant=obj.tenant, actor=request.user, require_totp=obj.require_totp)
