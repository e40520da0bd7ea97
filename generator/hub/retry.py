"""Retries of Hub calls, with stamina: transient failures are tried again, then the link is *unverified*.

huggingface_hub 2.4.0 does not retry, so :class:`Retrier` does: 408/425/429/5xx answers, timeouts,
connection errors and truncated JSON are retried with exponential backoff and jitter. A server that
says how long to wait (``Retry-After``, or a used-up ``RateLimit: "api";r=0;t=…``) is honoured, up to
:attr:`RetryPolicy.max_server_wait`. After the last attempt the call raises :class:`Unverified` --
never a verdict of dead. So does an answer that broke a limit of :class:`~generator.hub.client.Limits`
(too slow, too large: asking again would not help), and any call once the run's deadline has passed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

import stamina
from stamina.instrumentation import set_on_retry_hooks

from generator.hub.client import (
    ClientTimeout,
    HfHubHTTPError,
    LimitExceeded,
    TransportError,
    parse_ratelimit_headers,
)
from generator.hub.pacing import Pacer

T = TypeVar("T")

TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
"""Answers worth asking again (every other 5xx too)."""

set_on_retry_hooks([])  # retries are reported in the link's result, not logged one by one


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry transient failures; ``timeout`` bounds each request."""

    attempts: int = 5
    base_delay: float = 1.0
    max_delay: float = 30.0
    timeout: float = 30.0
    max_server_wait: float = 60.0  # a longer Retry-After or RateLimit reset is not waited out
    run_deadline: float | None = None  # time.monotonic() instant after which nothing is tried

    def server_wait(self, retry_after: float) -> float:
        """The wait granted to a server's ``Retry-After`` (capped)."""
        return min(retry_after, self.max_server_wait)


class TransientError(Exception):
    """A failure worth retrying; ``retry_after`` is the server's wish in seconds, if it said one."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Unverified(Exception):
    """Every attempt failed transiently, a limit was hit, or the run's time is up; the message says why."""


class HttpFailure(Exception):
    """An HTTP error answer to a request made outside huggingface_hub's error mapping (a Range read)."""

    def __init__(self, status: int, headers: Mapping[str, str]) -> None:
        super().__init__(f"HTTP {status}")
        self.status, self.headers = status, headers


DEADLINE_REACHED = "not checked: the run's time limit was reached"


class Retrier:
    """Runs a Hub call until it succeeds, fails for good, or runs out of attempts (then :class:`Unverified`).

    Each attempt first takes a slot from the pacer, if there is one.
    """

    def __init__(self, policy: RetryPolicy, *, pacer: Pacer | None = None) -> None:
        self.policy, self.pacer = policy, pacer

    def call(self, fn: Callable[[], T]) -> T:
        """fn's result; non-transient exceptions propagate; transient ones are retried."""
        policy = self.policy
        left = None if policy.run_deadline is None else policy.run_deadline - time.monotonic()
        if left is not None and left <= 0:
            raise Unverified(DEADLINE_REACHED)
        attempts = stamina.retry_context(
            on=self._backoff,
            attempts=policy.attempts,
            timeout=left,  # no retry waits past the run's deadline
            wait_initial=policy.base_delay,
            wait_max=policy.max_delay,
            wait_jitter=policy.base_delay,
        )
        tried = 0
        try:
            for attempt in attempts:
                tried += 1
                with attempt:
                    return self._attempt(fn)
        except TransientError as err:
            raise Unverified(f"{err} (after {_times(tried)})") from err
        except LimitExceeded as err:
            raise Unverified(str(err)) from err
        raise AssertionError("unreachable: stamina either returns or raises")  # pragma: no cover

    def _backoff(self, exc: Exception) -> bool | float:
        """stamina's backoff hook: retry transient errors, after the server's wait when it named one."""
        if not isinstance(exc, TransientError):
            return False
        policy = self.policy
        wait = None if exc.retry_after is None else policy.server_wait(exc.retry_after)
        if policy.run_deadline is not None:
            longest = policy.max_delay + policy.base_delay if wait is None else wait
            if time.monotonic() + longest >= policy.run_deadline:
                return False  # the wait would outlast the run
        return True if wait is None else wait

    def _attempt(self, fn: Callable[[], T]) -> T:
        if self.pacer is not None:
            self.pacer.acquire()
        try:
            return fn()
        except Exception as exc:
            transient = classify_hub_error(exc)
            if transient is None:
                raise
            raise transient from exc
        finally:
            if self.pacer is not None:
                self.pacer.release()


def _times(count: int) -> str:
    return "1 attempt" if count == 1 else f"{count} attempts"


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds from ``Retry-After`` (numeric form) or from a used-up ``RateLimit`` header."""
    waits: list[float] = []
    raw = headers.get("Retry-After") or headers.get("retry-after")
    if raw and raw.strip().replace(".", "", 1).isdigit():
        waits.append(float(raw))
    info = parse_ratelimit_headers(headers)
    if info is not None and info.remaining == 0:
        waits.append(float(info.reset_in_seconds))
    return max(waits) if waits else None


def is_transient_status(status: int) -> bool:
    """True for an HTTP status worth asking again."""
    return status in TRANSIENT_STATUSES or status >= 500


def classify_hub_error(exc: Exception) -> TransientError | None:
    """The transient failures of a Hub call (hub-api.md §8, §9); None for a verdict or a bug."""
    if isinstance(exc, TransientError):
        return exc
    if isinstance(exc, HttpFailure):
        return TransientError(str(exc), retry_after(exc.headers)) if is_transient_status(exc.status) else None
    if isinstance(exc, HfHubHTTPError):
        status = exc.response.status_code
        return (
            TransientError(f"HTTP {status}", retry_after(exc.response.headers))
            if is_transient_status(status)
            else None
        )
    if isinstance(exc, ClientTimeout):
        return TransientError("timeout")
    if isinstance(exc, TransportError):
        return TransientError(f"connection error: {type(exc).__name__}")
    if isinstance(exc, json.JSONDecodeError):
        return TransientError("bad JSON in the answer")
    return None
