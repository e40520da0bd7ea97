"""The one door to huggingface_hub and its HTTP library: every import of them lives here.

huggingface_hub 2.x speaks HTTP through httpx2 and reads ``HF_ENDPOINT`` at import, so the API object
is always built with an explicit endpoint and token from :class:`~generator.settings.Settings`.
Private helpers of the client (rate-limit header parsing, the shared session, the safetensors metadata
types) are wrapped here, so a change in them touches one module.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Any

import httpcore2
import httpx2
from huggingface_hub import HfApi, hf_hub_url, set_client_factory
from huggingface_hub.errors import (
    DisabledRepoError,
    GatedRepoError,
    HfHubHTTPError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.hf_api import ModelInfo, RepoFile
from huggingface_hub.utils._headers import build_hf_headers
from huggingface_hub.utils._http import (
    RateLimitInfo,
    get_session,
    hf_request_event_hook,
    parse_ratelimit_headers,
)

from generator.settings import Settings

__all__ = [
    "ClientTimeout",
    "DisabledRepoError",
    "GatedRepoError",
    "HfApi",
    "HfHubHTTPError",
    "HttpResponse",
    "LimitExceeded",
    "Limits",
    "ModelInfo",
    "RateLimitInfo",
    "RepoFile",
    "RepositoryNotFoundError",
    "RevisionNotFoundError",
    "TransportError",
    "add_response_hook",
    "make_api",
    "parse_ratelimit_headers",
    "read_range",
]

HttpResponse = httpx2.Response
ClientTimeout = httpx2.TimeoutException
TransportError = httpx2.TransportError


@dataclass(frozen=True)
class Limits:
    """What one request may cost, body and redirects included: a hostile server cannot hang or flood us.

    ``total`` bounds the time from sending to the last byte read (a body trickled a byte at a time
    trips it); ``max_bytes`` bounds what is read from the network; ``run_deadline`` (a
    :func:`time.monotonic` instant) ends every request still running when the run's time is up.
    """

    total: float = 120.0
    max_bytes: int = 16_000_000  # the largest model-info answers are a few MB; headers under 1 MB
    run_deadline: float | None = None


class LimitExceeded(Exception):
    """An answer took too long or was too large; asking again in this run would not help."""


@dataclass
class _Budget:
    limits: Limits
    deadline: float
    read: int = 0

    @classmethod
    def start(cls, limits: Limits) -> _Budget:
        ends = [time.monotonic() + limits.total, limits.run_deadline or math.inf]
        wanted = _WANTED_BYTES.get()  # a range read may need more than an API answer
        return cls(replace(limits, max_bytes=max(limits.max_bytes, wanted)), min(ends))

    def timeout(self, asked: float | None) -> float:
        """The time a read may wait: what the caller asked, within what is left of the budget."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise LimitExceeded(self.late())
        return left if asked is None else min(asked, left)

    def count(self, received: int) -> None:
        self.read += received
        if self.read > self.limits.max_bytes:
            raise LimitExceeded(f"the answer is larger than {self.limits.max_bytes:,} bytes")

    def overdue(self) -> bool:
        return time.monotonic() >= self.deadline

    def late(self) -> str:
        run = self.limits.run_deadline
        if run is not None and self.deadline >= run:
            return "the run's time limit was reached"
        return f"the answer took longer than {self.limits.total:g} s"


_BUDGET: ContextVar[_Budget | None] = ContextVar("lora_alchemy_http_budget", default=None)
_WANTED_BYTES: ContextVar[int] = ContextVar("lora_alchemy_wanted_bytes", default=0)
_HTTP_OVERHEAD = 65_536  # status line, headers and chunk framing around the bytes a range read wants
_LIMITS = [Limits()]
_INSTALLED = threading.Event()


class _GuardedStream(httpcore2.NetworkStream):
    """A connection whose reads obey the budget of the request running in this thread."""

    def __init__(self, inner: httpcore2.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        budget = _BUDGET.get()
        if budget is None:
            return self._inner.read(max_bytes, timeout)
        try:
            data = self._inner.read(max_bytes, budget.timeout(timeout))
        except httpcore2.ReadTimeout:
            if budget.overdue():
                raise LimitExceeded(budget.late()) from None
            raise
        budget.count(len(data))
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        budget = _BUDGET.get()
        self._inner.write(buffer, budget.timeout(timeout) if budget else timeout)

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore2.NetworkStream:
        budget = _BUDGET.get()  # a handshake that never ends must end with the request's budget too
        wait = budget.timeout(timeout) if budget else timeout
        try:
            return _GuardedStream(self._inner.start_tls(ssl_context, server_hostname, wait))
        except httpcore2.ConnectTimeout:
            if budget is not None and budget.overdue():
                raise LimitExceeded(budget.late()) from None
            raise

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _GuardedBackend(httpcore2.NetworkBackend):
    def __init__(self) -> None:
        self._inner = httpcore2.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore2.NetworkStream:
        budget = _BUDGET.get()
        timeout = budget.timeout(timeout) if budget else timeout
        return _GuardedStream(self._inner.connect_tcp(host, port, timeout, local_address, socket_options))

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore2.NetworkStream:
        return _GuardedStream(self._inner.connect_unix_socket(path, timeout, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _GuardedTransport(httpx2.HTTPTransport):
    """httpx2's transport over a connection pool whose connections obey the request budget."""

    def __init__(self) -> None:
        super().__init__()
        limits = httpx2.Limits()
        self._pool = httpcore2.ConnectionPool(
            ssl_context=httpx2.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_GuardedBackend(),
        )


class _GuardedClient(httpx2.Client):
    """huggingface_hub's shared client, with one budget per request (its redirects and body included)."""

    def send(self, request: httpx2.Request, **kwargs: Any) -> httpx2.Response:
        _BUDGET.set(_Budget.start(_LIMITS[0]))  # stays set while the body is read in this thread
        return super().send(request, **kwargs)


def _refuse_compressed(response: httpx2.Response) -> None:
    """Response hook: a compressed answer is refused before its body is read.

    The byte budget counts bytes on the wire; a gzip bomb of 1 MB decodes to gigabytes. We ask for
    ``identity`` on every request, so a compressed answer is a server ignoring us.
    """
    encoding = response.headers.get("Content-Encoding", "").strip().lower()
    if encoding not in ("", "identity"):
        response.close()
        raise LimitExceeded(f"the answer is compressed ({encoding}) although none was asked for")


def _guarded_client() -> httpx2.Client:
    """The client huggingface_hub's default factory builds, on the guarded transport, uncompressed."""
    return _GuardedClient(
        headers={"Accept-Encoding": "identity"},
        event_hooks={"request": [hf_request_event_hook], "response": [_refuse_compressed]},
        follow_redirects=True,
        timeout=None,
        transport=_GuardedTransport(),
    )


def make_api(settings: Settings | None = None, limits: Limits | None = None) -> HfApi:
    """An HfApi for ``HF_ENDPOINT`` and ``HF_TOKEN`` as the environment holds them now (not at import).

    Every request of huggingface_hub's shared client then obeys ``limits`` (time and bytes).
    """
    settings = settings or Settings()
    _LIMITS[0] = limits or Limits()
    if not _INSTALLED.is_set():
        set_client_factory(_guarded_client)
        _INSTALLED.set()
    token = settings.hf_token.get_secret_value() if settings.hf_token is not None else False
    return HfApi(endpoint=settings.hf_endpoint, token=token)


@dataclass(frozen=True)
class RangeAnswer:
    """The first bytes of a file (at most what was asked), or the HTTP error the server gave instead."""

    status: int
    headers: dict[str, str]
    data: bytes


def read_range(
    api: HfApi, repo: str, path: str, revision: str | None, start: int, length: int
) -> RangeAnswer:
    """Bytes ``start .. start+length-1`` of a file, reading no more than that even if Range is ignored.

    huggingface_hub's own header reader keeps the whole response in memory; this one streams and stops.
    """
    url = hf_hub_url(repo, path, revision=revision, endpoint=api.endpoint)
    headers = {
        **build_hf_headers(token=api.token),
        "Range": f"bytes={start}-{start + length - 1}",
        "Accept-Encoding": "identity",
    }
    wanted = _WANTED_BYTES.set(start + length + _HTTP_OVERHEAD)  # start too: Range may be ignored
    try:
        return _read_range(url, headers, start, length)
    finally:
        _WANTED_BYTES.reset(wanted)


def _read_range(url: str, headers: dict[str, str], start: int, length: int) -> RangeAnswer:
    with get_session().stream("GET", url, headers=headers) as response:
        answer_headers = dict(response.headers.items())
        if response.status_code >= 400:
            return RangeAnswer(response.status_code, answer_headers, b"")
        skip = start if response.status_code == 200 else 0  # a server that ignores Range sends it all
        return RangeAnswer(response.status_code, answer_headers, _take(response.iter_bytes(), skip, length))


def _take(chunks: Iterable[bytes], skip: int, length: int) -> bytes:
    """length bytes after the first skip bytes of a stream, reading no further."""
    data = bytearray()
    for chunk in chunks:
        if skip >= len(chunk):
            skip -= len(chunk)
            continue
        data += chunk[skip:]
        skip = 0
        if len(data) >= length:
            break
    return bytes(data[:length])


def add_response_hook(hook: Callable[[httpx2.Response], None]) -> None:
    """Add a response hook to huggingface_hub's shared HTTP client (once; the client is kept)."""
    session = get_session()
    hooks = session.event_hooks
    if hook not in hooks["response"]:
        session.event_hooks = {**hooks, "response": [*hooks["response"], hook]}
