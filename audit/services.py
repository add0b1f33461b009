"""Writes to the ledger. `record_event` is the only code that inserts events."""

import datetime as dt
import decimal
import functools
import json
import logging
import uuid

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db import connections, transaction
from django.db.models import Model
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.chain import FORMAT, GENESIS_HASH, canonical_json, event_hash, format_time
from audit.models import Action, AuditEvent, Outcome, VerificationRun

logger = logging.getLogger(__name__)

_ENVELOPE_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))

# Any 64-bit constant will do; it names "the ledger head" among advisory locks.
LEDGER_LOCK_KEY = 4_271_967_001


class LedgerError(RuntimeError):
    pass


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(_jsonable(v) for v in value)
    if isinstance(value, dt.datetime):
        return format_time(value)
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def client_address(http_request: HttpRequest | None) -> str:
    if http_request is None:
        return ""
    return (http_request.META.get("REMOTE_ADDR") or "")[:45]


def actor_snapshot(actor: AbstractBaseUser | AnonymousUser | None) -> tuple[int | None, str, str, list[str]]:
    """User id, user name, agency code and roles as they are at this moment."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return None, "", "", []
    agency_code = actor.agency.code if actor.agency_id else ""
    roles = sorted(actor.role_set())
    if actor.is_superuser:
        roles.append("superuser")
    return actor.pk, actor.get_username(), agency_code, roles


def describe_target(target: Model | tuple[str, object] | None) -> tuple[str, str, str]:
    """(type, id, request reference) for a model instance or a (type, id) pair."""
    if target is None:
        return "", "", ""
    if isinstance(target, tuple):
        kind, pk = target
        return str(kind), str(pk), ""
    reference = getattr(target, "reference", "") or ""
    return target._meta.label_lower, str(target.pk), str(reference)


def _lock_head(connection):
    # PostgreSQL: serialise appends with a transaction-scoped advisory lock,
    # released at commit or rollback. SQLite needs none: settings open every
    # transaction IMMEDIATE, so the writer already holds the database lock.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LEDGER_LOCK_KEY])


_HEAD_SQL = "SELECT seq, hash FROM audit_event ORDER BY seq DESC LIMIT 1"


def _lock_and_head_in_one_trip(connection):
    if connection.vendor != "postgresql" or connection.settings_dict["OPTIONS"].get("server_side_binding"):
        return False
    from django.db.backends.postgresql.psycopg_any import is_psycopg3

    return is_psycopg3


# Durability: an event is on disk when the transaction that wrote it returns,
# and no setting can weaken that silently.
#
# On PostgreSQL the appending transaction commits without waiting for its WAL
# flush (SET LOCAL synchronous_commit = off), so the ledger lock, released at
# commit, is never held through a disk flush. Then, before anything else runs
# after that commit (tasks and mail queued on commit included) and before the
# caller's `atomic` block returns, the writer waits for the flush: a tiny second
# transaction writes one WAL record and commits synchronously. WAL is flushed in
# order, so that flush covers the ledger commit record written before it, and
# writers waiting at the same time share one flush (group commit). The next
# writer may chain to an event whose commit is not on disk yet; a crash can then
# lose only the end of the chain, never a link in the middle.
#
# synchronous_commit = off set on the server, a database or a role would make
# the wait itself asynchronous, so the waiting transaction turns it back on for
# itself (any other value — local, on, remote_write, remote_apply — already
# waits for the local flush). benchmarks/ledger_append.py measures what this
# costs against plain synchronous inserts.
ASYNC_APPEND_SQL = "SET LOCAL synchronous_commit = off"
DURABLE_COMMIT_SQL = "SELECT set_config('synchronous_commit', 'on', true) WHERE current_setting('synchronous_commit') = 'off'"
# A transactional message takes a transaction id and writes a WAL record: the two things that make a commit
# wait for its flush. It has no other effect (logical decoding sees an empty message with this prefix).
_FLUSH_RECORD_SQL = "SELECT pg_logical_emit_message(true, 'audit.durable', '')"


def _wait_for_wal_flush(alias):
    """Return once every WAL record written so far, this connection's ledger commit included, is on disk."""
    connection = connections[alias]
    if not connection.in_atomic_block and _lock_and_head_in_one_trip(connection):
        # One round trip: statements sent together in one query outside a transaction block run as one implicit
        # transaction, so the local setting holds for its commit, which waits for the flush.
        with connection.cursor() as cursor:
            cursor.execute(f"{DURABLE_COMMIT_SQL}; {_FLUSH_RECORD_SQL}")
        return
    with transaction.atomic(using=alias), connection.cursor() as cursor:
        cursor.execute(DURABLE_COMMIT_SQL)
        cursor.execute(_FLUSH_RECORD_SQL)


def _await_durability(connection):
    """Make the caller's commit durable before its on-commit work (tasks, mail) runs and before its block returns."""
    if connection.vendor != "postgresql":
        return  # SQLite: every commit is synchronous (PRAGMA synchronous=FULL in settings)
    if any(getattr(entry[1], "func", None) is _wait_for_wal_flush for entry in connection.run_on_commit):
        return
    # First in line, so that tasks registered earlier in the transaction also wait. Registered outside any
    # savepoint (an empty set of savepoint ids): a rolled-back savepoint must not take the wait away from events
    # appended around it. Same shape as Django's own on_commit entries.
    connection.run_on_commit.insert(0, (set(), functools.partial(_wait_for_wal_flush, connection.alias), False))


def _lock_and_read_head(connection):
    """Take the ledger lock and read the head (seq, hash) or None.

    The lock is held until commit, so every round trip made while holding it
    limits how many events per second the whole application can append. On
    PostgreSQL the lock and the head read go in one round trip with psycopg 3's
    client-side binding (Django's default); each statement of a multi-statement
    query takes its own snapshot under READ COMMITTED, so the head is read after
    the lock is granted and sees the previous holder's committed event.
    """
    with connection.cursor() as cursor:
        if _lock_and_head_in_one_trip(connection):
            cursor.execute(f"{ASYNC_APPEND_SQL}; SELECT pg_advisory_xact_lock(%s); {_HEAD_SQL}", [LEDGER_LOCK_KEY])
            cursor.nextset()
            cursor.nextset()
        else:
            if connection.vendor == "postgresql":
                cursor.execute(ASYNC_APPEND_SQL)
            _lock_head(connection)
            cursor.execute(_HEAD_SQL)
        return cursor.fetchone()


# One statement that reads the head, computes the SHA-256 exactly as
# audit.chain.event_hash does, and inserts: with the lock in the same round
# trip, the ledger lock is held for one round trip plus the commit (not its flush). The event
# time is read just before that round trip, so under contention neighbouring
# events may differ in order by the few milliseconds spent waiting for the lock.
_APPEND_SQL = ";\n".join(
    [
        ASYNC_APPEND_SQL,
        "SELECT pg_advisory_xact_lock(%(lock)s)",
        """
WITH head AS (SELECT seq, hash FROM audit_event ORDER BY seq DESC LIMIT 1),
nxt AS (
    SELECT COALESCE((SELECT seq FROM head), 0) + 1 AS seq,
           COALESCE((SELECT hash FROM head), %(genesis)s) AS prev,
           %(now)s::timestamptz AS at
),
env AS (SELECT seq, prev, at, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"') AS at_text FROM nxt)
INSERT INTO audit_event (
    seq, occurred_at, actor_id, actor_username, actor_agency, actor_roles, action, target_type, target_id,
    reference, outcome, client_ip, payload, prev_hash, hash
)
SELECT seq, at, %(actor_id)s, %(username)s, %(agency)s, %(roles)s::jsonb, %(action)s, %(target_type)s, %(target_id)s,
       %(reference)s, %(outcome)s, %(client_ip)s, %(payload)s, prev,
       encode(sha256(convert_to(
           %(prefix)s || seq::text || ',"' || at_text || '",' || %(middle)s || ',"' || prev || '"]' || chr(10) || %(payload)s,
           'UTF8')), 'hex')
FROM env
RETURNING seq, occurred_at, prev_hash, hash
""",
    ]
)


def _append_in_one_trip(connection, event, middle):
    """PostgreSQL: lock, head, time, hash and insert in one round trip; fills seq, time and hashes on `event`."""
    with connection.cursor() as cursor:
        cursor.execute(
            _APPEND_SQL,
            {
                "lock": LEDGER_LOCK_KEY,
                "genesis": GENESIS_HASH,
                "now": timezone.now(),
                "actor_id": event.actor_id,
                "username": event.actor_username,
                "agency": event.actor_agency,
                "roles": canonical_json(event.actor_roles),
                "action": event.action,
                "target_type": event.target_type,
                "target_id": event.target_id,
                "reference": event.reference,
                "outcome": event.outcome,
                "client_ip": event.client_ip,
                "payload": event.payload,
                "prefix": f"{FORMAT}\n[",
                "middle": middle,
            },
        )
        cursor.nextset()
        cursor.nextset()
        event.seq, event.occurred_at, event.prev_hash, event.hash = cursor.fetchone()
    event._state.adding = False
    event._state.db = connection.alias


def record_event(
    *,
    actor: AbstractBaseUser | AnonymousUser | None,
    action: Action | str,
    target: Model | tuple[str, object] | None = None,
    data: dict | None = None,
    http_request: HttpRequest | None = None,
    outcome: Outcome | str = Outcome.SUCCESS,
    reference: str = "",
) -> AuditEvent:
    """Append one event, chained to the previous one, inside the caller's transaction."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise LedgerError(_("The ledger is written only inside a database transaction."))
    action = Action(action)
    outcome = Outcome(outcome)
    actor_id, username, agency_code, roles = actor_snapshot(actor)
    target_type, target_id, target_reference = describe_target(target)
    event = AuditEvent(
        actor_id=actor_id,
        actor_username=username,
        actor_agency=agency_code,
        actor_roles=roles,
        action=action.value,
        target_type=target_type,
        target_id=target_id,
        reference=reference or target_reference,
        outcome=outcome.value,
        client_ip=client_address(http_request),
        payload=canonical_json(_jsonable(data or {})),
    )
    # Everything that does not depend on the head is prepared above; from
    # here to commit the ledger lock is held.
    if _lock_and_head_in_one_trip(connection):
        # The envelope between the time and the previous hash, as event_hash encodes it.
        middle = _ENVELOPE_ENCODER.encode(
            [
                event.actor_id,
                event.actor_username,
                event.actor_agency,
                event.actor_roles,
                event.action,
                event.target_type,
                event.target_id,
                event.reference,
                event.outcome,
                event.client_ip,
            ]
        )[1:-1]
        _append_in_one_trip(connection, event, middle)
    else:
        head = _lock_and_read_head(connection)
        event.seq, event.prev_hash = (head[0] + 1, head[1]) if head else (1, GENESIS_HASH)
        event.occurred_at = timezone.now()
        event.hash = event_hash(event.envelope(), event.payload)
        event.save(force_insert=True)
    _await_durability(connection)
    return event


@transaction.atomic(durable=True)
def verification_run_request(*, actor: AbstractBaseUser) -> VerificationRun:
    """Queue a full chain verification ("verify now"); the task runs only once this has committed."""
    from audit.tasks import verify_ledger_task

    run = VerificationRun.objects.create(requested_by=actor)
    # robust: with the broker down the run stays waiting and is dispatched again later (resume_waiting_work),
    # and the auditor is not shown an error for a request that was recorded.
    transaction.on_commit(lambda: verify_ledger_task.delay(run.pk), robust=True)
    return run


def resume_waiting_work(*, now: dt.datetime | None = None) -> int:
    """Dispatch again the "verify now" runs still waiting after AUDIT_WAIT_MINUTES; returns how many."""
    from audit.tasks import verify_ledger_task

    cutoff = (now or timezone.now()) - dt.timedelta(minutes=settings.AUDIT_WAIT_MINUTES)
    runs = list(
        VerificationRun.objects.filter(status=VerificationRun.Status.PENDING, requested_at__lt=cutoff).values_list(
            "pk", flat=True
        )
    )
    for pk in runs:
        logger.warning("Verification run %s was still waiting for a worker: dispatched again", pk)
        verify_ledger_task.delay(pk)
    return len(runs)
