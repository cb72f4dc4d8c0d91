"""A synthesized (LLM-written, checked) module as a `Generator` like the built-in ones.

    gen = SynthesizedGenerator("hms", source, params=plan_params, description="...")
    inst = gen.sample(7)                  # parameters drawn on the host, content in the sandbox
    gen.verify(inst); gen.render(inst, workspace); gen.score(inst, "1:02:03")
    gen.close()

Every method runs the recorded source in one warm sandbox (restarted if a call killed it);
the host draws and validates parameters (`param_sampling`), reads every value through the
contract (`contract`) and writes media into the workspace itself. `version` is the first
12 hex digits of the source's sha256, so an item names exactly the code that made it.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from typing import Any

from tools.generators.base import CheckResult, Instance, ParamSpec, RenderedItem, Score
from tools.generators.card_format import field, generator_card
from tools.generators.param_sampling import ordered_bounds, params_rng, resolve_params
from tools.generators.rendering import check_mode, instance_metadata
from tools.sandbox.contract import (
    instance_payload,
    make_instance,
    read_checks,
    read_render,
    read_sample,
    read_score,
)
from tools.sandbox.session import Sandbox
from tools.sandbox.wire import Budgets, CallResult


class GeneratedCodeError(RuntimeError):
    """A call into the synthesized module failed; `kind` is the sandbox's error kind."""

    def __init__(self, function: str, kind: str, message: str) -> None:
        super().__init__(f"{function}() of the synthesized generator failed ({kind}): {message}")
        self.kind = kind


class SynthesizedGenerator:
    """See the module docstring."""

    def __init__(
        self, name: str, source: str, *, params: list[ParamSpec], description: str = "",
        budgets: Budgets | None = None, title: str | None = None, domain: str = "synthesized",
        tasks: list[str] | None = None,
    ) -> None:
        self.name = name
        self.source = source
        self.sha256 = hashlib.sha256(source.encode()).hexdigest()
        self.version = self.sha256[:12]
        self.params = list(params)
        self.description = description or f"Synthesized generator {name}"
        self.title = title or name
        self.domain = domain
        self.tasks = tasks or ["question answering"]
        self._box = Sandbox(source, budgets=budgets)
        self._lock = threading.Lock()

    def close(self) -> None:
        self._box.close()

    def __enter__(self) -> SynthesizedGenerator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, function: str, *args: Any, collect_files: bool = False) -> CallResult:
        with self._lock:
            if not self._box.alive:
                loaded = self._box.start()
                if not loaded.ok:
                    raise GeneratedCodeError("<load>", loaded.kind or "killed",
                                             loaded.error.message if loaded.error else "")
            result = self._box.call(function, *args, collect_files=collect_files)
        if not result.ok:
            error = result.error
            raise GeneratedCodeError(function, error.kind if error else "killed",
                                     error.message if error else "")
        return result

    def card(self) -> dict[str, Any]:
        return generator_card(
            self, title=self.title, modalities=["text"], inputs=["text"],
            description=self.description,
            card_text=f"{self.description}\n\nSynthesized by a model; its source "
                      f"(sha256 {self.sha256}) passed the sandboxed checks before use.",
            tasks=self.tasks, domain=self.domain,
            fields={"question": field("input", "text", "the question"),
                    "answer": field("target", "text", "the answer computed by the code")},
            structure="input: the question; target: the answer; choices when multiple choice")

    def sample(self, seed: int, params: dict[str, Any] | None = None) -> Instance:
        values, drawn = resolve_params(self.params, params, params_rng(self.name, seed))
        values = ordered_bounds(self.params, values, drawn)
        part = read_sample(self._call("sample", seed, values).value)
        return make_instance(self.name, seed, values, part)

    def verify(self, instance: Instance) -> list[CheckResult]:
        return read_checks(self._call("verify", instance_payload(instance)).value)

    def score(self, instance: Instance, answer: str) -> Score:
        return read_score(self._call("score", instance_payload(instance), answer).value)

    def render(self, instance: Instance, workspace: Path, mode: str = "default") -> RenderedItem:
        check_mode(mode, ("default",))
        result = self._call("render", instance_payload(instance), collect_files=True)
        part = read_render(result.value)
        media = []
        for name in part.media:
            if name not in result.files:
                raise GeneratedCodeError("render", "exception",
                                         f"names media {name!r} it did not write")
            target = workspace / f"{self.name}-{instance.seed}-{name}"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(result.files[name])
            media.append(str(target.relative_to(workspace)))
        return RenderedItem(
            input=part.input, target=part.target, choices=part.choices, media=media,
            metadata={**instance_metadata(self, instance), "generator_sha256": self.sha256})
