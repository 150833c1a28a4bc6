"""Hashed n-gram columns for many texts at once, in NumPy: the compiled part of the feature pass.

Every n-gram (a span of a text, characters or words) is hashed by a polynomial over its code
points modulo 2**64, read from one prefix sum of the batch, then mixed (splitmix64's
finaliser) with a salt per block and n-gram size and masked to the block's width. All of it is
whole-array arithmetic: no Python loop per n-gram. Within a text, counts become
``log(1 + count)`` and the block is L2-normalised. Every value of a text depends on that text
alone and is summed in a fixed order, so it is bitwise the same in any batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["Columns", "SpanBatch", "block_columns", "hash_columns", "mix", "ngram_spans", "ragged_take"]

U64 = np.uint64
_P = U64(0x100000001B3)  # FNV-1a's 64-bit prime: odd, so invertible modulo 2**64
_P_INV = U64(pow(0x100000001B3, -1, 1 << 64))
_MIX1 = U64(0xBF58476D1CE4E5B9)
_MIX2 = U64(0x94D049BB133111EB)

Array = npt.NDArray[np.generic]


class _Powers:
    """P**i and P**-i modulo 2**64 for i up to the longest batch seen (grown on demand)."""

    def __init__(self) -> None:
        self.up = np.ones(1, dtype=U64)
        self.down = np.ones(1, dtype=U64)

    def ensure(self, n: int) -> None:
        have = len(self.up)
        if n <= have:
            return
        size = max(n, 2 * have)
        # cumprod wraps modulo 2**64 like the sums: P**1 … P**(size-1) in one pass.
        self.up = np.concatenate(([U64(1)], np.cumprod(np.full(size - 1, _P, dtype=U64))))
        self.down = np.concatenate(([U64(1)], np.cumprod(np.full(size - 1, _P_INV, dtype=U64))))


_POWERS = _Powers()


def mix(values: npt.NDArray[np.uint64], salt: int | npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """splitmix64's finaliser of ``values ^ salt`` (one salt, or one per value): well-spread hashes."""
    with np.errstate(over="ignore"):
        x = values ^ (U64(salt & 0xFFFFFFFFFFFFFFFF) if isinstance(salt, int) else salt)
        x = x ^ (x >> U64(30))
        x = x * _MIX1
        x = x ^ (x >> U64(27))
        x = x * _MIX2
        return x ^ (x >> U64(31))


@dataclass(frozen=True, slots=True)
class SpanBatch:
    """Texts joined for hashing: code points, where each text starts, and the prefix sums."""

    starts: npt.NDArray[np.int64]  # start of each text in the joined code points
    lengths: npt.NDArray[np.int64]
    prefix: npt.NDArray[np.uint64]  # prefix[i] = sum_{j<i} code[j] * P**j (mod 2**64)

    @classmethod
    def of(cls, texts: Sequence[str]) -> SpanBatch:
        """Join ``texts`` (code point by code point; lone surrogates kept) and sum their hashes."""
        lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
        starts = np.zeros(len(texts), dtype=np.int64)
        if len(texts) > 1:
            np.cumsum(lengths[:-1], out=starts[1:])
        joined = "".join(texts).encode("utf-32-le", "surrogatepass")
        codes = np.frombuffer(joined, dtype=np.uint32).astype(U64) + U64(1)
        _POWERS.ensure(len(codes) + 1)
        prefix = np.zeros(len(codes) + 1, dtype=U64)
        with np.errstate(over="ignore"):
            np.cumsum(codes * _POWERS.up[: len(codes)], out=prefix[1:])
        return cls(starts, lengths, prefix)

    def hash_spans(self, begin: npt.NDArray[np.int64], end: npt.NDArray[np.int64]) -> npt.NDArray[np.uint64]:
        """Polynomial hashes of the joined spans ``[begin, end)`` (independent of where the text sits)."""
        with np.errstate(over="ignore"):
            return (self.prefix[end] - self.prefix[begin]) * _POWERS.down[begin]

    def __reduce__(self) -> tuple[Any, ...]:
        # mypyc: a compiled frozen dataclass cannot be unpickled field by field
        return (type(self), (self.starts, self.lengths, self.prefix))


def ngram_spans(
    batch: SpanBatch, low: int, high: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """``(text, begin, end)`` of every character n-gram of size ``low`` … ``high`` of every text."""
    total = int(batch.lengths.sum())
    owner = np.repeat(np.arange(len(batch.lengths), dtype=np.int64), batch.lengths)
    local = np.arange(total, dtype=np.int64) - np.repeat(batch.starts, batch.lengths)
    texts, begins, ends = [], [], []
    for size in range(low, high + 1):
        ok = local + size <= batch.lengths[owner]
        begin = np.nonzero(ok)[0]
        texts.append(owner[ok])
        begins.append(begin)
        ends.append(begin + size)
    if not texts:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    return np.concatenate(texts), np.concatenate(begins), np.concatenate(ends)


@dataclass(frozen=True, slots=True)
class Columns:
    """A sparse block of many texts: ``(text, column, value)`` triples, each text's columns sorted."""

    texts: npt.NDArray[np.int64]
    columns: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]

    @staticmethod
    def concat(parts: Sequence[Columns]) -> Columns:
        """Several blocks of the same texts as one (for training matrices)."""
        return Columns(
            np.concatenate([p.texts for p in parts]),
            np.concatenate([p.columns for p in parts]),
            np.concatenate([p.values for p in parts]),
        )

    def __reduce__(self) -> tuple[Any, ...]:
        # mypyc: a compiled frozen dataclass cannot be unpickled field by field
        return (type(self), (self.texts, self.columns, self.values))


def hash_columns(hashes: npt.NDArray[np.uint64], offset: int, bits: int) -> npt.NDArray[np.int64]:
    """The column of each hash in a block of ``2**bits`` columns starting at ``offset``."""
    return (hashes & U64((1 << bits) - 1)).astype(np.int64) + offset


def block_columns(
    owners: npt.NDArray[np.int64],
    hashes: npt.NDArray[np.uint64],
    n_texts: int,
    offset: int,
    bits: int,
    weight: float,
) -> Columns:
    """Counted, log-scaled, L2-normalised columns ``offset + (hash & mask)`` of each text."""
    columns = hash_columns(hashes, offset, bits)
    keys = owners * (offset + (1 << bits)) + columns
    unique, counts = np.unique(keys, return_counts=True)
    texts = unique // (offset + (1 << bits))
    cols = unique - texts * (offset + (1 << bits))
    values = np.log1p(counts.astype(np.float64))
    norms = np.sqrt(np.bincount(texts, weights=values * values, minlength=n_texts))
    with np.errstate(divide="ignore", invalid="ignore"):
        values = values * (weight / norms[texts])
    return Columns(texts, cols, values)


def ragged_take(starts: npt.NDArray[np.int64], sizes: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """The indices ``starts[0] … starts[0]+sizes[0]-1, starts[1] …`` of many ranges, in one array."""
    total = int(sizes.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    firsts = np.cumsum(sizes) - sizes
    return np.arange(total, dtype=np.int64) - np.repeat(firsts - starts, sizes)
