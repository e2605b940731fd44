"""The command line: exit codes and one-sentence messages for every kind of bad input.

These run the real ``pilot2prod`` entry point in a subprocess, as a user would.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from conftest import ENGAGEMENT, acme_values, make_events
from pilot2prod import metric, triage
from pilot2prod.cli import main
from pilot2prod.errors import DataQualityError, Pilot2ProdError


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """The real entry point in a subprocess, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "pilot2prod.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=1800,
    )


@pytest.fixture
def cli_here(tmp_path, monkeypatch, capsys):
    """The same entry point in this process (for answers given before any notebook starts:
    a subprocess would only add the import time)."""

    def call(*args: str, cwd: Path) -> subprocess.CompletedProcess:
        monkeypatch.chdir(cwd)
        code = main(list(args))
        captured = capsys.readouterr()
        return subprocess.CompletedProcess(args, code, captured.out, captured.err)

    return call


def one_sentence(result: subprocess.CompletedProcess) -> str:
    err = result.stderr.strip().splitlines()
    assert "Traceback" not in result.stderr
    assert err and err[-1].startswith("error: "), result.stderr
    return err[-1]


def test_list_shows_parameters_with_types_and_help(cli_here, tmp_path):
    result = cli_here("list", cwd=tmp_path)
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
def test_bad_parameters_exit_2_before_running(cli_here, tmp_path, args, expected):
    result = cli_here("run", "01_success_metric", *args, cwd=tmp_path)
    assert result.returncode == 2
    assert expected in one_sentence(result)
    assert not (tmp_path / "runs").exists()  # nothing started, nothing written


def test_checking_and_preparing_load_no_engine_or_model_library(tmp_path):
    """`list`, `prepare` and the parameter checks before a run answer without loading the
    libraries the computations need (on a slow machine those take minutes to import)."""
    code = (
        "import sys\n"
        "from pilot2prod.cli import main\n"
        "assert main(['list']) == 0\n"
        f"assert main(['prepare', '-f', {str(ENGAGEMENT)!r}, '--out', 'book']) == 2\n"
        # Chapter 4 needs the model Chapter 3 hands on: from a playbook run's folder.
        f"assert main(['prepare', '-f', {str(ENGAGEMENT)!r}, '--out', 'book', '--from', "
        "'run']) == 0\n"
        # (papermill's file layer itself loads pyarrow and numpy)
        "heavy = ('pandas', 'sklearn', 'matplotlib', 'duckdb', 'ibis', 'scipy')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    (tmp_path / "run" / "03_simple_vs_rag" / "model").mkdir(parents=True)
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "hands model_path on: give --from" in result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
    assert len(list((tmp_path / "book").glob("*.ipynb"))) == 7


def imported_by_then(tmp_path, patched: str, heavy: tuple[str, ...], call: str) -> list[str]:
    """Which of ``heavy`` a fresh process running ``call`` (a run of Chapter 2 on a small file
    in ``tmp_path``) has imported when it first calls ``patched`` (``module.function``)."""
    module, function = patched.rsplit(".", 1)
    code = (
        f"import sys\nimport {module}\n"
        "def stop(*args, **kwargs):\n"
        f"    print(sorted(m for m in {heavy!r} if m in sys.modules))\n"
        "    raise SystemExit(0)\n"
        f"{patched} = stop\n"
        f"{call}\n"
    )
    (tmp_path / "x.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return eval(result.stdout.strip().splitlines()[-1])  # noqa: S307 - a list of names


def test_a_run_writes_its_parameters_before_loading_pandas_or_matplotlib(tmp_path):
    """The command line spends nothing on the notebook's libraries: it checks and writes the
    parameters, starts the kernel and waits (those imports took a second of every run)."""
    call = (
        "from pilot2prod import runner\n"
        "runner.run_notebook('02_data_audit', from_text={'sources': 'x.csv', "
        "'as_of': '2026-01-01'}, out='runs', progress=False)"
    )
    heavy = ("pandas", "matplotlib", "duckdb", "ibis")
    assert imported_by_then(tmp_path, "papermill.execute_notebook", heavy, call) == []
    written = list((tmp_path / "runs").glob("02_data_audit/*/parameters.yaml"))
    assert len(written) == 1 and "as_of: '2026-01-01'" in written[0].read_text()


def test_a_run_starts_its_kernel_before_loading_the_notebook_libraries(tmp_path):
    """The kernel boots while the command line loads papermill and nbconvert: nothing of
    theirs (nbformat's schema validator included) is imported before it starts."""
    call = (
        "from pilot2prod.cli import main\n"
        "main(['run', '02_data_audit', '-p', 'sources=x.csv', '-p', 'as_of=2026-01-01', "
        "'--out', 'runs', '--quiet'])"
    )
    heavy = ("nbformat", "jsonschema", "papermill", "nbconvert", "pandas")
    assert imported_by_then(tmp_path, "pilot2prod.runner.started_kernel", heavy, call) == []


@pytest.mark.parametrize("text", ["not json", "{}", "[1, 2]"])
def test_a_file_that_is_not_a_notebook(cli_here, tmp_path, text):
    (tmp_path / "mine.ipynb").write_text(text, encoding="utf-8")
    result = cli_here("run", "mine.ipynb", cwd=tmp_path)
    assert result.returncode == 2
    assert "'mine.ipynb' is not a Jupyter notebook" in one_sentence(result)


def test_unknown_notebook(tmp_path):
    result = cli("run", "99_nothing", cwd=tmp_path)
    assert result.returncode == 2
    assert "There is no notebook '99_nothing'; use one of: 01_success_metric" in one_sentence(
        result
    )


def test_parameter_file_that_is_not_a_mapping(cli_here, tmp_path):
    (tmp_path / "p.yaml").write_text("- a\n- b\n")
    result = cli_here("run", "01", "-f", "p.yaml", cwd=tmp_path)
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
def test_a_data_problem_in_the_notebook_exits_2_with_one_sentence(cases_csv):
    """The runner's side: a chapter's data error inside the kernel becomes exit 2 and the
    chapter's sentence (each chapter's own sentences are checked in-process below)."""
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


def _field_values(**extra) -> dict[str, str]:
    values = dict(item.split("=", 1) for item in FIELD[1::2])
    return values | {"events_path": "cases.csv"} | extra


def _chapter_one(cwd: Path, **extra):
    values = _field_values(**extra)
    return metric.run(metric.Parameters.parse(values, from_text=set(values), cwd=cwd))


def test_unparseable_timestamps_are_counted_masked_and_droppable(cases_csv):
    cwd = cases_csv.parent
    with pytest.raises(DataQualityError) as error:
        _chapter_one(cwd)
    message = str(error.value)
    assert error.value.exit_code == 2
    assert "2 of 400 values in 'opened' are not timestamps" in message
    assert "not a date" not in message and "12/13" not in message  # masked examples only
    dropped = _chapter_one(cwd, drop_unparseable="true").results()
    assert dropped["cleaning"]["unparseable_start"] == 2
    assert dropped["cleaning"]["end_before_start"] == 3  # reported, excluded, counted
    with pytest.raises(DataQualityError, match="no events started before 2020-01-01"):
        _chapter_one(cwd, drop_unparseable="true", as_of="2020-01-01")


def test_too_few_events_is_one_sentence(tmp_path):
    frame, _ = make_events(n=15)
    frame.to_csv(tmp_path / "cases.csv", index=False)
    with pytest.raises(DataQualityError, match="at least 30 events"):
        _chapter_one(tmp_path)


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


def test_engagement_naming_an_unknown_notebook_exits_2(cli_here, tmp_path):
    (tmp_path / "client.yaml").write_text("02_nothing:\n  events_path: x.csv\n")
    result = cli_here("playbook", "-f", "client.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert "names notebook '02_nothing', which does not exist" in one_sentence(result)


def test_playbook_runs_only_what_the_engagement_names(cli_here, tmp_path):
    """A notebook left out of the engagement is not run on anything (the playbook itself,
    and the hand-off from Chapter 1, are tested with the installed wheel in
    test_packaging.py)."""
    (tmp_path / "client.yaml").write_text("{}\n")
    result = cli_here("playbook", "-f", "client.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert "names no notebook" in one_sentence(result)
    assert not (tmp_path / "runs").exists()


def test_triage_names_a_misspelled_label_column(tmp_path):
    values = acme_values("03_simple_vs_rag") | {"label_column": "catgory"}
    with pytest.raises(Pilot2ProdError) as error:
        triage.run(triage.Parameters.parse(values, cwd=tmp_path))
    assert error.value.exit_code == 2
    assert (
        "label_column: column 'catgory' is not in 'tickets.csv'. Did you mean 'category'?"
        in str(error.value)
    )


def _deliverables(folder: Path) -> dict[str, str]:
    """Every file of an engagement folder outside logs/ and the manifest, with its SHA-256."""
    import hashlib

    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.relative_to(folder).parts[0] not in ("logs", "manifest.json")
    }


@pytest.mark.slow
def test_an_engagement_folder_is_relative_listed_resumable_and_reruns_only_when_asked(tmp_path):
    """What a consultant hands over: paths relative to the engagement file, logs apart, a copy
    of the engagement and a manifest with every file's hash; finished steps are kept, changed
    parameters and re-runs are explicit, and a failed re-run leaves the earlier outputs."""
    import json

    import yaml

    from conftest import FIELD_PARAMS

    client = tmp_path / "client"
    client.mkdir()
    frame, _ = make_events()
    frame.to_csv(client / "field_cases.csv", index=False)
    engagement = {
        "01_success_metric": {"events_path": "field_cases.csv", **FIELD_PARAMS, "n_bootstrap": 200}
    }
    (client / "client.yaml").write_text(yaml.safe_dump(engagement))
    out = tmp_path / "handover"
    (out / "01_success_metric" / "20261101-120000").mkdir(parents=True)  # an older run's layout
    refused = cli("playbook", "-f", "client.yaml", "--out", str(out), "--quiet", cwd=client)
    assert refused.returncode == 2
    assert "no run of this engagement recorded" in one_sentence(refused)
    assert (out / "01_success_metric" / "20261101-120000").is_dir()  # left as it was
    (out / "01_success_metric" / "20261101-120000").rmdir()
    (out / "01_success_metric").rmdir()

    def playbook(*extra: str) -> subprocess.CompletedProcess:
        return cli(
            "playbook", "-f", "client.yaml", "--out", str(out), "--quiet", *extra, cwd=client
        )

    first = playbook()
    assert first.returncode == 0, first.stderr[-2000:]
    files = _deliverables(out)
    step = "01_success_metric"
    assert {f"{step}/{step}.ipynb", f"{step}/results.json", f"{step}/parameters.yaml"} <= set(files)
    assert "engagement.yaml" in files and not any(f.endswith("kernel.log") for f in files)
    assert (out / "logs" / f"{step}.kernel.log").is_file()
    for name in files:  # no path of this machine in anything handed over
        assert str(tmp_path) not in (out / name).read_text(encoding="utf-8", errors="replace"), name
    manifest = json.loads((out / "manifest.json").read_text())
    assert {f["path"]: f["sha256"] for f in manifest["files"]} == files
    assert manifest["steps"][step]["status"] == "done"
    assert manifest["steps"][step]["parameters"]["events_path"] == "field_cases.csv"
    assert manifest["versions"]["pandas"] and manifest["versions"]["pilot2prod"]
    used = yaml.safe_load((out / step / "parameters.yaml").read_text())
    assert used["events_path"] == "field_cases.csv"
    assert (client / used["output_dir"]).resolve() == (out / step).resolve()

    again = playbook()  # nothing asked to change: the finished step is kept as it was
    assert again.returncode == 0 and "Kept from an earlier run: 01_success_metric" in again.stdout
    assert _deliverables(out) == files

    engagement[step]["n_bootstrap"] = 300
    (client / "client.yaml").write_text(yaml.safe_dump(engagement))
    changed = playbook()
    assert changed.returncode == 2
    message = one_sentence(changed)
    assert "another n_bootstrap" in message and "--rerun 01_success_metric" in message
    assert _deliverables(out) == files

    (client / "field_cases.csv").write_text("case_ref,opened\nCS1,01/01/2025 10:00\n")
    broken = playbook("--rerun", "01")
    assert broken.returncode == 2, broken.stderr[-2000:]
    assert _deliverables(out) == files | {"engagement.yaml": _deliverables(out)["engagement.yaml"]}
    assert (out / "logs" / f"{step}.failed" / f"{step}.ipynb").is_file()
    assert json.loads((out / "manifest.json").read_text())["steps"][step]["status"] == "done"

    frame.to_csv(client / "field_cases.csv", index=False)
    rerun = playbook("--rerun", "all")
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["steps"][step]["parameters"]["n_bootstrap"] == 300
    assert {f["path"]: f["sha256"] for f in manifest["files"]} == _deliverables(out)
    assert (
        not (out / "logs" / f"{step}.failed").exists()
        and not (out / "logs" / f"{step}.previous").exists()
    )
