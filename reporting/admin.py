"""Django admin for exports: read-only, scoped to the administrator's tenant."""

from django.contrib import admin

from cadres.admin import TenantScopedAdmin
from reporting.models import Export


@admin.register(Export)
class ExportAdmin(TenantScopedAdmin):
    list_display = ["__str__", "kind", "status", "progress", "created_by", "created_at"]
    list_filter = ["kind", "status"]
    readonly_fields = [
        "kind",
        "parameters",
        "status",
        "progress",
        "file",
        "filename",
        "created_by",
        "created_at",
        "finished_at",
        "error",
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
