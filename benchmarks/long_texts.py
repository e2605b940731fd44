"""Benchmark: Chapter 3 on long real texts, peak memory and time (target: under 2 GB).

    python benchmarks/long_texts.py [--docs /usr/share/doc/python3.11/html] [--keep DIR]

The corpus is real text nobody here wrote: the Python documentation as Debian's
``python3.11-doc`` installs it (``make setup``). Every section of every page is one example
(an API reference section gives one example per entry), labelled by the part of the
documentation it belongs to (library, c-api, howto, whatsnew, ...): about 6,200 texts of 300
characters to 34 KB, the size of the e-mail corpus on which Chapter 3 once peaked at 18.9 GB.
The 30 longest pages are added whole (their text up to 150 KB), as long e-mails with quoted
threads are. Measured here: 6,275 texts, 10.3 MiB; 156 s end to end; peak 0.96 GiB.

It runs ``pilot2prod run 03_simple_vs_rag`` on it, as a user would (no LLM), and prints the
peak memory of the notebook's kernel and the time, against the 2 GB target and against a
reference measured in the same run: reading the corpus and one TF-IDF pass over its texts.
"""

from __future__ import annotations

import argparse
import copy
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

DOCS = Path("/usr/share/doc/python3.11/html")
TARGET_GIB = 2.0
WHOLE_PAGES = 30


def corpus(docs: Path) -> pd.DataFrame:
    import lxml.html

    rows = []
    pages = [
        p
        for p in sorted(docs.rglob("*.html"))
        if len(p.relative_to(docs).parts) > 1 and not p.relative_to(docs).parts[0].startswith("_")
    ]
    for page in pages:
        part = page.relative_to(docs).parts[0]
        main = lxml.html.parse(str(page)).getroot().xpath("//*[@role='main']")
        if not main:
            continue
        for section in main[0].xpath(".//section"):
            own = copy.deepcopy(section)
            for child in own.xpath("./section"):
                child.drop_tree()
            units = [own]
            entries = own.xpath("./dl[@class]")
            if len(entries) > 1:  # an API reference: one example per entry
                for entry in entries:
                    entry.drop_tree()
                units += entries
            for unit in units:
                text = re.sub(r"\s+", " ", unit.text_content()).replace("\u00b6", "").strip()
                if len(text) > 300:
                    rows.append({"text": text, "label": part})
    for page in sorted(pages, key=lambda p: -p.stat().st_size)[:WHOLE_PAGES]:
        main = lxml.html.parse(str(page)).getroot().xpath("//*[@role='main']")
        if main:
            text = re.sub(r"\s+", " ", main[0].text_content()).strip()
            rows.append({"text": text, "label": page.relative_to(docs).parts[0]})
    return pd.DataFrame(rows)


def reference_seconds(path: Path) -> float:
    from sklearn.feature_extraction.text import TfidfVectorizer

    start = time.perf_counter()
    frame = pd.read_csv(path)
    TfidfVectorizer(sublinear_tf=True).fit_transform(frame["text"].astype(str))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=Path, default=DOCS)
    parser.add_argument("--keep", type=Path, help="write the corpus and the run here")
    args = parser.parse_args()
    if not (args.docs / "py-modindex.html").is_file():
        sys.exit(f"No Python documentation at {args.docs}: install Debian's python3.11-doc.")
    with tempfile.TemporaryDirectory() as scratch:
        work = args.keep or Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        frame = corpus(args.docs)
        path = work / "python_docs_sections.csv"
        frame.to_csv(path, index=False)
        lengths = frame["text"].str.len()
        print(
            f"corpus: {len(frame):,} texts, {lengths.sum() / 2**20:.1f} MiB of text, median "
            f"{lengths.median():,.0f} characters, longest {lengths.max() / 1024:,.0f} KiB, "
            f"{frame['label'].nunique()} labels"
        )
        reference = reference_seconds(path)
        cli = Path(sys.executable).with_name("pilot2prod")
        start = time.perf_counter()
        run = subprocess.run(
            [
                str(cli),
                "run",
                "03_simple_vs_rag",
                "-p",
                f"examples_path={path}",
                "-p",
                "text_columns=text",
                "-p",
                "label_column=label",
                "-p",
                "n_bootstrap=300",
                "--out",
                str(work / "runs"),
                "--quiet",
            ],
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - start
        if run.returncode != 0:
            sys.exit(f"The run failed: {run.stderr.strip().splitlines()[-1]}")
    # The largest resident size of any process this one waited for: the notebook's kernel.
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024 / 2**30
    print(f"reference (read + one TF-IDF pass): {reference:.1f} s")
    print(f"Chapter 3, end to end: {seconds:.0f} s ({seconds / reference:.0f}x the reference)")
    verdict = "met" if peak < TARGET_GIB else "NOT met"
    print(
        f"peak memory: {peak:.2f} GiB ({peak / TARGET_GIB:.0%} of the {TARGET_GIB:.0f} GB "
        f"target: {verdict})"
    )


if __name__ == "__main__":
    main()
