"""Backup and restore: a backup restored into a fresh database and fresh storage verifies to the same ledger head,
every released package matches its hash at its new place, and the next events chain on; a damaged or forged backup,
or a target that is not empty, changes nothing."""

# ruff: noqa: F811 - the fixtures imported below are requested by name

import hashlib
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command
from django.db import connection

from audit.checkpoints import checkpoint_create, ensure_signing_key
from audit.models import Action, AuditEvent
from requests.models import Release
from tests.requests.conftest import world  # noqa: F401 - the workflow's fixture world
from tests.requests.footage import footage, segment_bank  # noqa: F401 - the released request's footage
from tests.requests.test_release import released  # noqa: F401 - a released request of agency A

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(django_settings.BASE_DIR)


@pytest.fixture
def storage(settings, tmp_path):
    """Every root and key of the service in this test's own folder (exports and holds come with the footage)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.REPORT_ROOT = tmp_path / "reports"
    settings.AUDIT_SIGNING_KEY_FILE = tmp_path / "keys" / "audit.pem"
    settings.DOCUMENT_SIGNING_KEY_FILE = tmp_path / "keys" / "documents.pem"
    settings.DOCUMENT_SIGNING_CERT_FILE = tmp_path / "keys" / "documents-cert.pem"
    ensure_signing_key()
    return settings


class Fresh:
    """A new, empty database of the suite's engine and an empty data folder, driven through manage.py."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.var = folder / "var"
        settings_dict = connection.settings_dict
        if connection.vendor == "postgresql":
            self.name = f"restore_{uuid.uuid4().hex[:12]}"
            self._server = {
                "host": settings_dict["HOST"] or "127.0.0.1",
                "port": settings_dict["PORT"] or 5432,
                "user": settings_dict["USER"] or "postgres",
            }
            with psycopg.connect(dbname="postgres", autocommit=True, **self._server) as admin:
                admin.execute(f'CREATE DATABASE "{self.name}"')
            password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
            server = self._server
            self.url = f"postgres://{server['user']}{password}@{server['host']}:{server['port']}/{self.name}"
        else:
            self.name = None
            self.url = f"sqlite:///{folder / 'restored.sqlite3'}"

    def manage(self, *arguments):
        environment = {
            key: value
            for key, value in os.environ.items()
            if not key.endswith(("_ROOT", "_FILE")) and key not in ("DATABASE_URL", "VAR_DIR")
        }
        environment.update(DATABASE_URL=self.url, VAR_DIR=str(self.var), CELERY_TASK_ALWAYS_EAGER="true")
        return subprocess.run(  # noqa: S603 - the project's own command
            [sys.executable, "manage.py", *arguments], cwd=ROOT, env=environment, capture_output=True, text=True, check=False
        )

    def sql(self, query):
        if self.name:
            with psycopg.connect(dbname=self.name, **self._server) as database:
                return database.execute(query).fetchall()
        import sqlite3

        database = sqlite3.connect(self.folder / "restored.sqlite3")
        try:
            return database.execute(query).fetchall()
        finally:
            database.close()

    def tables(self):
        if self.name:
            return self.sql("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        if not (self.folder / "restored.sqlite3").exists():
            return []
        return self.sql("SELECT name FROM sqlite_master WHERE type = 'table'")

    def drop(self):
        if self.name:
            with psycopg.connect(dbname="postgres", autocommit=True, **self._server) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


@pytest.fixture
def fresh(tmp_path):
    target = Fresh(tmp_path / "fresh")
    target.folder.mkdir()
    yield target
    target.drop()


def back_up(folder):
    call_command("backup", str(folder))
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))


def written_down(folder):
    """The manifest's SHA-256, as the person making the backup writes it down."""
    return hashlib.sha256((folder / "manifest.json").read_bytes()).hexdigest()


def test_a_backup_restores_into_a_fresh_database_verifying_to_the_same_head(storage, released, fresh, tmp_path):
    release = released.release
    checkpoint_create()
    folder = tmp_path / "backup"
    manifest = back_up(folder)

    head = manifest["ledger"]
    made = AuditEvent.objects.latest("seq")
    assert made.action == Action.SYSTEM_BACKUP and head["head_seq"] == made.seq - 1
    assert json.loads(made.payload)["manifest_sha256"] == hashlib.sha256((folder / "manifest.json").read_bytes()).hexdigest()
    assert manifest["releases"] == {"kept": 1, "checked": 1, "problems": []}
    package = Path(release.package_path).relative_to(Path(storage.EXPORT_ROOT).resolve()).as_posix()
    assert any(entry["role"] == "exports" and entry["path"] == package for entry in manifest["files"])

    restored = fresh.manage("restore", str(folder), "--manifest-sha256", written_down(folder))
    assert restored.returncode == 0, restored.stderr
    assert f"{head['head_seq']}" in restored.stdout

    # The restored ledger: the same head, then the restore event chained on it.
    rows = fresh.sql(f"SELECT seq, prev_hash, action FROM audit_event WHERE seq > {head['head_seq']} ORDER BY seq")
    assert rows == [(head["head_seq"] + 1, head["head_hash"], "system.restore")]
    # The package at its new place, its bytes those the database records.
    [(new_path, recorded)] = fresh.sql("SELECT package_path, package_sha256 FROM requests_release")
    assert Path(new_path).is_relative_to(fresh.var / "exports")
    assert hashlib.sha256(Path(new_path).read_bytes()).hexdigest() == recorded == release.package_sha256
    # The restored signing key signs the next checkpoint; the whole chain verifies from the first event.
    assert fresh.manage("audit_checkpoint").returncode == 0
    verified = fresh.manage("audit_verify")
    assert verified.returncode == 0, verified.stderr
    [(last,)] = fresh.sql("SELECT MAX(seq) FROM audit_event")
    assert last >= head["head_seq"] + 2 and f"{last}" in verified.stdout


def test_a_damaged_backup_is_refused_before_anything_is_written(storage, released, fresh, tmp_path):
    folder = tmp_path / "backup"
    manifest = back_up(folder)
    package = next(entry for entry in manifest["files"] if entry["role"] == "exports")
    damaged = folder / "files" / "exports" / package["path"]
    content = bytearray(damaged.read_bytes())
    content[len(content) // 2] ^= 0x01
    damaged.write_bytes(bytes(content))

    refused = fresh.manage("restore", str(folder), "--manifest-sha256", written_down(folder))
    assert refused.returncode != 0
    assert "damaged" in refused.stderr or "hỏng" in refused.stderr
    assert package["path"].split("/")[-1] in refused.stderr
    assert fresh.tables() == []
    assert not (fresh.var / "exports").exists() or not any((fresh.var / "exports").iterdir())


def test_a_forged_manifest_cannot_write_outside_the_storage(storage, world, fresh, tmp_path):
    folder = tmp_path / "backup"
    back_up(folder)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    escape = tmp_path / "escaped.txt"
    payload = b"not evidence"
    (folder / "files").mkdir(exist_ok=True)
    (folder / "files" / "escaped.txt").write_bytes(payload)
    manifest["files"].append(
        {"role": "media", "path": "../../../escaped.txt", "sha256": hashlib.sha256(payload).hexdigest(), "size": len(payload)}
    )
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")

    refused = fresh.manage("restore", str(folder), "--origin-not-checked")
    assert refused.returncode != 0 and "../../../escaped.txt" in refused.stderr
    assert not escape.exists() and fresh.tables() == []


def test_a_restore_never_goes_over_a_database_in_use(storage, world, tmp_path):
    folder = tmp_path / "backup"
    back_up(folder)
    events = AuditEvent.objects.count()
    with pytest.raises(CommandError, match="empty|trống"):
        call_command("restore", str(folder), manifest_sha256=written_down(folder))
    assert AuditEvent.objects.count() == events


def test_a_backup_goes_only_into_a_new_folder(storage, world, tmp_path):
    folder = tmp_path / "backup"
    folder.mkdir()
    (folder / "something").write_text("kept")
    with pytest.raises(CommandError, match="empty|trống"):
        call_command("backup", str(folder))
    assert sorted(path.name for path in folder.iterdir()) == ["something"]


def test_a_package_changed_on_disk_is_named_by_the_backup(storage, released, tmp_path):
    package = Path(released.release.package_path)
    package.write_bytes(package.read_bytes() + b"\x00")
    folder = tmp_path / "backup"
    with pytest.raises(CommandError, match=str(released.release.pk)):
        call_command("backup", str(folder))
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["releases"]["checked"] == 0 and len(manifest["releases"]["problems"]) == 1
    assert Release.objects.count() == 1


def test_a_backup_of_a_newer_version_is_refused(storage, world, fresh, tmp_path):
    folder = tmp_path / "backup"
    back_up(folder)
    manifest_path = folder / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["migrations"].append("requests.9999_from_the_future")
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    refused = fresh.manage("restore", str(folder), "--origin-not-checked")
    assert refused.returncode != 0 and "9999_from_the_future" in refused.stderr
    assert fresh.tables() == []


def test_the_backup_folder_is_for_administrators_only(storage, world, tmp_path):
    folder = tmp_path / "backup"
    back_up(folder)
    assert folder.stat().st_mode & 0o077 == 0
    assert (folder / "keys" / "audit-signing-key").stat().st_mode & 0o077 == 0
    assert (
        folder / "database.sqlite3" if connection.vendor == "sqlite" else folder / "database.dump"
    ).stat().st_mode & 0o077 == 0


def test_a_backup_that_is_not_the_one_written_down_is_refused(storage, world, fresh, tmp_path):
    folder = tmp_path / "backup"
    back_up(folder)
    genuine = written_down(folder)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    manifest["created_at"] = "2026-01-01T00:00:00+00:00"  # anything changed, hashes and all made to agree
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    refused = fresh.manage("restore", str(folder), "--manifest-sha256", genuine)
    assert refused.returncode != 0 and genuine in refused.stderr
    assert fresh.tables() == []
    # Without the SHA-256 nor the explicit choice to go without it, nothing is restored either.
    assert fresh.manage("restore", str(folder)).returncode != 0 and fresh.tables() == []


def test_a_journal_or_a_link_planted_in_a_backup_is_refused(storage, world, fresh, tmp_path):
    folder = tmp_path / "backup"
    manifest = back_up(folder)
    planted = folder / (manifest["database"]["file"] + "-journal")
    planted.write_bytes(b"\x00" * 512)
    refused = fresh.manage("restore", str(folder), "--manifest-sha256", written_down(folder))
    assert refused.returncode != 0 and planted.name in refused.stderr and fresh.tables() == []
    planted.unlink()

    secret = tmp_path / "outside.txt"
    secret.write_bytes(b"not in the backup")
    linked = folder / "files" / "media"
    linked.mkdir(parents=True, exist_ok=True)
    (linked / "via-link").symlink_to(tmp_path)
    manifest["files"].append(
        {
            "role": "media",
            "path": "via-link/outside.txt",
            "sha256": hashlib.sha256(secret.read_bytes()).hexdigest(),
            "size": secret.stat().st_size,
        }
    )
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    refused = fresh.manage("restore", str(folder), "--origin-not-checked")
    assert refused.returncode != 0 and "via-link" in refused.stderr
    assert fresh.tables() == [] and not (fresh.var / "media").exists()


@pytest.mark.parametrize(
    "damage",
    [
        lambda m: m.pop("engine"),
        lambda m: m.update(keys="audit-signing-key"),
        lambda m: m["files"].append({"role": ["media"], "path": "x", "sha256": "0" * 64, "size": 1}),
        lambda m: m["files"].append({"role": "media", "path": "x" * 300, "sha256": "0" * 64, "size": 1}),
        lambda m: m["files"].append({"role": "media", "path": "y", "sha256": "0" * 64, "size": 1.0}),
        lambda m: m["files"].append({"role": "exports", "path": ".staging/a", "sha256": "0" * 64, "size": 1}),
        lambda m: m["roots"].pop("exports"),
        lambda m: m["ledger"].update(head_seq="338"),
        lambda m: m.update(migrations=5),
    ],
)
def test_a_malformed_manifest_is_a_clear_refusal_not_a_traceback(storage, world, tmp_path, damage):
    folder = tmp_path / "backup"
    back_up(folder)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    damage(manifest)
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    events = AuditEvent.objects.count()
    with pytest.raises(CommandError):
        call_command("restore", str(folder), origin_not_checked=True)
    assert AuditEvent.objects.count() == events


def test_a_deeply_nested_manifest_is_refused(storage, world, tmp_path):
    folder = tmp_path / "backup"
    folder.mkdir()
    (folder / "manifest.json").write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    with pytest.raises(CommandError, match="JSON"):
        call_command("restore", str(folder), origin_not_checked=True)


def test_a_backup_into_an_existing_open_folder_is_closed_to_others(storage, world, tmp_path):
    folder = tmp_path / "backup"
    folder.mkdir(mode=0o755)
    back_up(folder)
    for path in [folder, folder / "manifest.json", *folder.rglob("*")]:
        assert path.stat().st_mode & 0o077 == 0, path


def test_a_backup_reached_through_a_linked_folder_restores(storage, world, fresh, tmp_path):
    """Backups often sit on a disk mounted behind a link: the folder may be a link, what is inside it may not."""
    folder = tmp_path / "disk" / "backup"
    back_up(folder)
    (tmp_path / "backups").symlink_to(tmp_path / "disk")
    restored = fresh.manage("restore", str(tmp_path / "backups" / "backup"), "--manifest-sha256", written_down(folder))
    assert restored.returncode == 0, restored.stderr


def test_a_file_named_outside_the_backup_folder_is_refused_not_a_failure(tmp_path):
    from operations.backup import BackupError, _open_confined

    outside = tmp_path / "elsewhere.txt"
    outside.write_text("x")
    (tmp_path / "backup").mkdir()
    with pytest.raises(BackupError, match="leads outside the backup folder"):
        _open_confined(outside, tmp_path / "backup")
