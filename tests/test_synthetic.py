"""The synthetic day generator, the format writers and the bundled demo day."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest

from qc.schema import Conversation, Role
from qc.synth import exports as exporters
from qc.synth.conversations import (
    BEHAVIOURS,
    DEFAULT_SHOP,
    DEMO_FILES,
    Mix,
    agent_nicks,
    build_demo,
    generate_day,
    generate_labelled_day,
    iter_conversations,
    main,
)

DAY = date(2026, 11, 24)
REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "demo"

try:  # The readers are written alongside this module; round trips need them.
    from qc.readers import read_inputs
    from qc.readers.options import ReadOptions

    HAVE_READERS = True
except ImportError:  # pragma: no cover - only while qc.readers is incomplete
    HAVE_READERS = False

needs_readers = pytest.mark.skipif(not HAVE_READERS, reason="qc.readers.read_inputs is not importable yet")


@pytest.fixture(scope="module")
def big_day():
    """A large labelled day: enough conversations for the behaviour mix to show."""
    return generate_labelled_day(DAY, 3000, seed=11)


@pytest.fixture(scope="module")
def small_day() -> list[Conversation]:
    return generate_day(DAY, 40, seed=5)


# --------------------------------------------------------------------------- determinism


def test_same_seed_same_day():
    assert generate_day(DAY, 50, seed=3) == generate_day(DAY, 50, seed=3)


def test_different_seed_different_day():
    a = generate_day(DAY, 50, seed=3)
    b = generate_day(DAY, 50, seed=4)
    assert [m.text for c in a for m in c.messages] != [m.text for c in b for m in c.messages]


def test_stream_equals_list():
    assert list(iter_conversations(DAY, 9, 30)) == generate_day(DAY, 30, seed=9)


@pytest.mark.parametrize("n", [1, 7, 1000, 12345])
def test_message_budget_is_exact(n):
    convs = list(iter_conversations(DAY, 1, n_messages=n))
    assert sum(len(c.messages) for c in convs) == n


def test_exactly_one_count_required():
    with pytest.raises(ValueError):
        list(iter_conversations(DAY, 1))
    with pytest.raises(ValueError):
        list(iter_conversations(DAY, 1, 5, n_messages=5))


def test_unknown_category_rejected():
    with pytest.raises(ValueError, match="unknown categories"):
        generate_day(DAY, 3, seed=1, categories=["weapons"])


# --------------------------------------------------------------------------- structure


def test_every_conversation_opens_with_buyer_system_or_auto_reply(big_day):
    for item in big_day:
        first = item.conversation.messages[0]
        assert first.role is Role.CUSTOMER or first.role is Role.SYSTEM or first.auto_reply, (
            item.conversation.id
        )


def test_lengths_indices_and_ids(big_day):
    ids = [i.conversation.id for i in big_day]
    assert len(set(ids)) == len(ids)
    lengths = [len(i.conversation.messages) for i in big_day]
    assert min(lengths) >= 3 and max(lengths) <= 30
    assert len(set(lengths)) > 10  # a spread, not one template length
    for item in big_day:
        assert [m.index for m in item.conversation.messages] == list(range(len(item.conversation.messages)))


def test_timestamps_aware_shanghai_increasing_and_in_start_order(big_day):
    starts = []
    for item in big_day:
        times = [m.sent_at for m in item.conversation.messages]
        assert all(t.utcoffset() == timedelta(hours=8) for t in times)
        assert all(a < b for a, b in zip(times, times[1:], strict=False)), item.conversation.id
        assert times[0].date() == DAY
        starts.append(times[0])
    assert starts == sorted(starts)


def test_agents_are_subaccount_nicks(big_day):
    nicks = set(agent_nicks())
    for item in big_day:
        for m in item.conversation.messages:
            if m.role is Role.AGENT:
                assert m.sender in nicks
                assert m.sender.startswith(DEFAULT_SHOP + ":")
            elif m.role is Role.CUSTOMER:
                assert ":" not in m.sender and "：" not in m.sender
    seen = Counter(a for i in big_day for a in i.conversation.agents)
    assert set(seen) == nicks


def test_custom_agents_and_shop():
    convs = generate_day(DAY, 30, seed=2, agents=["阿花", "别的店:老王"], shop="测试小铺")
    senders = {m.sender for c in convs for m in c.messages if m.role is Role.AGENT}
    assert senders <= {"测试小铺:阿花", "别的店:老王"}
    assert all(c.shop == "测试小铺" for c in convs)


def test_timing_is_realistic(big_day):
    delays = []
    for item in big_day:
        msgs = item.conversation.messages
        for prev, m in zip(msgs, msgs[1:], strict=False):
            if m.role is Role.AGENT and not m.auto_reply and prev.role is Role.CUSTOMER:
                delays.append((m.sent_at - prev.sent_at).total_seconds())
    delays.sort()
    median = delays[len(delays) // 2]
    assert 5 <= median <= 40
    slow = sum(d >= 60 for d in delays) / len(delays)
    assert 0.02 < slow < 0.2
    assert max(delays) <= 300


def test_auto_replies_come_within_a_second(big_day):
    n = 0
    for item in big_day:
        msgs = item.conversation.messages
        for prev, m in zip(msgs, msgs[1:], strict=False):
            if m.auto_reply:
                n += 1
                assert m.role is Role.AGENT
                assert (m.sent_at - prev.sent_at).total_seconds() <= 1
    assert n > 0.3 * len(big_day)


def test_events_appear(big_day):
    tags = Counter(t for i in big_day for t in i.tags)
    for tag in (
        "auto_reply",
        "slow_reply",
        "unanswered_end",
        "angry_buyer",
        "handover_transfer",
        "silent_transfer",
        "pii",
        "crosses_midnight",
    ):
        assert tags[tag] > 0, tag
    consecutive = sum(
        any(
            a.role is Role.CUSTOMER and b.role is Role.CUSTOMER
            for a, b in zip(i.conversation.messages, i.conversation.messages[1:], strict=False)
        )
        for i in big_day
    )
    assert consecutive > 0.1 * len(big_day)


def test_transfers_change_agent_and_leave_a_system_notice(big_day):
    transfers = [i for i in big_day if {"handover_transfer", "silent_transfer"} & i.tags]
    assert transfers
    for item in transfers:
        conv = item.conversation
        if len(conv.agents) < 2:  # the budget may end a conversation right at the notice
            continue
        assert any(m.role is Role.SYSTEM and "转接" in m.text for m in conv.messages)
        notice = next(m.index for m in conv.messages if m.role is Role.SYSTEM and "转接" in m.text)
        before = conv.messages[notice - 1]
        if "silent_transfer" in item.tags:
            assert not (before.role is Role.AGENT and "转" in before.text)
        else:
            assert before.role is Role.AGENT and "转" in before.text


def test_unanswered_end_tag_matches_last_message(big_day):
    for item in big_day:
        last = item.conversation.messages[-1]
        assert ("unanswered_end" in item.tags) == (last.role is Role.CUSTOMER), item.conversation.id


def test_contact_data_is_clearly_fake(big_day):
    phones = re.compile(r"1[3-9]\d{9}")
    found = 0
    for item in big_day:
        for m in item.conversation.messages:
            for phone in phones.findall(m.text):
                # Order numbers are 19 digits; phones stand alone.
                if re.search(rf"(?<!\d){phone}(?!\d)", m.text):
                    found += 1
                    assert phone.startswith("1380000"), phone
    assert found > 0


def test_midnight_crossers_end_next_day(big_day):
    crossers = [i for i in big_day if "crosses_midnight" in i.tags]
    assert crossers
    for item in crossers:
        assert item.conversation.messages[-1].sent_at.date() == DAY + timedelta(days=1)


# --------------------------------------------------------------------------- behaviour mix and labels


def test_default_mix_roughly_appears(big_day):
    counts = Counter(i.behaviour for i in big_day)
    weights = dict(zip(BEHAVIOURS, Mix().weights(), strict=True))
    for behaviour, weight in weights.items():
        share = counts[behaviour] / len(big_day)
        assert abs(share - weight) < 0.03, (behaviour, share, weight)


def test_labels_match_behaviour(big_day):
    for item in big_day:
        labels = Counter(item.labels.values())
        if item.behaviour in ("polite", "angry_calm"):
            assert set(labels) <= {"ok"}, item.conversation.id
        elif item.behaviour == "impatient":
            assert 1 <= labels["impatience"] <= 2 and labels["conflict"] == 0
        else:
            assert labels["conflict"] == 1


def test_labels_only_on_typed_agent_messages(big_day):
    for item in big_day:
        msgs = item.conversation.messages
        typed = {m.index for m in msgs if m.counts_as_agent}
        assert set(item.labels) == typed


def test_labels_live_outside_the_messages(small_day):
    record = small_day[0].messages[0].to_json()
    assert "label" not in record and "expected" not in record


def test_polite_replies_carry_the_hard_negatives(big_day):
    ok_texts = [
        i.conversation.messages[k].text for i in big_day for k, lab in i.labels.items() if lab == "ok"
    ]
    for cue in ("不好意思", "不会", "哦", "呢", "亲", "不客气"):
        assert any(cue in t for t in ok_texts), cue
    assert "嗯" in ok_texts  # a lone 嗯 acknowledging data or thanks is fine


def test_curt_and_conflict_wording(big_day):
    bad = Counter(
        i.conversation.messages[k].text for i in big_day for k, lab in i.labels.items() if lab != "ok"
    )
    assert {"没有", "哦", "不知道", "自己看详情页"} & set(bad)
    conflict = {
        i.conversation.messages[k].text for i in big_day for k, lab in i.labels.items() if lab == "conflict"
    }
    assert {"爱买不买", "那您去投诉吧"} & conflict


@pytest.mark.parametrize(
    ("mix", "expected"),
    [
        (Mix(polite=1, angry_calm=0, impatient=0, conflict=0), {"polite"}),
        (Mix(polite=0, angry_calm=0, impatient=1, conflict=0), {"impatient"}),
        (Mix(polite=0, angry_calm=0, impatient=0, conflict=1), {"conflict"}),
    ],
    ids=["all-polite", "all-impatient", "all-conflict"],
)
def test_mix_is_configurable(mix, expected):
    items = generate_labelled_day(DAY, 60, seed=8, mix=mix)
    assert {i.behaviour for i in items} == expected


def test_bad_mix_rejected():
    with pytest.raises(ValueError):
        generate_day(DAY, 2, seed=1, mix=Mix(polite=0, angry_calm=0, impatient=0, conflict=0))


def test_categories_and_scenarios_vary(big_day):
    assert len({i.category for i in big_day}) >= 8
    assert len({i.scenario for i in big_day}) >= 6
    limited = generate_labelled_day(DAY, 20, seed=1, categories=["pets"])
    assert {i.category for i in limited} == {"pets"}


# --------------------------------------------------------------------------- writers


@pytest.mark.parametrize("fmt", sorted(exporters.FORMATS))
def test_writers_are_deterministic(fmt, small_day, tmp_path):
    a, b = tmp_path / f"a.{fmt}", tmp_path / f"b.{fmt}"
    n = exporters.write(fmt, small_day, a)
    exporters.write(fmt, small_day, b)
    assert n == sum(len(c.messages) for c in small_day)
    assert a.read_bytes() == b.read_bytes()


def test_unknown_format(tmp_path, small_day):
    with pytest.raises(ValueError, match="unknown format"):
        exporters.write("docx", small_day, tmp_path / "x")


def test_jsonl_message_keys(small_day, tmp_path):
    path = tmp_path / "m.jsonl"
    exporters.write_jsonl_messages(small_day, path, interleave=True)
    recs = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert {"conversation_id", "role", "sender", "timestamp", "text", "shop", "auto_reply"} <= set(recs[0])
    assert all(("agent_id" in r) == (r["role"] == "agent") for r in recs)
    stamps = [r["timestamp"] for r in recs]
    assert stamps == sorted(stamps)  # interleaved by time (same offset, so text order is time order)


def test_csv_is_gb18030_with_chinese_headers(small_day, tmp_path):
    path = tmp_path / "x.csv"
    exporters.write_csv(small_day, path)
    raw = path.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    rows = list(csv.reader(io.StringIO(raw.decode("gb18030"), newline="")))
    assert tuple(rows[0]) == exporters.CSV_HEADERS
    assert {r[1] for r in rows[1:]} <= {"买家", "客服", "系统"}
    assert b"\r\n" in raw


def test_xlsx_has_pinned_stamps(small_day, tmp_path):
    path = tmp_path / "x.xlsx"
    exporters.write_xlsx(small_day, path)
    with zipfile.ZipFile(path) as z:
        assert {i.date_time for i in z.infolist()} == {(2026, 1, 1, 0, 0, 0)}
        core = z.read("docProps/core.xml").decode()
    assert "2026-01-01T00:00:00Z" in core
    from openpyxl import load_workbook

    ws = load_workbook(path, read_only=True).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == exporters.XLSX_HEADERS
    assert len(rows) == 1 + sum(len(c.messages) for c in small_day)


def test_text_exports_shapes(small_day, tmp_path):
    lines_path, blocks_path = tmp_path / "qianniu_2026-11-24.txt", tmp_path / "b.txt"
    exporters.write_text_lines(small_day, lines_path)
    exporters.write_text_blocks(small_day, blocks_path)
    text = lines_path.read_text(encoding="utf-8")
    assert text.count("===== 会话 ") == len(small_day)
    body = [ln for ln in text.splitlines() if ln and not ln.startswith("=====")]
    who = rf"(买家|客服|系统|{re.escape(DEFAULT_SHOP)}:[^(]+)"
    assert all(re.match(who + r"\(\d{2}:\d{2}:\d{2}\): .+$", ln) for ln in body)
    # agent replies carry the sub-account nick, so they can be attributed
    assert any(ln.startswith(DEFAULT_SHOP + ":") for ln in body)
    blocks = blocks_path.read_text(encoding="utf-8").splitlines()
    headers = [ln for ln in blocks if re.match(r"^\S+ \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$", ln)]
    assert len(headers) == sum(len(c.messages) for c in small_day)
    assert any(ln.startswith(DEFAULT_SHOP + ":") for ln in headers)
    assert exporters.AUTO_REPLY_MARK in text


def test_cli_writes_a_generated_day(tmp_path, capsys):
    out = tmp_path / "day.jsonl"
    assert main(["--out", str(out), "--format", "jsonl", "--messages", "250", "--seed", "3"]) == 0
    assert len(out.read_text(encoding="utf-8").splitlines()) == 250
    assert "250 messages" in capsys.readouterr().out


# --------------------------------------------------------------------------- round trips through the readers


def _comparable(conv: Conversation, fmt: str) -> list[tuple]:
    """What a format keeps of each message (time-only text lines carry no sender nick)."""
    out = []
    for m in conv.messages:
        text = m.text
        if fmt.startswith("text-") and m.auto_reply:
            # The reader may keep the export's auto-reply mark as part of the text.
            text = text.removeprefix(exporters.AUTO_REPLY_MARK)
        if fmt == "text-lines":
            out.append((m.role, text, m.sent_at, m.auto_reply))
        elif fmt == "text-blocks":
            # The nick 系统 is a role word there, so system notices have no sender.
            out.append((m.role, text, m.sent_at, m.auto_reply, None if m.role is Role.SYSTEM else m.sender))
        else:
            out.append((m.role, text, m.sent_at, m.auto_reply, m.sender))
    return out


@needs_readers
@pytest.mark.parametrize("fmt", sorted(exporters.FORMATS))
def test_writer_round_trips_through_readers(fmt, tmp_path):
    # Text exports mark auto-replies with exporters.AUTO_REPLY_MARK; the reader turns it back
    # into auto_reply=True with the mark removed.
    convs = [c for c in generate_day(DAY, 25, seed=21) if c.messages[-1].sent_at.date() == DAY]
    suffix = {"jsonl": "jsonl", "jsonl-conversations": "jsonl", "csv": "csv", "xlsx": "xlsx"}.get(fmt, "txt")
    path = tmp_path / f"export_{DAY.isoformat()}.{suffix}"
    exporters.write(fmt, convs, path)
    result = read_inputs([path], ReadOptions())
    assert result.rejected == 0, [r.reason for r in result.rejects][:3]
    assert result.read == result.accepted == sum(len(c.messages) for c in convs)
    got = {c.id: c for c in result.conversations}
    assert set(got) == {c.id for c in convs}
    for conv in convs:
        assert _comparable(got[conv.id], fmt) == _comparable(conv, fmt), conv.id
        if fmt != "text-lines":  # role words only: no agent nick to recover
            assert got[conv.id].agents == conv.agents


# --------------------------------------------------------------------------- the bundled demo day


def test_demo_files_equal_a_fresh_build(tmp_path):
    build_demo(tmp_path)
    fresh = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    committed = sorted(
        p.relative_to(DEMO) for p in DEMO.rglob("*") if p.is_file() and p.name != "make_demo.py"
    )
    assert fresh == committed, "demo/ differs from a fresh build: run python demo/make_demo.py"
    for rel in fresh:
        assert (tmp_path / rel).read_bytes() == (DEMO / rel).read_bytes(), (
            f"{rel} was edited by hand or is stale"
        )


def test_demo_covers_every_format_and_stays_small():
    assert {fmt for _, fmt, _ in DEMO_FILES} == set(exporters.FORMATS)
    size = sum(p.stat().st_size for p in DEMO.rglob("*") if p.is_file())
    assert size < 2_000_000


def test_demo_expected_labels_cover_every_conversation():
    recs = [json.loads(line) for line in (DEMO / "expected.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(recs) == 300
    behaviours = Counter(r["behaviour"] for r in recs)
    assert behaviours["polite"] > behaviours["impatient"] > behaviours["conflict"] > 0
    assert any("crosses_midnight" in r["tags"] for r in recs)
    files = {r["file"] for r in recs}
    assert files == {name for name, _, _ in DEMO_FILES}
    qianniu = [r for r in recs if r["file"].startswith("qianniu_")]
    assert not any("crosses_midnight" in r["tags"] for r in qianniu)


@needs_readers
def test_demo_day_reads_with_exactly_the_planted_rejects():
    result = read_inputs([DEMO / "day"], ReadOptions())
    assert not result.failed_files, [f.error for f in result.failed_files]
    assert result.read == result.accepted + result.rejected
    readme = (DEMO / "README.md").read_text(encoding="utf-8")
    planted = re.findall(r"^\| `day/([^`]+)` \| (?:line|row|lines) (\d+)", readme, re.M)
    assert len(planted) == 7
    got = sorted((Path(r.file).name, r.line) for r in result.rejects)
    assert got == sorted((f, int(n)) for f, n in planted)
    assert len(result.conversations) == 300
