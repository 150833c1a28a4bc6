r"""A mutation fuzzer over every input format the readers take (issue 19, item 6).

Seeds are small generated days written by :mod:`qc.synth.exports` in each format (JSON Lines of
messages and of conversations, a ``.json`` file, CSV in GB18030, XLSX, both 千牛/旺旺 text
styles). A mutant is a seed with a few byte- or line-level edits (flips, hostile bytes such as
NUL, BEL, ESC, invalid UTF-8 or a ``\ud800`` escape, deletions, repeats, truncation, swapped
lines); for XLSX the sheet's XML inside the zip is mutated as often as the zip's bytes. Each
mutant is read by both readers (whole and streaming); :func:`check_mutant` returns what went
wrong: an exception, ``read != accepted + rejected``, or a text no output could write.
"""

from __future__ import annotations

import io
import json
import random
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from qc.readers import ReadOptions, read_inputs
from qc.readers.stream import NotContiguousError, StreamRead, stream_inputs
from qc.synth.conversations import iter_conversations
from qc.synth.exports import FORMATS, write

__all__ = ["FORMAT_FILES", "FuzzTally", "check_mutant", "mutate", "mutants", "seeds"]

# Format → file name of its seed (the suffix is what the sniffer sees second).
FORMAT_FILES = {
    "jsonl": "2026-11-24_messages.jsonl",
    "jsonl-conversations": "2026-11-24_conversations.json",
    "csv": "chat_export_2026-11-24.csv",
    "xlsx": "chat_export_2026-11-24.xlsx",
    "text-lines": "qianniu_2026-11-24.txt",
    "text-blocks": "wangwang_2026-11-24.txt",
}

# Bytes a hostile or broken export carries.
_HOSTILE = [
    b"\x00",
    b"\x07",
    b"\x1b[2J",
    b"\xff\xfe",
    b"\xc3",
    b"\xed\xa0\x80",  # a UTF-8-encoded surrogate
    b"\\ud800",
    b'"',
    b",",
    b"\t",
    b"\r",
    b"\n",
    b"{",
    b"}",
    b"[",
    b"]",
    b":",
    b"\xe2\x80\xae",  # right-to-left override
    b"9" * 40,
    b"-1",
    b"1e309",
    b"null",
    b"true",
    b"=====",
    "买家(25:61:99): ".encode(),
    "店:小王 2026-13-45 99:99:99\n".encode(),
    b"<row>",
    b"&#0;",
    b"]]>",
]


def seeds(messages: int = 40, seed: int = 11) -> dict[str, bytes]:
    """The seed file of each format: the same small generated day, as bytes."""
    out: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory(prefix="qc-fuzz-") as tmp:
        for fmt, name in FORMAT_FILES.items():
            path = Path(tmp) / name
            write(fmt, iter_conversations(date(2026, 11, 24), seed, n_messages=messages), path)
            out[fmt] = path.read_bytes()
    assert set(out) == set(FORMATS)  # every writable format has a seed
    return out


def _mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.choice((1, 1, 2, 3, 5, 8))):
        op = rng.randrange(9)
        at = rng.randrange(len(buf) + 1) if buf else 0
        if op == 0 and buf:  # flip a bit
            i = min(at, len(buf) - 1)
            buf[i] ^= 1 << rng.randrange(8)
        elif op == 1:  # insert hostile bytes
            buf[at:at] = rng.choice(_HOSTILE)
        elif op == 2 and buf:  # delete a run
            del buf[at : at + rng.randrange(1, 64)]
        elif op == 3 and buf:  # repeat a run
            end = min(len(buf), at + rng.randrange(1, 256))
            buf[at:at] = buf[at:end] * rng.randrange(2, 20)
        elif op == 4:  # truncate
            del buf[at:]
        elif op == 5 and buf:  # overwrite with a random byte
            buf[min(at, len(buf) - 1)] = rng.randrange(256)
        elif op in (6, 7):  # line-level: swap, drop or duplicate a line
            lines = bytes(buf).split(b"\n")
            if len(lines) > 1:
                i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
                if op == 6:
                    lines[i], lines[j] = lines[j], lines[i]
                elif rng.random() < 0.5:
                    del lines[i]
                else:
                    lines.insert(j, lines[i])
                buf = bytearray(b"\n".join(lines))
        elif op == 8:  # a very long line
            buf[at:at] = rng.choice((b"a", "好".encode(), b"\xff")) * rng.randrange(1000, 20000)
    return bytes(buf)


def _mutate_xlsx(data: bytes, rng: random.Random) -> bytes:
    """Mutate one XML part inside the workbook (or, sometimes, the zip's own bytes)."""
    if rng.random() < 0.25:
        return _mutate_bytes(data, rng)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as src:
            parts = {i.filename: src.read(i.filename) for i in src.infolist()}
    except zipfile.BadZipFile:
        return _mutate_bytes(data, rng)
    xml = [n for n in parts if n.endswith(".xml")]
    sheets = [n for n in xml if "worksheets/" in n or "sharedStrings" in n]
    name = rng.choice(sheets if sheets and rng.random() < 0.8 else xml)
    parts[name] = _mutate_bytes(parts[name], rng)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for n, body in parts.items():
            dst.writestr(n, body)
    return out.getvalue()


def mutate(fmt: str, data: bytes, rng: random.Random) -> bytes:
    """One mutant of a seed of format ``fmt``."""
    return _mutate_xlsx(data, rng) if fmt == "xlsx" else _mutate_bytes(data, rng)


def mutants(
    count: int, seed: int = 0, seed_files: dict[str, bytes] | None = None
) -> Iterator[tuple[str, bytes]]:
    """``count`` mutants ``(format, bytes)``, formats taken in turn, reproducible from ``seed``."""
    rng = random.Random(seed)
    base = seed_files or seeds()
    formats = sorted(base)
    for n in range(count):
        fmt = formats[n % len(formats)]
        yield fmt, mutate(fmt, base[fmt], rng)


def check_mutant(fmt: str, data: bytes, folder: Path) -> list[str]:
    """Read one mutant with both readers; the problems found (empty: it was handled)."""
    path = folder / FORMAT_FILES[fmt]
    path.write_bytes(data)
    problems: list[str] = []
    options = ReadOptions()
    try:
        result = read_inputs([path], options)
    except Exception as exc:  # noqa: BLE001 - what the fuzzer looks for
        return [f"read_inputs raised {type(exc).__name__}: {str(exc)[:200]}"]
    for f in result.files:
        if f.read != f.accepted + f.rejected:
            problems.append(f"read_inputs: read {f.read} != accepted {f.accepted} + rejected {f.rejected}")
    if result.accepted != sum(len(c.messages) for c in result.conversations):
        problems.append("read_inputs: accepted records and messages differ")
    try:  # what the outputs write must be encodable: rejects (their raw text) and messages
        for r in result.rejects:
            json.dumps(r.to_json(), ensure_ascii=False).encode("utf-8")
        for c in result.conversations:
            for m in c.messages:
                (m.text + (m.sender or "") + c.id).encode("utf-8")
    except UnicodeEncodeError as exc:
        problems.append(f"unwritable text: {exc.reason}")
    streamed = StreamRead()
    try:
        for _ in stream_inputs([path], options, streamed):
            pass
    except NotContiguousError:
        pass  # the run reads such a file whole (above)
    except Exception as exc:  # noqa: BLE001 - what the fuzzer looks for
        problems.append(f"stream_inputs raised {type(exc).__name__}: {str(exc)[:200]}")
    else:
        s = streamed.result
        if (s.read, s.accepted, s.rejected) != (result.read, result.accepted, result.rejected):
            problems.append("stream_inputs counts differ from read_inputs")
    return problems


@dataclass
class FuzzTally:
    """Figures of a fuzz run: mutants, records read/accepted/rejected, problems by kind."""

    mutants: int = 0
    by_format: dict[str, int] = field(default_factory=dict)
    problems: list[tuple[int, str, str]] = field(default_factory=list)

    def add(self, index: int, fmt: str, found: list[str]) -> None:
        """Count one mutant and keep what went wrong with it."""
        self.mutants += 1
        self.by_format[fmt] = self.by_format.get(fmt, 0) + 1
        self.problems.extend((index, fmt, p) for p in found)
