"""``qc calibration``: list the workbench's calibration rounds and keep their results."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from qc.cli import app
from qc.cli._common import err, handle_errors, output_file
from qc.cli._store_opts import DEFAULT_DB, DbOption, MaskOption, open_db
from qc.errors import ConfigError
from qc.outputs.atomic import is_stream

calibration_app = typer.Typer(
    no_args_is_help=True,
    help="Open, list and close calibration rounds (校准) and keep a round's agreement and verdicts.\n\n"
    "Rounds are judged blind in the workbench (qc serve), which opens them too. Here a lead opens"
    " them, lists them and files a round's results: Cohen's κ and the share of judgements alike"
    " per pair, and every verdict.\n\n"
    "\b\nExample:\n    qc calibration open --by 张主管 -r 质检小王 -r 质检小李"
    " --from 2026-11-24 --to 2026-11-24\n"
    "    qc calibration list\n"
    "    qc calibration results 1 --by 张主管 --out round1.csv",
)
app.add_typer(calibration_app, name="calibration")


@calibration_app.command("open")
@handle_errors
def open_cli(
    by: Annotated[str, typer.Option("--by", help="The supervisor opening the round.")],
    reviewers: Annotated[
        list[str], typer.Option("--reviewer", "-r", help="A reviewer taking part (two or more: repeat it).")
    ],
    date_from: Annotated[
        str,
        typer.Option(
            "--from",
            help="First day of the findings to sample, YYYY-MM-DD (undated, with --to undated: the chats"
            " without times).",
        ),
    ],
    date_to: Annotated[str, typer.Option("--to", help="Last day, YYYY-MM-DD.")],
    size: Annotated[int, typer.Option(help="How many findings to sample.")] = 10,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed draws the same sample.")] = 0,
    name: Annotated[str, typer.Option(help="The round's name (default: its range and seed).")] = "",
    scorecard: Annotated[
        Path | None, typer.Option(help="Shop scorecard TOML (its evidence kinds are no judgement to sample).")
    ] = None,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Open a round as the workbench's 校准 page does: a fixed, seeded sample of the range's judgements.

    Slow replies and unanswered buyers are measurements, not judgements, and are not sampled.
    The reviewers give their verdicts blind in the workbench (qc serve); prints the round's number.

    \b
    Example:
        qc calibration open --by 张主管 -r 质检小王 -r 质检小李 --from 2026-11-24 --to 2026-11-24
    """  # noqa: D301 - the \b line keeps click from rewrapping the examples
    from qc.cli.flagged_cmd import date_range
    from qc.scoring.card import load_scorecard
    from qc.scoring.metrics import UNDATED
    from qc.supervise.calibration import open_round

    # The chats without times are a window of their own, as the workbench's round takes them.
    undated = date_from == date_to == UNDATED
    lo, hi = (UNDATED, UNDATED) if undated else date_range(None, date_from, date_to)
    evidence = set(load_scorecard(scorecard).evidence_kinds)
    with open_db(db) as store:
        rnd = open_round(
            store,
            name=name,
            by=by,
            reviewers=reviewers,
            date_from=lo or date_from,
            date_to=hi or date_to,
            size=size,
            seed=seed,
            kinds=[k for k in store.finding_kinds() if k not in evidence],
        )
    typer.echo(rnd.id)
    err(f"calibration round #{rnd.id}: {len(rnd.finding_ids)} findings, {len(rnd.reviewers)} reviewers")


@calibration_app.command("list")
@handle_errors
def list_cli(mask_pii: MaskOption = False, db: DbOption = DEFAULT_DB) -> None:
    """List every round as JSON lines, newest first: its range, sample, reviewers and progress.

    \b
    Example:
        qc calibration list --db out/qc.sqlite
    """  # noqa: D301 - the \b line keeps click from rewrapping the examples
    from qc.supervise.calibration import gone_items, list_rounds
    from qc.text.pii import Masker

    told = Masker(mask_pii)

    with open_db(db) as store:
        rounds = list_rounds(store)
        for rnd in rounds:
            given: dict[str, int] = dict.fromkeys(rnd.reviewers, 0)
            for row in store.calibration_verdicts(rnd.id):
                given[row["reviewer"]] = given.get(row["reviewer"], 0) + 1
            gone = gone_items(store, rnd)
            row = {
                "id": rnd.id,
                "name": told(rnd.name),
                "from": rnd.date_from,
                "to": rnd.date_to,
                "seed": rnd.seed,
                "findings": len(rnd.finding_ids),
                "gone": sorted(gone),  # the ids, as `results` lists them (audit 124 L6)
                "reviewers": rnd.reviewers,
                "verdicts": given,
                "opened_by": rnd.created_by,
                "opened_at": rnd.created_at,
                "closed_at": rnd.closed_at,
                "closed_by": rnd.closed_by,
                "close_note": told(rnd.close_note) if rnd.close_note else rnd.close_note,
            }
            typer.echo(json.dumps(row, ensure_ascii=False))
    if not rounds:
        err("no calibration rounds; a supervisor opens one: qc calibration open, or the workbench's 校准")


@calibration_app.command("close")
@handle_errors
def close_cli(
    round_id: Annotated[int, typer.Argument(help="The round's number (qc calibration list).")],
    by: Annotated[str, typer.Option("--by", help="The supervisor closing it.")],
    note: Annotated[str, typer.Option("--note", help="Why it is closed.")] = "",
    db: DbOption = DEFAULT_DB,
) -> None:
    """Close a round: it takes no more verdicts, and everyone taking part may see its results.

    \b
    Example:
        qc calibration close 1 --by 张主管 --note "the month is appraised"
    """  # noqa: D301 - the \b line keeps click from rewrapping the examples
    from qc.supervise.calibration import close_round

    with open_db(db) as store:
        rnd = close_round(store, round_id, by=by, note=note)
    err(f"calibration round #{rnd.id} closed by {rnd.closed_by} at {rnd.closed_at}")


@calibration_app.command("results")
@handle_errors
def results_cli(
    round_id: Annotated[int, typer.Argument(help="The round's number (qc calibration list).")],
    by: Annotated[str, typer.Option("--by", help="Who asks: a supervisor, or a reviewer who finished.")],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Also write every verdict to this CSV.")
    ] = None,
    mask_pii: MaskOption = False,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Print a round's agreement as JSON; with --out, every finding's verdicts as a CSV.

    The round is blind as in the workbench: a reviewer taking part sees the results once they
    have judged every finding; a supervisor at any time. The JSON gives Cohen's κ and the
    judgements alike per pair and overall, the progress and the findings judged differently;
    the CSV one row per sampled finding with each reviewer's verdict and note.

    \b
    Example:
        qc calibration results 1 --by 张主管 --out round1.csv --mask-pii
    """  # noqa: D301 - the \b line keeps click from rewrapping the examples
    from qc.outputs.cells import open_csv, text_id
    from qc.supervise.calibration import percent, results
    from qc.supervise.masking import finding_maskers
    from qc.supervise.people import REVIEWERS, require_person
    from qc.text.pii import Masker

    if out is not None:
        output_file(out)
        if out.suffix.lower() != ".csv" and not is_stream(out):  # /dev/stdout (audit 144 L2)
            raise ConfigError(f"--out {out}: qc calibration results writes CSV; name it .csv")
    with open_db(db) as store:
        viewer = require_person(store, by, REVIEWERS, "seeing a calibration round's results")
        res = results(store, round_id, viewer)
        rnd = res.round
        found = {s.id: s for s in store.findings(finding_ids=list(rnd.finding_ids))}
        masks = finding_maskers(Masker(mask_pii), store, list(found))
    pairs = [
        {
            "a": a,
            "b": b,
            "kappa": k,
            "alike": res.agreed[(a, b)][0],
            "judged_by_both": res.agreed[(a, b)][1],
            "alike_share": percent(*res.agreed[(a, b)]) if res.agreed[(a, b)][1] else None,
        }
        for (a, b), k in res.pairwise.items()
    ]
    summary = {
        "id": rnd.id,
        "name": rnd.name,
        "from": rnd.date_from,
        "to": rnd.date_to,
        "findings": len(rnd.finding_ids),
        "gone": res.gone,
        "kappa": res.overall,
        "kappa_pairs": res.kappa_pairs,
        "alike_share": res.overall_shown if res.overall_agreement is not None else None,
        "pairs": pairs,
        "verdicts": res.done,
        "disagreements": res.disagreements,
        "closed_at": rnd.closed_at,
        "closed_by": rnd.closed_by,
        "close_note": rnd.close_note,
    }
    # Words people typed (a round's name, why it was closed) may quote a buyer: masked as asked.
    told = Masker(mask_pii)
    summary["name"] = told(rnd.name)
    summary["close_note"] = told(rnd.close_note) if rnd.close_note else rnd.close_note
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)  # before the JSON: a missing folder failed after it
    typer.echo(json.dumps(summary, ensure_ascii=False))
    if out is None:
        return
    with open_csv(out) as w:
        w.writerow(
            ["finding_id", "kind", "agent", "conversation_id", "text"]
            + [f"{name} {what}" for name in rnd.reviewers for what in ("verdict", "note")]
        )
        for fid in rnd.finding_ids:
            s = found.get(fid)
            mask = masks(fid)
            given = res.verdicts.get(fid, {})
            cells = [
                text_id(fid),
                s.finding.kind if s else "(no longer stored)",
                text_id(s.scored_agent) if s else "",
                text_id(mask.identifier(s.finding.conversation_id)) if s else "",
                mask(s.finding.text) if s else "",
            ]
            for name in rnd.reviewers:
                v = given.get(name)
                cells += [v["verdict"], mask(v["note"] or "")] if v else ["", ""]
            w.writerow(cells)
    err(f"{len(rnd.finding_ids)} findings, {len(rnd.reviewers)} reviewers → {out}")
