"""The error every refused supervision step raises (exit 2, with what is allowed instead)."""

from __future__ import annotations

from qc.errors import EXIT_USAGE, QcError

__all__ = ["ReviewError"]


class ReviewError(QcError):
    """A review, appeal or people step that cannot be carried out (unknown id, invalid step, wrong person).

    ``web`` is the same refusal as the workbench says it, where the message names a command
    line's options (``--note WHY``) that nobody types in a browser (audit 161 L2).
    """

    exit_code = EXIT_USAGE

    def __init__(self, message: str, web: str | None = None) -> None:
        super().__init__(message)
        self.web = web
