"""``qc store``: the store itself; ``runs`` lists its runs, ``forget`` takes a wrong copy off it."""

from __future__ import annotations

import json
import os
import shlex
from typing import TYPE_CHECKING, Annotated

import typer

from qc.cli import app
from qc.cli._common import cell, err, handle_errors, table_console
from qc.cli._store_opts import DEFAULT_DB, DbOption, open_db
from qc.errors import EXIT_USAGE, ConfigError

if TYPE_CHECKING:
    from qc.store.database import RunSummary
    from qc.supervise.forget import Forgotten

store_app = typer.Typer(
    no_args_is_help=True,
    help="The store itself: list its runs (qc store runs), take a wrong copy off it (qc store forget).",
)
app.add_typer(store_app, name="store")


@store_app.command("forget")
@handle_errors
def forget_cli(
    conversation_ids: Annotated[
        list[str] | None, typer.Argument(help="The stored conversations to take off.", show_default=False)
    ] = None,
    run: Annotated[
        int | None,
        typer.Option(
            "--run",
            help="Instead of ids: the conversations run N holds as its own copies (qc store runs lists"
            " the runs).",
            show_default=False,
        ),
    ] = None,
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

    A whole run filed wrongly (a day under the wrong date, the wrong folder) goes with --run N:
    the conversations it holds that no later run read again. A chat it continued past midnight
    stays, named: taking it off would take the earlier run's messages too.

    \b
    Example:
        qc store forget c20261124_000082 --dry-run
        qc store forget c20261124_000082 --why "同一导出文件存了两次（文件名日期写错）" --by 张主管
        qc store forget --run 1 --dry-run
        qc store forget --run 1 --why "11-25的导出按11-24存了" --by 张主管
    """  # noqa: D301 - the \b line keeps click from rewrapping the examples
    from qc.store.database import OnlyContinued
    from qc.supervise.filters import check_choice
    from qc.supervise.forget import forget_conversations

    check_choice(output_format, "--format", ("table", "json"))
    with open_db(db) as store:
        shown_db = _pasteable(db, store.url if "://" in db else db)
        try:
            done = forget_conversations(
                store,
                conversation_ids or [],
                by=by,
                why=why,
                park_decisions=park_decisions,
                dry_run=dry_run,
                run=run,
            )
        except OnlyContinued as exc:
            # The command it names runs as printed, on this store (audit 148 L1).
            raise ConfigError(f'{exc} --why "…" --db {shown_db}{_url_said(shown_db)}') from None
    _print(done, output_format, shown_db)
    if done.run is None and (
        any(p.shop is None for p in done.plans) or (not park_decisions and any(p.decided for p in done.plans))
    ):
        raise typer.Exit(EXIT_USAGE)  # the forget itself would be refused: a script can check first


def _print(done: Forgotten, output_format: str, db: str) -> None:
    """The conversations forgotten (or that would be) as a table or JSON lines, and what to do next."""
    if output_format == "json":
        for p in done.plans:
            extra = (
                {}
                if done.from_run is None
                else {"from_run": done.from_run, "repeats": p.conversation in done.repeats}
            )
            typer.echo(json.dumps({**p.as_json(), "run": done.run, **extra}, ensure_ascii=False))
    elif done.from_run is not None:
        _print_run(done)
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
    if done.from_run is not None:
        _run_notes(done, db)
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
        err(
            f"{', '.join(kept)} now score without them: write the agents tables again with"
            f" `qc export --db {db} --from {kept[0]} --to {kept[-1]} --out DIR`{_url_said(db)}"
        )
    if done.empty:
        # Nothing is left to export there: an earlier export of those days counted the wrong copy.
        err(
            f"{', '.join(done.empty)} now hold no conversation: agents tables exported for them earlier"
            " counted only the forgotten copy, so set them aside"
        )


def _url_said(db: str) -> str:
    """What a hint's ``STORE_URL`` stands for, when it stands for the store's hidden URL."""
    return " (STORE_URL: the store's URL with its password)" if db == "STORE_URL" else ""


def _print_run(done: Forgotten) -> None:
    """A whole run's conversations (``--run``), one row per shop and days: hundreds of ids say nothing."""
    from rich.table import Table

    rows: dict[tuple[str, tuple[str, ...]], list[int]] = {}
    for p in done.plans:
        row = rows.setdefault((p.shop or "", p.days), [0, 0, 0, 0, 0, 0])
        repeat = int(p.conversation in done.repeats)
        for at, value in enumerate((1, repeat, p.messages, p.findings, p.live, len(p.decided))):
            row[at] += value
    verb = "would forget" if done.run is None else f"forgotten (run {done.run}, by {cell(done.by)})"
    table = Table(title=f"{verb}: what run {done.from_run} stored", title_justify="left")
    for header in ("shop", "days", "conversations", "repeats", "messages", "findings", "live", "decided"):
        table.add_column(header)
    for (shop, days), counts in sorted(rows.items()):
        table.add_row(cell(shop), ", ".join(days) or "no day", *(str(n) for n in counts))
    table_console().print(table)


def _pasteable(db: str, shown: str) -> str:
    """``--db`` as a printed command must give it: ``shown`` is the store's URL with its password hidden.

    A URL with its password hidden would not run (audit 133 L2), a store named by QC_DB is named
    so (audit 136 L2), and a path with a space is quoted (audit 147 L2).
    """
    if db == os.environ.get("QC_DB") and shown != db:
        return '"$QC_DB"'
    if "***" in shown:
        return "STORE_URL"
    return shlex.quote(shown)


def _run_notes(done: Forgotten, db: str) -> None:
    """What a forget by run leaves, and whether what it takes are copies (stderr, in either format)."""
    if len(done.plans) + len(done.continued) < done.stored:
        err(
            f"run {done.from_run} stored {done.stored} conversations: {len(done.plans)} are its own copies"
            " now; the others were read again by later runs, which hold them now, or forgotten since"
        )
    if done.continued:
        # A chat it continued past midnight keeps an earlier run's messages: forgetting it would
        # take those too, which that run's files alone do not bring back (audit 141 M1, 143 M3).
        err(
            f"{len(done.continued)} more conversations run {done.from_run} holds continue ones stored"
            " before it (it kept their earlier messages) and stay: taking them off would take those"
            " messages too. To forget them all the same:"
            f' qc store forget {" ".join(done.continued)} --why "…" --db {db}{_url_said(db)}'
        )
    if done.replaced:
        firsts = ", ".join(str(r) for r in sorted({first for _, first in done.replaced}))
        # Only the first run is kept: a run between may have continued the chat (audit 144 M1).
        err(
            f"{len(done.replaced)} of them replaced a copy stored before (first by run {firsts}; moved to"
            " another day or read again): inspecting again the files of the runs that stored it (that"
            " run and any later run of those days, `qc store runs`) brings that copy back"
        )
    alone = sum(1 for p in done.plans if p.conversation not in done.repeats)
    if alone and done.run is None:
        # A folder with some files filed wrongly: the whole run is more than the wrong copies.
        if alone == len(done.plans):
            err(
                "none of them repeats a conversation the store keeps: forgetting the run takes these"
                " chats off the store altogether"
            )
        else:
            err(
                f"{alone} of them repeat no conversation the store keeps (the repeats column counts the"
                f" copies): if only some of run {done.from_run}'s files were wrong, name those"
                " conversations instead"
            )


@store_app.command("runs")
@handle_errors
def runs_cli(
    last: Annotated[int, typer.Option("--last", help="How many of the newest runs.", min=1)] = 20,
    output_format: Annotated[str, typer.Option("--format", help="table or json (JSON lines).")] = "table",
    db: DbOption = DEFAULT_DB,
) -> None:
    """List the store's runs, oldest first: what each read or forgot, and what of it is still stored.

    Every `qc inspect --db` is a run, and so is every `qc store forget`. For each: when it started,
    its files, the shop days it counted on, the conversations it stored and how many of them
    are still its copies ("held": a later run that read the same conversation holds it now),
    its findings, and how many of its conversations repeated stored ones. A forget run says who
    and why. Find a run that went wrong here, then `qc store forget --run N`.

    \b
    Example:
        qc store runs --db out/qc.sqlite
        qc store runs --last 5 --format json
    """  # noqa: D301 - the \b line keeps click from rewrapping the examples
    from qc.supervise.filters import check_choice

    check_choice(output_format, "--format", ("table", "json"))
    with open_db(db) as store:
        runs = store.runs(last)
        left_out = store.run_count() - len(runs)
    if output_format == "json":
        for r in runs:
            typer.echo(json.dumps(r.as_json(), ensure_ascii=False))
    elif runs:
        _print_runs(runs)
    else:
        err("the store holds no run yet: `qc inspect --db` saves one")
    if left_out > 0:
        err(f"{left_out} earlier run(s) not shown: --last {last + left_out} lists them all")


def _print_runs(runs: list[RunSummary]) -> None:
    """The runs as a table: one row each, its files and days shortened to what fits."""
    from rich.table import Table

    table = Table(title="runs (oldest first)", title_justify="left")
    for header in ("run", "started", "command", "files or who", "days", "conversations", "held", "findings"):
        table.add_column(header, no_wrap=header in ("run", "started"))
    shops = {s for r in runs for s, _ in r.days}
    # Runs of two folders that hold the same file names read alike: their folder tells them apart.
    folders: dict[str, set[str]] = {}
    for r in runs:
        for path in r.inputs:
            folders.setdefault(os.path.basename(path), set()).add(os.path.dirname(path))
    for r in runs:
        if r.command == "inspect":
            what = _some([_file_name(p, len(folders.get(os.path.basename(p), ())) > 1) for p in r.inputs])
            if r.repeated:
                what += f" ({r.repeated} repeated)"
        else:
            what = f"{r.by}: {r.why}"
        days = sorted({f"{s} {d}" if len(shops) > 1 else d for s, d in r.days})
        held = f"{r.held} ({r.continued} continued)" if r.continued else str(r.held)
        table.add_row(
            str(r.id),
            r.started_at[:19].replace("T", " "),
            r.command,
            cell(what),
            cell(_some(days)),
            str(r.conversations),
            held if r.command == "inspect" else "–",
            str(r.findings),
        )
    table_console().print(table)
    err(
        "started: UTC. held: conversations still the run's copies; (continued): of them, those keeping an"
        " earlier run's messages, which `qc store forget --run N` leaves. repeated: copies of"
        " conversations the store holds"
    )


def _file_name(path: str, with_folder: bool) -> str:
    """A file as the runs table names it: its name, with its folder's when another folder has the name."""
    name = os.path.basename(path) or path
    folder = os.path.basename(os.path.dirname(path))
    return f"{folder}/{name}" if with_folder and folder else name


def _some(names: list[str], most: int = 3) -> str:
    """The first few names and how many more: a run may read hundreds of files."""
    shown = ", ".join(names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")
