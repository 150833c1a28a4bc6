"""Why a finding was made, in Chinese, for every view a QA lead or an agent reads.

The workbench, `qc show`, the coaching report (`qc report`) and `qc check` give this reason.
The attitude model and the transfer rule already explain themselves in Chinese. Slow replies,
unanswered buyers and forbidden phrases carry English summaries (findings.jsonl is read by
scripts and its text is part of the output contract), so the reason is worded here from the
finding's details and the rule's cue phrases. A cue this module does not know (a shop's own
allowlist reason, say) is shown as it is, never dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from qc.schema import Finding
from qc.scoring.card import CONFIRMED_CUE, HELD_CUE_PREFIX, REJECTED, REJECTED_CUE

__all__ = ["why_zh"]

_TURN = {
    "a question": "买家的提问",
    "a yes/no question": "买家的是非问",
    "a what/how/when question": "买家的特指问（什么、怎么、何时）",
    "a reported problem": "买家反映的问题",
    "a presence check (在吗)": "买家问在不在（在吗）",
    "thanks": "买家的道谢",
    "an acknowledgement": "买家的应答",
    "data (order number, address)": "买家发来的资料（订单号、地址）",
    "a statement": "买家的陈述",
    "no buyer message in view": "看不到买家消息",
}

_NEEDS = {
    "help offer": "主动帮忙",
    "explanation": "解释",
    "unknowable": "说明无从得知",
    "apology": "道歉",
    "alternative": "替代方案",
}


# The reasons of the bundled lexicon's allowlist ([[allow]] reason), as a veto names them.
_ALLOW_REASONS = {
    "a picture or writing that is not clear (not the agent not knowing)": "看不清的是图或字，非不知道",
    "a promise or reassurance with 不会": "带「不会」的承诺或安抚",
    "a third party does not know (not the agent)": "不知道的是第三方，不是客服",
    "about what the buyer may not know or see": "说的是买家可能不知道、没看到的事",
    "apology": "道歉",
    "asking how the buyer wants it handled": "在问买家想怎么处理",
    "boiling water (滚开), not an insult": "说的是水烧开，不是骂人",
    "describing an option or an ability": "在介绍一个选项或功能",
    "offering the buyer a free choice": "请买家自由选择",
    "ordinary word with 不": "带「不」的普通词",
    "ordinary word with 你": "带「你」的普通词",
    "polite 'I wonder whether' (不知道您…)": "客气的「不知道您…」",
    "politeness formula": "礼貌用语",
    "praise": "称赞",
    "reassurance": "安抚",
    "telling the buyer something, not irritation at a repeated question": "在告知买家，不是嫌买家问过",
    "the agent repeats what the buyer said": "客服在复述买家的话",
    "the buyer said it already (not the agent's irritation)": "说过的是买家，不是客服嫌烦",
    "told someone else, or others said it (not irritation at the buyer)": "说给别人或别人说的，非不耐烦",
}


def _allow(reason: str) -> str:
    return _ALLOW_REASONS.get(reason, reason)


def _turn(text: str) -> str:
    return _TURN.get(text, text)


def _needs(text: str) -> str:
    return "、".join(_NEEDS.get(part.strip(), part.strip()) for part in text.split("/"))


_CUES: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (
        re.compile(r"^no buyer message in view( \(lexicon: no_context = suppressed\))?$"),
        lambda m: "看不到买家消息" + ("（词库设定：此时不计）" if m.group(1) else ""),
    ),
    (
        re.compile(r"^follows (.+), read as an acknowledgement$"),
        lambda m: f"跟在{_turn(m.group(1))}之后，视为应答",
    ),
    (re.compile(r"^reply to (.+)$"), lambda m: f"回应的是{_turn(m.group(1))}"),
    (
        re.compile(r"^the agent goes on in the next message \(read as one reply\)$"),
        lambda m: "客服下一条接着说（视为同一回复）",
    ),
    (re.compile(r"^bare reply, whatever came before$"), lambda m: "整条回复只有这一句，不论前文"),
    (re.compile(r"^no (.+) in the message$"), lambda m: f"回复里没有{_needs(m.group(1))}"),
    (re.compile(r"^listed phrase in the agent's reply$"), lambda m: "客服回复中出现词库所列用语"),
    (
        re.compile(r"^strict shop: a 不-word with no apology or explanation$"),
        lambda m: "严格店铺：带「不」的回复没有道歉或解释",
    ),
    (
        re.compile(r"^strict shop: a house rule's phrase in the agent's reply$"),
        lambda m: "严格店铺：回复用了店规不允许的说法",
    ),
    (
        re.compile(r"^a longer reply \((\d+) chars\) that says more than the phrase$"),
        lambda m: f"回复较长（{m.group(1)} 字），不只这一句",
    ),
    (re.compile(r"^the buyer asked about (.+?) (「.*」)$"), lambda m: f"买家问的正是{m.group(2)}"),
    (re.compile(r"^part of (「.*」) \((.*)\)$"), lambda m: f"属于正常用语{m.group(1)}：{_allow(m.group(2))}"),
    (re.compile(f"^{re.escape(REJECTED_CUE)}$"), lambda m: "已驳回（复核或申诉）"),
    (re.compile(f"^{re.escape(CONFIRMED_CUE)}$"), lambda m: "复核已确认"),
    (re.compile(r"^inside the word (「.*」)$"), lambda m: f"只是词语{m.group(1)}的一部分"),
    (
        re.compile(r"^same message has (.+?) (「.*」)$"),
        lambda m: f"同一条回复里有{_needs(m.group(1))}{m.group(2)}",
    ),
    (
        re.compile(r"^the reply goes on with (.+?) (「.*」) in its next message$"),
        lambda m: f"客服下一条接着有{_needs(m.group(1))}{m.group(2)}（视为同一回复）",
    ),
    (re.compile(r"^part of the agent's own question$"), lambda m: "是客服自己在提问"),
    (re.compile(r"^an A-not-A question (「.*」)$"), lambda m: f"是客服自己的正反问句{m.group(1)}"),
    (
        re.compile(r"^held by the scorecard: review_only$"),
        lambda m: "评分卡设定此类只进复核队列，确认前不扣分（review_only）",
    ),
    (
        re.compile(r"^held by the scorecard: score (\S+) under min_score (\S+)$"),
        lambda m: f"置信度 {m.group(1)} 低于评分卡的扣分线 {m.group(2)}（min_score）",
    ),
]


def cue_zh(cue: str) -> str:
    """One cue of the forbidden-phrase rule in Chinese (unchanged when it is not a known one)."""
    for pattern, word in _CUES:
        m = pattern.match(cue)
        if m:
            return word(m)
    return cue


def _num(value: object) -> str:
    return f"{float(value):g}" if isinstance(value, int | float) else "?"


def why_zh(
    finding: Finding,
    item_labels: Mapping[str, str],
    kind_labels: Mapping[str, str],
    charged_by: Finding | None = None,
) -> str:
    """The reason for ``finding`` in Chinese: the rule, the measured figures or the context cue.

    ``item_labels`` maps scorecard item ids to their names (平均响应时间); ``kind_labels`` maps
    finding kinds to Chinese (不够耐心). Attitude findings already speak Chinese: their summary.
    ``charged_by``: the finding whose more severe verdict the message is charged for instead
    (:meth:`~qc.supervise.transcript.MessageView.charged_instead`), said after the reason.
    """
    reason = _why(finding, item_labels, kind_labels)
    if charged_by is None:
        return reason
    verdict = charged_by.evidence.details.get("implies") or charged_by.kind
    return (
        f"{reason}（同一条消息已按「{kind_labels.get(str(verdict), str(verdict))}」扣分，一条消息只扣一次）"
    )


def _why(finding: Finding, item_labels: Mapping[str, str], kind_labels: Mapping[str, str]) -> str:
    ev = finding.evidence
    details = ev.details or {}
    item = item_labels.get(str(details.get("item", "")), str(details.get("item", "")))
    if finding.kind == "slow_response":
        coarse = bool(details.get("to_the_minute"))  # timed at its least: the times have no seconds
        return (
            f"回复慢：会话第 {int(details.get('buyer_index', 0)) + 1} 条（买家消息）之后"
            f"{'至少' if coarse else ''} {_num(details.get('delay_s'))} 秒才回复，"
            f"{'（时间只记到分钟，按最短可能计）' if coarse else ''}"
            f"超过「{item}」的 {_num(details.get('limit_s'))} 秒上限 {_num(details.get('over_s'))} 秒"
        )
    if finding.kind == "missed_reply":
        return f"漏回复：买家的 {details.get('turns', 1)} 轮消息当天没有得到回复，计入「{item}」"
    if ev.rule.startswith("forbidden_phrase"):
        implied = details.get("implies")
        label = kind_labels.get(str(implied), implied)
        # Said as the finding stands: a rejected phrase read 计为「不够耐心」 beside its 0 points,
        # and a live one implying no verdict (!!!!) read 按上下文不计分 (audit 169 F2).
        rejected = details.get("review") == REJECTED or REJECTED_CUE in ev.cues
        if rejected:  # by a review or by an appeal's ruling: the finding does not say which
            verdict = "已驳回（复核或申诉），不计分"
        elif finding.suppressed:
            verdict = "按上下文不计分"
        elif finding.needs_review:
            verdict = f"待复核，确认后计为「{label}」" if implied else "待复核，确认后计分"
        elif implied:
            verdict = f"计为「{label}」"
        else:
            verdict = "计入禁用语，不指向服务态度的判定"
        # the decision is the verdict already: the 依据 are the rule's (audit 170 F9)
        cues = "；".join(cue_zh(c) for c in ev.cues if c != REJECTED_CUE)
        said = f"「{finding.text}」" if finding.text else ""
        return f"禁用语 {ev.pattern}{said}：{verdict}" + (f"。依据：{cues}" if cues else "")
    if ev.cues and ev.cues[0].startswith(HELD_CUE_PREFIX):  # the model was sure; the card holds it
        return f"{ev.summary}。{cue_zh(ev.cues[0])}"
    return ev.summary
