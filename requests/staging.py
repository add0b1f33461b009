"""Export staging: every export builds in a folder of its own under EXPORT_ROOT/.staging, locked by its process.

A worker killed in the middle of an export cannot clean up after itself, and
its task runs again elsewhere in a fresh folder. The lock (`flock` on a file
inside the folder) is the only reliable sign of life: the kernel drops it
the moment the process dies, whatever killed it, while the request's status
stays "exporting" and the folder's times say nothing. So the sweep — when a
worker starts, with every stall sweep and with the daily purge — removes a
staging folder exactly when nobody holds its lock, and records each removal
(size and number of files) in the ledger. A folder whose lock is held is a
running export and is never touched.
"""

import datetime as dt
import errno
import fcntl
import logging
import os
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit import record_event
from audit.models import Action
from requests.models import FootageRequest, Release, Status

logger = logging.getLogger(__name__)

LOCK_NAME = ".lock"
# A folder is made a few microseconds before its lock file: one with no lock
# file is left alone for this long, then taken for the remains of a dead export.
UNLOCKED_GRACE = dt.timedelta(minutes=1)
# A package moved into place by a worker that died before its release
# committed: no release points to it. Left this long in case the commit is
# merely slow.
UNPUBLISHED_AFTER = dt.timedelta(hours=6)


class StagingLost(OSError):
    """The staging folder was swept before its lock was taken (its creator looked dead); the export tries again."""


def staging_root():
    return Path(settings.EXPORT_ROOT) / ".staging"


@dataclass
class Staging:
    """A staging folder and the open file whose lock says its export is running."""

    path: Path
    descriptor: int | None

    def remove(self):
        """Delete the folder, then give up the lock (in that order: a sweep never sees it unlocked and half gone)."""
        shutil.rmtree(self.path, ignore_errors=True)
        self.release()

    def release(self):
        if self.descriptor is not None:
            os.close(self.descriptor)
            self.descriptor = None


def staging_open(reference):
    """A fresh staging folder for an export of `reference`, locked by this process until `remove()`."""
    path = staging_root() / f"{reference}-{uuid.uuid4().hex}"
    path.mkdir(parents=True)
    lock = path / LOCK_NAME
    descriptor = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        # A sweep that ran between mkdir and flock may have taken the folder for a dead export's.
        if not lock.exists() or os.stat(lock).st_ino != os.fstat(descriptor).st_ino:
            raise StagingLost(errno.ENOENT, "staging folder swept before it was locked", str(path))
    except BaseException:
        os.close(descriptor)
        raise
    return Staging(path=path, descriptor=descriptor)


def _locked_by_someone(folder):
    """True when a live process holds the folder's lock; otherwise takes the lock and returns the descriptor."""
    try:
        descriptor = os.open(folder / LOCK_NAME, os.O_RDWR)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        return True
    return descriptor


def _measure(folder):
    size = files = 0
    for base, _dirs, names in os.walk(folder):
        for name in names:
            if name == LOCK_NAME:
                continue
            try:
                size += os.lstat(os.path.join(base, name)).st_size
            except OSError:
                continue
            files += 1
    return size, files


def _record_removal(folder, *, reference, kind):
    size, files = _measure(folder)
    footage_request = FootageRequest.objects.filter(reference=reference).first() if reference else None
    with transaction.atomic():
        record_event(
            actor=None,
            action=Action.EXPORT_STAGING_REMOVE,
            target=footage_request or ("export.folder", folder.name),
            reference=reference if footage_request is None else "",
            data={"folder": str(folder.relative_to(settings.EXPORT_ROOT)), "kind": kind, "bytes": size, "files": files},
        )
    logger.warning("Removed %s of an export no longer running: %s (%d files, %d bytes)", kind, folder, files, size)


def _sweep_parts():
    """The recorder sites' clips of requests no longer exporting (released or failed), which the process that ended
    the export did not remove (it died first, or the shared storage refused): each removal in the ledger."""
    parts = Path(settings.EXPORT_ROOT) / ".parts"
    if not parts.is_dir():
        return 0
    exporting = set(FootageRequest.objects.filter(status=Status.EXPORTING).values_list("reference", flat=True))
    removed = 0
    for folder in sorted(parts.iterdir()):
        if not folder.is_dir() or folder.name in exporting:
            continue
        if time.time() - folder.stat().st_mtime < UNLOCKED_GRACE.total_seconds():
            continue  # an export that just started: its request is committed a moment before its parts
        _record_removal(folder, reference=folder.name, kind="recorder site parts")
        shutil.rmtree(folder, ignore_errors=True)
        removed += 1
    return removed


def staging_sweep(*, unpublished_after=UNPUBLISHED_AFTER):
    """Remove the staging of every export not running, and packages no release points to; returns how many folders.

    Each removal is a ledger event, committed before the folder goes: a crash
    in between leaves the folder for the next sweep, which records it again,
    rather than a removal nobody recorded.
    """
    removed = 0
    staging = staging_root()
    if staging.exists():
        for folder in sorted(staging.iterdir()):
            if not folder.is_dir():
                continue
            held = _locked_by_someone(folder)
            if held is True:
                continue
            if held is None and time.time() - folder.stat().st_mtime < UNLOCKED_GRACE.total_seconds():
                continue  # being created right now: its lock file is a moment away
            try:
                _record_removal(folder, reference=folder.name.rsplit("-", 1)[0], kind="staging")
                shutil.rmtree(folder, ignore_errors=True)
            finally:
                if held is not None:
                    os.close(held)
            removed += 1
    removed += _sweep_parts()
    root = Path(settings.EXPORT_ROOT)
    if root.exists():
        cutoff = (timezone.now() - unpublished_after).timestamp()
        tokens = set(Release.objects.values_list("token", flat=True))
        for folder in root.glob("*/*"):
            # Hidden folders (.staging, the recorder sites' .parts) are not packages.
            if (
                folder.parent.name.startswith(".")
                or not folder.is_dir()
                or folder.name in tokens
                or folder.stat().st_mtime > cutoff
            ):
                continue
            _record_removal(folder, reference=folder.parent.name, kind="unpublished package")
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed
