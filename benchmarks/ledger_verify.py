"""How fast does verify_chain walk the ledger, at full speed and capped?

Appends N precomputed, correctly chained events in bulk (plain INSERTs, which
the append-only triggers allow) after whatever the ledger holds (a freshly
migrated database, or one after seed_demo), then times a full verify_chain
against the budget (200,000 events/s), the event-by-event ChainWalker walk
over the same rows (the comparison), and a background run capped by
LEDGER_VERIFY_MAX_CPU over the newest --capped-events events, with the CPU
it took (this process and, when the database runs on this machine, its
server process).

    createdb -h 127.0.0.1 -U postgres cg_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cg_bench python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cg_bench python benchmarks/ledger_verify.py --events 1000000

Without DATABASE_URL it runs on the SQLite file of the settings; point
DATABASE_URL at a scratch file (sqlite:////tmp/bench.sqlite3), never at real data.
"""

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from audit.chain import ENVELOPE_FIELDS, GENESIS_HASH, ChainWalker, canonical_json, event_hash, format_time  # noqa: E402
from audit.ledger_check import event_rows, verify_chain  # noqa: E402
from audit.models import Action  # noqa: E402
from governance.models import User  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import request_queues as city  # noqa: E402  (its index helper)

COLUMNS = (*ENVELOPE_FIELDS, "payload", "hash")
BUDGET = 200_000  # events per second, full verification on two cores
ACTIONS = [Action.LOGIN.value, Action.GOVERNANCE_UPDATE.value, Action.LEDGER_VIEW.value, "request.submit", "request.approve"]


def _actors():
    actors = []
    for number, (agency, roles) in enumerate(
        [("cap-hb", ["requester"]), ("ioc", ["approver", "releaser"]), ("thanh-tra", ["auditor"])]
    ):
        user, _ = User.objects.get_or_create(username=f"bench-{number}", defaults={"first_name": "Bench"})
        actors.append((user.pk, user.username, agency, roles))
    return actors


NOTE = "Trích xuất đoạn ghi hình ngã tư"
# COPY's text format: a backslash, tab, newline or carriage return inside a value is escaped.
COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def payload_for(number):
    """canonical_json({"camera": ..., "note": ..., "n": number}) written out (keys sorted), checked once in fill."""
    return f'{{"camera":"CAM-{number % 5000:05d}","n":{number},"note":"{NOTE}"}}'


def chained_rows(count, *, seq, prev_hash, start, actors):
    """Yield count rows (COLUMNS order, times as text in format_time's form) continuing the chain after (seq, prev_hash)."""
    roles_json = {tuple(roles): json.dumps(roles) for _pk, _name, _agency, roles in actors} | {(): "[]"}
    for number in range(count):
        seq += 1
        occurred_at = format_time(start + dt.timedelta(microseconds=7_013 * number))
        actor_id, username, agency, roles = actors[number % len(actors)] if number % 5 else (None, "", "", [])
        action = ACTIONS[number % len(ACTIONS)]
        reference = f"YC-2026-{number % 99999:06d}" if action.startswith("request") else ""
        target_type, target_id = ("requests.footagerequest", str(number % 100000)) if reference else ("", "")
        payload = payload_for(number)
        envelope = (
            seq,
            occurred_at,
            actor_id,
            username,
            agency,
            roles,
            action,
            target_type,
            target_id,
            reference,
            "success",
            "10.20.30.40",
            prev_hash,
        )
        digest = event_hash(envelope, payload)
        yield (
            seq,
            occurred_at,
            actor_id,
            username,
            agency,
            roles_json[tuple(roles)],
            action,
            target_type,
            target_id,
            reference,
            "success",
            "10.20.30.40",
            prev_hash,
            payload,
            digest,
        )
        prev_hash = digest


def copy_line(row):
    """One line of COPY's text format (NULL as \\N)."""
    return "\t".join("\\N" if value is None else str(value).translate(COPY_ESCAPES) for value in row) + "\n"


def fill(count):
    if payload_for(12345) != canonical_json({"camera": "CAM-02345", "note": NOTE, "n": 12345}):
        raise SystemExit("payload_for no longer writes canonical JSON")
    with connection.cursor() as cursor:
        cursor.execute("SELECT seq, hash FROM audit_event ORDER BY seq DESC LIMIT 1")
        head = cursor.fetchone()
    seq, prev_hash = head if head else (0, GENESIS_HASH)
    rows = chained_rows(
        count, seq=seq, prev_hash=prev_hash, start=dt.datetime.now(dt.UTC) - dt.timedelta(days=60), actors=_actors()
    )
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The secondary indexes are rebuilt once after the load rather than kept up row by row; the actors exist,
            # so the deferred per-row foreign key checks are skipped (they would also block the rebuild).
            cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
            cursor.execute("SET LOCAL session_replication_role = replica")
            with city.indexes_dropped(cursor, ["audit_event"]):
                with cursor.cursor.copy(f"COPY audit_event ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                    lines = []
                    for row in rows:
                        lines.append(copy_line(row))
                        if len(lines) == 5000:
                            copy.write("".join(lines))
                            lines = []
                    copy.write("".join(lines))
        else:
            sql = f"INSERT INTO audit_event ({', '.join(COLUMNS)}) VALUES ({', '.join(['%s'] * len(COLUMNS))})"
            batch = []
            for row in rows:
                # Django keeps SQLite times as naive UTC text.
                moment = dt.datetime.fromisoformat(row[1]).astimezone(dt.UTC).replace(tzinfo=None)
                batch.append((row[0], str(moment), *row[2:]))
                if len(batch) == 10000:
                    cursor.executemany(sql, batch)
                    batch = []
            if batch:
                cursor.executemany(sql, batch)


def _server_cpu():
    """CPU seconds of this connection's PostgreSQL server process, when it runs on this machine; else None.

    SQLite works inside this process: 0, its time is this process's."""
    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _reference_walk(count):
    """The event-by-event walk (ChainWalker.feed over event_rows) of the first count events: events/s."""
    started = time.perf_counter()
    walker = ChainWalker(expected_prev=GENESIS_HASH)
    rows = event_rows(to_seq=count)
    for envelope, payload, stored in rows:
        if not walker.feed(envelope, payload, stored):
            break
    rows.close()
    return walker.count / (time.perf_counter() - started)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--no-fill", action="store_true", help="only verify what is there")
    parser.add_argument("--batch-size", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=3, help="full verifications timed (best and range are printed)")
    parser.add_argument("--compare-events", type=int, default=200_000, help="events walked event by event")
    parser.add_argument("--capped-events", type=int, default=200_000, help="newest events verified with the cap")
    args = parser.parse_args()
    print(f"engine: {connection.vendor} ({connection.settings_dict['NAME']}); {os.cpu_count()} CPUs")
    if not args.no_fill:
        started = time.perf_counter()
        fill(args.events)
        print(f"appended {args.events} chained events in {time.perf_counter() - started:.1f} s")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE audit_event")
    rates = []
    for _ in range(args.runs):
        cpu = time.process_time()
        result = verify_chain(batch_size=args.batch_size)
        cpu = time.process_time() - cpu
        if not result.ok:
            print(f"verify_chain: BROKEN {result.problem}")
            return 1
        rates.append(result.events_checked / result.seconds if result.seconds else 0)
    best = max(rates)
    print(
        f"verify_chain: intact; {result.events_checked} events (seq {result.first_seq}..{result.head_seq}); "
        f"best {best:,.0f} events/s (range {min(rates):,.0f}-{best:,.0f} over {args.runs} runs) — budget {BUDGET:,}/s: "
        f"{'within' if best >= BUDGET else 'OVER'}"
    )
    print(f"  CPU time in this process (last run): {cpu:.2f} s ({cpu / max(result.events_checked, 1) * 1e6:.1f} µs per event)")
    compared = min(args.compare_events, result.events_checked)
    if compared:
        reference = _reference_walk(compared)
        print(f"  comparison, event by event (ChainWalker.feed), first {compared} events: {reference:,.0f} events/s")

    share = settings.LEDGER_VERIFY_MAX_CPU
    head = result.head_seq or 0
    from_seq = max(1, head - args.capped_events + 1)
    server, cpu, started = _server_cpu(), time.process_time(), time.perf_counter()
    capped = verify_chain(batch_size=args.batch_size, from_seq=from_seq, max_cpu=share)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    server = None if server is None or _server_cpu() is None else _server_cpu() - server
    used = cpu + (server or 0)
    print(
        f"capped (LEDGER_VERIFY_MAX_CPU={share}): {'intact' if capped.ok else 'BROKEN ' + str(capped.problem)}; "
        f"{capped.events_checked} events at {capped.events_checked / wall:,.0f} events/s, "
        f"{capped.paused_seconds:.1f} of {wall:.1f} s asleep; CPU {used:.2f} s = {used / wall:.2f} of a core "
        f"({'this process' if server is None or connection.vendor != 'postgresql' else 'this process and the database server'}"
        f"; cap {share})"
    )
    return 0 if capped.ok else 1


if __name__ == "__main__":
    sys.exit(main())
