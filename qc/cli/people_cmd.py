"""``qc people``: who may review, rule and appeal (reviewer, supervisor, agent)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from qc.cli import app
from qc.cli._common import cell, err, handle_errors, table_console
from qc.cli._store_opts import DEFAULT_DB, DbOption, open_db
from qc.errors import ConfigError

people_app = typer.Typer(
    no_args_is_help=True,
    help="Register who reviews (reviewer), rules appeals (supervisor) and is charged (agent).\n\n"
    "Reviews and appeal steps name a registered person; a store without people refuses them.\n\n"
    "\b\nExample:\n    qc people add 质检小王 --role reviewer\n    qc people add 张主管 --role supervisor\n"
    "    qc people add 阿杰 --role agent\n    qc people list",
)
app.add_typer(people_app, name="people")


@people_app.command("add")
@handle_errors
def add_cli(
    name: Annotated[str, typer.Argument(help="The person's name as they sign decisions (--by NAME).")],
    role: Annotated[str, typer.Option("--role", help="reviewer, supervisor or agent.")],
    agent_id: Annotated[
        str | None,
        typer.Option(
            "--agent-id",
            help="The account findings are charged to (店铺:客服名); default for an agent: NAME"
            " when it names one stored agent.",
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

    \b
    Example:
        qc people add 质检小王 --role reviewer
        qc people add 张主管 --role supervisor --note "QA lead"
        qc people add 阿杰 --role agent
        qc people add 小林 --role agent --agent-id 柚子优选旗舰店:小林
    """  # noqa: D301 - the \b line keeps click from rewrapping the examples
    from qc.supervise.filters import match_agent
    from qc.supervise.people import AGENT, add_person, is_unassigned, unknown_accounts

    with open_db(db) as store:
        person = add_person(store, name, role, agent_id=agent_id, by=by, note=note)
        namesake = (
            [a for a in match_agent(person.name, store.agents()) if not is_unassigned(a)]
            if person.role != AGENT
            else []
        )
        unknown = unknown_accounts(store, [person])
    account = f" ({cell(person.agent_id)})" if person.agent_id else ""
    err(f"{cell(person.name)} added as {person.role}{account}")
    if not person.agent_id and namesake:
        # Nobody reviews their own findings: that check knows a person's account only by --agent-id.
        which = "agent " + namesake[0] if len(namesake) == 1 else "agents " + ", ".join(namesake)
        link = namesake[0] if len(namesake) == 1 else "ACCOUNT"
        err(
            f"warning: {cell(person.name)} is also the name of {which}; if one is their account,"
            f" remove them and add them again with --agent-id {link},"
            " so they never review or rule on their own findings"
        )
    if unknown:
        err(
            f"warning: no stored agent has the account {cell(person.agent_id or '')}; check the spelling"
            " (`qc flagged` lists the agents): findings are charged to the full account, e.g. 店铺名:客服名"
        )


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
    for p in unknown:
        # A mistyped binding, or a bare nick migration 12 could not give one shop: it guards nothing.
        err(
            f"warning: {cell(p.name)} is bound to {cell(p.agent_id or '')}, which no stored agent is;"
            f" their own findings are not known to qc: qc people remove {cell(p.name)} --note WHY, then"
            f" qc people add {cell(p.name)} --role {p.role} --agent-id 店铺名:客服名"
        )
    if not people:
        err("no people registered; add them with `qc people add NAME --role reviewer|supervisor|agent`")
        return
    if output_format == "json":
        for p in people:
            typer.echo(json.dumps(p.to_json(), ensure_ascii=False))
        return
    from rich.table import Table

    table = Table(title=f"{len(people)} people", title_justify="left")
    for header in ("name", "role", "agent id", "added", "by", "removed"):
        table.add_column(header, no_wrap=header in ("name", "agent id"))
    for p in people:
        removed = f"{p.removed_at} by {p.removed_by}" if p.removed_at else ""
        table.add_row(cell(p.name), p.role, cell(p.agent_id or ""), p.added_at, cell(p.added_by), removed)
    table_console().print(table)
