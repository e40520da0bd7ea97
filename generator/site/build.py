"""Stages ``build`` and ``clean``: validate, then render every page into docs/; or remove them again."""

from __future__ import annotations

import argparse

from generator.catalog.snapshot import read_snapshot
from generator.catalog.validate import load_catalog
from generator.site.render import clean_pages, render_pages, write_pages


def run(args: argparse.Namespace) -> int:
    """Validate, then render every page into docs/ (nothing is written if validation fails)."""
    catalog = load_catalog(args.root / "data", args.root)
    snapshot = read_snapshot(args.root)
    pages = render_pages(catalog, snapshot)
    written = write_pages(args.docs or args.root / "docs", pages)
    print(f"rendered {len(pages)} files into docs/ ({len(written)} changed)")
    return 0


def run_clean(args: argparse.Namespace) -> int:
    """Delete the generated pages from docs/."""
    removed = list(clean_pages(args.root / "docs"))
    print(f"removed {len(removed)} generated files from docs/")
    return 0
