"""``qc appeal``: an agent disputes a finding (申诉); QA answers; a supervisor rules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from qc.cli import app
from qc.cli._common import err, finding_id_arg, handle_errors
from qc.cli._store_opts import DEFAULT_DB, DbOption, MaskOption, open_db, warn_still_charged
from qc.errors import ConfigError

appeal_app = typer.Typer(
    no_args_is_help=True,
    help="Open, answer, rule and reopen appeals (申诉) against findings.\n\n"
    "The charged agent (or a supervisor for them) opens, a reviewer answers, a supervisor who"
    " neither reviewed the finding nor answered rules; a ruling is final until a supervisor"
    " reopens it. Everyone must be registered (qc people add).\n\n"
    '\b\nExample:\n    qc appeal open 1edfab741bc8e5aa --agent 阿杰 --reason "the buyer joked first"\n'
    '    qc appeal answer 1 --by 质检小王 --note "checked the whole chat"\n'
    '    qc appeal rule 1 --overturn --by 张主管 --note "a joke between regulars"',
)
app.add_typer(appeal_app, name="appeal")


@appeal_app.command("open")
@handle_errors
def open_cli(
    finding_id: Annotated[str, typer.Argument(help="The disputed finding's id.", callback=finding_id_arg)],
    agent: Annotated[
        str, typer.Option("--agent", help="The agent appealing: the one the finding is charged to.")
    ] = "",
    by: Annotated[str, typer.Option("--by", help="A supervisor appealing on the agent's behalf.")] = "",
    reason: Annotated[str, typer.Option("--reason", help="Why the finding is wrong.")] = "",
    scorecard: Annotated[
        str | None,
        typer.Option(help="Shop scorecard TOML: a finding it holds back costs nothing to appeal."),
    ] = None,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Open an appeal against a finding: by the charged agent, or a supervisor on their behalf.

    Prints the appeal number on stdout.

    \b
    Example:
        qc appeal open 1edfab741bc8e5aa --agent 阿杰 --reason "the buyer asked me to be blunt"
        qc appeal open 9c31d6a2b4e8f017 --by 张主管 --reason "阿杰 is on leave; the buyer joked first"
    """  # noqa: D301 - the \b line keeps click from rewrapping the examples
    from qc.scoring.card import load_scorecard
    from qc.supervise.appeal import open_appeal
    from qc.supervise.people import login_source

    card = load_scorecard(Path(scorecard) if scorecard else None)
    with open_db(db) as store:
        a = open_appeal(
            store, finding_id, agent=agent, by=by, reason=reason, card=card, source=login_source("cli")
        )
    err(f"appeal #{a.id} opened on {a.finding_id}")
    typer.echo(a.id)


@appeal_app.command("answer")
@handle_errors
def answer_cli(
    appeal_id: Annotated[int, typer.Argument(help="Appeal number.")],
    by: Annotated[str, typer.Option("--by", help="A registered reviewer or supervisor.")] = "",
    note: Annotated[str, typer.Option("--note", help="The answer.")] = "",
    db: DbOption = DEFAULT_DB,
) -> None:
    """Answer an open appeal (a registered reviewer or supervisor, not the charged agent).

    \b
    Example:
        qc appeal answer 1 --by 质检小王 --note "checked the whole chat"
    """  # noqa: D301 - the \b line keeps click from rewrapping the examples
    from qc.supervise.appeal import answer_appeal
    from qc.supervise.people import login_source

    with open_db(db) as store:
        a = answer_appeal(store, appeal_id, by=by, note=note, source=login_source("cli"))
    err(f"appeal #{a.id}: {a.state}")


@appeal_app.command("rule")
@handle_errors
def rule_cli(
    appeal_id: Annotated[int, typer.Argument(help="Appeal number.")],
    uphold: Annotated[bool, typer.Option("--uphold", help="The finding stands (confirmed).")] = False,
    overturn: Annotated[bool, typer.Option("--overturn", help="The finding is rejected.")] = False,
    by: Annotated[
        str, typer.Option("--by", help="A registered supervisor who did not review the finding.")
    ] = "",
    note: Annotated[str, typer.Option("--note", help="The reason for the ruling (required).")] = "",
    scorecard: Annotated[
        str | None,
        typer.Option(help="Shop scorecard TOML: which other findings keep charging the message."),
    ] = None,
    with_message: Annotated[
        bool,
        typer.Option(
            "--with-message",
            help="With --overturn: also reject the other findings that charge the same message's"
            " verdict (a forbidden phrase implying the appealed impatience), so the reply costs nothing.",
        ),
    ] = False,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Rule an answered appeal final: --uphold or --overturn (overturned = finding rejected).

    Only a supervisor who neither is the charged agent, nor reviewed the finding, nor answered
    the appeal may rule. Afterwards reviews of the finding are refused until a supervisor
    reopens the appeal (qc appeal reopen). A message is charged once for its verdict by
    whichever of its findings stand: --with-message clears the whole reply; without it, the
    other findings that still charge it are named.

    \b
    Example:
        qc appeal rule 1 --overturn --with-message --by 张主管 --note "context shows a joke"
    """  # noqa: D301 - the \b line keeps click from rewrapping the examples
    from qc.scoring.card import load_scorecard
    from qc.supervise.appeal import rule_appeal
    from qc.supervise.people import login_source
    from qc.supervise.review import deciding_appeals, still_charging

    if uphold == overturn:
        raise ConfigError("give exactly one of --uphold or --overturn")
    if with_message and not overturn:
        raise ConfigError("--with-message goes with --overturn (an upheld finding's message stays charged)")
    card = load_scorecard(Path(scorecard) if scorecard else None)  # a bad card stops before any decision
    with open_db(db) as store:
        a = rule_appeal(
            store,
            appeal_id,
            overturn=overturn,
            by=by,
            note=note,
            card=card,
            with_message=with_message,
            source=login_source("cli"),
        )
        err(f"appeal #{a.id}: {a.state} (final)")
        if a.decided_with:
            err(f"  {_along(a)}")
        if a.closed_with:
            err(
                f"  the same message's {', '.join(a.closed_with)}, held for review, closed with it: no"
                " review may confirm it while this ruling stands"
            )
        others = still_charging(store, a.finding_id, card)
        warn_still_charged(others, deciding_appeals(store, others))


def _along(a: Any) -> str:
    """What a ruling decided beside the appealed finding: the other findings of its message."""
    decided = "rejected" if a.state == "overturned" else "confirmed"
    return (
        f"the same message's {', '.join(a.decided_with)} {decided} with it: a message is charged once"
        " for its verdict, by whichever of its findings stand"
    )


@appeal_app.command("reopen")
@handle_errors
def reopen_cli(
    appeal_id: Annotated[int, typer.Argument(help="Appeal number.")],
    by: Annotated[str, typer.Option("--by", help="A registered supervisor.")] = "",
    note: Annotated[str, typer.Option("--note", help="Why the ruling is reopened (required).")] = "",
    db: DbOption = DEFAULT_DB,
) -> None:
    """Reopen a final ruling (a supervisor): the finding can be reviewed and the appeal ruled again.

    \b
    Example:
        qc appeal reopen 1 --by 张主管 --note "the buyer sent the full chat history"
    """  # noqa: D301 - the \b line keeps click from rewrapping the examples
    from qc.supervise.appeal import reopen_appeal
    from qc.supervise.people import login_source

    with open_db(db) as store:
        a = reopen_appeal(store, appeal_id, by=by, note=note, source=login_source("cli"))
    err(f"appeal #{a.id}: {a.state}; review the finding again or rule: qc appeal rule {a.id} …")


@appeal_app.command("list")
@handle_errors
def list_cli(
    state: Annotated[
        str | None,
        typer.Option(help="Only appeals in this state: open, answered, upheld, overturned, reopened."),
    ] = None,
    mask_pii: MaskOption = False,
    scorecard: Annotated[
        str | None,
        typer.Option(
            help="Shop scorecard TOML: which other findings keep charging an overturned one's message."
        ),
    ] = None,
    db: DbOption = DEFAULT_DB,
) -> None:
    """List appeals as JSON lines (an unknown state is an error naming the states).

    An overturned appeal whose message another finding still charges (a forbidden phrase
    implying the same verdict) lists those findings as ``message_still_charged_by``.

    Each row says whether it is ``orphaned``: a later inspection no longer found its finding,
    so the appeal can be answered or ruled no more (its finding charges nothing).

    \b
    Example:
        qc appeal list --state open
        qc appeal list --mask-pii   # reasons and answers may quote a buyer's number
    """  # noqa: D301 - the \b line keeps click from rewrapping the examples
    from qc.scoring.card import load_scorecard
    from qc.supervise.appeal import STATES, list_appeals
    from qc.supervise.filters import check_choice
    from qc.supervise.masking import finding_maskers
    from qc.supervise.review import still_charging
    from qc.supervise.states import OVERTURNED
    from qc.text.pii import Masker

    mask = Masker(mask_pii)

    if state is not None:
        check_choice(state, "--state", STATES)
    with open_db(db) as store:
        appeals = list_appeals(store, state)
        gone = set(store.orphaned_decisions())
        known = {a.finding_id: a.conversation_id for a in appeals if a.conversation_id}
        masks = finding_maskers(mask, store, [a.finding_id for a in appeals], known)
        card = load_scorecard(Path(scorecard) if scorecard else None)
        # Overturned, its finding costs nothing; its message may still be charged by another
        # finding (a forbidden phrase implying the same verdict): the list said only "overturned".
        still = {
            a.id: [s.id for s in still_charging(store, a.finding_id, card)]
            for a in appeals
            if a.state == OVERTURNED and a.finding_id not in gone
        }
    for a in appeals:
        row = a.to_json()
        if a.id in still:
            row["message_still_charged_by"] = still[a.id]
        for key in ("reason", "answer", "ruling"):
            if row[key]:
                row[key] = masks(a.finding_id)(row[key])
        if row.get("conversation_id"):
            # A conversation id that is the buyer's phone number, as qc flagged and qc show mask it.
            row["conversation_id"] = mask.identifier(row["conversation_id"])
        # A later inspection no longer found the finding: no step can be taken on the appeal.
        row["orphaned"] = row["finding_id"] in gone
        typer.echo(json.dumps(row, ensure_ascii=False))
    if not appeals:
        err(
            "no appeals"
            + (f" in state {state}" if state else "")
            + "; open one with `qc appeal open FINDING_ID`"
        )
