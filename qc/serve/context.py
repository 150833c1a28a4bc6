"""What a page handler is given: the shared workbench state and the request's context.

Kept apart from :mod:`qc.serve.app` (the routes) so the handlers in :mod:`qc.serve.views`
import it without importing the app that imports them.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, quote_from_bytes, urlencode, urlparse

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse

from qc.errors import ConfigError
from qc.readers.roles import fold_agent_id
from qc.scoring.card import Scorecard
from qc.serve.auth import Session, Sessions, Throttle
from qc.serve.settings import WorkbenchSettings, load_workbench_settings
from qc.store.database import Store
from qc.supervise.people import AGENT, Person
from qc.supervise.review import finding_about
from qc.text.pii import Masker

__all__ = ["Ctx", "NotFound", "Workbench", "local_url"]


class NotFound(Exception):
    """The page or object does not exist, or is not the person's to see (both answer 404)."""


@dataclass(slots=True)
class Workbench:
    """What every request shares: the store, the scorecard, sessions and caches."""

    store: Store
    card: Scorecard
    secure: bool = False  # mark cookies Secure (served over https)
    settings: WorkbenchSettings = field(default_factory=load_workbench_settings)
    sessions: Sessions = field(init=False)
    throttle: Throttle = field(init=False)
    _check_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = field(
        default_factory=weakref.WeakKeyDictionary
    )
    _request_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = field(
        default_factory=weakref.WeakKeyDictionary
    )
    _write_turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = field(
        default_factory=weakref.WeakKeyDictionary
    )
    cache: dict[tuple[Any, ...], Any] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    env: Environment = field(default_factory=lambda: _environment())

    def __post_init__(self) -> None:
        s = self.settings
        self.sessions = Sessions(
            idle_s=s.session_idle_minutes * 60,
            anon_idle_s=s.sign_in_page_minutes * 60,
            max_anonymous=s.max_sign_in_pages,
            max_signed_in=s.max_signed_in_sessions,
        )
        self.throttle = Throttle(s.max_failures, s.failure_window_seconds, s.max_throttled_names)

    def request_slots(self) -> asyncio.Semaphore:
        """The slots of requests served at once (``requests_at_once``) of the running loop.

        A request waiting for its slot holds no store connection: 15 decisions at once each held
        one and waited for a second, and every page stood still for 30 s (audit 128 M1).
        """
        loop = asyncio.get_running_loop()
        slots = self._request_slots.get(loop)
        if slots is None:
            slots = self._request_slots[loop] = asyncio.Semaphore(self.settings.requests_at_once)
        return slots

    def write_turn(self) -> asyncio.Lock:
        """The turn of steps that write (decisions, appeal steps, verdicts): one at a time per loop.

        A write waits on the store's lock while it holds a connection; taken in turn, the waits
        never pile up on the pool, and pages keep being served meanwhile.
        """
        loop = asyncio.get_running_loop()
        turn = self._write_turns.get(loop)
        if turn is None:
            turn = self._write_turns[loop] = asyncio.Lock()
        return turn

    def password_checks(self) -> asyncio.Semaphore:
        """The slots of password checks (``password_checks_at_once``) of the running loop.

        One per event loop: an asyncio semaphore belongs to the loop it first waited on (one
        server has one loop; a test client has its own).
        """
        loop = asyncio.get_running_loop()
        slots = self._check_slots.get(loop)
        if slots is None:
            slots = self._check_slots[loop] = asyncio.Semaphore(self.settings.password_checks_at_once)
        return slots

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

    def own_agents(self, person: Person) -> list[str]:
        """The stored agent ids an agent's findings are charged to (as the store spells them).

        One per account the agent is bound to (one per shop they chat in), in the order bound.
        """
        if person.role != AGENT:
            return []
        stored = {fold_agent_id(a): a for a in self.store.agents()}
        return [stored.get(fold_agent_id(a), a) for a in person.accounts]


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
        """A form field of a POST, stripped.

        Raises:
            ConfigError: longer than the settings' ``max_field_chars``: a 200,000-character note
                was stored and printed under its finding (audit 161 L4).
        """
        value = self.form.get(name) if self.form is not None else None
        if not isinstance(value, str):
            return default
        most = self.wb.settings.max_field_chars
        if len(value) > most:
            raise ConfigError(
                f"{name} is {len(value):,} characters, more than the {most:,} a field may hold"
                f" (max_field_chars in {self.wb.settings.source}): shorten it"
            )
        return value.strip()

    def fields(self, name: str) -> list[str]:
        """Every value of a repeated form field."""
        if self.form is None:
            return []
        return [v.strip() for v in self.form.getlist(name) if isinstance(v, str)]

    def masker(self) -> Masker:
        """The person's masking choice for this page and the session's next ones.

        ``mask=1`` or ``mask=0`` in the query or a form sets it; without, the session keeps what
        was chosen, so a reviewer who masked one page never meets unmasked data on the next.
        """
        asked = self.arg("mask") or self.field("mask")
        if asked in ("0", "1"):
            self.session.mask = asked == "1"
        return Masker(self.session.mask)

    def _mask_toggle(self) -> str:
        """This page's URL with masking switched the other way (the header's switch)."""
        params = [(k, v) for k, v in self.request.query_params.multi_items() if k != "mask"]
        params.append(("mask", "0" if self.session.mask else "1"))
        # The path as the browser sent it: decoded, a conversation id holding /.. or %41 named
        # another page (see conversation_url).
        raw = self.request.scope.get("raw_path")
        path = quote_from_bytes(raw, safe="/%:@!$&'()*+,;=") if raw else quote(self.request.url.path)
        return path + "?" + urlencode(params)

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
        # Every page masks as the session chose, unless its handler chose for it.
        values.setdefault("mask", self.masker())
        html = self.wb.env.get_template(template).render(
            person=self.person,
            csrf=self.session.csrf,
            flashes=flashes,
            path=self.request.url.path,
            card=self.wb.card,
            mask_toggle=self._mask_toggle(),
            **values,
        )
        return HTMLResponse(html, status_code=status)

    def redirect(self, url: str) -> RedirectResponse:
        """See-other to a page of this site (a POST's answer)."""
        return RedirectResponse(local_url(url), status_code=303)


# The largest id or number the store keeps (SQLite INTEGER, PostgreSQL BIGINT): a bigger one
# in a URL or form names nothing and must not reach the database, which refuses it with an error.
MAX_STORED_INT = 2**63 - 1


def conversation_url(conversation_id: str) -> str:
    """The page of a conversation, its id percent-encoded.

    The id comes from the chats: ``?``, ``#``, ``%`` or ``/..`` in it must stay part of the id,
    not become a query, a fragment or another page.
    """
    return "/conversations/" + quote(conversation_id, safe="")


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("qc.serve", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["conversation_url"] = conversation_url
    env.globals["about"] = finding_about
    return env


def local_url(url: str) -> str:
    """``url`` if it is a path on this site, else ``/`` (no open redirect via ``next=``)."""
    parsed = urlparse(url)
    # "/\\host" is "//host" to a browser: an open redirect too.
    if parsed.scheme or parsed.netloc or not url.startswith("/") or url[1:2] in ("/", "\\"):
        return "/"
    return url
