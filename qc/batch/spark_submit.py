"""The driver script for ``spark-submit``: ``qc inspect … --engine spark`` on the master it was given.

``spark-submit`` runs a Python *file*, not a module, so the installed package carries this
file; ``python -m qc.batch.spark_submit --path`` prints where it is::

    spark-submit --master yarn --deploy-mode client … "$(python -m qc.batch.spark_submit --path)"
        hdfs:///chats/2026-11-24/ --out out/2026-11-24 --spark-dir hdfs:///qc/parts/2026-11-24

The arguments are those of ``qc inspect`` (``--engine spark`` is implied); the outputs go to
``--out`` on the machine the driver runs on, so use client deploy mode.
"""

import sys
from pathlib import Path

# spark-submit puts the script's folder first on sys.path; this package's modules must not
# shadow top-level ones there (``run``, ``spark`` …).
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)


def main(argv: list[str] | None = None) -> None:
    """Run ``qc inspect`` on Spark with the given arguments (``--path``: print this file's path).

    Why a wrapper and not ``qc`` itself: spark-submit needs a file and fixes the master.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if args == ["--path"]:
        print(Path(__file__).resolve())
        return
    from qc.cli import main as qc_main

    sys.argv = ["qc", "inspect", *args, "--engine", "spark"]
    qc_main()


if __name__ == "__main__":
    main()
