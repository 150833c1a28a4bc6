"""``qc store``: the store itself; ``forget`` takes the wrong copy of an export filed twice off it."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Annotated

import typer

from qc.cli import app
from qc.cli._common import cell, err, handle_errors, table_console
from qc.cli._store_opts import DEFAULT_DB, DbOption, open_db
from qc.errors import EXIT_USAGE

if TYPE_CHECKING:
    from qc.supervise.forget import Forgotten

store_app = typer.Typer(
    no_args_is_help=True,
    help="The store itself: take a conversation filed twice off it (qc store forget).",
)
app.add_typer(store_app, name="store")


@store_app.command("forget")
@handle_errors
def forget_cli(
    conversation_ids: Annotated[list[str], typer.Argument(help="The stored conversations to take off.")],
    why: Annotated[str, typer.Option("--why", help="Why (kept with the run that records it).")] = "",
    by: Annotated[str, typer.Option("--by", help="A supervisor (default: your login name).")] = "",
    park_decisions: Annotated[
        bool,
        typer.Option(
            "--park-decisions",
            help="Forget conversations whose findings carry decisions, keeping the decisions under"
            " ID~RUN (the same finding inspected again takes them back).",
        ),
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would go; change nothing.")] = False,
    output_format: Annotated[str, typer.Option("--format", help="table or json (JSON lines).")] = "table",
    db: DbOption = DEFAULT_DB,
) -> None:
    """Take stored conversations off the store: the wrong copy of the same export filed twice.

    `qc inspect` warns when a conversation repeats a stored one of another id message for message
    (run.json repeated_conversations): both are counted. Everything stored of the conversations
    named goes (messages, findings, metric counters), so their days score without them in
    `qc export`, `qc flagged`, `qc report` and the workbench; nothing else changes. It is recorded
    as a run with who, when and why, and in `qc review log`. A conversation whose findings carry
    decisions is refused unless --park-decisions. Inspecting its file again brings it back.
    Only a supervisor (or the store's administrator, who is not registered) forgets.

    \b
    Example:
        qc store forget c20261124_000082 --dry-run
        qc store forget c20261124_000082 --why "同一导出文件存了两次（文件名日期写错）" --by 张主管
    """  # noqa: D301 - the \b line keeps click from rewrapping the examples
    from qc.supervise.filters import check_choice
    from qc.supervise.forget import forget_conversations

    check_choice(output_format, "--format", ("table", "json"))
    with open_db(db) as store:
        done = forget_conversations(
            store, conversation_ids, by=by, why=why, park_decisions=park_decisions, dry_run=dry_run
        )
        shown_db = store.url if "://" in db else db  # a URL's password never reaches the screen
    # The hint's --db must run as printed: a URL with its password hidden would not (audit 133 L2),
    # and a store named by QC_DB is named so (audit 136 L2).
    if db == os.environ.get("QC_DB") and shown_db != db:
        shown_db = '"$QC_DB"'
    elif "***" in shown_db:
        shown_db = "STORE_URL"
    _print(done, output_format, shown_db)
    if done.run is None and (
        any(p.shop is None for p in done.plans) or (not park_decisions and any(p.decided for p in done.plans))
    ):
        raise typer.Exit(EXIT_USAGE)  # the forget itself would be refused: a script can check first


def _print(done: Forgotten, output_format: str, db: str) -> None:
    """The conversations forgotten (or that would be) as a table or JSON lines, and what to do next."""
    if output_format == "json":
        for p in done.plans:
            typer.echo(json.dumps({**p.as_json(), "run": done.run}, ensure_ascii=False))
    else:
        from rich.table import Table

        from qc.text.pii import shown_id

        title = "would forget" if done.run is None else f"forgotten (run {done.run}, by {cell(done.by)})"
        table = Table(title=title, title_justify="left")
        for header in ("conversation", "shop", "days", "messages", "findings", "live", "decided"):
            table.add_column(header, no_wrap=header == "conversation")
        for p in done.plans:
            if p.shop is None:
                table.add_row(cell(shown_id(p.conversation)), "not in the store", "", "", "", "", "")
                continue
            table.add_row(
                cell(shown_id(p.conversation)),
                cell(p.shop),
                ", ".join(p.days),
                str(p.messages),
                str(p.findings),
                str(p.live),
                str(len(p.decided)),
            )
        table_console().print(table)
    if done.run is None:
        missing = sum(1 for p in done.plans if p.shop is None)
        decided = sum(len(p.decided) for p in done.plans)
        if missing:
            err(f"{missing} of them the store does not hold: forgetting would refuse them all")
        if decided:
            err(f"{decided} of their findings carry decisions: forgetting needs --park-decisions")
        return
    kept = [d for d in done.days if d not in done.empty]
    if kept:
        why = " (STORE_URL: the store's URL with its password)" if db == "STORE_URL" else ""
        err(
            f"{', '.join(kept)} now score without them: write the agents tables again with"
            f" `qc export --db {db} --from {kept[0]} --to {kept[-1]} --out DIR`{why}"
        )
    if done.empty:
        # Nothing is left to export there: an earlier export of those days counted the wrong copy.
        err(
            f"{', '.join(done.empty)} now hold no conversation: agents tables exported for them earlier"
            " counted only the forgotten copy, so set them aside"
        )
