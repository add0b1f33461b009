"""The register of official document numbers: one series per issuing agency, kind of document and calendar year."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class DocumentSeries(models.Model):
    """The last number an agency gave a kind of document in a year (Decree 30/2020/NĐ-CP: "Số: 12/BC-TTGS")."""

    class Kind(models.TextChoices):
        # The value is the document's symbol in its number (Decree 30, appendix III: báo cáo BC, biên bản BB);
        # the two records get their own symbol so that two records of one agency never print the same number.
        REPORT = "BC", _("Report")
        DOSSIER = "HS", _("Request dossier")
        HANDOVER = "BBGN", _("Hand-over record")
        VERIFICATION = "BBKT", _("Verification record")

    agency = models.ForeignKey(
        "governance.Agency", verbose_name=_("agency"), on_delete=models.PROTECT, related_name="document_series"
    )
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    year = models.PositiveSmallIntegerField(_("year"))
    last = models.PositiveIntegerField(_("last number issued"), default=0)

    class Meta:
        verbose_name = _("document number series")
        verbose_name_plural = _("document number series")
        default_permissions = ("view",)
        constraints = [
            models.UniqueConstraint(fields=["agency", "kind", "year"], name="documents_series_one_per_agency_kind_year")
        ]

    def __str__(self):
        return f"{self.agency.code} {self.kind} {self.year}: {self.last}"
