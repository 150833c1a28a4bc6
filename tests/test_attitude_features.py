"""Feature version 6: hashed n-gram blocks, cues and answered-cues of a reply in its context."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from qc.attitude import answered
from qc.attitude.cues import load_cues, parse_cues
from qc.attitude.features import (
    FEATURE_VERSION,
    FeatureConfig,
    Featurizer,
    Turn,
    buyer_turn,
    canonical,
    core,
    ngram_key,
    normalize,
    previous_agent,
)
from qc.attitude.hashing import SpanBatch, ragged_take
from qc.errors import ConfigError


@pytest.fixture(scope="module")
def featurizer() -> Featurizer:
    return Featurizer(FeatureConfig(), load_cues())


def test_feature_version_is_six() -> None:
    assert FEATURE_VERSION == 6


@pytest.mark.parametrize(
    "text, expected",
    [
        ("订单2209381177463已经发出", "订单0已经发出"),
        ("[订单x]已发，[金额x]元", "0已发，0元"),
        ("ＮＯ.１２３４ 到了", "ＮＯ.0 到了"),  # full-width digits are digits; nothing else is folded
        ("我要打12315投诉", "我要打12315投诉"),  # the cue words' own number stays
        ("拨打０１２３１５６", "拨打０１２３１５６"),  # ... also inside a longer run, full width
        ("#E-s33", "#E-s0"),  # an emoticon code stays an emoticon code
        ("[微笑]好的", "[微笑]好的"),
    ],
)
def test_canonical_text_hides_numbers_but_the_cue_words_own(
    featurizer: Featurizer, text: str, expected: str
) -> None:
    assert canonical(text, featurizer.cues.numbers) == expected
    assert "12315" in featurizer.cues.numbers


def test_a_turn_reads_canonical_text_so_an_order_number_changes_nothing(featurizer: Featurizer) -> None:
    one = featurizer.turn("单号1234567已发出", (("customer", "我的订单9988776发了吗"),))
    other = featurizer.turn("单号7654321已发出", (("customer", "我的订单1122334发了吗"),))
    assert one == other == Turn("单号0已发出", "我的订单0发了吗", "", answered.NO_ECHO)
    one_columns = featurizer.columns([("单号1234567已发出", (("customer", "订单9988776发了吗"),))])
    other_columns = featurizer.columns([("单号0已发出", (("customer", "订单[订单x]发了吗"),))])
    assert one_columns.columns.tolist() == other_columns.columns.tolist()
    assert one_columns.values.tolist() == other_columns.values.tolist()


@pytest.mark.parametrize(
    "text, expected",
    [
        ("订单号2209381177463", "订单号0"),
        ("[订单x] 这个吗", "0 这个吗"),
        ("ＯＫ，谢谢！", "ok,谢谢!"),
        ("XL码 iPhone15", "xl码 iphone0"),
        ("退款[金额x]元", "退款0元"),
    ],
)
def test_normalize_folds_width_case_digits_and_placeholders(text: str, expected: str) -> None:
    assert normalize(text) == expected


def test_core_drops_emoji_codes_punctuation_and_spaces() -> None:
    assert core("[微笑] 好的，亲~ #E-s33") == "好的亲"
    assert core("[呵呵][呵呵]") == ""


def test_buyer_turn_is_what_the_buyer_said_since_the_agent_spoke() -> None:
    context = [("customer", "在吗"), ("agent", "在的"), ("customer", "这款"), ("customer", "有货吗")]
    assert buyer_turn(context) == "这款 有货吗"
    assert previous_agent(context) == "在的"
    assert buyer_turn([*context, ("agent", "有的")]) == ""


def test_turn_reads_only_the_last_six_turns() -> None:
    said = "最早说过的那句话"
    context = [("agent", said), *[("customer", f"问{i}") for i in range(6)]]
    turn = Turn.of(said, context)
    assert turn.previous == "" and turn.echo == answered.NO_ECHO
    assert turn.buyer == " ".join(f"问{i}" for i in range(6))
    # One turn fewer, and the agent's message is in the window: the reply says it again.
    assert Turn.of(said, context[:1] + context[2:]).echo == answered.SAME_ECHO


@given(st.lists(st.text(max_size=12), min_size=1, max_size=6), st.data())
@settings(max_examples=60, deadline=None)
def test_a_span_hashes_the_same_wherever_its_text_sits(texts: list[str], data: st.DataObject) -> None:
    batch = SpanBatch.of(texts)
    alone_batches = [SpanBatch.of([t]) for t in texts]
    for i, text in enumerate(texts):
        if not text:
            continue
        a = data.draw(st.integers(0, len(text) - 1))
        b = data.draw(st.integers(a + 1, len(text)))
        start = int(batch.starts[i])
        together = batch.hash_spans(np.array([start + a]), np.array([start + b]))
        alone = alone_batches[i].hash_spans(np.array([a]), np.array([b]))
        assert together.tolist() == alone.tolist()
        # ... and equal to the same characters as a text of their own.
        own = SpanBatch.of([text[a:b]])
        assert own.hash_spans(np.array([0]), np.array([b - a])).tolist() == alone.tolist()


def test_ragged_take_lists_each_range() -> None:
    got = ragged_take(np.array([5, 0, 9]), np.array([2, 0, 3]))
    assert got.tolist() == [5, 6, 9, 10, 11]


replies = st.sampled_from(
    ["嗯", "没有", "亲，有的哦", "请问还有其他还可以帮到您的吗?", "自己看详情页", "[呵呵]", "好的"]
)
buyers = st.sampled_from(
    ["能今天发货吗", "好的谢谢", "你们怎么还不发货！！", "", "订单号 123456", "这款有货吗"]
)


@given(st.lists(st.tuples(replies, buyers), min_size=1, max_size=8), st.integers(0, 7))
@settings(max_examples=40, deadline=None)
def test_an_inputs_columns_do_not_depend_on_its_batch(pairs: list[tuple[str, str]], pick: int) -> None:
    featurizer = Featurizer(FeatureConfig(), load_cues())
    inputs = [(reply, (("customer", buyer),) if buyer else ()) for reply, buyer in pairs]
    i = pick % len(inputs)
    together = featurizer.columns(inputs)
    alone = featurizer.columns([inputs[i]])
    mine = [
        (c, v) for t, c, v in zip(together.texts, together.columns, together.values, strict=True) if t == i
    ]
    assert mine == list(zip(alone.columns.tolist(), alone.values.tolist(), strict=True))


def test_each_hashed_block_is_l2_normalised_to_its_weight(featurizer: Featurizer) -> None:
    block = featurizer.buyer_columns(["这款有货吗 能今天发货吗"])
    assert np.isclose(np.sqrt((block.values**2).sum()), featurizer.config.buyer_weight)
    offsets = featurizer.offsets
    assert all(offsets["buyer"] <= c < offsets["previous"] for c in block.columns)
    reply = featurizer.reply_columns(["亲，这款有现货的哦"])
    chars = reply.values[reply.columns < offsets["words"]]
    assert np.isclose(np.sqrt((chars**2).sum()), 1.0)


@pytest.mark.parametrize(
    "reply, buyer, present, absent",
    [
        ("请问还有其他还可以帮到您的吗?", "我想这个订单提前送", {"close_ignores_question"}, set()),
        ("请问还有其他还可以帮到您的吗?", "好的 谢谢了", set(), {"close_ignores_question"}),
        ("嗯", "能今天发货吗", {"interjection_to_question", "short_to_question"}, set()),
        ("嗯", "好的", set(), {"interjection_to_question"}),
        ("没有", "这款有赠品吗", {"bare_negative_to_question"}, set()),
        ("没有哦", "这款有赠品吗", set(), {"bare_negative_to_question"}),
        ("[呵呵]", "你们这什么垃圾服务！", {"emoji_to_anger", "reply_emoji_only"}, set()),
        ("这个不清楚", "自提点在哪", {"unknown_to_question"}, set()),
        ("这个不清楚，我帮您查一下", "自提点在哪", set(), {"unknown_to_question"}),
        ("您自己百度一下", "这个怎么设置", {"pushaway_to_question"}, set()),
    ],
)
def test_cues_a_qa_lead_recognises(
    featurizer: Featurizer, reply: str, buyer: str, present: set[str], absent: set[str]
) -> None:
    turn = Turn.of(reply, (("customer", buyer),))
    cues = featurizer.cue_set(turn, featurizer.buyer_kinds(turn.buyer))
    assert present <= cues, cues
    assert not absent & cues, cues


def test_repeating_the_previous_reply_to_a_new_question_is_a_cue(featurizer: Featurizer) -> None:
    context = (("customer", "怎么办"), ("agent", "确实很抱歉呢"), ("customer", "那要怎么解决啊"))
    turn = Turn.of("确实很抱歉呢", context)
    assert {"reply_repeats_previous", "repeat_to_question"} <= featurizer.cue_set(
        turn, featurizer.buyer_kinds(turn.buyer)
    )


def test_buyer_kinds(featurizer: Featurizer) -> None:
    assert featurizer.buyer_kinds("") == ("none",)
    assert "ends_ack" in featurizer.buyer_kinds("那什么时候到 好的")
    assert "ends_ack" not in featurizer.buyer_kinds("好的，能今天发吗")
    assert featurizer.buyer_kinds("嗨嗨") == ("statement",)


def test_buyer_kinds_reads_the_turn_without_filling_the_reply_caches(featurizer: Featurizer) -> None:
    # Nearly every buyer turn is new: caching its folded text or cue scan would only push the
    # repeated replies out of those caches (and keep the turn alive in them).
    from qc.attitude.cues import _scan_cached
    from qc.attitude.features import folded_core

    buyer = "ＦＩＦＡ那款什么时候到？好的 谢谢"
    cores, scans = folded_core.cache_info().currsize, _scan_cached.cache_info().currsize
    kinds = featurizer.buyer_kinds(buyer)
    assert (folded_core.cache_info().currsize, _scan_cached.cache_info().currsize) == (cores, scans)
    assert set(kinds) - {"ends_ack"} == featurizer.cues.scan("buyer", buyer)


def test_every_active_column_has_a_name_a_qa_lead_reads(featurizer: Featurizer) -> None:
    for reply, buyer in [
        ("请问还有其他还可以帮到您的吗?", "我想提前送"),
        ("嗯", "能今天发货吗"),
        ("自己看 详情页写着", "尺码怎么选"),
    ]:
        context = (("agent", "您好"), ("customer", buyer))
        block = featurizer.columns([(reply, context)])
        names = featurizer.describe_columns(reply, context)
        unnamed = [c for c in block.columns.tolist() if c not in names or "…" in names[c]]
        assert unnamed == []
        assert all("p=" not in name for name in names.values())


def test_a_bad_cue_lexicon_names_the_key_and_the_fix() -> None:
    with pytest.raises(ConfigError, match="length.bounds"):
        parse_cues(b'[reply.a]\nwords=["x"]\n[buyer.b]\nwords=["y"]\n[length]\nbounds=[3, 1]\n', "x.toml")
    with pytest.raises(ConfigError, match=r"reply\.a\.words"):
        parse_cues(b'[reply.a]\nwords="x"\n[buyer.b]\nwords=["y"]\n', "x.toml")
    with pytest.raises(ConfigError, match="skip.patterns"):
        parse_cues(
            b'[reply.a]\nwords=["x"]\n[buyer.b]\nwords=["y"]\n[length]\nbounds=[1]\n[skip]\npatterns=["("]\n'
        )


def test_system_notices_and_emoticon_codes_are_not_replies() -> None:
    cues = load_cues()
    assert cues.skip("系统提示：尊敬的客户，本次会话已结束")
    assert cues.skip("#E-s57#E-s57")
    assert not cues.skip("好的#E-s57") and not cues.skip("[呵呵]")


def test_folding_twice_folds_nothing_more() -> None:
    from qc.text.tokens import _fold_table, fold

    assert all(fold(folded) == folded for folded in _fold_table().values())


pieces = st.sampled_from(
    ["[订单x]", "[数字x]", "[ab", "x]", "[", "12", "5", "٣", "１", "0", "好的", "Ａ", " ", "，"]
)


@given(st.lists(pieces, max_size=10).map("".join))
@settings(max_examples=300, deadline=None)
@example("[订单x]5")
@example("[ab12345678x]")
def test_an_ngram_key_normalises_as_its_text_does(text: str) -> None:
    key = ngram_key(text)
    assert normalize(key) == normalize(text)
    assert key == text or key == normalize(text)


def test_a_turn_keeps_a_near_repeat_only_where_a_feature_reads_it() -> None:
    said = "非常抱歉给您带来不便我们会反馈"
    again = "非常抱歉给您带来不便我们会反应"  # 13 of 15 character pairs shared: a near repeat
    after_buyer = (("customer", "坏了"), ("agent", said), ("customer", "那怎么办"))
    assert Turn.of(again, after_buyer).echo == answered.NEAR_ECHO
    # A second bubble (the buyer said nothing since): repeats_after_buyer cannot hold, so the
    # near repeat is not kept and the turn shares its key with any other second bubble.
    same_turn = (("customer", "坏了"), ("agent", said))
    assert Turn.of(again, same_turn).echo == answered.NO_ECHO
    # The same words count wherever they are (reply_repeats_earlier).
    assert Turn.of(said, same_turn).echo == answered.SAME_ECHO
