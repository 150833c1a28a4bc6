"""Agents are accounts of a shop: a bare nick of two shops is two agents (audit 73).

Two shops' 小二 were one row under the first shop, the second shop's conflict and its buyers
no agent answered counted there. The readers now write a shop's bare nicks as 店铺名:nick (as
千牛 writes sub-accounts) and the turns no agent holds as 店铺名:unassigned; migration 12 renames
what a store saved before, so a month spanning the upgrade shows each agent once.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import create_engine, delete, insert, select, text
from typer.testing import CliRunner

from qc.cli import app
from qc.store.tables import MIGRATIONS_TABLE, PEOPLE_TABLES, TABLES

runner = CliRunner()
DAY = "2026-11-24"


def _conversation(cid: str, shop: str, *said: tuple[str, str, str, str], **extra: str) -> dict:
    messages = [
        {"role": role, "sender": who, "timestamp": f"{DAY}T{at}+08:00", "text": words, **extra}
        for role, who, at, words in said
    ]
    return {"conversation_id": cid, "shop": shop, "messages": messages}


def _day(folder: Path) -> Path:
    folder.mkdir()
    rows = [
        _conversation(
            "S1", "店B", ("customer", "b1", "10:00:00", "在吗"), ("agent", "小二", "10:00:05", "在的亲")
        ),
        _conversation(
            "S2", "店C", ("customer", "b2", "12:00:00", "在吗"), ("agent", "小二", "12:00:05", "你烦不烦啊")
        ),
        _conversation("S3", "店B", ("customer", "b3", "11:00:00", "在吗")),
        _conversation("S4", "店C", ("customer", "b4", "11:00:00", "在吗")),
        _conversation("S5", "店C", ("customer", "b5", "11:30:00", "有货吗")),
        # one account written both ways in one conversation, and the shop's main account
        _conversation(
            "S6",
            "店C",
            ("customer", "b6", "13:00:00", "发货了吗"),
            ("agent", "店C:小二", "13:00:10", "亲，今天下午发"),
            ("customer", "b6", "13:01:00", "好"),
            ("agent", "小二", "13:01:30", "有问题随时找我哦"),
            ("agent", "店C", "13:02:00", "补充一下，顺丰发货"),
        ),
        _conversation(
            "S7", "店B", ("customer", "b7", "14:00:00", "在吗"), ("agent", "小林", "14:00:05", "在的")
        ),
    ]
    path = folder / f"{DAY}_conversations.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return folder


def _agents(out: Path) -> dict[str, tuple[str, str, str]]:
    with (out / "agents.csv").open(encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))[2:]
    return {r[0]: (r[2], r[3], r[-2]) for r in rows}  # shop, conversations, total points


def test_two_shops_bare_nicks_are_two_agents_with_their_own_shops(tmp_path):
    day = _day(tmp_path / "day")
    result = runner.invoke(app, ["inspect", str(day), "--out", str(tmp_path / "out"), "--jobs", "1", "-q"])
    assert result.exit_code == 0, result.output
    assert _agents(tmp_path / "out") == {
        "店b:小二": ("店B", "1", "0"),
        "店b:小林": ("店B", "1", "0"),
        "店b:unassigned": ("店B", "1", "0"),
        "店c:小二": ("店C", "2", "-5"),  # S2's conflict, and S6 once however it was written
        "店c": ("店C", "1", "0"),  # the shop's main account stays its own name
        "店c:unassigned": ("店C", "2", "0"),
    }
    findings = [json.loads(line) for line in (tmp_path / "out" / "findings.jsonl").open(encoding="utf-8")]
    assert {f["agent"] for f in findings if f["kind"] == "conflict"} == {"店c:小二"}


def _rows(url: str, table: str) -> list[tuple]:
    t = TABLES[table]
    skip = {"run_id", "first_run_id", "saved_at", "id"}
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(select(*[c for c in t.columns if c.name not in skip])).all()
    engine.dispose()
    return sorted(tuple(r) for r in rows)


def _saved_before(tmp_path: Path, day: Path, monkeypatch, old_reading, version: int) -> tuple[Path, str]:
    """The day in a store of today's qc (``now.sqlite``) and in one of qc before migration ``version``.

    ``old_reading(monkeypatch)`` makes the readers read as qc did then; the older store is
    returned by URL with the migration marked not applied, so the next command runs it.
    """
    now = tmp_path / "now.sqlite"
    args = ["inspect", str(day), "--out", str(tmp_path / "o1"), "--jobs", "1", "-q"]
    assert runner.invoke(app, [*args, "--db", str(now)]).exit_code == 0
    old_reading(monkeypatch)
    before = tmp_path / "before.sqlite"
    args[3] = str(tmp_path / "o2")
    assert runner.invoke(app, [*args, "--db", str(before)]).exit_code == 0
    monkeypatch.undo()
    url = f"sqlite:///{before}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(delete(MIGRATIONS_TABLE).where(MIGRATIONS_TABLE.c.version == version))
        _before_accounts(conn)
    engine.dispose()
    return now, url


def _before_accounts(conn) -> None:
    """Back to before migration 17: a person's one account was ``people.agent_id``."""
    conn.execute(text("DROP TABLE person_accounts"))
    conn.execute(delete(MIGRATIONS_TABLE).where(MIGRATIONS_TABLE.c.version == 17))


def _bound(url: str) -> dict[str, list[str]]:
    """Each registered person's accounts, as qc reads them now."""
    from qc.store.database import open_store

    with open_store(url) as store:
        return {p["name"]: p["accounts"] for p in store.people(include_removed=True)}


def _appeal_and_people(url: str, agent: str, people: tuple[tuple[str, str | None], ...]) -> None:
    """An open appeal by ``agent`` on the day's conflict, and agents bound to accounts, as stored before."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conflict = conn.execute(text("select finding_id from findings where kind = 'conflict'")).scalar_one()
        appeal = {"finding_id": conflict, "agent": agent, "reason": "r", "state": "open", "opened_at": "t"}
        conn.execute(insert(TABLES["appeals"]).values(**appeal))
        for name, bound in people:
            person = {"name": name, "role": "agent", "agent_id": bound, "active": True, "added_at": "t"}
            conn.execute(insert(PEOPLE_TABLES["people"]).values(**person))
    engine.dispose()


def test_migration_12_renames_what_a_store_saved_before_as_the_readers_now_read_it(tmp_path, monkeypatch):
    import qc.readers.assemble as assemble
    import qc.scoring.card as card
    import qc.scoring.metrics as metrics

    def old_reading(monkeypatch) -> None:  # bare nicks, one unassigned for every shop
        monkeypatch.setattr(assemble, "shop_accounts", lambda shop, members: {})
        monkeypatch.setattr(metrics, "unassigned_of", lambda conversation: metrics.UNASSIGNED)
        monkeypatch.setattr(card, "unassigned_of", lambda conversation: metrics.UNASSIGNED)

    now, url = _saved_before(tmp_path, _day(tmp_path / "day"), monkeypatch, old_reading, 12)
    before = Path(url.removeprefix("sqlite:///"))
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("select count(*) from parts where agent = '小二'")).scalar_one() == 3
    engine.dispose()
    _appeal_and_people(url, "小二", (("甲", "小林"), ("乙", "小二"), ("丙", None)))
    moved = tmp_path / "moved.sqlite"
    shutil.copy(before, moved)
    result = runner.invoke(app, ["export", "--date", DAY, "--db", str(moved), "--out", str(tmp_path / "e")])
    assert result.exit_code == 0, result.output
    for table in ("messages", "findings", "parts", "conversations"):
        assert _rows(f"sqlite:///{moved}", table) == _rows(f"sqlite:///{now}", table), table
    assert _agents(tmp_path / "e") == _agents(tmp_path / "o1")
    engine = create_engine(f"sqlite:///{moved}")
    with engine.connect() as conn:
        assert conn.execute(select(TABLES["appeals"].c.agent)).scalars().all() == ["店c:小二"]
    engine.dispose()
    # 小林 is one shop's; 小二 is two shops', and which one 乙 is nobody can tell
    assert _bound(f"sqlite:///{moved}") == {"甲": ["店b:小林"], "乙": ["小二"], "丙": []}


def _nameless_day(folder: Path, shops: tuple[str, ...] = ("店A", "店B")) -> Path:
    """Two shops' chats whose agent replies name nobody: 店A's after 40 s with a conflict, 店B's after 4 s."""
    folder.mkdir()
    rows = [
        _conversation(
            "W1", "店A", ("customer", "b1", "10:00:00", "有货吗"), ("agent", "", "10:00:40", "你烦不烦啊")
        ),
        _conversation(
            "W2", "店B", ("customer", "b2", "10:00:00", "有货吗"), ("agent", "", "10:00:04", "亲，有的哦")
        ),
        _conversation(
            "W3",
            "店B",
            ("customer", "b3", "10:05:00", "在吗"),
            ("auto", "", "10:05:01", "您好，客服马上就来"),
        ),
    ]
    rows = [r for r in rows if r["shop"] in shops]
    for row in rows:
        for m in row["messages"]:
            if not m["sender"]:
                del m["sender"]
    path = folder / f"{DAY}_conversations.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return folder


def _averages(out: Path) -> dict[str, tuple[str, float | None]]:
    with (out / "agents.json").open(encoding="utf-8") as handle:
        rows = json.load(handle)
    return {r["agent"]: (r["shop"], r["avg_response_s"]) for r in rows}


def test_two_shops_replies_that_name_nobody_are_each_shops_own(tmp_path):
    """Replies without a sender were one shop-less `unknown` agent: 店B's chat was scored in a row
    labelled 店A and the two shops' 40 s and 4 s became one 22 s (audit 79 #6)."""
    day = _nameless_day(tmp_path / "day")
    result = runner.invoke(app, ["inspect", str(day), "--out", str(tmp_path / "out"), "--jobs", "1", "-q"])
    assert result.exit_code == 0, result.output
    assert _agents(tmp_path / "out") == {
        "店a:unknown": ("店A", "1", "-5"),
        "店b:unknown": ("店B", "1", "0"),
        "店b:unassigned": ("店B", "1", "0"),  # an auto-reply holds no turn for anyone
    }
    findings = [json.loads(line) for line in (tmp_path / "out" / "findings.jsonl").open(encoding="utf-8")]
    assert {f["agent"] for f in findings if f["kind"] == "conflict"} == {"店a:unknown"}


def test_migration_13_gives_a_stored_nameless_reply_its_shop(tmp_path, monkeypatch):
    import qc.readers.assemble as assemble
    from qc.readers.roles import shop_account

    def old_reading(monkeypatch) -> None:  # a reply without a sender stored with none, as `unknown`
        monkeypatch.setattr(
            assemble,
            "shop_account",
            lambda nick, shop: None if nick == "unknown" else shop_account(nick, shop),
        )

    now, url = _saved_before(tmp_path, _nameless_day(tmp_path / "day"), monkeypatch, old_reading, 13)
    before = Path(url.removeprefix("sqlite:///"))
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("select count(*) from parts where agent = 'unknown'")).scalar_one() == 2
    engine.dispose()
    _appeal_and_people(url, "unknown", (("甲", "unknown"),))
    result = runner.invoke(app, ["export", "--date", DAY, "--db", str(before), "--out", str(tmp_path / "e")])
    assert result.exit_code == 0, result.output
    for table in ("messages", "findings", "parts", "conversations"):
        assert _rows(url, table) == _rows(f"sqlite:///{now}", table), table
    assert _agents(tmp_path / "e") == _agents(tmp_path / "o1")
    assert _averages(tmp_path / "e") == {
        "店a:unknown": ("店A", 40.0),
        "店b:unknown": ("店B", 4.0),
        "店b:unassigned": ("店B", None),
    }
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(select(TABLES["appeals"].c.agent)).scalars().all() == ["店a:unknown"]
    engine.dispose()
    # Two shops have nameless replies: which one 甲 is nobody can tell.
    assert _bound(url) == {"甲": ["unknown"]}


def test_migration_13_moves_a_person_bound_to_the_one_shops_nameless_agent(tmp_path, monkeypatch):
    """A person bound to `unknown` stayed bound to it, so the agent saw none of their own appeals
    once the rows became 店a:unknown (audit 83 #1)."""
    import qc.readers.assemble as assemble
    from qc.readers.roles import shop_account

    day = _nameless_day(tmp_path / "day", shops=("店A",))
    monkeypatch.setattr(
        assemble, "shop_account", lambda nick, shop: None if nick == "unknown" else shop_account(nick, shop)
    )
    db = tmp_path / "before.sqlite"
    args = ["inspect", str(day), "--out", str(tmp_path / "o"), "--jobs", "1", "-q", "--db", str(db)]
    assert runner.invoke(app, args).exit_code == 0
    monkeypatch.undo()
    engine = create_engine(f"sqlite:///{db}")
    with engine.begin() as conn:
        conn.execute(delete(MIGRATIONS_TABLE).where(MIGRATIONS_TABLE.c.version == 13))
        _before_accounts(conn)
        person = {"name": "甲", "role": "agent", "agent_id": "unknown", "active": True, "added_at": "t"}
        conn.execute(insert(PEOPLE_TABLES["people"]).values(**person))
    engine.dispose()
    assert runner.invoke(app, ["people", "list", "--db", str(db)]).exit_code == 0
    assert _bound(f"sqlite:///{db}") == {"甲": ["店a:unknown"]}


@pytest.mark.parametrize("agent_id", ["A01"])
def test_an_agent_id_column_is_an_account_as_given(tmp_path, agent_id):
    """An id from an agent_id column is the shop's account already: it is not renamed."""
    folder = tmp_path / "day"
    folder.mkdir()
    row = _conversation(
        "S1", "店B", ("customer", "b1", "10:00:00", "在吗"), ("agent", "小二", "10:00:05", "在的亲")
    )
    row["messages"][1]["agent_id"] = agent_id
    (folder / f"{DAY}_conversations.jsonl").write_text(
        json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    assert runner.invoke(app, ["inspect", str(folder), "--out", str(tmp_path / "o"), "-q"]).exit_code == 0
    assert set(_agents(tmp_path / "o")) == {agent_id.lower()}


def test_a_nick_two_shops_have_names_both_when_a_person_is_registered_by_it(tmp_path):
    """`qc people add 小二` must not guess which shop's 小二; its hint named a shop the store never had."""
    day = _day(tmp_path / "day")
    db = ["--db", str(tmp_path / "qc.sqlite")]
    assert runner.invoke(app, ["inspect", str(day), "--out", str(tmp_path / "o"), "-q", *db]).exit_code == 0
    result = runner.invoke(app, ["people", "add", "小二", "--role", "agent", *db])
    assert result.exit_code == 2
    assert "小二 names 店b:小二, 店c:小二" in result.output and "--agent-id 店b:小二" in result.output
    result = runner.invoke(app, ["people", "add", "小林", "--role", "agent", *db])
    assert result.exit_code == 0 and "(店b:小林)" in result.output


# A chat cut at midnight: the 24th's part and the 25th's, as (role, sender, time, text).
BEFORE_MIDNIGHT = [
    ("customer", "买家甲", "2026-11-24T23:59:10+08:00", "这个能便宜点吗"),
    ("agent", "小二", "2026-11-24T23:59:30+08:00", "别家便宜你去别家买啊"),
    ("customer", "买家甲", "2026-11-24T23:59:40+08:00", "你什么态度"),
]
AFTER_MIDNIGHT = [
    ("customer", "买家甲", "2026-11-25T00:00:10+08:00", "还在吗"),
    ("agent", "小二", "2026-11-25T00:00:20+08:00", "爱买不买"),
]


def _export(
    folder: Path, part: list[tuple[str, str, str, str]], shop: str | None, nameless: bool = False
) -> Path:
    """One day's export of chat x1: JSON Lines naming the shop, or a CSV with no 店铺 column.

    ``nameless``: the agent's replies name nobody (a role column, an empty sender).
    """
    folder.mkdir()
    if nameless:
        part = [(r, "" if r == "agent" else who, at, text) for r, who, at, text in part]
    if shop is None:
        words = {"customer": "买家", "agent": "客服"}
        lines = ["会话ID,角色,发送人,时间,内容"]
        lines += [f"x1,{words[r]},{who},{at[:19].replace('T', ' ')},{text}" for r, who, at, text in part]
        (folder / "export.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    else:
        messages = [
            {"role": r, "timestamp": at, "text": text, **({"sender": who} if who else {})}
            for r, who, at, text in part
        ]
        record = {"conversation_id": "x1", "shop": shop, "messages": messages}
        (folder / "export.jsonl").write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    return folder


@pytest.mark.parametrize("nameless", [False, True], ids=["nick", "nameless"])
@pytest.mark.parametrize("shopless", ["first", "second"])
def test_a_chat_cut_at_midnight_under_one_shop_has_one_account_whatever_the_order(
    tmp_path, shopless, nameless
):
    """The part from an export without a shop column kept its bare 小二 when a later run joined it
    with the shop's part: one agent was two rows, the −5 on the row nobody could appeal, and two
    runs left another store than one run over both files (audit 76 A2). Replies that name nobody
    are the shop's 店a:unknown in both parts (audit 79 #6)."""
    d24 = _export(tmp_path / "d24", BEFORE_MIDNIGHT, None if shopless == "first" else "店a", nameless)
    d25 = _export(tmp_path / "d25", AFTER_MIDNIGHT, None if shopless == "second" else "店a", nameless)

    def inspect(*folders: Path, db: Path) -> None:
        out = tmp_path / f"o-{db.stem}-{len(folders)}-{folders[0].name}"
        args = ["inspect", *map(str, folders), "--out", str(out), "--db", str(db), "--jobs", "1", "-q"]
        assert runner.invoke(app, args).exit_code == 0

    two_runs, one_run = tmp_path / "two.sqlite", tmp_path / "one.sqlite"
    inspect(d24, db=two_runs)
    inspect(d25, db=two_runs)
    inspect(d24, d25, db=one_run)
    exports = []
    for db in (two_runs, one_run):
        out = tmp_path / f"month-{db.stem}"
        result = runner.invoke(app, ["export", "--period", "2026-11", "--db", str(db), "--out", str(out)])
        assert result.exit_code == 0, result.output
        exports.append(
            ((out / "agents.csv").read_text("utf-8"), (out / "deductions.jsonl").read_text("utf-8"))
        )
    assert exports[0] == exports[1]
    assert set(_agents(tmp_path / "month-two")) == {"店a:unknown" if nameless else "店a:小二"}


def test_tables_name_two_shops_agents_apart_and_a_lone_one_short(tmp_path):
    """The agents table (inspect, export, report) and qc flagged showed 店b:小二 and 店c:小二 both as
    小二 (audit 76 A6); a name no other row shares is still shown short."""
    from qc.outputs.writers import short_agent_names

    assert short_agent_names(
        ["店b:小二", "店c:小二", "店b:小林", "店b:unassigned", "店c:unassigned", "A01"]
    ) == {
        "店b:小二": "店b:小二",
        "店c:小二": "店c:小二",
        "店b:小林": "小林",
        "店b:unassigned": "店b:unassigned",
        "店c:unassigned": "店c:unassigned",
        "A01": "A01",
    }
    day = _day(tmp_path / "day")
    db = tmp_path / "qc.sqlite"
    wide = {"COLUMNS": "250"}
    result = runner.invoke(
        app, ["inspect", str(day), "--out", str(tmp_path / "out"), "--db", str(db), "--jobs", "1"], env=wide
    )
    assert result.exit_code == 0, result.output
    names = {line.split("│")[1].strip() for line in result.output.splitlines() if line.count("│") > 5}
    assert {"店b:小二", "店c:小二", "小林"} <= names and "小二" not in names
    flagged = runner.invoke(app, ["flagged", "--db", str(db), "--date", DAY], env=wide)
    assert flagged.exit_code == 0 and "店c:小二" in flagged.output
