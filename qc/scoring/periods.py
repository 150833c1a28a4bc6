"""Scored windows: a day, an ISO week, a month, or any range of days, and which one a day is in.

The scorecard's appraisal period (考核周期, ``[period] appraisal``) is a month by default, as in
the seed scorecard; days are a view for coaching. A window is scored by pooling everything in
it (:class:`~qc.scoring.metrics.MetricPool`), never by averaging its days.

Labels: a day ``2026-11-24``, an ISO week ``2026-W48`` (Monday to Sunday), a month ``2026-11``,
a range ``2026-11-01~2026-11-15``. Days without a timestamp (``undated``) have a daily window
of their own and belong to no period or range.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date as Date
from datetime import timedelta

from qc.errors import ConfigError
from qc.scoring.metrics import UNDATED

__all__ = [
    "PERIOD_KINDS",
    "Period",
    "Windows",
    "parse_period",
    "period_of",
    "range_period",
]

# What ``[period] appraisal`` may say.
PERIOD_KINDS: tuple[str, ...] = ("day", "week", "month")

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


@dataclass(frozen=True, slots=True)
class Period:
    """A window of days scored as one: ``first`` … ``last`` inclusive (ISO dates)."""

    label: str
    first: str
    last: str
    kind: str  # day, week, month or range

    def holds(self, day: str) -> bool:
        """True when ``day`` (ISO date) is inside the window."""
        return self.first <= day <= self.last

    def days(self) -> list[str]:
        """Every day of the window, in order."""
        lo, hi = Date.fromisoformat(self.first), Date.fromisoformat(self.last)
        return [(lo + timedelta(days=i)).isoformat() for i in range((hi - lo).days + 1)]


def _day(day: Date) -> Period:
    text = day.isoformat()
    return Period(text, text, text, "day")


def _week(day: Date) -> Period:
    year, week, weekday = day.isocalendar()
    monday = day - timedelta(days=weekday - 1)
    # The calendar ends on Friday 9999-12-31: that last week stops there instead of overflowing.
    sunday = monday + timedelta(days=6) if (Date.max - monday).days >= 6 else Date.max
    return Period(f"{year:04d}-W{week:02d}", monday.isoformat(), sunday.isoformat(), "week")


def _month(day: Date) -> Period:
    first, last = day.replace(day=1), day.replace(day=calendar.monthrange(day.year, day.month)[1])
    return Period(f"{day.year:04d}-{day.month:02d}", first.isoformat(), last.isoformat(), "month")


_BY_KIND = {"day": _day, "week": _week, "month": _month}


# The daily window of the messages without a time: no period holds it.
_UNDATED_DAY = Period(UNDATED, UNDATED, UNDATED, "day")


def period_of(day: str, kind: str) -> Period | None:
    """The window of ``kind`` (day, week, month) that holds ``day``; ``None`` for an undated day."""
    if day == UNDATED:
        return _UNDATED_DAY if kind == "day" else None
    return _BY_KIND[kind](Date.fromisoformat(day))


# A day as qc writes and stores it. date.fromisoformat also takes 20261124 and 2026-W48-2, which
# the store's YYYY-MM-DD days never equal: a search between them found nothing, unsaid (audit 161 M1).
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _date(text: str, name: str) -> Date:
    try:
        if _ISO_DAY.fullmatch(text):
            return Date.fromisoformat(text)
    except ValueError:
        pass
    raise ConfigError(f"{name} {text!r} is not a date: write it as YYYY-MM-DD") from None


def range_period(first: str, last: str, names: tuple[str, str, str] = ("--from", "--to", "--date")) -> Period:
    """The window ``first`` … ``last`` (a single day when they are equal; ``undated`` alone: its day).

    ``names`` are what the user typed the first bound, the last and a single day as, for the
    message: the command line's options, or a page's fields.

    Raises:
        ConfigError: a bound is not a date, or ``first`` is after ``last``.
    """
    if first == last == UNDATED:
        return _UNDATED_DAY
    lo, hi = _date(first, names[0] if first != last else names[2]), _date(last, names[1])
    if lo > hi:
        raise ConfigError(
            f"{names[0]} {first} is after {names[1]} {last}: swap them ({names[0]} {last} {names[1]} {first})"
        )
    if lo == hi:
        return _day(lo)
    return Period(f"{lo.isoformat()}~{hi.isoformat()}", lo.isoformat(), hi.isoformat(), "range")


def period_label(label: str) -> str:
    """A window's label as ``--period`` writes it: a range that is a whole month or ISO week is that period.

    ``2026-11-01~2026-11-30`` is ``2026-11`` and ``2026-11-23~2026-11-29`` is ``2026-W48``; any other
    label is itself. A month exported with --period and with --from/--to is one window.
    """
    first, sep, last = label.partition("~")
    if not sep:
        return label
    try:
        lo, hi = Date.fromisoformat(first), Date.fromisoformat(last)
    except ValueError:
        return label
    if lo.day == 1 and (lo.year, lo.month) == (hi.year, hi.month) and _month(lo).last == hi.isoformat():
        return _month(lo).label
    if lo.isoweekday() == 1 and (hi - lo).days == 6:
        return _week(lo).label
    return label


def parse_period(text: str, name: str = "--period") -> Period:
    """A period from its label: ``2026-11`` (month), ``2026-W48`` (ISO week), ``2026-11-24`` (day).

    ``name`` is what the user typed it as, for the message: the option, or a page's field.

    Raises:
        ConfigError: the label is none of these.
    """
    hint = "write a month as 2026-11, an ISO week as 2026-W48 or a day as 2026-11-24"
    value = text.strip()
    if m := _MONTH.match(value):
        year, month = int(m.group(1)), int(m.group(2))
        if 1 <= month <= 12 and year >= 1:  # no year 0 in the calendar
            return _month(Date(year, month, 1))
    elif m := _WEEK.match(value):
        year, week = int(m.group(1)), int(m.group(2))
        try:
            return _week(Date.fromisocalendar(year, week, 1))
        except ValueError:
            if week == 53 and 1 <= year < 9999:
                # 2027-W53 named no reason (audit 114 L4): most ISO years have 52 weeks.
                raise ConfigError(
                    f"{name} {text!r}: {year} has 52 ISO weeks, no week 53 (its last is {year}-W52)"
                ) from None
    elif _ISO_DAY.fullmatch(value):
        try:
            return _day(Date.fromisoformat(value))
        except ValueError:
            pass
    raise ConfigError(f"{name} {text!r} is not a period: {hint}")


class Windows:
    """How days are grouped into scored windows: by day, week or month, or one fixed window.

    :meth:`of` gives the window a day belongs to, or ``None`` when the day is outside.
    """

    __slots__ = ("kind", "fixed", "_cache")

    def __init__(self, kind: str = "day", fixed: Period | None = None) -> None:
        if kind not in PERIOD_KINDS:
            raise ValueError(f"unknown window kind {kind!r}")
        self.kind = kind
        self.fixed = fixed
        self._cache: dict[str, Period | None] = {}

    @classmethod
    def daily(cls) -> Windows:
        """Every day its own window (the daily view)."""
        return cls("day")

    @classmethod
    def every(cls, kind: str) -> Windows:
        """Every day, week or month its own window."""
        return cls(kind)

    @classmethod
    def only(cls, period: Period) -> Windows:
        """One window: ``period``; days outside it are left out."""
        return cls("day", period)

    def of(self, day: str) -> Period | None:
        """The window ``day`` belongs to (``None``: outside every window)."""
        if day not in self._cache:
            if self.fixed is not None:
                # The undated day is in its own window only (it sorts after every date).
                undated = (day == UNDATED) == (self.fixed.first == UNDATED)
                self._cache[day] = self.fixed if undated and self.fixed.holds(day) else None
            else:
                self._cache[day] = period_of(day, self.kind)
        return self._cache[day]
