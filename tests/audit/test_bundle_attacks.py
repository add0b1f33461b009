"""Attacks on an exported bundle by someone who holds the file but not the signing key.

The inspector holds the real key's fingerprint and runs the bundle's own
verifier.py as a separate program. No change that key did not sign may pass
as "OK"; nothing in a bundle, however malformed, may end in a traceback.
"""

import base64
import json
import os
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from audit import record_event, verifier
from audit.chain import checkpoint_message, event_hash, fingerprint_for, key_id_for
from audit.checkpoints import checkpoint_create, ensure_signing_key, load_signing_key
from audit.keys import public_key_pem
from audit.models import Action, AuditEvent
from audit.verifier import check_bundle, event_from_json
from tests.audit.clock import clock_at, yesterday

CLEAN_ENV = {"PATH": os.environ.get("PATH", ""), "PYTHONIOENCODING": "utf-8"}
# Every test signs with a key of its own (tests/audit/conftest.py).
pytestmark = pytest.mark.usefixtures("key_file")


@pytest.fixture
def forger(tmp_path):
    return load_signing_key(ensure_signing_key(tmp_path / "forger.pem"))


def _append(count):
    for number in range(count):
        with transaction.atomic():
            record_event(actor=None, action=Action.LEDGER_VIEW, data={"n": number})


def _export(tmp_path, day, name="bundle"):
    call_command("audit_export", "--from", day.isoformat(), "--to", day.isoformat(), "--out", str(tmp_path / name))
    return tmp_path / name


@pytest.fixture
def bundle(db, tmp_path):
    """Yesterday's events with two checkpoints among them; today two more events and the checkpoint the bundle runs on to.

    seq 1-3 views, 4 key registered and checkpoint A, 5 its record, 6-8 views and checkpoint B, 9 its record,
    10-11 views (the period ends); today 12-13 views and checkpoint C, which fixes them all.
    """
    with clock_at(yesterday()):
        _append(3)
        checkpoint_create()
        _append(3)
        checkpoint_create()
        _append(2)
    _append(2)
    checkpoint_create()
    return _export(tmp_path, yesterday().date())


def run_verifier(bundle, *args):
    run = subprocess.run(
        [sys.executable, str(bundle / "verifier.py"), str(bundle), *args],
        cwd=bundle.parent,
        env=CLEAN_ENV,
        capture_output=True,
        text=True,
    )
    assert "Traceback" not in run.stderr, run.stderr
    return run


def trusted(bundle, fingerprint):
    return run_verifier(bundle, "--trusted-key", fingerprint)


def last_line(run):
    return run.stdout.strip().splitlines()[-1]


# Reading and rewriting a bundle as an attacker would --------------------------------------------------------------


def events(bundle):
    return [json.loads(line) for line in (bundle / "events.jsonl").read_text(encoding="utf-8").splitlines()]


def write_events(bundle, records):
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    (bundle / "events.jsonl").write_text(text, encoding="utf-8")


def checkpoints(bundle):
    return [json.loads(line) for line in (bundle / "checkpoints.jsonl").read_text(encoding="utf-8").splitlines()]


def write_checkpoints(bundle, records):
    (bundle / "checkpoints.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


def manifest(bundle):
    return json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))


def write_json(bundle, name, document):
    (bundle / name).write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")


def rechain(records):
    """Recompute every hash and link from the first event's predecessor on."""
    prev = records[0]["prev_hash"]
    for record in records:
        record["prev_hash"] = prev
        envelope, payload, _ = event_from_json(record)
        record["hash"] = prev = event_hash(envelope, payload)
    return records


def agree_manifest(bundle, requested_last=None):
    """Make manifest.json agree with whatever events and checkpoints the bundle now holds, as a careful attacker would."""
    records = events(bundle)
    first, last = records[0]["seq"], records[-1]["seq"]
    signed = (
        [c["seq"] for c in checkpoints(bundle) if first <= c["seq"] <= last] if (bundle / "checkpoints.jsonl").exists() else []
    )
    anchored = max(signed, default=None)
    document = manifest(bundle)
    requested_last = min(requested_last or document["requested_range"]["last_seq"], last)
    document.update(
        first_seq=first,
        last_seq=last,
        event_count=len(records),
        prev_hash=records[0]["prev_hash"],
        last_hash=records[-1]["hash"],
        requested_range={"first_seq": first, "last_seq": requested_last},
        anchored_range={"first_seq": first, "last_seq": anchored} if anchored else None,
        unanchored_range=None if anchored == last else {"first_seq": (anchored or first - 1) + 1, "last_seq": last},
    )
    write_json(bundle, "manifest.json", document)


def sign(checkpoint, key, key_id=None):
    key_id = key_id or key_id_for(key.public_key())
    message = checkpoint_message(checkpoint["seq"], checkpoint["hash"], checkpoint["signed_at"], key_id)
    return checkpoint | {"key_id": key_id, "signature": base64.b64encode(key.sign(message)).decode()}


def register_entry(key, **changes):
    fingerprint = fingerprint_for(key.public_key())
    entry = {
        "key_id": fingerprint[:16],
        "fingerprint": fingerprint,
        "public_key_pem": public_key_pem(key.public_key()),
        "valid_from": "2000-01-01T00:00:00.000000+00:00",
        "retired_at": None,
        "note": "",
    }
    return entry | changes


def edit_and_resign(bundle, seq, key):
    """Edit event seq, re-chain, and re-sign every checkpoint with key so each matches the new chain."""
    records = events(bundle)
    next(r for r in records if r["seq"] == seq)["payload"] = '{"n":999}'
    hashes = {r["seq"]: r["hash"] for r in rechain(records)}
    write_events(bundle, records)
    write_checkpoints(bundle, [sign(c | {"hash": hashes[c["seq"]]}, key) for c in checkpoints(bundle)])
    agree_manifest(bundle)


# The untouched bundle ----------------------------------------------------------------------------------------------


def test_an_untouched_bundle_passes_and_says_what_was_and_was_not_checked(bundle, real_fingerprint):
    run = trusted(bundle, real_fingerprint)
    assert run.returncode == 0, run.stdout
    assert last_line(run) == "OK"
    out = run.stdout
    assert "chain intact: 13 events, seq 1..13" in out
    assert [line.split(" signed ")[0] for line in out.splitlines() if line.startswith("checkpoint seq")] == [
        "checkpoint seq 4",
        "checkpoint seq 8",
        "checkpoint seq 13",
    ]
    assert "anchored: events 1..13 are fixed by the checkpoint at seq 13" in out
    assert "events 1..11; events 12..13 follow it up to the checkpoint that fixes them" in out
    assert "the chain's own register and retire events confirm" in out
    assert "not checked: what the ledger recorded after seq 13, and whether these are all the events" in out
    assert "NOT FULLY ANCHORED" not in out


# Edited events, re-chained ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("victim", "checkpoint"),
    [
        pytest.param(11, 13, id="last-event-of-the-period"),
        pytest.param(12, 13, id="after-the-period"),
        pytest.param(6, 8, id="between-checkpoints"),
        pytest.param(2, 4, id="before-the-first-checkpoint"),
    ],
)
def test_an_edited_and_rechained_event_fails_at_the_checkpoint_that_fixes_it(bundle, real_fingerprint, victim, checkpoint):
    records = events(bundle)
    next(r for r in records if r["seq"] == victim)["payload"] = '{"n":999}'
    write_events(bundle, rechain(records))
    agree_manifest(bundle)
    run = trusted(bundle, real_fingerprint)
    assert run.returncode == 1
    assert run.stdout.startswith(f"BROKEN at seq {checkpoint}: checkpoint: signed hash ")
    assert last_line(run) == "FAILED"


def test_an_edited_event_after_the_last_checkpoint_is_never_ok(db, tmp_path, real_fingerprint):
    """An export of a period that is not over: its last events are fixed by no checkpoint, and the verifier says so."""
    _append(2)
    checkpoint = checkpoint_create()
    _append(3)
    bundle = _export(tmp_path, timezone.localdate())
    head = AuditEvent.objects.filter(action=Action.LEDGER_VIEW).order_by("-seq").first().seq
    records = events(bundle)
    assert records[-1]["seq"] == head
    records[-1]["payload"] = '{"n":999}'
    write_events(bundle, rechain(records))
    agree_manifest(bundle)
    run = trusted(bundle, real_fingerprint)
    assert run.returncode == 3, run.stdout
    assert last_line(run).startswith(
        f"NOT FULLY ANCHORED: events {checkpoint.seq + 1}..{head} are covered by no signed checkpoint"
    )
    assert "OK" not in run.stdout.splitlines()


# Keys of the attacker's own -------------------------------------------------------------------------------------


def test_resigned_with_the_attackers_key_added_to_the_register_fails_naming_the_first_checkpoint(
    bundle, real_fingerprint, forger
):
    edit_and_resign(bundle, 6, forger)
    (bundle / "public_key.pem").write_text(
        (bundle / "public_key.pem").read_text() + public_key_pem(forger.public_key()), encoding="utf-8"
    )
    register = json.loads((bundle / "keys.json").read_text())
    register["keys"].append(register_entry(forger))
    write_json(bundle, "keys.json", register)
    run = trusted(bundle, real_fingerprint)
    assert run.returncode == 1
    assert run.stdout.startswith("BROKEN at seq 4: checkpoint: signed by key ")
    assert f"{fingerprint_for(forger.public_key())[:4]}" in run.stdout and "which is not a trusted key" in run.stdout


def test_a_register_that_gives_the_attackers_key_the_real_fingerprint_fails(bundle, real_fingerprint, forger):
    edit_and_resign(bundle, 6, forger)
    (bundle / "public_key.pem").write_text(public_key_pem(forger.public_key()), encoding="utf-8")
    write_json(bundle, "keys.json", {"format": "v1", "keys": [register_entry(forger, fingerprint=real_fingerprint)]})
    run = trusted(bundle, real_fingerprint)
    assert run.returncode == 1 and "does not match its own public key" in run.stdout


@pytest.mark.parametrize("register", ["lies", "removed"])
def test_checkpoints_under_the_real_key_id_signed_by_another_key_fail(bundle, real_fingerprint, forger, register):
    real_id = real_fingerprint[:16]
    edit_and_resign(bundle, 6, forger)
    write_checkpoints(bundle, [sign(c, forger, key_id=real_id) for c in checkpoints(bundle)])
    pem = (bundle / "public_key.pem").read_text() + public_key_pem(forger.public_key())
    (bundle / "public_key.pem").write_text(pem, encoding="utf-8")
    if register == "lies":
        write_json(bundle, "keys.json", {"format": "v1", "keys": [register_entry(forger, key_id=real_id)]})
        expected = "does not match its own public key"
    else:
        (bundle / "keys.json").unlink()
        expected = "BROKEN at seq 4: checkpoint: signature does not verify with the bundle's public key"
    run = trusted(bundle, real_fingerprint)
    assert run.returncode == 1 and expected in run.stdout


# Checkpoints removed, tails cut or added ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attack", "unanchored"),
    [
        pytest.param(lambda b: (b / "checkpoints.jsonl").unlink(), "1..13", id="checkpoints-file-removed"),
        pytest.param(lambda b: write_checkpoints(b, []), "1..13", id="checkpoints-file-emptied"),
        pytest.param(lambda b: write_checkpoints(b, checkpoints(b)[:2]), "9..13", id="anchor-removed"),
        pytest.param(lambda b: write_events(b, events(b)[:-1]), "9..12", id="tail-cut-below-the-anchor"),
        pytest.param(
            lambda b: write_events(b, events(b) + [rechain([events(b)[-1], events(b)[-1] | {"seq": 14}])[1]]),
            "14..14",
            id="event-appended",
        ),
    ],
)
def test_events_no_trusted_checkpoint_fixes_are_never_ok(bundle, real_fingerprint, attack, unanchored):
    attack(bundle)
    agree_manifest(bundle)
    run = trusted(bundle, real_fingerprint)
    assert run.returncode == 3, run.stdout
    assert last_line(run).startswith(f"NOT FULLY ANCHORED: events {unanchored} are covered by no signed checkpoint")


def test_a_tail_cut_without_touching_the_manifest_fails(bundle, real_fingerprint):
    write_events(bundle, events(bundle)[:-1])
    run = trusted(bundle, real_fingerprint)
    assert run.returncode == 1 and run.stdout.startswith("BROKEN: manifest.json gives last_seq 13, the events give 12")


def test_a_bundle_cut_at_one_of_its_own_checkpoints_passes_for_what_is_left_and_says_so(bundle, real_fingerprint):
    """What a signature cannot show: a genuine stretch of the ledger, shorter than asked for. The output names it."""
    write_events(bundle, [r for r in events(bundle) if r["seq"] <= 8])
    write_checkpoints(bundle, checkpoints(bundle)[:2])
    agree_manifest(bundle)
    run = trusted(bundle, real_fingerprint)
    assert run.returncode == 0
    assert "chain intact: 8 events, seq 1..8" in run.stdout and "anchored: events 1..8" in run.stdout
    assert "whether these are all the events of the period you asked for" in run.stdout


def test_without_a_trusted_key_an_unanchored_tail_is_named_too(bundle):
    write_checkpoints(bundle, checkpoints(bundle)[:2])
    agree_manifest(bundle)
    run = run_verifier(bundle)
    assert run.returncode == 3
    assert "NOT FULLY ANCHORED: events 9..13 are covered by no signed checkpoint" in run.stdout
    assert last_line(run).startswith("SIGNER NOT CHECKED:")


# The list of checkpoints ---------------------------------------------------------------------------------------------


def test_reordered_checkpoints_fail(bundle, real_fingerprint):
    first, second, third = checkpoints(bundle)
    write_checkpoints(bundle, [second, first, third])
    run = trusted(bundle, real_fingerprint)
    assert run.returncode == 1
    assert run.stdout.startswith("BROKEN: checkpoints.jsonl line 2: checkpoint seq 4 comes after checkpoint seq 8")


def test_a_duplicated_checkpoint_fails(bundle, real_fingerprint):
    records = checkpoints(bundle)
    write_checkpoints(bundle, [*records, records[-1]])
    run = trusted(bundle, real_fingerprint)
    assert run.returncode == 1 and "BROKEN: checkpoints.jsonl line 4: checkpoint seq 13 repeats checkpoint seq 13" in run.stdout


def test_a_checkpoint_beyond_the_events_fails_unless_a_trusted_key_signed_it(bundle, real_fingerprint, forger):
    records = checkpoints(bundle)
    beyond = sign(records[-1] | {"seq": 10**6}, forger)
    write_checkpoints(bundle, [*records, beyond])
    run = trusted(bundle, real_fingerprint)
    assert run.returncode == 1 and run.stdout.startswith("BROKEN at seq 1000000: checkpoint: signed by key ")


@pytest.mark.parametrize("seq", [-5, 0, True, 13.0, "13", None])
def test_a_checkpoint_seq_that_is_not_a_sequence_number_fails(bundle, real_fingerprint, seq):
    records = checkpoints(bundle)
    records[-1]["seq"] = seq
    write_checkpoints(bundle, records)
    run = trusted(bundle, real_fingerprint)
    assert run.returncode == 1 and run.stdout.startswith("BROKEN: checkpoints.jsonl line 3 is not a checkpoint (")


# Malformed files -----------------------------------------------------------------------------------------------------

FILES = {
    "events.jsonl": "events.jsonl line ",
    "checkpoints.jsonl": "checkpoints.jsonl line ",
    "manifest.json": "manifest.json ",
    "keys.json": "keys.json ",
    "public_key.pem": "public_key.pem ",
}
DAMAGE = {
    "not-json": lambda data: b"{not json\n" + data,
    "nul-bytes": lambda data: data[:20] + b"\x00\x00" + data[20:],
    "not-utf8": lambda data: b"\xff\xfe\xc3(" + data,
    "huge-number": lambda data: b'{"seq": ' + b"9" * 100_000 + b"}\n" + data,
    "deep-nesting": lambda data: b"[" * 100_000 + b"]" * 100_000 + b"\n" + data,
    "truncated": lambda data: data[: len(data) // 2],
}


@pytest.mark.parametrize("damage", DAMAGE)
@pytest.mark.parametrize("name", FILES)
def test_a_malformed_file_is_a_clear_failure_never_a_traceback(bundle, real_fingerprint, name, damage):
    path = bundle / name
    path.write_bytes(DAMAGE[damage](path.read_bytes()))
    run = trusted(bundle, real_fingerprint)
    assert run.returncode == 1, run.stdout
    assert run.stderr == ""
    assert run.stdout.startswith("BROKEN") and FILES[name] in run.stdout.splitlines()[0]
    assert last_line(run) == "FAILED"


def test_a_line_longer_than_the_limit_is_refused_before_it_is_parsed(bundle, real_fingerprint, monkeypatch):
    monkeypatch.setattr(verifier, "MAX_LINE_BYTES", 4096)
    (bundle / "events.jsonl").write_bytes(b'{"seq": "' + b"a" * 5000 + b'"}\n')
    verdict = check_bundle(bundle, [real_fingerprint])
    assert verdict.status == "broken" and verdict.lines == ["BROKEN: events.jsonl line 1 is longer than 4096 bytes"]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        pytest.param({"seq": "1"}, "seq is not a positive integer", id="seq-text"),
        pytest.param({"prev_hash": None}, "prev_hash is not a text", id="prev-null"),
        pytest.param({"hash": 5}, "hash is not a text", id="hash-number"),
        pytest.param({"payload": {"n": 1}}, "payload is not a text", id="payload-object"),
        pytest.param({"actor_roles": {"a": 1}}, "actor_roles is not a list of texts", id="roles-object"),
        pytest.param({"actor_id": True}, "actor_id is neither a number, a text nor null", id="actor-true"),
    ],
)
def test_an_event_of_the_wrong_shape_is_named_by_its_line(bundle, real_fingerprint, change, reason):
    records = events(bundle)
    records[2] |= change
    write_events(bundle, records)
    run = trusted(bundle, real_fingerprint)
    assert run.returncode == 1 and run.stdout.startswith(f"BROKEN: events.jsonl line 3 is not a ledger event ({reason})")


def test_a_checkpoints_file_that_is_a_directory_is_a_failure(bundle, real_fingerprint):
    (bundle / "checkpoints.jsonl").unlink()
    (bundle / "checkpoints.jsonl").mkdir()
    run = trusted(bundle, real_fingerprint)
    assert run.returncode == 1 and run.stdout.startswith("BROKEN: checkpoints.jsonl cannot be read")


# The key register ---------------------------------------------------------------------------------------------------


@pytest.fixture
def rotated(db, settings, tmp_path):
    """Yesterday: the first key signs, a second key is registered and the first retired; the second signs.

    Today the second key signs the checkpoint that fixes yesterday's events. Returns the old key, its fingerprint and the bundle.
    """
    old_key = load_signing_key()
    with clock_at(yesterday()):
        _append(2)
        checkpoint_create()
        settings.AUDIT_SIGNING_KEY_FILE = ensure_signing_key(tmp_path / "keys" / "new.pem")
        call_command("audit_keys", "register")
        call_command("audit_keys", "retire", key_id_for(old_key.public_key()))
        _append(2)
        checkpoint_create()
    _append(1)
    checkpoint_create()
    return old_key, _export(tmp_path, yesterday().date())


def run_trusting_both(bundle, old_key):
    return run_verifier(
        bundle,
        "--trusted-key",
        fingerprint_for(old_key.public_key()),
        "--trusted-key",
        fingerprint_for(load_signing_key().public_key()),
    )


def _leaked_key_resigns_after_retirement(bundle, old_key, signed_at=None):
    """The retired key leaks: an event after its retirement is edited and the later checkpoints re-signed with it."""
    retire = next(r for r in events(bundle) if r["action"] == Action.SIGNING_KEY_RETIRE)
    records = events(bundle)
    next(r for r in records if r["seq"] == retire["seq"] + 1)["payload"] = '{"n":999}'
    hashes = {r["seq"]: r["hash"] for r in rechain(records)}
    write_events(bundle, records)
    resigned = []
    for checkpoint in checkpoints(bundle):
        if checkpoint["seq"] > retire["seq"]:
            checkpoint = sign(
                checkpoint | {"hash": hashes[checkpoint["seq"]], "signed_at": signed_at or checkpoint["signed_at"]}, old_key
            )
        resigned.append(checkpoint)
    write_checkpoints(bundle, resigned)
    agree_manifest(bundle)
    return retire


def test_rotated_bundle_passes_trusting_both_keys(rotated):
    old_key, bundle = rotated
    run = run_trusting_both(bundle, old_key)
    assert run.returncode == 0, run.stdout
    assert "retired" in run.stdout


def test_a_register_that_unretires_a_leaked_key_is_contradicted_by_the_chain(rotated):
    old_key, bundle = rotated
    retire = _leaked_key_resigns_after_retirement(bundle, old_key)
    register = json.loads((bundle / "keys.json").read_text())
    for entry in register["keys"]:
        if entry["fingerprint"] == fingerprint_for(old_key.public_key()):
            entry["retired_at"] = None
    write_json(bundle, "keys.json", register)
    run = run_trusting_both(bundle, old_key)
    assert run.returncode == 1, run.stdout
    assert f"but the chain retired key {key_id_for(old_key.public_key())} at seq {retire['seq']}" in run.stdout


def test_a_leaked_key_cannot_backdate_its_signatures_past_its_retirement(rotated):
    old_key, bundle = rotated
    backdated = checkpoints(bundle)[0]["signed_at"]  # when the key was still valid; keys.json left as it is
    retire = _leaked_key_resigns_after_retirement(bundle, old_key, signed_at=backdated)
    run = run_trusting_both(bundle, old_key)
    assert run.returncode == 1, run.stdout
    assert f"but the chain retired key {key_id_for(old_key.public_key())} at seq {retire['seq']}" in run.stdout


def test_a_register_listing_a_key_twice_fails(rotated):
    old_key, bundle = rotated
    register = json.loads((bundle / "keys.json").read_text())
    old = next(e for e in register["keys"] if e["fingerprint"] == fingerprint_for(old_key.public_key()))
    register["keys"].append(old | {"retired_at": None})
    write_json(bundle, "keys.json", register)
    run = run_trusting_both(bundle, old_key)
    assert run.returncode == 1 and "lists key" in run.stdout and "twice" in run.stdout


def test_a_register_whose_validity_contradicts_the_chain_fails(bundle, real_fingerprint):
    register = json.loads((bundle / "keys.json").read_text())
    register["keys"][0]["valid_from"] = "1970-01-01T00:00:00.000000+00:00"
    write_json(bundle, "keys.json", register)
    run = trusted(bundle, real_fingerprint)
    assert run.returncode == 1
    assert run.stdout.startswith("BROKEN at seq 4: key register: keys.json gives key ")


def test_a_bundle_without_its_register_is_not_ok(bundle, real_fingerprint):
    (bundle / "keys.json").unlink()
    run = trusted(bundle, real_fingerprint)
    assert run.returncode == 3 and last_line(run).startswith("KEY REGISTER MISSING:")


# The manifest --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param({"event_count": 14}, "BROKEN: manifest lists 14 events, bundle holds 13", id="count"),
        pytest.param({"event_count": "13"}, "BROKEN: manifest lists '13' events, bundle holds 13", id="count-text"),
        pytest.param({"first_seq": 2}, "BROKEN: manifest.json gives first_seq 2, the events give 1", id="first"),
        pytest.param({"last_hash": "0" * 64}, "BROKEN: manifest.json gives last_hash", id="head"),
        pytest.param({"requested_range": {"first_seq": 1, "last_seq": 99}}, "gives requested_range", id="requested"),
        pytest.param(
            {"unanchored_range": None, "anchored_range": {"first_seq": 1, "last_seq": 99}}, "gives anchored_range", id="anchored"
        ),
        pytest.param({"format": "v2"}, "BROKEN: manifest.json gives format 'v2'", id="format"),
    ],
)
def test_a_manifest_that_contradicts_the_events_fails(bundle, real_fingerprint, change, message):
    write_json(bundle, "manifest.json", manifest(bundle) | change)
    run = trusted(bundle, real_fingerprint)
    assert run.returncode == 1 and run.stdout.startswith("BROKEN") and message in run.stdout


def test_a_manifest_that_is_not_an_object_fails(bundle, real_fingerprint):
    (bundle / "manifest.json").write_text("[]", encoding="utf-8")
    run = trusted(bundle, real_fingerprint)
    assert run.returncode == 1 and run.stdout.startswith("BROKEN: manifest.json cannot be read (not a JSON object)")


def test_an_emptied_bundle_proves_nothing(bundle, real_fingerprint):
    write_events(bundle, [])
    write_checkpoints(bundle, [])
    write_json(
        bundle,
        "manifest.json",
        manifest(bundle)
        | {
            "first_seq": None,
            "last_seq": None,
            "event_count": 0,
            "prev_hash": None,
            "last_hash": None,
            "requested_range": None,
            "anchored_range": None,
            "unanchored_range": None,
        },
    )
    run = trusted(bundle, real_fingerprint)
    assert run.returncode == 3 and last_line(run).startswith("NOTHING PROVED:")


def test_a_directory_that_is_not_a_bundle_is_a_usage_error(bundle, real_fingerprint):
    (bundle / "manifest.json").unlink()
    run = trusted(bundle, real_fingerprint)
    assert run.returncode == 2 and "is not a ledger bundle" in run.stderr and run.stdout == ""
