"""Chapter 3's masking on real e-mails nobody here wrote: the messages CPython's own test suite
ships (``test.test_email``: mailing-list posts, bounces and multipart mail from the 1990s and
2000s, headers and quoted threads included, with about a hundred real addresses).

A fitted model keeps what it saw: where masking ran after tokenisation, the exported model's
vocabulary held ``user domain`` pairs for most addresses of a real corpus. These tests search
the vocabularies themselves.
"""

from __future__ import annotations

import email
import re
from email import policy
from pathlib import Path

import pandas as pd
import pytest

from pilot2prod.triage.data import load_examples
from pilot2prod.triage.models import KeywordRules, Retrieval, TfidfLinear

ADDRESS = re.compile(r"([A-Za-z0-9._%+-]+)@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})")


@pytest.fixture(scope="module")
def messages(tmp_path_factory) -> tuple[Path, pd.DataFrame]:
    import test.test_email

    folder = Path(test.test_email.__file__).parent / "data"
    rows = []
    for path in sorted(folder.glob("msg_*.txt")):
        raw = path.read_bytes().decode("utf-8", "replace")
        message = email.message_from_string(raw, policy=policy.compat32)
        label = "multipart" if message.is_multipart() else "single"
        rows.append({"id": path.stem, "text": raw, "label": label})
    frame = pd.DataFrame(rows)
    target = tmp_path_factory.mktemp("emails") / "emails.csv"
    frame.to_csv(target, index=False)
    return target, frame


def test_no_address_fragment_reaches_a_fitted_vocabulary(messages):
    path, frame = messages
    addresses = {pair for text in frame["text"] for pair in ADDRESS.findall(text)}
    assert len(frame) >= 40 and len(addresses) >= 80
    examples = load_examples(str(path), ["text"], "label")
    assert examples.findings.masked["email"] >= len(addresses)
    texts, labels = examples.frame["text"].tolist(), examples.frame["label"].to_numpy()
    tfidf = TfidfLinear().fit(texts, labels)
    words = set(dict(tfidf.pipeline_.steps[0][1].transformer_list)["words"].vocabulary_)
    rules = KeywordRules().fit(texts, labels)
    words |= {keyword for found in rules.rules_.values() for keyword, _ in found}
    retrieval = Retrieval(None).fit(texts, labels)
    words |= set(retrieval.bm25_.vocab_dict)
    unigrams = {w for phrase in words for w in phrase.split()}
    # What the text says outside its addresses may be learned (a list named after its user).
    elsewhere = set(
        re.findall(r"[a-z0-9]+", " ".join(ADDRESS.sub(" ", t) for t in frame["text"]).lower())
    )
    leaked = {
        f"{user} {domain.split('.')[0]}".lower()
        for user, domain in addresses
        if f"{user} {domain.split('.')[0]}".lower() in words and user.lower() not in elsewhere
    }
    assert not leaked, sorted(leaked)[:5]
    users = {u.lower() for u, _ in addresses if re.fullmatch(r"[A-Za-z]{3,}", u)}
    only_in_addresses = users - elsewhere
    assert len(only_in_addresses) >= 20
    assert not only_in_addresses & unigrams, sorted(only_in_addresses & unigrams)[:5]
