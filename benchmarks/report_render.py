"""How long does `manage.py audit_report --format pdf` take, command to file, at 5,000 and at 20,000 releases?

    python benchmarks/report_render.py                  # SQLite in a scratch folder
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cg_report python benchmarks/report_render.py

Fills a scratch database (freshly migrated, or after `manage.py seed_demo`: it
refuses one that holds requests other than the demo's and its own) with a
city's releases over 80 days: 20,000 released requests with their items,
decisions, files and download links, a tenth as many rejected or withdrawn,
the history the workflow keeps (each request's filing with its basis, urgency
and items as filed, every status it moved into and when), and the ledger
events they would have written, hash-chained. Its references are taken from
the application's own counter, so they never collide with the demo's or with
a request filed later.

Then, for a period holding 5,000 releases and for one holding all 20,000, it
runs `manage.py audit_report --format pdf --out FILE` in a process of its own
(every figure, the register, the PDF, its PAdES signature, the number and the
ledger record, as an operator runs it) and prints, the fastest run of each:

- the time, the pages and pages per second (bar: at least 100 at 20,000);
- the 20,000-release time over the 5,000-release time (bar: at most 4.5);
- the command's peak memory at both sizes (bar: flat, the register is
  streamed rather than held).
"""

import argparse
import collections
import datetime as dt
import hashlib
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
if "DATABASE_URL" not in os.environ:
    os.environ["VAR_DIR"] = os.environ.get("VAR_DIR") or tempfile.mkdtemp(prefix="report-bench-")

import django  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from audit.chain import GENESIS_HASH, canonical_json, event_hash  # noqa: E402
from audit.models import Action, AuditEvent  # noqa: E402
from governance.models import Agency, Area, Camera, DataCategory, LegalBasis, RegulationVersion, User  # noqa: E402
from oversight.models import Report  # noqa: E402
from oversight.report_data import ReportScope  # noqa: E402
from requests.demo import REQUESTS as DEMO_REQUESTS  # noqa: E402
from requests.models import (  # noqa: E402
    Decision,
    DownloadGrant,
    FootageRequest,
    ReferenceCounter,
    Release,
    ReleaseFile,
    RequestItem,
    Status,
    StatusChange,
    Submission,
    SubmittedItem,
)

DAYS = 80
MARK = "BENCH"
# What `manage.py seed_demo` files: a database holding only these (and the fill) is a scratch one.
DEMO_PURPOSES = [purpose for _number, purpose, *_rest in DEMO_REQUESTS]
AGENCY_NAMES = [
    "Công an phường Hàng Bạc",
    "Công an phường Hàng Đào",
    "Công an phường Lý Thái Tổ",
    "Công an phường Tràng Tiền",
    "Đội Cảnh sát giao thông số 1",
    "Đội Cảnh sát hình sự Công an quận Hoàn Kiếm",
    "Viện kiểm sát nhân dân quận Hoàn Kiếm",
    "Tòa án nhân dân quận Hoàn Kiếm",
    "Phòng Cảnh sát hình sự (PC02) Công an thành phố",
    "Ủy ban nhân dân phường Hàng Trống",
]
BASES = [
    ("TTHS_THU_THAP_CHUNG_CU", "Thu thập chứng cứ trong vụ án hình sự", True),
    ("TTHS_XAC_MINH_TIN_BAO", "Kiểm tra, xác minh tố giác, tin báo về tội phạm", True),
    ("VPHC_TTATGT", "Xử lý vi phạm hành chính về trật tự, an toàn giao thông", False),
]
OFFICIALS = ["Nguyễn Văn An", "Trần Thị Bích Ngọc", "Lê Hoàng Phúc", "Phạm Thu Hương"]


def log(message=""):
    print(message, flush=True)


def fill(releases, seed=7):
    # Filled before: the demo data seeded ahead of the fill is part of it.
    if FootageRequest.objects.filter(purpose__startswith=MARK).exists():
        log("filled already")
        return
    if FootageRequest.objects.exclude(purpose__startswith=MARK).exclude(purpose__in=DEMO_PURPOSES).exists():
        sys.exit("This database holds real requests: point DATABASE_URL at a scratch database.")
    rng = random.Random(seed)
    started = time.perf_counter()
    end = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0) - dt.timedelta(days=1)
    start = end - dt.timedelta(days=DAYS)
    if not LegalBasis.objects.exists():
        call_command("seed_demo", verbosity=0)
    with transaction.atomic():
        city = Area.objects.filter(level=Area.Level.PROVINCE).first()
        ward = Area.objects.filter(level=Area.Level.WARD).first()
        centre = Agency.objects.create(
            code="bench-ioc", name_vi="Trung tâm giám sát camera", kind=Agency.Kind.MONITORING_CENTRE, area=city
        )
        agencies = [
            Agency.objects.create(code=f"bench-{n}", name_vi=name, kind=Agency.Kind.WARD_POLICE, area=ward)
            for n, name in enumerate(AGENCY_NAMES)
        ]
        requesters = [
            User.objects.create(username=f"bench-req-{a.pk}-{k}", last_name="Đỗ", first_name=f"Minh {k}", agency=a)
            for a in agencies
            for k in range(2)
        ]
        approvers = []
        for n, name in enumerate(OFFICIALS):
            last, _, first = name.partition(" ")
            approvers.append(User.objects.create(username=f"bench-appr-{n}", last_name=last, first_name=first, agency=centre))
        video = DataCategory.objects.get(code="video")
        version = RegulationVersion.objects.exclude(published_at=None).order_by("-published_at").first()
        bases = list(LegalBasis.objects.filter(code__in=[code for code, _title, _case in BASES]))
        cameras = Camera.objects.bulk_create(
            Camera(code=f"BK-{n:04d}", name=f"Ngã tư số {n}", area=ward, managing_agency=centre, retention_days=30)
            for n in range(400)
        )
    total = releases + releases // 10
    moments = sorted(office_hours(start + dt.timedelta(seconds=rng.uniform(0, DAYS * 86400)), rng) for _ in range(total))
    numbers = reserve_references(collections.Counter(moment.year for moment in moments))
    requests, plan = [], []
    for n, submitted in enumerate(moments):
        agency_index = rng.randrange(len(agencies))
        basis = rng.choice(bases)
        released = n % 11 != 0
        decided = office_hours(submitted + dt.timedelta(hours=rng.uniform(0.5, 40)), rng)
        status = (
            (Status.CLOSED if rng.random() < 0.6 else Status.RELEASED)
            if released
            else rng.choice([Status.REJECTED, Status.WITHDRAWN])
        )
        requests.append(
            FootageRequest(
                reference=f"YC-{submitted.year}-{next(numbers[submitted.year]):06d}",
                agency=agencies[agency_index],
                requester=requesters[agency_index * 2 + n % 2],
                legal_basis=basis,
                letter_number=f"{100 + n % 900}/CV-CAP",
                letter_date=submitted.date(),
                case_reference=f"VA-{n % 5000}/2026" if basis.case_number_required else "",
                purpose=f"{MARK} xác minh vụ việc số {n}",
                urgency="normal",
                priority=2,
                status=status,
                regulation_version=version,
                content_hash=hashlib.sha256(str(n).encode()).hexdigest(),
                first_submitted_at=submitted,
                submitted_at=submitted,
                due_at=submitted + dt.timedelta(hours=120),
                decided_at=decided,
            )
        )
        plan.append((released, decided))
    FootageRequest.objects.bulk_create(requests, batch_size=2000)
    requests = list(FootageRequest.objects.filter(purpose__startswith=MARK).order_by("submitted_at"))
    items, decisions, release_rows = [], [], []
    for footage_request, (released, decided) in zip(requests, plan, strict=True):
        for k in range(1 + footage_request.pk % 3):
            begin = footage_request.submitted_at - dt.timedelta(hours=2 + k)
            items.append(
                RequestItem(
                    footage_request=footage_request,
                    camera=cameras[(footage_request.pk * 7 + k) % len(cameras)],
                    start=begin,
                    end=begin + dt.timedelta(minutes=30 + 15 * k),
                    data_category=video,
                )
            )
        approver = approvers[footage_request.pk % len(approvers)]
        decisions.append(
            Decision(
                footage_request=footage_request,
                step=Decision.Step.APPROVAL,
                actor=approver,
                actor_agency=centre,
                outcome=Decision.Outcome.APPROVE if released else Decision.Outcome.REJECT,
                reason="" if released else "Không đủ căn cứ pháp lý",
                content_hash=footage_request.content_hash,
                regulation_version=version,
            )
        )
        if released:
            token = hashlib.md5(footage_request.reference.encode()).hexdigest()  # noqa: S324 - an id, not a secret
            release_rows.append(
                Release(
                    footage_request=footage_request,
                    token=token,
                    package_path=f"/exports/{token}.zip",
                    package_sha256=hashlib.sha256(token.encode()).hexdigest(),
                    package_size=50_000_000,
                    manifest_sha256=hashlib.sha256(b"m" + token.encode()).hexdigest(),
                    handover_sha256=hashlib.sha256(b"h" + token.encode()).hexdigest(),
                    purge_after=decided + dt.timedelta(days=30),
                )
            )
    RequestItem.objects.bulk_create(items, batch_size=5000)
    fill_history(requests, plan, items, random.Random(seed + 1))
    _bulk_decisions(decisions)
    Release.objects.bulk_create(release_rows, batch_size=2000)
    # created_at is auto_now_add: set the release time to an hour after the decision.
    released_at = {r.pk: released_after(d) for r, (ok, d) in zip(requests, plan, strict=True) if ok}
    release_list = list(Release.objects.filter(footage_request__purpose__startswith=MARK))
    for release in release_list:
        release.created_at = released_at[release.footage_request_id]
    Release.objects.bulk_update(release_list, ["created_at"], batch_size=2000)
    files, grants = [], []
    items_of = {}
    for item in RequestItem.objects.filter(footage_request__purpose__startswith=MARK).select_related("camera"):
        items_of.setdefault(item.footage_request_id, []).append(item)
    for release in release_list:
        for number, item in enumerate(items_of[release.footage_request_id], start=1):
            # Named as the export names its files.
            name = f"{number:02d}_{item.camera.code}_{item.start:%Y%m%dT%H%M%SZ}_{item.end:%Y%m%dT%H%M%SZ}.mp4"
            files.append(
                ReleaseFile(
                    release=release,
                    kind=ReleaseFile.Kind.VIDEO,
                    name=name,
                    sha256=hashlib.sha256(f"{release.pk}{name}".encode()).hexdigest(),
                    size=20_000_000,
                    camera_code=item.camera.code,
                    first_timestamp=item.start,
                    last_timestamp=item.end,
                    duration=(item.end - item.start).total_seconds(),
                )
            )
        for kind, name in ((ReleaseFile.Kind.MANIFEST, "manifest.json"), (ReleaseFile.Kind.HANDOVER, "bien-ban-giao-nhan.pdf")):
            files.append(
                ReleaseFile(
                    release=release,
                    kind=kind,
                    name=name,
                    sha256=hashlib.sha256(f"{release.pk}{name}".encode()).hexdigest(),
                    size=40_000,
                )
            )
        grants.append(
            DownloadGrant(
                release=release,
                user_id=requesters[0].pk,
                expires_at=release.created_at + dt.timedelta(hours=72),
                max_downloads=5,
                downloads=release.pk % 4,
            )
        )
    ReleaseFile.objects.bulk_create(files, batch_size=5000)
    DownloadGrant.objects.bulk_create(grants, batch_size=5000)
    events = fill_ledger(requests, plan, approvers)
    log(
        f"filled {len(requests):,} requests, {len(release_list):,} releases, {len(files):,} files, {events:,} ledger events "
        f"in {time.perf_counter() - started:.0f} s"
    )


def reserve_references(per_year):
    """Numbers for `per_year[year]` requests of each year, taken from the counter the application files with: never
    one the demo data holds, nor one a request filed later gets."""
    numbers = {}
    with transaction.atomic():
        for year, count in per_year.items():
            ReferenceCounter.objects.bulk_create([ReferenceCounter(year=year)], ignore_conflicts=True)
            counter = ReferenceCounter.objects.select_for_update().get(year=year)
            numbers[year] = iter(range(counter.last + 1, counter.last + count + 1))
            counter.last += count
            counter.save(update_fields=["last"])
    return numbers


def office_hours(moment, rng):
    """Most work happens between 07:30 and 17:30 on weekdays; one moment in ten stays where it fell."""
    local = timezone.localtime(moment)
    if rng.random() < 0.1 or (local.weekday() < 5 and 7 <= local.hour < 17):
        return moment
    day = local.date() + dt.timedelta(days=1 if local.hour >= 17 else 0)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(7, 30))) + dt.timedelta(minutes=rng.uniform(0, 540))


def released_after(decided):
    """The export runs soon after the decision (within the hour, on the same working day where it can)."""
    released = decided + dt.timedelta(minutes=40)
    return released if timezone.localtime(released).hour < 18 else decided + dt.timedelta(minutes=5)


def fill_history(requests, plan, items, rng):
    """What the workflow keeps besides the ledger: the filing with its items, and every status change with its time.

    Each request was drafted shortly before it was filed (its `created_at` moves there) and filed once; a released one
    was exported and released as `released_after` says, and a closed one had its receipt confirmed hours later."""
    submissions, changes = [], []
    for footage_request, (released, decided) in zip(requests, plan, strict=True):
        submitted = footage_request.submitted_at
        footage_request.created_at = submitted - dt.timedelta(minutes=rng.uniform(10, 90))
        submissions.append(
            Submission(
                footage_request=footage_request,
                number=1,
                submitted_at=submitted,
                submitted_by_id=footage_request.requester_id,
                due_at=footage_request.due_at,
                content_hash=footage_request.content_hash,
                legal_basis_id=footage_request.legal_basis_id,
                urgency=footage_request.urgency,
            )
        )
        moves = [(Status.DRAFT, footage_request.created_at), (Status.SUBMITTED, submitted)]
        if footage_request.status != Status.WITHDRAWN or rng.random() < 0.5:
            moves.append((Status.IN_REVIEW, submitted + (decided - submitted) * rng.uniform(0.2, 0.6)))
        if released:
            handed_over = released_after(decided)
            moves += [(Status.APPROVED, decided), (Status.EXPORTING, decided + dt.timedelta(minutes=2))]
            moves.append((Status.RELEASED, handed_over))
            if footage_request.status == Status.CLOSED:
                footage_request.closed_at = handed_over + dt.timedelta(hours=rng.uniform(2, 48))
                moves.append((Status.CLOSED, footage_request.closed_at))
        else:
            moves.append((footage_request.status, decided))
        previous = ""
        for status, at in moves:
            changes.append(StatusChange(footage_request=footage_request, from_status=previous, to_status=status, at=at))
            previous = status
    FootageRequest.objects.bulk_update(requests, ["created_at", "closed_at"], batch_size=2000)
    Submission.objects.bulk_create(submissions, batch_size=5000)
    submission_of = {s.footage_request_id: s.pk for s in submissions}
    SubmittedItem.objects.bulk_create(
        (
            SubmittedItem(
                submission_id=submission_of[item.footage_request_id],
                camera_id=item.camera_id,
                area_id=item.camera.area_id,
                start=item.start,
                end=item.end,
                data_category_id=item.data_category_id,
            )
            for item in items
        ),
        batch_size=5000,
    )
    StatusChange.objects.bulk_create(changes, batch_size=5000)


def _bulk_decisions(decisions):
    Decision.objects.bulk_create(decisions, batch_size=2000)
    created = {d.footage_request_id: d.footage_request.decided_at for d in decisions}
    rows = list(Decision.objects.filter(footage_request__purpose__startswith=MARK))
    for row in rows:
        row.created_at = created[row.footage_request_id]
    Decision.objects.bulk_update(rows, ["created_at"], batch_size=2000)


def fill_ledger(requests, plan, approvers):
    """The events the workflow would have written (submit, view, approve, release, download), chained as record_event does."""
    moments = []
    for footage_request, (released, decided) in zip(requests, plan, strict=True):
        moments.append((footage_request.submitted_at, Action.REQUEST_SUBMIT, footage_request, footage_request.requester))
        moments.append((decided - dt.timedelta(minutes=20), Action.REQUEST_VIEW, footage_request, approvers[0]))
        action = Action.REQUEST_APPROVE if released else Action.REQUEST_REJECT
        moments.append((decided, action, footage_request, approvers[footage_request.pk % len(approvers)]))
        if released:
            moments.append((decided + dt.timedelta(hours=1), Action.RELEASE_CREATE, footage_request, None))
            moments.append((decided + dt.timedelta(hours=3), Action.RELEASE_DOWNLOAD, footage_request, footage_request.requester))
    moments.sort(key=lambda m: m[0])
    last = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
    seq, prev = last if last else (0, GENESIS_HASH)
    batch, written = [], 0
    for occurred_at, action, footage_request, actor in moments:
        seq += 1
        payload = canonical_json({"reference": footage_request.reference})
        event = AuditEvent(
            seq=seq,
            occurred_at=occurred_at,
            actor_id=actor.pk if actor else None,
            actor_username=actor.username if actor else "",
            actor_agency="",
            actor_roles=[],
            action=action.value,
            target_type="requests.footagerequest",
            target_id=str(footage_request.pk),
            reference=footage_request.reference,
            outcome="success",
            client_ip="",
            payload=payload,
            prev_hash=prev,
        )
        event.hash = event_hash(event.envelope(), payload)
        prev = event.hash
        batch.append(event)
        if len(batch) == 5000:
            AuditEvent.objects.bulk_create(batch)
            written += len(batch)
            batch = []
    AuditEvent.objects.bulk_create(batch)
    return written + len(batch)


def period_with(releases):
    """The first days of the filled span holding at least `releases` releases."""
    times = list(
        Release.objects.filter(footage_request__purpose__startswith=MARK)
        .order_by("created_at")
        .values_list("created_at", flat=True)[:releases]
    )
    first, last = timezone.localtime(times[0]).date(), timezone.localtime(times[-1]).date()
    return ReportScope(date_from=first, date_to=last)


# `manage.py audit_report …`, then the process's own peak memory on stderr's last line. Read from the process itself:
# the peak the kernel reports to a parent counts the pages the child shared with it before it started the command.
COMMAND = """
import resource, sys
from django.core.management import execute_from_command_line
try:
    execute_from_command_line(["manage.py", *sys.argv[1:]])
finally:
    try:
        peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
    except OSError:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"peak-kb {peak}", file=sys.stderr)
"""


def run_command(scope, folder, env):
    """`manage.py audit_report --format pdf` for the period, in a process of its own: seconds, pages, releases, peak
    RSS in MB, the file's size and the process's CPU seconds (the database server's are not counted)."""
    out = Path(folder) / f"report-{scope.date_from:%Y%m%d}-{scope.date_to:%Y%m%d}.pdf"
    command = [sys.executable, "-c", COMMAND, "audit_report", "--format", "pdf", "--out", str(out)]
    command += ["--from", scope.date_from.isoformat(), "--to", scope.date_to.isoformat()]
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    errors = process.stderr.read().decode()
    _pid, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.stderr.close()
    if status or not out.exists():
        sys.exit(f"audit_report failed:\n{errors}")
    peak = int(errors.strip().splitlines()[-1].split()[1]) / 1024
    report = Report.objects.order_by("-pk").first()
    cpu = usage.ru_utime + usage.ru_stime
    return seconds, report.pages, report.releases, peak, out.stat().st_size, cpu


def measure(scope, runs, folder, env):
    """The fastest of `runs` runs, and the highest peak memory among them."""
    results = [run_command(scope, folder, env) for _ in range(runs)]
    seconds, pages, releases, _peak, size, cpu = min(results)
    return {
        "seconds": seconds,
        "pages": pages,
        "releases": releases,
        "peak": max(r[3] for r in results),
        "bytes": size,
        "cpu": cpu,
        "range": (min(r[0] for r in results), max(r[0] for r in results)),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--releases", type=int, default=20_000)
    parser.add_argument("--small", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=2, help="runs per size; the fastest counts")
    options = parser.parse_args()
    call_command("migrate", verbosity=0)
    fill(options.releases)
    folder = tempfile.mkdtemp(prefix="report-bench-out-")
    # The command keeps its reports in REPORT_ROOT as well: a scratch folder unless one is given.
    env = {**os.environ, "REPORT_ROOT": os.environ.get("REPORT_ROOT") or str(Path(folder) / "kept")}
    log(f"database: {connection.vendor}; load {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs; best of {options.runs} runs")
    results = {}
    for size in (options.small, options.releases):
        scope = period_with(size)
        r = results[size] = measure(scope, options.runs, folder, env)
        log(
            f"{r['releases']:>6,} releases ({scope.date_from:%d/%m}–{scope.date_to:%d/%m}): audit_report, command to file, "
            f"{r['seconds']:.2f} s (runs {r['range'][0]:.2f}–{r['range'][1]:.2f} s) for {r['pages']:,} pages, "
            f"{r['pages'] / r['seconds']:.0f} pages/s (its own CPU time {r['cpu']:.1f} s), {r['bytes'] / 1e6:.1f} MB signed PDF; peak memory {r['peak']:.0f} MB"
        )
    small, large = results[options.small], results[options.releases]
    ratio = large["seconds"] / small["seconds"]
    rate = large["pages"] / large["seconds"]
    growth = (large["peak"] - small["peak"]) / max(1, large["releases"] - small["releases"]) * 1000
    log(
        f"\n{options.releases:,} releases: {rate:.0f} pages/s command to file (bar: at least 100) — {'met' if rate >= 100 else 'MISSED'}"
    )
    log(
        f"{options.releases:,} vs {options.small:,} releases: {ratio:.2f}x the time (bar: at most 4.5x) — {'met' if ratio <= 4.5 else 'MISSED'}"
    )
    log(
        f"peak memory {small['peak']:.0f} MB at {small['releases']:,} releases, {large['peak']:.0f} MB at {large['releases']:,} "
        f"({growth:.1f} MB more per 1,000 releases)"
    )


if __name__ == "__main__":
    main()
