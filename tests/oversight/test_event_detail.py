"""One ledger event as a person reads it: its object by name, its details labelled and in Vietnam time, the raw JSON kept."""

# ruff: noqa: F811 - the fixtures imported below are requested by name

import ast
import datetime as dt
import html
from pathlib import Path

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import translation

from audit import record_event
from audit.models import Action, AuditEvent
from governance.models import Agency
from governance.timefmt import local_time
from oversight.event_data import DATA_LABELS, readable_value
from requests import workflow
from tests.auth import sign_in_verified
from tests.factories import AgencyFactory, UserFactory
from tests.requests.conftest import world  # noqa: F401 - the workflow's fixture world

pytestmark = pytest.mark.django_db


def inspector(area, code):
    inspectorate = AgencyFactory(code=code, kind=Agency.Kind.INSPECTORATE, area=area)
    return UserFactory(username=f"{code}.auditor", agency=inspectorate, roles=["auditor"])


@pytest.fixture
def narrowed_approval(world):
    """An approval of a Hàng Bạc request whose approver shortened the camera's window by an hour."""
    footage_request = world.reviewed()
    item = footage_request.items.get()
    new_start = item.start + dt.timedelta(hours=1)
    workflow.request_approve(
        actor=world.approver, footage_request=footage_request, reason="Thu hẹp", narrow={item.pk: (new_start, item.end)}
    )
    footage_request.refresh_from_db()
    event = AuditEvent.objects.get(reference=footage_request.reference, action=Action.REQUEST_APPROVE)
    return event, footage_request, new_start


def event_page(client, event):
    return client.get(reverse("oversight:event", args=[event.seq]))


def test_an_approval_event_reads_as_a_labelled_table_in_vietnam_time(client, world, narrowed_approval):
    event, footage_request, new_start = narrowed_approval
    sign_in_verified(client, inspector(world.ward, "thanh-tra-hang-bac"), language="en")

    response = event_page(client, event)

    assert response.status_code == 200
    details = html.unescape(response.content.decode().split("data-details", 1)[1].split(">", 1)[1].split("</div>", 1)[0])
    for label in ("Decision number", "Approvals so far", "Approvals needed", "All approvals given", "Scope narrowed"):
        assert f">{label}</th>" in details
    assert "approvals_needed" not in details
    # The narrowed window in Vietnam time, to the second, with its zone; not the stored UTC text.
    assert local_time(new_start, "%d/%m/%Y %H:%M:%S") in details
    assert "(UTC+7)" in details
    assert f"<code>{footage_request.content_hash}</code>" in details


def test_a_submission_names_the_agencies_it_was_sent_to_and_its_deadline_in_vietnam_time(client, world):
    footage_request = world.submitted()
    event = AuditEvent.objects.get(reference=footage_request.reference, action=Action.REQUEST_SUBMIT)
    sign_in_verified(client, inspector(world.ward, "thanh-tra-hang-bac"), language="en")

    page = html.unescape(event_page(client, event).content.decode())

    with translation.override("en"):
        assert f">Reviewing agencies</th><td>{world.centre}, {world.committee}</td>" in page
    assert local_time(footage_request.due_at, "%d/%m/%Y %H:%M:%S") in page
    assert ">Normal <code" in page  # the urgency in words, its code beside it


def test_the_raw_canonical_json_stays_behind_a_toggle(client, world, narrowed_approval):
    event, _footage_request, _new_start = narrowed_approval
    sign_in_verified(client, inspector(world.ward, "thanh-tra-hang-bac"), language="en")

    page = event_page(client, event).content.decode()

    toggle = page.split("<details", 1)[1].split("</details>", 1)[0]
    assert "<summary>" in toggle
    raw = html.unescape(toggle.split("<pre", 1)[1])
    assert '"approvals_needed": ' in raw and '"narrowed": {' in raw


def test_the_object_is_the_request_by_its_reference_linked_for_a_reader_who_may_open_it(client, world, narrowed_approval):
    event, footage_request, _new_start = narrowed_approval
    sign_in_verified(client, inspector(world.ward, "thanh-tra-hang-bac"), language="en")

    response = event_page(client, event)

    assert response.context["object"].name == f"Request {footage_request.reference}"
    assert f'href="{reverse("requests:detail", args=[footage_request.reference])}"' in response.content.decode()
    assert "requests.footagerequest #" not in response.content.decode()


def test_an_event_about_another_areas_request_is_still_404(client, world, narrowed_approval):
    event, _footage_request, _new_start = narrowed_approval
    sign_in_verified(client, inspector(world.other_ward, "thanh-tra-hang-dao"), language="en")

    assert event_page(client, event).status_code == 404


def test_an_account_outside_the_readers_area_is_not_named(client, world):
    with transaction.atomic():
        # Visible to the ward's auditor through its actor, a Hàng Bạc officer; the account is the centre's approver.
        event = record_event(actor=world.insider, action=Action.GOVERNANCE_UPDATE, target=world.approver)
    ward_auditor = inspector(world.ward, "thanh-tra-hang-bac")
    centre_admin = UserFactory(agency=world.centre, is_staff=True, roles=["administrator"])

    shown = event_page(sign_in_verified(client, ward_auditor, language="en"), event).context["object"]
    assert shown.name == f"#{world.approver.pk}"
    sign_in_verified(client, centre_admin, language="en")
    assert event_page(client, event).context["object"].name == world.approver.username


def test_a_report_of_another_reader_keeps_only_its_kind_and_id(client, world):
    with transaction.atomic():
        event = record_event(actor=None, action=Action.REPORT_GENERATE, target=("oversight.report", 4242))
    sign_in_verified(client, inspector(world.ward, "thanh-tra-hang-bac"), language="en")

    shown = event_page(client, event).context["object"]

    assert shown.name == "#4242" and not shown.url


@translation.override("en")
def test_unknown_keys_stay_as_recorded_and_codes_read_as_words():
    assert readable_value("urgency", "emergency").startswith("Emergency")
    assert readable_value("outcome", "recommend_approve").startswith("Recommends approval")
    assert readable_value("decision", 12345) == "12345"
    assert readable_value("complete", True) == "Yes"
    assert readable_value("something_new", "<b>x</b>") == "&lt;b&gt;x&lt;/b&gt;"


def _recorded_keys():
    """Every literal key the code passes in record_event(data={...})."""
    root = Path(__file__).resolve().parents[2]
    keys = set()
    for app in ("accounts", "audit", "governance", "requests", "oversight"):
        for path in (root / app).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "record_event":
                    for keyword in node.keywords:
                        if keyword.arg == "data" and isinstance(keyword.value, ast.Dict):
                            keys |= {k.value for k in keyword.value.keys if isinstance(k, ast.Constant)}
    return keys


def test_every_key_the_code_records_has_a_label_for_the_reader():
    keys = _recorded_keys()

    assert len(keys) > 50
    assert sorted(keys - set(DATA_LABELS)) == []


def test_text_that_only_looks_like_a_far_off_time_is_shown_as_typed(client, world):
    with transaction.atomic():
        event = record_event(
            actor=world.insider,
            action=Action.REQUEST_WITHDRAW,
            data={"reason": "9999-12-31 23:00", "filters": {"actor": "0001-01-01T00:00:00+07:00"}},
        )
    sign_in_verified(client, inspector(world.province, "thanh-tra-tp"), language="vi")

    response = event_page(client, event)

    assert response.status_code == 200
    page = response.content.decode()
    assert "9999-12-31 23:00" in page and "0001-01-01T00:00:00+07:00" in page
