"""Shared fixtures: expensive objects are built once per test session."""

from __future__ import annotations

import sysconfig
from pathlib import Path

import pytest


def pytest_configure(config: pytest.Config) -> None:
    """Refuse to run on a compiled tree: the tests patch Python functions compiled callers never see."""
    package = Path(__file__).resolve().parents[1] / "qc"
    built = sorted(package.rglob("*" + (sysconfig.get_config_var("EXT_SUFFIX") or ".so")))
    if built:
        pytest.exit(
            f"the hot modules are compiled ({len(built)} extensions under qc/, make compiled):"
            " run `make pure` first; tests/test_compiled.py checks the compiled build on a copy",
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
