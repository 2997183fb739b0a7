"""Who may do what to an evaluation: one policy for "may this user…" and "which ones…".

Roles are grants on units (cadres.roles); a grant covers the unit's subtree. A cadre plans and
self-assesses their own evaluation and never vets, proposes or decides on it.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cadres.roles import Role, covers, granted_units, subtree_q
from evaluation.models import Evaluation, EvaluationState

SELF = "self"


class Action(models.TextChoices):
    VIEW = "view", _("view")
    EDIT_PLAN = "edit_plan", _("edit the targets")
    SUBMIT_PLAN = "submit_plan", _("submit the targets")
    APPROVE_PLAN = "approve_plan", _("approve the targets")
    SELF_ASSESS = "self_assess", _("self-assess")
    VET = "vet", _("vet")
    PROPOSE = "propose", _("propose a grade")
    DECIDE = "decide", _("decide the grade")
    PUBLISH = "publish", _("publish")
    RETURN = "return", _("return to the previous step")
    DEFER = "defer", _("defer to the next quarter")
    REOPEN = "reopen", _("reopen")


# The role that performs each action; "return" belongs to the actor of the next step.
ACTION_ROLES: dict[str, tuple] = {
    Action.EDIT_PLAN: (SELF,),
    Action.SUBMIT_PLAN: (SELF,),
    Action.SELF_ASSESS: (SELF,),
    Action.APPROVE_PLAN: (Role.SUPERIOR,),
    Action.VET: (Role.ADVISORY,),
    Action.PROPOSE: (Role.SUPERIOR,),
    Action.DECIDE: (Role.AUTHORITY,),
    Action.DEFER: (Role.AUTHORITY,),
    Action.REOPEN: (Role.AUTHORITY,),
    Action.PUBLISH: (Role.ORGANISATION, Role.AUTHORITY),
}
RETURN_ROLES = {
    EvaluationState.PLAN_SUBMITTED: Role.SUPERIOR,
    EvaluationState.SELF_ASSESSED: Role.ADVISORY,
    EvaluationState.VETTED: Role.SUPERIOR,
    EvaluationState.PROPOSED: Role.AUTHORITY,
}
# The states from which each action can be taken.
ACTION_STATES = {
    Action.EDIT_PLAN: [EvaluationState.PLANNING],
    Action.SUBMIT_PLAN: [EvaluationState.PLANNING],
    Action.APPROVE_PLAN: [EvaluationState.PLAN_SUBMITTED],
    Action.SELF_ASSESS: [EvaluationState.PLAN_APPROVED],
    Action.VET: [EvaluationState.SELF_ASSESSED],
    Action.PROPOSE: [EvaluationState.VETTED],
    Action.DECIDE: [EvaluationState.PROPOSED],
    Action.PUBLISH: [EvaluationState.DECIDED],
    Action.RETURN: list(RETURN_ROLES),
    Action.DEFER: [
        EvaluationState.PLANNING,
        EvaluationState.PLAN_SUBMITTED,
        EvaluationState.PLAN_APPROVED,
        EvaluationState.SELF_ASSESSED,
        EvaluationState.VETTED,
        EvaluationState.PROPOSED,
    ],
    Action.REOPEN: [EvaluationState.DECIDED, EvaluationState.PUBLISHED],
}
VIEW_ROLES = (Role.SUPERIOR, Role.ADVISORY, Role.AUTHORITY, Role.ORGANISATION)


def roles_for(action: str, state: str) -> tuple:
    if action == Action.RETURN:
        role = RETURN_ROLES.get(state)
        return (role,) if role else ()
    return ACTION_ROLES.get(action, ())


def is_own(user, evaluation: Evaluation) -> bool:
    return user.is_authenticated and evaluation.cadre.user_id == user.pk


def acting_role(user, action: str, evaluation: Evaluation):
    """The role in which the user may take the action now, or None."""
    if not user.is_authenticated or evaluation.tenant_id != user.tenant_id:
        return None
    if action == Action.VIEW:
        if is_own(user, evaluation):
            return SELF
        return next((r for r in VIEW_ROLES if covers(user, r, evaluation.unit)), None)
    own = is_own(user, evaluation)
    for role in roles_for(action, evaluation.state):
        if role == SELF:
            if own:
                return SELF
            continue
        if own:
            continue  # never act on oneself as vetter, proposer or decider
        if (
            action == Action.DECIDE
            and evaluation.tenant.separate_proposer_and_decider
            and evaluation.proposed_by_id == user.pk
        ):
            continue
        if covers(user, role, evaluation.unit):
            return role
    return None


def can(user, action: str, evaluation: Evaluation) -> bool:
    return acting_role(user, action, evaluation) is not None


def visible_evaluations(user):
    """Every evaluation the user may open: their own and those under a unit they act for."""
    if not user.is_authenticated or user.tenant_id is None:
        return Evaluation.objects.none()
    units = [unit for role in VIEW_ROLES for unit in granted_units(user, role)]
    return Evaluation.objects.for_tenant(user.tenant_id).filter(
        Q(cadre__user=user) | subtree_q(units, prefix="unit__")
    )


def actionable_evaluations(user, action: str):
    """Current evaluations on which the user may take the action now (a queryset)."""
    if not user.is_authenticated or user.tenant_id is None:
        return Evaluation.objects.none()
    base = Evaluation.objects.for_tenant(user.tenant_id).filter(
        is_current=True, state__in=ACTION_STATES[action]
    )
    if action == Action.RETURN:
        q = Q(pk__in=[])
        for state, role in RETURN_ROLES.items():
            q |= Q(state=state) & subtree_q(granted_units(user, role), prefix="unit__")
        return base.filter(q).exclude(cadre__user=user)
    roles = ACTION_ROLES[action]
    if roles == (SELF,):
        return base.filter(cadre__user=user)
    units = [unit for role in roles for unit in granted_units(user, role)]
    queryset = base.filter(subtree_q(units, prefix="unit__")).exclude(cadre__user=user)
    if action == Action.DECIDE and user.tenant.separate_proposer_and_decider:
        queryset = queryset.exclude(proposed_by=user)
    return queryset
