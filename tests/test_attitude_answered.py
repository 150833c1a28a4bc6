"""Feature version 6's answered-cues: does the reply take up what the buyer asked, does it repeat."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qc.attitude.answered import (
    CROSSED_STATES,
    NEAR_ECHO,
    NO_ECHO,
    SAME_ECHO,
    answer_names,
    answer_states,
    echo,
    repeat_states,
)
from qc.attitude.cues import load_cues, parse_cues
from qc.attitude.features import FeatureConfig, Featurizer, Turn
from qc.errors import ConfigError


@pytest.fixture(scope="module")
def featurizer() -> Featurizer:
    return Featurizer(FeatureConfig(), load_cues())


def _states(featurizer: Featurizer, reply: str, context: tuple[tuple[str, str], ...]) -> set[str]:
    turn = Turn.of(reply, context)
    return {
        name.removeprefix("ans.")
        for name in featurizer.answer_set(turn, featurizer.buyer_kinds(turn.buyer))
        if "×" not in name
    }


@pytest.mark.parametrize(
    "reply, buyer, present, absent",
    [
        # A curt answer that takes up the question against one that ignores it.
        ("手洗", "这件怎么洗", {"asked", "asked_shares_char", "open_asked"}, {"unanswered"}),
        ("标签", "这件怎么洗", {"asked_shares_nothing", "open_shares_nothing", "unanswered"}, set()),
        # A yes/no word answers a yes/no question even with nothing shared.
        ("可以的亲", "能今天发货吗", {"yesno_asked", "yesno_answered"}, {"unanswered", "yesno_not_answered"}),
        ("亲，能的哦", "能不能今天发货", {"yesno_answered"}, {"unanswered"}),
        ("现在买有优惠", "这个大衣是羊毛的吗", {"yesno_not_answered", "unanswered"}, {"yesno_answered"}),
        # A number asked for: given or not.
        ("72cm", "这条裤子腰围多少", {"number_asked", "number_given"}, {"unanswered", "number_missing"}),
        ("三天左右", "上海几天能到", {"number_given"}, {"number_missing"}),
        ("尺码表", "这条裤子腰围多少", {"number_missing", "unanswered"}, {"number_given"}),
        # A stock closing over an open request.
        ("请问还有其他还可以帮到您的吗?", "发票抬头帮我改成名字可以吗?", {"unanswered"}, set()),
        # Nothing was asked: no answered-state at all.
        ("好的呢", "好的 谢谢了", set(), {"asked", "unanswered"}),
        ("嗯", "", set(), {"asked", "unanswered"}),
        # A reported problem the reply does not mention.
        ("感谢您的支持", "收到的杯子破了", {"problem_shares_nothing"}, set()),
        ("杯子破了非常抱歉，给您补发", "收到的杯子破了", set(), {"problem_shares_nothing"}),
    ],
)
def test_whether_the_reply_answers_the_buyer(
    featurizer: Featurizer, reply: str, buyer: str, present: set[str], absent: set[str]
) -> None:
    states = _states(featurizer, reply, (("customer", buyer),) if buyer else ())
    assert present <= states, states
    assert not absent & states, states


def test_saying_an_earlier_reply_again_after_the_buyer_wrote(featurizer: Featurizer) -> None:
    said = "非常抱歉给您带来不便了，我们会反馈"
    context = (("customer", "东西坏了"), ("agent", said), ("customer", "那到底怎么办"))
    assert {"repeats_after_buyer", "apology_again"} <= _states(
        featurizer, "非常抱歉给您带来不便，我们会反馈", context
    )
    # The same words as a second bubble of the same turn (the buyer said nothing since) are no repeat.
    same_turn = (("customer", "东西坏了"), ("agent", said))
    assert not {"repeats_after_buyer", "apology_again"} & _states(featurizer, said, same_turn)
    # A different answer after the buyer wrote is no repeat either.
    assert "repeats_after_buyer" not in _states(featurizer, "给您补发一个新的，今天发出", context)


def test_repeat_states_need_the_buyer_to_have_spoken() -> None:
    assert repeat_states("非常抱歉给您带来不便", SAME_ECHO, False, True, True) == frozenset()
    assert repeat_states("非常抱歉给您带来不便", SAME_ECHO, True, False, False) == {"repeats_after_buyer"}
    assert repeat_states("非常抱歉给您带来不便", NO_ECHO, True, False, False) == frozenset()


def test_echo_tells_the_same_words_a_near_repeat_and_short_replies_apart() -> None:
    said = "非常抱歉给您带来不便我们会反馈"
    assert echo(said, {"在的", said}) == SAME_ECHO
    # The last character changed: 13 of 15 character pairs shared (0.87), a near repeat;
    # two in the middle changed: 11 of 17 (0.65), another message.
    assert echo(said, {"非常抱歉给您带来不便我们会反应"}) == NEAR_ECHO
    assert echo(said, {"非常抱歉给您带来麻烦我们会反馈"}) == NO_ECHO
    assert echo("好的亲", {"好的亲"}) == NO_ECHO  # three characters never count
    assert echo(said, set()) == NO_ECHO


@given(
    st.text(alphabet="好的亲抱歉不便反馈我们会", min_size=0, max_size=12),
    st.lists(st.text(alphabet="好的亲抱歉不便反馈我们会", max_size=12), max_size=5),
)
@settings(max_examples=300, deadline=None)
def test_echo_is_the_bigram_jaccard_of_any_earlier_message(reply: str, earlier: list[str]) -> None:
    def bigrams(t: str) -> set[str]:
        return {t[i : i + 2] for i in range(len(t) - 1)} if len(t) > 1 else {t}

    def near(other: str) -> bool:
        a, b = bigrams(reply), bigrams(other)
        return len(a & b) >= 0.8 * len(a | b)

    long_ones = [o for o in earlier if len(o) > 3] if len(reply) > 3 else []
    expected = SAME_ECHO if reply in long_ones else NEAR_ECHO if any(map(near, long_ones)) else NO_ECHO
    assert echo(reply, set(earlier)) == expected


def test_crossed_states_name_their_length_and_cue_group(featurizer: Featurizer) -> None:
    turn = Turn.of("自己看", (("customer", "这件怎么洗"),))
    names = featurizer.answer_set(turn, featurizer.buyer_kinds(turn.buyer))
    assert "ans.unanswered×reply.pushaway" in names
    assert any(n.startswith("ans.unanswered×length") for n in names)
    assert set(names) <= set(answer_names(featurizer.cues))
    block = featurizer.answer_columns([names])
    assert len(block.columns) == len(names)
    assert all(featurizer.offsets["answer"] <= c < featurizer.dim for c in block.columns)
    described = featurizer.describe_columns("自己看", (("customer", "这件怎么洗"),))
    for column in block.columns.tolist():
        assert described[column] and "ans." not in described[column]


def test_answer_states_follow_the_cue_lexicon() -> None:
    # Without the [answer] word lists nothing counts as shared or as a yes/no answer word.
    bare = parse_cues(
        b'[reply.a]\nwords=["x"]\n[buyer.question]\nwords=["?"]\n[length]\nbounds=[1]\n', "x.toml"
    )
    assert "yesno_asked" not in answer_states(bare, "可以", "能发吗?", ("question",))
    assert "yesno_asked" in answer_states(load_cues(), "可以", "能发吗?", ("question",))


def test_a_bad_answer_table_names_the_key() -> None:
    with pytest.raises(ConfigError, match=r"answer\.yesno_words"):
        parse_cues(
            b'[reply.a]\nwords=["x"]\n[buyer.b]\nwords=["y"]\n[length]\nbounds=[1]\n[answer]\nyesno_words="x"\n'
        )


def test_every_crossed_state_is_a_state() -> None:
    from qc.attitude.answered import ANSWER_STATES, REPEAT_STATES

    assert set(CROSSED_STATES) <= set(ANSWER_STATES) | set(REPEAT_STATES)
