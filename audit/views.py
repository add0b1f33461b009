"""Auditor pages: the ledger, one event, and chain verification. Users without the role get 404."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from audit import record_event
from audit.forms import LedgerFilterForm
from audit.models import Action
from audit.permissions import ensure_can_read_ledger
from audit.selectors import (
    event_neighbours,
    get_visible_event_or_404,
    latest_checkpoint,
    latest_verification_runs,
    ledger_page,
    verification_under_way,
)
from audit.services import verification_run_request
from governance.models import Role


def _role_labels(codes):
    labels = []
    for code in codes or ():
        try:
            labels.append(str(Role(code).label))
        except ValueError:
            labels.append(_("Superuser") if code == "superuser" else code)
    return labels


def _recorded_filters(filters):
    return {name: str(value) for name, value in filters.items()}


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
        for event in page.rows:
            event.role_labels = _role_labels(event.actor_roles)
        with transaction.atomic():
            record_event(
                actor=request.user,
                action=Action.LEDGER_VIEW,
                data={
                    "filters": _recorded_filters(filters),
                    "first_seq": page.rows[0].seq if page.rows else None,
                    "last_seq": page.rows[-1].seq if page.rows else None,
                },
                http_request=request,
            )
    return render(request, "audit/ledger.html", {"form": form, "page": page})


@login_required
@require_http_methods(["GET", "HEAD"])
def event_detail(request, seq):
    ensure_can_read_ledger(request.user)
    event = get_visible_event_or_404(request.user, seq)
    previous_seq, next_seq = event_neighbours(request.user, event)
    try:
        payload = json.dumps(json.loads(event.payload), indent=2, ensure_ascii=False, sort_keys=True)
    except ValueError:
        payload = event.payload
    event.role_labels = _role_labels(event.actor_roles)
    with transaction.atomic():
        # The target is given as a pair so the view does not inherit the event's request reference.
        record_event(actor=request.user, action=Action.LEDGER_VIEW, target=("audit.auditevent", event.seq), http_request=request)
    return render(
        request,
        "audit/event_detail.html",
        {"event": event, "payload": payload, "previous_seq": previous_seq, "next_seq": next_seq},
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
        return redirect("audit:verify")
    return render(
        request,
        "audit/verify.html",
        {
            "runs": latest_verification_runs(request.user),
            "under_way": verification_under_way(request.user),
            "checkpoint": latest_checkpoint(request.user),
        },
    )
