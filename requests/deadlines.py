"""Deadlines that chase people.

A beat task (requests.tasks.chase_deadlines) sweeps the requests every few minutes and sends what is due:

- before a review or decision is due (within DEADLINE_REMINDER_WORKING_HOURS of working time, counted on the
  working-day calendar), the people whose step it is: the reviewers of the assigned agencies while the request
  waits for its review, the approving officials who have not signed its current content while it waits for a
  decision;
- once the deadline has passed, the approving officials of the assigned agencies, the centre's leadership under
  the regulation: the request is escalated to them;
- before a request sent back for information expires (within ANSWER_REMINDER_WORKING_HOURS of working time), the
  requesting agency's officers.

Each reminder is a notification in the application and by e-mail (after commit) and a ledger event, written in
one transaction with a `Reminder` row for the request, the kind and the deadline. The request's row is locked
first and the reminder looked for under the lock, and the row is unique: two workers running the same schedule
send it once. A request filed again has a new deadline, and is reminded of that one.
"""

import datetime as dt

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from audit import record_event
from audit.models import Action
from governance import calendar
from governance.models import AssignmentRule, Role
from requests.models import OPEN_STATUSES, Decision, FootageRequest, Notification, Reminder, Status
from requests.workflow import _assigned, _notify, _users_in_roles

Kind = Reminder.Kind
# At most this many requests of each kind are handled by one sweep; the next sweep goes on where it stopped.
SWEEP_BATCH = 500


def deadlines_chase(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Send every reminder due at `now` that was not sent yet. Returns how many of each kind were sent."""
    now = now or timezone.now()
    horizons = {
        Kind.DEADLINE_NEAR: calendar.add_working_hours(now, settings.DEADLINE_REMINDER_WORKING_HOURS),
        Kind.ANSWER_DUE: calendar.add_working_hours(now, settings.ANSWER_REMINDER_WORKING_HOURS),
    }
    sent = dict.fromkeys(Kind.values, 0)
    for kind, candidates in _candidates(now, horizons).items():
        for pk in candidates:
            sent[kind] += _remind(kind, pk, now, horizons)
    return sent


def _not_reminded(kind):
    return ~Exists(Reminder.objects.filter(footage_request=OuterRef("pk"), kind=kind, deadline=OuterRef("due_at")))


def _candidates(now, horizons):
    """The ids of the requests each kind may concern, most urgent first (checked again, one by one, under a lock)."""
    waiting = FootageRequest.objects.filter(status__in=OPEN_STATUSES, due_at__isnull=False).order_by("due_at", "pk")
    near = waiting.filter(due_at__gt=now, due_at__lte=horizons[Kind.DEADLINE_NEAR]).filter(_not_reminded(Kind.DEADLINE_NEAR))
    passed = waiting.filter(due_at__lte=now).filter(_not_reminded(Kind.DEADLINE_PASSED))
    expiry = dt.timedelta(days=settings.REQUEST_INFO_EXPIRY_DAYS)
    # Questions whose expiry falls between now and the horizon: few at any time, each checked for its reminder below.
    answers = FootageRequest.objects.filter(
        status=Status.NEEDS_INFO,
        info_requested_at__gt=now - expiry,
        info_requested_at__lte=horizons[Kind.ANSWER_DUE] - expiry,
    ).order_by("info_requested_at", "pk")
    return {
        kind: list(qs.values_list("pk", flat=True)[:SWEEP_BATCH])
        for kind, qs in ((Kind.DEADLINE_NEAR, near), (Kind.DEADLINE_PASSED, passed), (Kind.ANSWER_DUE, answers))
    }


def _deadline_now(kind, footage_request, now, horizons):
    """The deadline `kind` speaks of if the request, as it is now, is due that reminder; else None."""
    if kind == Kind.ANSWER_DUE:
        expires = footage_request.answer_expires_at
        due = footage_request.status == Status.NEEDS_INFO and expires is not None and now < expires <= horizons[kind]
        return expires if due else None
    if footage_request.status not in OPEN_STATUSES or footage_request.due_at is None:
        return None
    if kind == Kind.DEADLINE_NEAR:
        return footage_request.due_at if now < footage_request.due_at <= horizons[kind] else None
    return footage_request.due_at if footage_request.due_at <= now else None


def _recipients(kind, footage_request):
    if kind == Kind.ANSWER_DUE:
        return _users_in_roles([footage_request.agency_id], Role.REQUESTER)
    if kind == Kind.DEADLINE_NEAR and footage_request.status == Status.SUBMITTED:
        return _users_in_roles(_assigned(footage_request, AssignmentRule.Duty.REVIEW), Role.REVIEWER)
    approvers = _users_in_roles(_assigned(footage_request, AssignmentRule.Duty.APPROVE), Role.APPROVER)
    if kind == Kind.DEADLINE_PASSED:
        return approvers
    signed = set(
        Decision.objects.filter(
            footage_request=footage_request,
            step=Decision.Step.APPROVAL,
            outcome=Decision.Outcome.APPROVE,
            content_hash=footage_request.content_hash,
        ).values_list("actor_id", flat=True)
    )
    return [user for user in approvers if user.pk not in signed]


VERBS = {
    Kind.DEADLINE_NEAR: Notification.Verb.DEADLINE_NEAR,
    Kind.DEADLINE_PASSED: Notification.Verb.DEADLINE_PASSED,
    Kind.ANSWER_DUE: Notification.Verb.ANSWER_DUE,
}


def _remind(kind, pk, now, horizons) -> int:
    """Send one reminder of `kind` about request `pk` if it is still due and was not sent; 1 if sent, else 0."""
    try:
        with transaction.atomic(durable=True):
            footage_request = FootageRequest.objects.select_for_update().filter(pk=pk).first()
            if footage_request is None:
                return 0
            deadline = _deadline_now(kind, footage_request, now, horizons)
            if (
                deadline is None
                or Reminder.objects.filter(footage_request=footage_request, kind=kind, deadline=deadline).exists()
            ):
                return 0
            users = list({user.pk: user for user in _recipients(kind, footage_request)}.values())
            Reminder.objects.create(
                footage_request=footage_request, kind=kind, deadline=deadline, sent_at=now, recipients=len(users)
            )
            _notify(footage_request, users, VERBS[kind])
            record_event(
                actor=None,
                action=Action.REQUEST_ESCALATE if kind == Kind.DEADLINE_PASSED else Action.REQUEST_REMIND,
                target=footage_request,
                data={
                    "kind": kind,
                    "deadline": deadline,
                    "status": footage_request.status,
                    "recipients": sorted(user.username for user in users),
                },
            )
            return 1
    except IntegrityError:
        # The reminder's row was written by another sweep between the check and the insert: it was sent there.
        return 0
