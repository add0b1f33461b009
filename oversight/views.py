"""Auditor pages: the ledger, one event, and chain verification. Users without the role get 404."""

import datetime as dt
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from audit import record_event
from audit.models import Action
from audit.selectors import signing_keys
from audit.services import verification_run_request
from governance.models import Role
from governance.timefmt import DATE_TIME_SECONDS, local_time
from oversight.bundles import bundle_download, bundle_request
from oversight.event_data import event_details
from oversight.forms import BundleForm, LedgerFilterForm, ReportForm, object_kinds
from oversight.models import BundleRequest, Report
from oversight.permissions import (
    BundleRefused,
    ReportRefused,
    bundle_refusal,
    bundles_visible_to,
    ensure_can_read_ledger,
    ensure_can_take_ledger_copy,
    get_visible_bundle_or_404,
    get_visible_report_or_404,
    report_jurisdiction,
    report_refusal,
    reports_visible_to,
)
from oversight.reports import dossier_build, download_name, report_download, report_request
from oversight.selectors import (
    event_neighbours,
    event_object,
    get_visible_event_or_404,
    latest_checkpoint,
    latest_verification_runs,
    ledger_page,
    verification_under_way,
)
from oversight.services import ledger_view_record
from requests.selectors import get_visible_request_or_404

# What a report's build is doing, as stored in Report.stage.
REPORT_STAGES = {
    "start": gettext_lazy("Starting"),
    "summary": gettext_lazy("Counting requests and releases"),
    "turnaround": gettext_lazy("Measuring turnaround and deadlines"),
    "patterns": gettext_lazy("Looking for unusual patterns"),
    "integrity": gettext_lazy("Verifying the ledger for the period"),
    "register": gettext_lazy("Writing the release register"),
    "csv": gettext_lazy("Writing the CSV tables"),
    "done": gettext_lazy("Done"),
}


def _role_labels(codes):
    labels = []
    for code in codes or ():
        try:
            labels.append(str(Role(code).label))
        except ValueError:
            labels.append(_("Superuser") if code == "superuser" else code)
    return labels


@login_required
@require_http_methods(["GET", "HEAD"])
def ledger(request):
    ensure_can_read_ledger(request.user)
    form = LedgerFilterForm(request.GET)
    page = None
    if form.is_valid():
        filters = form.filters()
        page = ledger_page(
            user=request.user,
            filters=filters,
            after=form.cleaned_data["after"],
            before=form.cleaned_data["before"],
            size=form.cleaned_data["size"],
        )
        kinds = dict(object_kinds())
        for event in page.rows:
            event.role_labels = _role_labels(event.actor_roles)
            event.object_kind = kinds.get(event.target_type, event.target_type)
        ledger_view_record(actor=request.user, filters=filters, page=page, http_request=request)
    keys = list(signing_keys())
    # The register is newest first: the current key is its first one not retired (as current_signing_key reads it).
    current_key = next((key for key in keys if key.retired_at is None), None)
    # The filters as asked (the page's cursors aside): what the filter fields show, kept rendered for each.
    filters_asked = urlencode(sorted((k, v) for k, v in request.GET.lists() if k not in ("after", "before")), doseq=True)
    return render(
        request,
        "oversight/ledger.html",
        {"form": form, "page": page, "signing_keys": keys, "current_key": current_key, "filters_asked": filters_asked},
    )


@login_required
@require_http_methods(["GET", "HEAD"])
def event_detail(request, seq):
    ensure_can_read_ledger(request.user)
    event = get_visible_event_or_404(request.user, seq)
    previous_seq, next_seq = event_neighbours(request.user, event)
    details, payload = event_details(event.payload)
    event.role_labels = _role_labels(event.actor_roles)
    with transaction.atomic():
        # The target is given as a pair so the view does not inherit the event's request reference.
        record_event(actor=request.user, action=Action.LEDGER_VIEW, target=("audit.auditevent", event.seq), http_request=request)
    return render(
        request,
        "oversight/event_detail.html",
        {
            "event": event,
            "object": event_object(request.user, event),
            "occurred_local": local_time(event.occurred_at, DATE_TIME_SECONDS),
            "details": details,
            "payload": payload,
            "previous_seq": previous_seq,
            "next_seq": next_seq,
        },
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def verify(request):
    ensure_can_read_ledger(request.user)
    if request.method == "POST":
        if verification_under_way(request.user):
            messages.info(request, _("A verification is already under way; its result will appear below."))
        else:
            verification_run_request(actor=request.user)
            messages.success(request, _("Verification started. The result will appear below when it finishes."))
        return redirect("oversight:verify")
    return render(
        request,
        "oversight/verify.html",
        {
            "runs": latest_verification_runs(request.user),
            "under_way": verification_under_way(request.user),
            "checkpoint": latest_checkpoint(request.user),
            **_bundle_context(request.user),
        },
    )


# Oversight reports -----------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def reports(request):
    ensure_can_read_ledger(request.user)
    jurisdiction = report_jurisdiction(request.user)
    if request.method == "POST":
        form = ReportForm(request.POST, jurisdiction=jurisdiction)
        if form.is_valid():
            try:
                report = report_request(actor=request.user, http_request=request, **form.cleaned_data)
            except ReportRefused as refusal:
                form.add_error(None, str(refusal))
            else:
                messages.success(request, _("The report is being built; this page shows when it is ready."))
                return redirect("oversight:report", pk=report.pk)
    else:
        today = timezone.localdate()
        first = today.replace(day=1)
        form = ReportForm(initial={"date_from": first, "date_to": today}, jurisdiction=jurisdiction)
    listed = list(reports_visible_to(request.user).select_related("agency", "area", "legal_basis", "requested_by")[:30])
    return render(
        request,
        "oversight/reports.html",
        {
            "form": form,
            "reports": listed,
            "building": any(r.status in (Report.Status.PENDING, Report.Status.RUNNING) for r in listed),
            "jurisdiction": jurisdiction,
            "refusal": report_refusal(request.user),
        },
    )


@login_required
@require_http_methods(["GET", "HEAD"])
def report_detail(request, pk):
    ensure_can_read_ledger(request.user)
    report = get_visible_report_or_404(request.user, pk)
    return render(
        request,
        "oversight/report_detail.html",
        {"report": report, "stage_label": REPORT_STAGES.get(report.stage, "")},
    )


@login_required
@require_GET  # a HEAD (a link checker, a prefetch) must not be logged as a download
def report_file(request, pk, kind):
    ensure_can_take_ledger_copy(request.user)
    report = get_visible_report_or_404(request.user, pk)
    stored = {"pdf": report.pdf_path, "csv": report.csv_path}.get(kind)
    if report.status != Report.Status.READY or not stored or not Path(stored).is_file():
        raise Http404
    path, name = report_download(actor=request.user, report=report, kind=kind, http_request=request)
    content_type = "application/pdf" if kind == "pdf" else "application/zip"
    # Streamed from disk in blocks, never read whole.
    return FileResponse(open(path, "rb"), as_attachment=True, filename=name, content_type=content_type)


@login_required
@require_GET
def dossier(request, reference):
    ensure_can_take_ledger_copy(request.user)
    footage_request = get_visible_request_or_404(request.user, reference)
    content, code, _sha256 = dossier_build(actor=request.user, footage_request=footage_request, http_request=request)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{download_name(code, timezone.now(), "pdf")}"'
    return response


# Offline verification bundles -------------------------------------------------------------

# What a bundle's build is doing, as stored in BundleRequest.stage.
BUNDLE_STAGES = {
    "start": gettext_lazy("Starting"),
    "events": gettext_lazy("Writing the ledger events and signed checkpoints"),
    "readme": gettext_lazy("Writing the instructions"),
    "zip": gettext_lazy("Packing the ZIP file"),
    "done": gettext_lazy("Done"),
}


def _bundle_context(user, form=None):
    if form is None:
        # A period that ended yesterday: today's last events are not under a signed checkpoint yet.
        yesterday = timezone.localdate() - dt.timedelta(days=1)
        form = BundleForm(initial={"date_from": yesterday.replace(day=1), "date_to": yesterday})
    return {
        "bundle_form": form,
        "bundle_refusal": bundle_refusal(user),
        "bundles": list(bundles_visible_to(user).select_related("requested_by")[:10]),
    }


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def bundles(request):
    ensure_can_read_ledger(request.user)
    form = None
    if request.method == "POST":
        form = BundleForm(request.POST)
        if form.is_valid():
            try:
                bundle = bundle_request(actor=request.user, http_request=request, **form.cleaned_data)
            except BundleRefused as refusal:
                form.add_error(None, str(refusal))
            else:
                messages.success(request, _("The bundle is being prepared; this page shows its progress."))
                return redirect("oversight:bundle", pk=bundle.pk)
    return render(request, "oversight/bundles.html", _bundle_context(request.user, form))


@login_required
@require_http_methods(["GET", "HEAD"])
def bundle_detail(request, pk):
    ensure_can_read_ledger(request.user)
    bundle = get_visible_bundle_or_404(request.user, pk)
    return render(
        request,
        "oversight/bundle_detail.html",
        {"bundle": bundle, "stage_label": BUNDLE_STAGES.get(bundle.stage, "")},
    )


@login_required
@require_GET  # a HEAD (a link checker, a prefetch) must not be logged as a download
def bundle_file(request, pk):
    ensure_can_take_ledger_copy(request.user)
    bundle = get_visible_bundle_or_404(request.user, pk)
    # The whole ledger of a period: whoever may no longer take one (moved, role revoked) finds nothing here.
    if bundle_refusal(request.user) or bundle.status != BundleRequest.Status.READY or not Path(bundle.zip_path).is_file():
        raise Http404
    path, name = bundle_download(actor=request.user, bundle=bundle, http_request=request)
    return FileResponse(open(path, "rb"), as_attachment=True, filename=name, content_type="application/zip")
