"""Timestamps as exports write them, turned into aware datetimes.

Accepted: ISO 8601 (with or without a zone), ``2026-11-24 10:00:01``,
``2026/11/24 10:00:01``, ``2026年11月24日 10:00:01``, epoch seconds or
milliseconds, spreadsheet datetime cells, and time-only ``14:59:42`` when the
day is known. Naive values are taken in the configured zone.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from functools import lru_cache
from pathlib import Path

# Spaces are possessive (\s*+): a time followed by a long run of spaces and a letter backtracked
# quadratically (20,000 spaces: 1.8 s a cell, audit 121 M4). So a date's spaces before 日 are taken
# only with the 日, and leave the space before the clock to the separator.
_DATE = r"(?P<y>\d{4})\s*+[-/.年]\s*+(?P<mo>\d{1,2})\s*+[-/.月]\s*+(?P<d>\d{1,2})(?:\s*+日)?"
# 上午/下午 (and AM/PM) before or after the clock: exports set to a 12-hour clock write them.
_MERIDIEM = r"上午|下午|凌晨|早上|中午|晚上|AM|PM"
_TIME = (
    rf"(?:(?P<ampm>{_MERIDIEM})\s*+)?(?P<h>\d{{1,2}})\s*+[:：时]\s*+(?P<mi>\d{{1,2}})"
    # 10时03分 without its seconds: the header patterns take it, and it was refused here, so such a
    # header was a reject and a quote written so (小鹿(9时58分)) was not known for one (audit 127 M2).
    r"(?:\s*+[:：分]\s*+(?P<s>\d{1,2})(?:[.,](?P<frac>\d{1,9}))?\s*+秒?|\s*+分)?"
    rf"(?:\s*+(?P<ampm2>{_MERIDIEM}))?"
)
# An offset of hours alone (+08), as ISO 8601 and Python's fromisoformat allow (audit 154 L2).
_ZONE = r"(?P<z>Z|[+-]\d{2}(?::?\d{2})?)?"
DATETIME_RE = re.compile(rf"^{_DATE}(?:(?:\s*+T\s*+|\s++|(?<=日)){_TIME})?\s*+{_ZONE}$", re.IGNORECASE)
# A clock-only time may carry a lower-case am/pm and an offset, as the dated form may (10:00:01 pm,
# 10:00:01.250 +08:00, 10:00+08:00): text-export headers of such exports were rejects (audit 116
# M1), and so were CSV and JSON times once the offset had to follow the seconds (audit 118 H3). A
# clock without seconds takes no negative offset: 9:00-18:00 is a range of hours (audit 117 M1).
_MINUTES_THEN_MINUS = rf"(?:(?:{_MERIDIEM})\s*+)?\d{{1,2}}\s*+[:：时]\s*+\d{{1,2}}\s*+分?\s*+-"
TIME_RE = re.compile(rf"^(?!{_MINUTES_THEN_MINUS}){_TIME}\s*+{_ZONE}$", re.IGNORECASE)
# A lookahead, so every place is tried: shop2088_2026-11-24 read 2088_20 26 as a date, failed, and
# went on after it, past the real one (audit 172 F6).
_FILE_DATE_RE = re.compile(r"(?<!\d)(?=(20\d{2})[-_.]?(\d{2})[-_.]?(\d{2})(?!\d))")

# Epoch values above this are milliseconds (1e11 seconds is the year 5138).
_EPOCH_MS_FROM = 1e11


class TimestampError(ValueError):
    """A value that is not a timestamp qc understands (message names the value's shape, not the text)."""


# The shape bulk exports write (ISO 8601 to the second, with or without an offset): read by
# datetime.fromisoformat in C. Anything else, and any value it refuses, takes the full parser.
_ISO_SECONDS = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:Z|[+-]\d\d:\d\d)?")


# Offset suffix of an ISO timestamp ("+08:00", "Z") → its shared zone, once fromisoformat accepted it.
_ISO_ZONES: dict[str, tzinfo] = {}


def _iso_zone(text: str) -> tzinfo | None:
    """The shared zone of an ISO timestamp's offset, or ``None`` when fromisoformat refuses the value."""
    if text[-2:] > "59" and text[-3] == ":":
        return None  # fromisoformat reads +08:61 as +09:01; the full parser refuses it
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    assert parsed.tzinfo is not None  # the shape has an offset here
    # One zone object per offset text: the workers' packing then tells a chunk's zones apart
    # by object, cheaply.
    return _ISO_ZONES.setdefault(text[19:], parsed.tzinfo)


@lru_cache(maxsize=64)
def _shifting(zone: tzinfo) -> bool:
    """True for a zone whose UTC offset changes (daylight saving) in the years chats are read."""
    offsets = {zone.utcoffset(datetime(year, month, 1)) for year in range(2000, 2100) for month in (1, 7)}
    return len(offsets) > 1


_FIXED: dict[timedelta | None, timezone] = {}


def steady(moment: datetime) -> datetime:
    """``moment`` on the fixed UTC offset it has, when its zone changes offset over the year.

    Python subtracts and compares two times of the same zone object by their wall clocks: read
    in Europe/Berlin, 01:59 and 03:00:30 on the night clocks spring forward are 3,690 s apart
    to it, not 90. On fixed offsets (+01:00, +02:00) the arithmetic is exact, and the offset
    written to every output is the same. Zones without daylight saving (Asia/Shanghai) are kept.
    """
    zone = moment.tzinfo
    if zone is None or type(zone) is timezone or not _shifting(zone):
        return moment
    offset = moment.utcoffset()
    fixed = _FIXED.get(offset)
    if fixed is None:
        assert offset is not None
        fixed = _FIXED[offset] = timezone(offset)
    return moment.astimezone(fixed)


def _zone(text: str | None, default: tzinfo) -> tzinfo:
    if not text:
        return default
    if text.upper() == "Z":
        return UTC
    sign = 1 if text[0] == "+" else -1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 23 or minutes > 59:
        raise TimestampError(
            f"timestamp has an impossible UTC offset {text} (offsets run from -23:59 to +23:59)"
        )
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _clock_hour(hour: int, meridiem: str | None) -> int:
    """The 24-hour hour of a 12-hour clock reading (下午 3 is 15, 上午 12 and 晚上 12 are 0).

    A reading without a mark is as written.
    """
    if meridiem is None or hour > 12:
        return hour
    mark = meridiem.upper()
    if mark in ("下午", "PM"):
        return hour if hour == 12 else hour + 12
    if mark == "晚上":
        return 0 if hour == 12 else hour + 12
    if mark == "中午":
        return hour + 12 if hour < 11 else hour
    return 0 if hour == 12 else hour  # 上午, 凌晨, 早上, AM


def _build(m: re.Match[str], day: date | None, tz: tzinfo) -> datetime:
    groups = m.groupdict()
    meridiem = groups.get("ampm") or groups.get("ampm2")
    if "y" in groups and groups["y"] is not None:
        day = date(int(groups["y"]), int(groups["mo"]), int(groups["d"]))
        if meridiem == "晚上" and int(groups.get("h") or 0) == 12:
            day += timedelta(days=1)  # 晚上12点 is the midnight that ends the day written
    assert day is not None
    hour = _clock_hour(int(groups.get("h") or 0), meridiem)
    minute = int(groups.get("mi") or 0)
    second = int(groups.get("s") or 0)
    frac = groups.get("frac") or ""
    micro = int((frac + "000000")[:6]) if frac else 0
    return datetime.combine(day, time(hour, minute, second, micro), _zone(groups.get("z"), tz))


def parse_time_only(value: str) -> time | None:
    """``14:59:42`` → a time, or ``None`` when the value is not a bare time of day.

    A 12-hour reading is its 24-hour time (``3:05:20 pm`` is 15:05:20, as a timestamp reads it;
    it was 03:05:20, audit 117 L1).
    """
    m = TIME_RE.match(value.strip())
    if not m:
        return None
    try:
        hour = _clock_hour(int(m["h"]), m["ampm"] or m["ampm2"])
        return time(hour % 24, int(m["mi"]), int(m["s"] or 0))
    except ValueError:
        return None


def parse_timestamp(value: object, tz: tzinfo, day: date | None = None) -> datetime | None:
    """Turn one timestamp value into an aware datetime.

    Args:
        value: A string, number (epoch seconds or ms), ``datetime`` or ``None``.
        tz: Zone for naive values.
        day: Day for time-only values; without it a time-only value gives ``None``.

    Returns:
        The aware datetime, or ``None`` for an empty value or a time-only value
        with no known day (the caller warns; a time is never invented).

    Raises:
        TimestampError: The value is not a timestamp in any accepted form.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=tz)
    if isinstance(value, date):
        raise TimestampError("timestamp is a date without a time of day")
    if isinstance(value, time):
        return datetime.combine(day, value, tz) if day else None
    if isinstance(value, bool):
        raise TimestampError("timestamp is a boolean")
    if isinstance(value, int | float):
        if 0 <= value < 1:
            # A time of day Excel keeps as a fraction of a day (12:00 is 0.5) in a cell whose
            # format was reset: read as epoch seconds it was 1970, a reject. Like a clock-only
            # time, it needs its day (a date column, the file's name, --date).
            if day is None:
                return None
            return datetime.combine(day, time(), tz) + timedelta(seconds=round(value * 86400, 3))
        if _EXCEL_SERIAL_FROM <= value < _EXCEL_SERIAL_TO:
            return _from_excel_serial(float(value), tz)
        try:
            seconds = float(value)
        except OverflowError:  # a JSON integer of hundreds of digits
            raise TimestampError("epoch timestamp out of range") from None
        return _from_epoch(seconds, tz)
    if not isinstance(value, str):
        raise TimestampError(f"timestamp has an unexpected type ({type(value).__name__})")
    text = value.strip()
    if not text:
        return None
    if _ISO_SECONDS.fullmatch(text):
        suffix = text[19:]  # "", "Z" or "+hh:mm"; an offset not seen yet is checked by fromisoformat
        zone = (_ISO_ZONES.get(suffix) or _iso_zone(text)) if suffix else tz
        if zone is not None:
            try:
                naive = datetime.fromisoformat(text[:19])
            except ValueError:
                pass  # out of range: the full parser says which way
            else:
                # combine, not replace(tzinfo=…): a third of the cost, the same value.
                return datetime.combine(naive.date(), naive.time(), zone)
    if _EPOCH_TEXT.fullmatch(text):
        return _from_epoch(float(text), tz)
    if _SERIAL_TEXT.fullmatch(text) and _EXCEL_SERIAL_FROM <= float(text) < _EXCEL_SERIAL_TO:
        return _from_excel_serial(float(text), tz)  # a serial a CSV wrote as text
    m = DATETIME_RE.match(text)
    try:
        if m:
            if m["h"] is None:
                raise TimestampError("timestamp is a date without a time of day")
            return _build(m, None, tz)
        m = TIME_RE.match(text)
        if m:
            return _build(m, day, tz) if day else None
    except TimestampError:
        raise
    except ValueError as exc:  # month 13, hour 25 …
        raise TimestampError(f"timestamp out of range ({exc})") from None
    raise TimestampError("timestamp not understood (use ISO 8601 or YYYY-MM-DD HH:MM:SS)")


# A number in this range is an Excel date serial (days since 1899-12-30, 1955 to 2119) that a
# sheet stored without a date format; as epoch seconds it would be a few hours into 1970, which
# no chat is (and the year limits refuse).
_EXCEL_SERIAL_FROM = 20000
_EXCEL_SERIAL_TO = 80000
# Days from the 1900 date system's day 0 (1899-12-30) to the 1904 system's (1904-01-01).
_DAYS_1900_TO_1904 = 1462


def from_1904_days(value: object) -> object:
    """A plain number a 1904-system workbook holds for a date, as the 1900 system's day number.

    A workbook saved with 1904 dates (as Mac Excel long did) counts a date kept as a plain
    number (a cell whose date format was reset) from 1904-01-01: read as the 1900 system's, every
    chat was dated four years and a day early. Anything else (text, a clock, epoch seconds, a
    date cell openpyxl already read as one) is returned as it is.
    """
    if (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and _EXCEL_SERIAL_FROM - _DAYS_1900_TO_1904 <= value < _EXCEL_SERIAL_TO - _DAYS_1900_TO_1904
    ):
        return value + _DAYS_1900_TO_1904
    return value


# Epoch seconds (10 digits) or milliseconds (13), a fraction allowed: 1795485660.250.
_EPOCH_TEXT = re.compile(r"(?:\d{10}|\d{13})(?:\.\d{1,6})?")
_SERIAL_TEXT = re.compile(r"\d{5}(?:\.\d{1,12})?")


_COMPACT_DATE = re.compile(r"(20\d{2})(\d{2})(\d{2})")
# 20261124 as a number (a date typed into a cell), and a number written as text.
_COMPACT_FROM, _COMPACT_TO = 20000101, 20991231
_NUMBER_TEXT = re.compile(r"\d{5,13}(?:\.\d+)?")
# A date at the start of a cell, whatever follows it (a weekday: 2026-11-24 星期二, a time).
_DATE_FIRST = re.compile(rf"\s*{_DATE}")
# A year in a cell no date pattern reads (11/24/2026, 24.11.2026): month-first and day-first
# cannot be told apart (03/04/2026), so the row is refused rather than left untimed.
_YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")
_DATE_FIX = (
    "date not understood (use YYYY-MM-DD, YYYY/MM/DD or YYYY年MM月DD日: a month-first or day-first"
    " date such as 03/04/2026 cannot be told apart)"
)


def day_of(value: object, tz: tzinfo) -> date | None:
    """The day a date column's cell names, for the clock-only time column beside it.

    Reads a date at the start of the cell (``2026-11-24``, ``2026/11/24 星期二``,
    ``2026年11月24日``, a date and time), ``20261124``, a spreadsheet date cell, an Excel date
    serial and epoch seconds or milliseconds (their day in ``tz``). ``None`` for an empty cell
    or one that names no day with a year (``11-24``, ``下周一``): the file's day applies, as
    when the file has no date column.

    Raises:
        TimestampError: The cell holds a date that cannot be (month 13), or a year in an order
            no pattern reads (``11/24/2026``).
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _NUMBER_TEXT.fullmatch(value.strip()):
        value = float(value)  # a number a CSV wrote as text: read as the number it is
    if isinstance(value, int | float):
        if _COMPACT_FROM <= value <= _COMPACT_TO and float(value).is_integer():
            value = str(int(value))  # 20261124 typed as a number
        elif _EXCEL_SERIAL_FROM <= value < _EXCEL_SERIAL_TO:
            return _from_excel_serial(float(value), UTC).date()
        elif 1e9 <= value < 1e10 or 1e12 <= value < 1e13:  # epoch seconds or milliseconds
            return _from_epoch(float(value), tz).date()
        else:
            return None
    if not isinstance(value, str):
        return None
    m = _DATE_FIRST.match(value) or _COMPACT_DATE.fullmatch(value.strip())
    if m is None:
        if _YEAR.search(value):  # a day with a year in another order: refused as a time cell is
            raise TimestampError(_DATE_FIX)
        return None
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError as exc:
        raise TimestampError(f"date out of range ({exc})") from None


def timed(value: object) -> object | None:
    """``value`` when a date column's cell carries a time of day too (a full timestamp), else ``None``.

    Some exports name their one timestamp column 日期 or date: without a time column, its
    value is the message's time.
    """
    if isinstance(value, datetime):
        return value if value.time() != time() else None
    if isinstance(value, int | float) and not isinstance(value, bool):
        day_like = _EXCEL_SERIAL_FROM <= value < _EXCEL_SERIAL_TO or _COMPACT_FROM <= value <= _COMPACT_TO
        return None if day_like else value
    if isinstance(value, str):
        m = DATETIME_RE.match(value.strip())
        return value if m is not None and m["h"] is not None else None
    return None


def _from_excel_serial(days: float, tz: tzinfo) -> datetime:
    """A date serial of Excel's 1900 system as a local time in ``tz``, to the millisecond."""
    moment = datetime(1899, 12, 30) + timedelta(milliseconds=round(days * 86_400_000))
    return moment.replace(tzinfo=tz)


def _from_epoch(seconds: float, tz: tzinfo) -> datetime:
    if not math.isfinite(seconds) or seconds < 0:
        raise TimestampError("epoch timestamp is negative or not finite")
    if seconds >= _EPOCH_MS_FROM:
        seconds /= 1000
    try:
        return datetime.fromtimestamp(seconds, tz)
    except (OverflowError, OSError, ValueError):
        raise TimestampError("epoch timestamp out of range") from None


def date_from_filename(path: Path) -> date | None:
    """A day written in the file name (``2026-11-24``, ``2026_11_24`` or ``20261124``), if any."""
    for m in _FILE_DATE_RE.finditer(path.name):
        try:
            return date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            continue
    return None
