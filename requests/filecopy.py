"""Writing a large file out of byte ranges of other files, hashed as it is written and flushed to disk as it goes.

The bytes are copied inside the kernel (copy_file_range, as cp does) and
never pass through Python; a second thread reads each copied range back while
it is still in the page cache and hashes it (the file's SHA-256), in order;
for a zip member a third does the same for the member's CRC-32 and its own
SHA-256, so that the two hashes of the same bytes take two cores; a fourth
flushes the file to disk every so often, so that the disk writes while the
CPUs hash. An export writes its zip package this way, each clip copied
straight into its member.
"""

import errno
import hashlib
import os
import zlib
from concurrent.futures import ThreadPoolExecutor

# Reading back and hashing in blocks that stay in the CPU's cache; copying in larger steps.
HASH_BLOCK = 256 * 1024
COPY_STEP = 16 * 1024 * 1024
# Flush to disk every so often while copying.
FLUSH_EVERY = 256 * 1024 * 1024


class SourceChanged(OSError):
    """A file changed or ended early while it was copied (a transient error: the export is retried)."""


class Crc32:
    """CRC-32 (as zip files carry) of bytes fed to it in order."""

    def __init__(self):
        self.value = 0

    def update(self, data):
        self.value = zlib.crc32(data, self.value)


def hash_range(descriptor, start, end, *digests):
    """Feed bytes [start, end) of an open file to each digest, in cache-sized blocks."""
    buffer = bytearray(HASH_BLOCK)
    view = memoryview(buffer)
    while start < end:
        count = os.preadv(descriptor, [view[: min(HASH_BLOCK, end - start)]], start)
        if count <= 0:
            raise SourceChanged(errno.EIO, "a file ended early while it was hashed")
        for digest in digests:
            digest.update(view[:count])
        start += count


def _feed(data, *digests):
    for digest in digests:
        digest.update(data)


def hash_descriptor(descriptor, size):
    """(SHA-256, size) of the first `size` bytes of an open file."""
    digest = hashlib.sha256()
    hash_range(descriptor, 0, size, digest)
    return digest.hexdigest(), size


class Copier:
    """copy_file_range where the kernel allows it, then sendfile, then plain reads and writes."""

    def __init__(self):
        self.mode = "copy_file_range" if hasattr(os, "copy_file_range") else "sendfile"

    def copy(self, source, target, count, source_offset, target_offset):
        if self.mode == "copy_file_range":
            try:
                return os.copy_file_range(source, target, count, source_offset, target_offset)
            except OSError as error:
                if error.errno not in (errno.EXDEV, errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL, errno.EPERM):
                    raise
                self.mode = "sendfile"
        if self.mode == "sendfile":
            try:
                # sendfile writes at the target's own position.
                os.lseek(target, target_offset, os.SEEK_SET)
                return os.sendfile(target, source, source_offset, count)
            except OSError as error:
                if error.errno not in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
                    raise
                self.mode = "read"
        data = os.pread(source, min(count, COPY_STEP), source_offset)
        written = 0
        while written < len(data):
            written += os.pwrite(target, data[written:], target_offset + written)
        return written


class HashedWriter:
    """A new file, written from memory (`write`) and from ranges of other open files (`copy`), in order.

    `close()` waits for the hash and the flush and returns the SHA-256; on an
    error the caller discards the file.
    """

    def __init__(self, path):
        self.descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
        self.digest = hashlib.sha256()
        self.position = 0
        self._hasher = ThreadPoolExecutor(max_workers=1)
        # The digests given as `also` (a member's), fed the same bytes in order beside the file's own.
        self._also_hasher = ThreadPoolExecutor(max_workers=1)
        self._flusher = ThreadPoolExecutor(max_workers=1)
        self._pending = []
        self._copier = Copier()
        self._unflushed = 0

    def write(self, data, *, also=()):
        """Append `data`; `also` are digests to feed these bytes to as well (as `copy` does)."""
        data = bytes(data)
        written = 0
        while written < len(data):
            written += os.pwrite(self.descriptor, data[written:], self.position + written)
        # Hashed from memory: these are the bytes just written, all of them.
        self._pending.append(self._hasher.submit(self.digest.update, data))
        if also:
            self._pending.append(self._also_hasher.submit(_feed, data, *also))
        self.position += len(data)

    def copy(self, source, offset, length, *, name="", also=()):
        """Append `length` bytes of the open file `source` from `offset`; `also` are digests (a Crc32) to feed
        these bytes to as well, once they are read back."""
        while length:
            count = self._copier.copy(source, self.descriptor, min(length, COPY_STEP), offset, self.position)
            if count <= 0:
                if self._copier.mode == "read" or not os.pread(source, 1, offset):
                    raise SourceChanged(errno.EIO, f"{name or 'a file'} ended early")
                # The kernel copied nothing though there is more to read (some file systems do): copy by hand.
                self._copier.mode = "read"
                continue
            start = self.position
            self._pending.append(self._hasher.submit(hash_range, self.descriptor, start, start + count, self.digest))
            if also:
                self._pending.append(self._also_hasher.submit(hash_range, self.descriptor, start, start + count, *also))
            self.position, offset, length = start + count, offset + count, length - count
            self._unflushed += count
            if self._unflushed >= FLUSH_EVERY:
                self._pending.append(self._flusher.submit(os.fdatasync, self.descriptor))
                self._unflushed = 0

    def wait(self):
        """Wait until everything written so far is hashed."""
        for future in self._pending:
            future.result()
        self._pending = [future for future in self._pending if not future.done()]

    def close(self):
        """Flush the file to disk and finish hashing it; returns its SHA-256 (hex)."""
        try:
            self._pending.append(self._flusher.submit(os.fsync, self.descriptor))
            self.wait()
            return self.digest.hexdigest()
        finally:
            self.abandon()

    def abandon(self):
        for pool in (self._hasher, self._also_hasher, self._flusher):
            pool.shutdown(wait=True, cancel_futures=True)
        if self.descriptor is not None:
            os.close(self.descriptor)
            self.descriptor = None
