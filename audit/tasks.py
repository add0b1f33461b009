"""Background work on the ledger: periodic checkpoints and "verify now" runs."""

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit import record_event
from audit.checkpoints import checkpoint_create
from audit.ledger_check import verify_chain
from audit.models import Action, Outcome, VerificationRun


@shared_task(name="audit.tasks.audit_checkpoint_task", acks_late=True)
def audit_checkpoint_task() -> int | None:
    """Sign the ledger head (scheduled by Celery beat); a no-op when nothing happened since the last checkpoint."""
    checkpoint = checkpoint_create(actor=None)
    return checkpoint.seq if checkpoint else None


@shared_task(name="audit.tasks.verify_ledger_task", acks_late=True)
def verify_ledger_task(run_id: int) -> str:
    """Verify the whole chain for one VerificationRun and record the outcome in the run and in the ledger."""
    run = VerificationRun.objects.select_related("requested_by").get(pk=run_id)
    if run.status in (VerificationRun.Status.PASSED, VerificationRun.Status.FAILED):
        return run.status  # a redelivered message (acks_late) must not verify twice
    VerificationRun.objects.filter(pk=run.pk).update(status=VerificationRun.Status.RUNNING)
    # People are working beside it: keep to the configured share of a core.
    result = verify_chain(max_cpu=settings.LEDGER_VERIFY_MAX_CPU)
    run.status = VerificationRun.Status.PASSED if result.ok else VerificationRun.Status.FAILED
    run.events_checked = result.events_checked
    run.head_seq = result.head_seq
    run.head_hash = result.head_hash
    run.broken_seq = result.problem.seq if result.problem else None
    run.problem = str(result.problem) if result.problem else ""
    run.seconds = result.seconds
    run.finished_at = timezone.now()
    with transaction.atomic(durable=True):
        run.save(
            update_fields=["status", "events_checked", "head_seq", "head_hash", "broken_seq", "problem", "seconds", "finished_at"]
        )
        record_event(
            actor=run.requested_by,
            action=Action.LEDGER_VERIFY,
            target=run,
            outcome=Outcome.SUCCESS if result.ok else Outcome.FAILURE,
            data={
                "run": run.pk,
                "status": run.status,
                "events_checked": result.events_checked,
                "head_seq": result.head_seq,
                "head_hash": result.head_hash,
                "broken_seq": run.broken_seq,
                "problem": run.problem,
                "seconds": round(result.seconds, 3),
            },
        )
    return run.status


@shared_task(name="audit.tasks.resume_waiting_work")
def resume_waiting_work() -> int:
    """Dispatch again the verification runs no worker has started (scheduled by beat)."""
    from audit.services import resume_waiting_work

    return resume_waiting_work()
