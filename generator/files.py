"""Writing files so that a reader never sees half of one."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path


def write_atomic(path: Path, text: str, *, durable: bool = True) -> bool:
    """Write text to path through a temporary file and a rename; return False if unchanged.

    A reader never sees a half-written file, even if the process is killed. `durable` also fsyncs
    before the rename, so the new text survives a power loss (the snapshot; not needed for build output).
    """
    try:
        if path.read_text(encoding="utf-8") == text:
            return False
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        mode = 0o644
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


def temporary_files(path: Path) -> list[Path]:
    """The temporary files write_atomic leaves next to path when it is killed mid-write (.NAME.XXXX.tmp)."""
    return sorted(path.parent.glob(f".{path.name}.*.tmp"))


def remove_stale_temporaries(path: Path) -> int:
    """Remove what killed writes of path left behind; the number removed (a file that cannot go stays).

    Only safe while no other process writes path: the caller holds :func:`exclusive` on its folder.
    """
    removed = 0
    for stale in temporary_files(path):
        with contextlib.suppress(OSError):
            stale.unlink()
            removed += 1
    return removed


class Busy(Exception):
    """Another process holds the lock on a folder."""


@contextlib.contextmanager
def exclusive(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on folder while the block runs; Busy at once if another process holds it.

    The lock is the kernel's (flock on the folder itself): it needs no lock file, works in a read-only folder,
    and ends with the process however it ends (a killed run leaves no stale lock behind).
    """
    import fcntl  # POSIX only, and only `check` takes the lock: validate and build keep working elsewhere

    descriptor = os.open(folder, os.O_RDONLY)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as err:
            raise Busy(str(folder)) from err
        yield
    finally:
        os.close(descriptor)  # closing the last descriptor releases the lock


_BLOCKED = {
    "a symbolic link": "files are written only inside {base}/, never through a link; remove the link",
    "not a folder": "files are written into a folder of this name; move the file away",
    "not a regular file": "a file is written here; move this away",
}


class BlockedWrite(Exception):
    """Paths that would send written files elsewhere (a symbolic link) or cannot hold them: (path, message)."""

    def __init__(self, blocked: list[tuple[Path, str]]) -> None:
        self.blocked = blocked
        super().__init__("; ".join(f"{path}: {message}" for path, message in blocked))


def check_writable(base: Path, paths: Iterable[str]) -> None:
    """BlockedWrite naming every link or misplaced file on the way to base/PATH, for each of paths.

    Called before anything is written: a symbolic link (base itself, a folder below it, or the file) would make
    the write land outside base; a file where a folder belongs, or a folder or FIFO where a file belongs, would
    fail halfway (or, for a FIFO, wait forever).
    """
    blocked: dict[Path, str] = {}
    for rel in paths:
        found = blocked_write(base, rel)
        if found is not None:
            path, reason = found
            blocked[path] = f"{reason}: {_BLOCKED[reason].format(base=base.name)}"
    if blocked:
        raise BlockedWrite(sorted(blocked.items()))


def blocked_write(base: Path, rel: str) -> tuple[Path, str] | None:
    """What keeps base/rel from being written in place: (the path, 'a symbolic link', 'not a folder' or 'not a
    regular file'); None when nothing does.

    Writing follows symbolic links: a linked folder (base itself or one on the way) would put the file
    wherever the link points, and reading a FIFO never ends. So every existing part from base down must be a
    real folder, and the file itself a regular file or absent. Parts above base are the caller's choice.
    """
    path = base
    parts = rel.split("/")
    for index, part in enumerate(["", *parts]):
        path = path / part if part else path
        try:
            mode = path.lstat().st_mode
        except FileNotFoundError:
            return None  # what follows is created by the write
        last = index == len(parts)
        if stat.S_ISLNK(mode):
            return path, "a symbolic link"
        if last and not stat.S_ISREG(mode):
            return path, "not a regular file"
        if not last and not stat.S_ISDIR(mode):
            return path, "not a folder"
    return None
