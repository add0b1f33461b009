#!/usr/bin/env python3
"""Standalone verifier for the audit ledger. Needs only Python 3.9+ and `cryptography`.

An oversight body runs it on a bundle written by `manage.py audit_export`,
with the fingerprint of the ledger's signing key that it obtained out of
band (printed on the system's oversight reports and hand-over records, or
handed over by the monitoring centre):

    python verifier.py BUNDLE_DIR --trusted-key "1a2b 3c4d ... 9e0f"
    python verifier.py BUNDLE_DIR --trusted-keys trusted.txt

A fingerprint is the SHA-256 of the raw 32-byte Ed25519 public key: 64
hexadecimal digits, written in 16 groups of 4; spaces, colons or hyphens
between the digits are ignored. --trusted-key may be repeated; a
--trusted-keys file holds one fingerprint per line (# starts a comment).

It recomputes every event's SHA-256 from its content and the previous hash,
checks that sequence numbers run without gaps, that no two events claim the
same predecessor, and that each Ed25519-signed checkpoint in the bundle
matches the chain, verifies with its public key, was signed while that key
was valid according to the bundle's key register (keys.json), and was
signed by a trusted key.

The keys, the register and the events all come from the bundle, so only a
trusted fingerprint ties them to the system: whoever edits the events can
also re-chain them, sign new checkpoints with a key of their own and put
that key in the bundle.

Exit status:
  0  the chain holds and every checkpoint was signed by a trusted key
  1  something is broken (the first broken sequence number is named),
     including a checkpoint signed by a key that is not trusted
  2  bad arguments (a malformed fingerprint, an unreadable file)
  3  the chain and the signatures hold but their signer was not checked:
     no trusted key was given, or no checkpoint fixes the bundle's events

The application imports the hashing functions from this file, so the rule
that builds the chain and the rule that checks it are the same code.
"""

import argparse
import base64
import hashlib
import json
import re
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


def load_trusted_keys(path):
    """The fingerprints in a file, one a line; # starts a comment. ValueError names a bad line."""
    trusted = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            text = line.split("#", 1)[0].strip()
            if not text:
                continue
            try:
                trusted.append(parse_fingerprint(text))
            except ValueError as exc:
                raise ValueError(f"{path}, line {number}: {exc}") from None
    return trusted


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


class BundleBroken(ValueError):
    """Something in the bundle contradicts the rest; the message is the line to print."""


class NotABundle(OSError):
    """The directory is not a ledger bundle at all."""


@dataclass
class RegisteredKey:
    key_id: str
    fingerprint: str
    public_key: object
    valid_from: datetime
    retired_at: datetime = None


def _moment(text, what):
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        raise ValueError(f"{what} {text!r} is not a time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def load_key_register(path):
    """The bundle's key register (keys.json) by key id; BundleBroken when an entry contradicts its own public key."""
    from cryptography.hazmat.primitives import serialization

    try:
        entries = json.loads(Path(path).read_text(encoding="utf-8"))["keys"]
    except (ValueError, KeyError, TypeError) as exc:
        raise BundleBroken(f"BROKEN: key register keys.json cannot be read ({exc})") from None
    register = {}
    for number, entry in enumerate(entries, start=1):
        try:
            public_key = serialization.load_pem_public_key(entry["public_key_pem"].encode())
            fingerprint = fingerprint_for(public_key)
            stated = parse_fingerprint(entry["fingerprint"])
            key_id = entry["key_id"]
            valid_from = _moment(entry["valid_from"], "valid_from")
            retired_at = _moment(entry["retired_at"], "retired_at") if entry.get("retired_at") else None
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise BundleBroken(f"BROKEN: key register entry {number} cannot be read ({exc})") from None
        if stated != fingerprint or key_id != fingerprint[:16]:
            raise BundleBroken(f"BROKEN: key register entry {number} ({key_id}) does not match its own public key")
        register[key_id] = RegisteredKey(key_id, fingerprint, public_key, valid_from, retired_at)
    return register


def _bundle_keys(directory):
    """(public keys by key id from public_key.pem, the key register from keys.json or None for an older bundle)."""
    keys = {}
    pem_file = directory / "public_key.pem"
    if pem_file.exists():
        try:
            keys = load_public_keys(pem_file.read_bytes())
        except (ValueError, TypeError) as exc:
            raise BundleBroken(f"BROKEN: public_key.pem cannot be read ({exc})") from None
    register = load_key_register(directory / "keys.json") if (directory / "keys.json").exists() else None
    return keys, register


def _validity(entry):
    text = f"valid from {format_time(entry.valid_from)}"
    return text + (f", retired {format_time(entry.retired_at)}" if entry.retired_at else "")


def _signer_problem(checkpoint, public_key, register, trusted):
    """Why the key that signed this (otherwise sound) checkpoint may not vouch for it, or None."""
    key_id, fingerprint = checkpoint["key_id"], fingerprint_for(public_key)
    if trusted is not None and fingerprint not in trusted:
        return f"signed by key {key_id} with fingerprint {format_fingerprint(fingerprint)}, which is not a trusted key"
    if register is None:
        return None
    entry = register.get(key_id)
    if entry is None:
        return f"signed by key {key_id}, which is not in the bundle's key register (keys.json)"
    if entry.fingerprint != fingerprint:
        return f"key {key_id} in public_key.pem is not the key the register (keys.json) lists under that id"
    signed_at = _moment(checkpoint["signed_at"], "signed_at")
    if signed_at < entry.valid_from:
        return f"signed {checkpoint['signed_at']}, before key {key_id} became valid ({format_time(entry.valid_from)})"
    if entry.retired_at is not None and signed_at >= entry.retired_at:
        return f"signed {checkpoint['signed_at']}, after key {key_id} was retired ({format_time(entry.retired_at)})"
    return None


OK, BROKEN, UNCHECKED = "ok", "broken", "unchecked"
EXIT_STATUS = {OK: 0, BROKEN: 1, UNCHECKED: 3}


@dataclass
class Verdict:
    status: str  # OK, BROKEN or UNCHECKED (the chain and signatures hold, but nothing tied them to a trusted key)
    lines: list  # what was proved, or the one line saying what broke
    summary: str  # the last line to print
    signers: dict = field(default_factory=dict)  # fingerprint -> key id of every key that signed a checkpoint


def _broken(line):
    return Verdict(BROKEN, [line], "FAILED")


def check_bundle(directory, trusted=None):
    """Verify a bundle against the trusted key fingerprints (None: signer not checked); return a Verdict."""
    directory = Path(directory)
    trusted = None if trusted is None else {parse_fingerprint(f) for f in trusted}
    if not (directory / "manifest.json").is_file() or not (directory / "events.jsonl").is_file():
        raise NotABundle(f"{directory} is not a ledger bundle: manifest.json or events.jsonl is missing")
    lines = []
    try:
        manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
        public_keys, register = _bundle_keys(directory)
    except ValueError as exc:
        return _broken(str(exc) if isinstance(exc, BundleBroken) else f"BROKEN: manifest.json cannot be read ({exc})")
    checkpoints = []
    checkpoints_file = directory / "checkpoints.jsonl"
    if checkpoints_file.exists():
        with checkpoints_file.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    checkpoint = json.loads(line)
                    int(checkpoint["seq"])
                except (ValueError, KeyError, TypeError) as exc:
                    return _broken(f"BROKEN: checkpoints.jsonl line {number} is not a checkpoint ({exc})")
                checkpoints.append(checkpoint)
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
        return _broken(f"BROKEN at {walker.problem}")
    if walker.count != manifest.get("event_count", walker.count):
        return _broken(f"BROKEN: manifest lists {manifest['event_count']} events, bundle holds {walker.count}")
    if walker.count:
        lines.append(f"chain intact: {walker.count} events, seq {walker.first_seq}..{walker.last_seq}, head {walker.last_hash}")
    else:
        lines.append("no events in this bundle")
    if manifest.get("last_hash") and walker.count and manifest["last_hash"] != walker.last_hash:
        return _broken(f"BROKEN: manifest head {manifest['last_hash'][:16]}… differs from the chain's")
    signers = {}
    for checkpoint in checkpoints:
        in_range = walker.first_seq is not None and walker.first_seq <= checkpoint["seq"] <= walker.last_seq
        public_key = public_keys.get(checkpoint.get("key_id"))
        try:
            reason = verify_checkpoint(public_key, checkpoint, walker.wanted.get(checkpoint["seq"]) if in_range else None)
            reason = reason or _signer_problem(checkpoint, public_key, register, trusted)
        except (ValueError, KeyError, TypeError) as exc:
            reason = f"cannot be read ({exc})"
        if reason:
            return _broken(f"BROKEN at seq {checkpoint['seq']}: checkpoint: {reason}")
        fingerprint = fingerprint_for(public_key)
        signers.setdefault(fingerprint, checkpoint["key_id"])
        scope = "matches the chain" if in_range else "signature valid (outside this bundle's events)"
        validity = f", {_validity(register[checkpoint['key_id']])}" if register is not None else ""
        lines.append(
            f"checkpoint seq {checkpoint['seq']} signed {checkpoint['signed_at']} by key {checkpoint['key_id']} "
            f"(fingerprint {format_fingerprint(fingerprint)}{validity}): {scope}"
        )
    covered = [c["seq"] for c in checkpoints if walker.first_seq is not None and walker.first_seq <= c["seq"] <= walker.last_seq]
    if covered:
        lines.append(
            f"events up to seq {max(covered)} are fixed by a signed checkpoint; "
            f"{walker.last_seq - max(covered)} later events are proved by the chain only"
        )
    if checkpoints and register is None:
        lines.append("this bundle carries no key register (keys.json): the keys' validity periods were not checked")
    for fingerprint, key_id in signers.items():
        mark = " (trusted)" if trusted is not None else ""
        lines.append(f"signing key {key_id}: fingerprint {format_fingerprint(fingerprint)}{mark}")
    if trusted is None:
        signed = "; ".join(format_fingerprint(f) for f in signers) or "none (the bundle holds no signed checkpoint)"
        return Verdict(
            UNCHECKED,
            lines,
            "SIGNER NOT CHECKED: no trusted key was given, so nothing shows who signed these checkpoints "
            f"(fingerprints: {signed}); compare them with the fingerprint obtained out of band "
            "(printed on reports and hand-over records) and run again with --trusted-key FINGERPRINT",
            signers,
        )
    if walker.count and not covered:
        return Verdict(
            UNCHECKED,
            lines,
            "SIGNER NOT CHECKED: no signed checkpoint fixes this bundle's events, so they are proved by the chain only "
            "and nothing ties them to a trusted key",
            signers,
        )
    return Verdict(OK, lines, "OK", signers)


def verify_bundle(directory, trusted=None):
    """Verify a bundle; return (ok, lines). ok is False when anything is broken; check_bundle also says whether the signer was checked."""
    verdict = check_bundle(directory, trusted)
    return verdict.status != BROKEN, verdict.lines


def _arguments(argv):
    parser = argparse.ArgumentParser(
        prog="verifier.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("bundle", metavar="BUNDLE_DIR", help="the directory written by audit_export")
    parser.add_argument(
        "--trusted-key",
        action="append",
        default=[],
        metavar="FINGERPRINT",
        help="fingerprint of a signing key you trust (64 hex digits; may be repeated)",
    )
    parser.add_argument(
        "--trusted-keys",
        action="append",
        default=[],
        metavar="FILE",
        help="file of trusted fingerprints, one a line, # starts a comment (may be repeated)",
    )
    return parser.parse_args(argv)


def main(argv=None):
    args = _arguments(sys.argv[1:] if argv is None else argv)
    trusted = None
    try:
        if args.trusted_key or args.trusted_keys:
            trusted = [parse_fingerprint(text) for text in args.trusted_key]
            for path in args.trusted_keys:
                found = load_trusted_keys(path)
                if not found:
                    raise ValueError(f"{path} holds no fingerprint")
                trusted += found
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        verdict = check_bundle(args.bundle, trusted)
    except NotABundle as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for line in verdict.lines:
        print(line)
    print(verdict.summary)
    return EXIT_STATUS[verdict.status]


if __name__ == "__main__":
    sys.exit(main())
