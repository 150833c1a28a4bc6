"""Encoding sniffing and line-wise decoding.

Exports arrive as UTF-8 (with or without BOM), GB18030/GBK from Chinese
Windows machines, or UTF-16 with BOM ("Unicode text" from Excel). A file is
decoded line by line so that one garbled line becomes one reject instead of
failing the whole file; a file where most lines fail is unreadable and the
error names the encoding that would work.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qc.errors import ConfigError

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# A file is text in an encoding when at most this share of its non-ASCII lines
# fail to decode; the failing lines are then garbled records, not a bad file.
_MAX_FAILING_SHARE_UTF8 = 0.5
_MAX_FAILING_SHARE_OTHER = 0.2
# Share of control bytes above which a file is binary, not a chat export.
_MAX_CONTROL_SHARE = 0.1
_SAMPLE = 65536


@dataclass(slots=True)
class Decoded:
    """A text file split into lines (no terminators), 1-based numbering by position + 1."""

    encoding: str
    lines: list[str]
    garbled: set[int] = field(default_factory=set)
    first_bad_byte: int | None = None


class UndecodableError(Exception):
    """The file is not text in any encoding qc can use; the message says what to try."""


def check_encoding(name: str) -> str:
    """Validate a forced ``--encoding`` and return its canonical codec name."""
    try:
        info = codecs.lookup(name)
    except LookupError:
        info = None
    # rot13, base64, zlib …: codecs Python knows that do not turn bytes into text.
    if info is None or not getattr(info, "_is_text_encoding", True):
        what = "unknown" if info is None else "not a text encoding"
        raise ConfigError(f"--encoding {name!r} is {what}: use utf-8, utf-8-sig, gb18030, gbk or utf-16")
    return info.name


def _utf8_text(data: bytes) -> bool:
    """True when ``data`` decodes as UTF-8 throughout."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _width(codec: str) -> int:
    return 4 if "32" in codec else 2 if "16" in codec else 1


def _newline(codec: str) -> bytes:
    return "\n".encode(codec.replace("-sig", "")) if _width(codec) > 1 else b"\n"


def bare_cr_lines(data: bytes) -> bool:
    """True when ``data`` holds a carriage return not before a line feed: the line readers leave it whole.

    The readers that go line by line (JSON Lines streamed, the workers' chunks, Spark's pieces)
    split on line feeds, where the whole-file reader may split on carriage returns (it does when
    the whole file has more of them): a Mac export was one line to them, one reject, every message
    lost (audit 120 H2, H3), and so was a Mac export joined below a Windows one past their first
    block (audit 129 H1). Any such file is left to the whole-file reader, which then reads it alike
    on every path. ``data`` cut from a file may end in the CR of a CRLF.
    """
    return data.count(b"\r") - data.count(b"\r\n") - data.endswith(b"\r") > 0


def _split(data: bytes, codec: str) -> list[tuple[int, bytes]]:
    """Split bytes into (offset, line) on newline code units aligned to the code unit width.

    A file whose lines end in bare carriage returns (Excel's "CSV (Macintosh)") is split on
    those: it has more of them than line feeds, which such a file holds only inside a cell
    (a line break typed with Alt+Enter), where the CSV reader keeps them as text. A Windows
    export joined to it keeps its CRLF lines: they were each a reject in Python's words (audit
    129 M1). In a file of line feeds a bare carriage return stays in its line: in JSON Lines it
    is a space between a record's keys.
    """
    width, nl = _width(codec), _newline(codec)
    cr = nl.replace(b"\n", b"\r")
    feeds = data.count(nl)
    bare = data.count(cr) - data.count(cr + nl)
    ends, crlf = nl, b""
    if bare > feeds or (bare and width == 1 and _quoted_only(data)):
        ends, crlf = cr, cr + nl  # a CRLF ends a line whole (UTF-16 too: audit 131 L3)
    out: list[tuple[int, bytes]] = []
    start = pos = 0
    while True:
        i = data.find(ends, pos)
        if i < 0:
            break
        if i % width:
            pos = i + 1
            continue
        out.append((start, data[start:i]))
        start = pos = i + (len(crlf) if crlf and data.startswith(crlf, i) else len(ends))
    if start < len(data):
        out.append((start, data[start:]))
    return out


def _quoted_only(data: bytes) -> bool:
    """True when every line feed of ``data`` lies inside a double-quoted CSV field.

    A small Mac export whose address cell holds more Alt+Enter breaks than the file has rows
    has more line feeds than carriage returns, all of them inside quotes.
    """
    inside = False
    start = 0
    while (feed := data.find(b"\n", start)) >= 0:
        inside ^= data.count(b'"', start, feed) % 2 == 1
        if not inside:
            return False
        start = feed + 1
    return True


def _decode_lines(data: bytes, codec: str, base: int) -> Decoded:
    decoder_name = "utf-8" if codec == "utf-8-sig" else codec
    lines: list[str] = []
    garbled: set[int] = set()
    first_bad: int | None = None
    for number, (offset, chunk) in enumerate(_split(data, codec), start=1):
        # A GB18030 file's line of Chinese in UTF-8 (a row pasted from another export) is read as
        # UTF-8, whether GB18030 would refuse it or decode it into mojibake (audit 154 M1).
        pasted = _utf8_line(chunk) if codec == "gb18030" and not chunk.isascii() else None
        if pasted is not None:
            lines.append(pasted)
            continue
        try:
            text = chunk.decode(decoder_name)
        except UnicodeDecodeError as exc:
            garbled.add(number)
            if first_bad is None:
                first_bad = base + offset + exc.start
            text = chunk.decode(decoder_name, errors="replace")
        lines.append(text[:-1] if text.endswith("\r") else text)
    return Decoded(codec, lines, garbled, first_bad)


# What a line of Chinese text is made of: ideographs, CJK and full-width punctuation, ASCII.
_CHINESE_LINE = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef\x00-\x7f“”‘’…—·]*")
_IDEOGRAPH = re.compile(r"[\u4e00-\u9fff]")


def _utf8_line(chunk: bytes) -> str | None:
    """A line of a GB18030 file that is Chinese in UTF-8 (a row pasted from another file), else None.

    GB18030 decodes such bytes as mojibake without an error: 就这个价爱买不买 was read as
    灏辫繖涓環鐖变拱涓嶄拱 and its phrase never found (audit 154 M1). Two ideographs at least, and
    nothing but Chinese text: a short GBK line (哦 is C5 B6, Ŷ in UTF-8) stays GBK.
    """
    try:
        text = chunk.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if len(_IDEOGRAPH.findall(text)) < 2 or not _CHINESE_LINE.fullmatch(text):
        return None
    return text[:-1] if text.endswith("\r") else text


def _failing(decoded: Decoded, data_lines: list[tuple[int, bytes]]) -> tuple[int, int]:
    """(failing non-ASCII lines, non-ASCII lines)."""
    non_ascii = sum(1 for _, chunk in data_lines if not chunk.isascii())
    return len(decoded.garbled), non_ascii


def _looks_binary(data: bytes) -> bool:
    return looks_binary(data[:_SAMPLE])


# A run of NUL bytes where a line starts, or of a disk block's length anywhere: what a crash
# leaves in a file being appended to, not the file's content. Shorter runs inside a line are a
# binary format's padding (a tar header's, audit 175 M1).
_NUL_RUN = re.compile(rb"(?:^|(?<=\n))\x00{16,}|\x00{1024,}")


def looks_binary(sample: bytes) -> bool:
    """True when ``sample`` (a file's first bytes) is control bytes more than text: binary, no chat export.

    Runs of NUL bytes are left out: a small export with such a block in its first 64 KB was
    refused whole as binary, every good record lost, where the block further into a file is one
    reject (audit 172 F5), however many crashes left one (audit 174 M2). A binary file's other
    bytes hold control bytes enough; a SQLite database, mostly text besides its NUL runs, is told
    by its signature (:mod:`qc.readers.files`). A sample of nothing but NUL bytes is binary.
    """
    text = _NUL_RUN.sub(b"", sample)
    if not text:
        return bool(sample)
    controls = sum(1 for b in text if b < 32 and b not in (9, 10, 13, 12, 27))
    return controls / len(text) > _MAX_CONTROL_SHARE


def _utf16_without_bom(data: bytes) -> str | None:
    sample = data[: _SAMPLE - _SAMPLE % 2]
    if len(sample) < 4:
        return None
    even_zero = sample[0::2].count(0) / (len(sample) / 2)
    odd_zero = sample[1::2].count(0) / (len(sample) / 2)
    if odd_zero > 0.3 and even_zero < 0.05:
        return "utf-16-le"
    if even_zero > 0.3 and odd_zero < 0.05:
        return "utf-16-be"
    return None


def _try(data: bytes, codec: str, base: int, max_share: float) -> tuple[Decoded, bool]:
    decoded = _decode_lines(data, codec, base)
    if not decoded.garbled:
        return decoded, True
    failing, non_ascii = _failing(decoded, _split(data, codec))
    return decoded, failing <= max_share * max(non_ascii, 1)


def _suggest(data: bytes, tried: str) -> str:
    """What encoding the bytes look like, as advice for an error message."""
    for codec, label in (("utf-8", "UTF-8"), ("gb18030", "GB18030")):
        if codec == tried:
            continue
        share = _MAX_FAILING_SHARE_UTF8 if codec == "utf-8" else _MAX_FAILING_SHARE_OTHER
        if _try(data, codec, 0, share)[1]:
            return f"looks like {label}: try --encoding {codec}"
    guess = _utf16_without_bom(data)
    if guess and guess != tried:
        return f"looks like UTF-16: try --encoding {guess}"
    return "re-save it as UTF-8, or name its encoding with --encoding"


# Letters a short GBK text decodes into as UTF-8 (哦, C5 B6, is Ŷ; 谢谢 is лл; 为什么 Ϊʲô): accented
# Latin, Greek and Cyrillic letters, with no Latin letter of ASCII beside them. Not symbols (¥, ×,
# °): those are what a UTF-8 draft writes (audit 158 M2). A draft in Greek or Cyrillic alone is
# read as GBK: in a Chinese shop's drafts, GBK is the likelier (audit 160 M1).
_ACCIDENTAL_UTF8 = re.compile(r"[\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u04ff]")


def _gbk_as_utf8(data: bytes, text: str) -> bool:
    """Whether a text that decodes as UTF-8 is rather GBK: no ideograph as UTF-8, Chinese as GB18030.

    A drafts file or stdin holding 哦 in GBK was judged as "Ŷ", ok (audit 156 M1). Text with ASCII
    letters (Café naïve) is taken as written: accents beside Latin words are UTF-8's.
    """
    wide = [c for c in text if not c.isascii()]
    if not wide or not all(_ACCIDENTAL_UTF8.match(c) for c in wide) or re.search(r"[A-Za-z]", text):
        return False
    try:
        return _IDEOGRAPH.search(data.decode("gb18030")) is not None
    except UnicodeDecodeError:
        return False


def decode_text(data: bytes, forced: str | None = None) -> tuple[str, str]:
    """``(text, encoding)`` of a small file a person edited: a scorecard, lexicon, review sheet, drafts.

    The same encodings as the chat readers (a BOM, UTF-16, UTF-8, then GB18030/GBK), so a file
    re-saved by Excel or Notepad on a Chinese Windows machine reads as it was meant. Unlike a
    chat export, such a file must decode whole, so without a BOM it is UTF-8 only when every
    byte is (a short GBK text can look like UTF-8 for a line or two), else GB18030; a line that
    decodes in neither is an error naming it. Lines are joined with newlines (a CRLF file reads
    as LF), so line numbers stay the file's.

    Raises:
        UndecodableError: binary data, no encoding fits, or a line does not decode.
    """
    if (
        forced is None
        and not data.startswith(tuple(bom for bom, _ in _BOMS))
        and not _utf16_without_bom(data)
    ):
        if _looks_binary(data):
            raise UndecodableError("looks like a binary file, not text; save it as UTF-8 text")
        first: UnicodeDecodeError | None = None
        for codec in ("utf-8", "gb18030"):
            try:
                text = data.decode(codec)
            except UnicodeDecodeError as exc:
                first = first or exc
                continue
            if codec == "utf-8" and _gbk_as_utf8(data, text):
                continue
            return "\n".join(line[:-1] if line.endswith("\r") else line for line in text.split("\n")), codec
        line = data.count(b"\n", 0, first.start if first else 0) + 1
        raise UndecodableError(
            f"line {line} is neither UTF-8 nor GB18030/GBK (byte {first.start if first else 0});"
            " re-save the file as UTF-8"
        )
    try:
        decoded = decode(data, forced)
    except UndecodableError as exc:  # its advice names --encoding, which these commands lack
        detail = str(exc).split(";")[0]
        raise UndecodableError(
            f"not text in UTF-16 or the encoding given ({detail}); re-save the file as UTF-8"
        ) from None
    if decoded.garbled:
        line = min(decoded.garbled)
        raise UndecodableError(
            f"line {line} is not valid {decoded.encoding} (garbled bytes); re-save the file as UTF-8"
        )
    return "\n".join(decoded.lines), decoded.encoding


# Magic numbers of the compressed and archive formats an export is most often shipped in (a ZIP
# is an XLSX when the sniffer says so; one that reaches the text decoder is an archive).
_PACKED = (
    (b"\x1f\x8b", "gzip-compressed (.gz)"),
    (b"BZh", "bzip2-compressed (.bz2)"),
    (b"\xfd7zXZ\x00", "xz-compressed (.xz)"),
    (b"\x28\xb5\x2f\xfd", "zstd-compressed (.zst)"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip archive (.7z)"),
    (b"Rar!\x1a\x07", "RAR archive (.rar)"),
    (b"PK\x03\x04", "ZIP archive (.zip)"),
)
# Formats told by bytes further in, or that are no archive but no text either.
_MARKED = (
    (
        0,
        b"SQLite format 3\x00",
        "is a SQLite database (a qc store?), not a chat export: keep it out of the input folder",
    ),
    (257, b"ustar", "is a tar archive (.tar), not text: unpack it and inspect the folder of files inside"),
    (
        0,
        b"\x37\x7f\x06\x82",
        "is a SQLite write-ahead log (-wal), not a chat export: keep it out of the input",
    ),
    (
        0,
        b"\x37\x7f\x06\x83",
        "is a SQLite write-ahead log (-wal), not a chat export: keep it out of the input",
    ),
    (
        0,
        b"\xd9\xd5\x05\xf9\x20\xa1\x63\xd7",
        "is a SQLite journal, not a chat export: keep it out of the input",
    ),
)


def marked_kind(data: bytes) -> str | None:
    """Why ``data`` is no chat export when its bytes say what it is (a tar, a SQLite log), else ``None``."""
    for at, magic, why in _MARKED:
        if data[at : at + len(magic)] == magic:
            return why
    return None


def compressed_kind(data: bytes) -> str | None:
    """What compressed or archive format ``data`` starts with (e.g. "gzip-compressed (.gz)"), or ``None``."""
    for magic, kind in _PACKED:
        if data.startswith(magic):
            if magic == b"BZh" and not data[3:4].isdigit():
                continue
            return kind
    return None


def decode(data: bytes, forced: str | None = None) -> Decoded:
    """Decode a whole file into lines, sniffing the encoding unless one is forced.

    Raises:
        UndecodableError: The bytes are binary or do not decode in the forced or
            any sniffed encoding; the message names the byte offset and the fix.
    """
    packed = compressed_kind(data)
    if packed is not None:
        raise UndecodableError(
            f"is a {packed} file, not text: no encoding will read it; unpack it and inspect the file inside"
        )
    if forced:
        codec = check_encoding(forced)
        utf16 = data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or _utf16_without_bom(data)
        if _width(codec) == 1 and utf16:
            raise UndecodableError(f"cannot decode as {forced}: the file is UTF-16; try --encoding utf-16")
        if _width(codec) > 1 and data.startswith(codecs.BOM_UTF8):
            # UTF-16 reads any even number of bytes: the whole file became other characters,
            # no line a message, and it was skipped as "not a chat export" with exit 0.
            raise UndecodableError(
                f"cannot decode as {forced}: the file starts with a UTF-8 byte-order mark; try"
                " --encoding utf-8, or leave --encoding out"
            )
        if _width(codec) > 1 and not utf16 and b"\x00" not in data and _utf8_text(data):
            # Without a mark either, a UTF-8 file read as UTF-16 was "no header row" naming a text
            # of 530 characters of other script (audit 120 L2).
            raise UndecodableError(
                f"cannot decode as {forced}: the file is UTF-8 (no byte-order mark, no zero bytes, and"
                " every byte reads as UTF-8); try --encoding utf-8, or leave --encoding out"
            )
        body, base = data, 0
        for bom, name in _BOMS:
            if data.startswith(bom) and codecs.lookup(name).name.replace("-sig", "") in (
                codec,
                codec + "-le",
            ):
                body, base = data[len(bom) :], len(bom)
                if codec == "utf-16":
                    codec = name
                break
        else:
            if codec == "utf-16":
                codec = _utf16_without_bom(data) or "utf-16-le"
        decoded, ok = _try(body, codec, base, _MAX_FAILING_SHARE_UTF8)
        if not ok:
            raise UndecodableError(
                f"cannot decode as {forced} at byte {decoded.first_bad_byte}; {_suggest(data, codec)}"
            )
        return decoded
    for bom, name in _BOMS:
        if data.startswith(bom):
            body = data[len(bom) :]
            if _width(name) == 2 and len(body) % 2:
                # A lone byte at the end of a UTF-16 file is no character (a copy cut short, a
                # stray newline byte): the whole file was refused for it.
                body = body[:-1]
            decoded, ok = _try(body, name, len(bom), _MAX_FAILING_SHARE_OTHER)
            if not ok:
                raise UndecodableError(
                    f"starts with a {name} byte-order mark but cannot be decoded as {name}"
                    f" at byte {decoded.first_bad_byte}; re-save it or name its encoding with --encoding"
                )
            return decoded
    guess = _utf16_without_bom(data)
    if guess:
        decoded, ok = _try(data, guess, 0, _MAX_FAILING_SHARE_OTHER)
        if ok:
            return decoded
    if _looks_binary(data):
        raise UndecodableError(
            "looks like a binary file, not a chat export (JSON Lines, CSV, XLSX or text);"
            " remove it from the input"
        )
    utf8, ok = _try(data, "utf-8", 0, _MAX_FAILING_SHARE_UTF8)
    if ok:
        return utf8
    gb, ok = _try(data, "gb18030", 0, _MAX_FAILING_SHARE_OTHER)
    if ok:
        return gb
    failing, non_ascii = _failing(gb, _split(data, "gb18030"))
    if failing * 2 <= non_ascii:
        # Mostly GB18030: too many bad lines to pick it unasked, but the user may know it is.
        bad = len(gb.garbled)
        verb, those = ("does", "that line as a reject") if bad == 1 else ("do", "those lines as rejects")
        raise UndecodableError(
            f"cannot decode as UTF-8 at byte {utf8.first_bad_byte}; as GB18030, {bad} of its"
            f" {len(gb.lines)} lines {verb} not decode (the first at byte {gb.first_bad_byte}): if it is"
            f" a GB18030/GBK export, --encoding gb18030 reads it with {those}; else name its encoding"
            " with --encoding (e.g. --encoding big5)"
        )
    raise UndecodableError(
        f"cannot decode as UTF-8 at byte {utf8.first_bad_byte}, nor as GB18030;"
        " name its encoding with --encoding (e.g. --encoding big5)"
    )


def read_config_toml(path: Path, what: str) -> dict[str, Any]:
    """The parsed TOML of a configuration file a person edits (limits, masking, report patterns).

    Read as a scorecard or lexicon is: UTF-8 with or without a BOM, or GBK from Notepad or WPS on
    a Chinese Windows machine. A GBK limits file was an internal error (exit 70) and a BOM a
    "line 1, column 1" syntax error (audit 104 M3, M4); every failure now names the file and
    the fix and exits 2.

    Raises:
        ConfigError: the file is missing or unreadable, not text, or not TOML (with its line).
    """
    import stat
    import tomllib

    try:
        # A FIFO or a device blocked or read without end (audit 130 L1): only a regular file is read.
        if not stat.S_ISREG(path.stat().st_mode):
            raise ConfigError(
                f"{what} {path}: a folder or special file, not a file; give the .toml file itself"
            )
        text, _ = decode_text(path.read_bytes())
    except FileNotFoundError:
        raise ConfigError(f"{what} {path}: no such file") from None
    except OSError as exc:
        raise ConfigError(f"{what} {path}: cannot be read ({exc.strerror or exc})") from None
    except UndecodableError as undecodable:
        raise ConfigError(f"{what} {path}: {undecodable}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as bad_toml:
        raise ConfigError(
            f"{what} {path}: not valid TOML ({bad_toml}); fix the syntax at that line"
        ) from None
