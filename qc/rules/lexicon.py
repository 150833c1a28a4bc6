"""Forbidden-phrase lexicons: load and validate TOML files, match phrases on characters.

A lexicon file (see ``lexicons/README.md``) holds entries with stable ids,
their phrases, the scope a phrase counts in (the whole reply, anywhere, or in
strict shops only), context conditions, and hit/miss examples; an allowlist
of phrases that contain a forbidden string but are not forbidden (不好意思,
不客气, 看不清楚); and the cue word lists and windows the context rules use.

Matching runs on folded characters (:func:`qc.text.tokens.fold`) with an
Aho-Corasick automaton, so offsets point into the original text; the context
rules in :mod:`qc.rules.forbidden_phrase` then judge each candidate.
"""

from __future__ import annotations

import hashlib
import re
import stat
import tomllib
import unicodedata
from bisect import bisect_left
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from qc.errors import ConfigError
from qc.paths import lexicons_dir
from qc.text.tokens import char_class, fold

__all__ = [
    "SCOPES",
    "IMPLIES",
    "TURN_KINDS",
    "Example",
    "Entry",
    "AllowGroup",
    "ContextSettings",
    "Lexicon",
    "Candidate",
    "CueIndex",
    "LexiconProblem",
    "TransferSettings",
    "default_lexicon_path",
    "load_lexicon",
    "parse_lexicon",
    "strip_decoration",
]

SCOPES = ("bare", "anywhere")
IMPLIES = ("impatience", "conflict")
# What the buyer's last turn was, as the context rules read it.
TURN_KINDS = ("question", "yes_no", "wh", "problem", "presence", "thanks", "ack", "data", "statement", "none")
_ID_RE = re.compile(r"^FP-\d{4}$")
_CUE_LISTS = (
    "question_marks",
    "question_final",
    "yes_no",
    "wh",
    "problem",
    "presence",
    "greeting",
    "thanks",
    "ack",
    "data_markers",
    "help_offer",
    "explanation",
    "apology",
    "alternative",
    "unknowable",
)


class LexiconProblem(ConfigError):
    """A lexicon file is invalid; ``problems`` lists every message (entry id and line)."""

    def __init__(self, path: str, problems: Sequence[str]) -> None:
        self.path = path
        self.problems = tuple(problems)
        listed = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"{path}: invalid lexicon ({len(self.problems)} problem(s)):\n{listed}")

    def __reduce__(self) -> tuple[type[LexiconProblem], tuple[str, tuple[str, ...]]]:
        # A worker that cannot load the lexicon sends this to the main process pickled; the
        # default would call __init__ with the message alone, and the pool's result thread died.
        return (type(self), (self.path, self.problems))


@dataclass(frozen=True, slots=True)
class Example:
    """One hit or miss example of an entry: the agent text and what the buyer said before."""

    text: str
    context: tuple[str, ...] = ()
    strict: bool = False

    def __reduce__(self) -> tuple[Any, ...]:
        # mypyc: a compiled frozen dataclass cannot be unpickled field by field
        return (type(self), (self.text, self.context, self.strict))


@dataclass(frozen=True, slots=True)
class Entry:
    """One lexicon entry: phrases that mean the same forbidden thing, with their conditions."""

    id: str
    title: str
    phrases: tuple[str, ...]
    scope: str = "anywhere"
    implies: str | None = None
    strict_only: bool = False
    live_after: tuple[str, ...] = ()
    quiet_after: tuple[str, ...] = ()
    token_boundary: bool = False
    unless: tuple[str, ...] = ()
    unless_buyer: tuple[str, ...] = ()
    max_len: int | None = None
    extend_to_token: bool = False
    not_in_question: bool = False
    hits: tuple[Example, ...] = ()
    misses: tuple[Example, ...] = ()
    line: int = 0

    def __reduce__(self) -> tuple[Any, ...]:
        # mypyc: a compiled frozen dataclass cannot be unpickled field by field
        return (
            type(self),
            (
                self.id,
                self.title,
                self.phrases,
                self.scope,
                self.implies,
                self.strict_only,
                self.live_after,
                self.quiet_after,
                self.token_boundary,
                self.unless,
                self.unless_buyer,
                self.max_len,
                self.extend_to_token,
                self.not_in_question,
                self.hits,
                self.misses,
                self.line,
            ),
        )


@dataclass(frozen=True, slots=True)
class AllowGroup:
    """Phrases that contain a forbidden string but are fine (an apology, a reassurance)."""

    reason: str
    phrases: tuple[str, ...]

    def __reduce__(self) -> tuple[Any, ...]:
        # mypyc: a compiled frozen dataclass cannot be unpickled field by field
        return (type(self), (self.reason, self.phrases))


@dataclass(frozen=True, slots=True)
class ContextSettings:
    """Windows of the context rules; every number lives in the lexicon file."""

    lookback: int = 6
    turn_messages: int = 3
    continuation: int = 1
    no_context: str = "live"
    data_min_digits: int = 5
    ack_max_chars: int = 6
    closing_ack_max_chars: int = 4
    continuation_seconds: int = 60

    def __reduce__(self) -> tuple[Any, ...]:
        # mypyc: a compiled frozen dataclass cannot be unpickled field by field
        return (
            type(self),
            (
                self.lookback,
                self.turn_messages,
                self.continuation,
                self.no_context,
                self.data_min_digits,
                self.ack_max_chars,
                self.closing_ack_max_chars,
                self.continuation_seconds,
            ),
        )


@dataclass(frozen=True, slots=True)
class TransferSettings:
    """The ``[transfer]`` table: how a transfer shows, and what a hand-over says.

    ``notices`` are words of the platform's transfer notice (会话已转接至…); ``handover`` are
    words an agent's hand-over message holds (帮您转接, 售后同事); ``lookback`` is how many of
    the transferring agent's last messages before the notice may hold it.
    """

    notices: tuple[str, ...]
    handover: tuple[str, ...]
    lookback: int
    # Words of a notice that says the transfer did not happen (转接失败).
    failed: tuple[str, ...] = ()

    def __reduce__(self) -> tuple[Any, ...]:
        # mypyc: a compiled frozen dataclass cannot be unpickled field by field
        return (type(self), (self.notices, self.handover, self.lookback, self.failed))


# The whole-number keys of [context], and their bound: a window or a count, never a huge
# number (one goes into a regex: \d{N,}).
_CONTEXT_NUMBERS = (
    "lookback",
    "turn_messages",
    "continuation",
    "data_min_digits",
    "ack_max_chars",
    "closing_ack_max_chars",
    "continuation_seconds",
)
_CONTEXT_MAX = 1000
# Keys of [context] below which the window means nothing: no message looked back at, no buyer
# message in a turn (0 read as 1), a \d{0,} that finds "data" in every text.
_CONTEXT_LEAST = {"lookback": 1, "turn_messages": 1, "data_min_digits": 1}


@dataclass(frozen=True, slots=True)
class Candidate:
    """A raw match: entry (or allow group), character span in the original text."""

    start: int
    end: int
    entry: Entry | None
    allow: AllowGroup | None = None

    def __reduce__(self) -> tuple[Any, ...]:
        # mypyc: a compiled frozen dataclass cannot be unpickled field by field
        return (type(self), (self.start, self.end, self.entry, self.allow))


_DELETE_CATEGORIES = ("P", "S", "Z", "C")
_STRIP_TABLE: dict[int, None] | None = None
_STRIPPED: re.Pattern[str] | None = None
_EMOTICON_RE = re.compile(r"\[[^\[\]\s]{1,8}\]|/:[^\s/]{1,6}")
_ASTRAL_SYMBOL_RE = re.compile("[\U0001f000-\U0001faff\U00002600-\U000027bf\ufe0f\u200d]")


def _strip_table() -> dict[int, None]:
    global _STRIP_TABLE
    if _STRIP_TABLE is None:
        _STRIP_TABLE = {
            c: None for c in range(0x10000) if unicodedata.category(chr(c))[0] in _DELETE_CATEGORIES
        }
    return _STRIP_TABLE


def strip_decoration(text: str) -> str:
    """Text without punctuation, symbols, emoji, emoticon codes (``[微笑]``) and whitespace.

    What remains is what a bare-reply check compares against a phrase.
    """
    if "[" in text or "/:" in text:
        text = _EMOTICON_RE.sub("", text)
    text = _ASTRAL_SYMBOL_RE.sub("", text)
    return _stripped().sub("", text)  # as text.translate(_strip_table()), in half the time


def _stripped() -> re.Pattern[str]:
    global _STRIPPED
    if _STRIPPED is None:
        _STRIPPED = char_class(_strip_table(), repeat=True)
    return _STRIPPED


@dataclass(frozen=True)
class Lexicon:
    """A validated lexicon with its matcher; build with :func:`load_lexicon` or :func:`parse_lexicon`."""

    path: str
    version: str
    sha256: str
    entries: tuple[Entry, ...]
    allow: tuple[AllowGroup, ...]
    context: ContextSettings
    cues: Mapping[str, tuple[str, ...]]
    # None: the lexicon has no [transfer] table, and transfers are not checked.
    transfer: TransferSettings | None = None
    _bare: dict[str, Entry] = field(repr=False, default_factory=dict)
    _automaton: Any = field(repr=False, default=None)
    _cue_res: dict[str, re.Pattern[str]] = field(repr=False, default_factory=dict)

    @property
    def label(self) -> str:
        """``version+hash12``: what a run records so a finding traces back to the exact file."""
        return f"{self.version}+{self.sha256[:12]}"

    def describe(self) -> dict[str, Any]:
        """Identity of this lexicon for run.json."""
        return {
            "path": self.path,
            "version": self.version,
            "sha256": self.sha256,
            "entries": len(self.entries),
        }

    def entry(self, entry_id: str) -> Entry:
        """The entry with this id (KeyError if absent)."""
        for e in self.entries:
            if e.id == entry_id:
                return e
        raise KeyError(entry_id)

    def bare_entry(self, text: str) -> tuple[Entry, str] | None:
        """The bare-scope entry whose phrase is the whole of ``text`` (decoration ignored), if any."""
        core = strip_decoration(fold(text))
        entry = self._bare.get(core)
        return (entry, core) if entry is not None else None

    def find(self, text: str, strict: bool = False) -> tuple[list[Candidate], list[Candidate]]:
        """Anywhere-scope matches in ``text`` (longest wins, no overlaps) and allowlist matches.

        Strict-only entries are matched only when ``strict`` is true. Offsets
        index the original ``text``.
        """
        hits: list[Candidate] = []
        allows: list[Candidate] = []
        for end, (length, entry, group) in self._automaton.iter(fold(text)):
            start = end + 1 - length
            if group is not None:
                allows.append(Candidate(start, end + 1, None, group))
            elif strict or not entry.strict_only:
                hits.append(Candidate(start, end + 1, entry))
        if len(hits) > 1:
            hits.sort(key=lambda c: (c.start - c.end, c.start))
            taken: list[Candidate] = []
            # characters already covered by a longer match: one check per character, not per pair
            covered = bytearray(max(c.end for c in hits))
            for c in hits:
                if not any(covered[c.start : c.end]):
                    taken.append(c)
                    covered[c.start : c.end] = b"\x01" * (c.end - c.start)
            hits = sorted(taken, key=lambda c: c.start)
        return hits, allows

    def cue_iter(self, name: str, text: str) -> Iterator[re.Match[str]]:
        """Every match of cue list ``name`` in ``text`` (folded), left to right."""
        return self._cue_res[name].finditer(fold(text))

    def cue(self, name: str, text: str) -> str | None:
        """The first word of cue list ``name`` found in ``text`` (folded), or None."""
        m = self._cue_res[name].search(fold(text))
        return m.group(0) if m else None

    def cue_index(self, text: str) -> CueIndex:
        """Where the cue words occur in ``text``, to ask :meth:`CueIndex.outside` for many spans."""
        return CueIndex(self._cue_res, text)

    def __reduce__(self) -> tuple[Any, ...]:
        # mypyc: a compiled frozen dataclass cannot be unpickled field by field
        return (
            type(self),
            (
                self.path,
                self.version,
                self.sha256,
                self.entries,
                self.allow,
                self.context,
                self.cues,
                self.transfer,
                self._bare,
                self._automaton,
                self._cue_res,
            ),
        )


class CueIndex:
    """The cue words of one text, indexed once so a question per span costs no pass over the text.

    ``outside(name, start, end)`` answers what ``Lexicon.cue`` answers for the text with the
    span replaced by a line break, which the forbidden-phrase rule asks for every hit of a message: asked
    that way, a message dense in hits cost time quadratic in its length.
    """

    def __init__(self, cue_res: Mapping[str, re.Pattern[str]], text: str) -> None:
        self._cue_res = cue_res
        self._text = text
        self._folded = fold(text)
        self._starts: dict[str, list[int]] = {}

    def _word_starts(self, name: str) -> list[int] | None:
        """Every offset where some word of list ``name`` begins (None: a word spans lines)."""
        if name not in self._starts:
            pattern = self._cue_res[name]
            if "\n" in pattern.pattern:
                return None
            ahead = re.compile(f"(?=(?:{pattern.pattern}))")
            self._starts[name] = [m.start() for m in ahead.finditer(self._folded)]
        return self._starts[name]

    def outside(self, name: str, start: int, end: int) -> str | None:
        """The first word of cue list ``name`` in the text with ``[start, end)`` cut out, or None."""
        starts = self._word_starts(name)
        pattern = self._cue_res[name]
        if starts is None:
            m = pattern.search(fold(self._text[:start] + "\n" + self._text[end:]))
            return m.group(0) if m else None
        if starts and starts[0] < start:
            # the first word before the cut whole; past the first start a word fits within a word's length
            m = pattern.search(self._folded, starts[0], start)
            if m:
                return m.group(0)
        k = bisect_left(starts, end)
        if k < len(starts):
            m = pattern.match(self._folded, starts[k])
            return m.group(0) if m else None
        return None


def default_lexicon_path() -> Path:
    """The bundled forbidden-phrase lexicon."""
    return lexicons_dir() / "forbidden.toml"


@lru_cache(maxsize=16)
def _load_cached(path: str, mtime_ns: int, size: int) -> Lexicon:
    raw = Path(path).read_bytes()
    return parse_lexicon(raw, path)


def load_lexicon(path: Path | None = None) -> Lexicon:
    """Load and validate a lexicon file (the bundled one by default); cached per file version.

    Raises:
        LexiconProblem: the file is not valid TOML or breaks a rule of the format.
        ConfigError: the file cannot be read.
    """
    p = Path(path) if path is not None else default_lexicon_path()
    try:
        st = p.stat()
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read the lexicon file ({exc.strerror}); check the path") from None
    if not stat.S_ISREG(st.st_mode):
        raise ConfigError(f"{p}: a folder or special file, not a lexicon file; give the .toml file itself")
    return _load_cached(str(p), st.st_mtime_ns, st.st_size)


def _entry_lines(text: str) -> dict[str, list[int]]:
    """Each id → the lines it is written on, in order (a duplicate id has several)."""
    lines: dict[str, list[int]] = {}
    for no, line in enumerate(text.splitlines(), start=1):
        m = re.match(r"""\s*id\s*=\s*(?:"([^"]*)"|'([^']*)')""", line)
        if m:
            lines.setdefault(m.group(1) if m.group(1) is not None else m.group(2), []).append(no)
    return lines


def _table_of(value: Any, where: str, problems: list[str]) -> dict[str, Any]:
    """``value`` when it is a TOML table; else a problem saying what was written, and ``{}``."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append(f"{where}: must be a table ({where} with its keys below it), got {value!r}")
        return {}
    return value


def _tables_of(value: Any, where: str, problems: list[str]) -> list[dict[str, Any]]:
    """``value`` when it is an array of tables ([[name]] blocks); else a problem and ``[]``."""
    if value is None:
        return []
    if isinstance(value, dict):
        problems.append(f"{where}: write [[{where}]] (two brackets: one block per item), not [{where}]")
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        problems.append(f"{where}: must be [[{where}]] blocks, got {value!r}")
        return []
    return value


def _flag(raw: dict[str, Any], key: str, where: str, problems: list[str]) -> bool:
    """A true/false key (false when left out); a string such as "false" is a problem, not true."""
    value = raw.get(key, False)
    if not isinstance(value, bool):
        problems.append(f"{where}: {key} must be true or false (no quotes), got {value!r}")
        return False
    return value


def _unknown(raw: dict[str, Any], known: Collection[str], where: str, problems: list[str]) -> None:
    for key in raw:
        if key not in known:
            problems.append(f"{where}: unknown key {key!r}; known: {', '.join(sorted(known))}")


def _str_tuple(value: Any, where: str, key: str, problems: list[str], words: bool = False) -> tuple[str, ...]:
    """A list of strings; with ``words``, none only spaces or one punctuation mark (see :func:`_noise`)."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        problems.append(f"{where}: {key} must be a list of non-empty strings")
        return ()
    if words:
        noise = [v for v in value if _noise(v, key)]
        for v in noise:
            what = "only spaces" if not v.strip() else "a single punctuation mark or symbol"
            problems.append(
                f"{where}: {key} {v!r} is {what} and would match nearly every message; write the words"
                " (a run such as !!!! is taken)"
            )
        value = [v for v in value if v not in noise]
    return tuple(value)


def _noise(word: str, key: str) -> bool:
    """True for a phrase or cue word that is only spaces, or one punctuation mark or symbol.

    Such a word was valid: "，" as a phrase hit nearly every message (the demo day's impatience
    went from 40 to 1,105), and " " in a cue list vetoed every entry that asks for it (audit 104
    H3). A run of them (!!!!, 。。。) is a shape people write on purpose, the question marks' own
    list is punctuation by design, and an emoji is a word (audit 107 L3): all are kept.
    """
    if not word.strip():
        return True
    folded = fold(word).strip()
    if key == "question_marks" or len(folded) != 1 or strip_decoration(folded):
        return False
    # An emoji (👌, 🙏) is a word people send alone; a comma or a tilde is in nearly every message.
    return unicodedata.category(folded) != "So"


def _examples(value: Any, where: str, problems: list[str]) -> tuple[Example, ...]:
    out: list[Example] = []
    if value is not None and not isinstance(value, list):
        problems.append(f"{where}: must be a list of examples, got {value!r}")
        return ()
    for i, item in enumerate(value or []):
        if isinstance(item, str):
            out.append(Example(item))
        elif isinstance(item, dict) and isinstance(item.get("text"), str):
            _unknown(item, ("text", "context", "strict"), f"{where}[{i}]", problems)
            ctx = _str_tuple(item.get("context"), f"{where}[{i}]", "context", problems)
            out.append(Example(item["text"], ctx, _flag(item, "strict", f"{where}[{i}]", problems)))
        elif isinstance(item, dict) and item:
            # { txt = … }: the key is named, not only the shape (audit 162 L2).
            _unknown(item, ("text", "context", "strict"), f"{where}[{i}]", problems)
            if "text" in item:
                problems.append(f"{where}[{i}]: text must be a string")
            elif not any(str(k) not in ("context", "strict") for k in item):
                problems.append(f"{where}[{i}]: an example needs its text = ...")
        else:
            problems.append(f"{where}[{i}]: an example is a string or {{ text = ..., context = [...] }}")
    return tuple(out)


_ENTRY_KEYS = {
    "id",
    "title",
    "phrases",
    "scope",
    "implies",
    "strict_only",
    "live_after",
    "quiet_after",
    "token_boundary",
    "unless",
    "unless_buyer",
    "max_len",
    "extend_to_token",
    "not_in_question",
    "examples",
}


def parse_lexicon(raw: bytes, path: str = "<lexicon>") -> Lexicon:
    """Parse and validate lexicon bytes; every problem is collected before raising.

    Raises:
        LexiconProblem: with one message per problem, naming the entry id and line.
    """
    from qc.readers.encoding import UndecodableError, decode_text

    try:
        # QA edits lexicons by hand: UTF-8, UTF-8 with BOM and GBK are all read.
        text, _ = decode_text(raw)
        data = tomllib.loads(text)
    except UndecodableError as exc:
        raise LexiconProblem(path, [str(exc)]) from None
    except tomllib.TOMLDecodeError as bad_toml:
        raise LexiconProblem(path, [f"not valid TOML: {bad_toml}"]) from None
    problems: list[str] = []
    lines = _entry_lines(text)
    _unknown(data, ("version", "context", "cues", "transfer", "allow", "entry"), "top level", problems)
    version = data.get("version")
    if not isinstance(version, str) or not version:
        problems.append('top level: add version = "YYYY.MM.N" (bump it on every change)')
        version = ""

    ctx_raw = _table_of(data.get("context"), "context", problems)
    ctx_defaults = ContextSettings()
    ctx_values: dict[str, Any] = {}
    _unknown(ctx_raw, (*_CONTEXT_NUMBERS, "no_context"), "[context]", problems)
    for key in _CONTEXT_NUMBERS:
        least = _CONTEXT_LEAST.get(key, 0)
        if key not in ctx_raw:
            # The windows are the lexicon's numbers, not code's: a lexicon without them ran on
            # values written nowhere the shop could see.
            problems.append(
                f"[context] {key} is missing: give a whole number from {least} to {_CONTEXT_MAX}"
                " (the bundled lexicons/forbidden.toml has each with what it means)"
            )
            ctx_values[key] = getattr(ctx_defaults, key)
            continue
        v = ctx_raw[key]
        if not isinstance(v, int) or isinstance(v, bool) or not least <= v <= _CONTEXT_MAX:
            problems.append(
                f"[context] {key} must be a whole number from {least} to {_CONTEXT_MAX}, got {v!r}"
            )
            v = getattr(ctx_defaults, key)
        ctx_values[key] = v
    if "no_context" not in ctx_raw:
        problems.append(
            '[context] no_context is missing: "live" or "suppressed" (a bare reply with no buyer turn)'
        )
    no_ctx = ctx_raw.get("no_context", ctx_defaults.no_context)
    if no_ctx not in ("live", "suppressed"):
        problems.append(f'[context] no_context must be "live" or "suppressed", got {no_ctx!r}')
        no_ctx = "live"
    context = ContextSettings(no_context=no_ctx, **ctx_values)

    cues_raw = _table_of(data.get("cues"), "cues", problems)
    cues: dict[str, tuple[str, ...]] = {}
    for name in _CUE_LISTS:
        cues[name] = tuple(fold(w) for w in _str_tuple(cues_raw.get(name), "[cues]", name, problems, True))
        if not cues[name]:
            problems.append(f"[cues] {name}: list at least one word")
    for name in cues_raw:
        if name not in _CUE_LISTS:
            problems.append(f"[cues] {name}: unknown cue list; known: {', '.join(_CUE_LISTS)}")

    transfer = _transfer(data, problems)

    allow: list[AllowGroup] = []
    for i, group in enumerate(_tables_of(data.get("allow"), "allow", problems)):
        where = f"[[allow]] #{i + 1}"
        _unknown(group, ("reason", "phrases"), where, problems)
        reason = group.get("reason")
        if not isinstance(reason, str) or not reason:
            problems.append(f'{where}: add reason = "..." (why these phrases are fine)')
            reason = "allowlist"
        fine = _str_tuple(group.get("phrases"), where, "phrases", problems, True)
        if not fine and group.get("phrases") in (None, [], ""):
            problems.append(f"{where}: list at least one phrase")
        allow.append(AllowGroup(reason, fine))

    entries: list[Entry] = []
    seen_ids: dict[str, int] = {}
    written: dict[str, int] = {}  # how many entries so far had each id: the nth has the nth line
    for i, raw_entry in enumerate(_tables_of(data.get("entry"), "entry", problems)):
        eid = raw_entry.get("id")
        at: list[int] = []
        nth = 0
        if isinstance(eid, str):
            at = lines.get(eid, [])
            nth = written[eid] = written.get(eid, -1) + 1
        line = at[nth] if nth < len(at) else (at[-1] if at else 0)
        where = f"entry {eid} (line {line})" if line else f"entry #{i + 1}"
        if not isinstance(eid, str) or not _ID_RE.match(eid):
            problems.append(f"{where}: id must look like FP-0001")
            eid = f"#{i + 1}"
        elif eid in seen_ids:
            problems.append(
                f"{where}: duplicate id {eid} (first used by entry #{seen_ids[eid] + 1}); never reuse an id"
            )
        seen_ids.setdefault(eid, i)
        for key in raw_entry:
            if key not in _ENTRY_KEYS:
                problems.append(f"{where}: unknown key {key!r}; known: {', '.join(sorted(_ENTRY_KEYS))}")
        scope = raw_entry.get("scope", "anywhere")
        if scope not in SCOPES:
            problems.append(f"{where}: scope must be one of {', '.join(SCOPES)}, got {scope!r}")
        implies = raw_entry.get("implies")
        if implies is not None and implies not in IMPLIES:
            problems.append(
                f"{where}: implies must be one of {', '.join(IMPLIES)} or left out, got {implies!r}"
            )
        live_after = _str_tuple(raw_entry.get("live_after"), where, "live_after", problems)
        quiet_after = _str_tuple(raw_entry.get("quiet_after"), where, "quiet_after", problems)
        for kind in (*live_after, *quiet_after):
            if kind not in TURN_KINDS:
                problems.append(f"{where}: live_after {kind!r} unknown; use {', '.join(TURN_KINDS)}")
        unless = _str_tuple(raw_entry.get("unless"), where, "unless", problems)
        unless_buyer = _str_tuple(raw_entry.get("unless_buyer"), where, "unless_buyer", problems)
        for name in (*unless, *unless_buyer):
            if name not in _CUE_LISTS:
                problems.append(f"{where}: unless {name!r} is not a cue list; use {', '.join(_CUE_LISTS)}")
        max_len = raw_entry.get("max_len")
        if max_len is not None and (not isinstance(max_len, int) or isinstance(max_len, bool) or max_len < 1):
            problems.append(f"{where}: max_len must be a whole number ≥ 1")
            max_len = None
        phrases = _str_tuple(raw_entry.get("phrases"), where, "phrases", problems, True)
        if not phrases and raw_entry.get("phrases") in (None, [], ""):
            problems.append(f"{where}: list at least one phrase")
        for p in phrases:
            if scope == "bare" and strip_decoration(fold(p)) != fold(p):
                problems.append(
                    f"{where}: bare phrase {p!r} contains punctuation or spaces that bare matching ignores"
                )
        examples = raw_entry.get("examples", {})
        if not isinstance(examples, dict):
            problems.append(f"{where}: examples must be a table {{ hit = [...], miss = [...] }}")
            examples = {}
        _unknown(examples, ("hit", "miss"), f"{where} examples", problems)
        hits = _examples(examples.get("hit"), f"{where} examples.hit", problems)
        misses = _examples(examples.get("miss"), f"{where} examples.miss", problems)
        # An example given but malformed is said above: not also "give one" (audit 162 L2).
        if not hits and not examples.get("hit"):
            problems.append(f"{where}: give at least one hit example")
        if not misses and not examples.get("miss"):
            problems.append(f"{where}: give at least one miss example")
        title = raw_entry.get("title")
        if not isinstance(title, str) or not title:
            problems.append(f"{where}: add a title (what the phrase means)")
            title = ""
        entries.append(
            Entry(
                id=eid,
                title=title,
                phrases=phrases,
                scope=scope if scope in SCOPES else "anywhere",
                implies=implies if implies in IMPLIES else None,
                strict_only=_flag(raw_entry, "strict_only", where, problems),
                live_after=live_after,
                quiet_after=quiet_after,
                token_boundary=_flag(raw_entry, "token_boundary", where, problems),
                unless=unless,
                unless_buyer=unless_buyer,
                max_len=max_len,
                extend_to_token=_flag(raw_entry, "extend_to_token", where, problems),
                not_in_question=_flag(raw_entry, "not_in_question", where, problems),
                hits=hits,
                misses=misses,
                line=line,
            )
        )

    # A phrase may belong to one entry per scope; allowlist phrases never equal a phrase.
    owners: dict[tuple[str, str], str] = {}
    for e in entries:
        for p in e.phrases:
            owner_key = (e.scope, fold(p))
            if owner_key in owners and owners[owner_key] != e.id:
                problems.append(
                    f"entry {e.id} (line {e.line}): phrase {p!r} is also in entry {owners[owner_key]}"
                )
            elif owner_key in owners:
                problems.append(f"entry {e.id} (line {e.line}): phrase {p!r} listed twice")
            owners.setdefault(owner_key, e.id)
    allowed: dict[str, str] = {}
    for g in allow:
        for p in g.phrases:
            if fold(p) in allowed:
                problems.append(f"[[allow]] {g.reason}: phrase {p!r} listed twice")
            allowed[fold(p)] = g.reason
    for e in entries:
        if e.scope != "anywhere":
            continue
        for p in e.phrases:
            if fold(p) in allowed:
                problems.append(
                    f"entry {e.id} (line {e.line}): phrase {p!r} is also allowlisted ({allowed[fold(p)]}); "
                    "it could never be a live hit"
                )

    if problems:
        raise LexiconProblem(path, problems)
    sha = hashlib.sha256(raw).hexdigest()
    return _build(path, version, sha, tuple(entries), tuple(allow), context, cues, transfer)


def _transfer(data: Mapping[str, Any], problems: list[str]) -> TransferSettings | None:
    """The optional ``[transfer]`` table; absent, the silent-transfer rule checks nothing."""
    if "transfer" not in data:
        return None
    raw = _table_of(data.get("transfer"), "transfer", problems)
    _unknown(raw, ("notices", "handover", "lookback", "failed"), "[transfer]", problems)
    lists: dict[str, tuple[str, ...]] = {}
    for key, what in (
        ("notices", "words of the platform's transfer notice, e.g. 转接给"),
        ("handover", "words of an agent's hand-over message, e.g. 帮您转接"),
    ):
        lists[key] = tuple(fold(w) for w in _str_tuple(raw.get(key), "[transfer]", key, problems, True))
        if not lists[key] and raw.get(key) in (None, [], ""):
            problems.append(f"[transfer] {key}: list at least one word ({what})")
    lookback = raw.get("lookback")
    if not isinstance(lookback, int) or isinstance(lookback, bool) or not 1 <= lookback <= _CONTEXT_MAX:
        problems.append(
            f"[transfer] lookback must be a whole number from 1 to {_CONTEXT_MAX} (how many of the"
            f" transferring agent's last messages may hold the hand-over), got {lookback!r}"
        )
        lookback = 1
    failed = tuple(fold(w) for w in _str_tuple(raw.get("failed"), "[transfer]", "failed", problems, True))
    return TransferSettings(lists["notices"], lists["handover"], lookback, failed)


def _build(
    path: str,
    version: str,
    sha: str,
    entries: tuple[Entry, ...],
    allow: tuple[AllowGroup, ...],
    context: ContextSettings,
    cues: dict[str, tuple[str, ...]],
    transfer: TransferSettings | None = None,
) -> Lexicon:
    import ahocorasick

    automaton = ahocorasick.Automaton()
    bare: dict[str, Entry] = {}
    # validation guarantees one owner per folded phrase
    for e in entries:
        for p in e.phrases:
            fp = fold(p)
            if e.scope == "bare":
                bare[fp] = e
            else:
                automaton.add_word(fp, (len(fp), e, None))
    for g in allow:
        for p in g.phrases:
            automaton.add_word(fold(p), (len(p), None, g))
    if len(automaton) == 0:
        automaton.add_word("\x00", (1, None, AllowGroup("empty", ())))
    automaton.make_automaton()
    cue_res = {
        name: re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)))
        for name, words in cues.items()
    }
    return Lexicon(path, version, sha, entries, allow, context, cues, transfer, bare, automaton, cue_res)


def iter_examples(lexicon: Lexicon) -> Iterator[tuple[Entry, str, Example]]:
    """Every (entry, "hit" | "miss", example) of a lexicon, in file order."""
    for e in lexicon.entries:
        for ex in e.hits:
            yield e, "hit", ex
        for ex in e.misses:
            yield e, "miss", ex
