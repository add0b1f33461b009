"""What the people who run the service read: the last sign of life of the workers of each queue."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class WorkerHeartbeat(models.Model):
    """The last time a worker consuming `queue` ran the heartbeat task (operations.tasks.heartbeat, sent by beat to
    each queue every minute). Telemetry, not a record: it is overwritten, and not written to the ledger."""

    queue = models.CharField(_("queue"), max_length=200, unique=True)
    hostname = models.CharField(_("worker"), max_length=255, blank=True)
    seen_at = models.DateTimeField(_("last seen"))

    class Meta:
        verbose_name = _("worker heartbeat")
        verbose_name_plural = _("worker heartbeats")

    def __str__(self):
        return f"{self.queue} @ {self.seen_at:%Y-%m-%d %H:%M:%S}"
