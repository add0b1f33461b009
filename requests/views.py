"""Request pages: filing, the agency list, the queue, the detail with its decisions and timeline, and the actions.

Every view fetches the request through `get_visible_request_or_404` (what a user
may not see is a 404, never a 403) and leaves the rules to `requests.permissions`
and the services (`requests.workflow`, `requests.releases`, `requests.holds`).
"""

import datetime as dt
import hashlib
import zipfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from audit.models import ACTION_LABELS, Action, AuditEvent
from audit.selectors import current_signing_key_fingerprint
from governance.models import Agency, Camera, display_name
from governance.permissions import ensure_can_read_governance
from governance.selectors import camera_search
from requests import holds, permissions, redactions, releases, services, subjects, transitions, verification, workflow
from requests.export import failure_text, stage_text
from requests.forms import (
    ApproveForm,
    AskInfoForm,
    BasisChoiceForm,
    CommentForm,
    DamageAcknowledgeForm,
    HoldForm,
    NotificationsReadForm,
    ReasonForm,
    RedactionRegionForm,
    RedactionRegionRemoveForm,
    RedactionRequireForm,
    RejectForm,
    RequestForm,
    RequestListForm,
    ReviewForm,
    SubjectLinkForm,
    SubjectRequestForm,
    VerifyForm,
    WithdrawForm,
    available_legal_bases,
    request_item_formset,
)
from requests.models import Decision, Notification, Status, SubjectAccess, Urgency
from requests.permissions import WorkflowRefused
from requests.selectors import (
    TABLE_COLUMNS,
    active_hold,
    agency_requests,
    binds,
    filed_scope,
    get_release_for_verification_or_404,
    get_request_page_or_404,
    get_visible_request_or_404,
    is_overdue,
    listed_requests,
    minimisation,
    notification_scope,
    overseen_agencies,
    release_of,
    requests_visible_to,
    review_queue,
    verification_token,
)
from requests.todo import waiting_notes

PAGE_SIZE = 50
CAMERA_RESULTS = 20
TIMELINE_LIMIT = 500
NOTIFICATIONS_SHOWN = 100

READ_ONLY = ["GET", "HEAD"]


def _refusal_messages(exc):
    if isinstance(exc, WorkflowRefused):
        return [exc.message]
    return list(exc.messages)


def _list_page(rows):
    """The first PAGE_SIZE of `rows` (one more was read), each marked overdue or not, and whether more follow."""
    now = timezone.now()
    footage_requests = rows[:PAGE_SIZE]
    for footage_request in footage_requests:
        footage_request.is_overdue = is_overdue(footage_request, now)
    return footage_requests, len(rows) > PAGE_SIZE


# Lists -----------------------------------------------------------------------


@login_required
@require_http_methods(READ_ONLY)
def request_list(request):
    """The agency's own requests; for an overseer, every request it reads, with filters."""
    ensure_can_read_governance(request.user)
    overseer = permissions.can_list_overseen_requests(request.user)
    form = RequestListForm(request.GET, agencies=overseen_agencies(request.user) if overseer else None)
    before_id = form.before_id()
    filters_valid = True
    if not form.filters_valid():
        rows, filters_valid = [], False
    elif overseer:
        rows = listed_requests(request.user, **form.filters(), size=PAGE_SIZE + 1, before_id=before_id, columns=TABLE_COLUMNS)
    else:
        # An agency's own officers filter their list too, within their agency whatever agency is asked.
        filters = {**form.filters(), "agency": None}
        rows = agency_requests(request.user, **filters, size=PAGE_SIZE + 1, before_id=before_id, columns=TABLE_COLUMNS)
    footage_requests, more = _list_page(rows)
    return render(
        request,
        "requests/list.html",
        {
            "footage_requests": footage_requests,
            "older_than": footage_requests[-1].pk if more else None,
            "is_older_page": before_id is not None,
            "can_create": permissions.can_create(request.user),
            "can_file_subject": subjects.can_file_for_subject(request.user),
            "is_overseer": overseer,
            "form": form,
            "filters_valid": filters_valid,
            "is_filtered": filters_valid and any(value for name, value in form.filters().items() if overseer or name != "agency"),
        },
    )


@login_required
@require_http_methods(READ_ONLY)
def queue(request):
    if not permissions.can_see_review_queue(request.user):
        raise Http404
    after = None
    after_id = request.GET.get("after", "")
    if after_id.isdigit():
        after = requests_visible_to(request.user).filter(pk=int(after_id)).values_list("priority", "due_at", "id").first()
    footage_requests, more = _list_page(review_queue(request.user, size=PAGE_SIZE + 1, after=after))
    notes = waiting_notes(request.user, footage_requests)
    for footage_request in footage_requests:
        footage_request.waiting_note = notes.get(footage_request.pk, "")
    return render(
        request,
        "requests/queue.html",
        {
            "footage_requests": footage_requests,
            "next_after": footage_requests[-1].pk if more else None,
            "is_later_page": after is not None,
        },
    )


# Filing ----------------------------------------------------------------------


def _initial_content(footage_request):
    if footage_request is None:
        return {"letter_date": timezone.localdate(), "urgency": Urgency.NORMAL}, None
    content = {
        "letter_number": footage_request.letter_number,
        "letter_date": footage_request.letter_date,
        "case_reference": footage_request.case_reference,
        "purpose": footage_request.purpose,
        "urgency": footage_request.urgency,
    }
    items = [
        {"camera": item.camera.code, "start": item.start, "end": item.end, "data_category": item.data_category.code}
        for item in footage_request.items.select_related("camera", "data_category")
    ]
    return content, items


def _filing_page(request, footage_request):
    """The request form, for a new request (footage_request None) or a draft being changed."""
    user = request.user
    bases = available_legal_bases()
    if request.method == "POST":
        code = request.POST.get("legal_basis", "")
    else:
        code = request.GET.get("basis") or (footage_request.legal_basis.code if footage_request else "")
    chooser = BasisChoiceForm({"basis": code} if code else None)
    legal_basis = bases.filter(code=code).first() if code else None
    if request.method == "POST":
        items = request_item_formset(request.POST, legal_basis=legal_basis)
        form = RequestForm(request.POST, request.FILES, agency=user.agency, items=items, legal_basis=legal_basis)
        if form.is_valid():
            try:
                saved = workflow.request_file(
                    actor=user,
                    footage_request=footage_request,
                    items=form.items.items(),
                    letter=form.cleaned_data.get("letter"),
                    submit=request.POST.get("action") == "submit",
                    http_request=request,
                    **form.content(),
                )
            except (WorkflowRefused, ValidationError) as exc:
                for message in _refusal_messages(exc):
                    form.add_error(None, message)
            else:
                if saved.status == Status.SUBMITTED:
                    messages.success(request, _("%(ref)s was submitted for review.") % {"ref": saved.reference})
                else:
                    messages.success(request, _("%(ref)s was saved as a draft.") % {"ref": saved.reference})
                return redirect("requests:detail", reference=saved.reference)
    else:
        content, initial_items = _initial_content(footage_request)
        if legal_basis is not None:
            content["legal_basis"] = legal_basis.code
        items = request_item_formset(legal_basis=legal_basis, initial=initial_items, extra=1 if initial_items else 2)
        form = RequestForm(initial=content, agency=user.agency, items=items, legal_basis=legal_basis)
    return render(
        request,
        "requests/form.html",
        {
            "footage_request": footage_request,
            "chooser": chooser,
            "legal_basis": legal_basis,
            "categories": legal_basis.allowed_categories.order_by("code") if legal_basis else [],
            "form": form,
            "items": items,
            "file_lost": request.method == "POST" and bool(request.FILES),
        },
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def request_new(request):
    if not permissions.can_create(request.user):
        raise Http404
    return _filing_page(request, None)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def request_edit(request, reference):
    footage_request = get_visible_request_or_404(request.user, reference)
    if not permissions.can_edit(request.user, footage_request):
        messages.error(request, _("This request cannot be changed by you now."))
        return redirect("requests:detail", reference=footage_request.reference)
    return _filing_page(request, footage_request)


# Detail ----------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEntry:
    """A ledger event of the request as its timeline shows it."""

    occurred_at: dt.datetime
    action: str
    label: str
    actor: str | None  # the person's name now, the account's name as recorded, or None: the system
    agency_name: str


def _timeline(footage_request, *, with_views):
    """The request's ledger events, oldest first; views are counted and shown only on demand.

    Read as the columns the timeline shows, the actor's name with them; the ledger keeps the agency's code as it was,
    shown by its current name where the agency still exists (one read of the agencies the events name)."""
    events = AuditEvent.objects.filter(reference=footage_request.reference)
    if not with_views:
        events = events.exclude(action=Action.REQUEST_VIEW)
    rows = list(
        events.order_by("seq").values_list(
            "occurred_at", "action", "actor_username", "actor_agency", "actor__last_name", "actor__first_name", "actor__username"
        )[:TIMELINE_LIMIT]
    )
    codes = {row[3] for row in rows if row[3]}
    agencies = Agency.objects.filter(code__in=codes).only("code", "name_vi", "name_en") if codes else ()
    names = {agency.code: agency.name or agency.code for agency in agencies}
    timeline = [
        TimelineEntry(
            occurred_at=occurred_at,
            action=action,
            label=ACTION_LABELS.get(action, action),
            actor=display_name(last_name, first_name, username) if username is not None else (recorded or None),
            agency_name=names.get(agency, agency),
        )
        for occurred_at, action, recorded, agency, last_name, first_name, username in rows
    ]
    # Counted with the request, before this opening was recorded (requests.selectors.get_request_page_or_404).
    views = footage_request.views_before + 1
    return timeline, views


@login_required
@require_http_methods(READ_ONLY)
def request_detail(request, reference):
    user = request.user
    footage_request = get_request_page_or_404(user, reference)
    services.request_record_view(actor=user, footage_request=footage_request, http_request=request)
    items = list(footage_request.items.select_related("camera__area", "data_category"))
    decisions = (
        list(footage_request.decisions.select_related("actor", "actor_agency").order_by("created_at", "id"))
        if footage_request.has_decisions
        else []
    )
    scope = filed_scope(footage_request, items, decisions, with_items=False)
    for decision in decisions:
        decision.binds = binds(decision, footage_request)
    # What the page's questions of the decisions ask (already signed? reviewed yet?) is read from these.
    footage_request.decisions_read = decisions
    with_views = request.GET.get("views") == "1"
    timeline, views_count = _timeline(footage_request, with_views=with_views)
    with permissions.permissions_read_once(user):
        can = _detail_permissions(user, footage_request)
    release = release_of(footage_request) if transitions.has_release(footage_request.status) else None
    past_approval = transitions.past_approval(footage_request.status)
    can_answer = can["comment"] and user.agency_id == footage_request.agency_id
    return render(
        request,
        "requests/detail.html",
        {
            "footage_request": footage_request,
            "is_overdue": is_overdue(footage_request, timezone.now()),
            "past_approval": past_approval,
            "items": items,
            # Every filing, and the scope as last filed beside the scope now where an approver narrowed it.
            "scope": scope,
            "attachments": list(footage_request.attachments.all()) if footage_request.has_attachments else [],
            "comments": list(footage_request.comments.select_related("author")) if footage_request.has_comments else [],
            "decisions": decisions,
            "binding_approvals": sum(1 for decision in decisions if decision.binds),
            "approvals_needed": footage_request.approvals_needed(items) if items else None,
            "timeline": timeline,
            "views_count": views_count,
            "with_views": with_views,
            "can": can,
            # The actions card holds the decisions; export, hold and receipt have their own section.
            "any_action": any(can[name] for name in ("edit", "review", "sign", "ask_info", "withdraw")),
            # Several forms share field names on one page: each gets its own element ids. Each is built only for
            # whoever the page shows it to.
            "review_form": ReviewForm(auto_id="review_%s") if can["review"] else None,  # nothing chosen for them
            "ask_info_form": AskInfoForm(auto_id="ask_info_%s") if can["ask_info"] else None,
            "approve_form": ApproveForm(items=items, auto_id="approve_%s") if can["sign"] else None,
            "reject_form": RejectForm(auto_id="reject_%s") if can["sign"] else None,
            "withdraw_form": WithdrawForm(auto_id="withdraw_%s") if can["withdraw"] else None,
            "comment_form": CommentForm(auto_id="comment_%s") if can["comment"] else None,
            # Sent back for information: the question, and a reply box where it is asked.
            "question": _open_question(footage_request, decisions),
            "answer_form": _answer_form() if can_answer else None,
            "can_answer": can_answer,
            "hold_form": HoldForm(auto_id="hold_%s") if can["hold"] else None,
            "release": release,
            "minimisation": minimisation(scope, release) if past_approval else None,
            "hold": active_hold(footage_request) if footage_request.has_hold else None,
            "redaction": redactions.redaction_of(footage_request) if footage_request.has_redaction else None,
            "subject_access": _subject_access(footage_request),
            "frame": _frame_shown(request, footage_request, items) if can["edit_redaction"] else None,
            "redaction_require_form": RedactionRequireForm(auto_id="redaction_%s") if can["require_redaction"] else None,
            "region_form": RedactionRegionForm(footage_request=footage_request, auto_id="region_%s")
            if can["edit_redaction"]
            else None,
            "export_stage": stage_text(footage_request.export_stage),
            "export_error": failure_text(footage_request.export_error),
        },
    )


def _subject_access(footage_request):
    """A person's own request: who they are (never their document's number) and who checked it; None otherwise."""
    if not footage_request.for_data_subject:
        return None
    return SubjectAccess.objects.select_related("checked_by").filter(footage_request=footage_request).first()


def _frame_shown(request, footage_request, items):
    """The frame the custodian asked to see to draw regions on (?frame_item=…&frame_at=…): the item, the moment and
    the image's address; None when none was asked for or the item is not this request's."""
    try:
        item_id, at = int(request.GET["frame_item"]), float(request.GET.get("frame_at") or 0)
    except (KeyError, ValueError):
        return None
    item = next((i for i in items if i.pk == item_id), None)
    if item is None or not at >= 0:
        return None
    url = reverse("requests:redaction-frame", args=[footage_request.reference, item.pk])
    return {"item": item, "at": at, "url": f"{url}?at={at:g}"}


def _detail_permissions(user, footage_request):
    """What the request page offers `user` on this request."""
    return {
        "edit": permissions.can_edit(user, footage_request),
        "withdraw": permissions.can_withdraw(user, footage_request),
        "review": permissions.can_review(user, footage_request),
        "ask_info": permissions.can_ask_info(user, footage_request),
        "sign": permissions.can_sign(user, footage_request),
        "comment": permissions.can_comment(user, footage_request),
        "export": permissions.can_export(user, footage_request),
        "hold": permissions.can_hold(user, footage_request),
        "receive": permissions.can_receive(user, footage_request),
        "require_redaction": permissions.can_require_redaction(user, footage_request),
        "edit_redaction": permissions.can_edit_redaction(user, footage_request),
        "see_release": permissions.can_see_release(user, footage_request),
    }


def _open_question(footage_request, decisions):
    """The question a request waiting for information was sent back with (the latest one), else None."""
    if footage_request.status != Status.NEEDS_INFO:
        return None
    asked = [d for d in decisions if d.outcome == Decision.Outcome.REQUEST_INFO]
    return asked[-1] if asked else None


def _answer_form():
    form = CommentForm(auto_id="answer_%s")
    form.fields["body"].label = _("Your answer")
    return form


@login_required
@require_http_methods(READ_ONLY)
def attachment(request, reference, pk):
    footage_request = get_visible_request_or_404(request.user, reference)
    document = get_object_or_404(footage_request.attachments, pk=pk)
    try:
        handle = document.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    return FileResponse(handle, as_attachment=True, filename=document.original_name, content_type="application/pdf")


# Actions (POST) --------------------------------------------------------------


def _form_errors(request, form):
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else None
        for error in errors:
            messages.error(request, f"{label}: {error}" if label else error)


def _action_view(service, *, success, form_class=None, back="requests:detail", only_if=None):
    """A POST view that runs one service on the visible request, then goes back to `back` saying what happened or why not.

    The service is called with the actor, the request and the form's `arguments()`; `only_if(user, footage_request)`
    false is a 404 (nothing there to act on).
    """

    @login_required
    @require_POST
    def view(request, reference):
        footage_request = get_visible_request_or_404(request.user, reference)
        if only_if is not None and not only_if(request.user, footage_request):
            raise Http404
        form = form_class.posted(request.POST, footage_request) if form_class else None
        if form is not None and not form.is_valid():
            _form_errors(request, form)
        else:
            try:
                service(
                    actor=request.user,
                    footage_request=footage_request,
                    http_request=request,
                    **(form.arguments() if form is not None else {}),
                )
            except (WorkflowRefused, ValidationError) as exc:
                for message in _refusal_messages(exc):
                    messages.error(request, message)
            else:
                messages.success(request, str(success))
        return redirect(back, reference=footage_request.reference)

    return view


submit = _action_view(workflow.request_submit, success=gettext_lazy("The request was submitted for review."))
withdraw = _action_view(workflow.request_withdraw, form_class=WithdrawForm, success=gettext_lazy("The request was withdrawn."))
review = _action_view(
    workflow.request_review,
    form_class=ReviewForm,
    success=gettext_lazy("Your recommendation was recorded and sent to the approving officials."),
)
ask_info = _action_view(
    workflow.request_ask_info, form_class=AskInfoForm, success=gettext_lazy("The question was sent to the requesting agency.")
)
approve = _action_view(workflow.request_approve, form_class=ApproveForm, success=gettext_lazy("Your approval was signed."))
reject = _action_view(workflow.request_reject, form_class=RejectForm, success=gettext_lazy("The request was rejected."))
comment = _action_view(workflow.request_comment, form_class=CommentForm, success=gettext_lazy("Your message was added."))


# Camera picker and notifications ---------------------------------------------


@login_required
@require_http_methods(READ_ONLY)
def cameras(request):
    """Cameras the user's agency may request (those inside its area), for the picker."""
    user = request.user
    if not permissions.can_create(user):
        raise Http404
    area = user.agency.area
    if area is None:
        return JsonResponse({"results": []})
    query = request.GET.get("q", "").strip()[:100]
    found = (
        camera_search(query=query)
        .exclude(status=Camera.Status.DECOMMISSIONED)
        .filter(area__path__startswith=area.path)[:CAMERA_RESULTS]
    )
    return JsonResponse(
        {
            "results": [
                {
                    "code": camera.code,
                    "name": camera.name,
                    "area": camera.area.name,
                    "kind": camera.get_kind_display(),
                    "status": camera.get_status_display(),
                    "categories": camera.capability_codes(),
                }
                for camera in found
            ]
        }
    )


@login_required
@require_http_methods(READ_ONLY)
def notifications(request):
    ensure_can_read_governance(request.user)
    rows = list(Notification.objects.filter(user=request.user).select_related("footage_request")[:NOTIFICATIONS_SHOWN])
    for row in rows:
        row.scope = notification_scope(row)
    return render(
        request,
        "requests/notifications.html",
        {"notifications": rows, "unread": sum(1 for row in rows if row.read_at is None), "form": NotificationsReadForm()},
    )


@login_required
@require_POST
def notifications_read(request):
    ensure_can_read_governance(request.user)
    # Reading one's own notifications changes no request and is not a ledger event.
    services.notifications_mark_read(actor=request.user)
    messages.success(request, _("All notifications are marked as read."))
    return redirect("requests:notifications")


# Export, release and download ------------------------------------------------


export_start = _action_view(
    workflow.request_export_start, success=gettext_lazy("The export has started; this page shows its progress.")
)


@login_required
@require_http_methods(READ_ONLY)
def export_progress(request, reference):
    footage_request = get_visible_request_or_404(request.user, reference)
    return JsonResponse(
        {
            "status": footage_request.status,
            "status_label": str(footage_request.get_status_display()),
            "progress": footage_request.export_progress,
            "stage": stage_text(footage_request.export_stage),
            "error": failure_text(footage_request.export_error),
        }
    )


def _add_damaged_ranges(video):
    """The damaged ranges of a released video, their times as datetimes for the templates."""
    video.damaged_ranges = [
        {
            **found,
            "start": parse_datetime(found["from_utc"]) if found.get("from_utc") else None,
            "end": parse_datetime(found["to_utc"]) if found.get("to_utc") else None,
            "propagates_to": parse_datetime(found["propagates_to_utc"]) if found.get("propagates_to_utc") else None,
        }
        for found in video.damage or []
    ]
    return video


def _release_page(request, footage_request, *, link=None, subject_link=None):
    user = request.user
    release = release_of(footage_request)
    if release is None or not permissions.can_see_release(user, footage_request):
        raise Http404
    can_receive = permissions.can_receive(user, footage_request)
    can_revoke = permissions.can_revoke(user, footage_request)
    files = list(release.files.all())
    videos = [f for f in files if f.kind == "video"]
    for video in videos:
        _add_damaged_ranges(video)
    # The originals of redacted copies, kept by the centre: listed with their hashes, never downloadable.
    originals = [_add_damaged_ranges(f) for f in files if f.kind == "original"]
    items = list(footage_request.items.select_related("camera__area", "data_category"))
    grants = list(release.grants.select_related("user"))
    if not permissions.can_see_every_grant(user, footage_request):
        grants = [grant for grant in grants if grant.user_id == user.pk]
    return render(
        request,
        "requests/release.html",
        {
            "footage_request": footage_request,
            "release": release,
            # What was asked beside what was approved and released, where an approver narrowed it.
            "items": items,
            "scope": filed_scope(footage_request, items, with_items=False),
            "videos": videos,
            # The files table: the clips handed over, then the originals kept of the redacted ones.
            "listed_videos": videos + originals,
            "documents": [f for f in files if f.kind not in ("video", "original")],
            "originals": originals,
            # The damage in the footage: in a redacted copy's original too (the copy, re-encoded, may decode cleanly).
            "damaged": [video for video in videos + originals if video.damaged_ranges or video.decoded is False],
            "checked_with": next((video.checked_with for video in videos if video.checked_with), ""),
            "not_checked": any(video.not_checked for video in videos),
            "grants": grants,
            "link": link,
            "subject_link": subject_link,
            "link_hours": settings.RELEASE_LINK_HOURS,
            "max_downloads": settings.RELEASE_MAX_DOWNLOADS,
            "now": timezone.now(),
            "verify_url": request.build_absolute_uri(
                reverse("requests:verify-release", kwargs={"token": verification_token(release)})
            ),
            "verify_link_days": settings.VERIFY_LINK_DAYS,
            "can": {
                "receive": can_receive and release.purged_at is None,
                "confirm": permissions.can_confirm_receipt(user, footage_request),
                "revoke": can_revoke,
                "acknowledge": permissions.can_acknowledge_damage(user, footage_request),
                "revoke_verification": permissions.can_revoke_verification(user, footage_request),
            },
            "reason_form": ReasonForm(auto_id="revoke_%s"),
            "verify_reason_form": ReasonForm(auto_id="revoke_verify_%s"),
            "acknowledge_form": DamageAcknowledgeForm(auto_id="acknowledge_%s"),
        },
    )


@login_required
@require_http_methods(READ_ONLY)
def release_detail(request, reference):
    footage_request = get_visible_request_or_404(request.user, reference)
    return _release_page(request, footage_request)


@login_required
@require_POST
def release_link(request, reference):
    footage_request = get_visible_request_or_404(request.user, reference)
    try:
        _grant, token = releases.release_link_issue(actor=request.user, footage_request=footage_request, http_request=request)
    except WorkflowRefused as exc:
        messages.error(request, exc.message)
        return redirect("requests:release", reference=footage_request.reference)
    return _release_page(request, footage_request, link=token)


@login_required
@require_POST
def release_subject_link(request, reference):
    """A custodian issues the person of a person's own request a link of their own; its address is shown once."""
    footage_request = get_visible_request_or_404(request.user, reference)
    try:
        token = subjects.subject_link_issue(actor=request.user, footage_request=footage_request, http_request=request)
    except WorkflowRefused as exc:
        messages.error(request, exc.message)
        return redirect("requests:release", reference=footage_request.reference)
    address = request.build_absolute_uri(reverse("requests:subject-download", args=[token]))
    return _release_page(request, footage_request, subject_link=address)


@sensitive_post_parameters("document_number")
@require_http_methods(["GET", "HEAD", "POST"])
def subject_download(request, token):
    """The person's own link, without an account: their identity document, as checked at the counter, opens it."""
    form = SubjectLinkForm(request.POST or None)
    refusal, status = None, 200
    if request.method == "POST" and form.is_valid():
        try:
            release = subjects.subject_link_open(
                token=token,
                document_type=form.cleaned_data["document_type"],
                document_number=form.cleaned_data["document_number"],
                http_request=request,
            )
        except subjects.SubjectLinkRefused as exc:
            status = 410 if exc.gone else 403
            refusal = (
                _("This link no longer opens: ask the centre for a new one.")
                if exc.gone
                else _("The identity document does not match the one checked at the centre.")
            )
        else:
            response = package_response(release)
            if response is not None:
                return response
            refusal, status = _("The exported package is no longer kept."), 410
    return render(request, "requests/subject_download.html", {"form": form, "refusal": refusal}, status=status)


release_revoke = _action_view(
    releases.release_revoke,
    form_class=ReasonForm,
    back="requests:release",
    success=gettext_lazy("Every download link of this release was revoked."),
)
release_verification_revoke = _action_view(
    releases.release_verification_revoke,
    form_class=ReasonForm,
    back="requests:release",
    success=gettext_lazy("The verification links given out so far no longer open; the link on this page is a new one."),
)
# Only a custodian assigned to export the request acknowledges its damage: for anyone else (the requesting officers,
# the approvers, another agency's custodians) there is nothing here to act on. `can_revoke` is exactly that custodian,
# whatever the request's status.
release_acknowledge = _action_view(
    workflow.request_acknowledge_damage,
    form_class=DamageAcknowledgeForm,
    back="requests:release",
    only_if=permissions.can_revoke,
    success=gettext_lazy("The damage is acknowledged and the footage released."),
)
release_confirm = _action_view(workflow.request_close, success=gettext_lazy("Receipt confirmed; the request is closed."))
hold_place = _action_view(
    holds.hold_place, form_class=HoldForm, success=gettext_lazy("The legal hold is in place; the footage is being preserved.")
)
hold_release = _action_view(holds.hold_release, success=gettext_lazy("The legal hold was lifted."))


@sensitive_post_parameters("document_number")
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def subject_new(request):
    """The counter: an official files a person's request for footage of themselves, their identity checked."""
    user = request.user
    if not subjects.can_file_for_subject(user):
        raise Http404
    basis = subjects.subject_basis()
    if request.method == "POST":
        items = request_item_formset(request.POST, legal_basis=basis)
        form = SubjectRequestForm(request.POST, agency=user.agency, items=items, legal_basis=basis)
        if form.is_valid():
            data = form.cleaned_data
            try:
                saved = subjects.subject_request_file(
                    actor=user,
                    person_name=data["person_name"],
                    document_type=data["document_type"],
                    document_number=data["document_number"],
                    place=data["place"],
                    appearance=data["appearance"],
                    contact=data["contact"],
                    counter_number=data["counter_number"],
                    items=items.items(),
                    http_request=request,
                )
            except (WorkflowRefused, ValidationError) as exc:
                for message in _refusal_messages(exc):
                    form.add_error(None, message)
            else:
                messages.success(
                    request, _("%(ref)s was filed for the person and submitted for review.") % {"ref": saved.reference}
                )
                return redirect("requests:detail", reference=saved.reference)
    else:
        items = request_item_formset(legal_basis=basis, extra=1)
        form = SubjectRequestForm(agency=user.agency, items=items, legal_basis=basis)
    return render(request, "requests/subject_form.html", {"form": form, "items": items, "legal_basis": basis})


@login_required
@require_http_methods(READ_ONLY)
def redaction_frame(request, reference, item):
    """The frame a custodian draws regions on (a PNG), `at` seconds from the start of the item's window."""
    footage_request = get_visible_request_or_404(request.user, reference)
    if not permissions.can_edit_redaction(request.user, footage_request):
        raise Http404
    chosen = get_object_or_404(footage_request.items.select_related("camera"), pk=item)
    try:
        at = float(request.GET.get("at", "0"))
    except ValueError:
        at = -1.0
    try:
        png, _size = redactions.redaction_frame(
            actor=request.user, footage_request=footage_request, item=chosen, at=at, http_request=request
        )
    except (WorkflowRefused, redactions.FrameUnavailable) as refusal:
        return HttpResponse(
            str(refusal),
            status=404 if isinstance(refusal, redactions.FrameUnavailable) else 400,
            content_type="text/plain; charset=utf-8",
        )
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = "no-store"
    return response


redaction_require = _action_view(
    redactions.redaction_require,
    form_class=RedactionRequireForm,
    success=gettext_lazy(
        "Redacted copies are now required: a custodian draws and reviews the regions to blur before the export."
    ),
)
redaction_region_add = _action_view(
    redactions.redaction_region_add, form_class=RedactionRegionForm, success=gettext_lazy("The region was added.")
)
redaction_region_remove = _action_view(
    redactions.redaction_region_remove, form_class=RedactionRegionRemoveForm, success=gettext_lazy("The region was removed.")
)
redaction_review = _action_view(
    redactions.redaction_review,
    success=gettext_lazy("The regions are reviewed: the export will make the redacted copies from them."),
)


@login_required
@require_http_methods(READ_ONLY)
def download(request, token):
    """Stream the package (or one file of it) through a personal signed link; never read whole into memory."""
    file_name = request.GET.get("file") or None
    try:
        release, file_name = releases.release_download_open(
            actor=request.user, token=token, file_name=file_name, http_request=request
        )
    except releases.DownloadRefused as exc:
        status = 410 if exc.gone else 404
        return render(request, "requests/download_refused.html", {"reason": exc.reason, "gone": exc.gone}, status=status)
    response = package_response(release, file_name)
    if response is None:
        return render(request, "requests/download_refused.html", {"reason": "missing", "gone": True}, status=410)
    return response


def package_response(release, file_name=None):
    """The package (or one file of it, `file_name`), streamed; None when the package file is no longer on disk."""
    package = Path(release.package_path)
    if not package.exists():
        return None
    if file_name is None:
        name = releases.package_download_name(release)
        return FileResponse(open(package, "rb"), as_attachment=True, filename=name, content_type="application/zip")
    archive = zipfile.ZipFile(package)
    member = f"{release.footage_request.reference}/{file_name}"
    response = FileResponse(archive.open(member), as_attachment=True, filename=Path(file_name).name)
    response["Content-Length"] = str(archive.getinfo(member).file_size)
    response._resource_closers.append(archive.close)
    return response


def _verify_page(request, *, release=None, token=None, refusal=None, refused_as="throttled", status=200):
    matches = None
    record_token = None
    if request.method == "POST" and refusal is None:
        form = VerifyForm(request.POST, request.FILES)
        if not request.user.is_authenticated and not verification.anonymous_check_allowed(request):
            releases.release_verify_throttled(release=release, http_request=request)
            form = VerifyForm()
            refusal = _(
                "Too many checks from your address in the last minute (at most %(limit)d). Wait a minute and try again."
            ) % {"limit": settings.VERIFY_CHECKS_PER_MINUTE}
            status = 429
        elif form.is_valid():
            digest = form.cleaned_data.get("sha256") or ""
            upload = form.cleaned_data.get("file")
            if upload:
                hasher = hashlib.sha256()
                for chunk in upload.chunks():
                    hasher.update(chunk)
                digest = hasher.hexdigest()
            actor = request.user if request.user.is_authenticated else None
            checked_at = timezone.now()
            matches = releases.release_verify(actor=actor, sha256=digest, release=release, http_request=request)
            for match in matches:
                # A package held for damaged footage was exported but never released: the page must not say otherwise.
                match.held = match.release.footage_request.status == Status.DAMAGE_HELD
                _add_damaged_ranges(match)
            form.checked = digest.strip().lower()
            # The result, signed, for the "printable record" button to post back: the file itself is not kept.
            record_token = verification.record_token(
                sha256=form.checked,
                file_name=upload.name if upload else None,
                size=upload.size if upload else None,
                checked_at=checked_at,
                release=release,
                matches=matches,
            )
    else:
        form = VerifyForm()
    response = render(
        request,
        "requests/verify.html",
        {
            "form": form,
            "matches": matches,
            "released_match": verification.released_match(matches or []),
            "original_match": verification.original_match(matches or []),
            "release": release,
            "token": token,
            "signing_key_fingerprint": current_signing_key_fingerprint(),
            "upload_limit": settings.VERIFY_UPLOAD_MAX_BYTES,
            "refusal": refusal,
            "refused_as": refused_as,
            "record_token": record_token,
            "record_minutes": verification.RECORD_MINUTES,
            "record_url": reverse("requests:verify-release-record", kwargs={"token": token})
            if token
            else reverse("requests:verify-record"),
        },
        status=status,
    )
    if status == 429:
        response["Retry-After"] = str(verification.WINDOW_SECONDS)
    return response


def _verify_record(request, *, release=None, token=None):
    """The printable record of a check just made on the page: printed only from the result the page was given,
    signed by this server; anything else is refused and writes nothing."""
    if not request.user.is_authenticated and not verification.anonymous_check_allowed(request):
        releases.release_verify_throttled(release=release, http_request=request)
        refusal = _("Too many checks from your address in the last minute (at most %(limit)d). Wait a minute and try again.") % {
            "limit": settings.VERIFY_CHECKS_PER_MINUTE
        }
        return _verify_page(request, release=release, token=token, refusal=refusal, status=429)
    try:
        result = verification.record_result(request.POST.get("result", ""), release=release)
    except verification.RecordRefused as refused:
        if str(refused) == "expired":
            refusal = _(
                "This result is too old to be printed (a record can be made for %(minutes)d minutes after the "
                "check). Check the file again, then download the record."
            ) % {"minutes": verification.RECORD_MINUTES}
        else:
            refusal = _("This result was not given by this page: no record was made. Check the file again.")
        return _verify_page(request, release=release, token=token, refusal=refusal, refused_as="record", status=400)
    actor = request.user if request.user.is_authenticated else None
    pdf = releases.release_verify_record(actor=actor, result=result, http_request=request)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="bien-ban-kiem-tra-{result["sha256"][:12]}.pdf"'
    return response


@login_required
@require_POST
def verify_record(request):
    ensure_can_read_governance(request.user)
    return _verify_record(request)


def _through_link(handle):
    """A view reached through a verification link: `handle(request, release=..., token=...)` for a live link; for an
    expired or revoked one (410) or a mistyped or cut one (404), the page that says what to check and whom to ask,
    and nothing about any release."""

    def view(request, token):
        try:
            release = get_release_for_verification_or_404(token)
        except verification.VerificationLinkGone as gone:
            return render(
                request, "requests/verify_gone.html", {"reason": gone.reason, "days": settings.VERIFY_LINK_DAYS}, status=410
            )
        except Http404:
            return render(request, "requests/verify_gone.html", {"reason": "unknown"}, status=404)
        return handle(request, release=release, token=token)

    return view


# The printable record of a check made through a verification link, for whoever holds the link.
verify_release_record = require_POST(_through_link(_verify_record))


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def verify(request):
    ensure_can_read_governance(request.user)
    return _verify_page(request)


# Checking a file against one release, for whoever holds the link (e.g. a court clerk without an account).
verify_release = require_http_methods(["GET", "HEAD", "POST"])(_through_link(_verify_page))
