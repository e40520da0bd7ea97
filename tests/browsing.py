"""A built site served on 127.0.0.1 and read in headless Chromium: the static server and the browser tab that the
browser tests share (and that bench/bench_catalog_page.py can use instead of its own copy).

Chromium is Debian's (``apt-get install chromium``), driven through Python playwright: no browser download.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
"""No sandbox (tests run as root), and none of the background traffic a profile would start."""


def chromium_path() -> str | None:
    """Debian's chromium, or None when it is not installed."""
    found = shutil.which("chromium") or "/usr/bin/chromium"
    return found if Path(found).exists() else None


@contextlib.contextmanager
def chromium(executable: str) -> Iterator[Any]:
    """Headless Chromium (the given executable) through playwright, without the background traffic."""
    from playwright.sync_api import sync_playwright  # the browser tests' and the benchmark's, nobody else's

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextlib.contextmanager
def chromium_or_skip() -> Iterator[Any]:
    """Debian's Chromium for a test: skipped where it is not installed, a failure in CI (which installs it)."""
    import pytest

    executable = chromium_path()
    if executable is None:
        message = "chromium is not installed (apt-get install chromium); browser tests need it"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with chromium(executable) as browser:
        yield browser


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """No access log on stderr."""


@contextlib.contextmanager
def serve_folder(folder: Path) -> Iterator[str]:
    """Serve a folder (a built site) on 127.0.0.1 on a free port; yields its base URL, ending in '/'."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def is_local(url: str) -> bool:
    """True for 127.0.0.1 and for data: and blob: URLs, which stay inside the page."""
    parts = urlsplit(url)
    return parts.scheme in ("data", "blob") or (
        parts.scheme in ("http", "https", "ws", "wss") and parts.hostname == "127.0.0.1"
    )


@dataclass
class Tab:
    """One browser page with everything it requested and every error it logged."""

    page: Any
    base_url: str
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def open(self, path: str) -> None:
        """Load a page of the site and wait until its scripts have run."""
        self.page.goto(self.base_url + path, wait_until="networkidle")

    def outside_requests(self) -> list[str]:
        """Requests to anything but 127.0.0.1."""
        return [url for url in self.requests if not is_local(url)]


@contextlib.contextmanager
def open_tab(
    browser: Any, base_url: str, scheme: str, viewport: dict[str, int], *, touch: bool = False
) -> Iterator[Tab]:
    """A fresh context in a colour scheme and viewport, recording requests, console errors and page errors.

    `touch` makes it a phone: a touch screen that cannot hover (Material drops the keyboard focus of scrolling
    code blocks on such screens, so a phone must be tested as one). On leaving: the tab requested something
    (the recorder works), nothing left 127.0.0.1, nothing logged an error.
    """
    context = browser.new_context(color_scheme=scheme, viewport=viewport, has_touch=touch, is_mobile=touch)
    tab = Tab(context.new_page(), base_url)
    tab.page.on("request", lambda request: tab.requests.append(request.url))
    tab.page.on("console", lambda msg: tab.errors.append(msg.text) if msg.type == "error" else None)
    tab.page.on("pageerror", lambda error: tab.errors.append(str(error)))
    try:
        yield tab
    finally:
        context.close()
    assert tab.requests, "the recorder saw no request at all"
    assert tab.outside_requests() == []
    assert tab.errors == []
