"""The shared tokenizer, offset-keeping folding, user dictionaries and token sentiment."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qc.text.tokens import fold, make_tokenize, token_bounds


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        pytest.param("我不知道", ("我", "不", "知道"), id="我不知道"),
        pytest.param(
            "亲，不好意思让您久等了哦", ("亲", "，", "不好意思", "让", "您", "久等", "了", "哦"), id="apology"
        ),
        pytest.param("你听不懂人话吗", ("你", "听不懂", "人话", "吗"), id="听不懂人话-split"),
        pytest.param("您自己查看一下物流", ("您", "自己", "查看", "一下", "物流"), id="自己查看"),
    ],
)
def test_tokens_match_jieba_segmentation(tokenize, text, tokens):
    assert tokenize(text) == tokens


@pytest.mark.parametrize(
    "text",
    ["这款  有 现货 吗\n好", "  前后空格  ", "ＯＫ，自己看…", "emoji😊表情[微笑]", "", "a b\tc"],
    ids=["spaces-newline", "leading-trailing", "fullwidth-ellipsis", "emoji", "empty", "ascii-tab"],
)
def test_tokens_concatenate_back_to_the_text(tokenize, text):
    assert "".join(tokenize(text)) == text


def test_tokens_equal_spacy_zh_jieba_tokens(tokenize):
    from qc.text.tokens import nlp

    text = "亲，这款有现货的哦 今天下单明天发货"
    doc = nlp()(text)
    assert [t for t in tokenize(text) if not t.isspace()] == [t.text for t in doc]


def test_token_bounds():
    assert token_bounds(("我", "不", "知道")) == frozenset({0, 1, 2, 4})


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        pytest.param("ＯＫ，自己看", "ok,自己看", id="fullwidth-ascii"),
        pytest.param("Hello！", "hello!", id="case-and-bang"),
        pytest.param("好…的", "好…的", id="ellipsis-kept"),
        pytest.param("㈱公司", "㈱公司", id="multi-char-nfkc-kept"),
        pytest.param("不知道", "不知道", id="cjk-unchanged"),
    ],
)
def test_fold(text, folded):
    assert fold(text) == folded


@given(st.text(max_size=40))
def test_fold_keeps_length_so_offsets_hold(text):
    assert len(fold(text)) == len(text)


def test_offsets_into_original_text_after_folding(forbidden_rule):
    from qc.rules.forbidden_phrase import check_text

    text = "…ＯＫ，自己看"
    (f,) = [f for f in check_text(forbidden_rule, text, ("怎么用",)) if f.live]
    assert text[f.start : f.end] == "自己看" == f.text


def test_user_dictionary_changes_tokens_not_lexicon_matches(tmp_path, tokenize, lexicon):
    from qc.rules.forbidden_phrase import ForbiddenPhraseRule
    from qc.schema import MessageFeatures

    text = "自己看说明书的云朵牌保温杯"
    user_dict = tmp_path / "shop.txt"
    user_dict.write_text("云朵牌保温杯 10 n\n自己看说明 10 n\n", encoding="utf-8")
    shop_tokenize = make_tokenize(user_dict)
    assert "云朵牌保温杯" in shop_tokenize(text)
    assert "云朵牌保温杯" not in tokenize(text)  # the global dictionary is untouched
    assert "".join(shop_tokenize(text)) == text

    from qc.rules.forbidden_phrase import conversation_for

    conv = conversation_for(text, ("怎么用",))
    base = ForbiddenPhraseRule(lexicon)
    shop = ForbiddenPhraseRule(lexicon, feature_tokens=False)
    shop_feats = [MessageFeatures(tokens=shop_tokenize(m.text)) for m in conv.messages]
    base_feats = [MessageFeatures(tokens=tokenize(m.text)) for m in conv.messages]
    got_base = [(f.entry, f.start, f.end, f.suppressed) for f in base.check(conv, base_feats)]
    got_shop = [(f.entry, f.start, f.end, f.suppressed) for f in shop.check(conv, shop_feats)]
    assert got_base == got_shop == [("FP-0010", 0, 3, False)]


@pytest.mark.parametrize(
    "text",
    ["这个东西很好用，非常满意", "您好，请问有什么可以帮您", "好的谢谢"],
)
def test_sentiment_on_tokens_equals_snownlp_when_segmentation_agrees(tokenize, text):
    from snownlp import SnowNLP

    from qc.text.annotate import sentiment_of_tokens

    snow = SnowNLP(text)
    assert [w for w in tokenize(text)] == list(snow.words)
    assert sentiment_of_tokens(tokenize(text)) == pytest.approx(snow.sentiments, abs=1e-9)


def test_sentiment_differs_only_through_segmentation(tokenize):
    from snownlp import SnowNLP

    from qc.text.annotate import sentiment_of_tokens

    text = "发货太慢了"  # jieba: 太慢 one word; snownlp: 太 / 慢
    snow = SnowNLP(text)
    assert sentiment_of_tokens(snow.words) == pytest.approx(snow.sentiments, abs=1e-9)
    assert 0.0 <= sentiment_of_tokens(tokenize(text)) <= 1.0


def test_annotator_gives_tokens_and_sentiment_to_buyers_and_agents():
    from qc.schema import Conversation, Message, Role
    from qc.text.annotate import buyer_mood, make_annotator

    conv = Conversation(
        "c",
        (
            Message(0, Role.CUSTOMER, "这个东西很好用，非常满意"),
            Message(1, Role.AGENT, "谢谢亲的支持", sender="a"),
            Message(2, Role.SYSTEM, "对方已离开"),
            Message(3, Role.CUSTOMER, "质量太差了，我要退货"),
        ),
    )
    feats = make_annotator()(conv)
    assert len(feats) == 4
    for m, f in zip(conv.messages, feats, strict=True):
        if m.role is Role.SYSTEM:
            assert f.tokens == () and f.sentiment is None
        else:
            assert "".join(f.tokens) == m.text and 0.0 <= f.sentiment <= 1.0
    mood = buyer_mood(conv, feats)
    assert mood.count == 2 and mood.first > 0.8 and mood.last < 0.1
    assert mood.trend < -0.5 and mood.lowest == mood.last


# Any text: every plane, lone surrogates (JSON escapes can make them), full-width forms, emoji.
_any_text = st.lists(
    st.one_of(
        st.characters(codec=None, categories=None),
        st.sampled_from(["\ud800", "\udfff", "Ａ", "，", "！", "😊", "\u3000", "[微笑]", "/:", "亲"]),
    ),
    max_size=30,
).map("".join)


@given(_any_text)
@settings(max_examples=400, deadline=None)
def test_folding_and_stripping_by_character_class_equal_the_translation_tables(text: str) -> None:
    # fold and strip_decoration run a character class built from their tables instead of
    # str.translate (half the time on Chinese text): the very same text must come out.
    from qc.rules.lexicon import _ASTRAL_SYMBOL_RE, _EMOTICON_RE, _strip_table, strip_decoration
    from qc.text.tokens import _fold_table, fold

    assert fold(text) == text.translate(_fold_table())
    stripped = _ASTRAL_SYMBOL_RE.sub("", _EMOTICON_RE.sub("", text)).translate(_strip_table())
    assert strip_decoration(text) == stripped
