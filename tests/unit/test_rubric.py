"""The ML Test Score rubric and the MLOps maturity level, against their definitions."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pilot2prod.errors import ParameterError
from pilot2prod.production import rubric


def test_the_rubric_has_28_tests_in_four_sections_of_seven():
    sections = [t.split(".")[0] for t in rubric.TESTS]
    assert len(rubric.TESTS) == 28
    assert {s: sections.count(s) for s in rubric.SECTIONS} == dict.fromkeys(rubric.SECTIONS, 7)


def test_the_final_score_is_the_weakest_section_and_missing_answers_count_zero():
    answers = {t: "automated" for t in rubric.TESTS if not t.startswith("monitoring")}
    answers |= {"monitoring.1": "manual", "monitoring.2": "manual"}
    evidence = {"infrastructure.7": (1.0, "the rollback drill served the old predictions")}
    result = rubric.ml_test_score(evidence, answers)
    assert result.sections == {"data": 7.0, "model": 7.0, "infrastructure": 7.0, "monitoring": 1.0}
    assert result.score == 1.0 and result.weakest == "monitoring"
    assert result.missing == [f"monitoring.{i}" for i in range(3, 8)]
    assert "serious holes" in result.reading
    row = result.table.set_index("test").loc["infrastructure.7"]
    assert row["source"] == "evidence"


def test_evidence_wins_over_an_answer():
    result = rubric.ml_test_score({"model.5": (1.0, "Chapter 3 compared")}, {"model.5": "no"})
    assert result.table.set_index("test").loc["model.5", "score"] == 1.0


@pytest.mark.parametrize(
    ("answers", "message"),
    [({"model.9": "no"}, "not a test"), ({"model.1": "sometimes"}, "no, manual or automated")],
)
def test_bad_answers_stop_with_one_sentence(answers, message):
    with pytest.raises(ParameterError, match=message):
        rubric.ml_test_score({}, answers)


@settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(list(rubric.TESTS)), st.sampled_from(["no", "manual", "automated"])
    )
)
def test_any_answers_give_a_score_between_0_and_7_read_by_the_paper(answers):
    result = rubric.ml_test_score({}, answers)
    assert 0 <= result.score <= 7 and result.score == min(result.sections.values())
    assert result.reading in {text for _, text in rubric.READINGS}


def test_maturity_levels_build_on_each_other():
    assert rubric.maturity_level({}) == (0, ["ci"])
    assert rubric.maturity_level({"ci": True, "registry": True})[0] == 1
    full = dict.fromkeys(
        [
            "ci",
            "tracked_training",
            "registry",
            "reproducible",
            "gated_release",
            "rollback",
            "monitoring",
            "auto_retraining",
        ],
        True,
    )
    assert rubric.maturity_level(full) == (4, [])
    # Automated retraining without a gated release is still level 2.
    assert rubric.maturity_level(full | {"gated_release": False}) == (2, ["gated_release"])
