"""What happens to a release once it is made: download links, downloads, revocation, purge and verification.

None of it changes the request's status (that is `requests.workflow`'s). Every act and every refusal is a ledger
event.
"""

import datetime as dt
import hashlib
import secrets
import shutil
from pathlib import Path

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import record_event
from audit.models import Action, Outcome
from documents.models import DocumentSeries
from documents.numbering import document_heading
from governance.models import User
from governance.timefmt import file_stamp
from requests import permissions, verification
from requests.locking import lock_request
from requests.models import DownloadGrant, FootageRequest, LegalHold, Release, ReleaseFile
from requests.permissions import WorkflowRefused

# Download links --------------------------------------------------------------

DOWNLOAD_SALT = "requests.release-download"


class DownloadRefused(Exception):
    """A download link was refused; `gone` means expired or purged (410), otherwise unknown (404)."""

    def __init__(self, reason, *, gone=False):
        super().__init__(reason)
        self.reason = reason
        self.gone = gone


def _signer():
    return signing.TimestampSigner(salt=DOWNLOAD_SALT)


def locked_kept_release(actor: User, footage_request: FootageRequest) -> tuple[FootageRequest, Release]:
    """The request, locked, and its release, for a link to it given to or by `actor`: refused where the actor may not
    receive it, or where its package is no longer kept."""
    footage_request = lock_request(footage_request)
    permissions.ensure_can_receive(actor, footage_request)
    release = Release.objects.filter(footage_request=footage_request).first()
    if release is None or release.purged_at is not None:
        raise WorkflowRefused(_("The exported package is no longer kept."))
    return footage_request, release


@transaction.atomic(durable=True)
def release_link_issue(
    *, actor: User, footage_request: FootageRequest, http_request: HttpRequest | None = None
) -> tuple[DownloadGrant, str]:
    """Issue the actor a personal, expiring, counted download link for the request's release. Returns (grant, token)."""
    footage_request, release = locked_kept_release(actor, footage_request)
    grant = DownloadGrant.objects.create(
        release=release,
        user=actor,
        expires_at=timezone.now() + dt.timedelta(hours=settings.RELEASE_LINK_HOURS),
        max_downloads=settings.RELEASE_MAX_DOWNLOADS,
    )
    record_event(
        actor=actor,
        action=Action.RELEASE_LINK,
        target=footage_request,
        data={"release": release.pk, "grant": grant.pk, "expires_at": grant.expires_at, "max_downloads": grant.max_downloads},
        http_request=http_request,
    )
    return grant, download_token(grant)


def download_token(grant: DownloadGrant) -> str:
    return _signer().sign_object({"g": grant.pk, "u": grant.user_id, "r": grant.release_id})


def _refuse(actor, action, reason, *, footage_request=None, data=None, http_request=None):
    with transaction.atomic(durable=True):
        record_event(
            actor=actor,
            action=action,
            target=footage_request,
            data={"reason": reason, **(data or {})},
            http_request=http_request,
            outcome=Outcome.DENIED,
        )


def package_download_name(release: Release) -> str:
    """The package's name as downloaded: its request and its release time in Vietnam time with the offset.

    "YC-2026-000123_20261203T141500+0700.zip": the same clock as every page and the hand-over record.
    """
    return f"{release.footage_request.reference}_{file_stamp(release.created_at)}.zip"


def release_download_open(
    *, actor: User, token: str, file_name: str | None = None, http_request: HttpRequest | None = None
) -> tuple[Release, str | None]:
    """Check a download link and count the download. Returns (release, file name inside the package or None).

    Every refusal (tampered, someone else's, revoked, used up, expired,
    purged) is a ledger event before DownloadRefused is raised.
    """
    expired = False
    try:
        claims = _signer().unsign_object(token, max_age=dt.timedelta(hours=settings.RELEASE_LINK_HOURS))
    except signing.SignatureExpired:
        # Genuine but too old: read the claims without the age check to name the grant in the ledger.
        expired = True
        claims = _signer().unsign_object(token)
    except signing.BadSignature:
        _refuse(actor, Action.RELEASE_DOWNLOAD_REFUSED, "tampered", data={"token": token[:200]}, http_request=http_request)
        raise DownloadRefused("tampered") from None
    if not isinstance(claims, dict):
        claims = {}
    refused = None
    with transaction.atomic(durable=True):
        grant = (
            DownloadGrant.objects.select_for_update()
            .select_related("release__footage_request")
            .filter(pk=claims.get("g"), release_id=claims.get("r"))
            .first()
        )
        footage_request = grant.release.footage_request if grant else None
        now = timezone.now()
        if grant is None or grant.user_id != claims.get("u"):
            refused = ("unknown link", False)
        elif expired or grant.expires_at <= now:
            refused = ("expired", True)
        elif grant.user_id != actor.pk:
            refused = ("someone else's link", False)
        elif not permissions.can_receive(actor, footage_request):
            refused = ("no longer a recipient", False)
        elif grant.revoked_at is not None:
            refused = ("revoked", True)
        elif grant.downloads >= grant.max_downloads:
            refused = ("download limit reached", True)
        elif grant.release.purged_at is not None:
            refused = ("purged", True)
        elif (
            file_name
            # A file of the package only: the originals of redacted copies stay with the centre.
            and not ReleaseFile.objects.filter(release=grant.release, name=file_name)
            .exclude(kind__in=[ReleaseFile.Kind.PACKAGE, ReleaseFile.Kind.ORIGINAL])
            .exists()
        ):
            refused = ("unknown file", False)
        if refused is None:
            grant.downloads += 1
            grant.save(update_fields=["downloads"])
            record_event(
                actor=actor,
                action=Action.RELEASE_DOWNLOAD,
                target=footage_request,
                data={
                    "release": grant.release_id,
                    "grant": grant.pk,
                    "download": grant.downloads,
                    "file": file_name or "package",
                },
                http_request=http_request,
            )
            return grant.release, file_name
    reason, gone = refused
    action = Action.RELEASE_LINK_EXPIRED if reason == "expired" else Action.RELEASE_DOWNLOAD_REFUSED
    _refuse(
        actor,
        action,
        reason,
        footage_request=footage_request,
        data={"grant": grant.pk if grant else claims.get("g")},
        http_request=http_request,
    )
    raise DownloadRefused(reason, gone=gone)


@transaction.atomic(durable=True)
def release_revoke(
    *, actor: User, footage_request: FootageRequest, reason: str = "", http_request: HttpRequest | None = None
) -> int:
    """A custodian revokes every live download link of the request's release."""
    footage_request = lock_request(footage_request)
    permissions.ensure_can_revoke(actor, footage_request)
    live = DownloadGrant.objects.filter(release__footage_request=footage_request, revoked_at__isnull=True)
    grants = list(live.values_list("pk", flat=True))
    live.update(revoked_at=timezone.now(), revoked_by=actor)
    # The links given to the person of a person's own request go with them.
    from requests.models import SubjectLink

    subject_live = SubjectLink.objects.filter(release__footage_request=footage_request, revoked_at__isnull=True)
    subject_links = list(subject_live.values_list("pk", flat=True))
    subject_live.update(revoked_at=timezone.now())
    record_event(
        actor=actor,
        action=Action.RELEASE_REVOKE,
        target=footage_request,
        data={"grants": grants, "reason": reason, **({"subject_links": subject_links} if subject_links else {})},
        http_request=http_request,
    )
    return len(grants) + len(subject_links)


# Retention -------------------------------------------------------------------


def release_purge_expired(*, now: dt.datetime | None = None) -> int:
    """Delete exported packages past their retention, except under an active legal hold. Returns how many."""
    now = now or timezone.now()
    held = LegalHold.objects.filter(released_at__isnull=True).values("footage_request_id")
    due = Release.objects.filter(purged_at__isnull=True, purge_after__lte=now).exclude(footage_request_id__in=held)
    purged = 0
    for pk in list(due.values_list("pk", flat=True)):
        with transaction.atomic(durable=True):
            release = Release.objects.select_for_update().select_related("footage_request").get(pk=pk)
            if (
                release.purged_at is not None
                or LegalHold.objects.filter(footage_request_id=release.footage_request_id, released_at__isnull=True).exists()
            ):
                continue
            release.purged_at = timezone.now()
            release.save(update_fields=["purged_at"])
            record_event(
                actor=None,
                action=Action.RELEASE_PURGE,
                target=release.footage_request,
                data={"release": release.pk, "package_sha256": release.package_sha256, "purge_after": release.purge_after},
            )
            directory = Path(release.package_path).parent
            transaction.on_commit(lambda directory=directory: shutil.rmtree(directory, ignore_errors=True))
            purged += 1
    return purged


# Verification ----------------------------------------------------------------


@transaction.atomic(durable=True)
def release_verify(
    *, actor: User | None, sha256: str, release: Release | None = None, http_request: HttpRequest | None = None
) -> list[ReleaseFile]:
    """Which released files have this SHA-256 (within one release when given); the check is a ledger event.

    Without an account (actor None) a check that matches nothing is recorded once per address and minute only
    (requests.verification): anyone holding a link must not be able to grow the ledger at will.
    """
    sha256 = sha256.strip().lower()
    matches = ReleaseFile.objects.filter(sha256=sha256).select_related("release__footage_request")
    if release is not None:
        matches = matches.filter(release=release)
    matches = list(matches.order_by("release__created_at", "name"))
    if actor is None and not matches and not verification.first_unmatched_in_window(http_request):
        return matches
    record_event(
        actor=actor,
        action=Action.RELEASE_VERIFY,
        target=release.footage_request if release is not None else None,
        outcome=Outcome.SUCCESS if matches else Outcome.NO_MATCH,
        data={
            "sha256": sha256,
            "matches": [[m.release.footage_request.reference, m.name] for m in matches],
            **({"unmatched_recorded": "first of the minute from this address"} if actor is None and not matches else {}),
        },
        http_request=http_request,
    )
    return matches


@transaction.atomic(durable=True)
def release_verify_throttled(*, release: Release, http_request: HttpRequest) -> None:
    """Checks without an account over the limit are refused; the first refusal of each minute is a ledger event."""
    if not verification.first_refusal_in_window(http_request):
        return
    record_event(
        actor=None,
        action=Action.RELEASE_VERIFY_THROTTLED,
        target=release.footage_request,
        data={"release": release.pk, "limit_per_minute": settings.VERIFY_CHECKS_PER_MINUTE},
        http_request=http_request,
    )


def _issuing_centre(result):
    """The agency that issues a check's record: the one whose custodian exported the package checked (or matched),
    else the centre managing its cameras; None (the default centre) for a check against every package that matched
    nothing."""
    release = result["release"] or next((match.release for match in result["matches"]), None)
    return release.footage_request.issuing_centre() if release is not None else None


@transaction.atomic(durable=True)
def release_verify_record(*, actor: User | None, result: dict, http_request: HttpRequest | None = None) -> bytes:
    """The PDF record of a check (`verification.record_result`, a result the server signed); making it is a ledger
    event naming the record and the PDF's SHA-256, so that a printed record can be traced."""
    from documents.signing import sign_pdf
    from requests.verification_record import render_verification_record

    # Each record made is its own document: its own number, which the ledger ties to the PDF's SHA-256.
    record_id = secrets.token_hex(8).upper()
    # Numbered in this transaction, by the centre that released the package: a record that fails gives its number back.
    heading = document_heading(
        _issuing_centre(result), DocumentSeries.Kind.VERIFICATION, moment=timezone.now(), fallback_number=record_id
    )
    # Issued by the centre like its other records: the organisation's PDF signature, before the hash is taken.
    pdf = sign_pdf(
        render_verification_record(result=result, record_id=record_id, heading=heading),
        reason=f"Biên bản kiểm tra tệp dữ liệu {heading.number}",
    )
    release = result["release"]
    record_event(
        actor=actor,
        action=Action.RELEASE_VERIFY_RECORD,
        target=release.footage_request if release is not None else None,
        outcome=Outcome.SUCCESS if result["matches"] else Outcome.NO_MATCH,
        data={
            "record": record_id,
            "number": heading.number,
            "record_sha256": hashlib.sha256(pdf).hexdigest(),
            "sha256": result["sha256"],
            "file_name": result["file_name"],
            "size": result["size"],
            "checked_at": result["checked_at"],
            "matches": [[m.release.footage_request.reference, m.name] for m in result["matches"]],
            "released_match": result["released_match"],
            "original_match": result.get("original_match", False),
        },
        http_request=http_request,
    )
    return pdf


@transaction.atomic(durable=True)
def release_verification_revoke(
    *, actor: User, footage_request: FootageRequest, reason: str = "", http_request: HttpRequest | None = None
) -> Release:
    """Revoke every verification link of the request's release: links issued before no longer open."""
    footage_request = lock_request(footage_request)
    permissions.ensure_can_revoke_verification(actor, footage_request)
    release = Release.objects.select_for_update().filter(footage_request=footage_request).first()
    if release is None:
        raise WorkflowRefused(_("This request has no release."))
    release.verify_generation += 1
    release.verify_revoked_at = timezone.now()
    release.save(update_fields=["verify_generation", "verify_revoked_at"])
    record_event(
        actor=actor,
        action=Action.RELEASE_VERIFY_REVOKE,
        target=footage_request,
        data={"release": release.pk, "generation": release.verify_generation, "reason": reason},
        http_request=http_request,
    )
    return release
