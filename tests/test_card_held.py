"""A finding the shop's card holds back is shown held (待复核) on every surface, as the scores count it.

A card that sets ``review_only = ["impatience", "conflict"]`` turns the classifier into a review
queue, and a ``min_score`` above a finding's score holds it too. The agents' scores always
counted such findings under 待复核; the conversation summaries, ``qc flagged``, ``qc show``,
the review queue and the workbench showed them as charged findings at 0 points, and the queue
left them out of its held section, so a shop's review queue never had them.
"""

from __future__ import annotations

import json

from review_day import DAY, inspect_day, write_day
from typer.testing import CliRunner

from qc.cli import app
from qc.schema import Evidence, Finding
from qc.scoring.card import load_scorecard, mark_held, parse_scorecard, qualifies
from qc.scoring.scores import KIND_LABELS
from qc.store.database import open_store
from qc.supervise.explain import why_zh
from qc.supervise.queue import HELD, build_queue

runner = (
    CliRunner(mix_stderr=False) if "mix_stderr" in CliRunner.__init__.__code__.co_varnames else CliRunner()
)
# The phrases held back; 阿杰's 90 s reply in cA charged on a one-day sample, so cA is flagged.
REVIEW_PHRASES = '[findings]\nreview_only = ["forbidden_phrase"]\n[items.average_response]\nmin_sample = 1\n'


def _attitude(score: float, summary: str = "不够耐心（扣分）：回复3–6个字") -> Finding:
    ev = Evidence(rule="attitude_classifier.v1", summary=summary, cues=("回复3–6个字",))
    return Finding(conversation_id="c", message_index=1, kind="impatience", score=score, evidence=ev)


def _card(toml: str):  # noqa: ANN202
    import tomllib

    return parse_scorecard(tomllib.loads(toml), "shop.toml")


def test_mark_held_turns_what_the_card_holds_into_held_findings_and_leaves_the_rest():
    sure, unsure = _attitude(0.9), _attitude(0.4)
    by_score = mark_held([sure, unsure], _card("[findings]\nmin_score = { impatience = 0.6 }\n"))
    assert by_score[0] == sure  # it qualifies: untouched
    held = by_score[1]
    assert held.needs_review and not held.live and held.id == unsure.id
    assert held.evidence.summary == "不够耐心（待复核）：回复3–6个字"
    assert held.evidence.cues == ("held by the scorecard: score 0.4 under min_score 0.6", "回复3–6个字")
    (by_kind,) = mark_held([sure], _card('[findings]\nreview_only = ["impatience"]\n'))
    assert by_kind.needs_review and by_kind.evidence.cues[0] == "held by the scorecard: review_only"
    # what the model held or a context vetoed is not the card's doing: left as it is
    model_held = Finding(
        conversation_id="c",
        message_index=2,
        kind="impatience",
        score=0.9,
        evidence=sure.evidence,
        needs_review=True,
    )
    assert mark_held([model_held], _card('[findings]\nreview_only = ["impatience"]\n')) == [model_held]
    assert mark_held([sure], _card("[findings]\nreview_only = []\n")) == [sure]
    # the default card holds the classifier's verdicts (audit 164 H3)
    assert mark_held([sure], load_scorecard())[0].needs_review


def test_marking_changes_no_score():
    card = _card("[findings]\nmin_score = { impatience = 0.6 }\n")
    findings = [_attitude(0.9), _attitude(0.4)]
    assert [qualifies(f, card) for f in mark_held(findings, card)] == [qualifies(f, card) for f in findings]


def test_the_workbench_says_why_the_card_holds_it_in_chinese():
    (held,) = mark_held([_attitude(0.9)], _card('[findings]\nreview_only = ["impatience"]\n'))
    why = why_zh(held, {}, KIND_LABELS)
    assert why.startswith("不够耐心（待复核）：回复3–6个字")
    assert "只进复核队列" in why and "review_only" in why
    ev = Evidence(rule="forbidden_phrase.v1", summary="x", pattern="FP-0001", details={"implies": "conflict"})
    phrase = Finding(conversation_id="c", message_index=1, kind="forbidden_phrase", score=0.5, evidence=ev)
    (low,) = mark_held([phrase], _card("[findings]\nmin_score = { forbidden_phrase = 0.8 }\n"))
    assert "置信度 0.5 低于评分卡的扣分线 0.8（min_score）" in why_zh(low, {}, KIND_LABELS)


def run(*args):
    return runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "200"})


def test_every_surface_shows_the_held_phrases_held(tmp_path):
    report = inspect_day(tmp_path)
    phrases = {f.id: f.conversation_id for f in report.findings if f.kind == "forbidden_phrase" and f.live}
    assert len(phrases) == 2  # cA's 爱买不买 and cB's 没有
    card_file = tmp_path / "shop.toml"
    card_file.write_text(REVIEW_PHRASES, encoding="utf-8")
    db = ["--db", tmp_path / "qc.sqlite", "--scorecard", card_file]

    # the review queue serves them first, as findings held for review
    with open_store(tmp_path / "qc.sqlite") as store:
        queue = build_queue(store, load_scorecard(card_file), DAY, DAY, per_agent=0)
    assert {i.finding_id for i in queue if i.section == HELD} == set(phrases)

    r = run("flagged", "--format", "json", *db)
    assert r.exit_code == 0, r.stderr
    rows = json.loads(r.stdout)
    assert [row["conversation_id"] for row in rows] == ["cA"]
    assert rows[0]["kinds"] == {"slow_response": 1}
    assert not set(phrases) & {fid for row in rows for fid in row["finding_ids"]}
    assert rows[0]["held"] == {"forbidden_phrase": 1}  # cA's 爱买不买 waits beside its slow reply
    # --held lists where the held findings wait, cB's too, though it costs nothing (audit 167 L3)
    r = run("flagged", "--held", "--format", "json", *db)
    held = {row["conversation_id"]: row for row in json.loads(r.stdout)}
    assert sorted(held) == ["cA", "cB"] and held["cB"]["points"] == 0
    assert {fid for row in held.values() for fid in row["held_ids"]} == set(phrases)
    assert held["cB"]["agents"] == ["测试店:小美"] and held["cB"]["excerpt"] == "没有"
    r = run("flagged", "--held", "--kind", "forbidden_phrase", *db)
    assert r.exit_code == 0 and "cB" in r.stdout and "forbidden_phrase×1" in r.stdout
    assert "2 conversations with findings held for review" in r.stdout.replace("\n", "")
    # --kind names the kind held: cA is charged with slow replies, it holds no slow reply (F8)
    r = run("flagged", "--held", "--kind", "slow_response", *db)
    assert (
        r.exit_code == 0 and r.stdout == "" and "no conversations with findings held for review" in r.stderr
    )

    r = run("show", "cA", "--explain", "--no-mood", *db)
    assert r.exit_code == 0, r.stderr
    line = next(x for x in r.stdout.splitlines() if "forbidden_phrase" in x)
    assert "held for review (待复核)" in line and " charged " not in line
    shown = r.stdout.replace("\n", "")  # rich wraps
    # the reason in Chinese, the rule's own words after it with --explain
    assert "评分卡设定此类只进复核队列，确认前不扣分（review_only）" in shown
    assert "原文 detail: 「" in shown and "held by the scorecard" not in shown
    # without --explain too: a held finding waits for a reviewer (the default card holds the
    # classifier's every verdict: they were hidden, audit 164 H3)
    r = run("show", "cA", "--no-mood", *db)
    line = next(x for x in r.stdout.splitlines() if "forbidden_phrase" in x)
    assert "held for review (待复核)" in line and "review not yet" in line


def test_the_conversation_lines_count_them_as_the_agents_scores_do(tmp_path):
    card_file = tmp_path / "shop.toml"
    card_file.write_text(REVIEW_PHRASES, encoding="utf-8")
    day = write_day(tmp_path / "in")
    for card in ([], ["--scorecard", card_file]):
        out = tmp_path / ("held" if card else "seed")
        r = run("inspect", day, "--out", out, *card)
        assert r.exit_code == 0, r.stderr
        lines = [
            json.loads(x) for x in (out / "conversations.jsonl").read_text(encoding="utf-8").splitlines()
        ]
        agents = json.loads((out / "agents.json").read_text(encoding="utf-8"))
        assert sum(x["needs_review"] for x in lines) == sum(a["needs_review"] for a in agents)
        phrases = sum(x["findings"].get("forbidden_phrase", 0) for x in lines)
        assert phrases == (0 if card else 2)
