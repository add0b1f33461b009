"""What a screen-reader or keyboard user relies on in the request pages' markup: fields tied to their help and errors,
an error summary that links to its fields, tables reachable with the keyboard, an export followed without reloads."""

from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.urls import reverse

from requests.models import FootageRequest, Status
from tests.auth import sign_in_verified
from tests.requests.test_pages import filing

pytestmark = pytest.mark.django_db


class Elements(HTMLParser):
    """Every element's attributes, in document order, and the set of ids on the page."""

    def __init__(self, html):
        super().__init__()
        self.elements = []
        self.feed(html)
        self.ids = {attrs["id"] for _tag, attrs in self.elements if attrs.get("id")}

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def with_attr(self, name):
        return [(tag, attrs) for tag, attrs in self.elements if name in attrs]


def test_every_described_by_points_at_text_on_the_page_and_invalid_fields_say_so(client, world):
    sign_in_verified(client, world.insider, language="en")
    data = filing(world, basis=world.case_basis, hours=30, letter_number="")
    page = Elements(client.post(reverse("requests:new"), data).content.decode())

    described = page.with_attr("aria-describedby")
    assert described, "the help texts and errors are tied to their fields"
    for _tag, attrs in described:
        missing = set(attrs["aria-describedby"].split()) - page.ids
        assert not missing, f"{attrs.get('id')} is described by ids that are not on the page: {missing}"
    invalid = {attrs["id"] for _tag, attrs in page.with_attr("aria-invalid")}
    assert "id_letter_number" in invalid
    letter_number = next(attrs for _tag, attrs in described if attrs.get("id") == "id_letter_number")
    assert letter_number["aria-describedby"].split() == ["id_letter_number_helptext", "id_letter_number_error"]


def test_the_error_summary_comes_first_and_links_to_each_field_in_error(client, world):
    sign_in_verified(client, world.insider, language="en")
    html = client.post(reverse("requests:new"), filing(world, letter_number="")).content.decode()
    page = Elements(html)
    [(_tag, summary)] = [(tag, attrs) for tag, attrs in page.elements if "data-error-summary" in attrs]
    assert summary["role"] == "alert" and summary["tabindex"] == "-1" and summary["aria-labelledby"] in page.ids
    assert html.index("data-error-summary") < html.index('id="basis-form"')
    links = [attrs["href"] for tag, attrs in page.elements if tag == "a" and attrs.get("href", "").startswith("#id_")]
    assert "#id_letter_number" in links
    assert all(link[1:] in page.ids for link in links)


def test_a_failed_sign_in_is_summed_up_where_the_focus_goes(client, world):
    response = client.post(reverse("login"), {"username": world.insider.username, "password": "wrong"})
    assert b"data-error-summary" in response.content and b'tabindex="-1"' in response.content


def test_the_basis_is_applied_with_a_button_not_on_each_key(client, world):
    sign_in_verified(client, world.insider, language="en")
    html = client.get(reverse("requests:new")).content.decode()
    assert "data-continue" in html and "onchange" not in html
    # The form's script no longer submits the basis form on change; the button stays.
    source = (settings.BASE_DIR / "static" / "js" / "request_form.js").read_text(encoding="utf-8")
    assert ".submit()" not in source and "button.hidden" not in source


def test_every_scrolling_table_can_be_reached_and_is_named(client, world):
    footage_request = world.reviewed()
    sign_in_verified(client, world.approver, language="en")
    page = Elements(client.get(reverse("requests:detail", args=[footage_request.reference])).content.decode())
    frames = [attrs for _tag, attrs in page.elements if "table-wrap" in attrs.get("class", "").split()]
    assert len(frames) >= 2  # the cameras and the decisions
    for attrs in frames:
        assert attrs.get("tabindex") == "0" and attrs.get("role") == "region"
        assert attrs.get("aria-label") or attrs.get("aria-labelledby") in page.ids


def test_an_export_under_way_is_followed_by_a_script_not_a_reload(client, world):
    footage_request = world.reviewed()
    FootageRequest.objects.filter(pk=footage_request.pk).update(status=Status.EXPORTING, export_progress=40)
    sign_in_verified(client, world.insider, language="en")
    html = client.get(reverse("requests:detail", args=[footage_request.reference])).content.decode()
    page = Elements(html)
    assert 'http-equiv="refresh"' not in html
    [(_tag, box)] = [(tag, attrs) for tag, attrs in page.elements if "data-export-progress" in attrs]
    assert box["data-url"] == reverse("requests:export-progress", args=[footage_request.reference])
    assert any(attrs.get("aria-live") == "polite" for _tag, attrs in page.elements if "data-export-announce" in attrs)
    assert any(tag == "script" and attrs.get("src", "").endswith("js/export_progress.js") for tag, attrs in page.elements)
    # Without the script the page still offers the progress: a link that reloads it.
    assert any("data-export-refresh" in attrs for _tag, attrs in page.elements)
    progress = client.get(box["data-url"]).json()
    assert progress["status"] == "exporting" and progress["progress"] == 40


def test_no_page_describes_a_field_by_an_id_it_does_not_have(client, world):
    footage_request = world.reviewed()
    pages = [
        (world.approver, reverse("requests:detail", args=[footage_request.reference])),
        (world.insider, reverse("requests:detail", args=[footage_request.reference])),
        (world.insider, reverse("requests:list") + "?filed_from=31/02/2026&status=nope"),
        (world.insider, reverse("cameras") + "?kind=zeppelin"),
        (world.insider, reverse("requests:new") + f"?basis={world.basis.code}"),
        (world.insider, reverse("requests:verify")),
        (None, reverse("login")),
    ]
    for user, url in pages:
        if user is None:
            client.logout()
        else:
            sign_in_verified(client, user, language="en")
        page = Elements(client.get(url).content.decode())
        for _tag, attrs in page.with_attr("aria-describedby"):
            missing = set(attrs["aria-describedby"].split()) - page.ids
            assert not missing, f"{url}: {attrs.get('id')} is described by ids that are not on the page: {missing}"
        for _tag, attrs in page.with_attr("aria-labelledby"):
            assert set(attrs["aria-labelledby"].split()) <= page.ids, url
