from django.http import HttpRequest

from requests.models import Notification


def notifications(request: HttpRequest) -> dict:
    """The count of unread notifications the navigation shows on every page."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.role_set():
        return {"unread_notifications": 0}
    # Counted with the user's own row when the page started (accounts.backends); a page that changes something
    # counts again after it.
    counted = getattr(user, "unread_notifications", None)
    if counted is not None and request.method in ("GET", "HEAD"):
        return {"unread_notifications": counted}
    return {"unread_notifications": Notification.objects.filter(user=user, read_at__isnull=True).count()}
