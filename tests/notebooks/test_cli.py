"""The command line: exit codes and one-sentence messages for every kind of bad input.

These run the real ``pilot2prod`` entry point in a subprocess, as a user would.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

from conftest import acme_values, make_events


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pilot2prod.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )


def one_sentence(result: subprocess.CompletedProcess) -> str:
    err = result.stderr.strip().splitlines()
    assert "Traceback" not in result.stderr
    assert err and err[-1].startswith("error: "), result.stderr
    return err[-1]


def test_list_shows_parameters_with_types_and_help(tmp_path):
    result = cli("list", cwd=tmp_path)
    assert result.returncode == 0
    assert "01_success_metric: Success metric and baseline" in result.stdout
    assert "events_path" in result.stdout and "str" in result.stdout
    assert "column with the start timestamp" in result.stdout


@pytest.mark.parametrize(
    "args, expected",
    [
        (["-p", "metrc=median"], "Unknown parameter metrc. Did you mean metric?"),
        (["-p", "seed=abc"], "Parameter seed must be an integer, not 'abc'"),
        (["-p", "metric=medain"], "Parameter metric is 'medain' (did you mean 'median'?)"),
        (
            ["-p", "events_path=missing.csv"],
            "Parameter events_path: there is no file or folder at 'missing.csv'",
        ),
        ([], "Parameter events_path is empty; give it"),
        (
            ["-p", "events_path=postgresql://me:hunter2@db/x#t"],
            "holds a password in its database URL",
        ),
        (["-p", "alpha"], "write it as -p name=value"),
        (["-f", "nope.yaml"], "Parameter file 'nope.yaml' does not exist"),
        (["-p", "drop_unparseable=perhaps"], "must be true or false"),
    ],
)
def test_bad_parameters_exit_2_before_running(tmp_path, args, expected):
    result = cli("run", "01_success_metric", *args, cwd=tmp_path)
    assert result.returncode == 2
    assert expected in one_sentence(result)
    assert not (tmp_path / "runs").exists()  # nothing started, nothing written


def test_unknown_notebook(tmp_path):
    result = cli("run", "99_nothing", cwd=tmp_path)
    assert result.returncode == 2
    assert "There is no notebook '99_nothing'; use one of: 01_success_metric" in one_sentence(
        result
    )


def test_parameter_file_that_is_not_a_mapping(tmp_path):
    (tmp_path / "p.yaml").write_text("- a\n- b\n")
    result = cli("run", "01", "-f", "p.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert "must be a mapping" in one_sentence(result)


@pytest.fixture
def cases_csv(tmp_path) -> Path:
    frame, _ = make_events(n=400)
    frame.loc[[5, 9], "opened"] = ["12/13/2025 25:61", "not a date"]
    closed = frame.index[frame["closed"] != ""][:3]
    frame.loc[closed, "closed"] = "01/01/2020 00:00"  # resolved before it was opened
    path = tmp_path / "cases.csv"
    frame.to_csv(path, index=False)
    return path


FIELD = [
    "-p",
    "id_column=case_ref",
    "-p",
    "start_column=opened",
    "-p",
    "end_column=closed",
    "-p",
    "segment_column=region",
    "-p",
    "unit=days",
    "-p",
    "as_of=",
    "-p",
    "reopened_column=",
    "-p",
    "csat_column=",
    "-p",
    "n_bootstrap=300",
    "-p",
    "timestamp_format=%d/%m/%Y %H:%M",
]


@pytest.mark.slow
def test_data_problems_exit_2_with_one_sentence(cases_csv):
    cwd = cases_csv.parent
    missing = cli(
        "run",
        "01",
        "-p",
        "events_path=cases.csv",
        *FIELD,
        "-p",
        "start_column=open",
        "--quiet",
        cwd=cwd,
    )
    assert missing.returncode == 2
    message = one_sentence(missing)
    assert "start_column: column 'open' is not in 'cases.csv'. Did you mean 'opened'?" in message
    assert "Available columns: case_ref, opened, closed, region" in message

    unparseable = cli("run", "01", "-p", "events_path=cases.csv", *FIELD, "--quiet", cwd=cwd)
    assert unparseable.returncode == 2
    message = one_sentence(unparseable)
    assert "2 of 400 values in 'opened' are not timestamps" in message
    assert "not a date" not in message and "12/13" not in message  # masked examples only

    dropped = cli(
        "run",
        "01",
        "-p",
        "events_path=cases.csv",
        *FIELD,
        "-p",
        "drop_unparseable=true",
        "--quiet",
        cwd=cwd,
    )
    assert dropped.returncode == 0, dropped.stderr
    folder = Path(dropped.stdout.split("Outputs in ")[1].splitlines()[0])
    assert folder.parent.parent == cwd / "runs"  # user paths resolve in their folder
    results = json.loads((folder / "results.json").read_text())
    assert results["cleaning"]["unparseable_start"] == 2
    assert results["cleaning"]["end_before_start"] == 3  # reported, excluded, counted
    executed = (folder / "01_success_metric.ipynb").read_text()
    assert "not a date" not in executed

    empty_window = cli(
        "run",
        "01",
        "-p",
        "events_path=cases.csv",
        *FIELD,
        "-p",
        "drop_unparseable=true",
        "-p",
        "as_of=2020-01-01",
        "--quiet",
        cwd=cwd,
    )
    assert empty_window.returncode == 2
    assert "no events started before 2020-01-01" in one_sentence(empty_window)


@pytest.mark.slow
def test_too_few_events_exit_2(tmp_path):
    frame, _ = make_events(n=15)
    frame.to_csv(tmp_path / "few.csv", index=False)
    result = cli("run", "01", "-p", "events_path=few.csv", *FIELD, "--quiet", cwd=tmp_path)
    assert result.returncode == 2
    assert "at least 30 events" in one_sentence(result)


@pytest.mark.slow
def test_a_failing_notebook_exits_1_naming_the_cell(tmp_path):
    nb = nbformat.v4.new_notebook()
    parameters = nbformat.v4.new_code_cell("rows: int = 3  # how many rows")
    parameters.metadata["tags"] = ["parameters"]
    nb.cells = [
        parameters,
        nbformat.v4.new_code_cell("x = 1"),
        nbformat.v4.new_code_cell("1 / (rows - 3)"),
    ]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    path = tmp_path / "broken.ipynb"
    nbformat.write(nb, str(path))
    result = cli("run", str(path), "--quiet", cwd=tmp_path)
    assert result.returncode == 1
    message = one_sentence(result)
    assert "failed in cell 3 (1 / (rows - 3)) with ZeroDivisionError" in message
    assert "broken.ipynb" in message


def test_engagement_naming_an_unknown_notebook_exits_2(tmp_path):
    (tmp_path / "client.yaml").write_text("02_nothing:\n  events_path: x.csv\n")
    result = cli("playbook", "-f", "client.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert "names notebook '02_nothing', which does not exist" in one_sentence(result)


def test_playbook_runs_only_what_the_engagement_names(tmp_path):
    """A notebook left out of the engagement is not run on anything (the playbook itself,
    and the hand-off from Chapter 1, are tested with the installed wheel in
    test_packaging.py)."""
    (tmp_path / "client.yaml").write_text("{}\n")
    result = cli("playbook", "-f", "client.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert "names no notebook" in one_sentence(result)
    assert not (tmp_path / "runs").exists()


@pytest.mark.slow
def test_triage_notebook_names_a_misspelled_label_column(tmp_path):
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(acme_values("03_simple_vs_rag")))
    result = cli(
        "run",
        "03_simple_vs_rag",
        "-f",
        "p.yaml",
        "-p",
        "label_column=catgory",
        "--quiet",
        cwd=tmp_path,
    )
    assert result.returncode == 2
    message = one_sentence(result)
    assert (
        "label_column: column 'catgory' is not in 'tickets.csv'. Did you mean 'category'?"
        in message
    )
