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
