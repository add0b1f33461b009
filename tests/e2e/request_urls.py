"""The project's URLs plus the request pages, for tests that run before config/urls.py includes them."""

from django.urls import include, path

from config.urls import urlpatterns as project_urlpatterns

_included = any(getattr(pattern, "namespace", None) == "requests" for pattern in project_urlpatterns)

urlpatterns = list(project_urlpatterns) if _included else [path("requests/", include("requests.urls")), *project_urlpatterns]
