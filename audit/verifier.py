#!/usr/bin/env python3
"""Standalone verifier for the audit ledger. Needs only Python 3.9+ and `cryptography`.

An oversight body runs it on a bundle written by `manage.py audit_export`:

    python verifier.py BUNDLE_DIR

It recomputes every event's SHA-256 from its content and the previous hash,
checks that sequence numbers run without gaps, that no two events claim the
same predecessor, and that each Ed25519-signed checkpoint in the bundle
matches the chain and the bundle's public key. It exits 0 when everything
holds and 1 naming the first broken sequence number otherwise.

The application imports the hashing functions from this file, so the rule
that builds the chain and the rule that checks it are the same code.
"""

import base64
import hashlib
import json
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

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


def key_id_for(public_key):
    from cryptography.hazmat.primitives import serialization

    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


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


def load_public_keys(pem):
    """Every public key in a PEM text (keys rotate: a bundle may need several), by key id."""
    from cryptography.hazmat.primitives import serialization

    end = b"-----END PUBLIC KEY-----"
    keys = {}
    for block in pem.split(end):
        if block.strip():
            key = serialization.load_pem_public_key(block.strip() + b"\n" + end + b"\n")
            keys[key_id_for(key)] = key
    return keys


def verify_checkpoint(public_key, checkpoint, chain_hash):
    """Return None when the checkpoint's signature and hash hold, else the reason."""
    from cryptography.exceptions import InvalidSignature

    if public_key is None:
        return f"signed by key {checkpoint.get('key_id')}, which is not in the bundle's public_key.pem"
    message = checkpoint_message(checkpoint["seq"], checkpoint["hash"], checkpoint["signed_at"], checkpoint["key_id"])
    try:
        public_key.verify(base64.b64decode(checkpoint["signature"]), message)
    except (InvalidSignature, ValueError):
        return "signature does not verify with the bundle's public key"
    if chain_hash is None:
        return None
    if chain_hash != checkpoint["hash"]:
        return f"signed hash {checkpoint['hash'][:16]}… differs from the chain's {chain_hash[:16]}…"
    return None


def event_from_json(record):
    envelope = tuple(record[name] for name in ENVELOPE_FIELDS)
    return envelope, record["payload"], record["hash"]


def verify_bundle(directory):
    """Verify a bundle; return (ok, lines of what was proved or what broke)."""
    directory = Path(directory)
    lines = []
    manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    public_keys = load_public_keys((directory / "public_key.pem").read_bytes())
    checkpoints = []
    checkpoints_file = directory / "checkpoints.jsonl"
    if checkpoints_file.exists():
        with checkpoints_file.open(encoding="utf-8") as handle:
            checkpoints = [json.loads(line) for line in handle if line.strip()]
    # A bundle that starts at the first event must start at the genesis.
    walker = ChainWalker(expected_prev=GENESIS_HASH if manifest.get("first_seq") == 1 else manifest.get("prev_hash"))
    walker.want = {c["seq"] for c in checkpoints}
    with (directory / "events.jsonl").open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                envelope, payload, stored = event_from_json(json.loads(line))
            except (ValueError, KeyError) as exc:
                walker.problem = Problem(-1, "format", f"line {number} is not a ledger event ({exc})")
                break
            if not walker.feed(envelope, payload, stored):
                break
    if walker.problem:
        return False, [f"BROKEN at {walker.problem}"]
    if walker.count != manifest.get("event_count", walker.count):
        return False, [f"BROKEN: manifest lists {manifest['event_count']} events, bundle holds {walker.count}"]
    if walker.count:
        lines.append(f"chain intact: {walker.count} events, seq {walker.first_seq}..{walker.last_seq}, head {walker.last_hash}")
    else:
        lines.append("no events in this bundle")
    if manifest.get("last_hash") and walker.count and manifest["last_hash"] != walker.last_hash:
        return False, [f"BROKEN: manifest head {manifest['last_hash'][:16]}… differs from the chain's"]
    for checkpoint in checkpoints:
        in_range = walker.first_seq is not None and walker.first_seq <= checkpoint["seq"] <= walker.last_seq
        reason = verify_checkpoint(
            public_keys.get(checkpoint.get("key_id")), checkpoint, walker.wanted.get(checkpoint["seq"]) if in_range else None
        )
        if reason:
            return False, [f"BROKEN at seq {checkpoint['seq']}: checkpoint: {reason}"]
        scope = "matches the chain" if in_range else "signature valid (outside this bundle's events)"
        lines.append(
            f"checkpoint seq {checkpoint['seq']} signed {checkpoint['signed_at']} by key {checkpoint['key_id']}: {scope}"
        )
    covered = [c["seq"] for c in checkpoints if walker.first_seq is not None and walker.first_seq <= c["seq"] <= walker.last_seq]
    if covered:
        lines.append(
            f"events up to seq {max(covered)} are fixed by a signed checkpoint; "
            f"{walker.last_seq - max(covered)} later events are proved by the chain only"
        )
    return True, lines


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1 or argv[0] in {"-h", "--help"}:
        print(__doc__)
        return 2
    ok, lines = verify_bundle(argv[0])
    for line in lines:
        print(line)
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
