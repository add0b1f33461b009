"""Reading MP4 files box by box: the boxes of a file or a buffer, a movie's duration and codec configurations, and
the sample tables of a plain (unfragmented) single-track video segment; building boxes back.

`read_segment` and the buffer readers understand only what `requests.mp4cut` can copy sample by sample, and raise
Unsupported for anything else (the export then cuts with ffmpeg). The file readers are lenient: they serve the
footage sources' listings, where a file they cannot read is listed as unreadable.
"""

import os
import struct
from dataclasses import dataclass
from pathlib import Path

# Boxes at the top of a segment that carry nothing a clip needs.
SKIPPED_TOP_BOXES = {b"free", b"skip", b"wide", b"uuid", b"meta", b"pdin"}


class Unsupported(Exception):
    """These segments need ffmpeg: the reason says why."""


# Boxes -----------------------------------------------------------------------


def boxes_in(data, start=0, end=None):
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
    for kind, box_start, content, box_end in boxes_in(data, start, end):
        found.setdefault(kind, []).append((box_start, content, box_end))
    return found


def _one(children, kind):
    boxes = children.get(kind, [])
    if len(boxes) != 1:
        raise Unsupported(f"{len(boxes)} {kind.decode(errors='replace')} boxes")
    return boxes[0]


def build_box(kind, *parts):
    payload = b"".join(parts)
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def build_full_box(kind, version, flags, *parts):
    """A full box (version and flags first) of `kind` holding `parts`."""
    return build_box(kind, struct.pack(">I", (version << 24) | flags), *parts)


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
    for kind, box_start, content, box_end in boxes_in(moov, minf_content, minf_end):
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
    entries = list(boxes_in(stsd, 16, len(stsd)))
    if len(entries) != 1:
        raise Unsupported("several sample descriptions")
    kind, _, content, end = entries[0]
    if content + 78 > end:
        raise Unsupported("malformed sample description")
    children = [stsd[start:stop] for child, start, _, stop in boxes_in(stsd, content + 78, end) if child != b"btrt"]
    return build_box(b"stsd", stsd[8:16], build_box(kind, stsd[content : content + 78], *children))


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
    for _, _, entry, _ in boxes_in(moov, dref_content + 8, dref_end):
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


# Files on disk ---------------------------------------------------------------


def mp4_duration(path):
    """Seconds of an MP4 file from its movie header, reading a few hundred bytes; None when there is none to read.

    Listing an hour of one-minute segments must not start sixty decoders:
    the header says how long the file is. A file cut short while recording
    has no movie header and is found unreadable here.
    """
    try:
        with open(path, "rb") as handle:
            moov = _first_box(handle, 0, os.fstat(handle.fileno()).st_size, b"moov")
            mvhd = moov and _first_box(handle, moov[0], moov[1], b"mvhd")
            if not mvhd:
                return None
            handle.seek(mvhd[0])
            version = handle.read(4)[0]
            if version == 1:
                handle.read(16)
                timescale, duration = struct.unpack(">IQ", handle.read(12))
            else:
                handle.read(8)
                timescale, duration = struct.unpack(">II", handle.read(8))
            return duration / timescale if timescale and duration else None
    except (OSError, struct.error, IndexError):
        return None


def mp4_h264_configurations(path):
    """The H.264 decoder configuration (avcC: profile and parameter sets) of each H.264 track; None when unreadable.

    Segments with the same configuration can be joined by copying their
    packets exactly as recorded: one configuration in the joined file's
    header is right for all of them.
    """
    try:
        with open(path, "rb") as handle:
            moov = _first_box(handle, 0, os.fstat(handle.fileno()).st_size, b"moov")
            if not moov:
                return None
            configurations = []
            for kind, _, start, end in mp4_boxes(handle, *moov):
                if kind != b"trak":
                    continue
                box = (start, end)
                for name in (b"mdia", b"minf", b"stbl", b"stsd"):
                    box = _first_box(handle, *box, name)
                    if not box:
                        return None
                # stsd: version and flags, entry count, then the sample entries.
                for entry, _, entry_start, entry_end in mp4_boxes(handle, box[0] + 8, box[1]):
                    if entry not in (b"avc1", b"avc3"):
                        continue
                    # A visual sample entry has 78 bytes of fixed fields before its child boxes.
                    config = _first_box(handle, entry_start + 78, entry_end, b"avcC")
                    if not config:
                        return None
                    handle.seek(config[0])
                    configurations.append(handle.read(config[1] - config[0]))
            return tuple(configurations)
    except (OSError, struct.error, IndexError):
        return None


def mp4_boxes(handle, start, end, *, strict=False):
    """(type, box start, content start, box end) of each box of an open MP4 file between start and end.

    Lenient by default: it stops at the first malformed box. With strict,
    a malformed box or trailing bytes raise ValueError.
    """
    position = start
    while position + 8 <= end:
        handle.seek(position)
        box_size, kind = struct.unpack(">I4s", handle.read(8))
        header = 8
        if box_size == 1:
            box_size = struct.unpack(">Q", handle.read(8))[0]
            header = 16
        elif box_size == 0:
            box_size = end - position
        if box_size < header or position + box_size > end:
            if strict:
                raise ValueError(f"malformed {kind!r} box")
            return
        yield kind, position, position + header, position + box_size
        position += box_size
    if strict and position != end:
        raise ValueError("truncated box header")


def _first_box(handle, start, end, wanted):
    return next(((c, e) for kind, _, c, e in mp4_boxes(handle, start, end) if kind == wanted), None)
