from django.http import HttpRequest

from requests.models import Notification


def notifications(request: HttpRequest) -> dict:
    """The count of unread notifications the navigation shows on every page."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.role_set():
        return {"unread_notifications": 0}
    return {"unread_notifications": Notification.objects.filter(user=user, read_at__isnull=True).count()}
