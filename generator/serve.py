"""`serve`: live preview. Re-renders docs/ whenever data/ or the templates change, while `mkdocs serve`
reloads the browser. The watcher is ours (not a MkDocs hook), so mkdocs.yml stays portable."""

from __future__ import annotations

import argparse
import stat
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path

from generator.cli_basic import run_build
from generator.errors import DataError, count_line

Stamp = dict[str, int]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """--dev-addr and --interval."""
    parser.add_argument("--dev-addr", default="127.0.0.1:8000", help="address for mkdocs serve")
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between checks for changes")


def stamp(folders: Iterable[Path]) -> Stamp:
    """Modification times and sizes of every file under the folders (files vanishing meanwhile are skipped)."""
    found: Stamp = {}
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            try:
                info = path.stat()
            except OSError:  # an editor's temporary file, gone already
                continue
            if stat.S_ISREG(info.st_mode):
                found[str(path)] = info.st_mtime_ns + info.st_size
    return found


def rebuild(args: argparse.Namespace) -> bool:
    """Render once; print problems instead of stopping the preview. True on success."""
    try:
        run_build(args)
    except DataError as err:
        for problem in err.problems:
            print(problem, file=sys.stderr)
        print(f"{count_line(len(err.problems))}: the preview keeps the last good pages", file=sys.stderr)
        return False
    except Exception:
        traceback.print_exc()
        print("the build failed: the preview keeps the last good pages", file=sys.stderr)
        return False
    return True


def watch(
    folders: list[Path], on_change: Callable[[], object], interval: float, stop: threading.Event
) -> None:
    """Call on_change each time a file under folders changes, until stop is set."""
    last = stamp(folders)
    while not stop.wait(interval):
        now = stamp(folders)
        if now != last:
            last = now
            on_change()


def run(args: argparse.Namespace) -> int:
    """Render, start mkdocs serve, and re-render on every change until interrupted."""
    args.docs = None
    rebuild(args)
    folders = [args.root / "data", Path(__file__).parent / "templates"]
    stop = threading.Event()
    watcher = threading.Thread(
        target=watch, args=(folders, lambda: rebuild(args), args.interval, stop), daemon=True
    )
    watcher.start()
    command = [sys.executable, "-m", "mkdocs", "serve", "--dev-addr", args.dev_addr]
    try:
        return subprocess.call(command, cwd=args.root)
    except KeyboardInterrupt:
        return 0
    finally:
        stop.set()
