"""The row format of :class:`~qc.batch.spool.VerdictSpool`: sort keys and a pickled verdict or evidence ref.

Its own module so that the workers of ``qc inspect --jobs`` (:mod:`qc.batch.chunks`) make the
rows without importing the spool and what it imports.
"""

from __future__ import annotations

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
# An evidence ref as its columns: the sort keys, then kind, finding id and weight as they are
# (a kind is a scorecard name, a finding id hex digits: never a lone surrogate). Read back,
# most keys repeat from the row before (few agents and days, a conversation's refs together),
# so the end of a run decodes few of them; a pickled row cost three times as much to read.
EvidenceRow = tuple[bytes, bytes, bytes, int, str, str, float]  # weight: int or float, kept


@dataclass(slots=True)
class SpoolRows:
    """Verdicts and evidence refs as the verdict spool stores them: sort keys and a pickled row.

    A ``--jobs`` worker makes them for its chunk, so the main process, which every chunk goes
    through, inserts ready rows instead of rebuilding objects and pickling them again.
    """

    verdicts: list[Row] = field(default_factory=list)
    evidence: list[EvidenceRow] = field(default_factory=list)

    @classmethod
    def of(cls, verdicts: Iterable[MessageVerdict], refs: Iterable[EvidenceRef]) -> SpoolRows:
        """The rows of ``verdicts`` and ``refs``."""
        dump = pickle.dumps
        protocol = pickle.HIGHEST_PROTOCOL
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
                (
                    _key(r.date),
                    _key(r.agent),
                    _key(r.conversation_id),
                    r.message_index,
                    r.kind,
                    r.finding_id,
                    r.weight,
                )
                for r in refs
            ],
        )
