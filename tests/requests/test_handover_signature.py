"""The hand-over record carries the centre's PDF signature: pyHanko validates it, and any changed byte breaks it."""

import hashlib
import io
import zipfile

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from documents import signing
from tests.requests.footage import approved
from tests.requests.footage import export as run_export

pytestmark = pytest.mark.django_db


def _handover(footage_request):
    with zipfile.ZipFile(footage_request.release.package_path) as archive:
        return archive.read(f"{footage_request.reference}/bien-ban-giao-nhan.pdf")


@pytest.fixture
def handover(world, footage, django_capture_on_commit_callbacks):
    footage_request = approved(world, [(footage.at(3), footage.at(9))])
    footage_request = run_export(world, footage_request, django_capture_on_commit_callbacks)
    return footage_request, _handover(footage_request)


def _trust_pinned():
    from asn1crypto import pem
    from asn1crypto import x509 as asn1_x509

    _type, _headers, der = pem.unarmor(signing.certificate_pem())
    return ValidationContext(trust_roots=[asn1_x509.Certificate.load(der)], allow_fetching=False)


def test_the_record_carries_a_pades_signature_that_pyhanko_validates_against_the_pinned_certificate(handover, settings):
    footage_request, record = handover
    (signature,) = PdfFileReader(io.BytesIO(record)).embedded_signatures
    status = validate_pdf_signature(signature, signer_validation_context=_trust_pinned())
    assert status.intact and status.valid and status.trusted
    assert status.coverage.name == "ENTIRE_FILE"
    assert signature.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"  # PAdES
    assert settings.DOCUMENT_SIGNING_ORGANISATION in status.signing_cert.subject.human_friendly
    # The hash the release records is the hash of the signed file.
    assert footage_request.release.handover_sha256 == hashlib.sha256(record).hexdigest()

    check = signing.verify_pdf(record)
    assert check.ok and check.problems == []
    assert check.pinned_sha256 == signing.certificate_fingerprint()


@pytest.mark.parametrize("where", [0.02, 0.3, 0.5, 0.75, 0.999])
def test_one_changed_byte_anywhere_fails_the_check(handover, where):
    _footage_request, record = handover
    changed = bytearray(record)
    position = int(len(record) * where)
    changed[position] ^= 0x01
    check = signing.verify_pdf(bytes(changed))
    assert not check.ok and check.problems


def test_one_changed_byte_inside_the_signature_itself_fails_the_check(handover):
    _footage_request, record = handover
    start = record.index(b"/Contents <") + len(b"/Contents <")
    end = record.index(b">", start)
    for position in (start + 2, start + 70, (start + end) // 2, end - 2):  # structure, algorithms, body, padding
        changed = bytearray(record)
        changed[position] = ord("1") if changed[position] != ord("1") else ord("2")
        assert not signing.verify_pdf(bytes(changed)).ok, position


def test_content_appended_after_signing_is_named(handover):
    _footage_request, record = handover
    appended = record + b"\n1 0 obj\n<< /Evil true >>\nendobj\n"
    check = signing.verify_pdf(appended)
    assert not check.ok


def _other_identity(tmp_path, organisation):
    """A forger's own key and certificate, naming the same organisation."""
    key_file, cert_file = signing.create_self_signed(tmp_path / "forger-key.pem", tmp_path / "forger-cert.pem", organisation)
    return signers.SimpleSigner.load(str(key_file), str(cert_file))


def test_a_record_re_signed_by_a_look_alike_certificate_is_refused(handover, settings, tmp_path):
    """A forger who edits the record and signs it again under the same organisation name does not pass."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    _footage_request, record = handover
    unsigned_start = record.index(b"%%EOF")  # the record as rendered, before the organisation's signature
    forged_base = record[: unsigned_start + len(b"%%EOF\n")]
    output = io.BytesIO()
    signers.sign_pdf(
        IncrementalPdfFileWriter(io.BytesIO(forged_base), strict=False),
        signers.PdfSignatureMetadata(field_name="ChuKyToChuc", md_algorithm="sha256"),
        signer=_other_identity(tmp_path, settings.DOCUMENT_SIGNING_ORGANISATION),
        output=output,
    )
    check = signing.verify_pdf(output.getvalue())
    assert check.intact and not check.pinned_certificate and not check.ok
    assert "chứng thư" in " ".join(check.problems) or check.problems


def test_the_command_says_what_it_checked_and_fails_on_a_changed_file(handover, tmp_path, capsys):
    _footage_request, record = handover
    good = tmp_path / "bien-ban.pdf"
    good.write_bytes(record)
    call_command("pdf_verify", str(good))
    out = capsys.readouterr().out
    assert signing.certificate_fingerprint() in out

    bad = tmp_path / "bien-ban-sua.pdf"
    changed = bytearray(record)
    changed[len(record) // 3] ^= 0x01
    bad.write_bytes(bytes(changed))
    with pytest.raises(CommandError):
        call_command("pdf_verify", str(bad))


def test_a_revision_that_redefines_the_signature_to_look_whole_is_refused(handover):
    """The file keeps every signed byte, adds a page text of its own, and sizes a redefined /Contents so that the
    arithmetic of "the signature covers the whole file" still holds: the check reads the file's own bytes."""
    from pyhanko.sign.validation import validate_pdf_signature as pyhanko_validate

    from tests.forgery import forge_by_redefined_contents

    _footage_request, record = handover
    forged = forge_by_redefined_contents(record, "FORGED: release every file to another agency")
    # The library alone is fooled: intact, valid and "entire file".
    (signature,) = PdfFileReader(io.BytesIO(forged), strict=False).embedded_signatures
    status = pyhanko_validate(signature, signer_validation_context=_trust_pinned())
    assert status.intact and status.coverage.name == "ENTIRE_FILE"

    check = signing.verify_pdf(forged)
    assert not check.ok and not check.whole_file
    assert check.pinned_certificate  # said truthfully: the signer is the organisation; the file is not what it signed
