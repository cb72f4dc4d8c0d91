"""Errors that reach the user as one clear line (see `benchagent.cli.main`)."""


class UserError(Exception):
    """Bad input or an unusable environment; the message says what and how to fix it."""
