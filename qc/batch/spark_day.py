"""``qc inspect --engine spark``: a day read, inspected, written and scored by Spark, finished by the driver.

What runs where (the tasks themselves are in :mod:`qc.batch.spark_tasks`):

* **Driver, before.** Lists the inputs, reads the first 64 KB of each file to tell its
  format and encoding as the readers would, and asks Spark for one small survey job (lines
  per file block, lines that are not UTF-8; the JVM alone reads the files). UTF-8 JSON
  Lines and CSV files are read by Spark; any other file (XLSX, 千牛/旺旺 text exports,
  GB18030, UTF-16, a file with a garbled line …) is read here by the ordinary reader and
  its records sent to Spark, which run.json notes under ``spark_read_on_driver``: such files
  must fit in the driver's memory, as they must for the local engine.
* **Spark.** One job reads, groups records into conversations across files, inspects each
  partition (rules built once per Python worker from broadcast settings), adds the
  scorecard's evidence findings (slow replies, unanswered buyers) as every engine does, and
  writes the conversation summaries, findings, rejects, message verdicts and evidence
  references under ``<out>/spark/``
  (``output=<name>/date=<day>/part-*.json``), each partition holding one range of input
  positions, sorted. A second job reads back only the last partition of that job's shuffle:
  the per-file counts and score tallies of every partition, added up by one task. (Not a
  ``treeReduce`` of the inspected partitions: that would need them cached or inspected
  again; this reuses the shuffle files the first job left, and there is one small tally
  per partition.) With a store, whole conversations are written too (``output=transcripts``).
* **Driver, after.** Streams the part files, range after range and merging the few dates of
  a range by input position, into findings.jsonl, conversations.jsonl and rejects.jsonl in
  the local engine's order. Without a store, the verdicts and evidence references go into
  the scorer's spool on disk (:class:`~qc.batch.run.LeanScoring`), which scores from the
  added-up tally exactly as a lean local run does (the one scoring function,
  :func:`~qc.scoring.scores.score_agents`). With a store, the conversations are streamed
  from the part files into the store's upsert (:meth:`~qc.store.database.Store.save_run_streamed`,
  a chunk at a time, one transaction) and the days the run touched are scored from what the
  store holds, as the local engine does with ``--db``. Then the agents files and run.json.

Nothing per message comes to the driver's memory: it holds the file list, the survey (one
row per file block), the merged tally (counters per agent and day) and one part-file line
per date at a time. The local engine's files come out byte for byte (tests/test_spark.py).
"""

from __future__ import annotations

import heapq
import math
import os
import re
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import partial, reduce
from itertools import chain, groupby
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from qc.batch.chunks import ScoreTally
from qc.batch.run import (
    InspectionReport,
    LeanScoring,
    identity_warnings,
    left_days,
    publish_inspection,
    rewrite_continued,
    run_record,
    save_continued,
    score_from_store,
    touched_days,
)
from qc.batch.spark_tasks import (
    CONVERSATIONS,
    EVIDENCE,
    FINDINGS,
    REJECTS,
    ROW_COLUMNS,
    TRANSCRIPTS,
    VERDICTS,
    FileTable,
    InspectTask,
    RunCounts,
    driver_rows,
    evidence_from_record,
    fold_counts,
    read_csv_part,
    read_jsonl_part,
    record_partition,
    verdict_from_record,
)
from qc.errors import ConfigError, InputError, Interrupted, QcError
from qc.outputs.staging import OutputStage
from qc.outputs.writers import CONVERSATIONS_FILE, FINDINGS_FILE, REJECTS_FILE
from qc.readers.files import Resolved, read_file, resolve_options, stem_warnings
from qc.readers.options import FileReport, ReadOptions, ReadResult, expand_inputs, refused_inputs
from qc.readers.pieces import HEAD_BYTES, HEAD_LINES, PieceCounts, PieceFormat, piece_format
from qc.rules import RuleSettings
from qc.run.inspector import InspectorInfo
from qc.run.spark import describe_on_workers
from qc.scoring.card import Scorecard, load_scorecard
from qc.scoring.scores import ConversationRecord

if TYPE_CHECKING:
    from pyspark import RDD
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["SparkRunError", "run_spark_inspection"]

# Input lines per inspection partition: a few seconds of work each, enough partitions to
# keep every core busy to the end, few enough that each task's start costs little.
_LINES_PER_PARTITION = 100_000
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_PART = re.compile(r"^part-(\d+)-.*?(?:\.c(\d+))?\.json$")
_GLOB = re.compile(r"([\\*?\[\]{}])")


class SparkRunError(QcError):
    """Spark could not run the inspection (a failed job, an unreadable part file); the message says why."""


# ----------------------------------------------------------------------------------- the run


def run_spark_inspection(
    inputs: list[Path] | list[str],
    out_dir: Path,
    settings: RuleSettings | None = None,
    options: ReadOptions | None = None,
    master: str | None = None,
    spark: SparkSession | None = None,
    run_info: dict[str, Any] | None = None,
    scorecard: Scorecard | None = None,
    store: str | None = None,
    parts: str | None = None,
    partitions: int | None = None,
    batch_size: int = 256,
    on_saved: Callable[[int], None] | None = None,
    on_committing: Callable[[int], None] | None = None,
) -> InspectionReport:
    """Inspect a day on Spark and write the local engine's files into ``out_dir``, byte for byte.

    Why this shape: the day never has to fit on the driver. Spark reads, inspects and
    writes (``<out_dir>/spark/`` or ``parts``), and the driver streams those files into the
    ordered outputs and scores from counters (see the module docstring).

    Args:
        inputs: Files and folders (a folder means the files in it), local paths or URIs
            Spark can read (``hdfs://…``, ``s3a://…``) for UTF-8 JSON Lines and CSV.
        out_dir: Where findings.jsonl, conversations.jsonl, rejects.jsonl, run.json and the
            agents files go (a local folder of the driver).
        settings: Rules and resources; default: ``qc inspect``'s.
        options: Reading options, as for the local engine.
        master: Spark master URL when no session is running or given; default: the
            ``spark-submit`` one, else ``local[2]``.
        spark: A session to use (left running); else one is started and stopped.
        run_info: Extra keys for run.json.
        scorecard: The card to score with (the packaged default when ``None``).
        store: SQLite path or SQLAlchemy URL the run is also saved to.
        parts: Where Spark writes its part files (a folder or URI every executor and the
            driver can reach); default ``<out_dir>/spark``.
        partitions: Partitions of the inspection; default: about 100,000 input lines each,
            a multiple of the cores.
        batch_size: Conversations per model call in a task (results never depend on it).
        on_saved: Called with the store's run id once the save is committed, before the
            files are published (a stop after it can say the store holds the run).
        on_committing: Called with the run id as the save commits (a stop may leave it saved).

    Returns:
        The run's :class:`~qc.batch.run.InspectionReport` (no results kept).

    Raises:
        ConfigError: Bad options or rule settings the executors cannot build.
        InputError: A remote file that only the driver's readers can read.
        SparkRunError: A Spark job failed.
    """
    started = time.perf_counter()
    settings = settings or RuleSettings()
    card = scorecard or load_scorecard()
    options = (options or ReadOptions()).for_card(card.day.timezone)
    resolved = resolve_options(options)  # a bad forced format, encoding or zone fails before Spark starts
    own: list[SparkSession] = []
    if spark is None:
        from qc.batch.spark_session import require_spark

        require_spark()
    import pyspark

    if int(pyspark.__version__.split(".")[0]) < 4:
        raise ConfigError(
            "--engine spark needs PySpark 4 (it checks every line is UTF-8 with is_valid_utf8);"
            f" this is {pyspark.__version__}: pip install 'pyspark>=4,<5' (inspect_dataframe runs on 3.5)"
        )
    out_dir = Path(out_dir)
    parts_uri = parts_folder(out_dir, parts)
    labels = [str(p) for p in inputs]
    if _is_local(parts_uri):  # refused before Spark starts; a remote folder once it has
        check_parts_folder(None, parts_uri, labels, out_dir, store)
    if spark is None:
        from pyspark.sql import SparkSession

        from qc.batch.spark_session import spark_session

        spark = SparkSession.getActiveSession()
        if spark is None:
            try:
                spark = spark_session(master)
            except Exception as exc:  # noqa: BLE001 - Spark's own errors name no option
                raise _not_started(master, exc) from None
            # Spark's logs would bury qc's summary, and a failed task's would print a worker's
            # traceback (chat text in its locals' repr): qc reports every failure itself.
            spark.sparkContext.setLogLevel("OFF")
            own.append(spark)
    if not _is_local(parts_uri):
        check_parts_folder(spark, parts_uri, labels, out_dir, store)
    out_dir.mkdir(parents=True, exist_ok=True)
    day = _DayRun(spark, settings, card, resolved, parts_uri, partitions, store, batch_size)
    with OutputStage(out_dir) as stage:
        try:
            listed, day.refused = _list_inputs(spark, labels)
            day.run(listed)
            report = day.finish(stage.path, score=store is None)
        except QcError:
            raise
        except Exception as exc:
            stopped = _interruption(exc)
            if stopped is not None:
                raise stopped from None
            raise _failure(exc) from None
        finally:
            for session in own:
                try:
                    session.stop()
                except Exception:  # noqa: BLE001 - a JVM that died already said why (above)
                    pass
        _finish_record(report, day, spark, parts_uri, started, run_info)
        if store is not None:
            day.save(store, report, stage.path, on_saved, on_committing)
        publish_inspection(stage, report, out_dir, inputs)
    return report


def _finish_record(
    report: InspectionReport,
    day: _DayRun,
    spark: SparkSession,
    parts_uri: str,
    started: float,
    run_info: dict[str, Any] | None,
) -> None:
    """Fill ``report.run``: the local engine's run record plus Spark's own keys."""
    report.read.warnings.extend(identity_warnings(report.agents, report.read.warnings))
    report.seconds = time.perf_counter() - started
    extra: dict[str, Any] = {
        "engine": "spark",
        "spark_master": spark.sparkContext.master,
        "spark_parts": parts_uri,
    }
    if day.notes:
        extra["spark_read_on_driver"] = day.notes
    report.run = run_record(report, day.info, {**extra, **(run_info or {})})


def _interruption(exc: BaseException) -> BaseException | None:
    """The signal's :class:`~qc.errors.Interrupted` (or Ctrl-C) a Spark call was failing under, if any.

    A SIGTERM handler raising inside a py4j call comes back as py4j's network error "during
    handling of" it: the run was stopped, not failed, and says so with exit 143.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, (Interrupted, KeyboardInterrupt)):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _not_started(master: str | None, exc: BaseException) -> QcError:
    """Spark could not start with this master or Java: a setting to fix (exit 2), not a bug in qc."""
    text = str(getattr(exc, "java_exception", None) or exc).strip()
    first = next((line.strip() for line in text.splitlines() if line.strip()), type(exc).__name__)
    return ConfigError(
        f"Spark did not start with --master {master or 'local[2]'}: {first[:300]}; give a master Spark"
        " can use (local[N], spark://HOST:PORT reachable from here, yarn, k8s://…) and JAVA_HOME a"
        " Java 17+ installation (or unset it to use the java on PATH)"
    )


def parts_folder(out_dir: Path, parts: str | None) -> str:
    """Where Spark writes its part files: ``parts`` (``--spark-dir``), else ``<out_dir>/spark``.

    The part files are Spark's working space (they stay where run.json says); the files of the
    run are written into a temporary folder and published as a set, as the local engine's.
    """
    return parts or str((Path(out_dir) / "spark").resolve())


# What Spark writes into its parts folder: its outputs, the job's marker and their checksums.
_PARTS_ENTRY = re.compile(r"^(output=.*|_SUCCESS|\._SUCCESS\.crc|_temporary)$")


def check_parts_folder(
    spark: SparkSession | None, parts: str, inputs: list[str], out_dir: Path, store: str | None
) -> None:
    """Refuse a parts folder whose contents Spark would delete: it empties the folder it writes into.

    ``spark`` is needed for a remote folder only (``None``: a remote one is left for later).

    Anything but an earlier run's parts (notes, exports, a store, the run's own outputs) is
    refused before a byte is read or written, as are the folders holding an input, ``--out``
    or the store.
    """
    if _is_local(parts):
        root = Path(_local(parts)).expanduser().resolve()
        held = [Path(_local(i)).expanduser().resolve() for i in inputs if _is_local(i)]
        held.append(Path(out_dir).expanduser().resolve())
        if store is not None and "://" not in store:
            held.append(Path(store).expanduser().resolve())
        for path in held:
            if path == root or root in path.parents:
                raise ConfigError(
                    f"--spark-dir {parts} holds {path}, which Spark would delete with everything else"
                    " in it (it empties the folder it writes its parts into); give a folder of its own,"
                    " e.g. --spark-dir OUT/spark (the default)"
                )
        if root.exists() and not root.is_dir():
            raise ConfigError(f"--spark-dir {parts} is a file; give a folder for Spark's part files")
        above = next((p for p in root.parents if p.exists()), None)
        if above is not None and not above.is_dir():
            raise ConfigError(f"--spark-dir {parts}: {above} is a file; give a folder for Spark's part files")
        names = sorted(p.name for p in root.iterdir()) if root.is_dir() else []
    else:
        if spark is None:
            return  # a remote folder is looked at once Spark runs (run_spark_inspection does)
        fs, path = _hadoop(spark, parts)
        for item in inputs:
            if not _is_local(item) and (item.rstrip("/") + "/").startswith(parts.rstrip("/") + "/"):
                raise ConfigError(
                    f"--spark-dir {parts} holds the input {item}, which Spark would delete (it empties"
                    " the folder it writes its parts into); give a folder of its own"
                )
        names = sorted(s.getPath().getName() for s in fs.listStatus(path)) if fs.exists(path) else []
    foreign = [name for name in names if not _PARTS_ENTRY.match(name)]
    if foreign:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        raise ConfigError(
            f"--spark-dir {parts} holds files qc did not write ({shown}): Spark empties the folder it"
            " writes its parts into, so they would be deleted; give an empty or new folder, or the"
            " parts folder of an earlier run"
        )


# Errors whose messages qc or the JVM wrote for people, never quoting a chat.
_TOLD_BY = ("qc.", "java.", "javax.", "org.apache.", "scala.", "py4j.")


def _failure(exc: BaseException) -> QcError:
    """A failed Spark job as a message for a person: the worker's error type and first line, no traceback."""
    if isinstance(exc, ConnectionError) or type(exc).__name__ == "Py4JNetworkError":
        return SparkRunError(
            "the Spark driver (JVM) stopped answering, most likely out of memory:"
            " give it more with spark-submit --driver-memory or spark.driver.memory"
        )
    text = str(exc)
    java = getattr(exc, "java_exception", None)
    if java is not None:  # the root cause: a Python worker's traceback or the JVM's own error
        try:
            while java.getCause() is not None:
                java = java.getCause()
            text = str(java.toString())
        except Exception:  # noqa: BLE001 - keep py4j's own message
            pass
    found = re.findall(r"^(\w+(?:\.\w+)*(?:Error|Exception)): (.*)$", text, flags=re.MULTILINE)
    if found:
        kind, message = found[-1]
        if kind.rsplit(".", 1)[-1] in ("ConfigError", "ArtifactError"):
            return ConfigError(message[:300])
        name = kind.rsplit(".", 1)[-1]
        if not kind.startswith(_TOLD_BY) and not os.environ.get("QC_DEBUG"):
            # A Python error in a worker (KeyError: '我住上海市…') can quote a chat: named by its type
            # only, as an internal error is (audit 94 #15). qc's own and the JVM's messages are
            # written for people.
            return SparkRunError(
                f"the Spark job failed: {name} in a Python worker (its message may quote a chat;"
                " QC_DEBUG=1 shows it)"
            )
        return SparkRunError(f"the Spark job failed: {name}: {message[:300]}")
    first = text.strip().splitlines()[0][:300] if text.strip() else type(exc).__name__
    return SparkRunError(f"the Spark job failed: {first}")


@dataclass(frozen=True, slots=True)
class _File:
    """One input file: its label (as rejects and sources name it) and how it is read."""

    label: str
    form: PieceFormat | None  # read by Spark in pieces; None: read on the driver
    why: str = ""  # why the driver reads it

    @property
    def uri(self) -> str:
        """The path Spark reads it by (globbing characters escaped)."""
        return _GLOB.sub(r"\\\1", _uri(self.label))


class _DayRun:
    """The jobs of one run, and the driver's part before and after them."""

    def __init__(
        self,
        spark: SparkSession,
        settings: RuleSettings,
        card: Scorecard,
        resolved: Resolved,
        parts: str,
        partitions: int | None,
        store: str | None,
        batch_size: int = 256,
    ) -> None:
        self.spark = spark
        self.batch_size = max(1, batch_size)
        self.sc = spark.sparkContext
        self.settings = settings
        self.card = card
        self.resolved = resolved
        self.partitions = partitions
        self.store = store
        self.part_files = _Parts(spark, parts)
        # Filled by run():
        self.files: list[_File] = []
        self.table: FileTable | None = None
        self.counts = RunCounts()
        self.info = InspectorInfo(())
        self.notes: list[dict[str, str]] = []  # files read on the driver, and why (run.json)
        self.driver_reads: dict[int, tuple[str | None, str | None, int]] = {}  # format, encoding, labels
        self.skipped: dict[int, str] = {}  # files read on the driver that are no chat export, and why
        self.refused: list[FileReport] = []  # entries of the inputs never read, and why (as the local engine)

    def run(self, labels: list[str]) -> None:
        """Plan the files, then run the Spark jobs: inspect and write, then add up the counts."""
        sc = self.sc
        settings = sc.broadcast(self.settings)
        self.info = describe_on_workers(sc, settings)  # a setting the executors cannot build fails here
        self.files = [self._plan(label) for label in labels]
        self.resolved = self.resolved.with_files([Path(_local(x)) for x in labels if _is_local(x)])
        survey = self._survey([(i, f) for i, f in enumerate(self.files) if f.form is not None])
        for (i, _), (_, bad, bare) in survey.items():
            if (bad or bare) and self.files[i].form is not None:
                why = (
                    "a line is not UTF-8 (the whole-file reader sniffs the encoding)"
                    if bad
                    else "a line ends in a carriage return alone past the file's head (the whole-file"
                    " reader splits it there)"
                )
                self.files[i] = _File(self.files[i].label, None, why)
        records: list[RDD[Any]] = []
        for i, f in enumerate(self.files):
            if f.form is None:
                rows = self._read_on_driver(i, f)
                records.append(sc.parallelize(rows, max(1, min(sc.defaultParallelism, len(rows) // 20_000))))
        table = self.table = self._table(survey)
        shared = sc.broadcast(table)
        jsonl = [(i, f) for i, f in enumerate(self.files) if f.form is not None and f.form.format == "jsonl"]
        if jsonl:
            lines = self._lines(jsonl, "v").rdd
            records.append(lines.mapPartitionsWithIndex(partial(read_jsonl_part, shared)))
        for i, f in enumerate(self.files):
            if f.form is not None and f.form.format == "csv":
                records.append(self._whole_file(f).mapPartitionsWithIndex(partial(read_csv_part, shared, i)))
        task = InspectTask(
            settings,
            sc.broadcast(self.card),
            shared,
            transcripts=self.store is not None,
            batch_size=self.batch_size,
        )
        parts = table.ranges
        everything = sc.union(records) if records else sc.parallelize([], 1)
        grouped = everything.repartitionAndSortWithinPartitions(parts, partial(record_partition, parts))
        routed = grouped.mapPartitionsWithIndex(task).partitionBy(parts + 1, _same)
        self._write(routed.filter(partial(_before, parts)).values())
        # The last partition holds only counts: reading it back reuses the shuffle just written.
        (self.counts,) = self.sc.runJob(routed, _fold_pairs, [parts])

    def _table(self, survey: dict[tuple[int, int], tuple[int, int, int]]) -> FileTable:
        """What the tasks need about the files: block bases, global positions, the output ranges."""
        bases: dict[tuple[int, int], int] = {}
        lines_of: list[int] = []
        for i, f in enumerate(self.files):
            total = 0
            if f.form is not None:
                for block, n in sorted((b, n) for (j, b), (n, *_) in survey.items() if j == i):
                    bases[(i, block)] = total
                    total += n
            lines_of.append(total if f.form is not None else 1)  # a driver-read file is one range's
        total_lines = sum(lines_of)
        dp = max(1, self.sc.defaultParallelism)
        parts = self.partitions or dp * math.ceil(math.ceil(total_lines / _LINES_PER_PARTITION) / dp)
        parts = max(1, parts)
        files = self.files
        return FileTable(
            labels=tuple(f.label for f in files),
            kinds=tuple(f.form.format if f.form else None for f in files),
            encodings=tuple(f.form.encoding if f.form else None for f in files),
            delimiters=tuple(f.form.delimiter if f.form else "," for f in files),
            bases=bases,
            offsets=tuple(sum(lines_of[:i]) for i in range(len(files))),
            bounds=tuple(total_lines * k // parts for k in range(1, parts)),
            resolved=self.resolved,
        )

    def _plan(self, label: str) -> _File:
        """How ``label`` is read: by Spark in pieces if the readers read it as UTF-8 JSON Lines or CSV."""
        name = Path(_local(label)).name if _is_local(label) else label.rstrip("/").rpartition("/")[2]
        if _is_local(label) and ":" in name:
            return _File(label, None, "a ':' in the file name, which Hadoop paths cannot hold")
        if name.startswith(("_", ".")):
            # Hadoop skips such files as hidden even when named: Spark would read them as empty.
            return _File(label, None, "a name starting with '_' or '.', which Hadoop skips as hidden")
        try:
            head = _head(self.spark, label, HEAD_BYTES)
        except OSError as exc:
            return _File(label, None, f"cannot be opened by the driver ({type(exc).__name__})")
        form = piece_format(label, head, partial(_head_lines, self.spark, label), self.resolved)
        if isinstance(form, str):
            return _File(label, None, form)
        return _File(label, form)

    def _lines(self, files: list[tuple[int, _File]], column: str) -> DataFrame:
        """The files' lines as one DataFrame: file index, block start, the line's bytes (or: is it UTF-8)."""
        from pyspark.sql import DataFrame
        from pyspark.sql import functions as F

        frames = []
        for i, f in files:
            lines = self.spark.read.option("lineSep", "\n").text(f.uri)
            where = (F.lit(i).alias("f"), F.col("_metadata.file_block_start").alias("b"))
            if column == "v":
                frames.append(lines.select(*where, F.col("value").cast("binary").alias("v")))
            else:
                # A carriage return before the line's last character ends a line to the whole-file
                # reader (a Mac export joined below a Windows one, audit 129 H1).
                frames.append(
                    lines.select(
                        *where,
                        F.expr("is_valid_utf8(value)").alias("ok"),
                        F.col("value").rlike("(?s)\\r.").alias("cr"),
                    )
                )
        return reduce(DataFrame.unionAll, frames)

    def _survey(self, files: list[tuple[int, _File]]) -> dict[tuple[int, int], tuple[int, int, int]]:
        """Per file block: its lines, how many are not UTF-8, and how many hold a bare CR (a JVM-only job)."""
        from pyspark.sql import functions as F

        if not files:
            return {}
        rows = (
            self._lines(files, "ok")
            .groupBy("f", "b")
            .agg(
                F.count(F.lit(1)).alias("n"),
                F.sum(F.when(F.col("ok"), 0).otherwise(1)).alias("bad"),
                F.sum(F.when(F.col("cr"), 1).otherwise(0)).alias("bare"),
            )
            .collect()
        )
        return {(r["f"], r["b"]): (r["n"], r["bad"], r["bare"]) for r in rows}

    def _whole_file(self, f: _File) -> RDD[Any]:
        """A CSV file's lines as one partition, in order (a quoted field may span lines)."""
        return self.sc.newAPIHadoopFile(
            f.uri,
            "org.apache.hadoop.mapreduce.lib.input.TextInputFormat",
            "org.apache.hadoop.io.LongWritable",
            "org.apache.hadoop.io.Text",
            conf={
                "textinputformat.record.delimiter": "\n",
                "mapreduce.input.fileinputformat.split.minsize": str(1 << 62),
            },
        )

    def _read_on_driver(self, index: int, f: _File) -> list[Any]:
        """A file read whole by the ordinary reader, as stage-1 rows (it must fit in memory here)."""
        if not _is_local(f.label):
            raise InputError(
                f"{f.label}: {f.why}; Spark reads UTF-8 JSON Lines and CSV, the driver the other files"
                " and only local ones: copy it to the driver or convert it to UTF-8 JSON Lines"
            )
        self.notes.append({"path": f.label, "why": f.why})
        outcome = read_file(Path(_local(f.label)), self.resolved)
        report = outcome.report
        counts = PieceCounts(
            report.read, report.accepted, report.rejected, list(outcome.warnings), report.error
        )
        labels = len({r.file for r in outcome.rejects})
        self.driver_reads[index] = (report.format, report.encoding, labels)
        if report.skipped is not None:
            self.skipped[index] = report.skipped
        return driver_rows(index, outcome.candidates, outcome.rejects, counts)

    def _write(self, rows: RDD[Any]) -> None:
        """Spark's writer: each range sorted by output, date and input position; by output and date."""
        from pyspark.sql import types as T

        string, number, big = T.StringType(), T.IntegerType(), T.LongType()
        kinds = {"output": string, "date": string, "f": number, "g": number, "l": big, "d": number, "s": big}
        fields = [T.StructField(name, kinds[name], False) for name in ROW_COLUMNS[:7]]
        fields += [
            T.StructField("p", number, False),
            T.StructField("conversation_id", string, True),
            T.StructField("record", string, False),
            T.StructField("warnings", T.ArrayType(string, False), True),
        ]
        frame = self.spark.createDataFrame(rows, T.StructType(fields), verifySchema=False)
        ordered = frame.sortWithinPartitions("output", "date", "f", "g", "l", "d", "s", "p")
        ordered.write.mode("overwrite").partitionBy("output", "date").json(_uri(self.part_files.root))

    # ---------------------------------------------------------------------- after the jobs

    def finish(self, out_dir: Path, score: bool = True) -> InspectionReport:
        """Stream the part files into the ordered outputs and, with ``score``, score; the report.

        Scores as a lean local run does: the added-up tally and the verdicts and evidence
        references read back from the part files, through :class:`~qc.batch.run.LeanScoring`
        (:func:`~qc.scoring.scores.score_agents`). Without ``score`` (a run saved to a store)
        :meth:`save` scores the days from the store afterwards. run.json is not written yet.
        """
        counts, table, parts = self.counts, self.table, self.part_files
        assert table is not None, "run() first"
        read = ReadResult()
        read.warnings.extend(stem_warnings(self.resolved.stems))  # first, as the readers say it
        for i, f in enumerate(self.files):
            piece = counts.files.get(i, PieceCounts())
            repeats = counts.repeats.get(i, 0)
            fmt, encoding, _ = self.driver_reads.get(i, (table.kinds[i], table.encodings[i], 1))
            read.files.append(
                FileReport(
                    path=f.label,
                    format=fmt,
                    encoding=encoding,
                    read=piece.read,
                    accepted=piece.accepted - repeats,
                    rejected=piece.rejected + repeats,
                    error=piece.error,
                    skipped=self.skipped.get(i),
                )
            )
            read.warnings.extend(piece.warnings)
        read.files.extend(self.refused)
        with (out_dir / CONVERSATIONS_FILE).open("w", encoding="utf-8") as fh:
            for row in parts.ordered(CONVERSATIONS):
                fh.write(row["record"] + "\n")
                read.warnings.extend(row.get("warnings") or ())  # out of time order, in conversation order
        with (out_dir / FINDINGS_FILE).open("w", encoding="utf-8") as fh:
            for row in parts.ordered(FINDINGS):
                fh.write(row["record"] + "\n")
        # A workbook read on the driver whose sheets have rejects and duplicates: the readers
        # sort that file's rejects by sheet name and line (a few rows: the file fit in memory).
        resort = {
            i for i, (_, _, labels) in self.driver_reads.items() if labels > 1 and counts.repeats.get(i)
        }
        with (out_dir / REJECTS_FILE).open("w", encoding="utf-8") as fh:
            for file, rows in groupby(parts.ordered(REJECTS), key=lambda r: r["f"]):
                records: Iterable[str] = (r["record"] for r in rows)
                if file in resort:
                    records = sorted(records, key=_reject_place)
                for record in records:
                    fh.write(record + "\n")
        report = InspectionReport(read=read, conversations=counts.conversations, scorecard=self.card)
        tally = counts.tally if counts.tally is not None else ScoreTally(self.card)
        report.finding_count = tally.findings
        report.evidence_count = counts.evidence
        if score:
            scoring = LeanScoring(self.card, spool_dir=out_dir)
            scoring.merge(tally)
            # Verdicts and evidence to the scorer's spool on disk, not to memory.
            scoring.extend(
                (verdict_from_record(r["record"]) for r in parts.ordered(VERDICTS)),
                (evidence_from_record(r["record"]) for r in parts.ordered(EVIDENCE)),
            )
            scoring.write(report, out_dir)
        return report

    def save(
        self,
        store: str,
        report: InspectionReport,
        out_dir: Path,
        on_saved: Callable[[int], None] | None = None,
        on_committing: Callable[[int], None] | None = None,
    ) -> None:
        """Upsert the run's conversations into the store, streamed from the part files, and score from it.

        Conversations and findings (evidence findings included) come in input order, a
        conversation's findings together, so one pass pairs them; each becomes the
        :class:`~qc.scoring.scores.ConversationRecord` the local engine saves, and
        :meth:`~qc.store.database.Store.save_run_streamed` upserts them a chunk at a time in one
        transaction. Then the days the run touched are scored from what the store holds
        (review decisions applied), as the local engine does, into the agents files.
        """
        from qc.schema import Conversation, Finding
        from qc.scoring.scores import conversation_record
        from qc.store.database import open_store

        parts, card = self.part_files, self.card
        days: set[str] = set()

        def records() -> Iterator[ConversationRecord]:
            findings = (Finding.from_json(orjson.loads(r["record"])) for r in parts.ordered(FINDINGS))
            pending = next(findings, None)
            for row in parts.ordered(TRANSCRIPTS):
                conversation = Conversation.from_json(orjson.loads(row["record"]))
                found = []
                while pending is not None and pending.conversation_id == conversation.id:
                    found.append(pending)
                    pending = next(findings, None)
                record = conversation_record(conversation, found, card)
                days.update(touched_days([record]))
                yield record

        # A conversation whose stored copy reaches outside this run's (a chat cut at midnight,
        # a re-export with a damaged line) is joined with it and inspected again on the driver,
        # as the local engine does: the stored part was replaced, its messages gone.
        damaged = {f.path for f in report.read.files if f.rejected}
        executor = _DriverExecutor(self.settings)
        try:
            with open_store(store, save=True) as db:
                try:
                    run_id, joined, changed = save_continued(
                        db, report, self._spans(), records, executor, card, damaged, on_committing
                    )
                finally:
                    executor.close()
                if on_saved is not None:
                    on_saved(run_id)
                report.run["orphaned_decisions"] = db.run_orphans(run_id)
                report.run["moved_decisions"] = db.run_moves(run_id)
                rewrite_continued(out_dir, joined, card)
                score_from_store(report, db, days | changed | left_days(report, db, run_id), out_dir)
        finally:
            # Whole transcripts (buyers' phone numbers and addresses) were parts only for the
            # save: the store holds them now, or the next run writes them again.
            self.part_files.remove(TRANSCRIPTS)

    def _spans(self) -> dict[tuple[str, str], tuple[int, datetime, datetime]]:
        """:func:`~qc.scoring.metrics.time_span` of each of the run's timed conversations, by (shop, id)."""
        spans: dict[tuple[str, str], tuple[int, datetime, datetime]] = {}
        for row in self.part_files.ordered(TRANSCRIPTS):
            data = orjson.loads(row["record"])
            stamps = [m.get("sent_at") for m in data["messages"]]
            if stamps and all(stamps):
                times = [datetime.fromisoformat(t) for t in stamps]
                spans[(data.get("shop") or "", data["id"])] = (len(times), min(times), max(times))
        return spans


class _DriverExecutor:
    """The local executor for the few conversations the driver inspects again, built when first asked."""

    reads_lines = False
    batch_size = 256

    def __init__(self, settings: RuleSettings) -> None:
        self.settings = settings
        self._executor: Any = None

    def describe(self) -> InspectorInfo:
        """The inspector's rules and versions (builds it)."""
        return self._local().describe()

    def _local(self) -> Any:
        if self._executor is None:
            from qc.run.executors import LocalExecutor
            from qc.run.inspector import build_inspector

            self._executor = LocalExecutor(build_inspector(self.settings), self.batch_size)
        return self._executor

    def map(
        self, conversations: Iterable[Any], task: Callable[[Any], Any]
    ) -> Iterator[tuple[list[Any], Any]]:
        """As :meth:`qc.run.executors.LocalExecutor.map` (the inspector is built on the first call)."""
        return self._local().map(conversations, task)

    def map_lines(self, split: Any, task: Callable[[Any], Any]) -> Iterator[Any]:
        """As :meth:`qc.run.executors.LocalExecutor.map_lines` (not used by the driver: for the protocol)."""
        return self._local().map_lines(split, task)

    def close(self) -> None:
        """Release the inspector, if one was built."""
        if self._executor is not None:
            self._executor.close()


def _reject_place(record: str) -> tuple[str, int]:
    found = orjson.loads(record)
    return found["file"], found["line"]


def _same(key: int) -> int:
    return key


def _before(limit: int, pair: tuple[int, Any]) -> bool:
    return pair[0] < limit


def _fold_pairs(pairs: Iterable[tuple[int, Any]]) -> list[RunCounts]:
    return fold_counts(pairs)


# ------------------------------------------------------------------------- files and paths


def _uri(label: str) -> str:
    """A local path as an explicit ``file:`` URI (a bare path would mean the cluster's file system)."""
    if _SCHEME.match(label) or label.startswith("file:"):
        return label
    return "file://" + os.path.abspath(label)


def _is_local(label: str) -> bool:
    return not _SCHEME.match(label) or label.startswith("file:")


def _local(label: str) -> str:
    return re.sub(r"^file:(//)?", "", label) if label.startswith("file:") else label


def _hadoop(spark: SparkSession, uri: str) -> tuple[Any, Any]:
    """The Hadoop file system and path of a URI (through Spark's JVM)."""
    jvm = spark.sparkContext._jvm
    assert jvm is not None
    path = jvm.org.apache.hadoop.fs.Path(uri)
    return path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()), path


def _list_inputs(spark: SparkSession, inputs: list[str]) -> tuple[list[str], list[FileReport]]:
    """Files named, and the files in folders named (by name, no hidden ones), as the local engine lists.

    With the entries the local engine leaves out and names (a file name that is not UTF-8, a
    dangling link, a link out of its folder, a FIFO, a file named twice), each with the reason.
    """
    if all(_is_local(item) for item in inputs):
        paths = [Path(_local(item)) for item in inputs]
        return [str(p) for p in expand_inputs(paths)], refused_inputs(paths)
    out: list[str] = []
    refused: list[FileReport] = []
    for item in inputs:
        if _is_local(item):
            out.extend(str(p) for p in expand_inputs([Path(_local(item))]))
            refused.extend(refused_inputs([Path(_local(item))]))
            continue
        fs, path = _hadoop(spark, item)
        if not fs.exists(path):
            raise InputError(f"{item}: no such file or folder")
        if fs.getFileStatus(path).isDirectory():
            names = sorted(
                (s.getPath().getName(), s.getPath().toString())
                for s in fs.listStatus(path)
                if s.isFile() and not s.getPath().getName().startswith(".")
            )
            out.extend(uri for _, uri in names)
        else:
            out.append(item)
    return out, refused


def _head(spark: SparkSession, label: str, size: int) -> bytes:
    """The first ``size`` bytes of a file."""
    if _is_local(label):
        with open(_local(label), "rb") as fh:
            return fh.read(size)
    fs, path = _hadoop(spark, label)
    stream = fs.open(path)
    try:
        return bytes(stream.readNBytes(size))
    finally:
        stream.close()


def _head_lines(spark: SparkSession, label: str, bom: bool) -> list[str]:
    """A file's first lines decoded from UTF-8 as the readers decode them (``UnicodeDecodeError`` if not)."""
    size = 1 << 20
    while True:
        head = _head(spark, label, size)
        ended = len(head) < size
        raw = head.split(b"\n")
        if not ended:
            raw.pop()  # cut inside a line
        elif raw and raw[-1] == b"":
            raw.pop()  # the empty text after the last newline is no line
        if len(raw) >= HEAD_LINES or ended or size >= 1 << 26:
            break
        size *= 4
    lines = []
    for n, line in enumerate(raw[:HEAD_LINES]):
        if n == 0 and bom:
            line = line[3:]
        text = line.decode("utf-8")
        lines.append(text[:-1] if text.endswith("\r") else text)
    return lines


class _Parts:
    """The part files Spark wrote, read back in input order."""

    def __init__(self, spark: SparkSession, root: str) -> None:
        self.spark = spark
        self.root = root

    def _listing(self, output: str) -> dict[int, dict[str, list[tuple[int, str]]]]:
        """Part files of one output: task → date → [(file counter, path)]."""
        found: dict[int, dict[str, list[tuple[int, str]]]] = {}
        if _is_local(self.root):
            base = Path(_local(self.root)) / f"output={output}"
            if not base.is_dir():
                return found
            entries = [(d.name, f.name, str(f)) for d in base.iterdir() if d.is_dir() for f in d.iterdir()]
        else:
            fs, path = _hadoop(self.spark, f"{self.root.rstrip('/')}/output={output}")
            if not fs.exists(path):
                return found
            entries = [
                (d.getPath().getName(), f.getPath().getName(), f.getPath().toString())
                for d in fs.listStatus(path)
                if d.isDirectory()
                for f in fs.listStatus(d.getPath())
            ]
        for day, name, where in entries:
            m = _PART.match(name)
            if m is None:
                continue
            found.setdefault(int(m[1]), {}).setdefault(day, []).append((int(m[2] or 0), where))
        return found

    def remove(self, output: str) -> None:
        """Delete one output's part files (the folder ``output=<name>``)."""
        if _is_local(self.root):
            shutil.rmtree(Path(_local(self.root)) / f"output={output}", ignore_errors=True)
            return
        fs, path = _hadoop(self.spark, f"{self.root.rstrip('/')}/output={output}")
        if fs.exists(path):
            fs.delete(path, True)

    def _rows(self, where: str) -> Iterator[dict[str, Any]]:
        if _is_local(self.root):
            with open(where, "rb") as fh:
                for line in fh:
                    yield orjson.loads(line)
            return
        for row in self.spark.read.text(where).toLocalIterator():
            yield orjson.loads(row[0])

    def ordered(self, output: str, check: bool = True) -> Iterator[dict[str, Any]]:
        """Every row of ``output`` by input position: range after range, each range's dates merged.

        Raises:
            SparkRunError: The files are not in order (they would give wrong outputs).
        """
        last: tuple[int, ...] | None = None
        for task, days in sorted(self._listing(output).items()):
            streams = [
                chain.from_iterable(self._rows(w) for _, w in sorted(files)) for files in days.values()
            ]
            for row in heapq.merge(*streams, key=_position):
                if check:
                    here = _position(row)
                    if last is not None and here < last:
                        raise SparkRunError(f"the part files of {output} are out of order (task {task})")
                    last = here
                yield row


def _position(row: dict[str, Any]) -> tuple[int, ...]:
    return (row["f"], row["g"], row["l"], row["d"], row["s"], row["p"])
