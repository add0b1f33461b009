from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
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


CAMERA_CODE_PATTERN = r"^[A-Za-z0-9_-]+\Z"

# A camera's code names its recordings' folders and files on the recorders and in exported packages, so it is
# limited to characters that mean nothing to a file system or an address: letters, digits, '-' and '_'.
validate_camera_code = RegexValidator(
    CAMERA_CODE_PATTERN,
    _("A camera code may hold only Latin letters without accents, digits, hyphens (-) and underscores (_)."),
    code="camera_code",
)
