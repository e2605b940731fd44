"""One error hierarchy: the CLI and the notebooks show its message, never a traceback."""

from __future__ import annotations


class Pilot2ProdError(Exception):
    """Base class: something the user can fix, described in one plain sentence."""

    exit_code = 2


class ParameterError(Pilot2ProdError):
    """A parameter is unknown, missing, of the wrong type or out of range."""


class DataSourceError(Pilot2ProdError):
    """A file or table cannot be read, or lacks what the analysis needs."""


class DataQualityError(Pilot2ProdError):
    """The data was read but too little of it is usable for the analysis."""


class NotebookFailed(Pilot2ProdError):
    """A notebook raised an unexpected error while executing (exit code 1)."""

    exit_code = 1


#: Exception class names that mean "bad input" when seen in a failed notebook.
USER_ERROR_NAMES = frozenset(
    {"Pilot2ProdError", "ParameterError", "DataSourceError", "DataQualityError"}
)
