"""``qc compare``: what a change did to each agent's points, from two agents tables."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from qc.cli import app
from qc.cli._common import cell, err, handle_errors, output_file, table_console
from qc.errors import ConfigError


def _shown(value: Any, signed: bool = False) -> str:
    """A cell's value as the table shows it: 是/否, whole numbers without .0, a sign on changes."""
    if isinstance(value, bool):
        return "是" if value else "否"
    if value is None or value == "":
        return "" if signed else "空"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int | float):
        return f"{value:+g}" if signed and value != 0 else f"{value:g}"
    return str(value)


def _detail(changes: Any) -> str:
    return "；".join(
        f"{c.label} {_shown(c.before)}→{_shown(c.after)}" for c in changes if c.key != "total_points"
    )


@app.command("compare")
@handle_errors
def compare_cli(
    before: Annotated[Path, typer.Argument(help="The folder (or agents.json) before the change.")],
    after: Annotated[Path, typer.Argument(help="The folder (or agents.json) after the change.")],
    daily: Annotated[
        bool, typer.Option("--daily", help="Compare a period export's daily view (agents_daily.json).")
    ] = False,
    csv_out: Annotated[
        Path | None,
        typer.Option("--csv", help="Also write the changed rows to this CSV file (for Excel/WPS)."),
    ] = None,
    output_format: Annotated[
        str, typer.Option("--format", help="table or json (one record per line).")
    ] = "table",
    show_all: Annotated[bool, typer.Option("--all", help="List unchanged rows too.")] = False,
) -> None:
    """Show what a change did to each agent's points: two agents tables, row by row.

    BEFORE and AFTER are folders written by `qc inspect --out` or `qc export --out` (or their
    agents.json). Rows are matched by shop, agent and window (the day or the period); each
    changed row shows the total before and after, the change, and every column that moved
    (an item's points, a kind's count, a metric). Biggest change first; the shop's totals last
    (on stderr). Nothing is recomputed: it compares what the two runs published.

    Before publishing a scorecard change, score the same period both ways and compare:

    \b
    Example:
        qc export --period 2026-11 --out out/now --db out/qc.sqlite
        qc export --period 2026-11 --out out/new --db out/qc.sqlite --scorecard new.toml
        qc compare out/now out/new --csv out/new-vs-now.csv
    """  # noqa: D301 - the \b line keeps click from rewrapping the examples
    from qc.outputs.cells import open_csv
    from qc.outputs.compare import compare_tables, configuration_lines, load_agents_table, load_configuration
    from qc.outputs.writers import agents_csv_cell

    if output_format not in ("table", "json"):
        raise ConfigError(f"--format {output_format!r} is unknown: use table or json")
    if csv_out is not None and csv_out.is_dir():
        raise ConfigError(f"--csv {csv_out} is a folder: give a file name such as {csv_out / 'compare.csv'}")
    result = compare_tables(load_agents_table(before, daily), load_agents_table(after, daily))
    old_windows, new_windows = result.windows()
    if old_windows and new_windows and not set(old_windows) & set(new_windows):
        # A day against a month: every row is "only before" or "only after", and the table and
        # totals read as changes of a whole table's points (audit 97 #7).
        raise ConfigError(
            f"the two tables score different windows ({', '.join(old_windows)} before,"
            f" {', '.join(new_windows)} after), so no row matches: compare runs of the same day"
            " or period (qc export --period P for both), or a period's daily views with --daily"
        )
    if set(old_windows) != set(new_windows):
        # A week against its month: the month's other days read as rows "only after" and as a
        # change of the total (audit 153 L1).
        apart = sorted(set(old_windows) ^ set(new_windows))
        err(
            f"warning: the two tables score partly different windows ({', '.join(apart[:4])}"
            f"{' …' if len(apart) > 4 else ''} on one side only): their rows are listed as only before or"
            " only after and count in the totals; compare runs of the same day or period"
        )
    for line in configuration_lines(load_configuration(before), load_configuration(after)):
        err(line)
    rows = list(result.rows) if show_all else result.changed
    if output_format == "json":
        for r in rows:
            typer.echo(json.dumps(r.to_json(), ensure_ascii=False))
    elif rows:
        from rich.markup import escape
        from rich.table import Table

        table = Table(title=escape(f"{before} → {after}"), title_justify="left")  # a path is no markup
        for n, header in enumerate(("客服", "窗口", "改前合计", "改后合计", "变化", "变化明细")):
            table.add_column(header, justify="right" if 2 <= n <= 4 else "left", overflow="fold")
        for r in rows:
            note = {"before": "（只在改前）", "after": "（只在改后）"}.get(r.only_in or "", "")
            # Cells shown literally: an agent nick such as 店:[vip]小王 is no formatting code.
            table.add_row(
                *map(
                    cell,
                    (
                        r.agent,
                        r.window,
                        _shown(r.before_total, True),
                        _shown(r.after_total, True),
                        _shown(r.delta, True),
                    ),
                ),
                cell(note + _detail(r.changes)),
            )
        table_console().print(table)
    if csv_out is not None:
        output_file(csv_out, "--csv", example="compare.csv")  # a full disk names it
        csv_out.parent.mkdir(parents=True, exist_ok=True)
        with open_csv(csv_out) as out:
            out.writerow(
                ["店铺", "客服", "窗口", "改前合计加减分", "改后合计加减分", "变化", "只在", "变化明细"]
            )
            out.writerow(
                [
                    "shop",
                    "agent",
                    "window",
                    "before_total_points",
                    "after_total_points",
                    "change",
                    "only_in",
                    "changes",
                ]
            )
            for r in rows:
                out.writerow(
                    [
                        agents_csv_cell("shop", r.shop),
                        agents_csv_cell("agent", r.agent),
                        agents_csv_cell("date", r.window),
                        r.before_total,
                        r.after_total,
                        r.delta,
                        {"before": "改前", "after": "改后"}.get(r.only_in or "", ""),
                        _detail(r.changes),
                    ]
                )
    old_total, new_total = result.totals()
    only_before = sum(1 for r in result.rows if r.only_in == "before")
    only_after = sum(1 for r in result.rows if r.only_in == "after")
    extra = f" ({only_before} only before, {only_after} only after)" if only_before or only_after else ""
    old_score, new_score = result.score_totals()
    # Said where scores moved otherwise than the points (a card's full marks): the 合计得分 payroll
    # reads changed while "0 rows changed" was all compare said (audit 153 M1).
    scores = (
        f"; total score {_shown(old_score)} before, {_shown(new_score)} after"
        f" ({_shown(new_score - old_score, True)})"
        if abs((new_score - old_score) - (new_total - old_total)) > 1e-9
        else ""
    )
    err(
        f"{len(result.changed)} of {len(result.rows)} agent rows changed{extra}; points of every row"
        f" {_shown(old_total)} before, {_shown(new_total)} after ({_shown(new_total - old_total, True)})"
        + scores
        + (f"; written to {csv_out}" if csv_out is not None else "")
    )
