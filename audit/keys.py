"""The register of ledger signing keys: which keys sign checkpoints, since when, and which were retired.

A key is identified by its fingerprint (SHA-256 of the raw Ed25519 public
key). Retired keys stay in the register: the checkpoints they signed before
their retirement still verify, and the bundle carries them. Registering and
retiring are ledger events, written in the same transaction as the change.
"""

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.chain import fingerprint_for, format_fingerprint, format_time, parse_fingerprint
from audit.models import Action, SigningKey
from audit.services import _lock_head, record_event


class KeyRegisterError(ValueError):
    pass


def public_key_pem(public_key: Ed25519PublicKey) -> str:
    """SubjectPublicKeyInfo PEM text of a public key."""
    return public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def _lock_ledger():
    # Registering, retiring and signing all hold the ledger head lock, so a
    # key is never retired between the check that it may sign and its signature.
    _lock_head(transaction.get_connection())


def _create(*, actor, public_key, note, http_request=None):
    fingerprint = fingerprint_for(public_key)
    signing_key = SigningKey.objects.create(
        key_id=fingerprint[:16],
        fingerprint=fingerprint,
        public_key_pem=public_key_pem(public_key),
        valid_from=timezone.now(),
        note=note,
    )
    record_event(
        actor=actor,
        action=Action.SIGNING_KEY_REGISTER,
        target=signing_key,
        data={
            "key_id": signing_key.key_id,
            "fingerprint": fingerprint,
            "valid_from": signing_key.valid_from,
            "public_key_pem": signing_key.public_key_pem,
            "note": note,
        },
        http_request=http_request,
    )
    return signing_key


def signing_key_register(
    *, actor: AbstractBaseUser | None, public_key: Ed25519PublicKey, note: str = "", http_request: HttpRequest | None = None
) -> SigningKey:
    """Add a public key to the register, valid from now; refuses a key already registered."""
    with transaction.atomic(durable=True):
        _lock_ledger()
        existing = SigningKey.objects.filter(fingerprint=fingerprint_for(public_key)).first()
        if existing is not None:
            raise KeyRegisterError(
                _("The key %(fingerprint)s is already registered (valid from %(valid_from)s).")
                % {"fingerprint": existing.display_fingerprint, "valid_from": format_time(existing.valid_from)}
            )
        return _create(actor=actor, public_key=public_key, note=note, http_request=http_request)


def signing_key_ensure_registered(*, actor: AbstractBaseUser | None, public_key: Ed25519PublicKey, note: str = "") -> SigningKey:
    """The register's entry for this key, registering it first if it is new (a key's first signature, seed_demo)."""
    with transaction.atomic():
        _lock_ledger()
        existing = SigningKey.objects.filter(fingerprint=fingerprint_for(public_key)).first()
        if existing is not None:
            return existing
        return _create(actor=actor, public_key=public_key, note=note)


def find_signing_key(text: str | None) -> SigningKey:
    """The registered key named by its fingerprint (64 hex digits, separators allowed) or its key id (16 hex digits)."""
    text = (text or "").strip()
    compact = text.replace(" ", "").replace(":", "").replace("-", "").lower()
    if len(compact) == 16 and all(c in "0123456789abcdef" for c in compact):
        signing_key = SigningKey.objects.filter(key_id=compact).first()
    else:
        try:
            signing_key = SigningKey.objects.filter(fingerprint=parse_fingerprint(text)).first()
        except ValueError:
            raise KeyRegisterError(
                _("%(value)r is neither a key fingerprint (64 hexadecimal digits) nor a key id (16 hexadecimal digits).")
                % {"value": text}
            )
    if signing_key is None:
        raise KeyRegisterError(_("No registered signing key matches %(value)s.") % {"value": text})
    return signing_key


def signing_key_retire(
    *, actor: AbstractBaseUser | None, signing_key: SigningKey, note: str = "", http_request: HttpRequest | None = None
) -> SigningKey:
    """Retire a key from now on: it signs no more checkpoints, and those it signed before stay valid."""
    with transaction.atomic(durable=True):
        _lock_ledger()
        signing_key = SigningKey.objects.select_for_update().get(pk=signing_key.pk)
        if signing_key.retired_at is not None:
            raise KeyRegisterError(
                _("The key %(fingerprint)s was already retired on %(retired_at)s.")
                % {"fingerprint": signing_key.display_fingerprint, "retired_at": format_time(signing_key.retired_at)}
            )
        signing_key.retired_at = timezone.now()
        if note:
            signing_key.note = f"{signing_key.note}\n{note}".strip()
        signing_key.save(update_fields=["retired_at", "note"])
        record_event(
            actor=actor,
            action=Action.SIGNING_KEY_RETIRE,
            target=signing_key,
            data={
                "key_id": signing_key.key_id,
                "fingerprint": signing_key.fingerprint,
                "retired_at": signing_key.retired_at,
                "note": note,
            },
            http_request=http_request,
        )
    return signing_key


def ensure_may_sign(signing_key: SigningKey) -> None:
    """Raise KeyRegisterError when the key was retired; call with the ledger lock held."""
    if signing_key.retired_at is not None:
        raise KeyRegisterError(
            _(
                "The ledger signing key %(fingerprint)s was retired on %(retired_at)s and may no longer sign checkpoints; "
                "set AUDIT_SIGNING_KEY_FILE to a new key."
            )
            % {"fingerprint": format_fingerprint(signing_key.fingerprint), "retired_at": format_time(signing_key.retired_at)}
        )
