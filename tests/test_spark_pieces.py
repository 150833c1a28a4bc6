"""The plain-Python parts of the Spark engine, without Spark: what each task computes equals the local code.

* A file read in pieces (any cut between lines) gives the whole-file reader's records,
  rejects, counts and warnings; a CSV read as a stream gives its rows.
* ``piece_format`` sends a file to Spark exactly when the whole-file reader would read it as
  UTF-8 JSON Lines or CSV, with the same format and encoding label.
* Score tallies counted out of input order and merged in any order and grouping give the
  counters of one in-order tally (Spark merges its partitions' tallies so).
"""

from __future__ import annotations

import csv
import random
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from messy_day import messy_day

from qc.batch.chunks import ScoreTally
from qc.readers import ReadOptions, read_inputs
from qc.readers.files import read_file, resolve_options
from qc.readers.pieces import (
    HEAD_BYTES,
    HEAD_LINES,
    PieceCounts,
    PieceFormat,
    PieceRead,
    line_text,
    piece_format,
)
from qc.readers.records import garbled_reason
from qc.readers.stream import _streamable
from qc.readers.tabular import _csv_problem, csv_line_rows
from qc.rules import RuleSettings
from qc.run.inspector import ConversationResult, build_inspector
from qc.schema import Conversation, Message, Reject, Role
from qc.scoring.card import load_scorecard

RESOLVED = resolve_options(ReadOptions())


@pytest.fixture(scope="module")
def day(tmp_path_factory) -> Path:
    return messy_day(tmp_path_factory.mktemp("messy"))


# --------------------------------------------------------------------------- csv as a stream


def _reference_csv_rows(lines: list[str], delimiter: str, garbled: set[int], encoding: str):
    """csv_rows as it was before it streamed (the whole file's lines in a list)."""
    feed = (line + "\n" for line in lines)
    reader = csv.reader(feed, delimiter=delimiter)
    consumed = 0
    while True:
        start = consumed + 1
        problem = None
        try:
            cells: Sequence[Any] = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            cells, problem = [], _csv_problem(exc)
        consumed = reader.line_num
        end = max(consumed, start)
        raw = "\n".join(lines[start - 1 : end])
        if problem is None and any(n in garbled for n in range(start, end + 1)):
            problem = garbled_reason(encoding)
        if problem is None and end > start and len(cells) and end == len(lines) and raw.count('"') % 2:
            problem = "unterminated quote runs to the end of the file"
        yield start, cells, raw, problem


_CSV_TEXT = st.lists(st.text(alphabet='ab,"\t\r 中\x00', max_size=12), max_size=12)


@settings(max_examples=400, deadline=None)
@given(
    lines=_CSV_TEXT, delimiter=st.sampled_from([",", "\t"]), garbled=st.sets(st.integers(1, 12), max_size=3)
)
def test_csv_line_rows_give_the_rows_of_the_whole_file_reader(lines, delimiter, garbled):
    expected = list(_reference_csv_rows(lines, delimiter, garbled, "utf-8"))
    assert list(csv_line_rows(iter(lines), delimiter, garbled, "utf-8")) == expected


# ---------------------------------------------------------------------------- files in pieces


def _lines(path: Path) -> tuple[list[bytes], bool]:
    data = path.read_bytes()
    raw = data.split(b"\n")
    if data.endswith(b"\n") or not data:
        raw.pop()
    return raw, data.startswith(b"\xef\xbb\xbf")


def _read_in_pieces(
    path: Path, form: PieceFormat, cuts: list[int], shuffle: random.Random | None = None
) -> tuple[list[Any], list[Reject], PieceCounts]:
    """The file read piece by piece; with ``shuffle`` the pieces' counts are folded in a random
    order and grouping, as Spark folds them when the tasks end."""
    raw, bom = _lines(path)
    bounds = [0, *sorted(c for c in set(cuts) if 0 < c < len(raw)), len(raw)]
    candidates: list[Any] = []
    rejects: list[Reject] = []
    pieces = []
    for start, end in zip(bounds, bounds[1:], strict=False):
        reader = PieceRead(str(path), "jsonl", form.encoding, RESOLVED)
        texts = (line_text(b, bom and n == 0) for n, b in enumerate(raw[start:end], start=start))
        for item in reader.jsonl(texts, start + 1):
            (rejects if isinstance(item, Reject) else candidates).append(item)
        pieces.append(reader.counts())
    if shuffle is not None:
        shuffle.shuffle(pieces)
        while len(pieces) > 1:  # pairs folded in random groupings
            i = shuffle.randrange(len(pieces) - 1)
            pieces[i].merge(pieces.pop(i + 1))
    counts = PieceCounts()
    for piece in pieces:
        counts.merge(piece)
    return candidates, rejects, counts


def _spark_files(day: Path, fmt: str) -> list[tuple[Path, PieceFormat]]:
    """The files Spark reads: by their head, and every line UTF-8 (what the survey job checks)."""
    out = []
    for path in sorted(day.iterdir()):
        form = _format(path)
        if isinstance(form, PieceFormat) and form.format == fmt and _utf8(path):
            out.append((path, form))
    return out


def _utf8(path: Path) -> bool:
    try:
        path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _format(path: Path) -> PieceFormat | str:
    def head_lines(bom: bool) -> list[str]:
        raw, _ = _lines(path)
        return [line_text(b, bom and n == 0) for n, b in enumerate(raw[:HEAD_LINES])]

    return piece_format(str(path), path.read_bytes()[:HEAD_BYTES], head_lines, RESOLVED)


def test_json_lines_read_in_pieces_give_the_whole_file_reader_records(day):
    files = _spark_files(day, "jsonl")
    assert len(files) >= 3
    rng = random.Random(7)
    for path, form in files:
        whole = read_file(path, RESOLVED)
        n = len(_lines(path)[0])
        for cuts in ([], list(range(n)), [rng.randrange(n + 1) for _ in range(5)]):
            candidates, rejects, counts = _read_in_pieces(path, form, cuts)
            assert candidates == whole.candidates, path.name
            assert rejects == whole.rejects, path.name
            report = whole.report
            assert (counts.read, counts.accepted, counts.rejected) == (
                report.read,
                report.accepted,
                report.rejected,
            )
            assert counts.warnings == whole.warnings


def test_a_files_warnings_keep_its_line_order_however_spark_folds_its_pieces(tmp_path):
    """A file Spark splits in blocks listed its warnings in the order the tasks ended, another on
    each run, so run.json and stderr differed from the local engine's (audit 74, #10)."""
    import json

    from qc.readers.limits import load_limits

    long = "好" * (load_limits().max_message_chars + 1)  # each one is a warning naming its line
    rows = [
        {
            "conversation_id": f"c{i // 4}",
            "role": "customer" if i % 2 == 0 else "agent",
            "sender": "买家" if i % 2 == 0 else "店:小满",
            "timestamp": f"2026-11-24T10:{i:02d}:00+08:00",
            "text": long if i % 5 == 2 else f"第{i}条",
        }
        for i in range(40)
    ]
    path = tmp_path / "day.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    whole = read_file(path, RESOLVED)
    assert len(whole.warnings) == 8
    form = _format(path)
    assert isinstance(form, PieceFormat)
    rng = random.Random(11)
    for _ in range(20):
        _, _, counts = _read_in_pieces(path, form, [rng.randrange(41) for _ in range(6)], shuffle=rng)
        assert counts.warnings == whole.warnings


def test_a_csv_read_as_a_stream_gives_the_whole_file_reader_records(day):
    files = _spark_files(day, "csv")
    assert {p.name for p, _ in files} >= {"c_export.csv", "d_noheader.csv", "z_bom.csv"}
    for path, form in files:
        whole = read_file(path, RESOLVED)
        raw, bom = _lines(path)
        reader = PieceRead(str(path), "csv", form.encoding, RESOLVED)
        items = list(reader.csv((line_text(b, bom and n == 0) for n, b in enumerate(raw)), form.delimiter))
        assert [i for i in items if not isinstance(i, Reject)] == whole.candidates, path.name
        assert [i for i in items if isinstance(i, Reject)] == whole.rejects, path.name
        counts = reader.counts()
        report = whole.report
        assert (counts.read, counts.accepted, counts.rejected, counts.error) == (
            report.read,
            report.accepted,
            report.rejected,
            report.error,
        ), path.name


def test_a_csv_without_a_role_column_read_as_a_stream_gives_the_whole_file_readers_buyers(tmp_path):
    """The buyer of such a sheet is told from the whole file (which chats a shop account answers):
    Spark's stream of the file must find the same buyers, rejects and warnings."""
    path = tmp_path / "day.csv"
    path.write_text(
        "会话ID,时间,发送人,内容\n"
        "k1,2026-11-24 10:00:01,tb_松果,这个有货吗\n"
        "k2,2026-11-24 11:00:00,tb_青柠,在吗\n"
        "k1,2026-11-24 10:00:20,暖阳小铺:阿青,有的亲\n",
        encoding="utf-8",
    )
    whole = read_file(path, RESOLVED)
    assert [c.role for c in whole.candidates] == [Role.CUSTOMER, Role.AGENT]
    form = _format(path)
    assert isinstance(form, PieceFormat)
    raw, bom = _lines(path)
    reader = PieceRead(str(path), "csv", form.encoding, RESOLVED)
    items = list(reader.csv((line_text(b, bom and n == 0) for n, b in enumerate(raw)), form.delimiter))
    assert [i for i in items if not isinstance(i, Reject)] == whole.candidates
    assert [i for i in items if isinstance(i, Reject)] == whole.rejects and len(whole.rejects) == 1
    assert reader.counts().warnings == whole.warnings and whole.warnings


def test_spark_reads_a_file_exactly_when_the_whole_file_reader_reads_utf8_jsonl_or_csv(day):
    decided = {}
    for path in sorted(day.iterdir()):
        form = _format(path)
        whole = read_file(path, RESOLVED).report
        utf8 = _utf8(path)  # else the survey job sends the file to the driver
        if isinstance(form, PieceFormat) and utf8:
            assert (form.format, form.encoding) == (whole.format, whole.encoding), path.name
            if form.format == "jsonl":
                assert _streamable(path, RESOLVED) == form.encoding
            decided[path.name] = form.format
        elif path.stat().st_size:  # an empty file has nothing to cut: the driver reads it
            splittable = whole.format in ("jsonl", "csv") and whole.encoding in ("utf-8", "utf-8-sig")
            assert not (splittable and utf8), (path.name, form)
    assert decided["a_messages.jsonl"] == "jsonl" and decided["c_export.csv"] == "csv"
    assert "g_sheets.xlsx" not in decided and "z_gb18030.csv" not in decided
    assert isinstance(_format(day / "h_late_garble.jsonl"), PieceFormat), "its head alone looks fine"


# ------------------------------------------------------------------------------------ tallies


def _counters(tally: ScoreTally) -> tuple[Any, ...]:
    verdicts = sorted(tally.verdicts, key=lambda v: (v.date, v.agent, v.conversation_id, v.message_index))
    held = {k: dict(v) for k, v in tally.held_by.items() if v}
    return tally.metrics.rows(), held, verdicts, tally.findings


def test_tallies_merge_to_the_same_counters_in_any_order_and_grouping(day):
    """The shop of an agent-day comes from its first conversation in input order, however merged."""
    card = load_scorecard()
    read = read_inputs([day], ReadOptions())
    inspector = build_inspector(RuleSettings(rules=("forbidden_phrase.v1",)))
    results = inspector.inspect(read.conversations)
    assert sum(len(r.findings) for r in results) > 5
    # One agent serving several shops on one day (and conversations naming none): only the
    # first in input order may name the shop of that agent-day.
    for n in range(30):
        shop = (None, "甲店", "乙店")[n % 3]
        messages = (
            Message(0, Role.CUSTOMER, "在吗", "buyer", datetime(2026, 11, 24, 9, n, tzinfo=UTC)),
            Message(1, Role.AGENT, "在的", "总店:小周", datetime(2026, 11, 24, 9, n, 30, tzinfo=UTC)),
        )
        results.insert(
            n * 3 % len(results), ConversationResult(Conversation(f"s{n}", messages, shop), (), ())
        )

    in_order = ScoreTally(card)
    for result in results:
        in_order.add(result, card)
    expected = _counters(in_order)
    first = next(r.conversation.shop for r in results if r.conversation.id[0] == "s" and r.conversation.shop)
    assert [r.shop for r in expected[0] if r.agent == "总店:小周"] == [first]
    backwards = ScoreTally(card)
    for result in reversed(results):  # without input positions the last would win: the test has teeth
        backwards.add(result, card)
    assert [r.shop for r in backwards.metrics.rows() if r.agent == "总店:小周"] != [first]

    rng = random.Random(3)
    for _ in range(20):
        positions = list(range(len(results)))
        rng.shuffle(positions)
        parts = [ScoreTally(card) for _ in range(rng.randint(1, 6))]
        for position in positions:
            rng.choice(parts).add(results[position], card, position)
        while len(parts) > 1:  # merge random pairs, as a tree reduction does
            a = parts.pop(rng.randrange(len(parts)))
            b = parts.pop(rng.randrange(len(parts)))
            a.merge(b)
            parts.append(a)
        assert _counters(parts[0]) == expected


def test_a_failed_spark_job_names_a_workers_python_error_by_its_type_only(monkeypatch):
    """A worker's KeyError: '我住上海市… 139…' was printed whole (audit 94 #15); the JVM's and
    qc's own messages are written for people and stay."""
    from qc.batch.spark_day import _failure

    monkeypatch.delenv("QC_DEBUG", raising=False)
    said = "Traceback (most recent call last):\nKeyError: '我住上海市浦东新区 手机13917263548'"
    hidden = str(_failure(RuntimeError(said)))
    assert "KeyError in a Python worker" in hidden and "13917263548" not in hidden and "上海" not in hidden
    assert "Java heap space" in str(_failure(RuntimeError("java.lang.OutOfMemoryError: Java heap space")))
    assert "day.csv: not readable" in str(
        _failure(RuntimeError("qc.errors.InputError: day.csv: not readable"))
    )
    monkeypatch.setenv("QC_DEBUG", "1")
    assert "13917263548" in str(_failure(RuntimeError(said)))


@pytest.mark.parametrize("kind", ["jsonl", "csv"])
def test_a_file_of_carriage_return_lines_is_read_whole_by_every_engine(tmp_path, kind):
    """JSON Lines ending in CR alone were one reject read streamed (11 messages lost), and Spark read a
    CSV (Macintosh) as one line, "no header row", while the whole-file reader split them (audit 120
    H2, H3)."""
    import json

    said = [("customer", "买家", "在吗"), ("agent", "店:小满", "在的"), ("customer", "买家", "几点发货")]
    if kind == "jsonl":
        lines = [
            json.dumps(
                {
                    "conversation_id": "c1",
                    "role": r,
                    "sender": s,
                    "timestamp": f"2026-11-24T10:0{k}:00+08:00",
                    "text": t,
                },
                ensure_ascii=False,
            )
            for k, (r, s, t) in enumerate(said)
        ]
    else:
        lines = ["会话ID,角色,发送人,时间,内容"] + [
            f"c1,{r},{s},2026-11-24 10:0{k}:00,{t}" for k, (r, s, t) in enumerate(said)
        ]
    path = tmp_path / f"mac.{kind}"
    path.write_bytes("\r".join(lines).encode("utf-8") + b"\r")
    assert _streamable(path, RESOLVED) is None
    assert "carriage return" in str(_format(path))
    (conv,) = read_inputs([path], ReadOptions()).conversations
    assert [m.text for m in conv.messages] == [t for *_, t in said]


@pytest.mark.parametrize("closed", [True, False], ids=["closed-later", "never-closed"])
def test_a_stray_quote_in_a_csv_cuts_back_into_its_rows_on_every_engine(tmp_path, closed):
    """A buyer's text opening with " made the rows under it one quoted cell, her message: the agent's
    爱买不买 and 不知道 自己看 were never inspected, without a word (audit 120 H1). The line of the
    stray quote is a reject naming the fix; the rows under it are read, streamed as whole."""
    rows = [
        "会话ID,角色,发送人,时间,内容",
        'Q1,买家,tb_a,2026-11-24 10:00:00,"这个灯多大',
        "Q1,客服,店:阿木,2026-11-24 10:00:40,爱买不买",
        "Q1,客服,店:阿木,2026-11-24 10:00:50,不知道 自己看",
        "Q1,买家,tb_a,2026-11-24 10:01:00," + ('就是标着30"的那个' if closed else "就是那个"),
    ]
    if closed:  # a line break inside a real cell stays in its message
        rows.append('Q1,客服,店:阿木,2026-11-24 10:01:30,"地址如下：\n杭州市, 西湖区"')
    path = tmp_path / "day.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    whole = read_file(path, RESOLVED)
    texts = [c.text for c in whole.candidates]
    if closed:
        assert texts == ["爱买不买", "不知道 自己看", '就是标着30"的那个', "地址如下：\n杭州市, 西湖区"]
    else:
        assert texts == ["爱买不买", "不知道 自己看", "就是那个"]
    (reject,) = whole.rejects
    assert reject.line == 2 and "stray double quote" in reject.reason and '""' in reject.reason
    raw, bom = _lines(path)
    form = _format(path)
    assert isinstance(form, PieceFormat)
    reader = PieceRead(str(path), "csv", form.encoding, RESOLVED)
    items = list(reader.csv((line_text(b, bom and n == 0) for n, b in enumerate(raw)), form.delimiter))
    assert [i for i in items if not isinstance(i, Reject)] == whole.candidates
    assert [i for i in items if isinstance(i, Reject)] == whole.rejects


@pytest.mark.parametrize(
    "second",
    ["会话ID,角色,发送人,时间,店铺,内容", "会话ID,发送人,角色,时间,内容,店铺"],
    ids=["text-moved", "role-moved"],
)
def test_a_second_export_joined_below_with_its_columns_in_another_order_is_read_by_its_header(
    tmp_path, second
):
    """Read by the first header, the second export's rows had the shop for their text (findings on
    青柠家居店) or were rejects of an unknown role, and nothing said a header changed (audit 120 M2)."""
    first = "会话ID,角色,发送人,时间,内容,店铺"
    cells = {"会话ID": "M1", "角色": "客服", "发送人": "青柠家居店:阿木", "时间": "2026-11-24 09:05:40"}
    cells |= {"内容": "爱买不买", "店铺": "青柠家居店"}
    row = lambda header: ",".join(cells[h] for h in header.split(","))  # noqa: E731
    path = tmp_path / "joined.csv"
    path.write_text(
        "\n".join([first, row(first).replace("M1", "K1"), second, row(second)]) + "\n", encoding="utf-8"
    )
    whole = read_file(path, RESOLVED)
    assert [(c.conversation_id, c.text, c.role, c.shop) for c in whole.candidates] == [
        ("K1", "爱买不买", Role.AGENT, "青柠家居店"),
        ("M1", "爱买不买", Role.AGENT, "青柠家居店"),
    ]
    (reject,) = whole.rejects
    assert reject.line == 3 and "its columns in another order" in reject.reason
    raw, bom = _lines(path)
    reader = PieceRead(str(path), "csv", "utf-8", RESOLVED)
    items = list(reader.csv((line_text(b, bom and n == 0) for n, b in enumerate(raw)), ","))
    assert [i for i in items if not isinstance(i, Reject)] == whole.candidates


@pytest.mark.parametrize(
    ("cell", "role_column"),
    [
        ('"你们昨天就是这么回的，我复制给你：\nQ1,客服,店:阿木,2026-11-24 09:00:00,烦不烦啊爱买不买"', True),
        ('"请核对：\n张三,13800138000,朝阳区幸福路8号,302室"', False),
    ],
    ids=["pasted-reply", "address-without-roles"],
)
def test_a_cell_quoted_whole_is_one_cell_whatever_its_lines_look_like(tmp_path, cell, role_column):
    """A buyer's pasted copy of a reply, or an address with commas in a sheet without roles, was cut
    into rows as if a quote had strayed: the buyer's message was lost and the paste charged to the
    agent, or every row rejected (audit 121 H3, H4)."""
    if role_column:
        rows = ["会话ID,角色,发送人,时间,内容", f"Q1,买家,tb_a,2026-11-24 10:00:01,{cell}"]
    else:
        rows = ["会话ID,时间,发送人,内容", f"Q1,2026-11-24 10:00:01,店:阿木,{cell}"]  # the shop's agent
    path = tmp_path / "day.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    whole = read_file(path, RESOLVED)
    assert not whole.rejects and [c.text for c in whole.candidates] == [cell.strip('"')]


def test_a_stray_quote_over_a_blank_line_still_cuts_back_into_rows(tmp_path):
    """A blank line among the rows a stray quote ran over made the rest one reject (audit 121 L2)."""
    rows = [
        "会话ID,角色,发送人,时间,内容",
        'Q1,买家,tb_a,2026-11-24 10:00:00,"这个灯多大',
        "",
        "Q1,客服,店:阿木,2026-11-24 10:00:40,爱买不买",
    ]
    path = tmp_path / "day.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    whole = read_file(path, RESOLVED)
    assert [c.text for c in whole.candidates] == ["爱买不买"] and [r.line for r in whole.rejects] == [2]
