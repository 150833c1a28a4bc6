"""``qc train``: rebuild the attitude classifier from the annotated samples."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from qc.cli import app
from qc.cli._common import err, handle_errors
from qc.errors import ConfigError


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
        typer.Option(
            "--version",
            help="Model version (semver); default: the folder's version when the training data is the"
            " same, else that version + the data's hash.",
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", help="Training settings TOML; default: qc/defaults/attitude.toml."),
    ] = None,
    real_labels: Annotated[
        Path | None,
        typer.Option("--real-labels", help="Folder of real labels by id; default: annotated_samples/real."),
    ] = None,
    realchats: Annotated[
        Path | None,
        typer.Option(
            "--realchats",
            help="The real chats the labels point at;"
            " default: $QC_REALCHATS or ../shared/realchats/real_conversations.jsonl (the folder works too).",
        ),
    ] = None,
    no_real: Annotated[
        bool,
        typer.Option("--no-real", help="Train on written and generated samples only (no real chats here)."),
    ] = False,
) -> None:
    """Train the attitude model (impatience, conflict) and write its arrays, cue lexicon and meta.json.

    Trains on the hand-written training split, every generated sample and the real train
    split (texts read from the real chats beside the project), picks the charge thresholds
    for precision on cross-validated hand-written samples and for the real base rate on the
    real dev split, then measures the frozen model on the hand-written evaluation split, the
    real dev and test splits and all real chats, and records the figures and which floors
    are met in meta.json. The same data and seed give identical files.

    \b
    Example:
        qc train --out models/attitude --seed 0
        qc train --no-real --out /tmp/model-written-only
    """  # noqa: D301 - the \b line keeps click from rewrapping the examples
    from qc.attitude.model import default_model_dir
    from qc.paths import samples_dir
    from qc.training.real import RealChatsMissing
    from qc.training.train import train_to_dir

    out_dir = out or default_model_dir()
    if out_dir.exists() and not out_dir.is_dir():
        # Checked before a minute of training, not after it (the save failed: "File exists").
        raise ConfigError(f"--out {out_dir} is a file; give a folder for the model (qc train --out DIR)")
    try:
        meta = train_to_dir(
            samples or samples_dir(),
            out_dir,
            seed=seed,
            version=version,
            config_path=config,
            real_labels=real_labels,
            realchats=realchats,
            use_real=not no_real,
        )
    except RealChatsMissing as exc:
        raise RealChatsMissing(f"{exc}; or train on the written samples alone with --no-real") from None
    data = meta["training_data"]
    err(
        f"trained {meta['name']} {meta['version']} on {data['n']} samples "
        f"({', '.join(f'{k} {v}' for k, v in data['by_source'].items())}); "
        f"thresholds {meta['thresholds']}, review floors {meta['review_floor']} → {out_dir}"
    )
    for name, floor in meta["metrics"]["floors"].items():
        mark = "not measured" if floor["met"] is None else ("met" if floor["met"] else "NOT MET")
        err(f"  {name}: {floor['value']} ({floor['limit']}) {mark}")
