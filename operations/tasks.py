import socket

from celery import shared_task
from django.utils import timezone

from operations.models import WorkerHeartbeat


@shared_task(bind=True, ignore_result=True, expires=120)
def heartbeat(self, queue):
    """Sent by beat to `queue` every minute: the worker that takes it says it is alive (read by /readyz)."""
    hostname = getattr(self.request, "hostname", None) or socket.gethostname()
    WorkerHeartbeat.objects.update_or_create(queue=queue, defaults={"hostname": hostname[:255], "seen_at": timezone.now()})
