"""``qc export``: re-score a stored day with the review decisions applied."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from qc.cli import app
from qc.cli._common import err, handle_errors, output_folder
from qc.cli._store_opts import DEFAULT_DB, DbOption, open_db


@app.command("export")
@handle_errors
def export_cli(
    date: Annotated[str, typer.Option(help="Stored day, YYYY-MM-DD.")],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Folder for agents.csv/.xlsx/.json and deductions.jsonl.")
    ],
    scorecard: Annotated[
        Path | None, typer.Option(help="Shop scorecard TOML merged over the default.")
    ] = None,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Re-score a stored day with review decisions applied and write the agents files.

    Same files and scorer as `qc inspect`; a finding rejected in review (or overturned on
    appeal) no longer costs points.

    \b
    Example:
        qc export --date 2026-11-24 --out out/2026-11-24-reviewed --db out/qc.sqlite
    """  # noqa: D301 - the \b line keeps click from rewrapping the examples
    from qc.cli.flagged_cmd import date_range
    from qc.scoring.card import load_scorecard
    from qc.supervise.review import export_day

    date_range(date, None, None)
    output_folder(out)
    card = load_scorecard(scorecard)
    store = open_db(db)
    try:
        result = export_day(store, date, out, card)
    finally:
        store.close()
    err(f"{len(result.rows)} agent rows, {len(result.rejected)} rejected findings not charged → {out}")
