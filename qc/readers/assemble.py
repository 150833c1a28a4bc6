"""From validated records to conversations: grouping, time order, indexes."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import datetime
from typing import Any, TypeGuard

from qc.readers.options import ReadResult
from qc.readers.records import Candidate, duplicate_reject, make_reject
from qc.readers.roles import parse_role_word, shop_account
from qc.schema import MAX_ACCOUNT_CHARS, NAMELESS_AGENT, Conversation, Message, Reject, Role
from qc.text.pii import shown_id, shown_value


def build_conversations(candidates: list[Candidate], result: ReadResult) -> None:
    """Group candidates by conversation id (across files) and append the conversations to ``result``.

    Messages keep read order unless every one has a time; then they are sorted
    by time (stable), with a warning naming the conversation and file(s) when
    the input was out of order. Indexes are 0.. after sorting.
    """
    groups: dict[str, list[Candidate]] = {}
    for c in candidates:
        groups.setdefault(c.conversation_id, []).append(c)
    refused: list[tuple[Candidate, Reject]] = []
    for cid, members in groups.items():
        members, wide = wide_accounts(members)
        refused.extend(wide)
        if members:
            result.conversations.append(build_conversation(cid, members, result.warnings))
    count_refused(refused, result)


def count_refused(refused: list[tuple[Candidate, Reject]], result: ReadResult) -> None:
    """Add the records refused as their conversation was built to ``result``: rejects of their files.

    Listed after every other reject, on each read path alike (:func:`wide_accounts`).
    """
    reports = {report.path: report for report in result.files}
    for c, reject in refused:
        result.rejects.append(reject)
        report = reports.get(c.file)
        if report is not None:
            report.accepted -= 1
            report.rejected += 1


def _parts_in_order(members: list[Candidate]) -> bool:
    """True when each file's messages are in time order and the files' spans do not overlap.

    The parts of a chat cut across exports, one after the other; parts that interleave (two
    overlapping exports mixed into one chat) are still said (audit 121 L1).
    """
    spans: dict[str, list[Any]] = {}
    for c in members:
        span = spans.get(c.file)
        if span is None:
            spans[c.file] = [c.sent_at, c.sent_at]
        elif c.sent_at < span[1]:
            return False
        else:
            span[1] = c.sent_at
    ordered = sorted(spans.values(), key=lambda s: s[0])
    return all(earlier[1] <= later[0] for earlier, later in zip(ordered, ordered[1:], strict=False))


def build_conversation(cid: str, members: list[Candidate], warnings: list[str]) -> Conversation:
    """One conversation from its candidates (see :func:`build_conversations`); warnings go to ``warnings``."""
    files = list(dict.fromkeys(c.file for c in members))
    times = [c.sent_at for c in members]
    # A stable sort by time changes the order exactly when the times are not already in
    # order; comparing the sorted times (no key function) finds that much faster.
    if _all_timed(times):
        if sorted(times) != times:
            if len(files) == 1 or not _parts_in_order(members):
                # A conversation cut across files, each part in order, is in order: only the files
                # came in another order (the day after before the day), said every time (audit 120 L6).
                warnings.append(
                    f"conversation {shown_id(cid)} ({', '.join(files)}): messages out of time order;"
                    " sorted by time"
                )
            stamps = times
            if _newest_first(times):
                # Listed newest first: a reply sent in its question's second comes above it, and
                # a stable sort would keep it there. Read backwards, the ties are in order too.
                members, stamps = members[::-1], times[::-1]
            order = sorted(range(len(members)), key=stamps.__getitem__)  # stable, as sorting the members
            members = [members[i] for i in order]
    else:
        timed = [t for t in times if t is not None]
        if sorted(timed) != timed:
            # Messages without a time have no place in a sort: the file's order stands, unless
            # it is newest first throughout.
            where = f"conversation {shown_id(cid)} ({', '.join(files)})"
            untimed = len(times) - len(timed)
            if _newest_first(timed):
                members = members[::-1]
                warnings.append(f"{where}: messages listed newest first; read in reverse")
            else:
                warnings.append(
                    f"{where}: messages out of time order, and {untimed} without a time, so kept in the"
                    " file's order (its replies may be timed wrong); give every message a time or sort"
                    " the export by time"
                )
    shops = list(dict.fromkeys(c.shop for c in members if c.shop))
    scoped = shop_accounts(shops[0], members) if shops else {}
    nameless = shop_account(NAMELESS_AGENT, shops[0]) if shops else None
    ids = _account_ids(members, scoped)
    # Positional: this runs once per message, and keywords cost a third more here.
    messages = tuple(
        Message(
            i,
            c.role,
            c.text,
            c.sender
            if c.agent_id is not None
            else scoped.get(c.sender, c.sender)
            if c.sender or c.role is not Role.AGENT or c.auto_reply
            else nameless,
            c.sent_at,
            c.auto_reply,
            c.agent_id
            if c.agent_id is not None or not ids or c.role is not Role.AGENT
            else ids.get(scoped.get(c.sender, c.sender)),
            f"{c.file}:{c.line}",
        )
        for i, c in enumerate(members)
    )
    if len(shops) > 1:
        # Two shops' exports that number their conversations alike: one id, two chats. The 店铺 values
        # are masked and cut as any value quoted from a file: a column swapped with the text's put
        # buyers' messages, phone and address included, in them (audit 120 H4).
        more = " …" if len(shops) > 3 else ""
        warnings.append(
            f"conversation {shown_id(cid)} ({', '.join(files)}): messages of {len(shops)} shops"
            f" ({', '.join(shown_value(s, 20) for s in shops[:3])}{more})"
            f" share this id and were read as one conversation of {shown_value(shops[0], 20)}: if it is"
            " one shop spelt two ways, make the 店铺 column the same; if they are different chats, give"
            " each shop's export its own conversation ids or inspect the shops apart; if a 店铺:名 nick"
            " is a buyer's, name it with --customer-nick"
        )
    if len(files) > 1:
        _warn_other_buyers(cid, members, warnings)
    shop = shops[0] if shops else None
    return Conversation(id=cid, messages=messages, shop=shop, source=", ".join(files))


def _warn_other_buyers(cid: str, members: list[Candidate], warnings: list[str]) -> None:
    """Warn when files share a conversation id but not a buyer: two chats numbered alike.

    Per-agent exports that each number their chats 1, 2, 3 … read as one conversation of two
    buyers and two agents, one agent's replies timed against the other's questions. A chat cut
    at midnight, or one agent's part of a transfer, has the same buyer in both files.
    """
    buyers: dict[str, set[str]] = {}
    for c in members:
        if c.role is Role.CUSTOMER and c.sender and parse_role_word(c.sender) is None:
            buyers.setdefault(c.file, set()).add(c.sender)
    named = list(buyers.items())
    for (first, theirs), (second, others) in itertools.combinations(named, 2):
        if not theirs & others:
            warnings.append(
                f"conversation {shown_id(cid)}: {first} and {second} give this id to different buyers"
                f" ({shown_value(min(theirs), 20)}, {shown_value(min(others), 20)}), read as one"
                " conversation: if each export numbers its own chats (1, 2, 3 …), inspect them apart"
                " or give each file's chats their own ids"
            )
            return


def _account_ids(members: list[Candidate], scoped: dict[str | None, str]) -> dict[str | None, str]:
    """The account id of each agent nick that some of its messages in the conversation carry.

    A dump where one reply names 暖阳小铺:阿青 with staff id 3301 and the others only 阿青 scored
    one agent as two rows, 3301 and 暖阳小铺:阿青 (audit 91 #16): the nick's other replies take its
    id. A nick seen with two ids keeps none (which one is unknown). Empty when no message carries one.
    """
    found: dict[str | None, set[str]] = {}
    for c in members:
        if c.agent_id is not None and c.sender and c.role is Role.AGENT:
            found.setdefault(c.sender, set()).add(c.agent_id)
    if not found:
        return {}
    # A bare nick (阿青) is the shop's account (暖阳小铺:阿青), as the messages name it.
    out: dict[str | None, str] = {}
    for sender, agent_ids in found.items():
        if len(agent_ids) == 1:
            out[scoped.get(sender, sender)] = next(iter(agent_ids))
    return out


def wide_accounts(members: list[Candidate]) -> tuple[list[Candidate], list[tuple[Candidate, Reject]]]:
    """The records to keep, and the replies whose account is too wide for the store, each with its reject.

    A bare nick becomes the account 店铺名:nick of the conversation's shop. A record is checked
    with its own shop as it is read; a reply with an empty 店铺 cell, or a line of a
    message-per-line export where only the buyer's line names the shop, gets the shop here, and an
    account wider than the store keeps made PostgreSQL refuse the whole day (audit 171 M3).
    """
    shop = next((c.shop for c in members if c.shop), None)
    if shop is None:
        return members, []
    # Folding lengthens a shop's name at most twice (İ lower-cased is two characters): replies that
    # fit so fit (the common case, no folding).
    room = MAX_ACCOUNT_CHARS - 2 * len(shop) - 1
    if all(c.sender is None or len(c.sender) <= room for c in members):
        return members, []
    kept: list[Candidate] = []
    wide: list[tuple[Candidate, Reject]] = []
    for c in members:
        account = (
            shop_account(c.sender, shop) if c.role is Role.AGENT and c.agent_id is None and c.sender else ""
        )
        if len(account) <= MAX_ACCOUNT_CHARS:
            kept.append(c)
            continue
        reason = (
            f"the agent account 店铺名:nick made of the conversation's shop and this sender has"
            f" {len(account)} characters, over the {MAX_ACCOUNT_CHARS} the store keeps; a value this long is"
            " usually a shifted column (a message read as a name): check the row"
        )
        wide.append((c, make_reject(c.file, c.line, reason, c.raw)))
    return kept, wide


def shop_accounts(shop: str, members: Iterable[Candidate]) -> dict[str | None, str]:
    """The account id of each bare agent nick of a shop's conversation (see :func:`shop_account`)."""
    return {
        c.sender: shop_account(c.sender, shop)
        for c in members
        if c.role is Role.AGENT and c.agent_id is None and c.sender and ":" not in c.sender
    }


def _all_timed(times: list[datetime | None]) -> TypeGuard[list[datetime]]:
    return all(t is not None for t in times)


def _newest_first(times: list[datetime]) -> bool:
    """True when the times never go forward and do go back: a conversation listed newest first."""
    return len(times) > 1 and times[0] > times[-1] and all(a >= b for a, b in itertools.pairwise(times))


def assemble_group(
    cid: str, candidates: Iterable[Candidate], warnings: list[str]
) -> tuple[Conversation | None, list[tuple[Candidate, Reject]]]:
    """One conversation from all its valid records in read order, as :func:`~qc.readers.read_inputs` does.

    Exact repeats of an earlier record are dropped, each paired with its reject; the rest
    become the conversation (``None`` when there were no records). For a reader that sees a
    conversation's records together, wherever they were read (a Spark task, a DataFrame group).
    """
    seen: dict[tuple[Any, ...], Candidate] = {}
    members: list[Candidate] = []
    repeats: list[tuple[Candidate, Reject]] = []
    for c in candidates:
        first = seen.get(c.key) if c.key is not None else None
        if first is not None:
            repeats.append((c, duplicate_reject(first, c)))
            continue
        if c.key is not None:
            seen[c.key] = c
        members.append(c)
    members, wide = wide_accounts(members)
    repeats.extend(wide)
    return (build_conversation(cid, members, warnings) if members else None), repeats
