"""Reading media files through FFmpeg's libraries (PyAV), in the worker's own process: no ffprobe to install.

Probing reads packets only; nothing here decodes unless it says so.
"""

import itertools
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

import av
import av.logging

# Containers whose packets carry no usable time are refused by the callers; PyAV raises av.FFmpegError
# (a subclass of OSError in PyAV) for a file FFmpeg cannot open.
MediaError = (av.FFmpegError, OSError, ValueError)


def probe_duration(path):
    """Seconds of media in a file, or None when FFmpeg cannot read it."""
    try:
        with av.open(str(path)) as container:
            if container.duration:
                seconds = container.duration / av.time_base
            else:
                stream = next(iter(container.streams.video), None) or next(iter(container.streams), None)
                if stream is None or not stream.duration or stream.time_base is None:
                    return None
                seconds = float(stream.duration * stream.time_base)
    except MediaError:
        return None
    return seconds if seconds > 0 else None


def video_packets(path):
    """(pts seconds, dts seconds, is keyframe, payload bytes) of every packet of the first video stream, in file order."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        base = stream.time_base
        for packet in container.demux(stream):
            if packet.size == 0:
                continue  # the demuxer's end-of-stream marker
            pts = float(packet.pts * base) if packet.pts is not None else None
            dts = float(packet.dts * base) if packet.dts is not None else None
            yield pts, dts, packet.is_keyframe, bytes(packet)


def keyframe_times(path):
    """Seconds from the start of the file of every video keyframe (read from packets, nothing decoded)."""
    times, keys = [], []
    try:
        for pts, _dts, keyframe, _data in video_packets(path):
            if pts is None:
                continue
            times.append(pts)
            if keyframe:
                keys.append(pts)
    except MediaError:
        return [0.0]
    if not times:
        return [0.0]
    origin = min(times)
    return sorted(k - origin for k in keys) or [0.0]


def stream_codecs(path):
    """Codec names of every stream in the file, in stream order."""
    with av.open(str(path)) as container:
        return [stream.codec_context.name for stream in container.streams]


# Decoding every frame --------------------------------------------------------

# libav has one log per process (PyAV routes it from C to Python), not one per decoder, and PyAV's
# capture of it is process-wide as well: the messages of decoder threads libav starts itself reach no
# thread-local capture. So a decode check holds this lock while it captures, and one check at a time
# reads the log in a process; within a check only the messages of the decoder are kept (libav names
# them after the codec), so a file probed by another thread meanwhile, which logs as the demuxer, is not
# held against the clip. Any other decoding of the same codec in the same process at the same time would
# be mixed in: an export worker does none (Celery's prefork pool runs one export per process, and an
# export checks its clips one after another).
_LOG_LOCK = threading.Lock()
# How often (in frames) a check reports how far it has got.
PROGRESS_EVERY = 250
# No frame shown for longer than this many frame intervals, and than HOLE_SECONDS, is a hole in the clip's pictures.
HOLE_FRAMES = 5
HOLE_SECONDS = 0.5


def hole_threshold(interval):
    """Seconds without a new frame beyond which a clip has a hole, for frames `interval` seconds apart (None: unknown)."""
    return max(HOLE_FRAMES * (interval or 0.0), HOLE_SECONDS)


@dataclass
class Damage:
    """A frame that did not decode cleanly: where it is in the file, and what the decoder said."""

    index: int  # the frame's place in decoding order
    seconds: float  # when it is shown, in seconds from the file's first frame shown
    duration: float
    position: int | None  # byte offset of its packet in the file
    problems: list = field(default_factory=list)
    frames: int = 1  # how many frames this stands for (more when the file cannot be read past it)
    whole_file: bool = False  # the file could not be decoded at all: no frame, no segment to name
    pictureless: int = 0  # of those frames, how many the decoder returned no picture for (or that are missing)
    # Frames decoded after this one up to the next keyframe are predicted from it and may carry its damage: when
    # the last of them stops being shown, in seconds from the file's first frame shown (None: no such frame).
    affects_to: float | None = None


@dataclass
class DecodeReport:
    """What a full decode of a file's video found."""

    frames_in_file: int
    frames_decoded: int
    damage: list
    checked_with: str
    not_checked: list = field(default_factory=list)  # kinds of the other streams (audio…), not decoded
    seconds: float = 0.0  # how long the check took
    frame_interval: float | None = None  # the usual time between two frames shown (the median), in seconds
    shown_to: float = 0.0  # when the last frame shown stops being shown, in seconds from the first one
    # (from, to) in seconds from the first frame shown: times no frame is shown for longer than hole_threshold. A gap
    # in the recordings is kept in a clip as such a hole; which of them are explained is for the caller to say.
    holes: list = field(default_factory=list)

    @property
    def decoded(self):
        """True only when every frame of the video decoded without an error."""
        return not self.damage and self.frames_decoded == self.frames_in_file


def checked_with(codec=None):
    """How a decode check checks, as the manifest says it: FFmpeg's decoder, in which versions."""
    libavcodec = ".".join(str(n) for n in av.library_versions["libavcodec"])
    decoder = f", {codec} decoder" if codec else ""
    return f"FFmpeg {av.ffmpeg_version_info} (libavcodec {libavcodec}{decoder}) via PyAV {av.__version__}, full decode"


@contextmanager
def _decoder_log():
    """libav's error messages, captured while the block runs (see _LOG_LOCK), then the log as it was."""
    with _LOG_LOCK:
        level, skip_repeated = av.logging.get_level(), av.logging.get_skip_repeated()
        # PyAV folds a message repeated at once into one line, and says so only when another one comes.
        av.logging.set_skip_repeated(False)
        av.logging.set_level(av.logging.ERROR)
        try:
            with av.logging.Capture(local=False) as logs:
                yield logs
        finally:
            av.logging.set_level(level)
            av.logging.set_skip_repeated(skip_repeated)


def _error_words(error):
    return getattr(error, "strerror", None) or str(error) or type(error).__name__


def _decode_pass(path, *, threads, progress):
    """One decode of the file's first video stream: (frames in file, frames decoded, [Damage], codec, other streams,
    (frame interval, when the last frame stops being shown, [holes]))."""
    problems = {}  # decoding index -> what went wrong
    packets = []  # (pts, duration, byte position) of each packet in decoding order; None for one the edit list hides
    keyframes = []  # whether each packet, in decoding order, is a keyframe (decoded without reference to others)
    pictureless = set()  # decoding indexes of the frames that gave no picture
    decoded, corrupt, frames = set(), [], 0
    unreadable = None

    def note(index, problem):
        problems.setdefault(index, []).append(problem)

    with _decoder_log() as logs, av.open(str(path)) as container:
        stream = container.streams.video[0]
        others = [s.type for s in container.streams if s.index != stream.index]
        context = stream.codec_context
        # Frame threads decode several frames at once and report an error a few frames late; one thread
        # reports it while the frame it belongs to is being decoded.
        context.thread_type = "FRAME" if threads != 1 else "NONE"
        context.thread_count = threads
        codec, base, announced = context.name, stream.time_base, stream.frames
        read, index = 0, 0
        try:
            for packet in container.demux(stream):
                if packet.size:
                    index = len(packets)
                    # A packet the edit list hides is decoded for the frames that refer to it, but never shown.
                    packets.append(None if packet.is_discard else (packet.pts, packet.duration, packet.pos))
                    keyframes.append(packet.is_keyframe)
                    if packet.is_corrupt:
                        note(index, "packet marked corrupt when it was recorded")
                try:
                    for frame in context.decode(packet if packet.size else None):
                        frames += 1
                        decoded.add(frame.pts)
                        if frame.is_corrupt:
                            corrupt.append(frame.pts)
                        if progress and frames % PROGRESS_EVERY == 0:
                            progress(frames, announced)
                except av.FFmpegError as error:
                    note(index, _error_words(error))
                for _level, name, message in logs[read:]:
                    if name == codec:
                        note(index, f"{name}: {message.strip()}")
                read = len(logs)
        except av.FFmpegError as error:
            # Nothing past this point can be read, let alone decoded.
            unreadable = error
    if progress:
        progress(frames, announced)

    by_pts = {packet[0]: index for index, packet in enumerate(packets) if packet and packet[0] is not None}
    for pts in corrupt:
        if pts in by_pts:
            note(by_pts[pts], "frame decoded with errors")
    for pts, index in by_pts.items():
        if pts not in decoded:
            note(index, "frame not decoded")
            pictureless.add(index)
    frames_in_file = sum(1 for packet in packets if packet)
    lost = 0
    if unreadable is not None:
        lost = max(1, (announced or 0) - frames_in_file)
        note(len(packets), f"file unreadable from here on: {_error_words(unreadable)}")
    elif announced and announced > frames_in_file:
        lost = announced - frames_in_file
        note(len(packets), f"file ends before the last {lost} of the {announced} frames its header lists")
    frames_in_file += lost
    origin = min(by_pts, default=0)
    timeline = _timeline(packets, origin, base)
    damage = []
    for index, found in sorted(problems.items()):
        # A packet that is never shown, or the point where reading stopped: placed after the last frame before it.
        place = next((packets[i] for i in range(min(index, len(packets) - 1), -1, -1) if packets[i]), None)
        pts, duration, position = place or (origin, 0, -1)
        pts = origin if pts is None else pts
        if index >= len(packets) or packets[index] is None:
            pts, duration, position = pts + (duration or 0), 0, -1
        damage.append(
            Damage(
                index=index,
                seconds=float((pts - origin) * base),
                duration=float((duration or 0) * base),
                position=position if position is not None and position >= 0 else None,
                problems=list(dict.fromkeys(found)),
                frames=lost if index >= len(packets) else 1,
                pictureless=lost if index >= len(packets) else int(index in pictureless),
                affects_to=_affects_to(packets, keyframes, index, origin, base),
            )
        )
    damage.sort(key=lambda d: (d.seconds, d.index))
    return frames_in_file, frames, damage, codec, others, timeline


def _affects_to(packets, keyframes, index, origin, base):
    """When the frames decoded after packet `index` up to the next keyframe stop being shown (seconds from the first
    frame shown); None when no frame follows it before a keyframe. Those frames are predicted from it (or from frames
    predicted from it): a decoder conceals a damaged frame, and the frames referring to it carry what it concealed.
    """
    following = []
    for later in range(index + 1, len(packets)):
        if keyframes[later]:
            break
        if packets[later] is not None and packets[later][0] is not None:
            following.append(packets[later])
    if not following:
        return None
    return float(max(pts + (duration or 0) for pts, duration, _position in following) - origin) * float(base)


def _timeline(packets, origin, base):
    """(usual frame interval, when the last frame stops being shown, [holes]) of the frames shown, in seconds."""
    shown = sorted((pts, duration or 0) for pts, duration, _position in filter(None, packets) if pts is not None)
    if not shown:
        return None, 0.0, []
    seconds = [float((pts - origin) * base) for pts, _duration in shown]
    steps = sorted(b - a for a, b in itertools.pairwise(seconds) if b > a)
    interval = steps[len(steps) // 2] if steps else None
    last_pts, last_duration = shown[-1]
    shown_to = float((last_pts - origin + last_duration) * base) if last_duration else seconds[-1] + (interval or 0.0)
    limit = hole_threshold(interval)
    holes = [(a + (interval or 0.0), b) for a, b in itertools.pairwise(seconds) if b - a > limit]
    return interval, shown_to, holes


def decode_check(path, *, threads=0, progress=None):
    """Decode every frame of a file's video stream and say which frames did not decode cleanly (a DecodeReport).

    A frame counts as damaged when decoding its packet raised an error or
    made the decoder log one, when the decoder marked it corrupt, or when it
    never came out of the decoder. With several threads (`threads` 0 picks
    as many as there are cores) errors surface a few frames late; so when a
    threaded decode finds any damage, the file is decoded once more on one
    thread, which ties every error to its own frame. `progress(frames, total)`
    is called from the decoding thread every PROGRESS_EVERY frames (total is
    what the file's header announces, 0 when it says nothing); an exception
    it raises stops the check.

    What is checked is what FFmpeg's decoder detects: bytes changed where
    the bitstream still parses are decoded without complaint and only look
    wrong; the manifest says how the clip was checked, never more. A damaged
    frame's `affects_to` says how far the frames predicted from it run, and
    the report's `holes` where no frame is shown at all (a gap in the
    recordings, or footage missing from a segment): the frames there were
    never in the file, so no decoder can complain of them.
    """
    started = time.perf_counter()
    try:
        frames_in_file, frames, damage, codec, others, timeline = _decode_pass(path, threads=threads, progress=progress)
    except (av.InvalidDataError, av.DecoderNotFoundError, IndexError) as error:
        # Not a file FFmpeg can open, or one without video: nothing in it decodes.
        problem = "no video stream" if isinstance(error, IndexError) else f"file cannot be decoded: {_error_words(error)}"
        return DecodeReport(
            frames_in_file=0,
            frames_decoded=0,
            damage=[Damage(index=0, seconds=0.0, duration=0.0, position=None, problems=[problem], frames=0, whole_file=True)],
            checked_with=checked_with(),
            seconds=time.perf_counter() - started,
        )
    if damage and threads != 1:
        frames_in_file, frames, damage, codec, others, timeline = _decode_pass(path, threads=1, progress=progress)
    interval, shown_to, holes = timeline
    return DecodeReport(
        frames_in_file=frames_in_file,
        frames_decoded=frames,
        damage=damage,
        checked_with=checked_with(codec),
        not_checked=others,
        seconds=time.perf_counter() - started,
        frame_interval=interval,
        shown_to=shown_to,
        holes=holes,
    )
