"""Reads of periods and evaluations, scoped to the user's tenant and role grants."""

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from cadres.roles import Role, granted_units
from evaluation import rules
from evaluation.models import Period, RuleSetVersion


@dataclass
class HomeSection:
    """What waits for one role of the signed-in user on the home page."""

    key: str
    title: str
    units: list = field(default_factory=list)
    items: list = field(default_factory=list)
    empty_text: str = _("Nothing is waiting for you.")


ROLE_SECTION_TITLES = {
    Role.SUPERIOR: _("Direct superior level: plans to approve and assessments to propose on"),
    Role.ADVISORY: _("Personnel advisory body: assessments to vet"),
    Role.AUTHORITY: _("Managing authority: grades to decide"),
    Role.ORGANISATION: _("Organisation department: results to publish and reports"),
    Role.ADMINISTRATOR: _("Tenant administrator: organisation, cadres and periods"),
}


def open_periods(user):
    if user.tenant_id is None:
        return Period.objects.none()
    return Period.objects.for_tenant(user.tenant_id).filter(status=Period.Status.OPEN)


def home_sections(user) -> list[HomeSection]:
    """One section per role the user holds, the cadre's own quarter first."""
    sections = []
    if getattr(user, "cadre", None) is not None:
        sections.append(HomeSection(key="cadre", title=_("My quarter")))
    for role, title in ROLE_SECTION_TITLES.items():
        units = granted_units(user, role)
        if units:
            sections.append(HomeSection(key=role.value, title=title, units=units))
    if user.is_central_observer:
        sections.append(
            HomeSection(key="central", title=_("Central organisation commission: all tenants"))
        )
    return sections


def rule_set_for(tenant, on) -> rules.RuleSet:
    """The tenant's rule set in force on a date; the defaults when the tenant has none."""
    cache = tenant.__dict__.setdefault("_rule_sets", None)
    if cache is None:
        cache = [
            rules.RuleSet.from_dict(
                row.params
                | {
                    "version": row.version,
                    "effective_from": row.effective_from.isoformat(),
                }
            )
            for row in RuleSetVersion.objects.filter(tenant=tenant)
        ]
        tenant.__dict__["_rule_sets"] = cache
    candidates = [r for r in cache if r.effective_from <= on]
    if not candidates:
        return rules.DEFAULT_RULE_SET
    return rules.rule_set_in_force(candidates, on)
