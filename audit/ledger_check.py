"""Walk the whole ledger in the database and prove the chain, in constant memory."""

import bisect
import hashlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from json.encoder import encode_basestring

from django.db import connections

from audit.chain import FORMAT, GENESIS_HASH, ChainWalker, Problem, _envelope_json, format_time
from audit.models import Checkpoint
from audit.verifier import verify_checkpoint

# Column order matches audit.chain.ENVELOPE_FIELDS, then payload and hash.
_COLUMNS = (
    "seq, {occurred_at}, actor_id, actor_username, actor_agency, {actor_roles}, action, "
    "target_type, target_id, reference, outcome, client_ip, prev_hash, payload, hash"
)
# The time exactly as audit.chain.format_time writes it, and the roles as
# JSON text, whatever the engine's driver would make of the columns.
_SQL_BY_VENDOR = {
    # Text output of a timestamp is far cheaper than the driver's datetime
    # loader or to_char(); _utc_text turns it into format_time's form.
    "postgresql": _COLUMNS.format(occurred_at="(occurred_at AT TIME ZONE 'UTC')::text", actor_roles="actor_roles::text"),
    # Django keeps SQLite times as naive UTC text; the cast skips the driver's datetime converter.
    "sqlite": _COLUMNS.format(occurred_at="CAST(occurred_at AS TEXT)", actor_roles="actor_roles"),
}


@dataclass
class VerificationResult:
    ok: bool
    events_checked: int
    first_seq: int | None
    head_seq: int | None
    head_hash: str
    problem: Problem | None
    seconds: float
    paused_seconds: float = 0.0  # slept to keep within max_cpu


def _utc_text(value):
    """format_time() of a naive UTC time given as text "YYYY-MM-DD HH:MM:SS[.ffffff]"."""
    size = len(value)
    if value[10:11] == " " and value[4:5] == "-":
        if size == 26:
            return f"{value[:10]}T{value[11:]}+00:00"
        # PostgreSQL drops trailing zeros of the fraction, Django omits a zero one.
        if size == 19:
            return f"{value[:10]}T{value[11:]}.000000+00:00"
        if 20 < size < 26 and value[19] == ".":
            return f"{value[:10]}T{value[11:]}{'0' * (26 - size)}+00:00"
    return format_time(value)


class _Roles(dict):
    """JSON text of actor_roles -> list; a handful of role sets repeat across millions of events."""

    def __missing__(self, text):
        roles = json.loads(text)
        if len(self) < 4096:
            self[text] = roles
        return roles


class DutyCycle:
    """Keeps a verification to a share of one CPU core: after each batch, sleeps in proportion to the time it took.

    The time of a batch counts the database's work on it too (the walk waits
    for each batch before hashing it, on one connection), so the database
    process and this one together stay within the share.
    """

    def __init__(self, share: float, *, sleep=None, clock=None):
        if not 0 < share <= 1:
            raise ValueError(f"a CPU share is more than 0 and at most 1 (one core), not {share!r}")
        self.share = share
        self.busy = 0.0
        self.paused = 0.0
        self._sleep, self._clock = sleep or time.sleep, clock or time.perf_counter
        self._resumed = self._clock()

    def pause(self):
        now = self._clock()
        busy = now - self._resumed
        self.busy += busy
        if self.share < 1 and busy > 0:
            self._sleep(busy * (1 - self.share) / self.share)
            self._resumed = self._clock()
            self.paused += self._resumed - now
        else:
            self._resumed = now


def _event_sql(connection, to_seq):
    columns = _SQL_BY_VENDOR.get(connection.vendor) or _COLUMNS.format(occurred_at="occurred_at", actor_roles="actor_roles")
    upto = "" if to_seq is None else " AND seq <= %s"
    # Only constant fragments are interpolated; values go as parameters.
    return f"SELECT {columns} FROM audit_event WHERE seq > %s{upto} ORDER BY seq LIMIT %s"  # noqa: S608


def _row_batches(connection, *, from_seq, to_seq, batch_size, throttle=None):
    """Lists of raw rows (the _COLUMNS) for events from_seq..to_seq in sequence order, one batch in memory at a time."""
    sql = _event_sql(connection, to_seq)
    after = from_seq - 1
    with connection.cursor() as cursor:
        while True:
            cursor.execute(sql, [after, batch_size] if to_seq is None else [after, to_seq, batch_size])
            rows = cursor.fetchall()
            if rows:
                yield rows
                if throttle is not None:
                    throttle.pause()
            if len(rows) < batch_size:
                return
            after = rows[-1][0]


def event_rows(
    *,
    using: str = "default",
    from_seq: int = 1,
    to_seq: int | None = None,
    batch_size: int = 10000,
    throttle: DutyCycle | None = None,
) -> Iterator[tuple[tuple, str, str]]:
    """Yield (envelope, payload, hash) for events from_seq..to_seq in sequence order, one batch in memory at a time."""
    connection = connections[using]
    when = _utc_text if connection.vendor in _SQL_BY_VENDOR else format_time
    roles = _Roles()
    batches = _row_batches(connection, from_seq=from_seq, to_seq=to_seq, batch_size=batch_size, throttle=throttle)
    try:
        for rows in batches:
            # The hot loop of every verification: tuples and a cached roles list, no per-row dict.
            for r in rows:
                envelope = (r[0], when(r[1]), r[2], r[3], r[4], roles[r[5]], r[6], r[7], r[8], r[9], r[10], r[11], r[12])
                yield envelope, r[13], r[14]
    finally:
        batches.close()


class _RolesText(dict):
    """JSON text of actor_roles from the database -> the text audit.chain.event_hash writes for it in the envelope."""

    def __missing__(self, text):
        written = _envelope_json((json.loads(text),))[1:-1]
        if len(self) < 4096:
            self[text] = written
        return written


class _ActorText(dict):
    """actor_id -> its JSON text (a number, or null)."""

    def __missing__(self, actor_id):
        if actor_id is None:
            written = "null"
        elif type(actor_id) is int:
            written = int.__repr__(actor_id)
        else:
            # Not what the envelope holds: never equal to a stored hash's text, so the event is walked by ChainWalker.
            written = "\0"
        if len(self) < 65536:
            self[actor_id] = written
        return written


def _fast_walk(walker, batches, *, start, when):
    """Prove events in bulk: the first one not proved here, or None when every batch was.

    An event passes only when it follows the previous one (next sequence
    number, links to its stored hash) and the stored hash equals SHA-256 of
    the exact text audit.chain.event_hash builds: the same string encoder,
    the same number and roles text, in ENVELOPE_FIELDS order. Anything else
    stops here and is left to ChainWalker, which names the problem.
    """
    enc, sha, roles, actors = encode_basestring, hashlib.sha256, _RolesText(), _ActorText()
    text = FORMAT + "\n[%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s]\n%s"
    want = sorted(walker.want)
    expected, last_hash, last_prev = start, walker.expected_prev, walker.last_prev
    if last_hash is None:
        return start
    try:
        for rows in batches:
            proved = 0
            for seq, at, actor, username, agency, role_text, action, ttype, tid, ref, outcome, ip, prev, payload, stored in rows:
                if seq != expected or prev != last_hash:
                    break
                try:
                    message = text % (
                        seq,
                        enc(when(at)),
                        actors[actor],
                        enc(username),
                        enc(agency),
                        roles[role_text],
                        enc(action),
                        enc(ttype),
                        enc(tid),
                        enc(ref),
                        enc(outcome),
                        enc(ip),
                        enc(prev),
                        payload,
                    )
                except TypeError:  # a value the envelope cannot hold: ChainWalker reports it
                    break
                if sha(message.encode()).hexdigest() != stored:
                    break
                expected, last_hash, last_prev = seq + 1, stored, prev
                proved += 1
            if proved:
                first = rows[0][0]
                for index in range(bisect.bisect_left(want, first), bisect.bisect_left(want, first + proved)):
                    walker.wanted[want[index]] = rows[want[index] - first][14]
                if walker.first_seq is None:
                    walker.first_seq = first
                walker.count += proved
                walker.last_seq, walker.last_hash, walker.last_prev = expected - 1, last_hash, last_prev
            if proved < len(rows):
                return expected
        return None
    finally:
        batches.close()


# PostgreSQL recomputes every hash itself, in C, exactly as
# audit.chain.event_hash does (to_json escapes strings as json.dumps with
# ensure_ascii=False does; the roles array loses jsonb's space after each
# comma, and role codes hold no commas, so an edited roles list cannot
# collapse onto the original text), and checks each link with a window over
# the batch.
# It only screens: the first suspicious event, and everything after it, is
# walked again in Python so the finding is the one the offline verifier
# would report, and a disagreement between the two encoders can never pass
# for a proof.
_PG_SCREEN_SQL = """
WITH b AS MATERIALIZED (
    SELECT seq, prev_hash, hash, encode(sha256(convert_to(
        %(prefix)s || seq::text
        || ',' || to_json(to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'))::text
        || ',' || COALESCE(actor_id::text, 'null')
        || ',' || to_json(actor_username)::text
        || ',' || to_json(actor_agency)::text
        || ',' || replace(actor_roles::text, '", "', '","')
        || ',' || to_json(action)::text
        || ',' || to_json(target_type)::text
        || ',' || to_json(target_id)::text
        || ',' || to_json(reference)::text
        || ',' || to_json(outcome)::text
        || ',' || to_json(client_ip)::text
        || ',' || to_json(prev_hash)::text || ']' || chr(10) || payload, 'UTF8')), 'hex') AS computed
    FROM audit_event WHERE seq > %(after)s ORDER BY seq LIMIT %(batch)s
),
w AS (
    SELECT seq, prev_hash, hash, computed, lag(seq) OVER (ORDER BY seq) AS lag_seq, lag(hash) OVER (ORDER BY seq) AS lag_hash
    FROM b
)
SELECT seq, prev_hash, hash, computed <> hash OR (lag_seq IS NOT NULL AND (lag_seq <> seq - 1 OR lag_hash <> prev_hash))
FROM w
WHERE lag_seq IS NULL OR computed <> hash OR lag_seq <> seq - 1 OR lag_hash <> prev_hash OR seq = (SELECT max(seq) FROM b)
ORDER BY seq
"""


def _screen_in_postgresql(connection, *, start, expected_prev, batch_size):
    """(events screened, last seq, last hash, first suspicious seq or None)."""
    from audit.chain import FORMAT

    checked, last_seq, last_hash = 0, start - 1, expected_prev
    with connection.cursor() as cursor:
        while True:
            cursor.execute(_PG_SCREEN_SQL, {"prefix": f"{FORMAT}\n[", "after": last_seq, "batch": batch_size})
            rows = cursor.fetchall()
            if not rows:
                return checked, last_seq, last_hash, None
            seq, prev_hash, _hash, _suspicious = rows[0]
            if seq != last_seq + 1 or prev_hash != last_hash:
                return checked, last_seq, last_hash, seq
            for seq, _prev, _hash, suspicious in rows:
                if suspicious:
                    return checked, last_seq, last_hash, seq
            # No gap in the batch (a gap is suspicious), so it held exactly this many events.
            rows_in_batch = rows[-1][0] - last_seq
            checked += rows_in_batch
            last_seq, last_hash = rows[-1][0], rows[-1][2]
            if rows_in_batch < batch_size:
                return checked, last_seq, last_hash, None


def _stored_hash(connection, seq):
    with connection.cursor() as cursor:
        cursor.execute("SELECT hash FROM audit_event WHERE seq = %s", [seq])
        row = cursor.fetchone()
    return row[0] if row else None


def _checkpoint_problem(checkpoints, walker):
    """The first checkpoint that the walked chain contradicts: cut-off tail, other hash, bad signature."""
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    keys = {}
    for checkpoint in checkpoints:
        if walker.last_seq is None or checkpoint.seq > walker.last_seq:
            return Problem(
                checkpoint.seq,
                "checkpoint",
                f"a checkpoint signed {checkpoint.signed_at} covers event {checkpoint.seq}, "
                f"but the ledger ends at {walker.last_seq}: events were cut off",
            )
        if checkpoint.public_key_pem not in keys:
            keys[checkpoint.public_key_pem] = load_pem_public_key(checkpoint.public_key_pem.encode())
        reason = verify_checkpoint(keys[checkpoint.public_key_pem], checkpoint.as_json(), walker.wanted.get(checkpoint.seq))
        if reason:
            return Problem(checkpoint.seq, "checkpoint", reason)
    return None


def _walk(walker, *, start, using, batch_size, to_seq=None, throttle=None):
    """Feed every event from `start` (to `to_seq`) to the walker, in Python.

    Events are proved in bulk by _fast_walk; from the first one it does not
    prove, ChainWalker takes over and names the problem exactly as the
    offline verifier would.
    """
    connection = connections[using]
    resume = start
    if connection.vendor in _SQL_BY_VENDOR and walker.problem is None and walker.last_seq is None:
        batches = _row_batches(connection, from_seq=start, to_seq=to_seq, batch_size=batch_size, throttle=throttle)
        resume = _fast_walk(walker, batches, start=start, when=_utc_text)
        if resume is None:
            return
    rows = event_rows(using=using, from_seq=resume, to_seq=to_seq, batch_size=batch_size, throttle=throttle)
    try:
        first = next(rows, None)
        if first is None:
            return
        if walker.last_seq is None and first[0][0] != start:
            walker.problem = Problem(start, "gap", f"the ledger has no event {start}; the first present is {first[0][0]}")
        elif walker.feed(*first):
            feed = walker.feed
            for envelope, payload, stored in rows:
                if not feed(envelope, payload, stored):
                    break
    finally:
        rows.close()


def _walk_split(connection, walker, *, start, using, batch_size, split_from):
    """Two cores at once: Python walks the older half while PostgreSQL screens the newer half on its own connection."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT max(seq) FROM audit_event")
        head = cursor.fetchone()[0]
    if head is None or head - start + 1 < split_from or connection.in_atomic_block:
        # Small ledgers, and callers inside a transaction (whose view another connection would not share).
        return _walk_screened(
            connection, walker, start=start, expected_prev=walker.expected_prev, using=using, batch_size=batch_size
        )
    middle = start + (head - start) // 2
    screened = {}

    def screen_newer_half():
        try:
            other = connections.create_connection(using)
            try:
                screened["result"] = _screen_in_postgresql(
                    other, start=middle + 1, expected_prev=_stored_hash(other, middle), batch_size=batch_size
                )
            finally:
                other.close()
        except Exception as exc:  # reported below, in the calling thread
            screened["error"] = exc

    thread = threading.Thread(target=screen_newer_half, name="ledger-screen")
    thread.start()
    try:
        _walk(walker, start=start, using=using, batch_size=batch_size, to_seq=middle)
    finally:
        thread.join()
    if walker.problem is not None:
        return
    if walker.last_seq != middle:
        walker.problem = Problem(
            (walker.last_seq or start - 1) + 1, "gap", f"the ledger has no event {(walker.last_seq or start - 1) + 1}"
        )
        return
    if "error" in screened:
        raise screened["error"]
    checked, last_seq, last_hash, suspicious = screened["result"]
    if suspicious is not None:
        # The older half is proved; prove the newer half again in Python from just before its first suspicious event.
        resume = max(middle + 1, suspicious - 1)
        if resume > middle + 1:
            _record_wanted(connection, walker, below=resume)
            walker.count += resume - (middle + 1)
            with connection.cursor() as cursor:
                cursor.execute("SELECT hash, prev_hash FROM audit_event WHERE seq = %s", [resume - 1])
                walker.last_hash, walker.last_prev = cursor.fetchone()
            walker.last_seq = resume - 1
        _walk(walker, start=resume, using=using, batch_size=batch_size)
        return
    walker.count += checked
    if checked:
        walker.last_seq, walker.last_hash = last_seq, last_hash
    _record_wanted(connection, walker)


def _record_wanted(connection, walker, below=None):
    """Stored hashes at the checkpoint sequence numbers (proved equal to the recomputed ones by the screen)."""
    wanted = sorted(seq for seq in walker.want if seq not in walker.wanted and (below is None or seq < below))
    if wanted:
        with connection.cursor() as cursor:
            cursor.execute("SELECT seq, hash FROM audit_event WHERE seq = ANY(%s)", [wanted])
            walker.wanted.update(cursor.fetchall())


def _walk_screened(connection, walker, *, start, expected_prev, using, batch_size):
    """PostgreSQL screens the chain; Python walks from the event before the first suspicious one to the end."""
    checked, last_seq, last_hash, suspicious = _screen_in_postgresql(
        connection, start=start, expected_prev=expected_prev, batch_size=batch_size
    )
    if suspicious is None:
        if checked:
            walker.first_seq, walker.last_seq, walker.last_hash, walker.count = start, last_seq, last_hash, checked
            # The screen proved every stored hash equal to its recomputed one.
            if walker.want:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT seq, hash FROM audit_event WHERE seq = ANY(%s)", [sorted(walker.want)])
                    walker.wanted.update(cursor.fetchall())
        return
    resume = max(start, min(suspicious, last_seq + 1) - 1)
    if resume > start:
        walker.expected_prev = _stored_hash(connection, resume - 1)
        walker.count = resume - start
        walker.first_seq = start
        if walker.want:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT seq, hash FROM audit_event WHERE seq = ANY(%s) AND seq < %s", [sorted(walker.want), resume]
                )
                walker.wanted.update(cursor.fetchall())
    _walk(walker, start=resume, using=using, batch_size=batch_size)
    walker.first_seq = start if walker.count else walker.first_seq


def _result(walker, started, throttle=None):
    return VerificationResult(
        ok=walker.problem is None,
        events_checked=walker.count,
        first_seq=walker.first_seq,
        head_seq=walker.last_seq,
        head_hash=walker.last_hash or "",
        problem=walker.problem,
        seconds=time.perf_counter() - started,
        paused_seconds=throttle.paused if throttle else 0.0,
    )


def verify_chain(
    *,
    using: str = "default",
    from_seq: int | None = None,
    batch_size: int = 10000,
    split_from: int = 100_000,
    max_cpu: float | None = None,
) -> VerificationResult:
    """Recompute every event's hash and link from from_seq (default: the genesis) to the head, and check the checkpoints.

    Without max_cpu, on PostgreSQL, a ledger of split_from events or more
    takes two cores (see _walk_split). With max_cpu (a share of one core,
    settings.LEDGER_VERIFY_MAX_CPU for background runs) one connection reads
    and this process hashes in turn, sleeping after each batch so that the
    database and this process together use at most that share of a core.
    """
    started = time.perf_counter()
    connection = connections[using]
    start = 1 if from_seq is None else max(int(from_seq), 1)
    # From the beginning the first event must link to the genesis; from the
    # middle, to the stored hash of its predecessor (itself proved by an
    # earlier full run or a signed checkpoint).
    expected_prev = GENESIS_HASH if start == 1 else _stored_hash(connection, start - 1)
    walker = ChainWalker(expected_prev=expected_prev)
    # Read before the walk: every checkpoint read here has its event committed, so the walk must reach it.
    checkpoints = list(Checkpoint.objects.using(using).filter(seq__gte=start).order_by("seq"))
    walker.want = {checkpoint.seq for checkpoint in checkpoints}
    throttle = DutyCycle(max_cpu) if max_cpu else None
    if throttle is None and connection.vendor == "postgresql":
        _walk_split(connection, walker, start=start, using=using, batch_size=batch_size, split_from=split_from)
    else:
        _walk(walker, start=start, using=using, batch_size=batch_size, throttle=throttle)
    if walker.problem is None:
        walker.problem = _checkpoint_problem(checkpoints, walker)
    return _result(walker, started, throttle)


def verify_range(first_seq: int, last_seq: int, *, using: str = "default", batch_size: int = 10000) -> VerificationResult:
    """Prove the events first_seq..last_seq: each hash, each link, and the link to the event before them.

    What a period report states about its own stretch of the ledger; the
    whole chain is verify_chain's work."""
    started = time.perf_counter()
    connection = connections[using]
    expected_prev = GENESIS_HASH if first_seq == 1 else _stored_hash(connection, first_seq - 1)
    walker = ChainWalker(expected_prev=expected_prev)
    checkpoints = list(Checkpoint.objects.using(using).filter(seq__gte=first_seq, seq__lte=last_seq).order_by("seq"))
    walker.want = {checkpoint.seq for checkpoint in checkpoints}
    _walk(walker, start=first_seq, using=using, batch_size=batch_size, to_seq=last_seq)
    if walker.problem is None and walker.last_seq != last_seq:
        walker.problem = Problem((walker.last_seq or first_seq - 1) + 1, "gap", f"the ledger ends before event {last_seq}")
    if walker.problem is None:
        walker.problem = _checkpoint_problem(checkpoints, walker)
    return _result(walker, started)
