"""The ledger: one append-only, hash-chained table of events."""

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from audit.chain import fingerprint_for, format_fingerprint, format_time


class Action(models.TextChoices):
    """Every action the ledger knows. Values are stored and hashed: never rename one."""

    LOGIN = "auth.login", _("Signed in")
    LOGIN_FAILED = "auth.login_failed", _("Failed sign-in")
    LOGOUT = "auth.logout", _("Signed out")
    LOGIN_LOCKOUT = "auth.lockout", _("Sign-in locked after repeated failures")
    LOGIN_UNLOCK = "auth.unlock", _("Sign-in unlocked")
    LOGIN_SECOND_FACTOR = "auth.second_factor", _("Sign-in confirmed with the second factor")
    SECOND_FACTOR_ENROL = "auth.second_factor_enrol", _("Second-factor device added")
    SECOND_FACTOR_REMOVE = "auth.second_factor_remove", _("Second-factor device removed")
    SECOND_FACTOR_RESET = "auth.second_factor_reset", _("Second factor reset by an administrator")
    GOVERNANCE_CREATE = "governance.create", _("Governance data created")
    GOVERNANCE_UPDATE = "governance.update", _("Governance data changed")
    GOVERNANCE_DELETE = "governance.delete", _("Governance data deleted")
    CAMERA_IMPORT = "governance.camera_import", _("Cameras imported")
    REGULATION_PUBLISH = "governance.regulation_publish", _("Regulation version published")
    PERMISSION_GRANT = "permission.grant", _("Role granted")
    PERMISSION_REVOKE = "permission.revoke", _("Role revoked")
    LEDGER_CHECKPOINT = "audit.checkpoint", _("Ledger checkpoint signed")
    LEDGER_EXPORT = "audit.export", _("Ledger exported")
    LEDGER_VERIFY = "audit.verify", _("Ledger verified")
    LEDGER_VIEW = "audit.view", _("Ledger viewed")
    SIGNING_KEY_REGISTER = "audit.key_register", _("Ledger signing key registered")
    SIGNING_KEY_RETIRE = "audit.key_retire", _("Ledger signing key retired")
    BUNDLE_REQUEST = "audit.bundle_request", _("Offline verification bundle requested")
    BUNDLE_GENERATE = "audit.bundle_generate", _("Offline verification bundle built")
    BUNDLE_DOWNLOAD = "audit.bundle_download", _("Offline verification bundle downloaded")
    REQUEST_CREATE = "request.create", _("Request drafted")
    REQUEST_UPDATE = "request.update", _("Request changed")
    REQUEST_ATTACH = "request.attach", _("Document attached")
    REQUEST_SUBMIT = "request.submit", _("Request submitted")
    REQUEST_REVIEW = "request.review", _("Review recorded")
    REQUEST_ASK_INFO = "request.ask_info", _("More information requested")
    REQUEST_APPROVE = "request.approve", _("Approval signed")
    REQUEST_REJECT = "request.reject", _("Request rejected")
    REQUEST_WITHDRAW = "request.withdraw", _("Request withdrawn")
    REQUEST_EXPIRE = "request.expire", _("Request expired")
    REQUEST_REMIND = "request.remind", _("Deadline reminder sent")
    REQUEST_ESCALATE = "request.escalate", _("Overdue request escalated")
    REQUEST_COMMENT = "request.comment", _("Comment added")
    REQUEST_VIEW = "request.view", _("Request viewed")
    REQUEST_EXPORT_START = "request.export_start", _("Export started")
    REQUEST_EXPORT_FAIL = "request.export_fail", _("Export failed")
    REQUEST_EXPORT_PART = "request.export_part", _("Clips cut at a recorder site")
    EXPORT_STAGING_REMOVE = "request.export_staging_remove", _("Files of an unfinished export removed")
    REQUEST_CLOSE = "request.close", _("Receipt confirmed; request closed")
    RELEASE_CREATE = "release.create", _("Footage released")
    RELEASE_LINK = "release.link", _("Download link issued")
    RELEASE_DOWNLOAD = "release.download", _("Footage downloaded")
    RELEASE_DOWNLOAD_REFUSED = "release.download_refused", _("Download refused")
    RELEASE_LINK_EXPIRED = "release.link_expired", _("Expired download link used")
    RELEASE_REVOKE = "release.revoke", _("Download links revoked")
    RELEASE_PURGE = "release.purge", _("Exported package purged")
    RELEASE_VERIFY = "release.verify", _("File checked against releases")
    RELEASE_VERIFY_REVOKE = "release.verify_revoke", _("Verification links revoked")
    RELEASE_VERIFY_THROTTLED = "release.verify_throttled", _("Verification checks refused: too many from one address")
    RELEASE_VERIFY_RECORD = "release.verify_record", _("Verification record downloaded")
    RELEASE_DAMAGE = "release.damage", _("Damaged footage declared")
    RELEASE_DAMAGE_ACKNOWLEDGE = "release.damage_acknowledge", _("Damaged footage acknowledged")
    SUBJECT_REQUEST_FILE = "request.subject_file", _("Data subject's request filed at the counter")
    REDACTION_REQUIRE = "redaction.require", _("Redacted copies required")
    REDACTION_REGION_ADD = "redaction.region_add", _("Redaction region added")
    REDACTION_REGION_REMOVE = "redaction.region_remove", _("Redaction region removed")
    REDACTION_REVIEW = "redaction.review", _("Redaction regions reviewed")
    REDACTION_FRAME_VIEW = "redaction.frame_view", _("Frame viewed to draw redaction regions")
    HOLD_PLACE = "hold.place", _("Legal hold placed")
    HOLD_RELEASE = "hold.release", _("Legal hold lifted")
    REPORT_REQUEST = "report.request", _("Oversight report requested")
    REPORT_GENERATE = "report.generate", _("Oversight report generated")
    REPORT_DOWNLOAD = "report.download", _("Oversight report downloaded")
    REPORT_DOSSIER = "report.dossier", _("Request dossier generated")
    API_ACCOUNT_CREATE = "api.account_create", _("Service account created")
    API_TOKEN_ISSUE = "api.token_issue", _("API token issued")
    API_TOKEN_REVOKE = "api.token_revoke", _("API token revoked")
    API_REQUEST_LIST = "api.request_list", _("Requests listed through the API")
    WEBHOOK_CREATE = "api.webhook_create", _("Webhook endpoint registered")
    WEBHOOK_DEACTIVATE = "api.webhook_deactivate", _("Webhook endpoint deactivated")
    WEBHOOK_FAILED = "api.webhook_failed", _("Webhook delivery given up")
    SYSTEM_BACKUP = "system.backup", _("Backup made")
    SYSTEM_RESTORE = "system.restore", _("Restored from a backup")


class Outcome(models.TextChoices):
    SUCCESS = "success", _("Success")
    DENIED = "denied", _("Denied")
    FAILURE = "failure", _("Failure")
    # A check that ran and found nothing: a file checked against the releases that matches none.
    NO_MATCH = "no_match", _("No match")


ACTION_LABELS = dict(Action.choices)
OUTCOME_LABELS = dict(Outcome.choices)


class AuditEvent(models.Model):
    seq = models.BigIntegerField(_("sequence"), primary_key=True)
    occurred_at = models.DateTimeField(_("time"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        # A user who acted can never be deleted, only deactivated: the ledger
        # refuses the UPDATE that SET_NULL would need.
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_username = models.CharField(_("user name"), max_length=150, blank=True)
    actor_agency = models.CharField(_("agency"), max_length=40, blank=True)
    actor_roles = models.JSONField(_("roles"), default=list)
    action = models.CharField(_("action"), max_length=64, choices=Action.choices)
    target_type = models.CharField(_("object type"), max_length=64, blank=True)
    target_id = models.CharField(_("object id"), max_length=64, blank=True)
    reference = models.CharField(_("request reference"), max_length=40, blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices, default=Outcome.SUCCESS)
    client_ip = models.CharField(_("client address"), max_length=45, blank=True)
    payload = models.TextField(_("details (canonical JSON)"), default="{}")
    prev_hash = models.CharField(_("previous hash"), max_length=64, unique=True)
    hash = models.CharField(_("hash"), max_length=64, unique=True)

    class Meta:
        db_table = "audit_event"
        verbose_name = _("ledger event")
        verbose_name_plural = _("ledger events")
        ordering = ["-seq"]
        default_permissions = ("view",)
        indexes = [
            models.Index(fields=["actor", "-seq"], name="audit_event_actor_seq"),
            models.Index(fields=["actor_agency", "-seq"], name="audit_event_agency_seq"),
            models.Index(fields=["action", "-seq"], name="audit_event_action_seq"),
            models.Index(fields=["target_type", "target_id", "-seq"], name="audit_event_target_seq"),
            models.Index(fields=["reference", "-seq"], name="audit_event_reference_seq"),
            models.Index(fields=["outcome", "-seq"], name="audit_event_outcome_seq"),
        ]

    def __str__(self):
        # The action in the reader's words (a user's delete page lists the events that name the account).
        return f"#{self.seq} {self.get_action_display()}"

    # Django's own get_FOO_display hashes every choice's label (one translation each) on every call: a timeline of
    # fifty events would translate the hundred action names fifty times. The labels are looked up by value instead.
    def get_action_display(self):
        return ACTION_LABELS.get(self.action, self.action)

    def get_outcome_display(self):
        return OUTCOME_LABELS.get(self.outcome, self.outcome)

    def envelope(self):
        return (
            self.seq,
            format_time(self.occurred_at),
            self.actor_id,
            self.actor_username,
            self.actor_agency,
            list(self.actor_roles),
            self.action,
            self.target_type,
            self.target_id,
            self.reference,
            self.outcome,
            self.client_ip,
            self.prev_hash,
        )

    @property
    def data(self):
        import json

        return json.loads(self.payload)


class Checkpoint(models.Model):
    """A signed statement of the ledger head at a moment, verifiable offline."""

    seq = models.BigIntegerField(_("sequence"), unique=True)
    hash = models.CharField(_("head hash"), max_length=64)
    signed_at = models.CharField(_("signed at (UTC)"), max_length=40)
    key_id = models.CharField(_("key id"), max_length=16)
    public_key_pem = models.TextField(_("public key"))
    signature = models.CharField(_("signature (base64)"), max_length=200)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        db_table = "audit_checkpoint"
        verbose_name = _("ledger checkpoint")
        verbose_name_plural = _("ledger checkpoints")
        ordering = ["-seq"]
        default_permissions = ("view",)

    def __str__(self):
        return f"checkpoint @{self.seq}"

    @property
    def fingerprint(self):
        """SHA-256 of the public key stored with the checkpoint; "" when it cannot be read (a damaged row)."""
        try:
            return fingerprint_for(load_pem_public_key(self.public_key_pem.encode()))
        except (ValueError, TypeError, UnsupportedAlgorithm):
            return ""

    @property
    def display_fingerprint(self):
        fingerprint = self.fingerprint
        return format_fingerprint(fingerprint) if fingerprint else ""

    def as_json(self):
        return {
            "seq": self.seq,
            "hash": self.hash,
            "signed_at": self.signed_at,
            "key_id": self.key_id,
            "signature": self.signature,
        }


class SigningKey(models.Model):
    """A key that signs (or signed) checkpoints. Retired keys stay: the checkpoints they signed must still verify."""

    key_id = models.CharField(_("key id"), max_length=16, unique=True)
    fingerprint = models.CharField(_("fingerprint (SHA-256)"), max_length=64, unique=True)
    public_key_pem = models.TextField(_("public key"))
    valid_from = models.DateTimeField(_("valid from"))
    retired_at = models.DateTimeField(_("retired at"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        db_table = "audit_signing_key"
        verbose_name = _("ledger signing key")
        verbose_name_plural = _("ledger signing keys")
        ordering = ["-valid_from", "-id"]
        default_permissions = ("view",)

    def __str__(self):
        return self.display_fingerprint

    @property
    def display_fingerprint(self):
        return format_fingerprint(self.fingerprint)

    def as_json(self):
        return {
            "key_id": self.key_id,
            "fingerprint": self.fingerprint,
            "public_key_pem": self.public_key_pem,
            "valid_from": format_time(self.valid_from),
            "retired_at": format_time(self.retired_at) if self.retired_at else None,
            "note": self.note,
        }


class VerificationRun(models.Model):
    """A "verify now" request from the auditor pages and what the task found."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Running")
        PASSED = "passed", _("Intact")
        FAILED = "failed", _("Broken")

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    events_checked = models.BigIntegerField(_("events checked"), default=0)
    head_seq = models.BigIntegerField(_("head sequence"), null=True, blank=True)
    head_hash = models.CharField(_("head hash"), max_length=64, blank=True)
    broken_seq = models.BigIntegerField(_("first broken sequence"), null=True, blank=True)
    problem = models.TextField(_("problem"), blank=True)
    seconds = models.FloatField(_("duration (s)"), null=True, blank=True)

    class Meta:
        verbose_name = _("ledger verification")
        verbose_name_plural = _("ledger verifications")
        ordering = ["-requested_at"]

    def __str__(self):
        return f"verification {self.pk} ({self.status})"
