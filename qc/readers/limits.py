"""Limits on what one input may cost: message length, XLSX rows and cells, JSON documents, years.

Numbers live in ``qc/defaults/limits.toml`` (documented there), and only there; the file named
by the ``QC_LIMITS`` environment variable is read over it when set (worker processes inherit
it): keys it leaves out keep the bundled values.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

from qc.errors import ConfigError
from qc.paths import defaults_dir

__all__ = ["DEFAULT_LIMITS", "InputLimits", "limits_source", "load_limits"]

DEFAULT_LIMITS = defaults_dir() / "limits.toml"
_MAY_BE_ZERO = frozenset({"clock_out_of_turn_minutes"})


@dataclass(frozen=True, slots=True)
class InputLimits:
    """The ``[input]`` table of the limits file."""

    max_message_chars: int
    xlsx_max_rows: int
    xlsx_max_cells: int
    json_document_max_bytes: int
    earliest_year: int
    latest_year: int
    clock_back_rollover_minutes: int
    clock_out_of_turn_minutes: int
    sheet_clock_back_rollover_minutes: int
    rule_line_followup_seconds: int

    @property
    def years(self) -> tuple[int, int]:
        """The first and last year a day qc is asked about may fall in."""
        return (self.earliest_year, self.latest_year)

    @property
    def message_years(self) -> tuple[int, int]:
        """The first and last year a message's timestamp may fall in: :attr:`years`, and not after next year.

        By this machine's clock: a reply whose year was mistyped (2062 for 2026) was accepted, put
        a day of 2062 in the agents' table with its points and timed the next reply from it (audit
        172 F3). Next year stays open: a shop west of the machine's zone, a clock a little slow.
        """
        return (self.earliest_year, min(self.latest_year, date.today().year + 1))

    @property
    def rollover(self) -> timedelta:
        """How far a text export conversation's clock-only time may go back before it is the next day's."""
        return timedelta(minutes=self.clock_back_rollover_minutes)

    @property
    def out_of_turn(self) -> timedelta:
        """How far before the line that crossed midnight a text export line may be listed, that night."""
        return timedelta(minutes=self.clock_out_of_turn_minutes)

    @property
    def rule_line_followup(self) -> timedelta:
        """How soon a text export's chat must go on for a rule line running on into words to be text."""
        return timedelta(seconds=self.rule_line_followup_seconds)

    @property
    def sheet_rollover(self) -> timedelta:
        """The same for CSV and XLSX rows (sheets are often sorted otherwise than by time)."""
        return timedelta(minutes=self.sheet_clock_back_rollover_minutes)


def limits_source() -> str:
    """Where the limits in force come from, as messages name it: ``$QC_LIMITS``'s file or the bundled one.

    A warning that quotes a limit sends the reader to the file that set it.
    """
    chosen = os.environ.get("QC_LIMITS")
    return f"{chosen} (QC_LIMITS)" if chosen else "qc/defaults/limits.toml"


def load_limits(path: Path | None = None) -> InputLimits:
    """The limits in ``path``, else in ``$QC_LIMITS``, else the bundled defaults.

    A chosen file is read over the bundled one: keys it leaves out keep the bundled values.

    Raises:
        ConfigError: The file is missing, not TOML, has an unknown key or a value that is not
            a positive integer (0 too for clock_out_of_turn_minutes); or the bundled file lacks a key.
    """
    chosen = path or (Path(os.environ["QC_LIMITS"]) if os.environ.get("QC_LIMITS") else DEFAULT_LIMITS)
    return _load(Path(chosen).resolve())


@lru_cache(maxsize=8)
def _load(path: Path) -> InputLimits:
    table = _table(DEFAULT_LIMITS.resolve())
    if path != DEFAULT_LIMITS.resolve():
        table = {**table, **_table(path)}
    missing = sorted({f.name for f in fields(InputLimits)} - set(table))
    if missing:
        raise ConfigError(f"{DEFAULT_LIMITS}: the [input] table lacks {missing}; reinstall qc")
    limits = InputLimits(**table)
    daily = ("clock_back_rollover_minutes", "clock_out_of_turn_minutes", "sheet_clock_back_rollover_minutes")
    for key in daily:
        if getattr(limits, key) >= 24 * 60:
            raise ConfigError(
                f"{path}: [input] {key} {getattr(limits, key)} must be less than a day (1440): a clock"
                " can go back at most 24 hours across one midnight"
            )
    if limits.rule_line_followup_seconds > 24 * 3600:
        # 1e14 overflowed the reader's timedelta: every text export failed "could not be read".
        raise ConfigError(
            f"{path}: [input] rule_line_followup_seconds {limits.rule_line_followup_seconds} must be at most"
            " a day (86400): it is how soon a chat goes on after a line that starts like a divider"
        )
    # A week or month around a date in year 9999 runs past the calendar's end.
    if not 1 < limits.earliest_year <= limits.latest_year < 9999:
        raise ConfigError(
            f"{path}: [input] earliest_year {limits.earliest_year} and latest_year {limits.latest_year}"
            " must satisfy 1 < earliest_year <= latest_year < 9999"
        )
    return limits


def _table(path: Path) -> dict[str, int]:
    """The checked ``[input]`` table of one limits file."""
    from qc.readers.encoding import read_config_toml

    data = read_config_toml(path, "limits file")
    table = data.get("input", {})
    known = {f.name for f in fields(InputLimits)}
    if not isinstance(table, dict) or set(data) - {"input"} or set(table) - known:
        outside = sorted(set(data) - {"input"})
        if outside and set(outside) <= known:  # the keys are right, the [input] line is missing
            raise ConfigError(
                f"{path}: {outside} must be under an [input] line at the top of the file"
                " (as in qc/defaults/limits.toml)"
            )
        unknown = sorted(set(outside) | (set(table) - known if isinstance(table, dict) else set()))
        raise ConfigError(f"{path}: unknown keys {unknown}; the [input] table takes {sorted(known)}")
    for key, value in table.items():
        # 0 turns the out-of-turn rule off (audit 140 L2); every other limit is a positive number.
        least = 0 if key in _MAY_BE_ZERO else 1
        if type(value) is not int or value < least:
            kind = "a whole number, 0 or more" if least == 0 else "a positive whole number"
            raise ConfigError(f"{path}: [input] {key} must be {kind}, not {value!r}")
    return table
