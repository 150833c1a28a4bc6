"""Every `qc …` example in README.md and in each command's --help runs as written (issue 17).

The examples run through typer's CliRunner, in order, in a sandbox folder that has what they
name: the demo day (`demo/day`), a store of it at `out/qc.sqlite` (the default --db), a
folder of GB18030 exports, `chats.csv`, `day.jsonl`, shop scorecards `shop.toml` and `new.toml`, a shop
lexicon, a user dictionary, drafts and labelled samples. README examples run top to bottom in
one sandbox (people are added before reviews, an appeal is opened before it is answered); the
examples of each --help run in a fresh sandbox, after the setup that command's examples need
(SETUP). The finding and conversation ids in the docs are illustrative: PLACEHOLDERS swaps
them for real ids of the demo store, findings charged to 柚子优选旗舰店:阿杰.

An example that cannot run here is listed in ILLUSTRATIVE with the reason; the test fails when
a listed example is no longer in the docs, so the list cannot rot.
"""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from qc.cli import app

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
DAY = "2026-11-24"

# Examples that are illustrative only, never run here (line prefix → why).
ILLUSTRATIVE = {
    "qc train": "retrains the shipped model from all samples (minutes of CPU on a shared machine);"
    " tests/test_cli_train_evaluate.py runs qc train on a small sample set",
    "qc evaluate --data annotated_samples/real": "reads the real chats beside the project, which a fresh"
    " clone does not have; tests/test_real_labels.py runs it where they are",
    "qc inspect demo/day --out out/demo-spark --engine spark": "needs Java and a Spark session (about"
    " a minute); tests/test_spark.py runs the Spark engine",
    "qc inspect exports/2026-11-24/ --out out/2026-11-24 --engine spark": "needs Java and Spark;"
    " tests/test_spark.py",
    "qc inspect hdfs:///chats/2026-11-24/ --out out/2026-11-24 --engine spark": "names an HDFS cluster"
    " and YARN that do not exist here; tests/test_spark_submit.py runs spark-submit against local[2]",
    "qc inspect exports/2026-11-24 --out out/2026-11-24 --db postgresql+psycopg://qc@db.example/qc": "names"
    " a PostgreSQL server that does not exist; tests/test_store.py runs the store against a real one",
    "qc serve --db out/qc.sqlite --port": "serves until stopped; tests/test_serve.py and"
    " tests/test_serve_browser.py run the workbench",
    "qc serve --demo": "inspects the demo days and serves until stopped; tests/test_serve_browser.py",
    "qc people password 质检小王": "asks for the password twice on a terminal; the --generate example runs",
}
# Exit codes other than 0 that an example documents.
EXPECTED_EXIT = {"--fail-on-hit": 3}  # drafts.jsonl has a live hit: the pre-send lint fails
# What each command's --help examples need before they run (run in the same sandbox first).
TEAM = [
    "qc people add 质检小王 --role reviewer",
    "qc people add 张主管 --role supervisor",
    "qc people add 阿杰 --role agent",
]
OPENED = [*TEAM, 'qc appeal open 1edfab741bc8e5aa --agent 阿杰 --reason "r"']
ANSWERED = [*OPENED, 'qc appeal answer 1 --by 质检小王 --note "n"']
SETUP = {
    "appeal": TEAM,
    "appeal open": TEAM,
    "appeal answer": OPENED,
    "appeal rule": ANSWERED,
    "appeal reopen": [*ANSWERED, 'qc appeal rule 1 --overturn --by 张主管 --note "n"'],
    "review": TEAM,
    "review decide": TEAM,
    "review export": TEAM,
    "review import": [
        *TEAM,
        f"qc review export --date {DAY} --out review.csv",
        f"qc review export --date {DAY} --out review.xlsx",
    ],
    "people remove": TEAM,
    "store forget": TEAM,
    "people bind": TEAM,
    "people unbind": [*TEAM, "qc people bind 阿杰 另一家店:阿杰"],
    "people password": TEAM,
    "serve": [*TEAM, "qc people password 张主管 --generate"],
    "calibration": [*TEAM, "qc people add 质检小李 --role reviewer"],
    "calibration open": [*TEAM, "qc people add 质检小李 --role reviewer"],
    "calibration close": [
        *TEAM,
        "qc people add 质检小李 --role reviewer",
        "qc calibration open --by 张主管 -r 质检小王 -r 质检小李 --from 2026-11-24 --to 2026-11-24",
    ],
    "calibration results": [
        *TEAM,
        "qc people add 质检小李 --role reviewer",
        "qc calibration open --by 张主管 -r 质检小王 -r 质检小李 --from 2026-11-24 --to 2026-11-24",
    ],
}


def _runner() -> CliRunner:
    if "mix_stderr" in CliRunner.__init__.__code__.co_varnames:
        return CliRunner(mix_stderr=False)
    return CliRunner()


def readme_examples() -> list[str]:
    """`qc …` lines of README's shell blocks, in order."""
    lines = []
    for body in re.findall(r"```bash\n(.*?)```", README, re.S):
        lines += [line.strip() for line in body.splitlines() if line.strip().startswith("qc ")]
    return lines


def _commands(group, prefix=""):
    for name, cmd in sorted(group.commands.items()):
        full = f"{prefix}{name}"
        yield full, cmd
        if hasattr(cmd, "commands"):
            yield from _commands(cmd, f"{full} ")


def help_examples() -> dict[str, list[str]]:
    """Each command's (and group's) `qc …` example lines from its --help text."""
    out = {}
    for name, cmd in _commands(typer.main.get_command(app)):
        text = (cmd.help or "").split("Example:", 1)
        lines = [line.strip() for line in text[-1].splitlines() if line.strip().startswith("qc ")]
        if len(text) == 2 and lines:
            out[name] = lines
    return out


def illustrative(line: str) -> bool:
    return any(line.startswith(prefix) for prefix in ILLUSTRATIVE)


def test_illustrative_examples_are_still_in_the_docs():
    everything = readme_examples() + [line for lines in help_examples().values() for line in lines]
    for prefix in ILLUSTRATIVE:
        assert any(line.startswith(prefix) for line in everything), (
            f"ILLUSTRATIVE lists a gone example: {prefix}"
        )


def test_every_command_has_runnable_examples():
    examples = help_examples()
    leaves = [n for n, c in _commands(typer.main.get_command(app)) if not hasattr(c, "commands")]
    for name in leaves:
        assert any(not illustrative(line) for line in examples.get(name, [])) or name == "train", name


# ------------------------------------------------------------------------------- the sandbox


def _platform_report(path: Path) -> None:
    """A 生意参谋-style performance report of the demo day (qc reconcile's examples)."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append([f"客服绩效 {DAY}"])
    ws.append(["客服", "咨询人数", "平均响应时长(秒)", "旺旺回复率"])
    for nick, people, seconds in (("阿杰", 53, 41.5), ("小满", 56, 40.2), ("阿宁", 66, 43.0)):
        ws.append([nick, people, seconds, "100%"])
    wb.save(path)


@pytest.fixture(scope="session")
def template(tmp_path_factory):
    """The sandbox every example group starts from, and the ids to put in place of the docs' ids."""
    from qc.batch.run import run_inspection
    from qc.rules import RuleSettings
    from qc.run.executors import LocalExecutor
    from qc.run.inspector import build_inspector
    from qc.store.database import open_store

    root = tmp_path_factory.mktemp("docs") / "sandbox"
    root.mkdir()
    (root / "demo").symlink_to(ROOT / "demo")
    (root / "lexicons").symlink_to(ROOT / "lexicons")
    (root / "annotated_samples").mkdir()
    (root / "annotated_samples" / "handwritten.jsonl").symlink_to(
        ROOT / "annotated_samples" / "handwritten.jsonl"
    )
    exports = root / "exports" / DAY
    exports.mkdir(parents=True)
    for name in (f"chat_export_{DAY}.csv", f"qianniu_{DAY}.txt"):  # the demo's GB18030 files
        shutil.copy(ROOT / "demo" / "day" / name, exports / name)
    (root / "chats.csv").write_text(
        "会话ID,角色,客服昵称,时间,聊天内容\n"
        f"c1,买家,tb_买家,{DAY} 10:00:00,这款有现货吗\n"
        f"c1,客服,示例店:小满,{DAY} 10:00:06,有现货的亲，今天下单今天发\n",
        encoding="utf-8",
    )
    shutil.copy(ROOT / "tests" / "data" / "spark_day" / f"shop-a-{DAY}.jsonl", root / "day.jsonl")
    (root / "shop.toml").write_text("[items.average_response]\nthreshold = 25\n", encoding="utf-8")
    # A card change that needs no new inspection (qc compare's example): silent transfers cost 1.
    (root / "new.toml").write_text(
        "[items.service_attitude]\npoints = { conflict = -5, impatience = -1, silent_transfer = -1 }\n",
        encoding="utf-8",
    )
    shutil.copy(ROOT / "lexicons" / "forbidden.toml", root / "shop_lexicon.toml")
    _platform_report(root / f"客服绩效_{DAY}.xlsx")
    (root / "products.txt").write_text("柚子保温杯 10 n\n", encoding="utf-8")
    (root / "drafts.jsonl").write_text(
        '{"text": "哦", "context": ["能今天发货吗"]}\n亲，有现货的哦\n', encoding="utf-8"
    )
    shutil.copy(ROOT / "tests" / "data" / "attitude_tiny.jsonl", root / "my_labels.jsonl")
    (root / "out").mkdir()
    db = root / "out" / "qc.sqlite"
    executor = LocalExecutor(build_inspector(RuleSettings()))
    run_inspection(
        [ROOT / "demo" / "day"], root / "out" / "seed", executor, store=str(db), keep_results=False
    )
    with open_store(db) as store:
        # Findings of 阿杰 that cost points and come from the GB18030 CSV, so they survive the
        # README's `qc inspect exports/2026-11-24 … --db out/qc.sqlite` (which replaces the day).
        convs = store.conversations(
            {s.finding.conversation_id for s in store.findings(agent="柚子优选旗舰店:阿杰")}
        )
        mine = [
            s.finding
            for s in store.findings(agent="柚子优选旗舰店:阿杰")
            if s.finding.live and f"chat_export_{DAY}.csv" in convs[s.finding.conversation_id].source
        ]
    assert len(mine) >= 2, "the demo day has no two charged findings of 阿杰 in its CSV"
    placeholders = {
        "1edfab741bc8e5aa": mine[0].id,
        "9c31d6a2b4e8f017": mine[1].id,
        "c20261124_000082": mine[0].conversation_id,
    }
    return root, placeholders


@pytest.fixture()
def sandbox(template, tmp_path, monkeypatch):
    root, placeholders = template
    box = tmp_path / "box"
    shutil.copytree(root, box, symlinks=True)
    monkeypatch.chdir(box)
    monkeypatch.delenv("QC_DB", raising=False)
    return box, placeholders


def run_example(line: str, placeholders: dict[str, str]) -> None:
    """Run one documented line as a user would type it (a `> FILE` redirect writes stdout)."""
    for shown, real in placeholders.items():
        line = line.replace(shown, real)
    argv = shlex.split(line, comments=True)
    target = None
    if ">" in argv:
        at = argv.index(">")
        target, argv = argv[at + 1], argv[:at]
    assert argv[0] == "qc", line
    result = _runner().invoke(app, argv[1:])
    stderr = result.stderr if result.stderr_bytes is not None else ""
    expected = next((code for key, code in EXPECTED_EXIT.items() if key in line), 0)
    assert result.exit_code == expected, f"{line}\n{stderr}\n{result.stdout[-2000:]}"
    assert "Traceback" not in stderr, line
    if target is not None:
        Path(target).write_text(result.stdout, encoding="utf-8")


def test_readme_examples_run_in_order(sandbox):
    _, placeholders = sandbox
    lines = [line for line in readme_examples() if not illustrative(line)]
    assert len(lines) >= 40
    for line in lines:
        run_example(line, placeholders)


@pytest.mark.parametrize("command", sorted(help_examples()))
def test_help_examples_run(sandbox, command):
    _, placeholders = sandbox
    lines = [line for line in help_examples()[command] if not illustrative(line)]
    if not lines:
        pytest.skip(f"qc {command}: every example is illustrative ({ILLUSTRATIVE.get(f'qc {command}', '')})")
    for line in SETUP.get(command, []):
        run_example(line, placeholders)
    for line in lines:
        run_example(line, placeholders)
