"""Every page carries the Content-Security-Policy and the Permissions-Policy: each URL pattern, signed in or not."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from requests import releases
from requests.selectors import verification_token
from tests.requests.test_release import released  # noqa: F401 - the released request fixture

pytestmark = pytest.mark.django_db

ROUTE_PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>")
REGEX_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")


def every_route(resolver=None, prefix=""):
    """(route with <name> placeholders, pattern) for every URL pattern, the admin's included."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        text = str(entry.pattern).lstrip("^").rstrip("$")
        text = REGEX_GROUP.sub(lambda m: f"<{m.group(1)}>", text).replace("\\", "")
        if isinstance(entry, URLResolver):
            yield from every_route(entry, prefix + text)
        elif isinstance(entry, URLPattern):
            yield prefix + text, entry


def sample_urls(world, released):  # noqa: F811
    camera = world.camera
    _grant, download = releases.release_link_issue(actor=world.insider, footage_request=released)
    attachment = released.attachments.first()
    values = {
        "reference": released.reference,
        "code": camera.code,
        "seq": "1",
        "kind": "pdf",
        "object_id": str(camera.pk),
        "app_label": "governance",
        "url": "nowhere/",
        "uidb64": "MQ",
    }
    urls = []
    for route, _pattern in every_route():

        def fill(match, route=route):
            name = match.group(1)
            if name == "token":
                return download if route.startswith("requests/download/") else verification_token(released.release)
            if name == "pk":
                return str(attachment.pk) if "attachments" in route else "1"
            if name == "code" and route.startswith("legal-bases/"):
                return world.basis.code
            return values.get(name, "1")

        urls.append("/" + ROUTE_PARAMETER.sub(fill, route))
    return urls


def assert_policies(response, url):
    policy = response.get("Content-Security-Policy", "")
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives.get("default-src") == "'self'", (url, policy)
    assert directives.get("object-src") == "'none'", (url, policy)
    assert directives.get("frame-ancestors") == "'none'", (url, policy)
    assert directives.get("form-action") == "'self'", (url, policy)
    assert directives.get("base-uri") == "'self'", (url, policy)
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy and "http" not in policy, (url, policy)
    permissions = response.get("Permissions-Policy", "")
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert f"{feature}=()" in permissions, (url, permissions)


def test_every_url_pattern_answers_with_both_policies(client, world, released, superuser):  # noqa: F811
    urls = sample_urls(world, released)
    assert len(urls) >= 60
    statuses = {}
    for user in (world.insider, world.custodian, superuser, None):
        client.logout()
        if user is not None:
            client.force_login(user)
        for url in urls:
            response = client.get(url)
            assert_policies(response, url)
            statuses.setdefault(response.status_code, []).append(url)
    # Most of them are real pages, not refusals.
    assert len(statuses.get(200, [])) >= 40, {status: len(found) for status, found in statuses.items()}


def test_refusals_and_errors_carry_both_policies(client, world):
    client.force_login(world.insider)
    for url in ["/no-such-page/", "/requests/NO-SUCH/", "/cameras/?q=%00"]:
        response = client.get(url)
        assert response.status_code in (400, 404)
        assert_policies(response, url)


def test_a_page_without_inline_code_sends_no_nonce(client, world):
    client.force_login(world.insider)
    response = client.get("/requests/new/")
    assert "nonce-" not in response["Content-Security-Policy"]
    assert "<script>" not in response.content.decode() and " style=" not in response.content.decode()
