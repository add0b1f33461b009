import datetime as dt

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from governance.models import Area, Camera


class DayFirstDateField(forms.DateField):
    """A date typed as dd/mm/yyyy whatever the browser's language (its own picker shows mm/dd in English).

    An ISO date (yyyy-mm-dd, what links and a browser's picker send) is read too."""

    widget = forms.DateInput(
        attrs={"inputmode": "numeric", "autocomplete": "off", "placeholder": "dd/mm/yyyy", "class": "date"},
        format="%d/%m/%Y",
    )
    input_formats = ["%d/%m/%Y", "%Y-%m-%d"]
    default_error_messages = {
        "invalid": _("Write the date as dd/mm/yyyy, for example 02/12/2026."),
        "out_of_range": _("Write a date between 01/01/1900 and 31/12/9998."),
    }
    # Beyond these a day's local midnight, or the day after it, is no longer a date Python or the database can hold.
    EARLIEST, LATEST = dt.date(1900, 1, 1), dt.date(9998, 12, 31)

    def validate(self, value):
        super().validate(value)
        if value and not self.EARLIEST <= value <= self.LATEST:
            raise ValidationError(self.error_messages["out_of_range"], code="out_of_range")


class CameraFilterForm(forms.Form):
    """The camera list's search box and filters, read from the query string."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.SearchInput(attrs={"placeholder": _("Code, name or area"), "autocomplete": "off"}),
    )
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", _("All kinds")), *Camera.Kind.choices])
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("All statuses")), *Camera.Status.choices])
    district = forms.ModelChoiceField(
        label=_("District"),
        required=False,
        to_field_name="code",
        empty_label=_("All districts"),
        queryset=Area.objects.filter(level=Area.Level.DISTRICT).order_by("name_vi"),
    )
    page = forms.IntegerField(required=False, min_value=1, max_value=100_000, widget=forms.HiddenInput)

    def filters(self):
        """The valid filters only: a bad value in one field must not throw away the others."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "query": (data.get("q") or "").strip(),
            "kind": data.get("kind") or None,
            "status": data.get("status") or None,
            "area": data.get("district"),
        }

    def page_number(self):
        self.is_valid()
        return getattr(self, "cleaned_data", {}).get("page") or 1
