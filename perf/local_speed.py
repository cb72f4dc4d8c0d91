"""Where the embedded model's time goes, and what prefix reuse and the lazy grammar save.

    .venv/bin/python perf/local_speed.py [--models NAME ...] [--sections chunk prefix grammar]
                                         [--max-tokens 320]

Every figure compares modes on the same prompts in one process, interleaved, so the load of
other work on the machine weighs on each mode alike; CPU seconds (all threads of this
process) are printed beside wall seconds because they barely move under contention.

- chunk: prompt evaluation speed in chunks of 512 vs 64 tokens (prefix reuse works in
  whole chunks: smaller chunks reuse more of a shared head).
- prefix: prefill tokens and seconds of realistic sequences without reuse, with the live
  context only, and with saved prompt-head states; whether the last logits are bit-identical
  to a fresh evaluation (and, for contrast, after a naive reuse that ends mid-chunk).
  (a) a verifier-like series on one long passage (solve, check, repair) whose prompts start
  with the same system text and item; (b) sample plans of several items under one system
  prompt (the pipeline's real prompts); (c) the pipeline's order on two passage items
  (sample plan, solve, check of one item, then the next), with today's prompts.
- grammar: decode speed on the five structured purposes' real prompts: free (no grammar),
  llama-cpp-python's full grammar pass (before) and the lazy grammar (now); the answers of the
  two grammar modes must be identical; JSON validity against the full schema; where a full
  pass spends its time (with and without string-length bounds), and the schema hint at the end
  of the prompt vs in the system message (answer length, validity).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import ctypes  # noqa: E402

import jsonschema  # noqa: E402
import numpy as np  # noqa: E402
import pipeline_requests as pr  # noqa: E402

from agents.prompts import orchestrator, verifier  # noqa: E402
from tools.llm import llama_env  # noqa: E402,F401  (before llama_cpp)
from tools.llm.local import PROMPT_CHUNK, _runtime, unload_local_model, with_schema_hint  # noqa: E402
from tools.llm.local_decode import (  # noqa: E402
    DecodeParams,
    PrefixStates,
    PromptEvaluator,
    common_prefix,
    decode,
)
from tools.llm.local_grammar import schema_to_gbnf  # noqa: E402
from tools.llm.weights import model_path  # noqa: E402

HEAD_SYSTEM = ("You are part of a benchmark-building system. You read one benchmark item, "
               "then do the task written after it. Answer with what the task asks only.")


def cpu_seconds() -> float:
    use = resource.getrusage(resource.RUSAGE_SELF)
    return use.ru_utime + use.ru_stime


def timed(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    wall, cpu = time.perf_counter(), cpu_seconds()
    out = fn()
    return out, time.perf_counter() - wall, cpu_seconds() - cpu


class Model:
    """The runtime's loaded model, its chat template and its prompt evaluator."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.runtime = _runtime(name)
        self.llama = self.runtime._ensure_loaded()
        self.formatter = self.runtime._formatter
        self.evaluator: PromptEvaluator = self.runtime._evaluator

    def tokens(self, messages: list[dict[str, Any]]) -> list[int]:
        formatted = self.formatter(messages=messages)
        return self.llama.tokenize(formatted.prompt.encode(), add_bos=not formatted.added_special,
                                   special=True)

    def logits(self) -> np.ndarray:
        n_vocab = self.llama.n_vocab()
        return np.ctypeslib.as_array(self.llama._ctx.get_logits_ith(-1), shape=(n_vocab,)).copy()


def with_hint(messages: list[dict[str, Any]], schema: dict[str, Any] | None,
              placement: str = "end") -> list[dict[str, Any]]:
    return with_schema_hint(messages, schema, placement) if schema else messages  # type: ignore[arg-type]


# --------------------------------------------------------------------------- chunk


def section_chunk(model: Model) -> None:
    from llama_cpp import Llama

    pool = pr.load_pool()
    passage = pool.items(pr.PASSAGES)[0].fields["context"]
    tokens = model.llama.tokenize(passage.encode(), add_bos=False)[:768]
    print(f"\n[chunk] prompt evaluation of {len(tokens)} tokens, one run per chunk size")
    for n_batch in (512, PROMPT_CHUNK):
        llama = Llama(model_path=str(model_path(model.name)), n_ctx=2048, n_batch=n_batch,
                      n_threads=model.runtime.n_threads, n_threads_batch=model.runtime.n_threads,
                      verbose=False)
        _, wall, cpu = timed(lambda llama=llama: llama.eval(tokens))
        print(f"  chunk {n_batch:>4}: {len(tokens) / wall:7.1f} tok/s wall, "
              f"{len(tokens) / cpu:7.1f} tok/CPU-s ({wall:.1f} s wall, {cpu:.1f} CPU s)")
        llama.close()


# --------------------------------------------------------------------------- prefix


def head_first(item_text: str, task: str, schema: dict[str, Any] | None) -> list[dict[str, Any]]:
    """A prompt whose head (system text, then the item) is the same for every task on it."""
    return with_hint([{"role": "system", "content": HEAD_SYSTEM},
                      {"role": "user", "content": f"Item:\n{item_text}\n\nTask: {task}"}], schema)


def verifier_series(pool: Any) -> list[tuple[str, list[dict[str, Any]]]]:
    card = pool.card(pr.PASSAGES)
    item = pool.items(pr.PASSAGES)[1]
    _, built = pr.realized(pr.passage_plan(card), card, item, "s-long")
    text = built.input[: pr.PROMPT_CHARS * 2]
    repair_schema = orchestrator.REPAIR_SCHEMA
    return [
        ("solve", head_first(text, "Answer the question. Reply with the answer only.", None)),
        ("check", head_first(text, "Judge this item: first your reason, then the check it fails "
                             "(answerable, answer_matches, depends_on_signal) or none. The "
                             f"labelled answer is: {built.target[:200]}", verifier.CHECK_SCHEMA)),
        ("repair", head_first(text, "A verifier found the question ambiguous. Rewrite the "
                              "question so the problem is gone; the answer stays the same.",
                              repair_schema)),
    ]


def sample_plan_series(pool: Any, count: int) -> list[tuple[str, list[dict[str, Any]]]]:
    card = pool.card(pr.COPA)
    plan = pr.copa_plan(card)
    out = []
    for i, item in enumerate(pool.items(pr.COPA)[:count]):
        req = pr.sample_plan_request(plan, card, item, f"s-{i}")
        out.append((f"plan {i}", with_hint(req.messages, req.schema)))
    return out


def pipeline_order(pool: Any, items: int) -> list[tuple[str, list[dict[str, Any]]]]:
    card = pool.card(pr.PASSAGES)
    plan = pr.passage_plan(card)
    out = []
    for i, item in enumerate(pool.items(pr.PASSAGES)[2:2 + items]):
        sid = f"s-p{i}"
        _, built = pr.realized(plan, card, item, sid)
        for req in (pr.sample_plan_request(plan, card, item, sid), pr.solve_request(built),
                    pr.check_request(built, sid)):
            out.append((f"{req.purpose.split('.')[-1]} {i}", with_hint(req.messages, req.schema)))
    return out


def run_series(model: Model, prompts: list[list[int]], mode: str) -> dict[str, Any]:
    """Prefill every prompt in order; mode: fresh | live | saved."""
    states = PrefixStates(model.evaluator.states.max_bytes) if mode == "saved" else None
    evaluator = PromptEvaluator(model.llama, PROMPT_CHUNK, states)
    logits, evaluated, wall, cpu = [], 0, 0.0, 0.0
    for tokens in prompts:
        result, w, c = timed(lambda tokens=tokens: evaluator.evaluate(tokens,
                                                                     reuse=mode != "fresh"))
        evaluated += result.evaluated
        wall += w
        cpu += c
        logits.append(model.logits())
    model.evaluator.forget_live()  # this series' evaluator moved the context under it
    return {"evaluated": evaluated, "wall": wall, "cpu": cpu, "logits": logits,
            "state_mb": (evaluator.states.bytes / 2**20) if evaluator.states else 0.0}


def naive_reuse_identical(model: Model, prompts: list[list[int]],
                          fresh_logits: list[np.ndarray]) -> list[bool]:
    """Logits after reusing the previous prompt's KV up to the exact shared length (no
    chunk alignment), as llama-cpp-python's own prefix matching does."""
    llama, same = model.llama, []
    previous: list[int] = []
    for tokens, expected in zip(prompts, fresh_logits, strict=True):
        shared = min(common_prefix(previous, tokens), len(tokens) - 1) if previous else 0
        llama.n_tokens = shared
        llama.eval(tokens[shared:])
        same.append(bool(np.array_equal(model.logits(), expected)))
        previous = tokens
    model.evaluator.forget_live()
    return same


SERIES_MODES = {"a": ("fresh", "saved"), "b": ("fresh", "saved"), "c": ("fresh", "live", "saved")}


def section_prefix(model: Model, which: list[str]) -> None:
    pool = pr.load_pool()
    built = {
        "a": ("(a) verifier series, head-first prompts", verifier_series),
        "b": ("(b) 4 sample plans, one system prompt", lambda p: sample_plan_series(p, 4)),
        "c": ("(c) pipeline order, one passage item", lambda p: pipeline_order(p, 1)),
    }
    series = {key: (built[key][0], built[key][1](pool)) for key in which}
    print(f"\n[prefix] prefill per sequence (chunk {PROMPT_CHUNK}); logits compared with a "
          "fresh context")
    for key, (title, named) in series.items():
        prompts = [model.tokens(messages) for _, messages in named]
        total = sum(len(t) for t in prompts)
        print(f"  {title}: {len(prompts)} prompts, {total} prompt tokens "
              f"({', '.join(f'{name} {len(t)}' for (name, _), t in zip(named, prompts, strict=True))})")
        runs = {mode: run_series(model, prompts, mode) for mode in SERIES_MODES[key]}
        fresh = runs["fresh"]
        for mode, run in runs.items():
            same = all(np.array_equal(a, b) for a, b in zip(run["logits"], fresh["logits"],
                                                             strict=True))
            print(f"    {mode:<5} evaluated {run['evaluated']:>5} tok  {run['wall']:6.1f} s wall "
                  f"{run['cpu']:6.1f} CPU s  x{fresh['cpu'] / max(run['cpu'], 1e-9):4.1f} CPU  "
                  f"logits identical: {same}"
                  + (f"  saved states {run['state_mb']:.0f} MiB" if mode == "saved" else ""))
        naive = naive_reuse_identical(model, prompts, fresh["logits"])
        print(f"    naive reuse (mid-chunk) logits identical per prompt: {naive}")


# --------------------------------------------------------------------------- grammar


def strip_lengths(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {k: strip_lengths(v) for k, v in schema.items()
                if k not in ("maxLength", "minLength")}
    if isinstance(schema, list):
        return [strip_lengths(v) for v in schema]
    return schema


def old_path(model: Model, tokens: list[int], grammar: str, max_tokens: int) -> dict[str, Any]:
    """llama-cpp-python's create_completion with its full grammar pass (the code before)."""
    import llama_cpp
    from llama_cpp import LlamaGrammar

    llama = model.llama
    llama.reset()
    llama_cpp.llama_perf_context_reset(llama._ctx.ctx)
    out, wall, cpu = timed(lambda: llama.create_completion(
        tokens, max_tokens=max_tokens, temperature=0.0, repeat_penalty=1.1, seed=1234,
        grammar=LlamaGrammar.from_string(grammar, verbose=False), stop=["<|im_end|>"]))
    perf = llama_cpp.llama_perf_context(llama._ctx.ctx)
    model.evaluator.forget_live()
    return {"text": out["choices"][0]["text"], "n": out["usage"]["completion_tokens"],
            "decode_s": wall - perf.t_p_eval_ms / 1000, "cpu": cpu}


def new_path(model: Model, tokens: list[int], grammar: str | None, max_tokens: int,
             stop_at_json_end: bool) -> dict[str, Any]:
    model.evaluator.evaluate(tokens)
    out, wall, cpu = timed(lambda: decode(
        model.llama, tokens, DecodeParams(max_tokens=max_tokens, stop=("<|im_end|>",),
                                          stop_at_json_end=stop_at_json_end), grammar=grammar))
    return {"text": out.text, "n": len(out.tokens), "decode_s": out.seconds, "cpu": cpu,
            "full_passes": out.grammar_full_passes, "tokens": out.tokens,
            "finish": out.finish_reason}


def full_pass_ms(model: Model, grammar: str, answer_tokens: list[int]) -> tuple[float, float]:
    """(ms per full-vocabulary grammar pass, ms per single-token check) along an answer."""
    import llama_cpp as lc
    from llama_cpp._internals import LlamaTokenDataArray

    n_vocab = model.llama.n_vocab()
    sampler = lc.llama_sampler_init_grammar(model.llama._model.vocab, grammar.encode(), b"root")
    cands = LlamaTokenDataArray(n_vocab=n_vocab)
    logits = np.zeros(n_vocab, dtype=np.single)
    one_data = (lc.llama_token_data * 1)()
    one = lc.llama_token_data_array(data=ctypes.cast(one_data, lc.llama_token_data_p), size=1,
                                    selected=-1, sorted=False)
    full = single = 0.0
    try:
        for token in answer_tokens:
            cands.copy_logits(logits)
            started = time.perf_counter()
            lc.llama_sampler_apply(sampler, ctypes.byref(cands.candidates))
            full += time.perf_counter() - started
            one_data[0].id, one_data[0].logit = token, 0.0
            one.size = 1
            started = time.perf_counter()
            lc.llama_sampler_apply(sampler, ctypes.byref(one))
            single += time.perf_counter() - started
            lc.llama_sampler_accept(sampler, token)
    finally:
        lc.llama_sampler_free(sampler)
    n = max(len(answer_tokens), 1)
    return full / n * 1000, single / n * 1000


def section_grammar(model: Model, max_tokens: int, hint_placement: bool) -> None:
    requests = pr.structured_requests(pr.load_pool())
    print(f"\n[grammar] decode speed on the pipeline's structured prompts (max {max_tokens} "
          "tokens; tok/s excludes prompt evaluation)")
    head = (f"  {'purpose':<26}{'free t/s':>9}{'full t/s':>9}{'lazy t/s':>9}{'lazy/full':>10}"
            f"{'same':>6}{'valid':>6}{'tokens':>7}{'passes':>7}{'ms/pass':>8}{'no-bounds':>10}"
            f"{'ms/check':>9}{'sys-hint tok':>13}{'valid':>6}")
    print(head)
    totals = {"free": [0, 0.0], "full": [0, 0.0], "lazy": [0, 0.0]}
    valid = valid_sys = 0
    for req in requests:
        assert req.schema is not None
        grammar = schema_to_gbnf(req.schema)
        tokens = model.tokens(with_hint(req.messages, req.schema))
        free = new_path(model, tokens, None, max_tokens, stop_at_json_end=False)
        full = old_path(model, tokens, grammar, max_tokens)
        lazy = new_path(model, tokens, grammar, max_tokens, stop_at_json_end=True)
        sys_hint = {"n": 0, "text": ""}
        if hint_placement:
            sys_tokens = model.tokens(with_hint(req.messages, req.schema, "system"))
            sys_hint = new_path(model, sys_tokens, grammar, max_tokens, stop_at_json_end=True)
        for name, run in (("free", free), ("full", full), ("lazy", lazy)):
            totals[name][0] += run["n"]
            totals[name][1] += run["decode_s"]
        ok = _valid(lazy["text"], req.schema)
        ok_sys = _valid(sys_hint["text"], req.schema)
        valid += ok
        valid_sys += ok_sys
        pass_ms, check_ms = full_pass_ms(model, grammar, lazy["tokens"])
        stripped_ms, _ = full_pass_ms(model, schema_to_gbnf(strip_lengths(req.schema)),
                                      lazy["tokens"])
        rate = {k: v["n"] / v["decode_s"] if v["decode_s"] else 0.0
                for k, v in (("free", free), ("full", full), ("lazy", lazy))}
        print(f"  {req.purpose:<26}{rate['free']:>9.1f}{rate['full']:>9.1f}{rate['lazy']:>9.1f}"
              f"{rate['lazy'] / max(rate['full'], 1e-9):>9.1f}x"
              f"{str(full['text'].strip() == lazy['text'].strip()):>6}{str(ok):>6}"
              f"{lazy['n']:>7}{lazy['full_passes']:>7}{pass_ms:>8.1f}{stripped_ms:>10.1f}"
              f"{check_ms:>9.3f}{sys_hint['n']:>13}{str(ok_sys):>6}")
    rates = {k: n / s if s else 0.0 for k, (n, s) in totals.items()}
    print(f"  {'all':<26}{rates['free']:>9.1f}{rates['full']:>9.1f}{rates['lazy']:>9.1f}"
          f"{rates['lazy'] / max(rates['full'], 1e-9):>9.1f}x   constrained/free: before "
          f"{rates['full'] / max(rates['free'], 1e-9):.2f}, now "
          f"{rates['lazy'] / max(rates['free'], 1e-9):.2f}; valid JSON {valid}/{len(requests)} "
          f"(hint in system: {valid_sys}/{len(requests)})")


def _valid(text: str, schema: dict[str, Any]) -> bool:
    try:
        jsonschema.validate(json.loads(text), schema)
    except (ValueError, jsonschema.ValidationError):
        return False
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*",
                        default=["qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"])
    parser.add_argument("--sections", nargs="*", default=["chunk", "prefix", "grammar"],
                        choices=["chunk", "prefix", "grammar"])
    parser.add_argument("--series", nargs="*", default=["a", "b", "c"], choices=["a", "b", "c"])
    parser.add_argument("--hint-placement", action="store_true",
                        help="also decode with the schema hint in the system message")
    parser.add_argument("--max-tokens", type=int, default=256)
    args = parser.parse_args()
    print(f"{len(os.sched_getaffinity(0))} CPUs, load average {os.getloadavg()[0]:.2f} at start")
    for name in args.models:
        print(f"\n=== {name}")
        model = Model(name)
        if "chunk" in args.sections:
            section_chunk(model)
        if "prefix" in args.sections:
            section_prefix(model, args.series)
        if "grammar" in args.sections:
            section_grammar(model, args.max_tokens, args.hint_placement)
        unload_local_model(name)
        print(f"load average {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
