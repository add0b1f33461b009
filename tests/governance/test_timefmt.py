"""Times as people here read them: Vietnam time with the zone named, whatever form the moment comes in."""

import datetime as dt
import zoneinfo

import pytest
from django.utils import translation

from governance.timefmt import DATE_TIME_SECONDS, duration_text, file_stamp, local_time, zone_name

MOMENT = dt.datetime(2026, 12, 2, 10, 30, 5, tzinfo=dt.UTC)


def test_a_moment_is_printed_in_vietnam_time_with_the_zone_named():
    assert local_time(MOMENT) == "02/12/2026 17:30 (UTC+7)"
    assert local_time(MOMENT, DATE_TIME_SECONDS) == "02/12/2026 17:30:05 (UTC+7)"
    assert local_time(MOMENT, "%H:%M") == "17:30 (UTC+7)"


def test_manifest_times_read_the_same_as_datetimes():
    assert local_time("2026-12-02T10:30:05.000000+00:00") == local_time("2026-12-02T10:30:05Z") == local_time(MOMENT)
    assert local_time(MOMENT.astimezone(zoneinfo.ZoneInfo("Europe/Paris"))) == "02/12/2026 17:30 (UTC+7)"
    assert local_time(None) == local_time("") == "—"


def test_a_moment_late_in_the_utc_day_falls_on_the_next_local_day():
    assert local_time(dt.datetime(2026, 12, 31, 20, 0, tzinfo=dt.UTC)) == "01/01/2027 03:00 (UTC+7)"


def test_file_names_carry_the_offset_in_iso_basic_format():
    assert file_stamp(MOMENT) == "20261202T173005+0700"


def test_zones_are_named_by_their_offset():
    def at(zone):
        return MOMENT.astimezone(zoneinfo.ZoneInfo(zone))

    assert [zone_name(at(z)) for z in ("UTC", "Asia/Kolkata", "America/Sao_Paulo", "Asia/Ho_Chi_Minh")] == [
        "UTC",
        "UTC+5:30",
        "UTC-3",
        "UTC+7",
    ]


@pytest.mark.parametrize(
    ("seconds", "vi", "en"),
    [
        (45, "45 giây", "45 seconds"),
        (1080, "18 phút", "18 minutes"),
        (3600, "1 giờ", "1 hour"),
        (9000, "2 giờ 30 phút", "2 hours 30 minutes"),
        (7199.6, "2 giờ", "2 hours"),
        (59.4, "59 giây", "59 seconds"),
        (26.5 * 3600, "26 giờ 30 phút", "26 hours 30 minutes"),
    ],
)
def test_a_duration_reads_in_hours_minutes_and_seconds_not_a_decimal_hour(seconds, vi, en):
    with translation.override("vi"):
        assert duration_text(seconds) == vi
    with translation.override("en"):
        assert duration_text(seconds) == en


@pytest.mark.parametrize(
    ("seconds", "vi", "en"),
    [
        ((3 * 24 + 4) * 3600 + 20 * 60, "3 ngày 4 giờ", "3 days 4 hours"),
        (48 * 3600, "2 ngày", "2 days"),
        ((2 * 24 + 23) * 3600 + 40 * 60, "3 ngày", "3 days"),
    ],
)
def test_from_two_days_on_a_duration_reads_in_days_and_hours(seconds, vi, en):
    with translation.override("vi"):
        assert duration_text(seconds) == vi
    with translation.override("en"):
        assert duration_text(seconds) == en
