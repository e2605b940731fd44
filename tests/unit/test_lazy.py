"""Lazily loaded attributes, and the preloading a run's kernel does at start-up."""

from __future__ import annotations

import sys
import textwrap

import pytest

from pilot2prod.lazy import preload


@pytest.fixture
def package(tmp_path, monkeypatch):
    """A package ``lazypkg`` whose attribute ``answer`` lives in ``lazypkg.heavy``, which also
    lists a module to preload that exists and one that does not."""
    root = tmp_path / "lazypkg"
    root.mkdir()
    (root / "__init__.py").write_text(
        textwrap.dedent(
            """
            from pilot2prod.lazy import lazy_attributes

            PRELOAD = ("lazypkg.extra", "lazypkg.not_there")
            __getattr__ = lazy_attributes({"answer": "lazypkg.heavy"}, globals())
            """
        )
    )
    (root / "heavy.py").write_text("answer = 42\n")
    (root / "extra.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "lazypkg"
    for name in [m for m in sys.modules if m.split(".")[0] == "lazypkg"]:
        del sys.modules[name]


def test_an_attribute_loads_its_module_on_first_use(package):
    module = __import__(package)
    assert "lazypkg.heavy" not in sys.modules
    assert module.answer == 42
    assert "lazypkg.heavy" in sys.modules
    with pytest.raises(AttributeError, match="no attribute 'question'"):
        module.question  # noqa: B018


def test_preload_imports_the_lazy_and_listed_modules_and_skips_a_missing_one(package):
    preload(package)
    assert {"lazypkg.heavy", "lazypkg.extra"} <= set(sys.modules)
    assert "lazypkg.not_there" not in sys.modules


def test_every_chapter_preloads_cleanly():
    """The modules each chapter names exist: a typo would silently cost the run its head start."""
    from pilot2prod.params import chapter_of
    from pilot2prod.paths import NOTEBOOKS_DIR

    for notebook in sorted(NOTEBOOKS_DIR.glob("*.ipynb")):
        chapter = chapter_of(notebook)
        if chapter is None:
            continue
        module = __import__(chapter, fromlist=["_"])
        for name in (*module.__lazy_modules__, *getattr(module, "PRELOAD", ())):
            __import__(name)


def test_preload_pauses_the_collector_and_freezes_what_it_imported(package, monkeypatch):
    import gc

    states: list[bool] = []  # whether the collector ran at each import
    real_import = __import__("importlib").import_module

    def watched(name: str):
        states.append(gc.isenabled())
        return real_import(name)

    monkeypatch.setattr("pilot2prod.lazy.importlib.import_module", watched)
    assert gc.isenabled()
    try:
        preload(package)
        assert gc.isenabled() and gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
    assert states and not any(states)
