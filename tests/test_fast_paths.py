"""The fast paths give the reference libraries' exact output.

rjieba stands in for jieba only where its tokens equal jieba's, and the standalone
snownlp sentiment model classifies exactly as snownlp's own Bayes classifier.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qc.paths import samples_dir
from qc.synth.conversations import iter_conversations
from qc.text.annotate import snow_bayes
from qc.text.tokens import _rjieba_cut, jieba_tokens, tokenize

EDGE_TEXTS = [
    "",
    " ",
    "  两个空格  之间 ",
    "ＯＫ ok\t好的\r\n谢谢",
    "12315投诉!!",
    "😀亲~在的呢",
    "你好\u3000吗",
    "1.5kg还有吗",
    "适合0-3个月的宝宝",
    "订单号 2026112412345678 已发货",
    "亲，您好!  请问 有什么可以帮您?",
    "é à 好",
    "㐀㐁好的",
    "亲𠀀𠀁在",
    "鿖鿗",
    "你好\r\n在吗",
    "好\u200b的～～",
    # a Han character three times or more in a row: rjieba and jieba break ties differently
    "好货货货货货",
    "好货货货货货的",
    "稍等下亲亲亲或者您下次购买",
    # jieba cuts blocks apart: Latin in one block, rjieba's Han in the next
    "[数字x]号订单，稍等下亲亲亲",
    "这款10kg的，还有货吗亲",
]

# Han characters of jieba's block, rare ones outside it, punctuation, spaces and symbols:
# random strings over them must tokenize as jieba does, whichever path they take.
MIXED_ALPHABET = (
    "的了是我不在有这个亲好吗呢哦您发货退款快递物流质量问题客服怎么回事知道自己看"
    "㐀㐁鿖鿗豈𠀀𠀁，。！？～…、·—“”（）【】 \u3000\t\n😀ｶ한①Ⅻ"
)


@pytest.fixture(scope="module")
def generated_texts() -> list[str]:
    texts = {
        m.text for c in iter_conversations(date(2026, 11, 24), 11, n_messages=20_000) for m in c.messages
    }
    return sorted(texts)


@pytest.mark.parametrize("text", EDGE_TEXTS, ids=range(len(EDGE_TEXTS)))
def test_tokenize_equals_jieba_on_edge_cases(text: str) -> None:
    assert tokenize(text) == jieba_tokens(text)


def test_rjieba_is_installed_so_the_fast_path_is_the_one_tested() -> None:
    assert _rjieba_cut() is not None


def test_tokenize_equals_jieba_on_a_generated_day(generated_texts: list[str]) -> None:
    assert len(generated_texts) > 1000
    differ = [t for t in generated_texts if tokenize(t) != jieba_tokens(t)]
    assert differ == []


def _sample_texts() -> list[str]:
    """Every message and context text of the annotated samples (read as plain JSON lines)."""
    texts: set[str] = set()
    for path in sorted(samples_dir().glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                texts.add(row["text"])
                texts.update(turn["text"] for turn in row.get("context", ()))
    return sorted(texts)


def test_tokenize_equals_jieba_on_the_annotated_samples() -> None:
    texts = _sample_texts()
    assert len(texts) > 1000
    differ = [t for t in texts if tokenize(t) != jieba_tokens(t)]
    assert differ == []


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=MIXED_ALPHABET, max_size=30))
def test_tokenize_equals_jieba_on_random_mixed_text(text: str) -> None:
    assert tokenize(text) == jieba_tokens(text)


HAN_SAMPLE = "的了是我不在有这个亲好吗呢哦您发货退款快递物流质量问题客服怎么回事知道自己看下等稍或者买"


@settings(max_examples=400, deadline=None)
@given(
    st.text(alphabet=HAN_SAMPLE, max_size=12),
    st.sampled_from(HAN_SAMPLE),
    st.integers(min_value=2, max_value=6),
    st.text(alphabet=HAN_SAMPLE + "a1，", max_size=12),
)
def test_tokenize_equals_jieba_with_runs_of_one_character(
    before: str, char: str, times: int, after: str
) -> None:
    text = before + char * times + after
    assert tokenize(text) == jieba_tokens(text)


def test_standalone_sentiment_classifies_like_snownlp(generated_texts: list[str]) -> None:
    from snownlp import normal, sentiment

    reference = sentiment.classifier.classifier
    ours = snow_bayes()
    for text in generated_texts[:3000]:
        tokens = list(jieba_tokens(text))
        assert ours.filter_stop(tokens) == normal.filter_stop(tokens)
        words = normal.filter_stop(tokens)
        assert ours.classify(words) == reference.classify(words), text


def test_annotator_does_not_import_snownlp() -> None:
    code = (
        "import sys; from qc.text.annotate import make_annotator; "
        "from qc.schema import Conversation, Message, Role;"
        "a = make_annotator();"
        "f = a(Conversation('c', (Message(0, Role.CUSTOMER, '太慢了，差评'),)));"
        "assert 0.0 <= f[0].sentiment <= 1.0;"
        "print('snownlp' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
