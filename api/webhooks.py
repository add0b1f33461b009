"""Webhooks: an agency's own systems are told when one of the agency's requests changes status.

What is sent
    One POST per endpoint and event, body the canonical JSON (sorted keys, no spaces, UTF-8) of
    ``{"event": "request.status_changed", "id", "reference", "from_status", "to_status", "occurred_at"}``: the
    request's reference and its move, nothing of its content. Every attempt of one notification sends the same body
    and the same id, so a receiver that sees an id twice has already handled it.

    Headers: ``Content-Type: application/json``, ``X-Webhook-Id`` (the notification's id, a UUID),
    ``X-Webhook-Timestamp`` (Unix seconds of this attempt) and ``X-Webhook-Signature: v1=<hex>``, where ``<hex>`` is
    the HMAC-SHA256, keyed with the endpoint's secret (UTF-8), of the bytes ``<timestamp>.`` followed by the body.

How a receiver verifies a notification
    1. Take the raw body bytes as received (before any JSON parsing) and the X-Webhook-Timestamp header.
    2. Compute ``hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()``.
    3. Compare it with the part after ``v1=`` of X-Webhook-Signature in constant time (``hmac.compare_digest``);
       refuse the call when they differ.
    4. Refuse a timestamp more than 5 minutes from the receiver's clock: a recorded call replayed later fails.
    5. Answer 2xx quickly once the notification is stored; anything else (or no answer within the timeout) is
       retried with growing delays, and after ``WEBHOOK_MAX_ATTEMPTS`` attempts given up (a ledger event).

Delivery
    The workflow sends `requests.signals.status_changed` inside the transaction that moves the status; the receiver
    here writes one `WebhookDelivery` per active endpoint of the request's agency in that same transaction, and the
    task (`api.tasks.deliver_webhook`) is dispatched only after commit: a move rolled back sends nothing, a committed
    one is never lost (a message lost on the way is dispatched again by `api.tasks.resume_webhooks`).
"""

import datetime as dt
import hashlib
import hmac
import ipaddress
import logging
import secrets
import socket
import time
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from api.models import WebhookDelivery, WebhookEndpoint
from api.tokens import can_manage_service_accounts
from audit.chain import canonical_json, format_time
from audit.models import Action
from audit.services import record_event
from governance.models import User

logger = logging.getLogger(__name__)

EVENT_STATUS_CHANGED = "request.status_changed"
MAX_URL_LENGTH = 500
LOOPBACK_HOSTS = ("127.0.0.1", "localhost")
ERROR_LENGTH = 1000
# What is kept of a receiver's answer to a refused notification.
ANSWER_EXCERPT_BYTES = 300
FIRST_RETRY = dt.timedelta(seconds=30)
LONGEST_RETRY = dt.timedelta(hours=1)
# A notification being sent is held by its worker this long beyond the timeout; past it, a worker that died
# mid-send no longer holds it.
CLAIM_MARGIN = dt.timedelta(seconds=60)
# Worker clocks may differ a little: a notification that comes due within this is sent.
DUE_TOLERANCE = dt.timedelta(seconds=5)
# A pending notification this long past due has lost its message: it is dispatched again.
LOST_AFTER = dt.timedelta(minutes=1)
SIGNATURE_VERSION = "v1"


# Signing ------------------------------------------------------------------------------------------------------------


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """HMAC-SHA256 (hex) of ``<timestamp>.`` followed by the body, keyed with the endpoint's secret."""
    return hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode("ascii") + body, hashlib.sha256).hexdigest()


def signed_headers(delivery: WebhookDelivery, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {
        "Content-Type": "application/json",
        "X-Webhook-Id": str(delivery.event_id),
        "X-Webhook-Timestamp": str(timestamp),
        "X-Webhook-Signature": f"{SIGNATURE_VERSION}={sign(delivery.endpoint.secret, timestamp, body)}",
    }


# Addresses ----------------------------------------------------------------------------------------------------------


def validate_url(url: str) -> str:
    """The address, stripped, if notifications may go there: https, or plain http to this machine when
    WEBHOOK_ALLOW_LOOPBACK_HTTP is on (development and tests); no user name or password in it."""
    url = (url or "").strip()
    if not url:
        raise ValidationError(_("Enter the address that will receive the notifications."), code="required")
    if len(url) > MAX_URL_LENGTH:
        raise ValidationError(
            _("The address may be at most %(length)d characters long.") % {"length": MAX_URL_LENGTH}, code="max_length"
        )
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        host = None
    if not host or any(character.isspace() for character in url):
        raise ValidationError(_("Enter a full address, such as https://example.gov.vn/notifications."), code="invalid")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise ValidationError(
            _("The address may not contain a user name or password: each notification is signed instead."),
            code="userinfo",
        )
    scheme = parts.scheme.lower()
    loopback_http = scheme == "http" and host.lower() in LOOPBACK_HOSTS and settings.WEBHOOK_ALLOW_LOOPBACK_HTTP
    if scheme != "https" and not loopback_http:
        raise ValidationError(_("The address must start with https://: notifications are never sent unencrypted."), code="scheme")
    if not (settings.WEBHOOK_ALLOW_LOOPBACK_HTTP and host.lower() in LOOPBACK_HOSTS):
        _refuse_internal(host)
    return url


def _internal(address):
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
    )


def _refuse_internal(host):
    """Notifications go to agencies' systems, never into this server's own network: an address (or a name that
    resolves to one) on this machine, a private, link-local, reserved or multicast network is refused. A name that
    does not resolve here (an offline centre registering its partner's address) is checked again at each send."""
    try:
        candidates = {ipaddress.ip_address(host.strip("[]"))}
    except ValueError:
        try:
            candidates = {ipaddress.ip_address(info[4][0].split("%")[0]) for info in socket.getaddrinfo(host, None)}
        except (OSError, UnicodeError, ValueError):
            return
    if any(_internal(getattr(address, "ipv4_mapped", None) or address) for address in candidates):
        raise ValidationError(
            _(
                "The address points into this server's own network (this machine, a private or reserved network): notifications go only to agencies' systems."
            ),
            code="internal",
        )


# Endpoints ----------------------------------------------------------------------------------------------------------


def endpoints_managed_by(user: User | None):
    """The endpoints `user` sees and manages: its own agency's."""
    if not can_manage_service_accounts(user):
        return WebhookEndpoint.objects.none()
    return WebhookEndpoint.objects.filter(agency_id=user.agency_id)


@transaction.atomic
def endpoint_create(actor: User, url: str, description: str = "", http_request=None) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint of the actor's agency; returns it and its signing secret, shown to the actor only now."""
    if not can_manage_service_accounts(actor):
        raise PermissionDenied(_("Only your agency's administrator may register webhook endpoints."))
    url = validate_url(url)
    description = (description or "").strip()[:200]
    secret = secrets.token_urlsafe(32)
    endpoint = WebhookEndpoint.objects.create(
        agency_id=actor.agency_id, url=url, secret=secret, description=description, created_by=actor
    )
    record_event(
        actor=actor,
        action=Action.WEBHOOK_CREATE,
        target=endpoint,
        data={"agency": actor.agency.code, "url": url, "description": description},
        http_request=http_request,
    )
    return endpoint, secret


@transaction.atomic
def endpoint_deactivate(actor: User, endpoint: WebhookEndpoint, http_request=None) -> WebhookEndpoint:
    """Stop notifications to `endpoint`; what is still pending for it is given up when its turn comes."""
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    if not (can_manage_service_accounts(actor) and endpoint.agency_id == actor.agency_id):
        raise PermissionDenied(_("You may not manage this webhook endpoint."))
    if endpoint.is_active:
        endpoint.is_active = False
        endpoint.save(update_fields=["is_active"])
        record_event(
            actor=actor,
            action=Action.WEBHOOK_DEACTIVATE,
            target=endpoint,
            data={"agency": actor.agency.code, "url": endpoint.url},
            http_request=http_request,
        )
    return endpoint


# Notifications ------------------------------------------------------------------------------------------------------


def dispatch(delivery_id: int, countdown: float | None = None) -> None:
    """Hand a delivery to a worker (called after commit). A broker that refuses loses nothing: the row stays pending
    and `resume_webhooks` dispatches it again."""
    from api.tasks import deliver_webhook

    try:
        if countdown:
            deliver_webhook.apply_async((delivery_id,), countdown=countdown)
        else:
            deliver_webhook.delay(delivery_id)
    except Exception:
        logger.exception("Webhook delivery %s could not be dispatched; it will be dispatched again", delivery_id)


def on_status_changed(sender, footage_request, from_status, to_status, **kwargs):
    """One delivery per active endpoint of the request's agency, written with the move and sent after its commit."""
    endpoints = WebhookEndpoint.objects.filter(agency_id=footage_request.agency_id, is_active=True).order_by("pk")
    now = timezone.now()
    for endpoint in endpoints:
        delivery = WebhookDelivery(
            endpoint=endpoint,
            event=EVENT_STATUS_CHANGED,
            reference=footage_request.reference,
            created_at=now,
            # Due now: if the message is lost, the sweep finds it.
            next_attempt_at=now,
        )
        delivery.payload = canonical_json(
            {
                "event": EVENT_STATUS_CHANGED,
                "id": str(delivery.event_id),
                "reference": footage_request.reference,
                "from_status": str(from_status),
                "to_status": str(to_status),
                "occurred_at": format_time(now),
            }
        )
        delivery.save()
        transaction.on_commit(lambda delivery_id=delivery.pk: dispatch(delivery_id))


def backoff(attempts: int) -> dt.timedelta:
    """The wait after the `attempts`-th failed attempt: 30 s, 1 min, 2 min, … at most an hour."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_RETRY)


def _claim(delivery_id: int, now: dt.datetime) -> WebhookDelivery | None:
    """The delivery, if it is pending and due and this worker is the one to send it now; else None.

    Held (row lock, then the attempt counted and its next time moved past the send's timeout), so two workers never
    send one notification at once, and a message that comes twice or early sends nothing."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("endpoint")
            .filter(pk=delivery_id, status=WebhookDelivery.Status.PENDING)
            .first()
        )
        if delivery is None:
            return None
        if delivery.next_attempt_at is not None and delivery.next_attempt_at > now + DUE_TOLERANCE:
            return None
        if not delivery.endpoint.is_active or delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
            # Deactivated, or the last attempt's worker died mid-send: give up now.
            reason = (
                _("The endpoint was deactivated.") if not delivery.endpoint.is_active else _("The last attempt did not finish.")
            )
            _give_up(delivery, reason)
            return None
        held_until = now + dt.timedelta(seconds=settings.WEBHOOK_TIMEOUT_SECONDS) + CLAIM_MARGIN
        # Conditional on the count read: on a database without row locks only one worker's write matches.
        claimed = (
            WebhookDelivery.objects.filter(
                pk=delivery.pk, status=WebhookDelivery.Status.PENDING, attempts=delivery.attempts
            ).update(attempts=delivery.attempts + 1, next_attempt_at=held_until)
        ) == 1
    if not claimed:
        return None
    delivery.attempts += 1
    delivery.next_attempt_at = held_until
    return delivery


def _give_up(delivery: WebhookDelivery, error: str) -> None:
    """Mark a delivery failed and say so in the ledger (inside the caller's transaction)."""
    delivery.status = WebhookDelivery.Status.FAILED
    delivery.next_attempt_at = None
    delivery.last_error = (error or delivery.last_error)[:ERROR_LENGTH]
    delivery.save(update_fields=["status", "next_attempt_at", "last_error"])
    endpoint = delivery.endpoint
    record_event(
        actor=None,
        action=Action.WEBHOOK_FAILED,
        target=delivery,
        data={
            "agency": endpoint.agency.code,
            "endpoint": endpoint.pk,
            "url": endpoint.url,
            "event": delivery.event,
            "event_id": str(delivery.event_id),
            "attempts": delivery.attempts,
            "last_status_code": delivery.last_status_code,
            "last_error": delivery.last_error[:300],
        },
    )


def _post(delivery: WebhookDelivery) -> tuple[int | None, str]:
    """Send once: (status code or None, error text, empty when delivered). Never raises: whatever goes wrong is a
    failed attempt."""
    try:
        url = validate_url(delivery.endpoint.url)
        body = delivery.payload.encode("utf-8")
        with (
            httpx.Client(timeout=settings.WEBHOOK_TIMEOUT_SECONDS, follow_redirects=False) as client,
            client.stream("POST", url, content=body, headers=signed_headers(delivery, body)) as response,
        ):
            code = response.status_code
            if 200 <= code < 300:
                return code, ""
            answer = b""
            for chunk in response.iter_bytes():
                answer += chunk
                if len(answer) >= ANSWER_EXCERPT_BYTES:
                    break
            text = answer[:ANSWER_EXCERPT_BYTES].decode("utf-8", "replace").strip()
            if response.is_redirect:
                text = f"redirect to {response.headers.get('location', '')} not followed"
            return code, f"HTTP {code}" + (f": {text}" if text else "")
    except ValidationError as exc:
        return None, " ".join(exc.messages)
    except Exception as exc:
        return None, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def deliver(delivery_id: int) -> str:
    """Send one notification if it is due and no other worker is sending it; record the outcome."""
    delivery = _claim(delivery_id, timezone.now())
    if delivery is None:
        return "nothing to do"
    code, error = _post(delivery)
    now = timezone.now()
    with transaction.atomic():
        row = WebhookDelivery.objects.select_for_update(of=("self",)).select_related("endpoint__agency").get(pk=delivery.pk)
        if row.status != WebhookDelivery.Status.PENDING:
            return "already settled"
        row.last_status_code = code
        if not error:
            row.status = WebhookDelivery.Status.DELIVERED
            row.delivered_at = now
            row.next_attempt_at = None
            row.last_error = ""
            row.save(update_fields=["status", "delivered_at", "next_attempt_at", "last_status_code", "last_error"])
            return "delivered"
        row.last_error = error[:ERROR_LENGTH]
        if row.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
            row.save(update_fields=["last_status_code", "last_error"])
            _give_up(row, row.last_error)
            return "failed"
        wait = backoff(row.attempts)
        row.next_attempt_at = now + wait
        row.save(update_fields=["last_status_code", "last_error", "next_attempt_at"])
        transaction.on_commit(lambda: dispatch(row.pk, countdown=wait.total_seconds()))
    logger.warning("Webhook delivery %s attempt %d failed: %s", row.pk, row.attempts, row.last_error)
    return "retry"


def resume_lost(now: dt.datetime | None = None, limit: int = 500) -> int:
    """Dispatch again the pending deliveries whose time passed more than a minute ago (their message was lost, or
    their worker died mid-send)."""
    now = now or timezone.now()
    due = (
        WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING)
        .filter(Q(next_attempt_at__lt=now - LOST_AFTER) | Q(next_attempt_at__isnull=True))
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    ids = list(due)
    for delivery_id in ids:
        dispatch(delivery_id)
    return len(ids)
