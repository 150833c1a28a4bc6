"""qc sample: reproducible for a seed, stratified so flagged and unflagged conversations both appear."""

from __future__ import annotations

import csv

import pytest
from review_day import CONVERSATIONS, DAY, inspect_day, msg
from typer.testing import CliRunner

from qc.cli import app
from qc.store.database import open_store
from qc.supervise.sampling import SAMPLE_COLUMNS, draw_sample


def _clean(i: int, agent: str) -> dict:
    return {
        "conversation_id": f"ok{agent}{i:02d}",
        "shop": "测试店",
        "messages": [
            msg("customer", f"b{i}", f"15:{i:02d}:00", "有现货吗"),
            msg("agent", f"测试店:{agent}", f"15:{i:02d}:05", "有的亲，今天下单今天发哦"),
        ],
    }


@pytest.fixture()
def store(tmp_path):
    extra = [_clean(i, a) for a in ("阿杰", "小美") for i in range(12)]
    inspect_day(tmp_path, conversations=[*CONVERSATIONS, *extra])
    store = open_store(tmp_path / "qc.sqlite")
    yield store
    store.close()


def test_same_seed_same_sample_other_seed_other_sample(store):
    first = draw_sample(store, 4, seed=42, date=DAY)
    assert first == draw_sample(store, 4, seed=42, date=DAY)
    others = [draw_sample(store, 4, seed=s, date=DAY) for s in range(1, 6)]
    assert any(o != first for o in others)


def test_each_agent_gets_flagged_and_unflagged(store):
    rows = draw_sample(store, 4, seed=3, date=DAY)
    by_agent: dict[str, list] = {}
    for r in rows:
        by_agent.setdefault(r.agent, []).append(r)
    assert set(by_agent) == {"测试店:阿杰", "测试店:小美"}
    for agent, mine in by_agent.items():
        assert len(mine) == 4
        strata = [r.stratum for r in mine]
        # each agent has exactly one flagged conversation in the day: it is always drawn
        assert strata.count("flagged") == 1, agent
        assert strata.count("unflagged") == 3
        assert len({r.conversation_id for r in mine}) == 4
    flagged = {r.conversation_id for r in rows if r.stratum == "flagged"}
    assert flagged == {"cA", "cB"}


def test_short_pool_gives_everything_without_repeats(store):
    rows = draw_sample(store, 100, seed=1, date=DAY)
    assert len(rows) == 28  # 2 flagged + 2 clean originals + 24 extra, every one once
    assert len({(r.agent, r.conversation_id) for r in rows}) == 28


def test_cli_writes_a_csv_with_review_columns(store, tmp_path):
    out = tmp_path / "spot.csv"
    args = [
        "sample",
        "--per-agent",
        "2",
        "--seed",
        "9",
        "--date",
        DAY,
        "--out",
        str(out),
        "--db",
        str(tmp_path / "qc.sqlite"),
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    first = out.read_bytes()
    rows = list(csv.DictReader(out.open(encoding="utf-8-sig")))
    assert tuple(rows[0]) == SAMPLE_COLUMNS and len(rows) == 4
    assert CliRunner().invoke(app, args).exit_code == 0
    assert out.read_bytes() == first
