"""``qc review``: confirm or reject findings (复核), one by one or in bulk from a CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from qc.cli import app
from qc.cli._common import err, finding_id_arg, handle_errors, output_file
from qc.cli._store_opts import (
    DEFAULT_DB,
    DbOption,
    MaskOption,
    open_db,
    scored_window,
    warn_other_scorecard,
    warn_still_charged,
)
from qc.errors import EXIT_USAGE, ConfigError


class _ReviewGroup(TyperGroup):
    """``qc review FINDING_ID …`` runs ``qc review decide FINDING_ID …``."""

    # ctx is click's Context, which recent typer versions vendor (typer._click): left as Any.
    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # noqa: D102 - click's own method
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            args = ["decide", *args]
        return super().parse_args(ctx, args)


review_app = typer.Typer(
    cls=_ReviewGroup,
    no_args_is_help=True,
    help="Confirm or reject findings by id (复核); bulk review via CSV or XLSX; the audit trail.\n\n"
    '\b\nExample:\n    qc review 1edfab741bc8e5aa --reject --by 质检小王 --note "joke"\n'
    "    qc review export --date 2026-11-24 --out review.csv\n    qc review import review.csv",
)
app.add_typer(review_app, name="review")


@review_app.command("decide")
@handle_errors
def decide_cli(
    finding_id: Annotated[
        str,
        typer.Argument(
            help="Finding id (from `qc show`, `qc flagged --format json`).", callback=finding_id_arg
        ),
    ],
    confirm: Annotated[
        bool, typer.Option("--confirm", help="The finding is right: it keeps costing points.")
    ] = False,
    reject: Annotated[
        bool, typer.Option("--reject", help="The finding is wrong: it stops costing points.")
    ] = False,
    by: Annotated[
        str, typer.Option("--by", help="A registered reviewer or supervisor (qc people add).")
    ] = "",
    note: Annotated[
        str,
        typer.Option("--note", help="Why (required to reject; a confirm defaults to the rule's evidence)."),
    ] = "",
    overturn: Annotated[
        bool,
        typer.Option(
            "--overturn", help="Overturn another person's decision on the finding (refused without)."
        ),
    ] = False,
    scorecard: Annotated[
        str | None,
        typer.Option(help="Shop scorecard TOML: which other findings keep charging the message."),
    ] = None,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Record a review decision on a finding (every decision is kept in the audit trail).

    `qc review FINDING_ID …` is short for `qc review decide FINDING_ID …`. A rejected finding
    no longer costs points in the next `qc export` or `qc inspect` of its day. The reviewer
    must be registered (qc people add NAME --role reviewer) and may not review a finding
    charged to their own account; a finding whose appeal was ruled is final (refused with
    the ruling) until a supervisor reopens it. Overturning another person's decision takes
    --overturn; a decision the finding already holds records nothing (unless it brings a new
    note).

    \b
    Example:
        qc review 1edfab741bc8e5aa --reject --by 质检小王 --note "buyer was joking, agent joked back"
        qc review decide 1edfab741bc8e5aa --confirm --by 质检小王
    """  # noqa: D301 - the \b line keeps click from rewrapping the examples
    from qc.scoring.card import load_scorecard
    from qc.supervise.people import login_source
    from qc.supervise.review import confirm_effect, covered_note, decide, deciding_appeals, still_charging

    if confirm == reject:
        raise ConfigError("give exactly one of --confirm or --reject")
    card = load_scorecard(Path(scorecard) if scorecard else None)  # a bad card stops before any decision
    with open_db(db) as store:
        d = decide(
            store,
            finding_id,
            "confirm" if confirm else "reject",
            by=by,
            note=note,
            overturn=overturn,
            source=login_source("cli"),
        )
        if not d.recorded and d.earlier is not None:
            err(
                f"finding {d.finding_id} is already {d.after} (by {d.earlier['actor']} at {d.earlier['at']}):"
                " nothing recorded"
            )
            return
        err(f"finding {d.finding_id}: {d.before} → {d.after}")
        others = still_charging(store, d.finding_id, card)
        warn_still_charged(others, deciding_appeals(store, others))
        effect = confirm_effect(store, d.finding_id, card)
        if effect == "suppressed":
            err("it is suppressed by its context (vetoed): confirmed, it still costs nothing")
        elif effect == "charged":
            err("it was held for review (待复核): confirmed, it costs its points from now on")
        elif effect == "covered":
            err(covered_note(store, d.finding_id, card))


@review_app.command("log")
@handle_errors
def log_cli(
    finding_id: Annotated[
        str | None, typer.Argument(help="Only this finding.", callback=finding_id_arg)
    ] = None,
    orphaned: Annotated[
        bool, typer.Option("--orphaned", help="Only the rows of findings no longer stored (orphaned).")
    ] = False,
    mask_pii: MaskOption = False,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Print the audit trail (decisions and appeal steps) as JSON lines, oldest first.

    Each row says whether its finding is ``orphaned``: a later inspection no longer found it,
    so the decision is kept but applies to nothing.

    \b
    Example:
        qc review log 1edfab741bc8e5aa --db out/qc.sqlite
        qc review log --orphaned --mask-pii   # notes may quote a buyer's number
    """  # noqa: D301 - the \b line keeps click from rewrapping the examples
    import json

    from qc.supervise.masking import finding_maskers
    from qc.supervise.review import audit_trail, orphaned_decisions
    from qc.text.pii import Masker

    mask = Masker(mask_pii)

    with open_db(db) as store:
        rows = audit_trail(store, finding_id)
        gone = orphaned_decisions(store)
        masks = finding_maskers(mask, store, [row["finding_id"] for row in rows])
        kept = store.parked_as(finding_id) if finding_id and not rows else []
        moves = store.decision_moves(finding_id) if finding_id else []
    rows = [
        {
            **row,
            "note": masks(row["finding_id"])(row["note"]) if row["note"] else row["note"],
            "orphaned": row["finding_id"] in gone,
        }
        for row in rows
    ]
    if orphaned:
        rows = [row for row in rows if row["orphaned"]]
    for row in rows:
        typer.echo(json.dumps(row, ensure_ascii=False))
    if not rows:
        what = "orphaned audit rows" if orphaned else "audit rows"
        err(f"no {what} for finding {finding_id}" if finding_id else f"no {what}")
    # A re-run that renumbered the finding moved its decisions to the new id: the rows carry that
    # id only, and a sheet row or an old note still names the old one (audit 119 L1).
    for move in moves:
        if move["to"] == finding_id and str(move["from"]).startswith(f"{finding_id}~"):
            # Set aside as ID~RUN, then found again: nothing was renumbered (audit 157 L1). With no
            # rows left here, a later run set them aside again, which the line below says.
            if rows:
                err(
                    f"decisions set aside as {move['from']} came back with the finding in run #{move['run']}"
                    f" (started {move['at']})"
                )
        elif move["to"] == finding_id:
            err(
                f"decisions moved here from {move['from']} by run #{move['run']} (started {move['at']}),"
                f" which renumbered the finding: rows recorded before it named {move['from']}"
            )
        else:
            err(
                f"decisions recorded under {finding_id} before run #{move['run']} (started {move['at']})"
                f" moved to {move['to']}: the run renumbered the finding; qc review log {move['to']}"
            )
    if not rows:
        if kept:
            # A run no longer found it on its message and its id named another finding: the
            # decisions were set aside under ID~RUN, which the run's report names.
            err(f"its earlier decisions are kept as {', '.join(kept)}: qc review log {kept[-1]}")
    elif gone and finding_id is None:
        err(
            f"{len(gone)} decided findings are no longer stored (orphaned):"
            " their decisions are kept and charge nothing"
        )


@review_app.command("export")
@handle_errors
def export_cli(
    out: Annotated[
        Path,
        typer.Option(
            "--out", help="Sheet to write: *.xlsx (workbook) or any other name (CSV, UTF-8 with BOM)."
        ),
    ],
    date: Annotated[
        str | None, typer.Option(help="Day to review, YYYY-MM-DD, or `undated`: chats without times.")
    ] = None,
    period: Annotated[
        str | None,
        typer.Option(help="A period to review, scored pooled: a month 2026-11 or an ISO week 2026-W48."),
    ] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="First day of a range, YYYY-MM-DD.")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Last day of a range, YYYY-MM-DD.")] = None,
    scorecard: Annotated[str | None, typer.Option(help="Shop scorecard TOML (points at stake).")] = None,
    mask_pii: MaskOption = False,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Write a day's or period's findings to a review sheet (CSV or XLSX) for QA to fill in a spreadsheet.

    Chinese headers; each row shows the points at stake in the sheet's days (扣分, scored as
    `qc export` scores the same window) and in the scorecard's appraisal period that holds the
    day (考核期, 考核期扣分: the month so far on the seed card, what payroll sees) and, when 扣分
    is 0, why (不扣分原因). Give one of --date, --period or --from/--to. QA fills 复核结论
    (确认/驳回), 复核人 and 备注 and saves as CSV (any encoding Excel writes) or XLSX; `qc review
    import` reads either.

    \b
    Example:
        qc review export --date 2026-11-24 --out review.csv
        qc review export --date 2026-11-24 --out review.xlsx --mask-pii
        qc review export --period 2026-W48 --out week48.xlsx
        qc review import review.xlsx
    """  # noqa: D301 - the \b line keeps click from rewrapping the examples
    from qc.scoring.card import load_scorecard
    from qc.supervise.review_sheet import export_review_sheet
    from qc.text.pii import Masker

    window = scored_window(date, period, date_from, date_to)
    output_file(out)
    card = load_scorecard(Path(scorecard) if scorecard else None)
    with open_db(db) as store:
        warn_other_scorecard(store, card, window.first, window.last)
        notes: list[str] = []
        n = export_review_sheet(store, window, out, card, mask=Masker(mask_pii), notes=notes)
    for note in notes:
        err(f"warning: {note}")
    if n == 0:
        err(f"no findings stored for {window.label}: the sheet has headers only")
    err(f"{n} findings → {out}; fill 复核结论 (确认/驳回), 复核人 and 备注, then `qc review import {out}`")


@review_app.command("import")
@handle_errors
def import_cli(
    sheet: Annotated[
        Path, typer.Argument(help="The edited sheet from `qc review export` (CSV in any encoding, or XLSX).")
    ],
    by: Annotated[str, typer.Option("--by", help="Reviewer for rows with an empty 复核人 cell.")] = "",
    scorecard: Annotated[
        str | None,
        typer.Option(
            help="Shop scorecard TOML: which other findings keep charging a rejected row's message."
        ),
    ] = None,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Apply the decisions of an edited review sheet; bad rows are listed, the others applied.

    Reads what Excel or WPS saved: CSV in UTF-8 (with or without BOM), GBK/GB18030 or UTF-16,
    or XLSX, with the same sniffing as `qc inspect`. Rows with an empty decision are skipped; a
    decision equal to the current state changes nothing. A finding the sheet both confirms and
    rejects is refused in each of its rows, and so is a CSV row cut off before 复核结论.
    Refused rows are named by the row Excel shows.
    Exit 2 when any row was refused or a column is missing, 1 when the sheet cannot be read or is
    empty.

    \b
    Example:
        qc review import review.csv --db out/qc.sqlite
        qc review import review.xlsx --by 质检小王
    """  # noqa: D301 - the \b line keeps click from rewrapping the examples
    from qc.scoring.card import load_scorecard
    from qc.supervise.review import confirm_effect, covered_note, deciding_appeals, still_charging
    from qc.supervise.review_sheet import import_review_sheet

    if sheet.is_dir():
        raise ConfigError(
            f"{sheet}: is a folder; give the sheet file `qc review export` wrote"
            f" (e.g. {sheet / 'review.xlsx'})"
        )
    if not sheet.is_file():
        raise ConfigError(f"no such file: {sheet}; give the sheet `qc review export` wrote")
    card = load_scorecard(Path(scorecard) if scorecard else None)
    with open_db(db) as store:
        result = import_review_sheet(store, sheet, default_by=by)
        for change in result.changed:
            err(f"row {change.row}: {change.finding_id} {change.before} → {change.after}")
            # As `qc review ID` says it: a rejected row whose message another finding still
            # charges cleared nothing, and the import was silent (audit 153 M2).
            others = still_charging(store, change.finding_id, card) if change.after == "rejected" else []
            warn_still_charged(others, deciding_appeals(store, others), where=f"row {change.row}: ")
            effect = confirm_effect(store, change.finding_id, card) if change.after == "confirmed" else None
            if effect == "suppressed":
                err(
                    f"row {change.row}: suppressed by its context (vetoed): confirmed, it still costs nothing"
                )
            elif effect == "charged":
                err(f"row {change.row}: held for review (待复核): confirmed, it costs its points from now on")
            elif effect == "covered":
                err(f"row {change.row}: {covered_note(store, change.finding_id, card)}")
    where = f"{sheet}: sheet {result.sheet}" if result.sheet else f"{sheet}:"
    for problem in result.problems:
        err(f"{where} row {problem.row}: {problem.message}")
    for warning in result.warnings:
        err(f"warning: {where} {warning.message}")
    read_as = (
        result.format.upper()
        + (f", {result.encoding}" if result.encoding else "")
        + (f", sheet {result.sheet}" if result.sheet else "")
    )
    err(
        f"{len(result.changed)} changed, {result.unchanged} unchanged, {result.skipped} without decision,"
        f" {len(result.problems)} refused ({read_as})"
    )
    if result.problems:
        raise typer.Exit(EXIT_USAGE)
