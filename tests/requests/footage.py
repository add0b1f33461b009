"""Tiny recordings (320x180, 2-second segments, a keyframe every second) and an approved request to export them."""

import datetime as dt
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.utils import timezone

from requests import workflow
from requests.sources.testpattern import write_segments
from tests.factories import category
from tests.requests import probe

SEGMENT_SECONDS = 2
SEGMENTS = 12


def _origin():
    # Six seconds before an hour boundary, at least an hour ago: windows cross segment and hour boundaries.
    hour = (timezone.now() - dt.timedelta(hours=2)).astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)
    return hour + dt.timedelta(hours=1) - dt.timedelta(seconds=6)


@pytest.fixture(scope="session")
def segment_bank(tmp_path_factory):
    """Generated once per session; each test gets its own copy."""
    root = tmp_path_factory.mktemp("bank")
    origin = _origin()
    write_segments(root=root, camera="HB-001", start=origin, count=SEGMENTS, seconds=SEGMENT_SECONDS)
    return root, origin


@dataclass
class Footage:
    root: Path
    origin: dt.datetime
    exports: Path
    holds: Path

    def at(self, seconds):
        return self.origin + dt.timedelta(seconds=seconds)

    def segment(self, seconds):
        moment = self.at(seconds)
        return self.root / f"recordings/{moment:%Y-%m-%d/%H}/HB-001/{moment:%M.%S}.mp4"


@pytest.fixture
def footage(segment_bank, settings, tmp_path):
    bank, origin = segment_bank
    root = tmp_path / "footage"
    shutil.copytree(bank, root)
    settings.FOOTAGE_ROOT = root
    settings.FOOTAGE_LAYOUT = "frigate"
    settings.FOOTAGE_CAMERAS = {}
    settings.EXPORT_ROOT = tmp_path / "exports"
    settings.LEGAL_HOLD_ROOT = tmp_path / "holds"
    return Footage(root=root, origin=origin, exports=tmp_path / "exports", holds=tmp_path / "holds")


def add_sound(path: Path) -> None:
    """Give the segment at `path` a sound track (a sine tone), its video copied as it was."""
    silent = path.with_suffix(".silent.mp4")
    path.rename(silent)
    subprocess.run(
        [probe.FFMPEG, "-nostdin", "-v", "error", "-i", str(silent), "-f", "lavfi", "-i", "sine=duration=2"]
        + ["-map", "0:v", "-map", "1:a", "-c:v", "copy", "-c:a", "aac", "-shortest", str(path)],
        check=True,
        capture_output=True,
    )
    silent.unlink()


def approved(world, windows, *, cameras=None):
    """An approved request for (start, end) windows on the world's camera (or the given cameras, one each)."""
    cameras = cameras or [world.camera] * len(windows)
    items = [
        {"camera": camera, "start": start, "end": end, "data_category": category("video")}
        for camera, (start, end) in zip(cameras, windows, strict=True)
    ]
    footage_request = world.submitted(items=items)
    workflow.request_review(actor=world.reviewer, footage_request=footage_request, recommend_approval=True, reason="Đủ căn cứ")
    workflow.request_approve(actor=world.approver, footage_request=footage_request, reason="Đồng ý")
    footage_request.refresh_from_db()
    return footage_request


def export(world, footage_request, capture):
    with capture(execute=True):
        workflow.request_export_start(actor=world.custodian, footage_request=footage_request)
    footage_request.refresh_from_db()
    return footage_request
