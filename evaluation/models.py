"""Periods (quarters), rule sets, and the evaluation of each cadre through the five steps."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cadres.models import TenantOwned


class RuleSetVersion(TenantOwned):
    """A tenant's rule set in force from a date; a quarter uses the one in force at its start."""

    version = models.CharField(_("version"), max_length=50)
    effective_from = models.DateField(_("effective from"))
    params = models.JSONField(_("parameters"), default=dict)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("rule set")
        verbose_name_plural = _("rule sets")
        ordering = ["tenant", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "effective_from"], name="one_rule_set_per_start_date"
            ),
            models.UniqueConstraint(fields=["tenant", "version"], name="rule_set_version_unique"),
        ]

    def __str__(self):
        return f"{self.version} ({self.effective_from:%d/%m/%Y})"


class Period(TenantOwned):
    """One quarter of one tenant, with the deadline of each step and of the report (R16)."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    year = models.PositiveSmallIntegerField(_("year"))
    quarter = models.PositiveSmallIntegerField(_("quarter"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.OPEN
    )
    start_date = models.DateField(_("first day"))
    end_date = models.DateField(_("last day"))
    plan_deadline = models.DateField(_("targets due"))
    self_assessment_deadline = models.DateField(_("self-assessments due"))
    vetting_deadline = models.DateField(_("vetting due"))
    proposal_deadline = models.DateField(_("proposals due"))
    decision_deadline = models.DateField(_("decisions due"))
    report_deadline = models.DateField(_("report to the level above due"))
    opened_at = models.DateTimeField(_("opened at"), null=True, blank=True)

    class Meta:
        verbose_name = _("period")
        verbose_name_plural = _("periods")
        ordering = ["tenant", "-year", "-quarter"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "year", "quarter"], name="one_period_per_quarter"
            ),
            models.CheckConstraint(
                condition=Q(quarter__gte=1, quarter__lte=4), name="quarter_between_1_and_4"
            ),
            models.CheckConstraint(
                condition=Q(year__gte=2000, year__lte=2100), name="period_year_in_range"
            ),
        ]

    def __str__(self):
        return _("Quarter %(quarter)s/%(year)s") % {"quarter": self.quarter, "year": self.year}
