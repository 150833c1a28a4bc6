"""The workbench as a Starlette application: routes, the role of each, and the request wrapper.

Every route goes through :func:`_endpoint`, which finds the session, checks the person is
still registered and holds one of the route's roles, checks the CSRF token of every POST,
runs the handler in a worker thread (the store API is synchronous) and turns a refused
supervision step into a message on the page, never a traceback. What a page shows comes from
the supervision functions the CLI uses (:mod:`qc.supervise`), scores from
:func:`qc.batch.stored.score_stored`; the store is reached only through :class:`Store`.

Routes (roles: R reviewer, S supervisor, A agent):

========================================  =======  ===========================================
``GET /login``, ``POST /login``           anyone   sign in (name and password)
``POST /logout``                          R S A    sign out
``GET /``                                 R S A    dashboard (an agent: their own row)
``GET /findings``                         R S A    the findings behind a number
``GET /conversations/{id}``               R S A    transcript with evidence (``?mask=1``)
``POST /findings/{id}/review``            R S      confirm or reject one finding
``GET /queue``, ``POST /queue/decide``    R S      the review queue (keys c r s n)
``GET /appeals``, ``POST /appeals``       R S A    appeals; an agent opens one on their finding
``POST /appeals/{id}/answer``             R S      answer an open appeal
``POST /appeals/{id}/rule|reopen``        S        final ruling, reopening
``GET|POST /calibration``                 R S      rounds; a supervisor opens one
``GET /calibration/{id}``, ``POST …/verdict`` R S  blind verdicts, then κ and disagreements
``GET /search``                           R S A    message search (an agent: their own)
``GET /static/…``                         anyone   CSS, the keyboard script, htmx
========================================  =======  ===========================================
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlparse

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from qc.errors import QcError
from qc.readers.roles import fold_agent_id
from qc.scoring.card import Scorecard
from qc.serve.auth import COOKIE, Session, Sessions, Throttle, csrf_ok
from qc.store.database import Store
from qc.supervise.people import AGENT, REVIEWER, SUPERVISOR, Person, list_people

__all__ = ["Workbench", "create_app"]

STATIC = Path(__file__).resolve().parent / "static"
ALL = (REVIEWER, SUPERVISOR, AGENT)
STAFF = (REVIEWER, SUPERVISOR)


class NotFound(Exception):
    """The page or object does not exist, or is not the person's to see (both answer 404)."""


@dataclass(slots=True)
class Workbench:
    """What every request shares: the store, the scorecard, sessions and caches."""

    store: Store
    card: Scorecard
    secure: bool = False  # mark cookies Secure (served over https)
    sessions: Sessions = field(default_factory=Sessions)
    throttle: Throttle = field(default_factory=Throttle)
    cache: dict[tuple[Any, ...], Any] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    env: Environment = field(
        default_factory=lambda: Environment(
            loader=PackageLoader("qc.serve", "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )
    )

    def cached(self, key: tuple[Any, ...], version: Any, make: Callable[[], Any]) -> Any:
        """``make()`` once per ``key`` and store ``version``; a newer version makes it again.

        Few entries are kept (the latest per key): the workbench serves a team, not the web.
        """
        with self.lock:
            hit = self.cache.get(key)
        if hit is not None and hit[0] == version:
            return hit[1]
        value = make()
        with self.lock:
            if len(self.cache) > 64:
                self.cache.clear()
            self.cache[key] = (version, value)
        return value

    def own_agent(self, person: Person) -> str | None:
        """The stored agent id an agent's findings are charged to (as the store spells it)."""
        if person.role != AGENT or not person.agent_id:
            return None
        want = fold_agent_id(person.agent_id)
        return next((a for a in self.store.agents() if fold_agent_id(a) == want), person.agent_id)


@dataclass(slots=True)
class Ctx:
    """One request as a handler sees it."""

    request: Request
    wb: Workbench
    session: Session
    person: Person
    form: FormData | None = None

    @property
    def store(self) -> Store:
        """The workbench's store."""
        return self.wb.store

    def arg(self, name: str, default: str = "") -> str:
        """A query-string argument, stripped."""
        return (self.request.query_params.get(name) or default).strip()

    def field(self, name: str, default: str = "") -> str:
        """A form field of a POST, stripped."""
        value = self.form.get(name) if self.form is not None else None
        return value.strip() if isinstance(value, str) else default

    def fields(self, name: str) -> list[str]:
        """Every value of a repeated form field."""
        if self.form is None:
            return []
        return [v.strip() for v in self.form.getlist(name) if isinstance(v, str)]

    @property
    def htmx(self) -> bool:
        """True when htmx made the request (it wants a fragment, not a page)."""
        return self.request.headers.get("HX-Request") == "true"

    def flash(self, level: str, message: str) -> None:
        """A message for the next page the person sees."""
        self.session.flash.append((level, message))

    def render(self, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        """A page (or fragment) rendered with the person, the CSRF token and pending messages."""
        flashes, self.session.flash = self.session.flash, []
        html = self.wb.env.get_template(template).render(
            person=self.person,
            csrf=self.session.csrf,
            flashes=flashes,
            path=self.request.url.path,
            card=self.wb.card,
            **values,
        )
        return HTMLResponse(html, status_code=status)

    def redirect(self, url: str) -> RedirectResponse:
        """See-other to a page of this site (a POST's answer)."""
        return RedirectResponse(_local(url), status_code=303)


def _local(url: str) -> str:
    """``url`` if it is a path on this site, else ``/`` (no open redirect via ``next=``)."""
    parsed = urlparse(url)
    if parsed.scheme or parsed.netloc or not url.startswith("/") or url.startswith("//"):
        return "/"
    return url


Handler = Callable[[Ctx], Response]
Endpoint = Callable[[Request], Awaitable[Response]]


def _with_cookie(response: Response, wb: Workbench, session: Session) -> Response:
    response.set_cookie(
        COOKIE, session.id, httponly=True, samesite="strict", secure=wb.secure, path="/", max_age=None
    )
    return response


def _security_headers(response: Response) -> Response:
    # Scripts only from this site (htmx and the keyboard script are files, never inline), no
    # framing, no sniffing, no referrer leaving the site.
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
        " frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"
    return response


def _origin_ok(request: Request) -> bool:
    """A POST from a page of this site (or a client that sends no Origin, like a test client)."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    return urlparse(origin).netloc == request.headers.get("host", "")


def _current(wb: Workbench, session: Session | None) -> Person | None:
    """The session's person, read again from the people table (removed people are signed out)."""
    if session is None or session.person is None:
        return None
    now = next((p for p in list_people(wb.store) if p.id == session.person.id), None)
    session.person = now
    return now


def _endpoint(handler: Handler, roles: Sequence[str]) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        wb: Workbench = request.app.state.wb
        session = wb.sessions.get(request.cookies.get(COOKIE))
        person = await run_in_threadpool(_current, wb, session)
        if session is None or person is None:
            if request.method == "GET":
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return _security_headers(RedirectResponse("/login?" + urlencode({"next": target}), 303))
            return _security_headers(PlainTextResponse("sign in first", status_code=401))
        if person.role not in roles:
            return _security_headers(PlainTextResponse(f"not for the role {person.role}", status_code=403))
        form = None
        if request.method == "POST":
            form = await request.form()
            token = form.get("csrf") if isinstance(form.get("csrf"), str) else None
            token = token or request.headers.get("X-CSRF-Token")
            if not csrf_ok(session, token if isinstance(token, str) else None) or not _origin_ok(request):
                return _security_headers(
                    PlainTextResponse("refused: the form's CSRF token is missing or wrong", status_code=403)
                )
        ctx = Ctx(request, wb, session, person, form)
        try:
            response = await run_in_threadpool(handler, ctx)
        except NotFound:
            response = ctx.render("error.html", status=404, message="没有这个页面或对象 (not found)")
        except QcError as exc:
            # A refused step (wrong state, wrong person, missing note): say why, keep the page.
            if request.method == "POST" and not ctx.htmx:
                ctx.flash("error", str(exc))
                response = ctx.redirect(_back(request))
            else:
                response = ctx.render("error.html", status=400, message=str(exc))
        return _security_headers(response)

    return endpoint


def _back(request: Request) -> str:
    """Where a refused POST returns to: the page it came from (same site), else home."""
    referer = request.headers.get("referer", "")
    parsed = urlparse(referer)
    if parsed.netloc and parsed.netloc != request.headers.get("host", ""):
        return "/"
    return (parsed.path or "/") + (f"?{parsed.query}" if parsed.query else "")


# ------------------------------------------------------------------------------ sign-in


async def login_page(request: Request) -> Response:
    """The sign-in form (an anonymous session carries its CSRF token)."""
    wb: Workbench = request.app.state.wb
    session = wb.sessions.get(request.cookies.get(COOKIE)) or wb.sessions.new()
    error = request.query_params.get("error", "")
    html = wb.env.get_template("login.html").render(
        csrf=session.csrf,
        next=_local(request.query_params.get("next", "/")),
        error={
            "1": "名字或密码不对 (wrong name or password)",
            "2": "尝试次数太多，请稍后再试 (too many tries)",
        }.get(error, ""),
        person=None,
        flashes=[],
        path="/login",
    )
    return _security_headers(_with_cookie(HTMLResponse(html), wb, session))


async def login_submit(request: Request) -> Response:
    """Check name and password; on success a new session replaces the anonymous one."""
    from qc.supervise.accounts import verify_login

    wb: Workbench = request.app.state.wb
    session = wb.sessions.get(request.cookies.get(COOKIE))
    form = await request.form()
    token = form.get("csrf")
    if not csrf_ok(session, token if isinstance(token, str) else None) or not _origin_ok(request):
        return _security_headers(
            PlainTextResponse("refused: the form's CSRF token is missing or wrong", status_code=403)
        )
    assert session is not None
    name = str(form.get("name") or "").strip()
    password = str(form.get("password") or "")
    target = _local(str(form.get("next") or "/"))
    if wb.throttle.blocked(name):
        return _security_headers(RedirectResponse("/login?" + urlencode({"error": "2", "next": target}), 303))
    person = await run_in_threadpool(verify_login, wb.store, name, password)
    if person is None:
        wb.throttle.failed(name)
        return _security_headers(RedirectResponse("/login?" + urlencode({"error": "1", "next": target}), 303))
    wb.throttle.succeeded(name)
    wb.sessions.drop(session.id)
    fresh = wb.sessions.new(person)
    return _security_headers(_with_cookie(RedirectResponse(target, 303), wb, fresh))


def logout(ctx: Ctx) -> Response:
    """Forget the session on the server and in the browser."""
    ctx.wb.sessions.drop(ctx.session.id)
    response = RedirectResponse("/login", 303)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict", secure=ctx.wb.secure)
    return response


# ------------------------------------------------------------------------------ the app


def create_app(store: Store, card: Scorecard, *, secure: bool = False) -> Starlette:
    """The workbench over an open store, scored with ``card``; ``secure`` marks cookies Secure."""
    from qc.serve import views

    routes = [
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login_submit, methods=["POST"]),
        Route("/logout", _endpoint(logout, ALL), methods=["POST"]),
        Route("/", _endpoint(views.dashboard, ALL), methods=["GET"]),
        Route("/findings", _endpoint(views.findings, ALL), methods=["GET"]),
        Route("/findings/{finding_id}/review", _endpoint(views.review_finding, STAFF), methods=["POST"]),
        Route("/conversations/{conversation_id:path}", _endpoint(views.conversation, ALL), methods=["GET"]),
        Route("/queue", _endpoint(views.queue, STAFF), methods=["GET"]),
        Route("/queue/decide", _endpoint(views.queue_decide, STAFF), methods=["POST"]),
        Route("/appeals", _endpoint(views.appeals, ALL), methods=["GET"]),
        Route("/appeals", _endpoint(views.appeal_open, (AGENT,)), methods=["POST"]),
        Route("/appeals/{appeal_id:int}/answer", _endpoint(views.appeal_answer, STAFF), methods=["POST"]),
        Route("/appeals/{appeal_id:int}/rule", _endpoint(views.appeal_rule, (SUPERVISOR,)), methods=["POST"]),
        Route(
            "/appeals/{appeal_id:int}/reopen", _endpoint(views.appeal_reopen, (SUPERVISOR,)), methods=["POST"]
        ),
        Route("/calibration", _endpoint(views.calibration, STAFF), methods=["GET"]),
        Route("/calibration", _endpoint(views.calibration_open, (SUPERVISOR,)), methods=["POST"]),
        Route("/calibration/{round_id:int}", _endpoint(views.calibration_round, STAFF), methods=["GET"]),
        Route(
            "/calibration/{round_id:int}/verdict",
            _endpoint(views.calibration_verdict, STAFF),
            methods=["POST"],
        ),
        Route("/search", _endpoint(views.search, ALL), methods=["GET"]),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ]
    from qc.serve.render import highlight, mark_class

    app = Starlette(routes=routes)
    wb = Workbench(store=store, card=card, secure=secure)
    wb.env.globals.update(mark_class=mark_class, highlight=highlight)
    app.state.wb = wb
    return app
