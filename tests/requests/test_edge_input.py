"""Input refused at the edge: control characters anywhere in the address or a form, oversized posts and uploads,
formsets that announce thousands of rows, and official letters that are more than a PDF document.

The same tests run on PostgreSQL (DATABASE_URL), where a NUL byte that reached a query was a server error.
"""

import io
import time
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audit.models import AuditEvent
from requests.models import Attachment, Comment, FootageRequest
from requests.selectors import verification_token
from tests.auth import sign_in_verified
from tests.requests.conftest import PDF_BYTES, pdf_file
from tests.requests.test_pages import filing
from tests.requests.test_release import _link, released  # noqa: F401 - the released request fixture

pytestmark = pytest.mark.django_db

CONTROL_EN = "control character"


def counts():
    return (
        FootageRequest.objects.count(),
        Attachment.objects.count(),
        Comment.objects.count(),
        AuditEvent.objects.count(),
    )


def assert_refused(response, *, language="vi", status=400):
    assert response.status_code == status, (response.status_code, response.content[:300])
    page = response.content.decode()
    assert f'<html lang="{language}">' in page and response["Content-Language"] == language
    if language == "vi":
        assert "Về trang chủ" in page
    else:
        assert "The request was refused" in page and CONTROL_EN in page
    return page


# Query parameters and paths -----------------------------------------------------------------------------------


def signed_in_pages(world, released):  # noqa: F811
    reference = released.reference
    download, _ = _link(world, released)
    return [
        "/?tab=%00",
        "/cameras/?q=HB%00",
        "/cameras/?area=%00",
        "/cameras/HB%00/",
        "/cameras/%00/",
        "/legal-bases/?q=%00",
        "/regulation/?version=%00",
        "/requests/?before=1%00",
        "/requests/new/?basis=CAND%00",
        "/requests/cameras.json?q=HB%00",
        f"/requests/{reference}/?views=1%00",
        f"/requests/{reference}%00/",
        f"/requests/{reference}/release/?x=%00",
        download + "?file=manifest.json%00",
        download + "?file=%00",
        "/requests/notifications/?page=%00",
        "/requests/verify/?sha256=%00",
        "/audit/?action=%00",
        "/audit/?reference=%00",
        "/audit/reports/?agency=%00",
        "/admin/governance/camera/?q=%00",
        "/admin/governance/camera/?area__id__exact=%00",
        "/i18n/setlang/?next=%00",
    ]


def test_a_nul_byte_in_any_query_parameter_or_path_is_a_translated_400(client, world, released):  # noqa: F811
    sign_in_verified(client, world.insider, language="vi")
    for url in signed_in_pages(world, released):
        before = counts()
        assert_refused(client.get(url), language="vi")
        assert counts() == before, url


def test_the_refusal_speaks_the_visitors_language(client, world):
    sign_in_verified(client, world.insider, language="en")
    assert_refused(client.get("/requests/cameras.json?q=%00"), language="en")
    client.cookies["django_language"] = "vi"
    assert_refused(client.get("/requests/cameras.json?q=%00"), language="vi")


@pytest.mark.parametrize("character", ["%01", "%07", "%08", "%0B", "%1B", "%7F", "%C2%85", "%C2%9B", "%09", "%0A", "%0D"])
def test_every_control_character_is_refused_in_a_query(client, world, character):
    sign_in_verified(client, world.insider, language="en")
    assert_refused(client.get(f"/cameras/?q=HB{character}1"), language="en")


def test_anonymous_pages_refuse_a_nul_byte_too(client, world, released):  # noqa: F811
    token = verification_token(released.release)
    for url in ["/accounts/login/?next=/%00", f"/requests/verify/{token}/?x=%00", f"/requests/verify/{token}%00/"]:
        assert_refused(client.get(url, HTTP_ACCEPT_LANGUAGE="en"), language="en")


def test_text_with_accents_and_ordinary_punctuation_passes(client, world):
    sign_in_verified(client, world.insider, language="en")
    assert client.get("/cameras/?q=Ngã tư Hàng Bạc – số 1/2 (phải)").status_code == 200
    assert client.get("/requests/cameras.json?q=HB-").status_code == 200


def test_a_cookie_holding_a_control_character_is_ignored_not_looked_up(client, world):
    client.cookies["sessionid"] = "abcdefgh\x00ijklmnop"
    client.cookies["csrftoken"] = "x\x00y"
    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200


# Form fields ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field",
    ["letter_number", "purpose", "case_reference", "legal_basis", "urgency", "items-0-camera", "items-0-data_category"],
)
def test_a_nul_byte_in_any_field_of_the_request_form_is_refused_and_nothing_is_filed(client, world, field):
    sign_in_verified(client, world.insider, language="en")
    data = filing(world)
    data[field] = data[field] + "\x00"
    before = counts()
    assert_refused(client.post("/requests/new/", {**data, "letter": pdf_file()}), language="en")
    assert counts() == before


def test_a_nul_byte_in_a_field_name_is_refused(client, world):
    sign_in_verified(client, world.insider, language="en")
    before = counts()
    assert_refused(client.post("/requests/new/", {**filing(world), "items-0-\x00": "x"}), language="en")
    assert counts() == before


def test_control_characters_never_reach_a_stored_file_name(client, world):
    sign_in_verified(client, world.insider, language="en")
    response = client.post("/requests/new/", {**filing(world), "letter": pdf_file("cong\x00van\x1b.pdf")})
    assert response.status_code == 302
    assert Attachment.objects.get().original_name == "congvan.pdf"


def test_line_breaks_and_tabs_in_multi_line_text_are_kept(client, world):
    sign_in_verified(client, world.insider, language="en")
    purpose = "Xác minh vụ trộm xe máy.\r\nĐối tượng:\tnam, áo đỏ."
    response = client.post("/requests/new/", {**filing(world, purpose=purpose), "letter": pdf_file()})
    assert response.status_code == 302
    assert FootageRequest.objects.get().purpose.replace("\r\n", "\n") == purpose.replace("\r\n", "\n")


def test_decision_and_comment_forms_refuse_a_nul_byte_and_change_nothing(client, world):
    footage_request = world.reviewed()
    sign_in_verified(client, world.approver, language="en")
    before = counts()
    for action, data in [
        ("approve", {"reason": "Đồng ý\x00"}),
        ("reject", {"reason": "Không\x00"}),
        ("ask-info", {"question": "?\x00"}),
        ("comment", {"body": "Xin chào\x00"}),
    ]:
        assert_refused(client.post(f"/requests/{footage_request.reference}/{action}/", data), language="en")
    footage_request.refresh_from_db()
    assert footage_request.status == "in_review"
    assert counts() == before


def test_the_sign_in_form_refuses_a_nul_byte_without_a_ledger_event(client, world):
    before = AuditEvent.objects.count()
    response = client.post("/accounts/login/", {"username": "alice\x00", "password": "x"}, HTTP_ACCEPT_LANGUAGE="en")
    assert_refused(response, language="en")
    assert AuditEvent.objects.count() == before


def test_a_camera_csv_with_a_nul_byte_is_refused_through_the_admin_page(client, superuser, world):
    sign_in_verified(client, superuser, language="en")
    text = "code,name,kind,area_code,managing_agency_code\nHB-9,Ngã tư\x00,fixed,hang-bac,ioc\n"
    upload = SimpleUploadedFile("cameras.csv", text.encode(), content_type="text/csv")
    response = client.post(reverse("admin:governance_camera_import"), {"file": upload})
    assert response.status_code == 200
    assert "control character" in response.content.decode()
    assert not world.camera.__class__.objects.filter(code="HB-9").exists()


# Formsets and sizes ---------------------------------------------------------------------------------------------


def test_a_formset_announcing_five_thousand_rows_is_refused_at_once(client, world):
    sign_in_verified(client, world.insider, language="en")
    data = filing(world, **{"items-TOTAL_FORMS": "5000"})
    before = counts()
    started = time.monotonic()
    response = client.post("/requests/new/", data)
    elapsed = time.monotonic() - started
    assert elapsed < 1.0, f"{elapsed:.2f} s"
    assert response.status_code == 200
    assert "at most 50" in response.content.decode()
    assert counts() == before


def test_five_thousand_filled_rows_are_refused_before_the_form_is_read(client, world):
    sign_in_verified(client, world.insider, language="en")
    data = filing(world, **{"items-TOTAL_FORMS": "5000"})
    for n in range(5000):
        data.update(
            {f"items-{n}-camera": "HB-001", f"items-{n}-start": "", f"items-{n}-end": "", f"items-{n}-data_category": "video"}
        )
    before = counts()
    started = time.monotonic()
    response = client.post("/requests/new/", data, HTTP_ACCEPT_LANGUAGE="en")
    assert time.monotonic() - started < 3
    assert response.status_code == 400
    assert "The request was refused" in response.content.decode()
    assert counts() == before


def test_a_post_larger_than_the_page_accepts_is_refused_before_it_is_read(client, world, settings):
    settings.VERIFY_UPLOAD_MAX_BYTES = 1024
    sign_in_verified(client, world.insider, language="en")
    big = SimpleUploadedFile("clip.mp4", b"0" * (400 * 1024))
    response = client.post("/requests/verify/", {"file": big}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 413
    page = response.content.decode()
    assert "Too large" in page and "1.0\xa0KB" in page


def test_the_letter_over_its_limit_is_refused_by_name_and_size(client, world, settings):
    settings.REQUEST_ATTACHMENT_MAX_BYTES = 1024
    sign_in_verified(client, world.insider, language="en")
    letter = pdf_file("big.pdf", PDF_BYTES[:-6] + b" " * 2048 + b"%%EOF\n")
    before = counts()
    response = client.post("/requests/new/", {**filing(world), "letter": letter})
    assert response.status_code == 200
    assert "at most 1.0\xa0KB" in response.content.decode()
    assert counts() == before


# The official letter: a PDF document and nothing else --------------------------------------------------------


def _zip_bytes():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("payload.html", "<script>alert(1)</script>")
    return out.getvalue()


def _with_catalog(extra):
    return PDF_BYTES.replace(b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Catalog /Pages 2 0 R " + extra + b" >>")


POLYGLOTS = {
    "data before the header": (b"<html><script>alert(1)</script></html>\n" + PDF_BYTES, "not a PDF document"),
    "an archive after the end": (PDF_BYTES + _zip_bytes(), "does not end where the PDF document ends"),
    "text after the end": (PDF_BYTES + b"<script>alert(1)</script>\n", "does not end where the PDF document ends"),
    # A ZIP archive whose comment swallows the PDF's last bytes: both formats end where the file ends.
    "an archive inside, ending with the PDF": (
        PDF_BYTES[: PDF_BYTES.index(b"xref")]
        + _zip_bytes()[:-2]
        + len(PDF_BYTES[PDF_BYTES.index(b"xref") :]).to_bytes(2, "little")
        + PDF_BYTES[PDF_BYTES.index(b"xref") :],
        "",
    ),
    "a script run on opening": (_with_catalog(b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >>"), "script"),
    "a script under an escaped name": (_with_catalog(b"/OpenAction << /S /J#61vaScript /J#53 (app.alert(1)) >>"), "script"),
    "a launch action": (_with_catalog(b"/OpenAction << /S /Launch /F (cmd.exe) >>"), "script"),
    "an embedded file": (_with_catalog(b"/Names << /EmbeddedFiles << /Names [] >> >>"), "attached file"),
    "not a PDF at all": (b"%PDF-1.7\nnothing here\n%%EOF\n", "cannot be read"),
}


@pytest.mark.parametrize("name", list(POLYGLOTS))
def test_a_letter_that_is_more_than_a_pdf_document_is_refused_and_nothing_is_filed(client, world, name):
    content, message = POLYGLOTS[name]
    sign_in_verified(client, world.insider, language="en")
    before = counts()
    response = client.post("/requests/new/", {**filing(world), "letter": pdf_file("cong-van.pdf", content)})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Official letter (PDF)" in page
    if message:
        assert message in page, page[page.find("errorlist") - 200 : page.find("errorlist") + 400]
    assert counts() == before


def test_a_plain_letter_is_accepted(client, world):
    sign_in_verified(client, world.insider, language="en")
    response = client.post("/requests/new/", {**filing(world), "letter": pdf_file()})
    assert response.status_code == 302
    assert Attachment.objects.count() == 1


@pytest.mark.parametrize("body", ['{"id": "abc\\u0000"}', '{"id": "abc\\u001b"}', '{"id": "abc\u0085"}', '{"id": "a\u0000"}'])
def test_a_json_body_holding_a_control_character_is_refused(client, world, body):
    sign_in_verified(client, world.insider, language="en")
    before = counts()
    response = client.post("/requests/new/", body, content_type="application/json")
    assert_refused(response, language="en")
    assert counts() == before


def test_a_json_body_with_line_breaks_and_accents_passes_the_edge(client, world):
    sign_in_verified(client, world.insider, language="en")
    response = client.post("/requests/new/", '{"note": "Hàng Bạc\\nsố 2\\u00e9"}', content_type="application/json")
    assert response.status_code == 200
