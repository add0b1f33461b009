import importlib
import sys

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def load_rest_framework_test():
    """Import `rest_framework.test` (drf-spectacular builds its schema requests with it) while the name `requests` is
    hidden: that module uses the HTTP library `requests` when it finds one, and here the name is our own app package,
    which lacks what it looks for. Hidden, the import takes the path for "not installed"."""
    if "rest_framework.test" in sys.modules:
        return
    ours = sys.modules.get("requests")
    sys.modules["requests"] = None  # `import requests` raises ImportError while this stands
    try:
        importlib.import_module("rest_framework.test")
    finally:
        if ours is None:
            del sys.modules["requests"]
        else:
            sys.modules["requests"] = ours


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = _("Integration API")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        load_rest_framework_test()

        from api.webhooks import on_status_changed
        from requests.signals import status_changed

        status_changed.connect(on_status_changed, dispatch_uid="api.webhooks.on_status_changed")
