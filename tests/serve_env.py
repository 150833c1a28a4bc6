"""A demo-day store with a team that can sign in, shared by the workbench tests.

The bundled demo day (2026-11-24: 300 conversations, six agents) inspected with the full
inspector, and people with passwords: two supervisors, two reviewers and two agents.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DAY = "2026-11-24"
PASSWORD = "correct horse battery"
TEAM = (
    ("张主管", "supervisor", None),
    ("李主管", "supervisor", None),
    ("质检小王", "reviewer", None),
    ("质检小李", "reviewer", None),
    ("阿杰", "agent", "柚子优选旗舰店:阿杰"),
    ("小满", "agent", "柚子优选旗舰店:小满"),
)
AJIE = "柚子优选旗舰店:阿杰"
XIAOMAN = "柚子优选旗舰店:小满"


def build_store(folder: Path) -> Path:
    """Inspect the demo day into ``folder/qc.sqlite`` and register :data:`TEAM` with passwords."""
    from qc.batch.run import run_inspection
    from qc.rules import RuleSettings
    from qc.run.executors import LocalExecutor
    from qc.run.inspector import build_inspector
    from qc.store.database import open_store
    from qc.supervise.accounts import set_password
    from qc.supervise.people import add_person

    db = folder / "qc.sqlite"
    executor = LocalExecutor(build_inspector(RuleSettings()))
    run_inspection([ROOT / "demo" / "day"], folder / "out", executor, store=str(db), keep_results=False)
    with open_store(db) as store:
        for name, role, agent_id in TEAM:
            add_person(store, name, role, accounts=[agent_id] if agent_id else [], by="test")
            set_password(store, name, PASSWORD, by="test")
    return db


def csrf_of(html: str) -> str:
    """The CSRF token of the first form of a page."""
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def signed_in(app, name: str, password: str = PASSWORD):  # noqa: ANN001, ANN201 - a test client
    """A test client of ``app`` signed in as ``name``."""
    from starlette.testclient import TestClient

    client = TestClient(app)
    page = client.get("/login")
    r = client.post(
        "/login",
        data={"csrf": csrf_of(page.text), "name": name, "password": password, "next": "/"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    return client
