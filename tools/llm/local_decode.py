"""Prompt evaluation with KV prefix reuse, and decoding with a lazily applied grammar.

Both make the embedded model faster without changing a single answer at temperature 0:

- **Prefix reuse.** A prompt is evaluated in chunks of `chunk` tokens at fixed positions
  (0, chunk, 2*chunk, ...). A token's key/value entries depend on the batch it was computed
  in, so reusing a prefix that ends mid-chunk would compute the rest in different batches and
  can change a greedy answer; reusing whole chunks only leaves every remaining batch exactly
  as a fresh evaluation makes it, and the answer is bit-identical. The prefix comes from the
  live context (the previous prompt) or from `PrefixStates`, an LRU of saved sequence states
  of earlier prompts (chunk-aligned heads, capped in bytes), so calls that alternate between
  prompt heads (one item's solve, check and repair; many items under one system prompt)
  each find theirs.
- **Lazy grammar.** llama.cpp's grammar sampler checks every token of the vocabulary
  (152k for Qwen) against the grammar at each step. Here the token is picked without it and
  only that token is checked; only when the grammar rejects it is the full pass made and the
  token picked again. At temperature 0 the result is the same token as a full pass (the
  unconstrained argmax, when allowed, is the constrained argmax); at higher temperatures it
  is llama.cpp's own rejection-first order.

Decoding also stops as soon as the text is one complete JSON value (`stop_at_json_end`),
instead of waiting for the model to end its turn. Asked for `top_logprobs`, it reports each
generated token's likeliest alternatives under the model's own distribution (the raw logits,
before penalties and grammar), as OpenAI's `logprobs` do.

**Scoring.** `continuation_logprobs` gives the log-probability of each of several texts
right after a shared one (a cloze item's options, each with the rest of its sentence): the
shared head is evaluated once and reused, each continuation's tokens are fed one at a time.

Everything here runs on the model's single worker thread (llama.cpp is not thread-safe).
"""

from __future__ import annotations

import ctypes
import json
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from tools.llm import llama_env  # noqa: F401  (before llama_cpp: sets OMP_WAIT_POLICY)

# isort: split
import llama_cpp
from llama_cpp._internals import LlamaTokenDataArray

__all__ = [
    "DecodeParams",
    "Decoded",
    "TokenLogprobs",
    "PrefixStates",
    "common_prefix",
    "decode",
    "evaluate_prompt",
]

GrammarMode = Literal["lazy", "full"]
_JSON_CLOSERS = (b"}", b"]")


def common_prefix(a: Sequence[int] | np.ndarray, b: Sequence[int] | np.ndarray) -> int:
    """Length of the common head of two token sequences."""
    n = min(len(a), len(b))
    if n == 0:
        return 0
    diff = np.flatnonzero(np.asarray(a[:n]) != np.asarray(b[:n]))
    return int(diff[0]) if diff.size else n


# --------------------------------------------------------------------------- prefix states


@dataclass
class _SavedState:
    tokens: np.ndarray  # the chunk-aligned prompt head whose KV state `data` holds
    data: bytes


class PrefixStates:
    """Saved KV states of chunk-aligned prompt heads, least recently used dropped first."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._states: OrderedDict[bytes, _SavedState] = OrderedDict()
        self.bytes = 0

    def __len__(self) -> int:
        return len(self._states)

    def best(self, tokens: Sequence[int]) -> tuple[_SavedState | None, int]:
        """The saved state sharing the longest head with `tokens`, and that length."""
        found, length = None, 0
        for state in self._states.values():
            n = common_prefix(state.tokens, tokens)
            if n > length:
                found, length = state, n
        return found, length

    def touch(self, state: _SavedState) -> None:
        self._states.move_to_end(state.tokens.tobytes())

    def has(self, tokens: np.ndarray) -> bool:
        return tokens.tobytes() in self._states

    def add(self, tokens: np.ndarray, data: bytes) -> None:
        if len(data) > self.max_bytes:
            return
        key = tokens.tobytes()
        old = self._states.pop(key, None)
        if old is not None:
            self.bytes -= len(old.data)
        self._states[key] = _SavedState(tokens=tokens.copy(), data=data)
        self.bytes += len(data)
        while self.bytes > self.max_bytes:
            _, dropped = self._states.popitem(last=False)
            self.bytes -= len(dropped.data)

    def clear(self) -> None:
        self._states.clear()
        self.bytes = 0


@dataclass
class PromptEvaluation:
    reused: int  # prompt tokens whose KV state was reused
    evaluated: int  # prompt tokens computed now
    seconds: float
    source: Literal["none", "live", "saved"] = "none"


def _save_seq(llama: Any) -> bytes:
    ctx = llama._ctx.ctx
    size = llama_cpp.llama_state_seq_get_size(ctx, 0)
    buf = (ctypes.c_uint8 * size)()
    written = llama_cpp.llama_state_seq_get_data(ctx, buf, size, 0)
    return bytes(buf)[:written]


def _load_seq(llama: Any, data: bytes) -> None:
    llama._ctx.kv_cache_clear()
    buf = (ctypes.c_uint8 * len(data)).from_buffer_copy(data)
    if llama_cpp.llama_state_seq_set_data(llama._ctx.ctx, buf, len(data), 0) != len(data):
        llama._ctx.kv_cache_clear()
        raise RuntimeError("llama.cpp refused a saved prefix state")


class PromptEvaluator:
    """Evaluates prompts on one `Llama`, reusing chunk-aligned KV prefixes."""

    def __init__(self, llama: Any, chunk: int, states: PrefixStates | None) -> None:
        if llama.n_batch != chunk:
            raise ValueError(f"the context's n_batch ({llama.n_batch}) must be the chunk ({chunk})")
        self.llama = llama
        self.chunk = chunk
        self.states = states
        self._clean = 0  # leading positions of the live context computed as prompt chunks

    def _aligned(self, shared: int, n: int) -> int:
        # At least the last prompt token is evaluated now: its logits start the answer.
        return min(shared, n - 1) // self.chunk * self.chunk

    def evaluate(self, tokens: Sequence[int], reuse: bool = True) -> PromptEvaluation:
        """Fill the context with `tokens` (KV state and input ids); the last logits are ready."""
        llama, n = self.llama, len(tokens)
        started = time.perf_counter()
        start, source = 0, "none"
        clean, self._clean = self._clean, 0  # until the context is in a known state again
        if reuse:
            live = self._aligned(common_prefix(llama.input_ids[:clean], tokens), n)
            saved, shared = self.states.best(tokens) if self.states else (None, 0)
            from_saved = self._aligned(shared, n)
            if saved is not None and from_saved > live:
                _load_seq(llama, saved.data)
                llama.input_ids[: len(saved.tokens)] = saved.tokens
                start, source = from_saved, "saved"
                assert self.states is not None
                self.states.touch(saved)
            elif live > 0:
                start, source = live, "live"
        llama.n_tokens = start  # eval() drops every KV entry from here on
        self._clean = start
        head = n // self.chunk * self.chunk  # the last chunk boundary inside the prompt
        if reuse and self.states is not None and head > start:
            llama.eval(tokens[start:head])
            self._clean = head
            head_tokens = np.asarray(tokens[:head], dtype=np.intc)
            if not self.states.has(head_tokens):
                self.states.add(head_tokens, _save_seq(llama))
            if head < n:
                llama.eval(tokens[head:])
        else:
            llama.eval(tokens[start:])
        self._clean = n
        return PromptEvaluation(reused=start, evaluated=n - start,
                                seconds=time.perf_counter() - started,
                                source=source)  # type: ignore[arg-type]

    def forget_live(self) -> None:
        """The live context no longer holds clean prompt chunks (e.g. after an error)."""
        self._clean = 0


def evaluate_prompt(evaluator: PromptEvaluator, tokens: Sequence[int],
                    reuse: bool = True) -> PromptEvaluation:
    return evaluator.evaluate(tokens, reuse)


# --------------------------------------------------------------------------- decoding


@dataclass(frozen=True)
class DecodeParams:
    max_tokens: int
    temperature: float = 0.0
    top_k: int = 40
    top_p: float = 0.95
    min_p: float = 0.05
    repeat_penalty: float = 1.1
    penalty_last_n: int = 64
    seed: int = 1234
    stop: tuple[str, ...] = ()
    stop_at_json_end: bool = False
    top_logprobs: int = 0  # alternatives reported per generated token (0: none)


@dataclass(frozen=True)
class TokenLogprobs:
    """One generated token: its bytes, its log-probability, and the likeliest alternatives."""

    token: bytes
    logprob: float
    top: tuple[tuple[bytes, float], ...]


@dataclass
class Decoded:
    tokens: list[int]
    text: str
    finish_reason: Literal["stop", "length"]
    seconds: float
    grammar_checks: int = 0  # tokens checked alone against the grammar
    grammar_full_passes: int = 0  # tokens that needed the whole vocabulary filtered
    stopped_at_json_end: bool = False
    logprobs: list[TokenLogprobs] = field(default_factory=list)  # when top_logprobs > 0
    extra: dict[str, Any] = field(default_factory=dict)


class _Samplers:
    """The penalty sampler, the grammar sampler and the picker, applied by hand in order."""

    def __init__(self, llama: Any, params: DecodeParams, grammar: str | None) -> None:
        lc = llama_cpp
        self.penalties = lc.llama_sampler_init_penalties(
            params.penalty_last_n, params.repeat_penalty, 0.0, 0.0)
        self.grammar = None
        if grammar is not None:
            self.grammar = lc.llama_sampler_init_grammar(
                llama._model.vocab, grammar.encode("utf-8"), b"root")
            if not self.grammar:
                lc.llama_sampler_free(self.penalties)
                raise ValueError("llama.cpp could not parse the grammar")
        if params.temperature <= 0.0:
            self.pick = lc.llama_sampler_init_greedy()
        else:  # the order of llama-cpp-python's own chain
            self.pick = lc.llama_sampler_chain_init(lc.llama_sampler_chain_default_params())
            for sampler in (lc.llama_sampler_init_top_k(params.top_k),
                            lc.llama_sampler_init_typical(1.0, 1),
                            lc.llama_sampler_init_top_p(params.top_p, 1),
                            lc.llama_sampler_init_min_p(params.min_p, 1),
                            lc.llama_sampler_init_temp(params.temperature),
                            lc.llama_sampler_init_dist(params.seed)):
                lc.llama_sampler_chain_add(self.pick, sampler)

    def close(self) -> None:
        for sampler in (self.penalties, self.grammar, self.pick):
            if sampler:
                llama_cpp.llama_sampler_free(sampler)

    def accept(self, token: int) -> None:
        for sampler in (self.penalties, self.grammar, self.pick):
            if sampler:
                llama_cpp.llama_sampler_accept(sampler, token)


def _selected(cands: LlamaTokenDataArray) -> int:
    return int(cands.candidates_data.id[cands.candidates.selected])


def decode(
    llama: Any,
    prompt_tokens: Sequence[int],
    params: DecodeParams,
    *,
    grammar: str | None = None,
    grammar_mode: GrammarMode = "lazy",
    should_stop: Callable[[], bool] = lambda: False,
    stop_token_ids: Sequence[int] = (),
) -> Decoded:
    """Generate after `prompt_tokens` (already evaluated: the context's last logits are theirs)."""
    lc = llama_cpp
    n_vocab = llama.n_vocab()
    n_ctx = llama.n_ctx()
    max_tokens = params.max_tokens
    if max_tokens <= 0 or max_tokens + len(prompt_tokens) >= n_ctx:
        max_tokens = n_ctx - len(prompt_tokens)
    vocab = llama._model.vocab
    stops = [s.encode("utf-8") for s in params.stop if s]
    samplers = _Samplers(llama, params, grammar)
    cands = LlamaTokenDataArray(n_vocab=n_vocab)
    one_data = (lc.llama_token_data * 1)()
    one = lc.llama_token_data_array(data=ctypes.cast(one_data, lc.llama_token_data_p), size=1,
                                    selected=-1, sorted=False)
    out = Decoded(tokens=[], text="", finish_reason="length", seconds=0.0)
    raw = b""
    started = time.perf_counter()
    try:
        while len(out.tokens) < max_tokens:
            if should_stop():
                out.finish_reason = "stop"
                break
            logits = np.ctypeslib.as_array(llama._ctx.get_logits_ith(-1), shape=(n_vocab,))
            alternatives = (_top_logprobs(logits, params.top_logprobs)
                            if params.top_logprobs > 0 else None)
            token = _pick(samplers, cands, logits, grammar_mode, one, one_data, out)
            samplers.accept(token)
            if lc.llama_vocab_is_eog(vocab, token) or token in stop_token_ids:
                out.finish_reason = "stop"
                break
            out.tokens.append(token)
            piece = llama._model.detokenize([token], special=False)
            if alternatives is not None:
                logprobs, ids = alternatives
                out.logprobs.append(TokenLogprobs(
                    token=piece, logprob=float(logprobs[token]),
                    top=tuple((llama._model.detokenize([int(i)], special=False),
                               float(logprobs[i])) for i in ids)))
            raw += piece
            if stops and any(s in raw for s in stops):
                out.finish_reason = "stop"
                break
            if (params.stop_at_json_end and any(c in piece for c in _JSON_CLOSERS)
                    and _is_json(raw)):
                out.finish_reason, out.stopped_at_json_end = "stop", True
                break
            if len(out.tokens) < max_tokens:
                llama.eval([token])
    finally:
        samplers.close()
    text = llama.detokenize(out.tokens, prev_tokens=list(prompt_tokens))
    cut = [text.index(s) for s in stops if s in text]
    if cut:
        text = text[: min(cut)]
    out.text = text.decode("utf-8", errors="ignore")
    out.seconds = time.perf_counter() - started
    return out


def continuation_logprobs(evaluator: PromptEvaluator, before: Sequence[int],
                          fulls: Sequence[Sequence[int]], reuse: bool = True) -> list[float]:
    """For each token sequence in `fulls` (`before` then a continuation, tokenized whole): the
    sum of the log-probabilities of its tokens after the head it shares with `before` (at
    least its last token). A boundary token that merges the head's end with the continuation's
    start ("in" + " about") is scored with the continuation, for every option alike. The head
    is evaluated (and reused) as a prompt; the continuation in batches that keep every
    position's logits."""
    llama = evaluator.llama
    n_vocab = llama.n_vocab()

    def logprob(row: int, token: int) -> float:
        logits = np.ctypeslib.as_array(llama._ctx.get_logits_ith(row), shape=(n_vocab,))
        shifted = logits.astype(np.float64) - float(logits.max())
        return float(shifted[token]) - math.log(float(np.exp(shifted).sum()))

    scores = []
    for full in fulls:
        head = max(1, min(common_prefix(before, full), len(full) - 1))
        evaluator.evaluate(full[:head], reuse=reuse)
        tail = list(full[head:])
        total = logprob(-1, tail[0])
        fed = tail[:-1]  # each fed token's logits score the token after it
        for start in range(0, len(fed), evaluator.chunk):
            batch = fed[start:start + evaluator.chunk]
            n_past = llama.n_tokens
            llama._ctx.kv_cache_seq_rm(-1, n_past, -1)
            llama._batch.set_batch(batch=batch, n_past=n_past, logits_all=True)
            llama._ctx.decode(llama._batch)
            llama.input_ids[n_past:n_past + len(batch)] = batch
            llama.n_tokens += len(batch)
            total += sum(logprob(i, tail[start + i + 1]) for i in range(len(batch)))
        scores.append(total)
    return scores


def _top_logprobs(logits: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Log-softmax of the logits and the ids of the `k` likeliest tokens, likeliest first."""
    shifted = logits.astype(np.float64) - float(logits.max())
    logprobs = shifted - math.log(float(np.exp(shifted).sum()))
    ids = np.argpartition(-logprobs, k)[:k]
    return logprobs, ids[np.argsort(-logprobs[ids])]


def _pick(samplers: _Samplers, cands: LlamaTokenDataArray, logits: np.ndarray,
          mode: GrammarMode, one: Any, one_data: Any, out: Decoded) -> int:
    lc = llama_cpp
    ref = ctypes.byref(cands.candidates)
    cands.copy_logits(logits)
    lc.llama_sampler_apply(samplers.penalties, ref)
    if samplers.grammar is None:
        lc.llama_sampler_apply(samplers.pick, ref)
        return _selected(cands)
    if mode == "lazy":
        lc.llama_sampler_apply(samplers.pick, ref)
        token = _selected(cands)
        one_data[0].id, one_data[0].logit, one_data[0].p = token, 0.0, 0.0
        one.size, one.selected, one.sorted = 1, -1, False
        lc.llama_sampler_apply(samplers.grammar, ctypes.byref(one))
        out.grammar_checks += 1
        if math.isfinite(one_data[0].logit):
            return token
        cands.copy_logits(logits)  # rejected: filter the whole vocabulary, pick again
        lc.llama_sampler_apply(samplers.penalties, ref)
    out.grammar_full_passes += 1
    lc.llama_sampler_apply(samplers.grammar, ref)
    lc.llama_sampler_apply(samplers.pick, ref)
    return _selected(cands)


def _is_json(raw: bytes) -> bool:
    try:
        json.loads(raw)
    except ValueError:
        return False
    return True
