"""``qc scorecard``: look at the scorecard qc scores agents with."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from qc.cli import app
from qc.cli._common import err, handle_errors
from qc.errors import ConfigError

scorecard_app = typer.Typer(
    help=(
        "Show the shop scorecard: points, thresholds and the day rule.\n\n"
        "Example:\n\n    qc scorecard show --scorecard shop.toml"
    ),
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(scorecard_app, name="scorecard")


@scorecard_app.command("show")
@handle_errors
def show_cli(
    scorecard: Annotated[
        Path | None,
        typer.Option("--scorecard", help="Shop scorecard TOML merged over the packaged default."),
    ] = None,
    output_format: Annotated[str, typer.Option("--format", help="toml or json.")] = "toml",
) -> None:
    """Print the effective scorecard (default merged with --scorecard) and its hash.

    The card goes to stdout, its SHA-256 (recorded in run.json and the store with every run)
    first as a comment line (a "hash" key in JSON); stderr names the card, its source and hash.
    A bad file exits 2 naming the key and the fix.

    \b
    Example:
        qc scorecard show --scorecard shop.toml --format json
    """  # noqa: D301 - the \b line keeps click from rewrapping the examples
    from qc.scoring.card import load_scorecard

    if output_format not in ("toml", "json"):
        raise ConfigError(f"--format {output_format!r} is unknown: use toml or json")
    card = load_scorecard(scorecard)
    if output_format == "json":
        typer.echo(json.dumps({"hash": card.hash, "scorecard": card.data}, ensure_ascii=False, indent=2))
    else:
        typer.echo(f"# scorecard hash: {card.hash}")
        typer.echo(card.to_toml(), nl=False)
    err(f"scorecard {card.name} v{card.version} from {card.source}; sha256 {card.hash}")
