"""Masking: no raw personal value is ever printed, logged or written to a report."""

from __future__ import annotations

import re

_EMAIL = re.compile(r"^([^@\s]+)@([^@\s]+)$")


def mask_value(value: object, keep: int = 1) -> str:
    """Mask any value for display: keep the first ``keep`` characters and the shape.

    Emails keep one letter of the user and of the domain (``j***@e***.com``); digits become
    ``#``; other characters become ``*`` except punctuation and spaces, which show the format.
    """
    text = "" if value is None else str(value)
    if not text:
        return text
    match = _EMAIL.match(text)
    if match:
        user, domain = match.groups()
        host, _, tld = domain.rpartition(".")
        host = host or domain
        masked_domain = f"{host[:1]}***" + (f".{tld}" if tld and host != domain else "")
        return f"{user[:1]}***@{masked_domain}"
    out = []
    for i, ch in enumerate(text):
        if i < keep and not ch.isdigit():
            out.append(ch)
        elif ch.isdigit():
            out.append("#")
        elif ch.isalpha():
            out.append("*")
        else:
            out.append(ch)
    return "".join(out)


def masked_examples(values, limit: int = 3) -> list[str]:
    """Up to ``limit`` distinct masked values, for error messages and reports."""
    seen: list[str] = []
    for value in values:
        masked = mask_value(value)
        if masked not in seen:
            seen.append(masked)
        if len(seen) >= limit:
            break
    return seen


# ----------------------------------------------------------------------- free text for models
#: What replaces each kind of personal data in text a model learns from: one token per kind, so a
#: model may learn that "a phone number was given" but never a number, an address or a name.
TEXT_TOKENS = {
    "email": "piiemail",
    "phone": "piiphone",
    "payment_card": "piicard",
    "iban": "piiiban",
    "us_ssn": "piissn",
    "ip_address": "piiip",
    "person_name": "piiname",
    "number": "piinumber",
}
#: Runs of this many digits or more (PINs, account and order numbers, phone numbers written
#: without a country code) are replaced too: a model has no use for one particular number.
LONG_NUMBER = re.compile(r"(?<![\w.])\d[\d ./-]{2,}\d(?![\w])|\b\d{4,}\b")
#: A word of letters in any script, possibly hyphenated (Jo-Anne, Vuković).
_ANY_WORD = re.compile(r"\b[^\W\d_]{2,}(?:-[^\W\d_]+)?\b")
#: What may come just before a word that is capitalised for being first: the end of a sentence,
#: a line break, a quote or bracket, or a comma (a greeting: "Hello, Something is wrong").
_SENTENCE_START = re.compile(r"(?:[.!?:;,]\s+|\n\s*|[\"(]\s*)$")
#: Capitalised for reasons other than being a name.
NOT_NAMES = frozenset(
    "monday tuesday wednesday thursday friday saturday sunday january february march april "
    "may june july august september october november december hi hello dear thanks thank "
    "regards best kind cheers".split()
)


def name_like_words(texts: list[str], min_share: float = 0.95) -> set[str]:
    """Words written with a capital inside a sentence (almost) every time they occur there, in
    lower case: the shape of people's names (``Müller``, ``Jo-Anne``) in free text, found from
    the texts themselves. Words seen only at the start of a sentence are not judged.

    A heuristic, not a named-entity recogniser: product and place names are caught too (they
    are then masked as well, which costs a model little), and a name written in lower case is
    missed."""
    capital: dict[str, int] = {}
    inside: dict[str, int] = {}
    for text in texts:
        for match in _ANY_WORD.finditer(text):
            start = match.start()
            if start == 0 or _SENTENCE_START.search(text[max(0, start - 4) : start]):
                continue
            word = match.group(0)
            key = word.lower()
            inside[key] = inside.get(key, 0) + 1
            if word.istitle():
                capital[key] = capital.get(key, 0) + 1
    return {w for w, n in capital.items() if n / inside[w] >= min_share and w not in NOT_NAMES}


def mask_personal_text(
    texts: list[str], region: str | None = None
) -> tuple[list[str], dict[str, int]]:
    """Texts with every piece of personal data the audit's detector validates (e-mail
    addresses, phone numbers, cards, IBANs, SSNs, IP addresses), name-like words (see
    :func:`name_like_words`) and long numbers replaced by :data:`TEXT_TOKENS`, before any model
    or LLM sees them; and how many of each kind were replaced. Masking runs before
    tokenisation, so no fragment of an address (``jo``, ``doe``, ``example``) reaches a
    vocabulary."""
    from pilot2prod.audit.pii import scan_text

    counts: dict[str, int] = {}
    first_pass = []
    for text in texts:
        found = scan_text(text, region)
        for m in reversed(found):
            text = text[: m.start] + f" {TEXT_TOKENS[m.kind]} " + text[m.end :]
            counts[m.kind] = counts.get(m.kind, 0) + 1
        text, n = LONG_NUMBER.subn(f" {TEXT_TOKENS['number']} ", text)
        if n:
            counts["number"] = counts.get("number", 0) + n
        first_pass.append(text)
    names = name_like_words(first_pass)
    if not names:
        return first_pass, counts
    token = TEXT_TOKENS["person_name"]
    masked = 0

    def replace(match: re.Match) -> str:
        # A word is looked up whole, then by its hyphenated parts (Smith-Jones); one set
        # lookup per word, where one pattern alternating thousands of names took minutes.
        nonlocal masked
        word = match.group(0)
        if word.lower() in names:
            masked += 1
            return token
        if "-" not in word:
            return word
        parts = word.split("-")
        hits = sum(part.lower() in names for part in parts)
        masked += hits
        return (
            "-".join(token if part.lower() in names else part for part in parts) if hits else word
        )

    out = [_ANY_WORD.sub(replace, text) for text in first_pass]
    if masked:
        counts["person_name"] = counts.get("person_name", 0) + masked
    return out, counts
