"""Run qc's per-conversation pipeline on Apache Spark (PySpark), for days too big for one machine.

Two entry points:

* :func:`run_spark_inspection` is ``qc inspect --engine spark``: Spark reads the files, builds
  the conversations, inspects and writes, and the driver streams Spark's part files into the
  local engine's files, byte for byte, and scores from counters (:mod:`qc.batch.spark_day`).
* :func:`inspect_dataframe` takes a Spark DataFrame of messages (one row per message), sends
  every conversation to one worker, rebuilds it with the readers' own conversation builder and
  runs the same inspector as ``qc inspect``. It returns DataFrames, so a platform can keep
  the results in its tables.

Where the inspector runs on Spark (built once per Python worker from broadcast settings)
is :mod:`qc.run.spark`. Only the RDD and DataFrame core of PySpark is used: no pandas or
pyarrow (``applyInPandas`` would need both, for no gain here: each conversation is handled
in Python anyway). PySpark is an optional extra (``pip install 'qc[spark]'``) and is imported
inside functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from qc.batch.chunks import with_evidence
from qc.batch.spark_session import require_spark, spark_session
from qc.errors import ConfigError
from qc.outputs.writers import conversation_summary, dumps
from qc.readers.assemble import assemble_group
from qc.readers.limits import load_limits
from qc.readers.options import ReadOptions
from qc.readers.records import Candidate, RawRecord, dumps_raw, validate
from qc.readers.timestamps import date_from_filename
from qc.rules import RuleSettings
from qc.run.spark import inspect_items
from qc.schema import Conversation, Finding, Reject
from qc.scoring.card import Scorecard, load_scorecard

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = [
    "REQUIRED_COLUMNS",
    "OPTIONAL_COLUMNS",
    "MESSAGE_COLUMNS",
    "conversation_from_rows",
    "message_rows",
    "SparkInspection",
    "inspect_dataframe",
    "messages_dataframe",
    "run_spark_inspection",
    "require_spark",
    "spark_session",
]

REQUIRED_COLUMNS: tuple[str, ...] = ("conversation_id", "role", "text")
# ``seq`` orders messages whose timestamps tie (the record's position in its input);
# ``conversation_order`` orders the output (default: by conversation id); rows whose
# ``dedupe`` differs are never exact duplicates of each other (as in a conversation line);
# ``message_id``, the platform's id of a message, tells a double send from a repeat.
OPTIONAL_COLUMNS: tuple[str, ...] = (
    "sender",
    "timestamp",
    "agent_id",
    "shop",
    "auto_reply",
    "source",
    "seq",
    "conversation_order",
    "dedupe",
    "message_id",
)
MESSAGE_COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
_FIELDS = MESSAGE_COLUMNS
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _findings_type() -> Any:
    from pyspark.sql import types as T

    return T.StructType(
        [
            T.StructField("id", T.StringType(), False),
            T.StructField("message_index", T.IntegerType(), False),
            T.StructField("agent", T.StringType(), True),
            T.StructField("kind", T.StringType(), False),
            T.StructField("rule", T.StringType(), False),
            T.StructField("entry", T.StringType(), True),
            T.StructField("version", T.StringType(), True),
            T.StructField("start", T.IntegerType(), True),
            T.StructField("end", T.IntegerType(), True),
            T.StructField("text", T.StringType(), True),
            T.StructField("score", T.DoubleType(), False),
            T.StructField("suppressed", T.BooleanType(), False),
            T.StructField("needs_review", T.BooleanType(), False),
            T.StructField("cue", T.StringType(), True),
            T.StructField("record", T.StringType(), False),
        ]
    )


def _result_schema() -> Any:
    from pyspark.sql import types as T

    return T.StructType(
        [
            T.StructField("conversation_id", T.StringType(), True),
            T.StructField("conversation_order", T.LongType(), True),
            T.StructField("summary", T.StringType(), True),
            T.StructField("findings", T.ArrayType(_findings_type(), False), False),
            T.StructField("rejects", T.ArrayType(T.StringType(), False), False),
            T.StructField("warnings", T.ArrayType(T.StringType(), False), False),
        ]
    )


@dataclass(frozen=True)
class SparkInspection:
    """What :func:`inspect_dataframe` returns: lazy DataFrames over one inspection.

    ``conversations`` has one row per conversation: ``conversation_id``,
    ``conversation_order``, ``summary`` (the conversations.jsonl line, JSON),
    ``findings`` (array of structs, each with the findings.jsonl line in ``record``)
    and ``rejects`` (rows that could not become messages, rejects.jsonl lines).
    Cache it (``.cache()``) before using several views, or the inspection runs again.
    """

    conversations: DataFrame

    @property
    def findings(self) -> DataFrame:
        """One row per finding: ``conversation_id``, ``conversation_order``, ``position``, then its fields."""
        from pyspark.sql import functions as F

        return self.conversations.select(
            "conversation_id", "conversation_order", F.posexplode("findings").alias("position", "f")
        ).select("conversation_id", "conversation_order", "position", "f.*")

    @property
    def rejects(self) -> DataFrame:
        """One row per rejected message row: ``conversation_id`` and the rejects.jsonl line in ``record``."""
        from pyspark.sql import functions as F

        return self.conversations.select("conversation_id", F.explode("rejects").alias("record"))

    def ordered(self) -> DataFrame:
        """Conversations sorted as the files are written: by ``conversation_order``, then id."""
        from pyspark.sql import functions as F

        return self.conversations.orderBy(F.col("conversation_order").asc_nulls_last(), "conversation_id")


def _normalized(df: DataFrame) -> DataFrame:
    """The message columns in a fixed order and shape the workers expect.

    Without ``seq``, the frame's row order becomes ``seq`` (ids increase in partition
    order, so a file read by Spark keeps its line order). A Spark ``timestamp`` (an
    instant) becomes microseconds since the epoch so no worker time zone can shift it;
    any other type of timestamp column becomes text, which the readers' own timestamp
    parser reads with :class:`ReadOptions`.
    """
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    present = set(df.columns)
    missing = [c for c in REQUIRED_COLUMNS if c not in present]
    if missing:
        raise ConfigError(
            f"the messages DataFrame has no column {', '.join(missing)}; it needs"
            f" {', '.join(REQUIRED_COLUMNS)} and may have {', '.join(OPTIONAL_COLUMNS)}"
        )
    types = {f.name: f.dataType for f in df.schema.fields}
    exprs = []
    for name in _FIELDS:
        if name == "seq" and name not in present:
            # The frame's own row order (read order for a file just read) orders untimed messages.
            exprs.append(F.monotonically_increasing_id().alias(name))
        elif name not in present:
            exprs.append(F.lit(None).alias(name))
        elif name == "timestamp" and isinstance(types[name], T.TimestampType):
            exprs.append(F.unix_micros(F.col(name)).alias(name))
        elif name in ("seq", "conversation_order"):
            exprs.append(F.col(name).cast("long").alias(name))
        elif name == "auto_reply" and isinstance(types[name], T.BooleanType):
            exprs.append(F.col(name))
        else:
            exprs.append(F.col(name).cast("string").alias(name))
    return df.select(*exprs)


def _read_order(record: dict[str, Any]) -> tuple[Any, ...]:
    """Rows by ``seq`` (their input order), else by source, time and content.

    Either way the order never depends on how Spark happened to partition the frame.
    """
    if record["seq"] is not None:
        return (0, record["seq"])
    return (1, *(str(record[k] or "") for k in ("source", "timestamp", "role", "sender", "text")))


def _raw_record(record: dict[str, Any], zone: Any) -> Any:
    """One row as the readers' :class:`~qc.readers.records.RawRecord` (``file:line`` from ``source``)."""
    source = record["source"] or ""
    file, sep, line = source.rpartition(":")
    if not (sep and file and line.isdigit()):
        file, line = source or "dataframe", str((record["seq"] or 0) + 1 if record["seq"] is not None else 0)
    stamp = record["timestamp"]
    if isinstance(stamp, int):  # a Spark timestamp, as microseconds since the epoch
        stamp = (_EPOCH + timedelta(microseconds=stamp)).astimezone(zone)
    dedupe = record["dedupe"]
    return RawRecord(
        file=file,
        line=int(line),
        raw=dumps_raw({k: v for k, v in record.items() if v is not None}),
        conversation_id=record["conversation_id"],
        role=record["role"],
        sender=record["sender"],
        timestamp=stamp,
        text=record["text"],
        agent_id=record["agent_id"],
        shop=record["shop"],
        auto_reply=record["auto_reply"],
        message_id=record["message_id"],
        dedupe=(dedupe,) if dedupe is not None else None,
    )


def conversation_from_rows(
    rows: Iterable[tuple[Any, ...] | dict[str, Any]], options: ReadOptions | None = None
) -> tuple[Conversation | None, list[Reject], list[str]]:
    """Build one conversation from its message rows exactly as the readers build one from a file.

    Each row is validated by the readers' :func:`~qc.readers.records.validate` (roles,
    timestamps, auto-reply flags …), exact duplicates are rejected as the readers reject
    them, and :func:`~qc.readers.assemble.build_conversations` orders and indexes the
    messages. Runs on the Spark workers; plain Python, so it is tested without Spark.

    Args:
        rows: The rows of one conversation, as tuples in :data:`MESSAGE_COLUMNS` order or dicts.
        options: Time zone of naive timestamps, day of time-only ones, agent/customer nicks.

    Returns:
        The conversation (``None`` when no row was valid), the rejected rows, and the
        readers' warnings (messages out of time order).
    """
    from pathlib import Path as _Path
    from zoneinfo import ZoneInfo

    options = options or ReadOptions()
    zone = ZoneInfo(options.zone)
    nicks = (options.agent_nicks, options.customer_nicks)
    years = load_limits().message_years
    records = [
        {name: row.get(name) for name in _FIELDS}
        if isinstance(row, dict)
        else dict(zip(_FIELDS, row, strict=True))
        for row in rows
    ]
    rejects: list[Reject] = []
    candidates: list[Candidate] = []
    for record in sorted(records, key=_read_order):
        raw = _raw_record(record, zone)
        checked = validate(raw, zone, options.date or date_from_filename(_Path(raw.file)), nicks, years)
        if isinstance(checked, Reject):
            rejects.append(checked)
        else:
            candidates.append(checked)
    warnings: list[str] = []
    if not candidates:
        return None, rejects, warnings
    conversation, repeats = assemble_group(candidates[0].conversation_id, candidates, warnings)
    rejects.extend(reject for _, reject in repeats)
    return conversation, rejects, warnings


def _inspect_groups(
    settings: Any,
    options: ReadOptions,
    card: Any,
    groups: Iterable[tuple[str, Iterable[tuple[Any, ...]]]],
) -> Iterator[tuple[Any, ...]]:
    """Inspect every conversation of one partition on this worker; one result row each.

    ``card`` (broadcast) adds its evidence findings (slow replies, missed buyers) as
    ``qc inspect`` writes them.
    """
    card = card.value
    order_at = _FIELDS.index("conversation_order")
    empty: list[tuple[Any, ...]] = []

    def conversations() -> Iterator[tuple[Conversation, tuple[int | None, list[str], list[str]]]]:
        for key, rows in groups:
            rows = list(rows)
            order = min((r[order_at] for r in rows if r[order_at] is not None), default=None)
            conversation, rejects, warnings = conversation_from_rows(rows, options)
            reject_lines = [dumps(r.to_json()) for r in rejects]
            if conversation is None:
                empty.append((key, order, None, [], reject_lines, warnings))
                continue
            yield conversation, (order, reject_lines, warnings)

    # The partition's conversations in batches, so the model runs once per batch.
    for result, (order, reject_lines, warnings) in inspect_items(settings, conversations()):
        while empty:
            yield empty.pop()
        result = with_evidence(result, card)
        yield (
            result.conversation.id,
            order,
            dumps(conversation_summary(result, card)),
            [_finding_row(f) for f in result.findings],
            reject_lines,
            warnings,
        )
    yield from empty


def _keyed(row: Any) -> tuple[str | None, tuple[Any, ...]]:
    # The readers strip ids, so " c1" and "c1" are one conversation there and here.
    key = row[0].strip() if isinstance(row[0], str) else row[0]
    return key, tuple(row)


def _finding_row(finding: Finding) -> tuple[Any, ...]:
    record = finding.to_json()
    return (
        record["id"],
        finding.message_index,
        finding.agent,
        finding.kind,
        finding.rule,
        finding.entry,
        finding.version,
        finding.start,
        finding.end,
        finding.text,
        float(finding.score),
        finding.suppressed,
        finding.needs_review,
        finding.cue,
        dumps(record),
    )


def inspect_dataframe(
    df: DataFrame,
    settings: RuleSettings | None = None,
    options: ReadOptions | None = None,
    partitions: int | None = None,
    card: Scorecard | None = None,
) -> SparkInspection:
    """Inspect a DataFrame of messages on Spark, one conversation per task, as ``qc inspect`` does.

    Args:
        df: One row per message. Needs ``conversation_id``, ``role`` and ``text``; may have
            ``sender``, ``timestamp`` (text or a Spark timestamp), ``agent_id``, ``shop``,
            ``auto_reply``, ``source`` (``file:line``), ``seq`` (input order: orders
            untimed messages and breaks ties; default: the frame's row order),
            ``conversation_order`` (order of the output), ``dedupe`` (rows whose
            ``dedupe`` differs are never duplicates) and ``message_id`` (the platform's id
            of the message: rows with different ids are never duplicates, and it wins over
            ``dedupe``). Values mean what they mean in a JSON Lines export (see the readers).
        settings: Which rules and resources to run; default: ``qc inspect``'s defaults.
        options: Time zone of naive timestamps and other reading options.
        partitions: Partitions of the grouped conversations; default: Spark's default.
        card: The scorecard whose evidence findings (slow replies, unanswered buyers) are added
            and whose holds the summaries count, as ``qc inspect --scorecard``; default: the
            packaged card, as ``qc inspect`` without one.

    Returns:
        A :class:`SparkInspection` whose DataFrames are computed when used.
    """
    settings = settings or RuleSettings()
    options = options or ReadOptions()
    card = card or load_scorecard()
    normalized = _normalized(df)
    grouped = normalized.rdd.map(_keyed).groupByKey(numPartitions=partitions)
    context = df.sparkSession.sparkContext
    shared = context.broadcast(settings)
    results = grouped.mapPartitions(partial(_inspect_groups, shared, options, context.broadcast(card)))
    return SparkInspection(df.sparkSession.createDataFrame(results, _result_schema()))


def _read_sequence(conversation: Conversation) -> list[int]:
    """For each message, its rank in the order the readers read it (files, then lines).

    The readers build a conversation from its records in read order and then sort them by
    time (stably). Sending that read order as ``seq`` lets the workers redo exactly those
    steps: same messages, same indexes, same ``source`` listing the files in read order.
    The index breaks ties inside one line (a conversation-per-line JSON record).
    """
    files = {name: rank for rank, name in enumerate(conversation.source.split(", "))}

    def read_key(message: Any) -> tuple[int, int, int]:
        file, _, line = message.source.rpartition(":")
        if file not in files or not line.isdigit():
            return (len(files), 0, message.index)
        return (files[file], int(line), message.index)

    order = sorted(conversation.messages, key=read_key)
    ranks = {m.index: rank for rank, m in enumerate(order)}
    return [ranks[m.index] for m in conversation.messages]


def messages_dataframe(spark: SparkSession, conversations: list[Conversation]) -> DataFrame:
    """Conversations read on the driver as the messages DataFrame :func:`inspect_dataframe` takes.

    Timestamps travel as ISO text with their offset; ``seq`` is the readers' read order,
    ``conversation_order`` their conversation order, and ``dedupe`` (the message index)
    keeps two identical messages the readers accepted from being taken for duplicates; so
    the workers rebuild the very same conversations.
    """
    from pyspark.sql import types as T

    long_fields = ("seq", "conversation_order")
    schema = T.StructType(
        [
            T.StructField(
                name,
                T.LongType()
                if name in long_fields
                else T.BooleanType()
                if name == "auto_reply"
                else T.StringType(),
                name not in REQUIRED_COLUMNS + long_fields + ("auto_reply",),
            )
            for name in _FIELDS
        ]
    )
    rows = message_rows(conversations)
    # Enough slices to keep every core busy, more only for big batches (each task has a fixed cost).
    slices = max(1, min(len(conversations), max(spark.sparkContext.defaultParallelism, len(rows) // 50_000)))
    return spark.createDataFrame(spark.sparkContext.parallelize(rows, slices), schema)


def message_rows(conversations: list[Conversation]) -> list[tuple[Any, ...]]:
    """The rows of :func:`messages_dataframe`, one tuple per message in :data:`MESSAGE_COLUMNS` order."""
    rows = []
    for order, conv in enumerate(conversations):
        for m, seq in zip(conv.messages, _read_sequence(conv), strict=True):
            values = {
                "conversation_id": conv.id,
                "role": m.role.value,
                "text": m.text,
                "sender": m.sender,
                "timestamp": m.sent_at.isoformat() if m.sent_at is not None else None,
                "agent_id": m.agent_id,
                "shop": conv.shop,
                "auto_reply": m.auto_reply,
                "source": m.source,
                "seq": seq,
                "conversation_order": order,
                "dedupe": str(m.index),
                "message_id": None,  # the index tells every message apart already
            }
            rows.append(tuple(values[name] for name in _FIELDS))
    return rows


def run_spark_inspection(*args: Any, **kwargs: Any) -> Any:
    """``qc inspect --engine spark``: see :func:`qc.batch.spark_day.run_spark_inspection` (same arguments)."""
    from qc.batch.spark_day import run_spark_inspection as run

    return run(*args, **kwargs)
