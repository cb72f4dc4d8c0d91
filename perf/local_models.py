"""Speed, memory and JSON validity of the four embedded local models.

    .venv/bin/python perf/local_models.py [--prompts 50] [--models NAME ...] [--gen-tokens 200]

Each model runs in its own child process (so peak RSS is that model's alone) through the real
`local:NAME` client: verify (sha256 of the cached file), load, one free-text generation
(prompt and decode speed from llama.cpp's counters), then N structured prompts of five
agent-like schemas, each answer checked with jsonschema. Prints one table row per model.
The machine has 2 cores shared with other work: figures taken under load are low.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent

_TEXT = {"type": "string", "maxLength": 200}
SCHEMAS: dict[str, dict[str, Any]] = {
    "verdict": {
        "type": "object",
        "properties": {
            "answer": {"enum": ["yes", "no"]},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1},
            "reason": _TEXT,
        },
        "required": ["answer", "confidence", "reason"],
    },
    "subtasks": {
        "type": "object",
        "properties": {
            "subtasks": {
                "type": "array",
                "minItems": 1,
                "maxItems": 4,
                "items": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string", "maxLength": 60},
                        "description": _TEXT,
                        "difficulty": {"type": "integer", "minimum": 1, "maximum": 5},
                    },
                    "required": ["name", "description", "difficulty"],
                },
            }
        },
        "required": ["subtasks"],
    },
    "choice": {
        "type": "object",
        "properties": {"choice": {"enum": ["A", "B", "C", "D"]}, "explanation": _TEXT},
        "required": ["choice", "explanation"],
    },
    "cause_effect": {
        "type": "object",
        "properties": {
            "cause": {"type": "string"},
            "effect": {"type": "string"},
            "plausible": {"type": "boolean"},
        },
        "required": ["cause", "effect", "plausible"],
    },
    "scores": {
        "type": "object",
        "properties": {
            "alignment": {"type": "integer", "minimum": 0, "maximum": 10},
            "robustness": {"type": "integer", "minimum": 0, "maximum": 10},
            "signal": {"type": "integer", "minimum": 0, "maximum": 10},
            "notes": _TEXT,
        },
        "required": ["alignment", "robustness", "signal", "notes"],
    },
}

TOPICS = [
    "a glass of water left in the freezer overnight",
    "a student who skipped breakfast before an exam",
    "heavy rain on a city with blocked drains",
    "a phone left charging in direct sunlight",
    "a bakery that doubled its bread prices",
    "a dog that was not walked for two days",
    "a bridge built with too little steel",
    "a forest after a long drought",
    "a car driven with under-inflated tyres",
    "a team that skipped code review before a release",
]

PROMPTS = {
    "verdict": "Is this likely to cause a problem: {t}? Answer yes or no with a confidence.",
    "subtasks": "Propose subtasks for a benchmark that tests reasoning about {t}.",
    "choice": (
        "What most likely happens next with {t}? A) nothing changes B) a clear negative effect "
        "C) a clear positive effect D) it cannot be known. Pick one."
    ),
    "cause_effect": "Describe the main cause and its effect in this situation: {t}.",
    "scores": (
        "Rate a dataset of short stories about {t} as a source for a causal-reasoning "
        "benchmark: alignment, robustness and signal preservation, 0 to 10 each."
    ),
}

STORY = "Write a detailed story, several paragraphs long, about a lighthouse keeper in a storm."


def structured_prompts(count: int) -> list[tuple[str, str]]:
    """(schema name, prompt) pairs cycling over schemas, then topics: deterministic."""
    kinds = list(SCHEMAS)
    pairs = []
    for i in range(count):
        kind = kinds[i % len(kinds)]
        topic = TOPICS[(i // len(kinds)) % len(TOPICS)]
        pairs.append((kind, PROMPTS[kind].format(t=topic)))
    return pairs


async def measure(name: str, prompts: int, gen_tokens: int) -> dict[str, Any]:
    import jsonschema
    from autogen_core.models import SystemMessage, UserMessage

    from tools.llm import weights
    from tools.llm.local import make_local_client

    started = time.perf_counter()
    weights.model_path(name)  # sha256 of the cached file: the first-load check of a process
    verify_s = time.perf_counter() - started
    client = make_local_client(name)
    load_s = await client.load()  # type: ignore[attr-defined]
    system = SystemMessage(content="You are a concise assistant. Answer in English.")

    await client.create([system, UserMessage(content="Say hi.", source="u")])  # warm-up
    story = await client.create(
        [system, UserMessage(content=STORY, source="u")],
        extra_create_args={"max_tokens": gen_tokens},
    )
    gen = client.last_timings  # type: ignore[attr-defined]

    valid = truncated = json_tokens = 0
    json_seconds = json_wall = 0.0
    failures: list[str] = []
    for kind, text in structured_prompts(prompts):
        result = await client.create(
            [system, UserMessage(content=text, source="u")],
            extra_create_args={
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {"name": kind, "schema": SCHEMAS[kind]},
                },
                "max_tokens": 512,
            },
        )
        timings = client.last_timings  # type: ignore[attr-defined]
        json_tokens += result.usage.completion_tokens
        json_seconds += timings.total_seconds - timings.prompt_seconds
        json_wall += timings.total_seconds
        truncated += result.finish_reason == "length"
        try:
            jsonschema.validate(json.loads(result.content), SCHEMAS[kind])
            valid += 1
        except (ValueError, jsonschema.ValidationError) as exc:
            failures.append(f"{kind}: {str(exc).splitlines()[0][:100]}")
    return {
        "model": name,
        "verify_s": verify_s,
        "load_s": load_s,
        "prompt_tps": gen.prompt_tokens / gen.prompt_seconds if gen.prompt_seconds else 0.0,
        "gen_tokens": story.usage.completion_tokens,
        # Generation rate: sampling (and grammar) included, prompt evaluation excluded.
        "gen_tps": story.usage.completion_tokens / (gen.total_seconds - gen.prompt_seconds),
        "json_tps": json_tokens / json_seconds if json_seconds else 0.0,
        "json_tokens": json_tokens,
        "json_s_per_answer": json_wall / max(prompts, 1),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "valid": valid,
        "prompts": prompts,
        "truncated": truncated,
        "failures": failures[:5],
        "load_avg": os.getloadavg()[0],  # 1-minute load at the end: > CPUs means contention
        "threads": int(os.environ.get("BENCHAGENT_LLM_THREADS", "0")) or len(os.sched_getaffinity(0)),
    }


def run_child(name: str, prompts: int, gen_tokens: int) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", name, "--prompts", str(prompts),
         "--gen-tokens", str(gen_tokens)],
        cwd=REPO, capture_output=True, text=True,
    )  # fmt: skip
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"model": name, "error": tail}
    return json.loads(lines[-1])


def print_table(rows: list[dict[str, Any]]) -> None:
    head = (
        f"{'model':<20} {'verify s':>8} {'load s':>7} {'prompt t/s':>10} {'gen t/s':>8} "
        f"{'json t/s':>8} {'s/answer':>8} {'peak RSS MiB':>12} {'valid JSON':>11} {'truncated':>9} "
        f"{'load':>5}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        if "error" in r:
            print(f"{r['model']:<20} error: {r['error']}")
            continue
        print(
            f"{r['model']:<20} {r['verify_s']:>8.2f} {r['load_s']:>7.2f} {r['prompt_tps']:>10.1f} "
            f"{r['gen_tps']:>8.1f} {r['json_tps']:>8.1f} {r['json_s_per_answer']:>8.2f} "
            f"{r['peak_rss_mib']:>12.0f} "
            f"{r['valid']:>5}/{r['prompts']:<5} {r['truncated']:>9} {r.get('load_avg', 0):>5.1f}"
        )
    for r in rows:
        for failure in r.get("failures", []):
            print(f"  {r['model']}: invalid: {failure}")


def main() -> int:
    from tools.llm.local_models import LOCAL_MODELS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=50, help="structured prompts per model")
    parser.add_argument("--models", nargs="*", default=list(LOCAL_MODELS))
    parser.add_argument("--gen-tokens", type=int, default=200, help="free-text tokens to time")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(measure(args.child, args.prompts, args.gen_tokens))))
        return 0
    load = os.getloadavg()[0]
    print(f"{len(os.sched_getaffinity(0))} CPUs, load average {load:.2f} at start")
    rows = []
    for name in args.models:
        rows.append(run_child(name, args.prompts, args.gen_tokens))
        print(f"  done {name}", file=sys.stderr)
    print_table(rows)
    print(f"load average {os.getloadavg()[0]:.2f} at end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
