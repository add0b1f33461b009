"""An event's details (its canonical JSON) as people read them: labelled, in Vietnam time, codes in words.

The ledger stores what record_event was given, keys and codes as the code
names them; this module only puts them into words for the event page. Keys
it does not know are shown as they are, so nothing recorded is ever hidden.
"""

import datetime as dt
import json
import re

from django.template.defaultfilters import filesizeformat
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.models import Action, Outcome, VerificationRun
from governance.models import Agency, Role
from governance.timefmt import DATE_TIME_SECONDS, duration_text, local_time
from requests.models import Decision, LegalHold, Reminder, Status, Urgency

# Every key the code base passes in record_event(data={...}), in the reader's words.
DATA_LABELS = {
    # Redaction and a person's own request (requests.redactions, requests.subjects).
    "at": gettext_lazy("Seconds from the start of the window"),
    "by": gettext_lazy("By"),
    "downloads": gettext_lazy("Downloads"),
    "subject_link": gettext_lazy("The person's own link"),
    "subject_links": gettext_lazy("The person's own links"),
    "box": gettext_lazy("Box (left, top, width × height)"),
    "by_category": gettext_lazy("Required for the data categories"),
    "by_kind": gettext_lazy("Required for the agency kind"),
    "camera": gettext_lazy("Camera"),
    "checked_by": gettext_lazy("Identity checked by"),
    "delivery": gettext_lazy("Hand-over"),
    "document_type": gettext_lazy("Identity document"),
    "faces": gettext_lazy("Faces blurred"),
    "item": gettext_lazy("Requested item"),
    "label": gettext_lazy("What it hides"),
    "moment": gettext_lazy("Moment shown"),
    "place": gettext_lazy("Where the person was"),
    "region": gettext_lazy("Region"),
    "regions": gettext_lazy("Regions"),
    "required_by": gettext_lazy("Required by"),
    "track": gettext_lazy("Followed from frame to frame"),
    "until": gettext_lazy("Until"),
    "action": gettext_lazy("Action"),
    "actor": gettext_lazy("User"),
    "actor_filter": gettext_lazy("Only the events of user"),
    "address": gettext_lazy("Client address"),
    "address_failures_allowed": gettext_lazy("Failures allowed from one address"),
    "agency": gettext_lazy("Agency"),
    "anchored_last_seq": gettext_lazy("Last event fixed by a checkpoint"),
    "approvals": gettext_lazy("Approvals so far"),
    "approvals_needed": gettext_lazy("Approvals needed"),
    "approver_agencies": gettext_lazy("Approving agencies"),
    "area": gettext_lazy("Area"),
    "attachment": gettext_lazy("Attachment"),
    "automatic": gettext_lazy("Placed by the system"),
    "basis": gettext_lazy("Legal basis"),
    "body": gettext_lazy("Message"),
    "broken_seq": gettext_lazy("First broken event"),
    "bundle": gettext_lazy("Bundle"),
    "by_administrator": gettext_lazy("Set by an administrator"),
    "bytes": gettext_lazy("Size"),
    "checked_at": gettext_lazy("Checked"),
    "checked_with": gettext_lazy("Checked with"),
    "checkpoint_count": gettext_lazy("Checkpoints"),
    "comment": gettext_lazy("Comment number"),
    "complete": gettext_lazy("All approvals given"),
    "content_sha256": gettext_lazy("Content hash (SHA-256)"),
    "count": gettext_lazy("Number"),
    "created": gettext_lazy("Created"),
    "csv_sha256": gettext_lazy("CSV hash (SHA-256)"),
    "damage": gettext_lazy("Damage"),
    "damaged": gettext_lazy("Damage"),
    "damaged_files": gettext_lazy("Damaged files"),
    "date_from": gettext_lazy("From date"),
    "date_to": gettext_lazy("To date"),
    "deadline": gettext_lazy("Deadline"),
    "decision": gettext_lazy("Decision number"),
    "demo": gettext_lazy("Demonstration account"),
    "device": gettext_lazy("Device"),
    "directory": gettext_lazy("Folder"),
    "dossier": gettext_lazy("Dossier"),
    "download": gettext_lazy("Download number"),
    "due_at": gettext_lazy("Due"),
    "effective_from": gettext_lazy("In force from"),
    "end": gettext_lazy("End"),
    "error": gettext_lazy("Error"),
    "event_count": gettext_lazy("Events"),
    "events_checked": gettext_lazy("Events checked"),
    "expires_at": gettext_lazy("Expires"),
    "expiry_days": gettext_lazy("Expiry (days)"),
    "failure": gettext_lazy("Failure"),
    "failures_account": gettext_lazy("Failures for the account"),
    "failures_address": gettext_lazy("Failures from the address"),
    "failures_allowed": gettext_lazy("Failures allowed"),
    "failures_cleared": gettext_lazy("Failures cleared"),
    "fields": gettext_lazy("Fields"),
    "file": gettext_lazy("File"),
    "file_name": gettext_lazy("File name"),
    "filename": gettext_lazy("File name"),
    "files": gettext_lazy("Files"),
    "filters": gettext_lazy("Filters"),
    "fingerprint": gettext_lazy("Key fingerprint (SHA-256)"),
    "first_seq": gettext_lazy("First event"),
    "folder": gettext_lazy("Folder"),
    "format": gettext_lazy("Format"),
    "frames_decoded": gettext_lazy("Frames decoded"),
    "frames_in_file": gettext_lazy("Frames in the file"),
    "from": gettext_lazy("From"),
    "gaps": gettext_lazy("Gaps in the footage"),
    "generation": gettext_lazy("Link generation"),
    "grant": gettext_lazy("Download grant"),
    "grants": gettext_lazy("Download grants"),
    "group": gettext_lazy("Group"),
    "handover_number": gettext_lazy("Hand-over record number"),
    "handover_sha256": gettext_lazy("Hand-over record hash (SHA-256)"),
    "hash": gettext_lazy("Hash"),
    "head_hash": gettext_lazy("Hash of the last event"),
    "head_seq": gettext_lazy("Last event"),
    "held": gettext_lazy("Held back"),
    "hold": gettext_lazy("Legal hold number"),
    "info_requested_at": gettext_lazy("Information requested"),
    "items": gettext_lazy("Items"),
    "jurisdiction": gettext_lazy("Jurisdiction"),
    "key_id": gettext_lazy("Key id"),
    "kind": gettext_lazy("Kind"),
    "known_user": gettext_lazy("Known user"),
    "last_hash": gettext_lazy("Hash of the last event"),
    "last_seq": gettext_lazy("Last event"),
    "legal_basis": gettext_lazy("Legal basis"),
    "limit_per_minute": gettext_lazy("Limit per minute"),
    "locked": gettext_lazy("Locked"),
    "lockout_minutes": gettext_lazy("Lockout (minutes)"),
    "manifest_sha256": gettext_lazy("Manifest hash (SHA-256)"),
    "matches": gettext_lazy("Matching files"),
    "max_downloads": gettext_lazy("Downloads allowed"),
    "name": gettext_lazy("Name"),
    "narrowed": gettext_lazy("Scope narrowed"),
    "note": gettext_lazy("Note"),
    "number": gettext_lazy("Number"),
    "draft": gettext_lazy("Draft version"),
    "draft_of": gettext_lazy("Drafted from version"),
    "edition_of": gettext_lazy("New edition of"),
    "legal_bases": gettext_lazy("Legal bases"),
    "object": gettext_lazy("Object"),
    "opens_window_for": gettext_lazy("Counting window opened for"),
    "origin_checked": gettext_lazy("Backup checked against the SHA-256 written down"),
    "outcome": gettext_lazy("Outcome"),
    "package": gettext_lazy("Package"),
    "package_sha256": gettext_lazy("Package hash (SHA-256)"),
    "pages": gettext_lazy("Pages"),
    "pdf_bytes": gettext_lazy("PDF size"),
    "pdf_sha256": gettext_lazy("PDF hash (SHA-256)"),
    "previous_sha256": gettext_lazy("Previous content hash (SHA-256)"),
    "previous_window_failures": gettext_lazy("Failures in the previous window"),
    "privileged": gettext_lazy("Privileged account"),
    "problem": gettext_lazy("Problem"),
    "problems": gettext_lazy("Problems found"),
    "public_key_pem": gettext_lazy("Public key"),
    "purge_after": gettext_lazy("Purged after"),
    "question": gettext_lazy("Question"),
    "reason": gettext_lazy("Reason"),
    "reason_code": gettext_lazy("Reason (system)"),
    "recipients": gettext_lazy("People told"),
    "record": gettext_lazy("Record number"),
    "record_sha256": gettext_lazy("Record hash (SHA-256)"),
    "reference": gettext_lazy("Request reference"),
    "regulation_version": gettext_lazy("Regulation version"),
    "release": gettext_lazy("Release number"),
    "released_match": gettext_lazy("Matches a released file"),
    "original_match": gettext_lazy("Matches an original kept by the centre"),
    "releases": gettext_lazy("Releases"),
    "removed": gettext_lazy("Removed"),
    "report": gettext_lazy("Report"),
    "requested_last_seq": gettext_lazy("Last event asked for"),
    "resubmission": gettext_lazy("Resubmission"),
    "retired_at": gettext_lazy("Retired"),
    "retry": gettext_lazy("Retry"),
    "reviewer_agencies": gettext_lazy("Reviewing agencies"),
    "role": gettext_lazy("Role"),
    "rows": gettext_lazy("Rows"),
    "rules": gettext_lazy("Assignment rules"),
    "run": gettext_lazy("Verification run"),
    "seconds": gettext_lazy("Duration"),
    "segments_held": gettext_lazy("Segments held"),
    "seq": gettext_lazy("Event number"),
    "sha256": gettext_lazy("Hash (SHA-256)"),
    "signature": gettext_lazy("Signature"),
    "signed_at": gettext_lazy("Signed"),
    "site": gettext_lazy("Recorder site"),
    "size": gettext_lazy("Size"),
    "source": gettext_lazy("Started from"),
    "start": gettext_lazy("Start"),
    "status": gettext_lazy("Status"),
    "submission": gettext_lazy("Submission"),
    "target_id": gettext_lazy("Object id"),
    "target_type": gettext_lazy("Object type"),
    "to": gettext_lazy("To"),
    "unanchored": gettext_lazy("Events not yet under a checkpoint"),
    "unchanged": gettext_lazy("Unchanged"),
    "updated": gettext_lazy("Updated"),
    "urgency": gettext_lazy("Urgency"),
    "username": gettext_lazy("User name"),
    "valid_from": gettext_lazy("Valid from"),
    "window_minutes": gettext_lazy("Counting window (minutes)"),
}

# Codes stored under these keys, in the words of the choices they come from (tried in order).
CODE_CHOICES = {
    "outcome": (Decision.Outcome, Outcome),
    "status": (VerificationRun.Status, Status),
    "urgency": (Urgency,),
    "action": (Action,),
    "role": (Role,),
    "reason_code": (LegalHold.ReasonCode,),
    "kind": (Reminder.Kind,),
}
CODE_WORDS = {
    "dropped": gettext_lazy("dropped"),
}
# Keys whose value is a digest, a signature or a key: shown as code, never reflowed into words.
CODE_KEYS = re.compile(r"(sha256|hash|fingerprint|signature|public_key_pem|key_id)$")
SIZE_KEYS = {"bytes", "size", "pdf_bytes"}
# Keys whose values are agency ids (the agencies a request was assigned to).
AGENCY_KEYS = {"reviewer_agencies", "approver_agencies"}
MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def data_label(key: str) -> str:
    """The label of a data key in the active language; an unknown key as it is."""
    label = DATA_LABELS.get(key)
    return str(label) if label is not None else key


def _code_label(key, value):
    for choices in CODE_CHOICES.get(key, ()):
        try:
            return str(choices(value).label)
        except ValueError:
            continue
    return None


def readable_value(key: str, value) -> str:
    """One value of an event's data as safe HTML, readable: times local, codes in words, lists and maps nested."""
    return conditional_escape(_readable(key, value))


def _readable(key, value):
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, dict):
        return details_table(value, nested=True) if value else "—"
    if isinstance(value, list):
        if not value:
            return "—"
        if len(value) == 2 and all(isinstance(v, str) and MOMENT.match(v) for v in value):
            # A window: from – to.
            return format_html("{} – {}", readable_value(key, value[0]), readable_value(key, value[1]))
        if not any(isinstance(v, (dict, list)) for v in value):
            return format_html_join(", ", "{}", ((readable_value(key, v),) for v in value))
        return format_html(
            '<ul class="event-data-list">{}</ul>', format_html_join("", "<li>{}</li>", ((readable_value(key, v),) for v in value))
        )
    if key in AGENCY_KEYS and isinstance(value, int):
        # Agencies are the regulation's public register: named, as every page names them.
        agency = Agency.objects.filter(pk=value).first()
        return str(agency) if agency is not None else str(value)
    if isinstance(value, (int, float)):
        if key in SIZE_KEYS and isinstance(value, int):
            return format_html("{} <small>({} B)</small>", filesizeformat(value), value)
        if key == "seconds":
            return format_html("{} <small>({} s)</small>", duration_text(value), value)
        # Ids, counts and sequence numbers as plain numbers: no thousands separator to misread.
        return str(value)
    text = str(value)
    if CODE_KEYS.search(key):
        return format_html("<code>{}</code>", text)
    label = _code_label(key, text)
    if label is not None:
        return format_html('{} <code class="muted">{}</code>', label, text)
    if text in CODE_WORDS:
        return str(CODE_WORDS[text])
    if MOMENT.match(text):
        try:
            return format_html('<time datetime="{}">{}</time>', text, local_time(text.replace(" ", "T"), DATE_TIME_SECONDS))
        except (ValueError, OverflowError):  # text that only looks like a time (a typed reason, a filter): as typed
            pass
    if DAY.match(text):
        try:
            return dt.date.fromisoformat(text).strftime("%d/%m/%Y")
        except ValueError:
            pass
    return text


def details_table(data: dict, *, nested: bool = False) -> str:
    """An event's data as a labelled table (safe HTML), in the order of the canonical JSON (keys sorted)."""
    if not data:
        return format_html('<p class="muted">{}</p>', _("No details recorded."))
    rows = format_html_join(
        "",
        '<tr><th scope="row">{}</th><td>{}</td></tr>',
        ((data_label(str(key)), readable_value(str(key), value)) for key, value in data.items()),
    )
    css = "event-data nested" if nested else "table event-data"
    return format_html('<table class="{}"><tbody>{}</tbody></table>', css, rows)


def event_details(payload: str) -> tuple[str, str]:
    """(the labelled table as safe HTML, the canonical JSON indented for the experts' view) of an event's payload."""
    try:
        data = json.loads(payload)
    except ValueError:
        return format_html("<pre>{}</pre>", payload), payload
    pretty = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True)
    if not isinstance(data, dict):
        return format_html("<pre>{}</pre>", pretty), pretty
    return details_table(data), pretty
