from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Sign-in and second factor")

    def ready(self):
        from accounts import checks, signals  # noqa: F401 - connect the receivers, register the checks
