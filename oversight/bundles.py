"""Offline verification bundles from the web: asked for, built by a task into one ZIP, downloaded.

An overseer asks for a period on the verification page (a BundleRequest row
and a ledger event, then a task after commit). The task writes the same
bundle as `manage.py audit_export` into a temporary folder, adds a README
naming the published key fingerprint, and packs it as one ZIP under the
report storage; the ZIP's SHA-256 lands in the ledger, and so does every
download.
"""

import datetime as dt
import os
import tempfile
import uuid
import zipfile
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from audit import record_event
from audit.bundle import BundleError, BundleSummary, ledger_export
from audit.chain import format_fingerprint
from audit.models import Action, Outcome
from audit.selectors import current_signing_key_fingerprint
from governance.models import User
from governance.timefmt import DATE_TIME_SECONDS, file_stamp, local_time
from oversight.models import BundleRequest
from oversight.permissions import BundleRefused, ensure_can_take_bundle
from oversight.reports import progress_writer, sha256_of

ENGLISH_TITLE = "LEDGER BUNDLE — HOW TO VERIFY"


def _period(bundle):
    return {"from": bundle.date_from, "to": bundle.date_to}


def bundle_request(
    *, actor: User, date_from: dt.date, date_to: dt.date, http_request: HttpRequest | None = None
) -> BundleRequest:
    """Record a request for an offline bundle and queue its build after commit; a refusal is logged and raised."""
    try:
        ensure_can_take_bundle(actor)
    except BundleRefused as refusal:
        with transaction.atomic(durable=True):
            record_event(
                actor=actor,
                action=Action.BUNDLE_REQUEST,
                outcome=Outcome.DENIED,
                data={"from": date_from, "to": date_to, "reason": str(refusal)},
                http_request=http_request,
            )
        raise
    from oversight.tasks import bundle_build_task

    with transaction.atomic(durable=True):
        bundle = BundleRequest.objects.create(requested_by=actor, date_from=date_from, date_to=date_to)
        record_event(actor=actor, action=Action.BUNDLE_REQUEST, target=bundle, data=_period(bundle), http_request=http_request)
        # robust: with the broker down the bundle stays waiting and is dispatched again by the beat sweep.
        transaction.on_commit(lambda: bundle_build_task.delay(bundle.pk), robust=True)
    return bundle


def _failure_code(error):
    if isinstance(error, BundleError):
        return BundleRequest.Failure.NO_SIGNING_KEY
    if isinstance(error, OSError):
        return BundleRequest.Failure.STORAGE
    return BundleRequest.Failure.UNEXPECTED


def _record_failure(bundle, error):
    """A build that broke: the bundle says why (a code, translated when shown) and so does the ledger."""
    detail = f"{type(error).__name__}: {error}"
    failure = _failure_code(error)
    with transaction.atomic(durable=True):
        BundleRequest.objects.filter(pk=bundle.pk).update(
            status=BundleRequest.Status.FAILED, failure=failure, error=detail, finished_at=timezone.now()
        )
        record_event(
            actor=bundle.requested_by,
            action=Action.BUNDLE_GENERATE,
            target=bundle,
            outcome=Outcome.FAILURE,
            data={**_period(bundle), "failure": failure.value, "error": detail},
        )


def bundle_file_stem(bundle: BundleRequest, moment: dt.datetime) -> str:
    """goi-kiem-chung_20261101-20261130_20261203T141500+0700: the period and the build time in Vietnam time."""
    return f"goi-kiem-chung_{bundle.date_from:%Y%m%d}-{bundle.date_to:%Y%m%d}_{file_stamp(moment)}"


def bundle_build(bundle_id: int) -> BundleRequest:
    """Build a requested bundle (the task's body). Runs once: a redelivered task finds it ready and stops."""
    with transaction.atomic(durable=True):
        bundle = BundleRequest.objects.select_for_update().get(pk=bundle_id)
        if bundle.status == BundleRequest.Status.READY:
            return bundle
        bundle.status, bundle.progress, bundle.stage = BundleRequest.Status.RUNNING, 1, "start"
        bundle.failure, bundle.error = "", ""
        bundle.save(update_fields=["status", "progress", "stage", "failure", "error"])
    bundle = BundleRequest.objects.select_related("requested_by__agency").get(pk=bundle_id)
    progress = progress_writer(BundleRequest, bundle.pk)
    built_at = timezone.now()
    stem = bundle_file_stem(bundle, built_at)
    try:
        with tempfile.TemporaryDirectory(prefix="goi-kiem-chung-") as work:
            folder = Path(work) / stem
            progress(10, "events")
            summary = ledger_export(
                directory=folder, date_from=bundle.date_from, date_to=bundle.date_to, actor=bundle.requested_by
            )
            progress(60, "readme")
            fingerprints = _fingerprints(summary)
            readme = folder / "README.txt"
            readme.write_text(
                bundle_readme(
                    bundle,
                    summary,
                    stem=stem,
                    fingerprints=fingerprints,
                    built_at=built_at,
                    body=readme.read_text(encoding="utf-8"),
                ),
                encoding="utf-8",
            )
            progress(70, "zip")
            target = _pack(folder, _build_directory(bundle) / f"{stem}.zip")
        sha256, size = sha256_of(target), target.stat().st_size
    except Exception as error:
        _record_failure(bundle, error)
        raise
    with transaction.atomic(durable=True):
        bundle.status, bundle.progress, bundle.stage = BundleRequest.Status.READY, 100, "done"
        bundle.zip_path, bundle.zip_sha256, bundle.zip_size = str(target), sha256, size
        bundle.first_seq, bundle.last_seq, bundle.event_count = summary.first_seq, summary.last_seq, summary.event_count
        bundle.unanchored_from, bundle.unanchored_to = summary.unanchored or (None, None)
        bundle.fingerprints = fingerprints
        bundle.finished_at = timezone.now()
        bundle.save()
        record_event(
            actor=bundle.requested_by,
            action=Action.BUNDLE_GENERATE,
            target=bundle,
            data={
                **_period(bundle),
                "bundle": bundle.code,
                "file": target.name,
                "sha256": sha256,
                "bytes": bundle.zip_size,
                "first_seq": summary.first_seq,
                "last_seq": summary.last_seq,
                "event_count": summary.event_count,
                "unanchored": list(summary.unanchored) if summary.unanchored else None,
            },
        )
    return bundle


def _fingerprints(summary: BundleSummary) -> list[str]:
    """The fingerprints to check this bundle with: the keys that signed its checkpoints, else the current key."""
    fingerprints = [format_fingerprint(f) for f in summary.signer_fingerprints]
    if not fingerprints and current_signing_key_fingerprint():
        fingerprints = [current_signing_key_fingerprint()]
    return fingerprints


def _build_directory(bundle):
    """A folder of its own for each build: a build run twice (a redelivered task) never overwrites the other's files."""
    return Path(settings.REPORT_ROOT) / "bundles" / str(bundle.pk) / uuid.uuid4().hex[:12]


def _pack(folder: Path, target: Path) -> Path:
    """Zip `folder` (as one top-level folder) to `target`, written beside it and renamed: a reader never sees half a ZIP."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(dir=target.parent, prefix=f".{target.stem}-", suffix=".part")
    try:
        # Deflated: the events are JSON text and shrink several times over.
        with os.fdopen(handle, "wb") as out, zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(folder.iterdir()):
                archive.write(path, f"{folder.name}/{path.name}")
        os.replace(partial, target)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    return target


def bundle_readme(
    bundle: BundleRequest, summary: BundleSummary, *, stem: str, fingerprints: list[str], built_at: dt.datetime, body: str
) -> str:
    """README.txt of the ZIP: what this bundle is and the command to check it, then the bundle's own guide, Vietnamese first."""
    trusted = " ".join(f'--trusted-key "{f}"' for f in fingerprints) or '--trusted-key "DẤU_VÂN_TAY"'
    trusted_en = " ".join(f'--trusted-key "{f}"' for f in fingerprints) or '--trusted-key "FINGERPRINT"'
    keys = "\n".join(f"    {f}" for f in fingerprints) or "    (chưa có khóa ký nào được đăng ký / no signing key registered yet)"
    period = f"{bundle.date_from:%d/%m/%Y} – {bundle.date_to:%d/%m/%Y}"
    built = local_time(built_at, DATE_TIME_SECONDS)
    if summary.first_seq is None:
        span_vi, span_en = "không có sự kiện nào", "no events"
    else:
        span_vi = f"các sự kiện số {summary.first_seq} đến {summary.last_seq} ({summary.event_count} sự kiện)"
        span_en = f"events {summary.first_seq} to {summary.last_seq} ({summary.event_count} events)"
    title_vi, title_en = f"GÓI KIỂM CHỨNG NGOẠI TUYẾN {bundle.code}", f"OFFLINE VERIFICATION BUNDLE {bundle.code}"
    warning_vi = warning_en = ""
    if summary.unanchored:
        first, last = summary.unanchored
        warning_vi = (
            f"\nCHÚ Ý: các sự kiện {first}..{last} chưa được điểm kiểm chứng đã ký nào bảo đảm khi lập gói;\n"
            'verifier.py sẽ báo "NOT FULLY ANCHORED" (mã thoát 3). Hãy tải lại gói sau điểm kiểm chứng tiếp theo.\n'
        )
        warning_en = (
            f"\nWARNING: events {first}..{last} were fixed by no signed checkpoint when the bundle was built;\n"
            'verifier.py will say "NOT FULLY ANCHORED" (exit status 3). Download it again after the next checkpoint.\n'
        )
    vietnamese = f"""\
{title_vi}
{"=" * len(title_vi)}

Kỳ: {period} (giờ Việt Nam, UTC+7). Lập lúc {built}.
Gói gồm {span_vi} của nhật ký kiểm toán và các điểm kiểm chứng
đã ký (checkpoint; phần hướng dẫn chi tiết bên dưới gọi là "điểm chốt").
{warning_vi}
CÁCH KIỂM TRA (không cần mạng, không cần hệ thống):

  1. Giải nén tệp ZIP; được thư mục {stem}
  2. Cài thư viện một lần:  pip install cryptography   (Python 3.9 trở lên)
  3. Chạy:

    python {stem}/verifier.py {stem} {trusted}

  Dạng chung: python verifier.py <thư mục> --trusted-key <dấu vân tay>

DẤU VÂN TAY KHÓA KÝ mà trung tâm giám sát công bố (khóa đã ký các điểm
kiểm chứng của gói này):

{keys}

Đừng tin dấu vân tay chỉ vì nó được ghi trong tệp này: người sửa gói cũng
sửa được tệp này. Hãy đối chiếu với dấu vân tay in trên báo cáo giám sát,
biên bản giao nhận dữ liệu, trang nhật ký kiểm toán của hệ thống, hoặc do
trung tâm giám sát cung cấp trực tiếp.

Kết quả "OK" (mã thoát 0): chuỗi băm nguyên vẹn và mọi sự kiện của gói đều
được một điểm kiểm chứng do khóa tin cậy ký bảo đảm. Công cụ KHÔNG chứng
minh được gói có đủ mọi sự kiện của kỳ, cũng như những gì được ghi sau điểm
kiểm chứng cuối cùng. Chi tiết những gì được kiểm tra và không kiểm tra
được ở dưới.

"""
    english = f"""\
{title_en}
{"=" * len(title_en)}

Period: {period} (Vietnam time, UTC+7). Built at {built}.
The bundle holds {span_en} of the audit ledger and its signed checkpoints.
{warning_en}
HOW TO CHECK IT (no network, no access to the system):

  1. Unzip the file; you get the folder {stem}
  2. Install the library once:  pip install cryptography   (Python 3.9 or later)
  3. Run:

    python {stem}/verifier.py {stem} {trusted_en}

  In general: python verifier.py <folder> --trusted-key <fingerprint>

SIGNING KEY FINGERPRINT the monitoring centre publishes (the key that signed
this bundle's checkpoints):

{keys}

Do not trust a fingerprint because this file states it: whoever edits the
bundle can edit this file too. Compare it with the fingerprint printed on
the oversight reports, the hand-over records, the system's ledger page, or
given to you by the monitoring centre directly.

"OK" (exit status 0): the hash chain is intact and every event of the bundle
is fixed by a checkpoint signed by a trusted key. The tool does NOT prove
that the bundle holds every event of the period, nor anything recorded
after its last checkpoint. What it checks and what it cannot is set out in
detail below.

"""
    before, title, after = body.partition(ENGLISH_TITLE)
    if not title:
        return vietnamese + body + "\n\n" + english
    return vietnamese + before.rstrip("\n") + "\n\n\n" + english + title + after


def bundle_download(*, actor: User, bundle: BundleRequest, http_request: HttpRequest | None = None) -> tuple[Path, str]:
    """Record a download of the bundle's ZIP and return (path, file name)."""
    path = Path(bundle.zip_path)
    with transaction.atomic(durable=True):
        record_event(
            actor=actor,
            action=Action.BUNDLE_DOWNLOAD,
            target=bundle,
            data={"bundle": bundle.code, "file": path.name, "sha256": bundle.zip_sha256},
            http_request=http_request,
        )
    return path, path.name
