"""The downloaded package is named in Vietnam time with its offset, never in UTC; its clips' lengths read in words."""

import datetime as dt

import pytest

from requests import releases
from requests.export_handover import _clip_length
from requests.models import FootageRequest, Release, Status
from tests.requests.footage import approved
from tests.requests.footage import export as run_export


def test_the_package_name_carries_the_release_time_in_vietnam_time_with_the_offset():
    release = Release(
        footage_request=FootageRequest(reference="YC-2026-000123"),
        created_at=dt.datetime(2026, 12, 3, 20, 15, tzinfo=dt.UTC),  # already 4 December in Hà Nội
    )

    assert releases.package_download_name(release) == "YC-2026-000123_20261204T031500+0700.zip"


@pytest.mark.django_db
def test_the_requester_downloads_the_package_under_its_local_name(world, footage, client, django_capture_on_commit_callbacks):
    footage_request = approved(world, [(footage.at(3), footage.at(7))])
    footage_request = run_export(world, footage_request, django_capture_on_commit_callbacks)
    assert footage_request.status == Status.RELEASED
    _grant, token = releases.release_link_issue(actor=world.insider, footage_request=footage_request)
    client.force_login(world.insider)

    response = client.get(f"/requests/download/{token}/")

    assert response.status_code == 200
    name = releases.package_download_name(footage_request.release)
    assert name.startswith(f"{footage_request.reference}_") and name.endswith("+0700.zip")
    assert f'filename="{name}"' in response["Content-Disposition"]


def test_the_handover_record_gives_a_clips_length_in_words_and_exact_seconds():
    assert _clip_length(8.46) == "8,5 giây"
    assert _clip_length(240.5) == "4 phút (240,5 giây)"
    assert _clip_length(3725.0) == "1 giờ 2 phút (3725,0 giây)"
