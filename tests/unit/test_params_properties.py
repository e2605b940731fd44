"""Property-based checks of every chapter's parameters: whatever a user writes into an
engagement file or on the command line, the check either accepts it or stops with one
ParameterError that names the parameter; nothing else escapes."""

from __future__ import annotations

import importlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pilot2prod.errors import Pilot2ProdError

CHAPTERS = [
    "pilot2prod.metric",
    "pilot2prod.audit",
    "pilot2prod.triage",
    "pilot2prod.impact",
    "pilot2prod.expand",
    "pilot2prod.adoption",
    "pilot2prod.production",
]

VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**9), 10**9),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["", "0", "-1", "1e309", "nan", "yes", "2026-02-30", "%d/%m/%Y", "http://x"]),
    st.lists(st.integers(), max_size=3),
)


@pytest.mark.parametrize("module", CHAPTERS)
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_parameter_values_are_accepted_or_refused_in_one_sentence(module, data, tmp_path):
    parameters = importlib.import_module(module).Parameters
    names = sorted(parameters.spec())
    chosen = data.draw(st.lists(st.sampled_from(names), max_size=4, unique=True))
    values = {name: data.draw(VALUES, label=name) for name in chosen}
    if data.draw(st.booleans(), label="typo"):
        values[data.draw(st.sampled_from(names)) + "s"] = "x"  # a misspelled name
    try:
        parameters.parse(values, cwd=tmp_path)
    except Pilot2ProdError as error:
        message = str(error)
        assert error.exit_code == 2
        assert "\n" not in message.strip() and "Traceback" not in message
        assert any(name in message for name in [*names, *values]), message


@pytest.mark.parametrize("module", CHAPTERS)
def test_a_nul_character_in_any_path_is_refused_in_one_sentence(module):
    """Found by the property test above: a NUL in a path reached the operating system
    (ValueError: embedded null byte)."""
    from dataclasses import fields

    from pilot2prod.errors import ParameterError

    parameters = importlib.import_module(module).Parameters
    for f in fields(parameters):
        if f.metadata.get("path"):
            with pytest.raises(ParameterError, match=f"Parameter {f.name} contains a NUL"):
                parameters.parse({f.name: "exports/\x00tickets.csv"})
