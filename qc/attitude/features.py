"""Features of the attitude classifier: an agent message read with its buyer context.

One classifier input is an :data:`AttitudeInput`, a plain pair ``(message, context)`` where
``context`` lists the ``(role, text)`` turns before the message, oldest first. Plain data
keeps the saved model independent of qc's classes.

Every function here is module-level and works on a whole batch, so the scikit-learn
Pipeline in :mod:`qc.training.train` can reference them by name and the saved artifact stays
readable. **Any change to what a function computes bumps** :data:`FEATURE_VERSION`: a
saved model stores the names of these functions, not their code, and loading refuses a
model built for another version.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import NamedTuple

from qc.rules.forbidden_phrase import ForbiddenPhraseRule
from qc.rules.lexicon import load_lexicon
from qc.schema import Conversation, Message, Role
from qc.text.annotate import snow_bayes
from qc.text.tokens import TEXT_CACHE_SIZE
from qc.text.tokens import tokenize as shared_tokenize

# Entries of the caches keyed by a message with its context (or by buyer turns): few pairs
# repeat, and their entries are large, so this bound is reached early in a long run and the
# worker's memory stays where it is from then on.
_PAIR_CACHE_SIZE = 4096

# Bump whenever any feature below computes something different for the same input.
FEATURE_VERSION = 3

AttitudeInput = tuple[str, Sequence[tuple[str, str]]]

# How many turns before the message the context features look at.
_CONTEXT_TURNS = 4
# Count features stop at this value and lengths at _LONG characters: real exports merge
# several bubbles into one long message, which must not extrapolate beyond the samples.
_MAX_COUNT = 3
_LONG = 60

# Cue lists: what a reviewer reads to see what the hand features mean.
_QUESTION_CUES = (
    "?",
    "？",
    "吗",
    "么",
    "嘛",
    "多少",
    "怎么",
    "什么",
    "能不能",
    "有没有",
    "可不可以",
    "几",
    "哪",
    "是不是",
    "会不会",
    "要不要",
    "为啥",
    "为什么",
)
_ANGER_CUES = (
    "投诉",
    "差评",
    "骗",
    "垃圾",
    "退款",
    "举报",
    "曝光",
    "12315",
    "态度",
    "什么玩意",
    "坑",
    "气死",
    "无语",
    "服了",
    "滚",
    "傻",
    "有病",
    "搞什么",
    "还不发",
    "到底",
    "!!",
    "！！",
    "??",
    "？？",
    "最后一次",
    "工商",
    "消协",
)
_SOFTENERS = ("亲", "哦", "呢", "哈", "呀", "啦", "噢", "~", "～", "宝", "您")
_POLITE = (
    "抱歉",
    "不好意思",
    "对不起",
    "麻烦",
    "请",
    "谢谢",
    "感谢",
    "辛苦",
    "理解",
    "稍等",
    "马上",
    "帮您",
    "给您",
    "为您",
    "核实",
    "处理",
    "安排",
    "备注",
    "放心",
)
_PUSH_CUES = (
    "自己",
    "写着",
    "说过",
    "说了",
    "看不懂",
    "详情页",
    "页面",
    "上面",
    "不知道",
    "不清楚",
    "随便",
    "爱买不买",
    "买不买",
    "还有事",
    "还有别的",
    "到底",
    "快点",
    "别问",
    "问别人",
    "去投诉",
    "随你",
    "没办法",
    "又不是",
    "凭什么",
    "你自己",
    "懂不懂",
    "听不懂",
)
_BARE_WORDS = (
    "嗯",
    "恩",
    "哦",
    "噢",
    "在",
    "没有",
    "没",
    "不",
    "不能",
    "不是",
    "不行",
    "不知道",
    "不清楚",
    "不包",
    "卖完了",
    "没了",
    "有",
    "可以",
    "是的",
    "对",
    "好",
    "好的",
)
# ANNOTATION.md conventions for one-word replies: bare negatives and interjections to a real
# question are impatience, bare affirmatives that answer it are ok.
_BARE_NEGATIVE_START = ("不", "没", "无", "别", "否")
_INTERJECTIONS = ("嗯", "恩", "哦", "噢", "喔", "额", "呃", "啊", "哈", "在")
_AFFIRMATIVES = ("是的", "是", "对的", "对", "可以", "有", "有的", "要", "会", "能", "行", "好的", "嗯嗯")
_ACK_CUES = ("好的", "谢谢", "收到", "知道了", "明白", "ok", "OK", "嗯嗯", "行", "可以了")
_LATIN_DIGIT = re.compile(r"[A-Za-z0-9]")
# Emoticon codes as chat tools type them: /:xxx or a bracketed Chinese name such as [微笑]
# (not export placeholders such as [数字x]).
_EMOJI_CODE = re.compile(r"/:[^\s]{1,6}|\[[\u4e00-\u9fff]{1,4}\]")
# Order numbers, phone numbers (also masked, 138xxxx6021), tracking numbers and tax ids: a
# run of 3+ digits, optionally with x/X/* masking inside. They say nothing about attitude,
# but their raw digits would give every confirmation message rare n-grams of its own.
_LONG_NUMBER = re.compile(r"[0-9][0-9xX*]{2,}[0-9]|[0-9]{3,}")
# Masked values as exports and research corpora write them ([数字x], [订单x], [电话x]): the
# same non-information as the number itself.
_MASKED_VALUE = re.compile(r"\[[^\[\]\s]{1,12}x\]")
_NUMBER_TOKEN = "9"
# An agent asking the buyer back ("请问您是哪个订单呢", "您是指…吗"): serving, not refusing.
_ASK_BACK_START = ("请问", "您是", "亲，请问", "亲,请问", "亲请问", "您好，请问", "您好,请问", "麻烦您")
_ASK_BACK_CUES = (
    "请问",
    "您是指",
    "您是要",
    "您是说",
    "您说的是",
    "方便",
    "是哪",
    "哪个",
    "哪一",
    "多少呢",
    "吗？",
)
_QUESTION_END = ("吗", "呢", "？", "?", "呀", "么")
# Stock service formulas: greetings, closings, thanks for waiting, confirmations.
_SERVICE_CUES = (
    "您好",
    "很高兴",
    "为您服务",
    "还有其他",
    "还有什么",
    "祝您",
    "欢迎",
    "感谢您",
    "久等",
    "随时",
    "核对",
    "确认",
    "已经帮您",
    "帮您查",
    "已记下",
    "收到",
)
# Sending the buyer somewhere else instead of answering: a place where the answer is written
# (page, manual, label …) or another party (installer, courier, after-sales …).
_POINTER_PLACES = (
    "详情",
    "页面",
    "主图",
    "图片",
    "图上",
    "介绍",
    "说明书",
    "标签",
    "包装上",
    "瓶底",
    "参数",
    "评价",
    "清单",
    "订单里",
    "链接里",
    "下面",
    "上面",
    "首页",
)
_POINTER_PARTIES = (
    "师傅",
    "售后",
    "快递",
    "物流",
    "厂家",
    "官方",
    "财务",
    "仓库",
    "品牌方",
    "别人",
    "五金店",
)
_POINTER_VERBS = ("看", "找", "问", "翻", "拉", "搜", "查", "去", "自己", "写了", "写着", "有")
# Opening particles and address forms that soften a short reply.
_WARM_OPENERS = ("亲", "您好", "宝", "好的", "嗯嗯", "收到", "不好意思", "抱歉")
_CROSSED_TURN_KINDS = ("yes_no", "wh", "problem", "data", "thanks", "ack", "statement")
# Modal verbs of a yes/no question; a short reply that echoes one answers it.
_YES_NO_VERBS = ("能", "会", "有", "是", "可以", "要", "用", "送", "包", "退", "换", "带")


def _present(text: str, cues: Sequence[str], has_any) -> int:  # noqa: ANN001 - a _finder
    """How many of ``cues`` occur in ``text``; most texts have none, which one scan tells."""
    return sum(c in text for c in cues) if has_any(text) else 0


def _finder(*cue_lists: Sequence[str]):  # noqa: ANN202 - Callable[[str], bool]
    """``lambda text: any(c in text for c in cues)`` as one compiled scan instead of a Python loop.

    A regular expression of escaped literals matches wherever any cue occurs, so the answer
    is the same; the hand features ask this a dozen times per message.
    """
    cues = sorted({c for cues in cue_lists for c in cues}, key=len, reverse=True)
    search = re.compile("|".join(re.escape(c) for c in cues)).search
    return lambda text: search(text) is not None


_has_softener = _finder(_SOFTENERS)
_has_push_cue = _finder(_PUSH_CUES)
_has_anger_cue = _finder(_ANGER_CUES)
_has_service_cue = _finder(_SERVICE_CUES)
_has_polite = _finder(_POLITE)
_has_question_cue = _finder(_QUESTION_CUES)
_has_ack_cue = _finder(_ACK_CUES)
_has_ask_back_cue = _finder(_ASK_BACK_CUES)
_has_pointer_place = _finder(_POINTER_PLACES)
_has_pointer_party = _finder(_POINTER_PARTIES)
_has_pointer_verb_or_place = _finder(_POINTER_VERBS, _POINTER_PLACES)
_has_thanks_or_sorry = _finder(("感谢", "谢谢", "抱歉", "对不起", "不好意思"))
_has_punctuation = _finder(tuple("，。！？,.!?~～、"))
_SENTENCE_SPLIT = re.compile(r"[，,。.！!？?；;~～\s]+")


def normalize_numbers(text: str) -> str:
    """``text`` with every long or masked number (order, phone, tracking, tax id) as one token.

    Digits of an order number carry no attitude; left raw, they make confirmations look
    unlike anything in the samples. Short numbers (sizes, prices, counts) stay as typed.
    """
    return _LONG_NUMBER.sub(_NUMBER_TOKEN, _MASKED_VALUE.sub(_NUMBER_TOKEN, text))


def message_texts(inputs: Sequence[AttitudeInput]) -> list[str]:
    """The agent messages of a batch, long numbers normalised (what the char n-grams read)."""
    return [normalize_numbers(message) for message, _ in inputs]


def context_texts(inputs: Sequence[AttitudeInput]) -> list[str]:
    """The buyer turns just before each message, joined (what the context n-grams read).

    Only buyer turns count: the agent's own earlier replies would teach the model the
    agent's style rather than what the buyer asked.
    """
    return [normalize_numbers(" ".join(_buyer_turns(context))) for _, context in inputs]


def message_token_texts(inputs: Sequence[AttitudeInput]) -> list[str]:
    """Each message's word tokens joined by spaces, for a whitespace-token TF-IDF."""
    return [" ".join(t for t in tokenize(normalize_numbers(message)) if t.strip()) for message, _ in inputs]


def hand_features(inputs: Sequence[AttitudeInput]) -> list[dict[str, float]]:
    """Readable per-message features for a ``DictVectorizer``: one dict per input.

    Length, punctuation, particles, politeness, push-away cues, bare replies, whether the
    buyer just asked a question or sounds angry, snownlp sentiment of the message (weak),
    and the lexicon's cues when the lexicon is installed.
    """
    return [_hand_features_one(message, context) for message, context in inputs]


def hand_matrix(inputs: Sequence[AttitudeInput]):  # noqa: ANN201 - scipy.sparse.csr_matrix
    """:func:`hand_features` as a sparse matrix, one column per name of :func:`hand_feature_names`.

    The same numbers, in the same column order, that ``DictVectorizer(sort=True)`` made of the
    dicts, but built from the parts' value tuples (no dict per input) and put in column order
    once per batch.
    """
    import numpy as np
    from scipy import sparse

    width = len(_value_names())
    rows = np.array([_hand_values(message, context) for message, context in inputs], dtype=float)
    return sparse.csr_matrix(rows.reshape(-1, width)[:, _sorted_positions()])


@lru_cache(maxsize=1)
def hand_feature_names() -> tuple[str, ...]:
    """The names of the hand features, sorted: every input gets exactly these (tested)."""
    return tuple(sorted(_value_names()))


@lru_cache(maxsize=1)
def _value_names() -> tuple[str, ...]:
    """The names of :func:`_hand_values`, in its order: message, context, cross, lexicon parts."""
    mine, theirs = _message_part(""), _context_part(())
    return (*mine.feats, *theirs.feats, *_CROSS_NAMES, *(f"lex_{key}" for key in _NO_CUES))


@lru_cache(maxsize=1)
def _sorted_positions():  # noqa: ANN202 - numpy index array
    import numpy as np

    where = {name: i for i, name in enumerate(_value_names())}
    return np.array([where[name] for name in hand_feature_names()], dtype=np.intp)


def _hand_features_one(message: str, context: Sequence[tuple[str, str]]) -> dict[str, float]:
    return dict(zip(_value_names(), _hand_values(message, context), strict=True))


def _hand_values(message: str, context: Sequence[tuple[str, str]]) -> tuple[float, ...]:
    buyer = buyer_turns(context)
    return (
        hand_message_values(message) + hand_context_values(buyer) + hand_pair_values(message, context, buyer)
    )


def buyer_turns(context: Sequence[tuple[str, str]]) -> tuple[str, ...]:
    """The buyer turns among the last few of ``context``: all any context feature reads of it.

    Two contexts with the same buyer turns get the same context features (the n-grams of
    :func:`context_texts` and :func:`hand_context_values`), so this is their cache key.
    """
    return tuple(_buyer_turns(context))


def hand_message_values(message: str) -> tuple[float, ...]:
    """The hand features read from the agent message alone, in :func:`hand_value_parts` order.

    With :func:`hand_context_values` and :func:`hand_pair_values` they make one input's hand
    features, so a linear model's score can be summed from parts computed once per message,
    once per context and once per pair (:mod:`qc.attitude.partwise`).
    """
    return _message_part(message.strip()).values


def hand_context_values(buyer: tuple[str, ...]) -> tuple[float, ...]:
    """The hand features read from the buyer turns alone (``buyer`` from :func:`buyer_turns`)."""
    return _context_part(buyer).values


def hand_pair_values(
    message: str, context: Sequence[tuple[str, str]], buyer: tuple[str, ...]
) -> tuple[float, ...]:
    """The hand features that cross the message with its context: the crosses, then the lexicon cues."""
    cross = _cross_values(_message_part(message.strip()), _context_part(buyer), buyer[-1] if buyer else "")
    return cross + _lexicon_values(message, context)


@lru_cache(maxsize=1)
def hand_value_parts() -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """Names of :func:`hand_message_values`, :func:`hand_context_values` and :func:`hand_pair_values`.

    Each in its value order; together, in this order, they are the hand features' value order
    (a name's column in :func:`hand_matrix` is its place in :func:`hand_feature_names`).
    """
    names = _value_names()
    mine, theirs = len(_message_part("").feats), len(_context_part(()).feats)
    return names[:mine], names[mine : mine + theirs], names[mine + theirs :]


class _MessagePart(NamedTuple):
    """What the hand features read from the agent message alone, with what the crosses need."""

    feats: dict[str, float]
    values: tuple[float, ...]  # feats' values, in its (fixed) key order
    core: str  # the message without closing punctuation
    softened: bool
    cold: bool
    pointer: bool


class _ContextPart(NamedTuple):
    """What the hand features read from the buyer turns alone, with what the crosses need."""

    feats: dict[str, float]
    values: tuple[float, ...]  # feats' values, in its (fixed) key order
    asked: bool
    kinds: frozenset[str]


# Message and context parts are cached apart: stock replies and short buyer turns recur all
# day, while the pair (reply, context) rarely does. Only the crosses are computed per pair.
@lru_cache(maxsize=TEXT_CACHE_SIZE)
def _message_part(text: str) -> _MessagePart:
    tokens = [t for t in tokenize(text) if t.strip()]
    n = len(text)
    core = text.rstrip("。.!！~～ ")
    short = len(core) <= 4
    softened = _has_softener(text)
    feats: dict[str, float] = {
        "len_le_2": float(n <= 2),
        "len_le_5": float(n <= 5),
        "len_gt_20": float(n > 20),
        "len_log": _log1p(min(n, _LONG)),
        "q_marks": _capped(text.count("?") + text.count("？")),
        "excl_marks": _capped(text.count("!") + text.count("！")),
        "ellipsis": float("..." in text or "…" in text or "。。" in text),
        "no_punct": float(n > 0 and not _has_punctuation(text)),
        "latin_digit_share": sum(1 for _ in _LATIN_DIGIT.finditer(text)) / n if n else 0.0,
        "emoji_code": float(bool(_EMOJI_CODE.search(text))),
        "softener": float(softened),
        "polite": _capped(_present(text, _POLITE, _has_polite)),
        "push_cue": _capped(_present(text, _PUSH_CUES, _has_push_cue)),
        "you_plain": _capped(text.count("你")),
        "bare_word": float(core in _BARE_WORDS),
        "bare_negative": float(short and core.startswith(_BARE_NEGATIVE_START) and not softened),
        "bare_interjection": float(bool(core) and all(ch in _INTERJECTIONS for ch in core)),
        "bare_affirmative": float(core in _AFFIRMATIVES),
        "sentiment": message_sentiment(tokens),
    }
    feats["short_content"] = float(
        short
        and bool(core)
        and not feats["bare_negative"]
        and not feats["bare_interjection"]
        and not feats["push_cue"]
        and not feats["q_marks"]
    )
    feats.update(_service_features(text, core))
    # How the reply reads on its own: warm or cold, pointing elsewhere or not (the crosses
    # with the buyer's turn are in _cross_values).
    m = len(core)
    warm = text.startswith(_WARM_OPENERS) or softened
    pointer = (_has_pointer_place(text) or _has_pointer_party(text)) and _has_pointer_verb_or_place(text)
    cold = not warm and not _has_polite(text)
    feats["pointer"] = float(pointer)
    feats["pointer_cold"] = float(pointer and cold)
    feats["pointer_short"] = float(pointer and m <= 12)
    feats["cold"] = float(cold)
    feats["cold_mid"] = float(cold and 8 < m <= 20)
    return _MessagePart(feats, tuple(feats.values()), core, softened, cold, pointer)


@lru_cache(maxsize=_PAIR_CACHE_SIZE)
def _context_part(buyer: tuple[str, ...]) -> _ContextPart:
    last_buyer = buyer[-1] if buyer else ""
    asked = _has_question_cue(last_buyer)
    # The lexicon's reading of the buyer's last turn (one source for "question", "problem" …).
    kinds = buyer_turn_kinds(last_buyer) if last_buyer else frozenset()
    feats = {
        "ctx_empty": float(not buyer),
        "ctx_question": float(asked),
        "ctx_ack": float(_has_ack_cue(last_buyer) and len(last_buyer) <= 8),
        "ctx_anger": _capped(_present(" ".join(buyer), _ANGER_CUES, _has_anger_cue)),
        "ctx_repeat": float(len(buyer) >= 2 and _overlap(buyer[-1], buyer[-2]) >= 0.5),
    }
    for kind in _CROSSED_TURN_KINDS:
        feats[f"turn_{kind}"] = float(kind in kinds)
    return _ContextPart(feats, tuple(feats.values()), asked, kinds)


_CROSS_NAMES = (
    "short_answer_overlap",
    "bare_to_question",
    "bare_to_anger",
    "pointer_to_question",
    "echo_answer",
    "cold_short_to_question",
    "cold_short_to_statement",
    "no_overlap_short",
    *(f"{cross}_{kind}" for kind in _CROSSED_TURN_KINDS for cross in ("short_after", "cold_after")),
)


def _cross_values(mine: _MessagePart, theirs: _ContextPart, last_buyer: str) -> tuple[float, ...]:
    """How a reply relates to the buyer's last turn, in the order of ``_CROSS_NAMES``: once per pair.

    The n-grams see the reply and the context apart; these cross the two, which is where
    curt non-answers ("标签", "问师傅", "详情里有") differ from short answers ("不会", "能的").
    """
    core, asked, cold = mine.core, theirs.asked, mine.cold
    n = len(core)
    len_le_5 = mine.feats["len_le_5"]
    stripped = core.lstrip("不没")
    # startswith with the tuple first: most replies echo no verb, and then any() is skipped.
    echo = stripped.startswith(_YES_NO_VERBS) and any(
        v in last_buyer and stripped.startswith(v) for v in _YES_NO_VERBS
    )
    overlap = _overlap_share(core, last_buyer) if n <= 8 and last_buyer else 0.0
    return (
        overlap if n <= 4 else 0.0,
        len_le_5 * theirs.feats["ctx_question"] * (1.0 - mine.feats["softener"]),
        len_le_5 * float(theirs.feats["ctx_anger"] > 0),
        float(mine.pointer and asked),
        float(echo and n <= 6),
        float(cold and asked and n <= 8 and not echo),
        float(cold and bool(last_buyer) and not asked and n <= 8),
        float(n <= 8 and bool(last_buyer) and overlap == 0.0),
    ) + _kind_crosses(theirs.kinds, n <= 6, cold)


@lru_cache(maxsize=256)
def _kind_crosses(kinds: frozenset[str], short: bool, cold: bool) -> tuple[float, ...]:
    """A reply of six characters or fewer, or a cold one, after each kind of buyer turn.

    A six-character reply to a defect report is a brush-off far more often than one to a thank-you.
    """
    out: list[float] = []
    for kind in _CROSSED_TURN_KINDS:
        seen = kind in kinds
        out += (float(seen and short), float(seen and cold))
    return tuple(out)


def _service_features(text: str, core: str) -> dict[str, float]:
    """Cues of an agent serving: asking back, formal 您, stock formulas, message shape.

    Real agent messages are often long, formal or clarifying questions; these cues let the
    model tell them from curt brush-offs without relying on rare n-grams.
    """
    n = len(text)
    sentences = [part for part in _SENTENCE_SPLIT.split(text) if part]
    ends_question = core.endswith(_QUESTION_END) or text.rstrip().endswith(("？", "?"))
    ask_back = text.startswith(_ASK_BACK_START) or _has_ask_back_cue(text)
    return {
        "agent_question": float(ends_question),
        "agent_ask_back": float(ask_back),
        "agent_ask_back_question": float(ask_back and ends_question),
        "formal_you": _capped(text.count("您")),
        "plain_you_only": float("你" in text and "您" not in text),
        "please": float("请" in text),
        "thanks_or_sorry": float(_has_thanks_or_sorry(text)),
        "service_cue": _capped(_present(text, _SERVICE_CUES, _has_service_cue)),
        "has_number": float(bool(_LONG_NUMBER.search(text) or _MASKED_VALUE.search(text))),
        "sentences": _capped(len(sentences)),
        "len_bucket_21_40": float(20 < n <= 40),
        "len_bucket_41_80": float(40 < n <= 80),
        "len_bucket_gt_80": float(n > 80),
    }


def buyer_turn_kinds(text: str) -> frozenset[str]:
    """Kinds of a buyer turn as the forbidden-phrase rule reads them (question, problem, data …).

    Empty when the lexicon rule is not installed.
    """
    rule = _lexicon_rule()
    return rule.classify_turn(text) if rule is not None else frozenset()


def _buyer_turns(context: Sequence[tuple[str, str]]) -> list[str]:
    recent = list(context)[-_CONTEXT_TURNS:]
    return [text for role, text in recent if role == "customer"]


def _overlap(a: str, b: str) -> float:
    if not a or not b:
        return 0.0
    sa, sb = set(a), set(b)
    return len(sa & sb) / max(len(sa), len(sb))


def _overlap_share(reply: str, question: str) -> float:
    """Share of a short reply's characters that the buyer's question contains (要 → 要冷藏吗)."""
    chars = [ch for ch in reply if ch.strip()]
    if not chars or not question:
        return 0.0
    return sum(ch in question for ch in chars) / len(chars)


def _capped(count: int) -> float:
    """A count that stops growing at a few: long merged messages must not look extreme."""
    return float(min(count, _MAX_COUNT))


def _log1p(n: int) -> float:
    import math

    return math.log1p(n)


def tokenize(text: str) -> list[str]:
    """Word tokens of a text from the shared tokenizer (:func:`qc.text.tokens.tokenize`, jieba).

    The one switch point for tokenization; any change here bumps :data:`FEATURE_VERSION`.
    """
    return list(shared_tokenize(text))


def message_sentiment(tokens: Sequence[str]) -> float:
    """Snownlp's positive probability over ready tokens (a weak feature, never a verdict).

    Calls snownlp's Bayes classifier on the tokens we already have instead of
    ``SnowNLP(text)``, which would re-segment in slow pure Python.
    """
    if not tokens:
        return 0.5
    classifier, filter_stop = _snownlp()
    words = filter_stop(list(tokens))
    if not words:
        return 0.5
    label, prob = classifier.classify(words)
    return round(prob if label == "pos" else 1.0 - prob, 4)


@lru_cache(maxsize=1)
def _snownlp():  # noqa: ANN202 - (Bayes classifier, stop-word filter)
    # snownlp's own sentiment model and stop words, read without ``import snownlp`` (which
    # also loads its segmenter and tagger: 2.7 s and 380 MB per process); classify and
    # filter_stop are snownlp's step for step (tests/test_fast_paths.py).

    bayes = snow_bayes()
    return bayes, bayes.filter_stop


def lexicon_cues(message: str, context: Sequence[tuple[str, str]] = ()) -> dict[str, float]:
    """The forbidden-phrase rule's view of a message in its context, as numeric cues.

    Counts the rule's live and suppressed hits and the live hits whose lexicon entry implies
    impatience or conflict. All zeros when the rule is not installed. The bundled lexicon is
    used, and its label is recorded in the model's meta (:func:`lexicon_label`), because
    editing the lexicon changes these features. Only the turns inside the lexicon's lookback
    window can change the result, so only they are passed on (and cached).
    """
    return dict(zip(_NO_CUES, _lexicon_values(message, context), strict=True))


def _lexicon_values(message: str, context: Sequence[tuple[str, str]]) -> tuple[float, ...]:
    """:func:`lexicon_cues`' values in the order of ``_NO_CUES``."""
    rule = _lexicon_rule()
    if rule is None or not rule.may_flag(message):
        return tuple(_NO_CUES.values())  # most replies: nothing to judge, in any context
    window = rule.lexicon.context.lookback
    return _lexicon_cues(message, tuple(tuple(turn) for turn in context[-window:] if window > 0))


_NO_CUES = {"live": 0.0, "suppressed": 0.0, "implies_impatience": 0.0, "implies_conflict": 0.0}


@lru_cache(maxsize=_PAIR_CACHE_SIZE)
def _lexicon_cues(message: str, context: tuple[tuple[str, str], ...]) -> tuple[float, ...]:

    rule = _lexicon_rule()
    cues = dict(_NO_CUES)
    turns = [
        Message(i, Role(role), text, sender="agent" if role == "agent" else None)
        for i, (role, text) in enumerate(context)
    ]
    turns.append(Message(len(turns), Role.AGENT, message, sender="agent"))
    conversation = Conversation("features", tuple(turns))
    for finding in rule.check_message(conversation, len(context)):
        cues["suppressed" if finding.suppressed else "live"] += 1.0
        implied = finding.evidence.details.get("implies")
        if finding.live and implied in ("impatience", "conflict"):
            cues[f"implies_{implied}"] += 1.0
    return tuple(cues.values())


def context_window() -> int:
    """How many turns before a message any attitude feature reads (the rest never matters)."""
    rule = _lexicon_rule()
    return max(_CONTEXT_TURNS, rule.lexicon.context.lookback if rule is not None else 0)


def lexicon_label() -> str | None:
    """Version and hash of the lexicon behind :func:`lexicon_cues`, or None without one."""
    rule = _lexicon_rule()
    return rule.lexicon.label if rule is not None else None


@lru_cache(maxsize=1)
def _lexicon_rule() -> ForbiddenPhraseRule:
    """The forbidden-phrase rule with the bundled lexicon (the one the model's cues were trained with)."""
    return ForbiddenPhraseRule(load_lexicon())
