"""Times as people here read them: Vietnam time (settings.TIME_ZONE), always with the zone named.

Stored and exchanged times stay in UTC (the ledger, manifest.json); what a
person reads — every PDF, the names of released files — is local time, and
says so, because a record that is printed or forwarded no longer carries the
reader's time zone with it. Every app may use this module; it imports none.
"""

import datetime as dt

from django.utils import timezone
from django.utils.translation import ngettext

DATE_TIME = "%d/%m/%Y %H:%M"
DATE_TIME_SECONDS = "%d/%m/%Y %H:%M:%S"
# From this length on a duration is told in days and hours (a request's windows stay within a day or two).
DAYS_FROM = 48 * 3600


def local(moment):
    """An aware datetime, or an ISO 8601 text (a trailing Z included), in Vietnam time."""
    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment.replace("Z", "+00:00"))
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(timezone.get_default_timezone())


def zone_name(moment):
    """The offset from UTC of a local time, as people write it: "UTC+7", "UTC+5:30", "UTC"."""
    minutes = round(moment.utcoffset().total_seconds() / 60)
    if not minutes:
        return "UTC"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{'+' if minutes > 0 else '-'}{hours}" + (f":{rest:02d}" if rest else "")


def local_time(moment, fmt=DATE_TIME):
    """A moment in Vietnam time followed by its zone, as every PDF prints it: "02/12/2026 17:30 (UTC+7)"; "—" for none."""
    if not moment:
        return "—"
    moment = local(moment)
    return f"{moment.strftime(fmt)} ({zone_name(moment)})"


def file_stamp(moment):
    """A moment in Vietnam time for a file name, ISO 8601 basic format with the offset: "20261202T173000+0700"."""
    return local(moment).strftime("%Y%m%dT%H%M%S%z")


def duration_text(seconds: float) -> str:
    """A length of time as people say it, in the active language: "3 ngày 4 giờ", "2 giờ 30 phút", "18 phút", "45 giây".

    Seconds below a minute; hours and minutes (rounded to the nearest minute) below two days; days and hours
    (rounded to the nearest hour) from two days on, where minutes no longer matter to the reader."""
    total = round(seconds)
    if total < 60:
        return ngettext("%(n)d second", "%(n)d seconds", total) % {"n": total}
    if total >= DAYS_FROM:
        days, hours = divmod(round(total / 3600), 24)
        parts = [ngettext("%(days)s day", "%(days)s days", days) % {"days": days}]
        if hours:
            parts.append(ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours})
        return " ".join(parts)
    hours, minutes = divmod(round(total / 60), 60)
    parts = []
    if hours:
        parts.append(ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours})
    if minutes or not hours:
        parts.append(ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes})
    return " ".join(parts)


def local_midnight(day: dt.date) -> dt.datetime:
    """The first moment of a local (Vietnam) day."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min), timezone.get_default_timezone())
