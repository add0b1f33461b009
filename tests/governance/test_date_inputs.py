"""Every date and time field is typed as dd/mm/yyyy (hh:mm), never left to the browser's language."""

import importlib
import inspect
from pathlib import Path

import pytest
from django import forms

from governance.forms import DayFirstDateField
from requests.forms import LocalDateTimeField

ROOT = Path(__file__).resolve().parents[2]
FORM_MODULES = ("accounts.forms", "governance.forms", "requests.forms", "oversight.forms")


def _date_fields():
    for module_name in FORM_MODULES:
        module = importlib.import_module(module_name)
        for _name, form in inspect.getmembers(module, inspect.isclass):
            if issubclass(form, forms.BaseForm) and form.__module__ == module_name:
                for field_name, field in form.base_fields.items():
                    if isinstance(field, (forms.DateField, forms.DateTimeField)):
                        yield f"{module_name}.{form.__name__}.{field_name}", field


@pytest.mark.parametrize(("where", "field"), list(_date_fields()))
def test_a_date_field_is_typed_day_first_whatever_the_browser(where, field):
    assert isinstance(field, (DayFirstDateField, LocalDateTimeField)), where
    assert field.widget.input_type == "text", where


def test_no_template_asks_the_browser_for_its_own_date_picker():
    pages = [path for path in (ROOT / "templates").rglob("*.html") if 'type="date' in path.read_text(encoding="utf-8")]
    pages += [path for path in (ROOT / "templates").rglob("*.html") if "datetime-local" in path.read_text(encoding="utf-8")]
    assert pages == []
