"""Operations per second of the pure tools (image, data, decomposition, retrieval).

Every operation goes through `default_registry.run` (schema validation, workspace
confinement, atomic write, sha256 of the output), as the Orchestrator calls it.
Inputs: a 640x480 photo-like image; 1,000 General-Bench-shaped records; a
~50 kB text; a corpus of 2,000 synthetic documents plus, when present, the
General-Bench NLP subset. Each figure is the best of `--repeats` timed batches.

    .venv/bin/python perf/pure_tools.py [--seconds 1.0] [--repeats 3]
"""

from __future__ import annotations

import argparse
import io
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from tools.pure.retrieval import BM25Index, Document
from tools.registry import load_builtin_tools
from tools.workspace import Workspace

REPO = Path(__file__).resolve().parent.parent
GENERAL_BENCH = REPO.parent / "shared/datasets/general-bench-subset/data/datasets"
WORDS = (
    "model benchmark sample audio image speech noise proof step error calendar meeting "
    "physics collision frame answer question option context dialogue speaker turn planet "
    "orbit gravity river mountain city market price policy health energy water"
).split()

def build_inputs(ws: Workspace) -> None:
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)
    pixels[:, :, 0] = np.linspace(0, 255, 640, dtype=np.uint8)  # some structure for PNG
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=90)
    ws.write_bytes("photo.jpg", out.getvalue())
    for i in range(4):
        frame = Image.fromarray(np.roll(pixels, i * 40, axis=1)).resize((160, 120))
        buf = io.BytesIO()
        frame.save(buf, "PNG")
        ws.write_bytes(f"frames/{i}.png", buf.getvalue())
    records = [
        {
            "id": f"q{i}",
            "input": {
                "question": " ".join(rng.choice(WORDS, 12)) + "?",
                "options": [" ".join(rng.choice(WORDS, 3)) for _ in range(4)],
            },
            "output": {"answer": "ABCD"[i % 4]},
        }
        for i in range(1000)
    ]
    ws.write_text("records.json", json.dumps({"task": "perf", "data": records}))
    sentences = [" ".join(rng.choice(WORDS, 14)).capitalize() + "." for _ in range(500)]
    ws.write_text("long.txt", " ".join(sentences))
    for i in range(2000):
        ws.write_text(f"corpus/doc{i:04d}.txt", " ".join(rng.choice(WORDS, 120)))


def ops_per_second(op: Callable[[], Any], seconds: float, repeats: int) -> float:
    op()  # warm-up (and index caches)
    best = 0.0
    for _ in range(repeats):
        count, start = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds:
            op()
            count += 1
        best = max(best, count / elapsed)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    registry = load_builtin_tools()
    with tempfile.TemporaryDirectory() as tmp:
        sources = {"gb": GENERAL_BENCH} if GENERAL_BENCH.is_dir() else {}
        ws = Workspace(tmp, sources=sources)
        build_inputs(ws)
        long_text = ws.read_text("long.txt")

        def call(name: str, **tool_args: Any) -> Callable[[], Any]:
            return lambda: registry.run(name, tool_args, ws, seed=0)

        photo = {"input": "photo.jpg"}
        cases: list[tuple[str, str, Callable[[], Any], str]] = [
            ("image", "image_resize 640x480→224x224 crop, PNG",
             call("image_resize", **photo, output="o/r.png", width=224, height=224,
                  mode="crop"), "ops"),
            ("image", "image_resize 640x480→320x320 pad, JPEG q85",
             call("image_resize", **photo, output="o/r.jpg", width=320, height=320,
                  mode="pad", quality=85), "ops"),
            ("image", "image_crop half, PNG",
             call("image_crop", **photo, output="o/c.png", box=[0, 0, 0.5, 0.5],
                  relative=True), "ops"),
            ("image", "image_pad 20px, JPEG",
             call("image_pad", **photo, output="o/p.jpg", left=20, right=20, top=20,
                  bottom=20), "ops"),
            ("image", "image_compose 4 frames 2x2 + labels, PNG",
             call("image_compose", inputs=[f"frames/{i}.png" for i in range(4)],
                  output="o/g.png", labels=list("ABCD"), gap=4), "ops"),
            ("image", "image_highlight ellipse, JPEG",
             call("image_highlight", **photo, output="o/h.jpg", box=[100, 100, 300, 250],
                  shape="ellipse"), "ops"),
            ("image", "image_reencode JPEG q30",
             call("image_reencode", **photo, output="o/q.jpg", quality=30), "ops"),
            ("image", "image_blur gaussian r=3, JPEG",
             call("image_blur", **photo, output="o/b.jpg", radius=3), "ops"),
            ("data", "data_convert 1k records JSON→Parquet",
             call("data_convert", input="records.json", output="o/r.parquet"), "files"),
            ("data", "data_convert 1k records Parquet→CSV",
             call("data_convert", input="o/r.parquet", output="o/r.csv"), "files"),
            ("data", "data_convert 1k records JSON→JSONL",
             call("data_convert", input="records.json", output="o/r.jsonl"), "files"),
            ("data", "data_metadata 1k records set+append",
             call("data_metadata", input="records.json", output="o/m.jsonl",
                  set={"source": "perf"}, append={"log": "x"}), "files"),
            ("data", "data_patch 1k records, 4 ops incl. derive",
             call("data_patch", input="records.json", output="o/p.jsonl", operations=[
                 {"op": "derive", "path": "target",
                  "expr": "input.options[letter_index(output.answer)]"},
                 {"op": "rename", "path": "input.question", "to": "context"},
                 {"op": "replace", "path": "input.context", "old": "model", "new": "system",
                  "must_match": False},
                 {"op": "set", "path": "metadata.split", "value": "test"}]), "files"),
            ("data", "data_decompose 50 kB text → sentences",
             call("data_decompose", text=long_text, mode="sentences"), "ops"),
            ("data", "data_decompose 1k records → word chunks",
             call("data_decompose", input="records.json", field="input.question",
                  mode="chunks", size=5, output="o/chunks.jsonl"), "files"),
            ("retrieval", "retrieval_search 2k docs (cached index), k=10",
             call("retrieval_search", corpus="corpus", query="gravity orbit planet", k=10),
             "queries"),
        ]
        if sources:
            cases.append(
                ("retrieval", "retrieval_search General-Bench NLP (cached), k=5",
                 call("retrieval_search", corpus="gb:nlp", query="needle exchange policy",
                      k=5, text_fields=["input.question", "input.context", "input.raw_text"]),
                 "queries"))

        docs = [Document(doc_id=f"d{i}", text=" ".join(np.random.default_rng(i).choice(
            WORDS, 120))) for i in range(2000)]
        start = time.perf_counter()
        index = BM25Index.build(docs)
        build_s = time.perf_counter() - start
        raw_qps = ops_per_second(lambda: index.search("gravity orbit planet", 10),
                                 args.seconds, args.repeats)

        print(f"{'family':<10} {'operation':<52} {'per second':>12}")
        families: dict[str, list[float]] = {}
        for family, label, op, unit in cases:
            rate = ops_per_second(op, args.seconds, args.repeats)
            families.setdefault(family, []).append(rate)
            print(f"{family:<10} {label:<52} {rate:>8.1f} {unit}")
        print(f"{'retrieval':<10} {'BM25Index.build 2k docs x 120 words (Python API)':<52} "
              f"{len(docs) / build_s:>8.0f} docs")
        print(f"{'retrieval':<10} {'BM25Index.search 2k docs, no registry/workspace':<52} "
              f"{raw_qps:>8.1f} queries")
        print()
        for family, rates in families.items():
            print(f"{family:<10} median of {len(rates)} operations: "
                  f"{sorted(rates)[len(rates) // 2]:.1f}/s")


if __name__ == "__main__":
    main()
