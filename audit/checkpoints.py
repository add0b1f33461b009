"""Ed25519-signed checkpoints of the ledger head."""

import base64
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import keys
from audit.chain import checkpoint_message, format_time, key_id_for
from audit.models import Action, AuditEvent, Checkpoint
from audit.services import _lock_head, record_event

PASSWORD_VARIABLE = "AUDIT_SIGNING_KEY_PASSWORD"  # noqa: S105 - the name of the variable, not a password


class SigningKeyError(RuntimeError):
    pass


def _password():
    password = os.environ.get(PASSWORD_VARIABLE)
    return password.encode() if password else None


def ensure_signing_key(path: str | os.PathLike | None = None) -> Path:
    """Create an Ed25519 key (PEM PKCS#8, readable by the owner only) at path unless one is there; return the path."""
    path = Path(path or settings.AUDIT_SIGNING_KEY_FILE)
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    password = _password()
    encryption = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    pem = Ed25519PrivateKey.generate().private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    # O_EXCL: two processes racing to create the key must not overwrite each other's.
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    return path


def load_signing_key(path: str | os.PathLike | None = None) -> Ed25519PrivateKey:
    """The private key from settings.AUDIT_SIGNING_KEY_FILE (password, if any, from AUDIT_SIGNING_KEY_PASSWORD)."""
    path = Path(path or settings.AUDIT_SIGNING_KEY_FILE)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SigningKeyError(_("No ledger signing key at %(path)s.") % {"path": path})
    try:
        key = serialization.load_pem_private_key(data, password=_password())
    except (ValueError, TypeError) as exc:
        raise SigningKeyError(_("The ledger signing key at %(path)s cannot be read: %(error)s") % {"path": path, "error": exc})
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(_("The ledger signing key at %(path)s is not an Ed25519 key.") % {"path": path})
    return key


def public_key_pem(key: Ed25519PrivateKey) -> str:
    return keys.public_key_pem(key.public_key())


def checkpoint_create(*, actor: AbstractBaseUser | None = None, key: Ed25519PrivateKey | None = None) -> Checkpoint | None:
    """Sign the ledger head, store the checkpoint and record it in the ledger; None when the ledger is empty.

    A key signs only while it is registered and not retired; the first
    signature of a new key registers it (a ledger event the checkpoint covers).
    """
    key = key or load_signing_key()
    with transaction.atomic(durable=True):
        connection = transaction.get_connection()
        _lock_head(connection)
        if not AuditEvent.objects.exists():
            return None
        signing_key = keys.signing_key_ensure_registered(actor=actor, public_key=key.public_key())
        try:
            keys.ensure_may_sign(signing_key)
        except keys.KeyRegisterError as exc:
            raise SigningKeyError(str(exc))
        head = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
        seq, head_hash = head
        latest = Checkpoint.objects.order_by("-seq").first()
        # Recording a checkpoint moves the head by one checkpoint event; when
        # nothing else has happened since, the last checkpoint still stands.
        if (
            latest is not None
            and not AuditEvent.objects.filter(seq__gt=latest.seq).exclude(action=Action.LEDGER_CHECKPOINT).exists()
        ):
            return latest
        signed_at = format_time(timezone.now())
        key_id = key_id_for(key.public_key())
        signature = base64.b64encode(key.sign(checkpoint_message(seq, head_hash, signed_at, key_id))).decode()
        checkpoint = Checkpoint.objects.create(
            seq=seq,
            hash=head_hash,
            signed_at=signed_at,
            key_id=key_id,
            public_key_pem=public_key_pem(key),
            signature=signature,
        )
        record_event(
            actor=actor,
            action=Action.LEDGER_CHECKPOINT,
            target=checkpoint,
            data={"seq": seq, "hash": head_hash, "signed_at": signed_at, "key_id": key_id, "signature": signature},
        )
    return checkpoint
