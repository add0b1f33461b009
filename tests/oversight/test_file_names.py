"""Reports and dossiers download under names in Vietnam time with the offset, never in UTC."""

# ruff: noqa: F811 - the fixtures imported below are requested by name

import datetime as dt

import pytest
from django.urls import reverse

from governance.models import Agency
from oversight.reports import download_name
from tests.auth import sign_in_verified
from tests.factories import AgencyFactory, UserFactory
from tests.requests.conftest import world  # noqa: F401 - the workflow's fixture world


def test_a_report_name_is_its_code_and_its_local_time_with_the_offset():
    made = dt.datetime(2026, 12, 3, 7, 15, tzinfo=dt.UTC)

    assert download_name("BC-2026-000001", made, "pdf") == "BC-2026-000001_20261203T141500+0700.pdf"
    assert download_name("BC-2026-000001-csv", made, "zip") == "BC-2026-000001-csv_20261203T141500+0700.zip"


@pytest.mark.django_db
def test_a_dossier_downloads_under_a_local_time_name(client, world):
    footage_request = world.reviewed()
    inspectorate = AgencyFactory(code="thanh-tra-hb", kind=Agency.Kind.INSPECTORATE, area=world.ward)
    sign_in_verified(client, UserFactory(agency=inspectorate, roles=["auditor"]), language="en")

    response = client.get(reverse("oversight:dossier", args=[footage_request.reference]))

    assert response.status_code == 200
    disposition = response["Content-Disposition"]
    assert f'filename="HS-{footage_request.reference}-' in disposition
    assert disposition.endswith('+0700.pdf"')
