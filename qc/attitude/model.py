"""The attitude model file: NumPy arrays and JSON, checked by hash, loaded without running code.

A model folder (``models/attitude`` or one written by ``qc train --out``) holds:

* ``meta.json``: name, version, feature version and config, labels, intercepts, thresholds,
  review floors, training data, metrics, package versions, and the SHA-256 of every file below;
* ``weights.npy``: one row of per-label weights for each column the model uses (float32);
* ``columns.npy``: which feature column each row belongs to (int64, increasing);
* ``cues.toml``: the cue lexicon the features were built with.

Loading reads the arrays with ``allow_pickle=False`` (plain numbers, nothing executed), refuses a
file whose hash differs from meta.json or a feature version this qc does not build, and takes a
few milliseconds. The model is linear: a label's score is its intercept plus the sum of
weight × value over the active columns, and :func:`softmax` turns scores into probabilities.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from qc.attitude.cues import CueLexicon, load_cues
from qc.attitude.features import FEATURE_VERSION, FeatureConfig, Featurizer
from qc.attitude.hashing import Columns
from qc.errors import ArtifactError
from qc.paths import models_dir

__all__ = [
    "AttitudeModel",
    "CUES_FILE",
    "COLUMNS_FILE",
    "META_FILE",
    "NAME",
    "SETTINGS_KEY",
    "WEIGHTS_FILE",
    "default_model_dir",
    "load",
    "load_cached",
    "read_meta",
    "save",
    "settings_hash",
    "softmax",
    "verify",
]

NAME = "attitude"
META_FILE = "meta.json"
WEIGHTS_FILE = "weights.npy"
COLUMNS_FILE = "columns.npy"
CUES_FILE = "cues.toml"
_DATA_FILES = (WEIGHTS_FILE, COLUMNS_FILE, CUES_FILE)


def default_model_dir() -> Path:
    """The bundled model folder."""
    return models_dir() / NAME


def softmax(scores: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Row-wise softmax of label scores (stable: the row's maximum is subtracted first)."""
    shifted = scores - scores.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    out: npt.NDArray[np.float64] = e / e.sum(axis=-1, keepdims=True)
    return out


@dataclass(eq=False)
class AttitudeModel:
    """A loaded model: its featurizer, dense weights per column, intercepts and decision settings."""

    meta: dict[str, Any]
    featurizer: Featurizer
    weights: npt.NDArray[np.float64]  # (dim, labels)
    intercept: npt.NDArray[np.float64]  # (labels,)
    directory: Path | None = None
    _ok: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self._ok = self.labels.index("ok") if "ok" in self.labels else len(self.labels) - 1

    @property
    def version(self) -> str:
        """The model's version string."""
        return str(self.meta.get("version", ""))

    @property
    def name(self) -> str:
        """The model's name (``attitude``)."""
        return str(self.meta.get("name", NAME))

    @property
    def labels(self) -> tuple[str, ...]:
        """Labels in column order of the weights."""
        return tuple(self.meta["labels"])

    @property
    def thresholds(self) -> dict[str, float]:
        """Probability a label needs before it is charged."""
        return {k: float(v) for k, v in self.meta["thresholds"].items()}

    @property
    def review_floor(self) -> dict[str, float]:
        """Probability from which a label below its threshold is held for review."""
        return {k: float(v) for k, v in self.meta["review_floor"].items()}

    def scores(self, block: Columns, n: int) -> npt.NDArray[np.float64]:
        """Per-label score contributions of a block of ``n`` texts, shape ``(n, labels)``.

        Each text's columns are summed in their order within the block, so a text's row is
        the same whatever else is in the batch.
        """
        out = np.zeros((n, len(self.labels)))
        if len(block.columns):
            contributions = self.weights[block.columns] * block.values[:, None]
            for k in range(len(self.labels)):
                out[:, k] = np.bincount(block.texts, weights=contributions[:, k], minlength=n)
        return out

    def contributions(self, block: Columns, label: str) -> list[tuple[int, float]]:
        """``(column, how much it moves label against ok)`` for one text's active columns, largest first."""
        k = self.labels.index(label)
        delta = (self.weights[block.columns, k] - self.weights[block.columns, self._ok]) * block.values
        order = np.argsort(-delta, kind="stable")  # stable: equal pushes keep the block's order
        return list(zip(block.columns[order].tolist(), delta[order].tolist(), strict=True))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_meta(model_dir: Path) -> dict[str, Any]:
    """Read ``meta.json``, or raise :class:`ArtifactError` saying how to get one."""
    path = model_dir / META_FILE
    if model_dir.exists() and not model_dir.is_dir():
        raise ArtifactError(
            f"{model_dir} is a file; --model takes the model folder (qc train --out), holding {META_FILE}"
        )
    if not model_dir.is_dir():
        raise ArtifactError(f"model folder {model_dir} does not exist; run `qc train --out {model_dir}`")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ArtifactError(f"{path} is missing; run `qc train --out {model_dir}` to write a model") from None
    except OSError as exc:
        raise ArtifactError(
            f"{path} cannot be read ({exc.strerror or type(exc).__name__});"
            " give qc read access to the model folder"
        ) from None
    except ValueError as bad_json:
        raise ArtifactError(f"{path} is not valid JSON ({bad_json}); retrain with `qc train`") from None
    if not isinstance(meta, dict):
        raise ArtifactError(f"{path} is not a model description; retrain with `qc train`")
    return meta


def verify(model_dir: Path | None = None) -> dict[str, Any]:
    """Check a model folder without loading it: files present, hashes and feature version match.

    Raises:
        ArtifactError: missing folder or file, a file changed since training, or a model built
            for another feature version (the message says how to fix it).
    """
    model_dir = model_dir or default_model_dir()
    meta = read_meta(model_dir)
    version = meta.get("feature_version")
    if version != FEATURE_VERSION:
        raise ArtifactError(
            f"model {model_dir} was built for feature version {version}, this qc builds {FEATURE_VERSION};"
            " retrain it with `qc train`"
        )
    hashes = meta.get("files")
    if not isinstance(hashes, dict):
        raise ArtifactError(f"{model_dir / META_FILE} lists no file hashes; retrain with `qc train`")
    for name in _DATA_FILES:
        path = model_dir / name
        if not path.is_file():
            raise ArtifactError(f"{path} is missing; retrain with `qc train --out {model_dir}`")
        if _sha256(path) != hashes.get(name):
            raise ArtifactError(
                f"{path} does not match the SHA-256 in {META_FILE}: the file was modified or"
                f" belongs to another model; retrain with `qc train --out {model_dir}`"
            )
    _check_decision_settings(meta, model_dir)
    if meta.get(SETTINGS_KEY) != settings_hash(meta):
        # The intercepts and thresholds decide as much as the weights: an edited copy charged
        # 105 impatience on the demo day instead of 40, under the version it was copied from.
        raise ArtifactError(
            f"{model_dir / META_FILE} does not match its {SETTINGS_KEY}: its intercepts, thresholds or"
            " other settings were edited (or it was written by a qc before 2026-12); choose"
            f" thresholds with `qc train --out {model_dir}`, not by hand"
        )
    return meta


# The hash of everything meta.json says but itself: labels, intercepts, thresholds, feature
# config, the data hashes and figures; edited by hand, the model is not the one its version names.
SETTINGS_KEY = "settings_sha256"


def settings_hash(meta: Mapping[str, Any]) -> str:
    """SHA-256 of ``meta`` without :data:`SETTINGS_KEY`, as canonical JSON (sorted keys, no spaces)."""
    body = {k: v for k, v in meta.items() if k != SETTINGS_KEY}
    text = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def load(model_dir: Path | None = None) -> AttitudeModel:
    """Load a verified model folder (see :func:`verify`).

    Raises:
        ArtifactError: as :func:`verify`, or arrays of the wrong shape or type.
    """
    model_dir = model_dir or default_model_dir()
    meta = verify(model_dir)
    try:
        config = FeatureConfig.from_json(meta["features"])
        cues: CueLexicon = load_cues(model_dir / CUES_FILE)
        weights = np.load(model_dir / WEIGHTS_FILE, allow_pickle=False)
        columns = np.load(model_dir / COLUMNS_FILE, allow_pickle=False)
        labels = list(meta["labels"])
        intercept = np.asarray(meta["intercept"], dtype=np.float64)
    except (KeyError, TypeError, ValueError) as exc:
        raise ArtifactError(
            f"model {model_dir} is incomplete or malformed ({exc}); retrain with `qc train`"
        ) from None
    featurizer = Featurizer(config, cues)
    if (
        weights.ndim != 2
        or weights.shape[1] != len(labels)
        or columns.shape != (weights.shape[0],)
        or intercept.shape != (len(labels),)
        or not np.issubdtype(columns.dtype, np.integer)
        or (len(columns) and (columns.min() < 0 or columns.max() >= featurizer.dim))
    ):
        raise ArtifactError(f"model {model_dir}: weights and columns do not fit its feature config; retrain")
    dense = np.zeros((featurizer.dim, len(labels)))
    dense[columns] = weights.astype(np.float64)
    return AttitudeModel(meta, featurizer, dense, intercept, model_dir)


_LABELS = ("ok", "impatience", "conflict")


def _check_decision_settings(meta: Mapping[str, Any], model_dir: Path) -> None:
    """Refuse a meta.json whose labels, thresholds, review floors or follow-up window cannot be used.

    meta.json is the one file of a model no SHA-256 covers (it holds the hashes): edited by
    hand, a missing threshold or a window written "60s" stopped every command with an
    internal error on the first message, not a refusal naming the file.
    """
    where = model_dir / META_FILE

    def fail(what: str) -> ArtifactError:
        return ArtifactError(f"{where}: {what}; retrain with `qc train --out {model_dir}`")

    labels = meta.get("labels")
    if not isinstance(labels, list) or sorted(map(str, labels)) != sorted(_LABELS) or len(labels) != 3:
        raise fail(f"labels must be {', '.join(_LABELS)} (in any order), got {labels!r}")
    for key in ("thresholds", "review_floor"):
        table = meta.get(key)
        if not isinstance(table, dict):
            raise fail(f"{key} must map impatience and conflict to probabilities, got {table!r}")
        for label in ("impatience", "conflict"):
            value = table.get(label)
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
                raise fail(f"{key}.{label} must be a probability from 0 to 1, got {value!r}")
    window = meta.get("follow_up_seconds", 0)
    if isinstance(window, bool) or not isinstance(window, int | float) or not 0 <= window <= 86400:
        raise fail(f"follow_up_seconds must be a number of seconds from 0 to 86400, got {window!r}")


def load_cached(model_dir: Path | None = None) -> AttitudeModel:
    """:func:`load`, once per folder and content (retraining into the same folder reloads)."""
    model_dir = (model_dir or default_model_dir()).resolve()
    try:
        stamp = (model_dir / META_FILE).read_bytes()
    except OSError:
        stamp = b""
    return _load_once(model_dir, hashlib.sha256(stamp).hexdigest())


@lru_cache(maxsize=4)
def _load_once(model_dir: Path, stamp: str) -> AttitudeModel:
    return load(model_dir)


def save(
    model_dir: Path,
    meta: dict[str, Any],
    columns: npt.NDArray[np.int64],
    weights: npt.NDArray[np.floating[Any]],
    cues_source: Path,
) -> dict[str, Any]:
    """Write a model folder: arrays, a copy of the cue lexicon and meta.json with their hashes.

    Returns the full meta written. The same inputs always give the same bytes.
    """
    model_dir.mkdir(parents=True, exist_ok=True)
    np.save(model_dir / COLUMNS_FILE, np.ascontiguousarray(columns, dtype=np.int64), allow_pickle=False)
    np.save(model_dir / WEIGHTS_FILE, np.ascontiguousarray(weights, dtype=np.float32), allow_pickle=False)
    (model_dir / CUES_FILE).write_bytes(cues_source.read_bytes())
    full = {
        "name": NAME,
        "feature_version": FEATURE_VERSION,
        **{k: v for k, v in meta.items() if k not in ("name", "feature_version", "files", SETTINGS_KEY)},
        "files": {name: _sha256(model_dir / name) for name in _DATA_FILES},
    }
    full[SETTINGS_KEY] = settings_hash(full)
    text = json.dumps(full, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    (model_dir / META_FILE).write_text(text, encoding="utf-8")
    return full
