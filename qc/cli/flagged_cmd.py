"""``qc flagged``: flagged conversations from the store, worst first."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from qc.cli import app
from qc.cli._common import cell, check_day, err, handle_errors, table_console
from qc.cli._store_opts import DEFAULT_DB, DbOption, MaskOption, open_db, warn_other_scorecard
from qc.errors import ConfigError
from qc.scoring.metrics import UNDATED


def date_range(date: str | None, date_from: str | None, date_to: str | None) -> tuple[str | None, str | None]:
    """Validate ``--date`` or ``--from``/``--to`` into an inclusive (from, to) pair of ISO dates.

    Only ``YYYY-MM-DD`` is a date here (``20261124`` would silently match nothing in the store).
    """
    if date and (date_from or date_to):
        raise ConfigError("use --date D or --from D --to D, not both")
    if date is not None:
        # undated: the chats without times, as qc export --date undated scores them (audit 155 L3).
        date_from = date_to = date if date == UNDATED else check_day(date, "--date")
    else:
        date_from = check_day(date_from, "--from") if date_from is not None else None
        date_to = check_day(date_to, "--to") if date_to is not None else None
    if date_from and date_to and date_from > date_to:
        raise ConfigError(
            f"--from {date_from} is after --to {date_to}: swap them (--from {date_to} --to {date_from})"
        )
    return date_from, date_to


def describe_filters(**filters: object) -> str:
    """The filters given, for a message saying nothing matched (``agent 柚子优选旗舰店:阿杰, 2026-11-24``)."""
    parts = []
    lo, hi = filters.pop("date_from", None), filters.pop("date_to", None)
    if lo or hi:
        parts.append(str(lo) if lo == hi else f"{lo or '…'} to {hi or '…'}")
    parts += [f"{k.replace('_', ' ')} {v}" for k, v in filters.items() if v not in (None, 0, 0.0, "")]
    return ", ".join(parts) or "the whole store"


@app.command("flagged")
@handle_errors
def flagged_cli(
    agent: Annotated[str | None, typer.Option(help="Only this agent's findings.")] = None,
    date: Annotated[str | None, typer.Option(help="One day, YYYY-MM-DD.")] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD.")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Last day, YYYY-MM-DD.")] = None,
    kind: Annotated[
        str | None,
        typer.Option(
            help="Only conversations charged with this kind (a message's verdict, as agents.csv counts)."
        ),
    ] = None,
    min_points: Annotated[
        float, typer.Option("--min-points", help="Only conversations costing at least N points.")
    ] = 0.0,
    output_format: Annotated[
        str, typer.Option("--format", help="table (for people) or json (for programs).")
    ] = "table",
    held: Annotated[
        bool,
        typer.Option(
            "--held",
            help="Only conversations with findings held for review (待复核), charged or not:"
            " what the review queue holds.",
        ),
    ] = False,
    scorecard: Annotated[str | None, typer.Option(help="Shop scorecard TOML (points at stake).")] = None,
    mask_pii: MaskOption = False,
    db: DbOption = DEFAULT_DB,
) -> None:
    """List flagged conversations from the store, worst first, with points at stake.

    Findings rejected in review no longer count. JSON output is one list on stdout. --agent
    takes a full id or a unique short name (阿杰 for 柚子优选旗舰店:阿杰); an unknown agent, kind
    or date is an error (exit 2) naming what exists. Nothing flagged: said on stderr, exit 0.

    \b
    Example:
        qc flagged --db out/qc.sqlite --date 2026-11-24
        qc flagged --agent 阿杰 --from 2026-11-01 --to 2026-11-30 --kind impatience --min-points 1
        qc flagged --date 2026-11-24 --format json > flagged.json
        qc flagged --date 2026-11-24 --held       # the classifier's verdicts waiting for a reviewer
        qc flagged --date 2026-11-24 --mask-pii   # the excerpts quote agents, who quote buyers
    """  # noqa: D301 - the \b line keeps click from rewrapping the examples
    import math
    from pathlib import Path

    from qc.outputs.writers import short_agent_names
    from qc.scoring.card import load_scorecard
    from qc.supervise.filters import check_choice, known_kinds, resolve_agent
    from qc.supervise.flagged import flagged_conversations, free_kind, listing_windows
    from qc.supervise.masking import StoredMaskers
    from qc.text.pii import Masker

    check_choice(output_format, "--format", ("table", "json"))
    if not math.isfinite(min_points) or min_points < 0:
        raise ConfigError(f"--min-points {min_points}: give a number of points, 0 or more (e.g. 1)")
    lo, hi = date_range(date, date_from, date_to)
    card = load_scorecard(Path(scorecard) if scorecard else None)
    with open_db(db) as store:
        if kind is not None:
            check_choice(kind, "--kind", known_kinds(store, card))
            if free_kind(card, kind) and not held:  # --held lists where it waits, whatever it costs
                err(f"{kind} costs 0 points on this card: listing the conversations where it was found")
        who = resolve_agent(store, agent) if agent is not None else None
        # Each window the listing scores, the chats without times too (audit 155 M7).
        for first, last in listing_windows(store, lo, hi):
            warn_other_scorecard(store, card, first, last)
        rows = flagged_conversations(
            store, agent=who, date_from=lo, date_to=hi, kind=kind, min_points=min_points, card=card, held=held
        )
        # An excerpt quotes an agent, who may write the buyer's nick as well as their number.
        masker = Masker(mask_pii)
        mask = StoredMaskers(masker, store, [r.conversation_id for r in rows])
        # A short name the store's other agents share (two shops' 小二) is shown whole.
        everyone = store.agents()
    for r in rows:
        r.excerpt = mask(r.conversation_id)(r.excerpt)
        r.conversation_id = masker.identifier(r.conversation_id)  # some exports make it the buyer's phone
    listed = "conversations with findings held for review" if held else "flagged conversations"
    if not rows:
        where = describe_filters(date_from=lo, date_to=hi, agent=who, kind=kind, min_points=min_points)
        err(f"no {listed} for {where}")
    if output_format == "json":
        typer.echo(json.dumps([r.to_json() for r in rows], ensure_ascii=False, indent=2))
        return
    if not rows:
        return
    from rich.cells import cell_len
    from rich.table import Table

    table = Table(
        title=f"{len(rows)} {listed} (worst first; pts = points at stake, # = findings,"
        " charged = what they cost, as agents.csv counts it; held = held for review, 待复核, 0 pts until"
        " confirmed; rej = rejected)",
        title_justify="left",
    )
    # The id is what a supervisor copies into `qc show`, the agent is who gets coached: neither
    # is ever cut; the prose columns wrap.
    shown = short_agent_names([*everyone, *(a for r in rows for a in r.agents)])  # json: the full ids
    agents = [", ".join(shown[a] for a in r.agents) for r in rows]
    whole = {
        "date": max((cell_len(r.date) for r in rows), default=4),
        "conversation": max((cell_len(r.conversation_id) for r in rows), default=12),
        "agents": max((cell_len(a) for a in agents), default=6),
    }
    for header in ("pts", "date", "conversation", "agents", "#", "charged", "held", "rej", "excerpt"):
        table.add_column(
            header,
            justify="right" if header in ("pts", "#", "rej") else "left",
            no_wrap=header in whole,
            min_width=whole.get(header),
            overflow="fold",
        )
    for r, agent_names in zip(rows, agents, strict=True):
        table.add_row(
            f"{r.points:g}",
            r.date,
            cell(r.conversation_id),
            cell(agent_names),
            str(r.findings),
            r.charged_text(),
            r.held_text(),
            str(r.rejected),
            cell(r.excerpt[:30]),
        )
    table_console().print(table)
