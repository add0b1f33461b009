"""Cutting a window out of MP4 segments by copying their samples, byte for byte, into one new MP4 in one pass.

ffmpeg's concat demuxer does this job for any container, but it moves every
byte through user space and patches the clip's header when it ends, so the
clip can only be hashed once ffmpeg is done. For what NVRs write most — plain
(unfragmented) MP4 segments of one video track, all with the same sample
description — this module does the same cut more directly:

1. `plan_cut` reads each segment's sample tables (the moov box, a few hundred
   kilobytes for an hour) and picks the samples of the window: from the last
   keyframe shown at or before the in-point to the last frame shown before
   the out-point, with the frames that one is decoded from (times count from
   where the recorder's edit list starts showing). It lays out the new file:
   ftyp, a moov whose tables point at the samples' new places, then one mdat
   holding the samples in their recorded order. The header comes first, so a
   player can start at once.
2. `write_clip` writes that header, copies the samples' byte ranges with
   copy_file_range (inside the kernel, as cp does), and meanwhile hashes every
   source segment and the clip in two other threads. The copied bytes are
   hashed as written (read back from the clip while still in the page cache),
   so its SHA-256 is that of the file and not of what was meant to be copied;
   a segment that changes while it is read fails the cut (a retry starts
   again).

The clip keeps the recording's time. Given the segments' wall-clock starts,
`plan_cut` keeps a hole between two segments instead of closing it up: the
last sample before the hole lasts until the next segment starts (a longer
stts entry; an edit list with an empty edit in the middle would do the same,
but players read such lists differently), so every frame is shown at its
wall-clock offset from the clip's first frame and a player holds the last
frame before the hole on screen. A hole no wider than a frame, or than the
tolerance the caller gives (the precision of those start times), is closed
up: the next segment follows on at once. The mvhd, tkhd and mdhd boxes say when the first frame shown
was recorded (creation and modification time, in whole seconds since
1904-01-01 UTC, as MP4 counts them).

Anything else — fragmented MP4, more than one track, segments whose sample
descriptions or time scales differ, a table it does not understand — raises
Unsupported, and the export uses ffmpeg instead.
"""

import datetime as dt
import errno
import os
import struct
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from requests.filecopy import HashedWriter, SourceChanged, hash_descriptor
from requests.sources.files import mp4_boxes

# A chunk of the new file holds at most this many bytes (players read a chunk's samples from its offset).
CHUNK_BYTES = 1024 * 1024
# Files larger than this need 64-bit sizes and offsets.
LARGE_FILE = 0xFFFFFFFF
# Boxes at the top of a segment that carry nothing a clip needs.
SKIPPED_TOP_BOXES = {b"free", b"skip", b"wide", b"uuid", b"meta", b"pdin"}
# MP4 headers count time in seconds from here.
MP4_EPOCH = dt.datetime(1904, 1, 1, tzinfo=dt.UTC)


class Unsupported(Exception):
    """These segments need ffmpeg: the reason says why."""


# Boxes -----------------------------------------------------------------------


def _boxes(data, start=0, end=None):
    """(type, box start, content start, box end) of each box in data[start:end]."""
    end = len(data) if end is None else end
    position = start
    while position < end:
        if position + 8 > end:
            raise Unsupported("truncated box header")
        size, kind = struct.unpack_from(">I4s", data, position)
        header = 8
        if size == 1:
            if position + 16 > end:
                raise Unsupported("truncated box header")
            size = struct.unpack_from(">Q", data, position + 8)[0]
            header = 16
        elif size == 0:
            size = end - position
        if size < header or position + size > end:
            raise Unsupported(f"malformed {kind!r} box")
        yield kind, position, position + header, position + size
        position += size


def _children(data, start=0, end=None):
    """{type: [(box start, content start, box end), ...]} of the boxes in data[start:end]."""
    found = {}
    for kind, box_start, content, box_end in _boxes(data, start, end):
        found.setdefault(kind, []).append((box_start, content, box_end))
    return found


def _one(children, kind):
    boxes = children.get(kind, [])
    if len(boxes) != 1:
        raise Unsupported(f"{len(boxes)} {kind.decode(errors='replace')} boxes")
    return boxes[0]


def _box(kind, *parts):
    payload = b"".join(parts)
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def _full_box(kind, version, flags, *parts):
    return _box(kind, struct.pack(">I", (version << 24) | flags), *parts)


def _version(data, content):
    return data[content]


def _table(data, content, end, item):
    """The entries of a full box whose body is a 32-bit count and then `count` items of struct format `item`."""
    (count,) = struct.unpack_from(">I", data, content + 4)
    if content + 8 + count * struct.calcsize(">" + item) > end:
        raise Unsupported("truncated sample table")
    layout = f">{count * len(item)}{item[0]}" if len(set(item)) == 1 else ">" + item * count
    return struct.unpack_from(layout, data, content + 8)


def _pairs(values, width):
    return [tuple(values[i : i + width]) for i in range(0, len(values), width)]


# One segment -----------------------------------------------------------------


@dataclass
class Segment:
    """One segment's video track: where each sample is, how long it lasts, which are keyframes."""

    path: Path
    size: int
    mtime_ns: int
    ftyp: bytes
    mvhd: bytes
    tkhd: bytes
    mdhd: bytes
    hdlr: bytes
    minf_other: list
    stsd: bytes
    movie_timescale: int
    timescale: int
    offsets: list
    sizes: list
    durations: list
    composition: list | None
    sync: list | None
    start: int | None = None  # media time the edit list starts showing at

    @property
    def description(self):
        """What must be equal in every segment for their samples to share one header."""
        return (self.stsd, self.timescale, self.hdlr)


def _read_top(path):
    """The ftyp and moov boxes of a segment file, with its size and modification time."""
    found = {}
    with open(path, "rb") as handle:
        stat = os.fstat(handle.fileno())
        for kind, start, _, end in mp4_boxes(handle, 0, stat.st_size, strict=True):
            if kind in (b"moof", b"mfra", b"sidx", b"styp"):
                raise Unsupported("fragmented MP4")
            if kind in (b"ftyp", b"moov"):
                if kind in found:
                    raise Unsupported(f"two {kind.decode()} boxes")  # players read the first, ffmpeg skips the rest
                handle.seek(start)
                found[kind] = handle.read(end - start)
            elif kind != b"mdat" and kind not in SKIPPED_TOP_BOXES:
                raise Unsupported(f"top-level {kind!r} box")
    if b"ftyp" not in found or b"moov" not in found:
        raise Unsupported("no ftyp or moov box")
    return found[b"ftyp"], found[b"moov"], stat


def read_segment(path):
    """The sample tables of a single-track video MP4 segment, or Unsupported."""
    ftyp, moov, stat = _read_top(path)
    top = _children(moov, 8 if struct.unpack_from(">I", moov)[0] != 1 else 16)
    if b"mvex" in top:
        raise Unsupported("fragmented MP4")
    mvhd_start, mvhd_content, mvhd_end = _one(top, b"mvhd")
    movie_timescale = struct.unpack_from(">I", moov, mvhd_content + (20 if _version(moov, mvhd_content) == 1 else 12))[0]
    _, trak_content, trak_end = _one(top, b"trak")
    trak = _children(moov, trak_content, trak_end)
    start = _check_edit_list(moov, trak) if b"edts" in trak else None
    tkhd_start, tkhd_content, tkhd_end = _one(trak, b"tkhd")
    _, mdia_content, mdia_end = _one(trak, b"mdia")
    mdia = _children(moov, mdia_content, mdia_end)
    mdhd_start, mdhd_content, mdhd_end = _one(mdia, b"mdhd")
    hdlr_start, hdlr_content, hdlr_end = _one(mdia, b"hdlr")
    if moov[hdlr_content + 8 : hdlr_content + 12] != b"vide":
        raise Unsupported("not a video track")
    timescale = struct.unpack_from(">I", moov, mdhd_content + (20 if _version(moov, mdhd_content) == 1 else 12))[0]
    if any(
        content - start != 8
        for start, content in ((mvhd_start, mvhd_content), (tkhd_start, tkhd_content), (mdhd_start, mdhd_content))
    ):
        raise Unsupported("64-bit header box")
    _, minf_content, minf_end = _one(mdia, b"minf")
    minf_other, stbl = [], None
    for kind, box_start, content, box_end in _boxes(moov, minf_content, minf_end):
        if kind == b"stbl":
            stbl = (content, box_end)
        else:
            if kind == b"dinf":
                _check_self_contained(moov, content, box_end)
            minf_other.append(moov[box_start:box_end])
    if stbl is None or not movie_timescale or not timescale:
        raise Unsupported("no sample table")
    tables = _children(moov, *stbl)
    # Tables the clip would have to carry over sample by sample; others (sdtp, sample groups, cslg) are left out.
    for kind in (b"stz2", b"subs", b"saiz", b"saio", b"stsh", b"padb", b"stdp"):
        if kind in tables:
            raise Unsupported(f"{kind.decode()} table")
    stsd_start, stsd_content, stsd_end = _one(tables, b"stsd")
    if struct.unpack_from(">I", moov, stsd_content + 4)[0] != 1:
        raise Unsupported("several sample descriptions")

    _, content, end = _one(tables, b"stsz")
    sample_size, count = struct.unpack_from(">II", moov, content + 4)
    if sample_size:
        if count > stat.st_size // sample_size:
            raise Unsupported("more samples than the file holds")
        sizes = [sample_size] * count
    else:
        if content + 12 + 4 * count > end:
            raise Unsupported("truncated sample table")
        sizes = list(struct.unpack_from(f">{count}I", moov, content + 12))
    if b"co64" in tables:
        _, content, end = _one(tables, b"co64")
        chunk_offsets = _table(moov, content, end, "Q")
    else:
        _, content, end = _one(tables, b"stco")
        chunk_offsets = _table(moov, content, end, "I")
    _, content, end = _one(tables, b"stsc")
    stsc = _pairs(_table(moov, content, end, "III"), 3)
    _, content, end = _one(tables, b"stts")
    durations = _expand(_pairs(_table(moov, content, end, "II"), 2), count)
    composition = None
    if b"ctts" in tables:
        _, content, end = _one(tables, b"ctts")
        # Signed in either version, as QuickTime, ffmpeg and most players read it.
        composition = _expand(_pairs(_table(moov, content, end, "Ii"), 2), count)
    sync = None
    if b"stss" in tables:
        _, content, end = _one(tables, b"stss")
        sync = [False] * count
        for number in _table(moov, content, end, "I"):
            if not 1 <= number <= count:
                raise Unsupported("sync sample out of range")
            sync[number - 1] = True

    offsets = _sample_offsets(chunk_offsets, stsc, sizes)
    if len(durations) != count or (composition is not None and len(composition) != count) or not count:
        raise Unsupported("sample tables disagree")
    if any(offset + length > stat.st_size for offset, length in zip(offsets, sizes, strict=True)):
        raise Unsupported("a sample lies beyond the end of the file")
    return Segment(
        path=Path(path),
        size=stat.st_size,
        mtime_ns=stat.st_mtime_ns,
        ftyp=ftyp,
        mvhd=moov[mvhd_start:mvhd_end],
        tkhd=moov[tkhd_start:tkhd_end],
        mdhd=moov[mdhd_start:mdhd_end],
        hdlr=moov[hdlr_start:hdlr_end],
        minf_other=minf_other,
        stsd=_without_bitrate(moov[stsd_start:stsd_end]),
        movie_timescale=movie_timescale,
        timescale=timescale,
        offsets=offsets,
        sizes=sizes,
        durations=durations,
        composition=composition,
        sync=sync,
        start=start,
    )


def _without_bitrate(stsd):
    """The sample description without its btrt box: that says the bitrate of one segment, not of the clip, and
    differs from segment to segment where everything that decoding needs is the same."""
    # stsd: box header, version and flags, entry count, then (here) one visual sample entry: its box header, 78
    # bytes of fixed fields, then its child boxes (the codec configuration among them).
    entries = list(_boxes(stsd, 16, len(stsd)))
    if len(entries) != 1:
        raise Unsupported("several sample descriptions")
    kind, _, content, end = entries[0]
    if content + 78 > end:
        raise Unsupported("malformed sample description")
    children = [stsd[start:stop] for child, start, _, stop in _boxes(stsd, content + 78, end) if child != b"btrt"]
    return _box(b"stsd", stsd[8:16], _box(kind, stsd[content : content + 78], *children))


def _check_edit_list(moov, trak):
    """Only an edit list that plays the media at normal speed, from a point at or after its start, is understood."""
    _, edts_content, edts_end = _one(trak, b"edts")
    edits = _children(moov, edts_content, edts_end)
    if b"elst" not in edits:
        return
    _, content, end = _one(edits, b"elst")
    version = _version(moov, content)
    item = "qqhh" if version == 1 else "iihh"
    entries = [entry for entry in _pairs(_table(moov, content, end, item), 4) if entry[1] != -1]
    if len(entries) > 1 or any(rate != 1 or fraction != 0 for _, _, rate, fraction in entries):
        raise Unsupported("edit list")
    return entries[0][1] if entries else None


def _expand(runs, count):
    """Per-sample values of a run-length table (stts, ctts), which must cover exactly `count` samples."""
    if sum(run for run, _ in runs) != count:
        raise Unsupported("sample tables disagree")
    values = []
    for run, value in runs:
        values.extend([value] * run)
    return values


def _check_self_contained(moov, content, end):
    """The samples must be in this file, not in another one a data reference names."""
    _, dref_content, dref_end = _one(_children(moov, content, end), b"dref")
    for _, _, entry, _ in _boxes(moov, dref_content + 8, dref_end):
        if not struct.unpack_from(">I", moov, entry)[0] & 1:
            raise Unsupported("samples in another file")


def _sample_offsets(chunk_offsets, stsc, sizes):
    offsets = []
    bounds = [first for first, _, _ in stsc[1:]] + [len(chunk_offsets) + 1]
    for (first, per_chunk, description), next_first in zip(stsc, bounds, strict=True):
        if description != 1 or first < 1 or next_first < first:
            raise Unsupported("sample-to-chunk table")
        for chunk in range(first, next_first):
            position = chunk_offsets[chunk - 1]
            for _ in range(per_chunk):
                if len(offsets) == len(sizes):
                    raise Unsupported("sample tables disagree")
                offsets.append(position)
                position += sizes[len(offsets) - 1]
    if len(offsets) != len(sizes):
        raise Unsupported("sample tables disagree")
    return offsets


# The plan --------------------------------------------------------------------


@dataclass
class Plan:
    """The new file's header, the byte ranges to copy after it, and what the manifest says of the cut."""

    segments: list
    header: bytes
    ranges: list  # (segment index, source offset, length), in the order they follow the header
    payload: int
    duration: float
    keyframe: float
    samples: int

    @property
    def size(self):
        return len(self.header) + self.payload


def _shown(segment):
    """(when each sample is shown, in media time; the media time of the segment's first frame shown)."""
    composition = segment.composition or [0] * len(segment.sizes)
    shown, time = [], 0
    for duration, offset in zip(segment.durations, composition, strict=True):
        shown.append(time + offset)
        time += duration
    # Times are from the first frame shown: where the edit list starts showing, if there is one.
    return shown, min(shown) if segment.start is None else segment.start


def _pick(segment, *, inpoint, outpoint):
    """(first, end, keyframe) of the part of the segment in the window: sample indexes in decoding order, and the
    seconds from the segment's first shown frame to the keyframe it starts at.

    It starts at the last keyframe shown at or before the in-point, and ends
    after the last sample shown before the out-point, so that every frame
    shown in the window is there with every frame it is decoded from (with
    B-frames a few of those are shown just after the out-point).
    """
    count = len(segment.sizes)
    shown, origin = _shown(segment)
    first = 0
    if inpoint is not None and inpoint > 0:
        limit = (inpoint + 1e-3) * segment.timescale
        keys = [i for i in range(count) if (segment.sync is None or segment.sync[i]) and shown[i] - origin <= limit]
        first = keys[-1] if keys else 0
    keyframe = (shown[first] - origin) / segment.timescale
    end = count
    if outpoint is not None:
        limit = outpoint * segment.timescale
        end = 1 + max((i for i in range(count) if shown[i] - origin < limit), default=-1)
    return first, max(first, end), keyframe


def plan_cut(paths, *, inpoint=None, outpoint=None, starts=None, tolerance=0.0):
    """Lay out the clip of [inpoint in the first segment, outpoint in the last) of the segments, or raise Unsupported.

    inpoint and outpoint are seconds from the start of the first and the
    last segment; None (or an inpoint of 0) takes the segment whole.
    `starts` are the segments' wall-clock (aware) start times: with them the
    clip keeps the holes between segments longer than a frame and than
    `tolerance` seconds (`_keep_gaps`), and its headers say when its first
    frame was recorded. Without them the segments are joined end to end.
    """
    try:
        segments = [read_segment(path) for path in paths]
    except (OSError, struct.error, IndexError, ValueError) as error:
        raise Unsupported(f"unreadable segment: {error}") from error
    if not segments:
        raise Unsupported("no segments")
    if len({segment.description for segment in segments}) != 1:
        raise Unsupported("segments differ in their sample descriptions")

    picked, keyframe = [], 0.0  # (segment index, sample index)
    for index, segment in enumerate(segments):
        first, end, shown = _pick(
            segment,
            inpoint=inpoint if index == 0 else None,
            outpoint=outpoint if index == len(segments) - 1 else None,
        )
        if index == 0 and segment.sync is not None and first < end and not segment.sync[first]:
            raise Unsupported("the first segment does not start with a keyframe")
        if index > 0 and segment.sync is not None and first < end and not segment.sync[first] and not picked:
            raise Unsupported("the clip would not start with a keyframe")
        if index == 0:
            keyframe = shown
        picked.extend((index, sample) for sample in range(first, end))
    if not picked:
        raise Unsupported("no samples in the window")
    durations = [segments[i].durations[s] for i, s in picked]
    created = None
    if starts is not None:
        if len(starts) != len(segments):
            raise ValueError("one start time per segment")
        _keep_gaps(segments, picked, durations, starts=starts, tolerance=tolerance)
        created = starts[0] + dt.timedelta(seconds=keyframe)
    try:
        return _lay_out(segments, picked, durations, keyframe=keyframe, created=created)
    except (struct.error, OverflowError, ValueError) as error:
        raise Unsupported(f"cannot lay out the clip: {error}") from error


def _keep_gaps(segments, picked, durations, *, starts, tolerance):
    """Where the recording has a hole, make the last sample before it last until the next segment starts.

    Each segment's first frame shown is due where the one before it was
    placed plus the difference of their wall-clock starts. When it would
    otherwise come more than a frame (and more than `tolerance` seconds)
    early, the sample decoded just before it gets the difference added to
    its duration (its stts entry): every later sample is then decoded, and
    shown, that much later, and players hold the last frame before the hole
    on screen for as long as nothing was recorded. A segment that would come
    late (segments overlap) or only a little early follows on at once.
    Changes `durations` (of the picked samples) in place.
    """
    timescale = segments[0].timescale
    clock = 0  # the clip's decoding time of the sample at `position`
    placed = None  # (segment index, where that segment's first frame shown lies on the clip's timeline)
    for position, (index, sample) in enumerate(picked):
        if placed is None or placed[0] != index:
            segment = segments[index]
            zero = clock - sum(segment.durations[:sample]) + _shown(segment)[1]
            if placed is not None:
                previous, previous_zero = placed
                due = previous_zero + (starts[index] - starts[previous]).total_seconds() * timescale
                early = round(due - zero)
                if early > max(durations[position - 1], tolerance * timescale):
                    durations[position - 1] += early
                    clock += early
                    zero += early
            placed = (index, zero)
        clock += durations[position]


def _lay_out(segments, picked, durations, *, keyframe, created):
    """The Plan that copies the picked (segment, sample) pairs, in that order, after a new header.

    `durations` are the picked samples' durations; `created`, when known, the wall-clock time of the first frame.
    """
    # Chunks of the new file and the source ranges they are copied from.
    chunks, ranges = [], []  # chunks: [new offset (relative to the payload), sample count]
    payload = 0
    previous_end = None
    for index, sample in picked:
        segment = segments[index]
        offset, length = segment.offsets[sample], segment.sizes[sample]
        contiguous = previous_end == (index, offset)
        if contiguous and ranges:
            ranges[-1][2] += length
        else:
            ranges.append([index, offset, length])
        if contiguous and chunks and payload + length - chunks[-1][0] <= CHUNK_BYTES:
            chunks[-1][1] += 1
        else:
            chunks.append([payload, 1])
        payload += length
        previous_end = (index, offset + length)

    reference = segments[0]
    sizes = [segments[i].sizes[s] for i, s in picked]
    composition = None
    if any(segment.composition for segment in segments):
        composition = [(segments[i].composition or [0] * len(segments[i].sizes))[s] for i, s in picked]
    sync = None
    if any(segment.sync is not None for segment in segments):
        sync = [segments[i].sync is None or segments[i].sync[s] for i, s in picked]
    media_duration = sum(durations)
    shift, shown_end = 0, media_duration
    if composition:
        # B-frames make frames show later than they are decoded: the clip is shown from its first frame shown
        # to the end of its last.
        shown, time = [], 0
        for duration, offset in zip(durations, composition, strict=True):
            shown.append((time + offset, time + offset + duration))
            time += duration
        shown_end = max(end for _, end in shown)
        # Show from the keyframe: frames shown before it (open-GOP leading pictures) lack their references.
        shift = composition[0]
        if shift < 0:
            raise Unsupported("negative composition offset at the first keyframe")
    movie_duration = round((shown_end - shift) * reference.movie_timescale / reference.timescale)

    # Past 4 GiB the mdat size and the chunk offsets need 64 bits (the header's own size is a generous allowance).
    wide = payload + 64 * 1024 * 1024 > LARGE_FILE
    mdat_header = struct.pack(">I4sQ", 1, b"mdat", 16 + payload) if wide else struct.pack(">I4s", 8 + payload, b"mdat")

    def moov(base):
        return _moov(
            reference,
            sizes=sizes,
            durations=durations,
            composition=composition,
            sync=sync,
            chunks=[(base + offset, count) for offset, count in chunks],
            wide=wide,
            media_duration=media_duration,
            movie_duration=movie_duration,
            shift=shift,
            created=created,
        )

    # The moov's size does not depend on the offsets it holds: lay it out once to learn where the payload starts.
    base = len(reference.ftyp) + len(moov(0)) + len(mdat_header)
    header = reference.ftyp + moov(base) + mdat_header
    return Plan(
        segments=segments,
        header=header,
        ranges=[tuple(r) for r in ranges],
        payload=payload,
        duration=(shown_end - shift) / reference.timescale,
        keyframe=keyframe,
        samples=len(picked),
    )


def _runs(values):
    runs = []
    for value in values:
        if runs and runs[-1][1] == value:
            runs[-1][0] += 1
        else:
            runs.append([1, value])
    return runs


def mp4_time(moment):
    """An aware datetime as MP4 headers count time: whole seconds since 1904-01-01 UTC (the second it falls in)."""
    return (moment - MP4_EPOCH) // dt.timedelta(seconds=1)


def _timed_box(box, duration, *, track=False, created=None):
    """A copy of an mvhd, mdhd or tkhd box with another duration, written as version 1 (64-bit times).

    After version and flags come the creation and modification times, then
    the time scale (mvhd, mdhd) or the track id and a reserved word (tkhd),
    then the duration, then what the box holds besides. With `created` (an
    aware datetime) both times say that moment, as ffmpeg writes them.
    """
    kind, version, flags, body = box[4:8], box[8], box[9:12], box[12:]
    times = struct.unpack_from(">QQ" if version == 1 else ">II", body)
    if created is not None:
        times = (mp4_time(created),) * 2
    rest = body[16 if version == 1 else 8 :]
    middle, rest = rest[: 8 if track else 4], rest[8 if track else 4 :]
    rest = rest[8 if version == 1 else 4 :]
    return _box(kind, bytes([1]) + flags, struct.pack(">QQ", *times), middle, struct.pack(">Q", duration), rest)


def _moov(reference, *, sizes, durations, composition, sync, chunks, wide, media_duration, movie_duration, shift, created):
    stts = _runs(durations)
    tables = [
        reference.stsd,
        _full_box(b"stts", 0, 0, struct.pack(f">I{2 * len(stts)}I", len(stts), *(v for run in stts for v in run))),
    ]
    if composition is not None:
        ctts = _runs(composition)
        version = 1 if any(value < 0 for value in composition) else 0
        item = "i" if version else "I"
        tables.append(
            _full_box(b"ctts", version, 0, struct.pack(">I", len(ctts)), *(struct.pack(">I" + item, *run) for run in ctts))
        )
    if sync is not None and not all(sync):
        numbers = [i + 1 for i, key in enumerate(sync) if key]
        tables.append(_full_box(b"stss", 0, 0, struct.pack(f">I{len(numbers)}I", len(numbers), *numbers)))
    tables.append(_full_box(b"stsz", 0, 0, struct.pack(f">II{len(sizes)}I", 0, len(sizes), *sizes)))
    stsc = []
    for number, (_, count) in enumerate(chunks, start=1):
        if not stsc or stsc[-1][1] != count:
            stsc.append((number, count, 1))
    tables.append(_full_box(b"stsc", 0, 0, struct.pack(f">I{3 * len(stsc)}I", len(stsc), *(v for e in stsc for v in e))))
    offsets = [offset for offset, _ in chunks]
    if wide:
        tables.append(_full_box(b"co64", 0, 0, struct.pack(f">I{len(offsets)}Q", len(offsets), *offsets)))
    else:
        tables.append(_full_box(b"stco", 0, 0, struct.pack(f">I{len(offsets)}I", len(offsets), *offsets)))
    minf = _box(b"minf", *reference.minf_other, _box(b"stbl", *tables))
    mdia = _box(b"mdia", _timed_box(reference.mdhd, media_duration, created=created), reference.hdlr, minf)
    tkhd = _timed_box(reference.tkhd, movie_duration, track=True, created=created)
    track_id = struct.unpack_from(">I", tkhd, 28)[0]
    edts = b""
    if shift:
        # Start showing at the first frame, past the composition delay of B-frames (as the segments' own edit list did).
        elst = _full_box(b"elst", 1, 0, struct.pack(">IQqhh", 1, movie_duration, shift, 1, 0))
        edts = _box(b"edts", elst)
    trak = _box(b"trak", tkhd, edts, mdia)
    # The movie header ends with the id the next track would take.
    mvhd = _timed_box(reference.mvhd, movie_duration, created=created)[:-4] + struct.pack(">I", track_id + 1)
    return _box(b"moov", mvhd, trak)


# Writing ---------------------------------------------------------------------


def _ensure_unchanged(segment, descriptor, when):
    stat = os.fstat(descriptor)
    if (stat.st_size, stat.st_mtime_ns) != (segment.size, segment.mtime_ns):
        raise SourceChanged(errno.EAGAIN, f"{segment.path.name} changed {when}")


def write_clip(plan, out_path, *, known=None):
    """Write the planned clip to out_path; returns (clip SHA-256, clip size, [(SHA-256, size) of each segment]).

    `known` maps segment indexes whose hashes are already known (segments
    fetched from a remote source and hashed on the way) to (SHA-256, size).
    """
    known = known or {}
    sources, source_hashes = [], {}
    # The clip is hashed by the writer's thread; the sources by this one, meanwhile.
    source_hasher = ThreadPoolExecutor(max_workers=1)
    writer = HashedWriter(out_path)
    try:
        for index, segment in enumerate(plan.segments):
            descriptor = os.open(segment.path, os.O_RDONLY)
            sources.append(descriptor)
            _ensure_unchanged(segment, descriptor, "after it was read")
            if index not in known:
                source_hashes[index] = source_hasher.submit(hash_descriptor, descriptor, segment.size)
        writer.write(plan.header)
        for index, offset, length in plan.ranges:
            writer.copy(sources[index], offset, length, name=plan.segments[index].path.name)
        size = writer.position
        sha256 = writer.close()
        hashes = [known[i] if i in known else source_hashes[i].result() for i in range(len(plan.segments))]
        for segment, descriptor in zip(plan.segments, sources, strict=True):
            _ensure_unchanged(segment, descriptor, "while it was cut")
        if size != plan.size:
            raise SourceChanged(errno.EIO, "the clip came out shorter than planned")
        return sha256, size, hashes
    finally:
        writer.abandon()
        source_hasher.shutdown(wait=True, cancel_futures=True)
        for descriptor in sources:
            os.close(descriptor)
