"""Sessions, CSRF tokens and roles of the workbench.

* **Sessions** live in the server's memory: the browser holds only a random id (256 bits) in
  a cookie marked HttpOnly (no script reads it), SameSite=Strict (no other site's page sends
  it) and Secure when the workbench is served over https. Signing in replaces the session
  (a session id fixed before sign-in is worth nothing after it); signing out deletes it on
  the server. A session idle for longer than :data:`IDLE_S` expires; restarting the server
  signs everybody out.
* **CSRF**: every session carries a random token; every POST must send it back (the hidden
  ``csrf`` field of each form, or the ``X-CSRF-Token`` header), compared in constant time.
  A POST whose ``Origin`` names another site is refused as well.
* **Roles**: every route names the roles it serves; the person is read again from the
  people table on each request, so a person removed with ``qc people remove`` is signed out
  at their next click.
* **Sign-in throttle**: after :data:`MAX_FAILURES` wrong passwords for one name within
  :data:`FAILURE_WINDOW_S`, that name is refused until the window has passed.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field

from qc.supervise.people import Person

__all__ = [
    "COOKIE",
    "IDLE_S",
    "MAX_FAILURES",
    "FAILURE_WINDOW_S",
    "Session",
    "Sessions",
    "Throttle",
    "csrf_ok",
]

COOKIE = "qc_session"
IDLE_S = 8 * 3600  # a working day
MAX_FAILURES = 5
FAILURE_WINDOW_S = 300


@dataclass(slots=True)
class Session:
    """One browser's session: who signed in (``None`` before sign-in), its CSRF token, its state."""

    id: str
    csrf: str
    person: Person | None = None
    seen: float = field(default_factory=time.monotonic)
    skipped: set[str] = field(default_factory=set)  # queue items skipped in this session
    flash: list[tuple[str, str]] = field(default_factory=list)  # (level, message) for the next page


class Sessions:
    """The server's sessions by id (thread-safe: endpoints run in a thread pool)."""

    def __init__(self, idle_s: float = IDLE_S) -> None:
        self.idle_s = idle_s
        self._by_id: dict[str, Session] = {}
        self._lock = threading.Lock()

    def new(self, person: Person | None = None) -> Session:
        """A new session with fresh random id and CSRF token."""
        session = Session(secrets.token_urlsafe(32), secrets.token_urlsafe(32), person)
        with self._lock:
            self._expire()
            self._by_id[session.id] = session
        return session

    def get(self, session_id: str | None) -> Session | None:
        """The live session of that id (``None``: unknown or expired); marks it as seen."""
        if not session_id:
            return None
        with self._lock:
            session = self._by_id.get(session_id)
            if session is None:
                return None
            now = time.monotonic()
            if now - session.seen > self.idle_s:
                del self._by_id[session_id]
                return None
            session.seen = now
            return session

    def drop(self, session_id: str) -> None:
        """Forget a session (sign-out, or replaced at sign-in)."""
        with self._lock:
            self._by_id.pop(session_id, None)

    def _expire(self) -> None:
        now = time.monotonic()
        for sid in [sid for sid, s in self._by_id.items() if now - s.seen > self.idle_s]:
            del self._by_id[sid]


class Throttle:
    """Wrong passwords per name: refuse a name after too many failures in a short window."""

    def __init__(self, max_failures: int = MAX_FAILURES, window_s: float = FAILURE_WINDOW_S) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, name: str, now: float) -> list[float]:
        kept = [t for t in self._failures.get(name, []) if now - t < self.window_s]
        self._failures[name] = kept
        return kept

    def blocked(self, name: str) -> bool:
        """True while ``name`` has had too many recent failures."""
        with self._lock:
            return len(self._recent(name, time.monotonic())) >= self.max_failures

    def failed(self, name: str) -> None:
        """Count one failed sign-in of ``name``."""
        with self._lock:
            now = time.monotonic()
            self._recent(name, now).append(now)

    def succeeded(self, name: str) -> None:
        """Forget the failures of ``name``."""
        with self._lock:
            self._failures.pop(name, None)


def csrf_ok(session: Session | None, token: str | None) -> bool:
    """True when ``token`` is the session's CSRF token (constant-time comparison)."""
    if session is None or not token:
        return False
    return hmac.compare_digest(session.csrf.encode(), token.encode())
