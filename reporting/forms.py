from django import forms
from django.utils.translation import gettext_lazy as _

from reporting.models import Export


class ExportForm(forms.Form):
    """What to export. Ids are resolved by the view, so another tenant's id is a 404."""

    kind = forms.ChoiceField(label=_("Export"), choices=Export.Kind.choices)
    period = forms.IntegerField(label=_("Quarter"), min_value=1)
    unit = forms.IntegerField(label=_("Unit"), min_value=1, required=False)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("kind") in (Export.Kind.UNIT_SUMMARY, Export.Kind.FORM5_BATCH) and not (
            cleaned.get("unit")
        ):
            self.add_error("unit", _("Choose the unit to export."))
        return cleaned


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("Workbook (.xlsx)"),
        widget=forms.ClearableFileInput(
            attrs={
                "accept": ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
        ),
    )
