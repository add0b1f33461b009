"""Failed sign-ins counted in windows, so that the ledger gets one event per burst rather than one per attempt."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class SigninBurst(models.Model):
    """The failed sign-ins of one account, or from one address, since the window opened.

    One row per account or address, reused window after window: when a failure
    comes after the window has closed, the row starts a new window (and the
    ledger event that opens it carries the previous window's count).
    """

    class Kind(models.TextChoices):
        ACCOUNT = "account", _("account")
        ADDRESS = "address", _("address")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    key = models.CharField(_("account or address"), max_length=150)
    started_at = models.DateTimeField(_("window opened at"))
    last_at = models.DateTimeField(_("last failure at"), db_index=True)
    failures = models.PositiveIntegerField(_("failures in the window"), default=0)
    locked_at = models.DateTimeField(_("locked out at"), null=True, blank=True)

    class Meta:
        verbose_name = _("failed sign-in burst")
        verbose_name_plural = _("failed sign-in bursts")
        constraints = [models.UniqueConstraint(fields=["kind", "key"], name="signin_burst_kind_key_unique")]

    def __str__(self):
        return f"{self.get_kind_display()} {self.key}: {self.failures}"
