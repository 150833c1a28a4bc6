"""Two agents tables side by side: what a change of scorecard, lexicon, model or review did to each agent.

A QA lead who lowers a threshold, prices a new kind, edits the lexicon or applies a round of
review decisions needs to see who gains or loses how many points before the month's scores go
to payroll. Any two folders ``qc inspect`` or ``qc export`` wrote hold what is needed: their
``agents.json`` (the values) and ``agents.csv`` (the 中文 header of each column). Rows are
matched by shop, agent and window (the day, or the period's label); for each pair the total and
every column that changed are listed, biggest change of total first. Nothing is recomputed:
the comparison is of what the two runs published.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qc.errors import ConfigError
from qc.scoring.periods import period_label
from qc.scoring.scores import KIND_LABELS

__all__ = [
    "AgentsTable",
    "Change",
    "Comparison",
    "RowChange",
    "compare_tables",
    "configuration_lines",
    "load_agents_table",
    "load_configuration",
    "other_cards",
]

AGENTS_JSON = "agents.json"
AGENTS_CSV = "agents.csv"
DAILY_JSON = "agents_daily.json"
DAILY_CSV = "agents_daily.csv"
# Columns that say who and when, never compared.
_KEY_COLUMNS = ("agent", "date", "shop")
# Columns that mostly restate another (an item's score is its full points plus its points, the
# total score the total points): shown only where they moved otherwise (full marks changed),
# so a change of points reads once and a card raising max_points is not "0 rows changed" (audit 153 M1).
_SKIPPED_SUFFIXES = ("_score",)


@dataclass(frozen=True, slots=True)
class AgentsTable:
    """One published agents table: its rows, its columns in order and their 中文 headers."""

    source: str
    rows: tuple[Mapping[str, Any], ...]
    columns: tuple[str, ...]
    labels: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Change:
    """One column of one agent's row that differs: its key, header and both values."""

    key: str
    label: str
    before: Any
    after: Any


@dataclass(frozen=True, slots=True)
class RowChange:
    """One agent's row in both tables, or in one (``only_in`` names it; the other total is ``None``)."""

    shop: str
    agent: str
    window: str
    before_total: float | None
    after_total: float | None
    changes: tuple[Change, ...]
    only_in: str | None = None

    @property
    def delta(self) -> float:
        """Points gained (positive) or lost (negative) on the total; a row on one side counts whole."""
        return _clean((self.after_total or 0) - (self.before_total or 0))

    def to_json(self) -> dict[str, Any]:
        """A JSON-safe record of the change."""
        return {
            "shop": self.shop,
            "agent": self.agent,
            "window": self.window,
            "before_total_points": self.before_total,
            "after_total_points": self.after_total,
            "change": self.delta,
            "only_in": self.only_in,
            "changes": [
                {"key": c.key, "label": c.label, "before": c.before, "after": c.after} for c in self.changes
            ],
        }


@dataclass(frozen=True, slots=True)
class Comparison:
    """Every row of two agents tables matched up; ``changed`` lists the rows that differ."""

    before: AgentsTable
    after: AgentsTable
    rows: tuple[RowChange, ...]

    @property
    def changed(self) -> list[RowChange]:
        """The rows with a difference (or on one side only), biggest change of total first."""
        return [r for r in self.rows if r.changes or r.only_in is not None]

    def totals(self) -> tuple[float, float]:
        """The points of every row, before and after (the shop's whole deduction)."""
        before = sum(r.before_total or 0.0 for r in self.rows)
        after = sum(r.after_total or 0.0 for r in self.rows)
        return _clean(before), _clean(after)

    def score_totals(self) -> tuple[float, float]:
        """The total score (合计得分) of every row, before and after: the rows :meth:`totals` adds up.

        Over the same rows as the points beside it (rows on one side only count there, audit 155
        M4), and one pass over each table (a scan per row took 28 s for a month of 300 agents, M5).
        """
        before = sum(_number(r.get("total_score")) or 0.0 for r in self.before.rows)
        after = sum(_number(r.get("total_score")) or 0.0 for r in self.after.rows)
        return _clean(before), _clean(after)

    def windows(self) -> tuple[list[str], list[str]]:
        """The windows (days or periods) each side scored."""
        return (
            sorted({_key(r)[2] for r in self.before.rows}),
            sorted({_key(r)[2] for r in self.after.rows}),
        )


def _clean(value: float) -> float:
    # Sums of points written with decimals: 0.1 + 0.2 shows as 0.3, -0.0 as 0, and whole points as ints.
    value = round(value, 6) + 0.0
    return int(value) if value.is_integer() else value


def _files(folder: Path, daily: bool) -> tuple[Path, Path]:
    if folder.is_file() and folder.suffix == ".json":
        return folder, folder.with_suffix(".csv")
    if folder.is_file() and folder.suffix.lower() in (".csv", ".xlsx"):
        # agents.csv named for the table it is: read through the agents.json qc wrote beside it
        # (it was "agents.csv/agents.json: no such file", audit 153 L6).
        return folder.with_suffix(".json"), folder.with_suffix(".csv")
    if daily:
        return folder / DAILY_JSON, folder / DAILY_CSV
    return folder / AGENTS_JSON, folder / AGENTS_CSV


def load_agents_table(folder: Path, daily: bool = False) -> AgentsTable:
    """The agents table a ``qc inspect`` or ``qc export`` folder holds (or an agents.json given itself).

    ``daily`` reads a period export's daily view (agents_daily.json). The headers come from the
    CSV beside it; without one, the English keys stand.

    Raises:
        ConfigError: no such table, or a file that is not one qc wrote (names it and the fix).
    """
    if folder.is_file() and folder.suffix.lower() not in (".json", ".csv", ".xlsx"):
        raise ConfigError(
            f"{folder} is no agents table: give the folder qc inspect or qc export wrote, or its agents.json"
        )
    json_path, csv_path = _files(folder, daily)
    if not json_path.is_file():
        made_by = (
            "qc export --period … --out DIR" if daily else "qc inspect … --out DIR or qc export … --out DIR"
        )
        raise ConfigError(
            f"{json_path}: no such file; give a folder written by {made_by}"
            + (" (agents_daily.json is written for a week, month or range)" if daily else "")
        )
    try:
        data = json.loads(json_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        where = f" line {exc.lineno}" if isinstance(exc, json.JSONDecodeError) else ""
        raise ConfigError(
            f"{json_path}{where}: not the JSON qc writes ({type(exc).__name__}); write it again with qc"
            " inspect or qc export"
        ) from None
    if not isinstance(data, list) or not all(
        isinstance(r, dict) and isinstance(r.get("agent"), str) and _number(r.get("total_points")) is not None
        for r in data
    ):
        raise ConfigError(
            f"{json_path}: not an agents table (a list of rows with agent and a number for total_points);"
            " give the agents.json of a qc inspect or qc export folder"
        )
    seen: dict[tuple[str, str, str], int] = {}
    for number, row in enumerate(data, start=1):
        first = seen.setdefault(_key(row), number)
        if first != number:
            # Matched by shop, agent and window, the second row would hide the first (audit 95 C2).
            shop, agent, window = _key(row)
            raise ConfigError(
                f"{json_path}: rows {first} and {number} are both {agent} ({shop or 'no shop'}) for"
                f" {window or 'no window'}: a table qc writes has one row each; give an unedited agents.json"
            )
    columns, labels = _headers(csv_path)
    for row in data:
        for key in row:
            if key not in labels:
                columns.append(key)
                labels[key] = f"{KIND_LABELS[key]}次数" if key in KIND_LABELS else key
    return AgentsTable(str(json_path), tuple(data), tuple(columns), labels)


# What a folder's record says made its tables, in the order the comparison names them.
_CONFIGURATION = (
    "record",
    "scorecard",
    "lexicon",
    "model",
    "timezone",
    "limits",
    "user dictionary",
    "review",
)


@dataclass(frozen=True, slots=True)
class Configuration:
    """What a folder's record says made its tables.

    ``parts``: ``{"scorecard": "seed-000 v2 3a7efe77bc81", "lexicon": …, "model": …, "timezone": …}``
    with only the parts the record holds; ``card``: the effective scorecard the record holds
    (records written before it was recorded hold none).
    """

    parts: dict[str, str]
    card: Mapping[str, Any] | None = None
    store_state: Mapping[str, Any] | None = None  # the store's newest run and decision, when scored from one


def load_configuration(folder: Path) -> Configuration | None:
    """What made a folder's tables, from its run.json (``qc inspect``) or export.json (``qc export``).

    Only the parts the record holds (an export names its card, and the lexicons and models its
    stored runs were made with); ``{"record": "… is unreadable"}`` for a broken record, ``None``
    without one. Two runs could show "0 rows changed" with different cards, or changes with the
    same ones, and nothing said which (audit 104 M5).
    """
    base = folder.parent if folder.is_file() else folder
    # The newer of the two: an export written into an inspection's folder leaves its run.json,
    # which then describes tables it no longer made (audit 107 M3).
    records = [p for p in (base / "run.json", base / "export.json") if p.is_file()]
    if not records:
        return None
    path = max(records, key=lambda p: p.stat().st_mtime)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        data = None
    if not isinstance(data, dict):
        return Configuration({"record": f"{path.name} is unreadable"})
    out: dict[str, str] = {}
    card = data.get("scorecard")
    effective = None
    if isinstance(card, dict):
        # By its hash: the same card read from two paths is the same card (audit 107 L1).
        out["scorecard"] = f"{card.get('name')} v{card.get('version')} {str(card.get('hash', ''))[:12]}"
        effective = card.get("effective") if isinstance(card.get("effective"), dict) else None
    runs = data.get("inspected_with")
    if isinstance(runs, list):
        # An export, or a --db run whose tables score every stored conversation of its days: the
        # findings are their runs', read under their settings (audits 107 M2, 113 H3, H5).
        out.update(_runs_parts([r for r in runs if isinstance(r, dict)]))
    else:
        settings = data.get("settings") if isinstance(data.get("settings"), dict) else None
        run = {
            "lexicon": data.get("lexicon_version"),
            "strict": data.get("lexicon_strict"),
            "model": data.get("model_version"),
            "timezone": settings.get("timezone") if settings else None,
            "limits": settings.get("limits") if settings else None,
            # A run.json that records its settings names a user dictionary when it had one.
            "user_dict": ((settings.get("user_dict") or {}).get("sha256", "")) if settings else None,
        }
        out.update(_runs_parts([run]))
    if isinstance(data.get("rejected_findings"), int):
        out["review"] = f"{data['rejected_findings']} findings rejected"
    state = data.get("store_state") if isinstance(data.get("store_state"), dict) else None
    return Configuration(out, effective, state)


def _runs_parts(runs: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """The lexicon, model and reading settings of the runs behind a table, joined with `` + ``.

    Only what the records say: a part no run recorded is left out (unknown, never "the same",
    audit 109 F4), and one some runs did not record says so.
    """
    shown: dict[str, list[str | None]] = {
        "lexicon": [
            f"{r['lexicon']}{' strict' if r.get('strict') else ''}"
            if isinstance(r.get("lexicon"), str)
            else None
            for r in runs
        ],
        "model": [r.get("model") if isinstance(r.get("model"), str) else None for r in runs],
        "timezone": [r.get("timezone") if isinstance(r.get("timezone"), str) else None for r in runs],
        "limits": [_limits_label(r["limits"]) if isinstance(r.get("limits"), dict) else None for r in runs],
        "user dictionary": [
            (str(r["user_dict"])[:12] or "none") if isinstance(r.get("user_dict"), str) else None
            for r in runs
        ],
    }
    out = {}
    for key, values in shown.items():
        known = sorted({v for v in values if v})
        if known:
            out[key] = " + ".join(known) + (" + not recorded" if any(not v for v in values) else "")
    return out


def _limits_label(values: Mapping[str, Any]) -> str:
    """Input limits as a comparison names them: ``bundled``, or the values that differ from the bundled."""
    from dataclasses import asdict

    from qc.readers.limits import DEFAULT_LIMITS, load_limits

    bundled = asdict(load_limits(DEFAULT_LIMITS))
    changed = sorted(k for k, v in values.items() if k != "source" and bundled.get(k) != v)
    return ", ".join(f"{k}={values[k]}" for k in changed) if changed else "bundled"


# Card settings listed by name when two cards differ; more are counted.
_MOST_CARD_CHANGES = 12


def card_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """The settings two effective cards differ in, as ``items.x.threshold 30 → 25``.

    Values are compared as numbers where both are (a card that writes ``32.0`` where the other
    writes ``32`` hashes differently but scores alike, and differs in nothing here).
    """
    old, new = _flatten(before), _flatten(after)
    changes = []
    for key in sorted(set(old) | set(new)):
        if key not in new:
            changes.append(f"{key} {_shown(old[key])} removed")
        elif key not in old:
            changes.append(f"{key} {_shown(new[key])} added")
        elif old[key] != new[key] or (type(old[key]) is bool) != (type(new[key]) is bool):
            changes.append(f"{key} {_shown(old[key])} → {_shown(new[key])}")
    return changes


def other_cards(runs: Sequence[Mapping[str, Any]], card: Any) -> dict[str, str]:
    """Hash → name of the cards among stored runs' (``Store.inspected_with``) that are not ``card``.

    A card that only writes a number otherwise (32.0 for 32) is this card (audit 113 L1); a run
    that did not record its card's content is judged by its hash alone.
    """
    return {
        r["scorecard_hash"]: r["scorecard_name"]
        for r in runs
        if r["scorecard_hash"] != card.hash
        and (r.get("effective") is None or card_changes(r["effective"], card.data))
    }


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def _shown(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def configuration_lines(before: Configuration | None, after: Configuration | None) -> list[str]:
    """The lines that say what made each side and what differs, for the comparison's stderr.

    When both records hold their effective cards and the cards' hashes differ, the settings
    they differ in are listed too.
    """
    lines = []
    for side, record in (("before", before), ("after", after)):
        if record is None:
            lines.append(f"{side}: no run.json or export.json beside the table: what made it is unknown")
        else:
            parts = record.parts
            lines.append(f"{side}: " + "; ".join(f"{k} {parts[k]}" for k in _CONFIGURATION if k in parts))
    if before is not None and after is not None:
        old, new = before.parts, after.parts
        both = [k for k in _CONFIGURATION if k in old and k in new and k != "record"]
        differ = [k for k in both if old[k] != new[k]]
        changes = None
        if "scorecard" in differ and before.card is not None and after.card is not None:
            changes = card_changes(before.card, after.card)
            if not changes:  # 32 and 32.0: two hashes, one card
                differ.remove("scorecard")
                lines.append(
                    "configuration: the two scorecards are written differently but hold the same settings"
                )
        # A part one record names and the other does not is unknown, never "the same" (audit 110 N6).
        unknown = {
            side: [k for k in _CONFIGURATION if k != "record" and k in other and k not in config]
            for side, config, other in (("before", old, new), ("after", new, old))
        }
        if differ:
            lines.append(f"configuration: the {', '.join(differ)} differ{'s' if len(differ) == 1 else ''}")
        if (
            before.store_state is not None
            and after.store_state is not None
            and dict(before.store_state) != dict(after.store_state)
        ):
            b, a = before.store_state, after.store_state
            if b.get("store") != a.get("store"):
                lines.append(
                    f"store: the two were scored from different stores ({b.get('store')}, {a.get('store')})"
                )
            else:
                lines.append(
                    f"store: its copy of these days changed between them (newest run {b.get('newest_run')}"
                    f" → {a.get('newest_run')}, newest decision {b.get('newest_decision')} →"
                    f" {a.get('newest_decision')}): days inspected again or decisions made since the older"
                    " one"
                )
        if changes:
            more = len(changes) - _MOST_CARD_CHANGES
            listed = "; ".join(changes[:_MOST_CARD_CHANGES]) + (f"; and {more} more" if more > 0 else "")
            lines.append(f"scorecard changes: {listed}")
        for side, missing in unknown.items():
            if missing:
                lines.append(f"configuration: not recorded {side}: {', '.join(missing)}")
        if both and not differ and not any(unknown.values()):
            lines.append(
                f"configuration: the same {', '.join(both)}; what changed came from the chats or the review"
                " decisions"
            )
    return lines


def _headers(csv_path: Path) -> tuple[list[str], dict[str, str]]:
    """Column keys in order and their 中文 headers, from the first two lines of agents.csv."""
    try:
        with csv_path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            zh, keys = next(reader, []), next(reader, [])
    except (OSError, UnicodeDecodeError, csv.Error):
        return [], {}
    if len(zh) != len(keys):
        return [], {}
    return list(keys), dict(zip(keys, zh, strict=True))


def _key(row: Mapping[str, Any]) -> tuple[str, str, str]:
    # A month scored with --period and with --from/--to is one window (audit 153 L1).
    return (str(row.get("shop") or ""), str(row["agent"]), period_label(str(row.get("date") or "")))


def _number(value: Any) -> float | None:
    """A number as the table wrote it (an int stays an int); anything else is no number."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return value


def _nothing(value: Any) -> bool:
    return value is None or value == "" or (_number(value) == 0)


def _changed(old: Mapping[str, Any], new: Mapping[str, Any], key: str) -> bool:
    """True when ``key`` differs between the rows.

    A column one table lacks counts only where the other says something: a qc that added a
    column (转接未告知次数) wrote 0 for every agent, which is no change of theirs.
    """
    if (key in old) != (key in new):
        return not _nothing(old.get(key, new.get(key)))
    return _differs(old.get(key), new.get(key))


def _differs(a: Any, b: Any) -> bool:
    x, y = _number(a), _number(b)
    if x is not None and y is not None:
        return abs(x - y) > 1e-9
    return bool(a != b)


def _rescored(old: Mapping[str, Any], new: Mapping[str, Any], key: str) -> bool:
    """True when the score ``key`` moved by other than its points did (an item's full marks changed)."""
    before, after = _number(old.get(key)), _number(new.get(key))
    if before is None or after is None:
        return False
    points = key.removesuffix("_score") + "_points"
    was, now = _number(old.get(points)), _number(new.get(points))
    moved = (now - was) if was is not None and now is not None else 0.0
    return abs((after - before) - moved) > 1e-9


def _compared(columns: Sequence[str]) -> list[str]:
    return [c for c in columns if c not in _KEY_COLUMNS and not c.endswith(_SKIPPED_SUFFIXES)]


def compare_tables(before: AgentsTable, after: AgentsTable) -> Comparison:
    """Match the two tables' rows by shop, agent and window and list what changed in each."""
    columns = list(dict.fromkeys((*after.columns, *before.columns)))
    labels = {**before.labels, **after.labels}
    compared = _compared(columns)
    old = {_key(r): r for r in before.rows}
    new = {_key(r): r for r in after.rows}
    out: list[RowChange] = []
    for key in dict.fromkeys((*old, *new)):
        a, b = old.get(key), new.get(key)
        changes: tuple[Change, ...] = ()
        if a is not None and b is not None:
            changes = tuple(
                Change(c, labels.get(c, c), a.get(c), b.get(c))
                for c in columns
                if (c in compared and _changed(a, b, c))
                or (c.endswith(_SKIPPED_SUFFIXES) and _rescored(a, b, c))
            )
        shop, agent, window = key
        out.append(
            RowChange(
                shop,
                agent,
                window,
                _number(a.get("total_points")) if a is not None else None,
                _number(b.get("total_points")) if b is not None else None,
                changes,
                None if a is not None and b is not None else "before" if a is not None else "after",
            )
        )
    out.sort(key=lambda r: (-abs(r.delta), r.window, r.shop, r.agent))
    return Comparison(before, after, tuple(out))
