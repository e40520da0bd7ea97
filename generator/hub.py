"""Hub access for the link check: the facts of every catalog link, asked the way the Hub works.

One ``model_info(repo, files_metadata=True)`` per distinct repo answers, in one API call, whether the repo
exists, is gated, disabled or renamed (the Hub's relative 307 is followed by the client; a rename shows as
``info.id != requested``), and gives every sibling's size and LFS sha256. Files and folders are looked up
in the siblings; a file gone from its path whose previous sha256 (from the snapshot) sits at another
sibling path is *moved* -- found without any further call. Users and organisations cost one or two
overview calls; other ``https`` links are probed with ``requests`` (HEAD, then a streamed GET when the
server refuses HEAD).

huggingface_hub 2.4.0 does not retry these calls, so :class:`Retrier` does: 408/429/5xx, timeouts,
connection errors and truncated JSON are retried with exponential backoff, honouring ``Retry-After`` and
``RateLimit: "api";r=…;t=…``. After the last attempt the link is ``unverified`` -- never dead.

:class:`Pacer` keeps a run inside the Hub's API budget (500 calls per 300 s anonymous, hub-api.md §10).
It bursts while the budget lasts (a fixed window rewards that) and, once the server's ``RateLimit`` header
says ``r`` is used up (minus the calls still in flight), waits for the window to reset instead of
collecting 429s. The headers of successful responses are read by a response hook added to
huggingface_hub's shared httpx2 client (:func:`install_rate_limit_hook`); without headers the pacer
counts its own calls against the documented budget.

Status mapping:

=========================================  ==============================================
what the Hub / server said                  status
=========================================  ==============================================
``RepositoryNotFoundError`` (401/404)       ``missing_repo`` (also a missing user/org)
``RevisionNotFoundError``                   ``missing_revision``
``DisabledRepoError`` or ``disabled: true``  ``disabled``
file or folder not among the siblings       ``missing_file`` (``moved`` if its sha256 sits elsewhere)
``info.id != requested``                    ``renamed`` (``new_repo``)
``gated: auto|manual``                      ``gated``
https link: 404 / 410                       ``missing_file`` (the page is gone)
408/429/5xx, timeouts, resets, bad JSON     retried, then ``unverified`` with the error
any other answer (401, 403, 400 …)          ``unverified`` with the error (never dead)
=========================================  ==============================================

Dead beats moved beats renamed beats gated: a file missing from a renamed repo is ``missing_file`` with
``new_repo`` set.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Literal, TypeVar
from urllib.parse import urlsplit

import httpx2
import requests
from huggingface_hub import HfApi
from huggingface_hub.errors import (
    DisabledRepoError,
    GatedRepoError,
    HfHubHTTPError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.hf_api import ModelInfo
from huggingface_hub.utils._http import RateLimitInfo, get_session, parse_ratelimit_headers

from generator.models import HfLink
from generator.snapshot import Status, link_key

T = TypeVar("T")

HUB_ENDPOINT = "https://huggingface.co"
API_BUDGET = 500
"""API calls per window for anonymous callers (hub-api.md §10)."""
API_WINDOW = 300.0
TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
USER_AGENT = "lora-alchemy-link-check/0.1 (+https://github.com/lora-alchemy)"


@dataclass(frozen=True)
class Finding:
    """What one check saw of one link (times are added by the caller)."""

    status: Status
    size: int | None = None
    sha256: str | None = None
    commit: str | None = None
    gated: Literal["auto", "manual"] | None = None
    new_repo: str | None = None
    new_path: str | None = None
    http_status: int | None = None
    error: str | None = None

    @property
    def verified(self) -> bool:
        """True when the check reached a verdict (anything but ``unverified``)."""
        return self.status != "unverified"


def unverified(error: str, http_status: int | None = None) -> Finding:
    """A finding for a link that could not be checked."""
    return Finding("unverified", http_status=http_status, error=error)


def make_api() -> HfApi:
    """An HfApi for ``HF_ENDPOINT`` and ``HF_TOKEN`` as the environment holds them now (not at import)."""
    endpoint = os.environ.get("HF_ENDPOINT", "").strip().rstrip("/") or HUB_ENDPOINT
    token: str | bool = os.environ.get("HF_TOKEN", "").strip() or False
    return HfApi(endpoint=endpoint, token=token)


# --- time, retries and pacing ----------------------------------------------------------------------


@dataclass(frozen=True)
class Timer:
    """Monotonic clock and sleep; tests may pass a fake pair."""

    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry transient failures; ``timeout`` bounds each request."""

    attempts: int = 5
    base_delay: float = 1.0
    max_delay: float = 30.0
    timeout: float = 30.0
    max_server_wait: float = 300.0  # a Retry-After beyond the Hub's 5-minute window is not waited out

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (0-based)."""
        if retry_after is not None:
            return min(retry_after, self.max_server_wait)
        return float(min(self.max_delay, self.base_delay * 2**attempt))


class TransientError(Exception):
    """A failure worth retrying; ``retry_after`` is the server's wish in seconds, if it said one."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Unverified(Exception):
    """Every attempt failed transiently; the message says why."""


class Pacer:
    """Keeps the calls of a run inside an API budget, from the server's RateLimit headers or our own count."""

    def __init__(
        self,
        origin: str,
        *,
        budget: int = API_BUDGET,
        window: float = API_WINDOW,
        timer: Timer | None = None,
    ) -> None:
        self.origin = origin
        self.budget, self.window = budget, window
        self.timer = timer or Timer()
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
            reset_at = now + info.reset_in_seconds
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
        return max(waits)

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


def _rate_limit_hook(response: httpx2.Response) -> None:
    """httpx2 response hook: hand the ``api`` RateLimit header to the pacers of that origin."""
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
    install_rate_limit_hook()
    with _PACERS_LOCK:
        _PACERS.append(pacer)
    try:
        yield pacer
    finally:
        with _PACERS_LOCK:
            _PACERS.remove(pacer)


def install_rate_limit_hook() -> None:
    """Add the RateLimit observer to huggingface_hub's shared client (once; the client is kept)."""
    session = get_session()
    hooks = session.event_hooks
    if _rate_limit_hook not in hooks["response"]:
        session.event_hooks = {**hooks, "response": [*hooks["response"], _rate_limit_hook]}


class Retrier:
    """Runs a call until it succeeds, fails for good, or runs out of attempts (then :class:`Unverified`)."""

    def __init__(
        self,
        policy: RetryPolicy,
        classify: Callable[[Exception], TransientError | None],
        *,
        pacer: Pacer | None = None,
        timer: Timer | None = None,
    ) -> None:
        self.policy, self.classify, self.pacer = policy, classify, pacer
        self.timer = timer or Timer()

    def call(self, fn: Callable[[], T]) -> T:
        """fn's result; non-transient exceptions propagate; transient ones are retried."""
        last = TransientError("no attempt made")
        for attempt in range(self.policy.attempts):
            try:
                return self._attempt(fn)
            except TransientError as err:
                last = err
            if attempt + 1 < self.policy.attempts:
                self.timer.sleep(self.policy.delay(attempt, last.retry_after))
        raise Unverified(f"{last} (after {self.policy.attempts} attempts)")

    def _attempt(self, fn: Callable[[], T]) -> T:
        if self.pacer is not None:
            self.pacer.acquire()
        try:
            return fn()
        except TransientError:
            raise
        except Exception as exc:
            transient = self.classify(exc)
            if transient is None:
                raise
            raise transient from exc
        finally:
            if self.pacer is not None:
                self.pacer.release()


def _retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds from ``Retry-After`` (numeric form) or from a used-up ``RateLimit`` header."""
    waits: list[float] = []
    raw = headers.get("Retry-After") or headers.get("retry-after")
    if raw and raw.strip().replace(".", "", 1).isdigit():
        waits.append(float(raw))
    info = parse_ratelimit_headers(headers)
    if info is not None and info.remaining == 0:
        waits.append(float(info.reset_in_seconds))
    return max(waits) if waits else None


def classify_hub_error(exc: Exception) -> TransientError | None:
    """The transient failures of a Hub call (hub-api.md §8, §9); None for a verdict or a bug."""
    if isinstance(exc, HfHubHTTPError):
        status = exc.response.status_code
        if status in TRANSIENT_STATUSES or status >= 500:
            return TransientError(f"HTTP {status}", _retry_after(exc.response.headers))
        return None
    if isinstance(exc, httpx2.TimeoutException):
        return TransientError("timeout")
    if isinstance(exc, httpx2.TransportError):
        return TransientError(f"connection error: {type(exc).__name__}")
    if isinstance(exc, json.JSONDecodeError):
        return TransientError("bad JSON in the answer")
    return None


def classify_url_error(exc: Exception) -> TransientError | None:
    """The transient failures of a plain https probe."""
    if isinstance(exc, requests.Timeout):
        return TransientError("timeout")
    if isinstance(exc, requests.ConnectionError):
        return TransientError(f"connection error: {type(exc).__name__}")
    return None


# --- Hugging Face links ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RepoQuery:
    """All catalog links into one repo; ``known_sha256`` maps paths to their last seen sha256 (for moves)."""

    repo: str
    links: tuple[HfLink, ...]
    known_sha256: Mapping[str, str] = field(default_factory=dict)
    revision: str | None = None


class HubChecker:
    """Checks repo groups and users through one HfApi, one Retrier and one Pacer."""

    def __init__(self, api: HfApi, retrier: Retrier) -> None:
        self.api, self.retrier = api, retrier

    def check_repo(self, query: RepoQuery) -> dict[str, Finding]:
        """A finding per link of the query, from one model_info call (plus its retries)."""
        try:
            info = self.retrier.call(lambda: self._model_info(query))
        except Unverified as err:
            return {link_key(link): unverified(str(err)) for link in query.links}
        except HfHubHTTPError as err:
            finding = _repo_failure(err)
            return {link_key(link): finding for link in query.links}
        base = _repo_finding(info, query.repo)
        files = _Siblings.of(info)
        return {link_key(link): _link_finding(link, base, files, query.known_sha256) for link in query.links}

    def check_user(self, name: str) -> Finding:
        """``ok`` when a user or an organisation of that name exists, ``missing_repo`` when neither does."""
        lookups: Sequence[Callable[[], object]] = (
            lambda: self.api.get_user_overview(name),
            lambda: self.api.get_organization_overview(name),
        )
        try:
            for lookup in lookups:
                if self._exists(lookup):
                    return Finding("ok")
        except Unverified as err:
            return unverified(str(err))
        except HfHubHTTPError as err:
            return _repo_failure(err)
        return Finding("missing_repo", http_status=404)

    def _exists(self, lookup: Callable[[], object]) -> bool:
        try:
            self.retrier.call(lookup)
        except HfHubHTTPError as err:
            if err.response.status_code == 404:
                return False
            raise
        return True

    def _model_info(self, query: RepoQuery) -> ModelInfo:
        return self.api.model_info(
            query.repo, revision=query.revision, files_metadata=True, timeout=self.retrier.policy.timeout
        )


def _repo_failure(err: HfHubHTTPError) -> Finding:
    """Map a final (non-transient) Hub error; catch order of hub-api.md §8."""
    status = err.response.status_code
    if isinstance(err, GatedRepoError):
        return Finding("gated", http_status=status)
    if isinstance(err, RepositoryNotFoundError):
        return Finding("missing_repo", http_status=status)
    if isinstance(err, RevisionNotFoundError):
        return Finding("missing_revision", http_status=status)
    if isinstance(err, DisabledRepoError):
        return Finding("disabled", http_status=status)
    if status in (404, 410):
        return Finding("missing_repo", http_status=status)
    return unverified(f"HTTP {status}: {err.server_message or 'no message'}", status)


def _repo_finding(info: ModelInfo, requested: str) -> Finding:
    """The repo-level verdict shared by every link into it."""
    gated = info.gated if info.gated in ("auto", "manual") else None
    new_repo = info.id if info.id != requested else None
    status: Status = "ok"
    if info.disabled:
        status = "disabled"
    elif new_repo is not None:
        status = "renamed"
    elif gated is not None:
        status = "gated"
    return Finding(status, commit=info.sha, gated=gated, new_repo=new_repo)


@dataclass(frozen=True)
class _Siblings:
    """The repo's files as model_info listed them: path -> (size, sha256)."""

    files: Mapping[str, tuple[int | None, str | None]]

    @classmethod
    def of(cls, info: ModelInfo) -> _Siblings:
        files = {s.rfilename: (s.size, s.lfs.sha256 if s.lfs else None) for s in info.siblings or ()}
        return cls(files)

    def has_folder(self, path: str) -> bool:
        prefix = f"{path}/"
        return any(name.startswith(prefix) for name in self.files)

    def path_of(self, sha256: str) -> str | None:
        """The one path holding this sha256 (None when absent or ambiguous)."""
        paths = sorted(name for name, (_, digest) in self.files.items() if digest == sha256)
        return paths[0] if len(paths) == 1 else None


def _link_finding(link: HfLink, base: Finding, siblings: _Siblings, known: Mapping[str, str]) -> Finding:
    """One link's finding from the repo verdict and the sibling list."""
    if base.status == "disabled" or link.kind == "repo":
        return base
    assert link.path is not None
    if link.kind == "folder":
        return base if siblings.has_folder(link.path) else replace(base, status="missing_file")
    if link.path in siblings.files:
        size, sha256 = siblings.files[link.path]
        return replace(base, size=size, sha256=sha256)
    previous = known.get(link.path)
    new_path = siblings.path_of(previous) if previous else None
    if new_path is None:
        return replace(base, status="missing_file")
    size, sha256 = siblings.files[new_path]
    return replace(base, status="moved", size=size, sha256=sha256, new_path=new_path)


# --- other https links -----------------------------------------------------------------------------

HEAD_REFUSED = frozenset({403, 405, 501})


class UrlChecker:
    """Probes plain https links with requests: HEAD, else a streamed GET whose body is never read."""

    def __init__(self, retrier: Retrier, session: requests.Session | None = None) -> None:
        self.retrier = retrier
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT

    def check(self, url: str) -> Finding:
        """The finding for one URL (any scheme the session speaks; the catalog only holds https)."""
        try:
            return self.retrier.call(lambda: self._probe(url))
        except Unverified as err:
            return unverified(str(err))
        except requests.RequestException as err:  # redirect loops, invalid URLs, broken bodies
            return unverified(f"{type(err).__name__}: {err}")

    def _probe(self, url: str) -> Finding:
        timeout = self.retrier.policy.timeout
        response = self.session.head(url, allow_redirects=True, timeout=timeout)
        if response.status_code in HEAD_REFUSED:
            with self.session.get(url, allow_redirects=True, timeout=timeout, stream=True) as streamed:
                response = streamed
        return _url_finding(response)


def _url_finding(response: requests.Response) -> Finding:
    status = response.status_code
    if status in TRANSIENT_STATUSES or status >= 500:
        raise TransientError(f"HTTP {status}", _retry_after(response.headers))
    if status < 400:
        return Finding("ok", http_status=status)
    if status in (404, 410):
        return Finding("missing_file", http_status=status)
    return unverified(f"HTTP {status}", status)


def group_by_repo(links: Iterable[HfLink]) -> dict[str, tuple[HfLink, ...]]:
    """Repo and file/folder links grouped by repo id (user links are left out), in a stable order."""
    groups: dict[str, list[HfLink]] = {}
    for link in links:
        if link.kind != "user":
            groups.setdefault(link.repo, []).append(link)
    return {repo: tuple(sorted(group, key=link_key)) for repo, group in sorted(groups.items())}
