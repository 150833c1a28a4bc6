"""The HTML coaching report: escaping, highlights, suggestions, decisions and --mask-pii."""

from __future__ import annotations

import re

import pytest
from review_day import ADDRESS, DAY, ORDER, PHONE, inspect_day, phrase_ids

from qc.scoring.card import load_scorecard
from qc.store.database import open_store
from qc.supervise.report import load_reply_patterns, write_report
from qc.supervise.review import decide
from qc.text.pii import Masker


@pytest.fixture()
def store(tmp_path):
    report = inspect_day(tmp_path)
    store = open_store(tmp_path / "qc.sqlite")
    yield store, phrase_ids(report), tmp_path
    store.close()


def _html(store, tmp_path, **kw):
    out = tmp_path / "r.html"
    write_report(store, out, DAY, DAY, load_scorecard(), **kw)
    return out.read_text(encoding="utf-8")


def test_chat_text_is_escaped_and_no_script_or_external_asset_is_emitted(store):
    store, _, tmp = store
    html = _html(store, tmp)
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;有赠品吗" in html
    assert "<script" not in html.lower()
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", html)
    assert "<style>" in html and html.count("<svg") == 3  # daily trend, points by kind, weekly trend


def test_flagged_messages_are_highlighted_with_a_better_way_to_say_it(store):
    store, ids, tmp = store
    html = _html(store, tmp)
    patterns = load_reply_patterns()
    assert '<mark class="k-conflict" title="forbidden_phrase">爱买不买</mark>' in html
    assert '<mark class="k-impatience" title="forbidden_phrase">没有</mark>' in html
    for entry in ("FP-0014", "FP-0005"):
        assert patterns.entries[entry].better[0] in html
    assert ids["cA"] in html and ids["cB"] in html
    # worst first: the −5 conversation comes before the −1 one
    assert html.index('id="conv-cA"') < html.index('id="conv-cB"')
    assert 'id="conv-cC"' not in html


def test_a_rejected_finding_leaves_the_report(store):
    store, ids, tmp = store
    decide(store, ids["cA"], "reject", by="qa", note="joke")
    html = _html(store, tmp)
    assert 'id="conv-cA"' not in html and 'id="conv-cB"' in html
    kinds_chart = html.split('id="chart-kinds"')[1].split("</svg>")[0]
    assert ">不够耐心 impatience<" in kinds_chart and "conflict<" not in kinds_chart
    assert "(1 条已驳回)" in html
    # cA's 阿杰 was rejected, cB's 小美 was not: 小美's report counts none
    assert "(0 条已驳回)" in _html(store, tmp, agent="测试店:小美")


@pytest.mark.parametrize("masked", [False, True], ids=["plain", "mask-pii"])
def test_mask_pii_hides_phone_order_and_address(store, masked):
    store, _, tmp = store
    html = _html(store, tmp, mask=Masker(masked))
    for secret in (PHONE, ORDER, ADDRESS):
        assert (secret in html) is not masked
    assert ("[电话]" in html) is masked


def test_score_trend_draws_one_line_per_agent_over_the_days(tmp_path):
    from review_day import CONVERSATIONS

    next_day = [
        {
            **c,
            "conversation_id": c["conversation_id"] + "-2",
            "messages": [
                {**m, "timestamp": m["timestamp"].replace(DAY, "2026-11-25")} for m in c["messages"]
            ],
        }
        for c in CONVERSATIONS
    ]
    inspect_day(tmp_path, conversations=[*CONVERSATIONS, *next_day])
    store = open_store(tmp_path / "qc.sqlite")
    try:
        data = write_report(store, tmp_path / "r.html", DAY, "2026-11-26", load_scorecard())
    finally:
        store.close()
    assert set(data.scores) == {"测试店:阿杰", "测试店:小美"}
    assert all(set(days) == {DAY, "2026-11-25"} for days in data.scores.values())
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    trend = html.split('id="chart-trend"')[1].split("</svg>")[0]
    assert trend.count("<polyline") == 2 and trend.count("<circle") == 4
    assert data.by_kind["与买家冲突 conflict"] == -10 and data.by_kind["不够耐心 impatience"] == -2


def test_the_weekly_trend_pools_each_iso_week_and_the_per_agent_table_has_a_row_per_week(tmp_path):
    from review_day import CONVERSATIONS

    later = "2026-12-01"  # the Tuesday of the next ISO week (2026-W49)
    next_week = [
        {
            **c,
            "conversation_id": c["conversation_id"] + "-w49",
            "messages": [{**m, "timestamp": m["timestamp"].replace(DAY, later)} for m in c["messages"]],
        }
        for c in CONVERSATIONS
    ]
    inspect_day(tmp_path, conversations=[*CONVERSATIONS, *next_week])
    store = open_store(tmp_path / "qc.sqlite")
    try:
        data = write_report(store, tmp_path / "r.html", DAY, later, load_scorecard())
    finally:
        store.close()
    assert data.weeks == ["2026-W48", "2026-W49"]
    assert {(r["agent"], r["date"]) for r in data.weekly_rows} == {
        (a, w) for a in ("测试店:阿杰", "测试店:小美") for w in data.weeks
    }
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    weekly = html.split('id="chart-weekly"')[1].split("</svg>")[0]
    assert weekly.count("<polyline") == 2 and ">W48<" in weekly and ">W49<" in weekly
    table = html.split('id="agents-weekly"')[1].split("</table>")[0]
    assert table.count("2026-W48") == 2 and table.count("2026-W49") == 2


def test_the_trend_legend_names_agents_as_the_tables_do_and_holds_every_one():
    """Two shops' 客服小美 both read 某某官方旗舰店:客服小美 (the last 12 characters), entries past
    the 14th fell outside the chart, twenty agents shared eight colours, and the shop's
    unassigned had a trend line (audit 80 #3, #8)."""
    from qc.supervise.report import _line_chart

    days = [DAY, "2026-11-25"]
    series = {f"杭州某某官方旗舰店:客服{i:02d}": {DAY: 90.0 - i, "2026-11-25": 80.0} for i in range(18)}
    series |= {"杭州某某官方旗舰店:客服小美": {DAY: 70.0}, "苏州某某官方旗舰店:客服小美": {DAY: 60.0}}
    series["杭州某某官方旗舰店:unassigned"] = {DAY: 40.0}
    svg = _line_chart(series, days, "trend")
    height = int(re.search(r'height="(\d+)"', svg).group(1))
    legend = re.findall(
        r'<text x="[\d.]+" y="(\d+)" font-size="11"><title>([^<]+)</title>([^<]+)</text>', svg
    )
    assert len(legend) == 20 and all(int(y) < height for y, _, _ in legend)
    labels = [label for _, _, label in legend]
    assert len(set(labels)) == 20 and "unassigned" not in svg
    assert {"杭州某某官方旗舰店:客服小美", "苏州某某官方旗舰店:客服小美", "客服07"} <= set(labels)
    styles = re.findall(
        r'<polyline fill="none" stroke="(#\w+)" stroke-width="2"( stroke-dasharray="[^"]+")?', svg
    )
    assert len(styles) == 18 and len(set(styles)) == 18  # the two one-day agents have a dot, no line


def test_the_kinds_suggestions_fit_any_finding_of_the_kind():
    """A kind's suggestion goes under every finding of it that has no entry of its own: the one for
    conflict spoke of the price and a coupon under 说了多少遍了，单号…你自己查 (audit 80 #12)."""
    patterns = load_reply_patterns()
    for kind in ("conflict", "impatience"):
        for better in patterns.kinds[kind].better:
            assert not any(topic in better for topic in ("价格", "优惠券", "这款", "物流", "同系列")), better


def test_a_shops_unanswered_buyers_are_listed_apart_from_the_agents(tmp_path):
    """店:unassigned had a row in the 考核表 people paste into the scorecard, a total score of 40 and
    a reply-rate deduction, as if it were an agent (audit 80 #3)."""
    from review_day import CONVERSATIONS, msg

    alone = {
        "conversation_id": "cU",
        "shop": "测试店",
        "messages": [msg("customer", "buyer9", "16:00:00", "在吗")],
    }
    inspect_day(tmp_path, conversations=[*CONVERSATIONS, alone])
    with open_store(tmp_path / "qc.sqlite") as store:
        data = write_report(store, tmp_path / "r.html", DAY, DAY, load_scorecard())
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    agents = html.split('id="agents-period"')[1].split("</table>")[0]
    assert "unassigned" not in agents and "阿杰" in agents
    nobody = html.split('id="agents-period-unanswered"')[1].split("</table>")[0]
    assert "<td>测试店</td><td>2026-11-24</td><td>1</td>" in nobody
    assert set(data.scores) == {"测试店:阿杰", "测试店:小美"}
    # Asked for as an agent, it said "nothing stored" though the store holds it (audit 86 L5).
    from typer.testing import CliRunner

    from qc.cli import app

    args = [
        "report",
        "--agent",
        "测试店:unassigned",
        "--from",
        DAY,
        "--to",
        DAY,
        "--out",
        str(tmp_path / "u.html"),
    ]
    res = CliRunner().invoke(app, [*args, "--db", str(tmp_path / "qc.sqlite")])
    assert (
        res.exit_code == 2
        and "the shop's unanswered buyers" in res.stderr
        and "qc flagged --agent" in res.stderr
    )


def test_a_conversation_id_made_of_the_buyers_phone_is_masked_in_report_show_and_flagged(tmp_path):
    """Some exports make the conversation id from the buyer's phone: the workbench masked it,
    the report (masked by default), `qc show --mask-pii` and `qc flagged --mask-pii` printed it
    (audit 89 #1)."""
    from review_day import CONVERSATIONS
    from typer.testing import CliRunner

    from qc.cli import app

    phone_id = "13912345678"
    chat = {**CONVERSATIONS[0], "conversation_id": phone_id}
    inspect_day(tmp_path, conversations=[chat])
    with open_store(tmp_path / "qc.sqlite") as store:
        html = _html(store, tmp_path, mask=Masker(True))
        assert phone_id not in html and "[电话]" in html
        assert phone_id in _html(store, tmp_path, mask=Masker(False))  # --show-pii
    db = ["--db", str(tmp_path / "qc.sqlite")]
    runner = CliRunner()
    shown = runner.invoke(app, ["show", phone_id, "--mask-pii", "--no-mood", *db])
    assert shown.exit_code == 0 and phone_id not in shown.stdout
    assert shown.stdout.startswith("conversation [电话]")
    listed = runner.invoke(app, ["flagged", "--mask-pii", "--format", "json", *db])
    assert listed.exit_code == 0 and phone_id not in listed.stdout and "[电话]" in listed.stdout
    assert phone_id in runner.invoke(app, ["flagged", "--format", "json", *db]).stdout


def test_a_buyer_nicknamed_like_the_charged_words_leaves_the_evidence_readable(tmp_path):
    """A buyer nicknamed 爱买不买 turned the agent's charged 爱买不买 into 「[买家]」 in the masked
    report and `qc show --mask-pii`: nothing showed what cost 5 points (audit 89 #2). Another
    nick written in a message is still masked."""
    from review_day import SHOP, msg
    from typer.testing import CliRunner

    from qc.cli import app

    said = [
        msg("customer", "爱买不买", "10:00:00", "能便宜点吗"),
        msg("agent", f"{SHOP}:阿杰", "10:00:30", "爱买不买"),
        msg("customer", "木子晴天666", "10:01:00", f"我是木子晴天666，电话{PHONE}"),
    ]
    inspect_day(tmp_path, conversations=[{"conversation_id": "n1", "shop": SHOP, "messages": said}])
    with open_store(tmp_path / "qc.sqlite") as store:
        html = _html(store, tmp_path, mask=Masker(True))
    marked = re.findall(r"<mark[^>]*>([^<]*)</mark>", html)
    assert "爱买不买" in marked and "[买家]" not in marked
    assert "木子晴天666" not in html and PHONE not in html
    shown = CliRunner().invoke(
        app, ["show", "n1", "--mask-pii", "--no-mood", "--db", str(tmp_path / "qc.sqlite")]
    )
    assert shown.exit_code == 0 and "爱买不买" in shown.stdout and "木子晴天666" not in shown.stdout


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("max_conversations = 60", "max_conversation = 5"), "[report]: unknown key 'max_conversation'"),
        (
            ("max_conversations = 60", "max_conversations = -5"),
            "max_conversations: must be a whole number of 1",
        ),
        (("max_conversations = 60", 'max_conversations = "sixty"'), "must be a whole number of 1 or more"),
        (("context_messages = 3", "context_messages = 2.9"), "context_messages: must be a whole number of 0"),
        (("[report]", "[report"), "not valid TOML"),
        (
            ("[kinds.impatience]", "[kinds.impatience]\nwhy_not = 1"),
            "kinds.impatience: unknown key 'why_not'",
        ),
        (('version = "', 'versoin = "'), "the top level: unknown key 'versoin'"),
    ],
    ids=["typo", "negative", "text", "fraction", "syntax", "pattern-typo", "top-typo"],
)
def test_a_bad_reply_patterns_file_names_the_file_and_key(tmp_path, edit, message):
    """A typo was ignored and the code's 60 used, -5 listed all but five conversations, and a wrong
    type or a syntax error was an internal error, exit 70 (audit 104 H4, M3)."""
    from qc.errors import ConfigError
    from qc.paths import lexicons_dir

    bundled = (lexicons_dir() / "reply_patterns.toml").read_text(encoding="utf-8")
    assert edit[0] in bundled
    path = tmp_path / "reply_patterns.toml"
    path.write_text(bundled.replace(edit[0], edit[1], 1), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_reply_patterns(path)
    assert message in str(info.value) and str(path) in str(info.value)
    assert info.value.exit_code == 2
    # saved with a BOM, as Notepad does, the bundled file reads
    path.write_bytes(b"\xef\xbb\xbf" + bundled.encode("utf-8"))
    assert load_reply_patterns(path).max_conversations == load_reply_patterns().max_conversations


def test_each_finding_gives_its_reason_in_chinese_with_the_rules_words_folded_away(store):
    store, ids, tmp = store
    html = _html(store, tmp)
    block = html.split(f"<code>{ids['cA']}</code>")[1].split("</div>")[0]
    # the coaching report is read by the agent: the reason in Chinese, the state too
    assert block.startswith("<br>禁用语 FP-0014「爱买不买」：计为「与买家冲突」")
    assert "<details><summary>原文 detail</summary>" in block and "is FP-0014" in block
    assert "复核: 未复核 pending" in html.split(f"<code>{ids['cA']}</code>")[0][-200:]
