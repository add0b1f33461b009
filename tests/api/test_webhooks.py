"""Webhooks to agency systems: signed, sent only after commit, retried, given up in the ledger, kept per agency."""

import datetime as dt
import hashlib
import hmac
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest import mock

import pytest
import time_machine
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation

from api import tasks
from api.models import WebhookDelivery, WebhookEndpoint
from api.webhooks import endpoint_create, endpoint_deactivate, validate_url
from audit.models import Action, AuditEvent
from governance.models import Role
from requests import workflow
from requests.models import StatusChange
from tests.api.conftest import world  # noqa: F401 - the workflow world
from tests.auth import sign_in_verified
from tests.factories import UserFactory


class Receiver:
    """An agency system on this machine: records each call and answers with the next code of `codes` (then 200)."""

    def __init__(self, codes=()):
        self.codes = list(codes)
        self.calls = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.calls.append({"headers": dict(self.headers), "body": body, "path": self.path})
                code = receiver.codes.pop(0) if receiver.codes else 200
                answer = b"stored" if code < 300 else b"database unavailable"
                self.send_response(code)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/cctv"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOW_LOOPBACK_HTTP = True
    settings.WEBHOOK_TIMEOUT_SECONDS = 5
    made = []

    def make(codes=()):
        made.append(Receiver(codes))
        return made[-1]

    yield make
    for one in made:
        one.close()


def administrator(agency):
    return UserFactory(agency=agency, is_staff=True, roles=[Role.ADMINISTRATOR])


def verifies(call, secret, *, now=None):
    """What a receiver does (api.webhooks docstring): recompute, compare in constant time, refuse old timestamps."""
    timestamp = call["headers"]["X-Webhook-Timestamp"]
    version, _sep, presented = call["headers"]["X-Webhook-Signature"].partition("=")
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + call["body"], hashlib.sha256).hexdigest()
    fresh = abs((now or timezone.now()).timestamp() - int(timestamp)) <= 300
    return version == "v1" and hmac.compare_digest(expected, presented) and fresh


def later(minutes):
    return time_machine.travel(timezone.now() + dt.timedelta(minutes=minutes), tick=True)


def test_a_status_change_sends_a_signed_notification_after_commit_only(world, receiver, django_capture_on_commit_callbacks):  # noqa: F811
    system = receiver()
    endpoint, secret = endpoint_create(administrator(world.agency_a), system.url, "Case system")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        footage_request = world.submitted()
    # Drafting writes no move; submitting moves it once.
    moves = list(StatusChange.objects.filter(footage_request=footage_request).exclude(from_status="").order_by("pk"))
    assert [(move.from_status, move.to_status) for move in moves] == [("draft", "submitted")]
    # Written with the move, not sent before the commit.
    assert WebhookDelivery.objects.filter(endpoint=endpoint, status="pending").count() == len(moves)
    assert system.calls == []
    for callback in callbacks:
        callback()

    assert len(system.calls) == len(moves)
    last = system.calls[-1]
    assert last["path"] == "/hooks/cctv"
    assert last["headers"]["Content-Type"] == "application/json"
    assert verifies(last, secret)
    assert not verifies(last, "another secret")
    # A replay a quarter of an hour later is refused by the same check.
    assert not verifies(last, secret, now=timezone.now() + dt.timedelta(minutes=15))
    body = json.loads(last["body"])
    assert set(body) == {"event", "id", "reference", "from_status", "to_status", "occurred_at"}
    assert body["event"] == "request.status_changed"
    assert body["reference"] == footage_request.reference
    assert (body["from_status"], body["to_status"]) == (moves[-1].from_status, moves[-1].to_status)
    assert body["to_status"] == footage_request.status
    assert body["id"] == last["headers"]["X-Webhook-Id"]
    # Nothing of the request's content goes out.
    assert footage_request.purpose.encode() not in last["body"]
    delivery = WebhookDelivery.objects.get(event_id=body["id"])
    assert delivery.payload.encode() == last["body"]
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 200)
    assert delivery.delivered_at is not None
    assert not WebhookDelivery.objects.exclude(status="delivered").exists()


def test_a_move_rolled_back_sends_nothing(world, receiver, django_capture_on_commit_callbacks):  # noqa: F811
    system = receiver()
    endpoint_create(administrator(world.agency_a), system.url, "")
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        with transaction.atomic():
            world.submitted()
            assert WebhookDelivery.objects.exists()
            raise RuntimeError("the caller's transaction fails")
    assert callbacks == []
    assert not WebhookDelivery.objects.exists()
    assert system.calls == []


def test_a_refused_notification_is_retried_later_and_delivered(world, receiver, django_capture_on_commit_callbacks):  # noqa: F811
    system = receiver(codes=[500])
    endpoint, secret = endpoint_create(administrator(world.agency_a), system.url, "")
    footage_request = world.draft()
    assert not WebhookDelivery.objects.exists()
    with (
        mock.patch.object(tasks.deliver_webhook, "apply_async", wraps=tasks.deliver_webhook.apply_async) as retried,
        django_capture_on_commit_callbacks(execute=True),
    ):
        workflow.request_submit(actor=world.insider, footage_request=footage_request)
    delivery = WebhookDelivery.objects.filter(endpoint=endpoint).latest("pk")
    delivery_calls = [call for call in system.calls if call["headers"]["X-Webhook-Id"] == str(delivery.event_id)]
    assert len(delivery_calls) == 1
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    assert "database unavailable" in delivery.last_error
    assert dt.timedelta(seconds=25) < delivery.next_attempt_at - timezone.now() <= dt.timedelta(seconds=30)
    # The retry is dispatched to come back in 30 s; a message arriving early sends nothing.
    assert retried.call_args.args == ((delivery.pk,),)
    assert retried.call_args.kwargs == {"countdown": 30.0}
    assert tasks.deliver_webhook(delivery.pk) == "nothing to do"

    with later(2):
        # The message was lost (or is late): the sweep dispatches it again.
        assert tasks.resume_webhooks() >= 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code, delivery.last_error) == ("delivered", 2, 200, "")
    delivery_calls = [call for call in system.calls if call["headers"]["X-Webhook-Id"] == str(delivery.event_id)]
    assert len(delivery_calls) == 2
    # The same notification, signed afresh.
    assert delivery_calls[0]["body"] == delivery_calls[1]["body"]
    assert all(verifies(call, secret, now=timezone.now() + dt.timedelta(minutes=2)) for call in delivery_calls[1:])
    assert tasks.deliver_webhook(delivery.pk) == "nothing to do"


def test_a_receiver_that_always_fails_is_given_up_in_the_ledger(world, receiver, settings, django_capture_on_commit_callbacks):  # noqa: F811
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    system = receiver(codes=[503] * 20)
    endpoint, _secret = endpoint_create(administrator(world.agency_a), system.url, "")
    footage_request = world.draft()
    with django_capture_on_commit_callbacks(execute=True):
        workflow.request_submit(actor=world.insider, footage_request=footage_request)
    delivery = WebhookDelivery.objects.filter(endpoint=endpoint).latest("pk")
    for minutes in (2, 5):
        with later(minutes), django_capture_on_commit_callbacks(execute=True):
            tasks.deliver_webhook(delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("failed", 3, 503)
    assert delivery.next_attempt_at is None
    sent = [call for call in system.calls if call["headers"]["X-Webhook-Id"] == str(delivery.event_id)]
    assert len(sent) == 3
    event = AuditEvent.objects.get(action=Action.WEBHOOK_FAILED)
    assert event.actor_id is None
    assert event.data["event_id"] == str(delivery.event_id)
    assert event.data["attempts"] == 3
    assert event.data["last_status_code"] == 503
    # Given up is final: no sweep sends it again.
    with later(120):
        tasks.resume_webhooks()
        assert tasks.deliver_webhook(delivery.pk) == "nothing to do"
    assert len([call for call in system.calls if call["headers"]["X-Webhook-Id"] == str(delivery.event_id)]) == 3


def test_a_network_error_is_a_failed_attempt(world, settings, django_capture_on_commit_callbacks):  # noqa: F811
    settings.WEBHOOK_ALLOW_LOOPBACK_HTTP = True
    settings.WEBHOOK_TIMEOUT_SECONDS = 2
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    endpoint, _secret = endpoint_create(administrator(world.agency_a), f"http://127.0.0.1:{closed_port}/", "")
    with django_capture_on_commit_callbacks(execute=True):
        world.submitted()
    deliveries = WebhookDelivery.objects.filter(endpoint=endpoint)
    assert deliveries.exists()
    for delivery in deliveries:
        assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, None)
        assert "ConnectError" in delivery.last_error
        assert delivery.next_attempt_at > timezone.now()


def test_another_agencys_endpoint_hears_nothing(world, receiver, django_capture_on_commit_callbacks):  # noqa: F811
    ours, theirs = receiver(), receiver()
    endpoint_a, _ = endpoint_create(administrator(world.agency_a), ours.url, "")
    endpoint_b, _ = endpoint_create(administrator(world.agency_b), theirs.url, "")
    deactivated, _ = endpoint_create(administrator(world.agency_a), ours.url + "/old", "")
    endpoint_deactivate(deactivated.created_by, deactivated)
    with django_capture_on_commit_callbacks(execute=True):
        world.submitted()
    assert ours.calls
    assert all(call["path"] == "/hooks/cctv" for call in ours.calls)
    assert theirs.calls == []
    assert not WebhookDelivery.objects.filter(endpoint__in=[endpoint_b, deactivated]).exists()
    assert WebhookDelivery.objects.filter(endpoint=endpoint_a).exists()


def test_registration_refuses_unencrypted_and_odd_addresses(world, settings):  # noqa: F811
    settings.WEBHOOK_ALLOW_LOOPBACK_HTTP = True
    admin = administrator(world.agency_a)
    for url in (
        "http://example.gov.vn/hooks",
        "http://10.0.0.5/hooks",
        "ftp://example.gov.vn/hooks",
        "example.gov.vn/hooks",
        "https://user:password@example.gov.vn/hooks",
        "https://" + "a" * 500 + ".vn/",
        "https:///hooks",
    ):
        with pytest.raises(ValidationError):
            endpoint_create(admin, url, "")
    assert not WebhookEndpoint.objects.exists()
    assert not AuditEvent.objects.filter(action=Action.WEBHOOK_CREATE).exists()
    assert validate_url("http://localhost:8080/hooks") == "http://localhost:8080/hooks"
    settings.WEBHOOK_ALLOW_LOOPBACK_HTTP = False
    with pytest.raises(ValidationError):
        validate_url("http://127.0.0.1:8080/hooks")
    # Only an administrator of the agency registers.
    with pytest.raises(PermissionDenied):
        endpoint_create(world.insider, "https://example.gov.vn/hooks", "")
    endpoint, secret = endpoint_create(admin, " https://example.gov.vn/hooks ", "Case system")
    assert endpoint.url == "https://example.gov.vn/hooks"
    assert endpoint.agency == world.agency_a
    event = AuditEvent.objects.get(action=Action.WEBHOOK_CREATE)
    assert secret not in json.dumps(event.data)


def test_the_pages_register_list_and_deactivate(world, client):  # noqa: F811
    admin = administrator(world.agency_a)
    sign_in_verified(client, admin, language="en")
    response = client.post(reverse("api:webhook-new"), {"url": "http://example.gov.vn/hooks", "description": ""})
    assert response.status_code == 200
    assert "https://" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()

    response = client.post(reverse("api:webhook-new"), {"url": "https://example.gov.vn/hooks", "description": "Case system"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    endpoint = WebhookEndpoint.objects.get()
    secret = response.context["secret"]
    assert secret == endpoint.secret
    assert secret in response.content.decode()
    assert "will not be shown again" in response.content.decode()

    page = client.get(reverse("api:webhooks"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "https://example.gov.vn/hooks" in html
    assert secret not in html
    assert reverse("api:webhook-deactivate", args=[endpoint.pk]) in html

    response = client.post(reverse("api:webhook-deactivate", args=[endpoint.pk]))
    assert response["Location"] == reverse("api:webhooks")
    endpoint.refresh_from_db()
    assert not endpoint.is_active
    assert AuditEvent.objects.filter(action=Action.WEBHOOK_DEACTIVATE, actor_username=admin.username).count() == 1


def test_another_agencys_administrator_finds_nothing(world, client):  # noqa: F811
    endpoint, _secret = endpoint_create(administrator(world.agency_a), "https://example.gov.vn/hooks", "")
    sign_in_verified(client, administrator(world.agency_b), language="en")
    assert client.post(reverse("api:webhook-deactivate", args=[endpoint.pk])).status_code == 404
    assert "example.gov.vn" not in client.get(reverse("api:webhooks")).content.decode()
    endpoint.refresh_from_db()
    assert endpoint.is_active
    assert not AuditEvent.objects.filter(action=Action.WEBHOOK_DEACTIVATE).exists()
    with pytest.raises(PermissionDenied):
        endpoint_deactivate(administrator(world.agency_b), endpoint)

    # Someone who administers nothing finds no page at all.
    sign_in_verified(client, world.insider, language="en")
    assert client.get(reverse("api:webhooks")).status_code == 404
    assert client.post(reverse("api:webhook-deactivate", args=[endpoint.pk])).status_code == 404


def test_what_is_pending_for_a_deactivated_endpoint_is_given_up(world, receiver, django_capture_on_commit_callbacks):  # noqa: F811
    system = receiver()
    admin = administrator(world.agency_a)
    endpoint, _secret = endpoint_create(admin, system.url, "")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        world.submitted()
    endpoint_deactivate(admin, endpoint)
    for callback in callbacks:
        callback()
    assert system.calls == []
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert (delivery.status, delivery.attempts) == ("failed", 0)
    with translation.override(settings.LANGUAGE_CODE):  # what the agency's page shows, in the interface's language
        assert delivery.last_error == translation.gettext("The endpoint was deactivated.")
    assert AuditEvent.objects.filter(action=Action.WEBHOOK_FAILED).count() == 1
