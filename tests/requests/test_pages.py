"""The request pages: filing through the form, refusals that change nothing, decisions by the right people only."""

import datetime as dt
import zoneinfo

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from audit.models import Action, AuditEvent
from requests import services, workflow
from requests.models import Attachment, Comment, FootageRequest, Status
from tests.auth import sign_in_verified
from tests.factories import category
from tests.requests.conftest import PDF_BYTES, pdf_file

pytestmark = pytest.mark.django_db

VIETNAM = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")


def local(moment):
    return moment.astimezone(VIETNAM).strftime("%Y-%m-%dT%H:%M")


def filing(world, *, basis=None, hours=2, ends_ago=dt.timedelta(hours=3), action="draft", **overrides):
    """What the form posts: one camera row, a two-hour window that ended three hours ago."""
    end = timezone.now() - ends_ago
    data = {
        "legal_basis": (basis or world.basis).code,
        "letter_number": "45/CV-CAP",
        "letter_date": timezone.localdate().isoformat(),
        "case_reference": "",
        "purpose": "Xác minh vụ trộm xe máy",
        "urgency": "normal",
        "items-TOTAL_FORMS": "2",
        "items-INITIAL_FORMS": "0",
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "50",
        "items-0-camera": world.camera.code,
        "items-0-start": local(end - dt.timedelta(hours=hours)),
        "items-0-end": local(end),
        "items-0-data_category": "video",
        "items-1-camera": "",
        "items-1-start": "",
        "items-1-end": "",
        "items-1-data_category": "video",
        "action": action,
    }
    data.update(overrides)
    return data


def unchanged(action):
    """Run `action` and check that no request, item, attachment or ledger event appeared."""
    before = (FootageRequest.objects.count(), Attachment.objects.count(), AuditEvent.objects.count())
    response = action()
    assert (FootageRequest.objects.count(), Attachment.objects.count(), AuditEvent.objects.count()) == before
    return response


def test_basis_comes_first_and_shows_what_it_requires(client, world):
    sign_in_verified(client, world.insider, language="en")
    page = client.get(reverse("requests:new")).content.decode()
    assert 'name="basis"' in page and world.case_basis.code in page
    assert 'name="letter_number"' not in page  # the rest of the form waits for the basis
    page = client.get(reverse("requests:new"), {"basis": world.case_basis.code}).content.decode()
    assert "What this legal basis requires" in page
    assert "case-opening decision number" in page and "(required)" in page
    assert "Plate-recognition events" not in page  # only the basis's categories
    assert 'name="letter_number"' in page and 'name="letter"' in page
    assert "Save as draft" in page and "Submit for review" in page


def test_requester_files_a_draft_with_the_letter_then_submits_it(client, world):
    sign_in_verified(client, world.insider, language="en")
    data = filing(world)
    response = client.post(reverse("requests:new"), {**data, "letter": pdf_file()})
    footage_request = FootageRequest.objects.get()
    assert response.status_code == 302 and response.url == reverse("requests:detail", args=[footage_request.reference])
    assert footage_request.status == Status.DRAFT and footage_request.agency == world.agency_a
    item = footage_request.items.get()
    assert item.camera == world.camera and item.hours == pytest.approx(2)
    assert timezone.localtime(item.end).strftime("%Y-%m-%dT%H:%M") == data["items-0-end"]
    letter = footage_request.attachments.get()
    assert letter.kind == Attachment.Kind.OFFICIAL_LETTER and letter.original_name == "cong-van.pdf"

    response = client.post(reverse("requests:submit", args=[footage_request.reference]), follow=True)
    assert "The request was submitted for review." in response.content.decode()
    footage_request.refresh_from_db()
    assert footage_request.status == Status.SUBMITTED and footage_request.due_at


def test_requester_may_file_and_submit_in_one_step(client, world):
    sign_in_verified(client, world.insider, language="en")
    client.post(reverse("requests:new"), {**filing(world, action="submit"), "letter": pdf_file()})
    assert FootageRequest.objects.get().status == Status.SUBMITTED


@pytest.mark.parametrize(
    ("language", "not_saved", "refusal"),
    [
        ("en", "The request was not saved", "Attach the official request letter (PDF) before submitting."),
        ("vi", "Yêu cầu chưa được lưu", "Đính kèm công văn đề nghị cung cấp dữ liệu (PDF) trước khi gửi."),
    ],
)
def test_submitting_without_the_letter_is_refused_and_nothing_is_filed(client, world, language, not_saved, refusal):
    sign_in_verified(client, world.insider, language=language)
    response = unchanged(lambda: client.post(reverse("requests:new"), filing(world, action="submit")))
    assert response.status_code == 200
    page = response.content.decode()
    assert not_saved in page and refusal in page


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("future", "the window ends in the future"),
        ("too_long", "the window lasts 30 hours; this legal basis allows at most 24 hours."),
        ("case_number", "This legal basis requires the case-opening decision number."),
        ("not_pdf", "This file is not a PDF document, whatever its name says."),
        ("oversized", "at most 1.0\xa0KB is accepted"),
        ("no_camera", "No camera has the code NOPE-1."),
    ],
)
def test_each_broken_rule_is_shown_and_nothing_is_saved(client, world, settings, case, expected):
    settings.REQUEST_ATTACHMENT_MAX_BYTES = 1024
    data = {
        "future": filing(world, ends_ago=-dt.timedelta(hours=2)),
        "too_long": filing(world, hours=30),
        "case_number": filing(world, basis=world.case_basis),
        "not_pdf": {**filing(world), "letter": pdf_file("cong-van.pdf", b"MZ\x90\x00 this is an executable")},
        "oversized": {**filing(world), "letter": pdf_file("big.pdf", PDF_BYTES[:8] + b"0" * 2048 + b"\n%%EOF\n")},
        "no_camera": filing(world, **{"items-0-camera": "NOPE-1"}),
    }[case]
    sign_in_verified(client, world.insider, language="en")
    response = unchanged(lambda: client.post(reverse("requests:new"), data))
    assert response.status_code == 200
    page = response.content.decode()
    assert "The request was not saved" in page
    assert expected in page


def test_every_broken_rule_is_shown_at_once(client, world):
    sign_in_verified(client, world.insider, language="en")
    data = filing(world, basis=world.case_basis, hours=30)
    page = unchanged(lambda: client.post(reverse("requests:new"), data)).content.decode()
    assert "requires the case-opening decision number" in page
    assert "allows at most 24" in page


def test_a_pdf_named_otherwise_is_refused(client, world):
    sign_in_verified(client, world.insider, language="en")
    data = {**filing(world), "letter": pdf_file("cong-van.docx")}
    page = unchanged(lambda: client.post(reverse("requests:new"), data)).content.decode()
    assert "Upload the letter as a PDF file (.pdf)." in page


def test_draft_is_changed_through_the_edit_form_and_a_submitted_one_is_not(client, world):
    footage_request = world.draft()
    sign_in_verified(client, world.insider, language="en")
    page = client.get(reverse("requests:edit", args=[footage_request.reference])).content.decode()
    assert 'value="HB-001"' in page and "123/CV-CAP" in page
    data = filing(world, letter_number="46/CV-CAP", hours=1, **{"items-TOTAL_FORMS": "1"})
    response = client.post(reverse("requests:edit", args=[footage_request.reference]), data)
    assert response.status_code == 302
    footage_request.refresh_from_db()
    assert footage_request.letter_number == "46/CV-CAP" and footage_request.items.get().hours == pytest.approx(1)

    workflow.request_submit(actor=world.insider, footage_request=footage_request)
    response = client.get(reverse("requests:edit", args=[footage_request.reference]), follow=True)
    assert "This request cannot be changed by you now." in response.content.decode()


def test_decision_buttons_appear_only_for_those_allowed(client, world):
    footage_request = world.submitted()
    url = reverse("requests:detail", args=[footage_request.reference])

    page = sign_in_verified(client, world.insider, language="en").get(url).content.decode()
    assert 'data-action="approve"' not in page and 'data-action="review"' not in page
    assert 'data-action="withdraw"' in page and 'data-action="comment"' in page

    page = sign_in_verified(client, world.approver, language="en").get(url).content.decode()
    assert 'data-action="approve"' not in page and 'data-action="reject"' not in page  # not reviewed yet
    assert 'data-action="ask-info"' in page

    page = sign_in_verified(client, world.reviewer, language="en").get(url).content.decode()
    assert 'data-action="review"' in page and 'data-action="approve"' not in page

    workflow.request_review(actor=world.reviewer, footage_request=footage_request, recommend_approval=True, reason="Đủ căn cứ")
    page = sign_in_verified(client, world.approver, language="en").get(url).content.decode()
    assert 'data-action="approve"' in page and 'data-action="reject"' in page
    page = sign_in_verified(client, world.insider, language="en").get(url).content.decode()
    assert 'data-action="approve"' not in page and 'data-action="reject"' not in page


def test_review_then_approval_through_the_forms(client, world):
    footage_request = world.submitted()
    url = reverse("requests:detail", args=[footage_request.reference])
    sign_in_verified(client, world.reviewer, language="en")
    response = client.post(
        reverse("requests:review", args=[footage_request.reference]), {"recommendation": "approve", "reason": "Đủ căn cứ"}
    )
    assert response.status_code == 302 and response.url == url
    sign_in_verified(client, world.approver, language="en")
    response = client.post(reverse("requests:approve", args=[footage_request.reference]), {"reason": "Đồng ý"}, follow=True)
    assert "Your approval was signed." in response.content.decode()
    footage_request.refresh_from_db()
    assert footage_request.status == Status.APPROVED
    assert "Binds the current content" in response.content.decode()


def test_approver_narrows_the_scope_through_the_form(client, world):
    footage_request = world.reviewed(items=world.items(world.camera, world.anpr, hours=4))
    first, second = footage_request.items.order_by("camera__code")
    sign_in_verified(client, world.approver, language="en")
    shortened = first.start + dt.timedelta(hours=1)
    data = {
        f"start_{first.pk}": local(shortened),
        f"end_{first.pk}": local(first.end),
        f"drop_{second.pk}": "on",
        f"start_{second.pk}": local(second.start),
        f"end_{second.pk}": local(second.end),
        "reason": "Chỉ cần một camera",
    }
    response = client.post(reverse("requests:approve", args=[footage_request.reference]), data)
    assert response.status_code == 302
    footage_request.refresh_from_db()
    assert footage_request.status == Status.APPROVED
    item = footage_request.items.get()
    assert item.camera == world.camera
    assert item.start == shortened.replace(second=0, microsecond=0) and item.end == first.end


def test_widening_through_the_form_is_refused_and_changes_nothing(client, world):
    footage_request = world.reviewed()
    item = footage_request.items.get()
    sign_in_verified(client, world.approver, language="en")
    data = {f"start_{item.pk}": local(item.start - dt.timedelta(hours=2)), f"end_{item.pk}": local(item.end)}
    before = AuditEvent.objects.filter(action=Action.REQUEST_APPROVE).count()
    response = client.post(reverse("requests:approve", args=[footage_request.reference]), data, follow=True)
    assert "never widen" in response.content.decode()
    footage_request.refresh_from_db()
    assert footage_request.status == Status.IN_REVIEW and footage_request.items.get().start == item.start
    assert AuditEvent.objects.filter(action=Action.REQUEST_APPROVE).count() == before


def test_requester_posting_an_approval_is_refused_with_the_reason(client, world):
    footage_request = world.reviewed()
    sign_in_verified(client, world.insider, language="en")
    response = client.post(reverse("requests:approve", args=[footage_request.reference]), {}, follow=True)
    assert "Only approving officials may decide on a request." in response.content.decode()
    footage_request.refresh_from_db()
    assert footage_request.status == Status.IN_REVIEW


def test_rejection_needs_a_reason(client, world):
    footage_request = world.reviewed()
    sign_in_verified(client, world.approver, language="en")
    response = client.post(reverse("requests:reject", args=[footage_request.reference]), {"reason": ""}, follow=True)
    assert "Reason for the rejection: This field is required." in response.content.decode()
    footage_request.refresh_from_db()
    assert footage_request.status == Status.IN_REVIEW


def test_question_goes_back_to_the_requester_who_resubmits(client, world):
    footage_request = world.submitted()
    sign_in_verified(client, world.reviewer, language="en")
    client.post(reverse("requests:ask-info", args=[footage_request.reference]), {"question": "Bổ sung số công văn gốc?"})
    footage_request.refresh_from_db()
    assert footage_request.status == Status.NEEDS_INFO
    sign_in_verified(client, world.insider, language="en")
    page = client.get(reverse("requests:detail", args=[footage_request.reference])).content.decode()
    assert "Bổ sung số công văn gốc?" in page and "Resubmit" in page
    client.post(reverse("requests:comment", args=[footage_request.reference]), {"body": "Đã bổ sung."})
    client.post(reverse("requests:submit", args=[footage_request.reference]))
    footage_request.refresh_from_db()
    assert footage_request.status == Status.SUBMITTED
    assert footage_request.comments.count() == 2


def asked(client, world, question="Đề nghị bổ sung số quyết định khởi tố."):
    footage_request = world.submitted()
    sign_in_verified(client, world.reviewer, language="vi")
    client.post(reverse("requests:ask-info", args=[footage_request.reference]), {"question": question})
    footage_request.refresh_from_db()
    assert footage_request.status == Status.NEEDS_INFO
    return footage_request


def test_the_question_and_the_reply_box_sit_in_the_banner_for_the_requesting_agency_only(client, world):
    footage_request = asked(client, world)
    detail = reverse("requests:detail", args=[footage_request.reference])

    page = client.get(detail).content.decode()  # the reviewer who asked: the question, no reply box
    banner = page.split('aria-labelledby="question-heading"', 1)[1].split("</section>", 1)[0]
    assert "Đề nghị bổ sung số quyết định khởi tố." in banner and 'data-action="answer"' not in banner

    sign_in_verified(client, world.insider, language="vi")
    page = client.get(detail).content.decode()
    banner = page.split('aria-labelledby="question-heading"', 1)[1].split("</section>", 1)[0]
    assert "Đề nghị bổ sung số quyết định khởi tố." in banner and world.reviewer.display_name in banner
    assert 'data-action="answer"' in banner and "Câu trả lời của bạn" in banner
    assert page.index("question-heading") < page.index('data-action="submit"')


def test_resubmitting_unanswered_and_unchanged_is_refused_with_a_translated_message_and_changes_nothing(client, world):
    footage_request = asked(client, world)
    sign_in_verified(client, world.insider, language="vi")
    filings, events = footage_request.submissions.count(), AuditEvent.objects.count()

    response = client.post(reverse("requests:submit", args=[footage_request.reference]), follow=True)

    assert "Hãy trả lời câu hỏi" in response.content.decode()
    footage_request.refresh_from_db()
    assert footage_request.status == Status.NEEDS_INFO
    assert footage_request.submissions.count() == filings
    assert not AuditEvent.objects.filter(seq__gt=events, action=Action.REQUEST_SUBMIT).exists()


@pytest.mark.parametrize("answer", ["message", "document", "change"])
def test_an_answer_a_document_or_a_change_lets_the_request_go_back(client, world, answer):
    footage_request = asked(client, world)
    if answer == "message":
        workflow.request_comment(actor=world.insider, footage_request=footage_request, body="Số 12/QĐ-KT ngày 01/12.")
    elif answer == "document":
        services.request_attach(actor=world.insider, footage_request=footage_request, uploaded_file=pdf_file())
    else:
        items = [
            {"camera": i.camera, "start": i.start, "end": i.end - dt.timedelta(minutes=30), "data_category": i.data_category}
            for i in footage_request.items.all()
        ]
        workflow.request_update(actor=world.insider, footage_request=footage_request, items=items)
    workflow.request_submit(actor=world.insider, footage_request=footage_request)
    footage_request.refresh_from_db()
    assert footage_request.status == Status.SUBMITTED and footage_request.submissions.count() == 2


def test_a_reviewers_own_message_is_not_the_requesters_answer(client, world):
    footage_request = asked(client, world)
    workflow.request_comment(actor=world.reviewer, footage_request=footage_request, body="Nhắc lại câu hỏi.")
    with pytest.raises(workflow.WorkflowRefused):
        workflow.request_submit(actor=world.insider, footage_request=footage_request)


def test_the_review_form_chooses_nothing_for_the_reviewer(client, world):
    footage_request = world.submitted()
    sign_in_verified(client, world.reviewer, language="vi")
    page = client.get(reverse("requests:detail", args=[footage_request.reference])).content.decode()
    review = page.split('data-action="review"', 1)[0].rsplit("<form", 1)[1]
    assert 'name="recommendation"' in review and "checked" not in review

    client.post(reverse("requests:review", args=[footage_request.reference]), {"reason": "Đủ căn cứ"})
    footage_request.refresh_from_db()
    assert footage_request.status == Status.SUBMITTED  # no recommendation chosen, nothing recorded


def test_queue_lists_emergencies_first_and_highlights_overdue(client, world):
    normal = world.submitted()
    emergency = world.submitted(urgency="emergency")
    late = world.submitted(urgency="urgent")
    FootageRequest.objects.filter(pk=late.pk).update(due_at=timezone.now() - dt.timedelta(hours=1))
    page = sign_in_verified(client, world.reviewer, language="en").get(reverse("requests:queue")).content.decode()
    positions = [page.index(r.reference) for r in (emergency, late, normal)]
    assert positions == sorted(positions)
    assert page.count("is-overdue") == 1 and "Overdue" in page
    assert "is-emergency" in page and "badge-emergency" in page


def test_the_queue_reads_the_same_number_of_queries_for_one_request_or_many(client, world, django_assert_max_num_queries):
    """Each row reads only the queue table's columns: one it shows but did not read would cost a query per row."""
    world.submitted()
    sign_in_verified(client, world.reviewer, language="en")
    with CaptureQueriesContext(connection) as one:
        assert client.get(reverse("requests:queue")).status_code == 200
    for number in range(5):
        world.submitted(case_reference=f"VA-{number}/2026", urgency="emergency" if number % 2 else "normal")

    with django_assert_max_num_queries(len(one)):
        page = client.get(reverse("requests:queue")).content.decode()
    assert page.count('<tr class="') == 6
    assert "VA-4/2026" in page and world.basis.code in page and str(world.agency_a.name) in page


def test_agency_list_pages_back_through_older_requests(client, world, monkeypatch):
    monkeypatch.setattr("requests.views.PAGE_SIZE", 2)
    references = [world.draft(attach=False).reference for _ in range(3)]
    sign_in_verified(client, world.insider, language="en")
    page = client.get(reverse("requests:list")).content.decode()
    assert references[2] in page and references[1] in page and references[0] not in page
    older = FootageRequest.objects.get(reference=references[1]).pk
    assert f"?before={older}" in page
    page = client.get(reverse("requests:list"), {"before": older}).content.decode()
    assert references[0] in page and references[1] not in page


def test_viewing_the_detail_is_written_to_the_ledger(client, world):
    footage_request = world.submitted()
    sign_in_verified(client, world.reviewer, language="en")
    client.get(reverse("requests:detail", args=[footage_request.reference]))
    event = AuditEvent.objects.filter(action=Action.REQUEST_VIEW, reference=footage_request.reference).get()
    assert event.actor == world.reviewer


def test_the_page_counts_every_opening_its_own_included(client, world):
    footage_request = world.submitted()
    sign_in_verified(client, world.reviewer, language="en")
    url = reverse("requests:detail", args=[footage_request.reference])
    assert "Viewed 1 time." in client.get(url).content.decode()
    client.get(url)
    assert "Viewed 3 times." in client.get(url).content.decode()
    assert AuditEvent.objects.filter(action=Action.REQUEST_VIEW, reference=footage_request.reference).count() == 3


def test_the_page_shows_what_the_request_has_and_nothing_it_has_not(client, world):
    footage_request = world.submitted()
    sign_in_verified(client, world.reviewer, language="en")
    url = reverse("requests:detail", args=[footage_request.reference])
    page = client.get(url).content.decode()
    assert footage_request.attachments.get().original_name in page and "Legal hold</span>" not in page
    Comment.objects.create(footage_request=footage_request, author=world.reviewer, body="Please send the case file.")
    assert "Please send the case file." in client.get(url).content.decode()


def test_timeline_lists_every_step_from_the_ledger(client, world):
    footage_request = world.reviewed()
    workflow.request_approve(actor=world.approver, footage_request=footage_request)
    sign_in_verified(client, world.insider, language="en")
    page = client.get(reverse("requests:detail", args=[footage_request.reference])).content.decode()
    timeline = page[page.index('id="timeline"') :]
    steps = ["Request drafted", "Document attached", "Request submitted", "Review recorded", "Approval signed"]
    positions = [timeline.index(step) for step in steps]
    assert positions == sorted(positions)
    assert "Viewed 1 time." in timeline
    page = client.get(reverse("requests:detail", args=[footage_request.reference]), {"views": "1"}).content.decode()
    assert page[page.index('id="timeline"') :].count("Request viewed") == 2


def test_the_request_page_reads_as_many_queries_for_a_long_history_as_for_a_short_one(client, world):
    """Cameras, decisions, filings and ledger events are each read in one query, whatever their number; the page names
    the officer and the regulation applied without reading either again."""
    short = world.reviewed()
    long = world.reviewed(items=world.items(world.camera, world.anpr))
    workflow.request_ask_info(actor=world.approver, footage_request=long, question="Bổ sung số công văn")
    long.refresh_from_db()
    for footage_request in (short, long):
        workflow.request_comment(actor=world.insider, footage_request=footage_request, body="Số công văn 123/CV-CAP")
    workflow.request_submit(actor=world.insider, footage_request=long)
    long.refresh_from_db()
    workflow.request_review(actor=world.reviewer, footage_request=long, recommend_approval=True, reason="Đã bổ sung")
    sign_in_verified(client, world.insider, language="en")
    for footage_request in (short, long):
        client.get(reverse("requests:detail", args=[footage_request.reference]))  # a first opening of each

    counts = {}
    for name, footage_request in (("short", short), ("long", long)):
        with CaptureQueriesContext(connection) as queries:
            page = client.get(reverse("requests:detail", args=[footage_request.reference])).content.decode()
        counts[name] = len(queries)
        assert world.insider.display_name in page and f"<dd>{world.version.number}</dd>" in page
    # The session, the user and its second factor; the request; the opening recorded in the ledger (its own
    # statements); the cameras, decisions, filings, ledger events and the agencies they name, documents, messages.
    assert counts["long"] == counts["short"] <= 15
    assert page.count('<tr><td data-label="Camera">') == 2 and page.count("Review recorded") == 2


def test_timeline_names_each_agency_as_it_is_named_now_in_the_readers_language(client, world):
    footage_request = world.reviewed()
    centre = world.reviewer.agency
    centre.name_vi, centre.name_en = "Trung tâm đổi tên", "Renamed centre"
    centre.save(update_fields=["name_vi", "name_en"])
    requester_agency = world.agency_a
    requester_agency.name_en = ""  # no English name: the Vietnamese one is shown
    requester_agency.save(update_fields=["name_en"])
    sign_in_verified(client, world.insider, language="en")

    timeline = client.get(reverse("requests:detail", args=[footage_request.reference])).content.decode()
    timeline = timeline[timeline.index('id="timeline"') :]

    assert "Renamed centre" in timeline and "Trung tâm đổi tên" not in timeline
    assert requester_agency.name_vi in timeline


def test_attachment_downloads_for_those_who_may_see_the_request(client, world):
    footage_request = world.submitted()
    letter = footage_request.attachments.get()
    sign_in_verified(client, world.reviewer, language="en")
    response = client.get(reverse("requests:attachment", args=[footage_request.reference, letter.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == PDF_BYTES


def test_notifications_are_listed_and_marked_read(client, world):
    footage_request = world.submitted()
    sign_in_verified(client, world.reviewer, language="en")
    page = client.get(reverse("requests:notifications")).content.decode()
    assert f"{footage_request.reference} is waiting for your review." in page and "1 unread notification" in page
    badge = 'Notifications <span class="badge badge-info">1</span>'
    assert badge in client.get(reverse("home")).content.decode()
    response = client.post(reverse("requests:notifications-read"), follow=True)
    assert not world.reviewer.notifications.filter(read_at__isnull=True).exists()
    assert "Notifications <span" not in response.content.decode()
    assert "Notifications <span" not in client.get(reverse("home")).content.decode()


def test_a_refused_submission_keeps_neither_the_request_nor_the_uploaded_letter(client, world, settings):
    from tests.factories import AgencyFactory, CameraFactory, DistrictFactory, ProvinceFactory, UserFactory, WardFactory

    hcm = ProvinceFactory(code="hcm", name_vi="TP Hồ Chí Minh")
    camera = CameraFactory(code="Q1-001", area=WardFactory(parent=DistrictFactory(parent=hcm)), managing_agency=world.centre)
    officer = UserFactory(agency=AgencyFactory(area=hcm), roles=["requester"])
    sign_in_verified(client, officer, language="en")
    data = {**filing(world, action="submit", **{"items-0-camera": camera.code}), "letter": pdf_file()}
    response = unchanged(lambda: client.post(reverse("requests:new"), data))
    assert "assigns no other agency" in response.content.decode()
    media = settings.MEDIA_ROOT
    assert not media.exists() or not any(path.is_file() for path in media.rglob("*"))


def test_every_request_status_has_a_badge_style_on_every_page():
    # The home page lists requests too and loads only app.css, so the status colours live there.
    stylesheet = (settings.BASE_DIR / "static" / "css" / "app.css").read_text()
    missing = [status for status in Status.values if f".badge-req-{status} " not in stylesheet.replace(",", " ")]
    assert missing == []


def test_a_windows_length_reads_in_hours_and_minutes(client, world):
    start = timezone.now().replace(second=0, microsecond=0) - dt.timedelta(hours=4)
    items = [
        {"camera": world.camera, "start": start, "end": start + dt.timedelta(hours=2), "data_category": category("video")},
        {"camera": world.anpr, "start": start, "end": start + dt.timedelta(minutes=18), "data_category": category("video")},
    ]
    footage_request = world.draft(items=items)
    sign_in_verified(client, world.insider, language="vi")
    page = client.get(reverse("requests:detail", args=[footage_request.reference])).content.decode()
    assert "Thời lượng" in page and ">2 giờ<" in page and ">18 phút<" in page
    assert ">0,3<" not in page


def test_time_fields_are_typed_day_first_whatever_the_browsers_language(client, world):
    from requests.forms import LocalDateTimeField

    field = LocalDateTimeField()
    moment = field.clean("02/12/2026 14:30")
    assert moment.utcoffset() == dt.timedelta(hours=7) and (moment.day, moment.month, moment.hour) == (2, 12, 14)
    assert field.clean("2026-12-02T14:30") == moment  # what a browser's own picker sends
    with translation.override("vi"):
        with pytest.raises(ValidationError) as refused:
            field.clean("12/31/2026 14:30")  # month first
        assert "dd/mm/yyyy hh:mm" in refused.value.messages[0] and "ví dụ" in refused.value.messages[0]

    footage_request = world.draft()
    sign_in_verified(client, world.insider, language="en")
    page = client.get(reverse("requests:edit", args=[footage_request.reference])).content.decode()
    (item,) = footage_request.items.all()
    assert 'type="datetime-local"' not in page and 'placeholder="dd/mm/yyyy hh:mm"' in page
    assert f'value="{timezone.localtime(item.start):%d/%m/%Y %H:%M}"' in page


def test_date_fields_are_typed_day_first_too(client, world):
    from governance.forms import DayFirstDateField

    field = DayFirstDateField()
    assert field.clean("02/12/2026") == field.clean("2026-12-02") == dt.date(2026, 12, 2)
    with translation.override("vi"):
        with pytest.raises(ValidationError) as refused:
            field.clean("12/31/2026")
        assert "dd/mm/yyyy" in refused.value.messages[0] and "ví dụ" in refused.value.messages[0]
    footage_request = world.draft()
    sign_in_verified(client, world.insider, language="en")
    page = client.get(reverse("requests:edit", args=[footage_request.reference])).content.decode()
    assert 'type="date"' not in page and f'value="{footage_request.letter_date:%d/%m/%Y}"' in page
