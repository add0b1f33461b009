"""The integration API under the pages' rules: tokens, scopes, agencies, idempotent filing, one error shape."""

import json

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from api.models import ApiToken, IdempotentFiling
from audit.models import AuditEvent
from requests import workflow
from requests.models import FootageRequest, Status
from tests.api.conftest import bearer, machine
from tests.auth import sign_in_verified

pytestmark = pytest.mark.django_db


# One moment for the whole module: two filings built a second apart are the same body, as a retry is.
FILED_AT = timezone.now().replace(microsecond=0)


def filing(world, **changes):
    end = FILED_AT - timezone.timedelta(hours=3)
    body = {
        "legal_basis": world.basis.code,
        "letter_number": "45/CV-CAP",
        "letter_date": timezone.localdate(FILED_AT).isoformat(),
        "case_reference": "",
        "purpose": "Xác minh vụ trộm xe máy",
        "urgency": "emergency",
        "items": [
            {
                "camera": world.camera.code,
                "start": (end - timezone.timedelta(hours=1)).isoformat(),
                "end": end.isoformat(),
                "data_category": "video",
            }
        ],
    }
    body.update(changes)
    return body


def post(client, url, body, token, **headers):
    return client.post(url, json.dumps(body), content_type="application/json", **bearer(token), **headers)


def test_a_case_system_files_submits_and_reads_its_request(world):
    _account, token = machine(world.agency_a)
    client = Client()
    created = post(client, "/api/v1/requests/", filing(world), token, HTTP_IDEMPOTENCY_KEY="case-42")
    assert created.status_code == 201, created.json()
    reference = created.json()["reference"]
    assert created.json()["status"] == "draft"
    assert created.json()["items"][0]["camera"] == world.camera.code
    submitted = client.post(f"/api/v1/requests/{reference}/submit/", **bearer(token))
    assert submitted.status_code == 200, submitted.json()
    assert submitted.json()["status"] == Status.SUBMITTED
    listed = client.get("/api/v1/requests/", **bearer(token))
    assert [row["reference"] for row in listed.json()["results"]] == [reference]
    # Every call that read or changed the request is in the ledger, naming the account and its agency.
    events = AuditEvent.objects.filter(actor_username=_account.username)
    actions = set(events.values_list("action", flat=True))
    assert {"request.create", "request.submit", "api.request_list"} <= actions
    assert set(events.values_list("actor_agency", flat=True)) == {world.agency_a.code}


def test_a_retried_filing_never_files_twice(world):
    _account, token = machine(world.agency_a)
    client = Client()
    first = post(client, "/api/v1/requests/", filing(world), token, HTTP_IDEMPOTENCY_KEY="retry-1")
    again = post(client, "/api/v1/requests/", filing(world), token, HTTP_IDEMPOTENCY_KEY="retry-1")
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["reference"] == first.json()["reference"]
    assert FootageRequest.objects.count() == 1
    other = post(client, "/api/v1/requests/", filing(world, purpose="Một vụ khác"), token, HTTP_IDEMPOTENCY_KEY="retry-1")
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert FootageRequest.objects.count() == 1
    missing = post(client, "/api/v1/requests/", filing(world), token)
    assert missing.status_code == 400
    assert missing.json()["error"]["code"] == "idempotency_key_required"
    assert FootageRequest.objects.count() == 1


def test_bad_input_is_refused_field_by_field_in_the_callers_language_and_changes_nothing(world):
    _account, token = machine(world.agency_a)
    client = Client()
    events = AuditEvent.objects.count()
    nul = filing(world)
    nul["items"][0]["camera"] = "HN\x00"
    refused = post(Client(), "/api/v1/requests/", nul, token, HTTP_IDEMPOTENCY_KEY="nul")
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "invalid_characters"
    body = filing(world, letter_date="2099-01-01")
    body["items"][0]["camera"] = "KHONG-CO"
    answer = client.post(
        "/api/v1/requests/",
        json.dumps(body),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="bad",
        **bearer(token, "vi"),
    )
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "invalid"
    assert "letter_date" in error["fields"] and "items[0].camera" in error["fields"]
    english = client.post(
        "/api/v1/requests/",
        json.dumps(body),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="bad",
        **bearer(token, "en"),
    )
    assert english.json()["error"]["fields"]["letter_date"] != error["fields"]["letter_date"]
    not_json = client.post(
        "/api/v1/requests/", "{", content_type="application/json", HTTP_IDEMPOTENCY_KEY="bad2", **bearer(token)
    )
    assert not_json.status_code == 400 and not_json.json()["error"]["code"] == "parse_error"
    assert FootageRequest.objects.count() == 0
    assert not IdempotentFiling.objects.exists()
    assert AuditEvent.objects.count() == events


def test_a_token_of_agency_a_finds_nothing_of_agency_b(world):
    theirs = world.submitted(actor=world.outsider)
    _account, token = machine(world.agency_a, scopes=["catalogue:read", "requests:read", "requests:file"])
    client = Client()
    for method, url in [
        ("get", f"/api/v1/requests/{theirs.reference}/"),
        ("post", f"/api/v1/requests/{theirs.reference}/submit/"),
        ("post", f"/api/v1/requests/{theirs.reference}/withdraw/"),
        ("post", f"/api/v1/requests/{theirs.reference}/letter/"),
    ]:
        answer = getattr(client, method)(url, **bearer(token))
        assert answer.status_code == 404, (url, answer.status_code)
        assert answer.json()["error"]["code"] == "not_found"
    listed = client.get("/api/v1/requests/", **bearer(token))
    assert listed.json()["results"] == []
    theirs.refresh_from_db()
    assert theirs.status == Status.SUBMITTED


def test_scopes_bound_a_token(world, inspectorate):
    _account, token = machine(world.agency_a, scopes=["catalogue:read"])
    client = Client()
    assert client.get("/api/v1/data-categories/", **bearer(token)).status_code == 200
    refused = client.get("/api/v1/requests/", **bearer(token))
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "permission_denied"
    assert client.get("/api/v1/ledger/", **bearer(token)).status_code == 403
    # An inspectorate's token with ledger:read reads the ledger its auditors read on the pages.
    _auditor, reader = machine(inspectorate, roles=("auditor",), scopes=["ledger:read"])
    world.submitted()
    page = client.get("/api/v1/ledger/?size=5", **bearer(reader))
    assert page.status_code == 200, page.json()
    assert len(page.json()["results"]) == 5
    assert page.json()["next_after"] is not None
    assert client.get("/api/v1/ledger/?size=5000", **bearer(reader)).json()["error"]["code"] == "invalid"
    # Without requests:read it cannot list requests, though its role could.
    assert client.get("/api/v1/requests/", **bearer(reader)).status_code == 403


def test_a_service_account_never_decides_or_signs_in(world):
    account, token = machine(world.agency_a)
    from django.core.exceptions import PermissionDenied

    from governance.services import membership_grant

    with pytest.raises(PermissionDenied):
        membership_grant(actor=None, user=account, role="approver")
    account.set_password("mot-mat-khau-dai")
    account.save()
    browser = Client()
    answer = browser.post("/accounts/login/", {"username": account.username, "password": "mot-mat-khau-dai"})
    assert answer.status_code == 200  # the sign-in form again, with its error
    assert "_auth_user_id" not in browser.session


def test_revoked_expired_and_wrong_tokens_are_refused(world):
    account, token = machine(world.agency_a)
    client = Client()
    assert client.get("/api/v1/data-categories/", **bearer(token)).status_code == 200
    wrong = token[:-2] + ("aa" if not token.endswith("aa") else "bb")
    answer = client.get("/api/v1/data-categories/", **bearer(wrong, "en"))
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "authentication_failed"
    assert answer["WWW-Authenticate"] == "Bearer"
    row = ApiToken.objects.get(account=account)
    assert token not in json.dumps(list(ApiToken.objects.values()), default=str)
    row.expires_at = timezone.now()
    row.save()
    assert client.get("/api/v1/data-categories/", **bearer(token)).status_code == 401
    row.expires_at = timezone.now() + timezone.timedelta(days=1)
    row.save()
    account.is_active = False
    account.save()
    assert client.get("/api/v1/data-categories/", **bearer(token)).status_code == 401
    assert Client().get("/api/v1/data-categories/").status_code == 401


def test_the_api_and_the_page_give_the_same_answer_for_the_same_act(world):
    """Withdrawing a request someone else's agency filed: refused on the page and through the API alike."""
    _account, token = machine(world.agency_a)
    ours = world.submitted()
    client = Client()
    answer = client.post(
        f"/api/v1/requests/{ours.reference}/withdraw/",
        json.dumps({"reason": "Không cần nữa"}),
        content_type="application/json",
        **bearer(token),
    )
    assert answer.status_code == 200 and answer.json()["status"] == Status.WITHDRAWN
    page = sign_in_verified(Client(), world.insider)
    again = page.post(f"/requests/{ours.reference}/withdraw/", {"reason": "x"})
    assert again.status_code == 302
    refused = client.post(
        f"/api/v1/requests/{ours.reference}/withdraw/", json.dumps({}), content_type="application/json", **bearer(token)
    )
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "refused"
    ours.refresh_from_db()
    assert ours.status == Status.WITHDRAWN
    assert workflow  # the API acted through the workflow: its event names the service account
    assert AuditEvent.objects.filter(reference=ours.reference, action="request.withdraw").count() == 1


def test_a_people_session_uses_the_api_with_csrf(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.insider)
    assert client.get("/api/v1/requests/").status_code == 200
    refused = client.post(
        "/api/v1/requests/", json.dumps(filing(world)), content_type="application/json", HTTP_IDEMPOTENCY_KEY="s1"
    )
    assert refused.status_code == 403
    assert FootageRequest.objects.count() == 0


def test_the_schema_and_its_page_need_a_signed_in_caller(world):
    _account, token = machine(world.agency_a)
    client = Client()
    assert client.get("/api/v1/schema/").status_code == 401
    schema = client.get("/api/v1/schema/?format=json", **bearer(token))
    assert schema.status_code == 200
    assert "/api/v1/requests/" in schema.json()["paths"]
    assert client.get("/api/v1/docs/").status_code == 302
    client.force_login(world.insider)
    page = client.get("/api/v1/docs/")
    assert page.status_code == 200 and b"swagger-ui-bundle.js" in page.content and b"https://" not in page.content


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="threads share no in-memory SQLite database; CI runs it on PostgreSQL"
)
@pytest.mark.django_db(transaction=True)
def test_two_calls_racing_with_one_key_file_once(world):
    import threading

    from django.db import connections

    _account, token = machine(world.agency_a)
    answers = []
    start = threading.Barrier(4)

    def call():
        try:
            start.wait()
            answer = post(Client(), "/api/v1/requests/", filing(world), token, HTTP_IDEMPOTENCY_KEY="race")
            answers.append((answer.status_code, answer.json().get("reference")))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 4
    assert {status for status, _ref in answers} == {201}
    assert len({ref for _status, ref in answers}) == 1
    assert FootageRequest.objects.count() == 1
    assert AuditEvent.objects.filter(action="request.create").count() == 1


def test_dates_no_calendar_can_hold_are_refused_not_a_server_error(world):
    """Found by the schema run: the first or the last day a date may have overflowed the local midnight."""
    _account, token = machine(world.agency_a)
    for query in ("filed_from=0001-01-01", "filed_to=9999-12-31"):
        answer = Client().get(f"/api/v1/requests/?{query}", **bearer(token, "en"))
        assert answer.status_code == 400, query
        assert "01/01/1900" in answer.json()["error"]["fields"][query.split("=")[0]][0]
    page = Client()
    page.force_login(world.insider)
    assert page.get("/requests/?filed_to=31/12/9999").status_code == 200


def test_a_draft_is_changed_through_the_api_and_not_after_submission(world):
    _account, token = machine(world.agency_a)
    client = Client()
    created = post(client, "/api/v1/requests/", filing(world), token, HTTP_IDEMPOTENCY_KEY="edit-1").json()
    changed = client.put(
        f"/api/v1/requests/{created['reference']}/",
        json.dumps(filing(world, purpose="Xác minh vụ trộm xe máy, bổ sung hướng camera")),
        content_type="application/json",
        **bearer(token),
    )
    assert changed.status_code == 200, changed.json()
    assert changed.json()["purpose"].endswith("hướng camera")
    assert changed.json()["content_sha256"] != created["content_sha256"]
    client.post(f"/api/v1/requests/{created['reference']}/submit/", **bearer(token))
    late = client.put(
        f"/api/v1/requests/{created['reference']}/", json.dumps(filing(world)), content_type="application/json", **bearer(token)
    )
    assert late.status_code == 409 and late.json()["error"]["code"] == "refused"
    # A token that may only read cannot change it.
    _reader, reading = machine(world.agency_a, scopes=["requests:read"], name="Chỉ đọc")
    assert (
        client.put(
            f"/api/v1/requests/{created['reference']}/",
            json.dumps(filing(world)),
            content_type="application/json",
            **bearer(reading),
        ).status_code
        == 403
    )


def test_calls_are_throttled_per_token(world, monkeypatch):
    from django.core.cache import cache

    from api.auth import TokenRateThrottle

    monkeypatch.setattr(TokenRateThrottle, "THROTTLE_RATES", {"api": "3/min"})
    cache.clear()
    _account, token = machine(world.agency_a)
    _other, other = machine(world.agency_a, name="Đầu ghi")
    client = Client()
    answers = [client.get("/api/v1/data-categories/", **bearer(token)).status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    refused = client.get("/api/v1/data-categories/", **bearer(token, "en"))
    assert refused.json()["error"]["code"] == "throttled" and refused["Retry-After"]
    # Another token of the same agency has its own allowance.
    assert client.get("/api/v1/data-categories/", **bearer(other)).status_code == 200
