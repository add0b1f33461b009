"""Setting up the organisation's signing identity: production refuses to start without one, and says so."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from documents.apps import signing_identity_in_place
from documents.signing import certificate_fingerprint


@pytest.fixture
def elsewhere(settings, tmp_path):
    settings.DOCUMENT_SIGNING_KEY_FILE = tmp_path / "keys" / "key.pem"
    settings.DOCUMENT_SIGNING_CERT_FILE = tmp_path / "keys" / "cert.pem"
    return settings


def test_production_without_the_signing_files_fails_the_deploy_check(elsewhere):
    elsewhere.PRODUCTION = True
    [error] = signing_identity_in_place(None)
    assert error.id == "documents.E001" and "DOCUMENT_SIGNING_CERT_FILE" in error.msg
    call_command("document_signing", "create-self-signed", "--organisation", "Trung tâm thử nghiệm")
    assert signing_identity_in_place(None) == []


def test_a_self_signed_identity_is_made_once_and_shown_by_its_fingerprint(elsewhere, capsys):
    call_command("document_signing", "create-self-signed", "--organisation", "Trung tâm thử nghiệm")
    fingerprint = certificate_fingerprint(elsewhere.DOCUMENT_SIGNING_CERT_FILE.read_bytes())
    assert fingerprint in capsys.readouterr().out
    before = elsewhere.DOCUMENT_SIGNING_KEY_FILE.read_bytes()
    with pytest.raises(CommandError):
        call_command("document_signing", "create-self-signed")
    assert elsewhere.DOCUMENT_SIGNING_KEY_FILE.read_bytes() == before  # nothing overwritten
    call_command("document_signing", "show")
    assert fingerprint in capsys.readouterr().out


def test_bad_input_changes_nothing(elsewhere):
    with pytest.raises(CommandError):
        call_command("document_signing", "create-self-signed", "--organisation", "bad\x00name")
    with pytest.raises(CommandError):
        call_command("document_signing", "show")
    assert not elsewhere.DOCUMENT_SIGNING_KEY_FILE.exists()


def test_records_are_signed_and_checked_where_an_event_loop_already_runs(elsewhere):
    """An ASGI server or a browser driver runs a loop in the thread that renders a record: signing must still work."""
    import asyncio
    import io

    from reportlab.pdfgen import canvas

    from documents.signing import sign_pdf, verify_pdf

    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(100, 100, "Biên bản")
    page.save()

    async def inside_a_loop():
        signed = sign_pdf(buffer.getvalue(), reason="Biên bản giao nhận")
        return signed, verify_pdf(signed)

    signed, check = asyncio.run(inside_a_loop())
    assert check.ok and verify_pdf(signed).ok


def test_checking_a_file_without_a_configured_certificate_refuses_and_makes_none(elsewhere, tmp_path):
    record = tmp_path / "bien-ban.pdf"
    record.write_bytes(b"%PDF-1.4\n%%EOF\n")
    with pytest.raises(CommandError, match="DOCUMENT_SIGNING_CERT_FILE"):
        call_command("pdf_verify", str(record))
    assert not elsewhere.DOCUMENT_SIGNING_CERT_FILE.exists() and not elsewhere.DOCUMENT_SIGNING_KEY_FILE.exists()
