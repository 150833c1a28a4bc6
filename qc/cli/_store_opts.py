"""The ``--db`` option and store opening shared by the review, report and sample commands."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from qc.errors import EXIT_USAGE, QcError

if TYPE_CHECKING:  # SQLAlchemy costs 0.2 s to import: only commands that open a store pay it
    from qc.store.database import Store

DEFAULT_DB = "out/qc.sqlite"

DbOption = Annotated[
    str,
    typer.Option(
        "--db",
        envvar="QC_DB",
        help="The store written by `qc inspect --db`: SQLite path or SQLAlchemy URL (env QC_DB).",
    ),
]
MaskOption = Annotated[
    bool,
    typer.Option(
        "--mask-pii",
        help="Mask buyers' phones, ID/order/tracking numbers, e-mails, addresses and names"
        " (lexicons/pii.toml).",
    ),
]


class NoStoreError(QcError):
    """The store named by --db does not exist."""

    exit_code = EXIT_USAGE


def open_db(db: str) -> Store:
    """Open an existing store (a missing SQLite file is an error, not a new empty store)."""
    from qc.store.database import open_store

    if "://" not in db and not Path(db).expanduser().exists():
        raise NoStoreError(f"no store at {db}: run `qc inspect DAY --out DIR --db {db}` first, or pass --db")
    return open_store(db)
