"""Rebuild the filing and status history of requests filed before it was kept, from the ledger.

Each `request.submit` event becomes a Submission (its time, actor, deadline and content hash). The
filed items are known only where the submission's content hash equals the request's present one (the
hash covers every item); otherwise the submission says its scope was not recorded. Status changes are
read from the events that moved the status; a request without such events gets what its own dates say.
"""

import json

from django.db import migrations

STATUS_OF_ACTION = {
    "request.create": "draft",
    "request.submit": "submitted",
    "request.review": "in_review",
    "request.ask_info": "needs_info",
    "request.reject": "rejected",
    "request.withdraw": "withdrawn",
    "request.expire": "expired",
    "request.export_start": "exporting",
    "request.export_fail": "export_failed",
    "release.create": "released",
    "request.close": "closed",
}
CONDITIONAL = ("request.approve", "release.damage")


def _status_after(action, payload):
    if action == "request.approve":
        return "approved" if payload.get("complete") else None
    if action == "release.damage":
        return "damage_held" if payload.get("held") else None
    return STATUS_OF_ACTION.get(action)


def _parse_time(value):
    from django.utils.dateparse import parse_datetime

    return parse_datetime(value) if isinstance(value, str) else None


def rebuild(apps, schema_editor):
    FootageRequest = apps.get_model("requests", "FootageRequest")
    RequestItem = apps.get_model("requests", "RequestItem")
    Submission = apps.get_model("requests", "Submission")
    SubmittedItem = apps.get_model("requests", "SubmittedItem")
    StatusChange = apps.get_model("requests", "StatusChange")
    AuditEvent = apps.get_model("audit", "AuditEvent")

    requests = {
        reference: (pk, status, content_hash, created_at, submitted_at, due_at, decided_at, updated_at)
        for reference, pk, status, content_hash, created_at, submitted_at, due_at, decided_at, updated_at in (
            FootageRequest.objects.values_list(
                "reference", "pk", "status", "content_hash", "created_at", "submitted_at", "due_at", "decided_at", "updated_at"
            ).iterator(chunk_size=5000)
        )
    }
    if not requests:
        return
    actions = [*STATUS_OF_ACTION, *CONDITIONAL]
    submissions, changes, current = {}, [], {}
    events = (
        AuditEvent.objects.filter(action__in=actions, outcome="success")
        .exclude(reference="")
        .order_by("seq")
        .values_list("reference", "action", "occurred_at", "actor_id", "payload")
    )
    for reference, action, occurred_at, actor_id, payload_text in events.iterator(chunk_size=5000):
        if reference not in requests:
            continue
        payload = json.loads(payload_text or "{}")
        pk = requests[reference][0]
        if action == "request.submit":
            submissions.setdefault(pk, []).append(
                (occurred_at, actor_id, _parse_time(payload.get("due_at")), payload.get("content_sha256") or "")
            )
        status = _status_after(action, payload)
        if status is None or current.get(pk) == status:
            continue
        changes.append(StatusChange(footage_request_id=pk, from_status=current.get(pk, ""), to_status=status, at=occurred_at))
        current[pk] = status

    for reference, (pk, status, content_hash, created_at, submitted_at, due_at, decided_at, updated_at) in requests.items():
        if pk not in current:
            # No ledger events for it: what its own dates say.
            changes.append(StatusChange(footage_request_id=pk, from_status="", to_status="draft", at=created_at))
            if submitted_at and status != "draft":
                changes.append(StatusChange(footage_request_id=pk, from_status="draft", to_status="submitted", at=submitted_at))
            if status not in ("draft", "submitted"):
                before = "submitted" if submitted_at else "draft"
                changes.append(
                    StatusChange(footage_request_id=pk, from_status=before, to_status=status, at=decided_at or updated_at)
                )
        if pk not in submissions and submitted_at:
            submissions[pk] = [(submitted_at, None, due_at, content_hash)]
    StatusChange.objects.bulk_create(changes, batch_size=5000)

    by_pk = {values[0]: values for values in requests.values()}
    first_filed = {}
    for pk, filings in submissions.items():
        present_hash, last_submitted = by_pk[pk][2], by_pk[pk][4]
        if last_submitted:
            # The request's own field holds the exact moment of its latest filing (the event follows it closely).
            at, actor_id, due, filed_hash = filings[-1]
            filings[-1] = (last_submitted, actor_id, due, filed_hash)
        for number, (at, actor_id, due, filed_hash) in enumerate(filings, start=1):
            known = bool(filed_hash) and filed_hash == present_hash
            submission = Submission.objects.create(
                footage_request_id=pk,
                number=number,
                submitted_at=at,
                submitted_by_id=actor_id,
                due_at=due,
                content_hash=filed_hash,
                items_recorded=known,
            )
            if known:
                SubmittedItem.objects.bulk_create(
                    [
                        SubmittedItem(
                            submission=submission,
                            camera_id=item.camera_id,
                            start=item.start,
                            end=item.end,
                            data_category_id=item.data_category_id,
                        )
                        for item in RequestItem.objects.filter(footage_request_id=pk)
                    ]
                )
        first_filed[pk] = filings[0][0]
    for pk, at in first_filed.items():
        FootageRequest.objects.filter(pk=pk).update(first_submitted_at=at)


class Migration(migrations.Migration):
    dependencies = [
        ("requests", "0007_submissions_and_status_history"),
        ("audit", "0011_report_moves_to_oversight"),
    ]

    operations = [migrations.RunPython(rebuild, migrations.RunPython.noop)]
