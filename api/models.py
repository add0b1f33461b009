"""Machine access: API tokens of service accounts, and the filings their idempotency keys stand for."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Scope(models.TextChoices):
    """What a token may do, within what its service account's roles allow (`api.tokens.SCOPE_ROLES`)."""

    CATALOGUE_READ = "catalogue:read", _("Read legal bases, data categories and cameras")
    REQUESTS_READ = "requests:read", _("Read the agency's requests")
    REQUESTS_FILE = "requests:file", _("File, change, submit and withdraw requests")
    RELEASES_READ = "releases:read", _("Read releases' status and manifests, and check files against them")
    RELEASES_RECEIVE = "releases:receive", _("Take download links, download released footage and confirm receipt")
    LEDGER_READ = "ledger:read", _("Read the ledger")


class ApiToken(models.Model):
    """A revocable credential of one service account. Only its SHA-256 digest is kept: the token is shown once."""

    account = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("service account"), on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=120)
    # The token's public part: it finds the row, and lists show it so that a token can be told from another.
    prefix = models.CharField(_("prefix"), max_length=16, unique=True)
    digest = models.CharField(_("digest"), max_length=64)
    scopes = models.JSONField(_("scopes"), default=list)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    expires_at = models.DateTimeField(_("expires at"))
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("revoked by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    def is_usable(self, now=None):
        now = now or timezone.now()
        return self.revoked_at is None and self.expires_at > now and self.account.is_active


class IdempotentFiling(models.Model):
    """A request filed through the API under an Idempotency-Key: a retried call with the same key and the same body
    answers with this request instead of filing it twice."""

    account = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    fingerprint = models.CharField(max_length=64)
    footage_request = models.ForeignKey("requests.FootageRequest", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "key"], name="idempotent_filing_account_key_unique")]

    def __str__(self):
        return f"{self.key} → {self.footage_request_id}"


class WebhookEndpoint(models.Model):
    """An address of an agency's own system that is told when one of the agency's requests changes status."""

    agency = models.ForeignKey(
        "governance.Agency", verbose_name=_("agency"), on_delete=models.PROTECT, related_name="webhook_endpoints"
    )
    url = models.CharField(_("address"), max_length=500)
    # Kept in clear, unlike API tokens: every notification is signed with it (HMAC), so it must be at hand. It is shown
    # to the administrator once, when the endpoint is registered, and never on a page afterwards.
    secret = models.CharField(_("signing secret"), max_length=100)
    description = models.CharField(_("description"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.url


class WebhookDelivery(models.Model):
    """One notification to one endpoint, kept until it is delivered or given up (never silently lost)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Given up")

    endpoint = models.ForeignKey(
        WebhookEndpoint, verbose_name=_("webhook endpoint"), on_delete=models.CASCADE, related_name="deliveries"
    )
    event_id = models.UUIDField(_("event id"), unique=True, default=uuid.uuid4, editable=False)
    event = models.CharField(_("event"), max_length=60)
    reference = models.CharField(_("reference"), max_length=20)
    # The body exactly as sent (canonical JSON): the signature covers these bytes, and every attempt sends the same.
    payload = models.TextField(_("payload"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    last_status_code = models.PositiveIntegerField(_("last status code"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due_idx")]

    def __str__(self):
        return f"{self.event} {self.reference} → {self.endpoint_id}"
