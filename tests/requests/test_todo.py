""" "Việc cần làm" on the home page: each role sees what waits for it, emergencies first, overdue marked, and an
approver tells what waits for their signature from what still waits for the reviewer."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from requests import workflow
from requests.models import FootageRequest
from requests.todo import tasks_for
from tests.auth import sign_in_verified

pytestmark = pytest.mark.django_db


def groups(user, **kwargs):
    return {group.key: [task.footage_request.reference for task in group.tasks] for group in tasks_for(user, **kwargs)}


def test_an_approver_sees_his_signatures_apart_from_what_waits_for_the_reviewer(world):
    not_reviewed = world.submitted(urgency="emergency")
    reviewed = world.reviewed()
    signed = world.reviewed(items=world.items(world.anpr, code="plate_events"))
    workflow.request_approve(actor=world.approver, footage_request=signed)

    mine = groups(world.approver)
    assert mine["sign"] == [reviewed.reference]
    assert mine["reviewer"] == [not_reviewed.reference]
    assert mine["second"] == [signed.reference]
    # The next step of the first group is the approver's; the others wait on somebody else and come after.
    assert list(mine) == ["sign", "reviewer", "second"]
    # The second approver is asked to sign the one the first signed.
    assert groups(world.approver2)["sign"] == [reviewed.reference, signed.reference]


def test_a_reviewer_sees_the_recommendations_due_emergencies_first_and_overdue_marked(world):
    normal = world.submitted()
    emergency = world.submitted(urgency="emergency", attach=False)
    (review,) = tasks_for(world.reviewer)
    assert review.key == "review"
    assert [task.footage_request.reference for task in review.tasks] == [emergency.reference, normal.reference]
    assert review.overdue == 0

    later = timezone.now() + dt.timedelta(days=30)
    (review,) = tasks_for(world.reviewer, now=later)
    assert review.overdue == 2 and all(task.overdue for task in review.tasks)


def test_a_requester_sees_the_questions_to_answer_with_the_day_they_expire(world, settings):
    asked = world.submitted()
    workflow.request_ask_info(actor=world.reviewer, footage_request=asked, question="Biển số xe là gì?")
    draft = world.draft()
    world.submitted()  # waiting for the reviewer: nothing for the requester to do

    mine = groups(world.insider)
    assert mine == {"questions": [asked.reference], "drafts": [draft.reference]}
    (questions, _drafts) = tasks_for(world.insider)
    asked.refresh_from_db()
    assert questions.tasks[0].due_at == asked.info_requested_at + dt.timedelta(days=settings.REQUEST_INFO_EXPIRY_DAYS)
    # A colleague of the same agency answers the same questions but does not see another officer's drafts.
    assert groups(world.colleague) == {"questions": [asked.reference]}
    # Another agency sees none of it.
    assert groups(world.outsider) == {}


def test_a_custodian_sees_the_exports_to_run(world):
    approved = world.reviewed()
    workflow.request_approve(actor=world.approver, footage_request=approved)
    assert groups(world.custodian) == {"export": [approved.reference]}
    assert groups(world.reviewer) == {}


def test_the_home_page_lists_the_tasks_in_vietnamese_with_links_and_due_times(client, world):
    emergency = world.submitted(urgency="emergency", attach=False)
    FootageRequest.objects.filter(pk=emergency.pk).update(due_at=timezone.now() - dt.timedelta(hours=1))
    sign_in_verified(client, world.approver, language="vi")
    page = client.get(reverse("home")).content.decode()
    assert "Việc cần làm" in page
    assert "Chờ cán bộ thẩm định" in page
    assert reverse("requests:detail", args=[emergency.reference]) in page
    assert "task-emergency" in page
    # Waiting on the reviewer is not the approver's own lateness: it is not flagged overdue.
    assert "task-overdue" not in page

    sign_in_verified(client, world.reviewer, language="vi")
    page = client.get(reverse("home")).content.decode()
    assert "Cần có ý kiến thẩm định" in page and "task-overdue" in page and "Quá hạn" in page


def test_nothing_to_do_says_so(client, world):
    sign_in_verified(client, world.custodian, language="en")
    page = client.get(reverse("home")).content.decode()
    assert "Nothing to do right now" in page


def test_the_approvers_queue_says_which_requests_wait_for_the_reviewer(client, world):
    not_reviewed = world.submitted(urgency="emergency", attach=False)
    reviewed = world.reviewed()
    sign_in_verified(client, world.approver, language="vi")
    response = client.get(reverse("requests:queue"))
    rows = {r.reference: r.waiting_note for r in response.context["footage_requests"]}
    assert rows == {not_reviewed.reference: "Chờ cán bộ thẩm định", reviewed.reference: ""}
    assert "Chờ cán bộ thẩm định" in response.content.decode()
    # The reviewer's own queue has no such note: reviewing is their step.
    sign_in_verified(client, world.reviewer, language="vi")
    response = client.get(reverse("requests:queue"))
    assert all(not getattr(r, "waiting_note", "") for r in response.context["footage_requests"])


def test_a_long_queue_shows_its_head_and_counts_the_rest(world):
    for _ in range(7):
        world.submitted()
    (review,) = tasks_for(world.reviewer)
    assert len(review.tasks) == 5 and review.count == 7 and review.count_text == "7"
    assert review.more_url == reverse("requests:queue")


def test_a_reviewer_who_also_approves_finds_what_he_reviews_under_his_own_recommendations(world):
    from tests.factories import UserFactory

    head = UserFactory(username="truong-phong", agency=world.centre, roles=["reviewer", "approver"])
    submitted = world.submitted()
    mine = groups(head)
    assert mine["review"] == [submitted.reference] and "reviewer" not in mine


def test_a_custodian_sees_damage_to_acknowledge_and_exports_under_way_apart(world):
    from requests.models import Status

    to_run, damaged, running = (world.reviewed() for _ in range(3))
    for footage_request in (to_run, damaged, running):
        workflow.request_approve(actor=world.approver, footage_request=footage_request)
    FootageRequest.objects.filter(pk=damaged.pk).update(status=Status.DAMAGE_HELD)
    FootageRequest.objects.filter(pk=running.pk).update(status=Status.EXPORTING)

    found = tasks_for(world.custodian)

    assert {group.key: [t.footage_request.reference for t in group.tasks] for group in found} == {
        "export": [to_run.reference],
        "damage": [damaged.reference],
        "exporting": [running.reference],
    }
    assert [group.mine for group in found] == [True, True, False]
