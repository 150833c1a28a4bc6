"""Real agent messages labelled by id: the labels in the repository, the texts beside it.

``annotated_samples/real/labels.jsonl`` points at messages of the real chats in
``../shared/realchats/real_conversations.jsonl`` (beside the project; never copied into it) by
conversation id and message index. This module joins the two at run time into
:class:`~qc.training.samples.Sample` objects whose context is exactly what ``qc inspect``
gives the attitude rule for that message (:func:`qc.attitude.rule.agent_turns`), and splits
them by conversation: train, dev (thresholds) and test (never read by training or tuning).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from qc.attitude.cues import load_cues
from qc.attitude.decision import LABELS
from qc.attitude.rule import agent_turns
from qc.errors import EXIT_USAGE, QcError
from qc.paths import data_root, samples_dir
from qc.schema import Conversation, Message, Role
from qc.text.pii import shown_value
from qc.training.samples import Sample, read_lines

__all__ = [
    "REAL_SPLITS",
    "RealChatsMissing",
    "RealLabel",
    "RealLabelError",
    "default_labels_dir",
    "default_realchats",
    "load_real_labels",
    "read_real_conversations",
    "real_samples",
    "real_split",
]

REAL_SPLITS = ("train", "dev", "test")
LABELS_FILE = "labels.jsonl"
REALCHATS_ENV = "QC_REALCHATS"
REALCHATS_FILE = "real_conversations.jsonl"
WHERE_FROM = (
    "the real chats are not in the repository: they are the research corpora described in"
    " ../shared/realchats/README.md (JDDC 2019, JDMDC 2020, ECD, NTCIR-14 STC-3), kept beside the"
    f" project; point {REALCHATS_ENV} or --realchats at real_conversations.jsonl"
)


class RealLabelError(QcError):
    """A real-label file is unreadable or does not fit the real chats (file and line named)."""

    exit_code = EXIT_USAGE


class RealChatsMissing(QcError):
    """The real chats the labels point at are not beside the project."""

    exit_code = EXIT_USAGE


def default_labels_dir() -> Path:
    """``annotated_samples/real``."""
    return samples_dir() / "real"


def default_realchats() -> Path:
    """``$QC_REALCHATS``, else ``../shared/realchats/real_conversations.jsonl`` beside the project."""
    env = os.environ.get(REALCHATS_ENV)
    if env:
        return Path(env)
    return data_root().parent / "shared" / "realchats" / REALCHATS_FILE


def real_split(conversation_id: str) -> str:
    """``train`` (buckets 0-4), ``dev`` (5-6) or ``test`` (7-9) of ``sha256(conversation_id)[:8] % 10``."""
    bucket = int(hashlib.sha256(conversation_id.encode("utf-8")).hexdigest()[:8], 16) % 10
    return "train" if bucket < 5 else "dev" if bucket < 7 else "test"


@dataclass(frozen=True, slots=True)
class RealLabel:
    """One label line: which message, its label, why, which annotation pass decided it."""

    conversation_id: str
    index: int
    label: str
    reason: str
    decided_by: int
    where: str = ""  # the label's file and line, for messages

    @property
    def split(self) -> str:
        """The message's split, by its conversation."""
        return real_split(self.conversation_id)


def load_real_labels(directory: Path | None = None) -> list[RealLabel]:
    """Every label of ``labels.jsonl`` in a folder (``annotated_samples/real`` by default).

    Raises:
        RealLabelError: unreadable file or a bad line (file and line named).
    """
    path = (directory or default_labels_dir()) / LABELS_FILE
    if not path.is_file():
        raise RealLabelError(f"{path}: no such file (real labels are `annotated_samples/real/{LABELS_FILE}`)")
    # As the samples: a BOM or a GBK file saved by a spreadsheet is read, not a bug (audit 152 H1).
    lines = read_lines(path, RealLabelError)
    out: list[RealLabel] = []
    seen: dict[tuple[str, int], str] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            if not isinstance(data, dict):
                raise TypeError("a label line is one JSON object")
            for key in ("index", "pass"):
                # "1" or true read as a number would pass for a label of another message
                if type(data[key]) is not int:
                    raise TypeError(f"{key} must be a whole number, got {shown_value(str(data[key]))!r}")
            label = RealLabel(
                str(data["conversation_id"]),
                data["index"],
                str(data["label"]),
                str(data["reason"]),
                data["pass"],
                f"{path}:{number}",
            )
        except (ValueError, KeyError, TypeError) as exc:
            what = f"no {exc}" if isinstance(exc, KeyError) else str(exc)
            raise RealLabelError(
                f"{path}:{number}: not a label line ({what}); each line is one JSON object with"
                " conversation_id, index, label, reason and pass"
            ) from None
        if label.label not in LABELS:
            shown = shown_value(label.label)
            raise RealLabelError(f"{path}:{number}: label {shown!r} is not one of {', '.join(LABELS)}")
        message = (label.conversation_id, label.index)
        if message in seen:
            # The later line silently won: the truth depended on the file's order (audit 152 M5).
            raise RealLabelError(
                f"{path}:{number}: message {shown_value(label.conversation_id)}#{label.index} is already"
                f" labelled at line {seen[message]}; keep one label per message"
            )
        seen[message] = str(number)
        out.append(label)
    return out


def read_real_conversations(path: Path | None = None) -> Iterator[Conversation]:
    """The real chats as conversations (roles as given; agents named ``agent``), in file order.

    Raises:
        RealChatsMissing: the file is not there (the message says where the corpora come from).
    """
    path = path or default_realchats()
    if path.is_dir():  # the corpus folder (../shared/realchats) names its file
        path = path / REALCHATS_FILE
    if not path.is_file():
        raise RealChatsMissing(f"{path}: no such file; {WHERE_FROM}")
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            try:
                # A byte-order mark, as Notepad saves one, is no error of the file: every reader skips it.
                data = json.loads(raw.decode("utf-8-sig" if number == 1 else "utf-8"))
                messages = tuple(
                    Message(
                        i,
                        Role(m["role"]),
                        str(m["text"]),
                        sender="agent" if m["role"] == "agent" else "buyer",
                    )
                    for i, m in enumerate(data["messages"])
                )
                conversation_id = str(data["conversation_id"])
            except (ValueError, KeyError, TypeError) as exc:
                # A truncated copy, another file given for it: named, never an internal error. The
                # line itself is a buyer's chat: only what is wrong with it is said.
                what = (
                    f"{type(exc).__name__}: {exc}" if not isinstance(exc, ValueError) else type(exc).__name__
                )
                raise RealChatsMissing(
                    f"{path}:{number}: not a line of the real chats ({what}: each line is one JSON"
                    " conversation with conversation_id and messages of role and text); point"
                    f" {REALCHATS_ENV} or --realchats at ../shared/realchats/{REALCHATS_FILE}"
                ) from None
            yield Conversation(
                conversation_id, messages, shop=data.get("source"), source=f"{path.name}:{number}"
            )


def real_samples(
    labels: Iterable[RealLabel],
    conversations: Iterable[Conversation],
    splits: Iterable[str] = REAL_SPLITS,
    skip: Callable[[str], bool] | None = None,
) -> list[Sample]:
    """The labelled messages of ``splits`` as samples, with the context ``qc inspect`` gives them.

    ``skip`` says which agent-side texts are not replies (a model's cue lexicon; the bundled
    one by default). A label pointing at a message the attitude rule does not judge, or at no
    message, is an error: the labels and the chats must belong together.
    """
    wanted = set(splits)
    by_conversation: dict[str, dict[int, RealLabel]] = {}
    for label in labels:
        if label.split in wanted:
            by_conversation.setdefault(label.conversation_id, {})[label.index] = label
    skip = skip or load_cues().skip
    out: list[Sample] = []
    for conversation in conversations:
        mine = by_conversation.pop(conversation.id, None)
        if not mine:
            continue
        for message, context in agent_turns(conversation.messages, skip):
            if message.index in mine:
                label = mine.pop(message.index)
                out.append(
                    Sample(
                        id=f"{conversation.id}#{message.index}",
                        text=message.text,
                        context=context,
                        label=label.label,
                        source=f"real:{label.split}",
                    )
                )
        if mine:
            label = mine[min(mine)]
            raise RealLabelError(
                f"{label.where}: real label {conversation.id}#{label.index} points at no judged agent"
                " message; labels and chats differ"
            )
    if by_conversation:
        missing, labelled = next(iter(by_conversation.items()))
        where = next(iter(labelled.values())).where
        raise RealLabelError(
            f"{where}: real label conversation {missing} is not in the real chats; labels and chats differ"
        )
    return out
