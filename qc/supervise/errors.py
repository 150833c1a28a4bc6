"""The error every refused supervision step raises (exit 2, with what is allowed instead)."""

from __future__ import annotations

from qc.errors import EXIT_USAGE, QcError

__all__ = ["ReviewError"]


class ReviewError(QcError):
    """A review, appeal or people step that cannot be carried out (unknown id, invalid step, wrong person)."""

    exit_code = EXIT_USAGE
