"""Write the importer's files all or nothing.

Every file's new text is computed and validated before the first write; then each file that changes is
written atomically (or deleted). When a write fails half-way, the files already changed get their old
text back (or are removed again), so a failed import leaves data/ as it found it.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

from generator.errors import DataError, Problem
from generator.files import BlockedWrite, check_writable, write_atomic


class WriteFailed(Exception):
    """A write failed; what was written before it has been restored (the message says if not)."""


@dataclass(frozen=True)
class Changes:
    """The files an import changed, each sorted: written (new, or with new text) and removed.

    Kept apart so that a deletion is never reported as a write."""

    written: tuple[Path, ...] = ()
    removed: tuple[Path, ...] = ()


def write_all(base: Path, plan: dict[str, str | None]) -> Changes:
    """Apply plan (path under base -> new text, None to delete); return the files written and removed.

    DataError when a target is blocked (a symbolic link, a folder) or is not UTF-8 text: nothing written.
    """
    try:
        check_writable(base, plan)
    except BlockedWrite as err:
        raise DataError(Problem(_shown(base, path), 1, 1, message) for path, message in err.blocked) from err
    old = {rel: _current(base, rel) for rel in plan}
    unreadable = [rel for rel, text in old.items() if text is False]
    if unreadable:
        message = "is not UTF-8 text: move it away or fix it, then import again (nothing was written)"
        raise DataError(Problem(rel, 1, 1, message) for rel in unreadable)
    changes = sorted(rel for rel, text in plan.items() if old[rel] != text)
    done: list[str] = []
    try:
        for rel in changes:
            text = plan[rel]
            if text is None:
                (base / rel).unlink()
            else:
                write_atomic(base / rel, text)  # atomic: a failed write leaves the file as it was
            done.append(rel)
    except OSError as err:
        left = _restore(base, done, old)
        raise WriteFailed(
            f"writing {rel} failed ({err.strerror or err}); "
            + (
                f"could not restore {', '.join(left)}"
                if left
                else f"the {len(done)} files changed before it were restored"
            )
        ) from err
    return Changes(
        tuple(base / rel for rel in changes if plan[rel] is not None),
        tuple(base / rel for rel in changes if plan[rel] is None),
    )


def _current(base: Path, rel: str) -> str | bool | None:
    """The file's text; None when absent; False when it is not UTF-8 text."""
    try:
        return (base / rel).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except UnicodeDecodeError:
        return False


def _restore(base: Path, done: list[str], old: dict[str, str | bool | None]) -> list[str]:
    """Put back the old text of each file changed (newest first); the paths that could not be restored."""
    left: list[str] = []
    for rel in reversed(done):
        text = old[rel]
        try:
            if isinstance(text, str):
                write_atomic(base / rel, text)
            else:
                with contextlib.suppress(FileNotFoundError):
                    (base / rel).unlink()
        except OSError:
            left.append(rel)
    return left


def _shown(base: Path, path: Path) -> str:
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        return path.as_posix()
