"""Benchmark: the prediction service under a bounded load (target: serving overhead under 3 ms
at p50 on 2 cores, with zero errors).

    python benchmarks/serving.py [--requests N] [--clients C]

It exports the sample company's triage model (TF-IDF + linear, as Chapter 3 does), registers
it, starts ``pilot2prod serve`` on loopback in full rollout, and sends N single-ticket requests
from C threads of a second process over kept-alive connections. It prints the throughput, the
round trip's p50/p95/p99, and beside them the reference measured in the same run: the model's
own time per ticket in process, on the same tickets (text masking included, as the service
does it). The difference at p50 is the serving overhead: HTTP, JSON, the flag check and the
prediction log.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
TARGET_MS = 3.0

# The load runs in this second process; the service in its own.
CLIENT = r"""
import json, sys, time
from concurrent.futures import ThreadPoolExecutor
import http.client
base_port, clients, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
bodies = [json.dumps(t).encode() for t in json.load(open(path))]
def worker(chunk):
    conn = http.client.HTTPConnection("127.0.0.1", base_port, timeout=30)
    out = []
    for body in chunk:
        start = time.perf_counter()
        try:
            conn.request("POST", "/predict", body, {"Content-Type": "application/json"})
            r = conn.getresponse(); r.read(); status = r.status
        except Exception:
            conn.close(); conn = http.client.HTTPConnection("127.0.0.1", base_port, timeout=30)
            status = 599
        out.append(((time.perf_counter() - start) * 1000, status))
    conn.close()
    return out
chunks = [bodies[i::clients] for i in range(clients)]
started = time.perf_counter()
with ThreadPoolExecutor(clients) as pool:
    results = [x for part in pool.map(worker, chunks) for x in part]
wall = time.perf_counter() - started
print(json.dumps({"wall": wall, "ms": [r[0] for r in results], "status": [r[1] for r in results]}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=1)
    args = parser.parse_args()

    from pilot2prod.privacy import mask_personal_text
    from pilot2prod.production.model_store import load_verified
    from pilot2prod.production.registry import CHAMPION, Registry, default_uri, predict
    from pilot2prod.production.service import _free_port
    from pilot2prod.sample_company.model import export_sample_model

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        model_folder = export_sample_model(folder / "export", rows=4000)
        meta = json.loads((model_folder / "metadata.json").read_text())
        model = load_verified(model_folder / meta["model_file"], meta["model_sha256"])
        registry = Registry(default_uri(folder))
        version = registry.register(
            model,
            data_sha256=meta["data_sha256"],
            parameters={},
            metrics={},
            code_version="benchmark",
            probe=(["0"], ["probe"]),
            extra_tags={"text_columns": json.dumps(["subject", "body"])},
        )
        registry.set_alias(CHAMPION, version.version)
        window = pd.read_csv(ROOT / "datasets" / "acme" / "production_window.csv")
        rows = window.sample(args.requests, replace=True, random_state=0)
        tickets = [
            {"id": f"B-{i}", "subject": s, "body": b}
            for i, (s, b) in enumerate(zip(rows["subject"], rows["body"], strict=True))
        ]
        (folder / "tickets.json").write_text(json.dumps(tickets))

        # Reference: the model's own time per ticket, in process, on the same tickets.
        texts = [f"{t['subject']} \n{t['body']}".strip() for t in tickets]
        predict(model, texts[:1])
        in_process = []
        for text in texts:
            start = time.perf_counter()
            predict(model, [mask_personal_text([text])[0][0].strip()])
            in_process.append((time.perf_counter() - start) * 1000)

        flags = folder / "flags.json"
        flags.write_text(json.dumps({"mode": "full"}))
        port = _free_port()
        service = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "pilot2prod.cli",
                "serve",
                "--registry",
                str(folder),
                "--flags",
                str(flags),
                "--log",
                str(folder / "log.jsonl"),
                "--port",
                str(port),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            import requests

            for _ in range(600):
                try:
                    if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).ok:
                        break
                except requests.ConnectionError:
                    time.sleep(0.2)
            # Warm-up, then the measured load from a second process.
            for t in tickets[:50]:
                requests.post(f"http://127.0.0.1:{port}/predict", json=t, timeout=30)
            done = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    CLIENT,
                    str(port),
                    str(args.clients),
                    str(folder / "tickets.json"),
                ],
                capture_output=True,
                text=True,
                check=True,
            )
        finally:
            service.terminate()
            service.wait(timeout=30)
        load = json.loads(done.stdout)
        ms = np.array(load["ms"])
        errors = sum(s != 200 for s in load["status"])
        logged = pd.read_json(folder / "log.jsonl", lines=True)["latency_ms"].to_numpy()

    p50, p95, p99 = np.percentile(ms, [50, 95, 99])
    ref50, ref95, ref99 = np.percentile(in_process, [50, 95, 99])
    overhead = p50 - ref50
    print(
        f"{args.requests:,} requests from {args.clients} client thread(s) in {load['wall']:.1f} s: "
        f"{args.requests / load['wall']:.0f} requests/s, {errors} errors"
    )
    print(f"{'':24}{'p50':>9}{'p95':>9}{'p99':>9}  (ms)")
    print(f"{'round trip (HTTP)':24}{p50:9.2f}{p95:9.2f}{p99:9.2f}")
    print(f"{'model in process':24}{ref50:9.2f}{ref95:9.2f}{ref99:9.2f}")
    print(
        f"{'model inside service':24}{np.percentile(logged, 50):9.2f}"
        f"{np.percentile(logged, 95):9.2f}{np.percentile(logged, 99):9.2f}"
    )
    print(
        f"serving overhead at p50: {overhead:.2f} ms (target under {TARGET_MS:g} ms); "
        f"round trip / model = {p50 / ref50:.2f}x"
    )
    ok = overhead < TARGET_MS and errors == 0
    print("target met" if ok else "target NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
