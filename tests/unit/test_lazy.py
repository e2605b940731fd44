"""Lazily loaded attributes, and the preloading a run's kernel does at start-up."""

from __future__ import annotations

import json
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
            given = []

            def prefetch(parameters):
                import sys
                given.append((parameters, "lazypkg.heavy" in sys.modules))
                if parameters.get("fail"):
                    raise OSError("the disk is gone")
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


@pytest.mark.parametrize("fail", [False, True])
def test_preload_hands_the_parameters_to_prefetch_first_and_survives_its_failure(package, fail):
    """A package's ``prefetch`` gets the run's parameters before its modules are imported (so
    that its work overlaps them); if it fails, the imports still happen."""
    preload(package, json.dumps({"sources": "exports/", "fail": fail}))
    module = sys.modules[package]
    assert module.given == [({"sources": "exports/", "fail": fail}, False)]
    assert "lazypkg.heavy" in sys.modules


def test_preload_without_parameters_prefetches_nothing(package):
    preload(package)
    assert sys.modules[package].given == []


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
