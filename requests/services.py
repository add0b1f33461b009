"""Writes around requests that are not status transitions (those live in requests/workflow.py)."""

from django.utils import timezone

from requests.models import Notification


def notifications_mark_read(*, actor):
    """Mark every unread notification of the actor as read; returns how many."""
    return Notification.objects.filter(user=actor, read_at__isnull=True).update(read_at=timezone.now())
