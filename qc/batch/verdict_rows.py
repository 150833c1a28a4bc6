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

__all__ = ["Row", "SpoolRows"]


def _key(text: str) -> bytes:
    # UTF-8 bytes compare as the code points do, so SQLite's byte order is Python's str order;
    # surrogatepass keeps a lone surrogate (possible from a JSON escape) in its place too.
    return text.encode("utf-8", "surrogatepass")


Row = tuple[bytes, bytes, bytes, int, bytes]


@dataclass(slots=True)
class SpoolRows:
    """Verdicts and evidence refs as the verdict spool stores them: sort keys and a pickled row.

    A ``--jobs`` worker makes them for its chunk, so the main process, which every chunk goes
    through, inserts ready rows instead of rebuilding objects and pickling them again.
    """

    verdicts: list[Row] = field(default_factory=list)
    evidence: list[Row] = field(default_factory=list)

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
                    dump(
                        (r.agent, r.date, r.kind, r.finding_id, r.conversation_id, r.message_index, r.weight),
                        protocol=protocol,
                    ),
                )
                for r in refs
            ],
        )
