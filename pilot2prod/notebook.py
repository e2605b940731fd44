"""Helpers the notebooks call: set-up, the headline, the output folder, results.json, glue,
tables. A chapter notebook's first code cell after its parameters is::

    p, out = nb.start(chapter, globals())
    result = chapter.run(p)
    nb.headline(result)

and its last one ``nb.finish(result, out)``.
"""

from __future__ import annotations

import html
import json
import re
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd
import yaml

from pilot2prod import plots
from pilot2prod.chapter import Headline
from pilot2prod.errors import Pilot2ProdError
from pilot2prod.jsonable import to_jsonable
from pilot2prod.paths import new_run_dir
from pilot2prod.process import skip_final_collection

# tqdm.auto warns in every kernel without ipywidgets (the embedding and BM25 libraries import
# it, before setup() runs): a warning box with a local path at the top of a client's report.
# Set on import: the notebooks import this module first.
warnings.filterwarnings("ignore", message="IProgress not found")
# The kernel ends sooner (notebooks and engagement runs wait for it).
skip_final_collection()


def setup() -> None:
    """House style for figures and tables; user errors show as one sentence, no traceback."""
    plots.style()
    pd.set_option("display.max_columns", 30)
    pd.set_option("display.width", 160)
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency of every kernel
        return
    shell = get_ipython()
    if shell is None:
        return

    def _one_sentence(shell, etype, evalue, tb, tb_offset=None):  # noqa: ANN001
        # The structured traceback is this one line; ipykernel still reports the error (with
        # its class name) so papermill and nbval stop, and the runner can classify it.
        line = f"{etype.__name__}: {evalue}"
        shell._showtraceback(etype, evalue, [line])
        return [line]

    shell.set_custom_exc((Pilot2ProdError,), _one_sentence)


def start(chapter: ModuleType, namespace: dict[str, Any]) -> tuple[Any, Path]:
    """House style, one-sentence errors, the checked parameters and the run's output folder."""
    setup()
    p = chapter.Parameters.from_namespace(namespace)
    return p, output_folder(p.output_dir, p.notebook)


def headline_html(headline: Headline) -> str:
    """The answer-first block: verdict, one sentence, the few numbers behind it (escaped).
    An answer that opens with its verdict ("NO-GO: ...", so it reads alone elsewhere) does not
    repeat it after the badge."""
    verdict = (
        f'<span class="p2p-verdict">{html.escape(headline.verdict)}</span> '
        if headline.verdict
        else ""
    )
    answer = headline.answer
    if headline.verdict and answer.startswith(f"{headline.verdict}:"):
        answer = answer[len(headline.verdict) + 1 :].lstrip()
        answer = answer[:1].upper() + answer[1:]
    rows = "".join(
        f"<tr><th>{html.escape(label)}</th><td>{html.escape(value)}</td></tr>"
        for label, value in headline.facts
    )
    return (
        '<div class="p2p-headline" style="border-left: 4px solid #0072B2; padding: 0.4em 1em; '
        'margin: 0.5em 0 1em 0; background: #F2F7FB; color: #111;">'
        f'<p style="font-size: 1.05em; margin: 0.3em 0;"><strong>{verdict}'
        f"{html.escape(answer)}</strong></p>"
        f'<table style="border-collapse: collapse; margin: 0.3em 0;">{rows}</table></div>'
    ).replace("<th>", '<th style="text-align: left; padding: 2px 12px 2px 0; font-weight: 600;">')


def headline(result: Any) -> None:
    """Show the chapter's answer first."""
    from IPython.display import HTML, display

    display(HTML(headline_html(result.headline())))


def finish(result: Any, out: Path, sentences: dict[str, str] | None = None) -> None:
    """Write ``results.json`` and glue the numbers (and sentences) the chapter prose quotes.
    Returns nothing: the last cell's value would print the run folder's path into the report."""
    write_results(out, result.results())
    glue(result.glue_values(), sentences)


def output_folder(output_dir: str, notebook: str) -> Path:
    """The run's output folder: the given one (created) or a fresh ``runs/<nb>/<stamp>``."""
    if output_dir:
        folder = Path(output_dir)
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    return new_run_dir(notebook)


def write_results(folder: Path, results: dict[str, Any], name: str = "results.json") -> Path:
    path = Path(folder) / name
    path.write_text(
        json.dumps(to_jsonable(results), indent=2, sort_keys=False) + "\n", encoding="utf-8"
    )
    return path


def write_yaml(folder: Path, data: dict[str, Any], name: str) -> Path:
    path = Path(folder) / name
    with open(path, "w", encoding="utf-8") as fh:
        yaml.safe_dump(to_jsonable(data), fh, sort_keys=False, allow_unicode=True)
    return path


class Sentence:
    """Text glued for the prose: its plain-text form is the text itself, without quotes."""

    def __init__(self, text: str) -> None:
        self.text = text

    def _repr_pretty_(self, printer, cycle: bool) -> None:  # noqa: ANN001 - IPython API
        printer.text(self.text)


def glue(values: dict[str, Any], sentences: dict[str, str] | None = None) -> None:
    """Glue numbers and sentences for the chapter prose, without showing them here.

    The prose pastes them with ``{glue:text}`/notebooks/<name>.ipynb::<key>:<format>```; the text
    role escapes what it pastes.
    """
    from myst_nb import glue as _glue

    for key, value in values.items():
        _glue(key, to_jsonable(value), display=False)
    for key, text in (sentences or {}).items():
        _glue(key, Sentence(text), display=False)


def quote(text: str) -> None:
    """Show a sentence as an HTML block quote (escaped: it may contain user values)."""
    from IPython.display import HTML, display

    display(HTML(f"<blockquote><p>{html.escape(text)}</p></blockquote>"))


def table(frame: pd.DataFrame, formats: dict | None = None, hide_index: bool = True):
    """A formatted, HTML-escaped table for display; ``formats`` maps a column to a format
    string or a function (such as :func:`money`)."""
    numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]
    # Names such as 'order_exports/orders_2026_03.xlsx:Sheet1' have no space to break at: they
    # pushed the scorecard's last columns off a 1,000-pixel page. Text may break after the
    # separators inside names (the escaped value gets <wbr> there), numbers never.
    dates = [c for c in frame.columns if pd.api.types.is_datetime64_any_dtype(frame[c])]
    formats = formats or {}
    text = [c for c in frame.columns if c not in numeric + dates and c not in formats]
    styler = frame.style.format(formats, na_rep="n/a", escape="html")
    if text:
        styler = styler.format(_breakable, subset=text, na_rep="n/a")  # escapes itself
    # Room between columns, numbers aligned right and text left, headers over their column:
    # the report's and the book's default styles let neighbouring columns run together.
    styler = styler.set_table_styles(
        [
            {"selector": "th, td", "props": "padding: 0.3em 0.6em; vertical-align: top;"},
            {"selector": "th", "props": "text-align: left;"},
            {"selector": "td", "props": "text-align: left; overflow-wrap: break-word;"},
        ]
    )
    if numeric:
        styler = styler.set_table_styles(
            {
                c: [
                    {"selector": "th, td", "props": "text-align: right;"},
                    {"selector": "td", "props": "white-space: nowrap;"},  # headers may wrap
                ]
                for c in numeric
            },
            overwrite=False,
        )
    if hide_index:
        styler = styler.hide(axis="index")
    return styler


_BREAK_AFTER = re.compile(r"([/:@])(?=[^\s])")


def _breakable(value: Any) -> str:
    """A text cell of :func:`table`, HTML-escaped, with line-break opportunities after the
    separators of paths, sheets and addresses, ``/ : @`` (no entity such as ``&amp;`` holds
    them)."""
    return _BREAK_AFTER.sub(r"\1<wbr>", html.escape(str(value)))


def money(currency: str = ""):  # noqa: ANN201 - a formatter for table()
    """A formatter for amounts: the currency before the number, two decimals from 1 upwards,
    two significant digits from 0.01 to 1 (``EUR 0.042``), ``< EUR 0.01`` below a cent (a
    report is read by people, not in scientific notation), and ``n/a`` for a missing amount."""

    def show(value) -> str:  # noqa: ANN001
        if value is None or pd.isna(value):
            return "n/a"
        amount = float(value)
        sign = "-" if amount < 0 else ""
        size = abs(amount)
        if size == 0:
            return f"{currency} 0".strip()
        if size < 0.01:
            return f"{'> -' if sign else '< '}{currency} 0.01".replace("  ", " ")
        rounded = float(f"{size:.2g}")
        text = f"{size:,.2f}" if rounded >= 1 else f"{rounded:.4f}".rstrip("0").rstrip(".")
        return f"{sign}{currency} {text}".strip() if currency else f"{sign}{text}"

    return show


def fold(frame: pd.DataFrame, rows: int = 20) -> pd.DataFrame:
    """At most ``rows`` rows of a long table (150 classes do not belong on a page), and one last
    row saying how many were left out; the full table is in the run's outputs."""
    if len(frame) <= rows:
        return frame
    shown = frame.head(rows).copy()
    more = pd.DataFrame([{frame.columns[0]: f"... {len(frame) - rows:,} more (see results.json)"}])
    return pd.concat([shown, more], ignore_index=True)
