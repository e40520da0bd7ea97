"""Stages ``build`` and ``clean``: validate, then render every page into docs/; or remove them again.

What a build adds to the committed data comes from the build's edge, here, never from a clock: the date of the
commit being built, when SOURCE_DATE_EPOCH gives it (as reproducible builds do; CI passes the commit's date),
and the site's address from mkdocs.yml (for the feed's links). See generator.site.freshness.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from generator.catalog.snapshot import read_snapshot
from generator.catalog.validate import load_catalog
from generator.errors import DataError, Problem
from generator.files import BlockedWrite
from generator.site.freshness import Edition, commit_date
from generator.site.output import clean_pages, write_pages
from generator.site.render import render_pages

T = TypeVar("T")


def run(args: argparse.Namespace) -> int:
    """Validate, then render every page into docs/ (nothing is written if validation fails)."""
    catalog = load_catalog(args.root / "data", args.root)
    snapshot = read_snapshot(args.root)
    pages = render_pages(catalog, snapshot, edition=edition(args.root, os.environ.get("SOURCE_DATE_EPOCH")))
    written = _in_docs(args.root, lambda: write_pages(args.docs or args.root / "docs", pages))
    print(f"rendered {len(pages)} files into docs/ ({len(written)} changed)")
    return 0


def edition(root: Path, source_date_epoch: str | None) -> Edition:
    """The commit's date (SOURCE_DATE_EPOCH; a malformed value is a problem, exit 1) and mkdocs.yml's site_url."""
    try:
        date = commit_date(source_date_epoch)
    except ValueError as err:
        raise DataError([Problem("SOURCE_DATE_EPOCH", 1, 1, str(err))]) from err
    return Edition(commit_date=date, site_url=site_url(root / "mkdocs.yml"))


def site_url(config: Path) -> str | None:
    """mkdocs.yml's top-level `site_url`, read as a line (the file may hold tags a YAML loader refuses)."""
    try:
        text = config.read_text(encoding="utf-8")
    except OSError:
        return None
    found = re.search(r"^site_url:[ \t]*['\"]?(https://[^'\"\s#]+)", text, re.MULTILINE)
    return found.group(1) if found else None


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
