"""Two officials pressing "approve" at the same moment (PostgreSQL: real row locks between connections)."""

import threading

import pytest
from django.db import connection, connections

from audit.ledger_check import verify_chain
from audit.models import Action, AuditEvent
from requests import workflow
from requests.models import Decision, Status
from requests.permissions import WorkflowRefused

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks between connections need PostgreSQL"),
]


def _race(*calls):
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            call()
            outcomes[index] = "ok"
        except WorkflowRefused as exc:
            outcomes[index] = f"refused: {exc}"
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return outcomes


def test_two_approvers_at_once_record_two_decisions_and_one_approval(world):
    footage_request = world.reviewed(items=world.items(world.anpr, code="plate_events"))
    outcomes = _race(
        lambda: workflow.request_approve(actor=world.approver, footage_request=footage_request),
        lambda: workflow.request_approve(actor=world.approver2, footage_request=footage_request),
    )
    assert outcomes == ["ok", "ok"]
    footage_request.refresh_from_db()
    assert footage_request.status == Status.APPROVED
    assert footage_request.decisions.filter(outcome=Decision.Outcome.APPROVE).count() == 2
    events = AuditEvent.objects.filter(action=Action.REQUEST_APPROVE, reference=footage_request.reference)
    assert sorted(e.data["complete"] for e in events) == [False, True]
    assert verify_chain().ok


def test_the_same_approver_twice_at_once_signs_once(world):
    footage_request = world.reviewed(items=world.items(world.anpr, code="plate_events"))
    outcomes = _race(
        lambda: workflow.request_approve(actor=world.approver, footage_request=footage_request),
        lambda: workflow.request_approve(actor=world.approver, footage_request=footage_request),
    )
    assert sorted(o[:7] for o in outcomes) == ["ok", "refused"]
    footage_request.refresh_from_db()
    assert footage_request.status == Status.IN_REVIEW
    assert footage_request.decisions.filter(outcome=Decision.Outcome.APPROVE).count() == 1


def test_approve_and_reject_at_once_leave_exactly_one_outcome(world):
    footage_request = world.reviewed()
    outcomes = _race(
        lambda: workflow.request_approve(actor=world.approver, footage_request=footage_request),
        lambda: workflow.request_reject(actor=world.approver2, footage_request=footage_request, reason="Không đủ căn cứ"),
    )
    assert sorted(o[:7] for o in outcomes) == ["ok", "refused"]
    footage_request.refresh_from_db()
    assert footage_request.status in (Status.APPROVED, Status.REJECTED)
    assert footage_request.decisions.filter(step=Decision.Step.APPROVAL).count() == 1
