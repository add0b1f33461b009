"""The release package: a zip any tool opens and checks, written without passing the video through Python."""

import hashlib
import shutil
import subprocess
import zipfile
import zlib

import pytest

from requests import zipwriter
from requests.filecopy import SourceChanged


def _bag(tmp_path):
    bag = tmp_path / "YC-2026-000001"
    (bag / "data").mkdir(parents=True)
    (bag / "data" / "01_HB-001.mp4").write_bytes(bytes(range(256)) * 4000)
    (bag / "manifest.json").write_text('{"reference": "YC-2026-000001"}', encoding="utf-8")
    (bag / "biên-bản.txt").write_text("Biên bản giao nhận dữ liệu", encoding="utf-8")
    (bag / "empty.txt").write_bytes(b"")
    return bag


def _check(bag, package, sha256, size):
    data = package.read_bytes()
    assert (sha256, size) == (hashlib.sha256(data).hexdigest(), len(data))
    with zipfile.ZipFile(package) as archive:
        assert archive.testzip() is None
        members = {info.filename: archive.read(info) for info in archive.infolist()}
        assert all(info.compress_type == zipfile.ZIP_STORED for info in archive.infolist())
    expected = {p.relative_to(bag.parent).as_posix(): p.read_bytes() for p in bag.rglob("*") if p.is_file()}
    assert members == expected
    if shutil.which("unzip"):
        tested = subprocess.run(["unzip", "-t", str(package)], capture_output=True, text=True)
        assert tested.returncode == 0, tested.stdout + tested.stderr


def test_the_package_opens_and_checks_in_any_zip_tool(tmp_path):
    bag = _bag(tmp_path)
    package, sha256, size = zipwriter.pack_bag(bag, tmp_path / "package.zip")
    _check(bag, package, sha256, size)
    with zipfile.ZipFile(package) as archive:
        # Names outside ASCII are marked as UTF-8, so every tool shows them right.
        assert "YC-2026-000001/biên-bản.txt" in archive.namelist()


def test_a_package_past_four_gigabytes_uses_the_zip64_records(tmp_path, monkeypatch):
    monkeypatch.setattr(zipwriter, "ZIP64_LIMIT", 0)
    monkeypatch.setattr(zipwriter, "ZIP64_COUNT", 0)
    bag = _bag(tmp_path)
    package, sha256, size = zipwriter.pack_bag(bag, tmp_path / "package.zip")
    _check(bag, package, sha256, size)
    assert b"PK\x06\x06" in package.read_bytes()[-200:]


def test_every_member_carries_the_checksum_of_its_bytes(tmp_path):
    bag = _bag(tmp_path)
    package, _, _ = zipwriter.pack_bag(bag, tmp_path / "package.zip")
    with zipfile.ZipFile(package) as archive:
        for info in archive.infolist():
            data = (tmp_path / info.filename).read_bytes()
            assert (info.CRC, info.file_size) == (zlib.crc32(data), len(data))


def test_a_member_written_in_place_is_what_the_zip_holds_with_its_own_hash(tmp_path):
    source = tmp_path / "source.bin"
    source.write_bytes(bytes(range(256)) * 3000)
    head, body = b"header bytes", source.read_bytes()[1000:500_000]
    writer = zipwriter.PackageWriter(tmp_path / "package.zip")
    member = writer.member("YC-2026-000001/data/01_HB-001.mp4", size=len(head) + len(body))
    member.write(head)
    with open(source, "rb") as handle:
        member.copy(handle.fileno(), 1000, len(body))
    sha256 = member.close()
    writer.add(source, "YC-2026-000001/manifest.json")
    package, _, _ = writer.finish()

    expected = head + body
    assert sha256 == hashlib.sha256(expected).hexdigest()
    entry = member.entry
    assert package.read_bytes()[entry.data_offset : entry.data_offset + entry.size] == expected
    with zipfile.ZipFile(package) as archive:
        assert archive.testzip() is None
        assert archive.read("YC-2026-000001/data/01_HB-001.mp4") == expected
        assert archive.read("YC-2026-000001/manifest.json") == source.read_bytes()
        assert archive.getinfo("YC-2026-000001/data/01_HB-001.mp4").CRC == zlib.crc32(expected)


def test_a_member_that_does_not_hold_the_size_it_announced_fails(tmp_path):
    writer = zipwriter.PackageWriter(tmp_path / "package.zip")
    member = writer.member("YC-2026-000001/data/clip.mp4", size=10)
    member.write(b"short")
    with pytest.raises(SourceChanged):
        member.close()
    writer.abandon()


def test_a_package_whose_writing_stopped_is_no_zip(tmp_path):
    """A killed export leaves its package without the central directory: no tool takes it for a complete one."""
    writer = zipwriter.PackageWriter(tmp_path / "package.zip")
    member = writer.member("YC-2026-000001/data/clip.mp4", size=4096)
    member.write(b"\0" * 4096)
    member.close()
    writer.abandon()
    with pytest.raises(zipfile.BadZipFile):
        zipfile.ZipFile(tmp_path / "package.zip")
