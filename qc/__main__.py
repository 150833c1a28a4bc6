"""Entry point of the ``qc`` command and of ``python -m qc``."""

import signal
import sys


def _stopped_while_loading(signum: int, frame: object) -> None:
    # Nothing has started while the commands load (a tenth of a second): exit as a shell expects.
    sys.stderr.write("qc: stopped by SIGINT before it started\n")
    raise SystemExit(128 + signum)


def run() -> None:
    """Load the command line and run it.

    A Ctrl-C while the commands load ends qc with exit code 130 and one line instead of a
    KeyboardInterrupt traceback from deep inside an import. A shell that started qc with Ctrl-C
    ignored (a background job) keeps it ignored.
    """
    previous = signal.getsignal(signal.SIGINT)
    if previous is signal.default_int_handler:
        signal.signal(signal.SIGINT, _stopped_while_loading)
    from qc.cli import main

    if previous is signal.default_int_handler:
        signal.signal(signal.SIGINT, previous)
    main()


if __name__ == "__main__":
    run()
