"""`qc inspect --lexicon / --strict / --user-dict / --model`: a shop's own files, checked before any work."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from test_cli_inspect import jsonl, runner

from qc.attitude.model import default_model_dir
from qc.cli import app

ROOT = Path(__file__).resolve().parents[1]
DAY = [
    {"conversation_id": "c1", "role": "买家", "sender": "tb_橙子", "timestamp": "2026-11-24 10:00:00",
     "text": "这个能便宜点吗"},
    {"conversation_id": "c1", "role": "客服", "sender": "店:小王", "timestamp": "2026-11-24 10:00:10",
     "text": "不能便宜"},
    {"conversation_id": "c1", "role": "买家", "sender": "tb_橙子", "timestamp": "2026-11-24 10:00:20",
     "text": "那送个小礼物吧"},
    {"conversation_id": "c1", "role": "客服", "sender": "店:小王", "timestamp": "2026-11-24 10:00:30",
     "text": "这个要看运气咯"},
]  # fmt: skip


@pytest.fixture()
def day(tmp_path: Path) -> Path:
    path = tmp_path / "day.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in DAY), encoding="utf-8")
    return path


def _inspect(day: Path, out: Path, *extra: str):  # noqa: ANN202 - click Result
    return runner.invoke(app, ["inspect", str(day), "--out", str(out), "--quiet", *extra])


def _phrases(out: Path) -> set[tuple[str, int, bool]]:
    return {
        (f["entry"], f["message_index"], f["suppressed"])
        for f in jsonl(out / "findings.jsonl")
        if f["kind"] == "forbidden_phrase"
    }


def test_a_shops_lexicon_is_used_and_its_version_recorded(day: Path, tmp_path: Path) -> None:
    lexicon = tmp_path / "shop.toml"
    text = (ROOT / "lexicons" / "forbidden.toml").read_text(encoding="utf-8")
    lexicon.write_text(
        re.sub(r'^version = ".*"$', 'version = "shop-7"', text, count=1, flags=re.M)
        + '\n[[entry]]\nid = "FP-0901"\ntitle = "leaving it to luck"\nphrases = ["看运气"]\n'
        'implies = "impatience"\nexamples.hit = [{ text = "这个要看运气咯", context = ["送个礼物吧"] }]\n'
        'examples.miss = [{ text = "亲，我们有抽奖活动哦", context = ["送个礼物吧"] }]\n',
        encoding="utf-8",
    )
    default, shop = tmp_path / "default", tmp_path / "shop"
    assert _inspect(day, default).exit_code == 0
    res = _inspect(day, shop, "--lexicon", str(lexicon))
    assert res.exit_code == 0, res.stderr
    assert ("FP-0901", 3, False) in _phrases(shop) and ("FP-0901", 3, False) not in _phrases(default)
    run = json.loads((shop / "run.json").read_text(encoding="utf-8"))
    assert run["lexicon_version"].startswith("shop-7")


@pytest.mark.parametrize("kind", ["lexicon", "interrupted"])
def test_qcs_errors_with_their_own_arguments_cross_from_a_worker_whole(kind: str) -> None:
    """A worker's error reaches the main process pickled; an unpicklable one killed the pool's thread."""
    import pickle

    from qc.errors import Interrupted
    from qc.rules.lexicon import LexiconProblem

    error = (
        LexiconProblem("bad.toml", ["FP-0001 line 3: no phrases"])
        if kind == "lexicon"
        else Interrupted(15, "stopped")
    )
    back = pickle.loads(pickle.dumps(error))
    assert (type(back), str(back), back.exit_code) == (type(error), str(error), error.exit_code)
    assert vars(back) == vars(error)


def test_a_bad_lexicon_stops_the_run_before_any_output(day: Path, tmp_path: Path) -> None:
    lexicon = tmp_path / "bad.toml"
    lexicon.write_text('version = "x"\n[[entry]]\nid = "FP-0001"\n', encoding="utf-8")
    for jobs in ("1", "2"):
        out = tmp_path / f"out{jobs}"
        res = _inspect(day, out, "--lexicon", str(lexicon), "--jobs", jobs)
        assert res.exit_code == 2
        assert "bad.toml" in res.stderr
        assert not (out / "findings.jsonl").exists()


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_strict_shops_charge_an_unexplained_refusal(day: Path, tmp_path: Path, jobs: str) -> None:
    plain, strict = tmp_path / "plain", tmp_path / "strict"
    assert _inspect(day, plain, "--jobs", jobs).exit_code == 0
    assert _inspect(day, strict, "--strict", "--jobs", jobs).exit_code == 0
    assert ("FP-0017", 1, False) in _phrases(strict)
    assert not any(entry == "FP-0017" and not suppressed for entry, _, suppressed in _phrases(plain))
    runs = [json.loads((out / "run.json").read_text(encoding="utf-8")) for out in (plain, strict)]
    assert [r["lexicon_strict"] for r in runs] == [False, True]


def test_a_user_dictionary_changes_no_finding(day: Path, tmp_path: Path) -> None:
    words = tmp_path / "products.txt"
    words.write_text("小礼物 10 n\n看运气 10 n\n", encoding="utf-8")
    plain, shop = tmp_path / "plain", tmp_path / "shop"
    assert _inspect(day, plain).exit_code == 0
    assert _inspect(day, shop, "--user-dict", str(words)).exit_code == 0
    assert (shop / "findings.jsonl").read_bytes() == (plain / "findings.jsonl").read_bytes()


def test_a_missing_user_dictionary_is_a_usage_error(day: Path, tmp_path: Path) -> None:
    res = _inspect(day, tmp_path / "out", "--user-dict", str(tmp_path / "nope.txt"))
    assert res.exit_code == 2 and "nope.txt" in res.stderr


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_tampered_model_is_refused_before_any_output(day: Path, tmp_path: Path, jobs: str) -> None:
    model = tmp_path / "model"
    shutil.copytree(default_model_dir(), model)
    blob = bytearray((model / "weights.npy").read_bytes())
    blob[-100] ^= 0xFF
    (model / "weights.npy").write_bytes(bytes(blob))
    out = tmp_path / "out"
    res = _inspect(day, out, "--model", str(model), "--jobs", jobs)
    assert res.exit_code == 2
    assert "model" in res.stderr and "SHA-256" in res.stderr
    assert not (out / "findings.jsonl").exists()


def test_a_copied_model_gives_the_bundled_findings(day: Path, tmp_path: Path) -> None:
    model = tmp_path / "model"
    shutil.copytree(default_model_dir(), model)
    bundled, copied = tmp_path / "bundled", tmp_path / "copied"
    assert _inspect(day, bundled).exit_code == 0
    assert _inspect(day, copied, "--model", str(model)).exit_code == 0
    assert (copied / "findings.jsonl").read_bytes() == (bundled / "findings.jsonl").read_bytes()


def _one_chat(tmp_path: Path, rows: list[tuple[str, str, str, str]], card: str) -> tuple[Path, Path]:
    """A day file of one conversation (role, sender, time, text rows) and a shop card of ``card``."""
    day, shop = tmp_path / "day.jsonl", tmp_path / "shop.toml"
    day.write_text(
        "".join(
            json.dumps({"conversation_id": "C1", "role": r, "sender": w, "timestamp": t, "text": x}) + "\n"
            for r, w, t, x in rows
        ),
        encoding="utf-8",
    )
    shop.write_text(card, encoding="utf-8")
    return day, shop


def test_a_cards_service_hours_time_an_overnight_question_from_opening(tmp_path: Path) -> None:
    """Asked at 02:00, answered at 09:00:05 with the shop opening at 09:00: a 5 s reply, not 7 h."""
    day, shop = _one_chat(
        tmp_path,
        [
            ("买家", "tb_阿梨", "2026-11-24 02:00:00", "在吗，这个还有货吗"),
            ("客服", "店:小满", "2026-11-24 09:00:05", "亲，有货的哦"),
        ],
        '[day]\nservice_hours = ["09:00-23:00"]\n',
    )
    db = tmp_path / "qc.sqlite"
    res = _inspect(day, tmp_path / "open", "--scorecard", str(shop), "--db", str(db))
    assert res.exit_code == 0, res.stderr
    (row,) = json.loads((tmp_path / "open" / "agents.json").read_text(encoding="utf-8"))
    assert (row["avg_response_s"], row["first_response_s"]) == (5.0, 5.0)
    assert not [f for f in jsonl(tmp_path / "open" / "findings.jsonl") if f["kind"] == "slow_response"]
    res = _inspect(day, tmp_path / "all_day")
    (row,) = json.loads((tmp_path / "all_day" / "agents.json").read_text(encoding="utf-8"))
    assert row["avg_response_s"] == 25205.0
    # the stored day was timed within the hours: a card timing all day may not score it
    res = runner.invoke(
        app, ["export", "--date", "2026-11-24", "--out", str(tmp_path / "x"), "--db", str(db)]
    )
    assert res.exit_code == 2 and "replies timed within 09:00-23:00" in res.stderr


def test_a_cards_closing_words_spare_a_buyer_who_only_says_thanks(tmp_path: Path) -> None:
    """The shop's notice answered with 好的谢谢: no buyer left waiting, so no missed reply."""
    day, shop = _one_chat(
        tmp_path,
        [
            ("客服", "店:小满", "2026-11-24 10:00:00", "亲，您的订单已发货"),
            ("买家", "tb_阿梨", "2026-11-24 10:05:00", "好的谢谢"),
        ],
        '[day]\nclosing_words = ["好的", "谢谢"]\n',
    )
    for out, extra in (("plain", ()), ("closing", ("--scorecard", str(shop)))):
        res = _inspect(day, tmp_path / out, *extra)
        assert res.exit_code == 0, res.stderr
    missed = [f for f in jsonl(tmp_path / "plain" / "findings.jsonl") if f["kind"] == "missed_reply"]
    assert len(missed) == 1
    assert not [f for f in jsonl(tmp_path / "closing" / "findings.jsonl") if f["kind"] == "missed_reply"]
    (row,) = json.loads((tmp_path / "closing" / "agents.json").read_text(encoding="utf-8"))
    assert (row["buyers_received"], row["reply_rate"]) == (0, None)


def test_run_json_records_the_settings_that_change_scores(day: Path, tmp_path: Path, monkeypatch) -> None:
    """--timezone UTC moved the demo day's response-time points from -86 to -203 under the same
    scorecard hash, and a limits file or user dictionary left no trace (audit 104 M7)."""
    words = tmp_path / "words.txt"
    words.write_text("小礼物 10 n\n", encoding="utf-8")
    limits = tmp_path / "limits.toml"
    limits.write_text("[input]\nmax_message_chars = 800\n", encoding="utf-8")
    monkeypatch.setenv("QC_LIMITS", str(limits))
    res = _inspect(day, tmp_path / "o", "--timezone", "UTC", "--user-dict", str(words))
    assert res.exit_code == 0, res.output
    settings = json.loads((tmp_path / "o" / "run.json").read_text(encoding="utf-8"))["settings"]
    assert settings["timezone"] == "UTC"
    assert (settings["limits"]["source"], settings["limits"]["max_message_chars"]) == (
        f"{limits} (QC_LIMITS)",
        800,
    )
    import hashlib

    assert settings["user_dict"] == {
        "path": str(words),
        "sha256": hashlib.sha256(words.read_bytes()).hexdigest(),
    }
    monkeypatch.delenv("QC_LIMITS")
    assert _inspect(day, tmp_path / "p").exit_code == 0
    settings = json.loads((tmp_path / "p" / "run.json").read_text(encoding="utf-8"))["settings"]
    assert settings["timezone"] == "Asia/Shanghai" and "user_dict" not in settings
    assert settings["limits"]["source"] == "qc/defaults/limits.toml"


def test_a_card_whose_verdicts_leave_out_what_the_lexicon_implies_is_warned(
    day: Path, tmp_path: Path
) -> None:
    """verdict_order = ["impatience"] stopped 爱买不买 counting as conflict, unsaid (audit 104 M2)."""
    card = tmp_path / "card.toml"
    card.write_text('[findings]\nverdict_order = ["impatience"]\n', encoding="utf-8")
    res = _inspect(day, tmp_path / "o", "--scorecard", str(card))
    assert res.exit_code == 0, res.output
    said = "the lexicon's entries imply conflict, which the scorecard's findings.verdict_order (impatience)"
    assert said in res.stderr
    run = json.loads((tmp_path / "o" / "run.json").read_text(encoding="utf-8"))
    assert [w for w in run["config_warnings"] if said in w]
    assert _inspect(day, tmp_path / "p").exit_code == 0
    assert json.loads((tmp_path / "p" / "run.json").read_text(encoding="utf-8"))["config_warnings"] == []
