"""Checks that a report is fit to hand to a client: the answer first, no traceback, no warning
box, no path of the machine it ran on; and, in headless Chromium, the answer on the first
screen without a console error, and no table cut off on a narrower page."""

from __future__ import annotations

import html
import os
import re
import shutil
from pathlib import Path

CHROMIUM = os.environ.get("PILOT2PROD_CHROMIUM", "/usr/bin/chromium")
#: A laptop's first screen.
VIEWPORT = {"width": 1280, "height": 800}
#: A narrower window (half a wide screen, a tablet): every table must still fit across it.
NARROW = {"width": 1000, "height": 800}
_MACHINE_PATH = re.compile(r"(/tmp/|/home/|/root/|/work/|/Users/|\.venv/|site-packages|C:\\\\)")


def visible_text(page: str) -> str:
    """The report's text as a reader sees it (no style sheets, scripts or tags)."""
    text = re.sub(r"<(style|script)\b.*?</\1>", " ", page, flags=re.S | re.I)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split())


def problems(page: str, folder: Path | None = None) -> list[str]:
    """What a client must not see in ``page`` (a report's HTML)."""
    found = []
    text = visible_text(page)
    for word in ("Traceback", "Error:", "Warning:", "DeprecationWarning", "TqdmWarning"):
        if word in text:
            i = text.index(word)
            found.append(f"{word!r} in the text: ...{text[max(0, i - 80) : i + 80]}...")
    if 'data-mime-type="application/vnd.jupyter.stderr"' in page:
        found.append("a stderr output (a warning box)")
    for match in _MACHINE_PATH.finditer(text):
        found.append(f"a machine path: ...{text[max(0, match.start() - 60) : match.end() + 60]}...")
        break
    if folder is not None and str(folder) in page:
        found.append(f"the run folder's path {folder}")
    head = page.find('class="p2p-headline"')
    if head < 0:
        found.append("no summary block (p2p-headline)")
    else:
        for first in ("<img", "<table"):
            at = page.find(first)
            if 0 <= at < head and "p2p-headline" not in page[at:head]:
                found.append(f"a {first[1:]} comes before the summary block")
    return found


def check_in_chromium(paths: list[Path]) -> list[str]:
    """Open each report in headless Chromium: the summary block must be on the first screen
    and the page must raise no console error."""
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        return [f"Chromium not found at {CHROMIUM}; run 'make setup' (installs it)."]
    from playwright.sync_api import sync_playwright

    found: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync",
                  "--disable-background-networking", "--disable-component-update"],
        )  # fmt: skip
        page = browser.new_page(viewport=VIEWPORT)
        page.set_default_timeout(300_000)
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        for path in paths:
            page.goto(path.resolve().as_uri(), wait_until="load")
            box = page.locator(".p2p-headline").first.bounding_box()
            if box is None or box["y"] + min(box["height"], 80) > VIEWPORT["height"]:
                found.append(f"{path.name}: the summary block is not on the first screen ({box})")
            found += [f"{path.name}: console error {e}" for e in errors]
            errors.clear()
        page.set_viewport_size(NARROW)
        for path in paths:
            page.goto(path.resolve().as_uri(), wait_until="load")
            cut = page.evaluate(
                """() => [...document.querySelectorAll('table')]
                    .filter(t => t.getBoundingClientRect().right
                                 > document.documentElement.clientWidth + 1)
                    .map(t => [...t.querySelectorAll('th')].map(h => h.textContent).join('|'))"""
            )
            found += [
                f"{path.name}: a table runs off a {NARROW['width']}-pixel page: {c}" for c in cut
            ]
        browser.close()
    return found
