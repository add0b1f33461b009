"""What killed exports leave in staging is removed and recorded; a running export's staging is never touched."""

import datetime as dt
import json
import os
import time

from celery.signals import worker_ready

from audit.models import Action, AuditEvent
from requests import staging
from requests.models import Release
from tests.requests.footage import approved
from tests.requests.footage import export as run_export


def _removals():
    return [
        json.loads(event.payload) | {"reference": event.reference}
        for event in AuditEvent.objects.filter(action=Action.EXPORT_STAGING_REMOVE).order_by("seq")
    ]


def _dead(reference, *, payload=b"x" * 1000):
    """The staging a killed export leaves: its files are there, its lock is gone with its process."""
    area = staging.staging_open(reference)
    (area.path / "work").mkdir()
    (area.path / "work" / "part.mp4").write_bytes(payload)
    area.release()
    return area.path


def test_a_running_exports_staging_is_left_and_a_dead_ones_is_removed_and_recorded(world, footage):
    footage_request = approved(world, [(footage.at(3), footage.at(5))])
    running = staging.staging_open(footage_request.reference)
    (running.path / "clip.mp4").write_bytes(b"y" * 10)
    dead = _dead(footage_request.reference, payload=b"x" * 4096)

    assert staging.staging_sweep() == 1
    assert running.path.exists() and (running.path / "clip.mp4").exists()
    assert not dead.exists()
    (removal,) = _removals()
    assert removal["reference"] == footage_request.reference
    assert removal["kind"] == "staging" and removal["files"] == 1 and removal["bytes"] == 4096
    assert removal["folder"] == f".staging/{dead.name}"

    # Once it finishes, its own removal leaves nothing behind, and the sweep finds nothing more to do.
    running.remove()
    assert staging.staging_sweep() == 0
    assert list(staging.staging_root().iterdir()) == []


def test_a_folder_without_its_lock_is_taken_for_dead_only_after_a_grace(world, footage):
    folder = staging.staging_root() / f"YC-2000-000001-{'b' * 32}"
    folder.mkdir(parents=True)
    assert staging.staging_sweep() == 0 and folder.exists()
    old = time.time() - staging.UNLOCKED_GRACE.total_seconds() - 5
    os.utime(folder, (old, old))
    assert staging.staging_sweep() == 1 and not folder.exists()
    (removal,) = _removals()
    # No request has that reference: the event still names it.
    assert removal["reference"] == "YC-2000-000001" and removal["files"] == 0


def test_a_package_no_release_points_to_is_removed_after_a_while_and_recorded(world, footage, django_capture_on_commit_callbacks):
    footage_request = run_export(world, approved(world, [(footage.at(3), footage.at(5))]), django_capture_on_commit_callbacks)
    release = Release.objects.get(footage_request=footage_request)
    unpublished = footage.exports / footage_request.reference / ("c" * 32)
    unpublished.mkdir()
    (unpublished / "package.zip").write_bytes(b"z" * 100)

    assert staging.staging_sweep() == 0 and unpublished.exists()
    assert staging.staging_sweep(unpublished_after=dt.timedelta(0)) == 1
    assert not unpublished.exists()
    assert os.path.exists(release.package_path)
    (removal,) = _removals()
    assert removal["kind"] == "unpublished package" and removal["bytes"] == 100


def test_a_worker_that_starts_sweeps_the_staging(world, footage):
    dead = _dead("YC-2000-000002")
    worker_ready.send(sender=None)
    assert not dead.exists()
    assert [r["reference"] for r in _removals()] == ["YC-2000-000002"]


def test_an_export_holds_its_staging_until_it_is_released(world, footage, django_capture_on_commit_callbacks):
    from requests import export, workflow

    footage_request = approved(world, [(footage.at(3), footage.at(5))])
    with django_capture_on_commit_callbacks(execute=False):
        workflow.request_export_start(actor=world.custodian, footage_request=footage_request)
    built = export.export_build(footage_request.pk)
    # Built but not yet released: a sweep now (another worker starting) must not take it.
    assert staging.staging_sweep() == 0 and built.package.exists()
    assert workflow.request_release(footage_request_id=footage_request.pk, built=built) is not None
    assert not built.staging.path.exists()
    assert _removals() == []
