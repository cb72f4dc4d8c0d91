"""What every generator's `render` starts with.

`check_mode` refuses a mode the generator does not have; `instance_metadata`
is the metadata naming the instance an item came from (generator, version,
seed, resolved parameters, complexity), enough to sample, verify and score it
again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tools.generators.base import Generator, Instance, ParamError


def check_mode(mode: str, modes: Sequence[str]) -> None:
    """ParamError (a ValueError) unless `mode` is one of `modes`."""
    if mode not in modes:
        raise ParamError(f"render mode {mode!r} is not one of {', '.join(modes)}")


def instance_metadata(generator: Generator, instance: Instance) -> dict[str, Any]:
    """A fresh dict: generator, generator_version, seed, params, complexity."""
    return {
        "generator": generator.name,
        "generator_version": generator.version,
        "seed": instance.seed,
        "params": instance.params,
        "complexity": instance.complexity,
    }
