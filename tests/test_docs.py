"""Every command is documented: help text with an Example, and a mention in README.md."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import typer.main

from qc.cli import app

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _commands(group, prefix: str = ""):
    # Typer vendors its own click, so duck-type groups instead of isinstance(click.Group).
    out = []
    for name, cmd in sorted(group.commands.items()):
        full = f"{prefix}{name}"
        if hasattr(cmd, "commands"):
            out.extend(_commands(cmd, f"{full} "))
        else:
            out.append((full, cmd))
    return out


COMMANDS = _commands(typer.main.get_command(app))


def test_there_are_commands():
    assert "inspect" in [name for name, _ in COMMANDS]


@pytest.mark.parametrize("name, command", COMMANDS, ids=[n for n, _ in COMMANDS])
def test_command_help_has_summary_and_example(name, command):
    help_text = command.help or ""
    assert help_text.strip(), f"qc {name} has no help text"
    assert "Example:" in help_text, f"qc {name} --help has no Example: block"
    assert f"qc {name}" in help_text, f"the example of qc {name} does not show the command"


@pytest.mark.parametrize("name", [n for n, _ in COMMANDS])
def test_command_is_in_readme(name):
    assert f"qc {name}" in README, f"README.md does not document `qc {name}`"


def test_python_m_qc_help_runs_in_a_fresh_interpreter():
    proc = subprocess.run([sys.executable, "-m", "qc", "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    assert "inspect" in proc.stdout
    assert proc.stderr == ""


def test_help_does_not_import_heavy_libraries():
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from qc.cli import app\n"
        "CliRunner().invoke(app, ['--help'])\n"
        "heavy = [m for m in ('spacy', 'jieba', 'snownlp', 'sklearn', 'pyspark') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ""
