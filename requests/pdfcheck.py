"""Is an uploaded official letter a PDF and nothing else?

A letter is opened by reviewers, approvers and oversight bodies on their own
machines, so it must be a document and only a document: it starts with the
PDF header, ends with its end-of-file marker, parses, has pages, and holds
no script, launch action, embedded file, multimedia or XFA form. Files that
are two formats at once (a PDF with a ZIP archive or other data before its
header or after its end) are refused.
"""

import re
import zipfile

import pypdf
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

# PDF names that carry something other than a document: scripts, actions that open programs or other files,
# embedded files, multimedia and XFA forms.
FORBIDDEN_NAMES = frozenset(
    {
        "/JavaScript",
        "/JS",
        "/Launch",
        "/EmbeddedFile",
        "/EmbeddedFiles",
        "/RichMedia",
        "/XFA",
        "/GoToE",
        "/ImportData",
        "/SubmitForm",
    }
)
# The same names as they may stand in the raw bytes of an object that nothing references (and so the walk below
# does not reach) but that some readers still find.
FORBIDDEN_RAW = re.compile(
    rb"/(?:JavaScript|JS|Launch|EmbeddedFiles?|RichMedia|XFA|GoToE|ImportData|SubmitForm)(?=[\s/<>\[\]()]|$)"
)
# PDF white-space (ISO 32000-1, 7.2.2): the only bytes allowed after the last %%EOF.
WHITESPACE = b"\x00\t\n\x0c\r "
TAIL_BYTES = 1024
MAX_OBJECTS = 200_000


class NotAPlainPdf(Exception):
    """The file is refused; `code` says why: header, trailer, polyglot, unreadable, encrypted, empty, active."""

    def __init__(self, code, detail=""):
        super().__init__(code)
        self.code = code
        self.detail = detail


def check_pdf(handle, size):
    """Raise NotAPlainPdf unless the open binary file `handle` of `size` bytes is a plain PDF document."""
    handle.seek(0)
    if handle.read(5) != b"%PDF-":
        raise NotAPlainPdf("header")
    handle.seek(max(0, size - TAIL_BYTES))
    tail = handle.read(TAIL_BYTES)
    end = tail.rfind(b"%%EOF")
    if end < 0 or tail[end + 5 :].strip(WHITESPACE):
        raise NotAPlainPdf("trailer")
    handle.seek(0)
    if zipfile.is_zipfile(handle):
        raise NotAPlainPdf("polyglot")
    handle.seek(0)
    # Scanned in pieces that overlap by a name's length, so a name split across two pieces is still found.
    previous = b""
    while piece := handle.read(1024 * 1024):
        found = FORBIDDEN_RAW.search(previous[-16:] + piece)
        if found:
            raise NotAPlainPdf("active", found.group().decode("ascii", "replace"))
        previous = piece
    handle.seek(0)
    try:
        reader = pypdf.PdfReader(handle, strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise NotAPlainPdf("encrypted")
        if len(reader.pages) == 0:
            raise NotAPlainPdf("empty")
        _walk(reader.trailer)
    except NotAPlainPdf:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever the parser trips on, the file is not a readable PDF
        raise NotAPlainPdf("unreadable", str(exc)[:200]) from None
    finally:
        handle.seek(0)


def _walk(root):
    """Visit every object reachable from the trailer once; refuse on a forbidden name as key or value."""
    seen = set()
    stack = [root]
    visited = 0
    while stack:
        item = stack.pop()
        if isinstance(item, IndirectObject):
            key = (item.idnum, item.generation)
            if key in seen:
                continue
            seen.add(key)
            item = item.get_object()
        visited += 1
        if visited > MAX_OBJECTS:
            raise NotAPlainPdf("unreadable", "too many objects")
        if isinstance(item, DictionaryObject):
            for name, value in item.items():
                if name in FORBIDDEN_NAMES:
                    raise NotAPlainPdf("active", name)
                stack.append(value)
        elif isinstance(item, ArrayObject):
            stack.extend(item)
        elif isinstance(item, NameObject) and item in FORBIDDEN_NAMES:
            raise NotAPlainPdf("active", str(item))
