"""Every hit and miss example of the bundled lexicon behaves as its entry declares."""

from __future__ import annotations

import pytest

from qc.rules.forbidden_phrase import check_text
from qc.rules.lexicon import iter_examples, load_lexicon

_LEXICON = load_lexicon()
_CASES = [
    pytest.param(entry.id, kind, ex, id=f"{entry.id}-{kind}-{ex.text}")
    for entry, kind, ex in iter_examples(_LEXICON)
]


def test_every_entry_has_hit_and_miss_examples():
    for entry in _LEXICON.entries:
        assert entry.hits and entry.misses, entry.id


@pytest.mark.parametrize(("entry_id", "kind", "example"), _CASES)
def test_example(entry_id, kind, example, forbidden_rule, strict_rule):
    rule = strict_rule if example.strict else forbidden_rule
    findings = check_text(rule, example.text, example.context)
    live = [f for f in findings if f.live and f.entry == entry_id]
    if kind == "hit":
        assert live, [(f.entry, f.cue) for f in findings]
        for f in live:
            assert example.text[f.start : f.end] == f.text if f.start is not None else f.text == example.text
    else:
        assert not live, [(f.entry, f.text, f.cue) for f in live]
