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
2. `write_clip_into` writes that header straight into a member of the
   release's zip package (`write_clip`: into a file of its own), copies the
   samples' byte ranges with copy_file_range (inside the kernel, as cp does),
   and meanwhile hashes every source segment and the clip in two other
   threads. The copied bytes are hashed as written (read back from the
   package while still in the page cache), so the clip's SHA-256 is that of
   the bytes the package holds and not of what was meant to be copied; a
   segment that changes while it is read fails the cut (a retry starts
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

from requests.filecopy import HashedWriter, SourceChanged, hash_descriptor
from requests.mp4boxes import Unsupported, build_box, build_full_box, read_segment

# A chunk of the new file holds at most this many bytes (players read a chunk's samples from its offset).
CHUNK_BYTES = 1024 * 1024
# Files larger than this need 64-bit sizes and offsets.
LARGE_FILE = 0xFFFFFFFF
# MP4 headers count time in seconds from here.
MP4_EPOCH = dt.datetime(1904, 1, 1, tzinfo=dt.UTC)


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
    return build_box(kind, bytes([1]) + flags, struct.pack(">QQ", *times), middle, struct.pack(">Q", duration), rest)


def _moov(reference, *, sizes, durations, composition, sync, chunks, wide, media_duration, movie_duration, shift, created):
    stts = _runs(durations)
    tables = [
        reference.stsd,
        build_full_box(b"stts", 0, 0, struct.pack(f">I{2 * len(stts)}I", len(stts), *(v for run in stts for v in run))),
    ]
    if composition is not None:
        ctts = _runs(composition)
        version = 1 if any(value < 0 for value in composition) else 0
        item = "i" if version else "I"
        tables.append(
            build_full_box(b"ctts", version, 0, struct.pack(">I", len(ctts)), *(struct.pack(">I" + item, *run) for run in ctts))
        )
    if sync is not None and not all(sync):
        numbers = [i + 1 for i, key in enumerate(sync) if key]
        tables.append(build_full_box(b"stss", 0, 0, struct.pack(f">I{len(numbers)}I", len(numbers), *numbers)))
    tables.append(build_full_box(b"stsz", 0, 0, struct.pack(f">II{len(sizes)}I", 0, len(sizes), *sizes)))
    stsc = []
    for number, (_, count) in enumerate(chunks, start=1):
        if not stsc or stsc[-1][1] != count:
            stsc.append((number, count, 1))
    tables.append(build_full_box(b"stsc", 0, 0, struct.pack(f">I{3 * len(stsc)}I", len(stsc), *(v for e in stsc for v in e))))
    offsets = [offset for offset, _ in chunks]
    if wide:
        tables.append(build_full_box(b"co64", 0, 0, struct.pack(f">I{len(offsets)}Q", len(offsets), *offsets)))
    else:
        tables.append(build_full_box(b"stco", 0, 0, struct.pack(f">I{len(offsets)}I", len(offsets), *offsets)))
    minf = build_box(b"minf", *reference.minf_other, build_box(b"stbl", *tables))
    mdia = build_box(b"mdia", _timed_box(reference.mdhd, media_duration, created=created), reference.hdlr, minf)
    tkhd = _timed_box(reference.tkhd, movie_duration, track=True, created=created)
    track_id = struct.unpack_from(">I", tkhd, 28)[0]
    edts = b""
    if shift:
        # Start showing at the first frame, past the composition delay of B-frames (as the segments' own edit list did).
        elst = build_full_box(b"elst", 1, 0, struct.pack(">IQqhh", 1, movie_duration, shift, 1, 0))
        edts = build_box(b"edts", elst)
    trak = build_box(b"trak", tkhd, edts, mdia)
    # The movie header ends with the id the next track would take.
    mvhd = _timed_box(reference.mvhd, movie_duration, created=created)[:-4] + struct.pack(">I", track_id + 1)
    return build_box(b"moov", mvhd, trak)


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
    writer = HashedWriter(out_path)
    try:
        return _write(plan, writer, finish=writer.close, known=known)
    finally:
        writer.abandon()


def write_clip_into(plan, package, name, *, known=None):
    """Write the planned clip straight into a package, as its member `name` (`zipwriter.PackageWriter.member`).

    Returns (clip SHA-256, clip size, [(SHA-256, size) of each segment],
    the member's ZipEntry): the clip's bytes are written once, into the
    package, and hashed as they are read back from it. On an error the
    caller abandons the package.
    """
    member = package.member(name, size=plan.size)
    return (*_write(plan, member, finish=member.close, known=known), member.entry)


def _write(plan, writer, *, finish, known):
    """Write the planned clip through `writer` (a HashedWriter or a package member), then `finish()` it for the clip's
    SHA-256, while this thread hashes the source segments."""
    known = known or {}
    sources, source_hashes = [], {}
    # The clip is hashed by the writer's thread; the sources by this one, meanwhile.
    source_hasher = ThreadPoolExecutor(max_workers=1)
    try:
        start = writer.position
        for index, segment in enumerate(plan.segments):
            descriptor = os.open(segment.path, os.O_RDONLY)
            sources.append(descriptor)
            _ensure_unchanged(segment, descriptor, "after it was read")
            if index not in known:
                source_hashes[index] = source_hasher.submit(hash_descriptor, descriptor, segment.size)
        writer.write(plan.header)
        for index, offset, length in plan.ranges:
            writer.copy(sources[index], offset, length, name=plan.segments[index].path.name)
        size = writer.position - start
        if size != plan.size:
            raise SourceChanged(errno.EIO, "the clip came out shorter than planned")
        sha256 = finish()
        hashes = [known[i] if i in known else source_hashes[i].result() for i in range(len(plan.segments))]
        for segment, descriptor in zip(plan.segments, sources, strict=True):
            _ensure_unchanged(segment, descriptor, "while it was cut")
        return sha256, size, hashes
    finally:
        source_hasher.shutdown(wait=True, cancel_futures=True)
        for descriptor in sources:
            os.close(descriptor)
