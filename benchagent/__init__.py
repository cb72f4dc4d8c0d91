"""benchagent package."""
