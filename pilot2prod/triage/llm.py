"""RAG rung: retrieved past tickets and knowledge-base passages in a prompt to an LLM.

Talks to any OpenAI-compatible endpoint through the ``openai`` client. Off unless a base URL is
given. The key is read from the environment variable whose NAME is a parameter, so it never
appears in a notebook. Responses are cached on disk by a hash of the request, so a re-run is
free and reproducible; token usage is recorded for the cost comparison.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pilot2prod.errors import Pilot2ProdError
from pilot2prod.triage.data import split_passages
from pilot2prod.triage.models import Approach, Retrieval

SYSTEM_PROMPT = (
    "You route customer-support tickets to a category. Answer with exactly one category name "
    "from the list, copied exactly, and nothing else. If none fits, answer: unknown."
)
#: The answer when no category fits (an abstention).
UNKNOWN = "unknown"


def label_schema(labels: list[str]) -> dict:
    """A JSON schema whose only valid answers are the labels (or "unknown")."""
    return {
        "type": "object",
        "properties": {"category": {"type": "string", "enum": [*labels, UNKNOWN]}},
        "required": ["category"],
        "additionalProperties": False,
    }


def response_format(kind: str, labels: list[str]) -> dict | None:
    if kind == "json_schema":
        return {
            "type": "json_schema",
            "json_schema": {"name": "route", "schema": label_schema(labels), "strict": True},
        }
    if kind == "json_object":
        return {"type": "json_object", "schema": label_schema(labels)}
    return None


class LLMUnavailable(Pilot2ProdError):
    """The endpoint could not be used (unreachable, refused, no key)."""


@dataclass(frozen=True)
class LLMSettings:
    base_url: str
    model: str
    api_key_env: str = ""
    cache_dir: str = ".llm_cache"
    timeout_s: float = 30.0
    price_input_per_1k: float = 0.0
    price_output_per_1k: float = 0.0
    max_examples: int = 5
    max_passages: int = 2
    response_format: str = "json_schema"

    @property
    def enabled(self) -> bool:
        return bool(self.base_url)


#: At most this much of a knowledge-base passage goes into a prompt (a passage of
#: ``PASSAGE_WORDS`` words is about this long).
PASSAGE_CHARS = 1200


class KnowledgeBaseIndex:
    """BM25 (and optionally embedding) search over knowledge-base documents.

    Documents are split into overlapping passages (:func:`split_passages`); an article scores
    as its best passage, and a prompt is shown that passage rather than the article's start.
    Scores are computed one query (BM25) or one block of queries (embeddings) at a time, so
    memory grows with the number of passages, not with queries times passages."""

    #: Queries scored against all passages at once by the embedding search.
    QUERY_BLOCK = 256

    def __init__(self, documents: pd.DataFrame, embedder=None) -> None:  # noqa: ANN001
        import bm25s

        self.documents = documents.reset_index(drop=True)
        self.embedder = embedder
        pieces = [split_passages(text) for text in self.documents["text"]]
        counts = np.array([len(p) for p in pieces])
        self.passages = [passage for group in pieces for passage in group]
        self.starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(int)
        self.bm25 = bm25s.BM25()
        tokens = bm25s.tokenize(self.passages, stopwords="en", show_progress=False)
        self.bm25.index(tokens, show_progress=False)
        self.vectors = embedder.embed(self.passages) if embedder is not None else None

    def _top(self, scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Best ``k`` documents, each one's best passage and its score, from passage scores
        (queries x passages)."""
        by_doc = np.maximum.reduceat(scores, self.starts, axis=1)
        order = np.argsort(-by_doc, axis=1, kind="stable")[:, :k]
        best = np.empty_like(order)
        ends = np.append(self.starts[1:], scores.shape[1])
        for row in range(order.shape[0]):
            for col, doc in enumerate(order[row]):
                lo, hi = self.starts[doc], ends[doc]
                best[row, col] = lo + int(np.argmax(scores[row, lo:hi]))
        return order, best, np.take_along_axis(by_doc, order, axis=1)

    def search_bm25_passages(
        self, queries: list[str], k: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Top ``k`` documents per query by BM25, the best passage of each, and its score."""
        import bm25s

        k = min(k, len(self.documents))
        tokens = bm25s.tokenize(
            list(queries), stopwords="en", show_progress=False, return_ids=False
        )
        docs = np.zeros((len(tokens), k), dtype=int)
        best = np.zeros((len(tokens), k), dtype=int)
        score = np.zeros((len(tokens), k), dtype=np.float32)
        for row, query in enumerate(tokens):
            if not query:  # only stop words or punctuation: nothing to match
                scores = np.zeros((1, len(self.passages)), dtype=np.float32)
            else:
                scores = np.asarray(self.bm25.get_scores(query), dtype=np.float32)[None, :]
            docs[row], best[row], score[row] = (a[0] for a in self._top(scores, k))
        return docs, best, score

    def search_bm25(self, queries: list[str], k: int) -> np.ndarray:
        return self.search_bm25_passages(queries, k)[0]

    def search_embeddings(self, queries: list[str], k: int) -> np.ndarray:
        if self.vectors is None:
            raise ValueError("no embedder given")
        k = min(k, len(self.documents))
        out = []
        for start in range(0, len(queries), self.QUERY_BLOCK):
            block = self.embedder.embed(list(queries[start : start + self.QUERY_BLOCK]))
            out.append(self._top(block @ self.vectors.T, k)[0])
        return np.vstack(out) if out else np.zeros((0, k), dtype=int)

    def best_passages(self, queries: list[str], k: int) -> list[list[str]]:
        """For each query, the best passage of each of its ``k`` best documents by BM25 (none
        from a document that shares no word with the query)."""
        _, best, score = self.search_bm25_passages(queries, k)
        return [
            [self.passages[j] for j, s in zip(row, scores, strict=True) if s > 0]
            for row, scores in zip(best, score, strict=True)
        ]


def build_prompt(
    text: str, labels: list[str], examples: list[tuple[str, str]], passages: list[str]
) -> list[dict[str, str]]:
    """The chat messages for one ticket: labels, similar past tickets, KB passages, ticket."""
    lines = ["Categories:", *[f"- {label}" for label in labels], ""]
    if examples:
        lines.append("Similar past tickets and their categories:")
        for example_text, label in examples:
            lines.append(f"[{label}] {example_text[:400]}")
        lines.append("")
    if passages:
        lines.append("Knowledge-base passages:")
        lines += [f"- {p[:PASSAGE_CHARS]}" for p in passages]
        lines.append("")
    lines += ["Ticket:", text[:2000], "", "Category:"]
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": "\n".join(lines)},
    ]


def parse_label(answer: str, labels: list[str]) -> str | None:
    """The label an answer names, or ``None`` (an abstention) when it names none or several,
    or says "unknown". A JSON answer (``{"category": "billing"}``) is read by its field."""
    try:
        parsed = json.loads(answer)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and isinstance(parsed.get("category"), str):
        answer = parsed["category"]
    cleaned = answer.strip().strip("`'\"*.:").strip().lower()
    by_lower = {label.lower(): label for label in labels}
    if cleaned in by_lower:
        return by_lower[cleaned]
    found = {
        label
        for low, label in by_lower.items()
        if re.search(rf"(?<![\w-]){re.escape(low)}(?![\w-])", answer.lower())
    }
    return found.pop() if len(found) == 1 else None


class LLMClassifier(Approach):
    """Rung 4: an LLM decides, shown similar past tickets (retrieval) and KB passages."""

    id = "rag"
    name = "RAG (LLM + retrieved context)"
    needs_llm = True

    def __init__(
        self, settings: LLMSettings, retrieval: Retrieval, kb: KnowledgeBaseIndex | None = None
    ) -> None:
        self.settings = settings
        self.retrieval = retrieval
        self.kb = kb
        self.requests = 0
        self.cache_hits = 0
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.abstentions = 0
        #: Seconds each answer took when it was asked (kept in the cache, so a re-run from
        #: the cache reports the endpoint's latency, not the disk's).
        self.latencies: list[float] = []
        self._client = None

    def fit(self, texts, labels):
        # The retrieval index is fitted by the ladder on the training split; nothing to learn.
        self.classes_ = np.unique(np.asarray(labels))
        return self

    @property
    def client(self):
        if self._client is None:
            from openai import OpenAI

            key = "not-needed"
            if self.settings.api_key_env:
                key = os.environ.get(self.settings.api_key_env, "")
                if not key:
                    raise LLMUnavailable(
                        f"llm_api_key_env: the environment variable {self.settings.api_key_env} "
                        "is not set; export it before running, or leave llm_base_url empty."
                    )
            self._client = OpenAI(
                base_url=self.settings.base_url,
                api_key=key,
                timeout=self.settings.timeout_s,
                max_retries=1,
            )
        return self._client

    def _request(self, messages: list[dict[str, str]]) -> dict:
        request = {
            "model": self.settings.model,
            "messages": messages,
            "temperature": 0,
            "max_tokens": 40,
        }
        constraint = response_format(self.settings.response_format, [str(c) for c in self.classes_])
        if constraint is not None:
            request["response_format"] = constraint
        return request

    def _cache_path(self, messages: list[dict[str, str]]) -> Path:
        request = self._request(messages)
        digest = hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()
        return Path(self.settings.cache_dir) / f"{digest}.json"

    def ask(self, messages: list[dict[str, str]]) -> str:
        """One completion, from the cache when this exact request was made before."""
        path = self._cache_path(messages)
        if path.exists():
            cached = json.loads(path.read_text(encoding="utf-8"))
            self.cache_hits += 1
            self.prompt_tokens += cached["prompt_tokens"]
            self.completion_tokens += cached["completion_tokens"]
            self.latencies.append(float(cached.get("seconds", 0.0)))
            return cached["answer"]
        from openai import APIError

        start = time.perf_counter()
        try:
            response = self.client.chat.completions.create(**self._request(messages))
        except APIError as exc:
            raise LLMUnavailable(
                f"llm_base_url: the endpoint {self.settings.base_url} did not answer "
                f"({type(exc).__name__}); the other rungs still ran."
            ) from None
        seconds = time.perf_counter() - start
        self.requests += 1
        self.latencies.append(seconds)
        answer = response.choices[0].message.content or ""
        usage = response.usage
        record = {
            "answer": answer,
            "seconds": seconds,
            "prompt_tokens": int(getattr(usage, "prompt_tokens", 0) or 0),
            "completion_tokens": int(getattr(usage, "completion_tokens", 0) or 0),
        }
        self.prompt_tokens += record["prompt_tokens"]
        self.completion_tokens += record["completion_tokens"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(record), encoding="utf-8")
        return answer

    def messages_for(self, texts: list[str]) -> list[list[dict[str, str]]]:
        index, _ = self.retrieval.neighbours(texts, k=self.settings.max_examples)
        passages = (
            self.kb.best_passages(texts, self.settings.max_passages)
            if self.kb is not None
            else [[] for _ in texts]
        )
        labels = [str(c) for c in self.classes_]
        out = []
        for row, text in enumerate(texts):
            examples = [
                (self.retrieval.texts_[i], str(self.retrieval.labels_[i])) for i in index[row]
            ]
            out.append(build_prompt(text, labels, examples, passages[row]))
        return out

    def predict_proba(self, texts):
        texts = list(texts)
        labels = [str(c) for c in self.classes_]
        out = np.zeros((len(texts), len(labels)))
        for row, messages in enumerate(self.messages_for(texts)):
            label = parse_label(self.ask(messages), labels)
            if label is None:
                self.abstentions += 1
            else:
                out[row, labels.index(label)] = 1.0
        return out

    def cost(self) -> float:
        s = self.settings
        return (
            self.prompt_tokens * s.price_input_per_1k
            + self.completion_tokens * s.price_output_per_1k
        ) / 1000.0
