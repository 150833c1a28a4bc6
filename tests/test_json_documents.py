"""A file that is one JSON document is read as the JSON Lines of its elements would be.

Forms: a top-level array of messages or of conversations (one line or pretty-printed) and one
conversation object. Each element gives the records and rejects a JSON Lines line holding it
gives, numbered by the line it starts on (read = accepted + rejected). A document that is not
valid JSON as a whole, an object that is neither a conversation nor a message, or one over
``json_document_max_bytes`` is one per-file error (exit 1, the other files still read). JSON
Lines keeps its reader, line by line. All chat lines here are written for these tests.
"""

from __future__ import annotations

import json
import tomllib
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from outputs import COMPARABLE_OUTPUTS
from typer.testing import CliRunner

from qc.cli import app
from qc.readers import ReadOptions, ReadResult, read_inputs
from qc.readers.files import resolve_options
from qc.readers.limits import DEFAULT_LIMITS, load_limits
from qc.readers.line_chunks import LineSplit
from qc.readers.pieces import HEAD_BYTES, HEAD_LINES, PieceFormat, piece_format
from qc.readers.records import garbled_reason
from qc.readers.sniff import sniff_text_format
from qc.readers.stream import StreamRead, _streamable, stream_inputs
from qc.schema import Conversation
from qc.synth.conversations import iter_conversations
from qc.synth.exports import write_jsonl_messages

runner = (
    CliRunner(mix_stderr=False) if "mix_stderr" in CliRunner.__init__.__code__.co_varnames else CliRunner()
)
DAY = "2026-11-24"


def _msg(cid: str, role: str, t: str, text: str, sender: str | None = None) -> dict[str, Any]:
    row: dict[str, Any] = {"conversation_id": cid, "role": role, "timestamp": f"{DAY} {t}", "text": text}
    if sender:
        row["sender"] = sender
    return row


MESSAGES = [
    _msg("d1", "买家", "10:00:01", "请问这件外套有黑色的吗"),
    _msg("d1", "客服", "10:00:09", "亲，黑色有货的哦", "柚子小店:阿青"),
    _msg("d1", "买家", "10:00:30", "好的那我拍了"),
    _msg("d2", "customer", "11:20:00", "快递到哪里了"),
    _msg("d2", "agent", "11:20:40", "亲，已经到您所在城市了，明天送达", "柚子小店:小航"),
]


def _conversations_of(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The messages grouped as conversation objects (the conversation-per-line shape)."""
    out: list[dict[str, Any]] = []
    for m in messages:
        if not out or out[-1]["conversation_id"] != m["conversation_id"]:
            out.append({"conversation_id": m["conversation_id"], "messages": []})
        out[-1]["messages"].append({k: v for k, v in m.items() if k != "conversation_id"})
    return out


def _jsonl(path: Path, values: list[Any]) -> Path:
    path.write_text("".join(json.dumps(v, ensure_ascii=False) + "\n" for v in values), encoding="utf-8")
    return path


def _document(path: Path, value: Any, indent: int | None = None) -> Path:
    path.write_text(json.dumps(value, ensure_ascii=False, indent=indent) + "\n", encoding="utf-8")
    return path


def _read(*paths: Path, **options: Any) -> ReadResult:
    return read_inputs(list(paths), ReadOptions(**options))


def _shape(conversations: list[Conversation]) -> list[tuple[Any, ...]]:
    """What a conversation holds, without where its messages came from."""
    return [
        (c.id, [(m.role, m.text, m.sender, m.sent_at, m.auto_reply) for m in c.messages])
        for c in conversations
    ]


def _balanced(result: ReadResult) -> None:
    for f in result.files:
        assert f.read == f.accepted + f.rejected, f
    assert result.rejected == len(result.rejects)
    assert result.accepted == sum(len(c.messages) for c in result.conversations)


def _inspect(tmp_path: Path, name: str, *args: str) -> tuple[Any, Path]:
    out = tmp_path / name
    res = runner.invoke(app, ["inspect", *args, "--out", str(out), "-q"])
    return res, out


def _run(out: Path) -> dict[str, Any]:
    return json.loads((out / "run.json").read_text(encoding="utf-8"))


# --- the forms read ---------------------------------------------------------------------------


@pytest.mark.parametrize("indent", [None, 2], ids=["one-line", "pretty"])
@pytest.mark.parametrize("shape", ["messages", "conversations"])
def test_an_array_reads_as_the_json_lines_of_its_elements(
    tmp_path: Path, shape: str, indent: int | None
) -> None:
    values = MESSAGES if shape == "messages" else _conversations_of(MESSAGES)
    lines = _read(_jsonl(tmp_path / "day.jsonl", values))
    doc = _read(_document(tmp_path / "day.json", values, indent))
    _balanced(doc)
    assert doc.files[0].format == "json" and doc.files[0].error is None
    assert (doc.read, doc.accepted, doc.rejected) == (5, 5, 0)
    assert _shape(doc.conversations) == _shape(lines.conversations)
    assert [c.id for c in doc.conversations] == ["d1", "d2"]


def test_one_pretty_printed_conversation_object_is_one_conversation(tmp_path: Path) -> None:
    conversation = _conversations_of(MESSAGES[:3])[0]
    result = _read(_document(tmp_path / "one.json", conversation, indent=4))
    _balanced(result)
    assert result.files[0].format == "json"
    assert (result.read, result.accepted, result.rejected) == (3, 3, 0)
    assert _shape(result.conversations) == _shape(
        _read(_jsonl(tmp_path / "one.jsonl", [conversation])).conversations
    )


def test_one_pretty_printed_message_object_is_one_message(tmp_path: Path) -> None:
    result = _read(_document(tmp_path / "m.json", MESSAGES[0], indent=2))
    assert (result.read, result.accepted, result.rejected) == (1, 1, 0)
    assert result.conversations[0].messages[0].text == MESSAGES[0]["text"]


def test_an_empty_array_reads_nothing_and_is_no_error(tmp_path: Path) -> None:
    result = _read(_document(tmp_path / "empty.json", [], indent=2))
    assert result.files[0].format == "json" and result.files[0].error is None
    assert (result.read, result.accepted, result.rejected) == (0, 0, 0)


def test_a_txt_file_holding_a_document_and_a_forced_jsonl_format_read_it_too(tmp_path: Path) -> None:
    txt = _document(tmp_path / "day.txt", MESSAGES, indent=2)
    assert _read(txt).accepted == 5
    forced = _document(tmp_path / "forced.json", MESSAGES, indent=2)
    result = _read(forced, format="jsonl")
    assert result.files[0].format == "json" and result.accepted == 5


def test_a_utf8_document_with_a_byte_order_mark_and_crlf_lines(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    text = json.dumps(MESSAGES, ensure_ascii=False, indent=2).replace("\n", "\r\n")
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    result = _read(path)
    assert result.files[0].format == "json" and result.accepted == 5
    assert _shape(result.conversations) == _shape(
        _read(_jsonl(tmp_path / "day.jsonl", MESSAGES)).conversations
    )


# --- rejects name the element's position ------------------------------------------------------


def test_bad_elements_are_rejected_as_json_lines_lines_naming_the_line_they_start_on(tmp_path: Path) -> None:
    bad: list[Any] = [
        MESSAGES[0],
        ["不是对象"],
        {"conversation_id": "d1", "role": "买家", "timestamp": f"{DAY} 10:00:20", "text": ""},
        MESSAGES[1],
        {"role": "客服", "timestamp": f"{DAY} 10:00:25", "text": "没有会话编号的一句"},
        {"conversation_id": "d3", "messages": "不是列表"},
        MESSAGES[2],
    ]
    lines = _read(_jsonl(tmp_path / "bad.jsonl", bad))
    path = _document(tmp_path / "bad.json", bad, indent=2)
    doc = _read(path)
    _balanced(doc)
    assert (doc.read, doc.accepted, doc.rejected) == (7, 3, 4)
    # The same reasons as the JSON Lines reader gives the same elements.
    assert [r.reason for r in doc.rejects] == [r.reason for r in lines.rejects]
    assert [r.reason for r in doc.rejects] == [
        "a JSON list, not an object",
        "empty text",
        "missing conversation_id",
        "'messages' is not a list",
    ]
    # Each reject's line is where its element opens in the file.
    file_lines = path.read_text(encoding="utf-8").splitlines()
    for reject, element in zip(doc.rejects, [bad[1], bad[2], bad[4], bad[5]], strict=True):
        assert reject.file == str(path)
        opening = file_lines[reject.line - 1].strip()
        assert opening in ("[", "{")
        # The raw is the element on one line, as a JSON Lines line would hold it.
        assert "\n" not in reject.raw and json.loads(reject.raw) == element
    assert [r.line for r in doc.rejects] == sorted({r.line for r in doc.rejects})
    assert _shape(doc.conversations) == _shape(lines.conversations)


def test_elements_of_a_one_line_array_are_numbered_by_their_line(tmp_path: Path) -> None:
    path = _document(tmp_path / "one-line.json", [MESSAGES[0], 7, MESSAGES[1]])
    result = _read(path)
    assert [(r.line, r.reason) for r in result.rejects] == [(1, "a JSON int, not an object")]
    assert result.accepted == 2


def test_a_conversation_element_with_a_bad_message_rejects_that_message_only(tmp_path: Path) -> None:
    conversations = _conversations_of(MESSAGES)
    conversations[1]["messages"].insert(1, "一句不是对象的话")
    path = _document(tmp_path / "convs.json", conversations, indent=2)
    result = _read(path)
    _balanced(result)
    assert (result.read, result.accepted, result.rejected) == (6, 5, 1)
    (reject,) = result.rejects
    assert reject.reason == "message 1 is not an object"
    starts = [n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if line == "  {"]
    assert reject.line == starts[1]  # where the second conversation opens


def test_a_garbled_line_rejects_only_the_element_it_is_in(tmp_path: Path) -> None:
    text = json.dumps(MESSAGES, ensure_ascii=False, indent=2)
    data = text.encode("utf-8").replace(
        "好的那我拍了".encode(), "好的".encode() + b"\xff" + "我拍了".encode()
    )
    path = tmp_path / "garbled.json"
    path.write_bytes(data)
    result = _read(path)
    _balanced(result)
    assert (result.read, result.accepted, result.rejected) == (5, 4, 1)
    assert result.rejects[0].reason == garbled_reason("utf-8")


# --- whole-file errors ------------------------------------------------------------------------


def test_a_cut_document_is_one_error_with_line_column_and_fix_and_the_batch_goes_on(tmp_path: Path) -> None:
    whole = json.dumps(MESSAGES, ensure_ascii=False, indent=2)
    cut = tmp_path / "cut.json"
    cut.write_text(whole[: whole.index("好的那我拍了") + 2], encoding="utf-8")  # inside a string
    good = _jsonl(tmp_path / "good.jsonl", MESSAGES[3:])
    res, out = _inspect(tmp_path, "out", str(cut), str(good))
    assert res.exit_code == 1
    assert "Traceback" not in res.stderr and "Traceback" not in res.stdout
    assert str(cut) in res.stderr
    line = whole[: whole.index("好的那我拍了")].count("\n") + 1
    assert f"at line {line} column" in res.stderr
    assert "cut short" in res.stderr and "JSON Lines" in res.stderr
    assert "好的" not in res.stderr  # never chat text
    run = _run(out)
    files = {Path(f["path"]).name: f for f in run["files"]}
    assert files["cut.json"]["error"] and files["cut.json"]["read"] == 0
    assert (files["good.jsonl"]["read"], files["good.jsonl"]["accepted"]) == (2, 2)
    assert run["counts"] == {"read": 2, "accepted": 2, "rejected": 0}


def test_a_document_cut_between_elements_is_cut_short_too(tmp_path: Path) -> None:
    whole = json.dumps(MESSAGES, ensure_ascii=False, indent=2)
    cut = tmp_path / "cut.json"
    cut.write_text(whole[: whole.index("},") + 2] + "\n", encoding="utf-8")
    result = _read(cut)
    error = result.files[0].error
    assert error is not None and "cut short" in error and result.read == 0


def test_a_document_broken_in_the_middle_names_the_place_to_fix(tmp_path: Path) -> None:
    text = json.dumps(MESSAGES, ensure_ascii=False, indent=2)
    broken = text.replace("},", "}", 1)  # a missing comma between two elements
    path = tmp_path / "broken.json"
    path.write_text(broken, encoding="utf-8")
    result = _read(path)
    error = result.files[0].error
    line = broken[: broken.index("}") + 1].count("\n") + 2
    assert error is not None and f"Expecting ',' delimiter at line {line} column 3" in error
    assert "fix the document there" in error and result.read == 0


def test_pretty_printed_objects_one_after_another_are_one_clear_error(tmp_path: Path) -> None:
    conversations = _conversations_of(MESSAGES)
    path = tmp_path / "several.json"
    first = json.dumps(conversations[0], ensure_ascii=False, indent=2)
    path.write_text(
        first + "\n" + json.dumps(conversations[1], ensure_ascii=False, indent=2), encoding="utf-8"
    )
    result = _read(path)
    error = result.files[0].error
    second = first.count("\n") + 2
    assert error is not None and f"a second value starts at line {second} column 1" in error
    assert "one array" in error and result.read == 0


def test_an_object_that_is_neither_conversation_nor_message_is_one_clear_error(tmp_path: Path) -> None:
    wrapper = {"total": 5, "data": MESSAGES}
    path = _document(tmp_path / "wrapped.json", wrapper, indent=2)
    result = _read(path)
    error = result.files[0].error
    assert error is not None
    assert "neither a conversation" in error and "nor a message" in error
    assert '"data" holds a list' in error and "jq -c '.[\"data\"][]' FILE > day.jsonl" in error
    assert result.read == 0 and "外套" not in error


def test_the_same_object_on_one_line_fails_the_file_as_it_does_pretty_printed(tmp_path: Path) -> None:
    """An API dump written on one line was read as JSON Lines: one reject and exit 0, where the
    same dump pretty-printed failed the file (audit 93 #3); a whole day as one compact API reply
    is common. Its one line said "empty text" before that."""
    path = tmp_path / "wrapped.json"
    path.write_text(json.dumps({"total": 5, "data": MESSAGES}, ensure_ascii=False) + "\n", encoding="utf-8")
    result = _read(path)
    error = result.files[0].error
    assert error is not None and result.read == 0 and not result.rejects
    assert "one JSON object that is neither a conversation" in error
    assert "jq -c '.[\"data\"][]' FILE > day.jsonl" in error
    # an object of unknown keys among messages is one such reject too, the rest are read
    lines = [json.dumps(m, ensure_ascii=False) for m in MESSAGES] + ['{"page": 2, "cursor": "abc"}']
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = _read(path)
    assert [r.line for r in result.rejects] == [len(MESSAGES) + 1]
    assert "export the day as JSON Lines" in result.rejects[0].reason


def test_a_key_holding_the_list_is_named_without_the_personal_data_in_it(tmp_path: Path) -> None:
    """A dump keyed by buyer: the key is masked and cut, and the jq hint names no key."""
    keyed = {"total": 1, "收件人张女士 13912345678 地址浙江省杭州市西湖区文三路90号": MESSAGES}
    error = _read(_document(tmp_path / "keyed.json", keyed, indent=2)).files[0].error
    assert (
        error is not None and "13912345678" not in error and "文三路" not in error and "张女士" not in error
    )
    assert 'its key "收件人[姓名] [电话] 地址[地址]" holds a list' in error
    assert "jq -c '.[] | arrays | .[]' FILE > day.jsonl" in error


def test_a_document_nested_too_deeply_is_one_error(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    result = _read(path)
    assert result.files[0].error is not None and "nested too deeply" in result.files[0].error


def test_a_document_over_the_size_limit_is_refused_with_the_fix(tmp_path: Path, monkeypatch) -> None:
    doc = _document(tmp_path / "big.json", MESSAGES, indent=2)
    lines = _jsonl(tmp_path / "big.jsonl", MESSAGES)
    limits = tmp_path / "limits.toml"
    limit = 300
    assert doc.stat().st_size > limit
    limits.write_text(f"[input]\njson_document_max_bytes = {limit}\n", encoding="utf-8")
    monkeypatch.setenv("QC_LIMITS", str(limits))
    assert lines.stat().st_size > limit  # JSON Lines has no such limit: it is read line by line
    res, out = _inspect(tmp_path, "out", str(doc), str(lines))
    assert res.exit_code == 1 and "Traceback" not in res.stderr
    assert "json_document_max_bytes" in res.stderr and "export the day as JSON Lines" in res.stderr
    files = {Path(f["path"]).name: f for f in _run(out)["files"]}
    assert files["big.json"]["error"] and files["big.json"]["read"] == 0
    assert files["big.jsonl"]["accepted"] == 5
    # Keys the limits file leaves out keep the bundled values.
    bundled = load_limits(DEFAULT_LIMITS)
    assert load_limits().json_document_max_bytes == limit
    assert load_limits().max_message_chars == bundled.max_message_chars
    assert (
        bundled.json_document_max_bytes
        == tomllib.loads(DEFAULT_LIMITS.read_text(encoding="utf-8"))["input"]["json_document_max_bytes"]
    )
    monkeypatch.delenv("QC_LIMITS")
    res, _ = _inspect(tmp_path, "again", str(doc))
    assert res.exit_code == 0


# --- every reading path reads a document the same way -----------------------------------------


def test_streamed_reading_equals_whole_reading_for_documents(tmp_path: Path) -> None:
    paths = [
        _document(tmp_path / "a.json", MESSAGES[:3], indent=2),
        _document(tmp_path / "b.json", _conversations_of(MESSAGES[3:])),
    ]
    whole = read_inputs(paths, ReadOptions())
    read = StreamRead()
    streamed = list(stream_inputs(paths, ReadOptions(), read))
    assert _shape(streamed) == _shape(whole.conversations)
    assert read.result.files == whole.files and read.result.rejects == whole.rejects


def test_documents_are_read_whole_by_the_line_readers(tmp_path: Path) -> None:
    resolved = resolve_options(ReadOptions())
    forced = resolve_options(ReadOptions(format="jsonl"))
    doc = _document(tmp_path / "day.json", MESSAGES, indent=2)
    one_line = _document(tmp_path / "line.json", MESSAGES)
    lines = _jsonl(tmp_path / "day.jsonl", MESSAGES)
    for path in (doc, one_line):
        assert _streamable(path, resolved) is None and _streamable(path, forced) is None
        assert LineSplit.of([path], ReadOptions()) is None
        assert LineSplit.of([path], ReadOptions(format="jsonl")) is None
    assert _streamable(lines, resolved) == "utf-8" and _streamable(lines, forced) == "utf-8"
    assert LineSplit.of([lines], ReadOptions()) is not None


def test_spark_reads_documents_whole_and_json_lines_in_pieces(tmp_path: Path) -> None:
    def form(path: Path, options: ReadOptions) -> PieceFormat | str:
        text = path.read_text(encoding="utf-8").splitlines()[:HEAD_LINES]
        head = path.read_bytes()[:HEAD_BYTES]
        return piece_format(str(path), head, lambda bom: text, resolve_options(options))

    doc = _document(tmp_path / "day.json", MESSAGES, indent=2)
    lines = _jsonl(tmp_path / "day.jsonl", MESSAGES)
    for options in (ReadOptions(), ReadOptions(format="jsonl")):
        assert form(doc, options) == "one JSON document (not JSON Lines) is parsed whole"
        assert form(lines, options) == PieceFormat("jsonl", "utf-8")


@pytest.mark.slow
def test_jobs_2_writes_what_jobs_1_writes_for_documents(tmp_path: Path) -> None:
    day = tmp_path / "generated.jsonl"
    write_jsonl_messages(iter_conversations(date(2026, 11, 24), seed=11, n_conversations=80), day)
    rows = [json.loads(line) for line in day.read_text(encoding="utf-8").splitlines()]
    inputs = tmp_path / "in"
    inputs.mkdir()
    third = len(rows) // 3
    _document(inputs / "a_messages.json", rows[:third], indent=2)
    _document(inputs / "b_conversations.json", _conversations_of(rows[third : 2 * third]))
    _jsonl(inputs / "c_lines.jsonl", rows[2 * third :])  # JSON Lines beside documents
    outs = []
    for jobs in ("1", "2"):
        res, out = _inspect(tmp_path, f"j{jobs}", str(inputs), "--jobs", jobs, "--batch-size", "8")
        assert res.exit_code == 0, res.stderr
        outs.append(out)
    one, two = outs
    assert _run(one)["counts"]["accepted"] == len(rows) and _run(one)["findings"] > 0
    for name in COMPARABLE_OUTPUTS:
        assert (two / name).read_bytes() == (one / name).read_bytes(), name
    assert {k: v for k, v in _run(two).items() if k != "seconds"} == {
        k: v for k, v in _run(one).items() if k != "seconds"
    }


# --- JSON Lines is read as before -------------------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "counts"),
    [
        pytest.param([json.dumps(m, ensure_ascii=False) for m in MESSAGES], (5, 5, 0), id="messages"),
        pytest.param(
            [json.dumps(c, ensure_ascii=False) for c in _conversations_of(MESSAGES)],
            (5, 5, 0),
            id="conversations",
        ),
        pytest.param([json.dumps(MESSAGES[0], ensure_ascii=False)], (1, 1, 0), id="one-object-line"),
        # A JSON Lines file whose first line is cut: still one reject per bad line.
        pytest.param(
            ['{"conversation_id": "d1", "role": "买家", "text": "在', *map(json.dumps, MESSAGES[1:])],
            (5, 4, 1),
            id="cut-first",
        ),
        pytest.param(
            ['{"conversation_id": "d1",', *map(json.dumps, MESSAGES[1:])], (5, 4, 1), id="cut-at-comma"
        ),
        pytest.param(['{"conversation_id": "d1", "text": "在'], (1, 0, 1), id="one-cut-line"),
        pytest.param(["[1, 2]", json.dumps(MESSAGES[0])], (2, 1, 1), id="array-lines"),
    ],
)
def test_json_lines_keeps_the_json_lines_reader(
    tmp_path: Path, lines: list[str], counts: tuple[int, int, int]
) -> None:
    path = tmp_path / "day.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert sniff_text_format(lines, path, {})[0] == "jsonl"
    assert _streamable(path, resolve_options(ReadOptions())) == "utf-8"
    result = _read(path)
    assert result.files[0].format == "jsonl" and result.files[0].error is None
    _balanced(result)
    assert (result.read, result.accepted, result.rejected) == counts


def test_the_readers_fixtures_are_still_json_lines() -> None:
    data = Path(__file__).parent / "data" / "readers"
    for name in ("messages.jsonl", "conversations.jsonl"):
        path = data / name
        assert _read(path).files[0].format == "jsonl", name


def test_the_usual_api_envelope_names_its_nested_list(tmp_path: Path) -> None:
    """{"code": 0, "data": {"list": [...]}}: the error named no list, and gave no jq hint (audit 81 #15)."""
    envelope = {"code": 0, "data": {"total": len(MESSAGES), "list": MESSAGES}}
    error = _read(_document(tmp_path / "api.json", envelope, indent=2)).files[0].error
    assert error is not None and 'its key "data"."list" holds a list' in error
    assert 'jq -c \'.["data"]["list"][]\' FILE > day.jsonl' in error


@pytest.mark.parametrize("indent", [None, 2], ids=["one-line", "pretty"])
@pytest.mark.parametrize("said", ["msg", "message"])
def test_an_envelope_with_a_status_message_is_still_an_envelope(tmp_path: Path, indent, said) -> None:
    """{"code": 0, "msg": "ok", "data": {"list": [...]}}: msg names a text, so the envelope was read as
    one message, one reject "missing conversation_id" and exit 0 (audit 120 M1)."""
    envelope = {"code": 0, said: "ok", "data": {"total": len(MESSAGES), "list": MESSAGES}}
    result = _read(_document(tmp_path / "api.json", envelope, indent=indent))
    error = result.files[0].error
    assert error is not None and 'its key "data"."list" holds a list' in error and not result.rejects
    # a message whose text key is msg and that lists its pictures is a message still
    path = tmp_path / "day.jsonl"
    line = {"conversation_id": "k1", "role": "买家", "msg": "看图", "images": [{"url": "a.jpg"}]}
    path.write_text(json.dumps(line, ensure_ascii=False) + "\n", encoding="utf-8")
    assert [m.text for c in _read(path).conversations for m in c.messages] == ["看图"]


def test_json_errors_say_where_a_string_runs_on(tmp_path: Path) -> None:
    """ "Unterminated string starting at" lost its position in a line's reject, and the document's
    error read "starting at at line 4" (audit 120 L1)."""
    path = tmp_path / "day.jsonl"
    path.write_text(json.dumps(MESSAGES[0], ensure_ascii=False) + '\n{"text": "在\n', encoding="utf-8")
    (reject,) = _read(path).rejects
    assert "Unterminated string starting at column 10" in reject.reason
    doc = tmp_path / "doc.json"
    doc.write_text('[\n{"text": "在吗', encoding="utf-8")
    error = _read(doc).files[0].error
    assert error is not None and "starting at line 2 column 10" in error and "at at" not in error


def test_a_one_line_object_of_unknown_keys_names_column_as_the_fix(tmp_path: Path) -> None:
    """A one-line file whose keys need --column failed with "export the day as JSON Lines", which it
    already was (audit 95 D1); with --column it reads as one message."""
    path = tmp_path / "day.jsonl"
    path.write_text(
        '{"cid": "k1", "who": "买家", "body": "在吗", "ts": "2026-11-24 10:00:00"}\n', encoding="utf-8"
    )
    error = _read(path).files[0].error
    assert error is not None and "--column text=KEY" in error
    mapped = read_inputs(
        [path],
        ReadOptions(column_map={"conversation_id": "cid", "role": "who", "text": "body", "timestamp": "ts"}),
    )
    assert mapped.files[0].error is None and [m.text for c in mapped.conversations for m in c.messages] == [
        "在吗"
    ]
