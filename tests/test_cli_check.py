"""`qc check` and `qc lexicon check` through the CLI, and the findings.jsonl record shape."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
from cards import CHARGING
from typer.testing import CliRunner

from qc.cli import app
from qc.rules.lexicon import default_lexicon_path

ROOT = Path(__file__).resolve().parents[1]

runner = (
    CliRunner(mix_stderr=False) if "mix_stderr" in CliRunner.__init__.__code__.co_varnames else CliRunner()
)


# `qc check` with the card that charges the classifier's verdicts (the default holds them): the
# tests of check against inspect compare what each charges.
CHECK = ["check", "--scorecard", str(CHARGING)]


def _lines(out: str) -> list[dict]:
    # One JSON document per line; a text may hold U+2028, which splitlines() would break on.
    return [json.loads(line) for line in out.split("\n") if line.strip()]


def test_check_bare_reply_to_question_is_live():
    res = runner.invoke(app, ["check", "哦", "--context", "能今天发货吗"])
    assert res.exit_code == 0, res.stderr
    (doc,) = _lines(res.stdout)
    assert doc["live"] == 1 and doc["verdict"] == "impatience"
    (f,) = [f for f in doc["findings"] if f["kind"] == "forbidden_phrase"]
    assert (f["entry"], f["start"], f["end"], f["text"], f["implies"]) == (
        "FP-0001",
        0,
        1,
        "哦",
        "impatience",
    )
    assert doc["lexicon"].startswith("2026.")


def test_check_holds_what_the_shops_card_holds(tmp_path):
    """A kind the card only reviews, or a score under its min_score, is held as a day's scoring holds it."""
    args = ["check", "嫌贵就别买", "--context", "能便宜点吗"]
    (plain,) = _lines(runner.invoke(app, args).stdout)
    assert (plain["verdict"], plain["held"]) == ("ok", True)  # the default card holds the classifier's
    (charged,) = _lines(runner.invoke(app, [*args, "--scorecard", str(CHARGING)]).stdout)
    assert (charged["verdict"], charged["held"]) == ("conflict", False)
    for name, text in (
        ("review.toml", '[findings]\nreview_only = ["impatience", "conflict"]\n'),
        ("sure.toml", "[findings.min_score]\nconflict = 0.9999\nimpatience = 0.9999\n"),
    ):
        card = tmp_path / name
        card.write_text(text, encoding="utf-8")
        (doc,) = _lines(runner.invoke(app, [*args, "--scorecard", str(card)]).stdout)
        assert (doc["verdict"], doc["held"]) == ("ok", True), name
        (f,) = [f for f in doc["findings"] if f["kind"] == "conflict"]
        assert f["needs_review"] and "（待复核）" in f["summary"] and "扣分" not in f["summary"], name


def test_a_kind_the_card_charges_outside_its_verdict_order_is_the_checks_verdict(tmp_path):
    """With verdict_order = ["conflict"] the day's scoring charges impatience on its own; check
    said ok and --fail-on-hit passed the draft (audit 84 M2)."""
    card = tmp_path / "card.toml"
    card.write_text('[findings]\nverdict_order = ["conflict"]\nreview_only = []\n', encoding="utf-8")
    res = runner.invoke(
        app, ["check", "等着吧", "-c", "怎么还没发货", "--scorecard", str(card), "--fail-on-hit"]
    )
    (doc,) = _lines(res.stdout)
    assert (doc["verdict"], res.exit_code) == ("impatience", 3)
    rows = [("买家", "10:00:00", "怎么还没发货"), ("客服", "10:00:20", "等着吧")]
    _inspect_rows(tmp_path, rows, "--scorecard", str(card))
    out = tmp_path / "o"
    (row,) = list(csv.DictReader((out / "agents.csv").read_text(encoding="utf-8-sig").splitlines()[1:]))
    assert float(row["service_attitude_points"]) < 0


def _inspect_rows(tmp_path, rows, *options: str) -> list[dict]:
    """Inspect one conversation of ``(role word, clock, text)`` rows (with ``options``); its findings.

    Without a --scorecard, with the card that charges the classifier's verdicts, as :data:`CHECK` checks.
    """
    if "--scorecard" not in options:
        options = (*options, "--scorecard", str(CHARGING))
    day = tmp_path / "day.jsonl"
    day.write_text(
        "".join(
            json.dumps(
                {
                    "conversation_id": "A1",
                    "role": r,
                    "sender": "店:小王" if r == "客服" else "tb_x",
                    "timestamp": f"2026-11-24 {t}",
                    "text": x,
                },
                ensure_ascii=False,
            )
            + "\n"
            for r, t, x in rows
        ),
        encoding="utf-8",
    )
    assert (
        runner.invoke(app, ["inspect", str(day), "--out", str(tmp_path / "o"), "-q", *options]).exit_code == 0
    )
    return [json.loads(line) for line in (tmp_path / "o" / "findings.jsonl").read_text().splitlines()]


def test_check_then_reads_a_reply_in_bubbles_as_inspect_does(tmp_path):
    """等着吧 alone is curt; followed at once by 我这就帮您催一下仓库 it is one calm reply."""
    buyer, reply, more = "什么时候发货", "等着吧", "亲，我这就帮您催一下仓库，今天一定发出"
    (alone,) = _lines(runner.invoke(app, [*CHECK, reply, "--context", buyer]).stdout)
    (whole,) = _lines(runner.invoke(app, [*CHECK, reply, "--context", buyer, "--then", more]).stdout)
    assert (alone["verdict"], whole["verdict"]) == ("impatience", "ok")
    assert whole["text"] == reply  # the bubble checked is TEXT, not the one after it
    rows = [("买家", "10:00:00", buyer), ("客服", "10:00:05", reply), ("客服", "10:00:08", more)]
    findings = _inspect_rows(tmp_path, rows)
    day = tmp_path / "day.jsonl"
    assert not [
        f for f in findings if f["message_index"] == 1 and not f["suppressed"] and not f["needs_review"]
    ]
    res = runner.invoke(app, [*CHECK, "--file", str(day), "--then", more])
    assert res.exit_code == 2 and "--context and --then go with TEXT" in res.stderr


def test_check_reads_auto_reply_marks_as_inspect_does(tmp_path):
    """A pasted 千牛 line keeps its [自动回复] mark: inspect judges no auto-reply and reads past one
    in the context; check charged the marked reply and let the auto-reply answer for the agent."""
    (marked,) = _lines(
        runner.invoke(app, [*CHECK, "[自动回复]我不知道", "--context", "这个是纯棉的吗"]).stdout
    )
    (plain,) = _lines(runner.invoke(app, [*CHECK, "我不知道", "--context", "这个是纯棉的吗"]).stdout)
    assert plain["verdict"] != "ok" and not plain["auto_reply"]
    assert (marked["verdict"], marked["auto_reply"], marked["findings"]) == ("ok", True, [])
    buyer, auto, reply = "怎么还没发货", "[自动回复]亲，欢迎光临，客服马上为您服务", "等着吧"
    drafts = tmp_path / "drafts.jsonl"
    line = {"text": reply, "context": [buyer, {"role": "agent", "text": auto}]}
    drafts.write_text(json.dumps(line, ensure_ascii=False) + "\n", encoding="utf-8")
    (checked,) = _lines(runner.invoke(app, [*CHECK, "--file", str(drafts)]).stdout)
    found = _inspect_rows(
        tmp_path, [("买家", "10:00:00", buyer), ("客服", "10:00:01", auto), ("客服", "10:00:30", reply)]
    )
    charged = {
        f["kind"] for f in found if f["message_index"] == 2 and not f["suppressed"] and not f["needs_review"]
    }
    assert checked["verdict"] in charged and checked["verdict"] != "ok"


@pytest.mark.parametrize(
    "args",
    [["check", ""], ["check", "  "], ["check", "哦", "--context", ""], ["check", "好的", "--then", " "]],
    ids=["empty", "blank", "empty-context", "blank-then"],
)
def test_an_empty_message_is_no_message_to_judge(args):
    """inspect rejects an empty message; check said ok, and an empty buyer turn turned a bare 哦
    from impatience to ok."""
    res = runner.invoke(app, args)
    assert res.exit_code == 2 and "is empty" in res.stderr and "give the message's words" in res.stderr


def test_check_friendly_particle_is_clean_and_explain_shows_vetoes():
    res = runner.invoke(app, ["check", "我不清楚呢，马上帮您问一下仓库", "-c", "哪里发货"])
    assert res.exit_code == 0
    (doc,) = _lines(res.stdout)
    assert doc["live"] == 0 and doc["verdict"] == "ok" and doc["suppressed"] == 1
    assert [f for f in doc["findings"] if f["kind"] == "forbidden_phrase"] == []
    res = runner.invoke(app, ["check", "我不清楚呢，马上帮您问一下仓库", "-c", "哪里发货", "--explain"])
    (doc,) = _lines(res.stdout)
    (f,) = [f for f in doc["findings"] if f["kind"] == "forbidden_phrase"]
    assert f["suppressed"] and "help offer" in f["cue"]


def test_check_strict_and_fail_on_hit_exit_codes():
    res = runner.invoke(app, ["check", "不能再便宜了哦", "--fail-on-hit"])
    assert res.exit_code == 0
    res = runner.invoke(app, ["check", "不能再便宜了哦", "--strict", "--fail-on-hit"])
    assert res.exit_code == 3
    (doc,) = _lines(res.stdout)
    assert doc["strict"] is True and doc["findings"][0]["entry"] == "FP-0017"


def test_check_table_format_for_people():
    res = runner.invoke(app, ["check", "您自己选吧", "-c", "哪个好", "--format", "table"])
    assert res.exit_code == 0
    assert "FP-0010" in res.stdout and "LIVE" in res.stdout


def test_a_dash_reads_the_message_or_the_file_from_standard_input():
    """qc check - judged the text "-", and --file - could not be read (audit 84 L8)."""
    (one,) = _lines(runner.invoke(app, ["check", "-", "-c", "能今天发货吗"], input="哦\n".encode()).stdout)
    assert (one["text"], one["verdict"]) == ("哦", "impatience")
    res = runner.invoke(app, ["check", "--file", "-"], input="哦\n好的亲\n".encode("gbk"))
    assert res.exit_code == 0 and [d["text"] for d in _lines(res.stdout)] == ["哦", "好的亲"]


def test_check_file_plain_lines_and_jsonl(tmp_path):
    f = tmp_path / "drafts.txt"
    f.write_text(
        "亲，有现货的哦\n"
        '{"text": "没有", "context": ["有赠品吗"]}\n'
        "\n"
        '{"text": "嗯", "context": [{"role": "customer", "text": "好的谢谢"}]}\n',
        encoding="utf-8",
    )
    res = runner.invoke(app, ["check", "--file", str(f)])
    assert res.exit_code == 0, res.stderr
    docs = _lines(res.stdout)
    assert [d["live"] for d in docs] == [0, 1, 0]


@pytest.mark.parametrize(
    "args",
    [
        pytest.param([], id="neither-text-nor-file"),
        pytest.param(["哦", "--file", "x.txt"], id="both-text-and-file"),
        pytest.param(["哦", "--format", "xml"], id="bad-format"),
        pytest.param(["--file", "does-not-exist.jsonl"], id="missing-file"),
        pytest.param(["哦", "--lexicon", "does-not-exist.toml"], id="missing-lexicon"),
        pytest.param(["哦", "--lexicon", "lexicons"], id="lexicon-folder"),
        pytest.param(["哦", "--model", "README.md"], id="model-file"),
    ],
)
def test_check_usage_errors_exit_2(args, monkeypatch):
    monkeypatch.chdir(ROOT)
    res = runner.invoke(app, ["check", *args])
    assert res.exit_code == 2
    assert res.stdout == ""


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["lexicon", "check", "lexicons"], "lexicons: a folder or special file, not a lexicon file"),
        (["check", "哦", "--model", "README.md"], "README.md is a file; --model takes the model folder"),
        (
            ["inspect", "demo/day", "--out", "{tmp}/o", "--user-dict", "lexicons"],
            "--user-dict lexicons: a folder, not a file",
        ),
    ],
    ids=["lexicon-folder", "model-file", "user-dict-folder"],
)
def test_a_folder_for_a_file_or_a_file_for_a_folder_is_named_as_such(tmp_path, monkeypatch, args, says):
    monkeypatch.chdir(ROOT)
    res = runner.invoke(app, [a.replace("{tmp}", str(tmp_path)) for a in args])
    assert res.exit_code == 2
    assert says in res.stderr


def test_check_file_bad_lines_are_named_and_the_good_ones_still_judged(tmp_path):
    f = tmp_path / "bad.jsonl"
    f.write_text(
        '{"text": "嗯"}\n{"context": []}\n亲，在的\n{"text": "好\\ud800的"}\n'
        '{"text": "好的", "context": [{"role": "alien13912345678", "text": "在吗"}]}\n{"text": "好",\n'
        '{"text": "好的", "context": ["在吗", {"role": "agent", "text": "在的"}]}\n',
        encoding="utf-8",
    )
    res = runner.invoke(app, ["check", "--file", str(f), "--fail-on-hit"])
    assert res.exit_code == 2  # bad lines outrank hits: the lint did not see every reply
    assert [(d["line"], d["text"]) for d in _lines(res.stdout)] == [(1, "嗯"), (3, "亲，在的"), (7, "好的")]
    problems = res.stderr.splitlines()
    assert [p.split(": ")[1] for p in problems] == [f"{f}:{n}" for n in (2, 4, 5, 6)]
    assert 'no "text" string' in problems[0]
    assert "text has a lone surrogate (not encodable text) U+D800 at character 2" in problems[1]
    assert "context[0] has role 'alien[电话]'; use customer or agent" in problems[2]
    assert "not valid JSON" in problems[3]
    assert "Traceback" not in res.output


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["check", "\udcff哦"], "text '\\xff哦'"),
        (["show", "\udcc1\udcc4", "--db", "{tmp}/qc.sqlite"], "conversation-id '\\xc1\\xc4'"),
        (
            ["people", "add", "\udcc1\udcc4", "--role", "reviewer", "--db", "{tmp}/qc.sqlite"],
            "name '\\xc1\\xc4'",
        ),
        (
            ["review", "0123456789abcdef", "--confirm", "--by", "\udcc1", "--db", "{tmp}/qc.sqlite"],
            "by '\\xc1'",
        ),
    ],
    ids=["check", "show", "people-add", "review-by"],
)
def test_an_argument_that_is_not_utf8_is_a_usage_error_naming_it(tmp_path, args, named):
    """Bytes that are not UTF-8 on the command line reach Python as lone surrogates: exit 2, not 70."""
    res = runner.invoke(app, [a.replace("{tmp}", str(tmp_path)) for a in args])
    assert res.exit_code == 2
    assert res.stdout == ""
    assert f"qc: {named} is not UTF-8 text" in res.stderr and "is the terminal set to UTF-8?" in res.stderr
    assert not (tmp_path / "qc.sqlite").exists()  # refused before anything is opened


def test_lexicon_check_bundled_is_valid():
    res = runner.invoke(app, ["lexicon", "check"])
    assert res.exit_code == 0, res.stderr
    assert "valid" in res.stderr and "examples pass" in res.stderr


def _broken_lexicon(tmp_path: Path) -> Path:
    text = default_lexicon_path().read_text(encoding="utf-8")
    # a duplicated id, a phrase in two entries, and a miss example that is in fact a hit
    text += (
        '\n[[entry]]\nid = "FP-0002"\ntitle = "dup id"\nphrases = ["不想卖"]\n'
        'examples.hit = ["不想卖"]\nexamples.miss = ["想卖"]\n'
        '\n[[entry]]\nid = "FP-0099"\ntitle = "phrase twice"\nphrases = ["爱买不买", "懒得说"]\n'
        'examples.hit = ["懒得说"]\nexamples.miss = ["懒得说"]\n'
    )
    path = tmp_path / "broken.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_lexicon_check_broken_file_exit_2_with_entry_and_line(tmp_path):
    path = _broken_lexicon(tmp_path)
    res = runner.invoke(app, ["lexicon", "check", str(path)])
    assert res.exit_code == 2
    assert "duplicate id FP-0002" in res.stderr
    assert "'爱买不买' is also in entry FP-0014" in res.stderr
    assert "line " in res.stderr


def _edited_lexicon(tmp_path, *edits: tuple[str, str]):
    """The bundled lexicon with each ``(old, new)`` edit made once (``*`` before old: everywhere)."""
    text = default_lexicon_path().read_text(encoding="utf-8")
    for old, new in edits:
        every = old.startswith("*")
        old = old.removeprefix("*")
        assert old in text, old
        text = text.replace(old, new, -1 if every else 1)
    path = tmp_path / "edited.toml"
    path.write_text(text, encoding="utf-8")
    return path


_TOP = re.search(r'^version = ".*"$', default_lexicon_path().read_text(encoding="utf-8"), re.M).group(0)


@pytest.mark.parametrize(
    ("edits", "message"),
    [
        pytest.param(
            [(_TOP, _TOP + "\ncontext = 5"), ("[context]", "[context_old]")],
            "context: must be a table",
            id="context",
        ),
        pytest.param(
            [(_TOP, _TOP + '\ncues = "x"'), ("[cues]", "[cues_old]")], "cues: must be a table", id="cues"
        ),
        pytest.param(
            [(_TOP, _TOP + '\nallow = "abc"'), ("*[[allow]]", "[[allow_old]]")],
            "allow: must be [[allow]]",
            id="allow",
        ),
        pytest.param(
            [("examples.hit = [", "examples.hit = 5\nexamples.hit_old = [")],
            "examples.hit: must be a list",
            id="hit",
        ),
        pytest.param(
            [("data_min_digits = 5", "data_min_digits = 4294967296")], "from 1 to 1000", id="huge-number"
        ),
        # audit 84 L4: 0 worked as 1; a missing window took its value from code
        pytest.param(
            [("turn_messages = 3", "turn_messages = 0")],
            "turn_messages must be a whole number from 1",
            id="turn-0",
        ),
        pytest.param(
            [("lookback = 6 ", "# lookback = 6 ")],
            "[context] lookback is missing: give a whole number from 1",
            id="no-lookback",
        ),
        pytest.param(
            [("no_context = ", "no_contxt = ")], "[context]: unknown key 'no_contxt'", id="context-typo"
        ),
        pytest.param(
            [("[[allow]]\n", '[[allow]]\nphrase = ["x"]\n')], "unknown key 'phrase'", id="allow-typo"
        ),
        pytest.param([(_TOP, _TOP + "\n[contxt]\nx = 1")], "top level: unknown key 'contxt'", id="top-typo"),
        pytest.param(
            [('context = ["有现货吗"] }', 'contxt = ["有现货吗"] }')],
            "unknown key 'contxt'",
            id="example-typo",
        ),
        pytest.param(
            [("strict_only = true", 'strict_only = "false"')],
            "strict_only must be true or false (no quotes)",
            id="bool",
        ),
        pytest.param(
            [("max_len = 10", "max_len = true")], "max_len must be a whole number", id="max-len-bool"
        ),
    ],
)
def test_a_lexicon_of_the_wrong_shape_names_the_key_and_exits_2(tmp_path, edits, message):
    """A table written as a value, a misspelt key, "false" for false, a huge number: each was an
    internal error (exit 70) or silently changed what is charged (audit 70)."""
    path = _edited_lexicon(tmp_path, *edits)
    for command in (["lexicon", "check", str(path)], ["check", "哦", "--lexicon", str(path)]):
        res = runner.invoke(app, command)
        assert res.exit_code == 2, (command, res.output)
        assert message in res.stderr and "internal error" not in res.stderr


def test_inspect_warns_when_the_lexicon_given_fails_its_own_examples(tmp_path):
    """A lexicon whose own examples fail (here 爱买不买 mistyped in its entry, so its hit example
    is no hit) was used by qc inspect without a word (audit 84, unverified)."""
    from pathlib import Path

    day = Path(__file__).resolve().parents[1] / "demo" / "day" / "2026-11-24_messages.jsonl"
    broken = _edited_lexicon(tmp_path, ('"爱买不买", "不买拉倒"', '"爱买不卖", "不买拉倒"'))
    res = runner.invoke(
        app, ["inspect", str(day), "--out", str(tmp_path / "o"), "-q", "--lexicon", str(broken)]
    )
    assert res.exit_code == 0 and "of its own examples do not behave as declared" in res.stderr
    # ... and run.json keeps it: the day's record said nothing of it (audit 104 M9)
    run = json.loads((tmp_path / "o" / "run.json").read_text(encoding="utf-8"))
    assert [w for w in run["config_warnings"] if "of its own examples do not behave" in w]
    fine = tmp_path / "fine.toml"
    fine.write_text(default_lexicon_path().read_text(encoding="utf-8"), encoding="utf-8")
    res = runner.invoke(
        app, ["inspect", str(day), "--out", str(tmp_path / "p"), "-q", "--lexicon", str(fine)]
    )
    assert res.exit_code == 0 and "examples do not" not in res.stderr
    assert json.loads((tmp_path / "p" / "run.json").read_text(encoding="utf-8"))["config_warnings"] == []


def test_a_one_entry_lexicon_in_single_brackets_says_to_write_two(tmp_path):
    path = tmp_path / "one.toml"
    path.write_text(
        'version = "2026.12.1"\n[entry]\nid = "FP-0001"\ntitle = "t"\nphrases = ["哦"]\n', encoding="utf-8"
    )
    res = runner.invoke(app, ["lexicon", "check", str(path)])
    assert res.exit_code == 2 and "write [[entry]] (two brackets" in res.stderr


def test_a_duplicate_id_is_reported_at_the_duplicate_even_written_in_single_quotes(tmp_path):
    path = _edited_lexicon(tmp_path, ('id = "FP-0002"', "id = 'FP-0001'"))
    res = runner.invoke(app, ["lexicon", "check", str(path)])
    lines = path.read_text(encoding="utf-8").splitlines()
    second = next(n for n, line in enumerate(lines, start=1) if line == "id = 'FP-0001'")
    assert res.exit_code == 2 and f"entry FP-0001 (line {second}): duplicate id FP-0001" in res.stderr


def test_lexicon_check_failing_example_is_reported(tmp_path):
    text = default_lexicon_path().read_text(encoding="utf-8")
    text = text.replace(
        '{ text = "亲，有现货的哦", context = ["有现货吗"] },', '{ text = "哦", context = ["有现货吗"] },'
    )
    path = tmp_path / "bad-example.toml"
    path.write_text(text, encoding="utf-8")
    res = runner.invoke(app, ["lexicon", "check", str(path)])
    assert res.exit_code == 2
    assert "entry FP-0001 (line" in res.stderr and "miss example '哦' is a live hit" in res.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(b"version = \n", "not valid TOML", id="bad-toml"),
        pytest.param(b'version = "x"\n\xff\xff\xff\n', "re-save the file as UTF-8", id="undecodable"),
        pytest.param(b'[[entry]]\nid = "X1"\n', "id must look like FP-0001", id="bad-id"),
    ],
)
def test_lexicon_check_unreadable_files(tmp_path, content, message):
    path = tmp_path / "x.toml"
    path.write_bytes(content)
    res = runner.invoke(app, ["lexicon", "check", str(path)])
    assert res.exit_code == 2
    assert message in res.stderr


def test_check_with_broken_lexicon_exit_2(tmp_path):
    res = runner.invoke(app, ["check", "哦", "--lexicon", str(_broken_lexicon(tmp_path))])
    assert res.exit_code == 2
    assert "invalid lexicon" in res.stderr


def test_lexicon_show_lists_entries():
    res = runner.invoke(app, ["lexicon", "show"])
    assert res.exit_code == 0
    doc = json.loads(res.stdout)
    ids = [e["id"] for e in doc["entries"]]
    assert "FP-0001" in ids and len(ids) == len(set(ids))


def _tiny_conversation():
    from qc.schema import Conversation, Message, Role

    return Conversation(
        "conv-1",
        (
            Message(0, Role.CUSTOMER, "能今天发货吗", sender="buyer"),
            Message(1, Role.AGENT, "哦", sender="店铺:小美"),
            Message(2, Role.CUSTOMER, "好的谢谢", sender="buyer"),
            Message(3, Role.AGENT, "不客气，我不清楚的地方会帮您问", sender="店铺:小美"),
        ),
    )


REQUIRED_KEYS = {
    "conversation_id",
    "message_index",
    "agent",
    "kind",
    "rule",
    "entry",
    "start",
    "end",
    "text",
    "score",
    "suppressed",
    "cue",
}


def test_findings_records_have_the_issue_keys():
    from qc.outputs.writers import finding_records
    from qc.rules import RuleSettings
    from qc.run.inspector import build_inspector

    inspector = build_inspector(RuleSettings())
    assert "forbidden_phrase.v1" in inspector.describe().rules
    result = inspector.inspect_one(_tiny_conversation())
    records = [r for r in finding_records(result.findings) if r["rule"] == "forbidden_phrase.v1"]
    assert records and all(REQUIRED_KEYS <= set(r) for r in records)
    live = [r for r in records if not r["suppressed"]]
    assert [(r["message_index"], r["entry"], r["agent"], r["start"], r["end"]) for r in live] == [
        (1, "FP-0001", "店铺:小美", 0, 1)
    ]
    assert all(r["kind"] == "forbidden_phrase" for r in records)


def test_run_inspection_writes_findings_jsonl(tmp_path):
    pytest.importorskip("qc.readers.files", reason="readers not merged yet")
    from qc.batch.run import run_inspection
    from qc.rules import RuleSettings
    from qc.run.executors import LocalExecutor
    from qc.run.inspector import build_inspector

    conv = _tiny_conversation()
    src = tmp_path / "day.jsonl"
    src.write_text(
        json.dumps(
            {
                "conversation_id": conv.id,
                "messages": [
                    {"role": m.role.value, "text": m.text, "sender": m.sender} for m in conv.messages
                ],
            },
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    run_inspection([src], out, LocalExecutor(build_inspector(RuleSettings())))
    records = _lines((out / "findings.jsonl").read_text(encoding="utf-8"))
    live = [r for r in records if r["kind"] == "forbidden_phrase" and not r["suppressed"]]
    assert len(live) == 1 and REQUIRED_KEYS <= set(live[0])
    assert (live[0]["conversation_id"], live[0]["message_index"], live[0]["entry"]) == (conv.id, 1, "FP-0001")
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run.get("lexicon_version", "").startswith("2026.")


def _inspect_verdicts(tmp_path, cases: list[tuple[str, list[str]]]) -> list[str]:
    """What `qc inspect` charges the last reply of each case with, read from its findings.jsonl."""
    from qc.readers import ReadOptions, read_inputs
    from qc.schema import Finding
    from qc.scoring.card import load_scorecard, message_verdicts

    day = tmp_path / "check-parity.jsonl"
    lines = []
    for n, (text, context) in enumerate(cases):
        messages = [{"role": "customer", "sender": "tb_buyer", "text": t} for t in context]
        messages.append({"role": "agent", "sender": "店铺:小美", "text": text})
        for i, m in enumerate(messages):
            m["timestamp"] = f"2026-11-24T10:{n % 60:02d}:{i:02d}+08:00"
        lines.append(json.dumps({"conversation_id": f"c{n:03d}", "messages": messages}, ensure_ascii=False))
    day.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    res = runner.invoke(app, ["inspect", str(day), "--out", str(out), "-q"])
    assert res.exit_code == 0, res.stderr
    findings = [Finding.from_json(r) for r in _lines((out / "findings.jsonl").read_text(encoding="utf-8"))]
    conversations = read_inputs([day], ReadOptions()).conversations
    verdicts = {
        (v.conversation_id, v.message_index): v.verdict or "ok"
        for v in message_verdicts(conversations, findings, load_scorecard())
    }
    return [verdicts.get((f"c{n:03d}", len(context)), "ok") for n, (_, context) in enumerate(cases)]


def test_check_gives_the_verdict_qc_inspect_charges(tmp_path):
    from qc.training.samples import load_samples

    samples = load_samples(ROOT / "annotated_samples" / "handwritten.jsonl")
    cases = [("哦", ["能今天发货吗"]), ("亲，有的哦", ["这款有货吗"]), ("那您去投诉吧", ["东西坏了"])]
    # A spread of hand-written samples whose context is buyer turns only (as --context gives).
    cases += [
        (s.text, [t for _, t in s.context])
        for s in samples[::40]
        if all(r == "customer" for r, _ in s.context)
    ]
    expected = _inspect_verdicts(tmp_path, cases)
    checked = []
    for text, context in cases:
        args = ["check", text] + [a for c in context for a in ("--context", c)]
        res = runner.invoke(app, args)
        assert res.exit_code == 0, res.stderr
        (doc,) = _lines(res.stdout)
        checked.append(doc["verdict"])
    assert checked == expected
    assert {"ok", "impatience"} <= set(checked)


@pytest.mark.parametrize(
    ("edit", "says"),
    [
        (lambda m: m.pop("review_floor"), "review_floor must map impatience and conflict"),
        (lambda m: m.update(follow_up_seconds="60s"), "follow_up_seconds must be a number of seconds"),
        (lambda m: m.update(thresholds={"impatience": 0.76}), "thresholds.conflict must be a probability"),
        (lambda m: m.update(labels=["a", "b", "c"]), "labels must be ok, impatience, conflict"),
    ],
    ids=["no-review-floor", "window-text", "no-conflict-threshold", "other-labels"],
)
def test_a_model_whose_meta_json_was_edited_wrong_is_refused_naming_the_key(tmp_path, edit, says):
    """meta.json is the one model file no hash covers: a missing or mistyped setting was an
    internal error (exit 70) in check, evaluate and inspect (audit 70)."""
    import shutil

    from qc.attitude.model import default_model_dir

    model = tmp_path / "model"
    shutil.copytree(default_model_dir(), model)
    meta = json.loads((model / "meta.json").read_text(encoding="utf-8"))
    edit(meta)
    (model / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    res = runner.invoke(app, ["check", "哦", "--context", "能发货吗", "--model", str(model)])
    assert res.exit_code == 2 and says in res.stderr and "meta.json" in res.stderr
    assert "internal error" not in res.stderr


def test_a_platform_bubble_after_a_bare_reply_is_not_the_agent_going_on():
    """`--then "#E-s33"` (an emoticon code alone, the platform's bubble) suppressed the bare 没有 as
    the agent going on in the next message; alone, the code is not judged at all."""
    for then in ("#E-s33", "系统提示：尊敬的客户，客服还没有等到您的回复"):
        (res,) = _lines(runner.invoke(app, ["check", "没有", "--context", "有赠品吗", "--then", then]).stdout)
        live = [f["entry"] for f in res["findings"] if f["entry"] and not f["suppressed"]]
        assert live == ["FP-0005"], res
    (code,) = _lines(runner.invoke(app, ["check", "#E-s33", "--context", "有赠品吗"]).stdout)
    assert (code["verdict"], code["platform_notice"], code["findings"]) == ("ok", True, [])


def _verdict_as_inspected(findings: list[dict], index: int) -> str:
    charged = {
        f["kind"]
        for f in findings
        if f["message_index"] == index and not f["suppressed"] and not f["needs_review"]
    }
    return "conflict" if "conflict" in charged else "impatience" if charged else "ok"


def test_a_file_line_takes_the_agents_next_bubbles_as_then_does(tmp_path):
    """`--file` read only text and context: a "then" key was ignored, so a reply the agent went on
    with was charged where inspect and `qc check --then` read one calm turn (audit 77 B2)."""
    buyer, reply, more = "什么时候发货", "等着吧", "亲，我这就帮您催一下仓库，今天一定发出"
    drafts = tmp_path / "drafts.jsonl"
    lines = [{"text": reply, "context": [buyer], "then": [more]}, {"text": reply, "context": [buyer]}]
    drafts.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8")
    res = runner.invoke(app, [*CHECK, "--file", str(drafts)])
    assert res.exit_code == 0, res.stderr
    (text_mode,) = _lines(runner.invoke(app, [*CHECK, reply, "--context", buyer, "--then", more]).stdout)
    went_on, alone = _lines(res.stdout)
    assert (
        (went_on["verdict"], alone["verdict"]) == (text_mode["verdict"], "impatience") == ("ok", "impatience")
    )
    assert went_on["text"] == reply
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        json.dumps({"text": reply, "then": "不是列表"}, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    res = runner.invoke(app, [*CHECK, "--file", str(bad)])
    assert res.exit_code == 2 and f'{bad}:1: "then" is not a list of texts' in res.stderr


def test_a_line_of_a_file_ends_at_a_newline_and_is_decoded_on_its_own(tmp_path):
    """A U+2028 inside a JSON string split the line in two (a bogus line judged, the rest
    renumbered), and one garbled line stopped the whole file with nothing judged (audit 77 B5, B6)."""
    drafts = tmp_path / "drafts.jsonl"
    first = json.dumps({"text": "这款今天能发货的哦\u2028亲", "context": ["能发货吗"]}, ensure_ascii=False)
    garbled = "好".encode() + b"\xff\xfe" + "的".encode()
    drafts.write_bytes(first.encode() + b"\n" + garbled + b"\n" + "嗯\n".encode())
    res = runner.invoke(app, ["check", "--file", str(drafts)])
    assert res.exit_code == 2
    assert [(d["line"], d["text"]) for d in _lines(res.stdout)] == [
        (1, "这款今天能发货的哦\u2028亲"),
        (3, "嗯"),
    ]
    (problem,) = res.stderr.splitlines()
    assert problem.startswith(f"qc: {drafts}:2: not utf-8 text") and "re-save the file as UTF-8" in problem


def test_context_values_marked_as_auto_replies_or_the_agents_are_not_the_buyers_words(tmp_path):
    """Every --context value was the buyer's: a pasted [自动回复] made one question of two and an
    agent's earlier answer could not be given, so TEXT mode judged what inspect does not (audit 77 B3)."""
    buyer, auto, reply = "这个有黑色的吗", "[自动回复]您好，客服马上就来，请稍等", "在"
    (pasted,) = _lines(runner.invoke(app, ["check", reply, "--context", buyer, "--context", auto]).stdout)
    found = _inspect_rows(
        tmp_path, [("买家", "10:00:00", buyer), ("客服", "10:00:01", auto), ("客服", "10:00:30", reply)]
    )
    assert pasted["verdict"] == _verdict_as_inspected(found, 2) == "impatience"
    rows = [("买家", "10:00:00", "能今天发货吗"), ("客服", "10:00:05", "可以的亲，今天下午发")]
    rows += [("买家", "10:00:20", "好的"), ("客服", "10:00:30", "嗯")]
    args = ["check", "嗯", "-c", "能今天发货吗", "-c", "agent:可以的亲，今天下午发", "-c", "好的"]
    (given,) = _lines(runner.invoke(app, args).stdout)
    (tmp_path / "b").mkdir()
    assert given["verdict"] == _verdict_as_inspected(_inspect_rows(tmp_path / "b", rows), 3) == "ok"
    (buyers,) = _lines(runner.invoke(app, ["check", "嗯", "-c", "buyer:能今天发货吗"]).stdout)
    assert buyers["verdict"] == "impatience"


@pytest.mark.parametrize(
    ("reply", "verdict"), [("等着吧", "impatience"), ("你自己看不懂吗", "conflict")], ids=["curt", "hostile"]
)
def test_an_agent_turn_given_as_context_is_an_earlier_reply_not_the_first_bubble(tmp_path, reply, verdict):
    """With no clock, an agent turn given last in --context was read as the first bubble of the
    checked reply: 等着吧 was ok and 你自己看不懂吗 impatience, where inspect charges impatience
    and conflict when the two are minutes apart (audit 84 M1). --then says a reply goes on."""
    buyer, earlier = "怎么还没发货", "亲，这边马上帮您催一下仓库"
    (checked,) = _lines(runner.invoke(app, [*CHECK, reply, "-c", buyer, "-c", f"agent:{earlier}"]).stdout)
    rows = [("买家", "10:00:00", buyer), ("客服", "10:00:10", earlier), ("客服", "10:05:00", reply)]
    assert checked["verdict"] == _verdict_as_inspected(_inspect_rows(tmp_path, rows), 2) == verdict


def test_a_rude_bubble_after_a_friendly_one_is_judged_by_itself(tmp_path):
    """The whole-turn reading softened every bubble of a turn: a rude bubble 15 s after the
    shop's long friendly greeting was not charged at all, and 290 s after it was −5 (audit 84
    M3). What follows a bubble may soften it (--then); what came before never does."""
    buyer, greeting, reply = (
        "怎么还没发货",
        "您好，欢迎光临小店，双十二预售已开始，领券下单更优惠哦，客服马上为您服务",
        "你自己看不懂吗",
    )
    verdicts = []
    for n, later in enumerate(("10:00:20", "10:05:00")):
        rows = [("买家", "10:00:00", buyer), ("客服", "10:00:05", greeting), ("客服", later, reply)]
        (tmp_path / str(n)).mkdir()
        verdicts.append(_verdict_as_inspected(_inspect_rows(tmp_path / str(n), rows), 2))
    assert verdicts == ["conflict", "conflict"]
    (checked,) = _lines(runner.invoke(app, [*CHECK, reply, "-c", buyer, "-c", f"agent:{greeting}"]).stdout)
    assert checked["verdict"] == "conflict"


def test_a_context_object_marked_auto_reply_is_the_shops_auto_reply(tmp_path):
    """The message format's "auto_reply": true was ignored: the shop's greeting became a typed
    bubble of the agent's, and 你自己看不懂吗 after it was ok (audit 84 M1)."""
    buyer, greeting, reply = "怎么还没发货", "欢迎光临小店，客服马上为您服务", "你自己看不懂吗"
    drafts = tmp_path / "drafts.jsonl"
    context = [buyer, {"role": "agent", "text": greeting, "auto_reply": True}]
    bad = {"text": reply, "context": [buyer, {"role": "customer", "text": greeting, "auto_reply": True}]}
    lines = [{"text": reply, "context": context}, bad]
    drafts.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8")
    res = runner.invoke(app, [*CHECK, "--file", str(drafts)])
    (checked,) = _lines(res.stdout)
    day = tmp_path / "day.jsonl"
    rows = [
        {"conversation_id": "c1", "role": "买家", "timestamp": "2026-11-24 10:00:00", "text": buyer},
        {
            "conversation_id": "c1",
            "role": "客服",
            "timestamp": "2026-11-24 10:00:01",
            "text": greeting,
            "auto_reply": True,
            "sender": "店:小王",
        },
        {
            "conversation_id": "c1",
            "role": "客服",
            "timestamp": "2026-11-24 10:00:20",
            "text": reply,
            "sender": "店:小王",
        },
    ]
    day.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    assert runner.invoke(app, ["inspect", str(day), "--out", str(tmp_path / "out"), "-q"]).exit_code == 0
    found = [
        json.loads(x) for x in (tmp_path / "out" / "findings.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert checked["verdict"] == _verdict_as_inspected(found, 2) == "conflict"
    assert "drafts.jsonl:2: context[1] is the buyer's turn marked auto_reply" in res.stderr


def test_check_says_what_it_judged_a_long_draft_on_and_which_rule_found_what():
    """A draft past max_message_chars was judged on its start with no word of it; findings did not
    name their rule; an empty text was asked whether the terminal spoke UTF-8 (audit 77 B8)."""
    from qc.readers.limits import load_limits

    long = "亲，" + "这款是纯棉的，" * (load_limits().max_message_chars // 7) + "你自己看吧"
    (doc,) = _lines(runner.invoke(app, ["check", long, "--context", "是纯棉的吗"]).stdout)
    (short,) = _lines(runner.invoke(app, ["check", "你自己看吧", "--context", "是纯棉的吗"]).stdout)
    assert doc["clipped"] is True and short["clipped"] is False
    # what was judged is echoed, not the rest of a long paste (audit 156 L3)
    assert doc["text"] == long[: load_limits().max_message_chars] and short["text"] == "你自己看吧"
    assert {f["rule"] for f in short["findings"]} >= {"forbidden_phrase.v1"}
    res = runner.invoke(app, ["check", ""])
    assert res.exit_code == 2 and "UTF-8" not in res.stderr


def test_a_piped_table_folds_the_reason_instead_of_cutting_it():
    """Piped (80 columns), the table cut the reason to 「不够耐心（扣分 …」 (audit 77 B8)."""
    args = ["check", "你自己看吧", "--context", "是纯棉的吗"]
    (doc,) = _lines(runner.invoke(app, args).stdout)
    res = runner.invoke(app, [*args, "--format", "table"])
    assert res.exit_code == 0 and "…" not in res.stdout
    squeezed = "".join(res.stdout.split()).replace("│", "")
    from qc.supervise.explain import cue_zh

    # the lexicon's cue as the workbench words it, in Chinese (audit 156 L1)
    whys = [cue_zh(f["cue"]) if f["entry"] else f["summary"] for f in doc["findings"]]
    assert whys and all("".join(why.split()) in squeezed for why in whys)
    assert "没有主动帮忙" in squeezed and "扣分LIVE" in squeezed


def test_a_file_line_whose_text_is_a_number_is_judged_as_inspect_reads_it(tmp_path):
    drafts = tmp_path / "drafts.jsonl"
    drafts.write_text('{"text": 5, "context": ["几号发货"]}\n{"text": true}\n', encoding="utf-8")
    res = runner.invoke(app, ["check", "--file", str(drafts)])
    assert [(d["line"], d["text"]) for d in _lines(res.stdout)] == [(1, "5")]
    assert res.exit_code == 2 and f'{drafts}:2: no "text" string' in res.stderr


def test_check_with_nothing_to_check_says_what_to_give():
    """`qc check` alone said "give either TEXT or --file FILE (not both)" (audit 93 #6)."""
    res = runner.invoke(app, ["check"])
    assert res.exit_code == 2 and "give the message to check: TEXT, or --file FILE" in res.stderr
    both = runner.invoke(app, ["check", "好的", "--file", "x.txt"])
    assert both.exit_code == 2 and "not both" in both.stderr


def test_a_phrase_or_cue_word_of_one_punctuation_mark_or_spaces_is_refused(tmp_path):
    """ "，" as a phrase charged 1,105 demo messages instead of 40, and " " in help_offer vetoed
    every 我不知道 in a reply with a space (audit 104 H3). A run such as !!!! (FP-0016) and the
    question marks' own list stay valid, and an allow group must list a phrase (L5)."""
    extra = (
        '\n[[entry]]\nid = "FP-0090"\ntitle = "a comma"\nphrases = ["，", "  "]\n'
        'examples.hit = ["好，的"]\nexamples.miss = ["好的"]\n'
        '\n[[allow]]\nreason = "nothing yet"\nphrases = []\n'
    )
    path = _edited_lexicon(tmp_path, ("help_offer = [", 'help_offer = [" ", '), ("ack = [", 'ack = ["👌", '))
    path.write_text(path.read_text(encoding="utf-8") + extra, encoding="utf-8")
    res = runner.invoke(app, ["lexicon", "check", str(path)])
    assert res.exit_code == 2
    assert "phrases '，' is a single punctuation mark or symbol and would match nearly every message" in (
        res.stderr
    )
    assert "phrases '  ' is only spaces" in res.stderr
    assert "[cues]: help_offer ' ' is only spaces" in res.stderr
    assert "list at least one phrase" in res.stderr
    assert "FP-0016" not in res.stderr and "question_marks" not in res.stderr and "👌" not in res.stderr
    res = runner.invoke(app, ["check", "我不知道 亲", "--context", "这个是什么材质", "--lexicon", str(path)])
    assert res.exit_code == 2  # nothing is judged with such a lexicon


def test_a_buyers_emoticon_alone_stays_the_buyers_turn_as_inspect_reads_it(tmp_path: Path) -> None:
    """#E-s33 from the buyer was dropped from the context as a platform notice, so the bare 嗯 after it
    answered the question before it: charged by qc check, ok in qc inspect (audit 156 H2)."""
    said = [("customer", "这个杯子能装开水吗"), ("agent", "亲，可以装的哦"), ("customer", "#E-s33")]
    chat = {
        "conversation_id": "e1",
        "shop": "店",
        "messages": [
            *(
                {
                    "role": r,
                    **({"sender": "店:阿青"} if r == "agent" else {}),
                    "timestamp": f"2026-11-24 10:00:{i}0",
                    "text": x,
                }
                for i, (r, x) in enumerate(said)
            ),
            {"role": "agent", "sender": "店:阿青", "timestamp": "2026-11-24 10:00:40", "text": "嗯"},
        ],
    }
    day = tmp_path / "day.jsonl"
    day.write_text(json.dumps(chat, ensure_ascii=False) + "\n", encoding="utf-8")
    assert runner.invoke(app, ["inspect", str(day), "--out", str(tmp_path / "out"), "-q"]).exit_code == 0
    found = [
        json.loads(x) for x in (tmp_path / "out" / "findings.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert not [f for f in found if f["message_index"] == 3 and not f["suppressed"] and not f["needs_review"]]
    context = ["-c", said[0][1], "-c", f"agent:{said[1][1]}", "-c", said[2][1]]
    res = runner.invoke(app, ["check", "嗯", *context, "--fail-on-hit"])
    assert res.exit_code == 0 and json.loads(res.stdout)["verdict"] == "ok", res.output


def test_a_drafts_file_reads_context_as_the_command_line_does_and_names_a_mistyped_key(
    tmp_path: Path,
) -> None:
    """In --file, "agent:…" was the buyer's words, and a mistyped "contxt" was ignored, the draft
    judged with no context at all (audit 156 M2)."""
    turns = ["能今天发货吗", "agent:亲，今天下午发", "客服：还有别的问题吗"]
    drafts = tmp_path / "d.jsonl"
    drafts.write_text(
        json.dumps({"text": "哦", "context": turns}, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    by_file = runner.invoke(app, ["check", "--file", str(drafts)])
    on_line = runner.invoke(app, ["check", "哦", *(x for t in turns for x in ("-c", t))])
    assert by_file.exit_code == on_line.exit_code == 0
    assert json.loads(by_file.stdout)["findings"] == json.loads(on_line.stdout)["findings"]
    drafts.write_text('{"text": "哦", "contxt": ["能今天发货吗"]}\n', encoding="utf-8")
    res = runner.invoke(app, ["check", "--file", str(drafts)])
    assert res.exit_code == 2 and "unknown key 'contxt': did you mean 'context'?" in res.stderr
    for slip in ("Context", "conetxt", "thn"):  # missed by the 0.9 cut-off (audit 160 M2)
        drafts.write_text(f'{{"text": "哦", "{slip}": ["x"]}}\n', encoding="utf-8")
        res = runner.invoke(app, ["check", "--file", str(drafts)])
        assert res.exit_code == 2 and f"unknown key '{slip}'" in res.stderr
    for slip in ("Text", "TEXT", "txt"):  # the text's own key: only "no text" was said (audit 162 L1)
        drafts.write_text(f'{{"{slip}": "哦"}}\n', encoding="utf-8")
        res = runner.invoke(app, ["check", "--file", str(drafts)])
        assert res.exit_code == 2 and f"unknown key '{slip}': did you mean 'text'?" in res.stderr
    # keys of their own, near as they are, stay readable: content, context_id (audit 158 L1)
    drafts.write_text(
        '{"text": "哦", "content": "x", "context_id": "c1", "context": ["能今天发货吗"]}\n', encoding="utf-8"
    )
    assert runner.invoke(app, ["check", "--file", str(drafts)]).exit_code == 0


def test_a_short_gbk_draft_whose_bytes_are_also_utf8_reads_as_gbk(tmp_path: Path) -> None:
    """哦 in GBK (C5 B6) is Ŷ in UTF-8: the draft was judged as Ŷ, ok (audit 156 M1). Latin text
    with accents stays as written."""
    drafts = tmp_path / "gbk.txt"
    drafts.write_bytes("哦\n".encode("gbk"))
    res = runner.invoke(app, ["check", "--file", str(drafts), "--fail-on-hit"])
    assert json.loads(res.stdout)["text"] == "哦" and res.exit_code == 3
    drafts.write_text("Café naïve\n", encoding="utf-8")
    res = runner.invoke(app, ["check", "--file", str(drafts)])
    assert json.loads(res.stdout)["text"] == "Café naïve"
    for said in ("¥99", "×2", "°"):  # read as GBK mojibake by the first version (audit 158 M2)
        drafts.write_text(said + "\n", encoding="utf-8")
        res = runner.invoke(app, ["check", "--file", str(drafts)])
        assert json.loads(res.stdout)["text"] == said
    for said in ("谢谢", "为什么", "喂"):  # GBK that is also UTF-8 лл, Ϊʲô, ι (audit 160 M1)
        drafts.write_bytes((said + "\n").encode("gbk"))
        res = runner.invoke(app, ["check", "--file", str(drafts)])
        assert json.loads(res.stdout)["text"] == said


def test_a_lexicon_reading_two_bubbles_on_chains_them_as_the_model_does(tmp_path: Path) -> None:
    """With continuation = 2, the lexicon measured the window from the reply and the model bubble to
    bubble: inspect charged 不清楚 whose offer came 90 s on (45 s after the bubble before), qc check
    did not (audit 156 H3)."""
    lexicon = tmp_path / "lex.toml"
    text = default_lexicon_path().read_text(encoding="utf-8")
    assert "continuation = 1" in text
    lexicon.write_text(text.replace("continuation = 1", "continuation = 2", 1), encoding="utf-8")
    said = [
        ("customer", None, "10:00:00", "这个保温杯是哪里产的"),
        ("agent", "店:阿木", "10:00:20", "不清楚"),
        ("agent", "店:阿木", "10:01:05", "产地没写在包装上"),
        ("agent", "店:阿木", "10:01:50", "我帮您问一下厂家哦"),
    ]
    chat = {
        "conversation_id": "w1",
        "shop": "店",
        "messages": [
            {"role": r, **({"sender": s} if s else {}), "timestamp": f"2026-11-24 {t}", "text": x}
            for r, s, t, x in said
        ],
    }
    day = tmp_path / "day.jsonl"
    day.write_text(json.dumps(chat, ensure_ascii=False) + "\n", encoding="utf-8")
    res = runner.invoke(
        app, ["inspect", str(day), "--out", str(tmp_path / "out"), "--lexicon", str(lexicon), "-q"]
    )
    assert res.exit_code == 0, res.output
    found = [
        json.loads(x) for x in (tmp_path / "out" / "findings.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    charged = [f for f in found if f["message_index"] == 1 and not f["suppressed"] and not f["needs_review"]]
    check = runner.invoke(
        app,
        [
            "check",
            "不清楚",
            "-c",
            said[0][3],
            "--then",
            said[2][3],
            "--then",
            said[3][3],
            "--lexicon",
            str(lexicon),
        ],
    )
    assert check.exit_code == 0 and json.loads(check.stdout)["verdict"] == "ok"
    assert charged == []


@pytest.mark.parametrize(
    "written", ["Agent：亲，今天下午发", "客服 ：亲，今天下午发", "AGENT : 亲，今天下午发"]
)
def test_a_context_prefix_is_read_in_any_case_width_and_spacing(written: str) -> None:
    """Agent：… and 客服 ：… were taken as the buyer's words; -c "agent:" said only "context[1] is
    empty" (audit 156 L2)."""
    plain = runner.invoke(
        app, ["check", "哦", "-c", "能今天发货吗", "-c", "agent:亲，今天下午发", "--explain"]
    )
    other = runner.invoke(app, ["check", "哦", "-c", "能今天发货吗", "-c", written, "--explain"])
    assert other.exit_code == plain.exit_code == 0 and other.stdout == plain.stdout
    empty = runner.invoke(app, ["check", "哦", "-c", "能今天发货吗", "-c", "agent:"])
    assert (
        empty.exit_code == 2 and "context[1] is empty (or holds only an agent:/buyer: prefix)" in empty.stderr
    )


@pytest.mark.parametrize(
    ("hit", "said"),
    [
        ('{ txt = "你有完没完" }', "examples.hit[0]: unknown key 'txt'; known: context, strict, text"),
        ("{ text = 3 }", "examples.hit[0]: text must be a string"),
        ('{ context = ["在吗"] }', "examples.hit[0]: an example needs its text = ..."),
    ],
    ids=["key-slip", "text-number", "no-text"],
)
def test_a_malformed_example_names_its_key_and_is_not_also_a_missing_one(tmp_path, hit, said):
    """{ txt = … } got the shape message and "give at least one hit example", the key never named
    (audit 162 L2)."""
    text = (
        'version = "2026.12.1"\n\n[[entry]]\nid = "FP-0001"\ntitle = "t"\nphrases = ["有完没完"]\n'
        f'examples.hit = [{hit}]\nexamples.miss = ["好的"]\n'
    )
    path = tmp_path / "slip.toml"
    path.write_text(text, encoding="utf-8")
    res = runner.invoke(app, ["lexicon", "check", str(path)])
    assert res.exit_code == 2 and said in res.stderr
    assert "give at least one hit example" not in res.stderr


def test_fail_on_hit_fails_a_draft_the_card_holds_for_review():
    """The default card holds the classifier's verdicts: a blatant conflict draft passed the
    pre-send lint with exit 0 (audit 165 L6)."""
    args = ["check", "你自己看不懂吗", "-c", "这个怎么用", "--fail-on-hit"]
    res = runner.invoke(app, args)
    (doc,) = _lines(res.stdout)
    assert (doc["verdict"], doc["held"], res.exit_code) == ("ok", True, 3)
    polite = runner.invoke(app, ["check", "好的亲，马上为您查询", "-c", "到哪了", "--fail-on-hit"])
    assert polite.exit_code == 0
