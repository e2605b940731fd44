"""The sample company: regenerates identically, and what the manifest says was planted is there."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from pilot2prod.sample_company import SEED, generate, write


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    folder = tmp_path_factory.mktemp("acme")
    write(generate(SEED), folder)
    return folder


def test_committed_files_match_a_fresh_generation(fresh, dataset_dir):
    for name in (
        "tickets.csv",
        "ai_usage.csv",
        "ai_model_log.csv",
        "ai_review_sample.csv",
        "kb_gold.csv",
        "production_window.csv",
    ):
        assert (fresh / name).read_bytes() == (dataset_dir / name).read_bytes(), name
    assert yaml.safe_load((fresh / "TRUTH.yaml").read_text()) == yaml.safe_load(
        (dataset_dir / "TRUTH.yaml").read_text()
    )
    committed = pd.read_excel(dataset_dir / "crm_accounts.xlsx", sheet_name=None, engine="openpyxl")
    regenerated = pd.read_excel(fresh / "crm_accounts.xlsx", sheet_name=None, engine="openpyxl")
    assert committed.keys() == regenerated.keys()
    for sheet in committed:
        pd.testing.assert_frame_equal(committed[sheet], regenerated[sheet])
    kb_committed = sorted(p.name for p in (dataset_dir / "kb").glob("*.md"))
    assert kb_committed == sorted(p.name for p in (fresh / "kb").glob("*.md"))
    for name in kb_committed:
        assert (fresh / "kb" / name).read_text() == (dataset_dir / "kb" / name).read_text()


@pytest.fixture(scope="module")
def tickets(dataset_dir):
    return pd.read_csv(dataset_dir / "tickets.csv", dtype=str, keep_default_na=False)


def test_shape_and_history(tickets, truth):
    assert len(tickets) == truth["history"]["tickets"] == 25_000
    created = pd.to_datetime(tickets["created_at"])
    assert created.min() >= pd.Timestamp(truth["history"]["start"])
    assert created.max() < pd.Timestamp(truth["history"]["export"])
    assert tickets["category"].nunique() == 10
    assert tickets["ticket_id"].is_unique
    assert (tickets["resolved_at"] == "").sum() == truth["defects"]["open_at_export"] > 0


def test_planted_defects_are_in_the_files(tickets, truth, dataset_dir):
    created = pd.to_datetime(tickets["created_at"])
    resolved = pd.to_datetime(tickets["resolved_at"].replace("", None))
    negative = tickets.loc[resolved < created, "ticket_id"].tolist()
    assert negative == truth["defects"]["tickets_end_before_start"]["ticket_ids"]
    for first, second in truth["defects"]["resubmitted_duplicates"]["pairs"]:
        a = tickets.set_index("ticket_id").loc[first]
        b = tickets.set_index("ticket_id").loc[second]
        assert (a["subject"], a["body"]) == (b["subject"], b["body"])
    accounts = pd.read_excel(
        dataset_dir / "crm_accounts.xlsx", sheet_name="accounts", engine="openpyxl"
    )
    orphans = ~tickets["customer_id"].isin(accounts["account_id"])
    assert int(orphans.sum()) == truth["defects"]["tickets_without_crm_account"]["tickets"]
    assert orphans.mean() == pytest.approx(0.07, abs=0.005)
    crm = truth["defects"]["crm"]
    assert len(accounts) == crm["accounts_rows"]
    assert int(accounts.duplicated().sum()) == crm["exact_duplicate_rows"]
    for column, count in crm["missing_values"].items():
        assert int(accounts[column].isna().sum()) == count
    assert accounts["annual_revenue_eur"].isna().mean() > 0.38


def test_planted_treatment_effect_is_visible_in_a_difference_in_differences(tickets, truth):
    launch = pd.Timestamp(truth["ai_triage_launch"]["date"])
    created = pd.to_datetime(tickets["created_at"])
    resolved = pd.to_datetime(tickets["resolved_at"].replace("", None))
    hours = (resolved - created).dt.total_seconds() / 3600
    # Far enough from the export that nearly everything has closed: compare medians.
    frame = pd.DataFrame({"team": tickets["team"], "created": created, "hours": hours})
    frame = frame[
        (frame["created"] >= launch - pd.Timedelta(weeks=26))
        & (frame["created"] < launch + pd.Timedelta(weeks=26))
        & (frame["hours"] > 0)
    ]
    treated = frame["team"].isin(truth["ai_triage_launch"]["treated_teams"])
    after = frame["created"] >= launch
    log_h = np.log(frame["hours"])
    did = (log_h[treated & after].mean() - log_h[treated & ~after].mean()) - (
        log_h[~treated & after].mean() - log_h[~treated & ~after].mean()
    )
    multiplier = truth["ai_triage_launch"]["resolution_time_multiplier"]
    assert np.exp(did) == pytest.approx(multiplier, abs=0.05)


def test_knowledge_base_and_usage_log(dataset_dir, truth):
    articles = list((dataset_dir / "kb").glob("*.md"))
    assert len(articles) == truth["knowledge_base"]["articles"] >= 50
    gold = pd.read_csv(dataset_dir / "kb_gold.csv")
    ids = {p.name[:6] for p in articles}
    assert set(gold["article_id"]) <= ids
    assert len(gold) == truth["knowledge_base"]["gold_questions"]
    usage = pd.read_csv(dataset_dir / "ai_usage.csv")
    assert len(usage) == truth["ai_usage"]["events"]
    rates = usage.groupby("team")["agent_action"].apply(lambda s: (s == "accepted").mean())
    for team, rate in truth["ai_usage"]["observed_accept_rate"].items():
        assert rates[team] == pytest.approx(rate, abs=1e-4)
    assert rates["Billing"] > rates["Logistics"] + 0.15


def test_production_window_drifts_where_the_manifest_says(dataset_dir, truth):
    planted = truth["production_window"]
    window = pd.read_csv(dataset_dir / planted["file"])
    assert len(window) == planted["tickets"]
    after = pd.to_datetime(window["created_at"]) >= pd.Timestamp(planted["drift_from"])
    chat = window["channel"] == "chat"
    assert chat[~after].mean() == pytest.approx(planted["chat_share_before"], abs=0.05)
    assert chat[after].mean() == pytest.approx(planted["chat_share_after"], abs=0.05)
    assert window.loc[after & chat, "body"].str.startswith("Chat transcript.").all()
    assert not window.loc[~after, "body"].str.contains("Ava", regex=False).any()
    assert "category" not in window.columns  # labels arrive late
