"""``qc store forget``: the wrong copy of an export filed twice taken off the store, with who and why.

The same export filed under two names was stored and counted twice, and ``qc inspect`` could only
warn about it (audit 114 M2, 122 M1): the fix it named was a new store inspected from scratch.
"""

from __future__ import annotations

import json
import shlex
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select
from test_store import target  # noqa: F401 - the sqlite / postgresql fixture
from typer.testing import CliRunner

from qc.batch.run import store_state
from qc.cli import app
from qc.errors import ConfigError
from qc.store.database import open_store
from qc.store.tables import RESULT_TABLES, TABLES
from qc.supervise.forget import forget_conversations
from qc.supervise.people import PeopleError, add_person
from qc.supervise.review import decide, finding_states

runner = CliRunner()
CHAT = (
    "买家(10:00:01): 在吗，这个能便宜点吗\n柚子店:小雨(10:00:20): 爱买不买\n"
    "买家(10:01:00): 什么态度\n柚子店:小雨(10:01:30): 亲，抱歉，我帮您看看优惠\n"
)


def filed_twice(tmp_path: Path, db: str) -> None:
    """One export inspected under 11-18, then the same file renamed to 11-19 inspected again."""
    first = tmp_path / "a" / "qianniu_2026-11-18.txt"
    first.parent.mkdir()
    first.write_text(CHAT, encoding="utf-8")
    again = tmp_path / "b" / "qianniu_2026-11-19.txt"
    again.parent.mkdir()
    shutil.copy(first, again)
    for n, source in enumerate((first, again)):
        args = ["inspect", str(source), "--out", str(tmp_path / f"o{n}"), "--db", db, "-q"]
        assert runner.invoke(app, args).exit_code == 0


def stored(db: str) -> dict[str, int]:
    """Rows of each result table, and runs."""
    with open_store(db) as store, store.engine.connect() as conn:
        return {
            name: conn.execute(select(func.count()).select_from(TABLES[name])).scalar_one()
            for name in (*RESULT_TABLES, "runs")
        }


def total(tmp_path: Path, db: str, out: str) -> float:
    """The two days' total points, as `qc export` scores them from the store."""
    args = ["export", "--db", db, "--from", "2026-11-18", "--to", "2026-11-19", "--out", str(tmp_path / out)]
    assert runner.invoke(app, args).exit_code == 0
    rows = json.loads((tmp_path / out / "agents.json").read_text(encoding="utf-8"))
    return sum(float(r["total_points"]) for r in rows)


def test_forgetting_the_copy_filed_twice_scores_as_if_it_was_filed_once(tmp_path: Path, target: str) -> None:  # noqa: F811
    """Forgotten, the wrong copy's messages, findings and counters go, and the days score as a store that
    read the file once; the run records who, when and why, and the audit trail says so."""
    once = str(tmp_path / "once.sqlite")
    (tmp_path / "once").mkdir()
    single = tmp_path / "once" / "qianniu_2026-11-18.txt"
    single.write_text(CHAT, encoding="utf-8")
    assert (
        runner.invoke(
            app, ["inspect", str(single), "--out", str(tmp_path / "p"), "--db", once, "-q"]
        ).exit_code
        == 0
    )
    filed_twice(tmp_path, target)
    doubled = total(tmp_path, target, "e0")
    assert doubled == 2 * total(tmp_path, once, "e1") < 0
    with open_store(target) as store:
        add_person(store, "张主管", "supervisor", by="test")
        before = store_state(store, "2026-11-18", "2026-11-19")
        done = forget_conversations(store, ["qianniu_2026-11-19"], by="张主管", why="同一文件存了两次")
        after = store_state(store, "2026-11-18", "2026-11-19")
        trail = [r for r in store.audit_trail() if r["action"] == "forget"]
    with open_store(once) as store:
        (alone,) = store.forget_plan(["qianniu_2026-11-18"])
    (plan,) = done.plans
    assert (plan.conversation, plan.days) == ("qianniu_2026-11-19", ("2026-11-19",))
    assert (plan.messages, plan.findings, plan.live) == (alone.messages, alone.findings, alone.live)
    assert plan.messages == 4 and plan.live >= 1
    assert total(tmp_path, target, "e2") == total(tmp_path, once, "e3")
    assert stored(target)["messages"] == stored(once)["messages"] == 4
    assert after["newest_run"] == done.run > before["newest_run"]  # qc compare sees the days changed
    assert [(r["actor"], r["note"], r["source"]) for r in trail] == [
        ("张主管", "同一文件存了两次", "conversation:柚子店/qianniu_2026-11-19")
    ]
    with open_store(target) as store, store.engine.connect() as conn:
        runs = TABLES["runs"]
        run = json.loads(conn.execute(select(runs.c.run_json).where(runs.c.id == done.run)).scalar_one())
    assert run["by"] == "张主管" and run["why"] == "同一文件存了两次"
    assert [f["conversation"] for f in run["forgotten"]] == ["qianniu_2026-11-19"]


def test_a_dry_run_or_a_refusal_changes_nothing(tmp_path: Path) -> None:
    """--dry-run says what would go, exit 2 when the forget itself would be refused (audit 131 L2); an
    id the store does not hold, a missing reason or an agent's --by refuse the whole command, exit 2,
    the store as it was."""
    db = str(tmp_path / "qc.sqlite")
    filed_twice(tmp_path, db)
    with open_store(db) as store:
        add_person(store, "小雨", "agent", accounts=["柚子店:小雨"], by="test")
    was = stored(db)
    dry = runner.invoke(app, ["store", "forget", "qianniu_2026-11-19", "nope", "--dry-run", "--db", db])
    assert dry.exit_code == 2 and "would forget" in dry.stdout and "not in the store" in dry.stdout
    assert "the store does not hold" in dry.stderr
    assert (
        runner.invoke(app, ["store", "forget", "qianniu_2026-11-19", "--dry-run", "--db", db]).exit_code == 0
    )
    refused = {
        "unknown id": ["qianniu_2026-11-19", "nope", "--why", "x"],
        "no reason": ["qianniu_2026-11-19"],
        "an agent": ["qianniu_2026-11-19", "--why", "x", "--by", "小雨"],
    }
    said = {}
    for case, args in refused.items():
        result = runner.invoke(app, ["store", "forget", *args, "--db", db])
        assert result.exit_code == 2, case
        said[case] = result.stderr
    assert "holds no conversation nope: nothing was forgotten" in said["unknown id"]
    assert "--why" in said["no reason"]
    assert "小雨 is an agent: stored conversations are forgotten by a supervisor" in said["an agent"]
    assert stored(db) == was


def test_decisions_are_refused_then_parked_and_come_back_with_the_chat(tmp_path: Path, target: str) -> None:  # noqa: F811
    """A conversation whose finding was reviewed is refused without --park-decisions; with it the
    decision is kept under ID~RUN, and the same file inspected again takes it back."""
    filed_twice(tmp_path, target)
    with open_store(target) as store:
        add_person(store, "qa", "reviewer", by="test")
        (fid,) = [
            s.id
            for s in store.findings()
            if s.finding.conversation_id == "qianniu_2026-11-19" and s.finding.kind != "slow_response"
        ][:1]
        decide(store, fid, "reject", by="qa", note="熟客玩笑")
        with pytest.raises(ConfigError, match="carry decisions") as refused:
            forget_conversations(store, ["qianniu_2026-11-19"], why="存了两次")
        assert refused.value.exit_code == 2
        assert finding_states(store, [fid]) == {fid: "rejected"}
        done = forget_conversations(store, ["qianniu_2026-11-19"], why="存了两次", park_decisions=True)
        assert store.finding(fid) is None and store.parked_as(fid) == [f"{fid}~{done.run}"]
    args = ["inspect", str(tmp_path / "b"), "--out", str(tmp_path / "o9"), "--db", target, "-q"]
    assert runner.invoke(app, args).exit_code == 0
    with open_store(target) as store:
        assert finding_states(store, [fid]) == {fid: "rejected"} and store.parked_as(fid) == []
    # stored again, and said so: the wrong copy inspected again is counted twice once more
    run = json.loads((tmp_path / "o9" / "run.json").read_text(encoding="utf-8"))
    (back,) = run["forgotten_conversations_back"]
    assert (back["conversation"], back["forget_run"]) == ("qianniu_2026-11-19", done.run)
    assert any(
        w.startswith("conversation qianniu_2026-11-19 had been taken off the store") for w in run["warnings"]
    )


def test_a_reviewer_may_not_forget(tmp_path: Path) -> None:
    """Forgetting changes what every agent of the day is charged: a supervisor's, not a reviewer's."""
    db = str(tmp_path / "qc.sqlite")
    filed_twice(tmp_path, db)
    with open_store(db) as store:
        add_person(store, "qa", "reviewer", by="test")
        with pytest.raises(PeopleError, match="qa is a reviewer"):
            forget_conversations(store, ["qianniu_2026-11-19"], by="qa", why="x")


def test_a_day_left_empty_is_said_and_a_url_keeps_its_password_off_the_screen(
    tmp_path: Path,
    target: str,  # noqa: F811
) -> None:
    """The hint named `qc export` of a day the forget left empty, which then refused "nothing stored"
    (audit 131 M3), and printed --db as given, a PostgreSQL password in it (H1)."""
    db = target.replace("postgres@", "postgres:S3cret-pw@") if "://" in target else target
    filed_twice(tmp_path, db)
    said = runner.invoke(app, ["store", "forget", "qianniu_2026-11-19", "--why", "存了两次", "--db", db])
    assert said.exit_code == 0, said.output
    assert "2026-11-19 now hold no conversation" in said.stderr and "qc export" not in said.stderr
    assert "S3cret-pw" not in said.output
    # Another chat of 11-18 keeps that day: the hint names the export, its store runnable as printed.
    other = tmp_path / "c" / "chat_2026-11-18.txt"
    other.parent.mkdir()
    other.write_text(CHAT.replace("10:00:20", "10:00:21"), encoding="utf-8")
    args = ["inspect", str(other), "--out", str(tmp_path / "o7"), "--db", db, "-q"]
    assert runner.invoke(app, args).exit_code == 0
    again = runner.invoke(app, ["store", "forget", "qianniu_2026-11-18", "--why", "错的那份", "--db", db])
    assert again.exit_code == 0, again.output
    hint = next(line for line in again.stderr.splitlines() if "qc export" in line)
    assert "S3cret-pw" not in hint and "***" not in hint  # audit 133 L2
    if "://" in db:  # a store named by QC_DB is named so in the hint (audit 136 L2)
        more = tmp_path / "d" / "chat_2026-11-19.txt"  # another chat keeps 11-19
        more.parent.mkdir()
        more.write_text(CHAT.replace("10:00:20", "10:00:22"), encoding="utf-8")
        for source, out in ((tmp_path / "b", "o8"), (more, "o9")):
            args = ["inspect", str(source), "--out", str(tmp_path / out), "--db", db, "-q"]
            assert runner.invoke(app, args).exit_code == 0
        third = runner.invoke(app, ["store", "forget", "qianniu_2026-11-19", "--why", "x"], env={"QC_DB": db})
        assert third.exit_code == 0, third.output
        assert '--db "$QC_DB" --from 2026-11-19' in third.stderr


def wrong_folder(tmp_path: Path, db: str) -> None:
    """11-18's export read (run 1), then a folder read under 11-19 (run 2): a copy of it and a new chat."""
    first = tmp_path / "a" / "qianniu_2026-11-18.txt"
    first.parent.mkdir()
    first.write_text(CHAT, encoding="utf-8")
    (tmp_path / "b").mkdir()
    shutil.copy(first, tmp_path / "b" / "qianniu_2026-11-19.txt")
    (tmp_path / "b" / "wangwang_2026-11-19.txt").write_text(
        "阿木(11:00:00): 能发顺丰吗\n柚子店:小雨(11:00:20): 可以的亲\n", encoding="utf-8"
    )
    for n, source in enumerate((first.parent, tmp_path / "b")):
        args = ["inspect", str(source), "--out", str(tmp_path / f"o{n}"), "--db", db, "-q"]
        assert runner.invoke(app, args).exit_code == 0


def test_a_whole_run_is_listed_and_forgotten_by_its_number(tmp_path: Path, target: str) -> None:  # noqa: F811
    """A run filed wrongly is hundreds of ids: `qc store runs` finds it, --run N takes the conversations it
    brought in, says which repeat a stored one, and records the run it came from."""
    wrong_folder(tmp_path, target)
    listed = runner.invoke(app, ["store", "runs", "--db", target, "--format", "json"])
    assert listed.exit_code == 0, listed.output
    runs = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [(r["run"], r["command"], r["conversations"], r["held"], r["continued"]) for r in runs] == [
        (1, "inspect", 1, 1, 0),
        (2, "inspect", 2, 2, 0),
    ]
    assert runs[1]["repeated_conversations"] == 1
    assert [Path(p).name for p in runs[1]["inputs"]] == ["qianniu_2026-11-19.txt", "wangwang_2026-11-19.txt"]
    with open_store(target) as store:
        with pytest.raises(ConfigError, match="no run 9 \\(its runs are 1 to 2\\)") as none:
            store.run_held(9)
        assert none.value.exit_code == 2
    dry = runner.invoke(app, ["store", "forget", "--run", "2", "--dry-run", "--db", target])
    assert dry.exit_code == 0, dry.output
    assert "what run 2 stored" in dry.stdout
    assert "1 of them repeat no conversation the store keeps" in dry.stderr
    with open_store(target) as store:
        add_person(store, "张主管", "supervisor", by="test")
        done = forget_conversations(store, [], run=2, by="张主管", why="11-18的文件夹按11-19读了")
        left = {s.finding.conversation_id for s in store.findings()}
        listed_after = store.runs()
    assert {p.conversation for p in done.plans} == {"qianniu_2026-11-19", "wangwang_2026-11-19"}
    assert done.repeats == {"qianniu_2026-11-19"} and done.from_run == 2 and done.stored == 2
    assert left == {"qianniu_2026-11-18"}
    assert [(r.command, r.held) for r in listed_after][1:] == [("inspect", 0), ("store forget", 0)]
    assert (listed_after[2].by, listed_after[2].conversations) == ("张主管", 2)
    with open_store(target) as store, store.engine.connect() as conn:
        table = TABLES["runs"]
        run = json.loads(conn.execute(select(table.c.run_json).where(table.c.id == done.run)).scalar_one())
    assert run["from_run"] == 2 and run["why"] == "11-18的文件夹按11-19读了"
    again = runner.invoke(app, ["store", "forget", "--run", str(done.run), "--why", "x", "--db", target])
    assert again.exit_code == 2 and "forgot conversations and stored none" in again.stderr


def test_a_run_partly_read_again_gives_only_its_own_copies_and_says_so(tmp_path: Path) -> None:
    """A later run that read one of a run's files again holds those conversations: --run of the first
    leaves them and says so; --run of the later one takes them, as it replaced the first one's copy
    whole, and says that the first run's files bring that copy back (audit 141 M1, 143 M3)."""
    db = str(tmp_path / "qc.sqlite")
    wrong_folder(tmp_path, db)
    again = tmp_path / "b" / "wangwang_2026-11-19.txt"
    args = ["inspect", str(again), "--out", str(tmp_path / "o3"), "--db", db, "-q"]
    assert runner.invoke(app, args).exit_code == 0  # run 3 reads the new chat again
    later = runner.invoke(app, ["store", "forget", "--run", "3", "--dry-run", "--format", "json", "--db", db])
    assert [json.loads(line)["conversation"] for line in later.stdout.splitlines()] == ["wangwang_2026-11-19"]
    assert "1 of them replaced a copy stored before (first by run 2" in later.stderr
    said = runner.invoke(app, ["store", "forget", "--run", "2", "--why", "错的日期", "--db", db])
    assert said.exit_code == 0, said.output
    assert "run 2 stored 2 conversations: 1 are its own copies now" in said.stderr
    with open_store(db) as store:
        kept = {r.id: (r.held, r.continued) for r in store.runs()}
        plan, gone = store.forget_plan(["wangwang_2026-11-19", "qianniu_2026-11-19"])
    assert kept[3] == (1, 0) and kept[2] == (0, 0) and plan.shop == "柚子店" and gone.shop is None
    nothing = runner.invoke(app, ["store", "forget", "--run", "2", "--why", "x", "--db", db])
    assert nothing.exit_code == 2 and "none of them is its copy any more" in nothing.stderr


def test_a_folder_inspected_twice_can_be_forgotten_by_its_second_run(tmp_path: Path) -> None:
    """The same folder read twice could be forgotten by neither run: the second's copies were left as
    "stored first" by the first, and the first held none any more (audit 143 M3)."""
    db = str(tmp_path / "qc.sqlite")
    filed_twice(tmp_path, db)
    args = ["inspect", str(tmp_path / "b"), "--out", str(tmp_path / "o3"), "--db", db, "-q"]
    assert runner.invoke(app, args).exit_code == 0
    second = runner.invoke(app, ["store", "forget", "--run", "3", "--why", "读了两次", "--db", db])
    assert second.exit_code == 0, second.output
    assert "replaced a copy stored before (first by run 2" in second.stderr
    with open_store(db) as store:
        (plan,) = store.forget_plan(["qianniu_2026-11-19"])
    assert plan.shop is None


def _chat_line(cid: str, *messages: tuple[str, str, str]) -> str:
    """One conversation as a JSON Lines record: (role, time on 11-24/11-25, text) each."""
    rows = [
        {
            "role": role,
            "sender": "tb_lu" if role == "customer" else "柚子店:小雨",
            "timestamp": at,
            "text": text,
        }
        for role, at, text in messages
    ]
    return json.dumps({"conversation_id": cid, "shop": "柚子店", "messages": rows}, ensure_ascii=False) + "\n"


def _inspect_days(tmp_path: Path, days: dict[str, str], db: str) -> None:
    """Each day's file inspected into ``db`` in order, one run each."""
    for name, text in days.items():
        path = tmp_path / name
        path.parent.mkdir()
        path.write_text(text, encoding="utf-8")
        out = str(tmp_path / f"o-{path.parent.name}")
        done = runner.invoke(app, ["inspect", str(path.parent), "--out", out, "--db", db, "-q"])
        assert done.exit_code == 0, done.output


def test_a_run_that_continued_a_chat_leaves_it_when_forgotten(tmp_path: Path, target: str) -> None:  # noqa: F811
    """Forgetting the next day's run took the chat it continued, and the day before's four messages with
    it, which that day's file did not bring back: a lone buyer line was left (audit 141 M1). The
    command it prints then forgets the two-day chat, on PostgreSQL too (audit 148 M1)."""
    db = target
    days = {
        "d1/chat_2026-11-24.jsonl": _chat_line(
            "C1",
            ("customer", "2026-11-24 23:50:00", "在吗，今天能发吗"),
            ("agent", "2026-11-24 23:50:30", "亲，明天一早发出"),
            ("customer", "2026-11-24 23:58:00", "好的"),
            ("agent", "2026-11-24 23:58:20", "不客气亲"),
        ),
        "d2/chat_2026-11-25.jsonl": _chat_line("C1", ("customer", "2026-11-25 00:00:20", "知道了"))
        + _chat_line(
            "C2", ("customer", "2026-11-25 09:00:00", "有货吗"), ("agent", "2026-11-25 09:00:20", "有的亲")
        ),
    }
    _inspect_days(tmp_path, days, db)
    said = runner.invoke(app, ["store", "forget", "--run", "2", "--why", "错的文件夹", "--db", db])
    assert said.exit_code == 0, said.output
    assert "1 more conversations run 2 holds continue ones stored before it" in said.stderr
    shown = shlex.quote(db)  # the test URL holds no password (one would show as STORE_URL)
    assert f'To forget them all the same: qc store forget C1 --why "…" --db {shown}' in said.stderr
    with open_store(db) as store:
        c1, c2 = store.forget_plan(["C1", "C2"])
    assert c2.shop is None and c1.messages == 5
    again = runner.invoke(app, ["store", "forget", "C1", "--why", "整段重来", "--db", db])
    assert again.exit_code == 0, again.output
    log = TABLES["review_log"]
    with open_store(db) as store, store.engine.connect() as conn:
        (c1,) = store.forget_plan(["C1"])
        before = conn.execute(select(log.c.state_before).where(log.c.note == "整段重来")).scalar_one()
    assert c1.shop is None and before == "5 messages, 1 findings on 2026-11-24, 2026-11-25"


def test_a_repeat_of_a_conversation_forgotten_since_is_no_copy_any_more(tmp_path: Path) -> None:
    """After the originals were forgotten, the dry run still called the run's chats copies, and forgetting
    the run looked safe though it took them off the store altogether (audit 141 M2)."""
    db = str(tmp_path / "qc.sqlite")
    wrong_folder(tmp_path, db)
    assert (
        runner.invoke(app, ["store", "forget", "--run", "1", "--why", "11-19的才对", "--db", db]).exit_code
        == 0
    )
    dry = runner.invoke(app, ["store", "forget", "--run", "2", "--dry-run", "--format", "json", "--db", db])
    assert [json.loads(line)["repeats"] for line in dry.stdout.splitlines()] == [False, False]
    assert "forgetting the run takes these chats off the store altogether" in dry.stderr
    listed = runner.invoke(app, ["store", "runs", "--format", "json", "--db", db])
    assert [json.loads(line)["repeated_conversations"] for line in listed.stdout.splitlines()][1] == 0


def test_run_and_ids_together_or_neither_are_refused_and_an_empty_store_lists_no_run(tmp_path: Path) -> None:
    """--run with ids, or nothing to forget at all, is a usage error (exit 2); `qc store runs` on a store
    without runs says how one is made; --last keeps the newest runs."""
    db = str(tmp_path / "qc.sqlite")
    with open_store(db):
        pass
    empty = runner.invoke(app, ["store", "runs", "--db", db])
    assert empty.exit_code == 0 and "holds no run yet" in empty.stderr
    filed_twice(tmp_path, db)
    both = runner.invoke(
        app, ["store", "forget", "qianniu_2026-11-19", "--run", "2", "--why", "x", "--db", db]
    )
    assert both.exit_code == 2 and "not both" in both.stderr
    neither = runner.invoke(app, ["store", "forget", "--why", "x", "--db", db])
    assert neither.exit_code == 2 and "--run N" in neither.stderr
    newest = runner.invoke(app, ["store", "runs", "--last", "1", "--format", "json", "--db", db])
    assert [json.loads(line)["run"] for line in newest.stdout.splitlines()] == [2]
    assert "1 earlier run(s) not shown: --last 2 lists them all" in newest.stderr  # audit 141 L2
    table = runner.invoke(app, ["store", "runs", "--db", db])
    assert "qianniu_2026-11-19.txt (1 repeated)" in table.stdout


def test_a_run_that_repeats_many_stored_chats_names_the_forget_of_the_whole_run(tmp_path: Path) -> None:
    """A whole folder filed twice warns once for all its repeats, and names the dry run that would take the
    run off; that dry run lists every conversation as a repeat."""
    db = str(tmp_path / "qc.sqlite")
    for folder, day in (("a", "2026-11-18"), ("b", "2026-11-19")):
        (tmp_path / folder).mkdir()
        for n in range(4):
            chat = CHAT.replace("10:00:20", f"10:00:2{n}")
            (tmp_path / folder / f"shop{n}_{day}.txt").write_text(chat, encoding="utf-8")
        args = ["inspect", str(tmp_path / folder), "--out", str(tmp_path / f"o{folder}"), "--db", db, "-q"]
        assert runner.invoke(app, args).exit_code == 0
    run = json.loads((tmp_path / "ob" / "run.json").read_text(encoding="utf-8"))
    (said,) = [w for w in run["warnings"] if "repeat stored conversations" in w]
    assert said.startswith("4 conversations repeat") and "`qc store forget --run 2 --dry-run`" in said
    dry = runner.invoke(app, ["store", "forget", "--run", "2", "--dry-run", "--format", "json", "--db", db])
    assert dry.exit_code == 0, dry.output
    lines = [json.loads(line) for line in dry.stdout.splitlines()]
    assert len(lines) == 4 and all(line["repeats"] and line["from_run"] == 2 for line in lines)
    assert "repeat no other" not in dry.stderr


def test_the_runs_table_tells_apart_runs_of_alike_files_and_of_other_shops(tmp_path: Path) -> None:
    """Two folders holding the same file name, and two shops on one day, read alike in the runs table
    (audit 141 L2): folders are named when names collide, shops when there are several."""
    db = str(tmp_path / "qc.sqlite")
    sources = {
        tmp_path / "mon" / "chat_2026-11-18.txt": CHAT,
        tmp_path / "tue" / "chat_2026-11-18.txt": CHAT.replace("在吗", "你好"),
        tmp_path / "orange" / "orange_2026-11-18.txt": CHAT.replace("柚子店", "橙子店"),
    }
    for n, (path, text) in enumerate(sources.items()):
        path.parent.mkdir()
        path.write_text(text, encoding="utf-8")
        args = ["inspect", str(path), "--out", str(tmp_path / f"o{n}"), "--db", db, "-q"]
        assert runner.invoke(app, args).exit_code == 0
    table = runner.invoke(app, ["store", "runs", "--db", db])
    assert table.exit_code == 0, table.output
    text = " ".join(table.stdout.split())
    assert "mon/chat_2026-11-18.txt" in text and "tue/chat_2026-11-18.txt" in text
    assert "orange/" not in text and "orange_2026-11-18.txt" in text  # only alike names get a folder
    assert "柚子店 2026-11-18" in text and "橙子店 2026-11-18" in text


@pytest.mark.parametrize("by", [["qianniu_2026-11-19"], ["--run", "2"]])
def test_json_lines_are_all_that_stdout_carries(tmp_path: Path, by: list[str]) -> None:
    """`--format json` printed the table after the JSON lines for a forget by ids, so the output no longer
    parsed (audit 143 M1); the notes go to stderr."""
    db = str(tmp_path / "qc.sqlite")
    filed_twice(tmp_path, db)
    for dry in (["--dry-run"], ["--why", "存了两次"]):
        said = runner.invoke(app, ["store", "forget", *by, *dry, "--format", "json", "--db", db])
        assert said.exit_code == 0, said.output
        lines = said.stdout.splitlines()
        assert lines and all(json.loads(line)["conversation"] == "qianniu_2026-11-19" for line in lines)
        if dry == ["--dry-run"]:
            assert stored(db)["messages"] == 8


def test_a_run_of_continued_chats_only_names_a_forget_that_runs_as_printed(tmp_path: Path) -> None:
    """The refusal named `qc store forget C1` with no --why and no --db: pasted, it was refused,
    or acted on the default store instead of the one asked about (audit 148 L1)."""
    db = str(tmp_path / "店 的 store" / "qc.sqlite")
    Path(db).parent.mkdir()
    days = {
        "d1/chat_2026-11-24.jsonl": _chat_line(
            "C1", ("customer", "2026-11-24 23:50:00", "在吗"), ("agent", "2026-11-24 23:50:30", "亲，在的")
        ),
        "d2/chat_2026-11-25.jsonl": _chat_line("C1", ("customer", "2026-11-25 00:00:20", "好的")),
    }
    _inspect_days(tmp_path, days, db)
    said = runner.invoke(app, ["store", "forget", "--run", "2", "--dry-run", "--db", db])
    assert said.exit_code == 2 and "nothing was forgotten" in said.stderr
    command = said.stderr.split("name them: ", 1)[1].strip()
    assert command == f'qc store forget C1 --why "…" --db {shlex.quote(db)}'
    pasted = shlex.split(command)[1:]
    assert runner.invoke(app, pasted).exit_code == 0
    with open_store(db) as store:
        (c1,) = store.forget_plan(["C1"])
    assert c1.shop is None
