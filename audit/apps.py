from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("Audit ledger")

    def ready(self):
        from audit import checks, signals  # noqa: F401  (registers the checks, connects the sign-in receivers)
