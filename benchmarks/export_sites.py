"""A release cut by two recorder sites' own workers, from the export's start to a downloadable package, beside cp.

The demo's two recorder sites each get a camera whose recordings only that site's worker mounts (a FOOTAGE_ROOT of
its own): half of --minutes of 1080p (one-minute segments at a camera's constant bitrate) per site. One approved
request asks for both windows. Three real Celery workers run over the Redis broker, on queues named for this run:
one per site and the central one that packages. Timed, once every worker is ready:

- the release: from `request_export_start` (the custodian's button) until the request is released with its
  package on disk, through both sites' parts (each cut, hashed and decode-checked at its site, every frame decoded)
  and the packaging (each clip hashed again on arrival);
- each site's part, as its worker took and finished it;
- cp of each site's segments, and of both, each followed by a sync (as every write of the export is).

    createdb -h 127.0.0.1 -U postgres cg_bench_sites
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cg_bench_sites python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cg_bench_sites python benchmarks/export_sites.py [--minutes 60]

Needs PostgreSQL (the workers are other processes) and Redis (CELERY_BROKER_URL, default redis://127.0.0.1:6379/0);
loads the demo into the database it is given: use a scratch one.
"""

import argparse
import datetime as dt
import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
# This run's own folders and queues, read by this process and its workers alike.
RUN = uuid.uuid4().hex[:8]
SCRATCH = Path(tempfile.mkdtemp(prefix="export-sites-"))
CENTRAL = f"bench-{RUN}-central"
os.environ.update(
    CELERY_QUEUE=CENTRAL,
    FOOTAGE_LAYOUT="frigate",
    EXPORT_ROOT=str(SCRATCH / "exports"),
    LEGAL_HOLD_ROOT=str(SCRATCH / "holds"),
)

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from config.celery import app  # noqa: E402
from governance.models import Camera, DataCategory, LegalBasis, RecorderSite, User  # noqa: E402
from requests import demo, workflow  # noqa: E402
from requests.models import ExportPart, FootageRequest, Status  # noqa: E402

sys.path.insert(0, str(ROOT / "benchmarks"))
from export_stream_copy import lay_out, one_minute_1080p  # noqa: E402

DONE = {Status.RELEASED}
STOPPED = {Status.EXPORT_FAILED, Status.DAMAGE_HELD}


def log(message=""):
    print(message, flush=True)


def start_worker(queue, env, log_path):
    """A real worker on `queue` (solo pool, as a site runs one export at a time)."""
    handle = open(log_path, "wb")  # noqa: SIM115 - closed with the process by stop()
    process = subprocess.Popen(  # noqa: S603 - the project's own worker
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--loglevel=INFO", "-Q", queue],
        cwd=ROOT,
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT,
    )
    return process, handle, log_path


def wait_ready(workers, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(" ready." in path.read_text(errors="replace") for _process, _handle, path in workers):
            return
        if any(process.poll() is not None for process, _handle, _path in workers):
            break
        time.sleep(0.2)
    for _process, _handle, path in workers:
        log(f"--- {path.name}\n{path.read_text(errors='replace')[-2000:]}")
    sys.exit("a worker did not start")


def stop(workers):
    for process, _handle, _path in workers:
        process.terminate()
    for process, handle, _path in workers:
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
        handle.close()


def timed_copy(sources, target):
    """cp -r of the folders into target, then a sync: seconds."""
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    os.sync()
    started = time.perf_counter()
    subprocess.run(["cp", "-r", *map(str, sources), str(target)], check=True)  # noqa: S603, S607 - the comparison
    os.sync()
    return time.perf_counter() - started


def demo_request(cameras, start, minutes):
    """The demo's requester files one request for both cameras' windows; its reviewer and approver pass it."""
    users = {user.username: user for user in User.objects.filter(username__in=[demo.REQUESTER, demo.REVIEWER, demo.APPROVER])}
    video = DataCategory.objects.get(code="video")
    window = (start + dt.timedelta(seconds=0.5), start + dt.timedelta(minutes=minutes))
    items = [{"camera": camera, "start": window[0], "end": window[1], "data_category": video} for camera in cameras]
    with transaction.atomic():
        footage_request = workflow.request_file(
            actor=users[demo.REQUESTER],
            items=items,
            letter=demo._letter("901/CV-BENCH"),
            submit=True,
            legal_basis=LegalBasis.objects.get(code=demo.BASIS),
            letter_number="901/CV-BENCH",
            letter_date=timezone.localdate(),
            case_reference="",
            purpose="Đo thời gian trích xuất qua hai điểm lưu trữ",
            urgency="normal",
        )
    workflow.request_review(
        actor=users[demo.REVIEWER], footage_request=footage_request, recommend_approval=True, reason="Đủ căn cứ"
    )
    workflow.request_approve(actor=users[demo.APPROVER], footage_request=footage_request, reason="Đồng ý")
    footage_request.refresh_from_db()
    return footage_request


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, default=60, help="footage in all, half at each site (default 60)")
    parser.add_argument("--bitrate", default="4M", help="camera bitrate of the 1080p stream (default 4M)")
    parser.add_argument("--timeout", type=int, default=1200, help="seconds to wait for the release")
    args = parser.parse_args()
    if connection.vendor != "postgresql" or not settings.CELERY_BROKER_URL.startswith("redis://"):
        shutil.rmtree(SCRATCH, ignore_errors=True)
        sys.exit("This benchmark needs PostgreSQL (DATABASE_URL) and a Redis broker (CELERY_BROKER_URL).")

    call_command("seed_demo", stdout=io.StringIO())
    call_command("demo_sites", stdout=io.StringIO())
    sites = list(RecorderSite.objects.filter(code__in=["dg-hk-1", "dg-hk-2"]).order_by("code"))
    cameras = list(
        Camera.objects.filter(code__startswith="HK-HB-", status=Camera.Status.ACTIVE, has_video=True).order_by("code")[:2]
    )
    # Queues of this run only, so that no other worker on this broker takes the parts; one camera at each site.
    for site, camera in zip(sites, cameras, strict=True):
        RecorderSite.objects.filter(pk=site.pk).update(queue=f"bench-{RUN}-{site.code}")
        Camera.objects.filter(pk=camera.pk).update(site=site)
    sites = list(RecorderSite.objects.filter(pk__in=[site.pk for site in sites]).order_by("code"))
    half = args.minutes // 2
    start = (timezone.now() - dt.timedelta(hours=3)).replace(second=0, microsecond=0)

    scratch = SCRATCH
    workers = []
    try:
        log(f"writing one minute of 1080p at {args.bitrate}b/s ...")
        minute = one_minute_1080p(scratch / "seed", cameras[0].code, start, args.bitrate)
        segments = {
            site.code: lay_out(minute, scratch / site.code, camera.code, start, half)
            for site, camera in zip(sites, cameras, strict=True)
        }
        total = sum(path.stat().st_size for paths in segments.values() for path in paths)
        log(f"{half} one-minute segments at each of {len(sites)} sites, {total / 1e6:.0f} MB of 1080p in all")

        common = dict(os.environ)
        workers.append(
            start_worker(CENTRAL, {**common, "FOOTAGE_ROOT": str(scratch / "central-has-none")}, scratch / "central.log")
        )
        for site in sites:
            env = {**common, "FOOTAGE_ROOT": str(scratch / site.code)}
            workers.append(start_worker(site.queue, env, scratch / f"{site.code}.log"))
        wait_ready(workers)

        footage_request = demo_request(cameras, start, half)
        custodian = User.objects.get(username=dict(demo.journey())["custodian"])
        os.sync()
        started = time.perf_counter()
        workflow.request_export_start(actor=custodian, footage_request=footage_request)
        deadline = started + args.timeout
        while time.perf_counter() < deadline:
            status = FootageRequest.objects.filter(pk=footage_request.pk).values_list("status", flat=True).get()
            if status in DONE | STOPPED:
                break
            time.sleep(0.05)
        release_seconds = time.perf_counter() - started
        released_at = timezone.now()
        footage_request.refresh_from_db()
        if footage_request.status not in DONE:
            for _process, _handle, path in workers:
                log(f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}")
            log(f"release: FAIL — the request is {footage_request.status} after {release_seconds:.0f} s")
            return 1
        release = footage_request.release
        package = Path(release.package_path)
        if not package.is_absolute():
            package = Path(settings.EXPORT_ROOT) / package

        copies = {site.code: timed_copy([scratch / site.code], scratch / "cp" / site.code) for site in sites}
        both = timed_copy([scratch / site.code for site in sites], scratch / "cp" / "both")
        log(f"\nrequest {footage_request.reference}: {len(sites)} sites, {half} min of 1080p each, one package")
        log(f"{'step':<46}{'seconds':>9}  {'cp of the same segments':>24}  {'speed relative to cp':>21}")
        parts = list(ExportPart.objects.filter(footage_request=footage_request).order_by("site_code"))
        for part in parts:
            # From its dispatch (the workers were idle: no time in the queue) to its clips in shared storage.
            seconds = (part.finished_at - part.created_at).total_seconds()
            cp = copies[part.site_code]
            frames = sum(clip["integrity"]["frames_decoded"] for clip in part.result.get("files", []))
            label = f"part at {part.site_code} (cut, hashes, decode check)"
            log(f"{label:<46}{seconds:>9.2f}  {cp:>22.2f} s  {cp / seconds:>21.2f}  ({frames:,} frames decoded)")
        packaging = (released_at - max(part.finished_at for part in parts)).total_seconds()
        log(f"{'packaging: last part in to released (at most)':<46}{packaging:>9.2f}")
        label = "release: start to downloadable package"
        log(f"{label:<46}{release_seconds:>9.2f}  {both:>22.2f} s  {both / release_seconds:>21.2f}")
        log(
            f"release through the sites' workers: {release_seconds:.1f} s from start to package, cp {both:.1f} s, "
            f"{both / release_seconds:.2f} of cp's speed, every frame decoded at the sites (a figure, no budget)"
        )
        log(
            f"package {package.name}: {release.package_size / 1e6:.0f} MB, on disk: {package.is_file()}; "
            f"the sites' workers decoded every frame of their clips (the release's figure includes it; "
            f"benchmarks/export_stream_copy.py gives the release without it, and the decode check alone)"
        )
        return 0 if package.is_file() else 1
    finally:
        stop(workers)
        for queue in [CENTRAL, *(site.queue for site in sites)]:
            with app.connection_for_write() as conn:
                conn.default_channel.queue_delete(queue)
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
