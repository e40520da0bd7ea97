"""Plain https links (anything not on the Hub), probed with a requests session.

HEAD first; a server that refuses HEAD (403, 405, 501) gets a streamed GET whose body is never read.
Transient answers (408, 425, 429, 5xx) and connection failures are retried by urllib3's ``Retry`` with
exponential backoff, honouring the server's wait up to the policy's cap; what still fails is
*unverified*, never dead. Only 404 and 410 mean the page is gone.

urllib3's timeouts bound each read, not a whole answer: a server sending its headers a byte at a time
would never trip them. So each probe, retries included, runs in a daemon thread that the check stops
waiting for after :attr:`Limits.total <generator.hub.client.Limits>` seconds (or at the run's deadline).
"""

from __future__ import annotations

import math
import queue
import threading
import time
from collections.abc import Callable
from typing import Self
from urllib.parse import urljoin

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import InvalidHeader, ReadTimeoutError
from urllib3.response import BaseHTTPResponse
from urllib3.util.retry import Retry

from generator.hub.client import Limits
from generator.hub.findings import Finding, unverified
from generator.hub.retry import DEADLINE_REACHED, TRANSIENT_STATUSES, RetryPolicy, retry_after
from generator.settings import Settings
from generator.text import one_line

USER_AGENT = "lora-alchemy-link-check/0.1"
"""Our probe's name; in a workflow run the repository's address is added (never a guessed one)."""
HEAD_REFUSED = frozenset({403, 405, 501})
MAX_REDIRECTS = 10
_RETRIED = TRANSIENT_STATUSES | frozenset(range(500, 600))


class _ProbeRetry(Retry):
    """urllib3's Retry, fitted to link probes.

    Only the transient statuses are retried (never a HEAD the server refuses: that goes straight to
    the GET fallback, nor a 413 because it named a wait). A server's wait is read as the rest of the
    check reads it (numeric ``Retry-After``, even fractional, or a used-up ``RateLimit``), else as an
    HTTP date; an unreadable header means the normal backoff. Every wait is capped.
    """

    policy: RetryPolicy = RetryPolicy()

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:  # noqa: ARG002
        """Retry transient answers of idempotent probes, while attempts last.

        urllib3's signature: whether the server named a wait does not matter here, the check's own rules read it.
        """
        if not self._is_method_retryable(method):
            return False
        if method.upper() == "HEAD" and status_code in HEAD_REFUSED:
            return False
        return status_code in _RETRIED

    def get_retry_after(self, response: BaseHTTPResponse) -> float | None:
        """The server's wait in seconds, capped; None when it named none we can read."""
        wait = retry_after(response.headers)
        if wait is None:
            try:
                wait = super().get_retry_after(response)
            except InvalidHeader:
                return None
        return None if wait is None else self.policy.server_wait(wait)

    def new(self, **kw: object) -> Self:
        """Keep the policy on the copies urllib3 makes after each attempt."""
        copy = super().new(**kw)
        copy.policy = self.policy
        return copy


def url_session(policy: RetryPolicy) -> requests.Session:
    """A requests session that retries transient failures of HEAD and GET as the policy says."""
    retry = _ProbeRetry(
        total=policy.attempts - 1,
        redirect=False,
        status_forcelist=sorted(_RETRIED),
        allowed_methods=frozenset({"HEAD", "GET"}),
        backoff_factor=policy.base_delay,
        backoff_max=policy.max_delay,
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    retry.policy = policy
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    repository = Settings().repository_url
    session.headers["Accept-Encoding"] = "identity"  # bodies are never read; ask for none compressed
    session.headers["User-Agent"] = f"{USER_AGENT} (+{repository})" if repository else USER_AGENT
    return session


class UrlChecker:
    """Probes plain https links: HEAD, else a streamed GET; retries are the session's."""

    def __init__(
        self, policy: RetryPolicy, limits: Limits | None = None, session: requests.Session | None = None
    ) -> None:
        self.policy, self.limits = policy, limits or Limits()
        self.session = session or url_session(policy)

    def check(self, url: str) -> Finding:
        """The finding for one URL, within the time limit (any scheme the session speaks)."""
        ends = min(time.monotonic() + self.limits.total, self.limits.run_deadline or math.inf)
        left = ends - time.monotonic()
        if left <= 0:
            return unverified(DEADLINE_REACHED)
        found = _within(left, lambda: self._check(url))
        if found is not None:
            return found
        late = ends < time.monotonic() + 1 and ends == self.limits.run_deadline
        return unverified("the run's time limit was reached" if late else f"no answer within {left:.3g} s")

    def _check(self, url: str) -> Finding:
        after = f"after {self.policy.attempts} attempts"
        try:
            return self._probe(url, after)
        except requests.Timeout:
            return unverified(f"timeout ({after})")
        except requests.ConnectionError as err:
            if _timed_out(err):  # requests reports a read timeout after the last retry as a ConnectionError
                return unverified(f"timeout ({after})")
            return unverified(f"connection error: {type(err).__name__} ({after})")
        except requests.RequestException as err:  # redirect loops, invalid URLs, broken bodies
            return unverified(one_line(f"{type(err).__name__}: {err}"))

    def _probe(self, url: str, after: str) -> Finding:
        status = self._status("HEAD", url)
        if status in HEAD_REFUSED:
            status = self._status("GET", url)
        return _url_finding(status, after)

    def _status(self, method: str, url: str) -> int:
        """The final status of a request, following redirects by hand and reading no body at all.

        requests reads every redirect's body in full, even with ``allow_redirects=False`` (to offer the
        next request): a server answering with an endless or compressed 302 body would fill memory.
        Here the session's adapter sends each request itself and each answer is closed unread.
        """
        for _ in range(MAX_REDIRECTS + 1):
            prepared = self.session.prepare_request(requests.Request(method, url))
            network = self.session.merge_environment_settings(url, {}, True, None, None)  # proxies, CA
            response = self.session.get_adapter(url).send(
                prepared,
                stream=True,
                timeout=self.policy.timeout,
                verify=network["verify"] if network["verify"] is not None else True,
                cert=network["cert"],
                proxies=network["proxies"],
            )
            response.close()
            location = response.headers.get("Location")
            if not (response.is_redirect and location):
                return response.status_code
            url = urljoin(url, location)
        raise requests.TooManyRedirects(f"more than {MAX_REDIRECTS} redirects")


def _within(seconds: float, probe: Callable[[], Finding]) -> Finding | None:
    """probe's finding, or None when it has not finished after seconds (its thread is left behind)."""
    answers: queue.SimpleQueue[Finding] = queue.SimpleQueue()
    threading.Thread(target=lambda: answers.put(probe()), daemon=True, name="url-probe").start()
    try:
        return answers.get(timeout=seconds)
    except queue.Empty:
        return None


def _timed_out(err: requests.ConnectionError) -> bool:
    """True when the retries ended on a read timeout (urllib3 wraps it in MaxRetryError)."""
    reason = getattr(err.args[0], "reason", None) if err.args else None
    return isinstance(reason, ReadTimeoutError)


def _url_finding(status: int, after: str) -> Finding:
    if status in _RETRIED:
        return unverified(f"HTTP {status} ({after})")
    if status < 400:
        return Finding("ok", http_status=status)
    if status in (404, 410):
        return Finding("missing_file", http_status=status)
    return unverified(f"HTTP {status}", status)
