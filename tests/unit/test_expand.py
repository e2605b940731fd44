"""Ranking the next use cases: the reasoning follows the planted facts (audit scores, blocking
findings, the pilot's verdict, risk flags), the ranking responds to the weights as it should,
and bad candidate files stop with one sentence."""

from __future__ import annotations

import json

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from pilot2prod.errors import ParameterError
from pilot2prod.expand import Parameters
from pilot2prod.expand.params import parse_weights
from pilot2prod.expand.ranking import Candidate, ProvenWin, read_candidates, score_candidates
from pilot2prod.expand.result import run

AUDIT = {
    "scorecard": [
        {"source": "tickets", "overall": 96.0},
        {"source": "crm:accounts", "overall": 80.0},
        {"source": "crm:contacts", "overall": 90.0},
        {"source": "orders/2026_01.xlsx", "overall": 70.0},
    ],
    "findings": [
        {"source": "crm:accounts", "severity": "blocking", "message": "60 duplicate keys."},
        {"source": "tickets", "severity": "minor", "message": "a few blanks."},
    ],
}
EQUAL = {"value": 0.25, "readiness": 0.25, "feasibility": 0.25, "risk": 0.25}


def _candidate(name: str, **kw) -> Candidate:
    return Candidate(
        name=name,
        annual_value=kw.pop("annual_value", 100.0),
        sources=kw.pop("sources", ("tickets",)),
        approach=kw.pop("approach", "classifier"),
        **kw,
    )


def test_readiness_comes_from_the_audit_and_blocking_findings_hold_a_candidate_up():
    table = score_candidates(
        [
            _candidate("clean"),
            _candidate("crm", sources=("crm",)),
            _candidate("new", sources=("x",)),
        ],
        AUDIT,
        ProvenWin(""),
        EQUAL,
    ).set_index("candidate")
    assert table.loc["clean", "readiness"] == pytest.approx(0.96)
    # "crm" covers both of its sheets; one has a blocking finding: the mean is halved.
    assert table.loc["crm", "readiness"] == pytest.approx(0.5 * (0.80 + 0.90) / 2)
    assert table.loc["crm", "blocked"] and not table.loc["clean", "blocked"]
    assert table.loc["new", "readiness"] == pytest.approx(0.5)
    assert "not audited: x" in table.loc["new", "reasoning"]
    assert "held up by 1 blocking finding" in table.loc["crm", "reasoning"]


def test_building_on_the_pilot_counts_only_when_the_pilot_proved_its_win():
    def feasibility(win: ProvenWin) -> float:
        table = score_candidates([_candidate("extend", builds_on_pilot=True)], None, win, EQUAL)
        return float(table.loc[0, "feasibility"])

    plain = score_candidates([_candidate("alone")], None, ProvenWin(""), EQUAL).loc[0]
    assert feasibility(ProvenWin("MET")) == pytest.approx(plain["feasibility"] + 0.15)
    assert feasibility(ProvenWin("MET", ["reopen rate"])) == pytest.approx(plain["feasibility"])
    assert feasibility(ProvenWin("NOT MET")) == pytest.approx(plain["feasibility"] - 0.1)


def test_risk_flags_lower_the_risk_score_and_employment_decisions_most():
    table = score_candidates(
        [
            _candidate("safe"),
            _candidate("customers", risks=("customer_facing",)),
            _candidate("staff", risks=("decisions_about_people",)),
        ],
        None,
        ProvenWin(""),
        EQUAL,
    ).set_index("candidate")
    assert table.loc["safe", "risk"] == 1.0
    assert table.loc["customers", "risk"] == pytest.approx(0.8)
    assert table.loc["staff", "risk"] == pytest.approx(0.6)
    assert "EU AI Act high-risk" in table.loc["staff", "reasoning"]


@settings(max_examples=100, deadline=None)
@given(
    values=st.lists(st.floats(0, 1e7), min_size=2, max_size=6),
    bump=st.floats(1.0, 1e6),
    which=st.integers(0, 5),
)
def test_more_value_never_lowers_a_candidates_rank(values, bump, which):
    which %= len(values)
    candidates = [_candidate(f"c{i}", annual_value=v) for i, v in enumerate(values)]
    before = score_candidates(
        candidates, AUDIT, ProvenWin(""), parse_weights("value:1,readiness:1,feasibility:1,risk:1")
    )
    rank_before = int(before.set_index("candidate").loc[f"c{which}", "rank"])
    candidates[which] = _candidate(f"c{which}", annual_value=values[which] + bump)
    after = score_candidates(
        candidates, AUDIT, ProvenWin(""), parse_weights("value:1,readiness:1,feasibility:1,risk:1")
    )
    assert int(after.set_index("candidate").loc[f"c{which}", "rank"]) <= rank_before


def test_the_weights_decide_between_value_and_readiness():
    rich = _candidate("rich", annual_value=1000.0, sources=("orders",))
    ready = _candidate("ready", annual_value=400.0, sources=("tickets",))
    by_value = score_candidates(
        [rich, ready],
        AUDIT,
        ProvenWin(""),
        parse_weights("value:1,readiness:0,feasibility:0,risk:0"),
    )
    by_data = score_candidates(
        [rich, ready],
        AUDIT,
        ProvenWin(""),
        parse_weights("value:0,readiness:1,feasibility:0,risk:0"),
    )
    assert by_value.loc[0, "candidate"] == "rich" and by_data.loc[0, "candidate"] == "ready"


def test_the_sample_candidates_with_an_audit_and_a_breached_pilot(tmp_path, repo_root):
    audit = tmp_path / "audit.json"
    audit.write_text(json.dumps(AUDIT | {"scorecard": AUDIT["scorecard"]}))
    impact = tmp_path / "results.json"
    impact.write_text(
        json.dumps(
            {"verdict": "MET", "guardrails": [{"guardrail": "reopen rate", "status": "breached"}]}
        )
    )
    p = Parameters.parse(
        {
            "candidates_path": str(repo_root / "datasets" / "acme" / "next_use_cases.yaml"),
            "audit_path": str(audit),
            "impact_path": str(impact),
        }
    )
    result = run(p)
    assert len(result.ranking) == 5 and result.currency == "EUR"
    assert "breached" in result.headline().answer
    assert result.results()["statement"] == result.headline().answer


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("candidates: []", "lists no candidates"),
        ("- a\n- b", "is not a file of candidate use cases"),
        (
            "candidates:\n  - {name: A, annual_value: -1, sources: [t], approach: rules}",
            "annual_value",
        ),
        (
            "candidates:\n  - {name: A, annual_value: 1, sources: [t], approach: deep learning}",
            "approach",
        ),
        ("candidates:\n  - {name: A, annual_value: 1, approach: rules}", "names no sources"),
        (
            "candidates:\n  - {name: A, annual_value: 1, sources: [t], approach: rules, "
            "risks: [fun]}",
            "risk 'fun'",
        ),
        (
            "candidates:\n  - {name: A, annual_value: 1, sources: [t], approach: rules, valu: 2}",
            "unknown field 'valu'",
        ),
        (
            "candidates:\n  - {name: A, annual_value: 1, sources: [t], approach: rules}\n"
            "  - {name: A, annual_value: 2, sources: [t], approach: rules}",
            "listed twice",
        ),
        ("candidates: [: :", "cannot be read as a file of candidate"),
    ],
)
def test_bad_candidate_files_stop_with_one_sentence(tmp_path, content, message):
    path = tmp_path / "candidates.yaml"
    path.write_text(content)
    with pytest.raises(ParameterError, match=message):
        read_candidates(path)


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ("value:1,readiness:1", "lacks feasibility, risk"),
        ("value:1,readines:1,feasibility:1,risk:1", "'readines:1'"),
        ("value:x,readiness:1,feasibility:1,risk:1", "'x' is not a number"),
        ("value:0,readiness:0,feasibility:0,risk:0", "at least one weight"),
    ],
)
def test_bad_weights_are_refused(weights, message):
    with pytest.raises(ParameterError, match=message):
        parse_weights(weights)


def test_an_audit_or_impact_file_of_the_wrong_kind_is_refused(tmp_path, repo_root):
    wrong = tmp_path / "other.json"
    wrong.write_text(json.dumps({"notebook": "03_simple_vs_rag"}))
    candidates = str(repo_root / "datasets" / "acme" / "next_use_cases.yaml")
    with pytest.raises(ParameterError, match="audit_path"):
        run(Parameters.parse({"candidates_path": candidates, "audit_path": str(wrong)}))
    with pytest.raises(ParameterError, match="impact_path"):
        run(Parameters.parse({"candidates_path": candidates, "impact_path": str(wrong)}))
    assert yaml.safe_load((repo_root / "engagements" / "acme.yaml").read_text())[
        "07_next_use_cases"
    ]
