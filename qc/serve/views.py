"""The workbench's pages: each handler reads through the supervision layer and renders a template.

Handlers run in a worker thread with the request's :class:`~qc.serve.app.Ctx`; the wrapper
has already checked the session, the role and the CSRF token. What is left here is whose
data a person may see: an agent sees only their own rows, conversations, findings and
appeals, and anything else answers 404 (:class:`~qc.serve.app.NotFound`), the same as a
page that does not exist, so an id guessed in the URL tells nothing.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

from starlette.responses import Response

from qc.errors import ConfigError
from qc.scoring.card import qualifies
from qc.scoring.metrics import UNDATED, MetricPart
from qc.scoring.periods import Period, Windows
from qc.scoring.scores import KIND_LABELS
from qc.serve.context import MAX_STORED_INT, Ctx, NotFound, conversation_url
from qc.serve.dashboard import build_dashboard, default_period, parse_range
from qc.serve.render import kinds_chart, mood_chart, trend_chart
from qc.store.database import StoredFinding
from qc.supervise import appeal as appeals_api
from qc.supervise import calibration as cal
from qc.supervise.filters import match_agent, resolve_agent
from qc.supervise.flagged import charged_once
from qc.supervise.masking import conversation_masker, page_masker
from qc.supervise.people import AGENT, REVIEWERS, SUPERVISOR, list_people
from qc.supervise.queue import HELD, build_queue, next_pending
from qc.supervise.review import (
    PENDING,
    ReviewError,
    about_check,
    confirm_effect,
    covering_charge,
    decide,
    deciding_appeals,
    finding_states,
    last_decisions,
    ruled_along,
    still_charging,
)
from qc.supervise.states import state_label
from qc.supervise.transcript import build_view, buyer_sentiments, charged_words, load_view
from qc.text.pii import shown_value

__all__ = [
    "appeal_answer",
    "appeal_open",
    "appeal_reopen",
    "appeal_rule",
    "appeals",
    "calibration",
    "calibration_open",
    "calibration_round",
    "calibration_verdict",
    "calibration_close",
    "conversation",
    "dashboard",
    "findings",
    "queue",
    "queue_decide",
    "review_finding",
    "search",
]

SOURCE = "serve"  # the audit trail's source of every decision made in the workbench


# ------------------------------------------------------------------------------ scope


def _agent(ctx: Ctx) -> str | None:
    """The agent a page is about: for staff the ``agent`` argument; for an agent one of their own.

    An agent bound to accounts in several shops sees one at a time: the ``agent`` argument when
    it names one of theirs, else the first. Nobody else's account is ever shown to an agent.
    """
    if ctx.person.role == AGENT:
        own = ctx.wb.own_agents(ctx.person)
        chosen = match_agent(ctx.arg("agent"), own) if ctx.arg("agent") else []
        return chosen[0] if len(chosen) == 1 else own[0] if own else "\0nobody"
    asked = ctx.arg("agent")
    # As --agent takes it: a short name or a full-width colon named nobody and gave an empty table.
    return resolve_agent(ctx.store, asked, "agent") if asked else None


def _period(ctx: Ctx) -> Period:
    """The period asked for (``period`` or ``from``/``to``), else the newest appraisal period."""
    asked = parse_range(ctx.arg("from") or None, ctx.arg("to") or None, ctx.arg("period") or None)
    if asked is not None:
        return asked
    found = default_period(ctx.store, ctx.wb.card)
    if found is None:
        raise ConfigError("the store holds no inspected day yet: qc inspect DAY --out DIR --db STORE")
    return found


def _mine(ctx: Ctx, stored: StoredFinding) -> bool:
    """True when the person may see this finding (staff: all; an agent: their own)."""
    return ctx.person.role != AGENT or ctx.person.charged_with(stored.scored_agent or stored.finding.agent)


def _check_conversation(ctx: Ctx, conversation_id: str) -> None:
    """404 unless the conversation exists and, for an agent, counts for or charges them."""
    agents = ctx.store.agents_of_conversation(conversation_id)
    if not agents and not ctx.store.conversations([conversation_id]):
        raise NotFound
    if ctx.person.role == AGENT and not any(ctx.person.charged_with(a) for a in agents):
        raise NotFound


def _finding(ctx: Ctx, finding_id: str) -> StoredFinding:
    stored = ctx.store.finding(finding_id)
    if stored is None and ctx.person.role != AGENT and ctx.request.method == "POST":
        # The page still showed it: a re-run no longer finds it. Say so, not "not found"
        # (an agent gets 404 for any finding not theirs, and a gone one is nobody's).
        # A re-run may also have renumbered it (its message moved): not said as "dropped" (audit 128 L3).
        raise ReviewError(
            f"finding {finding_id or '(none)'} is no longer stored under this id: a later inspection"
            " renumbered or dropped it; nothing was changed (reload the page)"
        )
    if stored is None or not _mine(ctx, stored):
        raise NotFound
    return stored


def _version(ctx: Ctx) -> tuple[int, int]:
    return ctx.store.data_version()


# ------------------------------------------------------------------------------ dashboard


def dashboard(ctx: Ctx) -> Response:
    """Per-agent table of the period, weekly and monthly trend, points by kind, worst conversations."""
    period = _period(ctx)
    agent = _agent(ctx)
    data = ctx.wb.cached(
        ("dashboard", period, agent),
        _version(ctx),
        lambda: build_dashboard(
            ctx.store,
            ctx.wb.card,
            period,
            agent=agent,
            trend_weeks=ctx.wb.settings.trend_weeks,
            trend_months=ctx.wb.settings.trend_months,
        ),
    )
    query = {"from": period.first, "to": period.last}
    scope = {"agent": agent} if agent else {}

    def kind_href(name: str) -> str | None:
        found = data.kind_filters.get(name)
        if found is None:
            return None
        item, kind = found
        return "/findings?" + urlencode({**query, **scope, "item": item, **({"kind": kind} if kind else {})})

    return ctx.render(
        "dashboard.html",
        data=data,
        period=period,
        query=query,
        weekly_chart=trend_chart(data.weekly, data.weeks, "每周合计得分 (score per ISO week)"),
        monthly_chart=trend_chart(data.monthly, data.months, "每月合计得分 (score per month)"),
        kinds_chart=kinds_chart(data.by_kind),
        by_kind=[
            (name, pts, kind_href(name)) for name, pts in sorted(data.by_kind.items(), key=lambda kv: kv[1])
        ],
        rejected_href="/findings?" + urlencode({**query, **scope, "rejected": "1"}),
        # The file of the same window, labelled as the page is (2026-11, not 2026-11-01~2026-11-30).
        table_query={"period": period.label} if period.kind != "range" else query,
        kind_labels=KIND_LABELS,
        urlencode=urlencode,
        mask=page_masker(ctx.masker(), ctx.store, (fc.conversation_id for fc in data.worst)),
    )


# The per-agent table as a file: what `qc export` writes as agents.csv and agents.xlsx.
_TABLE_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def agents_table(ctx: Ctx) -> Response:
    """The period's per-agent table as agents.csv or agents.xlsx, decisions applied, as `qc export` writes it.

    The dashboard showed the numbers payroll takes but gave no file of them: a QA lead copied
    them by hand or went to the command line (audit 161: no download in the workbench).
    """
    import tempfile
    from pathlib import Path

    from qc.outputs.writers import write_agents_csv, write_agents_xlsx
    from qc.scoring.scores import agent_columns
    from qc.supervise.review import score_period

    kind = ctx.request.path_params["kind"]
    if kind not in _TABLE_TYPES:
        raise NotFound
    period = _period(ctx)
    result = score_period(ctx.store, period, ctx.wb.card)
    with tempfile.TemporaryDirectory(prefix="qc-table-") as folder:
        path = Path(folder) / f"agents.{kind}"
        (write_agents_csv if kind == "csv" else write_agents_xlsx)(
            path, result.rows, agent_columns(ctx.wb.card)
        )
        body = path.read_bytes()
    name = f"agents_{period.label.replace('~', '_')}.{kind}"
    return Response(
        body,
        media_type=_TABLE_TYPES[kind],
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


def _scored_period(ctx: Ctx, period: Period) -> Any:
    from qc.batch.stored import score_stored

    return ctx.wb.cached(
        ("pooled", period),
        _version(ctx),
        lambda: score_stored(ctx.store, ctx.wb.card, period.first, period.last, Windows.only(period)),
    )


def findings(ctx: Ctx) -> Response:
    """The findings behind a number of the dashboard: of an item's deductions, of a kind, or all."""
    period = _period(ctx)
    agent = _agent(ctx)
    item = ctx.arg("item")
    kind = ctx.arg("kind")
    held = ctx.arg("held") == "1"
    # As /search refuses them: an unknown kind or item listed "0 findings" titled with it (audit 112 L3).
    kinds = ctx.store.finding_kinds()
    if kind and kind not in kinds and kind not in KIND_LABELS:
        known = ", ".join(sorted({*kinds, *KIND_LABELS}))
        raise ConfigError(f"类型 Kind {shown_value(kind, 40)!r} is no finding kind: choose one of {known}")
    items = [i.id for i in ctx.wb.card.items]
    if item and item != "*" and item not in items:
        raise ConfigError(
            f"item {shown_value(item, 40)!r} is no item of the scorecard: choose one of {', '.join(items)}"
        )
    messages: int | None = None  # how many messages a verdict's list is about
    scored = _scored_period(ctx, period)
    points, _ = scored.stakes(ctx.wb.card)
    label = next(iter(scored.scores.windows), period.label)
    if item:
        ids: set[str] = set()
        for d in scored.scores.deductions:
            if (
                d.date == label
                and (agent is None or d.agent == agent)
                and (item == "*" or d.item == item)
                and (not kind or d.kind == kind)
            ):
                ids.update(d.finding_ids)
        rows = [s for s in scored.findings if s.finding.id in ids]
    elif ctx.arg("rejected") == "1":
        rows = [
            s
            for s in scored.findings
            if s.finding.id in scored.rejected and (agent is None or s.scored_agent == agent)
        ]
    elif kind in ctx.wb.card.verdict_order and not held and ctx.arg("all") != "1":
        # The dashboard counts the messages charged with this verdict, a forbidden phrase that
        # implies it among them (爱买不买 is conflict): list the findings behind those verdicts.
        charged = [
            v
            for v in scored.verdicts
            if v.verdict == kind
            and period.first <= v.date <= period.last
            and (agent is None or v.agent == agent)
        ]
        behind = {fid for v in charged for fid in v.verdict_findings}
        rows = [s for s in scored.findings if s.finding.id in behind]
        messages = len(charged)
    else:
        rows = [
            s
            for s in scored.findings
            if (agent is None or s.scored_agent == agent)
            and (not kind or s.finding.kind == kind)
            and (
                # What the 待复核 count counts: held and not decided (a rejected one is 已排除, audit 112 L4)
                not qualifies(s.finding, ctx.wb.card) and not s.finding.suppressed
                if held
                else s.finding.live or ctx.arg("all") == "1"
            )
        ]
    rows = [s for s in rows if _mine(ctx, s)]
    mask = page_masker(ctx.masker(), ctx.store, (s.finding.conversation_id for s in rows))
    item_label = next((i.label for i in ctx.wb.card.items if i.id == item), "合计" if item == "*" else item)
    shown, shared = charged_once(rows, points, ctx.wb.card.evidence_kinds, scored.parts(ctx.wb.card))
    return ctx.render(
        "findings.html",
        rows=rows,
        messages=messages,
        points=shown,
        shared=shared,
        states=scored.states,
        period=period,
        agent=agent if agent != "\0nobody" else None,
        item=item_label,
        kind=KIND_LABELS.get(kind, kind)
        or (
            "待复核 held for review"
            if held
            else "复核驳回 rejected in review"
            if ctx.arg("rejected") == "1"
            else ""
        ),
        mask=mask,
        kind_labels=KIND_LABELS,
    )


# ------------------------------------------------------------------------------ conversation


def conversation(ctx: Ctx) -> Response:
    """A transcript with its evidence, slow replies, auto-replies, buyer mood, and what may be done."""
    cid = ctx.request.path_params["conversation_id"]
    _check_conversation(ctx, cid)
    try:
        view = ctx.wb.cached(
            ("view", cid),
            _version(ctx),
            lambda: load_view(ctx.store, cid, ctx.wb.card, explain=True, sentiment=buyer_sentiments),
        )
    except ReviewError:
        raise NotFound from None
    mask = conversation_masker(ctx.masker(), (mv.message for mv in view.messages), charged_words(view))
    visible = _visible_ids(ctx, view)
    appeals_of: dict[str, list[dict[str, Any]]] = {}
    along_of: dict[str, dict[str, Any]] = {}  # decided with another finding's final ruling
    for fid in visible:
        appeals_of[fid] = ctx.store.appeal_rows(finding_id=fid)
        if (
            ruling := ruled_along(ctx.store, fid, appeals_of[fid][-1] if appeals_of[fid] else None)
        ) is not None:
            along_of[fid] = ruling
    return ctx.render(
        "conversation.html",
        view=view,
        visible=visible,
        appeals_of=appeals_of,
        along_of=along_of,
        # Each review form sends the state it showed: a decision landed meanwhile is not overturned.
        states=finding_states(ctx.store, list(visible)),
        # Who decided each finding, when and why, as qc show says it (audit 112 L7).
        decided=last_decisions(ctx.store, list(visible)),
        mask=mask,
        masked=mask.enabled,
        mood_svg=mood_chart(view.mood),
        kind_labels=KIND_LABELS,
        cid=cid,
    )


def _visible_ids(ctx: Ctx, view: Any) -> set[str]:
    """Ids of the view's findings the person may see (an agent: those charged to them)."""
    ids: set[str] = set()
    own = ctx.person.role != AGENT
    for mv in view.messages:
        for f in mv.findings:
            if own or ctx.person.charged_with(f.agent or mv.message.agent):
                ids.add(f.id)
    return ids


def review_finding(ctx: Ctx) -> Response:
    """Confirm or reject one finding from its conversation page (as `qc review` does)."""
    fid = ctx.request.path_params["finding_id"]
    stored = _finding(ctx, fid)
    d = decide(
        ctx.store,
        fid,
        ctx.field("decision"),
        by=ctx.person.name,
        note=ctx.field("note"),
        source=SOURCE,
        **_seen(ctx),
    )
    if not d.recorded and d.earlier is not None:
        e = d.earlier
        ctx.flash(
            "ok",
            f"{fid}: 已是 {d.after}（{e['actor']} · {e['at']}），未重复记录"
            f" (already {d.after}: nothing recorded)",
        )
        return ctx.redirect(f"{conversation_url(stored.finding.conversation_id)}#f-{fid}")
    ctx.flash("ok", f"{fid}: {state_label(d.before)} → {state_label(d.after)}")
    _flash_still_charged(ctx, fid)
    _flash_confirmed(ctx, fid)
    return ctx.redirect(f"{conversation_url(stored.finding.conversation_id)}#f-{fid}")


def _seen(ctx: Ctx) -> dict[str, Any]:
    """How a decision holds against others: against the state the reviewer's page showed.

    Every workbench form sends that state; a request without it is refused where it would
    overturn another person's decision, as the command line without --overturn is (it
    overturned whatever landed meanwhile, which the workbench never does unasked).
    """
    seen = ctx.field("state") or None
    about = ctx.field("about")
    # What the page showed the finding on: a re-run saved since may have moved its id.
    check = about_check(ctx.store, about) if about else None
    return {"expected": seen, "overturn": seen is not None, "check": check}


def _still_charged_notice(ctx: Ctx, finding_id: str) -> tuple[str, str] | None:
    """The notice a reviewer gets when the rejected finding's message is still charged by another finding."""
    others = still_charging(ctx.store, finding_id, ctx.wb.card)
    if not others:
        return None
    named = "、".join(f"{s.id} ({KIND_LABELS.get(s.finding.kind, s.finding.kind)})" for s in others)
    # A finding an appeal decides is changed by reopening that appeal, not by a review (audit 101 A3).
    decided = deciding_appeals(ctx.store, others)
    ways = ["如消息无问题请一并驳回"] if len(decided) < len(others) else []
    ways += [f"{fid} 由申诉 #{n} 裁定，需主管重开该申诉" for fid, n in decided.items()]
    way = "；".join(ways)
    return "error", f"这条消息仍被扣分：{named} 也支撑同一判定；{way} (still charged by {named})"


def _confirmed_notice(ctx: Ctx, finding_id: str) -> tuple[str, str] | None:
    """The notice when a confirm changed the scores (a held finding now charged), or did not."""
    effect = confirm_effect(ctx.store, finding_id, ctx.wb.card)
    if effect == "charged":
        return (
            "ok",
            "这条原为待复核，确认后从现在起扣分 (held for review: confirmed, it now costs its points)",
        )
    if effect == "covered":
        s = covering_charge(ctx.store, finding_id, ctx.wb.card)
        by = f"（{s.id}）" if s is not None else ""
        return (
            "ok",
            f"这条原为待复核；它所在的消息已被另一条发现{by}扣分，一条消息只扣一次，确认后分数不变"
            " (held for review: its message was already charged, the scores do not change)",
        )
    if effect == "suppressed":
        return "ok", "这条已按上下文排除，确认后仍不扣分 (suppressed by its context: still costs nothing)"
    return None


def _flash_still_charged(ctx: Ctx, finding_id: str) -> None:
    """Tell the reviewer when the rejected finding's message is still charged by another finding."""
    if notice := _still_charged_notice(ctx, finding_id):
        ctx.flash(*notice)


def _flash_confirmed(ctx: Ctx, finding_id: str) -> None:
    """Tell the reviewer when a confirm changed the scores (a held finding now charged), or did not."""
    if notice := _confirmed_notice(ctx, finding_id):
        ctx.flash(*notice)


# ------------------------------------------------------------------------------ the queue


# The largest spot-check sample per agent and day the review queue draws (a page's worth).
_MOST_PER_AGENT = 100


def _queue_args(ctx: Ctx, source: str = "arg") -> dict[str, Any]:
    get = ctx.arg if source == "arg" else ctx.field
    period = parse_range(get("from") or None, get("to") or None, get("period") or None) or _period(ctx)
    try:
        seed = int(get("seed") or 0)
        per_agent = int(get("per_agent") or 5)
    except ValueError:
        raise ConfigError("seed and per_agent are whole numbers") from None
    if not 0 <= seed <= MAX_STORED_INT:
        raise ConfigError("seed is a whole number of 0 or more (up to 18 digits)")
    if not 0 <= per_agent <= _MOST_PER_AGENT:
        # 500 was taken as 100 and -3 as 0, unsaid: the queue held another sample than asked (audit 104).
        raise ConfigError(f"per_agent is a whole number from 0 to {_MOST_PER_AGENT}")
    return {
        "period": period,
        "seed": seed,
        "per_agent": per_agent,
        "mask": ctx.masker().enabled,
    }


def _queue_items(ctx: Ctx, args: dict[str, Any]) -> Any:
    p: Period = args["period"]
    # Keyed on the newest run only: decisions do not rebuild the queue, next_pending skips them.
    return ctx.wb.cached(
        ("queue", p.first, p.last, args["seed"], args["per_agent"]),
        ctx.store.data_version()[0],
        lambda: build_queue(
            ctx.store, ctx.wb.card, p.first, p.last, per_agent=args["per_agent"], seed=args["seed"]
        ),
    )


def _context_view(ctx: Ctx, finding_id: str, *, around: int = 3) -> tuple[StoredFinding, Any, list[Any]]:
    """A finding with its conversation laid out, and the messages around it to show."""
    stored = _finding(ctx, finding_id)
    f = stored.finding
    conv = ctx.store.conversations([f.conversation_id]).get(f.conversation_id)
    if conv is None:
        raise NotFound
    found = [s.finding for s in ctx.store.findings(conversation_ids=[f.conversation_id])]
    view = build_view(conv, found, ctx.wb.card, explain=True, stakes=({}, {}))
    lo, hi = f.message_index - around, f.message_index + around
    shown = [mv for mv in view.messages if lo <= mv.message.index <= hi]
    return stored, view, shown


def _queue_fragment(
    ctx: Ctx,
    args: dict[str, Any],
    error: str = "",
    started: float | None = None,
    notice: tuple[str, str] | None = None,
    recorded: str = "",
) -> Response:
    items = _queue_items(ctx, args)
    item, waiting = next_pending(ctx.store, items, ctx.person, ctx.session.skipped)
    values: dict[str, Any] = {
        "item": item,
        "waiting": waiting,
        "total": len(items),
        "error": error,
        "notice": notice,
        "recorded": recorded,
        "args": args,
    }
    if item is not None:
        stored, view, shown = _context_view(ctx, item.finding_id)
        state = finding_states(ctx.store, [item.finding_id]).get(item.finding_id, PENDING)
        values.update(stored=stored, view=view, shown=shown, held=item.section == HELD, state=state)
        values["mask"] = conversation_masker(
            ctx.masker(), (mv.message for mv in view.messages), charged_words(view)
        )
    else:
        values["mask"] = ctx.masker()
    values["kind_labels"] = KIND_LABELS
    template = "_queue_item.html" if ctx.htmx else "queue.html"
    if started is not None:
        values["ms"] = round((time.perf_counter() - started) * 1000)
    return ctx.render(template, **values)


def queue(ctx: Ctx) -> Response:
    """The review queue: held findings first, then the spot-check sample; one item at a time."""
    args = _queue_args(ctx)
    if ctx.arg("reset") == "1":
        ctx.session.skipped.clear()
    return _queue_fragment(ctx, args, started=time.perf_counter())


def queue_decide(ctx: Ctx) -> Response:
    """Confirm, reject (with a note) or skip the item; answers with the next one."""
    started = time.perf_counter()
    args = _queue_args(ctx, "field")
    fid = ctx.field("finding_id")
    decision = ctx.field("decision")
    error = recorded = ""
    notice: tuple[str, str] | None = None
    if decision == "skip":
        if ctx.store.finding(fid) is not None:  # the session keeps ids of findings only
            ctx.session.skipped.add(fid)
    else:
        try:
            _finding(ctx, fid)  # inside: a finding a re-run removed is told in the next item
            d = decide(
                ctx.store,
                fid,
                decision,
                by=ctx.person.name,
                note=ctx.field("note"),
                source=SOURCE,
                **_seen(ctx),
            )
            # What the decision did to the scores, as the conversation page says it: a reject in
            # the queue left the reply charged by another finding unsaid (audit 112 M1).
            notice = (_confirmed_notice if decision == "confirm" else _still_charged_notice)(ctx, fid)
            # Said as the conversation page says it: the queue moved on with no word (audit 161 L3).
            recorded = f"✓ {fid}: {state_label(d.before)} → {state_label(d.after)}"
        except ReviewError as exc:
            error = ctx.masker()(exc.web or str(exc))  # the page's wording, not --note (audit 165 M7)
    if not ctx.htmx:
        if error:
            ctx.flash("error", error)
        else:
            if recorded:
                ctx.flash("ok", recorded)
            if notice:
                ctx.flash(*notice)
        p: Period = args["period"]
        query = {"from": p.first, "to": p.last, "seed": args["seed"], "per_agent": args["per_agent"]}
        if args["mask"]:
            query["mask"] = "1"
        return ctx.redirect("/queue?" + urlencode(query))
    return _queue_fragment(ctx, args, error, started, notice, recorded)


# ------------------------------------------------------------------------------ appeals


def _appeal_rows(ctx: Ctx) -> list[tuple[Any, StoredFinding | None]]:
    out = []
    for a in reversed(appeals_api.list_appeals(ctx.store)):
        stored = ctx.store.finding(a.finding_id)
        if ctx.person.role == AGENT and not (
            _mine(ctx, stored)
            if stored is not None
            # A re-inspection no longer found the finding: the appeal is still theirs to see.
            else a.agent == ctx.person.name or ctx.person.charged_with(a.account or a.agent)
        ):
            continue
        out.append((a, stored))
    return out


def appeals(ctx: Ctx) -> Response:
    """Every appeal (an agent: their own), newest first, with the step each person may take."""
    rows = _appeal_rows(ctx)
    # An orphaned appeal's conversation is still stored: its buyer's nick is masked too.
    cids = (s.finding.conversation_id if s is not None else a.conversation_id for a, s in rows)
    mask = page_masker(ctx.masker(), ctx.store, (c for c in cids if c))
    return ctx.render(
        "appeals.html",
        rows=rows,
        kind_labels=KIND_LABELS,
        mask=mask,
        charging=_charging(ctx, rows),
        versions=appeals_api.appeal_versions(ctx.store, [a for a, _ in rows]),
    )


def _charging(ctx: Ctx, rows: list[tuple[Any, StoredFinding | None]]) -> dict[int, list[str]]:
    """Per appeal, the other findings that charge its message, where the page says so.

    Before a ruling the supervisor may reject them with it; after an overturn without them the
    reply still costs points, which the page said only as "overturned".
    """
    out: dict[int, list[str]] = {}
    for a, stored in rows:
        if stored is None:
            continue
        if a.state == "overturned":
            found = [s.id for s in still_charging(ctx.store, a.finding_id, ctx.wb.card)]
        elif a.state in ("answered", "reopened") and ctx.person.role == SUPERVISOR:
            # What an overturn with the box ticked rejects: none with an appeal of its own (audit 99 F6).
            found = appeals_api.decided_along(ctx.store, a, True, ctx.wb.card)
        else:
            continue
        if found:
            out[a.id] = found
    return out


def appeal_open(ctx: Ctx) -> Response:
    """An agent appeals a finding charged to them."""
    fid = ctx.field("finding_id")
    stored = _finding(ctx, fid)
    a = appeals_api.open_appeal(
        ctx.store, fid, agent=ctx.person.name, reason=ctx.field("reason"), source=SOURCE, card=ctx.wb.card
    )
    ctx.flash("ok", f"申诉 #{a.id} 已提交 (appeal opened)")
    return ctx.redirect(f"{conversation_url(stored.finding.conversation_id)}#f-{fid}")


def appeal_answer(ctx: Ctx) -> Response:
    """A reviewer or supervisor answers an open appeal."""
    a = appeals_api.answer_appeal(
        ctx.store,
        ctx.request.path_params["appeal_id"],
        by=ctx.person.name,
        note=ctx.field("note"),
        source=SOURCE,
        seen=ctx.field("seen") or None,
    )
    ctx.flash("ok", f"申诉 #{a.id}: {state_label(a.state)}")
    return ctx.redirect("/appeals")


def appeal_rule(ctx: Ctx) -> Response:
    """A supervisor rules an answered appeal: upheld or overturned, final."""
    ruling = ctx.field("ruling")
    if ruling not in ("uphold", "overturn"):
        raise ReviewError("choose uphold (维持) or overturn (撤销)")
    a = appeals_api.rule_appeal(
        ctx.store,
        ctx.request.path_params["appeal_id"],
        overturn=ruling == "overturn",
        by=ctx.person.name,
        note=ctx.field("note"),
        source=SOURCE,
        card=ctx.wb.card,
        with_message=ruling == "overturn" and ctx.field("with_message") == "1",
        seen=ctx.field("seen") or None,
    )
    word = "撤销" if ruling == "overturn" else "维持"
    along = f"; 同一条消息的 {', '.join(a.decided_with)} 一并{word}" if a.decided_with else ""
    if a.closed_with:
        along += f"; 同一条消息待复核的 {', '.join(a.closed_with)} 随裁定关闭，不再受理复核"
    ctx.flash("ok", f"申诉 #{a.id}: {state_label(a.state)} (final){along}")
    _flash_still_charged(ctx, a.finding_id)
    return ctx.redirect("/appeals")


def appeal_reopen(ctx: Ctx) -> Response:
    """A supervisor reopens a final ruling."""
    a = appeals_api.reopen_appeal(
        ctx.store,
        ctx.request.path_params["appeal_id"],
        by=ctx.person.name,
        note=ctx.field("note"),
        source=SOURCE,
        seen=ctx.field("seen") or None,
    )
    ctx.flash("ok", f"申诉 #{a.id}: {state_label(a.state)}")
    return ctx.redirect("/appeals")


# ------------------------------------------------------------------------------ calibration


def calibration(ctx: Ctx) -> Response:
    """The calibration rounds, and for a supervisor the form that opens one."""
    rounds = cal.list_rounds(ctx.store)
    staff = [p for p in list_people(ctx.store) if p.role in REVIEWERS]
    period = _period(ctx)
    return ctx.render("calibration.html", rounds=rounds, staff=staff, period=period)


def calibration_open(ctx: Ctx) -> Response:
    """A supervisor opens a round: the sample is drawn and fixed."""
    if bool(ctx.field("from")) != bool(ctx.field("to")):
        # One bound alone made a one-day round unsaid; a round's sample is fixed once drawn.
        raise ConfigError("give both 从 From and 到 To (the same day twice for a one-day round)")
    period = parse_range(ctx.field("from") or None, ctx.field("to") or None, None) or _period(ctx)
    try:
        size = int(ctx.field("size") or 10)
        seed = int(ctx.field("seed") or 0)
    except ValueError:
        raise ConfigError("size and seed are whole numbers") from None
    if not (0 < size <= MAX_STORED_INT and 0 <= seed <= MAX_STORED_INT):
        raise ConfigError("size is a whole number above 0 and seed one of 0 or more (up to 18 digits)")
    evidence = set(ctx.wb.card.evidence_kinds)
    rnd = cal.open_round(
        ctx.store,
        name=ctx.field("name"),
        by=ctx.person.name,
        reviewers=ctx.fields("reviewers"),
        date_from=period.first,
        date_to=period.last,
        size=size,
        seed=seed,
        kinds=[k for k in ctx.store.finding_kinds() if k not in evidence],
    )
    ctx.flash("ok", f"校准轮次 #{rnd.id}: {len(rnd.finding_ids)} findings, {len(rnd.reviewers)} reviewers")
    return ctx.redirect(f"/calibration/{rnd.id}")


def calibration_round(ctx: Ctx) -> Response:
    """A participant's next blind item, or the agreement once they (or a supervisor) may see it."""
    round_id = ctx.request.path_params["round_id"]
    try:
        rnd = cal.get_round(ctx.store, round_id)
    except ReviewError:
        raise NotFound from None
    taking_part = ctx.person.name in rnd.reviewers
    nxt = cal.next_item(ctx.store, round_id, ctx.person.name) if taking_part else None
    values: dict[str, Any] = {"rnd": rnd, "taking_part": taking_part, "kind_labels": KIND_LABELS}
    if nxt is not None:
        stored, view, shown = _context_view(ctx, nxt)
        given = len(ctx.store.calibration_verdicts(round_id, ctx.person.name))
        mask = conversation_masker(ctx.masker(), (mv.message for mv in view.messages), charged_words(view))
        values.update(stored=stored, shown=shown, view=view, given=given, mask=mask)
        return ctx.render("calibration_item.html", **values)
    if ctx.person.role != SUPERVISOR and not taking_part:
        raise NotFound
    res = cal.results(ctx.store, round_id, ctx.person)
    found = {s.finding.id: s for s in ctx.store.findings(finding_ids=list(rnd.finding_ids))}
    masks = page_masker(ctx.masker(), ctx.store, (s.finding.conversation_id for s in found.values()))
    values.update(res=res, found=found, mask=masks, percent=cal.percent)
    return ctx.render("calibration_results.html", **values)


def calibration_verdict(ctx: Ctx) -> Response:
    """Record the person's blind verdict on one finding of the round; on to the next."""
    round_id = ctx.request.path_params["round_id"]
    cal.record_verdict(
        ctx.store,
        round_id,
        ctx.field("finding_id"),
        reviewer=ctx.person.name,
        verdict=ctx.field("verdict"),
        note=ctx.field("note"),
    )
    return ctx.redirect(f"/calibration/{round_id}" + ("?mask=1" if ctx.masker().enabled else ""))


def calibration_close(ctx: Ctx) -> Response:
    """A supervisor closes a round (with why): no more verdicts, the results final for all."""
    round_id = ctx.request.path_params["round_id"]
    rnd = cal.close_round(ctx.store, round_id, by=ctx.person.name, note=ctx.field("note"))
    ctx.flash("ok", f"校准轮次 #{rnd.id} 已关闭 closed")
    return ctx.redirect(f"/calibration/{round_id}")


# ------------------------------------------------------------------------------ search

# The last day a stored date can be: the upper bound of a search given only its first day.
_LAST_DAY = "9999-12-31"


def search(ctx: Ctx) -> Response:
    """Full-text search over the stored messages with agent, date and kind filters, a page at a time.

    With no words but an agent, the agent's conversations in the dates: what the dashboard's
    conversation count links to.
    """
    from qc.supervise.search import count_hits, search_messages, search_tokens

    q = ctx.arg("q")
    agent = _agent(ctx)
    kind = ctx.arg("kind") or None
    date_from, date_to = ctx.arg("from"), ctx.arg("to")
    for day in (date_from, date_to):
        if day:
            parse_range(day, day, None)  # a date, or a usage error on the page
    if date_from and date_to:
        parse_range(date_from, date_to, None)  # From after To: said, not an empty list
    elif UNDATED in (date_from, date_to):
        parse_range(date_from or None, date_to or None, None)  # refused: undated is both bounds or none
    # From a day on means the dated days: undated sorts after every date, as text.
    upto = date_to or (_LAST_DAY if date_from and date_from != UNDATED else "")
    kinds = ctx.store.finding_kinds()
    if kind and kind not in kinds and kind not in KIND_LABELS:
        known = ", ".join(sorted({*kinds, *KIND_LABELS}))
        raise ConfigError(f"类型 Kind {shown_value(kind, 40)!r} is no finding kind: choose one of {known}")
    page_size = ctx.wb.settings.search_page_size  # hits and conversations listed per page
    try:
        page = int(ctx.arg("page") or 1)
    except ValueError:
        raise ConfigError("page is a whole number from 1") from None
    if not 1 <= page <= MAX_STORED_INT // page_size:
        raise ConfigError("page is a whole number from 1")
    offset = (page - 1) * page_size
    hits = []
    terms: list[str] = []
    total = 0
    listed: list[MetricPart] = []
    filters = {"agent": agent, "date_from": date_from or None, "date_to": upto or None, "kind": kind}
    if q:
        terms = search_tokens(q)
        if terms:
            total = count_hits(ctx.store, q, **filters)
            hits = search_messages(ctx.store, q, limit=page_size, offset=offset, **filters)
    elif agent is not None:
        span = ctx.store.day_range()
        # No dates given: every conversation, the undated ones too (they sort after every date).
        first = span[0] if span else UNDATED
        last = UNDATED if ctx.store.has_undated() else span[1] if span else ""
        lo, hi = date_from or first, upto or last
        # One row per conversation, as the dashboard counts it once in a period (a conversation
        # crossing midnight has a part on each day): its first day, its parts added up.
        by_conversation: dict[tuple[str | None, str | None], MetricPart] = {}
        for part in ctx.store.parts(lo, hi, agent):
            key = (part.shop, part.conversation_id)
            if key in by_conversation:
                by_conversation[key].absorb(part)
            else:
                by_conversation[key] = part
        parts = list(by_conversation.values())
        if kind:
            having = {
                s.finding.conversation_id
                for s in ctx.store.findings(date_from=lo, date_to=hi, kind=kind, agent=agent)
            }
            parts = [p for p in parts if p.conversation_id in having]
        parts.sort(key=lambda p: (p.date, p.conversation_id or ""), reverse=True)
        total, listed = len(parts), parts[offset : offset + page_size]
    if total and offset >= total:
        raise ConfigError(f"page {page} is past the last page ({-(-total // page_size)})")
    shown_ids = [p.conversation_id for p in listed if p.conversation_id]
    query = {k: v for k, v in ctx.request.query_params.items() if k != "page" and v}
    pages = {
        "first": offset + 1,
        "last": offset + len(hits or listed),
        "previous": "/search?" + urlencode({**query, "page": page - 1}) if page > 1 else None,
        "next": "/search?" + urlencode({**query, "page": page + 1}) if offset + page_size < total else None,
    }
    return ctx.render(
        "search.html",
        q=q,
        hits=hits,
        terms=terms,
        total=total,
        pages=pages,
        listed=listed,
        agents=ctx.store.agents() if ctx.person.role != AGENT else [],
        kinds=kinds,
        agent=agent if ctx.person.role != AGENT else None,
        scope=agent,  # whose conversations a list without words shows (an agent's own too)
        kind=kind,
        date_from=date_from,
        date_to=date_to,
        mask=page_masker(ctx.masker(), ctx.store, [*(h.conversation_id for h in hits), *shown_ids]),
        kind_labels=KIND_LABELS,
        zone=ctx.wb.card.day.timezone,
        hit_chars=ctx.wb.settings.search_hit_chars,
    )
