"""The bulk walk of verify_chain proves exactly what ChainWalker proves, and a capped background run yields the CPU."""

import json
import time

import pytest
from django.db import connection, transaction

from audit import record_event, triggers
from audit.chain import GENESIS_HASH, ChainWalker, event_hash
from audit.ledger_check import DutyCycle, _fast_walk, _row_batches, _utc_text, event_rows, verify_chain
from audit.models import Action, AuditEvent, VerificationRun
from audit.tasks import verify_ledger_task


def _events(insider, outsider, count):
    for number in range(count):
        with transaction.atomic():
            record_event(actor=insider if number % 3 else outsider, action=Action.LEDGER_VIEW, data={"n": number})


def _walked_by_chain_walker():
    walker = ChainWalker(expected_prev=GENESIS_HASH)
    for envelope, payload, stored in event_rows():
        assert walker.feed(envelope, payload, stored)
    return walker


def test_the_bulk_walk_proves_unusual_values_without_falling_back(db, insider):
    """Quotes, backslashes, control characters, non-Latin text, several roles, no actor: all proved in bulk."""
    with transaction.atomic():
        record_event(actor=None, action=Action.LEDGER_VIEW, data={"note": 'a "quoted" \\ back\tslash\n'})
        record_event(actor=insider, action=Action.LEDGER_VIEW, data={"note": "Nguyễn Thị Ánh 𝔘 \u2028"})
    # Edit the stored envelope fields as the application might have written them, with a hash made by the chain's rule.
    event = AuditEvent.objects.order_by("-seq").first()
    event.actor_username = 'mal"lo\\ry\x01 Trần'
    event.actor_roles = ["approver", "releaser", "kiểm tra"]
    event.client_ip = "2001:db8::1"
    triggers.remove(connection)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_event SET actor_username = %s, actor_roles = %s, client_ip = %s, hash = %s WHERE seq = %s",
            [
                event.actor_username,
                json.dumps(event.actor_roles),
                event.client_ip,
                event_hash(event.envelope(), event.payload),
                event.seq,
            ],
        )
    reference = _walked_by_chain_walker()
    walker = ChainWalker(expected_prev=GENESIS_HASH)
    walker.want = {event.seq}
    batches = _row_batches(connection, from_seq=1, to_seq=None, batch_size=1)
    assert _fast_walk(walker, batches, start=1, when=_utc_text) is None
    assert (walker.count, walker.first_seq, walker.last_seq, walker.last_hash) == (
        reference.count,
        reference.first_seq,
        reference.last_seq,
        reference.last_hash,
    )
    assert walker.wanted == {event.seq: reference.last_hash}


def test_the_bulk_walk_stops_at_an_edited_event_and_chain_walker_names_it(db, insider, outsider):
    _events(insider, outsider, 12)
    victim = 7
    triggers.remove(connection)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_event SET client_ip = %s WHERE seq = %s", ["10.0.0.66", victim])
    walker = ChainWalker(expected_prev=GENESIS_HASH)
    assert _fast_walk(walker, _row_batches(connection, from_seq=1, to_seq=None, batch_size=5), start=1, when=_utc_text) == victim
    assert (walker.count, walker.last_seq) == (victim - 1, victim - 1)
    result = verify_chain(batch_size=5)
    assert (result.problem.seq, result.problem.kind, result.events_checked) == (victim, "hash", victim - 1)


@pytest.mark.parametrize("share", [0.25, 0.5])
def test_duty_cycle_sleeps_in_proportion_to_the_work(share):
    now = [0.0]
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds

    throttle = DutyCycle(share, sleep=sleep, clock=lambda: now[0])
    for work in (0.01, 0.04, 0.02):
        now[0] += work
        throttle.pause()
    assert slept == pytest.approx([work * (1 - share) / share for work in (0.01, 0.04, 0.02)])
    assert throttle.busy == pytest.approx(0.07)
    assert throttle.busy / (throttle.busy + throttle.paused) == pytest.approx(share)


@pytest.mark.parametrize("share", [0, -0.5, 1.5])
def test_a_share_outside_one_core_is_refused(share):
    with pytest.raises(ValueError):
        DutyCycle(share)


def test_a_capped_verification_yields_the_cpu_and_finds_the_same(db, insider, outsider):
    """With a quarter of a core the walk sleeps about three times as long as it works, and proves the same chain."""
    _events(insider, outsider, 120)
    full = verify_chain(batch_size=3)
    started, cpu = time.perf_counter(), time.process_time()
    capped = verify_chain(batch_size=3, max_cpu=0.25)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    assert capped.ok and (capped.events_checked, capped.head_hash) == (full.events_checked, full.head_hash)
    # Three quarters of the run asleep (less the checkpoint and set-up queries, which are not paced).
    assert capped.paused_seconds >= 0.6 * capped.seconds
    assert cpu <= 0.5 * wall
    triggers.remove(connection)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_event SET payload = %s WHERE seq = %s", ['{"n":-1}', 50])
    capped, full = verify_chain(batch_size=3, max_cpu=0.25), verify_chain(batch_size=3)
    assert (capped.problem.seq, capped.problem.kind) == (full.problem.seq, full.problem.kind) == (50, "hash")


def test_the_background_task_keeps_to_the_configured_share(db, insider, outsider, settings, monkeypatch):
    _events(insider, outsider, 60)
    settings.LEDGER_VERIFY_MAX_CPU = 0.2
    slept = []
    real_sleep = time.sleep

    def recording_sleep(seconds):
        slept.append(seconds)
        real_sleep(seconds)

    monkeypatch.setattr(time, "sleep", recording_sleep)
    run = VerificationRun.objects.create(requested_by=insider)
    assert verify_ledger_task.run(run.pk) == VerificationRun.Status.PASSED
    assert slept  # the batches of a run were followed by pauses
    run.refresh_from_db()
    assert run.events_checked == AuditEvent.objects.filter(seq__lte=run.head_seq).count()
