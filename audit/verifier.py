#!/usr/bin/env python3
"""Standalone verifier for the audit ledger. Needs only Python 3.9+, `cryptography` and chain.py beside it.

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
was valid according to the bundle's key register (keys.json) and to the
register and retire events among the bundle's events, and was signed by a
trusted key. manifest.json must agree with the events and checkpoints.

The keys, the register and the events all come from the bundle, so only a
trusted fingerprint ties them to the system: whoever edits the events can
also re-chain them, sign new checkpoints with a key of their own and put
that key in the bundle. A checkpoint fixes the events up to its sequence
number; events after the bundle's last checkpoint are proved by the chain
only, and whoever holds the bundle could have changed them. audit_export
therefore runs the bundle on past the requested period to the first signed
checkpoint at or after its last event, when there is one.

What it cannot tell: whether the bundle holds every event of the period
that was asked for (a bundle cut short at one of its own checkpoints still
verifies) and what the ledger recorded after the last checkpoint. It prints
the sequence numbers and times it proved, to compare with the request.

Exit status:
  0  OK: the chain holds and every event of the bundle is fixed by a
     checkpoint signed by a trusted key within its validity period
  1  FAILED: something is broken or cannot be read (the first broken
     sequence number or line is named), including a checkpoint signed by
     a key that is not trusted
  2  bad arguments (a malformed fingerprint, an unreadable file of trusted
     keys, a directory that is not a bundle)
  3  nothing is broken, but not everything was checked: no trusted key was
     given (SIGNER NOT CHECKED), some events are fixed by no signed
     checkpoint (NOT FULLY ANCHORED), the bundle has no keys.json (KEY
     REGISTER MISSING) or no events (NOTHING PROVED)

The chain format itself (hashing, checkpoint messages, fingerprints) is in
chain.py, which travels beside this file: the application builds the chain
with the same code that checks it here.
"""

import argparse
import base64
import json
import operator
import re
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

if __package__:
    from audit import chain
else:  # run as a program from a bundle: chain.py lies beside this file
    import chain


def load_trusted_keys(path):
    """The fingerprints in a file, one a line; # starts a comment. ValueError names a bad line."""
    trusted = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            text = line.split("#", 1)[0].strip()
            if not text:
                continue
            try:
                trusted.append(chain.parse_fingerprint(text))
            except ValueError as exc:
                raise ValueError(f"{path}, line {number}: {exc}") from None
    return trusted


# Everything below reads a bundle, whose every file its holder may have
# changed: sizes, encodings and types are checked before anything is used,
# and whatever cannot be read is reported as a broken bundle, never a crash.

MAX_LINE_BYTES = 64 * 1024 * 1024  # the longest line of a .jsonl file, and the largest JSON or PEM file
_HEX64 = re.compile(r"[0-9a-f]{64}")
_HEX16 = re.compile(r"[0-9a-f]{16}")
# Verifying walks millions of events: the fields are picked and their types checked by C code, not one by one.
_envelope_of = operator.itemgetter(*chain.ENVELOPE_FIELDS)
_TEXT_FIELDS = (*(name for name in chain.ENVELOPE_FIELDS if name not in ("seq", "actor_id", "actor_roles")), "payload", "hash")
_texts_of = operator.itemgetter(*_TEXT_FIELDS)
_TEXT = {str}
# The ledger's own record of the key register (audit.models.Action): a bundle whose events include them
# proves the validity periods with the chain, whatever its keys.json says.
KEY_REGISTER_ACTION = "audit.key_register"
KEY_RETIRE_ACTION = "audit.key_retire"
_PEM_BLOCK = re.compile(r"-----BEGIN PUBLIC KEY-----\r?\n[A-Za-z0-9+/=\r\n]+?-----END PUBLIC KEY-----")


def _size(limit):
    return f"{limit >> 20} MiB" if limit >= 1 << 20 else f"{limit} bytes"


class BundleBroken(ValueError):
    """Something in the bundle contradicts the rest or cannot be read; the message is the line to print."""


class NotABundle(OSError):
    """The directory is not a ledger bundle at all."""


def _is_int(value):
    return type(value) is int  # bool is an int to isinstance, and JSON's true is no sequence number


def _public_key(pem):
    """The Ed25519 public key of one PEM block; ValueError for anything else."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    if not isinstance(pem, str):
        raise ValueError("the public key is not a PEM text")
    try:
        key = serialization.load_pem_public_key(pem.encode("utf-8"))
    except UnsupportedAlgorithm as exc:
        raise ValueError(str(exc)) from None
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("the public key is not an Ed25519 key")
    return key


def load_public_keys(pem):
    """Every public key in a PEM text (keys rotate: a bundle may need several), by key id.

    ValueError for anything but Ed25519 PUBLIC KEY blocks separated by white space.
    """
    if isinstance(pem, bytes):
        pem = pem.decode("ascii")
    keys, position = {}, 0
    for match in _PEM_BLOCK.finditer(pem):
        if pem[position : match.start()].strip():
            raise ValueError("it holds text outside its PUBLIC KEY blocks")
        key = _public_key(match.group(0) + "\n")
        keys[chain.key_id_for(key)] = key
        position = match.end()
    if pem[position:].strip():
        raise ValueError("it holds text outside its PUBLIC KEY blocks")
    return keys


def verify_checkpoint(public_key, checkpoint, chain_hash):
    """Return None when the checkpoint's signature and hash hold, else the reason."""
    from cryptography.exceptions import InvalidSignature

    if public_key is None:
        return f"signed by key {checkpoint.get('key_id')}, which is not in the bundle's public_key.pem"
    message = chain.checkpoint_message(checkpoint["seq"], checkpoint["hash"], checkpoint["signed_at"], checkpoint["key_id"])
    try:
        public_key.verify(base64.b64decode(checkpoint["signature"], validate=True), message)
    except (InvalidSignature, ValueError, TypeError):
        return "signature does not verify with the bundle's public key"
    if chain_hash is None:
        return None
    if chain_hash != checkpoint["hash"]:
        return f"signed hash {checkpoint['hash'][:16]}… differs from the chain's {chain_hash[:16]}…"
    return None


def event_from_json(record):
    envelope = tuple(record[name] for name in chain.ENVELOPE_FIELDS)
    return envelope, record["payload"], record["hash"]


def read_event(record):
    """(envelope, payload, hash) of one decoded line of events.jsonl; ValueError says what is wrong with it.

    Every field must have the type the ledger writes, so that nothing later meets a value it cannot handle;
    the hash then decides whether the values are the ledger's.
    """
    if type(record) is not dict:
        raise ValueError("not a JSON object")
    try:
        envelope, payload, stored = _envelope_of(record), record["payload"], record["hash"]
    except KeyError as exc:
        raise ValueError(f"no {exc.args[0]!r} field") from None
    seq, actor_id, roles = envelope[0], envelope[2], envelope[5]
    if type(seq) is not int or seq < 1:
        raise ValueError("seq is not a positive integer")
    if set(map(type, _texts_of(record))) != _TEXT:
        raise ValueError(f"{next(name for name in _TEXT_FIELDS if type(record[name]) is not str)} is not a text")
    if actor_id is not None and type(actor_id) not in (int, str):
        raise ValueError("actor_id is neither a number, a text nor null")
    if type(roles) is not list or (roles and set(map(type, roles)) != _TEXT):
        raise ValueError("actor_roles is not a list of texts")
    return envelope, payload, stored


def read_checkpoint(record):
    """One decoded line of checkpoints.jsonl, its fields checked; ValueError says what is wrong with it."""
    if type(record) is not dict:
        raise ValueError("not a JSON object")
    for name in ("seq", "hash", "signed_at", "key_id", "signature"):
        if name not in record:
            raise ValueError(f"no {name!r} field")
    if not _is_int(record["seq"]) or record["seq"] < 1:
        raise ValueError("seq is not a positive integer")
    if type(record["hash"]) is not str or not _HEX64.fullmatch(record["hash"]):
        raise ValueError("hash is not 64 lowercase hexadecimal digits")
    if type(record["key_id"]) is not str or not _HEX16.fullmatch(record["key_id"]):
        raise ValueError("key_id is not 16 lowercase hexadecimal digits")
    for name in ("signed_at", "signature"):
        if type(record[name]) is not str:
            raise ValueError(f"{name} is not a text")
    return record


_decode_json = json.JSONDecoder().decode


def _parse_json(text):
    """json.loads, every way it fails a ValueError."""
    try:
        return _decode_json(text)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def _read_file(path, name):
    """The text of a whole (small) bundle file; BundleBroken when it cannot be read, is too large or is not UTF-8."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_LINE_BYTES + 1)
    except OSError as exc:
        raise BundleBroken(f"BROKEN: {name} cannot be read ({exc.strerror or exc})") from None
    if len(data) > MAX_LINE_BYTES:
        raise BundleBroken(f"BROKEN: {name} is larger than {_size(MAX_LINE_BYTES)}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BundleBroken(f"BROKEN: {name} is not UTF-8 text (byte {exc.start + 1})") from None


def _read_lines(path, name):
    """(number, text) of every line of a JSON Lines file that is not blank; BundleBroken names a line that cannot be read."""
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below; a generator cannot use one with-block for open and read errors
    except OSError as exc:
        raise BundleBroken(f"BROKEN: {name} cannot be read ({exc.strerror or exc})") from None
    with handle:
        number = 0
        while True:
            try:
                raw = handle.readline(MAX_LINE_BYTES + 1)
            except OSError as exc:
                raise BundleBroken(f"BROKEN: {name} cannot be read ({exc.strerror or exc})") from None
            if not raw:
                return
            number += 1
            if len(raw) > MAX_LINE_BYTES:
                raise BundleBroken(f"BROKEN: {name} line {number} is longer than {_size(MAX_LINE_BYTES)}")
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise BundleBroken(f"BROKEN: {name} line {number} is not UTF-8 text (byte {exc.start + 1} of the line)") from None
            if text.strip():
                yield number, text


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
    return moment if moment.tzinfo else moment.replace(tzinfo=chain.UTC)


def load_key_register(path):
    """The bundle's key register (keys.json) by key id; BundleBroken when it cannot be read or contradicts itself."""
    try:
        document = _parse_json(_read_file(path, "keys.json"))
        entries = document["keys"]
        if type(entries) is not list:
            raise TypeError("its keys are not a list")
    except (ValueError, KeyError, TypeError) as exc:
        if isinstance(exc, BundleBroken):
            raise
        raise BundleBroken(f"BROKEN: key register keys.json cannot be read ({exc})") from None
    register, fingerprints = {}, set()
    for number, entry in enumerate(entries, start=1):
        try:
            if type(entry) is not dict:
                raise TypeError("not a JSON object")
            public_key = _public_key(entry["public_key_pem"])
            fingerprint = chain.fingerprint_for(public_key)
            stated = chain.parse_fingerprint(entry["fingerprint"])
            key_id = entry["key_id"]
            valid_from = _moment(entry["valid_from"], "valid_from")
            retired_at = _moment(entry["retired_at"], "retired_at") if entry.get("retired_at") is not None else None
        except (ValueError, KeyError, TypeError) as exc:
            raise BundleBroken(f"BROKEN: key register entry {number} cannot be read ({exc})") from None
        if stated != fingerprint or key_id != fingerprint[:16]:
            raise BundleBroken(f"BROKEN: key register entry {number} ({key_id}) does not match its own public key")
        if key_id in register or fingerprint in fingerprints:
            raise BundleBroken(f"BROKEN: key register keys.json lists key {key_id} twice (entry {number})")
        if retired_at is not None and retired_at < valid_from:
            raise BundleBroken(f"BROKEN: key register entry {number} ({key_id}) was retired before it became valid")
        register[key_id] = RegisteredKey(key_id, fingerprint, public_key, valid_from, retired_at)
        fingerprints.add(fingerprint)
    return register


def _bundle_keys(directory):
    """(public keys by key id from public_key.pem, the key register from keys.json or None when there is none)."""
    keys = {}
    pem_file = directory / "public_key.pem"
    if pem_file.exists():
        try:
            keys = load_public_keys(_read_file(pem_file, "public_key.pem"))
        except (ValueError, TypeError) as exc:
            if isinstance(exc, BundleBroken):
                raise
            raise BundleBroken(f"BROKEN: public_key.pem cannot be read ({exc})") from None
    register = load_key_register(directory / "keys.json") if (directory / "keys.json").exists() else None
    return keys, register


def _read_manifest(directory):
    try:
        manifest = _parse_json(_read_file(directory / "manifest.json", "manifest.json"))
    except ValueError as exc:
        if isinstance(exc, BundleBroken):
            raise
        raise BundleBroken(f"BROKEN: manifest.json cannot be read ({exc})") from None
    if type(manifest) is not dict:
        raise BundleBroken("BROKEN: manifest.json cannot be read (not a JSON object)")
    if manifest.get("format") != chain.FORMAT:
        raise BundleBroken(f"BROKEN: manifest.json gives format {manifest.get('format')!r}; this verifier reads {chain.FORMAT}")
    return manifest


def _read_checkpoints(directory):
    """The checkpoints of checkpoints.jsonl (none when it is absent), in strictly increasing sequence order."""
    checkpoints = []
    path = directory / "checkpoints.jsonl"
    if not path.exists():
        return checkpoints
    for number, line in _read_lines(path, "checkpoints.jsonl"):
        try:
            checkpoint = read_checkpoint(_parse_json(line))
        except ValueError as exc:
            raise BundleBroken(f"BROKEN: checkpoints.jsonl line {number} is not a checkpoint ({exc})") from None
        if checkpoints and checkpoint["seq"] <= checkpoints[-1]["seq"]:
            what = "repeats" if checkpoint["seq"] == checkpoints[-1]["seq"] else "comes after"
            raise BundleBroken(
                f"BROKEN: checkpoints.jsonl line {number}: checkpoint seq {checkpoint['seq']} {what} checkpoint seq "
                f"{checkpoints[-1]['seq']} (the file lists each checkpoint once, in sequence order)"
            )
        checkpoints.append(checkpoint)
    return checkpoints


@dataclass
class ChainKey:
    """What the chain itself says of a signing key: the events that registered and retired it."""

    registered_seq: int = None
    valid_from: str = None
    retired_seq: int = None
    retired_at: str = None


def _note_key_event(chain_keys, envelope, payload):
    """Remember a register or retire event of the chain; BundleBroken when its details cannot be read."""
    seq, action = envelope[0], envelope[6]
    try:
        data = _parse_json(payload)
        fingerprint = chain.parse_fingerprint(data["fingerprint"])
        moment = chain.format_time(_moment(data["valid_from" if action == KEY_REGISTER_ACTION else "retired_at"], "time"))
    except (ValueError, KeyError, TypeError) as exc:
        raise BundleBroken(f"BROKEN at seq {seq}: key register event cannot be read ({exc})") from None
    entry = chain_keys.setdefault(fingerprint, ChainKey())
    if action == KEY_REGISTER_ACTION:
        entry.registered_seq, entry.valid_from = seq, moment
    elif entry.retired_seq is None:
        entry.retired_seq, entry.retired_at = seq, moment


@dataclass
class _Walk:
    walker: chain.ChainWalker
    first_prev: str = None
    first_time: str = None
    last_time: str = None
    chain_keys: dict = field(default_factory=dict)  # fingerprint -> ChainKey


def _walk_events(directory, checkpoints):
    walk = _Walk(chain.ChainWalker())
    walker = walk.walker
    walker.want = {c["seq"] for c in checkpoints}
    key_actions = (KEY_REGISTER_ACTION, KEY_RETIRE_ACTION)
    for number, line in _read_lines(directory / "events.jsonl", "events.jsonl"):
        try:
            envelope, payload, stored = read_event(_parse_json(line))
        except ValueError as exc:
            raise BundleBroken(f"BROKEN: events.jsonl line {number} is not a ledger event ({exc})") from None
        if walker.last_seq is None:
            # The ledger's first event links to the genesis hash; a bundle that starts mid-chain, to the manifest's prev_hash (checked below).
            walker.expected_prev = chain.GENESIS_HASH if envelope[0] == 1 else None
            walk.first_prev, walk.first_time = envelope[12], envelope[1]
        if not walker.feed(envelope, payload, stored):
            break
        walk.last_time = envelope[1]
        if envelope[6] in key_actions:
            _note_key_event(walk.chain_keys, envelope, payload)
    return walk


def _range(first, last):
    return {"first_seq": first, "last_seq": last}


def _same(stated, actual):
    """Equal as JSON values: true is not 1, and 1.0 is not 1."""
    if type(stated) is not type(actual):
        return False
    if type(stated) is dict:
        return stated.keys() == actual.keys() and all(_same(stated[k], actual[k]) for k in stated)
    if type(stated) is list:
        return len(stated) == len(actual) and all(_same(stated[i], actual[i]) for i in range(len(stated)))
    return stated == actual


def _check_manifest(manifest, walk, anchored_last):
    """BundleBroken when manifest.json contradicts the events; return the requested range it states, or False when it states none."""
    walker = walk.walker
    actual = {
        "first_seq": walker.first_seq,
        "last_seq": walker.last_seq,
        "event_count": walker.count,
        "prev_hash": walk.first_prev,
        "last_hash": walker.last_hash,
    }
    for name, value in actual.items():
        if name not in manifest:
            raise BundleBroken(f"BROKEN: manifest.json does not state {name}")
        if not _same(manifest[name], value):
            if name == "event_count":
                raise BundleBroken(f"BROKEN: manifest lists {manifest[name]!r} events, bundle holds {value}")
            raise BundleBroken(f"BROKEN: manifest.json gives {name} {manifest[name]!r}, the events give {value!r}")
    if "requested_range" not in manifest:
        return False  # written before bundles stated their ranges
    requested = manifest["requested_range"]
    if walker.count == 0:
        expected = {"requested_range": None, "anchored_range": None, "unanchored_range": None}
    else:
        if (
            type(requested) is not dict
            or set(requested) != {"first_seq", "last_seq"}
            or not _same(requested["first_seq"], walker.first_seq)
            or not _is_int(requested["last_seq"])
            or not walker.first_seq <= requested["last_seq"] <= walker.last_seq
        ):
            raise BundleBroken(
                f"BROKEN: manifest.json gives requested_range {requested!r}, "
                f"which is not a range of the events seq {walker.first_seq}..{walker.last_seq} starting with the first"
            )
        expected = {
            "requested_range": requested,
            "anchored_range": None if anchored_last is None else _range(walker.first_seq, anchored_last),
            "unanchored_range": None
            if anchored_last == walker.last_seq
            else _range(walker.first_seq if anchored_last is None else anchored_last + 1, walker.last_seq),
        }
    for name, value in expected.items():
        if name not in manifest:
            raise BundleBroken(f"BROKEN: manifest.json does not state {name}")
        if not _same(manifest[name], value):
            raise BundleBroken(
                f"BROKEN: manifest.json gives {name} {manifest[name]!r}, the events and checkpoints give {value!r}"
            )
    return requested


def _register_problem(register, chain_keys):
    """Where keys.json contradicts the chain's own register and retire events, or None."""
    if register is None:
        return None
    by_fingerprint = {entry.fingerprint: entry for entry in register.values()}
    for fingerprint, chained in chain_keys.items():
        entry = by_fingerprint.get(fingerprint)
        seq = chained.registered_seq if chained.registered_seq is not None else chained.retired_seq
        if entry is None:
            return f"BROKEN at seq {seq}: key register: the chain records key {fingerprint[:16]}, which keys.json does not list"
        if chained.valid_from is not None and chained.valid_from != chain.format_time(entry.valid_from):
            return (
                f"BROKEN at seq {chained.registered_seq}: key register: keys.json gives key {entry.key_id} valid from "
                f"{chain.format_time(entry.valid_from)}, the chain registered it valid from {chained.valid_from}"
            )
        if chained.retired_at is not None and (
            entry.retired_at is None or chained.retired_at != chain.format_time(entry.retired_at)
        ):
            stated = chain.format_time(entry.retired_at) if entry.retired_at else "not retired"
            return (
                f"BROKEN at seq {chained.retired_seq}: key register: keys.json gives key {entry.key_id} as {stated}, "
                f"the chain retired it at {chained.retired_at}"
            )
    return None


def _validity(entry):
    text = f"valid from {chain.format_time(entry.valid_from)}"
    return text + (f", retired {chain.format_time(entry.retired_at)}" if entry.retired_at else "")


def _signer_problem(checkpoint, public_key, register, trusted, chain_keys):
    """Why the key that signed this (otherwise sound) checkpoint may not vouch for it, or None."""
    key_id, fingerprint, seq = checkpoint["key_id"], chain.fingerprint_for(public_key), checkpoint["seq"]
    if trusted is not None and fingerprint not in trusted:
        return f"signed by key {key_id} with fingerprint {chain.format_fingerprint(fingerprint)}, which is not a trusted key"
    if register is not None:
        entry = register.get(key_id)
        if entry is None:
            return f"signed by key {key_id}, which is not in the bundle's key register (keys.json)"
        if entry.fingerprint != fingerprint:
            return f"key {key_id} in public_key.pem is not the key the register (keys.json) lists under that id"
        try:
            signed_at = _moment(checkpoint["signed_at"], "signed_at")
        except ValueError as exc:
            return str(exc)
        if signed_at < entry.valid_from:
            return f"signed {checkpoint['signed_at']}, before key {key_id} became valid ({chain.format_time(entry.valid_from)})"
        if entry.retired_at is not None and signed_at >= entry.retired_at:
            return f"signed {checkpoint['signed_at']}, after key {key_id} was retired ({chain.format_time(entry.retired_at)})"
    # The chain's own register events order keys by sequence number, which no signing time can move.
    chained = chain_keys.get(fingerprint)
    if chained is not None:
        if chained.registered_seq is not None and seq < chained.registered_seq:
            return f"signs seq {seq}, but the chain registers key {key_id} only at seq {chained.registered_seq}"
        if chained.retired_seq is not None and seq >= chained.retired_seq:
            return f"signs seq {seq}, but the chain retired key {key_id} at seq {chained.retired_seq} ({chained.retired_at})"
    return None


OK, BROKEN, UNCHECKED = "ok", "broken", "unchecked"
EXIT_STATUS = {OK: 0, BROKEN: 1, UNCHECKED: 3}


@dataclass
class Verdict:
    status: str  # OK, BROKEN or UNCHECKED (nothing contradicts, but not everything is tied to a trusted key)
    lines: list  # what was proved, or the one line saying what broke
    summary: str  # the last line to print
    signers: dict = field(default_factory=dict)  # fingerprint -> key id of every key that signed a checkpoint


def _broken(line):
    return Verdict(BROKEN, [line], "FAILED")


def check_bundle(directory, trusted=None):
    """Verify a bundle against the trusted key fingerprints (None: signer not checked); return a Verdict."""
    directory = Path(directory)
    trusted = None if trusted is None else {chain.parse_fingerprint(f) for f in trusted}
    if not (directory / "manifest.json").is_file() or not (directory / "events.jsonl").is_file():
        raise NotABundle(f"{directory} is not a ledger bundle: manifest.json or events.jsonl is missing")
    try:
        return _check_bundle(directory, trusted)
    except BundleBroken as exc:
        return _broken(str(exc))


def _check_bundle(directory, trusted):
    manifest = _read_manifest(directory)
    public_keys, register = _bundle_keys(directory)
    checkpoints = _read_checkpoints(directory)
    walk = _walk_events(directory, checkpoints)
    walker = walk.walker
    if walker.problem:
        return _broken(f"BROKEN at {walker.problem}")

    def fixes(checkpoint):
        return walker.count > 0 and walker.first_seq <= checkpoint["seq"] <= walker.last_seq

    anchored_last = max((c["seq"] for c in checkpoints if fixes(c)), default=None)
    requested = _check_manifest(manifest, walk, anchored_last)

    lines = []
    if walker.count:
        lines.append(
            f"chain intact: {walker.count} events, seq {walker.first_seq}..{walker.last_seq}, head {walker.last_hash} "
            f"(recorded {walk.first_time} to {walk.last_time})"
        )
    else:
        lines.append("no events in this bundle")
    signers = {}
    for checkpoint in checkpoints:
        seq, key_id = checkpoint["seq"], checkpoint["key_id"]
        public_key = public_keys.get(key_id)
        reason = verify_checkpoint(public_key, checkpoint, walker.wanted.get(seq) if fixes(checkpoint) else None)
        reason = reason or _signer_problem(checkpoint, public_key, register, trusted, walk.chain_keys)
        if reason:
            return _broken(f"BROKEN at seq {seq}: checkpoint: {reason}")
        fingerprint = chain.fingerprint_for(public_key)
        signers.setdefault(fingerprint, key_id)
        scope = (
            "matches the chain"
            if fixes(checkpoint)
            else "signature valid, but outside this bundle's events: it fixes none of them"
        )
        validity = f", {_validity(register[key_id])}" if register is not None else ""
        lines.append(
            f"checkpoint seq {seq} signed {checkpoint['signed_at']} by key {key_id} "
            f"(fingerprint {chain.format_fingerprint(fingerprint)}{validity}): {scope}"
        )
    # After the checkpoints: a checkpoint signed by a key that is not trusted is the finding to name first.
    problem = _register_problem(register, walk.chain_keys)
    if problem:
        return _broken(problem)
    if checkpoints and register is None:
        lines.append("this bundle carries no key register (keys.json): the signing keys' validity periods were not checked")
    elif checkpoints:
        # A key registered within these events cannot have been retired before them: the chain proves its period.
        proved = [f for f in signers if walk.chain_keys.get(f) and walk.chain_keys[f].registered_seq is not None]
        line = f"key register (keys.json): {len(register)} keys; every checkpoint was signed within its key's validity period"
        if len(proved) == len(signers):
            line += ", which the chain's own register and retire events confirm"
        else:
            line += (
                f"; for {len(signers) - len(proved)} of the {len(signers)} signing keys that period is as keys.json "
                "(not signed) states it: their registration is not among this bundle's events"
            )
        lines.append(line)
    for fingerprint, key_id in signers.items():
        mark = " (trusted)" if trusted is not None else ""
        lines.append(f"signing key {key_id}: fingerprint {chain.format_fingerprint(fingerprint)}{mark}")
    if not walker.count:
        status, summary = (
            UNCHECKED,
            "NOTHING PROVED: this bundle holds no events, and no signature can show that a period had none",
        )
        if trusted is None:
            summary = _signer_not_checked(signers)
        return Verdict(status, lines, summary, signers)

    anchor = next((c for c in checkpoints if c["seq"] == anchored_last), None)
    if anchor is not None:
        lines.append(
            f"anchored: events {walker.first_seq}..{anchored_last} are fixed by the checkpoint at seq {anchored_last}, "
            f"signed {anchor['signed_at']} by key {anchor['key_id']}"
        )
    unanchored = None
    if anchored_last != walker.last_seq:
        start = walker.first_seq if anchored_last is None else anchored_last + 1
        unanchored = (
            f"NOT FULLY ANCHORED: events {start}..{walker.last_seq} are covered by no signed checkpoint; they are proved by "
            "the hash chain only, so whoever held this bundle could have changed them"
        )
    if requested:
        period = f"{manifest.get('from')} to {manifest.get('to')} ({manifest.get('time_zone')})"
        actor = f", the span of {manifest['actor']}'s events" if manifest.get("actor") else ""
        line = f"requested (manifest.json, not signed): {period}{actor}, events {walker.first_seq}..{requested['last_seq']}"
        if requested["last_seq"] < walker.last_seq:
            line += f"; events {requested['last_seq'] + 1}..{walker.last_seq} follow it"
            if anchored_last == walker.last_seq:
                line += " up to the checkpoint that fixes them"
        lines.append(line)
    elif requested is False:
        lines.append("manifest.json states no requested range (an older bundle)")
    lines.append(
        f"not checked: what the ledger recorded after seq {walker.last_seq}, and whether these are all the events "
        "of the period you asked for: compare the period and sequence numbers above with your request"
    )
    if trusted is None:
        if unanchored:
            lines.append(unanchored)
        return Verdict(UNCHECKED, lines, _signer_not_checked(signers), signers)
    if unanchored:
        return Verdict(UNCHECKED, lines, unanchored, signers)
    if register is None:
        return Verdict(
            UNCHECKED,
            lines,
            "KEY REGISTER MISSING: without keys.json nothing shows whether a trusted key signed these checkpoints "
            "before it was retired",
            signers,
        )
    return Verdict(OK, lines, "OK", signers)


def _signer_not_checked(signers):
    signed = "; ".join(chain.format_fingerprint(f) for f in signers) or "none (the bundle holds no signed checkpoint)"
    return (
        "SIGNER NOT CHECKED: no trusted key was given, so nothing shows who signed these checkpoints "
        f"(fingerprints: {signed}); compare them with the fingerprint obtained out of band "
        "(printed on reports and hand-over records) and run again with --trusted-key FINGERPRINT"
    )


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
            trusted = [chain.parse_fingerprint(text) for text in args.trusted_key]
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
    except Exception as exc:  # noqa: BLE001 - whatever else a crafted bundle provokes is a failure, never a traceback
        verdict = _broken(f"BROKEN: the bundle cannot be read ({type(exc).__name__}: {exc})")
    for line in verdict.lines:
        print(line)
    print(verdict.summary)
    return EXIT_STATUS[verdict.status]


if __name__ == "__main__":
    sys.exit(main())
