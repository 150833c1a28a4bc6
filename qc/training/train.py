"""The attitude classifier: annotated samples in, a seeded scikit-learn Pipeline out.

* :func:`load_samples` reads files in the ANNOTATION.md format and validates every line.
* :func:`is_evaluation` is the deterministic train/evaluation split by a hash of the id:
  hand-written samples whose ``int(sha256(id)[:8], 16) % 10 < 3`` are held out; generated
  samples are training-only. The held-out split never reaches :func:`train`.
* :func:`train` fits the Pipeline and picks per-label thresholds for precision by
  cross-validation on the training samples alone.
* :func:`decide` turns class probabilities into a verdict; the inspection rule and the
  evaluation both call it, so they cannot disagree.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qc.attitude import features
from qc.attitude import model_file as artifact
from qc.attitude.decision import ATTITUDE_KINDS, LABELS, combine_verdicts, decide, live_label
from qc.errors import ConfigError, QcError
from qc.paths import defaults_dir
from qc.training.evaluate import evaluate, label_metrics, other_rules_verdicts
from qc.training.samples import (
    EVAL_BUCKETS,
    GENERATED_PREFIX,
    Sample,
    SampleError,
    by_id,
    is_evaluation,
    load_samples,
    sample_files,
    samples_sha256,
    split_samples,
)

if TYPE_CHECKING:  # numpy and scikit-learn load only when training runs
    import numpy as np
    from numpy.typing import NDArray
    from sklearn.pipeline import Pipeline

DEFAULT_CONFIG = defaults_dir() / "attitude.toml"


def load_config(path: Path | None = None) -> dict[str, Any]:
    """Read the training settings (TOML); the packaged defaults when ``path`` is None."""
    path = path or DEFAULT_CONFIG
    try:
        config = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the training config ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    try:
        t = config["thresholds"]
        for key in ("cv_folds", "target_precision", "lowest", "step", "review_floor"):
            t[key]  # noqa: B018 - presence check
        config["model"]["C"], config["model"]["min_df"], config["model"]["handwritten_weight"]  # noqa: B018
    except (KeyError, TypeError) as exc:
        raise ConfigError(f"{path}: missing setting {exc}; see qc/defaults/attitude.toml") from None
    return config


def build_pipeline(seed: int, config: dict[str, Any]) -> Pipeline:
    """The untrained Pipeline: message char n-grams, message tokens, context, hand features → LR."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline
    from sklearn.preprocessing import FunctionTransformer

    min_df = int(config["model"]["min_df"])

    def text_branch(select: Callable[..., Any], **tfidf: Any) -> Pipeline:
        return Pipeline(
            [("select", FunctionTransformer(select)), ("tfidf", TfidfVectorizer(sublinear_tf=True, **tfidf))]
        )

    union = FeatureUnion(
        [
            (
                "message_chars",
                text_branch(
                    features.message_texts, analyzer="char", ngram_range=(1, 3), min_df=min_df, lowercase=True
                ),
            ),
            (
                "message_tokens",
                text_branch(
                    features.message_token_texts,
                    analyzer="word",
                    token_pattern=r"\S+",
                    ngram_range=(1, 2),
                    min_df=min_df,
                    lowercase=True,
                ),
            ),
            (
                "context_chars",
                text_branch(
                    features.context_texts, analyzer="char", ngram_range=(1, 2), min_df=min_df, lowercase=True
                ),
            ),
            ("hand", FunctionTransformer(features.hand_matrix)),
        ]
    )
    model = LogisticRegression(
        C=float(config["model"]["C"]), class_weight="balanced", max_iter=5000, random_state=seed
    )
    return Pipeline([("features", union), ("model", model)])


def _strip_unstable_state(pipeline: Pipeline) -> None:
    """Drop TfidfVectorizer state that would make artifacts differ between runs.

    ``stop_words_`` is a set ordered by the hash seed and ``_stop_words_id`` an object id;
    neither is used to transform.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer

    for _, transformer in pipeline.named_steps["features"].transformer_list:
        for step in getattr(transformer, "named_steps", {}).values():
            if isinstance(step, TfidfVectorizer):
                for attr in ("stop_words_", "_stop_words_id"):
                    if hasattr(step, attr):
                        delattr(step, attr)


def train(
    samples: Sequence[Sample], seed: int = 0, config: dict[str, Any] | None = None
) -> tuple[Pipeline, dict[str, Any]]:
    """Fit the classifier on training samples and choose its thresholds by cross-validation.

    Args:
        samples: training samples only; passing a held-out sample is a programming error.
        seed: fixes fold assignment and the solver, so the same data gives the same model.
        config: training settings (see ``qc/defaults/attitude.toml``).

    Returns:
        ``(pipeline, meta)`` where ``meta`` holds labels, thresholds, review floors, counts
        and cross-validated metrics at the chosen thresholds.
    """
    from threadpoolctl import threadpool_limits

    # The solver's BLAS and OpenMP reductions round differently with another thread count:
    # on one thread the same samples give the same bytes whatever the machine's core count.
    with threadpool_limits(limits=1):
        return _train(samples, seed, config)


def _train(
    samples: Sequence[Sample], seed: int, config: dict[str, Any] | None
) -> tuple[Pipeline, dict[str, Any]]:
    import numpy as np

    config = config or load_config()
    leaked = [s.id for s in samples if is_evaluation(s)]
    if leaked:
        raise ValueError(f"{len(leaked)} evaluation-split samples passed to train(), e.g. {leaked[0]}")
    samples = sorted(samples, key=by_id)
    counts = Counter(s.label for s in samples)
    missing = [label for label in LABELS if counts[label] < 2]
    if missing:
        raise SampleError(f"training needs at least 2 samples of every label; too few: {', '.join(missing)}")
    X = [s.input for s in samples]
    y = np.array([s.label for s in samples])
    t_config = config["thresholds"]
    folds = max(2, min(int(t_config["cv_folds"]), min(counts[label] for label in LABELS)))
    fit_params = _fit_params(samples, config)
    proba = cross_validated_proba(samples, seed, config, folds)

    basis = threshold_basis(samples, t_config)
    implied = np.array(other_rules_verdicts(samples))
    thresholds = choose_thresholds(proba[basis], list(y[basis]), t_config, implied[basis])
    review_floor = {k: min(float(t_config["review_floor"][k]), thresholds[k]) for k in ATTITUDE_KINDS}
    cv_pred = [
        combine_verdicts(live_label(decide(row, LABELS, thresholds, review_floor)), other)
        for row, other in zip(proba, implied, strict=True)
    ]
    pipeline = build_pipeline(seed, config).fit(X, y, **fit_params)
    _strip_unstable_state(pipeline)
    if tuple(pipeline.classes_) != LABELS:
        raise ValueError(f"unexpected classes {pipeline.classes_}")
    meta = {
        "labels": list(LABELS),
        "thresholds": thresholds,
        "review_floor": review_floor,
        "seed": seed,
        "config": config,
        "training_data": {
            "sha256": samples_sha256(samples),
            "n": len(samples),
            "label_counts": {label: counts[label] for label in LABELS},
            "generated": sum(s.generated for s in samples),
        },
        "threshold_basis": "handwritten" if not basis.all() else "all",
        "metrics": {
            "cv": {"folds": folds, **label_metrics(list(y), cv_pred, LABELS)},
            "cv_handwritten": label_metrics(
                [s.label for s in samples if not s.generated],
                [p for s, p in zip(samples, cv_pred, strict=True) if not s.generated],
                LABELS,
            ),
        },
    }
    return pipeline, meta


def _fit_params(samples: Sequence[Sample], config: dict[str, Any]) -> dict[str, Any]:
    import numpy as np

    weight = float(config["model"]["handwritten_weight"])
    return {"model__sample_weight": np.array([1.0 if s.generated else weight for s in samples])}


def cross_validated_proba(
    samples: Sequence[Sample], seed: int, config: dict[str, Any], folds: int
) -> NDArray[np.float64]:
    """Out-of-fold class probabilities for ``samples`` (stratified, shuffled with ``seed``)."""
    import numpy as np
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    X = [s.input for s in samples]
    y = np.array([s.label for s in samples])
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return cross_val_predict(
        build_pipeline(seed, config), X, y, cv=cv, method="predict_proba", params=_fit_params(samples, config)
    )


def threshold_basis(samples: Sequence[Sample], t_config: dict[str, Any]) -> NDArray[np.bool_]:
    """Boolean mask of the samples whose CV probabilities choose the thresholds.

    The hand-written ones when every label has ``handwritten_min_per_label`` of them, else all.
    """
    import numpy as np

    handwritten = np.array([not s.generated for s in samples])
    counts = Counter(s.label for s in samples if not s.generated)
    enough = int(t_config.get("handwritten_min_per_label", 0))
    if handwritten.any() and all(counts[label] >= enough for label in LABELS):
        return handwritten
    return np.ones(len(samples), dtype=bool)


def choose_thresholds(
    proba: NDArray[np.float64],
    y: Sequence[str],
    t_config: dict[str, Any],
    implied: Sequence[str] | NDArray[np.str_] | None = None,
) -> dict[str, float]:
    """The pair of thresholds at which the *verdict* meets both precision targets with most recall.

    The verdict is what ``qc inspect`` deducts: the classifier's decision combined with what
    the other rules (the lexicon) already imply for the message (``implied``, a label per
    sample; ``ok`` when nothing). Conflict is decided first on its own probability;
    impatience then on the probability that the message is at least impatient (impatience +
    conflict) among messages not flagged as conflict, exactly as :func:`decide` applies them.

    The two thresholds are chosen together: a low conflict threshold also takes impatient
    messages into conflict (a wrong and costlier deduction, and lost impatience recall). For
    every conflict threshold whose precision meets its target, impatience gets the lowest
    threshold meeting its own target; the pair kept is the one whose smaller recall of the two
    is largest (then the larger sum of recalls, then the lower thresholds).
    """
    import numpy as np

    truth = np.asarray(y)
    implied = np.asarray(implied) if implied is not None else np.full(len(truth), "ok")
    p_conflict = proba[:, LABELS.index("conflict")]
    p_bad = p_conflict + proba[:, LABELS.index("impatience")]
    grid = np.round(np.arange(float(t_config["lowest"]), 1.0, float(t_config["step"])), 4)
    target = t_config["target_precision"]
    is_conflict, is_impatience = truth == "conflict", truth == "impatience"
    best: tuple[tuple[float, float, float, float], dict[str, float]] | None = None
    for t_conflict in grid:
        conflict = (p_conflict >= t_conflict) | (implied == "conflict")
        if not conflict.any() or is_conflict[conflict].mean() < float(target["conflict"]):
            continue

        def flag_impatience(t: np.float64, conflict: NDArray[np.bool_] = conflict) -> NDArray[np.bool_]:
            return ~conflict & ((p_bad >= t) | (implied == "impatience"))

        t_impatience = _lowest_precise(
            flag_impatience,
            is_impatience,
            grid,
            float(target["impatience"]),
        )
        impatience = ~conflict & ((p_bad >= t_impatience) | (implied == "impatience"))
        recalls = (
            _recall(conflict, is_conflict),
            _recall(impatience, is_impatience),
        )
        key = (min(recalls), sum(recalls), -float(t_conflict), -t_impatience)
        if best is None or key > best[0]:
            best = (key, {"conflict": round(float(t_conflict), 4), "impatience": t_impatience})
    if best is None:  # no conflict threshold is precise enough: flag conflict only at the top
        top = round(float(grid[-1]), 4)
        conflict = (p_conflict >= top) | (implied == "conflict")
        t_impatience = _lowest_precise(
            lambda t: ~conflict & ((p_bad >= t) | (implied == "impatience")),
            is_impatience,
            grid,
            float(target["impatience"]),
        )
        return {"conflict": top, "impatience": t_impatience}
    return best[1]


def _recall(flagged: NDArray[np.bool_], positive: NDArray[np.bool_]) -> float:
    return float(positive[flagged].sum() / positive.sum()) if positive.any() else 0.0


def _lowest_precise(
    flag: Callable[[np.float64], NDArray[np.bool_]],
    positive: NDArray[np.bool_],
    grid: NDArray[np.float64],
    target: float,
) -> float:
    for t in grid:
        flagged = flag(t)
        if flagged.any() and positive[flagged].mean() >= target:
            return round(float(t), 4)
    return round(float(grid[-1]), 4)


def train_to_dir(
    samples_path: Path,
    out: Path,
    seed: int = 0,
    version: str | None = None,
    config_path: Path | None = None,
) -> dict[str, Any]:
    """``qc train`` as a function: load, split, train, save, score the held-out split.

    The held-out (evaluation) samples are only scored, after training, and their scores go
    into ``meta.json`` under ``metrics.heldout``. The same samples, seed and config always
    give byte-identical ``model.skops`` and ``meta.json`` (no wall-clock timestamp is kept).

    Returns:
        The meta written to ``out/meta.json``.
    """
    config = load_config(config_path)
    samples = load_samples(samples_path)
    train_set, held_out = split_samples(samples)
    if version is None:
        try:
            version = str(artifact.read_meta(out)["version"])
        except QcError:
            version = "1.0.0"
    pipeline, meta = train(train_set, seed=seed, config=config)
    meta["version"] = version
    meta["training_data"]["files"] = {
        file.name: sum(1 for s in samples if s.source.rsplit(":", 1)[0] == str(file))
        for file in sample_files(samples_path)
    }
    meta["training_data"]["heldout_n"] = len(held_out)
    meta["training_data"]["heldout_sha256"] = samples_sha256(held_out)
    meta["training_data"]["split"] = (
        f"held out: hand-written ids with int(sha256(id)[:8], 16) % 10 < {EVAL_BUCKETS}; "
        f"files named {GENERATED_PREFIX}* are training only"
    )
    written = artifact.save(pipeline, meta, out)
    if held_out:
        report = evaluate(held_out, model_dir=out)
        scores = report.to_json()
        written["metrics"]["heldout"] = {
            "n": report.n,
            "rules": report.rules,
            "verdict": scores["verdict"],
            "classifier": scores["classifier"],
            "forbidden": scores["forbidden"],
            "confusion": scores["confusion"],
        }
        artifact.write_meta(out, written)
    return written
