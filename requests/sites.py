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

import datetime as dt
import shutil
import uuid
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audit import record_event
from audit.models import Action
from requests.models import ExportPart, FootageRequest, RequestItem, Status

PARTS_FOLDER = ".parts"


def item_sites(footage_request_id: int) -> list[tuple[int, str, str, str]]:
    """(number, site code, site name, queue) of each of the request's items, numbered in the package's order
    (`export._export_items`); "" is no site, and its queue "" the default queue (the one tasks go to unnamed)."""
    items = (
        RequestItem.objects.filter(footage_request_id=footage_request_id)
        .order_by("camera__code", "start", "pk")
        .values_list("camera__site__code", "camera__site__name", "camera__site__queue")
    )
    return [(number, code or "", name or "", queue or "") for number, (code, name, queue) in enumerate(items, start=1)]


def export_plan(footage_request_id: int) -> list[tuple[str, str, str]]:
    """(site code, site name, queue) of each site the request's cameras sit at, in code order; "" is no site."""
    return sorted({(code, name, queue) for _number, code, name, queue in item_sites(footage_request_id)})


def in_parts(footage_request_id: int, plan=None) -> bool:
    """Whether the export goes by parts: its cameras sit at several sites, or it went so once (its parts stand)."""
    plan = export_plan(footage_request_id) if plan is None else plan
    return len(plan) > 1 or ExportPart.objects.filter(footage_request_id=footage_request_id).exists()


def parts_root(reference: str) -> Path:
    return Path(settings.EXPORT_ROOT) / PARTS_FOLDER / reference


def remove_parts(reference: str) -> None:
    """The sites' clips of a request, once it is released or its export failed (the package holds its own copy)."""
    shutil.rmtree(parts_root(reference), ignore_errors=True)


def _waiting_text(names):
    from requests.export import coded

    return coded("waiting_sites", sites=", ".join(names))


def _lease():
    return timezone.now() - dt.timedelta(minutes=settings.EXPORT_STALL_MINUTES)


def export_dispatch(footage_request_id: int) -> None:
    """Send an export to the queues of the sites that hold its footage (after the commit that started it).

    Sent again by the stall sweep, it sends the parts not yet cut afresh, grouped by where their cameras sit now
    and to the queues their sites name now (a camera moved, a queue renamed); a part a worker is cutting is left to
    it, and one already cut is kept."""
    from requests.tasks import export_assemble, export_part, export_request

    plan = export_plan(footage_request_id)
    if not in_parts(footage_request_id, plan):
        export_request.apply_async((footage_request_id,), queue=(plan[0][2] if plan else "") or None)
        return
    with transaction.atomic(durable=True):
        footage_request = FootageRequest.objects.select_for_update().filter(pk=footage_request_id).first()
        if footage_request is None or footage_request.status != Status.EXPORTING:
            return
        parts = list(ExportPart.objects.filter(footage_request=footage_request))
        kept = [p for p in parts if p.status == ExportPart.Status.DONE or (p.claimed_at and p.claimed_at > _lease())]
        ExportPart.objects.filter(pk__in=[p.pk for p in parts if p not in kept]).delete()
        covered = {number for part in kept for number in part.items}
        groups = {}
        for number, code, name, queue in item_sites(footage_request_id):
            if number not in covered:
                groups.setdefault((code, name, queue), []).append(number)
        waiting = [
            ExportPart.objects.create(
                footage_request=footage_request,
                token=uuid.uuid4().hex,
                site_code=code,
                site_name=name,
                queue=queue,
                items=numbers,
            )
            for (code, name, queue), numbers in sorted(groups.items())
        ]
        pending = [p for p in kept if p.status == ExportPart.Status.WAITING] + waiting
        if pending:
            FootageRequest.objects.filter(pk=footage_request_id).update(
                export_stage=_waiting_text(sorted({p.site_name or p.site_code or "-" for p in pending})),
                export_heartbeat=timezone.now(),
            )
    if not pending and kept:
        # Every site is done, and the packaging was lost with its worker.
        export_assemble.apply_async((footage_request_id,), queue=kept[0].queue or None)
    for part in waiting:
        export_part.apply_async((footage_request_id, part.site_code, part.token), queue=part.queue or None)


def part_claim(token: str) -> ExportPart | None:
    """Take the part for this worker, unless it is cut, its export ended, or another worker holds it."""
    with transaction.atomic(durable=True):
        claimed = (
            ExportPart.objects.filter(token=token, status=ExportPart.Status.WAITING, footage_request__status=Status.EXPORTING)
            .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=_lease()))
            .update(claimed_at=timezone.now())
        )
    return ExportPart.objects.select_related("footage_request").get(token=token) if claimed else None


def part_renew(token: str) -> None:
    ExportPart.objects.filter(token=token, status=ExportPart.Status.WAITING).update(claimed_at=timezone.now())


def part_let_go(token: str) -> None:
    """A worker that will try again later (a transient error) lets the part be taken meanwhile."""
    ExportPart.objects.filter(token=token, status=ExportPart.Status.WAITING).update(claimed_at=None)


def part_folder(reference: str, site_code: str) -> Path:
    """A folder of this run's own: two deliveries of one part never write into each other's."""
    return parts_root(reference) / f"{site_code or '_'}-{uuid.uuid4().hex[:12]}"


def part_done(footage_request_id: int, token: str, folder: Path, result: dict) -> bool | None:
    """Record a site's clips (one ledger event); True when no part is left to cut, None when the part was
    regenerated or cut by another delivery, or the export ended (the caller removes its folder)."""
    with transaction.atomic(durable=True):
        footage_request = FootageRequest.objects.select_for_update().get(pk=footage_request_id)
        part = ExportPart.objects.select_for_update().filter(footage_request=footage_request, token=token).first()
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
                "site": part.site_code,
                "items": len(result["items"]),
                "files": [{"name": f["path"], "sha256": f["sha256"], "size": f["size"]} for f in result["files"]],
            },
        )
        waiting = sorted(
            {
                name or code or "-"
                for name, code in ExportPart.objects.filter(
                    footage_request=footage_request, status=ExportPart.Status.WAITING
                ).values_list("site_name", "site_code")
            }
        )
        if waiting:
            FootageRequest.objects.filter(pk=footage_request_id).update(
                export_stage=_waiting_text(waiting), export_heartbeat=timezone.now()
            )
        else:
            from requests.tasks import export_assemble

            # Packaged by a task of its own (its own retries), on this site's queue.
            queue = part.queue or None
            transaction.on_commit(lambda: export_assemble.apply_async((footage_request_id,), queue=queue))
        return not waiting


def done_parts(footage_request_id: int) -> list[tuple[Path, dict]]:
    """The (folder, result) of every site's part, for the package; a folder outside the request's parts is refused."""
    from requests.export import ExportFailed

    footage_request = FootageRequest.objects.only("reference").get(pk=footage_request_id)
    root = parts_root(footage_request.reference).resolve()
    parts = []
    for part in ExportPart.objects.filter(footage_request_id=footage_request_id, status=ExportPart.Status.DONE):
        folder = (Path(settings.EXPORT_ROOT) / str(part.result.get("folder", ""))).resolve()
        if not folder.is_relative_to(root) or folder == root:
            raise ExportFailed("part_missing", site=part.site_code or "-", file=str(part.result.get("folder", "")))
        parts.append((folder, {**part.result, "site": part.site_code}))
    return parts
