import functools

from django import forms
from django.apps import apps
from django.core.validators import validate_slug
from django.utils.text import capfirst
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from audit.models import Action, Outcome
from governance.forms import DayFirstDateField
from governance.widgets import FastModelChoiceField, FastSelect, bilingual_label
from oversight.selectors import MAX_PAGE_SIZE, PAGE_SIZE

BAD_CURSOR = _("This page address is not valid; start again from the newest events.")
CURSOR_ERRORS = {"invalid": BAD_CURSOR, "min_value": BAD_CURSOR}
FILTER_FIELDS = ("actor", "agency", "action", "target_type", "target_id", "reference", "outcome", "date_from", "date_to")


# The apps whose records the ledger names as the object of an event.
LEDGER_APPS = ("governance", "requests", "oversight", "audit")


def object_kinds() -> list[tuple[str, str]]:
    """(type as the ledger stores it, its name in the active language) for every kind of object events name."""
    return list(_object_kinds(get_language()))


@functools.lru_cache(maxsize=8)
def _object_kinds(language):
    # The models do not change while the process runs: named once per language.
    kinds = [
        (model._meta.label_lower, str(capfirst(model._meta.verbose_name)))
        for model in apps.get_models()
        if model._meta.app_label in LEDGER_APPS and not model._meta.label_lower.endswith("objectpermission")
    ]
    return tuple(sorted(kinds, key=lambda kind: kind[1]))


class LedgerFilterForm(forms.Form):
    """The ledger list's GET parameters: filters, page size and one keyset cursor."""

    actor = forms.CharField(label=_("User name"), max_length=150, required=False)
    agency = forms.CharField(label=_("Agency code"), max_length=40, required=False, validators=[validate_slug])
    action = forms.ChoiceField(
        label=_("Action"), choices=[("", _("Any action")), *Action.choices], required=False, widget=FastSelect
    )
    target_type = forms.ChoiceField(
        label=_("Object type"),
        choices=lambda: [("", _("Any object")), *object_kinds()],
        required=False,
        widget=FastSelect,
    )
    target_id = forms.CharField(label=_("Object id"), max_length=64, required=False)
    reference = forms.CharField(label=_("Request reference"), max_length=40, required=False)
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=[("", _("Any outcome")), *Outcome.choices], required=False, widget=FastSelect
    )
    date_from = DayFirstDateField(label=_("From date"), required=False)
    date_to = DayFirstDateField(label=_("To date"), required=False)
    size = forms.IntegerField(label=_("Events per page"), min_value=1, max_value=MAX_PAGE_SIZE, required=False)
    after = forms.IntegerField(min_value=1, required=False, widget=forms.HiddenInput, error_messages=CURSOR_ERRORS)
    before = forms.IntegerField(min_value=0, required=False, widget=forms.HiddenInput, error_messages=CURSOR_ERRORS)

    def clean_size(self):
        return self.cleaned_data.get("size") or PAGE_SIZE

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("target_id") and not cleaned.get("target_type"):
            self.add_error("target_type", _("Give the object type together with the object id."))
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from and date_to and date_from > date_to:
            self.add_error("date_to", _("The end date cannot be before the start date."))
        if cleaned.get("after") is not None and cleaned.get("before") is not None:
            raise forms.ValidationError(BAD_CURSOR)
        return cleaned

    def filters(self):
        """The filters alone, empty values dropped (also what the ledger records about the view)."""
        return {name: self.cleaned_data[name] for name in FILTER_FIELDS if self.cleaned_data.get(name) not in (None, "")}


# Oversight reports -----------------------------------------------------------------

REPORT_MAX_DAYS = 3 * 366


def _scope_choice(label, empty_label, option_label):
    """An optional choice of one record narrowing a report; the records offered are set by the form (its queryset)."""
    return FastModelChoiceField(
        label=label, queryset=None, required=False, empty_label=empty_label, widget=FastSelect, option_label=option_label
    )


class ReportForm(forms.Form):
    """The scope of a period report. Agencies and areas offered are those in the user's jurisdiction."""

    date_from = DayFirstDateField(label=_("From date"))
    date_to = DayFirstDateField(label=_("To date"))
    agency = _scope_choice(_("Agency"), _("All agencies"), bilingual_label("name"))
    area = _scope_choice(_("Area"), _("All areas"), bilingual_label("name"))
    legal_basis = _scope_choice(_("Legal basis"), _("All legal bases"), bilingual_label("title", code="code"))

    def __init__(self, *args, jurisdiction=None, **kwargs):
        from governance.models import Agency, Area, LegalBasis

        super().__init__(*args, **kwargs)
        agencies = Agency.objects.select_related("area").order_by("name_vi")
        areas = Area.objects.order_by("path")
        if jurisdiction is not None:
            agencies = agencies.filter(area__path__startswith=jurisdiction.path)
            areas = areas.filter(path__startswith=jurisdiction.path)
        self.fields["agency"].queryset = agencies
        self.fields["area"].queryset = areas
        self.fields["legal_basis"].queryset = LegalBasis.objects.order_by("code")
        self.fields["agency"].error_messages["invalid_choice"] = _("Choose an agency within your jurisdiction.")
        self.fields["area"].error_messages["invalid_choice"] = _("Choose an area within your jurisdiction.")

    def clean(self):
        from django.utils import timezone

        cleaned = super().clean()
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from and date_to:
            if date_from > date_to:
                self.add_error("date_to", _("The end date cannot be before the start date."))
            elif (date_to - date_from).days + 1 > REPORT_MAX_DAYS:
                self.add_error("date_to", _("A report covers at most three years; split the period."))
            elif date_from > timezone.localdate():
                self.add_error("date_from", _("The period starts in the future."))
        return cleaned


# Offline verification bundles ------------------------------------------------------

# A bundle is one ZIP of every ledger event of the period: a year keeps it a size one downloads and checks at once.
BUNDLE_MAX_DAYS = 366


class BundleForm(forms.Form):
    """The period of an offline verification bundle: whole days in Vietnam time, none of them in the future."""

    date_from = DayFirstDateField(label=_("From date"))
    date_to = DayFirstDateField(label=_("To date"))

    def clean(self):
        from django.utils import timezone

        cleaned = super().clean()
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from and date_to:
            today = timezone.localdate()
            if date_from > date_to:
                self.add_error("date_to", _("The end date cannot be before the start date."))
            elif date_from > today:
                self.add_error("date_from", _("The period starts in the future."))
            elif date_to > today:
                self.add_error("date_to", _("The period ends in the future; end it today at the latest."))
            elif (date_to - date_from).days + 1 > BUNDLE_MAX_DAYS:
                self.add_error("date_to", _("A bundle covers at most 366 days; split the period."))
        return cleaned
