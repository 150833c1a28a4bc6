"""``qc export``: score a stored day or period with the review decisions applied."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from qc.cli import app
from qc.cli._common import err, handle_errors, output_folder, print_agent_table
from qc.cli._store_opts import DEFAULT_DB, DbOption, open_db, scored_window, warn_other_scorecard


@app.command("export")
@handle_errors
def export_cli(
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Folder for agents.csv/.xlsx/.json and deductions.jsonl.")
    ],
    date: Annotated[
        str | None,
        typer.Option(help="One stored day, YYYY-MM-DD (the daily view), or `undated`: chats without times."),
    ] = None,
    period: Annotated[
        str | None,
        typer.Option(help="A period pooled: a month 2026-11, an ISO week 2026-W48 or a day 2026-11-24."),
    ] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="First day of a range, YYYY-MM-DD.")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Last day of a range, YYYY-MM-DD.")] = None,
    scorecard: Annotated[
        Path | None, typer.Option(help="Shop scorecard TOML merged over the default.")
    ] = None,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Score a stored day or period with review decisions applied and write the agents files.

    Same files and the same scoring function as `qc inspect`; a finding rejected in review
    (or overturned on appeal) no longer costs points. --date scores one day. --period (a
    month, an ISO week) or --from/--to scores the period by pooling it: the average response
    over all its timed turns, not an average of days. A period also writes the daily view
    (agents_daily.*, deductions_daily.jsonl). The per-agent table goes to stderr.

    \b
    Example:
        qc export --date 2026-11-24 --out out/2026-11-24-reviewed --db out/qc.sqlite
        qc export --period 2026-11 --out out/2026-11 --db out/qc.sqlite
        qc export --from 2026-11-20 --to 2026-11-26 --out out/week-48
    """  # noqa: D301 - the \b line keeps click from rewrapping the examples
    from qc.batch.stored import check_basis
    from qc.scoring.card import load_scorecard
    from qc.scoring.metrics import UNDATED
    from qc.supervise.review import export_scores

    window = scored_window(date, period, date_from, date_to)
    output_folder(out)
    card = load_scorecard(scorecard)
    with open_db(db) as store:
        # Refused before any warning about numbers it will not write (audit 153 L5).
        check_basis(store, card, window.first, window.last)
        warn_other_scorecard(store, card, window.first, window.last)
        # Messages without a time belong to no day, so to no period: say so, or their
        # charges vanish from every export while the inspection's daily table shows them.
        undated = {p.conversation_id for p in store.parts(UNDATED, UNDATED)}
        undated |= {s.finding.conversation_id for s in store.findings(date_from=UNDATED, date_to=UNDATED)}
        if undated and window.first != UNDATED:
            err(
                f"warning: {len(undated)} stored conversations have no time on their messages: they"
                " belong to no day and no period, so their messages, buyers and findings are in no"
                " row here; `qc export --date undated` scores them on their own, or give the export"
                " times (or --date for a file that has only clock times) and inspect them again"
            )
        result = export_scores(store, window, out, card)
    print_agent_table(result.rows, card, f"agents, {window.label} ({window.kind}; decisions applied)")
    rejected = len(result.rejected)
    err(
        f"{len(result.rows)} agent rows, {rejected} rejected finding{'' if rejected == 1 else 's'}"
        f" not charged → {out}"
    )
    if result.orphaned:
        err(
            # Of the whole store: a decision attached to nothing has no day left (audit 153 L4).
            f"{len(result.orphaned)} decided findings of the store, of any day, are no longer stored"
            " (orphaned): kept, charging nothing; listed in orphaned_decisions.jsonl and by"
            " `qc review log --orphaned`"
        )
