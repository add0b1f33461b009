"""Cutting approved windows out of the footage and packing them for hand-over.

`export_build` does the slow work outside any transaction, in a staging folder
of its own: per item it lists the source's segments and cuts the exact window
by stream copy (no re-encoding; the clip may begin at the keyframe before the
window, and the manifest says so) straight into the zip package of a
BagIt-style bag, hashing everything on the way; then it writes manifest.json
and the hand-over record into the package and ends it. The workflow then
turns the result into the one Release of the request, or throws it away when
another delivery of the same task got there first.

Languages: manifest.json is for programs as much as for people, so its keys,
notes and gap causes are fixed English values; the hand-over record is in
Vietnamese. What the request page shows while an export runs, and why one
failed, is stored as a code with its parameters and put into words in the
reader's language when shown (`stage_text`, `failure_text`).
"""

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import OperationalError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from audit.chain import format_time
from documents.models import DocumentSeries
from documents.numbering import document_heading
from governance.timefmt import file_stamp
from requests import integrity, mp4cut, redactor
from requests.filecopy import hash_descriptor
from requests.media import decode_check, hole_threshold, keyframe_times, probe_duration
from requests.models import FootageRequest, LegalHold
from requests.mp4boxes import mp4_h264_configurations
from requests.selectors import binding_approvals, filed_scope, narrowed_scope
from requests.sources import source_for
from requests.sources.files import SegmentFileSource
from requests.staging import Staging, staging_open
from requests.verification import verification_token_for_request
from requests.zipwriter import PackageWriter, finish_bag

# Blocks small enough to stay in the CPU cache between being read, hashed and written: copying through
# user space in larger ones costs more memory bandwidth than it saves in system calls.
CHUNK = 256 * 1024
# Threads hashing source segments while ffmpeg copies them: every core but the one ffmpeg keeps.
HASH_WORKERS = max(1, min(4, (os.cpu_count() or 2) - 1))
# Two segments closer than this are continuous; a wider hole is a gap.
GAP_TOLERANCE = 1.0
FFMPEG_TIMEOUT = 6 * 3600
HANDOVER_NAME = "bien-ban-giao-nhan.pdf"
# A clip's path as a recorder site records it: in the bag's data folder, one name, nothing hidden.
CLIP_PATH = re.compile(r"data/[^/\\\x00.][^/\\\x00]*")
# The original of a redacted copy, kept by the centre outside the package.
ORIGINAL_PATH = re.compile(r"originals/[^/\\\x00.][^/\\\x00]*")
# How a clip was cut, as manifest.json says (fixed values): both copy the recorded frames unchanged.
CUT_BY_SAMPLE_COPY = "mp4 sample copy"
CUT_BY_FFMPEG = "ffmpeg concat stream copy"

logger = logging.getLogger(__name__)


# Notes the manifest gives an item without a file (fixed values; NOTES puts them into words).
NOTE_NO_RECORDINGS = "no recordings for this camera"
NOTE_BEFORE_RETENTION = "window lies entirely before the oldest footage kept"
NOTE_UNREADABLE = "no readable footage in this window"


# Words shown to people -------------------------------------------------------

STAGES = {
    "cutting": _("Cutting camera %(camera)s (%(n)d of %(total)d)"),
    "checking": _("Decoding every frame of clip %(n)d of %(total)d to check it"),
    "writing": _("Writing the manifest and the hand-over record"),
    "packing": _("Packing the zip file"),
    "gathering": _("Gathering clip %(n)d of %(total)d from the recorder sites, its hash checked"),
    "waiting_sites": _("Waiting for the export worker of %(sites)s"),
    "redacting": _("Making the redacted copy of camera %(camera)s: frame %(frame)d of %(frames)d"),
}
FAILURES = {
    "cut_failed": _("The footage of camera %(camera)s could not be cut: %(error)s"),
    "no_footage": _("No footage could be found for any approved window (%(reasons)s)."),
    "gave_up": _("The export stopped after repeated errors (%(error)s)."),
    "arrival_mismatch": _("The clip %(file)s did not arrive from its recorder site as it was cut there (its SHA-256 differs)."),
    "part_missing": _(
        "The clip %(file)s cut at recorder site %(site)s is not in the shared export storage where this worker reads it."
    ),
    "parts_incomplete": _("The recorder sites' clips do not cover every approved item exactly once: export again."),
    "redaction_failed": _("The redacted copy of camera %(camera)s could not be made: %(error)s"),
}
NOTES = {
    NOTE_NO_RECORDINGS: _("no recordings for this camera"),
    NOTE_BEFORE_RETENTION: _("the window lies entirely before the oldest footage kept"),
    NOTE_UNREADABLE: _("no readable footage in this window"),
}


def coded(code, **params):
    """A stage or a failure as stored on the request: its code and parameters, in no particular language."""
    return json.dumps({"code": code, **params}, ensure_ascii=False, sort_keys=True)


def _words(value, table):
    try:
        data = json.loads(value)
        template = table[data.pop("code")]
    except (TypeError, ValueError, KeyError, AttributeError):
        # Written before stages and failures were stored as codes, or plain text: shown as it is.
        return value or ""
    if isinstance(data.get("reasons"), list):
        data["reasons"] = "; ".join(f"{camera}: {NOTES.get(note, note)}" for camera, note in data["reasons"])
    try:
        return str(template) % data
    except (KeyError, TypeError, ValueError):
        return value


def stage_text(value):
    """The export stage stored on a request, in the active language."""
    return _words(value, STAGES)


def failure_text(value):
    """Why an export failed, as stored on the request, in the active language."""
    return _words(value, FAILURES)


class ExportFailed(Exception):
    """A failure a retry cannot cure (no footage, window outside retention, unreadable footage), as a code and parameters."""

    def __init__(self, code, **params):
        self.code = code
        self.params = params
        super().__init__(coded(code, **params))


class ExportInterrupted(Exception):
    """A failure worth retrying (disk, database, a subprocess that timed out)."""


TRANSIENT_ERRORS = (ExportInterrupted, OSError, OperationalError, subprocess.TimeoutExpired)


@dataclass
class BuiltExport:
    staging: Staging
    package: Path
    package_sha256: str
    package_size: int
    manifest_sha256: str
    handover_sha256: str
    files: list = field(default_factory=list)
    handover_number: str = ""  # the hand-over record's official number ("12/BBGN-TTGS"), printed in it
    gaps: int = 0
    damaged_files: int = 0  # clips in which the decode check found damage
    # The originals of redacted copies, kept by the centre beside the package (None: the package holds the originals).
    originals: Path | None = None


def sha256_file(path):
    """(SHA-256, size) of a file, read once in cache-sized blocks (hashlib lets other threads run meanwhile)."""
    with open(path, "rb", buffering=0) as handle:
        return hash_descriptor(handle.fileno(), os.fstat(handle.fileno()).st_size)


def flush_to_disk(path):
    """Wait until the file's bytes are on the disk (evidence must survive a power cut once it is released)."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def hash_and_flush(path):
    """sha256_file(path) while another thread flushes the file to disk: reading from the page cache and
    writing it back do not wait for each other, so the two cost little more than the slower of them."""
    with ThreadPoolExecutor(max_workers=1) as flusher:
        flushed = flusher.submit(flush_to_disk, path)
        facts = sha256_file(path)
        flushed.result()
    return facts


def _fetch(source, segment, target):
    """Copy a remote source's segment to a local file, hashing it on the way: (SHA-256, size)."""
    digest = hashlib.sha256()
    size = 0
    with source.open_segment(segment) as src, open(target, "wb") as dst:
        while chunk := src.read(CHUNK):
            digest.update(chunk)
            dst.write(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _iso(moment):
    return format_time(moment) if moment else None


# Cutting ---------------------------------------------------------------------


def find_gaps(segments, start, end):
    """Holes in [start, end) that no readable segment covers, each with its cause."""
    unreadable = [s for s in segments if not s.readable]
    gaps, cursor = [], start
    for segment in (s for s in segments if s.readable):
        if (segment.start - cursor).total_seconds() > GAP_TOLERANCE:
            gaps.append((cursor, min(segment.start, end)))
        cursor = max(cursor, segment.end)
        if cursor >= end:
            break
    if (end - cursor).total_seconds() > GAP_TOLERANCE:
        gaps.append((cursor, end))
    described = []
    for gap_start, gap_end in gaps:
        broken = [Path(s.locator).name for s in unreadable if gap_start <= s.start < gap_end]
        described.append(
            {
                "from": _iso(gap_start),
                "to": _iso(gap_end),
                "seconds": round((gap_end - gap_start).total_seconds(), 3),
                "cause": "unreadable segment" if broken else "no recording",
                "unreadable_segments": broken,
            }
        )
    return described


def _concat_line(path):
    return "file '" + str(path).replace("'", "'\\''") + "'"


def stream_copy_command(listing, out_path, *, packets_as_recorded, created=None):
    """The ffmpeg command that joins and trims the segments named in an ffconcat listing, without re-encoding.

    With packets_as_recorded the H.264 packets are copied byte for byte;
    otherwise (the segments' parameter sets differ) ffmpeg repeats the
    parameter sets in the stream so that every part still decodes. `created`
    (aware) is when the clip's first frame was recorded: the MP4 headers'
    creation time, in whole seconds as MP4 counts them.
    """
    return [
        settings.FFMPEG_BINARY,
        "-nostdin",
        "-nostats",
        "-v",
        "error",
        "-y",
        "-f",
        "concat",
        "-safe",
        "0",
        *(["-auto_convert", "0"] if packets_as_recorded else []),
        "-i",
        str(listing),
        "-map",
        "0:v?",
        "-map",
        "0:a?",
        "-c",
        "copy",
        *(["-metadata", f"creation_time={created.astimezone(dt.UTC):%Y-%m-%dT%H:%M:%SZ}"] if created else []),
        str(out_path),
    ]


def _same_h264_configuration(paths):
    configurations = {mp4_h264_configurations(path) for path in paths}
    return len(configurations) == 1 and None not in configurations


@dataclass
class CutPlan:
    """What ffmpeg is given to cut one window, and what is known of the window's edges before it runs."""

    readable: list
    paths: list
    fetched: dict
    listing: Path
    out_path: Path
    inpoint: float
    keyframe: float
    packets_as_recorded: bool

    @property
    def start(self):
        """The wall-clock time of the clip's first frame shown: the keyframe it starts at."""
        return self.readable[0].start + dt.timedelta(seconds=self.keyframe)

    def command(self):
        return stream_copy_command(self.listing, self.out_path, packets_as_recorded=self.packets_as_recorded, created=self.start)


def local_segments(source, readable, workdir):
    """Paths ffmpeg and the cutter can open for the readable segments, and {index: (SHA-256, size)} of those fetched.

    A remote source's segments are fetched once (hashed on the way), then cut locally.
    """
    paths, fetched = [], {}
    for index, segment in enumerate(readable):
        local = source.local_path(segment)
        if local is None:
            local = Path(workdir) / f"segment-{index:05d}.mp4"
            fetched[index] = _fetch(source, segment, local)
        paths.append(local)
    return paths, fetched


def window_edges(readable, start, end):
    """(inpoint, outpoint): seconds into the first segment where the window starts, into the last where it ends
    (None when the window runs past the last segment's end)."""
    inpoint = max(0.0, (start - readable[0].start).total_seconds())
    outpoint = (end - readable[-1].start).total_seconds()
    return inpoint, (outpoint if outpoint < readable[-1].duration else None)


def prepare_cut(*, source, segments, start, end, out_path, workdir, local=None):
    """The ffmpeg plan for a window: local paths of the readable segments, the ffconcat listing and what the manifest
    says of the window's edges. `local` is (paths, fetched) when the segments are already at hand.

    The concat demuxer starts each file where the one before it ends; a file
    followed by a gap (a hole wider than GAP_TOLERANCE) is given the duration
    that makes the next one start at its own wall-clock time, so that the
    clip keeps the gap instead of closing it up, as the sample-copy cut does.
    """
    readable = [s for s in segments if s.readable]
    paths, fetched = local or local_segments(source, readable, workdir)
    inpoint, outpoint = window_edges(readable, start, end)
    # Cutting from the first frame needs no keyframe search.
    keyframe = max((k for k in keyframe_times(paths[0]) if k <= inpoint + 1e-3), default=0.0) if inpoint > 0 else 0.0
    lines = ["ffconcat version 1.0"]
    for index, path in enumerate(paths):
        lines.append(_concat_line(path))
        if index == 0 and inpoint > 0:
            lines.append(f"inpoint {inpoint:.6f}")
        if index + 1 < len(paths) and (readable[index + 1].start - readable[index].end).total_seconds() > GAP_TOLERANCE:
            # Counted from the in-point, where this file's part of the clip starts.
            until_next = (readable[index + 1].start - readable[index].start).total_seconds() - (inpoint if index == 0 else 0)
            lines.append(f"duration {until_next:.6f}")
        if index == len(paths) - 1 and outpoint is not None:
            lines.append(f"outpoint {outpoint:.6f}")
    listing = Path(workdir) / f"{out_path.stem}.ffconcat"
    listing.write_text("\n".join(lines) + "\n")
    return CutPlan(
        readable=readable,
        paths=paths,
        fetched=fetched,
        listing=listing,
        out_path=out_path,
        inpoint=inpoint,
        keyframe=keyframe,
        packets_as_recorded=_same_h264_configuration(paths),
    )


def _cut_with_ffmpeg(plan):
    """Run ffmpeg's concat demuxer on the plan: (SHA-256, size, duration, [(SHA-256, size) of each segment]).

    ffmpeg reads the segments once to copy them while other threads hash
    them, and the clip is hashed straight after ffmpeg has written it, while
    it is still in the page cache.
    """
    out_path = plan.out_path
    local = [path for index, path in enumerate(plan.paths) if index not in plan.fetched]
    pool = ThreadPoolExecutor(max_workers=HASH_WORKERS)
    try:
        hashing = pool.map(sha256_file, local)
        result = subprocess.run(plan.command(), capture_output=True, text=True, timeout=FFMPEG_TIMEOUT, check=False)
        if result.returncode != 0 or not out_path.exists():
            error = (result.stderr or "").strip()[-300:] or f"ffmpeg exit status {result.returncode}"
            raise ExportFailed("cut_failed", camera=plan.readable[0].camera_code, error=error)
        # The clip is hashed (and flushed to disk meanwhile) while PyAV reads its duration and the pool
        # may still be hashing the last segments.
        probing = pool.submit(probe_duration, out_path)
        sha256, size = hash_and_flush(out_path)
        hashed = iter(list(hashing))
        duration = probing.result()
    finally:
        pool.shutdown(cancel_futures=True)
    source_hashes = [plan.fetched[index] if index in plan.fetched else next(hashed) for index in range(len(plan.paths))]
    return sha256, size, duration, source_hashes


def cut_window(*, source, segments, start, end, out_path, workdir, package=None, member=None):
    """Stream-copy [start, end) from the readable segments into out_path. Returns the file's facts for the manifest.

    Plain MP4 segments of one video track are cut by copying their samples
    (`requests.mp4cut`: one pass, every hash taken meanwhile, the header
    first); anything else goes through ffmpeg's concat demuxer. Both copy the
    recorded frames unchanged.

    With `package` (a `zipwriter.PackageWriter`) the clip becomes its member
    `member` instead, and the facts name that member's ZipEntry ("_entry"):
    samples are copied straight into the package, so the clip is written
    once; a clip ffmpeg cuts is written to out_path, hashed there, then
    copied into the package and the file removed.
    """
    readable = [s for s in segments if s.readable]
    first, last = readable[0], readable[-1]
    paths, fetched = local_segments(source, readable, workdir)
    inpoint, outpoint = window_edges(readable, start, end)
    try:
        cut = mp4cut.plan_cut(
            paths, inpoint=inpoint, outpoint=outpoint, starts=[s.start for s in readable], tolerance=GAP_TOLERANCE
        )
    except mp4cut.Unsupported as reason:
        logger.info("Cutting camera %s with ffmpeg: %s", first.camera_code, reason)
        plan = prepare_cut(
            source=source, segments=segments, start=start, end=end, out_path=out_path, workdir=workdir, local=(paths, fetched)
        )
        sha256, size, duration, source_hashes = _cut_with_ffmpeg(plan)
        entry = None
        if package is not None:
            entry = package.add(out_path, member)
            out_path.unlink()
        method, keyframe = CUT_BY_FFMPEG, plan.keyframe
        layout = integrity.TimeLayout(
            starts=[s.start for s in readable], first_frame=first.start + dt.timedelta(seconds=keyframe)
        )
    else:
        if package is not None:
            sha256, size, source_hashes, entry = mp4cut.write_clip_into(cut, package, member, known=fetched)
        else:
            sha256, size, source_hashes, entry = (*mp4cut.write_clip(cut, out_path, known=fetched), None)
        duration = round(cut.duration, 6)
        method, keyframe = CUT_BY_SAMPLE_COPY, cut.keyframe
        layout = integrity.SampleLayout(
            header=len(cut.header),
            ranges=cut.ranges,
            segments=cut.segments,
            starts=[s.start for s in readable],
            first_frame=first.start + dt.timedelta(seconds=keyframe),
        )
    nominal_start = max(start, first.start)
    last_timestamp = min(end, last.end)
    return {
        "path": f"data/{out_path.name}",
        "sha256": sha256,
        "size": size,
        "duration": duration,
        "cut_method": method,
        # The clip's time zero: every frame is shown at its wall-clock offset from this (gaps are kept, not closed).
        "start_utc": _iso(first.start + dt.timedelta(seconds=keyframe)),
        "first_timestamp": _iso(first.start + dt.timedelta(seconds=keyframe)),
        "last_timestamp": _iso(last_timestamp),
        "window_start_covered": _iso(nominal_start),
        "starts_at_preceding_keyframe": keyframe < inpoint - 1e-3,
        "lead_in_seconds": round(max(0.0, inpoint - keyframe), 3),
        "source_segments": [
            {
                "name": Path(segment.locator).name,
                "locator": segment.locator,
                "start": _iso(segment.start),
                "end": _iso(segment.end),
                "sha256": digest,
                "size": length,
            }
            for segment, (digest, length) in zip(readable, source_hashes, strict=True)
        ],
        "_first": first.start + dt.timedelta(seconds=keyframe),
        "_last": last_timestamp,
        # Where each of the clip's frames came from, for the decode check to name the segment of a damaged one.
        "_layout": layout,
        "_entry": entry,
    }


def package_member(package, entry):
    """The clip held by a member (a ZipEntry) of a stored zip package, as FFmpeg opens it (`media.decode_check`):
    only the member's bytes, byte positions counted from its start (libav's subfile protocol)."""
    start = entry.data_offset
    return f"subfile,,start,{start},end,{start + entry.size},,:{Path(package).resolve()}"


# Decode checks ---------------------------------------------------------------

# Threads the decoder of a check may use (0: as many as there are cores).
DECODE_THREADS = 0
# While it waits for the checks, the export says it is alive this often (seconds).
CHECK_HEARTBEAT = 10


class CheckStopped(Exception):
    """The export stopped for another reason: the check under way gives up."""


class ClipChecker:
    """Decodes an export's clips one after another (`media.decode_check`) in a thread of its own.

    libav decodes without holding the GIL, so the export cuts the next clip
    into the package meanwhile; the decoder's own threads share the cores
    with the copy and the hashing. A clip is read where it lies: a file, or
    the package's member (`package_member`). One check at a time: libav's
    log, from which a check reads the decoder's messages, is one per process.
    """

    def __init__(self):
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="decode-check")
        self._stop = threading.Event()
        self._checks = []
        self.frames, self.announced = 0, 0  # of the clip being checked

    def submit(self, path):
        """Check the clip at `path` (a path, or a URL FFmpeg opens) once those submitted before it are checked."""
        self._checks.append(self._pool.submit(self._check, path))

    def _check(self, path):
        def progress(frames, announced):
            if self._stop.is_set():
                raise CheckStopped
            self.frames, self.announced = frames, announced

        return decode_check(path, threads=DECODE_THREADS, progress=progress)

    def reports(self, *, waiting=None):
        """The DecodeReport of each clip, in the order submitted. `waiting(clip index, count, fraction of it done)` is
        called every CHECK_HEARTBEAT seconds meanwhile."""
        reports = []
        for index, check in enumerate(self._checks):
            while True:
                try:
                    reports.append(check.result(timeout=CHECK_HEARTBEAT))
                    break
                except FutureTimeout:
                    if waiting:
                        waiting(index, len(self._checks), min(1.0, self.frames / self.announced) if self.announced else 0.0)
        return reports

    def close(self):
        """Stop the check under way, if any, and drop those not begun."""
        self._stop.set()
        self._pool.shutdown(wait=True, cancel_futures=True)


# The whole package -----------------------------------------------------------


def _approvals(footage_request):
    decisions = binding_approvals(footage_request).select_related("actor", "actor_agency")
    return [
        {
            "name": decision.actor.display_name,
            "username": decision.actor.get_username(),
            "agency": decision.actor_agency.name_vi,
            "signed_at": _iso(decision.created_at),
        }
        for decision in decisions
    ]


def _readable_seconds(listing):
    return sum(s.duration for s in listing.segments if s.readable)


def _best_source(footage_request, item):
    """The recorder, or the legal-hold copy when it holds more of the window (the recorder may have overwritten it)."""
    source = source_for(item.camera.code)
    listing = source.list_segments(item.start, item.end)
    hold = LegalHold.objects.filter(footage_request=footage_request, released_at__isnull=True).exclude(path="").first()
    if hold is not None:
        held = SegmentFileSource(camera_code=item.camera.code, options={"root": hold.path, "layout": "generic"})
        held_listing = held.list_segments(item.start, item.end)
        if _readable_seconds(held_listing) > _readable_seconds(listing):
            return held, held_listing
    return source, listing


def _provider(footage_request):
    custodian = footage_request.export_requested_by
    if custodian is None:
        return {"agency": "", "name": ""}
    return {"agency": custodian.agency.name_vi if custodian.agency_id else "", "name": custodian.display_name}


def _handover_heading(footage_request):
    """Number the hand-over record, issued by the agency of the custodian who exported (the monitoring centre).

    The record goes inside the package, so its number is taken before the release is made, as late as the export
    allows: a package that then fails, or is discarded for a release already made, leaves its number unused. The
    release's ledger event names the number the package carries."""
    with transaction.atomic():
        return document_heading(
            footage_request.issuing_centre(),
            DocumentSeries.Kind.HANDOVER,
            moment=timezone.now(),
            fallback_number=f"{footage_request.reference}/BBGN",
        )


def _file_name(index, item):
    """The clip's name: its number, the camera and the window in Vietnam time with the offset, as people read it."""
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in item.camera.code)
    return f"{index:02d}_{safe}_{file_stamp(item.start)}_{file_stamp(item.end)}.mp4"


def _end_where_footage_ends(f, report):
    """A clip whose frames stop before the end its source segments' headers promised (one cut short while
    recording, its header written first) says where its footage really ends: the integrity section lists the rest
    as missing."""
    if report.frames_decoded == 0 or not report.shown_to:
        return
    shown_to = f["first"] + dt.timedelta(seconds=report.shown_to)
    if (f["last"] - shown_to).total_seconds() > hole_threshold(report.frame_interval):
        f["last"] = shown_to
        f["last_timestamp"] = _iso(shown_to)


def _report(progress, percent, stage):
    if progress:
        progress(percent, stage)


def _export_items(footage_request):
    """The request's items in the order of the package, each with its number (which names its clip)."""
    items = footage_request.items.select_related("camera", "camera__site", "data_category").order_by(
        "camera__code", "start", "pk"
    )
    return list(enumerate(items, start=1))


def _cut_items(
    footage_request,
    numbered,
    *,
    data,
    work,
    checker,
    packer=None,
    bag_name="",
    progress=None,
    plan=None,
    originals=None,
):
    """Cut each (number, item) into `data` (or straight into the package `packer`, as member bag_name/data/…),
    submitting each clip to `checker`. Returns the manifest entries (each with its "number"), the clips' facts
    and their layouts for the decode check.

    With a redaction `plan` (`requests.redactions.export_plan`) each original is cut into `originals`, outside the
    package, and the package gets its redacted copy instead (`_redacted_copy`)."""
    manifest_items, files, layouts = [], [], []
    for position, (number, item) in enumerate(numbered, start=1):
        _report(
            progress,
            int(70 * (position - 1) / max(1, len(numbered))),
            coded("cutting", camera=item.camera.code, n=position, total=len(numbered)),
        )
        source, listing = _best_source(footage_request, item)
        entry = {
            "number": number,
            "camera": item.camera.code,
            "camera_name": item.camera.name,
            "data_category": item.data_category.code,
            "requested_from": _iso(item.start),
            "requested_to": _iso(item.end),
            "source": source.describe(),
            "gaps": find_gaps(listing.segments, item.start, item.end),
            "file": None,
        }
        if not any(s.readable for s in listing.segments):
            oldest = source.oldest_kept()
            if not listing.camera_found or oldest is None:
                entry["note"] = NOTE_NO_RECORDINGS
            elif item.end <= oldest:
                entry["note"] = NOTE_BEFORE_RETENTION
                entry["oldest_kept"] = _iso(oldest)
            else:
                entry["note"] = NOTE_UNREADABLE
        else:
            name = _file_name(number, item)
            redacting = plan is not None
            into_package = packer is not None and not redacting
            cut = cut_window(
                source=source,
                segments=listing.segments,
                start=item.start,
                end=item.end,
                out_path=(originals if redacting else data) / name,
                workdir=work,
                package=packer if into_package else None,
                member=f"{bag_name}/data/{name}" if into_package else None,
            )
            first, last = cut.pop("_first"), cut.pop("_last")
            layouts.append(cut.pop("_layout"))
            zip_entry_ = cut.pop("_entry")
            if redacting:
                checker.submit(str(originals / name))
            else:
                checker.submit(package_member(packer.package, zip_entry_) if packer is not None else str(data / name))
            cut["camera"] = item.camera.code
            cut["gaps"] = entry["gaps"]
            if redacting:
                cut["path"] = f"originals/{name}"
                percent = int(70 * (position - 1) / max(1, len(numbered)))
                cut = _redacted_copy(
                    cut,
                    originals / name,
                    item,
                    plan,
                    data=data,
                    work=work,
                    packer=packer,
                    bag_name=bag_name,
                    progress=progress,
                    percent=percent,
                )
            entry["file"] = cut["path"]
            files.append({**cut, "first": first, "last": last, "number": number})
        manifest_items.append(entry)
    return manifest_items, files, layouts


def _in_clip_time(regions, facts):
    """Regions are drawn in seconds from the window's start; the clip may begin at the keyframe before it."""
    lead = facts.get("lead_in_seconds") or 0.0
    return [dataclasses.replace(r, at=r.at + lead, until=None if r.until is None else r.until + lead) for r in regions]


def _redacted_copy(original_facts, original, item, plan, *, data, work, packer, bag_name, progress, percent):
    """Make the redacted copy of the clip `original` (`requests.redactor`) and put it where the package's clips go.
    Returns the copy's facts: its own path, hash and size, the original's facts under "redacted_from", and what was
    blurred under "redaction". The original stays where it was cut, unchanged."""
    name = original.name.removesuffix(".mp4") + "_redacted.mp4"
    made = work / name

    def frames(done, total):
        _report(progress, percent, coded("redacting", camera=item.camera.code, frame=done, frames=total or done))

    try:
        record = redactor.redact(
            original,
            made,
            regions=_in_clip_time(plan["regions"].get(item.pk, []), original_facts),
            faces=plan["faces"],
            progress=frames,
        )
    except redactor.RedactionError as error:
        raise ExportFailed("redaction_failed", camera=item.camera.code, error=str(error)) from None
    sha256, size = hash_and_flush(made)
    check = str(data / name)
    if packer is not None:
        entry = packer.add(made, f"{bag_name}/data/{name}")
        made.unlink()
        check = package_member(packer.package, entry)
    else:
        os.replace(made, data / name)
    return {
        "path": f"data/{name}",
        "sha256": sha256,
        "size": size,
        "duration": original_facts["duration"],
        "camera": original_facts["camera"],
        "gaps": original_facts["gaps"],
        "start_utc": original_facts["start_utc"],
        "first_timestamp": original_facts["first_timestamp"],
        "last_timestamp": original_facts["last_timestamp"],
        "redacted_from": original_facts,
        "redaction": {**record, **plan["record"]},
        "_copy_check": check,
    }


def _check_clips(checker, files, layouts, progress=None):
    """Wait for the decode check of every clip and write its integrity section."""
    _report(progress, 75, coded("checking", n=1, total=len(files)))
    reports = checker.reports(
        waiting=lambda index, count, done: _report(
            progress, 75 + int(10 * (index + done) / count), coded("checking", n=index + 1, total=count)
        )
    )
    for f, layout, report in zip(files, layouts, reports, strict=True):
        cut = f.get("redacted_from", f)
        cut["integrity"] = integrity.integrity_section(
            report,
            layout=layout,
            source_segments=cut["source_segments"],
            gaps=f["gaps"],
            covered_to=f["last"],
            tolerance=GAP_TOLERANCE,
        )
        _end_where_footage_ends(f, report)
    for f in files:
        if "_copy_check" in f:
            start = dt.datetime.fromisoformat(f["start_utc"])
            f["integrity"] = _copy_integrity(decode_check(f.pop("_copy_check"), threads=DECODE_THREADS), start)


def _copy_integrity(report, start):
    """A redacted copy's own decode check, as the manifest gives it. Its frames keep their original's times (from
    `start`, the original's first frame), so a damaged range is said in those times; it names no source segment: the
    copy was made by our encoder, not recorded (the footage's own damage is in its original's section)."""

    def span(d):
        begin = start + dt.timedelta(seconds=d.seconds)
        end = begin + dt.timedelta(seconds=d.duration * d.frames)
        return {
            "kind": integrity.KIND_FILE if d.whole_file else integrity.KIND_DECODE,
            "from_seconds": round(d.seconds, 3),
            "to_seconds": round(d.seconds + d.duration * d.frames, 3),
            "from_utc": None if d.whole_file else _iso(begin),
            "to_utc": None if d.whole_file else _iso(end),
            "frames": d.frames,
            "frames_without_picture": d.pictureless,
            "problems": list(d.problems),
        }

    return {
        "decoded": report.decoded,
        "frames_in_file": report.frames_in_file,
        "frames_decoded": report.frames_decoded,
        "damaged": [span(d) for d in report.damage],
        "checked_with": report.checked_with,
        "not_checked": report.not_checked,
    }


def _no_footage(manifest_items):
    return ExportFailed("no_footage", reasons=[[entry["camera"], entry["note"]] for entry in manifest_items])


def export_build(footage_request_id, *, progress=None):
    """Build the package for an approved request in a fresh staging folder. Raises ExportFailed or a transient error."""
    footage_request = _request_for_export(footage_request_id)
    area = staging_open(footage_request.reference)
    bag = area.path / footage_request.reference
    (bag / "data").mkdir(parents=True)
    (area.path / "work").mkdir()
    plan = redaction_plan(footage_request)
    if plan is not None:
        (area.path / "originals").mkdir()
    # Each clip is cut straight into the package, then decoded in full from there while the export goes on
    # (`ClipChecker`); the manifest and the hand-over record follow once the checks have said what to write in them.
    # Until `finish_bag` writes the zip's central directory, the package is no zip a tool would open.
    checker, packer = ClipChecker(), None
    try:
        packer = PackageWriter(area.path / f"{footage_request.reference}.zip")
        with translation.override(settings.LANGUAGE_CODE):
            manifest_items, files, layouts = _cut_items(
                footage_request,
                _export_items(footage_request),
                data=bag / "data",
                work=area.path / "work",
                checker=checker,
                packer=packer,
                bag_name=bag.name,
                progress=progress,
                plan=plan,
                originals=area.path / "originals",
            )
            if not files:
                raise _no_footage(manifest_items)
            _check_clips(checker, files, layouts, progress)
            return _package(footage_request, area, packer, manifest_items, files, progress)
    except BaseException:
        if packer is not None:
            packer.abandon()
        area.remove()
        raise
    finally:
        checker.close()


def _request_for_export(footage_request_id):
    return FootageRequest.objects.select_related(
        "agency", "requester", "legal_basis", "regulation_version", "export_requested_by__agency"
    ).get(pk=footage_request_id)


def part_build(footage_request_id, numbers, folder, *, progress=None):
    """Cut and check the clips of the request's items `numbers` (one recorder site's) into `folder` (shared export
    storage), outside any transaction. Returns what the package needs of them (JSON): the manifest entries and the
    clips' facts, with their paths relative to `folder`. Raises a transient error to be tried again; an item
    without footage is an entry with a note, as in a whole export."""
    footage_request = _request_for_export(footage_request_id)
    wanted = set(numbers)
    numbered = [(n, item) for n, item in _export_items(footage_request) if n in wanted]
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "data").mkdir(parents=True)
    (folder / "work").mkdir()
    plan = redaction_plan(footage_request)
    if plan is not None:
        (folder / "originals").mkdir()
    checker = ClipChecker()
    try:
        with translation.override(settings.LANGUAGE_CODE):
            manifest_items, files, layouts = _cut_items(
                footage_request,
                numbered,
                data=folder / "data",
                work=folder / "work",
                checker=checker,
                progress=progress,
                plan=plan,
                originals=folder / "originals",
            )
            _check_clips(checker, files, layouts, progress)
        for clip in files:
            flush_to_disk(folder / clip["path"])
            if "redacted_from" in clip:
                flush_to_disk(folder / clip["redacted_from"]["path"])
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    finally:
        checker.close()
    shutil.rmtree(folder / "work", ignore_errors=True)
    return {
        "items": manifest_items,
        "files": [{**f, "first": _iso(f["first"]), "last": _iso(f["last"])} for f in files],
    }


def assemble_build(footage_request_id, parts, *, progress=None):
    """Package the clips every site cut (`part_build`) once: each clip's bytes are hashed again as they go into the
    package and must be those its site recorded. `parts` are (folder, result) pairs. Raises ExportFailed."""
    footage_request = _request_for_export(footage_request_id)
    manifest_items, files = [], []
    for folder, result in parts:
        manifest_items += result["items"]
        for f in result["files"]:
            if not isinstance(f.get("path"), str) or not CLIP_PATH.fullmatch(f["path"]):
                raise ExportFailed("part_missing", site=result.get("site") or "-", file=str(f.get("path")))
            original = f.get("redacted_from")
            if original is not None and (
                not isinstance(original, dict)
                or not isinstance(original.get("path"), str)
                or not ORIGINAL_PATH.fullmatch(original["path"])
            ):
                raise ExportFailed("part_missing", site=result.get("site") or "-", file=str(original))
            files.append({**f, "_folder": folder, "_site": result.get("site") or "-"})
    manifest_items.sort(key=lambda entry: entry["number"])
    files.sort(key=lambda f: f["number"])
    # Every approved item once, whichever site cut it: never a package missing an item or holding one twice.
    if [entry["number"] for entry in manifest_items] != list(range(1, footage_request.items.count() + 1)):
        raise ExportFailed("parts_incomplete")
    if not files:
        raise _no_footage(manifest_items)
    area = staging_open(footage_request.reference)
    bag = area.path / footage_request.reference
    bag.mkdir()
    packer = None
    try:
        packer = PackageWriter(area.path / f"{footage_request.reference}.zip")
        for position, f in enumerate(files, start=1):
            _report(progress, 80 * (position - 1) / len(files), coded("gathering", n=position, total=len(files)))
            path, site = f.pop("_folder") / f["path"], f.pop("_site")
            try:
                with open(path, "rb") as clip:
                    size = os.fstat(clip.fileno()).st_size
                    member = packer.member(f"{bag.name}/{f['path']}", size=size, mtime=os.fstat(clip.fileno()).st_mtime)
                    member.copy(clip.fileno(), 0, size, name=f["path"])
                    member.close()
            except FileNotFoundError:
                raise ExportFailed("part_missing", site=site, file=f["path"]) from None
            if (member.digest.hexdigest(), size) != (f["sha256"], f["size"]):
                raise ExportFailed("arrival_mismatch", file=f["path"])
            if "redacted_from" in f:
                _gather_original(path.parent.parent, f["redacted_from"], area.path / "originals", site)
            f["first"], f["last"] = dt.datetime.fromisoformat(f["first"]), dt.datetime.fromisoformat(f["last"])
        with translation.override(settings.LANGUAGE_CODE):
            return _package(footage_request, area, packer, manifest_items, files, progress)
    except BaseException:
        if packer is not None:
            packer.abandon()
        area.remove()
        raise


def _data_subject(footage_request):
    """For a person's own request, who asked and how their identity was checked (never the document's number)."""
    if not footage_request.for_data_subject:
        return {}
    from requests.models import SubjectAccess

    access = SubjectAccess.objects.select_related("checked_by").filter(footage_request=footage_request).first()
    if access is None:
        return {}
    with translation.override("vi"):
        document = str(access.get_document_type_display())
    return {
        "data_subject": {
            "person_name": access.person_name,
            "document_type": access.document_type,
            "document": document,
            "checked_by": access.checked_by.display_name,
            "checked_at": _iso(access.checked_at),
            "place": access.place,
        }
    }


def _gather_original(folder, original, originals, site):
    """Copy a redacted copy's original from its site's folder to the centre's originals, its hash checked."""
    originals.mkdir(exist_ok=True)
    target = originals / Path(original["path"]).name
    try:
        shutil.copyfile(folder / original["path"], target)
    except FileNotFoundError:
        raise ExportFailed("part_missing", site=site, file=original["path"]) from None
    if hash_and_flush(target) != (original["sha256"], original["size"]):
        raise ExportFailed("arrival_mismatch", file=original["path"])


def redaction_plan(footage_request):
    from requests.redactions import export_plan

    return export_plan(footage_request)


def _package(footage_request, area, packer, manifest_items, files, progress):
    """The manifest, the signed hand-over record and the bag's files, then the package ended and hashed."""
    from documents.signing import sign_pdf
    from requests.export_handover import render_handover

    bag = area.path / footage_request.reference
    gap_count = sum(len(entry["gaps"]) for entry in manifest_items)
    manifest_items = [{k: v for k, v in entry.items() if k != "number"} for entry in manifest_items]
    files = [{k: v for k, v in f.items() if k != "number"} for f in files]
    # A clip counts once whether the damage is in its original or in its redacted copy.
    damaged_files = sum(
        1 for f in files if not f["integrity"]["decoded"] or not f.get("redacted_from", f)["integrity"]["decoded"]
    )

    _report(progress, 85, coded("writing"))
    manifest = {
        "format": "camera-footage-release/1",
        "reference": footage_request.reference,
        "agency": footage_request.agency.name_vi,
        "provider": _provider(footage_request),
        "requester": footage_request.requester.display_name,
        "legal_basis": {
            "code": footage_request.legal_basis.code,
            "title": footage_request.legal_basis.title_vi,
            "citation": footage_request.legal_basis.citation,
        },
        "official_letter": {
            "number": footage_request.letter_number,
            "date": footage_request.letter_date.isoformat(),
        },
        "case_reference": footage_request.case_reference,
        "purpose": footage_request.purpose,
        "urgency": footage_request.urgency,
        "content_sha256": footage_request.content_hash,
        "regulation_version": footage_request.regulation_version.number if footage_request.regulation_version else None,
        "approvals": _approvals(footage_request),
        **_data_subject(footage_request),
        "exported_at": _iso(timezone.now()),
        "items": manifest_items,
        "files": [{k: v for k, v in f.items() if k not in ("first", "last")} for f in files],
    }
    manifest_bytes = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True).encode()
    (bag / "manifest.json").write_bytes(manifest_bytes)
    manifest_sha256 = hashlib.sha256(manifest_bytes).hexdigest()
    handover_heading = _handover_heading(footage_request)
    handover = render_handover(
        heading=handover_heading,
        footage_request=footage_request,
        manifest=manifest,
        manifest_sha256=manifest_sha256,
        scope=narrowed_scope(filed_scope(footage_request)),
        # The release is made after the package: the link names the request, whose one release it opens.
        verify_path=reverse("requests:verify-release", kwargs={"token": verification_token_for_request(footage_request)}),
    )
    # The centre's organisation signs the record (a PDF signature) before its hash is taken.
    handover = sign_pdf(handover, reason=f"Biên bản giao nhận dữ liệu {footage_request.reference}")
    (bag / HANDOVER_NAME).write_bytes(handover)
    handover_sha256, handover_size = hashlib.sha256(handover).hexdigest(), len(handover)
    _write_bag_files(bag, footage_request, files)

    _report(progress, 92, coded("packing"))
    package, package_sha256, package_size = finish_bag(packer, bag)
    shutil.rmtree(bag)
    shutil.rmtree(area.path / "work", ignore_errors=True)
    release_files = [
        {
            "kind": "video",
            "name": f["path"],
            "sha256": f["sha256"],
            "size": f["size"],
            "camera_code": f["camera"],
            "first_timestamp": f["first"],
            "last_timestamp": f["last"],
            "duration": f["duration"],
            "decoded": f["integrity"]["decoded"],
            "frames_in_file": f["integrity"]["frames_in_file"],
            "frames_decoded": f["integrity"]["frames_decoded"],
            "damage": f["integrity"]["damaged"],
            "checked_with": f["integrity"]["checked_with"],
            "not_checked": f["integrity"].get("not_checked", []),
        }
        for f in files
    ]
    for f, row in zip(files, release_files, strict=True):
        if "redacted_from" in f:
            row["redacted_from"] = f["redacted_from"]["path"]
            row["regions_blurred"] = sum(1 for r in f["redaction"]["regions"] if r["source"] != "kept visible")
    release_files += [_original_row(f) for f in files if "redacted_from" in f]
    release_files.append({"kind": "manifest", "name": "manifest.json", "sha256": manifest_sha256, "size": len(manifest_bytes)})
    release_files.append({"kind": "handover", "name": HANDOVER_NAME, "sha256": handover_sha256, "size": handover_size})
    release_files.append({"kind": "package", "name": package.name, "sha256": package_sha256, "size": package_size})
    return BuiltExport(
        staging=area,
        package=package,
        package_sha256=package_sha256,
        package_size=package_size,
        manifest_sha256=manifest_sha256,
        handover_sha256=handover_sha256,
        handover_number=handover_heading.number,
        files=release_files,
        gaps=gap_count,
        damaged_files=damaged_files,
        originals=(area.path / "originals") if any("redacted_from" in f for f in files) else None,
    )


def _original_row(f):
    """The released-file row of a redacted copy's original: kept by the centre, its hash as cut and checked."""
    original = f["redacted_from"]
    checked = original["integrity"]
    return {
        "kind": "original",
        "name": original["path"],
        "sha256": original["sha256"],
        "size": original["size"],
        "camera_code": f["camera"],
        "first_timestamp": f["first"],
        "last_timestamp": f["last"],
        "duration": original["duration"],
        "decoded": checked["decoded"],
        "frames_in_file": checked["frames_in_file"],
        "frames_decoded": checked["frames_decoded"],
        "damage": checked["damaged"],
        "checked_with": checked["checked_with"],
        "not_checked": checked.get("not_checked", []),
    }


def _write_bag_files(bag, footage_request, files):
    (bag / "bagit.txt").write_text("BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n", encoding="utf-8")
    payload_bytes = sum(f["size"] for f in files)
    (bag / "bag-info.txt").write_text(
        f"External-Identifier: {footage_request.reference}\n"
        f"Source-Organization: {footage_request.agency.name_vi}\n"
        f"Bagging-Date: {timezone.localdate().isoformat()}\n"
        f"Payload-Oxum: {payload_bytes}.{len(files)}\n",
        encoding="utf-8",
    )
    (bag / "manifest-sha256.txt").write_text("".join(f"{f['sha256']}  {f['path']}\n" for f in files), encoding="utf-8")
    tags = [bag / name for name in ("bagit.txt", "bag-info.txt", "manifest-sha256.txt", "manifest.json", HANDOVER_NAME)]
    (bag / "tagmanifest-sha256.txt").write_text(
        "".join(f"{sha256_file(path)[0]}  {path.name}\n" for path in tags), encoding="utf-8"
    )


def publish_package(built, footage_request):
    """Move a built package from staging to its final place; returns (token, final path)."""
    token = uuid.uuid4().hex
    final_dir = Path(settings.EXPORT_ROOT) / footage_request.reference / token
    final_dir.mkdir(parents=True, exist_ok=False)
    final = final_dir / built.package.name
    os.replace(built.package, final)
    if built.originals is not None:
        # The originals of the redacted copies stay with the centre, beside the package and never in it.
        os.replace(built.originals, final_dir / "originals")
    built.staging.remove()
    return token, final


def discard(built):
    built.staging.remove()
