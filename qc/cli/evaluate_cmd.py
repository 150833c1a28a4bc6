"""``qc evaluate``: score the inspection and the classifier on annotated samples."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from qc.cli import app
from qc.cli._common import err, handle_errors
from qc.errors import ConfigError

SPLITS = ("all", "eval", "train")
REAL_SPLITS = ("all", "train", "dev", "test")


@app.command("evaluate")
@handle_errors
def evaluate_cli(
    data: Annotated[
        Path, typer.Option("--data", help="Annotated samples (ANNOTATION.md JSON Lines) or a folder.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of tables.")] = False,
    errors: Annotated[bool, typer.Option("--errors", help="Also list the misjudged samples.")] = False,
    model: Annotated[
        Path | None,
        typer.Option("--model", help="Model folder to evaluate; default: the bundled models/attitude."),
    ] = None,
    split: Annotated[
        str,
        typer.Option(
            help="Which samples: all, eval or train of written samples;"
            " all, train, dev or test of real labels."
        ),
    ] = "all",
    realchats: Annotated[
        Path | None,
        typer.Option(
            "--realchats",
            help="With real labels: the real chats they point at;"
            " default: $QC_REALCHATS or ../shared/realchats/real_conversations.jsonl (the folder works too).",
        ),
    ] = None,
) -> None:
    """Print precision, recall, F1, what charging costs agents, and calibration on labelled messages.

    Three views: the inspection verdict per message (lexicon and classifier together, the
    most severe live finding wins, built as `qc inspect` builds it), the classifier alone,
    and forbidden-phrase findings against the samples' `forbidden` lists. Then the charging
    figures (share of ok messages charged, precision of charged messages, recall, share held
    for review) and a calibration table (predicted probability band → observed share not ok).
    `--data` is a samples file or folder, or a folder of real labels by id
    (`annotated_samples/real`), whose texts are read from the real chats beside the project.

    \b
    Example:
        qc evaluate --data annotated_samples/handwritten.jsonl --split eval --json
        qc evaluate --data annotated_samples/real --split test
    """  # noqa: D301 - the \b line keeps click from rewrapping the examples
    from qc.training.evaluate import evaluate
    from qc.training.samples import is_evaluation, load_samples

    if (data / "labels.jsonl").is_file():
        from qc.attitude.model import default_model_dir, load_cached
        from qc.training.real import load_real_labels, read_real_conversations, real_samples

        if split not in REAL_SPLITS:
            raise ConfigError(f"--split {split!r}: real labels have the splits {', '.join(REAL_SPLITS)}")
        chosen = ("train", "dev", "test") if split == "all" else (split,)
        skip = load_cached(model or default_model_dir()).featurizer.cues.skip
        samples = real_samples(load_real_labels(data), read_real_conversations(realchats), chosen, skip)
    else:
        if split not in SPLITS:
            raise ConfigError(f"--split {split!r}: use one of {', '.join(SPLITS)}")
        samples = load_samples(data)
        if split != "all":
            samples = [s for s in samples if is_evaluation(s) == (split == "eval")]
    if not samples:
        # All-zero tables would read as a measurement; an empty file or split measures nothing.
        raise ConfigError(f"--data {data}: no samples in the {split!r} split; nothing to measure")
    report = evaluate(samples, model_dir=model)
    if as_json:
        payload = report.to_json()
        if errors:
            payload["errors"] = report.errors
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    err(f"{report.n} samples, model {report.model['version']} ({report.model['path']}), rules {report.rules}")
    for name in ("verdict", "classifier", "forbidden"):
        typer.echo(format_view(name, getattr(report, name)))
    typer.echo(format_charging(report.charging))
    typer.echo(format_calibration(report.calibration))
    if errors:
        typer.echo(f"misjudged ({len(report.errors)}):")
        for e in report.errors:
            typer.echo("  " + format_error(e))


def format_view(name: str, view: dict[str, Any]) -> str:
    """One view as a text table: a row per label, then the confusion matrix (rows = truth)."""
    if not view:
        return f"\n{name}: no samples to score\n"
    lines = [f"\n{name}", f"  {'label':<12}{'precision':>10}{'recall':>8}{'f1':>8}{'support':>9}"]
    for label, s in view.items():
        if label == "confusion":
            continue
        lines.append(
            f"  {label:<12}{s['precision']:>10.3f}{s['recall']:>8.3f}{s['f1']:>8.3f}{s['support']:>9}"
        )
    confusion = view.get("confusion")
    if confusion:
        labels = confusion["labels"]
        lines.append("  confusion (rows truth, columns predicted): " + " ".join(labels))
        for label, row in zip(labels, confusion["matrix"], strict=True):
            lines.append(f"    {label:<12}" + "".join(f"{v:>8}" for v in row))
    return "\n".join(lines)


def format_error(e: dict[str, Any]) -> str:
    """One misjudged sample on one line: id, truth → prediction, and the message."""
    if "label" in e:
        return (
            f"{e['id']} ({e['source']}): {e['label']} → verdict {e['verdict']}, classifier {e['classifier']}"
            f" p={e['probability']:.2f} {e['findings']} | {e['text']}"
        )
    return f"{e['id']} ({e['source']}): forbidden {e['forbidden']} vs hits {e['hits']} | {e['text']}"


def format_charging(c: dict[str, Any]) -> str:
    """What the verdicts cost agents, as lines."""
    if not c or not c.get("n"):
        return ""

    def pct(value: float | None) -> str:
        return "–" if value is None else f"{value:.2%}"

    def num(value: float | None) -> str:
        return "–" if value is None else f"{value:.3f}"

    return "\n".join(
        [
            "\ncharging",
            f"  messages {c['n']}, not ok {c['non_ok']}, charged {c['charged']} ({pct(c['charged_share'])}),"
            f" held for review {c['held']} ({pct(c['held_share'])})",
            f"  ok messages charged: {pct(c['ok_charged_share'])}",
            f"  precision of charged messages: {num(c['charged_precision'])} ({c['charged_right']} right)",
            f"  recall: not ok {num(c['non_ok_recall'])}, impatience {num(c['impatience_recall'])}",
        ]
    )


def format_calibration(rows: list[dict[str, Any]]) -> str:
    """The calibration table: predicted P(not ok) band → messages and observed share not ok."""
    if not rows:
        return ""
    lines = ["\ncalibration (classifier P(not ok) → observed)", f"  {'band':<10}{'messages':>9}{'not ok':>9}"]
    for r in rows:
        seen = "–" if r["observed_non_ok"] is None else f"{r['observed_non_ok']:.1%}"
        lines.append(f"  {r['band']:<10}{r['n']:>9}{seen:>9}")
    return "\n".join(lines)
