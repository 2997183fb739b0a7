"""Django admin for the evaluation models, scoped to the administrator's tenant.

The workflow itself happens in the screens and the API through the services; the admin shows
evaluations read-only so that no state or score is changed behind the audit log.
"""

from django.contrib import admin

from cadres.admin import TenantScopedAdmin
from evaluation.models import (
    CatalogueItem,
    CatalogueVersion,
    Collective,
    CollectiveTarget,
    Discrepancy,
    Evaluation,
    Notification,
    Period,
    PublishedResult,
    QuotaGroup,
    RuleSetVersion,
    ScoreChange,
    SuspensionProposal,
    Task,
    TransitionLog,
)


class ReadOnlyAdmin(TenantScopedAdmin):
    """Records that only the services write (the audit trail and the workflow's rows)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Period)
class PeriodAdmin(TenantScopedAdmin):
    list_display = ["__str__", "status", "start_date", "end_date", "report_deadline"]
    list_filter = ["status", "year"]


@admin.register(RuleSetVersion)
class RuleSetVersionAdmin(TenantScopedAdmin):
    list_display = ["version", "effective_from"]


class TaskInline(admin.TabularInline):
    model = Task
    fields = ["title", "axis", "weight", "deadline", "status", "progress", "quality_level"]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Evaluation)
class EvaluationAdmin(ReadOnlyAdmin):
    list_display = ["cadre", "period", "unit", "state", "revision", "decided_grade"]
    list_filter = ["state", "decided_grade", "period__year", "period__quarter"]
    list_select_related = ["cadre", "period", "unit"]
    search_fields = ["cadre__full_name", "cadre__code"]
    inlines = [TaskInline]


@admin.register(TransitionLog)
class TransitionLogAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "evaluation", "actor", "role", "from_state", "to_state"]
    list_filter = ["action", "role"]
    list_select_related = ["evaluation__cadre", "evaluation__period", "actor"]


@admin.register(ScoreChange)
class ScoreChangeAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "evaluation", "actor", "field", "old_value", "new_value"]
    list_select_related = ["evaluation__cadre", "evaluation__period", "actor"]


@admin.register(PublishedResult)
class PublishedResultAdmin(ReadOnlyAdmin):
    list_display = ["cadre", "period", "revision", "grade", "score", "published_at"]
    list_select_related = ["cadre", "period"]


@admin.register(Discrepancy)
class DiscrepancyAdmin(ReadOnlyAdmin):
    list_display = ["evaluation", "proposer", "proposed_grade", "decided_grade", "created_at"]
    list_select_related = ["evaluation__cadre", "evaluation__period", "proposer"]


@admin.register(QuotaGroup)
class QuotaGroupAdmin(TenantScopedAdmin):
    list_display = ["unit", "period", "percent", "exceeded_at"]
    list_select_related = ["unit", "period"]
    readonly_fields = ["exceeded_at", "ranked_candidates"]


class CollectiveTargetInline(admin.TabularInline):
    model = CollectiveTarget
    extra = 0
    exclude = ["tenant"]


@admin.register(Collective)
class CollectiveAdmin(ReadOnlyAdmin):
    list_display = ["unit", "period", "completion_percent", "graded_at"]
    list_select_related = ["unit", "period"]
    inlines = [CollectiveTargetInline]


class CatalogueItemInline(admin.TabularInline):
    model = CatalogueItem
    extra = 0
    exclude = ["tenant"]


@admin.register(CatalogueVersion)
class CatalogueVersionAdmin(ReadOnlyAdmin):
    list_display = ["number", "status", "approved_at"]
    inlines = [CatalogueItemInline]


@admin.register(SuspensionProposal)
class SuspensionProposalAdmin(ReadOnlyAdmin):
    list_display = ["cadre", "proposed_by", "status", "created_at"]
    list_select_related = ["cadre", "proposed_by"]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["recipient", "kind", "created_at", "read_at"]
    list_select_related = ["recipient"]
