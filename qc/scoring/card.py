"""The shop's scorecard: load and validate it, and score agents with it.

The card is TOML (``qc/defaults/scorecard.toml`` documents every key). A shop's file is
merged over the packaged default key by key. :func:`load_scorecard` validates the merged card
into frozen dataclasses and raises :class:`~qc.errors.ConfigError` naming the key and the fix.

:func:`score` is pure: conversations, findings, metrics and a card in, per-agent per-day
:class:`~qc.schema.Deduction` records out, each listing the findings behind it. It never touches
files. The rule that keeps it fair: a message is charged at most once per reason. Its verdict is
the most severe kind it has a counted finding of (``verdict_order``); a finding counts when it is
live (not suppressed, not awaiting review) and scores at least the kind's ``min_score``.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import tomllib
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from qc.errors import ConfigError
from qc.paths import defaults_dir
from qc.schema import Conversation, Deduction, Finding
from qc.scoring.metrics import METRIC_NAMES, UNASSIGNED, AgentDayMetrics, DayRule, message_days

__all__ = [
    "DEFAULT_SCORECARD",
    "Item",
    "Scorecard",
    "load_scorecard",
    "parse_scorecard",
    "counted_kind",
    "message_verdicts",
    "score_verdicts",
    "add_held_counts",
    "agent_rows_from",
    "score",
    "agent_rows",
    "agent_columns",
]

DEFAULT_SCORECARD = defaults_dir() / "scorecard.toml"

RULES = ("findings", "over", "under", "target")
ROUNDINGS = ("exact", "ceil", "floor")
DAY_BY = ("reply", "conversation_start")
_TOP_KEYS = ("card", "day", "findings", "items")
_ITEM_KEYS = {
    "findings": {"points"},
    "over": {"metric", "threshold", "unit", "points_per_unit", "rounding"},
    "under": {"metric", "threshold", "unit", "points_per_unit", "rounding"},
    "target": {"metric", "threshold", "met_if", "points_met", "points_missed"},
}
_COMMON_ITEM_KEYS = {"label", "title", "max_points", "rule", "cap", "floor", "enabled"}


@dataclass(frozen=True, slots=True)
class Item:
    """One scorecard item (服务态度, 平均响应时间, ...) and how it earns or loses points."""

    id: str
    label: str
    title: str
    rule: str
    max_points: float
    points: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    metric: str | None = None
    threshold: float | None = None
    unit: float = 1.0
    points_per_unit: float = 0.0
    rounding: str = "exact"
    met_if: str = "<="
    points_met: float = 0.0
    points_missed: float = 0.0
    cap: float | None = None
    floor: float | None = None

    def met(self, value: float | None) -> bool | None:
        """For a target item: whether the metric value meets the target (``None`` if unknown)."""
        if value is None or self.threshold is None:
            return None
        return value <= self.threshold if self.met_if == "<=" else value >= self.threshold


@dataclass(frozen=True, slots=True)
class Scorecard:
    """The effective, validated scorecard."""

    name: str
    version: int
    day: DayRule
    min_score: Mapping[str, float]
    default_min_score: float
    verdict_order: tuple[str, ...]
    implies_verdict: tuple[str, ...]
    items: tuple[Item, ...]
    data: Mapping[str, Any] = field(compare=False, repr=False, default_factory=dict)
    source: str = ""
    review_only: tuple[str, ...] = ()

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuilt from its TOML data, as it was made (read-only mappings do not pickle):
        # ``qc inspect --jobs`` hands the card to its workers.
        return (parse_scorecard, (self.data, self.source))

    def threshold(self, kind: str) -> float:
        """Lowest score at which a finding of ``kind`` may cost points (infinite when review-only)."""
        if kind in self.review_only:
            return math.inf
        return self.min_score.get(kind, self.default_min_score)

    @property
    def kinds(self) -> tuple[str, ...]:
        """Finding kinds the card knows about, verdicts first (the count columns)."""
        seen: dict[str, None] = {}
        for kind in (*self.verdict_order, *self.implies_verdict):
            seen.setdefault(kind, None)
        for item in self.items:
            for kind in item.points:
                seen.setdefault(kind, None)
        return tuple(seen)

    @property
    def hash(self) -> str:
        """SHA-256 of the effective card (canonical JSON), recorded with every run."""
        canonical = json.dumps(self.data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def to_toml(self) -> str:
        """The effective card as TOML text (what ``qc scorecard show`` prints)."""
        return _to_toml(self.data)


# ----------------------------------------------------------------------------------- loading


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"scorecard {path}: no such file; pass an existing TOML file to --scorecard"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"scorecard {path}: cannot be read ({exc}); save it as UTF-8 TOML") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"scorecard {path}: not valid TOML ({exc}); fix the syntax at that line") from None


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def load_scorecard(path: Path | None = None) -> Scorecard:
    """Load the packaged default card, with the shop's file at ``path`` merged over it.

    Raises:
        ConfigError: the file is missing, not TOML, or a key is unknown or has a bad value;
            the message names the file, the key path and the fix.
    """
    data = _read_toml(DEFAULT_SCORECARD)
    source = str(DEFAULT_SCORECARD)
    if path is not None:
        data = _merge(data, _read_toml(path))
        source = str(path)
    return parse_scorecard(data, source=source)


def _fail(source: str, key: str, problem: str) -> ConfigError:
    return ConfigError(f"scorecard {source}: {key}: {problem}")


def _number(source: str, key: str, value: Any, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _fail(source, key, f"expected a number, got {value!r}")
    if positive and value <= 0:
        raise _fail(source, key, f"must be greater than 0, got {value!r}")
    return float(value)


def _text(source: str, key: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(source, key, f"expected a non-empty string, got {value!r}")
    return value


def _choice(source: str, key: str, value: Any, choices: Sequence[str]) -> str:
    if value not in choices:
        raise _fail(source, key, f"{value!r} is not allowed; use one of {', '.join(map(repr, choices))}")
    return value


def _table(source: str, key: str, value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _fail(source, key, f"expected a table, got {value!r}")
    return value


def _known(source: str, key: str, table: Mapping[str, Any], allowed: Iterable[str]) -> None:
    allowed = set(allowed)
    for k in table:
        if k not in allowed:
            raise _fail(
                source, f"{key}.{k}" if key else k, f"unknown key; known keys: {', '.join(sorted(allowed))}"
            )


def _kinds(source: str, key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _fail(source, key, f"expected a list of finding kinds, got {value!r}")
    return tuple(value)


def _item(source: str, item_id: str, raw: Mapping[str, Any]) -> Item:
    key = f"items.{item_id}"
    rule = _choice(source, f"{key}.rule", raw.get("rule"), RULES)
    _known(source, key, raw, _COMMON_ITEM_KEYS | _ITEM_KEYS[rule])
    opt = {k: _number(source, f"{key}.{k}", raw[k], positive=True) for k in ("cap",) if k in raw}
    if "floor" in raw:
        opt["floor"] = _number(source, f"{key}.floor", raw["floor"])
    common: dict[str, Any] = dict(
        id=item_id,
        label=_text(source, f"{key}.label", raw.get("label", item_id)),
        title=_text(source, f"{key}.title", raw.get("title", item_id)),
        rule=rule,
        max_points=_number(source, f"{key}.max_points", raw.get("max_points", 0)),
        **opt,
    )
    if rule == "findings":
        points = _table(source, f"{key}.points", raw.get("points", {}))
        checked = {k: _number(source, f"{key}.points.{k}", v) for k, v in points.items()}
        return Item(**common, points=MappingProxyType(checked))
    metric = _choice(source, f"{key}.metric", raw.get("metric"), METRIC_NAMES)
    if "threshold" not in raw:
        raise _fail(source, f"{key}.threshold", "missing; give the value the metric is compared with")
    threshold = _number(source, f"{key}.threshold", raw["threshold"])
    if rule == "target":
        return Item(
            **common,
            metric=metric,
            threshold=threshold,
            met_if=_choice(source, f"{key}.met_if", raw.get("met_if", "<="), ("<=", ">=")),
            points_met=_number(source, f"{key}.points_met", raw.get("points_met", 0)),
            points_missed=_number(source, f"{key}.points_missed", raw.get("points_missed", 0)),
        )
    return Item(
        **common,
        metric=metric,
        threshold=threshold,
        unit=_number(source, f"{key}.unit", raw.get("unit", 1), positive=True),
        points_per_unit=_number(source, f"{key}.points_per_unit", raw.get("points_per_unit", 0)),
        rounding=_choice(source, f"{key}.rounding", raw.get("rounding", "exact"), ROUNDINGS),
    )


def parse_scorecard(data: Mapping[str, Any], source: str = "<scorecard>") -> Scorecard:
    """Validate a merged card (the parsed TOML) into a :class:`Scorecard`.

    Raises:
        ConfigError: naming the key path and what to write instead.
    """
    _known(source, "", data, _TOP_KEYS)
    card = _table(source, "card", data.get("card", {}))
    _known(source, "card", card, ("name", "version"))
    day = _table(source, "day", data.get("day", {}))
    _known(source, "day", day, ("timezone", "by"))
    tz = _text(source, "day.timezone", day.get("timezone", "Asia/Shanghai"))
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise _fail(
            source, "day.timezone", f"unknown time zone {tz!r}; use an IANA name such as Asia/Shanghai"
        ) from None
    by = _choice(source, "day.by", day.get("by", "reply"), DAY_BY)

    fnd = _table(source, "findings", data.get("findings", {}))
    _known(source, "findings", fnd, ("min_score", "verdict_order", "implies_verdict", "review_only"))
    min_raw = dict(_table(source, "findings.min_score", fnd.get("min_score", {})))
    default_min = _number(source, "findings.min_score.default", min_raw.pop("default", 0.5))
    min_score = {k: _number(source, f"findings.min_score.{k}", v) for k, v in min_raw.items()}
    for k, v in (*min_score.items(), ("default", default_min)):
        if not 0 <= v <= 1:
            raise _fail(source, f"findings.min_score.{k}", f"{v} is outside 0..1; scores are probabilities")
    order = _kinds(source, "findings.verdict_order", fnd.get("verdict_order", []))
    implies = _kinds(source, "findings.implies_verdict", fnd.get("implies_verdict", []))
    review_only = _kinds(source, "findings.review_only", fnd.get("review_only", []))

    items_raw = _table(source, "items", data.get("items", {}))
    items = []
    for item_id, raw in items_raw.items():
        raw = _table(source, f"items.{item_id}", raw)
        enabled = raw.get("enabled", True)
        if not isinstance(enabled, bool):
            raise _fail(source, f"items.{item_id}.enabled", f"expected true or false, got {enabled!r}")
        if enabled:
            items.append(_item(source, item_id, raw))
    version = card.get("version", 1)
    if isinstance(version, bool) or not isinstance(version, int):
        raise _fail(source, "card.version", f"expected an integer, got {version!r}")
    return Scorecard(
        name=_text(source, "card.name", card.get("name", "scorecard")),
        version=version,
        day=DayRule(timezone=tz, by=by),
        min_score=MappingProxyType(min_score),
        default_min_score=default_min,
        verdict_order=order,
        implies_verdict=implies,
        items=tuple(items),
        data=copy.deepcopy(dict(data)),
        source=source,
        review_only=review_only,
    )


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {value!r} as TOML")


def _toml_key(key: str) -> str:
    return key if key.replace("_", "").replace("-", "").isalnum() and key.isascii() else json.dumps(key)


def _to_toml(data: Mapping[str, Any], prefix: str = "") -> str:
    lines: list[str] = []
    scalars = {k: v for k, v in data.items() if not isinstance(v, Mapping) or prefix.startswith("items.")}
    tables = {k: v for k, v in data.items() if k not in scalars}
    if prefix and scalars:
        lines.append(f"[{prefix}]")
    for k, v in scalars.items():
        lines.append(f"{_toml_key(k)} = {_toml_value(v)}")
    if scalars:
        lines.append("")
    for k, v in tables.items():
        lines.append(_to_toml(v, f"{prefix}.{_toml_key(k)}" if prefix else _toml_key(k)))
    return "\n".join(lines).rstrip("\n") + "\n"


# ----------------------------------------------------------------------------------- scoring


def counted_kind(finding: Finding, card: Scorecard) -> str | None:
    """The verdict kind a finding counts toward, or ``None`` when it cannot cost points.

    A finding counts when it is live (not suppressed, not needs_review) and scores at least its
    kind's ``min_score``. A finding of a kind in ``implies_verdict`` whose
    ``evidence.details["implies"]`` names a verdict kind counts toward that verdict.
    """
    if not finding.live or finding.score < card.threshold(finding.kind):
        return None
    if finding.kind in card.verdict_order:
        return finding.kind
    implied = finding.evidence.details.get("implies")
    if finding.kind in card.implies_verdict and implied in card.verdict_order:
        return implied
    return None


def _qualifies(finding: Finding, card: Scorecard) -> bool:
    return finding.live and finding.score >= card.threshold(finding.kind)


@dataclass(frozen=True, slots=True)
class MessageVerdict:
    """What one agent message is charged with: its verdict and the findings behind it."""

    conversation_id: str
    message_index: int
    agent: str
    date: str
    verdict: str | None
    verdict_findings: tuple[str, ...]
    kinds: Mapping[str, tuple[str, ...]]  # every qualifying kind → its finding ids

    def __reduce__(self) -> tuple[Any, ...]:
        # Read-only mappings do not pickle; ``qc inspect --jobs`` workers send verdicts back.
        return (_verdict, (*(getattr(self, f) for f in _VERDICT_FIELDS[:-1]), dict(self.kinds)))


_VERDICT_FIELDS = (
    "conversation_id",
    "message_index",
    "agent",
    "date",
    "verdict",
    "verdict_findings",
    "kinds",
)


def _verdict(*fields: Any) -> MessageVerdict:
    cid, index, agent, day, verdict, found, kinds = fields
    return MessageVerdict(cid, index, agent, day, verdict, found, MappingProxyType(kinds))


def message_verdicts(
    conversations: Iterable[Conversation],
    findings: Iterable[Finding],
    card: Scorecard,
    days_cache: dict[str, Sequence[str]] | None = None,
) -> list[MessageVerdict]:
    """Group findings by message and decide each message's verdict (most severe counted kind).

    ``days_cache`` maps conversation ids to their :func:`~qc.scoring.metrics.message_days` under the
    card's day rule: days already computed are reused, new ones are added.
    """
    convs = {c.id: c for c in conversations}
    days_cache = {} if days_cache is None else days_cache
    by_message: dict[tuple[str, int], list[Finding]] = defaultdict(list)
    for f in findings:
        by_message[(f.conversation_id, f.message_index)].append(f)
    out = []
    severity = {k: i for i, k in enumerate(card.verdict_order)}
    for (conv_id, index), group in by_message.items():
        conv = convs.get(conv_id)
        agent, day = _attribution(conv, index, group, card, days_cache)
        verdicts: dict[str, list[str]] = defaultdict(list)
        kinds: dict[str, list[str]] = defaultdict(list)
        for f in group:
            if _qualifies(f, card):
                kinds[f.kind].append(f.id)
            verdict = counted_kind(f, card)
            if verdict is not None:
                verdicts[verdict].append(f.id)
        top = min(verdicts, key=severity.__getitem__) if verdicts else None
        out.append(
            MessageVerdict(
                conversation_id=conv_id,
                message_index=index,
                agent=agent,
                date=day,
                verdict=top,
                verdict_findings=tuple(verdicts[top]) if top else (),
                kinds=MappingProxyType({k: tuple(v) for k, v in kinds.items()}),
            )
        )
    out.sort(key=lambda v: (v.date, v.agent, v.conversation_id, v.message_index))
    return out


def _attribution(
    conv: Conversation | None,
    index: int,
    group: list[Finding],
    card: Scorecard,
    cache: dict[str, Sequence[str]],
) -> tuple[str, str]:
    agent = next((f.agent for f in group if f.agent), None)
    if conv is None or not 0 <= index < len(conv.messages):
        return agent or UNASSIGNED, "undated"
    if conv.id not in cache:
        cache[conv.id] = message_days(conv, card.day)
    return agent or conv.messages[index].agent or UNASSIGNED, cache[conv.id][index]


def _fmt(value: float) -> str:
    return f"{value:g}"


def _units(item: Item, value: float) -> float:
    over = value - item.threshold if item.rule == "over" else item.threshold - value  # type: ignore[operator]
    units = round(over / item.unit, 9)
    if units <= 0:
        return 0.0
    if item.rounding == "ceil":
        return float(math.ceil(units))
    if item.rounding == "floor":
        return float(math.floor(units))
    return units


def _metric_deduction(item: Item, m: AgentDayMetrics) -> Deduction | None:
    value = getattr(m, item.metric)  # type: ignore[arg-type]
    if value is None:
        return None
    if item.rule == "target":
        met = item.met(value)
        points = item.points_met if met else item.points_missed
        if points == 0:
            return None
        word = "met" if met else "missed"
        reason = f"{item.metric} {value:.4g} {word} the target {item.met_if} {_fmt(item.threshold)}"  # type: ignore[arg-type]
        return Deduction(m.agent, m.date, item.id, points, reason)
    units = _units(item, value)
    points = round(units * item.points_per_unit, 2)
    if points == 0:
        return None
    side = "above" if item.rule == "over" else "below"
    reason = (
        f"{item.metric} {value:.4g} is {_fmt(units)} × {_fmt(item.unit)} {side} {_fmt(item.threshold)}"  # type: ignore[arg-type]
        f" ({_fmt(item.points_per_unit)} each)"
    )
    return Deduction(m.agent, m.date, item.id, points, reason)


def _bounded(item: Item, agent: str, day: str, raw: float) -> Deduction | None:
    """An adjustment deduction that enforces the item's cap and floor, if they bite."""
    bounded = raw
    if item.cap is not None and bounded < -item.cap:
        bounded = -item.cap
    if item.floor is not None and item.max_points + bounded < item.floor:
        bounded = item.floor - item.max_points
    if bounded == raw:
        return None
    if item.cap is not None and bounded == -item.cap:
        limit = f"cap {_fmt(item.cap)}"
    else:
        assert item.floor is not None  # only a cap or a floor changes the points
        limit = f"floor {_fmt(item.floor)}"
    return Deduction(
        agent, day, item.id, round(bounded - raw, 6), f"{limit}: {item.id} bounded at {_fmt(bounded)}"
    )


def score(
    conversations: Iterable[Conversation],
    findings: Iterable[Finding],
    metrics: Iterable[AgentDayMetrics],
    card: Scorecard,
) -> list[Deduction]:
    """Turn findings and metrics into per-agent per-day deductions (pure; no I/O).

    Findings items: each message is charged once for its verdict (one deduction per agent,
    day, item and kind, with the number of messages, the points each and the finding ids);
    kinds outside ``verdict_order`` with their own points are charged once per message as a
    separate reason. Metric items: ``over``/``under`` charge ``points_per_unit`` per unit
    beyond the threshold, ``target`` items earn their configured points. When an item has a
    ``cap`` or ``floor`` that bites, an adjustment deduction (positive points) says so.
    """
    return score_verdicts(message_verdicts(conversations, findings, card), metrics, card)


def score_verdicts(
    verdicts: Iterable[MessageVerdict], metrics: Iterable[AgentDayMetrics], card: Scorecard
) -> list[Deduction]:
    """:func:`score` from message verdicts already decided (sorted as :func:`message_verdicts` sorts).

    ``verdicts`` is iterated once per findings item: a list, or a
    :class:`~qc.batch.spool.VerdictSpool` that reads them back from disk each time.

    For a run that decides each conversation's verdicts as it goes instead of keeping
    every conversation and finding until the end.
    """
    out: list[Deduction] = []
    raw_totals: dict[tuple[str, str, str], float] = defaultdict(float)
    for item in card.items:
        if item.rule != "findings":
            continue
        grouped: dict[tuple[str, str, str], list[tuple[str, ...]]] = defaultdict(list)
        for v in verdicts:
            if v.verdict is not None and item.points.get(v.verdict, 0) != 0:
                grouped[(v.agent, v.date, v.verdict)].append(v.verdict_findings)
            for kind, ids in v.kinds.items():
                if kind not in card.verdict_order and item.points.get(kind, 0) != 0:
                    grouped[(v.agent, v.date, kind)].append(ids)
        for (agent, day, kind), messages in sorted(grouped.items()):
            each = item.points[kind]
            points = round(each * len(messages), 6)
            ids = tuple(dict.fromkeys(i for group in messages for i in group))
            reason = f"{len(messages)} × {kind} ({_fmt(each)} each)"
            out.append(Deduction(agent, day, item.id, points, reason, ids))
            raw_totals[(agent, day, item.id)] += points
    for m in metrics:
        for item in card.items:
            if item.rule == "findings":
                continue
            d = _metric_deduction(item, m)
            if d is not None:
                out.append(d)
                raw_totals[(m.agent, m.date, item.id)] += d.points
    items = {i.id: i for i in card.items}
    for (agent, day, item_id), raw in sorted(raw_totals.items()):
        adj = _bounded(items[item_id], agent, day, raw)
        if adj is not None:
            out.append(adj)
    out.sort(key=lambda d: (d.date, d.agent, [i.id for i in card.items].index(d.item)))
    return out


# ------------------------------------------------------------------------------ agents table

# (key, 中文 header) of the fixed metric columns of agents.csv / agents.xlsx / agents.json.
_METRIC_COLUMNS: tuple[tuple[str, str], ...] = (
    ("agent", "客服"),
    ("date", "日期"),
    ("shop", "店铺"),
    ("conversations", "接待会话数"),
    ("messages", "客服消息数"),
    ("buyer_messages", "买家消息数"),
    ("turns", "买家轮次"),
    ("turns_replied", "已回复轮次"),
    ("buyers_received", "接待人数"),
    ("buyers_replied", "回复人数"),
    ("reply_rate", "回复率"),
    ("avg_response_s", "平均响应时间(秒)"),
    ("timed_turns", "计时轮次"),
    ("first_response_s", "首次响应时间(秒)"),
    ("first_responses", "首响会话数"),
    ("answer_ratio", "答问比"),
)
# 考核表 names of the finding kinds, for tables and charts.
KIND_LABELS = {"impatience": "不够耐心", "conflict": "与买家冲突", "forbidden_phrase": "禁用语"}
_ALWAYS_KINDS = ("impatience", "conflict", "forbidden_phrase")


def agent_columns(card: Scorecard) -> list[tuple[str, str]]:
    """Every column of the agents table as (key, 中文 header), in output order."""
    cols = list(_METRIC_COLUMNS)
    kinds = dict.fromkeys((*card.verdict_order, *_ALWAYS_KINDS, *card.kinds))
    cols += [(k, f"{KIND_LABELS.get(k, k)}次数") for k in kinds]
    cols += [("needs_review", "待复核"), ("suppressed", "已排除")]
    for item in card.items:
        if item.rule == "target":
            cols.append((f"{item.id}_met", f"{item.label}达标"))
        cols.append((f"{item.id}_points", f"{item.label}加减分"))
        cols.append((f"{item.id}_score", f"{item.label}得分"))
    cols += [("total_points", "合计加减分"), ("total_score", "合计得分")]
    return cols


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def agent_rows(
    conversations: Iterable[Conversation],
    findings: Iterable[Finding],
    metrics: Iterable[AgentDayMetrics],
    deductions: Iterable[Deduction],
    card: Scorecard,
) -> list[dict[str, Any]]:
    """One row per agent per day: metrics, counts by finding kind, points and score per item.

    Counts: a verdict kind (impatience, conflict) counts the messages charged with it, so count
    × points-each is the item's deduction; other kinds (forbidden_phrase) count the messages
    with a counted finding of that kind. ``needs_review`` and ``suppressed`` count findings that
    were held back. Points are summed deductions (negative); score is ``max_points + points``.
    """
    findings = list(findings)
    conversations = list(conversations)
    verdicts = message_verdicts(conversations, findings, card)
    held_by: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    add_held_counts(held_by, conversations, findings, card)
    return agent_rows_from(verdicts, held_by, metrics, deductions, card)


def add_held_counts(
    held_by: Mapping[tuple[str, str], MutableMapping[str, int]],
    conversations: Iterable[Conversation],
    findings: Iterable[Finding],
    card: Scorecard,
    days_cache: dict[str, Sequence[str]] | None = None,
) -> None:
    """Count the findings held back (``needs_review``, ``suppressed``) per agent and day into ``held_by``.

    Additive over conversations: a run may count each conversation's findings as it goes.
    ``held_by`` maps ``(agent, day)`` to a ``defaultdict(int)``.
    """
    findings = list(findings)
    held = {f.id for f in findings if not f.live}
    convs = {c.id: c for c in conversations}
    cache = {} if days_cache is None else days_cache
    for f in findings:
        if f.id in held:
            key = _attribution(convs.get(f.conversation_id), f.message_index, [f], card, cache)
            held_by[key]["suppressed" if f.suppressed else "needs_review"] += 1
        elif f.score < card.threshold(f.kind):
            key = _attribution(convs.get(f.conversation_id), f.message_index, [f], card, cache)
            held_by[key]["needs_review"] += 1


def agent_rows_from(
    verdicts: Iterable[MessageVerdict],
    held_by: Mapping[tuple[str, str], Mapping[str, int]],
    metrics: Iterable[AgentDayMetrics],
    deductions: Iterable[Deduction],
    card: Scorecard,
) -> list[dict[str, Any]]:
    """:func:`agent_rows` from verdicts and held-back counts (:func:`add_held_counts`) already made."""
    counts: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for v in verdicts:
        c = counts[(v.agent, v.date)]
        if v.verdict:
            c[v.verdict] += 1
        for kind in v.kinds:
            if kind not in card.verdict_order:
                c[kind] += 1
    points: dict[tuple[str, str, str], float] = defaultdict(float)
    for d in deductions:
        points[(d.agent, d.date, d.item)] += d.points
    rows_by_key: dict[tuple[str, str], AgentDayMetrics] = {(m.agent, m.date): m for m in metrics}
    extra = set(counts) | set(held_by) | {(a, day) for a, day, _ in points}
    for key in extra - set(rows_by_key):
        rows_by_key[key] = AgentDayMetrics(agent=key[0], date=key[1])
    kinds = list(dict.fromkeys((*card.verdict_order, *_ALWAYS_KINDS, *card.kinds)))
    rows = []
    for (agent, day), m in sorted(rows_by_key.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        row: dict[str, Any] = {
            "agent": agent,
            "date": day,
            "shop": m.shop,
            "conversations": m.conversations,
            "messages": m.messages,
            "buyer_messages": m.buyer_messages,
            "turns": m.turns,
            "turns_replied": m.turns_replied,
            "buyers_received": m.buyers_received,
            "buyers_replied": m.buyers_replied,
            "reply_rate": _round(m.reply_rate, 4),
            "avg_response_s": _round(m.avg_response_s, 2),
            "timed_turns": m.timed_turns,
            "first_response_s": _round(m.first_response_s, 2),
            "first_responses": m.first_responses,
            "answer_ratio": _round(m.answer_ratio, 4),
        }
        for kind in kinds:
            row[kind] = counts[(agent, day)].get(kind, 0)
        held = held_by.get((agent, day), {})
        row["needs_review"] = held.get("needs_review", 0)
        row["suppressed"] = held.get("suppressed", 0)
        total_points = 0.0
        total_score = 0.0
        for item in card.items:
            if item.rule == "target":
                row[f"{item.id}_met"] = item.met(getattr(m, item.metric))  # type: ignore[arg-type]
            p = round(points.get((agent, day, item.id), 0.0), 2) + 0.0
            row[f"{item.id}_points"] = p
            row[f"{item.id}_score"] = round(item.max_points + p, 2)
            total_points += p
            total_score += item.max_points + p
        row["total_points"] = round(total_points, 2) + 0.0
        row["total_score"] = round(total_score, 2)
        rows.append(row)
    return rows


# Review states and the decision words that lead to them (the supervision layer records them;
# scoring only needs to know that a rejected finding costs nothing).
CONFIRMED = "confirmed"
REJECTED = "rejected"
DECISIONS = {"confirm": CONFIRMED, "reject": REJECTED}
# The cue a rejected finding carries once review has turned it into a suppressed one.
REJECTED_CUE = "rejected in review"


def mark_rejected(findings: Iterable[Finding], rejected: Collection[str]) -> list[Finding]:
    """Findings with the rejected ones turned into suppressed findings (pure).

    The scorer never charges a suppressed finding, so this is how a review verdict reaches
    the scorecard without a second scoring path. The id does not change (it does not depend
    on ``suppressed`` or the cues), so decisions keep applying on every re-run.
    """
    out = []
    for f in findings:
        if f.id in rejected and not f.suppressed:
            ev = f.evidence
            details = {**ev.details, "review": REJECTED}
            f = replace(
                f, suppressed=True, evidence=replace(ev, cues=(REJECTED_CUE, *ev.cues), details=details)
            )
        out.append(f)
    return out
