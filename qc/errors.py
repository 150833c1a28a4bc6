"""Errors qc raises on purpose, and the exit codes the CLI maps them to.

Exit codes (documented in README.md, each tested through the CLI):

* 0: ran to the end (findings or not).
* 1: runtime failure, e.g. an unreadable input file; the rest of the batch
  was still processed and listed.
* 2: usage or configuration error (bad option or filter value, bad scorecard or
  lexicon file, mismatched model artifact), or a refused review or appeal step.
* 3: ``qc check --fail-on-hit`` found a live hit.
* 70: an internal error, a bug in qc (sysexits' EX_SOFTWARE): the message names the exception's
  type and the place in qc, never its text (which may quote a chat); ``QC_DEBUG=1`` shows the
  traceback.
* 75: the store is busy: another qc was writing to it for longer than qc waits (sysexits'
  EX_TEMPFAIL: nothing was changed, try again).
* 130 / 143: the run was stopped by SIGINT (Ctrl-C) / SIGTERM (128 + the signal's number, as a
  shell reports it); its output folder keeps the previous complete run.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_RUNTIME = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 70
EXIT_BUSY = 75


class QcError(Exception):
    """Base for errors whose message is written for a person: what and how to fix."""

    exit_code = EXIT_RUNTIME


class ConfigError(QcError):
    """A scorecard, lexicon, column map or other configuration is invalid."""

    exit_code = EXIT_USAGE


class InputError(QcError):
    """An input file cannot be read at all (not a single bad record)."""

    exit_code = EXIT_RUNTIME


class ArtifactError(QcError):
    """A model artifact is missing, tampered with or built for other features."""

    exit_code = EXIT_USAGE


class WorkerLost(QcError):
    """A worker process died with work in hand (killed, out of memory): the run cannot finish."""

    exit_code = EXIT_RUNTIME


class CompiledBuildGoneError(QcError):
    """The compiled build a run started with lost a file while it ran: it cannot go on the same code."""

    exit_code = EXIT_RUNTIME


class Interrupted(QcError):
    """The run was stopped by a signal (SIGINT, SIGTERM); exit code 128 + the signal's number."""

    def __init__(self, signum: int, message: str) -> None:
        super().__init__(message)
        self.signum = signum
        self.exit_code = 128 + signum

    def __reduce__(self) -> tuple[type[Interrupted], tuple[int, str]]:
        # A worker's error crosses to the main process pickled: rebuilt from its own arguments.
        return (type(self), (self.signum, str(self)))
