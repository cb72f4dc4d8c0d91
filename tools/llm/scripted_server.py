"""An OpenAI-compatible HTTP server that answers from a scripted responder.

For performance measurements and fault tests against a real HTTP stack:
`openai:MODEL@{server.base_url}` talks to it through the OpenAI SDK. Each call
waits a fixed latency (in its own thread, so concurrent calls overlap) and may
fail by the seeded `FaultPlan` of `tools.llm.scripted`: HTTP 429, HTTP 500, or
a 200 whose content is malformed JSON ("timeout" makes the call hang for
`hang_s`, for client-timeout tests).

    with ScriptedServer(schema_responder, latency_s=0.2) as server:
        client = make_client(f"openai:scripted@{server.base_url}")

A server can also serve a model list that changes while it runs (for the watcher's
tests): `ScriptedServer(models={"a": responder_a})`, then `add_model`, `remove_model`,
`go_down` (the port stops answering and open connections get 503) and `come_back` (the
same port again). With a model list, `GET /v1/models` lists it, a request for another
model gets 404 `model_not_found`, and calls are counted per model and per request.

Runnable too: `python -m tools.llm.scripted_server --latency 0.2 --port 8123`.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections import Counter
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tools.llm.scripted import (
    FAULT_KINDS,
    MALFORMED_ANSWER,
    FaultPlan,
    Responder,
    approx_tokens,
    call_responder,
    request_digest,
    response_format_parts,
    schema_responder,
)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # many concurrent clients connect at once
    owner: ScriptedServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the SDK pools connections
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        return None  # quiet: tests and perf runs read their own counters

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up first (a timeout under test, a fault it retries): nothing to send.
            self.close_connection = True

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        self.server.owner.note_key(self.headers.get("Authorization"))
        if self.server.owner.down:
            self._send_unavailable()
        elif self.path.rstrip("/") == "/v1/models":
            self._send(200, {"object": "list", "data": [
                {"id": name, "object": "model", "owned_by": "benchagent"}
                for name in self.server.owner.listed()]})
        else:
            self._send(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})

    def _send_unavailable(self) -> None:
        self.close_connection = True  # a server going down drops its connections too
        self._send(503, {"error": {"message": "scripted outage", "type": "server_error"}})

    def do_POST(self) -> None:  # noqa: N802 - stdlib naming
        self.server.owner.note_key(self.headers.get("Authorization"))
        if self.server.owner.down:
            self._send_unavailable()
            return
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._send(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
            return
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length))
            messages = body["messages"]
        except (ValueError, KeyError, TypeError) as exc:
            self._send(400, {"error": {"message": f"bad request: {exc}", "type": "invalid"}})
            return
        status, reply = self.server.owner.answer(body, messages)
        self._send(status, reply)


class ScriptedServer:
    """A background-thread HTTP server on a free loopback port; counts its calls."""

    def __init__(
        self,
        responder: Responder = schema_responder,
        *,
        latency_s: float = 0.0,
        failure_rate: float = 0.0,
        failure_kinds: tuple[str, ...] = ("429", "500", "malformed"),
        seed: int = 0,
        hang_s: float = 30.0,
        model: str = "scripted",
        models: Mapping[str, Responder] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.responder = responder
        # None: any model name is answered by `responder` and the list is just `model`.
        self._models: dict[str, Responder] | None = dict(models) if models is not None else None
        self.down = False
        self.latency_s = latency_s
        self.faults = FaultPlan(failure_rate, seed, failure_kinds)
        self.hang_s = hang_s
        self.model = model
        self._host, self._port = host, port
        self._httpd: _Server | None = None
        self._bound_port: int | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.calls = 0
        # ok | 429 | 500 | malformed | timeout | error | 404
        self.outcomes: Counter[str] = Counter()
        self.calls_by_model: Counter[str] = Counter()
        self.requests: Counter[tuple[str, str]] = Counter()  # (model, request digest) -> calls
        self.keys: Counter[str] = Counter()  # bearer tokens the requests carried

    # -- lifecycle ---------------------------------------------------------------

    def start(self) -> ScriptedServer:
        httpd = _Server((self._host, self._port), _Handler)
        httpd.owner = self
        self._httpd = httpd
        self._bound_port = self._port = httpd.server_address[1]  # a restart keeps the port
        self._thread = threading.Thread(target=httpd.serve_forever, name="scripted-llm",
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    # -- the model list -----------------------------------------------------------

    def listed(self) -> list[str]:
        """The models `GET /v1/models` lists now."""
        with self._lock:
            return sorted(self._models) if self._models is not None else [self.model]

    def add_model(self, name: str, responder: Responder) -> None:
        with self._lock:
            if self._models is None:
                self._models = {}
            self._models[name] = responder

    def remove_model(self, name: str) -> None:
        with self._lock:
            if self._models is not None:
                self._models.pop(name, None)

    def go_down(self) -> None:
        """Stop answering: the port is closed, requests on open connections get 503."""
        self.down = True
        self.stop()

    def come_back(self) -> None:
        """Answer again, on the same port."""
        self.down = False
        self.start()

    def note_key(self, authorization: str | None) -> None:
        if authorization and authorization.startswith("Bearer "):
            with self._lock:
                self.keys[authorization.removeprefix("Bearer ")] += 1

    def _responder_for(self, model: str) -> Responder | None:
        with self._lock:
            return self._models.get(model) if self._models is not None else self.responder

    def __enter__(self) -> ScriptedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound port (still known after `stop`, for messages)."""
        if self._bound_port is None:
            raise RuntimeError("server not started")
        return self._bound_port

    @property
    def base_url(self) -> str:
        return f"http://{self._host}:{self.port}/v1"

    # -- answering ---------------------------------------------------------------

    def answer(self, body: dict[str, Any], messages: list[dict[str, Any]]) -> tuple[int, dict]:
        model = str(body.get("model", self.model))
        schema, purpose = response_format_parts(body)
        digest = request_digest(messages, schema)
        with self._lock:
            self.calls += 1
            n = self.calls
            self.calls_by_model[model] += 1
            self.requests[(model, digest)] += 1
        responder = self._responder_for(model)
        if responder is None:
            self._count("404")
            return 404, {"error": {"message": f"The model `{model}` does not exist",
                                   "type": "invalid_request_error", "code": "model_not_found"}}
        if self.latency_s:
            time.sleep(self.latency_s)
        fault = self.faults.decide(digest, wants_json=schema is not None)
        if fault == "timeout":
            time.sleep(self.hang_s)
        if fault in ("429", "500"):
            self._count(fault)
            kind = "rate_limit_exceeded" if fault == "429" else "server_error"
            return int(fault), {"error": {"message": f"scripted {fault}", "type": kind}}
        if fault == "malformed":
            content = MALFORMED_ANSWER
        else:
            try:
                content = call_responder(responder, messages, schema, purpose)
            except Exception as exc:  # a responder bug is the server's 500, not a crash
                self._count("error")
                return 500, {"error": {"message": f"responder failed: {exc}", "type": "server_error"}}
        self._count(fault or "ok")
        prompt = sum(approx_tokens(json.dumps(m.get("content"))) for m in messages)
        completion = approx_tokens(content)
        return 200, {
            "id": f"chatcmpl-{n}",
            "object": "chat.completion",
            "created": 0,
            "model": body.get("model", self.model),
            "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                         "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                      "total_tokens": prompt + completion},
        }

    def _count(self, outcome: str) -> None:
        with self._lock:
            self.outcomes[outcome] += 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve a scripted OpenAI-compatible model.")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per call")
    parser.add_argument("--failure-rate", type=float, default=0.0)
    parser.add_argument("--failure-kinds", default="429,500,malformed",
                        help=f"comma-separated, among {','.join(FAULT_KINDS)}")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    server = ScriptedServer(latency_s=args.latency, failure_rate=args.failure_rate,
                            failure_kinds=tuple(args.failure_kinds.split(",")), seed=args.seed,
                            port=args.port).start()
    print(server.base_url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
