"""Every benchmark at the SPEC's scale, one after another on this machine: `make bench`.

    make bench                       # PostgreSQL on 127.0.0.1:5432 (BENCH_DATABASE_URL names the server and user)
    .venv/bin/python benchmarks/all.py [--quick] [--keep] [--only pages,load]

Each step is one of the benchmarks in this folder, run as its own process against scratch databases this script
creates: `cg_bench_city` (40,000 cameras, 1,000,000 requests and 10,000,000 ledger events about them),
`cg_bench_ledger` (a valid hash chain of 10,000,000 events), `cg_bench_report` and `cg_bench_sites` (the demo). Databases of those names are
dropped first: never give them to real data. Each step prints its own figures beside their budgets, measured with
its comparison in the same run; the script then prints one table: each step, what it measured against what
budget, whether it met it, and how long it took. Every step's whole output is kept in var/bench/<time>/.

- pages: every role's pages through view and template (p50/p95 ms, queries per page) beside 20 ms p95;
- load: 50 signed-in people on gunicorn under Locust (p95 per page, errors) beside 300 ms and none;
- ledger_verify: a full verification of 10,000,000 events (events/s) beside 200,000/s, and the walk it replaced;
- ledger_append: chained appends against plain inserts, 8 writers, same run, on that 10,000,000-event ledger;
- report: `audit_report --format pdf` from command to file at 5,000 and 20,000 releases;
- export: a release of an hour of 1080p, export start to downloadable package, beside `cp` of the same segments;
- export_sites: a release of half an hour at each of two recorder sites, cut and decode-checked by each site's own
  Celery worker over Redis and packaged by the central one, beside `cp` of each site's segments;
- redaction: a redacted copy of a minute of 720p and of 1080p (faces and a tracked region, then a region only), frames/s
  beside the stream copy of the same minute.

--quick runs the same steps at a tenth of the scale (100,000 requests, 1,000,000 events, 20 s of load), to try the
script; its figures are not the SPEC's. Exit status: 0 when every step met its budget, 1 otherwise.
"""

import argparse
import datetime as dt
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
DATABASES = ("cg_bench_city", "cg_bench_ledger", "cg_bench_report", "cg_bench_sites")


def steps(quick):
    requests, events, ledger = (100_000, 1_000_000, 1_000_000) if quick else (1_000_000, 10_000_000, 10_000_000)
    return [
        (
            "pages",
            "cg_bench_city",
            ["benchmarks/pages.py", "--requests", str(requests), "--events", str(events), "--runs", "20"],
            "server time p95 <= 20 ms per page",
        ),
        (
            "load",
            "cg_bench_city",
            ["benchmarks/load.py", "--users", "50", "--duration", "20" if quick else "90", "--requests", str(requests)],
            "50 users: p95 < 300 ms on every page, no errors",
        ),
        (
            "ledger_verify",
            "cg_bench_ledger",
            ["benchmarks/ledger_verify.py", "--events", str(ledger), "--runs", "1"],
            ">= 200,000 events/s",
        ),
        (
            "ledger_append",
            "cg_bench_ledger",
            ["benchmarks/ledger_append.py", "--per-writer", "100" if quick else "300", "--rounds", "1"],
            "chained append beside a plain insert (printed ratio)",
        ),
        (
            "report",
            "cg_bench_report",
            ["benchmarks/report_render.py", "--runs", "1"] + (["--releases", "5000", "--small", "1000"] if quick else []),
            "PDF report, command to file (printed budget)",
        ),
        (
            "export",
            None,
            ["benchmarks/export_stream_copy.py", "--runs", "1"] + (["--minutes", "10"] if quick else []),
            "release >= half as fast as cp of the same segments",
        ),
        (
            "export_sites",
            "cg_bench_sites",
            ["benchmarks/export_sites.py"] + (["--minutes", "10"] if quick else []),
            "two site workers, start to package, beside cp (printed ratio)",
        ),
        (
            "redaction",
            None,
            ["benchmarks/redaction.py"] + (["--seconds", "10"] if quick else []),
            "a minute of 1080p redacted (frames/s and its time beside the stream copy's)",
        ),
    ]


def url_for(base, name):
    parts = urlsplit(base)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", ""))


def scratch_databases(base, *, create):
    """Drop the scratch databases, and create them again when `create`."""
    import psycopg

    parts = urlsplit(base)
    server = {"host": parts.hostname or "127.0.0.1", "port": parts.port or 5432, "user": parts.username or "postgres"}
    if parts.password:
        server["password"] = parts.password
    with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
        for name in DATABASES:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            if create:
                admin.execute(f'CREATE DATABASE "{name}"')


# What the benchmarks print where a figure misses its budget (each prints its figures beside the budget).
MISSED_MARKS = (": OVER", "misses budget", "— MISSED", "-> FAIL", "over budget")
# Lines that carry a figure beside its budget, repeated in the summary.
BUDGET_LINE = re.compile(r"budget|bar:|-> PASS|-> FAIL|MISSED|— met", re.IGNORECASE)


def verdict(code, output):
    if code != 0:
        return f"MISSED (exit {code})"
    if any(mark in output for mark in MISSED_MARKS):
        return "MISSED (printed)"
    return "met"


def run(command, env, log_path):
    started = time.monotonic()
    with open(log_path, "w", encoding="utf-8") as log:
        process = subprocess.Popen(  # noqa: S603 - the project's own benchmarks
            [str(PYTHON), *command], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        for line in process.stdout:
            sys.stdout.write(line)
            log.write(line)
        code = process.wait()
    return code, time.monotonic() - started, log_path.read_text(encoding="utf-8")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the scale, to try the script")
    parser.add_argument("--keep", action="store_true", help="keep the scratch databases afterwards")
    parser.add_argument("--only", default="", help="comma-separated step names")
    options = parser.parse_args()
    base = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    chosen = [name for name in options.only.split(",") if name]
    plan = [step for step in steps(options.quick) if not chosen or step[0] in chosen]
    unknown = set(chosen) - {step[0] for step in steps(options.quick)}
    if unknown:
        sys.exit(f"Unknown steps: {', '.join(sorted(unknown))}")

    folder = ROOT / "var" / "bench" / dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    folder.mkdir(parents=True)
    print(f"Scratch databases {', '.join(DATABASES)} are dropped and created; outputs in {folder.relative_to(ROOT)}/")
    print(
        f"Machine: {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}; scale: {'quick (a tenth)' if options.quick else 'SPEC'}\n"
    )
    scratch_databases(base, create=True)
    total_started = time.monotonic()
    results = []
    try:
        migrated = set()
        for name, database, command, budget in plan:
            env = {**os.environ, "DJANGO_DEBUG": "false", "VAR_DIR": str(folder / "var" / name)}
            env.pop("DATABASE_URL", None)
            if database:
                env["DATABASE_URL"] = url_for(base, database)
                if database not in migrated:
                    subprocess.run(  # noqa: S603 - the project's own command
                        [str(PYTHON), "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True
                    )
                    migrated.add(database)
            print(f"\n=== {name}: {' '.join(command)} ===", flush=True)
            code, seconds, output = run(command, env, folder / f"{name}.log")
            figures = [line.strip() for line in output.splitlines() if BUDGET_LINE.search(line)]
            results.append((name, budget, verdict(code, output), seconds, figures))
    finally:
        if not options.keep:
            scratch_databases(base, create=False)
    total = time.monotonic() - total_started

    print("\n=== make bench: figures beside their budgets ===")
    for name, _budget, _verdict, _seconds, figures in results:
        print(f"[{name}]")
        for line in figures[:25]:
            print(f"  {line}")
    print("\n=== make bench: summary ===")
    width = max(len(name) for name, *_ in results)
    for name, budget, outcome, seconds, _figures in results:
        print(f"{name.ljust(width)}  {seconds / 60:6.1f} min  {outcome:<18}  {budget}")
    within = "met" if total <= 30 * 60 else "MISSED"
    print(f"{'total'.ljust(width)}  {total / 60:6.1f} min  {within:<18}  the whole run within 30 min")
    return 0 if within == "met" and all(outcome == "met" for _n, _b, outcome, _s, _f in results) else 1


if __name__ == "__main__":
    sys.exit(main())
