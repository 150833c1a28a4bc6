"""The model artifact: skops + meta.json, refused when tampered, mismatched or untrusted."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import pytest

from qc.attitude import model_file as artifact
from qc.errors import ArtifactError
from qc.training.samples import load_samples, split_samples
from qc.training.train import train

TINY = Path(__file__).parent / "data" / "attitude_tiny.jsonl"


@pytest.fixture(scope="module")
def trained():
    train_set, held_out = split_samples(load_samples(TINY))
    pipeline, meta = train(train_set, seed=0)
    return pipeline, meta, held_out


@pytest.fixture
def model_dir(trained, tmp_path):
    pipeline, meta, _ = trained
    artifact.save(pipeline, {**meta, "version": "1.2.3"}, tmp_path / "attitude")
    return tmp_path / "attitude"


def _edit_meta(model_dir: Path, **changes) -> None:
    meta = json.loads((model_dir / artifact.META_FILE).read_text(encoding="utf-8"))
    meta.update(changes)
    (model_dir / artifact.META_FILE).write_text(json.dumps(meta), encoding="utf-8")


def test_round_trip_predicts_the_same(trained, model_dir):
    pipeline, _, held_out = trained
    loaded = artifact.load(model_dir)
    inputs = [s.input for s in held_out]
    assert (loaded.pipeline.predict_proba(inputs) == pipeline.predict_proba(inputs)).all()
    assert loaded.version == "1.2.3"
    assert loaded.labels == ("conflict", "impatience", "ok")
    assert set(loaded.thresholds) == {"conflict", "impatience"}


def test_meta_records_what_the_model_is(model_dir):
    meta = json.loads((model_dir / artifact.META_FILE).read_text(encoding="utf-8"))
    for key in (
        "name",
        "version",
        "labels",
        "thresholds",
        "review_floor",
        "feature_version",
        "training_data",
        "packages",
        "metrics",
        "model_sha256",
    ):
        assert key in meta, key
    assert meta["training_data"]["n"] == sum(meta["training_data"]["label_counts"].values())
    assert len(meta["training_data"]["sha256"]) == 64
    assert "scikit-learn" in meta["packages"]
    assert "created" not in meta  # a wall-clock time would break byte-identical rebuilds


def test_one_changed_byte_is_refused(model_dir):
    path = model_dir / artifact.MODEL_FILE
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match="SHA-256.*qc train"):
        artifact.load(model_dir)


def test_feature_version_mismatch_is_refused(model_dir):
    _edit_meta(model_dir, feature_version=999)
    with pytest.raises(ArtifactError, match=r"features v999.*run `qc train"):
        artifact.load(model_dir)


@pytest.mark.parametrize("missing", [artifact.META_FILE, artifact.MODEL_FILE])
def test_missing_file_is_refused_with_the_fix(model_dir, missing):
    (model_dir / missing).unlink()
    with pytest.raises(ArtifactError, match="missing.*qc train"):
        artifact.load(model_dir)


def test_missing_folder_is_refused(tmp_path):
    with pytest.raises(ArtifactError, match="qc train"):
        artifact.load(tmp_path / "nowhere")


def test_untrusted_type_is_refused(trained, tmp_path):
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer

    pipeline, meta, _ = trained
    sneaky = Pipeline([("peek", FunctionTransformer(shutil.rmtree)), ("model", pipeline)])
    artifact.save(sneaky, meta, tmp_path / "sneaky")  # the SHA matches: only the type check stops it
    with pytest.raises(ArtifactError, match="shutil.rmtree"):
        artifact.load(tmp_path / "sneaky")


def test_package_drift_warns_but_loads(model_dir):
    meta = json.loads((model_dir / artifact.META_FILE).read_text(encoding="utf-8"))
    _edit_meta(model_dir, packages={**meta["packages"], "scikit-learn": "0.0.1"})
    with pytest.warns(artifact.ArtifactWarning, match="scikit-learn 0.0.1"):
        loaded = artifact.load(model_dir)
    assert loaded.version == "1.2.3"


def test_same_packages_do_not_warn(model_dir):
    with warnings.catch_warnings():
        warnings.simplefilter("error", artifact.ArtifactWarning)
        artifact.load(model_dir)


def test_model_bytes_are_reproducible(trained):
    pipeline, _, _ = trained
    assert artifact.model_bytes(pipeline) == artifact.model_bytes(pipeline)


def test_load_cached_reloads_after_retraining(trained, model_dir):
    first = artifact.load_cached(model_dir)
    assert artifact.load_cached(model_dir) is first
    _edit_meta(model_dir, version="9.9.9")
    assert artifact.load_cached(model_dir).version == "9.9.9"
