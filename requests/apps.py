from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _forget_permission_ids(**kwargs):
    # A flush or a migration recreates permissions with new ids.
    from requests.selectors import _permission_id

    _permission_id.cache_clear()


class RequestsConfig(AppConfig):
    name = "requests"
    verbose_name = _("Footage requests")

    def ready(self):
        post_migrate.connect(_forget_permission_ids, dispatch_uid="requests_forget_permission_ids")
        # The navigation's count of unread notifications is read with the signed-in user's row.
        from accounts.backends import USER_ROW_ANNOTATIONS
        from requests.selectors import unread_count

        USER_ROW_ANNOTATIONS["unread_notifications"] = unread_count
