"""Parameters: the notebooks' cells and the package's classes agree; values are checked."""

from __future__ import annotations

import warnings
from dataclasses import fields

import papermill as pm
import pytest

from pilot2prod.errors import ParameterError
from pilot2prod.params import coerce, notebook_parameters, parameter_class_of
from pilot2prod.runner import available_notebooks, parse_assignments

NOTEBOOKS = available_notebooks()


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_parameters_cell_matches_the_package_class(path):
    declared = notebook_parameters(path)
    cls = parameter_class_of(path)
    assert cls is not None, "notebook metadata must name its parameter class"
    assert [p.name for p in declared] == [f.name for f in fields(cls)]
    spec = cls.spec()
    defaults = cls.defaults()
    for p in declared:
        assert p.type_name == spec[p.name], p.name
        assert p.default == defaults[p.name], p.name
        assert p.help, f"{p.name} has no help comment"
    # The defaults themselves validate (they point at the sample company).
    cls.from_values({})


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_papermill_reads_every_parameter(path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        inspected = pm.inspect_notebook(str(path))
    assert list(inspected) == [p.name for p in notebook_parameters(path)]


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
    ],
)
def test_wrong_types_are_one_sentence(type_name, value, from_text, message):
    with pytest.raises(ParameterError, match=message):
        coerce("n", type_name, value, from_text=from_text)


def test_assignments():
    assert parse_assignments(["a=1", "b=x=y", "c="]) == {"a": "1", "b": "x=y", "c": ""}
    with pytest.raises(ParameterError, match="-p name=value"):
        parse_assignments(["novalue"])
