"""``qc report``: the self-contained HTML coaching report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from qc.cli import app
from qc.cli._common import err, handle_errors, output_file
from qc.cli._store_opts import DEFAULT_DB, DbOption, open_db, warn_other_scorecard
from qc.errors import ConfigError
from qc.outputs.atomic import is_stream


@app.command("report")
@handle_errors
def report_cli(
    date_from: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD.")],
    date_to: Annotated[str, typer.Option("--to", help="Last day, YYYY-MM-DD.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="HTML file to write.")],
    agent: Annotated[str | None, typer.Option(help="One agent (default: all).")] = None,
    scorecard: Annotated[
        Path | None, typer.Option(help="Shop scorecard TOML merged over the default.")
    ] = None,
    mask_pii: Annotated[
        bool,
        typer.Option(
            "--mask-pii/--show-pii",
            help="Mask buyers' phones, ID/order/tracking numbers, e-mails, addresses and names (the"
            " default: a coaching report is mailed and printed); --show-pii writes them as said.",
        ),
    ] = True,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Write a self-contained HTML coaching report for one agent or all.

    Score trend per day and deductions by kind as inline SVG charts, each flagged
    conversation with its evidence highlighted in context, and for each finding a better way
    to say it (lexicons/reply_patterns.toml). No scripts, no external files; chat text is
    escaped. Buyers' personal data is masked unless --show-pii is given (the report is the
    file that leaves the QA team). Review decisions are applied. --agent takes a full id or a
    unique short name (阿杰); an unknown or ambiguous agent is an error (exit 2) listing the
    candidates. A range with nothing stored still writes the report, and says so on stderr.

    \b
    Example:
        qc report --from 2026-11-24 --to 2026-11-24 --out out/report.html --db out/qc.sqlite
        qc report --agent 阿杰 --from 2026-11-01 --to 2026-11-30 --out aj.html --show-pii
    """  # noqa: D301 - the \b line keeps click from rewrapping the examples
    from qc.cli.flagged_cmd import date_range
    from qc.scoring.card import load_scorecard
    from qc.supervise.filters import resolve_agent
    from qc.supervise.people import is_unassigned
    from qc.supervise.report import write_report
    from qc.text.pii import Masker

    date_range(None, date_from, date_to)  # both dates valid, in order
    output_file(out, example="report.html")
    if out.suffix.lower() not in (".html", ".htm") and not is_stream(out):  # /dev/stdout (144 L2)
        # A .csv or .xlsx holding HTML opens in Excel as a confusing import, or not at all.
        raise ConfigError(f"--out {out}: qc report writes one HTML page; name it .html")
    card = load_scorecard(scorecard)
    with open_db(db) as store:
        who = resolve_agent(store, agent) if agent is not None else None
        if who is not None and is_unassigned(who):
            # Its report said "nothing stored", though the store holds the shop's unanswered buyers.
            raise ConfigError(
                f"--agent {who} is the shop's unanswered buyers, nobody's coaching report: list them"
                f" with qc flagged --agent {who} --from {date_from} --to {date_to}"
            )
        warn_other_scorecard(store, card, date_from, date_to)
        data = write_report(store, out, date_from, date_to, card, agent=who, mask=Masker(mask_pii))
    if not data.scores and not data.views:
        whose = f" for {who}" if who else ""
        err(f"nothing stored{whose} from {date_from} to {date_to}: the report is empty")
    agents = f"{len(data.scores)} agent" + ("s" if len(data.scores) != 1 else "")
    err(f"{len(data.views)} of {data.flagged_total} flagged conversations, {agents} → {out}")
