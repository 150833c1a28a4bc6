"""``qc reconcile``: qc's timing figures beside a 生意参谋/千牛 performance report, agent by agent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from qc.cli import app
from qc.cli._common import cell, err, handle_errors, output_file, same_file, table_console
from qc.errors import ConfigError


def _number(value: float | None, kind: str, signed: bool = False) -> str:
    """A figure as the table shows it: shares as percents, seconds with one decimal, counts whole."""
    if value is None:
        return "—"
    sign = "+" if signed else ""
    if kind == "share":
        return f"{value * 100:{sign}.1f}%"
    if kind == "seconds":
        return f"{value:{sign}.1f}"
    return f"{value:{sign}g}"


@app.command("reconcile")
@handle_errors
def reconcile_cli(
    report: Annotated[
        Path, typer.Argument(help="The platform's performance report (生意参谋/千牛 export, CSV or XLSX).")
    ],
    run: Annotated[
        Path,
        typer.Argument(help="The folder (or agents.json) qc inspect --out or qc export --out wrote."),
    ],
    daily: Annotated[
        bool, typer.Option("--daily", help="Use a period export's daily view (agents_daily.json).")
    ] = False,
    csv_out: Annotated[
        Path | None, typer.Option("--csv", help="Also write every figure to this CSV file (for Excel/WPS).")
    ] = None,
    output_format: Annotated[
        str, typer.Option("--format", help="table or json (one record per line).")
    ] = "table",
    window: Annotated[
        str | None,
        typer.Option(
            "--window",
            help="The day or period of qc's table the report covers, when the table holds several"
            " (an inspected day with a conversation running past midnight) and the report has no 日期.",
        ),
    ] = None,
) -> None:
    """Set qc's figures beside the platform's, agent by agent (咨询人数 … 平均响应时长 … 答问比).

    REPORT is the platform's report as exported (a row per agent: 客服 or 旺旺, a 日期 column
    when it covers several days, and the figures); RUN is a folder qc inspect or qc export
    wrote for the same day or period. For each agent both values and qc minus the platform are
    listed, then per figure how often and how far they part (on stderr). Nothing is judged:
    the two definitions differ in known ways (auto-replies, merged buyer turns, service hours),
    and a gap for one agent only is a conversation to open.

    \b
    Example:
        qc inspect demo/day --out out/day
        qc reconcile 客服绩效_2026-11-24.xlsx out/day --window 2026-11-24 --csv out/day-vs-platform.csv
    """  # noqa: D301 - the \b line keeps click from rewrapping the examples
    from qc.outputs.cells import open_csv
    from qc.outputs.compare import load_agents_table
    from qc.outputs.reconcile import read_platform_report, reconcile, summary_lines, whole
    from qc.outputs.writers import agents_csv_cell

    if output_format not in ("table", "json"):
        raise ConfigError(f"--format {output_format!r} is unknown: use table or json")
    if report.is_dir():
        raise ConfigError(
            f"{report} is a folder: give the platform's performance report file (CSV or XLSX) in it"
        )
    if not report.exists():
        # Exit 2, as for the run folder: an input that does not exist (audit 152 M7).
        raise ConfigError(
            f"{report}: no such file; give the platform's performance report as exported (CSV or XLSX)"
        )
    if csv_out is not None:
        # Checked before the table is printed, not after (audit 152 L3); never over an input.
        output_file(csv_out, "--csv", example="reconcile.csv")
        inputs = [report, *(p for p in run.iterdir() if p.is_file())] if run.is_dir() else [report, run]
        if any(same_file(csv_out, p) for p in inputs if p.exists()):
            raise ConfigError(
                f"--csv {csv_out} is one of the files compared; give the comparison a file of its own,"
                f" e.g. {csv_out.with_name('reconcile.csv')}"
            )
    platform = read_platform_report(report)
    result = reconcile(platform, load_agents_table(run, daily), window=window)
    for warning in platform.warnings:
        err(f"qc: warning: {warning}")
    if output_format == "json":
        for gap in result.gaps:
            typer.echo(json.dumps(gap.to_json(), ensure_ascii=False))
    elif result.gaps:
        from rich.markup import escape
        from rich.table import Table

        # Escaped: a path with [/b] in it was read as markup and crashed (audit 115 M6).
        table = Table(title=escape(f"{run} ↔ {report}"), title_justify="left")
        for n, header in enumerate(("客服", "窗口", "指标", "qc", "平台", "差 qc−平台")):
            table.add_column(header, justify="right" if n >= 3 else "left", overflow="fold")
        for gap in result.gaps:
            kind = gap.figure.kind
            table.add_row(
                cell(gap.agent),
                cell(gap.window),
                gap.figure.label,
                _number(gap.qc, kind),
                _number(gap.platform, kind),
                _number(gap.difference, kind, signed=True),
            )
        table_console().print(table)
    if csv_out is not None:
        csv_out.parent.mkdir(parents=True, exist_ok=True)
        with open_csv(csv_out) as out:
            out.writerow(["客服", "窗口", "指标", "qc", "平台", "差(qc−平台)", "平台行"])
            out.writerow(["agent", "window", "figure", "qc", "platform", "difference", "platform_row"])
            for gap in result.gaps:
                out.writerow(
                    [
                        agents_csv_cell("agent", gap.agent),
                        agents_csv_cell("date", gap.window),
                        gap.figure.label,
                        whole(gap.qc),
                        whole(gap.platform),
                        whole(gap.difference),
                        gap.row,
                    ]
                )
    for line in summary_lines(result):
        err(line)
    for number, day in result.other_days:
        err(f"qc: warning: {report} row {number}: {day} is no window of {run}; left out")
    for number, agent in result.only_platform:
        err(f"qc: warning: {report} row {number}: {agent!r} is no agent of {run}; left out")
    if result.only_qc:
        shown = ", ".join(result.only_qc[:10]) + (
            f" and {len(result.only_qc) - 10} more" if len(result.only_qc) > 10 else ""
        )
        err(f"qc: warning: in {run} but not in the report: {shown}")
    agents = len({(g.agent, g.window) for g in result.gaps})
    err(
        f"{agents} agent rows matched, {len(result.only_platform)} only in the report,"
        f" {len(result.only_qc)} only in qc's table"
        + (f"; written to {csv_out}" if csv_out is not None else "")
    )
