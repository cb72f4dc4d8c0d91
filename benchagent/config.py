"""`--config FILE`: a YAML file with the same settings as `benchagent build`'s flags.

    llm: openai:gpt-4o-mini@https://api.openai.com/v1
    llm_key_env: OPENAI_API_KEY
    role_models: {verifier: openai:gpt-4o, design: local:qwen2.5-coder-1.5b, judge: openai:gpt-4o}
    eval_models: [scripted:schema]
    size: 40
    seed: 7
    pools: [../shared/datasets/general-bench-subset/data]
    disable: [verifier]
    llm_concurrency: 8
    llm_attempts: 5
    llm_backoff_s: 0.5
    stall_after_s: 5
    agents: {search_k: 3, score_threshold: 0.6, max_attempts: 4, generators: true}

Flags given on the command line win over the file. Relative pool paths are
relative to the file. Unknown keys are an error naming the key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import msgspec
import yaml

from agents.models import JUDGE_ROLE
from agents.registry import ALL_ROLES
from agents.settings import RunSettings
from benchagent.errors import UserError


class BuildConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    requirement: str | None = None
    size: int | None = None
    seed: int | None = None
    pools: list[str] | None = None
    llm: str | None = None
    llm_key_env: str | None = None
    role_models: dict[str, str] = {}
    eval_models: list[str] | None = None
    disable: list[str] | str | None = None
    llm_concurrency: int | None = None
    llm_attempts: int | None = None  # attempts per LLM request (retries + 1)
    llm_backoff_s: float | None = None  # first retry delay, doubled each time
    llm_timeout_s: float | None = None  # per attempt
    # Idle seconds (no role with work, the log still) before an unfinished run is stalled.
    stall_after_s: Annotated[float, msgspec.Meta(gt=0)] | None = None
    agents: dict[str, Any] = {}


def load_config(path: Path) -> BuildConfig:
    """Read and check a config file; `UserError` with one line naming the problem."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UserError(f"config {path}: cannot be read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0] if str(exc) else "invalid YAML"
        raise UserError(f"config {path}: not valid YAML ({first})") from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise UserError(f"config {path}: expected a mapping of settings at the top level")
    try:
        config = msgspec.convert(raw, BuildConfig)
    except msgspec.ValidationError as exc:
        raise UserError(f"config {path}: {exc}") from None
    model_roles = (*ALL_ROLES, JUDGE_ROLE)  # the judge is a model role, not an agent
    for role in config.role_models:
        if role not in model_roles:
            raise UserError(f"config {path}: role_models: unknown role {role!r} "
                            f"(roles: {', '.join(model_roles)})")
    try:
        msgspec.convert(config.agents, RunSettings)
    except msgspec.ValidationError as exc:
        raise UserError(f"config {path}: agents: {exc}") from None
    if config.pools:
        config.pools = [str((path.parent / p).resolve()) if not Path(p).is_absolute() else p
                        for p in config.pools]
    return config
