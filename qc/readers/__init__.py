"""Readers: chat exports in, conversations and rejects out, nothing lost.

:func:`read_inputs` reads every file (format and encoding sniffed unless
forced), validates each record, drops exact duplicates as counted rejects and
builds time-ordered :class:`~qc.schema.Conversation` objects. Per file and in
total, ``read == accepted + rejected``; a file that cannot be read at all gets
``FileReport.error`` with the fix and the other files are still read.

Supported formats (``--input-format``): ``jsonl`` (one message or one
conversation per line; also one JSON document, an array of those objects or one
pretty-printed object, reported as ``json``), ``csv`` (comma, tab, semicolon or pipe separated; also
Excel's UTF-16 "Unicode text"), ``xlsx`` and ``text`` (千牛/旺旺 exports, see
:mod:`qc.readers.text_export`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qc.readers.assemble import build_conversations
from qc.readers.files import FileOutcome, read_file, resolve_options, stem_warnings
from qc.readers.options import FileReport, ReadOptions, ReadResult, expand_inputs
from qc.readers.records import Candidate, duplicate_reject
from qc.readers.sniff import FORMATS

__all__ = ["FORMATS", "FileReport", "ReadOptions", "ReadResult", "expand_inputs", "read_inputs"]


def read_inputs(paths: list[Path], options: ReadOptions) -> ReadResult:
    """Read a batch of transcript files into conversations, rejects and per-file counts.

    Args:
        paths: Files to read; directories are expanded to the files inside them.
        options: Forced format/encoding, day of time-only lines, zone, column map, nicks.

    Returns:
        The conversations (in order of first appearance), every reject, one report per file and warnings.

    Raises:
        ConfigError: A forced format, encoding or time zone is unknown.
    """
    files = expand_inputs(list(paths))
    resolved = resolve_options(options).with_files(files)
    result = ReadResult()
    result.warnings.extend(stem_warnings(resolved.stems))
    candidates: list[Candidate] = []
    seen: dict[tuple[Any, ...], Candidate] = {}
    for path in files:
        outcome = read_file(path, resolved)
        kept = _drop_duplicates(outcome, seen)
        result.files.append(outcome.report)
        result.warnings.extend(outcome.warnings)
        result.rejects.extend(outcome.rejects)
        candidates.extend(kept)
    build_conversations(candidates, result)
    return result


def _drop_duplicates(outcome: FileOutcome, seen: dict[tuple[Any, ...], Candidate]) -> list[Candidate]:
    """Reject exact repeats of an earlier record (same conversation, role, sender, time, text …).

    Records without a time are never duplicates of each other (a buyer may send
    the same words twice), except messages of a repeated conversation line.
    """
    kept: list[Candidate] = []
    dropped = False
    for c in outcome.candidates:
        first = seen.get(c.key) if c.key is not None else None
        if first is None:
            if c.key is not None:
                seen[c.key] = c
            kept.append(c)
            continue
        outcome.rejects.append(duplicate_reject(first, c))
        outcome.report.accepted -= 1
        outcome.report.rejected += 1
        dropped = True
    if dropped:
        outcome.rejects.sort(key=lambda r: (r.file, r.line))
    return kept
