"""The ``qc`` command line: thin Typer wrappers over importable functions.

Every module in this package defines commands on :data:`app` (or a sub-app)
and is imported here, so adding a command never edits a shared list. Heavy
libraries (spaCy, jieba, snownlp, scikit-learn) are imported inside the
commands, so ``qc --help`` answers at once.
"""

from __future__ import annotations

import importlib
import pkgutil
import signal
import sys

import typer

from qc import __version__
from qc.errors import QcError

app = typer.Typer(
    name="qc",
    help="Quality-inspect (质检) Chinese e-commerce customer-service chats.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"qc {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the qc version and exit."
    ),
) -> None:
    """Quality-inspect (质检) Chinese e-commerce customer-service chats.

    Exit codes: 0 ran (findings or not; an empty result is said on stderr);
    1 runtime failure such as an unreadable input file (the rest of the batch
    is still processed); 2 usage or configuration error, or a refused review
    or appeal step; 3 qc check --fail-on-hit found a live hit; 70 a bug in qc
    (named by type and place, never its text); 75 the store (--db) is busy:
    another qc is writing to it (nothing was changed).
    """


for _info in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_info.name}")


def main() -> None:
    """Run the CLI, turning qc's own errors into a message and an exit code (no traceback)."""
    try:
        app(standalone_mode=True)
    except QcError as exc:  # raised outside a command's own handling
        typer.echo(f"qc: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:  # a Ctrl-C outside a command (while Typer builds the commands)
        typer.echo("qc: stopped by SIGINT", err=True)
        sys.exit(128 + signal.SIGINT)
