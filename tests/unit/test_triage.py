"""Chapter 3: the ladder's parts against planted truth, the LLM rung against a fake endpoint."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from llm_server import FakeLLM
from sklearn.metrics import f1_score

from pilot2prod.errors import DataQualityError, DataSourceError, ParameterError
from pilot2prod.paths import SAMPLE_DIR
from pilot2prod.triage import evaluation as ev
from pilot2prod.triage.data import (
    Examples,
    LabelFindings,
    Split,
    load_examples,
    load_knowledge_base,
    near_duplicates,
    suspected_label_typos,
)
from pilot2prod.triage.llm import parse_label
from pilot2prod.triage.models import KeywordRules, TfidfLinear, fit_temperature, softmax
from pilot2prod.triage.params import Parameters
from pilot2prod.triage.result import run_on_split

TOPICS = {
    "billing": ["invoice", "charge", "payment", "vat", "bill"],
    "access": ["password", "login", "locked", "sign", "reset"],
    "delivery": ["parcel", "courier", "tracking", "shipment", "late"],
    "bugs": ["crash", "error", "screen", "freeze", "update"],
}
FILLER = ["please", "help", "today", "again", "my", "the", "is", "not", "working", "still"]


def synthetic(n: int = 400, seed: int = 0, noise: float = 0.0) -> pd.DataFrame:
    """Texts built from topic words plus filler; ``noise`` of the labels are flipped."""
    rng = np.random.default_rng(seed)
    labels = rng.choice(list(TOPICS), size=n)
    rows = []
    for i, label in enumerate(labels):
        words = list(rng.choice(TOPICS[label], size=3)) + list(rng.choice(FILLER, size=5))
        rng.shuffle(words)
        recorded = label
        if rng.random() < noise:
            recorded = rng.choice([t for t in TOPICS if t != label])
        rows.append({"id": f"S{i}", "text": f"{' '.join(words)} ref {i}", "label": recorded})
    return pd.DataFrame(rows)


def write_examples(tmp_path: Path, frame: pd.DataFrame, name: str = "examples.csv") -> str:
    path = tmp_path / name
    frame.rename(columns={"text": "message", "label": "intent"}).to_csv(path, index=False)
    return str(path)


# --------------------------------------------------------------------------- data checks
def test_fewer_than_two_classes(tmp_path):
    frame = synthetic(50).assign(label="billing")
    with pytest.raises(DataQualityError, match="needs at least two classes"):
        load_examples(write_examples(tmp_path, frame), ["message"], "intent")


def test_class_with_one_example_is_named(tmp_path):
    frame = synthetic(100)
    frame.loc[0, "label"] = "fraud"
    path = write_examples(tmp_path, frame)
    with pytest.raises(DataQualityError, match="class 'fraud' has only 1 example"):
        load_examples(path, ["message"], "intent")
    examples = load_examples(path, ["message"], "intent", drop_rare_classes=True)
    assert examples.findings.dropped_rare_classes == {"fraud": 1}
    assert "fraud" not in examples.labels


def test_empty_texts_are_counted_and_dropped(tmp_path):
    frame = synthetic(100)
    frame.loc[[1, 2, 3], "text"] = ["", "   ", None]
    examples = load_examples(write_examples(tmp_path, frame), ["message"], "intent")
    assert examples.findings.empty_texts == 3
    assert examples.findings.rows_used == 97
    everything_empty = frame.assign(text="")
    with pytest.raises(DataQualityError, match="every row has an empty text"):
        load_examples(write_examples(tmp_path, everything_empty, "e.csv"), ["message"], "intent")


def test_label_typos_are_found_and_can_be_merged(tmp_path):
    frame = synthetic(400)
    frame.loc[:3, "label"] = "Billing "
    frame.loc[4:6, "label"] = "deliverry"
    path = write_examples(tmp_path, frame)
    with pytest.raises(DataQualityError, match="look like typos") as err:
        load_examples(path, ["message"], "intent")
    assert "merge_label_typos=True" in str(err.value)
    examples = load_examples(path, ["message"], "intent", merge_label_typos=True)
    assert examples.labels == sorted(TOPICS)
    assert examples.findings.merged_typo_rows == 7  # 4 'Billing' and 3 'deliverry'
    assert examples.findings.suspected_typos == {"Billing": "billing", "deliverry": "delivery"}


def test_suspected_typos_leave_distinct_labels_alone():
    counts = pd.Series(
        {
            "login_problem": 500,
            "password_reset": 480,
            "logn_problem": 4,
            "refund": 300,
            "refunds": 250,
        }
    )
    assert suspected_label_typos(counts) == {"logn_problem": "login_problem"}


def test_missing_text_column_lists_columns(tmp_path):
    path = write_examples(tmp_path, synthetic(20))
    with pytest.raises(DataSourceError, match="column 'text' is not in"):
        load_examples(path, ["text"], "intent")


def test_knowledge_base_folder_and_table(tmp_path):
    folder = tmp_path / "kb"
    folder.mkdir()
    (folder / "KB-001-reset.md").write_text("---\nid: KB-001\n---\n# Reset\nUse the reset link.")
    (folder / "KB-002-vat.html").write_text("<h1>VAT</h1><p>Add your VAT &amp; tax id.</p>")
    (folder / "notes.bin").write_bytes(b"\x00\x01")
    docs = load_knowledge_base(str(folder))
    assert list(docs["doc_id"]) == ["KB-001", "KB-002-vat"]  # front matter, else the stem
    assert docs["text"].iloc[1] == "VAT Add your VAT & tax id."
    assert "id: KB-001" not in docs["text"].iloc[0]
    empty = tmp_path / "empty_kb"
    empty.mkdir()
    (empty / "latin.txt").write_bytes("caf\xe9".encode("latin-1"))
    with pytest.raises(DataSourceError, match="no readable Markdown, text or HTML files"):
        load_knowledge_base(str(empty))
    table = tmp_path / "kb.csv"
    pd.DataFrame({"doc": ["A", "B"], "body": ["one", "two"]}).to_csv(table, index=False)
    assert load_knowledge_base(str(table), "doc", "body")["doc_id"].tolist() == ["A", "B"]


def test_near_duplicates_find_planted_copies_only():
    train = pd.Series(
        [f"my parcel number {i} is late again" for i in range(50)]
        + ["completely unrelated words here"]
    )
    test = pd.Series(
        [
            "completely unrelated words here",
            "totally different text about vat",
            "My  parcel number 7 is late again",
        ]
    )
    found = near_duplicates(train, test)
    assert set(found["test_index"]) == {0, 2}
    assert found.set_index("test_index").loc[0, "train_index"] == 50


# --------------------------------------------------------------------------- evaluation
def test_macro_f1_matches_scikit_learn():
    rng = np.random.default_rng(1)
    classes = np.array(["a", "b", "c", "d"])
    truth = rng.choice(classes, 300)
    pred = np.where(rng.random(300) < 0.7, truth, rng.choice(classes, 300)).astype(object)
    pred[:10] = None  # abstentions
    q = ev.quality(truth, pred, classes, n_resamples=200)
    expected = f1_score(
        truth,
        np.where(pred == None, "none", pred).astype(str),  # noqa: E711
        labels=classes,
        average="macro",
    )
    assert q["macro_f1"].estimate == pytest.approx(expected)
    assert q["accuracy"].estimate == pytest.approx(np.mean(truth == pred))


def test_accuracy_interval_coverage():
    rng = np.random.default_rng(2)
    hits = 0
    for k in range(200):
        truth = np.array(["x"] * 400)
        pred = np.where(rng.random(400) < 0.8, "x", "y").astype(object)
        ci = ev.quality(truth, pred, np.array(["x", "y"]), n_resamples=400, seed=k)["accuracy"]
        hits += ci.low <= 0.8 <= ci.high
    assert 0.9 <= hits / 200 <= 0.99


def test_expected_calibration_error_detects_overconfidence():
    rng = np.random.default_rng(3)
    confidence = rng.uniform(0.3, 1.0, 20000)
    calibrated = rng.random(20000) < confidence
    assert ev.expected_calibration_error(confidence, calibrated) < 0.02
    overconfident = rng.random(20000) < confidence - 0.2
    assert ev.expected_calibration_error(confidence, overconfident) == pytest.approx(0.2, abs=0.03)


def test_temperature_scaling_repairs_overconfident_scores():
    rng = np.random.default_rng(4)
    n, k = 6000, 5
    logits = rng.normal(0, 2, (n, k))  # calibrated: labels are drawn from softmax(logits)
    cumulative = softmax(logits).cumsum(axis=1)
    labels = (rng.random((n, 1)) > cumulative).sum(axis=1)
    scores = logits * 4  # four times too confident
    t = fit_temperature(scores, labels)
    assert t == pytest.approx(4, rel=0.15)
    before = softmax(scores)
    after = softmax(scores, t)
    correct = before.argmax(1) == labels
    assert (
        ev.expected_calibration_error(after.max(1), correct)
        < ev.expected_calibration_error(before.max(1), correct) / 3
    )


def test_coverage_threshold_is_chosen_on_one_half_and_measured_on_the_other():
    rng = np.random.default_rng(5)
    confidence = rng.uniform(0, 1, 4000)
    correct = rng.random(4000) < confidence  # calibrated: precision of top share is known
    choose = np.zeros(4000, dtype=bool)
    choose[:2000] = True
    cov = ev.coverage_at_precision(confidence, correct, 0.9, choose)
    # Routing everything above t has precision (1 + t) / 2 = 0.9 at t = 0.8: coverage 20 %.
    assert cov.threshold == pytest.approx(0.8, abs=0.05)
    assert cov.coverage == pytest.approx(0.2, abs=0.04)
    assert cov.precision == pytest.approx(0.9, abs=0.03)
    assert cov.evaluated == 2000


def test_tied_confidences_route_all_or_nothing():
    # The majority-class rung: one confidence for every ticket, a third of them right. The first
    # ticket in the order happens to be right, which must not make "everything" a threshold.
    confidence = np.full(600, 0.4)
    correct = np.zeros(600, dtype=bool)
    correct[::3] = True
    correct[0] = True
    choose = np.arange(600) % 2 == 0
    cov = ev.coverage_at_precision(confidence, correct, 0.9, choose)
    assert cov.routed == 0 and cov.coverage == 0.0 and cov.threshold == np.inf
    # Two tie groups: the confident one is all right, the other a third right.
    confidence[:200] = 0.9
    correct[:200] = True
    cov = ev.coverage_at_precision(confidence, correct, 0.9, choose)
    assert cov.threshold == 0.9 and cov.precision == 1.0
    assert cov.coverage == pytest.approx(200 / 600)


def test_mcnemar_reading_never_calls_a_large_p_value_equivalence():
    a = np.arange(300) % 5 != 0  # 80 % right
    b = a.copy()
    b[np.flatnonzero(a)[:9]] = False  # 9 tickets only the first gets right,
    b[np.flatnonzero(~a)[:5]] = True  # 5 only the second
    test = ev.mcnemar_test(a, b)
    assert test["p_value"] > 0.05
    reading = ev.mcnemar_reading(test, "TF-IDF", "rules")
    assert "no clear evidence" in reading and "does not make them equally good" in reading
    assert test["difference_low"] < test["accuracy_difference"] < test["difference_high"]
    assert test["difference_low"] < 0 < test["difference_high"]
    # Calibration of the interval: it covers the true paired difference about 95 % of the time.
    covered = 0
    for seed in range(300):
        r = np.random.default_rng(seed)
        first = r.random(400) < 0.8
        second = np.where(r.random(400) < 0.15, r.random(400) < 0.75, first)
        truth = 0.15 * (0.8 - 0.75)
        t = ev.mcnemar_test(first, second)
        covered += t["difference_low"] <= truth <= t["difference_high"]
    assert 0.91 <= covered / 300 <= 0.99
    strong = ev.mcnemar_test(np.ones(200, bool), np.arange(200) % 2 == 0)
    assert ev.mcnemar_reading(strong, "TF-IDF", "rules").startswith("TF-IDF is right on more")


def test_projected_effect_says_when_the_pilot_cannot_reach_its_target():
    from types import SimpleNamespace

    from pilot2prod.handoff import Baseline, MetricData, MetricDefinition, MetricSpec, Target
    from pilot2prod.triage import Parameters
    from pilot2prod.triage.recommend import projected_effect

    spec = MetricSpec(
        "Median resolution time drops 20 %.",
        MetricDefinition("median", "median resolution time", "hours", True),
        MetricData("tickets", {}),
        Baseline("2026-01-01", "2026-03-01", "2026-03-02", 20.0, 18.0, 22.0, 900, 40),
        Target(-0.2, 16.0, 0.05, 0.8, "ticket", 100.0, 6),
    )
    p = Parameters(minutes_saved_per_routed_ticket=20)
    chosen = SimpleNamespace(coverage=SimpleNamespace(coverage=0.6), out_of_scope=None)
    out = projected_effect(chosen, p, spec)
    # 0.6 x 20 min = 12 min of a 20-hour (1,200-minute) baseline: 1 %, twenty times too small.
    assert out["projected_relative_change"] == pytest.approx(-0.01)
    assert out["reaches_target"] is False
    assert "cannot reach its own target of 20%" in out["projected_effect"]
    assert "20 times too small" in out["projected_effect"]
    assert "about 400 minutes" in out["projected_effect"]  # 0.2 x 1,200 / 0.6
    p = Parameters(minutes_saved_per_routed_ticket=500)
    out = projected_effect(chosen, p, spec)
    assert out["reaches_target"] is True and "reaches the signed target" in out["projected_effect"]


def test_mcnemar_and_retrieval_metrics_and_break_even():
    a = np.array([True] * 60 + [False] * 40)
    b = np.array([True] * 40 + [False] * 20 + [True] * 5 + [False] * 35)
    result = ev.mcnemar_test(a, b)
    assert (result["only_first_right"], result["only_second_right"]) == (20, 5)
    assert result["p_value"] < 0.01
    ranked = np.array([[3, 1, 2], [1, 2, 3], [2, 3, 1], [4, 5, 6]])
    q = ev.retrieval_quality(ranked, np.array([1, 1, 1, 1]), ks=(1, 3))
    assert q["recall@1"] == 0.25 and q["recall@3"] == 0.75
    assert q["mrr"] == pytest.approx((1 / 2 + 1 + 1 / 3) / 4)
    assert q["ndcg@3"] == pytest.approx((1 / np.log2(3) + 1 + 0.5) / 4)
    assert ev.break_even_items(0.0, 0.002, 10.0, 0.0) == pytest.approx(5000)
    assert ev.break_even_items(10.0, 0.0, 0.0, 0.002) == pytest.approx(5000)
    assert ev.break_even_items(0.0, 0.0, 10.0, 0.002) is None  # B is dearer at every volume


def test_parse_label_counts_invalid_answers_as_abstentions():
    labels = ["billing", "access", "bill_disputes"]
    assert parse_label("billing", labels) == "billing"
    assert parse_label(" `Access`. ", labels) == "access"
    assert parse_label("The category is billing.", labels) == "billing"
    assert parse_label("billing or access", labels) is None
    assert parse_label("something about money", labels) is None
    assert parse_label("bill_disputes", labels) == "bill_disputes"
    assert parse_label('{"category": "access"}', labels) == "access"  # a constrained answer
    assert parse_label('{"category": "unknown"}', labels) is None  # none fits: abstained
    assert parse_label('{"other": 1}', labels) is None


# --------------------------------------------------------------------------- models
def test_keyword_rules_learn_the_planted_topic_words():
    frame = synthetic(600)
    rules = KeywordRules().fit(frame["text"].tolist(), frame["label"].to_numpy())
    for topic, words in TOPICS.items():
        learned = {k for k, _ in rules.rules_[topic][:5]}
        assert len(learned & set(words)) >= 4, (topic, learned)
    pred = rules.predict(["nothing relevant in this sentence"])
    assert pred[0] is None  # no keyword: abstain


def test_tfidf_classifier_accuracy_matches_planted_label_noise():
    train, test = synthetic(1500, seed=6, noise=0.1), synthetic(1000, seed=7, noise=0.1)
    model = TfidfLinear().fit(train["text"].tolist(), train["label"].to_numpy())
    accuracy = np.mean(model.predict(test["text"].tolist()) == test["label"].to_numpy())
    assert accuracy == pytest.approx(0.9, abs=0.03)  # 10 % of test labels are wrong
    proba = model.predict_proba(test["text"].tolist())
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


# --------------------------------------------------------------------------- the ladder + LLM
def small_ladder_inputs(tmp_path, gibberish: int = 0):
    train, test = synthetic(400, seed=8), synthetic(120, seed=9)
    test.loc[: gibberish - 1, "text"] = test.loc[: gibberish - 1, "text"] + " gibberish"
    examples = Examples(
        pd.concat([train, test], ignore_index=True), LabelFindings(rows_used=520), "test"
    )
    kb = tmp_path / "kb"
    kb.mkdir(exist_ok=True)
    for topic, words in TOPICS.items():
        (kb / f"KB-{topic}.md").write_text(f"# {topic}\nArticles about {' '.join(words)}.")
    return examples, Split(train, test, "given"), kb


def params(tmp_path, **extra) -> Parameters:
    values = {
        "examples_path": str(SAMPLE_DIR / "tickets.csv"),
        "text_columns": "subject,body",
        "label_column": "category",
        "kb_path": "",
        "gold_path": "",
        "n_bootstrap": 200,
        "llm_cache_dir": str(tmp_path / "cache"),
        "llm_api_key_env": "",
        "learning_curve_sizes": "5,10",
        "learning_curve_seeds": 1,
    } | extra
    return Parameters.parse(values)


@pytest.mark.slow
def test_ladder_with_llm_uses_context_caches_and_counts_cost(tmp_path):
    examples, split, kb = small_ladder_inputs(tmp_path, gibberish=6)
    with FakeLLM() as fake:
        p = params(
            tmp_path,
            kb_path=str(kb),
            llm_base_url=fake.base_url,
            llm_model="fake",
            llm_price_input_per_1k=0.5,
            llm_price_output_per_1k=2.0,
        )
        first = run_on_split(examples, split, p, with_learning_curve=False)
        assert list(first.ladder.rungs) == [
            "majority",
            "rules",
            "tfidf",
            "embeddings",
            "retrieval",
            "rag",
            "hybrid",
        ]
        rag = first.ladder["rag"]
        llm = rag.approach
        assert len(fake.requests) == llm.requests == len(split.test) == 120
        assert fake.missing_context == 0  # every prompt had tickets and KB passages
        assert llm.abstentions == 6
        assert sum(p is None for p in rag.predictions) == 6
        expected = (llm.prompt_tokens * 0.5 + llm.completion_tokens * 2.0) / 1000
        assert llm.cost() == pytest.approx(expected)
        assert llm.completion_tokens == 3 * 120
        assert rag.cost_per_1000 >= 1000 * expected / 120
        assert any("not a valid label" in f for f in first.findings)
        # Every request holds the answer to the label set (or "unknown") by a JSON schema.
        schema = fake.requests[0]["response_format"]["json_schema"]["schema"]
        assert schema["properties"]["category"]["enum"] == [*sorted(TOPICS), "unknown"]
        hybrid = first.ladder["hybrid"]
        assert hybrid.approach.fallback is llm

        second = run_on_split(examples, split, p, with_learning_curve=False)
        llm2 = second.ladder["rag"].approach
        # The hybrid's unsure tickets went to the LLM again, but from the cache: no request.
        assert len(fake.requests) == 120
        assert llm2.requests == 0 and llm2.cache_hits == 120
        assert llm2.prompt_tokens == llm.prompt_tokens  # cost is accounted from the cache too


@pytest.mark.slow
def test_unreachable_llm_is_a_finding_and_the_ladder_still_runs(tmp_path):
    examples, split, kb = small_ladder_inputs(tmp_path)
    p = params(tmp_path, kb_path=str(kb), llm_base_url="http://127.0.0.1:9/v1", llm_model="m")
    result = run_on_split(examples, split, p, with_learning_curve=False)
    assert any("did not answer" in f for f in result.findings)
    assert "rag" not in result.ladder.rungs
    assert {"tfidf", "hybrid"} <= set(result.ladder.rungs)


@pytest.mark.slow
def test_missing_key_variable_is_a_finding(tmp_path, monkeypatch):
    monkeypatch.delenv("P2P_TEST_KEY", raising=False)
    examples, split, kb = small_ladder_inputs(tmp_path)
    with FakeLLM(require_api_key="s3cret") as fake:
        p = params(
            tmp_path,
            kb_path=str(kb),
            llm_base_url=fake.base_url,
            llm_model="fake",
            llm_api_key_env="P2P_TEST_KEY",
        )
        result = run_on_split(examples, split, p, with_learning_curve=False)
        assert any("P2P_TEST_KEY is not set" in f for f in result.findings)
        monkeypatch.setenv("P2P_TEST_KEY", "s3cret")
        result = run_on_split(examples, split, p, with_learning_curve=False)
        assert "rag" in result.ladder.rungs


def test_parameter_checks(tmp_path):
    with pytest.raises(ParameterError, match="llm_base_url is 'localhost:8000'"):
        params(tmp_path, llm_base_url="localhost:8000", llm_model="m")
    with pytest.raises(ParameterError, match="llm_model is empty"):
        params(tmp_path, llm_base_url="http://localhost:8000/v1")
    with pytest.raises(ParameterError, match="learning_curve_sizes is '5,ten'"):
        params(tmp_path, learning_curve_sizes="5,ten")
    with pytest.raises(ParameterError, match="kb_path: there is no file or folder"):
        params(tmp_path, kb_path="nowhere/kb")
    with pytest.raises(ParameterError, match="label_column is empty"):
        params(tmp_path, label_column="")
    with pytest.raises(ParameterError, match="gold_question_column and gold_doc_column"):
        params(tmp_path, kb_path=str(SAMPLE_DIR / "kb"), gold_path=str(SAMPLE_DIR / "kb_gold.csv"))


def test_leakage_guard_models_never_see_test_texts():
    from pilot2prod.triage.models import Retrieval, WordLlamaEmbedder

    train = synthetic(300, seed=10)
    test_only = "zyxwvut quokkaphone"
    model = TfidfLinear().fit(train["text"].tolist(), train["label"].to_numpy())
    words = model.pipeline_[0].transformer_list[0][1]
    assert "zyxwvut" not in words.vocabulary_ and "quokkaphone" not in words.vocabulary_
    model.predict_proba([test_only])  # predicting does not grow the vocabulary
    assert "quokkaphone" not in words.vocabulary_
    retrieval = Retrieval(WordLlamaEmbedder()).fit(
        train["text"].tolist(), train["label"].to_numpy()
    )
    retrieval.predict_proba([test_only])
    assert len(retrieval.texts_) == len(train) and test_only not in retrieval.texts_


# --------------------------------------------------------------------------- personal data
FIRST = ["Jolanda", "Bartholomew", "Ingrid", "Kwame", "Svetlana", "Thaddeus"]
LAST = ["Przybylska", "Okonkwo", "Lindqvist", "Abernathy", "Castellanos", "Vuković"]


def with_signatures(frame: pd.DataFrame, seed: int = 0) -> tuple[pd.DataFrame, set[str]]:
    """Signatures with names, e-mail addresses, phone numbers and PINs in a third of the texts;
    returns the texts and every planted value (and fragment) that must never reach a model."""
    rng = np.random.default_rng(seed)
    out, planted = frame.copy(), set()
    for i in out.index[rng.random(len(out)) < 0.35]:
        first, last = rng.choice(FIRST), rng.choice(LAST)
        email = f"{first.lower()}.{last.lower()}{i}@example-mail.com"
        phone = f"+49 30 2{rng.integers(1000000, 9999999)}"
        pin = f"{rng.integers(1000, 9999)}"
        out.loc[i, "text"] += f" my PIN is {pin}. Thanks -- {first} {last}, {email}, tel. {phone}"
        planted |= {first.lower(), last.lower(), email, phone, pin, "mail", f"{last.lower()}{i}"}
    return out, planted


def _vocabularies(model) -> set[str]:
    """Every word a fitted approach holds: scikit-learn vocabularies and keyword rules,
    searched recursively through the pipeline."""
    import sklearn.pipeline

    words: set[str] = set()
    seen: set[int] = set()

    def walk(obj, depth=0):
        if id(obj) in seen or depth > 6:
            return
        seen.add(id(obj))
        if hasattr(obj, "vocabulary_") and isinstance(obj.vocabulary_, dict):
            words.update(obj.vocabulary_)
        if hasattr(obj, "rules_"):
            words.update(k for rules in obj.rules_.values() for k, _ in rules)
        if isinstance(obj, sklearn.pipeline.Pipeline):
            for _, step in obj.steps:
                walk(step, depth + 1)
        for value in getattr(obj, "__dict__", {}).values():
            if isinstance(value, list | tuple):
                for v in value:
                    walk(v, depth + 1)
            elif hasattr(value, "__dict__") and not isinstance(value, type):
                walk(value, depth + 1)

    walk(model)
    return {w for phrase in words for w in str(phrase).split()}


@pytest.mark.slow
def test_personal_data_never_reaches_a_model_the_llm_or_an_output(tmp_path):
    from pilot2prod.production.model_store import load_verified
    from pilot2prod.triage.result import export_model, run

    frame, planted = with_signatures(synthetic(600, seed=10))
    path = write_examples(tmp_path, frame)
    with FakeLLM() as fake:
        p = params(
            tmp_path,
            examples_path=path,
            text_columns="message",
            label_column="intent",
            id_column="id",
            llm_base_url=fake.base_url,
            llm_model="fake",
            llm_max_items=40,
        )
        result = run(p, with_learning_curve=False)
        prompts = str(fake.requests)
    masked = result.examples.findings.masked
    assert masked["email"] == masked["phone"] == frame["text"].str.contains("@").sum()
    assert masked["person_name"] >= 2 * masked["email"] and masked["number"] >= masked["email"]
    folder = export_model(result, tmp_path / "out").parent
    for rung in result.ladder:
        vocabulary = _vocabularies(rung.approach)
        assert not vocabulary & planted, (rung.id, sorted(vocabulary & planted)[:5])
    exported = load_verified(next(folder.glob("*.skops")))
    assert _vocabularies(exported) and not _vocabularies(exported) & planted
    texts = " ".join(result.split.train["text"]) + " ".join(result.split.test["text"])
    outputs = [prompts, texts, str(result.keyword_rules.rules_), str(result.confusions)]
    outputs += [f.read_text(errors="replace") for f in folder.rglob("*") if f.suffix != ".skops"]
    for value in planted - {"mail"}:
        # (as a word of its own: a hash in the metadata may well hold the digits 3939)
        found = re.compile(rf"(?<![\w.@]){re.escape(value)}(?![\w@])", re.IGNORECASE)
        assert not any(found.search(text) for text in outputs), value


# --------------------------------------------------------------------------- protocols
def with_out_of_scope(frame: pd.DataFrame, share: float, seed: int) -> pd.DataFrame:
    """Requests that fit no queue: filler words only, labelled 'oos'."""
    rng = np.random.default_rng(seed)
    n = int(share * len(frame))
    rows = [
        {"id": f"O{seed}-{i}", "text": " ".join(rng.choice(FILLER, 7)), "label": "oos"}
        for i in range(n)
    ]
    return pd.concat([frame, pd.DataFrame(rows)], ignore_index=True)


@pytest.mark.slow
def test_a_given_test_file_and_out_of_scope_requests(tmp_path):
    from pilot2prod.triage.result import run

    train = with_out_of_scope(synthetic(500, seed=11, noise=0.05), 0.15, seed=1)
    test = with_out_of_scope(synthetic(300, seed=12, noise=0.05), 0.15, seed=2)
    p = params(
        tmp_path,
        examples_path=write_examples(tmp_path, train),
        test_path=write_examples(tmp_path, test, "official_test.csv"),
        text_columns="message",
        label_column="intent",
        out_of_scope_label="oos",
        minutes_saved_per_routed_ticket=5,
        target_precision=0.8,
        min_coverage=0.3,
    )
    result = run(p, with_learning_curve=False)
    split = result.split
    assert (
        split.policy == "given" and len(split.test) == len(test) and len(split.train) == len(train)
    )
    assert "test_path" in split.protocol
    mix = split.class_mix().set_index("class")
    assert mix.loc["oos", "test share"] == pytest.approx((test["label"] == "oos").mean())
    choose = np.zeros(len(split.test), dtype=bool)
    from pilot2prod.triage.ladder import threshold_half

    choose = threshold_half(len(split.test), p.seed)
    for rung in result.ladder:
        oos = rung.out_of_scope
        measured = ~choose[rung.items]
        is_oos = (rung.truth == "oos") & measured
        assert oos["test_items"] == is_oos.sum()
        assert oos["recall"] == pytest.approx(np.mean(rung.predictions[is_oos] == "oos"))
        routing = np.where(rung.predictions == "oos", 0.0, rung.confidence)
        routed = (routing >= rung.coverage.threshold) & (routing > 0)
        assert oos["routed_to_a_queue"] == (is_oos & routed).sum()
        # An item sent to "none of these" is never counted as routed automatically.
        assert rung.coverage.routed == (routed & measured).sum()
    tfidf = result.ladder["tfidf"].out_of_scope
    assert tfidf["recall"] > 0.8  # filler-only texts are easy to tell apart here
    rec = result.recommendation
    chosen = result.ladder[rec["approach"]]
    useful = chosen.coverage.coverage - chosen.out_of_scope["routed_share_of_measured"]
    assert rec["minutes_saved_per_ticket"] == pytest.approx(5 * useful)
    assert "out-of-scope recall" in result.summary().columns
    assert set(result.results()["out_of_scope"]) == set(result.ladder.rungs)


def test_a_test_file_without_the_columns_names_the_file_and_the_column(tmp_path):
    from pilot2prod.triage.result import run

    path = write_examples(tmp_path, synthetic(200, seed=3))
    other = tmp_path / "test.csv"
    synthetic(50, seed=4).to_csv(other, index=False)  # columns text/label, not message/intent
    p = params(
        tmp_path,
        examples_path=path,
        test_path=str(other),
        text_columns="message",
        label_column="intent",
    )
    with pytest.raises(DataSourceError, match="label_column: column 'intent' is not in 'test.csv'"):
        run(p, with_learning_curve=False)


def test_an_out_of_scope_label_that_is_not_a_label(tmp_path):
    from pilot2prod.triage.result import run

    p = params(
        tmp_path,
        examples_path=write_examples(tmp_path, synthetic(200, seed=3)),
        text_columns="message",
        label_column="intent",
        out_of_scope_label="none_of_these",
    )
    with pytest.raises(DataQualityError, match="out_of_scope_label: 'none_of_these' is not a"):
        run(p, with_learning_curve=False)


def test_a_time_split_leaves_undated_rows_out_and_says_so():
    from pilot2prod.triage.data import split_examples

    frame = synthetic(300, seed=5)
    frame["time"] = pd.date_range("2026-01-01", periods=300, freq="h")
    frame.loc[[3, 7], "time"] = pd.NaT
    split = split_examples(Examples(frame, LabelFindings(), "x"), 0.2, 0, by_time=True)
    assert split.policy == "time" and len(split.train) + len(split.test) == 298
    assert "2 examples without a readable time were left out" in split.protocol
    assert split.test["time"].min() > split.train["time"].max()
    frame["time"] = pd.NaT
    with pytest.raises(DataQualityError, match="time_column: no example has a readable time"):
        split_examples(Examples(frame, LabelFindings(), "x"), 0.2, 0, by_time=True)


def test_the_embedder_leaves_the_logging_configuration_alone():
    import logging

    from pilot2prod.triage.models import WordLlamaEmbedder

    root = logging.getLogger()
    before = (root.level, list(root.handlers))
    WordLlamaEmbedder().embed(["a ticket"])
    assert (root.level, list(root.handlers)) == before  # no INFO lines in a report


def test_long_tables_are_folded_with_a_count_of_what_was_left_out():
    from pilot2prod.notebook import fold

    frame = pd.DataFrame({"class": [f"c{i}" for i in range(150)], "f1": np.linspace(0, 1, 150)})
    folded = fold(frame, 25)
    assert len(folded) == 26 and folded["class"].iloc[-1] == "... 125 more (see results.json)"
    assert np.isnan(folded["f1"].iloc[-1])
    assert fold(frame.head(10), 25).equals(frame.head(10))


def test_a_knowledge_base_as_folders_really_are(tmp_path):
    from pilot2prod.triage.data import KnowledgeBaseReport
    from pilot2prod.triage.ladder import gold_matching
    from pilot2prod.triage.llm import KnowledgeBaseIndex

    kb = tmp_path / "kb"
    (kb / "programming").mkdir(parents=True)
    (kb / ".ipynb_checkpoints").mkdir()
    (kb / "programming" / "programming-013-why-did-my-build-fail.md").write_text(
        "# Why did my build fail?\nCheck the compiler log.", encoding="utf-8"
    )
    (kb / ".ipynb_checkpoints" / "programming-013-why-did-my-build-fail.md").write_text("copy")
    (kb / "declared.md").write_text("---\nid: FAQ-7\n---\nReset your password here.")
    # (files are read in name order: again.md comes first and keeps the id)
    (kb / "windows.txt").write_bytes("Café opening hours: 9–17.".encode("cp1252"))
    (kb / "wide.txt").write_bytes("Résumé upload limits".encode("utf-16"))
    (kb / "empty.md").write_text("   \n")
    (kb / "again.md").write_text("---\nid: FAQ-7\n---\nA second FAQ-7.")
    (kb / "image.html").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    report = KnowledgeBaseReport()
    docs = load_knowledge_base(str(kb), report=report)
    assert set(docs["doc_id"]) == {
        "programming-013-why-did-my-build-fail",  # the file stem, not a cut of it
        "FAQ-7",  # the front matter's id
        "windows",
        "wide",
    }
    text = dict(zip(docs["doc_id"], docs["text"], strict=True))
    assert "Café" in text["windows"] and "Résumé" in text["wide"]
    assert report.files == 7  # the checkpoint copy is not read at all
    assert report.skipped == {
        "declared.md": "repeats the id 'FAQ-7' of again.md",
        "empty.md": "empty",
        "image.html": "not a text file in a known encoding",
    }
    gold = pd.DataFrame(
        {
            "question": ["why no build", "reset", "where"],
            "doc_id": ["programming-013", "FAQ-7", "x"],
        }
    )
    sentence = gold_matching(KnowledgeBaseIndex(docs), gold)
    assert sentence.startswith("1 of 3 gold questions name an article")
    assert "'programming-013'" in sentence and "'FAQ-7'" in sentence


def test_name_like_words_are_masked_whole_and_inside_hyphenated_words():
    """Names are masked word by word (one set lookup each): the same words a pattern
    alternating every name would mask, in any case, inside hyphenated words too."""
    import re

    from pilot2prod.privacy import TEXT_TOKENS, mask_personal_text, name_like_words

    texts = [
        "My colleague Vuković and I called about the refund.",
        "Then Vuković-Smith wrote back: nothing from Jo-Anne either.",
        "VUKOVIĆ sent the invoice to Jo-Anne, not to the shop.",
        "Please ask Smith about the ex-Smith account, the refund is late.",
    ]
    masked, counts = mask_personal_text(texts)
    names = name_like_words(texts)
    assert {"vuković", "smith", "jo-anne"} <= names and "refund" not in names
    # The former implementation: one pattern alternating every name, longest first.
    oracle = re.compile(r"\b(" + "|".join(sorted(names, key=len, reverse=True)) + r")\b", re.I)
    token = TEXT_TOKENS["person_name"]
    for original, out in zip(texts, masked, strict=True):
        assert out == oracle.sub(token, original)
        assert "refund" in out or "invoice" in out or "either" in out  # ordinary words stay
    assert counts["person_name"] == sum(len(oracle.findall(t)) for t in texts)
