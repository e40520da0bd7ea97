"""The Hub snapshot: facts the link check found, committed as data/hub-snapshot.json.

The site build reads only this file, so rendering stays offline and deterministic. Writes are atomic:
a run killed at any moment leaves the previous file intact.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import ErrorDetails

from generator.errors import DataError, Problem
from generator.models import HfLink

SNAPSHOT_FORMAT = 1
Status = Literal[
    "ok",
    "moved",
    "renamed",
    "gated",
    "missing_file",
    "missing_repo",
    "missing_revision",
    "disabled",
    "unverified",
]
DEAD: frozenset[str] = frozenset({"missing_file", "missing_repo", "missing_revision", "disabled"})


class _Fact(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LinkFact(_Fact):
    """What the last check saw of one link."""

    status: Status
    checked_at: str = Field(description="UTC time of the check that produced this status (ISO 8601)")
    size: int | None = Field(default=None, description="exact size in bytes (HF files)")
    sha256: str | None = Field(default=None, description="LFS sha256 (HF files)")
    commit: str | None = Field(default=None, description="repo commit the facts were seen at")
    gated: Literal["auto", "manual"] | None = None
    new_repo: str | None = Field(default=None, description="the repo's new id when renamed")
    new_path: str | None = Field(default=None, description="the file's new path when moved")
    http_status: int | None = None
    error: str | None = Field(default=None, description="why the last check could not verify the link")
    error_at: str | None = None
    verified_at: str | None = Field(default=None, description="last time the link was actually verified")


class Snapshot(_Fact):
    """All link facts, keyed by link_key, plus header facts keyed by sha256."""

    format: int = SNAPSHOT_FORMAT
    checked_at: str | None = None
    links: dict[str, LinkFact] = {}
    headers: dict[str, dict[str, Any]] = Field(
        default={}, description="safetensors header facts keyed by the file's sha256"
    )

    def fact(self, key: str) -> LinkFact | None:
        """The facts of one link, if it was ever checked."""
        return self.links.get(key)


def link_key(link: HfLink | str) -> str:
    """A stable key naming a link: 'hf:file:owner/name/path', 'hf:repo:owner/name', 'url:https://…'."""
    if isinstance(link, str):
        return f"url:{link}"
    return f"hf:{link.kind}:{link.label}"


def load_snapshot(path: Path, display: str | None = None) -> Snapshot:
    """The snapshot at path, or an empty one when the file does not exist yet; DataError if it is broken."""
    if not path.exists():
        return Snapshot()
    shown = display or path.as_posix()
    try:
        data = json.loads(path.read_bytes())
    except UnicodeDecodeError as err:
        raise DataError([Problem(shown, 1, 1, f"not UTF-8 JSON: {err.reason}")]) from err
    except json.JSONDecodeError as err:
        raise DataError([Problem(shown, err.lineno, err.colno, f"invalid JSON: {err.msg}")]) from err
    try:
        return Snapshot.model_validate(data)
    except ValidationError as err:
        problems = [_snapshot_problem(shown, error) for error in err.errors(include_url=False)]
        raise DataError(problems) from err


def _snapshot_problem(shown: str, error: ErrorDetails) -> Problem:
    where = ".".join(str(part) for part in error["loc"]) or "file"
    return Problem(
        shown, 1, 1, f"{where}: {error['msg']} (the snapshot is written by `make check`; restore it with git)"
    )


def dump_snapshot(snapshot: Snapshot) -> str:
    """Canonical JSON text: sorted keys, two-space indent, final newline (stable diffs)."""
    data = snapshot.model_dump(mode="json", exclude_none=True)
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


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


def save_snapshot(path: Path, snapshot: Snapshot) -> bool:
    """Atomically write the snapshot; return False if the file already held the same facts."""
    return write_atomic(path, dump_snapshot(snapshot))
