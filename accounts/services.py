"""Second-factor devices: enrolment, backup codes, removal and recovery, each with its ledger event."""

import secrets

from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django_otp import login as otp_login
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from accounts.permissions import can_reset_second_factor
from audit import record_event
from audit.models import Action
from governance.models import User

BACKUP_CODE_COUNT = 10
# Letters and digits that cannot be mistaken for each other when read aloud or copied from paper.
BACKUP_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


class SecondFactorError(Exception):
    """A refused change; the message says why in the user's language."""


def device_kind(device: Device) -> str:
    if isinstance(device, TOTPDevice):
        return "totp"
    if isinstance(device, StaticDevice):
        return "backup_codes"
    if isinstance(device, WebAuthnCredential):
        return "webauthn"
    return device._meta.label_lower


def _new_backup_code():
    return "".join(secrets.choice(BACKUP_ALPHABET) for _ in range(10))


def totp_begin(*, actor: User) -> TOTPDevice:
    """A new authenticator-app device, unconfirmed until the user types its first code (older unconfirmed ones go)."""
    with transaction.atomic(durable=True):
        TOTPDevice.objects.filter(user=actor, confirmed=False).delete()
        return TOTPDevice.objects.create(user=actor, name=_("Authenticator app"), confirmed=False)


def totp_confirm(*, actor: User, device: TOTPDevice, code: str, http_request: HttpRequest | None = None) -> list[str] | None:
    """Confirm an authenticator app with its first code; the session counts as verified. Returns new backup codes, if any."""
    if device.user_id != actor.pk or device.confirmed:
        raise SecondFactorError(_("This authenticator app is not waiting for confirmation."))
    # Outside the transaction: a wrong code's throttling must be kept, not rolled back with the refusal.
    if not device.verify_token(code):
        raise SecondFactorError(_("The code does not match. Check the time on your phone and type the newest code."))
    with transaction.atomic(durable=True):
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        record_event(
            actor=actor,
            action=Action.SECOND_FACTOR_ENROL,
            target=actor,
            data={"kind": "totp", "device": device.name},
            http_request=http_request,
        )
        codes = None
        if not StaticDevice.objects.filter(user=actor, confirmed=True).exists():
            codes = _backup_codes_replace(actor=actor, http_request=http_request)
    if http_request is not None and not http_request.user.is_verified():
        otp_login(http_request, device)
    return codes


def _backup_codes_replace(*, actor, http_request):
    device, _created = StaticDevice.objects.get_or_create(user=actor, defaults={"name": _("Backup codes"), "confirmed": True})
    device.token_set.all().delete()
    codes = [_new_backup_code() for _ in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    record_event(
        actor=actor,
        action=Action.SECOND_FACTOR_ENROL,
        target=actor,
        data={"kind": "backup_codes", "count": len(codes)},
        http_request=http_request,
    )
    return codes


def backup_codes_replace(*, actor: User, http_request: HttpRequest | None = None) -> list[str]:
    """Ten new single-use backup codes, shown once; the old ones stop working."""
    with transaction.atomic(durable=True):
        return _backup_codes_replace(actor=actor, http_request=http_request)


def device_remove(*, actor: User, device: Device, http_request: HttpRequest | None = None) -> None:
    """The user removes one of their own devices."""
    if device.user_id != actor.pk:
        raise SecondFactorError(_("This device is not yours."))
    with transaction.atomic(durable=True):
        data = {"kind": device_kind(device), "device": str(device.name)}
        device.delete()
        record_event(actor=actor, action=Action.SECOND_FACTOR_REMOVE, target=actor, data=data, http_request=http_request)


def second_factor_record_verified(*, actor: User, device: Device, http_request: HttpRequest | None = None) -> None:
    """The session passed the second factor (a code, a backup code or a security key)."""
    with transaction.atomic(durable=True):
        record_event(
            actor=actor,
            action=Action.LOGIN_SECOND_FACTOR,
            target=actor,
            data={"kind": device_kind(device), "device": str(device.name)},
            http_request=http_request,
        )


def webauthn_record_enrolled(*, actor: User, device: WebAuthnCredential, http_request: HttpRequest | None = None) -> None:
    with transaction.atomic(durable=True):
        record_event(
            actor=actor,
            action=Action.SECOND_FACTOR_ENROL,
            target=actor,
            data={"kind": "webauthn", "device": str(device.name)},
            http_request=http_request,
        )


def devices_of(user: User) -> list[Device]:
    """Every confirmed device of a user, authenticator apps, security keys and backup codes."""
    return [
        *TOTPDevice.objects.filter(user=user, confirmed=True),
        *WebAuthnCredential.objects.filter(user=user, confirmed=True),
        *StaticDevice.objects.filter(user=user, confirmed=True).prefetch_related("token_set"),
    ]


def second_factor_reset(
    *, actor: User | None, user: User, reason: str, http_request: HttpRequest | None = None
) -> dict[str, int]:
    """Recovery by a system administrator: every device of `user` is removed; they enrol again at next sign-in.

    `actor` None is the server's operator (management command)."""
    if actor is not None and not can_reset_second_factor(actor, user):
        raise SecondFactorError(_("You may not reset this account's second factor."))
    reason = (reason or "").strip()
    if not reason:
        raise SecondFactorError(_("Say why the second factor is reset (for example, the phone was lost)."))
    with transaction.atomic(durable=True):
        removed = {
            "totp": TOTPDevice.objects.filter(user=user).delete()[1].get("otp_totp.TOTPDevice", 0),
            "webauthn": WebAuthnCredential.objects.filter(user=user).delete()[1].get(WebAuthnCredential._meta.label, 0),
            "backup_codes": StaticDevice.objects.filter(user=user).delete()[1].get("otp_static.StaticDevice", 0),
        }
        record_event(
            actor=actor,
            action=Action.SECOND_FACTOR_RESET,
            target=user,
            data={"username": user.username, "removed": removed, "reason": reason},
            http_request=http_request,
        )
    return removed
