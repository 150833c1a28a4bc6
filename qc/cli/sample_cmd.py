"""``qc sample``: a reproducible random spot-check (随机抽查) per agent."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from qc.cli import app
from qc.cli._common import err, handle_errors, output_file
from qc.cli._store_opts import DEFAULT_DB, DbOption, MaskOption, open_db
from qc.errors import ConfigError
from qc.outputs.atomic import is_stream


@app.command("sample")
@handle_errors
def sample_cli(
    per_agent: Annotated[int, typer.Option("--per-agent", help="Conversations to draw per agent.")],
    seed: Annotated[int, typer.Option("--seed", help="Random seed: the same seed gives the same sample.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="CSV to write (UTF-8 with BOM).")],
    date: Annotated[
        str | None, typer.Option(help="Only this day, YYYY-MM-DD (default: the whole store).")
    ] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="First day of a range, YYYY-MM-DD.")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Last day of a range, YYYY-MM-DD.")] = None,
    period: Annotated[
        str | None, typer.Option(help="A month 2026-11 or an ISO week 2026-W48 (the days it holds).")
    ] = None,
    agent: Annotated[
        str | None, typer.Option(help="Only this agent: a full id or a unique short name (阿杰).")
    ] = None,
    scorecard: Annotated[
        Path | None, typer.Option(help="Shop scorecard TOML (what counts as flagged).")
    ] = None,
    mask_pii: MaskOption = False,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Draw a reproducible spot-check sample per agent, flagged and unflagged both included.

    Half of each agent's sample (rounded up) comes from flagged conversations, the rest from
    unflagged ones; a short stratum is filled from the other. Open each with `qc show ID`.
    One day (--date), a range (--from/--to) or a month or week (--period), and one agent
    (--agent: the same rows as in the sample of everyone).

    \b
    Example:
        qc sample --per-agent 5 --seed 42 --date 2026-11-24 --out spotcheck.csv --db out/qc.sqlite
        qc sample --per-agent 10 --seed 7 --period 2026-11 --agent 阿杰 --out aj.csv
    """  # noqa: D301 - the \b line keeps click from rewrapping the examples
    from qc.cli.flagged_cmd import date_range
    from qc.scoring.card import load_scorecard
    from qc.scoring.periods import parse_period
    from qc.supervise.filters import resolve_agent
    from qc.supervise.sampling import draw_sample, write_sample_csv

    if per_agent < 1:
        raise ConfigError("--per-agent must be at least 1")
    if period and (date or date_from or date_to):
        raise ConfigError("use one of --date D, --period P or --from D --to D")
    if period:
        window = parse_period(period)
        date_from, date_to = window.first, window.last
    else:
        date_from, date_to = date_range(date, date_from, date_to)
    output_file(out)
    if out.suffix.lower() != ".csv" and not is_stream(out):  # /dev/stdout has no name to give (144 L2)
        # Excel refuses a file whose content does not match its name (CSV text named .xlsx).
        raise ConfigError(
            f"--out {out}: qc sample writes CSV (UTF-8 with BOM, opens in Excel and WPS); name it .csv"
        )
    card = load_scorecard(scorecard)
    with open_db(db) as store:
        who = resolve_agent(store, agent) if agent is not None else None
        span = store.day_range()
        open_end = bool(date_from) != bool(date_to)  # runs to the store's first or last day
        if span is not None and open_end:
            date_from, date_to = date_from or span[0], date_to or span[1]
        rows = draw_sample(store, per_agent, seed, date=date_from, date_to=date_to, agent=who, card=card)
    from qc.text.pii import Masker

    write_sample_csv(rows, out, Masker(mask_pii))
    if not rows:
        whose = f" of {who}" if who else ""
        when = f" from {date_from} to {date_to}" if date_from else ""
        err(f"no conversations{whose} stored{when}: the sample is empty")
    flagged = sum(1 for r in rows if r.stratum == "flagged")
    err(f"{len(rows)} conversations ({flagged} flagged, {len(rows) - flagged} unflagged) → {out}")
