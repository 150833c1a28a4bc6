"""``qc train``: the attitude model from written, generated and real labelled messages.

* Training data: the hand-written training split (``handwritten.jsonl`` minus its evaluation
  split), every generated sample, and the **real train split** (``annotated_samples/real``,
  texts read from the real chats beside the project). Each source has its weight
  (``qc/defaults/attitude.toml``).
* Model: a multinomial logistic regression (scikit-learn, at training time only) over the
  features of :mod:`qc.attitude.features`; saved as NumPy arrays and JSON
  (:mod:`qc.attitude.model`), nothing pickled.
* Thresholds, chosen for the real base rate: the charge thresholds are the lowest whose
  cross-validated precision on the hand-written training split meets its target (conflict, at
  five times the cost, has the higher target) AND that charge at most a set share of the ok
  messages of the **real dev split**, with at least a set precision there once enough are
  charged; the review floors hold at most a set share of the real dev split for review.
* Nothing reads the hand-written evaluation split or the real test split before the model is
  frozen; their figures are measured afterwards and recorded in meta.json.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import tomllib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from qc.attitude.cues import CueLexicon, default_cues_path, load_cues
from qc.attitude.decision import ATTITUDE_KINDS, LABELS, combine_verdicts, decide, live_label
from qc.attitude.features import FEATURE_VERSION, FeatureConfig, Featurizer
from qc.attitude.model import CUES_FILE, META_FILE, AttitudeModel, save
from qc.errors import ConfigError
from qc.outputs.staging import OutputStage
from qc.paths import defaults_dir
from qc.readers.encoding import UndecodableError, decode_text
from qc.training.evaluate import model_figures, other_rules_verdicts, predict
from qc.training.real import load_real_labels, read_real_conversations, real_samples
from qc.training.samples import (
    EVAL_BUCKETS,
    Sample,
    SampleError,
    is_evaluation,
    load_samples,
    sample_files,
    samples_sha256,
)

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix

__all__ = [
    "DEFAULT_CONFIG",
    "Trained",
    "choose_thresholds",
    "load_config",
    "source_of",
    "train",
    "train_to_dir",
]

DEFAULT_CONFIG = defaults_dir() / "attitude.toml"
SOURCES = ("written", "generated", "real")


def load_config(path: Path | None = None) -> dict[str, Any]:
    """Read the training settings (TOML); the packaged defaults when ``path`` is None.

    Raises:
        ConfigError: unreadable file or a missing setting (named, with where the defaults are).
    """
    path = path or DEFAULT_CONFIG
    try:
        # As the scorecard and lexicons are read: a BOM or GBK from Notepad on a Chinese Windows.
        config = tomllib.loads(decode_text(path.read_bytes())[0])
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the training config ({exc.strerror})") from None
    except UndecodableError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    problems = _config_problems(config)
    if problems:
        raise ConfigError(f"{path}: {'; '.join(problems)}; see qc/defaults/attitude.toml")
    try:
        FeatureConfig.from_json(config.get("features", {}))
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(
            f"{path}: missing or bad setting in [features] ({exc}); see qc/defaults/attitude.toml"
        ) from None
    return config


# Each number of the training settings: (table, key, whole number?, lowest, highest). Checked
# before any sample is read: a value such as cv_folds = "five" ended a run in an internal error.
_CONFIG_NUMBERS: tuple[tuple[str, str, bool, float, float], ...] = (
    ("model", "C", False, 1e-9, 1e9),
    ("model", "max_iter", True, 1, 1e7),
    ("thresholds", "cv_folds", True, 2, 100),
    ("thresholds", "real_max_ok_charged", False, 0, 1),
    ("thresholds", "real_min_precision", False, 0, 1),
    ("thresholds", "real_min_charged", True, 0, 1e9),
    ("thresholds", "lowest", False, 0, 1),
    ("thresholds", "step", False, 1e-6, 1),
    ("thresholds", "review_lowest", False, 0, 1),
    ("thresholds", "review_max_share", False, 0, 1),
    ("decision", "follow_up_seconds", False, 0, 86400),
)


def _config_problems(config: dict[str, Any]) -> list[str]:
    """What is missing or of the wrong kind in the training settings, each naming its key."""

    def number(value: Any, whole: bool, low: float, high: float) -> bool:
        kinds = (int,) if whole else (int, float)
        return not isinstance(value, bool) and isinstance(value, kinds) and low <= value <= high

    problems = []
    for table, key, whole, low, high in _CONFIG_NUMBERS:
        section = config.get(table)
        if not isinstance(section, dict) or key not in section:
            if table != "decision":  # the follow-up window may be left out (0: none)
                problems.append(f"[{table}] {key} is missing")
            continue
        if not number(section[key], whole, low, high):
            kind = "a whole number" if whole else "a number"
            problems.append(f"[{table}] {key} must be {kind} from {low:g} to {high:g}, got {section[key]!r}")
    problems += _unknown_keys(config)
    problems += _feature_problems(config.get("features", {}))
    model: dict[str, Any] = config["model"] if isinstance(config.get("model"), dict) else {}
    weights = model.get("weight")
    for source in SOURCES:
        if not isinstance(weights, dict) or not number(weights.get(source), False, 0, 1e6):
            problems.append(f"[model] weight.{source} must be a number from 0 to 1e+06")
    thresholds: dict[str, Any] = config["thresholds"] if isinstance(config.get("thresholds"), dict) else {}
    for key in ("target_precision", "real_max_ok_charged_as"):
        shares = thresholds.get(key, {} if key == "real_max_ok_charged_as" else None)
        if not isinstance(shares, dict) or not all(number(v, False, 0, 1) for v in shares.values()):
            problems.append(f"[thresholds] {key} must map labels to shares from 0 to 1, got {shares!r}")
    charged: Any = thresholds.get("lowest")
    held: Any = thresholds.get("review_lowest")
    if number(charged, False, 0, 1) and number(held, False, 0, 1) and held > charged:
        problems.append(
            f"[thresholds] review_lowest ({held:g}) is above lowest ({charged:g}): the review band"
            " lies below the charging thresholds"
        )
    return problems


def _known_keys() -> dict[str, set[str]]:
    known: dict[str, set[str]] = {"model": {"weight"}, "features": set(FeatureConfig.__dataclass_fields__)}
    known["thresholds"] = {"target_precision", "real_max_ok_charged_as"}
    for table, key, *_ in _CONFIG_NUMBERS:
        known.setdefault(table, set()).add(key)
    return known


def _unknown_keys(config: dict[str, Any]) -> list[str]:
    """Keys the settings do not have, each with the nearest one (``max_itre`` was ignored unsaid)."""
    known = _known_keys()
    problems = []
    for table, section in config.items():
        if table not in known:
            near = difflib.get_close_matches(table, known, 1)
            hint = f" (did you mean [{near[0]}]?)" if near else ""
            problems.append(f"[{table}] is no table of the training settings{hint}")
        elif isinstance(section, dict):
            for key in section:
                if key not in known[table]:
                    near = difflib.get_close_matches(key, known[table], 1)
                    hint = f" (did you mean {near[0]}?)" if near else ""
                    problems.append(f"[{table}] {key} is no setting{hint}")
    # Inside the inline tables too: { conflcit = 0.001 } dropped the conflict cap unsaid.
    for table, key, names in (
        ("model", "weight", SOURCES),
        ("thresholds", "target_precision", ATTITUDE_KINDS),
        ("thresholds", "real_max_ok_charged_as", ATTITUDE_KINDS),
    ):
        inner = config.get(table, {}).get(key) if isinstance(config.get(table), dict) else None
        for name in inner if isinstance(inner, dict) else ():
            if name not in names:
                near = difflib.get_close_matches(name, names, 1)
                hint = f" (did you mean {near[0]}?)" if near else f" (one of {', '.join(names)})"
                problems.append(f"[{table}] {key}.{name} is no setting{hint}")
    return problems


# The largest hashed block: 2**22 columns × 3 labels of float64 is 100 MB per block when the
# model is loaded; reply_bits = 40 was a MemoryError after the samples were read.
_MAX_BITS = 22
_MAX_NGRAM = 6


def _feature_problems(features: Any) -> list[str]:
    """Out-of-range [features] settings, each with the range it takes."""
    if not isinstance(features, dict):
        return [f"[features] must be a table, got {features!r}"]
    problems = []
    for key, value in features.items():
        if key == "answer_crosses":
            if not isinstance(value, bool):
                problems.append(f"[features] {key} must be true or false, got {value!r}")
        elif key.endswith("_bits") and not (
            isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= _MAX_BITS
        ):
            problems.append(f"[features] {key} must be a whole number from 1 to {_MAX_BITS}, got {value!r}")
        elif key.endswith("_ngrams") and not (
            isinstance(value, list)
            and len(value) == 2
            and all(isinstance(n, int) and not isinstance(n, bool) for n in value)
            and 1 <= value[0] <= value[1] <= _MAX_NGRAM
        ):
            problems.append(
                f"[features] {key} must be [shortest, longest] with 1 ≤ shortest ≤ longest ≤ {_MAX_NGRAM},"
                f" got {value!r}"
            )
        elif key.endswith("_weight") and (
            isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100
        ):
            problems.append(f"[features] {key} must be a number from 0 to 100, got {value!r}")
    return problems


def source_of(sample: Sample) -> str:
    """``real``, ``generated`` or ``written``: which weight a training sample gets."""
    if sample.source.startswith("real:"):
        return "real"
    return "generated" if sample.generated else "written"


def _matrix(featurizer: Featurizer, samples: Sequence[Sample]) -> csr_matrix:
    from scipy.sparse import csr_matrix

    block = featurizer.columns([s.input for s in samples])
    return csr_matrix((block.values, (block.texts, block.columns)), shape=(len(samples), featurizer.dim))


def _fit(
    featurizer: Featurizer, samples: Sequence[Sample], config: dict[str, Any], seed: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32], npt.NDArray[np.float64]]:
    """Fit the logistic regression; returns its used columns, their weights (float32) and intercepts."""
    from sklearn.linear_model import LogisticRegression

    weights = config["model"]["weight"]
    y = np.array([s.label for s in samples])
    w = np.array([float(weights[source_of(s)]) for s in samples])
    clf = LogisticRegression(
        C=float(config["model"]["C"]), max_iter=int(config["model"]["max_iter"]), random_state=seed
    )
    from threadpoolctl import threadpool_limits

    # The solver's BLAS and OpenMP reductions round differently with another thread count:
    # on one thread the same samples give the same bytes whatever the machine's core count.
    with threadpool_limits(limits=1):
        clf.fit(_matrix(featurizer, samples), y, sample_weight=w)
    if tuple(clf.classes_) != LABELS:
        raise SampleError(f"training needs every label {LABELS}; got {tuple(clf.classes_)}")
    coef = clf.coef_.T  # (dim, labels)
    used = np.nonzero(np.any(coef != 0, axis=1))[0].astype(np.int64)
    return used, coef[used].astype(np.float32), clf.intercept_.astype(np.float64)


def _model(
    featurizer: Featurizer,
    columns: npt.NDArray[np.int64],
    weights: npt.NDArray[np.float32],
    intercept: npt.NDArray[np.float64],
    meta: dict[str, Any],
) -> AttitudeModel:
    # Exactly what loading the saved files gives: float32 weights widened to float64.
    dense = np.zeros((featurizer.dim, len(LABELS)))
    dense[columns] = weights.astype(np.float64)
    return AttitudeModel({"labels": list(LABELS), **meta}, featurizer, dense, intercept)


def _folds(samples: Sequence[Sample], k: int) -> list[int]:
    return [int(hashlib.sha256(f"fold:{s.id}".encode()).hexdigest()[:8], 16) % k for s in samples]


def _oof(
    featurizer: Featurizer,
    basis: Sequence[Sample],
    rest: Sequence[Sample],
    config: dict[str, Any],
    seed: int,
) -> npt.NDArray[np.float64]:
    """Out-of-fold probabilities of ``basis``: each fold predicted by a model trained without it."""
    k = int(config["thresholds"]["cv_folds"])
    fold = _folds(basis, k)
    out = np.zeros((len(basis), len(LABELS)))
    for f in range(k):
        held = [i for i, x in enumerate(fold) if x == f]
        if not held:
            continue
        kept = [s for s, x in zip(basis, fold, strict=True) if x != f]
        columns, weights, intercept = _fit(featurizer, [*kept, *rest], config, seed)
        model = _model(featurizer, columns, weights, intercept, {"thresholds": {}, "review_floor": {}})
        out[held] = predict(model, [basis[i] for i in held])
    return out


def _verdicts(proba: npt.NDArray[np.float64], t: dict[str, float], implied: Sequence[str]) -> list[str]:
    """Charged verdicts (lexicon-implied ones included) at thresholds ``t``; held ones count as ok."""
    floors = dict(t)
    return [
        combine_verdicts(live_label(decide(row.tolist(), LABELS, t, floors)), other)
        for row, other in zip(proba, implied, strict=True)
    ]


def choose_thresholds(
    written: npt.NDArray[np.float64],
    written_y: Sequence[str],
    written_implied: Sequence[str],
    dev: npt.NDArray[np.float64],
    dev_y: Sequence[str],
    dev_implied: Sequence[str],
    t_config: dict[str, Any],
) -> tuple[dict[str, float], dict[str, float], dict[str, Any]]:
    """Charge thresholds and review floors (see the module docstring); also what decided them.

    Conflict first: the lowest threshold meeting its precision target on the written basis and
    the real dev limits; then impatience the same way with conflict fixed. A label that meets
    no threshold gets 1.0 (never charged).
    """
    grid = [round(float(x), 4) for x in np.arange(float(t_config["lowest"]), 1.0, float(t_config["step"]))]
    targets = t_config["target_precision"]
    max_ok = float(t_config["real_max_ok_charged"])
    max_ok_as = {k: float(v) for k, v in t_config.get("real_max_ok_charged_as", {}).items()}
    min_precision = float(t_config["real_min_precision"])
    min_charged = int(t_config["real_min_charged"])
    wy, dy = list(written_y), list(dev_y)
    dev_ok = max(1, sum(1 for y in dy if y == "ok"))

    def fits(t: dict[str, float], kind: str) -> dict[str, Any] | None:
        wv = _verdicts(written, t, written_implied)
        flagged = [y for v, y in zip(wv, wy, strict=True) if v == kind]
        if not flagged or sum(1 for y in flagged if y == kind) / len(flagged) < float(targets[kind]):
            return None
        dv = _verdicts(dev, t, dev_implied)
        charged = [(v, y) for v, y in zip(dv, dy, strict=True) if v != "ok"]
        ok_charged = sum(1 for _, y in charged if y == "ok") / dev_ok
        if ok_charged > max_ok:
            return None
        ok_as_kind = sum(1 for v, y in charged if y == "ok" and v == kind) / dev_ok
        if ok_as_kind > max_ok_as.get(kind, 1.0):
            return None
        right = sum(1 for v, y in charged if y != "ok")
        if len(charged) >= min_charged and right / len(charged) < min_precision:
            return None
        recall = sum(1 for v, y in zip(wv, wy, strict=True) if y == kind and v == kind) / max(
            1, wy.count(kind)
        )
        return {
            "written_precision": round(sum(1 for y in flagged if y == kind) / len(flagged), 4),
            "written_recall": round(recall, 4),
            "dev_ok_charged": round(ok_charged, 5),
            "dev_ok_charged_as_kind": round(ok_as_kind, 5),
            "dev_charged": len(charged),
            "dev_charged_right": right,
        }

    chosen = {"conflict": 1.0, "impatience": 1.0}
    why: dict[str, Any] = {}
    for kind in ("conflict", "impatience"):
        for t in grid:
            trial = {**chosen, kind: t}
            found = fits(trial, kind)
            if found is not None:
                chosen, why[kind] = trial, {"threshold": t, **found}
                break
        else:
            why[kind] = {"threshold": 1.0, "note": "no threshold met the targets: never charged"}
    floors = {}
    share = float(t_config["review_max_share"])
    p_conflict = dev[:, LABELS.index("conflict")] if len(dev) else np.zeros(0)
    p_bad = p_conflict + (dev[:, LABELS.index("impatience")] if len(dev) else 0)
    for kind, p in (("conflict", p_conflict), ("impatience", p_bad)):
        floor = chosen[kind]
        step = float(t_config["step"])
        review_grid = [round(float(x), 4) for x in np.arange(float(t_config["review_lowest"]), 1.0, step)]
        for t in sorted(review_grid, reverse=True):
            if t >= chosen[kind]:
                continue
            if len(p) and float(np.mean((p >= t) & (p < chosen[kind]))) > share:
                break
            floor = t
        floors[kind] = min(floor, chosen[kind])
    return chosen, floors, why


@dataclass(slots=True)
class Trained:
    """A trained model before it is written: its arrays and the meta it will record."""

    columns: npt.NDArray[np.int64]
    weights: npt.NDArray[np.float32]
    intercept: npt.NDArray[np.float64]
    meta: dict[str, Any]
    featurizer: Featurizer

    def model(self) -> AttitudeModel:
        """The model as inspection will load it."""
        return _model(self.featurizer, self.columns, self.weights, self.intercept, self.meta)


def train(
    written: Sequence[Sample],
    real_train: Sequence[Sample],
    real_dev: Sequence[Sample],
    config: dict[str, Any] | None = None,
    seed: int = 0,
    cues: CueLexicon | None = None,
) -> Trained:
    """Fit on the written training samples (generated included) and the real train split; pick thresholds.

    ``written`` must hold no sample of the hand-written evaluation split; ``real_dev`` only
    chooses thresholds. The real test split is not a parameter: nothing here can read it.
    """
    config = config or load_config()
    leaked = [s.id for s in written if is_evaluation(s)]
    if leaked:
        raise ValueError(f"{len(leaked)} evaluation-split samples passed to train(), e.g. {leaked[0]}")
    featurizer = Featurizer(FeatureConfig.from_json(config.get("features", {})), cues or load_cues())
    training = sorted([*written, *real_train], key=lambda s: s.id)
    counts = Counter(s.label for s in training)
    missing = [label for label in LABELS if counts[label] < 2]
    if missing:
        raise SampleError(f"training needs at least 2 samples of every label; too few: {', '.join(missing)}")
    columns, weights, intercept = _fit(featurizer, training, config, seed)
    # Threshold basis: the hand-written training samples, each predicted by a model that did not see it.
    basis = [s for s in training if source_of(s) == "written"]
    rest = [s for s in training if source_of(s) != "written"]
    written_proba = _oof(featurizer, basis, rest, config, seed)
    model = _model(featurizer, columns, weights, intercept, {"thresholds": {}, "review_floor": {}})
    dev_proba = predict(model, real_dev)
    thresholds, floors, why = choose_thresholds(
        written_proba,
        [s.label for s in basis],
        other_rules_verdicts(basis),
        dev_proba,
        [s.label for s in real_dev],
        other_rules_verdicts(real_dev),
        config["thresholds"],
    )
    meta = {
        "labels": list(LABELS),
        "intercept": intercept.tolist(),
        "features": featurizer.config.to_json(),
        "cues_version": featurizer.cues.version,
        "thresholds": thresholds,
        "review_floor": floors,
        "follow_up_seconds": float(config.get("decision", {}).get("follow_up_seconds", 0)),
        "threshold_choice": why,
        "config": config,
        "seed": seed,
        "training_data": {
            "n": len(training),
            "by_source": dict(sorted(Counter(source_of(s) for s in training).items())),
            "label_counts": {label: counts[label] for label in LABELS},
            "sha256": samples_sha256(training),
            "real_dev_n": len(real_dev),
            "real_dev_sha256": samples_sha256(real_dev) if real_dev else None,
        },
    }
    return Trained(columns, weights, intercept, meta, featurizer)


def _check_kinds(config: dict[str, Any]) -> None:
    for kind in ATTITUDE_KINDS:
        if kind not in config["thresholds"]["target_precision"]:
            raise ConfigError(f"thresholds.target_precision has no {kind!r}; see qc/defaults/attitude.toml")


def recipe(meta: Mapping[str, Any], cues_sha256: str) -> str:
    """SHA-256 of what makes a model: training data, dev split, seed, settings, cue lexicon, features.

    Two trainings with the same recipe give the same model (byte for byte on one machine); any
    other seed or setting is another model, even on the same data.
    """
    made = {
        "training_data": meta["training_data"]["sha256"],
        # The thresholds are chosen on the real dev split: relabelled, it is another model.
        "real_dev": meta["training_data"].get("real_dev_sha256"),
        "seed": meta["seed"],
        "config": meta["config"],
        "cues": cues_sha256,
        "feature_version": meta.get("feature_version", FEATURE_VERSION),
    }
    text = json.dumps(made, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=list)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _kept_version(out_dir: Path, made: str) -> str:
    """The version a model retrained into ``out_dir`` without ``--version`` gets.

    The folder's own version when it was made by the same recipe (:func:`recipe`: a rebuild,
    ``qc train --out models/attitude --seed 0``); that version with ``+`` the recipe's hash when
    the data, seed or settings changed (another model, never taken for the one its version
    names); ``2.0.0+hash`` in a new folder.
    """
    old = ""
    try:
        meta = json.loads((out_dir / META_FILE).read_text(encoding="utf-8"))
        old = str(meta.get("version") or "") if isinstance(meta, dict) else ""
        same = recipe(meta, str(meta["files"][CUES_FILE])) == made
    except (OSError, ValueError, AttributeError, KeyError, TypeError):
        same = False
    if old and same:
        return old
    return f"{old.split('+')[0] or '2.0.0'}+{made[:8]}"


def train_to_dir(
    samples_path: Path,
    out_dir: Path,
    seed: int = 0,
    version: str | None = None,
    config_path: Path | None = None,
    real_labels: Path | None = None,
    realchats: Path | None = None,
    use_real: bool = True,
) -> dict[str, Any]:
    """``qc train``: read the samples, train, write the model folder, measure it, return the meta.

    Raises:
        SampleError: a bad sample file; RealChatsMissing: the real chats are not beside the
        project (train with ``use_real=False`` to leave them out); ConfigError: a bad config.
    """
    config = load_config(config_path)
    _check_kinds(config)
    samples = load_samples(samples_path)
    written = [s for s in samples if not is_evaluation(s)]
    held_out = [s for s in samples if is_evaluation(s)]
    cues = load_cues()
    real_train: list[Sample] = []
    real_dev: list[Sample] = []
    if use_real:
        labels = load_real_labels(real_labels)
        real = real_samples(labels, read_real_conversations(realchats), ("train", "dev"), cues.skip)
        real_train = [s for s in real if s.source == "real:train"]
        real_dev = [s for s in real if s.source == "real:dev"]
    trained = train(written, real_train, real_dev, config, seed, cues)
    meta = dict(trained.meta)
    cues_sha256 = hashlib.sha256(default_cues_path().read_bytes()).hexdigest()
    meta["version"] = version or _kept_version(out_dir, recipe(meta, cues_sha256))
    meta["training_data"]["files"] = {
        file.name: sum(1 for s in samples if s.source.rsplit(":", 1)[0] == str(file))
        for file in sample_files(samples_path)
    }
    meta["training_data"]["heldout_n"] = len(held_out)
    meta["training_data"]["heldout_sha256"] = samples_sha256(held_out)
    meta["training_data"]["split"] = (
        f"written evaluation: hand-written ids with int(sha256(id)[:8], 16) % 10 < {EVAL_BUCKETS};"
        " real: by conversation, sha256(conversation_id) buckets 0-4 train, 5-6 dev, 7-9 test"
    )
    meta["packages"] = _packages()
    trained.meta = meta
    # The model is written and measured in a folder beside ``out_dir`` and published whole,
    # meta.json (which vouches for the arrays) last, as a run's files are: a failed or stopped
    # run leaves the model ``qc inspect`` uses as it was, and MODEL_CARD.md stays.
    with OutputStage(out_dir, last=META_FILE) as stage:
        full = save(stage.path, meta, trained.columns, trained.weights, default_cues_path())
        # Measured after the model is frozen: the written evaluation split and every real split.
        full["metrics"] = model_figures(stage.path, held_out, use_real, real_labels, realchats)
        full = save(stage.path, full, trained.columns, trained.weights, default_cues_path())
        stage.publish()
    return full


def _packages() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("numpy", "scikit-learn", "rjieba"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "missing"
    out["feature_version"] = str(FEATURE_VERSION)
    return out
