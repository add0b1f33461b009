"""Migration requests/0008 rebuilds from the ledger the filing and status history of requests filed before it was kept;
0009 fills each filing's basis and urgency, and each narrowing's approved scope, where the content proves them.

Requests are played through the workflow, their kept history is set aside and erased, and the migration's function
rebuilds it from the ledger: every filing, every status move in order and the first filing time come back as the
workflow kept them, except the scope of a filing whose content differs from the request's now, which it cannot know.
"""

import datetime as dt
import importlib
from contextlib import contextmanager

import pytest
import time_machine
from django.apps import apps
from django.db.models import F
from django.utils import timezone

from requests import workflow
from requests.models import ApprovedItem, FootageRequest, Status, StatusChange, Submission, SubmittedItem
from tests.factories import category
from tests.requests.footage import export as run_export
from tests.requests.test_decode_check import damage_payload

pytestmark = pytest.mark.django_db

rebuild = importlib.import_module("requests.migrations.0008_history_from_the_ledger").rebuild
fill_from_present_content = importlib.import_module(
    "requests.migrations.0009_filed_basis_urgency_area_and_approved_scope"
).fill_from_present_content


@contextmanager
def clock(day: int, hour: int):
    """Day `day` after tomorrow at `hour`, local time, frozen: every act inside happens at that moment."""
    first = timezone.localdate() + dt.timedelta(days=2 + day)
    moment = timezone.make_aware(dt.datetime.combine(first, dt.time(hour)), timezone.get_default_timezone())
    with time_machine.travel(moment, tick=False):
        yield


def video(camera, start, end):
    return {"camera": camera, "start": start, "end": end, "data_category": category("video")}


def kept_history():
    """The history as kept: each request's filings (with their scope), status moves and first filing time."""
    submissions = {
        (s.footage_request.reference, s.number): (
            s.submitted_at,
            s.submitted_by_id,
            s.due_at,
            s.content_hash,
            s.items_recorded,
            sorted((i.camera_id, i.start, i.end, i.data_category_id) for i in s.items.all()),
        )
        for s in Submission.objects.select_related("footage_request").prefetch_related("items")
    }
    changes = {}
    for change in StatusChange.objects.select_related("footage_request").order_by("at", "id"):
        changes.setdefault(change.footage_request.reference, []).append((change.from_status, change.to_status, change.at))
    first_filed = dict(FootageRequest.objects.values_list("reference", "first_submitted_at"))
    return submissions, changes, first_filed


@pytest.fixture
def played(world, footage, settings, django_capture_on_commit_callbacks):
    """Requests taken down every path: filed again with a new scope, filed again unchanged, narrowed on approval,
    rejected, withdrawn as a draft, expired unanswered, released and closed, held for damage and let go."""
    settings.EXPORT_ON_DAMAGE = "hold"
    settings.REQUEST_INFO_EXPIRY_DAYS = 1
    damage_payload(footage.segment(4))
    capture = django_capture_on_commit_callbacks
    with clock(0, 9):
        refiled, unchanged, expired = world.submitted(), world.submitted(), world.submitted()
        draft = world.draft()
        rejected, narrowed = world.reviewed(), world.reviewed()
        released = world.reviewed(items=[video(world.camera, footage.at(12), footage.at(18))])
        held = world.reviewed(items=[video(world.camera, footage.at(3), footage.at(7))])
    with clock(0, 10):
        for footage_request in (refiled, unchanged, expired):
            workflow.request_ask_info(actor=world.reviewer, footage_request=footage_request, question="Bổ sung")
        workflow.request_withdraw(actor=world.insider, footage_request=draft)
        workflow.request_reject(actor=world.approver, footage_request=rejected, reason="Thiếu căn cứ")
        (item,) = narrowed.items.all()
        workflow.request_approve(
            actor=world.approver, footage_request=narrowed, narrow={item.pk: (item.start, item.end - dt.timedelta(hours=1))}
        )
        for footage_request in (released, held):
            workflow.request_approve(actor=world.approver, footage_request=footage_request)
    with clock(0, 11):
        assert run_export(world, released, capture).status == Status.RELEASED
        assert run_export(world, held, capture).status == Status.DAMAGE_HELD
    with clock(1, 9):
        workflow.request_file(
            actor=world.colleague,
            footage_request=refiled,
            items=world.items(world.camera, world.anpr, ago_hours=5),
            submit=True,
        )
        workflow.request_comment(actor=world.insider, footage_request=unchanged, body="Số quyết định: 12/QĐ")
        workflow.request_submit(actor=world.insider, footage_request=unchanged)
    with clock(1, 10):
        workflow.request_acknowledge_damage(actor=world.custodian, footage_request=held, note="Giao nguyên trạng")
        workflow.request_close(actor=world.insider, footage_request=released)
    with clock(2, 12):
        assert workflow.request_expire_stale() == 1
    return {
        name: FootageRequest.objects.get(pk=footage_request.pk)
        for name, footage_request in {
            "refiled": refiled,
            "unchanged": unchanged,
            "expired": expired,
            "draft": draft,
            "rejected": rejected,
            "narrowed": narrowed,
            "released": released,
            "held": held,
        }.items()
    }


def erase_history():
    SubmittedItem.objects.all().delete()
    Submission.objects.all().delete()
    StatusChange.objects.all().delete()
    FootageRequest.objects.update(first_submitted_at=None)


def test_the_history_rebuilt_from_the_ledger_is_the_history_the_workflow_kept(world, played):
    submissions, changes, first_filed = kept_history()
    present = dict(FootageRequest.objects.values_list("reference", "content_hash"))
    erase_history()

    rebuild(apps, None)

    rebuilt_submissions, rebuilt_changes, rebuilt_first_filed = kept_history()
    assert rebuilt_changes == changes
    assert rebuilt_first_filed == first_filed
    # A filing's scope is known where its content is the request's content now; elsewhere it says so.
    expected = {key: kept if kept[3] == present[key[0]] else (*kept[:4], False, []) for key, kept in submissions.items()}
    assert rebuilt_submissions == expected
    unrecorded = {key for key, value in expected.items() if not value[4]}
    assert unrecorded == {(played["refiled"].reference, 1), (played["narrowed"].reference, 1)}


def test_a_request_filed_again_with_a_new_scope_gets_two_filings_the_first_unrecorded(world, played):
    refiled = played["refiled"]
    first_filed = refiled.first_submitted_at
    erase_history()

    rebuild(apps, None)

    first, second = Submission.objects.filter(footage_request=refiled).order_by("number")
    assert (first.number, first.submitted_at, first.submitted_by) == (1, first_filed, world.insider)
    assert not first.items_recorded and not first.items.exists()
    assert (second.number, second.submitted_at, second.submitted_by) == (2, refiled.submitted_at, world.colleague)
    assert second.items_recorded and {i.camera for i in second.items.all()} == {world.camera, world.anpr}
    refiled.refresh_from_db()
    assert refiled.first_submitted_at == first_filed < refiled.submitted_at
    assert [(c.from_status, c.to_status) for c in StatusChange.objects.filter(footage_request=refiled).order_by("at", "id")] == [
        ("", Status.DRAFT),
        (Status.DRAFT, Status.SUBMITTED),
        (Status.SUBMITTED, Status.NEEDS_INFO),
        (Status.NEEDS_INFO, Status.SUBMITTED),
    ]
    held = played["held"]
    assert [c.to_status for c in StatusChange.objects.filter(footage_request=held).order_by("at", "id")] == [
        Status.DRAFT,
        Status.SUBMITTED,
        Status.IN_REVIEW,
        Status.APPROVED,
        Status.EXPORTING,
        Status.DAMAGE_HELD,
        Status.RELEASED,
    ]
    # A draft withdrawn before it was ever filed has no filing and no first filing time.
    assert not Submission.objects.filter(footage_request=played["draft"]).exists()
    assert FootageRequest.objects.get(pk=played["draft"].pk).first_submitted_at is None


def test_a_filings_basis_and_urgency_and_a_narrowings_scope_are_filled_where_the_content_proves_them(world, played):
    def filed():
        return {(s.footage_request_id, s.number): (s.legal_basis_id, s.urgency) for s in Submission.objects.all()}

    def approved():
        return sorted(ApprovedItem.objects.values_list("decision__footage_request_id", "camera_id", "start", "end"))

    kept, kept_scope = filed(), approved()
    narrowed = played["narrowed"]
    assert [row[0] for row in kept_scope] == [narrowed.pk]
    proven = set(
        Submission.objects.filter(content_hash=F("footage_request__content_hash")).values_list("footage_request_id", "number")
    )
    Submission.objects.update(legal_basis=None, urgency="")
    ApprovedItem.objects.all().delete()

    fill_from_present_content(apps, None)

    assert filed() == {key: value if key in proven else (None, "") for key, value in kept.items()}
    assert filed()[(played["refiled"].pk, 1)] == (None, "")
    assert approved() == kept_scope
