"""The fast paths give the reference libraries' exact output.

rjieba stands in for jieba only where its tokens equal jieba's, and the standalone
snownlp sentiment model classifies exactly as snownlp's own Bayes classifier.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qc.paths import samples_dir
from qc.synth.conversations import iter_conversations
from qc.text.annotate import snow_bayes
from qc.text.tokens import _rjieba_cut, jieba_tokens, tokenize
from qc.training.real import default_realchats

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
    # letters, digits and +#&._%- re-split by jieba's rule on top of rjieba
    "预计2-3天到，热线400-830-8300",
    "剩余476.24M流量，版本v1.4.0，网址www.example.cn",
    "表情#E-s49#E-s49，Wi-Fi和5G都行",
    "100%纯棉，c++和C#，AT&T，T恤，A股",
    "１２３ｋｇ全角，Ａ版",
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


# Letters, digits and the symbols jieba keeps in a block, next to Han, jieba's dictionary
# words that hold them (c++, T恤), full-width forms and spaces.
ASCII_PIECES = [
    *"abkgmEsWiF019.-+#&_%",
    "1.5",
    "kg",
    "c++",
    "C#",
    "AT&T",
    "T恤",
    "A股",
    "CD机",
    "Ｋ",
    "１",
    " ",
    *"的了是我不在有亲好吗呢快递版本流量，。",
]


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(ASCII_PIECES), max_size=14))
def test_tokenize_equals_jieba_on_random_text_with_letters_and_digits(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert tokenize(text) == jieba_tokens(text)


def test_the_patterns_and_words_copied_from_jieba_are_jiebas() -> None:
    import jieba
    import jieba.finalseg

    from qc.text import tokens

    assert tokens._BLOCKS.pattern == jieba.re_han_default.pattern
    assert tokens._WHITESPACE.pattern == jieba.re_skip_default.pattern
    assert tokens._JIEBA_SKIP.pattern == jieba.finalseg.re_skip.pattern
    dictionary = Path(jieba.__file__).with_name("dict.txt").read_text(encoding="utf-8")
    words = {line.split(" ", 1)[0] for line in dictionary.splitlines() if line}
    assert set(tokens._ASCII_WORDS) == {w for w in words if tokens._ASCII_TOKEN.fullmatch(w)}


def test_text_with_letters_and_digits_is_cut_without_loading_jieba() -> None:
    # jieba's dictionary takes about a second to load; rjieba plus jieba's rule does without it.
    code = (
        "import sys; from qc.text.tokens import tokenize; "
        "print(tokenize('您本月剩余476.24M流量，热线400-830-8300，表情#E-s49')); "
        "print('jieba' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    tokens, loaded = done.stdout.splitlines()
    assert "'476.24'" in tokens and "'M'" in tokens and "'8300'" in tokens
    assert loaded == "False"


@pytest.mark.slow
@pytest.mark.skipif(
    not default_realchats().is_file(), reason=f"the real chats are not at {default_realchats()}"
)
def test_tokenize_equals_jieba_on_every_real_chat_text() -> None:
    texts: set[str] = set()
    with default_realchats().open(encoding="utf-8") as fh:
        for line in fh:
            texts.update(m["text"] for m in json.loads(line)["messages"])
    assert len(texts) > 20_000
    differ = sum(1 for t in texts if tokenize(t) != jieba_tokens(t))
    assert differ == 0, f"{differ} real texts tokenize unlike jieba (texts not printed: buyer data)"


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
