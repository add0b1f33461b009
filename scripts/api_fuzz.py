"""A bounded property-based run of the API's OpenAPI schema (Schemathesis) against gunicorn on the loopback interface.

    .venv/bin/python scripts/api_fuzz.py [--max-examples 30] [--seed 20261203] [--max-time 120]

It makes a scratch SQLite database in a temporary folder (migrate, seed_demo), creates two service accounts of the
demo as their agencies' administrators would (a requesting agency's filing account: catalogue:read, requests:read,
requests:file; the inspectorate's auditor account: catalogue:read, requests:read, ledger:read), writes the schema
(`manage.py spectacular`), starts gunicorn on a free port, installs Schemathesis, pinned in
scripts/requirements-schema.txt, in a virtual environment of its own (.venv-schema) and runs it once per token:
no server error, responses (status code, content type, body) as the schema declares them. Schemathesis runs in the
temporary folder with a clean environment: the project's `requests` app would shadow the HTTP library it needs. Exits
non-zero when a run finds a failure.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
SCHEMA_VENV = ROOT / ".venv-schema"
REQUIREMENTS = ROOT / "scripts" / "requirements-schema.txt"
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"

# Run in a subprocess with the project's Django: the two service accounts and their tokens, printed as JSON.
ACCOUNTS_SCRIPT = """
import json, django
django.setup()
from django.db.models import Count
from api.models import Scope
from api.tokens import service_account_create, token_issue
from governance.models import Agency, Role, User

def administrator(agency):
    return (
        User.objects.filter(agency=agency, is_staff=True, is_active=True, is_service_account=False,
                            memberships__role=Role.ADMINISTRATOR, memberships__agency=agency)
        .order_by("username").first()
    )

def account(agency, name, roles, scopes):
    actor = administrator(agency)
    if actor is None:
        raise SystemExit(f"no administrator in {agency.code}")
    user = service_account_create(actor=actor, name=name, roles=roles)
    _row, token = token_issue(actor=actor, account=user, name=name, scopes=scopes, days=1)
    return {"agency": agency.code, "administrator": actor.username, "account": user.username,
            "scopes": sorted(scopes), "token": token}

requesting = (
    Agency.objects.filter(memberships__role=Role.REQUESTER)
    .annotate(filed=Count("footage_requests", distinct=True)).order_by("-filed", "code").first()
)
inspectorate = Agency.objects.filter(kind=Agency.Kind.INSPECTORATE, memberships__role=Role.AUDITOR).order_by("code").first()
if requesting is None or inspectorate is None:
    raise SystemExit("the demo has no requesting agency or no inspectorate")
accounts = {
    "filing": account(requesting, "schema run filing", [Role.REQUESTER],
                      [Scope.CATALOGUE_READ, Scope.REQUESTS_READ, Scope.REQUESTS_FILE, Scope.RELEASES_READ,
                       Scope.RELEASES_RECEIVE]),
    "auditor": account(inspectorate, "schema run auditor", [Role.AUDITOR],
                       [Scope.LEDGER_READ, Scope.REQUESTS_READ, Scope.CATALOGUE_READ]),
}

# A filing the demo accepts (checked by the API's own serializer and forms): the body of the run's example.
import datetime as dt
from django.utils import timezone
from api import serializers, views
from governance.selectors import camera_search
from requests.forms import VIETNAM, available_legal_bases

day = (timezone.now().astimezone(VIETNAM) - dt.timedelta(days=1)).replace(hour=8, minute=0, second=0, microsecond=0)
example = None
# Checking a crime report first: the basis a ward police officer cites most.
for basis in sorted(available_legal_bases(), key=lambda basis: (basis.code != "TTHS_XAC_MINH_TIN_BAO", basis.code)):
    for camera in list(camera_search(query="", kind=None, status=None)[:5]):
        for category in ("video", "still_image"):
            body = {
                "legal_basis": basis.code, "letter_number": "123/CV-CAP", "letter_date": day.date().isoformat(),
                "case_reference": "TB-2026-0042", "purpose": "Xác minh vụ trộm xe máy", "urgency": "normal",
                "items": [{"camera": camera.code, "start": day.isoformat(),
                           "end": (day + dt.timedelta(minutes=30)).isoformat(), "data_category": category}],
            }
            data = serializers.RequestInputSerializer(data=body)
            if data.is_valid() and views.filing_forms(data.validated_data, requesting)[0].is_valid():
                example = body
                break
        if example: break
    if example: break
accounts["filing"]["example"] = example
print(json.dumps(accounts))
"""


def log(message=""):
    print(message, flush=True)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def manage(env, *args):
    result = subprocess.run([str(PYTHON), "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False)  # noqa: S603 - the project's own tools, no shell
    if result.returncode:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{result.stdout[-2000:]}{result.stderr[-4000:]}")
    return result.stdout


def schema_tools():
    """Schemathesis in .venv-schema, installed from the pinned requirements (again when they changed)."""
    schemathesis = SCHEMA_VENV / "bin" / "schemathesis"
    stamp = SCHEMA_VENV / "requirements-schema.txt"
    wanted = REQUIREMENTS.read_text(encoding="utf-8")
    if schemathesis.exists() and stamp.exists() and stamp.read_text(encoding="utf-8") == wanted:
        return schemathesis
    log("installing Schemathesis in .venv-schema (scripts/requirements-schema.txt)")
    if not (SCHEMA_VENV / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(SCHEMA_VENV)], check=True)  # noqa: S603 - the project's own tools, no shell
    uv = ROOT / ".venv" / "bin" / "uv"
    if uv.exists():
        command = [str(uv), "pip", "install", "--quiet", "--python", str(SCHEMA_VENV / "bin" / "python"), "-r", str(REQUIREMENTS)]
    else:
        command = [str(SCHEMA_VENV / "bin" / "pip"), "install", "--quiet", "-r", str(REQUIREMENTS)]
    # From a neutral folder: the project's root on the path would hide the HTTP library behind the app.
    subprocess.run(command, cwd=tempfile.gettempdir(), check=True)  # noqa: S603 - the project's own tools, no shell
    stamp.write_text(wanted, encoding="utf-8")
    return schemathesis


def serve(env, port, folder):
    server_log = open(Path(folder) / "gunicorn.log", "w", encoding="utf-8")  # noqa: SIM115 - closed by stop()
    server = subprocess.Popen(  # noqa: S603 - the project's own tools, no shell
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "config.wsgi", "-b", f"127.0.0.1:{port}", "-w", "2"],
        cwd=ROOT,
        env=env,
        stdout=server_log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server.log_file = server_log
    for _ in range(150):
        if server.poll() is not None:
            break
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/data-categories/", timeout=2)  # noqa: S310 - loopback
        except urllib.error.HTTPError:
            return server  # it answers (401 without a token)
        except OSError:
            time.sleep(0.2)
        else:
            return server
    stop(server)
    sys.exit("gunicorn did not answer:\n" + (Path(folder) / "gunicorn.log").read_text(encoding="utf-8")[-3000:])


def stop(server):
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    server.log_file.close()


def clean_env(folder):
    """Only what Schemathesis needs: no PYTHONPATH, no Django settings, no virtual environment of the project."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TERM", "TMPDIR")
    env = {name: os.environ[name] for name in keep if name in os.environ}
    env.update({"PYTHONDONTWRITEBYTECODE": "1", "NO_COLOR": "1", "HOME": env.get("HOME", folder)})
    return env


def report_summary(report_dir):
    """Operations tested, test cases, checks run and failed checks, from Schemathesis's NDJSON event stream."""
    operations, cases, checks, failed = set(), 0, 0, []
    for path in sorted(Path(report_dir).glob("*.ndjson")):
        for line in path.read_text(encoding="utf-8").splitlines():
            event = json.loads(line).get("ScenarioFinished")
            if not event:
                continue
            recorder = event.get("recorder") or {}
            if recorder.get("label") and event.get("phase") != "stateful":
                operations.add(recorder["label"])
            cases += len(recorder.get("interactions") or {})
            for results in (recorder.get("checks") or {}).values():
                checks += len(results)
                failed += [(recorder.get("label"), result.get("name")) for result in results if result.get("status") != "success"]
    return operations, cases, checks, failed


def stale_example(document, schema, accepted):
    """The filing example of POST /api/v1/requests/ is what the Examples phase sends (then the stateful phase follows
    its links: read, submit, withdraw). When the demo refuses it (its codes are not the demo's, its dates have aged),
    it is said here and the run's copy of the schema carries a filing the demo accepts instead."""
    content = document["paths"]["/api/v1/requests/"].get("post", {}).get("requestBody", {}).get("content", {})
    examples = content.get("application/json", {}).get("examples") or {}
    if accepted is None:
        log("warning: no filing the demo accepts was found; POST /api/v1/requests/ is tested with refused input only")
        return
    for name, example in examples.items():
        value = example.get("value") or {}
        items = value.get("items") or [{}]
        if (value.get("legal_basis"), items[0].get("camera")) != (accepted["legal_basis"], accepted["items"][0]["camera"]):
            log(
                f"warning: the schema's filing example {name!r} names legal basis {value.get('legal_basis')!r} and "
                f"camera {items[0].get('camera')!r}, which the demo does not accept; the run sends "
                f"{accepted['legal_basis']!r} and {accepted['items'][0]['camera']!r} instead"
            )
            example["value"] = accepted
    schema.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")


def run_schemathesis(schemathesis, schema, port, who, token, options, folder):
    report_dir = Path(folder) / f"report-{who}"
    command = [
        str(schemathesis),
        "run",
        str(schema),
        "--url",
        f"http://127.0.0.1:{port}",
        "-H",
        f"Authorization: Bearer {token}",
        "--checks",
        CHECKS,
        "--max-examples",
        str(options.max_examples),
        "--seed",
        str(options.seed),
        "--workers",
        "1",
        "--generation-database",
        "none",
        "--request-timeout",
        "20",
        "--report",
        "ndjson",
        "--report-dir",
        str(report_dir),
        "--no-color",
    ]
    log(f"\n=== schemathesis: {who} ===")
    log(" ".join(command).replace(token, "<token>"))
    started = time.monotonic()
    try:
        result = subprocess.run(  # noqa: S603 - the project's own tools, no shell
            command,
            cwd=folder,  # never the project's root: its `requests` app would shadow the HTTP library
            env=clean_env(folder),
            capture_output=True,
            text=True,
            timeout=options.max_time,
            check=False,
        )
    except subprocess.TimeoutExpired as expired:
        output = (expired.stdout or b"").decode() if isinstance(expired.stdout, bytes) else (expired.stdout or "")
        log(output[-4000:])
        log(f"{who}: no result within {options.max_time} s")
        return False
    output = result.stdout + result.stderr
    (Path(folder) / f"schemathesis-{who}.log").write_text(output, encoding="utf-8")
    # Its own account of failures (each with a curl command that repeats it) and warnings, else its last lines.
    shown = next((output.find(mark) for mark in ("=== FAILURES", "=== WARNINGS", "=== SUMMARY") if mark in output), -1)
    log(output[shown:][:30000] if shown != -1 else output[-6000:])
    operations, cases, checks, failed = report_summary(report_dir)
    log(
        f"{who}: {len(operations)} operations, {cases} requests, {checks} checks, {len(failed)} failed; "
        f"exit {result.returncode} in {time.monotonic() - started:.0f} s"
    )
    for label, name in sorted(set(failed)):
        log(f"  failed: {name} on {label}")
    return result.returncode == 0 and not failed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=30, help="test cases per operation and phase")
    parser.add_argument("--seed", type=int, default=20261203, help="the same seed gives the same test cases")
    parser.add_argument("--max-time", type=int, default=120, help="seconds allowed to each Schemathesis run")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (database, logs, reports)")
    options = parser.parse_args()
    started = time.monotonic()
    folder = tempfile.mkdtemp(prefix="api-fuzz-")
    server = None
    try:
        env = {
            **{k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DATABASE_URL", "DJANGO_SETTINGS_MODULE")},
            "DATABASE_URL": f"sqlite:///{folder}/db.sqlite3",
            "VAR_DIR": folder,
            "MEDIA_ROOT": f"{folder}/media",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DJANGO_ENV": "development",
            "DJANGO_DEBUG": "false",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            # Hundreds of calls a minute on one token: the per-token rate limit would answer most of them 429.
            "API_RATE": "100000/min",
        }
        log(f"scratch database in {folder}: migrate, seed_demo")
        manage(env, "migrate", "--no-input", "-v", "0")
        manage(env, "seed_demo")
        made = subprocess.run(  # noqa: S603 - the project's own tools, no shell
            [str(PYTHON), "-c", ACCOUNTS_SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, check=False
        )
        if made.returncode:
            sys.exit(f"the service accounts were not created:\n{made.stdout[-2000:]}{made.stderr[-4000:]}")
        accounts = json.loads(made.stdout.strip().splitlines()[-1])
        for who, account in accounts.items():
            log(
                f"{who}: {account['account']} of {account['agency']} (by {account['administrator']}), {', '.join(account['scopes'])}"
            )
        schema = Path(folder) / "openapi.json"
        manage(env, "spectacular", "--format", "openapi-json", "--file", str(schema))
        document = json.loads(schema.read_text(encoding="utf-8"))
        paths = document["paths"]
        if not all(path.startswith("/api/v1/") for path in paths):
            sys.exit("the schema's paths do not all start with /api/v1/")
        stale_example(document, schema, accounts["filing"].pop("example"))
        schemathesis = schema_tools()
        port = free_port()
        server = serve(env, port, folder)
        log(f"gunicorn on 127.0.0.1:{port}; {len(paths)} paths in the schema; setup {time.monotonic() - started:.0f} s")
        passed = {
            who: run_schemathesis(schemathesis, schema, port, who, account["token"], options, folder)
            for who, account in accounts.items()
        }
    finally:
        if server is not None:
            stop(server)
        if options.keep:
            log(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    log("")
    for who, ok in passed.items():
        log(f"{who}: {'passed' if ok else 'FAILED'}")
    log(f"total {time.monotonic() - started:.0f} s")
    sys.exit(0 if all(passed.values()) else 1)


if __name__ == "__main__":
    main()
