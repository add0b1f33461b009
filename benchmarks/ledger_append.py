"""What does the chain cost writers? Plain inserts against chained appends, same rows, same run, same durability.

8 writer processes each run N transactions of one event:

  A  plain: the row record_event would build (same payload, envelope, SHA-256
     and ORM insert) into bench_plain_event, a copy of audit_event with the
     same columns and indexes and an identity sequence, without the ledger
     lock, the head read or the triggers;
  B  chained: audit.record_event (advisory lock, head read, insert).

Both are durable when their transaction returns, which is what a person or a
task acting on the event relies on: the plain insert commits synchronously
(the same statement record_event uses turns synchronous_commit on when the
session has it off); the chained append commits without waiting under the
ledger lock, then waits for its WAL flush before the transaction returns
(audit/services.py says why). The settings in force are printed first.

Then verify_chain over the ledger. PostgreSQL only:

    createdb -h 127.0.0.1 -U postgres cg_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cg_bench python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cg_bench python benchmarks/ledger_append.py --per-writer 300
"""

import argparse
import multiprocessing
import os
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, connections, models, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from audit import record_event  # noqa: E402
from audit.chain import canonical_json, event_hash, format_time  # noqa: E402
from audit.ledger_check import verify_chain  # noqa: E402
from audit.models import Action, AuditEvent, Outcome  # noqa: E402
from audit.services import DURABLE_COMMIT_SQL  # noqa: E402


def _plain_model():
    attrs = {"__module__": __name__}
    for field in AuditEvent._meta.local_fields:
        if field.name == "seq":
            attrs["seq"] = models.BigAutoField(primary_key=True)
        else:
            attrs[field.name] = field.clone()
    attrs["Meta"] = type("Meta", (), {"db_table": "bench_plain_event", "app_label": "audit", "managed": False})
    return type("BenchPlainEvent", (models.Model,), attrs)


PlainEvent = _plain_model()


def _data(writer, number):
    return {"camera": f"CAM-{number % 5000:05d}", "note": "Trích xuất đoạn ghi hình ngã tư", "writer": writer, "n": number}


def plain_append(writer, number):
    """record_event's row without the chain: no lock, no head read; a random stand-in for prev_hash."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(DURABLE_COMMIT_SQL)
        payload = canonical_json(_data(writer, number))
        occurred_at = timezone.now()
        prev_hash = uuid.uuid4().hex * 2
        envelope = (0, format_time(occurred_at), None, "", "", [], Action.LEDGER_VIEW.value, "", "", "", "success", "", prev_hash)
        PlainEvent(
            occurred_at=occurred_at,
            actor_id=None,
            actor_username="",
            actor_agency="",
            actor_roles=[],
            action=Action.LEDGER_VIEW.value,
            target_type="",
            target_id="",
            reference="",
            outcome=Outcome.SUCCESS.value,
            client_ip="",
            payload=payload,
            prev_hash=prev_hash,
            hash=event_hash(envelope, payload),
        ).save(force_insert=True)


def chained_append(writer, number):
    with transaction.atomic():
        record_event(actor=None, action=Action.LEDGER_VIEW, data=_data(writer, number))


VARIANTS = {"plain": plain_append, "chained": chained_append}


def _writer(variant, writer, count, barrier, results):
    append = VARIANTS[variant]
    append(writer, -1)  # connect and warm up outside the timed part
    barrier.wait()
    started = time.perf_counter()
    for number in range(count):
        append(writer, number)
    results.put(time.perf_counter() - started)
    connections.close_all()


def run(variant, writers, count):
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(writers + 1)
    results = context.Queue()
    connections.close_all()  # children must open their own connections
    processes = [context.Process(target=_writer, args=(variant, w, count, barrier, results)) for w in range(writers)]
    for process in processes:
        process.start()
    barrier.wait()
    started = time.perf_counter()
    durations = [results.get() for _ in processes]
    wall = time.perf_counter() - started
    for process in processes:
        process.join()
        if process.exitcode:
            raise SystemExit(f"{variant} writer failed with exit code {process.exitcode}")
    rate = writers * count / wall
    print(
        f"  {variant:8s} {writers} writers x {count} transactions: {wall:6.2f} s, {rate:8,.0f} events/s (slowest writer {max(durations):.2f} s)"
    )
    return rate


def _prepare_plain_table():
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_plain_event")
        # Same columns, defaults and indexes (including the unique ones); no triggers, no chain.
        cursor.execute("CREATE TABLE bench_plain_event (LIKE audit_event INCLUDING DEFAULTS INCLUDING INDEXES)")
        cursor.execute("ALTER TABLE bench_plain_event ALTER COLUMN seq ADD GENERATED BY DEFAULT AS IDENTITY")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--per-writer", type=int, default=300, help="transactions per writer and variant")
    parser.add_argument("--rounds", type=int, default=2, help="alternate the variants this many times")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("ledger_append needs PostgreSQL: set DATABASE_URL=postgres://...")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('synchronous_commit'), current_setting('fsync'), current_setting('wal_sync_method')"
        )
        sync, fsync, method = cursor.fetchone()
    print(
        f"engine: postgresql ({connection.settings_dict['NAME']}), session synchronous_commit={sync}, fsync={fsync}, "
        f"wal_sync_method={method}, CPUs: {os.cpu_count()}, load {os.getloadavg()[0]:.1f}"
    )
    print(
        "durability: both variants are on disk when their transaction returns (plain: synchronous commit; chained: commit, then wait for the WAL flush)"
    )
    _prepare_plain_table()
    totals = {"plain": [], "chained": []}
    for round_number in range(1, args.rounds + 1):
        print(f"round {round_number}:")
        for variant in ("plain", "chained") if round_number % 2 else ("chained", "plain"):
            totals[variant].append(run(variant, args.writers, args.per_writer))
    plain = sum(totals["plain"]) / len(totals["plain"])
    chained = sum(totals["chained"]) / len(totals["chained"])
    print(f"mean: plain {plain:,.0f} events/s, chained {chained:,.0f} events/s, chained/plain = {chained / plain:.2f}")
    result = verify_chain()
    print(
        f"verify_chain: {'intact' if result.ok else 'BROKEN ' + str(result.problem)}, {result.events_checked} events, "
        f"head {result.head_seq} {result.head_hash[:16]}…, {result.seconds:.2f} s"
    )
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_plain_event")
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
