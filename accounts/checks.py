"""Start-up checks: the second factor is only as good as the middleware that reads it from the session."""

from django.conf import settings
from django.core.checks import Error, register

REQUIRED_ORDER = [
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.IdleTimeoutMiddleware",
    "accounts.middleware.SecondFactorMiddleware",
]


@register()
def second_factor_middleware(app_configs, **kwargs):
    middleware = list(settings.MIDDLEWARE)
    positions = [middleware.index(name) if name in middleware else -1 for name in REQUIRED_ORDER]
    if -1 in positions or positions != sorted(positions):
        return [
            Error(
                "The sign-in middleware is missing or out of order.",
                hint="MIDDLEWARE must hold, in this order: " + ", ".join(REQUIRED_ORDER) + ".",
                id="accounts.E001",
            )
        ]
    return []
