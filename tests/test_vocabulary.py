# ruff: noqa: F811 - the fixture imported below is requested by name
"""One vocabulary: the regulation's key terms read the same on the pages (the catalogue), in the PDFs, in the CSVs and
in the e-mails. The catalogue is the one source of the words a page shows; the reports take their action, urgency and
hold-reason words from it; and the Vietnamese written straight into the documents uses the same glossary."""

import csv
import io
import re
import unicodedata
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from audit.models import Action
from oversight import report_pdf
from oversight.report_csv import write_report_csv
from oversight.report_data import ReportScope, collect
from requests import workflow
from tests.auth import sign_in_verified
from tests.factories import AgencyFactory, UserFactory
from tests.pdf import pdf_text
from tests.requests.conftest import world  # noqa: F401 - the workflow's fixture world

ROOT = Path(settings.BASE_DIR)

# English term in a message (a regular expression) → the Vietnamese term its translation must use, and the variants
# an earlier wording used that no text may use any more (regular expressions on lower-case text).
GLOSSARY = {
    # "thời điểm kiểm tra" is the time of a check, not a checkpoint.
    r"\bcheckpoints?\b": ("điểm kiểm chứng", ["mốc kiểm tra", "(?<!thời )điểm kiểm tra"]),
    r"\bledger\b": ("nhật ký kiểm toán", ["sổ nhật ký(?! kiểm toán)"]),
    r"\blegal holds?\b": ("bảo toàn", ["lệnh lưu giữ", "phong tỏa dữ liệu"]),
    r"\bhand-?over records?\b": ("biên bản giao nhận", ["biên bản bàn giao"]),
    r"\bverification records?\b": ("biên bản xác minh", []),
}
# Where Vietnamese is written straight into a document rather than taken from the catalogue.
FIXED_VIETNAMESE = [
    "oversight/report_pdf.py",
    "oversight/report_data.py",
    "oversight/report_csv.py",
    "requests/export_handover.py",
    "audit/bundle.py",
    "oversight/bundles.py",
    "requests/verification_record.py",
    "templates/requests/email/notification.txt",
]


def _vi_catalogue():
    """(msgid, translation) of every translated message of the Vietnamese catalogue, read as gettext reads it."""
    text = (ROOT / "locale/vi/LC_MESSAGES/django.po").read_text(encoding="utf-8")
    entries = []
    for block in text.split("\n\n"):
        if "#, fuzzy" in block or block.startswith("#~"):
            continue
        fields = {}
        key = None
        for line in block.splitlines():
            match = re.match(r'^(msgid|msgid_plural|msgstr(?:\[0\])?) "(.*)"$', line)
            if match:
                key = match.group(1).replace("[0]", "")
                fields[key] = match.group(2)
            elif line.startswith('"') and key:
                fields[key] += line[1:-1]
        if fields.get("msgid") and fields.get("msgstr"):
            entries.append((fields["msgid"], fields["msgstr"]))
    return entries


@pytest.mark.parametrize("term", list(GLOSSARY))
def test_every_translation_of_a_key_term_uses_the_glossary_word(term):
    required, refused = GLOSSARY[term]
    entries = [(msgid, msgstr) for msgid, msgstr in _vi_catalogue() if re.search(term, msgid, re.IGNORECASE)]
    off = [msgid for msgid, msgstr in entries if required not in msgstr.lower()]
    assert off == [], f"translated without “{required}”"
    for variant in refused:
        assert [msgid for msgid, msgstr in _vi_catalogue() if re.search(variant, msgstr.lower())] == [], variant


@pytest.mark.parametrize("path", FIXED_VIETNAMESE)
def test_the_vietnamese_written_into_documents_uses_the_same_words(path):
    text = unicodedata.normalize("NFC", (ROOT / path).read_text(encoding="utf-8")).lower()
    for _term, (_required, refused) in GLOSSARY.items():
        for variant in refused:
            assert not re.search(variant, text), f"{path} says “{variant}”"


def test_an_approval_and_a_hold_read_the_same_on_the_ledger_page_in_the_report_pdf_and_in_its_csv(client, world, tmp_path):
    import datetime as dt

    from django.utils import timezone

    from requests import holds

    footage_request = world.reviewed()
    workflow.request_approve(actor=world.approver, footage_request=footage_request, reason="Đồng ý")
    holds.hold_place(actor=world.custodian, footage_request=footage_request, reason="Phục vụ điều tra")
    with translation.override("vi"):
        words = {action: str(Action(action).label) for action in (Action.REQUEST_APPROVE, Action.HOLD_PLACE)}
    assert words == {Action.REQUEST_APPROVE: "Đã ký phê duyệt", Action.HOLD_PLACE: "Đã áp dụng bảo toàn dữ liệu"}

    inspectorate = AgencyFactory(code="thanh-tra", kind="inspectorate", area=world.province)
    auditor = UserFactory(username="thanhtra", agency=inspectorate, roles=["auditor"])
    sign_in_verified(client, auditor, language="vi")
    page = client.get(reverse("oversight:ledger"), {"reference": footage_request.reference}).content.decode()
    for word in words.values():
        assert word in page

    today = timezone.localdate()
    data = collect(ReportScope(date_from=today - dt.timedelta(days=1), date_to=today))
    stream = io.BytesIO()
    report_pdf.render_period_report(data, stream, code="BC-TU-VUNG", author="Thanh tra")
    text = " ".join(unicodedata.normalize("NFC", "\n".join(pdf_text(stream.getvalue())[0])).split())
    with open(tmp_path / "report.zip", "wb") as archive_stream:
        write_report_csv(data, archive_stream, code="BC-TU-VUNG")
    with zipfile.ZipFile(tmp_path / "report.zip") as archive:
        activity = list(csv.DictReader(io.TextIOWrapper(archive.open("11e_hoat_dong.csv"), encoding="utf-8-sig")))
    for action, word in words.items():
        assert {row["hanh_dong"] for row in activity if row["ma_hanh_dong"] == action} == {word}
    assert "bảo toàn dữ liệu" in text.lower() and "lệnh lưu giữ" not in text.lower()


def test_an_emergency_reads_the_same_word_on_the_page_and_in_the_e_mail(client, world, mailoutbox, settings):
    from requests.models import Notification
    from requests.tasks import send_notification_emails

    settings.LANGUAGE_CODE = "vi"
    emergency = world.submitted(urgency="emergency", attach=False)
    notification = Notification.objects.filter(user=world.reviewer, footage_request=emergency).first()
    world.reviewer.email = "thamdinh@example.org"
    world.reviewer.save()
    send_notification_emails([notification.pk])
    (mail,) = mailoutbox
    sign_in_verified(client, world.reviewer, language="vi")
    page = client.get(reverse("requests:detail", args=[emergency.reference])).content.decode()
    word = re.search(r'class="badge badge-emergency"><span aria-hidden="true">⚠ </span>([^<]+)<', page).group(1)
    assert word == "Khẩn"
    assert f"Độ khẩn: {word} · hạn " in mail.body
    assert f"/requests/{emergency.reference}/" in mail.body
