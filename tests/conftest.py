"""Shared fixtures: expensive objects are built once per test session."""

from __future__ import annotations

import pytest


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
