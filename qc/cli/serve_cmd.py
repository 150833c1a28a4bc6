"""``qc serve``: the QA team's workbench in the browser, over the store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from qc.cli import app
from qc.cli._common import err, handle_errors
from qc.cli._store_opts import DEFAULT_DB, DbOption, open_db, warn_other_scorecard
from qc.errors import ConfigError, QcError

LOOPBACK = ("127.0.0.1", "localhost", "::1")
DEMO_DB = "out/demo.sqlite"
# The demo accounts (README): a supervisor, two reviewers and one agent, passwords documented.
DEMO_PEOPLE = (
    ("演示主管", "supervisor", None, "demo-supervisor"),
    ("质检小王", "reviewer", None, "demo-reviewer"),
    ("质检小李", "reviewer", None, "demo-reviewer"),
    ("阿杰", "agent", "柚子优选旗舰店:阿杰", "demo-agent"),
)


def _demo_store(db: str) -> None:
    """Inspect the bundled demo days into ``db`` (once) and register the demo accounts."""
    from qc.batch.run import run_inspection
    from qc.paths import demo_dir
    from qc.rules import RuleSettings
    from qc.run.executors import LocalExecutor
    from qc.run.inspector import build_inspector
    from qc.store.database import open_store
    from qc.supervise.accounts import set_password
    from qc.supervise.people import add_person, list_people

    if not Path(db).exists():
        err(f"inspecting the demo days into {db} …")
        executor = LocalExecutor(build_inspector(RuleSettings()))
        out = Path(db).parent / "demo-serve"
        for day in ("day", "next_day"):
            run_inspection([demo_dir() / day], out / day, executor, store=db, keep_results=False)
    with open_store(db) as store:
        known = {p.name for p in list_people(store)}
        for name, role, agent_id, password in DEMO_PEOPLE:
            if name not in known:
                accounts = [agent_id] if agent_id else []
                add_person(store, name, role, accounts=accounts, by="qc serve --demo", note="demo account")
                set_password(store, name, password, by="qc serve --demo")


def check_listen(host: str, port: int) -> None:
    """Refuse, before anything is served, a host or port the workbench cannot listen on.

    The web server logged its own ``ERROR:`` line and exited 3 (the code of ``qc check
    --fail-on-hit``), or printed a traceback for a port out of range (audit 93 #2).

    Raises:
        ConfigError: a port outside 1–65535 or a host that names no address (exit 2).
        QcError: the address is in use or not this machine's (exit 1).
    """
    import socket

    if not 1 <= port <= 65535:
        raise ConfigError(f"--port {port} is no port: give a number from 1 to 65535 (the default is 8765)")
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except (socket.gaierror, UnicodeError) as exc:
        why = exc.strerror if isinstance(exc, socket.gaierror) else "not a host name"
        raise ConfigError(
            f"--host {host}: {why}; give an address of this machine, such as 127.0.0.1"
        ) from None
    with socket.socket(family, kind, proto) as probe:
        # As the server binds: an address left in TIME_WAIT by a workbench just stopped is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            import errno

            said = f"cannot listen on {host} port {port}: {exc.strerror or exc}"
            if exc.errno == errno.EADDRINUSE:
                raise PortInUse(
                    f"{said}; is another workbench (qc serve) running? stop it, or give another --port"
                ) from None
            raise QcError(f"{said}; give --host an address of this machine (127.0.0.1 by default)") from None


class PortInUse(QcError):
    """The workbench's port is taken, by another program or a workbench already serving (exit 1)."""


@app.command("serve")
@handle_errors
def serve_cli(
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on; anything but 127.0.0.1 is warned about.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8765,
    scorecard: Annotated[
        Path | None, typer.Option(help="Shop scorecard TOML (the one the store was inspected with).")
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Open the store, say who can sign in, and exit without serving.")
    ] = False,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help=f"Inspect the bundled demo days into {DEMO_DB} (once), add the demo accounts, serve it.",
        ),
    ] = False,
    ssl_certfile: Annotated[Path | None, typer.Option(help="Serve https with this certificate.")] = None,
    ssl_keyfile: Annotated[Path | None, typer.Option(help="The certificate's private key.")] = None,
    behind_https: Annotated[
        bool,
        typer.Option("--behind-https", help="A TLS proxy serves it as https: mark cookies Secure."),
    ] = False,
    settings: Annotated[
        Path | None,
        typer.Option(
            "--settings",
            help="Workbench settings TOML read over qc/defaults/workbench.toml (sign-in idle time,"
            " wrong-password throttle, request size, page sizes); default: $QC_WORKBENCH's file.",
        ),
    ] = None,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Serve the workbench: dashboard, review queue, conversations, appeals, calibration, search.

    People sign in with their name from the people table (qc people add) and a password
    (qc people password NAME); reviewers work the review queue and calibration rounds,
    supervisors also rule appeals, agents see their own conversations, findings and appeals.
    Binds 127.0.0.1 unless --host says otherwise. Requests are not logged (URLs can hold
    search words). Stop it with Ctrl-C.

    \b
    Example:
        qc serve --db out/qc.sqlite --check
        qc serve --db out/qc.sqlite --port 8765
        qc serve --demo
    """  # noqa: D301 - the \b line keeps click from rewrapping the examples
    from qc.scoring.card import load_scorecard
    from qc.serve.settings import load_workbench_settings
    from qc.supervise.accounts import has_password
    from qc.supervise.people import list_people

    if (ssl_certfile is None) != (ssl_keyfile is None):
        raise ConfigError("give both --ssl-certfile and --ssl-keyfile, or neither")
    if ssl_certfile is not None and ssl_keyfile is not None:
        check_tls_files(ssl_certfile, ssl_keyfile)
    chosen = load_workbench_settings(settings)  # a bad file is refused before anything else happens
    try:
        check_listen(host, port)
    except PortInUse as busy:
        if not check:
            raise
        # --check looks at the store; a workbench already serving it holds the port (audit 95 F1).
        err(f"qc: warning: {busy}")
    if demo:
        db = DEMO_DB if db == DEFAULT_DB else db
        _demo_store(db)
    card = load_scorecard(scorecard)
    store = open_db(db)
    named = db if "://" not in db else store.url  # a URL's password never reaches the screen
    people = list_people(store)
    can = [p for p in people if has_password(store, p)]
    for p in can:
        err(f"  {p.name} ({', '.join((p.role, *p.accounts))}) can sign in")
    if not can:
        store.close()
        raise ConfigError(
            f"nobody can sign in to {named}: register people (qc people add NAME --role supervisor)"
            " and give them a password (qc people password NAME)"
        )
    if demo:
        err("demo passwords: 演示主管 demo-supervisor · 质检小王, 质检小李 demo-reviewer · 阿杰 demo-agent")
    if host not in LOOPBACK:
        err(
            f"qc: warning: listening on {host}, not only this machine: anyone who can reach port {port}"
            " sees the sign-in page; use https (--ssl-certfile) or a TLS proxy (--behind-https)"
        )
    saved = store.saved_bases()
    if saved and card.basis not in saved:
        store.close()
        from qc.scoring.card import describe_basis

        raise ConfigError(
            f"scorecard {card.source} says {describe_basis(card.basis)}, but no conversation in {named} was"
            f" saved so ({'; '.join(sorted(describe_basis(b) for b in saved))}): every scored page would"
            " refuse; give --scorecard the card the days were inspected with"
        )
    stored = store.day_range()
    if stored is not None:  # same basis, other points or review_only: every page would differ unsaid
        warn_other_scorecard(store, card, *stored)
    err(
        f"  sign-in lasts {chosen.session_idle_minutes} idle"
        f" minute{'s' if chosen.session_idle_minutes != 1 else ''}; a name is refused for"
        f" {chosen.failure_window_seconds} s after {chosen.max_failures} wrong passwords ({chosen.source})"
    )
    if check:
        store.close()
        err(f"{named}: {len(can)} of {len(people)} people can sign in; the store opens (schema up to date)")
        return
    import uvicorn

    from qc.serve import create_app

    secure = behind_https or ssl_certfile is not None
    loopback = host in LOOPBACK
    web = create_app(
        store,
        card,
        secure=secure,
        allowed_hosts=["127.0.0.1", "localhost", "[::1]"] if loopback else None,
        settings=chosen,
    )
    scheme = "https" if ssl_certfile is not None else "http"
    shown = f"[{host}]" if ":" in host else host
    err(f"qc workbench on {scheme}://{shown}:{port}/ (Ctrl-C stops it)")
    try:
        uvicorn.run(
            web,
            host=host,
            port=port,
            log_level="warning",
            access_log=False,
            ssl_certfile=str(ssl_certfile) if ssl_certfile else None,
            ssl_keyfile=str(ssl_keyfile) if ssl_keyfile else None,
        )
    except SystemExit as stop:
        if stop.code in (0, None):
            raise
        # The server's start-up failed after the check (the port taken meanwhile): its own line said why.
        raise QcError(f"the workbench could not start on {host} port {port} (see the line above)") from None
    finally:
        store.close()


def check_tls_files(certfile: Path, keyfile: Path) -> None:
    """Load the certificate and its key as the server will, before anything is served.

    Read first by the server itself, a missing or broken file ended the start with
    "qc: No such file or directory" or "[SSL] PEM lib" after the workbench's address was
    printed, naming no file, and ``--check`` passed it (audit 161 L1).

    Raises:
        ConfigError: a file cannot be read, is no PEM certificate or key, or the key is not the
            certificate's (exit 2).
    """
    import ssl

    for path, option in ((certfile, "--ssl-certfile"), (keyfile, "--ssl-keyfile")):
        try:
            path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"{option} {path}: cannot be read ({exc.strerror or exc})") from None
    try:
        # An empty pass phrase, so an encrypted key fails here instead of OpenSSL asking the terminal.
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(certfile, keyfile, password=b"")
    except (ssl.SSLError, OSError) as exc:
        raise ConfigError(
            f"--ssl-certfile {certfile} and --ssl-keyfile {keyfile}: not a PEM certificate and its"
            f" private key ({getattr(exc, 'reason', None) or exc}); give the certificate and the key it was"
            " made with, each a PEM file (-----BEGIN …), the key without a pass phrase"
        ) from None
