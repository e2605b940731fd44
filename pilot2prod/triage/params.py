"""Chapter 3's parameters, declared once (the notebook's parameters cell is derived from this).

Defaults are neutral: the labelled examples, their text and label columns must be named; the
knowledge base, the LLM and the hand-off from Chapter 1 are off unless given. The sample
company's settings live in ``engagements/acme.yaml``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from pilot2prod import params
from pilot2prod.errors import ParameterError
from pilot2prod.params import param

if TYPE_CHECKING:
    from pilot2prod.triage.llm import LLMSettings

#: The value of ``llm_base_url`` that starts the bundled small model on loopback
#: (:mod:`pilot2prod.triage.local_llm`), and the name its server gives the model.
LOCAL = "local"
LOCAL_MODEL = "smollm2-135m-instruct"
#: How the answer is constrained to the label set: OpenAI's ``json_schema`` (also vLLM, Ollama,
#: llama.cpp's own server), ``json_object`` with a ``schema`` (llama-cpp-python, Anyscale), or
#: ``text`` (no constraint; the answer is parsed).
RESPONSE_FORMATS = ("json_schema", "json_object", "text")


@dataclass(frozen=True)
class Parameters(params.Parameters):
    """Parameters of ``notebooks/03_simple_vs_rag.ipynb``."""

    notebook: ClassVar[str] = "03_simple_vs_rag"

    examples_path: str = param(
        "",
        "past, labelled tickets: a file, file#sheet, a database URL#table, spark:master#table "
        "or inventory.yaml#source",
        path="source",
    )
    text_columns: str = param("", "comma-separated text columns, joined into one text")
    label_column: str = param("", "the decision to automate: the label to predict")
    id_column: str = param("", 'unique id per row, used to report duplicates; "" for none')
    time_column: str = param("", 'timestamp for a split by time; "" for a stratified split')
    max_examples: int = param(
        200000, "read at most this many labelled rows (the newest when time_column is given)"
    )
    kb_path: str = param(
        "", 'folder of Markdown/text/HTML articles, or a table; "" for none', path="source"
    )
    kb_id_column: str = param("", "when kb_path is a table: its document id column")
    kb_text_column: str = param("", "when kb_path is a table: its text column")
    gold_path: str = param(
        "", 'questions with the article that answers each; "" for none', path="source"
    )
    gold_question_column: str = param("", "question column of the gold file")
    gold_doc_column: str = param("", "answering-document id column of the gold file")
    test_path: str = param(
        "",
        'a fixed test set with the same columns (your official split); "" to freeze the newest '
        "(or a stratified) test_share of examples_path",
        path="source",
    )
    out_of_scope_label: str = param(
        "", 'the label meaning "none of these queues" (a person decides); "" for none'
    )
    test_share: float = param(
        0.2, "share of examples frozen as the test split (the newest when timed)"
    )
    target_precision: float = param(
        0.9, "precision at which tickets may be routed without a person"
    )
    min_coverage: float = param(
        0.5, "the share of tickets an approach must route to be worth shipping"
    )
    latency_budget_ms: float = param(50.0, "p95 time to route one ticket, in milliseconds")
    compute_price_per_hour: float = param(0.10, "price of one CPU machine hour, in your currency")
    currency: str = param(
        "", 'currency of the prices, shown with every cost (e.g. EUR, USD); "" for none'
    )
    llm_base_url: str = param(
        "",
        'OpenAI-compatible endpoint, e.g. http://localhost:8000/v1; "local" for the bundled '
        'small model on this machine; "" turns the LLM off',
    )
    llm_model: str = param("", 'model name at that endpoint (not needed for "local")')
    llm_response_format: str = param(
        "json_schema",
        'how answers are held to the label set: "json_schema" (OpenAI, vLLM, Ollama), '
        '"json_object" (llama-cpp-python) or "text"',
    )
    llm_api_key_env: str = param(
        "",
        'NAME of the environment variable holding the key (never the key); "" for no key',
        env_name=True,
    )
    llm_price_input_per_1k: float = param(0.0, "price per 1,000 prompt tokens")
    llm_price_output_per_1k: float = param(0.0, "price per 1,000 completion tokens")
    llm_max_items: int = param(300, "at most this many test tickets go to the LLM (cost control)")
    llm_cache_dir: str = param(
        ".llm_cache", "responses cached here by request hash; re-runs are free", path="output"
    )
    minutes_saved_per_routed_ticket: float = param(
        0.0, 'waiting time saved when a ticket skips manual triage; 0 for "not known"'
    )
    metric_spec_path: str = param(
        "", 'metric_spec.yaml from the success-metric notebook; "" for none', path="file"
    )
    learning_curve_sizes: str = param(
        "5,10,20,50", "labelled examples per class for the learning curves"
    )
    learning_curve_seeds: int = param(3, "random draws per learning-curve size")
    merge_label_typos: bool = param(
        False, "merge label spellings that look like typos of a frequent label"
    )
    drop_rare_classes: bool = param(
        False, "drop classes with fewer than 2 examples instead of stopping"
    )
    n_bootstrap: int = param(1000, "bootstrap resamples for confidence intervals")
    seed: int = param(0, "random seed for splits, sampling and bootstrap")
    output_dir: str = param(
        "", 'folder for results.json and the model; "" for a new folder under runs/', path="output"
    )

    def check(self) -> None:
        required = {
            "examples_path": "exports/tickets.csv",
            "text_columns": "subject,body",
            "label_column": "category",
        }
        for name, example in required.items():
            if not getattr(self, name):
                raise ParameterError(f"Parameter {name} is empty; give it, e.g. {name}={example}.")
        if self.gold_path and not (self.gold_question_column and self.gold_doc_column):
            raise ParameterError(
                "Parameters gold_question_column and gold_doc_column must name the gold file's "
                "question and document-id columns when gold_path is given."
            )
        if self.gold_path and not self.kb_path:
            raise ParameterError(
                "Parameter gold_path is given but kb_path is empty; the gold questions are "
                "answered from a knowledge base, so give kb_path too."
            )
        if self.max_examples < 100:
            raise ParameterError("Parameter max_examples must be at least 100 (e.g. 200000).")
        if not 0.05 <= self.test_share <= 0.5:
            raise ParameterError(
                f"Parameter test_share is {self.test_share}; use a share "
                "between 0.05 and 0.5, e.g. 0.2."
            )
        if not 0.5 <= self.target_precision < 1:
            raise ParameterError(
                f"Parameter target_precision is {self.target_precision}; use "
                "e.g. 0.9 (90 % of auto-routed tickets correct)."
            )
        if not 0 < self.min_coverage <= 1:
            raise ParameterError("Parameter min_coverage must be between 0 and 1, e.g. 0.5.")
        if self.minutes_saved_per_routed_ticket < 0:
            raise ParameterError(
                "Parameter minutes_saved_per_routed_ticket cannot be negative; use 0 if unknown."
            )
        try:
            sizes = self.curve_sizes
        except ValueError:
            raise ParameterError(
                f"Parameter learning_curve_sizes is '{self.learning_curve_sizes}'; give "
                "comma-separated whole numbers, e.g. 5,10,20,50."
            ) from None
        if any(s < 2 for s in sizes):
            raise ParameterError("Parameter learning_curve_sizes: each size must be at least 2.")
        if self.llm_response_format not in RESPONSE_FORMATS:
            raise ParameterError(
                f"Parameter llm_response_format is '{self.llm_response_format}'; use one of "
                f"{', '.join(RESPONSE_FORMATS)}."
            )
        if self.llm_base_url and self.llm_base_url != LOCAL:
            if not self.llm_base_url.startswith(("http://", "https://")):
                raise ParameterError(
                    f"Parameter llm_base_url is '{self.llm_base_url}'; give an http(s) URL such "
                    "as http://localhost:8000/v1, local for the bundled model, or leave it "
                    "empty to skip the LLM rung."
                )
            if not self.llm_model:
                raise ParameterError(
                    "Parameter llm_model is empty; name the model the endpoint serves, e.g. "
                    "llm_model=gpt-4o-mini."
                )

    @property
    def text_list(self) -> list[str]:
        return [c.strip() for c in self.text_columns.split(",") if c.strip()]

    @property
    def curve_sizes(self) -> list[int]:
        return [int(s) for s in self.learning_curve_sizes.split(",") if s.strip()]

    @property
    def llm(self) -> LLMSettings:
        from pilot2prod.triage.llm import LLMSettings

        if self.llm_base_url == LOCAL:  # the bundled model; its server's own conventions
            return LLMSettings(
                LOCAL,
                LOCAL_MODEL,
                "",
                self.llm_cache_dir,
                timeout_s=120.0,
                response_format="json_object",
                # A short prompt: a 135M model on a CPU spends its time reading the prompt.
                max_examples=4,
                max_passages=1,
            )
        return LLMSettings(
            self.llm_base_url,
            self.llm_model,
            self.llm_api_key_env,
            self.llm_cache_dir,
            price_input_per_1k=self.llm_price_input_per_1k,
            price_output_per_1k=self.llm_price_output_per_1k,
            response_format=self.llm_response_format,
        )
