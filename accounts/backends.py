"""Password sign-in for people only."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class PeopleBackend(ModelBackend):
    """Django's model backend, refusing service accounts: a machine identity authenticates with an API token, never with
    a password or a session (a password an administrator set on one by mistake opens nothing)."""

    def user_can_authenticate(self, user):
        return super().user_can_authenticate(user) and not getattr(user, "is_service_account", False)

    def get_user(self, user_id):
        # The signed-in user of each page, read with the agency and area that its navigation, its scope and its
        # ledger events name (one query where three were).
        try:
            user = get_user_model()._default_manager.select_related("agency__area").get(pk=user_id)
        except get_user_model().DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
