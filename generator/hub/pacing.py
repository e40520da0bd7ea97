"""Keeping a run inside the Hub's API budget (500 calls per 300 s anonymous, hub-api.md §10).

The :class:`Pacer` bursts while the budget lasts (a fixed window rewards that) and, once the server's
``RateLimit`` header says ``r`` is used up (minus the calls still in flight), waits for the window to
reset instead of collecting 429s. The headers of successful responses reach it through a response
hook on huggingface_hub's shared client (:func:`observing`); without headers the pacer counts its own
calls against the documented budget. A server's reset time is believed up to ``max_wait`` (a hostile
``t=999999`` must not put the run to sleep for days), and no wait lasts past the run's ``until``.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

from generator.hub.client import HttpResponse, RateLimitInfo, add_response_hook, parse_ratelimit_headers

API_BUDGET = 500
"""API calls per window for anonymous callers (hub-api.md §10)."""
API_WINDOW = 300.0
"""The length of the Hub's rate-limit window, in seconds."""


@dataclass(frozen=True)
class Timer:
    """Monotonic clock and sleep; tests may pass a fake pair."""

    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep


class Pacer:
    """Keeps the calls of a run inside an API budget, from the server's RateLimit headers or our own count."""

    def __init__(
        self,
        origin: str,
        *,
        budget: int = API_BUDGET,
        window: float = API_WINDOW,
        timer: Timer | None = None,
        max_wait: float = 60.0,
        until: float | None = None,
    ) -> None:
        self.origin = origin
        self.budget, self.window = budget, window
        self.timer = timer or Timer()
        self.max_wait, self.until = max_wait, until
        self._lock = threading.Lock()
        self._sent: deque[float] = deque()
        self._inflight = 0
        self._remaining: int | None = None
        self._reset_at: float | None = None
        self._quota: int | None = None
        self.waited = 0.0

    def acquire(self) -> None:
        """Block until one more call fits the budget, then count it as sent."""
        while True:
            with self._lock:
                wait = self._wait(self.timer.monotonic())
                if wait <= 0:
                    self._take(self.timer.monotonic())
                    return
            self.waited += wait
            self.timer.sleep(wait)

    def release(self) -> None:
        """The call is answered (or failed)."""
        with self._lock:
            self._inflight -= 1

    def observe(self, info: RateLimitInfo) -> None:
        """Learn the server's view of the budget from a response of a call still in flight."""
        now = self.timer.monotonic()
        with self._lock:
            others = max(0, self._inflight - 1)
            estimate = info.remaining - others
            reset_at = now + min(info.reset_in_seconds, self.max_wait)
            if self._reset_at is None or now >= self._reset_at:
                self._remaining, self._reset_at = estimate, reset_at
            else:
                self._remaining = min(self._remaining if self._remaining is not None else estimate, estimate)
                self._reset_at = min(self._reset_at, reset_at)
            self._quota = info.limit or self._quota

    def _wait(self, now: float) -> float:
        if self._reset_at is not None and now >= self._reset_at:
            self._remaining, self._reset_at = self._quota, None
        while self._sent and self._sent[0] <= now - self.window:
            self._sent.popleft()
        waits = [0.0]
        if self._remaining is not None and self._remaining <= 0 and self._reset_at is not None:
            waits.append(self._reset_at - now)
        if len(self._sent) >= self.budget:
            waits.append(self._sent[0] + self.window - now)
        wait = max(waits)
        return wait if self.until is None else min(wait, self.until - now)

    def _take(self, now: float) -> None:
        self._sent.append(now)
        self._inflight += 1
        if self._remaining is not None:
            self._remaining -= 1


_PACERS: list[Pacer] = []
_PACERS_LOCK = threading.Lock()


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _rate_limit_hook(response: HttpResponse) -> None:
    """Response hook: hand the ``api`` RateLimit header to the pacers of that origin."""
    info = parse_ratelimit_headers(response.headers)
    if info is None or info.resource_type != "api":
        return
    origin = _origin(str(response.request.url))
    with _PACERS_LOCK:
        pacers = [pacer for pacer in _PACERS if pacer.origin == origin]
    for pacer in pacers:
        pacer.observe(info)


@contextmanager
def observing(pacer: Pacer) -> Iterator[Pacer]:
    """Feed the RateLimit headers of responses from the pacer's origin to it while the block runs."""
    add_response_hook(_rate_limit_hook)
    with _PACERS_LOCK:
        _PACERS.append(pacer)
    try:
        yield pacer
    finally:
        with _PACERS_LOCK:
            _PACERS.remove(pacer)
