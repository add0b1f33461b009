"""The only module that writes a footage request's status.

Every transition runs in this order, in one transaction: lock the row, check
permission, move the state through the transition table (`requests.transitions`),
other writes, the ledger event, and tasks (e-mail) dispatched only after commit.
What happens to a release afterwards is `requests.releases`; legal holds are
`requests.holds`.
"""

import datetime as dt
import shutil

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm

from audit import record_event
from audit.models import Action, Outcome
from governance import calendar
from governance.models import AssignmentRule, Role, User
from governance.selectors import assigned_agencies, regulation_in_force
from governance.services import role_group
from requests import permissions, services
from requests.export import BuiltExport, discard, failure_text, publish_package
from requests.holds import hold_create
from requests.locking import lock_request
from requests.models import (
    OPEN_STATUSES,
    URGENCY_PRIORITY,
    ApprovedItem,
    Attachment,
    Comment,
    Decision,
    ExportPart,
    FootageRequest,
    LegalHold,
    Notification,
    QueueEntry,
    ReferenceCounter,
    Release,
    ReleaseFile,
    RequestItem,
    Status,
    StatusChange,
    Submission,
    SubmittedItem,
    Urgency,
)
from requests.permissions import WorkflowRefused
from requests.rules import check_request_content
from requests.selectors import binding_approvals, needs_info_older_than
from requests.signals import status_changed
from requests.transitions import TRANSITIONS, allows


def _move(footage_request, transition):
    """Move the status through `transition` of the table, or refuse: the one place a request's status is written."""
    sources, target = TRANSITIONS[transition]
    if footage_request.status not in sources:
        raise WorkflowRefused(
            _("The request is now “%(status)s”; this action is no longer possible.")
            % {"status": footage_request.get_status_display()}
        )
    if target is not None and target != footage_request.status:
        source = footage_request.status
        StatusChange.objects.create(footage_request=footage_request, from_status=source, to_status=target, at=timezone.now())
        footage_request.status = target
        if target not in OPEN_STATUSES:
            # Waiting for nobody now: out of every queue (filing puts it back, see _enqueue).
            QueueEntry.objects.filter(footage_request=footage_request).delete()
        status_changed.send(sender=FootageRequest, footage_request=footage_request, from_status=source, to_status=target)


def _move_and_save(footage_request, transition, **changes):
    """`_move`, then the other fields that change with it (`changes`), saved together and nothing else."""
    _move(footage_request, transition)
    for name, value in changes.items():
        setattr(footage_request, name, value)
    footage_request.save(update_fields=["status", *changes, "updated_at"])


def _next_reference(year):
    # The counter row is locked so two filings never get the same number.
    ReferenceCounter.objects.bulk_create([ReferenceCounter(year=year)], ignore_conflicts=True)
    counter = ReferenceCounter.objects.select_for_update().get(year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"YC-{year}-{counter.last:06d}"


# Notifications ---------------------------------------------------------------


def _users_in_roles(agency_ids, role):
    return list(
        User.objects.filter(is_active=True, memberships__agency_id__in=list(agency_ids), memberships__role=role).distinct()
    )


def _notify_requesters(footage_request, verb):
    """Tell the requesting agency's officers (for a person's own request, the centre's custodians who filed it)."""
    role = Role.CUSTODIAN if footage_request.for_data_subject else Role.REQUESTER
    _notify(footage_request, _users_in_roles([footage_request.agency_id], role), verb)


def _notify(footage_request, users, verb):
    """In-app notifications now (same transaction); e-mail only once the transaction has committed."""
    rows = Notification.objects.bulk_create(
        [Notification(user=user, footage_request=footage_request, verb=verb) for user in {u.pk: u for u in users}.values()]
    )
    ids = [row.pk for row in rows if row.pk]
    if ids:
        from requests.tasks import send_notification_emails

        transaction.on_commit(lambda: send_notification_emails.delay(ids))


# Grants ----------------------------------------------------------------------


def _grant(footage_request, agency_ids, role, codenames):
    """Give the role's group of each agency these permissions on the request; the groups, in agency order."""
    from governance.models import Agency

    groups = []
    for agency in Agency.objects.filter(pk__in=list(agency_ids)).order_by("pk"):
        group = role_group(agency=agency, role=role)
        for codename in codenames:
            assign_perm(f"requests.{codename}", group, footage_request)
        groups.append(group)
    return groups


def _enqueue(footage_request, groups):
    """Put a filed request in the queues of the groups that review and approve it, at its priority and due time."""
    QueueEntry.objects.filter(footage_request=footage_request).delete()
    QueueEntry.objects.bulk_create(
        [
            QueueEntry(
                footage_request=footage_request, group=group, priority=footage_request.priority, due_at=footage_request.due_at
            )
            for group in {group.pk: group for group in groups}.values()
        ]
    )


def _redaction_by_basis(footage_request, items):
    """Redacted copies required by the request's legal basis, for its data categories or its agency's kind."""
    from requests.models import Redaction

    basis = footage_request.legal_basis
    categories = {item.data_category_id for item in items}
    by_kind = footage_request.agency.kind in (basis.redaction_agency_kinds or [])
    by_category = basis.redaction_categories.filter(pk__in=categories).exists()
    if not (by_kind or by_category) or Redaction.objects.filter(footage_request=footage_request).exists():
        return
    from requests.redactions import redaction_required_by_rule

    redaction_required_by_rule(
        footage_request,
        reason=_("Required by the legal basis %(code)s for this request's %(what)s.")
        % {"code": basis.code, "what": _("data categories") if by_category else _("agency kind")},
        facts={"required_by": "legal basis", "basis": basis.code, "by_category": by_category, "by_kind": by_kind},
    )


def _assigned(footage_request, duty, version=None, *, exclude_own=True):
    """Agencies assigned `duty` for every item of the request (each item's area and data category).

    Nobody acts on their own agency's request, except that the centre may
    export footage it asked for itself (exclude_own=False).
    """
    version = version or footage_request.regulation_version
    if version is None:
        return set()
    agencies = None
    for item in footage_request.items.select_related("camera__area", "data_category"):
        found = set(assigned_agencies(version=version, duty=duty, area=item.camera.area, category=item.data_category))
        agencies = found if agencies is None else agencies & found
    agencies = agencies or set()
    # A person's own request is filed by the centre for them: the centre acts on it (not the official who filed it).
    if footage_request.for_data_subject:
        return agencies
    return agencies - {footage_request.agency_id} if exclude_own else agencies


# Content ---------------------------------------------------------------------


def _set_items(footage_request, items):
    footage_request.items.all().delete()
    RequestItem.objects.bulk_create(
        [
            RequestItem(
                footage_request=footage_request,
                camera=item["camera"],
                start=item["start"],
                end=item["end"],
                data_category=item["data_category"],
            )
            for item in items
        ]
    )


def _refresh_content_hash(footage_request):
    footage_request.content_hash = footage_request.compute_content_hash()


CONTENT_FIELDS = ("legal_basis", "letter_number", "letter_date", "case_reference", "purpose", "urgency")


@transaction.atomic
def request_create(
    *, actor: User, items: list[dict], http_request: HttpRequest | None = None, **fields: object
) -> FootageRequest:
    """File a new request as a draft for the actor's agency (`for_data_subject`: at the centre's counter, by one of its
    custodians, for a person asking for footage of themselves; `requests.subjects` checks who may)."""
    for_data_subject = bool(fields.pop("for_data_subject", False))
    if not for_data_subject and not permissions.can_create(actor):
        raise WorkflowRefused(_("Only requesting officers of an agency may file requests."))
    now = timezone.now()
    footage_request = FootageRequest(
        reference=_next_reference(timezone.localdate(now).year),
        agency=actor.agency,
        requester=actor,
        **{name: fields[name] for name in CONTENT_FIELDS if name in fields},
    )
    footage_request.priority = URGENCY_PRIORITY[Urgency(footage_request.urgency)]
    footage_request.for_data_subject = for_data_subject
    footage_request.save()
    StatusChange.objects.create(footage_request=footage_request, to_status=footage_request.status, at=now)
    _set_items(footage_request, items)
    _refresh_content_hash(footage_request)
    footage_request.save(update_fields=["content_hash"])
    # Those who file for the agency see it: its requesting officers, or for a person's own request the centre's custodians.
    filers = role_group(agency=actor.agency, role=Role.CUSTODIAN if for_data_subject else Role.REQUESTER)
    for codename in ("view_footagerequest", "change_footagerequest"):
        assign_perm(f"requests.{codename}", filers, footage_request)
    record_event(
        actor=actor,
        action=Action.REQUEST_CREATE,
        target=footage_request,
        data={"content_sha256": footage_request.content_hash, "items": len(items), "basis": footage_request.legal_basis.code},
        http_request=http_request,
    )
    return footage_request


@transaction.atomic
def request_update(
    *,
    actor: User,
    footage_request: FootageRequest,
    items: list[dict],
    http_request: HttpRequest | None = None,
    **fields: object,
) -> FootageRequest:
    """Change a draft or a request sent back for information; any earlier approval no longer applies."""
    footage_request = lock_request(footage_request)
    permissions.ensure_can_edit(actor, footage_request)
    _move(footage_request, "update")
    before = footage_request.content_hash
    for name in CONTENT_FIELDS:
        if name in fields:
            setattr(footage_request, name, fields[name])
    footage_request.priority = URGENCY_PRIORITY[Urgency(footage_request.urgency)]
    _set_items(footage_request, items)
    _refresh_content_hash(footage_request)
    footage_request.save()
    record_event(
        actor=actor,
        action=Action.REQUEST_UPDATE,
        target=footage_request,
        data={"content_sha256": footage_request.content_hash, "previous_sha256": before, "items": len(items)},
        http_request=http_request,
    )
    return footage_request


def request_file(
    *,
    actor: User,
    items: list[dict],
    footage_request: FootageRequest | None = None,
    letter: UploadedFile | None = None,
    submit: bool = False,
    http_request: HttpRequest | None = None,
    **fields: object,
) -> FootageRequest:
    """Save a request's content (new or changed), attach the letter and, when asked, submit: all of it or none of it."""
    stored = []
    try:
        with transaction.atomic():
            if footage_request is None:
                footage_request = request_create(actor=actor, items=items, http_request=http_request, **fields)
            else:
                footage_request = request_update(
                    actor=actor, footage_request=footage_request, items=items, http_request=http_request, **fields
                )
            if letter:
                stored.append(
                    services.request_attach(
                        actor=actor, footage_request=footage_request, uploaded_file=letter, http_request=http_request
                    ).file
                )
            if submit:
                footage_request = request_submit(actor=actor, footage_request=footage_request, http_request=http_request)
    except Exception:
        # The rollback forgets the attachment row; the stored file must go with it.
        for file in stored:
            file.storage.delete(file.name)
        raise
    return footage_request


@transaction.atomic
def request_submit(*, actor: User, footage_request: FootageRequest, http_request: HttpRequest | None = None) -> FootageRequest:
    """Send a draft (or an answered request) to the assigned reviewers and approvers."""
    footage_request = lock_request(footage_request)
    permissions.ensure_can_submit(actor, footage_request)
    resubmission = footage_request.status == Status.NEEDS_INFO
    if resubmission and not _answered(footage_request):
        raise WorkflowRefused(
            _(
                "Answer the question, or change the request or attach a document, before submitting it again:"
                " nothing has changed since the question was asked."
            )
        )
    _move(footage_request, "submit")
    version = regulation_in_force()
    if version is None:
        raise WorkflowRefused(_("No regulation is in force: an administrator must publish one before requests can be filed."))
    items = list(footage_request.items.select_related("camera__area", "data_category"))
    errors = check_request_content(
        agency=footage_request.agency,
        legal_basis=footage_request.legal_basis,
        case_reference=footage_request.case_reference,
        items=items,
    )
    if not version.legal_bases.filter(pk=footage_request.legal_basis_id).exists():
        errors.insert(0, _("The chosen legal basis is not part of the regulation in force."))
    if footage_request.legal_basis.data_subject_access != footage_request.for_data_subject:
        errors.insert(
            0,
            _("This legal basis is for a person's request for their own footage, filed at the centre's counter.")
            if footage_request.legal_basis.data_subject_access
            else _("A person's request for their own footage is filed under the legal basis for it."),
        )
    if (
        not footage_request.attachments.filter(kind=Attachment.Kind.OFFICIAL_LETTER).exists()
        and footage_request.urgency != Urgency.EMERGENCY
        # A person at the counter brings no official letter: the official's record of their identity stands for it.
        and not footage_request.for_data_subject
    ):
        errors.append(_("Attach the official request letter (PDF) before submitting."))
    if errors:
        raise ValidationError(errors)
    # A person's own request is filed by the centre for them: its own reviewers and approvers decide it.
    own = footage_request.for_data_subject
    reviewers = _assigned(footage_request, AssignmentRule.Duty.REVIEW, version, exclude_own=not own)
    approvers = _assigned(footage_request, AssignmentRule.Duty.APPROVE, version, exclude_own=not own)
    if not reviewers or not approvers:
        raise WorkflowRefused(
            _(
                "The regulation in force assigns no other agency to review and approve every camera and data category in this request."
            )
        )
    now = timezone.now()
    footage_request.regulation_version = version
    footage_request.submitted_at = now
    footage_request.due_at = calendar.response_due(
        legal_basis=footage_request.legal_basis, urgency=footage_request.urgency, start=now
    )
    footage_request.first_submitted_at = footage_request.first_submitted_at or now
    footage_request.info_requested_at = None
    _refresh_content_hash(footage_request)
    footage_request.save()
    submission = _keep_submission(footage_request, actor, items)
    _redaction_by_basis(footage_request, items)
    reviewing = _grant(footage_request, reviewers, Role.REVIEWER, ("view_footagerequest", "review_footagerequest"))
    approving = _grant(footage_request, approvers, Role.APPROVER, ("view_footagerequest", "approve_footagerequest"))
    _enqueue(footage_request, reviewing + approving)
    record_event(
        actor=actor,
        action=Action.REQUEST_SUBMIT,
        target=footage_request,
        data={
            "content_sha256": footage_request.content_hash,
            "regulation_version": version.number,
            "due_at": footage_request.due_at,
            "urgency": footage_request.urgency,
            "resubmission": resubmission,
            "submission": submission.number,
            "reviewer_agencies": sorted(reviewers),
            "approver_agencies": sorted(approvers),
        },
        http_request=http_request,
    )
    _notify(
        footage_request,
        _users_in_roles(reviewers, Role.REVIEWER),
        Notification.Verb.REVIEW_NEEDED,
    )
    if footage_request.urgency == Urgency.EMERGENCY:
        # Footage of an emergency must outlive the camera's retention while the paperwork catches up.
        hold_create(footage_request, actor=None, reason_code=LegalHold.ReasonCode.EMERGENCY_FILING, http_request=http_request)
    return footage_request


def _answered(footage_request) -> bool:
    """Whether the requesting agency answered the question it was sent back with: a message from one of its
    officers since then, a document attached since then, or content that differs from the last filing."""
    asked = footage_request.info_requested_at
    if asked is not None:
        if footage_request.comments.filter(created_at__gte=asked, author__agency_id=footage_request.agency_id).exists():
            return True
        if footage_request.attachments.filter(uploaded_at__gte=asked).exists():
            return True
    last = footage_request.submissions.order_by("-number").values_list("content_hash", flat=True).first()
    return last is None or last != footage_request.compute_content_hash()


def _keep_submission(footage_request, actor, items):
    """Keep this filing as it was sent: its time, deadline, content hash and every camera window."""
    number = footage_request.submissions.count() + 1
    submission = Submission.objects.create(
        footage_request=footage_request,
        number=number,
        submitted_at=footage_request.submitted_at,
        submitted_by=actor,
        due_at=footage_request.due_at,
        content_hash=footage_request.content_hash,
        legal_basis_id=footage_request.legal_basis_id,
        urgency=footage_request.urgency,
    )
    SubmittedItem.objects.bulk_create(
        [
            SubmittedItem(
                submission=submission,
                camera=item.camera,
                area_id=item.camera.area_id,
                start=item.start,
                end=item.end,
                data_category=item.data_category,
            )
            for item in items
        ]
    )
    return submission


def _decide(footage_request, actor, step, outcome, reason, narrowed_from=""):
    return Decision.objects.create(
        footage_request=footage_request,
        step=step,
        actor=actor,
        actor_agency=actor.agency,
        outcome=outcome,
        reason=reason,
        content_hash=footage_request.content_hash,
        narrowed_from=narrowed_from,
        regulation_version=footage_request.regulation_version,
    )


@transaction.atomic(durable=True)
def request_review(
    *,
    actor: User,
    footage_request: FootageRequest,
    recommend_approval: bool,
    reason: str,
    http_request: HttpRequest | None = None,
) -> Decision:
    """The reviewer records a recommendation; the request goes to the approvers."""
    footage_request = lock_request(footage_request)
    permissions.ensure_can_review(actor, footage_request)
    if not recommend_approval and not reason.strip():
        raise WorkflowRefused(_("Give the reason for recommending rejection."))
    _move_and_save(footage_request, "review")
    outcome = Decision.Outcome.RECOMMEND_APPROVE if recommend_approval else Decision.Outcome.RECOMMEND_REJECT
    decision = _decide(footage_request, actor, Decision.Step.REVIEW, outcome, reason)
    record_event(
        actor=actor,
        action=Action.REQUEST_REVIEW,
        target=footage_request,
        data={"decision": decision.pk, "outcome": outcome, "reason": reason, "content_sha256": footage_request.content_hash},
        http_request=http_request,
    )
    approvers = _users_in_roles(_assigned(footage_request, AssignmentRule.Duty.APPROVE), Role.APPROVER)
    _notify(footage_request, approvers, Notification.Verb.DECISION_NEEDED)
    return decision


@transaction.atomic(durable=True)
def request_ask_info(
    *, actor: User, footage_request: FootageRequest, question: str, http_request: HttpRequest | None = None
) -> Decision:
    """Send the request back to the requesting agency with a question."""
    footage_request = lock_request(footage_request)
    permissions.ensure_can_ask_info(actor, footage_request)
    if not question.strip():
        raise WorkflowRefused(_("Write the question for the requesting agency."))
    _move_and_save(footage_request, "ask_info", info_requested_at=timezone.now())
    step = Decision.Step.APPROVAL if actor.has_role(Role.APPROVER) and not actor.has_role(Role.REVIEWER) else Decision.Step.REVIEW
    decision = _decide(footage_request, actor, step, Decision.Outcome.REQUEST_INFO, question)
    Comment.objects.create(footage_request=footage_request, author=actor, body=question)
    record_event(
        actor=actor,
        action=Action.REQUEST_ASK_INFO,
        target=footage_request,
        data={"decision": decision.pk, "question": question},
        http_request=http_request,
    )
    _notify_requesters(footage_request, Notification.Verb.INFO_REQUESTED)
    return decision


def _narrow(footage_request, narrow):
    """Apply an approver's narrowing: drop items or shorten windows, never widen. Returns what changed."""
    items = {item.pk: item for item in footage_request.items.select_related("camera")}
    unknown = set(narrow) - set(items)
    if unknown:
        raise WorkflowRefused(_("The narrowed scope names items that are not part of this request."))
    if all(narrow.get(pk, "keep") is None for pk in items):
        raise WorkflowRefused(_("Narrowing cannot drop every item; reject the request instead."))
    changes = {}
    for pk, window in narrow.items():
        item = items[pk]
        if window is None:
            changes[item.camera.code] = "dropped"
            item.delete()
            continue
        start, end = window
        if start < item.start or end > item.end:
            raise WorkflowRefused(
                _("An approver may shorten the window for %(camera)s but never widen it.") % {"camera": item.camera.code}
            )
        if end <= start:
            raise WorkflowRefused(_("The end of the window must be after its start."))
        if (start, end) != (item.start, item.end):
            changes[item.camera.code] = [start, end]
            item.start, item.end = start, end
            item.save(update_fields=["start", "end"])
    return changes


@transaction.atomic(durable=True)
def request_approve(
    *,
    actor: User,
    footage_request: FootageRequest,
    reason: str = "",
    narrow: dict | None = None,
    http_request: HttpRequest | None = None,
) -> Decision:
    """Sign the request, optionally narrowing its scope; approved once enough distinct approvers signed this content."""
    footage_request = lock_request(footage_request)
    permissions.ensure_can_sign(actor, footage_request)
    changes = {}
    before = footage_request.content_hash
    if narrow:
        changes = _narrow(footage_request, narrow)
        _refresh_content_hash(footage_request)
        if footage_request.content_hash != before:
            footage_request.save(update_fields=["content_hash", "updated_at"])
    narrowed_from = before if footage_request.content_hash != before else ""
    try:
        with transaction.atomic():
            decision = _decide(
                footage_request, actor, Decision.Step.APPROVAL, Decision.Outcome.APPROVE, reason, narrowed_from=narrowed_from
            )
    except IntegrityError:
        raise WorkflowRefused(
            _("You have already signed this request; a second approval must come from another official.")
        ) from None
    if narrowed_from:
        # What this approval narrowed to stays readable after a later approver narrows further.
        ApprovedItem.objects.bulk_create(
            ApprovedItem(decision=decision, camera_id=i.camera_id, start=i.start, end=i.end, data_category_id=i.data_category_id)
            for i in footage_request.items.all()
        )
    signers = set(binding_approvals(footage_request).values_list("actor_id", flat=True))
    needed = footage_request.approvals_needed()
    complete = len(signers) >= needed
    _move_and_save(
        footage_request,
        "approve" if complete else "approve_partly",
        decided_at=timezone.now() if complete else footage_request.decided_at,
    )
    record_event(
        actor=actor,
        action=Action.REQUEST_APPROVE,
        target=footage_request,
        data={
            "decision": decision.pk,
            "content_sha256": footage_request.content_hash,
            "approvals": len(signers),
            "approvals_needed": needed,
            "complete": complete,
            "narrowed": changes,
            "reason": reason,
            "regulation_version": footage_request.regulation_version.number,
        },
        http_request=http_request,
    )
    if complete:
        custodians = _assigned(footage_request, AssignmentRule.Duty.EXPORT, exclude_own=False)
        _grant(footage_request, custodians, Role.CUSTODIAN, ("view_footagerequest", "export_footagerequest"))
        _notify_requesters(footage_request, Notification.Verb.APPROVED)
        _notify(footage_request, _users_in_roles(custodians, Role.CUSTODIAN), Notification.Verb.EXPORT_READY)
    elif changes:
        _notify_requesters(footage_request, Notification.Verb.NARROWED)
    return decision


@transaction.atomic(durable=True)
def request_reject(
    *, actor: User, footage_request: FootageRequest, reason: str, http_request: HttpRequest | None = None
) -> Decision:
    """An approver rejects the request, with the reason the requesting agency will read."""
    footage_request = lock_request(footage_request)
    permissions.ensure_can_sign(actor, footage_request)
    if not reason.strip():
        raise WorkflowRefused(_("Give the reason for the rejection; the requesting agency will read it."))
    _move_and_save(footage_request, "reject", decided_at=timezone.now())
    decision = _decide(footage_request, actor, Decision.Step.APPROVAL, Decision.Outcome.REJECT, reason)
    record_event(
        actor=actor,
        action=Action.REQUEST_REJECT,
        target=footage_request,
        data={"decision": decision.pk, "reason": reason, "content_sha256": footage_request.content_hash},
        http_request=http_request,
    )
    _notify_requesters(footage_request, Notification.Verb.REJECTED)
    return decision


@transaction.atomic(durable=True)
def request_withdraw(
    *, actor: User, footage_request: FootageRequest, reason: str = "", http_request: HttpRequest | None = None
) -> FootageRequest:
    """The requesting agency withdraws its request; the officials examining it are told."""
    footage_request = lock_request(footage_request)
    permissions.ensure_can_withdraw(actor, footage_request)
    was_open = footage_request.status != Status.DRAFT
    _move_and_save(footage_request, "withdraw", decided_at=timezone.now())
    record_event(
        actor=actor, action=Action.REQUEST_WITHDRAW, target=footage_request, data={"reason": reason}, http_request=http_request
    )
    if was_open:
        reviewers = _users_in_roles(_assigned(footage_request, AssignmentRule.Duty.REVIEW), Role.REVIEWER)
        _notify(footage_request, reviewers, Notification.Verb.WITHDRAWN)
    return footage_request


@transaction.atomic(durable=True)
def request_comment(
    *, actor: User, footage_request: FootageRequest, body: str, http_request: HttpRequest | None = None
) -> Comment:
    """A message on the request between the requesting agency and the officials examining it."""
    footage_request = lock_request(footage_request)
    permissions.ensure_can_comment(actor, footage_request)
    if not body.strip():
        raise WorkflowRefused(_("The message is empty."))
    comment = Comment.objects.create(footage_request=footage_request, author=actor, body=body)
    record_event(
        actor=actor,
        action=Action.REQUEST_COMMENT,
        target=footage_request,
        data={"comment": comment.pk, "body": body},
        http_request=http_request,
    )
    return comment


def request_expire_stale(*, now: dt.datetime | None = None) -> int:
    """Expire requests whose requester has not answered a question within REQUEST_INFO_EXPIRY_DAYS. Returns how many."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=settings.REQUEST_INFO_EXPIRY_DAYS)
    expired = 0
    for pk in list(needs_info_older_than(cutoff).values_list("pk", flat=True)):
        with transaction.atomic(durable=True):
            footage_request = FootageRequest.objects.select_for_update().get(pk=pk)
            if not allows("expire", footage_request.status) or footage_request.info_requested_at >= cutoff:
                continue
            _move_and_save(footage_request, "expire", decided_at=now)
            record_event(
                actor=None,
                action=Action.REQUEST_EXPIRE,
                target=footage_request,
                data={"info_requested_at": footage_request.info_requested_at, "expiry_days": settings.REQUEST_INFO_EXPIRY_DAYS},
            )
            _notify_requesters(footage_request, Notification.Verb.EXPIRED)
            expired += 1
    return expired


# Export and release ----------------------------------------------------------


def _custodian_users(footage_request):
    return _users_in_roles(_assigned(footage_request, AssignmentRule.Duty.EXPORT, exclude_own=False), Role.CUSTODIAN)


def _remove_parts_after_commit(reference):
    """The recorder sites' clips go once the package holds them, or the export failed (a retry cuts them again)."""
    from requests.sites import remove_parts

    transaction.on_commit(lambda: remove_parts(reference))


def _dispatch_export(footage_request_id):
    from requests.sites import export_dispatch

    transaction.on_commit(lambda: export_dispatch(footage_request_id))


@transaction.atomic(durable=True)
def request_export_start(
    *, actor: User, footage_request: FootageRequest, http_request: HttpRequest | None = None
) -> FootageRequest:
    """A custodian starts (or retries) the export of an approved request; the work runs in a task after commit."""
    footage_request = lock_request(footage_request)
    permissions.ensure_can_export(actor, footage_request)
    retry = footage_request.status == Status.EXPORT_FAILED
    # A retry cuts every site's clips again: what a failed export's sites cut is not reused.
    ExportPart.objects.filter(footage_request=footage_request).delete()
    _move_and_save(
        footage_request,
        "export",
        export_requested_by=actor,
        export_progress=0,
        export_stage="",
        export_error="",
        export_heartbeat=timezone.now(),
    )
    record_event(
        actor=actor,
        action=Action.REQUEST_EXPORT_START,
        target=footage_request,
        data={"retry": retry, "content_sha256": footage_request.content_hash, "items": footage_request.items.count()},
        http_request=http_request,
    )
    _dispatch_export(footage_request.pk)
    return footage_request


def request_export_progress(footage_request_id: int, percent: float, stage: str) -> None:
    """Progress shown on the request page while the export runs; not a status change and not a ledger event.

    The stage is a code with parameters (`export.coded`), put into words in the reader's language when shown.
    """
    FootageRequest.objects.filter(pk=footage_request_id, status=Status.EXPORTING).update(
        export_progress=max(0, min(100, int(percent))), export_stage=str(stage)[:200], export_heartbeat=timezone.now()
    )


def _release_facts(release, files):
    """What the ledger says of a release when it is made (the package, its documents and every file's hash)."""
    return {
        "release": release.pk,
        "package_sha256": release.package_sha256,
        "manifest_sha256": release.manifest_sha256,
        "handover_sha256": release.handover_sha256,
        "gaps": release.gaps,
        "files": [
            {
                "name": f["name"],
                "sha256": f["sha256"],
                "size": f["size"],
                # The original of a redacted copy is kept by the centre, never handed over.
                **({"kept_by_centre": True} if f["kind"] == ReleaseFile.Kind.ORIGINAL else {}),
                **({"redacted_from": f["redacted_from"]} if f.get("redacted_from") else {}),
            }
            for f in files
        ],
    }


def _damage_facts(release, files):
    """What the ledger says of the damage the decode check found: per damaged clip, its ranges as the manifest lists them."""
    return {
        "release": release.pk,
        "damaged_files": release.damaged_files,
        "files": [
            {
                "name": f["name"],
                "sha256": f["sha256"],
                "frames_in_file": f["frames_in_file"],
                "frames_decoded": f["frames_decoded"],
                "checked_with": f["checked_with"],
                "damaged": f["damage"],
            }
            for f in files
            if f["kind"] in (ReleaseFile.Kind.VIDEO, ReleaseFile.Kind.ORIGINAL) and f.get("decoded") is False
        ],
    }


def request_release(*, footage_request_id: int, built: BuiltExport) -> Release | None:
    """Turn a built package into the request's one Release; a second delivery of the same task gets None.

    Damage the decode check found is declared in the ledger with the release.
    With EXPORT_ON_DAMAGE "hold" a damaged package is kept, not released: the
    request waits in DAMAGE_HELD for a custodian to acknowledge the damage
    (`request_acknowledge_damage`), and nobody can download it meanwhile.
    """

    final = None
    try:
        with transaction.atomic(durable=True):
            footage_request = FootageRequest.objects.select_for_update().get(pk=footage_request_id)
            if not allows("release", footage_request.status) or Release.objects.filter(footage_request=footage_request).exists():
                discard(built)
                return None
            held = bool(built.damaged_files) and settings.EXPORT_ON_DAMAGE == "hold"
            _move_and_save(footage_request, "hold_damaged" if held else "release", export_progress=100, export_stage="")
            token, final = publish_package(built, footage_request)
            release = Release.objects.create(
                footage_request=footage_request,
                token=token,
                package_path=str(final),
                package_sha256=built.package_sha256,
                package_size=built.package_size,
                manifest_sha256=built.manifest_sha256,
                handover_sha256=built.handover_sha256,
                gaps=built.gaps,
                damaged_files=built.damaged_files,
                purge_after=timezone.now() + dt.timedelta(days=settings.RELEASE_RETENTION_DAYS),
            )
            ReleaseFile.objects.bulk_create([ReleaseFile(release=release, **entry) for entry in built.files])
            if not held:
                record_event(
                    actor=None,
                    action=Action.RELEASE_CREATE,
                    target=footage_request,
                    data={**_release_facts(release, built.files), "handover_number": built.handover_number},
                )
            if built.damaged_files:
                facts = {**_damage_facts(release, built.files), "held": held}
                if held:
                    facts["package"] = {**_release_facts(release, built.files), "handover_number": built.handover_number}
                record_event(actor=None, action=Action.RELEASE_DAMAGE, target=footage_request, data=facts)
            if held:
                _notify(footage_request, _custodian_users(footage_request), Notification.Verb.DAMAGE_HELD)
            else:
                _notify_requesters(footage_request, Notification.Verb.RELEASED)
            _remove_parts_after_commit(footage_request.reference)
            return release
    except IntegrityError:
        # The one-to-one constraint caught a release committed by a concurrent delivery.
        if final is not None:
            shutil.rmtree(final.parent, ignore_errors=True)
        discard(built)
        return None
    except BaseException:
        if final is not None:
            shutil.rmtree(final.parent, ignore_errors=True)
        raise


@transaction.atomic(durable=True)
def request_acknowledge_damage(
    *, actor: User, footage_request: FootageRequest, note: str = "", http_request: HttpRequest | None = None
) -> Release:
    """A custodian acknowledges the damage found in a held export; the package is released as it was built."""
    footage_request = lock_request(footage_request)
    permissions.ensure_can_acknowledge_damage(actor, footage_request)
    _move_and_save(footage_request, "acknowledge_damage")
    release = Release.objects.select_for_update().get(footage_request=footage_request)
    now = timezone.now()
    release.damage_acknowledged_at = now
    release.damage_acknowledged_by = actor
    release.damage_acknowledgement = note
    # Released now: the retention and the release register count from here.
    release.created_at = now
    release.purge_after = now + dt.timedelta(days=settings.RELEASE_RETENTION_DAYS)
    release.save(
        update_fields=["damage_acknowledged_at", "damage_acknowledged_by", "damage_acknowledgement", "created_at", "purge_after"]
    )
    files = list(
        release.files.values(
            "kind", "name", "sha256", "size", "decoded", "frames_in_file", "frames_decoded", "checked_with", "damage"
        )
    )
    record_event(
        actor=actor,
        action=Action.RELEASE_DAMAGE_ACKNOWLEDGE,
        target=footage_request,
        data={**_damage_facts(release, files), "note": note},
        http_request=http_request,
    )
    record_event(
        actor=actor,
        action=Action.RELEASE_CREATE,
        target=footage_request,
        data=_release_facts(release, files),
        http_request=http_request,
    )
    _notify_requesters(footage_request, Notification.Verb.RELEASED)
    return release


@transaction.atomic(durable=True)
def request_export_fail(*, footage_request_id: int, reason: str) -> FootageRequest:
    """A permanent export error: the request waits for a custodian's retry, every approval kept.

    The reason is stored as the export gives it (a code with parameters, `export.coded`) and shown in the
    reader's language; the ledger keeps it in words, in the site's language.
    """
    footage_request = FootageRequest.objects.select_for_update().get(pk=footage_request_id)
    if not allows("export_fail", footage_request.status):
        return footage_request
    _move_and_save(footage_request, "export_fail", export_error=str(reason)[:4000], export_stage="")
    _remove_parts_after_commit(footage_request.reference)
    record_event(
        actor=None,
        action=Action.REQUEST_EXPORT_FAIL,
        target=footage_request,
        data={"reason": _failure_words(footage_request.export_error)},
        outcome=Outcome.FAILURE,
    )
    _notify(footage_request, _custodian_users(footage_request), Notification.Verb.EXPORT_FAILED)
    return footage_request


def _failure_words(reason):
    with translation.override(settings.LANGUAGE_CODE):
        return failure_text(reason)


@transaction.atomic(durable=True)
def request_close(*, actor: User, footage_request: FootageRequest, http_request: HttpRequest | None = None) -> FootageRequest:
    """The requesting agency confirms it received the footage; the request is closed."""
    footage_request = lock_request(footage_request)
    permissions.ensure_can_confirm_receipt(actor, footage_request)
    _move_and_save(footage_request, "close", closed_at=timezone.now())
    record_event(actor=actor, action=Action.REQUEST_CLOSE, target=footage_request, http_request=http_request)
    return footage_request
