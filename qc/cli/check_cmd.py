"""``qc check``: one text or a file of draft replies, judged as ``qc inspect`` judges a reply."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from qc.cli import app
from qc.cli._common import cell, handle_errors, stdout_console
from qc.errors import EXIT_USAGE, ConfigError, InputError
from qc.text.pii import shown_value

EXIT_HIT = 3


_SHAPE = (
    'expected {"text": "...", "context": ["buyer text", {"role": "agent", "text": "..."}],'
    ' "then": ["the agent\'s next bubble"]} or a plain line'
)


def _stdin_text() -> str:
    """The one message piped to ``qc check -``, decoded as the readers decode a file."""
    from qc.readers.encoding import UndecodableError, decode_text

    try:
        said, _ = decode_text(sys.stdin.buffer.read())
    except UndecodableError as exc:
        raise ConfigError(f"standard input: {exc}") from None
    return said.rstrip("\r\n")


def parse_check_file(path: Path) -> tuple[list[tuple[int, str, list[Any], list[str]]], list[str]]:
    """Read ``qc check --file`` input: one message per line, or JSON Lines with context.

    A line starting with ``{`` is JSON: ``{"text": ..., "context": [...], "then": [...]}``
    where context items are buyer texts or ``{"role": ..., "text": ...}`` objects (the
    annotated-samples format) and ``then`` the agent's next bubbles, as ``--then`` gives them.
    Any other non-blank line is one agent message with no context. Lines end at a newline only
    (a U+2028 inside a JSON string is text), and each is decoded on its own, as the chat
    readers decode: a garbled line is one problem, not a failed file.

    Returns:
        ``(line number, text, context, then)`` of every good line, and one problem per bad line
        (``file:line: reason``), so the good lines are still judged.

    Raises:
        InputError: the file cannot be read at all.
    """
    from qc.readers.encoding import UndecodableError, decode, decode_text

    try:
        # ``-`` is standard input, as for most command-line tools (a pipe of drafts).
        data = sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    garbled: set[int] = set()
    encoding = ""
    try:
        # Whole first: a short GBK file can pass for UTF-8 a line at a time (哦 is Ŷ).
        text, _ = decode_text(data)
        lines = text.split("\n")
    except UndecodableError:
        try:
            decoded = decode(data)  # line by line, as the chat readers: a garbled line is one problem
        except UndecodableError as exc:
            raise InputError(f"{path}: {exc}") from None
        lines, garbled, encoding = decoded.lines, decoded.garbled, decoded.encoding
    items: list[tuple[int, str, list[Any], list[str]]] = []
    problems: list[str] = []
    for no, line in enumerate(lines, start=1):
        if no in garbled:
            problems.append(f"{path}:{no}: not {encoding} text like the rest; re-save the file as UTF-8")
            continue
        if not line.strip():
            continue
        if not line.lstrip().startswith("{"):
            item: tuple[str, list[Any], list[str]] | str = (line, [], [])
        else:
            item = _json_line(line)
        if isinstance(item, tuple):
            item = _text_problem(*item) or item
        if isinstance(item, str):
            problems.append(f"{path}:{no}: {item}")
        else:
            items.append((no, *item))
    return items, problems


def _json_line(line: str) -> tuple[str, list[Any], list[str]] | str:
    """A JSON line's ``(text, context, then)``, or why it is not one."""
    try:
        record = json.loads(line)
    except ValueError as exc:
        return f"not valid JSON ({exc}); {_SHAPE}"
    if not isinstance(record, dict):
        return f'no "text" string; {_SHAPE}'
    import difflib

    # Before the text is looked for: {"Text": …} or {"txt": …} said only that no text was there
    # (audit 162 L1).
    for key in record:
        spelt = str(key).casefold()
        near = difflib.get_close_matches(spelt, ("text", "context", "then"), n=1, cutoff=0.8)
        # Keys of their own stay (content, as the readers name a text; context_id): audit 158 L1.
        if near and key != near[0] and spelt not in _OTHER_KEYS:
            # "contxt" was ignored, and the draft judged with no context at all (audit 156 M2).
            return f"unknown key {shown_value(str(key))!r}: did you mean {near[0]!r}? {_SHAPE}"
    said = record.get("text")
    if isinstance(said, int | float) and not isinstance(said, bool):
        from qc.readers.records import scalar_text

        record["text"] = scalar_text(said) or ""  # a reply of digits (an order number), as inspect reads it
    elif not isinstance(said, str):
        return f'no "text" string; {_SHAPE}'
    turns = record.get("context") or []
    if not isinstance(turns, list):
        return f'"context" is not a list; {_SHAPE}'
    context: list[Any] = []
    for i, turn in enumerate(turns):
        if isinstance(turn, str):
            # As on the command line: "agent:…" is the agent's own earlier turn (audit 156 M2).
            context.append(_context_item(turn))
        elif isinstance(turn, dict) and isinstance(turn.get("text"), str):
            role = turn.get("role", "customer")
            if role not in ("customer", "agent"):
                return f"context[{i}] has role {shown_value(str(role))!r}; use customer or agent"
            auto = turn.get("auto_reply", False)
            if not isinstance(auto, bool):
                return f"context[{i}] has auto_reply {shown_value(str(auto))!r}; write true or false"
            if auto and role != "agent":
                return f"context[{i}] is the buyer's turn marked auto_reply: only an agent's turn can be one"
            # The shop's auto-reply, as the message format marks it: ignored, it was a typed reply.
            context.append((role, turn["text"], True) if auto else (role, turn["text"]))
        else:
            return f"context[{i}] is neither a buyer text nor a {{role, text}} object; {_SHAPE}"
    then = record.get("then") or []
    if not isinstance(then, list) or not all(isinstance(t, str) for t in then):
        return f'"then" is not a list of texts; {_SHAPE}'
    return record["text"], context, then


# Keys a drafts line may carry that are near text, context or then but are no slip for them.
_OTHER_KEYS = frozenset(("content", "contents", "context_id", "contexts_id", "texts", "then_id", "next"))


# A --context value may say whose words it is: "agent:可以的亲" is the agent's earlier reply. A role
# word and a colon of either width, spaces around it: Agent：…, 客服 ：… (audit 156 L2).
_CONTEXT_PREFIX = re.compile(r"\s*(agent|buyer|customer|客服|买家)\s*[:：]\s*", re.IGNORECASE)


def _context_item(value: str) -> str | tuple[str, str]:
    """A ``--context`` value: a buyer text, or ``(role, text)`` when it starts ``agent:`` or ``buyer:``."""
    found = _CONTEXT_PREFIX.match(value)
    if found is None:
        return value
    rest = value[found.end() :]
    return ("agent", rest) if found[1].lower() in ("agent", "客服") else rest


def _text_problem(text: str, context: list[Any], then: Sequence[str] = ()) -> str | None:
    """Why a message or its context cannot be judged: empty, a control character or a lone surrogate.

    What ``qc inspect`` rejects as a record (empty text) is no message to judge here either:
    an empty buyer turn made a bare 哦 read as following nothing (ok) where inspect charges it.
    """
    from qc.readers.records import text_problem

    turns = [(f"context[{i}]", t if isinstance(t, str) else t[1]) for i, t in enumerate(context)]
    named = [("text", text), *turns, *((f"then[{i}]", t) for i, t in enumerate(then))]
    for name, value in named:
        if not value.strip():
            # -c "agent:" was "context[0] is empty", which its prefix made hard to see (audit 156 L2).
            after = " (or holds only an agent:/buyer: prefix)" if name.startswith("context") else ""
            return (
                f"{name} is empty{after}: give the message's words (qc inspect rejects an empty message too)"
            )
    return next((p for name, t in named if (p := text_problem(name, t))), None)


def check_messages(
    items: Sequence[tuple[str, Sequence[Any], Sequence[str]]],
    lexicon: Path | None = None,
    strict: bool = False,
    explain: bool = False,
    model: Path | None = None,
    scorecard: Path | None = None,
) -> list[dict[str, Any]]:
    """Judge agent texts (each after its context) as ``qc inspect`` would, one JSON-ready result each.

    The same rules (forbidden phrases and the attitude model, with the same lexicon, model and
    switches) run over a conversation of the context then the text, and the scorecard decides
    the verdict as it does for a day's chats: ``verdict`` is what the reply would be charged
    with (``ok`` when nothing), ``held`` whether a finding waits for review instead. Each item
    is ``(text, context, then)``; ``then`` are the agent's next bubbles after the text:
    inspection reads a reply sent in several bubbles as one turn too, and the milder reading
    counts.
    """
    from qc.rules import RuleSettings
    from qc.rules.forbidden_phrase import conversation_for
    from qc.run.inspector import build_inspector
    from qc.schema import Role
    from qc.scoring.card import load_scorecard, mark_held, message_verdicts

    card = load_scorecard(scorecard)
    separately = {
        kind
        for item in card.items
        if item.rule == "findings"
        for kind, points in item.points.items()
        if points and kind not in card.verdict_order
    }
    inspector = build_inspector(RuleSettings(lexicon=lexicon, model=model, strict=strict))
    info = inspector.describe()
    try:
        conversations = [conversation_for(text, context, then=then) for text, context, then in items]
    except ValueError as exc:
        raise ConfigError(f"bad context role: {exc}; use customer or agent") from None
    results = []
    for (_, _, then), conversation, result in zip(
        items, conversations, inspector.inspect(conversations), strict=True
    ):
        last = len(conversation.messages) - 1 - len(then)  # the checked text, before its next bubbles
        found = [f for f in result.findings if f.message_index == last]
        # Held as the day's scoring holds it: below its threshold, or a kind the card only reviews.
        findings = mark_held(found, card)
        verdicts = message_verdicts([conversation], findings, card)
        verdict = next((v.verdict for v in verdicts if v.verdict), None) or "ok"
        if verdict == "ok":
            # A kind outside verdict_order that an item gives points is charged on its own, as
            # the day's scoring charges it: check said ok, and --fail-on-hit passed the draft.
            verdict = next((k for v in verdicts for k in v.kinds if k in separately), "ok")
        shown = [f for f in findings if explain or f.live or f.needs_review]
        held = {f.id for f in findings if f.needs_review and not f.suppressed}
        said = conversation.messages[last].text
        clipped = inspector.max_chars is not None and len(said) > inspector.max_chars
        results.append(
            {
                # A clipped draft echoes what was judged, not a megabyte of the rest (audit 156 L3).
                "text": said[: inspector.max_chars] if clipped else said,
                "verdict": verdict,
                # Marked [自动回复] as a 千牛 export marks it: inspect judges no auto-reply either.
                "auto_reply": conversation.messages[last].auto_reply,
                # A notice or emoticon code alone in the agent's column: the platform's, never judged.
                "platform_notice": conversation.messages[last].role is Role.SYSTEM,
                "held": verdict == "ok" and bool(held),
                # A lexicon hit, held or not: what --fail-on-hit lints a draft for.
                "live": sum(1 for f in found if f.live and f.kind == "forbidden_phrase"),
                "suppressed": sum(1 for f in findings if f.suppressed),
                # Longer than max_message_chars: judged on its start, as qc inspect judges it.
                "clipped": clipped,
                "findings": [
                    {
                        "kind": f.kind,
                        "rule": f.rule,
                        "entry": f.entry,
                        "start": f.start,
                        "end": f.end,
                        "text": f.text if f.start is not None else None,
                        "suppressed": f.suppressed,
                        "needs_review": f.id in held,
                        "implies": f.evidence.details.get("implies"),
                        "cue": f.cue,
                        "summary": f.evidence.summary,
                    }
                    for f in shown
                ],
                "lexicon": info.lexicon_version,
                "model": info.model_version,
                "strict": strict,
            }
        )
    return results


def _table(results: list[dict[str, Any]]) -> None:
    from rich.table import Table

    from qc.supervise.explain import cue_zh

    # The state in Chinese beside the English and the lexicon's cue in Chinese, as the workbench
    # words them: an agent checks a draft here before sending it (audit 156 L1).
    states = {"suppressed": "不扣分 suppressed", "review": "待复核 review", "LIVE": "扣分 LIVE"}
    table = Table("message", "verdict", "finding", "span", "state", "why")
    # Piped, the console is 80 columns: the reason folds onto more lines instead of being cut.
    for column in table.columns:
        column.overflow = "fold"
    for r in results:
        verdict = r["verdict"] + (" (held for review)" if r["held"] else "")
        verdict += " (auto-reply: not judged)" if r["auto_reply"] else ""
        verdict += " (the platform's notice: not judged)" if r["platform_notice"] else ""
        verdict += " (judged on its start: longer than max_message_chars)" if r["clipped"] else ""
        if not r["findings"]:
            table.add_row(cell(r["text"]), verdict, "", "", "", "")
        for f in r["findings"]:
            span = "" if f["start"] is None else f"{f['start']}-{f['end']}"
            state = states["suppressed" if f["suppressed"] else "review" if f["needs_review"] else "LIVE"]
            what = f["entry"] or f["kind"]
            why = cue_zh(f["cue"]) if f["entry"] else f["summary"]
            table.add_row(cell(r["text"]), verdict, what, span, state, cell(why))
    stdout_console(soft_wrap=True).print(table)


@app.command("check")
@handle_errors
def check_cli(
    text: Annotated[
        str | None,
        typer.Argument(
            help="The agent message or draft reply to check (-: all of stdin is one message;"
            " --file - reads one per line)."
        ),
    ] = None,
    context: Annotated[
        list[str] | None,
        typer.Option(
            "--context",
            "-c",
            help="What the buyer said before, oldest first (repeatable); start a value with agent: (or"
            " 客服：) for the agent's own earlier reply.",
        ),
    ] = None,
    then: Annotated[
        list[str] | None,
        typer.Option(
            "--then",
            help="The agent's next message right after TEXT, before the buyer writes (repeatable):"
            " a reply in several bubbles is judged as one turn too, as qc inspect does for bubbles"
            " sent within the model's follow-up window (follow_up_seconds, 60 s); give only those.",
        ),
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option(
            "--file", "-f", help='One message per line, or JSON Lines {"text", "context"}; - is stdin.'
        ),
    ] = None,
    output_format: Annotated[
        str, typer.Option("--format", help="json (default, one line per message) or table.")
    ] = "json",
    explain: Annotated[
        bool, typer.Option("--explain", help="Also show suppressed hits and their veto cue.")
    ] = False,
    lexicon: Annotated[Path | None, typer.Option("--lexicon", help="Lexicon file; default: bundled.")] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Strict shop: any 不-word needs an apology or reason.")
    ] = False,
    model: Annotated[
        Path | None, typer.Option("--model", help="Attitude model folder (qc train --out); default: bundled.")
    ] = None,
    scorecard: Annotated[
        Path | None, typer.Option("--scorecard", help="Shop scorecard TOML merged over the default.")
    ] = None,
    fail_on_hit: Annotated[
        bool,
        typer.Option(
            "--fail-on-hit",
            help="Exit 3 when a reply would be charged, held for review or has a live hit (pre-send lint).",
        ),
    ] = False,
) -> None:
    """Check a message or draft reply as `qc inspect` would judge it after the buyer's context.

    Runs the same rules as `qc inspect` (forbidden phrases and the attitude model, with the
    same lexicon, model, scorecard and switches) and prints one JSON object per checked
    message on stdout: the verdict it would be charged with (ok, impatience, conflict),
    whether a finding is held for review, and every live finding with its span, entry and
    explanation (suppressed ones too with --explain). Exit 0 when it ran, 2 on usage,
    lexicon or model errors, 3 with --fail-on-hit when a reply would be charged or held, or holds a
    live forbidden phrase.

    Example:

        qc check "哦" --context "能今天发货吗"

        qc check "我不清楚呢，马上帮您问一下" --explain --format table

        qc check --file drafts.jsonl --strict --fail-on-hit
    """
    if text is None and file is None:
        raise ConfigError("give the message to check: TEXT, or --file FILE (one message per line)")
    if text is not None and file is not None:
        raise ConfigError("give either TEXT or --file FILE, not both")
    if output_format not in ("json", "table"):
        raise ConfigError(f"--format {output_format!r}: use json or table")
    if file is not None and (context or then):
        raise ConfigError(
            '--context and --then go with TEXT; in --file put them on each JSON line ("context", "then")'
        )
    problems: list[str] = []
    if file is not None:
        try:
            numbered, problems = parse_check_file(file)
        except InputError as exc:
            raise ConfigError(str(exc)) from None
        items = [(t, c, n) for _, t, c, n in numbered]
    else:
        if text == "-":  # the message from standard input: echo 哦 | qc check - -c 能今天发货吗
            text = _stdin_text()
        items = [(text or "", [_context_item(c) for c in context or []], list(then or []))]
        # A terminal that sends bytes which are not UTF-8 gives Python lone surrogates.
        problem = _text_problem(*items[0])
        if problem is not None:
            hint = "; is the terminal set to UTF-8?" if "surrogate" in problem else ""
            raise ConfigError(f"{problem.replace('the record', 'the text')}{hint}")
    results = check_messages(
        items,
        lexicon=lexicon,
        strict=strict,
        explain=explain,
        model=model,
        scorecard=scorecard,
    )
    if file is not None:
        for (no, _, _, _), r in zip(numbered, results, strict=True):
            r["line"] = no
    if output_format == "table":
        _table(results)
    else:
        for r in results:
            typer.echo(json.dumps(r, ensure_ascii=False))
    if problems:
        # The good lines are judged above; the bad ones are named, and the run is a usage error.
        for problem in problems:
            typer.echo(f"qc: {problem}", err=True)
        raise typer.Exit(EXIT_USAGE)
    # Held for review counts: the default card holds the classifier's verdicts, and a blatant
    # conflict draft passed the lint with exit 0 (audit 165 L6).
    if fail_on_hit and any(r["live"] or r["verdict"] != "ok" or r["held"] for r in results):
        raise typer.Exit(EXIT_HIT)
