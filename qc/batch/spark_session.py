"""Starting Spark for qc: the checks that say what is missing, and the session qc runs on.

Apart from :mod:`qc.batch.spark` (the DataFrame API, which re-exports both) so that the day
engine (:mod:`qc.batch.spark_day`) can start Spark without importing the module that wraps it.
PySpark is imported inside functions only: this module is importable without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qc.errors import ConfigError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = ["require_spark", "spark_session"]


def require_spark() -> None:
    """Fail with the fix when PySpark or Java is missing, instead of a Py4J traceback.

    Raises:
        ConfigError: PySpark is not installed, or no Java is on PATH or in JAVA_HOME.
    """
    import importlib.util
    import os
    import shutil

    if importlib.util.find_spec("pyspark") is None:
        raise ConfigError("--engine spark needs PySpark: pip install 'qc[spark]' (and Java 17 or newer)")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise ConfigError("--engine spark needs Java 17 or newer on PATH (or JAVA_HOME set)")


def spark_session(master: str | None = "local[2]", app_name: str = "qc inspect") -> SparkSession:
    """Get or start a Spark session; local masters run the workers on this very interpreter.

    ``master`` ``None`` means the one ``spark-submit`` was given (``local[2]`` without
    spark-submit). Why the interpreter: with a local master Spark would otherwise start
    ``python3`` from PATH, which may be another interpreter than the one qc is installed in
    (a virtual environment).
    """
    import os
    import sys
    from pathlib import Path

    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName(app_name)
    # Spark's progress bar is for people: on a terminal only, like qc's own (stderr carries no data).
    builder = builder.config("spark.ui.showConsoleProgress", "true" if sys.stderr.isatty() else "false")
    if master is None and os.environ.get("PYSPARK_GATEWAY_PORT"):
        # Started by spark-submit: the master, memory and Python are the ones it was given.
        return builder.getOrCreate()
    master = master or "local[2]"
    builder = builder.master(master)
    submitted = os.environ.get("PYSPARK_SUBMIT_ARGS", "")
    if "java-options" not in submitted and "extraJavaOptions" not in submitted:
        # Read by the driver's JVM as it starts: Spark's start-up warnings and its "default log4j
        # profile" lines went to stderr even with -q (they come before setLogLevel can act).
        quiet = Path(__file__).resolve().parents[1] / "defaults" / "spark-log4j2.properties"
        java = f"-Dlog4j2.configurationFile={quiet.as_uri()}"
        builder = builder.config("spark.driver.extraJavaOptions", java)
    if master.startswith("local"):
        # A session started from Python runs its workers with $PYSPARK_PYTHON (default python3);
        # with PySpark 4.3 the spark.pyspark.python setting alone left them on the system
        # python3, without qc's dependencies. Set both; a user's own $PYSPARK_PYTHON wins.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        builder = builder.config("spark.pyspark.python", sys.executable).config("spark.ui.enabled", "false")
        # Its workers run this checkout: the code this process runs, compiled or not (audit 150 H1).
        from qc.compiled import children_pinned

        with children_pinned():
            return builder.getOrCreate()
    return builder.getOrCreate()
