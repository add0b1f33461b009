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
