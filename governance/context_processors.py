from django.conf import settings


def shell(request):
    """What the navigation needs on every page: the user's roles and the languages."""
    user = getattr(request, "user", None)
    roles = user.role_set() if user is not None and user.is_authenticated else frozenset()
    return {
        "user_roles": roles,
        "is_auditor_or_admin": bool(roles & {"auditor", "administrator"}) or bool(user and user.is_superuser),
        "language_choices": settings.LANGUAGES,
    }
