"""A local Hugging Face Hub emulator for tests and benchmarks.

It speaks the subset of the Hub protocol that the project's calls through ``huggingface_hub`` 2.4.0 use
(see the team's Hub reference ``hub-api.md``, §4-§11): model info (``files_metadata``), paths-info,
user/organization overviews, ``/resolve/`` with LFS redirects to a second "CDN" origin, byte ranges, gated,
disabled and renamed repos, the Hub's error headers, rate limits and injectable faults.  Any other path
answers 404.

Everything is deterministic: the same scenario yields byte-identical JSON.  Large LFS files are
synthetic (a safetensors header followed by zero padding) and produced lazily per byte range.

Example::

    with HubEmulator() as emu:
        emu.add_repo("Kijai/WanVideo_comfy")
        emu.add_lfs_file("Kijai/WanVideo_comfy", "LoRAs/a.safetensors", size=630_697_104)
        api = HfApi(endpoint=emu.endpoint, token=False)
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
import json
import math
import re
import socket
import struct
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal, cast
from urllib.parse import parse_qs, quote, unquote

__all__ = [
    "Fault",
    "FaultKind",
    "Hostility",
    "HubEmulator",
    "RouteKind",
    "make_safetensors_header",
]

FaultKind = Literal["429", "500", "502", "503", "reset", "slow", "truncated_json", "answer"]
RouteKind = Literal["model_info", "paths_info", "resolve", "cdn", "user", "other"]

_LAST_MODIFIED = "2026-06-13T16:56:23.000Z"
_CHUNK = 1 << 20
_ZEROS = bytes(_CHUNK)
_ANON_REPO_MESSAGE = "Invalid username or password."
_DISABLED_MESSAGE = "Access to this resource is disabled."


@dataclass
class Fault:
    """One injected misbehaviour, consumed by the next request of the route it was queued on.

    ``"429"`` answers Too Many Requests with ``RateLimit`` (r=0), ``RateLimit-Policy`` and ``Retry-After``
    (``retry_after`` seconds, default 1, rounded up); ``"500"``/``"502"``/``"503"`` answer that status with a
    JSON error body; ``"reset"`` drops the connection before answering; ``"slow"`` sleeps ``seconds`` and
    then answers normally; ``"truncated_json"`` answers 200 with the normal body cut in half;
    ``"answer"`` answers ``status`` with ``body`` as JSON and none of the Hub's error headers.
    """

    kind: FaultKind
    retry_after: float | None = None
    seconds: float = 0.0
    status: int = 500
    body: Any = None


@dataclass(frozen=True)
class Hostility:
    """How a hostile repo owner (or a broken Hub) answers every request about one repo.

    ``info`` rewrites the model-info JSON (drop ``siblings``, make a size a string ...), ``paths_info``
    the paths-info JSON (a list of items); ``headers`` are
    added to every answer about the repo, its files' bytes included (``RateLimit: "api";r=0;t=999999``);
    ``trickle_info`` and ``trickle_files`` send the model-info body or the file bytes one byte every that
    many seconds;
    ``ignore_range`` sends whole files with 200 whatever ``Range`` asks; ``pad_info`` appends that many
    bytes of white space to the model-info JSON (still valid JSON), produced lazily, or, with
    ``gzip_info``, compressed into a small gzip body (``Content-Encoding: gzip``, asked for or not).
    """

    info: Callable[[dict[str, Any]], Any] | None = None
    paths_info: Callable[[list[dict[str, Any]]], Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    trickle_info: float = 0.0
    trickle_files: float = 0.0
    ignore_range: bool = False
    pad_info: int = 0
    gzip_info: bool = False


def make_safetensors_header(header: dict[str, Any]) -> bytes:
    """Return a safetensors prefix: u64 little-endian length, then the JSON header padded to 8 bytes."""
    raw = json.dumps(header, separators=(",", ":"), sort_keys=True).encode()
    raw += b" " * (-len(raw) % 8)
    return struct.pack("<Q", len(raw)) + raw


def _git_blob_sha1(content: bytes) -> str:
    """Git object id of a blob with this content."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content, usedforsecurity=False).hexdigest()


def _derive_sha1(*parts: str) -> str:
    """Deterministic 40-hex id for synthetic commits, trees and object ids."""
    return hashlib.sha1("\0".join(parts).encode(), usedforsecurity=False).hexdigest()


@dataclass(frozen=True)
class _File:
    """File content: small (``sha256`` is None, ``content`` is everything) or synthetic LFS."""

    size: int
    content: bytes
    sha256: str | None = None

    @property
    def is_lfs(self) -> bool:
        return self.sha256 is not None

    @property
    def pointer(self) -> bytes:
        lines = (
            "version https://git-lfs.github.com/spec/v1",
            f"oid sha256:{self.sha256}",
            f"size {self.size}",
            "",
        )
        return "\n".join(lines).encode()

    @property
    def blob_id(self) -> str:
        return _git_blob_sha1(self.pointer if self.is_lfs else self.content)

    def chunks(self, start: int, end: int) -> Iterator[bytes]:
        """Yield bytes ``start..end`` (inclusive): the stored prefix, then zero padding."""
        pos = start
        while pos <= end:
            if pos < len(self.content):
                piece = self.content[pos : min(end + 1, len(self.content), pos + _CHUNK)]
            else:
                piece = _ZEROS[: min(_CHUNK, end + 1 - pos)]
            yield piece
            pos += len(piece)


@dataclass
class _Repo:
    repo_id: str
    sha: str
    gated: Literal[False, "auto", "manual"]
    disabled: bool
    files: dict[str, _File] = field(default_factory=dict)


@dataclass(frozen=True)
class _Route:
    """What a raw request path addresses."""

    kind: RouteKind
    repo_id: str = ""
    repo_span: tuple[int, int] = (0, 0)  # where repo_id sits in the raw path (for rename redirects)
    revision: str | None = None
    path: str = ""
    op: str = ""


@dataclass(frozen=True)
class _Request:
    method: str
    path: str  # raw, without the query
    query_string: str
    headers: Message[str, str]
    body: bytes

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(self.query_string, keep_blank_values=True)


@dataclass
class _Response:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    blob: tuple[_File, int, int] | None = None  # lazily streamed (file, start, end inclusive)
    reset: bool = False  # close the connection without answering
    padding: int = 0  # white space sent after the body, produced lazily
    trickle: float = 0.0  # seconds between single bytes

    @property
    def length(self) -> int:
        if self.blob is None:
            return len(self.body) + self.padding
        _, start, end = self.blob
        return end - start + 1

    def chunks(self) -> Iterator[bytes]:
        if self.trickle:
            for chunk in self._chunks():
                for byte in chunk:
                    time.sleep(self.trickle)
                    yield bytes((byte,))
        else:
            yield from self._chunks()

    def _chunks(self) -> Iterator[bytes]:
        if self.blob is None:
            yield self.body
            for start in range(0, self.padding, _CHUNK):
                yield b" " * min(_CHUNK, self.padding - start)
        else:
            yield from self.blob[0].chunks(self.blob[1], self.blob[2])


class _Answer(Exception):
    """Raised inside route handlers to answer early (errors, redirects)."""

    def __init__(self, response: _Response) -> None:
        super().__init__(response.status)
        self.response = response


def _json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> _Response:
    body = json.dumps(payload, separators=(",", ":")).encode()
    return _Response(status, {"Content-Type": "application/json; charset=utf-8", **(headers or {})}, body)


def _error(status: int, message: str, code: str | None = None, **extra: str) -> _Answer:
    """An error answer with the Hub's ``X-Error-Code``/``X-Error-Message`` headers and JSON body."""
    headers = {"X-Error-Message": message, **{k.replace("_", "-"): v for k, v in extra.items()}}
    if code is not None:
        headers["X-Error-Code"] = code
    return _Answer(_json_response({"error": message}, status, headers))


def _flag(values: list[str] | None) -> bool:
    """Read a boolean query parameter (the last occurrence wins)."""
    if not values:
        return False
    return values[-1].lower() in ("true", "1")


def _parse_route(path: str) -> _Route:
    """Classify a raw request path; pieces are percent-decoded after splitting (hub-api.md §3.2)."""
    segs = path.split("/")
    if path.startswith("/api/models/") and len(segs) >= 5 and segs[3] and segs[4]:
        return _parse_model_api(segs)
    if (
        len(segs) == 5
        and segs[1] == "api"
        and segs[2] in ("users", "organizations")
        and segs[4] == "overview"
    ):
        return _Route("user", path=unquote(segs[3]), op=segs[2])
    if len(segs) >= 6 and segs[3] == "resolve" and segs[1] and segs[2]:
        repo_id = unquote(f"{segs[1]}/{segs[2]}")
        span = (1, 1 + len(segs[1]) + 1 + len(segs[2]))
        return _Route("resolve", repo_id, span, unquote(segs[4]), unquote("/".join(segs[5:])))
    return _Route("other")


def _parse_model_api(segs: list[str]) -> _Route:
    start = len("/api/models/")
    span = (start, start + len(segs[3]) + 1 + len(segs[4]))
    repo_id = unquote(f"{segs[3]}/{segs[4]}")
    rest = segs[5:]
    if not rest:
        return _Route("model_info", repo_id, span)
    op, tail = rest[0], rest[1:]
    if op == "revision" and tail:
        return _Route("model_info", repo_id, span, unquote("/".join(tail)))
    if op == "paths-info" and tail:
        return _Route("paths_info", repo_id, span, unquote("/".join(tail)))
    return _Route("other")


def _cdn_repo(path: str) -> str:
    """The repo id of a CDN path ``/repos/<owner>/<name>/<sha256>``."""
    parts = path.split("/")
    return unquote("/".join(parts[2:-1])) if len(parts) >= 4 and parts[1] == "repos" else ""


def _parse_range(value: str | None, total: int) -> tuple[int, int] | None:
    """The inclusive range of ``bytes=START-[END]`` (end clamped), None to serve it all; 416 past the end.

    The client only asks for ``bytes=0-100000`` and ``bytes=8-N`` (safetensors headers, hub-api.md §3.1).
    """
    match = re.fullmatch(r"\s*bytes=(\d+)-(\d*)\s*", value or "")
    if match is None:
        return None
    start = int(match.group(1))
    end = min(int(match.group(2)), total - 1) if match.group(2) else total - 1
    if start >= total:
        raise _error(416, "Requested range not satisfiable", Content_Range=f"bytes */{total}")
    return (start, end) if start <= end else None


class _Server(ThreadingHTTPServer):
    """HTTP server that remembers its open connections so ``stop()`` can close idle keep-alive ones."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, emulator: HubEmulator, *, is_cdn: bool, port: int) -> None:
        self.emulator = emulator
        self.is_cdn = is_cdn
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        super().__init__(("127.0.0.1", port), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._conns_lock:
            self._conns.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._conns_lock:
            self._conns.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet when a client goes away; report anything else."""
        if not isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            super().handle_error(request, client_address)

    def close_connections(self) -> None:
        with self._conns_lock:
            conns = list(self._conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    @property
    def port(self) -> int:
        return int(self.server_address[1])


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 120  # idle keep-alive connections end eventually
    # Headers and body go out in separate writes: with Nagle's algorithm on, the body waits for the client's
    # delayed ACK (40 ms on Linux) on every response, which made each emulated check seconds long.
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self._serve()

    def do_HEAD(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request stderr log."""

    def _serve(self) -> None:
        server = cast(_Server, self.server)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        raw_path, _, query = self.path.partition("?")
        request = _Request(self.command, raw_path, query, self.headers, body)
        response = server.emulator._handle(request, is_cdn=server.is_cdn)
        if response.reset:
            self.close_connection = True
            return
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(response.length))
        self.end_headers()
        if self.command != "HEAD":
            for chunk in response.chunks():
                self.wfile.write(chunk)


@dataclass(frozen=True)
class _Budget:
    """Rate-limit state of the "api" bucket as seen by one request."""

    remaining: int
    reset_in: int
    quota: int
    window: int

    @property
    def exceeded(self) -> bool:
        return self.remaining < 0

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit": f'"api";r={max(self.remaining, 0)};t={self.reset_in}',
            "RateLimit-Policy": f'"fixed window";"api";q={self.quota};w={self.window}',
        }


class HubEmulator:
    """In-process Hub (two local origins: the Hub itself and a CDN serving LFS bytes by sha256).

    Args:
        latency: seconds to sleep before answering each request (both origins).
        rate_limit: when set, the "api" bucket (``/api/...`` routes) allows this many requests per fixed
            window of ``window_seconds``; every ``/api`` response then carries ``RateLimit`` and
            ``RateLimit-Policy``, and requests over budget get 429 with ``Retry-After``.
        window_seconds: length of the rate-limit window.
        port: fixed port for the Hub origin (0 = any free port; the CDN origin always takes a free one).

    Observability (all updated under a lock): ``counts`` (requests per :data:`RouteKind`),
    ``range_requests`` (GETs with a ``Range`` header answered with file bytes, i.e. by a small file's
    resolve or by the CDN; the 302 hop of an LFS resolve is not counted, so one ranged read counts once),
    ``status_counts`` (statuses sent).

    Every request is anonymous: tokens are ignored, a gated repo's files are refused (401 GatedRepo).
    """

    def __init__(
        self,
        *,
        latency: float = 0.0,
        rate_limit: int | None = None,
        window_seconds: float = 300.0,
        port: int = 0,
    ) -> None:
        self.latency = latency
        self._port = port
        self.rate_limit = rate_limit
        self.window_seconds = window_seconds
        self._lock = threading.RLock()
        self._hub: _Server | None = None
        self._cdn: _Server | None = None
        self._threads: list[threading.Thread] = []
        self._init_state()

    def _init_state(self) -> None:
        self._repos: dict[str, _Repo] = {}
        self._renames: dict[str, str] = {}
        self._blobs: dict[str, _File] = {}
        self._users: dict[str, bool] = {}
        self._hostile: dict[str, Hostility] = {}
        self._faults: dict[str, collections.deque[Fault]] = collections.defaultdict(collections.deque)
        self._window_start: float | None = None
        self._window_used = 0
        self.counts: collections.Counter[str] = collections.Counter()
        self.status_counts: collections.Counter[int] = collections.Counter()
        self.range_requests = 0
        self.resolved: collections.Counter[str] = collections.Counter()
        """Requests for a file's bytes, by 'repo_id/path' (which headers a check tried to read)."""

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> HubEmulator:
        """Bind both origins on 127.0.0.1 (free ports) and serve in background threads."""
        if self._hub is not None:
            return self
        self._hub = _Server(self, is_cdn=False, port=self._port)
        self._cdn = _Server(self, is_cdn=True, port=0)
        for server in (self._hub, self._cdn):
            thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        """Stop serving, drop open connections and release the ports."""
        for server in (self._hub, self._cdn):
            if server is not None:
                server.shutdown()
                server.close_connections()
                server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._hub = self._cdn = None
        self._threads = []

    def __enter__(self) -> HubEmulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def endpoint(self) -> str:
        """Hub origin, e.g. ``http://127.0.0.1:41234`` (valid after ``start()``)."""
        return f"http://127.0.0.1:{self._server(cdn=False).port}"

    @property
    def cdn_endpoint(self) -> str:
        """Second origin that LFS resolves redirect to."""
        return f"http://127.0.0.1:{self._server(cdn=True).port}"

    def _server(self, *, cdn: bool) -> _Server:
        server = self._cdn if cdn else self._hub
        if server is None:
            raise RuntimeError("HubEmulator is not started")
        return server

    def reset(self) -> None:
        """Forget repos, users, faults and counters (the servers keep running)."""
        with self._lock:
            self._init_state()

    # ----------------------------------------------------------------- scenario

    def add_repo(
        self,
        repo_id: str,
        *,
        sha: str | None = None,
        gated: Literal[False, "auto", "manual"] = False,
        disabled: bool = False,
    ) -> None:
        """Create (or replace) a model repo; ``sha`` defaults to a value derived from ``repo_id``."""
        with self._lock:
            self._renames.pop(repo_id, None)
            self._repos[repo_id] = _Repo(repo_id, sha or _derive_sha1("repo", repo_id), gated, disabled)

    def gate(self, repo_id: str, mode: Literal[False, "auto", "manual"] = "manual") -> None:
        """Gate (or ungate) a repo, keeping its files: its bytes then need a grant the check does not have."""
        with self._lock:
            self._repos[repo_id].gated = mode

    def rename_repo(self, old_id: str, new_id: str) -> None:
        """Move a repo; the old id then answers a relative 307 to the new one on every route."""
        with self._lock:
            repo = self._repos.pop(old_id)
            repo.repo_id = new_id
            self._repos[new_id] = repo
            self._renames.pop(new_id, None)
            self._renames[old_id] = new_id

    def add_lfs_file(
        self, repo_id: str, path: str, *, size: int, sha256: str | None = None, header: bytes | None = None
    ) -> str:
        """Add a synthetic LFS file: ``header`` then zero padding up to ``size``; return its sha256.

        ``header`` defaults to a minimal valid safetensors prefix; ``sha256`` defaults to a fake value
        derived from repo and path (the served bytes do not hash to it).
        """
        content = make_safetensors_header({}) if header is None else header
        if len(content) > size:
            raise ValueError(f"header ({len(content)} bytes) is larger than size ({size})")
        digest = (sha256 or hashlib.sha256(f"{repo_id}/{path}".encode()).hexdigest()).lower()
        if not re.fullmatch(r"[0-9a-f]{64}", digest):
            raise ValueError(f"not a sha256: {sha256!r}")
        file = _File(size, content, digest)
        with self._lock:
            self._repos[repo_id].files[path] = file
            self._blobs[digest] = file
        return digest

    def add_small_file(self, repo_id: str, path: str, content: bytes) -> None:
        """Add a regular (non-LFS) file served from the Hub origin with its git blob sha1 as ETag."""
        with self._lock:
            self._repos[repo_id].files[path] = _File(len(content), content)

    def move_file(self, repo_id: str, old_path: str, new_path: str) -> None:
        """Move a file inside a repo (same bytes and sha256); the repo gets a new derived commit sha."""
        with self._lock:
            repo = self._repos[repo_id]
            repo.files[new_path] = repo.files.pop(old_path)
            repo.sha = _derive_sha1(repo.sha, "move", old_path, new_path)

    def remove_file(self, repo_id: str, path: str) -> None:
        """Delete a file; the repo gets a new derived commit sha."""
        with self._lock:
            repo = self._repos[repo_id]
            del repo.files[path]
            repo.sha = _derive_sha1(repo.sha, "remove", path)

    def add_user(self, name: str, *, org: bool = False) -> None:
        """Make a user (or organization, with ``org=True``) exist."""
        with self._lock:
            self._users[name] = org

    def make_hostile(self, repo_id: str, hostility: Hostility) -> None:
        """Answer every later request about repo_id (API and file bytes) the hostile way."""
        with self._lock:
            self._hostile[repo_id] = hostility

    def inject(self, route: RouteKind, *faults: Fault) -> None:
        """Queue faults for a route; each matching request consumes one, first in first out."""
        with self._lock:
            self._faults[route].extend(faults)

    # ----------------------------------------------------------------- dispatch

    def _handle(self, req: _Request, *, is_cdn: bool) -> _Response:
        route = _Route("cdn") if is_cdn else _parse_route(req.path)
        with self._lock:
            self.counts[route.kind] += 1
            budget = self._consume_budget() if req.path.startswith("/api/") and not is_cdn else None
            queue = self._faults.get(route.kind)
            over_budget = budget is not None and budget.exceeded
            fault = queue.popleft() if queue and not over_budget else None
        if self.latency:
            time.sleep(self.latency)
        response = self._respond(req, route, fault, budget)
        if budget is not None:
            for name, value in budget.headers().items():
                response.headers.setdefault(name, value)  # a 429 keeps its own r=0
        hostility = self._hostile.get(_cdn_repo(req.path) if is_cdn else route.repo_id)
        if hostility is not None and route.kind in ("model_info", "resolve", "cdn"):
            response.headers.update(hostility.headers)
            response.trickle = (
                hostility.trickle_info if route.kind == "model_info" else hostility.trickle_files
            )
        if not response.reset:
            with self._lock:
                self.status_counts[response.status] += 1
        return response

    def _respond(
        self, req: _Request, route: _Route, fault: Fault | None, budget: _Budget | None
    ) -> _Response:
        kind = fault.kind if fault else None
        if fault is not None and kind == "slow":
            time.sleep(fault.seconds)
        if budget is not None and budget.exceeded:
            return self._too_many(route, budget.reset_in)
        if fault is not None and kind == "429":
            return self._too_many(route, math.ceil(fault.retry_after if fault.retry_after is not None else 1))
        if kind in ("500", "502", "503"):
            return _json_response(
                {"error": "Internal Error - We're working hard to fix this"}, int(str(kind))
            )
        if kind == "reset":
            return _Response(0, reset=True)
        if fault is not None and kind == "answer":
            return _json_response(fault.body, fault.status)
        try:
            with self._lock:
                response = self._route(req, route)
        except _Answer as answer:
            response = answer.response
        if kind == "truncated_json":
            response = _Response(200, response.headers, response.body[: len(response.body) // 2])
        return response

    def _consume_budget(self) -> _Budget | None:
        if self.rate_limit is None:
            return None
        now = time.monotonic()
        if self._window_start is None or now - self._window_start >= self.window_seconds:
            self._window_start, self._window_used = now, 0
        self._window_used += 1
        # window length minus elapsed time: adding to a large monotonic clock first would round up
        reset_in = max(1, math.ceil(self.window_seconds - (now - self._window_start)))
        window = math.ceil(self.window_seconds)
        return _Budget(self.rate_limit - self._window_used, reset_in, self.rate_limit, window)

    def _too_many(self, route: _Route, reset_in: int) -> _Response:
        bucket = "resolvers" if route.kind in ("resolve", "cdn") else "api"
        quota = 3000 if bucket == "resolvers" else (self.rate_limit or 500)
        headers = {
            "RateLimit": f'"{bucket}";r=0;t={reset_in}',
            "RateLimit-Policy": f'"fixed window";"{bucket}";q={quota};w={math.ceil(self.window_seconds)}',
            "Retry-After": str(reset_in),
        }
        return _json_response({"error": "rate limited"}, 429, headers)

    def _route(self, req: _Request, route: _Route) -> _Response:
        if route.kind == "cdn":
            return self._serve_cdn(req)
        if route.kind == "other":
            raise _error(404, "Not Found")
        if route.kind == "user":
            return self._serve_overview(route)
        self._check_method(req, "POST" if route.kind == "paths_info" else "GET")
        repo = self._lookup(req, route)
        handlers = {
            "model_info": self._serve_model_info,
            "paths_info": self._serve_paths_info,
            "resolve": self._serve_resolve,
        }
        return handlers[route.kind](req, route, repo)

    @staticmethod
    def _check_method(req: _Request, expected: str) -> None:
        allowed = {expected, "HEAD"} if expected == "GET" else {expected}
        if req.method not in allowed:
            raise _error(405, "Method Not Allowed")

    # ----------------------------------------------------------------- access checks

    def _lookup(self, req: _Request, route: _Route) -> _Repo:
        """Redirect renamed ids; refuse missing repos (401, as to anonymous callers) and disabled ones."""
        new_id = self._renames.get(route.repo_id)
        if new_id is not None and route.repo_id not in self._repos:
            start, end = route.repo_span
            location = req.path[:start] + new_id + req.path[end:]
            location += f"?{req.query_string}" if req.query_string else ""
            body = f"Temporary Redirect. Redirecting to {location}".encode()
            raise _Answer(
                _Response(307, {"Location": location, "Content-Type": "text/plain; charset=utf-8"}, body)
            )
        repo = self._repos.get(route.repo_id)
        if repo is None:
            raise _error(401, _ANON_REPO_MESSAGE, "RepoNotFound")
        if repo.disabled:
            raise _error(403, _DISABLED_MESSAGE)
        return repo

    @staticmethod
    def _check_revision(repo: _Repo, revision: str | None) -> None:
        if revision is not None and revision not in ("main", repo.sha):
            raise _error(404, f"Invalid rev id: {revision}", "RevisionNotFound")

    @staticmethod
    def _check_gate(repo: _Repo) -> None:
        if repo.gated:
            message = (
                f"Access to model {repo.repo_id} is restricted. You must have access to it and be "
                "authenticated to access it. Please log in."
            )
            raise _error(401, message, "GatedRepo")

    # ----------------------------------------------------------------- API routes

    def _serve_model_info(self, req: _Request, route: _Route, repo: _Repo) -> _Response:
        self._check_revision(repo, route.revision)
        blobs = _flag(req.query.get("blobs"))  # files_metadata=True: sizes and LFS sha256 of siblings
        info: dict[str, Any] = {
            "_id": _derive_sha1("id", repo.repo_id)[:24],
            "id": repo.repo_id,
            "author": repo.repo_id.split("/")[0],
            "private": False,
            "gated": repo.gated,
            "disabled": repo.disabled,
            "sha": repo.sha,
            "lastModified": _LAST_MODIFIED,
            "createdAt": _LAST_MODIFIED,
            "downloads": 0,
            "likes": 0,
            "tags": [],
            "siblings": [self._sibling(path, file, blobs=blobs) for path, file in sorted(repo.files.items())],
        }
        hostility = self._hostile.get(repo.repo_id)
        if hostility is None:
            return _json_response(info)
        response = _json_response(hostility.info(info) if hostility.info else info)
        if hostility.gzip_info:
            packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: gzip framing
            body = packer.compress(response.body)
            for start in range(0, hostility.pad_info, _CHUNK):
                body += packer.compress(b" " * min(_CHUNK, hostility.pad_info - start))
            response.body = body + packer.flush()
            response.headers["Content-Encoding"] = "gzip"
        else:
            response.padding = hostility.pad_info
        return response

    @staticmethod
    def _sibling(path: str, file: _File, *, blobs: bool) -> dict[str, Any]:
        sibling: dict[str, Any] = {"rfilename": path}
        if blobs:
            sibling.update(blobId=file.blob_id, size=file.size)
            if file.is_lfs:
                sibling["lfs"] = {"sha256": file.sha256, "size": file.size, "pointerSize": len(file.pointer)}
        return sibling

    def _serve_paths_info(self, req: _Request, route: _Route, repo: _Repo) -> _Response:
        """The files among the form's ``paths`` (unknown paths are left out)."""
        self._check_revision(repo, route.revision)
        form = parse_qs(req.body.decode("utf-8", "replace"), keep_blank_values=True)
        paths = [path for path in dict.fromkeys(form.get("paths", [])) if path in repo.files]
        items = [self._entry(path, repo.files[path]) for path in paths]
        hostility = self._hostile.get(repo.repo_id)
        return _json_response(hostility.paths_info(items) if hostility and hostility.paths_info else items)

    @staticmethod
    def _entry(path: str, file: _File) -> dict[str, Any]:
        """A paths-info item (``lfs.oid`` is the sha256 here, unlike siblings)."""
        item: dict[str, Any] = {"type": "file", "oid": file.blob_id, "size": file.size, "path": path}
        if file.is_lfs:
            item["lfs"] = {"oid": file.sha256, "size": file.size, "pointerSize": len(file.pointer)}
        return item

    def _serve_overview(self, route: _Route) -> _Response:
        want_org = route.op == "organizations"
        if self._users.get(route.path) is not want_org:
            raise _error(404, f"{'Organization' if want_org else 'User'} not found")
        name = route.path
        common = {"_id": _derive_sha1("user", name)[:24], "avatarUrl": "", "fullname": name}
        if want_org:
            return _json_response({**common, "name": name, "type": "org", "isVerified": False, "numUsers": 1})
        return _json_response({**common, "user": name, "type": "user", "isPro": False, "orgs": []})

    # ----------------------------------------------------------------- file routes

    def _serve_resolve(self, req: _Request, route: _Route, repo: _Repo) -> _Response:
        with self._lock:
            self.resolved[f"{repo.repo_id}/{route.path}"] += 1
        self._check_revision(repo, route.revision)
        self._check_gate(repo)
        file = repo.files.get(route.path)
        if file is None:
            raise _error(404, "Entry not found", "EntryNotFound", X_Repo_Commit=repo.sha)
        common = {"X-Repo-Commit": repo.sha, "Accept-Ranges": "bytes"}
        if file.sha256 is None:
            return self._serve_bytes(req, file, etag=file.blob_id, headers=common)
        location = f"{self.cdn_endpoint}/repos/{quote(repo.repo_id)}/{file.sha256}?X-Amz-Signature=fake"
        headers = {
            **common,
            "Location": location,
            "X-Linked-Etag": f'"{file.sha256}"',
            "X-Linked-Size": str(file.size),
            "Content-Type": "text/plain; charset=utf-8",
        }
        return _Response(302, headers, f"Found. Redirecting to {location}".encode())

    def _serve_cdn(self, req: _Request) -> _Response:
        self._check_method(req, "GET")
        file = self._blobs.get(req.path.rsplit("/", 1)[-1])
        if file is None:
            raise _error(404, "NoSuchKey")
        hostility = self._hostile.get(_cdn_repo(req.path))
        whole = hostility is not None and hostility.ignore_range
        return self._serve_bytes(
            req, file, etag=str(file.sha256), headers={"Accept-Ranges": "bytes"}, whole=whole
        )

    def _serve_bytes(
        self, req: _Request, file: _File, *, etag: str, headers: dict[str, str], whole: bool = False
    ) -> _Response:
        """200 with the whole file, or 206 for a ``Range`` (end clamped to the last byte) unless whole."""
        headers = {**headers, "ETag": f'"{etag}"', "Content-Type": "application/octet-stream"}
        span = None if whole else _parse_range(req.headers.get("Range"), file.size)
        if req.method == "GET" and req.headers.get("Range"):
            self.range_requests += 1
        if span is None:
            return _Response(200, headers, blob=(file, 0, file.size - 1))
        headers["Content-Range"] = f"bytes {span[0]}-{span[1]}/{file.size}"
        return _Response(206, headers, blob=(file, *span))
