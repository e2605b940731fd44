"""`pilot2prod serve` started on loopback and sent real HTTP requests."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import requests

from pilot2prod.production.monitoring import LOG_FIELDS, read_prediction_log
from pilot2prod.production.registry import CHAMPION, Registry, default_uri
from pilot2prod.triage.models import TfidfLinear

EMAIL = "jane.roe@example.org"
# A real service in its own process, started once for the module: not for the quick subset.
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def registry_folder(tmp_path_factory, dataset_dir) -> Path:
    folder = tmp_path_factory.mktemp("registry")
    frame = pd.read_csv(dataset_dir / "tickets.csv", nrows=1500)
    texts = (frame["subject"].fillna("") + " \n" + frame["body"].fillna("")).tolist()
    model = TfidfLinear().fit(texts, frame["category"].to_numpy())
    reg = Registry(default_uri(folder))
    v = reg.register(
        model,
        data_sha256="d" * 64,
        parameters={},
        metrics={},
        code_version="test",
        probe=(["1"], [texts[0]]),
        extra_tags={"text_columns": json.dumps(["subject", "body"]), "threshold": "0.5"},
    )
    reg.set_alias(CHAMPION, v.version)
    return folder


def _start(folder: Path, *extra: str) -> tuple[subprocess.Popen, int]:
    port = _free_port()
    cmd = [sys.executable, "-m", "pilot2prod.cli", "serve", "--registry", str(folder)]
    cmd += ["--port", str(port), *extra]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return proc, port


@pytest.fixture(scope="module")
def service(registry_folder, tmp_path_factory):
    work = tmp_path_factory.mktemp("service")
    flags, log = work / "flags.json", work / "predictions.jsonl"
    flags.write_text(json.dumps({"mode": "rollout", "percentage": 30}))
    proc, port = _start(registry_folder, "--flags", str(flags), "--log", str(log), "--salt", "s1")
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if requests.get(f"{base}/healthz", timeout=1).ok:
                break
        except requests.ConnectionError:
            if proc.poll() is not None:
                pytest.fail(proc.stderr.read())
            time.sleep(0.2)
    yield base, flags, log
    proc.terminate()
    proc.wait(timeout=30)


def _set_flags(flags: Path, **values) -> None:
    flags.write_text(json.dumps(values))
    # A change within the file system's time resolution still changes the size or the time.
    os.utime(flags, (time.time() + 1, time.time() + 1))


def _batch(base: str, ids, **fields) -> list[dict]:
    items = [{"id": i, "subject": "Invoice charged twice", "body": "refund", **fields} for i in ids]
    r = requests.post(f"{base}/predict", json={"items": items}, timeout=60)
    assert r.status_code == 200, r.text
    return r.json()["items"]


def test_health_names_the_version_and_mode(service):
    base, flags, _ = service
    _set_flags(flags, mode="rollout", percentage=30)
    health = requests.get(f"{base}/healthz", timeout=5).json()
    assert health["version"] == 1 and health["alias"] == CHAMPION
    assert health["mode"] == "rollout" and health["fields"] == ["subject", "body"]


def test_rollout_split_is_near_the_percentage_and_stable_per_ticket(service):
    base, flags, _ = service
    _set_flags(flags, mode="rollout", percentage=30)
    ids = [f"T-{i}" for i in range(3000)]
    first = _batch(base, ids[:1000]) + _batch(base, ids[1000:2000]) + _batch(base, ids[2000:])
    share = sum(a["arm"] == "model" for a in first) / len(first)
    assert abs(share - 0.30) < 3 * (0.3 * 0.7 / 3000) ** 0.5  # within three standard errors
    again = _batch(base, ids[:1000])
    assert [a["arm"] for a in again] == [a["arm"] for a in first[:1000]]
    single = requests.post(f"{base}/predict", json={"id": "T-5", "subject": "x", "body": "y"})
    assert single.json()["arm"] == first[5]["arm"]
    for a in first:
        assert (a["prediction"] is not None) == (a["arm"] == "model")
        assert a["act"] == (a["arm"] == "model" and a["confidence"] >= 0.5)
        assert a["route"] == (a["prediction"] if a["act"] else "manual")


def test_kill_switch_takes_effect_without_a_restart(service):
    base, flags, _ = service
    _set_flags(flags, mode="full", kill_switch=True)
    answers = _batch(base, [f"K-{i}" for i in range(50)])
    assert {a["arm"] for a in answers} == {"killed"}
    assert not any(a["act"] or a["prediction"] for a in answers)
    metrics = requests.get(f"{base}/metrics", timeout=5).text
    assert "pilot2prod_kill_switch 1" in metrics
    _set_flags(flags, mode="full", kill_switch=False)
    answers = _batch(base, [f"K-{i}" for i in range(50)])
    assert {a["arm"] for a in answers} == {"model"}


def test_shadow_mode_acts_on_nothing_but_logs_predictions(service):
    base, flags, log = service
    _set_flags(flags, mode="shadow")
    answers = _batch(base, [f"S-{i}" for i in range(40)])
    assert all(a["arm"] == "shadow" and not a["act"] and a["prediction"] is None for a in answers)
    assert all(a["route"] == "manual" for a in answers)
    logged = read_prediction_log(log).frame
    shadow = logged[logged["id"].str.startswith("S-")]
    assert len(shadow) == 40 and shadow["prediction"].notna().all()
    assert not shadow["acted"].any()


def test_bad_requests_get_4xx_without_echoing_the_input(service):
    base, flags, _ = service
    _set_flags(flags, mode="full")
    cases = [
        (b"{not json", 400),
        (json.dumps({"subject": EMAIL}).encode(), 422),  # no id
        (json.dumps({"id": "1", "subject": 5}).encode(), 422),
        (json.dumps({"id": "1", "subject": "", "body": " "}).encode(), 422),
        (json.dumps({"items": []}).encode(), 422),
        (json.dumps({"items": [{"id": "1", "body": EMAIL}, "x"]}).encode(), 422),
        (json.dumps([1, 2]).encode(), 422),
        (json.dumps({"items": [{"id": str(i), "body": "b"} for i in range(1001)]}).encode(), 413),
        (json.dumps({"id": True, "body": EMAIL}).encode(), 422),
    ]
    for body, code in cases:
        r = requests.post(f"{base}/predict", data=body, timeout=30)
        assert r.status_code == code, (body[:60], r.status_code, r.text)
        assert EMAIL not in r.text and "error" in r.json()
    assert requests.get(f"{base}/healthz", timeout=5).ok  # still serving


def test_the_log_holds_no_text_and_metrics_count_requests(service):
    base, flags, log = service
    _set_flags(flags, mode="full")
    r = requests.post(
        f"{base}/predict", json={"id": "P-1", "subject": "Login", "body": f"mail {EMAIL}"}
    )
    assert r.status_code == 200
    text = log.read_text()
    assert EMAIL not in text and "Login" not in text
    record = json.loads(text.strip().splitlines()[-1])
    assert set(record) == set(LOG_FIELDS) and record["id"] == "P-1"
    metrics = requests.get(f"{base}/metrics", timeout=5).text
    assert 'pilot2prod_requests_total{status="200"}' in metrics
    assert 'pilot2prod_requests_total{status="422"}' in metrics
    assert "pilot2prod_latency_seconds_count" in metrics
    assert 'pilot2prod_model_version{model="ticket-triage"} 1' in metrics


def test_the_service_refuses_to_start_on_a_model_it_cannot_verify(registry_folder, tmp_path):
    proc, _ = _start(registry_folder, "--alias", "nonexistent")
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2
    assert "no version of 'ticket-triage' with the alias 'nonexistent'" in err
    assert "Traceback" not in err


def test_a_broken_flag_file_keeps_the_last_good_flags(service):
    base, flags, _ = service
    _set_flags(flags, mode="full", kill_switch=True)
    assert _batch(base, ["B-1"])[0]["arm"] == "killed"
    flags.write_text('{"mode": "full", "kill_switch": fals')  # an editor saved half a file
    os.utime(flags, (time.time() + 2, time.time() + 2))
    assert _batch(base, ["B-2"])[0]["arm"] == "killed"  # the kill switch is not lost
    _set_flags(flags, mode="full")
    assert _batch(base, ["B-3"])[0]["arm"] == "model"


def test_model_list_and_promote_on_the_command_line(registry_folder):
    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "pilot2prod.cli",
                "model",
                *args,
                "--registry",
                str(registry_folder),
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )

    listed = cli("list")
    assert listed.returncode == 0 and "version 1: champion" in listed.stdout
    missing = cli("promote", "--version", "9")
    assert missing.returncode == 2
    assert "ticket-triage has no version 9; see pilot2prod model list" in missing.stderr
    assert cli("promote", "--version", "1").returncode == 0
