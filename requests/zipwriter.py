"""The zip format of a release package: members stored one after the other, with the zip64 extensions when large."""

import os
import struct
import time
from dataclasses import dataclass

from requests.filecopy import Crc32, HashedWriter


class PackageWriter:
    """A zip package written member by member; `finish()` returns (package, SHA-256, size).

    Members are stored, not compressed (video does not compress), and copied
    into the zip by the kernel (`HashedWriter`), one after the other: each
    member's CRC-32 is taken with the package's SHA-256 as its bytes are read
    back, and written after them in a data descriptor, as streaming zip
    writers do. Python's zipfile would pass every byte through Python. The
    export adds the clips while they are still being decoded, and the
    manifest and hand-over record once the check has said what they say.
    """

    def __init__(self, package):
        self.package = package
        self._writer = HashedWriter(package)
        self._directory = []

    def add(self, path, name):
        """Append the file at `path` as the member `name`."""
        writer = self._writer
        with open(path, "rb") as source:
            stat = os.fstat(source.fileno())
            entry = zip_entry(name, size=stat.st_size, mtime=stat.st_mtime, offset=writer.position)
            writer.write(entry.local_header())
            crc = Crc32()
            writer.copy(source.fileno(), 0, stat.st_size, name=name, also=[crc])
            writer.wait()
        entry.crc = crc.value
        writer.write(entry.data_descriptor())
        self._directory.append(entry)

    def finish(self):
        """Write the central directory and close the package: (package, SHA-256, size)."""
        writer = self._writer
        writer.write(zip_directory(self._directory, offset=writer.position))
        size = writer.position
        return self.package, writer.close(), size

    def abandon(self):
        self._writer.abandon()


def pack_bag(bag, package):
    """Zip a bag into package; returns (package, SHA-256, size)."""
    return finish_bag(PackageWriter(package), bag)


def finish_bag(writer, bag, *, added=()):
    """Add to a PackageWriter the files of the bag it does not hold yet (`added`: paths), then finish the package."""
    try:
        for path in sorted(p for p in bag.rglob("*") if p.is_file() and p not in added):
            writer.add(path, path.relative_to(bag.parent).as_posix())
        return writer.finish()
    except BaseException:
        writer.abandon()
        raise


# Above these a zip needs its 64-bit extensions (zip64).
ZIP64_LIMIT = 0xFFFFFFFF
ZIP64_COUNT = 0xFFFF


@dataclass
class ZipEntry:
    """One stored member of a zip: its local header, and its record in the central directory."""

    name: bytes
    size: int
    offset: int
    time: int
    date: int
    flags: int
    crc: int = 0

    @property
    def zip64(self):
        return self.size >= ZIP64_LIMIT or self.offset >= ZIP64_LIMIT

    def local_header(self):
        """The header before the member's bytes: its CRC-32 and sizes follow them, in the data descriptor."""
        extra = struct.pack("<HHQQ", 0x0001, 16, 0, 0) if self.zip64 else b""
        size = 0xFFFFFFFF if self.zip64 else 0
        return (
            struct.pack(
                "<IHHHHHIIIHH",
                0x04034B50,
                45 if self.zip64 else 20,
                self.flags,
                0,  # stored
                self.time,
                self.date,
                0,
                size,
                size,
                len(self.name),
                len(extra),
            )
            + self.name
            + extra
        )

    def data_descriptor(self):
        layout = "<IIQQ" if self.zip64 else "<IIII"
        return struct.pack(layout, 0x08074B50, self.crc, self.size, self.size)

    def directory_record(self):
        extra = struct.pack("<HHQQQ", 0x0001, 24, self.size, self.size, self.offset) if self.zip64 else b""
        size, offset = (0xFFFFFFFF, 0xFFFFFFFF) if self.zip64 else (self.size, self.offset)
        return (
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                (3 << 8) | 45,  # made on Unix, so the permissions below mean what they say
                45 if self.zip64 else 20,
                self.flags,
                0,
                self.time,
                self.date,
                self.crc,
                size,
                size,
                len(self.name),
                len(extra),
                0,  # comment
                0,  # disk
                0,  # internal attributes
                (0o100644 << 16),  # a regular file, rw-r--r--
                offset,
            )
            + self.name
            + extra
        )


def zip_entry(name, *, size, mtime, offset):
    local = time.localtime(mtime)
    year = min(max(local.tm_year, 1980), 2107)
    encoded = name.encode("utf-8")
    return ZipEntry(
        name=encoded,
        size=size,
        offset=offset,
        time=(local.tm_hour << 11) | (local.tm_min << 5) | (local.tm_sec // 2),
        date=((year - 1980) << 9) | (local.tm_mon << 5) | local.tm_mday,
        # Bit 3: CRC-32 and sizes follow the data; bit 11: the name is UTF-8.
        flags=0x0008 | (0 if encoded.isascii() else 0x0800),
    )


def zip_directory(entries, *, offset):
    """The central directory and the end records of a zip whose directory starts at `offset`."""
    records = b"".join(entry.directory_record() for entry in entries)
    count, length = len(entries), len(records)
    tail = b""
    if count >= ZIP64_COUNT or length >= ZIP64_LIMIT or offset >= ZIP64_LIMIT:
        end64 = offset + length
        tail += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, (3 << 8) | 45, 45, 0, 0, count, count, length, offset)
        tail += struct.pack("<IIQI", 0x07064B50, 0, end64, 1)
        # The classic end record then only points readers to the zip64 one.
        count, length, offset = 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF
    tail += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, length, offset, 0)
    return records + tail
