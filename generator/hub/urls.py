"""Plain https links (anything not on the Hub), probed with a requests session.

HEAD first; a server that refuses HEAD (403, 405, 501) gets a streamed GET whose body is never read.
Transient answers (408, 425, 429, 5xx) and connection failures are retried by urllib3's ``Retry`` with
exponential backoff, honouring ``Retry-After`` up to the policy's cap; what still fails is
*unverified*, never dead. Only 404 and 410 mean the page is gone.
"""

from __future__ import annotations

from typing import Self

import requests
from requests.adapters import HTTPAdapter
from urllib3.response import BaseHTTPResponse
from urllib3.util.retry import Retry

from generator.hub.findings import Finding, unverified
from generator.hub.retry import TRANSIENT_STATUSES, RetryPolicy

USER_AGENT = "lora-alchemy-link-check/0.1 (+https://github.com/lora-alchemy)"
HEAD_REFUSED = frozenset({403, 405, 501})
_RETRIED = TRANSIENT_STATUSES | frozenset(range(500, 600))


class _CappedRetry(Retry):
    """urllib3's Retry, with the server's ``Retry-After`` capped at ``max_server_wait`` seconds."""

    max_server_wait: float = 300.0

    def get_retry_after(self, response: BaseHTTPResponse) -> float | None:
        """The server's wait, capped."""
        wait = super().get_retry_after(response)
        return None if wait is None else min(wait, self.max_server_wait)

    def new(self, **kw: object) -> Self:
        """Keep the cap on the copies urllib3 makes after each attempt."""
        copy = super().new(**kw)
        copy.max_server_wait = self.max_server_wait
        return copy


def url_session(policy: RetryPolicy) -> requests.Session:
    """A requests session that retries transient failures of HEAD and GET as the policy says."""
    retry = _CappedRetry(
        total=policy.attempts - 1,
        redirect=False,
        status_forcelist=sorted(_RETRIED),
        allowed_methods=frozenset({"HEAD", "GET"}),
        backoff_factor=policy.base_delay,
        backoff_max=policy.max_delay,
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    retry.max_server_wait = policy.max_server_wait
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    return session


class UrlChecker:
    """Probes plain https links: HEAD, else a streamed GET; retries are the session's."""

    def __init__(self, policy: RetryPolicy, session: requests.Session | None = None) -> None:
        self.policy = policy
        self.session = session or url_session(policy)

    def check(self, url: str) -> Finding:
        """The finding for one URL (any scheme the session speaks; the catalog only holds https)."""
        after = f"after {self.policy.attempts} attempts"
        try:
            return self._probe(url, after)
        except requests.Timeout:
            return unverified(f"timeout ({after})")
        except requests.ConnectionError as err:
            return unverified(f"connection error: {type(err).__name__} ({after})")
        except requests.RequestException as err:  # redirect loops, invalid URLs, broken bodies
            return unverified(f"{type(err).__name__}: {err}")

    def _probe(self, url: str, after: str) -> Finding:
        timeout = self.policy.timeout
        response = self.session.head(url, allow_redirects=True, timeout=timeout)
        if response.status_code in HEAD_REFUSED:
            with self.session.get(url, allow_redirects=True, timeout=timeout, stream=True) as streamed:
                response = streamed
        return _url_finding(response.status_code, after)


def _url_finding(status: int, after: str) -> Finding:
    if status in _RETRIED:
        return unverified(f"HTTP {status} ({after})", status)
    if status < 400:
        return Finding("ok", http_status=status)
    if status in (404, 410):
        return Finding("missing_file", http_status=status)
    return unverified(f"HTTP {status}", status)
