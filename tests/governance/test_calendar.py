"""Working time: Tết, the national days and the centre's own days off are not worked, and deadlines count that way."""

import datetime as dt
from contextlib import ExitStack

import holidays
import pytest
from django.conf import settings
from django.urls import reverse

from audit.models import Action, AuditEvent
from governance import calendar
from governance.models import DayOff, DeadlineUnit
from governance.services import regulation_snapshot
from requests import workflow
from requests.models import Decision
from tests.audit.clock import clock_at
from tests.auth import sign_in_verified
from tests.factories import DayOffFactory, LegalBasisFactory, RegulationVersionFactory, UserFactory
from tests.requests.conftest import world  # noqa: F401 - the workflow world

VN = dt.timezone(dt.timedelta(hours=7))


def local(*args):
    return dt.datetime(*args, tzinfo=VN)


@pytest.fixture(autouse=True)
def fresh_calendar():
    # Days off written by a test (and rolled back after it) must not stay in this process's calendar.
    calendar.forget()
    yield
    calendar.forget()


@pytest.fixture
def world_at(request):
    """`world_at(moment)`: the workflow world (tests/requests/conftest.py), built and run with the clock at `moment`."""
    with ExitStack() as stack:

        def build(moment):
            stack.enter_context(clock_at(moment))
            return request.getfixturevalue("world")

        yield build


def test_tet_2027_begins_on_6_february_by_the_lunar_calendar():
    public = holidays.country_holidays("VN", years=2027, language="en_US")

    assert public[dt.date(2027, 2, 6)] == "Lunar New Year"
    assert all(day in public for day in (dt.date(2027, 2, 5), dt.date(2027, 2, 8), dt.date(2027, 2, 9)))


# Tết 2027 begins on a Saturday; Tết 2026 (17 February) on a Tuesday, which the weekday rule alone took for work.
@pytest.mark.parametrize(("morning", "ordinary"), [(local(2027, 2, 6, 8, 30), 10), (local(2026, 2, 17, 8, 30), 14)])
def test_request_approved_on_the_morning_of_the_first_day_of_tet_is_outside_working_time(world_at, morning, ordinary):
    scene = world_at(morning)
    footage_request = scene.reviewed()

    workflow.request_approve(actor=scene.approver, footage_request=footage_request, reason="Đồng ý")

    approval = Decision.objects.get(footage_request=footage_request, step=Decision.Step.APPROVAL)
    assert approval.created_at.astimezone(VN).date() == morning.date()
    assert not calendar.is_working_time(approval.created_at)
    # The same hour on an ordinary Tuesday after Tết is working time.
    assert calendar.is_working_time(approval.created_at + dt.timedelta(days=ordinary))


@pytest.mark.parametrize(
    "day",
    [
        dt.date(2026, 4, 30),  # Reunification Day (Thursday)
        dt.date(2026, 5, 1),  # Labour Day (Friday)
        dt.date(2026, 9, 2),  # National Day (Wednesday)
        dt.date(2027, 4, 16),  # Giỗ Tổ Hùng Vương, 10th of the 3rd lunar month (Friday)
        dt.date(2026, 4, 27),  # Giỗ Tổ 2026 fell on a Sunday: the Monday after is off in lieu
    ],
)
def test_national_days_and_gio_to_are_days_off(db, day):
    assert day.weekday() < 5
    assert not calendar.is_working_day(day)
    assert not calendar.is_working_time(dt.datetime.combine(day, dt.time(9), tzinfo=VN))


def test_an_ordinary_weekday_morning_is_working_time_and_the_evening_and_weekend_are_not(db):
    start, end = settings.WORKING_HOURS

    assert calendar.is_working_time(local(2026, 12, 8, start, 0))
    assert not calendar.is_working_time(local(2026, 12, 8, end, 0))
    assert not calendar.is_working_time(local(2026, 12, 8, start - 1, 59))
    assert not calendar.is_working_time(local(2026, 12, 12, 10, 0))  # a Saturday
    # A moment in UTC is read in Vietnam time: 01:00 UTC is 08:00 in Hà Nội.
    assert calendar.is_working_time(dt.datetime(2026, 12, 8, 1, 0, tzinfo=dt.UTC))


def test_a_deadline_in_working_days_that_spans_tet_ends_after_it(db):
    # Filed on Wednesday 3 February 2027; Tết is off from Thursday 4 to Wednesday 10 February.
    filed = local(2027, 2, 3, 10, 0)

    due = calendar.deadline(filed, 3, DeadlineUnit.WORKING_DAYS)

    assert due == local(2027, 2, 15, settings.WORKING_HOURS[1], 0)  # Thursday 11, Friday 12, Monday 15
    assert due.date() > max(day for day in holidays.country_holidays("VN", years=2027) if day.month == 2)


def test_a_deadline_in_working_hours_counts_only_working_time_across_tet(db):
    start, end = settings.WORKING_HOURS
    filed = local(2027, 2, 3, end - 2, 0)  # two working hours left that Wednesday

    assert calendar.add_working_hours(filed, 2) == local(2027, 2, 3, end, 0)
    assert calendar.add_working_hours(filed, 3) == local(2027, 2, 11, start + 1, 0)


def test_calendar_hours_run_day_and_night_as_before(db):
    filed = local(2027, 2, 5, 10, 0)

    assert calendar.deadline(filed, 24, DeadlineUnit.CALENDAR_HOURS) == filed + dt.timedelta(hours=24)


def test_a_day_off_the_centre_adds_counts(db):
    tuesday = dt.date(2026, 12, 8)
    assert calendar.is_working_day(tuesday)

    DayOffFactory(date=tuesday, name="Nghỉ bù do trung tâm quyết định")
    calendar.forget()

    assert not calendar.is_working_day(tuesday)
    assert not calendar.is_working_time(local(2026, 12, 8, 9, 0))
    # Filed on Monday: the first working day is now Wednesday.
    assert calendar.add_working_days(local(2026, 12, 7, 9, 0), 1).date() == dt.date(2026, 12, 9)


def test_a_weekend_day_the_centre_works_counts_as_a_working_day(db):
    saturday = dt.date(2026, 12, 12)
    DayOffFactory(date=saturday, name="Làm bù", is_working_day=True)

    assert calendar.is_working_day(saturday)
    assert calendar.add_working_days(local(2026, 12, 11, 9, 0), 1).date() == saturday


def test_the_government_moving_a_working_day_to_a_saturday_is_followed(db):
    # 2026: Monday 31 August off for National Day, worked on Saturday 22 August instead.
    assert not calendar.is_working_day(dt.date(2026, 8, 31))
    assert calendar.is_working_day(dt.date(2026, 8, 22))


def submitted_on_friday(world_at, *, hour, unit, amount):
    scene = world_at(local(2026, 12, 4, hour, 0))  # a Friday
    # The world's regulation is published, so its basis is fixed: set up as if it had been published saying so.
    type(scene.basis).objects.filter(pk=scene.basis.pk).update(deadline_unit=unit, deadline_hours_normal=amount)
    scene.basis.refresh_from_db()
    return scene.submitted()


def test_a_basis_in_working_days_gives_a_due_date_that_skips_the_weekend(world_at):
    footage_request = submitted_on_friday(world_at, hour=10, unit=DeadlineUnit.WORKING_DAYS, amount=1)

    assert footage_request.due_at == local(2026, 12, 7, settings.WORKING_HOURS[1], 0)  # Monday, when work ends


def test_a_basis_in_working_hours_gives_a_due_date_that_skips_the_weekend(world_at):
    start, end = settings.WORKING_HOURS

    footage_request = submitted_on_friday(world_at, hour=end - 1, unit=DeadlineUnit.WORKING_HOURS, amount=3)

    # One hour on Friday, two on Monday (the test clock ticks: submitted a few milliseconds after the hour).
    late = footage_request.submitted_at - local(2026, 12, 4, end - 1, 0)
    assert late < dt.timedelta(seconds=1)
    assert footage_request.due_at == local(2026, 12, 7, start + 2, 0) + late


def test_the_published_regulation_records_each_basis_deadline_unit(db):
    version = RegulationVersionFactory()
    version.legal_bases.add(LegalBasisFactory(deadline_unit=DeadlineUnit.WORKING_DAYS, deadline_hours_normal=15))

    [basis] = regulation_snapshot(version)["legal_bases"]

    assert basis["deadline_unit"] == "working_days" and basis["deadline_hours"][0] == 15


def test_legal_basis_page_shows_the_deadline_in_its_unit(client, insider):
    basis = LegalBasisFactory(deadline_unit=DeadlineUnit.WORKING_DAYS, deadline_hours_normal=5, deadline_hours_urgent=1)
    sign_in_verified(client, insider)

    page = client.get(reverse("legal-basis-detail", args=[basis.code]), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "5 working days" in page and "1 working day" in page and "Tết" in page


# The admin ---------------------------------------------------------------------------


def test_administrator_adds_a_day_off_in_the_admin_and_the_ledger_records_it(
    client, admin_user, django_capture_on_commit_callbacks
):
    sign_in_verified(client, admin_user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    day = dt.date(2026, 12, 8)
    assert calendar.is_working_day(day)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:governance_dayoff_add"), {"date": "2026-12-08", "name": "Kỷ niệm thành lập trung tâm"}
        )

    assert response.status_code == 302, response.content.decode()[:2000]
    day_off = DayOff.objects.get(date=day)
    [event] = AuditEvent.objects.filter(action=Action.GOVERNANCE_CREATE, target_type="governance.dayoff")
    assert event.actor == admin_user and event.target_id == str(day_off.pk)
    assert event.data["fields"] == {"date": "2026-12-08", "name": "Kỷ niệm thành lập trung tâm", "is_working_day": False}
    assert not calendar.is_working_day(day)


def test_administrator_removes_a_day_off_and_the_ledger_records_it(client, admin_user, django_capture_on_commit_callbacks):
    day_off = DayOffFactory(date=dt.date(2026, 12, 8))
    sign_in_verified(client, admin_user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:governance_dayoff_delete", args=[day_off.pk]), {"post": "yes"})

    assert response.status_code == 302
    assert not DayOff.objects.exists()
    assert AuditEvent.objects.filter(action=Action.GOVERNANCE_DELETE, target_id=str(day_off.pk)).exists()
    assert calendar.is_working_day(dt.date(2026, 12, 8))


def test_only_system_administrators_may_add_days_off(client, agency_a):
    ward_admin = UserFactory(username="quantri-phuong", agency=agency_a, is_staff=True, roles=["administrator"])
    sign_in_verified(client, ward_admin)

    response = client.post(reverse("admin:governance_dayoff_add"), {"date": "2026-12-08", "name": "Nghỉ"})

    assert response.status_code == 403
    assert not DayOff.objects.exists()
    assert not AuditEvent.objects.filter(target_type="governance.dayoff").exists()
