"""Stage ``serve``: live preview. Re-renders docs/ whenever data/ or the templates change, while
``mkdocs serve`` reloads the browser. The watcher is ours (watchfiles, not a MkDocs hook), so
mkdocs.yml stays portable.

``mkdocs serve`` runs in a process group of its own. Whatever stops the preview -- Ctrl-C (SIGINT), an
editor's stop button or a container (SIGTERM), a closed terminal (SIGHUP) -- the whole group is ended
and the port is free again: no server is left behind.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import watchfiles

from generator.errors import DataError, ExitCode, print_problems
from generator.site.build import run as run_build

TEMPLATES = Path(__file__).parent / "templates"
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
"""Signals that end the preview: Ctrl-C, a stop button or container, a closed terminal."""
POLL_SECONDS = 0.2
"""How often the main loop looks for a stop request or a finished mkdocs."""
GRACE_SECONDS = 5.0
"""How long mkdocs serve gets to stop before it is killed."""


def rebuild(args: argparse.Namespace) -> bool:
    """Render once; print problems instead of stopping the preview. True on success."""
    try:
        run_build(args)
    except DataError as err:
        print_problems(err, stream=sys.stderr, suffix=": the preview keeps the last good pages")
        return False
    except Exception:
        traceback.print_exc()
        print("the build failed: the preview keeps the last good pages", file=sys.stderr)
        return False
    return True


def watch(folders: list[Path], on_change: Callable[[], object], stop: threading.Event) -> None:
    """Call on_change after each batch of changes under folders, until stop is set.

    Folders that do not exist are left out. If the watcher itself fails (a system limit on watches),
    the preview says so and keeps serving the last pages.
    """
    existing = [folder for folder in folders if folder.is_dir()]
    try:
        for _changes in watchfiles.watch(*existing, stop_event=stop, debounce=400, raise_interrupt=False):
            on_change()
    except Exception as err:  # the watcher thread must not die in silence
        print(f"serve: the file watcher stopped ({err}); restart serve to see new edits", file=sys.stderr)


@dataclass
class _StopRequest:
    """Set by a stop signal; read by the main loop (a plain flag: nothing that locks runs in a handler)."""

    signal: str | None = None


@contextmanager
def _stop_on_signals() -> Iterator[_StopRequest]:
    """While the block runs, SIGINT, SIGTERM and SIGHUP only record a stop request (main thread only).

    A signal that was ignored when serve started (``nohup``) stays ignored.

    A handler that raised could interrupt start-up or shut-down half-way; a flag cannot. A second
    signal during shut-down is recorded again and changes nothing.
    """
    request = _StopRequest()

    def handler(signum: int, _frame: FrameType | None) -> None:  # the signature signal.signal imposes
        request.signal = signal.Signals(signum).name

    wanted = [sig for sig in STOP_SIGNALS if signal.getsignal(sig) is not signal.SIG_IGN]  # nohup stays nohup
    previous = {sig: signal.signal(sig, handler) for sig in wanted}
    try:
        yield request
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def stop_group(child: subprocess.Popen[bytes]) -> None:
    """End the child's whole process group: SIGTERM, then SIGKILL to what is left after the grace period.

    The group is signalled even when the child itself has ended, so nothing it started stays behind.
    """
    pgid = child.pid
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:  # the whole group is gone already
        child.wait()
        return
    with suppress(subprocess.TimeoutExpired):
        child.wait(GRACE_SECONDS)
    if _wait_for_group_end(pgid, GRACE_SECONDS):
        return
    with suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)
    child.wait()
    _wait_for_group_end(pgid, GRACE_SECONDS)  # a kill is delivered asynchronously


def _wait_for_group_end(pgid: int, seconds: float) -> bool:
    """Wait until no process of the group is left (a zombie counts until it is reaped); True if none is."""
    deadline = time.monotonic() + seconds
    while _group_alive(pgid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def run(args: argparse.Namespace) -> int:
    """Render, start mkdocs serve, and re-render on every change until stopped (exit 0) or mkdocs ends."""
    args.docs = None
    rebuild(args)
    command = [sys.executable, "-m", "mkdocs", "serve", "--dev-addr", args.dev_addr]
    stop_watching = threading.Event()
    with _stop_on_signals() as request:
        child = subprocess.Popen(command, cwd=args.root, start_new_session=True)
        try:
            folders = [args.root / "data", TEMPLATES]
            watcher = threading.Thread(target=watch, args=(folders, lambda: rebuild(args), stop_watching))
            watcher.daemon = True
            watcher.start()
            while request.signal is None:
                code = child.poll()
                if code is not None:
                    return code
                time.sleep(POLL_SECONDS)
            return ExitCode.OK
        finally:
            stop_watching.set()
            stop_group(child)
