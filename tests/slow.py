"""Which fixtures make a test slow: `make test-fast` leaves out every test that uses one (conftest.py marks them)."""

from __future__ import annotations

from collections.abc import Iterable

SLOW_FIXTURES = {
    "hub": "talks to the Hub emulator, a local server (most such tests run the whole check or add)",
    "hub_session": "talks to the Hub emulator, a local server",
    "web": "starts a local web server",
}
"""Fixture name → why a test using it is slow."""


def slow_reason(fixtures: Iterable[str]) -> str | None:
    """Why a test using these fixtures is slow (the first of SLOW_FIXTURES it uses), or None."""
    used = set(fixtures)
    return next((reason for name, reason in SLOW_FIXTURES.items() if name in used), None)
