"""``qc people``: who may review, rule and appeal (reviewer, supervisor, agent)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from qc.cli import app
from qc.cli._common import cell, err, handle_errors, table_console
from qc.cli._store_opts import DEFAULT_DB, DbOption, open_db
from qc.errors import ConfigError

if TYPE_CHECKING:
    from qc.supervise.people import Person

people_app = typer.Typer(
    no_args_is_help=True,
    help="Register who reviews (reviewer), rules appeals (supervisor) and is charged (agent).\n\n"
    "Reviews and appeal steps name a registered person; a store without people refuses them.\n\n"
    "\b\nExample:\n    qc people add 质检小王 --role reviewer\n    qc people add 张主管 --role supervisor\n"
    "    qc people add 阿杰 --role agent\n    qc people bind 阿杰 另一家店:阿杰\n    qc people list",
)
app.add_typer(people_app, name="people")


@people_app.command("add")
@handle_errors
def add_cli(
    name: Annotated[str, typer.Argument(help="The person's name as they sign decisions (--by NAME).")],
    role: Annotated[str, typer.Option("--role", help="reviewer, supervisor or agent.")],
    agent_ids: Annotated[
        list[str] | None,
        typer.Option(
            "--agent-id",
            help="The account findings are charged to (店铺:客服名); repeat it for one account per"
            " shop. Default for an agent: NAME when it names one stored agent.",
        ),
    ] = None,
    by: Annotated[str, typer.Option("--by", help="Who registers them (default: your login name).")] = "",
    note: Annotated[str, typer.Option("--note", help="Why (kept in the audit trail).")] = "",
    db: DbOption = DEFAULT_DB,
) -> None:
    """Register a person with a role (logged in the audit trail).

    A reviewer reviews findings and answers appeals; a supervisor also rules appeals and
    reopens rulings; an agent appeals the findings charged to their account (--agent-id, or
    NAME itself when it names one agent of the store, e.g. 阿杰 for 柚子优选旗舰店:阿杰).
    Someone who chats in several shops has an account in each: repeat --agent-id, or add one
    later with qc people bind. Nobody reviews or rules on a finding charged to any of theirs.

    \b
    Example:
        qc people add 质检小王 --role reviewer
        qc people add 张主管 --role supervisor --note "QA lead"
        qc people add 阿杰 --role agent
        qc people add 小林 --role agent --agent-id 柚子优选旗舰店:小林
        qc people add 老张 --role supervisor --agent-id 店a:老张 --agent-id 店b:老张
    """  # noqa: D301 - the \b line keeps click from rewrapping the examples
    from qc.supervise.filters import match_agent
    from qc.supervise.people import AGENT, add_person, is_unassigned, unknown_accounts

    with open_db(db) as store:
        person = add_person(store, name, role, accounts=agent_ids or [], by=by, note=note)
        namesake = (
            [a for a in match_agent(person.name, store.agents()) if not is_unassigned(a)]
            if person.role != AGENT
            else []
        )
        unknown = unknown_accounts(store, [person])
    accounts = f" ({cell(', '.join(person.accounts))})" if person.accounts else ""
    err(f"{cell(person.name)} added as {person.role}{accounts}")
    if not person.accounts and namesake:
        # Nobody reviews their own findings: that check knows a person's account only by --agent-id.
        which = "agent " + namesake[0] if len(namesake) == 1 else "agents " + ", ".join(namesake)
        link = namesake[0] if len(namesake) == 1 else "ACCOUNT"
        err(
            f"warning: {cell(person.name)} is also the name of {which}; if one is their account,"
            f" bind it with qc people bind {cell(person.name)} {link},"
            " so they never review or rule on their own findings"
        )
    _warn_unknown(unknown)


def _warn_unknown(unknown: list[tuple[Person, str]]) -> None:
    """Warn about each binding to an account no stored agent has: it guards nothing."""
    for person, account in unknown:
        # A mistyped binding, or a bare nick migration 12 could not give one shop.
        err(
            f"warning: {cell(person.name)} is bound to {cell(account)}, which no stored agent is; check the"
            " spelling (`qc flagged` lists the agents): findings are charged to the full account,"
            f" e.g. 店铺名:客服名. Fix it with qc people bind {cell(person.name)} 店铺名:客服名,"
            f" then qc people unbind {cell(person.name)} {cell(account)} --note WHY"
        )


@people_app.command("bind")
@handle_errors
def bind_cli(
    name: Annotated[str, typer.Argument(help="The registered person.")],
    agent_id: Annotated[str, typer.Argument(help="One more account they chat under (店铺:客服名).")],
    by: Annotated[str, typer.Option("--by", help="Who binds it (default: your login name).")] = "",
    note: Annotated[str, typer.Option("--note", help="Why (kept in the audit trail).")] = "",
    db: DbOption = DEFAULT_DB,
) -> None:
    """Bind one more account to a person: their account in another shop (logged).

    Findings charged to it are theirs: they appeal them (an agent) and never review or rule on
    them (anyone).

    \b
    Example:
        qc people bind 阿杰 另一家店:阿杰 --note "also chats for 另一家店 since May"
    """  # noqa: D301 - the \b line keeps click from rewrapping the examples
    from qc.supervise.people import bind_person, unknown_accounts

    with open_db(db) as store:
        person = bind_person(store, name, agent_id, by=by, note=note)
        unknown = [u for u in unknown_accounts(store, [person]) if u[1] == person.accounts[-1]]
    err(f"{cell(person.name)} ({person.role}) is bound to {cell(', '.join(person.accounts))}")
    _warn_unknown(unknown)


@people_app.command("unbind")
@handle_errors
def unbind_cli(
    name: Annotated[str, typer.Argument(help="The registered person.")],
    agent_id: Annotated[str, typer.Argument(help="The account to unbind (店铺:客服名).")],
    by: Annotated[str, typer.Option("--by", help="Who unbinds it (default: your login name).")] = "",
    note: Annotated[str, typer.Option("--note", help="Why (required; kept in the audit trail).")] = "",
    db: DbOption = DEFAULT_DB,
) -> None:
    """Unbind an account from a person: it changed hands, or was bound by mistake (logged).

    From then on its findings are no longer theirs: they may review them, and cannot appeal them.

    \b
    Example:
        qc people unbind 阿杰 另一家店:阿杰 --note "handed to 小林"
    """  # noqa: D301 - the \b line keeps click from rewrapping the examples
    from qc.supervise.people import unbind_person
    from qc.supervise.review import is_blank

    if is_blank(note):
        raise ConfigError('--note is required: say why the account is unbound, e.g. --note "handed over"')
    with open_db(db) as store:
        person = unbind_person(store, name, agent_id, by=by, note=note)
    left = cell(", ".join(person.accounts)) if person.accounts else "no account"
    err(f"{cell(person.name)} ({person.role}) is now bound to {left}")


@people_app.command("remove")
@handle_errors
def remove_cli(
    name: Annotated[str, typer.Argument(help="The person to remove.")],
    by: Annotated[str, typer.Option("--by", help="Who removes them (default: your login name).")] = "",
    note: Annotated[str, typer.Option("--note", help="Why (required; kept in the audit trail).")] = "",
    db: DbOption = DEFAULT_DB,
) -> None:
    """Remove a person: they can no longer decide; past decisions keep their name.

    \b
    Example:
        qc people remove 质检小王 --note "moved to the warehouse team"
    """  # noqa: D301 - the \b line keeps click from rewrapping the examples
    from qc.supervise.people import remove_person
    from qc.supervise.review import is_blank

    if is_blank(note):  # before the store is opened: nothing happens without a reason
        raise ConfigError('--note is required: say why the person is removed, e.g. --note "left the team"')
    with open_db(db) as store:
        person = remove_person(store, name, by=by, note=note)
    err(f"{person.name} ({person.role}) removed")


@people_app.command("password")
@handle_errors
def password_cli(
    name: Annotated[str, typer.Argument(help="The registered person who signs in to `qc serve`.")],
    generate: Annotated[
        bool, typer.Option("--generate", help="Make a random password and print it once on stdout.")
    ] = False,
    by: Annotated[str, typer.Option("--by", help="Who sets it (default: your login name).")] = "",
    db: DbOption = DEFAULT_DB,
) -> None:
    """Set the password a person signs in to the workbench (qc serve) with.

    Asks for it twice (hidden) on a terminal, reads one line from standard input when it is
    piped, or makes a random one with --generate (printed once, on stdout). Only an argon2
    hash is stored; the change is logged in the audit trail without the password.

    \b
    Example:
        qc people password 张主管 --generate
        qc people password 质检小王
    """  # noqa: D301 - the \b line keeps click from rewrapping the examples
    import sys

    from qc.errors import ConfigError
    from qc.supervise.accounts import generate_password, set_password

    if generate:
        password = generate_password()
    elif sys.stdin.isatty():
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True, err=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise ConfigError("no password on standard input; type one on a terminal, or use --generate")
    with open_db(db) as store:
        person = set_password(store, name, password, by=by)
    if generate:
        typer.echo(password)
    err(f"sign-in password set for {person.name} ({person.role})")


@people_app.command("list")
@handle_errors
def list_cli(
    include_removed: Annotated[bool, typer.Option("--all", help="Also people who were removed.")] = False,
    output_format: Annotated[str, typer.Option("--format", help="table or json (JSON lines).")] = "table",
    db: DbOption = DEFAULT_DB,
) -> None:
    """List the registered people and their roles.

    \b
    Example:
        qc people list
        qc people list --all --format json
    """  # noqa: D301 - the \b line keeps click from rewrapping the examples
    from qc.supervise.filters import check_choice
    from qc.supervise.people import list_people, unknown_accounts

    check_choice(output_format, "--format", ("table", "json"))
    with open_db(db) as store:
        people = list_people(store, include_removed)
        unknown = unknown_accounts(store, [p for p in people if not p.removed_at])
    _warn_unknown(unknown)
    if not people:
        err("no people registered; add them with `qc people add NAME --role reviewer|supervisor|agent`")
        return
    if output_format == "json":
        for p in people:
            typer.echo(json.dumps(p.to_json(), ensure_ascii=False))
        return
    from rich.table import Table

    table = Table(title=f"{len(people)} people", title_justify="left")
    for header in ("name", "role", "accounts", "added", "by", "removed"):
        table.add_column(header, no_wrap=header in ("name", "accounts"))
    for p in people:
        removed = f"{p.removed_at} by {p.removed_by}" if p.removed_at else ""
        accounts = cell("\n".join(p.accounts))
        table.add_row(cell(p.name), p.role, accounts, p.added_at, cell(p.added_by), removed)
    table_console().print(table)
