"""The `benchagent` command line: one subcommand per module in `benchagent.commands`.

Each command module exposes `add_parser(subparsers)` (which sets `func`) and
its `func(args) -> int`. This module owns the one place where user-facing
errors become one clear line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from benchagent.errors import RunInterrupted, UserError
from benchagent.logs import configure_logging
from benchagent.signals import interrupting_signal, terminate_like_interrupt
from store.log import LogError

# Order is the order of `benchagent --help`.
COMMANDS = ("build", "approve", "eval", "judge", "review", "report", "compare", "ablate", "agent",
            "watch", "pool", "replay", "export", "audit", "log", "verify", "runs", "leaderboard")


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="benchagent", description="Turn an evaluation need into a verified benchmark."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"benchagent.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"benchagent.commands.{name}":
                raise
            continue  # command not built yet
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    configure_logging()
    parser = make_parser()
    args = parser.parse_args(argv)
    terminate_like_interrupt()
    try:
        return int(args.func(args) or 0)
    except (UserError, LogError) as exc:
        print(f"benchagent: error: {exc}", file=sys.stderr)
        return 2
    except RunInterrupted as exc:
        sig = interrupting_signal()
        print(f"benchagent: run {exc.run_id} stopped by {sig.name}; resume it with "
              f"`benchagent build --resume {exc.run_id}`", file=sys.stderr)
        return 128 + sig.value
    except KeyboardInterrupt:
        sig = interrupting_signal()
        print(f"benchagent: interrupted by {sig.name}", file=sys.stderr)
        return 128 + sig.value


if __name__ == "__main__":
    sys.exit(main())
