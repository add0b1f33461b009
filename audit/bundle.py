"""Export a range of the ledger as a bundle an oversight body can verify offline with verifier.py."""

import datetime as dt
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.db.models import Count, Max, Min
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import chain, record_event, verifier
from audit.chain import ENVELOPE_FIELDS, FORMAT, format_time
from audit.checkpoints import SigningKeyError, load_signing_key, public_key_pem
from audit.ledger_check import event_rows
from audit.models import Action, AuditEvent, Checkpoint, SigningKey

README = """\
GÓI DỮ LIỆU NHẬT KÝ KIỂM TOÁN — HƯỚNG DẪN KIỂM TRA
====================================================

Gói này chứa một đoạn liên tục của nhật ký kiểm toán (chuỗi băm SHA-256) và
các điểm chốt (checkpoint) được ký bằng Ed25519. Có thể tự kiểm tra mà không
cần truy cập hệ thống:

    pip install cryptography
    python verifier.py . --trusted-key "DẤU VÂN TAY"

(chạy trong thư mục này; cần Python 3.9 trở lên). DẤU VÂN TAY là dấu vân tay
khóa ký nhật ký kiểm toán (64 chữ số thập lục phân, viết thành 16 nhóm 4 ký
tự) mà quý cơ quan nhận được qua kênh khác, không lấy từ gói này: in trên các
báo cáo giám sát và biên bản giao nhận dữ liệu của hệ thống, hoặc do trung
tâm giám sát cung cấp. Có thể lặp lại --trusted-key, hoặc dùng
--trusted-keys TỆP (mỗi dòng một dấu vân tay, dòng bắt đầu bằng # là ghi chú).

Công cụ tính lại mã băm của từng sự kiện, kiểm tra số thứ tự liên tục, liên
kết với sự kiện trước, chữ ký của các điểm chốt, thời hạn hiệu lực của khóa
đã ký (keys.json, đối chiếu với các sự kiện đăng ký và thu hồi khóa trong
chuỗi) và khóa đó có nằm trong số dấu vân tay được tin cậy hay không. Mọi
tệp trong gói, kể cả khóa công khai, đều có thể bị thay cùng lúc; chỉ dấu
vân tay nhận từ kênh khác mới gắn gói với hệ thống.

Một sự kiện chỉ được chữ ký bảo đảm khi có một điểm chốt đã ký ở chính số
thứ tự của nó hoặc sau nó; các sự kiện sau điểm chốt cuối cùng chỉ được
chuỗi băm chứng minh, và người giữ gói có thể sửa chúng mà không bị phát
hiện. Vì vậy gói kéo dài các sự kiện quá cuối khoảng thời gian đã yêu cầu,
đến điểm chốt đã ký đầu tiên ở hoặc sau sự kiện cuối cùng của khoảng đó;
manifest.json ghi khoảng được yêu cầu (requested_range), khoảng được điểm
chốt bảo đảm (anchored_range) và khoảng chưa được bảo đảm
(unanchored_range, null nếu không có).

Mã thoát: 0 "OK" — chuỗi nguyên vẹn, mọi sự kiện của gói đều được một điểm
chốt do khóa được tin cậy ký bảo đảm; 1 "FAILED" — có sai lệch, kèm số thứ
tự đầu tiên bị hỏng (kể cả điểm chốt do khóa không được tin cậy ký, hoặc một
tệp không đọc được); 2 — tham số sai (dấu vân tay không hợp lệ); 3 — không
có sai lệch nhưng chưa kiểm tra được đầy đủ: "SIGNER NOT CHECKED" (không có
dấu vân tay tin cậy; dấu vân tay của các khóa đã ký được in ra để đối chiếu),
"NOT FULLY ANCHORED" (có sự kiện không được điểm chốt đã ký nào bảo đảm),
"KEY REGISTER MISSING" (thiếu keys.json) hoặc "NOTHING PROVED" (gói không
có sự kiện nào). Công cụ không kiểm tra được gói có chứa đủ mọi sự kiện của
khoảng thời gian quý cơ quan yêu cầu hay không, cũng như những gì được ghi
sau điểm chốt cuối cùng: hãy đối chiếu khoảng thời gian và số thứ tự được in
ra với yêu cầu của mình.

Tệp trong gói: events.jsonl (mỗi dòng một sự kiện), checkpoints.jsonl (điểm
chốt đã ký), public_key.pem (các khóa công khai đã đăng ký), keys.json (sổ
đăng ký khóa: mã khóa, dấu vân tay, thời điểm bắt đầu hiệu lực và thu hồi),
manifest.json (phạm vi, số lượng, mã băm đầu và cuối; không được ký),
verifier.py (công cụ kiểm tra) và chain.py (định dạng chuỗi băm mà
verifier.py dùng; để hai tệp cạnh nhau).


LEDGER BUNDLE — HOW TO VERIFY
=============================

This bundle holds a contiguous range of the audit ledger (a SHA-256 hash
chain) and the Ed25519-signed checkpoints that cover it. Verify it without
access to the system:

    pip install cryptography
    python verifier.py . --trusted-key "FINGERPRINT"

(run in this directory; Python 3.9 or later). FINGERPRINT is the fingerprint
of the ledger signing key (64 hexadecimal digits, usually written as 16
groups of 4) that you obtained out of band, not from this bundle: it is
printed on the system's oversight reports and hand-over records, or given by
the monitoring centre. --trusted-key may be repeated; --trusted-keys FILE
reads one fingerprint per line (lines starting with # are comments).

The tool recomputes every event's hash, checks that sequence numbers run
without gaps, that each event links to the one before, each checkpoint's
signature, the validity period of the key that signed it (keys.json, checked
against the key register and retire events in the chain), and that this key
is among the trusted fingerprints. Every file in the bundle, public keys
included, can be replaced together; only a fingerprint obtained out of band
ties the bundle to the system.

A signature vouches for an event only when a signed checkpoint sits at its
sequence number or after it; events after the last checkpoint are proved by
the hash chain only, and whoever holds the bundle could change them unseen.
So the bundle carries events beyond the end of the requested period, up to
the first signed checkpoint at or after the period's last event;
manifest.json records the requested range (requested_range), the range the
checkpoints fix (anchored_range) and the range they do not
(unanchored_range, null when there is none).

Exit status: 0 "OK" — the chain is intact and every event of the bundle is
fixed by a checkpoint signed by a trusted key; 1 "FAILED" — something is
broken, and the first broken sequence number is named (a checkpoint signed
by a key that is not trusted, or a file that cannot be read, included);
2 — bad arguments (a malformed fingerprint); 3 — nothing is broken but not
everything was checked: "SIGNER NOT CHECKED" (no trusted fingerprint given;
the fingerprints of the keys that signed are printed to compare), "NOT FULLY
ANCHORED" (some events are fixed by no signed checkpoint), "KEY REGISTER
MISSING" (no keys.json) or "NOTHING PROVED" (the bundle holds no events).
The tool cannot tell whether the bundle holds every event of the period you
asked for, nor what was recorded after its last checkpoint: compare the
period and the sequence numbers it prints with your request.

Files: events.jsonl (one event per line), checkpoints.jsonl (signed
checkpoints), public_key.pem (the registered public keys), keys.json (the
key register: key id, fingerprint, valid from, retired at), manifest.json
(ranges, counts, first and last hashes; not signed), verifier.py (the
verification tool) and chain.py (the hash-chain format verifier.py uses;
keep the two files side by side).
"""


def unanchored_notice(first_seq: int, last_seq: int) -> str:
    """The warning at the top of README.txt when events first_seq..last_seq are fixed by no signed checkpoint."""
    return f"""\
CHÚ Ý: CÁC SỰ KIỆN {first_seq}..{last_seq} CHƯA ĐƯỢC ĐIỂM CHỐT ĐÃ KÝ NÀO BẢO ĐẢM
Khi xuất gói này, chưa có điểm chốt đã ký nào ở hoặc sau sự kiện cuối cùng
của khoảng được yêu cầu. Các sự kiện {first_seq}..{last_seq} chỉ được chuỗi băm
chứng minh: người giữ gói có thể sửa chúng mà không bị phát hiện, và
verifier.py kết thúc với mã 3 ("NOT FULLY ANCHORED"). Hãy xuất lại gói sau khi
hệ thống ký điểm chốt tiếp theo.

WARNING: EVENTS {first_seq}..{last_seq} ARE FIXED BY NO SIGNED CHECKPOINT
When this bundle was written, no signed checkpoint existed at or after the
last event of the requested range. Events {first_seq}..{last_seq} are proved by the
hash chain only: whoever holds the bundle could change them unseen, and
verifier.py exits with status 3 ("NOT FULLY ANCHORED"). Export the bundle
again once the system has signed its next checkpoint.


"""


class BundleError(ValueError):
    pass


@dataclass
class BundleSummary:
    directory: Path
    first_seq: int | None
    last_seq: int | None  # the bundle's last event: the anchoring checkpoint's, when there is one
    event_count: int
    checkpoint_count: int
    actor_event_count: int | None
    last_hash: str | None
    signer_fingerprints: list = field(default_factory=list)  # of the keys that signed the exported checkpoints
    requested_last_seq: int | None = None  # the last event of the requested period
    anchored_last_seq: int | None = None  # the last event a signed checkpoint in the bundle fixes
    unanchored: tuple | None = None  # (first, last) sequence numbers of the events no signed checkpoint fixes


def _day_bounds(date_from, date_to):
    zone = ZoneInfo(settings.TIME_ZONE)
    start = dt.datetime.combine(date_from, dt.time.min, tzinfo=zone)
    end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    return start, end


def _key_register(checkpoints, using):
    """(public_key.pem text, keys.json content): every registered key, and any other key that signed an exported checkpoint."""
    registered = list(SigningKey.objects.using(using).order_by("valid_from", "id"))
    pems = list(dict.fromkeys([k.public_key_pem.strip() for k in registered] + [c.public_key_pem.strip() for c in checkpoints]))
    if not pems:
        try:
            pems = [public_key_pem(load_signing_key()).strip()]
        except SigningKeyError:
            raise BundleError(_("There is no ledger signing key to put in the bundle; run audit_checkpoint first."))
    register = {"format": FORMAT, "keys": [k.as_json() for k in registered]}
    return "\n".join(pems) + "\n", register


def _range(first, last):
    return None if first is None or last is None else {"first_seq": first, "last_seq": last}


def _check_directory(directory):
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise BundleError(_("%(path)s already exists and is not an empty directory.") % {"path": directory})


def ledger_export(
    *,
    directory: str | os.PathLike,
    date_from: dt.date,
    date_to: dt.date,
    actor_username: str | None = None,
    actor: AbstractBaseUser | None = None,
    using: str = "default",
) -> BundleSummary:
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
    first_seq, requested_last = span["first"], span["last"]
    last_seq, checkpoints, anchored_last, unanchored = requested_last, [], None, None
    if first_seq is not None:
        # A signature fixes only the events up to its checkpoint: the bundle runs on past the period to the first
        # signed checkpoint at or after its last event, or else says which events no checkpoint fixes.
        anchor = Checkpoint.objects.using(using).filter(seq__gte=requested_last).order_by("seq").first()
        if anchor is not None:
            last_seq = anchor.seq
        checkpoints = list(Checkpoint.objects.using(using).filter(seq__gte=first_seq, seq__lte=last_seq).order_by("seq"))
        anchored_last = checkpoints[-1].seq if checkpoints else None
        if anchored_last != last_seq:
            unanchored = (first_seq if anchored_last is None else anchored_last + 1, last_seq)
    keys, register = _key_register(checkpoints, using)

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
        (work / "keys.json").write_text(json.dumps(register, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
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
            "requested_range": _range(first_seq, requested_last),
            "anchored_range": _range(first_seq, anchored_last),
            "unanchored_range": _range(*unanchored) if unanchored else None,
            "generated_at": format_time(timezone.now()),
        }
        if unanchored:
            manifest["warning"] = (
                f"Events {unanchored[0]}..{unanchored[1]} are fixed by no signed checkpoint: "
                "they are proved by the hash chain only, and verifier.py exits with status 3."
            )
        if subject is not None:
            manifest["actor"] = subject.get_username()
            manifest["actor_event_count"] = span["count"]
        (work / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        shutil.copyfile(verifier.__file__, work / "verifier.py")
        shutil.copyfile(chain.__file__, work / "chain.py")
        readme = unanchored_notice(*unanchored) + README if unanchored else README
        (work / "README.txt").write_text(readme, encoding="utf-8")
        if directory.exists():
            directory.rmdir()  # checked empty above
        os.rename(work, directory)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise

    with transaction.atomic(using=using, durable=True):
        record_event(
            actor=actor,
            action=Action.LEDGER_EXPORT,
            data={
                "from": manifest["from"],
                "to": manifest["to"],
                "actor_filter": manifest.get("actor", ""),
                "first_seq": first_seq,
                "last_seq": last_seq,
                "requested_last_seq": requested_last,
                "anchored_last_seq": anchored_last,
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
        signer_fingerprints=[f for f in dict.fromkeys(c.fingerprint for c in checkpoints) if f],
        requested_last_seq=requested_last,
        anchored_last_seq=anchored_last,
        unanchored=unanchored,
    )
