"""Checking a file against a release without an account: the link, its expiry and revocation, and the throttle.

A release's verification link is signed, names the release and the link
generation, and lasts VERIFY_LINK_DAYS; revoking the links raises the
release's generation, so every link issued before stops opening.

Checks made without signing in are limited per address (VERIFY_CHECKS_PER_MINUTE
in each clock minute) and are not each a ledger event: a check that matches a
released file is recorded (it is evidence that a court had the file
checked), a check that matches nothing is recorded once per address and
minute, and going over the limit is recorded once per address and minute.
The counts live in Django's cache (CACHE_URL): set a shared one (Redis)
when several web processes serve.
"""

import time

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.http import Http404

from audit.services import client_address

SALT = "requests.release-verify"
WINDOW_SECONDS = 60


class VerificationLinkGone(Exception):
    """A genuine verification link that no longer opens: `reason` is "expired" or "revoked"."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def _signer():
    return signing.TimestampSigner(salt=SALT)


def verification_token(release):
    """A link for checking files against this release, valid VERIFY_LINK_DAYS unless the links are revoked."""
    return _signer().sign_object({"r": release.pk, "g": release.verify_generation})


def release_for_token(token):
    """The release a verification link was made for; Http404 for a link that is not ours, VerificationLinkGone for
    one that expired or was revoked."""
    from requests.models import Release

    try:
        claims = _signer().unsign_object(token, max_age=settings.VERIFY_LINK_DAYS * 86400)
        expired = False
    except signing.SignatureExpired:
        claims = _signer().unsign_object(token)
        expired = True
    except (signing.BadSignature, ValueError, TypeError):
        raise Http404 from None
    if not isinstance(claims, dict):
        raise Http404
    release = Release.objects.select_related("footage_request").filter(pk=claims.get("r")).first()
    if release is None:
        raise Http404
    if expired:
        raise VerificationLinkGone("expired")
    # Links made before generations existed carry none: they belong to generation 0.
    if claims.get("g", 0) != release.verify_generation:
        raise VerificationLinkGone("revoked")
    return release


def _window():
    return int(time.time() // WINDOW_SECONDS)


def _first_in_window(kind, address):
    """True for the first call of this kind from this address in the current window."""
    return cache.add(f"verify:{kind}:{address}:{_window()}", 1, timeout=WINDOW_SECONDS * 2)


def anonymous_check_allowed(http_request):
    """Count one check from the request's address; False once the address is over the limit in this minute."""
    key = f"verify:count:{client_address(http_request)}:{_window()}"
    cache.add(key, 0, timeout=WINDOW_SECONDS * 2)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=WINDOW_SECONDS * 2)
        count = 1
    return count <= settings.VERIFY_CHECKS_PER_MINUTE


def first_refusal_in_window(http_request):
    return _first_in_window("refused", client_address(http_request))


def first_unmatched_in_window(http_request):
    return _first_in_window("unmatched", client_address(http_request))
