"""The package as a user installs it: every import it needs is declared, the wheel ships the
notebooks, and an installed playbook runs an engagement outside this checkout."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import sysconfig
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
import reports
import yaml

from conftest import FIELD_PARAMS, acme_values, make_events
from pilot2prod.paths import REPO_ROOT

PACKAGE = REPO_ROOT / "pilot2prod"


def _declared() -> set[str]:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    names = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        names += extra
    return {n.split("[")[0].split(">")[0].split("=")[0].strip().lower() for n in names}


def _imports() -> set[str]:
    found = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found - set(sys.stdlib_module_names) - {"pilot2prod"}


def test_every_third_party_import_is_a_declared_dependency():
    distributions = packages_distributions()
    declared = _declared()
    missing = {
        module: distributions.get(module)
        for module in _imports()
        if not {d.lower() for d in distributions.get(module, [module])} & declared
    }
    assert not missing, f"imported but not in pyproject.toml dependencies: {missing}"


def test_every_declared_dependency_is_pinned_in_requirements():
    pins = {
        line.split("==")[0].split("[")[0].strip().lower().replace("_", "-")
        for requirements in ("requirements.txt", "requirements-spark.txt")
        for line in (REPO_ROOT / requirements).read_text().splitlines()
        if "==" in line and not line.startswith("#")
    }
    assert not {d.replace("_", "-") for d in _declared()} - pins


@pytest.mark.slow
def test_an_installed_wheel_runs_an_engagement_outside_the_checkout(tmp_path):
    # uv builds and installs (it is pinned in requirements.txt, beside this interpreter): the
    # same wheel as pip's, without pip's minutes on a small machine.
    uv = str(Path(sys.executable).with_name("uv"))
    wheels = tmp_path / "wheels"
    subprocess.run(
        [uv, "build", "--wheel", "--quiet", "--out-dir", str(wheels), str(REPO_ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = wheels.glob("pilot2prod-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    # Third-party packages come from this environment (their declaration is checked above);
    # pilot2prod itself only from the wheel: the editable install's finder is not loaded.
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [uv, "pip", "install", "--quiet", "--python", str(python), "--no-deps", str(wheel)],
        check=True,
        capture_output=True,
    )
    where = subprocess.run(
        [str(python), "-c", "import pilot2prod, sys; print(pilot2prod.__file__)"],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    ).stdout
    assert str(venv) in where and str(REPO_ROOT) not in where
    # A client's engagement, light enough for a test: Chapter 1 on field-service cases (other
    # columns, days, day-first text), Chapter 3 on the newest sample-company tickets with this
    # run's metric handed on. (The audit runs on other engagements in the book and under nbval.)
    frame, planted = make_events()
    frame.to_csv(tmp_path / "field_cases.csv", index=False)
    engagement = {
        "01_success_metric": {"events_path": "field_cases.csv", **FIELD_PARAMS, "n_bootstrap": 300},
        "02_data_audit": {"sources": "field_cases.csv", "as_of": "2025-07-02"},
        "03_simple_vs_rag": acme_values("03_simple_vs_rag")
        | {
            "kb_path": "",
            "gold_path": "",
            "llm_base_url": "",  # the bundled model runs in the book's build
            "max_examples": 600,
            "n_bootstrap": 200,
            "learning_curve_seeds": 1,
            "learning_curve_sizes": "5",
        },
    }
    (tmp_path / "client.yaml").write_text(yaml.safe_dump(engagement))
    # nbconvert's templates are data files of that environment too (share/jupyter).
    jupyter_path = os.pathsep.join(
        filter(None, [str(Path(sys.prefix) / "share" / "jupyter"), os.environ.get("JUPYTER_PATH")])
    )
    result = subprocess.run(
        [
            str(venv / "bin" / "pilot2prod"),
            "playbook",
            "-f",
            "client.yaml",
            "--out",
            "out",
            "--quiet",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=dict(os.environ, JUPYTER_PATH=jupyter_path),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    runs = {}
    for name in engagement:
        runs[name] = tmp_path / "out" / name
        assert json.loads((runs[name] / "results.json").read_text())["notebook"] == name
    metric = json.loads((runs["01_success_metric"] / "results.json").read_text())
    assert metric["unit"] == "days"
    base = metric["baseline"]
    assert base["km_low"] <= planted["true_median_days"] <= base["km_high"]
    assert base["naive_closed_only"] < planted["true_median_days"]
    assert base["open"] == pytest.approx(planted["open"], abs=2)
    assert metric["guardrails"] == []
    assert {row["segment"] for row in metric["by_segment"]} == {"East", "North", "South"}
    assert " d " in metric["statement"]
    for name, folder in runs.items():
        names = {p.name for p in folder.iterdir()}
        assert {f"{name}.ipynb", f"{name}.html", f"{name}.no-code.html", "parameters.yaml"} <= names
        used = yaml.safe_load((folder / "parameters.yaml").read_text())
        assert (tmp_path / used["output_dir"]).resolve() == folder  # relative to the engagement
        no_code = (folder / f"{name}.no-code.html").read_text()
        assert 'class="jp-CodeMirrorEditor' not in no_code  # no code cells for executives
        assert 'class="jp-CodeMirrorEditor' in (folder / f"{name}.html").read_text()
        assert "<img" in no_code  # figures survive the no-code export
        # Fit for a client: the answer first, no traceback, warning or path of this machine.
        assert reports.problems(no_code, folder) == [], name
    # In a browser, offline: the summary on the first screen, no console error.
    assert reports.check_in_chromium([f / f"{n}.no-code.html" for n, f in runs.items()]) == []
    used = yaml.safe_load((runs["01_success_metric"] / "parameters.yaml").read_text())
    assert used["events_path"] == "field_cases.csv"  # relative to the engagement file
    # The triage notebook was handed this run's success metric and read it.
    triage = runs["03_simple_vs_rag"]
    used = yaml.safe_load((triage / "parameters.yaml").read_text())
    assert used["metric_spec_path"] == "out/01_success_metric/metric_spec.yaml"
    results = json.loads((triage / "results.json").read_text())
    assert results["metric_spec"] == metric["statement"]
    if results["recommendation"]["approach"]:
        effect = results["recommendation"]["projected_effect"]
        assert "Chapter 1 baseline" in effect
        assert "reaches the signed target" in effect or "cannot reach its own target" in effect
