"""A request's filing history: every submission kept as sent, the first filing time fixed, every status move in order,
and the scope as asked for beside the scope an approver narrowed it to, on the request page and in the dossier."""

import datetime as dt
import unicodedata

import pytest
from django.urls import reverse
from django.utils import timezone

from governance.models import Agency
from governance.timefmt import local_time
from requests import workflow
from requests.models import Decision, Status, StatusChange, Submission
from tests.auth import sign_in_verified
from tests.factories import AgencyFactory, UserFactory
from tests.pdf import pdf_text


class Clock:
    """`clock(hours)` moves the time to that many hours after the test began, and lets it run from there."""

    def __init__(self, time_machine):
        self.time_machine, self.start = time_machine, timezone.now()

    def __call__(self, hours):
        self.time_machine.move_to(self.hour(hours), tick=True)

    def hour(self, hours):
        return self.start + dt.timedelta(hours=hours)


@pytest.fixture
def clock(time_machine):
    return Clock(time_machine)


def page_time(moment):
    return timezone.localtime(moment).strftime("%d/%m/%Y %H:%M")


def dossier(client, world, footage_request):
    """The dossier's text as an auditor of the district downloads it."""
    inspectorate = AgencyFactory(code="thanh-tra-q", kind=Agency.Kind.INSPECTORATE, area=world.province)
    sign_in_verified(client, UserFactory(username="thanhtra-q", agency=inspectorate, roles=["auditor"]))
    response = client.get(reverse("oversight:dossier", args=[footage_request.reference]))
    assert response.status_code == 200
    return unicodedata.normalize("NFC", "\n".join(pdf_text(response.content)[0]))


def filed_twice(world, clock):
    """Filed by one officer, sent back with a question, and filed again by a colleague with a second camera added."""
    clock(0)
    footage_request = world.draft()
    workflow.request_submit(actor=world.insider, footage_request=footage_request)
    clock(1)
    workflow.request_ask_info(actor=world.reviewer, footage_request=footage_request, question="Cần thêm camera HB-002")
    clock(2)
    workflow.request_update(
        actor=world.colleague, footage_request=footage_request, items=world.items(world.camera, world.anpr, ago_hours=5)
    )
    workflow.request_submit(actor=world.colleague, footage_request=footage_request)
    footage_request.refresh_from_db()
    return footage_request


def test_a_resubmission_is_kept_as_a_second_filing_and_the_first_filing_time_stays(world, client, clock):
    footage_request = filed_twice(world, clock)

    first, second = Submission.objects.filter(footage_request=footage_request).order_by("number")
    assert (first.number, first.submitted_by, first.items.count()) == (1, world.insider, 1)
    assert (second.number, second.submitted_by, second.items.count()) == (2, world.colleague, 2)
    assert first.content_hash != second.content_hash == footage_request.content_hash
    assert footage_request.first_submitted_at == first.submitted_at
    assert footage_request.submitted_at == second.submitted_at > first.submitted_at + dt.timedelta(hours=1)
    assert footage_request.due_at == second.due_at

    sign_in_verified(client, world.insider, language="en")
    page = client.get(reverse("requests:detail", args=[footage_request.reference])).content.decode()
    assert f'data-time="first-filed">{page_time(first.submitted_at)}<' in page
    assert f'data-time="last-submitted">{page_time(second.submitted_at)}<' in page
    submissions = page[page.index("Submissions</h2>") :]
    assert f'{world.insider.display_name} <span class="muted small">(alice)</span>' in submissions
    assert f'{world.colleague.display_name} <span class="muted small">(anh)</span>' in submissions
    assert page_time(first.due_at) in submissions and page_time(second.due_at) in submissions

    text = dossier(client, world, footage_request)
    assert f"Gửi lần đầu\n{local_time(first.submitted_at)}" in text
    assert f"{local_time(second.submitted_at)} (lần gửi thứ 2) / {local_time(second.due_at)}" in text
    filings = text[text.index("2. Các lần gửi") : text.index("3. Camera và khoảng thời gian")]
    for submission, person in ((first, world.insider), (second, world.colleague)):
        assert local_time(submission.submitted_at) in filings and local_time(submission.due_at) in filings
        assert f"{person.display_name} ({person.username})" in filings
        assert submission.content_hash in filings.replace("\n", "")
    assert "1 hạng mục" in filings and "2 hạng mục" in filings


def test_a_filing_whose_scope_was_not_recorded_says_so_in_the_dossier(world, client, clock):
    footage_request = filed_twice(world, clock)
    Submission.objects.filter(footage_request=footage_request, number=1).update(items_recorded=False)
    text = dossier(client, world, footage_request)
    filings = text[text.index("2. Các lần gửi") : text.index("3. Camera và khoảng thời gian")]
    assert "phạm vi không được ghi lại" in " ".join(filings.split()) and "2 hạng mục" in filings


def test_a_narrowed_approval_keeps_the_scope_as_requested_beside_the_scope_approved(world, client):
    footage_request = world.reviewed(items=world.items(world.camera, world.anpr))
    camera_item, anpr_item = footage_request.items.order_by("camera__code")
    asked_from, asked_to = camera_item.start, camera_item.end
    approved_from, approved_to = asked_from + dt.timedelta(minutes=30), asked_to - dt.timedelta(minutes=30)

    workflow.request_approve(
        actor=world.approver,
        footage_request=footage_request,
        reason="Chỉ cần camera HB-001",
        narrow={camera_item.pk: (approved_from, approved_to), anpr_item.pk: None},
    )

    footage_request.refresh_from_db()
    assert footage_request.status == Status.APPROVED
    assert [(i.camera.code, i.start, i.end) for i in footage_request.items.all()] == [("HB-001", approved_from, approved_to)]
    filing = footage_request.submissions.get()
    assert [(i.camera.code, i.start, i.end) for i in filing.items.all()] == [
        ("HB-001", asked_from, asked_to),
        ("HB-002", anpr_item.start, anpr_item.end),
    ]
    approval = footage_request.decisions.get(outcome=Decision.Outcome.APPROVE)
    assert approval.narrowed_from == filing.content_hash != approval.content_hash == footage_request.content_hash

    sign_in_verified(client, world.insider, language="en")
    page = client.get(reverse("requests:detail", args=[footage_request.reference])).content.decode()
    requested = page[page.index("Requested scope</h2>") : page.index("Approved scope</h2>")]
    approved = page[page.index("Approved scope</h2>") : page.index("Documents</h3>")]
    assert "HB-002" in requested and page_time(asked_from) in requested and page_time(asked_to) in requested
    assert "HB-002" not in approved and page_time(approved_from) in approved and page_time(approved_to) in approved
    approver = world.approver
    assert f"Narrowed by {approver.display_name} (pheduyet), {world.centre.name}, on" in approved

    text = dossier(client, world, footage_request)
    scope = text[text.index("3. Camera và khoảng thời gian") : text.index("4. Tài liệu kèm theo")]
    requested = scope[scope.index("Phạm vi đề nghị") : scope.index("Phạm vi được phê duyệt")]
    approved = scope[scope.index("Phạm vi được phê duyệt") :]
    assert "HB-002" in requested and local_time(asked_from) in requested
    assert "HB-002" not in approved and local_time(approved_from) in approved and local_time(approved_to) in approved
    assert f"Thu hẹp bởi {approver.display_name} (pheduyet)" in approved
    assert approval.narrowed_from in approved.replace("\n", "")
    decisions = " ".join(text[text.index("5. Các quyết định") :].split())  # names wrap inside their cells
    assert f"{approver.display_name} (pheduyet)" in decisions and f"{world.reviewer.display_name} (thamdinh)" in decisions
    assert "Phê duyệt Nguyễn" in decisions and "Đã phê duyệt (thu hẹp phạm vi)" in decisions
    assert "Đề xuất phê duyệt" in decisions and "Công văn đề nghị cung cấp dữ liệu" in " ".join(text.split())


def test_an_approval_that_keeps_the_scope_shows_one_scope(world, client):
    footage_request = world.reviewed()
    workflow.request_approve(actor=world.approver, footage_request=footage_request, reason="Đủ căn cứ")
    assert footage_request.decisions.get(outcome=Decision.Outcome.APPROVE).narrowed_from == ""

    sign_in_verified(client, world.insider, language="en")
    page = client.get(reverse("requests:detail", args=[footage_request.reference])).content.decode()
    assert "Cameras and time windows</h2>" in page
    assert "Requested scope" not in page and "Approved scope" not in page and "Last resubmitted" not in page
    text = dossier(client, world, footage_request)
    assert "Phạm vi đề nghị như lần gửi thứ 1; không bị thu hẹp." in text and "Phạm vi được phê duyệt" not in text


def test_every_status_move_is_kept_in_order(world, clock):
    footage_request = filed_twice(world, clock)
    clock(3)
    workflow.request_review(actor=world.reviewer, footage_request=footage_request, recommend_approval=True, reason="Đủ")
    clock(4)
    workflow.request_approve(actor=world.approver, footage_request=footage_request)

    changes = list(StatusChange.objects.filter(footage_request=footage_request).order_by("at", "id"))
    assert [(c.from_status, c.to_status) for c in changes] == [
        ("", Status.DRAFT),
        (Status.DRAFT, Status.SUBMITTED),
        (Status.SUBMITTED, Status.NEEDS_INFO),
        (Status.NEEDS_INFO, Status.SUBMITTED),
        (Status.SUBMITTED, Status.IN_REVIEW),
        (Status.IN_REVIEW, Status.APPROVED),
    ]
    # Each move at the hour its action was taken: filed, asked, filed again, reviewed, approved.
    for hour, change in enumerate(changes[1:]):
        assert clock.hour(hour) <= change.at < clock.hour(hour + 1)
