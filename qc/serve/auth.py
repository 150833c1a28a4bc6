"""Sessions, CSRF tokens and roles of the workbench.

* **Sessions** live in the server's memory: the browser holds only a random id (256 bits) in
  a cookie marked HttpOnly (no script reads it), SameSite=Strict (no other site's page sends
  it) and Secure when the workbench is served over https. Signing in replaces the session
  (a session id fixed before sign-in is worth nothing after it); signing out deletes it on
  the server. A session idle for longer than ``session_idle_minutes`` expires; restarting the
  server signs everybody out. Memory is bounded whatever a client sends: the anonymous session
  each sign-in page opens lives ``sign_in_page_minutes`` and at most ``max_sign_in_pages`` of
  them are kept (the least recently seen goes first), and at most ``max_signed_in_sessions``
  signed-in sessions are kept the same way. The numbers are the workbench settings
  (``qc/defaults/workbench.toml``, :mod:`qc.serve.settings`).
* **CSRF**: every session carries a random token; every POST must send it back (the hidden
  ``csrf`` field of each form, or the ``X-CSRF-Token`` header), compared in constant time.
  A POST whose ``Origin`` names another site is refused as well.
* **Roles**: every route names the roles it serves; the person is read again from the
  people table on each request, so a person removed with ``qc people remove`` is signed out
  at their next click.
* **Password checks** run at most ``password_checks_at_once`` at once (the others wait, on
  the event loop, not in a worker thread).
* **Sign-in throttle**: after ``max_failures`` wrong passwords for one name within
  ``failure_window_seconds``, that name is refused until the window has passed. A check in
  progress counts as a failure until it ends, so guesses sent at once are no more than
  ``max_failures`` either. Names whose failures have all left the window are forgotten, and at
  most ``max_throttled_names`` names are remembered (a flood of made-up names cannot fill the
  server's memory).
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from qc.supervise.people import Person

__all__ = [
    "COOKIE",
    "Session",
    "Sessions",
    "Throttle",
    "csrf_ok",
]

COOKIE = "qc_session"


@dataclass(slots=True)
class Session:
    """One browser's session: who signed in (``None`` before sign-in), its CSRF token, its state."""

    id: str
    csrf: str
    person: Person | None = None
    seen: float = field(default_factory=time.monotonic)
    skipped: set[str] = field(default_factory=set)  # queue items skipped in this session
    flash: list[tuple[str, str]] = field(default_factory=list)  # (level, message) for the next page
    mask: bool = False  # personal data masked on every page (mask=1 / mask=0 in a URL or form)
    # A digest of the password hash the person signed in with: a new password (or none) ends the
    # session at its next request (audit 112 L6).
    credential: str | None = None


class Sessions:
    """The server's sessions by id (thread-safe: endpoints run in a thread pool).

    Anonymous sessions (a sign-in page's, before sign-in) and signed-in ones are kept apart,
    each in least-recently-seen order, so expiring and evicting take the oldest first without
    scanning: a client that fetches the sign-in page in a loop evicts only other anonymous
    sessions, never a signed-in person's.
    """

    def __init__(self, idle_s: float, anon_idle_s: float, max_anonymous: int, max_signed_in: int) -> None:
        self.idle_s = idle_s
        self.anon_idle_s = anon_idle_s
        self.max_anonymous = max_anonymous
        self.max_signed_in = max_signed_in
        self._anonymous: OrderedDict[str, Session] = OrderedDict()
        self._signed_in: OrderedDict[str, Session] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._anonymous) + len(self._signed_in)

    def new(self, person: Person | None = None) -> Session:
        """A new session with fresh random id and CSRF token (the oldest goes when the kind is full)."""
        with self._lock:
            now = time.monotonic()
            session = Session(secrets.token_urlsafe(32), secrets.token_urlsafe(32), person, seen=now)
            self._expire(self._anonymous, self.anon_idle_s, now)
            self._expire(self._signed_in, self.idle_s, now)
            table, cap = (
                (self._anonymous, self.max_anonymous)
                if person is None
                else (self._signed_in, self.max_signed_in)
            )
            while table and len(table) >= cap:
                table.popitem(last=False)
            table[session.id] = session
        return session

    def get(self, session_id: str | None) -> Session | None:
        """The live session of that id (``None``: unknown or expired); marks it as seen."""
        if not session_id:
            return None
        with self._lock:
            for table, idle in ((self._signed_in, self.idle_s), (self._anonymous, self.anon_idle_s)):
                session = table.get(session_id)
                if session is None:
                    continue
                now = time.monotonic()
                if now - session.seen > idle:
                    del table[session_id]
                    return None
                session.seen = now
                table.move_to_end(session_id)
                return session
            return None

    def drop(self, session_id: str) -> None:
        """Forget a session (sign-out, or replaced at sign-in)."""
        with self._lock:
            self._anonymous.pop(session_id, None)
            self._signed_in.pop(session_id, None)

    @staticmethod
    def _expire(table: OrderedDict[str, Session], idle_s: float, now: float) -> None:
        # Least recently seen first: stop at the first session still alive.
        while table:
            sid, oldest = next(iter(table.items()))
            if now - oldest.seen <= idle_s:
                return
            del table[sid]


class Throttle:
    """Wrong passwords per name: refuse a name after too many failures in a short window."""

    def __init__(self, max_failures: int, window_s: float, max_names: int) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self.max_names = max_names
        self._failures: OrderedDict[str, list[float]] = OrderedDict()  # least recently failed first
        self._checking: dict[str, int] = {}  # password checks of each name in progress
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._failures)

    def _recent(self, name: str, now: float) -> list[float]:
        kept = [t for t in self._failures.get(name, []) if now - t < self.window_s]
        if kept:
            self._failures[name] = kept
        else:
            self._failures.pop(name, None)
        return kept

    def blocked(self, name: str) -> bool:
        """True while ``name`` has had too many recent failures."""
        with self._lock:
            return len(self._recent(name, time.monotonic())) >= self.max_failures

    def begin(self, name: str) -> bool:
        """Reserve one password check of ``name``; False while its failures and checks reach the limit.

        The reservation is taken under the lock before the (slow) hash check: checking the
        count first and counting a failure after the check let a burst of guesses all through.
        Every True must be followed by :meth:`end`.
        """
        with self._lock:
            if len(self._recent(name, time.monotonic())) + self._checking.get(name, 0) >= self.max_failures:
                return False
            self._checking[name] = self._checking.get(name, 0) + 1
            return True

    def end(self, name: str, ok: bool | None) -> None:
        """Release a check :meth:`begin` reserved: count its failure, forget the name's on success.

        ``None`` when the check could not be made (the store failed): nothing is counted.
        """
        with self._lock:
            left = self._checking.get(name, 0) - 1
            if left > 0:
                self._checking[name] = left
            else:
                self._checking.pop(name, None)
        if ok:
            self.succeeded(name)
        elif ok is not None:
            self.failed(name)

    def failed(self, name: str) -> None:
        """Count one failed sign-in of ``name`` (forgetting names whose failures are all old)."""
        with self._lock:
            now = time.monotonic()
            recent = self._recent(name, now)
            recent.append(now)
            self._failures[name] = recent
            self._failures.move_to_end(name)
            while self._failures:
                oldest, times = next(iter(self._failures.items()))
                if now - times[-1] < self.window_s and len(self._failures) <= self.max_names:
                    break
                del self._failures[oldest]

    def succeeded(self, name: str) -> None:
        """Forget the failures of ``name``."""
        with self._lock:
            self._failures.pop(name, None)


def csrf_ok(session: Session | None, token: str | None) -> bool:
    """True when ``token`` is the session's CSRF token (constant-time comparison)."""
    if session is None or not token:
        return False
    return hmac.compare_digest(session.csrf.encode(), token.encode())
