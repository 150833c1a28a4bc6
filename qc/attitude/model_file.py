"""Save and load the attitude model: a skops file plus ``meta.json``.

skops stores the Pipeline as data and refuses, on load, any type not on an explicit
trusted list, so opening a model file never runs code from it (pickle and joblib would).
``meta.json`` records what the model is and how it was made; :func:`load` refuses a model
whose bytes do not match the recorded SHA-256, whose feature version differs from
:data:`qc.attitude.features.FEATURE_VERSION`, or that contains an untrusted type.

Saving is byte-reproducible: the skops zip is rewritten with fixed timestamps and no
wall-clock ``created`` field is kept, so training twice on the same data gives identical
files.
"""

from __future__ import annotations

import hashlib
import io
import json
import platform
import re
import warnings
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from qc.attitude.features import FEATURE_VERSION
from qc.errors import ArtifactError
from qc.paths import models_dir

MODEL_FILE = "model.skops"
META_FILE = "meta.json"
NAME = "attitude"

# The feature functions a qc attitude model may reference, beyond the scikit-learn and numpy
# types skops trusts by default. Any other type in a model file is refused on load.
TRUSTED_TYPES: tuple[str, ...] = (
    "qc.attitude.features.context_texts",
    "qc.attitude.features.hand_matrix",
    "qc.attitude.features.message_texts",
    "qc.attitude.features.message_token_texts",
)
PACKAGES = ("scikit-learn", "skops", "numpy", "scipy", "jieba", "snownlp")


class ArtifactWarning(UserWarning):
    """The model was built with other package versions than the ones installed."""


@dataclass(frozen=True, slots=True)
class Artifact:
    """A loaded model with its metadata."""

    pipeline: Any
    meta: dict[str, Any]
    path: Path

    @property
    def version(self) -> str:
        """The model's semantic version, written into every finding it produces."""
        return str(self.meta["version"])

    @property
    def labels(self) -> tuple[str, ...]:
        """Class labels in the order of ``predict_proba`` columns."""
        return tuple(self.meta["labels"])

    @property
    def thresholds(self) -> dict[str, float]:
        """Per-label probability at which a finding is deducted."""
        return {k: float(v) for k, v in self.meta["thresholds"].items()}

    @property
    def review_floor(self) -> dict[str, float]:
        """Per-label probability from which a finding is shown for review (not deducted)."""
        return {k: float(v) for k, v in self.meta["review_floor"].items()}


def default_model_dir() -> Path:
    """The bundled ``models/attitude`` folder."""
    return models_dir() / NAME


def package_versions() -> dict[str, str]:
    """Versions of the packages whose behaviour the model depends on, plus Python's."""
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "missing"
    return out


def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256 of some bytes."""
    return hashlib.sha256(data).hexdigest()


def model_bytes(pipeline: Any) -> bytes:
    """The pipeline as skops bytes, rewritten as a zip with fixed timestamps and order."""
    import skops.io as sio

    raw = sio.dumps(pipeline)
    with zipfile.ZipFile(io.BytesIO(raw)) as src:
        entries = {name: src.read(name) for name in src.namelist()}
    # skops names array files after id(obj), which changes every run: rename them in order of
    # first mention in the schema so the same model always gives the same bytes.
    schema = entries.pop("schema.json").decode("utf-8")
    arrays = sorted(entries, key=lambda name: (schema.find(f'"{name}"'), name))
    renamed: dict[str, bytes] = {}
    for i, name in enumerate(arrays):
        new = f"array{i:04d}{Path(name).suffix}"
        schema = schema.replace(f'"{name}"', f'"{new}"')
        renamed[new] = entries[name]
    # Object ids in the schema (``"__id__"``, for shared references) vary the same way:
    # number them in order of first appearance, which keeps shared references intact.
    numbering: dict[str, str] = {}

    def renumber(match: re.Match[str]) -> str:
        return f'"__id__": {numbering.setdefault(match.group(1), str(len(numbering) + 1))}'

    schema = re.sub(r'"__id__": (\d+)', renumber, schema)
    renamed["schema.json"] = schema.encode("utf-8")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in sorted(renamed):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            dst.writestr(info, renamed[name])
    return out.getvalue()


def save(pipeline: Any, meta: dict[str, Any], model_dir: Path) -> dict[str, Any]:
    """Write ``model.skops`` and ``meta.json`` into ``model_dir``; return the full meta written.

    ``meta`` comes from :func:`qc.training.train.train` (labels, thresholds, data hash …);
    this adds name, feature version, package versions and the model file's SHA-256.
    """
    data = model_bytes(pipeline)
    full = {
        "name": NAME,
        "version": meta.get("version", "0.1.0"),
        "feature_version": FEATURE_VERSION,
        **{k: v for k, v in meta.items() if k not in ("name", "feature_version", "model_sha256")},
        "packages": package_versions(),
        "model_file": MODEL_FILE,
        "model_sha256": sha256_bytes(data),
    }
    model_dir.mkdir(parents=True, exist_ok=True)
    (model_dir / MODEL_FILE).write_bytes(data)
    write_meta(model_dir, full)
    return full


def write_meta(model_dir: Path, meta: dict[str, Any]) -> None:
    """Write ``meta.json`` deterministically (sorted keys, UTF-8, trailing newline)."""
    text = json.dumps(meta, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    (model_dir / META_FILE).write_text(text, encoding="utf-8")


def read_meta(model_dir: Path) -> dict[str, Any]:
    """Read ``meta.json``, or raise :class:`ArtifactError` saying how to get one."""
    path = model_dir / META_FILE
    if not path.is_file():
        raise ArtifactError(
            f"{path} is missing: run `qc train --out {model_dir}` or restore the model folder"
        )
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ArtifactError(
            f"{path} is unreadable ({exc.__class__.__name__}): run `qc train` to rebuild it"
        ) from None
    for key in ("version", "labels", "thresholds", "review_floor", "feature_version", "model_sha256"):
        if key not in meta:
            raise ArtifactError(f"{path} lacks {key!r}: run `qc train --out {model_dir}` to rebuild it")
    return meta


def verify(model_dir: Path | None = None) -> tuple[dict[str, Any], bytes]:
    """Check a model folder without loading the model: ``(meta, model file bytes)``.

    Cheap (no scikit-learn, no skops), so a process that hands the loading to workers can
    still refuse a missing, modified or mismatched model before any work starts.

    Raises:
        ArtifactError: missing files, a model file that does not match ``meta.json``, or a
            feature-version mismatch.
    """
    model_dir = Path(model_dir) if model_dir is not None else default_model_dir()
    meta = read_meta(model_dir)
    model_path = model_dir / meta.get("model_file", MODEL_FILE)
    if not model_path.is_file():
        raise ArtifactError(f"{model_path} is missing: run `qc train --out {model_dir}`")
    data = model_path.read_bytes()
    if sha256_bytes(data) != meta["model_sha256"]:
        raise ArtifactError(
            f"{model_path} does not match the SHA-256 in {model_dir / META_FILE} (modified or corrupt): "
            f"restore the folder or run `qc train --out {model_dir}`"
        )
    if meta["feature_version"] != FEATURE_VERSION:
        raise ArtifactError(
            f"model {meta['version']} in {model_dir} was built with features v{meta['feature_version']}, "
            f"this qc computes v{FEATURE_VERSION}: run `qc train --out {model_dir}`"
        )
    return meta, data


def load(model_dir: Path | None = None) -> Artifact:
    """Load and check a model folder (the bundled one when ``model_dir`` is None).

    Raises:
        ArtifactError: missing files, a model file that does not match ``meta.json``, a
            feature-version mismatch, or a type outside :data:`TRUSTED_TYPES`.
    """
    import skops.io as sio

    model_dir = Path(model_dir) if model_dir is not None else default_model_dir()
    meta, data = verify(model_dir)
    model_path = model_dir / meta.get("model_file", MODEL_FILE)
    _warn_on_package_drift(meta.get("packages", {}), model_dir)
    try:
        untrusted = sorted(set(sio.get_untrusted_types(data=data)) - set(TRUSTED_TYPES))
    except Exception as exc:  # skops raises several types on a malformed zip
        raise ArtifactError(f"{model_path} is not a readable skops file ({exc.__class__.__name__})") from None
    if untrusted:
        raise ArtifactError(
            f"{model_path} contains types qc does not trust ({', '.join(untrusted)}); "
            f"refusing to load it: run `qc train --out {model_dir}`"
        )
    try:
        pipeline = sio.loads(data, trusted=list(TRUSTED_TYPES))
    except Exception as exc:
        raise ArtifactError(
            f"{model_path} could not be loaded ({exc.__class__.__name__}): run `qc train`"
        ) from None
    if tuple(getattr(pipeline, "classes_", ())) != tuple(meta["labels"]):
        raise ArtifactError(f"{model_path}: classes differ from the labels in meta.json; run `qc train`")
    return Artifact(pipeline=pipeline, meta=meta, path=model_dir)


def load_cached(model_dir: Path) -> Artifact:
    """:func:`load`, once per folder and ``meta.json`` content per process.

    Rules and evaluations share one loaded model; a retrained folder (new meta) loads afresh.
    """
    meta_path = Path(model_dir) / META_FILE
    try:
        stamp = sha256_bytes(meta_path.read_bytes())
    except OSError:
        stamp = ""
    return _load_once(Path(model_dir), stamp)


@lru_cache(maxsize=8)
def _load_once(model_dir: Path, meta_stamp: str) -> Artifact:
    return load(model_dir)


def _warn_on_package_drift(recorded: dict[str, str], model_dir: Path) -> None:
    current = package_versions()
    drift = [
        f"{name} {recorded[name]} → {current.get(name)}"
        for name in sorted(recorded)
        if name != "python" and recorded[name] != current.get(name)
    ]
    if drift:
        warnings.warn(
            f"model in {model_dir} was built with other package versions ({'; '.join(drift)}); "
            "results may differ: run `qc train` to rebuild it",
            ArtifactWarning,
            stacklevel=3,
        )
