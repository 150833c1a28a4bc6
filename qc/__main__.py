"""Entry point for ``python -m qc``."""

from qc.cli import main

main()
