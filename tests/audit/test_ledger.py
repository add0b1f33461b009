"""The ledger writer: one transaction, one gapless chain, append-only tables."""

import threading

import pytest
from django.db import DatabaseError, connection, connections, transaction

from audit import record_event, triggers
from audit.chain import GENESIS_HASH, event_hash
from audit.ledger_check import verify_chain
from audit.models import Action, AuditEvent, Checkpoint
from audit.services import LedgerError
from governance.models import Camera
from tests.factories import CameraFactory

only_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")


def _append(count, *, actor=None):
    for number in range(count):
        with transaction.atomic():
            record_event(actor=actor, action=Action.LEDGER_VIEW, data={"n": number})


def _refused(sql, params=()):
    """Run sql in a savepoint and say whether the database refused it."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    except DatabaseError:
        return True
    return False


def test_record_event_refuses_to_run_outside_a_transaction(transactional_db, insider):
    with pytest.raises(LedgerError):
        record_event(actor=insider, action=Action.LEDGER_VIEW)


def test_rolled_back_transaction_leaves_no_event_and_no_gap(db, insider):
    _append(2, actor=insider)
    head = AuditEvent.objects.order_by("-seq").first()
    with pytest.raises(RuntimeError), transaction.atomic():
        record_event(actor=insider, action=Action.LEDGER_VIEW, data={"lost": True})
        raise RuntimeError("the action failed")
    assert AuditEvent.objects.order_by("-seq").first() == head
    _append(1, actor=insider)
    assert AuditEvent.objects.order_by("-seq").first().seq == head.seq + 1
    assert verify_chain().ok


def test_failed_action_leaves_neither_the_change_nor_its_event(db, insider):
    before = AuditEvent.objects.count()
    with pytest.raises(ValueError), transaction.atomic():
        camera = CameraFactory(code="CAM-LOST")
        record_event(actor=insider, action=Action.GOVERNANCE_CREATE, target=camera, data={"code": camera.code})
        raise ValueError("validation failed after the write")
    assert not Camera.objects.filter(code="CAM-LOST").exists()
    assert AuditEvent.objects.count() == before


def test_sequence_is_gapless_and_each_event_links_to_the_one_before(db, insider, outsider):
    _append(5, actor=insider)
    _append(5, actor=outsider)
    events = list(AuditEvent.objects.order_by("seq"))
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert events[0].prev_hash == GENESIS_HASH
    for before, after in zip(events, events[1:], strict=False):
        assert after.prev_hash == before.hash
    for event in events:
        assert event.hash == event_hash(event.envelope(), event.payload)


def test_event_keeps_the_actor_as_they_were_at_that_moment(db, insider):
    with transaction.atomic():
        event = record_event(actor=insider, action=Action.LEDGER_VIEW)
    assert (event.actor_username, event.actor_agency, event.actor_roles) == ("alice", "cap-a", ["requester"])


def test_verify_chain_reports_count_and_head(db, insider):
    _append(3, actor=insider)
    head = AuditEvent.objects.order_by("-seq").first()
    result = verify_chain(batch_size=2)
    assert result.ok and result.problem is None
    assert (result.events_checked, result.first_seq, result.head_seq, result.head_hash) == (head.seq, 1, head.seq, head.hash)


def test_verify_chain_from_a_later_sequence_links_to_the_stored_predecessor(db, insider):
    _append(6, actor=insider)
    result = verify_chain(from_seq=4)
    assert result.ok
    assert result.first_seq == 4
    assert result.events_checked == AuditEvent.objects.count() - 3


def test_verify_chain_on_an_empty_ledger_is_intact(db):
    result = verify_chain()
    assert result.ok and result.events_checked == 0 and result.head_seq is None


def test_verify_chain_rebuilds_the_time_exactly_as_it_was_hashed(db, insider, monkeypatch):
    # Whole seconds and trailing zeros come back from the databases in shorter text forms.
    import datetime as dt

    from django.utils import timezone

    for moment in (dt.datetime(2026, 3, 1, 1, 2, 3, tzinfo=dt.UTC), dt.datetime(2026, 3, 1, 1, 2, 4, 500000, tzinfo=dt.UTC)):
        monkeypatch.setattr(timezone, "now", lambda moment=moment: moment)
        _append(1, actor=insider)
    monkeypatch.undo()
    assert verify_chain().ok


@pytest.mark.parametrize("table", ["audit_event", "audit_checkpoint"])
def test_database_refuses_update_and_delete_on_ledger_tables(db, insider, table):
    _append(1, actor=insider)
    with transaction.atomic():
        Checkpoint.objects.create(seq=1, hash="a" * 64, signed_at="x", key_id="k", public_key_pem="p", signature="s")
    count = f"SELECT COUNT(*), MIN(hash) FROM {table}"
    before = connection.cursor().execute(count).fetchone()
    assert _refused(f"UPDATE {table} SET hash = %s", ["b" * 64])
    assert _refused(f"DELETE FROM {table}")
    assert connection.cursor().execute(count).fetchone() == before


def test_orm_update_and_delete_of_events_are_refused(db, insider):
    _append(1, actor=insider)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.update(payload="{}")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.all().delete()


@only_postgresql
@pytest.mark.parametrize("table", ["audit_event", "audit_checkpoint"])
def test_postgresql_refuses_truncate_on_ledger_tables(db, insider, table):
    _append(1, actor=insider)
    assert _refused(f"TRUNCATE {table}")
    assert AuditEvent.objects.exists()


def test_trigger_removal_rolls_back_with_the_transaction(db, insider):
    # The tamper drills rely on this: dropping the triggers inside a test's
    # transaction must not outlive it, on either engine.
    _append(1, actor=insider)
    with pytest.raises(RuntimeError), transaction.atomic():
        triggers.remove(connection)
        assert not _refused("UPDATE audit_event SET client_ip = 'x' WHERE seq = 1")
        raise RuntimeError("roll back")
    assert _refused("UPDATE audit_event SET client_ip = 'y' WHERE seq = 1")


@only_postgresql
def test_concurrent_writers_leave_no_gap_and_no_fork(transactional_db):
    writers, per_writer = 8, 25
    errors = []
    start = threading.Barrier(writers)

    def write(number):
        try:
            start.wait()
            for item in range(per_writer):
                with transaction.atomic():
                    record_event(actor=None, action=Action.LEDGER_VIEW, data={"writer": number, "item": item})
        except Exception as exc:  # reported below; a thread cannot fail the test itself
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(number,)) for number in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, writers * per_writer + 1))
    assert AuditEvent.objects.values("prev_hash").distinct().count() == writers * per_writer
    result = verify_chain()
    assert result.ok, result.problem
    assert result.events_checked == writers * per_writer


@only_postgresql
def test_an_event_is_on_disk_when_its_transaction_returns_even_if_the_session_asks_for_asynchronous_commit(
    transactional_db,
):
    # A role or database configured with synchronous_commit = off must not weaken the ledger silently.
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
    flushed_in_time = 0
    for number in range(200):
        with transaction.atomic():
            record_event(actor=None, action=Action.LEDGER_VIEW, data={"n": number})
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_current_wal_insert_lsn()")
                (inserted,) = cursor.fetchone()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_current_wal_flush_lsn() >= %s::pg_lsn", [inserted])
            flushed_in_time += cursor.fetchone()[0]
    assert flushed_in_time == 200
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        # Only the ledger's own transactions were made synchronous; the session keeps its setting.
        assert cursor.fetchone()[0] == "off"


def test_the_database_is_set_up_to_keep_committed_events(db):
    from django.core.checks import run_checks

    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous")
            assert cursor.fetchone()[0] == 2  # FULL
    problems = [p for p in run_checks(databases=["default"]) if p.id.startswith("audit.")]
    assert problems == []


@only_postgresql
def test_work_queued_on_commit_runs_only_once_the_event_is_on_disk(transactional_db):
    seen = []

    def flushed_past(position):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_current_wal_flush_lsn() >= %s::pg_lsn", [position])
            return cursor.fetchone()[0]

    inserted = {}
    for number in range(20):
        with transaction.atomic():
            # Queued before the event, as a view that sends mail and then records what it did would.
            transaction.on_commit(lambda: seen.append(flushed_past(inserted["lsn"])))
            try:
                with transaction.atomic():
                    record_event(actor=None, action=Action.LEDGER_VIEW, data={"n": number, "kept": False})
                    raise RuntimeError("rolled back")
            except RuntimeError:
                pass
            record_event(actor=None, action=Action.LEDGER_VIEW, data={"n": number, "kept": True})
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_current_wal_insert_lsn()")
                inserted["lsn"] = cursor.fetchone()[0]
    assert seen == [True] * 20


def test_an_events_action_and_outcome_read_in_the_readers_language():
    from django.utils import translation

    from audit.models import Outcome

    event = AuditEvent(action=Action.REQUEST_VIEW, outcome=Outcome.DENIED)
    for language in ("vi", "en"):
        with translation.override(language):
            assert event.get_action_display() == str(Action.REQUEST_VIEW.label)
            assert event.get_outcome_display() == str(Outcome.DENIED.label)
    assert str(Action.REQUEST_VIEW.label) != Action.REQUEST_VIEW.value
    # An action a later version no longer names is shown as written.
    assert AuditEvent(action="retired.action").get_action_display() == "retired.action"
