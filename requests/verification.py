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


def verification_token_for_request(footage_request):
    """The link printed on the hand-over record, made while the package is built (before its release exists): it
    names the request, whose release is made once, and the first link generation, so revoking the links revokes it
    too. Valid VERIFY_LINK_DAYS from when it is made."""
    return _signer().sign_object({"q": footage_request.pk, "g": 0})


def verification_url(path):
    """The absolute address of a path of this site (SITE_URL), or None when the site's address is not configured."""
    base = (settings.SITE_URL or "").rstrip("/")
    return f"{base}{path}" if base else None


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
    releases = Release.objects.select_related("footage_request")
    if "q" in claims:  # the link of a hand-over record, made before the release: it names the request
        release = releases.filter(footage_request_id=claims.get("q")).first()
    else:
        release = releases.filter(pk=claims.get("r")).first()
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


# The verification record ---------------------------------------------------------------------------------------

RECORD_SALT = "requests.release-verify-record"
# A check's result can be printed as a record for this long after the check (the page holds the signed result).
RECORD_MINUTES = 30


class RecordRefused(Exception):
    """A verification record asked for with a result this server did not sign, one too old, or one for another
    link."""


def record_token(*, sha256, file_name, size, checked_at, release, matches):
    """The result of one check, signed, for the page to post back when the record is downloaded: the server prints
    only what it signed, so no record can say "match" for a file that did not match. Nothing of the file is kept
    but its name, size and SHA-256."""
    return signing.TimestampSigner(salt=RECORD_SALT).sign_object(
        {
            "h": sha256,
            "n": file_name,
            "s": size,
            "t": checked_at.isoformat(),
            # Named as the page names them (reference, file name), never by row ids the page does not show.
            "r": release.footage_request.reference if release is not None else None,
            # The link generation checked through: revoking the links voids the results checked through them too.
            "g": release.verify_generation if release is not None else None,
            "m": [[match.release.footage_request.reference, match.name, bool(match.held)] for match in matches],
        },
        compress=True,
    )


def record_result(token, *, release):
    """The signed result of a check, read back with the released files it matched; RecordRefused otherwise."""
    from requests.models import ReleaseFile

    try:
        claims = signing.TimestampSigner(salt=RECORD_SALT).unsign_object(token or "", max_age=RECORD_MINUTES * 60)
    except signing.SignatureExpired:
        raise RecordRefused("expired") from None
    except (signing.BadSignature, ValueError, TypeError):
        raise RecordRefused("invalid") from None
    if not isinstance(claims, dict) or claims.get("r") != (release.footage_request.reference if release is not None else None):
        raise RecordRefused("invalid")
    if release is not None and claims.get("g") != release.verify_generation:
        raise RecordRefused("invalid")
    held = {(reference, name): is_held for reference, name, is_held in claims["m"]}
    files = ReleaseFile.objects.filter(sha256=claims["h"]).select_related("release__footage_request")
    if release is not None:
        files = files.filter(release=release)
    matches = [f for f in files.order_by("release__created_at", "name") if (f.release.footage_request.reference, f.name) in held]
    if len(matches) != len(held):  # a matched file no longer on record: print nothing rather than less
        raise RecordRefused("invalid")
    for match in matches:
        match.held = held[(match.release.footage_request.reference, match.name)]
    return {
        "sha256": claims["h"],
        "file_name": claims["n"],
        "size": claims["s"],
        "checked_at": claims["t"],
        "release": release,
        "matches": matches,
        "released_match": released_match(matches),
        "original_match": original_match(matches),
    }


def released_match(matches) -> bool:
    """A match on a file handed over: in a package not held back, and not an original the centre kept."""
    return any(not match.held and match.kind != "original" for match in matches)


def original_match(matches) -> bool:
    """A match on the original of a redacted copy: kept by the centre, never handed over."""
    return any(not match.held and match.kind == "original" for match in matches)
