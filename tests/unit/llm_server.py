"""A small OpenAI-compatible chat-completions server for tests, on loopback only.

It checks that each prompt carries the retrieved context (similar tickets and knowledge-base
passages), answers with the label of the first retrieved ticket, and answers nonsense for
tickets that contain the word ``gibberish`` so abstentions can be tested. Every request is
recorded.
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeLLM:
    def __init__(self, require_api_key: str | None = None) -> None:
        self.requests: list[dict] = []
        self.missing_context = 0
        self.require_api_key = require_api_key
        handler = self._handler()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> FakeLLM:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server API
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                if fake.require_api_key is not None:
                    if self.headers.get("Authorization") != f"Bearer {fake.require_api_key}":
                        self._send(401, {"error": {"message": "bad key"}})
                        return
                if not self.path.endswith("/chat/completions"):
                    self._send(404, {"error": {"message": "not found"}})
                    return
                fake.requests.append(body)
                prompt = body["messages"][-1]["content"]
                if "Similar past tickets" not in prompt or "Knowledge-base passages" not in prompt:
                    fake.missing_context += 1
                first = re.search(r"^\[([^\]]+)\]", prompt, re.M)
                ticket = prompt.split("Ticket:", 1)[-1]
                if "gibberish" in ticket:
                    answer = "Hmm, hard to say. Maybe something about money?"
                else:
                    answer = first.group(1) if first else "unknown"
                    if body.get("response_format"):  # a constrained answer is JSON
                        answer = json.dumps({"category": answer})
                self._send(
                    200,
                    {
                        "id": "chatcmpl-test",
                        "object": "chat.completion",
                        "created": 0,
                        "model": body.get("model", "fake"),
                        "choices": [
                            {
                                "index": 0,
                                "finish_reason": "stop",
                                "message": {"role": "assistant", "content": answer},
                            }
                        ],
                        "usage": {
                            "prompt_tokens": len(prompt) // 4,
                            "completion_tokens": 3,
                            "total_tokens": len(prompt) // 4 + 3,
                        },
                    },
                )

            def _send(self, status: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler
