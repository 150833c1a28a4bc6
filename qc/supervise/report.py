"""The HTML coaching report (``qc report``): one self-contained file, no scripts, no assets.

Charts are inline SVG, styles inline CSS. Every text that comes from a chat, an id, an agent
name or a lexicon is escaped with :func:`html.escape`, so a message containing ``<script>``
shows as text. Scores come from the store with the review decisions applied, through the one
scoring function ``qc export`` uses: the range pooled as one window (the agents table, the
points by kind, the points at stake of each conversation, as ``qc flagged`` lists them) and
each day on its own (the daily table and the trend), so a rejected finding no longer appears
as a deduction. Suggestions come from ``lexicons/reply_patterns.toml``.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date as Date
from datetime import timedelta
from html import escape
from pathlib import Path
from typing import Any

from qc.batch.stored import score_stored
from qc.errors import ConfigError
from qc.outputs.atomic import write_text_replacing
from qc.outputs.writers import short_agent_names, summary_table
from qc.paths import lexicons_dir
from qc.schema import Finding
from qc.scoring.periods import Windows, range_period
from qc.scoring.scores import KIND_LABELS
from qc.store.database import Store
from qc.supervise.explain import why_zh
from qc.supervise.flagged import flagged_conversations
from qc.supervise.masking import conversation_masker
from qc.supervise.people import is_unassigned
from qc.supervise.states import state_label
from qc.supervise.transcript import MessageView, as_decided, build_view, charged_words
from qc.text.pii import Masker

__all__ = [
    "bar_chart",
    "line_chart",
    "weekly_series",
    "ReplyPatterns",
    "load_reply_patterns",
    "ReportData",
    "collect_report",
    "render_report",
    "write_report",
]

_COLORS = ("#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#4b5563")
# After the eighth line the colours come round again, dashed.
_DASHES = ("", ' stroke-dasharray="6 3"', ' stroke-dasharray="2 3"', ' stroke-dasharray="8 3 2 3"')
_CSS = """
body{font-family:-apple-system,"PingFang SC","Noto Sans CJK SC","WenQuanYi Micro Hei","Microsoft YaHei",
sans-serif;
margin:24px;color:#1f2937;max-width:1180px}
h1{font-size:22px}h2{font-size:18px;border-bottom:1px solid #e5e7eb;padding-bottom:4px;margin-top:28px}
.meta{color:#6b7280;font-size:13px}.charts{display:flex;flex-wrap:wrap;gap:24px}
.chart{border:1px solid #e5e7eb;border-radius:6px;padding:8px}
.conv{border:1px solid #e5e7eb;border-radius:6px;padding:10px 14px;margin:14px 0}
.conv h3{font-size:15px;margin:0 0 6px}.pts{color:#b91c1c;font-weight:bold}
.msg{margin:4px 0;padding:4px 8px;border-radius:4px;font-size:14px;white-space:pre-wrap}
.msg.customer{background:#f3f4f6}.msg.agent{background:#eff6ff}.msg.system{color:#6b7280;font-size:12px}
.msg.flagged{border-left:4px solid #dc2626}.who{color:#6b7280;font-size:12px;margin-right:6px}
mark{padding:0 2px;border-radius:3px}mark.k-conflict{background:#fecaca}mark.k-impatience{background:#fde68a}
mark.k-other{background:#f5d0fe}mark.held{background:#e5e7eb;text-decoration:line-through}
.finding{font-size:13px;margin:2px 0 6px 18px;color:#374151}
.slow{color:#b91c1c;font-size:12px;margin-left:6px}
.better{font-size:13px;margin:2px 0 8px 18px;padding:4px 8px;background:#f0fdf4;border-left:3px solid #16a34a}
.charge{font-size:13px;margin:2px 0 8px 18px;color:#991b1b;font-weight:600}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #e5e7eb;padding:3px 8px;text-align:left}
.state-rejected{color:#6b7280;text-decoration:line-through}
"""


@dataclass(frozen=True, slots=True)
class Pattern:
    """A better way to say it: what to avoid, why, model replies."""

    key: str
    label: str
    why: str
    better: tuple[str, ...]
    instead_of: str = ""
    # What the suggestion opens with in place of 不说「the flagged reply」: for a finding about a
    # message never sent (a hand-over), whose reply was no fault of its own (audit 162 L8).
    lead: str = ""


@dataclass(frozen=True, slots=True)
class ReplyPatterns:
    """The documented reply patterns and the report's window settings."""

    kinds: dict[str, Pattern]
    entries: dict[str, Pattern]
    context_messages: int
    max_conversations: int

    def for_finding(self, finding: Finding) -> Pattern | None:
        """The suggestion for a finding: its entry's, else its (implied) kind's."""
        if finding.entry and finding.entry in self.entries:
            return self.entries[finding.entry]
        implied = finding.evidence.details.get("implies")
        by_implied = self.kinds.get(implied) if isinstance(implied, str) else None
        return by_implied or self.kinds.get(finding.kind)


def _pattern(where: str, key: str, data: Any) -> Pattern:
    if not isinstance(data, dict):
        raise ConfigError(f"{where}.{key}: must be a table of label, why, better, instead_of, lead")
    _known_keys(data, ("label", "why", "better", "instead_of", "lead"), f"{where}.{key}")
    better = data.get("better", ())
    better = [better] if isinstance(better, str) else better
    texts = {
        "label": data.get("label", key),
        "why": data.get("why", ""),
        "instead_of": data.get("instead_of", ""),
        "lead": data.get("lead", ""),
    }
    if not isinstance(better, list) or not all(isinstance(b, str) for b in better):
        raise ConfigError(f"{where}.{key}.better: must be a list of example replies")
    for name, value in texts.items():
        if not isinstance(value, str):
            raise ConfigError(f"{where}.{key}.{name}: must be text, got {value!r}")
    return Pattern(key=key, better=tuple(better), **texts)


def _known_keys(table: dict[str, Any], known: tuple[str, ...], where: str) -> None:
    unknown = sorted(set(table) - set(known))
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r}; known: {', '.join(known)}")


def _count(where: str, value: Any, lowest: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < lowest:
        raise ConfigError(f"{where}: must be a whole number of {lowest} or more, got {value!r}")
    return value


def load_reply_patterns(path: Path | None = None) -> ReplyPatterns:
    """Read ``lexicons/reply_patterns.toml`` (or another file of the same format).

    Checked as the other files a shop edits are (audit 104 H4, M3): a misspelt key was ignored
    and the code's number used, ``max_conversations = -5`` listed all but five conversations, and
    a BOM or a wrong type was an internal error.

    Raises:
        ConfigError: naming the file, the key and the fix.
    """
    from qc.readers.encoding import read_config_toml

    source = path or lexicons_dir() / "reply_patterns.toml"
    data = read_config_toml(source, "reply patterns")
    try:
        _known_keys(data, ("version", "report", "kinds", "entries"), "the top level")
        report = data.get("report")
        if isinstance(report, dict):  # a misspelt key first: it says what the missing one is
            _known_keys(report, ("context_messages", "max_conversations"), "[report]")
        if not isinstance(report, dict) or {"context_messages", "max_conversations"} - set(report):
            raise ConfigError(
                "[report] needs context_messages (messages shown before each finding, such as 3)"
                " and max_conversations (conversations a report shows, such as 60)"
            )
        tables = {name: data.get(name, {}) for name in ("kinds", "entries")}
        for name, table in tables.items():
            if not isinstance(table, dict):
                raise ConfigError(f"[{name}]: must hold tables such as [{name}.impatience]")
        return ReplyPatterns(
            kinds={k: _pattern("kinds", k, v) for k, v in tables["kinds"].items()},
            entries={k: _pattern("entries", k, v) for k, v in tables["entries"].items()},
            context_messages=_count("[report] context_messages", report["context_messages"], 0),
            max_conversations=_count("[report] max_conversations", report["max_conversations"], 1),
        )
    except ConfigError as bad:
        raise ConfigError(f"reply patterns {source}: {bad}") from None


@dataclass(slots=True)
class ReportData:
    """Everything the report shows, gathered from the store."""

    date_from: str
    date_to: str
    agent: str | None
    scores: dict[str, dict[str, float]] = field(default_factory=dict)  # agent → day → total score
    by_kind: dict[str, float] = field(default_factory=dict)  # kind or item → points (negative)
    views: list[Any] = field(default_factory=list)  # ConversationView, worst first
    flagged_total: int = 0
    rejected: int = 0
    rows: list[dict[str, Any]] = field(default_factory=list)  # the range pooled, one row per agent
    daily_rows: list[dict[str, Any]] = field(default_factory=list)  # each day on its own
    weekly_rows: list[dict[str, Any]] = field(default_factory=list)  # each ISO week (its days in range)
    weeks: list[str] = field(default_factory=list)  # the ISO week labels, in order
    card: Any = None


def _days(date_from: str, date_to: str) -> list[str]:
    lo, hi = Date.fromisoformat(date_from), Date.fromisoformat(date_to)
    return [(lo + timedelta(days=i)).isoformat() for i in range((hi - lo).days + 1)]


def collect_report(
    store: Store,
    date_from: str,
    date_to: str,
    card: Any,
    *,
    agent: str | None = None,
    max_conversations: int = 60,
) -> ReportData:
    """Score the range pooled and day by day (decisions applied) and lay out the flagged conversations."""
    data = ReportData(date_from, date_to, agent, card=card)
    labels = {i.id: i.label for i in card.items}
    window = range_period(date_from, date_to)
    daily = score_stored(store, card, date_from, date_to)
    pooled = (
        daily if window.kind == "day" else score_stored(store, card, date_from, date_to, Windows.only(window))
    )

    def mine(who: str) -> bool:
        return agent is None or who == agent

    weekly = score_stored(store, card, date_from, date_to, Windows.every("week"))
    data.weeks = sorted(weekly.scores.windows, key=lambda label: weekly.scores.windows[label].first)
    data.weekly_rows = [r for r in weekly.scores.rows if mine(r["agent"])]
    data.daily_rows = [r for r in daily.scores.rows if mine(r["agent"])]
    data.rows = [r for r in pooled.scores.rows if mine(r["agent"])]
    for row in data.daily_rows:
        if not is_unassigned(row["agent"]):  # the shop's unanswered buyers: nobody's score
            data.scores.setdefault(row["agent"], {})[row["date"]] = row["total_score"]
    for d in pooled.scores.deductions:
        if mine(d.agent):
            key = f"{KIND_LABELS.get(d.kind, d.kind)} {d.kind}" if d.kind else labels.get(d.item, d.item)
            data.by_kind[key] = round(data.by_kind.get(key, 0.0) + d.points, 6)
    data.rejected = len(pooled.rejected_here(agent))
    flagged = flagged_conversations(store, agent=agent, date_from=date_from, date_to=date_to, card=card)
    data.flagged_total = len(flagged)
    chosen = flagged[:max_conversations]
    convs = store.conversations([f.conversation_id for f in chosen])
    stakes, parts = pooled.stakes(card), pooled.parts(card)
    by_conv: dict[str, list[Finding]] = {}
    for s in pooled.findings:
        by_conv.setdefault(s.finding.conversation_id, []).append(s.finding)
    for fc in chosen:
        findings = by_conv.get(fc.conversation_id, [])
        view = build_view(
            convs[fc.conversation_id],
            findings,
            card,
            states=pooled.states,
            explain=True,
            stakes=stakes,
            parts=parts,
        )
        data.views.append((fc, view))
    return data


def _table(rows: Sequence[dict[str, Any]], card: Any, table_id: str) -> str:
    """The agents' rows as the scorecard table, then the shops' unanswered buyers apart.

    A shop's ``unassigned`` is no person: in the 考核表 people paste into the month's scorecard
    it read as an agent with a total score of 40 and a reply-rate deduction. It is listed under
    the table with what it is about: the buyers nobody answered.
    """
    agents = [r for r in rows if not is_unassigned(str(r["agent"]))]
    headers, cells = summary_table(agents, card)
    out = [
        f'<table id="{escape(table_id)}"><tr>' + "".join(f"<th>{escape(h)}</th>" for h in headers) + "</tr>"
    ]
    for line in cells:
        out.append("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in line) + "</tr>")
    out.append("</table>")
    nobody = [r for r in rows if is_unassigned(str(r["agent"]))]
    if nobody:
        out.append(
            f'<table id="{escape(table_id)}-unanswered" class="unanswered">'
            "<tr><th>店铺 shop</th><th>日期 date</th><th>无人接待的买家 buyers nobody answered</th>"
            "<th>未回复轮次 turns without a reply</th></tr>"
        )
        for r in nobody:
            cells_ = (r.get("shop") or "", r["date"], r.get("buyers_received", 0), r.get("turns", 0))
            out.append("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in cells_) + "</tr>")
        out.append("</table>")
    return "".join(out)


# ------------------------------------------------------------------------------------ charts


def _svg_open(w: int, h: int, title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img"'
        f' aria-label="{escape(title)}">'
    )


def _line_chart(series: dict[str, dict[str, float]], days: Sequence[str], title: str) -> str:
    """An inline SVG line chart: one line per series over ``days`` (any labels, in order).

    Each line is labelled with the name the tables show (two shops' 小二 stay apart), the chart
    grows to hold every legend entry, and lines past the palette are dashed, so twenty agents
    are twenty lines a reader can tell apart. A shop's ``unassigned`` has no score to trend.
    """
    series = {name: points for name, points in series.items() if not is_unassigned(name)}
    shown = short_agent_names(series)
    w, h, left, bottom, top, right = 620, 240, 48, 40, 28, 190
    h = max(h, top + 12 + len(series) * 14 + 8)
    values = [v for s in series.values() for v in s.values()]
    if not values:
        return _svg_open(w, 60, title) + f'<text x="8" y="30">{escape(title)}: no data</text></svg>'
    lo, hi = min(values), max(values)
    if hi == lo:
        lo, hi = lo - 1, hi + 1
    plot_w, plot_h = w - left - right, h - top - bottom

    def x(i: int) -> float:
        return left + (plot_w * i / (len(days) - 1) if len(days) > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top + plot_h * (hi - v) / (hi - lo)

    parts = [
        _svg_open(w, h, title),
        f'<text x="{left}" y="16" font-size="13" font-weight="bold">{escape(title)}</text>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#9ca3af"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#9ca3af"/>',
    ]
    for v in (lo, (lo + hi) / 2, hi):
        parts.append(
            f'<text x="{left - 4}" y="{y(v) + 4:.1f}" font-size="10" text-anchor="end">{v:.1f}</text>'
        )
    step = max(1, len(days) // 8)
    for i, d in enumerate(days):
        if i % step == 0 or i == len(days) - 1:
            parts.append(
                f'<text x="{x(i):.1f}" y="{top + plot_h + 14}" font-size="10" text-anchor="middle">'
                f"{escape(d[5:])}</text>"
            )
    for n, (name, points) in enumerate(sorted(series.items())):
        color = _COLORS[n % len(_COLORS)]
        dash = _DASHES[n // len(_COLORS) % len(_DASHES)]
        coords = [(x(i), y(points[d])) for i, d in enumerate(days) if d in points]
        if len(coords) > 1:
            path = " ".join(f"{a:.1f},{b:.1f}" for a, b in coords)
            parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2"{dash} points="{path}"/>')
        for a, b in coords:
            parts.append(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="3" fill="{color}"/>')
        ly = top + 12 + n * 14
        label = shown[name] if len(shown[name]) <= 15 else "…" + shown[name][-14:]
        parts.append(
            f'<line x1="{w - right + 6}" y1="{ly - 4}" x2="{w - right + 20}" y2="{ly - 4}"'
            f' stroke="{color}" stroke-width="3"{dash}/>'
        )
        parts.append(
            f'<text x="{w - right + 24}" y="{ly}" font-size="11"><title>{escape(name)}</title>'
            f"{escape(label)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _bar_chart(values: dict[str, float], title: str) -> str:
    """An inline SVG bar chart of (negative) points by name, largest loss first."""
    items = sorted(values.items(), key=lambda kv: kv[1])
    w, row, left = 460, 24, 150
    h = 30 + row * max(1, len(items))
    parts = [
        _svg_open(w, h, title),
        f'<text x="4" y="16" font-size="13" font-weight="bold">{escape(title)}</text>',
    ]
    if not items:
        parts.append('<text x="4" y="40" font-size="12">no deductions</text>')
    biggest = max((abs(v) for _, v in items), default=1) or 1
    for i, (name, v) in enumerate(items):
        yy = 26 + i * row
        bw = (w - left - 60) * abs(v) / biggest
        parts.append(
            f'<text x="{left - 6}" y="{yy + 14}" font-size="11" text-anchor="end">{escape(name)}</text>'
        )
        parts.append(f'<rect x="{left}" y="{yy + 3}" width="{bw:.1f}" height="15" fill="#dc2626"/>')
        parts.append(f'<text x="{left + bw + 4:.1f}" y="{yy + 14}" font-size="11">{v:.4g}</text>')
    parts.append("</svg>")
    return "".join(parts)


def weekly_series(rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Each agent's total score per window label, for the trend chart."""
    series: dict[str, dict[str, float]] = {}
    for row in rows:
        series.setdefault(row["agent"], {})[row["date"]] = row["total_score"]
    return series


# The workbench draws the same charts (qc.serve).
line_chart = _line_chart
bar_chart = _bar_chart

# ------------------------------------------------------------------------------------ render


def _mark_class(f: Finding) -> str:
    if not f.live:
        return "held"
    kind = f.evidence.details.get("implies") or f.kind
    return f"k-{kind}" if kind in ("conflict", "impatience") else "k-other"


def _render_conversation(
    fc: Any, view: Any, patterns: ReplyPatterns, mask: Masker, item_labels: Mapping[str, str] | None = None
) -> str:
    conv = view.conversation
    mask = conversation_masker(mask, (mv.message for mv in view.messages), charged_words(view))
    flagged_idx = [mv.message.index for mv in view.messages if mv.flagged]
    keep: set[int] = set()
    for i in flagged_idx:
        keep.update(range(max(0, i - patterns.context_messages), i + 2))
    # Some exports make the id from the buyer's phone: masked as the workbench masks it.
    shown_id = escape(mask.identifier(conv.id))
    out = [
        f'<div class="conv" id="conv-{shown_id}"><h3>{shown_id} · {escape(fc.date)} · '
        f'{escape(", ".join(fc.agents))} · <span class="pts">{fc.points:g} 分</span></h3>'
    ]
    shown_last = -1
    for mv in view.messages:
        m = mv.message
        if m.index not in keep:
            continue
        if m.index > shown_last + 1:
            out.append('<div class="meta">…</div>')
        shown_last = m.index
        # Masked as one text: data a highlight cuts through is masked whole.
        pieces = mask.pieces([s.text for s in mv.segments])
        body = "".join(
            f'<mark class="{_mark_class(s.finding)}" title="{escape(s.finding.kind)}">{escape(piece)}</mark>'
            if s.finding is not None
            else escape(piece)
            for s, piece in zip(mv.segments, pieces, strict=True)
        )
        when = mv.local_time.strftime("%H:%M:%S") if mv.local_time else ""
        if mv.local_time and mv.local_time.date().isoformat() != fc.date:
            when = mv.local_time.strftime("%m-%d ") + when  # another day than the heading's
        hide_buyer = mask.enabled and m.role.value == "customer"
        who = escape("买家" if hide_buyer else (m.sender or m.role.value))
        slow = (
            f'<span class="slow">慢回复 {"至少 " if mv.slow_at_least else ""}{mv.slow_s:.0f} 秒'
            f" (&gt; {view.slow_threshold_s:g} 秒)</span>"
            if mv.slow_s is not None
            else ""
        )
        cls = f"msg {escape(m.role.value)}" + (" flagged" if mv.flagged else "")
        out.append(
            f'<div class="{cls}" data-index="{m.index}"><span class="who">{escape(when)} {who}</span>'
            f"{body}{slow}</div>"
        )
        for f in mv.findings:
            state = view.states.get(f.id, "pending")
            status = "" if f.live else " · 未计分"
            reason = why_zh(f, item_labels or {}, KIND_LABELS, mv.charged_instead(f))
            # the rule's own words, for whoever checks the rule, as the workbench shows them
            detail = (
                ""
                if f.evidence.summary in reason
                else f"<details><summary>原文 detail</summary>{escape(mask(f.evidence.summary))}</details>"
            )
            out.append(
                f'<div class="finding state-{escape(state)}">'
                f"▲ {escape(f.kind)} · {escape(f.entry or f.version or f.rule)} · "
                f"{mv.points_shown(f, view.points):g} 分{_same_as_above(mv, f, view.points)}"
                f" · 复核: {escape(state_label(state))}{status} · "
                f"<code>{escape(f.id)}</code><br>{escape(mask(as_decided(reason, state)))}{detail}</div>"
            )
            p = patterns.for_finding(f) if f.live else None
            if p is not None:
                better = "<br>".join(f"✔ {escape(b)}" for b in p.better)
                head = escape(p.lead) if p.lead else f"不说「{escape(mask(f.text or p.instead_of))}」："
                out.append(f'<div class="better">{head}{escape(p.why)}<br>{better}</div>')
        if mv.shared_charge:
            out.append(
                f'<div class="charge">这条消息实扣 {mv.charge:g} 分：'
                "以上发现指向同一次扣分，同一条消息只按最重的一项扣一次。</div>"
            )
    out.append("</div>")
    return "".join(out)


def _same_as_above(mv: MessageView, finding: Finding, points: Mapping[str, float]) -> str:
    """What a finding sharing its message's charge after the first says beside its points."""
    if finding.id not in mv.same_as_above:
        return ""
    return " (另计；其余同上)" if mv.points_shown(finding, points) else " (同上)"


def content_security_policy() -> str:
    """The report's Content-Security-Policy: nothing may load or run but its own stylesheet.

    The report is a file opened from disk or mail, full of buyers' words; if escaping ever
    missed something, no script runs, nothing is fetched and no form is sent. The one inline
    ``<style>`` is allowed by its SHA-256, not by ``'unsafe-inline'``.
    """
    digest = base64.b64encode(hashlib.sha256(_CSS.encode("utf-8")).digest()).decode("ascii")
    return (
        f"default-src 'none'; style-src 'sha256-{digest}'; img-src data:; base-uri 'none'; form-action 'none'"
    )


def render_report(data: ReportData, patterns: ReplyPatterns, mask: Masker | None = None) -> str:
    """The report as one HTML string (inline CSS and SVG, no scripts)."""
    mask = mask or Masker(False)
    days = _days(data.date_from, data.date_to)
    who = data.agent or "全部客服"
    title = f"质检辅导报告 · {who} · {data.date_from} – {data.date_to}"
    parts = [
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{content_security_policy()}">',
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="meta">{data.flagged_total} 个被标记的会话 · '
        f"复核驳回的发现不计分 ({data.rejected} 条已驳回)</p>",
        '<h2>得分趋势与扣分构成</h2><div class="charts">',
        '<div class="chart" id="chart-trend">'
        f"{_line_chart(data.scores, days, '每日合计得分 (score per day)')}"
        "</div>",
        f'<div class="chart" id="chart-kinds">{_bar_chart(data.by_kind, "按类型扣分 (points by kind)")}'
        "</div>",
        "</div>",
    ]
    if data.card is not None:
        span = f"{escape(data.date_from)} – {escape(data.date_to)}"
        parts.append(f"<h2>考核表 (the range scored as one period: {span})</h2>")
        parts.append(_table(data.rows, data.card, "agents-period"))
        parts.append(
            "<h2>每周趋势 (weekly trend: each ISO week pooled, its days inside the range)</h2>"
            '<div class="charts"><div class="chart" id="chart-weekly">'
            f"{_line_chart(weekly_series(data.weekly_rows), data.weeks, '每周合计得分 (score per week)')}"
            "</div></div>"
        )
        parts.append(_table(data.weekly_rows, data.card, "agents-weekly"))
        if data.date_from != data.date_to:
            parts.append("<h2>每日 (daily view)</h2>")
            parts.append(_table(data.daily_rows, data.card, "agents-daily"))
    used: dict[str, Any] = {}
    for _, view in data.views:
        for mv in view.messages:
            for f in mv.findings:
                p = patterns.for_finding(f) if f.live else None
                if p is not None:
                    used.setdefault(p.key, p)
    if used:
        parts.append(
            "<h2>更好的说法 (better ways to say it)</h2>"
            "<table><tr><th>类型/条目</th><th>不要说</th><th>为什么</th><th>可以这样说</th></tr>"
        )
        for key, p in sorted(used.items()):
            parts.append(
                f"<tr><td>{escape(key)} {escape(p.label if p.label != key else '')}</td>"
                f"<td>{escape(p.instead_of)}</td>"
                f"<td>{escape(p.why)}</td><td>{'<br>'.join(escape(b) for b in p.better)}</td></tr>"
            )
        parts.append("</table>")
    parts.append(
        f"<h2>被标记的会话 (flagged conversations, worst first: {len(data.views)} of {data.flagged_total})"
        "</h2>"
    )
    if not data.views:
        parts.append('<p class="meta">no flagged conversation in this range</p>')
    item_labels = {i.id: i.label for i in data.card.items} if data.card is not None else {}
    for fc, view in data.views:
        parts.append(_render_conversation(fc, view, patterns, mask, item_labels))
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(
    store: Store,
    out: Path,
    date_from: str,
    date_to: str,
    card: Any,
    *,
    agent: str | None = None,
    mask: Masker | None = None,
    patterns: ReplyPatterns | None = None,
) -> ReportData:
    """Collect, render and write the report to ``out``; returns what it showed."""
    patterns = patterns or load_reply_patterns()
    data = collect_report(
        store, date_from, date_to, card, agent=agent, max_conversations=patterns.max_conversations
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    write_text_replacing(out, render_report(data, patterns, mask))
    return data
