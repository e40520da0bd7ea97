"""Write the rendered pages into docs/ (stage `build`), or remove them again (stage `clean`).

docs/ holds hand-written files too: a manifest (docs/.generated) lists what the generator owns. Nothing is
written through a symbolic link or deleted outside docs/, whatever the working tree holds.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from generator.files import check_writable, write_atomic

MANIFEST = ".generated"


def write_pages(docs_dir: Path, pages: dict[str, str]) -> list[str]:
    """Write pages atomically (only those that changed) and delete stale generated files.

    Returns the paths that were written. A manifest remembers what the generator owns in docs/, so
    hand-written files there are never touched. Nothing is written when a path in docs/ is a symbolic link
    or in the way: :func:`~generator.files.check_writable` raises BlockedWrite first.
    """
    check_writable(docs_dir, [*pages, MANIFEST])
    written = [
        rel for rel, text in sorted(pages.items()) if write_atomic(docs_dir / rel, text, durable=False)
    ]
    for stale in sorted(set(_manifest(docs_dir)) - set(pages)):
        _remove(docs_dir / stale)
    write_atomic(docs_dir / MANIFEST, "".join(f"{rel}\n" for rel in sorted(pages)))
    return written


def clean_pages(docs_dir: Path) -> Iterable[str]:
    """Remove every generated file listed in the manifest; yield their paths (nothing when docs/ is a link)."""
    check_writable(docs_dir, [MANIFEST])
    for rel in _manifest(docs_dir):
        _remove(docs_dir / rel)
        yield rel
    (docs_dir / MANIFEST).unlink(missing_ok=True)


def _manifest(docs_dir: Path) -> list[str]:
    """The files the last build wrote, from its manifest: only paths inside docs_dir, the rest is ignored.

    The manifest is a file in the working tree, so anyone can edit it: a path such as ../README.md, an
    absolute path or one through a symbolic link leading out of docs/ is never deleted.
    """
    manifest = docs_dir / MANIFEST
    if manifest.is_symlink() or not manifest.is_file():
        return []
    return [rel for rel in manifest.read_text(encoding="utf-8").split() if _inside(docs_dir, rel)]


def _remove(path: Path) -> None:
    """Delete a generated file, or the link in its place; a folder of that name is left alone."""
    if path.is_symlink() or not path.is_dir():
        path.unlink(missing_ok=True)


def _inside(docs_dir: Path, rel: str) -> bool:
    """True if rel is a relative path without '..' whose folder really is docs_dir or below it."""
    path = PurePosixPath(rel)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        return False
    return (docs_dir / path).parent.resolve().is_relative_to(docs_dir.resolve())
