"""The Hub snapshot: facts the link check found, committed as data/hub-snapshot.json.

The site build reads only this file, so rendering stays offline and deterministic. Writes are atomic:
a run killed at any moment leaves the previous file intact.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationError
from pydantic_core import ErrorDetails

from generator.catalog import models as m
from generator.catalog.models import HfLink
from generator.errors import DataError, Problem
from generator.lora.facts import HeaderFacts

SNAPSHOT_FORMAT = 1
SNAPSHOT_FILE = "hub-snapshot.json"
"""The snapshot's name inside data/."""
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


class UnreadableHeader(_Fact):
    """A file whose bytes are not a readable safetensors header, and why (kept until its sha256 changes)."""

    unreadable: str


def _header_kind(value: object) -> str:
    if isinstance(value, UnreadableHeader) or (isinstance(value, dict) and "unreadable" in value):
        return "unreadable"
    return "facts"


StoredHeader = Annotated[
    Annotated[HeaderFacts, Tag("facts")] | Annotated[UnreadableHeader, Tag("unreadable")],
    Discriminator(_header_kind),
]
"""What the snapshot holds for one sha256: the header's facts, or why it could not be read."""


class Snapshot(_Fact):
    """All link facts, keyed by link_key, plus header facts keyed by sha256."""

    format: int = SNAPSHOT_FORMAT
    checked_at: str | None = None
    links: dict[str, LinkFact] = {}
    headers: dict[str, StoredHeader] = Field(
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


def snapshot_path(root: Path) -> Path:
    """Where the project under root keeps its snapshot: data/hub-snapshot.json."""
    return root / "data" / SNAPSHOT_FILE


def read_snapshot(root: Path) -> Snapshot:
    """The project's snapshot (empty when there is none yet)."""
    return load_snapshot(snapshot_path(root), f"data/{SNAPSHOT_FILE}")


def _snapshot_problem(shown: str, error: ErrorDetails) -> Problem:
    where = ".".join(str(part) for part in error["loc"]) or "file"
    return Problem(
        shown, 1, 1, f"{where}: {error['msg']} (the snapshot is written by `make check`; restore it with git)"
    )


def dump_snapshot(snapshot: Snapshot) -> str:
    """Canonical JSON text: sorted keys, two-space indent, final newline (stable diffs).

    Link facts leave out empty fields; header facts are written whole (their ``None`` says "not shown").
    """
    data = snapshot.model_dump(mode="json", exclude_none=True, exclude={"headers"})
    data["headers"] = {sha: stored.model_dump(mode="json") for sha, stored in snapshot.headers.items()}
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# --- reading the stored facts (pure) ----------------------------------------------------------------


def stored_header(snapshot: Snapshot, lora: m.Lora) -> HeaderFacts | UnreadableHeader | None:
    """What the snapshot holds for the LoRA's file (by its last seen sha256), if anything."""
    fact = snapshot.fact(link_key(lora.file.link))
    return snapshot.headers.get(fact.sha256) if fact and fact.sha256 else None


def facts_of(snapshot: Snapshot, lora: m.Lora) -> HeaderFacts | None:
    """The stored header facts of a LoRA's file, if its header was read."""
    stored = stored_header(snapshot, lora)
    return stored if isinstance(stored, HeaderFacts) else None


def unreadable_of(snapshot: Snapshot, lora: m.Lora) -> str | None:
    """Why the LoRA's file has no header facts, when it is not a readable safetensors file."""
    stored = stored_header(snapshot, lora)
    return stored.unreadable if isinstance(stored, UnreadableHeader) else None
