"""Hard cases for forbidden_phrase.v1, written for ANNOTATION.md's hard cases and conventions.

Each case: readable id, what the buyer said before (oldest first), the agent text, and the
expectation: ``LIVE FP-xxxx`` (a live finding of that entry), ``CLEAN`` (no live finding at
all), or ``SUPP FP-xxxx`` (no live finding, and a suppressed one of that entry, i.e. the
veto is visible with --explain). ``strict`` cases run with the strict-shop switch.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qc.rules.forbidden_phrase import check_text

Q = "能今天发货吗"  # a yes/no question
WH = "什么时候能到"  # a wh-question
PROB = "收到的杯子是碎的"  # a reported problem

CASES: list[tuple[str, tuple[str, ...], str, str]] = [
    # --- ANNOTATION hard cases -------------------------------------------------------------
    ("hard-apology-不好意思让您久等", ("在吗",), "不好意思让您久等了", "CLEAN"),
    ("hard-reassure-不会缩水", ("洗了会缩水吗",), "亲,不会缩水的哦,放心", "CLEAN"),
    ("hard-哦-alone-to-question", (Q,), "哦", "LIVE FP-0001"),
    ("hard-哦哦-then-help", ("帮我备注送人",), "哦哦,好的亲,我帮您备注", "CLEAN"),
    ("hard-没有-alone-to-gift-question", ("有赠品吗",), "没有", "LIVE FP-0005"),
    (
        "hard-没有-softened-with-coupon",
        ("有赠品吗",),
        "亲,这款暂时没有赠品呢,不过收藏店铺可以领券哦",
        "CLEAN",
    ),
    ("hard-上面写着呢", ("这个多大尺寸",), "上面写着呢", "LIVE FP-0011"),
    ("hard-详情页第三张图-截图", ("有尺码表吗",), "亲,详情页第三张图有尺码表,我截图给您哦", "CLEAN"),
    ("hard-你到底买不买", ("我再考虑一下",), "你到底买不买", "LIVE FP-0013"),
    ("hard-那您去投诉吧", ("我要投诉你们",), "那您去投诉吧", "LIVE FP-0014"),
    # --- bare interjections: question/problem vs statement/thanks/data ----------------------
    ("嗯-to-yes-no-question", (Q,), "嗯", "LIVE FP-0002"),
    ("嗯-to-wh-question", (WH,), "嗯", "LIVE FP-0002"),
    ("嗯-to-problem", (PROB,), "嗯", "LIVE FP-0002"),
    ("恩-to-question", ("这个能机洗吗",), "恩", "LIVE FP-0002"),
    ("恩-with-period-to-question", ("这个能机洗吗",), "恩。", "LIVE FP-0002"),
    ("哦-with-tilde-to-question", ("这个能机洗吗",), "哦~", "LIVE FP-0001"),
    ("噢-to-problem", ("快递显示签收了但我没收到",), "噢", "LIVE FP-0001"),
    ("额-to-question", ("这个尺码偏大还是偏小",), "额", "LIVE FP-0001"),
    ("哦哦-to-problem", (PROB,), "哦哦", "LIVE FP-0001"),
    ("嗯-after-statement", ("我先去付款",), "嗯", "SUPP FP-0002"),
    ("嗯-after-好的", ("好的",), "嗯", "SUPP FP-0002"),
    ("嗯-after-thanks", ("谢谢亲",), "嗯", "SUPP FP-0002"),
    ("嗯-after-order-number", ("订单号 202611250001",), "嗯", "SUPP FP-0002"),
    ("嗯-after-order-placeholder", ("[订单x]",), "嗯", "SUPP FP-0002"),
    ("嗯-after-address", ("收货地址改成杭州市西湖区文三路88号",), "嗯", "SUPP FP-0002"),
    ("哦-after-稍等", ("稍等",), "哦", "SUPP FP-0001"),
    ("嗯-after-corrected-address", ("地址写错了，应该是杭州市西湖区文三路88号",), "嗯", "SUPP FP-0002"),
    ("没有-to-question-then-order-number", ("退款到账了吗 订单号 202611250001",), "没有", "LIVE FP-0005"),
    ("嗯-order-number-then-problem", ("订单123456789怎么还没发货",), "嗯", "LIVE FP-0002"),
    ("merged-bubbles-worst-decides", ("能便宜吗",), "您好 爱买不买", "LIVE FP-0014"),
    ("merged-ack-then-help", ("能改地址吗",), "嗯 好的 我帮您改一下", "CLEAN"),
    ("merged-bare-in-bubbles-not-bare", ("有赠品吗",), "没有 不过可以领券哦", "CLEAN"),
    ("哦-after-statement", ("我朋友也买过你们家的",), "哦", "SUPP FP-0001"),
    ("哦-after-question-then-好的", ("能发顺丰吗 好的",), "哦", "SUPP FP-0001"),
    ("嗯-question-then-thanks-closing", ("那就这样吧，谢谢",), "嗯", "SUPP FP-0002"),
    ("嗯-no-context-lint-warns", (), "嗯", "LIVE FP-0002"),
    ("嗯嗯-yes-to-yes-no", ("拍下今天能发吗",), "嗯嗯", "SUPP FP-0003"),
    ("嗯嗯-yes-to-是吧", ("我自己提交售后是吧",), "嗯嗯", "SUPP FP-0003"),
    ("嗯嗯-to-wh", ("这个多少钱",), "嗯嗯", "LIVE FP-0003"),
    ("嗯嗯-to-problem", ("鞋子开胶了",), "嗯嗯", "LIVE FP-0003"),
    ("嗯嗯-after-ack", ("好的我等你消息",), "嗯嗯", "SUPP FP-0003"),
    ("嗯嗯嗯-to-question", (Q,), "嗯嗯嗯", "LIVE FP-0002"),
    ("嗯嗯-followed-by-help", ("能改地址吗",), "嗯嗯，好的，马上帮您改地址", "CLEAN"),
    ("嗯-with-text-after", ("能改地址吗",), "嗯，可以的，您把新地址发我", "CLEAN"),
    ("哦-friendly-particle-的哦", ("有现货吗",), "亲，有现货的哦", "CLEAN"),
    ("哦-particle-可以的哦", ("能开发票吗",), "可以的哦", "CLEAN"),
    ("哦-particle-已经发货了哦", ("发货了吗",), "已经发货了哦亲", "CLEAN"),
    ("嗯-inside-sentence", ("这个好用吗",), "嗯，这款回购率很高的", "CLEAN"),
    ("嗯-emoji-only-decoration", ("能便宜吗",), "嗯😊", "LIVE FP-0002"),
    ("哦-emoticon-code", ("能便宜吗",), "哦[微笑]", "LIVE FP-0001"),
    ("嗯-presence-check", ("在吗",), "嗯", "SUPP FP-0002"),
    ("额-after-thanks", ("谢谢啦",), "额", "SUPP FP-0001"),
    ("哦-fullwidth-question-mark", ("这个是真皮吗？",), "哦", "LIVE FP-0001"),
    ("哦-after-这么贵-statement", ("这么贵",), "哦", "SUPP FP-0001"),
    ("哦-after-那么我先下单", ("那么我先下单了",), "哦", "SUPP FP-0001"),
    # --- bare negatives and one-word replies ----------------------------------------------
    ("不能-bare", ("可以开发票吗",), "不能", "LIVE FP-0005"),
    ("不能的哦-softened", ("可以开发票吗",), "不能的哦", "CLEAN"),
    ("不是-bare", ("这是正品吗",), "不是", "LIVE FP-0005"),
    ("不是的亲-softened", ("这是二手的吗",), "不是的亲，全新正品", "CLEAN"),
    ("没有的-bare", ("这款有50ml装的么",), "没有的", "LIVE FP-0005"),
    ("没-bare", ("还有货吗",), "没", "LIVE FP-0005"),
    ("不包的-bare", ("包运费吗",), "不包的.", "LIVE FP-0005"),
    ("不包-bare", ("包邮吗",), "不包", "LIVE FP-0005"),
    ("不送-bare", ("送运费险吗",), "不送", "LIVE FP-0005"),
    ("不送哦-softened", ("送运费险吗",), "不送哦", "CLEAN"),
    ("不行-bare", ("能再便宜点吗",), "不行", "LIVE FP-0005"),
    ("不行呢-softened", ("能再便宜点吗",), "不行呢", "CLEAN"),
    ("卖完了-bare", ("黑色还有吗",), "卖完了", "LIVE FP-0005"),
    ("卖完了呢-with-alternative", ("黑色还有吗",), "黑色卖完了呢，白色还有现货哦", "CLEAN"),
    ("没货了-bare", ("L码有吗",), "没货了", "LIVE FP-0005"),
    ("没有-after-statement", ("我已经下单了",), "没有", "SUPP FP-0005"),
    ("没有-to-problem", ("怎么还没发货",), "没有", "LIVE FP-0005"),
    ("不议价-bare", ("能讲价吗",), "不议价", "LIVE FP-0005"),
    ("不-bare", ("能便宜点吗",), "不", "LIVE FP-0004"),
    ("不-bare-no-context", (), "不！", "LIVE FP-0004"),
    ("不-bare-after-statement", ("我觉得有点贵",), "不", "LIVE FP-0004"),
    ("没事的-reassurance", ("会不会影响使用",), "没事的", "CLEAN"),
    ("不会的-reassurance", ("会掉色吗",), "不会的", "CLEAN"),
    ("不冲突-reassurance", ("优惠券和满减冲突吗",), "不冲突", "CLEAN"),
    ("是的-affirmative", (Q,), "是的", "CLEAN"),
    ("对的-affirmative", ("是纯棉的吗",), "对的", "CLEAN"),
    ("可以-affirmative", ("能开发票吗",), "可以", "CLEAN"),
    ("有-affirmative", ("有现货吗",), "有", "CLEAN"),
    ("在-to-product-question", ("这款有黑色吗",), "在", "LIVE FP-0006"),
    ("在-to-presence-check", ("在吗",), "在", "SUPP FP-0006"),
    ("在-to-在不在", ("客服在不在",), "在", "SUPP FP-0006"),
    ("在-presence-plus-question", ("在吗 这个什么时候发货",), "在", "LIVE FP-0006"),
    ("在的亲-softened", ("在吗",), "在的亲，请问有什么可以帮您", "CLEAN"),
    ("在呢-softened", ("在吗",), "在呢", "CLEAN"),
    ("不客气-alone", ("谢谢",), "不客气", "CLEAN"),
    ("不用谢-alone", ("谢谢啦",), "不用谢哦", "CLEAN"),
    ("不错-praise", ("这个好看吗",), "这款很不错的", "CLEAN"),
    ("不好意思-hmm", ("在吗",), "不好意思，刚才在忙", "CLEAN"),
    # --- 不知道 / 不清楚 / 不懂 -----------------------------------------------------------
    ("我不知道-bare", ("这个是纯棉的吗",), "我不知道", "LIVE FP-0007"),
    ("不知道-bare", ("什么时候到",), "不知道", "LIVE FP-0007"),
    ("不清楚-bare", ("这个能用多久",), "不清楚", "LIVE FP-0007"),
    ("不太清楚", ("这个是哪里产的",), "这个我不太清楚", "LIVE FP-0007"),
    ("我也不知道-softened-still-forbidden", ("能用花呗吗",), "这个我也不知道呢", "LIVE FP-0007"),
    ("不知道-plus-ask-warehouse", ("哪里发货",), "我不清楚呢，马上帮您问一下仓库", "SUPP FP-0007"),
    ("不知道-plus-核实", ("有没有发票",), "我不知道，帮您核实一下", "SUPP FP-0007"),
    ("不知道-plus-转接", ("这个怎么安装",), "这个我不清楚，给您转接技术同事", "SUPP FP-0007"),
    ("不知道-plus-稍等", ("什么材质",), "不太清楚，请稍等我查一下", "SUPP FP-0007"),
    ("不知道-future-price", ("双十一会降价吗",), "降价的事不知道呢，要看官方活动安排", "SUPP FP-0007"),
    ("不知道-restock-explained", ("什么时候补货",), "补货时间暂时不清楚，厂家还没有通知", "SUPP FP-0007"),
    ("不知道-restock-not-explained", ("什么时候补货",), "不清楚", "LIVE FP-0007"),
    ("不知道您-polite-wonder", ("我想买这个",), "不知道您想要哪个颜色呢？", "SUPP FP-0007"),
    ("不知道是否-polite", ("好的",), "不知道是否解决了您的问题呢", "SUPP FP-0007"),
    ("不知道能否-polite", ("好的",), "不知道能否给个好评呀", "SUPP FP-0007"),
    ("看不清楚-buyer-photo", ("图片太小了",), "图片看不清楚的话我再发一张", "SUPP FP-0007"),
    ("看不清-photo", ("我拍的照片可以吗",), "有点看不清，麻烦再拍一张", "CLEAN"),
    ("不清楚的地方-随时问", ("好的",), "有不清楚的地方随时问我哦", "SUPP FP-0007"),
    ("不懂的地方随时问我", ("好的",), "不懂的地方随时问我", "SUPP FP-0008"),
    ("我也不懂-bare", ("这个怎么安装",), "我也不懂", "LIVE FP-0008"),
    ("不懂-plus-ask-tech", ("功率多大",), "我也不太懂这个参数，帮您问一下技术同事", "SUPP FP-0008"),
    ("看不懂-buyer", ("说明书是英文的",), "看不懂的话我发您中文版", "CLEAN"),
    ("您不知道的话", ("尺码怎么选",), "您不知道选哪个的话，告诉我身高体重", "SUPP FP-0007"),
    ("找不到人问", ("包装盒能换吗",), "这个找不到人问", "LIVE FP-0009"),
    ("没人知道", ("什么时候有货",), "没人知道", "LIVE FP-0009"),
    ("不归我管", ("快递怎么不动",), "物流的事不归我管", "LIVE FP-0009"),
    ("不关我的事-with-help", ("快递怎么不动",), "这不是我负责的，我帮您联系物流同事", "SUPP FP-0009"),
    # --- pushing away -----------------------------------------------------------------------
    ("您自己选吧", ("这两款哪个好",), "您自己选吧", "LIVE FP-0010"),
    ("你自己选", ("哪个颜色好看",), "你自己选", "LIVE FP-0010"),
    ("自己看", ("怎么用",), "自己看说明书", "LIVE FP-0010"),
    ("自己查", ("到哪了",), "自己查物流", "LIVE FP-0010"),
    ("自己去看", ("有什么颜色",), "自己去看详情页", "LIVE FP-0010"),
    ("OK-自己看-fullwidth", ("怎么用",), "ＯＫ，自己看", "LIVE FP-0010"),
    ("自己选择是否-option", ("运费险要买吗",), "运费险您可以自己选择是否购买哦", "SUPP FP-0010"),
    ("自己查看-pointer-with-help", ("到哪了",), "您可以自己查看物流，我也帮您盯着", "SUPP FP-0010"),
    ("自己看得到-ability", ("说明书丢了",), "说明书上自己看得到吗", "SUPP FP-0010"),
    ("自己选-plus-截图", ("哪个好",), "款式自己选，我截图给您对比一下", "SUPP FP-0010"),
    ("上面有写-short", ("怎么洗",), "上面有写", "LIVE FP-0011"),
    ("页面上有-short", ("保质期多久",), "页面上有", "LIVE FP-0011"),
    ("详情页有-short", ("尺码表呢",), "详情页有", "LIVE FP-0011"),
    ("包装上面写着-informative", ("保质期多久",), "产品包装上面写着生产日期哦", "SUPP FP-0011"),
    ("页面上有优惠券-informative", ("有优惠吗",), "亲，页面上有优惠券可以领取，满200减20哦", "SUPP FP-0011"),
    ("说过了", ("包邮吗",), "刚才说过了", "LIVE FP-0012"),
    ("我说了多少遍", ("包邮吗",), "我说了多少遍了，不包邮", "LIVE FP-0012"),
    ("都说了", ("到底包不包邮",), "都说了不包邮", "LIVE FP-0012"),
    ("您说过了-buyer-said", ("发票抬头别忘了",), "好的，抬头您说过了，我记着呢", "SUPP FP-0012"),
    ("还有事吗", ("这个能便宜吗",), "还有事吗", "LIVE FP-0013"),
    ("还有什么可以帮您-polite", ("好的谢谢",), "请问还有什么可以帮您的吗", "CLEAN"),
    ("尽快-not-rushing", ("快点发货",), "我们会尽快发货的", "CLEAN"),
    # --- conflict -------------------------------------------------------------------------
    ("爱买不买", ("能便宜点吗",), "爱买不买", "LIVE FP-0014"),
    ("爱买不买-with-自己看", ("能便宜点吗",), "爱买不买，自己看说明书", "LIVE FP-0014"),
    ("你听不懂人话吗", ("到底能不能退",), "你听不懂人话吗", "LIVE FP-0014"),
    ("听不懂人话-mid-sentence", ("到底能不能退",), "跟你说了不能退，听不懂人话？", "LIVE FP-0014"),
    ("随便你", ("不退我就差评",), "随便你", "LIVE FP-0014"),
    ("差评就差评", ("不退我就差评",), "差评就差评，无所谓", "LIVE FP-0014"),
    ("你有病吧", ("你们是骗子",), "你有病吧", "LIVE FP-0014"),
    ("神经病", ("你们是骗子",), "神经病", "LIVE FP-0014"),
    ("不买拉倒", ("太贵了",), "不买拉倒", "LIVE FP-0014"),
    ("你去投诉吧", ("我要投诉",), "你去投诉吧，随便", "LIVE FP-0014"),
    ("是你自己的问题-blame", ("尺码不合适",), "是你自己的问题，没看尺码表", "LIVE FP-0014"),
    ("活该", ("洗坏了",), "活该", "LIVE FP-0014"),
    ("滚-bare", ("再不退款我天天来",), "滚", "LIVE FP-0015"),
    ("呵呵-bare", ("你们就是骗子",), "呵呵", "LIVE FP-0015"),
    ("呵呵-friendly-in-sentence", ("卖得好吗",), "呵呵，是的亲，这款很受欢迎", "CLEAN"),
    ("滚筒-word", ("能机洗吗",), "滚筒洗衣机可以洗的哦", "CLEAN"),
    ("随便挑-not-随便你", ("都有货吗",), "您可以随便挑选，都是现货", "CLEAN"),
    (
        "calm-with-angry-buyer",
        ("你们就是骗子，我要差评",),
        "非常抱歉给您带来不好的体验，我马上为您处理",
        "CLEAN",
    ),
    ("投诉-polite-apology", ("我要投诉你们",), "非常抱歉给您带来不便，我马上为您处理", "CLEAN"),
    # --- habits -----------------------------------------------------------------------------
    ("晕-bare", ("我又忘了尺码",), "晕", "LIVE FP-0018"),
    ("无语-bare", ("怎么还没到",), "无语", "LIVE FP-0018"),
    ("晕-in-sentence", (), "晕，这个刚才说过了吧", "LIVE FP-0016"),
    ("晕染-word", ("好看吗",), "这款晕染效果很好看", "CLEAN"),
    ("头晕-word", ("有晕车贴吗",), "坐车头晕可以贴这个", "CLEAN"),
    ("晕车-word", ("有晕车贴吗",), "晕车贴有现货的", "CLEAN"),
    ("four-exclamations", (), "已经发货了!!!!", "LIVE FP-0016"),
    ("four-fullwidth-exclamations", (), "已经发货了！！！！", "LIVE FP-0016"),
    ("one-exclamation", (), "谢谢亲!", "CLEAN"),
    # --- strict shops -------------------------------------------------------------------------
    ("strict-不能再便宜了哦", ("能便宜吗",), "不能再便宜了哦", "LIVE FP-0017 strict"),
    ("normal-不能再便宜了哦", ("能便宜吗",), "不能再便宜了哦", "CLEAN"),
    ("strict-到不了", ("新疆能发吗",), "新疆到不了", "LIVE FP-0017 strict"),
    ("strict-不行", (), "这个不行", "LIVE FP-0017 strict"),
    ("strict-apology", ("再便宜点",), "非常抱歉，这个价格已经不能再低了", "CLEAN strict"),
    ("strict-explanation", (), "偏远地区不发货，因为快递到不了", "CLEAN strict"),
    ("strict-alternative", ("包邮吗",), "不包邮，满99可以包邮哦", "CLEAN strict"),
    ("strict-不好意思", (), "不好意思让您久等了", "CLEAN strict"),
    ("strict-不客气", (), "不客气，有事随时找我", "CLEAN strict"),
    ("strict-不会缩水", (), "亲，不会缩水的哦，放心", "CLEAN strict"),
    ("strict-不错", (), "这款面料很不错", "CLEAN strict"),
    ("strict-不过", (), "这个颜色不过很耐看", "CLEAN strict"),
    ("strict-不用担心", (), "不用担心，都是正品", "CLEAN strict"),
    ("strict-bare-不", ("能便宜点吗",), "不", "LIVE FP-0004 strict"),
    ("strict-A-not-A-question", (), "您看是不是尺码拍错了", "SUPP FP-0017 strict"),
    ("strict-agent-asks", (), "收到的时候盒子是不是破的？", "SUPP FP-0017 strict"),
    ("strict-造成不便-apology", (), "给您造成的不便，敬请谅解", "CLEAN strict"),
    ("strict-product-property-不添加", (), "这款不添加香精", "CLEAN strict"),
    ("strict-不可以的亲", ("能货到付款吗",), "不可以的亲", "LIVE FP-0017 strict"),
]


@pytest.mark.parametrize(("name", "context", "text", "expect"), CASES, ids=[c[0] for c in CASES])
def test_hard_case(name, context, text, expect, forbidden_rule, strict_rule):
    parts = expect.split()
    rule = strict_rule if "strict" in parts else forbidden_rule
    findings = check_text(rule, text, context)
    live = [f for f in findings if f.live]
    shown = [(f.entry, f.text, f.suppressed, f.cue) for f in findings]
    if parts[0] == "LIVE":
        assert any(f.entry == parts[1] for f in live), shown
        for f in live:
            if f.start is not None:
                assert text[f.start : f.end] == f.text
    elif parts[0] == "CLEAN":
        assert not live, shown
    else:
        assert parts[0] == "SUPP"
        assert not live, shown
        assert any(f.entry == parts[1] and f.suppressed and f.cue for f in findings), shown


def test_table_is_large_and_ids_unique():
    names = [c[0] for c in CASES]
    assert len(names) >= 150
    assert len(set(names)) == len(names)


def test_buyers_and_auto_replies_are_never_charged(forbidden_rule):
    from qc.schema import Conversation, Message, Role

    conv = Conversation(
        "c",
        (
            Message(0, Role.AGENT, "嗯", sender="a", auto_reply=True),
            Message(1, Role.CUSTOMER, "我不知道", sender="b"),
            Message(2, Role.CUSTOMER, "爱买不买", sender="b"),
            Message(3, Role.SYSTEM, "不"),
        ),
    )
    assert list(forbidden_rule.check(conv, ())) == []


def test_bare_reply_continued_in_next_bubble_is_suppressed(forbidden_rule):
    from qc.schema import Conversation, Message, Role

    conv = Conversation(
        "c",
        (
            Message(0, Role.CUSTOMER, "有赠品吗", sender="b"),
            Message(1, Role.AGENT, "没有", sender="a"),
            Message(2, Role.AGENT, "不过收藏店铺可以领5元券哦", sender="a"),
        ),
    )
    (finding,) = forbidden_rule.check(conv, ())
    assert finding.suppressed and "next message" in finding.cue


def _continued(bubbles, gap_s: int):
    """没有 to a question, then ``bubbles`` (role, text) each ``gap_s`` seconds after the last."""
    from datetime import datetime, timedelta, timezone

    from qc.schema import Conversation, Message, Role

    t0 = datetime(2026, 11, 24, 10, 0, tzinfo=timezone(timedelta(hours=8)))
    roles = {"agent": Role.AGENT, "system": Role.SYSTEM, "auto": Role.AGENT}
    messages = [
        Message(0, Role.CUSTOMER, "有赠品吗", sender="b", sent_at=t0),
        Message(1, Role.AGENT, "没有", sender="a", sent_at=t0 + timedelta(seconds=5)),
    ]
    for i, (role, text) in enumerate(bubbles, start=2):
        at = t0 + timedelta(seconds=5 + gap_s * (i - 1))
        messages.append(Message(i, roles[role], text, sender="a", sent_at=at, auto_reply=role == "auto"))
    return Conversation("c", tuple(messages))


@pytest.mark.parametrize(
    ("bubbles", "gap_s", "suppressed"),
    [
        ([("agent", "不过收藏店铺可以领5元券哦")], 30, True),
        ([("agent", "不过收藏店铺可以领5元券哦")], 60, True),
        # two minutes later is a new reply, as the attitude model's follow-up window reads it (audit 77 B1)
        ([("agent", "不过收藏店铺可以领5元券哦")], 120, False),
        # a notice or an auto-reply between the bubbles is passed over (audit 77 B4)
        ([("system", "系统提示：会话已转接"), ("agent", "不过收藏店铺可以领5元券哦")], 10, True),
        ([("auto", "感谢您的咨询"), ("agent", "不过收藏店铺可以领5元券哦")], 10, True),
        ([("auto", "感谢您的咨询"), ("agent", "不过收藏店铺可以领5元券哦")], 40, False),
    ],
)
def test_a_bare_reply_goes_on_only_in_the_agents_next_bubble_soon_after(
    forbidden_rule, bubbles, gap_s, suppressed
):
    (finding,) = [f for f in forbidden_rule.check(_continued(bubbles, gap_s), ()) if f.message_index == 1]
    assert finding.suppressed is suppressed
    assert ("next message" in finding.cue) is suppressed


@pytest.mark.parametrize("notices", [0, 3, 6, 12])
def test_platform_notices_and_auto_replies_do_not_push_the_buyer_out_of_view(forbidden_rule, notices):
    """Six transfer notices after 我先去付款了 made a bare 哦 follow no buyer message at all, and
    charged it (audit 84 L5): notices answer no buyer and split no turn."""
    between = ["系统提示：会话已转接给客服小王", "[自动回复]您好，客服马上就来"] * (notices // 2)
    found = check_text(forbidden_rule, "哦", ["我先去付款了", *between])
    assert [f.suppressed for f in found] == [True]


def test_finding_carries_agent_offsets_and_implied_cue(forbidden_rule):
    (f,) = check_text(forbidden_rule, "亲，这个我不知道", ("是纯棉的吗",))
    assert (f.start, f.end, f.text) == (5, 8, "不知道") or (f.start, f.end, f.text) == (4, 8, "我不知道")
    assert f.agent == "agent" and f.kind == "forbidden_phrase" and f.rule == "forbidden_phrase.v1"
    assert f.evidence.details["implies"] == "impatience"
    assert f.score == 1.0


_ALPHABET = "不知道清楚嗯哦恩在没有能是自己看选好意思客气会的吧呢亲您，。！？!?ＯＫ …😊[微笑] \n"


@given(text=st.text(alphabet=_ALPHABET, max_size=30), buyer=st.text(alphabet=_ALPHABET, max_size=15))
@settings(max_examples=300, deadline=None)
def test_any_text_gives_findings_whose_spans_slice_the_original(text, buyer):
    from qc.rules.forbidden_phrase import ForbiddenPhraseRule
    from qc.rules.lexicon import load_lexicon

    for strict in (False, True):
        rule = ForbiddenPhraseRule(load_lexicon(), strict=strict)
        for f in check_text(rule, text, (buyer,)):
            assert f.live != f.suppressed and f.cue
            if f.start is None:
                assert f.end is None and f.text == text
            else:
                assert 0 <= f.start < f.end <= len(text) and text[f.start : f.end] == f.text


def test_scan_gives_plain_dicts_for_feature_extractors():
    from qc.rules.forbidden_phrase import scan

    (hit,) = scan("我不知道", ("是纯棉的吗",))
    assert hit == {
        "entry": "FP-0007",
        "start": 0,
        "end": 4,
        "suppressed": False,
        "implies": "impatience",
        "cue": hit["cue"],
    }
    assert scan("不好意思让您久等了") == []


@pytest.mark.parametrize("strict", [False, True])
def test_a_reply_the_rule_cannot_flag_gets_no_finding_in_any_context(strict):
    # The classifier's lexicon cues skip the context of replies for which may_flag is False;
    # that is only right if such a reply never gets a finding, whatever came before it.
    from pathlib import Path

    from qc.rules import RuleSettings
    from qc.run.inspector import make_rule
    from qc.training.evaluate import sample_conversation
    from qc.training.samples import load_samples

    rule = make_rule("forbidden_phrase.v1", RuleSettings(strict=strict))
    seen = flagged = 0
    for sample in load_samples(Path(__file__).resolve().parents[1] / "annotated_samples"):
        conversation = sample_conversation(sample)
        index = len(conversation.messages) - 1
        found = list(rule.check_message(conversation, index))
        assert rule.may_flag(conversation.messages[index].text) or not found, sample.id
        seen += 1
        flagged += bool(found)
    assert seen > 6000 and flagged > 500  # both sides of the check were exercised


@pytest.mark.parametrize(
    ("text", "live"),
    [
        ("你好，在的", True),
        ("你的快递明天就到了", True),
        ("您好，您的快递明天就到了", False),
        ("这款迷你款很受欢迎哦", False),  # 迷你 is a word, not an address
    ],
)
def test_strict_shops_count_the_buyer_addressed_as_ni(text, live):
    """DOMAIN's house rule 称呼买家用您 was checked nowhere (audit 75): strict shops now count a 你
    (FP-0019), with no attitude verdict of its own; other shops do not."""
    from qc.rules.forbidden_phrase import ForbiddenPhraseRule
    from qc.rules.lexicon import load_lexicon

    lexicon = load_lexicon()
    strict = [f for f in check_text(ForbiddenPhraseRule(lexicon, strict=True), text, ("快递到哪了",))]
    found = [f for f in strict if f.entry == "FP-0019"]
    assert any(f.live for f in found) is live
    assert all(f.evidence.details.get("implies") is None for f in found)
    assert not [
        f for f in check_text(ForbiddenPhraseRule(lexicon), text, ("快递到哪了",)) if f.entry == "FP-0019"
    ]


@pytest.mark.parametrize(
    ("bubbles", "gap_s", "suppressed"),
    [
        ([("agent", "我帮您问一下厂家哦")], 6, True),
        # the help offer two minutes later is a new reply: 不清楚 stood alone (the bare window)
        ([("agent", "我帮您问一下厂家哦")], 120, False),
        ([("agent", "您再看看别的吧")], 6, False),  # going on without a help offer vetoes nothing
    ],
)
def test_a_help_offer_in_the_next_bubble_vetoes_as_in_the_same_message(
    forbidden_rule, bubbles, gap_s, suppressed
):
    """不清楚, then 我帮您问一下厂家哦 6 s later cost −1, while 不清楚，我帮您问一下厂家哦 in one message cost
    nothing: a reply continued in further bubbles is judged with them (audit 139 M3)."""
    conv = _continued(bubbles, gap_s)
    messages = list(conv.messages)
    messages[1] = type(messages[1])(1, messages[1].role, "不清楚", sender="a", sent_at=messages[1].sent_at)
    conv = type(conv)("c", tuple(messages))
    (finding,) = [f for f in forbidden_rule.check(conv, ()) if f.message_index == 1]
    assert finding.suppressed is suppressed
    assert ("goes on with help offer" in finding.cue) is suppressed
    (alone,) = check_text(forbidden_rule, "不清楚，我帮您问一下厂家哦", ("什么时候补货",))
    assert alone.suppressed
