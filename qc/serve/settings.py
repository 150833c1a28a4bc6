"""The workbench's policy numbers: sign-in, throttle, capacity, page sizes.

They live in ``qc/defaults/workbench.toml`` (documented there) and only there; ``qc serve
--settings FILE`` or the file named by ``QC_WORKBENCH`` is read over the bundled one, so a shop
that wants a shorter idle time or a stricter throttle edits a file, not the code (audit 104
L6: these numbers were constants in ``qc/serve``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from qc.errors import ConfigError
from qc.paths import defaults_dir

__all__ = ["DEFAULT_SETTINGS", "WORKBENCH_ENV", "WorkbenchSettings", "load_workbench_settings"]

DEFAULT_SETTINGS = defaults_dir() / "workbench.toml"
WORKBENCH_ENV = "QC_WORKBENCH"

# Which table of the file each setting is written under.
_TABLES = {
    "sign_in": (
        "session_idle_minutes",
        "sign_in_page_minutes",
        "max_failures",
        "failure_window_seconds",
        "password_checks_at_once",
    ),
    "capacity": (
        "max_signed_in_sessions",
        "max_sign_in_pages",
        "max_throttled_names",
        "max_request_bytes",
        "requests_at_once",
        "max_field_chars",
    ),
    "pages": ("trend_weeks", "trend_months", "search_page_size", "search_hit_chars"),
}


# Bounds that keep a page computable: a trend reaching before year 1 overflowed the calendar, and
# a search page's offset must fit the store's integers.
# A request size under which a form of the workbench (a sign-in, a note of a few hundred characters)
# is refused: 1 byte was accepted and nobody could sign in (audit 116 L4).
_LEAST = {
    "max_request_bytes": (8192, "a form with a long note must fit"),
    "max_field_chars": (200, "a note of a few sentences must fit"),
    "search_hit_chars": (40, "a hit must show its words with some around them"),
}
_MOST = {
    "trend_weeks": (520, "ten years of weeks on one chart"),
    "trend_months": (120, "ten years of months on one chart"),
    "search_page_size": (10_000, "one page must render in a browser"),
    # SQLAlchemy's pool holds 15 connections and a decision may hold two while it writes: 15
    # decisions at once each held one and waited for a second, and the workbench stood still for
    # the 30 s of the pool's timeout (audit 128 M1).
    "requests_at_once": (7, "each request may hold two of the store's 15 connections"),
}


@dataclass(frozen=True, slots=True)
class WorkbenchSettings:
    """The settings of one workbench, and the file they were read from (``source``)."""

    session_idle_minutes: int
    sign_in_page_minutes: int
    max_failures: int
    failure_window_seconds: int
    password_checks_at_once: int
    max_signed_in_sessions: int
    max_sign_in_pages: int
    max_throttled_names: int
    max_request_bytes: int
    requests_at_once: int
    trend_weeks: int
    trend_months: int
    search_page_size: int
    max_field_chars: int
    search_hit_chars: int
    source: str = "qc/defaults/workbench.toml"


def load_workbench_settings(path: Path | None = None) -> WorkbenchSettings:
    """The settings in ``path``, else in ``$QC_WORKBENCH``'s file, else the bundled ones.

    A chosen file is read over the bundled one: keys it leaves out keep the bundled values.

    Raises:
        ConfigError: the file is missing, not TOML, names an unknown table or key, or holds a
            value that is not a positive whole number (exit 2, with the file and the key).
    """
    chosen = path or (Path(os.environ[WORKBENCH_ENV]) if os.environ.get(WORKBENCH_ENV) else None)
    values = _read(DEFAULT_SETTINGS, str(DEFAULT_SETTINGS))
    source = "qc/defaults/workbench.toml"
    if chosen is not None and Path(chosen).resolve() != DEFAULT_SETTINGS.resolve():
        # Named with the variable that chose it: a user who gave no --settings must see where it came from.
        source = str(chosen) if path is not None else f"{chosen} ({WORKBENCH_ENV})"
        values.update(_read(Path(chosen), source))
    missing = sorted({f.name for f in fields(WorkbenchSettings)} - {"source"} - set(values))
    if missing:
        raise ConfigError(f"{DEFAULT_SETTINGS}: lacks {missing}; reinstall qc")
    return WorkbenchSettings(**values, source=source)


def _read(path: Path, shown: str) -> dict[str, int]:
    """The checked settings of one file, flattened (table names dropped); ``shown`` names it in errors."""
    from qc.readers.encoding import read_config_toml

    try:
        data: dict[str, Any] = read_config_toml(path, "workbench settings")
    except ConfigError as bad:
        raise ConfigError(str(bad).replace(str(path), shown, 1)) from None
    path = Path(shown)  # errors below name it so too
    values: dict[str, int] = {}
    for table, keys in data.items():
        if table not in _TABLES:
            where = next((t for t, ks in _TABLES.items() if table in ks), None)
            hint = f"; {table} goes under [{where}]" if where else f"; the tables are {sorted(_TABLES)}"
            raise ConfigError(f"{path}: unknown table or key {table!r}{hint}")
        if not isinstance(keys, dict):
            raise ConfigError(f"{path}: [{table}] must be a table of settings")
        for key, value in keys.items():
            if key not in _TABLES[table]:
                where = next((t for t, ks in _TABLES.items() if key in ks), None)
                hint = f"; {key} goes under [{where}]" if where else f"; it takes {list(_TABLES[table])}"
                raise ConfigError(f"{path}: [{table}] has no setting {key!r}{hint}")
            if type(value) is not int or value <= 0:
                raise ConfigError(f"{path}: [{table}] {key} must be a positive whole number, not {value!r}")
            if key in _LEAST and value < _LEAST[key][0]:
                raise ConfigError(
                    f"{path}: [{table}] {key} {value} must be at least {_LEAST[key][0]}: {_LEAST[key][1]}"
                )
            if key in _MOST and value > _MOST[key][0]:
                raise ConfigError(
                    f"{path}: [{table}] {key} {value} must be at most {_MOST[key][0]}: {_MOST[key][1]}"
                )
            values[key] = value
    return values
