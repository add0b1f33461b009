"""Sessions that passed the second factor, for tests.

Reviewers, approvers, custodians, auditors and administrators need one to
decide, export, place holds, take copies of the ledger and open the admin
(governance.second_factor). `sign_in_verified` signs a user in on a test client
and verifies the session with a backup-code device of theirs, exactly as
`django_otp.login` does after a right code; `client.force_login` alone gives a
session that has not passed it.
"""

import time

from django.conf import settings
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from governance.models import User


def sign_in_verified(client: Client, user: User, *, language: str | None = None) -> Client:
    """Sign `user` in on `client`, second factor passed; `language` ("en", "vi") sets the cookie the pages follow."""
    client.force_login(user)
    device, _created = StaticDevice.objects.get_or_create(user=user, name="test", defaults={"confirmed": True})
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    if language is not None:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def authenticator(user, *, key="3132333435363738393031323334353637383930"):
    """A confirmed authenticator-app device with a known key (hex), and a function giving its current code."""
    device = TOTPDevice.objects.create(user=user, name="phone", key=key, confirmed=True)
    return device, lambda: f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


BROWSER_KEY = "3132333435363738393031323334353637383930"


def enrol_for_browser(user, *, backup_codes=5):
    """An authenticator app with a known key, and backup codes, for browser tests that sign in as `user`."""
    TOTPDevice.objects.create(user=user, name="phone", key=BROWSER_KEY, confirmed=True)
    backup = StaticDevice.objects.create(user=user, name="Backup codes", confirmed=True)
    for n in range(backup_codes):
        backup.token_set.create(token=f"{user.pk:04d}backup{n}")


def fresh_code(user):
    """What a person would type: the app's current code, or a backup code when this code was already used."""
    device = TOTPDevice.objects.get(user=user)
    step = int(time.time() - device.t0) // device.step
    if device.last_t < step:
        return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"
    return StaticToken.objects.filter(device__user=user).values_list("token", flat=True).first()
