"""Exports at the recorder sites that hold the footage.

A camera belongs to a recorder site (`governance.RecorderSite`), whose workers read its Celery queue on a machine
that mounts its recordings; a camera without a site is exported by the workers of the default queue. The central
application never opens footage:

- a request whose cameras all sit at one site is exported whole by a worker of that site's queue
  (`tasks.export_request`), which writes the package to the shared export storage;
- a request whose cameras sit at several gets one `ExportPart` per site, each sent to its site's queue
  (`tasks.export_part`): the site's worker cuts, hashes and decode-checks its own cameras' clips into a folder of
  its own under EXPORT_ROOT/.parts, and records them (a ledger event naming the site and every clip's SHA-256).
  The worker that finishes the last part packages them all once (`export.assemble_build`), hashing each clip again
  as it goes into the package: a clip that does not arrive as its site cut it fails the export.

A site whose workers are down leaves its part waiting, and the request page says which sites it waits for; the
stall sweep sends the waiting parts again, and a duplicate delivery finds its part done and does nothing.
"""

import shutil
import uuid
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit import record_event
from audit.models import Action
from requests.models import ExportPart, FootageRequest, RequestItem, Status

PARTS_FOLDER = ".parts"


def export_plan(footage_request_id: int) -> list[tuple[str, str, str]]:
    """(site code, site name, queue) of each site the request's cameras sit at, in code order; "" is no site."""
    default = settings.CELERY_TASK_DEFAULT_QUEUE
    rows = (
        RequestItem.objects.filter(footage_request_id=footage_request_id)
        .values_list("camera__site__code", "camera__site__name", "camera__site__queue")
        .distinct()
    )
    return sorted({(code or "", name or "", queue or default) for code, name, queue in rows})


def parts_root(reference: str) -> Path:
    return Path(settings.EXPORT_ROOT) / PARTS_FOLDER / reference


def remove_parts(reference: str) -> None:
    """The sites' clips of a request, once it is released or its export failed (the package holds its own copy)."""
    shutil.rmtree(parts_root(reference), ignore_errors=True)


def _waiting_text(names):
    from requests.export import coded

    return coded("waiting_sites", sites=", ".join(names))


def export_dispatch(footage_request_id: int) -> None:
    """Send an export to the queues of the sites that hold its footage (after the commit that started it)."""
    from requests.tasks import export_assemble, export_part, export_request

    plan = export_plan(footage_request_id)
    if len(plan) <= 1:
        queue = plan[0][2] if plan else settings.CELERY_TASK_DEFAULT_QUEUE
        export_request.apply_async((footage_request_id,), queue=queue)
        return
    with transaction.atomic(durable=True):
        footage_request = FootageRequest.objects.select_for_update().filter(pk=footage_request_id).first()
        if footage_request is None or footage_request.status != Status.EXPORTING:
            return
        for code, name, queue in plan:
            ExportPart.objects.get_or_create(
                footage_request=footage_request, site_code=code, defaults={"site_name": name, "queue": queue}
            )
        waiting = list(ExportPart.objects.filter(footage_request=footage_request, status=ExportPart.Status.WAITING))
        if waiting:
            FootageRequest.objects.filter(pk=footage_request_id).update(
                export_stage=_waiting_text([part.site_name or part.site_code or "-" for part in waiting]),
                export_heartbeat=timezone.now(),
            )
    if not waiting:
        # Every site is done, and the packaging was lost with its worker: any site's worker packages.
        export_assemble.apply_async((footage_request_id,), queue=plan[0][2])
    for part in waiting:
        export_part.apply_async((footage_request_id, part.site_code), queue=part.queue)


def part_pending(footage_request_id: int, site_code: str) -> bool:
    return ExportPart.objects.filter(
        footage_request_id=footage_request_id,
        site_code=site_code,
        status=ExportPart.Status.WAITING,
        footage_request__status=Status.EXPORTING,
    ).exists()


def part_folder(reference: str, site_code: str) -> Path:
    """A folder of this run's own: two deliveries of one part never write into each other's."""
    return parts_root(reference) / f"{site_code or '_'}-{uuid.uuid4().hex[:12]}"


def part_done(footage_request_id: int, site_code: str, folder: Path, result: dict) -> bool | None:
    """Record a site's clips (one ledger event); True when it was the last part, None when another delivery of
    the same part, or the end of the export, came first (the caller removes its folder)."""
    with transaction.atomic(durable=True):
        footage_request = FootageRequest.objects.select_for_update().get(pk=footage_request_id)
        part = ExportPart.objects.select_for_update().filter(footage_request=footage_request, site_code=site_code).first()
        if footage_request.status != Status.EXPORTING or part is None or part.status == ExportPart.Status.DONE:
            return None
        part.status = ExportPart.Status.DONE
        part.result = {**result, "folder": folder.relative_to(settings.EXPORT_ROOT).as_posix()}
        part.finished_at = timezone.now()
        part.save(update_fields=["status", "result", "finished_at"])
        record_event(
            actor=None,
            action=Action.REQUEST_EXPORT_PART,
            target=footage_request,
            data={
                "site": site_code,
                "items": len(result["items"]),
                "files": [{"name": f["path"], "sha256": f["sha256"], "size": f["size"]} for f in result["files"]],
            },
        )
        waiting = list(
            ExportPart.objects.filter(footage_request=footage_request, status=ExportPart.Status.WAITING).values_list(
                "site_name", "site_code"
            )
        )
        if waiting:
            FootageRequest.objects.filter(pk=footage_request_id).update(
                export_stage=_waiting_text([name or code or "-" for name, code in waiting]), export_heartbeat=timezone.now()
            )
        return not waiting


def done_parts(footage_request_id: int) -> list[tuple[Path, dict]]:
    """The (folder, result) of every site's part, for the package."""
    root = Path(settings.EXPORT_ROOT)
    return [
        (root / part.result["folder"], part.result)
        for part in ExportPart.objects.filter(footage_request_id=footage_request_id, status=ExportPart.Status.DONE)
    ]
