"""Form widgets that a list page renders on every view.

Django renders a <select> option by option through its widget templates; a filter with a few hundred agencies
then costs more than the page's rows. `FastSelect` writes the same markup from Python."""

from html import escape

from django import forms
from django.utils.safestring import mark_safe
from django.utils.translation import get_language


def _attrs(attrs):
    """` name="value"` pairs as Django's attrs.html writes them: False left out, True as a bare name."""
    return "".join(
        f" {escape(str(name))}" if value is True else f' {escape(str(name))}="{escape(str(value))}"'
        for name, value in attrs.items()
        if value is not False and value is not None
    )


class FastSelect(forms.Select):
    """A `forms.Select` rendered without a template per option (same markup, option groups included)."""

    def render(self, name, value, attrs=None, renderer=None):
        # What ChoiceWidget.get_context and select.html make of the choices, without an option dict per choice.
        values = self.format_value(value)
        chosen = set(values)
        parts = [f'<select name="{escape(str(name))}"{_attrs(self.build_attrs(self.attrs, attrs))}>']
        has_selected = False

        def option(option_value, label):
            nonlocal has_selected
            option_value = "" if option_value is None else str(option_value)
            selected = not has_selected and option_value in chosen
            has_selected = has_selected or selected
            mark = " selected" if selected else ""
            return f'\n  <option value="{escape(option_value)}"{mark}>{escape(str(label))}</option>'

        for option_value, label in self.choices:
            if isinstance(label, (list, tuple)):
                parts.append(f'\n  <optgroup label="{escape(str(option_value))}">')
                parts.extend(option(sub_value, sub_label) for sub_value, sub_label in label)
                parts.append("\n  </optgroup>")
            else:
                parts.append(option(option_value, label))
        parts.append("\n</select>")
        return mark_safe("".join(parts))  # noqa: S308 - every name, value and label above is escaped


def bilingual_label(field, code=None):
    """Options labelled as a bilingual model's `__str__` labels it, read from columns instead of objects: `field` in
    the active language (the Vietnamese text where the English one is empty), after the code where `code` names it."""
    columns = ((code,) if code else ()) + (f"{field}_vi", f"{field}_en")

    def label(row, english):
        *head, vi, en = row
        text = en if english and en else vi
        return f"{head[0]} — {text}" if head else text

    return columns, label


class ListedChoiceIterator(forms.models.ModelChoiceIterator):
    """A model choice field's options read in one query: Django's own iterator opens a server-side cursor on
    PostgreSQL (three round trips) for a list of a few hundred rows at most. Where the field names its label's
    columns (`option_label`), the options are read as rows, without building an object per option."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        if self.field.option_label is None:
            for obj in list(self.queryset):
                yield self.choice(obj)
            return
        columns, label = self.field.option_label
        english = (get_language() or "vi").startswith("en")
        for key, *row in self.queryset.values_list(self.field.to_field_name or "pk", *columns):
            yield (key, label(row, english))


class FastModelChoiceField(forms.ModelChoiceField):
    """A ModelChoiceField drawn by FastSelect, its options read in one query (as rows where `option_label` gives
    the label's columns and how to join them, see `bilingual_label`)."""

    iterator = ListedChoiceIterator
    widget = FastSelect

    def __init__(self, *args, option_label=None, **kwargs):
        self.option_label = option_label
        super().__init__(*args, **kwargs)
