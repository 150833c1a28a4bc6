"""Seeded generator of realistic (synthetic) customer-service conversations.

Builds days of Taobao/Tmall-style chats between buyers and a shop's agents, in
the qc data model, for the bundled demo day, tests and benchmarks. Everything
is driven by one ``random.Random(seed)``, so the same arguments always give the
same conversations. Phrase banks are plain tuples of templates filled with
``str.format``; no per-message heavy work, so a million messages take seconds.

What a generated day contains: greetings, auto-replies (``auto_reply=True``),
system notices, buyer questions across product categories and service stages,
consecutive buyer bubbles, realistic reply delays (some slow), transfers
between agents with or without a hand-over message, unanswered buyers, fake
contact data (phone numbers ``1380000xxxx``, made-up streets, order numbers),
a few conversations crossing midnight, and a behaviour mix: mostly polite
agents (with the friendly particles and apologies that must not be charged),
some impatience, rare conflict, and calm replies to angry buyers.

The intended label of every typed agent message (``ok`` / ``impatience`` /
``conflict``, as in the annotation guideline) is kept only in the side
structure :class:`LabelledConversation`, never inside the messages.

All wording is written for this module; none comes from real chats.

Example:
    >>> from datetime import date
    >>> from qc.synth.conversations import generate_day, iter_conversations
    >>> day = generate_day(date(2026, 11, 24), 300, seed=7)
    >>> big = iter_conversations(date(2026, 11, 24), seed=7, n_messages=1_000_000)  # streams

From a shell: ``python -m qc.synth.conversations --out day.jsonl --messages 1000000`` (any
format of :mod:`qc.synth.exports` via ``--format``), or ``python -m qc.synth.conversations
--demo demo`` to rebuild the bundled demo day.
"""

from __future__ import annotations

import argparse
import bisect
import csv
import io
import json
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from qc.schema import Conversation, Message, Role
from qc.synth import exports as exporters

__all__ = [
    "BEHAVIOURS",
    "DEFAULT_AGENTS",
    "DEFAULT_SHOP",
    "LabelledConversation",
    "Mix",
    "agent_nicks",
    "generate_day",
    "generate_labelled_day",
    "iter_conversations",
    "iter_labelled",
    "build_demo",
]

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEFAULT_SHOP = "柚子优选旗舰店"
DEFAULT_AGENTS = ("小雨", "阿杰", "小满", "木木", "小鹿", "阿宁")
BEHAVIOURS = ("polite", "angry_calm", "impatient", "conflict")
SYSTEM_SENDER = "系统"

OK = "ok"
IMPATIENCE = "impatience"
CONFLICT = "conflict"

# Average messages per conversation with the default mix (measured); used only
# to spread start times over the day when a message budget is given.
_MEAN_MESSAGES = 9.0


@dataclass(frozen=True, slots=True)
class Mix:
    """How often each agent behaviour appears (weights, normalised when used).

    ``polite``: every typed agent message is fine. ``angry_calm``: the buyer is
    angry or threatens a bad review and the agent stays calm (all fine).
    ``impatient``: one or two curt replies. ``conflict``: the agent argues
    with or blames the buyer once (sometimes after a curt reply too).
    ``late_night`` is the share of conversations starting in the last minutes
    of the day (most of them cross midnight). ``agent_spread`` makes some
    agents more impatient than others (0 = all agents alike; it needs a
    non-zero ``polite`` weight to trade with); the day-wide proportions stay
    close to the weights.
    The other fields are the probabilities of per-conversation events.
    """

    polite: float = 0.72
    angry_calm: float = 0.08
    impatient: float = 0.16
    conflict: float = 0.04
    agent_spread: float = 1.0
    late_night: float = 0.012
    auto_reply: float = 0.55
    question_first: float = 0.3
    system_entry: float = 0.35
    transfer: float = 0.08
    silent_transfer_share: float = 0.3
    unanswered_end: float = 0.05
    slow_reply: float = 0.08
    double_bubble: float = 0.22
    pii: float = 0.25

    def weights(self) -> tuple[float, float, float, float]:
        """Behaviour weights in :data:`BEHAVIOURS` order, summing to 1."""
        raw = (self.polite, self.angry_calm, self.impatient, self.conflict)
        total = sum(raw)
        if total <= 0 or any(w < 0 for w in raw):
            raise ValueError("behaviour weights must be non-negative and not all zero")
        polite, angry_calm, impatient, conflict = (w / total for w in raw)
        return polite, angry_calm, impatient, conflict


@dataclass(frozen=True, slots=True)
class LabelledConversation:
    """A generated conversation plus what it was meant to contain (tests, bench).

    ``labels`` maps the index of every typed agent message to its intended
    attitude label. ``tags`` lists events such as ``silent_transfer``,
    ``unanswered_end``, ``crosses_midnight``, ``slow_reply``, ``pii``.
    """

    conversation: Conversation
    behaviour: str
    category: str
    scenario: str
    labels: dict[int, str] = field(default_factory=dict)
    tags: frozenset[str] = frozenset()


def agent_nicks(shop: str = DEFAULT_SHOP, agents: Sequence[str] | None = None) -> tuple[str, ...]:
    """Sub-account nicks ``店铺名:客服名`` for a shop's agents.

    Names that already contain a colon are taken as full nicks.
    """
    names = DEFAULT_AGENTS if agents is None else tuple(agents)
    if not names:
        raise ValueError("at least one agent is needed")
    return tuple(n if ":" in n else f"{shop}:{n}" for n in names)


# --------------------------------------------------------------------------
# Phrase banks. Templates use {product} {variant} {kind} {size} {city}
# {address} {phone} {order} {name} {shop} {me} {peer} {price} {coupon} slots.
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Category:
    name: str
    products: tuple[str, ...]
    kind: str
    variants: tuple[str, ...]
    # (buyer questions, polite answers, curt answers); answers may be tuples of bubbles.
    qa: tuple[tuple[tuple[str, ...], tuple[str | tuple[str, ...], ...], tuple[str, ...]], ...]


_CATEGORIES: tuple[_Category, ...] = (
    _Category(
        "clothing",
        ("羊毛大衣", "加绒卫衣", "直筒牛仔裤", "碎花连衣裙", "短款羽绒服", "针织开衫"),
        "尺码",
        ("S码", "M码", "L码", "XL码", "燕麦色", "雾霾蓝", "黑色"),
        (
            (
                ("洗了会缩水吗", "这个面料会不会缩水啊"),
                ("亲，这款不会缩水的哦，放心穿，冷水手洗就好呢", "不会的亲，面料做过预缩处理的哦"),
                ("自己看洗涤说明", "上面写着呢"),
            ),
            (
                ("我身高{height}体重{weight}斤穿什么码", "{height}的个子{weight}斤选哪个码合适"),
                (
                    "亲，按您的身高体重建议拿{size}码哦，喜欢宽松一点可以再大一码呢",
                    ("亲，您这个身材穿{size}码刚好的哦", "尺码表在详情页第四张图，我截给您对照一下哈"),
                ),
                ("自己看尺码表", "你自己选吧", "上面写着呢"),
            ),
            (
                ("会起球吗", "穿久了起不起球"),
                ("亲，这款是精梳面料，正常穿着不容易起球的哦", "不容易起球呢亲，注意别和粗糙的包包摩擦就好"),
                ("不知道", "嗯"),
            ),
        ),
    ),
    _Category(
        "cosmetics",
        ("保湿面霜", "防晒乳", "哑光口红", "修护精华", "卸妆油", "洗面奶"),
        "规格",
        ("30ml", "50ml", "100ml", "旅行装", "正装"),
        (
            (
                ("敏感肌能用吗", "我皮肤比较敏感，用这个会不会过敏"),
                (
                    "亲，这款无酒精无香精，敏感肌也可以用的哦，建议先在耳后试用一下呢",
                    ("可以用的亲", "第一次用的话先在手腕内侧试一下，没有泛红再上脸哦"),
                ),
                ("不知道", "自己看成分表", "我也不懂"),
            ),
            (
                ("保质期多久", "是今年生产的吗"),
                (
                    "亲，都是今年下半年的新批次哦，保质期三年，放心使用呢",
                    "是新货的亲，生产日期在瓶底，保质期3年哦",
                ),
                ("瓶子上有", "上面写着呢"),
            ),
            (
                ("是正品吗", "保证是专柜正品吗"),
                ("亲，旗舰店都是品牌直供的正品哦，支持专柜验货呢", "放心亲，假一赔十的，每件都有防伪码哦"),
                ("嗯", "说了多少遍了"),
            ),
        ),
    ),
    _Category(
        "electronics",
        ("蓝牙耳机", "充电宝", "机械键盘", "智能手表", "无线鼠标", "桌面音箱"),
        "版本",
        ("标准版", "降噪版", "白色", "黑色", "青轴", "茶轴"),
        (
            (
                ("支持快充吗", "能给手机快充吗"),
                ("支持的亲，最高20W快充，苹果安卓都可以用哦", "可以的哦亲，支持PD和QC两种快充协议呢"),
                ("自己看参数", "哦"),
            ),
            (
                ("保修多久", "坏了怎么保修"),
                (
                    "亲，整机保修一年哦，一年内非人为损坏免费换新呢",
                    ("质保一年的亲", "有问题随时联系我们，寄回来检测后直接换新哦"),
                ),
                ("详情页写了", "不知道"),
            ),
            (
                ("能连苹果手机吗", "安卓和苹果都能用吗"),
                ("都可以连接的哦亲，蓝牙5.3，兼容性很好呢", "可以的亲，苹果安卓电脑平板都能用哦"),
                ("说了多少遍了，都能用", "自己看详情页"),
            ),
        ),
    ),
    _Category(
        "food",
        ("坚果礼盒", "挂耳咖啡", "手撕牛肉干", "百花蜂蜜", "红枣夹核桃", "芝麻丸"),
        "口味",
        ("原味", "五香味", "香辣味", "深烘", "中烘", "500g装"),
        (
            (
                ("保质期多久", "生产日期是什么时候的"),
                (
                    "亲，都是本月新生产的哦，保质期九个月，放心吃呢",
                    "新鲜的亲，生产日期在包装背面，保质期9个月哦",
                ),
                ("包装上有", "自己看"),
            ),
            (
                ("甜不甜", "会不会很咸"),
                ("亲，口味偏清淡一点的哦，老人小孩都能吃呢", "不会太咸的亲，很多老顾客都说刚刚好哈"),
                ("嗯", "自己买来尝尝不就知道了"),
            ),
            (
                ("孕妇能吃吗", "小孩子能吃吗"),
                (
                    "亲，配料很简单没有添加剂的哦，不过还是建议适量食用呢",
                    "可以的亲，三岁以上的小朋友适量吃没问题哦",
                ),
                ("不知道", "你问医生去"),
            ),
        ),
    ),
    _Category(
        "furniture",
        ("实木餐桌", "布艺沙发", "床头柜", "五层书架", "升降电脑桌", "懒人沙发"),
        "尺寸",
        ("1.2米", "1.4米", "1.6米", "单人位", "三人位", "原木色"),
        (
            (
                ("需要自己安装吗", "送货包安装吗"),
                (
                    "亲，这款是免安装的哦，到货直接用呢",
                    ("需要简单组装的亲", "箱子里有图解和工具，十分钟就能装好，不会装可以找我视频指导哦"),
                ),
                ("自己装", "看说明书"),
            ),
            (
                ("有没有甲醛味道", "买回来有味道吗"),
                (
                    "亲，我们用的是E0级板材哦，基本没有味道，放心使用呢",
                    "不会有刺鼻味的亲，刚拆开可能有一点木头味，通风两天就没了哦",
                ),
                ("不知道", "哦"),
            ),
            (
                ("送货上楼吗", "我住六楼没电梯能送上去吗"),
                (
                    "亲，物流默认送到楼下哦，上楼的话师傅可能会收一点点搬运费呢",
                    "可以送上楼的亲，超过三楼需要和师傅协商一下哦",
                ),
                ("不送", "自己搬"),
            ),
        ),
    ),
    _Category(
        "baby",
        ("纸尿裤", "婴儿推车", "玻璃奶瓶", "儿童安全座椅", "婴儿湿巾", "爬行垫"),
        "码数",
        ("NB码", "S码", "M码", "L码", "轻便款", "高景观款"),
        (
            (
                ("新生儿能用吗", "刚出生的宝宝可以用吗"),
                ("可以的亲，NB码就是给新生宝宝用的哦，很柔软呢", "能用的亲，材质都通过了婴幼儿安全检测哦"),
                ("自己看适用年龄", "哦"),
            ),
            (
                ("材质安全吗", "有没有异味"),
                ("亲，都是食品级材质的哦，有检测报告，我发给您看看呢", "放心亲，没有异味的，很多宝妈回购呢"),
                ("自己看检测报告", "嗯"),
            ),
            (
                ("宝宝{baby_weight}斤用哪个码", "十个月大的宝宝穿什么码"),
                (
                    "亲，按宝宝体重建议用{baby_size}码哦，长得快的话可以大一码呢",
                    "建议{baby_size}码的亲，详情页有体重对照表哦",
                ),
                ("自己看", "不知道"),
            ),
        ),
    ),
    _Category(
        "pets",
        ("全价猫粮", "牵引绳", "豆腐猫砂", "冬季宠物窝", "冻干零食", "自动喂食器"),
        "规格",
        ("1.5kg", "2kg", "10kg", "小号", "中号", "大号"),
        (
            (
                ("幼猫能吃吗", "三个月的小猫能吃吗"),
                (
                    "可以的亲，这款是全阶段猫粮，幼猫泡软一点喂更好消化哦",
                    "能吃的亲，建议刚开始少量混着原来的粮换呢",
                ),
                ("嗯", "自己看"),
            ),
            (
                ("结团快吗", "会不会粉尘很大"),
                ("亲，三秒结团的哦，粉尘很少，可以冲马桶呢", "结团很快的亲，几乎没有粉尘，放心用哦"),
                ("用了就知道", "不知道"),
            ),
            (
                ("{pet_weight}斤的狗用什么号", "狗狗{pet_weight}斤选哪个号"),
                (
                    "亲，{pet_weight}斤左右建议选中号哦，胸围量一下更准确呢",
                    "大型犬建议大号的亲，详情页有尺寸表我截图给您哦",
                ),
                ("自己量", "上面写着呢"),
            ),
        ),
    ),
    _Category(
        "sports",
        ("加厚瑜伽垫", "缓震跑步鞋", "包胶哑铃", "骑行头盔", "速干运动T恤", "跳绳"),
        "尺码",
        ("38码", "40码", "42码", "6mm", "10mm", "5kg一对"),
        (
            (
                ("防滑吗", "出汗了会不会打滑"),
                ("亲，双面都有防滑纹路的哦，出汗也不会滑呢", "不会滑的亲，很多瑜伽老师都在用哦"),
                ("嗯", "自己看评价"),
            ),
            (
                ("偏码吗", "平时穿{size}码要拿几码"),
                ("亲，这款是标准码的哦，平时穿多大就拍多大呢", "正常码数的亲，脚背高的话建议大半码哦"),
                ("自己看尺码表", "上面写着呢"),
            ),
            (
                ("适合新手吗", "初学者能用吗"),
                ("非常适合新手的哦亲，有配套的入门教程视频呢", "可以的亲，重量可以慢慢加上去，不用担心哦"),
                ("不知道", "你自己选吧"),
            ),
        ),
    ),
)

_CATEGORY_INDEX = {c.name: c for c in _CATEGORIES}
CATEGORIES = tuple(c.name for c in _CATEGORIES)

_HEIGHTS = ("155", "160", "163", "165", "168", "170", "175", "178", "180")
_WEIGHTS = ("90", "98", "105", "110", "118", "125", "130", "140", "150")
_SIZES = ("S", "M", "L", "XL", "2XL")
_CITIES = ("杭州", "成都", "武汉", "苏州", "西安", "长沙", "郑州", "昆明", "沈阳", "厦门", "合肥", "南宁")
_DISTRICTS = ("新城区", "高新区", "滨江区", "东湖区", "开发区", "老城区")
_STREETS = ("幸福路", "花园路", "梧桐大道", "星光街", "银杏路", "翠湖北街", "向阳路", "和平巷")
_SURNAMES = ("王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴")
_TITLES = ("先生", "女士", "小姐")
_COUPONS = ("5", "10", "15", "20")

# Buyer nick parts (no colon: a colon marks an agent sub-account).
# fmt: off
_NICK_WORDS = (
    "阳光", "橙子", "小鱼", "糖糖", "木子", "晴天", "豆豆", "月亮", "小熊", "可乐",
    "柠檬", "桃子", "星星", "大白", "团子", "奶茶", "青柠", "阿福", "麦兜", "果冻",
)
# fmt: on
_NICK_TAILS = ("爱吃糖", "不吃香菜", "在路上", "的猫", "宝宝", "呀", "酱", "2018", "666", "_hz", "_cd", "")

# ---- greetings -----------------------------------------------------------
_BUYER_HELLO = ("在吗", "你好", "亲，在吗", "有人吗", "你好，在不在", "hello", "老板在吗", "客服在吗")
_AUTO_WELCOME = (
    "亲，欢迎光临{shop}！客服正在火速赶来，请稍等片刻哦~",
    "您好，欢迎来到{shop}，当前咨询人数较多，请您先描述一下问题，我们会尽快回复~",
    "欢迎光临{shop}！双十二预售已开始，领券下单更优惠哦，客服马上为您服务",
)
_AGENT_HELLO = (
    "您好，欢迎光临{shop}，客服{me}在线为您解答~",
    "在的亲，您想了解哪一款呢",
    "亲，您好，我是{me}，请问有什么需要帮忙的吗",
    "您好呀，{me}在的，有什么问题尽管问哦",
    "不好意思让您久等了，我是{me}，您请说~",
)
_SYSTEM_ENTRY = (
    "买家从商品详情页发起咨询：{product}",
    "会话已接入，当前接待客服：{agent}",
    "买家通过订单页发起咨询",
    "买家正在浏览：{product}",
)

# ---- generic exchanges ------------------------------------------------------
# An exchange is (items, conflict lines); an item is (buyer questions, polite
# answers, curt answers). Curt answers are clearly impatient in context (a bare
# negative or interjection to a real question, pushing the buyer away).
_STOCK = (
    (
        (
            ("这款{product}{variant}的还有货吗", "{variant}还有吗", "{product}有现货吗，想买{variant}"),
            (
                "亲，{variant}的有现货的哦，今天下午四点前拍下当天就能发出呢",
                "有的亲，{variant}库存还比较充足，放心拍哈",
                ("亲，{variant}还有最后几件了哦", "喜欢的话尽早下单呢，我这边给您优先安排发货"),
            ),
            ("没有", "卖完了", "没了", "自己看库存"),
        ),
    ),
    (),
)
_HAGGLE = (
    (
        (
            ("能便宜点吗", "再少点呗，诚心要", "别家比你们便宜二十块"),
            (
                "非常抱歉亲，这已经是活动价了哦，收藏店铺可以领{coupon}元无门槛券呢",
                "理解您的心情亲，我们家用料比较扎实，一分价钱一分货哦，现在下单还能用{coupon}元券呢",
                "不好意思亲，价格是公司统一定的，我这边没有改价权限，但可以帮您申请一个小礼物哦",
            ),
            ("不能", "就这个价", "不议价"),
        ),
        (
            ("有赠品吗", "买这个送什么吗"),
            (
                ("亲，这款目前没有赠品呢", "不过满199会送一份试用装哦，您看可以吗"),
                "有的亲，下单备注一下就送一个收纳袋哦",
            ),
            ("没有", "没"),
        ),
        (
            ("包邮吗", "两件能包邮吗"),
            ("包邮的哦亲，偏远地区除外呢", "亲，两件的话可以给您备注包邮哦"),
            ("不包", "不包邮"),
        ),
    ),
    ("嫌贵就别买", "爱买不买", "买不起就去别家看看", "别家便宜你去别家买啊"),
)
_SHIPPING = (
    (
        (
            ("今天能发货吗", "什么时候发货啊"),
            (
                "亲，下午四点前付款的订单当天发出哦",
                "今天的订单今天发的亲，发出后会有物流单号提醒您哦",
            ),
            ("哦", "不知道", "拍了再说"),
        ),
        (
            ("到{city}要几天", "发到{city}多久能到"),
            (
                ("亲，{city}一般两到三天就到啦", "偏远地区可能会稍慢一点点，您放心哦"),
                "一般两天左右的亲，默认发中通快递呢",
            ),
            ("不知道", "看物流", "你问快递去"),
        ),
        (
            ("能发顺丰吗", "发什么快递"),
            ("可以发顺丰的亲，需要补一下运费差价哦，我发链接给您", "默认中通的哦亲，需要顺丰可以补差价呢"),
            ("不能", "自己看详情页"),
        ),
    ),
    (),
)
_LOGISTICS = (
    (
        (
            ("我的快递三天了还没动", "物流怎么一直不更新"),
            (
                "不好意思让您久等了，我这就帮您联系快递催一下，有消息第一时间回复您哦",
                "非常抱歉亲，最近件比较多，我已经给快递提交了催件，今天之内给您答复好吗",
            ),
            ("哦", "快递的事我也没办法", "你问快递去", "等着吧"),
        ),
        (
            ("帮我查下订单{order}", "订单号{order}，怎么还没到"),
            (
                ("好的亲，稍等我帮您查一下哦", "查到了，您的包裹已经到{city}转运中心了，预计明天送达呢"),
                "亲，我看了一下，包裹今天已经在派送了哦，请保持电话畅通呢",
            ),
            ("自己查物流", "嗯"),
        ),
        (
            ("快递显示签收了但我没收到", "显示已签收，可我根本没拿到"),
            (("亲，您先别着急", "我马上联系快递员核实一下签收情况，查清楚给您补发或者退款都可以的哦"),),
            ("那你问快递啊", "不知道"),
        ),
    ),
    ("又不是我们的问题，催什么催", "你自己地址写错了怪谁", "天天催，烦不烦"),
)
_RETURNS = (
    (
        (
            ("不合适能退吗", "这个可以七天无理由吗", "我想退货怎么弄"),
            (
                "可以的亲，签收后七天内不影响二次销售都支持无理由退换哦",
                "亲，退货的话在订单页点申请售后就可以啦，我们有运费险的，不用您出运费呢",
            ),
            ("自己看规则", "详情页写了", "自己在订单里弄"),
        ),
        (
            ("能换个{kind}吗", "想换一个{variant}的"),
            (("可以换的亲", "您在订单里申请换货，备注要换的{kind}，我们收到后马上给您寄出哦"),),
            ("自己申请", "不能换"),
        ),
    ),
    ("都用过了还想退？想得美", "你这是故意找茬吧", "当初又没人逼你买"),
)
_FAULT = (
    (
        (
            ("收到的{product}坏了", "用了两天就不行了", "打开发现有划痕"),
            (
                "非常抱歉给您带来不好的体验，麻烦您拍一下照片发给我，我马上帮您处理换新哦",
                ("真的很抱歉亲", "您把问题拍个照片或者视频，我这边核实后直接给您补发，不用寄回哦"),
            ),
            ("嗯", "哦", "不知道", "自己找售后"),
        ),
        (
            ("少发了一件", "包裹里少了一个"),
            ("不好意思亲，是我们的疏忽，我这就给您登记补发，今天就安排出库呢",),
            ("哦", "自己找售后"),
        ),
        (
            ("颜色和图片差太多了吧", "实物和图片不一样"),
            ("亲，图片和实物可能会有一点点色差，给您添麻烦了，您不满意的话可以免费退换哦",),
            ("拍照都这样", "自己看说明"),
        ),
    ),
    ("肯定是你自己弄坏的", "我们发出去都是好的，你自己的问题", "你会不会用啊"),
)
_INVOICE = (
    (
        (
            ("能开发票吗", "可以开专票吗"),
            (
                "可以开的哦亲，下单时备注抬头和税号，电子发票会在发货后发到您邮箱呢",
                ("可以的亲", "专票需要您提供开票资料，我发个模板给您填一下哦"),
            ),
            ("不开", "不能"),
        ),
        (
            ("发票抬头怎么填", "税号写在哪里"),
            ("亲，下单页面有发票选项，抬头写公司全称，税号填统一社会信用代码就可以啦",),
            ("自己备注", "不知道"),
        ),
    ),
    (),
)
_ADDRESS = (
    (
        (
            ("地址写错了能改吗", "我想改一下收货地址", "帮我改个地址"),
            (
                ("可以的亲，还没发货可以改的哦", "麻烦把新的地址、收件人和电话发给我呢"),
                "好的亲，您把新地址发我，我马上帮您备注修改哦",
            ),
            ("自己改", "改不了"),
        ),
    ),
    (),
)
_ADDRESS_DATA = (
    "改成{address}，{name}，{phone}",
    "{address} {name} {phone}",
    "新地址：{address}，电话{phone}",
)
_ADDRESS_DONE = (
    "好的亲，已经帮您把地址改成{address}了，麻烦核对一下哦",
    "嗯嗯好的，马上帮您改，改好了跟您说哦",
    "哦哦，好的亲，新地址我记下了，发货前会再核对一遍的",
)
_ACK_AFTER_DATA = ("嗯", "好的", "收到")

_ANGRY = (
    "你们这什么破东西，气死我了",
    "再不给我处理我就给差评了",
    "客服是不是没人了，半天不回",
    "骗人的店，我要投诉你们",
    "不给我退款我就天天给你们打差评",
    "太离谱了，第一次遇到这么差的东西",
)
_CALM = (
    "非常抱歉让您生气了，我完全理解您的心情，我们一定给您一个满意的处理方案",
    "亲，您先别着急，我马上帮您加急处理哦",
    "真的很抱歉给您添麻烦了，您的问题我已经记下来了，今天之内一定给您答复",
    "不好意思让您久等了，这件事是我们做得不好，我现在就帮您申请补偿",
)
_IMPATIENT_EXTRA = (
    "还有别的事吗",
    "说了多少遍了",
    "自己看详情页",
    "快点拍吧，我这边还忙着呢",
    "上面都写着呢",
)
_CONFLICT_EXTRA = (
    "那您去投诉吧",
    "差评就差评，随便你",
    "你这种人我见多了",
    "是你自己没看清楚，怪谁",
    "有本事你去告啊",
)

_HANDOVER = (
    "亲，退换货由售后同事{peer_name}负责，我帮您转接过去，请稍等哦",
    "不好意思亲，这个问题需要售后专员处理，我现在把您转给{peer_name}，她会继续帮您的",
    "亲，我这边帮您转接到售后客服，稍后会有同事和您联系哦",
)
_TRANSFER_NOTICE = ("{agent}将会话转接给{peer}", "会话已转接至{peer}")
_TAKEOVER = (
    "您好，我是售后客服{me}，您的问题我已经看到了，我来帮您处理哦",
    "亲，您好，{me}为您服务，刚才的情况同事已经跟我说明了呢",
)
_ORDER_NOTICE = ("买家已下单，订单号{order}", "买家已付款")

# (buyer closings, agent closings that fit them)
_CLOSINGS = (
    (
        ("好的谢谢", "谢谢亲", "谢谢啦"),
        ("不客气哦，祝您购物愉快~", "不用谢哦，感谢您的支持呢", "不客气呢亲，收到货有任何问题都可以找我们哦"),
    ),
    (
        ("那我拍了", "好，我下单了", "ok，我去拍"),
        ("好的亲，拍下后我这边尽快安排发货哦，有问题随时找我", "好的亲，感谢您的支持，我们会尽快给您发出呢"),
    ),
    (
        ("那我再看看", "我考虑一下", "行吧，我再想想"),
        ("好的亲，有需要随时联系{me}哦", "没问题的亲，喜欢的话可以先加购物车，降价会提醒您哦"),
    ),
    (("知道了", "好的", "嗯嗯"), ("好的亲，还有其他问题随时找我哦", "好的呢，祝您生活愉快~")),
)
_UNANSWERED = ("？？", "人呢", "还在吗", "怎么不回了", "算了")
_FOLLOWUP = ("还有一个问题", "对了", "那个", "好的，另外", "嗯嗯")

# Scenario plans: which exchanges a conversation is built from.
_SCENARIOS = (
    ("presale", 0.52),
    ("logistics", 0.16),
    ("fault", 0.12),
    ("returns", 0.10),
    ("address", 0.06),
    ("invoice", 0.04),
)
_SCENARIO_NAMES = tuple(s for s, _ in _SCENARIOS)
_SCENARIO_CUM = tuple(sum(w for _, w in _SCENARIOS[: i + 1]) for i in range(len(_SCENARIOS)))

# Share of conversations starting in each hour of the day (a shop's curve:
# quiet nights, morning and evening peaks).
# fmt: off
_HOURLY = (
    1.0, 0.5, 0.3, 0.2, 0.2, 0.3, 0.6, 1.5, 3.0, 5.0, 6.0, 6.0,
    4.5, 5.0, 6.0, 6.0, 5.5, 5.0, 4.5, 5.5, 7.0, 7.5, 6.0, 3.5,
)
# fmt: on
_HOURLY_CUM = tuple(sum(_HOURLY[: i + 1]) / sum(_HOURLY) for i in range(24))


def _start_second(u: float, late_night: float) -> float:
    """Second of the day for quantile ``u`` of the hourly arrival curve.

    The last ``late_night`` share of quantiles lands in the day's final eight
    minutes, so a few conversations cross midnight; the mapping stays monotone.
    """
    late_start = 86400.0 - 480.0
    if late_night > 0 and u >= 1.0 - late_night:
        return late_start + (u - (1.0 - late_night)) / late_night * 470.0
    u = u / (1.0 - late_night)
    hour = min(bisect.bisect_right(_HOURLY_CUM, u), 23)
    lo = _HOURLY_CUM[hour - 1] if hour else 0.0
    width = _HOURLY_CUM[hour] - lo
    frac = (u - lo) / width if width > 0 else 0.0
    # The curve fills the day up to the late window, which comes after it.
    return (hour + min(max(frac, 0.0), 0.9999)) / 24.0 * late_start


class _Builder:
    """Accumulates the messages of one conversation with a running clock."""

    __slots__ = ("rng", "clock", "rows", "labels", "tags")

    def __init__(self, rng: random.Random, start: datetime) -> None:
        self.rng = rng
        self.clock = start
        # rows: (role, text, sender, sent_at, auto_reply)
        self.rows: list[tuple[Role, str, str, datetime, bool]] = []
        self.labels: dict[int, str] = {}
        self.tags: set[str] = set()

    def add(
        self, role: Role, text: str, sender: str, delay: float, auto: bool = False, label: str | None = None
    ) -> None:
        if self.rows:
            self.clock += timedelta(seconds=max(1, int(delay)))
        if label is not None:
            self.labels[len(self.rows)] = label
        self.rows.append((role, text, sender, self.clock, auto))

    def __len__(self) -> int:
        return len(self.rows)


class _Generator:
    """Holds the random source and settings for one generated day."""

    def __init__(
        self,
        day: date,
        seed: int,
        agents: Sequence[str] | None,
        shop: str,
        mix: Mix,
        categories: Sequence[str] | None,
    ) -> None:
        self.day = day
        self.rng = random.Random(seed)
        self.shop = shop
        self.nicks = agent_nicks(shop, agents)
        self.names = tuple(n.split(":", 1)[1] for n in self.nicks)
        self.mix = mix
        if categories is None:
            self.categories = _CATEGORIES
        else:
            unknown = [c for c in categories if c not in _CATEGORY_INDEX]
            if unknown:
                raise ValueError(f"unknown categories {unknown}; known: {', '.join(CATEGORIES)}")
            self.categories = tuple(_CATEGORY_INDEX[c] for c in categories)
        self.midnight = datetime.combine(day, time(0), tzinfo=SHANGHAI)
        weights = mix.weights()
        # Per-agent temper: multiply impatience/conflict weights, mean factor 1.
        n = len(self.nicks)
        if n > 1 and mix.agent_spread > 0 and weights[0] > 0:
            raw = [1.0 + mix.agent_spread * (2.0 * i / (n - 1) - 1.0) * 0.8 for i in range(n)]
            self.rng.shuffle(raw)
        else:
            raw = [1.0] * n
        self.agent_cum: list[tuple[float, float, float]] = []
        for f in raw:
            imp, con, ang = weights[2] * f, weights[3] * f, weights[1]
            pol = max(0.0, 1.0 - imp - con - ang)
            total = pol + ang + imp + con
            self.agent_cum.append((pol / total, (pol + ang) / total, (pol + ang + imp) / total))

    # -- helpers -----------------------------------------------------------
    def _pick(self, seq: Sequence[str]) -> str:
        return seq[int(self.rng.random() * len(seq))]

    def _buyer_nick(self) -> str:
        r = self.rng.random()
        if r < 0.3:
            return f"tb{self.rng.randrange(10**7, 10**8)}_{self.rng.randrange(10, 99)}"
        if r < 0.45:
            return f"jd_{self.rng.randrange(10**5, 10**6)}{self._pick(('abc', 'xyz', 'qq', 'mm'))}"
        return self._pick(_NICK_WORDS) + self._pick(_NICK_WORDS) + self._pick(_NICK_TAILS)

    def _reply_delay(self, slow_ok: bool = True) -> float:
        r = self.rng.random()
        if slow_ok and r < self.mix.slow_reply:
            return self.rng.uniform(60, 300)
        if r < self.mix.slow_reply + 0.12:
            return self.rng.uniform(40, 60)
        return self.rng.uniform(5, 40)

    def _context(self, category: _Category, me: str) -> dict[str, str]:
        rng = self.rng
        city = self._pick(_CITIES)
        return {
            "product": self._pick(category.products),
            "variant": self._pick(category.variants),
            "kind": category.kind,
            "size": self._pick(_SIZES),
            "height": self._pick(_HEIGHTS),
            "weight": self._pick(_WEIGHTS),
            "baby_weight": self._pick(("9", "12", "15", "18", "22")),
            "pet_weight": self._pick(("8", "15", "25", "40", "60")),
            "baby_size": self._pick(("NB", "S", "M", "L", "XL")),
            "city": city,
            "address": f"{city}市{self._pick(_DISTRICTS)}{self._pick(_STREETS)}{rng.randrange(1, 300)}号"
            f"{rng.randrange(1, 30)}栋{rng.randrange(1, 30)}0{rng.randrange(1, 9)}室",
            "phone": f"1380000{rng.randrange(0, 10000):04d}",
            "order": f"{rng.randrange(10**18, 10**19)}",
            "name": self._pick(_SURNAMES) + self._pick(_TITLES),
            "shop": self.shop,
            "me": me,
            "coupon": self._pick(_COUPONS),
        }

    def _say(
        self, b: _Builder, texts: str | tuple[str, ...], sender: str, ctx: dict[str, str], label: str
    ) -> None:
        """Agent reply (one or more bubbles) after the buyer's last message."""
        bubbles = (texts,) if isinstance(texts, str) else texts
        delay = self._reply_delay()
        if delay >= 60:
            b.tags.add("slow_reply")
        for i, t in enumerate(bubbles):
            b.add(
                Role.AGENT, t.format(**ctx), sender, delay if i == 0 else self.rng.uniform(3, 12), label=label
            )

    def _ask(self, b: _Builder, text: str, buyer: str, ctx: dict[str, str], first: bool = False) -> str:
        """Buyer message, sometimes preceded by a short lead-in bubble."""
        think = self.rng.uniform(2, 6) if first else self.rng.uniform(8, 90)
        if not first and self.rng.random() < self.mix.double_bubble:
            b.add(Role.CUSTOMER, self._pick(_FOLLOWUP), buyer, think)
            think = self.rng.uniform(2, 15)
        asked = text.format(**ctx)
        b.add(Role.CUSTOMER, asked, buyer, think)
        return asked

    # -- one conversation ----------------------------------------------------
    def conversation(self, number: int, start_second: float, budget: int | None) -> LabelledConversation:
        rng = self.rng
        agent_i = int(rng.random() * len(self.nicks))
        agent = self.nicks[agent_i]
        pol, ang, imp = self.agent_cum[agent_i]
        r = rng.random()
        behaviour = (
            "polite" if r < pol else "angry_calm" if r < ang else "impatient" if r < imp else "conflict"
        )
        category = self.categories[int(rng.random() * len(self.categories))]
        r = rng.random() * _SCENARIO_CUM[-1]
        scenario = _SCENARIO_NAMES[bisect.bisect_right(_SCENARIO_CUM, r)]
        if behaviour == "conflict" and scenario in ("invoice", "address"):
            scenario = "fault"

        ctx = self._context(category, self.names[agent_i])
        ctx["agent"] = agent
        buyer = self._buyer_nick()
        b = _Builder(rng, self.midnight + timedelta(seconds=int(start_second)))

        # Opening: system entry, buyer hello or first question, auto-reply, greeting.
        if rng.random() < self.mix.system_entry:
            b.add(Role.SYSTEM, self._pick(_SYSTEM_ENTRY).format(**ctx), SYSTEM_SENDER, 0)
        plan = self._plan(scenario, category)
        # Many buyers skip the hello and open with their question.
        opening = self._pick(plan[0][0][0]) if rng.random() < self.mix.question_first else None
        b.add(Role.CUSTOMER, (opening or self._pick(_BUYER_HELLO)).format(**ctx), buyer, 1)
        if rng.random() < self.mix.auto_reply:
            b.add(Role.AGENT, self._pick(_AUTO_WELCOME).format(**ctx), agent, 1, auto=True)
            b.tags.add("auto_reply")
        if opening is None and rng.random() < 0.8:
            self._say(b, self._pick(_AGENT_HELLO), agent, ctx, OK)
        curt_slots, conflict_slot = self._misbehaviour_slots(behaviour, plan)
        angry_at = int(rng.random() * len(plan)) if behaviour == "angry_calm" else -1
        transfer_at = -1
        if len(self.nicks) > 1 and len(plan) > 1:
            p_transfer = self.mix.transfer * (3.0 if scenario in ("fault", "returns") else 0.6)
            if rng.random() < p_transfer:
                transfer_at = 1 + int(rng.random() * (len(plan) - 1))

        for step, (item, conflict, is_address) in enumerate(plan):
            if budget is not None and len(b) >= budget:
                break
            if step == transfer_at:
                agent = self._transfer(b, agent, ctx, buyer)
            questions, polite, curt = item
            if step == 0 and opening is not None:
                asked = b.rows[0][1]
            else:
                asked = self._ask(b, self._pick(questions), buyer, ctx, first=step == 0)
            if ctx["order"] in asked:
                b.tags.add("pii")
            if step == angry_at:
                b.add(Role.CUSTOMER, self._pick(_ANGRY), buyer, rng.uniform(3, 20))
                self._say(b, self._pick(_CALM), agent, ctx, OK)
                b.tags.add("angry_buyer")
            if step == conflict_slot:
                if not conflict or rng.random() < 0.5:
                    b.add(Role.CUSTOMER, self._pick(_ANGRY), buyer, rng.uniform(3, 20))
                    b.tags.add("angry_buyer")
                line = self._pick(conflict) if conflict else self._pick(_CONFLICT_EXTRA)
                self._say(b, line, agent, ctx, CONFLICT)
            elif step in curt_slots:
                line = self._pick(curt) if rng.random() < 0.75 else self._pick(_IMPATIENT_EXTRA)
                self._say(b, line, agent, ctx, IMPATIENCE)
            else:
                self._say(b, self._pick(polite), agent, ctx, OK)
            if is_address:
                b.add(Role.CUSTOMER, self._pick(_ADDRESS_DATA).format(**ctx), buyer, rng.uniform(10, 60))
                b.tags.add("pii")
                if rng.random() < 0.3:
                    # A bare acknowledgement of data the buyer sent is fine.
                    self._say(b, self._pick(_ACK_AFTER_DATA), agent, ctx, OK)
                self._say(b, self._pick(_ADDRESS_DONE), agent, ctx, OK)

        # Closing.
        if budget is None or len(b) < budget:
            if rng.random() < self.mix.unanswered_end:
                b.add(Role.CUSTOMER, self._pick(_UNANSWERED), buyer, rng.uniform(30, 200))
                b.tags.add("unanswered_end")
            elif rng.random() < 0.75 or len(b) < 3:
                closings = _CLOSINGS if scenario == "presale" else (_CLOSINGS[0], _CLOSINGS[3])
                buyer_close, agent_close = closings[int(rng.random() * len(closings))]
                b.add(Role.CUSTOMER, self._pick(buyer_close), buyer, rng.uniform(10, 60))
                r = rng.random()
                if r < 0.1:
                    # A lone 嗯 after a closing is an acknowledgement, not impatience.
                    self._say(b, "嗯", agent, ctx, OK)
                elif r < 0.85:
                    self._say(b, self._pick(agent_close), agent, ctx, OK)
                if scenario == "presale" and rng.random() < 0.4:
                    b.add(
                        Role.SYSTEM,
                        self._pick(_ORDER_NOTICE).format(**ctx),
                        SYSTEM_SENDER,
                        rng.uniform(20, 300),
                    )

        return self._finish(b, number, behaviour, category.name, scenario, budget)

    def _plan(self, scenario: str, category: _Category) -> list[tuple[tuple, tuple[str, ...], bool]]:
        """The exchanges of one conversation: (item, conflict lines, is address change)."""
        rng = self.rng

        def step(exchange: tuple) -> tuple[tuple, tuple[str, ...], bool]:
            items, conflict = exchange
            return items[int(rng.random() * len(items))], conflict, exchange is _ADDRESS

        if scenario == "presale":
            qa = list(category.qa)
            rng.shuffle(qa)
            first = [step(_STOCK)] if rng.random() < 0.4 else []
            n_qa = min(int(rng.expovariate(0.8)) + (0 if first else 1), len(qa))
            later = [e for e, p in ((_HAGGLE, 0.35), (_SHIPPING, 0.3), (_INVOICE, 0.06)) if rng.random() < p]
            return first + [(q, (), False) for q in qa[:n_qa]] + [step(e) for e in later]
        head = {
            "logistics": _LOGISTICS,
            "fault": _FAULT,
            "returns": _RETURNS,
            "address": _ADDRESS,
            "invoice": _INVOICE,
        }[scenario]
        extra = [e for e in (_LOGISTICS, _RETURNS, _SHIPPING, _ADDRESS) if e is not head]
        k = min(int(rng.expovariate(1.2)), len(extra))
        plan = [step(head)]
        items = head[0]
        if len(items) > 1 and rng.random() < 0.4:
            # A second, different question of the same kind.
            second = items[int(rng.random() * len(items))]
            if second is not plan[0][0]:
                plan.append((second, head[1], False))
        return plan + [step(e) for e in rng.sample(extra, k)]

    def _misbehaviour_slots(self, behaviour: str, plan: list) -> tuple[set[int], int]:
        rng = self.rng
        if behaviour == "impatient":
            k = 1 if rng.random() < 0.7 or len(plan) == 1 else 2
            return set(rng.sample(range(len(plan)), k)), -1
        if behaviour == "conflict":
            if not any(c for _, c, _ in plan):
                items, lines = _HAGGLE if rng.random() < 0.5 else _FAULT
                plan.append((items[int(rng.random() * len(items))], lines, False))
            with_lines = [i for i, (_, c, _) in enumerate(plan) if c]
            slot = rng.choice(with_lines) if with_lines else int(rng.random() * len(plan))
            curt: set[int] = set()
            others = [i for i in range(len(plan)) if i != slot]
            if others and rng.random() < 0.4:
                curt.add(rng.choice(others))
            return curt, slot
        return set(), -1

    def _transfer(self, b: _Builder, agent: str, ctx: dict[str, str], buyer: str) -> str:
        rng = self.rng
        peers = [n for n in self.nicks if n != agent]
        peer = peers[int(rng.random() * len(peers))]
        ctx["peer"] = peer
        ctx["peer_name"] = peer.split(":", 1)[1]
        if rng.random() >= self.mix.silent_transfer_share:
            self._say(b, self._pick(_HANDOVER), agent, ctx, OK)
            b.tags.add("handover_transfer")
        else:
            b.tags.add("silent_transfer")
        b.add(Role.SYSTEM, self._pick(_TRANSFER_NOTICE).format(**ctx), SYSTEM_SENDER, rng.uniform(2, 10))
        ctx["me"] = ctx["peer_name"]
        ctx["agent"] = peer
        self._say(b, self._pick(_TAKEOVER), peer, ctx, OK)
        return peer

    def _finish(
        self, b: _Builder, number: int, behaviour: str, category: str, scenario: str, budget: int | None
    ) -> LabelledConversation:
        rows = b.rows[:budget] if budget is not None else b.rows
        rows = rows[:30]
        messages = tuple(
            Message(
                index=i,
                role=role,
                text=text,
                sender=sender,
                sent_at=sent_at,
                auto_reply=auto,
            )
            for i, (role, text, sender, sent_at, auto) in enumerate(rows)
        )
        labels = {i: lab for i, lab in b.labels.items() if i < len(messages)}
        if behaviour != "polite" and behaviour != "angry_calm":
            wanted = IMPATIENCE if behaviour == "impatient" else CONFLICT
            if wanted not in labels.values():
                # Cut off by the length budget before the misbehaviour happened.
                behaviour = "polite"
        first_at, last_at = (messages[0].sent_at, messages[-1].sent_at) if messages else (None, None)
        if first_at is not None and last_at is not None and last_at.date() != first_at.date():
            b.tags.add("crosses_midnight")
        if messages[-1].role is Role.CUSTOMER:
            b.tags.add("unanswered_end")
        conv = Conversation(id=f"c{self.day:%Y%m%d}_{number:06d}", messages=messages, shop=self.shop)
        return LabelledConversation(conv, behaviour, category, scenario, labels, frozenset(b.tags))


def iter_labelled(
    day: date,
    seed: int,
    n_conversations: int | None = None,
    *,
    n_messages: int | None = None,
    agents: Sequence[str] | None = None,
    shop: str = DEFAULT_SHOP,
    mix: Mix | None = None,
    categories: Sequence[str] | None = None,
) -> Iterator[LabelledConversation]:
    """Stream generated conversations with their intended labels, in start-time order.

    Give ``n_conversations``, or ``n_messages`` for an exact total message count
    (the last conversation is cut to fit). Memory stays flat whatever the size.

    Args:
        day: The calendar day (Asia/Shanghai) the conversations start on.
        seed: Seed of the one random source; same arguments, same output.
        n_conversations: How many conversations to generate.
        n_messages: Alternatively, how many messages in total.
        agents: Agent names or full ``店铺:客服`` nicks (default: six agents).
        shop: Shop name, the prefix of the agents' sub-account nicks.
        mix: Behaviour weights and event probabilities.
        categories: Restrict product categories (default: all of :data:`CATEGORIES`).
    """
    if (n_conversations is None) == (n_messages is None):
        raise ValueError("give exactly one of n_conversations or n_messages")
    if (n_conversations or 0) < 0 or (n_messages or 0) < 0:
        raise ValueError("counts must not be negative")
    gen = _Generator(day, seed, agents, shop, mix or Mix(), categories)
    rng = gen.rng
    remaining = n_messages
    number = 0
    while True:
        if n_conversations is not None:
            if number >= n_conversations:
                return
            u = (number + rng.random()) / n_conversations
        else:
            assert n_messages is not None and remaining is not None  # exactly one count is given
            if remaining <= 0:
                return
            # Spread starts by the share of the message budget already used.
            u = (n_messages - remaining + rng.random() * _MEAN_MESSAGES) / n_messages
        start = _start_second(min(u, 0.999999), gen.mix.late_night)
        number += 1
        item = gen.conversation(number, start, remaining)
        if remaining is not None:
            remaining -= len(item.conversation.messages)
        yield item


def iter_conversations(
    day: date,
    seed: int,
    n_conversations: int | None = None,
    *,
    n_messages: int | None = None,
    agents: Sequence[str] | None = None,
    shop: str = DEFAULT_SHOP,
    mix: Mix | None = None,
    categories: Sequence[str] | None = None,
) -> Iterator[Conversation]:
    """Stream generated conversations (no labels); see :func:`iter_labelled` for the arguments."""
    for item in iter_labelled(
        day,
        seed,
        n_conversations,
        n_messages=n_messages,
        agents=agents,
        shop=shop,
        mix=mix,
        categories=categories,
    ):
        yield item.conversation


def generate_labelled_day(
    day: date,
    n_conversations: int,
    seed: int,
    agents: Sequence[str] | None = None,
    shop: str = DEFAULT_SHOP,
    mix: Mix | None = None,
    categories: Sequence[str] | None = None,
) -> list[LabelledConversation]:
    """A whole day of conversations with their intended labels, as a list."""
    return list(
        iter_labelled(day, seed, n_conversations, agents=agents, shop=shop, mix=mix, categories=categories)
    )


def generate_day(
    day: date,
    n_conversations: int,
    seed: int,
    agents: Sequence[str] | None = None,
    shop: str = DEFAULT_SHOP,
    mix: Mix | None = None,
    categories: Sequence[str] | None = None,
) -> list[Conversation]:
    """A whole day of conversations, as a list (same as :func:`iter_conversations`)."""
    return list(
        iter_conversations(
            day, seed, n_conversations, agents=agents, shop=shop, mix=mix, categories=categories
        )
    )


# --------------------------------------------------------------------------
# The bundled demo day
# --------------------------------------------------------------------------

DEMO_DAY = date(2026, 11, 24)
DEMO_SEED = 20261124
DEMO_CONVERSATIONS = 300
# The day after the demo day, as one JSON Lines export, so the store and a month can be tried
# with two days (re-inspect either, in any order: both stay complete).
NEXT_DAY = date(2026, 11, 25)
NEXT_SEED = 20261125
NEXT_FILE = "next_day/2026-11-25_conversations.jsonl"

# (file name, format, encoding note) in the order conversations are dealt out.
DEMO_FILES = (
    ("2026-11-24_messages.jsonl", "jsonl", "UTF-8, one message per line, interleaved by time"),
    ("2026-11-24_conversations.jsonl", "jsonl-conversations", "UTF-8, one conversation per line"),
    ("chat_export_2026-11-24.csv", "csv", "GB18030, CRLF, Chinese headers"),
    ("chat_export_2026-11-24.xlsx", "xlsx", "English headers, date-time cells"),
    ("qianniu_2026-11-24.txt", "text-lines", "GB18030, CRLF, `买家(HH:MM:SS): …` lines"),
    ("wangwang_history_2026-11-24.txt", "text-blocks", "UTF-8 with BOM, `昵称 YYYY-MM-DD HH:MM:SS` blocks"),
)


@dataclass(frozen=True, slots=True)
class DemoMalformed:
    """One deliberately broken record in the demo day, and why it is there."""

    file: str
    what: str
    why: str


def _demo_split(items: list[LabelledConversation]) -> list[list[LabelledConversation]]:
    """Deal conversations to the demo files in turn; time-only text gets no midnight crossers."""
    groups: list[list[LabelledConversation]] = [[] for _ in DEMO_FILES]
    text_lines = next(i for i, f in enumerate(DEMO_FILES) if f[1] == "text-lines")
    text_blocks = next(i for i, f in enumerate(DEMO_FILES) if f[1] == "text-blocks")
    for n, item in enumerate(items):
        slot = n % len(DEMO_FILES)
        if slot == text_lines and "crosses_midnight" in item.tags:
            # Time-only lines cannot say that a message belongs to the next day.
            slot = text_blocks
        groups[slot].append(item)
    return groups


def _insert_line(path: Path, encoding: str, line_no: int, line: str, newline: str = "\n") -> None:
    """Insert ``line`` so that it becomes line ``line_no`` (1-based) of a text file."""
    text = path.read_bytes().decode(encoding)
    bom = text.startswith("\ufeff")
    if bom:
        text = text[1:]
    lines = text.split(newline)
    lines.insert(line_no - 1, line)
    out = newline.join(lines)
    path.write_bytes(("\ufeff" if bom else "").encode(encoding) + out.encode(encoding))


def build_demo(root: Path) -> str:
    """Regenerate the bundled demo day under ``root`` (``root/day/`` plus README and labels).

    The output is byte-identical on every run (fixed seed, pinned XLSX stamps),
    and a test checks the committed files against a fresh build. Returns a
    short summary for the console.
    """
    day_dir = root / "day"
    day_dir.mkdir(parents=True, exist_ok=True)
    for old in day_dir.iterdir():
        if old.is_file():
            old.unlink()
    items = generate_labelled_day(DEMO_DAY, DEMO_CONVERSATIONS, DEMO_SEED)
    groups = _demo_split(items)
    counts: list[tuple[str, str, str, int, int]] = []
    file_of: dict[str, str] = {}
    for (name, fmt, note), group in zip(DEMO_FILES, groups, strict=True):
        path = day_dir / name
        convs = [g.conversation for g in group]
        if fmt == "jsonl":
            n = exporters.write_jsonl_messages(convs, path, interleave=True)
        elif fmt == "csv":
            n = exporters.write_csv(convs, path)
        elif fmt == "xlsx":
            n = exporters.write_xlsx(convs, path, extra_rows=[_XLSX_BAD_ROW(convs)])
        elif fmt == "text-lines":
            n = exporters.write_text_lines(convs, path, encoding="gb18030")
        elif fmt == "text-blocks":
            n = exporters.write_text_blocks(convs, path, encoding="utf-8-sig")
        else:
            n = exporters.write(fmt, convs, path)
        counts.append((name, fmt, note, len(convs), n))
        for g in group:
            file_of[g.conversation.id] = name
    malformed = _demo_malformed(day_dir, groups)
    next_path = root / NEXT_FILE
    next_path.parent.mkdir(parents=True, exist_ok=True)
    next_day = generate_day(NEXT_DAY, DEMO_CONVERSATIONS, NEXT_SEED)
    next_messages = exporters.write("jsonl-conversations", next_day, next_path)
    with (root / "expected.jsonl").open("w", encoding="utf-8", newline="\n") as fh:
        for item in items:
            rec = {
                "conversation_id": item.conversation.id,
                "file": file_of[item.conversation.id],
                "behaviour": item.behaviour,
                "category": item.category,
                "scenario": item.scenario,
                "tags": sorted(item.tags),
                "labels": {str(k): v for k, v in sorted(item.labels.items())},
            }
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    readme = _demo_readme(items, counts, malformed, (len(next_day), next_messages))
    (root / "README.md").write_text(readme, encoding="utf-8", newline="\n")
    total = sum(c[4] for c in counts)
    return (
        f"demo day: {len(items)} conversations, {total} messages,"
        f" {len(malformed)} malformed records in {day_dir}"
    )


def _XLSX_BAD_ROW(convs: list[Conversation]) -> list[object]:  # noqa: N802
    conv = convs[len(convs) // 2]
    return [conv.id, "customer", conv.messages[0].sender, "昨天下午", "还在吗", conv.shop, False]


def _demo_malformed(day_dir: Path, groups: list[list[LabelledConversation]]) -> list[DemoMalformed]:
    """Add the deliberately broken records to the written demo files."""
    out: list[DemoMalformed] = []
    by_fmt = {fmt: (name, group) for (name, fmt, _), group in zip(DEMO_FILES, groups, strict=True)}

    name, group = by_fmt["jsonl"]
    conv = group[len(group) // 2].conversation
    rec = next(exporters.message_records(conv))
    rec["text"] = "在吗，我昨天拍的那件还没发货"
    full = json.dumps(rec, ensure_ascii=False)
    path = day_dir / name
    lines = path.read_text(encoding="utf-8").count("\n")
    _insert_line(path, "utf-8", lines // 2, full[: len(full) * 3 // 5])
    out.append(
        DemoMalformed(
            name, f"line {lines // 2}: a JSON record cut off in the middle", "an export interrupted mid-write"
        )
    )

    name, group = by_fmt["jsonl-conversations"]
    path = day_dir / name
    with path.open("a", encoding="utf-8", newline="\n") as fh:
        fh.write(f"导出完成，共{len(group)}个会话\n")
    out.append(
        DemoMalformed(
            name, f"line {len(group) + 1}: a summary line that is not JSON", "tools append footers to dumps"
        )
    )

    name, group = by_fmt["csv"]
    path = day_dir / name
    conv = group[len(group) // 3].conversation
    m = conv.messages[min(2, len(conv.messages) - 1)]
    row = exporters.csv_row(conv, m)
    empty = [*row[:4], "", *row[5:]]
    data_lines = path.read_bytes().decode("gb18030").split("\r\n")
    at = data_lines.index(_csv_line(row)) + 1
    _insert_line(path, "gb18030", at + 1, _csv_line(empty), "\r\n")
    out.append(
        DemoMalformed(
            name, f"line {at + 1}: a row whose 内容 is empty", "stickers and images export as empty text"
        )
    )
    _insert_line(path, "gb18030", at + 2, _csv_line(row), "\r\n")
    out.append(
        DemoMalformed(
            name,
            f"line {at + 2}: an exact copy of line {at}",
            "exports repeat rows; dropped once and counted",
        )
    )

    name, group = by_fmt["xlsx"]
    n_rows = sum(len(g.conversation.messages) for g in group) + 2
    out.append(
        DemoMalformed(name, f'row {n_rows}: 时间 is "昨天下午", not a time', "hand-edited spreadsheet cells")
    )

    name, group = by_fmt["text-lines"]
    path = day_dir / name
    text_lines = path.read_bytes().decode("gb18030").split("\r\n")
    at = len(text_lines) // 2
    while not text_lines[at - 1].startswith(("买家(", "客服(")):
        at += 1
    _insert_line(path, "gb18030", at + 1, "买家(14:6O:2l): 在吗在吗", "\r\n")
    out.append(DemoMalformed(name, f"line {at + 1}: a garbled time `14:6O:2l`", "OCR or copy-paste damage"))

    name, group = by_fmt["text-blocks"]
    path = day_dir / name
    block_lines = path.read_text(encoding="utf-8-sig").split("\n")
    at = len(block_lines) // 2
    while not block_lines[at - 1] == "":
        at += 1
    # Insert a whole block (header + message) with an impossible date right after a conversation.
    _insert_line(path, "utf-8", at, "tb00000000_00 2026-11-31 10:00:01")
    _insert_line(path, "utf-8", at + 1, "这条的日期不存在")
    out.append(
        DemoMalformed(name, f"lines {at}-{at + 1}: a block dated 2026-11-31", "a date that does not exist")
    )
    return out


def _csv_line(row: list[str]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(row)
    return buf.getvalue()


def _demo_readme(
    items: list[LabelledConversation],
    counts: list[tuple[str, str, str, int, int]],
    malformed: list[DemoMalformed],
    next_counts: tuple[int, int] = (0, 0),
) -> str:
    from collections import Counter

    behaviours = Counter(i.behaviour for i in items)
    tags = Counter(t for i in items for t in i.tags)
    labels = Counter(v for i in items for v in i.labels.values())
    categories = Counter(i.category for i in items)
    scenarios = Counter(i.scenario for i in items)
    agents = Counter(a for i in items for a in i.conversation.agents)
    total = sum(c[4] for c in counts)
    lines = [
        "# The demo day",
        "",
        "Generated, not real: every conversation in `day/` was written by `qc/synth/conversations.py`",
        "(seeded), in wording made up for this project. Regenerate it byte for byte with",
        "",
        "```bash",
        "python demo/make_demo.py        # or: python -m qc.synth.conversations --demo demo",
        "```",
        "",
        "and never edit the files by hand: `tests/test_synthetic.py` checks them against a fresh build.",
        "`qc inspect demo/day --out out/demo` reads the whole folder.",
        "",
        f"Day {DEMO_DAY.isoformat()} (Asia/Shanghai), seed {DEMO_SEED}: {len(items)} conversations,",
        f"{total} messages, shop {DEFAULT_SHOP}, {len(agents)} agents.",
        "",
        "## Files",
        "",
        "| file | format | conversations | messages | notes |",
        "|---|---|---:|---:|---|",
    ]
    for name, fmt, note, n_conv, n_msg in counts:
        lines.append(f"| `day/{name}` | {fmt} | {n_conv} | {n_msg} | {note} |")
    lines += [
        "",
        "Message counts exclude the malformed records below. Both text exports separate",
        "conversations with a line `===== 会话 <id> =====` and mark auto-replies with the prefix",
        "`[自动回复]`. Conversations that cross midnight are never put in the time-only",
        "`qianniu_…` file (its lines cannot say which day a time belongs to).",
        "",
        "## Malformed records (deliberate)",
        "",
        "Each must show up in `rejects.jsonl` with its file and line; the rest of the file is read.",
        "",
        "| file | record | why it is there |",
        "|---|---|---|",
    ]
    for m in malformed:
        lines.append(f"| `day/{m.file}` | {m.what} | {m.why} |")
    lines += [
        "",
        "## What is in the conversations",
        "",
        "| agent | conversations replied in |",
        "|---|---:|",
    ]
    for agent, n in sorted(agents.items()):
        lines.append(f"| {agent} | {n} |")
    lines += [
        "",
        "Intended behaviour per conversation (the generator's default mix; agents differ in temper):",
        "",
        "| behaviour | conversations | meaning |",
        "|---|---:|---|",
        f"| polite | {behaviours['polite']} | every typed reply is fine,"
        " with friendly particles (的哦, 呢, 亲), apologies (不好意思)"
        " and reassurances (不会的) that must not be charged |",
        f"| angry_calm | {behaviours['angry_calm']} | the buyer is angry or threatens a bad review;"
        " the agent stays calm (nothing to charge) |",
        f"| impatient | {behaviours['impatient']} | one or two curt replies: bare 嗯/哦/没有/不能,"
        " 自己看详情页, 不知道 with no offer, 还有别的事吗 |",
        f"| conflict | {behaviours['conflict']} | the agent argues with or blames the buyer once"
        " (爱买不买, 那您去投诉吧, 你自己的问题) |",
        "",
        f"Intended labels of typed agent messages: {labels['ok']} ok, {labels['impatience']} impatience,"
        f" {labels['conflict']} conflict. They are kept outside the inputs, in `expected.jsonl`",
        "(one line per conversation: file, behaviour, category, scenario, tags and the label of each",
        "typed agent message by index), for evaluation and tests.",
        "",
        "Events: "
        + ", ".join(
            f"{tags[t]} {t.replace('_', ' ')}"
            for t in (
                "auto_reply",
                "slow_reply",
                "unanswered_end",
                "angry_buyer",
                "handover_transfer",
                "silent_transfer",
                "pii",
                "crosses_midnight",
            )
        )
        + ".",
        "",
        "Categories: " + ", ".join(f"{c} {n}" for c, n in sorted(categories.items())) + ".",
        "Scenarios: " + ", ".join(f"{s} {n}" for s, n in sorted(scenarios.items())) + ".",
        "",
        "Contact data is fake on purpose: phone numbers are `1380000` plus four random digits,",
        "addresses are made-up streets (幸福路, 梧桐大道 …), order numbers are random digits.",
        "",
        "## The next day",
        "",
        f"`{NEXT_FILE}` is {NEXT_DAY.isoformat()} (seed {NEXT_SEED}): {next_counts[0]} conversations,",
        f"{next_counts[1]} messages, the same shop and agents, one conversation per line (made by",
        "the same generator, no real chat text). With the demo day it makes a store of two days:",
        "",
        "```bash",
        "qc inspect demo/day --out out/24 --db out/qc.sqlite",
        f"qc inspect demo/{NEXT_FILE} --out out/25 --db out/qc.sqlite",
        "qc export --period 2026-11 --out out/2026-11 --db out/qc.sqlite",
        "```",
        "",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m qc.synth.conversations``: write the demo day or a generated day in one format."""
    parser = argparse.ArgumentParser(
        prog="python -m qc.synth.conversations", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--demo", type=Path, help="regenerate the bundled demo day into this folder (demo/)")
    parser.add_argument("--out", type=Path, help="write a generated day to this file (format from --format)")
    parser.add_argument(
        "--format",
        default="jsonl",
        choices=("jsonl", "jsonl-conversations", "csv", "xlsx", "text-lines", "text-blocks"),
    )
    parser.add_argument("--day", default="2026-11-24", help="day, YYYY-MM-DD")
    parser.add_argument("--seed", type=int, default=7)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--conversations", type=int)
    group.add_argument("--messages", type=int)
    args = parser.parse_args(argv)
    if args.demo is not None:
        summary = build_demo(args.demo)
        print(summary)
        return 0
    if args.out is None:
        parser.error("give --demo DIR or --out FILE")

    day = date.fromisoformat(args.day)
    n_conv = args.conversations if args.conversations is not None or args.messages is not None else 100
    convs = iter_conversations(
        day, args.seed, n_conv if args.messages is None else None, n_messages=args.messages
    )
    count = exporters.write(args.format, convs, args.out)
    print(f"wrote {count} messages to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
