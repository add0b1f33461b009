"""What a clip holds, read through PyAV (FFmpeg's libraries): the tests need no ffprobe."""

import hashlib

import av
from django.conf import settings

FFMPEG = settings.FFMPEG_BINARY


def packets(path):
    """Each video packet's SHA-256, keyframe flag ("K" or "_"), and decoding and presentation times in stream units."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return [
            ("SHA256:" + hashlib.sha256(bytes(p)).hexdigest(), "K" if p.is_keyframe else "_", p.dts, p.pts)
            for p in container.demux(stream)
            if p.size
        ]


def packet_hashes(path):
    return [digest for digest, *_ in packets(path)]


def shown_times(path):
    """Seconds at which each decoded frame is shown, in the order shown."""
    with av.open(str(path)) as container:
        return [round(float(frame.time), 3) for frame in container.decode(video=0)]


def frame_count(path):
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def codecs(path):
    with av.open(str(path)) as container:
        return [stream.codec_context.name for stream in container.streams]


def creation_times(path):
    """When the clip says it was recorded: the creation_time of the file and of its video stream, as PyAV reads them."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return container.metadata.get("creation_time"), stream.metadata.get("creation_time")
