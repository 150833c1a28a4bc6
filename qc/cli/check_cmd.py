"""``qc check``: forbidden phrases in one text or a file of draft replies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from qc.cli import app
from qc.cli._common import handle_errors
from qc.errors import ConfigError, InputError

EXIT_HIT = 3


def parse_check_file(path: Path) -> list[tuple[str, list[Any]]]:
    """Read ``qc check --file`` input: one message per line, or JSON Lines with context.

    A line starting with ``{`` is JSON: ``{"text": ..., "context": [...]}``
    where context items are buyer texts or ``{"role": ..., "text": ...}``
    objects (the annotated-samples format). Any other non-blank line is
    one agent message with no context.

    Raises:
        InputError: the file cannot be read or a JSON line is malformed (file and line named).
    """
    from qc.readers.encoding import UndecodableError, decode_text

    try:
        raw, _ = decode_text(path.read_bytes())  # UTF-8 (BOM or not), GBK, UTF-16: as the readers sniff
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    except UndecodableError as exc:
        raise InputError(f"{path}: {exc}") from None
    items: list[tuple[str, list[Any]]] = []
    for no, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        if not line.lstrip().startswith("{"):
            items.append((line, []))
            continue
        try:
            record = json.loads(line)
            text = record["text"]
            context = [
                c if isinstance(c, str) else (str(c.get("role", "customer")), str(c["text"]))
                for c in record.get("context") or []
            ]
            if not isinstance(text, str):
                raise TypeError
        except (ValueError, KeyError, TypeError, AttributeError):
            raise InputError(
                f'{path}:{no}: expected {{"text": "...", "context": ["buyer text", ...]}} or a plain line'
            ) from None
        items.append((text, context))
    return items


def check_messages(
    items: list[tuple[str, list[Any]]],
    lexicon: Path | None = None,
    strict: bool = False,
    explain: bool = False,
) -> list[dict[str, Any]]:
    """Check agent texts (each after its context) and return one JSON-ready result per text."""
    from qc.rules.forbidden_phrase import ForbiddenPhraseRule, check_text
    from qc.rules.lexicon import load_lexicon

    lex = load_lexicon(lexicon)
    rule = ForbiddenPhraseRule(lex, strict=strict)
    results = []
    for text, context in items:
        try:
            findings = check_text(rule, text, context)
        except ValueError as exc:
            raise ConfigError(f"bad context role: {exc}; use customer or agent") from None
        shown = [f for f in findings if explain or f.live]
        results.append(
            {
                "text": text,
                "live": sum(1 for f in findings if f.live),
                "suppressed": sum(1 for f in findings if f.suppressed),
                "findings": [
                    {
                        "entry": f.entry,
                        "start": f.start,
                        "end": f.end,
                        "text": f.text,
                        "suppressed": f.suppressed,
                        "implies": f.evidence.details.get("implies"),
                        "cue": f.cue,
                        "summary": f.evidence.summary,
                    }
                    for f in shown
                ],
                "lexicon": lex.label,
                "strict": strict,
            }
        )
    return results


def _table(results: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table("message", "entry", "span", "match", "verdict", "implies", "cue")
    for r in results:
        if not r["findings"]:
            table.add_row(r["text"], "", "", "", "clean", "", "")
        for f in r["findings"]:
            span = "" if f["start"] is None else f"{f['start']}-{f['end']}"
            verdict = "suppressed" if f["suppressed"] else "LIVE"
            table.add_row(r["text"], f["entry"], span, f["text"], verdict, f["implies"] or "", f["cue"] or "")
    Console(soft_wrap=True).print(table)


@app.command("check")
@handle_errors
def check_cli(
    text: Annotated[str | None, typer.Argument(help="The agent message or draft reply to check.")] = None,
    context: Annotated[
        list[str] | None,
        typer.Option("--context", "-c", help="What the buyer said before, oldest first (repeatable)."),
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option("--file", "-f", help='One message per line, or JSON Lines {"text", "context"}.'),
    ] = None,
    output_format: Annotated[
        str, typer.Option("--format", help="json (default, one line per message) or table.")
    ] = "json",
    explain: Annotated[
        bool, typer.Option("--explain", help="Also show suppressed hits and their veto cue.")
    ] = False,
    lexicon: Annotated[Path | None, typer.Option("--lexicon", help="Lexicon file; default: bundled.")] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Strict shop: any 不-word needs an apology or reason.")
    ] = False,
    fail_on_hit: Annotated[
        bool, typer.Option("--fail-on-hit", help="Exit 3 when any live hit is found (pre-send lint).")
    ] = False,
) -> None:
    """Check a message or draft reply for forbidden phrases, judged in the buyer's context.

    Prints one JSON object per checked message on stdout (live findings with
    span, entry, implied cue and explanation; suppressed ones too with
    --explain). Exit 0 when it ran, 2 on usage or lexicon errors, 3 with
    --fail-on-hit when a live hit was found.

    Example:

        qc check "哦" --context "能今天发货吗"

        qc check "我不清楚呢，马上帮您问一下" --explain --format table

        qc check --file drafts.jsonl --strict --fail-on-hit
    """
    if (text is None) == (file is None):
        raise ConfigError("give either TEXT or --file FILE (not both)")
    if output_format not in ("json", "table"):
        raise ConfigError(f"--format {output_format!r}: use json or table")
    if file is not None and context:
        raise ConfigError("--context goes with TEXT; in --file put it on each JSON line")
    if file is not None:
        try:
            items = parse_check_file(file)
        except InputError as exc:
            raise ConfigError(str(exc)) from None
    else:
        items = [(text or "", list(context or []))]
    results = check_messages(items, lexicon=lexicon, strict=strict, explain=explain)
    if output_format == "table":
        _table(results)
    else:
        for r in results:
            typer.echo(json.dumps(r, ensure_ascii=False))
    if fail_on_hit and any(r["live"] for r in results):
        raise typer.Exit(EXIT_HIT)
