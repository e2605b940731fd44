"""The ladder of approaches for one routing decision, simplest first.

Every approach has ``fit(texts, labels)`` and ``predict_proba(texts)`` returning one row per
text over ``classes_``. A row of zeros is an abstention (the approach gives no answer), which
the evaluation counts as wrong and as not covered.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import bm25s
import numpy as np
import sklearn
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, make_pipeline
from sklearn.svm import LinearSVC

# bm25s sets its logger to DEBUG on import and reports every index build: keep output readable.
logging.getLogger("bm25s").setLevel(logging.WARNING)

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


#: The rungs from simplest to most complex, by stable id.
LADDER = ("majority", "rules", "tfidf", "embeddings", "retrieval", "rag", "hybrid")


class Approach:
    """Base class: a stable ``id`` (see :data:`LADDER`), a display ``name``, the ``rung`` it
    stands on (0 = simplest) and ``classes_`` after fitting."""

    id = "approach"
    name = "approach"
    needs_llm = False
    classes_: np.ndarray

    @property
    def rung(self) -> int:
        """Position on the ladder, 0 for the simplest."""
        return LADDER.index(self.id)

    def fit(self, texts: list[str], labels: np.ndarray) -> Approach:
        raise NotImplementedError

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def predict(self, texts: list[str]) -> np.ndarray:
        """Labels, with ``None`` where the approach abstains. ``texts`` may also be a pandas
        frame of text columns (MLflow's pyfunc and its Spark UDF pass one): its columns are
        joined and masked as the training texts were."""
        import pandas as pd

        if isinstance(texts, pd.DataFrame | pd.Series):
            from pilot2prod.triage.data import model_texts

            frame = texts.to_frame() if isinstance(texts, pd.Series) else texts
            frame = frame.rename(columns=str)
            texts = model_texts(frame, list(frame.columns))[0].tolist()
        proba = self.predict_proba(texts)
        labels = self.classes_[proba.argmax(axis=1)].astype(object)
        labels[proba.max(axis=1) <= 0] = None
        return labels


class MajorityClass(Approach):
    """Always the most frequent class: the floor every other approach must beat."""

    id = "majority"
    name = "majority class"

    def fit(self, texts, labels):
        self.classes_, counts = np.unique(labels, return_counts=True)
        self.prior_ = counts / counts.sum()
        return self

    def predict_proba(self, texts):
        return np.tile(self.prior_, (len(texts), 1))


#: Keywords a person could maintain: words of three letters or more (no numbers, no "ll" of
#: "I'll"), and neither English stop words, greetings nor pieces of web addresses.
RULE_TOKEN = r"(?u)\b[^\W\d_]{3,}\b"
RULE_STOP_WORDS = sorted(
    ENGLISH_STOP_WORDS
    | {"hello", "hey", "dear", "thanks", "thank", "regards", "cheers", "please", "pls"}
    | {"https", "http", "www", "com", "amp", "html"}
)


class KeywordRules(Approach):
    """Keyword rules a person could read and maintain (Rule #1: try a heuristic first).

    For each class, the words and word pairs most specific to it (smoothed log-odds against
    the other classes, seen in at least ``min_count`` examples) become its keywords. A text
    goes to the class whose keywords it matches most (weighted); with no match, it abstains.
    """

    id = "rules"
    name = "keyword rules"

    def __init__(self, keywords_per_class: int = 12, min_count: int = 3) -> None:
        self.keywords_per_class = keywords_per_class
        self.min_count = min_count

    def fit(self, texts, labels):
        self.classes_ = np.unique(labels)
        min_df = max(1, min(self.min_count, len(texts) // (4 * len(self.classes_)) or 1))
        vectoriser = CountVectorizer(
            ngram_range=(1, 2),
            min_df=min_df,
            binary=True,
            stop_words=RULE_STOP_WORDS,
            token_pattern=RULE_TOKEN,
        )
        matrix = vectoriser.fit_transform(texts)
        vocabulary = vectoriser.get_feature_names_out()
        labels = np.asarray(labels)
        total = np.asarray(matrix.sum(axis=0)).ravel() + 1.0
        self.rules_: dict[str, list[tuple[str, float]]] = {}
        for cls in self.classes_:
            inside = np.asarray(matrix[labels == cls].sum(axis=0)).ravel() + 0.5
            outside = total - inside + 1.0
            n_in = (labels == cls).sum() + 1.0
            n_out = (labels != cls).sum() + 1.0
            log_odds = np.log(inside / n_in) - np.log(outside / n_out)
            # A keyword must cover at least 2 % of its class, or it rarely fires.
            common = inside >= max(self.min_count, 0.02 * n_in)
            log_odds = np.where(common, log_odds, -np.inf)
            top = np.argsort(-log_odds)[: self.keywords_per_class]
            self.rules_[str(cls)] = [
                (str(vocabulary[i]), float(log_odds[i]))
                for i in top
                if np.isfinite(log_odds[i]) and log_odds[i] > 0
            ]
        return self

    def predict_proba(self, texts):
        out = np.zeros((len(texts), len(self.classes_)))
        for row, text in enumerate(texts):
            words = _WORD.findall(text.lower())
            grams = set(words) | {f"{a} {b}" for a, b in zip(words, words[1:], strict=False)}
            scores = np.array(
                [sum(w for k, w in self.rules_[str(c)] if k in grams) for c in self.classes_]
            )
            if scores.max() > 0:
                exp = np.exp(scores - scores.max())
                out[row] = exp / exp.sum()
        return out


#: Character n-grams are read from the start of a text only (a subject and its first
#: paragraphs, where a misspelt product name matters); words from the whole text. On long texts
#: (e-mails, documents) the character n-grams of every word were most of the ladder's time.
CHAR_NGRAM_HEAD = 2000


def text_head(text: str) -> str:
    """The start of ``text`` in lower case: what the character n-grams read."""
    return text[:CHAR_NGRAM_HEAD].lower()


def tfidf_features() -> FeatureUnion:
    """Word 1-2-grams of the whole text and character 3-5-grams (within words) of its first
    :data:`CHAR_NGRAM_HEAD` characters, sublinear TF-IDF."""
    return FeatureUnion(
        [
            (
                "words",
                TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1, dtype=np.float32),
            ),
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char_wb",
                    preprocessor=text_head,
                    ngram_range=(3, 5),
                    sublinear_tf=True,
                    min_df=2,
                    dtype=np.float32,
                ),
            ),
        ]
    )


def softmax(scores: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    z = scores / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def fit_temperature(scores: np.ndarray, labels_index: np.ndarray) -> float:
    """The softmax temperature that minimises the log-loss of held-out scores (Guo et al.,
    2017): one parameter, so it cannot overfit a small calibration slice."""
    from scipy.optimize import minimize_scalar

    def nll(log_t: float) -> float:
        p = softmax(scores, float(np.exp(log_t)))
        return float(-np.mean(np.log(p[np.arange(len(p)), labels_index] + 1e-12)))

    return float(np.exp(minimize_scalar(nll, bounds=(-5, 5), method="bounded").x))


class TfidfLinear(Approach):
    """Word and character n-grams with a linear SVM; probabilities calibrated by temperature
    scaling on a stratified 15 % of the training split held out from the SVM."""

    id = "tfidf"
    name = "TF-IDF + linear"

    def __init__(self, c: float = 0.5, seed: int = 0, calibration_share: float = 0.15) -> None:
        self.c = c
        self.seed = seed
        self.calibration_share = calibration_share

    def fit(self, texts, labels):
        from sklearn.model_selection import train_test_split

        texts = list(texts)
        labels = np.asarray(labels)
        self.classes_ = np.unique(labels)
        counts = np.unique(labels, return_counts=True)[1]
        held = int(round(self.calibration_share * len(texts)))
        calibrate = counts.min() >= 2 and held >= len(self.classes_)
        fit_texts, fit_labels = texts, labels
        if calibrate:
            fit_texts, cal_texts, fit_labels, cal_labels = train_test_split(
                texts, labels, test_size=held, stratify=labels, random_state=self.seed
            )
        self.pipeline_ = make_pipeline(
            tfidf_features(), LinearSVC(C=self.c, random_state=self.seed)
        )
        self.pipeline_.fit(fit_texts, fit_labels)
        self.temperature_ = 1.0
        if calibrate and set(fit_labels) == set(self.classes_):
            scores = self._scores(cal_texts)
            self.temperature_ = fit_temperature(scores, np.searchsorted(self.classes_, cal_labels))
        return self

    def _scores(self, texts) -> np.ndarray:
        # Inputs are our own text features: skip scikit-learn's per-call checks, which cost
        # as much as the prediction itself for a single ticket.
        with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
            scores = self.pipeline_.decision_function(list(texts))
        if scores.ndim == 1:  # two classes: one margin
            scores = np.column_stack([-scores, scores]) / 2
        aligned = np.full((scores.shape[0], len(self.classes_)), -1e3, dtype=float)
        aligned[:, np.searchsorted(self.classes_, self.pipeline_.classes_)] = scores
        return aligned

    def predict_proba(self, texts):
        return softmax(self._scores(texts), self.temperature_)


class WordLlamaEmbedder:
    """Sentence embeddings from ``wordllama``, whose weights ship inside its wheel.

    Loaded with downloads disabled: nothing is fetched at run time. Embeddings are memoised
    by text, so rungs that share texts embed them once.
    """

    #: Tokens of a text that count, and texts embedded at once (see :meth:`embed`).
    MAX_TOKENS = 512
    BATCH = 128

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim
        self._model = None
        self._memo: dict[str, np.ndarray] = {}

    @property
    def model(self):
        if self._model is None:
            # Importing and loading wordllama configures the root logger (basicConfig at INFO),
            # after which every HTTP request of the LLM client would print a line into the
            # report: undo it.
            root = logging.getLogger()
            level, handlers = root.level, list(root.handlers)
            import wordllama
            from wordllama import WordLlama

            folder = Path(wordllama.__file__).parent
            self._model = WordLlama.load(dim=self.dim, cache_dir=folder, disable_download=True)
            self._model.tokenizer.enable_truncation(max_length=self.MAX_TOKENS)
            root.setLevel(level)
            for handler in root.handlers[:]:
                if handler not in handlers:
                    root.removeHandler(handler)
        return self._model

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit vectors, one row per text. A text counts by its first ``MAX_TOKENS`` tokens
        (the model was trained on 128 to 256), and texts are embedded in batches of similar
        length, so memory stays under ``BATCH`` x ``MAX_TOKENS`` token vectors however long
        the texts are (a 5 MB page is no longer a 45 GiB array)."""
        missing = sorted(
            (t for t in dict.fromkeys(texts) if t not in self._memo), key=len, reverse=True
        )
        for start in range(0, len(missing), self.BATCH):
            batch = missing[start : start + self.BATCH]
            # Cut before tokenising too: a token is rarely longer than 16 characters, and
            # tokenising megabytes only to keep the first tokens takes seconds.
            heads = [t[: self.MAX_TOKENS * 16] for t in batch]
            with np.errstate(invalid="ignore", divide="ignore"):
                vectors = self.model.embed(heads, norm=True, batch_size=self.BATCH)
            # A text without a known token has no direction: a zero vector, similar to nothing.
            vectors = np.nan_to_num(np.asarray(vectors, dtype=np.float32), nan=0.0)
            self._memo.update(zip(batch, vectors, strict=True))
        return np.vstack([self._memo[t] for t in texts]) if texts else np.zeros((0, self.dim))

    def __getstate__(self):  # the model reloads from the wheel; do not pickle it or the memo
        return {"dim": self.dim, "_model": None, "_memo": {}}


class EmbeddingLinear(Approach):
    """Sentence embeddings with a logistic-regression head."""

    id = "embeddings"
    name = "embeddings + linear"

    def __init__(self, embedder: WordLlamaEmbedder, c: float = 10.0) -> None:
        self.embedder = embedder
        self.c = c

    def fit(self, texts, labels):
        self.head_ = LogisticRegression(C=self.c, max_iter=3000)
        self.head_.fit(self.embedder.embed(list(texts)), np.asarray(labels))
        self.classes_ = self.head_.classes_
        return self

    def predict_proba(self, texts):
        return self.head_.predict_proba(self.embedder.embed(list(texts)))


class Retrieval(Approach):
    """Nearest past tickets by BM25 and by embeddings; their labels vote, weighted by score.

    ``bm25_weight`` mixes the two votes (1 = BM25 only, 0 = embeddings only).
    """

    id = "retrieval"
    name = "retrieval (BM25 + embeddings)"

    def __init__(
        self, embedder: WordLlamaEmbedder | None, k: int = 10, bm25_weight: float = 0.5
    ) -> None:
        self.embedder = embedder
        self.k = k
        self.bm25_weight = bm25_weight if embedder is not None else 1.0

    def fit(self, texts, labels):
        self.texts_ = list(texts)
        self.labels_ = np.asarray(labels)
        self.classes_ = np.unique(self.labels_)
        self.label_index_ = np.searchsorted(self.classes_, self.labels_)
        self.bm25_ = bm25s.BM25()
        self.bm25_.index(
            bm25s.tokenize(self.texts_, stopwords="en", show_progress=False), show_progress=False
        )
        if self.embedder is not None:
            self.train_vectors_ = self.embedder.embed(self.texts_)
        return self

    def neighbours(self, texts: list[str], k: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """BM25 top-k training indices and scores for each text."""
        k = min(k or self.k, len(self.texts_))
        tokens = bm25s.tokenize(list(texts), stopwords="en", show_progress=False)
        docs, scores = self.bm25_.retrieve(tokens, k=k, show_progress=False, n_threads=1)
        return np.asarray(docs), np.asarray(scores)

    def _vote(self, index: np.ndarray, weight: np.ndarray) -> np.ndarray:
        out = np.zeros((index.shape[0], len(self.classes_)))
        rows = np.repeat(np.arange(index.shape[0]), index.shape[1])
        np.add.at(out, (rows, self.label_index_[index.ravel()]), weight.ravel())
        total = out.sum(axis=1, keepdims=True)
        return np.divide(out, total, out=np.zeros_like(out), where=total > 0)

    def predict_proba(self, texts):
        texts = list(texts)
        index, scores = self.neighbours(texts)
        vote = self.bm25_weight * self._vote(index, np.clip(scores, 0, None))
        if self.embedder is not None and self.bm25_weight < 1:
            vectors = self.embedder.embed(texts)
            k = min(self.k, len(self.texts_))
            sims = vectors @ self.train_vectors_.T
            top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
            top_sims = np.take_along_axis(sims, top, axis=1)
            vote += (1 - self.bm25_weight) * self._vote(top, np.clip(top_sims, 0, None) ** 3)
        return vote


class Hybrid(Approach):
    """The classifier decides when it is confident; otherwise the fallback (retrieval or LLM).

    ``threshold`` is the classifier confidence above which it answers alone.
    """

    id = "hybrid"
    name = "hybrid (classifier, else fallback)"

    def __init__(self, classifier: Approach, fallback: Approach, threshold: float) -> None:
        self.classifier = classifier
        self.fallback = fallback
        self.threshold = threshold
        self.needs_llm = fallback.needs_llm

    def fit(self, texts, labels):
        # Both parts are fitted by the ladder already; refitting here would double the cost.
        self.classes_ = self.classifier.classes_
        return self

    def predict_proba(self, texts):
        texts = list(texts)
        proba = self.classifier.predict_proba(texts)
        unsure = np.flatnonzero(proba.max(axis=1) < self.threshold)
        self.fallback_share_ = len(unsure) / max(1, len(texts))
        if len(unsure):
            fallback = self.fallback.predict_proba([texts[i] for i in unsure])
            aligned = np.zeros((len(unsure), len(self.classes_)))
            position = {c: j for j, c in enumerate(self.classes_)}
            for j, c in enumerate(self.fallback.classes_):
                if c in position:
                    aligned[:, position[c]] = fallback[:, j]
            proba[unsure] = aligned
        return proba


def keyword_table(rules: KeywordRules, top: int = 6):
    """The learned rules, for display: class and its strongest keywords (a DataFrame)."""
    import pandas as pd

    return pd.DataFrame(
        [
            {"class": cls, "keywords": ", ".join(k for k, _ in words[:top])}
            for cls, words in rules.rules_.items()
        ]
    )
