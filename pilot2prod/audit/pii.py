"""Personal data found by pattern *and* validation, reported as counts and masked samples.

A pattern alone flags order numbers as phone numbers and any 16 digits as a card. Every
candidate here must also pass its validator: ``phonenumbers`` for phone numbers, the Luhn check
and issuer prefixes for payment cards, the ISO 13616 mod-97 checksum for IBANs, the issuing
rules for US social security numbers, and ``ipaddress`` for IP addresses. Raw values never
leave this module unmasked.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from dataclasses import dataclass, field

import ibis
import ibis.common.exceptions as ibis_errors
import pandas as pd
import phonenumbers

from pilot2prod.privacy import mask_value

KINDS = ("email", "phone", "payment_card", "iban", "us_ssn", "ip_address")

_EMAIL = re.compile(
    r"(?<![\w.+-])[\w.+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*"
    r"\.[A-Za-z]{2,24}(?![\w-])"
)
_CARD = re.compile(r"(?<![\d-])(?:\d[ -]?){12,18}\d(?![\d-])")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b")
_SSN = re.compile(r"(?<![\d-])(\d{3})-(\d{2})-(\d{4})(?![\d-])")
_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?!\d|\.\d)")
_IPV6 = re.compile(r"(?<![\w:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:])")

# IBAN lengths by country (ISO 13616 registry, the countries most often seen in practice).
IBAN_LENGTH = {
    "AT": 20,
    "BE": 16,
    "BG": 22,
    "CH": 21,
    "CY": 28,
    "CZ": 24,
    "DE": 22,
    "DK": 18,
    "EE": 20,
    "ES": 24,
    "FI": 18,
    "FR": 27,
    "GB": 22,
    "GR": 27,
    "HR": 21,
    "HU": 28,
    "IE": 22,
    "IS": 26,
    "IT": 27,
    "LI": 21,
    "LT": 20,
    "LU": 20,
    "LV": 21,
    "MT": 31,
    "NL": 18,
    "NO": 15,
    "PL": 28,
    "PT": 25,
    "RO": 24,
    "SE": 24,
    "SI": 19,
    "SK": 24,
    "TR": 26,
}


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum used by payment card numbers."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def card_issuer_plausible(digits: str) -> bool:
    """Issuer prefix and length of the major card networks (Visa, Mastercard, Amex, ...)."""
    n = len(digits)
    if digits[0] == "4":
        return n in (13, 16, 19)
    two, four = int(digits[:2]), int(digits[:4])
    if 51 <= two <= 55 or 2221 <= four <= 2720:
        return n == 16
    if two in (34, 37):
        return n == 15
    if digits.startswith(("6011", "65")) or 644 <= int(digits[:3]) <= 649:
        return n in (16, 19)
    if 3528 <= four <= 3589:
        return 16 <= n <= 19
    return False


def iban_valid(text: str) -> bool:
    """ISO 13616: known country length and mod-97 remainder 1."""
    iban = text.replace(" ", "").upper()
    expected = IBAN_LENGTH.get(iban[:2])
    if expected is None or len(iban) != expected:
        return False
    rearranged = iban[4:] + iban[:4]
    number = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(number) % 97 == 1


def ssn_valid(area: str, group: str, serial: str) -> bool:
    """US SSN issuing rules: no 000, 666 or 9xx area, no 00 group, no 0000 serial."""
    return (
        area not in ("000", "666")
        and not area.startswith("9")
        and group != "00"
        and serial != "0000"
    )


@dataclass(frozen=True)
class PiiMatch:
    kind: str
    start: int
    end: int
    value: str = field(repr=False)

    @property
    def masked(self) -> str:
        return mask(self.kind, self.value)


def mask(kind: str, value: str) -> str:
    """A masked form that shows the format, never enough to recover the value."""
    if kind == "email":
        return mask_value(value)  # j***@e***.com
    digits = re.sub(r"\D", "", value)
    if kind == "phone":
        prefix = "+" if value.strip().startswith("+") else ""
        return f"{prefix}{'#' * max(0, len(digits) - 2)}{digits[-2:]}"
    if kind == "payment_card":
        return f"{'#' * (len(digits) - 4)}{digits[-4:]}"
    if kind == "iban":
        compact = value.replace(" ", "")
        return f"{compact[:2]}{'#' * (len(compact) - 6)}{compact[-4:]}"
    if kind == "us_ssn":
        return f"###-##-{digits[-4:]}"
    if kind == "ip_address":
        if ":" in value:
            return value.split(":")[0] + ":****"
        return ".".join(value.split(".")[:2] + ["#", "#"])
    return "#" * len(value)


def scan_text(text: str, default_region: str | None = None) -> list[PiiMatch]:
    """Every validated piece of personal data in ``text``, left to right, no overlaps.

    ``default_region`` (e.g. ``"DE"``) lets phone numbers written without a country code be
    recognised; without it only international (+) numbers count.
    """
    if not text:
        return []
    found: list[PiiMatch] = []
    taken: list[tuple[int, int]] = []

    def add(kind: str, start: int, end: int) -> None:
        if any(start < e and s < end for s, e in taken):
            return
        taken.append((start, end))
        found.append(PiiMatch(kind, start, end, text[start:end]))

    for m in _EMAIL.finditer(text):
        add("email", m.start(), m.end())
    for m in _IBAN.finditer(text):
        if iban_valid(m.group(0)):
            add("iban", m.start(), m.end())
    for m in _SSN.finditer(text):
        if ssn_valid(*m.groups()):
            add("us_ssn", m.start(), m.end())
    for m in _CARD.finditer(text):
        digits = re.sub(r"\D", "", m.group(0))
        if luhn_valid(digits) and card_issuer_plausible(digits):
            add("payment_card", m.start(), m.end())
    for m in _IPV4.finditer(text):
        try:
            ipaddress.IPv4Address(m.group(0))
        except ValueError:
            continue
        add("ip_address", m.start(), m.end())
    for m in _IPV6.finditer(text):
        if not re.search(r"[0-9A-Fa-f]", m.group(0)):
            continue
        try:
            ipaddress.IPv6Address(m.group(0))
        except ValueError:
            continue
        add("ip_address", m.start(), m.end())
    for start, end in phone_spans(text, default_region):
        add("phone", start, end)
    return sorted(found, key=lambda f: f.start)


#: Digits joined to letters or digits by one of these are one identifier (``SO-25110001``,
#: ``INV/2511``, ``25110001-A``), not a phone number inside a code.
_CODE_BEFORE = re.compile(r"[A-Za-z0-9][-_/#]$")
_CODE_AFTER = re.compile(r"^[-_/#][A-Za-z0-9]")


#: What any phone number written out holds: at least seven digits and separators (spaces,
#: brackets, dots, slashes, dashes), from a digit to a digit; the engine's candidate pattern,
#: with Unicode spaces and dashes too.
_PHONE_SHAPE = re.compile(r"\d[\d\s()./\-\u2010-\u2015]{5,}\d")


def phone_spans(text: str, region: str | None = None) -> list[tuple[int, int]]:
    """Where ``text`` holds a valid phone number (``phonenumbers``, national numbers only with
    ``region``), leaving out digits that are part of a code: an order number ``SO-25110001``
    holds eight digits that are a valid Danish number, and is still an order number."""
    spans: list[tuple[int, int]] = []
    if not _PHONE_SHAPE.search(text):  # the matcher costs 0.2 ms a value, this a microsecond
        return spans
    for match in phonenumbers.PhoneNumberMatcher(
        text, region, leniency=phonenumbers.Leniency.VALID
    ):
        if _CODE_BEFORE.search(text[: match.start]) or _CODE_AFTER.match(text[match.end :]):
            continue
        spans.append((match.start, match.end))
    return spans


# Candidate patterns for the database engine (RE2 syntax: no look-arounds). They over-match on
# purpose; a sample of the matching values is then validated here, in Python.
CANDIDATE_PATTERNS = {
    "email": r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}",
    "phone": r"\+?\d[\d ()./-]{6,}\d",
    "payment_card": r"(\d[ -]?){12,18}\d",
    "iban": r"[A-Z]{2}\d{2}( ?[A-Z0-9]){11,30}",
    "us_ssn": r"\d{3}-\d{2}-\d{4}",
    "ip_address": r"(\d{1,3}\.){3}\d{1,3}|([0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}",
}


#: All kinds at once: the engine runs one regular expression per value, not six.
CANDIDATE_PATTERN = "|".join(f"({pattern})" for pattern in CANDIDATE_PATTERNS.values())


def candidate_sample(
    table: ibis.Table,
    column: str,
    distinct: int | None = None,
    sample_size: int = 400,
    seed: int = 0,
    candidates: int | None = None,
    values: ibis.Table | None = None,
) -> tuple[list[tuple[str, int]], bool]:
    """Distinct values of ``column`` that match a candidate pattern, each with its number of
    rows, and whether that is all of them.

    All of them when there can be at most ``sample_size`` such values (the column's
    ``distinct`` values and its ``candidates`` rows bound their number); otherwise a
    reproducible spread-out sample: the values whose hash falls in one of ``bound /
    sample_size`` buckets. Engines without a hash function number the values and keep every
    k-th. ``values``: the column's distinct values and rows (``value``, ``n``) when a scan
    already has them."""
    text = table[column].cast("string")
    if distinct is None:
        distinct = int(table.aggregate(n=text.nunique()).execute().iloc[0]["n"] or 0)
    if values is None:  # engines filter on the grouping key before they group
        values = table.group_by(value=text).aggregate(n=ibis._.count())
    bound = distinct if candidates is None else min(distinct, candidates)
    step = max(1, -(-bound // sample_size))
    matching = values.filter(values.value.re_search(CANDIDATE_PATTERN))

    def first(chosen: ibis.Table) -> pd.DataFrame:
        return chosen.select("value", "n").order_by("value").limit(2 * sample_size).execute()

    if step == 1:
        frame = first(matching)
    else:
        try:
            frame = first(matching.filter((matching.value.hash() % step).abs() == seed % step))
        except (ibis_errors.OperationNotDefinedError, ibis_errors.UnsupportedOperationError):
            numbered = matching.mutate(_k=ibis.row_number().over(order_by=matching.value))
            frame = first(numbered.filter(numbered._k % step == seed % step))
    return list(zip(frame["value"], frame["n"].astype(int), strict=True)), step == 1


def validate_candidates(
    values: list[tuple[str, int]],
    candidates: int,
    default_region: str | None = None,
    exact: bool = False,
) -> dict[str, dict]:
    """Validate a sample of distinct candidate values (with their row counts) and scale its
    shares up to all ``candidates`` rows.

    For each kind found: the share of sampled rows whose value holds it, the estimated number of
    rows that hold it (exact when the sample is every candidate) and masked samples."""
    holding: Counter = Counter()
    samples: dict[str, list[str]] = {}
    sampled_rows = sum(n for _, n in values)
    for value, n in values:
        kinds_seen = set()
        for found in scan_text(value, default_region):
            if found.kind in kinds_seen:
                continue
            kinds_seen.add(found.kind)
            masked = samples.setdefault(found.kind, [])
            if len(masked) < 3 and found.masked not in masked:
                masked.append(found.masked)
        for kind in kinds_seen:
            holding[kind] += n
    out: dict[str, dict] = {}
    for kind in KINDS:
        if not holding[kind]:
            continue
        share = holding[kind] / sampled_rows
        out[kind] = {
            "candidates": candidates,
            "validated_share": share,
            "values": holding[kind] if exact else round(candidates * share),
            "exact": exact,
            "masked_samples": samples[kind],
        }
    return out


def scan_column(
    table: ibis.Table,
    column: str,
    default_region: str | None = None,
    sample_size: int = 400,
    seed: int = 0,
    candidates: int | None = None,
    distinct: int | None = None,
    values: ibis.Table | None = None,
) -> dict[str, dict]:
    """Personal data in one column of an Ibis table, counted where the data lives.

    The engine counts the rows that match any kind's candidate pattern (``candidates``, when
    a :func:`~pilot2prod.audit.scan.scan_table` already counted them, with the column's
    ``distinct`` values); up to ``sample_size`` distinct matching values come back with their
    row counts and are validated here. The number of rows holding a kind is the candidates
    times the validated share of that kind, exact when every distinct value fits in the sample.
    ``values``: the column's distinct values and rows, when a scan already has them. Only
    masked samples leave this function."""
    if candidates is None:
        text = table[column].cast("string")
        row = table.aggregate(n=text.re_search(CANDIDATE_PATTERN).sum()).execute().iloc[0]
        candidates = int(row["n"] or 0)
    if candidates == 0:
        return {}
    values, complete = candidate_sample(
        table, column, distinct, sample_size, seed, candidates, values
    )
    if not values:
        return {}
    region, source = (default_region, "given") if default_region else (None, "")
    if region is None:
        region = likely_region([v for v, _ in values])
        source = "inferred from the numbers' shapes" if region else ""
    found = validate_candidates(values, candidates, region, exact=complete)
    if "phone" in found and numbered_in_sequence(column, values, distinct):
        del found["phone"]
    if "phone" in found and region:
        found["phone"]["region"] = f"{region} ({source})"
    return found


#: A column named for phone numbers keeps them whatever their digits look like.
PHONE_COLUMN = re.compile(r"phone|tel|mobile|cell|fax|handy|contact", re.IGNORECASE)
#: Distinct values per unit of the range their digits span, from which numbers are counted off
#: in sequence (order and invoice numbers) rather than dialled: phone numbers of one area
#: spread over millions of subscriber numbers.
SEQUENCE_DENSITY = 0.05


def numbered_in_sequence(column: str, values: list[tuple[str, int]], distinct: int | None) -> bool:
    """Whether the phone-like values of a column are numbers counted off in sequence, such as
    ``2015-000001`` to ``2015-021350`` (order numbers that are valid phone numbers in some
    region): written without ``+``, in a column not named for phones, with their ``distinct``
    values filling at least :data:`SEQUENCE_DENSITY` of the range their digits span."""
    if PHONE_COLUMN.search(column):
        return False
    national = [v for v, _ in values if "+" not in v]
    if len(national) < 20 or len(national) < 0.9 * len(values):
        return False
    digits = [int(d) for v in national if (d := re.sub(r"\D", "", v))]
    span = max(digits) - min(digits) + 1
    return max(distinct or 0, len(values)) / span >= SEQUENCE_DENSITY


#: Regions tried when numbers are written without a country prefix and none is given.
LIKELY_REGIONS = (
    "US", "GB", "DE", "FR", "ES", "IT", "NL", "BE", "AT", "CH", "IE", "SE", "DK", "NO", "FI",
    "PL", "PT", "CZ", "CA", "AU", "NZ", "IN", "BR", "MX", "ZA", "JP", "SG",
)  # fmt: skip


def likely_region(values: list[str], minimum_share: float = 0.5) -> str | None:
    """The region in which most national-format phone candidates (no +) are valid numbers,
    when one region explains at least ``minimum_share`` of them; else None."""
    national = [v for v in values if re.search(r"\d{6,}", re.sub(r"[ ()./-]", "", v))]
    national = [v for v in national if "+" not in v][:200]
    if len(national) < 3:
        return None
    best, best_count = None, 0
    for region in LIKELY_REGIONS:
        count = sum(1 for v in national if phone_spans(v, region))
        if count > best_count:
            best, best_count = region, count
    return best if best_count >= minimum_share * len(national) else None
