"""The characters that show nothing, which every reader of a text must look through.

A zero-width space, a joiner, a direction mark or a byte-order mark pasted inside a phone number
hid it from masking, kept a search from finding a word, and let a formula through after it in a
spreadsheet cell. Each place had its own list, and each list missed some: the left-to-right mark
and the direction embeddings an iPhone wraps a copied number in (U+202D … U+202C), the invisible
operators, the Mongolian vowel separator (audit 171 L2). This is the one list: Unicode's format
characters (category Cf) of the Basic Multilingual Plane, as :mod:`unicodedata` classes them.
"""

from __future__ import annotations

__all__ = ["INVISIBLE", "INVISIBLE_TABLE"]


def _span(first: int, last: int) -> str:
    return "".join(map(chr, range(first, last + 1)))


# Soft hyphen, Arabic letter mark, Mongolian vowel separator; zero-width space, joiners and the
# direction marks; the direction embeddings and overrides; word joiner, invisible operators and
# the direction isolates and deprecated format controls; the byte-order mark (zero-width no-break
# space); the interlinear annotation controls. The Arabic and Syriac marks that are Cf too (number
# signs U+0600 …, U+06DD, U+070F, U+0890, U+0891, U+08E2) show, and are not listed.
INVISIBLE: frozenset[str] = frozenset(
    "\u00ad\u061c\u180e"
    + _span(0x200B, 0x200F)
    + _span(0x202A, 0x202E)
    + _span(0x2060, 0x2064)
    + _span(0x2066, 0x206F)
    + "\ufeff"
    + _span(0xFFF9, 0xFFFB)
)
# For str.translate: each of them dropped.
INVISIBLE_TABLE: dict[int, None] = dict.fromkeys(map(ord, sorted(INVISIBLE)))
