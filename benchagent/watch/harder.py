"""Generator parameters moved toward higher complexity, by measurement.

A `ParamSpec` gives a numeric parameter's range but not which end is harder, and the
generators define `Instance.complexity`. So for each numeric parameter, in spec order: the
mean complexity of a few probe instances with the parameter at each end of its range says
which end is harder; the parameter moves halfway from where it stands (its plan value, or
its range's middle) toward that end, and the move is kept if the measured mean complexity
rises and every probe still samples. Each refresh moves again, halfway further.

Probe seeds are fixed, so the same plan always gets the same harder parameters.
"""

from __future__ import annotations

from collections.abc import Mapping
from statistics import fmean
from typing import Any

import structlog

from agents.keys import derive_seed
from store.events import GeneratorShift
from tools.generators.base import Generator, ParamSpec

log = structlog.get_logger(__name__)

PROBES = 6  # instances per measurement
MIN_GAIN = 1e-3  # below this the "harder" parameters are noise


def mean_complexity(gen: Generator, params: Mapping[str, Any], probes: int = PROBES
                    ) -> float | None:
    """Mean complexity of `probes` instances with these parameters; None if any cannot be
    sampled (a parameter out of range, values that do not fit together)."""
    values = []
    for i in range(probes):
        try:
            values.append(float(gen.sample(derive_seed(0, "probe", gen.name, i), dict(params))
                                .complexity))
        except Exception:  # ParamError, or a combination the generator cannot build
            return None
    return fmean(values)


def _value(spec: ParamSpec, x: float) -> int | float:
    return round(x) if spec.kind == "int" else x


def harder_params(gen: Generator, given: Mapping[str, Any], probes: int = PROBES
                  ) -> tuple[dict[str, Any], float, float] | None:
    """(parameters, complexity before, complexity after) with numeric parameters moved
    toward higher complexity; None when the given parameters cannot be measured."""
    params = dict(given)
    before = mean_complexity(gen, params, probes)
    if before is None:
        return None
    current = before
    for spec in gen.params:
        if spec.kind not in ("int", "float") or spec.low is None or spec.high is None:
            continue
        at = {end: mean_complexity(gen, {**params, spec.name: _value(spec, end)}, probes)
              for end in (spec.low, spec.high)}
        ends = [(c, end) for end, c in at.items() if c is not None]
        if not ends:
            continue
        _, harder_end = max(ends)
        start = float(params.get(spec.name, (spec.low + spec.high) / 2))
        target = _value(spec, start + (harder_end - start) / 2)
        if target == _value(spec, start):
            target = _value(spec, harder_end)  # halfway rounds back to the start: take the end
        if target == params.get(spec.name):
            continue  # already there
        trial = {**params, spec.name: target}
        measured = mean_complexity(gen, trial, probes)
        if measured is not None and measured > current + MIN_GAIN:
            params, current = trial, measured
    return params, before, current


def shift_for(plan_id: str, gen: Generator, given: Mapping[str, Any]) -> GeneratorShift | None:
    """The plan's harder parameters as an event part, or None when nothing got harder."""
    moved = harder_params(gen, given)
    if moved is None:
        log.warning("refresh.params_unmeasurable", generator=gen.name, params=dict(given))
        return None
    params, before, after = moved
    if params == dict(given):
        return None
    return GeneratorShift(plan_id=plan_id, generator=gen.name, params_before=dict(given),
                          params_after=params, complexity_before=round(before, 6),
                          complexity_after=round(after, 6))
