"""Reading media files through FFmpeg's libraries (PyAV), in the worker's own process: no ffprobe to install.

Probing reads packets only; nothing here decodes unless it says so.
"""

import av

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
