"""The screens of the five steps: forms validate, one service call, render.

Errors map to statuses the same way everywhere: a ValidationError becomes field errors (400,
or 422 for a live htmx check), PermissionDenied is a 403, an evaluation the user may not see
is a 404, and a Conflict (someone acted first, or the R9 quota) is a message with a 409.
htmx requests get the named fragment of the same page (``templates/evaluation/partials``).
"""

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from cadres.roles import Role, covers, granted_units
from cadres.selectors import assignments_between
from evaluation import lines, rules, scoring, selectors, services
from evaluation.exceptions import Conflict, QuotaExceeded
from evaluation.forms import (
    ApprovePlanForm,
    AxisRolesForm,
    BoardForm,
    CatalogueDraftForm,
    CatalogueItemForm,
    CollectiveResultForm,
    CollectiveStepForm,
    CollectiveTargetsForm,
    DecideForm,
    DeferForm,
    PeriodCreateForm,
    PickForm,
    PlanFormSet,
    ProposeForm,
    PublishForm,
    ReopenForm,
    ReturnForm,
    RuleSetForm,
    SelfAssessmentForm,
    SuspensionDecideForm,
    SuspensionProposeForm,
    TaskResultForm,
    TaskVettingForm,
    VettingForm,
    criteria_error_map,
    criteria_points,
    localized,
    plain,
    service_errors,
)
from evaluation.models import CatalogueItem, CatalogueVersion, EvaluationState, RuleSetVersion
from evaluation.permissions import ACTION_STATES, SELF, Action, acting_role, can

# ---------------------------------------------------------------------------------------------
# Helpers shared by the screens


def _attempt(form, call, error_map=None) -> int:
    """Run one service call; on failure put its message on the form and return the status."""
    try:
        call()
    except ValidationError as exc:
        service_errors(form, exc, error_map)
        return 400
    except rules.RuleInputError as exc:
        form.add_error(None, exc.message)
        return 400
    except QuotaExceeded as exc:
        form.add_error(None, str(exc.message))
        form.ranked_candidates = exc.ranked_candidates
        return 409
    except Conflict as exc:
        form.add_error(None, str(exc.message))
        return 409
    return 200


def _error_lines(*forms, numbered=()) -> list[str]:
    """Every error of the forms as one line each, for a live panel outside the form."""
    found = []
    for form in forms:
        found.extend(str(e) for e in form.non_field_errors())
        for field in form:
            # A service's message may already name the field (“Political ideology: …”).
            found.extend(
                e
                if str(e).startswith(str(field.label))
                else _("%(label)s: %(error)s") % {"label": field.label, "error": e}
                for e in field.errors
            )
    for number, form in enumerate(numbered, start=1):
        for error in form.non_field_errors():
            found.append(_("Task %(n)s: %(error)s") % {"n": number, "error": error})
        for field in form:
            found.extend(
                _("Task %(n)s, %(label)s: %(error)s")
                % {"n": number, "label": field.label, "error": e}
                for e in field.errors
            )
    return found


def _next_url(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def may(user, action, evaluation) -> bool:
    """Whether the user may take the action now: the role, and the step the evaluation is at."""
    return (
        evaluation.is_current
        and evaluation.state in ACTION_STATES[action]
        and can(user, action, evaluation)
    )


def _require_role(user, *roles: Role) -> None:
    """A page for role holders: a user holding none of the roles is refused (403)."""
    if user.tenant_id is None or not any(granted_units(user, role) for role in roles):
        raise PermissionDenied(_("This page is for another role."))


def _tenant_role(user, role: Role) -> bool:
    """Whether the user holds the role over the tenant's root, as the catalogue needs."""
    root = selectors.tenant_root(user.tenant_id)
    return root is not None and covers(user, role, root)


def _tenant_administrator(user) -> None:
    """Tenant-wide settings (periods, rule sets) need the administrator role on a root unit."""
    if user.tenant_id is None or not any(
        unit.depth == 0 for unit in granted_units(user, Role.ADMINISTRATOR)
    ):
        raise PermissionDenied(_("Only the tenant administrator manages periods and rule sets."))


# ---------------------------------------------------------------------------------------------
# Home and "My quarter"


@login_required
def home(request):
    return render(
        request,
        "evaluation/home.html",
        {
            "sections": selectors.home_sections(request.user),
            "notifications": selectors.unread_notifications(request.user),
        },
    )


@require_POST
@login_required
def notifications_read(request):
    """Mark one message (``notification``) or all of the user's unread messages read."""
    ids = None
    if "notification" in request.POST:
        values = request.POST.getlist("notification")
        if not all(v.isascii() and v.isdigit() and int(v) < 2**63 for v in values):
            return HttpResponse(_("Unknown message."), status=400)
        ids = [int(v) for v in values]
    services.notifications_mark_read(user=request.user, ids=ids)
    return redirect("home")


@login_required
def my_quarter(request):
    """Quý của tôi — the cadre's open quarters, what to do next, and past published results."""
    if getattr(request.user, "cadre", None) is None:
        raise PermissionDenied(_("Your account is not linked to a cadre."))
    current = list(selectors.my_current_evaluations(request.user))
    for evaluation in current:
        evaluation.next_action = _own_next_action(request.user, evaluation)
    return render(
        request,
        "evaluation/my_quarter.html",
        {"current": current, "history": selectors.my_history(request.user)},
    )


def _own_next_action(user, evaluation):
    if may(user, Action.EDIT_PLAN, evaluation):
        return reverse("plan_edit", args=[evaluation.pk]), _("Plan the targets")
    if may(user, Action.SELF_ASSESS, evaluation):
        return reverse("self_assessment", args=[evaluation.pk]), _("Fill in the self-assessment")
    return None


# ---------------------------------------------------------------------------------------------
# The evaluation page and its transitions

ACTION_FORMS = {
    Action.APPROVE_PLAN: ("approve_form", ApprovePlanForm),
    Action.RETURN: ("return_form", ReturnForm),
    Action.PROPOSE: ("propose_form", ProposeForm),
    Action.DECIDE: ("decide_form", DecideForm),
    Action.PUBLISH: ("publish_form", PublishForm),
    Action.DEFER: ("defer_form", DeferForm),
    Action.REOPEN: ("reopen_form", ReopenForm),
}


def _initial_for(action, evaluation) -> dict:
    initial = {"version": evaluation.version}
    if action == Action.PROPOSE:
        initial["grade"] = evaluation.vetted_grade or evaluation.computed_grade
    elif action == Action.DECIDE:
        initial["grade"] = evaluation.proposed_grade or evaluation.computed_grade
    return initial


def _detail_context(request, evaluation, bound=None) -> dict:
    bound = bound or {}
    user = request.user
    context = {"evaluation": evaluation, **selectors.evaluation_dossier(evaluation)}
    context["viewer_role"] = acting_role(user, Action.VIEW, evaluation)
    for action, (name, form_class) in ACTION_FORMS.items():
        if action in bound:
            context[name] = bound[action]
        elif may(user, action, evaluation):
            context[name] = form_class(initial=_initial_for(action, evaluation))
    context["can_edit_plan"] = may(user, Action.EDIT_PLAN, evaluation)
    context["can_self_assess"] = may(user, Action.SELF_ASSESS, evaluation)
    context["can_vet"] = may(user, Action.VET, evaluation)
    if context["viewer_role"] != SELF and covers(user, Role.SUPERIOR, evaluation.unit):
        context["suspension_form"] = bound.get("suspension") or SuspensionProposeForm()
    if evaluation.quota_group_id and covers(user, Role.AUTHORITY, evaluation.unit):
        context["board_url"] = reverse("decision_board", args=[evaluation.quota_group_id])
    return context


@login_required
def evaluation_detail(request, pk):
    evaluation = selectors.evaluation_for_user(request.user, pk)
    return render(request, "evaluation/detail.html", _detail_context(request, evaluation))


SUCCESS_MESSAGES = {
    Action.APPROVE_PLAN: gettext_lazy("The targets of %(name)s are approved."),
    Action.RETURN: gettext_lazy("The evaluation of %(name)s is returned to the previous step."),
    Action.PROPOSE: gettext_lazy("Your proposed grade for %(name)s is recorded."),
    Action.DECIDE: gettext_lazy("The grade of %(name)s is decided."),
    Action.PUBLISH: gettext_lazy("The result of %(name)s is published."),
    Action.DEFER: gettext_lazy("The evaluation of %(name)s is deferred to the next quarter."),
    Action.REOPEN: gettext_lazy("The result of %(name)s is reopened as a new revision."),
}


def _service_for(action, evaluation, actor, data):
    version = data.get("version")
    common = {"evaluation": evaluation, "actor": actor, "expected_version": version}
    if action == Action.APPROVE_PLAN:
        return lambda: services.evaluation_approve_plan(**common, comment=data["comment"])
    if action == Action.RETURN:
        return lambda: services.evaluation_return(**common, reason=data["reason"])
    if action == Action.PROPOSE:
        return lambda: services.evaluation_propose(
            **common, grade=data["grade"], comment=data["comment"]
        )
    if action == Action.DECIDE:
        return lambda: services.evaluation_decide(
            **common,
            grade=data["grade"],
            comment=data["comment"],
            reassignment=data["reassignment"],
        )
    if action == Action.PUBLISH:
        return lambda: services.evaluation_publish(**common)
    if action == Action.DEFER:
        return lambda: services.evaluation_defer(**common, case=data["case"], reason=data["reason"])
    return lambda: services.evaluation_reopen(**common, reason=data["reason"])


def _transition_view(action):
    @login_required
    @require_POST
    def view(request, pk):
        evaluation = selectors.evaluation_for_user(request.user, pk)
        form = ACTION_FORMS[action][1](request.POST)
        status = 400
        if form.is_valid():
            call = _service_for(action, evaluation, request.user, form.cleaned_data)
            status = _attempt(form, call)
            if status == 200:
                messages.success(
                    request, SUCCESS_MESSAGES[action] % {"name": evaluation.cadre.full_name}
                )
                return redirect(
                    _next_url(request, reverse("evaluation_detail", args=[evaluation.pk]))
                )
        evaluation = selectors.evaluation_for_user(request.user, pk)
        context = _detail_context(request, evaluation, {action: form})
        return render(request, "evaluation/detail.html", context, status=status)

    view.__name__ = f"evaluation_{action}"
    return view


approve_plan = _transition_view(Action.APPROVE_PLAN)
return_evaluation = _transition_view(Action.RETURN)
propose = _transition_view(Action.PROPOSE)
decide = _transition_view(Action.DECIDE)
publish = _transition_view(Action.PUBLISH)
defer = _transition_view(Action.DEFER)
reopen = _transition_view(Action.REOPEN)


@login_required
@require_POST
def suspension_propose(request, pk):
    """The head proposes suspending a cadre of the unit [G §5.1]."""
    evaluation = selectors.evaluation_for_user(request.user, pk)
    form = SuspensionProposeForm(request.POST)
    status = 400
    if form.is_valid():
        status = _attempt(
            form,
            lambda: services.suspension_propose(
                cadre=evaluation.cadre, actor=request.user, reason=form.cleaned_data["reason"]
            ),
        )
        if status == 200:
            messages.success(request, _("The suspension proposal is sent to the authority."))
            return redirect("evaluation_detail", pk=evaluation.pk)
    context = _detail_context(request, evaluation, {"suspension": form})
    return render(request, "evaluation/detail.html", context, status=status)


# ---------------------------------------------------------------------------------------------
# Step 1: the cadre plans the quarter


def _responsible_choices(evaluation) -> list[tuple[int, str]]:
    """The cadre and the cadres posted in the same unit during the quarter."""
    period = evaluation.period
    choices = {evaluation.cadre_id: evaluation.cadre.full_name}
    for cadre_id, name in (
        assignments_between(period.start_date, period.end_date, tenant_id=evaluation.tenant_id)
        .filter(position__unit_id=evaluation.unit_id)
        .values_list("cadre_id", "cadre__full_name")
        .order_by("cadre__full_name")
    ):
        choices.setdefault(cadre_id, name)
    return list(choices.items())


def _plan_initial(tasks) -> list[dict]:
    return [
        {
            "objective": t.objective,
            "title": t.title,
            "expected_product": t.expected_product,
            "axis": t.axis,
            "weight": plain(t.weight),
            "primary_responsible": t.primary_responsible_id,
            "responsibility": t.responsibility,
            "accepting_authority": t.accepting_authority,
            "deadline": t.deadline,
            "catalogue_item": t.catalogue_item_id,
        }
        for t in tasks
    ]


def _own_evaluation(request, pk, action):
    """The signed-in cadre's own evaluation, if the step allows the action now."""
    evaluation = selectors.evaluation_for_user(request.user, pk)
    if not may(request.user, action, evaluation):
        if acting_role(request.user, Action.VIEW, evaluation) == SELF:
            raise PermissionDenied(
                _("This step is not open: the evaluation is at “%(state)s”.")
                % {"state": evaluation.get_state_display()}
            )
        raise PermissionDenied(_("Only the cadre fills in their own evaluation."))
    return evaluation


def _autosaved_evaluation(request, pk, action):
    """Like ``_own_evaluation``, but None when the cadre's step has just moved on: an autosave
    still in flight when the form was submitted has nothing left to save."""
    evaluation = selectors.evaluation_for_user(request.user, pk)
    if not may(request.user, action, evaluation) and (
        acting_role(request.user, Action.VIEW, evaluation) == SELF
    ):
        return None
    return _own_evaluation(request, pk, action)


def _plan_forms(evaluation, data=None, initial=None):
    responsible = _responsible_choices(evaluation)
    kwargs = {"form_kwargs": {"responsible_choices": responsible}, "prefix": "tasks"}
    if data is not None:
        return PlanFormSet(data, **kwargs), AxisRolesForm(data, prefix="axes")
    rows = initial
    if rows is None:
        rows = _plan_initial(evaluation.tasks.order_by("order", "pk"))
    if not rows:
        rows = [{"primary_responsible": evaluation.cadre_id}]
    return (
        PlanFormSet(initial=rows, **kwargs),
        AxisRolesForm(prefix="axes", initial=AxisRolesForm.initial_from(evaluation.axis_roles)),
    )


def _plan_context(evaluation, formset, axes, problems, weights=(), **extra):
    return {
        "evaluation": evaluation,
        "formset": formset,
        "axes": axes,
        "problems": problems,
        "weight_total": plain(sum(weights, Decimal(0))),
        "catalogue": selectors.approved_catalogue_items(evaluation.tenant_id),
        **extra,
    }


def _typed_weights(formset) -> list[Decimal]:
    return [task["weight"] for task in formset.tasks()]


def _plan_error_map(formset) -> dict:
    """Service keys tasks[i].field point at the i-th kept row of the formset."""
    mapping = {}
    for index, form in enumerate(formset.kept_forms()):
        for name in form.fields:
            mapping[f"tasks[{index}].{name}"] = (form, name)
    return mapping


def _save_plan(request, evaluation, formset, axes):
    return services.evaluation_save_plan(
        evaluation=evaluation,
        actor=request.user,
        tasks=formset.tasks(),
        axis_roles=axes.axis_roles(),
    )


def _plan_rows_plus(request, evaluation, formset):
    """The typed rows plus one: blank, or filled from the picked catalogue item."""
    rows = [
        {**f.cleaned_data, "weight": plain(f.cleaned_data["weight"])} for f in formset.kept_forms()
    ]
    if request.POST.get("action") == "add":
        return rows + [{"primary_responsible": evaluation.cadre_id}]
    item = _picked_item(evaluation, request.POST.get("catalogue_pick"))
    if item is None:
        return None
    return rows + [
        {
            "title": item.title,
            "axis": item.axis,
            "expected_product": item.expected_product,
            "catalogue_item": item.pk,
            "primary_responsible": evaluation.cadre_id,
        }
    ]


@login_required
def plan_edit(request, pk):
    """Step 1: the targets of the quarter, with R2 checked live and on submission."""
    evaluation = _own_evaluation(request, pk, Action.EDIT_PLAN)
    if request.method != "POST":
        formset, axes = _plan_forms(evaluation)
        context = _plan_context(
            evaluation,
            formset,
            axes,
            services.plan_problems(evaluation),
            weights=[t.weight for t in evaluation.tasks.all()],
        )
        return render(request, "evaluation/plan.html", context)
    formset, axes = _plan_forms(evaluation, request.POST)
    action = request.POST.get("action", "save")
    if not (formset.is_valid() and axes.is_valid()):
        context = _plan_context(evaluation, formset, axes, [])
        return render(request, "evaluation/plan.html", context, status=400)
    if action in ("add", "add_item"):
        # A new row is only drawn, not saved: the draft is saved by "save" or the live check.
        rows = _plan_rows_plus(request, evaluation, formset)
        if rows is None:
            axes.add_error(None, _("Pick an item of the approved catalogue."))
            context = _plan_context(evaluation, formset, axes, [], _typed_weights(formset))
            return render(request, "evaluation/plan.html", context, status=400)
        new_formset, _unused = _plan_forms(evaluation, initial=rows)
        context = _plan_context(evaluation, new_formset, axes, [], _typed_weights(formset))
        return render(request, "evaluation/plan.html", context)
    problems = []
    status = _attempt(
        axes, lambda: _save_plan(request, evaluation, formset, axes), _plan_error_map(formset)
    )
    if status == 200 and action == "submit":
        try:
            services.evaluation_submit_plan(evaluation=evaluation, actor=request.user)
        except ValidationError as exc:
            problems, status = exc.messages, 400
        except Conflict as exc:
            axes.add_error(None, str(exc.message))
            status = 409
        else:
            messages.success(request, _("Your targets are submitted for approval."))
            return redirect("evaluation_detail", pk=evaluation.pk)
    elif status == 200:
        messages.success(request, _("Your draft targets are saved."))
        return redirect("plan_edit", pk=evaluation.pk)
    context = _plan_context(evaluation, formset, axes, problems, _typed_weights(formset))
    return render(request, "evaluation/plan.html", context, status=status)


def _picked_item(evaluation, raw):
    try:
        return selectors.approved_catalogue_items(evaluation.tenant_id).get(pk=int(raw))
    except (ValueError, TypeError, CatalogueItem.DoesNotExist):
        return None


@login_required
@require_POST
def plan_check(request, pk):
    """htmx: save the draft as it is typed and answer with the R2 and "six clear" problems."""
    evaluation = _autosaved_evaluation(request, pk, Action.EDIT_PLAN)
    if evaluation is None:
        return HttpResponse(status=204)
    formset, axes = _plan_forms(evaluation, request.POST)
    if not (formset.is_valid() and axes.is_valid()):
        context = _plan_context(
            evaluation, formset, axes, [], error_lines=_error_lines(axes, numbered=formset.forms)
        )
        return render(request, "evaluation/partials/plan_check.html", context, status=422)
    saved = {}

    def save():
        saved["evaluation"] = _save_plan(request, evaluation, formset, axes)

    status = _attempt(axes, save, _plan_error_map(formset))
    problems = services.plan_problems(saved["evaluation"]) if status == 200 else []
    context = _plan_context(
        evaluation,
        formset,
        axes,
        problems,
        _typed_weights(formset),
        saved_at=timezone.now() if status == 200 else None,
        error_lines=_error_lines(axes, numbered=formset.forms),
    )
    return render(
        request,
        "evaluation/partials/plan_check.html",
        context,
        status=422 if status == 400 else status,
    )


# ---------------------------------------------------------------------------------------------
# Step 2: the self-assessment


def _result_forms(tasks, data=None):
    return [
        (
            task,
            TaskResultForm(
                data, prefix=f"task-{task.pk}", initial=TaskResultForm.initial_from(task)
            ),
        )
        for task in tasks
    ]


def _self_forms(evaluation, data=None):
    tasks = list(evaluation.tasks.select_related("primary_responsible").order_by("order", "pk"))
    criteria = list(evaluation.criterion_scores.order_by("order"))
    form = SelfAssessmentForm(
        data,
        criteria=criteria,
        initial={"comment": evaluation.self_comment, "self_grade": evaluation.self_grade},
    )
    return form, _result_forms(tasks, data), criteria


def _live(evaluation):
    """The rules' score and grade for the self-assessment as it stands, or None."""
    try:
        return scoring.assess(evaluation, stage=scoring.Stage.SELF)
    except rules.RuleInputError:
        return None


def _save_self_assessment(request, evaluation, form, task_forms):
    return services.evaluation_save_self_assessment(
        evaluation=evaluation,
        actor=request.user,
        task_results={
            task.pk: {name: tf.cleaned_data[name] for name in TaskResultForm.FIELDS}
            for task, tf in task_forms
        },
        criteria=criteria_points(form),
        comment=form.cleaned_data["comment"],
        self_grade=form.cleaned_data["self_grade"] or None,
    )


def _self_error_map(form, task_forms) -> dict:
    mapping = {key: (form, name) for key, name in criteria_error_map(form).items()}
    for task, tf in task_forms:
        for name in tf.fields:
            mapping[f"tasks.{task.pk}.{name}"] = (tf, name)
    mapping["confirm_warnings"] = (form, "confirm_warnings")
    return mapping


def _self_context(evaluation, form, task_forms, criteria, live, **extra):
    return {
        "evaluation": evaluation,
        "form": form,
        "task_forms": task_forms,
        "criteria": criteria,
        "live": live,
        **extra,
    }


@login_required
def self_assessment(request, pk):
    """Step 2: Form 5 — task results, general criteria, comment; score and grade live."""
    evaluation = _own_evaluation(request, pk, Action.SELF_ASSESS)
    if request.method != "POST":
        form, task_forms, criteria = _self_forms(evaluation)
        context = _self_context(evaluation, form, task_forms, criteria, _live(evaluation))
        return render(request, "evaluation/self_assessment.html", context)
    form, task_forms, criteria = _self_forms(evaluation, request.POST)
    status = 400
    warnings = []
    if form.is_valid() and all(tf.is_valid() for _task, tf in task_forms):
        error_map = _self_error_map(form, task_forms)
        status = _attempt(
            form, lambda: _save_self_assessment(request, evaluation, form, task_forms), error_map
        )
        if status == 200 and request.POST.get("action") == "submit":
            try:
                services.evaluation_self_assess(
                    evaluation=evaluation,
                    actor=request.user,
                    confirm_warnings=form.cleaned_data["confirm_warnings"],
                )
            except ValidationError as exc:
                errors = dict(exc.message_dict)
                warnings = errors.pop("confirm_warnings", [])
                if errors:
                    service_errors(form, ValidationError(errors), error_map)
                status = 400
            except Conflict as exc:
                form.add_error(None, str(exc.message))
                status = 409
            else:
                messages.success(request, _("Your self-assessment is submitted for vetting."))
                return redirect("evaluation_detail", pk=evaluation.pk)
        elif status == 200:
            messages.success(request, _("Your self-assessment draft is saved."))
            return redirect("self_assessment", pk=evaluation.pk)
    evaluation = selectors.evaluation_for_user(request.user, pk)
    context = _self_context(
        evaluation, form, task_forms, criteria, _live(evaluation), warnings=warnings
    )
    return render(request, "evaluation/self_assessment.html", context, status=status)


@login_required
@require_POST
def self_assessment_draft(request, pk):
    """htmx autosave: store the draft and answer with the live score, grade and reasons."""
    evaluation = _autosaved_evaluation(request, pk, Action.SELF_ASSESS)
    if evaluation is None:
        return HttpResponse(status=204)
    form, task_forms, criteria = _self_forms(evaluation, request.POST)
    if not (form.is_valid() and all(tf.is_valid() for _task, tf in task_forms)):
        context = _self_context(
            evaluation,
            form,
            task_forms,
            criteria,
            _live(evaluation),
            error_lines=_error_lines(form, numbered=[tf for _task, tf in task_forms]),
        )
        return render(request, "evaluation/partials/live_score.html", context, status=422)
    outcome = {}

    def save():
        outcome["evaluation"], outcome["live"] = _save_self_assessment(
            request, evaluation, form, task_forms
        )

    status = _attempt(form, save, _self_error_map(form, task_forms))
    live = outcome.get("live") or _live(evaluation)
    context = _self_context(
        evaluation,
        form,
        task_forms,
        criteria,
        live,
        saved_at=timezone.now() if outcome else None,
        error_lines=_error_lines(form, numbered=[tf for _task, tf in task_forms]),
    )
    return render(
        request,
        "evaluation/partials/live_score.html",
        context,
        status=422 if status == 400 else status,
    )


# ---------------------------------------------------------------------------------------------
# Direct superior level


@login_required
def superior_inbox(request):
    """Plans to approve and assessments to propose on, per unit, a page of each."""
    _require_role(request.user, Role.SUPERIOR)
    plans, to_propose = selectors.superior_inbox(
        request.user, request.GET.get("plans") or 1, request.GET.get("propose") or 1
    )
    return render(
        request,
        "evaluation/superior_inbox.html",
        {
            "plans_page": plans,
            "propose_page": to_propose,
            # Each list's pager keeps the other list on its page.
            "plans_keep": f"&propose={to_propose.number}",
            "propose_keep": f"&plans={plans.number}",
            "plans": plans.object_list,
            "plan_tables": lines.inbox_tables("plans", plans.object_list),
            "plan_count": plans.paginator.count,
            "to_propose": to_propose.object_list,
            "proposal_tables": lines.inbox_tables("proposals", to_propose.object_list),
        },
    )


def _inbox_url(data) -> str:
    """The inbox at the pages the form was sent from."""
    query = {key: data[key] for key in ("plans", "propose") if str(data.get(key, "")).isdigit()}
    url = reverse("superior_inbox")
    return f"{url}?{urlencode(query)}" if query else url


@login_required
@require_POST
def approve_plans(request):
    """Approve every ticked plan; each one is its own transaction."""
    _require_role(request.user, Role.SUPERIOR)
    # Only the ticked plans are read; one that is not waiting for the user is refused below.
    ticked = [int(v) for v in request.POST.getlist("pick") if v.isascii() and v.isdigit()]
    ticked = [pk for pk in ticked if pk < 2**63]  # a bigint; anything else is refused below
    waiting = {
        e.pk: e for e in selectors.inbox(request.user, Action.APPROVE_PLAN).filter(pk__in=ticked)
    }
    form = PickForm(request.POST, allowed=waiting)
    if not form.is_valid():
        for error in form.errors.get("pick", []):
            messages.error(request, error)
        return redirect(_inbox_url(request.POST))
    approved, refused = 0, []
    for pk in form.cleaned_data["pick"]:
        evaluation = waiting[pk]
        try:
            services.evaluation_approve_plan(evaluation=evaluation, actor=request.user)
            approved += 1
        except (ValidationError, Conflict, PermissionDenied) as exc:
            refused.append(
                _("%(name)s: %(error)s")
                % {"name": evaluation.cadre.full_name, "error": _error_text(exc)}
            )
    if approved:
        messages.success(request, _("%(count)s plan(s) approved.") % {"count": approved})
    for message in refused:
        messages.error(request, message)
    return redirect(_inbox_url(request.POST))


def _error_text(exc) -> str:
    if isinstance(exc, Conflict):
        return str(exc.message)
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc) or _("You may not do this.")


# ---------------------------------------------------------------------------------------------
# Personnel advisory body


@login_required
def vetting_queue(request):
    _require_role(request.user, Role.ADVISORY)
    return render(
        request,
        "evaluation/vetting_queue.html",
        {"groups": selectors.by_unit(selectors.inbox(request.user, Action.VET))},
    )


def _vetting_forms(evaluation, data=None):
    tasks = list(evaluation.tasks.select_related("primary_responsible").order_by("order", "pk"))
    criteria = list(evaluation.criterion_scores.order_by("order"))
    form = VettingForm(
        data,
        criteria=criteria,
        initial={
            "version": evaluation.version,
            "comment": evaluation.vetting_comment,
            "grade": evaluation.vetted_grade,
        },
    )
    # Criteria the vetting leaves empty keep the cadre's points: show those as the start.
    for criterion in criteria:
        if criterion.vetted_points is None:
            form.initial[f"crit_{criterion.code}"] = localized(criterion.self_points)
    task_forms = [
        (
            task,
            TaskVettingForm(
                data, prefix=f"task-{task.pk}", initial=TaskVettingForm.initial_from(task)
            ),
        )
        for task in tasks
    ]
    return form, task_forms, criteria


@login_required
def vet(request, pk):
    """Step 3a: per task progress, quality level 1/2/3, force majeure; a proposed grade."""
    evaluation = selectors.evaluation_for_user(request.user, pk)
    if not may(request.user, Action.VET, evaluation):
        raise PermissionDenied(_("Only the personnel advisory body vets, at the vetting step."))
    if request.method != "POST":
        form, task_forms, criteria = _vetting_forms(evaluation)
        return render(
            request,
            "evaluation/vet.html",
            {
                "evaluation": evaluation,
                "form": form,
                "task_forms": task_forms,
                "criteria": criteria,
            },
        )
    form, task_forms, criteria = _vetting_forms(evaluation, request.POST)
    status = 400
    if form.is_valid() and all(tf.is_valid() for _task, tf in task_forms):
        error_map = {key: (form, name) for key, name in criteria_error_map(form).items()}
        for task, tf in task_forms:
            for name in tf.fields:
                error_map[f"tasks.{task.pk}.{name}"] = (tf, name)
        status = _attempt(
            form,
            lambda: services.evaluation_vet(
                evaluation=evaluation,
                actor=request.user,
                task_vetting={
                    task.pk: {n: tf.cleaned_data[n] for n in TaskVettingForm.FIELDS}
                    for task, tf in task_forms
                },
                criteria=criteria_points(form),
                comment=form.cleaned_data["comment"],
                grade=form.cleaned_data["grade"] or None,
                expected_version=form.cleaned_data["version"],
            ),
            error_map,
        )
        if status == 200:
            messages.success(
                request,
                _("The evaluation of %(name)s is vetted.") % {"name": evaluation.cadre.full_name},
            )
            return redirect(_next_url(request, reverse("vetting_queue")))
    context = {
        "evaluation": evaluation,
        "form": form,
        "task_forms": task_forms,
        "criteria": criteria,
    }
    return render(request, "evaluation/vet.html", context, status=status)


# --- Catalogue -------------------------------------------------------------------------------


@login_required
def catalogue_list(request):
    _require_role(request.user, Role.ADVISORY, Role.AUTHORITY)
    user = request.user
    form = CatalogueDraftForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            outcome = {}

            def draft():
                outcome["version"] = services.catalogue_draft(
                    tenant=user.tenant, actor=user, note=form.cleaned_data["note"]
                )

            status = _attempt(form, draft)
            if status == 200:
                messages.success(request, _("A new draft of the catalogue is open."))
                return redirect("catalogue_detail", pk=outcome["version"].pk)
    return render(
        request,
        "evaluation/catalogue_list.html",
        {
            "versions": selectors.tenant_catalogues(user),
            "form": form,
            "may_draft": _tenant_role(user, Role.ADVISORY),
        },
        status=status,
    )


@login_required
def catalogue_detail(request, pk):
    """The catalogue editor: the advisory body drafts and submits, the authority approves."""
    _require_role(request.user, Role.ADVISORY, Role.AUTHORITY)
    user = request.user
    version = selectors.catalogue_for_user(user, pk)
    item_form = CatalogueItemForm(request.POST if request.POST.get("action") == "add" else None)
    step_form = CatalogueDraftForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "add":
            status = 400
            if item_form.is_valid():
                status = _attempt(
                    item_form,
                    lambda: services.catalogue_add_item(
                        version=version, actor=user, **item_form.cleaned_data
                    ),
                )
                success = _("The item is added to the draft.")
        elif action in ("submit", "approve"):
            step_form.is_valid()
            call = services.catalogue_submit if action == "submit" else services.catalogue_approve
            status = _attempt(step_form, lambda: call(version=version, actor=user))
            success = (
                _("The catalogue is submitted to the managing authority.")
                if action == "submit"
                else _("The catalogue is approved; cadres can now pick its items.")
            )
        else:
            raise Http404
        if status == 200:
            messages.success(request, success)
            return redirect("catalogue_detail", pk=version.pk)
        version = selectors.catalogue_for_user(user, pk)
    return render(
        request,
        "evaluation/catalogue_detail.html",
        {
            "version": version,
            "items": version.items.order_by("axis", "code"),
            "item_form": item_form,
            "step_form": step_form,
            "may_edit": version.status == CatalogueVersion.Status.DRAFT
            and _tenant_role(user, Role.ADVISORY),
            "may_approve": version.status == CatalogueVersion.Status.SUBMITTED
            and _tenant_role(user, Role.AUTHORITY),
        },
        status=status,
    )


# ---------------------------------------------------------------------------------------------
# Managing authority


@login_required
def decision_list(request):
    """The quota groups of the open quarters, with how many grades wait in each."""
    _require_role(request.user, Role.AUTHORITY)
    return render(
        request,
        "evaluation/decision_list.html",
        {"page": selectors.quota_groups_page(request.user, request.GET.get("page") or 1)},
    )


def _board_page(group, data):
    """The page of the board the request is on (``page`` in the query or the posted form)."""
    return selectors.board_page(group, data.get("page") or 1)


def _decidable(user, page) -> list:
    return [row for row in page.object_list if may(user, Action.DECIDE, row)]


def _board_context(request, group, page, form=None, outcome=None):
    rows = page.object_list
    decidable = _decidable(request.user, page)
    form = form or BoardForm(rows=decidable)
    return {
        "group": group,
        "page": page,
        "lines": lines.board_lines(rows, form),
        "decidable": form.rows,
        "form": form,
        # R9 counts the whole group, whatever page is shown.
        **_meter(scoring.quota_picture(group, members=page.members)),
        "collective": selectors.board_collective(group),
        "outcome": outcome,
    }


def _board_url(group, page) -> str:
    url = reverse("decision_board", args=[group.pk])
    return f"{url}?page={page.number}" if page.number > 1 else url


@login_required
def decision_board(request, pk):
    """Step 4 for one quota group: the collective first, then each cadre within the quota.

    The cadres come a page at a time; a POST decides lines of the page it was sent from only.
    """
    group = selectors.quota_group_for_user(request.user, pk)
    if request.method != "POST":
        page = _board_page(group, request.GET)
        return render(
            request, "evaluation/decision_board.html", _board_context(request, group, page)
        )
    page = _board_page(group, request.POST)
    form = BoardForm(request.POST, rows=_decidable(request.user, page))
    if not form.is_valid():
        context = _board_context(request, group, page, form=form)
        return render(request, "evaluation/decision_board.html", context, status=400)
    decided, failures, status = [], [], 200
    for decision in form.decisions():
        evaluation = decision["evaluation"]
        try:
            services.evaluation_decide(actor=request.user, **decision)
            decided.append(evaluation)
        except QuotaExceeded as exc:
            failures.append((evaluation, str(exc.message), exc.ranked_candidates))
            status = 409
        except Conflict as exc:
            failures.append((evaluation, str(exc.message), None))
            status = 409
        except ValidationError as exc:
            failures.append((evaluation, " ".join(exc.messages), None))
            status = 400 if status == 200 else status
    if decided:
        messages.success(
            request,
            _("%(count)s grade(s) decided: %(names)s.")
            % {"count": len(decided), "names": ", ".join(e.cadre.full_name for e in decided)},
        )
    if not failures:
        return redirect(_board_url(group, page))
    page = selectors.board_page(group, page.number)  # the same lines, as decided now
    context = _board_context(request, group, page, outcome={"failures": failures})
    return render(request, "evaluation/decision_board.html", context, status=status)


@login_required
def quota_meter(request, pk):
    """htmx: the R9 meter of the whole group now, and with the grades ticked on the page."""
    group = selectors.quota_group_for_user(request.user, pk)
    selection = None
    if request.method != "POST":
        picture = scoring.quota_picture(group)
    else:
        page = _board_page(group, request.POST)
        picture = scoring.quota_picture(group, members=page.members)
        picked = BoardForm(request.POST, rows=_decidable(request.user, page)).picked_grades()
        selection = {
            "count": len(picked),
            "excellent": sum(
                1
                for row, grade in picked
                if grade == rules.Grade.EXCELLENT and not scoring.outside_quota(row)
            ),
        }
        selection["total"] = picture.decided_excellent + selection["excellent"]
        selection["over"] = selection["total"] > picture.allowed
    return render(
        request,
        "evaluation/partials/quota_meter.html",
        {"group": group, **_meter(picture, selection)},
    )


def _meter(picture, selection=None) -> dict:
    """The R9 picture and the widths (in %) of the meter's bars on one common scale."""
    quota = picture.allowed
    chosen = selection["total"] if selection else 0
    scale = max(quota, picture.proposed_excellent, picture.decided_excellent, chosen, 1)
    # The rules name candidates by id (the evaluation's); show their names instead.
    names = {str(c["evaluation"]): c["cadre"] for c in picture.ranking}
    quota_reasons = []
    for reason in picture.allocation.reasons:
        head, _space, rest = reason.message.partition(" ")
        message = f"{names[head]} {rest}" if head in names else reason.message
        quota_reasons.append(rules.Reason(reason.rule, message))
    return {
        "picture": picture,
        "selection": selection,
        "quota_reasons": quota_reasons,
        "bars": {
            "decided": round(100 * picture.decided_excellent / scale),
            "proposed": round(100 * picture.proposed_excellent / scale),
            "quota": round(100 * quota / scale),
            "selected": round(100 * chosen / scale),
        },
    }


@login_required
def collective(request, pk):
    """The collective of the group's unit: targets, results, grade (R8), before its members."""
    group = selectors.quota_group_for_user(request.user, pk)
    user = request.user
    found = selectors.collective_of_group(group)
    targets = list(found.targets.all()) if found else []
    targets_form = CollectiveTargetsForm(
        request.POST if request.POST.get("action") == "targets" else None,
        initial={
            "targets": "\n".join(t.title for t in targets),
            "assigned_by": targets[0].assigned_by if targets else "",
        },
    )
    results_data = request.POST if request.POST.get("action") == "results" else None
    result_forms = [
        (
            target,
            CollectiveResultForm(
                results_data,
                prefix=f"target-{target.pk}",
                initial={
                    "status": target.status,
                    "force_majeure_confirmed": target.force_majeure_confirmed,
                    "force_majeure_reason": target.force_majeure_reason,
                },
            ),
        )
        for target in targets
    ]
    # Errors of "results" and "grade" that belong to no field are shown above the page.
    step_form = CollectiveStepForm(request.POST if request.method == "POST" else None)
    step_form.is_valid()
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "targets":
            status = 400
            if targets_form.is_valid():
                status = _attempt(
                    targets_form,
                    lambda: services.collective_set_targets(
                        collective=services.collective_for(period=group.period, unit=group.unit),
                        actor=user,
                        targets=targets_form.target_list(),
                    ),
                )
                success = _("The collective's targets are saved.")
        elif action == "results" and found is not None:
            status = 400
            if all(form.is_valid() for _t, form in result_forms):
                status = _attempt(
                    step_form,
                    lambda: services.collective_record_results(
                        collective=found,
                        actor=user,
                        results={t.pk: form.cleaned_data for t, form in result_forms},
                    ),
                    {
                        f"targets.{t.pk}.{name}": (form, name)
                        for t, form in result_forms
                        for name in form.fields
                    },
                )
                success = _("The results of the collective's targets are saved.")
        elif action == "grade" and found is not None:
            status = _attempt(
                step_form, lambda: services.collective_grade(collective=found, actor=user)
            )
            success = _("The collective is graded; its members can now be decided.")
        else:
            raise Http404
        if status == 200:
            messages.success(request, success)
            return redirect("collective", pk=group.pk)
        found = selectors.collective_of_group(group)
    return render(
        request,
        "evaluation/collective.html",
        {
            "group": group,
            "collective": found,
            "targets_form": targets_form,
            "step_form": step_form,
            "result_forms": result_forms,
            "may_manage": covers(user, Role.AUTHORITY, group.unit),
        },
        status=status,
    )


@login_required
def discrepancies(request):
    """R17: proposals higher than the decision, per proposer and per head."""
    _require_role(request.user, Role.AUTHORITY)
    rows = selectors.authority_discrepancies(request.user)
    return render(
        request,
        "evaluation/discrepancies.html",
        {"rows": rows, **selectors.discrepancy_totals(rows)},
    )


@login_required
def flags(request):
    """Reassignment flags set at decision, and R15 replacement flags."""
    _require_role(request.user, Role.AUTHORITY)
    return render(
        request,
        "evaluation/flags.html",
        {
            "reassignments": selectors.reassignment_flags(request.user),
            "replacements": selectors.replacement_flags(request.user),
        },
    )


@login_required
def suspension_list(request):
    _require_role(request.user, Role.AUTHORITY)
    proposals = selectors.pending_suspensions(request.user)
    return render(
        request,
        "evaluation/suspensions.html",
        {"proposals": [(p, SuspensionDecideForm(prefix=f"s{p.pk}")) for p in proposals]},
    )


@login_required
@require_POST
def suspension_decide(request, pk):
    _require_role(request.user, Role.AUTHORITY)
    proposal = selectors.suspension_for_user(request.user, pk)
    form = SuspensionDecideForm(request.POST, prefix=f"s{proposal.pk}")
    status = 400
    if form.is_valid():
        status = _attempt(
            form,
            lambda: services.suspension_decide(
                proposal=proposal,
                actor=request.user,
                accept=form.cleaned_data["accept"],
                reason=form.cleaned_data["reason"],
            ),
        )
        if status == 200:
            messages.success(request, _("The decision on the suspension is recorded."))
            return redirect("suspension_list")
    proposals = [
        (p, form if p.pk == proposal.pk else SuspensionDecideForm(prefix=f"s{p.pk}"))
        for p in selectors.pending_suspensions(request.user)
    ]
    return render(request, "evaluation/suspensions.html", {"proposals": proposals}, status=status)


# ---------------------------------------------------------------------------------------------
# Organisation department


@login_required
def publication(request):
    """Publish the decided results of a quarter; see what is already published."""
    _require_role(request.user, Role.ORGANISATION, Role.AUTHORITY)
    periods = list(selectors.tenant_periods(request.user)[:8])
    return render(
        request,
        "evaluation/publication.html",
        {"rows": selectors.publication_rows(request.user, periods)},
    )


@login_required
@require_POST
def publish_period(request, pk):
    _require_role(request.user, Role.ORGANISATION, Role.AUTHORITY)
    period = selectors.period_for_user(request.user, pk)
    try:
        count = services.period_publish(period=period, actor=request.user)
    except (Conflict, ValidationError) as exc:
        messages.error(request, _error_text(exc))
        return redirect("publication")
    messages.success(
        request,
        _("%(count)s result(s) of %(period)s published.") % {"count": count, "period": period},
    )
    return redirect("publication")


@login_required
def progress(request):
    """Who is late at which step, per unit, against the quarter's deadlines."""
    _require_role(request.user, Role.ORGANISATION, Role.AUTHORITY)
    period = selectors.chosen_period(request.user, request.GET.get("period"))
    return render(
        request,
        "evaluation/progress.html",
        {
            "period": period,
            "periods": selectors.tenant_periods(request.user),
            "rows": selectors.period_progress(request.user, period) if period else [],
            "states": [EvaluationState(s).label for s in selectors.PROGRESS_STATES],
            "today": timezone.localdate(),
        },
    )


@login_required
def results(request):
    """The tenant's published results, for every member of the tenant."""
    if request.user.tenant_id is None:
        raise PermissionDenied(_("Your account belongs to no organisation."))
    period = selectors.chosen_period(request.user, request.GET.get("period"))
    page = None
    if period is not None:
        page = Paginator(selectors.published_results(request.user, period), 100).get_page(
            request.GET.get("page")
        )
    return render(
        request,
        "evaluation/results.html",
        {
            "period": period,
            "periods": selectors.tenant_periods(request.user),
            "page": page,
            "period_query": f"&period={period.pk}" if period else "",
        },
    )


# ---------------------------------------------------------------------------------------------
# Tenant administrator: periods and rule sets


@login_required
def admin_periods(request):
    _tenant_administrator(request.user)
    user = request.user
    form = PeriodCreateForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            status = _attempt(
                form,
                lambda: services.period_create(tenant=user.tenant, actor=user, **form.cleaned_data),
            )
            if status == 200:
                messages.success(
                    request,
                    _("Quarter %(quarter)s/%(year)s is created; open it to start the evaluations.")
                    % form.cleaned_data,
                )
                return redirect("admin_periods")
    return render(
        request,
        "evaluation/admin_periods.html",
        {"periods": selectors.tenant_periods(user), "form": form},
        status=status,
    )


@login_required
@require_POST
def admin_period_open(request, pk):
    _tenant_administrator(request.user)
    period = selectors.period_for_user(request.user, pk)
    summary = services.period_open(period=period, actor=request.user)
    messages.success(
        request,
        _(
            "%(period)s is open: %(created)s evaluation(s) created, %(deferred)s deferred, "
            "%(carried)s carried over."
        )
        % {
            "period": period,
            "created": summary.created,
            "deferred": summary.deferred,
            "carried": summary.carried_over,
        },
    )
    for cadre, reason in summary.skipped:
        messages.warning(
            request, _("%(name)s was left out: %(reason)s") % {"name": cadre, "reason": reason}
        )
    return redirect("admin_periods")


@login_required
def admin_rule_sets(request):
    """The tenant's rule set versions; a new version applies to quarters starting after it."""
    _tenant_administrator(request.user)
    user = request.user
    in_force = selectors.rule_set_for(user.tenant, timezone.localdate())
    form = RuleSetForm(request.POST or None, initial=RuleSetForm.initial_from(in_force))
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            status = _attempt(form, lambda: _rule_set_create(user, form, in_force))
            if status == 200:
                messages.success(request, _("The new rule set version is saved."))
                return redirect("admin_rule_sets")
    return render(
        request,
        "evaluation/admin_rule_sets.html",
        {"versions": selectors.tenant_rule_sets(user.tenant), "form": form, "in_force": in_force},
        status=status,
    )


def _rule_set_create(user, form, in_force) -> RuleSetVersion:
    params = {k: v for k, v in in_force.to_dict().items() if k not in ("version", "effective_from")}
    params.update(form.params())
    try:
        return services.rule_set_create(
            tenant=user.tenant,
            actor=user,
            version=form.cleaned_data["version"],
            effective_from=form.cleaned_data["effective_from"],
            params=params,
        )
    except ValidationError as exc:
        # Parameters the form does not show are reported on the form as a whole.
        raise ValidationError(
            {
                (field if field in form.fields else "__all__"): errors
                for field, errors in exc.message_dict.items()
            }
        ) from exc
