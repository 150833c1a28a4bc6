"""``qc show``: one stored conversation in the terminal with its findings highlighted."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from qc.cli import app
from qc.cli._common import handle_errors, plain, stdout_console
from qc.cli._store_opts import DEFAULT_DB, DbOption, MaskOption, open_db, warn_other_scorecard

_KIND_STYLE = {"conflict": "bold white on red", "impatience": "bold black on yellow"}
_DEFAULT_STYLE = "bold black on magenta"


@app.command("show")
@handle_errors
def show_cli(
    conversation_id: Annotated[str, typer.Argument(help="Conversation id (see `qc flagged`).")],
    explain: Annotated[
        bool, typer.Option("--explain", help="Also show suppressed and below-threshold findings, dimmed.")
    ] = False,
    mood: Annotated[bool, typer.Option("--mood/--no-mood", help="Score the buyer's mood (snownlp).")] = True,
    scorecard: Annotated[
        str | None, typer.Option(help="Shop scorecard TOML (points, slow-reply threshold).")
    ] = None,
    mask_pii: MaskOption = False,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Show a stored conversation with findings highlighted inline.

    Each finding shows its kind, the points at stake, the rule's explanation and its id (for
    `qc review`). Replies slower than the scorecard's response-time threshold are marked, and
    the buyer's mood (snownlp sentiment, 0 negative … 1 positive) is shown per message with
    its trend over the conversation.

    \b
    Example:
        qc show c20261124_000082 --db out/qc.sqlite
        qc show c20261124_000082 --explain --mask-pii
    """  # noqa: D301 - the \b line keeps click from rewrapping the examples
    from pathlib import Path

    from rich.text import Text

    from qc.scoring.card import load_scorecard
    from qc.scoring.scores import KIND_LABELS
    from qc.supervise.explain import why_zh
    from qc.supervise.masking import conversation_masker
    from qc.supervise.review import last_decisions
    from qc.supervise.transcript import as_decided, buyer_sentiments, charged_words, load_view
    from qc.text.pii import Masker

    mask = Masker(mask_pii)
    card = load_scorecard(Path(scorecard) if scorecard else None)
    item_labels = {i.id: i.label for i in card.items}
    with open_db(db) as store:
        view = load_view(
            store, conversation_id, card, explain=explain, sentiment=buyer_sentiments if mood else None
        )
        decided = [f.id for mv in view.messages for f in mv.findings if f.id in view.states]
        decisions = last_decisions(store, decided)
        days = [mv.local_time.date().isoformat() for mv in view.messages if mv.local_time]
        if days:  # the points shown are this card's: say so when the day was inspected with another
            warn_other_scorecard(store, card, min(days), max(days))
    mask = conversation_masker(mask, (mv.message for mv in view.messages), charged_words(view))
    # Piped or saved, a line is never wrapped: a finding id split at column 80 could not be copied
    # in one go (audit 162 L6).
    console = stdout_console(highlight=False, soft_wrap=not sys.stdout.isatty())
    conv = view.conversation
    console.print(
        Text(
            plain(
                f"conversation {mask.identifier(conv.id)}  shop {conv.shop or '–'}"
                f"  agents {', '.join(conv.agents) or '–'}"
            ),
            style="bold",
        )
    )
    shown_day = ""
    for mv in view.messages:
        m = mv.message
        day = mv.local_time.strftime("%Y-%m-%d") if mv.local_time else ""
        if day and day != shown_day:  # the shop's calendar day (the card's [day] timezone)
            console.print(Text(f"── {day} ──", style="dim"))
            shown_day = day
        when = mv.local_time.strftime("%H:%M:%S") if mv.local_time else "--:--:--"
        who = "买家" if m.role.value == "customer" and (mask_pii or not m.sender) else (m.sender or "")
        # Said in words as well as dim: piped, a 1 s welcome auto-reply read as the agent's own
        # reply just above a slow one (audit 162 L3).
        tag = " [自动回复 auto-reply]" if m.auto_reply and m.role.value != "system" else ""
        line = Text(
            plain(f"{when} {m.role.value:<8}{tag} {who}: " if who else f"{when} {m.role.value:<8}{tag}: "),
            style="dim" if m.auto_reply or m.role.value == "system" else "",
        )
        # Masked as one text: data a highlight cuts through is masked whole.
        for seg, piece in zip(mv.segments, mask.pieces([s.text for s in mv.segments]), strict=True):
            f = seg.finding
            if f is None:
                line.append(plain(piece))
            elif f.live:
                line.append(plain(piece), style=_KIND_STYLE.get(f.kind, _DEFAULT_STYLE))
            else:
                line.append(plain(piece), style="dim underline")
        if mv.sentiment is not None:
            line.append(f"  mood {mv.sentiment:.2f}", style="cyan")
        if mv.slow_s is not None:
            least = "at least " if mv.slow_at_least else ""  # times to the minute (audit 139 L1)
            line.append(
                f"  ⏱ slow reply {least}{mv.slow_s:.0f}s (> {view.slow_threshold_s:g}s)", style="bold red"
            )
        console.print(line)
        for f in mv.findings:
            state = view.states.get(f.id, "pending")
            # "live · review pending" read as not charged yet beside −5 pts (audit 164 L3).
            status = (
                ("charged" if view.points.get(f.id) else "counts, 0 pts")
                if f.live
                else "rejected"
                if state == "rejected"  # a decision, not the context: said as one
                else "suppressed"
                if f.suppressed
                else "held for review (待复核)"
            )
            shown = mv.points_shown(f, view.points)
            reason = why_zh(f, item_labels, KIND_LABELS, mv.charged_instead(f))
            same = ""
            if f.id in mv.same_as_above:
                same = " (besides the charge listed above, 同上)" if shown else " (同上: the charge above)"
            detail = Text(
                plain(
                    f"    ▲ {f.kind} {shown:g} pts{same}"
                    f" · {f.entry or f.version or f.rule} · {status}"
                    f" · review {'not yet' if state == 'pending' else state}"
                    f" · id {f.id}\n      {mask(as_decided(reason, state))}"
                    # the rule's own words, for whoever checks the rule (the workbench's 原文 detail)
                    + (
                        f"\n      原文 detail: {mask(f.evidence.summary)}"
                        if explain and f.evidence.summary not in reason
                        else ""
                    )
                ),
                style="" if f.live else "dim",
            )
            console.print(detail)
            row = decisions.get(f.id)
            if row is not None:
                why = f": {mask(row['note'])}" if row["note"] else ""
                console.print(
                    Text(plain(f"      {row['state_after']} by {row['actor']} at {row['at']}{why}"))
                )
        if mv.shared_charge:
            console.print(
                Text(f"    = its verdict costs {mv.charge:g} pts once: the findings behind it share it")
            )
    if view.mood:
        trend = view.mood_trend
        arrow = "→" if trend is None or abs(trend) < 0.1 else ("↑ better" if trend > 0 else "↓ worse")
        console.print(
            Text(
                f"buyer mood: {' '.join(f'{s:.2f}' for s in view.mood)}  trend {arrow}"
                + (f" ({trend:+.2f})" if trend is not None else ""),
                style="cyan",
            )
        )
    console.print(
        Text(
            f"findings: {sum(len(mv.findings) for mv in view.messages)}  slow replies: "
            f"{sum(1 for mv in view.messages if mv.slow_s is not None)}",
            style="bold",
        )
    )
