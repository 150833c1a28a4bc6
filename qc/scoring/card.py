"""The shop's scorecard: load and validate it, and decide what each agent message is charged with.

The card is TOML (``qc/defaults/scorecard.toml`` documents every key). A shop's file is
merged over the packaged default key by key. :func:`load_scorecard` validates the merged card
into frozen dataclasses and raises :class:`~qc.errors.ConfigError` naming the key and the fix.

The rule that keeps scoring fair: a message is charged at most once per reason. Its verdict is
the most severe kind it has a counted finding of (``verdict_order``); a finding counts when it is
live (not suppressed, not awaiting review) and scores at least the kind's ``min_score``.
:func:`verdicts_of` decides that per message; :mod:`qc.scoring.scores` turns verdicts and
metrics into points (the one scoring function every command uses).
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import re
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from qc.errors import ConfigError
from qc.paths import defaults_dir
from qc.schema import CHARGED_HEAD, HELD_HEAD, Conversation, Finding
from qc.scoring.metrics import (
    METRIC_NAMES,
    UNASSIGNED,
    UNDATED,
    DayRule,
    closing_key,
    message_days,
    unassigned_of,
)
from qc.scoring.periods import PERIOD_KINDS

__all__ = [
    "DEFAULT_SCORECARD",
    "EVIDENCE_METRICS",
    "METRIC_SAMPLES",
    "AttributedFinding",
    "Item",
    "MessageVerdict",
    "Scorecard",
    "attribute",
    "basis_difference",
    "basis_refusal",
    "describe_basis",
    "counted_kind",
    "held_back",
    "load_scorecard",
    "mark_held",
    "mark_rejected",
    "message_verdicts",
    "parse_scorecard",
    "qualifies",
    "verdicts_of",
]

DEFAULT_SCORECARD = defaults_dir() / "scorecard.toml"

RULES = ("findings", "over", "under", "target")
ROUNDINGS = ("exact", "ceil", "floor")
DAY_BY = ("reply", "conversation_start")
_TOP_KEYS = ("card", "day", "period", "points", "findings", "items")
_METRIC_KEYS = {"metric", "threshold", "min_sample", "evidence"}
_ITEM_KEYS = {
    "findings": {"points"},
    "over": _METRIC_KEYS | {"unit", "points_per_unit", "rounding"},
    "under": _METRIC_KEYS | {"unit", "points_per_unit", "rounding"},
    "target": _METRIC_KEYS | {"met_if", "points_met", "points_missed"},
}
_COMMON_ITEM_KEYS = {"label", "title", "max_points", "rule", "cap", "floor", "enabled"}
# What ``floor = "none"`` is written as: the item has no floor (不设下限 / 不设上限 in the seed).
NO_FLOOR = "none"

# The count a metric is an average or a rate over, and its name in messages. Below an item's
# ``min_sample`` of it the metric is reported as too few and costs nothing.
METRIC_SAMPLES: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "avg_response_s": ("timed_turns", "timed turns"),
        "first_response_s": ("first_responses", "first responses"),
        "reply_rate": ("buyers_received", "buyers"),
        "answer_ratio": ("buyer_messages", "buyer messages"),
    }
)
# Metrics whose deductions qc backs with findings of their own (qc.scoring.evidence): a slow
# reply, a slow first reply, a buyer left without any reply.
EVIDENCE_METRICS: tuple[str, ...] = ("avg_response_s", "first_response_s", "reply_rate")
# Metrics that are shares (回复率 0.99 for 99%): a threshold is a fraction from 0 to 1.
FRACTION_METRICS: tuple[str, ...] = ("reply_rate",)
# The metrics whose good side is known: a time is better lower, the reply rate higher. An item
# that pays points for the bad side of one, or charges them for the good side, is a sign slip
# (audit 98 F5: +2 per second slower; audit 104 H2: −2 per second faster). The answer ratio has
# none: the seed's target is at least 130%, and a shop may charge a ratio that high as spam.
LOWER_IS_BETTER: tuple[str, ...] = ("avg_response_s", "first_response_s")
HIGHER_IS_BETTER: tuple[str, ...] = ("reply_rate",)
# The fixed columns of agents.csv / .xlsx / .json (qc.scoring.scores._METRIC_COLUMNS, the
# review counts and the totals): an evidence kind (its count column) or an item (its
# ``ID_points`` and ``ID_score``) may not take one of their names.
RESERVED_COLUMNS: frozenset[str] = frozenset(
    {
        *METRIC_NAMES,
        "agent",
        "date",
        "shop",
        "timed_turns",
        "first_responses",
        "needs_review",
        "suppressed",
        "total_points",
        "total_score",
    }
)


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
    floor: float | None = None  # lowest item score; None: no floor (不设下限)
    min_sample: int | None = None
    evidence: str | None = None

    def met(self, value: float | None) -> bool | None:
        """For a target item: whether the metric value meets the target (``None`` if unknown)."""
        if value is None or self.threshold is None:
            return None
        return value <= self.threshold if self.met_if == "<=" else value >= self.threshold

    @property
    def deducts(self) -> bool:
        """True when the item can cost points (so each point needs evidence)."""
        if self.rule == "findings":
            return any(v < 0 for v in self.points.values())
        if self.rule == "target":
            return self.points_met < 0 or self.points_missed < 0
        return self.points_per_unit < 0

    def measure(self) -> tuple[str, float]:
        """A metric item's (``over``, ``under``, ``target``) metric name and threshold.

        The card loader gives every such item both; a ``findings`` item has neither.
        """
        if self.metric is None or self.threshold is None:
            raise ValueError(f"scorecard item {self.id} ({self.rule}) has no metric and threshold")
        return self.metric, self.threshold

    def __reduce__(self) -> tuple[Any, ...]:
        # mypyc: a compiled frozen dataclass cannot be unpickled field by field
        return (
            type(self),
            (
                self.id,
                self.label,
                self.title,
                self.rule,
                self.max_points,
                self.points,
                self.metric,
                self.threshold,
                self.unit,
                self.points_per_unit,
                self.rounding,
                self.met_if,
                self.points_met,
                self.points_missed,
                self.cap,
                self.floor,
                self.min_sample,
                self.evidence,
            ),
        )


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
    appraisal: str = "month"
    decimals: int = 0
    # Evidence kinds → their items, worked out once (scoring asks for every conversation).
    _evidence: Mapping[str, Item] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        evidence = {item.evidence: item for item in self.items if item.evidence is not None}
        object.__setattr__(self, "_evidence", MappingProxyType(evidence))

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
        for kind in self.evidence_kinds:
            seen.setdefault(kind, None)
        return tuple(seen)

    @property
    def evidence_kinds(self) -> Mapping[str, Item]:
        """Finding kinds made as evidence of a metric item (``slow_response``), with their item."""
        return self._evidence

    @property
    def basis(self) -> str:
        """What a stored conversation's days, parts and evidence were made with (canonical JSON).

        The day rule and each evidence kind's metric and limit: a store scored with a card
        whose basis differs would mix days or slow replies computed two ways.
        """
        evidence = {
            kind: [item.metric, None if item.metric == "reply_rate" else item.threshold]
            for kind, item in sorted(self.evidence_kinds.items())
        }
        data: dict[str, Any] = {"timezone": self.day.timezone, "by": self.day.by, "evidence": evidence}
        # Each absent when unset: stores saved before the setting existed keep their basis.
        if self.day.service_hours:
            data["service_hours"] = [list(span) for span in self.day.service_hours]
            # A turn asked and answered while the shop is shut is untimed; before, 0 s: days
            # saved so are another basis, refused until inspected again (audit 163 M1).
            data["closed_turns"] = "untimed"
        if self.day.closing_words:
            data["closing_words"] = list(self.day.closing_words)
        return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))

    def round_points(self, value: float) -> int | float:
        """Points rounded as ``[points] decimals`` says, halves away from zero (−2.5 → −3).

        With ``decimals = 0`` the result is an ``int``, so files write whole points as the
        考核表 keeps them (−10, not −10.0).
        """
        scale = 10**self.decimals
        scaled = abs(value) * scale
        # The small epsilon keeps 2.675-style binary near-halves from rounding down.
        rounded = math.floor(scaled + 0.5 + 1e-9) / scale
        if not self.decimals:
            # Whole points are written as the 考核表 keeps them: -10, not -10.0.
            return int(math.copysign(rounded, value))
        return math.copysign(rounded, value) + 0.0 if rounded else 0.0

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
    # A shop edits its card in Notepad or WPS: UTF-8, UTF-8 with BOM and GBK are all read.
    from qc.readers.encoding import read_config_toml

    if not path.exists():
        raise ConfigError(f"scorecard {path}: no such file; pass an existing TOML file to --scorecard")
    return read_config_toml(path, "scorecard")


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
    try:
        return parse_scorecard(data, source=source)
    except _KeyProblem as exc:
        if path is None:
            raise
        line = _line_of(Path(path), exc.key)
        if line is None:  # the key is the default card's, not written in the shop's file
            raise
        raise ConfigError(f"scorecard {source}:{line}: {exc.key}: {exc.problem}") from None


class _KeyProblem(ConfigError):
    """A card's key has a bad value; the message names the file and key, these name the parts."""

    def __init__(self, source: str, key: str, problem: str) -> None:
        super().__init__(f"scorecard {source}: {key}: {problem}")
        self.key = key
        self.problem = problem


def _fail(source: str, key: str, problem: str) -> ConfigError:
    return _KeyProblem(source, key, problem)


_TOML_HEADER = re.compile(r"^\s*\[+\s*([^\]]+?)\s*\]+\s*(?:#.*)?$")
_TOML_NAME = r"""(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')"""
_TOML_KEY = re.compile(rf"^\s*({_TOML_NAME}(?:\s*\.\s*{_TOML_NAME})*)\s*=")


def _line_of(path: Path, key: str) -> int | None:
    """The line of a shop's card that sets ``key`` (or the nearest table or key above it), if written.

    Errors name the file, the line and the key: QA staff edit cards by hand. The file is read
    as TOML is written line by line: a ``[table]`` header, then ``key = value`` lines under it.
    """
    from qc.readers.encoding import UndecodableError, decode_text

    try:
        text, _ = decode_text(path.read_bytes())  # as the card was read: a GBK card has lines too
    except (OSError, UndecodableError):
        return None
    where: dict[str, int] = {}
    first_of: dict[str, int] = {}  # a table's first segment: [Items.x] is where the unknown key Items is
    table = ""
    for number, line in enumerate(text.splitlines(), start=1):
        header = _TOML_HEADER.match(line)
        if header:
            parts = [p.strip().strip("\"'") for p in header.group(1).split(".")]
            table = ".".join(parts)
            where.setdefault(table, number)
            first_of.setdefault(parts[0], number)
            continue
        found = _TOML_KEY.match(line)
        if found:
            name = ".".join(p.strip().strip("\"'") for p in found.group(1).split("."))
            where.setdefault(f"{table}.{name}" if table else name, number)
    parts = key.split(".")
    for end in range(len(parts), 0, -1):
        at = where.get(".".join(parts[:end]))
        if at is not None:
            return at
    # Only a top-level key falls back to a table it begins: another key's error named an unrelated
    # [items.*] line (audit 116 L2).
    return first_of.get(key) if len(parts) == 1 else None


# Bounds of sanity, not of policy: within them no deduction (points per unit × metric ÷ unit)
# can overflow a float, which once stopped a run with an OverflowError.
_LARGEST = 1e9
_SMALLEST_POSITIVE = 1e-9


def _number(source: str, key: str, value: Any, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _fail(source, key, f"expected a number, got {value!r}")
    if abs(value) > _LARGEST:
        raise _fail(source, key, f"{value!r} is too large; a card's numbers stay within ±{_LARGEST:,.0f}")
    if positive and value < _SMALLEST_POSITIVE:
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
    import difflib

    allowed = set(allowed)
    for k in table:
        if k not in allowed:
            # [Items.x] or a one-letter slip: name the key the person meant (audit 104 L4).
            close = [a for a in sorted(allowed) if a.casefold() == str(k).casefold()]
            close = close or difflib.get_close_matches(str(k), sorted(allowed), n=1, cutoff=0.75)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise _fail(
                source,
                f"{key}.{k}" if key else k,
                f"unknown key; known keys: {', '.join(sorted(allowed))}{hint}",
            )


def _kinds(source: str, key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _fail(source, key, f"expected a list of finding kinds, got {value!r}")
    twice = sorted({v for v in value if value.count(v) > 1})
    if twice:
        # In verdict_order a kind's place is its severity: listed twice, it has two.
        raise _fail(source, key, f"lists {', '.join(map(repr, twice))} more than once: name each kind once")
    return tuple(value)


# The kinds qc's own rules find; a card names any others in its items (points, evidence).
_RULE_KINDS = ("conflict", "impatience", "forbidden_phrase", "silent_transfer")


def _named_kinds(items_raw: Mapping[str, Any]) -> set[str]:
    """Every finding kind the card's items name (points or evidence, switched off or not)."""
    named = set(_RULE_KINDS)
    for raw in items_raw.values():
        if isinstance(raw, Mapping):
            points = raw.get("points")
            named.update(points if isinstance(points, Mapping) else ())
            if isinstance(raw.get("evidence"), str):
                named.add(raw["evidence"])
    return named


def _check_kinds(
    source: str, key: str, kinds: Iterable[str], named: Collection[str], *, keyed: bool = False
) -> None:
    """A kind in the [findings] table that no rule finds and no item names is a typo.

    It would change nothing, silently: ``review_only = ["impatince"]`` holds nothing back and
    the findings the shop meant to hold are charged. ``keyed``: the kinds are the keys of the
    table ``key`` (an item's points), so the error names the key's own line.
    """
    import difflib

    for kind in kinds:
        if kind not in named:
            close = difflib.get_close_matches(kind, sorted(named), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            others = sorted(set(named) - set(_RULE_KINDS))
            # An item's points charge only what qc's rules find; elsewhere the card's items add kinds.
            also = f" and this card's items name {', '.join(others)}" if others else ""
            raise _fail(
                source,
                f"{key}.{kind}" if keyed else key,
                f"{kind!r} is not a finding kind: qc's rules find {', '.join(_RULE_KINDS)}{also}{hint}",
            )


_SPAN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-–~]\s*(\d{1,2}):(\d{2})\s*$")


def _service_hours(source: str, raw: Any) -> tuple[tuple[int, int], ...]:
    """``[day] service_hours``: spans such as ``"09:00-23:00"`` as (start, end) minutes, in order."""
    key = "day.service_hours"
    spans = [raw] if isinstance(raw, str) else raw
    if not isinstance(spans, list) or not all(isinstance(x, str) for x in spans):
        raise _fail(source, key, f'expected spans such as ["09:00-23:00"], got {raw!r}')
    out: list[tuple[int, int]] = []
    for text in spans:
        m = _SPAN.match(text)
        h1, m1, h2, m2 = (int(g) for g in m.groups()) if m else (0, 0, 0, 0)
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if not m or m1 > 59 or m2 > 59 or not 0 <= start < end <= 1440:
            raise _fail(
                source,
                key,
                f'{text!r} is not a span of one day\'s clock: write it as "09:00-23:00" (start before'
                ' end, up to 24:00; a shop open past midnight writes two spans, "00:00-01:00" and'
                ' "09:00-24:00")',
            )
        if out and start < out[-1][1]:
            raise _fail(
                source, key, f"{text!r} starts before the span above it ends: list the spans in order"
            )
        out.append((start, end))
    return tuple(out)


def _closing_words(source: str, raw: Any) -> tuple[str, ...]:
    """``[day] closing_words``: what a buyer's last unanswered messages may say and need no reply."""
    key = "day.closing_words"
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        raise _fail(source, key, f'expected a list of words such as ["好的", "谢谢"], got {raw!r}')
    words: dict[str, None] = {}
    for word in raw:
        folded = closing_key(word)
        if not folded:
            raise _fail(source, key, f"{word!r} is only punctuation or emoji: list words, such as 好的")
        words.setdefault(folded, None)
    return tuple(sorted(words))


def _check_review_only(source: str, review_only: Iterable[str], items: Iterable[Item]) -> None:
    """Refuse holding back the evidence of a metric item: the item would still deduct.

    A metric (average response, reply rate) is computed over every turn or buyer; its findings
    only show which ones cost it. Held back, they leave the figure as it is, so the item would
    charge points with no finding to review.
    """
    evidence_of = {i.evidence: i.id for i in items if i.evidence and i.rule != "findings"}
    for kind in review_only:
        if kind in evidence_of:
            item = evidence_of[kind]
            raise _fail(
                source,
                "findings.review_only",
                f"{kind!r} is the evidence of item {item}, whose figure counts every turn: held back,"
                f" it would still deduct with no finding to review; to stop {item} deducting set"
                f" items.{item}.enabled = false, or review its {kind} findings and reject the wrong ones",
            )


def _item(source: str, item_id: str, raw: Mapping[str, Any]) -> Item:
    key = f"items.{item_id}"
    rule = _choice(source, f"{key}.rule", raw.get("rule"), RULES)
    allowed = _COMMON_ITEM_KEYS | _ITEM_KEYS[rule]
    for k in raw:
        others = [r for r in RULES if r != rule and k in _ITEM_KEYS[r]]
        if k not in allowed and others:
            # Often a default item whose rule a shop's card changed: the card cannot remove the
            # default's keys, so "unknown key unit" named a key the shop never wrote.
            raise _fail(
                source,
                f"{key}.{k}",
                f"belongs to rule {others[0]!r}, not {rule!r}: to give an item another rule, set"
                f" {key}.enabled = false and add a new item with that rule",
            )
    _known(source, key, raw, allowed)
    opt: dict[str, Any] = {
        k: _number(source, f"{key}.{k}", raw[k], positive=True) for k in ("cap",) if k in raw
    }
    common: dict[str, Any] = dict(
        id=item_id,
        label=_text(source, f"{key}.label", raw.get("label", item_id)),
        title=_text(source, f"{key}.title", raw.get("title", item_id)),
        rule=rule,
        max_points=_number(source, f"{key}.max_points", _given(source, key, raw, "max_points")),
        **opt,
    )
    if common["max_points"] < 0:
        raise _fail(
            source, f"{key}.max_points", f"is the item's full score, 0 or more; got {common['max_points']:g}"
        )
    if f"{item_id}_points" in RESERVED_COLUMNS or f"{item_id}_score" in RESERVED_COLUMNS:
        raise _fail(source, key, f"{item_id!r} would name the columns of the totals: pick another item id")
    if rule == "findings":
        points = _table(source, f"{key}.points", raw.get("points", {}))
        checked = {k: _number(source, f"{key}.points.{k}", v) for k, v in points.items()}
        _check_kinds(source, f"{key}.points", checked, _RULE_KINDS, keyed=True)
        for kind, value in checked.items():
            if value > 0:
                # A sign slip: every impatient message would earn the agent points.
                raise _fail(
                    source,
                    f"{key}.points.{kind}",
                    f"is {value:g}: points of a finding are a deduction, 0 or less (write {-value:g})",
                )
        floor = _floor(source, f"{key}.floor", raw, common["max_points"])
        return Item(**common, floor=floor, points=MappingProxyType(checked))
    metric = _choice(source, f"{key}.metric", raw.get("metric"), METRIC_NAMES)
    if "threshold" not in raw:
        raise _fail(source, f"{key}.threshold", "missing; give the value the metric is compared with")
    threshold = _number(source, f"{key}.threshold", raw["threshold"])
    if threshold < 0:
        # Every metric is a time, a count, a share or a ratio: a sign slip put every agent over it.
        raise _fail(
            source,
            f"{key}.threshold",
            f"{threshold:g} is below 0: {metric} is never negative (write {-threshold:g})",
        )
    if metric in FRACTION_METRICS and not 0 <= threshold <= 1:
        raise _fail(
            source,
            f"{key}.threshold",
            f"{threshold:g} is outside 0..1: {metric} is a share (write 0.99 for 99%)",
        )
    common.update(_sample_and_evidence(source, key, metric, raw))
    common["floor"] = _floor(source, f"{key}.floor", raw, common["max_points"])
    if rule == "target":
        item = Item(
            **common,
            metric=metric,
            threshold=threshold,
            points_met=_number(source, f"{key}.points_met", _given(source, key, raw, "points_met")),
            points_missed=_number(source, f"{key}.points_missed", _given(source, key, raw, "points_missed")),
            met_if=_choice(source, f"{key}.met_if", _given(source, key, raw, "met_if"), ("<=", ">=")),
        )
        good = "<=" if metric in LOWER_IS_BETTER else ">=" if metric in HIGHER_IS_BETTER else None
        if good is not None and item.met_if != good:
            # "reply rate <= 0.99" met by a buyer left unanswered, missed by every perfect agent.
            raise _fail(
                source,
                f"{key}.met_if",
                f"is {item.met_if!r}: {metric} is better {'lower' if good == '<=' else 'higher'}, so the"
                f" target would be missed by doing better; write met_if = {good!r}",
            )
        if item.points_missed > item.points_met:
            raise _fail(
                source,
                f"{key}.points_missed",
                f"is {item.points_missed:g}, more than points_met {item.points_met:g}: missing the target"
                " would pay more than meeting it (a deduction is negative)",
            )
        return item
    item = Item(
        **common,
        metric=metric,
        threshold=threshold,
        points_per_unit=_number(
            source, f"{key}.points_per_unit", _given(source, key, raw, "points_per_unit")
        ),
        unit=_number(source, f"{key}.unit", _given(source, key, raw, "unit"), positive=True),
        rounding=_choice(source, f"{key}.rounding", raw.get("rounding", "exact"), ROUNDINGS),
    )
    worse = (rule == "over" and metric in LOWER_IS_BETTER) or (rule == "under" and metric in HIGHER_IS_BETTER)
    better = (rule == "over" and metric in HIGHER_IS_BETTER) or (
        rule == "under" and metric in LOWER_IS_BETTER
    )
    if worse and item.points_per_unit > 0:
        side = "slower" if metric in LOWER_IS_BETTER else "lower"
        raise _fail(
            source,
            f"{key}.points_per_unit",
            f"is {item.points_per_unit:g}: each unit {rule} the threshold is {side}, and a positive"
            f" number would pay the agent for it (a deduction is negative: write {-item.points_per_unit:g})",
        )
    if better and item.points_per_unit < 0:
        # rule = "over" on the reply rate, meant as "above 95%", charged every perfect agent.
        side = "faster" if metric in LOWER_IS_BETTER else "higher"
        flip = "under" if rule == "over" else "over"
        raise _fail(
            source,
            f"{key}.rule",
            f"is {rule!r}: each unit {rule} the threshold is {side}, which is better, and points_per_unit"
            f" {item.points_per_unit:g} would charge the agent for it; to deduct for {metric} on its bad"
            f" side write rule = {flip!r} (a bonus for the good side is a positive points_per_unit)",
        )
    return item


# What each number an item must state means, for the message when it is left out: a number
# the shop did not write is never taken as 0 (an added item then never deducted, unsaid).
_STATED = {
    "max_points": "the item's full score (满分), 0 or more",
    "points_per_unit": "the points per unit over or under the threshold (a deduction is negative, e.g. -2)",
    "points_met": "the points when the target is met (0 for none)",
    "points_missed": "the points when it is missed (a deduction is negative)",
    "met_if": 'the side of the threshold that meets the target: "<=" (at most, a time) or ">=" (at least)',
    "unit": "the size of one unit over or under the threshold (1: one second; 0.01: one point of a share)",
}


def _given(source: str, key: str, raw: Mapping[str, Any], name: str) -> Any:
    if name not in raw:
        raise _fail(source, f"{key}.{name}", f"missing; give {_STATED[name]}")
    return raw[name]


def _new_item_without_rule(source: str, item_id: str, others: Sequence[str]) -> ConfigError:
    """The error for an item with no rule: most often a misspelt id of an item the card has."""
    import difflib

    close = difflib.get_close_matches(item_id, sorted(others), n=1, cutoff=0.6)
    hint = (
        f"did you mean items.{close[0]}? "
        if close
        else f"the card's items are {', '.join(sorted(others))}; "
        if others
        else ""
    )
    return _fail(
        source,
        f"items.{item_id}",
        f"is no item of the card: {hint}a new item needs rule (findings, over, under or target),"
        " max_points, floor and the keys of its rule",
    )


def _floor(source: str, key: str, raw: Mapping[str, Any], max_points: float) -> float | None:
    if "floor" not in raw:
        raise _fail(
            source,
            key,
            f'missing; say where the item score stops: floor = 0 (at zero) or floor = "{NO_FLOOR}"'
            " (不设下限: no floor)",
        )
    if raw["floor"] == NO_FLOOR:
        return None
    if isinstance(raw["floor"], str):
        raise _fail(source, key, f'expected a number or "{NO_FLOOR}", got {raw["floor"]!r}')
    floor = _number(source, key, raw["floor"])
    if floor > max_points:
        # A floor above the full score would lift every charged agent above it: a bonus for deductions.
        raise _fail(
            source,
            key,
            f"{floor:g} is above the item's max_points {max_points:g}; a floor is at most the full score",
        )
    return floor


def _sample_and_evidence(source: str, key: str, metric: str, raw: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "min_sample" in raw:
        value = raw["min_sample"]
        if metric not in METRIC_SAMPLES:
            raise _fail(
                source, f"{key}.min_sample", f"metric {metric} is a count, not an average: remove the key"
            )
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _LARGEST:
            raise _fail(
                source,
                f"{key}.min_sample",
                f"expected a whole number from 0 to {_LARGEST:,.0f}, got {value!r}",
            )
        out["min_sample"] = value
    if "evidence" in raw:
        if metric not in EVIDENCE_METRICS:
            raise _fail(
                source,
                f"{key}.evidence",
                f"qc makes evidence only for {', '.join(EVIDENCE_METRICS)}, not {metric}: remove the key",
            )
        kind = _text(source, f"{key}.evidence", raw["evidence"])
        if not kind.replace("_", "").isalnum() or not kind.isascii():
            raise _fail(source, f"{key}.evidence", f"{kind!r} is not a finding kind; use letters and _ only")
        if kind in RESERVED_COLUMNS:
            raise _fail(
                source,
                f"{key}.evidence",
                f"{kind!r} is a column of the agents table (its count would overwrite it): pick another"
                f" name, one no other item uses, such as slow_{key.rsplit('.', 1)[-1]}",
            )
        out["evidence"] = kind
    return out


def _check_limits_fit_decimals(source: str, items: Sequence[Item], decimals: int) -> None:
    """Refuse a cap or floor finer than the points are kept: the row could not show it.

    With whole points a cap of 7.5 made the reason say "stops at 12.5" beside a row of 13.
    """
    for item in items:
        for key, value in (("cap", item.cap), ("floor", item.floor)):
            if value is not None and round(value, decimals) != value:
                raise _fail(
                    source,
                    f"items.{item.id}.{key}",
                    f"{value:g} has more decimals than [points] decimals = {decimals} keeps: write"
                    f" {round(value, decimals):g}, or set [points] decimals to keep them",
                )


def _check_evidence(source: str, items: Sequence[Item], reserved: Collection[str]) -> None:
    """Each deducting item that can have evidence names a kind, used once and by nothing else."""
    seen: dict[str, str] = {}
    charged = {kind for item in items if item.rule == "findings" for kind in item.points}
    for item in items:
        key = f"items.{item.id}.evidence"
        if item.evidence is None:
            if item.metric in EVIDENCE_METRICS and item.deducts:
                raise _fail(
                    source,
                    key,
                    "missing; an item that deducts must name the findings behind its points,"
                    ' e.g. evidence = "slow_response"',
                )
            continue
        if item.evidence in seen:
            raise _fail(
                source, key, f"{item.evidence!r} is already the evidence of items.{seen[item.evidence]}"
            )
        if item.evidence in reserved or item.evidence in charged:
            raise _fail(
                source,
                key,
                f"{item.evidence!r} is a kind the rules or the findings items use; pick a new name",
            )
        seen[item.evidence] = item.id


def parse_scorecard(data: Mapping[str, Any], source: str = "<scorecard>") -> Scorecard:
    """Validate a merged card (the parsed TOML) into a :class:`Scorecard`.

    Raises:
        ConfigError: naming the key path and what to write instead.
    """
    _known(source, "", data, _TOP_KEYS)
    card = _table(source, "card", data.get("card", {}))
    _known(source, "card", card, ("name", "version"))
    day = _table(source, "day", data.get("day", {}))
    _known(source, "day", day, ("timezone", "by", "service_hours", "closing_words"))
    tz = _text(source, "day.timezone", day.get("timezone", "Asia/Shanghai"))
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise _fail(
            source, "day.timezone", f"unknown time zone {tz!r}; use an IANA name such as Asia/Shanghai"
        ) from None
    by = _choice(source, "day.by", day.get("by", "reply"), DAY_BY)
    hours = _service_hours(source, day.get("service_hours", []))
    closing = _closing_words(source, day.get("closing_words", []))
    period = _table(source, "period", data.get("period", {}))
    _known(source, "period", period, ("appraisal",))
    appraisal = _choice(source, "period.appraisal", period.get("appraisal", "month"), PERIOD_KINDS)
    points_t = _table(source, "points", data.get("points", {}))
    _known(source, "points", points_t, ("decimals",))
    decimals = points_t.get("decimals", 0)
    if isinstance(decimals, bool) or not isinstance(decimals, int) or not 0 <= decimals <= 6:
        raise _fail(source, "points.decimals", f"expected a whole number 0..6, got {decimals!r}")

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
        if "rule" not in raw:
            # [items.avg_response] enabled = false turned nothing off: the real item charged on.
            raise _new_item_without_rule(source, item_id, [k for k in items_raw if k != item_id])
        # A disabled item is checked too: a typo in it surfaced only the day it was switched on.
        item = _item(source, item_id, raw)
        if enabled:
            items.append(item)
    for kind in min_score:
        if kind in order or kind in implies or kind in _RULE_KINDS:
            continue  # a rule's kind named as an item's evidence: that evidence is what is wrong
        evidence_of = next((i.id for i in items if i.evidence == kind), None)
        if evidence_of is not None:
            raise _fail(
                source,
                f"findings.min_score.{kind}",
                f"{kind!r} is the evidence of items.{evidence_of}: its findings are the item's events,"
                " with no score to compare; min_score is for the kinds a rule scores (impatience, conflict)",
            )
    _check_evidence(source, items, (*order, *implies, *min_score, "forbidden_phrase"))
    _check_limits_fit_decimals(source, items, decimals)
    named = _named_kinds(items_raw)
    for key, kinds in (
        ("findings.verdict_order", order),
        ("findings.implies_verdict", implies),
        ("findings.review_only", review_only),
        ("findings.min_score", tuple(min_score)),
    ):
        _check_kinds(source, key, kinds, named)
    _check_review_only(source, review_only, items)
    if implies and not order:
        # A forbidden phrase implies its entry's verdict only among the verdicts in the order:
        # with none, its charge as impatience stopped, unsaid.
        raise _fail(
            source,
            "findings.verdict_order",
            f"is empty, so findings.implies_verdict ({', '.join(implies)}) implies nothing: list the"
            ' verdicts, most severe first (verdict_order = ["conflict", "impatience"]), or set'
            " implies_verdict = []",
        )
    version = card.get("version", 1)
    if isinstance(version, bool) or not isinstance(version, int):
        raise _fail(source, "card.version", f"expected an integer, got {version!r}")
    return Scorecard(
        name=_text(source, "card.name", card.get("name", "scorecard")),
        version=version,
        day=DayRule(timezone=tz, by=by, service_hours=hours, closing_words=closing),
        min_score=MappingProxyType(min_score),
        default_min_score=default_min,
        verdict_order=order,
        implies_verdict=implies,
        items=tuple(items),
        data=copy.deepcopy(dict(data)),
        source=source,
        review_only=review_only,
        appraisal=appraisal,
        decimals=decimals,
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


# ----------------------------------------------------------------------------------- verdicts


def counted_kind(finding: Finding, card: Scorecard) -> str | None:
    """The verdict kind a finding counts toward, or ``None`` when it cannot cost points.

    A finding counts when it is live (not suppressed, not needs_review) and scores at least its
    kind's ``min_score``, or a reviewer confirmed it (:func:`mark_confirmed`). A finding of a
    kind in ``implies_verdict`` whose ``evidence.details["implies"]`` names a verdict kind counts
    toward that verdict.
    """
    return verdict_kind(finding, card) if qualifies(finding, card) else None


def verdict_kind(finding: Finding, card: Scorecard) -> str | None:
    """The verdict kind a finding stands for, charged or not: its own, or the one it implies."""
    if finding.kind in card.verdict_order:
        return finding.kind
    implied = finding.evidence.details.get("implies")
    if finding.kind in card.implies_verdict and implied in card.verdict_order:
        return implied
    return None


def qualifies(finding: Finding, card: Scorecard) -> bool:
    """True when a finding may count: live and at least its kind's ``min_score``, or confirmed in review."""
    return finding.live and (
        finding.score >= card.threshold(finding.kind) or finding.evidence.details.get("review") == CONFIRMED
    )


def held_back(finding: Finding, card: Scorecard) -> str | None:
    """Why the card holds back a finding its rule made live, or ``None`` when it does not.

    A kind in ``review_only``, or a score under the kind's ``min_score``: the finding costs
    nothing until the card changes, as a finding the model itself held for review.
    """
    if not finding.live or finding.evidence.details.get("review") == CONFIRMED:
        return None  # a reviewer confirmed it: nothing is left to be unsure of
    if finding.kind in card.review_only:
        return HELD_REVIEW_ONLY_CUE
    threshold = card.threshold(finding.kind)
    if finding.score < threshold:
        return f"{HELD_CUE_PREFIX}score {finding.score:g} under min_score {threshold:g}"
    return None


def mark_held(findings: Iterable[Finding], card: Scorecard) -> list[Finding]:
    """Findings with those the card holds back (:func:`held_back`) turned into held ones (pure).

    Every surface that shows stored findings (``qc show``, ``qc flagged``, the review queue,
    the workbench) then shows them as 待复核, as the scores count them, instead of as charged
    findings at 0 points; the queue serves them first, which is what ``review_only`` is for.
    The reason leads the cues, and a model summary that said 扣分 says 待复核. Stored findings
    are never rewritten: another card may charge them.
    """
    out = []
    for f in findings:
        why = held_back(f, card)
        if why is not None:
            ev = f.evidence
            summary = ev.summary.replace(CHARGED_HEAD, HELD_HEAD, 1)
            f = replace(f, needs_review=True, evidence=replace(ev, summary=summary, cues=(why, *ev.cues)))
        out.append(f)
    return out


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


def _verdict(
    conversation_id: str,
    message_index: int,
    agent: str,
    date: str,
    verdict: str | None,
    verdict_findings: tuple[str, ...],
    kinds: dict[str, tuple[str, ...]],
) -> MessageVerdict:
    return MessageVerdict(
        conversation_id, message_index, agent, date, verdict, verdict_findings, MappingProxyType(kinds)
    )


class AttributedFinding(NamedTuple):
    """A finding with the agent and day it is charged to (``qc.scoring.metrics`` attribution)."""

    finding: Finding
    agent: str
    date: str


def attribute(
    conversation: Conversation | None,
    findings: Iterable[Finding],
    card: Scorecard,
    days: Sequence[str] | None = None,
) -> list[AttributedFinding]:
    """Each finding with its agent and day: the finding's agent, else its message's, on the message's day.

    The day follows the card's day rule (``days`` is :func:`message_days` of the conversation
    when the caller has it). A finding whose conversation is unknown is ``undated``.
    """
    if conversation is not None and days is None:
        days = message_days(conversation, card.day)
    out = []
    for f in findings:
        if conversation is None or days is None or not 0 <= f.message_index < len(conversation.messages):
            out.append(AttributedFinding(f, f.agent or UNASSIGNED, UNDATED))
            continue
        agent = f.agent or conversation.messages[f.message_index].agent or unassigned_of(conversation)
        out.append(AttributedFinding(f, agent, days[f.message_index]))
    return out


def message_verdicts(
    conversations: Iterable[Conversation],
    findings: Iterable[Finding],
    card: Scorecard,
    days_cache: MutableMapping[str, list[str]] | None = None,
) -> list[MessageVerdict]:
    """Group findings by message and decide each message's verdict (most severe counted kind).

    ``days_cache`` maps conversation ids to their :func:`~qc.scoring.metrics.message_days` under the
    card's day rule: days already computed are reused, new ones are added.
    """
    convs = {c.id: c for c in conversations}
    days_cache = {} if days_cache is None else days_cache
    by_conv: dict[str, list[Finding]] = defaultdict(list)
    for f in findings:
        by_conv[f.conversation_id].append(f)
    attributed: list[AttributedFinding] = []
    for cid, group in by_conv.items():
        conv = convs.get(cid)
        if conv is not None and cid not in days_cache:
            days_cache[cid] = message_days(conv, card.day)
        attributed.extend(attribute(conv, group, card, days_cache.get(cid)))
    return verdicts_of(attributed, card)


def verdicts_of(findings: Iterable[AttributedFinding], card: Scorecard) -> list[MessageVerdict]:
    """One verdict per message with findings, sorted by day, agent, conversation and message.

    Evidence findings (``slow_response`` …) are left out: they back metric items, never a
    message's verdict, so they cannot change what the attitude rules decided.
    """
    evidence = card.evidence_kinds
    by_message: dict[tuple[str, int], list[AttributedFinding]] = defaultdict(list)
    for a in findings:
        if a.finding.kind not in evidence:
            by_message[(a.finding.conversation_id, a.finding.message_index)].append(a)
    out = []
    severity = {k: i for i, k in enumerate(card.verdict_order)}
    for (conv_id, index), members in by_message.items():
        agent, day = members[0].agent, members[0].date
        group = [a.finding for a in members]
        verdicts: dict[str, list[str]] = defaultdict(list)
        kinds: dict[str, list[str]] = defaultdict(list)
        for f in group:
            if qualifies(f, card):
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


# Review states and the decision words that lead to them (the supervision layer records them;
# scoring only needs to know that a rejected finding costs nothing and a confirmed one is sure).
CONFIRMED = "confirmed"
REJECTED = "rejected"
DECISIONS = {"confirm": CONFIRMED, "reject": REJECTED}
# The cue a rejected finding carries once review has turned it into a suppressed one.
REJECTED_CUE = "rejected in review"
# The cue a held finding carries once review has confirmed it, and charged it.
CONFIRMED_CUE = "confirmed in review"
# The cues of a finding the card holds back (:func:`held_back`): by its kind, or by its score.
HELD_CUE_PREFIX = "held by the scorecard: "
HELD_REVIEW_ONLY_CUE = HELD_CUE_PREFIX + "review_only"


def cost_if_confirmed(finding: Finding, card: Scorecard) -> float:
    """What a held finding would cost its message once a reviewer confirms it (0: nothing).

    The card's points for the verdict it counts toward (its kind, or the one a forbidden phrase
    implies), on every findings item: the review queue shows it beside a held item's 0, so the
    reviewer knows what a confirm will charge.
    """
    kind = verdict_kind(finding, card) or finding.kind
    return sum(item.points.get(kind, 0.0) for item in card.items if item.rule == "findings")


def apply_decisions(findings: Iterable[Finding], states: Mapping[str, str], card: Scorecard) -> list[Finding]:
    """Findings with the review states applied (pure): rejected ones suppressed, confirmed held ones charged.

    ``states`` maps finding ids to their latest review state (``finding_states``); the one way
    every surface that scores stored findings reads a decision.
    """
    rejected = {fid for fid, state in states.items() if state == REJECTED}
    confirmed = {fid for fid, state in states.items() if state == CONFIRMED}
    return mark_confirmed(mark_rejected(findings, rejected), confirmed, card)


def mark_confirmed(findings: Iterable[Finding], confirmed: Collection[str], card: Scorecard) -> list[Finding]:
    """Findings with the confirmed held ones charged (pure).

    A finding held for review (the model unsure of it, or the card holding its kind back with
    ``review_only`` or under ``min_score``) waits for a person: once a reviewer confirms it, or a
    ruling upholds it, it costs its points like any charged finding, as a 复核 that marks a
    machine's hit 违规 does. A suppressed finding (vetoed by its context) stays suppressed. Stored
    findings are never rewritten; the decision is applied wherever they are scored.
    """
    out = []
    for f in findings:
        if f.id in confirmed and not f.suppressed and (f.needs_review or held_back(f, card) is not None):
            ev = f.evidence
            details = {**ev.details, "review": CONFIRMED}
            summary = ev.summary.replace(HELD_HEAD, CHARGED_HEAD, 1)
            evidence = replace(ev, summary=summary, cues=(CONFIRMED_CUE, *ev.cues), details=details)
            f = replace(f, needs_review=False, evidence=evidence)
        out.append(f)
    return out


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


def describe_basis(basis: str | None) -> str:
    """A stored basis (:attr:`Scorecard.basis`) in words.

    For example ``days by reply in Asia/Shanghai, slow_response over 32 s``.
    """
    if basis is None:
        return "no basis (saved by a qc before schema 6, or days that match no day rule)"
    data: dict[str, Any] = json.loads(basis)
    words = [f"days by {data.get('by')} in {data.get('timezone')}"]
    if data.get("service_hours"):
        words.append(_hours_text(data["service_hours"]))
    if data.get("closing_words"):
        words.append(_closing_text(data["closing_words"]))
    words.extend(_evidence_text(kind, spec) for kind, spec in sorted(data.get("evidence", {}).items()))
    return ", ".join(words)


def basis_refusal(
    store: str, keys: list[tuple[str, str]], span: str, stored: str | None, card: str, wanted: str
) -> str:
    """Why stored days cannot be scored (or saved to) with a card of another basis, and the fixes.

    ``keys`` are the (shop, id) pairs saved with basis ``stored`` in the days ``span``;
    ``card`` names the scorecard whose basis is ``wanted``.
    """
    saved = json.loads(stored) if stored is not None else {}
    # Saved with service hours by an older qc (no closed_turns in its basis): no card scores them
    # as this qc does, so there is no card to go back to, whatever the card now asked for (audit
    # 167 L2: a card without hours was told to go back to the hours card, refused in turn).
    older = bool(saved.get("service_hours")) and "closed_turns" not in saved
    other_card = "" if older else ", or score them with the card they were saved with"
    return (
        f"store {store}: {len(keys)} conversation(s) stored for {span} (e.g. {keys[0][1]}) were saved"
        f" another way than scorecard {card} says ({basis_difference(stored, wanted)}): inspect"
        f" those days again with this scorecard (qc inspect FILES --out DIR --db … --scorecard …){other_card}"
    )


def basis_difference(stored: str | None, wanted: str) -> str:
    """What differs between two bases, in words: only that, not both whole (audit 153 L5).

    For example ``saved with slow_response over 32 s, this card has no slow_response (its item
    disabled)``.
    """
    if stored is None:
        return f"saved with {describe_basis(None)}"
    old, new = json.loads(stored), json.loads(wanted)
    said: list[str] = []
    if (old.get("by"), old.get("timezone")) != (new.get("by"), new.get("timezone")):
        said.append(
            f"saved with days by {old.get('by')} in {old.get('timezone')}, this card days by"
            f" {new.get('by')} in {new.get('timezone')}"
        )
    for key, text in (("service_hours", _hours_text), ("closing_words", _closing_text)):
        if old.get(key) != new.get(key):
            said.append(f"saved with {text(old.get(key))}, this card {text(new.get(key))}")
    if old.get("service_hours") and old.get("service_hours") == new.get("service_hours"):
        if old.get("closed_turns") != new.get("closed_turns"):
            said.append(
                "saved by an older qc that timed a turn asked and answered while the shop is shut as"
                " 0 s, this qc leaves it untimed"
            )
    saved, card = old.get("evidence", {}), new.get("evidence", {})
    for kind in sorted(set(saved) | set(card)):
        was = _evidence_text(kind, saved[kind]) if kind in saved else f"no {kind}"
        now = _evidence_text(kind, card[kind]) if kind in card else f"has no {kind} (its item disabled)"
        if saved.get(kind) != card.get(kind):
            said.append(f"saved with {was}, this card {now}")
    return "; ".join(said) or f"saved with {describe_basis(stored)}"


def _hours_text(spans: Any) -> str:
    if not spans:
        return "replies timed at any hour"
    return "replies timed within " + ", ".join(
        f"{a // 60:02d}:{a % 60:02d}-{b // 60:02d}:{b % 60:02d}" for a, b in spans
    )


def _closing_text(words: Any) -> str:
    return f"a last {'/'.join(words)} needs no reply" if words else "every last buyer message needs a reply"


def _evidence_text(kind: str, spec: Any) -> str:
    metric, limit = spec
    return f"{kind} over {limit:g} s" if limit is not None else f"{kind} ({metric})"
