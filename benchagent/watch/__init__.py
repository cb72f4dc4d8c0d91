"""`benchagent watch`: the daemon that reacts to model releases, keeps every watched
benchmark's leaderboard current, and refreshes a benchmark once it saturates.

    sources.py (tools/model_sources.py)  what models exist
    daemon.py      the poll cycle: record releases, start evaluations, detect saturation,
                   start refreshes, within the day's budget
    saturation.py  when a benchmark (or a subtask) no longer separates models
    refresh.py     the next version of a saturated benchmark: its first events
    harder.py      generator parameters moved toward higher complexity, by measurement
    budget.py      what the day has spent, from the log

Its only state is the log: its own stream (`WATCH_STREAM`) and the runs it watches.
"""

WATCH_STREAM = "watcher"  # run id of the watcher's own stream of events
WATCHER = "watcher"  # the `agent` of the events the watcher records
