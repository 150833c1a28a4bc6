"""The ``--db`` option and store opening shared by the review, report and sample commands."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from qc.cli._common import err
from qc.errors import EXIT_USAGE, ConfigError, QcError

if TYPE_CHECKING:  # SQLAlchemy costs 0.2 s to import: only commands that open a store pay it
    from qc.scoring.periods import Period
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


def scored_window(date: str | None, period: str | None, date_from: str | None, date_to: str | None) -> Period:
    """The window of exactly one of ``--date D``, ``--period P`` or ``--from D --to D``.

    One rule for every command that scores a stored window (`qc export`, `qc review export`),
    so a sheet and the export of the same window are the same window. ``--date undated`` is the
    chats without times.

    Raises:
        ConfigError: none or several given, a half range, or a value that is not a day or period.
    """
    from qc.cli._common import check_day
    from qc.readers.limits import load_limits
    from qc.scoring.metrics import UNDATED
    from qc.scoring.periods import parse_period, range_period

    for value, option in ((date, "--date"), (date_from, "--from"), (date_to, "--to")):
        if value and not (option == "--date" and value == UNDATED):
            check_day(value, option)
    given = [name for name, value in (("--date", date), ("--period", period)) if value]
    if date_from or date_to:
        given.append("--from/--to")
    if len(given) != 1:
        raise ConfigError("say which days with one of --date D, --period P or --from D --to D")
    if date_from or date_to:
        if not (date_from and date_to):
            raise ConfigError("--from and --to go together: give both days of the range")
        return range_period(date_from, date_to)
    if date:
        return range_period(date, date)
    window = parse_period(period or "")
    if window.first != UNDATED:
        # As --date and --from/--to are: a period of year 1 or 9999 holds no stored day (audit 153 L2).
        for day in {window.first, window.last}:
            try:
                check_day(day, "--period")
            except ConfigError:
                first, last = load_limits().years
                raise ConfigError(
                    f"--period {period!r} is outside the years qc accepts, {first}–{last}"
                ) from None
    return window


class NoStoreError(QcError):
    """The store named by --db does not exist."""

    exit_code = EXIT_USAGE


def warn_other_scorecard(store: Store, card: Any, date_from: str, date_to: str) -> None:
    """Say on stderr when the days were inspected with another scorecard than the one scoring them now.

    Scores are derived from what is stored, with the card given here (the bundled one unless
    --scorecard): a shop that inspects with its own card and exports without it would read
    other numbers than its runs printed, unwarned.
    """
    from qc.outputs.compare import other_cards

    runs = store.inspected_with(date_from, date_to)
    other = other_cards(runs, card)
    if not other:
        return
    names = ", ".join(f"{name or 'unnamed'} ({h[:12]})" for h, name in sorted(other.items()))
    some = len(other) < len({r["scorecard_hash"] for r in runs})
    # Some days under this card and some under another: the pooled numbers mix what neither card's
    # runs printed (audit 113 M1: a month with one day charged at −3 a conflict was silent).
    # The bundled card itself changed between qc versions (v3 holds the classifier's verdicts
    # for review): "pass the same --scorecard" named no card the user ever gave (audit 165 M6).
    from qc.scoring.card import DEFAULT_SCORECARD

    bundled = Path(str(card.source)).resolve() == DEFAULT_SCORECARD.resolve()
    same_name = any(name == card.name for name in other.values())
    changed = (
        "; if they were inspected with no --scorecard, the bundled card changed with qc: from v3 it holds"
        " the attitude classifier's verdicts for review ([findings] review_only)"
        if bundled and same_name
        else ""
    )
    err(
        f"warning: {'some of ' if some else ''}{date_from}…{date_to} were inspected with scorecard {names};"
        f" these numbers use {card.name} v{card.version} ({card.hash[:12]}, {card.source}){changed}: pass the"
        " same --scorecard to see the runs' numbers"
    )


def warn_still_charged(others: list[Any], appeals: dict[str, int] | None = None, where: str = "") -> None:
    """Say which findings still charge a rejected finding's message (the reviewer may reject them too).

    ``appeals`` names the appeal deciding each finding no review may change: for those the way is
    a supervisor reopening that appeal, not a review the store would refuse. ``where`` leads the
    warning (a review sheet's row).
    """
    if not others:
        return
    appeals = appeals or {}
    named = ", ".join(
        f"{s.id} ({s.finding.kind}{', ' + s.finding.entry if s.finding.entry else ''})" for s in others
    )
    free = [s.id for s in others if s.id not in appeals]
    ways = []
    if free:
        ways.append(f"reject {', '.join(free)} too if the message is fine (qc review ID --reject …)")
    ways += [
        f"{fid} is decided by appeal #{n}: its ruling, or a supervisor reopening a final one, changes that"
        for fid, n in appeals.items()
    ]
    backs = "also backs" if len(others) == 1 else "also back"
    err(f"warning: {where}its message is still charged: {named} {backs} its verdict; {'; '.join(ways)}")


def open_db(db: str) -> Store:
    """Open an existing store (a missing SQLite file is an error, not a new empty store)."""
    from qc.store.database import open_store, sqlite_file_of

    # A sqlite:/// URL too: SQLite made the missing file on connecting, empty and world-readable,
    # and a later qc inspect filled it as it was (audit 171 L3).
    file = sqlite_file_of(db)
    if "://" in db and file is not None and file.is_dir():  # a path is told so by open_store (audit 174 L5)
        raise NoStoreError(f"--db {db} is a folder, not a store file: give the store's file")
    if file is not None and not file.exists():
        raise NoStoreError(f"no store at {db}: run `qc inspect DAY --out DIR --db {db}` first, or pass --db")
    # An empty file is no store either: opened, it became one (every qc table written into it),
    # by a read or a check (qc serve --check) given a mistyped path.
    if file is not None and file.is_file() and file.stat().st_size == 0:
        raise NoStoreError(
            f"no store at {db}: the file is empty; run `qc inspect DAY --out DIR --db {db}` first,"
            " or pass --db"
        )
    return open_store(db, existing=True)
