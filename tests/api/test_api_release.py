"""Decisions, releases, downloads and the hash check through the API: the same rules as the pages."""

import datetime as dt
import hashlib
import json

import pytest
from django.test import Client

from audit.models import AuditEvent
from requests.models import FootageRequest, Status
from tests.api.conftest import bearer, machine
from tests.auth import sign_in_verified
from tests.requests.footage import footage, segment_bank  # noqa: F401 - footage for the released request
from tests.requests.test_release import released  # noqa: F401 - a released request of agency A

pytestmark = pytest.mark.django_db

RECEIVER = ("catalogue:read", "requests:read", "requests:file", "releases:read", "releases:receive")


def as_json(client, url, body=None, **headers):
    return client.post(url, json.dumps(body or {}), content_type="application/json", **headers)


def test_officials_decide_through_the_api_with_their_second_factor(world):
    submitted = world.submitted()
    reviewer = sign_in_verified(Client(), world.reviewer)
    reviewed = as_json(
        reviewer, f"/api/v1/requests/{submitted.reference}/review/", {"recommendation": "approve", "reason": "Đủ căn cứ"}
    )
    assert reviewed.status_code == 200, reviewed.json()
    assert reviewed.json()["status"] == Status.IN_REVIEW
    # An approver whose session has not passed the second factor is refused, and nothing is signed.
    unverified = Client()
    unverified.force_login(world.approver)
    refused = as_json(unverified, f"/api/v1/requests/{submitted.reference}/approve/", {})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "second_factor_required"
    item = reviewed.json()["items"][0]
    approver = sign_in_verified(Client(), world.approver)
    # Half an hour after the start (the window is two hours): a narrowing, whatever minute the test runs at.
    narrowed_end = (dt.datetime.fromisoformat(item["start"]) + dt.timedelta(minutes=30)).isoformat()
    signed = as_json(
        approver,
        f"/api/v1/requests/{submitted.reference}/approve/",
        {"reason": "Đồng ý", "items": [{"id": item["id"], "end": narrowed_end}]},
    )
    assert signed.status_code == 200, signed.json()
    assert AuditEvent.objects.filter(
        reference=submitted.reference, action="request.approve", actor_username=world.approver.username
    ).exists()
    foreign = as_json(approver, f"/api/v1/requests/{submitted.reference}/approve/", {"items": [{"id": 10**9}]})
    assert foreign.status_code == 400


def test_a_token_never_decides(world):
    submitted = world.submitted()
    _account, token = machine(world.agency_a)
    for action, body in [
        ("review", {"recommendation": "approve"}),
        ("approve", {}),
        ("reject", {"reason": "x"}),
        ("ask-info", {"question": "?"}),
    ]:
        answer = as_json(Client(), f"/api/v1/requests/{submitted.reference}/{action}/", body, **bearer(token))
        assert answer.status_code == 403, action
    submitted.refresh_from_db()
    assert submitted.status == Status.SUBMITTED
    assert not submitted.decisions.exists()


def test_a_case_system_takes_its_footage_checks_it_and_confirms_receipt(world, released):  # noqa: F811
    _account, token = machine(world.agency_a, scopes=RECEIVER)
    client = Client()
    status = client.get(f"/api/v1/requests/{released.reference}/release/", **bearer(token))
    assert status.status_code == 200
    manifest = status.json()["release"]
    assert manifest["package_sha256"] == released.release.package_sha256
    videos = [f for f in manifest["files"] if f["kind"] == "video"]
    assert videos and all(f["decoded"] for f in videos)
    link = client.post(f"/api/v1/requests/{released.reference}/release/link/", **bearer(token))
    assert link.status_code == 201, link.json()
    download = client.get(link.json()["download_url"], **bearer(token))
    assert download.status_code == 200
    package = b"".join(download.streaming_content)
    assert hashlib.sha256(package).hexdigest() == released.release.package_sha256
    # The same link in another caller's hands is refused, and the refusal is logged.
    _other, other_token = machine(world.agency_a, scopes=RECEIVER, name="Đầu ghi")
    stolen = client.get(link.json()["download_url"], **bearer(other_token))
    assert stolen.status_code == 404 and stolen.json()["error"]["code"] == "link_not_valid"
    assert AuditEvent.objects.filter(action="release.download_refused").exists()
    checked = as_json(client, "/api/v1/verify/", {"sha256": videos[0]["sha256"].upper()}, **bearer(token))
    assert checked.status_code == 200
    assert checked.json()["matches"][0]["reference"] == released.reference
    unknown = as_json(client, "/api/v1/verify/", {"sha256": "0" * 64}, **bearer(token))
    assert unknown.json()["matches"] == []
    bad = as_json(client, "/api/v1/verify/", {"sha256": "xyz"}, **bearer(token))
    assert bad.status_code == 400 and "sha256" in bad.json()["error"]["fields"]
    closed = as_json(client, f"/api/v1/requests/{released.reference}/receipt/", **bearer(token))
    assert closed.status_code == 200 and closed.json()["status"] == Status.CLOSED


def test_agency_b_sees_nothing_of_agency_a_release(world, released):  # noqa: F811
    _account, token = machine(world.agency_b, scopes=RECEIVER)
    client = Client()
    for method, url in [
        ("get", f"/api/v1/requests/{released.reference}/release/"),
        ("post", f"/api/v1/requests/{released.reference}/release/link/"),
        ("post", f"/api/v1/requests/{released.reference}/receipt/"),
        ("post", f"/api/v1/requests/{released.reference}/comments/"),
    ]:
        assert getattr(client, method)(url, **bearer(token)).status_code == 404, url
    assert FootageRequest.objects.get(pk=released.pk).status == Status.RELEASED


def test_an_answer_to_a_question_through_the_api(world):
    from requests import workflow

    submitted = world.submitted()
    workflow.request_ask_info(actor=world.reviewer, footage_request=submitted, question="Bổ sung số vụ việc?")
    _account, token = machine(world.agency_a)
    answer = as_json(
        Client(), f"/api/v1/requests/{submitted.reference}/comments/", {"body": "Số vụ việc: TB-42"}, **bearer(token)
    )
    assert answer.status_code == 200, answer.json()
    not_text = as_json(Client(), f"/api/v1/requests/{submitted.reference}/comments/", {"body": ["x"]}, **bearer(token))
    assert not_text.status_code == 400
    resubmitted = Client().post(f"/api/v1/requests/{submitted.reference}/submit/", **bearer(token))
    assert resubmitted.status_code == 200, resubmitted.json()
    assert resubmitted.json()["status"] == Status.SUBMITTED


def test_an_auditor_orders_a_report_and_a_bundle_through_the_api(world, django_capture_on_commit_callbacks):
    from django.utils import timezone

    from governance.models import Agency
    from oversight.models import BundleRequest, Report
    from tests.factories import AgencyFactory, UserFactory

    inspectorate = AgencyFactory(code="tt-q", name_vi="Thanh tra quận", kind=Agency.Kind.INSPECTORATE, area=world.ward.parent)
    auditor = UserFactory(agency=inspectorate, roles=["auditor"])
    _account, token = machine(inspectorate, roles=("auditor",), scopes=["ledger:read"])
    today = timezone.localdate().isoformat()
    period = {"date_from": today, "date_to": today}
    # A token never takes a copy of the ledger.
    assert as_json(Client(), "/api/v1/reports/", period, **bearer(token)).status_code == 403
    assert as_json(Client(), "/api/v1/bundles/", period, **bearer(token)).status_code == 403
    person = sign_in_verified(Client(), auditor)
    ordered = as_json(person, "/api/v1/reports/", {**period, "agency": world.agency_a.code})
    assert ordered.status_code == 202, ordered.json()
    assert ordered.json()["agency"] == world.agency_a.code and Report.objects.count() == 1
    assert person.get(f"/api/v1/reports/{ordered.json()['id']}/").status_code == 200
    outside = as_json(person, "/api/v1/reports/", {**period, "agency": "khong-co"})
    assert outside.status_code == 400 and "agency" in outside.json()["error"]["fields"]
    backwards = as_json(person, "/api/v1/bundles/", {"date_from": today, "date_to": "2000-01-01"})
    assert backwards.status_code == 400 and BundleRequest.objects.count() == 0
    # Another inspectorate's auditor does not find this report.
    other = UserFactory(
        agency=AgencyFactory(code="tt-k", kind=Agency.Kind.INSPECTORATE, area=world.ward.parent), roles=["auditor"]
    )
    assert sign_in_verified(Client(), other).get(f"/api/v1/reports/{ordered.json()['id']}/").status_code == 404


ACTS = [
    # (who, page path, page form, API path, API body, the request before: "draft" | "submitted" | "reviewed")
    ("insider", "submit", {}, "submit", {}, "draft"),
    ("insider", "withdraw", {"reason": "Không cần nữa"}, "withdraw", {"reason": "Không cần nữa"}, "submitted"),
    (
        "reviewer",
        "review",
        {"recommendation": "approve", "reason": "Đủ"},
        "review",
        {"recommendation": "approve", "reason": "Đủ"},
        "submitted",
    ),
    ("reviewer", "ask-info", {"question": "Số vụ việc?"}, "ask-info", {"question": "Số vụ việc?"}, "submitted"),
    ("approver", "approve", {}, "approve", {}, "submitted"),  # refused: no recommendation yet
    ("approver", "approve", {"reason": "Đồng ý"}, "approve", {"reason": "Đồng ý"}, "reviewed"),
    ("approver", "reject", {"reason": "Thiếu căn cứ"}, "reject", {"reason": "Thiếu căn cứ"}, "reviewed"),
    ("outsider", "withdraw", {}, "withdraw", {}, "submitted"),  # another agency: nothing to act on
    ("custodian", "review", {"recommendation": "approve"}, "review", {"recommendation": "approve"}, "submitted"),
]


@pytest.mark.parametrize(("who", "page_action", "form", "api_action", "body", "before"), ACTS)
def test_the_page_and_the_api_give_the_same_outcome(world, who, page_action, form, api_action, body, before):
    """The same person doing the same act on two identical requests, once on the page and once through the API: the
    same status after, the same decisions, the same ledger actions."""
    make = {"draft": world.draft, "submitted": world.submitted, "reviewed": world.reviewed}[before]
    on_page, through_api = make(), make()
    person = getattr(world, who)
    page = sign_in_verified(Client(), person)
    page.post(f"/requests/{on_page.reference}/{page_action}/", form)
    api = sign_in_verified(Client(), person)
    answer = as_json(api, f"/api/v1/requests/{through_api.reference}/{api_action}/", body)
    on_page.refresh_from_db()
    through_api.refresh_from_db()
    assert on_page.status == through_api.status, answer.content
    assert on_page.decisions.count() == through_api.decisions.count()

    def acts(footage_request):
        return sorted(
            AuditEvent.objects.filter(reference=footage_request.reference)
            .exclude(action="request.view")
            .values_list("action", flat=True)
        )

    assert acts(on_page) == acts(through_api)
    if who == "outsider":
        assert answer.status_code == 404
