"""Tamper drills: each kind of tampering is found and located, online and in an exported bundle.

The append-only triggers are dropped inside the test's transaction, which
rolls back at the end and takes the drop with it (see
test_ledger.test_trigger_removal_rolls_back_with_the_transaction).
"""

import json
import os
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.utils import timezone

from audit import record_event, triggers
from audit.bundle import ledger_export
from audit.chain import ENVELOPE_FIELDS, ChainWalker, event_hash, fingerprint_for
from audit.checkpoints import checkpoint_create, ensure_signing_key, load_signing_key
from audit.ledger_check import verify_chain
from audit.models import Action, AuditEvent
from audit.verifier import event_from_json, verify_bundle
from tests.audit.clock import clock_at, yesterday

COLUMNS = [*ENVELOPE_FIELDS, "payload", "hash"]


@pytest.fixture(autouse=True)
def signing_key(settings, tmp_path):
    settings.AUDIT_SIGNING_KEY_FILE = tmp_path / "keys" / "ledger.pem"
    return ensure_signing_key(settings.AUDIT_SIGNING_KEY_FILE)


@pytest.fixture
def ledger(db, insider, outsider):
    """Ten more events by two users; returns the sequence number of a victim in the middle."""
    for number in range(10):
        with transaction.atomic():
            record_event(actor=insider if number % 2 else outsider, action=Action.LEDGER_VIEW, data={"n": number})
    return AuditEvent.objects.order_by("-seq").first().seq - 4


def _tamper(sql, params=()):
    triggers.remove(connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _row(seq):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(COLUMNS[1:])} FROM audit_event WHERE seq = %s", [seq])
        return cursor.fetchone()


def edit_payload(seq):
    _tamper("UPDATE audit_event SET payload = %s WHERE seq = %s", ['{"n":999}', seq])


def edit_username(seq):
    _tamper("UPDATE audit_event SET actor_username = %s WHERE seq = %s", ["mallory", seq])


def delete_row(seq):
    _tamper("DELETE FROM audit_event WHERE seq = %s", [seq])


def swap_rows(seq):
    """Swap everything but the sequence numbers of events seq and seq + 1."""
    first, second = _row(seq), _row(seq + 1)
    _tamper("DELETE FROM audit_event WHERE seq IN (%s, %s)", [seq, seq + 1])
    insert = f"INSERT INTO audit_event ({', '.join(COLUMNS)}) VALUES ({', '.join(['%s'] * len(COLUMNS))})"
    with connection.cursor() as cursor:
        cursor.execute(insert, [seq, *second])
        cursor.execute(insert, [seq + 1, *first])


def forge_hash(seq):
    """Edit an event and recompute its own hash, as a forger who knows the rule would."""
    event = AuditEvent.objects.get(seq=seq)
    event.payload = '{"n":999}'
    _tamper(
        "UPDATE audit_event SET payload = %s, hash = %s WHERE seq = %s",
        [event.payload, event_hash(event.envelope(), event.payload), seq],
    )


TAMPERS = [
    pytest.param(edit_payload, 0, "hash", id="edited-payload"),
    pytest.param(edit_username, 0, "hash", id="edited-field"),
    pytest.param(delete_row, 0, "gap", id="deleted-row"),
    pytest.param(swap_rows, 0, "link", id="reordered-pair"),
    pytest.param(forge_hash, 1, "link", id="forged-hash"),
]


def _export(directory):
    today = timezone.localdate()
    ledger_export(directory=directory, date_from=today, date_to=today)
    return directory


@pytest.mark.parametrize(("tamper", "offset", "kind"), TAMPERS)
def test_verify_chain_finds_and_locates_tampering(ledger, tamper, offset, kind):
    assert verify_chain().ok
    tamper(ledger)
    result = verify_chain()
    assert not result.ok
    assert (result.problem.seq, result.problem.kind) == (ledger + offset, kind)
    assert result.head_seq == ledger + offset - 1


@pytest.mark.parametrize(("tamper", "offset", "kind"), TAMPERS)
def test_audit_verify_command_names_the_first_broken_sequence(ledger, tamper, offset, kind):
    tamper(ledger)
    with pytest.raises(CommandError, match=f"first broken sequence {ledger + offset}: {kind}: "):
        call_command("audit_verify")


@pytest.mark.parametrize(("tamper", "offset", "kind"), TAMPERS)
def test_offline_verifier_finds_database_tampering_in_an_exported_bundle(ledger, tamper, offset, kind, tmp_path):
    tamper(ledger)
    ok, lines = verify_bundle(_export(tmp_path / "bundle"))
    assert not ok
    assert lines[0].startswith(f"BROKEN at seq {ledger + offset}: {kind}: ")


def test_audit_verify_command_reports_an_intact_ledger(ledger, capsys):
    call_command("audit_verify")
    out = capsys.readouterr().out
    assert f"{ledger + 4}" in out and AuditEvent.objects.get(seq=ledger + 4).hash in out


def test_deleting_the_first_event_is_a_gap_at_one(ledger):
    delete_row(1)
    result = verify_chain()
    assert (result.problem.seq, result.problem.kind) == (1, "gap")


# Tampering with the bundle file itself ---------------------------------------


def _lines(bundle):
    return (bundle / "events.jsonl").read_text(encoding="utf-8").splitlines()


def _write(bundle, lines):
    (bundle / "events.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _index(lines, seq):
    return next(number for number, line in enumerate(lines) if json.loads(line)["seq"] == seq)


def edit_line_payload(lines, here):
    record = json.loads(lines[here])
    record["payload"] = '{"n":-1}'
    lines[here] = json.dumps(record, ensure_ascii=False)


def delete_line(lines, here):
    del lines[here]


def swap_lines(lines, here):
    lines[here], lines[here + 1] = lines[here + 1], lines[here]


def swap_contents(lines, here):
    """Swap two events but keep their sequence numbers where they were."""
    first, second = json.loads(lines[here]), json.loads(lines[here + 1])
    first["seq"], second["seq"] = second["seq"], first["seq"]
    lines[here], lines[here + 1] = json.dumps(second, ensure_ascii=False), json.dumps(first, ensure_ascii=False)


def forge_line_hash(lines, here):
    """Edit an event and recompute its own hash: the next event's link gives it away."""
    record = json.loads(lines[here])
    record["payload"] = '{"n":-1}'
    envelope, payload, _ = event_from_json(record)
    record["hash"] = event_hash(envelope, payload)
    lines[here] = json.dumps(record, ensure_ascii=False)


def duplicate_line(lines, here):
    lines.insert(here + 1, lines[here])


FILE_TAMPERS = [
    pytest.param(edit_line_payload, 0, "hash", id="edited-payload"),
    pytest.param(delete_line, 0, "gap", id="deleted-line"),
    pytest.param(swap_lines, 0, "gap", id="swapped-lines"),
    pytest.param(swap_contents, 0, "link", id="swapped-contents-kept-numbers"),
    pytest.param(forge_line_hash, 1, "link", id="forged-hash"),
    pytest.param(duplicate_line, 0, "fork", id="duplicated-event"),
]


@pytest.mark.parametrize(("tamper", "offset", "kind"), FILE_TAMPERS)
def test_offline_verifier_finds_tampering_in_the_bundle_file(ledger, tamper, offset, kind, tmp_path):
    bundle = _export(tmp_path / "bundle")
    lines = _lines(bundle)
    tamper(lines, _index(lines, ledger))
    _write(bundle, lines)
    ok, report = verify_bundle(bundle)
    assert not ok and report[0].startswith(f"BROKEN at seq {ledger + offset}: {kind}: ")


def test_chain_walker_names_two_events_on_the_same_predecessor_a_fork(ledger):
    events = [(e.envelope(), e.payload, e.hash) for e in AuditEvent.objects.order_by("seq")[:3]]
    walker = ChainWalker()
    for event in events[:2]:
        assert walker.feed(*event)
    # A rival third event: the next number, linking to event 1 like event 2 does.
    rival = list(events[1][0])
    rival[0] = 3
    walker.feed(tuple(rival), events[1][1], event_hash(tuple(rival), events[1][1]))
    assert (walker.problem.seq, walker.problem.kind) == (3, "fork")


def test_standalone_verifier_runs_without_django_and_fails_on_tampering(db, insider, signing_key, tmp_path):
    # Yesterday's events, fixed by a checkpoint signed today: a period that is over, fully anchored.
    with clock_at(yesterday()):
        for number in range(6):
            with transaction.atomic():
                record_event(actor=insider, action=Action.LEDGER_VIEW, data={"n": number})
        victim = AuditEvent.objects.order_by("-seq").first().seq - 2
    with transaction.atomic():
        record_event(actor=insider, action=Action.LEDGER_VIEW)
    checkpoint_create()
    bundle = tmp_path / "bundle"
    ledger_export(directory=bundle, date_from=yesterday().date(), date_to=yesterday().date())
    trusted = ["--trusted-key", fingerprint_for(load_signing_key(signing_key).public_key())]
    clean_env = {"PATH": os.environ.get("PATH", ""), "PYTHONIOENCODING": "utf-8"}
    run = subprocess.run(
        [sys.executable, str(bundle / "verifier.py"), str(bundle), *trusted],
        cwd=tmp_path,
        env=clean_env,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.strip().endswith("OK")
    lines = _lines(bundle)
    del lines[_index(lines, victim)]
    _write(bundle, lines)
    run = subprocess.run(
        [sys.executable, str(bundle / "verifier.py"), str(bundle), *trusted],
        cwd=tmp_path,
        env=clean_env,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 1
    assert f"BROKEN at seq {victim}: gap" in run.stdout


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the split walk runs on PostgreSQL")
@pytest.mark.parametrize(("tamper", "offset", "kind"), TAMPERS)
@pytest.mark.parametrize("victim_half", ["older", "newer"])
def test_split_verification_locates_tampering_in_either_half(insider, outsider, tamper, offset, kind, victim_half):
    """Large ledgers are proved by Python and PostgreSQL side by side; the finding must not change."""
    for number in range(30):
        with transaction.atomic():
            record_event(actor=insider if number % 2 else outsider, action=Action.LEDGER_VIEW, data={"n": number})
    head = AuditEvent.objects.order_by("-seq").first().seq
    assert verify_chain(split_from=2).ok and verify_chain(split_from=2).events_checked == head
    victim = 8 if victim_half == "older" else head - 6
    tamper(victim)
    result = verify_chain(split_from=2)
    assert (result.problem.seq, result.problem.kind) == (victim + offset, kind)
    assert (result.problem.seq, result.problem.kind) == (verify_chain(split_from=10**9).problem.seq, kind)
