"""Learning from verdicts: reviewed findings as annotated samples, rejected hits as allowlist entries.

``qc feedback export`` turns every finding with a review decision into one sample in the
``/work/shared/ANNOTATION.md`` JSON Lines format: ``context`` is the buyer and agent messages
before the reply (as many as the lexicon's ``[context] lookback`` window), ``text`` the agent's
message and ``label`` comes from the decision: a confirmed finding → the attitude it stands for
(``impatience`` or ``conflict``, a forbidden phrase through the verdict it implies); a rejected
one → ``ok``, unless another finding of the message, not rejected, still charges it (then the
message is left out, listed as skipped). A rejected lexicon hit inside a longer phrase also
yields the ``[[allow]]`` entry that would have prevented it: the smallest phrase around the hit,
within the clause, that is not itself a lexicon phrase (lexicons/README.md forbids an allow
phrase equal to a phrase).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from qc.rules.lexicon import load_lexicon
from qc.schema import Conversation, Finding, Role
from qc.scoring.card import load_scorecard
from qc.store.database import Store
from qc.supervise.appeal import list_appeals
from qc.supervise.masking import StoredMaskers
from qc.supervise.review import finding_states, orphaned_decisions, still_charging
from qc.supervise.states import ANSWERED, OPEN, REOPENED
from qc.text.pii import Masker
from qc.text.tokens import fold, token_bounds, tokenize

__all__ = ["ATTITUDE_LABELS", "allow_phrase", "FeedbackExport", "feedback_samples", "allow_snippet"]

ATTITUDE_LABELS = ("impatience", "conflict")
# Characters a suggested allow phrase never crosses: clause punctuation and spaces.
_STOP = set("，。！？、；：,.!?;: \t\n~～…“”\"'（）()【】[]")


def allow_phrase(text: str, start: int, end: int, lexicon_phrases: Iterable[str]) -> str | None:
    """The smallest phrase around ``text[start:end]`` that is not a lexicon phrase, or None.

    Grows one character at a time, right before left, never across punctuation, and ends on
    words (jieba's): 自己看库 of 自己看库存 was suggested (audit 152 L7). None when only the whole
    clause would do (a bare reply: only the context rules can judge it; 说了多少遍了 for the hit
    说了多少遍 would have allowed the bare reply everywhere, audit 152 M8).
    """
    phrases = {fold(p) for p in lexicon_phrases}
    tokens = tokenize(text)
    bounds = token_bounds(tokens) if "".join(tokens) == text else frozenset(range(len(text) + 1))
    lo_limit, hi_limit = start, end
    while lo_limit > 0 and text[lo_limit - 1] not in _STOP:
        lo_limit -= 1
    while hi_limit < len(text) and text[hi_limit] not in _STOP:
        hi_limit += 1
    for grow in range(1, (hi_limit - lo_limit) - (end - start) + 1):
        for left in range(0, grow + 1):
            right = grow - left
            lo, hi = start - left, end + right
            if lo < lo_limit or hi > hi_limit:
                continue
            if (lo, hi) == (lo_limit, hi_limit):
                return None
            if lo not in bounds or hi not in bounds:
                continue
            candidate = text[lo:hi]
            if fold(candidate) not in phrases:
                return candidate
    return None


@dataclass(slots=True)
class FeedbackExport:
    """Samples, allowlist suggestions and what was left out."""

    samples: list[dict[str, Any]] = field(default_factory=list)
    allow: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    # Each sample's message, by the sample's id: (conversation id, message index).
    where: dict[str, tuple[str, int]] = field(default_factory=dict)
    # Each sample's reason as a label by id gives it: the reviewer's own words, never a quote.
    reasons: dict[str, str] = field(default_factory=dict)

    def labels_by_id(self) -> list[dict[str, Any]]:
        """The samples as label lines by id (``annotated_samples/real/labels.jsonl``'s form): no text.

        For chats whose licence lets labels, never texts, into the repository (the real chats
        beside the project): ``qc train --real-labels`` reads their texts from the chats
        themselves when it runs (audit 164 H5).
        """
        return [
            {
                "conversation_id": self.where[s["id"]][0],
                "index": self.where[s["id"]][1],
                "label": s["label"],
                "reason": self.reasons[s["id"]],
                "pass": 1,
            }
            for s in self.samples
        ]


# How bad each label is: the worst part of a message decides its label (ANNOTATION.md).
_SEVERITY = {"ok": 0, "impatience": 1, "conflict": 2}


def _label(finding: Finding, state: str) -> str | None:
    """The attitude label a decision gives the finding's message, ``None`` when it gives none.

    Only a finding about the wording says anything about it: rejecting a slow reply (the PC's
    clock was wrong) or an unanswered buyer (who left at once) leaves 说了多少遍了 as impatient as
    it was, so such decisions are no sample, confirmed or rejected.
    """
    implied = finding.evidence.details.get("implies")
    kind = finding.kind if finding.kind in ATTITUDE_LABELS else implied
    if kind not in ATTITUDE_LABELS:
        return None
    return "ok" if state == "rejected" else kind


def _context(conv: Conversation, index: int, window: int, mask: Callable[[str], str]) -> list[dict[str, str]]:
    before = (
        [m for m in conv.messages[:index] if m.role is Role.CUSTOMER or m.counts_as_agent][-window:]
        if window > 0
        else []
    )
    return [{"role": m.role.value, "text": mask(m.text)} for m in before]


def feedback_samples(
    store: Store, mask: Masker | None = None, lexicon: Any = None, card: Any = None
) -> FeedbackExport:
    """Every reviewed finding as a sample (latest decision wins; one sample per message).

    With an enabled ``mask``, every text is masked with its conversation's buyer nicks too.
    ``card`` (default: the default scorecard) says which findings still charge a message.
    """
    mask = mask or Masker(False)
    lexicon = lexicon or load_lexicon()
    states = finding_states(store)
    notes: dict[str, tuple[str, str]] = {}
    for row in store.audit_trail():
        if row["action"] in ("confirm", "reject"):
            notes[row["finding_id"]] = (row["actor"], row["note"])
    stored = store.findings(finding_ids=list(states))
    disputed = _disputed(store)
    convs = store.conversations({s.finding.conversation_id for s in stored})
    phrases = [p for e in lexicon.entries for p in e.phrases]
    # A nick inside a phrase the lexicon charged stays readable: a sample of 爱买不买 labelled
    # conflict was exported as 「[买家]」 when the buyer was nicknamed so (audit 94 #3).
    maskers = StoredMaskers(mask, store, set(convs))
    out = FeedbackExport()
    orphaned = len(orphaned_decisions(store))
    if orphaned:
        # Forgotten or re-inspected away: said, not dropped without a word (audit 152 L5).
        out.skipped.append(
            f"{orphaned} decision{'s' if orphaned > 1 else ''} no longer attached to a stored finding"
            " (qc review log --orphaned)"
        )
    seen: dict[tuple[str, int], dict[str, Any]] = {}
    # A message a finding under appeal still charges: no allow phrase for it either (audit 155 M6).
    withheld: dict[tuple[str, int], str] = {}
    for s in stored:
        f, state = s.finding, states[s.id]
        if s.id in disputed:
            # A ruling reopened, or an appeal not yet ruled, is no verdict to learn from (audit 152 L6).
            number, how = disputed[s.id]
            out.skipped.append(f"{f.id}: {state}, but appeal #{number} is {how}: exported once it is ruled")
            if (label := _label(f, state)) is not None and label != "ok":
                withheld[(f.conversation_id, f.message_index)] = label
            continue
        conv = convs.get(f.conversation_id)
        label = _label(f, state)
        if (
            conv is None
            or not 0 <= f.message_index < len(conv.messages)
            or not conv.messages[f.message_index].counts_as_agent
            or label is None
        ):
            # A hit its context vetoed cost nothing and implies no label (audit 159 L3).
            why = (
                "was suppressed by its context (cost nothing): no sample"
                if f.suppressed
                else "has no attitude label"
            )
            out.skipped.append(f"{f.id}: {f.kind} {state} {why}")
            continue
        actor, note = notes.get(f.id, ("", ""))
        mask_conv = maskers(f.conversation_id)
        note = mask_conv(note)  # a reviewer may quote the buyer's number in the reason
        key = (f.conversation_id, f.message_index)
        sample = {
            "id": f"review-{f.id}",
            "context": _context(conv, f.message_index, lexicon.context.lookback, mask_conv),
            "text": mask_conv(conv.messages[f.message_index].text),
            "label": label,
            "note": f"{state} by {actor}: {note}".strip().rstrip(":"),
            "source": f"review:{f.id}",
        }
        out.where[f"review-{f.id}"] = key
        # By id, no chat text: a confirm with no note of its own quotes the finding's summary, and
        # a reviewer's note may quote the message (audit 165 H4); the note stays in the store.
        out.reasons[f"review-{f.id}"] = f"{state} by {actor} ({f.kind}, {f.entry or f.rule})"
        previous = seen.get(key)
        # One sample per message, labelled as the worst part decides (ANNOTATION.md): a confirmed
        # attitude outweighs an "ok" from another finding, and conflict outweighs impatience (a
        # 我不知道，爱买不买 whose FP-0007 came first was exported impatience, charged -5 as conflict).
        if previous is None or _SEVERITY[label] > _SEVERITY[previous["label"]]:
            if previous is not None:
                out.samples.remove(previous)
            seen[key] = sample
            out.samples.append(sample)
        if (
            state == "rejected"
            and f.rule.startswith("forbidden_phrase")
            and f.start is not None
            and f.end is not None
        ):
            text = conv.messages[f.message_index].text
            phrase = allow_phrase(text, f.start, f.end, phrases)
            # Cut from the unmasked text, the phrase may hold a piece of personal data (the
            # last digit of a phone number): then it is left for a person to write.
            touches_pii = phrase is not None and phrase not in mask_conv(text)
            out.allow.append(
                {
                    "finding_id": f.id,
                    "entry": f.entry,
                    "hit": f.text,
                    "phrase": None if touches_pii else phrase,
                    "note": note,
                    "touches_pii": touches_pii,
                    "message": key,
                }
            )
    withheld.update(_drop_ok_still_charged(store, out, seen, card or load_scorecard(), disputed))
    for suggestion in out.allow:
        # A message this export labels impatient or hostile (another finding of it confirmed), or
        # one another finding still charges, must not be allowed by the lexicon: the file taught
        # the model one thing and the lexicon the other (audit 152 M8, 155 M6).
        key = suggestion.pop("message")
        labelled = seen.get(key)
        label = labelled["label"] if labelled is not None and key not in withheld else withheld.get(key, "ok")
        if label != "ok":
            suggestion["phrase"] = None
            suggestion["labelled"] = label
    return out


def _disputed(store: Store) -> dict[str, tuple[int, str]]:
    """Each finding an appeal not yet ruled (open, answered or reopened) covers: its number and state."""
    out: dict[str, tuple[int, str]] = {}
    for appeal in list_appeals(store):
        if appeal.state in (OPEN, ANSWERED, REOPENED):
            for fid in (appeal.finding_id, *appeal.decided_with):
                out[fid] = (appeal.id, appeal.state)
    return out


def _drop_ok_still_charged(
    store: Store,
    out: FeedbackExport,
    seen: dict[tuple[str, int], dict[str, Any]],
    card: Any,
    disputed: dict[str, tuple[int, str]],
) -> dict[tuple[str, int], str]:
    """Leave out an ``ok`` sample whose message another finding, not rejected, still charges.

    Rejecting the model's conflict on 爱买不买 left FP-0014 (implying conflict) pending, and the
    reply still cost the agent its conflict; the export taught the model ``ok`` for it (audit 119
    M2). Which findings still charge is what ``qc review`` warns of after a rejection
    (:func:`~qc.supervise.review.still_charging`). A pending one gives no confirmed label, so the
    message is no sample until it is decided; a confirmed one already gives the message its label.
    Returns the messages left out, each as still charged.
    """
    dropped: dict[tuple[str, int], str] = {}
    for key, sample in [(k, s) for k, s in seen.items() if s["label"] == "ok"]:
        fid = sample["source"].removeprefix("review:")
        standing = still_charging(store, fid, card)
        if not standing:
            continue
        out.samples.remove(sample)
        dropped[key] = "still charged"
        states = finding_states(store, [s.id for s in standing])
        why = ", ".join(
            f"{s.id} ({s.finding.kind}{' ' + s.finding.entry if s.finding.entry else ''},"
            f" {states.get(s.id, 'pending')})"
            for s in standing
        )
        appeals = sorted({disputed[s.id][0] for s in standing if s.id in disputed})
        if appeals:
            # qc review refuses a finding an appeal decides: the ruling is the way (audit 155 M6).
            way = "the ruling of appeal " + ", ".join(f"#{n}" for n in appeals)
        else:
            which, ids = ("that finding is", standing[0].id) if len(standing) == 1 else ("those are", "ID")
            way = f"{which} decided (qc review {ids} --confirm|--reject)"
        out.skipped.append(
            f"{fid}: rejected, but its message is still charged through {why}: no ok sample until {way}"
        )
    return dropped


def _comment_value(value: Any) -> str:
    """``value`` quoted for a TOML comment line: a reviewer's note may hold line breaks.

    JSON escapes every line break and control character but DEL, which TOML refuses in a
    comment too; written raw, the lines of a note after its first would be read as TOML.
    """
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def allow_snippet(suggestions: Iterable[dict[str, Any]]) -> str:
    """A TOML snippet of ``[[allow]]`` groups for lexicons/forbidden.toml (one per suggestion)."""
    lines = ["# Allowlist entries suggested by rejected review findings (qc feedback export)."]
    lines.append("# Check each before pasting it into lexicons/forbidden.toml, then run qc lexicon check.")
    for s in suggestions:
        lines.append("")
        lines.append(
            f"# finding {s['finding_id']}: {s['entry']} hit {_comment_value(s['hit'])}"
            + (f" rejected: {_comment_value(s['note'])}" if s["note"] else " rejected")
        )
        if s.get("touches_pii"):
            lines.append("# the words around the hit hold personal data: write the allow phrase by hand")
            continue
        if s.get("labelled"):
            lines.append(
                f"# its message is {s['labelled']}, through another finding of it: no allow phrase"
                if s["labelled"] == "still charged"
                else f"# its message is exported as {s['labelled']} (another finding of it confirmed):"
                " no allow phrase"
            )
            continue
        if s["phrase"] is None:
            lines.append(
                "# the hit is the whole clause (a bare reply): no allow phrase can fix it;"
                " see the context rules"
            )
            continue
        lines.append("[[allow]]")
        lines.append(f"reason = {json.dumps('review feedback: ' + str(s['entry']), ensure_ascii=False)}")
        lines.append(f"phrases = [{json.dumps(s['phrase'], ensure_ascii=False)}]")
    return "\n".join(lines) + "\n"
