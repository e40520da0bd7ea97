"""The Hub snapshot: facts the link check found, committed as data/hub-snapshot.json.

The site build reads only this file, so rendering stays offline and deterministic. Writes are atomic:
a run killed at any moment leaves the previous file intact.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    ValidationError,
)
from pydantic_core import ErrorDetails

from generator.catalog import models as m
from generator.catalog.models import HfLink
from generator.catalog.positions import json_position, line_col, position_in_message
from generator.errors import DataError, Problem
from generator.lora.facts import ANALYSER_VERSION, MAX_COUNT, Count, HeaderFacts, Line
from generator.text import refuse_unsafe

SNAPSHOT_FORMAT: Literal[1] = 1
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
PLACED_ERRORS = 100
"""Errors of a broken snapshot shown with their line; the rest are counted (each placement reads the text)."""
MAX_SNAPSHOT_BYTES = 128_000_000
"""Largest snapshot read (10,000 inspected LoRAs take about 100 MB); a bigger file is refused unread."""


def _utc_time(value: str) -> str:
    dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")  # a real date and time, not only the right shape
    return value


Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
"""A file's LFS sha256: 64 lower-case hex digits."""
Commit = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{40}$")]
UtcTime = Annotated[
    str,
    StringConstraints(pattern=r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"),
    AfterValidator(_utc_time),
    Field(description="UTC time, ISO 8601 to the second: 2026-11-26T12:00:00Z"),
]
FileSize = Annotated[int, Field(ge=0, le=MAX_COUNT)]
LinkKey = Annotated[
    str,
    StringConstraints(pattern=r"^(hf:(file|folder|repo|user):\S.*|url:https://\S+)$", max_length=2100),
    AfterValidator(refuse_unsafe),
    Field(
        description="'hf:KIND:owner/name/path' (a path may hold spaces and any script's letters) or 'url:https://…'"
    ),
]


class _Fact(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class LinkFact(_Fact):
    """What the last check saw of one link."""

    status: Status
    checked_at: UtcTime = Field(description="UTC time of the check that produced this status")
    size: FileSize | None = Field(default=None, description="exact size in bytes (HF files)")
    sha256: Sha256 | None = Field(default=None, description="LFS sha256 (HF files)")
    commit: Commit | None = Field(default=None, description="repo commit the facts were seen at")
    gated: Literal["auto", "manual"] | None = None
    new_repo: m.RepoId | None = Field(default=None, description="the repo's new id when renamed")
    new_path: m.RepoPath | None = Field(default=None, description="the file's new path when moved")
    http_status: int | None = Field(default=None, ge=100, le=999)  # any three-digit status a server sends
    verified_at: UtcTime | None = Field(
        default=None, description="when these facts were first verified (kept while they stay the same)"
    )


class UnreadableHeader(_Fact):
    """A file whose bytes are not a readable safetensors header, and why (kept until its sha256 changes)."""

    unreadable: Line
    analyser: Count = Field(default=0, description="ANALYSER_VERSION that judged the bytes unreadable")


def is_current(stored: HeaderFacts | UnreadableHeader) -> bool:
    """True when the stored result comes from today's analyser (older ones are read once more)."""
    return stored.analyser >= ANALYSER_VERSION


def _header_kind(value: object) -> str:
    if isinstance(value, UnreadableHeader) or (isinstance(value, dict) and "unreadable" in value):
        return "unreadable"
    return "facts"


StoredHeader = Annotated[
    Annotated[HeaderFacts, Tag("facts")] | Annotated[UnreadableHeader, Tag("unreadable")],
    Discriminator(_header_kind),
]
"""What the snapshot holds for one sha256: the header's facts, or why it could not be read."""


FolderKey = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9_.\-]+/[A-Za-z0-9_.\-]+:", max_length=1300),
    AfterValidator(refuse_unsafe),
    Field(description="'owner/name:folder/path' ('owner/name:' for the repo's root)"),
]


SUMMARY_CHARACTERS = 300
"""Longest header summary kept for a candidate: what is kept per candidate stays bounded."""
Summary = Annotated[str, StringConstraints(max_length=SUMMARY_CHARACTERS), AfterValidator(refuse_unsafe)]
"""One line of at most SUMMARY_CHARACTERS characters: no line break, control or invisible character."""


class CandidateHeader(_Fact):
    """What a candidate's header says, in one bounded line (its full facts are read once it is catalogued)."""

    summary: Summary = Field(description="rank, precision and fitting architectures, or why it is unreadable")
    analyser: Count = Field(
        default=0, description="ANALYSER_VERSION that read it (older ones are read again)"
    )


class Candidate(_Fact):
    """A .safetensors file that appeared in a followed folder: not in the catalog yet."""

    repo: m.RepoId
    path: m.RepoPath
    size: FileSize | None = None
    sha256: Sha256 | None = None
    found_at: UtcTime = Field(description="the check that first saw it")
    header: CandidateHeader | None = Field(default=None, description="what its header says, once read")
    unread_since: UtcTime | None = Field(
        default=None, description="the first check whose header read failed, while reads keep failing"
    )

    @property
    def link(self) -> HfLink:
        """The file as an HF link."""
        return HfLink(kind="file", repo=self.repo, path=self.path)

    @property
    def add_command(self) -> str:
        """The one command that turns the candidate into a data file."""
        return f"python -m generator add {self.link.url}"

    @property
    def header_line(self) -> str:
        """One line on what the header says, or that it was not read yet."""
        return self.header.summary if self.header is not None else "header not read yet"


class NotLora(_Fact):
    """A file of a followed folder whose header shows it is no LoRA (a full model, a VAE, an encoder).

    Kept so that it is not read again while its sha256 stays the same; never proposed."""

    sha256: Sha256
    reason: Summary


class Snapshot(_Fact):
    """All link facts, keyed by link_key, plus header facts keyed by sha256."""

    format: Literal[1] = SNAPSHOT_FORMAT
    checked_at: UtcTime | None = None
    links: dict[LinkKey, LinkFact] = {}
    headers: dict[Sha256, StoredHeader] = Field(
        default={}, description="safetensors header facts keyed by the file's sha256"
    )
    followed: dict[FolderKey, tuple[Line, ...]] = Field(
        default={}, description="the .safetensors file names each followed folder held at the last check"
    )
    candidates: dict[LinkKey, Candidate] = Field(
        default={}, description="files that appeared in a followed folder, keyed by link_key"
    )
    not_loras: dict[LinkKey, NotLora] = Field(
        default={}, description="files of followed folders whose header shows no LoRA, keyed by link_key"
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
    """The snapshot at path, or an empty one when the file does not exist yet; DataError if it is broken.

    Every field's format is checked (hashes, times, sizes, header facts), each error naming its JSON path
    and line: the file comes in through pull requests and the Hub's answers, so it is untrusted.
    """
    shown = display or path.as_posix()
    text = _read_text(path, shown)
    if text is None:
        return Snapshot()
    try:
        return Snapshot.model_validate_json(text, strict=True)
    except ValidationError as err:
        errors = err.errors(include_url=False)
        problems = [_snapshot_problem(shown, text, error) for error in errors[:PLACED_ERRORS]]
        if len(errors) > PLACED_ERRORS:  # placing each error walks the text: a bounded number of walks
            more = len(errors) - PLACED_ERRORS
            problems.append(Problem(shown, 1, 1, f"… and {more:,} more errors (restore the file with git)"))
        raise DataError(problems) from err


def _read_text(path: Path, shown: str) -> str | None:
    """The file's text, read only if it is a regular file of a sane size (None when it does not exist)."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(info.st_mode):
        raise DataError(
            [Problem(shown, 1, 1, "not a regular file (a symlink, folder or device); restore it with git")]
        )
    if info.st_size > MAX_SNAPSHOT_BYTES:
        raise DataError(
            [Problem(shown, 1, 1, f"larger than {MAX_SNAPSHOT_BYTES:,} bytes; restore it with git")]
        )
    with path.open("rb") as stream:
        raw = stream.read(MAX_SNAPSHOT_BYTES + 1)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line, col = line_col(raw[: err.start].decode("utf-8", errors="replace"), err.start)
        raise DataError([Problem(shown, line, col, f"not UTF-8 JSON: {err.reason}")]) from err


def snapshot_path(root: Path) -> Path:
    """Where the project under root keeps its snapshot: data/hub-snapshot.json."""
    return root / "data" / SNAPSHOT_FILE


def read_snapshot(root: Path) -> Snapshot:
    """The project's snapshot (empty when there is none yet)."""
    return load_snapshot(snapshot_path(root), f"data/{SNAPSHOT_FILE}")


def _snapshot_problem(shown: str, text: str, error: ErrorDetails) -> Problem:
    hint = "(the snapshot is written by `make check`; restore it with git)"
    if error["type"] == "json_invalid":
        detail = str((error.get("ctx") or {}).get("error", error["msg"]))
        line, col = position_in_message(detail) or (1, 1)
        return Problem(shown, line, col, f"invalid JSON: {detail.split(' at line ')[0]} {hint}")
    (line, col), found = json_position(text, tuple(error["loc"]))
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "missing":
        message = f"missing required field '{error['loc'][-1]}'"
    return Problem(shown, line, col, f"{_json_path(found)}: {message} {hint}")


def _json_path(parts: tuple[int | str, ...]) -> str:
    """links["hf:file:o/r/x.safetensors"].sha256: a path a reader can follow in the file."""
    path = "".join(
        f".{part}" if isinstance(part, str) and part.isidentifier() else f"[{json.dumps(part)}]"
        for part in parts
    )
    return path.lstrip(".") or "file"


def dump_snapshot(snapshot: Snapshot) -> str:
    """Canonical JSON text: sorted keys, two-space indent, final newline (stable diffs).

    Link facts leave out empty fields; header facts are written whole (their ``None`` says "not shown").
    """
    empty = {name for name in ("followed", "candidates", "not_loras") if not getattr(snapshot, name)}
    data = snapshot.model_dump(mode="json", exclude_none=True, exclude={"headers", *empty})
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


def header_summary(stored: HeaderFacts | UnreadableHeader | None) -> str:
    """One line: rank, precision and the architectures the header fits (or why there is none)."""
    if stored is None:
        return "header not read yet"
    if isinstance(stored, UnreadableHeader):
        return stored.unreadable
    rank = stored.rank
    ranks = str(rank.nominal) if rank.kind == "uniform" else rank.kind
    by_answer: dict[str, list[str]] = {}
    for arch, verdict in stored.fits.items():
        by_answer.setdefault(verdict.verdict, []).append(arch)
    if by_answer.get("fits"):
        where = f"fits {', '.join(by_answer['fits'])}"
    elif by_answer.get("partial"):
        where = f"fits {', '.join(by_answer['partial'])} in part"
    elif by_answer.get("unknown"):
        where = "fit unknown"
    else:
        where = "fits no architecture"
    return f"rank {ranks}, {stored.precision.label}, {where}"
