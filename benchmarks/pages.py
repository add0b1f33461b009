"""What a person waits for on each page at a city's scale: the page through the middleware, its view and its template.

    createdb -h 127.0.0.1 -U postgres cg_pages
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cg_pages python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cg_pages python benchmarks/pages.py [--requests 1000000] [--runs 30]

Use a scratch database (a freshly migrated one, or one after `seed_demo`). The first run fills it as
`request_queues.py` does (a city with a million requests, their items, permission rows and history) and adds
the ledger those requests would have written (an event for every status change of the newest requests, as
many as `--events`; the rows are not a valid hash chain: this measures reads). Later runs find it filled.

Then, as the application runs in production (DEBUG off), for each person it signs in once and fetches each
of their pages: the home page, the review queue and its next page, the request list (the agency's own for a
requester; the overseen requests for an auditor and an administrator, first page, later page, and filtered by
an agency that files nothing, the case that read the whole table), a request's page, the ledger and the
reports. It prints p50 / p95 of the server time (the response built, as gunicorn would send it), the database
time and the number of queries, beside the budget (server time p95 <= 20 ms for a page of 50 rows) and, for
the lists, the selector alone measured in the same run. The pages are sampled round by round, one of each per
round, and a machine check before and after says how fast the machine ran meanwhile. With --explain it prints
the plan of the slowest query of every page over budget.
"""

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# As served: DEBUG off (no query log, no debug context).
os.environ.setdefault("DJANGO_DEBUG", "false")

import request_queues as city  # noqa: E402  (sets Django up)
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402

from governance.models import Agency, User  # noqa: E402
from requests import selectors  # noqa: E402
from requests.models import OPEN_STATUSES, FootageRequest  # noqa: E402

BUDGET_MS = 20.0

# One ledger event for each status change of the newest requests, by the filing officer (filing, withdrawing) or
# by the centre (the rest); seq continues the table's. Hashes are unique but do not chain.
EVENTS_SQL = """
INSERT INTO audit_event (seq, occurred_at, actor_id, actor_username, actor_agency, actor_roles, action,
                         target_type, target_id, reference, outcome, client_ip, payload, prev_hash, hash)
SELECT %(base)s + row_number() OVER (ORDER BY c.at, c.id), c.at, u.id, u.username, a.code,
       CASE WHEN c.to_status IN ('draft', 'submitted', 'withdrawn') THEN '["requester"]' ELSE '["approver"]' END::jsonb,
       CASE c.to_status WHEN 'draft' THEN 'request.create' WHEN 'submitted' THEN 'request.submit'
            WHEN 'in_review' THEN 'request.review' WHEN 'needs_info' THEN 'request.ask_info'
            WHEN 'approved' THEN 'request.approve' WHEN 'rejected' THEN 'request.reject'
            WHEN 'withdrawn' THEN 'request.withdraw' WHEN 'expired' THEN 'request.expire'
            WHEN 'exporting' THEN 'request.export_start' WHEN 'export_failed' THEN 'request.export_fail'
            WHEN 'released' THEN 'release.create' ELSE 'request.close' END,
       'requests.footagerequest', f.id::text, f.reference, 'success', '10.0.0.1', '{}',
       md5('p' || c.id) || md5('q' || c.id), md5('h' || c.id) || md5('i' || c.id)
FROM requests_statuschange c
JOIN requests_footagerequest f ON f.id = c.footage_request_id
JOIN governance_user u ON u.id = f.requester_id
JOIN governance_agency a ON a.id = f.agency_id
WHERE c.id > %(first)s AND c.at IS NOT NULL
"""


def log(message=""):
    print(message, flush=True)


def fill_ledger(events):
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM audit_event WHERE target_type = 'requests.footagerequest'")
        if cursor.fetchone()[0] >= events // 2:
            log("the ledger is already filled")
            return
        started = time.perf_counter()
        cursor.execute("SELECT coalesce(max(seq), 0) FROM audit_event")
        base = cursor.fetchone()[0]
        cursor.execute("SELECT coalesce(max(id), 0) - %s FROM requests_statuschange", [events])
        first = cursor.fetchone()[0]
    # One transaction, the ledger's secondary indexes dropped while loading and rebuilt after (as the city's fill).
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        cursor.execute("SET LOCAL work_mem = '256MB'")
        with city.indexes_dropped(cursor, ["audit_event"]):
            cursor.execute(EVENTS_SQL, {"base": base, "first": first})
            log(f"  ledger: {cursor.rowcount:,} events in {time.perf_counter() - started:.1f} s")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) audit_event")


class Page:
    """A signed-in browser fetching one address; returns what the server took and what it asked the database."""

    def __init__(self, user, url):
        self.client = Client()
        self.client.force_login(user)
        self.url = url

    def __call__(self):
        timer = city.QueryTimer()
        with connection.execute_wrapper(timer):
            started = time.perf_counter()
            response = self.client.get(self.url)
            wall = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"{self.url} answered {response.status_code}")
        return wall, timer


class Selector:
    def __init__(self, user, call):
        self.user, self.call = user, call

    def __call__(self):
        timer = city.QueryTimer()
        user = User.objects.get(pk=self.user.pk)
        with connection.execute_wrapper(timer):
            started = time.perf_counter()
            self.call(user)
            wall = (time.perf_counter() - started) * 1000
        return wall, timer


def cases_for(people, overseers):
    rng = random.Random(11)
    cases = []
    approver = people["approver, busiest centre"]
    queue = selectors.review_queue(approver, size=51)
    cases += [
        ("home", "approver, busiest centre", Page(approver, reverse("home"))),
        ("review queue", "approver, busiest centre", Page(approver, reverse("requests:queue"))),
        ("  selector", "", Selector(approver, lambda u: selectors.review_queue(u, size=51))),
        (
            "review queue, next page",
            "approver, busiest centre",
            Page(approver, f"{reverse('requests:queue')}?after={queue[-1].pk}"),
        ),
        ("request page", "approver, busiest centre", Page(approver, reverse("requests:detail", args=[queue[0].reference]))),
    ]
    quiet = people["approver, quietest centre"]
    cases += [
        ("review queue", "approver, quietest centre", Page(quiet, reverse("requests:queue"))),
        ("  selector", "", Selector(quiet, lambda u: selectors.review_queue(u, size=51))),
    ]
    custodian = people["custodian, busiest centre"]
    cases.append(("home", "custodian, busiest centre", Page(custodian, reverse("home"))))
    for label in ("requester, busiest agency", "requester, quiet agency"):
        requester = people[label]
        own = selectors.agency_requests(requester, size=500)
        cases += [
            ("home", label, Page(requester, reverse("home"))),
            ("my agency's requests", label, Page(requester, reverse("requests:list"))),
            ("  selector", "", Selector(requester, lambda u: selectors.agency_requests(u, size=51))),
            ("  later page", label, Page(requester, f"{reverse('requests:list')}?before={rng.choice(own[60:] or own).pk}")),
            ("request page", label, Page(requester, reverse("requests:detail", args=[rng.choice(own).reference]))),
        ]
    for label, (user, ranked, counts) in overseers.items():
        listed = selectors.listed_requests(user, size=500)
        silent = next((agency for agency in ranked if not counts.get(agency.code)), None) or user.agency
        cases += [
            ("home", label, Page(user, reverse("home"))),
            ("requests overseen", label, Page(user, reverse("requests:list"))),
            ("  selector", "", Selector(user, lambda u: selectors.listed_requests(u, size=51))),
            ("  later page", label, Page(user, f"{reverse('requests:list')}?before={rng.choice(listed[60:] or listed).pk}")),
            (f"  agency {silent.code} (files none)", label, Page(user, f"{reverse('requests:list')}?agency={silent.pk}")),
            ("request page", label, Page(user, reverse("requests:detail", args=[rng.choice(listed).reference]))),
            ("ledger", label, Page(user, reverse("oversight:ledger"))),
        ]
        if label.startswith("auditor"):
            cases.append(("reports", label, Page(user, reverse("oversight:reports"))))
    return cases


class Statements:
    """An execute wrapper keeping every SELECT that reads the requests table, with its parameters."""

    def __init__(self):
        self.seen = []

    def __call__(self, execute, sql, params, many, context):
        if sql.lstrip().upper().startswith("SELECT") and "requests_footagerequest" in sql:
            self.seen.append((sql, params))
        return execute(sql, params, many, context)


def _walk(node):
    yield node
    for child in node.get("Plans", ()):
        yield from _walk(child)


def plan_figures(sql, params):
    """(rows the plan read from the requests table, rows its filters removed, whether it scanned the table whole)."""
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    plan = plan[0]["Plan"] if isinstance(plan, list) else plan["Plan"]
    read = removed = 0
    whole = False
    for node in _walk(plan):
        if node.get("Relation Name") != "requests_footagerequest":
            continue
        loops = node.get("Actual Loops", 1)
        read += node.get("Actual Rows", 0) * loops
        removed += (node.get("Rows Removed by Filter", 0) + node.get("Rows Removed by Index Recheck", 0)) * loops
        whole = whole or node["Node Type"] == "Seq Scan"
    return read, removed, whole


def index_check(people, overseers):
    """What each list's queries read of the requests table at this scale: an index range, or the table."""
    cases = []
    for label, (user, _ranked, _counts) in overseers.items():
        cases.append((f"requests overseen [{label}]", user, lambda u: selectors.listed_requests(u, size=51)))
        if user.agency_id:
            cases.append(
                (
                    f"filtered by its own agency [{label}]",
                    user,
                    lambda u: selectors.listed_requests(u, agency=u.agency, size=51),
                )
            )
            cases.append((f"its agency's own list [{label}]", user, lambda u: selectors.agency_requests(u, size=51)))
    for label in ("requester, busiest agency", "requester, quiet agency"):
        cases.append((f"my agency's requests [{label}]", people[label], lambda u: selectors.agency_requests(u, size=51)))
    for label in ("approver, busiest centre", "approver, quietest centre"):
        cases.append((f"review queue [{label}]", people[label], lambda u: selectors.review_queue(u, size=51)))
    log("")
    log("what each list reads of the requests table (EXPLAIN ANALYZE of its queries; 51 rows asked for)")
    log(f"{'list':<64} {'rows read':>10} {'removed by filter':>18} {'whole table':>12}")
    for name, user, call in cases:
        statements = Statements()
        with connection.execute_wrapper(statements):
            call(User.objects.get(pk=user.pk))
        read = removed = 0
        whole = False
        for sql, params in statements.seen:
            r, f, w = plan_figures(sql, params)
            read, removed, whole = read + r, removed + f, whole or w
        log(f"{name:<64} {read:>10,} {removed:>18,} {'yes' if whole else 'no':>12}")


def measure(cases, runs):
    """Every case warmed once, then sampled round by round, one sample of each case per round: a machine slowed for a
    while (another guest on the host, a checkpoint) slows every page alike, not the few measured at that moment."""
    samples = {}
    failed = {}
    for index, (name, who, call) in enumerate(cases):
        try:
            call()  # warm: templates compiled, caches filled, as in a running worker
            samples[index] = []
        except Exception as error:  # noqa: BLE001 - a failing page is reported, the others still run
            log(f"  {name} [{who}]: {type(error).__name__}: {error}")
            failed[index] = True
    for _round in range(runs):
        for index in list(samples):
            name, who, call = cases[index]
            try:
                samples[index].append(call())
            except Exception as error:  # noqa: BLE001
                log(f"  {name} [{who}]: {type(error).__name__}: {error}")
                del samples[index]
                failed[index] = True
    results = []
    for index, (name, who, call) in enumerate(cases):
        if index in failed:
            results.append({"name": name, "who": who, "error": True})
            continue
        walls = [wall for wall, _timer in samples[index]]
        dbs = [timer.ms for _wall, timer in samples[index]]
        slowest = max((timer.slowest for _wall, timer in samples[index]), key=lambda s: s[0])
        results.append(
            {
                "name": name,
                "who": who,
                "wall50": statistics.median(walls),
                "wall95": city.percentile(walls, 0.95),
                "db50": statistics.median(dbs),
                "queries": sorted({timer.count for _wall, timer in samples[index]}),
                "slowest": slowest,
                "page": isinstance(call, Page),
            }
        )
    return results


def machine_check():
    """How fast this machine runs right now, to read the figures by: a fixed piece of Python (a template rendered,
    a list sorted) and a copy of 64 MB, best of five. The same machine was seen at twice these times while another
    guest loaded its host; figures from two runs compare only where these agree."""
    from django.template import Context, Template

    template = Template("{% for row in rows %}<tr><td>{{ row.0 }}</td><td>{{ row.1|upper }}</td></tr>{% endfor %}")
    rows = [(number, f"hàng {number}") for number in range(200)]
    block = bytearray(64 * 1024 * 1024)

    def best(work):
        times = []
        for _ in range(5):
            started = time.perf_counter()
            work()
            times.append((time.perf_counter() - started) * 1000)
        return min(times)

    python = best(lambda: (template.render(Context({"rows": rows})), sorted(str(n) for n in range(100_000))))
    copy = best(lambda: bytes(block))
    return f"machine check: Python {python:.1f} ms, 64 MB copied in {copy:.1f} ms ({64 / copy * 1000 / 1024:.1f} GB/s)"


def print_table(results, runs):
    log("")
    log(f"server time per page, {runs} runs each, milliseconds (budget: p95 <= {BUDGET_MS:g} ms for a page)")
    log(f"{'page':<36} {'as':<28} {'p50':>7} {'p95':>7} {'db p50':>7} {'queries':>8}")
    over = 0
    for r in results:
        if r.get("error"):
            log(f"{r['name']:<36} {r['who']:<28} {'failed':>7}")
            over += 1
            continue
        flag = ""
        if r["page"] and r["wall95"] > BUDGET_MS:
            flag, over = "  over budget", over + 1
        queries = "/".join(str(count) for count in r["queries"])
        log(f"{r['name']:<36} {r['who']:<28} {r['wall50']:>7.2f} {r['wall95']:>7.2f} {r['db50']:>7.2f} {queries:>8}{flag}")
    log("")
    log(f"{over} page(s) over budget" if over else "every page within budget")
    return over


def explain(results):
    city.explain_slowest(results, lambda r: r["page"] and r["wall95"] > BUDGET_MS, lambda r: f"{r['name'].strip()} [{r['who']}]")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=2_000_000, help="ledger events about the newest requests")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--explain", action="store_true")
    options = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("This benchmark needs PostgreSQL: set DATABASE_URL to a scratch database (it refuses to fill SQLite).")
    city.fill(options.requests)
    fill_ledger(options.events)
    log(
        f"{FootageRequest.objects.count():,} requests, {FootageRequest.objects.filter(status__in=OPEN_STATUSES).count():,} "
        f"open, {Agency.objects.count()} agencies"
    )
    log("people:")
    people = city.choose_people()
    overseers = city.choose_overseers()
    log(machine_check() + " (before)")
    results = measure(cases_for(people, overseers), options.runs)
    log(machine_check() + " (after)")
    over = print_table(results, options.runs)
    index_check(people, overseers)
    if options.explain:
        explain(results)
    sys.exit(1 if over else 0)


if __name__ == "__main__":
    main()
