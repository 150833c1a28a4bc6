"""The cue lexicon of the attitude features: word groups found in a reply and in the buyer's turn.

Read from a TOML file (``lexicons/attitude_cues.toml``; a trained model keeps its own copy),
so the words are configuration, not code. Each side's groups are found by one Aho-Corasick
scan of the folded text. The file also names every cue in Chinese, for explanations.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from qc.attitude.slot_cache import share
from qc.errors import ConfigError
from qc.paths import lexicons_dir
from qc.text.tokens import TEXT_CACHE_SIZE, fold

__all__ = ["CUES_FILE", "CueLexicon", "default_cues_path", "load_cues", "parse_cues"]

CUES_FILE = "attitude_cues.toml"
_SIDES = ("reply", "buyer")


def default_cues_path() -> Path:
    """The bundled cue lexicon (what ``qc train`` copies into a new model)."""
    return lexicons_dir() / CUES_FILE


@dataclass(frozen=True, eq=False)
class CueLexicon:
    """Cue groups of both sides with their labels, the buyer-turn rules and the length buckets."""

    version: str
    sha256: str
    groups: Mapping[str, Mapping[str, tuple[str, ...]]]  # side → group → words
    labels: Mapping[str, str]  # "reply.closing", "buyer.question", derived names → Chinese label
    ack_endings: tuple[str, ...]
    question_endings: tuple[str, ...]
    buyer_chars: int
    length_bounds: tuple[int, ...]
    short: int
    closing_max: int
    bare_negative_max: int
    skip_patterns: tuple[str, ...] = ()
    # Word lists of the answered-cues (``[answer]``: function_chars, yesno_asks, yesno_words, …).
    answer: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # What never explains a charge on its own (``[explain] not_reasons``): cue and state names,
    # ``length``, ``buyer`` and ``previous``.
    not_reasons: frozenset[str] = frozenset()
    _automata: dict[str, Any] = field(default_factory=dict, repr=False)
    _skip: re.Pattern[str] | None = field(default=None, repr=False)

    def skip(self, text: str) -> bool:
        """Whether an agent-side text is not a reply at all (a system notice, an emoticon code)."""
        if not self.skip_patterns:
            return False
        if self._skip is None:
            object.__setattr__(self, "_skip", re.compile("|".join(f"(?:{p})" for p in self.skip_patterns)))
        assert self._skip is not None
        return self._skip.search(text) is not None

    def group_names(self, side: str) -> tuple[str, ...]:
        """The groups of ``reply`` or ``buyer``, in file order."""
        return tuple(self.groups[side])

    def scan(self, side: str, text: str) -> frozenset[str]:
        """The groups of ``side`` whose words occur in ``text`` (folded to half width and lower case)."""
        return _scan(self, side, text)

    def scan_folded(self, side: str, folded: str) -> frozenset[str]:
        """:meth:`scan` of a text already folded, not cached (a text read once)."""
        return _scan_text(self, side, folded)

    @cached_property
    def numbers(self) -> frozenset[str]:
        """The digit runs the cue words spell (12315), folded: a feature text keeps them as they are."""
        words = [w for side in self.groups.values() for group in side.values() for w in group]
        words.extend(w for listed in self.answer.values() for w in listed)
        return frozenset(run for w in words for run in re.findall(r"\d+", fold(w)))

    def buyer_tail(self, buyer: str) -> str:
        """The end of a buyer turn the features read (its last ``buyer_chars`` characters)."""
        return buyer[-self.buyer_chars :] if self.buyer_chars else ""

    def label(self, name: str) -> str:
        """The Chinese name of a cue (``reply.closing``, ``buyer.question`` or a derived cue)."""
        return self.labels.get(name, name)

    def automaton(self, side: str) -> Any:
        """The Aho-Corasick automaton of one side, built on first use."""
        built = self._automata.get(side)
        if built is None:
            import ahocorasick

            built = ahocorasick.Automaton()
            owners: dict[str, set[str]] = {}
            for group, words in self.groups[side].items():
                for word in words:
                    owners.setdefault(fold(word), set()).add(group)
            for word, groups in owners.items():
                built.add_word(word, frozenset(groups))
            built.make_automaton()
            self._automata[side] = built
        return built

    def __reduce__(self) -> tuple[Any, ...]:
        # mypyc: a compiled frozen dataclass cannot be unpickled field by field
        return (
            type(self),
            (
                self.version,
                self.sha256,
                self.groups,
                self.labels,
                self.ack_endings,
                self.question_endings,
                self.buyer_chars,
                self.length_bounds,
                self.short,
                self.closing_max,
                self.bare_negative_max,
                self.skip_patterns,
                self.answer,
                self.not_reasons,
                self._automata,
                self._skip,
            ),
        )


@lru_cache(maxsize=TEXT_CACHE_SIZE)
def _scan_cached(lexicon: CueLexicon, side: str, text: str) -> frozenset[str]:
    return _scan_text(lexicon, side, fold(text))


def _scan_text(lexicon: CueLexicon, side: str, folded: str) -> frozenset[str]:
    found: set[str] = set()
    automaton = lexicon.automaton(side)
    if len(automaton):
        for _, groups in automaton.iter(folded):
            found.update(groups)
    return share(frozenset(found))


def _scan(lexicon: CueLexicon, side: str, text: str) -> frozenset[str]:
    return _scan_cached(lexicon, side, text)


# Names in ``[explain] not_reasons`` that stand for a whole kind of feature: every length bucket
# (alone or crossed), everything read from the buyer's turn, and the agent's previous message.
_WHOLE_BLOCKS = frozenset({"length", "buyer", "previous"})


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(w, str) and w for w in value):
        raise ConfigError(f"{where}: expected a list of non-empty strings")
    return tuple(value)


def _int(value: Any, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ConfigError(f"{where}: expected a whole number ≥ 0, got {value!r}")
    return value


def parse_cues(raw: bytes, source: str = "<cues>") -> CueLexicon:
    """Parse a cue lexicon file.

    Raises:
        ConfigError: not TOML, or a key missing or of the wrong type (named with the fix).
    """
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cue lexicon {source}: not a UTF-8 TOML file ({exc})") from None
    groups: dict[str, dict[str, tuple[str, ...]]] = {}
    labels: dict[str, str] = {}
    for side in _SIDES:
        table = data.get(side)
        if not isinstance(table, dict) or not table:
            raise ConfigError(f"cue lexicon {source}: [{side}.NAME] groups are missing")
        groups[side] = {}
        for name, group in table.items():
            where = f"cue lexicon {source}: {side}.{name}"
            if not isinstance(group, dict):
                raise ConfigError(f"{where}: expected a table with label and words")
            groups[side][name] = _strings(group.get("words"), f"{where}.words")
            labels[f"{side}.{name}"] = str(group.get("label") or name)
    derived = data.get("derived", {})
    if not isinstance(derived, dict):
        raise ConfigError(f"cue lexicon {source}: [derived] must be a table of names")
    labels.update({name: str(text) for name, text in derived.items()})
    turn = data.get("turn", {})
    length = data.get("length", {})
    where = f"cue lexicon {source}"
    skip = (
        _strings(data.get("skip", {}).get("patterns", []), f"{where}: skip.patterns")
        if "skip" in data
        else ()
    )
    for pattern in skip:
        try:
            re.compile(pattern)
        except re.error as bad_regex:
            raise ConfigError(
                f"{where}: skip.patterns: {pattern!r} is not a regular expression ({bad_regex})"
            ) from None
    answer_table = data.get("answer", {})
    if not isinstance(answer_table, dict):
        raise ConfigError(f"{where}: [answer] must be a table of word lists")
    answer = {key: _strings(value, f"{where}: answer.{key}") for key, value in answer_table.items()}
    explain = data.get("explain", {})
    if not isinstance(explain, dict):
        raise ConfigError(f"{where}: [explain] must be a table")
    not_reasons = frozenset(_strings(explain.get("not_reasons", []), f"{where}: explain.not_reasons"))
    # frozenset(labels): a frozenset minus dict keys is a plain set, which the compiled build refuses
    unknown = sorted(not_reasons - frozenset(labels) - _WHOLE_BLOCKS)
    if unknown:
        raise ConfigError(
            f"{where}: explain.not_reasons: {', '.join(unknown)} names no cue, state or block; use a"
            f" name of [reply.NAME], [buyer.NAME] or [derived], or one of {', '.join(sorted(_WHOLE_BLOCKS))}"
        )
    bounds = tuple(_int(b, f"{where}: length.bounds") for b in length.get("bounds", []))
    if not bounds or list(bounds) != sorted(set(bounds)):
        raise ConfigError(f"{where}: length.bounds must be increasing whole numbers, e.g. [0, 2, 6, 15, 40]")
    return CueLexicon(
        version=str(data.get("version", "")),
        sha256=hashlib.sha256(raw).hexdigest(),
        groups=groups,
        labels=labels,
        ack_endings=_strings(turn.get("ack_endings", []), f"{where}: turn.ack_endings"),
        question_endings=_strings(turn.get("question_endings", []), f"{where}: turn.question_endings"),
        buyer_chars=_int(turn.get("buyer_chars", 80), f"{where}: turn.buyer_chars"),
        length_bounds=bounds,
        short=_int(length.get("short", 2), f"{where}: length.short"),
        closing_max=_int(length.get("closing_max", 25), f"{where}: length.closing_max"),
        bare_negative_max=_int(length.get("bare_negative_max", 4), f"{where}: length.bare_negative_max"),
        skip_patterns=skip,
        answer=answer,
        not_reasons=not_reasons,
    )


def load_cues(path: Path | None = None) -> CueLexicon:
    """Read and parse a cue lexicon (the bundled one when ``path`` is None), once per file content.

    Raises:
        ConfigError: missing or invalid file.
    """
    path = path or default_cues_path()
    try:
        raw = path.read_bytes()
    except OSError:
        raise ConfigError(
            f"cue lexicon {path}: no such file (the model folder needs its cues.toml)"
        ) from None
    return _parse_cached(raw, str(path))


@lru_cache(maxsize=4)
def _parse_cached(raw: bytes, source: str) -> CueLexicon:
    return parse_cues(raw, source)
