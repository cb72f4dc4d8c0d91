"""`benchagent approve RUN_ID [--edit FILE.yaml]`: go on with a `--plan-only` run.

    benchagent approve RUN_ID [--edit FILE.yaml] [--json] [--llm-concurrency N]
        [--home DIR] [--store URL] [--remote-agents]

The edits (`agents.plan_edits`: drop or rename a subtask, change a quota, a generator's
parameter range, a check, or its code) are checked against the run's proposed plan before
anything is written: an edit that names nothing in the plan, a range whose low is above its
high, code that is not Python, or quotas that break the size is one clear line and leaves
the log untouched. Then the edits (`PlanEdited`, attributed to the user) and the approval
(`SpecApproved`) are appended together, and the run goes on like `build --resume`:
Grounding re-checks the generators the edits touched, Allocation finalizes the spec, and
the benchmark is built and written as `build` would.
"""

from __future__ import annotations

import argparse
import getpass
from pathlib import Path

import yaml

from agents.plan_edits import EditError, check_edits, edits_from_doc
from agents.sources import PoolCache
from benchagent.commands.build import _check_run_id, _report, drive
from benchagent.config import BuildConfig, load_config
from benchagent.errors import UserError
from benchagent.home import add_store_options
from replay.projections import RunState
from store.events import Envelope, Payload, PlanEdit, PlanEdited, SpecApproved, new_event
from store.log import EventLog


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("approve", help="approve (and edit) the plan of a --plan-only run, "
                                       "then build it")
    p.add_argument("run_id")
    p.add_argument("--edit", type=Path, metavar="FILE.yaml",
                   help="edits: drop, rename, quotas, generators (params, checks, parts)")
    p.add_argument("--config", type=Path, metavar="YAML",
                   help="the settings file of `build` (LLM retries, concurrency)")
    p.add_argument("--llm-concurrency", type=int, metavar="N")
    p.add_argument("--remote-agents", action="store_true",
                   help="with --store nats://: leave the work to `benchagent agent` workers")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    add_store_options(p)
    p.set_defaults(func=run)


def read_edits(path: Path | None) -> list[PlanEdit]:
    """The edit file's edits; `UserError` (one line) when it cannot be read or is malformed."""
    if path is None:
        return []
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UserError(f"--edit {path}: cannot be read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0] if str(exc) else "invalid YAML"
        raise UserError(f"--edit {path}: not valid YAML ({first})") from None
    try:
        return edits_from_doc(doc)
    except EditError as exc:
        raise UserError(f"--edit {path}: {exc}") from None


def user_name() -> str:
    """Who approved: the login name (never a secret), else "user"."""
    try:
        return getpass.getuser() or "user"
    except (KeyError, OSError):
        return "user"


def run(args: argparse.Namespace) -> int:
    run_id = _check_run_id(args.run_id)
    edits = read_edits(args.edit)
    config = load_config(args.config) if args.config else BuildConfig()
    who = user_name()

    async def approve(event_log: EventLog, state: RunState) -> None:
        if state.status.finished:
            status = "failed" if state.status.failed is not None else "completed"
            raise UserError(f"run {run_id} has already {status}: there is no plan to approve")
        if not state.approval.waiting:
            raise UserError(
                f"run {run_id} is not waiting for approval"
                + (" (it was approved already)" if state.approval.approved is not None
                   else " (build it with --plan-only to approve its plan)"))
        try:
            check_edits(edits, state)
        except EditError as exc:
            raise UserError(f"--edit {args.edit}: {exc}") from None
        proposed = state.approval.proposed
        assert proposed is not None
        events: list[Envelope[Payload]] = [
            new_event(run_id, "user", PlanEdited(edit=e, by=who), proposed.event_id,
                      key=f"edit:{n}") for n, e in enumerate(edits)]
        events.append(new_event(run_id, "user", SpecApproved(edits=len(edits), by=who),
                                proposed.event_id, key="approve"))
        # All together or none: a crash leaves the plan waiting, never half-edited.
        await event_log.append(events, expected_seq=state.last_seq)

    return _report(args, drive(args, run_id, None, config, PoolCache(), prepare=approve))
