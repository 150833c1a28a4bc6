"""Shared fixtures: expensive objects are built once per test session."""

from __future__ import annotations

import os
import sysconfig
from pathlib import Path

import pytest

# The tests patch Python functions, which compiled callers never see: they run the sources, also
# in the qc processes they start, whatever build make left (tests/test_compiled.py checks it).
os.environ["QC_PURE"] = "1"


def pytest_configure(config: pytest.Config) -> None:
    """Refuse to run where an older make compiled left extensions beside the sources (always loaded)."""
    package = Path(__file__).resolve().parents[1] / "qc"
    built = sorted(package.rglob("*" + (sysconfig.get_config_var("EXT_SUFFIX") or ".so")))
    if built:
        pytest.exit(
            f"{len(built)} compiled extensions lie beside the sources under qc/ (an older make compiled),"
            " and Python loads them whatever the sources say: run `make pure`, then `make compiled`",
            returncode=4,
        )


@pytest.fixture(scope="session")
def tokenize():
    """The shared jieba tokenizer (qc.text.tokens.tokenize), loaded once."""
    from qc.text.tokens import tokenize as tok

    tok("预热")
    return tok


@pytest.fixture(scope="session")
def lexicon():
    """The bundled forbidden-phrase lexicon."""
    from qc.rules.lexicon import load_lexicon

    return load_lexicon()


@pytest.fixture(scope="session")
def forbidden_rule(lexicon):
    """forbidden_phrase.v1 on the bundled lexicon, normal shop."""
    from qc.rules.forbidden_phrase import ForbiddenPhraseRule

    return ForbiddenPhraseRule(lexicon)


@pytest.fixture(scope="session")
def strict_rule(lexicon):
    """forbidden_phrase.v1 on the bundled lexicon, strict shop."""
    from qc.rules.forbidden_phrase import ForbiddenPhraseRule

    return ForbiddenPhraseRule(lexicon, strict=True)
