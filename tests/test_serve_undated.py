"""The workbench on chats without times (the undated day) and on dates written otherwise.

A store of undated chats looked empty ("no inspected day yet"), ``from=undated`` was a 500 on
every period page, and ``20261124`` in a search found nothing, unsaid (audit 161 H1, M1, M2).
"""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

import pytest
from cards import charging_card
from serve_env import AJIE, PASSWORD, build_store, signed_in
from starlette.testclient import TestClient

from qc.serve import create_app
from qc.store.database import open_store
from qc.supervise.accounts import set_password
from qc.supervise.people import add_person

UNDATED_AGENT = "无时间店:阿福"


def _inspect(path: Path, db: Path, out: Path) -> None:
    from qc.batch.run import run_inspection
    from qc.rules import RuleSettings
    from qc.run.executors import LocalExecutor
    from qc.run.inspector import build_inspector

    executor = LocalExecutor(build_inspector(RuleSettings()))
    run_inspection([path], out, executor, store=str(db), keep_results=False)


def _undated_day(folder: Path) -> Path:
    """Two conversations of 阿福 with no times: one where he answers rudely twice."""
    said = {
        "u1": [("customer", "买家甲", "这个能退吗"), ("agent", UNDATED_AGENT, "爱买不买"),
               ("customer", "买家甲", "什么态度"), ("agent", UNDATED_AGENT, "你自己看不懂吗")],
        "u2": [("customer", "买家乙", "在吗"), ("agent", UNDATED_AGENT, "在的亲")],
    }  # fmt: skip
    path = folder / "undated.jsonl"
    lines = [
        json.dumps({"conversation_id": cid, "role": role, "sender": who, "text": text, "shop": "无时间店"})
        for cid, rows in said.items()
        for role, who, text in rows
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def stores(tmp_path_factory) -> dict[str, Path]:
    """An undated-only store with a supervisor, and the demo day's store with the same chats added."""
    folder = tmp_path_factory.mktemp("undated")
    day = _undated_day(folder)
    only = folder / "only.sqlite"
    _inspect(day, only, folder / "out1")
    with open_store(only) as store:
        add_person(store, "主管丙", "supervisor", by="test")
        set_password(store, "主管丙", PASSWORD, by="test")
    mixed = build_store(folder)
    _inspect(day, mixed, folder / "out2")
    return {"only": only, "mixed": mixed}


def _client(db: Path, tmp_path: Path, name: str) -> TestClient:
    copy = tmp_path / db.name
    shutil.copy(db, copy)
    return signed_in(create_app(open_store(copy), charging_card()), name)


def _text(page: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def test_a_store_of_undated_chats_opens_on_their_day_with_their_points(stores, tmp_path):
    client = _client(stores["only"], tmp_path, "主管丙")
    r = client.get("/")
    assert r.status_code == 200, _text(r.text)[:300]
    row = re.search(r'<tr data-agent="无时间店:阿福">(.*?)</tr>', r.text, re.S)
    assert row is not None, "the undated agent's row is on the dashboard"
    assert "看板 Dashboard · undated" in _text(r.text)
    # the two 爱买不买 / 你自己看不懂吗 charges, as qc export --date undated scores them
    assert "与买家冲突 -10" in _text(r.text)
    table = re.search(r'<table id="agents".*?</table>', r.text, re.S)
    assert table is not None
    assert table[0] in client.get("/?period=undated").text
    assert client.get("/?from=undated&to=undated").status_code == 200
    queue = client.get("/queue")
    assert queue.status_code == 200 and "u1" in _text(queue.text)
    listed = _text(client.get("/search", params={"agent": UNDATED_AGENT}).text)
    assert "1–2 of 2 conversations" in listed


def test_the_undated_day_is_a_period_of_its_own_never_one_bound_of_a_range(stores, tmp_path):
    client = _client(stores["only"], tmp_path, "主管丙")
    for url in (
        "/?from=undated&to=2026-11-24",
        "/queue?from=2026-11-24&to=undated",
        "/search?q=退&from=undated",
    ):
        r = client.get(url)
        assert r.status_code == 400, url
        assert "undated (the chats without times) is a period of its own" in _text(r.text)


def test_a_dated_page_of_a_store_with_undated_chats_says_where_they_are(stores, tmp_path):
    client = _client(stores["mixed"], tmp_path, "张主管")
    page = client.get("/").text
    assert 'id="undated-note"' in page and 'href="/?period=undated"' in page
    assert UNDATED_AGENT not in page
    undated = client.get("/?period=undated").text
    assert 'data-agent="无时间店:阿福"' in undated and AJIE not in undated
    assert 'id="undated-note"' not in undated
    # an agent's conversations with no dates given: the undated ones too
    assert "1–2 of 2 conversations" in _text(client.get("/search", params={"agent": UNDATED_AGENT}).text)


def test_a_search_from_a_day_on_leaves_the_undated_chats_out(stores, tmp_path):
    client = _client(stores["mixed"], tmp_path, "张主管")
    every = _text(client.get("/search", params={"q": "看不懂"}).text)
    dated = _text(client.get("/search", params={"q": "看不懂", "from": "2026-11-24"}).text)
    assert "u1 · undated" in every and "u1 · undated" not in dated


@pytest.mark.parametrize("written", ["20261124", "2026-W48-2", "2026-11-24T00:00"])
def test_a_date_written_otherwise_is_refused_on_every_page_as_on_the_command_line(stores, tmp_path, written):
    client = _client(stores["mixed"], tmp_path, "张主管")
    for url in (f"/?from={written}&to=2026-11-24", f"/search?q=退货&from={written}&to=2026-11-24"):
        r = client.get(url)
        assert r.status_code == 400, url
        assert f"从 From '{written}' is not a date: write it as YYYY-MM-DD" in _text(r.text)


def test_the_command_line_opens_a_calibration_round_on_the_undated_chats_as_the_page_does(stores, tmp_path):
    """The workbench opened a round for undated; qc calibration open refused it (audit 163 L4)."""
    from typer.testing import CliRunner

    from qc.cli import app

    db = tmp_path / "only.sqlite"
    shutil.copy(stores["only"], db)
    with open_store(db) as store:
        add_person(store, "质检丁", "reviewer", by="test")
    args = ["calibration", "open", "--by", "主管丙", "-r", "质检丁", "-r", "主管丙", "--db", str(db)]
    r = CliRunner().invoke(app, [*args, "--from", "undated", "--to", "undated"])
    assert r.exit_code == 0, r.output
    with open_store(db) as store:
        from qc.supervise.calibration import list_rounds

        (rnd,) = list_rounds(store)
        assert (rnd.date_from, rnd.date_to) == ("undated", "undated") and rnd.finding_ids
    r = CliRunner().invoke(app, [*args, "--from", "undated", "--to", "2026-11-24"])
    assert r.exit_code == 2 and "--from 'undated' is not a date" in r.output
