"""Options and helpers shared by the commands."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

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
