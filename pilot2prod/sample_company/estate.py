"""ACME's data estate for the Chapter 2 audit: the files a consultant finds in week one.

Besides the core tables (tickets, CRM workbook, AI usage log) the estate has a folder of
monthly Excel order exports whose headers drift, a JSON Lines event log, a Parquet table of
payments, a stale SLA table nobody refreshes, a semicolon CSV in Latin-1 and a SQLite
database. Every defect planted here is listed, with its size, under ``estate`` in TRUTH.yaml.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ESTATE_SEED = 20_241_105
EXPORT = pd.Timestamp("2026-11-02")


def _orders(rng: np.random.Generator, month: pd.Timestamp, n: int, drifted: bool) -> pd.DataFrame:
    days = rng.integers(0, month.days_in_month, size=n)
    frame = pd.DataFrame(
        {
            "Order ID": [f"SO-{month:%y%m}{i:04d}" for i in range(n)],
            "Order date": [(month + pd.Timedelta(days=int(d))).strftime("%Y-%m-%d") for d in days],
            "Customer": [f"C-{10001 + int(c)}" for c in rng.integers(0, 4000, size=n)],
            "Amount EUR": np.round(np.exp(rng.normal(4.5, 0.8, size=n)), 2),
            "Status": rng.choice(
                ["shipped", "delivered", "returned", "cancelled"], size=n, p=[0.3, 0.55, 0.1, 0.05]
            ),
        }
    )
    if drifted:  # a new export tool from mid-2026 renames the headers
        frame = frame.rename(
            columns={
                "Order ID": "order_id",
                "Order date": "order_date",
                "Customer": "customer_id",
                "Amount EUR": "amount_eur",
                "Status": "status",
            }
        )
    return frame


def build_estate(folder: Path, crm_ids: set[str], seed: int = ESTATE_SEED) -> dict:
    """Write the estate under ``folder`` and return its planted truth. ``crm_ids`` are the
    CRM's account ids, so orphan references can be counted exactly."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    truth: dict = {}

    # 1. Monthly order exports (Excel), headers drift from 2026-06 on; one has no header row.
    exports = folder / "order_exports"
    exports.mkdir(exist_ok=True)
    for old in exports.glob("*.xlsx"):
        old.unlink()
    months = pd.date_range("2025-11-01", "2026-10-01", freq="MS")
    drift_from = pd.Timestamp("2026-06-01")
    for month in months:
        frame = _orders(rng, month, int(rng.integers(40, 80)), month >= drift_from)
        path = exports / f"orders_{month:%Y_%m}.xlsx"
        if month == pd.Timestamp("2026-02-01"):  # exported without its header row
            frame.to_excel(path, index=False, header=False)
        else:
            frame.to_excel(path, index=False)
    truth["order_exports"] = {
        "files": len(months),
        "header_drift_from": str(drift_from.date()),
        "headers_before": ["Order ID", "Order date", "Customer", "Amount EUR", "Status"],
        "headers_after": ["order_id", "order_date", "customer_id", "amount_eur", "status"],
        "file_without_header": "orders_2026_02.xlsx",
        # Order numbers (SO-25110001) end in eight digits, a valid Danish phone number: a code,
        # not personal data. No column of any export holds personal data.
        "personal_data": {},
    }

    # 2. JSON Lines event log of the ticketing system, with duplicated events.
    n_events = 3000
    stamps = EXPORT - pd.to_timedelta(rng.uniform(0, 60, size=n_events), unit="D")
    events = [
        {
            "event_id": f"EV{i:06d}",
            "at": t.strftime("%Y-%m-%dT%H:%M:%S"),
            "type": str(rng.choice(["created", "assigned", "replied", "closed"])),
            "ticket_id": f"T-{100001 + int(rng.integers(0, 25000))}",
            "ip": f"10.{rng.integers(0, 255)}.{rng.integers(0, 255)}.{rng.integers(1, 255)}",
        }
        for i, t in enumerate(stamps.sort_values())
    ]
    duplicates = [dict(events[int(i)]) for i in rng.choice(n_events, size=45, replace=False)]
    lines = events + duplicates
    (folder / "ticket_events.jsonl").write_text(
        "\n".join(json.dumps(e, sort_keys=True) for e in lines) + "\n", encoding="utf-8"
    )
    truth["ticket_events"] = {
        "rows": len(lines),
        "exact_duplicate_rows": 45,
        "duplicate_keys": 45,
        "personal_data": {"ip": "ip_address"},
    }

    # 3. Parquet payments with planted far-out amounts and a card-number column.
    n_pay = 2000
    amounts = np.round(np.exp(rng.normal(4.0, 0.4, size=n_pay)), 2)
    outlier_rows = rng.choice(n_pay, size=12, replace=False)
    amounts[outlier_rows] = np.round(rng.uniform(50_000, 90_000, size=12), 2)
    cards = ["4111111111111111", "5555555555554444", "378282246310005", "6011111111111117"]
    payments = pd.DataFrame(
        {
            "payment_id": [f"P{i:06d}" for i in range(n_pay)],
            "paid_at": (EXPORT - pd.to_timedelta(rng.uniform(0, 30, size=n_pay), unit="D")).floor(
                "s"
            ),
            "amount_eur": amounts,
            "card_number": [cards[int(i)] for i in rng.integers(0, 4, size=n_pay)],
            "method": rng.choice(["card", "invoice"], size=n_pay, p=[0.7, 0.3]),
        }
    )
    # Microsecond timestamps: what Spark and most warehouses write and can read back.
    payments.to_parquet(
        folder / "payments.parquet",
        index=False,
        coerce_timestamps="us",
        allow_truncated_timestamps=True,
    )
    truth["payments"] = {
        "rows": n_pay,
        "far_out_amounts": 12,
        "personal_data": {"card_number": "payment_card"},
    }

    # 4. A stale SLA table: expected weekly, last refreshed in March 2025.
    sla_days = pd.date_range("2025-01-06", "2025-03-31", freq="D")
    pd.DataFrame(
        {
            "day": sla_days.strftime("%Y-%m-%d"),
            "share_within_sla": np.round(rng.uniform(0.6, 0.9, len(sla_days)), 3),
        }
    ).to_csv(folder / "legacy_sla_report.csv", index=False, lineterminator="\n")
    truth["legacy_sla_report"] = {"newest": "2025-03-31", "refresh_days": 7, "stale": True}

    # 5. Suppliers: semicolon CSV in Latin-1 with placeholders, mixed types and IBANs.
    n_sup = 150
    ibans = [
        "DE89370400440532013000",
        "GB82WEST12345698765432",
        "FR1420041010050500013M02606",
        "NL91ABNA0417164300",
    ]
    suppliers = pd.DataFrame(
        {
            "supplier": [f"Lieferant {i} Köln" for i in range(n_sup)],
            "city": rng.choice(["Köln", "Zürich", "Malmö", "São Paulo"], size=n_sup),
            "iban": [ibans[int(i)] for i in rng.integers(0, 4, size=n_sup)],
            "payment_terms_days": [str(int(d)) for d in rng.choice([14, 30, 60], size=n_sup)],
        }
    )
    placeholder_rows = rng.choice(n_sup, size=20, replace=False)
    suppliers.loc[placeholder_rows[:10], "city"] = "N/A"
    suppliers.loc[placeholder_rows[10:], "city"] = "unknown"
    text_terms = rng.choice(
        np.setdiff1d(np.arange(n_sup), placeholder_rows), size=30, replace=False
    )
    suppliers.loc[text_terms, "payment_terms_days"] = "net thirty"
    suppliers.to_csv(
        folder / "suppliers_latin1.csv",
        sep=";",
        encoding="cp1252",
        index=False,
        lineterminator="\n",
    )
    truth["suppliers_latin1"] = {
        "encoding": "cp1252",
        "delimiter": ";",
        "placeholder_city": 20,
        "mixed_type_column": "payment_terms_days",
        "text_in_number_column": 30,
        "personal_data": {"iban": "iban"},
    }

    # 6. SQLite warehouse: shipments with orphan orders; the inventory also lists a table that
    #    no longer exists.
    db = folder / "warehouse.sqlite"
    if db.exists():
        db.unlink()
    n_ship = 500
    shipments = pd.DataFrame(
        {
            "shipment_id": [f"SH{i:05d}" for i in range(n_ship)],
            "customer_id": [f"C-{10001 + int(c)}" for c in rng.integers(0, 4000, size=n_ship)],
            "shipped_at": (
                EXPORT - pd.to_timedelta(rng.uniform(1, 20, size=n_ship), unit="D")
            ).strftime("%Y-%m-%d %H:%M:%S"),
            "carrier": rng.choice(["DHL", "UPS", "DPD"], size=n_ship),
        }
    )
    orphan_rows = rng.choice(n_ship, size=25, replace=False)
    shipments.loc[orphan_rows, "customer_id"] = [f"C-{80001 + i}" for i in range(25)]
    with sqlite3.connect(db) as con:
        shipments.to_sql("shipments", con, index=False)
    orphans_total = int((~shipments["customer_id"].isin(crm_ids)).sum())
    orphan_keys_total = int(
        shipments.loc[~shipments["customer_id"].isin(crm_ids), "customer_id"].nunique()
    )
    truth["warehouse"] = {
        "orphan_rows_total": orphans_total,
        "orphan_keys_total": orphan_keys_total,
        "table": "shipments",
        "orphan_customer_rows": 25,
        "missing_table": "returns",
    }

    inventory = {
        "sources": [
            {
                "name": "tickets",
                "location": "../tickets.csv",
                "owner": "Support Operations",
                "system": "Helpdesk",
                "access": "nightly CSV export",
                "refresh_days": 1,
                "key": "ticket_id",
                "required": ["ticket_id", "created_at", "category"],
                "order_rules": [["created_at", "resolved_at"], ["created_at", "first_response_at"]],
                "references": [
                    {
                        "column": "customer_id",
                        "source": "crm_accounts:accounts",
                        "key": "account_id",
                    }
                ],
                "privacy_notes": "Free-text bodies can hold customer contact details; legitimate "
                "interest for service quality (DPIA 2025-04).",
            },
            {
                "name": "crm_accounts",
                "location": "../crm_accounts.xlsx",
                "owner": "Sales Ops",
                "system": "CRM",
                "access": "manual Excel export",
                "refresh_days": 30,
                "key": {"accounts": "account_id", "contacts": "contact_id"},
                "freshness_column": "",
            },
            {
                "name": "ai_usage",
                "location": "../ai_usage.csv",
                "owner": "AI pilot team",
                "refresh_days": 1,
                "key": "event_id",
            },
            {
                "name": "order_exports",
                "location": "order_exports",
                "owner": "Finance",
                "refresh_days": 31,
            },
            {
                "name": "ticket_events",
                "location": "ticket_events.jsonl",
                "owner": "Support Operations",
                "refresh_days": 1,
                "key": "event_id",
                "privacy_notes": "IP addresses kept 90 days for security monitoring.",
            },
            {
                "name": "payments",
                "location": "payments.parquet",
                "owner": "Finance",
                "refresh_days": 1,
                "key": "payment_id",
            },
            {
                "name": "legacy_sla_report",
                "location": "legacy_sla_report.csv",
                "owner": "",
                "refresh_days": 7,
            },
            {
                "name": "suppliers",
                "location": "suppliers_latin1.csv",
                "owner": "Procurement",
                "refresh_days": 90,
            },
            {
                "name": "warehouse",
                "location": "warehouse.sqlite",
                "owner": "Logistics",
                "table": "shipments",
                "refresh_days": 7,
                "references": [
                    {
                        "column": "customer_id",
                        "source": "crm_accounts:accounts",
                        "key": "account_id",
                    }
                ],
            },
            {
                "name": "warehouse_returns",
                "location": "warehouse.sqlite",
                "owner": "Logistics",
                "table": "returns",
            },
        ]
    }
    with open(folder / "inventory.yaml", "w", encoding="utf-8") as fh:
        fh.write(
            "# The sample company's data inventory: where each source lives and who owns "
            "it.\n# Credentials never go here: write ${ENV_VAR} in a database URL.\n"
        )
        yaml.safe_dump(inventory, fh, sort_keys=False, allow_unicode=True)
    truth["clean_columns"] = {
        "payments": ["payment_id", "method"],
        "suppliers": ["supplier", "city", "payment_terms_days"],
        "warehouse:shipments": ["shipment_id", "carrier"],
    }
    return truth
