"""Annotated samples: reading, validating and splitting the files ``qc train`` and ``qc evaluate`` use.

A sample is an agent message with the messages before it and its label (see
``annotated_samples/README.md``). Splits are by a hash of the id, never by hand.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from qc.attitude.decision import LABELS
from qc.errors import EXIT_USAGE, QcError
from qc.readers.encoding import UndecodableError, decode_text
from qc.readers.records import text_problem
from qc.text.pii import shown_value

EVAL_BUCKETS = 3  # ids whose hash % 10 falls below this are held out (3 → 30 %)
GENERATED_PREFIX = "generated"


class SampleError(QcError):
    """An annotated-samples file is unreadable or has a bad line (names file and line)."""

    exit_code = EXIT_USAGE


@dataclass(frozen=True, slots=True)
class Sample:
    """One labelled agent message with the turns before it.

    ``forbidden`` is ``None`` when the sample does not say which lexicon phrases it uses
    in the forbidden sense, and a tuple (maybe empty) when it does. ``generated`` marks
    samples from generated files: training only.
    """

    id: str
    text: str
    context: tuple[tuple[str, str], ...]
    label: str
    forbidden: tuple[str, ...] | None = None
    generated: bool = False
    source: str = ""

    @property
    def input(self) -> tuple[str, tuple[tuple[str, str], ...]]:
        """The classifier input: ``(message, context)``."""
        return (self.text, self.context)


def split_bucket(sample_id: str) -> int:
    """The 0–9 bucket of an id: ``int(sha256(id)[:8], 16) % 10``."""
    return int(hashlib.sha256(sample_id.encode("utf-8")).hexdigest()[:8], 16) % 10


def is_evaluation(sample: Sample) -> bool:
    """True for held-out samples: hand-written and in buckets 0–2 of the id hash."""
    return not sample.generated and split_bucket(sample.id) < EVAL_BUCKETS


def sample_files(path: Path) -> list[Path]:
    """The ``*.jsonl`` files of a folder (sorted), or the file itself."""
    if path.is_dir():
        files = sorted(p for p in path.glob("*.jsonl") if p.is_file())
        if not files:
            raise SampleError(f"{path}: no *.jsonl sample files in this folder")
        return files
    if not path.exists():
        raise SampleError(f"{path}: no such file or folder")
    return [path]


def load_samples(path: Path) -> list[Sample]:
    """Read every sample of a file or folder, in file then line order.

    Raises:
        SampleError: naming file and line of the first bad line, with what is wrong.
    """
    samples: list[Sample] = []
    seen: dict[str, str] = {}
    for file in sample_files(path):
        generated = file.name.startswith(GENERATED_PREFIX)
        for number, line in enumerate(read_lines(file, SampleError), start=1):
            if not line.strip():
                continue
            where = f"{file}:{number}"
            sample = _parse_sample(line, where, generated)
            if sample.id in seen:
                # Two exports of one store repeat every decision (audit 152 M3).
                cumulative = (
                    "; qc feedback export writes every decision the store holds: keep only its latest file"
                    if sample.id.startswith("review-") and not seen[sample.id].startswith(f"{file}:")
                    else ""
                )
                raise SampleError(
                    f"{where}: id {shown_value(sample.id)!r} already used at {seen[sample.id]};"
                    f" ids must be unique{cumulative}"
                )
            seen[sample.id] = where
            samples.append(sample)
    return samples


def read_lines(path: Path, error: type[QcError]) -> list[str]:
    """The lines of a file a person may have saved from a spreadsheet or Notepad: a BOM, GBK too.

    Raises:
        ``error``: the file cannot be read or decoded (it names the file).
    """
    try:
        return decode_text(path.read_bytes())[0].splitlines()
    except OSError as exc:
        raise error(f"{path}: cannot read ({exc.strerror or exc})") from None
    except UndecodableError as exc:
        raise error(f"{path}: {exc}") from None


def _parse_sample(line: str, where: str, generated: bool) -> Sample:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise SampleError(f"{where}: not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(data, dict):
        raise SampleError(f"{where}: a sample is a JSON object with id, context, text, label")
    if "conversation_id" in data and "index" in data and "text" not in data:
        raise SampleError(
            f"{where}: a real label by id, not a sample: give its folder (--data annotated_samples/real),"
            " whose texts are read from the real chats"
        )
    for key in ("id", "text", "label"):
        if not isinstance(data.get(key), str) or not data[key]:
            raise SampleError(f"{where}: {key!r} must be a non-empty string")
    if data["label"] not in LABELS:
        raise SampleError(
            f"{where}: label {shown_value(str(data['label']))!r} is not one of {', '.join(LABELS)}"
        )
    context = data.get("context", [])
    if not isinstance(context, list):
        raise SampleError(f"{where}: 'context' must be a list of {{role, text}} objects")
    turns: list[tuple[str, str]] = []
    for i, turn in enumerate(context):
        if (
            not isinstance(turn, dict)
            or turn.get("role") not in ("customer", "agent")
            or not isinstance(turn.get("text"), str)
        ):
            raise SampleError(f"{where}: context[{i}] needs role 'customer' or 'agent' and a text")
        turns.append((turn["role"], turn["text"]))
    for name, text in (
        ("text", data["text"]),
        *((f"context[{i}].text", t) for i, (_, t) in enumerate(turns)),
    ):
        if (problem := text_problem(name, text)) is not None:
            raise SampleError(f"{where}: {problem}")
    forbidden = data.get("forbidden")
    if forbidden is not None and (
        not isinstance(forbidden, list) or not all(isinstance(p, str) for p in forbidden)
    ):
        raise SampleError(f"{where}: 'forbidden' must be a list of phrases")
    return Sample(
        id=data["id"],
        text=data["text"],
        context=tuple(turns),
        label=data["label"],
        forbidden=tuple(forbidden) if forbidden is not None else None,
        generated=generated or data.get("source") == "generated",
        source=where,
    )


def split_samples(samples: Iterable[Sample]) -> tuple[list[Sample], list[Sample]]:
    """Split into (training, evaluation) by :func:`is_evaluation`, each sorted by id."""
    train: list[Sample] = []
    held: list[Sample] = []
    for s in samples:
        (held if is_evaluation(s) else train).append(s)
    return sorted(train, key=by_id), sorted(held, key=by_id)


def by_id(sample: Sample) -> str:
    """Sort key of samples: their id."""
    return sample.id


def samples_sha256(samples: Sequence[Sample]) -> str:
    """SHA-256 of the samples' content in id order: what the model was trained on."""
    digest = hashlib.sha256()
    for s in sorted(samples, key=by_id):
        record = {"id": s.id, "context": s.context, "text": s.text, "label": s.label}
        digest.update(json.dumps(record, ensure_ascii=False, sort_keys=True).encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()
