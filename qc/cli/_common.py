"""Options and helpers shared by the commands."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import typer

from qc.errors import QcError

P = ParamSpec("P")
T = TypeVar("T")


def err(message: str) -> None:
    """Write a message for people to stderr (stdout carries data only)."""
    typer.echo(message, err=True)


def show_progress(quiet: bool) -> bool:
    """Progress bars only on an interactive stderr and never with ``--quiet``."""
    return not quiet and sys.stderr.isatty()


def handle_errors(func: Callable[P, T]) -> Callable[P, T]:
    """Turn :class:`~qc.errors.QcError` into ``qc: message`` on stderr and its exit code."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return func(*args, **kwargs)
        except QcError as exc:
            err(f"qc: {exc}")
            raise typer.Exit(exc.exit_code) from None

    return wrapper


def print_agent_table(rows: list[dict[str, Any]], card: Any, title: str, limit: int = 50) -> None:
    """A per-agent table on stderr (``qc.outputs.writers.summary_table``): what a QA lead checks first.

    The 服务态度 item's counts, points and score come first, then the other items in card order
    (metric value with its sample in brackets, points, score), then the total.
    """
    if not rows:
        return
    from rich.console import Console
    from rich.table import Table

    from qc.outputs.writers import summary_table

    headers, cells = summary_table(rows[:limit], card)
    table = Table(title=title, title_justify="left")
    for n, header in enumerate(headers):
        table.add_column(header, justify="left" if n < 2 else "right")
    for line in cells:
        table.add_row(*line)
    # Piped or logged stderr has no width: give the table all the room it needs, unfolded.
    console = Console(stderr=True, width=None if sys.stderr.isatty() else 400)
    console.print(table)
    if len(rows) > limit:
        console.print(f"… and {len(rows) - limit} more rows in agents.csv")
