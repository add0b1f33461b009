"""Exports at the recorder sites that hold the footage: a request with cameras at two sites is cut by each site and
packaged once; a clip that does not arrive as its site cut it fails the export; with real workers on two site
queues, each mounting only its own recordings, a site that is down leaves its part waiting, not failed."""

# ruff: noqa: F811 - the fixtures imported below are requested by name

import datetime as dt
import json
import os
import subprocess
import time
import uuid
import zipfile
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from audit.models import Action, AuditEvent
from config.celery import app
from governance.models import RecorderSite
from requests import export, holds, sites, workflow
from requests.models import ExportPart, FootageRequest, LegalHold, Status
from requests.services import request_export_resume_stalled
from requests.sources.testpattern import write_segments
from requests.staging import staging_sweep
from tests.celery_worker import needs_worker, start_worker, stop_worker, worker_environment
from tests.factories import CameraFactory
from tests.requests.footage import approved, footage, segment_bank  # noqa: F401
from tests.requests.footage import export as run_export
from tests.requests.test_export_worker import _forget_queue


def _two_sites(world, queue_a="site-a", queue_b="site-b"):
    site_a = RecorderSite.objects.create(code="Q-HK", name="Đầu ghi quận Hoàn Kiếm", queue=queue_a)
    site_b = RecorderSite.objects.create(code="Q-BD", name="Đầu ghi quận Ba Đình", queue=queue_b)
    world.camera.site = site_a
    world.camera.save(update_fields=["site"])
    # A second camera of the same ward, whose recordings sit at the other site.
    world.second_camera = CameraFactory(
        code="HB-902", area=world.camera.area, managing_agency=world.camera.managing_agency, site=site_b
    )
    return site_a, site_b


def _both_cameras(world, footage):
    return approved(
        world, [(footage.at(3), footage.at(9)), (footage.at(2), footage.at(8))], cameras=[world.camera, world.second_camera]
    )


def _parts_cut(footage_request):
    """Each site's part cut (as its worker would), the request exporting: (folder, result) pairs for assemble_build."""
    footage_request.status = Status.EXPORTING
    footage_request.save(update_fields=["status"])
    parts = []
    for code in ("Q-HK", "Q-BD"):
        numbers = [number for number, site, _name, _queue in sites.item_sites(footage_request.pk) if site == code]
        folder = sites.part_folder(footage_request.reference, code)
        parts.append((folder, {**export.part_build(footage_request.pk, numbers, folder), "site": code}))
    return parts


def _package_names(release):
    with zipfile.ZipFile(release.package_path) as package:
        return sorted(name.rsplit("/", 1)[-1] for name in package.namelist() if "/data/" in name)


@pytest.mark.django_db
def test_a_request_with_cameras_at_two_sites_is_cut_by_each_and_packaged_once(world, footage, django_capture_on_commit_callbacks):
    _two_sites(world)
    write_segments(root=footage.root, camera="HB-902", start=footage.at(0), count=6, seconds=2)
    footage_request = run_export(world, _both_cameras(world, footage), django_capture_on_commit_callbacks)

    assert footage_request.status == Status.RELEASED
    release = footage_request.release
    assert sorted(release.files.filter(kind="video").values_list("camera_code", flat=True)) == ["HB-001", "HB-902"]
    names = _package_names(release)
    assert len(names) == 2 and names[0].startswith("01_HB-001") and names[1].startswith("02_HB-902")
    # Each site's clips are in the ledger with their hashes, and the package holds those very bytes.
    parts = AuditEvent.objects.filter(action=Action.REQUEST_EXPORT_PART, reference=footage_request.reference)
    by_site = {json.loads(event.payload)["site"]: json.loads(event.payload)["files"] for event in parts}
    assert set(by_site) == {"Q-HK", "Q-BD"}
    recorded = {f["name"]: f["sha256"] for files in by_site.values() for f in files}
    assert recorded == dict(release.files.filter(kind="video").values_list("name", "sha256"))
    assert set(ExportPart.objects.filter(footage_request=footage_request).values_list("status", flat=True)) == {"done"}
    # Once packaged, the sites' copies are gone.
    assert not sites.parts_root(footage_request.reference).exists()


@pytest.mark.django_db
def test_a_clip_that_arrives_changed_fails_the_export_by_name(world, footage, django_capture_on_commit_callbacks):
    _two_sites(world)
    write_segments(root=footage.root, camera="HB-902", start=footage.at(0), count=6, seconds=2)
    footage_request = _both_cameras(world, footage)
    parts = _parts_cut(footage_request)
    damaged = parts[1][0] / parts[1][1]["files"][0]["path"]
    content = bytearray(damaged.read_bytes())
    content[len(content) // 2] ^= 0xFF
    damaged.write_bytes(bytes(content))
    with pytest.raises(export.ExportFailed) as failure:
        export.assemble_build(footage_request.pk, parts)
    assert "arrival_mismatch" in str(failure.value) and damaged.name in str(failure.value)
    assert "SHA-256" in export.failure_text(str(failure.value))
    # Nothing was left half-built in the export storage.
    assert not list((Path(footage.exports) / ".staging").glob("*"))


@pytest.mark.django_db
def test_a_site_without_footage_for_its_camera_says_so_in_the_manifest(world, footage, django_capture_on_commit_callbacks):
    """A site that holds no recordings of its camera's window: the other site's clip is released, the item noted."""
    _two_sites(world)
    footage_request = run_export(world, _both_cameras(world, footage), django_capture_on_commit_callbacks)
    assert footage_request.status == Status.RELEASED
    assert list(footage_request.release.files.filter(kind="video").values_list("camera_code", flat=True)) == ["HB-001"]
    with zipfile.ZipFile(footage_request.release.package_path) as package:
        manifest = json.loads(package.read(f"{footage_request.reference}/manifest.json"))
    assert [item.get("note") for item in manifest["items"]] == [None, export.NOTE_NO_RECORDINGS]
    assert "number" not in manifest["items"][0] and "number" not in manifest["files"][0]


@pytest.mark.django_db
def test_a_hold_on_a_request_at_two_sites_is_preserved_once_both_copies_are_in(
    world, footage, django_capture_on_commit_callbacks
):
    _two_sites(world)
    write_segments(root=footage.root, camera="HB-902", start=footage.at(0), count=6, seconds=2)
    footage_request = _both_cameras(world, footage)
    with django_capture_on_commit_callbacks(execute=True):
        hold = holds.hold_place(actor=world.custodian, footage_request=footage_request, reason="Vụ án đang điều tra")
    hold.refresh_from_db()
    assert set(hold.sites_preserved) == {"Q-HK", "Q-BD"} and hold.preserved_at is not None
    assert hold.segments_held == sum(hold.sites_preserved.values()) > 0
    assert sorted(path.name for path in Path(hold.path).iterdir()) == ["HB-001", "HB-902"]
    # One site's copy delivered again changes nothing a report may have printed.
    preserved_at, held = hold.preserved_at, hold.segments_held
    holds.hold_preserve(hold.pk, "Q-BD")
    hold.refresh_from_db()
    assert (hold.preserved_at, hold.segments_held) == (preserved_at, held)


@pytest.mark.django_db
def test_one_site_copied_leaves_the_hold_not_yet_preserved(world, footage):
    _two_sites(world)
    footage_request = _both_cameras(world, footage)
    hold = LegalHold.objects.create(footage_request=footage_request, reason="Giữ", placed_by=world.custodian)
    holds.hold_preserve(hold.pk, "Q-HK")
    hold.refresh_from_db()
    assert hold.preserved_at is None and list(hold.sites_preserved) == ["Q-HK"]
    assert sorted(path.name for path in Path(hold.path).iterdir()) == ["HB-001"]


class Sent:
    """The export tasks sent to the broker, kept here instead (then run in this process, as a worker would)."""

    def __init__(self, monkeypatch):
        from requests import tasks

        self.calls = []
        for task in (tasks.export_part, tasks.export_assemble, tasks.export_request):
            monkeypatch.setattr(task, "apply_async", self._keep(task))

    def _keep(self, task):
        def keep(args, queue=None, **options):
            self.calls.append((task, tuple(args), queue))

        return keep

    def run(self, name):
        """Run, as its worker would, each kept task of that name; returns the queues they were sent to."""
        queues = []
        for task, args, queue in [call for call in self.calls if call[0].name.endswith(name)]:
            self.calls.remove((task, args, queue))
            task.apply(args=args)
            queues.append(queue)
        return queues


@pytest.mark.django_db
def test_a_camera_moved_to_another_site_while_its_part_waits_is_cut_there_once(
    world, footage, monkeypatch, django_capture_on_commit_callbacks
):
    site_a, _site_b = _two_sites(world)
    write_segments(root=footage.root, camera="HB-902", start=footage.at(0), count=6, seconds=2)
    sent = Sent(monkeypatch)
    footage_request = run_export(world, _both_cameras(world, footage), django_capture_on_commit_callbacks)
    assert sorted(queue for _task, _args, queue in sent.calls) == ["site-a", "site-b"]
    # Site B's recorder is retired: its camera now sits at site A. The sweep sends the waiting part afresh.
    world.second_camera.site = site_a
    world.second_camera.save(update_fields=["site"])
    with django_capture_on_commit_callbacks(execute=True):
        sites.export_dispatch(footage_request.pk)
    # Neither part was taken yet: both items are now site A's, one part.
    parts = ExportPart.objects.filter(footage_request=footage_request)
    assert [(part.site_code, part.items) for part in parts] == [("Q-HK", [1, 2])]
    # The first messages find their parts gone; the new one cuts each item once, then the package is made.
    with django_capture_on_commit_callbacks(execute=True):
        sent.run("export_part")
    with django_capture_on_commit_callbacks(execute=True):
        assert sent.run("export_assemble") == ["site-a"]
    footage_request.refresh_from_db()
    assert footage_request.status == Status.RELEASED
    assert sorted(footage_request.release.files.filter(kind="video").values_list("camera_code", flat=True)) == [
        "HB-001",
        "HB-902",
    ]
    assert len(_package_names(footage_request.release)) == 2


@pytest.mark.django_db
def test_parts_that_do_not_cover_every_item_once_are_never_packaged(world, footage):
    _two_sites(world)
    footage_request = _both_cameras(world, footage)
    FootageRequest.objects.filter(pk=footage_request.pk).update(status=Status.EXPORTING)
    folder = sites.part_folder(footage_request.reference, "Q-HK")
    only_first = {**export.part_build(footage_request.pk, [1], folder), "site": "Q-HK"}
    with pytest.raises(export.ExportFailed) as failure:
        export.assemble_build(footage_request.pk, [(folder, only_first)])
    assert "parts_incomplete" in str(failure.value)
    with pytest.raises(export.ExportFailed) as failure:
        export.assemble_build(footage_request.pk, [(folder, only_first), (folder, only_first)])
    assert "parts_incomplete" in str(failure.value)
    forged = {**only_first, "files": [{**only_first["files"][0], "path": "../../../etc/passwd"}]}
    with pytest.raises(export.ExportFailed) as failure:
        export.assemble_build(footage_request.pk, [(folder, forged)])
    assert "part_missing" in str(failure.value)


@pytest.mark.django_db
def test_a_site_cannot_take_the_default_queue(world, settings):
    site = RecorderSite(code="dg-x", name="Đầu ghi X", queue=settings.CELERY_TASK_DEFAULT_QUEUE)
    with pytest.raises(ValidationError) as refused:
        site.full_clean()
    assert "queue" in refused.value.message_dict


@pytest.mark.django_db
def test_the_sweep_removes_the_site_clips_of_an_export_that_ended(world, footage):
    footage_request = world.submitted()
    left = sites.parts_root(footage_request.reference) / "Q-HK-abc"
    (left / "data").mkdir(parents=True)
    (left / "data" / "01.mp4").write_bytes(b"x" * 100)
    old = time.time() - 3600
    os.utime(sites.parts_root(footage_request.reference), (old, old))
    assert staging_sweep() == 1
    assert not sites.parts_root(footage_request.reference).exists()
    event = AuditEvent.objects.get(action=Action.EXPORT_STAGING_REMOVE)
    assert json.loads(event.payload)["kind"] == "recorder site parts"


# Real workers on two site queues ------------------------------------------------------------------------------------


def _wait(predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@needs_worker
@pytest.mark.django_db(transaction=True)
def test_two_site_workers_each_cut_only_their_own_footage_and_a_site_down_waits(world, footage, tmp_path):
    run = uuid.uuid4().hex[:8]
    queue_a, queue_b = f"test-site-a-{run}", f"test-site-b-{run}"
    _two_sites(world, queue_a, queue_b)
    # Each site's worker mounts its own recordings only: HB-001's at site A, HB-902's at site B.
    root_b = tmp_path / "site-b"
    write_segments(root=root_b, camera="HB-902", start=footage.at(0), count=6, seconds=2)
    common = {
        "FOOTAGE_LAYOUT": "frigate",
        "EXPORT_ROOT": str(footage.exports),
        "LEGAL_HOLD_ROOT": str(footage.holds),
        "CELERY_QUEUE": f"test-central-{run}",
    }
    env_a = worker_environment(FOOTAGE_ROOT=str(footage.root), **common)
    env_b = worker_environment(FOOTAGE_ROOT=str(root_b), **common)
    before = app.conf.task_always_eager, app.conf.task_default_queue
    app.conf.task_always_eager, app.conf.task_default_queue = False, common["CELERY_QUEUE"]
    logs = [open(tmp_path / name, "wb") for name in ("worker-a.log", "worker-b.log")]  # noqa: SIM115 - closed below
    workers = []
    try:
        footage_request = _both_cameras(world, footage)
        workflow.request_export_start(actor=world.custodian, footage_request=footage_request)
        workers.append(start_worker(env_a, queue_a, loglevel="INFO", stdout=logs[0], stderr=subprocess.STDOUT))

        # Site B is down: site A's part is cut, site B's waits, and the request says which site it waits for.
        assert _wait(
            lambda: ExportPart.objects.filter(footage_request=footage_request, site_code="Q-HK", status="done").exists(), 90
        ), (tmp_path / "worker-a.log").read_text(errors="replace")[-3000:]
        footage_request.refresh_from_db()
        assert footage_request.status == Status.EXPORTING
        assert "Ba Đình" in export.stage_text(footage_request.export_stage)
        # The stall sweep, long after, sends B's part again and fails nothing.
        request_export_resume_stalled(now=footage_request.export_heartbeat + dt.timedelta(minutes=60))
        footage_request.refresh_from_db()
        assert footage_request.status == Status.EXPORTING

        workers.append(start_worker(env_b, queue_b, loglevel="INFO", stdout=logs[1], stderr=subprocess.STDOUT))
        assert _wait(lambda: FootageRequest.objects.get(pk=footage_request.pk).status == Status.RELEASED, 120), (
            tmp_path / "worker-b.log"
        ).read_text(errors="replace")[-3000:]
        footage_request.refresh_from_db()
        release = footage_request.release
        assert sorted(release.files.filter(kind="video").values_list("camera_code", flat=True)) == ["HB-001", "HB-902"]
        assert len(_package_names(release)) == 2
        # Each clip was cut by the worker of its own site (it could not have read the other's recordings).
        events = AuditEvent.objects.filter(action=Action.REQUEST_EXPORT_PART, reference=footage_request.reference)
        assert sorted(json.loads(event.payload)["site"] for event in events) == ["Q-BD", "Q-HK"]
        # The duplicate of B's part sent by the sweep found it done: one release, one event per site.
        assert events.count() == 2
    finally:
        for process in workers:
            stop_worker(process)
        for log in logs:
            log.close()
        app.conf.task_always_eager, app.conf.task_default_queue = before
        for queue in (queue_a, queue_b, common["CELERY_QUEUE"]):
            _forget_queue(queue)


@pytest.mark.django_db
def test_redacted_copies_are_made_at_each_site_and_the_originals_kept_once_packaged(
    world, footage, django_capture_on_commit_callbacks
):
    from requests import redactions

    _two_sites(world)
    write_segments(root=footage.root, camera="HB-902", start=footage.at(0), count=6, seconds=2)
    footage_request = _both_cameras(world, footage)
    redactions.redaction_require(actor=world.custodian, footage_request=footage_request, reason="Che biển số")
    for item in footage_request.items.all():
        redactions.redaction_region_add(
            actor=world.custodian,
            footage_request=footage_request,
            item=item,
            label="plate",
            at=0.0,
            box=(4, 146, 100, 20),
            track=False,
        )
    redactions.redaction_review(actor=world.custodian, footage_request=footage_request)
    footage_request = run_export(world, footage_request, django_capture_on_commit_callbacks)

    assert footage_request.status == Status.RELEASED
    release = footage_request.release
    copies = dict(release.files.filter(kind="video").values_list("name", "redacted_from"))
    originals = dict(release.files.filter(kind="original").values_list("name", "sha256"))
    assert len(copies) == 2 and set(copies.values()) == set(originals)
    assert all(name.endswith("_redacted.mp4") for name in copies) and len(_package_names(release)) == 2
    kept = Path(release.package_path).parent
    for name, sha256 in originals.items():
        assert export.sha256_file(kept / name)[0] == sha256
    assert not sites.parts_root(footage_request.reference).exists()


@pytest.mark.django_db
def test_an_original_that_arrives_changed_from_its_site_fails_the_export(world, footage):
    from requests import redactions

    _two_sites(world)
    write_segments(root=footage.root, camera="HB-902", start=footage.at(0), count=6, seconds=2)
    footage_request = _both_cameras(world, footage)
    redactions.redaction_require(actor=world.custodian, footage_request=footage_request, reason="Che mặt người đi đường")
    redactions.redaction_review(actor=world.custodian, footage_request=footage_request)
    parts = _parts_cut(footage_request)
    original = parts[0][0] / parts[0][1]["files"][0]["redacted_from"]["path"]
    content = bytearray(original.read_bytes())
    content[len(content) // 2] ^= 0xFF
    original.write_bytes(bytes(content))
    with pytest.raises(export.ExportFailed) as failure:
        export.assemble_build(footage_request.pk, parts)
    assert "arrival_mismatch" in str(failure.value) and original.name in str(failure.value)
    assert not list((Path(footage.exports) / ".staging").glob("*"))
