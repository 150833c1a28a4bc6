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
``POST /calibration/{id}/close``             S      close a round, with why
``GET /search``                           R S A    message search (an agent: their own)
``GET /static/…``                         anyone   CSS, the keyboard script, htmx
========================================  =======  ===========================================
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode, urlparse

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.convertors import IntegerConvertor, register_url_convertor
from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qc.errors import QcError
from qc.scoring.card import Scorecard
from qc.serve.auth import COOKIE, Session, csrf_ok
from qc.serve.context import Ctx, NotFound, Workbench, local_url
from qc.serve.settings import WorkbenchSettings, load_workbench_settings
from qc.store.database import Store
from qc.supervise.people import AGENT, REVIEWER, SUPERVISOR, Person, list_people

T = TypeVar("T")

__all__ = ["Workbench", "create_app"]

STATIC = Path(__file__).resolve().parent / "static"
ALL = (REVIEWER, SUPERVISOR, AGENT)
STAFF = (REVIEWER, SUPERVISOR)


Handler = Callable[[Ctx], Response]
Endpoint = Callable[[Request], Awaitable[Response]]


def _with_cookie(response: Response, wb: Workbench, session: Session) -> Response:
    response.set_cookie(
        COOKIE, session.id, httponly=True, samesite="strict", secure=wb.secure, path="/", max_age=None
    )
    return response


# Scripts only from this site (htmx and the keyboard script are files, never inline), no
# framing, no sniffing, no referrer leaving the site.
_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
        " frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class SecurityHeaders:
    """Every response gets the security headers here, whatever made it.

    A page, the sign-in, Starlette's own answers (404 of an unknown path, 405, the host check's
    400) and the static files alike: headers set per handler missed the answers no handler makes.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, adding each missing security header to the response's start."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in _SECURITY_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, with_headers)


_TOO_LARGE = "refused: the request is larger than any form of the workbench"


class BodyLimit:
    """Refuse request bodies no form of the workbench sends, before anything reads them.

    A form is parsed before its CSRF token is checked, by anyone, signed in or not: without a
    bound, 300 fields of a megabyte each held 250 MB per request in memory, and a multipart
    file part was spooled to disk (a gigabyte per request). Bodies over ``max_bytes`` (the
    settings' ``max_request_bytes``) are 413 (by ``Content-Length`` or while they stream in),
    multipart ones 415 (no form uploads a file); the rest is read here, up to the limit, and
    handed on.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on with its body read, or answer 413/415 without reading more."""
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if headers.get("content-type", "").lower().lstrip().startswith("multipart/"):
            await self._refuse(scope, receive, send, 415, "refused: no form here uploads files")
            return
        length = headers.get("content-length", "")
        if length and (not length.isdigit() or int(length) > self.max_bytes):
            await self._refuse(scope, receive, send, 413, _TOO_LARGE)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > self.max_bytes:
                await self._refuse(scope, receive, send, 413, _TOO_LARGE)
                return
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, text: str) -> None:
        response = PlainTextResponse(text, status_code=status)
        response.headers["Connection"] = "close"  # the rest of the body is not read
        await response(scope, receive, send)


def _origin_ok(request: Request) -> bool:
    """A POST from a page of this site (or a client that sends no Origin, like a test client)."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    return urlparse(origin).netloc == request.headers.get("host", "")


def credential_of(wb: Workbench, person: Person) -> str | None:
    """A digest of the person's stored password hash (``None``: no password), to notice a new one."""
    digest = wb.store.password_hash(person.id)
    return hashlib.sha256(digest.encode("utf-8")).hexdigest() if digest is not None else None


def _current(wb: Workbench, session: Session | None) -> Person | None:
    """The session's person, read again from the people table (removed people are signed out).

    A person whose password was set again since they signed in is signed out too: a password
    changed because it leaked left the old browser's session working (audit 112 L6).
    """
    if session is None or session.person is None:
        return None
    now = next((p for p in list_people(wb.store) if p.id == session.person.id), None)
    if now is not None and credential_of(wb, now) != session.credential:
        now = None
    session.person = now
    return now


async def _in_thread(wb: Workbench, func: Callable[..., T], *args: Any) -> T:
    """``func(*args)`` in a worker thread once one of the ``requests_at_once`` slots is free.

    Waiting for a slot holds no store connection, so the store's pool never runs dry under a
    burst of requests (audit 128 M1).
    """
    async with wb.request_slots():
        return await run_in_threadpool(func, *args)


def _endpoint(handler: Handler, roles: Sequence[str]) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        wb: Workbench = request.app.state.wb
        session = wb.sessions.get(request.cookies.get(COOKIE))
        person = await _in_thread(wb, _current, wb, session)
        if session is None or person is None:
            if request.method == "GET":
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse("/login?" + urlencode({"next": target}), 303)
            return PlainTextResponse("sign in first", status_code=401)
        if person.role not in roles:
            return PlainTextResponse(f"not for the role {person.role}", status_code=403)
        form = None
        if request.method == "POST":
            form = await request.form()
            token = form.get("csrf") if isinstance(form.get("csrf"), str) else None
            token = token or request.headers.get("X-CSRF-Token")
            if not csrf_ok(session, token if isinstance(token, str) else None) or not _origin_ok(request):
                return PlainTextResponse(
                    "refused: the form's CSRF token is missing or wrong", status_code=403
                )
        ctx = Ctx(request, wb, session, person, form)
        try:
            if request.method == "POST":
                async with wb.write_turn():
                    response = await _in_thread(wb, handler, ctx)
            else:
                response = await _in_thread(wb, handler, ctx)
        except NotFound:
            response = ctx.render("error.html", status=404, message="没有这个页面或对象 (not found)")
        except QcError as exc:
            # A refused step (wrong state, wrong person, missing note): say why, keep the page.
            # The reason may quote what was typed (a phone searched for): masked as the page is.
            reason = ctx.masker()(getattr(exc, "web", None) or str(exc))
            if request.method == "POST" and not ctx.htmx:
                ctx.flash("error", reason)
                response = ctx.redirect(_back(request))
            else:
                response = ctx.render("error.html", status=400, message=reason)
        except Exception as exc:  # a bug: one line on stderr, never the request's data or a traceback
            print(
                # The view's name, not the path: a path holds ids (a conversation id may be a buyer's).
                f"qc serve: internal error on {request.method} {handler.__name__}: {type(exc).__name__}",
                file=sys.stderr,
            )
            response = PlainTextResponse("internal error (logged on the server)", status_code=500)
        return response

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
        next=local_url(request.query_params.get("next", "/")),
        error={
            "1": "名字或密码不对 (wrong name or password)",
            "2": "尝试次数太多，请稍后再试 (too many tries)",
            "3": "登录页已过期，请重新输入 (the sign-in page expired; please sign in again)",
        }.get(error, ""),
        person=None,
        flashes=[],
        path="/login",
    )
    return _with_cookie(HTMLResponse(html), wb, session)


async def login_submit(request: Request) -> Response:
    """Check name and password; on success a new session replaces the anonymous one."""
    from qc.supervise.accounts import verify_login

    wb: Workbench = request.app.state.wb
    session = wb.sessions.get(request.cookies.get(COOKIE))
    form = await request.form()
    token = form.get("csrf")
    if session is None and isinstance(token, str) and token and _origin_ok(request):
        # The sign-in page's anonymous session expired (or was evicted) while the form was open:
        # a fresh page, not a bare refusal.
        target = local_url(str(form.get("next") or "/"))
        return RedirectResponse("/login?" + urlencode({"error": "3", "next": target}), 303)
    if not csrf_ok(session, token if isinstance(token, str) else None) or not _origin_ok(request):
        return PlainTextResponse("refused: the form's CSRF token is missing or wrong", status_code=403)
    assert session is not None
    name = str(form.get("name") or "").strip()
    password = str(form.get("password") or "")
    target = local_url(str(form.get("next") or "/"))
    if not wb.throttle.begin(name):
        return RedirectResponse("/login?" + urlencode({"error": "2", "next": target}), 303)
    try:
        async with wb.password_checks():
            person = await _in_thread(wb, verify_login, wb.store, name, password)
    except BaseException:
        wb.throttle.end(name, None)  # the check did not happen: nothing to count
        raise
    wb.throttle.end(name, person is not None)
    if person is None:
        return RedirectResponse("/login?" + urlencode({"error": "1", "next": target}), 303)
    wb.sessions.drop(session.id)
    fresh = wb.sessions.new(person)
    fresh.credential = await _in_thread(wb, credential_of, wb, person)
    return _with_cookie(RedirectResponse(target, 303), wb, fresh)


def logout(ctx: Ctx) -> Response:
    """Forget the session on the server and in the browser."""
    ctx.wb.sessions.drop(ctx.session.id)
    response = RedirectResponse("/login", 303)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict", secure=ctx.wb.secure)
    return response


# ------------------------------------------------------------------------------ the app


class StoreIdConvertor(IntegerConvertor):
    """A stored row's id in a path: up to 18 digits, so it always fits the store's integers.

    A longer one names no row; as a plain ``int`` it reached the database and failed there.
    """

    regex = "[0-9]{1,18}"


register_url_convertor("store_id", StoreIdConvertor())


def create_app(
    store: Store,
    card: Scorecard,
    *,
    secure: bool = False,
    allowed_hosts: Sequence[str] | None = None,
    settings: WorkbenchSettings | None = None,
) -> Starlette:
    """The workbench over an open store, scored with ``card``; ``secure`` marks cookies Secure.

    ``settings`` are the sign-in, capacity and page numbers (the bundled
    ``qc/defaults/workbench.toml`` when not given).

    ``allowed_hosts`` (``qc serve`` on 127.0.0.1: the loopback names) refuses requests naming
    another host, so a page whose DNS name is rebound to this machine cannot talk to it.
    """
    from qc.serve import views

    settings = settings or load_workbench_settings()
    routes = [
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login_submit, methods=["POST"]),
        Route("/logout", _endpoint(logout, ALL), methods=["POST"]),
        Route("/", _endpoint(views.dashboard, ALL), methods=["GET"]),
        Route("/findings", _endpoint(views.findings, ALL), methods=["GET"]),
        Route("/agents.{kind}", _endpoint(views.agents_table, STAFF), methods=["GET"]),
        Route("/findings/{finding_id}/review", _endpoint(views.review_finding, STAFF), methods=["POST"]),
        Route("/conversations/{conversation_id:path}", _endpoint(views.conversation, ALL), methods=["GET"]),
        Route("/queue", _endpoint(views.queue, STAFF), methods=["GET"]),
        Route("/queue/decide", _endpoint(views.queue_decide, STAFF), methods=["POST"]),
        Route("/appeals", _endpoint(views.appeals, ALL), methods=["GET"]),
        Route("/appeals", _endpoint(views.appeal_open, (AGENT,)), methods=["POST"]),
        Route(
            "/appeals/{appeal_id:store_id}/answer", _endpoint(views.appeal_answer, STAFF), methods=["POST"]
        ),
        Route(
            "/appeals/{appeal_id:store_id}/rule",
            _endpoint(views.appeal_rule, (SUPERVISOR,)),
            methods=["POST"],
        ),
        Route(
            "/appeals/{appeal_id:store_id}/reopen",
            _endpoint(views.appeal_reopen, (SUPERVISOR,)),
            methods=["POST"],
        ),
        Route("/calibration", _endpoint(views.calibration, STAFF), methods=["GET"]),
        Route("/calibration", _endpoint(views.calibration_open, (SUPERVISOR,)), methods=["POST"]),
        Route("/calibration/{round_id:store_id}", _endpoint(views.calibration_round, STAFF), methods=["GET"]),
        Route(
            "/calibration/{round_id:store_id}/verdict",
            _endpoint(views.calibration_verdict, STAFF),
            methods=["POST"],
        ),
        Route(
            "/calibration/{round_id:store_id}/close",
            _endpoint(views.calibration_close, (SUPERVISOR,)),
            methods=["POST"],
        ),
        Route("/search", _endpoint(views.search, ALL), methods=["GET"]),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ]
    from qc.serve.render import highlight, mark_class
    from qc.supervise.states import state_label

    middleware = [
        Middleware(SecurityHeaders),
        *([Middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts))] if allowed_hosts else []),
        Middleware(BodyLimit, max_bytes=settings.max_request_bytes),
    ]
    app = Starlette(routes=routes, middleware=middleware)
    wb = Workbench(store=store, card=card, secure=secure, settings=settings)
    from qc.scoring.scores import KIND_LABELS
    from qc.supervise.explain import why_zh
    from qc.supervise.transcript import as_decided

    item_labels = {i.id: i.label for i in card.items}
    wb.env.globals.update(
        mark_class=mark_class,
        highlight=highlight,
        why=lambda f, by=None: why_zh(f, item_labels, KIND_LABELS, by),
        as_decided=as_decided,
        state_label=state_label,
    )
    app.state.wb = wb
    return app
