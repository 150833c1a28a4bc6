"""Annotators: tokens and sentiment for every buyer and agent message.

Annotators add features and never produce findings. Sentiment is snownlp's
naive-Bayes classifier applied to the tokens already computed, not
``SnowNLP(text)``, which re-segments in pure Python at about a millisecond a
message. snownlp is trained on shopping reviews, so its score is a weak hint
about mood (buyer anger as context), never a verdict or a deduction.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from qc.schema import Conversation, MessageFeatures, Role
from qc.text.tokens import TEXT_CACHE_SIZE, make_tokenize

__all__ = ["make_annotator", "sentiment_of_tokens", "snow_bayes", "SnowBayes", "BuyerMood", "buyer_mood"]

_ANNOTATED_ROLES = (Role.CUSTOMER, Role.AGENT)


class SnowBayes:
    """snownlp's sentiment model loaded on its own, without ``import snownlp``.

    ``import snownlp`` loads its segmenter and tagger models too: about 1.9 s and 400 MB
    per process, of which sentiment on ready tokens needs none. This reads only the
    sentiment file (``sentiment/sentiment.marshal.3``) and the stop-word list of the
    installed snownlp package (about 40 ms, 10 MB). :meth:`classify` is
    ``snownlp.classification.bayes.Bayes.classify`` step for step, so results are
    identical; :meth:`filter_stop` is ``snownlp.normal.filter_stop``.
    """

    def __init__(self, package_dir: Path | None = None) -> None:
        import gzip
        import marshal

        root = package_dir or _snownlp_dir()
        with gzip.open(root / "sentiment" / "sentiment.marshal.3", "rb") as fh:
            data = marshal.loads(fh.read())
        self.total = data["total"]
        # class -> {"d": word counts, "total": sum, "none": count of an unseen word}
        self.d: dict[str, dict[str, Any]] = data["d"]
        with (root / "normal" / "stopwords.txt").open(encoding="utf-8") as fh:
            self.stop = frozenset(line.strip() for line in fh)

    def filter_stop(self, words: Sequence[str]) -> list[str]:
        """The words that are not snownlp stop words, in order."""
        return [w for w in words if w not in self.stop]

    def classify(self, words: Sequence[str]) -> tuple[str, float]:
        """``(label, probability)`` of the most likely class, as snownlp's ``Bayes.classify``."""
        tmp: dict[str, float] = {}
        for k, cls in self.d.items():
            tmp[k] = math.log(cls["total"]) - math.log(self.total)
            counts, none, total = cls["d"], cls["none"], cls["total"]
            for word in words:
                tmp[k] += math.log(float(counts.get(word, none)) / total)
        # snownlp starts from the int 0 for both; a label is a str and a probability a float
        # (a model always has a class whose own term is exp(0), so some class wins).
        ret: str = ""
        prob = 0.0
        for k in self.d:
            now = 0.0
            try:
                for other in self.d:
                    now += math.exp(tmp[other] - tmp[k])
                now = 1 / now
            except OverflowError:
                now = 0.0
            if now > prob:
                ret, prob = k, now
        return (ret, prob)


def _snownlp_dir() -> Path:
    """Folder of the installed snownlp package, found without importing it."""
    import importlib.util

    spec = importlib.util.find_spec("snownlp")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("snownlp is not installed: pip install snownlp")
    return Path(next(iter(spec.submodule_search_locations)))


@lru_cache(maxsize=1)
def snow_bayes() -> SnowBayes:
    """The standalone snownlp sentiment model, loaded once per process."""
    return SnowBayes()


class _TokenSentiment:
    """snownlp's sentiment model as a sum of per-word log-odds, cached per word.

    Same naive-Bayes arithmetic as ``snownlp.classification.bayes.Bayes.classify``
    with two classes (``pos`` / ``neg``): P(pos) = 1 / (1 + exp(-(prior + Σ word
    log-odds))). Caching each word's log-odds makes a message cost a few dict
    look-ups instead of two ``log`` calls per word and class.
    """

    def __init__(self) -> None:
        bayes = snow_bayes()
        self._pos = bayes.d["pos"]
        self._neg = bayes.d["neg"]
        self._log_pos_total = math.log(self._pos["total"])
        self._log_neg_total = math.log(self._neg["total"])
        self._prior = self._log_pos_total - self._log_neg_total
        self._stop = bayes.stop
        self._odds: dict[str, float] = {}

    def _word(self, word: str) -> float:
        odds = self._odds.get(word)
        if odds is None:
            pos = math.log(self._pos["d"].get(word, self._pos["none"])) - self._log_pos_total
            neg = math.log(self._neg["d"].get(word, self._neg["none"])) - self._log_neg_total
            odds = self._odds[word] = pos - neg
        return odds

    def __call__(self, tokens: Sequence[str]) -> float:
        stop = self._stop
        score = self._prior
        for tok in tokens:
            if tok not in stop and not tok.isspace():
                score += self._word(tok)
        if score < -700.0:
            return 0.0
        if score > 700.0:
            return 1.0
        return 1.0 / (1.0 + math.exp(-score))


@lru_cache(maxsize=1)
def _token_sentiment() -> _TokenSentiment:
    return _TokenSentiment()


def sentiment_of_tokens(tokens: Sequence[str]) -> float:
    """Snownlp's positive probability for a token list (same model as ``SnowNLP(t).sentiments``).

    Whitespace tokens and snownlp's stop words are dropped first, as snownlp
    does after its own segmentation. Scores differ from ``SnowNLP(text)`` only
    where jieba segments differently from snownlp.
    """
    return _token_sentiment()(tokens)


def make_annotator(user_dict: Path | None = None) -> Callable[[Conversation], list[MessageFeatures]]:
    """Build the annotator, with a shop's jieba user dictionary if given (it only changes tokens).

    The returned callable gives one :class:`MessageFeatures` per message:
    tokens and sentiment for buyer and agent messages, empty features for
    system notices. Tokenizer and snownlp model load here, once.
    """
    tokenize = make_tokenize(user_dict)
    tokenize("预热")  # load jieba's dictionary now, not inside the first conversation
    _token_sentiment()
    empty = MessageFeatures()

    @lru_cache(maxsize=TEXT_CACHE_SIZE)
    def features_of(text: str) -> MessageFeatures:
        tokens = tokenize(text)
        return MessageFeatures(tokens=tokens, sentiment=sentiment_of_tokens(tokens))

    def annotate(conversation: Conversation) -> list[MessageFeatures]:
        return [features_of(m.text) if m.role in _ANNOTATED_ROLES else empty for m in conversation.messages]

    return annotate


@dataclass(frozen=True, slots=True)
class BuyerMood:
    """How the buyer's sentiment moved over one conversation (snownlp scores, 0 negative … 1 positive).

    ``trend`` is ``last - first``: negative when the buyer left unhappier than
    they came. ``count`` is how many buyer messages were scored.
    """

    first: float | None
    last: float | None
    lowest: float | None
    mean: float | None
    count: int

    @property
    def trend(self) -> float | None:
        """Last minus first buyer sentiment, or None without buyer messages."""
        if self.first is None or self.last is None:
            return None
        return self.last - self.first

    def to_json(self) -> dict[str, Any]:
        """Serialize to a JSON-safe dict (for reports)."""
        return {
            "first": self.first,
            "last": self.last,
            "lowest": self.lowest,
            "mean": self.mean,
            "trend": self.trend,
            "count": self.count,
        }


def buyer_mood(conversation: Conversation, features: Sequence[MessageFeatures]) -> BuyerMood:
    """Summarise the buyer's sentiment in one conversation from annotated features."""
    scores = [
        f.sentiment
        for m, f in zip(conversation.messages, features, strict=False)
        if m.role is Role.CUSTOMER and f.sentiment is not None
    ]
    if not scores:
        return BuyerMood(None, None, None, None, 0)
    return BuyerMood(scores[0], scores[-1], min(scores), sum(scores) / len(scores), len(scores))
