"""``qc inspect``: the daily batch."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from datetime import date as Date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from qc.cli import app
from qc.cli._common import (
    check_day,
    err,
    handle_errors,
    note_committed,
    note_committing,
    one_line,
    output_folder,
    print_agent_table,
    show_progress,
    stop_on_signals,
)
from qc.compiled import unused_build_note
from qc.errors import EXIT_USAGE, ConfigError

# The most worker processes --jobs may start per core: past the cores they only slow a run.
_JOBS_PER_CORE = 4

if TYPE_CHECKING:  # the CLI imports the engine only when a command runs
    from qc.batch.run import Progress
    from qc.run.executors import Executor


def parse_columns(pairs: list[str]) -> dict[str, str]:
    """Parse ``--column field=Header`` pairs into a column map."""
    from qc.readers.columns import CANONICAL_FIELDS, normalize_header

    mapping: dict[str, str] = {}
    for pair in pairs:
        field, sep, header = pair.partition("=")
        field, header = field.strip(), header.strip()
        if not sep or not header:
            raise ConfigError(f"--column {pair!r}: write it as FIELD=HEADER, e.g. --column text=聊天内容")
        if field not in CANONICAL_FIELDS:
            import difflib

            close = difflib.get_close_matches(field.casefold(), CANONICAL_FIELDS, n=1, cutoff=0.7)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ConfigError(
                f"--column {pair!r}: unknown field {field!r}; {hint}use one of {', '.join(CANONICAL_FIELDS)}"
            )
        if field in mapping and mapping[field] != header:
            # The last one won unsaid, and an error then named only it.
            raise ConfigError(
                f"--column {field}= is given twice ({mapping[field]} and {header}): name one header per field"
            )
        other = next(
            (f for f, h in mapping.items() if f != field and normalize_header(h) == normalize_header(header)),
            None,
        )
        if other is not None:
            # Every agent's id became its message's text with text=内容 sender=内容 (audit 154 L3).
            raise ConfigError(
                f"--column {field}={header}: {header} is already named for {other};"
                " one header holds one field"
            )
        mapping[field] = header
    return mapping


def check_nicks(agent_nicks: list[str], customer_nicks: list[str]) -> None:
    """Refuse an empty nick, or one given as both the agent's and the buyer's (one of them is a slip)."""
    for option, nicks in (("--agent-nick", agent_nicks), ("--customer-nick", customer_nicks)):
        if any(not n.strip() for n in nicks):
            raise ConfigError(f"{option} '': give the nick as the export writes it")
    both = sorted({n.strip() for n in agent_nicks} & {n.strip() for n in customer_nicks})
    if both:
        raise ConfigError(
            f"{', '.join(both)} is given as both --agent-nick and --customer-nick: a nick is one or the other"
        )


def check_settings(settings: Any, card: Any = None) -> list[str]:
    """Fail (exit 2) on a bad lexicon, user dictionary or model before any input is read.

    Worker processes and Spark executors build their own rules later; a mistake in a file
    named on the command line must stop the run here, once, with the file named. Returns the
    warnings about the files that do not stop the run, for stderr and run.json (a day scored by
    a lexicon failing its own examples was recorded as clean, audit 104 M9).
    """
    from qc.attitude.model import verify
    from qc.attitude.rule import RULE_NAME as CLASSIFIER
    from qc.rules.forbidden_phrase import RULE_NAME as FORBIDDEN
    from qc.rules.lexicon import load_lexicon

    warnings: list[str] = []
    if settings.lexicon is not None:
        from qc.rules.forbidden_phrase import example_failures

        failing = example_failures(load_lexicon(settings.lexicon))
        if failing:
            # Its own examples say what it must and must not charge; failing them, the run's
            # deductions are not what the lexicon's author wrote down (about a second to check).
            warnings.append(
                f"--lexicon {settings.lexicon}: {len(failing)} of its own examples do not"
                f" behave as declared, so its deductions are not what it says; see qc lexicon check"
                f" {settings.lexicon}"
            )
    if card is not None and FORBIDDEN in settings.rules and "forbidden_phrase" in card.implies_verdict:
        implied = {e.implies for e in load_lexicon(settings.lexicon).entries if e.implies}
        dropped = sorted(implied - set(card.verdict_order))
        if dropped:
            # verdict_order = ["impatience"] stopped 爱买不买 (implies conflict) counting as
            # conflict, unsaid: the card and the lexicon are each valid alone (audit 104 M2).
            warnings.append(
                f"the lexicon's entries imply {', '.join(dropped)}, which the scorecard's"
                f" findings.verdict_order ({', '.join(card.verdict_order)}) does not list: their hits"
                f" charge no {' or '.join(dropped)} verdict; list it in verdict_order, or drop"
                " forbidden_phrase from implies_verdict if that is meant"
            )
    if settings.user_dict is not None:
        from qc.readers.encoding import UndecodableError, decode_text

        if not Path(settings.user_dict).is_file():
            what = "a folder, not a file" if Path(settings.user_dict).is_dir() else "no such file"
            raise ConfigError(
                f"--user-dict {settings.user_dict}: {what} (one word per line: 词 [频次] [词性])"
            )
        try:
            decode_text(Path(settings.user_dict).read_bytes())
        except UndecodableError as exc:
            raise ConfigError(f"--user-dict {settings.user_dict}: {exc}") from None
    if CLASSIFIER in settings.rules:
        verify(settings.model)
    return warnings


def _rich_progress(enabled: bool) -> Progress:
    def track(items: Iterable[Any], total: int | None) -> Iterable[Any]:
        # total is None when the input is streamed: a bar without an end.
        if not enabled or (total is not None and total < 50):
            yield from items
            return
        from rich.console import Console
        from rich.progress import track as rich_track

        yield from rich_track(items, total=total, description="inspecting", console=Console(stderr=True))

    return track


@app.command("inspect")
@handle_errors
def inspect_cli(
    inputs: Annotated[
        list[str],
        typer.Argument(
            help="Transcript files or folders (a day's exports); with --engine spark also hdfs:// … URIs.",
            metavar="INPUT",
        ),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for findings, summaries and rejects.")],
    encoding: Annotated[
        str | None, typer.Option(help="Force the input encoding (utf-8, gb18030, utf-16); default: sniffed.")
    ] = None,
    input_format: Annotated[
        str | None,
        typer.Option(
            "--input-format",
            help="Force the format: jsonl (a JSON document too: an array or one object), csv, xlsx,"
            " text; default: sniffed.",
        ),
    ] = None,
    date: Annotated[
        str | None,
        typer.Option(help="Day of time-only text exports, YYYY-MM-DD; default: from the file name."),
    ] = None,
    timezone: Annotated[
        str | None,
        typer.Option(
            help="Time zone of timestamps written without an offset; default: the scorecard's [day] timezone."
        ),
    ] = None,
    column: Annotated[
        list[str] | None,
        typer.Option("--column", help="Override a CSV/XLSX column: FIELD=HEADER (repeatable)."),
    ] = None,
    agent_nick: Annotated[
        list[str] | None,
        typer.Option(
            "--agent-nick",
            help="A nick that is an agent, in text exports and in sheets or JSON without a role column"
            " (repeatable).",
        ),
    ] = None,
    customer_nick: Annotated[
        list[str] | None,
        typer.Option(
            "--customer-nick",
            help="A nick that is a buyer, in text exports and in sheets or JSON without a role column"
            " (repeatable).",
        ),
    ] = None,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet",
            "-q",
            help="No progress bar, summary or warnings; files not read and configuration at odds with"
            " itself are still said.",
        ),
    ] = False,
    scorecard: Annotated[
        Path | None,
        typer.Option("--scorecard", help="Shop scorecard TOML merged over the default (qc scorecard show)."),
    ] = None,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="Also save the run to a store: SQLite file path or SQLAlchemy URL (postgresql+psycopg://…);"
            " its conversations are upserted (read again: replaced; others kept) and the agents files"
            " are scored from the store.",
        ),
    ] = None,
    engine: Annotated[
        str, typer.Option(help="Where to run: local (this process) or spark (needs the spark extra).")
    ] = "local",
    master: Annotated[
        str | None,
        typer.Option(
            help="Spark master URL with --engine spark, e.g. yarn; default: spark-submit's, else local[2]."
        ),
    ] = None,
    spark_dir: Annotated[
        str | None,
        typer.Option(
            "--spark-dir",
            help="With --engine spark: where Spark writes its part files (default OUT/spark); on a cluster"
            " a folder the executors and this machine reach, e.g. hdfs:///qc/parts/2026-11-24.",
        ),
    ] = None,
    lexicon: Annotated[
        Path | None,
        typer.Option(
            "--lexicon",
            help="Forbidden-phrase lexicon file (check it with qc lexicon check); default: bundled.",
        ),
    ] = None,
    strict: Annotated[
        bool,
        typer.Option("--strict", help="Strict shop: any 不-word needs an apology or a reason (FP-0017)."),
    ] = False,
    user_dict: Annotated[
        Path | None,
        typer.Option("--user-dict", help="jieba user dictionary of the shop's product names (tokens only)."),
    ] = None,
    model: Annotated[
        Path | None, typer.Option("--model", help="Attitude model folder (qc train --out); default: bundled.")
    ] = None,
    jobs: Annotated[
        int, typer.Option("--jobs", "-j", min=1, help="Worker processes (local engine); output is the same.")
    ] = 1,
    batch_size: Annotated[
        int,
        typer.Option("--batch-size", min=1, help="Conversations per model call and per worker chunk."),
    ] = 256,
) -> None:
    """Inspect transcripts and write findings, summaries and rejects into --out.

    Reads JSON Lines, CSV, XLSX and 千牛/旺旺 text exports (encoding sniffed),
    builds conversations, runs the rule set and writes findings.jsonl,
    conversations.jsonl, rejects.jsonl and run.json into the output folder,
    then scores every agent per day with the scorecard: agents.csv, agents.xlsx,
    agents.json and deductions.jsonl. Slow replies and unanswered buyers become findings
    of their own (slow_response, missed_reply), so every point has evidence. With --db the
    conversations are upserted into a SQLite/PostgreSQL store, the days are scored from what
    the store holds, and each agent's appraisal period so far is printed too.
    Exit 1 if an input file could not be read (the others are still done), or nothing was
    inspected: the inputs held no chat export, or every record was rejected.

    \b
    Example:
        qc inspect demo/day --out out/demo
        qc inspect demo/day --out out/demo --scorecard shop.toml --db out/qc.sqlite
        qc inspect demo/day --out out/demo-spark --engine spark
        qc inspect day.jsonl --out out/day --jobs 2
        qc inspect demo/day --out out/strict --strict --lexicon shop_lexicon.toml --user-dict products.txt
    """  # noqa: D301 - the \b line keeps click from rewrapping the examples
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from qc.readers.options import ReadOptions
    from qc.rules import RuleSettings

    # URIs (hdfs://, s3a:// …) are for Spark to read; it says itself when one is missing.
    remote = [p for p in inputs if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", p) and not p.startswith("file:")]
    if remote and engine != "spark":
        raise ConfigError(f"{remote[0]}: URIs are read by --engine spark only; give a local file or folder")
    if "-" in inputs and not Path("-").exists():
        # Standard input is not read: the readers open a file more than once (audit 172 F10).
        raise ConfigError(
            "-: qc inspect reads files, not standard input; save the export to a file and give its path"
        )
    missing = [p for p in inputs if p not in remote and not Path(p).exists()]
    if missing:
        err(f"qc: no such file or folder: {', '.join(missing)}")
        raise typer.Exit(EXIT_USAGE)
    # A pipe (``<(zcat day.jsonl.gz)``) or a device: the readers open an input more than once
    # (a check of the whole file, then the records), and a pipe's second open waits for ever.
    special = [p for p in inputs if p not in remote and not Path(p).is_dir() and not Path(p).is_file()]
    if special:
        err(
            f"qc: {', '.join(special)}: a pipe or device, not a file; qc reads an input more than once."
            " Save it to a file first, e.g. zcat day.jsonl.gz > day.jsonl"
        )
        raise typer.Exit(EXIT_USAGE)
    unused = None if quiet else unused_build_note()  # the same results either way: no word under -q
    if unused:
        err(f"note: {unused}")
    output_folder(out)
    # Folders are read one level deep: results written straight into an input folder would be
    # read back as transcripts by the next run over it (and their rejects quoted again).
    into = [p for p in inputs if p not in remote and Path(p).is_dir() and Path(p).resolve() == out.resolve()]
    if into:
        raise ConfigError(
            f"--out {out} is the input folder {into[0]}: the next run over it would read qc's own files"
            f" as transcripts; write the results to a folder of their own, e.g. --out {out / 'qc-out'}"
        )
    if db is not None and "://" not in db:  # a SQLite file (and its -wal/-shm) beside the transcripts
        store_file = Path(db).resolve()
        holding = [
            p
            for p in inputs
            if p not in remote
            and (
                Path(p).resolve() == store_file
                or (Path(p).is_dir() and Path(p).resolve() == store_file.parent)
            )
        ]
        if holding:
            raise ConfigError(
                f"--db {db} is in the input folder {holding[0]}: the next run over it would read the store"
                f" as a transcript; keep the store beside the day's folders, e.g. --db {out / 'qc.sqlite'}"
            )
    if engine not in ("local", "spark"):
        raise ConfigError(f"--engine {engine!r} is unknown: use local or spark")
    if master is not None and engine != "spark":
        raise ConfigError("--master only applies with --engine spark")
    if spark_dir is not None and engine != "spark":
        raise ConfigError("--spark-dir only applies with --engine spark")
    if jobs > 1 and engine != "local":
        raise ConfigError("--jobs only applies with --engine local (Spark has its own executors)")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if jobs > _JOBS_PER_CORE * cores:
        # Each worker loads the model: a slip of a key (--jobs 1000000) started processes until
        # the machine gave out; past the cores, more workers only slow the run.
        raise ConfigError(
            f"--jobs {jobs} is more than {_JOBS_PER_CORE} workers per core of this machine ({cores}"
            f" cores); use --jobs {cores}"
        )
    settings = RuleSettings(lexicon=lexicon, model=model, user_dict=user_dict, strict=strict)
    with stop_on_signals(out):
        executor: Executor | None = None
        if jobs > 1:
            from qc.run.pool import PoolExecutor

            # Started first: the workers load their models while this process checks the settings.
            executor = PoolExecutor(settings, jobs, batch_size, preload=("qc.batch.preload",))
        try:
            day = Date.fromisoformat(check_day(date, "--date")) if date else None
            if timezone is not None:
                try:
                    ZoneInfo(timezone)
                except (ZoneInfoNotFoundError, ValueError):
                    raise ConfigError(
                        f"--timezone {timezone!r} is unknown: use an IANA name such as Asia/Shanghai"
                    ) from None
            from qc.scoring.card import load_scorecard

            card = load_scorecard(scorecard)  # a bad card fails (exit 2) before any work
            check_nicks(agent_nick or [], customer_nick or [])
            options = ReadOptions(
                encoding=encoding,
                format=input_format,
                date=day,
                # One clock unless told otherwise: a shop's naive times are on the day it counts.
                timezone=timezone or card.day.timezone,
                column_map=parse_columns(column or []),
                agent_nicks=frozenset(agent_nick or ()),
                customer_nicks=frozenset(customer_nick or ()),
            )
            config_warnings = check_settings(settings, card)
            for warning in config_warnings:
                err(f"warning: {warning}")
            from qc.batch.run import settings_record

            run_info = {**settings_record(options, settings.user_dict), "config_warnings": config_warnings}
            if engine == "spark":
                from qc.batch.spark_day import check_parts_folder, parts_folder

                # Before the store is made: a refused run leaves every file as it was.
                parts = parts_folder(Path(out), spark_dir)
                check_parts_folder(None, parts, [str(p) for p in inputs], Path(out), db)
            if db is not None:
                from qc.store.database import open_store

                with open_store(
                    db, save=True
                ) as checked:  # a store that cannot serve fails now, not after the day
                    checked.check_writable()
            progress = _rich_progress(show_progress(quiet))
            if engine == "spark":
                from qc.batch.spark_day import run_spark_inspection

                # Spark lists folders itself (also on hdfs:// …), as expand_inputs lists local ones.
                report = run_spark_inspection(
                    inputs,
                    out,
                    settings,
                    options,
                    master=master,
                    scorecard=card,
                    store=db,
                    parts=spark_dir,
                    batch_size=batch_size,
                    run_info=run_info,
                    on_saved=_note_saved,
                    on_committing=_note_committing,
                )
            else:
                files = [Path(p) for p in inputs]  # folders are listed by the reader (and its refusals)
                from qc.batch.run import run_inspection
                from qc.run.executors import LocalExecutor
                from qc.run.inspector import build_inspector, settle_heap

                if executor is None:
                    executor = LocalExecutor(build_inspector(settings), batch_size)
                settle_heap()  # this process inspects (or reads for the workers) until the batch ends
                report = run_inspection(
                    files,
                    out,
                    executor,
                    options,
                    progress=progress,
                    run_info=run_info,
                    scorecard=card,
                    store=db,
                    keep_results=False,
                    on_saved=_note_saved,
                    on_committing=_note_committing,
                )
        finally:
            if executor is not None:
                executor.close()
    for failed in report.read.failed_files:
        err(f"qc: {one_line(failed.path)}: {one_line(failed.error)}")
    if (nothing := report.nothing_read) is not None:  # said under --quiet too, and exit 1
        err(f"qc: nothing inspected: {nothing}")
    if quiet:  # a file not read is said even so: a cron run must not pass over a day's chats unsaid
        for skipped in report.read.skipped_files:
            err(f"qc: {one_line(skipped.path)}: skipped: {one_line(skipped.skipped)}")
    else:
        for warning in report.read.warnings[:20]:
            err(f"warning: {one_line(warning)}")
        if len(report.read.warnings) > 20:
            err(f"warning: … and {len(report.read.warnings) - 20} more (see run.json)")
        if orphans := report.run.get("orphaned_decisions"):
            err(
                f"warning: {len(orphans)} reviewed findings are gone from this run's conversations: their"
                " decisions are orphaned and kept in the audit log (qc review log --orphaned; run.json"
                " orphaned_decisions); findings that took their place are undecided"
            )
        if moves := report.run.get("moved_decisions"):
            err(f"{len(moves)} decisions followed their findings to new ids (run.json moved_decisions)")
        r = report.read
        err(
            f"read {r.read} records: {r.accepted} accepted, {r.rejected} rejected"
            f" ({report.conversations} conversations, {report.finding_count} findings,"
            f" {report.evidence_count} of them slow replies or unanswered buyers)"
            f" in {report.seconds:.1f}s → {out}"
        )
        if r.rejected:
            # The count alone said neither which lines nor where to look.
            err(
                f"the {r.rejected} rejected records, each with its file, line and why:"
                f" {Path(out) / 'rejects.jsonl'}"
            )
        print_agents_summary(report.agents, report.scorecard, report.period_agents)
    raise typer.Exit(report.exit_code)


def _note_saved(run_id: int) -> None:
    note_committed(f"run {run_id} was saved in the store (--db)")


def _note_committing(run_id: int) -> None:
    note_committing(f"run {run_id} was being saved in the store (--db)")


def print_agents_summary(rows: list[dict[str, Any]], card: Any = None, period_rows: Any = ()) -> None:
    """Per-agent tables on stderr: each day the run touched, then (with --db) the appraisal period so far."""
    from qc.scoring.card import load_scorecard

    card = card or load_scorecard()
    print_agent_table(rows, card, "agents per day (daily view)")
    if period_rows:
        title = f"agents per {card.appraisal} (考核周期, pooled from the store so far)"
        print_agent_table(list(period_rows), card, title)
