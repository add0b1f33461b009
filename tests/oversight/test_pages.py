"""The auditor pages: ledger list, one event, verification. Only auditors and administrators see them."""

import datetime as dt
import re
from unittest import mock

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit import record_event, services
from audit.models import Action, AuditEvent, Checkpoint, Outcome, VerificationRun
from tests.factories import AgencyFactory, DistrictFactory, ProvinceFactory, UserFactory, WardFactory

LEDGER = reverse("oversight:ledger")
VERIFY = reverse("oversight:verify")


def add_events(count, *, actor=None, action=Action.GOVERNANCE_UPDATE, target=("governance.camera", 1), **extra):
    with transaction.atomic():
        return [record_event(actor=actor, action=action, target=target, **extra) for _ in range(count)]


def add_event_at(moment, **kwargs):
    with mock.patch.object(services.timezone, "now", return_value=moment):
        return add_events(1, **kwargs)[0]


def seqs_on(response):
    """Sequence numbers of the table rows, in page order."""
    return [int(s) for s in re.findall(r'href="/audit/events/(\d+)/">\d+</a></td>', response.content.decode())]


def link(response, rel):
    match = re.search(rf'<a rel="{rel}" href="([^"]+)"', response.content.decode())
    if match is None:
        return None
    href = match.group(1).replace("&amp;", "&")
    return LEDGER + href if href.startswith("?") else href


@pytest.fixture
def city(db):
    return ProvinceFactory()


# The auditor of these tests oversees the whole city, where agencies A and B sit.
@pytest.fixture
def agency_a(agency_a, city):
    agency_a.area = WardFactory(parent=DistrictFactory(parent=city))
    agency_a.save()
    return agency_a


@pytest.fixture
def agency_b(agency_b, city):
    agency_b.area = city
    agency_b.save()
    return agency_b


@pytest.fixture
def auditor(auditor, city):
    auditor.agency.area = city
    auditor.agency.save()
    return auditor


@pytest.fixture
def auditor_client(client, auditor):
    client.force_login(auditor)
    return client


@pytest.fixture
def admin_client(client, admin_user):
    """A system administrator: reads the whole ledger, events of requests that do not exist included."""
    client.force_login(admin_user)
    return client


# --- who may see the pages -------------------------------------------------


@pytest.mark.parametrize("who", ["auditor", "admin_user", "superuser"])
def test_auditors_administrators_and_superusers_read_the_ledger(client, request, who):
    client.force_login(request.getfixturevalue(who))
    event = add_events(1)[0]

    assert client.get(LEDGER).status_code == 200
    assert client.get(reverse("oversight:event", args=[event.seq])).status_code == 200
    assert client.get(VERIFY).status_code == 200


@pytest.mark.parametrize("who", ["insider", "outsider"])
def test_requesters_get_404_on_every_auditor_page(client, request, who):
    client.force_login(request.getfixturevalue(who))
    event = add_events(1)[0]

    assert client.get(LEDGER).status_code == 404
    assert client.get(reverse("oversight:event", args=[event.seq])).status_code == 404
    assert client.get(VERIFY).status_code == 404
    assert client.post(VERIFY).status_code == 404
    assert not VerificationRun.objects.exists()


def test_reviewer_and_approver_get_404(client, agency_a):
    reviewer = UserFactory(agency=agency_a, roles=["reviewer", "approver", "custodian"])
    client.force_login(reviewer)

    assert client.get(LEDGER).status_code == 404
    assert client.get(VERIFY).status_code == 404


def test_anonymous_user_is_sent_to_sign_in(client, db):
    response = client.get(LEDGER)

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_missing_event_is_404(auditor_client):
    assert auditor_client.get(reverse("oversight:event", args=[999_999])).status_code == 404


# --- the list ----------------------------------------------------------------


def test_ledger_row_shows_time_actor_action_target_and_short_hash(auditor_client, insider):
    moment = timezone.now().replace(microsecond=0)
    event = add_event_at(moment, actor=insider, action=Action.GOVERNANCE_UPDATE, target=("governance.camera", 42))

    page = auditor_client.get(LEDGER).content.decode()

    local = timezone.localtime(moment, timezone.get_default_timezone())
    assert local.strftime("%d/%m/%Y %H:%M:%S") in page
    assert "alice" in page and "cap-a" in page
    assert str(Action.GOVERNANCE_UPDATE.label) in page
    assert "Camera" in page and "#42" in page and "governance.camera" not in page.split("<tbody>", 1)[1]
    assert event.hash[:12] in page


def test_ledger_rows_name_their_object_link_their_request_and_set_refusals_apart(admin_client, insider):
    add_events(1, actor=insider, target=("governance.camera", 7))
    add_events(1, actor=insider, target=("requests.footagerequest", 3), reference="YC-2025-0003", outcome=Outcome.DENIED)

    page = admin_client.get(LEDGER, HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    rows = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]

    assert "requests.footagerequest" not in rows and "governance.camera" not in rows
    assert 'href="/requests/YC-2025-0003/"' in rows
    assert rows.count('class="is-refused"') == 1 and 'class="badge badge-outcome-denied"' in rows
    options = page.split('name="target_type"', 1)[1].split("</select>", 1)[0]
    assert 'value="requests.footagerequest"' in options and 'value="governance.camera"' in options
    assert "objectpermission" not in options


def test_an_object_type_that_is_not_one_is_refused_with_an_error_and_no_events(auditor_client):
    add_events(1)
    response = auditor_client.get(LEDGER, {"target_type": "governance.camera' OR 1=1"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200 and response.context["page"] is None
    assert "Select a valid choice" in response.content.decode()


def test_keyset_pages_are_disjoint_and_consecutive(auditor_client):
    created = [e.seq for e in add_events(12)]

    first = auditor_client.get(LEDGER, {"size": 5, "action": Action.GOVERNANCE_UPDATE})
    second = auditor_client.get(link(first, "next"))
    third = auditor_client.get(link(second, "next"))

    pages = [seqs_on(first), seqs_on(second), seqs_on(third)]
    assert pages[0] + pages[1] + pages[2] == sorted(created, reverse=True)
    assert [len(p) for p in pages] == [5, 5, 2]
    assert link(first, "prev") is None
    assert link(third, "next") is None


def test_newer_link_returns_the_page_before(auditor_client):
    add_events(12)
    first = auditor_client.get(LEDGER, {"size": 5, "action": Action.GOVERNANCE_UPDATE})
    second = auditor_client.get(link(first, "next"))
    third = auditor_client.get(link(second, "next"))

    back_to_second = auditor_client.get(link(third, "prev"))
    back_to_first = auditor_client.get(link(back_to_second, "prev"))

    assert seqs_on(back_to_second) == seqs_on(second)
    assert seqs_on(back_to_first) == seqs_on(first)
    assert link(back_to_first, "prev") is None


def test_pages_stay_disjoint_while_new_events_arrive(auditor_client):
    add_events(8)
    first = auditor_client.get(LEDGER, {"size": 4, "action": Action.GOVERNANCE_UPDATE})
    add_events(3)
    second = auditor_client.get(link(first, "next"))

    assert not set(seqs_on(first)) & set(seqs_on(second))
    assert max(seqs_on(second)) < min(seqs_on(first))


def test_filter_by_actor(auditor_client, insider, outsider):
    mine = add_events(2, actor=insider)
    add_events(2, actor=outsider)

    response = auditor_client.get(LEDGER, {"actor": "alice", "action": Action.GOVERNANCE_UPDATE})

    assert seqs_on(response) == [e.seq for e in reversed(mine)]


def test_filter_by_unknown_actor_shows_nothing(auditor_client, insider):
    add_events(2, actor=insider)

    response = auditor_client.get(LEDGER, {"actor": "nobody"})

    assert response.status_code == 200
    assert seqs_on(response) == []


def test_filter_by_agency(auditor_client, insider, colleague, outsider):
    theirs = add_events(1, actor=insider) + add_events(1, actor=colleague)
    add_events(2, actor=outsider)

    response = auditor_client.get(LEDGER, {"agency": "cap-a", "action": Action.GOVERNANCE_UPDATE})

    assert seqs_on(response) == [e.seq for e in reversed(theirs)]


def test_filter_by_action(auditor_client, insider):
    add_events(2, actor=insider, action=Action.GOVERNANCE_UPDATE)
    deleted = add_events(1, actor=insider, action=Action.GOVERNANCE_DELETE)

    response = auditor_client.get(LEDGER, {"action": Action.GOVERNANCE_DELETE})

    assert seqs_on(response) == [deleted[0].seq]


def test_filter_by_target_reference_and_outcome(admin_client, insider):
    add_events(2, actor=insider, target=("governance.camera", 1))
    camera_7 = add_events(1, actor=insider, target=("governance.camera", 7))
    denied = add_events(1, actor=insider, target=("requests.footagerequest", 3), reference="YC-2025-0003", outcome=Outcome.DENIED)

    assert seqs_on(admin_client.get(LEDGER, {"target_type": "governance.camera", "target_id": "7"})) == [camera_7[0].seq]
    assert seqs_on(admin_client.get(LEDGER, {"reference": "YC-2025-0003"})) == [denied[0].seq]
    assert seqs_on(admin_client.get(LEDGER, {"outcome": Outcome.DENIED})) == [denied[0].seq]


def test_filter_by_local_dates_is_inclusive_and_uses_the_city_time_zone(client, db):
    saigon = timezone.get_default_timezone()

    def local(day, hour, minute=0):
        return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)), saigon)

    # Dated events come first so that time rises with the sequence, as it does in the ledger.
    day = dt.date(2024, 3, 2)
    late_before = add_event_at(local(day - dt.timedelta(days=1), 23, 30))
    just_after_midnight = add_event_at(local(day, 0, 30))  # still 1 March in UTC
    midday = add_event_at(local(day, 12))
    next_day = add_event_at(local(day + dt.timedelta(days=1), 0, 10))
    auditor = UserFactory(username="thanhtra", roles=["auditor"])
    client.force_login(auditor)

    one_day = client.get(LEDGER, {"date_from": "2024-03-02", "date_to": "02/03/2024"})
    from_day = client.get(LEDGER, {"date_from": "2024-03-02", "action": Action.GOVERNANCE_UPDATE})
    until_day = client.get(LEDGER, {"date_to": "2024-03-01"})

    assert seqs_on(one_day) == [midday.seq, just_after_midnight.seq]
    assert seqs_on(from_day) == [next_day.seq, midday.seq, just_after_midnight.seq]
    assert seqs_on(until_day) == [late_before.seq]


def test_date_range_with_no_events_shows_nothing(auditor_client):
    add_events(2)

    response = auditor_client.get(LEDGER, {"date_from": "2001-01-01", "date_to": "2001-01-31"})

    assert response.status_code == 200
    assert seqs_on(response) == []


@pytest.mark.parametrize(
    "params",
    [
        {"date_from": "not-a-date"},
        {"date_from": "2025-03-10", "date_to": "2025-03-01"},
        {"action": "audit.erase"},
        {"outcome": "maybe"},
        {"agency": "cap a/../"},
        {"target_id": "7"},
        {"after": "abc"},
        {"after": "-3"},
        {"after": "5", "before": "9"},
        {"size": "100000"},
        {"actor": "x" * 300},
    ],
)
def test_invalid_filter_input_shows_an_error_not_a_crash(auditor_client, params):
    add_events(3)

    response = auditor_client.get(LEDGER, params)

    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()
    assert seqs_on(response) == []


def test_the_filter_fields_show_what_each_page_asked_for_in_its_language(auditor_client):
    add_events(3)

    def actor_field(params, language="vi"):
        page = auditor_client.get(LEDGER, params, HTTP_ACCEPT_LANGUAGE=language).content.decode()
        return page[page.index('name="actor"') - 200 : page.index('name="actor"') + 120]

    assert 'value="alice"' in actor_field({"actor": "alice"})
    assert 'value="alice"' in actor_field({"actor": "alice", "after": "2"})  # the next page: the same filters
    assert "value=" not in actor_field({}).split('name="actor"')[1].split(">")[0]
    assert 'value="bob"' in actor_field({"actor": "bob"})
    english = auditor_client.get(LEDGER, {"date_from": "31/02/2026"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    vietnamese = auditor_client.get(LEDGER, {"date_from": "31/02/2026"}, HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    assert "User name" in english and "User name" not in vietnamese
    assert 'id="id_date_from_error"' in english and 'id="id_date_from_error"' in vietnamese


def test_viewing_the_ledger_writes_a_ledger_view_event(auditor_client, auditor):
    add_events(3)

    auditor_client.get(LEDGER, {"action": Action.GOVERNANCE_UPDATE})

    view = AuditEvent.objects.order_by("-seq").first()
    assert view.action == Action.LEDGER_VIEW
    assert view.actor_id == auditor.pk
    assert view.data["filters"] == {"action": Action.GOVERNANCE_UPDATE.value}


def test_ledger_page_issues_the_same_number_of_queries_whatever_its_size(auditor_client, django_assert_max_num_queries):
    add_events(60)
    auditor_client.get(LEDGER)  # warm the caches filled once per process (permission ids, the session)
    counts = []
    for size in (5, 50):
        with CaptureQueriesContext(connection) as queries:
            response = auditor_client.get(LEDGER, {"size": size})
        assert len(seqs_on(response)) == size
        counts.append(len(queries))

    assert counts[0] == counts[1]
    with django_assert_max_num_queries(counts[0]):
        auditor_client.get(LEDGER, {"size": 200})
    # Session, user, roles, the reader's scope (agency, area, groups), the page, then the ledger write
    # (head, insert), the key register and the navigation; nothing per row. This auditor may open few requests: its
    # page also counts them (up to oversight.selectors.FEW_REQUESTS) and reads the ledger from two sides.
    assert counts[0] <= 16


# --- one event ---------------------------------------------------------------


def test_event_detail_shows_hashes_payload_and_neighbours(auditor_client, insider):
    before, event, after = add_events(3, actor=insider, data={"changed": {"status": ["active", "offline"]}, "note": "Đổi"})

    response = auditor_client.get(reverse("oversight:event", args=[event.seq]))
    page = response.content.decode()

    assert event.hash in page and event.prev_hash in page
    assert "&quot;note&quot;: &quot;Đổi&quot;" in page  # pretty-printed, Vietnamese kept
    assert "\n  &quot;changed&quot;" in page
    assert link(response, "prev") == reverse("oversight:event", args=[before.seq])
    assert link(response, "next") == reverse("oversight:event", args=[after.seq])


def test_viewing_an_event_writes_a_ledger_view_event(admin_client, admin_user):
    event = add_events(1, reference="YC-2025-0009")[0]

    admin_client.get(reverse("oversight:event", args=[event.seq]))

    view = AuditEvent.objects.order_by("-seq").first()
    assert (view.action, view.actor_id) == (Action.LEDGER_VIEW, admin_user.pk)
    assert (view.target_type, view.target_id, view.reference) == ("audit.auditevent", str(event.seq), "")


# --- verification --------------------------------------------------------------


@pytest.fixture
def eager_celery(settings):
    """Run tasks in-process: Django's setting for code that reads it, Celery's own config for the app."""
    from config.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = True
    previous = app.conf.get("task_always_eager", False)
    app.conf.task_always_eager = True
    yield app
    app.conf.task_always_eager = previous


def test_verify_now_runs_and_passes_on_an_intact_chain(auditor_client, auditor, eager_celery, django_capture_on_commit_callbacks):
    add_events(5)

    with django_capture_on_commit_callbacks(execute=True):
        response = auditor_client.post(VERIFY)

    assert response.status_code == 302 and response.url == VERIFY
    run = VerificationRun.objects.get()
    assert run.requested_by == auditor
    assert run.status == VerificationRun.Status.PASSED
    assert run.events_checked >= 5
    assert run.head_seq is not None and run.broken_seq is None
    page = auditor_client.get(VERIFY).content.decode()
    assert str(VerificationRun.Status.PASSED.label) in page


def test_verify_now_asked_for_while_the_broker_is_down_runs_later(
    auditor_client, auditor, eager_celery, django_capture_on_commit_callbacks
):
    from kombu.exceptions import OperationalError

    from audit.tasks import verify_ledger_task

    add_events(3)
    with (
        mock.patch.object(verify_ledger_task, "delay", side_effect=OperationalError("Connection refused")),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = auditor_client.post(VERIFY)

    run = VerificationRun.objects.get()
    assert response.status_code == 302 and run.status == VerificationRun.Status.PENDING
    assert services.resume_waiting_work(now=timezone.now() + dt.timedelta(minutes=11)) == 1
    run.refresh_from_db()
    assert run.status == VerificationRun.Status.PASSED


def test_pending_run_shows_as_waiting_and_refreshes(auditor_client, auditor):
    VerificationRun.objects.create(requested_by=auditor)

    page = auditor_client.get(VERIFY).content.decode()

    assert str(VerificationRun.Status.PENDING.label) in page
    # The part that changes follows the run in place (static/js/live_refresh.js); the page does not reload itself.
    assert 'id="verify-now" data-live-refresh="5"' in page and 'http-equiv="refresh"' not in page


def test_verify_now_does_not_pile_up_while_a_run_is_under_way(auditor_client, auditor, django_capture_on_commit_callbacks):
    VerificationRun.objects.create(requested_by=auditor, status=VerificationRun.Status.RUNNING)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        auditor_client.post(VERIFY)

    assert VerificationRun.objects.count() == 1
    assert callbacks == []


def test_verify_page_shows_the_latest_checkpoint(auditor_client):
    head = add_events(1)[0]
    Checkpoint.objects.create(
        seq=head.seq,
        hash=head.hash,
        signed_at="2025-03-02T01:00:00+00:00",
        key_id="abcd1234abcd1234",
        public_key_pem="-",
        signature="c2ln",
    )

    page = auditor_client.get(VERIFY).content.decode()

    assert head.hash in page and "abcd1234abcd1234" in page


def test_another_city_inspectorate_sees_the_city_ledger(client, insider, city):
    inspectorate = AgencyFactory(code="thanh-tra-2", kind="inspectorate", area=city)
    client.force_login(UserFactory(agency=inspectorate, roles=["auditor"]))
    event = add_events(1, actor=insider)[0]

    assert event.seq in seqs_on(client.get(LEDGER))


def test_an_auditor_of_another_area_does_not_see_the_event(client, insider):
    inspectorate = AgencyFactory(code="thanh-tra-3", kind="inspectorate", area=ProvinceFactory(code="hcm"))
    client.force_login(UserFactory(agency=inspectorate, roles=["auditor"]))
    event = add_events(1, actor=insider)[0]

    assert event.seq not in seqs_on(client.get(LEDGER))
    assert client.get(reverse("oversight:event", args=[event.seq])).status_code == 404
