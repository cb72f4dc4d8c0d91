"""Same arguments + seed → same bytes for every image/data/retrieval tool, across processes.

Each process builds the same inputs, runs one call per tool and prints every
result's `outputs()` (file sha256s and values). Two processes with different
hash seeds (dict/set order) and the test process itself must agree.
"""

from __future__ import annotations

import json
import os
import runpy
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]

SCRIPT = r'''
import io, json, sys
from PIL import Image
from tools.registry import load_builtin_tools
from tools.workspace import Workspace

def build(root):
    ws = Workspace(root)
    img = Image.new("RGB", (48, 32))
    img.putdata([((x * 5) % 256, (y * 7) % 256, (x * y) % 256) for y in range(32) for x in range(48)])
    buf = io.BytesIO(); img.save(buf, "PNG"); ws.write_bytes("in.png", buf.getvalue())
    records = [{"id": f"r{i}", "text": f"Sentence {i}. Another one about topic {i % 3}!",
                "meta": {"k": i}, "tags": ["a", "b"][: i % 3]} for i in range(12)]
    ws.write_text("r.json", json.dumps(records))
    ws.write_text("corpus/a.txt", "alpha beta gamma. beta again.")
    ws.write_text("corpus/b.txt", "beta delta. gamma gamma.")
    ws.write_text("corpus/c.txt", "beta delta. gamma gamma.")
    return ws

CALLS = [
    ("image_resize", {"input": "in.png", "output": "o/1.png", "width": 20, "height": 20, "mode": "crop"}),
    ("image_resize", {"input": "in.png", "output": "o/2.jpg", "aspect": "1:1", "mode": "pad", "quality": 55}),
    ("image_crop", {"input": "in.png", "output": "o/3.png", "box": [0.1, 0.1, 0.9, 0.6], "relative": True}),
    ("image_pad", {"input": "in.png", "output": "o/4.png", "left": 2, "bottom": 9, "color": "#12345680"}),
    ("image_compose", {"inputs": ["in.png", "o/1.png", "o/3.png"], "output": "o/5.png", "gap": 3,
                       "labels": ["A", "B", "C"]}),
    ("image_highlight", {"input": "in.png", "output": "o/6.jpg", "box": [4, 4, 30, 20], "shape": "ellipse"}),
    ("image_reencode", {"input": "in.png", "output": "o/7.jpg", "quality": 12}),
    ("image_blur", {"input": "in.png", "output": "o/8.png", "radius": 2.5}),
    ("data_convert", {"input": "r.json", "output": "o/r.parquet"}),
    ("data_convert", {"input": "o/r.parquet", "output": "o/r.csv"}),
    ("data_convert", {"input": "r.json", "output": "o/r.jsonl"}),
    ("data_metadata", {"input": "r.json", "output": "o/m.json", "set": {"b": 1, "a": {"y": 2, "x": 1}},
                       "append": {"log": "x"}}),
    ("data_patch", {"input": "r.json", "output": "o/p.jsonl", "operations": [
        {"op": "derive", "path": "n", "expr": "len(tags) * 2 + meta.k"},
        {"op": "rename", "path": "meta", "to": "info"},
        {"op": "replace", "path": "text", "old": "topic", "new": "subject"}]}),
    ("data_decompose", {"input": "r.json", "field": "text", "mode": "sentences", "output": "o/s.jsonl"}),
    ("data_decompose", {"text": "w1 w2 w3 w4 w5 w6 w7", "mode": "chunks", "size": 3, "overlap": 1}),
    ("retrieval_search", {"corpus": "corpus", "query": "beta gamma delta", "k": 3, "output": "o/hits.json"}),
]

def run_all(root):
    ws = build(root)
    registry = load_builtin_tools()
    return [registry.run(name, args, ws, seed=11).outputs() for name, args in CALLS]

if __name__ == "__main__":
    print(json.dumps(run_all(sys.argv[1]), sort_keys=True))
'''


def _write_script(tmp_path: Path) -> Path:
    script = tmp_path / "determinism_script.py"
    script.write_text(SCRIPT)
    return script


def _run_in_subprocess(tmp_path: Path, name: str, hash_seed: str) -> list[dict[str, Any]]:
    script = _write_script(tmp_path)
    env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path / name)],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_every_tool_gives_the_same_bytes_in_other_processes(tmp_path: Path) -> None:
    namespace = runpy.run_path(str(_write_script(tmp_path)), run_name="determinism_script")
    here = json.loads(json.dumps(namespace["run_all"](str(tmp_path / "here")), sort_keys=True))
    first = _run_in_subprocess(tmp_path, "p1", "1")
    second = _run_in_subprocess(tmp_path, "p2", "987654")
    assert len(here) == len(namespace["CALLS"])
    for index, (a, b, c) in enumerate(zip(here, first, second, strict=True)):
        assert a == b == c, namespace["CALLS"][index]
    # the comparison is not vacuous: files were produced and hashed
    assert len(here[0]["image"]) == 64 and len(here[-1]["hits_file"]) == 64
    assert here[0]["image"] != here[1]["image"]
