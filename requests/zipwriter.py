"""The zip format of a release package: members stored one after the other, with the zip64 extensions when large."""

import errno
import hashlib
import os
import struct
import time
from dataclasses import dataclass

from requests.filecopy import Crc32, HashedWriter, SourceChanged


class PackageWriter:
    """A zip package written member by member; `finish()` returns (package, SHA-256, size).

    Members are stored, not compressed (video does not compress), and copied
    into the zip by the kernel (`HashedWriter`), one after the other: each
    member's CRC-32 is taken with the package's SHA-256 as its bytes are read
    back, and written after them in a data descriptor, as streaming zip
    writers do. Python's zipfile would pass every byte through Python. The
    export writes each clip straight into its member (`member`), so a clip's
    bytes are written once, and adds the manifest and hand-over record once
    the decode check has said what they say. Until `finish()` writes the
    central directory the file is no zip any tool opens: a package whose
    writing stopped half way never passes for a complete one.
    """

    def __init__(self, package):
        self.package = package
        self._writer = HashedWriter(package)
        self._directory = []

    def add(self, path, name):
        """Append the file at `path` as the member `name`; returns its ZipEntry."""
        with open(path, "rb") as source:
            stat = os.fstat(source.fileno())
            member = self.member(name, size=stat.st_size, mtime=stat.st_mtime, sha256=False)
            member.copy(source.fileno(), 0, stat.st_size, name=name)
            member.close()
        return member.entry

    def member(self, name, *, size, mtime=None, sha256=True):
        """Begin the member `name`, of `size` bytes, to be written through the Member returned (one at a time)."""
        writer = self._writer
        entry = zip_entry(name, size=size, mtime=time.time() if mtime is None else mtime, offset=writer.position)
        writer.write(entry.local_header())
        return Member(self, entry, sha256=sha256)

    def _close_member(self, member):
        writer = self._writer
        writer.wait()
        if member.size != member.entry.size:
            raise SourceChanged(errno.EIO, f"{member.entry.name.decode()} came out {member.size} bytes, not {member.entry.size}")
        member.entry.crc = member.crc.value
        writer.write(member.entry.data_descriptor())
        self._directory.append(member.entry)

    def finish(self):
        """Write the central directory and close the package: (package, SHA-256, size)."""
        writer = self._writer
        writer.write(zip_directory(self._directory, offset=writer.position))
        size = writer.position
        return self.package, writer.close(), size

    def abandon(self):
        self._writer.abandon()


class Member:
    """A member of a package being written, from memory (`write`) and from ranges of open files (`copy`).

    Its CRC-32 and (unless told otherwise) its own SHA-256 are taken from its
    bytes as they are read back from the package, so they are those of what
    the package holds. `offset` is where its bytes start in the package.
    """

    def __init__(self, package_writer, entry, *, sha256=True):
        self._package = package_writer
        self.entry = entry
        self.offset = package_writer._writer.position
        self.crc = Crc32()
        self.digest = hashlib.sha256() if sha256 else None
        self._digests = [self.crc] + ([self.digest] if sha256 else [])

    @property
    def position(self):
        """Where the next byte goes, in the package."""
        return self._package._writer.position

    @property
    def size(self):
        return self.position - self.offset

    def write(self, data):
        self._package._writer.write(data, also=self._digests)

    def copy(self, source, offset, length, *, name=""):
        self._package._writer.copy(source, offset, length, name=name or self.entry.name.decode(), also=self._digests)

    def close(self):
        """Wait until the member's bytes are hashed, then end it (its data descriptor); returns its SHA-256 (hex), or
        None when it was not asked for. Raises SourceChanged when it does not hold the size it was begun with."""
        self._package._close_member(self)
        return self.digest.hexdigest() if self.digest else None


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
    def data_offset(self):
        """Where the member's bytes start in the package, after its local header."""
        return self.offset + len(self.local_header())

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
