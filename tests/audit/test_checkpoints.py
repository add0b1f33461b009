"""Signed checkpoints: what they sign, when they are skipped, and how a bad one is caught."""

import base64
import json
import stat

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.utils import timezone

from audit import record_event, triggers
from audit.bundle import ledger_export
from audit.chain import checkpoint_message, key_id_for
from audit.checkpoints import SigningKeyError, checkpoint_create, ensure_signing_key, load_signing_key, public_key_pem
from audit.keys import signing_key_ensure_registered
from audit.ledger_check import verify_chain
from audit.models import Action, AuditEvent, Checkpoint, VerificationRun
from audit.tasks import audit_checkpoint_task, verify_ledger_task
from audit.verifier import verify_bundle, verify_checkpoint


@pytest.fixture
def key_path(settings, tmp_path):
    settings.AUDIT_SIGNING_KEY_FILE = tmp_path / "keys" / "ledger.pem"
    return ensure_signing_key(settings.AUDIT_SIGNING_KEY_FILE)


def _append(count, actor=None):
    for number in range(count):
        with transaction.atomic():
            record_event(actor=actor, action=Action.LEDGER_VIEW, data={"n": number})


def _head():
    return AuditEvent.objects.order_by("-seq").first()


def test_signing_key_is_created_once_readable_only_by_its_owner(settings, tmp_path):
    path = tmp_path / "deep" / "keys" / "ledger.pem"
    assert ensure_signing_key(path) == path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    first = path.read_bytes()
    ensure_signing_key(path)
    assert path.read_bytes() == first
    assert b"BEGIN PRIVATE KEY" in first


def test_signing_key_with_a_password_needs_the_password(tmp_path, monkeypatch):
    monkeypatch.setenv("AUDIT_SIGNING_KEY_PASSWORD", "mật khẩu dài")
    path = ensure_signing_key(tmp_path / "ledger.pem")
    assert b"ENCRYPTED PRIVATE KEY" in path.read_bytes()
    assert load_signing_key(path)
    monkeypatch.delenv("AUDIT_SIGNING_KEY_PASSWORD")
    with pytest.raises(SigningKeyError):
        load_signing_key(path)


def test_missing_signing_key_is_a_clear_error(settings, tmp_path, db, insider):
    settings.AUDIT_SIGNING_KEY_FILE = tmp_path / "absent.pem"
    with pytest.raises(CommandError, match="absent.pem"):
        call_command("audit_checkpoint")


def test_empty_ledger_gets_no_checkpoint(db, key_path):
    assert checkpoint_create() is None
    assert not Checkpoint.objects.exists() and not AuditEvent.objects.exists()


def test_checkpoint_signs_the_head_and_is_itself_recorded_in_the_ledger(db, key_path, insider):
    signing_key_ensure_registered(actor=None, public_key=load_signing_key().public_key())
    _append(3, actor=insider)
    head = _head()
    checkpoint = checkpoint_create(actor=insider)
    assert (checkpoint.seq, checkpoint.hash) == (head.seq, head.hash)
    public_key = load_pem_public_key(checkpoint.public_key_pem.encode())
    assert checkpoint.key_id == key_id_for(public_key)
    assert verify_checkpoint(public_key, checkpoint.as_json(), head.hash) is None
    public_key.verify(
        base64.b64decode(checkpoint.signature),
        checkpoint_message(checkpoint.seq, checkpoint.hash, checkpoint.signed_at, checkpoint.key_id),
    )
    event = _head()
    assert event.seq == head.seq + 1
    assert event.action == Action.LEDGER_CHECKPOINT and event.actor_username == "alice"
    assert event.data == {
        "seq": head.seq,
        "hash": head.hash,
        "signed_at": checkpoint.signed_at,
        "key_id": checkpoint.key_id,
        "signature": checkpoint.signature,
    }
    assert verify_chain().ok


def test_repeated_checkpoints_without_activity_sign_nothing_new(db, key_path, insider):
    _append(2, actor=insider)
    first = checkpoint_create()
    head = _head()
    assert checkpoint_create() == first
    assert audit_checkpoint_task() == first.seq
    assert _head() == head and Checkpoint.objects.count() == 1


def test_new_activity_gets_a_new_checkpoint_covering_the_previous_one(db, key_path, insider):
    _append(2, actor=insider)
    first = checkpoint_create()
    _append(1, actor=insider)
    second = checkpoint_create()
    assert second.seq == _head().seq - 1 > first.seq
    assert AuditEvent.objects.filter(seq__gt=first.seq, seq__lte=second.seq, action=Action.LEDGER_CHECKPOINT).exists()


def test_checkpoint_command_prints_what_it_signed(db, key_path, insider, capsys):
    _append(1, actor=insider)
    call_command("audit_checkpoint")
    checkpoint = Checkpoint.objects.get()
    out = capsys.readouterr().out
    assert str(checkpoint.seq) in out and checkpoint.hash in out and checkpoint.key_id in out


def test_checkpoint_task_is_registered_under_the_scheduled_name(settings):
    assert audit_checkpoint_task.name == settings.CELERY_BEAT_SCHEDULE["audit-checkpoint"]["task"]
    assert audit_checkpoint_task.acks_late and verify_ledger_task.acks_late


def test_cut_off_tail_is_caught_by_a_later_checkpoint(db, key_path, insider):
    _append(3, actor=insider)
    checkpoint = checkpoint_create()
    triggers.remove(connection)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_event WHERE seq >= %s", [checkpoint.seq])
    result = verify_chain()
    assert not result.ok
    assert (result.problem.seq, result.problem.kind) == (checkpoint.seq, "checkpoint")


def test_checkpoint_row_with_a_forged_signature_fails_verification(db, key_path, insider):
    _append(2, actor=insider)
    checkpoint = checkpoint_create()
    triggers.remove(connection)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_checkpoint SET signed_at = %s WHERE id = %s", ["2020-01-01T00:00:00.000000+00:00", checkpoint.pk]
        )
    result = verify_chain()
    assert (result.problem.seq, result.problem.kind) == (checkpoint.seq, "checkpoint")


def _bundle(tmp_path):
    today = timezone.localdate()
    return ledger_export(directory=tmp_path / "bundle", date_from=today, date_to=today).directory


def test_bundle_checkpoint_verifies_offline(db, key_path, insider, tmp_path):
    _append(2, actor=insider)
    checkpoint = checkpoint_create()
    ok, lines = verify_bundle(_bundle(tmp_path))
    assert ok, lines
    assert any(f"checkpoint seq {checkpoint.seq}" in line and "matches the chain" in line for line in lines)


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("signature", "A" * 86 + "==", "signature does not verify"),
        ("signed_at", "2020-01-01T00:00:00.000000+00:00", "signature does not verify"),
        ("key_id", "0123456789abcdef", "not in the bundle's public_key.pem"),
    ],
)
def test_bad_checkpoint_in_a_bundle_is_detected_offline(db, key_path, insider, tmp_path, field, value, reason):
    _append(2, actor=insider)
    checkpoint = checkpoint_create()
    bundle = _bundle(tmp_path)
    record = checkpoint.as_json() | {field: value}
    (bundle / "checkpoints.jsonl").write_text(json.dumps(record) + "\n", encoding="utf-8")
    ok, lines = verify_bundle(bundle)
    assert not ok
    assert lines[0].startswith(f"BROKEN at seq {checkpoint.seq}: checkpoint: ") and reason in lines[0]


def test_checkpoint_signed_by_another_key_is_detected_offline(db, key_path, insider, tmp_path):
    _append(2, actor=insider)
    checkpoint = checkpoint_create()
    bundle = _bundle(tmp_path)
    stranger = load_signing_key(ensure_signing_key(tmp_path / "stranger.pem"))
    (bundle / "public_key.pem").write_text(public_key_pem(stranger), encoding="utf-8")
    ok, lines = verify_bundle(bundle)
    assert not ok and f"BROKEN at seq {checkpoint.seq}: checkpoint:" in lines[0]


def test_verify_task_records_a_passed_run_and_its_event(db, insider, auditor):
    _append(2, actor=insider)
    run = VerificationRun.objects.create(requested_by=auditor)
    assert verify_ledger_task(run.pk) == VerificationRun.Status.PASSED
    run.refresh_from_db()
    event = _head()
    assert run.status == VerificationRun.Status.PASSED and run.finished_at and run.seconds is not None
    assert (run.head_seq, run.events_checked, run.broken_seq, run.problem) == (event.seq - 1, event.seq - 1, None, "")
    assert event.action == Action.LEDGER_VERIFY and event.actor_username == "thanhtra" and event.outcome == "success"
    assert event.data["status"] == "passed"


def test_verify_task_records_a_broken_chain(db, insider, auditor):
    _append(4, actor=insider)
    victim = _head().seq - 1
    triggers.remove(connection)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_event SET payload = '{}' WHERE seq = %s", [victim])
    run = VerificationRun.objects.create(requested_by=auditor)
    verify_ledger_task(run.pk)
    run.refresh_from_db()
    assert run.status == VerificationRun.Status.FAILED
    assert run.broken_seq == victim and f"seq {victim}: hash:" in run.problem
    event = _head()
    assert event.action == Action.LEDGER_VERIFY and event.outcome == "failure" and event.data["broken_seq"] == victim


def test_verify_task_does_not_run_twice_for_a_finished_run(db, insider, auditor):
    _append(1, actor=insider)
    run = VerificationRun.objects.create(requested_by=auditor)
    verify_ledger_task(run.pk)
    head = _head()
    verify_ledger_task(run.pk)
    assert _head() == head
