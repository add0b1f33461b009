from django.urls import include, path
from django_otp_webauthn import views as webauthn_views

from accounts import views
from accounts.webauthn import WebAuthnCatalog

app_name = "accounts"

# django-otp-webauthn's ceremonies under their own namespace (its template tags reverse "otp_webauthn:..."), the
# two that complete a ceremony replaced by ours, which write the ledger. No passwordless sign-in: the password
# always comes first (OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN is off).
webauthn_patterns = (
    [
        path(
            "registration/begin/",
            webauthn_views.BeginCredentialRegistrationView.as_view(),
            name="credential-registration-begin",
        ),
        path(
            "registration/complete/",
            views.WebAuthnRegistrationComplete.as_view(),
            name="credential-registration-complete",
        ),
        path(
            "authentication/begin/",
            webauthn_views.BeginCredentialAuthenticationView.as_view(),
            name="credential-authentication-begin",
        ),
        path(
            "authentication/complete/",
            views.WebAuthnAuthenticationComplete.as_view(),
            name="credential-authentication-complete",
        ),
        path("jsi18n/", WebAuthnCatalog.as_view(), name="js-i18n-catalog"),
    ],
    "otp_webauthn",
)

urlpatterns = [
    path("second-factor/", views.second_factor, name="second-factor"),
    path("second-factor/setup/", views.setup, name="setup"),
    path("second-factor/app/", views.totp_new, name="totp-new"),
    path("second-factor/app/<int:pk>/", views.totp_confirm, name="totp-confirm"),
    path("second-factor/app/<int:pk>/qr.png", views.totp_qr, name="totp-qr"),
    path("second-factor/backup-codes/", views.backup_new, name="backup-new"),
    path("second-factor/<str:kind>/<int:pk>/remove/", views.device_remove, name="device-remove"),
    path("security/", views.security, name="security"),
]

# Mounted by config/urls.py at accounts/webauthn/.
webauthn_urls = include(webauthn_patterns, namespace="otp_webauthn")
