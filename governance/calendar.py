"""Working time: the one module that knows which days and hours are worked, and counts deadlines in them.

A working day is Monday to Friday, except Vietnam's public holidays (the
`holidays` package: Tết and Giỗ Tổ Hùng Vương by the lunar calendar, 30/4,
1/5, 2/9, the days off in lieu and the days the government moves), and except
the centre's own days off (`DayOff`, kept in the admin), which may also mark a
weekend day or a holiday as worked. Working time is settings.WORKING_HOURS,
local time (governance.timefmt), on a working day.

Reports ask about every row of a period, so each year's working days are
worked out once per process and kept for CACHE_SECONDS: a day off added in the
admin reaches every process within that time.
"""

import datetime as dt
import functools
import time

import holidays
from django.conf import settings
from django.utils import timezone

from governance import timefmt
from governance.models import DayOff, DeadlineUnit, LegalBasis

COUNTRY = "VN"
CACHE_SECONDS = 60
# A deadline is looked for this far ahead at the most: a calendar without working days never ends a count.
SEARCH_DAYS = 3660

# year -> (monotonic time it expires, the working days of that year)
_years: dict[int, tuple[float, frozenset[dt.date]]] = {}


@functools.cache
def _public_working_days(year: int) -> frozenset[dt.date]:
    """Monday to Friday without the public holidays, with the weekend days the government made working days."""
    public = holidays.country_holidays(COUNTRY, years=year)
    first = dt.date(year, 1, 1)
    days = (first + dt.timedelta(days=n) for n in range((dt.date(year + 1, 1, 1) - first).days))
    moved = {day for day in public.weekend_workdays if day.year == year}
    return frozenset(day for day in days if (day.weekday() < 5 and day not in public) or day in moved)


def _load(year: int) -> frozenset[dt.date]:
    days = set(_public_working_days(year))
    for day, worked in DayOff.objects.filter(date__year=year).values_list("date", "is_working_day"):
        if worked:
            days.add(day)
        else:
            days.discard(day)
    return frozenset(days)


def working_days_of(year: int) -> frozenset[dt.date]:
    """Every working day of a year."""
    now = time.monotonic()
    entry = _years.get(year)
    if entry is None or entry[0] < now:
        entry = _years[year] = (now + CACHE_SECONDS, _load(year))
    return entry[1]


def forget() -> None:
    """Drop what this process keeps of the centre's days off (after they change)."""
    _years.clear()


def is_working_day(day: dt.date) -> bool:
    """True for a working day; a datetime is read as its local date."""
    if isinstance(day, dt.datetime):
        day = timefmt.local(day).date()
    return day in working_days_of(day.year)


def is_working_time(moment: dt.datetime) -> bool:
    """True when `moment` (aware; naive is read as UTC) falls in working hours, local time, of a working day."""
    local = timefmt.local(moment)
    start, end = settings.WORKING_HOURS
    return start <= local.hour < end and local.date() in working_days_of(local.year)


def _next_working_day(day: dt.date) -> dt.date:
    for _ in range(SEARCH_DAYS):
        if is_working_day(day):
            return day
        day += dt.timedelta(days=1)
    raise ValueError(f"no working day within {SEARCH_DAYS} days of {day}")


def _at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=timezone.get_default_timezone())


def add_working_days(moment: dt.datetime, days: int) -> dt.datetime:
    """The end of working hours on the `days`-th working day after the day of `moment`, local time.

    The day it starts is not counted and a count of days ends when the working
    day does, as the Civil Code 91/2015/QH13 counts periods (Art. 147, 148). Zero days: the
    end of the day of `moment`, or of the next working day when that is none.
    """
    day = timefmt.local(moment).date()
    if days <= 0:
        day = _next_working_day(day)
    for _ in range(days):
        day = _next_working_day(day + dt.timedelta(days=1))
    return _at(day, settings.WORKING_HOURS[1])


def add_working_hours(moment: dt.datetime, hours: float) -> dt.datetime:
    """`moment` plus `hours` counted in working time only, local time.

    Counting starts at `moment` when that is working time, otherwise when
    working time next begins; a count that uses up a working day ends at its
    close, not at the next opening.
    """
    start, end = settings.WORKING_HOURS
    left = dt.timedelta(hours=hours)
    cursor = timefmt.local(moment)
    day = cursor.date()
    for _ in range(SEARCH_DAYS):
        if is_working_day(day):
            opens, closes = _at(day, start), _at(day, end)
            begin = max(cursor, opens)
            if begin < closes:
                if left <= closes - begin:
                    return begin + left
                left -= closes - begin
        day += dt.timedelta(days=1)
    raise ValueError(f"no end within {SEARCH_DAYS} days of {moment}")


def deadline(start: dt.datetime, amount: float, unit: str) -> dt.datetime:
    """When a deadline of `amount` in `unit` (a DeadlineUnit) that starts at `start` ends."""
    if unit == DeadlineUnit.WORKING_DAYS:
        return add_working_days(start, int(amount))
    if unit == DeadlineUnit.WORKING_HOURS:
        return add_working_hours(start, amount)
    if unit == DeadlineUnit.CALENDAR_HOURS:
        return start + dt.timedelta(hours=amount)
    raise ValueError(f"unknown deadline unit {unit!r}")


def response_due(*, legal_basis: LegalBasis, urgency: str, start: dt.datetime) -> dt.datetime:
    """When the answer to a request filed at `start` under `legal_basis` with `urgency` is due."""
    return deadline(start, legal_basis.deadline_amount(urgency), legal_basis.deadline_unit)
