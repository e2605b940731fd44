"""Personal-data detection: validated patterns, masked output, planted truth on the sample."""

from __future__ import annotations

from collections import Counter

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pilot2prod.audit.pii import iban_valid, luhn_valid, mask, scan_text, ssn_valid

PLANTED = {
    "email": "jane.doe@example.com",
    "phone": "+49 30 21234567",
    "payment_card": "4111 1111 1111 1111",
    "iban": "DE89 3704 0044 0532 0130 00",
    "us_ssn": "123-45-6789",
    "ip_address": "192.168.10.4",
}


@pytest.mark.parametrize("kind, value", PLANTED.items())
def test_each_kind_is_found_in_free_text_and_masked(kind, value):
    text = f"Hello, here it is: {value}. Thanks!"
    found = scan_text(text)
    assert [f.kind for f in found] == [kind]
    assert found[0].value == value
    masked = found[0].masked
    assert masked != value and value not in masked


@pytest.mark.parametrize(
    "text",
    [
        "Order SO-1234567 of 12.50 EUR on 2025-01-02 at 10:30:00, version 1.2.3",
        "Card 4111 1111 1111 1112 fails Luhn",
        "IBAN DE89 3704 0044 0532 0130 01 has a wrong checksum",
        "SSN 000-12-3456 and 666-12-3456 and 123-00-4567 are never issued",
        "999.10.10.1 is not an address",
        "Call 030 1234 (no country, no region given)",
        "jane.doe@example is not an address",
    ],
)
def test_lookalikes_are_not_personal_data(text):
    assert scan_text(text) == []


def test_national_phone_numbers_need_a_region():
    text = "Ruf mich an: 030 21234567"
    assert scan_text(text) == []
    assert [f.kind for f in scan_text(text, default_region="DE")] == ["phone"]


@pytest.mark.parametrize(
    "code", ["SO-25110001", "INV/25110001", "ord_25110001", "25110001-A", "PO#25110001"]
)
def test_digits_inside_a_code_are_not_a_phone_number(code):
    """Eight digits are a valid Danish number; joined to letters they are an order number."""
    assert scan_text(code, default_region="DK") == []
    assert scan_text(f"order {code} shipped", default_region="DK") == []
    assert [f.kind for f in scan_text("Tel. 25110001", default_region="DK")] == ["phone"]


def test_no_region_is_inferred_from_order_numbers():
    from pilot2prod.audit.pii import likely_region

    orders = [f"SO-2511{i:04d}" for i in range(50)]
    assert likely_region(orders) is None
    phones = [f"030 2{i:03d}4567" for i in range(50)]  # valid in Berlin and in the UK
    assert likely_region(phones) in {"DE", "GB"}
    assert likely_region([f"ref 030-2{i:03d}4567" for i in range(50)]) is not None


def test_validators():
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")
    assert iban_valid("GB82 WEST 1234 5698 7654 32") and not iban_valid("GB82WEST12345698765433")
    assert not iban_valid("XX82WEST12345698765432")  # unknown country
    assert ssn_valid("123", "45", "6789") and not ssn_valid("900", "45", "6789")


def test_masks_show_format_only():
    assert mask("email", "jane.doe@example.com") == "j***@e***.com"
    assert mask("payment_card", "4111 1111 1111 1111") == "############1111"
    assert mask("us_ssn", "123-45-6789") == "###-##-6789"
    assert mask("ip_address", "192.168.10.4") == "192.168.#.#"
    assert mask("phone", "+49 30 21234567").endswith("67")


def count_kinds(values) -> tuple[int, Counter]:
    """Values holding personal data, and matches by kind (row by row, as a reference)."""
    holding, counts = 0, Counter()
    for value in values:
        found = scan_text(str(value)) if isinstance(value, str) else []
        holding += bool(found)
        counts.update(f.kind for f in found)
    return holding, counts


def test_sample_company_ticket_bodies_hold_exactly_the_planted_personal_data(dataset_dir, truth):
    planted = truth["defects"]["personal_data_in_ticket_body"]
    tickets = pd.read_csv(dataset_dir / "tickets.csv", dtype=str, keep_default_na=False)
    holding, counts = count_kinds(tickets["body"])
    assert holding == planted["tickets"]
    assert dict(counts) == planted["count_by_kind"]
    for column in planted["clean_columns"]:
        assert count_kinds(tickets[column])[0] == 0, column


def test_column_scan_pushes_down_and_finds_planted_columns_only(dataset_dir, truth):
    from pilot2prod.audit.pii import scan_column
    from pilot2prod.sources import discover, open_estate

    estate = open_estate(discover(str(dataset_dir / "crm_accounts.xlsx")))
    personal = truth["defects"]["crm"]["personal_data_columns"]
    for opened in estate.opened:
        sheet = opened.sheet
        for column in opened.table.columns:
            found = scan_column(opened.table, column)
            if column in personal[sheet] and column not in ("contact_name", "name"):
                assert found, (sheet, column)  # recall: every planted e-mail/phone column
                assert all(v["validated_share"] > 0.99 for v in found.values())
            elif column not in personal[sheet]:
                assert found == {}, (sheet, column)  # no personal data in clean columns
    tickets = open_estate(discover(str(dataset_dir / "tickets.csv"))).opened[0].table
    body = scan_column(tickets, "body", sample_size=5000)  # all candidates: exact counts
    planted = truth["defects"]["personal_data_in_ticket_body"]["count_by_kind"]
    assert {k: v["values"] for k, v in body.items()} == planted
    assert all(v["exact"] for v in body.values())
    assert "example-mail.com" not in str(body)


def _mixed_column(rows: int = 6000) -> tuple[pd.DataFrame, dict[str, int]]:
    """Free text where a known share of rows holds an e-mail address or an order number that
    looks like a phone number but is not one (the validator must reject it)."""
    notes = []
    truth = {"email": 0}
    for i in range(rows):
        if i % 3 == 0:
            notes.append(f"reply to user{i}@example.org please")
            truth["email"] += 1
        elif i % 3 == 1:
            notes.append(f"order 1000{i:05d}77 shipped")  # candidate, not a valid phone
        else:
            notes.append("no details")
    return pd.DataFrame({"note": notes}), truth


@pytest.mark.parametrize("engine", ["duckdb", "sqlite"])
def test_sampled_scan_estimates_counts_in_engines_with_and_without_hash(engine, tmp_path):
    """Many distinct candidates: a sample is validated and scaled up. DuckDB samples by hash
    bucket; SQLite has no hash function, so every k-th value is taken instead."""
    import sqlite3

    import ibis

    from pilot2prod.audit.pii import scan_column

    frame, truth = _mixed_column()
    if engine == "duckdb":
        table = ibis.memtable(frame)
    else:
        with sqlite3.connect(tmp_path / "notes.sqlite") as lite:
            frame.to_sql("notes", lite, index=False)
        table = ibis.sqlite.connect(tmp_path / "notes.sqlite").table("notes")
    found = scan_column(table, "note", sample_size=200)
    assert set(found) == {"email"}
    email = found["email"]
    assert not email["exact"] and email["candidates"] == 4000
    assert 0.4 < email["validated_share"] < 0.6  # half the candidates are order numbers
    assert abs(email["values"] - truth["email"]) / truth["email"] < 0.15
    assert all("@" in s and "user" not in s for s in email["masked_samples"])
    exact = scan_column(table, "note", sample_size=5000)  # every candidate fits: exact
    assert exact["email"]["exact"] and exact["email"]["values"] == truth["email"]


@pytest.mark.parametrize("region", ["US", "GB", "DE", "FR", "DK", "JP", "IN", "BR", "AU", "SG"])
def test_every_way_of_writing_a_phone_number_is_found(region):
    """Example numbers of each region in every standard format, alone and inside a sentence:
    the quick shape test that spares the matcher most values never turns a number away."""
    import phonenumbers
    from phonenumbers import PhoneNumberFormat as F

    from pilot2prod.audit.pii import phone_spans

    number = phonenumbers.example_number(region)
    for form in (F.E164, F.INTERNATIONAL, F.NATIONAL, F.RFC3966):
        written = phonenumbers.format_number(number, form)
        if form == F.RFC3966:
            written = written.removeprefix("tel:")
        expected = region if form == F.NATIONAL else None
        for text in (written, f"please call {written} today"):
            assert phone_spans(text, expected), (region, text)


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        # digits weighted up: about one example in five then holds a valid number somewhere
        alphabet=st.sampled_from(list("23456789" * 5 + "01 +()-./–\u00a0ab@#_")),
        min_size=7,
        max_size=30,
    ),
    st.sampled_from([None, "US", "DE", "DK", "GB"]),
)
def test_shape_test_keeps_every_number_the_matcher_finds(text, region):
    import phonenumbers

    from pilot2prod.audit import pii

    found = set(pii.phone_spans(text, region))
    for match in phonenumbers.PhoneNumberMatcher(
        text, region, leniency=phonenumbers.Leniency.VALID
    ):
        glued = pii._CODE_BEFORE.search(text[: match.start]) or pii._CODE_AFTER.match(
            text[match.end :]
        )
        assert ((match.start, match.end) in found) != bool(glued), (text, match.raw_string)


def test_numbers_counted_off_in_sequence_are_not_phone_numbers():
    """gt's pizzaplace numbers its orders 2015-000001, 2015-000002, ...: valid phone numbers in
    some region, so the column was reported as phone numbers (a false NO-GO). Numbers that fill
    the range their digits span are counted off, not dialled; a column named for phones keeps
    them, and phone numbers spread over their area's range stay phone numbers."""
    import ibis
    import numpy as np

    from pilot2prod.audit.pii import scan_column

    orders = [f"2015-{i:06d}" for i in range(1, 3001)]
    assert "phone" not in scan_column(ibis.memtable(pd.DataFrame({"id": orders})), "id")
    assert "phone" in scan_column(ibis.memtable(pd.DataFrame({"phone": orders})), "phone")
    rng = np.random.default_rng(0)
    dialled = [f"030 {n}" for n in rng.integers(2_000_000, 99_999_999, 3000)]
    found = scan_column(ibis.memtable(pd.DataFrame({"id": dialled})), "id")
    assert found["phone"]["values"] == 3000
