"""Footage requests and everything attached to them. Status is written only by requests/workflow.py."""

import datetime as dt
import hashlib

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from audit.chain import canonical_json
from governance.models import Agency, Area, Camera, DataCategory, LegalBasis, RegulationVersion
from governance.timefmt import duration_text, local_time


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    IN_REVIEW = "in_review", _("In review")
    NEEDS_INFO = "needs_info", _("More information requested")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    EXPIRED = "expired", _("Expired")
    EXPORTING = "exporting", _("Exporting")
    RELEASED = "released", _("Released")
    CLOSED = "closed", _("Closed")
    EXPORT_FAILED = "export_failed", _("Export failed")
    # Exported, but the decode check found damage and EXPORT_ON_DAMAGE is "hold": a custodian acknowledges it first.
    DAMAGE_HELD = "damage_held", _("Damaged footage: awaiting acknowledgement")


OPEN_STATUSES = (Status.SUBMITTED, Status.IN_REVIEW)
# Waiting for a custodian: approved and not yet exported, or an export to run again.
EXPORT_QUEUE_STATUSES = (Status.APPROVED, Status.EXPORT_FAILED)
# What a custodian's "Việc cần làm" reads: the export queue, damage to acknowledge, exports under way.
CUSTODIAN_STATUSES = (*EXPORT_QUEUE_STATUSES, Status.DAMAGE_HELD, Status.EXPORTING)


class Urgency(models.TextChoices):
    NORMAL = "normal", _("Normal")
    URGENT = "urgent", _("Urgent")
    EMERGENCY = "emergency", _("Emergency")


# Queues sort emergencies first, then urgent, then normal.
URGENCY_PRIORITY = {Urgency.EMERGENCY: 0, Urgency.URGENT: 1, Urgency.NORMAL: 2}


class ReferenceCounter(models.Model):
    """Per-year counter behind reference numbers like YC-2026-000123 (row-locked when incremented)."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("reference counter")
        verbose_name_plural = _("reference counters")

    def __str__(self):
        return f"{self.year}: {self.last}"


class FootageRequest(models.Model):
    reference = models.CharField(_("reference"), max_length=20, unique=True)
    agency = models.ForeignKey(
        Agency, verbose_name=_("requesting agency"), on_delete=models.PROTECT, related_name="footage_requests"
    )
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requesting officer"), on_delete=models.PROTECT, related_name="footage_requests"
    )
    legal_basis = models.ForeignKey(LegalBasis, verbose_name=_("legal basis"), on_delete=models.PROTECT, related_name="+")
    letter_number = models.CharField(_("official letter number"), max_length=80)
    letter_date = models.DateField(_("official letter date"))
    case_reference = models.CharField(_("case / crime-report reference"), max_length=120, blank=True)
    purpose = models.TextField(_("purpose"))
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices, default=Urgency.NORMAL)
    priority = models.PositiveSmallIntegerField(_("priority"), default=2, editable=False)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    regulation_version = models.ForeignKey(
        RegulationVersion,
        verbose_name=_("regulation version applied"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    content_hash = models.CharField(_("content SHA-256"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # The first filing never moves; `submitted_at` is the latest (re)submission, from which the deadline runs.
    first_submitted_at = models.DateTimeField(_("first filed at"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("last submitted at"), null=True, blank=True)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    info_requested_at = models.DateTimeField(_("information requested at"), null=True, blank=True)
    # When the request reached its outcome: fully approved, rejected, withdrawn or expired.
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    # Written by the export while it runs (not the status: that is the workflow's).
    export_progress = models.PositiveSmallIntegerField(_("export progress (%)"), default=0)
    export_stage = models.CharField(_("export stage"), max_length=200, blank=True)
    export_heartbeat = models.DateTimeField(_("export last seen working"), null=True, blank=True)
    export_error = models.TextField(_("export failure"), blank=True)
    closed_at = models.DateTimeField(_("receipt confirmed at"), null=True, blank=True)
    # Filed at the centre's counter for a person asking for footage of themselves (`SubjectAccess`): the centre's own
    # reviewers and approvers decide it (not the official who filed it), and the release is always a redacted copy.
    for_data_subject = models.BooleanField(_("data subject's own request"), default=False)
    export_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("export run by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("footage request")
        verbose_name_plural = _("footage requests")
        ordering = ["-created_at"]
        permissions = [
            ("review_footagerequest", _("Can review footage request")),
            ("approve_footagerequest", _("Can approve footage request")),
            ("export_footagerequest", _("Can export footage request")),
        ]
        indexes = [
            # The queues read only the few open rows among a million: partial indexes in their sort order.
            models.Index(
                fields=["priority", "due_at", "id"], condition=models.Q(status__in=OPEN_STATUSES), name="request_open_queue"
            ),
            models.Index(
                fields=["decided_at", "id"],
                condition=models.Q(status__in=EXPORT_QUEUE_STATUSES),
                name="request_awaiting_export",
            ),
            models.Index(
                fields=["priority", "decided_at", "id"],
                condition=models.Q(status__in=CUSTODIAN_STATUSES),
                name="request_custodian_todo",
            ),
            models.Index(fields=["agency", "-created_at", "-id"], name="request_agency_recent"),
            # The request lists, newest first (keyset on id) within an agency: without it a quiet agency's page
            # walks the whole table backwards looking for its few rows.
            models.Index(fields=["agency", "-id"], name="request_agency_newest"),
            models.Index(fields=["status", "info_requested_at"], name="request_needs_info_age"),
            # A requester's "Việc cần làm": their agency's drafts (their own: the requester too), questions to answer
            # and releases to confirm.
            models.Index(
                fields=["agency", "status", "requester"],
                condition=models.Q(status__in=["draft", "needs_info", "released"]),
                name="request_agency_todo",
            ),
            models.Index(fields=["first_submitted_at"], name="request_first_filed"),
            models.Index(fields=["decided_at"], name="request_decided"),
            # The deadline sweep (requests.deadlines): the open requests due before a moment, whatever the city's size.
            models.Index(fields=["due_at"], condition=models.Q(status__in=["submitted", "in_review"]), name="request_open_due"),
        ]

    def __str__(self):
        return self.reference

    @property
    def answer_expires_at(self):
        """When a request sent back for information expires unanswered (None when no question is open)."""
        if self.info_requested_at is None:
            return None
        return self.info_requested_at + dt.timedelta(days=settings.REQUEST_INFO_EXPIRY_DAYS)

    def compute_content_hash(self):
        """SHA-256 of everything an approval vouches for: basis, grounds, purpose and every item."""
        items = sorted(
            (item.camera_id, item.start.isoformat(), item.end.isoformat(), item.data_category_id) for item in self.items.all()
        )
        content = {
            "basis": self.legal_basis_id,
            "letter": [self.letter_number, self.letter_date.isoformat() if self.letter_date else None],
            "case": self.case_reference,
            "purpose": self.purpose,
            "urgency": self.urgency,
            "items": items,
        }
        return hashlib.sha256(canonical_json(content).encode()).hexdigest()

    def approvals_needed(self, items=None):
        """Approvals the request needs: its basis's number, two when a window asks for a sensitive category.
        `items` (with their data categories) saves reading them again."""
        items = self.items.select_related("data_category") if items is None else items
        sensitive = any(item.data_category.is_sensitive for item in items)
        return max(self.legal_basis.approvals_required, 2 if sensitive else 1)

    def issuing_centre(self):
        """The agency that issues the records of this request's release (the hand-over record, a check's record): the
        agency of the custodian who exported it, else the one managing its cameras; None when neither is known."""
        custodian = self.export_requested_by
        if custodian is not None and custodian.agency_id:
            return custodian.agency
        item = self.items.select_related("camera__managing_agency").first()
        return item.camera.managing_agency if item is not None else None


class CameraWindow(models.Model):
    """A camera's recording between two moments, in one data category: what is asked, filed or approved."""

    camera = models.ForeignKey(Camera, verbose_name=_("camera"), on_delete=models.PROTECT, related_name="+")
    start = models.DateTimeField(_("from"))
    end = models.DateTimeField(_("to"))
    data_category = models.ForeignKey(DataCategory, verbose_name=_("data category"), on_delete=models.PROTECT, related_name="+")

    class Meta:
        abstract = True

    def __str__(self):
        return f"{self.camera.code} {self.start:%Y-%m-%d %H:%M}–{self.end:%H:%M}"

    @property
    def hours(self):
        return (self.end - self.start).total_seconds() / 3600

    @property
    def duration_text(self):
        return duration_text((self.end - self.start).total_seconds())


class RequestItem(CameraWindow):
    footage_request = models.ForeignKey(FootageRequest, verbose_name=_("request"), on_delete=models.CASCADE, related_name="items")

    class Meta:
        verbose_name = _("requested item")
        verbose_name_plural = _("requested items")
        ordering = ["camera__code", "start"]
        constraints = [models.CheckConstraint(condition=models.Q(end__gt=models.F("start")), name="request_item_window_positive")]


class Submission(models.Model):
    """One filing of a request, as it was sent: the first and every resubmission after a question. Never changed.

    `items` are the scope as filed. Submissions reconstructed from the ledger for requests filed before
    submissions were kept have `items_recorded` False unless their content hash proves the items unchanged.
    """

    footage_request = models.ForeignKey(
        FootageRequest, verbose_name=_("request"), on_delete=models.CASCADE, related_name="submissions"
    )
    number = models.PositiveSmallIntegerField(_("submission number"))
    submitted_at = models.DateTimeField(_("submitted at"))
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    content_hash = models.CharField(_("content SHA-256"), max_length=64, blank=True)
    items_recorded = models.BooleanField(_("scope recorded"), default=True)
    # As filed; empty on filings rebuilt from the ledger whose content is no longer the request's.
    legal_basis = models.ForeignKey(
        LegalBasis, verbose_name=_("legal basis"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices, blank=True)

    class Meta:
        verbose_name = _("submission")
        verbose_name_plural = _("submissions")
        ordering = ["footage_request", "number"]
        constraints = [models.UniqueConstraint(fields=["footage_request", "number"], name="submission_number_unique")]
        indexes = [models.Index(fields=["submitted_at"], name="submission_time")]

    def __str__(self):
        return f"{self.footage_request} #{self.number}"


class SubmittedItem(CameraWindow):
    """One camera window as it was filed in a submission (what was asked, before any narrowing)."""

    submission = models.ForeignKey(Submission, verbose_name=_("submission"), on_delete=models.CASCADE, related_name="items")
    # Where the camera stood when the request was filed (a camera can be moved to another area later);
    # empty on filings kept before areas were recorded.
    area = models.ForeignKey(
        Area, verbose_name=_("camera area when filed"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("filed item")
        verbose_name_plural = _("filed items")
        ordering = ["submission", "camera__code", "start"]


class StatusChange(models.Model):
    """Every status a request has moved into, and when: its state at any past moment is the last change before it."""

    footage_request = models.ForeignKey(
        FootageRequest, verbose_name=_("request"), on_delete=models.CASCADE, related_name="status_changes"
    )
    from_status = models.CharField(_("from"), max_length=16, choices=Status.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=16, choices=Status.choices)
    at = models.DateTimeField(_("time"))

    class Meta:
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")
        ordering = ["footage_request", "at", "id"]
        indexes = [models.Index(fields=["footage_request", "at"], name="status_change_request_time")]

    def __str__(self):
        return f"{self.footage_request} {self.from_status}→{self.to_status}"


class QueueEntry(models.Model):
    """A request waiting for a group of reviewers or approvers: one row per group while the request is open
    (submitted or in review), none after. The queues read a group's rows in queue order, so what they read is bounded
    by the open requests assigned to that centre, not by every open request in the city.

    Written only by the workflow: made when a request is filed (for the groups granted its review and approval),
    dropped when it leaves the open statuses."""

    footage_request = models.ForeignKey(
        FootageRequest, verbose_name=_("request"), on_delete=models.CASCADE, related_name="queue_entries"
    )
    group = models.ForeignKey("auth.Group", verbose_name=_("group"), on_delete=models.CASCADE, related_name="+")
    priority = models.PositiveSmallIntegerField(_("priority"))
    due_at = models.DateTimeField(_("due"), null=True)

    class Meta:
        verbose_name = _("queue entry")
        verbose_name_plural = _("queue entries")
        constraints = [models.UniqueConstraint(fields=["group", "footage_request"], name="queue_entry_once")]
        indexes = [models.Index(fields=["group", "priority", "due_at", "footage_request"], name="queue_entry_order")]

    def __str__(self):
        return f"{self.footage_request_id} → {self.group_id}"


def attachment_path(instance, filename):
    return f"requests/{instance.footage_request.reference}/{instance.sha256[:16]}.pdf"


class Attachment(models.Model):
    class Kind(models.TextChoices):
        OFFICIAL_LETTER = "official_letter", _("Official request letter")
        SUPPORTING = "supporting", _("Supporting document")

    footage_request = models.ForeignKey(
        FootageRequest, verbose_name=_("request"), on_delete=models.CASCADE, related_name="attachments"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=255)
    original_name = models.CharField(_("file name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["uploaded_at"]

    def __str__(self):
        return self.original_name


class Decision(models.Model):
    class Step(models.TextChoices):
        REVIEW = "review", _("Review")
        APPROVAL = "approval", _("Approval")

    class Outcome(models.TextChoices):
        RECOMMEND_APPROVE = "recommend_approve", _("Recommends approval")
        RECOMMEND_REJECT = "recommend_reject", _("Recommends rejection")
        APPROVE = "approve", _("Approved")
        REJECT = "reject", _("Rejected")
        REQUEST_INFO = "request_info", _("Asked for more information")

    footage_request = models.ForeignKey(
        FootageRequest, verbose_name=_("request"), on_delete=models.CASCADE, related_name="decisions"
    )
    step = models.CharField(_("step"), max_length=10, choices=Step.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("official"), on_delete=models.PROTECT, related_name="+")
    actor_agency = models.ForeignKey(Agency, verbose_name=_("agency"), on_delete=models.PROTECT, related_name="+")
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices)
    reason = models.TextField(_("reason"), blank=True)
    content_hash = models.CharField(_("content SHA-256 decided on"), max_length=64)
    # An approval that narrowed the scope: the content it narrowed from (the approval signs the narrowed content).
    narrowed_from = models.CharField(_("content SHA-256 before narrowing"), max_length=64, blank=True)
    regulation_version = models.ForeignKey(
        RegulationVersion, verbose_name=_("regulation version applied"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        ordering = ["created_at", "id"]
        constraints = [
            # The database, not only the code, refuses a second signature by the same person on the same content.
            models.UniqueConstraint(
                fields=["footage_request", "actor", "content_hash"],
                condition=models.Q(outcome="approve"),
                name="decision_one_approval_per_person_per_content",
            )
        ]

    def __str__(self):
        return f"{self.footage_request} {self.outcome} by {self.actor}"


class ApprovedItem(CameraWindow):
    """One camera window as a narrowing approval left it: the scope that approval signed, kept though a later
    approver may narrow it again."""

    decision = models.ForeignKey(Decision, verbose_name=_("decision"), on_delete=models.CASCADE, related_name="items")

    class Meta:
        verbose_name = _("approved item")
        verbose_name_plural = _("approved items")
        ordering = ["decision", "camera__code", "start"]


class Comment(models.Model):
    footage_request = models.ForeignKey(
        FootageRequest, verbose_name=_("request"), on_delete=models.CASCADE, related_name="comments"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.PROTECT, related_name="+")
    body = models.TextField(_("message"))
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.author}: {self.body[:40]}"


class Reminder(models.Model):
    """A deadline that chased people: one row per request, kind and deadline, written with the notifications it sent
    and its ledger event (requests.deadlines). The row is what makes a reminder go out once: a second sweep, on this
    worker or another, finds it and sends nothing."""

    class Kind(models.TextChoices):
        DEADLINE_NEAR = "deadline_near", _("Reviewers or approvers reminded before the deadline")
        DEADLINE_PASSED = "deadline_passed", _("Escalated to the approving officials after the deadline")
        ANSWER_DUE = "answer_due", _("Requesting officers reminded to answer before expiry")

    footage_request = models.ForeignKey(
        FootageRequest, verbose_name=_("request"), on_delete=models.CASCADE, related_name="reminders"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    deadline = models.DateTimeField(_("deadline"))
    sent_at = models.DateTimeField(_("sent at"))
    recipients = models.PositiveIntegerField(_("people told"), default=0)

    class Meta:
        verbose_name = _("deadline reminder")
        verbose_name_plural = _("deadline reminders")
        constraints = [models.UniqueConstraint(fields=["footage_request", "kind", "deadline"], name="reminder_once_per_deadline")]

    def __str__(self):
        return f"{self.footage_request_id} {self.kind} {self.deadline:%Y-%m-%d %H:%M}"


class Notification(models.Model):
    """Told to a user in their own language when shown (the text is not stored, only what happened)."""

    class Verb(models.TextChoices):
        REVIEW_NEEDED = "review_needed", _("%(ref)s is waiting for your review.")
        DECISION_NEEDED = "decision_needed", _("%(ref)s has been reviewed and waits for your decision.")
        INFO_REQUESTED = "info_requested", _("%(ref)s: more information is requested.")
        APPROVED = "approved", _("%(ref)s has been approved.")
        EXPORT_READY = "export_ready", _("%(ref)s is approved and ready for export.")
        NARROWED = "narrowed", _("%(ref)s: the scope was narrowed by an approver.")
        REJECTED = "rejected", _("%(ref)s has been rejected.")
        WITHDRAWN = "withdrawn", _("%(ref)s was withdrawn by the requesting agency.")
        EXPIRED = "expired", _("%(ref)s expired: no answer was given in time.")
        RELEASED = "released", _("%(ref)s: the footage is released and ready to download.")
        EXPORT_FAILED = "export_failed", _("%(ref)s: the export failed and waits for a retry.")
        DAMAGE_HELD = (
            "damage_held",
            _("%(ref)s: the exported footage is damaged; it is released once a custodian acknowledges the damage."),
        )
        # Deadlines that chase people (requests.deadlines): %(due)s is the deadline, Vietnam time.
        DEADLINE_NEAR = "deadline_near", _("%(ref)s: your review or decision is due by %(due)s.")
        DEADLINE_PASSED = (
            "deadline_passed",
            _("%(ref)s passed its deadline of %(due)s without a decision: it is escalated to you."),
        )
        ANSWER_DUE = "answer_due", _("%(ref)s: answer the question by %(due)s, or the request expires.")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="notifications"
    )
    footage_request = models.ForeignKey(FootageRequest, verbose_name=_("request"), on_delete=models.CASCADE, related_name="+")
    verb = models.CharField(_("what happened"), max_length=20, choices=Verb.choices)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at", "-created_at"], name="notification_user_unread")]

    def __str__(self):
        return self.text

    @property
    def text(self):
        return self.get_verb_display() % {"ref": self.footage_request.reference, "due": self.deadline_text}

    @property
    def deadline_text(self):
        """The deadline a reminder speaks of, Vietnam time: the answer's expiry for ANSWER_DUE, else the due time."""
        footage_request = self.footage_request
        if self.verb == self.Verb.ANSWER_DUE:
            moment = footage_request.answer_expires_at
        else:
            moment = footage_request.due_at
        return local_time(moment) if moment else "—"


# Release ---------------------------------------------------------------------


class Release(models.Model):
    """The one package handed over for a request. One-to-one: the database refuses a second release."""

    footage_request = models.OneToOneField(
        FootageRequest, verbose_name=_("request"), on_delete=models.PROTECT, related_name="release"
    )
    token = models.CharField(_("package id"), max_length=32, unique=True)
    package_path = models.CharField(_("package file"), max_length=500)
    package_sha256 = models.CharField(_("package SHA-256"), max_length=64)
    package_size = models.PositiveBigIntegerField(_("package size (bytes)"))
    manifest_sha256 = models.CharField(_("manifest SHA-256"), max_length=64)
    handover_sha256 = models.CharField(_("hand-over record SHA-256"), max_length=64)
    gaps = models.PositiveIntegerField(_("gaps in the footage"), default=0)
    damaged_files = models.PositiveIntegerField(_("files with damaged footage"), default=0)
    # Set when a release held for its damage (EXPORT_ON_DAMAGE "hold") was let go by a custodian.
    damage_acknowledged_at = models.DateTimeField(_("damage acknowledged at"), null=True, blank=True)
    damage_acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("damage acknowledged by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    damage_acknowledgement = models.TextField(_("acknowledgement note"), blank=True)
    created_at = models.DateTimeField(_("released at"), auto_now_add=True)
    purge_after = models.DateTimeField(_("purge after"))
    purged_at = models.DateTimeField(_("purged at"), null=True, blank=True)
    # Verification links (for a court clerk without an account) carry this number: revoking them raises it, and
    # every link issued before no longer opens.
    verify_generation = models.PositiveIntegerField(_("verification link generation"), default=0)
    verify_revoked_at = models.DateTimeField(_("verification links last revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("release")
        verbose_name_plural = _("releases")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["purged_at", "purge_after"], name="release_purge_due")]

    def __str__(self):
        return f"{self.footage_request.reference} ({self.token[:8]})"


class ReleaseFile(models.Model):
    class Kind(models.TextChoices):
        VIDEO = "video", _("Video")
        MANIFEST = "manifest", _("Manifest")
        HANDOVER = "handover", _("Hand-over record")
        PACKAGE = "package", _("Package")
        # An original clip kept by the centre, outside the package, where the recipient was given a redacted copy.
        ORIGINAL = "original", _("Original kept by the centre")

    release = models.ForeignKey(Release, verbose_name=_("release"), on_delete=models.CASCADE, related_name="files")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    camera_code = models.CharField(_("camera"), max_length=40, blank=True)
    first_timestamp = models.DateTimeField(_("first timestamp"), null=True, blank=True)
    last_timestamp = models.DateTimeField(_("last timestamp"), null=True, blank=True)
    duration = models.FloatField(_("duration (s)"), null=True, blank=True)
    # The decode check of a video (manifest.json, "integrity"): None where no check was made.
    decoded = models.BooleanField(_("decoded without error"), null=True, blank=True)
    frames_in_file = models.PositiveIntegerField(_("frames in the file"), null=True, blank=True)
    frames_decoded = models.PositiveIntegerField(_("frames decoded"), null=True, blank=True)
    damage = models.JSONField(_("damaged ranges"), default=list, blank=True)
    checked_with = models.CharField(_("checked with"), max_length=200, blank=True)
    # The kinds of the file's other streams (sound…), which the check did not decode.
    not_checked = models.JSONField(_("streams not checked"), default=list, blank=True)
    # A redacted copy names the original it was made from (a file of kind ORIGINAL of the same release).
    redacted_from = models.CharField(_("redacted copy of"), max_length=255, blank=True)
    # In a redacted copy: how many regions of other people and things it blurred (faces found, regions drawn).
    regions_blurred = models.PositiveIntegerField(_("regions blurred"), null=True, blank=True)

    class Meta:
        verbose_name = _("released file")
        verbose_name_plural = _("released files")
        ordering = ["kind", "name"]

    def __str__(self):
        return self.name

    @property
    def duration_text(self):
        """The clip's length as people say it ("1 giờ 5 phút", "45 giây"); "" when unknown."""
        return duration_text(self.duration) if self.duration else ""

    @property
    def integrity(self):
        """The decode check as manifest.json gives it (its "integrity" section), or None where none was made."""
        if self.decoded is None:
            return None
        return {
            "decoded": self.decoded,
            "frames_in_file": self.frames_in_file,
            "frames_decoded": self.frames_decoded,
            "damaged": self.damage,
            "checked_with": self.checked_with,
            "not_checked": self.not_checked,
        }


class ExportPart(models.Model):
    """The clips of one recorder site, for a request whose cameras sit at several: cut and checked by that site's
    worker into shared export storage, then packaged once with the other sites' (`requests.sites`)."""

    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting for the site's export worker")
        DONE = "done", _("Cut and checked at the site")

    footage_request = models.ForeignKey(
        FootageRequest, verbose_name=_("request"), on_delete=models.CASCADE, related_name="export_parts"
    )
    # One dispatch of the part: its messages carry it, and a part done or regenerated is never taken for another.
    token = models.CharField(_("dispatch token"), max_length=32, unique=True)
    # "" stands for the cameras without a site, exported by the workers of the default queue.
    site_code = models.CharField(_("recorder site"), max_length=40, blank=True)
    # The numbers of the request's items this part cuts (their places in the package), fixed when it is dispatched.
    items = models.JSONField(_("items"), default=list)
    # Set by the worker that takes the part, renewed while it cuts: another delivery leaves a part so taken alone.
    claimed_at = models.DateTimeField(_("taken at"), null=True, blank=True)
    site_name = models.CharField(_("recorder site name"), max_length=200, blank=True)
    queue = models.CharField(_("export queue"), max_length=100, blank=True)  # "": the default queue
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.WAITING)
    # The site's manifest entries and clips (paths relative to its folder, SHA-256, decode check), as the package needs them.
    result = models.JSONField(_("result"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("export part")
        verbose_name_plural = _("export parts")
        ordering = ["site_code"]

    def __str__(self):
        return f"{self.footage_request_id}: {self.site_code or '-'} ({self.status})"


class DownloadGrant(models.Model):
    """One recipient's right to download one release: through a signed link, until it expires, a number of times."""

    release = models.ForeignKey(Release, verbose_name=_("release"), on_delete=models.CASCADE, related_name="grants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recipient"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("issued at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    max_downloads = models.PositiveIntegerField(_("maximum downloads"))
    downloads = models.PositiveIntegerField(_("downloads"), default=0)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("revoked by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("download link")
        verbose_name_plural = _("download links")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.release} → {self.user}"


class LegalHold(models.Model):
    """Footage preserved beyond its retention: segments copied or hard-linked to a holding area, the package kept."""

    class ReasonCode(models.TextChoices):
        """The system's own reasons: stored as codes, shown in the reader's language."""

        EMERGENCY_FILING = "emergency_filing", _("Emergency request: its footage is preserved as soon as it is filed")

    footage_request = models.ForeignKey(FootageRequest, verbose_name=_("request"), on_delete=models.PROTECT, related_name="holds")
    reason = models.TextField(_("reason"), blank=True)  # as typed by the custodian who placed it
    reason_code = models.CharField(_("reason (system)"), max_length=30, choices=ReasonCode.choices, blank=True)
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("placed by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    placed_at = models.DateTimeField(_("placed at"), auto_now_add=True)
    path = models.CharField(_("holding area"), max_length=500, blank=True)
    segments_held = models.PositiveIntegerField(_("segments preserved"), default=0)
    # Segments copied per recorder site ("" for cameras without one), each site's copy counted once.
    sites_preserved = models.JSONField(_("segments preserved per site"), default=dict, blank=True)
    # The sites whose copies the hold waits for, fixed when the copies are sent.
    sites_planned = models.JSONField(_("sites to copy from"), default=list, blank=True)
    # When the copy into the holding area finished (it runs after the hold is placed).
    preserved_at = models.DateTimeField(_("preserved at"), null=True, blank=True)
    released_at = models.DateTimeField(_("lifted at"), null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("lifted by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("legal hold")
        verbose_name_plural = _("legal holds")
        ordering = ["-placed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["footage_request"], condition=models.Q(released_at__isnull=True), name="legal_hold_one_active_per_request"
            )
        ]

    def __str__(self):
        return f"{self.footage_request} hold"

    @property
    def active(self):
        return self.released_at is None

    @property
    def reason_text(self):
        """The reason in the active language: the system's own, translated, or the one a person typed."""
        return self.get_reason_code_display() if self.reason_code else self.reason


class SubjectAccess(models.Model):
    """A person's request for footage of themselves (yêu cầu của chủ thể dữ liệu), filed at the centre's counter by
    the official who checked their identity document. The document's number is kept only as a keyed hash
    (`requests.subjects.document_digest`): it can be matched again when the person comes back, never read."""

    class Document(models.TextChoices):
        CITIZEN_ID = "citizen_id", _("Citizen identity card (CCCD)")
        PASSPORT = "passport", _("Passport")
        OTHER = "other", _("Other identity document")

    class Delivery(models.TextChoices):
        # The centre's custodians download the redacted copy and hand it over in person, or give the person a link of
        # their own (`SubjectLink`), which opens with their identity document.
        PREMISES = "premises", _("Handed over at the centre")

    footage_request = models.OneToOneField(
        FootageRequest, verbose_name=_("request"), on_delete=models.CASCADE, related_name="subject_access"
    )
    person_name = models.CharField(_("name of the person"), max_length=200)
    document_type = models.CharField(_("identity document"), max_length=20, choices=Document.choices)
    document_digest = models.CharField(_("identity document number (keyed hash)"), max_length=64, db_index=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("identity checked by"), on_delete=models.PROTECT, related_name="+"
    )
    checked_at = models.DateTimeField(_("identity checked at"), auto_now_add=True)
    place = models.CharField(_("where the person was"), max_length=300)
    appearance = models.TextField(_("how to recognise the person in the footage"), blank=True)
    contact = models.CharField(_("contact (telephone or e-mail)"), max_length=200, blank=True)
    delivery = models.CharField(_("hand-over"), max_length=20, choices=Delivery.choices, default=Delivery.PREMISES)

    class Meta:
        verbose_name = _("data subject's request")
        verbose_name_plural = _("data subjects' requests")

    def __str__(self):
        return f"{self.footage_request} ({self.person_name})"


class SubjectLink(models.Model):
    """A link a custodian gives a person to download the redacted copy of their own request without an account: it
    opens only with the identity document checked at the counter, until it expires, a number of times."""

    release = models.ForeignKey(Release, verbose_name=_("release"), on_delete=models.CASCADE, related_name="subject_links")
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("issued by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("issued at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    max_downloads = models.PositiveIntegerField(_("maximum downloads"))
    downloads = models.PositiveIntegerField(_("downloads"), default=0)
    # Wrong document numbers typed at the link: at SUBJECT_LINK_MAX_FAILURES it no longer opens.
    failed_checks = models.PositiveIntegerField(_("failed identity checks"), default=0)
    # Revoked with the release's download links (`releases.release_revoke`).
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("personal link of a person")
        verbose_name_plural = _("personal links of people")

    def __str__(self):
        return f"{self.release} link {self.pk}"


class Redaction(models.Model):
    """The recipient of this request's footage gets redacted copies: faces blurred where the detector finds them and
    the regions drawn here blurred (`requests.redaction`). The originals are kept by the centre, never replaced.

    Required by an approver or a custodian before the export; the regions are then reviewed by a custodian, and the
    export waits for that review. A region added or removed after it needs a review again."""

    footage_request = models.OneToOneField(
        FootageRequest, verbose_name=_("request"), on_delete=models.CASCADE, related_name="redaction"
    )
    reason = models.TextField(_("reason"))
    faces = models.BooleanField(_("blur faces found by the detector"), default=True)
    # None: required by the request's legal basis (for its data categories or its agency's kind), or by a data
    # subject's request, when it was filed.
    required_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("required by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    required_at = models.DateTimeField(_("required at"), auto_now_add=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("regions reviewed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("regions reviewed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("redaction")
        verbose_name_plural = _("redactions")

    def __str__(self):
        return f"{self.footage_request} redaction"


class RedactionRegion(models.Model):
    """A box drawn on one frame of one requested window (seconds from its start), blurred from that moment, followed by a
    tracker or kept in place; a SUBJECT region is the one left visible."""

    class Label(models.TextChoices):
        FACE = "face", _("Face")
        PLATE = "plate", _("Number plate")
        PERSON = "person", _("Person")
        OTHER = "other", _("Other")
        # Not blurred: the person who asked for footage of themselves, followed so that their face stays visible.
        SUBJECT = "subject", _("The person asking for their own footage (left visible)")

    redaction = models.ForeignKey(Redaction, verbose_name=_("redaction"), on_delete=models.CASCADE, related_name="regions")
    item = models.ForeignKey(RequestItem, verbose_name=_("requested item"), on_delete=models.CASCADE, related_name="+")
    label = models.CharField(_("what it hides"), max_length=10, choices=Label.choices)
    at = models.FloatField(_("drawn at (seconds from the start of the window)"))
    x = models.PositiveIntegerField(_("left (px)"))
    y = models.PositiveIntegerField(_("top (px)"))
    width = models.PositiveIntegerField(_("width (px)"))
    height = models.PositiveIntegerField(_("height (px)"))
    until = models.FloatField(_("until (seconds from the start of the window)"), null=True, blank=True)
    track = models.BooleanField(_("follow it from frame to frame"), default=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("added by"), on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(_("added at"), auto_now_add=True)

    class Meta:
        verbose_name = _("redaction region")
        verbose_name_plural = _("redaction regions")
        ordering = ["item_id", "at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(width__gt=0, height__gt=0, at__gte=0), name="redaction_region_box_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(until__isnull=True) | models.Q(until__gt=models.F("at")),
                name="redaction_region_until_after_at",
            ),
        ]

    def __str__(self):
        return f"{self.get_label_display()} {self.x},{self.y} {self.width}x{self.height} @ {self.at:g}s"

    @property
    def box(self):
        return (self.x, self.y, self.width, self.height)


# Direct foreign-key permission tables: a million requests must never land in
# guardian's generic table.
class FootageRequestUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(FootageRequest, on_delete=models.CASCADE)


class FootageRequestGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(FootageRequest, on_delete=models.CASCADE)
