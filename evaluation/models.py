"""Periods (quarters), rule sets, and the evaluation of each cadre through the five steps."""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import RETURN_VALUE, ConcurrentTransitionMixin, FSMField, transition

from cadres.models import Position, TenantOwned
from evaluation.rules import Grade


class RuleSetVersion(TenantOwned):
    """A tenant's rule set in force from a date; a quarter uses the one in force at its start."""

    version = models.CharField(_("version"), max_length=50)
    effective_from = models.DateField(_("effective from"))
    params = models.JSONField(_("parameters"), default=dict)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("rule set")
        verbose_name_plural = _("rule sets")
        ordering = ["-effective_from"]
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
        ordering = ["-year", "-quarter"]
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


class EvaluationState(models.TextChoices):
    PLANNING = "planning", _("Planning targets")
    PLAN_SUBMITTED = "plan_submitted", _("Targets submitted")
    PLAN_APPROVED = "plan_approved", _("Targets approved")
    SELF_ASSESSED = "self_assessed", _("Self-assessed")
    VETTED = "vetted", _("Vetted")
    PROPOSED = "proposed", _("Grade proposed")
    DECIDED = "decided", _("Grade decided")
    PUBLISHED = "published", _("Published")
    DEFERRED = "deferred", _("Deferred to the next quarter")


AXIS_CHOICES = [
    (1, _("1. Socio-economic development and assigned political tasks")),
    (2, _("2. Institutions, decentralisation, inspection and supervision")),
    (3, _("3. Science, technology, innovation and digital transformation")),
    (4, _("4. Party building, unity, fighting corruption, waste and negativity")),
    (5, _("5. Culture, people, social security and living standards")),
    (6, _("6. Defence, security, political stability, foreign affairs and integration")),
]
QUALITY_LEVELS = [
    (1, _("1 — effective: tackled the problem, concrete results")),
    (2, _("2 — basic: meets the requirement with shortcomings")),
    (3, _("3 — unmet: does not meet the requirement")),
]

# Where "return" sends an evaluation: back to the actor of the previous step.
RETURN_TARGETS = {
    EvaluationState.PLAN_SUBMITTED: EvaluationState.PLANNING,
    EvaluationState.SELF_ASSESSED: EvaluationState.PLAN_APPROVED,
    EvaluationState.VETTED: EvaluationState.SELF_ASSESSED,
    EvaluationState.PROPOSED: EvaluationState.VETTED,
}

GRADE_CHOICES = Grade.choices
SCORE = {"max_digits": 4, "decimal_places": 1, "null": True, "blank": True}


def _score_range(field: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__gte": 0, f"{field}__lte": 100}),
        name=f"evaluation_{field}_0_100",
    )


class QuotaGroup(TenantOwned):
    """Cadres whose Excellent grades share one quota (R9), by default one unit's cadres."""

    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="quota_groups")
    unit = models.ForeignKey("cadres.Unit", on_delete=models.PROTECT, related_name="+")
    percent = models.PositiveSmallIntegerField(_("Excellent quota (%)"), default=20)
    raise_reason = models.CharField(_("reason for raising the quota"), max_length=500, blank=True)
    exceeded_at = models.DateTimeField(_("proposals over the quota since"), null=True, blank=True)
    ranked_candidates = models.JSONField(_("ranked candidates"), default=list, blank=True)

    class Meta:
        verbose_name = _("quota group")
        verbose_name_plural = _("quota groups")
        constraints = [
            models.UniqueConstraint(fields=["period", "unit"], name="one_quota_group_per_unit"),
            models.CheckConstraint(
                condition=Q(percent__in=[20, 25]), name="quota_percent_20_or_25"
            ),
        ]

    def __str__(self):
        return f"{self.unit} — {self.period}"


class Evaluation(ConcurrentTransitionMixin, TenantOwned):
    """One cadre's evaluation for one quarter; a reopened result is a new revision."""

    period = models.ForeignKey(
        Period, verbose_name=_("period"), on_delete=models.PROTECT, related_name="evaluations"
    )
    cadre = models.ForeignKey(
        "cadres.Cadre",
        verbose_name=_("cadre"),
        on_delete=models.PROTECT,
        related_name="evaluations",
    )
    unit = models.ForeignKey(
        "cadres.Unit",
        verbose_name=_("grading unit"),
        on_delete=models.PROTECT,
        related_name="evaluations",
    )
    collective_role = models.CharField(
        _("role in the collective"), max_length=16, choices=Position.CollectiveRole.choices
    )
    quota_group = models.ForeignKey(
        QuotaGroup, on_delete=models.PROTECT, null=True, blank=True, related_name="evaluations"
    )
    state = FSMField(
        _("state"),
        max_length=20,
        choices=EvaluationState.choices,
        default=EvaluationState.PLANNING,
        protected=True,
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    revision = models.PositiveSmallIntegerField(_("revision"), default=1)
    previous_revision = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="next_revision"
    )
    is_current = models.BooleanField(_("current revision"), default=True)
    carried_over_from = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="carried_into"
    )
    axis_roles = models.JSONField(_("primary and secondary axes"), default=dict, blank=True)

    # Step 2: self-assessment (Form 5).
    self_comment = models.TextField(_("self-assessment"), blank=True)
    self_score = models.DecimalField(_("self-score"), **SCORE)
    self_grade = models.CharField(
        _("self-proposed grade"), max_length=16, choices=GRADE_CHOICES, blank=True
    )
    self_assessed_at = models.DateTimeField(null=True, blank=True)
    # Step 3a: vetting by the personnel advisory body.
    vetting_comment = models.TextField(_("vetting comment"), blank=True)
    vetted_score = models.DecimalField(_("vetted score"), **SCORE)
    vetted_grade = models.CharField(
        _("grade proposed by the vetting"), max_length=16, choices=GRADE_CHOICES, blank=True
    )
    vetted_by = models.ForeignKey(
        "cadres.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    vetted_at = models.DateTimeField(null=True, blank=True)
    # Step 3b: proposal by the direct superior level.
    proposal_comment = models.TextField(_("comment of the direct superior level"), blank=True)
    proposed_grade = models.CharField(
        _("proposed grade"), max_length=16, choices=GRADE_CHOICES, blank=True
    )
    proposed_by = models.ForeignKey(
        "cadres.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    proposed_at = models.DateTimeField(null=True, blank=True)
    # Step 4: decision by the managing authority.
    decision_comment = models.TextField(_("comment of the managing authority"), blank=True)
    decided_grade = models.CharField(
        _("decided grade"), max_length=16, choices=GRADE_CHOICES, blank=True
    )
    decided_by = models.ForeignKey(
        "cadres.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reassignment_flag = models.BooleanField(_("consider reassignment"), default=False)
    # Step 5: publication.
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        "cadres.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # What the rules module computed at the latest step, with its reasons.
    computed_score = models.DecimalField(_("computed score"), **SCORE)
    computed_grade = models.CharField(
        _("computed grade"), max_length=16, choices=GRADE_CHOICES, blank=True
    )
    computed_reasons = models.JSONField(default=list, blank=True)
    # R6 facts and R11 deferral, R12 previous unit's comment.
    discipline_note = models.CharField(
        _("discipline (reprimand or above) or degradation found"), max_length=500, blank=True
    )
    deferral_case = models.CharField(_("deferral case"), max_length=32, blank=True)
    deferral_reason = models.CharField(_("deferral reason"), max_length=500, blank=True)
    previous_unit_comment = models.TextField(_("comment of the previous unit"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("evaluation")
        verbose_name_plural = _("evaluations")
        constraints = [
            models.UniqueConstraint(
                fields=["cadre", "period"],
                condition=Q(is_current=True),
                name="one_current_evaluation_per_cadre_and_period",
            ),
            models.UniqueConstraint(
                fields=["cadre", "period", "revision"], name="evaluation_revision_unique"
            ),
            _score_range("self_score"),
            _score_range("vetted_score"),
            _score_range("computed_score"),
        ]
        indexes = [
            models.Index(fields=["tenant", "period", "state"], name="evaluation_period_state"),
            models.Index(fields=["tenant", "period", "unit"], name="evaluation_period_unit"),
            models.Index(fields=["quota_group", "state"], name="evaluation_quota_state"),
            models.Index(fields=["tenant", "cadre", "period"], name="evaluation_cadre"),
            # Inboxes and queues filter a subtree's units by state across the open quarters.
            models.Index(
                fields=["tenant", "unit", "state"],
                condition=Q(is_current=True),
                name="evaluation_unit_state",
            ),
        ]

    def __str__(self):
        return f"{self.cadre} — {self.period}"

    # The transitions change the state only; services lock, check, log and notify.
    @transition(state, EvaluationState.PLANNING, EvaluationState.PLAN_SUBMITTED)
    def submit_plan(self):
        pass

    @transition(state, EvaluationState.PLAN_SUBMITTED, EvaluationState.PLAN_APPROVED)
    def approve_plan(self):
        pass

    @transition(state, EvaluationState.PLAN_APPROVED, EvaluationState.SELF_ASSESSED)
    def self_assess(self):
        pass

    @transition(state, EvaluationState.SELF_ASSESSED, EvaluationState.VETTED)
    def vet(self):
        pass

    @transition(state, EvaluationState.VETTED, EvaluationState.PROPOSED)
    def propose(self):
        pass

    @transition(state, EvaluationState.PROPOSED, EvaluationState.DECIDED)
    def decide(self):
        pass

    @transition(state, EvaluationState.DECIDED, EvaluationState.PUBLISHED)
    def publish(self):
        pass

    @transition(
        state,
        source=list(RETURN_TARGETS),
        target=RETURN_VALUE(*set(RETURN_TARGETS.values())),
    )
    def send_back(self):
        return RETURN_TARGETS[self.state]

    @transition(
        state,
        source=[
            EvaluationState.PLANNING,
            EvaluationState.PLAN_SUBMITTED,
            EvaluationState.PLAN_APPROVED,
            EvaluationState.SELF_ASSESSED,
            EvaluationState.VETTED,
            EvaluationState.PROPOSED,
        ],
        target=EvaluationState.DEFERRED,
    )
    def defer(self):
        pass

    @property
    def final_grade(self) -> str:
        return self.decided_grade


class Task(TenantOwned):
    """A target for the quarter: "six clear" and one primary responsible cadre [G §1.2]."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Not yet reported")
        DONE = "done", _("Done")
        NOT_DONE = "not_done", _("Not done")
        FORCE_MAJEURE = "force_majeure", _("Not done: force majeure claimed")

    class Progress(models.TextChoices):
        ON_TIME = "on_time", _("On time")
        LATE = "late", _("Late")
        NOT_DONE = "not_done", _("Not done")

    class ForceMajeure(models.TextChoices):
        NONE = "", _("Not claimed")
        CONFIRMED = "confirmed", _("Confirmed")
        REFUSED = "refused", _("Refused")

    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE, related_name="tasks")
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    objective = models.CharField(_("objective"), max_length=500, blank=True)
    title = models.CharField(_("task"), max_length=500)
    expected_product = models.CharField(_("expected product"), max_length=500, blank=True)
    axis = models.PositiveSmallIntegerField(
        _("result axis"), null=True, blank=True, choices=AXIS_CHOICES
    )
    weight = models.DecimalField(
        _("weight (%)"),
        max_digits=5,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    primary_responsible = models.ForeignKey(
        "cadres.Cadre",
        verbose_name=_("primary responsible cadre"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    responsibility = models.CharField(_("responsibility"), max_length=255, blank=True)
    accepting_authority = models.CharField(
        _("authority that accepts the product"), max_length=255, blank=True
    )
    deadline = models.DateField(_("deadline"), null=True, blank=True)
    catalogue_item = models.ForeignKey(
        "evaluation.CatalogueItem",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    difficulty = models.DecimalField(
        _("difficulty coefficient"),
        max_digits=3,
        decimal_places=2,
        default=1,
        validators=[MinValueValidator(Decimal("0.1"))],
    )
    carried_over_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Self-assessment.
    status = models.CharField(
        _("result"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    completed_on = models.DateField(_("completed on"), null=True, blank=True)
    exceeded = models.BooleanField(_("exceeded the target"), default=False)
    force_majeure_reason = models.CharField(_("force majeure reason"), max_length=500, blank=True)
    evidence = models.TextField(_("evidence"), blank=True)
    evidence_file = models.FileField(_("evidence file"), upload_to="evidence/%Y/", blank=True)
    self_quality_level = models.PositiveSmallIntegerField(
        _("self-assessed quality level"), null=True, blank=True, choices=QUALITY_LEVELS
    )
    # Vetting.
    progress = models.CharField(_("progress"), max_length=16, choices=Progress.choices, blank=True)
    quality_level = models.PositiveSmallIntegerField(
        _("output quality level"), null=True, blank=True, choices=QUALITY_LEVELS
    )
    difficulty_scope = models.CharField(_("difficulty and scope"), max_length=500, blank=True)
    force_majeure_decision = models.CharField(
        _("force majeure"), max_length=16, choices=ForceMajeure.choices, blank=True, default=""
    )
    force_majeure_decision_reason = models.CharField(
        _("reason for the force majeure decision"), max_length=500, blank=True
    )

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["evaluation", "order", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(axis__isnull=True) | Q(axis__gte=1, axis__lte=6),
                name="task_axis_1_to_6",
            ),
            models.CheckConstraint(
                condition=Q(weight__gte=0, weight__lte=100), name="task_weight_0_100"
            ),
            models.CheckConstraint(
                condition=Q(quality_level__isnull=True) | Q(quality_level__in=[1, 2, 3]),
                name="task_quality_level_1_2_3",
            ),
            models.CheckConstraint(
                condition=Q(self_quality_level__isnull=True) | Q(self_quality_level__in=[1, 2, 3]),
                name="task_self_quality_level_1_2_3",
            ),
            models.CheckConstraint(condition=Q(difficulty__gt=0), name="task_difficulty_positive"),
        ]

    def __str__(self):
        return self.title


class CriterionScore(TenantOwned):
    """Points on one general criterion (part A of Form 5, 30 points in all, R1)."""

    evaluation = models.ForeignKey(
        Evaluation, on_delete=models.CASCADE, related_name="criterion_scores"
    )
    code = models.CharField(_("code"), max_length=50)
    name = models.CharField(_("criterion"), max_length=255)
    max_points = models.DecimalField(_("maximum"), max_digits=4, decimal_places=1)
    self_points = models.DecimalField(_("self-score"), max_digits=4, decimal_places=1, null=True)
    vetted_points = models.DecimalField(
        _("vetted score"), max_digits=4, decimal_places=1, null=True
    )
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("general criterion score")
        verbose_name_plural = _("general criterion scores")
        ordering = ["evaluation", "order"]
        constraints = [
            models.UniqueConstraint(fields=["evaluation", "code"], name="one_score_per_criterion"),
            models.CheckConstraint(
                condition=Q(self_points__isnull=True)
                | Q(self_points__gte=0, self_points__lte=models.F("max_points")),
                name="criterion_self_points_in_range",
            ),
            models.CheckConstraint(
                condition=Q(vetted_points__isnull=True)
                | Q(vetted_points__gte=0, vetted_points__lte=models.F("max_points")),
                name="criterion_vetted_points_in_range",
            ),
        ]

    def __str__(self):
        return self.name


class TransitionLog(TenantOwned):
    """Append-only: who moved an evaluation from which state to which, when and why."""

    evaluation = models.ForeignKey(Evaluation, on_delete=models.PROTECT, related_name="log")
    actor = models.ForeignKey("cadres.User", on_delete=models.PROTECT, null=True, related_name="+")
    role = models.CharField(_("role"), max_length=32)
    action = models.CharField(_("action"), max_length=32)
    from_state = models.CharField(_("from"), max_length=20)
    to_state = models.CharField(_("to"), max_length=20)
    reason = models.TextField(_("reason"), blank=True)
    score_snapshot = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("transition")
        verbose_name_plural = _("transition log")
        ordering = ["evaluation", "created_at", "pk"]
        indexes = [models.Index(fields=["tenant", "created_at"], name="transition_tenant_time")]

    def __str__(self):
        return f"{self.evaluation_id}: {self.from_state} → {self.to_state}"


class ScoreChange(TenantOwned):
    """Append-only history of every score, level or grade that changed, with who and why."""

    evaluation = models.ForeignKey(
        Evaluation, on_delete=models.PROTECT, related_name="score_changes"
    )
    actor = models.ForeignKey("cadres.User", on_delete=models.PROTECT, null=True, related_name="+")
    field = models.CharField(max_length=100)
    old_value = models.CharField(max_length=100, blank=True)
    new_value = models.CharField(max_length=100, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("score change")
        verbose_name_plural = _("score history")
        ordering = ["evaluation", "created_at", "pk"]


class PublishedResult(TenantOwned):
    """The immutable record of a published result; a correction publishes a new one."""

    evaluation = models.OneToOneField(
        Evaluation, on_delete=models.PROTECT, related_name="published_result"
    )
    cadre = models.ForeignKey("cadres.Cadre", on_delete=models.PROTECT, related_name="+")
    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="+")
    revision = models.PositiveSmallIntegerField()
    grade = models.CharField(max_length=16, choices=GRADE_CHOICES)
    score = models.DecimalField(max_digits=4, decimal_places=1, null=True)
    snapshot = models.JSONField()
    published_by = models.ForeignKey("cadres.User", on_delete=models.PROTECT, related_name="+")
    published_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("published result")
        verbose_name_plural = _("published results")
        indexes = [models.Index(fields=["tenant", "period"], name="published_tenant_period")]


class Discrepancy(TenantOwned):
    """R17: the direct superior level proposed a higher grade than the one decided."""

    evaluation = models.OneToOneField(
        Evaluation, on_delete=models.PROTECT, related_name="discrepancy"
    )
    proposer = models.ForeignKey("cadres.User", on_delete=models.PROTECT, related_name="+")
    head = models.ForeignKey(
        "cadres.Cadre", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    proposed_grade = models.CharField(max_length=16, choices=GRADE_CHOICES)
    decided_grade = models.CharField(max_length=16, choices=GRADE_CHOICES)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("discrepancy")
        verbose_name_plural = _("discrepancies")
        indexes = [models.Index(fields=["tenant", "proposer"], name="discrepancy_proposer")]


class Collective(TenantOwned):
    """A unit's leadership body for a quarter, graded before its members (QĐ 366)."""

    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="collectives")
    unit = models.ForeignKey("cadres.Unit", on_delete=models.PROTECT, related_name="+")
    completion_percent = models.DecimalField(
        _("completion (%)"), max_digits=5, decimal_places=1, null=True, blank=True
    )
    reasons = models.JSONField(default=list, blank=True)
    graded_at = models.DateTimeField(_("graded at"), null=True, blank=True)
    graded_by = models.ForeignKey(
        "cadres.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("collective")
        verbose_name_plural = _("collectives")
        constraints = [
            models.UniqueConstraint(fields=["period", "unit"], name="one_collective_per_unit")
        ]

    def __str__(self):
        return f"{self.unit} — {self.period}"


class CollectiveTarget(TenantOwned):
    """A task or target assigned to a collective by the competent level."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Not yet reported")
        DONE = "done", _("Done")
        NOT_DONE = "not_done", _("Not done")

    collective = models.ForeignKey(Collective, on_delete=models.CASCADE, related_name="targets")
    title = models.CharField(_("target"), max_length=500)
    assigned_by = models.CharField(_("assigned by"), max_length=255, blank=True)
    status = models.CharField(
        _("result"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    force_majeure_confirmed = models.BooleanField(_("force majeure confirmed"), default=False)
    force_majeure_reason = models.CharField(_("force majeure reason"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("collective target")
        verbose_name_plural = _("collective targets")
        ordering = ["collective", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(force_majeure_confirmed=False) | ~Q(force_majeure_reason=""),
                name="collective_force_majeure_has_reason",
            )
        ]

    def __str__(self):
        return self.title


class CatalogueVersion(TenantOwned):
    """A version of the standard product catalogue, drafted by the advisory body and
    approved by the managing authority."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted for approval")
        APPROVED = "approved", _("Approved")
        SUPERSEDED = "superseded", _("Superseded")

    number = models.PositiveIntegerField(_("version"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.DRAFT
    )
    note = models.CharField(_("note"), max_length=500, blank=True)
    submitted_by = models.ForeignKey(
        "cadres.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        "cadres.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("catalogue version")
        verbose_name_plural = _("catalogue versions")
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "number"], name="catalogue_version_unique"),
            models.UniqueConstraint(
                fields=["tenant"],
                condition=Q(status="approved"),
                name="one_approved_catalogue_per_tenant",
            ),
        ]

    def __str__(self):
        return _("Catalogue version %(number)s") % {"number": self.number}


class CatalogueItem(TenantOwned):
    """A standard product or task (Danh mục sản phẩm/công việc chuẩn)."""

    version = models.ForeignKey(CatalogueVersion, on_delete=models.CASCADE, related_name="items")
    code = models.CharField(_("code"), max_length=50)
    title = models.CharField(_("task or product"), max_length=500)
    axis = models.PositiveSmallIntegerField(_("result axis"), choices=AXIS_CHOICES)
    expected_product = models.CharField(_("expected product"), max_length=500)
    difficulty = models.DecimalField(
        _("difficulty coefficient"),
        max_digits=3,
        decimal_places=2,
        default=1,
        validators=[MinValueValidator(Decimal("0.1"))],
    )

    class Meta:
        verbose_name = _("catalogue item")
        verbose_name_plural = _("catalogue items")
        ordering = ["version", "code"]
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="catalogue_item_code_unique"),
            models.CheckConstraint(
                condition=Q(axis__gte=1, axis__lte=6), name="catalogue_axis_1_to_6"
            ),
            models.CheckConstraint(
                condition=Q(difficulty__gt=0), name="catalogue_difficulty_positive"
            ),
        ]

    def __str__(self):
        return f"{self.code} — {self.title}"


class SuspensionProposal(TenantOwned):
    """A head proposes suspending a cadre who avoids responsibility [G §5.1]."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting the managing authority")
        ACCEPTED = "accepted", _("Suspension decided")
        REJECTED = "rejected", _("Not accepted")

    cadre = models.ForeignKey("cadres.Cadre", on_delete=models.PROTECT, related_name="+")
    proposed_by = models.ForeignKey("cadres.User", on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("reason"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    decided_by = models.ForeignKey(
        "cadres.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(_("decision"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("suspension proposal")
        verbose_name_plural = _("suspension proposals")
        ordering = ["-created_at"]


class Notification(TenantOwned):
    """An in-app message telling someone that something waits for them."""

    recipient = models.ForeignKey(
        "cadres.User", on_delete=models.CASCADE, related_name="notifications"
    )
    evaluation = models.ForeignKey(
        Evaluation, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=32)
    message = models.CharField(max_length=500)
    url = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["recipient", "read_at", "-created_at"], name="notification_inbox")
        ]


# --- Scheduled jobs ---


class Job(TenantOwned):
    """A background job, written in the same transaction as the change that asks for it.

    The row is the outbox: if the broker is down when the job is sent, the sweeper sends it
    again later. A non-empty ``key`` makes the job run once per tenant and kind (e.g. a
    period's opening); an empty key is for recomputations that may run any number of times.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=64)
    key = models.CharField(_("key"), max_length=100, blank=True)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    enqueued_at = models.DateTimeField(_("sent to the queue at"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("background job")
        verbose_name_plural = _("background jobs")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "kind", "key"],
                condition=~Q(key=""),
                name="job_once_per_tenant_kind_key",
            )
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="job_status_created")]

    def __str__(self):
        return f"{self.kind} {self.key} ({self.status})"


class SentReminder(TenantOwned):
    """A deadline reminder or escalation already sent to one person: never sent twice."""

    period = models.ForeignKey(Period, on_delete=models.CASCADE, related_name="+")
    step = models.CharField(_("step"), max_length=32)
    days_before = models.PositiveSmallIntegerField(_("days before the deadline"))
    recipient = models.ForeignKey("cadres.User", on_delete=models.CASCADE, related_name="+")
    sent_at = models.DateTimeField(_("sent at"), auto_now_add=True)

    class Meta:
        verbose_name = _("sent reminder")
        verbose_name_plural = _("sent reminders")
        constraints = [
            models.UniqueConstraint(
                fields=["period", "step", "days_before", "recipient"], name="reminder_sent_once"
            )
        ]


class ReportStatus(TenantOwned):
    """R16 for one unit and quarter: when its report became complete and whether it was late.

    A unit's report is complete when every current evaluation it grades is published or
    deferred.
    """

    period = models.ForeignKey(Period, on_delete=models.CASCADE, related_name="report_statuses")
    unit = models.ForeignKey("cadres.Unit", on_delete=models.PROTECT, related_name="+")
    evaluations = models.PositiveIntegerField(_("evaluations"), default=0)
    outstanding = models.PositiveIntegerField(_("not yet published or deferred"), default=0)
    complete_on = models.DateField(_("complete on"), null=True, blank=True)
    is_late = models.BooleanField(_("late"), default=False)
    reasons = models.JSONField(default=list, blank=True)
    marked_at = models.DateTimeField(_("marked at"), auto_now_add=True)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("report status")
        verbose_name_plural = _("report statuses")
        ordering = ["period", "unit__path"]
        constraints = [
            models.UniqueConstraint(fields=["period", "unit"], name="one_report_status_per_unit")
        ]

    def __str__(self):
        return f"{self.unit} — {self.period}"


class YearEndResult(TenantOwned):
    """R19: the annual grade proposed from the four quarters, for the authority to decide."""

    cadre = models.ForeignKey("cadres.Cadre", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(_("year"))
    unit = models.ForeignKey(
        "cadres.Unit", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    proposed_grade = models.CharField(
        _("proposed grade"), max_length=16, choices=GRADE_CHOICES, blank=True
    )
    mean_score = models.DecimalField(_("mean score"), **SCORE)
    quarters_proposed_excellent = models.PositiveSmallIntegerField(
        _("quarters proposed Excellent"), default=0
    )
    replacement_flag = models.BooleanField(_("replacement flag"), default=False)
    reasons = models.JSONField(default=list, blank=True)
    flag_notified_at = models.DateTimeField(null=True, blank=True)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("year-end result")
        verbose_name_plural = _("year-end results")
        ordering = ["year", "cadre"]
        constraints = [
            models.UniqueConstraint(fields=["cadre", "year"], name="one_year_end_result"),
            models.CheckConstraint(
                condition=Q(mean_score__isnull=True) | Q(mean_score__gte=0, mean_score__lte=100),
                name="year_end_mean_score_0_100",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "year"], name="year_end_tenant_year")]

    def __str__(self):
        return f"{self.cadre} — {self.year}"
