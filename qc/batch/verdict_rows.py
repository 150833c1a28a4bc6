"""The rows of :class:`~qc.batch.spool.VerdictSpool`: sort keys, a pickled verdict or a conversation's refs.

Its own module so that the workers of ``qc inspect --jobs`` (:mod:`qc.batch.chunks`) make the
rows without importing the spool and what it imports.
"""

from __future__ import annotations

import marshal
import pickle
from collections.abc import Iterable
from dataclasses import dataclass, field

from qc.scoring.card import MessageVerdict
from qc.scoring.scores import EvidenceRef

__all__ = ["EvidenceRow", "Row", "SpoolRows", "key_text"]


def key_text(key: bytes) -> str:
    """The text of a sort key made by :func:`_key` (a lone surrogate comes back as it went in)."""
    return key.decode("utf-8", "surrogatepass")


def _key(text: str) -> bytes:
    # UTF-8 bytes compare as the code points do, so SQLite's byte order is Python's str order;
    # surrogatepass keeps a lone surrogate (possible from a JSON escape) in its place too.
    return text.encode("utf-8", "surrogatepass")


Row = tuple[bytes, bytes, bytes, int, bytes]
# The evidence refs of one (day, agent, conversation): the sort keys, then the refs' own
# (message index, kind, finding id, weight) in one marshalled tuple. A conversation's refs are
# read back as one row (two fifths as many rows as refs on a real-text day), and the keys of a row
# are decoded once: the end of a run, which reads every ref back alone, took half the time.
EvidenceRow = tuple[bytes, bytes, bytes, bytes]


@dataclass(slots=True)
class SpoolRows:
    """Verdicts and evidence refs as the verdict spool stores them: sort keys and a pickled row.

    A ``--jobs`` worker makes them for its chunk, so the main process, which every chunk goes
    through, inserts ready rows instead of rebuilding objects and pickling them again.
    """

    verdicts: list[Row] = field(default_factory=list)
    evidence: list[EvidenceRow] = field(default_factory=list)
    refs: int = 0  # evidence refs in ``evidence``

    @classmethod
    def of(cls, verdicts: Iterable[MessageVerdict], refs: Iterable[EvidenceRef]) -> SpoolRows:
        """The rows of ``verdicts`` and ``refs``."""
        dump = pickle.dumps
        protocol = pickle.HIGHEST_PROTOCOL
        groups: dict[tuple[str, str, str], list[tuple[int, str, str, float]]] = {}
        for r in refs:
            groups.setdefault((r.date, r.agent, r.conversation_id), []).append(
                (r.message_index, r.kind, r.finding_id, r.weight)
            )
        return cls(
            [
                (
                    _key(v.date),
                    _key(v.agent),
                    _key(v.conversation_id),
                    v.message_index,
                    dump(
                        (v.conversation_id, v.message_index, v.agent, v.date)
                        + (v.verdict, v.verdict_findings, dict(v.kinds)),
                        protocol=protocol,
                    ),
                )
                for v in verdicts
            ],
            [
                (_key(day), _key(agent), _key(cid), marshal.dumps(tuple(items)))
                for (day, agent, cid), items in groups.items()
            ],
            sum(len(items) for items in groups.values()),
        )
