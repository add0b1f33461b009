"""A person's request for footage of themselves (yêu cầu của chủ thể dữ liệu, Law 91/2025/QH15), filed at the
centre's counter.

The official at the counter checks the person's identity document and files the request for them under the legal
basis marked for it (`LegalBasis.data_subject_access`): the place, the time window, the cameras, and how to recognise
the person. The same review, approval, export and ledger apply; the centre's own reviewers and approvers decide it,
never the official who filed it (`requests.permissions`). The release is always a redacted copy: every face and
region is blurred except the person's own, which a custodian marks as the region left visible.

The document's number is never stored or written to the ledger: only its keyed hash (`document_digest`), with which
the person can be recognised again when they come back for the footage.
"""

import re

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from audit import record_event
from audit.models import Action
from governance.models import Agency, LegalBasis, Role, User
from requests.models import FootageRequest, SubjectAccess
from requests.permissions import WorkflowRefused
from requests.redactions import redaction_required_by_rule

# What each document's number looks like once spaces and dashes are taken out.
DOCUMENT_PATTERNS = {
    SubjectAccess.Document.CITIZEN_ID: re.compile(r"\d{12}"),
    SubjectAccess.Document.PASSPORT: re.compile(r"[A-Z]\d{7,8}"),
    SubjectAccess.Document.OTHER: re.compile(r"[A-Z0-9]{6,20}"),
}


def normalised_document(document_type: str, number: str) -> str:
    """The number as kept for hashing (no spaces or dashes, capitals); ValidationError when it is not one."""
    value = re.sub(r"[\s\-.]", "", number or "").upper()
    pattern = DOCUMENT_PATTERNS.get(document_type)
    if pattern is None:
        raise ValidationError(_("Choose the kind of identity document."))
    if not pattern.fullmatch(value):
        if document_type == SubjectAccess.Document.CITIZEN_ID:
            raise ValidationError(_("A citizen identity card number has 12 digits."))
        if document_type == SubjectAccess.Document.PASSPORT:
            raise ValidationError(_("A passport number is a letter followed by 7 or 8 digits."))
        raise ValidationError(_("An identity document number has 6 to 20 letters and digits."))
    return value


def document_digest(document_type: str, number: str) -> str:
    """The keyed hash kept of the document's number (HMAC-SHA256 under the installation's secret key): the same
    document always gives the same digest here, and the number cannot be read back from it, nor found by trying
    every number without the key."""
    value = normalised_document(document_type, number)
    return salted_hmac("requests.subject-document", f"{document_type}:{value}", algorithm="sha256").hexdigest()


def subject_basis() -> LegalBasis | None:
    """The legal basis of the regulation in force for a person's request for their own footage."""
    from governance.selectors import regulation_in_force

    version = regulation_in_force()
    if version is None:
        return None
    today = timezone.localdate()
    return (
        version.legal_bases.filter(data_subject_access=True, valid_from__lte=today)
        .exclude(valid_to__lt=today)
        .order_by("-valid_from", "code")
        .first()
    )


def can_file_for_subject(user: User) -> bool:
    """The custodians of a monitoring centre (its operating staff) file at its counter."""
    return (
        user.is_authenticated
        and user.agency is not None
        and user.agency.kind == Agency.Kind.MONITORING_CENTRE
        and user.has_role(Role.CUSTODIAN)
        and subject_basis() is not None
    )


@transaction.atomic(durable=True)
def subject_request_file(
    *,
    actor: User,
    person_name: str,
    document_type: str,
    document_number: str,
    place: str,
    items: list[dict],
    appearance: str = "",
    contact: str = "",
    delivery: str = SubjectAccess.Delivery.PREMISES,
    counter_number: str = "",
    http_request: HttpRequest | None = None,
) -> FootageRequest:
    """File and submit, in one transaction, a person's request for footage of themselves."""
    from requests import workflow

    if not can_file_for_subject(actor):
        raise WorkflowRefused(_("Only custodians of a monitoring centre file a person's request at its counter."))
    basis = subject_basis()
    digest = document_digest(document_type, document_number)
    if not person_name.strip() or not place.strip():
        raise ValidationError(_("Give the person's name and where they were."))
    today = timezone.localdate()
    footage_request = workflow.request_create(
        actor=actor,
        items=items,
        http_request=http_request,
        legal_basis=basis,
        letter_number=counter_number.strip() or _("Filed at the counter"),
        letter_date=today,
        purpose=_("A person asks for footage of themselves at %(place)s (data subject's request).") % {"place": place.strip()},
        for_data_subject=True,
    )
    access = SubjectAccess.objects.create(
        footage_request=footage_request,
        person_name=person_name.strip(),
        document_type=document_type,
        document_digest=digest,
        checked_by=actor,
        place=place.strip(),
        appearance=appearance.strip(),
        contact=contact.strip(),
        delivery=delivery,
    )
    record_event(
        actor=actor,
        action=Action.SUBJECT_REQUEST_FILE,
        target=footage_request,
        # Who checked which kind of document: never its number, nor its digest.
        data={"document_type": document_type, "checked_by": actor.username, "delivery": delivery, "place": access.place},
        http_request=http_request,
    )
    redaction_required_by_rule(
        footage_request,
        reason=_("A data subject's request: everyone but the person asking is blurred."),
        facts={"required_by": "data subject's request"},
        http_request=http_request,
    )
    return workflow.request_submit(actor=actor, footage_request=footage_request, http_request=http_request)


# A personal link: opened with the identity document checked at the counter -------------------------------------------

# Wrong document numbers a link tolerates before it no longer opens (each is a ledger event).
SUBJECT_LINK_MAX_FAILURES = 5
SUBJECT_LINK_SALT = "requests.subject-link"


class SubjectLinkRefused(Exception):
    """The link does not open; `reason` is the ledger's code, `gone` when it never will again."""

    def __init__(self, reason, *, gone=False):
        super().__init__(reason)
        self.reason, self.gone = reason, gone


@transaction.atomic(durable=True)
def subject_link_issue(*, actor: User, footage_request: FootageRequest, http_request: HttpRequest | None = None) -> str:
    """A custodian of the centre gives the person a link to their redacted copy; returns its token."""
    import datetime as dt

    from django.conf import settings
    from django.core import signing

    from requests.models import SubjectLink
    from requests.releases import locked_kept_release

    # Whose request it is never changes once filed.
    if not footage_request.for_data_subject:
        raise WorkflowRefused(_("Only a person's request for their own footage is given a personal link."))
    footage_request, release = locked_kept_release(actor, footage_request)
    link = SubjectLink.objects.create(
        release=release,
        issued_by=actor,
        expires_at=timezone.now() + dt.timedelta(hours=settings.RELEASE_LINK_HOURS),
        max_downloads=settings.RELEASE_MAX_DOWNLOADS,
    )
    record_event(
        actor=actor,
        action=Action.RELEASE_LINK,
        target=footage_request,
        data={"release": release.pk, "subject_link": link.pk, "expires_at": link.expires_at, "max_downloads": link.max_downloads},
        http_request=http_request,
    )
    return signing.TimestampSigner(salt=SUBJECT_LINK_SALT).sign_object({"l": link.pk, "r": release.pk})


def _refuse_link(reason, *, footage_request=None, data=None, http_request=None, gone=False):
    with transaction.atomic(durable=True):
        from audit.models import Outcome

        record_event(
            actor=None,
            action=Action.RELEASE_DOWNLOAD_REFUSED,
            target=footage_request,
            data={"reason": reason, "by": "data subject's link", **(data or {})},
            outcome=Outcome.DENIED,
            http_request=http_request,
        )
    raise SubjectLinkRefused(reason, gone=gone)


def subject_link_open(*, token: str, document_type: str, document_number: str, http_request: HttpRequest | None = None):
    """The release the link opens once the person's document matches the one checked at the counter; a download in
    the ledger. Every refusal is a ledger event; wrong numbers count against the link."""
    import hmac

    from django.core import signing

    from requests.models import SubjectLink

    try:
        claims = signing.TimestampSigner(salt=SUBJECT_LINK_SALT).unsign_object(token)
        link_id, release_id = int(claims["l"]), int(claims["r"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        _refuse_link("tampered", http_request=http_request, gone=True)
    try:
        digest = document_digest(document_type, document_number)
    except ValidationError:
        digest = ""
    with transaction.atomic(durable=True):
        link = (
            # Only the link's row is locked (PostgreSQL locks no row of the optional side of a join).
            SubjectLink.objects.select_for_update(of=("self",))
            .select_related("release__footage_request__subject_access")
            .filter(pk=link_id, release_id=release_id)
            .first()
        )
        if link is None:
            refusal = ("unknown link", True, None)
        else:
            release = link.release
            footage_request = release.footage_request
            access = footage_request.subject_access
            refusal = None
            if link.revoked_at is not None:
                refusal = ("revoked", True, footage_request)
            elif link.expires_at <= timezone.now():
                refusal = ("expired", True, footage_request)
            elif link.failed_checks >= SUBJECT_LINK_MAX_FAILURES:
                refusal = ("too many wrong documents", True, footage_request)
            elif link.downloads >= link.max_downloads:
                refusal = ("download limit reached", True, footage_request)
            elif release.purged_at is not None:
                refusal = ("purged", True, footage_request)
            elif not (digest and document_type == access.document_type and hmac.compare_digest(digest, access.document_digest)):
                link.failed_checks += 1
                link.save(update_fields=["failed_checks"])
                refusal = ("identity not matched", False, footage_request)
        if refusal is None:
            link.downloads += 1
            link.save(update_fields=["downloads"])
            record_event(
                actor=None,
                action=Action.RELEASE_DOWNLOAD,
                target=footage_request,
                data={"release": release.pk, "subject_link": link.pk, "by": "data subject's link", "downloads": link.downloads},
                http_request=http_request,
            )
            return release
    reason, gone, footage_request = refusal
    _refuse_link(
        reason,
        footage_request=footage_request,
        data={"subject_link": link_id},
        http_request=http_request,
        gone=gone,
    )
