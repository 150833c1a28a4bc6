"""The attitude model's probabilities summed from parts: one per message, context and pair.

The shipped model is a multinomial logistic regression over a feature union: char and word
n-grams of the agent message, char n-grams of the buyer turns, and hand features. Its
score for a class is a sum over columns, so it splits into a part that reads only the
message (its n-grams and its own hand features), a part that reads only the buyer turns
(their n-grams and hand features) and a small part that crosses the two. Stock replies and
short buyer turns recur all day while the pair rarely does, so the first two parts are kept
per message and per context, and only the crosses are computed for every input: no sparse
matrix of the whole batch, no stacking, no scikit-learn call for what was seen before.

The probabilities equal ``pipeline.predict_proba`` up to the last bits of a float (the
same products, summed in another order; tested to 1e-12, verdicts equal), and are the same
bits for an input whatever batch it comes in and whatever was seen before: every part is
computed row by row (a sparse row times the coefficients), so ``--jobs`` and the batch size
never change an output. A pipeline of any other shape is not split (:meth:`PartwiseLogits.of`
returns None) and runs as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any

from qc.attitude import features

# Parts kept per message text and per buyer-turn tuple: stock replies and short buyer turns.
# A part is three floats, so the bound keeps memory flat, not small.
_PARTS_KEPT = 8192


class PartwiseLogits:
    """``predict_proba`` of a split-able attitude pipeline, from cached per-part scores."""

    def __init__(self, pipeline: Any, branches: list[tuple[str, Any, slice]], hand: slice) -> None:
        import numpy as np

        model = pipeline.steps[-1][1]
        coef = np.asarray(model.coef_, dtype=float)
        self._intercept = np.asarray(model.intercept_, dtype=float)
        self._n_classes = coef.shape[0]
        # (branch, its coefficients as a column block) for the message and context n-grams.
        self._message_branches = [
            (b, coef[:, cols].T.copy()) for kind, b, cols in branches if kind == "message"
        ]
        self._context_branches = [
            (b, coef[:, cols].T.copy()) for kind, b, cols in branches if kind == "context"
        ]
        # The hand block's columns are its sorted names; the parts come in value order.
        column = {name: hand.start + i for i, name in enumerate(features.hand_feature_names())}
        mine, theirs, pair = features.hand_value_parts()
        self._hand = [coef[:, [column[n] for n in names]].T.copy() for names in (mine, theirs, pair)]
        self._messages: dict[Hashable, Any] = {}
        self._contexts: dict[Hashable, Any] = {}

    @classmethod
    def of(cls, pipeline: Any) -> PartwiseLogits | None:
        """The split scorer for ``pipeline``, or ``None`` when it is not of the shipped shape.

        The shape: a feature union (no weights) of [select, TfidfVectorizer] branches that read
        the message or the buyer turns, and the hand-feature branch, then a logistic
        regression over three or more classes (softmax of the linear scores).
        """
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import FeatureUnion, Pipeline
        from sklearn.preprocessing import FunctionTransformer

        steps = getattr(pipeline, "steps", None)
        if not steps or len(steps) != 2:
            return None
        union, model = steps[0][1], steps[1][1]
        if not isinstance(union, FeatureUnion) or union.transformer_weights is not None:
            return None
        if not isinstance(model, LogisticRegression) or len(model.classes_) < 3:
            return None
        kinds: dict[Callable[..., Any], str] = {
            features.message_texts: "message",
            features.message_token_texts: "message",
            features.context_texts: "context",
        }
        branches: list[tuple[str, Any, slice]] = []
        hand: slice | None = None
        start = 0
        for _, branch in union.transformer_list:
            if _plain_function(branch, FunctionTransformer) is features.hand_matrix and hand is None:
                hand = slice(start, start + len(features.hand_feature_names()))
                start = hand.stop
                continue
            if not isinstance(branch, Pipeline) or len(branch.steps) != 2:
                return None
            select, tfidf = branch.steps[0][1], branch.steps[1][1]
            kind = kinds.get(_plain_function(select, FunctionTransformer))  # type: ignore[arg-type]
            if kind is None or not isinstance(tfidf, TfidfVectorizer):
                return None
            width = len(tfidf.vocabulary_)
            branches.append((kind, branch, slice(start, start + width)))
            start += width
        if hand is None or start != model.coef_.shape[1]:
            return None
        return cls(pipeline, branches, hand)

    def proba(self, inputs: Sequence[features.AttitudeInput]) -> Any:
        """Class probabilities for ``inputs`` (rows in input order, columns the model's classes)."""
        import numpy as np
        from sklearn.utils.extmath import softmax

        if not inputs:
            return np.zeros((0, self._n_classes))
        buyers = [features.buyer_turns(context) for _, context in inputs]
        messages = self._parts(self._messages, [m for m, _ in inputs], self._message_parts)
        contexts = self._parts(self._contexts, buyers, self._context_parts)
        pairs = _times(
            [features.hand_pair_values(m, c, b) for (m, c), b in zip(inputs, buyers, strict=True)],
            self._hand[2],
        )
        scores = messages + contexts
        scores += pairs
        scores += self._intercept
        return softmax(scores, copy=False)

    def _parts(self, kept: dict[Hashable, Any], keys: list[Any], compute: Callable[[list[Any]], Any]) -> Any:
        """The kept part of each key, the missing ones computed in one go (then kept)."""
        import numpy as np

        missing = [k for k in dict.fromkeys(keys) if k not in kept]
        fresh = dict(zip(missing, compute(missing), strict=True)) if missing else {}
        out = np.array([fresh[k] if k in fresh else kept[k] for k in keys])
        kept.update(fresh)
        while len(kept) > _PARTS_KEPT:  # the oldest first
            del kept[next(iter(kept))]
        return out

    def _message_parts(self, messages: list[str]) -> list[tuple[float, ...]]:
        hand = [features.hand_message_values(m) for m in messages]
        return _part_scores([(m, ()) for m in messages], hand, self._hand[0], self._message_branches)

    def _context_parts(self, buyers: list[tuple[str, ...]]) -> list[tuple[float, ...]]:
        rows = [("", tuple(("customer", text) for text in buyer)) for buyer in buyers]
        hand = [features.hand_context_values(b) for b in buyers]
        return _part_scores(rows, hand, self._hand[1], self._context_branches)


def _part_scores(
    rows: list[features.AttitudeInput],
    hand: list[tuple[float, ...]],
    hand_weights: Any,
    branches: list[tuple[Any, Any]],
) -> list[tuple[float, ...]]:
    """Per row, its hand values' scores plus each n-gram branch's scores (one part of the sum)."""
    total = _times(hand, hand_weights)
    for branch, weights in branches:
        total += branch.transform(rows) @ weights
    return [tuple(row) for row in total]


def _plain_function(step: Any, function_transformer: type) -> Callable[..., Any] | None:
    """The function a FunctionTransformer applies as it is (no arguments, no checks), else None."""
    if not isinstance(step, function_transformer) or step.kw_args or step.validate:
        return None
    return step.func


def _times(rows: list[tuple[float, ...]], weights: Any) -> Any:
    """``rows @ weights`` row by row (a sparse product), so a row's bits never depend on the others."""
    import numpy as np
    from scipy import sparse

    dense = np.array(rows, dtype=float).reshape(len(rows), weights.shape[0])
    return np.asarray(sparse.csr_matrix(dense) @ weights)
