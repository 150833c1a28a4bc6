"""Seeded generator of TRAINING-only attitude samples (ANNOTATION.md format).

Why this exists: hand-written samples are few and precious, so they are kept for
evaluation. The classifier still needs volume and variety to learn that the same
word flips meaning with context (a lone 嗯 after an order number is fine, after
"能今天发货吗" it is impatience). This script writes ``generated.jsonl`` from its own
templates and slot vocabularies, written from scratch for this file; it never reads
the hand-written samples, the seeds or the real chats.

How a sample is made:
    1. draw the label from a shuffled schedule that fixes the label mix;
    2. draw a buyer *topic* (an intent such as ``yesno`` or ``fault`` plus the buyer
       phrasings that express it) whose intent admits at least one agent *move*
       with that label under :func:`label_for`;
    3. draw a move (e.g. ``bare_interjection``, ``soft_negative``, ``blame``) and one
       of its reply templates, fill the slots (product, size, colour, courier …)
       from one shared slot set so buyer and agent talk about the same thing;
    4. add writing-style noise (亲/宝, emoji codes, typos, punctuation styles) that
       never changes the label;
    5. drop exact (context, text) duplicates.

The label is never written next to a template: it is computed by :func:`label_for`
from the buyer intent and the agent move, which is where the ANNOTATION.md
conventions live. Run ``python annotated_samples/generate.py`` to rewrite the file;
the output is byte-identical for a given seed.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

SEED = 20261125
# Label mix of the generated file (about 55% ok, 28% impatience, 17% conflict).
TARGET_COUNTS: Mapping[str, int] = {"ok": 1375, "impatience": 700, "conflict": 425}
LABELS = ("ok", "impatience", "conflict")
DEFAULT_OUT = Path(__file__).resolve().with_name("generated.jsonl")

# The phrases a forbidden-word lexicon typically lists. Used to report (and test)
# the share of impatience/conflict samples that a lexicon alone cannot catch.
LEXICON_PHRASES = (
    "不",
    "哦",
    "嗯",
    "恩",
    "不知道",
    "不清楚",
    "不懂",
    "自己选",
    "自己看",
    "投诉",
    "爱买不买",
    "没有",
    "不能",
    "不行",
)

# ---------------------------------------------------------------------------
# Labelling conventions (ANNOTATION.md) as a function of buyer intent and agent move
# ---------------------------------------------------------------------------

#: Buyer asked something answerable (open or yes/no) or pressed the same point again.
QUESTION_INTENTS = frozenset({"question", "yesno", "haggle", "eta", "repeat"})
#: Buyer reported a problem, is angry, or threatens: a reply is owed.
PROBLEM_INTENTS = frozenset({"return", "fault", "angry", "threat"})
#: Buyer said something that only needs acknowledging.
ACK_INTENTS = frozenset({"statement", "thanks", "data", "greeting"})
INTENTS = QUESTION_INTENTS | PROBLEM_INTENTS | ACK_INTENTS

#: Moves whose label does not depend on what the buyer said.
FIXED_MOVE_LABELS: Mapping[str, str] = {
    # ok: helpful, polite, apologetic, calm, reassuring, explained refusals
    "answer": "ok",
    "apology": "ok",
    "soft_negative": "ok",
    "reassure": "ok",
    "ack_help": "ok",
    "calm": "ok",
    "thanks_reply": "ok",
    "unknown_handover": "ok",
    "re_answer": "ok",
    # impatience: unwilling to serve, but no attack on the buyer
    "pushaway": "impatience",
    "rush": "impatience",
    "brush_off": "impatience",
    "unknown_bare": "impatience",
    "repeat_irritation": "impatience",
    # conflict: argues with, blames, mocks, insults, dares or threatens the buyer
    "challenge": "conflict",
    "blame": "conflict",
    "insult": "conflict",
    "sarcasm": "conflict",
    "dare_complain": "conflict",
    "accuse": "conflict",
    "anger_back": "conflict",
}

#: Moves whose label depends on the buyer's intent.
CONTEXT_MOVES = (
    "bare_interjection",
    "double_interjection",
    "bare_negative",
    "bare_affirmative",
    "bare_zai",
)


def label_for(intent: str, move: str) -> str:
    """Label an agent move given the buyer intent it answers, per ANNOTATION.md.

    Args:
        intent: buyer intent of the context (one of :data:`INTENTS`).
        move: what the agent does (a key of :data:`FIXED_MOVE_LABELS` or one of
            :data:`CONTEXT_MOVES`).

    Returns:
        ``"ok"``, ``"impatience"`` or ``"conflict"``.

    Raises:
        ValueError: for an unknown intent or move, or a pair the conventions do not
            cover (e.g. a bare 没有 after a thank-you), so templates cannot drift
            into unlabelled territory.
    """
    if intent not in INTENTS:
        raise ValueError(f"unknown intent {intent!r}")
    if move in FIXED_MOVE_LABELS:
        return FIXED_MOVE_LABELS[move]
    if move == "bare_interjection":
        # A lone 嗯/哦/恩 acknowledges a statement, thanks or data, but leaves a real
        # question or a reported problem unanswered.
        return "ok" if intent in ACK_INTENTS else "impatience"
    if move == "double_interjection":
        # 嗯嗯 is a clear yes to a yes/no question and a friendly acknowledgement of
        # a statement; to an open question or a reported problem it answers nothing.
        if intent == "yesno" or intent in ACK_INTENTS:
            return "ok"
        return "impatience"
    if move == "bare_negative":
        # 没有 / 不能 / 不行 with no particle and no explanation to a real question.
        if intent in QUESTION_INTENTS or intent == "return":
            return "impatience"
        raise ValueError(f"a bare negative does not answer intent {intent!r}")
    if move == "bare_affirmative":
        # 是的 / 可以 / 有 answering a yes/no question is an answer.
        if intent in {"yesno", "return"}:
            return "ok"
        raise ValueError(f"a bare affirmative does not answer intent {intent!r}")
    if move == "bare_zai":
        # A lone 在 answers "在吗" but not a product question.
        if intent == "greeting":
            return "ok"
        if intent == "question":
            return "impatience"
        raise ValueError(f"a bare 在 does not fit intent {intent!r}")
    raise ValueError(f"unknown move {move!r}")


def lexicon_phrases_in(text: str) -> list[str]:
    """Lexicon phrases (:data:`LEXICON_PHRASES`) that occur anywhere in ``text``."""
    return [p for p in LEXICON_PHRASES if p in text]


# ---------------------------------------------------------------------------
# Slot vocabularies
# ---------------------------------------------------------------------------

CATALOG: Mapping[str, tuple[str, ...]] = {
    "clothing": (
        "连帽卫衣",
        "羊毛大衣",
        "高腰牛仔裤",
        "真丝衬衫",
        "短款羽绒服",
        "针织开衫",
        "碎花连衣裙",
        "运动短裤",
    ),
    "shoes": ("小白鞋", "马丁靴", "缓震跑鞋", "洞洞鞋", "帆布鞋", "雪地靴", "乐福鞋"),
    "cosmetics": ("哑光口红", "持妆粉底液", "防晒喷雾", "卸妆油", "补水面膜", "烟酰胺精华", "九色眼影盘"),
    "electronics": (
        "蓝牙耳机",
        "20000毫安充电宝",
        "iPhone15手机壳",
        "机械键盘",
        "扫地机器人",
        "电动牙刷",
        "Type-C快充线",
        "智能手表",
    ),
    "food": ("坚果礼盒", "挂耳咖啡", "风干牛肉干", "螺蛳粉", "土蜂蜜", "黄油曲奇", "明前龙井"),
    "furniture": ("实木书桌", "三人布艺沙发", "折叠午睡床", "人体工学椅", "超薄鞋柜", "床头柜"),
    "baby": ("轻便婴儿推车", "拉拉裤", "宽口径奶瓶", "儿童安全座椅", "辅食碗勺套装", "XPE爬行垫"),
    "pets": ("豆腐猫砂", "成犬粮", "多层猫爬架", "宠物牵引绳", "主食猫罐头"),
    "sports": ("加厚瑜伽垫", "可调节哑铃", "碳素羽毛球拍", "骑行头盔", "计数跳绳"),
    "books": ("儿童绘本套装", "考研英语真题", "精装小说", "练字字帖"),
    "jewellery": ("银手镯", "珍珠耳钉", "足金项链", "情侣对戒"),
    "virtual": ("视频会员月卡", "游戏点卡", "话费充值", "网盘超级会员", "电子兑换券"),
}
ALL_CATS = tuple(CATALOG)
PHYSICAL = tuple(c for c in CATALOG if c != "virtual")
WEARABLE = ("clothing", "shoes")
COLOURED = (
    "clothing",
    "shoes",
    "cosmetics",
    "electronics",
    "furniture",
    "baby",
    "sports",
    "jewellery",
    "pets",
)

COLOURS: Mapping[str, tuple[str, ...]] = {
    "cosmetics": ("象牙白", "自然色", "豆沙色", "正红色", "枫叶棕", "#03号", "奶杏色"),
    "default": (
        "黑色",
        "白色",
        "雾霾蓝",
        "奶茶色",
        "酒红色",
        "藏青色",
        "米白色",
        "浅灰色",
        "薄荷绿",
        "焦糖色",
    ),
}
SIZES: Mapping[str, tuple[str, ...]] = {
    "clothing": ("S", "M", "L", "XL", "XXL", "3XL"),
    "shoes": ("35", "36", "37", "38", "39", "40", "41", "42", "43", "44"),
    "default": ("小号", "中号", "大号", "标准款", "加大款"),
}
MATERIALS: Mapping[str, tuple[str, ...]] = {
    "clothing": ("纯棉", "羊毛混纺", "桑蚕丝", "莫代尔", "聚酯纤维"),
    "shoes": ("头层牛皮", "透气网面", "超纤皮", "帆布"),
    "furniture": ("白橡木", "实木框架加高密度海绵", "E0级板材", "碳钢"),
    "jewellery": ("925银", "18K金", "淡水珍珠", "足金"),
    "baby": ("食品级硅胶", "PP材质", "纯棉"),
    "sports": ("TPE", "碳纤维", "铸铁包胶"),
    "pets": ("剑麻", "食品级PP", "豆腐渣"),
    "electronics": ("铝合金", "亲肤硅胶", "ABS阻燃材料"),
}
COURIERS = ("顺丰", "中通", "圆通", "韵达", "京东快递", "EMS", "极兔", "SF", "申通")
CITIES = (
    "北京",
    "上海",
    "广州",
    "成都",
    "乌鲁木齐",
    "拉萨",
    "哈尔滨",
    "杭州",
    "三亚",
    "西宁",
    "南宁",
    "大连",
)
DISTRICTS = ("朝阳", "高新", "江北", "天河", "武侯", "滨江", "新城", "经开")
ROADS = ("人民", "建设", "解放", "长江", "学府", "花园", "迎宾", "和平")
SURNAMES = ("王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴")
TITLES = ("女士", "先生", "小姐")
GIFTS = ("试用装", "小样", "收纳袋", "钥匙扣", "运费险", "擦拭布", "手机支架", "防尘袋")
TIMES = ("下午4点", "17:00", "晚上8点", "中午12点", "16点半", "下午五点")
DAY_WORDS = ("明天", "后天", "周五", "这周末", "下周一")
BUYER_TAGS = ("", "", "", "", "？", "??", "啊", "呀", "呢")

# ---------------------------------------------------------------------------
# Buyer topics: an intent, the phrasings that express it, topic-specific replies
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Topic:
    """One thing a buyer says, with the replies that only make sense after it.

    Attributes:
        id: short name, part of the sample's ``source``.
        intent: buyer intent, drives :func:`label_for`.
        buyer: buyer phrasings (slot templates); one is drawn per sample.
        cats: product categories this topic fits.
        replies: move -> agent reply templates specific to this topic; generic
            replies for the intent come from :data:`GENERIC_REPLIES`.
    """

    id: str
    intent: str
    buyer: tuple[str, ...]
    cats: tuple[str, ...] = PHYSICAL
    replies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


TOPICS: tuple[Topic, ...] = (
    # --- open product questions -------------------------------------------------
    Topic(
        "colour",
        "question",
        ("{product}有哪些颜色", "这个{product}一共几个色", "{product}除了{colour}还有别的色吗", "颜色都有啥"),
        COLOURED,
        {
            "answer": (
                "亲，{product}目前有{colour}和{colour2}两个颜色哦",
                "有{colour}、{colour2}、{colour3}三款，{colour}卖得最好呢",
                "现在在售的是{colour}跟{colour2}，第二张图是实拍",
                "一共三个色：{colour}/{colour2}/{colour3}，显白的话推荐{colour2}",
            ),
        },
    ),
    Topic(
        "sizing",
        "question",
        (
            "身高{height}体重{weight}斤穿什么码",
            "我平时穿{size}，这款选哪个码",
            "{product}偏大还是偏小",
            "{height}cm {weight}斤 拿几码合适",
        ),
        WEARABLE,
        {
            "answer": (
                "按您的身高体重建议拿{size}码，穿着刚好哈",
                "这款是标准码，平时穿{size}就拍{size}",
                "版型偏小一点，建议您拍大一码，选{size2}更舒服",
                "亲，{size}码适合{weight}斤左右，您放心拍",
            ),
        },
    ),
    Topic(
        "material",
        "question",
        ("{product}是什么材质的", "这个{product}用的啥料子", "{product}材质怎么样"),
        tuple(MATERIALS),
        {
            "answer": (
                "亲，{product}是{material}的，手感很好",
                "主体是{material}，详情页最后有材质标签的实拍",
                "用的{material}，我们家卖了三年了，回购的人很多",
            ),
        },
    ),
    Topic(
        "shelf_life",
        "question",
        ("{product}保质期多久", "生产日期是什么时候的", "{product}开封后能放多久"),
        ("food",),
        {
            "answer": (
                "保质期{months}个月，都是这个月新生产的",
                "亲，这批是{date}生产的，很新鲜",
                "开封后建议密封冷藏，{months}周内吃完口感最好",
            ),
        },
    ),
    Topic(
        "usage",
        "question",
        ("{product}怎么用啊", "{product}第一次用要注意什么", "{product}有什么使用技巧"),
        ("electronics", "furniture", "baby", "sports", "cosmetics"),
        {
            "answer": (
                "亲，包装里有使用说明，我再发个视频教程给您",
                "第一次用先看说明书第2页，有问题随时找我",
                "详情页最后有使用小技巧，我也给您发一份图文版",
            ),
        },
    ),
    Topic(
        "battery",
        "question",
        ("{product}充满电能用多久", "{product}续航怎么样", "{product}充电要多长时间"),
        ("electronics",),
        {
            "answer": (
                "正常使用大概{hours}小时左右呢",
                "续航能到{hours}个小时，充满要1.5小时",
                "亲，充满大约2小时，能用{hours}h左右",
            ),
        },
    ),
    Topic(
        "age_range",
        "question",
        ("{product}适合几个月的宝宝", "{product}多大的孩子能用", "新生儿能用{product}吗"),
        ("baby",),
        {
            "answer": (
                "{months}个月以上的宝宝都能用，详情页有月龄对照表",
                "亲，从出生到3岁都能用，换个挡位就行",
                "新生儿也可以用的，放心",
            ),
        },
    ),
    Topic(
        "virtual_delivery",
        "question",
        ("{product}买了多久到账", "{product}怎么兑换", "充值要填什么信息"),
        ("virtual",),
        {
            "answer": (
                "付款后{minutes}分钟内自动到账",
                "兑换码会发在订单详情里，复制到APP就能用",
                "填您要充值的手机号或账号就行，付款后系统自动处理",
            ),
        },
    ),
    Topic(
        "greet_question",
        "question",
        ("在吗，{product}有现货吗", "在不在 问下{product}多少钱", "在吗在吗，{product}什么时候发货"),
        PHYSICAL,
        {
            "answer": ("在的亲，{product}有现货，今天下单今天发", "您好在的，我给您详细说一下"),
            "bare_zai": ("在", "在。"),
        },
    ),
    # --- yes/no questions -------------------------------------------------------
    Topic(
        "ship_today",
        "yesno",
        ("今天能发货吗", "现在拍今天能发吗", "{time}前拍能当天发吗", "能今天发货吗"),
        PHYSICAL,
        {
            "answer": (
                "可以的亲，{time}前付款当天就发{courier}",
                "能的，仓库下午统一发货",
                "今天就能发，放心拍",
            ),
            "bare_affirmative": ("可以", "能", "能的", "可以的"),
            "bare_negative": ("不能", "不行", "发不了"),
            "soft_negative": (
                "今天的单已经截了呢，{day}一早给您发出",
                "今天发不了的呢亲，{day}上午优先给您发",
                "不好意思，今天仓库已经下班了，{day}第一批给您发",
            ),
        },
    ),
    Topic(
        "stock_size",
        "yesno",
        ("{size}码还有货吗", "{colour}{size}码有没有", "{size}的还有吗"),
        WEARABLE,
        {
            "answer": ("有的亲，{size}码现货，拍下就能发", "还有几件，喜欢的话尽快拍哈"),
            "bare_affirmative": ("有", "有的", "有货"),
            "bare_negative": ("没有", "没了", "卖完了", "没货"),
            "soft_negative": (
                "亲，{size}码刚好卖完了，预计{day}补货，可以先收藏",
                "{colour}的{size}码暂时断货了呢，{colour2}还有现货哦",
                "这个码没有了哦，{size2}码还有，要不要看看尺码表",
            ),
        },
    ),
    Topic(
        "stock_item",
        "yesno",
        ("{product}还有现货吗", "{colour}的{product}还有吗", "这个{product}有货没"),
        COLOURED,
        {
            "answer": ("有现货的，今天拍今天发", "亲，{colour}还有库存，放心拍"),
            "bare_affirmative": ("有", "有的"),
            "bare_negative": ("没有", "没了", "卖完了"),
            "soft_negative": (
                "{colour}暂时没有了呢，{day}到货，到了我第一时间通知您",
                "抱歉亲，这批卖完了，{colour2}的还有，看看喜不喜欢",
            ),
        },
    ),
    Topic(
        "gift",
        "yesno",
        ("有赠品吗", "买两件送东西吗", "{product}送{gift}吗"),
        PHYSICAL,
        {
            "answer": ("有的，下单就送{gift}一份", "亲，买两件送{gift}，备注一下就行"),
            "bare_affirmative": ("有", "有的", "送"),
            "bare_negative": ("没有", "不送", "没"),
            "soft_negative": (
                "这款暂时没有赠品呢，不过收藏店铺可以领{coupon}元券哦",
                "不送的哦亲，但满{price}包邮",
                "赠品这次活动没有安排呢，我给您申请一张{coupon}元的券吧",
            ),
        },
    ),
    Topic(
        "free_shipping",
        "yesno",
        ("包邮吗", "发{city}包邮不", "运费多少，包邮吗"),
        PHYSICAL,
        {
            "answer": ("包邮的亲，默认发{courier}", "{city}是包邮的，放心拍"),
            "bare_affirmative": ("包邮", "包的", "包"),
            "bare_negative": ("不包", "不包邮"),
            "soft_negative": (
                "亲，{city}需要补{fee}元运费呢，其他地区都包邮",
                "偏远地区要补一点运费的哦，{city}补{fee}块就可以",
            ),
        },
    ),
    Topic(
        "invoice",
        "yesno",
        ("能开发票吗", "可以开专票吗", "公司报销要发票，能开不"),
        ALL_CATS,
        {
            "answer": ("可以的，下单后把抬头和税号发我就行", "能开电子发票，确认收货后自动发到邮箱"),
            "bare_affirmative": ("可以", "能", "可以开"),
            "bare_negative": ("不能", "不开", "开不了"),
            "soft_negative": (
                "亲，电子普票可以开，专票暂时开不了呢，抱歉",
                "专票需要满{price}元才能开的哦，普票随时可以",
            ),
        },
    ),
    Topic(
        "authentic",
        "yesno",
        ("是正品吗", "{product}是官方授权的吗", "会不会是假货"),
        ALL_CATS,
        {
            "answer": ("亲，保证正品，支持专柜验货", "是品牌授权店，假一赔三，放心买"),
            "bare_affirmative": ("是的", "正品", "对的"),
            "double_interjection": (),
            "reassure": ("不会的亲，我们只卖正品，可以查防伪码", "不会是假的哦，每件都有溯源码"),
            "challenge": ("信就买，爱信信", "怕假就别买，又没人逼你"),
            "sarcasm": ("对对对，全网就我们卖假货", "您说是假的那就是假的呗"),
        },
    ),
    Topic(
        "courier_choice",
        "yesno",
        ("能发{courier}吗", "可以指定{courier}吗", "我这只能收{courier}，行吗"),
        PHYSICAL,
        {
            "answer": ("可以的，备注一下{courier}就行", "行的亲，给您安排{courier}"),
            "bare_affirmative": ("可以", "行", "能"),
            "bare_negative": ("不行", "不能", "发不了"),
            "soft_negative": (
                "默认发{courier2}哦，指定{courier}需要补{fee}元差价呢",
                "亲，{courier}我们暂时合作不了，{courier2}也很快的，可以吗",
            ),
        },
    ),
    Topic(
        "return_policy",
        "yesno",
        ("支持7天无理由吗", "不合适能退吗", "拆了包装还能退吗"),
        ALL_CATS,
        {
            "answer": ("支持7天无理由退换，吊牌别拆就行", "可以退的亲，不影响二次销售都能退"),
            "bare_affirmative": ("支持", "可以", "能退"),
            "bare_negative": ("不能", "不支持", "不行"),
            "soft_negative": (
                "这款是定制的，不支持无理由退换呢，下单前可以先跟我确认尺寸",
                "虚拟商品发出后没法退的哦，抱歉呢，拍之前有疑问都可以问我",
                "拆封后影响二次销售就不能退了哦，质量问题我们一定负责",
            ),
        },
    ),
    Topic(
        "shrink",
        "yesno",
        ("洗了会缩水吗", "{product}会掉色吗", "会起球吗"),
        ("clothing", "baby"),
        {
            "reassure": (
                "不会的亲，放心",
                "不会缩水的哦，出厂前都预缩过",
                "亲，正常洗护不会掉色，第一次单独洗一下就好",
                "没事的，{material}的不容易起球",
            ),
            "double_interjection": (),
        },
    ),
    # --- price haggling ---------------------------------------------------------
    Topic(
        "haggle",
        "haggle",
        (
            "能便宜点吗",
            "{price}卖不卖",
            "两件能打折吗",
            "别家才{price2}，你们怎么这么贵",
            "老顾客了给点优惠呗",
        ),
        ALL_CATS,
        {
            "soft_negative": (
                "非常抱歉亲，这已经是活动价了，可以送您一个{gift}",
                "不能再便宜了哦，不过两件可以减{coupon}元",
                "价格是统一定的呢，领券后还能便宜{coupon}块",
                "亲，真的是最低价啦，给您多加一份{gift}好吗",
            ),
            "bare_negative": ("不能", "不行", "不", "没优惠"),
            "rush": ("就这个价，拍不拍", "要就拍吧", "价格就这样，您考虑好了直接下单"),
            "sarcasm": ("您可真会砍价", "{price2}？要不我倒贴给您", "哟，还挺会讲价，去菜市场练的吧"),
            "challenge": (
                "嫌贵去别家啊",
                "爱买不买",
                "买不起就别问了",
                "别家便宜你去别家买呗",
                "嫌这嫌那的，别买了呗",
            ),
            "pushaway": ("价格页面上都有", "券自己去首页领", "优惠都写在详情页了"),
        },
    ),
    # --- shipping ETA -----------------------------------------------------------
    Topic(
        "eta_estimate",
        "eta",
        ("几天能到{city}", "{day}前能到吗", "发{city}要几天", "{courier}到{city}快吗"),
        PHYSICAL,
        {
            "answer": (
                "发{city}一般{n}天左右，我帮您盯着物流",
                "{courier}的话{n}天能到{city}，偏远一点会慢一天",
                "亲，今天发出的话{day}前能到",
            ),
            "unknown_handover": (
                "具体时效要看{courier}那边，我帮您问问网点再答复您",
                "我不太清楚{city}那边最近的时效，我马上问下仓库同事",
            ),
            "pushaway": ("问快递去", "找{courier}问吧", "时效页面上有"),
            "unknown_bare": ("不知道", "不清楚", "这谁说得准", "我哪知道"),
            "sarcasm": ("您急的话自己开车来拿呗", "要不我亲自给您送过去？"),
        },
    ),
    Topic(
        "eta_chase",
        "eta",
        ("我的快递到哪了", "怎么还没发货", "物流三天没更新了", "拍了一周了还没到"),
        PHYSICAL,
        {
            "answer": (
                "亲，我查了一下，包裹已经到{city}中转站了，预计{n}天内送到",
                "已经在派送中了，今天就能到",
                "非常抱歉久等了，仓库这两天爆单，{day}一定给您发出",
            ),
            "unknown_handover": (
                "这个我这边看不到具体位置呢，我帮您联系{courier}催一下",
                "物流停在中转站了，我已经提交催件，有结果第一时间告诉您",
            ),
            "pushaway": ("自己查物流啊", "单号都给你了", "物流信息上都有", "找{courier}问吧"),
            "unknown_bare": ("不知道", "不清楚", "我哪知道"),
            "anger_back": ("催什么催，又不是我送快递", "天天催，快递是我家开的？", "催也没用，你再催试试"),
        },
    ),
    # --- return / exchange requests ---------------------------------------------
    Topic(
        "return_request",
        "return",
        ("我想退货", "这个怎么退", "不想要了，怎么申请退", "{product}不太喜欢，想退了"),
        PHYSICAL,
        {
            "answer": (
                "好的亲，您在订单里申请退货，选7天无理由就行，运费险会赔付",
                "没问题，我这边给您发退货地址，寄回后告诉我单号",
                "可以的，订单页点申请售后，我这边秒同意",
            ),
            "soft_negative": (
                "亲，拆封后的{product}不能退呢，如果有质量问题我们一定负责",
                "抱歉亲，已经过了7天无理由的期限，质量问题的话我帮您走保修",
            ),
            "pushaway": ("自己在订单里点申请", "流程页面写着呢", "找平台去", "自己看退货说明"),
            "accuse": ("用了半个月才说退，想白用啊", "这一看就是用过的，别来这套"),
        },
    ),
    Topic(
        "exchange_size",
        "return",
        ("{size}码小了能换{size2}吗", "穿着有点紧，能换大一码吗", "{size}的小了，想换{size2}"),
        WEARABLE,
        {
            "answer": (
                "可以换的，寄回时备注换{size2}码，我们收到马上换新",
                "能换的亲，您申请换货，我这边优先处理",
            ),
            "soft_negative": (
                "非常抱歉，{size2}码没有库存了，可以给您直接退款",
                "亲，{size2}码在调货，{day}到，您看是等一等还是直接退款",
            ),
            "bare_affirmative": ("可以", "能"),
            "bare_negative": ("不能", "不行", "换不了"),
            "pushaway": ("自己申请换货", "尺码表自己看"),
            "blame": ("当初让你看清楚尺码的", "买之前自己不量好，现在来换", "尺码表放那儿你偏要选小的"),
            "accuse": ("穿过了还想换？",),
        },
    ),
    Topic(
        "refund_eta",
        "return",
        ("退款什么时候到账", "退货寄回去三天了，钱啥时候退", "怎么还没退款"),
        ALL_CATS,
        {
            "answer": (
                "退款原路返回，一般1-3个工作日到账",
                "仓库今天签收了，我这就给您点退款，稍后留意一下",
                "亲，退款已经提交了，支付宝一般当天就到",
            ),
            "unknown_handover": ("到账时间要看银行处理，我帮您问下财务，有结果马上告诉您",),
            "pushaway": ("问支付宝去", "去问银行"),
            "unknown_bare": ("不清楚", "谁知道呢"),
            "brush_off": ("等着吧", "急什么"),
        },
    ),
    # --- reported faults --------------------------------------------------------
    Topic(
        "fault",
        "fault",
        (
            "收到的{product}是坏的",
            "少发了一个",
            "颜色发错了，我要的是{colour}",
            "{product}用了两天就坏了",
            "包装破了，里面漏了",
            "色差太大了吧",
        ),
        COLOURED,
        {
            "apology": (
                "非常抱歉给您添麻烦了，麻烦拍张照片给我，我马上给您补发",
                "实在不好意思，是我们仓库的失误，这就给您重新发{colour}的",
                "亲，先别着急，您拍个视频给我看下，能修就修，修不了直接换新",
                "给您添堵了真抱歉，少发的那个今天就给您补发{courier}",
            ),
            "pushaway": ("你去问快递", "联系厂家售后吧", "找物流公司去", "自己找售后"),
            "blame": (
                "肯定是你自己摔的",
                "你自己不会用吧",
                "我们发出去的时候好好的，你别赖我们",
                "签收的时候干嘛不检查",
                "自己用坏的还来找商家",
            ),
            "accuse": ("你是想白嫖吧", "别想讹人", "每单都拍了视频，你少骗人"),
            "brush_off": ("等着吧", "知道了", "处理中，等通知"),
        },
    ),
    Topic(
        "virtual_fault",
        "fault",
        ("{product}兑换码用不了", "充值一直没到账", "{product}显示已被使用"),
        ("virtual",),
        {
            "apology": (
                "非常抱歉亲，您把截图发我一下，我马上帮您换一个码",
                "不好意思让您着急了，我这边查一下充值记录，五分钟内回复您",
            ),
            "pushaway": ("找平台客服", "去问运营商"),
            "accuse": ("码发给你就是好的，你自己用掉了吧", "又想骗一个码？"),
            "brush_off": ("等着吧", "知道了"),
        },
    ),
    # --- angry complaints -------------------------------------------------------
    Topic(
        "angry",
        "angry",
        (
            "你们什么破服务!!!",
            "等了{n}天了还没到，骗子店",
            "垃圾质量，气死我了",
            "客服死哪去了，半天不回",
            "再不给我处理我就报警了",
            "你们还想不想做生意了",
        ),
        ALL_CATS,
        {
            "calm": (
                "亲，非常理解您着急的心情，我马上帮您核实，两分钟内回复您",
                "真的非常抱歉让您生气了，这个问题我负责跟到底",
                "您先消消气，把订单号发我，我立刻处理",
                "给您带来这么差的体验，真的很抱歉，我现在就帮您加急",
            ),
            "anger_back": (
                "你吼什么",
                "嘴巴放干净点",
                "骂人有用吗？",
                "你这人怎么这样",
                "凶什么凶，我欠你的？",
                "好好说话会死吗",
            ),
            "dare_complain": ("有本事去投诉", "那你去投诉吧", "报警去啊，随便你"),
            "sarcasm": ("行行行，就您最有理", "哟，脾气还挺大", "您这么厉害自己开个店呗"),
            "brush_off": ("处理中，别催了", "等着吧", "急也没用"),
        },
    ),
    # --- extortion / bad-review threats -----------------------------------------
    Topic(
        "threat",
        "threat",
        (
            "不给我退{price}我就差评",
            "赔我{price}，不然一星",
            "不返现就去平台投诉你们",
            "我已经截图了，不处理我就曝光你们",
            "给我补偿{price2}块，这事就算了",
        ),
        ALL_CATS,
        {
            "calm": (
                "亲，理解您的心情，我们会按平台规则给您处理，您先发下照片",
                "评价是您的权利，我们还是会尽力帮您把问题解决",
                "亲，返现这个我们没法做呢，但质量问题可以给您补发或退货",
                "非常抱歉，赔付需要走售后流程，我现在帮您申请",
            ),
            "dare_complain": ("随便你差评", "去投诉啊，谁怕谁", "爱给几星给几星", "想曝光就曝光，请便"),
            "accuse": ("你这是敲诈吧", "想白拿东西？做梦", "拿差评吓唬谁呢"),
            "pushaway": ("这个你跟平台说吧", "找平台处理去"),
        },
    ),
    # --- statements, thanks, data, greetings --------------------------------------
    Topic(
        "statement_browse",
        "statement",
        ("我先看看", "我再考虑一下", "我问问我老公", "我再对比一下别家", "等发工资再买"),
        ALL_CATS,
        {
            "ack_help": (
                "好的亲，有需要随时找我",
                "好滴，您慢慢看",
                "好的，想好了随时喊我",
                "可以先加购物车，降价会提醒您",
            ),
            "rush": ("看好了没", "考虑那么久干嘛", "到底要不要啊", "快点决定吧，我这边忙"),
            "insult": ("看了半天又不买，浪费时间", "买不起就直说", "问了一堆还不买，逗我玩呢", "穷就别逛了"),
        },
    ),
    Topic(
        "statement_done",
        "statement",
        ("好的我晚点付款", "刚拍了", "已经确认收货了", "我朋友推荐来的", "付好了", "东西已经寄回去了"),
        ALL_CATS,
        {
            "ack_help": (
                "已经看到您的订单了，今天就给您发出",
                "好的，感谢支持",
                "收到，我这边帮您盯着",
                "谢谢您的信任，有问题随时找我",
            ),
        },
    ),
    Topic(
        "thanks",
        "thanks",
        ("谢谢", "谢谢亲，辛苦了", "收到了，挺好的", "好的谢啦", "东西很好，谢谢"),
        ALL_CATS,
        {
            "thanks_reply": (
                "不客气哦",
                "不客气亲，祝您生活愉快",
                "不客气，用得好再来哈",
                "不用谢，应该的",
                "亲满意就好，有空给个好评哈",
                "客气啦宝",
                "不用客气，有问题随时找我",
                "感谢您的支持，期待下次光临",
            ),
        },
    ),
    Topic(
        "data_info",
        "data",
        ("订单号{order}", "{order}", "电话{phone}", "收件人{name} {phone}", "单号是{order}"),
        ALL_CATS,
        {
            "ack_help": (
                "好的亲，已帮您备注",
                "哦哦好的，我查一下这个单",
                "收到，稍等我核对一下",
                "嗯，收到，我这边帮您登记",
            ),
        },
    ),
    Topic(
        "data_address",
        "data",
        ("地址改成{address}", "{address} {name}", "新地址：{address}", "收货地址写错了，应该是{address}"),
        PHYSICAL,
        {
            "ack_help": (
                "嗯嗯收到，马上帮您改地址",
                "好的，已经帮您改好了",
                "收到亲，我通知仓库改一下面单",
            ),
            "pushaway": ("自己在订单里改", "改地址自己去APP弄"),
            "blame": ("早干嘛去了，都发货了才说", "下单的时候干嘛去了", "地址都能写错，也是服了"),
        },
    ),
    Topic(
        "greeting",
        "greeting",
        ("在吗", "有人吗", "你好，在不在", "客服在吗"),
        ALL_CATS,
        {
            "ack_help": ("在的亲，您想了解哪款呢", "您好，我在的", "在呢在呢，您说"),
            "bare_zai": ("在", "在的", "在呢"),
            "brush_off": ("有事说事", "有啥事快说", "快说，忙着呢"),
            "insult": ("叫魂呢", "喊什么喊"),
        },
    ),
)

# Replies that fit every topic of an intent (the move's label still comes from label_for).
_QUESTION_PUSHAWAY = (
    "自己看详情页",
    "上面写着呢",
    "页面上都有",
    "问别人去",
    "您自己选吧",
    "详情页写得清清楚楚",
    "图片里有，翻一下",
    "说明写着呢，仔细看看",
)
_QUESTION_BRUSH = ("先拍了再说", "拍了吗", "还有别的问题吗", "要的话直接拍", "买的话就下单，别问那么多")
_QUESTION_UNKNOWN = ("不知道", "不清楚", "我也不懂", "这个没法说", "谁知道呢", "我哪知道")
_QUESTION_CONFLICT_INSULT = (
    "这都要问？",
    "问这种问题，你是第一次网购吧",
    "识字吗？页面上写着",
    "你是来找茬的吧",
    "问题真多，烦死了",
    "这么简单的事也要人教",
)
_QUESTION_CONFLICT_CHALLENGE = (
    "你到底买不买？不买别浪费我时间",
    "问那么多，到底买不买",
    "不想买就别问",
    "问这么细，你是来买东西还是来查户口的",
    "要买就买，别在这耗我时间",
    "有这功夫问，早该下单了，磨叽什么",
)

GENERIC_REPLIES: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "question": {
        "pushaway": _QUESTION_PUSHAWAY,
        "brush_off": _QUESTION_BRUSH,
        "unknown_bare": _QUESTION_UNKNOWN,
        "unknown_handover": (
            "这个我不太确定，我问一下仓库同事马上回复您",
            "稍等亲，我找技术同事确认一下再答复您",
            "我帮您问问品牌方，有消息第一时间告诉您",
        ),
        "insult": _QUESTION_CONFLICT_INSULT,
        "challenge": _QUESTION_CONFLICT_CHALLENGE,
        "apology": ("不好意思让您久等了，刚才消息太多", "抱歉回复晚了，您问的问题我这就看"),
    },
    "yesno": {
        "pushaway": _QUESTION_PUSHAWAY,
        "brush_off": _QUESTION_BRUSH,
        "unknown_bare": ("不知道", "不清楚", "没法说"),
        "unknown_handover": ("这个我确认一下再答复您，稍等两分钟", "我问下同事，马上告诉您"),
        "challenge": _QUESTION_CONFLICT_CHALLENGE,
        "apology": ("不好意思让您久等了", "抱歉亲，刚才在处理别的订单"),
    },
    "haggle": {
        "brush_off": ("还有别的问题吗", "拍了吗"),
        "unknown_handover": ("价格我做不了主，我帮您问问店长能不能申请", "我去跟主管申请一下，稍等"),
    },
    "eta": {
        "brush_off": ("等着吧", "急也没用", "到了自然会通知你"),
        "apology": ("不好意思让您久等了，我马上帮您查",),
        "reassure": (
            "不会丢的亲，放心，有运费险",
            "没事的，中转站积压一两天很正常，我帮您盯着",
            "不会的亲，每个包裹都有保价，路上丢了我们全额负责",
        ),
    },
    "return": {"apology": ("不好意思给您添麻烦了，我这就帮您处理",)},
    "fault": {
        "reassure": ("没事的亲，这种情况我们包换，您放心", "放心亲，不会让您吃亏的，坏了的我们一定给您换新"),
    },
}

# Replies added for every topic regardless of intent (the label varies by intent).
BARE_INTERJECTIONS = ("嗯", "哦", "恩", "嗯。", "哦。", "嗯…")
DOUBLE_INTERJECTIONS = ("嗯嗯", "哦哦", "恩恩", "嗯嗯。")
# Only a doubled 嗯 reads as a clear yes; 哦哦 acknowledges without answering.
YES_DOUBLES = ("嗯嗯", "恩恩", "嗯嗯。", "嗯嗯！")

# Repeated-question context: the buyer asks, the agent answers, the buyer asks again.
REPEAT_REPLIES: Mapping[str, tuple[str, ...]] = {
    "repeat_irritation": (
        "刚说过了",
        "上面说了",
        "说了几遍了",
        "翻翻聊天记录",
        "同样的问题问三遍了",
        "我刚刚回答过了啊",
        "往上翻",
    ),
    "insult": ("你是看不懂字吗", "我说的是中文吧？", "自己往上翻，眼睛长着干嘛的", "你故意的吧？"),
    "re_answer": ("亲，再跟您确认一下哈，{answer}", "没关系，我再说一遍：{answer}", "是这样的亲，{answer}"),
}
REPEAT_LEADS = ("", "所以", "我是问", "到底", "再问一下，", "那")

# Weight of each move when several moves give the wanted label (default 1.0).
MOVE_WEIGHTS: Mapping[str, float] = {
    "bare_interjection": 1.3,
    "double_interjection": 0.7,
    "bare_negative": 2.5,
    "bare_affirmative": 0.8,
    "bare_zai": 1.5,
    "unknown_bare": 0.9,
    "answer": 1.5,
    "soft_negative": 1.5,
    "ack_help": 1.5,
    "thanks_reply": 3.0,
    "apology": 0.5,
    "unknown_handover": 0.5,
    "dare_complain": 1.8,
    "repeat_irritation": 2.5,
}
# Weight of each intent when choosing a topic (spreads samples over buyer situations).
INTENT_WEIGHTS: Mapping[str, float] = {
    "question": 3.0,
    "yesno": 3.0,
    "haggle": 1.6,
    "eta": 1.8,
    "return": 1.6,
    "fault": 1.8,
    "angry": 1.4,
    "threat": 1.4,
    "statement": 1.2,
    "thanks": 1.6,
    "data": 1.4,
    "greeting": 0.7,
    "repeat": 1.6,
}

# ---------------------------------------------------------------------------
# Style noise
# ---------------------------------------------------------------------------

FRIENDLY_PARTICLES = ("哦", "呢", "哈", "哦亲", "的哦", "呀")
ADDRESSES = ("亲，", "亲亲，", "宝，", "小主，", "亲爱的，", "亲~", "宝子，")
OK_EMOJI = ("[微笑]", "[抱拳]", "[玫瑰]", "[愉快]", "[爱心]", "[可爱]", "[OK]")
RUDE_EMOJI = ("[撇嘴]", "[白眼]", "[发怒]", "[抠鼻]", "[微笑]", "[汗]")
BUYER_EMOJI = ("[流泪]", "[发怒]", "[疑问]", "[微笑]", "[可怜]", "[捂脸]")
# Common chat typos and slang; none of them adds a lexicon phrase.
TYPOS = (
    ("好的", "好滴"),
    ("好的", "好哒"),
    ("吗", "嘛"),
    ("什么", "神马"),
    ("这个", "介个"),
    ("已经", "以经"),
    ("一下", "一哈"),
    ("在的", "再的"),
    ("亲", "侵"),
    ("马上", "马尚"),
    ("没有", "木有"),
    ("知道", "造"),
)
_FULL_TO_HALF = str.maketrans({"，": ",", "？": "?", "！": "!", "：": ":", "。": "."})
_PUNCT = re.compile(r"[，。！？,.!?：:~…]+")
_BARE_MOVES = frozenset(CONTEXT_MOVES)


def _punctuation_style(rng: random.Random, text: str, loud: bool) -> str:
    """Vary punctuation: drop it, switch to half-width, repeat the last mark."""
    roll = rng.random()
    if roll < 0.18:
        text = _PUNCT.sub(" ", text).strip()
    elif roll < 0.40:
        text = text.translate(_FULL_TO_HALF)
    elif roll < 0.50:
        # Mixed widths inside one message.
        text = "".join(ch.translate(_FULL_TO_HALF) if rng.random() < 0.5 else ch for ch in text)
    if loud and rng.random() < 0.35:
        text = text.rstrip("，。！？,.!? ") + rng.choice(("!!!", "！！", "？？", "???", "。。。"))
    return text


def _typos(rng: random.Random, text: str, rate: float) -> str:
    """Apply a few chat typos, each with probability ``rate``."""
    for wrong_from, wrong_to in TYPOS:
        if wrong_from in text and rng.random() < rate:
            text = text.replace(wrong_from, wrong_to, 1)
    return text


def agent_noise(rng: random.Random, text: str, move: str, label: str) -> str:
    """Add writing-style noise to an agent reply without changing its label.

    Bare replies (a lone 嗯, 没有, 在 …) only get punctuation changes, because an
    address or an emoji would make them less bare.
    """
    if move in _BARE_MOVES:
        return text if rng.random() < 0.7 else text.translate(_FULL_TO_HALF)
    text = _typos(rng, text, 0.12)
    if label == "ok" and rng.random() < 0.25 and not text.endswith(FRIENDLY_PARTICLES + ("吗", "？", "！")):
        # Friendly sentence-final particles are good service, not impatience.
        text += "哦" if text.endswith("的") else rng.choice(FRIENDLY_PARTICLES)
    if label == "ok" and rng.random() < 0.3 and "亲" not in text[:6] and not text.startswith(("宝", "小主")):
        text = rng.choice(ADDRESSES) + text
    text = _punctuation_style(rng, text, loud=label != "ok")
    if rng.random() < 0.22:
        text += rng.choice(OK_EMOJI if label == "ok" else RUDE_EMOJI)
    return text


def buyer_noise(rng: random.Random, text: str, asking: bool) -> str:
    """Add writing-style noise to a buyer message; ``asking`` allows question tails."""
    text = _typos(rng, text, 0.1)
    if asking and not text.endswith(("!", "！", "?", "？")):
        text += rng.choice(BUYER_TAGS)
    text = _punctuation_style(rng, text, loud=rng.random() < 0.3)
    if rng.random() < 0.12:
        text += rng.choice(BUYER_EMOJI)
    return text


# ---------------------------------------------------------------------------
# Slots
# ---------------------------------------------------------------------------


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def make_slots(rng: random.Random, category: str) -> dict[str, str]:
    """Draw one coherent set of slot values for a product of ``category``."""
    colours = rng.sample(COLOURS.get(category, COLOURS["default"]), 3)
    size_list = SIZES.get(category, SIZES["default"])
    size_at = rng.randrange(len(size_list) - 1)
    couriers = rng.sample(COURIERS, 2)
    price = rng.choice((19, 29, 39, 59, 69, 88, 99, 129, 158, 199, 268, 399, 599, 899, 1299))
    city = rng.choice(CITIES)
    return {
        "product": rng.choice(CATALOG[category]),
        "colour": colours[0],
        "colour2": colours[1],
        "colour3": colours[2],
        "size": size_list[size_at],
        "size2": size_list[size_at + 1],
        "material": rng.choice(MATERIALS.get(category, ("优质材料",))),
        "height": str(rng.randint(150, 190)),
        "weight": str(rng.randint(85, 190)),
        "months": str(rng.choice((3, 6, 8, 10, 12, 18, 24))),
        "hours": str(rng.choice((6, 8, 10, 24, 30, 48))),
        "minutes": str(rng.choice((5, 10, 15, 30))),
        "price": str(price),
        "price2": str(max(5, price * rng.choice((5, 6, 7, 8)) // 10)),
        "coupon": str(rng.choice((3, 5, 10, 20, 30))),
        "fee": str(rng.choice((6, 8, 10, 12, 15, 20))),
        "gift": rng.choice(GIFTS),
        "courier": couriers[0],
        "courier2": couriers[1],
        "city": city,
        "n": str(rng.randint(2, 9)),
        "day": rng.choice(DAY_WORDS),
        "date": f"{rng.randint(1, 12)}月{rng.randint(1, 28)}号",
        "time": rng.choice(TIMES),
        "order": _digits(rng, rng.choice((16, 18, 19))),
        "address": f"{city}{rng.choice(DISTRICTS)}区{rng.choice(ROADS)}路{rng.randint(1, 399)}号"
        + f"{rng.randint(1, 30)}栋",
        "phone": f"1{rng.choice('3456789')}{_digits(rng, 1)}****{_digits(rng, 4)}",
        "name": rng.choice(SURNAMES) + rng.choice(TITLES),
    }


# ---------------------------------------------------------------------------
# Assembly
# ---------------------------------------------------------------------------

# Phrases listed in ``forbidden`` when a move uses them in the forbidden sense.
FORBIDDEN_BY_MOVE: Mapping[str, tuple[str, ...]] = {
    "bare_negative": ("没有", "不能", "不行"),
    "unknown_bare": ("不知道", "不清楚", "不懂"),
    "unknown_handover": ("不知道", "不清楚"),
    "pushaway": ("自己看", "自己选"),
    "dare_complain": ("投诉",),
    "challenge": ("爱买不买",),
}


def forbidden_for(move: str, text: str) -> list[str]:
    """Forbidden phrases the agent uses in the forbidden sense (ANNOTATION.md).

    A lone interjection as the whole reply lists that interjection; other moves
    list the lexicon phrases their meaning makes forbidden when present.
    """
    core = _PUNCT.sub("", text).strip()
    if move in ("bare_interjection", "double_interjection"):
        return [core[0]] if core and core[0] in "嗯哦恩" else []
    if move == "bare_negative" and core == "不":
        return ["不"]
    return [p for p in FORBIDDEN_BY_MOVE.get(move, ()) if p in text]


def _moves_for(topic: Topic) -> dict[str, tuple[str, ...]]:
    """All moves (with templates) an agent can make after ``topic``."""
    moves: dict[str, tuple[str, ...]] = dict(GENERIC_REPLIES.get(topic.intent, {}))
    moves["bare_interjection"] = BARE_INTERJECTIONS
    if topic.intent == "yesno":
        moves["double_interjection"] = YES_DOUBLES
    elif topic.intent != "haggle":
        moves["double_interjection"] = DOUBLE_INTERJECTIONS
    for move, templates in topic.replies.items():
        if templates:
            moves[move] = templates
        else:
            moves.pop(move, None)  # an empty tuple switches a generic move off
    return moves


def _repeat_moves() -> dict[str, tuple[str, ...]]:
    """Moves after a repeated question: irritation, insults, a patient re-answer, a lone 嗯."""
    moves = dict(REPEAT_REPLIES)
    moves["bare_interjection"] = BARE_INTERJECTIONS
    return moves


@dataclass(frozen=True)
class Sample:
    """One generated agent message with its buyer context and label."""

    context: tuple[tuple[str, str], ...]
    text: str
    label: str
    source: str
    forbidden: tuple[str, ...]

    def key(self) -> tuple[tuple[tuple[str, str], ...], str]:
        """Identity used for de-duplication: the exact context and reply."""
        return (self.context, self.text)


def _labelled_moves(intent: str, moves: Mapping[str, Sequence[str]], label: str) -> list[str]:
    return [m for m in moves if label_for(intent, m) == label]


def _choose_weighted(rng: random.Random, items: Sequence[str], weights: Mapping[str, float]) -> str:
    return rng.choices(list(items), weights=[weights.get(i, 1.0) for i in items], k=1)[0]


REPEATABLE = tuple(t for t in TOPICS if t.intent in {"question", "yesno"} and t.replies.get("answer"))


def _topic_pool(label: str) -> dict[str, list[Topic]]:
    """Topics per intent that admit at least one move with ``label``."""
    pool: dict[str, list[Topic]] = {}
    for topic in TOPICS:
        if _labelled_moves(topic.intent, _moves_for(topic), label):
            pool.setdefault(topic.intent, []).append(topic)
    if _labelled_moves("repeat", _repeat_moves(), label):
        pool["repeat"] = list(REPEATABLE)
    return pool


def draw_sample(rng: random.Random, label: str, pools: Mapping[str, Mapping[str, list[Topic]]]) -> Sample:
    """Draw one sample with the wanted ``label``."""
    pool = pools[label]
    intent = _choose_weighted(rng, list(pool), INTENT_WEIGHTS)
    topic = rng.choice(pool[intent])
    slots = make_slots(rng, rng.choice(topic.cats))
    question = rng.choice(topic.buyer).format(**slots)
    if intent == "repeat":
        moves = _repeat_moves()
        answer = rng.choice(topic.replies["answer"]).format(**slots)
        again = rng.choice(REPEAT_LEADS) + question
        context = (
            ("customer", buyer_noise(rng, question, asking=True)),
            ("agent", answer),
            ("customer", buyer_noise(rng, again, asking=True)),
        )
        slots["answer"] = answer.removeprefix("亲，")
    else:
        moves = _moves_for(topic)
        context = (("customer", buyer_noise(rng, question, asking=intent in QUESTION_INTENTS)),)
    move = _choose_weighted(rng, _labelled_moves(intent, moves, label), MOVE_WEIGHTS)
    text = agent_noise(rng, rng.choice(moves[move]).format(**slots), move, label)
    family = "repeat." + topic.id if intent == "repeat" else topic.id
    return Sample(context, text, label, f"generated:{family}.{move}", tuple(forbidden_for(move, text)))


def generate(seed: int = SEED, counts: Mapping[str, int] = TARGET_COUNTS) -> list[dict[str, object]]:
    """Generate the records of ``generated.jsonl``, deterministically for ``seed``.

    Args:
        seed: random seed; the same seed gives the same records in the same order.
        counts: how many samples of each label to produce.

    Returns:
        Records in the ANNOTATION.md format, ids ``g00001`` upwards.

    Raises:
        RuntimeError: if the templates cannot yield enough distinct samples.
    """
    rng = random.Random(seed)
    pools = {label: _topic_pool(label) for label in counts}
    schedule = [label for label in LABELS if label in counts for _ in range(counts[label])]
    rng.shuffle(schedule)
    seen: set[tuple[tuple[tuple[str, str], ...], str]] = set()
    records: list[dict[str, object]] = []
    for label in schedule:
        for _attempt in range(500):
            sample = draw_sample(rng, label, pools)
            if sample.key() not in seen:
                break
        else:
            raise RuntimeError(f"templates exhausted for label {label!r}")
        seen.add(sample.key())
        record: dict[str, object] = {
            "id": f"g{len(records) + 1:05d}",
            "context": [{"role": role, "text": text} for role, text in sample.context],
            "text": sample.text,
            "label": sample.label,
            "source": sample.source,
        }
        if sample.forbidden:
            record["forbidden"] = list(sample.forbidden)
        records.append(record)
    return records


def write_jsonl(records: Iterable[Mapping[str, object]], path: Path) -> None:
    """Write records as UTF-8 JSON Lines with Unix line endings (byte-stable)."""
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for record in records:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")


def summarize(records: Sequence[Mapping[str, object]]) -> str:
    """Markdown tables: label counts, counts per buyer intent and per agent move, no-phrase share."""
    intent_of = {t.id: t.intent for t in TOPICS}
    labels = Counter(str(r["label"]) for r in records)
    by_intent: dict[str, Counter[str]] = {}
    by_move: dict[str, Counter[str]] = {}
    for r in records:
        family, move = str(r["source"]).split(":", 1)[1].split(".")[0], str(r["source"]).rsplit(".", 1)[1]
        intent = "repeat" if family == "repeat" else intent_of[family]
        by_intent.setdefault(intent, Counter())[str(r["label"])] += 1
        by_move.setdefault(move, Counter())[str(r["label"])] += 1
    lines = ["| label | samples |", "|---|---|"]
    lines += [f"| {label} | {labels[label]} |" for label in LABELS]
    lines.append(f"| total | {len(records)} |")
    for title, table in (("buyer intent", by_intent), ("agent move", by_move)):
        lines += ["", f"| {title} | ok | impatience | conflict |", "|---|---|---|---|"]
        for name, c in sorted(table.items()):
            lines.append(f"| {name} | {c['ok']} | {c['impatience']} | {c['conflict']} |")
    bad = [r for r in records if r["label"] != "ok"]
    clean = [r for r in bad if not lexicon_phrases_in(str(r["text"]))]
    by_label = Counter(str(r["label"]) for r in clean)
    lines += [
        "",
        f"No lexicon phrase in {len(clean)} of {len(bad)} impatience+conflict samples "
        f"({len(clean) / max(1, len(bad)):.1%}): impatience {by_label['impatience']}, "
        f"conflict {by_label['conflict']}.",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: write the generated samples (and optionally print a summary)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output JSONL file")
    parser.add_argument("--seed", type=int, default=SEED, help="random seed")
    parser.add_argument("--stats", action="store_true", help="print Markdown summary tables")
    args = parser.parse_args(argv)
    records = generate(args.seed)
    write_jsonl(records, args.out)
    print(f"wrote {len(records)} samples to {args.out}", file=sys.stderr)
    if args.stats:
        print(summarize(records))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
