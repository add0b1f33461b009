"""Oversight reports and request dossiers: asked for, built, hashed into the ledger, downloaded.

A period report is asked for on the auditor pages (a Report row and a ledger
event, then a task after commit) or built at once by `audit_report`. Either
way the files are written next to their final place and moved in only when
complete, and the SHA-256 of each lands in the ledger with the report's id:
anyone holding the PDF can check it against the ledger.
"""

import datetime as dt
import hashlib
import io
import os
import tempfile
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from audit import record_event
from audit.models import Action, AuditEvent, Outcome
from audit.selectors import current_signing_key, signing_keys_for_range
from documents.models import DocumentSeries
from documents.numbering import document_heading
from documents.pdf import Heading
from documents.signing import sign_pdf, sign_pdf_file
from governance.models import Agency, Area, LegalBasis, User
from governance.timefmt import file_stamp
from oversight.models import Report
from oversight.permissions import ensure_can_report, report_jurisdiction
from oversight.report_csv import write_report_csv
from oversight.report_data import ReportScope, collect
from oversight.report_pdf import render_dossier, render_period_report
from requests.models import FootageRequest
from requests.selectors import FiledScope, filed_scope

FORMATS = ("pdf", "csv")


def sha256_of(path):
    """The SHA-256 of a file, read in blocks (a report's PDF and CSV zip, a bundle's ZIP)."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while block := stream.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def scope_of(report: Report) -> ReportScope:
    return ReportScope(
        date_from=report.date_from,
        date_to=report.date_to,
        agency=report.agency,
        area=report.area,
        legal_basis=report.legal_basis,
        jurisdiction=report.jurisdiction,
    )


def _scope_data(report):
    return {
        "from": report.date_from,
        "to": report.date_to,
        "agency": report.agency.code if report.agency else None,
        "area": report.area.path if report.area else None,
        "legal_basis": report.legal_basis.code if report.legal_basis else None,
        "jurisdiction": report.jurisdiction.path if report.jurisdiction else None,
    }


def report_request(
    *,
    actor: User,
    date_from: dt.date,
    date_to: dt.date,
    agency: Agency | None = None,
    area: Area | None = None,
    legal_basis: LegalBasis | None = None,
    http_request: HttpRequest | None = None,
) -> Report:
    """Record a report request and queue its build after commit; refused (and logged) outside the actor's jurisdiction."""
    from oversight.permissions import ReportRefused

    try:
        ensure_can_report(actor, agency=agency, area=area, legal_basis=legal_basis)
    except ReportRefused as refusal:
        with transaction.atomic(durable=True):
            record_event(
                actor=actor,
                action=Action.REPORT_REQUEST,
                outcome=Outcome.DENIED,
                data={
                    "from": date_from,
                    "to": date_to,
                    "agency": agency.code if agency else None,
                    "area": area.path if area else None,
                    "reason": str(refusal),
                },
                http_request=http_request,
            )
        raise
    from oversight.tasks import report_build_task

    with transaction.atomic(durable=True):
        report = Report.objects.create(
            requested_by=actor,
            date_from=date_from,
            date_to=date_to,
            agency=agency,
            area=area,
            legal_basis=legal_basis,
            jurisdiction=report_jurisdiction(actor),
        )
        record_event(
            actor=actor, action=Action.REPORT_REQUEST, target=report, data=_scope_data(report), http_request=http_request
        )
        # robust: with the broker down the report stays waiting and is dispatched again later
        # (oversight.tasks.resume_waiting_reports), and the inspector is not shown an error for a recorded request.
        transaction.on_commit(lambda: report_build_task.delay(report.pk), robust=True)
    return report


def progress_writer(model, pk):
    """The progress callback of a task building one row of `model` (a report, a bundle): its percent and stage."""

    def step(percent, stage):
        model.objects.filter(pk=pk).update(progress=percent, stage=stage)

    return step


def build_files(
    scope: ReportScope,
    *,
    code: str,
    author: str,
    formats: Sequence[str] = FORMATS,
    directory: str | os.PathLike,
    progress: Callable[[int, str], None] | None = None,
    now: dt.datetime | None = None,
    heading: Heading | None = None,
    signer: str = "",
) -> tuple[dict[str, tuple[Path, str]], int, int]:
    """Write report.pdf and/or report-csv.zip into `directory`; returns {format: (path, sha256)} and the page count.

    `heading` is the report's number, issuer and date (`issue_report`), `signer` the name it is signed with."""
    data = collect(scope, now=now, progress=progress)
    if len(formats) > 1:
        # Both files list the same releases: read the register once.
        rows = list(data.register_rows())
        data.register_rows = lambda: iter(rows)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    built, pages = {}, 0
    targets = {"pdf": directory / f"{code}.pdf", "csv": directory / f"{code}-csv.zip"}
    for kind in formats:
        target = targets[kind]
        # Written beside the target and renamed: a reader never sees half a report.
        handle, partial = tempfile.mkstemp(dir=directory, prefix=f".{code}-", suffix=".part")
        try:
            with os.fdopen(handle, "wb") as out:
                if kind == "pdf":
                    pages = render_period_report(
                        data, out, code=code, author=author, progress=progress, heading=heading, signer=signer
                    )
                else:
                    if progress:
                        progress(85, "csv")
                    write_report_csv(data, out, code=code)
            if kind == "pdf":
                # The organisation's PDF signature, before the file's hash is taken.
                sign_pdf_file(partial, reason=f"Báo cáo {code}")
            os.replace(partial, target)
        except BaseException:
            Path(partial).unlink(missing_ok=True)
            raise
        built[kind] = (target, sha256_of(target))
    return built, pages, data.register_size


def issue_report(report: Report) -> Heading:
    """Number the report, in the transaction that starts its build: the agency of whoever ordered it issues it (the
    monitoring centre for the command line's). The Report has no field for the number: it is printed in the PDF and
    recorded in the ledger with the report's hash."""
    user = report.requested_by
    agency = user.agency if user is not None and user.agency_id else None
    return document_heading(agency, DocumentSeries.Kind.REPORT, moment=timezone.now(), fallback_number=report.code)


def _signer(user):
    return user.display_name if user is not None else ""


def _author(user):
    if user is None:
        return "Quản trị hệ thống (dòng lệnh)"
    agency = user.agency.name_vi if user.agency_id else ""
    return f"{user.display_name} — {agency}" if agency else user.display_name


def _record_failure(report, error, *, number=None):
    """A build that broke: the report says so, and so does the ledger (nothing is left "being built" for ever), with
    the document number the build had taken, so that a number missing from the register is accounted for."""
    reason = f"{type(error).__name__}: {error}"
    extra = {"number": number} if number else {}
    with transaction.atomic(durable=True):
        Report.objects.filter(pk=report.pk).update(status=Report.Status.FAILED, error=reason, finished_at=timezone.now())
        record_event(
            actor=report.requested_by,
            action=Action.REPORT_GENERATE,
            target=report,
            outcome=Outcome.FAILURE,
            data={**_scope_data(report), "error": reason, **extra},
        )


def report_build(report_id: int) -> Report:
    """Build a requested report (the task's body). Runs once: a redelivered task finds it ready and stops."""
    with transaction.atomic(durable=True):
        report = Report.objects.select_for_update().get(pk=report_id)
        if report.status == Report.Status.READY:
            return report
        report.status, report.progress, report.stage, report.error = Report.Status.RUNNING, 1, "start", ""
        report.save(update_fields=["status", "progress", "stage", "error"])
        heading = issue_report(report)
    report = Report.objects.select_related("agency__area", "area", "legal_basis", "jurisdiction", "requested_by__agency").get(
        pk=report_id
    )
    try:
        built, pages, releases = build_files(
            scope_of(report),
            code=report.code,
            author=_author(report.requested_by),
            directory=_build_directory(report),
            progress=progress_writer(Report, report.pk),
            heading=heading,
            signer=_signer(report.requested_by),
        )
    except Exception as error:
        _record_failure(report, error, number=heading.number)
        raise
    (pdf_path, pdf_sha256), (csv_path, csv_sha256) = built["pdf"], built["csv"]
    with transaction.atomic(durable=True):
        report.status, report.progress, report.stage = Report.Status.READY, 100, "done"
        report.pdf_path, report.pdf_sha256, report.pdf_size, report.pages = (
            str(pdf_path),
            pdf_sha256,
            pdf_path.stat().st_size,
            pages,
        )
        report.csv_path, report.csv_sha256, report.releases = str(csv_path), csv_sha256, releases
        report.finished_at = timezone.now()
        report.save()
        record_event(
            actor=report.requested_by,
            action=Action.REPORT_GENERATE,
            target=report,
            data={
                **_scope_data(report),
                "report": report.code,
                "number": heading.number,
                "pdf_sha256": pdf_sha256,
                "pdf_bytes": report.pdf_size,
                "pages": pages,
                "csv_sha256": csv_sha256,
                "releases": releases,
            },
        )
    return report


def _build_directory(report):
    """A folder of its own for each build: a build run twice (a redelivered task) never overwrites the other's files."""
    return Path(settings.REPORT_ROOT) / str(report.pk) / uuid.uuid4().hex[:12]


def report_build_now(
    *,
    date_from: dt.date,
    date_to: dt.date,
    agency: Agency | None = None,
    area: Area | None = None,
    legal_basis: LegalBasis | None = None,
    formats: Sequence[str] = FORMATS,
) -> tuple[Report, dict[str, tuple[Path, str]]]:
    """The command line's report: built at once by the system operator, hashed into the ledger like any other."""
    with transaction.atomic(durable=True):
        report = Report.objects.create(
            requested_by=None, date_from=date_from, date_to=date_to, agency=agency, area=area, legal_basis=legal_basis
        )
        record_event(actor=None, action=Action.REPORT_REQUEST, target=report, data={**_scope_data(report), "source": "command"})
        heading = issue_report(report) if "pdf" in formats else None
    report.refresh_from_db()
    try:
        built, pages, releases = build_files(
            scope_of(report),
            code=report.code,
            author=_author(None),
            formats=formats,
            directory=_build_directory(report),
            heading=heading,
        )
    except Exception as error:
        _record_failure(report, error, number=heading.number if heading else None)
        raise
    with transaction.atomic(durable=True):
        update = {
            "status": Report.Status.READY,
            "progress": 100,
            "stage": "done",
            "finished_at": timezone.now(),
            "pages": pages,
            "releases": releases,
        }
        data = {**_scope_data(report), "report": report.code, "source": "command", "releases": releases}
        if heading is not None:
            data["number"] = heading.number
        if "pdf" in built:
            path, sha256 = built["pdf"]
            update.update(pdf_path=str(path), pdf_sha256=sha256, pdf_size=path.stat().st_size)
            data.update(pdf_sha256=sha256, pages=pages)
        if "csv" in built:
            path, sha256 = built["csv"]
            update.update(csv_path=str(path), csv_sha256=sha256)
            data.update(csv_sha256=sha256)
        Report.objects.filter(pk=report.pk).update(**update)
        record_event(actor=None, action=Action.REPORT_GENERATE, target=report, data=data)
    report.refresh_from_db()
    return report, built


def download_name(stem: str, moment, extension: str) -> str:
    """A downloaded file's name: its code and when it was made, in Vietnam time with the offset.

    "BC-2026-000001_20261203T141500+0700.pdf": the clock every page and PDF shows, never UTC.
    """
    return f"{stem}_{file_stamp(moment)}.{extension}"


def report_download(*, actor: User, report: Report, kind: str, http_request: HttpRequest | None = None) -> tuple[Path, str]:
    """Record a download of one of the report's files and return (path, the name to download it under)."""
    path = Path(report.pdf_path if kind == "pdf" else report.csv_path)
    with transaction.atomic(durable=True):
        record_event(
            actor=actor,
            action=Action.REPORT_DOWNLOAD,
            target=report,
            data={"report": report.code, "format": kind, "sha256": report.pdf_sha256 if kind == "pdf" else report.csv_sha256},
            http_request=http_request,
        )
    made = report.finished_at or report.requested_at
    if kind == "pdf":
        return path, download_name(report.code, made, "pdf")
    return path, download_name(f"{report.code}-csv", made, "zip")


# The request dossier ------------------------------------------------------------------------------


@dataclass
class Dossier:
    footage_request: object
    generated_at: object
    status_label: str
    urgency_label: str
    regulation_label: str
    items: list
    attachments: list
    decisions: list
    comments: list
    release: object
    files: list
    events: list
    scope: FiledScope  # every filing, the scope as last filed, and the approvals that narrowed it
    current_key: object = None  # the SigningKey that signs checkpoints now, or None
    signing_keys: list = field(default_factory=list)  # SigningKeys of the checkpoints fixing the events
    integrity: list = field(default_factory=list)  # (file name, lines saying what the decode check found)
    integrity_scope: list = field(default_factory=list)  # lines saying what such a check can and cannot find


def _dossier(footage_request):
    from django.utils import translation

    from requests.integrity import damage_lines_vi, scope_lines_vi
    from requests.models import Release

    release = Release.objects.filter(footage_request=footage_request).first()
    # The clips handed over and, for redacted copies, their originals: the footage's damage is found in those.
    videos = list(release.files.filter(kind__in=("video", "original")).order_by("kind", "name")) if release else []
    with translation.override("vi"):
        events = list(AuditEvent.objects.filter(reference=footage_request.reference).order_by("seq"))
        for event in events:
            event.action_label = str(event.get_action_display())
            event.outcome_label = str(event.get_outcome_display())
        version = footage_request.regulation_version
        items = list(footage_request.items.select_related("camera", "data_category").order_by("camera__code", "start"))
        decisions = list(footage_request.decisions.select_related("actor", "actor_agency").order_by("created_at", "id"))
        for decision in decisions:
            decision.step_label = str(decision.get_step_display())
            decision.outcome_label = str(decision.get_outcome_display())
        attachments = list(footage_request.attachments.select_related("uploaded_by").order_by("uploaded_at", "id"))
        for attachment in attachments:
            attachment.kind_label = str(attachment.get_kind_display())
        return Dossier(
            footage_request=footage_request,
            generated_at=timezone.now(),
            status_label=str(footage_request.get_status_display()),
            urgency_label=str(footage_request.get_urgency_display()),
            regulation_label=f"{version.number} — {version.title}" if version else "—",
            items=items,
            attachments=attachments,
            decisions=decisions,
            comments=list(footage_request.comments.select_related("author").order_by("created_at", "id")),
            release=release,
            files=list(release.files.order_by("kind", "name")) if release else [],
            events=events,
            scope=filed_scope(footage_request, items),
            current_key=current_signing_key(),
            signing_keys=signing_keys_for_range(events[0].seq, events[-1].seq) if events else [],
            integrity=[(f.name, damage_lines_vi(f.integrity)) for f in videos],
            integrity_scope=scope_lines_vi([f.integrity for f in videos]),
        )


def dossier_build(
    *, actor: User, footage_request: FootageRequest, http_request: HttpRequest | None = None
) -> tuple[bytes, str, str]:
    """The dossier PDF of one request, as bytes; its SHA-256 is recorded in the ledger as it is handed out."""
    with transaction.atomic(durable=True):
        # The dossier's own event is the last line of the timeline it prints.
        event = record_event(
            actor=actor,
            action=Action.REPORT_DOSSIER,
            target=footage_request,
            data={"reference": footage_request.reference},
            http_request=http_request,
        )
    dossier = _dossier(footage_request)
    code = f"HS-{footage_request.reference}-{event.seq}"
    buffer = io.BytesIO()
    try:
        # The number is taken in the transaction that records the dossier: one that fails to render gives it back.
        with transaction.atomic(durable=True):
            heading = document_heading(
                actor.agency if actor.agency_id else None,
                DocumentSeries.Kind.DOSSIER,
                moment=dossier.generated_at,
                fallback_number=code,
            )
            pages = render_dossier(dossier, buffer, code=code, author=_author(actor), heading=heading, signer=_signer(actor))
            content = sign_pdf(buffer.getvalue(), reason=f"Hồ sơ yêu cầu {footage_request.reference}")
            sha256 = hashlib.sha256(content).hexdigest()
            record_event(
                actor=actor,
                action=Action.REPORT_GENERATE,
                target=footage_request,
                data={
                    "dossier": code,
                    "number": heading.number,
                    "pdf_sha256": sha256,
                    "pdf_bytes": len(content),
                    "pages": pages,
                },
                http_request=http_request,
            )
    except Exception as error:
        with transaction.atomic(durable=True):
            record_event(
                actor=actor,
                action=Action.REPORT_GENERATE,
                target=footage_request,
                outcome=Outcome.FAILURE,
                data={"dossier": code, "error": f"{type(error).__name__}: {error}"},
                http_request=http_request,
            )
        raise
    return content, code, sha256
