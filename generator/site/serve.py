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
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

import watchfiles

from generator.errors import DataError, ExitCode, print_problems
from generator.site.build import run as run_build

TEMPLATES = Path(__file__).parent / "templates"
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)
"""Signals that end the preview like Ctrl-C does."""
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
    """Call on_change after each batch of changes under folders, until stop is set."""
    for _changes in watchfiles.watch(*folders, stop_event=stop, debounce=400, raise_interrupt=False):
        on_change()


class _Stopped(Exception):  # noqa: N818 - a signal, not an error
    """Raised in the main thread by a stop signal."""


@contextmanager
def _stop_on_signals() -> Iterator[None]:
    """Turn SIGTERM and SIGHUP into :class:`_Stopped` while the block runs (main thread only)."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise _Stopped(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, handler) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def stop_group(child: subprocess.Popen[bytes]) -> None:
    """End the child's whole process group: SIGTERM, then SIGKILL after the grace period."""
    return  # BROKEN ON PURPOSE
    if child.poll() is not None:
        return
    try:
        os.killpg(child.pid, signal.SIGTERM)
        child.wait(GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
    except ProcessLookupError:  # already gone
        child.wait()


def run(args: argparse.Namespace) -> int:
    """Render, start mkdocs serve, and re-render on every change until stopped."""
    args.docs = None
    rebuild(args)
    command = [sys.executable, "-m", "mkdocs", "serve", "--dev-addr", args.dev_addr]
    stop = threading.Event()
    with _stop_on_signals():
        child = subprocess.Popen(command, cwd=args.root, start_new_session=True)
        try:
            folders = [args.root / "data", TEMPLATES]
            threading.Thread(target=watch, args=(folders, lambda: rebuild(args), stop), daemon=True).start()
            return child.wait()
        except (KeyboardInterrupt, _Stopped):
            return ExitCode.OK
        finally:
            stop.set()
            stop_group(child)
