"""``qc show`` piped or saved: what a reader of the plain text needs, on the demo day's store."""

from __future__ import annotations

import re

import pytest
from cards import CHARGING
from serve_env import build_store
from typer.testing import CliRunner

from qc.cli import app

# On the demo day: a welcome auto-reply, then 不知道 with the model's impatience and FP-0007 behind
# one −1 charge.
CONVERSATION = "c20261124_000243"


@pytest.fixture(scope="module")
def shown(tmp_path_factory) -> str:
    db = build_store(tmp_path_factory.mktemp("show"))
    card = ["--scorecard", str(CHARGING)]  # the model's verdict charged, as a shop that trusts it
    r = CliRunner().invoke(app, ["show", CONVERSATION, "--no-mood", "--db", str(db), *card])
    assert r.exit_code == 0, r.output
    return r.stdout


def test_findings_sharing_one_charge_add_up_to_it(shown):
    """Each printed the whole −1, so the lines of one message added up to −2 (audit 162 M2)."""
    block = shown.split("不知道", 1)[1].split("= its verdict costs", 1)[0]
    points = [float(p) for p in re.findall(r"▲ (?:impatience|forbidden_phrase) (-?[\d.]+) pts", block)]
    assert sorted(points) == [-1.0, 0.0]
    assert "0 pts (同上: the charge above)" in block


def test_an_auto_reply_is_said_in_words_and_no_line_is_wrapped(shown):
    """Piped, the dim style is gone: a welcome auto-reply read as the agent's own reply, and ids
    were cut at column 80 (audit 162 L3, L6)."""
    welcome = next(line for line in shown.splitlines() if "欢迎光临" in line)
    assert "[自动回复 auto-reply]" in welcome
    ids = re.findall(r"· id ([0-9a-f]+)$", shown, re.M)
    assert ids and all(len(i) == 16 for i in ids)
    assert max(len(line) for line in shown.splitlines()) > 80
