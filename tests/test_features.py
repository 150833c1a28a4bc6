"""Features of the attitude classifier: readable, batch-wise, stable in shape."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qc.attitude import features
from qc.attitude import model_file as artifact

CTX_QUESTION = (("customer", "有赠品吗"),)
CTX_ANGRY = (("customer", "再不发货我就投诉给你差评！！"),)


def test_feature_version_is_a_positive_int():
    assert isinstance(features.FEATURE_VERSION, int) and features.FEATURE_VERSION >= 1


def test_selectors_take_a_batch_and_keep_order():
    batch = [("没有", CTX_QUESTION), ("亲,稍等哦", ())]
    assert features.message_texts(batch) == ["没有", "亲,稍等哦"]
    assert features.context_texts(batch) == ["有赠品吗", ""]


def test_context_keeps_only_recent_buyer_turns():
    ctx = (
        ("customer", "一"),
        ("agent", "客服说的"),
        ("customer", "二"),
        ("customer", "三"),
        ("agent", "又一句"),
        ("customer", "四"),
    )
    [joined] = features.context_texts([("好的", ctx)])
    assert "客服说的" not in joined and "又一句" not in joined
    assert joined.split() == ["二", "三", "四"]  # the last four turns hold buyer turns 二, 三, 四


def test_token_texts_are_space_joined_tokens():
    [joined] = features.message_token_texts([("亲这款没有赠品呢", ())])
    assert "".join(joined.split()) == "亲这款没有赠品呢"
    assert len(joined.split()) > 1


def test_tokenize_concatenates_back_to_the_text():
    text = "亲,这款 M码 偏大哦~"
    assert "".join(features.tokenize(text)) == text


@pytest.mark.parametrize(
    "message, context, key, expected",
    [
        ("没有", CTX_QUESTION, "bare_to_question", 1.0),
        ("没有呢亲", CTX_QUESTION, "bare_to_question", 0.0),
        ("亲,这款暂时没有赠品呢,收藏店铺可以领券哦", CTX_QUESTION, "bare_to_question", 0.0),
        ("没有", CTX_QUESTION, "bare_word", 1.0),
        ("页面上写着呢", CTX_QUESTION, "push_cue", 2.0),
        ("好的", CTX_ANGRY, "bare_to_anger", 1.0),
        ("好的", CTX_QUESTION, "ctx_anger", 0.0),
        ("好的", (), "ctx_empty", 1.0),
        ("真的吗？？", (), "q_marks", 2.0),
        ("您好请问有什么可以帮您", (), "no_punct", 1.0),
        ("好的[微笑]", (), "emoji_code", 1.0),
        ("[姓名x] [数字x]", (), "emoji_code", 0.0),
        ("标签上有", (("customer", "睡袋零下几度能用"),), "pointer_cold", 1.0),
        (
            "亲，参数在详情页第三张图哦，零下五度以内都可以的",
            (("customer", "睡袋零下几度能用"),),
            "pointer_cold",
            0.0,
        ),
        ("问安装师傅", (("customer", "洗碗机要装水管吗"),), "pointer_to_question", 1.0),
        ("不会", (("customer", "请问这个裤子会缩水吗"),), "echo_answer", 1.0),
        ("不补", (("customer", "浴巾多大"),), "echo_answer", 0.0),
        ("一套", (("customer", "请问这套书一共几本"),), "cold_short_to_question", 1.0),
        ("嗯", (("customer", "鞋子磨脚"),), "cold_after_problem", 1.0),
        ("请问您是哪个订单呢？", (("customer", "我要退货"),), "agent_ask_back_question", 1.0),
        ("单号是[订单x]对吗", (), "has_number", 1.0),
        ("拍照", (("customer", "快递到了盖子是坏的"),), "short_after_problem", 1.0),
        ("拍照", (("customer", "谢谢啦"),), "short_after_problem", 0.0),
    ],
    ids=[
        "bare-no-to-question",
        "softened-no",
        "explained-no",
        "bare-word",
        "push-cues",
        "bare-to-anger",
        "calm-buyer",
        "no-context",
        "question-marks",
        "no-punctuation",
        "emoticon",
        "export-placeholder-is-no-emoticon",
        "curt-pointer",
        "pointer-with-the-answer-is-warm",
        "pointer-to-another-party",
        "echo-answers-yes-no",
        "no-echo",
        "cold-short-to-question",
        "bare-ack-to-a-defect",
        "asks-back",
        "masked-number",
        "short-reply-to-a-defect",
        "short-reply-to-thanks",
    ],
)
def test_hand_features(message, context, key, expected):
    [feats] = features.hand_features([(message, context)])
    assert feats[key] == expected


def test_counts_and_lengths_are_capped_for_long_merged_messages():
    long_polite = "您好，您看这样可以吗？" * 10
    [feats] = features.hand_features([(long_polite, ())])
    assert feats["q_marks"] == 3.0 and feats["you_plain"] == 0.0
    [longer] = features.hand_features([(long_polite * 3, ())])
    assert longer["len_log"] == feats["len_log"]


def test_buyer_anger_counts_cues():
    [feats] = features.hand_features([("好的", CTX_ANGRY)])
    assert feats["ctx_anger"] >= 3  # 投诉, 差评, ！！


def test_every_input_gets_the_same_feature_names():
    batch = [("没有", CTX_QUESTION), ("亲,不会缩水的哦,放心", ()), ("你爱买不买", CTX_ANGRY), ("", ())]
    names = [set(f) for f in features.hand_features(batch)]
    assert all(n == names[0] for n in names)
    assert {"lex_live", "lex_suppressed", "lex_implies_impatience", "lex_implies_conflict"} <= names[0]


def test_sentiment_is_a_weak_probability():
    pos = features.message_sentiment(features.tokenize("非常好,谢谢亲,很满意"))
    neg = features.message_sentiment(features.tokenize("垃圾,太差了,再也不买"))
    assert 0.0 <= neg < pos <= 1.0
    assert features.message_sentiment([]) == 0.5


def test_feature_functions_are_module_level_and_trusted_by_the_loader():
    for name in ("message_texts", "context_texts", "message_token_texts", "hand_matrix"):
        func = getattr(features, name)
        assert func.__qualname__ == name and func.__module__ == "qc.attitude.features"
        assert f"qc.attitude.features.{name}" in artifact.TRUSTED_TYPES


@pytest.mark.parametrize(
    "text, expected",
    [
        ("单号 773012345678 已经发出", "单号 9 已经发出"),
        ("电话 138****6021 对吗", "电话 9 对吗"),
        ("订单[订单x]，共[数字x]件", "订单9，共9件"),
        ("M码 2件 35.5元 [微笑]", "M码 2件 35.5元 [微笑]"),
    ],
    ids=["order-number", "masked-phone", "export-placeholders", "short-numbers-and-emoticons-stay"],
)
def test_long_and_masked_numbers_become_one_token(text, expected):
    assert features.normalize_numbers(text) == expected


def test_hand_matrix_is_what_a_sorted_dict_vectorizer_makes_of_the_hand_features():
    from sklearn.feature_extraction import DictVectorizer

    batch = [
        ("没有", CTX_QUESTION),
        ("亲,稍等哦", ()),
        ("好的", CTX_ANGRY),
        ("详情页有，自己看", CTX_QUESTION),
    ]
    expected = DictVectorizer(sort=True).fit(features.hand_features(batch))
    assert tuple(expected.feature_names_) == features.hand_feature_names()
    assert (features.hand_matrix(batch) != expected.transform(features.hand_features(batch))).nnz == 0


_CUE_LISTS = [
    features._SOFTENERS,
    features._POLITE,
    features._PUSH_CUES,
    features._QUESTION_CUES,
    features._ANGER_CUES,
    features._POINTER_VERBS + features._POINTER_PLACES,
]
_CUE_CHARS = "".join(sorted({ch for cues in _CUE_LISTS for c in cues for ch in c})) + "，。 ab1"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=_CUE_CHARS, max_size=30), st.sampled_from(range(len(_CUE_LISTS))))
def test_compiled_cue_scans_answer_like_the_python_loops(text, which):
    cues = _CUE_LISTS[which]
    has_any = features._finder(cues)
    assert has_any(text) == any(c in text for c in cues)
    assert features._present(text, cues, has_any) == sum(c in text for c in cues)


_REPLIES = st.sampled_from(
    ["在的", "不", "嗯", "自己看详情页", "好的亲，马上帮您查", "不会", "能的", "标签", "你自己选吧"]
)
_TURNS = st.lists(
    st.tuples(
        st.sampled_from(["customer", "agent"]),
        st.sampled_from(["有人吗", "会掉色吗", "能便宜点吗", "谢谢", "坏了"]),
    ),
    max_size=5,
)


@given(st.lists(st.tuples(_REPLIES, _TURNS), min_size=1, max_size=12))
@settings(max_examples=80, deadline=None)
def test_hand_features_do_not_depend_on_what_was_computed_before(pairs):
    # Message and context parts are cached apart and the crosses computed per pair: a reply
    # seen before with another context must still get the features of its own context.
    inputs = [(reply, tuple(turns)) for reply, turns in pairs]
    warm = features.hand_features(inputs)
    features._message_part.cache_clear()
    features._context_part.cache_clear()
    cold = [features.hand_features([x])[0] for x in reversed(inputs)][::-1]
    assert warm == cold
    assert features.hand_features(inputs) == warm  # and the cached parts were not changed by use


@given(_REPLIES, _TURNS)
@settings(max_examples=80, deadline=None)
def test_hand_parts_are_the_hand_features_split_by_what_they_read(reply, turns):
    # The partwise scorer keeps message and context parts apart: together, in order, the parts
    # must be the hand features exactly, and a context part must read only the buyer turns.
    context = tuple(turns)
    buyer = features.buyer_turns(context)
    assert all(text in [t for role, t in context if role == "customer"] for text in buyer)
    values = (
        features.hand_message_values(reply)
        + features.hand_context_values(buyer)
        + features.hand_pair_values(reply, context, buyer)
    )
    [feats] = features.hand_features([(reply, context)])
    mine, theirs, pair = features.hand_value_parts()
    assert (*mine, *theirs, *pair) == tuple(feats)
    assert values == tuple(feats.values())
    assert len(features.hand_message_values(reply)) == len(mine)
    assert len(features.hand_context_values(buyer)) == len(theirs)
    agents_only = tuple(("agent", text) for _, text in context)
    assert features.buyer_turns(agents_only) == ()
