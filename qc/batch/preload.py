"""What the forkserver of ``qc inspect --jobs`` loads once, before it forks any worker.

With the ``forkserver`` start method every worker is forked from one small server process.
``qc inspect --jobs`` has the server import this module first (``PoolExecutor(preload=…)``), so each worker
starts with qc's modules imported, the width-and-case fold table built and rjieba's
dictionary read, in memory pages it shares with the server, instead of paying that CPU time
itself (``bench/startup.py``). The model, lexicons and rules depend on the run's settings:
each worker still builds those (milliseconds). Nothing here reads input or user settings.
"""

from __future__ import annotations

from qc.errors import CompiledBuildGoneError

try:
    import qc.attitude.rule
    import qc.batch.chunks
    import qc.rules.forbidden_phrase
    import qc.run.pool
    from qc.text.tokens import fold, tokenize
except CompiledBuildGoneError:
    # The build the main process chose went in the half second before the server loaded it. The
    # main process says so when its pool cannot start (PoolExecutor); the server's traceback only
    # buried that (audit 151 H1). A SystemExit ends the server without one.
    raise SystemExit(1) from None

__all__ = ["warm"]


def warm() -> None:
    """Load what every worker's first message would load lazily (fold table, rjieba's dictionary)."""
    fold("Ｗ")
    tokenize("预热一下分词")


# Imported by the forkserver for its side effect: the workers it forks inherit the loaded state.
warm()
_MODULES = (qc.attitude.rule, qc.batch.chunks, qc.rules.forbidden_phrase, qc.run.pool)
