"""audit_export: the bundle an oversight body verifies offline, and the input it refuses."""

import datetime as dt
import filecmp
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone

import audit.chain
import audit.verifier
from audit import record_event
from audit.chain import ENVELOPE_FIELDS
from audit.checkpoints import checkpoint_create, ensure_signing_key
from audit.models import Action, AuditEvent, Checkpoint
from audit.verifier import check_bundle, verify_bundle

UTC = dt.UTC


@pytest.fixture(autouse=True)
def signing_key(settings, tmp_path):
    settings.AUDIT_SIGNING_KEY_FILE = tmp_path / "keys" / "ledger.pem"
    return ensure_signing_key(settings.AUDIT_SIGNING_KEY_FILE)


def _append_at(moment, monkeypatch, *, actor=None, count=1):
    monkeypatch.setattr(timezone, "now", lambda: moment)
    for number in range(count):
        with transaction.atomic():
            record_event(actor=actor, action=Action.LEDGER_VIEW, data={"n": number, "at": moment.isoformat()})
    monkeypatch.undo()


def _export(out, *args):
    call_command("audit_export", "--out", str(out), *args)
    return Path(out)


def _today():
    return timezone.localdate().isoformat()


def test_bundle_holds_events_checkpoints_key_manifest_verifier_and_readme(db, insider, tmp_path):
    for _ in range(3):
        with transaction.atomic():
            record_event(actor=insider, action=Action.LEDGER_VIEW, data={"ghi chú": "Camera ngã tư Hàng Bạc"})
    checkpoint = checkpoint_create()
    head = AuditEvent.objects.order_by("-seq").first()
    bundle = _export(tmp_path / "bundle", "--from", _today(), "--to", _today())

    assert sorted(p.name for p in bundle.iterdir()) == [
        "README.txt",
        "chain.py",
        "checkpoints.jsonl",
        "events.jsonl",
        "keys.json",
        "manifest.json",
        "public_key.pem",
        "verifier.py",
    ]
    events = [json.loads(line) for line in (bundle / "events.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [e["seq"] for e in events] == list(range(1, head.seq + 1))
    assert set(events[0]) == {*ENVELOPE_FIELDS, "payload", "hash"}
    assert events[-1]["hash"] == head.hash and isinstance(events[-1]["payload"], str)
    assert "Hàng Bạc" in (bundle / "events.jsonl").read_text(encoding="utf-8")
    assert [json.loads(line) for line in (bundle / "checkpoints.jsonl").read_text().splitlines()] == [checkpoint.as_json()]
    assert (bundle / "public_key.pem").read_text().strip() == checkpoint.public_key_pem.strip()
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest | {"generated_at": None} == {
        "format": "v1",
        "from": _today(),
        "to": _today(),
        "time_zone": "Asia/Ho_Chi_Minh",
        "first_seq": 1,
        "last_seq": head.seq,
        "event_count": head.seq,
        "prev_hash": "0" * 64,
        "last_hash": head.hash,
        # Today's period ends with the checkpoint's own record, which no checkpoint fixes yet.
        "requested_range": {"first_seq": 1, "last_seq": head.seq},
        "anchored_range": {"first_seq": 1, "last_seq": checkpoint.seq},
        "unanchored_range": {"first_seq": head.seq, "last_seq": head.seq},
        "warning": f"Events {head.seq}..{head.seq} are fixed by no signed checkpoint: they are proved by the hash chain "
        "only, and verifier.py exits with status 3.",
        "generated_at": None,
    }
    assert filecmp.cmp(bundle / "verifier.py", audit.verifier.__file__, shallow=False)
    assert filecmp.cmp(bundle / "chain.py", audit.chain.__file__, shallow=False)
    readme = (bundle / "README.txt").read_text(encoding="utf-8")
    assert "python verifier.py ." in readme and "pip install cryptography" in readme
    assert "HƯỚNG DẪN" in readme and "HOW TO VERIFY" in readme
    assert readme.startswith(f"CHÚ Ý: CÁC SỰ KIỆN {head.seq}..{head.seq} CHƯA ĐƯỢC ĐIỂM CHỐT ĐÃ KÝ NÀO BẢO ĐẢM")
    assert f"WARNING: EVENTS {head.seq}..{head.seq} ARE FIXED BY NO SIGNED CHECKPOINT" in readme
    ok, lines = verify_bundle(bundle)
    assert ok, lines


def test_export_is_recorded_in_the_ledger_after_the_bundle(db, insider, tmp_path):
    with transaction.atomic():
        record_event(actor=insider, action=Action.LEDGER_VIEW)
    last = AuditEvent.objects.order_by("-seq").first().seq
    _export(tmp_path / "bundle", "--from", _today(), "--to", _today())
    event = AuditEvent.objects.order_by("-seq").first()
    assert event.action == Action.LEDGER_EXPORT and event.seq == last + 1
    assert event.data | {"directory": None} == {
        "from": _today(),
        "to": _today(),
        "actor_filter": "",
        "first_seq": 1,
        "last_seq": last,
        "requested_last_seq": last,
        "anchored_last_seq": None,
        "event_count": last,
        "checkpoint_count": 0,
        "last_hash": AuditEvent.objects.get(seq=last).hash,
        "directory": None,
    }


def test_days_are_whole_days_in_the_configured_time_zone(db, tmp_path, monkeypatch):
    # Hà Nội is UTC+7: 2026-03-01 ends at 16:59:59.999999 UTC.
    _append_at(dt.datetime(2026, 2, 28, 16, 59, 59, tzinfo=UTC), monkeypatch)  # 28 Feb, 23:59:59 local
    _append_at(dt.datetime(2026, 2, 28, 17, 0, 0, tzinfo=UTC), monkeypatch)  # 1 Mar, 00:00 local
    _append_at(dt.datetime(2026, 3, 1, 16, 59, 59, 999999, tzinfo=UTC), monkeypatch)  # 1 Mar, last moment
    _append_at(dt.datetime(2026, 3, 1, 17, 0, 0, tzinfo=UTC), monkeypatch)  # 2 Mar
    bundle = _export(tmp_path / "bundle", "--from", "2026-03-01", "--to", "2026-03-01")
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert (manifest["first_seq"], manifest["last_seq"], manifest["event_count"]) == (2, 3, 2)
    assert manifest["prev_hash"] == AuditEvent.objects.get(seq=1).hash
    ok, lines = verify_bundle(bundle)
    assert ok, lines


def test_events_run_on_to_the_first_checkpoint_after_the_period_with_the_checkpoints_between(db, tmp_path, monkeypatch, capsys):
    _append_at(dt.datetime(2026, 3, 1, 3, tzinfo=UTC), monkeypatch)
    monkeypatch.setattr(timezone, "now", lambda: dt.datetime(2026, 3, 1, 4, tzinfo=UTC))
    inside = checkpoint_create()
    monkeypatch.undo()
    period_last = AuditEvent.objects.order_by("-seq").first().seq  # the checkpoint's record, which it does not fix
    _append_at(dt.datetime(2026, 3, 2, 3, tzinfo=UTC), monkeypatch)
    after = checkpoint_create()
    checkpoint_create()
    _append_at(dt.datetime(2026, 3, 3, 3, tzinfo=UTC), monkeypatch)
    later = checkpoint_create()
    capsys.readouterr()
    bundle = _export(tmp_path / "bundle", "--from", "2026-03-01", "--to", "2026-03-01")
    out = capsys.readouterr()
    written = [json.loads(line)["seq"] for line in (bundle / "checkpoints.jsonl").read_text().splitlines()]
    assert written == [inside.seq, after.seq]
    assert later.seq not in written and Checkpoint.objects.count() == 3
    events = [json.loads(line)["seq"] for line in (bundle / "events.jsonl").read_text().splitlines()]
    assert events == list(range(1, after.seq + 1)) and period_last < after.seq
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert (manifest["first_seq"], manifest["last_seq"], manifest["event_count"]) == (1, after.seq, after.seq)
    assert manifest["requested_range"] == {"first_seq": 1, "last_seq": period_last}
    assert manifest["anchored_range"] == {"first_seq": 1, "last_seq": after.seq}
    assert manifest["unanchored_range"] is None and "warning" not in manifest
    assert not (bundle / "README.txt").read_text(encoding="utf-8").startswith("CHÚ Ý")
    assert f"The period's events end at sequence {period_last}; the bundle runs on to sequence {after.seq}" in out.out
    assert "NOT FULLY ANCHORED" not in out.err
    verdict = check_bundle(bundle, [after.fingerprint])
    assert verdict.status == "ok", verdict.lines
    assert f"anchored: events 1..{after.seq} are fixed by the checkpoint at seq {after.seq}" in "\n".join(verdict.lines)


def test_without_a_checkpoint_after_the_period_the_export_says_which_events_none_fixes(db, tmp_path, monkeypatch, capsys):
    _append_at(dt.datetime(2026, 3, 1, 3, tzinfo=UTC), monkeypatch)
    monkeypatch.setattr(timezone, "now", lambda: dt.datetime(2026, 3, 1, 4, tzinfo=UTC))
    inside = checkpoint_create()
    monkeypatch.undo()
    _append_at(dt.datetime(2026, 3, 1, 5, tzinfo=UTC), monkeypatch, count=2)
    last = AuditEvent.objects.order_by("-seq").first().seq
    capsys.readouterr()
    bundle = _export(tmp_path / "bundle", "--from", "2026-03-01", "--to", "2026-03-01")
    err = capsys.readouterr().err
    assert f"NOT FULLY ANCHORED: events {inside.seq + 1} to {last} are covered by no signed checkpoint yet" in err
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["requested_range"] == {"first_seq": 1, "last_seq": last} and manifest["last_seq"] == last
    assert manifest["anchored_range"] == {"first_seq": 1, "last_seq": inside.seq}
    assert manifest["unanchored_range"] == {"first_seq": inside.seq + 1, "last_seq": last}
    assert f"Events {inside.seq + 1}..{last} are fixed by no signed checkpoint" in manifest["warning"]
    readme = (bundle / "README.txt").read_text(encoding="utf-8")
    assert readme.startswith(f"CHÚ Ý: CÁC SỰ KIỆN {inside.seq + 1}..{last} CHƯA ĐƯỢC ĐIỂM CHỐT ĐÃ KÝ NÀO BẢO ĐẢM")
    verdict = check_bundle(bundle, [inside.fingerprint])
    assert verdict.status == "unchecked"
    assert verdict.summary.startswith(f"NOT FULLY ANCHORED: events {inside.seq + 1}..{last} are covered by no signed checkpoint")


def test_actor_export_spans_that_users_events_with_everything_in_between(db, insider, outsider, tmp_path, monkeypatch):
    moment = dt.datetime(2026, 3, 1, 3, tzinfo=UTC)
    _append_at(moment, monkeypatch, actor=outsider)
    first = AuditEvent.objects.order_by("-seq").first().seq + 1
    _append_at(moment, monkeypatch, actor=insider)
    _append_at(moment, monkeypatch, actor=outsider, count=2)
    _append_at(moment, monkeypatch, actor=insider)
    last = AuditEvent.objects.order_by("-seq").first().seq
    _append_at(moment, monkeypatch, actor=outsider)
    bundle = _export(tmp_path / "bundle", "--from", "2026-03-01", "--to", "2026-03-01", "--actor", "alice")
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert (manifest["first_seq"], manifest["last_seq"], manifest["actor"], manifest["actor_event_count"]) == (
        first,
        last,
        "alice",
        2,
    )
    assert verify_bundle(bundle)[0]


def test_empty_period_gives_an_empty_bundle_that_says_so(db, tmp_path):
    bundle = _export(tmp_path / "bundle", "--from", "2001-01-01", "--to", "2001-01-02")
    assert (bundle / "events.jsonl").read_text() == ""
    ok, lines = verify_bundle(bundle)
    assert ok and lines == ["no events in this bundle"]


def test_an_existing_empty_directory_is_accepted(db, insider, tmp_path):
    (tmp_path / "bundle").mkdir()
    bundle = _export(tmp_path / "bundle", "--from", _today(), "--to", _today())
    assert (bundle / "manifest.json").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2026-13-01", "--to", "2026-03-01"], "--from must be a date"),
        (["--from", "2026-03-01", "--to", "03/02/2026"], "--to must be a date"),
        (["--from", "yesterday", "--to", "2026-03-01"], "--from must be a date"),
        (["--from", "2026-03-02", "--to", "2026-03-01"], "is after the end date"),
        (["--from", "2026-03-01", "--to", "2026-03-01", "--actor", "nobody"], "no user named nobody"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(db, insider, tmp_path, args, message):
    before = AuditEvent.objects.count()
    with pytest.raises(CommandError, match=message):
        _export(tmp_path / "bundle", *args)
    assert list(tmp_path.iterdir()) == [tmp_path / "keys"]
    assert AuditEvent.objects.count() == before


def test_existing_non_empty_directory_is_refused_and_left_alone(db, insider, tmp_path):
    out = tmp_path / "bundle"
    out.mkdir()
    (out / "notes.txt").write_text("giữ nguyên")
    before = AuditEvent.objects.count()
    with pytest.raises(CommandError, match="not an empty directory"):
        _export(out, "--from", _today(), "--to", _today())
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle", "keys"]
    assert AuditEvent.objects.count() == before
