"""Password sign-in for people only."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db import connections

from governance.models import access_annotations

# What the apps above read with the signed-in user's row on every page, by name: a function giving the expression
# (registered in their AppConfig.ready; requests: the count of unread notifications the navigation shows).
USER_ROW_ANNOTATIONS = {}


class PeopleBackend(ModelBackend):
    """Django's model backend, refusing service accounts: a machine identity authenticates with an API token, never with
    a password or a session (a password an administrator set on one by mistake opens nothing)."""

    def user_can_authenticate(self, user):
        return super().user_can_authenticate(user) and not getattr(user, "is_service_account", False)

    def get_user(self, user_id):
        # The signed-in user of each page, read with the agency and area that its navigation, its scope and its
        # ledger events name, its roles and role groups, and what the apps above ask of it on every page: one query
        # where five were.
        users = get_user_model()._default_manager.select_related("agency__area")
        annotations = {name: expression() for name, expression in USER_ROW_ANNOTATIONS.items()}
        users = users.annotate(**access_annotations(connections[users.db].vendor), **annotations)
        try:
            user = users.get(pk=user_id)
        except get_user_model().DoesNotExist:
            return None
        user.adopt_access(user.access_held, user.access_groups)
        return user if self.user_can_authenticate(user) else None
