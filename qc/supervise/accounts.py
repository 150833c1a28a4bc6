"""Sign-in passwords of registered people (the workbench, ``qc serve``).

A person signs in with their name from the people table and a password set by
``qc people password NAME``. Only an argon2id hash is stored (``argon2-cffi``, its default
parameters; the hash string carries its salt and parameters), in the store's ``credentials``
table, never the password. Setting a password is logged in the audit trail (who set it for
whom, never the password). A removed person cannot sign in, whatever their password.
"""

from __future__ import annotations

import secrets
from functools import lru_cache
from typing import Any

from qc.store.database import Store, local_now
from qc.supervise.people import PeopleError, Person, list_people, manager

__all__ = ["MIN_LENGTH", "generate_password", "has_password", "set_password", "verify_login"]

# Long enough that a guessed word list is not enough; people use passphrases.
MIN_LENGTH = 8


@lru_cache(maxsize=1)
def _hasher() -> Any:
    from argon2 import PasswordHasher

    return PasswordHasher()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A hash to check against when the name is unknown, so a wrong name takes as long as a wrong password."""
    return str(_hasher().hash(secrets.token_urlsafe(16)))


def generate_password() -> str:
    """A random password of 16 URL-safe characters (about 96 bits)."""
    return secrets.token_urlsafe(12)


def _active(store: Store, name: str) -> Person | None:
    wanted = name.strip()
    return next((p for p in list_people(store) if p.name == wanted), None)


def set_password(store: Store, name: str, password: str, *, by: str = "") -> Person:
    """Hash and store the sign-in password of an active person; logged (without the password).

    Raises:
        PeopleError: nobody active of that name, or a password shorter than :data:`MIN_LENGTH`.
    """
    person = _active(store, name)
    if person is None:
        raise PeopleError(
            f"{name.strip()!r} is not registered; add them first: qc people add {name.strip()} --role ROLE"
        )
    if len(password) < MIN_LENGTH:
        raise PeopleError(f"the password is too short: use at least {MIN_LENGTH} characters")
    digest = _hasher().hash(password)
    who = manager(list_people(store), by, own=person.name)
    at = local_now()
    with store.transaction() as conn:
        store.set_password_hash(conn, person.id, digest, set_at=at, set_by=who)
        store.append_log(
            conn,
            finding_id="",
            action="person_password",
            actor=who,
            note=f"sign-in password set for {person.name}",
            before=person.role,
            after=person.role,
            source=f"person:{person.name}",
        )
    return person


def has_password(store: Store, person: Person) -> bool:
    """True when the person can sign in (a password was set)."""
    return store.password_hash(person.id) is not None


def verify_login(store: Store, name: str, password: str) -> Person | None:
    """The active person ``name`` when ``password`` is theirs, else ``None`` (same for any reason).

    An unknown name, a removed person, a person without a password and a wrong password all
    cost one hash check and give ``None``, so the answer tells nothing about which it was.
    """
    from argon2.exceptions import InvalidHashError, VerificationError

    person = _active(store, name) if name.strip() else None
    digest = store.password_hash(person.id) if person is not None else None
    try:
        _hasher().verify(digest or _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return None
    if person is None or digest is None:
        return None
    if _hasher().check_needs_rehash(digest):  # stronger defaults since it was set
        with store.transaction() as conn:
            store.set_password_hash(
                conn, person.id, _hasher().hash(password), set_at=local_now(), set_by="rehash"
            )
    return person
