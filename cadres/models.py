"""Tenants, their tree of units, cadres, posts and absences, and role grants on units."""

from django.contrib.auth.models import AbstractUser
from django.contrib.auth.signals import user_logged_in
from django.db import models
from django.db.models import Q
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

PATH_STEP = 8  # digits per level of Unit.path; ids up to 99,999,999


class Tenant(models.Model):
    """A top-level organisation: provincial party committee, ministry, agency…"""

    class Kind(models.TextChoices):
        PROVINCIAL_COMMITTEE = "provincial_committee", _("Provincial or city party committee")
        CENTRAL_PARTY_COMMITTEE = "central_party_committee", _("Party committee under the Centre")
        MINISTRY = "ministry", _("Ministry or sector")
        AGENCY = "agency", _("Central agency")

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=255)
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    parent_body = models.CharField(
        _("parent body"), max_length=255, blank=True, help_text=_("Shown on Form 5's header.")
    )
    place = models.CharField(_("place"), max_length=100, blank=True)
    separate_proposer_and_decider = models.BooleanField(
        _("the proposer may not also decide"), default=True
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("tenant")
        verbose_name_plural = _("tenants")
        ordering = ["name"]

    def __str__(self):
        return self.name


def display_name(username: str, first_name: str, last_name: str, cadre_name: str | None) -> str:
    """How an account is named on screens: its cadre's name, else its full name, else its
    username (``User.display_name``; the decision board reads these four as values)."""
    return cadre_name or f"{first_name} {last_name}".strip() or username


class User(AbstractUser):
    """An account. It belongs to one tenant, except superusers and central observers."""

    tenant = models.ForeignKey(
        Tenant,
        verbose_name=_("tenant"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
    )
    is_central_observer = models.BooleanField(
        _("central organisation commission (read-only across tenants)"), default=False
    )

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        constraints = [
            models.CheckConstraint(
                condition=Q(is_central_observer=False) | Q(tenant__isnull=True),
                name="central_observer_has_no_tenant",
            )
        ]

    @property
    def display_name(self):
        cadre = getattr(self, "cadre", None)
        return display_name(
            self.username, self.first_name, self.last_name, cadre.full_name if cadre else None
        )


class TenantQuerySet(models.QuerySet):
    def for_tenant(self, tenant):
        """Rows of one tenant only; the first filter of every lookup."""
        return self.filter(tenant=tenant)


class TenantOwned(models.Model):
    """A row owned by one tenant; look it up through ``objects.for_tenant``."""

    tenant = models.ForeignKey(Tenant, verbose_name=_("tenant"), on_delete=models.PROTECT)

    objects = TenantQuerySet.as_manager()

    class Meta:
        abstract = True


class Unit(TenantOwned):
    """A unit of the tenant's tree. ``path`` holds the ids of its ancestors and itself."""

    class Kind(models.TextChoices):
        PARTY_COMMITTEE = "party_committee", _("Party committee")
        ADVISORY_BODY = "advisory_body", _("Advisory body of the party committee")
        DEPARTMENT = "department", _("Department or agency")
        DISTRICT = "district", _("District or city")
        COMMUNE = "commune", _("Commune or ward")
        MASS_ORGANISATION = "mass_organisation", _("Front or mass organisation")
        OTHER = "other", _("Other")

    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent unit"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    code = models.CharField(_("code"), max_length=50)
    name = models.CharField(_("name"), max_length=255)
    path = models.CharField(_("path"), max_length=255, editable=False, default="")
    depth = models.PositiveSmallIntegerField(_("depth"), editable=False, default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "code"], name="unit_code_unique_in_tenant"),
        ]
        indexes = [
            models.Index(fields=["path"], name="unit_path_like", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["tenant", "path"], name="unit_tenant_path"),
        ]
        permissions = [
            ("act_as_superior", _("Direct superior level of the cadres of this unit")),
            ("act_as_advisory", _("Personnel advisory body for this unit")),
            ("act_as_authority", _("Managing authority of the cadres of this unit")),
            ("act_as_organisation", _("Organisation department for this unit")),
            ("administer", _("Tenant administrator for this unit")),
        ]

    def __str__(self):
        return self.name

    @property
    def ancestor_ids(self) -> list[int]:
        """Ids from the root down to this unit, read from the path without a query."""
        return [int(self.path[i : i + PATH_STEP]) for i in range(0, len(self.path), PATH_STEP)]

    def is_within(self, other: "Unit") -> bool:
        return self.path.startswith(other.path)


class UnitUserPermission(UserObjectPermissionBase):
    """A role granted to a user on a unit (django-guardian, direct foreign key)."""

    content_object = models.ForeignKey(Unit, on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        verbose_name = _("role grant")
        verbose_name_plural = _("role grants")


class UnitGroupPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Unit, on_delete=models.CASCADE)


class Cadre(TenantOwned):
    """A leadership or management cadre (cán bộ lãnh đạo, quản lý)."""

    class EvaluationMode(models.TextChoices):
        QUARTERLY = "quarterly", _("Quarterly")
        HALF_YEARLY = "half_yearly", _("Half-yearly")
        YEARLY = "yearly", _("Yearly")

    user = models.OneToOneField(
        User,
        verbose_name=_("account"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="cadre",
    )
    code = models.CharField(_("staff code"), max_length=50)
    full_name = models.CharField(_("full name"), max_length=255)
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    party_post = models.CharField(_("party post"), max_length=255, blank=True)
    government_post = models.CharField(_("government post"), max_length=255, blank=True)
    mass_organisation_post = models.CharField(
        _("mass-organisation post"), max_length=255, blank=True
    )
    evaluation_mode = models.CharField(
        _("evaluation cycle"),
        max_length=16,
        choices=EvaluationMode.choices,
        default=EvaluationMode.QUARTERLY,
        help_text=_(
            "Committee members without professional duties may be graded half-yearly or "
            "yearly (R18)."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("cadre")
        verbose_name_plural = _("cadres")
        ordering = ["full_name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "code"], name="cadre_code_unique_in_tenant"),
        ]
        indexes = [models.Index(fields=["tenant", "full_name"], name="cadre_tenant_name")]

    def __str__(self):
        return self.full_name


class Position(TenantOwned):
    """A post in a unit, held by one cadre at a time."""

    class Kind(models.TextChoices):
        LEADERSHIP = "leadership", _("Leadership or management post")
        NON_LEADERSHIP_TITLE = "non_leadership_title", _("Title graded quarterly (G §6.4)")
        COMMITTEE_MEMBER = (
            "committee_member",
            _("Committee member without professional duties (R18)"),
        )

    class CollectiveRole(models.TextChoices):
        HEAD = "head", _("Head")
        DEPUTY = "deputy", _("Deputy")
        MEMBER = "member", _("Member")
        NONE = "none", _("Not in the collective")

    unit = models.ForeignKey(
        Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="positions"
    )
    title = models.CharField(_("title"), max_length=255)
    kind = models.CharField(
        _("kind of post"), max_length=32, choices=Kind.choices, default=Kind.LEADERSHIP
    )
    collective_role = models.CharField(
        _("role in the collective"),
        max_length=16,
        choices=CollectiveRole.choices,
        default=CollectiveRole.MEMBER,
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("post")
        verbose_name_plural = _("posts")
        ordering = ["unit__path", "title"]

    def __str__(self):
        return f"{self.title} — {self.unit}"


class Assignment(TenantOwned):
    """A cadre holds a post from a date to a date; the history is kept (R11, R12)."""

    cadre = models.ForeignKey(
        Cadre, verbose_name=_("cadre"), on_delete=models.PROTECT, related_name="assignments"
    )
    position = models.ForeignKey(
        Position, verbose_name=_("post"), on_delete=models.PROTECT, related_name="assignments"
    )
    start_date = models.DateField(_("from"))
    end_date = models.DateField(_("to"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        ordering = ["cadre", "-start_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="assignment_ends_after_start",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "cadre", "start_date"], name="assignment_cadre"),
            models.Index(fields=["position", "start_date"], name="assignment_position"),
        ]

    def __str__(self):
        return f"{self.cadre} — {self.position}"


class Absence(TenantOwned):
    """Training, leave or inspection inside a quarter (R11)."""

    class Kind(models.TextChoices):
        TRAINING = "training", _("Full-time training")
        SICK_LEAVE = "sick_leave", _("Sick leave")
        MATERNITY_LEAVE = "maternity_leave", _("Maternity leave")
        INSPECTION = "inspection", _("Under inspection for signs of a violation")
        OTHER = "other", _("Other case decided by the authority")

    cadre = models.ForeignKey(
        Cadre, verbose_name=_("cadre"), on_delete=models.PROTECT, related_name="absences"
    )
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    start_date = models.DateField(_("from"))
    end_date = models.DateField(_("to"))
    reason = models.CharField(_("reason"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("absence")
        verbose_name_plural = _("absences")
        ordering = ["cadre", "start_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=models.F("start_date")), name="absence_ends_after_start"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "cadre", "start_date"], name="absence_cadre")]

    def __str__(self):
        return f"{self.cadre} — {self.get_kind_display()}"


class AuditEntry(models.Model):
    """Append-only record of an administrative change (grants, tree moves, imports)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, null=True)
    actor = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")
    action = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=255)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["tenant", "-created_at"], name="audit_tenant_time")]

    def __str__(self):
        return f"{self.action} {self.object_repr}"


# --- API tokens ---
class ApiToken(models.Model):
    """A per-user token for another system calling the REST API; only its hash is stored."""

    user = models.ForeignKey(
        User, verbose_name=_("account"), on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=16, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "revoked_at"], name="api_token_user")]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class IdempotencyKey(models.Model):
    """The stored answer to a transition sent with an ``Idempotency-Key`` header, replayed
    when the same user sends the same key again."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique_per_user")
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_key_age")]

    def __str__(self):
        return self.key


# --- end of API tokens ---


# --- Security ---
class TenantSecurity(models.Model):
    """A tenant's security settings; a tenant without a row has the defaults."""

    tenant = models.OneToOneField(
        Tenant, verbose_name=_("tenant"), on_delete=models.CASCADE, related_name="security"
    )
    require_totp = models.BooleanField(
        _(
            "require a one-time code (TOTP) from the managing authority and the organisation "
            "department"
        ),
        default=False,
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("security settings")
        verbose_name_plural = _("security settings")

    def __str__(self):
        return str(self.tenant)


@receiver(user_logged_in, dispatch_uid="cadres.security.start_session")
def _start_secure_session(sender, request, user, **kwargs):
    # Every sign-in (the form, the admin, force_login in tests) starts the session clock and
    # decides whether this session needs a TOTP, so that requests never query for it.
    from cadres.security import start_session

    start_session(request, user)


# --- end of Security ---
