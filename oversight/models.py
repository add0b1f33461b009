"""Oversight reports: a period and scope asked for by an overseer, built into a PDF and a zip of CSVs."""

import os

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Report(models.Model):
    """An oversight report for a period and scope: built by a task into a PDF and a zip of CSVs, both hashed in the ledger."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Being built")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    date_from = models.DateField(_("from"))
    date_to = models.DateField(_("to"))
    agency = models.ForeignKey(
        "governance.Agency", verbose_name=_("agency"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    area = models.ForeignKey(
        "governance.Area", verbose_name=_("area"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    legal_basis = models.ForeignKey(
        "governance.LegalBasis", verbose_name=_("legal basis"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The requester's jurisdiction when the report was asked for: the build never reads beyond it.
    jurisdiction = models.ForeignKey(
        "governance.Area",
        verbose_name=_("jurisdiction"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    stage = models.CharField(_("stage"), max_length=40, blank=True)
    error = models.TextField(_("failure"), blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    pdf_path = models.CharField(_("PDF file"), max_length=500, blank=True)
    pdf_sha256 = models.CharField(_("PDF SHA-256"), max_length=64, blank=True)
    pdf_size = models.PositiveBigIntegerField(_("PDF size (bytes)"), default=0)
    pages = models.PositiveIntegerField(_("pages"), default=0)
    csv_path = models.CharField(_("CSV archive"), max_length=500, blank=True)
    csv_sha256 = models.CharField(_("CSV archive SHA-256"), max_length=64, blank=True)
    releases = models.PositiveIntegerField(_("releases in the register"), default=0)

    class Meta:
        db_table = "oversight_report"
        verbose_name = _("oversight report")
        verbose_name_plural = _("oversight reports")
        ordering = ["-requested_at", "-id"]
        default_permissions = ("view",)
        constraints = [
            models.CheckConstraint(condition=models.Q(date_to__gte=models.F("date_from")), name="oversight_report_period_ordered")
        ]

    def __str__(self):
        return self.code

    @property
    def code(self):
        if not (self.pk and self.requested_at):
            return "BC-?"
        return f"BC-{timezone.localtime(self.requested_at):%Y}-{self.pk:06d}"


class BundleRequest(models.Model):
    """An offline verification bundle of the ledger for a period: built by a task into one ZIP an overseer downloads."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Being built")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    class Failure(models.TextChoices):
        # Stored as a code and translated when shown; the technical detail goes to `error` and the ledger.
        NO_SIGNING_KEY = "no_signing_key", _("There is no ledger signing key yet, so there is nothing to verify against.")
        STORAGE = "storage", _("The bundle could not be written to the report storage.")
        UNEXPECTED = "unexpected", _("The bundle could not be built because of an unexpected error.")

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    date_from = models.DateField(_("from"))
    date_to = models.DateField(_("to"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    stage = models.CharField(_("stage"), max_length=40, blank=True)
    failure = models.CharField(_("reason for failure"), max_length=20, choices=Failure.choices, blank=True)
    error = models.TextField(_("failure"), blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    zip_path = models.CharField(_("ZIP file"), max_length=500, blank=True)
    zip_sha256 = models.CharField(_("ZIP SHA-256"), max_length=64, blank=True)
    zip_size = models.PositiveBigIntegerField(_("ZIP size (bytes)"), default=0)
    first_seq = models.BigIntegerField(_("first event"), null=True, blank=True)
    last_seq = models.BigIntegerField(_("last event"), null=True, blank=True)
    event_count = models.PositiveIntegerField(_("events"), default=0)
    # Events no signed checkpoint fixed when the bundle was written (its verifier then exits 3).
    unanchored_from = models.BigIntegerField(_("first event not anchored"), null=True, blank=True)
    unanchored_to = models.BigIntegerField(_("last event not anchored"), null=True, blank=True)
    fingerprints = models.JSONField(_("signing key fingerprints"), default=list, blank=True)

    class Meta:
        db_table = "oversight_bundle_request"
        verbose_name = _("offline verification bundle")
        verbose_name_plural = _("offline verification bundles")
        ordering = ["-requested_at", "-id"]
        default_permissions = ("view",)
        constraints = [
            models.CheckConstraint(condition=models.Q(date_to__gte=models.F("date_from")), name="oversight_bundle_period_ordered")
        ]

    def __str__(self):
        return self.code

    @property
    def code(self):
        if not (self.pk and self.requested_at):
            return "GKC-?"
        return f"GKC-{timezone.localtime(self.requested_at):%Y}-{self.pk:06d}"

    @property
    def file_name(self):
        return os.path.basename(self.zip_path)
