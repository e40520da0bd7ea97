"""Stages ``build`` and ``clean``: validate, then render every page into docs/; or remove them again."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from generator.catalog.snapshot import read_snapshot
from generator.catalog.validate import load_catalog
from generator.errors import DataError, Problem
from generator.files import BlockedWrite
from generator.site.output import clean_pages, write_pages
from generator.site.render import render_pages

T = TypeVar("T")


def run(args: argparse.Namespace) -> int:
    """Validate, then render every page into docs/ (nothing is written if validation fails)."""
    catalog = load_catalog(args.root / "data", args.root)
    snapshot = read_snapshot(args.root)
    pages = render_pages(catalog, snapshot)
    written = _in_docs(args.root, lambda: write_pages(args.docs or args.root / "docs", pages))
    print(f"rendered {len(pages)} files into docs/ ({len(written)} changed)")
    return 0


def run_clean(args: argparse.Namespace) -> int:
    """Delete the generated pages from docs/."""
    removed = _in_docs(args.root, lambda: list(clean_pages(args.root / "docs")))
    print(f"removed {len(removed)} generated files from docs/")
    return 0


def _in_docs(root: Path, action: Callable[[], T]) -> T:
    """action's result; a link or a file in the way in docs/ becomes a DataError naming it (exit 1)."""
    try:
        return action()
    except BlockedWrite as err:
        raise DataError(
            Problem(_display(path, root), 1, 1, message) for path, message in err.blocked
        ) from err


def _display(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()
