from celery import shared_task
from django.conf import settings
from django.utils import translation


@shared_task(acks_late=True)
def deliver_webhook(delivery_id):
    """Send one webhook notification (after the transaction that wrote it has committed). Safe to receive twice or
    early: only a due delivery that no other worker holds is sent; a failure is recorded and retried later."""
    from api.webhooks import deliver

    with translation.override(settings.LANGUAGE_CODE):
        return deliver(delivery_id)


@shared_task(acks_late=True)
def resume_webhooks():
    """Dispatch again the pending notifications whose message was lost (beat, every few minutes)."""
    from api.webhooks import resume_lost

    return resume_lost()
