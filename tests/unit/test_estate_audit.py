"""The Chapter 2 audit on the sample company's estate finds every planted defect."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from pilot2prod.audit import Parameters, run, write_outputs


@pytest.fixture(scope="module")
def audit(dataset_dir, truth):
    export = pd.Timestamp(truth["history"]["export"])
    inventory = str(dataset_dir / "estate" / "inventory.yaml")
    return run(Parameters.parse({"sources": inventory, "as_of": str(export)}))


def messages(audit, source: str) -> str:
    return " | ".join(f.message for f in audit.audits[source].findings)


def test_every_planted_defect_is_found(audit, truth):
    planted = truth["estate"]
    exports = planted["order_exports"]
    assert f"order_exports/{exports['file_without_header']}" in audit.audits
    assert "has no header row" in messages(audit, f"order_exports/{exports['file_without_header']}")
    drift = " ".join(
        m
        for a in audit.audits.values()
        for m in [f.message for f in a.findings]
        if "different headers" in m
    )
    assert "order_exports" in drift and "2026_06" in drift
    for header in exports["headers_after"]:
        assert header in drift

    events = messages(audit, "ticket_events")
    assert f"{planted['ticket_events']['exact_duplicate_rows']} rows repeat another row" in events
    assert f"{planted['ticket_events']['duplicate_keys']} rows reuse a value" in events
    assert set(audit.audits["ticket_events"].personal_data) == {"ip"}

    payments = audit.audits["payments"]
    amount = payments.validity.set_index("column").loc["amount_eur"]
    assert amount["high_fence"] < 50_000  # every planted amount (50k-90k) is beyond the fence
    assert amount["outliers"] >= planted["payments"]["far_out_amounts"]
    assert "payment_card" in payments.personal_data["card_number"]

    assert "581 days old" in messages(audit, "legacy_sla_report")
    assert "Nobody is named as the owner" in messages(audit, "legacy_sla_report")

    suppliers = audit.audits["suppliers"]
    city = suppliers.profile.set_index("column").loc["city"]
    assert city["placeholders"] == planted["suppliers_latin1"]["placeholder_city"]
    assert "'payment_terms_days' mixes types" in messages(audit, "suppliers")
    assert set(suppliers.personal_data) == {"iban"}

    relations = {(r["source"], r["column"]): r for r in audit.relations}
    shipments = relations[("warehouse:shipments", "customer_id")]
    assert (shipments["orphan_rows"], shipments["orphan_keys"]) == (
        planted["warehouse"]["orphan_rows_total"],
        planted["warehouse"]["orphan_keys_total"],
    )
    assert "TableNotFound" in messages(audit, "warehouse_returns")

    tickets = relations[("tickets", "customer_id")]
    assert tickets["orphan_rows"] == truth["defects"]["tickets_without_crm_account"]["tickets"]
    clock_errors = truth["defects"]["tickets_end_before_start"]["count"]
    assert f"{clock_errors} rows break the rule: 'resolved_at' is not before" in messages(
        audit, "tickets"
    )

    crm = messages(audit, "crm_accounts:accounts")
    assert f"{truth['defects']['crm']['exact_duplicate_rows']} rows repeat another row" in crm
    assert "'customer_since' holds dates in 4 formats" in crm
    # The planted near-duplicate accounts (one company spelled several ways) are reported.
    variants = next(
        f
        for f in audit.audits["crm_accounts:accounts"].findings
        if f.column == "company_name" and "spellings" in f.message
    )
    near = truth["defects"]["crm"]["near_duplicate_account_ids"]
    assert variants.value >= len(near) / 2


def test_no_personal_data_reported_in_clean_columns(audit, truth):
    for source, columns in truth["estate"]["clean_columns"].items():
        found = set(audit.audits[source].personal_data)
        assert not found & set(columns), source
    tickets_clean = truth["defects"]["personal_data_in_ticket_body"]["clean_columns"]
    assert not set(audit.audits["tickets"].personal_data) & set(tickets_clean)
    exports = [name for name in audit.audits if name.startswith("order_exports/")]
    assert len(exports) == truth["estate"]["order_exports"]["files"]
    for name in exports:  # order numbers whose digits are a valid phone number elsewhere
        assert audit.audits[name].personal_data == truth["estate"]["order_exports"]["personal_data"]


def test_gate_and_outputs(audit, tmp_path):
    assert not audit.scorecard.go
    findings = audit.scorecard.findings()
    severities = list(findings["severity"])
    assert severities == sorted(severities, key=["blocking", "major", "minor", "info"].index)
    written = write_outputs(audit, tmp_path)
    report = json.loads(written["audit"].read_text())
    assert report["go"] is False and report["gate"].startswith("NO-GO")
    assert len(report["sources"]) == len(audit.audits)
    opened = [o.spec.name for o in audit.estate.opened]
    assert all(f"contract:{name}" in written for name in opened)
    text = written["audit"].read_text() + "".join(
        p.read_text() for k, p in written.items() if k.startswith("datasheet:")
    )
    for raw in ("4111111111111111", "example-mail.com", "DE89370400440532013000"):
        assert raw not in text  # masked samples only
