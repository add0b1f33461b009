"""Every reader reads the ledger, the request pages and the reports of its own area only, through one scope."""

# ruff: noqa: F811 - the fixtures imported below are requested by name

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from audit import record_event
from audit.models import Action, AuditEvent
from governance.models import Agency
from oversight.models import Report
from oversight.permissions import report_refusal, reports_visible_to
from oversight.selectors import events_visible_to, ledger_page
from requests.selectors import requests_visible_to
from tests.auth import sign_in_verified
from tests.factories import AgencyFactory, UserFactory
from tests.requests.conftest import world  # noqa: F401 - the workflow's fixture world

pytestmark = pytest.mark.django_db

LEDGER = reverse("oversight:ledger")


def inspector(area, code):
    inspectorate = AgencyFactory(code=code, kind=Agency.Kind.INSPECTORATE, area=area)
    return UserFactory(username=f"{code}.auditor", agency=inspectorate, roles=["auditor"])


def event_url(event):
    return reverse("oversight:event", args=[event.seq])


def seqs_listed(client, **filters):
    response = client.get(LEDGER, {"size": 200, **filters})
    assert response.status_code == 200
    return {row.seq for row in response.context["page"].rows}


@pytest.fixture
def hang_bac_request(world):
    """A request of ward police A, in Hàng Bạc, taken through review: several events carry its reference."""
    return world.reviewed()


@pytest.fixture
def other_ward_auditor(world):
    """An auditor overseeing Hàng Đào, the neighbouring ward."""
    return inspector(world.other_ward, "thanh-tra-hang-dao")


@pytest.fixture
def own_ward_auditor(world):
    return inspector(world.ward, "thanh-tra-hang-bac")


def test_a_ward_auditor_gets_404_on_the_ledger_events_of_a_request_outside_its_area(
    client, world, hang_bac_request, other_ward_auditor
):
    events = list(AuditEvent.objects.filter(reference=hang_bac_request.reference))
    assert len(events) >= 3
    sign_in_verified(client, other_ward_auditor, language="en")

    for event in events:
        assert client.get(event_url(event)).status_code == 404, event.action
    assert not seqs_listed(client) & {e.seq for e in events}
    assert not seqs_listed(client, reference=hang_bac_request.reference)
    # The same as the request itself, its dossier included.
    assert client.get(reverse("requests:detail", args=[hang_bac_request.reference])).status_code == 404
    assert client.get(reverse("oversight:dossier", args=[hang_bac_request.reference])).status_code == 404


def test_a_ward_auditor_reads_the_events_of_its_own_wards_requests(client, world, hang_bac_request, own_ward_auditor):
    events = {e.seq for e in AuditEvent.objects.filter(reference=hang_bac_request.reference)}
    sign_in_verified(client, own_ward_auditor, language="en")

    assert events <= seqs_listed(client)
    assert client.get(event_url(AuditEvent.objects.get(seq=min(events)))).status_code == 200
    assert client.get(reverse("requests:detail", args=[hang_bac_request.reference])).status_code == 200


def test_a_ward_auditor_does_not_see_sign_ins_or_role_changes_of_another_area(client, world, other_ward_auditor):
    with transaction.atomic():
        sign_in = record_event(actor=world.insider, action=Action.LOGIN, target=world.insider)
        reset = record_event(
            actor=world.approver,
            action=Action.GOVERNANCE_UPDATE,
            target=world.insider,
            data={"fields": {"password": "changed"}},
        )
        failed = record_event(actor=None, action=Action.LOGIN_FAILED, target=world.insider, data={"username": "alice"})
        checkpoint = record_event(actor=None, action=Action.LEDGER_CHECKPOINT, data={"seq": 1})
    sign_in_verified(client, other_ward_auditor, language="en")

    listed = seqs_listed(client)

    assert not listed & {sign_in.seq, reset.seq, failed.seq}
    for event in (sign_in, reset, failed):
        assert client.get(event_url(event)).status_code == 404
    # What the system itself records belongs to no area.
    assert checkpoint.seq in listed


def test_an_event_page_links_only_to_neighbours_the_reader_may_open(client, world, hang_bac_request, other_ward_auditor):
    with transaction.atomic():
        before = record_event(actor=None, action=Action.LEDGER_CHECKPOINT, data={})
    world.reviewed()  # more events of Hàng Bạc, between the two
    with transaction.atomic():
        after = record_event(actor=None, action=Action.LEDGER_CHECKPOINT, data={})
    sign_in_verified(client, other_ward_auditor, language="en")

    page = client.get(event_url(before))

    assert page.context["next_seq"] == after.seq


def test_the_ledger_shows_exactly_the_events_of_the_requests_the_reader_may_open(world, hang_bac_request, other_ward_auditor):
    world.submitted(actor=world.outsider)
    readers = [other_ward_auditor, inspector(world.ward, "tt-hb"), inspector(world.province, "tt-tp")]
    readers += [UserFactory(agency=world.agency_a, is_staff=True, roles=["administrator"])]

    for reader in readers:
        visible_requests = set(requests_visible_to(reader).values_list("reference", flat=True))
        event_references = set(events_visible_to(reader).exclude(reference="").values_list("reference", flat=True))
        assert event_references == visible_requests, reader
    assert not events_visible_to(world.reviewer).exists()


# An agency's own administrator -------------------------------------------------------------------


@pytest.fixture
def ward_admin(world):
    return UserFactory(username="cap-a.admin", agency=world.agency_a, is_staff=True, roles=["administrator"])


def test_a_ward_police_administrator_reads_only_its_own_agencys_requests(client, world, hang_bac_request, ward_admin):
    outside = world.submitted(actor=world.outsider)
    sign_in_verified(client, ward_admin, language="en")

    assert client.get(reverse("requests:detail", args=[hang_bac_request.reference])).status_code == 200
    assert client.get(reverse("requests:detail", args=[outside.reference])).status_code == 404
    assert client.get(reverse("oversight:dossier", args=[outside.reference])).status_code == 404
    outside_events = set(AuditEvent.objects.filter(reference=outside.reference).values_list("seq", flat=True))
    assert outside_events and not seqs_listed(client) & outside_events


def test_a_ward_police_administrator_produces_no_oversight_report(world, ward_admin):
    assert "oversight bodies" in report_refusal(ward_admin)


def test_the_report_refusal_is_shown_in_vietnamese(client, world, ward_admin):
    sign_in_verified(client, ward_admin, language="vi")
    today = timezone.localdate().isoformat()

    page = client.get(reverse("oversight:reports")).content.decode()
    refused = client.post(reverse("oversight:reports"), {"date_from": today, "date_to": today})

    refusal = "Báo cáo do cơ quan giám sát và quản trị viên hệ thống của trung tâm giám sát lập."
    assert refusal in page
    assert refused.status_code == 200 and refusal in refused.content.decode()
    assert not Report.objects.exists()


def test_the_centres_administrator_reads_everything(client, world, hang_bac_request, other_ward_auditor):
    centre_admin = UserFactory(username="ioc.admin", agency=world.centre, is_staff=True, roles=["administrator"])
    outside = world.submitted(actor=world.outsider)

    assert set(requests_visible_to(centre_admin)) >= {hang_bac_request, outside}
    assert events_visible_to(centre_admin).count() == AuditEvent.objects.count()
    assert list(reports_visible_to(centre_admin)) == list(reports_visible_to(centre_admin).model.objects.all())


@pytest.mark.parametrize("few", [0, 1, 2000])
def test_the_ledger_page_is_the_same_whichever_way_the_readers_requests_are_counted(
    world, hang_bac_request, ward_admin, monkeypatch, few
):
    # An agency that filed more requests than oversight.selectors.FEW_REQUESTS has its ledger read in one walk; one
    # that filed fewer, from its requests' side and the side of the events about no request. Same page either way.
    world.submitted()
    world.submitted(actor=world.outsider)
    expected = list(events_visible_to(ward_admin).order_by("-seq").values_list("seq", flat=True)[:200])
    assert expected

    monkeypatch.setattr("oversight.selectors.FEW_REQUESTS", few)
    page = ledger_page(user=ward_admin, filters={}, size=200)

    assert [row.seq for row in page.rows] == expected
    # A reader found to open more is remembered as such; the next page reads the same events in one walk.
    assert ledger_page(user=ward_admin, filters={}, size=200).rows == page.rows
