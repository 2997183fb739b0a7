"""Forms of the five steps. They check types and shapes; the services check the rules."""

from decimal import Decimal

from django import forms
from django.forms.renderers import Jinja2
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from cadres.forms import DateInput
from evaluation import rules
from evaluation.models import AXIS_CHOICES, QUALITY_LEVELS, Task

GRADES = rules.Grade.choices
NO_CHOICE = [("", "—")]
AXIS_ROLE_CHOICES = [("", _("Not used"))] + list(rules.AxisRole.choices)

# The forms drawn once per line of a table (a task of the plan, the self-assessment or the
# vetting; a cadre of the decision board) render hundreds of widgets on one page. Django's own
# widget templates rendered by Jinja2 take less than half the time the template engine takes
# (bench/README.md). One instance: it compiles each widget template once. The admin keeps the
# default renderer: its widgets have no Jinja2 templates.
ROW_RENDERER = Jinja2()


def plain(value: Decimal | None) -> Decimal | None:
    """A decimal without trailing zeros (25.00 → 25) and never in exponent form."""
    if value is None:
        return None
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()


def localized(value: Decimal | None) -> str:
    """A decimal as typed in the active language (6,5 in Vietnamese), or empty."""
    return "" if value is None else formats.localize_input(plain(value))


def service_errors(form, exc, prefix_map=None) -> None:
    """Put a service's ValidationError on the fields it names; the rest above the form."""
    prefix_map = prefix_map or {}
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for key, messages in exc.message_dict.items():
        target = prefix_map.get(key, key)
        if isinstance(target, tuple):  # (another form, its field)
            other, field = target
            other.add_error(field if field in other.fields else None, messages)
        elif target in form.fields:
            form.add_error(target, messages)
        else:
            form.add_error(None, messages)


class VersionedForm(forms.Form):
    """Carries the version the user saw, so that a change in between is a conflict."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class ApprovePlanForm(VersionedForm):
    comment = forms.CharField(
        label=_("Comment (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ReturnForm(VersionedForm):
    reason = forms.CharField(
        label=_("Reason for returning"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("A reason is required.")},
    )


class ProposeForm(VersionedForm):
    grade = forms.ChoiceField(label=_("Proposed grade"), choices=GRADES)
    comment = forms.CharField(
        label=_("Comment of the direct superior level"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class DecideForm(VersionedForm):
    grade = forms.ChoiceField(label=_("Decided grade"), choices=GRADES)
    comment = forms.CharField(
        label=_("Comment of the managing authority"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    reassignment = forms.BooleanField(label=_("Consider reassignment"), required=False)


class DeferForm(VersionedForm):
    case = forms.ChoiceField(label=_("Case of deferral"), choices=[])
    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("A reason is required.")},
    )

    def __init__(self, *args, **kwargs):
        from evaluation.services import DEFERRAL_CASES

        super().__init__(*args, **kwargs)
        self.fields["case"].choices = NO_CHOICE + list(DEFERRAL_CASES.items())


class ReopenForm(VersionedForm):
    reason = forms.CharField(
        label=_("Reason for reopening"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("A reason is required.")},
    )


class PublishForm(VersionedForm):
    pass


class SuspensionProposeForm(forms.Form):
    reason = forms.CharField(
        label=_("Why the cadre should be suspended"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("A reason is required.")},
    )


class SuspensionDecideForm(forms.Form):
    accept = forms.TypedChoiceField(
        label=_("Decision"),
        choices=[("yes", _("Suspend the cadre")), ("no", _("Do not accept"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("A reason is required.")},
    )


class PickForm(forms.Form):
    """Evaluations picked for a bulk action, among those the user may act on."""

    pick = forms.TypedMultipleChoiceField(
        coerce=int, error_messages={"required": _("Tick at least one line.")}
    )

    def __init__(self, *args, allowed, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pick"].choices = [(pk, pk) for pk in allowed]


# ---------------------------------------------------------------------------------------------
# Step 1: the plan


class TaskPlanForm(forms.Form):
    """One task of the plan. Everything may stay empty in a draft; submitting checks the rest."""

    default_renderer = ROW_RENDERER

    objective = forms.CharField(label=_("Objective"), required=False, max_length=500)
    title = forms.CharField(label=_("Task"), required=False, max_length=500)
    expected_product = forms.CharField(label=_("Product"), required=False, max_length=500)
    axis = forms.TypedChoiceField(
        label=_("Axis"),
        choices=NO_CHOICE + AXIS_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
    )
    weight = forms.DecimalField(
        label=_("Weight (%)"),
        required=False,
        min_value=0,
        max_value=100,
        decimal_places=2,
        localize=True,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 5}),
    )
    primary_responsible = forms.TypedChoiceField(
        label=_("Primary responsible"), coerce=int, empty_value=None, required=False
    )
    responsibility = forms.CharField(label=_("Responsibility"), required=False, max_length=255)
    accepting_authority = forms.CharField(label=_("Accepted by"), required=False, max_length=255)
    deadline = forms.DateField(label=_("Deadline"), required=False, widget=DateInput())
    catalogue_item = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, responsible_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["primary_responsible"].choices = NO_CHOICE + list(responsible_choices)

    def task_data(self) -> dict:
        data = {k: v for k, v in self.cleaned_data.items() if k not in ("DELETE",)}
        data["weight"] = data["weight"] if data["weight"] is not None else Decimal(0)
        if not data.get("catalogue_item"):
            data.pop("catalogue_item", None)
        return data


class BasePlanFormSet(forms.BaseFormSet):
    # A row with none of these filled is an unused blank row, not a task.
    CONTENT = [
        "objective",
        "title",
        "expected_product",
        "axis",
        "weight",
        "responsibility",
        "accepting_authority",
        "deadline",
        "catalogue_item",
    ]

    def tasks(self) -> list[dict]:
        """The tasks to save, in order: deleted and blank rows left out."""
        return [form.task_data() for form in self.kept_forms()]

    def kept_forms(self) -> list:
        return [
            form
            for form in self.forms
            if not form.cleaned_data.get("DELETE")
            and any(form.cleaned_data.get(name) not in (None, "") for name in self.CONTENT)
        ]


PlanFormSet = forms.formset_factory(
    TaskPlanForm,
    formset=BasePlanFormSet,
    extra=0,
    can_delete=True,
    max_num=60,
    validate_max=True,
    renderer=ROW_RENDERER,
)


class AxisRolesForm(forms.Form):
    """Primary or secondary for each of the six result axes (R2)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for number, label in AXIS_CHOICES:
            self.fields[f"axis_{number}"] = forms.ChoiceField(
                label=label, choices=AXIS_ROLE_CHOICES, required=False
            )

    @classmethod
    def initial_from(cls, axis_roles: dict) -> dict:
        return {f"axis_{axis}": role for axis, role in (axis_roles or {}).items()}

    def axis_roles(self) -> dict:
        return {
            name.removeprefix("axis_"): value for name, value in self.cleaned_data.items() if value
        }


# ---------------------------------------------------------------------------------------------
# Step 2: the self-assessment (Form 5)


class TaskResultForm(forms.Form):
    default_renderer = ROW_RENDERER

    status = forms.ChoiceField(label=_("Result"), choices=Task.Status.choices)
    completed_on = forms.DateField(label=_("Completed on"), required=False, widget=DateInput())
    exceeded = forms.BooleanField(label=_("Exceeded the target"), required=False)
    self_quality_level = forms.TypedChoiceField(
        label=_("Quality level"),
        choices=NO_CHOICE + QUALITY_LEVELS,
        coerce=int,
        empty_value=None,
        required=False,
    )
    force_majeure_reason = forms.CharField(
        label=_("Force majeure reason"), required=False, max_length=500
    )
    evidence = forms.CharField(
        label=_("Evidence"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    FIELDS = [
        "status",
        "completed_on",
        "exceeded",
        "self_quality_level",
        "force_majeure_reason",
        "evidence",
    ]

    @classmethod
    def initial_from(cls, task: Task) -> dict:
        return {name: getattr(task, name) for name in cls.FIELDS}


def criteria_fields(form, criteria, column: str, label_suffix="") -> None:
    """One text field per general criterion; the service checks the range (R1)."""
    for criterion in criteria:
        value = getattr(criterion, column)
        form.fields[f"crit_{criterion.code}"] = forms.CharField(
            label=criterion.name,
            required=False,
            max_length=10,
            widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 5}),
            help_text=_("0 to %(max)s") % {"max": plain(criterion.max_points)},
        )
        form.initial.setdefault(f"crit_{criterion.code}", localized(value))


def criteria_points(form) -> dict:
    return {
        name.removeprefix("crit_"): value
        for name, value in form.cleaned_data.items()
        if name.startswith("crit_") and value not in (None, "")
    }


def criteria_error_map(form) -> dict:
    return {f"criteria.{name.removeprefix('crit_')}": name for name in form.fields}


class SelfAssessmentForm(forms.Form):
    comment = forms.CharField(
        label=_("Self-assessment of the quarter"),
        required=False,
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    self_grade = forms.ChoiceField(
        label=_("The grade I propose for myself"),
        choices=[("", _("The grade the rules compute"))] + GRADES,
        required=False,
    )
    confirm_warnings = forms.BooleanField(
        label=_("I have read the warnings above and submit anyway"), required=False
    )

    def __init__(self, *args, criteria=(), **kwargs):
        super().__init__(*args, **kwargs)
        criteria_fields(self, criteria, "self_points")


# ---------------------------------------------------------------------------------------------
# Step 3a: vetting


class TaskVettingForm(forms.Form):
    default_renderer = ROW_RENDERER

    progress = forms.ChoiceField(
        label=_("Progress"), choices=NO_CHOICE + Task.Progress.choices, required=False
    )
    quality_level = forms.TypedChoiceField(
        label=_("Quality level"),
        choices=NO_CHOICE + QUALITY_LEVELS,
        coerce=int,
        empty_value=None,
        required=False,
    )
    difficulty_scope = forms.CharField(
        label=_("Difficulty and scope"), required=False, max_length=500
    )
    force_majeure_decision = forms.ChoiceField(
        label=_("Force majeure"), choices=Task.ForceMajeure.choices, required=False
    )
    force_majeure_decision_reason = forms.CharField(
        label=_("Reason for the force majeure decision"), required=False, max_length=500
    )

    FIELDS = [
        "progress",
        "quality_level",
        "difficulty_scope",
        "force_majeure_decision",
        "force_majeure_decision_reason",
    ]

    @classmethod
    def initial_from(cls, task: Task) -> dict:
        initial = {name: getattr(task, name) for name in cls.FIELDS}
        if not task.progress and task.status == Task.Status.DONE:
            late = task.completed_on and task.deadline and task.completed_on > task.deadline
            initial["progress"] = Task.Progress.LATE if late else Task.Progress.ON_TIME
            initial["quality_level"] = task.self_quality_level
        return initial


class VettingForm(VersionedForm):
    comment = forms.CharField(
        label=_("Vetting comment"),
        required=False,
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    grade = forms.ChoiceField(
        label=_("Grade proposed by the vetting"),
        choices=[("", _("The grade the rules compute"))] + GRADES,
        required=False,
    )

    def __init__(self, *args, criteria=(), **kwargs):
        super().__init__(*args, **kwargs)
        criteria_fields(self, criteria, "vetted_points")


# ---------------------------------------------------------------------------------------------
# Catalogue


class CatalogueDraftForm(forms.Form):
    note = forms.CharField(label=_("Note"), required=False, max_length=500)


class CatalogueItemForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=50)
    title = forms.CharField(label=_("Task or product"), max_length=500)
    axis = forms.TypedChoiceField(label=_("Result axis"), choices=AXIS_CHOICES, coerce=int)
    expected_product = forms.CharField(label=_("Expected product"), max_length=500)
    difficulty = forms.DecimalField(
        label=_("Difficulty coefficient"),
        initial=Decimal(1),
        min_value=Decimal("0.1"),
        max_value=Decimal("9.99"),
        decimal_places=2,
        localize=True,
    )


# ---------------------------------------------------------------------------------------------
# Collective (graded before its members)


class CollectiveTargetsForm(forms.Form):
    targets = forms.CharField(
        label=_("Targets assigned by the competent level, one per line"),
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": _("Name at least one target.")},
    )
    assigned_by = forms.CharField(label=_("Assigned by"), required=False, max_length=255)

    def target_list(self) -> list[dict]:
        return [
            {"title": line.strip(), "assigned_by": self.cleaned_data["assigned_by"]}
            for line in self.cleaned_data["targets"].splitlines()
            if line.strip()
        ]


class CollectiveStepForm(forms.Form):
    action = forms.CharField(required=False)


class CollectiveResultForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Result"),
        choices=[
            ("pending", _("Not yet reported")),
            ("done", _("Done")),
            ("not_done", _("Not done")),
        ],
    )
    force_majeure_confirmed = forms.BooleanField(label=_("Force majeure confirmed"), required=False)
    force_majeure_reason = forms.CharField(
        label=_("Force majeure reason"), required=False, max_length=500
    )


# ---------------------------------------------------------------------------------------------
# Tenant administration: periods and rule sets


class PeriodCreateForm(forms.Form):
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    quarter = forms.TypedChoiceField(
        label=_("Quarter"), choices=[(q, q) for q in (1, 2, 3, 4)], coerce=int
    )


RULE_SET_NUMBERS = [
    ("excellent_quota_percent", _("Excellent quota (%) (R9)")),
    ("raised_quota_percent", _("Raised Excellent quota (%) (R9)")),
    ("excellent_floor", _("Excellent from (points) (R5)")),
    ("good_floor", _("Good from (points) (R5)")),
    ("completed_floor", _("Completed from (points) (R5)")),
    ("excellent_exceeded_percent", _("Share of tasks exceeded for Excellent (%) (R5)")),
    ("completed_late_percent", _("Share of late tasks allowed for Completed (%) (R5)")),
    ("late_factor", _("Factor for a late task (R3)")),
    ("collective_threshold_percent", _("Collective completion threshold (%) (R8)")),
    ("report_before_day", _("Reports arrive before this day of the next quarter (R16)")),
    ("long_absence_months", _("Months of training or leave that defer a quarter (R11)")),
    ("first_appointment_months", _("Months left after a first appointment (R11b)")),
    ("previous_unit_months", _("Months in a previous unit that call for its comment (R12)")),
]
RULE_SET_FLAGS = [
    ("weight_by_difficulty", _("Weight tasks by the catalogue's difficulty coefficient (R3)")),
    ("level_three_not_completed", _("A task at quality level 3 counts as not completed (R7)")),
    (
        "forced_not_completed_in_quarter",
        _("Discipline or degradation also applies per quarter (R6)"),
    ),
    ("grade_q4_separately", _("Grade the fourth quarter on its own (R13)")),
    ("combine_sick_and_maternity", _("Add sick and maternity leave together (R11c)")),
]
INTEGER_PARAMS = {
    "excellent_quota_percent",
    "raised_quota_percent",
    "excellent_exceeded_percent",
    "completed_late_percent",
    "collective_threshold_percent",
    "report_before_day",
    "long_absence_months",
    "first_appointment_months",
    "previous_unit_months",
}


class RuleSetForm(forms.Form):
    """A new version of the tenant's rule set; the rules module checks its invariants."""

    version = forms.CharField(label=_("Version"), max_length=50)
    effective_from = forms.DateField(label=_("Effective from"), widget=DateInput())
    general_criteria = forms.CharField(
        label=_("General criteria, one per line: code | name | maximum points (R1)"),
        widget=forms.Textarea(attrs={"rows": 5}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, label in RULE_SET_NUMBERS:
            if name in INTEGER_PARAMS:
                self.fields[name] = forms.IntegerField(label=label)
            else:
                self.fields[name] = forms.DecimalField(
                    label=label, decimal_places=2, max_digits=5, localize=True
                )
        for name, label in RULE_SET_FLAGS:
            self.fields[name] = forms.BooleanField(label=label, required=False)

    @classmethod
    def initial_from(cls, rule_set: rules.RuleSet) -> dict:
        initial = {name: getattr(rule_set, name) for name, _label in RULE_SET_NUMBERS}
        initial.update({name: getattr(rule_set, name) for name, _label in RULE_SET_FLAGS})
        initial["general_criteria"] = "\n".join(
            f"{c.code} | {c.name} | {plain(c.max_points)}" for c in rule_set.general_criteria
        )
        return initial

    def clean_general_criteria(self):
        criteria = []
        for number, line in enumerate(self.cleaned_data["general_criteria"].splitlines(), 1):
            if not line.strip():
                continue
            parts = [p.strip() for p in line.split("|")]
            try:
                code, name, points = parts
                points = Decimal(points.replace(",", "."))
            except (ValueError, ArithmeticError) as exc:
                raise forms.ValidationError(
                    _("Line %(number)s: write code | name | maximum points.") % {"number": number}
                ) from exc
            if not code or not name:
                raise forms.ValidationError(
                    _("Line %(number)s: write code | name | maximum points.") % {"number": number}
                )
            criteria.append({"code": code, "name": name, "max_points": str(points)})
        return criteria

    def params(self) -> dict:
        """The parameters as the rule set stores them (JSON-safe)."""
        data = dict(self.cleaned_data)
        params = {"general_criteria": data["general_criteria"]}
        for name, _label in RULE_SET_NUMBERS:
            value = data[name]
            params[name] = int(value) if name in INTEGER_PARAMS else str(value)
        for name, _label in RULE_SET_FLAGS:
            params[name] = bool(data[name])
        return params


# ---------------------------------------------------------------------------------------------
# Decision board


class BoardForm(forms.Form):
    """Decide one line (the ``one`` button) or every ticked line, each with its own grade."""

    default_renderer = ROW_RENDERER

    pick = forms.TypedMultipleChoiceField(coerce=int, required=False)
    one = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    comment = forms.CharField(
        label=_("Comment of the managing authority"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, rows=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = {row.pk: row for row in rows}
        choices = [(pk, pk) for pk in self.rows]
        self.fields["pick"].choices = choices
        self.fields["one"].choices = [("", "")] + choices
        for row in rows:
            self.fields[f"grade_{row.pk}"] = forms.ChoiceField(
                label=_("Grade for %(name)s") % {"name": row.cadre.full_name},
                choices=NO_CHOICE + GRADES,
                initial=row.proposed_grade or row.computed_grade,
                required=False,
            )
            self.fields[f"flag_{row.pk}"] = forms.BooleanField(
                label=_("Consider reassignment of %(name)s") % {"name": row.cadre.full_name},
                required=False,
            )
            self.fields[f"version_{row.pk}"] = forms.IntegerField(
                widget=forms.HiddenInput, initial=row.version, required=False
            )

    def clean(self):
        data = super().clean()
        if not data.get("one") and not data.get("pick"):
            raise forms.ValidationError(_("Tick at least one line, or decide one line."))
        for pk in self._chosen():
            if not data.get(f"grade_{pk}"):
                self.add_error(f"grade_{pk}", _("Choose one of the four grades."))
        return data

    def _chosen(self) -> list[int]:
        data = self.cleaned_data
        return [data["one"]] if data.get("one") else list(data.get("pick") or [])

    def decisions(self) -> list[dict]:
        """What to decide: one line, or every ticked one, in the board's order."""
        data = self.cleaned_data
        chosen = self._chosen()
        return [
            {
                "evaluation": self.rows[pk],
                "grade": data[f"grade_{pk}"],
                "reassignment": data[f"flag_{pk}"],
                "comment": data["comment"],
                "expected_version": data.get(f"version_{pk}"),
            }
            for pk in self.rows
            if pk in chosen
        ]

    def picked_grades(self) -> list[tuple]:
        """(evaluation, grade) of the ticked lines, read from unvalidated data for the meter."""
        picked = set(self.data.getlist("pick")) if hasattr(self.data, "getlist") else set()
        return [
            (row, self.data.get(f"grade_{pk}", ""))
            for pk, row in self.rows.items()
            if str(pk) in picked
        ]
