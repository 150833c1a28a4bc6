"""HTML pieces the templates use: charts, highlighted text, the class of a finding's mark.

Every text from a chat, a name or an id is escaped here (or by Jinja2's autoescape in the
templates); what these functions return is marked safe only after escaping.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from html import escape

from markupsafe import Markup

from qc.schema import Finding
from qc.supervise.report import bar_chart, line_chart
from qc.text.tokens import fold

__all__ = ["highlight", "kinds_chart", "mark_class", "mood_chart", "trend_chart"]


def trend_chart(series: dict[str, dict[str, float]], labels: Sequence[str], title: str) -> Markup:
    """A line chart of total scores per window (the report's chart, inline SVG)."""
    return Markup(line_chart(series, list(labels), title))


def kinds_chart(values: dict[str, float]) -> Markup:
    """Points lost by kind as a bar chart (inline SVG)."""
    return Markup(bar_chart(values, "按类型扣分 (points by kind)"))


def mood_chart(mood: Sequence[float]) -> Markup:
    """The buyer's mood (snownlp, 0 negative … 1 positive) over the conversation, as a small SVG."""
    if len(mood) < 2:
        return Markup("")
    w, h, pad = 240, 60, 6
    step = (w - 2 * pad) / (len(mood) - 1)
    points = " ".join(f"{pad + i * step:.1f},{pad + (h - 2 * pad) * (1 - v):.1f}" for i, v in enumerate(mood))
    trend = mood[-1] - mood[0]
    color = "#16a34a" if trend > 0.1 else "#dc2626" if trend < -0.1 else "#6b7280"
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img" aria-label="buyer mood"'
        f' class="mood"><line x1="{pad}" y1="{h / 2}" x2="{w - pad}" y2="{h / 2}" stroke="#e5e7eb"/>'
        f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{points}"/></svg>'
    )


def mark_class(f: Finding) -> str:
    """The CSS class of a finding's highlight: by kind (an implied verdict counts), held ones grey."""
    if not f.live:
        return "held"
    kind = f.evidence.details.get("implies") or f.kind
    if kind in ("conflict", "impatience", "slow_response", "missed_reply", "forbidden_phrase"):
        return f"k-{kind}"
    return "k-other"


def highlight(
    text: str, terms: Sequence[str], mask: Callable[[str], str] = lambda s: s, limit: int | None = None
) -> Markup:
    """``text`` (masked first) with every occurrence of the search terms marked, escaped.

    A mask is not the buyer's words: a term inside one (买 in [买家]) is not marked. With
    ``limit``, a longer text shows that many characters around its first match, … where it is
    cut: one hit on a 20,000-character reply was a 320 KB page (audit 161 L5).
    """
    shown = mask(text)
    folded = fold(shown)
    labels = getattr(mask, "labels", ())
    masks = (
        [(m.start(), m.end()) for m in re.finditer("|".join(map(re.escape, labels)), shown)] if labels else []
    )
    spans: list[tuple[int, int]] = []
    for term in sorted({fold(t) for t in terms if t}, key=len, reverse=True):
        start = folded.find(term)
        while start >= 0:
            end = start + len(term)
            if all(end <= s or start >= e for s, e in (*spans, *masks)):
                spans.append((start, end))
            start = folded.find(term, end)
    spans.sort()
    lo, hi = 0, len(shown)
    if limit is not None and len(shown) > limit:
        first = spans[0][0] if spans else 0
        lo = max(0, min(first - limit // 4, len(shown) - limit))
        hi = lo + limit
        spans = [(max(s, lo), min(e, hi)) for s, e in spans if s < hi and e > lo]
    out, pos = ["…" if lo else ""], lo
    for s, e in spans:
        out.append(escape(shown[pos:s]))
        out.append(f'<mark class="hit">{escape(shown[s:e])}</mark>')
        pos = e
    out.append(escape(shown[pos:hi]))
    out.append("…" if hi < len(shown) else "")
    return Markup("".join(out))


# Review and appeal states as the Chinese pages name them (the English word kept beside).
