"""Retrain the bundled attitude model from its data and hold it to issue 13's floors.

Slow (one full ``qc train``, a few minutes). It needs the real chats beside the project
(``../shared/realchats`` or ``$QC_REALCHATS``) and skips with that reason where they are absent.

Every floor is asserted on the retrained model. The floors the shipped model does not reach
are listed in ``NOT_MET`` with the reason and run as strict expected failures: the test says
plainly that they are unmet, and it fails the day one of them is reached without this file
being updated (or the day a met floor is lost).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from qc.attitude.model import META_FILE, default_model_dir
from qc.training.evaluate import FLOORS
from qc.training.real import default_realchats
from qc.training.train import train_to_dir

ROOT = Path(__file__).resolve().parents[1]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not default_realchats().is_file(),
        reason=f"the real chats are not beside the project ({default_realchats()}); they are research"
        " corpora kept outside the repository (../shared/realchats/README.md), set QC_REALCHATS to use them",
    ),
]

# Floors the shipped model misses, and why (models/attitude/MODEL_CARD.md has the figures).
NOT_MET: dict[str, str] = {
    "real_test_charged_precision": "real impatience is too rare and too varied to learn from the "
    "real train split; what the model charges on real text is mostly ok (MODEL_CARD.md)",
    "real_test_impatience_recall": "real impatience on the test split scores below the review floor "
    "(MODEL_CARD.md)",
    "written_impatience_recall": "curt non-answers vs. curt answers; the answered-cues (features v5) and "
    "the eighth batch raised the recall to 0.80, below the floor at the precision the thresholds keep "
    "(MODEL_CARD.md)",
}


@pytest.fixture(scope="module")
def retrained(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    shipped = json.loads((default_model_dir() / META_FILE).read_text(encoding="utf-8"))
    out = tmp_path_factory.mktemp("attitude")
    meta = train_to_dir(ROOT / "annotated_samples", out, seed=shipped["seed"], version=shipped["version"])
    return {"meta": meta, "shipped": shipped}


def _floor_cases() -> list[Any]:
    return [
        pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=NOT_MET[name]))
        if name in NOT_MET
        else name
        for name in FLOORS
    ]


@pytest.mark.parametrize("name", _floor_cases())
def test_the_retrained_model_meets_the_floor(retrained: dict[str, Any], name: str) -> None:
    floor = retrained["meta"]["metrics"]["floors"][name]
    assert floor["value"] is not None, f"{name} was not measured"
    assert floor["met"], f"{name}: {floor['value']} is not {floor['limit']}"


def test_retraining_reproduces_the_shipped_thresholds_and_figures(retrained: dict[str, Any]) -> None:
    meta, shipped = retrained["meta"], retrained["shipped"]
    assert meta["training_data"]["sha256"] == shipped["training_data"]["sha256"]
    assert meta["thresholds"] == pytest.approx(shipped["thresholds"])
    assert meta["review_floor"] == pytest.approx(shipped["review_floor"])
    for name, floor in meta["metrics"]["floors"].items():
        assert floor["value"] == pytest.approx(shipped["metrics"]["floors"][name]["value"], abs=1e-3), name


def test_the_shipped_metadata_records_the_same_verdict_on_each_floor(retrained: dict[str, Any]) -> None:
    recorded = {name: f["met"] for name, f in retrained["shipped"]["metrics"]["floors"].items()}
    assert recorded == {name: name not in NOT_MET for name in FLOORS}
