from django.contrib import admin

from cadres.admin import TenantScopedAdmin
from evaluation.models import Period, RuleSetVersion


@admin.register(Period)
class PeriodAdmin(TenantScopedAdmin):
    list_display = ["__str__", "status", "start_date", "end_date", "report_deadline"]
    list_filter = ["status", "year"]


@admin.register(RuleSetVersion)
class RuleSetVersionAdmin(TenantScopedAdmin):
    list_display = ["version", "effective_from"]
