"""The Spark engine gives the local engine's results: same files byte for byte, same findings.

One local[2] session for the whole module (starting Spark costs seconds). Skipped only when
PySpark or Java is missing on a developer machine; under CI (CI=true) that is a failure.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from outputs import COMPARABLE_OUTPUTS

from qc.batch.run import run_inspection
from qc.errors import ConfigError
from qc.paths import demo_dir
from qc.readers import read_inputs
from qc.readers.options import ReadOptions, expand_inputs
from qc.rules import RuleSettings
from qc.run.executors import LocalExecutor
from qc.run.inspector import build_inspector
from qc.scoring.card import load_scorecard

pytestmark = pytest.mark.slow

FIXTURE_DAY = Path(__file__).parent / "data" / "spark_day"


def _spark_missing() -> str | None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed (pip install -e '.[spark]')"
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "Java is not installed (Spark needs Java 17 or newer)"
    return None


@pytest.fixture(scope="module")
def spark():
    reason = _spark_missing()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the Spark tests: {reason}")
        pytest.skip(reason)
    from qc.batch.spark import spark_session

    session = spark_session("local[2]", app_name="qc tests")
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def _day() -> Path:
    """The bundled demo day when it exists, else the small fixture day."""
    demo = demo_dir() / "day"
    return demo if demo.is_dir() and any(demo.iterdir()) else FIXTURE_DAY


OUTPUT_FILES = COMPARABLE_OUTPUTS


def test_spark_output_equals_local_output(spark, tmp_path):
    from qc.batch.spark import run_spark_inspection

    inputs = expand_inputs([_day()])
    settings = RuleSettings()
    local = run_inspection(inputs, tmp_path / "local", LocalExecutor(build_inspector(settings)))
    remote = run_spark_inspection(inputs, tmp_path / "spark", settings, spark=spark)

    assert local.findings, "the day must produce findings, or the comparison proves little"
    for name in OUTPUT_FILES:
        local_file, spark_file = tmp_path / "local" / name, tmp_path / "spark" / name
        if not local_file.exists():
            continue
        assert spark_file.read_bytes() == local_file.read_bytes(), f"{name} differs between engines"
    assert (tmp_path / "spark" / "findings.jsonl").stat().st_size > 0
    local_run = json.loads((tmp_path / "local" / "run.json").read_text(encoding="utf-8"))
    spark_run = json.loads((tmp_path / "spark" / "run.json").read_text(encoding="utf-8"))
    assert spark_run.pop("engine") == "spark"
    assert spark_run.pop("spark_master").startswith("local")
    for run in (local_run, spark_run):
        run.pop("seconds")
    assert spark_run == local_run
    assert [[f.to_json() for f in r.findings] for r in remote.results] == [
        [f.to_json() for f in r.findings] for r in local.results
    ]
    if (tmp_path / "local" / "agents.xlsx").exists():  # a zip with its own timestamps: compare the cells
        assert _cells(tmp_path / "spark" / "agents.xlsx") == _cells(tmp_path / "local" / "agents.xlsx")


def _cells(path: Path) -> list[list[object]]:
    from openpyxl import load_workbook

    return [
        list(row) for sheet in load_workbook(path).worksheets for row in sheet.iter_rows(values_only=True)
    ]


def _messages(spark):
    rows = [
        # conversation_id, role, sender, timestamp, text, seq
        ("c2", "买家", "buyer_b", "2026-11-24 10:05:00", "在吗", 0),
        ("c1", "客服", "店:小王", "2026-11-24 10:00:30", "不知道", 3),
        ("c1", "买家", "buyer_a", "2026-11-24 10:00:00", "这个什么时候发货？", 2),
        ("c2", "客服", "店:小李", "2026-11-24 10:06:00", "在的，您说", 1),
        ("c1", "customer", "buyer_a", "2026-11-24 10:01:00", "你们怎么回事", 4),
        ("c1", "agent", "店:小王", "2026-11-24 10:01:00", "爱买不买", 5),
        ("c1", "nobody", "x", "2026-11-24 10:02:00", "这一行角色不对", 6),
    ]
    columns = ["conversation_id", "role", "sender", "timestamp", "text", "seq"]
    return spark.createDataFrame(rows, columns)


def test_inspect_dataframe_groups_rebuilds_and_inspects_each_conversation(spark, tmp_path):
    from qc.batch.spark import inspect_dataframe

    # The lexicon rule alone, so the expected findings do not move when the classifier is retrained.
    settings = RuleSettings(rules=("forbidden_phrase.v1",))
    result = inspect_dataframe(_messages(spark), settings, ReadOptions(timezone="Asia/Shanghai"))
    conversations = {r["conversation_id"]: r for r in result.ordered().collect()}
    assert list(conversations) == ["c1", "c2"]

    summary = json.loads(conversations["c1"]["summary"])
    assert summary["messages"] == 4
    assert summary["agents"] == ["店:小王"]
    assert summary["started_at"] == "2026-11-24T10:00:00+08:00"

    findings = result.findings.orderBy("conversation_id", "position").collect()
    assert [(f["conversation_id"], f["message_index"], f["text"], f["kind"]) for f in findings] == [
        ("c1", 1, "不知道", "forbidden_phrase"),
        ("c1", 3, "爱买不买", "forbidden_phrase"),
    ]
    assert json.loads(findings[0]["record"])["id"] == findings[0]["id"]

    rejects = [json.loads(r["record"]) for r in result.rejects.collect()]
    assert [(r["line"], r["reason"].split(" (")[0]) for r in rejects] == [(7, "unknown role")]

    # The same messages as a JSON Lines file, read and inspected by the local engine.
    path = tmp_path / "day.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for row in sorted(_messages(spark).collect(), key=lambda r: r["seq"]):
            fh.write(json.dumps({k: row[k] for k in row.asDict() if k != "seq"}, ensure_ascii=False) + "\n")
    read = read_inputs([path], ReadOptions())
    local = build_inspector(settings)
    local_records = [f.to_json() for c in read.conversations for f in local.inspect_one(c).findings]
    spark_records = [json.loads(f["record"]) for f in findings]
    assert spark_records == local_records


def test_a_jsonl_file_read_by_spark_gives_the_local_findings(spark, tmp_path):
    from qc.batch.spark import inspect_dataframe

    path = FIXTURE_DAY / "shop-a-2026-11-24.jsonl"
    result = inspect_dataframe(spark.read.json(str(path)), RuleSettings())
    result.conversations.cache()
    spark_findings = [r["record"] for r in result.findings.orderBy("conversation_id", "position").collect()]
    spark_rejects = sorted(json.loads(r["record"])["reason"] for r in result.rejects.collect())

    local = run_inspection([path], tmp_path / "local", LocalExecutor(build_inspector(RuleSettings())))
    # inspect_dataframe gives the rules' findings; the batch layer adds the scorecard's evidence
    # findings (slow replies…) when it writes and scores, for Spark as for the local engine.
    evidence = set(load_scorecard().evidence_kinds)
    local_findings = [
        line
        for line in (tmp_path / "local" / "findings.jsonl").read_text(encoding="utf-8").splitlines()
        if json.loads(line)["kind"] not in evidence
    ]
    assert len(spark_findings) >= 3
    assert spark_findings == local_findings  # one file: conversations appear in id order there too
    assert spark_rejects == sorted(r.reason for r in local.read.rejects)


def test_spark_timestamps_are_read_in_the_configured_zone(spark):
    from qc.batch.spark import inspect_dataframe

    # A Spark timestamp is an instant: 02:00 UTC is 10:00 in Shanghai whatever the session zone.
    df = spark.sql(
        "SELECT 'c1' AS conversation_id, 'buyer' AS role, TIMESTAMP'2026-11-24 02:00:00 UTC' AS timestamp,"
        " '在吗' AS text"
        " UNION ALL SELECT 'c1', 'agent', NULL, '在的'"
    )
    (row,) = inspect_dataframe(df, RuleSettings(), ReadOptions(timezone="Asia/Shanghai")).ordered().collect()
    assert json.loads(row["summary"])["started_at"] == "2026-11-24T10:00:00+08:00"


def test_cli_engine_spark_writes_what_the_local_engine_writes(spark, tmp_path):
    from typer.testing import CliRunner

    from qc.cli import app

    runner = CliRunner()
    for engine in ("local", "spark"):
        result = runner.invoke(
            app, ["inspect", str(FIXTURE_DAY), "--out", str(tmp_path / engine), "-q", "--engine", engine]
        )
        assert result.exit_code == 0, result.output
    for name in ("findings.jsonl", "conversations.jsonl", "rejects.jsonl"):
        assert (tmp_path / "spark" / name).read_bytes() == (tmp_path / "local" / name).read_bytes(), name
    run = json.loads((tmp_path / "spark" / "run.json").read_text(encoding="utf-8"))
    assert run["engine"] == "spark"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--engine", "dask"], "--engine 'dask' is unknown"),
        (["--master", "local[1]"], "--master only applies"),
    ],
    ids=["unknown-engine", "master-without-spark"],
)
def test_cli_engine_options_are_checked_before_any_work(tmp_path, args, message):
    from typer.testing import CliRunner

    from qc.cli import app

    result = CliRunner().invoke(app, ["inspect", str(FIXTURE_DAY), "--out", str(tmp_path / "out"), *args])
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "out").exists()


def test_rows_rebuild_the_conversations_the_readers_built():
    """The workers' builder gives back every conversation of the fixture day, message for message."""
    from qc.batch.spark import conversation_from_rows, message_rows

    read = read_inputs(expand_inputs([FIXTURE_DAY]), ReadOptions())
    assert (len(read.conversations), read.accepted, read.rejected) == (6, 20, 3)
    rows = message_rows(read.conversations)
    for conversation in read.conversations:
        mine = [r for r in rows if r[0] == conversation.id]
        rebuilt, rejects, _ = conversation_from_rows(reversed(mine), ReadOptions())
        assert rejects == []
        assert rebuilt == conversation
        assert [m.sent_at.isoformat() for m in rebuilt.messages if m.sent_at] == [
            m.sent_at.isoformat() for m in conversation.messages if m.sent_at
        ]


def test_a_dataframe_without_text_is_refused_with_the_columns_it_needs(spark):
    from qc.batch.spark import inspect_dataframe

    df = spark.createDataFrame([("c1", "agent")], ["conversation_id", "role"])
    with pytest.raises(ConfigError, match="no column text"):
        inspect_dataframe(df, RuleSettings())
