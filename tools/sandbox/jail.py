"""The bubblewrap (`bwrap`) command line that isolates one sandboxed interpreter.

Inside, the process sees an empty root with, read-only: the Python interpreter and its
standard library (its site-packages masked), the system's shared libraries, the time-zone
database, the allowed packages (pillow, pymunk and the native pieces they load) under
/sandbox/site, and the worker program. Its only writable place is /work, a private tmpfs
of bounded size that vanishes with it. No network (a new, empty network namespace), no
other processes visible (new PID namespace), no IPC, no environment but what is set here,
and it dies with its parent.

The code runs as an unprivileged uid, so that kernel limits such as RLIMIT_NPROC bind
(they do not bind root, even root mapped into a user namespace):
- when the host runs as root (this project's VMs and CI), bwrap runs privileged without a
  user namespace — so it can bind an interpreter that lives under a 0700 home — keeps only
  CAP_SETUID/SETGID/SETPCAP for its child, and the child is `setpriv`, which switches to
  uid/gid 65534, clears supplementary groups, the capability bounding set and inheritable
  capabilities, sets no_new_privs, then executes Python;
- otherwise bwrap unshares a user namespace as well (`--unshare-all`) and the code keeps the
  host's own, unprivileged, uid; nested user namespaces are disabled.
"""

from __future__ import annotations

import os
import shutil
import sys
import sysconfig
from collections.abc import Sequence
from importlib.util import find_spec
from pathlib import Path

SANDBOX_UID = 65534  # nobody
WORKDIR = "/work"
SITE_DIR = "/sandbox/site"
WORKER_PATH = "/sandbox/worker.py"
ZONEINFO = "/usr/share/zoneinfo"
WORKER_SOURCE = Path(__file__).with_name("worker.py")

# What each allowed package needs from its site-packages directory besides itself: the
# native libraries bundled by its wheel, and the cffi runtime pymunk's extension imports.
PACKAGE_FILES: dict[str, tuple[str, ...]] = {
    "PIL": ("PIL", "pillow.libs"),
    "pymunk": ("pymunk", "_cffi_backend"),
}


class SandboxUnavailable(RuntimeError):
    """The sandbox cannot run on this machine; the message says why and what to install."""


def bwrap_path() -> str:
    found = shutil.which("bwrap")
    if found is None:
        raise SandboxUnavailable(
            "bubblewrap (bwrap) is not installed; `make system-packages` installs it")
    return found


def _setpriv_path() -> str:
    found = shutil.which("setpriv")
    if found is None:
        raise SandboxUnavailable("setpriv (util-linux) is not installed; it drops the "
                                 "sandbox to an unprivileged uid when the host runs as root")
    return found


def _interpreter() -> tuple[str, list[str], list[str]]:
    """(executable, read-only paths it needs, paths inside them to mask)."""
    exe = os.path.realpath(getattr(sys, "_base_executable", None) or sys.executable)
    paths = [exe]
    masks = []
    for key in ("stdlib", "platstdlib"):
        stdlib = os.path.realpath(sysconfig.get_paths()[key])
        if stdlib not in paths:
            paths.append(stdlib)
            if os.path.isdir(os.path.join(stdlib, "site-packages")):
                masks.append(os.path.join(stdlib, "site-packages"))
    if sysconfig.get_config_var("Py_ENABLE_SHARED"):
        libdir = str(sysconfig.get_config_var("LIBDIR") or "")
        soname = str(sysconfig.get_config_var("INSTSONAME") or "")
        lib = os.path.realpath(os.path.join(libdir, soname))
        if soname and os.path.isfile(lib):
            paths.append(lib)
    return exe, paths, masks


def _system_libraries() -> tuple[list[str], list[tuple[str, str]]]:
    """(directories of shared libraries to bind, (target, link) symlinks to mirror)."""
    multiarch = str(sysconfig.get_config_var("MULTIARCH") or "")
    links = [(os.readlink(top), top) for top in ("/lib", "/lib64") if os.path.islink(top)]
    dirs = []
    for candidate in ("/usr/lib64", "/lib64", "/usr/lib/" + multiarch, "/lib/" + multiarch):
        if (candidate.endswith("/") or not os.path.isdir(candidate)
                or os.path.realpath(candidate) != candidate):
            continue
        dirs.append(candidate)
    return dirs, links


def _package_entries(packages: Sequence[str]) -> list[tuple[str, str]]:
    """(host path, name under SITE_DIR) of every allowed package and its companions."""
    entries = []
    for package in packages:
        spec = find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            raise SandboxUnavailable(f"allowed package {package!r} is not installed")
        site = Path(list(spec.submodule_search_locations)[0]).parent
        for name in PACKAGE_FILES.get(package, (package,)):
            if (site / name).is_dir():
                entries.append((str(site / name), name))
                continue
            matches = sorted(p for p in site.glob(name + ".*") if p.is_file())
            entries.extend((str(p), p.name) for p in matches[:1])
    return entries


def _parents(paths: Sequence[str]) -> list[str]:
    """Every ancestor directory of the paths, shallowest first."""
    found: set[str] = set()
    for path in paths:
        parent = os.path.dirname(path)
        while parent not in ("/", ""):
            found.add(parent)
            parent = os.path.dirname(parent)
    return sorted(found, key=lambda p: (p.count("/"), p))


def command(*, packages: Sequence[str], disk_bytes: int, hash_seed: int) -> list[str]:
    """The full command line: bwrap, its mounts, then the worker under the interpreter."""
    bwrap = bwrap_path()
    privileged = os.geteuid() == 0
    exe, interpreter_paths, masks = _interpreter()
    lib_dirs, links = _system_libraries()
    binds = [(p, p) for p in interpreter_paths + lib_dirs]
    if os.path.isdir(ZONEINFO):
        binds.append((ZONEINFO, ZONEINFO))
    binds += [(src, f"{SITE_DIR}/{name}") for src, name in _package_entries(packages)]
    binds.append((str(WORKER_SOURCE), WORKER_PATH))
    setpriv = _setpriv_path() if privileged else None
    if setpriv:
        binds.append((setpriv, setpriv))

    args = [bwrap]
    if privileged:
        args += ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
                 "--unshare-cgroup-try"]
        args += [arg for cap in ("CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP")
                 for arg in ("--cap-add", cap)]
    else:
        args += ["--unshare-all", "--disable-userns"]
    args += ["--die-with-parent", "--new-session"]
    # bwrap would create missing parents 0700 (unreadable once the uid drops): make them.
    link_names = {link for _, link in links}
    for parent in _parents([dest for _, dest in binds] + masks):
        if parent not in link_names:
            args += ["--perms", "0755", "--dir", parent]
    for target, link in links:
        args += ["--symlink", target, link]
    for src, dest in binds:
        args += ["--ro-bind", src, dest]
    for mask in masks:
        args += ["--tmpfs", mask, "--remount-ro", mask]
    args += ["--dev", "/dev", "--perms", "1777", "--size", str(disk_bytes), "--tmpfs", WORKDIR,
             "--chdir", WORKDIR, "--clearenv",
             "--setenv", "HOME", WORKDIR, "--setenv", "TMPDIR", WORKDIR,
             "--setenv", "LANG", "C.UTF-8", "--setenv", "PYTHONUTF8", "1",
             "--setenv", "PYTHONHASHSEED", str(hash_seed)]
    if setpriv:
        args += [setpriv, f"--reuid={SANDBOX_UID}", f"--regid={SANDBOX_UID}", "--clear-groups",
                 "--no-new-privs", "--bounding-set=-all", "--inh-caps=-all", "--"]
    # -s -S: no site or user directories; -B: no bytecode written; -P: no script directory.
    args += [exe, "-s", "-S", "-B", "-P", WORKER_PATH, SITE_DIR]
    return args
