"""Fifty people at once: gunicorn on this machine under Locust, every page's p95 beside the budget.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cg_pages python benchmarks/load.py [--users 50] [--duration 120]

Run it on the database `pages.py` filled (a million requests; it fills one itself when it finds none). It
installs Locust, pinned in benchmarks/requirements-load.txt, in a virtual environment of its own (.venv-load)
the first time. Then it signs in `--users` people of every role (officers of busy and quiet agencies, the
reviewers and approvers of every centre, custodians, auditors, administrators), each with the pages they read
(home, queue, lists and their later pages, requests they may open, the ledger, reports), starts gunicorn with
`--workers` processes on the loopback interface (DEBUG off, as served), and lets Locust run them headless for
`--duration` seconds: each person reads a page, then one to three seconds pass before the next. It prints, per
page, the requests served, the errors, p50, p95 and the maximum in milliseconds, beside the budget (p95 < 300 ms,
no errors), and exits non-zero when a page misses it.
"""

import argparse
import csv
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_DEBUG", "false")

import request_queues as city  # noqa: E402  (sets Django up)
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402

from governance.models import Role, User  # noqa: E402
from requests import selectors  # noqa: E402

BUDGET_MS = 300
LOAD_VENV = ROOT / ".venv-load"


def log(message=""):
    print(message, flush=True)


def load_tools():
    locust = LOAD_VENV / "bin" / "locust"
    if not locust.exists():
        log("installing Locust in .venv-load (benchmarks/requirements-load.txt)")
        subprocess.run([sys.executable, "-m", "venv", str(LOAD_VENV)], check=True)
        subprocess.run(
            [str(LOAD_VENV / "bin" / "pip"), "install", "--quiet", "-r", str(ROOT / "benchmarks" / "requirements-load.txt")],
            check=True,
        )
    return locust


def people(count):
    """`count` users of every role, busiest first, each with the pages that role reads."""
    rng = random.Random(3)
    chosen = []
    for role, share in ((Role.REQUESTER, 0.4), (Role.APPROVER, 0.2), (Role.REVIEWER, 0.1), (Role.CUSTODIAN, 0.1)):
        users = list(
            User.objects.filter(memberships__role=role, username__contains=f"-{role}-")
            .exclude(username__endswith="-1")  # one officer per agency and role
            .order_by("agency__code")
        )
        rng.shuffle(users)
        chosen += [(role, user) for user in users[: max(1, round(count * share))]]
    overseers = city.choose_overseers()
    chosen += [
        (Role.AUDITOR if label.startswith("auditor") else Role.ADMINISTRATOR, user) for label, (user, *_r) in overseers.items()
    ]
    while len(chosen) < count:  # more auditors: every inspectorate's
        extra = User.objects.filter(memberships__role=Role.AUDITOR).exclude(pk__in=[u.pk for _r, u in chosen]).first()
        if extra is None:
            break
        chosen.append((Role.AUDITOR, extra))
    return chosen[:count]


def pages_of(role, user, rng):
    pages = [("home", reverse("home"))]
    if role in (Role.REVIEWER, Role.APPROVER):
        queue = selectors.review_queue(user, size=51)
        pages.append(("review queue", reverse("requests:queue")))
        if len(queue) > 50:
            pages.append(("review queue, next page", f"{reverse('requests:queue')}?after={queue[-1].pk}"))
        pages += [("request page", reverse("requests:detail", args=[r.reference])) for r in queue[:5]]
    elif role == Role.CUSTODIAN:
        pages += [
            ("request page", reverse("requests:detail", args=[r.reference])) for r in selectors.listed_requests(user, size=5)
        ]
    else:
        rows = selectors.agency_requests(user, size=300) if role == Role.REQUESTER else selectors.listed_requests(user, size=300)
        name = "my agency's requests" if role == Role.REQUESTER else "requests overseen"
        pages.append((name, reverse("requests:list")))
        if len(rows) > 60:
            pages.append((f"{name}, later page", f"{reverse('requests:list')}?before={rng.choice(rows[55:]).pk}"))
        pages += [("request page", reverse("requests:detail", args=[r.reference])) for r in rng.sample(rows, min(5, len(rows)))]
        if role in (Role.AUDITOR, Role.ADMINISTRATOR):
            pages.append(("ledger", reverse("oversight:ledger")))
        if role == Role.AUDITOR:
            pages.append(("reports", reverse("oversight:reports")))
    return pages


def plan(count):
    rng = random.Random(5)
    entries = []
    for role, user in people(count):
        client = Client()
        client.force_login(user)
        entries.append(
            {
                "who": f"{role}: {user.username}",
                "cookie_name": settings.SESSION_COOKIE_NAME,
                "cookie": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "pages": pages_of(role, user, rng),
            }
        )
    return entries


def serve(port, workers):
    env = {**os.environ, "DJANGO_DEBUG": "false"}
    server = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(workers)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=2)  # noqa: S310 - loopback
            return server
        except OSError:
            time.sleep(0.2)
    os.killpg(server.pid, signal.SIGTERM)
    sys.exit(f"gunicorn did not answer: {server.stderr.read().decode()[-2000:]}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=int, default=120, help="seconds of load after every user has started")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--requests", type=int, default=1_000_000, help="the city to fill when the database holds none")
    options = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("This benchmark needs PostgreSQL: set DATABASE_URL to the database benchmarks/pages.py filled.")
    locust = load_tools()
    city.fill(options.requests)
    entries = plan(options.users)
    log(f"{len(entries)} people signed in: " + ", ".join(sorted({entry["who"].split(":")[0] for entry in entries})))
    connection.close()
    with tempfile.TemporaryDirectory(prefix="load-") as folder:
        plan_file = Path(folder) / "plan.json"
        plan_file.write_text(json.dumps(entries), encoding="utf-8")
        locust_log = open(Path(folder) / "locust.log", "w", encoding="utf-8")  # noqa: SIM115 - closed below
        server = serve(options.port, options.workers)
        try:
            ramp = max(1, options.users // 10)
            subprocess.run(
                [
                    str(locust),
                    "-f",
                    str(ROOT / "benchmarks" / "locustfile.py"),
                    "--headless",
                    "--only-summary",
                    "--users",
                    str(options.users),
                    "--spawn-rate",
                    str(ramp),
                    "--run-time",
                    f"{options.duration + options.users // ramp}s",
                    "--host",
                    f"http://127.0.0.1:{options.port}",
                    "--csv",
                    str(Path(folder) / "load"),
                    "--loglevel",
                    "WARNING",
                ],
                cwd=folder,  # never the project's root: its `requests` app would shadow the HTTP library
                env={**os.environ, "LOAD_PLAN": str(plan_file)},
                check=False,
                stdout=locust_log,
                stderr=subprocess.STDOUT,
            )
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
            locust_log.close()
        stats = Path(folder) / "load_stats.csv"
        if not stats.exists():
            sys.exit("Locust wrote no statistics:\n" + (Path(folder) / "locust.log").read_text(encoding="utf-8")[-3000:])
        with open(stats, encoding="utf-8") as stats_file:
            rows = list(csv.DictReader(stats_file))
    log("")
    log(
        f"{options.users} people, {options.workers} gunicorn workers, think time 1-3 s, {options.duration} s "
        f"(budget: p95 < {BUDGET_MS} ms on every page, no errors)"
    )
    log(f"{'page':<32} {'requests':>9} {'errors':>7} {'p50':>6} {'p95':>6} {'max':>7} {'req/s':>6}")
    missed = 0
    for row in rows:
        name = row["Name"] if row["Name"] != "Aggregated" else "all pages"
        p95, failures = float(row["95%"]), int(row["Failure Count"])
        flag = ""
        if p95 >= BUDGET_MS or failures:
            flag, missed = "  misses budget", missed + (row["Name"] != "Aggregated")
        log(
            f"{name:<32} {row['Request Count']:>9} {failures:>7} {float(row['50%']):>6.0f} {p95:>6.0f} "
            f"{float(row['Max Response Time']):>7.0f} {float(row['Requests/s']):>6.1f}{flag}"
        )
    log("")
    log(f"{missed} page(s) miss the budget" if missed else "every page within budget")
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
