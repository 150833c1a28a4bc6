"""qc's timing figures beside the platform's own: a 生意参谋/千牛 performance report, agent by agent.

A QA lead trusts qc's response-time and reply-rate deductions only if its figures agree with
what the platform reports for the same agents and days, or differ for reasons one can name
(auto-replies left out, buyer turns merged, the 08:00–24:00 window). The platform's report is
a spreadsheet with one row per agent (客服 or 旺旺, and a 日期 when it covers several days) and
columns such as 咨询人数, 未回复人数, 平均响应时长(秒), 旺旺回复率, 首次响应时长(秒), 答问比. This
module reads such a report (CSV in any encoding qc sniffs, or XLSX) and sets it beside an agents
table ``qc inspect`` or ``qc export`` wrote, figure by figure. Nothing is judged: it shows both
numbers and their difference, largest gap first, so the lead sees where qc and the platform part.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qc.errors import ConfigError
from qc.outputs.compare import AgentsTable
from qc.readers.edited import read_table
from qc.readers.roles import fold_agent_id
from qc.scoring.periods import parse_period
from qc.text.pii import shown_value

__all__ = [
    "FIGURES",
    "Figure",
    "Gap",
    "PlatformReport",
    "Reconciliation",
    "read_platform_report",
    "reconcile",
    "summary_lines",
    "whole",
]


@dataclass(frozen=True, slots=True)
class Figure:
    """One figure both sides report: qc's agents-table key, the platform's headers, its kind."""

    key: str
    label: str
    headers: tuple[str, ...]
    kind: str  # "count", "seconds" or "share" (a rate written 98.5% or 0.985)


# The figures compared, in the order shown. A header is matched with spaces, brackets and the
# unit removed (平均响应时长(秒), 平均响应时长（秒）, 平均响应时长 秒 are one header).
FIGURES = (
    Figure("buyers_received", "咨询人数", ("咨询人数", "咨询买家数", "询单人数"), "count"),
    Figure("buyers_missed", "未回复人数", ("未回复人数", "未回复买家数"), "count"),
    Figure("reply_rate", "回复率", ("旺旺回复率", "回复率"), "share"),
    Figure("avg_response_s", "平均响应时长(秒)", ("平均响应时长", "平均响应时间", "平均响应"), "seconds"),
    Figure("first_response_s", "首次响应时长(秒)", ("首次响应时长", "首响时长", "首次响应时间"), "seconds"),
    Figure("answer_ratio", "答问比", ("答问比",), "share"),
)
_AGENT_HEADERS = (
    "客服",
    "客服昵称",
    "客服名",
    "客服账号",
    "客服旺旺",
    "旺旺",
    "旺旺名",
    "子账号",
    "账号",
    "员工",
)
_DATE_HEADERS = ("日期", "统计日期", "时间", "统计时间")
# A bracketed unit ((秒), (s), (人), （%）) and the unit words themselves: 平均响应时长(s) was not
# read, its "(s)" alternative never reached (audit 115 M5).
_UNIT = re.compile(r"[(（\[【][^)）\]】]{0,12}[)）\]】]|[\s()（）\[\]【】]|秒|%|％")
# What a figure's header looks like, for the warning about one not compared.
_FIGURE_WORDS = re.compile(r"时长|人数|率|比|响应")
_TOTALS = re.compile(r"^(?:合计|总计|汇总|平均|总和)\s*[:：]?\s*$")
# A duration column's unit, from its header: 平均响应时长(分钟) in minutes was read as seconds, a
# false gap of 38 s for every agent (audit 152 M2). No unit: seconds, as the platforms write them.
_BRACKETED = re.compile(r"[(（\[【]\s*([^)）\]】]{0,12}?)\s*[)）\]】]")
# The unit words a bracket may hold, in the order looked for (毫秒 before 秒, ms before m and s):
# 平均响应时长(秒/人), （单位：秒）, (Sec.) and (人工) are read as before, a note beside the unit.
_UNITS = (
    (re.compile(r"毫秒|\bms\b", re.I), 0.001),
    (re.compile(r"分\s*[:：]\s*秒"), 1.0),  # (分:秒): a clock written m:ss, read as the clock it is
    (re.compile(r"小时|\bh(?:rs?|ours?)?\b", re.I), 3600.0),
    (re.compile(r"分|\bmin(?:s|utes?)?\b|\bm\b", re.I), 60.0),
)
# A duration written out: 1分5秒, 2分钟, 1小时3分 (千牛 writes them so).
_SPELT = re.compile(r"(?:(\d+(?:\.\d+)?)\s*小时)?\s*(?:(\d+(?:\.\d+)?)\s*分钟?)?\s*(?:(\d+(?:\.\d+)?)\s*秒)?")


def _seconds_per(header: str) -> float:
    """Seconds in one unit of a duration column, from its header's bracket: 60 for 平均响应时长(分钟).

    No bracket, or one with no unit word (人工), or 秒: seconds, as the platforms write them.
    """
    bracket = _BRACKETED.search(header)
    said = bracket.group(1) if bracket else ""
    return next((per for pattern, per in _UNITS if pattern.search(said)), 1.0)


def _header(text: str) -> str:
    return _UNIT.sub("", text)


@dataclass(slots=True)
class PlatformReport:
    """The rows of a platform report: ``(row number, agent, date or "", figure key → value)``."""

    path: Path
    columns: dict[str, str]  # figure key → the header as the report writes it
    rows: list[tuple[int, str, str, dict[str, float]]] = field(default_factory=list)
    seconds_per: dict[str, float] = field(default_factory=dict)  # a duration column's unit, in seconds
    warnings: list[str] = field(default_factory=list)


def read_platform_report(path: Path) -> PlatformReport:
    """The agents and figures of a 生意参谋/千牛 performance report (CSV or XLSX, its first sheet).

    The header row is the first row that names an agent column and at least one figure; rows
    above it (a report's title, its date range) are passed over. A cell that is no number (一, a
    note) is left out of the comparison with a warning naming its row and column.

    Raises:
        InputError: the file cannot be read (from :func:`qc.readers.edited.read_table`).
        ConfigError: no row names an agent column and a figure qc computes (names what it looked for).
    """
    table = read_table(path)
    for number, cells in table.rows:
        heads = [_header(c) for c in cells]
        agent_at = next((i for i, h in enumerate(heads) if h in _AGENT_HEADERS), None)
        figures = {
            f.key: i for f in FIGURES for i, h in enumerate(heads) if h in f.headers and agent_at is not None
        }
        if agent_at is None or not figures:
            continue
        date_at = next((i for i, h in enumerate(heads) if h in _DATE_HEADERS), None)
        report = PlatformReport(path, {k: cells[i] for k, i in figures.items()})
        for key, i in figures.items():
            if next(f for f in FIGURES if f.key == key).kind != "seconds":
                continue
            report.seconds_per[key] = _seconds_per(cells[i])
        unread = [
            cells[i]
            for i, h in enumerate(heads)
            if i not in figures.values() and i != agent_at and i != date_at and _FIGURE_WORDS.search(h)
        ]
        if unread:
            # Said, not dropped unsaid (audit 115 M5): a header qc does not know is not compared.
            report.warnings.append(
                f"{path} row {number}: {'、'.join(unread)} not compared (qc computes"
                f" {'、'.join(f.label for f in FIGURES)})"
            )
        for row_number, row in table.rows:
            if row_number <= number:
                continue
            agent = row[agent_at].strip() if agent_at < len(row) else ""
            if not agent or _TOTALS.match(agent):
                continue  # a totals row is nobody
            values: dict[str, float] = {}
            for key, at in figures.items():
                text = row[at].strip() if at < len(row) else ""
                value = _value(
                    text, next(f for f in FIGURES if f.key == key), report.seconds_per.get(key, 1.0)
                )
                if value is None or value < 0:
                    # A negative time or count is no figure: it was shown as a gap (audit 152 L1).
                    if text and text not in ("-", "—", "--", "/"):
                        what = "is negative" if value is not None else "is no number"
                        report.warnings.append(
                            f"{path} row {row_number}: {report.columns[key]}"
                            f" {shown_value(text, 20)!r} {what}; left out of the comparison"
                        )
                    continue
                values[key] = value
            day = _day(row[date_at]) if date_at is not None and date_at < len(row) else ""
            report.rows.append((row_number, agent, day, values))
        return report
    looked_for = "、".join(h for f in FIGURES for h in f.headers[:1])
    raise ConfigError(
        f"{path}: no row names an agent column ({'、'.join(_AGENT_HEADERS[:3])} …) beside a figure qc"
        f" computes ({looked_for}); give the performance report as the platform exports it"
    )


def _value(text: str, figure: Figure | str, seconds_per: float = 1.0) -> float | None:
    """A cell's number: ``98.5%`` and ``0.985`` are one share; ``00:01:05``, ``65秒`` and ``1分5秒`` are 65 s.

    ``seconds_per`` is a duration column's unit (60 for 平均响应时长(分钟)): a bare number is in it.
    """
    kind = figure.kind if isinstance(figure, Figure) else figure
    # A reply rate above 1 is a percent written without its sign (8.5 was read as 850 %, audit
    # 115 L2); an answer ratio may be 1.3, so only above 10 is it a percent.
    most = 1.0 if isinstance(figure, Figure) and figure.key == "reply_rate" else 10.0
    text = text.replace(",", "").replace("，", "").strip()
    if not text:
        return None
    clock = re.fullmatch(r"(?:(\d+):)?(\d{1,2}):(\d{2}(?:\.\d+)?)", text)
    if clock and kind == "seconds":
        hours, minutes, seconds = clock.groups()
        return int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds)
    spelt = _SPELT.fullmatch(text) if kind == "seconds" else None
    if spelt and any(spelt.groups()):
        hours, minutes, seconds = (float(x or 0) for x in spelt.groups())
        return hours * 3600 + minutes * 60 + seconds
    number = re.fullmatch(r"(-?\d+(?:\.\d+)?)\s*(%|％|秒|s|人)?", text)
    if number is None:
        return None
    value = float(number.group(1))
    if number.group(2) in ("%", "％"):
        return value / 100 if kind == "share" else None
    if kind == "share" and value > most:
        return value / 100
    if kind == "seconds" and number.group(2) not in ("秒", "s"):
        return value * seconds_per
    return value


def _day(text: str) -> str:
    """The window a 日期 cell names: a day, a month written as its range or as 2026年11月, a week, a range.

    生意参谋 writes a month's report as 2026-11-01~2026-11-30: read as its first day, every row
    missed a month's table (audit 115 M4). Another range is the range, labelled as `qc export
    --from … --to …` labels it (2026-11-20~2026-11-26; it was its first day, audit 118 M4).
    """
    from calendar import monthrange
    from datetime import date, timedelta

    dates = re.findall(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})", text)
    if len(dates) == 2:
        (y1, m1, d1), (y2, m2, d2) = ((int(a), int(b), int(c)) for a, b, c in dates)
        if (y1, m1) == (y2, m2) and d1 == 1 and d2 == monthrange(y1, m1)[1]:
            return f"{y1}-{m1:02d}"
        try:
            first, last = date(y1, m1, d1), date(y2, m2, d2)
        except ValueError:
            first = last = date.min
        if first.isoweekday() == 1 and last - first == timedelta(days=6):
            # A Monday to Sunday range is its ISO week, as a week's table labels it (audit 117 L3).
            year, week, _ = first.isocalendar()
            return f"{year}-W{week:02d}"
        if date.min < first < last:
            return f"{first.isoformat()}~{last.isoformat()}"
    if dates:
        y, m, d = (int(x) for x in dates[0])
        return f"{y}-{m:02d}-{d:02d}"
    packed = re.fullmatch(r"\s*(20\d{2})(\d{2})(\d{2})\s*", text)
    if packed:  # 20261124, as some exports write a day (audit 152 L1)
        return "-".join(packed.groups())
    serial = re.fullmatch(r"\s*([345]\d{4})(?:\.0+)?\s*", text)
    if serial:  # an Excel day number a CSV kept (46350 is 2026-11-24): from Excel's day 0, 1899-12-30
        return (date(1899, 12, 30) + timedelta(days=int(serial[1]))).isoformat()
    month = re.match(r"\s*(\d{4})[-/.年](\d{1,2})月?\s*$", text)
    return f"{month.group(1)}-{int(month.group(2)):02d}" if month else text.strip()


def _same_days(label: str) -> list[str]:
    """The other labels of the days a window label covers: a month or ISO week as its range."""
    try:
        period = parse_period(label)
    except ConfigError:
        return []
    return [f"{period.first}~{period.last}"] if period.first != period.last else []


@dataclass(frozen=True, slots=True)
class Gap:
    """One figure of one agent: qc's value, the platform's, and qc minus the platform."""

    agent: str
    window: str
    figure: Figure
    qc: float | None
    platform: float | None
    row: int  # the platform report's row

    @property
    def difference(self) -> float | None:
        """Qc minus the platform (``None`` when either side has no figure)."""
        if self.qc is None or self.platform is None:
            return None
        return round(self.qc - self.platform, 4) + 0.0

    @property
    def relative(self) -> float:
        """The difference as a share of the platform's figure, for ordering (largest gap first)."""
        if self.difference is None:
            return -1.0
        base = abs(self.platform or 0.0)
        return abs(self.difference) / base if base else (0.0 if self.difference == 0 else float("inf"))

    def to_json(self) -> dict[str, Any]:
        """The gap as one JSON record (``qc reconcile --format json``)."""
        return {
            "agent": self.agent,
            "window": self.window,
            "figure": self.figure.key,
            "label": self.figure.label,
            "qc": whole(self.qc),
            "platform": whole(self.platform),
            "difference": whole(self.difference),
            "platform_row": self.row,
        }


@dataclass(slots=True)
class Reconciliation:
    """Every figure of every matched agent, and the agents found on one side only."""

    gaps: list[Gap]
    only_platform: list[tuple[int, str]]  # (row, agent as the report writes it)
    only_qc: list[str]
    other_days: list[tuple[int, str]] = field(default_factory=list)  # (row, a day the table does not hold)


def reconcile(report: PlatformReport, table: AgentsTable, *, window: str | None = None) -> Reconciliation:
    """Match the report's rows to the agents table's rows and pair their figures.

    An agent is matched by its account as written (``店铺:客服``, width and case folded), or by
    its nick alone when exactly one agent of the table has it (a report of one shop writes bare
    nicks). A report row with a date is matched to the table's row of that day; a row without
    one to ``window``, or to the table's only window (a day's or a period's table). Only the
    table's rows of the windows the report covers count as missing from the report.

    Raises:
        ConfigError: ``window`` is none of the table's, or the table has several windows and
            neither the report nor ``window`` says which one the report covers.
    """
    windows = sorted({str(r.get("date", "")) for r in table.rows})
    if window is not None and window not in windows:
        raise ConfigError(f"--window {window}: the agents table holds {', '.join(windows) or 'no rows'}")
    rows_of: dict[tuple[str, str], Mapping[str, Any]] = {}
    by_nick: dict[str, set[str]] = {}
    for r in table.rows:
        agent = str(r["agent"])
        rows_of[(fold_agent_id(agent), str(r.get("date", "")))] = r
        by_nick.setdefault(fold_agent_id(agent.rsplit(":", 1)[-1]), set()).add(fold_agent_id(agent))
    gaps: list[Gap] = []
    only_platform: list[tuple[int, str]] = []
    other_days: list[tuple[int, str]] = []
    matched: set[tuple[str, str]] = set()
    for number, agent, day, values in report.rows:
        if not day:
            if window is None and len(windows) != 1:
                raise ConfigError(
                    f"{report.path} row {number} names no day, and the agents table holds"
                    f" {len(windows)} windows ({', '.join(windows[:3])}{' …' if len(windows) > 3 else ''}):"
                    " say which one the report covers with --window (e.g. --window"
                    f" {windows[0] if windows else '2026-11-24'})"
                )
            day = window or windows[0]
        if day not in windows:
            # A month's or week's report beside the table of `qc export --from … --to …` of the same days.
            day = next((w for w in _same_days(day) if w in windows), day)
        if day not in windows:
            other_days.append((number, day))
            continue
        noted = re.match(r"^(?P<nick>.+?)\s*[(（][^()（）]{1,12}[)）]$", agent)
        agent = noted["nick"] if noted else agent  # 小雨(售前) is 小雨
        folded = fold_agent_id(agent)
        if (folded, day) not in rows_of and ":" not in agent and "：" not in agent:
            # A bare nick is the shop's account when one agent of the table has it; a 店铺:客服 of
            # another shop never is (another shop's figures were shown as these agents', 115 M1).
            nicks = by_nick.get(folded, set())
            folded = next(iter(nicks)) if len(nicks) == 1 else folded
        row = rows_of.get((folded, day))
        if row is None:
            only_platform.append((number, agent))
            continue
        if (folded, day) in matched:
            first = next(g.row for g in gaps if fold_agent_id(g.agent) == folded and g.window == day)
            raise ConfigError(
                f"{report.path}: rows {first} and {number} are both {row['agent']} for {day}: a report has"
                " one row per agent (and day); give a report of one day or period, or one with a 日期 column"
            )
        matched.add((folded, day))
        for figure in FIGURES:
            if figure.key in report.columns:
                gaps.append(
                    Gap(
                        str(row["agent"]),
                        day,
                        figure,
                        _qc_value(row, figure.key),
                        values.get(figure.key),
                        number,
                    )
                )
    covered = {day for _, day in matched} | ({window} if window else set())
    many = len(covered) > 1
    only_qc = sorted(
        # With several windows, each agent-day is named with its day (audit 152 L2).
        str(r["agent"]) + (f" ({r.get('date', '')})" if many else "")
        for r in table.rows
        if str(r.get("date", "")) in covered
        and (fold_agent_id(str(r["agent"])), str(r.get("date", ""))) not in matched
        and not str(r["agent"]).endswith((":unassigned", ":unknown"))
    )
    if not matched:
        # Nothing matched: say why, not "is no agent of" for every row (audit 115 M4).
        days = sorted({day for _, day in other_days})
        why = (
            f"its days ({', '.join(days[:3])}{' …' if len(days) > 3 else ''}) are none of the table's"
            f" ({', '.join(windows[:3])}{' …' if len(windows) > 3 else ''}): give the agents.json of those"
            " days, or --daily for a period export's days"
            if days
            else "no agent of the report is one of the table's (by account, or by a nick one agent has)"
        )
        raise ConfigError(f"{report.path}: no row matched qc's table: {why}")
    gaps.sort(key=lambda g: (g.agent, g.window, FIGURES.index(g.figure)))
    return Reconciliation(gaps, only_platform, only_qc, other_days)


def summary_lines(result: Reconciliation) -> list[str]:
    """Per figure: how many agents both sides report, how often qc is higher, the typical and largest gap.

    The lines a QA lead reads first: a response time qc puts 3 s above the platform for every
    agent is a definition to name (auto-replies, merged turns); one agent 40 s apart is a chat to open.
    """
    lines = []
    for figure in FIGURES:
        paired = [g for g in result.gaps if g.figure is figure and g.difference is not None]
        if not paired:
            continue
        higher = sum(1 for g in paired if (g.difference or 0) > 0)
        lower = sum(1 for g in paired if (g.difference or 0) < 0)
        spread = sorted(abs(g.difference or 0.0) for g in paired)
        median = (
            spread[len(spread) // 2]
            if len(spread) % 2
            else (spread[len(spread) // 2 - 1] + spread[len(spread) // 2]) / 2
        )
        worst = max(paired, key=lambda g: (abs(g.difference or 0.0), g.agent))
        said = f"{figure.label}: {len(paired)} agents; qc higher for {higher}, lower for {lower}"
        if not higher and not lower:
            lines.append(f"{said}: every one equal")
            continue
        lines.append(
            f"{said}, equal for {len(paired) - higher - lower}; median gap {_shown(median, figure)},"
            f" largest {_shown(worst.difference or 0.0, figure, signed=True)} ({worst.agent}, {worst.window})"
        )
    return lines


def _shown(value: float, figure: Figure, signed: bool = False) -> str:
    sign = "+" if signed else ""
    if figure.kind == "share":
        return f"{value * 100:{sign}.1f} points"
    if figure.kind == "seconds":
        return f"{value:{sign}.1f} s"
    return f"{value:{sign}g}"


def _qc_value(row: Mapping[str, Any], key: str) -> float | None:
    if key == "buyers_missed":
        received, replied = row.get("buyers_received"), row.get("buyers_replied")
        if isinstance(received, int | float) and isinstance(replied, int | float):
            return float(received - replied)
        return None
    value = row.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def whole(value: float | None) -> int | float | None:
    """A figure as files write it: a whole number without ``.0`` (56 people, not 56.0)."""
    return int(value) if value is not None and value.is_integer() else value
