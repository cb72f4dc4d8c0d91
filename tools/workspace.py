"""A run's workspace: the only files a tool may read or write.

Paths handed to tools come from datasets, plans and LLMs, so none is trusted.
A `Workspace` names files by *references*, never by host paths:

    "media/x.png"            a file under the workspace root (read/write)
    "src:images/x.jpg"       a file under the read-only source mounted as "src"
    "src:"  or  "."          the root of a source / of the workspace (directories)
    "./odd:name.txt"         a leading "./" turns off source parsing, for a
                             workspace file whose first component contains ":"

Rules (each violation raises a `WorkspaceError` subclass with one clear line):
- absolute ("/"-leading) paths and any ".." component are refused lexically
  (`PathEscape`), before the disk is touched; "~" is not expanded;
- symlinks are followed only while they stay inside the root they belong to:
  the fully resolved path must be inside the (resolved) workspace root or
  mounted source root, including through intermediate symlinked directories
  (`PathEscape`);
- sources are read-only (`ReadOnlySource`); an unmounted source name is
  `UnknownSource`.

Race safety: `read_bytes`/`open_read` check the file actually opened (via
`/proc/self/fd`) and `write_bytes` walks the parent directories with directory
file descriptors, checking each one after opening it, then writes a temp file
and renames it in place (atomic for readers; a symlink at the destination is
replaced, never followed). `resolve` returns a checked host `Path` for
libraries that insist on a path; it is a check at call time only.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import BinaryIO

_SOURCE_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
_SOURCE_REF = re.compile(r"^([a-z][a-z0-9_-]{0,63}):(.*)$", re.DOTALL)
_PROC_FD = Path("/proc/self/fd")


class WorkspaceError(ValueError):
    """A reference cannot be used in this workspace."""


class PathEscape(WorkspaceError):
    """The reference would reach outside the workspace or its mounted source."""


class ReadOnlySource(WorkspaceError):
    """A write was aimed at a mounted (read-only) source."""


class UnknownSource(WorkspaceError):
    """The reference names a source that is not mounted."""


def split_ref(ref: str) -> tuple[str | None, tuple[str, ...]]:
    """Lexically check `ref`; return (source name or None, normalized path parts).

    Needs no workspace, so a planned call can be checked before any run exists.
    """
    if not isinstance(ref, str):
        raise PathEscape(f"path must be a string, got {type(ref).__name__}")
    if ref == "":
        raise PathEscape("path is empty")
    if "\x00" in ref:
        raise PathEscape(f"path {ref!r} contains a NUL byte")
    source: str | None = None
    rest = ref
    if not ref.startswith("./"):
        match = _SOURCE_REF.match(ref)
        if match:
            source, rest = match.group(1), match.group(2)
    if rest.startswith("/"):
        raise PathEscape(f"path {ref!r} is absolute; use a path relative to the workspace")
    parts = tuple(p for p in rest.split("/") if p not in ("", "."))
    if ".." in parts:
        raise PathEscape(f"path {ref!r} contains '..'; parent references are not allowed")
    return source, parts


def check_ref(ref: str, *, writable: bool = False) -> None:
    """Raise a `WorkspaceError` if `ref` is lexically unusable (or a source, when writing)."""
    source, parts = split_ref(ref)
    if writable and source is not None:
        raise ReadOnlySource(f"path {ref!r} is in source {source!r}, which is read-only")
    if writable and not parts:
        raise PathEscape(f"path {ref!r} names a directory root, not a file")


def format_ref(source: str | None, parts: tuple[str, ...]) -> str:
    """The canonical reference for (source, parts)."""
    rel = "/".join(parts)
    if source is not None:
        return f"{source}:{rel}"
    if not rel:
        return "."
    return f"./{rel}" if _SOURCE_REF.match(rel) else rel


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def _fd_path(fd: int) -> str | None:
    """The real path of an open descriptor, or None when /proc is unavailable."""
    try:
        return os.readlink(_PROC_FD / str(fd))
    except OSError:
        return None


class Workspace:
    """A directory tree tools may use, plus read-only sources mounted by name."""

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        sources: Mapping[str, str | os.PathLike[str]] | None = None,
        create: bool = True,
        fsync: bool = False,
    ) -> None:
        root_path = Path(root)
        if create:
            root_path.mkdir(parents=True, exist_ok=True)
        if not root_path.is_dir():
            raise WorkspaceError(f"workspace root {str(root_path)!r} is not a directory")
        self.root = Path(os.path.realpath(root_path))
        self._fsync = fsync
        self._sources: dict[str, Path] = {}
        for name, path in sorted((sources or {}).items()):
            self.mount(name, path)

    # ------------------------------------------------------------------ sources

    def mount(self, name: str, path: str | os.PathLike[str]) -> None:
        """Expose directory `path` read-only as `name:`; nothing outside it becomes reachable."""
        if not _SOURCE_NAME.match(name):
            raise WorkspaceError(
                f"source name {name!r} must match {_SOURCE_NAME.pattern} (lowercase, digits, _ -)"
            )
        real = Path(os.path.realpath(path))
        if not real.is_dir():
            raise WorkspaceError(f"source {name!r}: {str(path)!r} is not a directory")
        existing = self._sources.get(name)
        if existing is not None and existing != real:
            raise WorkspaceError(f"source {name!r} is already mounted at {str(existing)!r}")
        self._sources[name] = real

    @property
    def sources(self) -> dict[str, Path]:
        return dict(self._sources)

    def _base(self, source: str | None, ref: str) -> Path:
        if source is None:
            return self.root
        try:
            return self._sources[source]
        except KeyError:
            mounted = ", ".join(sorted(self._sources)) or "none"
            raise UnknownSource(
                f"path {ref!r} names source {source!r}, which is not mounted (mounted: {mounted})"
            ) from None

    # ---------------------------------------------------------------- resolving

    def resolve(self, ref: str, *, writable: bool = False) -> Path:
        """The checked host path of `ref` (it need not exist yet)."""
        check_ref(ref, writable=writable)
        source, parts = split_ref(ref)
        base = self._base(source, ref)
        real = os.path.realpath(base.joinpath(*parts))
        if not _inside(real, str(base)):
            where = f"source {source!r}" if source else "the workspace"
            raise PathEscape(f"path {ref!r} resolves outside {where} (via a symlink)")
        return Path(real)

    def relative(self, path: str | os.PathLike[str]) -> str:
        """The reference of a host path inside the workspace or a source (reverse of resolve)."""
        real = os.path.realpath(path)
        if _inside(real, str(self.root)):
            return format_ref(None, Path(real).relative_to(self.root).parts)
        for name, base in sorted(self._sources.items()):
            if _inside(real, str(base)):
                return format_ref(name, Path(real).relative_to(base).parts)
        raise PathEscape(f"{str(path)!r} is outside the workspace and its sources")

    def exists(self, ref: str) -> bool:
        return self.resolve(ref).exists()

    def is_file(self, ref: str) -> bool:
        return self.resolve(ref).is_file()

    def is_dir(self, ref: str) -> bool:
        return self.resolve(ref).is_dir()

    # ------------------------------------------------------------------ reading

    def open_read(self, ref: str) -> BinaryIO:
        """Open a file for reading; the file actually opened is checked to be inside."""
        path = self.resolve(ref)
        if path.is_dir():
            raise WorkspaceError(f"path {ref!r} is a directory, not a file")
        source, _ = split_ref(ref)
        base = str(self._base(source, ref))
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        opened = _fd_path(fd)
        if opened is not None and not _inside(opened, base):
            os.close(fd)
            raise PathEscape(f"path {ref!r} changed to point outside while opening it")
        return os.fdopen(fd, "rb")

    def read_bytes(self, ref: str) -> bytes:
        with self.open_read(ref) as f:
            return f.read()

    def read_text(self, ref: str, encoding: str = "utf-8") -> str:
        return self.read_bytes(ref).decode(encoding)

    def list_files(self, ref: str = ".", suffixes: tuple[str, ...] = ()) -> list[str]:
        """References of the files under directory `ref`, sorted; symlinked dirs not descended.

        Symlinked files whose target leaves the root are skipped silently (they are
        not readable anyway); `suffixes` filters by lowercase file suffix.
        """
        return [file_ref for file_ref, _ in self.scan_files(ref, suffixes)]

    def scan_files(
        self, ref: str = ".", suffixes: tuple[str, ...] = ()
    ) -> list[tuple[str, os.stat_result]]:
        """`list_files` with each file's stat (of the target, for symlinks)."""
        directory = self.resolve(ref)
        if not directory.is_dir():
            raise WorkspaceError(f"path {ref!r} is not a directory")
        source, _ = split_ref(ref)
        base = str(self._base(source, ref))
        found: list[tuple[str, os.stat_result]] = []
        pending = [str(directory)]
        while pending:
            with os.scandir(pending.pop()) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        pending.append(entry.path)
                        continue
                    if suffixes and os.path.splitext(entry.name)[1].lower() not in suffixes:
                        continue
                    # Only a symlink can lead out of a directory that is itself inside.
                    if entry.is_symlink() and not _inside(os.path.realpath(entry.path), base):
                        continue
                    if not entry.is_file():
                        continue
                    rel = os.path.relpath(entry.path, base)
                    found.append((format_ref(source, tuple(rel.split(os.sep))), entry.stat()))
        found.sort(key=lambda item: item[0])
        return found

    # ------------------------------------------------------------------ writing

    def _open_parent(self, ref: str, parts: tuple[str, ...]) -> int:
        """A descriptor of the (created if needed) parent directory, checked at each step."""
        root = str(self.root)
        fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY)
        try:
            for name in parts[:-1]:
                try:
                    os.mkdir(name, dir_fd=fd)
                except FileExistsError:
                    pass
                child = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
                os.close(fd)
                fd = child
                opened = _fd_path(fd)
                if opened is not None and not _inside(opened, root):
                    raise PathEscape(f"path {ref!r} goes through a directory outside the workspace")
            return fd
        except BaseException:
            os.close(fd)
            raise

    def write_bytes(self, ref: str, data: bytes) -> str:
        """Atomically write `data` at `ref` (temp file + rename); return the canonical ref."""
        if self.resolve(ref, writable=True).is_dir():  # clear errors before touching the disk
            raise WorkspaceError(f"path {ref!r} is a directory, not a file")
        _, parts = split_ref(ref)
        dir_fd = self._open_parent(ref, parts)
        name = parts[-1]
        tmp = f".{name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
        try:
            fd = os.open(
                tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644, dir_fd=dir_fd
            )
            try:
                with os.fdopen(fd, "wb", closefd=False) as f:
                    f.write(data)
                if self._fsync:
                    os.fsync(fd)
            finally:
                os.close(fd)
            try:
                os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
            except BaseException:
                os.unlink(tmp, dir_fd=dir_fd)
                raise
        finally:
            os.close(dir_fd)
        return format_ref(None, parts)

    def write_text(self, ref: str, text: str, encoding: str = "utf-8") -> str:
        return self.write_bytes(ref, text.encode(encoding))

    def sha256(self, ref: str) -> str:
        digest = hashlib.sha256()
        with self.open_read(ref) as f:
            for block in iter(lambda: f.read(io.DEFAULT_BUFFER_SIZE * 16), b""):
                digest.update(block)
        return digest.hexdigest()
