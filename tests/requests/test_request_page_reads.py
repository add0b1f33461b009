"""The request page reads with the request what its questions need (requests.selectors.get_request_page_or_404): the
reader's grants, its decisions, whether it has a hold, a redaction, documents or comments. Every answer it gives from
those is the answer the grant tables and the decisions give when asked one by one."""

import pytest
from django.http import Http404

from requests import workflow
from requests.permissions import permissions_read_once
from requests.selectors import filed_scope, get_request_page_or_404, get_visible_request_or_404, minimisation
from requests.views import _detail_permissions
from tests.factories import UserFactory


def _requests(world):
    submitted = world.submitted()
    reviewed = world.reviewed()
    approved = world.reviewed()
    workflow.request_approve(actor=world.approver, footage_request=approved)
    narrowed = world.reviewed(items=world.items(world.camera, world.anpr))
    camera_item, anpr_item = narrowed.items.order_by("camera__code")
    workflow.request_approve(
        actor=world.approver,
        footage_request=narrowed,
        narrow={camera_item.pk: (camera_item.start, camera_item.end), anpr_item.pk: None},
    )
    for footage_request in (approved, narrowed):
        footage_request.refresh_from_db()
    return [submitted, reviewed, approved, narrowed, world.draft()]


def _readers(world):
    superuser = UserFactory(username="quantri-he-thong", is_superuser=True, is_staff=True)
    retired = UserFactory(username="da-nghi", agency=world.centre, roles=["approver"], is_active=False)
    return [
        world.insider,
        world.colleague,
        world.outsider,
        world.reviewer,
        world.approver,
        world.approver2,
        world.committee_approver,
        world.custodian,
        superuser,
        retired,
    ]


def test_every_question_the_page_asks_gets_the_answer_the_grant_tables_give(world):
    asked, granted = 0, set()
    readers = _readers(world)
    for footage_request in _requests(world):
        for reader in readers:
            try:
                alone = get_visible_request_or_404(reader, footage_request.reference)
            except Http404:
                with pytest.raises(Http404):
                    get_request_page_or_404(reader, footage_request.reference)
                continue
            with permissions_read_once(reader):
                expected = _detail_permissions(reader, alone)
            page = get_request_page_or_404(reader, footage_request.reference)
            page.decisions_read = list(page.decisions.select_related("actor").order_by("created_at", "id"))
            assert _detail_permissions(reader, page) == expected, (reader.username, footage_request.status)
            asked += 1
            granted.update(name for name, allowed in expected.items() if allowed)
    assert asked >= 20
    # The answers compared include every kind of yes: the filer's, the reviewer's and approver's, the custodian's.
    assert {"edit", "withdraw", "comment", "review", "sign", "ask_info", "export", "require_redaction"} <= granted


def test_the_page_knows_what_the_request_has_without_reading_it(world):
    footage_request = world.submitted()
    page = get_request_page_or_404(world.reviewer, footage_request.reference)
    assert page.has_attachments and not page.has_comments and not page.has_hold and not page.has_redaction
    assert not page.has_decisions and page.views_before == 0
    workflow.request_review(actor=world.reviewer, footage_request=footage_request, recommend_approval=True, reason="Đủ")
    assert get_request_page_or_404(world.reviewer, footage_request.reference).has_decisions
    bare = world.draft(attach=False)
    assert not get_request_page_or_404(world.insider, bare.reference).has_attachments


def test_the_hours_asked_for_are_the_filings_whether_read_or_proved_by_the_content_hash(world):
    requests = _requests(world)
    for footage_request in requests[2:4]:
        items = list(footage_request.items.select_related("camera__area", "data_category"))
        quick = filed_scope(footage_request, items, with_items=False)
        full = filed_scope(footage_request, items)
        assert quick.differs == full.differs
        assert minimisation(quick, None).requested == pytest.approx(minimisation(full, None).requested)
        assert sum(item.hours for item in full.requested) == pytest.approx(minimisation(quick, None).requested)
    approved, narrowed = requests[2:4]
    assert not filed_scope(approved, list(approved.items.all()), with_items=False).differs
    assert filed_scope(narrowed, list(narrowed.items.all()), with_items=False).differs
