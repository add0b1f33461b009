"""The only module that writes a footage request's status.

Every transition runs in this order, in one transaction: lock the row, check
permission, move the state through TRANSITIONS, other writes, the ledger
event, and tasks (e-mail) dispatched only after commit.
"""

import datetime as dt
import hashlib
import os
import shutil
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm

from audit import record_event
from audit.models import Action, Outcome
from governance import calendar
from governance.models import AssignmentRule, Role
from governance.selectors import assigned_agencies, regulation_in_force
from governance.services import role_group
from requests import permissions, verification
from requests.export import discard, failure_text, publish_package
from requests.models import (
    URGENCY_PRIORITY,
    Attachment,
    Comment,
    Decision,
    DownloadGrant,
    FootageRequest,
    LegalHold,
    Notification,
    ReferenceCounter,
    Release,
    ReleaseFile,
    RequestItem,
    Status,
    Urgency,
)
from requests.permissions import WorkflowRefused
from requests.rules import check_request_content
from requests.sources import source_for
from requests.sources.files import confined

# transition -> (statuses it may start from, status it leads to)
TRANSITIONS = {
    "submit": ({Status.DRAFT, Status.NEEDS_INFO}, Status.SUBMITTED),
    "review": ({Status.SUBMITTED, Status.IN_REVIEW}, Status.IN_REVIEW),
    "ask_info": ({Status.SUBMITTED, Status.IN_REVIEW}, Status.NEEDS_INFO),
    "approve_partly": ({Status.IN_REVIEW}, Status.IN_REVIEW),
    "approve": ({Status.IN_REVIEW}, Status.APPROVED),
    "reject": ({Status.IN_REVIEW}, Status.REJECTED),
    "withdraw": ({Status.DRAFT, Status.SUBMITTED, Status.IN_REVIEW, Status.NEEDS_INFO}, Status.WITHDRAWN),
    "expire": ({Status.NEEDS_INFO}, Status.EXPIRED),
    "export": ({Status.APPROVED, Status.EXPORT_FAILED}, Status.EXPORTING),
    "release": ({Status.EXPORTING}, Status.RELEASED),
    "export_fail": ({Status.EXPORTING}, Status.EXPORT_FAILED),
    "hold_damaged": ({Status.EXPORTING}, Status.DAMAGE_HELD),
    "acknowledge_damage": ({Status.DAMAGE_HELD}, Status.RELEASED),
    "close": ({Status.RELEASED}, Status.CLOSED),
}


def _move(footage_request, transition):
    sources, target = TRANSITIONS[transition]
    if footage_request.status not in sources:
        raise WorkflowRefused(
            _("The request is now “%(status)s”; this action is no longer possible.")
            % {"status": footage_request.get_status_display()}
        )
    footage_request.status = target


def _locked(footage_request):
    return (
        FootageRequest.objects.select_for_update().select_related("agency", "legal_basis", "requester").get(pk=footage_request.pk)
    )


def _next_reference(year):
    # The counter row is locked so two filings never get the same number.
    ReferenceCounter.objects.bulk_create([ReferenceCounter(year=year)], ignore_conflicts=True)
    counter = ReferenceCounter.objects.select_for_update().get(year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"YC-{year}-{counter.last:06d}"


# Notifications ---------------------------------------------------------------


def _users_in_roles(agency_ids, role):
    User = get_user_model()
    return list(
        User.objects.filter(is_active=True, memberships__agency_id__in=list(agency_ids), memberships__role=role).distinct()
    )


def _agency_requesters(footage_request):
    return _users_in_roles([footage_request.agency_id], Role.REQUESTER)


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
    from governance.models import Agency

    for agency in Agency.objects.filter(pk__in=list(agency_ids)):
        group = role_group(agency=agency, role=role)
        for codename in codenames:
            assign_perm(f"requests.{codename}", group, footage_request)


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
def request_create(*, actor, items, http_request=None, **fields):
    """File a new request as a draft for the actor's agency."""
    if not permissions.can_create(actor):
        raise WorkflowRefused(_("Only requesting officers of an agency may file requests."))
    now = timezone.now()
    footage_request = FootageRequest(
        reference=_next_reference(timezone.localdate(now).year),
        agency=actor.agency,
        requester=actor,
        **{name: fields[name] for name in CONTENT_FIELDS if name in fields},
    )
    footage_request.priority = URGENCY_PRIORITY[Urgency(footage_request.urgency)]
    footage_request.save()
    _set_items(footage_request, items)
    _refresh_content_hash(footage_request)
    footage_request.save(update_fields=["content_hash"])
    requesters = role_group(agency=actor.agency, role=Role.REQUESTER)
    for codename in ("view_footagerequest", "change_footagerequest"):
        assign_perm(f"requests.{codename}", requesters, footage_request)
    record_event(
        actor=actor,
        action=Action.REQUEST_CREATE,
        target=footage_request,
        data={"content_sha256": footage_request.content_hash, "items": len(items), "basis": footage_request.legal_basis.code},
        http_request=http_request,
    )
    return footage_request


@transaction.atomic
def request_update(*, actor, footage_request, items, http_request=None, **fields):
    """Change a draft or a request sent back for information; any earlier approval no longer applies."""
    footage_request = _locked(footage_request)
    permissions.ensure_can_edit(actor, footage_request)
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


@transaction.atomic
def request_attach(*, actor, footage_request, uploaded_file, kind=Attachment.Kind.OFFICIAL_LETTER, http_request=None):
    """Attach a checked PDF (see requests.forms.validate_pdf) to a request."""
    footage_request = _locked(footage_request)
    permissions.ensure_can_edit(actor, footage_request)
    digest = hashlib.sha256()
    for chunk in uploaded_file.chunks():
        digest.update(chunk)
    uploaded_file.seek(0)
    attachment = Attachment(
        footage_request=footage_request,
        kind=kind,
        original_name=uploaded_file.name[:255],
        size=uploaded_file.size,
        sha256=digest.hexdigest(),
        uploaded_by=actor,
    )
    attachment.file.save(f"{attachment.sha256[:16]}.pdf", uploaded_file, save=False)
    attachment.save()
    record_event(
        actor=actor,
        action=Action.REQUEST_ATTACH,
        target=footage_request,
        data={
            "attachment": attachment.pk,
            "kind": kind,
            "name": attachment.original_name,
            "sha256": attachment.sha256,
            "size": attachment.size,
        },
        http_request=http_request,
    )
    return attachment


def request_file(*, actor, items, footage_request=None, letter=None, submit=False, http_request=None, **fields):
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
                    request_attach(
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
def request_submit(*, actor, footage_request, http_request=None):
    """Send a draft (or an answered request) to the assigned reviewers and approvers."""
    footage_request = _locked(footage_request)
    permissions.ensure_can_submit(actor, footage_request)
    resubmission = footage_request.status == Status.NEEDS_INFO
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
    if (
        not footage_request.attachments.filter(kind=Attachment.Kind.OFFICIAL_LETTER).exists()
        and footage_request.urgency != Urgency.EMERGENCY
    ):
        errors.append(_("Attach the official request letter (PDF) before submitting."))
    if errors:
        raise ValidationError(errors)
    reviewers = _assigned(footage_request, AssignmentRule.Duty.REVIEW, version)
    approvers = _assigned(footage_request, AssignmentRule.Duty.APPROVE, version)
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
    footage_request.info_requested_at = None
    _refresh_content_hash(footage_request)
    footage_request.save()
    _grant(footage_request, reviewers, Role.REVIEWER, ("view_footagerequest", "review_footagerequest"))
    _grant(footage_request, approvers, Role.APPROVER, ("view_footagerequest", "approve_footagerequest"))
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
        _hold_create(footage_request, actor=None, reason="emergency request: preserved on submission", http_request=http_request)
    return footage_request


def _decide(footage_request, actor, step, outcome, reason):
    return Decision.objects.create(
        footage_request=footage_request,
        step=step,
        actor=actor,
        actor_agency=actor.agency,
        outcome=outcome,
        reason=reason,
        content_hash=footage_request.content_hash,
        regulation_version=footage_request.regulation_version,
    )


@transaction.atomic
def request_review(*, actor, footage_request, recommend_approval, reason, http_request=None):
    """The reviewer records a recommendation; the request goes to the approvers."""
    footage_request = _locked(footage_request)
    permissions.ensure_can_review(actor, footage_request)
    if not recommend_approval and not reason.strip():
        raise WorkflowRefused(_("Give the reason for recommending rejection."))
    _move(footage_request, "review")
    footage_request.save(update_fields=["status", "updated_at"])
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


@transaction.atomic
def request_ask_info(*, actor, footage_request, question, http_request=None):
    """Send the request back to the requesting agency with a question."""
    footage_request = _locked(footage_request)
    permissions.ensure_can_ask_info(actor, footage_request)
    if not question.strip():
        raise WorkflowRefused(_("Write the question for the requesting agency."))
    _move(footage_request, "ask_info")
    footage_request.info_requested_at = timezone.now()
    footage_request.save(update_fields=["status", "info_requested_at", "updated_at"])
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
    _notify(
        footage_request,
        _agency_requesters(footage_request),
        Notification.Verb.INFO_REQUESTED,
    )
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


@transaction.atomic
def request_approve(*, actor, footage_request, reason="", narrow=None, http_request=None):
    """Sign the request, optionally narrowing its scope; approved once enough distinct approvers signed this content."""
    footage_request = _locked(footage_request)
    permissions.ensure_can_sign(actor, footage_request)
    changes = {}
    if narrow:
        before = footage_request.content_hash
        changes = _narrow(footage_request, narrow)
        _refresh_content_hash(footage_request)
        if footage_request.content_hash != before:
            footage_request.save(update_fields=["content_hash", "updated_at"])
    try:
        with transaction.atomic():
            decision = _decide(footage_request, actor, Decision.Step.APPROVAL, Decision.Outcome.APPROVE, reason)
    except IntegrityError:
        raise WorkflowRefused(
            _("You have already signed this request; a second approval must come from another official.")
        ) from None
    signers = set(
        footage_request.decisions.filter(
            step=Decision.Step.APPROVAL, outcome=Decision.Outcome.APPROVE, content_hash=footage_request.content_hash
        ).values_list("actor_id", flat=True)
    )
    needed = footage_request.approvals_needed()
    complete = len(signers) >= needed
    _move(footage_request, "approve" if complete else "approve_partly")
    if complete:
        footage_request.decided_at = timezone.now()
    footage_request.save(update_fields=["status", "decided_at", "updated_at"])
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
        _notify(footage_request, _agency_requesters(footage_request), Notification.Verb.APPROVED)
        _notify(footage_request, _users_in_roles(custodians, Role.CUSTODIAN), Notification.Verb.EXPORT_READY)
    elif changes:
        _notify(footage_request, _agency_requesters(footage_request), Notification.Verb.NARROWED)
    return decision


@transaction.atomic
def request_reject(*, actor, footage_request, reason, http_request=None):
    footage_request = _locked(footage_request)
    permissions.ensure_can_sign(actor, footage_request)
    if not reason.strip():
        raise WorkflowRefused(_("Give the reason for the rejection; the requesting agency will read it."))
    _move(footage_request, "reject")
    footage_request.decided_at = timezone.now()
    footage_request.save(update_fields=["status", "decided_at", "updated_at"])
    decision = _decide(footage_request, actor, Decision.Step.APPROVAL, Decision.Outcome.REJECT, reason)
    record_event(
        actor=actor,
        action=Action.REQUEST_REJECT,
        target=footage_request,
        data={"decision": decision.pk, "reason": reason, "content_sha256": footage_request.content_hash},
        http_request=http_request,
    )
    _notify(footage_request, _agency_requesters(footage_request), Notification.Verb.REJECTED)
    return decision


@transaction.atomic
def request_withdraw(*, actor, footage_request, reason="", http_request=None):
    footage_request = _locked(footage_request)
    permissions.ensure_can_withdraw(actor, footage_request)
    was_open = footage_request.status != Status.DRAFT
    _move(footage_request, "withdraw")
    footage_request.decided_at = timezone.now()
    footage_request.save(update_fields=["status", "decided_at", "updated_at"])
    record_event(
        actor=actor, action=Action.REQUEST_WITHDRAW, target=footage_request, data={"reason": reason}, http_request=http_request
    )
    if was_open:
        reviewers = _users_in_roles(_assigned(footage_request, AssignmentRule.Duty.REVIEW), Role.REVIEWER)
        _notify(footage_request, reviewers, Notification.Verb.WITHDRAWN)
    return footage_request


@transaction.atomic
def request_comment(*, actor, footage_request, body, http_request=None):
    footage_request = _locked(footage_request)
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


def request_record_view(*, actor, footage_request, http_request=None):
    """Viewing a request's detail is itself a ledger event."""
    with transaction.atomic():
        record_event(actor=actor, action=Action.REQUEST_VIEW, target=footage_request, http_request=http_request)


def request_expire_stale(*, now=None):
    """Expire requests whose requester has not answered a question within REQUEST_INFO_EXPIRY_DAYS. Returns how many."""
    from requests.selectors import needs_info_older_than

    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=settings.REQUEST_INFO_EXPIRY_DAYS)
    expired = 0
    for pk in list(needs_info_older_than(cutoff).values_list("pk", flat=True)):
        with transaction.atomic():
            footage_request = FootageRequest.objects.select_for_update().get(pk=pk)
            if footage_request.status != Status.NEEDS_INFO or footage_request.info_requested_at >= cutoff:
                continue
            _move(footage_request, "expire")
            footage_request.decided_at = now
            footage_request.save(update_fields=["status", "decided_at", "updated_at"])
            record_event(
                actor=None,
                action=Action.REQUEST_EXPIRE,
                target=footage_request,
                data={"info_requested_at": footage_request.info_requested_at, "expiry_days": settings.REQUEST_INFO_EXPIRY_DAYS},
            )
            _notify(footage_request, _agency_requesters(footage_request), Notification.Verb.EXPIRED)
            expired += 1
    return expired


# Export and release ----------------------------------------------------------


def _custodian_users(footage_request):
    return _users_in_roles(_assigned(footage_request, AssignmentRule.Duty.EXPORT, exclude_own=False), Role.CUSTODIAN)


def _dispatch_export(footage_request_id):
    from requests.tasks import export_request

    transaction.on_commit(lambda: export_request.delay(footage_request_id))


@transaction.atomic
def request_export_start(*, actor, footage_request, http_request=None):
    """A custodian starts (or retries) the export of an approved request; the work runs in a task after commit."""
    footage_request = _locked(footage_request)
    permissions.ensure_can_export(actor, footage_request)
    retry = footage_request.status == Status.EXPORT_FAILED
    _move(footage_request, "export")
    footage_request.export_requested_by = actor
    footage_request.export_progress = 0
    footage_request.export_stage = ""
    footage_request.export_error = ""
    footage_request.export_heartbeat = timezone.now()
    footage_request.save(
        update_fields=[
            "status",
            "export_requested_by",
            "export_progress",
            "export_stage",
            "export_error",
            "export_heartbeat",
            "updated_at",
        ]
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


def request_export_pending(footage_request_id):
    """Whether an export task still has work to do (a duplicate or late delivery finds none)."""
    return FootageRequest.objects.filter(pk=footage_request_id, status=Status.EXPORTING).exists()


def request_export_progress(footage_request_id, percent, stage):
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
        "files": [{"name": f["name"], "sha256": f["sha256"], "size": f["size"]} for f in files],
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
            if f["kind"] == ReleaseFile.Kind.VIDEO and f.get("decoded") is False
        ],
    }


def request_release(*, footage_request_id, built):
    """Turn a built package into the request's one Release; a second delivery of the same task gets None.

    Damage the decode check found is declared in the ledger with the release.
    With EXPORT_ON_DAMAGE "hold" a damaged package is kept, not released: the
    request waits in DAMAGE_HELD for a custodian to acknowledge the damage
    (`request_acknowledge_damage`), and nobody can download it meanwhile.
    """

    final = None
    try:
        with transaction.atomic():
            footage_request = FootageRequest.objects.select_for_update().get(pk=footage_request_id)
            if footage_request.status != Status.EXPORTING or Release.objects.filter(footage_request=footage_request).exists():
                discard(built)
                return None
            held = bool(built.damaged_files) and settings.EXPORT_ON_DAMAGE == "hold"
            _move(footage_request, "hold_damaged" if held else "release")
            footage_request.export_progress = 100
            footage_request.export_stage = ""
            footage_request.save(update_fields=["status", "export_progress", "export_stage", "updated_at"])
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
                    actor=None, action=Action.RELEASE_CREATE, target=footage_request, data=_release_facts(release, built.files)
                )
            if built.damaged_files:
                facts = {**_damage_facts(release, built.files), "held": held}
                if held:
                    facts["package"] = _release_facts(release, built.files)
                record_event(actor=None, action=Action.RELEASE_DAMAGE, target=footage_request, data=facts)
            if held:
                _notify(footage_request, _custodian_users(footage_request), Notification.Verb.DAMAGE_HELD)
            else:
                _notify(footage_request, _agency_requesters(footage_request), Notification.Verb.RELEASED)
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


@transaction.atomic
def request_acknowledge_damage(*, actor, footage_request, note="", http_request=None):
    """A custodian acknowledges the damage found in a held export; the package is released as it was built."""
    footage_request = _locked(footage_request)
    permissions.ensure_can_acknowledge_damage(actor, footage_request)
    _move(footage_request, "acknowledge_damage")
    footage_request.save(update_fields=["status", "updated_at"])
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
    _notify(footage_request, _agency_requesters(footage_request), Notification.Verb.RELEASED)
    return release


@transaction.atomic
def request_export_fail(*, footage_request_id, reason):
    """A permanent export error: the request waits for a custodian's retry, every approval kept.

    The reason is stored as the export gives it (a code with parameters, `export.coded`) and shown in the
    reader's language; the ledger keeps it in words, in the site's language.
    """
    footage_request = FootageRequest.objects.select_for_update().get(pk=footage_request_id)
    if footage_request.status != Status.EXPORTING:
        return footage_request
    _move(footage_request, "export_fail")
    footage_request.export_error = str(reason)[:4000]
    footage_request.export_stage = ""
    footage_request.save(update_fields=["status", "export_error", "export_stage", "updated_at"])
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


def request_export_resume_stalled(*, now=None):
    """Dispatch again the exports nobody has worked on for EXPORT_STALL_MINUTES (a lost message, a dead worker)."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(minutes=settings.EXPORT_STALL_MINUTES)
    stalled = list(
        FootageRequest.objects.filter(status=Status.EXPORTING, export_heartbeat__lt=cutoff).values_list("pk", flat=True)
    )
    from requests.tasks import export_request

    for pk in stalled:
        export_request.delay(pk)
    return len(stalled)


@transaction.atomic
def request_close(*, actor, footage_request, http_request=None):
    """The requesting agency confirms it received the footage; the request is closed."""
    footage_request = _locked(footage_request)
    permissions.ensure_can_confirm_receipt(actor, footage_request)
    _move(footage_request, "close")
    footage_request.closed_at = timezone.now()
    footage_request.save(update_fields=["status", "closed_at", "updated_at"])
    record_event(actor=actor, action=Action.REQUEST_CLOSE, target=footage_request, http_request=http_request)
    return footage_request


# Download links --------------------------------------------------------------

DOWNLOAD_SALT = "requests.release-download"


class DownloadRefused(Exception):
    """A download link was refused; `gone` means expired or purged (410), otherwise unknown (404)."""

    def __init__(self, reason, *, gone=False):
        super().__init__(reason)
        self.reason = reason
        self.gone = gone


def _signer():

    return signing.TimestampSigner(salt=DOWNLOAD_SALT)


@transaction.atomic
def release_link_issue(*, actor, footage_request, http_request=None):
    """Issue the actor a personal, expiring, counted download link for the request's release. Returns (grant, token)."""

    footage_request = _locked(footage_request)
    permissions.ensure_can_receive(actor, footage_request)
    release = Release.objects.filter(footage_request=footage_request).first()
    if release is None or release.purged_at is not None:
        raise WorkflowRefused(_("The exported package is no longer kept."))
    grant = DownloadGrant.objects.create(
        release=release,
        user=actor,
        expires_at=timezone.now() + dt.timedelta(hours=settings.RELEASE_LINK_HOURS),
        max_downloads=settings.RELEASE_MAX_DOWNLOADS,
    )
    record_event(
        actor=actor,
        action=Action.RELEASE_LINK,
        target=footage_request,
        data={"release": release.pk, "grant": grant.pk, "expires_at": grant.expires_at, "max_downloads": grant.max_downloads},
        http_request=http_request,
    )
    return grant, download_token(grant)


def download_token(grant):
    return _signer().sign_object({"g": grant.pk, "u": grant.user_id, "r": grant.release_id})


def _refuse(actor, action, reason, *, footage_request=None, data=None, http_request=None):
    with transaction.atomic():
        record_event(
            actor=actor,
            action=action,
            target=footage_request,
            data={"reason": reason, **(data or {})},
            http_request=http_request,
            outcome=Outcome.DENIED,
        )


def release_download_open(*, actor, token, file_name=None, http_request=None):
    """Check a download link and count the download. Returns (release, file name inside the package or None).

    Every refusal (tampered, someone else's, revoked, used up, expired,
    purged) is a ledger event before DownloadRefused is raised.
    """
    expired = False
    try:
        claims = _signer().unsign_object(token, max_age=dt.timedelta(hours=settings.RELEASE_LINK_HOURS))
    except signing.SignatureExpired:
        # Genuine but too old: read the claims without the age check to name the grant in the ledger.
        expired = True
        claims = _signer().unsign_object(token)
    except signing.BadSignature:
        _refuse(actor, Action.RELEASE_DOWNLOAD_REFUSED, "tampered", data={"token": token[:200]}, http_request=http_request)
        raise DownloadRefused("tampered") from None
    if not isinstance(claims, dict):
        claims = {}
    refused = None
    with transaction.atomic():
        grant = (
            DownloadGrant.objects.select_for_update()
            .select_related("release__footage_request")
            .filter(pk=claims.get("g"), release_id=claims.get("r"))
            .first()
        )
        footage_request = grant.release.footage_request if grant else None
        now = timezone.now()
        if grant is None or grant.user_id != claims.get("u"):
            refused = ("unknown link", False)
        elif expired or grant.expires_at <= now:
            refused = ("expired", True)
        elif grant.user_id != actor.pk:
            refused = ("someone else's link", False)
        elif not permissions.can_receive(actor, footage_request):
            refused = ("no longer a recipient", False)
        elif grant.revoked_at is not None:
            refused = ("revoked", True)
        elif grant.downloads >= grant.max_downloads:
            refused = ("download limit reached", True)
        elif grant.release.purged_at is not None:
            refused = ("purged", True)
        elif (
            file_name
            and not ReleaseFile.objects.filter(release=grant.release, name=file_name)
            .exclude(kind=ReleaseFile.Kind.PACKAGE)
            .exists()
        ):
            refused = ("unknown file", False)
        if refused is None:
            grant.downloads += 1
            grant.save(update_fields=["downloads"])
            record_event(
                actor=actor,
                action=Action.RELEASE_DOWNLOAD,
                target=footage_request,
                data={
                    "release": grant.release_id,
                    "grant": grant.pk,
                    "download": grant.downloads,
                    "file": file_name or "package",
                },
                http_request=http_request,
            )
            return grant.release, file_name
    reason, gone = refused
    action = Action.RELEASE_LINK_EXPIRED if reason == "expired" else Action.RELEASE_DOWNLOAD_REFUSED
    _refuse(
        actor,
        action,
        reason,
        footage_request=footage_request,
        data={"grant": grant.pk if grant else claims.get("g")},
        http_request=http_request,
    )
    raise DownloadRefused(reason, gone=gone)


@transaction.atomic
def release_revoke(*, actor, footage_request, reason="", http_request=None):
    """A custodian revokes every live download link of the request's release."""

    footage_request = _locked(footage_request)
    permissions.ensure_can_revoke(actor, footage_request)
    live = DownloadGrant.objects.filter(release__footage_request=footage_request, revoked_at__isnull=True)
    grants = list(live.values_list("pk", flat=True))
    live.update(revoked_at=timezone.now(), revoked_by=actor)
    record_event(
        actor=actor,
        action=Action.RELEASE_REVOKE,
        target=footage_request,
        data={"grants": grants, "reason": reason},
        http_request=http_request,
    )
    return len(grants)


# Legal holds and retention ---------------------------------------------------


def _hold_create(footage_request, *, actor, reason, http_request=None):

    if LegalHold.objects.filter(footage_request=footage_request, released_at__isnull=True).exists():
        return None
    hold = LegalHold.objects.create(footage_request=footage_request, reason=reason, placed_by=actor)
    record_event(
        actor=actor,
        action=Action.HOLD_PLACE,
        target=footage_request,
        data={"hold": hold.pk, "reason": reason, "automatic": actor is None},
        http_request=http_request,
    )
    from requests.tasks import preserve_held_footage

    transaction.on_commit(lambda: preserve_held_footage.delay(hold.pk))
    return hold


@transaction.atomic
def hold_place(*, actor, footage_request, reason, http_request=None):
    """A custodian preserves the request's footage and package beyond their retention."""
    footage_request = _locked(footage_request)
    permissions.ensure_can_hold(actor, footage_request)
    if not reason.strip():
        raise WorkflowRefused(_("Give the reason for the legal hold."))
    hold = _hold_create(footage_request, actor=actor, reason=reason, http_request=http_request)
    if hold is None:
        raise WorkflowRefused(_("A legal hold is already in place on this request."))
    return hold


@transaction.atomic
def hold_release(*, actor, footage_request, reason="", http_request=None):
    """Lift the active legal hold; the preserved copies are removed and retention applies again."""

    footage_request = _locked(footage_request)
    permissions.ensure_can_hold(actor, footage_request)
    hold = LegalHold.objects.select_for_update().filter(footage_request=footage_request, released_at__isnull=True).first()
    if hold is None:
        raise WorkflowRefused(_("No legal hold is in place on this request."))
    hold.released_at = timezone.now()
    hold.released_by = actor
    hold.save(update_fields=["released_at", "released_by"])
    record_event(
        actor=actor,
        action=Action.HOLD_RELEASE,
        target=footage_request,
        data={"hold": hold.pk, "reason": reason, "segments_held": hold.segments_held},
        http_request=http_request,
    )
    if hold.path:
        path = hold.path
        transaction.on_commit(lambda: shutil.rmtree(path, ignore_errors=True))
    return hold


def hold_preserve(hold_id):
    """Hard-link (or copy, across file systems) every segment the held request covers into the holding area."""

    hold = LegalHold.objects.select_related("footage_request").get(pk=hold_id)
    if hold.released_at is not None:
        return 0
    target = Path(settings.LEGAL_HOLD_ROOT) / hold.footage_request.reference / str(hold.pk)
    count = 0
    for item in hold.footage_request.items.select_related("camera"):
        source = source_for(item.camera.code)
        for segment in source.list_segments(item.start, item.end).segments:
            # The holding area is itself a "generic" layout in UTC, so an export can read it like any recorder.
            destination = confined(
                target, target / item.camera.code / f"{segment.start.astimezone(dt.UTC):%Y-%m-%d/%H-%M-%S}.mp4"
            )
            destination.parent.mkdir(parents=True, exist_ok=True)
            if destination.exists():
                count += 1
                continue
            local = source.local_path(segment)
            try:
                if local is None:
                    raise OSError("remote segment")
                os.link(local, destination)
            except OSError:
                with source.open_segment(segment) as src, open(destination, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1024 * 1024)
            count += 1
    LegalHold.objects.filter(pk=hold.pk).update(path=str(target), segments_held=count)
    return count


def release_purge_expired(*, now=None):
    """Delete exported packages past their retention, except under an active legal hold. Returns how many."""

    now = now or timezone.now()
    held = LegalHold.objects.filter(released_at__isnull=True).values("footage_request_id")
    due = Release.objects.filter(purged_at__isnull=True, purge_after__lte=now).exclude(footage_request_id__in=held)
    purged = 0
    for pk in list(due.values_list("pk", flat=True)):
        with transaction.atomic():
            release = Release.objects.select_for_update().select_related("footage_request").get(pk=pk)
            if (
                release.purged_at is not None
                or LegalHold.objects.filter(footage_request_id=release.footage_request_id, released_at__isnull=True).exists()
            ):
                continue
            release.purged_at = timezone.now()
            release.save(update_fields=["purged_at"])
            record_event(
                actor=None,
                action=Action.RELEASE_PURGE,
                target=release.footage_request,
                data={"release": release.pk, "package_sha256": release.package_sha256, "purge_after": release.purge_after},
            )
            directory = Path(release.package_path).parent
            transaction.on_commit(lambda directory=directory: shutil.rmtree(directory, ignore_errors=True))
            purged += 1
    return purged


# Verification ----------------------------------------------------------------


@transaction.atomic
def release_verify(*, actor, sha256, release=None, http_request=None):
    """Which released files have this SHA-256 (within one release when given); the check is a ledger event.

    Without an account (actor None) a check that matches nothing is recorded once per address and minute only
    (requests.verification): anyone holding a link must not be able to grow the ledger at will.
    """

    sha256 = sha256.strip().lower()
    matches = ReleaseFile.objects.filter(sha256=sha256).select_related("release__footage_request")
    if release is not None:
        matches = matches.filter(release=release)
    matches = list(matches.order_by("release__created_at", "name"))
    if actor is None and not matches and not verification.first_unmatched_in_window(http_request):
        return matches
    record_event(
        actor=actor,
        action=Action.RELEASE_VERIFY,
        target=release.footage_request if release is not None else None,
        data={
            "sha256": sha256,
            "matches": [[m.release.footage_request.reference, m.name] for m in matches],
            **({"unmatched_recorded": "first of the minute from this address"} if actor is None and not matches else {}),
        },
        http_request=http_request,
    )
    return matches


@transaction.atomic
def release_verify_throttled(*, release, http_request):
    """Checks without an account over the limit are refused; the first refusal of each minute is a ledger event."""

    if not verification.first_refusal_in_window(http_request):
        return
    record_event(
        actor=None,
        action=Action.RELEASE_VERIFY_THROTTLED,
        target=release.footage_request,
        data={"release": release.pk, "limit_per_minute": settings.VERIFY_CHECKS_PER_MINUTE},
        http_request=http_request,
    )


@transaction.atomic
def release_verification_revoke(*, actor, footage_request, reason="", http_request=None):
    """Revoke every verification link of the request's release: links issued before no longer open."""

    footage_request = _locked(footage_request)
    permissions.ensure_can_revoke_verification(actor, footage_request)
    release = Release.objects.select_for_update().filter(footage_request=footage_request).first()
    if release is None:
        raise WorkflowRefused(_("This request has no release."))
    release.verify_generation += 1
    release.verify_revoked_at = timezone.now()
    release.save(update_fields=["verify_generation", "verify_revoked_at"])
    record_event(
        actor=actor,
        action=Action.RELEASE_VERIFY_REVOKE,
        target=footage_request,
        data={"release": release.pk, "generation": release.verify_generation, "reason": reason},
        http_request=http_request,
    )
    return release
