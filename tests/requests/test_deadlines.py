"""Deadlines that chase people (requests.deadlines): a reminder before a review or decision is due, escalation to the
approving officials after it, a reminder to answer before a question expires; counted in working time, each sent
once, in the application, by e-mail and in the ledger."""

# ruff: noqa: F811 - the fixtures imported below are requested by name

import datetime as dt
import os
import subprocess
import threading
import time

import pytest
from django.db import connection, connections
from django.utils import timezone, translation

from audit.models import Action, AuditEvent
from governance import calendar
from requests import workflow
from requests.deadlines import deadlines_chase
from requests.models import FootageRequest, Notification, Reminder, Status
from requests.tasks import send_notification_emails
from tests.celery_worker import needs_worker, start_worker, stop_worker, worker_environment
from tests.requests.conftest import world  # noqa: F401 - the workflow's fixture world

Kind = Reminder.Kind
VIETNAM = dt.timezone(dt.timedelta(hours=7))
APPROVERS = ["pheduyet", "pheduyet2", "ubnd-pheduyet"]  # the approving officials of the centre and the committee


def at(day, hour, minute=0):
    """A moment of December 2026, Vietnam time (3 December is a Thursday; working hours 07:00-18:00)."""
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=VIETNAM)


def due(footage_request, moment):
    FootageRequest.objects.filter(pk=footage_request.pk).update(due_at=moment)
    footage_request.refresh_from_db()
    return footage_request


def told(verb):
    return sorted(Notification.objects.filter(verb=verb).values_list("user__username", flat=True))


def sent(**kinds):
    return dict.fromkeys(Kind.values, 0) | kinds


@pytest.mark.django_db
def test_a_reviewer_two_working_hours_from_the_deadline_is_reminded_once(world, mailoutbox, django_capture_on_commit_callbacks):
    footage_request = due(world.submitted(), at(3, 12))

    with django_capture_on_commit_callbacks() as mails:
        assert deadlines_chase(now=at(3, 10)) == sent(deadline_near=1)
    assert deadlines_chase(now=at(3, 10, 10)) == sent()
    assert deadlines_chase(now=at(3, 11, 50)) == sent()

    assert told(Notification.Verb.DEADLINE_NEAR) == ["thamdinh"]
    (event,) = AuditEvent.objects.filter(reference=footage_request.reference, action=Action.REQUEST_REMIND)
    assert event.actor is None
    assert event.data["kind"] == "deadline_near" and event.data["recipients"] == ["thamdinh"]
    assert event.data["status"] == "submitted"
    (reminder,) = Reminder.objects.all()
    assert (reminder.kind, reminder.deadline, reminder.recipients) == (Kind.DEADLINE_NEAR, at(3, 12), 1)
    # The e-mail goes once the transaction has committed, and names the deadline in Vietnam time.
    assert len(mails) == 1
    (notification,) = Notification.objects.filter(verb=Notification.Verb.DEADLINE_NEAR)
    send_notification_emails([notification.pk])
    (mail,) = mailoutbox
    assert footage_request.reference in mail.subject and "03/12/2026 12:00" in mail.subject
    with translation.override("en"):
        assert notification.text == f"{footage_request.reference}: your review or decision is due by 03/12/2026 12:00 (UTC+7)."
    with translation.override("vi"):
        assert "03/12/2026 12:00" in notification.text and "your review" not in notification.text


@pytest.mark.django_db
def test_the_lead_time_is_counted_in_working_hours_across_the_weekend(world):
    # Friday 16:00: two working hours are left that day, then Monday from 07:00.
    monday_early = due(world.submitted(), at(7, 8))  # three working hours away, 64 hours on the clock
    monday_noon = due(world.submitted(), at(7, 12))  # seven working hours away

    assert deadlines_chase(now=at(4, 16)) == sent(deadline_near=1)

    assert list(Reminder.objects.values_list("footage_request", flat=True)) == [monday_early.pk]
    assert calendar.add_working_hours(at(4, 16), 4) == at(7, 9)
    # Monday 08:00: the other is now four working hours away, and reminded.
    assert deadlines_chase(now=at(7, 8)) == sent(deadline_near=1, deadline_passed=1)
    assert Reminder.objects.filter(footage_request=monday_noon, kind=Kind.DEADLINE_NEAR).exists()


@pytest.mark.django_db
def test_after_the_deadline_the_request_is_escalated_to_the_approving_officials_once(world):
    footage_request = due(world.submitted(), at(3, 9))

    assert deadlines_chase(now=at(3, 10)) == sent(deadline_passed=1)
    assert deadlines_chase(now=at(3, 10, 10)) == sent()

    assert told(Notification.Verb.DEADLINE_PASSED) == APPROVERS
    assert not told(Notification.Verb.DEADLINE_NEAR)
    (event,) = AuditEvent.objects.filter(reference=footage_request.reference, action=Action.REQUEST_ESCALATE)
    assert event.data["recipients"] == APPROVERS and event.data["kind"] == "deadline_passed"
    with translation.override("en"):
        assert "passed its deadline of 03/12/2026 09:00" in Notification.objects.filter(user=world.approver).get().text


@pytest.mark.django_db
def test_a_request_waiting_for_its_decision_reminds_the_approvers_who_have_not_signed(world):
    # Plate events are a sensitive category: two approving officials sign.
    footage_request = world.reviewed(items=world.items(world.anpr, code="plate_events"))
    workflow.request_approve(actor=world.approver, footage_request=footage_request)
    footage_request.refresh_from_db()
    assert footage_request.status == Status.IN_REVIEW
    due(footage_request, at(3, 12))

    assert deadlines_chase(now=at(3, 10)) == sent(deadline_near=1)

    assert told(Notification.Verb.DEADLINE_NEAR) == ["pheduyet2", "ubnd-pheduyet"]


@pytest.mark.django_db
def test_a_requester_who_owes_an_answer_is_reminded_before_the_request_expires(world, settings):
    settings.REQUEST_INFO_EXPIRY_DAYS = 14
    footage_request = world.submitted()
    workflow.request_ask_info(actor=world.reviewer, footage_request=footage_request, question="Bổ sung công văn")
    # The question expires on Thursday at 13:00; the requester is reminded a working day (eight hours) before.
    FootageRequest.objects.filter(pk=footage_request.pk).update(info_requested_at=at(3, 13) - dt.timedelta(days=14))

    assert deadlines_chase(now=at(2, 15)) == sent()  # Wednesday 15:00: nine working hours away
    assert deadlines_chase(now=at(2, 16)) == sent(answer_due=1)  # eight
    assert deadlines_chase(now=at(3, 10)) == sent()
    assert "alice" in told(Notification.Verb.ANSWER_DUE)
    assert "thamdinh" not in told(Notification.Verb.ANSWER_DUE)
    notification = Notification.objects.get(user=world.insider, verb=Notification.Verb.ANSWER_DUE)
    with translation.override("en"):
        assert (
            notification.text
            == f"{footage_request.reference}: answer the question by 03/12/2026 13:00 (UTC+7), or the request expires."
        )
    assert AuditEvent.objects.filter(reference=footage_request.reference, action=Action.REQUEST_REMIND).count() == 1


@pytest.mark.django_db
def test_a_new_deadline_is_chased_again_and_a_request_no_longer_waiting_is_not(world):
    footage_request = due(world.submitted(), at(3, 12))
    assert deadlines_chase(now=at(3, 10)) == sent(deadline_near=1)

    due(footage_request, at(3, 15))  # filed again: a new deadline
    assert deadlines_chase(now=at(3, 13)) == sent(deadline_near=1)
    assert sorted(Reminder.objects.values_list("deadline", flat=True)) == [at(3, 12), at(3, 15)]

    workflow.request_withdraw(actor=world.insider, footage_request=footage_request, reason="Đã có dữ liệu")
    assert deadlines_chase(now=at(3, 16)) == sent()
    assert not Reminder.objects.filter(kind=Kind.DEADLINE_PASSED).exists()


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="threads share no in-memory SQLite database; CI runs it on PostgreSQL"
)
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_the_same_moment_send_one_reminder(world):
    footage_request = due(world.submitted(), at(3, 12))
    results = []
    start = threading.Barrier(4)

    def sweep():
        try:
            start.wait()
            results.append(deadlines_chase(now=at(3, 10)))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sweep) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(result["deadline_near"] for result in results) == [0, 0, 0, 1]
    assert Reminder.objects.count() == 1
    assert told(Notification.Verb.DEADLINE_NEAR) == ["thamdinh"]
    assert AuditEvent.objects.filter(reference=footage_request.reference, action=Action.REQUEST_REMIND).count() == 1


@needs_worker
@pytest.mark.django_db(transaction=True)
def test_two_real_workers_running_the_same_schedule_remind_once(world):
    from config.celery import app
    from requests.tasks import chase_deadlines

    footage_request = due(world.submitted(), calendar.add_working_hours(timezone.now(), 2))
    queues = [f"test-deadlines-{os.getpid()}-{n}" for n in (1, 2)]
    workers = [
        start_worker(worker_environment(), queue, loglevel="WARNING", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for queue in queues
    ]
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        for queue in queues:
            chase_deadlines.apply_async(queue=queue)
        waited = time.monotonic() + 60
        while time.monotonic() < waited and not Reminder.objects.exists():
            time.sleep(0.25)
        # Both workers have had their sweep by the time each answers a second one: wait for that second round.
        for queue in queues:
            chase_deadlines.apply_async(queue=queue)
        time.sleep(5)
    finally:
        app.conf.task_always_eager = eager
        for worker in workers:
            stop_worker(worker)

    assert Reminder.objects.count() == 1
    assert told(Notification.Verb.DEADLINE_NEAR) == ["thamdinh"]
    assert AuditEvent.objects.filter(reference=footage_request.reference, action=Action.REQUEST_REMIND).count() == 1
