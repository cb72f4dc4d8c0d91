"""Errors that reach the user as one clear line (see `benchagent.cli.main`)."""


class UserError(Exception):
    """Bad input or an unusable environment; the message says what and how to fix it."""


class RunInterrupted(Exception):
    """A run stopped by Ctrl-C or SIGTERM; it can be resumed."""

    def __init__(self, run_id: str) -> None:
        super().__init__(run_id)
        self.run_id = run_id
