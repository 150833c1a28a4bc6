"""Mask buyer personal data (phone numbers, order numbers, addresses) for ``--mask-pii``.

Applied to every text a report or export shows when the flag is given. Phone numbers are
mainland mobile numbers (1[3-9]x, eleven digits) written plainly, with a +86/86 prefix, or
split by spaces or dashes (138 1234 5678, 138-1234-5678). Order numbers are long digit runs.
Addresses are runs that read like a Chinese postal address: an optional province/city/district
followed by a road, street, village or compound and its house, building and room numbers.
Masks and the digit threshold live in ``lexicons/pii.toml``.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from qc.paths import lexicons_dir

__all__ = ["PiiSettings", "load_pii_settings", "mask_pii", "Masker"]

_PHONE = re.compile(r"(?<!\d)(?:(?:\+|00)?86[\s-]?)?1[3-9]\d(?:[\s-]?\d){8}(?!\d)")
# Han characters that start or join ordinary speech, never an address part (我的地址是…).
_NOT_PLACE = "的是在我你您他她址给到收寄发请帮麻烦写改成换"
_HAN = rf"(?:(?![{_NOT_PLACE}])[\u4e00-\u9fff])"
_NUM = r"[0-9０-９一二三四五六七八九十百零〇]+"
_ADDRESS = re.compile(
    rf"(?:{_HAN}{{2,7}}(?:省|自治区))?"
    rf"(?:{_HAN}{{2,7}}市)?"
    rf"(?:{_HAN}{{1,7}}(?:区|县|旗|镇|乡))?"
    rf"(?:(?:{_HAN}|[0-9]){{1,10}}(?:大道|路|街|巷|弄|村|小区|花园|公寓|大厦|广场|苑))"
    rf"(?:{_NUM}(?:号楼|号院|号|栋|幢|座|单元|层|楼|室|户))*"
    rf"|{_HAN}{{2,7}}(?:省|市){_HAN}{{1,7}}(?:区|县)"
)


@dataclass(frozen=True, slots=True)
class PiiSettings:
    """Masks and the order-number threshold (from ``lexicons/pii.toml``)."""

    order_min_digits: int
    phone_mask: str
    order_mask: str
    address_mask: str


def load_pii_settings(path: Path | None = None) -> PiiSettings:
    """Read the masking settings (the bundled ``lexicons/pii.toml`` by default)."""
    return _load(str(path or lexicons_dir() / "pii.toml"))


@lru_cache(maxsize=4)
def _load(path: str) -> PiiSettings:
    data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    return PiiSettings(
        order_min_digits=int(data["order"]["min_digits"]),
        phone_mask=str(data["phone"]["mask"]),
        order_mask=str(data["order"]["mask"]),
        address_mask=str(data["address"]["mask"]),
    )


class Masker:
    """Callable that masks one text; identity when disabled (so callers never branch)."""

    def __init__(self, enabled: bool, settings: PiiSettings | None = None) -> None:
        self.enabled = enabled
        self.settings = settings or load_pii_settings() if enabled else settings

    def __call__(self, text: str) -> str:
        """The text with personal data masked (unchanged when disabled)."""
        if not self.enabled or not text:
            return text
        return mask_pii(text, self.settings)


def mask_pii(text: str, settings: PiiSettings | None = None) -> str:
    """Replace phone numbers, order numbers and addresses in ``text`` by their masks."""
    s = settings or load_pii_settings()
    text = _PHONE.sub(s.phone_mask, text)
    text = re.sub(rf"(?<!\d)\d{{{s.order_min_digits},}}(?!\d)", s.order_mask, text)
    return _ADDRESS.sub(s.address_mask, text)
