from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from accounts.urls import webauthn_urls
from accounts.views import SigninView
from requests.home import home

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/login/", SigninView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/webauthn/", webauthn_urls),
    path("accounts/", include("accounts.urls")),
    path("admin/", admin.site.urls),
    path("api/", include("api.urls")),
    path("audit/", include("oversight.urls")),
    path("requests/", include("requests.urls")),
    path("", include("operations.urls")),
    path("", home, name="home"),
    path("", include("governance.urls")),
]
handler404 = "config.handlers.not_found"
