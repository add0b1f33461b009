"""The queue entries mirror what the queues promise: an open request waits for exactly the groups granted its review
and approval, and for nobody once it is decided, sent back, withdrawn or expired."""

import datetime as dt
import importlib

import pytest
from django.db import connection
from django.utils import timezone

from requests import workflow
from requests.models import OPEN_STATUSES, FootageRequest, FootageRequestGroupObjectPermission, QueueEntry
from requests.selectors import review_queue

pytestmark = pytest.mark.django_db

FILL_SQL = importlib.import_module("requests.migrations.0013_queue_entries").FILL_SQL


def granted_and_open():
    """(request, group) for every review or approval grant on an open request: what the entries must hold."""
    return set(
        FootageRequestGroupObjectPermission.objects.filter(
            permission__codename__in=["review_footagerequest", "approve_footagerequest"],
            content_object__status__in=OPEN_STATUSES,
        ).values_list("content_object_id", "group_id")
    )


def entries():
    return set(QueueEntry.objects.values_list("footage_request_id", "group_id"))


def test_entries_follow_every_move_of_the_workflow(world, settings):
    settings.REQUEST_INFO_EXPIRY_DAYS = 7
    waiting = world.submitted()
    reviewed = world.reviewed()
    asked = world.submitted()
    workflow.request_ask_info(actor=world.reviewer, footage_request=asked, question="Cần số công văn gốc")
    rejected = world.reviewed()
    workflow.request_reject(actor=world.approver, footage_request=rejected, reason="Không đủ căn cứ")
    withdrawn = world.submitted()
    workflow.request_withdraw(actor=world.insider, footage_request=withdrawn, reason="Đã có hình ảnh")
    assert entries() == granted_and_open()
    assert {pk for pk, _group in entries()} == {waiting.pk, reviewed.pk}

    # Answered and filed again: back in the queues, at its new due time.
    asked.refresh_from_db()
    workflow.request_comment(actor=world.insider, footage_request=asked, body="Số công văn gốc: 123/CV-CAP")
    workflow.request_submit(actor=world.insider, footage_request=asked)
    asked.refresh_from_db()
    assert entries() == granted_and_open()
    assert set(QueueEntry.objects.filter(footage_request=asked).values_list("due_at", flat=True)) == {asked.due_at}

    # Expired while waiting for an answer: out of every queue.
    workflow.request_ask_info(actor=world.reviewer, footage_request=asked, question="Bổ sung số công văn?")
    workflow.request_expire_stale(now=timezone.now() + dt.timedelta(days=8))
    assert entries() == granted_and_open()
    assert not QueueEntry.objects.filter(footage_request=asked).exists()


def test_the_migration_fills_the_entries_of_requests_filed_before_it(world):
    filed = [world.submitted(), world.reviewed(), world.submitted(urgency="emergency")]
    expected = entries()
    QueueEntry.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute(FILL_SQL)
    assert entries() == expected == granted_and_open()
    assert [r.pk for r in review_queue(world.reviewer)] == [filed[2].pk, filed[0].pk, filed[1].pk]
    assert set(QueueEntry.objects.values_list("priority", flat=True)) == set(
        FootageRequest.objects.filter(pk__in=[r.pk for r in filed]).values_list("priority", flat=True)
    )
