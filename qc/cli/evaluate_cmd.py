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
        str, typer.Option(help="Which samples: all, eval (held-out split) or train (training split).")
    ] = "all",
) -> None:
    """Print precision, recall, F1 and confusion matrices of the inspection on annotated samples.

    Three views: the inspection verdict per message (lexicon and classifier together, the
    most severe live finding wins, built as `qc inspect` builds it), the classifier alone,
    and forbidden-phrase findings against the samples' `forbidden` lists. Use
    `--split eval` on the bundled samples to score only the held-out split.

    Example:
        qc evaluate --data annotated_samples/handwritten.jsonl --split eval --json
    """
    from qc.training.evaluate import evaluate
    from qc.training.samples import is_evaluation, load_samples

    if split not in SPLITS:
        raise ConfigError(f"--split {split!r}: use one of {', '.join(SPLITS)}")
    samples = load_samples(data)
    if split != "all":
        samples = [s for s in samples if is_evaluation(s) == (split == "eval")]
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
