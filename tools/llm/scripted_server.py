"""An OpenAI-compatible HTTP server that answers from a scripted responder.

For performance measurements and fault tests against a real HTTP stack:
`openai:MODEL@{server.base_url}` talks to it through the OpenAI SDK. Each call
waits a fixed latency (in its own thread, so concurrent calls overlap) and may
fail by the seeded `FaultPlan` of `tools.llm.scripted`: HTTP 429, HTTP 500, or
a 200 whose content is malformed JSON ("timeout" makes the call hang for
`hang_s`, for client-timeout tests). Faults only an HTTP server can make
(`HTTP_FAULT_KINDS`):

    garbled    200 whose body is `{not json`
    truncated  200 whose body is the first half of the completion (complete as HTTP)
    empty      200 with an empty body
    reset      200 announcing the whole body, sending half, then closing the connection
    400 401 403 404   what a server says to a request no retry can fix

    with ScriptedServer(schema_responder, latency_s=0.2) as server:
        client = make_client(f"openai:scripted@{server.base_url}")

A server can also serve a model list that changes while it runs (for the watcher's
tests): `ScriptedServer(models={"a": responder_a})`, then `add_model`, `remove_model`,
`go_down` (the port refuses connections and open ones are cut; a request that slips in
meanwhile gets 503) and `come_back` (the same port again). With a model list, `GET /v1/models` lists it, a request for another
model gets 404 `model_not_found`, and calls are counted per model and per request.
It counts what it answers: `answered[digest]` is how many times a request
(model, messages, response format) got a usable 200 written to a live client,
so a test can count the answered calls a client paid twice (`paid_twice()`); an
answer whose client died while it was computed is `abandoned`, not answered.
`inflight` counts the requests being answered, by purpose; `holding_answers()`
keeps every answer from going out while a test looks (and, say, kills a
client). `stop()` closes the
listening socket and every open connection (an outage: clients get connection
refused or reset); `start()` again serves on the same port.

Runnable too: `python -m tools.llm.scripted_server --latency 0.2 --port 8123`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import select
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import msgspec
from autogen_core.models import ChatCompletionTokenLogprob

from tools.llm.scripted import (
    FAULT_KINDS,
    MALFORMED_ANSWER,
    FaultPlan,
    Responder,
    approx_tokens,
    request_digest,
    response_format_parts,
    schema_responder,
    scripted_answer,
)

HTTP_FAULT_KINDS = ("garbled", "truncated", "empty", "reset", "400", "401", "403", "404")
ALL_FAULT_KINDS = FAULT_KINDS + HTTP_FAULT_KINDS
GARBLED_BODY = b"{not json"
_FINAL_ERRORS = {
    "400": ("invalid_request_error", "scripted 400: this model's maximum context length is "
            "exceeded"),
    "401": ("invalid_api_key", "scripted 401: incorrect API key provided"),
    "403": ("permission_denied", "scripted 403: the key may not use this model"),
    "404": ("model_not_found", "scripted 404: the model does not exist"),
}


class Reply(msgspec.Struct, frozen=True):
    """What the handler sends: status, body bytes, and for `reset` how many bytes before
    the connection is dropped (the headers still announce the whole body)."""

    status: int
    body: bytes
    cut_after: int | None = None
    answer_of: str | None = None  # the request's digest, for a usable answer


def _json_reply(status: int, doc: dict[str, Any]) -> Reply:
    return Reply(status, json.dumps(doc).encode())


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # many concurrent clients connect at once
    owner: ScriptedServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the SDK pools connections
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.owner._opened(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.owner._closed(self.connection)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        return None  # quiet: tests and perf runs read their own counters

    def _send(self, status: int, body: dict[str, Any]) -> None:
        self._reply(_json_reply(status, body))

    def _reply(self, reply: Reply) -> None:
        if reply.answer_of is not None:
            with self.server.owner.gate:  # a test may hold answers back while it looks
                if _peer_gone(self.connection):
                    self.server.owner._count("abandoned")
                    self.close_connection = True
                    return
                if self._write(reply):
                    self.server.owner._answered(reply.answer_of)
            return
        self._write(reply)

    def _write(self, reply: Reply) -> bool:
        """Send the reply; False if the client was gone."""
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            if reply.cut_after is None:
                self.wfile.write(reply.body)
                self.wfile.flush()
                return True
            self.wfile.write(reply.body[:reply.cut_after])
            self.wfile.flush()
            self.close_connection = True  # the rest never comes
            return True
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up first (a timeout under test, a fault it retries): nothing to send.
            self.close_connection = True
            return False

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
        owner = self.server.owner
        _, purpose = response_format_parts(body)
        label = purpose or "text"
        owner._inflight(label, +1)
        try:
            self._reply(owner.answer(body, messages))
        finally:
            owner._inflight(label, -1)


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
        self.faults = FaultPlan(failure_rate, seed, failure_kinds, known=ALL_FAULT_KINDS)
        self.hang_s = hang_s
        self.model = model
        self._host, self._port = host, port
        self._httpd: _Server | None = None
        self._bound_port: int | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.calls = 0
        self.outcomes: Counter[str] = Counter()  # ok | error | 404 | a fault kind
        self.calls_by_model: Counter[str] = Counter()
        self.requests: Counter[tuple[str, str]] = Counter()  # (model, request digest) -> calls
        self.keys: Counter[str] = Counter()  # bearer tokens the requests carried
        self.answered: Counter[str] = Counter()  # request digest -> usable 200s sent
        self.inflight: Counter[str] = Counter()  # purpose -> requests being answered now
        self.gate = threading.Lock()  # held: no answer goes out
        self._connections: set[socket.socket] = set()

    # -- lifecycle ---------------------------------------------------------------

    def start(self) -> ScriptedServer:
        """Serve (again: on the port of the first start)."""
        httpd = _Server((self._host, self._bound_port or self._port), _Handler)
        httpd.owner = self
        self._httpd = httpd
        self._bound_port = self._port = httpd.server_address[1]  # a restart keeps the port
        self._thread = threading.Thread(target=httpd.serve_forever, name="scripted-llm",
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving: the port refuses connections and open ones are cut."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        with self._lock:
            open_now = list(self._connections)
        for conn in open_now:  # keep-alive connections would otherwise still be served
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
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
        """Stop answering: the port is closed and open connections are cut (`stop`)."""
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
    @property
    def serving(self) -> bool:
        return self._httpd is not None

    @contextlib.contextmanager
    def holding_answers(self) -> Iterator[None]:
        """No usable answer is written while inside (requests keep arriving and computing)."""
        with self.gate:
            yield

    def answered_total(self) -> int:
        with self._lock:
            return sum(self.answered.values())

    def inflight_purposes(self) -> list[str]:
        with self._lock:
            return sorted(p for p, n in self.inflight.items() if n > 0)

    def paid_twice(self) -> int:
        """Answered requests answered again: what a client paid for twice."""
        with self._lock:
            return sum(n - 1 for n in self.answered.values() if n > 1)

    def _answered(self, digest: str) -> None:
        with self._lock:
            self.answered[digest] += 1

    def _inflight(self, purpose: str, delta: int) -> None:
        with self._lock:
            self.inflight[purpose] += delta

    def _opened(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections.add(conn)

    def _closed(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections.discard(conn)

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

    def answer(self, body: dict[str, Any], messages: list[dict[str, Any]]) -> Reply:
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
            return _json_reply(404, {"error": {"message": f"The model `{model}` does not exist",
                                               "type": "invalid_request_error",
                                               "code": "model_not_found"}})
        if self.latency_s:
            time.sleep(self.latency_s)
        fault = self.faults.decide(digest, wants_json=schema is not None)
        if fault == "timeout":
            time.sleep(self.hang_s)
        if fault in ("429", "500"):
            self._count(fault)
            kind = "rate_limit_exceeded" if fault == "429" else "server_error"
            return _json_reply(int(fault), {"error": {"message": f"scripted {fault}",
                                                      "type": kind}})
        if fault in _FINAL_ERRORS:
            self._count(fault)
            code, message = _FINAL_ERRORS[fault]
            return _json_reply(int(fault), {"error": {"message": message, "code": code,
                                                      "type": code}})
        if fault == "garbled":
            self._count(fault)
            return Reply(200, GARBLED_BODY)
        if fault == "empty":
            self._count(fault)
            return Reply(200, b"")
        logprobs = None
        if fault == "malformed":
            content = MALFORMED_ANSWER
        else:
            try:
                answer = scripted_answer(responder, messages, schema, purpose)
                content = answer.text
                if body.get("logprobs"):
                    logprobs = {"content": [openai_logprob(t) for t in answer.token_logprobs()]}
            except Exception as exc:  # a responder bug is the server's 500, not a crash
                self._count("error")
                return _json_reply(500, {"error": {"message": f"responder failed: {exc}",
                                                   "type": "server_error"}})
        prompt = sum(approx_tokens(json.dumps(m.get("content"))) for m in messages)
        completion = approx_tokens(content)
        data = json.dumps({
            "id": f"chatcmpl-{n}",
            "object": "chat.completion",
            "created": 0,
            "model": body.get("model", self.model),
            "choices": [{"index": 0, "finish_reason": "stop", "logprobs": logprobs,
                         "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                      "total_tokens": prompt + completion},
        }).encode()
        self._count(fault or "ok")
        if fault == "truncated":
            return Reply(200, data[:len(data) // 2])
        if fault == "reset":
            return Reply(200, data, cut_after=len(data) // 2)
        if fault == "malformed":
            return Reply(200, data)
        return Reply(200, data, answer_of=answer_digest(body, messages, schema))

    def _count(self, outcome: str) -> None:
        with self._lock:
            self.outcomes[outcome] += 1


def _peer_gone(conn: socket.socket) -> bool:
    """Whether the client closed the connection (it sends nothing while it waits for an
    answer, so a readable socket means end of stream or a reset)."""
    try:
        readable, _, _ = select.select([conn], [], [], 0)
        return bool(readable) and conn.recv(1, socket.MSG_PEEK) == b""
    except (OSError, ValueError):
        return True


def answer_digest(body: dict[str, Any], messages: list[dict[str, Any]],
                  schema: dict[str, Any] | None) -> str:
    """What makes two requests the same call: model, messages and response format."""
    return request_digest([body.get("model"), messages], schema)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve a scripted OpenAI-compatible model.")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per call")
    parser.add_argument("--failure-rate", type=float, default=0.0)
    parser.add_argument("--failure-kinds", default="429,500,malformed",
                        help=f"comma-separated, among {','.join(ALL_FAULT_KINDS)}")
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


def openai_logprob(t: ChatCompletionTokenLogprob) -> dict[str, Any]:
    """One token's log-probabilities as the OpenAI API writes them (alternatives named)."""
    return {"token": t.token, "logprob": t.logprob, "bytes": t.bytes,
            "top_logprobs": [{"token": bytes(x.bytes or []).decode("utf-8", "replace"),
                              "logprob": x.logprob, "bytes": x.bytes}
                             for x in t.top_logprobs or []]}
