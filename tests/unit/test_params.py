"""Parameters: declared once in each chapter, the notebook's cell derived from it, checked once."""

from __future__ import annotations

import warnings
from dataclasses import fields

import nbformat
import papermill as pm
import pytest

from pilot2prod import chapter as chapters
from pilot2prod.errors import ParameterError
from pilot2prod.params import (
    chapter_of,
    coerce,
    looks_like_secret,
    notebook_parameters,
    parameter_class_of,
    parameters_cell,
)
from pilot2prod.runner import available_notebooks, parse_assignments, resolve_parameters

NOTEBOOKS = available_notebooks()


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_notebook_belongs_to_a_chapter_with_the_shared_surface(path):
    module = chapters.load(chapter_of(path))
    cls = module.Parameters
    assert cls.notebook == path.stem
    for method in ("headline", "results", "glue_values"):
        assert callable(getattr(module.Result, method)), method
    assert callable(module.run)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_parameters_cell_is_derived_from_the_class(path):
    cls = parameter_class_of(path)
    cell = parameters_cell(nbformat.read(str(path), as_version=4))
    assert cell.source == cls.cell_source(), "run: python -m pilot2prod.params"
    declared = notebook_parameters(path)
    assert [p.name for p in declared] == [f.name for f in fields(cls)]
    assert all(p.help for p in declared)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_defaults_are_neutral(path):
    """No sample-company value hides in a default: the data must be named, and every text
    default is empty or a generic choice."""
    cls = parameter_class_of(path)
    for p in cls.declared():
        if isinstance(p.default, str):
            assert "acme" not in p.default.lower() and "/" not in p.default, p.name
    with pytest.raises(ParameterError, match="is empty; give"):
        cls.parse({})


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_papermill_reads_every_parameter(path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        inspected = pm.inspect_notebook(str(path))
    assert list(inspected) == [p.name for p in notebook_parameters(path)]


def test_values_are_converted_once_text_keeps_its_type(tmp_path):
    path = next(p for p in NOTEBOOKS if p.stem == "01_success_metric")
    (tmp_path / "e.csv").write_text("a,b\n")
    values = resolve_parameters(
        path,
        from_file={"baseline_weeks": 8.0, "start_column": "a"},
        from_text={
            "id_column": "007",
            "events_path": "e.csv",
            "end_column": "b",
            "n_bootstrap": "500",
        },
        cwd=tmp_path,
    )
    assert values["id_column"] == "007"
    assert values["baseline_weeks"] == 8 and isinstance(values["baseline_weeks"], int)
    assert values["n_bootstrap"] == 500
    assert values["events_path"] == str(tmp_path / "e.csv")


def test_text_values_keep_their_type():
    assert coerce("id", "str", "007", from_text=True) == "007"
    assert coerce("n", "int", "12", from_text=True) == 12
    assert coerce("x", "float", "0.5", from_text=True) == 0.5
    assert coerce("b", "bool", "yes", from_text=True) is True
    assert coerce("b", "bool", "False", from_text=True) is False
    assert coerce("x", "float", 3) == 3.0


@pytest.mark.parametrize(
    "type_name, value, from_text, message",
    [
        ("int", "abc", True, "Parameter n must be an integer, not 'abc'"),
        ("bool", "maybe", True, "must be true or false"),
        ("int", True, False, "must be an integer"),
        ("str", 5, False, "must be a text, not int 5"),
        ("float", "0.1", False, "must be a number, not str"),
        ("int", 2.5, False, "must be an integer, not float 2.5"),
        ("float", float("nan"), False, "is NaN"),
    ],
)
def test_wrong_types_are_one_sentence(type_name, value, from_text, message):
    with pytest.raises(ParameterError, match=message):
        coerce("n", type_name, value, from_text=from_text)


def test_assignments():
    assert parse_assignments(["a=1", "b=x=y", "c="]) == {"a": "1", "b": "x=y", "c": ""}
    with pytest.raises(ParameterError, match="-p name=value"):
        parse_assignments(["novalue"])


@pytest.mark.parametrize(
    "value, secret",
    [
        ("OPENAI_API_KEY", False),
        ("MY_KEY_2", False),
        ("", False),
        ("sk-proj-abcdefghijklmnopqrstuvwxyz0123456789", True),
        ("ghp_0123456789abcdefghijABCDEFGHIJ012345", True),
        ("abcDEF0123456789abcDEF0123456789abcdef", True),
        ("my key", True),
    ],
)
def test_secret_shaped_values_are_told_apart_from_names(value, secret):
    assert looks_like_secret(value) is secret


def test_a_refused_value_is_quoted_on_one_line():
    from pilot2prod.params import shown

    assert shown("did") == "'did'"
    assert shown("a\nb\tc") == "'a\\nb\\tc'"
    assert shown("é ü") == "'é ü'"
    long = shown("x" * 500)
    assert len(long) == 62 and long.endswith("…'")
