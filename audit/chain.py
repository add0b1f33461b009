"""The ledger's chain format, one definition for the application and for the offline verifier.

How an event is written as text and hashed, how a checkpoint's signed message
is built, how a key's fingerprint is formed and written, and the walk that
checks a run of events link by link. Only the standard library (and
`cryptography`, imported where a key object is read), Python 3.9+: this file
travels in every ledger bundle beside verifier.py, so the rule that builds the
chain and the rule that checks it are the same code.
"""

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone

# datetime.UTC needs Python 3.11; the bundle's readers may have an older one.
UTC = timezone.utc  # noqa: UP017

FORMAT = "v1"
GENESIS_HASH = "0" * 64

# The order of the envelope is part of the format: never reorder, only append
# with a new FORMAT.
ENVELOPE_FIELDS = (
    "seq",
    "occurred_at",
    "actor_id",
    "actor_username",
    "actor_agency",
    "actor_roles",
    "action",
    "target_type",
    "target_id",
    "reference",
    "outcome",
    "client_ip",
    "prev_hash",
)


def canonical_json(value):
    """Deterministic JSON text: sorted keys, no spaces, UTF-8 kept as is."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)


def format_time(moment):
    """The one textual form of an event time: UTC, microseconds, +00:00."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _reference_envelope_json(envelope):
    return json.dumps(list(envelope), ensure_ascii=False, separators=(",", ":"))


def _fast_envelope_json():
    """The same text as _reference_envelope_json from one prebuilt C encoder (json.dumps builds one per call).

    Verifying walks millions of events, so this saves most of the encoding
    time. Used only when it gives identical text on a sample; otherwise the
    plain json.dumps form is used.
    """
    try:
        from json.encoder import c_make_encoder, encode_basestring

        # Arguments as json.JSONEncoder.iterencode passes them (no markers: envelopes hold no cycles).
        chunks = c_make_encoder(None, None, encode_basestring, None, ":", ",", False, False, True)

        def encode(envelope):
            return "".join(chunks(envelope, 0))

        sample = (7, "2026-01-02T03:04:05.000006+00:00", None, 'Nguyễn "Ä"\n', "", ["a", "b"], "x", "", "1", "", "ok", "", "0")
        if encode(sample) == _reference_envelope_json(sample):
            return encode
    except (ImportError, TypeError):
        pass
    return _reference_envelope_json


_envelope_json = _fast_envelope_json()
_sha256 = hashlib.sha256


def event_hash(envelope, payload):
    """SHA-256 over the envelope (a sequence in ENVELOPE_FIELDS order) and the canonical payload text."""
    return _sha256(f"{FORMAT}\n{_envelope_json(envelope)}\n{payload}".encode()).hexdigest()


def checkpoint_message(seq, head_hash, signed_at, key_id):
    """The exact bytes an Ed25519 checkpoint signature covers."""
    return canonical_json({"format": FORMAT, "seq": seq, "hash": head_hash, "signed_at": signed_at, "key_id": key_id}).encode()


def fingerprint_for(public_key):
    """The key's fingerprint: SHA-256 of the raw public key, 64 lowercase hex digits."""
    from cryptography.hazmat.primitives import serialization

    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def key_id_for(public_key):
    """The short key id inside every checkpoint's signed message: the fingerprint's first 16 hex digits."""
    return fingerprint_for(public_key)[:16]


_FINGERPRINT_SEPARATORS = re.compile(r"[\s:\-]+")


def parse_fingerprint(text):
    """64 lowercase hex digits from a fingerprint written with or without spaces, colons or hyphens; ValueError otherwise."""
    digits = _FINGERPRINT_SEPARATORS.sub("", str(text)).lower()
    if len(digits) != 64 or not all(c in "0123456789abcdef" for c in digits):
        raise ValueError(
            f"{text!r} is not a key fingerprint: expected 64 hexadecimal digits "
            "(spaces, colons or hyphens between them are allowed)"
        )
    return digits


def format_fingerprint(fingerprint):
    """The one readable form of a fingerprint: 16 groups of 4 lowercase hex digits separated by spaces."""
    digits = parse_fingerprint(fingerprint)
    return " ".join(digits[i : i + 4] for i in range(0, 64, 4))


@dataclass
class Problem:
    seq: int
    kind: str  # "hash", "gap", "fork", "link", "checkpoint", "format"
    detail: str

    def __str__(self):
        return f"seq {self.seq}: {self.kind}: {self.detail}"


@dataclass
class ChainWalker:
    """Feed events in sequence order; remembers the first problem and every hash it needs for checkpoints."""

    expected_prev: str = None  # None: accept whatever the first event links to (a bundle that starts mid-chain)
    first_seq: int = None
    last_seq: int = None
    last_hash: str = None
    last_prev: str = None
    count: int = 0
    problem: Problem = None
    wanted: dict = field(default_factory=dict)  # seq -> hash, filled for seqs listed in `want`
    want: set = field(default_factory=set)

    def feed(self, envelope, payload, stored_hash):
        if self.problem:
            return False
        seq, prev = envelope[0], envelope[12]
        if self.last_seq is not None:
            if seq == self.last_seq:
                return self._fail(seq, "fork", "two events carry the same sequence number")
            if seq != self.last_seq + 1:
                return self._fail(self.last_seq + 1, "gap", f"sequence jumps from {self.last_seq} to {seq}")
            if prev != self.last_hash:
                if prev == self.last_prev:
                    return self._fail(seq, "fork", f"links to the same predecessor as event {self.last_seq}")
                return self._fail(
                    seq, "link", f"previous hash {prev[:16]}… does not match event {self.last_seq} ({self.last_hash[:16]}…)"
                )
        elif self.expected_prev is not None and prev != self.expected_prev:
            return self._fail(seq, "link", "first event does not link to the expected predecessor")
        computed = event_hash(envelope, payload)
        if computed != stored_hash:
            return self._fail(seq, "hash", f"stored hash {stored_hash[:16]}… but content hashes to {computed[:16]}…")
        if self.first_seq is None:
            self.first_seq = seq
        self.last_seq, self.last_hash, self.last_prev = seq, stored_hash, prev
        self.count += 1
        if seq in self.want:
            self.wanted[seq] = stored_hash
        return True

    def _fail(self, seq, kind, detail):
        self.problem = Problem(seq, kind, detail)
        return False
