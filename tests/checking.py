"""The check as the tests run it: the real client and thread pool against the emulator, with retries scaled down
from minutes to milliseconds (the defaults are measured by bench/bench_check.py and bench/bench_hostile.py)."""

from __future__ import annotations

from pathlib import Path

from generator.hub.check import CheckOptions, Outcome, check_catalog
from generator.hub.retry import RetryPolicy

T1, T2, T3 = "2026-11-26T10:00:00Z", "2026-11-27T10:00:00Z", "2026-11-28T10:00:00Z"
"""Three check times, a day apart."""

FAST = CheckOptions(
    workers=2,
    policy=RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.05, timeout=5.0),
    progress=False,
)
"""Two workers, two attempts, waits of at most 50 ms, requests cut after 5 s."""


def run_check(
    root: Path,
    now: str = T1,
    *,
    options: CheckOptions = FAST,
    hub_only: bool = False,
    dry_run: bool = False,
    changed_since: str | None = None,
) -> Outcome:
    """`generator check` on the project under root at a fixed time, in this process."""
    return check_catalog(
        root,
        hub_only=hub_only,
        dry_run=dry_run,
        changed_since=changed_since,
        options=options,
        now=lambda: now,
    )
