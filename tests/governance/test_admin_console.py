"""The administration reads as the regulation's console: the product's name, a way back, a language switch, Vietnamese."""

import json
import re

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse
from django.utils import translation

from tests.auth import sign_in_verified
from tests.factories import DayOffFactory

PRODUCT_VI = "Quản lý khai thác dữ liệu camera"


def header(response):
    html = response.content.decode()
    return html[html.index('<header id="header">') : html.index("</header>")]


def language_switch(response):
    match = re.search(r'<form class="lang-switch".*?</form>', header(response), re.S)
    assert match, "no language switch in the admin's header"
    return match.group(0)


def field(form, name):
    match = re.search(rf'name="{name}" value="([^"]*)"', form)
    return match and match.group(1)


@pytest.mark.django_db
def test_admin_index_in_vietnamese_carries_the_products_name_not_djangos(client, admin_user):
    sign_in_verified(client, admin_user, language="vi")
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    top = header(response)
    with translation.override("vi"):
        site_header = str(admin.site.site_header)
    assert f"</span>{site_header}</a>" in top
    assert PRODUCT_VI in top
    assert f'href="{reverse("home")}"' in top  # back to the main site
    title = re.search(r"<title>(.*?)</title>", response.content.decode(), re.S).group(1)
    assert "Django" not in top and "Django" not in title


@pytest.mark.django_db
def test_admin_header_has_a_language_switch_posting_to_set_language(client, admin_user):
    sign_in_verified(client, admin_user, language="vi")
    url = reverse("admin:governance_camera_changelist") + "?q=HK&o=1"
    form = language_switch(client.get(url))
    assert f'action="{reverse("set_language")}"' in form and 'method="post"' in form
    assert field(form, "csrfmiddlewaretoken")
    assert field(form, "next") == url.replace("&", "&amp;")
    assert 'value="vi"' in form and 'value="en"' in form
    assert re.search(r'value="vi"[^>]*aria-pressed="true"', form)


@pytest.mark.django_db
def test_switching_the_admin_to_english_shows_the_english_header(admin_user):
    client = sign_in_verified(Client(enforce_csrf_checks=True), admin_user, language="vi")
    index = reverse("admin:index")
    form = language_switch(client.get(index))

    response = client.post(
        reverse("set_language"),
        {"language": "en", "next": field(form, "next"), "csrfmiddlewaretoken": field(form, "csrfmiddlewaretoken")},
    )
    assert response.status_code == 302 and response.url == index

    response = client.get(index)
    top = header(response)
    assert '<html lang="en"' in response.content.decode()
    assert "Camera data governance administration" in top
    assert "Back to Camera data governance" in top
    assert PRODUCT_VI not in top
    assert re.search(r'value="en"[^>]*aria-pressed="true"', language_switch(response))


@pytest.mark.django_db
def test_admin_pages_in_vietnamese_use_the_consoles_words_for_djangos_texts(client, admin_user):
    """Django's own texts the project's catalogue words for the console ("History" is a change history, not a memo)."""
    sign_in_verified(client, admin_user, language="vi")
    day_off = DayOffFactory()
    change = client.get(reverse("admin:governance_dayoff_change", args=[day_off.pk])).content.decode()
    assert "Lịch sử thay đổi" in change and "Bản ghi nhớ" not in change
    changelist = client.get(reverse("admin:governance_dayoff_changelist")).content.decode()
    assert "Hiện số lượng" in changelist and "Show counts" not in changelist
    assert 'alt="Tìm kiếm"' in changelist  # the search box's name, read by a screen reader
    index = client.get(reverse("admin:index")).content.decode()
    for english in ("Model name", "Skip to main content", "Toggle theme"):
        assert english not in index


def script_text(script, msgid):
    """The translation the admin's script catalogue gives `msgid`, or None."""
    match = re.search(rf'"{re.escape(msgid)}": "((?:[^"\\]|\\.)*)"', script)
    return match and json.loads(f'"{match.group(1)}"')


@pytest.mark.django_db
def test_admin_scripts_show_the_selectors_texts_in_vietnamese(client, admin_user):
    """The selector of a many-to-many field (a legal basis's data categories) is drawn by a script with its own texts."""
    sign_in_verified(client, admin_user, language="vi")
    script = client.get(reverse("admin:jsi18n")).content.decode()
    assert script_text(script, "Choose all %s") == "Chọn tất cả %s"
    assert script_text(script, "January") == "Tháng Một"  # Django's own Vietnamese is kept

    client.cookies["django_language"] = "en"
    assert script_text(client.get(reverse("admin:jsi18n")).content.decode(), "Choose all %s") is None
