"""The home folder: created and probed for writing, also by several processes at once."""

from __future__ import annotations

import argparse
import multiprocessing
from pathlib import Path
from typing import Any

import pytest

from benchagent.errors import UserError
from benchagent.home import home_dir


def _resolve_often(home: str, start: Any, failures: Any) -> None:
    """Resolve `home` 300 times, once every process is ready; count the failures."""
    start.wait()
    for _ in range(300):
        try:
            home_dir(argparse.Namespace(home=home))
        except UserError:
            with failures.get_lock():
                failures.value += 1


def test_processes_starting_on_one_home_at_once_all_get_it(tmp_path: Path) -> None:
    """Two builds on one home failed at start when one unlinked the other's write probe
    (a shared ".write-probe": 232 of 1200 resolutions failed across four processes)."""
    home = str(tmp_path / "home")
    spawn = multiprocessing.get_context("spawn")
    start, failures = spawn.Barrier(4), spawn.Value("i", 0)
    procs = [spawn.Process(target=_resolve_often, args=(home, start, failures))
             for _ in range(4)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=120)
    assert [proc.exitcode for proc in procs] == [0] * 4
    assert failures.value == 0
    assert not [p.name for p in Path(home).iterdir()]  # no probe left behind


def test_a_home_that_cannot_be_written_is_one_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(UserError, match="cannot be written"):
        home_dir(argparse.Namespace(home=str(blocker / "home")))
