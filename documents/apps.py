from pathlib import Path

from django.apps import AppConfig
from django.conf import settings
from django.core import checks
from django.utils.translation import gettext_lazy as _


def signing_identity_in_place(app_configs, **kwargs):
    """In production the organisation's signing key and certificate must be there: every record is signed."""
    if not settings.PRODUCTION:
        return []
    missing = [
        name
        for name in ("DOCUMENT_SIGNING_KEY_FILE", "DOCUMENT_SIGNING_CERT_FILE")
        if not Path(getattr(settings, name)).is_file()
    ]
    if not missing:
        return []
    return [
        checks.Error(
            _("The organisation's document signing files are missing: %(names)s.") % {"names": ", ".join(missing)},
            hint=_("Install the key and the certificate issued for the organisation; records cannot be issued unsigned."),
            id="documents.E001",
        )
    ]


class DocumentsConfig(AppConfig):
    name = "documents"
    verbose_name = _("Documents")

    def ready(self):
        checks.register(signing_identity_in_place, checks.Tags.security, deploy=True)
