"""Time the sign-in POST through Django's test client: PBKDF2 (the earlier hasher) against Argon2id.

    python benchmarks/signin.py [--rounds 8] [--concurrent 4]

Uses a scratch SQLite database in a temporary folder (migrated here). For each
hasher it times the password check alone, then the whole sign-in POST (form,
password check, session, ledger event, axes' bookkeeping), one at a time and
`--concurrent` at once (as when several officers sign in together on a
two-core server). PBKDF2 is Django's PBKDF2PasswordHasher at its default
iterations, as every account was hashed before Argon2id; the first Argon2id
sign-in of such an account also re-hashes it, timed on its own line.
"""

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
SCRATCH = tempfile.mkdtemp(prefix="signin-bench-")
os.environ["VAR_DIR"] = SCRATCH
os.environ["DATABASE_URL"] = f"sqlite:///{SCRATCH}/db.sqlite3"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.hashers import check_password, make_password  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import override_settings  # noqa: E402

from governance.models import Agency, Membership, User  # noqa: E402

PASSWORD = "demo-Camera-2026"


def ms(seconds):
    return f"{seconds * 1000:7.0f} ms"


def summary(label, times):
    print(f"  {label:<38} p50 {ms(statistics.median(times))}   max {ms(max(times))}   (n={len(times)})")


def sign_in(username):
    client = Client()
    client.get("/accounts/login/")
    started = time.perf_counter()
    response = client.post("/accounts/login/", {"username": username, "password": PASSWORD})
    elapsed = time.perf_counter() - started
    assert response.status_code == 302, response.status_code
    return elapsed


def concurrent(usernames):
    times = []
    lock = threading.Lock()

    def run(username):
        elapsed = sign_in(username)
        with lock:
            times.append(elapsed)
        connection.close()

    threads = [threading.Thread(target=run, args=(u,)) for u in usernames]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return times


BEFORE = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]


def measure(label, hashers, args, centre, prefix):
    with override_settings(PASSWORD_HASHERS=hashers):
        encoded = make_password(PASSWORD)
        print(
            f"{label}: {encoded.split('$')[0]} {encoded.split('$')[1] if encoded.startswith('pbkdf2') else encoded.split('$')[3]}"
        )
        checks = []
        for _ in range(args.rounds):
            started = time.perf_counter()
            check_password(PASSWORD, encoded)
            checks.append(time.perf_counter() - started)
        summary("password check alone", checks)
        names = []
        for n in range(args.rounds + args.concurrent):
            user = User.objects.create(username=f"{prefix}{n}", agency=centre, password=encoded)
            Membership.objects.create(user=user, agency=centre, role="requester")
            names.append(user.username)
        summary("sign-in POST, one at a time", [sign_in(name) for name in names[: args.rounds]])
        summary(f"sign-in POST, {args.concurrent} at once", concurrent(names[args.rounds :]))
    return encoded


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--concurrent", type=int, default=4)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    centre = Agency.objects.create(code="ioc", name_vi="Trung tâm giám sát", kind=Agency.Kind.MONITORING_CENTRE)
    pbkdf2 = measure("PBKDF2 (before)", BEFORE, args, centre, "p")
    measure("Argon2id (after)", settings.PASSWORD_HASHERS, args, centre, "a")

    # An account still holding a PBKDF2 hash: its first sign-in checks it and writes the Argon2id one.
    upgrades = []
    for n in range(args.rounds):
        user = User.objects.create(username=f"u{n}", agency=centre, password=pbkdf2)
        Membership.objects.create(user=user, agency=centre, role="requester")
        upgrades.append(sign_in(user.username))
        user.refresh_from_db()
        assert user.password.startswith("argon2$argon2id$")
    print("PBKDF2 account, first sign-in after the change")
    summary("sign-in POST, re-hashed to Argon2id", upgrades)


if __name__ == "__main__":
    main()
