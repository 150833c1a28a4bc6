"""The workbench's policy numbers come from its settings file, not from code (audit 104 L6).

``qc/defaults/workbench.toml`` holds the sign-in idle time, the wrong-password throttle, the
request size and page sizes; ``qc serve --settings FILE`` or ``$QC_WORKBENCH`` reads another
over it. Each test changes one number in a file and watches the workbench follow it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from serve_env import PASSWORD, build_store, csrf_of
from starlette.testclient import TestClient

from qc.errors import ConfigError
from qc.scoring.card import load_scorecard
from qc.serve import create_app
from qc.serve.settings import DEFAULT_SETTINGS, load_workbench_settings
from qc.store.database import open_store


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return build_store(tmp_path_factory.mktemp("serve_settings"))


@pytest.fixture()
def store(template, tmp_path):
    db = tmp_path / "qc.sqlite"
    shutil.copy(template, db)
    with open_store(db) as s:
        yield s


def settings_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "workbench.toml"
    path.write_text(text, encoding="utf-8")
    return path


def app_with(store, tmp_path: Path, text: str | None):
    settings = load_workbench_settings(settings_file(tmp_path, text) if text is not None else None)
    return create_app(store, load_scorecard(), settings=settings)


def sign_in(client: TestClient, password: str = PASSWORD) -> str:
    page = client.get("/login")
    r = client.post(
        "/login",
        data={"csrf": csrf_of(page.text), "name": "张主管", "password": password, "next": "/"},
        follow_redirects=False,
    )
    return r.headers["location"]


def test_a_shops_file_overrides_only_the_keys_it_names(tmp_path, monkeypatch):
    monkeypatch.delenv("QC_WORKBENCH", raising=False)
    bundled = load_workbench_settings()
    assert bundled.source == "qc/defaults/workbench.toml"
    mine = load_workbench_settings(settings_file(tmp_path, "[sign_in]\nmax_failures = 3\n"))
    assert mine.max_failures == 3 and mine.source.endswith("workbench.toml")
    assert mine.session_idle_minutes == bundled.session_idle_minutes  # left out: the bundled value
    monkeypatch.setenv("QC_WORKBENCH", str(tmp_path / "workbench.toml"))
    from_env = load_workbench_settings()
    assert from_env.max_failures == 3 and from_env.source.endswith("(QC_WORKBENCH)")


def test_the_throttle_follows_max_failures(store, tmp_path):
    """Two wrong passwords lock the name when the file says two; the bundled five do not."""
    for text, locked in (("[sign_in]\nmax_failures = 2\n", True), (None, False)):
        client = TestClient(app_with(store, tmp_path, text))
        for _ in range(2):
            assert sign_in(client, "not the password").startswith("/login?error=1")
        assert ("error=2" in sign_in(client)) is locked, text


def test_a_session_expires_after_the_files_idle_minutes(store, tmp_path):
    app = app_with(store, tmp_path, "[sign_in]\nsession_idle_minutes = 1\n")
    client = TestClient(app)
    assert sign_in(client) == "/"
    assert client.get("/", follow_redirects=False).status_code == 200
    session = app.state.wb.sessions.get(client.cookies.get("qc_session"))
    session.seen -= 50  # idle for 50 s: still signed in
    assert client.get("/", follow_redirects=False).status_code == 200
    session.seen -= 61  # idle for 61 s: past the minute
    r = client.get("/", follow_redirects=False)
    assert r.status_code in (302, 303) and r.headers["location"].startswith("/login")


def test_the_request_size_limit_follows_the_file(store, tmp_path):
    body = {"csrf": "x", "name": "张主管", "password": "y" * 12000}
    small = TestClient(app_with(store, tmp_path, "[capacity]\nmax_request_bytes = 10000\n"))
    small.get("/login")
    assert small.post("/login", data=body, follow_redirects=False).status_code == 413
    bundled = TestClient(app_with(store, tmp_path, None))
    bundled.get("/login")
    assert bundled.post("/login", data=body, follow_redirects=False).status_code != 413


def test_search_pages_hold_the_files_page_size(store, tmp_path):
    client = TestClient(app_with(store, tmp_path, "[pages]\nsearch_page_size = 3\n"))
    sign_in(client)
    first = client.get("/search", params={"q": "亲"})
    assert first.status_code == 200
    assert first.text.count('<li class="hit ') == 3 and "1–3 of " in first.text
    assert 'id="next-page"' in first.text and "page=2" in first.text
    second = client.get("/search", params={"q": "亲", "page": "2"})
    assert second.status_code == 200 and "4–6 of " in second.text
    assert second.text.count('<li class="hit ') == 3


def test_the_dashboards_trends_reach_back_as_far_as_the_file_says(store, tmp_path, monkeypatch):
    from qc.serve import dashboard

    asked: list[list[str]] = []
    real = dashboard.score_stored_views

    def spy(store, card, first, last, views):
        asked.append([start for start, _ in views])
        return real(store, card, first, last, views)

    monkeypatch.setattr(dashboard, "score_stored_views", spy)
    for text, starts in (
        ("[pages]\ntrend_weeks = 6\ntrend_months = 3\n", ["2026-09-01", "2026-10-26"]),
        (None, ["2026-06-01", "2026-10-12"]),  # the bundled 6 months and 8 weeks
    ):
        client = TestClient(app_with(store, tmp_path, text))
        sign_in(client)
        assert client.get("/").status_code == 200
        # The demo day's period is November 2026: its trends end with that month and with the ISO
        # week of its last day (Monday 2026-11-30).
        assert asked[-1] == starts, text


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("[sign_in]\nmax_failure = 3\n", "[sign_in] has no setting 'max_failure'"),
        ("max_failures = 3\n", "max_failures goes under [sign_in]"),
        ("[login]\nmax_failures = 3\n", "unknown table or key 'login'"),
        ("[sign_in]\nmax_failures = 0\n", "max_failures must be a positive whole number, not 0"),
        ("[sign_in]\nmax_failures = true\n", "must be a positive whole number, not True"),
        ("[capacity]\nmax_request_bytes = 2.5\n", "not 2.5"),
        ("[pages]\ntrend_weeks = 100000\n", "trend_weeks 100000 must be at most 520"),
        ("[pages]\nsearch_page_size = 20000\n", "must be at most 10000"),
        # a size no sign-in form fits (audit 116 L4), a key in the wrong table names its own
        ("[capacity]\nmax_request_bytes = 1\n", "max_request_bytes 1 must be at least 8192"),
        (
            "[pages]\nsession_idle_minutes = 3\n",
            "[pages] has no setting 'session_idle_minutes'; session_idle_minutes goes under [sign_in]",
        ),
        ("[sign_in\n", "not valid TOML"),
    ],
)
def test_a_bad_file_is_refused_with_the_file_and_the_key(tmp_path, text, said):
    path = settings_file(tmp_path, text)
    with pytest.raises(ConfigError) as refused:
        load_workbench_settings(path)
    assert said in str(refused.value) and str(path) in str(refused.value)


def test_qc_serve_check_names_the_settings_in_force_and_refuses_a_bad_file(template, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from qc.cli import app as cli_app

    monkeypatch.delenv("QC_WORKBENCH", raising=False)
    db = tmp_path / "qc.sqlite"
    shutil.copy(template, db)
    runner = CliRunner()
    port = str(_free_port())
    r = runner.invoke(cli_app, ["serve", "--db", str(db), "--check", "--port", port])
    assert r.exit_code == 0, r.output
    assert "sign-in lasts 480 idle minutes" in r.stderr and "(qc/defaults/workbench.toml)" in r.stderr
    good = settings_file(tmp_path, "[sign_in]\nsession_idle_minutes = 30\n")
    r = runner.invoke(cli_app, ["serve", "--db", str(db), "--check", "--port", port, "--settings", str(good)])
    assert r.exit_code == 0 and "sign-in lasts 30 idle minutes" in r.stderr and str(good) in r.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text("[sign_in]\nidle = 30\n", encoding="utf-8")
    r = runner.invoke(cli_app, ["serve", "--db", str(db), "--check", "--settings", str(bad)])
    assert r.exit_code == 2 and "has no setting 'idle'" in r.stderr and "Traceback" not in r.output
    monkeypatch.setenv("QC_WORKBENCH", str(bad))
    r = runner.invoke(cli_app, ["serve", "--db", str(db), "--check"])
    assert r.exit_code == 2 and f"{bad} (QC_WORKBENCH)" in r.stderr  # where it came from


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_bundled_file_holds_every_setting():
    """A key missing from the bundled file would make every workbench refuse to start."""
    import tomllib
    from dataclasses import fields

    from qc.serve.settings import WorkbenchSettings

    data = tomllib.loads(DEFAULT_SETTINGS.read_text(encoding="utf-8"))
    written = {key for table in data.values() for key in table}
    assert written == {f.name for f in fields(WorkbenchSettings)} - {"source"}
