"""``qc lexicon``: validate and show forbidden-phrase lexicon files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from qc.cli import app
from qc.cli._common import err, handle_errors
from qc.errors import EXIT_USAGE

lexicon_app = typer.Typer(
    name="lexicon",
    help=(
        "Validate and show forbidden-phrase lexicons.\n\n"
        "Example:\n\n    qc lexicon check lexicons/forbidden.toml"
    ),
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(lexicon_app, name="lexicon")


def validate_lexicon(path: Path | None = None) -> tuple[Any, list[str]]:
    """Load a lexicon and run every example; returns (lexicon or None, problems).

    Format problems (duplicate ids or phrases, unknown keys, allowlisted
    phrases) come from loading; behaviour problems from running each entry's
    hit and miss examples through ``forbidden_phrase.v1``.
    """
    from qc.rules.forbidden_phrase import example_failures
    from qc.rules.lexicon import LexiconProblem, load_lexicon

    try:
        lexicon = load_lexicon(path)
    except LexiconProblem as exc:
        return None, list(exc.problems)
    return lexicon, example_failures(lexicon)


@lexicon_app.command("check")
@handle_errors
def check_lexicon_cli(
    file: Annotated[
        Path | None, typer.Argument(help="Lexicon file; default: the bundled lexicons/forbidden.toml.")
    ] = None,
) -> None:
    """Validate a lexicon: format, duplicate ids and phrases, and every hit/miss example.

    Problems go to stderr, one per line, naming the entry id and line. Exit 0
    when valid, 2 when not.

    Example:

        qc lexicon check lexicons/forbidden.toml
    """
    from qc.rules.lexicon import default_lexicon_path

    path = file or default_lexicon_path()
    lexicon, problems = validate_lexicon(path)
    if problems:
        err(f"qc: {path}: {len(problems)} problem(s)")
        for p in problems:
            err(f"  {p}")
        raise typer.Exit(EXIT_USAGE)
    n_examples = sum(len(e.hits) + len(e.misses) for e in lexicon.entries)
    err(f"{path}: valid, version {lexicon.label}, {len(lexicon.entries)} entries, {n_examples} examples pass")


@lexicon_app.command("show")
@handle_errors
def show_lexicon_cli(
    file: Annotated[Path | None, typer.Argument(help="Lexicon file; default: bundled.")] = None,
) -> None:
    """Print a lexicon's version, entries and [transfer] words as JSON.

    Each entry with its id, title, scope, phrases and implied cue.

    \b
    Example:
        qc lexicon show > lexicon.json
        qc lexicon show lexicons/forbidden.toml
    """  # noqa: D301 - the \b line keeps click from rewrapping the examples
    from qc.rules.lexicon import load_lexicon

    lex = load_lexicon(file)
    doc = {
        **lex.describe(),
        "label": lex.label,
        "entries": [
            {
                "id": e.id,
                "title": e.title,
                "scope": e.scope,
                "strict_only": e.strict_only,
                "implies": e.implies,
                "live_after": list(e.live_after),
                "phrases": list(e.phrases),
                "line": e.line,
            }
            for e in lex.entries
        ],
        # The silent-transfer rule's words (null: the lexicon checks no transfer).
        "transfer": (
            {
                "notices": list(lex.transfer.notices),
                "handover": list(lex.transfer.handover),
                "lookback": lex.transfer.lookback,
            }
            if lex.transfer is not None
            else None
        ),
    }
    typer.echo(json.dumps(doc, ensure_ascii=False, indent=2))
