"""Time the ledger list's page query at ten million events, on PostgreSQL.

    createdb -h 127.0.0.1 -U postgres cg_h4bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cg_h4bench python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cg_h4bench python benchmarks/ledger_browse.py

Use a scratch database: the filler writes rows that do not form a valid hash
chain (this measures reads only) and, while it loads, drops the table's
secondary indexes and recreates them under their own names afterwards.
It then times `audit.selectors.ledger_page` for the first page, deep
cursors and every filter of the page, and prints p50 / p95 in milliseconds.
EXPLAIN ANALYZE follows for any case whose p95 is above 50 ms.
"""

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from audit.models import AuditEvent  # noqa: E402
from governance.models import Agency, User  # noqa: E402
from oversight.selectors import filter_events, ledger_page  # noqa: E402

AGENCIES = 200
USERS = 2000
FIRST_TIME = "2023-01-01 00:00:00+07"
SPACING_SECONDS = 6  # ten million events span about 23 months
CHUNK = 1_000_000
SLOW_MS = 50.0

# Roughly what a monitoring centre's ledger holds: mostly views, changes and sign-ins, a few rare actions.
ACTION_SQL = """
CASE
  WHEN g.i % 100000 = 0 THEN 'permission.revoke'
  WHEN p.r < 300 THEN 'audit.view'
  WHEN p.r < 550 THEN 'governance.update'
  WHEN p.r < 700 THEN 'auth.login'
  WHEN p.r < 820 THEN 'auth.logout'
  WHEN p.r < 870 THEN 'auth.login_failed'
  WHEN p.r < 920 THEN 'governance.create'
  WHEN p.r < 950 THEN 'permission.grant'
  WHEN p.r < 970 THEN 'governance.delete'
  WHEN p.r < 985 THEN 'audit.export'
  WHEN p.r < 995 THEN 'governance.camera_import'
  WHEN p.r < 999 THEN 'audit.verify'
  ELSE 'governance.regulation_publish'
END
"""

INSERT_SQL = f"""
INSERT INTO audit_event (seq, occurred_at, actor_id, actor_username, actor_agency, actor_roles, action,
                         target_type, target_id, reference, outcome, client_ip, payload, prev_hash, hash)
SELECT g.i,
       %(first_time)s::timestamptz + g.i * make_interval(secs => %(spacing)s),
       CASE WHEN x.action = 'auth.login_failed' THEN NULL ELSE u.id END,
       CASE WHEN x.action = 'auth.login_failed' THEN '' ELSE u.username END,
       CASE WHEN x.action = 'auth.login_failed' THEN '' ELSE u.agency_code END,
       CASE WHEN x.action = 'auth.login_failed' THEN '[]'::jsonb ELSE u.roles END,
       x.action,
       t.target_type,
       t.target_id,
       CASE WHEN t.target_type = 'requests.footagerequest' THEN 'YC-' || lpad(t.target_id, 7, '0') ELSE '' END,
       CASE WHEN x.action = 'auth.login_failed' THEN 'denied' WHEN p.r2 = 0 THEN 'failure' ELSE 'success' END,
       '10.' || (g.i %% 256) || '.' || (g.i / 256 %% 256) || '.' || (g.i / 65536 %% 256),
       '{{"n":' || g.i || '}}',
       md5((g.i - 1)::text) || md5('h' || (g.i - 1)::text),
       md5(g.i::text) || md5('h' || g.i::text)
FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) AS g(i)
CROSS JOIN LATERAL (
    SELECT abs(hashtext(g.i::text)) %% 1000 AS r,
           abs(hashtext('o' || g.i::text)) %% 1000 AS r2,
           -- One heavy account (a service user) does a tenth of everything.
           CASE WHEN g.i %% 10 = 0 THEN 0 ELSE abs(hashtext('a' || g.i::text)) %% {USERS} END AS k,
           abs(hashtext('t' || g.i::text)) %% 400000 AS tk
) AS p
CROSS JOIN LATERAL (SELECT {ACTION_SQL.replace("%", "%%")} AS action) AS x
CROSS JOIN LATERAL (
    SELECT (ARRAY['governance.camera', 'requests.footagerequest', 'governance.user', 'governance.agency'])[1 + p.tk %% 4]
               AS target_type,
           (p.tk / 4)::text AS target_id
) AS t
JOIN bench_actor AS u ON u.k = p.k
"""


def log(message):
    print(message, flush=True)


def ensure_people():
    agencies = [
        Agency(code=f"bench-ag-{n:03d}", name_vi=f"Đơn vị thử {n}", kind=Agency.Kind.WARD_POLICE) for n in range(AGENCIES)
    ]
    Agency.objects.bulk_create(agencies, ignore_conflicts=True)
    by_code = dict(Agency.objects.filter(code__startswith="bench-ag-").values_list("code", "pk"))
    users = [
        User(username=f"bench-u-{n:04d}", password="!", agency_id=by_code[f"bench-ag-{n % AGENCIES:03d}"]) for n in range(USERS)
    ]
    User.objects.bulk_create(users, ignore_conflicts=True)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_actor")
        cursor.execute(
            """
            CREATE TEMP TABLE bench_actor AS
            SELECT (substr(u.username, 9))::int AS k, u.id, u.username, a.code AS agency_code,
                   CASE WHEN (substr(u.username, 9))::int % 50 = 0 THEN '["approver"]'::jsonb
                        ELSE '["requester"]'::jsonb END AS roles
            FROM governance_user u JOIN governance_agency a ON a.id = u.agency_id
            WHERE u.username LIKE 'bench-u-%'
            """
        )
        cursor.execute("CREATE UNIQUE INDEX ON bench_actor (k)")
        cursor.execute("ANALYZE bench_actor")


def secondary_indexes(cursor):
    """(name, CREATE statement, constraint name or None) for every index but the primary key."""
    cursor.execute(
        """
        SELECT i.indexname, i.indexdef, c.conname, pg_get_constraintdef(c.oid)
        FROM pg_indexes i
        LEFT JOIN pg_constraint c ON c.conname = i.indexname AND c.conrelid = 'audit_event'::regclass
        WHERE i.tablename = 'audit_event' AND i.indexname <> 'audit_event_pkey'
        """
    )
    return cursor.fetchall()


def fill(target):
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(seq), 0) FROM audit_event")
        have = cursor.fetchone()[0]
    if have >= target:
        log(f"ledger already holds {have:,} events")
        return
    ensure_people()
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
        cursor.execute("SET maintenance_work_mem = '1GB'")
        # Rows are valid by construction; skip the per-row foreign key trigger while loading.
        cursor.execute("SET session_replication_role = replica")
        indexes = secondary_indexes(cursor)
        for name, _definition, constraint, _condef in indexes:
            if constraint:
                cursor.execute(f'ALTER TABLE audit_event DROP CONSTRAINT "{constraint}"')
            else:
                cursor.execute(f'DROP INDEX "{name}"')
        try:
            lo = have + 1
            while lo <= target:
                hi = min(lo + CHUNK - 1, target)
                chunk_started = time.perf_counter()
                cursor.execute(INSERT_SQL, {"first_time": FIRST_TIME, "spacing": SPACING_SECONDS, "lo": lo, "hi": hi})
                log(f"  inserted {lo:,}..{hi:,} in {time.perf_counter() - chunk_started:.1f} s")
                lo = hi + 1
        finally:
            for name, definition, constraint, condef in indexes:
                index_started = time.perf_counter()
                if constraint:
                    cursor.execute(f'ALTER TABLE audit_event ADD CONSTRAINT "{constraint}" {condef}')
                else:
                    cursor.execute(definition)
                log(f"  rebuilt {name} in {time.perf_counter() - index_started:.1f} s")
            cursor.execute("SET session_replication_role = origin")
    log(f"filled to {target:,} events in {time.perf_counter() - started:.0f} s")


def analyze():
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) audit_event")
    log(f"VACUUM ANALYZE in {time.perf_counter() - started:.0f} s")


def cases(target):
    rng = random.Random(7)
    head = target
    light_users = [f"bench-u-{n:04d}" for n in range(1, USERS)]
    agencies = [f"bench-ag-{n:03d}" for n in range(1, AGENCIES)]
    first_day = dt.date(2023, 1, 2)
    span_days = target * SPACING_SECONDS // 86400 - 2

    def some_day():
        return first_day + dt.timedelta(days=rng.randrange(span_days))

    def some_week():
        start = some_day()
        return {"date_from": start, "date_to": start + dt.timedelta(days=6)}

    def target_filter():
        tk = rng.randrange(400000)
        kind = ["governance.camera", "requests.footagerequest", "governance.user", "governance.agency"][tk % 4]
        return {"target_type": kind, "target_id": str(tk // 4)}

    return [
        ("first page", lambda: ({}, None, None)),
        ("deep page (after cursor)", lambda: ({}, rng.randrange(head // 10, head), None)),
        ("deep page (before cursor)", lambda: ({}, None, rng.randrange(head // 10, head - 1000))),
        ("actor (typical user)", lambda: ({"actor": rng.choice(light_users)}, None, None)),
        ("actor, deep cursor", lambda: ({"actor": rng.choice(light_users)}, rng.randrange(head // 10, head), None)),
        ("actor (heavy account)", lambda: ({"actor": "bench-u-0000"}, None, None)),
        ("agency", lambda: ({"agency": rng.choice(agencies)}, None, None)),
        ("action (common)", lambda: ({"action": "governance.update"}, None, None)),
        ("action (rare, 100 events)", lambda: ({"action": "permission.revoke"}, None, None)),
        ("action (rare), deep cursor", lambda: ({"action": "permission.revoke"}, rng.randrange(head // 10, head), None)),
        ("target type + id", lambda: (target_filter(), None, None)),
        ("target type only", lambda: ({"target_type": "governance.user"}, None, None)),
        ("request reference", lambda: ({"reference": f"YC-{rng.randrange(100000):07d}"}, None, None)),
        ("outcome denied (5%)", lambda: ({"outcome": "denied"}, None, None)),
        ("outcome failure (0.1%)", lambda: ({"outcome": "failure"}, None, None)),
        ("date: one day", lambda: ({"date_from": (d := some_day()), "date_to": d}, None, None)),
        ("date: one week", lambda: (some_week(), None, None)),
        ("date: from a day on", lambda: ({"date_from": some_day()}, None, None)),
        (
            "date: one day + actor",
            lambda: ({"date_from": (d := some_day()), "date_to": d, "actor": rng.choice(light_users)}, None, None),
        ),
        (
            "agency + rare action",
            lambda: ({"agency": rng.choice(agencies), "action": "governance.regulation_publish"}, None, None),
        ),
        ("agency + outcome failure", lambda: ({"agency": rng.choice(agencies), "outcome": "failure"}, None, None)),
    ]


def explain(filters, after, before, size):
    events = filter_events(AuditEvent.objects.all(), filters)
    if before is not None:
        events = events.filter(seq__gt=before).order_by("seq")
    else:
        events = (events.filter(seq__lt=after) if after is not None else events).order_by("-seq")
    return events[: size + 1].explain(analyze=True, buffers=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--size", type=int, default=50)
    parser.add_argument("--only", default="", help="time only the cases whose name contains this text")
    options = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a scratch PostgreSQL database.")

    fill(options.events)
    analyze()
    reader = User(username="bench-reader", is_superuser=True, is_active=True)  # never saved: reads need no row

    results = []
    for name, make in cases(options.events):
        if options.only not in name:
            continue
        timings, rows, slowest = [], 0, None
        for _ in range(options.runs):
            filters, after, before = make()
            started = time.perf_counter()
            page = ledger_page(user=reader, filters=filters, after=after, before=before, size=options.size)
            elapsed = (time.perf_counter() - started) * 1000
            timings.append(elapsed)
            rows += len(page.rows)
            if slowest is None or elapsed > slowest[0]:
                slowest = (elapsed, filters, after, before)
        timings.sort()
        p50 = statistics.median(timings)
        p95 = timings[min(len(timings) - 1, round(0.95 * len(timings)) - 1)]
        results.append((name, p50, p95, timings[-1], rows / options.runs, slowest))

    log("")
    log(f"ledger_page at {options.events:,} events, page size {options.size}, {options.runs} runs each (ms)")
    log(f"{'case':<32} {'p50':>8} {'p95':>8} {'max':>8} {'rows':>6}")
    for name, p50, p95, worst, rows, _slowest in results:
        log(f"{name:<32} {p50:>8.2f} {p95:>8.2f} {worst:>8.2f} {rows:>6.0f}")

    for name, _p50, p95, _worst, _rows, (elapsed, filters, after, before) in results:
        if p95 > SLOW_MS:
            log(f"\nEXPLAIN for the slowest run of '{name}' ({elapsed:.1f} ms): filters={filters} after={after} before={before}")
            log(explain(filters, after, before, options.size))


if __name__ == "__main__":
    main()
