"""Workers that read their own lines read exactly what the stream reads.

With ``--jobs`` and JSON Lines input, the main process only cuts the lines into chunks of
whole conversations (:class:`~qc.readers.line_chunks.LineSplit`) and the workers read them
(:func:`~qc.readers.line_chunks.read_chunk`). Whatever the chunk size, the conversations,
rejects, counts and warnings must be the stream's, and a lean run on the workers must
write what a whole-batch run writes, messy input included.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_jobs import BYTE_FILES, _inputs, _without_seconds

from qc.batch.chunks import ChunkOutputTask
from qc.batch.run import run_inspection
from qc.readers import ReadOptions, read_inputs
from qc.readers.jsonl import parse_line
from qc.readers.line_chunks import LineSplit, read_chunk
from qc.readers.stream import GarbledLinesError, NotContiguousError, StreamRead, stream_inputs
from qc.rules import RuleSettings
from qc.run.executors import LocalExecutor
from qc.run.inspector import build_inspector
from qc.run.pool import PoolExecutor

_AT = "2026-11-24T10:{:02d}:00+08:00"


def _msg(cid: object, role: str, minute: int, text: str, **more: object) -> dict:
    return {"conversation_id": cid, "role": role, "timestamp": _AT.format(minute), "text": text, **more}


def _messy_lines() -> list[str]:
    """Every kind of line the split must keep whole and in place."""
    big = 123456789012345678901234567890  # beyond 64 bits: orjson would round it
    rows: list[object] = [
        "{not json",  # before any conversation: goes with the first one and is rejected there
        _msg("a", "customer", 1, "在吗"),
        "",
        _msg("a", "agent", 3, "在的亲", sender="店:小王"),
        _msg("a", "agent", 2, "您好", sender="店:小王"),  # out of time order: a warning
        {"role": "customer", "text": "no id"},  # no conversation id: rejected, stays with a
        _msg("a", "agent", 3, "在的亲", sender="店:小王"),  # exact duplicate
        _msg(7, "customer", 4, "数字的会话号"),
        _msg("7", "agent", 5, "字符串的同一个会话", sender="店:小王"),  # the same conversation as 7
        _msg(7.0, "agent", 5, "浮点的同一个会话", sender="店:小王"),  # 7.0 reads as "7"
        _msg(big, "customer", 6, "很长的数字会话号"),
        _msg(big, "agent", 7, "好的", sender="店:小王", score=1.5),  # a float in the line
        '{"conversation_id": "n", "role": "customer", "text": "NaN 也行", "x": NaN}',
        {"conversation_id": "t", "role": "customer", "timestamp": "10:05", "text": "只有时间"},
        {"conversation_id": "t", "role": "agent", "sender": "店:小李", "timestamp": "10:06", "text": "嗯"},
        # Time-only stamps in two conversations (two chunks): still one warning for the file.
        {"conversation_id": "t2", "role": "customer", "timestamp": "10:07", "text": "也只有时间"},
        {
            "conversation_id": "c1",
            "messages": [
                {"role": "customer", "timestamp": _AT.format(8), "text": "发货了吗"},
                {"role": "agent", "sender": "店:小王", "timestamp": _AT.format(9), "text": "发了"},
                {"conversation_id": "c2", "role": "customer", "timestamp": _AT.format(10), "text": "另一个"},
            ],
        },
        _msg("c2", "agent", 11, "来了", sender="店:小王"),
        ["a list"],
        _msg("z", "customer", 12, "   "),  # empty text: rejected
        _msg("z", "customer", 13, "最后一个"),
        # only the buyer's line names the shop: the reply's account 店…:满… is 202 wide, rejected as
        # the conversation is built (audit 171 M3)
        _msg("w", "customer", 14, "还在吗", shop="店" * 189),
        _msg("w", "agent", 15, "在的", sender="满" * 12),
    ]
    return [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows]


def _split_read(paths: list[Path], size: int, options: ReadOptions | None = None) -> tuple[list, StreamRead]:
    split = LineSplit.of(paths, options or ReadOptions())
    assert split is not None
    conversations = []
    for chunk in split.chunks(size):
        got, read = read_chunk(chunk, split.names, split.resolved)
        split.add(read)
        conversations.extend(got)
    out = StreamRead()
    split.finish(out.result)
    out.conversations = split.conversations
    return conversations, out


def _stream_read(paths: list[Path], options: ReadOptions | None = None) -> tuple[list, StreamRead]:
    out = StreamRead()
    return list(stream_inputs(paths, options or ReadOptions(), out)), out


def _assert_same_reading(paths: list[Path], size: int, name: str, options: ReadOptions | None = None) -> None:
    want, wanted = _stream_read(paths, options)
    got, read = _split_read(paths, size, options)
    assert got == want, name
    assert read.conversations == wanted.conversations == len(want), name
    a, b = read.result, wanted.result
    assert (a.files, a.rejects, a.warnings) == (b.files, b.rejects, b.warnings), name


@pytest.mark.parametrize("size", [1, 2, 5, 1000])
@pytest.mark.parametrize("end", ["\n", "\r\n", "none"])
def test_split_reading_equals_stream_reading_of_messy_lines(tmp_path: Path, size: int, end: str) -> None:
    day = tmp_path / "day.jsonl"
    newline = "\n" if end == "none" else end
    day.write_bytes(("\ufeff" + newline.join(_messy_lines()) + ("" if end == "none" else end)).encode())
    _assert_same_reading([day], size, "messy")
    _, read = _stream_read([day])
    reasons = " | ".join(r.reason for r in read.result.rejects)
    # The file does hold what the test is about.
    assert "not valid JSON" in reasons and "exact duplicate" in reasons and "empty text" in reasons
    assert any("out of time order" in w for w in read.result.warnings)
    assert any("time-only timestamps" in w for w in read.result.warnings)


@pytest.mark.parametrize("size", [1, 3])
def test_split_reading_follows_the_column_map(tmp_path: Path, size: int) -> None:
    # The export names its id "会话" and its text "消息": --column maps them, for the split too.
    renamed = [
        line.replace('"conversation_id"', '"会话"').replace('"text"', '"消息"') for line in _messy_lines()
    ]
    day = tmp_path / "day.jsonl"
    day.write_text("\n".join(renamed) + "\n", encoding="utf-8")
    options = ReadOptions(column_map={"conversation_id": "会话", "text": "消息"})
    _assert_same_reading([day], size, "renamed", options)
    assert len(_split_read([day], size, options)[0]) >= 8  # the ids were found, not all rejected


@pytest.mark.parametrize("size", [1, 3, 256])
def test_split_reading_equals_stream_reading_of_the_reader_cases(tmp_path: Path, size: int) -> None:
    tried = 0
    for name, paths in _inputs(tmp_path).items():
        if LineSplit.of(paths, ReadOptions()) is None:
            continue  # CSV, XLSX, text exports, other encodings: read as before
        try:
            want = _stream_read(paths)
        except NotContiguousError:
            with pytest.raises(NotContiguousError):
                _split_read(paths, size)
            continue
        tried += 1
        got = _split_read(paths, size)
        assert got[0] == want[0], name
        assert (got[1].result.files, got[1].result.rejects, got[1].result.warnings) == (
            want[1].result.files,
            want[1].result.rejects,
            want[1].result.warnings,
        ), name
    assert tried >= 4  # the generated day, in one file and in two, the duplicates, the demo lines


def test_only_json_lines_the_stream_reads_line_by_line_are_split(tmp_path: Path) -> None:
    csv = tmp_path / "a.csv"
    csv.write_text("conversation_id,role,text\na,customer,在吗\n", encoding="utf-8")
    lines = tmp_path / "a.jsonl"
    lines.write_text(json.dumps(_msg("a", "customer", 1, "在吗"), ensure_ascii=False) + "\n", "utf-8")
    assert LineSplit.of([lines], ReadOptions()) is not None
    assert LineSplit.of([lines, csv], ReadOptions()) is None
    assert LineSplit.of([lines], ReadOptions(encoding="gb18030")) is None


def test_a_conversation_that_comes_back_stops_the_split(tmp_path: Path) -> None:
    day = tmp_path / "day.jsonl"
    rows = [_msg("a", "customer", 1, "在吗"), _msg("b", "customer", 2, "你好"), _msg("a", "agent", 3, "在")]
    day.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    split = LineSplit.of([day], ReadOptions())
    assert split is not None
    with pytest.raises(NotContiguousError):
        list(split.chunks(100))


@pytest.mark.parametrize("back", [0, 37, 98])
def test_a_conversation_that_comes_back_long_after_is_still_caught(
    tmp_path: Path, monkeypatch, back: int
) -> None:
    # Finished ids are folded into a sorted array every few conversations: one from far back
    # must stop the split and the stream all the same, and a contiguous file must not.
    from qc.readers import closed_ids

    monkeypatch.setattr(closed_ids, "_RECENT", 3)
    rows = [
        _msg(f"c{n}", role, k, "在吗") for n in range(100) for k, role in enumerate(["customer", "agent"])
    ]
    good = tmp_path / "good.jsonl"
    good.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    assert len(_split_read([good], 7)[0]) == 100 == len(_stream_read([good])[0])
    day = tmp_path / "day.jsonl"
    rows.append(_msg(f"c{back}", "agent", 5, "还在"))
    day.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    with pytest.raises(NotContiguousError):
        _split_read([day], 7)
    with pytest.raises(NotContiguousError):
        _stream_read([day])


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=6), _JSON, max_size=6))
def test_parse_line_reads_objects_as_the_standard_library(obj: dict) -> None:
    line = json.dumps(obj, ensure_ascii=False)
    got, want = parse_line(line), json.loads(line)
    assert got == want and list(got) == list(want)
    assert [type(v) for v in got.values()] == [type(v) for v in want.values()]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet='{}[]":,0123456789.eE-+ ntrufalsNIiy\\u', max_size=24))
def test_parse_line_fails_and_succeeds_as_the_standard_library(line: str) -> None:
    try:
        want = ("ok", json.loads(line))
    except (ValueError, RecursionError) as exc:
        want = ("error", type(exc), str(exc))
    try:
        got = ("ok", parse_line(line))
    except (ValueError, RecursionError) as exc:
        got = ("error", type(exc), str(exc))
    assert repr(got) == repr(want)  # repr: NaN compares unequal to itself


@pytest.mark.slow
def test_workers_reading_messy_lines_write_what_a_whole_read_writes(tmp_path: Path) -> None:
    day = tmp_path / "day.jsonl"
    day.write_text("\n".join(_messy_lines() * 3) + "\n", encoding="utf-8")  # repeated: not contiguous
    fine = tmp_path / "fine.jsonl"
    fine.write_text("\n".join(_messy_lines()) + "\n", encoding="utf-8")
    settings_ = RuleSettings()
    local = build_inspector(settings_)
    for name, path in (("contiguous", fine), ("not-contiguous", day)):
        whole = run_inspection([path], tmp_path / f"{name}-whole", LocalExecutor(local))
        with PoolExecutor(settings_, 2, batch_size=2) as pool:
            lean = run_inspection([path], tmp_path / f"{name}-lean", pool, keep_results=False)
        assert lean.conversations == whole.conversations and lean.finding_count == len(whole.findings)
        for file in BYTE_FILES:
            got = (tmp_path / f"{name}-lean" / file).read_bytes()
            assert got == (tmp_path / f"{name}-whole" / file).read_bytes(), (name, file)
        assert _without_seconds(tmp_path / f"{name}-lean") == _without_seconds(tmp_path / f"{name}-whole")


def _garbled_day(tmp_path: Path) -> Path:
    """A contiguous day whose opening is clean UTF-8 and whose 1,500th line is not."""
    rows = [
        json.dumps(_msg(f"c{n // 4}", ("customer", "agent")[n % 2], n % 60, f"第{n}句话", sender="店:小王"))
        for n in range(3000)
    ]
    data = ("\n".join(rows) + "\n").encode("utf-8")
    at = data.index(rb"\u7b2c1500")  # the text of line 1,501 (ASCII escapes), well past the sample
    day = tmp_path / "garbled.jsonl"
    day.write_bytes(data[:at] + b"\xff\xfe" + data[at:])
    assert len(data) > 65536 * 2  # beyond the opening the split checks before it starts
    return day


def test_a_garbled_line_past_the_opening_stops_the_split(tmp_path: Path) -> None:
    # The split checks only a file's opening; the worker that decodes the bad line stops it,
    # and the caller reads whole (the ordinary reader reports the garbled line).
    day = _garbled_day(tmp_path)
    assert LineSplit.of([day], ReadOptions()) is not None
    with pytest.raises(GarbledLinesError) as caught:
        _split_read([day], 50)
    assert "garbled.jsonl: lines from" in str(caught.value) and "第" not in str(caught.value)


@pytest.mark.slow
def test_workers_given_a_garbled_line_write_what_a_whole_read_writes(tmp_path: Path) -> None:
    day = _garbled_day(tmp_path)
    settings_ = RuleSettings()
    whole = run_inspection([day], tmp_path / "whole", LocalExecutor(build_inspector(settings_)))
    assert "UTF-8" in (whole.read.files[0].error or "")  # the ordinary reader says why it refused the file
    with PoolExecutor(settings_, 2, batch_size=20) as pool:
        lean = run_inspection([day], tmp_path / "lean", pool, keep_results=False)
    assert lean.conversations == whole.conversations
    for file in BYTE_FILES:
        assert (tmp_path / "lean" / file).read_bytes() == (tmp_path / "whole" / file).read_bytes(), file
    assert _without_seconds(tmp_path / "lean") == _without_seconds(tmp_path / "whole")


@pytest.mark.parametrize(("block", "window"), [(7, 1), (64, 2), (300, 4096), (1 << 22, 1)])
@pytest.mark.parametrize("size", [1, 3, 1000])
def test_the_split_reads_the_same_whatever_its_block_and_window(
    tmp_path: Path, monkeypatch, block: int, window: int, size: int
) -> None:
    # The main process reads blocks of whole lines and finds runs of a conversation's plain
    # lines with a few scans per block: blocks that end inside a run, runs longer than the
    # window, and lines that break a run (messy, escaped, nested, looking alike) change nothing.
    from qc.readers import line_chunks

    monkeypatch.setattr(line_chunks, "_BLOCK", block)
    monkeypatch.setattr(line_chunks, "_WINDOW", window)

    def line(cid: str, n: int, text: str = "好的") -> str:
        row = _msg(cid, ("customer", "agent")[n % 2], n % 60, text * (n % 7 + 1))
        return json.dumps(row, ensure_ascii=False)

    escaped = line("a", 9, 'say "hi"')  # a backslash: the run stops, the line is parsed
    runs = [line(f"r{n // 5}", n) for n in range(40)]
    nested = '{"conversation_id": "r3", "messages": [{"role": "agent", "text": "嵌"}]}'
    runs[17:17] = ["", "{not json", nested]
    owned = [_LOOKALIKES[k] + "\n" + line(k, 1) + "\n" + line(k, 2) for k in ("b", "c", "d")]
    for end, name in (("\n", "lf"), ("\r\n", "crlf"), ("none", "last-line-open")):
        newline = "\n" if end == "none" else end
        lines = [*_A_LINES, escaped, _A_LINES[1], *"\n".join(owned).split("\n"), *runs, line("z", 3)]
        day = tmp_path / f"{name}.jsonl"
        day.write_bytes(("\ufeff" + newline.join(lines) + ("" if end == "none" else end)).encode())
        _assert_same_reading([day], size, f"{name} block={block} window={window}")


def test_chunks_grow_to_their_limit_and_read_the_same(tmp_path: Path, monkeypatch) -> None:
    # Chunks double every few chunks up to grow_to (the pool's long-input chunks); the reading
    # is the same as with chunks of one size.
    from qc.readers import line_chunks

    monkeypatch.setattr(line_chunks, "_GROW_EVERY", 2)
    rows = [_msg(f"c{n}", role, k, "在吗") for n in range(60) for k, role in enumerate(["customer", "agent"])]
    day = tmp_path / "day.jsonl"
    day.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    split = LineSplit.of([day], ReadOptions())
    assert split is not None
    sizes = [len(read_chunk(c, split.names, split.resolved)[0]) for c in split.chunks(3, grow_to=10)]
    assert sizes == [3, 3, 6, 6, 10, 10, 10, 10, 2]
    assert [len(read_chunk(c, split.names, split.resolved)[0]) for c in split.chunks(4)] == [4] * 15
    grown = LineSplit.of([day], ReadOptions())
    assert grown is not None
    got = [
        conv for c in grown.chunks(3, grow_to=10) for conv in read_chunk(c, grown.names, grown.resolved)[0]
    ]
    assert got == _stream_read([day])[0]


def test_workers_reading_lines_that_cannot_load_their_model_fail_the_run(tmp_path: Path) -> None:
    from qc.errors import ArtifactError
    from qc.scoring.card import load_scorecard

    day = tmp_path / "day.jsonl"
    day.write_text("\n".join(_messy_lines()) + "\n", encoding="utf-8")
    split = LineSplit.of([day], ReadOptions())
    assert split is not None
    with PoolExecutor(RuleSettings(model=tmp_path / "no-model"), jobs=2, batch_size=2) as pool:
        with pytest.raises(ArtifactError, match="no-model"):
            list(pool.map_lines(split, ChunkOutputTask(load_scorecard())))


def test_the_progress_of_a_split_run_counts_conversations(tmp_path: Path) -> None:
    day = tmp_path / "day.jsonl"
    # Last, a chunk of its own with no valid record: it counts no conversation.
    empty = [json.dumps(_msg(f"e{i}", "customer", 1, " ")) for i in range(3)]
    day.write_text("\n".join(_messy_lines() + empty) + "\n", encoding="utf-8")
    seen: list = []

    def progress(items, total):
        for item in items:
            seen.append(item)
            yield item

    with PoolExecutor(RuleSettings(rules=()), 1, batch_size=3) as pool:
        report = run_inspection([day], tmp_path / "out", pool, progress=progress, keep_results=False)
    assert report.conversations > 3  # more than one chunk
    assert len(seen) == report.conversations


_A_LINES = [
    json.dumps(
        _msg("a", "customer" if k % 2 else "agent", k, f"第{k}句", sender="店:小王"), ensure_ascii=False
    )
    for k in range(4)
]
# Lines that open like the plain lines of conversation a, and the conversation each belongs to.
_LOOKALIKES = {
    # The id key twice: the parser takes the last value.
    "b": '{"conversation_id": "a", "role": "customer", "text": "重复的键", "conversation_id": "b"}',
    # The same key spelled with an escape.
    "c": '{"conversation_id": "a", "role": "customer", "text": "转义", "conversation\\u005fid": "c"}',
    # A conversation line whose message names its own conversation.
    "d": '{"conversation_id": "a", "messages": [{"conversation_id": "d", "role": "customer", "text": "嵌"}]}',
    # Another column naming the id after the first: the first one counts.
    "a": '{"conversation_id": "a", "会话ID": "e", "role": "customer", "text": "第二个列名"}',
}


@pytest.mark.parametrize("size", [1, 1000])
@pytest.mark.parametrize("owner", sorted(_LOOKALIKES))
def test_lines_matched_on_their_opening_bytes_are_read_as_the_stream_reads_them(
    tmp_path: Path, size: int, owner: str
) -> None:
    # The main process matches a plain line of the current conversation on its opening bytes
    # instead of parsing it; a line that only looks like one must be parsed and cut as the
    # stream would: its conversation, continued on the next lines, stays whole.
    tail = [
        json.dumps(_msg(owner, "agent", 10 + k, f"接着{k}", sender="店:小王"), ensure_ascii=False)
        for k in range(3)
    ]
    compact = '{"conversation_id":"ab","role":"agent","sender":"店:小王","text":"紧凑写法"}'
    prefix = json.dumps(_msg("ab", "customer", 20, "前缀相同"))
    lines = [*_A_LINES, _LOOKALIKES[owner], *tail, prefix, compact]
    day = tmp_path / "day.jsonl"
    day.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _assert_same_reading([day], size, owner)
    conversations = _stream_read([day])[0]
    assert [c.id for c in conversations] == (["a", "ab"] if owner == "a" else ["a", owner, "ab"])
    assert [len(c.messages) for c in conversations] == ([8, 2] if owner == "a" else [4, 4, 2])
    # a coming back after them stops the split, as it stops the stream.
    day.write_text("\n".join([*lines, _A_LINES[0]]) + "\n", encoding="utf-8")
    with pytest.raises(NotContiguousError):
        _split_read([day], size)
    with pytest.raises(NotContiguousError):
        _stream_read([day])


def test_the_main_process_parses_only_the_lines_that_open_a_conversation(tmp_path: Path, monkeypatch) -> None:
    from qc.readers import line_chunks

    parsed = []
    real = line_chunks.orjson.loads

    class Counting:
        JSONDecodeError = line_chunks.orjson.JSONDecodeError
        dumps = staticmethod(line_chunks.orjson.dumps)

        @staticmethod
        def loads(raw: bytes) -> object:
            parsed.append(raw)
            return real(raw)

    roles = ["customer", "agent"] * 5
    rows = [_msg(f"c{n}", role, k, "在吗") for n in range(50) for k, role in enumerate(roles)]
    day = tmp_path / "day.jsonl"
    day.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    monkeypatch.setattr(line_chunks, "orjson", Counting)
    split = LineSplit.of([day], ReadOptions())
    assert split is not None
    assert sum(len(read_chunk(c, split.names, split.resolved)[0]) for c in split.chunks(7)) == 50
    # One parsed line per conversation (its first, which gives the opening the others share), not ten.
    main_side = [raw for raw in parsed if raw.count(b"\n") <= 1]
    assert len(rows) == 500 and len(main_side) == 50


def _mac_joined_day(tmp_path: Path) -> Path:
    """A Windows export (CRLF) of more than the opening the split checks, a Mac one (CR alone) below it."""
    rows = [
        json.dumps(_msg(f"c{n // 4}", ("customer", "agent")[n % 2], n % 60, f"第{n}句话", sender="店:小王"))
        for n in range(3000)
    ]
    # The Mac lines are more: the whole read splits on carriage returns, a CRLF's too.
    data = ("\r\n".join(rows[:1200]) + "\r\n" + "\r".join(rows[1200:]) + "\r").encode("utf-8")
    assert data.index(b"\r{") > 65536 * 2
    day = tmp_path / "joined.jsonl"
    day.write_bytes(data)
    return day


def test_a_mac_export_joined_below_past_the_opening_is_read_whole_by_every_path(tmp_path: Path) -> None:
    """The whole read split the Mac half at its carriage returns; the stream and the workers split
    only at line feeds, and lost its 375 conversations in one reject (audit 129 H1)."""
    from qc.readers.files import resolve_options
    from qc.readers.stream import LineEndsError, _streamable

    day = _mac_joined_day(tmp_path)
    whole = read_inputs([day], ReadOptions())
    assert len(whole.conversations) == 750 and not whole.rejects
    streamed, read = _stream_read([day])
    assert streamed == whole.conversations and read.result.rejects == []
    assert _streamable(day, resolve_options(ReadOptions())) is None  # left to the whole read
    assert LineSplit.of([day], ReadOptions()) is not None  # the opening is clean CRLF ...
    with pytest.raises(LineEndsError):  # ... and the worker given the Mac half stops the split
        _split_read([day], 50)


def test_a_carriage_return_inside_a_line_is_read_as_the_whole_read_reads_it(tmp_path: Path) -> None:
    """A CR alone between a record's keys is JSON's space, and the line one record, on every path:
    the line readers leave any file with such a CR to the whole read, which decides how its lines end."""
    from qc.readers.files import resolve_options
    from qc.readers.stream import _streamable

    day = tmp_path / "cr.jsonl"
    lines = [
        json.dumps(_msg("n", "customer", 1, "在吗"), ensure_ascii=False),
        '{"conversation_id": "n",\r "role": "agent", "sender": "店:小王", "text": "回车在中间",'
        f' "timestamp": "{_AT.format(2)}"}}',
    ]
    day.write_text("\n".join(lines) + "\n", encoding="utf-8")
    whole = read_inputs([day], ReadOptions())
    assert [m.text for c in whole.conversations for m in c.messages] == ["在吗", "回车在中间"]
    assert LineSplit.of([day], ReadOptions()) is None
    assert _streamable(day, resolve_options(ReadOptions())) is None
    assert _stream_read([day])[0] == whole.conversations
