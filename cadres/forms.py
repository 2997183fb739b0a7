from django import forms
from django.utils.translation import gettext_lazy as _

from cadres.models import Absence, Assignment, Cadre, Position, Unit, User
from cadres.roles import Role


class DateInput(forms.DateInput):
    """A text date input in dd/mm/yyyy, the way dates are written on Vietnamese documents."""

    def __init__(self, attrs=None):
        super().__init__(
            attrs={"placeholder": _("dd/mm/yyyy"), "inputmode": "numeric", **(attrs or {})},
            format="%d/%m/%Y",
        )


class TenantFormMixin:
    """Limits every choice of another model to the tenant of the user filling the form."""

    def __init__(self, *args, tenant, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            queryset = getattr(field, "queryset", None)
            if queryset is not None and hasattr(queryset, "for_tenant"):
                field.queryset = queryset.for_tenant(tenant)


class AssignmentForm(TenantFormMixin, forms.ModelForm):
    class Meta:
        model = Assignment
        fields = ["cadre", "position", "start_date", "end_date", "note"]
        widgets = {"start_date": DateInput(), "end_date": DateInput()}


class AbsenceForm(TenantFormMixin, forms.ModelForm):
    class Meta:
        model = Absence
        fields = ["cadre", "kind", "start_date", "end_date", "reason"]
        widgets = {"start_date": DateInput(), "end_date": DateInput()}


def service_errors(form, exc) -> None:
    """Put a service's ValidationError on the fields it names; the rest above the form."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for field, messages in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, messages)


class UnitForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=255)
    code = forms.CharField(label=_("Code"), max_length=50)
    kind = forms.ChoiceField(label=_("Kind"), choices=Unit.Kind.choices)
    parent = forms.ModelChoiceField(
        label=_("Parent unit"), queryset=Unit.objects.none(), required=False
    )

    def __init__(self, *args, units, may_add_root=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = units
        self.fields["parent"].required = not may_add_root
        self.fields["parent"].empty_label = _("— a top-level unit —") if may_add_root else None
        self.fields["parent"].label_from_instance = indented


def indented(unit) -> str:
    return "\u2003" * unit.depth + unit.name


class UnitMoveForm(forms.Form):
    parent = forms.ModelChoiceField(
        label=_("New parent unit"), queryset=Unit.objects.none(), required=False
    )

    def __init__(self, *args, units, may_add_root=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = units
        self.fields["parent"].required = not may_add_root
        self.fields["parent"].empty_label = _("— top level —") if may_add_root else None
        self.fields["parent"].label_from_instance = indented


class PositionForm(forms.Form):
    title = forms.CharField(label=_("Title of the post"), max_length=255)
    kind = forms.ChoiceField(
        label=_("Kind of post"), choices=Position.Kind.choices, initial=Position.Kind.LEADERSHIP
    )
    collective_role = forms.ChoiceField(
        label=_("Role in the collective"),
        choices=Position.CollectiveRole.choices,
        initial=Position.CollectiveRole.MEMBER,
    )


class AssignByCodeForm(forms.Form):
    """Put a cadre, found by staff code in the user's tenant, in a post."""

    cadre_code = forms.CharField(label=_("Staff code of the cadre"), max_length=50)
    start_date = forms.DateField(label=_("From"), widget=DateInput())
    end_date = forms.DateField(label=_("To (optional)"), required=False, widget=DateInput())
    note = forms.CharField(label=_("Note"), required=False, max_length=255)

    def __init__(self, *args, tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.tenant = tenant

    def clean_cadre_code(self):
        code = self.cleaned_data["cadre_code"].strip()
        try:
            self.cleaned_data["cadre"] = Cadre.objects.for_tenant(self.tenant).get(code=code)
        except Cadre.DoesNotExist as exc:
            raise forms.ValidationError(
                _("No cadre of your organisation has the staff code %(code)s.") % {"code": code}
            ) from exc
        return code


class CadreForm(forms.ModelForm):
    username = forms.CharField(
        label=_("Account (user name, optional)"), required=False, max_length=150
    )

    class Meta:
        model = Cadre
        fields = [
            "code",
            "full_name",
            "date_of_birth",
            "party_post",
            "government_post",
            "mass_organisation_post",
            "evaluation_mode",
        ]
        widgets = {"date_of_birth": DateInput()}

    def __init__(self, *args, tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.tenant = tenant

    def clean_code(self):
        code = self.cleaned_data["code"].strip()
        if Cadre.objects.for_tenant(self.tenant).filter(code=code).exists():
            raise forms.ValidationError(_("This staff code is already used."))
        return code

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        if not username:
            return None
        try:
            user = User.objects.get(username=username, tenant=self.tenant)
        except User.DoesNotExist as exc:
            raise forms.ValidationError(
                _("No account of your organisation is called %(name)s.") % {"name": username}
            ) from exc
        if Cadre.objects.filter(user=user).exists():
            raise forms.ValidationError(_("This account already belongs to a cadre."))
        return user

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        data["user"] = data.pop("username")
        return data


class CadreAbsenceForm(forms.ModelForm):
    class Meta:
        model = Absence
        fields = ["kind", "start_date", "end_date", "reason"]
        widgets = {"start_date": DateInput(), "end_date": DateInput()}


class CadreSearchForm(forms.Form):
    q = forms.CharField(label=_("Name or staff code"), required=False, max_length=100)


class RoleGrantForm(forms.Form):
    username = forms.CharField(label=_("User name"), max_length=150)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    unit = forms.ModelChoiceField(label=_("Unit (the grant covers its sub-units)"), queryset=None)

    def __init__(self, *args, tenant, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.tenant = tenant
        self.fields["unit"].queryset = units
        self.fields["unit"].label_from_instance = indented

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        try:
            return User.objects.get(username=username, tenant=self.tenant, is_active=True)
        except User.DoesNotExist as exc:
            raise forms.ValidationError(
                _("No active account of your organisation is called %(name)s.") % {"name": username}
            ) from exc


class RoleRevokeForm(forms.Form):
    grant = forms.IntegerField(widget=forms.HiddenInput)
