"""``qc train``: rebuild the attitude classifier from the annotated samples."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from qc.cli import app
from qc.cli._common import err, handle_errors


@app.command("train")
@handle_errors
def train_cli(
    samples: Annotated[
        Path | None,
        typer.Option("--samples", help="Folder (or file) of annotated samples; default: bundled."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Model folder to write; default: the bundled models/attitude."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed for folds and solver: same data + seed → same model.")] = 0,
    version: Annotated[
        str | None,
        typer.Option("--version", help="Model version (semver); default: keep the folder's version."),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", help="Training settings TOML; default: qc/defaults/attitude.toml."),
    ] = None,
) -> None:
    """Train the attitude classifier (impatience, conflict) and write model.skops + meta.json.

    Trains on the training split only (hand-written samples whose id hash falls in
    buckets 3–9, plus every generated sample), picks each label's threshold for
    precision by cross-validation on that split, then scores the held-out split and
    records the scores in meta.json. The same samples and seed give identical files.

    Example:
        qc train --samples annotated_samples --out models/attitude --seed 0
    """
    from qc.attitude.model_file import default_model_dir
    from qc.paths import samples_dir
    from qc.training.train import train_to_dir

    out_dir = out or default_model_dir()
    meta = train_to_dir(samples or samples_dir(), out_dir, seed=seed, version=version, config_path=config)
    data = meta["training_data"]
    err(
        f"trained {meta['name']} {meta['version']} on {data['n']} samples "
        f"({', '.join(f'{k} {v}' for k, v in data['label_counts'].items())}); "
        f"thresholds {meta['thresholds']} → {out_dir}"
    )
    held = meta["metrics"].get("heldout")
    if held:
        for label in ("impatience", "conflict"):
            s = held["verdict"][label]
            err(
                f"held-out verdict {label}: P {s['precision']:.3f} R {s['recall']:.3f}"
                f" F1 {s['f1']:.3f} (n={s['support']})"
            )
    else:
        err("no held-out samples in the data: nothing scored")
