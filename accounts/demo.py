"""The demo's second factor: every privileged demo account shares one published authenticator key.

Demo only: the key is printed by `seed_demo` and `demo_accounts`, and
`manage.py demo_otp` prints its current code, so that a newcomer walks the
journey with or without a phone. Refused when DJANGO_ENV=production, like the
demo accounts themselves.
"""

import base64

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit import record_event
from audit.models import Action
from governance.second_factor import requires_second_factor

# 20 bytes, the size authenticator apps expect for SHA-1 TOTP.
DEMO_KEY = b"demo-camera-otp-2026"
DEMO_DEVICE_NAME = "demo"
STEP = 30


class DemoRefused(Exception):
    pass


def refuse_in_production():
    if settings.PRODUCTION:
        raise DemoRefused(
            _("Demo accounts, with their published password and second-factor key, are refused when DJANGO_ENV=production.")
        )


def demo_secret():
    """The demo key as an authenticator app takes it (base32)."""
    return base64.b32encode(DEMO_KEY).decode().rstrip("=")


def demo_code():
    """The demo key's code at this moment."""
    return f"{totp(DEMO_KEY, step=STEP, t0=0, digits=6):06d}"


def demo_second_factor_seed(users):
    """Give each privileged demo account the demo authenticator key; returns how many were given one."""
    refuse_in_production()
    given = 0
    for user in users:
        if not user.is_active or not requires_second_factor(user):
            continue
        if TOTPDevice.objects.filter(user=user, name=DEMO_DEVICE_NAME).exists():
            continue
        with transaction.atomic():
            TOTPDevice.objects.create(user=user, name=DEMO_DEVICE_NAME, key=DEMO_KEY.hex(), step=STEP, confirmed=True)
            record_event(
                actor=None,
                action=Action.SECOND_FACTOR_ENROL,
                target=user,
                data={"kind": "totp", "device": DEMO_DEVICE_NAME, "demo": True},
            )
        given += 1
    return given


def demo_instructions():
    """Lines for the demo's printed accounts: how to pass the second factor."""
    return [
        _(
            "Reviewers, approvers, custodians, auditors and administrators confirm each sign-in with a one-time code "
            "(demo only: every demo account shares one authenticator key)."
        ),
        _("  Add this key to an authenticator app: %(secret)s") % {"secret": demo_secret()},
        _("  or print the current code with: .venv/bin/python manage.py demo_otp"),
    ]
