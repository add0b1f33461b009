"""Security keys and passkeys (django-otp-webauthn): the texts its script shows.

The package's script asks a JavaScript catalogue for its texts; it ships no
Vietnamese, so this catalogue answers from the application's own one.
"""

from django.utils.translation import gettext
from django.utils.translation import gettext_noop as N_
from django.views.i18n import JavaScriptCatalog

SCRIPT_TEXTS = [
    N_("An error occurred during registration."),
    N_("Finishing registration..."),
    N_("Register a Passkey"),
    N_("Registering..."),
    N_("Registration aborted or not allowed."),
    N_("Registration aborted."),
    N_("Registration failed. A server error occurred."),
    N_("Registration failed. A technical problem occurred that prevents you from registering a Passkey for this site."),
    N_("Registration failed. An unknown error occurred."),
    N_("Registration failed. The server was unable to verify this passkey."),
    N_("Registration failed. Unable to fetch registration options from server."),
    N_("Registration failed. You most likely already have a Passkey registered for this site."),
    N_("Registration successful!"),
    N_("An error occurred during verification."),
    N_("Finishing verification..."),
    N_("Verification aborted."),
    N_("Verification canceled or not allowed."),
    N_("Verification failed. A server error occurred."),
    N_("Verification failed. An unknown error occurred."),
    N_("Verification failed. An unknown server error occurred."),
    N_("Verification failed. Could not retrieve parameters from the server."),
    N_("Verification successful!"),
    N_("Verify with Passkey"),
    N_("Verifying..."),
]


class WebAuthnCatalog(JavaScriptCatalog):
    packages = ["django_otp_webauthn"]

    def get_catalog(self):
        return {text: gettext(text) for text in SCRIPT_TEXTS}
