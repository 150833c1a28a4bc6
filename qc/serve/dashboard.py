"""What the dashboard shows, scored from the store through the one scoring path.

The period's per-agent table (服务态度 and every item of the card: points and score), the
trend per ISO week and per month, points by kind and the worst conversations all come from
:func:`qc.batch.stored.score_stored`, review decisions applied, like ``qc export`` and
``qc report``. A month period is read off the monthly trend's scores (the same window pooled
the same way) and a week off the weekly one, so the default dashboard scores the store twice,
not three times; worst conversations come from the same scores
(:func:`qc.supervise.flagged.flagged_from`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date as Date
from datetime import timedelta
from typing import Any

from qc.batch.stored import StoredScores, score_stored, score_stored_views
from qc.errors import ConfigError
from qc.readers.limits import limits_source, load_limits
from qc.schema import Deduction
from qc.scoring.card import Scorecard
from qc.scoring.metrics import UNDATED
from qc.scoring.periods import Period, Windows, parse_period, period_of, range_period
from qc.scoring.scores import KIND_LABELS
from qc.store.database import Store
from qc.supervise.flagged import FlaggedConversation, flagged_from

__all__ = [
    "Column",
    "Dashboard",
    "build_dashboard",
    "default_period",
    "deductions_of",
    "parse_range",
]


@dataclass(frozen=True, slots=True)
class Column:
    """A column of the per-agent table: row key, header, and what its number links to."""

    key: str
    header: str
    item: str | None = None  # the card item whose findings are behind it
    kind: str | None = None  # or the finding kind counted in it


@dataclass(slots=True)
class Dashboard:
    """Everything the dashboard page shows for one period."""

    period: Period
    columns: list[Column]
    rows: list[dict[str, Any]]
    weeks: list[str]
    weekly: dict[str, dict[str, float]]  # agent → week label → total score
    months: list[str]
    monthly: dict[str, dict[str, float]]
    by_kind: dict[str, float]
    worst: list[FlaggedConversation]
    kind_filters: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # label → (item, kind)
    deductions: list[Deduction] = field(default_factory=list)
    rejected: int = 0
    # A dated period's page, of a store that also holds chats without times: none of them is here.
    undated_elsewhere: bool = False


def default_period(store: Store, card: Scorecard) -> Period | None:
    """The appraisal period (the card's: a month by default) of the newest stored day.

    A store of chats without times only has their day, ``undated``: its pages said the store held
    no inspected day (audit 161 M2).
    """
    span = store.day_range()
    if span is None:
        return range_period(UNDATED, UNDATED) if store.has_undated() else None
    return period_of(span[1], card.appraisal) or parse_period(span[1])


def columns(card: Scorecard) -> list[Column]:
    """The table's columns: 服务态度 counts first, then each item's points and score, then totals."""
    cols = [Column("conversations", "会话数")]
    for kind in card.verdict_order:
        cols.append(Column(kind, f"{KIND_LABELS.get(kind, kind)}次数", kind=kind))
    cols.append(Column("needs_review", "待复核"))
    for item in card.items:
        cols.append(Column(f"{item.id}_points", f"{item.label}加减分", item=item.id))
        cols.append(Column(f"{item.id}_score", f"{item.label}得分", item=item.id))
    cols.append(Column("total_points", "合计加减分", item="*"))
    cols.append(Column("total_score", "合计得分", item="*"))
    return cols


def _months_back(period: Period, n: int) -> str:
    first = Date.fromisoformat(period.last).replace(day=1)
    for _ in range(n - 1):
        first = (first - timedelta(days=1)).replace(day=1)
    return first.isoformat()


def _weeks_back(period: Period, n: int) -> str:
    last = Date.fromisoformat(period.last)
    monday = last - timedelta(days=last.weekday())
    return (monday - timedelta(weeks=n - 1)).isoformat()


def _trend(scored: StoredScores, agent: str | None) -> tuple[list[str], dict[str, dict[str, float]]]:
    labels = sorted(scored.scores.windows, key=lambda label: scored.scores.windows[label].first)
    series: dict[str, dict[str, float]] = {}
    for row in scored.scores.rows:
        if agent is None or row["agent"] == agent:
            series.setdefault(row["agent"], {})[row["date"]] = row["total_score"]
    return labels, series


def build_dashboard(
    store: Store,
    card: Scorecard,
    period: Period,
    *,
    agent: str | None = None,
    trend_weeks: int,
    trend_months: int,
) -> Dashboard:
    """Score the period and its trends (decisions applied); ``agent`` keeps one agent's rows only.

    The trends show ``trend_weeks`` ISO weeks and ``trend_months`` months ending with the period's
    (the workbench settings).
    """
    undated = period.first == UNDATED
    if undated:  # the chats without times: in no week and no month, so no trend
        monthly = weekly = score_stored(store, card, UNDATED, UNDATED, Windows.only(period))
    else:
        month_from = min(_months_back(period, trend_months), period.first)
        week_from = min(_weeks_back(period, trend_weeks), period.first)
        monthly, weekly = score_stored_views(
            store,
            card,
            min(month_from, week_from),
            period.last,
            [(month_from, Windows.every("month")), (week_from, Windows.every("week"))],
        )
    if undated:
        pooled = weekly
    elif period.kind == "month":
        pooled = monthly
    elif period.kind == "week":
        pooled = weekly
    else:
        pooled = score_stored(store, card, period.first, period.last, Windows.only(period))
    label = period.label if period.kind in ("month", "week") else pooled_label(pooled, period)

    def mine(who: str) -> bool:
        return agent is None or who == agent

    rows = [r for r in pooled.scores.rows if r["date"] == label and mine(r["agent"])]
    rows.sort(key=lambda r: (r["total_score"], r["agent"]))
    deductions = [d for d in pooled.scores.deductions if d.date == label and mine(d.agent)]
    labels = {i.id: i.label for i in card.items}
    by_kind: dict[str, float] = {}
    kind_filters: dict[str, tuple[str, str | None]] = {}
    for d in deductions:
        key = f"{KIND_LABELS.get(d.kind, d.kind)}" if d.kind else labels.get(d.item, d.item)
        by_kind[key] = round(by_kind.get(key, 0.0) + d.points, 6)
        kind_filters[key] = (d.item, d.kind)
    weeks, weekly_series = _trend(weekly, agent) if not undated else ([], {})
    months, monthly_series = _trend(monthly, agent) if not undated else ([], {})
    worst = flagged_from(pooled, card, agent=agent, date_from=period.first, date_to=period.last)
    return Dashboard(
        period=period,
        columns=columns(card),
        rows=rows,
        weeks=weeks,
        weekly=weekly_series,
        months=months,
        monthly=monthly_series,
        by_kind=by_kind,
        worst=worst[:10],
        kind_filters=kind_filters,
        deductions=deductions,
        rejected=len(pooled.rejected_here(agent, period.first, period.last)),
        undated_elsewhere=not undated and store.has_undated(),
    )


def pooled_label(scored: StoredScores, period: Period) -> str:
    """The window label a period was scored under (its own label, ``2026-11-24`` for a day)."""
    return next(iter(scored.scores.windows), period.label)


def deductions_of(
    store: Store, card: Scorecard, period: Period, *, agent: str, item: str
) -> tuple[list[Deduction], StoredScores]:
    """The deductions of one agent in the period pooled, of one item (``*``: every item)."""
    scored = score_stored(store, card, period.first, period.last, Windows.only(period))
    found = [d for d in scored.scores.deductions if d.agent == agent and (item == "*" or d.item == item)]
    return found, scored


def parse_range(text_from: str | None, text_to: str | None, text_period: str | None) -> Period | None:
    """The period a page is asked for: ``period=2026-11`` (or a week or day), or ``from``/``to``.

    Raises:
        ConfigError: a label or date that is none of these.
    """
    if text_period and (text_from or text_to):
        # One of them was ignored unsaid: the page showed the period, the address said more.
        raise ConfigError("give a period (期间) or 从 From and 到 To, not both")
    if UNDATED in (text_from, text_to, text_period):
        # The chats without times, as qc flagged --date undated and qc export --date undated take
        # them; int("unda") was a 500 on every page (audit 161 H1).
        if text_period == UNDATED or text_from == text_to == UNDATED:
            return range_period(UNDATED, UNDATED)
        raise ConfigError(
            "undated (the chats without times) is a period of its own: give it as 期间 Period, or as"
            " both 从 From and 到 To"
        )
    if bool(text_from) != bool(text_to):
        # A single bound read as one day, unsaid (calibration rounds already refused it).
        raise ConfigError("give both 从 From and 到 To (the same date twice for one day)")
    if text_period:
        period = parse_period(text_period, "期间 Period")  # nobody typed --period in a browser
    elif text_from or text_to:
        # The page's own field names: nobody typed --from in a browser.
        fields = ("从 From", "到 To", "从 From" if text_from else "到 To")
        period = range_period(text_from or text_to or "", text_to or text_from or "", fields)
    else:
        return None
    # No message lies outside these years, and the trend's weeks and months before year 1 or
    # after 9999 do not exist.
    first, last = load_limits().years
    if not (first <= int(period.first[:4]) and int(period.last[:4]) <= last):
        raise ConfigError(
            f"{period.first} … {period.last} is outside the years qc accepts, {first}–{last}"
            f" (earliest_year, latest_year in {limits_source()})"
        )
    return period
