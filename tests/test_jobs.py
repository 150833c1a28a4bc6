"""Batching, worker processes and streamed input never change what `qc inspect` writes.

The demo day is inspected with --jobs 1 and 2 and two batch sizes; every output file
must be byte for byte the same (run.json apart from its timing, agents.xlsx cell by
cell, since a workbook's zip metadata is not part of the result). Streamed reading
gives the conversations, rejects and counts of the whole-batch reader, and a streamed,
lean run writes the outputs of a whole-batch run.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from outputs import COMPARABLE_OUTPUTS
from typer.testing import CliRunner

from qc.batch.run import run_inspection
from qc.cli import app
from qc.readers import ReadOptions, read_inputs
from qc.readers.stream import NotContiguousError, StreamRead, stream_inputs
from qc.rules import BaseRule, RuleSettings
from qc.run.executors import LocalExecutor, findings_of
from qc.run.inspector import Inspector, build_inspector
from qc.run.pool import PoolExecutor
from qc.schema import Conversation, Evidence, Finding, Message, Role
from qc.synth.conversations import iter_conversations
from qc.synth.exports import write_jsonl_messages

ROOT = Path(__file__).resolve().parent.parent
DEMO_DAY = ROOT / "demo" / "day"
READER_FILES = ROOT / "tests" / "data" / "readers"
BYTE_FILES = COMPARABLE_OUTPUTS
runner = (
    CliRunner(mix_stderr=False) if "mix_stderr" in CliRunner.__init__.__code__.co_varnames else CliRunner()
)


class _BatchProbe(BaseRule):
    """A rule with both APIs; check_batch records the batch sizes it was given."""

    name = "test_batch_probe.v1"

    def __init__(self) -> None:
        self.batches: list[int] = []

    def _one(self, conversation: Conversation) -> list[Finding]:
        return [
            Finding(conversation.id, m.index, "probe", 0.5, Evidence(self.name, "probe"), agent=m.agent)
            for m in reversed(conversation.agent_messages())
        ]

    def check(self, conversation, features):
        return self._one(conversation)

    def check_batch(self, items):
        self.batches.append(len(items))
        return [self._one(c) for c, _ in items]


class _PlainRule(BaseRule):
    name = "test_plain.v1"

    def check(self, conversation, features):
        first = conversation.messages[0]
        yield Finding(conversation.id, first.index, "first", 0.1, Evidence(self.name, "first"))


def _conversations(n: int) -> list[Conversation]:
    return [
        Conversation(
            f"c{i}",
            (
                Message(0, Role.CUSTOMER, "在吗"),
                *(Message(j, Role.AGENT, "在的", sender="s:a") for j in range(1, 1 + i % 4)),
            ),
        )
        for i in range(n)
    ]


@pytest.mark.parametrize("batch_size", [1, 3, 256], ids=lambda b: f"batch{b}")
def test_local_executor_batches_give_the_results_of_inspect_one(batch_size: int) -> None:
    convs = _conversations(10)
    probe = _BatchProbe()
    one_by_one = [Inspector([_BatchProbe(), _PlainRule()]).inspect_one(c) for c in convs]
    executor = LocalExecutor(Inspector([probe, _PlainRule()]), batch_size=batch_size)
    batched = [r for _, results in executor.map(convs, list) for r in results]
    assert batched == one_by_one
    assert probe.batches == [min(batch_size, 10 - k) for k in range(0, 10, batch_size)]


def test_findings_of_a_batch_are_sorted_by_message_whatever_the_rule_order() -> None:
    conv = _conversations(4)[3]
    (result,) = Inspector([_BatchProbe(), _PlainRule()]).inspect([conv])
    assert [f.message_index for f in result.findings] == [0, 1, 2, 3]
    assert [f.kind for f in result.findings][0] == "first"


def test_pool_executor_matches_one_process_on_the_demo_day() -> None:
    settings = RuleSettings(rules=("forbidden_phrase.v1",))
    conversations = read_inputs([DEMO_DAY], ReadOptions()).conversations
    local = LocalExecutor(build_inspector(settings), batch_size=64)
    expected = [f for _, found in local.map(conversations, findings_of) for f in found]
    with PoolExecutor(settings, jobs=2, batch_size=7) as pool:
        batches = list(pool.map(iter(conversations), findings_of))
        assert pool.describe() == local.describe()
    assert [c for batch, _ in batches for c in batch] == conversations
    assert [f for _, found in batches for f in found] == expected
    assert sum(len(f) for f in expected) > 0


def test_a_worker_that_cannot_load_its_model_fails_the_run_instead_of_restarting(tmp_path: Path) -> None:
    from qc.errors import ArtifactError

    with PoolExecutor(RuleSettings(model=tmp_path / "no-model"), jobs=2, batch_size=4) as pool:
        with pytest.raises(ArtifactError, match="no-model"):
            list(pool.map(_conversations(20), findings_of))
        with pytest.raises(ArtifactError, match="no-model"):
            pool.describe()


def test_packed_conversations_come_back_equal_with_their_time_zones() -> None:
    from datetime import UTC, datetime, timedelta, timezone
    from zoneinfo import ZoneInfo

    from qc.run.pool import pack_conversations, unpack_conversations

    times = [
        datetime(2026, 11, 24, 10, 0, 0, 123456, tzinfo=timezone(timedelta(hours=8))),
        datetime(2026, 11, 24, 10, 0, 1, tzinfo=timezone(timedelta(hours=8), "CST")),  # same offset, named
        datetime(2026, 11, 24, 2, 0, 2, tzinfo=UTC),
        datetime(2026, 11, 24, 10, 0, 3, tzinfo=ZoneInfo("Asia/Shanghai")),
        datetime(2026, 11, 1, 1, 30, tzinfo=ZoneInfo("America/New_York"), fold=1),  # the repeated hour
        datetime(2026, 11, 24, 10, 0, 4),  # naive
        None,
    ]
    conv = Conversation(
        "c1",
        tuple(
            Message(i * 2, Role.AGENT, f"好{i}", sender="店:小王", sent_at=t, auto_reply=i == 1, agent_id="a")
            for i, t in enumerate(times)
        ),
        shop="店",
        source="x.jsonl",
    )
    (back,) = unpack_conversations(pack_conversations([conv]))
    assert back == conv
    for got, sent in zip(back.messages, conv.messages, strict=True):
        assert got.sent_at is None or (got.sent_at.tzname(), got.sent_at.fold) == (
            sent.sent_at.tzname(),
            sent.sent_at.fold,
        )
        assert got.sent_at is None or got.sent_at.isoformat() == sent.sent_at.isoformat()


def test_jobs_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        PoolExecutor(RuleSettings(rules=()), jobs=0)


def test_more_jobs_than_the_machine_can_run_is_refused_before_anything_starts(tmp_path: Path) -> None:
    """--jobs 1000000 started worker processes (each loading the model) until stopped (audit 84 L6)."""
    import os

    cores = len(os.sched_getaffinity(0))
    out = tmp_path / "out"
    res = runner.invoke(app, ["inspect", str(DEMO_DAY), "--out", str(out), "--jobs", str(4 * cores + 1)])
    assert res.exit_code == 2 and f"use --jobs {cores}" in res.stderr and not out.exists()


def _inspect(tmp_path: Path, name: str, *args: str) -> Path:
    out = tmp_path / name
    res = runner.invoke(app, ["inspect", str(DEMO_DAY), "--out", str(out), "--quiet", *args])
    assert res.exit_code in (0, 1), res.stderr
    return out


def _xlsx_cells(path: Path) -> list[list[tuple]]:
    from openpyxl import load_workbook

    book = load_workbook(path)
    return [[tuple(c.value for c in row) for row in sheet.iter_rows()] for sheet in book.worksheets]


@pytest.mark.slow
def test_outputs_identical_for_any_jobs_and_batch_size(tmp_path: Path) -> None:
    reference = _inspect(tmp_path, "j1-b256", "--jobs", "1", "--batch-size", "256")
    variants = [
        _inspect(tmp_path, "j1-b5", "--jobs", "1", "--batch-size", "5"),
        _inspect(tmp_path, "j2-b256", "--jobs", "2", "--batch-size", "256"),
        _inspect(tmp_path, "j2-b5", "--jobs", "2", "--batch-size", "5"),
    ]
    ref_run = json.loads((reference / "run.json").read_text(encoding="utf-8"))
    assert ref_run["findings"] > 0
    for out in variants:
        for name in BYTE_FILES:
            assert (out / name).read_bytes() == (reference / name).read_bytes(), f"{out.name}/{name}"
        run = json.loads((out / "run.json").read_text(encoding="utf-8"))
        assert {k: v for k, v in run.items() if k != "seconds"} == {
            k: v for k, v in ref_run.items() if k != "seconds"
        }
        assert _xlsx_cells(out / "agents.xlsx") == _xlsx_cells(reference / "agents.xlsx")


def test_jobs_with_spark_is_a_usage_error(tmp_path: Path) -> None:
    res = runner.invoke(
        app, ["inspect", str(DEMO_DAY), "--out", str(tmp_path / "o"), "--engine", "spark", "--jobs", "2"]
    )
    assert res.exit_code == 2
    assert "--jobs only applies" in res.stderr


# A conversation line sent twice: every message of the copy is a duplicate, except its
# message without text, which is a reject of its own; the reader lists a line's own
# rejects before its duplicates.
_CONVERSATION_LINE = {
    "conversation_id": "d2",
    "messages": [
        {"role": "customer", "timestamp": "2026-11-24T10:01:00+08:00", "text": "发货了吗"},
        {"role": "customer", "timestamp": "2026-11-24T10:01:05+08:00", "text": "急"},
        {"role": "agent", "sender": "店:小王", "timestamp": "2026-11-24T10:02:00+08:00", "text": ""},
        {"role": "agent", "sender": "店:小王", "timestamp": "2026-11-24T10:01:30+08:00", "text": "发了亲"},
    ],
}
_DUPLICATE_LINES = [
    {"conversation_id": "d1", "role": "customer", "timestamp": "2026-11-24T10:00:00+08:00", "text": "在吗"},
    _CONVERSATION_LINE,
    _CONVERSATION_LINE,
    "not an object",
]


def _day_file(tmp_path: Path, n_messages: int = 1500) -> Path:
    path = tmp_path / "day-2026-11-24.jsonl"
    write_jsonl_messages(iter_conversations(date(2026, 11, 24), 5, n_messages=n_messages), path)
    return path


def _inputs(tmp_path: Path) -> dict[str, list[Path]]:
    dup = tmp_path / "dup.jsonl"
    dup.write_text("\ufeff" + "\n".join(json.dumps(x, ensure_ascii=False) for x in _DUPLICATE_LINES) + "\r\n")
    day = _day_file(tmp_path)
    # The day cut in two files in the middle of a conversation, which continues in the second.
    lines = day.read_text(encoding="utf-8").splitlines(keepends=True)
    halves = [tmp_path / "part1.jsonl", tmp_path / "part2.jsonl"]
    halves[0].write_text("".join(lines[:700]), encoding="utf-8")
    halves[1].write_text("".join(lines[700:]), encoding="utf-8")
    assert json.loads(lines[699])["conversation_id"] == json.loads(lines[700])["conversation_id"]
    cases = {p.name: [p] for p in sorted(READER_FILES.iterdir())}
    cases.update(
        {
            "demo-conversations": [DEMO_DAY / "2026-11-24_conversations.jsonl"],
            "demo-csv-xlsx": [
                DEMO_DAY / "chat_export_2026-11-24.csv",
                DEMO_DAY / "chat_export_2026-11-24.xlsx",
            ],
            "duplicates-bom-crlf": [dup],
            "generated-day": [day],
            "generated-day-in-two-files": halves,
            "readers-folder": [READER_FILES],
        }
    )
    return cases


def test_streamed_reading_equals_whole_reading(tmp_path: Path) -> None:
    for name, paths in _inputs(tmp_path).items():
        whole = read_inputs(paths, ReadOptions())
        streamed = StreamRead()
        conversations = list(stream_inputs(paths, ReadOptions(), streamed))
        assert conversations == whole.conversations, name
        assert streamed.conversations == len(whole.conversations), name
        got = streamed.result
        assert (got.files, got.rejects, got.warnings) == (whole.files, whole.rejects, whole.warnings), name


def test_duplicates_and_rejects_of_one_line_keep_the_readers_order(tmp_path: Path) -> None:
    paths = _inputs(tmp_path)["duplicates-bom-crlf"]
    streamed = StreamRead()
    list(stream_inputs(paths, ReadOptions(), streamed))
    reasons = [(r.line, r.reason.split(";")[0]) for r in streamed.result.rejects]
    assert reasons == [
        (2, "empty text"),
        (3, "empty text"),
        *[(3, "exact duplicate of line 2")] * 3,
        (4, "a JSON str, not an object"),
    ]
    assert streamed.result.files[0].encoding == "utf-8-sig"


def test_a_conversation_split_by_another_stops_the_stream() -> None:
    # The demo's message file is ordered by time across conversations, as platform dumps are.
    paths = [DEMO_DAY / "2026-11-24_messages.jsonl"]
    with pytest.raises(NotContiguousError):
        list(stream_inputs(paths, ReadOptions(), StreamRead()))


def _without_seconds(out: Path) -> dict:
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    run.pop("seconds")
    if "store_state" in run:  # runs saved to two stores name each its own
        run["store_state"].pop("store")
    return run


@pytest.mark.slow
@pytest.mark.parametrize("jobs", [1, 2], ids=["jobs1", "jobs2"])
def test_lean_run_writes_what_a_run_that_keeps_results_writes(tmp_path: Path, jobs: int) -> None:
    day = _day_file(tmp_path)
    settings = RuleSettings()
    local = build_inspector(settings)
    whole = run_inspection([day], tmp_path / "whole", LocalExecutor(local))
    executor = PoolExecutor(settings, jobs, batch_size=16) if jobs > 1 else LocalExecutor(local, 16)
    with executor:
        lean = run_inspection([day], tmp_path / "lean", executor, keep_results=False)
    assert whole.findings and lean.finding_count == whole.finding_count == len(whole.findings)
    assert lean.conversations == whole.conversations == len(whole.results)
    assert lean.results == []  # nothing kept: what scoring needs was counted as results came
    assert lean.deductions == whole.deductions and lean.agents == whole.agents
    for name in BYTE_FILES:
        assert (tmp_path / "lean" / name).read_bytes() == (tmp_path / "whole" / name).read_bytes(), name
    assert _without_seconds(tmp_path / "lean") == _without_seconds(tmp_path / "whole")
    assert _xlsx_cells(tmp_path / "lean" / "agents.xlsx") == _xlsx_cells(tmp_path / "whole" / "agents.xlsx")


def test_workers_fork_from_a_server_that_preloaded_qc(tmp_path: Path) -> None:
    # A fresh process (the forkserver is one per process): its workers find qc.batch.preload
    # and rjieba already imported before they run anything, and still give the same findings.
    import subprocess
    import sys

    (tmp_path / "probe.py").write_text(
        "import sys\n\ndef loaded(names):\n    return [n in sys.modules for n in names]\n", encoding="utf-8"
    )
    code = (
        "import json, probe\n"
        "from qc.rules import RuleSettings\n"
        "from qc.run.pool import PoolExecutor\n"
        "names = ['qc.batch.preload', 'rjieba', 'qc.batch.chunks']\n"
        "for preload in ((), ('qc.batch.preload',)):\n"
        "    with PoolExecutor(RuleSettings(rules=()), 1, preload=preload) as pool:\n"
        "        print(json.dumps(pool._started().apply(probe.loaded, (names,))))\n"
    )
    env = {**__import__("os").environ, "PYTHONPATH": str(tmp_path)}
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    # The first pool started the process's forkserver without a preload; a later pool's preload
    # cannot change that server, so the same worker state shows twice.
    assert [json.loads(line) for line in run.stdout.splitlines()] == [[False, False, False]] * 2
    code = code.replace("((), ('qc.batch.preload',))", "(('qc.batch.preload',),)")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert [json.loads(line) for line in run.stdout.splitlines()] == [[True, True, True]]


def _store_rows(db: Path) -> dict[str, list[tuple]]:
    """What a store holds of the run's conversations, messages, findings and scores (ids and times aside)."""
    import sqlite3

    with sqlite3.connect(db) as con:
        return {
            table: sorted(con.execute(f"SELECT {columns} FROM {table}").fetchall())
            for table, columns in (
                (
                    "conversations",
                    "shop, date, conversation_id, agents, buyer_messages, agent_messages, turns,"
                    " turns_replied, avg_response_s, first_response_s, answer_ratio, source",
                ),
                (
                    "messages",
                    "shop, conversation_id, idx, date, role, text, sender, sent_at, auto_reply, agent_id",
                ),
                (
                    "findings",
                    "shop, date, finding_id, conversation_id, message_index, agent, kind, rule, entry,"
                    ' score, suppressed, needs_review, start, "end", text, evidence',
                ),
            )
        }


@pytest.mark.slow
def test_a_run_saved_to_a_store_reads_lines_on_the_workers_and_saves_the_same(tmp_path: Path) -> None:
    # With --db and --jobs the workers read the JSON Lines and send back packed records; the
    # files written and the rows saved are those of one process reading the stream itself.
    day = _day_file(tmp_path)
    settings = RuleSettings()
    with LocalExecutor(build_inspector(settings), 16) as local:
        one = run_inspection(
            [day], tmp_path / "one", local, keep_results=False, store=str(tmp_path / "one.db")
        )
    with PoolExecutor(settings, 2, batch_size=16) as pool:
        two = run_inspection(
            [day], tmp_path / "two", pool, keep_results=False, store=str(tmp_path / "two.db")
        )
    assert one.finding_count == two.finding_count > 0 and one.evidence_count == two.evidence_count > 0
    assert one.conversations == two.conversations > 0
    for name in COMPARABLE_OUTPUTS:
        assert (tmp_path / "two" / name).read_bytes() == (tmp_path / "one" / name).read_bytes(), name
    assert _without_seconds(tmp_path / "two") == _without_seconds(tmp_path / "one")
    rows = _store_rows(tmp_path / "two.db")
    assert rows == _store_rows(tmp_path / "one.db") and all(rows.values())


class _Unanswered:
    """A task result that never comes: the task went down with its worker."""

    def get(self, timeout: float | None = None) -> None:
        import multiprocessing

        raise multiprocessing.TimeoutError


def test_a_worker_killed_mid_run_fails_the_run_instead_of_hanging() -> None:
    """A worker killed with work in hand (the out-of-memory killer) left the parent waiting for
    ever for its answer, and Pool.terminate could wait for ever on a lock the dead worker held."""
    import os
    import signal
    import time

    from qc.errors import WorkerLost

    pool = PoolExecutor(RuleSettings(rules=()), jobs=2)
    try:
        pool.describe()  # started
        victim = pool._workers[0]
        os.kill(victim.pid, signal.SIGKILL)
        victim.join(10)
        # The pool's own thread may read the worker's status from the forkserver first: then the
        # Process object here finds the status pipe at its end and says 255 (multiprocessing reads
        # it unlocked from two threads). Either way the run ends with WorkerLost instead of hanging.
        how = r"\((killed by SIGKILL|exit code 255)\)"
        with pytest.raises(WorkerLost, match=rf"worker process {victim.pid} ended {how}"):
            pool._answer(_Unanswered())
    finally:
        started = time.monotonic()
        pool.close()
        assert time.monotonic() - started < 10


def test_a_signal_reaches_the_parent_while_it_waits_for_a_worker() -> None:
    """A supervisor's SIGTERM may land on any thread of the parent; the main thread, waiting on a
    worker's answer without a timeout, never woke to run its handler (qc inspect hung for good)."""
    import signal
    import threading
    import time

    class Stopped(Exception):
        pass

    def handler(signum: int, frame: object) -> None:
        raise Stopped(signum)

    def sender() -> None:
        time.sleep(0.3)
        signal.pthread_kill(threading.get_ident(), signal.SIGTERM)  # delivered to this thread

    previous = signal.signal(signal.SIGTERM, handler)
    pool = PoolExecutor(RuleSettings(rules=()), jobs=2)
    try:
        pool.describe()
        slow = pool._started().apply_async(time.sleep, (20,))
        threading.Thread(target=sender).start()
        started = time.monotonic()
        with pytest.raises(Stopped):
            pool._answer(slow)
        assert time.monotonic() - started < 5
    finally:
        signal.signal(signal.SIGTERM, previous)
        pool.close()


def _refuse() -> None:
    # What unpickling a compiled class's answer into its Python twin said (audit 150 H1).
    raise AttributeError("'MetricPart' object has no attribute '__dict__'")


class _Unreadable:
    def __reduce__(self) -> tuple[object, tuple[()]]:
        return (_refuse, ())


def _answer_unreadable() -> _Unreadable:
    return _Unreadable()


def test_an_answer_the_parent_cannot_read_back_fails_the_run_instead_of_hanging() -> None:
    """The pool's thread reading the workers' answers died on one it could not unpickle, and the
    run waited for ever at full CPU with its workers alive."""
    from qc.errors import WorkerLost

    pool = PoolExecutor(RuleSettings(rules=()), jobs=1)
    try:
        pool.describe()  # started
        answer = pool._started().apply_async(_answer_unreadable)
        with pytest.raises(WorkerLost, match="could not be read back"):
            pool._answer(answer)
    finally:
        pool.close()


def _big_unreadable_answer(i: int) -> tuple[int, bytes, _Unreadable]:
    return (i, bytes(200_000), _Unreadable())


def test_answers_no_one_reads_back_any_more_end_the_run_and_the_pool_closes() -> None:
    """With the reading thread dead, the workers' answers filled the pipe: a worker held the
    queue's lock for ever and closing the pool hung (audit 151 H2)."""
    import time

    from qc.errors import WorkerLost

    pool = PoolExecutor(RuleSettings(rules=()), jobs=2)
    try:
        pool.describe()
        answers = [pool._started().apply_async(_big_unreadable_answer, (i,)) for i in range(40)]
        with pytest.raises(WorkerLost, match="could not be read back"):
            pool._answer(answers[0])
    finally:
        started = time.monotonic()
        pool.close()
        assert time.monotonic() - started < 15
