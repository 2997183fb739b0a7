from django import forms
from django.utils.translation import gettext_lazy as _

from cadres.models import Absence, Assignment


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
