import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from audit import record_event
from audit.models import Action, AuditEvent
from requests import workflow
from requests.models import Decision, FootageRequest, Notification, QueueEntry, Status
from requests.permissions import WorkflowRefused
from requests.selectors import requests_visible_to, review_queue
from tests.factories import LegalBasisFactory

pytestmark = pytest.mark.django_db


def _snapshot(footage_request):
    """Everything a refused action must leave untouched."""
    footage_request.refresh_from_db()
    return (
        footage_request.status,
        footage_request.content_hash,
        list(footage_request.items.values_list("camera_id", "start", "end")),
        footage_request.decisions.count(),
        AuditEvent.objects.count(),
    )


def _refused(action, footage_request, exception=WorkflowRefused):
    before = _snapshot(footage_request)
    with pytest.raises(exception) as excinfo:
        action()
    assert _snapshot(footage_request) == before
    return str(excinfo.value)


def test_requester_files_a_draft_with_a_yearly_reference(world):
    first = world.draft()
    second = world.draft(actor=world.colleague)
    year = timezone.localdate().year
    assert first.reference == f"YC-{year}-000001" and second.reference == f"YC-{year}-000002"
    assert first.status == Status.DRAFT and first.agency == world.agency_a
    assert AuditEvent.objects.filter(action=Action.REQUEST_CREATE, reference=first.reference).exists()


def test_draft_is_visible_to_the_agency_but_not_yet_to_reviewers_or_outsiders(world):
    footage_request = world.draft()
    assert footage_request in requests_visible_to(world.colleague)
    assert footage_request not in requests_visible_to(world.reviewer)
    assert footage_request not in requests_visible_to(world.outsider)


def test_submit_sets_version_deadline_and_opens_it_to_assigned_officials_only(world):
    footage_request = world.submitted()
    assert footage_request.status == Status.SUBMITTED
    assert footage_request.regulation_version == world.version
    assert footage_request.due_at == footage_request.submitted_at + dt.timedelta(hours=world.basis.deadline_hours_normal)
    assert footage_request in requests_visible_to(world.reviewer)
    assert footage_request in requests_visible_to(world.approver)
    assert footage_request not in requests_visible_to(world.outsider)
    assert Notification.objects.filter(user=world.reviewer, verb=Notification.Verb.REVIEW_NEEDED).exists()


def test_emergency_requests_jump_the_queue(world):
    normal = world.submitted()
    emergency = world.submitted(urgency="emergency")
    urgent = world.submitted(urgency="urgent")
    assert [r.pk for r in review_queue(world.reviewer)] == [emergency.pk, urgent.pk, normal.pk]
    assert emergency.due_at - emergency.submitted_at == dt.timedelta(hours=world.basis.deadline_hours_emergency)


def test_queue_pages_follow_on_from_the_last_row_without_skipping_or_repeating(world):
    filed = [world.submitted(urgency=urgency) for urgency in ("normal", "emergency", "normal", "urgent", "normal")]
    # Two requests due at the same moment: the cursor must still tell them apart.
    FootageRequest.objects.filter(pk__in=[filed[0].pk, filed[2].pk]).update(due_at=filed[0].due_at)
    # The queue reads its order from the queue entries, written with the due time at filing.
    QueueEntry.objects.filter(footage_request__in=[filed[0], filed[2]]).update(due_at=filed[0].due_at)
    whole = [r.pk for r in review_queue(world.reviewer, size=50)]
    assert sorted(whole) == sorted(r.pk for r in filed) and whole[0] == filed[1].pk

    pages, after = [], None
    while page := review_queue(world.reviewer, size=2, after=after):
        pages.append([r.pk for r in page])
        after = (page[-1].priority, page[-1].due_at, page[-1].pk)
    assert [pk for page in pages for pk in page] == whole and len(pages) == 3


def test_review_then_approval_approves_and_opens_it_to_custodians(world):
    footage_request = world.reviewed()
    assert footage_request.status == Status.IN_REVIEW
    workflow.request_approve(actor=world.approver, footage_request=footage_request, reason="Đồng ý")
    footage_request.refresh_from_db()
    assert footage_request.status == Status.APPROVED and footage_request.decided_at
    assert world.custodian.has_perm("requests.export_footagerequest", footage_request)
    assert not world.insider.has_perm("requests.export_footagerequest", footage_request)
    decision = footage_request.decisions.get(step=Decision.Step.APPROVAL)
    assert decision.content_hash == footage_request.content_hash and decision.regulation_version == world.version
    assert Notification.objects.filter(user=world.insider, verb=Notification.Verb.APPROVED).exists()


def test_approval_waits_for_the_reviewers_recommendation(world):
    footage_request = world.submitted()
    message = _refused(lambda: workflow.request_approve(actor=world.approver, footage_request=footage_request), footage_request)
    assert message == "This request is not waiting for a decision."


def test_sensitive_category_needs_two_distinct_approvers(world):
    footage_request = world.reviewed(items=world.items(world.anpr, code="plate_events"))
    workflow.request_approve(actor=world.approver, footage_request=footage_request)
    footage_request.refresh_from_db()
    assert footage_request.status == Status.IN_REVIEW
    workflow.request_approve(actor=world.approver2, footage_request=footage_request)
    footage_request.refresh_from_db()
    assert footage_request.status == Status.APPROVED
    assert footage_request.decisions.filter(outcome=Decision.Outcome.APPROVE).count() == 2


def test_approver_cannot_sign_twice(world):
    footage_request = world.reviewed(items=world.items(world.anpr, code="plate_events"))
    workflow.request_approve(actor=world.approver, footage_request=footage_request)
    message = _refused(lambda: workflow.request_approve(actor=world.approver, footage_request=footage_request), footage_request)
    assert message == "You have already signed this request; a second approval must come from another official."


def test_nobody_acts_on_their_own_agencys_request(world):
    centre_requester = world.reviewer.__class__.objects.create(username="ioc-yeucau", agency=world.centre)
    from tests.factories import grant

    grant(centre_requester, "requester")
    world.centre.area = world.ward.parent
    world.centre.save()
    footage_request = world.submitted(actor=centre_requester)
    assert footage_request not in review_queue(world.reviewer)
    message = _refused(
        lambda: workflow.request_review(
            actor=world.reviewer, footage_request=footage_request, recommend_approval=True, reason=""
        ),
        footage_request,
    )
    assert message == "Nobody may act on a request of their own agency."
    assert world.committee_approver.has_perm("requests.approve_footagerequest", footage_request)


def test_submit_is_refused_when_no_other_agency_is_assigned(world):
    from tests.factories import AgencyFactory, CameraFactory, DistrictFactory, ProvinceFactory, UserFactory, WardFactory

    hcm = ProvinceFactory(code="hcm", name_vi="TP Hồ Chí Minh")
    camera = CameraFactory(area=WardFactory(parent=DistrictFactory(parent=hcm)), managing_agency=world.centre)
    officer = UserFactory(agency=AgencyFactory(area=hcm), roles=["requester"])
    footage_request = world.draft(actor=officer, items=world.items(camera))
    message = _refused(lambda: workflow.request_submit(actor=officer, footage_request=footage_request), footage_request)
    assert "The regulation in force assigns no other agency to review and approve every camera" in message


def test_approver_outside_the_assigned_area_cannot_act(world):
    footage_request = world.reviewed()
    stranger = world.outsider
    from tests.factories import grant

    grant(stranger, "approver")
    message = _refused(lambda: workflow.request_approve(actor=stranger, footage_request=footage_request), footage_request)
    assert message == "Your agency is not assigned to approve requests for these cameras and data categories."


def test_requester_cannot_approve(world):
    footage_request = world.reviewed()
    _refused(lambda: workflow.request_approve(actor=world.insider, footage_request=footage_request), footage_request)


def test_approver_may_narrow_but_never_widen(world):
    footage_request = world.reviewed(items=world.items(world.camera, world.anpr, hours=4))
    first, second = footage_request.items.order_by("camera__code")
    wider = {first.pk: (first.start - dt.timedelta(hours=1), first.end)}
    message = _refused(
        lambda: workflow.request_approve(actor=world.approver, footage_request=footage_request, narrow=wider), footage_request
    )
    assert message == f"An approver may shorten the window for {first.camera.code} but never widen it."
    narrowed = {first.pk: (first.start + dt.timedelta(hours=1), first.end), second.pk: None}
    workflow.request_approve(actor=world.approver, footage_request=footage_request, narrow=narrowed)
    footage_request.refresh_from_db()
    assert footage_request.status == Status.APPROVED
    assert list(footage_request.items.values_list("camera__code", flat=True)) == ["HB-001"]
    assert footage_request.items.get().hours == pytest.approx(3)
    assert footage_request.decisions.get(outcome=Decision.Outcome.APPROVE).content_hash == footage_request.content_hash


def test_narrowing_voids_an_earlier_approval_of_other_content(world):
    footage_request = world.reviewed(items=world.items(world.anpr, code="plate_events", hours=4))
    workflow.request_approve(actor=world.approver, footage_request=footage_request)
    item = footage_request.items.get()
    workflow.request_approve(
        actor=world.approver2, footage_request=footage_request, narrow={item.pk: (item.start + dt.timedelta(hours=2), item.end)}
    )
    footage_request.refresh_from_db()
    # The first signature vouched for the four-hour window, not the two-hour one.
    assert footage_request.status == Status.IN_REVIEW
    workflow.request_approve(actor=world.approver, footage_request=footage_request)
    footage_request.refresh_from_db()
    assert footage_request.status == Status.APPROVED


def test_an_edit_after_a_question_voids_earlier_signatures(world):
    footage_request = world.reviewed(items=world.items(world.anpr, code="plate_events"))
    workflow.request_approve(actor=world.approver, footage_request=footage_request)
    workflow.request_ask_info(actor=world.approver2, footage_request=footage_request, question="Bổ sung số công văn?")
    footage_request.refresh_from_db()
    assert footage_request.status == Status.NEEDS_INFO
    workflow.request_update(
        actor=world.insider,
        footage_request=footage_request,
        items=world.items(world.anpr, code="plate_events", hours=1),
        letter_number="124/CV-CAP",
    )
    workflow.request_submit(actor=world.insider, footage_request=footage_request)
    workflow.request_review(actor=world.reviewer, footage_request=footage_request, recommend_approval=True, reason="")
    workflow.request_approve(actor=world.approver2, footage_request=footage_request)
    footage_request.refresh_from_db()
    assert footage_request.status == Status.IN_REVIEW  # the first approval was for other content
    workflow.request_approve(actor=world.approver, footage_request=footage_request)
    footage_request.refresh_from_db()
    assert footage_request.status == Status.APPROVED


def test_reject_needs_a_reason_and_tells_the_requester(world):
    footage_request = world.reviewed()
    _refused(lambda: workflow.request_reject(actor=world.approver, footage_request=footage_request, reason="  "), footage_request)
    workflow.request_reject(actor=world.approver, footage_request=footage_request, reason="Không đủ căn cứ")
    footage_request.refresh_from_db()
    assert footage_request.status == Status.REJECTED
    assert Notification.objects.filter(user=world.insider, verb=Notification.Verb.REJECTED).exists()


def test_withdraw_by_the_requesting_agency_only(world):
    footage_request = world.submitted()
    _refused(lambda: workflow.request_withdraw(actor=world.outsider, footage_request=footage_request), footage_request)
    workflow.request_withdraw(actor=world.colleague, footage_request=footage_request, reason="Đã tìm được nghi phạm")
    footage_request.refresh_from_db()
    assert footage_request.status == Status.WITHDRAWN
    _refused(lambda: workflow.request_withdraw(actor=world.insider, footage_request=footage_request), footage_request)


def test_unanswered_question_expires_after_the_configured_days(world, settings):
    settings.REQUEST_INFO_EXPIRY_DAYS = 7
    footage_request = world.submitted()
    workflow.request_ask_info(actor=world.reviewer, footage_request=footage_request, question="Cần số công văn gốc")
    assert workflow.request_expire_stale(now=timezone.now() + dt.timedelta(days=6)) == 0
    assert workflow.request_expire_stale(now=timezone.now() + dt.timedelta(days=8)) == 1
    footage_request.refresh_from_db()
    assert footage_request.status == Status.EXPIRED
    assert AuditEvent.objects.filter(action=Action.REQUEST_EXPIRE, reference=footage_request.reference, actor=None).exists()


# Rules ---------------------------------------------------------------------------------------------


def _submit_refused_by(actor, footage_request):
    before = _snapshot(footage_request)
    with pytest.raises(ValidationError) as excinfo:
        workflow.request_submit(actor=actor, footage_request=footage_request)
    assert _snapshot(footage_request) == before
    return excinfo.value.messages


def _submit_refused(world, footage_request):
    return " ".join(_submit_refused_by(world.insider, footage_request))


def test_window_in_the_future_is_refused(world):
    items = world.items(ago_hours=-2)
    assert "in the future" in _submit_refused(world, world.draft(items=items))


def test_window_longer_than_the_basis_allows_is_refused(world):
    message = _submit_refused(world, world.draft(items=world.items(hours=30)))
    assert "at most 24" in message


def test_window_before_the_cameras_retention_is_refused(world):
    message = _submit_refused(world, world.draft(items=world.items(ago_hours=24 * 40)))
    assert "keeps recordings for 30 days" in message


def test_too_many_cameras_is_refused(world):
    from tests.factories import CameraFactory

    cameras = [CameraFactory(area=world.ward, managing_agency=world.centre) for _ in range(4)]
    message = _submit_refused(world, world.draft(items=world.items(*cameras)))
    assert "4 cameras" in message and "at most 3" in message


def test_case_number_required_by_the_basis(world):
    message = _submit_refused(world, world.draft(basis=world.case_basis))
    assert "This legal basis requires the case-opening decision number." in message
    footage_request = world.draft(basis=world.case_basis, case_reference="QĐ 15/QĐ-CSĐT")
    workflow.request_submit(actor=world.insider, footage_request=footage_request)


def test_category_not_allowed_by_the_basis_is_refused(world):
    message = _submit_refused(
        world, world.draft(basis=world.case_basis, case_reference="15", items=world.items(world.anpr, code="plate_events"))
    )
    assert "does not allow" in message


def test_camera_outside_the_agencys_area_is_refused(world):
    message = _submit_refused(world, world.draft(items=world.items(world.far_camera)))
    assert "may not request" in message


def test_basis_not_in_force_on_the_filing_date_is_refused(world):
    old = LegalBasisFactory(code="OLD", valid_from=dt.date(2010, 1, 1), valid_to=dt.date(2015, 1, 1))
    message = _submit_refused(world, world.draft(basis=old))
    assert "The legal basis OLD is not in force on" in message


def test_official_letter_is_required_except_in_an_emergency(world):
    message = _submit_refused(world, world.draft(attach=False))
    assert "official request letter" in message
    emergency = world.draft(attach=False, urgency="emergency")
    workflow.request_submit(actor=world.insider, footage_request=emergency)


def test_a_raised_error_inside_a_transition_leaves_neither_change_nor_event(world, monkeypatch):
    footage_request = world.reviewed()
    before = _snapshot(footage_request)

    def event_then_disk_full(**event):
        record_event(**event)
        raise RuntimeError("disk full")

    # The status, the decision and the ledger event are written by then; the transition's transaction undoes them all.
    monkeypatch.setattr(workflow, "record_event", event_then_disk_full)
    with pytest.raises(RuntimeError, match="disk full"):
        workflow.request_approve(actor=world.approver, footage_request=footage_request)
    assert _snapshot(footage_request) == before
    assert FootageRequest.objects.get(pk=footage_request.pk).status == Status.IN_REVIEW


def test_a_request_has_its_release_exactly_in_the_statuses_the_pages_look_for_one():
    from requests.transitions import HAS_RELEASE

    # request_release moves an exporting request into one of the first two; nothing moves it out but to closed.
    assert HAS_RELEASE == {Status.RELEASED, Status.DAMAGE_HELD, Status.CLOSED}
