"""Password sign-in for people only."""

from django.contrib.auth.backends import ModelBackend


class PeopleBackend(ModelBackend):
    """Django's model backend, refusing service accounts: a machine identity authenticates with an API token, never with
    a password or a session (a password an administrator set on one by mistake opens nothing)."""

    def user_can_authenticate(self, user):
        return super().user_can_authenticate(user) and not getattr(user, "is_service_account", False)
