"""The prediction service: FastAPI on uvicorn, the model loaded by alias, behind a feature flag.

``POST /predict`` takes one ticket (``{"id": ..., "<field>": "...", ...}``) or a batch
(``{"items": [...]}``); the fields are the text columns the model was trained on (recorded in
the registry). ``GET /healthz`` says which version serves in which mode; ``GET /metrics`` is
in Prometheus' text format.

The flag file (JSON, re-read when it changes, no restart) decides what a decision does:

* ``{"kill_switch": true}``: no model is consulted; every ticket goes to manual triage;
* ``{"mode": "shadow"}``: the model predicts and the decision is logged, but the answer
  carries no prediction, so nothing downstream can act on it;
* ``{"mode": "rollout", "percentage": 10}``: a ticket is in the model's arm when a hash of
  its id (with ``salt``) falls under the percentage; the same ticket always lands in the same
  arm, and the arm is logged (the randomised design Chapter 6 reads);
* ``{"mode": "full"}``: every ticket is in the model's arm.

In the model's arm a prediction below the version's routing threshold is answered but not
acted on. Every decision is appended to the prediction log (JSON Lines) with the ticket id,
the version, a hash of the input, the prediction, its confidence, the latency and the arm:
never the text. Bad requests get a 4xx naming the problem without quoting the input.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# FastAPI reads the endpoints' annotations from this module's globals (the annotations are
# strings here): Request must be imported at the top.
from fastapi import Request

from pilot2prod.errors import ParameterError

MODES = ("shadow", "rollout", "full")
MAX_BATCH = 1000
MAX_TEXT = 100_000  # characters per field: a ticket, not a file
LATENCY_BUCKETS_MS = (1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500)


@dataclass(frozen=True)
class Flags:
    mode: str = "shadow"
    percentage: float = 0.0
    kill_switch: bool = False

    @classmethod
    def read(cls, path: str) -> Flags:
        """The flags in ``path``; a missing file means shadow mode (the safe default)."""
        if not path or not Path(path).is_file():
            return cls()
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8") or "{}")
        except ValueError:
            raise ParameterError(
                f"Parameter flags_path: '{Path(path).name}' is not JSON; write e.g. "
                '{"mode": "rollout", "percentage": 10, "kill_switch": false}.'
            ) from None
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: Any) -> Flags:
        if not isinstance(data, dict):
            raise ParameterError("Parameter flags_path: the flag file must hold a JSON object.")
        unknown = sorted(set(data) - {"mode", "percentage", "kill_switch"})
        if unknown:
            raise ParameterError(
                f"Parameter flags_path: unknown flag '{unknown[0]}'; use mode, percentage and "
                "kill_switch."
            )
        mode = data.get("mode", "shadow")
        if mode not in MODES:
            raise ParameterError(
                f"Parameter flags_path: mode '{mode}' is not one of {', '.join(MODES)}."
            )
        pct = data.get("percentage", 0.0)
        if isinstance(pct, bool) or not isinstance(pct, int | float) or not 0 <= pct <= 100:
            raise ParameterError("Parameter flags_path: percentage must be a number from 0 to 100.")
        kill = data.get("kill_switch", False)
        if not isinstance(kill, bool):
            raise ParameterError("Parameter flags_path: kill_switch must be true or false.")
        return cls(mode, float(pct), kill)


def bucket(ticket_id: str, salt: str = "") -> float:
    """A ticket's place in [0, 100): stable across requests, restarts and machines."""
    digest = hashlib.sha256(f"{salt}:{ticket_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 * 100


def arm_of(flags: Flags, ticket_id: str, salt: str = "") -> str:
    if flags.kill_switch:
        return "killed"
    if flags.mode == "shadow":
        return "shadow"
    if flags.mode == "full" or bucket(ticket_id, salt) < flags.percentage:
        return "model"
    return "control"


@dataclass
class ServiceConfig:
    registry_uri: str
    model_name: str = "ticket-triage"
    alias: str = "champion"
    flags_path: str = ""
    log_path: str = "predictions.jsonl"
    salt: str = ""
    text_fields: tuple[str, ...] = ()  # () = the text columns recorded with the version


@dataclass
class _Metrics:
    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: dict[str, int] = field(default_factory=dict)  # status code -> count
    decisions: dict[str, int] = field(default_factory=dict)  # arm -> count
    predictions: dict[str, int] = field(default_factory=dict)  # label -> count
    latency: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_BUCKETS_MS) + 1))
    latency_sum_ms: float = 0.0
    latency_count: int = 0

    def status(self, code: int) -> None:
        with self.lock:
            self.requests[str(code)] = self.requests.get(str(code), 0) + 1


class Service:
    """The model and everything a request needs; :func:`create_app` wraps it in FastAPI."""

    def __init__(self, config: ServiceConfig) -> None:
        from pilot2prod.production.registry import Registry

        self.config = config
        registry = Registry(config.registry_uri, config.model_name)
        self.version = registry.by_alias(config.alias, "alias")
        self.model = registry.load(self.version, "alias")
        recorded = json.loads(self.version.tags.get("text_columns", "[]"))
        self.fields = tuple(config.text_fields) or tuple(recorded) or ("text",)
        self.threshold = float(self.version.tags.get("threshold", "0") or 0)
        self.metrics = _Metrics()
        self._flags_stamp: tuple[float, int] | None = None
        self._flags = Flags.read(config.flags_path)
        self._log_lock = threading.Lock()
        Path(config.log_path).parent.mkdir(parents=True, exist_ok=True)
        self._log = open(config.log_path, "a", encoding="utf-8")  # noqa: SIM115 - lives with the app

    # ------------------------------------------------------------------ flags
    def flags(self) -> Flags:
        """The flag file's current content; re-read only when its size or time changed. A
        broken edit keeps the last good flags (and the kill switch is never lost that way)."""
        path = self.config.flags_path
        if not path:
            return self._flags
        try:
            st = os.stat(path)
            stamp = (st.st_mtime, st.st_size)
        except OSError:
            stamp = None
        if stamp != self._flags_stamp:
            try:
                self._flags = Flags.read(path) if stamp else Flags()
                self._flags_stamp = stamp
            except ParameterError:
                pass
        return self._flags

    # ------------------------------------------------------------------ requests
    def parse(self, body: Any) -> list[tuple[str, str]]:
        """(id, text) per ticket, or ValueError with a message that quotes no input value."""
        if isinstance(body, dict) and "items" in body:
            items = body["items"]
            if not isinstance(items, list) or not items:
                raise ValueError("'items' must be a non-empty list of tickets.")
            if len(items) > MAX_BATCH:
                raise OverflowError(f"a batch holds at most {MAX_BATCH} tickets.")
        elif isinstance(body, dict):
            items = [body]
        else:
            raise ValueError("the body must be a JSON object: one ticket, or {'items': [...]}.")
        parsed = []
        for n, item in enumerate(items):
            where = f"ticket {n + 1}: " if len(items) > 1 or "items" in body else ""
            if not isinstance(item, dict):
                raise ValueError(f"{where}each ticket must be a JSON object.")
            ticket_id = item.get("id")
            if isinstance(ticket_id, bool) or not isinstance(ticket_id, str | int):
                raise ValueError(f"{where}'id' is required (text or a whole number).")
            if not str(ticket_id).strip():
                raise ValueError(f"{where}'id' is empty.")
            parts = []
            for name in self.fields:
                value = item.get(name, "")
                if value is None:
                    value = ""
                if not isinstance(value, str):
                    raise ValueError(f"{where}'{name}' must be text.")
                if len(value) > MAX_TEXT:
                    raise ValueError(f"{where}'{name}' is longer than {MAX_TEXT:,} characters.")
                parts.append(value)
            if not any(p.strip() for p in parts):
                raise ValueError(f"{where}no text: give at least one of {', '.join(self.fields)}.")
            parsed.append((str(ticket_id), " \n".join(parts).strip()))
        return parsed

    def decide(self, tickets: list[tuple[str, str]]) -> list[dict[str, Any]]:
        from pilot2prod.privacy import mask_personal_text
        from pilot2prod.production.registry import predict

        flags = self.flags()
        arms = [arm_of(flags, tid, self.config.salt) for tid, _ in tickets]
        asked = [i for i, arm in enumerate(arms) if arm != "killed"]
        start = time.perf_counter()
        labels: dict[int, str | None] = {}
        confidence: dict[int, float] = {}
        if asked:
            # The text as training built it (pilot2prod.triage.data.model_texts): columns joined
            # with " \n", stripped, personal data masked, stripped again.
            texts = [t.strip() for t in mask_personal_text([tickets[i][1] for i in asked])[0]]
            out = predict(self.model, texts)
            for j, i in enumerate(asked):
                labels[i] = out.labels[j]
                confidence[i] = float(out.confidence[j])
        latency_ms = (time.perf_counter() - start) * 1000 / max(len(tickets), 1)
        now = datetime.now(UTC).isoformat(timespec="milliseconds")
        answers, lines = [], []
        for i, (tid, text) in enumerate(tickets):
            arm = arms[i]
            label = labels.get(i)
            conf = confidence.get(i)
            acted = arm == "model" and label is not None and (conf or 0.0) >= self.threshold
            answers.append(
                {
                    "id": tid,
                    "arm": arm,
                    "act": acted,
                    "prediction": label if arm == "model" else None,
                    "confidence": round(conf, 4) if arm == "model" and conf is not None else None,
                    "route": label if acted else "manual",
                    "model_version": self.version.version,
                }
            )
            lines.append(
                json.dumps(
                    {
                        "time": now,
                        "id": tid,
                        "model_version": self.version.version,
                        "input_sha256": hashlib.sha256(text.encode()).hexdigest(),
                        "prediction": label,
                        "confidence": None if conf is None else round(conf, 4),
                        "latency_ms": round(latency_ms, 3),
                        "arm": arm,
                        "acted": acted,
                    }
                )
            )
        with self._log_lock:
            self._log.write("\n".join(lines) + "\n")
            self._log.flush()
        with self.metrics.lock:
            m = self.metrics
            for i, arm in enumerate(arms):
                m.decisions[arm] = m.decisions.get(arm, 0) + 1
                if labels.get(i) is not None:
                    m.predictions[labels[i]] = m.predictions.get(labels[i], 0) + 1
            for _ in tickets:
                m.latency[_bucket_index(latency_ms)] += 1
            m.latency_sum_ms += latency_ms * len(tickets)
            m.latency_count += len(tickets)
        return answers

    def health(self) -> dict[str, Any]:
        flags = self.flags()
        return {
            "status": "ok",
            "model": self.config.model_name,
            "alias": self.config.alias,
            "version": self.version.version,
            "mode": "killed" if flags.kill_switch else flags.mode,
            "percentage": flags.percentage,
            "fields": list(self.fields),
        }

    def prometheus(self) -> str:
        m = self.metrics
        flags = self.flags()
        share = {"full": 100.0, "rollout": flags.percentage}.get(flags.mode, 0.0)
        out: list[str] = []
        with m.lock:
            for name, text, label, counts in (
                ("requests", "Requests to /predict by HTTP status.", "status", m.requests),
                ("decisions", "Tickets decided, by rollout arm.", "arm", m.decisions),
                ("predictions", "Predictions by label.", "label", m.predictions),
            ):
                out += [
                    f"# HELP pilot2prod_{name}_total {text}",
                    f"# TYPE pilot2prod_{name}_total counter",
                ]
                out += [
                    f'pilot2prod_{name}_total{{{label}="{_label(k)}"}} {v}'
                    for k, v in sorted(counts.items())
                ]
            out += [
                "# HELP pilot2prod_latency_seconds Model time per ticket.",
                "# TYPE pilot2prod_latency_seconds histogram",
            ]
            cumulative = 0
            for edge, count in zip(LATENCY_BUCKETS_MS, m.latency, strict=False):
                cumulative += count
                out.append(
                    f'pilot2prod_latency_seconds_bucket{{le="{edge / 1000:g}"}} {cumulative}'
                )
            out.append(f'pilot2prod_latency_seconds_bucket{{le="+Inf"}} {m.latency_count}')
            out.append(f"pilot2prod_latency_seconds_sum {m.latency_sum_ms / 1000:.6f}")
            out.append(f"pilot2prod_latency_seconds_count {m.latency_count}")
        out += [
            "# HELP pilot2prod_model_version The registry version being served.",
            "# TYPE pilot2prod_model_version gauge",
            f'pilot2prod_model_version{{model="{_label(self.config.model_name)}"}} '
            f"{self.version.version}",
            "# HELP pilot2prod_kill_switch 1 while the kill switch is on.",
            "# TYPE pilot2prod_kill_switch gauge",
            f"pilot2prod_kill_switch {int(flags.kill_switch)}",
            "# HELP pilot2prod_rollout_percentage Share of tickets in the model's arm.",
            "# TYPE pilot2prod_rollout_percentage gauge",
            f"pilot2prod_rollout_percentage {0.0 if flags.kill_switch else share}",
        ]
        return "\n".join(out) + "\n"

    def close(self) -> None:
        self._log.close()


def _bucket_index(ms: float) -> int:
    for i, edge in enumerate(LATENCY_BUCKETS_MS):
        if ms <= edge:
            return i
    return len(LATENCY_BUCKETS_MS)


def _label(value: str) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def create_app(config: ServiceConfig):  # noqa: ANN201 - a FastAPI application
    """The FastAPI application; the model is loaded (and verified) here, before serving."""
    from contextlib import asynccontextmanager

    from fastapi import FastAPI
    from fastapi.responses import JSONResponse, PlainTextResponse

    service = Service(config)

    @asynccontextmanager
    async def lifespan(_app):  # noqa: ANN001, ANN202
        yield
        service.close()

    app = FastAPI(
        title="pilot2prod prediction service", docs_url=None, redoc_url=None, lifespan=lifespan
    )
    app.state.service = service

    def problem(code: int, message: str) -> JSONResponse:
        service.metrics.status(code)
        return JSONResponse({"error": message}, status_code=code)

    @app.post("/predict")
    async def predict(request: Request) -> JSONResponse:
        raw = await request.body()
        try:
            body = json.loads(raw)
        except ValueError:
            return problem(400, "the body is not valid JSON.")
        try:
            tickets = service.parse(body)
        except OverflowError as exc:
            return problem(413, str(exc))
        except ValueError as exc:
            return problem(422, str(exc))
        try:
            answers = service.decide(tickets)
        except Exception:  # noqa: BLE001 - a failing prediction must not take the service down
            return problem(500, "the model failed on this request; it has been counted.")
        service.metrics.status(200)
        single = not (isinstance(body, dict) and "items" in body)
        return JSONResponse(answers[0] if single else {"items": answers})

    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        return service.health()

    @app.get("/metrics")
    def metrics() -> PlainTextResponse:
        return PlainTextResponse(
            service.prometheus(), media_type="text/plain; version=0.0.4; charset=utf-8"
        )

    return app


def serve(config: ServiceConfig, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Load and verify the model, then serve until interrupted (``pilot2prod serve``)."""
    import uvicorn

    app = create_app(config)  # raises ParameterError before binding when the model is bad
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)


# --------------------------------------------------------------------------- smoke test
@dataclass
class SmokeTest:
    """What sending real requests to the service on loopback showed."""

    requests: int
    errors: int  # 5xx answers and connection failures
    round_trip_ms: list[float]  # client-side, per request
    arms: dict[str, int]
    rollout_share: float  # share in the model's arm
    percentage: float
    kill_switch_ok: bool  # every request with the switch on went to manual triage
    shadow_ok: bool  # no prediction in any answer in shadow mode, all of them logged
    bad_request_ok: bool  # a malformed request got a 4xx and the service kept serving
    health: dict[str, Any]
    log_path: Path
    metrics_text: str

    @property
    def passed(self) -> bool:
        return self.errors == 0 and self.kill_switch_ok and self.shadow_ok and self.bad_request_ok


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def smoke_test(
    registry_uri: str,
    model_name: str,
    tickets: list[dict[str, str]],
    folder: Path,
    percentage: float,
    salt: str = "",
    startup_timeout: float = 180.0,
) -> SmokeTest:
    """Start ``pilot2prod serve`` on a free loopback port (a separate process, as in
    production), send each ticket as one request in rollout mode, then check the kill switch,
    shadow mode and a malformed request, read /metrics and stop the service."""
    import http.client
    import subprocess
    import sys

    import requests

    folder.mkdir(parents=True, exist_ok=True)
    flags = folder / "flags.json"
    log = folder / "predictions.jsonl"
    flags.write_text(json.dumps({"mode": "rollout", "percentage": percentage}))
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "pilot2prod.cli", "serve", "--registry", registry_uri]
    cmd += ["--name", model_name, "--flags", str(flags), "--log", str(log), "--port", str(port)]
    cmd += ["--salt", salt]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    session = requests.Session()
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            try:
                if session.get(f"{base}/healthz", timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            if proc.poll() is not None:
                message = (proc.stderr.read() or "").strip().splitlines()
                raise ParameterError(
                    "The service did not start: " + (message[-1] if message else "no message")
                )
            if time.monotonic() > deadline:
                raise ParameterError(
                    f"The service did not answer /healthz within {startup_timeout:.0f} s."
                )
            time.sleep(0.2)
        health = session.get(f"{base}/healthz", timeout=5).json()

        # One kept-alive connection, as a caller in production holds one (a new connection
        # per request would be measured, not the service).
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

        def post(body: dict[str, Any]) -> tuple[int, dict[str, Any], float]:
            nonlocal conn
            data = json.dumps(body).encode()
            start = time.perf_counter()
            try:
                conn.request("POST", "/predict", data, {"Content-Type": "application/json"})
                response = conn.getresponse()
                content = response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                return 599, {}, (time.perf_counter() - start) * 1000
            ms = (time.perf_counter() - start) * 1000
            try:
                answer = json.loads(content) if content else {}
            except ValueError:
                answer = {}
            return status, answer, ms

        def set_flags(**values: Any) -> None:
            flags.write_text(json.dumps(values))
            os.utime(flags, (time.time() + 1, time.time() + 1))

        round_trip, arms, errors = [], {}, 0
        for ticket in tickets:
            code, answer, ms = post(ticket)
            if code >= 500:
                errors += 1
                continue
            round_trip.append(ms)
            arms[answer.get("arm", "?")] = arms.get(answer.get("arm", "?"), 0) + 1
        probe = tickets[: min(20, len(tickets))]
        set_flags(mode="full", kill_switch=True)
        killed = [post(t) for t in probe]
        kill_ok = all(
            c == 200 and a["arm"] == "killed" and not a["act"] and a["prediction"] is None
            for c, a, _ in killed
        )
        set_flags(mode="shadow")
        before = _lines(log)
        shadow = [post(t) for t in probe]
        shadow_ok = all(
            c == 200 and a["arm"] == "shadow" and not a["act"] and a["prediction"] is None
            for c, a, _ in shadow
        ) and _lines(log) - before == len(probe)
        set_flags(mode="rollout", percentage=percentage)
        code, _, _ = post({"id": "smoke-test"})  # no text: must be refused, not crash
        bad_ok = code == 422 and session.get(f"{base}/healthz", timeout=5).ok
        metrics_text = session.get(f"{base}/metrics", timeout=5).text
    finally:
        if "conn" in locals():
            conn.close()
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        session.close()
    answered = sum(arms.values())
    return SmokeTest(
        requests=len(tickets),
        errors=errors,
        round_trip_ms=round_trip,
        arms=arms,
        rollout_share=arms.get("model", 0) / answered if answered else 0.0,
        percentage=percentage,
        kill_switch_ok=kill_ok,
        shadow_ok=shadow_ok,
        bad_request_ok=bad_ok,
        health=health,
        log_path=log,
        metrics_text=metrics_text,
    )


def _lines(path: Path) -> int:
    if not path.is_file():
        return 0
    with open(path, encoding="utf-8") as fh:
        return sum(1 for _ in fh)
