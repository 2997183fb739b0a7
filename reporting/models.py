"""Exports kept for download: workbooks, the report to the level above, batches of Form 5."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cadres.models import TenantOwned


class Export(TenantOwned):
    """A file built by a background job, with its progress; kept and listed once done."""

    class Kind(models.TextChoices):
        UNIT_SUMMARY = "unit_summary", _("Quarterly summary of a unit (Excel)")
        TENANT_REPORT = "tenant_report", _("Quarterly report to the level above (Excel)")
        FORM5_BATCH = "form5_batch", _("Form 5 of every cadre of a unit (zip of PDF)")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Running")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    file = models.FileField(_("file"), upload_to="exports/%Y/%m/", blank=True)
    filename = models.CharField(_("file name"), max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(progress__gte=0, progress__lte=100), name="export_progress_0_100"
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "created_by", "-created_at"], name="export_owner_time")
        ]

    def __str__(self):
        return f"{self.get_kind_display()} — {self.created_at:%d/%m/%Y %H:%M}"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)
