"""The store API: one object for every query and write of the results store.

``qc inspect --db out/qc.sqlite`` (or ``--db postgresql+psycopg://user@host/db``) saves each
run here; every supervision command and the workbench read and write through :class:`Store`,
never through the tables directly.

The store keeps conversations; scores are derived from them. A run **upserts** the
conversations it read, keyed by (shop, conversation id): each one's row, messages, findings and
metric parts replace what a previous run stored of the same conversation, and nothing else
is touched, so re-inspecting a day, in any order, any number of times, never deletes a
conversation another run read. All of a run's writes happen in one transaction. ``runs``
keeps every run as an audit log; ``review_log`` is append-only and keyed by finding id, so a
decision applies again when the same finding comes back. The store knows no workflow: states
and actions are strings the supervision layer gives it, and scores are computed above it
(:mod:`qc.batch.stored`).
"""

from __future__ import annotations

import hashlib
import inspect as inspect_module
import json
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import wraps
from itertools import islice
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Integer,
    Select,
    and_,
    bindparam,
    column,
    delete,
    exists,
    func,
    inspect,
    select,
    text,
    tuple_,
    union,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from qc import __version__
from qc.errors import ConfigError, QcError
from qc.readers.reexport import as_said, realign
from qc.schema import Conversation, Finding
from qc.scoring.card import basis_refusal
from qc.scoring.metrics import UNDATED, MetricPart
from qc.scoring.scores import ConversationRecord
from qc.store.engine import (
    COMMAND_WAIT_ENV,
    SAVE_WAIT_ENV,
    StoreBusyError,
    StoreError,
    StoreFailedError,
    guarded,
    make_engine,
    store_waits,
    translate,
    write_transaction,
)
from qc.store.rows import (
    conversation_from_rows,
    finding_from_row,
    finding_row,
    json_text,
    message_rows,
    now,
    part_from_row,
    part_row,
    shop_key,
)
from qc.store.tables import (
    ACCOUNTS_TABLE,
    MIGRATIONS_TABLE,
    PARKED_TABLE,
    PEOPLE_TABLES,
    RESULT_TABLES,
    REVIEW_TABLES,
    SEARCH_TABLES,
    TABLES,
    WORKBENCH_TABLES,
    database_url,
    migrate,
)
from qc.text.pii import shown_id

__all__ = [
    "FORGET_COMMAND",
    "ForgetPlan",
    "OnlyContinued",
    "Store",
    "StoreBusyError",
    "StoreError",
    "StoreFailedError",
    "StoredFinding",
    "local_now",
    "open_store",
]


# Conversation ids per IN (…) clause: well under every database's parameter limit.
_CHUNK = 500
# The audit-log actions of an appeal's own steps (its findings' decisions are logged as confirm/reject).
APPEAL_STEPS = ("appeal_open", "appeal_answer", "appeal_rule", "appeal_reopen")
# Rows of the FTS5 table by rowid (SQLite only; the table is not a SQLAlchemy Table).
_FTS_DELETE = text("DELETE FROM search_fts WHERE rowid IN :ids").bindparams(bindparam("ids", expanding=True))


def local_now() -> str:
    """The local time with its UTC offset (``2026-11-24T10:00:00+08:00``), as the audit log records it.

    People read the audit trail in their own time; the offset keeps it unambiguous.
    """
    return datetime.now().astimezone().isoformat(timespec="seconds")


# A conversation's rows in the tables other than ``conversations``: replaced whole on a save.
CHILD_TABLES: tuple[str, ...] = tuple(name for name in RESULT_TABLES if name != "conversations")


def _upsert_conversations(conn: Connection) -> Any:
    """``INSERT … ON CONFLICT (shop, conversation_id) DO UPDATE``: a conversation's row by its natural key.

    The unique index of migration 11 backs it, so two saves of one conversation leave one row
    whatever happens around them.
    """
    t = TABLES["conversations"]
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(t)
    keys = ("shop", "conversation_id", "first_run_id")  # the first run stays (qc store forget --run)
    return statement.on_conflict_do_update(
        index_elements=[t.c.shop, t.c.conversation_id],
        set_={c.name: statement.excluded[c.name] for c in t.columns if c.name not in keys},
    )


def _new_id(result: Any) -> int:
    """The primary key an INSERT gave its row."""
    key = result.inserted_primary_key
    assert key is not None, "an insert returns its key"
    return int(key[0])


@dataclass(frozen=True, slots=True)
class StoredFinding:
    """A finding as stored, with where it belongs: shop, day and the agent it is charged to."""

    finding: Finding
    shop: str
    date: str
    scored_agent: str = ""

    @property
    def id(self) -> str:
        """The finding's stable id."""
        return self.finding.id


# What a finding is about, to follow its decisions across saves: shop, conversation, kind,
# entry, span, and its message as written (text, sender, time); then the message's index.
_Signature = tuple[Any, ...]


# What run.json says of the run that forgot conversations (qc store forget), as the store writes it.
FORGET_COMMAND = "store forget"
_FORGET_MARK = json_text({"command": FORGET_COMMAND})[1:-1]


class OnlyContinued(ConfigError):
    """``forget --run N`` of a run whose every conversation continues one stored before it.

    ``continued`` names them, for the command that forgets them all the same (the caller knows
    how to name the store in it).
    """

    def __init__(self, run_id: int, continued: list[str]) -> None:
        self.continued = continued
        super().__init__(
            f"run {run_id} holds no conversation of its own: the {len(continued)} it holds continue"
            " conversations stored before it (it kept their earlier messages), and taking them off"
            " would take those messages too: nothing was forgotten. To forget them all the same,"
            f" name them: qc store forget {' '.join(continued)}"
        )


@dataclass(frozen=True, slots=True)
class ForgetPlan:
    """What ``qc store forget`` takes off the store for one conversation (:meth:`Store.forget_plan`).

    ``shop`` is ``None`` for an id the store does not hold. ``live`` counts the findings neither
    held for review nor suppressed (what they cost is the scorecard's: one charge per message, and
    decisions, as ``qc flagged`` counts it); ``decided`` names the findings a review, appeal or
    calibration item points at.
    """

    conversation: str
    shop: str | None
    days: tuple[str, ...] = ()
    messages: int = 0
    findings: int = 0
    live: int = 0
    decided: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        """The plan as run.json and ``--json`` give it."""
        return {
            "conversation": self.conversation,
            "shop": self.shop,
            "days": list(self.days),
            "messages": self.messages,
            "findings": self.findings,
            "live": self.live,
            "decided": list(self.decided),
        }


@dataclass(frozen=True, slots=True)
class RunSummary:
    """One run as ``qc store runs`` lists it: what it read or forgot, and what of it is still stored.

    ``conversations`` is what the run stored (a forget run: what it took off); ``held`` how many
    of them are still its copies, the ones ``qc store forget --run`` would take off (a later run
    that read them again holds them now). ``days`` are (shop, date) pairs.
    """

    id: int
    started_at: str
    command: str
    inputs: tuple[str, ...]
    days: tuple[tuple[str, str], ...]
    conversations: int
    held: int
    findings: int
    by: str = ""
    why: str = ""
    repeated: int = 0
    # Of those held, the ones it continued (an earlier copy's messages kept): --run leaves them.
    continued: int = 0

    def as_json(self) -> dict[str, Any]:
        """The run as ``qc store runs --format json`` prints it."""
        return {
            "run": self.id,
            "started_at": self.started_at,
            "command": self.command,
            "inputs": list(self.inputs),
            "days": [{"shop": s, "date": d} for s, d in self.days],
            "conversations": self.conversations,
            "held": self.held,
            "continued": self.continued,
            "findings": self.findings,
            "by": self.by,
            "why": self.why,
            "repeated_conversations": self.repeated,
        }


@dataclass(slots=True)
class _Followed:
    """Where a save takes the decided findings of its conversations (see :func:`_follow_decisions`)."""

    moves: dict[str, str] = field(default_factory=dict)  # old id → the new id of the same finding
    gone: set[str] = field(default_factory=set)  # orphaned: the new copies no longer have it
    detached: set[str] = field(default_factory=set)  # orphaned, parked under ID~RUN with what it was about


def _instant(value: datetime | str | None) -> str | None:
    """A message time as signatures compare it: the instant in UTC.

    The same moment written in UTC (…Z) or in local time is one time (audit 114 H1). Fractions are
    kept: two sends of the same words within one second are told apart by them (audit 115 H3); an
    export that drops them re-times every message, which :meth:`Store._retimed` covers.
    """
    if value is None:
        return None
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
    else:
        moment = value
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.isoformat()


def _signatures(records: Sequence[ConversationRecord]) -> dict[str, _Signature]:
    """What each finding of the records is about (:data:`_Signature` without the message index)."""
    now: dict[str, _Signature] = {}
    for r in records:
        conv, shop = r.conversation, shop_key(r.conversation.shop)
        messages = {m.index: m for m in conv.messages}
        for a in r.findings:
            f = a.finding
            m = messages.get(f.message_index)
            if m is None:
                continue
            now[f.id] = (
                shop,
                conv.id,
                f.kind,
                f.entry,
                f.start,
                f.end,
                m.text,
                m.sender,
                _instant(m.sent_at),
            )
    return now


_DECISION_TABLES = (
    REVIEW_TABLES["review_log"],
    REVIEW_TABLES["appeals"],
    WORKBENCH_TABLES["calibration_items"],
    WORKBENCH_TABLES["calibration_verdicts"],
)


def _rekey(conn: Connection, old: str, new: str) -> None:
    """Move every decision (review, appeal, calibration) of finding ``old`` to ``new`` (in a transaction)."""
    for table in _DECISION_TABLES:
        conn.execute(update(table).where(table.c.finding_id == old).values(finding_id=new))


def _decided(conn: Connection, finding_id: str) -> bool:
    """Whether any decision (review, appeal, calibration) points at ``finding_id``."""
    return any(
        conn.execute(select(t.c.finding_id).where(t.c.finding_id == finding_id).limit(1)).first() is not None
        for t in _DECISION_TABLES
    )


def _follow_decisions(
    decided: Mapping[str, Any],
    about: Mapping[str, _Signature],
    records: Sequence[ConversationRecord],
    now: Mapping[str, _Signature],
    retimed: Mapping[tuple[str, str], Mapping[int, int]] | None = None,
) -> _Followed:
    """Match each decided finding to its copy in the records, by what it is about, not by its id.

    A finding's id comes from its message's index: messages added before it (a corrected
    export, the part of a chat before midnight read after the part after it) give it another
    id, and may give its old id to another message's finding. Matched by id alone, a reviewer's
    rejection passed to a message nobody reviewed and the reviewed one was charged again. So a
    decision stays where the same finding (kind, entry, span, on the same message as written)
    still has its id, moves to the id that finding has now (the nearest by index when the same
    message was sent twice), and is orphaned when the finding is gone. ``now`` is what each
    finding of the records is about (:func:`_signatures`). In the ``retimed`` conversations
    (:meth:`Store._retimed`: a re-export that moved every time by one offset, a line or two
    edited) the alignment says which message each stored one is now, and a finding there of the
    same kind, entry and span on the same words takes its decisions whatever its time says.
    """
    retimed = retimed or {}
    by_what: dict[_Signature, list[tuple[int, str]]] = {}
    aligned: dict[tuple[_Signature, int], str] = {}
    for r in records:
        for a in r.findings:
            what = now.get(a.finding.id)
            if what is not None:
                by_what.setdefault(what, []).append((a.finding.message_index, a.finding.id))
                aligned[(what[:-1], a.finding.message_index)] = a.finding.id
    out = _Followed()
    taken: set[str] = set()
    unsure: list[str] = []
    rest: list[str] = []
    for fid in decided:
        was = about.get(fid)
        # In a conversation only re-timed (a clock-corrected export, a --timezone fix), the finding on
        # the message the alignment names is the same finding: its final overturn was parked and the
        # conflict charged again (audit 114 H1, 115 H1). Elsewhere the time tells two sends apart.
        index = retimed.get(was[:2], {}).get(was[-1]) if was is not None else None
        new = aligned.get((was[:-2], index)) if was is not None and index is not None else None
        if new is not None and new not in taken:
            taken.add(new)
            if new != fid:
                out.moves[fid] = new
        else:
            rest.append(fid)
    for fid in rest:
        was = about.get(fid)
        if fid in now and fid not in taken and (was is None or now[fid] == was[:-1]):
            taken.add(fid)
        elif was is None:
            out.gone.add(fid)  # no stored message to tell by (as before: by id only)
        else:
            unsure.append(fid)
    for fid in sorted(unsure, key=lambda f: about[f][-1]):
        was = about[fid]
        free = [(abs(index - was[-1]), new) for index, new in by_what.get(was[:-1], ()) if new not in taken]
        # In a re-export whose clock moved, the same words at the same time are another send: the
        # chat's later 好的 sat where the first read had put the cut 好的 it rejected, and took its
        # rejection (audit 125 H4). There only the alignment moves a decision; else it is parked.
        if free and was[:2] not in retimed:
            new = min(free)[1]
            taken.add(new)
            if new != fid:
                out.moves[fid] = new
        else:
            # Parked with what it was about, whether or not the id names another finding now: a
            # later run that gave the bare id to another message (another agent's) picked the
            # decision up (audit 88 #2). The same finding coming back as it was takes it back.
            out.gone.add(fid)
            out.detached.add(fid)
    return out


class Store:
    """An open, migrated store: queries and writes. Close it (or use ``with``) when done.

    Every public method turns the database's errors into :class:`StoreBusyError` (exit 75:
    another qc held the store for longer than ``wait`` seconds) or :class:`StoreFailedError`
    (the database's reason in one line), never SQL or its parameters; reads that meet a busy
    SQLite are retried until ``wait`` runs out. Writes wait ``wait`` seconds for the store's
    write lock (:mod:`qc.store.engine`).
    """

    def __init__(self, engine: Engine, wait: float = 30.0, wait_env: str = COMMAND_WAIT_ENV) -> None:
        self.engine = engine
        self.wait = wait
        self.wait_env = wait_env

    @property
    def url(self) -> str:
        """The database URL, password hidden (for messages)."""
        return self.engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        """Release the connection pool."""
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A connection inside one transaction: everything written through it commits or none of it.

        It holds the store's write lock shared (a review, an appeal, a people change): it waits
        for a save in progress, at most ``wait`` seconds, then raises :class:`StoreBusyError`
        having changed nothing. Such transactions run one at a time (SQLite: one writer;
        PostgreSQL: the decision lock), so what a step reads inside one to check it (the
        finding's state, an open appeal) still holds when it writes.
        """
        try:
            with write_transaction(self.engine, self.wait, exclusive=False, serial=True) as conn:
                yield conn
        except DBAPIError as exc:
            raise translate(exc, self.url, self.wait, self.wait_env) from None

    # ------------------------------------------------------------------ runs and results

    def save_run(self, *, run: dict[str, Any], records: Sequence[ConversationRecord]) -> int:
        """Save one run: record it in ``runs`` and upsert every conversation it read.

        Each conversation (by shop and id) replaces its stored row, messages, findings and
        metric parts; conversations the run did not read stay as they are. A conversation
        read twice in one run is saved once (the last copy). All of it runs in one
        transaction: a failure leaves the store as it was. Returns the new run id.
        """
        by_key = {(shop_key(r.conversation.shop), r.conversation.id): r for r in records}
        return self.save_run_streamed(run=run, records=by_key.values())

    def save_run_streamed(
        self,
        *,
        run: dict[str, Any],
        records: Iterable[ConversationRecord] | Callable[[], Iterable[ConversationRecord]],
        chunk: int = 1000,
        renamed: Mapping[str, str] | None = None,
        adopted: Mapping[tuple[str, str], str] | None = None,
        committing: Callable[[int], None] | None = None,
    ) -> int:
        """:meth:`save_run` for a run too big to hold: its conversations read once, ``chunk`` at a time.

        The same upsert as :meth:`save_run`, in one transaction: the run's row is written first
        and its counts and days filled in once every conversation is saved, so ``records`` may
        be a generator (``qc inspect --engine spark`` streams them from its part files). A
        conversation that comes again later in ``records`` replaces the earlier copy. The
        store then holds what :meth:`save_run` would have saved from the same run.

        ``records`` may be a function making them: it is called inside the transaction, under
        the store's write lock, so what it reads from the store (the stored parts of a
        conversation it continues) cannot change before the save; another run's save of the
        same conversation waits instead of being overwritten.

        ``renamed`` (old finding id → new; read once every record is saved, so the records'
        function may fill it) names findings whose message the run renumbered: their
        decisions, appeals and calibration rows move to the new id when the run stored it, and
        run.json lists them under ``moved_decisions`` instead of ``orphaned_decisions``.

        ``committing`` is called with the run's id just before the transaction commits: a
        signal from then on may stop the command with the run saved.

        ``adopted`` (stored (shop, id) → the shop the run has it for; read once the records'
        function has been called, so it may fill it) names stored copies saved without a shop
        that the run's records continue under their shop: a chat cut at midnight whose first
        part held buyer messages only. They are re-keyed to that shop first, so the save
        replaces them (their decisions move or are orphaned as for any copy) instead of
        refusing two shops.

        Raises:
            StoreError: a conversation id the store (or this run) already has for another shop;
                nothing of the run is saved (see :meth:`_refuse_shared_ids`).
        """
        saved_at = now()
        covered: set[tuple[str, str]] = set()
        held: set[tuple[str, str]] = set()  # the days the replaced copies counted on
        orphaned: dict[str, dict[str, Any]] = {}
        moved: list[dict[str, str]] = []
        repeated: list[dict[str, str]] = []
        conversations = findings = 0
        with write_transaction(self.engine, self.wait, exclusive=True) as conn:
            run_id = self._insert_run(conn, run, saved_at)
            shops = set(conn.execute(select(TABLES["conversations"].c.shop).distinct()).scalars())
            source = iter(records() if callable(records) else records)
            if adopted:
                self._adopt(conn, adopted)
                shops = set(conn.execute(select(TABLES["conversations"].c.shop).distinct()).scalars())
            bases: set[str | None] = set()
            while batch := list(islice(source, max(1, chunk))):
                by_key = {(shop_key(r.conversation.shop), r.conversation.id): r for r in batch}
                self._refuse_shared_ids(conn, list(by_key), shops)
                shops.update(shop for shop, _ in by_key)
                bases.update(r.basis for r in by_key.values())
                held |= self._stored_days(conn, list(by_key))
                repeated += self._repeats(conn, list(by_key.values()))
                findings += self._upsert(
                    conn, run_id, list(by_key.values()), saved_at, covered, orphaned, moved
                )
                conversations += len(by_key)
            # Days the replaced copies counted on and the new ones do not (a time-only export
            # re-filed under its right date, a --timezone fix): changed by this save, so scored
            # and named with the run's days; they went unreported (audit 114 M1).
            left = held - covered
            covered |= left
            self._refuse_other_bases(conn, covered, bases, run)
            moved += self._move_decisions(conn, renamed or {}, orphaned)
            runs = TABLES["runs"]
            gone = [orphaned[fid] for fid in sorted(orphaned)]
            conn.execute(
                update(runs)
                .where(runs.c.id == run_id)
                .values(
                    conversation_count=conversations,
                    finding_count=findings,
                    days=json_text([{"shop": s, "date": d} for s, d in sorted(covered)]),
                    run_json=json_text(
                        {
                            **run,
                            "orphaned_decisions": gone,
                            "moved_decisions": moved,
                            "left_days": [{"shop": s, "date": d} for s, d in sorted(left)],
                            "repeated_conversations": repeated,
                        }
                    ),
                )
            )
            if committing is not None:
                committing(run_id)  # the commit follows: a stop from here may leave the run saved
        return run_id

    def _refuse_other_bases(
        self, conn: Connection, covered: set[tuple[str, str]], bases: set[str | None], run: Mapping[str, Any]
    ) -> None:
        """Refuse a run whose days the store holds conversations of, saved with another basis.

        Scoring those days after the save would refuse them (another day rule or evidence
        limits, :attr:`~qc.scoring.card.Scorecard.basis`) with the run half-applied: its
        conversations saved, no agents files written. Checked after the upsert, in its
        transaction, so the run's own conversations replace their old copies first.

        Raises:
            ConfigError: the first other basis, its conversations and the fixes (exit 2).
        """
        if len(bases) != 1:
            return
        (wanted,) = bases
        days = sorted({day for _, day in covered})
        dated = [d for d in days if d != UNDATED]
        # The ranges the run's scoring reads (score_from_store): its dated days, then the undated.
        spans = ([(dated[0], dated[-1])] if dated else []) + ([(UNDATED, UNDATED)] if UNDATED in days else [])
        for lo, hi in spans:
            for basis, keys in self._bases(conn, lo, hi).items():
                if basis != wanted:
                    card = str((run.get("scorecard") or {}).get("source") or "of this run")
                    raise ConfigError(
                        basis_refusal(self.url, keys, f"{lo}…{hi}", basis, card, wanted or "")
                        + "; nothing of this run was saved"
                    )

    @staticmethod
    def _move_decisions(
        conn: Connection, renamed: Mapping[str, str], orphaned: dict[str, dict[str, Any]]
    ) -> list[dict[str, str]]:
        """Re-key the decided findings the run renumbered (caller's transaction); returns them.

        Only a decision the save would orphan moves, and only to an id the run stored: the
        same finding on the same message, which an earlier export's part now precedes.
        """
        found = TABLES["findings"]
        moved = []
        for old in sorted(set(renamed) & set(orphaned)):
            new = renamed[old]
            if (
                conn.execute(select(found.c.finding_id).where(found.c.finding_id == new).limit(1)).first()
                is None
            ):
                continue
            rows = 0
            for table in (
                REVIEW_TABLES["review_log"],
                REVIEW_TABLES["appeals"],
                WORKBENCH_TABLES["calibration_items"],
                WORKBENCH_TABLES["calibration_verdicts"],
            ):
                rows += conn.execute(
                    update(table).where(table.c.finding_id == old).values(finding_id=new)
                ).rowcount
            if not rows:
                continue  # kept under ID~RUN already: its id names another finding (_rekey_decisions)
            del orphaned[old]
            moved.append({"from": old, "to": new})
        return moved

    @staticmethod
    def _refuse_shared_ids(conn: Connection, keys: list[tuple[str, str]], shops: set[str]) -> None:
        """Refuse conversations whose id the store (or this run so far) holds for another shop.

        Findings, decisions, ``qc show`` and the workbench know a conversation by its id, so two
        shops' conversations sharing one (two shops' exports both named qianniu_2026-11-24.txt
        give the same ids; one shop spelt two ways) would share findings and decisions. Checked
        through the (shop, id) index against each other shop the store holds: a store of one
        shop asks nothing.

        Raises:
            StoreError: the first such id, both shops and the fixes (exit 2).
        """
        seen: dict[str, str] = {}
        for shop, cid in keys:
            if seen.setdefault(cid, shop) != shop:
                raise _shared_id(cid, seen[cid], shop)
        convs = TABLES["conversations"]
        for other in sorted(shops):
            ids = [cid for shop, cid in keys if shop != other]
            for start in range(0, len(ids), _CHUNK):
                clash = conn.execute(
                    select(convs.c.conversation_id)
                    .where(convs.c.shop == other, convs.c.conversation_id.in_(ids[start : start + _CHUNK]))
                    .limit(1)
                ).scalar()
                if clash is not None:
                    raise _shared_id(clash, other, seen[clash])

    def check_writable(self) -> None:
        """Refuse now a store this run's save could not write (a PostgreSQL replica or read-only role).

        SQLite's file and folder are checked before it is opened; a PostgreSQL database with
        ``default_transaction_read_only`` or a role without INSERT on qc's tables was found at the
        save, after the whole day had been inspected (audit 114 M4). Writes nothing.

        Raises:
            StoreError: the database is read-only or the role may not write qc's tables (exit 2).
        """
        if self.engine.dialect.name != "postgresql":
            return
        # Every table a save writes (rows replaced, decisions re-keyed, parked, the run logged) and
        # the sequences that number them: a role with INSERT alone, or without USAGE on runs_id_seq,
        # passed and failed at the save (audit 115 M3).
        names = sorted(
            {
                *(TABLES[n].name for n in RESULT_TABLES),
                TABLES["runs"].name,
                PARKED_TABLE.name,
                *(t.name for t in _DECISION_TABLES),
                *(t.name for t in SEARCH_TABLES.values()),
            }
        )

        def probe() -> tuple[str, list[str]]:
            with self.engine.connect() as conn:
                read_only = str(conn.execute(text("SHOW transaction_read_only")).scalar())
                refused = [
                    f"{what} on {n}"
                    for n in names
                    for what in ("INSERT", "UPDATE", "DELETE")
                    if not conn.execute(
                        text("SELECT has_table_privilege(:t, :what)"), {"t": n, "what": what}
                    ).scalar()
                ]
                # The sequences qc's tables own (a serial or identity column's), from pg_depend:
                # pg_class, not information_schema, which lists only what the role may use. Another
                # program's in a shared schema refused a role with every right qc needs (audit 117
                # H3), also when its name began with one of qc's tables' (runs_history_id_seq, 118 M3).
                ours = conn.execute(
                    text(
                        "SELECT DISTINCT s.relname FROM pg_class s"
                        " JOIN pg_namespace n ON n.oid = s.relnamespace"
                        " JOIN pg_depend d ON d.objid = s.oid AND d.classid = 'pg_class'::regclass"
                        " AND d.deptype IN ('a', 'i')"
                        " JOIN pg_class t ON t.oid = d.refobjid"
                        " WHERE s.relkind = 'S' AND n.nspname = current_schema()"
                        " AND t.relnamespace = n.oid AND t.relname = ANY(:names)"
                        " ORDER BY s.relname"
                    ),
                    {"names": list(names)},
                ).scalars()
                refused += [
                    f"USAGE on {q}"
                    for q in ours
                    if not conn.execute(text("SELECT has_sequence_privilege(:q, 'USAGE')"), {"q": q}).scalar()
                ]
            return read_only, refused

        read_only, refused = guarded(probe, self.url, self.wait, self.wait_env, retry=True)
        if read_only == "on":
            raise StoreError(
                f"store {self.url} is read-only (a replica or a read-only database): a run that saves"
                " needs a writable one; nothing was read or changed"
            )
        if refused:
            shown = ", ".join(refused[:6]) + (f" and {len(refused) - 6} more" if len(refused) > 6 else "")
            raise StoreError(
                f"store {self.url}: this database role lacks {shown}: a run that saves needs INSERT, UPDATE"
                " and DELETE on qc's tables and USAGE on its sequences (ask the database's owner); nothing"
                " was read or changed"
            )

    def run_returns(self, run_id: int) -> list[dict[str, Any]]:
        """The run's conversations that ``qc store forget`` had taken off the store before it.

        Each is ``{"shop", "conversation", "forgotten_by", "forgotten_at", "forget_run"}`` (the latest
        forget of it). Inspecting the wrong copy's file again stores it again: the run says so,
        rather than count it twice once more without a word.
        """
        convs = TABLES["conversations"]
        latest: dict[tuple[str, str], dict[str, Any]] = {}
        with self.engine.connect() as conn:
            for rid, at, _, run in _forget_runs(conn, before=run_id):
                for p in run.get("forgotten") or []:
                    if p.get("shop") is not None:
                        latest[(p["shop"], p["conversation"])] = {
                            "shop": p["shop"],
                            "conversation": p["conversation"],
                            "forgotten_by": run.get("by", ""),
                            "forgotten_at": at,
                            "forget_run": int(rid),
                        }
            out = []
            for shop, chunk in _id_chunks(sorted(latest)):
                q2 = select(convs.c.conversation_id).where(
                    convs.c.run_id == run_id, convs.c.shop == shop, convs.c.conversation_id.in_(chunk)
                )
                out += [latest[(shop, cid)] for cid in conn.execute(q2).scalars()]
        return sorted(out, key=lambda r: (r["shop"], r["conversation"]))

    def run_repeats(self, run_id: int) -> list[dict[str, str]]:
        """The run's conversations that repeat a stored conversation of another id, message for message.

        Each is ``{"shop", "conversation", "repeats"}`` (see :meth:`_repeats`).
        """
        return list(self._run_json(run_id).get("repeated_conversations") or [])

    @staticmethod
    def _repeats(conn: Connection, records: Sequence[ConversationRecord]) -> list[dict[str, str]]:
        """The records named after their file that a stored conversation of another id repeats.

        A time-only export without conversation ids names its chats after the file and takes its
        day from the file's name: filed under the wrong day and then under the right one, or
        copied as ``… (1).txt``, it was stored twice and the month counted its buyers and replies
        twice, unsaid (audit 114 M2). Repeats: the same shop and :func:`_fingerprint`, looked up
        by the index on them, one query per batch (comparing messages pair by pair took minutes
        on a day of short chats, audit 117 H4; 118 M2). Also two of the batch itself.
        """
        convs = TABLES["conversations"]
        mine: dict[tuple[str, str], list[str]] = {}
        for r in records:
            print_ = _fingerprint(r.conversation)
            if print_ is not None:
                mine.setdefault((shop_key(r.conversation.shop), print_), []).append(r.conversation.id)
        out: list[dict[str, str]] = []
        for (shop, _), ids in sorted(mine.items()):
            out += [{"shop": shop, "conversation": later, "repeats": ids[0]} for later in ids[1:]]
        for shop in sorted({shop for shop, _ in mine}):
            prints = sorted(p for s, p in mine if s == shop)
            for at in range(0, len(prints), _CHUNK):
                q = select(convs.c.fingerprint, convs.c.conversation_id).where(
                    convs.c.shop == shop, convs.c.fingerprint.in_(prints[at : at + _CHUNK])
                )
                for print_, stored in conn.execute(q.order_by(convs.c.conversation_id)).all():
                    out += [
                        {"shop": shop, "conversation": cid, "repeats": stored}
                        for cid in mine[(shop, print_)]
                        if cid != stored
                    ]
        return out

    def run_left_days(self, run_id: int) -> list[dict[str, str]]:
        """The (shop, day) pairs a run's save took conversations off (``{"shop", "date"}`` each).

        Their stored copies counted on these days and the run's copies do not.
        """
        return list(self._run_json(run_id).get("left_days") or [])

    @staticmethod
    def _stored_days(conn: Connection, keys: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
        """The (shop, day) pairs the stored copies of these conversations count on (parts and findings)."""
        out: set[tuple[str, str]] = set()
        for name in ("parts", "findings"):
            t = TABLES[name]
            for shop, chunk in _id_chunks(keys):
                # No DISTINCT: with it SQLite chose the (shop, date) index and scanned every row of
                # the shop for each batch (a save 3.4 times slower on a month's store, audit 115 M2).
                q = select(t.c.date).where(t.c.shop == shop, t.c.conversation_id.in_(chunk))
                out.update((shop, d) for (d,) in conn.execute(q))
        return out

    def run_orphans(self, run_id: int) -> list[dict[str, Any]]:
        """The decisions a run's save orphaned: on findings its conversations held before and no longer do.

        Each is ``{"finding_id", "conversation_id", "kind", "state"}`` (``state``: the latest
        decision's), by finding id. The decisions themselves stay in ``review_log``.
        """
        return list(self._run_json(run_id).get("orphaned_decisions") or [])

    def parked_as(self, finding_id: str) -> list[str]:
        """The ids a finding's decisions are kept under since a run lost it (``ID~RUN``), oldest first."""
        t = PARKED_TABLE
        with self.engine.connect() as conn:
            q = select(t.c.parked_id).where(t.c.finding_id == finding_id).order_by(t.c.run_id)
            return list(conn.execute(q).scalars())

    # ------------------------------------------------------------------ forgetting

    def runs(self, last: int | None = None, *, only: int | None = None) -> list[RunSummary]:
        """The store's runs, oldest first (the ``last`` ones, or run ``only``, when given).

        The audit log of saves: a supervisor finds here the run that filed a day under the wrong
        date or read the wrong folder, and how many of its conversations are still its copies,
        before ``qc store forget --run`` takes them off.
        """
        runs, convs = TABLES["runs"], TABLES["conversations"]
        q = select(
            runs.c.id,
            runs.c.started_at,
            runs.c.inputs,
            runs.c.days,
            runs.c.conversation_count,
            runs.c.finding_count,
            runs.c.run_json,
        ).order_by(runs.c.id.desc())
        if only is not None:
            q = q.where(runs.c.id == only)
        if last is not None:
            q = q.limit(max(last, 0))
        with self.engine.connect() as conn:
            rows = list(reversed(conn.execute(q).all()))
            held: dict[int, int] = {}
            for at in range(0, len(rows), _CHUNK):
                ids = [r.id for r in rows[at : at + _CHUNK]]
                counted = (
                    select(convs.c.run_id, func.count())
                    .where(convs.c.run_id.in_(ids))
                    .group_by(convs.c.run_id)
                )
                held.update((int(rid), int(n)) for rid, n in conn.execute(counted))
            said = [json.loads(r.run_json or "{}") for r in rows]
            continued = {
                int(r.id): len(self._run_continued(conn, int(r.id), run))
                for r, run in zip(rows, said, strict=True)
            }
            targets = {
                (p.get("shop", ""), p.get("repeats", ""))
                for run in said
                for p in run.get("repeated_conversations") or []
            }
            stored = self._held_keys(conn, targets)
        return [
            _run_summary(r, run, held.get(int(r.id), 0), continued.get(int(r.id), 0), stored)
            for r, run in zip(rows, said, strict=True)
        ]

    def run_count(self) -> int:
        """How many runs the store holds (``qc store runs`` says how many it left out)."""
        runs = TABLES["runs"]
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(runs)).scalar() or 0)

    def held_conversations(self, keys: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        """The (shop, conversation id) pairs of ``keys`` the store holds now."""
        with self.engine.connect() as conn:
            return self._held_keys(conn, keys)

    @staticmethod
    def _held_keys(conn: Connection, keys: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        convs = TABLES["conversations"]
        out: set[tuple[str, str]] = set()
        for shop, chunk in _id_chunks(keys):
            q = select(convs.c.conversation_id).where(
                convs.c.shop == shop, convs.c.conversation_id.in_(chunk)
            )
            out.update((shop, cid) for cid in conn.execute(q).scalars())
        return out

    def forget_plan(self, conversation_ids: Sequence[str]) -> list[ForgetPlan]:
        """What forgetting these stored conversations would take off the store, one plan each, in order.

        The same export filed under two names (a file renamed to its day, a copy) is stored and
        counted twice, and the repeated-conversation warning could only say so: this is what
        ``qc store forget`` shows before it removes the wrong copy. An id the store does not
        hold is a plan with no shop (``missing``). A whole run's are :meth:`run_held`.
        """
        with self.engine.connect() as conn:
            return self._plans(conn, conversation_ids)

    def run_held(self, run_id: int) -> list[str]:
        """The conversations run ``run_id`` holds as its own copies, by id: what ``forget --run`` takes.

        A whole run can be wrong (a day filed under the wrong date, the wrong folder read), and
        its conversation ids are many. A later run that read the same conversation again holds it
        now, so it is not this run's to take; nor is one the run continued (:meth:`run_continued`).

        Raises:
            ConfigError: the store has no such run, it is a forget run, or it holds none of its
                own (exit 2).
        """
        with self.engine.connect() as conn:
            return self._run_held(conn, run_id)

    def run_continued(self, run_id: int) -> list[str]:
        """The conversations run ``run_id`` holds that it continued: they keep an earlier copy's messages.

        A chat cut at midnight, its first part stored before (run.json ``continued_conversations``):
        taking it off would take the earlier run's messages too, which that run's files alone do
        not bring back (audit 141 M1, 143 M2), so ``qc store forget --run`` leaves them and names them.
        """
        with self.engine.connect() as conn:
            return sorted(self._run_continued(conn, run_id))

    def run_replaced(self, run_id: int) -> dict[str, int]:
        """The run's own conversations that replaced whole a copy an earlier run stored: id → that run.

        Moved to another day or read again in full: nothing of the earlier copy is left in them,
        so ``forget --run`` takes them, and says that the earlier run's files bring that copy back.
        Known for conversations stored since schema 19.
        """
        convs = TABLES["conversations"]
        q = select(convs.c.conversation_id, convs.c.first_run_id).where(
            convs.c.run_id == run_id, convs.c.first_run_id < run_id
        )
        with self.engine.connect() as conn:
            continued = self._run_continued(conn, run_id)
            rows = conn.execute(q.order_by(convs.c.conversation_id)).all()
        return {cid: int(first) for cid, first in rows if cid not in continued}

    @staticmethod
    def _run_continued(conn: Connection, run_id: int, said: dict[str, Any] | None = None) -> set[str]:
        """:meth:`run_continued` as a set; ``said``: the run's run.json when the caller has read it."""
        runs, convs = TABLES["runs"], TABLES["conversations"]
        if said is None:
            stored = conn.execute(select(runs.c.run_json).where(runs.c.id == run_id)).scalar()
            said = json.loads(stored or "{}")
        kept = {
            c.get("conversation_id")
            for c in said.get("continued_conversations") or []
            if int(c.get("stored_messages_kept") or 0) > 0
        }
        if not kept:
            return set()
        q = select(convs.c.conversation_id).where(convs.c.run_id == run_id)
        return {cid for cid in conn.execute(q).scalars() if cid in kept}

    def _run_held(self, conn: Connection, run_id: int) -> list[str]:
        """:meth:`run_held` through the caller's connection (inside a write, its transaction)."""
        runs, convs = TABLES["runs"], TABLES["conversations"]
        row = conn.execute(
            select(runs.c.conversation_count, runs.c.run_json).where(runs.c.id == run_id)
        ).first()
        if row is None:
            newest = int(conn.execute(select(func.max(runs.c.id))).scalar() or 0)
            raise ConfigError(
                f"the store has no run {run_id} (its runs are 1 to {newest}): nothing was forgotten;"
                " `qc store runs` lists them"
                if newest
                else f"the store has no run {run_id}: nothing was saved in it yet"
            )
        said = json.loads(row.run_json or "{}")
        if said.get("command") == FORGET_COMMAND:
            raise ConfigError(
                f"run {run_id} forgot conversations and stored none: nothing was forgotten. What it took"
                " off comes back when its files are inspected again"
            )
        q = select(convs.c.conversation_id).where(convs.c.run_id == run_id)
        held = list(conn.execute(q.order_by(convs.c.conversation_id)).scalars())
        continued = self._run_continued(conn, run_id, said)
        ids = [cid for cid in held if cid not in continued]
        if not ids and continued:
            raise OnlyContinued(run_id, sorted(continued))
        if not ids:
            later = conn.execute(
                select(convs.c.conversation_id, convs.c.run_id)
                .where(convs.c.first_run_id == run_id, convs.c.run_id > run_id)
                .order_by(convs.c.conversation_id)
            ).all()
            holders = ", ".join(str(r) for r in sorted({int(r) for _, r in later}))
            raise ConfigError(
                f"run {run_id} stored {row.conversation_count} conversation(s) and none of them is its copy"
                " any more: nothing was forgotten; "
                + (
                    f"run {holders} read {len(later)} of them again and hold them now: `qc store forget"
                    f" --run` of that run takes them"
                    if later
                    else "they were read again by later runs or forgotten (`qc store runs` says which runs"
                    " hold conversations now)"
                )
            )
        return ids

    def _plans(self, conn: Connection, conversation_ids: Sequence[str]) -> list[ForgetPlan]:
        """:meth:`forget_plan` through the caller's connection (inside a write, its transaction)."""
        convs, msgs, found = TABLES["conversations"], REVIEW_TABLES["messages"], TABLES["findings"]
        out: list[ForgetPlan] = []
        for cid in dict.fromkeys(conversation_ids):
            shop = conn.execute(select(convs.c.shop).where(convs.c.conversation_id == cid).limit(1)).scalar()
            if shop is None:
                out.append(ForgetPlan(conversation=cid, shop=None))
                continue
            key = [(shop, cid)]
            rows = conn.execute(
                select(found.c.needs_review, found.c.suppressed).where(
                    found.c.shop == shop, found.c.conversation_id == cid
                )
            ).all()
            count = select(func.count()).where(msgs.c.shop == shop, msgs.c.conversation_id == cid)
            out.append(
                ForgetPlan(
                    conversation=cid,
                    shop=shop,
                    days=tuple(sorted(d for _, d in self._stored_days(conn, key))),
                    messages=int(conn.execute(count).scalar() or 0),
                    findings=len(rows),
                    live=sum(1 for held, quiet in rows if not held and not quiet),
                    decided=tuple(sorted(self._decided_findings(conn, key)[0])),
                )
            )
        return out

    def forget(
        self,
        conversation_ids: Sequence[str],
        *,
        actor: str,
        note: str,
        park_decisions: bool = False,
        run: int | None = None,
    ) -> tuple[int, list[ForgetPlan]]:
        """Take these stored conversations off the store in one transaction: returns its run and what went.

        Everything stored of each (its row, messages, findings, metric parts) goes, so the days it
        counted on score without it; nothing else is touched. The removal is a run of its own
        (``runs``: who, why, what went, on which days) and one audit row per conversation, so
        exports and ``qc compare`` see the days changed. Decisions on its findings are never
        dropped: with ``park_decisions`` they are kept under ``ID~RUN`` (``qc review log``
        finds them), and the same finding inspected again takes them back; without it, a
        conversation with decisions is refused. With ``run``, the conversations are those the run
        stored that are still its copies (:meth:`run_held`), read inside the transaction.

        Raises:
            ConfigError: an id the store does not hold, a run with nothing to forget, or decisions
                without ``park_decisions`` (exit 2); nothing is changed.
        """
        saved_at = now()
        with write_transaction(self.engine, self.wait, exclusive=True) as conn:
            # Planned again inside the write lock: a run may have saved since the caller looked.
            ids = self._run_held(conn, run) if run is not None else conversation_ids
            plans = self._plans(conn, ids)
            missing = [shown_id(p.conversation) for p in plans if p.shop is None]
            if missing:
                raise ConfigError(
                    f"the store holds no conversation {', '.join(missing[:5])}"
                    f"{' …' if len(missing) > 5 else ''}: nothing was forgotten; `qc flagged` and"
                    " `qc show` name stored conversations"
                )
            decided = {fid: p for p in plans for fid in p.decided}
            if decided and not park_decisions:
                which = ", ".join(sorted({shown_id(p.conversation) for p in decided.values()}))
                raise ConfigError(
                    f"{len(decided)} finding(s) of {which} carry decisions (review, appeal or calibration),"
                    f" e.g. {min(decided)}: nothing was forgotten. If this is the copy to drop, add"
                    " --park-decisions to keep them under ID~RUN (the same finding inspected again takes"
                    " them back); or forget the other copy"
                )
            keys = [(p.shop, p.conversation) for p in plans if p.shop is not None]
            days = sorted({(p.shop, d) for p in plans if p.shop is not None for d in p.days})
            gone, about = self._decided_findings(conn, keys)
            forgotten = [p.as_json() for p in plans]
            said: dict[str, Any] = {"command": FORGET_COMMAND, "by": actor, "why": note}
            if run is not None:
                said["from_run"] = run
            said["forgotten"] = forgotten
            run_id = self._insert_run(conn, {**said, "qc_version": __version__}, saved_at)
            follow = _Followed(detached={fid for fid in gone if fid in about})
            self._rekey_decisions(conn, follow, run_id, about)
            orphaned = [
                {**gone[fid], **({"kept_as": f"{fid}~{run_id}"} if fid in follow.detached else {})}
                for fid in sorted(gone)
            ]
            self._forget(conn, keys)
            for p in plans:
                self.append_log(
                    conn,
                    finding_id="",
                    action="forget",
                    actor=actor,
                    note=note,
                    before=f"{p.messages} messages, {p.findings} findings on {', '.join(p.days) or 'no day'}",
                    after=f"forgotten (run {run_id})",
                    source=f"conversation:{p.shop}/{p.conversation}",
                )
            runs = TABLES["runs"]
            conn.execute(
                update(runs)
                .where(runs.c.id == run_id)
                .values(
                    days=json_text([{"shop": s, "date": d} for s, d in days]),
                    run_json=json_text({**said, "orphaned_decisions": orphaned}),
                )
            )
        return run_id, plans

    def run_moves(self, run_id: int) -> list[dict[str, str]]:
        """The decisions a run's save moved to a renumbered finding's new id: ``{"from", "to"}`` each."""
        return list(self._run_json(run_id).get("moved_decisions") or [])

    def decision_moves(self, finding_id: str) -> list[dict[str, Any]]:
        """The moves of decisions onto or off ``finding_id`` by runs that renumbered it, oldest first.

        Each is ``{"run", "at", "from", "to"}`` (``at``: when the run started), read from the runs'
        ``moved_decisions``: the audit rows themselves carry the new id only.
        """
        runs = TABLES["runs"]
        q = (
            select(runs.c.id, runs.c.started_at, runs.c.run_json)
            .where(runs.c.run_json.contains(finding_id, autoescape=True))
            .order_by(runs.c.id)
        )
        out = []
        with self.engine.connect() as conn:
            for run_id, started_at, stored in conn.execute(q):
                for move in json.loads(stored or "{}").get("moved_decisions") or []:
                    if finding_id in (move.get("from"), move.get("to")):
                        out.append({"run": run_id, "at": started_at, "from": move["from"], "to": move["to"]})
        return out

    def _run_json(self, run_id: int) -> dict[str, Any]:
        runs = TABLES["runs"]
        with self.engine.connect() as conn:
            stored = conn.execute(select(runs.c.run_json).where(runs.c.id == run_id)).scalar()
        return json.loads(stored) if stored else {}

    def orphaned_decisions(self) -> dict[str, str]:
        """Every decided finding id (review or appeal) no stored finding has, with its latest state.

        A re-inspection that no longer finds what a decision was about leaves the decision in
        the audit log, attached to nothing: it is reported, never dropped.
        """
        log, appeals, found = REVIEW_TABLES["review_log"], REVIEW_TABLES["appeals"], TABLES["findings"]
        stored = exists().where(found.c.finding_id == log.c.finding_id)
        q = (
            select(log.c.finding_id, log.c.state_after)
            .where(log.c.finding_id != "", ~stored)
            .order_by(log.c.id)
        )
        appealed = select(appeals.c.finding_id).where(
            ~exists().where(found.c.finding_id == appeals.c.finding_id)
        )
        states: dict[str, str] = {}
        with self.engine.connect() as conn:
            for fid, state in conn.execute(q):
                states[fid] = state
            for (fid,) in conn.execute(appealed):
                states.setdefault(fid, "appealed")
        return dict(sorted(states.items()))

    def _insert_run(self, conn: Connection, run: dict[str, Any], saved_at: str) -> int:
        """The run's row in ``runs`` (the audit log), counts and days still empty; returns its id."""
        counts = run.get("counts", {})
        scorecard = run.get("scorecard") or {}
        inserted = conn.execute(
            TABLES["runs"]
            .insert()
            .values(
                started_at=run.get("started_at") or saved_at,
                qc_version=str(run.get("qc_version", "")),
                scorecard_hash=scorecard.get("hash"),
                scorecard_name=scorecard.get("name"),
                lexicon_version=run.get("lexicon_version"),
                model_version=run.get("model_version"),
                read_count=int(counts.get("read", 0)),
                accepted_count=int(counts.get("accepted", 0)),
                rejected_count=int(counts.get("rejected", 0)),
                conversation_count=0,
                finding_count=0,
                inputs=json_text([f.get("path") for f in run.get("files", [])]),
                days="[]",
                run_json=json_text(run),
            )
        )
        return _new_id(inserted)

    def _upsert(
        self,
        conn: Connection,
        run_id: int,
        records: Sequence[ConversationRecord],
        saved_at: str,
        covered: set[tuple[str, str]],
        orphaned: dict[str, dict[str, Any]],
        moved: list[dict[str, str]],
    ) -> int:
        """Replace what is stored of these conversations (one key each) with them; returns their findings.

        Adds the (shop, day) pairs they count on to ``covered``, to ``orphaned`` each decided
        finding of theirs that the new copies no longer have, and to ``moved`` each one whose
        decisions followed it to a new id (:func:`_follow_decisions`).
        """
        decided, about_what = self._decided_findings(
            conn, [(shop_key(r.conversation.shop), r.conversation.id) for r in records]
        )
        rows: dict[str, list[dict[str, Any]]] = {name: [] for name in RESULT_TABLES}
        for r in records:
            conv, shop = r.conversation, shop_key(r.conversation.shop)
            dated = sorted(d for d in r.days if d != UNDATED)
            summary = r.summary
            rows["conversations"].append(
                dict(
                    shop=shop,
                    date=summary.date,
                    last_date=dated[-1] if dated else summary.date,
                    conversation_id=conv.id,
                    agents=json_text(list(summary.agents)),
                    buyer_messages=summary.buyer_messages,
                    agent_messages=summary.agent_messages,
                    turns=summary.turns,
                    turns_replied=summary.turns_replied,
                    avg_response_s=summary.avg_response_s,
                    first_response_s=summary.first_response_s,
                    answer_ratio=summary.answer_ratio,
                    source=conv.source,
                    basis=r.basis,
                    fingerprint=_fingerprint(conv),
                    saved_at=saved_at,
                )
            )
            rows["messages"].extend(message_rows(conv, r.days))
            rows["findings"].extend(finding_row(a.finding, conv.shop, a.date, a.agent) for a in r.findings)
            rows["parts"].extend(part_row(p) for p in r.parts)
            covered.update((shop, p.date) for p in r.parts)
            covered.update((shop, a.date) for a in r.findings)
        now = _signatures(records)
        retimed = self._retimed(conn, records, {was[:2] for was in about_what.values()}) if decided else {}
        follow = _follow_decisions(decided, about_what, records, now, retimed) if decided else _Followed()
        for fid, about in decided.items():
            if fid in follow.gone:
                orphaned[fid] = about
            else:
                orphaned.pop(fid, None)
        self._forget(
            conn, [(shop_key(r.conversation.shop), r.conversation.id) for r in records], CHILD_TABLES
        )
        self._rekey_decisions(conn, follow, run_id, about_what)
        for fid in follow.detached & orphaned.keys():
            # Parked: the report names where the decisions are kept.
            orphaned[fid] = {**orphaned[fid], "kept_as": f"{fid}~{run_id}"}
        moved.extend({"from": old, "to": new} for old, new in sorted(follow.moves.items()))
        moved.extend(self._unpark(conn, now))
        for name in RESULT_TABLES:
            table = TABLES[name]
            batch = rows[name]
            if name == "conversations":
                batch = [{**row, "run_id": run_id, "first_run_id": run_id} for row in batch]
            elif name != "messages":
                batch = [{**row, "run_id": run_id} for row in batch]
            statement = _upsert_conversations(conn) if name == "conversations" else table.insert()
            for start in range(0, len(batch), 5000):
                conn.execute(statement, batch[start : start + 5000])
        return len(rows["findings"])

    @staticmethod
    def _retimed(
        conn: Connection, records: Sequence[ConversationRecord], keys: Collection[tuple[str, str]]
    ) -> dict[tuple[str, str], dict[int, int]]:
        """Stored index → new index in each conversation of ``keys`` whose new copy re-exports the stored one.

        A clock-corrected export or a --timezone fix moves every time by one offset, and may
        complete a line or two (:func:`~qc.readers.reexport.realign`): the alignment names the
        message a decided finding is on now (audit 114 H1, 115 H1). Elsewhere the times tell two
        sends of the same words apart.
        """
        msgs = REVIEW_TABLES["messages"]
        new = {(shop_key(r.conversation.shop), r.conversation.id): r.conversation.messages for r in records}
        out: dict[tuple[str, str], dict[int, int]] = {}
        for shop, cid in sorted(keys):
            if (shop, cid) not in new:
                continue
            q = (
                select(msgs.c.idx, msgs.c.role, msgs.c.sender, msgs.c.text, msgs.c.sent_at, msgs.c.auto_reply)
                .where(msgs.c.shop == shop, msgs.c.conversation_id == cid)
                .order_by(msgs.c.idx)
            )
            rows = list(conn.execute(q))
            again = realign(
                [
                    as_said(role, sender, text, datetime.fromisoformat(at) if at else None, bool(auto))
                    for _, role, sender, text, at, auto in rows
                ],
                [as_said(m.role.value, m.sender, m.text, m.sent_at, m.auto_reply) for m in new[(shop, cid)]],
            )
            if again is not None:
                indexes = [m.index for m in new[(shop, cid)]]
                out[(shop, cid)] = {rows[a].idx: indexes[b] for a, b in again.sure.items()}
        return out

    @staticmethod
    def _adopt(conn: Connection, adopted: Mapping[tuple[str, str], str]) -> None:
        """Give stored conversations the shop a run has them for (caller's transaction)."""
        tables = [TABLES[name] for name in RESULT_TABLES] + [SEARCH_TABLES["search_docs"]]
        for (old, cid), new in sorted(adopted.items()):
            for t in tables:
                conn.execute(update(t).where(t.c.shop == old, t.c.conversation_id == cid).values(shop=new))

    def _forget(
        self, conn: Connection, keys: Sequence[tuple[str, str]], tables: Sequence[str] = RESULT_TABLES
    ) -> None:
        """Delete the rows of ``tables`` of these (shop, conversation id) pairs (caller's transaction)."""
        for shop, chunk in _id_chunks(keys):
            for name in tables:
                t = TABLES[name]
                conn.execute(delete(t).where(t.c.shop == shop, t.c.conversation_id.in_(chunk)))

    def _decided_findings(
        self, conn: Connection, keys: Sequence[tuple[str, str]]
    ) -> tuple[dict[str, dict[str, Any]], dict[str, _Signature]]:
        """The stored findings of these conversations that a decision points at, by id.

        A decision is a review, an appeal or a calibration item. Also what each finding is
        about (:data:`_Signature`: its message as written and its kind, entry and span), so a
        save can tell whether the id still names the same finding.
        """
        found, msgs = TABLES["findings"], TABLES["messages"]
        log = REVIEW_TABLES["review_log"]
        pointed = union(
            select(log.c.finding_id),
            select(REVIEW_TABLES["appeals"].c.finding_id),
            select(WORKBENCH_TABLES["calibration_items"].c.finding_id),
        ).subquery()
        on_message = and_(
            msgs.c.shop == found.c.shop,
            msgs.c.conversation_id == found.c.conversation_id,
            msgs.c.idx == found.c.message_index,
        )
        out: dict[str, dict[str, Any]] = {}
        about: dict[str, _Signature] = {}
        for shop, chunk in _id_chunks(keys):
            q = (
                select(
                    found.c.finding_id,
                    found.c.conversation_id,
                    found.c.kind,
                    found.c.message_index,
                    found.c.entry,
                    found.c.start,
                    found.c.end,
                    msgs.c.text,
                    msgs.c.sender,
                    msgs.c.sent_at,
                )
                .outerjoin(msgs, on_message)
                .where(
                    found.c.shop == shop,
                    found.c.conversation_id.in_(chunk),
                    found.c.finding_id.in_(select(pointed.c.finding_id)),
                )
                .order_by(found.c.finding_id)
            )
            for fid, cid, kind, index, entry, start, end, said, sender, sent_at in conn.execute(q):
                out[fid] = {"finding_id": fid, "conversation_id": cid, "kind": kind, "state": "pending"}
                if said is not None:
                    about[fid] = (shop, cid, kind, entry, start, end, said, sender, _instant(sent_at), index)
        ids = sorted(out)
        for at in range(0, len(ids), _CHUNK):
            latest = (
                select(log.c.finding_id, log.c.state_after)
                .where(log.c.finding_id.in_(ids[at : at + _CHUNK]))
                .order_by(log.c.id)
            )
            for decided_id, state_after in conn.execute(latest):
                out[decided_id]["state"] = state_after
        return out, about

    @staticmethod
    def _rekey_decisions(
        conn: Connection, follow: _Followed, run_id: int, about: Mapping[str, _Signature]
    ) -> None:
        """Give decisions their findings' new ids; detach those the run lost (caller's transaction).

        Through a parking id first: a decision may move to an id another decision is moving off.
        A detached decision's parking id is kept with what it was about, so the same finding
        coming back as it was takes it back (:meth:`_unpark`).
        """
        for old in sorted(follow.moves):
            _rekey(conn, old, f"{old}~moving")
        for old in sorted(follow.detached):
            # Orphaned: under its bare id, a finding a later run gives that id (on another
            # message) would take the decision. Kept under the id and the run that lost it.
            parked = f"{old}~{run_id}"
            _rekey(conn, old, parked)
            was = about[old]
            conn.execute(
                PARKED_TABLE.insert().values(
                    parked_id=parked,
                    finding_id=old,
                    shop=was[0],
                    conversation_id=was[1],
                    about=json_text(list(was[2:-1])),
                    run_id=run_id,
                )
            )
        for old, new in sorted(follow.moves.items()):
            _rekey(conn, f"{old}~moving", new)

    @staticmethod
    def _unpark(conn: Connection, now: Mapping[str, _Signature]) -> list[dict[str, str]]:
        """Give parked decisions back to their finding when it comes back as it was (caller's transaction).

        A wrong re-export (an edited message, a renamed agent) parked them; the original export
        inspected again brings the finding back on the same message as written. It takes them
        back unless it has decisions of its own since; the latest parking wins. ``now`` is what
        each finding the save stores is about (:func:`_signatures`).
        """
        if not now:
            return []
        t = PARKED_TABLE
        parked: list[Any] = []
        ids = sorted(now)
        for at in range(0, len(ids), _CHUNK):
            q = select(t).where(t.c.finding_id.in_(ids[at : at + _CHUNK]))
            parked.extend(conn.execute(q).all())
        back: list[dict[str, str]] = []
        taken: set[str] = set()
        for row in sorted(parked, key=lambda r: -int(r.run_id)):
            what = now[row.finding_id]
            same = (
                row.shop,
                row.conversation_id,
                *json.loads(row.about)[:-1],
                _instant(json.loads(row.about)[-1]),
            ) == what
            if not same or row.finding_id in taken or _decided(conn, row.finding_id):
                continue
            _rekey(conn, row.parked_id, row.finding_id)
            conn.execute(delete(t).where(t.c.parked_id == row.parked_id))
            taken.add(row.finding_id)
            back.append({"from": row.parked_id, "to": row.finding_id})
        return back

    def _kept(self, t: Any) -> Any:
        """A condition: the row belongs to a stored conversation (not an orphan of schema 3)."""
        c = TABLES["conversations"]
        return exists().where(and_(c.c.shop == t.c.shop, c.c.conversation_id == t.c.conversation_id))

    def parts(self, date_from: str, date_to: str, agent: str | None = None) -> list[MetricPart]:
        """Metric parts (one conversation, agent and day each) dated ``date_from`` … ``date_to``.

        ``agent`` keeps that agent's: the conversations a dashboard counts for them.
        """
        t = TABLES["parts"]
        q = select(t).where(t.c.date.between(date_from, date_to)).order_by(t.c.date, t.c.agent)
        if agent is not None:
            q = q.where(t.c.agent == agent)
        with self.engine.connect() as conn:
            return [part_from_row(r) for r in conn.execute(q)]

    def saved_bases(self) -> set[str | None]:
        """Every basis the store's conversations were saved with (empty for an empty store)."""
        c = TABLES["conversations"]
        with self.engine.connect() as conn:
            return set(conn.execute(select(c.c.basis).distinct()).scalars())

    def bases(self, date_from: str, date_to: str) -> dict[str | None, list[tuple[str, str]]]:
        """The bases of the conversations with parts in the range, each with its (shop, id) pairs."""
        with self.engine.connect() as conn:
            return self._bases(conn, date_from, date_to)

    @staticmethod
    def _bases(conn: Connection, date_from: str, date_to: str) -> dict[str | None, list[tuple[str, str]]]:
        c = TABLES["conversations"]
        dated = _dated_conversations(date_from, date_to)
        q = (
            select(c.c.basis, c.c.shop, c.c.conversation_id)
            .join(dated, and_(dated.c.shop == c.c.shop, dated.c.conversation_id == c.c.conversation_id))
            .order_by(c.c.shop, c.c.conversation_id)
        )
        out: dict[str | None, list[tuple[str, str]]] = {}
        for basis, shop, cid in conn.execute(q):
            out.setdefault(basis, []).append((shop, cid))
        return out

    def scorecards(self, date_from: str, date_to: str) -> dict[str, str]:
        """Hash → name of the scorecards the runs that saved the range's conversations were made with."""
        return {r["scorecard_hash"]: r["scorecard_name"] for r in self.inspected_with(date_from, date_to)}

    def inspected_with(self, date_from: str, date_to: str) -> list[dict[str, Any]]:
        """What the runs that saved the range's conversations were made with, each distinct once.

        ``scorecard_hash``, ``scorecard_name``, ``lexicon_version``, ``model_version`` ("" when a
        run did not say), and from the run's record: ``lexicon_strict``, ``timezone``, ``limits``
        (the input limits in force, without their file's name) and ``user_dict`` (its SHA-256),
        ``None`` where an older run did not record them. An export's tables score stored findings,
        which the lexicon and model of their runs found, and the readers' settings decided what
        was read (audits 107 M2, 113 H3). ``effective`` is the run's effective scorecard when it
        recorded one (outside the distinctness: one hash, one card).
        """
        c, runs = TABLES["conversations"], TABLES["runs"]
        dated = _dated_conversations(date_from, date_to)
        ids = (
            select(runs.c.id)
            .join(c, c.c.run_id == runs.c.id)
            .join(dated, and_(dated.c.shop == c.c.shop, dated.c.conversation_id == c.c.conversation_id))
            .distinct()
        )
        columns = (runs.c.scorecard_hash, runs.c.scorecard_name, runs.c.lexicon_version, runs.c.model_version)
        q = select(*columns, runs.c.run_json).where(runs.c.id.in_(ids.scalar_subquery()))
        entries: dict[str, dict[str, Any]] = {}
        cards: dict[str, Any] = {}
        with self.engine.connect() as conn:
            for card_hash, name, lexicon, model, text in conn.execute(q):
                if not card_hash:
                    continue
                entry, effective = _run_settings(text)
                entry = {
                    "scorecard_hash": card_hash,
                    "scorecard_name": name or "",
                    "lexicon_version": lexicon or "",
                    "model_version": model or "",
                    **entry,
                }
                entries.setdefault(json_text(entry), entry)
                if effective is not None:
                    cards.setdefault(card_hash, effective)
        listed = [entries[key] for key in sorted(entries)]
        return [{**e, "effective": cards.get(e["scorecard_hash"])} for e in listed]

    def day_range(self) -> tuple[str, str] | None:
        """The first and last stored day (of the metric parts), or ``None`` for an empty store."""
        t = TABLES["parts"]
        q = select(func.min(t.c.date), func.max(t.c.date)).where(t.c.date != UNDATED)
        with self.engine.connect() as conn:
            lo, hi = conn.execute(q).one()
        return (lo, hi) if lo is not None else None

    def has_undated(self) -> bool:
        """Whether the store holds conversations without times (their parts or findings are ``undated``)."""
        with self.engine.connect() as conn:
            for name in ("parts", "findings"):
                t = TABLES[name]
                if conn.execute(select(t.c.date).where(t.c.date == UNDATED).limit(1)).first() is not None:
                    return True
        return False

    def conversation_days(self, conversation_id: str) -> list[str]:
        """The days a stored conversation counts on (of its parts and findings), in order."""
        days: set[str] = set()
        with self.engine.connect() as conn:
            for name in ("parts", "findings"):
                t = TABLES[name]
                q = select(t.c.date).where(t.c.conversation_id == conversation_id).distinct()
                days.update(d for (d,) in conn.execute(q))
        return sorted(days)

    def conversation_agents(
        self, date: str | None = None, date_to: str | None = None
    ) -> list[tuple[str, str, list[str]]]:
        """``(conversation id, day, agents)`` of every stored conversation's days, or of some.

        Of one day (``date``), or of the days ``date`` … ``date_to``. The agents are those the
        conversation counts for on that day (its metric parts).
        """
        t = TABLES["parts"]
        q = select(t.c.conversation_id, t.c.date, t.c.agent).order_by(
            t.c.conversation_id, t.c.date, t.c.agent
        )
        if date and date_to:
            q = q.where(t.c.date.between(date, date_to))
        elif date:
            q = q.where(t.c.date == date)
        out: dict[tuple[str, str], list[str]] = {}
        with self.engine.connect() as conn:
            for cid, day, agent in conn.execute(q):
                out.setdefault((cid, day), []).append(agent)
        return [(cid, day, agents) for (cid, day), agents in out.items()]

    def agents(self) -> list[str]:
        """Every agent the store has metric parts or findings for, sorted (as stored)."""
        parts, found = TABLES["parts"], TABLES["findings"]
        with self.engine.connect() as conn:
            names = {r[0] for r in conn.execute(select(parts.c.agent).distinct())}
            names |= {r[0] for r in conn.execute(select(found.c.agent).distinct()) if r[0]}
        return sorted(names)

    def agent_nicks(self) -> dict[str, set[str]]:
        """The nicks each agent account id signed its stored messages with (agents given by id only).

        An export with a 客服ID column keys its agents by that id (``a01``); people still know
        them by the nick (``柚子优选旗舰店:小雨``), which ``--agent`` may then name.
        """
        t = TABLES["messages"]
        query = (
            select(t.c.agent_id, t.c.sender)
            .where(t.c.role == "agent", t.c.agent_id.is_not(None), t.c.sender.is_not(None))
            .distinct()
        )
        out: dict[str, set[str]] = {}
        with self.engine.connect() as conn:
            for agent_id, sender in conn.execute(query):
                if agent_id and sender and agent_id != sender:
                    out.setdefault(agent_id, set()).add(sender)
        return out

    def finding_kinds(self) -> list[str]:
        """The distinct kinds of the stored findings, sorted."""
        t = TABLES["findings"]
        with self.engine.connect() as conn:
            return sorted(r[0] for r in conn.execute(select(t.c.kind).distinct()))

    def findings(
        self,
        *,
        date_from: str | None = None,
        date_to: str | None = None,
        conversation_ids: Collection[str] | None = None,
        finding_ids: Collection[str] | None = None,
        agent: str | None = None,
        kind: str | None = None,
    ) -> list[StoredFinding]:
        """Stored findings of stored conversations, filtered; in date, conversation and message order.

        ``agent`` matches the agent a finding is charged to.
        """
        t = TABLES["findings"]
        q = select(t).where(self._kept(t))
        if date_from:
            q = q.where(t.c.date >= date_from)
        if date_to:
            q = q.where(t.c.date <= date_to)
        if conversation_ids is not None:
            q = q.where(t.c.conversation_id.in_(list(conversation_ids)))
        if finding_ids is not None:
            q = q.where(t.c.finding_id.in_(list(finding_ids)))
        if agent:
            q = q.where(t.c.scored_agent == agent)
        if kind:
            q = q.where(t.c.kind == kind)
        # A whole-message finding (no span) first, in every database: SQLite sorts NULL first and
        # PostgreSQL last, so excerpts, deductions.jsonl and every list differed between stores.
        q = q.order_by(
            t.c.date, t.c.conversation_id, t.c.message_index, t.c.start.asc().nulls_first(), t.c.kind
        )
        with self.engine.connect() as conn:
            return [
                StoredFinding(finding_from_row(r), r.shop, r.date, r.scored_agent or "")
                for r in conn.execute(q)
            ]

    def finding(self, finding_id: str) -> StoredFinding | None:
        """One stored finding by id, or ``None``."""
        found = self.findings(finding_ids=[finding_id])
        return found[-1] if found else None

    def conversations(self, conversation_ids: Collection[str]) -> dict[str, Conversation]:
        """Stored conversations rebuilt with their messages, by id (ids with no messages are absent)."""
        t = REVIEW_TABLES["messages"]
        ids = list(dict.fromkeys(conversation_ids))
        rows_by: dict[str, list[Any]] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(ids), _CHUNK):
                q = select(t).where(t.c.conversation_id.in_(ids[start : start + _CHUNK])).order_by(t.c.idx)
                for r in conn.execute(q):
                    rows_by.setdefault(r.conversation_id, []).append(r)
        return {cid: conversation_from_rows(cid, rows) for cid, rows in rows_by.items()}

    def message_spans(self, keys: Collection[tuple[str, str]]) -> dict[tuple[str, str], tuple[int, str, str]]:
        """Count, first and last ``sent_at`` of the stored messages of these (shop, conversation id) pairs.

        Pairs with no stored message, or with an untimed one, are absent: a run compares them with
        its own copy to find a conversation that an earlier export began (:mod:`qc.batch.splits`).
        The times are compared as text, which orders them only when they share one UTC offset: a
        conversation whose messages have several offsets gets the widest span instead, so the
        run reads its copy and compares the times themselves.
        """
        t = REVIEW_TABLES["messages"]
        offset = func.substr(t.c.sent_at, func.length(t.c.sent_at) - 5, 6)
        out: dict[tuple[str, str], tuple[int, str, str]] = {}
        with self.engine.connect() as conn:
            for shop, chunk in _id_chunks(keys):
                q = (
                    select(
                        t.c.conversation_id,
                        func.count(),
                        func.count(t.c.sent_at),
                        func.min(t.c.sent_at),
                        func.max(t.c.sent_at),
                        func.count(offset.distinct()),
                    )
                    .where(t.c.shop == shop, t.c.conversation_id.in_(chunk))
                    .group_by(t.c.conversation_id)
                )
                for cid, n, timed, first, last, offsets in conn.execute(q):
                    if n and timed == n:
                        if offsets > 1:
                            first, last = _EARLIEST, _LATEST
                        out[(shop, cid)] = (int(n), str(first), str(last))
        return out

    def buyer_nicks(self, conversation_ids: Collection[str]) -> dict[str, set[str]]:
        """Conversation id → the nicks its buyer's stored messages were sent under.

        Masking hides them where a message writes them (木子晴天666您好), as it hides the
        speaker column; an excerpt alone does not say whose conversation it is.
        """
        t = REVIEW_TABLES["messages"]
        return self._of_conversations(
            conversation_ids, t.c.sender, t.c.role == "customer", t.c.sender.is_not(None)
        )

    def shops_of(self, conversation_ids: Collection[str]) -> dict[str, set[str]]:
        """Conversation id → the shops the store holds it for ("" for one saved without a shop)."""
        return self._of_conversations(conversation_ids, REVIEW_TABLES["messages"].c.shop)

    def _of_conversations(
        self, conversation_ids: Collection[str], column: Any, *where: Any
    ) -> dict[str, set[str]]:
        """Conversation id → the distinct values of a messages ``column`` (rows matching ``where``)."""
        t = REVIEW_TABLES["messages"]  # indexed by conversation id alone (conversations by shop first)
        out: dict[str, set[str]] = {}
        ids = sorted(set(conversation_ids))
        with self.engine.connect() as conn:
            for start in range(0, len(ids), _CHUNK):
                q = select(t.c.conversation_id, column).where(
                    t.c.conversation_id.in_(ids[start : start + _CHUNK]), *where
                )
                for cid, value in conn.execute(q.distinct()):
                    out.setdefault(cid, set()).add(value)
        return out

    def charged_spans(self, conversation_ids: Collection[str]) -> dict[str, list[str]]:
        """Conversation id → the texts of its stored findings that point at a span (lexicon phrases).

        What masking spares of a buyer's nick (a buyer nicknamed 爱买不买 and the agent's charged
        爱买不买): only these columns, a chunk of ids at a time, for pages listing many chats.
        """
        t = TABLES["findings"]
        out: dict[str, list[str]] = {}
        ids = sorted(set(conversation_ids))
        with self.engine.connect() as conn:
            for start in range(0, len(ids), _CHUNK):
                q = select(t.c.conversation_id, t.c.text).where(
                    t.c.conversation_id.in_(ids[start : start + _CHUNK]),
                    t.c.start.is_not(None),
                    t.c.text != "",
                    self._kept(t),
                )
                for cid, text in conn.execute(q.distinct()):
                    out.setdefault(cid, []).append(text)
        return out

    def stored_conversations(self, keys: Collection[tuple[str, str]]) -> dict[tuple[str, str], Conversation]:
        """The stored conversations of these (shop, conversation id) pairs, rebuilt with their messages."""
        t = REVIEW_TABLES["messages"]
        rows_by: dict[tuple[str, str], list[Any]] = {}
        with self.engine.connect() as conn:
            for shop, chunk in _id_chunks(keys):
                q = (
                    select(t)
                    .where(t.c.shop == shop, t.c.conversation_id.in_(chunk))
                    .order_by(t.c.conversation_id, t.c.idx)
                )
                for r in conn.execute(q):
                    rows_by.setdefault((shop, r.conversation_id), []).append(r)
        return {key: conversation_from_rows(key[1], rows) for key, rows in rows_by.items()}

    # ------------------------------------------------------------------ the audit log

    def append_log(
        self,
        conn: Connection,
        *,
        finding_id: str,
        action: str,
        actor: str,
        note: str,
        before: str,
        after: str,
        appeal_id: int | None = None,
        source: str = "cli",
    ) -> None:
        """Append one audit row inside the caller's transaction (:meth:`transaction`).

        ``at`` is the local time with its offset. People changes are logged with an empty
        ``finding_id`` (they concern no finding).
        """
        conn.execute(
            REVIEW_TABLES["review_log"]
            .insert()
            .values(
                at=local_now(),
                finding_id=finding_id,
                action=action,
                actor=actor,
                note=note,
                state_before=before,
                state_after=after,
                appeal_id=appeal_id,
                source=source,
            )
        )

    def latest_states(
        self, actions: Collection[str], finding_ids: Collection[str] | None = None
    ) -> dict[str, str]:
        """Each finding's ``state_after`` of its latest audit row whose action is one of ``actions``."""
        log = REVIEW_TABLES["review_log"]
        query = select(log.c.finding_id, log.c.state_after).where(log.c.action.in_(tuple(actions)))
        if finding_ids is not None:
            query = query.where(log.c.finding_id.in_(list(finding_ids)))
        states: dict[str, str] = {}
        with self.engine.connect() as conn:
            for fid, state in conn.execute(query.order_by(log.c.id)):
                states[fid] = state
        return states

    def decided_with(
        self, appeal_ids: Collection[int], actions: Collection[str] = ("confirm", "reject")
    ) -> dict[int, list[str]]:
        """Per appeal, the findings its rulings decided (each once, in the order first decided).

        ``actions``: the audit rows that count (a ruling's other rows, such as the findings it
        closed with a reply, are asked for by their action).
        """
        log = REVIEW_TABLES["review_log"]
        out: dict[int, list[str]] = {}
        ids = list(appeal_ids)
        with self.engine.connect() as conn:
            for start in range(0, len(ids), _CHUNK):
                query = (
                    select(log.c.appeal_id, log.c.finding_id)
                    .where(log.c.appeal_id.in_(ids[start : start + _CHUNK]))
                    .where(log.c.action.in_(tuple(actions)))
                    .order_by(log.c.id)
                )
                for appeal_id, finding_id in conn.execute(query):
                    found = out.setdefault(appeal_id, [])
                    if finding_id not in found:
                        found.append(finding_id)
        return out

    def appeal_steps(self, appeal_ids: Collection[int]) -> dict[int, int]:
        """Per appeal, how many steps (open, answer, rule, reopen) its audit trail holds.

        With the state, what a page showed of an appeal: a form sent from a page that showed it
        answered, after it was ruled and reopened meanwhile, meets the same state but more steps.
        """
        log = REVIEW_TABLES["review_log"]
        out: dict[int, int] = {}
        ids = list(appeal_ids)
        with self.engine.connect() as conn:
            for start in range(0, len(ids), _CHUNK):
                query = (
                    select(log.c.appeal_id, func.count())
                    .where(log.c.appeal_id.in_(ids[start : start + _CHUNK]))
                    .where(log.c.action.in_(APPEAL_STEPS))
                    .group_by(log.c.appeal_id)
                )
                out.update({int(a): int(n) for a, n in conn.execute(query)})
        return out

    def audit_trail(self, finding_id: str | None = None) -> list[dict[str, Any]]:
        """Every audit row, oldest first; of one finding or all."""
        log = REVIEW_TABLES["review_log"]
        q = select(log).order_by(log.c.id)
        if finding_id is not None:
            q = q.where(log.c.finding_id == finding_id)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]

    # ------------------------------------------------------------------ appeals

    def appeal_row(self, appeal_id: int) -> dict[str, Any] | None:
        """One appeal's row by number, or ``None``."""
        t = REVIEW_TABLES["appeals"]
        with self.engine.connect() as conn:
            row = conn.execute(select(t).where(t.c.id == appeal_id)).first()
        return dict(row._mapping) if row is not None else None

    def appeal_rows(self, state: str | None = None, finding_id: str | None = None) -> list[dict[str, Any]]:
        """Appeal rows (of one state, of one finding), oldest first."""
        t = REVIEW_TABLES["appeals"]
        q = select(t).order_by(t.c.id)
        if state:
            q = q.where(t.c.state == state)
        if finding_id is not None:
            q = q.where(t.c.finding_id == finding_id)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]

    def insert_appeal(self, conn: Connection, **values: Any) -> int:
        """Add an appeal inside the caller's transaction; returns its number."""
        t = REVIEW_TABLES["appeals"]
        return _new_id(conn.execute(t.insert().values(**values)))

    def update_appeal(self, conn: Connection, appeal_id: int, expect_state: str, **values: Any) -> int:
        """Change an appeal that is still in ``expect_state``; returns the rows changed (0 or 1)."""
        t = REVIEW_TABLES["appeals"]
        result = conn.execute(
            update(t).where(t.c.id == appeal_id, t.c.state == expect_state).values(**values)
        )
        return int(result.rowcount)

    # ------------------------------------------------------------------ people

    def people(self, include_removed: bool = False) -> list[dict[str, Any]]:
        """People rows (active ones unless ``include_removed``), in the order they were added.

        Each row's ``accounts`` lists the accounts the person is bound to, in the order bound.
        """
        t, bound = PEOPLE_TABLES["people"], ACCOUNTS_TABLE
        q = select(t).order_by(t.c.id)
        if not include_removed:
            q = q.where(t.c.active.is_(True))
        with self.engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(q)]
            accounts: dict[int, list[str]] = {}
            for person_id, account in conn.execute(
                select(bound.c.person_id, bound.c.account).order_by(bound.c.id)
            ):
                accounts.setdefault(int(person_id), []).append(account)
        for row in rows:
            row["accounts"] = accounts.get(int(row["id"]), [])
        return rows

    def insert_person(self, conn: Connection, **values: Any) -> int:
        """Add a person inside the caller's transaction; returns their row id."""
        return _new_id(conn.execute(PEOPLE_TABLES["people"].insert().values(**values)))

    def bind_account(self, conn: Connection, person_id: int, account: str, *, at: str, by: str) -> int:
        """Bind an account to a person inside the caller's transaction; returns 0 when it already was."""
        t = ACCOUNTS_TABLE
        held = conn.execute(
            select(t.c.account).where(t.c.person_id == person_id, t.c.account == account)
        ).first()
        if held is not None:
            return 0
        conn.execute(t.insert().values(person_id=person_id, account=account, bound_at=at, bound_by=by))
        return 1

    def unbind_account(self, conn: Connection, person_id: int, account: str) -> int:
        """Unbind an account from a person inside the caller's transaction; returns the rows removed."""
        t = ACCOUNTS_TABLE
        return int(conn.execute(delete(t).where(t.c.person_id == person_id, t.c.account == account)).rowcount)

    def deactivate_person(self, conn: Connection, person_id: int, **values: Any) -> int:
        """Mark an active person removed inside the caller's transaction; returns the rows changed (0/1)."""
        t = PEOPLE_TABLES["people"]
        result = conn.execute(
            update(t).where(t.c.id == person_id, t.c.active.is_(True)).values(active=False, **values)
        )
        return int(result.rowcount)

    # ------------------------------------------------------------------ the workbench (issue 18)

    def data_version(self) -> tuple[int, int]:
        """(newest run id, newest audit row id): changes whenever a run is saved or anything decided.

        The workbench keys its caches on it, so a cached score is never older than the store.
        """
        runs, log = TABLES["runs"], REVIEW_TABLES["review_log"]
        with self.engine.connect() as conn:
            newest_run = conn.execute(select(func.max(runs.c.id))).scalar()
            newest_log = conn.execute(select(func.max(log.c.id))).scalar()
        return int(newest_run or 0), int(newest_log or 0)

    def window_state(self, date_from: str, date_to: str) -> tuple[int, int]:
        """(newest run that saved a conversation of the range, newest decision on a finding of it).

        What a table of the range was scored from: a save or a decision elsewhere in the store
        (another month, another shop) leaves it as it is, so two exports of one month made on
        different days compare alike unless that month changed (audit 115 M7).
        """
        c, runs, found = TABLES["conversations"], TABLES["runs"], TABLES["findings"]
        log = REVIEW_TABLES["review_log"]
        dated = _dated_conversations(date_from, date_to)
        newest_run = (
            select(func.max(runs.c.id))
            .join(c, c.c.run_id == runs.c.id)
            .join(dated, and_(dated.c.shop == c.c.shop, dated.c.conversation_id == c.c.conversation_id))
        )
        in_range = select(found.c.finding_id).where(found.c.date.between(date_from, date_to))
        newest_log = select(func.max(log.c.id)).where(log.c.finding_id.in_(in_range))
        # A conversation forgotten from the range changed it too, though no stored conversation
        # names that run (qc store forget; rare, so read whole).
        with self.engine.connect() as conn:
            saved = int(conn.execute(newest_run).scalar() or 0)
            forgot = max(
                (
                    rid
                    for rid, _, days, _ in _forget_runs(conn)
                    if any(date_from <= d["date"] <= date_to for d in days)
                ),
                default=0,
            )
            return max(saved, forgot), int(conn.execute(newest_log).scalar() or 0)

    def newest_run(self) -> int:
        """The newest saved run's id (0 for none): it changes whenever a run is saved."""
        runs = TABLES["runs"]
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.max(runs.c.id))).scalar() or 0)

    def agents_of_conversation(self, conversation_id: str) -> set[str]:
        """The agents a stored conversation counts for (its metric parts) or charges (its findings)."""
        parts, found = TABLES["parts"], TABLES["findings"]
        with self.engine.connect() as conn:
            names = {
                r[0]
                for r in conn.execute(
                    select(parts.c.agent).where(parts.c.conversation_id == conversation_id).distinct()
                )
            }
            names |= {
                r[0]
                for r in conn.execute(
                    select(found.c.scored_agent).where(found.c.conversation_id == conversation_id).distinct()
                )
                if r[0]
            }
        return names

    def password_hash(self, person_id: int) -> str | None:
        """The stored password hash of a person, or ``None`` when none was set."""
        t = WORKBENCH_TABLES["credentials"]
        with self.engine.connect() as conn:
            return conn.execute(select(t.c.password_hash).where(t.c.person_id == person_id)).scalar()

    def set_password_hash(
        self, conn: Connection, person_id: int, password_hash: str, *, set_at: str, set_by: str
    ) -> None:
        """Replace a person's password hash inside the caller's transaction."""
        t = WORKBENCH_TABLES["credentials"]
        conn.execute(delete(t).where(t.c.person_id == person_id))
        conn.execute(
            t.insert().values(person_id=person_id, password_hash=password_hash, set_at=set_at, set_by=set_by)
        )

    def insert_calibration_round(self, conn: Connection, finding_ids: Sequence[str], **values: Any) -> int:
        """Add a calibration round and its fixed sample (in order) inside the caller's transaction."""
        rounds, items = WORKBENCH_TABLES["calibration_rounds"], WORKBENCH_TABLES["calibration_items"]
        round_id = _new_id(conn.execute(rounds.insert().values(**values)))
        if finding_ids:
            conn.execute(
                items.insert(),
                [
                    {"round_id": round_id, "position": n, "finding_id": fid}
                    for n, fid in enumerate(finding_ids)
                ],
            )
        return round_id

    def calibration_rounds(self) -> list[dict[str, Any]]:
        """Every calibration round, newest first."""
        t = WORKBENCH_TABLES["calibration_rounds"]
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(select(t).order_by(t.c.id.desc()))]

    def close_calibration_round(self, conn: Connection, round_id: int, **values: Any) -> int:
        """Close a round still open, inside the caller's transaction; returns the rows changed (0/1)."""
        t = WORKBENCH_TABLES["calibration_rounds"]
        result = conn.execute(update(t).where(t.c.id == round_id, t.c.closed_at.is_(None)).values(**values))
        return int(result.rowcount)

    def calibration_round(self, round_id: int) -> dict[str, Any] | None:
        """One calibration round's row, or ``None``."""
        t = WORKBENCH_TABLES["calibration_rounds"]
        with self.engine.connect() as conn:
            row = conn.execute(select(t).where(t.c.id == round_id)).first()
        return dict(row._mapping) if row is not None else None

    def calibration_items(self, round_id: int) -> list[str]:
        """The finding ids of a round's sample, in order."""
        t = WORKBENCH_TABLES["calibration_items"]
        q = select(t.c.finding_id).where(t.c.round_id == round_id).order_by(t.c.position)
        with self.engine.connect() as conn:
            return [r[0] for r in conn.execute(q)]

    def calibration_verdicts(self, round_id: int, reviewer: str | None = None) -> list[dict[str, Any]]:
        """A round's verdicts (of one reviewer), in the order they were given."""
        t = WORKBENCH_TABLES["calibration_verdicts"]
        q = select(t).where(t.c.round_id == round_id).order_by(t.c.id)
        if reviewer is not None:
            q = q.where(t.c.reviewer == reviewer)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]

    def insert_calibration_verdict(self, conn: Connection, **values: Any) -> int:
        """Add one reviewer's verdict on one finding of a round inside the caller's transaction."""
        return _new_id(conn.execute(WORKBENCH_TABLES["calibration_verdicts"].insert().values(**values)))

    # ------------------------------------------------------------------ message search

    def _has_fts(self, conn: Connection) -> bool:
        return conn.dialect.name == "sqlite" and inspect(conn).has_table("search_fts")

    def refresh_search_index(self, tokenize: Callable[[str], Iterable[str]], tokenizer: str) -> int:
        """Bring the message search index up to date with the stored messages; returns conversations indexed.

        ``tokenize`` gives a message's search tokens, ``tokenizer`` names it (a version): the
        index is rebuilt whole when it changes. Otherwise only conversations saved by a run
        since they were indexed are indexed again, and those no longer stored are dropped; a
        store nothing was saved to since the last refresh costs two small queries.
        """
        meta, docs = SEARCH_TABLES["search_meta"], SEARCH_TABLES["search_docs"]
        convs, runs = TABLES["conversations"], TABLES["runs"]
        with self.engine.connect() as conn:
            newest = conn.execute(select(func.max(runs.c.id))).scalar() or 0
            count = conn.execute(select(func.count()).select_from(convs)).scalar() or 0
            stored = dict(conn.execute(select(meta.c.key, meta.c.value)).all())
        marker = f"{newest}:{count}"
        if stored.get("tokenizer") == tokenizer and stored.get("built_from") == marker:
            return 0
        with write_transaction(self.engine, self.wait, exclusive=True) as conn:
            fts = self._has_fts(conn)
            if stored.get("tokenizer") != tokenizer:
                conn.execute(delete(docs))
                if fts:
                    conn.execute(text("DELETE FROM search_fts"))
            indexed = {
                (r.shop, r.conversation_id): r.run_id
                for r in conn.execute(select(docs.c.shop, docs.c.conversation_id, docs.c.run_id).distinct())
            }
            current = {
                (r.shop, r.conversation_id): r.run_id
                for r in conn.execute(select(convs.c.shop, convs.c.conversation_id, convs.c.run_id))
            }
            stale = [key for key, run in indexed.items() if current.get(key) != run]
            for start in range(0, len(stale), _CHUNK):
                chunk = stale[start : start + _CHUNK]
                where = tuple_(docs.c.shop, docs.c.conversation_id).in_(chunk)
                if fts:
                    ids = [r[0] for r in conn.execute(select(docs.c.id).where(where))]
                    for n in range(0, len(ids), _CHUNK):
                        conn.execute(_FTS_DELETE, {"ids": ids[n : n + _CHUNK]})
                conn.execute(delete(docs).where(where))
            fresh = [key for key, run in current.items() if indexed.get(key) != run]
            messages = REVIEW_TABLES["messages"]
            for start in range(0, len(fresh), _CHUNK):
                chunk = fresh[start : start + _CHUNK]
                m = messages.c
                q = select(m.shop, m.conversation_id, m.idx, m.date, m.role, m.text).where(
                    tuple_(m.shop, m.conversation_id).in_(chunk)
                )
                rows = [
                    {
                        "run_id": current[(r.shop, r.conversation_id)],
                        "shop": r.shop,
                        "conversation_id": r.conversation_id,
                        "idx": r.idx,
                        "date": r.date,
                        "role": r.role,
                        "tokens": " ".join(tokenize(r.text or "")),
                    }
                    for r in conn.execute(q)
                ]
                if not rows:
                    continue
                conn.execute(docs.insert(), rows)
                if fts:
                    keys = tuple_(docs.c.shop, docs.c.conversation_id).in_(chunk)
                    added = conn.execute(select(docs.c.id, docs.c.tokens).where(keys)).all()
                    conn.execute(
                        text("INSERT INTO search_fts(rowid, tokens) VALUES (:id, :tokens)"),
                        [{"id": r.id, "tokens": r.tokens} for r in added],
                    )
            conn.execute(delete(meta))
            conn.execute(
                meta.insert(),
                [{"key": "tokenizer", "value": tokenizer}, {"key": "built_from", "value": marker}],
            )
        return len(fresh)

    def search_messages(
        self,
        terms: Sequence[str],
        *,
        agent: str | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
        kind: str | None = None,
        role: str | None = None,
        limit: int = 200,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        """Messages whose search tokens hold every one of ``terms``, newest day first.

        Call :meth:`refresh_search_index` first. ``agent`` keeps conversations the agent counts
        for (their metric parts), ``kind`` those with a finding of that kind, ``date_from`` /
        ``date_to`` the message's day. Each result is the message row (shop, conversation id,
        index, day, role, text, sender, time, auto reply); ``limit`` of them after the first
        ``offset``, a page of a long list.
        """
        with self.engine.connect() as conn:
            q = self._search_query(conn, terms, agent, date_from, date_to, kind, role)
            if q is None:
                return []
            docs = SEARCH_TABLES["search_docs"]
            # Byte order on every store: a PostgreSQL database created with a zh-CN or en-US
            # collation sorted a-10 before B-2, SQLite after, and pages differed (audit 166 F4).
            cid = docs.c.conversation_id
            by_bytes = cid.collate("C") if conn.dialect.name == "postgresql" else cid
            q = q.order_by(docs.c.date.desc(), by_bytes, docs.c.idx).limit(limit).offset(offset)
            return [dict(r._mapping) for r in conn.execute(q)]

    def count_search_messages(
        self,
        terms: Sequence[str],
        *,
        agent: str | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
        kind: str | None = None,
        role: str | None = None,
    ) -> int:
        """How many messages :meth:`search_messages` finds with no limit: a page says of how many."""
        with self.engine.connect() as conn:
            q = self._search_query(conn, terms, agent, date_from, date_to, kind, role)
            if q is None:
                return 0
            return int(conn.execute(select(func.count()).select_from(q.subquery())).scalar_one())

    def _search_query(
        self,
        conn: Connection,
        terms: Sequence[str],
        agent: str | None,
        date_from: str | None,
        date_to: str | None,
        kind: str | None,
        role: str | None,
    ) -> Select[Any] | None:
        words = [t for t in dict.fromkeys(terms) if t.strip()]
        if not words:
            return None
        docs, messages = SEARCH_TABLES["search_docs"], REVIEW_TABLES["messages"]
        parts, found = TABLES["parts"], TABLES["findings"]
        m = messages.c
        q = select(
            docs.c.id,
            m.shop,
            m.conversation_id,
            m.idx,
            m.date,
            m.role,
            m.text,
            m.sender,
            m.sent_at,
            m.auto_reply,
            m.agent_id,
        ).join(
            messages,
            and_(m.shop == docs.c.shop, m.conversation_id == docs.c.conversation_id, m.idx == docs.c.idx),
        )
        if self._has_fts(conn):
            match = " AND ".join('"' + w.replace('"', '""') + '"' for w in words)
            q = q.where(
                docs.c.id.in_(
                    text("SELECT rowid FROM search_fts WHERE search_fts MATCH :match")
                    .bindparams(match=match)
                    .columns(column("rowid", Integer))
                )
            )
        elif conn.dialect.name == "postgresql":
            q = q.where(
                func.to_tsvector("simple", docs.c.tokens).bool_op("@@")(
                    func.plainto_tsquery("simple", " ".join(words))
                )
            )
        else:
            padded = " " + docs.c.tokens + " "
            for w in words:
                q = q.where(padded.contains(f" {w} ", autoescape=True))  # 100% is no wildcard
        if agent:
            q = q.where(
                exists().where(
                    and_(
                        parts.c.shop == docs.c.shop,
                        parts.c.conversation_id == docs.c.conversation_id,
                        parts.c.agent == agent,
                    )
                )
            )
        if kind:
            # With an agent, a finding of that kind charged to that agent: a colleague's silent
            # transfer in a shared chat listed it for an agent, who then saw what the conversation
            # page hides from them, and under a coach's agent filter (audit 112 M2).
            q = q.where(
                exists().where(
                    and_(
                        found.c.shop == docs.c.shop,
                        found.c.conversation_id == docs.c.conversation_id,
                        found.c.kind == kind,
                        *([found.c.scored_agent == agent] if agent else []),
                    )
                )
            )
        if date_from:
            q = q.where(docs.c.date >= date_from)
        if date_to:
            q = q.where(docs.c.date <= date_to)
        if role:
            q = q.where(docs.c.role == role)
        return q


def open_store(target: str | Path, *, save: bool = False, existing: bool = False) -> Store:
    """Open (and migrate) the store at a SQLite path or SQLAlchemy URL.

    ``save`` is for ``qc inspect --db``: its writes wait the save wait of
    ``qc/defaults/store.toml`` for another run's save, the other commands the shorter
    command wait (:func:`~qc.store.engine.store_waits`). ``existing``: a database URL that
    holds no qc store is refused, not made one (a reading command given a mistyped or empty
    database created qc's tables in it, audit 114 L1).

    Raises:
        StoreError: unknown URL, missing database driver, unreachable server or newer schema.
        StoreBusyError: another qc held the store for the whole wait while it was set up.
    """
    waits = store_waits()
    wait, env = (waits.save, SAVE_WAIT_ENV) if save else (waits.command, COMMAND_WAIT_ENV)
    if "://" not in str(target):
        _check_sqlite_path(target, save)
    url = database_url(target)
    if not existing:
        file = Path(target).expanduser() if "://" not in str(target) else _sqlite_file(url)
        if file is not None:
            _create_private(file)
    shown = _without_password(str(target))
    scheme, _, rest = str(target).partition("://")
    if rest and not scheme.startswith("sqlite") and rest.count("@") > 1:
        # A URL splits its user part at the first "@": the rest of the password became the host,
        # and every message naming the host showed it.
        raise StoreError(
            f"--db {shown}: the password holds '@'; write it as %40 in the URL (and ':' as %3A, '/' as %2F)"
        )
    try:
        engine = make_engine(url, wait)
    except NoSuchModuleError:
        raise StoreError(
            f"--db {shown}: no SQLAlchemy dialect for this URL; use a path or postgresql+psycopg://…"
        ) from None
    except (ArgumentError, ValueError):  # ValueError: a port that is no number
        raise StoreError(
            f"--db {shown}: not a database URL; use a file path or postgresql+psycopg://user@host/db"
        ) from None
    except ModuleNotFoundError as exc:
        fix = (
            "pip install 'qc[postgres]' and write postgresql+psycopg://…"
            if "postgres" in url
            else "use a path or postgresql+psycopg://…"
        )
        raise StoreError(f"--db {shown}: driver {exc.name} is missing; {fix}") from None
    where = engine.url.render_as_string(hide_password=True)
    if existing:
        # A SQLite file with no tables too (audit 115 L5): a reading command made it a store.
        try:
            has_store = guarded(
                lambda: inspect(engine).has_table(MIGRATIONS_TABLE.name), where, wait, env, retry=True
            )
        except StoreFailedError as exc:
            engine.dispose()
            reason = str(exc).split(": ", 1)[-1]
            if "not a database" not in reason:
                raise
            # Said as qc inspect says it, with the fix and exit 2: a reading command said only
            # "file is not a database", exit 1 (audit 172 F9).
            raise StoreError(
                f"--db {target if '://' not in str(target) else where}: {reason} (not a qc store, or a"
                " damaged one): give --db a qc store"
            ) from None
        if not has_store:
            names = guarded(lambda: sorted(inspect(engine).get_table_names()), where, wait, env, retry=True)
            engine.dispose()
            named = where if "://" in str(target) else str(target)
            if names:
                # qc inspect refuses such a database: advising it first sent the user round in a
                # circle (audit 162 L5).
                listed = ", ".join(names[:5]) + (" …" if len(names) > 5 else "")
                raise StoreError(
                    f"no store at {named}: it holds another program's tables ({listed}) and no qc"
                    " schema; give --db the qc store"
                )
            raise StoreError(
                f"no store at {named}: the database holds no qc tables; run `qc inspect DAY --out DIR"
                f" --db {named}` first, or give --db the store"
            )
    try:
        guarded(lambda: migrate(engine, wait), where, wait, env, retry=True)
    except StoreBusyError:
        engine.dispose()
        raise
    except StoreFailedError as exc:
        engine.dispose()
        reason = str(exc).split(": ", 1)[-1]
        if "://" not in str(target) and "not a database" in reason:
            reason += " (not a qc store, or a damaged one): give --db a qc store or a new file name"
        elif "://" not in str(target) and ("unable to open" in reason or "disk I/O error" in reason):
            # A readable store in a read-only folder (an archive share) or on a full disk: SQLite
            # says only this, and the file itself looks fine.
            reason += (
                "; SQLite writes a store's journal (its -wal and -shm files) beside it, even to read it,"
                " so its folder must be writable and have room: on a read-only share or a full disk,"
                " copy the store to a folder you can write and give --db that copy"
            )
        raise StoreError(f"--db {target if '://' not in str(target) else where}: {reason}") from None
    except StoreError as exc:
        engine.dispose()
        if "is read-only and this step writes to it" in str(exc):
            # The step that writes is the schema upgrade every command runs first, not a decision:
            # every reading command on an archived older store said "a review, an appeal, a people
            # change" (audit 114 M3).
            raise StoreError(
                f"store {target if '://' not in str(target) else where} needs its tables made or upgraded"
                " to this qc's schema (a store written by an older qc, or a new one), which writes to it,"
                " but it is read-only: make it writable once (or copy it to a folder you can write and"
                " give --db the copy); nothing was changed"
            ) from None
        raise
    except QcError:
        engine.dispose()
        raise
    return Store(engine, wait, env)


# The span of a stored conversation whose times text cannot order (message_spans).
_EARLIEST, _LATEST = "0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59+00:00"


def _fingerprint(conversation: Conversation) -> str | None:
    """What tells a conversation named after its file filed again under another name; ``None`` for others.

    Its shop and, message for message, role, sender, text and clock time as written (the day
    left out: it came from the file's name). Only a conversation whose id is its file's name
    (an export that gave it none) has one: another id names the chat itself.
    """
    if not conversation.source:
        return None
    stem = Path(conversation.source).stem
    if conversation.id != stem and not conversation.id.startswith(f"{stem}#"):
        return None
    said = [
        (m.role.value, m.sender, m.text, m.sent_at.isoformat()[11:19] if m.sent_at else None)
        for m in conversation.messages
    ]
    return hashlib.sha1(json.dumps([conversation.shop or "", said], ensure_ascii=False).encode()).hexdigest()


def _run_settings(text: str | None) -> tuple[dict[str, Any], Any]:
    """From a stored run.json: the settings beside card, lexicon and model that changed what was read.

    ``lexicon_strict``, ``timezone``, ``limits`` (the values only: one limits file under two names
    is one setting), ``user_dict`` (SHA-256 or ``""`` for none); ``None`` where the run did not
    record them. Also the effective scorecard, when recorded.
    """
    try:
        data = json.loads(text or "{}")
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    settings = data.get("settings") if isinstance(data.get("settings"), dict) else None
    limits = settings.get("limits") if settings and isinstance(settings.get("limits"), dict) else None
    user_dict = settings.get("user_dict") if settings else None
    card: dict[str, Any] = data["scorecard"] if isinstance(data.get("scorecard"), dict) else {}
    return {
        "lexicon_strict": bool(data["lexicon_strict"]) if "lexicon_strict" in data else None,
        "timezone": settings.get("timezone") if settings else None,
        "limits": {k: v for k, v in limits.items() if k != "source"} if limits is not None else None,
        "user_dict": (user_dict or {}).get("sha256", "") if settings else None,
    }, card.get("effective")


def _dated_conversations(date_from: str, date_to: str) -> Any:
    """The (shop, id) pairs with parts in the range, once each, as a subquery to join on.

    Joined on the conversations' key: a correlated EXISTS let SQLite walk the parts' (shop,
    date) index once per conversation (quadratic: minutes on a 1M-message day).
    """
    p = TABLES["parts"]
    return (
        select(p.c.shop, p.c.conversation_id)
        .where(p.c.date.between(date_from, date_to))
        .distinct()
        .subquery()
    )


def _without_password(target: str) -> str:
    """A --db value as messages may show it: a URL's password as ``***`` (from --db or QC_DB)."""
    # Up to the last "@": a password may hold one (written as is, not as %40).
    return re.sub(r"(://[^/:@\s]*:)\S*@", r"\1***@", target)


# Every SQLite database file starts with a header of this many bytes.
_SQLITE_HEADER = 100


def sqlite_file_of(target: str) -> Path | None:
    """The SQLite file ``--db`` names, as a path or a ``sqlite:///…`` URL; ``None`` for another database."""
    return _sqlite_file(database_url(target)) if "://" in target else Path(target).expanduser()


def _sqlite_file(url: str) -> Path | None:
    """The file of a ``sqlite:///…`` URL (``None`` for another database, or SQLite in memory)."""
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return None  # said where the engine is made
    name = parsed.database
    if not parsed.drivername.startswith("sqlite") or not name or name == ":memory:":
        return None
    if parsed.query.get("uri") == "true" and name.startswith("file:"):
        # SQLite's URI form (sqlite:///file:/path?mode=ro&uri=true): the file is the path in it
        name = name.removeprefix("file:").removeprefix("//")
        if not name or name.startswith(":memory:") or parsed.query.get("mode") == "memory":
            return None
    return Path(name).expanduser()


def _create_private(path: Path) -> None:
    """Create a new SQLite store file readable by its owner alone (0600), before SQLite makes it.

    A store holds every transcript (buyers' phones and addresses) and the workbench's password
    hashes: under the usual umask SQLite made it readable by every local user (audit 168 L5). An
    existing file keeps the mode its owner gave it; SQLite's -wal and -shm files take the
    store's.
    """
    import os

    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except OSError:  # there already, or not creatable: said where SQLite opens it
        pass


def _check_sqlite_path(target: str | Path, save: bool) -> None:
    """Say plainly why a SQLite store path cannot serve (SQLite only says "unable to open database file").

    Raises:
        StoreError: the path is a folder, or the file or its folder cannot be written where
            qc must write (a save, or a store still to be created), with the fix.
    """
    import os

    path = Path(target).expanduser()
    if path.is_dir():
        raise StoreError(
            f"--db {target} is a folder, not a store file: give a file path, e.g. --db {path / 'qc.sqlite'}"
        )
    if path.exists():
        if not os.access(path, os.R_OK):
            raise StoreError(f"--db {target}: no permission to read it; ask its owner, or chmod u+r {target}")
        if save and not os.access(path, os.W_OK):
            raise StoreError(
                f"--db {target} is read-only and a run saves into it: make it writable (chmod u+w {target})"
                " or give another --db"
            )
        if 0 < path.stat().st_size < _SQLITE_HEADER:
            # SQLite takes a file shorter than its header as empty and writes a store over it: a
            # mistyped --db (a one-line note) was overwritten, even by a read (audit 91 #13).
            raise StoreError(
                f"--db {target} is no SQLite database (a file of {path.stat().st_size} bytes, shorter"
                " than a database's header): give --db a qc store, or a new file"
            )
        return
    folder = next((p for p in path.absolute().parents if p.exists()), None)
    if folder is not None and folder.is_dir() and not os.access(folder, os.W_OK | os.X_OK):
        raise StoreError(
            f"--db {target} does not exist and cannot be created: no permission to write in {folder};"
            " give a path in a folder you can write"
        )


def _shared_id(conversation_id: str, stored_shop: str, new_shop: str) -> StoreError:
    def name(shop: str) -> str:
        return repr(shop) if shop else "no shop"

    from qc.text.pii import shown_id

    # An id built from the buyer's phone is masked, as every warning names it (audit 94 #12).
    return StoreError(
        f"conversation {shown_id(conversation_id)!r} is in the store for {name(stored_shop)} and this run"
        f" has it for {name(new_shop)}: findings and review decisions are known by conversation id, so"
        " two shops cannot share one in a store. If it is one shop spelt two ways, make the 店铺 column"
        " (or the 店铺: part of the agent nicks) the same; if they are two shops, give each its own store"
        " (--db), or rename one shop's export files (an export without 会话 labels takes its ids from"
        " the file name). Nothing of this run was saved"
    )


def _run_summary(
    row: Any, run: dict[str, Any], held: int, continued: int, stored: set[tuple[str, str]]
) -> RunSummary:
    """A ``runs`` row as :meth:`Store.runs` lists it.

    ``held``: its conversations still its copies, ``continued`` of them keeping an earlier copy's
    messages; ``stored``: the conversations its repeats name that the store still holds (a repeat
    of one forgotten since is a copy no longer).
    """
    days = tuple((d.get("shop", ""), d.get("date", "")) for d in json.loads(row.days or "[]"))
    if run.get("command") == FORGET_COMMAND:
        gone = [p for p in run.get("forgotten") or [] if p.get("shop") is not None]
        return RunSummary(
            id=int(row.id),
            started_at=row.started_at,
            command=FORGET_COMMAND,
            inputs=(),
            days=days,
            conversations=len(gone),
            held=0,
            findings=sum(int(p.get("findings") or 0) for p in gone),
            by=str(run.get("by", "")),
            why=str(run.get("why", "")),
        )
    return RunSummary(
        id=int(row.id),
        started_at=row.started_at,
        command="inspect",
        inputs=tuple(str(p) for p in json.loads(row.inputs or "[]")),
        days=days,
        conversations=int(row.conversation_count),
        held=held,
        findings=int(row.finding_count),
        repeated=len(
            {
                p.get("conversation")
                for p in run.get("repeated_conversations") or []
                if (p.get("shop", ""), p.get("repeats", "")) in stored
            }
        ),
        continued=continued,
    )


def _forget_runs(
    conn: Connection, before: int | None = None
) -> Iterator[tuple[int, str, list[Any], dict[str, Any]]]:
    """The runs that forgot conversations (``qc store forget``), oldest first: id, start, days, run.json.

    Rare, so read whole; ``before`` keeps those older than a run.
    """
    runs = TABLES["runs"]
    q = select(runs.c.id, runs.c.started_at, runs.c.days, runs.c.run_json).where(
        runs.c.conversation_count == 0, runs.c.run_json.contains(_FORGET_MARK, autoescape=True)
    )
    if before is not None:
        q = q.where(runs.c.id < before)
    for rid, at, days, said in conn.execute(q.order_by(runs.c.id)):
        run = json.loads(said)
        if run.get("command") == FORGET_COMMAND:
            yield int(rid), at, json.loads(days), run


def _id_chunks(keys: Iterable[tuple[str, str]]) -> Iterator[tuple[str, list[str]]]:
    """``(shop, ids)`` of (shop, conversation id) pairs: each shop's distinct ids, ``_CHUNK`` at a time."""
    by_shop: dict[str, list[str]] = {}
    for shop, cid in dict.fromkeys(keys):
        by_shop.setdefault(shop, []).append(cid)
    for shop, ids in by_shop.items():
        for start in range(0, len(ids), _CHUNK):
            yield shop, ids[start : start + _CHUNK]


def _guard_method(name: str, method: Callable[..., Any], retry: bool) -> Callable[..., Any]:
    """``method`` with its database errors translated at the store API's boundary (reads retried)."""

    @wraps(method)
    def wrapper(self: Store, *args: Any, **kwargs: Any) -> Any:
        return guarded(lambda: method(self, *args, **kwargs), self.url, self.wait, self.wait_env, retry=retry)

    return wrapper


# Methods that write in a transaction of their own: never retried (their lock wait has run out).
_WRITES = frozenset({"save_run", "save_run_streamed", "refresh_search_index"})
for _name, _method in list(vars(Store).items()):
    if _name.startswith("_") or not inspect_module.isfunction(_method) or _name == "transaction":
        continue
    # A method given the caller's connection runs inside :meth:`Store.transaction`, which translates.
    _in_transaction = "conn" in inspect_module.signature(_method).parameters
    if not _in_transaction:
        setattr(Store, _name, _guard_method(_name, _method, retry=_name not in _WRITES))
