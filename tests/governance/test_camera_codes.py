"""Camera codes name folders and files: only letters, digits, '-' and '_', whatever way a camera comes in."""

import importlib

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError

from governance.imports import CameraImportError, camera_import_csv
from governance.models import Agency, Camera
from requests.sources.files import SegmentFileSource, UnsafeFootagePath
from tests.factories import AgencyFactory, CameraFactory, DistrictFactory, WardFactory
from tests.governance.test_import import csv_bytes, import_events, row, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def places(db):
    """The area and the agency the rows of test_import's CSV name."""
    ward = WardFactory(code="hn-hk-hang-bac", parent=DistrictFactory(code="hn-hk"))
    return ward, AgencyFactory(code="ioc-hk", kind=Agency.Kind.MONITORING_CENTRE)


UNSAFE_CODES = ["../../x", "..", "HK/001", "HK\\001", "HK 001", "Hàng-001", "HK.001", "%2e%2e", "HK-001;rm"]


@pytest.mark.parametrize("code", UNSAFE_CODES)
def test_the_import_refuses_a_code_that_is_not_letters_digits_hyphens_and_underscores(places, admin_user, code):
    data = csv_bytes(row(code="HK-OK-1"), row(code=code))
    with pytest.raises(CameraImportError) as refused:
        camera_import_csv(actor=admin_user, file=upload(data))
    [(line, message)] = refused.value.errors
    assert line == 3 and "Latin letters, digits, '-' and '_'" in message
    assert not Camera.objects.exists()
    assert not import_events().exists()


def test_the_import_accepts_letters_digits_hyphens_and_underscores(places, admin_user):
    data = csv_bytes(row(code="HK-HB_001"), row(code="abc123"))
    assert camera_import_csv(actor=admin_user, file=upload(data)).created == 2


@pytest.mark.parametrize("code", UNSAFE_CODES)
def test_the_model_refuses_an_unsafe_code(places, code):
    ward, centre = places
    camera = Camera(code=code, name="Ngã tư", kind=Camera.Kind.FIXED, area=ward, managing_agency=centre)
    with pytest.raises(ValidationError) as refused:
        camera.full_clean()
    assert "code" in refused.value.message_dict


@pytest.mark.parametrize("cell", ["Ngã tư\x00Hàng Bạc", "Ngã\x1btư", "Ngã\x7ftư", "Ngã\x85tư"])
def test_the_import_refuses_a_control_character_in_any_cell(places, admin_user, cell):
    data = csv_bytes(row(code="HK-1"), row(code="HK-2", address=cell))
    with pytest.raises(CameraImportError) as refused:
        camera_import_csv(actor=admin_user, file=upload(data))
    [(line, message)] = refused.value.errors
    assert line == 3 and "address" in message and "control character" in message
    assert not Camera.objects.exists()
    assert not import_events().exists()


def test_the_import_refuses_a_control_character_in_the_header(places, admin_user):
    data = b"code,name\x00,kind,area_code,managing_agency_code\nHK-1,x,fixed,hn-hk-hang-bac,ioc-hk\n"
    with pytest.raises(CameraImportError) as refused:
        camera_import_csv(actor=admin_user, file=upload(data))
    assert refused.value.errors[0][0] == 1 and "control character" in refused.value.errors[0][1]


def test_a_multi_line_address_is_still_accepted(places, admin_user):
    data = csv_bytes(row(code="HK-1", address="Số 2 Hàng Bạc,\nphường Hàng Bạc"))
    camera_import_csv(actor=admin_user, file=upload(data))
    assert Camera.objects.get(code="HK-1").address == "Số 2 Hàng Bạc,\nphường Hàng Bạc"


def test_the_migration_stops_on_existing_unsafe_codes_naming_them(db):
    CameraFactory(code="HK-001")
    CameraFactory(code="HK/002")
    migration = importlib.import_module("governance.migrations.0002_camera_code_pattern")
    with pytest.raises(RuntimeError) as stopped:
        migration.refuse_unsafe_codes(apps, None)
    assert "'HK/002'" in str(stopped.value) and "HK-001" not in str(stopped.value)


# Footage paths --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["../../x", "..", ".", "a/b", "a\\b", "x\x00"])
def test_a_footage_source_refuses_a_camera_name_that_leaves_its_folder(tmp_path, settings, code):
    settings.FOOTAGE_ROOT = tmp_path
    with pytest.raises(UnsafeFootagePath):
        SegmentFileSource(camera_code=code)
    with pytest.raises(UnsafeFootagePath):
        SegmentFileSource(camera_code="HK-1", options={"name": code, "layout": "generic"})


def test_a_recording_linked_from_outside_the_footage_root_is_refused(tmp_path, settings):
    import datetime as dt

    root = tmp_path / "footage"
    outside = tmp_path / "secret.mp4"
    outside.write_bytes(b"not footage")
    folder = root / "HK-1" / "2026-01-02"
    folder.mkdir(parents=True)
    (folder / "10-00-00.mp4").symlink_to(outside)
    settings.FOOTAGE_ROOT = root
    source = SegmentFileSource(camera_code="HK-1", options={"layout": "generic"})
    start = dt.datetime(2026, 1, 2, 10, 0, tzinfo=dt.UTC)
    with pytest.raises(UnsafeFootagePath):
        source.list_segments(start, start + dt.timedelta(minutes=5))


def test_a_camera_folder_linked_outside_the_footage_root_is_refused(tmp_path, settings):
    import datetime as dt

    root = tmp_path / "footage"
    elsewhere = tmp_path / "elsewhere" / "2026-01-02"
    elsewhere.mkdir(parents=True)
    root.mkdir()
    (root / "HK-1").symlink_to(elsewhere.parent)
    settings.FOOTAGE_ROOT = root
    source = SegmentFileSource(camera_code="HK-1", options={"layout": "generic"})
    start = dt.datetime(2026, 1, 2, 10, 0, tzinfo=dt.UTC)
    with pytest.raises(UnsafeFootagePath):
        source.list_segments(start, start + dt.timedelta(minutes=5))
    with pytest.raises(UnsafeFootagePath):
        source.oldest_kept()
