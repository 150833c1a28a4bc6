"""The Spark engine gives the local engine's results: same files byte for byte, same findings.

One local[2] session for the whole module (starting Spark costs seconds). Skipped only when
PySpark or Java is missing on a developer machine; under CI (CI=true) that is a failure.
The runs of a day too big for the driver and of spark-submit are in tests/test_spark_submit.py.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from outputs import COMPARABLE_OUTPUTS

from qc.batch.chunks import with_evidence
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


def _local(inputs: list[Path], out: Path, **options):
    executor = LocalExecutor(build_inspector(RuleSettings()))
    return run_inspection(expand_inputs(inputs), out, executor, keep_results=False, **options)


def _cells(path: Path) -> list[list[object]]:
    from openpyxl import load_workbook

    return [
        list(row) for sheet in load_workbook(path).worksheets for row in sheet.iter_rows(values_only=True)
    ]


def assert_same_outputs(local: Path, spark_out: Path) -> dict:
    """Every file of the local engine, byte for byte (agents.xlsx cell by cell, run.json but timing
    and engine keys); returns the Spark run's engine keys."""
    for name in COMPARABLE_OUTPUTS:
        assert (spark_out / name).read_bytes() == (local / name).read_bytes(), (
            f"{name} differs between engines"
        )
    assert _cells(spark_out / "agents.xlsx") == _cells(local / "agents.xlsx")
    local_run = json.loads((local / "run.json").read_text(encoding="utf-8"))
    spark_run = json.loads((spark_out / "run.json").read_text(encoding="utf-8"))
    engine = {k: spark_run.pop(k) for k in list(spark_run) if k == "engine" or k.startswith("spark")}
    for run in (local_run, spark_run):
        run.pop("seconds")
    assert spark_run == local_run
    return engine


def test_spark_day_writes_the_local_engine_files_on_the_demo_day(spark, tmp_path):
    from qc.batch.spark import run_spark_inspection

    day = _day()
    local = _local([day], tmp_path / "local")
    report = run_spark_inspection([day], tmp_path / "spark", spark=spark)

    assert local.finding_count > 100, "the day must produce findings, or the comparison proves little"
    engine = assert_same_outputs(tmp_path / "local", tmp_path / "spark")
    assert (report.conversations, report.finding_count) == (local.conversations, local.finding_count)
    assert engine["engine"] == "spark" and engine["spark_master"].startswith("local")
    # XLSX, GB18030 and text exports are read on the driver and say so; UTF-8 JSON Lines by Spark.
    on_driver = [Path(d["path"]).name for d in engine.get("spark_read_on_driver", [])]
    assert not any(name.endswith(".jsonl") for name in on_driver)
    assert any(name.endswith(".xlsx") for name in on_driver)
    # Spark's own part files stay, partitioned by date.
    parts = tmp_path / "spark" / "spark" / "output=findings" / "date=2026-11-24"
    assert sorted(parts.glob("part-*.json")), "the findings part files are kept under --out/spark"


def test_spark_day_on_messy_input_cut_into_small_pieces(spark, tmp_path):
    """Every reader edge case, files cut into blocks of a few lines, output in three ranges."""
    from messy_day import messy_day

    from qc.batch.spark import run_spark_inspection

    day = messy_day(tmp_path)
    local = _local([day], tmp_path / "local")
    spark.conf.set("spark.sql.files.maxPartitionBytes", "600")  # a JSON Lines file in a dozen blocks
    try:
        run_spark_inspection([day], tmp_path / "spark", spark=spark, partitions=3)
    finally:
        spark.conf.unset("spark.sql.files.maxPartitionBytes")

    assert local.read.rejected > 30 and local.read.failed_files and len(local.read.warnings) > 3
    # run.json says so too; an empty file is skipped with a word, as a README is (audit 81 #19)
    assert [Path(f.path).name for f in local.read.skipped_files] == ["f_empty.jsonl", "j_说明.txt"]
    engine = assert_same_outputs(tmp_path / "local", tmp_path / "spark")
    why = {Path(d["path"]).name: d["why"] for d in engine["spark_read_on_driver"]}
    assert "a_messages.jsonl" not in why and "c_export.csv" not in why  # read by Spark
    assert "not UTF-8" in why["h_late_garble.jsonl"]  # found by the survey of every line, not the head
    assert "i_odd name [1]{x}*.jsonl" not in why and "':'" in why["i_odd:colon.jsonl"]
    ranges = {p.name.split("-")[1] for p in (tmp_path / "spark" / "spark").glob("output=rejects/*/part-*")}
    assert len(ranges) == 3, "the rejects fall into all three output ranges"


def test_spark_day_saves_to_the_store_what_the_local_engine_saves(spark, tmp_path):
    """Also with a review decision in the store: a rejected finding costs nothing on either engine."""
    from qc.batch.spark import run_spark_inspection
    from qc.store.database import open_store
    from qc.supervise.people import add_person
    from qc.supervise.review import decide

    local_db, spark_db = tmp_path / "local.sqlite", tmp_path / "spark.sqlite"
    first = _local([FIXTURE_DAY], tmp_path / "first", store=str(local_db))
    _local([FIXTURE_DAY], tmp_path / "first-again", store=str(spark_db))
    assert first.results == []  # keep_results=False: with a store the records wait on disk, not here
    with open_store(local_db) as store:
        charged = next(
            s.finding for s in store.findings() if s.finding.live and s.finding.kind == "impatience"
        )
    for db in (local_db, spark_db):
        with open_store(db) as store:
            add_person(store, "测试", "reviewer", by="test")  # a review needs a registered reviewer
            decide(store, charged.id, "reject", by="测试", note="test")

    _local([FIXTURE_DAY], tmp_path / "local", store=str(local_db))
    run_spark_inspection([FIXTURE_DAY], tmp_path / "spark", spark=spark, store=str(spark_db))

    for name in ("agents.csv", "deductions.jsonl", "findings.jsonl"):
        assert (tmp_path / "spark" / name).read_bytes() == (tmp_path / "local" / name).read_bytes(), name
    assert (tmp_path / "local" / "agents.csv").read_bytes() != (
        tmp_path / "first" / "agents.csv"
    ).read_bytes()
    assert _tables(spark_db) == _tables(local_db)


def test_rules_the_executors_cannot_build_stop_the_run_with_the_reason(spark, tmp_path):
    from qc.batch.spark import run_spark_inspection

    settings = RuleSettings(lexicon=tmp_path / "missing.toml")
    with pytest.raises(ConfigError, match="missing.toml"):
        run_spark_inspection([FIXTURE_DAY], tmp_path / "out", settings, spark=spark)
    assert not (tmp_path / "out" / "findings.jsonl").exists()


def _tables(path: Path) -> dict[str, list[tuple]]:
    """Every table's rows, without run ids, times and the run.json text (engine keys differ)."""
    import sqlite3

    db = sqlite3.connect(path)
    out = {}
    for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
        columns = [c[1] for c in db.execute(f"PRAGMA table_info({table})")]
        times = ("started_at", "applied_at", "at", "saved_at", "added_at")
        kept = [c for c in columns if c not in ("id", "run_id", "run_json", *times)]
        out[table] = sorted(db.execute(f"SELECT {', '.join(kept)} FROM {table}").fetchall(), key=repr)
    db.close()
    return out


def _messages(spark):
    rows = [
        # conversation_id, role, sender, timestamp, text, seq
        ("c2", "买家", "buyer_b", "2026-11-24 10:05:00", "在吗", 0),
        ("c1", "客服", "店:小王", "2026-11-24 10:00:30", "不知道", 3),
        ("c1", "买家", "buyer_a", "2026-11-24 10:00:00", "这个什么时候发货？", 2),
        ("c2", "客服", "店:小李", "2026-11-24 10:06:05", "在的，您说", 1),
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
        ("c2", 1, "在的，您说", "slow_response"),  # 65 s: the card's evidence, as qc inspect writes it
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
    card = load_scorecard()
    local_records = [
        f.to_json()
        for c in sorted(read.conversations, key=lambda c: c.id)
        for f in with_evidence(local.inspect_one(c), card).findings
    ]
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
    # the scorecard's evidence findings (slow replies…) too, as qc inspect writes them: a
    # platform counting slow replies from the DataFrame found none
    local_findings = (tmp_path / "local" / "findings.jsonl").read_text(encoding="utf-8").splitlines()
    evidence = set(load_scorecard().evidence_kinds)
    assert any(json.loads(line)["kind"] in evidence for line in spark_findings)
    assert spark_findings == local_findings  # one file: conversations appear in id order there too
    summaries = [r["summary"] for r in result.ordered().collect() if r["summary"] is not None]
    local_summaries = (tmp_path / "local" / "conversations.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(x)["findings"] for x in summaries] == [
        json.loads(x)["findings"] for x in local_summaries
    ]
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
    spark_dir = tmp_path / "parts"
    for engine, extra in (("local", []), ("spark", ["--spark-dir", str(spark_dir)])):
        result = runner.invoke(
            app,
            ["inspect", str(FIXTURE_DAY), "--out", str(tmp_path / engine), "-q", "--engine", engine, *extra],
        )
        assert result.exit_code == 0, result.output
    for name in COMPARABLE_OUTPUTS:
        assert (tmp_path / "spark" / name).read_bytes() == (tmp_path / "local" / name).read_bytes(), name
    run = json.loads((tmp_path / "spark" / "run.json").read_text(encoding="utf-8"))
    assert run["engine"] == "spark"
    assert run["spark_parts"] == str(spark_dir.resolve())
    assert sorted(spark_dir.glob("output=conversations/date=*/part-*.json"))


@pytest.mark.parametrize(
    "args, message",
    [
        (["--engine", "dask"], "--engine 'dask' is unknown"),
        (["--master", "local[1]"], "--master only applies"),
        (["--spark-dir", "parts"], "--spark-dir only applies"),
        (["hdfs:///chats/day/"], "URIs are read by --engine spark only"),
    ],
    ids=["unknown-engine", "master-without-spark", "spark-dir-without-spark", "uri-without-spark"],
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


def test_rows_with_message_ids_keep_double_sends_and_drop_repeats():
    from qc.batch.spark import conversation_from_rows

    said = {"conversation_id": "D1", "role": "买家", "text": "在吗", "timestamp": "2026-11-24 10:00:05"}
    rows = [{**said, "seq": seq, "message_id": mid} for seq, mid in enumerate(["a1", "a2", "a2"])]
    conversation, rejects, _ = conversation_from_rows(rows, ReadOptions())
    assert conversation is not None and [m.text for m in conversation.messages] == ["在吗", "在吗"]
    assert [r.reason for r in rejects] == ["exact duplicate of line 2"]


def test_a_dataframe_without_text_is_refused_with_the_columns_it_needs(spark):
    from qc.batch.spark import inspect_dataframe

    df = spark.createDataFrame([("c1", "agent")], ["conversation_id", "role"])
    with pytest.raises(ConfigError, match="no column text"):
        inspect_dataframe(df, RuleSettings())


def _invoke(*args: object):
    from typer.testing import CliRunner

    from qc.cli import app

    return CliRunner().invoke(app, [str(a) for a in args])


def test_a_parts_folder_holding_anything_else_is_refused_before_spark_starts(tmp_path):
    """Spark empties the folder it writes its parts into: a folder of notes, the day's exports named
    as --spark-dir and a store in --out were deleted, mostly with exit 0 (audit 74)."""
    day = tmp_path / "day"
    shutil.copytree(FIXTURE_DAY, day)
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "notes.txt").write_text("do not delete", encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    (out / "qc.sqlite").write_bytes(b"")
    (out / "spark").mkdir()
    (out / "spark" / "mine.txt").write_text("mine", encoding="utf-8")
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    for extra, says in (
        (["--spark-dir", notes], "holds files qc did not write (notes.txt)"),
        (["--spark-dir", day], f"holds {day.resolve()}"),  # the input itself
        (["--spark-dir", tmp_path], f"holds {day.resolve()}"),  # a folder holding the input
        (["--spark-dir", out, "--db", out / "qc.sqlite"], f"holds {out.resolve()}"),
        ([], "holds files qc did not write (mine.txt)"),  # the default, --out/spark
        (["--spark-dir", notes / "notes.txt" / "parts"], "notes.txt is a file; give a folder"),
    ):
        result = _invoke("inspect", day, "--out", out, "--engine", "spark", "-q", *extra)
        assert result.exit_code == 2 and says in result.output, (extra, result.output)
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before


def test_an_earlier_runs_parts_folder_is_taken_again(spark, tmp_path):
    parts = tmp_path / "parts"
    for n in (1, 2):
        result = _invoke(
            "inspect",
            FIXTURE_DAY,
            "--out",
            tmp_path / f"o{n}",
            "--engine",
            "spark",
            "--spark-dir",
            parts,
            "-q",
        )
        assert result.exit_code == 0, result.output
    assert (tmp_path / "o1" / "findings.jsonl").read_bytes() == (
        tmp_path / "o2" / "findings.jsonl"
    ).read_bytes()


def test_hidden_names_and_refused_entries_are_read_and_named_as_the_local_engine_does(spark, tmp_path):
    """A file named _x.jsonl was read as empty (Hadoop hides it); a dangling link or a file named twice
    went without a word under Spark, while the local engine names them (audit 74)."""
    day = tmp_path / "day"
    day.mkdir()
    first, second = sorted(FIXTURE_DAY.iterdir())
    shutil.copy(first, day / "_underscore.jsonl")
    shutil.copy(second, tmp_path / ".dotted.jsonl")
    (day / "gone.jsonl").symlink_to(tmp_path / "nowhere.jsonl")
    inputs = [day, tmp_path / ".dotted.jsonl", day / "_underscore.jsonl"]
    for engine in ("local", "spark"):
        result = _invoke("inspect", *inputs, "--out", tmp_path / engine, "--engine", engine, "-q")
        assert result.exit_code == 0, result.output
        assert "gone.jsonl" in result.output  # -q still names what it did not read
    for name in COMPARABLE_OUTPUTS:
        assert (tmp_path / "spark" / name).read_bytes() == (tmp_path / "local" / name).read_bytes(), name
    runs = [json.loads((tmp_path / e / "run.json").read_text(encoding="utf-8")) for e in ("local", "spark")]
    assert runs[0]["files"] == runs[1]["files"]
    assert sum(f["read"] for f in runs[1]["files"]) == 23  # both hidden names read
    assert {Path(f["path"]).name: f["skipped"] for f in runs[1]["files"] if f["skipped"]} == {
        "gone.jsonl": "dangling symlink (its target does not exist): not read",
        "_underscore.jsonl": f"the same file as {day / '_underscore.jsonl'}: read once",
    }


def test_a_master_spark_cannot_use_is_a_setting_to_fix_not_a_bug(tmp_path):
    """`--master 'local[abc]'` was "internal error … a bug in qc" (exit 70) after Java's traces."""
    import subprocess
    import sys

    if _spark_missing():
        pytest.skip(_spark_missing() or "")
    done = subprocess.run(
        [sys.executable, "-m", "qc", "inspect", str(FIXTURE_DAY), "--out", str(tmp_path / "o"), "-q"]
        + ["--engine", "spark", "--master", "local[abc]"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2, done.stderr
    assert "Spark did not start with --master local[abc]" in done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr
    # qc's line only: SparkContext's ERROR and its Java frames came first (audit 89 #6)
    assert "ERROR" not in done.stderr and "\tat " not in done.stderr, done.stderr


def test_a_signal_under_a_spark_call_stops_the_run_as_a_signal():
    """SIGTERM raised inside a py4j call came back as its network error: exit 1 "the Spark job failed"."""
    import signal

    from qc.batch.spark_day import _interruption
    from qc.errors import Interrupted

    stop = Interrupted(signal.SIGTERM, "stopped by SIGTERM")
    try:
        try:
            raise stop
        except Interrupted:
            raise ConnectionError("Error while sending or receiving") from None
    except ConnectionError as exc:
        failed = exc
    assert failed.__cause__ is None and _interruption(failed) is stop
    assert _interruption(RuntimeError("a task failed")) is None


def test_a_chat_cut_at_midnight_is_joined_with_its_stored_part_as_the_local_engine_joins_it(spark, tmp_path):
    """With --db, Spark replaced the stored first half with the second: 6 stored messages became 3,
    the first day's findings went, and nothing said so (audit 74)."""
    import sqlite3

    def said(role: str, at: str, text: str) -> str:
        who = "店:小满" if role == "agent" else "夜猫子"
        row = {
            "conversation_id": "x1",
            "role": role,
            "sender": who,
            "timestamp": at,
            "text": text,
            "shop": "店",
        }
        return json.dumps(row, ensure_ascii=False) + "\n"

    first, second = tmp_path / "d1.jsonl", tmp_path / "d2.jsonl"
    first.write_text(
        said("customer", "2026-11-24T23:50:00+08:00", "能今天发货吗")
        + said("agent", "2026-11-24T23:52:00+08:00", "哦")
        + said("customer", "2026-11-24T23:58:00+08:00", "到底能不能"),
        encoding="utf-8",
    )
    second.write_text(
        said("agent", "2026-11-25T00:02:00+08:00", "不知道")
        + said("customer", "2026-11-25T00:05:00+08:00", "什么态度")
        + said("agent", "2026-11-25T00:06:00+08:00", "爱买不买"),
        encoding="utf-8",
    )
    for engine in ("local", "spark"):
        db = tmp_path / f"{engine}.sqlite"
        for n, part in enumerate((first, second)):
            out = tmp_path / f"{engine}{n}"
            result = _invoke("inspect", part, "--out", out, "--db", db, "--engine", engine, "-q")
            assert result.exit_code == 0, result.output
    for name in ("findings.jsonl", "conversations.jsonl", "agents.csv", "deductions.jsonl"):
        assert (tmp_path / "spark1" / name).read_bytes() == (tmp_path / "local1" / name).read_bytes(), name
    runs = [
        json.loads((tmp_path / f"{e}1" / "run.json").read_text(encoding="utf-8")) for e in ("local", "spark")
    ]
    assert runs[0]["continued_conversations"] == runs[1]["continued_conversations"] != []
    assert runs[1]["moved_decisions"] == runs[0]["moved_decisions"]
    stored = []
    for engine in ("local", "spark"):
        with sqlite3.connect(tmp_path / f"{engine}.sqlite") as conn:
            stored.append(conn.execute("select idx, role, text from messages order by idx").fetchall())
    assert stored[0] == stored[1] and len(stored[1]) == 6
    # Whole transcripts were written for the save only: none stays among the parts.
    parts = tmp_path / "spark1" / "spark"
    assert sorted(parts.glob("output=findings/*/part-*")) and not (parts / "output=transcripts").exists()


def test_a_quiet_spark_run_prints_nothing_of_spark_s_own(tmp_path):
    """`-q` printed Spark's start-up chatter (its default log4j profile, the hostname warning,
    "Setting default log level"): they come before qc can turn Spark's logs off (audit 74)."""
    import subprocess
    import sys

    day = demo_dir() / "day"
    env = {k: v for k, v in os.environ.items() if k != "PYSPARK_SUBMIT_ARGS"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "qc",
            "inspect",
            str(day),
            "--out",
            str(tmp_path / "o"),
            "--engine",
            "spark",
            "-q",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    # The JVM itself announces the incubator module Spark asks for; that line is not Spark's log.
    said = [
        line for line in done.stderr.splitlines() if not line.startswith("WARNING: Using incubator modules")
    ]
    assert said == []


def test_a_mac_export_joined_below_a_windows_one_is_read_as_the_local_engine_reads_it(spark, tmp_path):
    """Past the head Spark looks at, a Mac half (CR alone) was one reject of 150 KB, or its CSV rows
    lost, where the local engine read both halves (audit 129 H1)."""
    from qc.batch.spark import run_spark_inspection

    day = tmp_path / "day"
    day.mkdir()
    said = [("customer", "买家", "在吗，能便宜点吗"), ("agent", "店:小满", "爱买不买")]
    lines = [
        json.dumps(
            {
                "conversation_id": f"c{n}",
                "role": r,
                "sender": s,
                "timestamp": f"2026-11-24T{10 + n // 3600:02d}:{n // 60 % 60:02d}:{k:02d}+08:00",
                "text": t,
            },
            ensure_ascii=False,
        )
        for n in range(1200)
        for k, (r, s, t) in enumerate(said)
    ]
    # More Mac lines than Windows ones: the whole-file reader splits on carriage returns, a CRLF's too.
    data = ("\r\n".join(lines[:1000]) + "\r\n" + "\r".join(lines[1000:]) + "\r").encode("utf-8")
    assert data.index(b"\r{") > 65536
    (day / "joined.jsonl").write_bytes(data)
    local = _local([day], tmp_path / "local")
    assert local.conversations == 1200 and not local.read.rejected
    run_spark_inspection([day], tmp_path / "spark", spark=spark)
    engine = assert_same_outputs(tmp_path / "local", tmp_path / "spark")
    (why,) = [d["why"] for d in engine["spark_read_on_driver"]]
    assert "carriage return" in why
