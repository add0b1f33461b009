"""Agency B never learns that agency A's requests exist: every page, action, download and search says 404."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from governance.models import Camera
from tests.auth import sign_in_verified
from tests.factories import CameraFactory, UserFactory

pytestmark = pytest.mark.django_db

ACTIONS = ["submit", "withdraw", "review", "ask-info", "approve", "reject", "comment"]
ACTION_DATA = {"recommendation": "approve", "reason": "x", "question": "x", "body": "x"}


def _without_tokens(response):
    """The page as the visitor reads it: CSRF tokens and the path it was asked for differ by nature."""
    page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())
    return page.replace(response.request["PATH_INFO"], "")


def request_urls(footage_request):
    """Every URL that names the request, with the method to use."""
    reference = footage_request.reference
    urls = [
        ("get", reverse("requests:detail", args=[reference])),
        ("get", reverse("requests:edit", args=[reference])),
        ("post", reverse("requests:edit", args=[reference])),
    ]
    urls += [("post", reverse(f"requests:{action}", args=[reference])) for action in ACTIONS]
    urls += [
        ("get", reverse("requests:attachment", args=[reference, document.pk])) for document in footage_request.attachments.all()
    ]
    return urls


@pytest.fixture
def no_role(agency_a):
    return UserFactory(username="khach", agency=agency_a, roles=[])


@pytest.fixture
def outside_reviewer(agency_b):
    """A reviewer of agency B: holds the role but is not assigned to A's requests."""
    return UserFactory(username="bao-thamdinh", agency=agency_b, roles=["reviewer", "approver"])


def test_outsider_gets_404_on_every_url_of_another_agencys_request(client, world):
    footage_request = world.submitted()
    sign_in_verified(client, world.outsider, language="en")
    before = (AuditEvent.objects.count(), footage_request.status)
    for method, url in request_urls(footage_request):
        response = getattr(client, method)(url, ACTION_DATA if method == "post" else None)
        assert response.status_code == 404, (method, url, response.status_code)
    footage_request.refresh_from_db()
    assert (AuditEvent.objects.count(), footage_request.status) == before


def test_outsider_does_not_find_it_in_lists_or_the_queue(client, world, outside_reviewer):
    footage_request = world.submitted()
    page = sign_in_verified(client, world.outsider, language="en").get(reverse("requests:list")).content.decode()
    assert footage_request.reference not in page
    assert client.get(reverse("requests:queue")).status_code == 404  # a requester has no queue
    page = sign_in_verified(client, outside_reviewer, language="en").get(reverse("requests:queue")).content.decode()
    assert footage_request.reference not in page
    page = client.get(reverse("requests:list")).content.decode()
    assert footage_request.reference not in page


def test_guessing_reference_numbers_tells_nothing(client, world):
    year = timezone.localdate().year
    world.submitted()
    world.draft(actor=world.colleague)
    sign_in_verified(client, world.outsider, language="en")
    existing = client.get(reverse("requests:detail", args=[f"YC-{year}-000002"]))
    missing = client.get(reverse("requests:detail", args=[f"YC-{year}-000003"]))
    assert existing.status_code == missing.status_code == 404
    assert _without_tokens(existing) == _without_tokens(missing)


def test_reviewers_see_a_draft_only_once_it_is_submitted(client, world):
    footage_request = world.draft()
    url = reverse("requests:detail", args=[footage_request.reference])
    assert sign_in_verified(client, world.reviewer, language="en").get(url).status_code == 404
    assert sign_in_verified(client, world.colleague, language="en").get(url).status_code == 200


def test_a_visible_request_does_not_lend_its_url_to_another_requests_document(client, world):
    mine = world.submitted()
    theirs = world.draft(actor=world.outsider, items=world.items(world.far_camera))
    letter = theirs.attachments.get()
    sign_in_verified(client, world.insider, language="en")
    assert client.get(reverse("requests:attachment", args=[mine.reference, letter.pk])).status_code == 404
    assert client.get(reverse("requests:attachment", args=[theirs.reference, letter.pk])).status_code == 404


def test_camera_picker_returns_only_cameras_agency_a_may_request(client, world):
    CameraFactory(code="HB-009", area=world.ward, managing_agency=world.centre, status=Camera.Status.DECOMMISSIONED)
    data = sign_in_verified(client, world.insider, language="en").get(reverse("requests:cameras")).json()
    assert [row["code"] for row in data["results"]] == ["HB-001", "HB-002"]
    data = client.get(reverse("requests:cameras"), {"q": "HB-002"}).json()
    assert [row["code"] for row in data["results"]] == ["HB-002"]
    assert client.get(reverse("requests:cameras"), {"q": "HD-001"}).json()["results"] == []
    # Agency B covers the whole province, so it may request the other ward's camera too.
    data = sign_in_verified(client, world.outsider, language="en").get(reverse("requests:cameras")).json()
    assert "HD-001" in [row["code"] for row in data["results"]]


def test_camera_picker_is_404_for_those_who_do_not_file_requests(client, world, no_role):
    assert sign_in_verified(client, world.reviewer, language="en").get(reverse("requests:cameras")).status_code == 404
    assert sign_in_verified(client, no_role, language="en").get(reverse("requests:cameras")).status_code == 404


def test_user_without_a_role_gets_404_everywhere(client, world, no_role):
    footage_request = world.submitted()
    sign_in_verified(client, no_role, language="en")
    pages = ["requests:list", "requests:queue", "requests:new", "requests:cameras", "requests:notifications"]
    for name in pages:
        assert client.get(reverse(name)).status_code == 404, name
    assert client.post(reverse("requests:notifications-read")).status_code == 404
    for method, url in request_urls(footage_request):
        response = getattr(client, method)(url, ACTION_DATA if method == "post" else None)
        assert response.status_code == 404, (method, url, response.status_code)


def test_pages_ask_anonymous_visitors_to_sign_in(client, world):
    footage_request = world.submitted()
    for url in [reverse("requests:list"), reverse("requests:detail", args=[footage_request.reference])]:
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response.url
