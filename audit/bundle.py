"""Export a range of the ledger as a bundle an oversight body can verify offline with verifier.py."""

import datetime as dt
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Max, Min
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import record_event, verifier
from audit.checkpoints import SigningKeyError, load_signing_key, public_key_pem
from audit.models import Action, AuditEvent, Checkpoint
from audit.verification import event_rows
from audit.verifier import ENVELOPE_FIELDS, FORMAT, format_time

README = """\
GÓI DỮ LIỆU NHẬT KÝ KIỂM TOÁN — HƯỚNG DẪN KIỂM TRA
====================================================

Gói này chứa một đoạn liên tục của nhật ký kiểm toán (chuỗi băm SHA-256) và
các điểm chốt (checkpoint) được ký bằng Ed25519. Có thể tự kiểm tra mà không
cần truy cập hệ thống:

    pip install cryptography
    python verifier.py .

(chạy trong thư mục này; cần Python 3.9 trở lên). Công cụ tính lại mã băm
của từng sự kiện, kiểm tra số thứ tự liên tục, liên kết với sự kiện trước,
và chữ ký của các điểm chốt với khóa công khai public_key.pem. Kết quả "OK"
(mã thoát 0) nghĩa là chuỗi nguyên vẹn; "FAILED" (mã thoát 1) kèm số thứ tự
đầu tiên bị hỏng.

Tệp trong gói: events.jsonl (mỗi dòng một sự kiện), checkpoints.jsonl (điểm
chốt đã ký), public_key.pem (khóa công khai), manifest.json (phạm vi, số
lượng, mã băm đầu và cuối), verifier.py (công cụ kiểm tra).


LEDGER BUNDLE — HOW TO VERIFY
=============================

This bundle holds a contiguous range of the audit ledger (a SHA-256 hash
chain) and the Ed25519-signed checkpoints that cover it. Verify it without
access to the system:

    pip install cryptography
    python verifier.py .

(run in this directory; Python 3.9 or later). The tool recomputes every
event's hash, checks that sequence numbers run without gaps, that each event
links to the one before, and that each checkpoint's signature verifies with
public_key.pem. "OK" (exit status 0) means the chain is intact; "FAILED"
(exit status 1) names the first broken sequence number.

Files: events.jsonl (one event per line), checkpoints.jsonl (signed
checkpoints), public_key.pem (public key), manifest.json (range, counts,
first and last hashes), verifier.py (the verification tool).
"""


class BundleError(ValueError):
    pass


@dataclass
class BundleSummary:
    directory: Path
    first_seq: int | None
    last_seq: int | None
    event_count: int
    checkpoint_count: int
    actor_event_count: int | None
    last_hash: str | None


def _day_bounds(date_from, date_to):
    zone = ZoneInfo(settings.TIME_ZONE)
    start = dt.datetime.combine(date_from, dt.time.min, tzinfo=zone)
    end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    return start, end


def _public_keys(checkpoints):
    """PEM text of every key that signed an exported checkpoint, or of the current signing key."""
    pems = list(dict.fromkeys(c.public_key_pem.strip() for c in checkpoints))
    if not pems:
        try:
            pems = [public_key_pem(load_signing_key()).strip()]
        except SigningKeyError:
            latest = Checkpoint.objects.order_by("-seq").values_list("public_key_pem", flat=True).first()
            if latest is None:
                raise BundleError(_("There is no ledger signing key to put in the bundle; run audit_checkpoint first."))
            pems = [latest.strip()]
    return "\n".join(pems) + "\n"


def _check_directory(directory):
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise BundleError(_("%(path)s already exists and is not an empty directory.") % {"path": directory})


def ledger_export(*, directory, date_from, date_to, actor_username=None, actor=None, using="default"):
    """Write the events of whole days date_from..date_to (settings.TIME_ZONE) and their checkpoints to directory."""
    directory = Path(directory)
    if date_from > date_to:
        raise BundleError(_("The start date %(start)s is after the end date %(end)s.") % {"start": date_from, "end": date_to})
    _check_directory(directory)
    start, end = _day_bounds(date_from, date_to)
    events = AuditEvent.objects.using(using).filter(occurred_at__gte=start, occurred_at__lt=end)
    subject = None
    if actor_username:
        subject = get_user_model().objects.using(using).filter(username=actor_username).first()
        if subject is None:
            raise BundleError(_("There is no user named %(name)s.") % {"name": actor_username})
        # The chain is proved only over contiguous events, so the bundle holds
        # the span from this user's first to last event in the period, with
        # everyone else's events in between.
        events = events.filter(actor_id=subject.pk)
    span = events.aggregate(first=Min("seq"), last=Max("seq"), count=Count("seq"))
    first_seq, last_seq = span["first"], span["last"]
    checkpoints = []
    if first_seq is not None:
        checkpoints = list(Checkpoint.objects.using(using).filter(seq__gte=first_seq, seq__lte=last_seq).order_by("seq"))
        following = Checkpoint.objects.using(using).filter(seq__gt=last_seq).order_by("seq").first()
        if following is not None:
            checkpoints.append(following)
    keys = _public_keys(checkpoints)

    directory.parent.mkdir(parents=True, exist_ok=True)
    # Written next to the target and renamed at the end: a failed export
    # leaves no half bundle behind.
    work = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
    try:
        count, prev_hash, last_hash = 0, None, None
        with (work / "events.jsonl").open("w", encoding="utf-8") as handle:
            if first_seq is not None:
                for envelope, payload, stored in event_rows(using=using, from_seq=first_seq, to_seq=last_seq):
                    record = dict(zip(ENVELOPE_FIELDS, envelope, strict=True))
                    record["payload"] = payload
                    record["hash"] = stored
                    handle.write(json.dumps(record, ensure_ascii=False) + "\n")
                    if prev_hash is None:
                        prev_hash = envelope[12]
                    count += 1
                    last_hash = stored
        with (work / "checkpoints.jsonl").open("w", encoding="utf-8") as handle:
            for checkpoint in checkpoints:
                handle.write(json.dumps(checkpoint.as_json(), ensure_ascii=False) + "\n")
        (work / "public_key.pem").write_text(keys, encoding="utf-8")
        manifest = {
            "format": FORMAT,
            "from": date_from.isoformat(),
            "to": date_to.isoformat(),
            "time_zone": settings.TIME_ZONE,
            "first_seq": first_seq,
            "last_seq": last_seq,
            "event_count": count,
            "prev_hash": prev_hash,
            "last_hash": last_hash,
            "generated_at": format_time(timezone.now()),
        }
        if subject is not None:
            manifest["actor"] = subject.get_username()
            manifest["actor_event_count"] = span["count"]
        (work / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        shutil.copyfile(verifier.__file__, work / "verifier.py")
        (work / "README.txt").write_text(README, encoding="utf-8")
        if directory.exists():
            directory.rmdir()  # checked empty above
        os.rename(work, directory)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise

    with transaction.atomic(using=using):
        record_event(
            actor=actor,
            action=Action.LEDGER_EXPORT,
            data={
                "from": manifest["from"],
                "to": manifest["to"],
                "actor_filter": manifest.get("actor", ""),
                "first_seq": first_seq,
                "last_seq": last_seq,
                "event_count": count,
                "checkpoint_count": len(checkpoints),
                "last_hash": last_hash,
                "directory": directory.name,
            },
        )
    return BundleSummary(
        directory=directory,
        first_seq=first_seq,
        last_seq=last_seq,
        event_count=count,
        checkpoint_count=len(checkpoints),
        actor_event_count=span["count"] if subject is not None else None,
        last_hash=last_hash,
    )
