"""Check results that several generators' `verify` build the same way.

- `all_failed`: content that cannot even be read fails every check, for one reason;
- `failing`: the failure of one check, for checks with many early exits;
- `complexity_check`: the stored complexity lies in [0, 1] and equals the recomputed one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from tools.generators.base import CheckResult

STANDARD_CHECKS = ("consistency", "feasibility", "complexity")

# Stored and recomputed complexities are the same float computed twice.
_TOLERANCE = 1e-9


def all_failed(reason: str, checks: Sequence[str] = STANDARD_CHECKS) -> list[CheckResult]:
    """Every check failed, for the same reason."""
    return [CheckResult(check=check, passed=False, reason=reason) for check in checks]


def failing(check: str) -> Callable[[str], CheckResult]:
    """A function turning a reason into a failure of `check`."""

    def fail(reason: str) -> CheckResult:
        return CheckResult(check=check, passed=False, reason=reason)

    return fail


def complexity_check(
    stored: float, recomputed: float, meaning: str, *, digits: int = 6, agrees: bool = True,
) -> CheckResult:
    """Passes when `stored` is in [0, 1], equals `recomputed`, and `agrees` (any further
    condition the generator's complexity rests on); `meaning` says what complexity is."""
    ok = 0.0 <= stored <= 1.0 and abs(stored - recomputed) < _TOLERANCE and agrees
    return CheckResult(
        check="complexity", passed=ok,
        reason=f"stored {stored:.{digits}f}, recomputed {recomputed:.{digits}f} ({meaning})")
