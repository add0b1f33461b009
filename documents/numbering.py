"""Official document numbers (số, ký hiệu): one gap-free series per issuing agency, kind of document and year.

A number is taken in the transaction that issues the document: the series row
is locked until that transaction ends, so two documents issued at the same time
never share a number, and a document whose transaction rolls back gives its
number back.
"""

from django.conf import settings
from django.db import transaction
from django.db.models import F

from documents.models import DocumentSeries
from documents.pdf import Heading, Issuer, draft_heading
from governance.models import Agency
from governance.timefmt import local


def agency_symbol(agency: Agency) -> str:
    """The agency's abbreviation in a number ("TTGSĐH"): DOCUMENT_AGENCY_SYMBOLS, else its code in upper case."""
    return settings.DOCUMENT_AGENCY_SYMBOLS.get(agency.code) or agency.code.upper()


def allocate_number(agency: Agency, kind: str, *, year: int) -> str:
    """The next number of `agency`'s `kind` documents in `year`, e.g. "12/BC-TTGSĐH"; call inside the issuing transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("A document number is taken only inside the transaction that issues the document.")
    kind = DocumentSeries.Kind(kind)
    series, _created = DocumentSeries.objects.select_for_update().get_or_create(agency=agency, kind=kind, year=year)
    series.last += 1
    series.save(update_fields=["last"])
    # Decree 30: a number below 10 is written with a leading zero ("01/BC-TTGS").
    return f"{series.last:02d}/{kind.value}-{agency_symbol(agency)}"


def issuer_of(agency: Agency) -> Issuer:
    """The issuer as a header names it: the agency under its parent, or under DOCUMENT_SUPERIOR_BODY (may be empty)."""
    superior = agency.parent.name_vi if agency.parent_id else settings.DOCUMENT_SUPERIOR_BODY
    return Issuer(superior=superior, name=agency.name_vi)


def default_centre() -> Agency | None:
    """The monitoring centre that issues a document nobody's agency does (a report run from the command line, a check
    of a file against every package): the first active one without a parent, else the first active one."""
    centres = Agency.objects.filter(kind=Agency.Kind.MONITORING_CENTRE, is_active=True).select_related("parent")
    # Those without a parent first, on every database (PostgreSQL would sort a null parent last).
    return centres.order_by(F("parent").asc(nulls_first=True), "code").first()


def document_heading(agency: Agency | None, kind: str, *, moment, fallback_number: str) -> Heading:
    """Number a document issued by `agency` (the default centre when None) at `moment`, in the caller's transaction.

    With no agency to issue it at all, the document carries `fallback_number` (the system's own code) unnumbered."""
    date = local(moment).date()
    agency = agency or default_centre()
    if agency is None:
        return draft_heading(fallback_number)
    number = allocate_number(agency, kind, year=date.year)
    return Heading(issuer=issuer_of(agency), number=number, place=settings.DOCUMENT_PLACE, date=date)
