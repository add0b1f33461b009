"""Signing keys: the register, rotation and retirement, and a bundle checked against a fingerprint the reader trusts."""

# ruff: noqa: F811 - the fixture imported below is requested by name

import base64
import datetime as dt
import importlib
import json
import os
import subprocess
import sys
import unicodedata
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from audit import record_event
from audit.chain import (
    canonical_json,
    checkpoint_message,
    event_hash,
    fingerprint_for,
    format_fingerprint,
    format_time,
    key_id_for,
    parse_fingerprint,
)
from audit.checkpoints import checkpoint_create, ensure_signing_key, load_signing_key
from audit.keys import find_signing_key, signing_key_retire
from audit.ledger_check import verify_chain
from audit.models import Action, AuditEvent, Checkpoint, SigningKey
from audit.selectors import current_signing_key_fingerprint
from audit.verifier import event_from_json
from governance.models import Agency
from oversight.report_data import ReportScope, collect
from oversight.report_pdf import render_period_report
from requests.export_handover import render_handover
from tests.audit.clock import clock_at, yesterday
from tests.auth import sign_in_verified
from tests.factories import AgencyFactory, UserFactory
from tests.pdf import pdf_text
from tests.requests.conftest import world  # noqa: F401 - the workflow's fixture world


def _append(count, actor=None):
    for number in range(count):
        with transaction.atomic():
            record_event(actor=actor, action=Action.LEDGER_VIEW, data={"n": number})


def _export(tmp_path, name="bundle", day=None):
    day = (day or timezone.localdate()).isoformat()
    call_command("audit_export", "--from", day, "--to", day, "--out", str(tmp_path / name))
    return tmp_path / name


CLEAN_ENV = {"PATH": os.environ.get("PATH", ""), "PYTHONIOENCODING": "utf-8"}
# Every test signs with a key of its own (tests/audit/conftest.py).
pytestmark = pytest.mark.usefixtures("key_file")


@pytest.fixture
def bundle(db, insider, tmp_path):
    """A real bundle of yesterday: events by a user, a checkpoint, a few more events and a second checkpoint.

    Today one more event and the checkpoint that fixes them all, which the bundle runs on to.
    """
    with clock_at(yesterday()):
        _append(4, actor=insider)
        checkpoint_create()
        _append(2, actor=insider)
        checkpoint_create()
    _append(1, actor=insider)
    checkpoint_create()
    return _export(tmp_path, day=yesterday().date())


def verifier(bundle, *args):
    """Run the bundle's own verifier.py as an outside body would: no Django, no application."""
    return subprocess.run(
        [sys.executable, str(bundle / "verifier.py"), str(bundle), *args],
        cwd=bundle.parent,
        env=CLEAN_ENV,
        capture_output=True,
        text=True,
    )


def _checkpoint_lines(bundle):
    return [json.loads(line) for line in (bundle / "checkpoints.jsonl").read_text(encoding="utf-8").splitlines()]


FORGED_VALID_FROM = "2000-01-01T00:00:00.000000+00:00"


def forge(bundle, *, edit_seq, key):
    """Edit one event, re-chain everything after it and re-sign every checkpoint with `key`, as a forger would.

    The chain's own key register events are rewritten to name `key`, so the forgery agrees with itself throughout.
    """
    path = bundle / "events.jsonl"
    events = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    prev = events[0]["prev_hash"]
    fingerprint = fingerprint_for(key.public_key())
    for record in events:
        if record["seq"] == edit_seq:
            record["payload"] = '{"n":999}'
        if record["action"] == Action.SIGNING_KEY_REGISTER:
            data = json.loads(record["payload"]) | {
                "key_id": fingerprint[:16],
                "fingerprint": fingerprint,
                "public_key_pem": load_pem(key),
                "valid_from": FORGED_VALID_FROM,
            }
            record["payload"] = canonical_json(data)
        record["prev_hash"] = prev
        envelope, payload, _ = event_from_json(record)
        record["hash"] = prev = event_hash(envelope, payload)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in events), encoding="utf-8")
    hashes = {r["seq"]: r["hash"] for r in events}
    key_id = key_id_for(key.public_key())
    checkpoints = []
    for checkpoint in _checkpoint_lines(bundle):
        checkpoint["hash"] = hashes.get(checkpoint["seq"], checkpoint["hash"])
        checkpoint["key_id"] = key_id
        message = checkpoint_message(checkpoint["seq"], checkpoint["hash"], checkpoint["signed_at"], key_id)
        checkpoint["signature"] = base64.b64encode(key.sign(message)).decode()
        checkpoints.append(checkpoint)
    (bundle / "checkpoints.jsonl").write_text("".join(json.dumps(c) + "\n" for c in checkpoints), encoding="utf-8")
    pem = load_pem(key)
    (bundle / "public_key.pem").write_text(pem, encoding="utf-8")
    register = {
        "format": "v1",
        "keys": [
            {
                "key_id": key_id,
                "fingerprint": fingerprint,
                "public_key_pem": pem,
                "valid_from": FORGED_VALID_FROM,
                "retired_at": None,
                "note": "",
            }
        ],
    }
    (bundle / "keys.json").write_text(json.dumps(register), encoding="utf-8")
    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest["last_hash"] = prev
    (bundle / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def load_pem(key):
    from audit.keys import public_key_pem

    return public_key_pem(key.public_key())


# Fingerprints -------------------------------------------------------------------------------


def test_fingerprint_is_the_sha256_of_the_raw_key_in_16_groups_and_starts_with_the_key_id(key_file):
    key = load_signing_key(key_file)
    fingerprint = fingerprint_for(key.public_key())
    shown = format_fingerprint(fingerprint)
    assert len(fingerprint) == 64 and fingerprint.startswith(key_id_for(key.public_key()))
    assert shown.split(" ") == [fingerprint[i : i + 4] for i in range(0, 64, 4)]
    assert parse_fingerprint(shown.upper().replace(" ", ":")) == fingerprint


# The bundle and the trusted key --------------------------------------------------------------


def test_untouched_bundle_passes_with_the_real_fingerprint(bundle, real_fingerprint):
    run = verifier(bundle, "--trusted-key", real_fingerprint)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.strip().splitlines()[-1] == "OK"
    assert f"fingerprint {format_fingerprint(real_fingerprint)}" in run.stdout


def test_bundle_rechained_and_resigned_with_another_key_fails_naming_the_checkpoint(bundle, real_fingerprint, tmp_path):
    forger = load_signing_key(ensure_signing_key(tmp_path / "forger.pem"))
    first_checkpoint = _checkpoint_lines(bundle)[0]["seq"]
    forge(bundle, edit_seq=2, key=forger)

    # Without a trusted key the forgery is self-consistent: it is not passed, but it cannot be told apart either.
    unchecked = verifier(bundle)
    assert unchecked.returncode == 3, unchecked.stdout + unchecked.stderr
    assert format_fingerprint(fingerprint_for(forger.public_key())) in unchecked.stdout

    run = verifier(bundle, "--trusted-key", real_fingerprint)
    assert run.returncode == 1, run.stdout + run.stderr
    assert f"BROKEN at seq {first_checkpoint}: checkpoint:" in run.stdout
    assert "not a trusted key" in run.stdout
    assert run.stdout.strip().splitlines()[-1] == "FAILED"


def test_without_a_trusted_key_the_chain_is_checked_but_the_exit_says_the_signer_was_not(bundle, real_fingerprint):
    run = verifier(bundle)
    assert run.returncode == 3, run.stdout + run.stderr
    assert "chain intact" in run.stdout
    (summary,) = [line for line in run.stdout.splitlines() if "NOT CHECKED" in line]
    assert summary == run.stdout.strip().splitlines()[-1]
    assert summary.startswith("SIGNER NOT CHECKED:") and format_fingerprint(real_fingerprint) in summary


def test_without_a_trusted_key_a_broken_chain_still_fails(bundle):
    lines = (bundle / "events.jsonl").read_text(encoding="utf-8").splitlines()
    victim = json.loads(lines.pop(2))["seq"]
    (bundle / "events.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    run = verifier(bundle)
    assert run.returncode == 1 and f"BROKEN at seq {victim}: gap" in run.stdout


@pytest.mark.parametrize(
    "write",
    [
        pytest.param(lambda f: f, id="plain"),
        pytest.param(format_fingerprint, id="groups"),
        pytest.param(lambda f: ":".join(f[i : i + 2] for i in range(0, 64, 2)).upper(), id="colons-upper"),
        pytest.param(lambda f: "-".join(f[i : i + 8] for i in range(0, 64, 8)), id="hyphens"),
    ],
)
def test_fingerprint_separators_are_accepted(bundle, real_fingerprint, write):
    assert verifier(bundle, "--trusted-key", write(real_fingerprint)).returncode == 0


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param("abc", id="short"),
        pytest.param("a" * 63, id="63-digits"),
        pytest.param("a" * 65, id="65-digits"),
        pytest.param("g" * 64, id="not-hex"),
        pytest.param("", id="empty"),
    ],
)
def test_a_malformed_fingerprint_exits_2_with_a_clear_message(bundle, bad):
    run = verifier(bundle, "--trusted-key", bad)
    assert run.returncode == 2
    assert "is not a key fingerprint: expected 64 hexadecimal digits" in run.stderr
    assert "OK" not in run.stdout


def test_trusted_keys_file_with_comments(bundle, real_fingerprint, tmp_path):
    other = fingerprint_for(load_signing_key(ensure_signing_key(tmp_path / "other.pem")).public_key())
    trusted = tmp_path / "trusted.txt"
    trusted.write_text(
        f"# Trung tâm giám sát, nhận trực tiếp ngày 01/03/2026\n\n{format_fingerprint(other)}\n"
        f"{format_fingerprint(real_fingerprint)}  # khóa hiện hành\n",
        encoding="utf-8",
    )
    assert verifier(bundle, "--trusted-keys", str(trusted)).returncode == 0

    trusted.write_text(f"{other}\n", encoding="utf-8")
    run = verifier(bundle, "--trusted-keys", str(trusted))
    assert run.returncode == 1 and "not a trusted key" in run.stdout

    trusted.write_text(f"# ghi chú\n{real_fingerprint}\nnot-a-fingerprint\n", encoding="utf-8")
    run = verifier(bundle, "--trusted-keys", str(trusted))
    assert run.returncode == 2 and "line 3" in run.stderr

    trusted.write_text("# chỉ có ghi chú\n", encoding="utf-8")
    run = verifier(bundle, "--trusted-keys", str(trusted))
    assert run.returncode == 2 and "holds no fingerprint" in run.stderr

    run = verifier(bundle, "--trusted-keys", str(tmp_path / "absent.txt"))
    assert run.returncode == 2 and "absent.txt" in run.stderr


def test_a_bundle_without_a_checkpoint_over_its_events_is_not_passed(db, insider, tmp_path, real_fingerprint):
    _append(3, actor=insider)
    head = AuditEvent.objects.order_by("-seq").first().seq
    bundle = _export(tmp_path)
    run = verifier(bundle, "--trusted-key", real_fingerprint)
    assert run.returncode == 3
    summary = run.stdout.strip().splitlines()[-1]
    assert summary.startswith(f"NOT FULLY ANCHORED: events 1..{head} are covered by no signed checkpoint")


def test_bundle_carries_the_key_register(bundle, real_fingerprint):
    register = json.loads((bundle / "keys.json").read_text(encoding="utf-8"))
    (entry,) = register["keys"]
    signing_key = SigningKey.objects.get()
    assert entry == signing_key.as_json()
    assert entry["fingerprint"] == real_fingerprint and entry["key_id"] == real_fingerprint[:16]
    assert entry["retired_at"] is None
    assert entry["public_key_pem"].strip() in (bundle / "public_key.pem").read_text()


def test_a_register_entry_that_contradicts_its_key_breaks_the_bundle(bundle, real_fingerprint):
    register = json.loads((bundle / "keys.json").read_text(encoding="utf-8"))
    register["keys"][0]["fingerprint"] = "0" * 64
    (bundle / "keys.json").write_text(json.dumps(register), encoding="utf-8")
    run = verifier(bundle, "--trusted-key", real_fingerprint)
    assert run.returncode == 1 and "does not match its own public key" in run.stdout


# Rotation and retirement -------------------------------------------------------------------


def test_rotation_keeps_old_checkpoints_verifiable(db, insider, settings, tmp_path, key_file, real_fingerprint, capsys):
    with clock_at(yesterday()):
        _append(2, actor=insider)
        old_checkpoint = checkpoint_create()
        settings.AUDIT_SIGNING_KEY_FILE = ensure_signing_key(tmp_path / "keys" / "new.pem")
        new_fingerprint = fingerprint_for(load_signing_key().public_key())
        call_command("audit_keys", "register", "--note", "Khóa mới theo kế hoạch thay khóa")
        call_command("audit_keys", "retire", old_checkpoint.key_id, "--note", "Thay khóa định kỳ")
        _append(2, actor=insider)
        new_checkpoint = checkpoint_create()
    _append(1, actor=insider)
    checkpoint_create()
    assert new_checkpoint.key_id == new_fingerprint[:16] != old_checkpoint.key_id
    assert verify_chain().ok
    assert current_signing_key_fingerprint() == format_fingerprint(new_fingerprint)

    capsys.readouterr()
    bundle = _export(tmp_path, day=yesterday().date())
    out = capsys.readouterr().out
    assert f'--trusted-key "{format_fingerprint(real_fingerprint)}" --trusted-key "{format_fingerprint(new_fingerprint)}"' in out
    keys = {k["fingerprint"]: k for k in json.loads((bundle / "keys.json").read_text())["keys"]}
    assert set(keys) == {real_fingerprint, new_fingerprint}
    assert keys[real_fingerprint]["retired_at"] and keys[new_fingerprint]["retired_at"] is None
    run = verifier(bundle, "--trusted-key", real_fingerprint, "--trusted-key", new_fingerprint)
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"checkpoint seq {old_checkpoint.seq}" in run.stdout and "retired" in run.stdout
    # A reader who trusts only the new key is told which checkpoint the old key signed.
    run = verifier(bundle, "--trusted-key", new_fingerprint)
    assert run.returncode == 1 and f"BROKEN at seq {old_checkpoint.seq}: checkpoint:" in run.stdout


def test_a_retired_key_cannot_sign(db, insider, real_fingerprint):
    _append(1, actor=insider)
    checkpoint_create()
    signing_key_retire(actor=None, signing_key=find_signing_key(real_fingerprint))
    _append(1, actor=insider)
    head = AuditEvent.objects.order_by("-seq").first()
    with pytest.raises(CommandError, match="was retired on .* may no longer sign checkpoints"):
        call_command("audit_checkpoint")
    assert AuditEvent.objects.order_by("-seq").first() == head and Checkpoint.objects.count() == 1


def test_a_checkpoint_signed_by_a_retired_key_after_its_retirement_is_flagged(db, insider, tmp_path, key_file, real_fingerprint):
    _append(1, actor=insider)
    checkpoint_create()
    signing_key_retire(actor=None, signing_key=find_signing_key(real_fingerprint))
    _append(1, actor=insider)
    # The retired key leaks and signs anyway, without going through checkpoint_create.
    key = load_signing_key(key_file)
    seq, head_hash = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
    signed_at = format_time(timezone.now() + dt.timedelta(seconds=1))
    message = checkpoint_message(seq, head_hash, signed_at, key_id_for(key.public_key()))
    Checkpoint.objects.create(
        seq=seq,
        hash=head_hash,
        signed_at=signed_at,
        key_id=key_id_for(key.public_key()),
        public_key_pem=load_pem(key),
        signature=base64.b64encode(key.sign(message)).decode(),
    )
    run = verifier(_export(tmp_path), "--trusted-key", real_fingerprint)
    assert run.returncode == 1
    assert f"BROKEN at seq {seq}: checkpoint: signed {signed_at}, after key {real_fingerprint[:16]} was retired" in run.stdout


def test_first_signature_registers_the_key_in_the_ledger(db, insider, real_fingerprint):
    _append(1, actor=insider)
    checkpoint = checkpoint_create(actor=insider)
    signing_key = SigningKey.objects.get()
    assert signing_key.fingerprint == real_fingerprint and signing_key.valid_from <= timezone.now()
    event = AuditEvent.objects.get(action=Action.SIGNING_KEY_REGISTER)
    assert event.seq == checkpoint.seq and event.target_id == str(signing_key.pk)
    assert event.data["fingerprint"] == real_fingerprint
    assert str(Action.SIGNING_KEY_REGISTER.label) == "Ledger signing key registered"


# The audit_keys command --------------------------------------------------------------------


def test_audit_keys_register_list_and_retire(db, capsys, real_fingerprint, insider):
    call_command("audit_keys", "list")
    assert "No signing key is registered yet" in capsys.readouterr().out
    call_command("audit_keys", "register", "--note", "Khóa của trung tâm")
    assert format_fingerprint(real_fingerprint) in capsys.readouterr().out
    call_command("audit_keys", "list")
    out = capsys.readouterr().out
    assert format_fingerprint(real_fingerprint) in out and "current" in out and "Khóa của trung tâm" in out
    call_command("audit_keys", "retire", format_fingerprint(real_fingerprint).replace(" ", ":"))
    captured = capsys.readouterr()
    assert "Retired key" in captured.out and "AUDIT_SIGNING_KEY_FILE" in captured.err
    signing_key = SigningKey.objects.get()
    assert signing_key.retired_at is not None
    retired = AuditEvent.objects.get(action=Action.SIGNING_KEY_RETIRE)
    assert retired.data["fingerprint"] == real_fingerprint and retired.data["retired_at"] == format_time(signing_key.retired_at)
    assert AuditEvent.objects.filter(action=Action.SIGNING_KEY_REGISTER).count() == 1
    assert verify_chain().ok


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["retire", "xyz"], "neither a key fingerprint"),
        (["retire", "0123456789abcdef"], "No registered signing key matches 0123456789abcdef"),
        (["retire", "0" * 64], "No registered signing key matches"),
        (["register", "--key-file", "/nonexistent/ledger.pem"], "No ledger signing key at /nonexistent/ledger.pem"),
    ],
)
def test_audit_keys_refuses_bad_input_and_records_nothing(db, args, message):
    before = AuditEvent.objects.count()
    with pytest.raises(CommandError, match=message):
        call_command("audit_keys", *args)
    assert AuditEvent.objects.count() == before and not SigningKey.objects.exists()


def test_audit_keys_refuses_to_register_or_retire_twice(db, real_fingerprint):
    call_command("audit_keys", "register")
    with pytest.raises(CommandError, match="already registered"):
        call_command("audit_keys", "register")
    call_command("audit_keys", "retire", real_fingerprint[:16])
    with pytest.raises(CommandError, match="already retired"):
        call_command("audit_keys", "retire", real_fingerprint[:16])
    assert AuditEvent.objects.filter(action__in=[Action.SIGNING_KEY_REGISTER, Action.SIGNING_KEY_RETIRE]).count() == 2


def test_keys_that_signed_before_the_register_are_registered_by_the_migration(db, insider, key_file, real_fingerprint):
    _append(1, actor=insider)
    checkpoint = checkpoint_create()
    SigningKey.objects.all().delete()
    migration = importlib.import_module("audit.migrations.0007_signing_keys")
    migration.register_keys_of_existing_checkpoints(apps, None)
    signing_key = SigningKey.objects.get()
    assert signing_key.fingerprint == real_fingerprint
    assert format_time(signing_key.valid_from) == checkpoint.signed_at


# Documents and pages -----------------------------------------------------------------------


def _flat(texts):
    return "".join(unicodedata.normalize("NFC", "\n".join(texts)).split())


def test_period_report_prints_the_current_key_and_the_keys_that_signed(db, insider, tmp_path, real_fingerprint):
    _append(2, actor=insider)
    checkpoint_create()
    out = tmp_path / "report.pdf"
    today = timezone.localdate()
    with open(out, "wb") as stream:
        render_period_report(collect(ReportScope(date_from=today, date_to=today)), stream, code="BC-KEY", author="Thanh tra")
    text = _flat(pdf_text(out)[0])
    assert "Dấuvântaykhóakýnhậtkýđangdùng" in text
    assert "".join(format_fingerprint(real_fingerprint).split()) in text
    assert text.count(real_fingerprint) >= 3  # the current key, the key of the period's checkpoints, the latest checkpoint


def _auditor(world):
    inspectorate = AgencyFactory(code="thanh-tra-q", name_vi="Thanh tra quận", kind=Agency.Kind.INSPECTORATE, area=world.province)
    return UserFactory(username="thanhtra-q", agency=inspectorate, roles=["auditor"])


def test_dossier_prints_the_signing_key_fingerprint(world, client, real_fingerprint):
    footage_request = world.submitted()
    checkpoint_create()
    sign_in_verified(client, _auditor(world))
    response = client.get(reverse("oversight:dossier", args=[footage_request.reference]))
    assert response.status_code == 200
    text = _flat(pdf_text(response.content)[0])
    assert "Dấuvântaykhóakýnhậtkýđangdùng" in text and real_fingerprint in text


def _manifest():
    return {
        "provider": {"agency": "Trung tâm giám sát", "name": "Trần Văn Vận"},
        "legal_basis": {"citation": "Điều 88 BLTTHS", "title": "Thu thập chứng cứ"},
        "official_letter": {"number": "12/CV", "date": "2026-03-01"},
        "agency": "Công an phường Hàng Bạc",
        "approvals": [{"name": "Lê Phê Duyệt", "agency": "Trung tâm", "signed_at": "2026-03-01T03:00:00+00:00"}],
        "requester": "Nguyễn Văn An",
        "case_reference": "",
        "files": [],
        "items": [],
    }


def test_handover_record_prints_the_current_key_fingerprint_and_says_it_does_not_sign_the_record(db, insider, real_fingerprint):
    request = SimpleNamespace(reference="YC-2026-000001", agency=SimpleNamespace(name_vi="Công an phường Hàng Bạc"))
    without = _flat(pdf_text(render_handover(footage_request=request, manifest=_manifest(), manifest_sha256="a" * 64))[0])
    assert "Dấuvântaykhóa" not in without
    _append(1, actor=insider)
    checkpoint_create()
    text = _flat(pdf_text(render_handover(footage_request=request, manifest=_manifest(), manifest_sha256="a" * 64))[0])
    assert "Dấuvântaykhóakýnhậtkýkiểmtoán" in text and "biênbảnnàykhôngkýbằngkhóađó" in text
    assert real_fingerprint in text


def test_ledger_page_shows_the_register_with_the_current_key(db, insider, auditor, client, real_fingerprint):
    _append(1, actor=insider)
    checkpoint_create()
    client.force_login(auditor)
    page = client.get(reverse("oversight:ledger")).content.decode()
    assert format_fingerprint(real_fingerprint) in page and "data-current-key" in page
    page = client.get(reverse("oversight:verify")).content.decode()
    assert format_fingerprint(real_fingerprint) in page


def test_release_verification_page_shows_the_current_key_fingerprint(db, insider, client, real_fingerprint):
    client.force_login(insider)
    assert "data-signing-key" not in client.get("/requests/verify/").content.decode()
    _append(1, actor=insider)
    checkpoint_create()
    page = client.get("/requests/verify/").content.decode()
    assert format_fingerprint(real_fingerprint) in page


def test_export_command_prints_how_to_verify_with_the_fingerprint(bundle, tmp_path, capsys, real_fingerprint):
    _export(tmp_path, "second")
    out = capsys.readouterr().out
    assert f'--trusted-key "{format_fingerprint(real_fingerprint)}"' in out
    assert Path(tmp_path / "second" / "keys.json").exists()
