"""Backup and restore: the database, the evidence on disk and the signing keys, in one folder with a manifest.

A backup folder holds:

- ``database.dump`` (PostgreSQL, ``pg_dump`` custom format, taken from an exported snapshot) or
  ``database.sqlite3`` (SQLite's online backup), with the ledger head *read in that same snapshot*;
- ``files/<role>/…``: what the service wrote under each storage root (letters, released packages, legal holds,
  reports and bundles), unfinished exports left out;
- ``keys/<name>``: the ledger's and the documents' signing keys and certificate;
- ``manifest.json``: every file above with its SHA-256 and size, the ledger head, the applied migrations, each
  root's path at backup time, and each released package checked against the hash the database records.

A restore goes only into an empty database and empty storage. It checks every file of the backup against the
manifest before it changes anything, loads the database, verifies the whole ledger and requires the manifest's
head, copies the files (each copy hashed again), checks each released package against the database, and appends
one ``system.restore`` event that chains on the restored head.

What neither checks: that the backup was made by this service (the manifest is not signed; its SHA-256 is
printed and kept in the ``system.backup`` event, to be compared by the person restoring), and the recordings
themselves, which stay on the recorders and are not part of a backup.
"""

import hashlib
import json
import os
import re
import shutil
import sqlite3
import stat
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.core.management import call_command
from django.db import DatabaseError, connections, transaction
from django.db.migrations.loader import MigrationLoader
from django.db.models import CharField, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit import record_event
from audit.ledger_check import verify_chain
from audit.models import Action

FORMAT = "camera-governance-backup/1"
MANIFEST = "manifest.json"
CHUNK = 1024 * 1024
# Storage roots by role. The role names the folder in the backup; the path is the installation's own.
ROOT_SETTINGS = {
    "media": "MEDIA_ROOT",
    "exports": "EXPORT_ROOT",
    "holds": "LEGAL_HOLD_ROOT",
    "reports": "REPORT_ROOT",
}
KEY_SETTINGS = {
    "audit-signing-key": "AUDIT_SIGNING_KEY_FILE",
    "document-signing-key": "DOCUMENT_SIGNING_KEY_FILE",
    "document-signing-cert": "DOCUMENT_SIGNING_CERT_FILE",
}
# Never in a backup: exports still being built (their own process removes or finishes them).
SKIPPED = {"exports": {".staging"}}


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why, in the reader's language."""


@dataclass
class Outcome:
    manifest: dict
    manifest_sha256: str
    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


# Files ----------------------------------------------------------------------------------------------------------------


def _open_confined(path: Path, base: Path | None) -> int:
    """A descriptor for reading the regular file at path, refused when it (or a folder on its way, inside base) is a
    symbolic link or leads out of base: a backup folder cannot make a restore read anything outside it."""
    if base is not None:
        # The backup folder itself may sit behind a link (a mount point); nothing inside it may.
        try:
            inside = base.resolve() / path.relative_to(base)
        except ValueError:  # not under base at all
            inside = None
        if path.resolve() != inside:
            raise BackupError(_("%(file)s is a link or leads outside the backup folder.") % {"file": path.name})
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as error:
        raise BackupError(_("%(file)s cannot be read: %(error)s") % {"file": path.name, "error": error.strerror}) from None
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise BackupError(_("%(file)s is not a regular file.") % {"file": path.name})
    return descriptor


def _copy_hashed(
    source: Path, target: Path, mode: int = 0o640, *, base: Path | None = None, folders: int = 0o750
) -> tuple[str, int]:
    """Copy source to target in one read, returning the SHA-256 and size of what was written; on disk when it returns."""
    digest, size = hashlib.sha256(), 0
    target.parent.mkdir(mode=folders, parents=True, exist_ok=True)
    reader = os.fdopen(_open_confined(source, base), "rb")
    with reader, os.fdopen(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode), "wb") as writer:
        while chunk := reader.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            writer.write(chunk)
        writer.flush()
        os.fsync(writer.fileno())
    return digest.hexdigest(), size


def _hash(path: Path, base: Path | None = None) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with os.fdopen(_open_confined(path, base), "rb") as reader:
        while chunk := reader.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _files_under(root: Path, skipped: set[str]):
    """Regular files under root, as POSIX paths relative to it, in a stable order; links are not followed."""
    if not root.is_dir():
        return
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        if here == root:
            dirs[:] = [name for name in dirs if name not in skipped]
        dirs.sort()
        for name in sorted(files):
            path = here / name
            if path.is_file() and not path.is_symlink():
                yield path.relative_to(root).as_posix()


def _safe_relative(text) -> PurePosixPath:
    """A manifest's relative path, refused when it could leave the folder it names a file in."""
    if not isinstance(text, str) or not text or "\x00" in text or "\\" in text:
        raise BackupError(_("The manifest names a file with an invalid path: %(path)r.") % {"path": text})
    path = PurePosixPath(text)
    if (
        path.is_absolute()
        or any(part in ("..", ".", "") or len(part.encode()) > 255 for part in path.parts)
        or path.as_posix() != text
        or len(text.encode()) > 4000
    ):
        raise BackupError(_("The manifest names a file with an invalid path: %(path)r.") % {"path": text})
    return path


# The database's facts, read in the snapshot that is dumped ------------------------------------------------------------


def _facts(cursor) -> dict:
    cursor.execute("SELECT seq, hash FROM audit_event ORDER BY seq DESC LIMIT 1")
    head = cursor.fetchone()
    cursor.execute("SELECT COUNT(*) FROM audit_event")
    events = cursor.fetchone()[0]
    cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
    migrations = [f"{app}.{name}" for app, name in cursor.fetchall()]
    cursor.execute("SELECT id, package_path, package_sha256 FROM requests_release WHERE purged_at IS NULL ORDER BY id")
    releases = [{"id": row[0], "path": row[1], "sha256": row[2]} for row in cursor.fetchall()]
    return {
        "ledger": {"events": events, "head_seq": head[0] if head else None, "head_hash": head[1] if head else None},
        "migrations": migrations,
        "releases": releases,
    }


def _pg_environment(settings_dict) -> dict:
    environment = dict(os.environ)
    for variable, key in (("PGHOST", "HOST"), ("PGPORT", "PORT"), ("PGUSER", "USER"), ("PGPASSWORD", "PASSWORD")):
        if settings_dict.get(key):
            environment[variable] = str(settings_dict[key])
    environment["PGDATABASE"] = settings_dict["NAME"]
    return environment


def _run_tool(arguments, environment) -> None:
    tool = shutil.which(arguments[0])
    if tool is None:
        raise BackupError(
            _("%(tool)s was not found: install PostgreSQL's client programs (the same major version as the server).")
            % {"tool": arguments[0]}
        )
    finished = subprocess.run([tool, *arguments[1:]], env=environment, capture_output=True, text=True, check=False)  # noqa: S603 - PostgreSQL tools, no shell
    if finished.returncode != 0:
        raise BackupError(_("%(tool)s failed: %(error)s") % {"tool": arguments[0], "error": finished.stderr.strip()[-2000:]})


def _dump_database(connection, target: Path) -> tuple[str, dict]:
    """Dump the database into target; returns the dump's file name and the facts read in the dumped snapshot."""
    if connection.vendor == "postgresql":
        name = "database.dump"
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            facts = _facts(cursor)
            _run_tool(
                [
                    "pg_dump",
                    "--format=custom",
                    "--no-owner",
                    "--no-privileges",
                    f"--snapshot={snapshot}",
                    f"--file={target / name}",
                ],
                _pg_environment(connection.settings_dict),
            )
        return name, facts
    if connection.vendor == "sqlite":
        name = "database.sqlite3"
        connection.ensure_connection()
        os.close(os.open(target / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        copy = sqlite3.connect(target / name)
        try:
            connection.connection.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")
            facts = _facts(copy.cursor())
        finally:
            copy.close()
        return name, facts
    raise BackupError(_("Backups are made of SQLite and PostgreSQL databases only."))


# Backup ---------------------------------------------------------------------------------------------------------------


def _check_releases(releases, exports_root: str, files: dict) -> tuple[int, list[str]]:
    """Each released package still kept, against the hash the database records and the copy in the backup."""
    checked, problems = 0, []
    for release in releases:
        try:
            relative = Path(release["path"]).relative_to(exports_root).as_posix()
        except ValueError:
            problems.append(_("Release %(id)s: its package is not under the exports folder.") % {"id": release["id"]})
            continue
        entry = files.get(relative)
        if entry is None:
            problems.append(_("Release %(id)s: its package file is missing.") % {"id": release["id"]})
        elif entry["sha256"] != release["sha256"]:
            problems.append(
                _("Release %(id)s: its package does not match the SHA-256 the database records.") % {"id": release["id"]}
            )
        else:
            checked += 1
    return checked, problems


def create_backup(target, *, using: str = "default") -> Outcome:
    target = Path(target)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupError(_("%(folder)s is not an empty folder: a backup is written into a new one.") % {"folder": target})
    try:
        target.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(target, 0o700)
    except OSError as error:
        raise BackupError(_("%(folder)s cannot be written: %(error)s") % {"folder": target, "error": error.strerror}) from None
    try:
        return _write_backup(target, using)
    except BaseException as error:
        # Nothing half-written is left to pass for a backup.
        for child in target.iterdir():
            shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
        if isinstance(error, DatabaseError):
            raise BackupError(_("The database cannot be read: %(error)s") % {"error": error}) from None
        if isinstance(error, OSError) and not isinstance(error, BackupError):
            raise BackupError(_("The backup could not be written: %(error)s") % {"error": error}) from None
        raise


def _write_backup(target: Path, using: str) -> Outcome:
    connection = connections[using]
    started = timezone.now()
    database_name, facts = _dump_database(connection, target)
    os.chmod(target / database_name, 0o600)
    database_sha256, database_size = _hash(target / database_name)

    roots, files, total = {}, [], database_size
    for role, setting in ROOT_SETTINGS.items():
        root = Path(getattr(settings, setting)).resolve()
        roots[role] = str(root)
        for relative in _files_under(root, SKIPPED.get(role, set())):
            sha256, size = _copy_hashed(root / relative, target / "files" / role / relative, 0o600, folders=0o700)
            files.append({"role": role, "path": relative, "sha256": sha256, "size": size})
            total += size
    keys = []
    for name, setting in KEY_SETTINGS.items():
        path = Path(getattr(settings, setting))
        if path.is_file():
            sha256, size = _copy_hashed(path, target / "keys" / name, 0o600, folders=0o700)
            keys.append({"name": name, "sha256": sha256, "size": size})

    exports = {entry["path"]: entry for entry in files if entry["role"] == "exports"}
    checked, problems = _check_releases(facts["releases"], roots["exports"], exports)
    manifest = {
        "format": FORMAT,
        "created_at": started.isoformat(),
        "engine": connection.vendor,
        "database": {"file": database_name, "sha256": database_sha256, "size": database_size},
        "ledger": facts["ledger"],
        "migrations": facts["migrations"],
        "roots": roots,
        "files": files,
        "keys": keys,
        "releases": {"kept": len(facts["releases"]), "checked": checked, "problems": problems},
    }
    text = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    with os.fdopen(os.open(target / MANIFEST, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w", encoding="utf-8") as out:
        out.write(text)
    manifest_sha256 = hashlib.sha256(text.encode()).hexdigest()
    with transaction.atomic(using=using):
        record_event(
            actor=None,
            action=Action.SYSTEM_BACKUP,
            data={
                "manifest_sha256": manifest_sha256,
                "last_seq": facts["ledger"]["head_seq"],
                "last_hash": facts["ledger"]["head_hash"] or "",
                "files": len(files) + len(keys) + 1,
                "bytes": total,
                "releases": checked,
            },
        )
    outcome = Outcome(manifest, manifest_sha256, problems=problems)
    outcome.lines = [
        _("Database (%(engine)s): %(events)s ledger events, head %(seq)s %(hash)s, read in the snapshot dumped.")
        % {
            "engine": connection.vendor,
            "events": facts["ledger"]["events"],
            "seq": facts["ledger"]["head_seq"],
            "hash": facts["ledger"]["head_hash"],
        },
        _("Files: %(count)s (%(bytes)s bytes), each hashed as it was copied; signing keys and certificate: %(keys)s.")
        % {"count": len(files), "bytes": total, "keys": len(keys)},
        _("Released packages kept: %(kept)s, %(checked)s matching the SHA-256 the database records.")
        % {"kept": len(facts["releases"]), "checked": checked},
        _(
            "Manifest SHA-256: %(sha256)s (also in the ledger). Keep the folder where only administrators can read it: it holds the private signing keys."
        )
        % {"sha256": manifest_sha256},
    ]
    return outcome


# Restore --------------------------------------------------------------------------------------------------------------


MANIFEST_MAX_BYTES = 64 * 1024 * 1024
_HEX64 = re.compile(r"[0-9a-f]{64}")


def read_manifest(source: Path) -> tuple[dict, str]:
    path = source / MANIFEST
    try:
        descriptor = _open_confined(path, source)
    except BackupError:
        raise BackupError(_("%(folder)s holds no manifest.json: it is not a backup.") % {"folder": source}) from None
    with os.fdopen(descriptor, "rb") as reader:
        raw = reader.read(MANIFEST_MAX_BYTES + 1)
    if len(raw) > MANIFEST_MAX_BYTES:
        raise BackupError(_("manifest.json is larger than any backup's: the backup is damaged."))
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise BackupError(_("manifest.json is not valid JSON: the backup is damaged.")) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(_("manifest.json is not a backup manifest this version reads."))
    _validate(manifest)
    return manifest, hashlib.sha256(raw).hexdigest()


def _is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _validate(manifest: dict) -> None:
    """Every part of the manifest a restore reads, of the exact type it must have; raises naming none of it."""

    def text(value, allow_empty=False):
        return isinstance(value, str) and (allow_empty or value) and "\x00" not in value

    def digest(value):
        return isinstance(value, str) and _HEX64.fullmatch(value)

    database, ledger, roots = manifest.get("database"), manifest.get("ledger"), manifest.get("roots")
    files, keys, migrations = manifest.get("files"), manifest.get("keys"), manifest.get("migrations")
    valid = (
        manifest.get("engine") in ("sqlite", "postgresql")
        and text(manifest.get("created_at"))
        and isinstance(database, dict)
        and database.get("file") in ("database.dump", "database.sqlite3")
        and digest(database.get("sha256"))
        and _is_count(database.get("size"))
        and isinstance(ledger, dict)
        and (ledger.get("head_seq") is None or (_is_count(ledger.get("head_seq")) and digest(ledger.get("head_hash"))))
        and isinstance(roots, dict)
        and set(roots) == set(ROOT_SETTINGS)
        and all(text(value) for value in roots.values())
        and isinstance(migrations, list)
        and all(text(name) for name in migrations)
        and isinstance(files, list)
        and isinstance(keys, list)
        and all(
            isinstance(entry, dict)
            and isinstance(entry.get("role"), str)
            and entry["role"] in ROOT_SETTINGS
            and text(entry.get("path"))
            and digest(entry.get("sha256"))
            and _is_count(entry.get("size"))
            for entry in files
        )
        and all(
            isinstance(entry, dict)
            and isinstance(entry.get("name"), str)
            and entry["name"] in KEY_SETTINGS
            and digest(entry.get("sha256"))
            and _is_count(entry.get("size"))
            for entry in keys
        )
    )
    if not valid:
        raise BackupError(_("manifest.json lacks a part every backup has, or has one of the wrong kind: the backup is damaged."))
    seen = set()
    for entry in files:
        relative = _safe_relative(entry["path"])
        if relative.parts[0] in SKIPPED.get(entry["role"], set()) or (entry["role"], entry["path"]) in seen:
            raise BackupError(_("The manifest names a file with an invalid path: %(path)r.") % {"path": entry["path"]})
        seen.add((entry["role"], entry["path"]))
    if len({entry["name"] for entry in keys}) != len(keys):
        raise BackupError(_("The manifest names a key twice."))


def _entries(manifest) -> list[tuple[PurePosixPath, str, int]]:
    """Every file the manifest lists, as (path in the backup, SHA-256, size)."""
    database = manifest["database"]
    entries = [(PurePosixPath(database["file"]), database["sha256"], database["size"])]
    for entry in manifest["files"]:
        entries.append((PurePosixPath("files", entry["role"]) / _safe_relative(entry["path"]), entry["sha256"], entry["size"]))
    for entry in manifest["keys"]:
        entries.append((PurePosixPath("keys", entry["name"]), entry["sha256"], entry["size"]))
    return entries


def check_backup(source: Path, manifest) -> int:
    """Every file of the backup against the manifest; raises naming the first files that differ."""
    damaged = []
    entries = _entries(manifest)
    for relative, sha256, size in entries:
        path = source / relative
        try:
            if _hash(path, source) != (sha256, size):
                damaged.append(_("%(file)s does not match its SHA-256") % {"file": relative})
        except BackupError as error:
            damaged.append(f"{relative}: {error}")
    # A database file never comes with a journal: one beside it would be rolled into it when it is opened.
    for suffix in ("-journal", "-wal", "-shm"):
        if (source / (manifest["database"]["file"] + suffix)).exists():
            damaged.append(_("%(file)s is not part of a backup") % {"file": manifest["database"]["file"] + suffix})
    if damaged:
        raise BackupError(_("The backup is damaged; nothing was restored: %(files)s.") % {"files": "; ".join(damaged[:10])})
    return len(entries)


def _database_is_empty(connection) -> bool:
    with connection.cursor():
        return not connection.introspection.table_names()


def _check_target(connection, manifest) -> None:
    if connection.vendor != manifest["engine"]:
        raise BackupError(
            _("This backup is of a %(backup)s database; DATABASE_URL names a %(target)s one.")
            % {"backup": manifest["engine"], "target": connection.vendor}
        )
    known = {f"{app}.{name}" for app, name in MigrationLoader(None, ignore_no_migrations=True).disk_migrations}
    unknown = sorted(set(manifest["migrations"]) - known)
    if unknown:
        raise BackupError(
            _("This backup was made by a newer version (migrations %(names)s are unknown here): restore it with that version.")
            % {"names": ", ".join(unknown[:5])}
        )
    if connection.vendor == "sqlite" and not Path(connection.settings_dict["NAME"]).parent.is_dir():
        raise BackupError(
            _("The folder of the SQLite database %(file)s does not exist: create it first.")
            % {"file": connection.settings_dict["NAME"]}
        )
    try:
        empty = _database_is_empty(connection)
    except DatabaseError as error:
        raise BackupError(_("The database cannot be opened: %(error)s") % {"error": error}) from None
    if not empty:
        raise BackupError(_("The database is not empty: a restore goes into a new, empty database."))
    for role, setting in ROOT_SETTINGS.items():
        root = Path(getattr(settings, setting))
        if root.exists() and any(root.iterdir()):
            raise BackupError(
                _("The %(role)s folder (%(setting)s) is not empty: a restore goes into empty storage.")
                % {"role": role, "setting": setting}
            )
    for entry in manifest["keys"]:
        setting = KEY_SETTINGS[entry["name"]]
        if Path(getattr(settings, setting)).exists():
            raise BackupError(_("%(setting)s already names a file: a restore does not replace a key.") % {"setting": setting})


def _load_database(connection, private: Path) -> None:
    """Load the database from the private copy of the dump (the one whose hash was just checked)."""
    if connection.vendor == "postgresql":
        _run_tool(
            [
                "pg_restore",
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--single-transaction",
                f"--dbname={connection.settings_dict['NAME']}",
                str(private),
            ],
            _pg_environment(connection.settings_dict),
        )
        return
    # SQLite: the backup's pages written into the (empty) database through SQLite's own backup, read-only and
    # immutable: no journal can be rolled into it on the way.
    connection.ensure_connection()
    loaded = sqlite3.connect(f"file:{private}?mode=ro&immutable=1", uri=True)
    try:
        loaded.backup(connection.connection)
    finally:
        loaded.close()
    connection.close()


def _repoint(manifest) -> int:
    """Paths the database keeps under a storage root, pointed at the same file under the restored root."""
    from oversight.models import BundleRequest, Report
    from requests.models import LegalHold, Release

    changed = 0
    fields = [
        (Release, "package_path", "exports"),
        (LegalHold, "path", "holds"),
        (Report, "pdf_path", "reports"),
        (Report, "csv_path", "reports"),
        (BundleRequest, "zip_path", "reports"),
    ]
    for model, name, role in fields:
        old_root, new_root = manifest["roots"][role], Path(getattr(settings, ROOT_SETTINGS[role])).resolve()
        if str(new_root) == old_root:
            continue
        # One UPDATE per field, the old root cut off the front of every path under it (a million releases would
        # otherwise be a million statements).
        prefix = old_root.rstrip("/") + "/"
        changed += model.objects.filter(**{f"{name}__startswith": prefix}).update(
            **{name: Concat(Value(str(new_root) + "/"), Substr(name, len(prefix) + 1), output_field=CharField())}
        )
    return changed


def restore_backup(source, *, expected_sha256: str | None, using: str = "default") -> Outcome:
    """Restore the backup in `source`. `expected_sha256` is the manifest's SHA-256 as written down when the backup was
    made: without it (None) nothing tells a forged backup from a genuine one, and the output says so."""
    source = Path(source)
    if not source.is_dir():
        raise BackupError(_("%(folder)s holds no manifest.json: it is not a backup.") % {"folder": source})
    manifest, manifest_sha256 = read_manifest(source)
    if expected_sha256 is not None and manifest_sha256 != expected_sha256.strip().lower():
        raise BackupError(
            _("The manifest's SHA-256 is %(found)s, not the %(expected)s given: this is not that backup; nothing was restored.")
            % {"found": manifest_sha256, "expected": expected_sha256}
        )
    connection = connections[using]
    _check_target(connection, manifest)
    count = check_backup(source, manifest)
    lines = [
        _("Backup of %(created)s: %(count)s files match the manifest (SHA-256 %(sha256)s).")
        % {"created": manifest["created_at"], "count": count, "sha256": manifest_sha256}
    ]
    with tempfile.TemporaryDirectory(prefix="restore-") as work:
        # The dump is read once more into a private copy, hashed as it is copied, and loaded from there: what is
        # loaded is what was checked, whatever happens to the backup folder meanwhile.
        private = Path(work) / manifest["database"]["file"]
        copied = _copy_hashed(source / manifest["database"]["file"], private, 0o600, base=source)
        if copied != (manifest["database"]["sha256"], manifest["database"]["size"]):
            raise BackupError(_("%(file)s changed while it was copied.") % {"file": manifest["database"]["file"]})
        try:
            _load_database(connection, private)
        except (DatabaseError, OSError) as error:
            raise BackupError(
                _("The database could not be loaded (%(error)s): drop and create it again before the next try.")
                % {"error": error}
            ) from None
    try:
        return _after_load(source, manifest, manifest_sha256, count, lines, expected_sha256 is not None, using)
    except BackupError as error:
        raise BackupError(
            _("%(error)s The restore stopped after the database was loaded: %(cleanup)s") % {"error": error, "cleanup": _CLEANUP}
        ) from None
    except Exception as error:  # noqa: BLE001 - whatever stopped it, the operator must know the state it left
        raise BackupError(
            _("The restore stopped after the database was loaded (%(error)s): %(cleanup)s")
            % {"error": f"{type(error).__name__}: {error}", "cleanup": _CLEANUP}
        ) from error


_CLEANUP = gettext_lazy(
    "the database and the storage folders hold a partial copy. Do not run the service on them: drop and create the "
    "database, empty MEDIA_ROOT, EXPORT_ROOT, LEGAL_HOLD_ROOT and REPORT_ROOT and remove the restored key files, "
    "then restore again."
)


def _after_load(source, manifest, manifest_sha256, count, lines, origin_checked, using) -> Outcome:
    result = verify_chain(using=using)
    expected = manifest["ledger"]
    if not result.ok:
        raise BackupError(_("The restored ledger does not verify (%(problem)s).") % {"problem": result.problem.detail})
    if (result.head_seq, result.head_hash) != (expected["head_seq"], expected["head_hash"]):
        raise BackupError(
            _("The restored ledger ends at event %(seq)s (%(hash)s), the manifest at %(expected)s (%(expected_hash)s).")
            % {
                "seq": result.head_seq,
                "hash": result.head_hash,
                "expected": expected["head_seq"],
                "expected_hash": expected["head_hash"],
            }
        )
    lines.append(
        _("Ledger: %(count)s events verified from the first, head %(seq)s %(hash)s as the manifest records.")
        % {"count": result.events_checked, "seq": result.head_seq, "hash": result.head_hash}
    )

    copied = 0
    for entry in manifest["files"]:
        root = Path(getattr(settings, ROOT_SETTINGS[entry["role"]]))
        relative = _safe_relative(entry["path"])
        written = _copy_hashed(source / "files" / entry["role"] / relative, root / relative, base=source)
        if written != (entry["sha256"], entry["size"]):
            raise BackupError(_("%(file)s changed while it was copied.") % {"file": relative})
        copied += 1
    for entry in manifest["keys"]:
        target = Path(getattr(settings, KEY_SETTINGS[entry["name"]]))
        written = _copy_hashed(source / "keys" / entry["name"], target, 0o600, base=source, folders=0o700)
        if written != (entry["sha256"], entry["size"]):
            raise BackupError(_("%(file)s changed while it was copied.") % {"file": entry["name"]})
    lines.append(
        _("Files: %(count)s copied into storage, each copy hashed again; keys: %(keys)s.")
        % {"count": copied, "keys": len(manifest["keys"])}
    )

    call_command("migrate", database=using, interactive=False, verbosity=0)
    from requests.export import sha256_file
    from requests.models import Release

    with transaction.atomic(using=using):
        repointed = _repoint(manifest)
        checked, problems = 0, []
        for release in Release.objects.using(using).filter(purged_at__isnull=True).order_by("pk"):
            path = Path(release.package_path)
            if not path.is_file():
                problems.append(_("Release %(id)s: its package file is missing.") % {"id": release.pk})
            elif sha256_file(path)[0] != release.package_sha256:
                problems.append(
                    _("Release %(id)s: its package does not match the SHA-256 the database records.") % {"id": release.pk}
                )
            else:
                checked += 1
        event = record_event(
            actor=None,
            action=Action.SYSTEM_RESTORE,
            data={
                "manifest_sha256": manifest_sha256,
                "created": manifest["created_at"],
                "last_seq": expected["head_seq"],
                "last_hash": expected["head_hash"] or "",
                "files": count,
                "releases": checked,
                "problems": problems,
                "origin_checked": origin_checked,
            },
        )
    lines.append(
        _(
            "Released packages kept: %(checked)s matching the SHA-256 the database records; %(moved)s stored paths pointed at the new storage."
        )
        % {"checked": checked, "moved": repointed}
    )
    lines.append(_("Event %(seq)s (restore) chains on the restored head.") % {"seq": event.seq})
    if origin_checked:
        lines.append(_("The manifest's SHA-256 is the one given: this is the backup that was written down."))
    else:
        lines.append(
            _(
                "Not checked: that this is a backup the service made. No SHA-256 was given to compare the manifest with; "
                "anyone able to write the backup folder could have changed it and its manifest together."
            )
        )
    lines.append(_("Not checked: the recordings on the recorders, which a backup does not hold."))
    return Outcome(manifest, manifest_sha256, lines=lines, problems=problems)
