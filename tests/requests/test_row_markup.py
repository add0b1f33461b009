"""The request tables' rows are written from Python (requests.templatetags.request_tables): what an officer types
is shown as text, never as markup, and each cell says what the template used to say."""

import datetime as dt
import html
import unicodedata

import pytest
from django.template.defaultfilters import truncatechars
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from governance.widgets import FastSelect
from requests.forms import RequestListForm
from requests.models import FootageRequest, Status, Urgency
from requests.templatetags.request_tables import _short
from tests.auth import sign_in_verified

pytestmark = pytest.mark.django_db

HOSTILE_PURPOSE = 'Xác minh <script>alert("x")</script> & "trích xuất" <img src=x onerror=alert(1)>'
HOSTILE_CASE = '"><svg onload=alert(1)>'


def test_what_an_officer_typed_is_shown_as_text_in_the_list_and_the_queue(client, world):
    world.agency_a.name_vi = "Công an <b>phường</b> Hàng Bạc"
    world.agency_a.save()
    footage_request = world.submitted(purpose=HOSTILE_PURPOSE, case_reference=HOSTILE_CASE, basis=world.case_basis)
    for user, url in ((world.insider, reverse("requests:list")), (world.reviewer, reverse("requests:queue"))):
        sign_in_verified(client, user, language="vi")
        page = client.get(url).content.decode()
        assert footage_request.reference in page
        assert "<script>" not in page and "<svg" not in page and "<img src=x" not in page and "<b>phường" not in page
        assert html.escape(HOSTILE_PURPOSE[:89]) in page
        assert html.escape(HOSTILE_CASE) in page
        client.logout()
    # The queue names the requesting agency, escaped too.
    sign_in_verified(client, world.reviewer, language="vi")
    assert html.escape("Công an <b>phường</b> Hàng Bạc") in client.get(reverse("requests:queue")).content.decode()


def test_a_row_shows_status_urgency_due_time_overdue_and_the_link(client, world):
    footage_request = world.submitted(urgency="emergency")
    FootageRequest.objects.filter(pk=footage_request.pk).update(due_at=timezone.now() - dt.timedelta(hours=1))
    footage_request.refresh_from_db()
    sign_in_verified(client, world.reviewer, language="vi")
    page = client.get(reverse("requests:queue")).content.decode()
    row = page[page.index('<tr class="is-overdue is-emergency">') :]
    row = row[: row.index("</tr>")]
    detail = reverse("requests:detail", args=[footage_request.reference])
    assert f'<a class="mono" href="{detail}">{footage_request.reference}</a>' in row
    with translation.override("vi"):
        submitted, emergency = str(Status.SUBMITTED.label), str(Urgency.EMERGENCY.label)
        overdue, reference = gettext("Overdue"), gettext("Reference")
    assert f'<span class="badge badge-req badge-req-submitted">{submitted}</span>' in row
    assert f'<span class="badge badge-emergency"><span aria-hidden="true">⚠ </span>{emergency}</span>' in row
    due = timezone.localtime(footage_request.due_at).strftime("%d/%m/%Y %H:%M")
    assert f'<span class="nowrap">{due}</span> <span class="badge badge-overdue">{overdue}</span>' in row
    assert f'data-label="{reference}"' in row and reference != "Reference"


@pytest.mark.parametrize(
    "text",
    [
        "Ngắn gọn",
        "x" * 90,
        "Xác minh vụ trộm xe máy " * 10,
        unicodedata.normalize("NFD", "Xác minh vụ trộm xe máy tại phố Hàng Bạc, quận Hoàn Kiếm " * 4),
        "e\u0301" * 120,
    ],
)
def test_a_long_purpose_is_cut_exactly_as_truncatechars_cuts_it(text):
    assert _short(text) == truncatechars(text, 90)


def test_the_filter_select_offers_what_djangos_select_offers(world, agency_b):
    agencies = type(world.agency_a).objects.filter(pk__in=[world.agency_a.pk, agency_b.pk])
    fast = RequestListForm({"agency": str(agency_b.pk)}, agencies=agencies)
    plain = RequestListForm({"agency": str(agency_b.pk)}, agencies=agencies)
    assert isinstance(fast.fields["agency"].widget, FastSelect)
    plain.fields["agency"].widget = plain.fields["agency"].widget.__class__.__bases__[0]()
    plain.fields["agency"].widget.choices = plain.fields["agency"].choices

    def options(form):
        return [line.strip() for line in str(form["agency"]).splitlines() if line.strip()]

    assert options(fast) == options(plain)
    assert any("selected" in line and str(agency_b.pk) in line for line in options(fast))


@pytest.mark.parametrize("language", ["vi", "en"])
def test_the_filter_options_name_agencies_and_legal_bases_as_they_name_themselves(world, agency_b, language):
    # The options are read as columns, not objects: each label is still the record's own name in the reader's
    # language, the Vietnamese one where no English name was given.
    agency_b.name_en = ""
    agency_b.save(update_fields=["name_en"])
    agencies = type(world.agency_a).objects.filter(pk__in=[world.agency_a.pk, agency_b.pk])
    with translation.override(language):
        form = RequestListForm({}, agencies=agencies)
        offered_agencies = dict(list(form.fields["agency"].choices)[1:])
        offered_bases = dict(list(form.fields["legal_basis"].choices)[1:])
        assert offered_agencies == {agency.pk: str(agency) for agency in agencies}
        assert offered_bases == {basis.code: str(basis) for basis in form.fields["legal_basis"].queryset}
        assert offered_agencies[agency_b.pk] == agency_b.name_vi
        assert offered_agencies[world.agency_a.pk] == (world.agency_a.name_en if language == "en" else world.agency_a.name_vi)
