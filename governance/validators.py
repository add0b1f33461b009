from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

ALLOWED_SCHEMES = {"rtsp", "rtsps", "http", "https", "onvif", "file", "nvr"}


def validate_source_url(value):
    """A camera source address may name a host and path, never a password or user name."""
    if not value:
        return
    try:
        parts = urlsplit(value)
    except ValueError:
        raise ValidationError(_("The source address is not a valid address."), code="invalid") from None
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        raise ValidationError(
            _("The source address must start with one of: %(schemes)s.") % {"schemes": ", ".join(sorted(ALLOWED_SCHEMES))},
            code="scheme",
        )
    if parts.username or parts.password or "@" in parts.netloc:
        raise ValidationError(
            _("Do not put a user name or password in the source address; name the stored credential instead."),
            code="credentials",
        )
    lowered = parts.query.lower()
    if any(key in lowered for key in ("password=", "pwd=", "passwd=", "token=", "secret=")):
        raise ValidationError(_("The source address must not carry a password or token."), code="credentials")
