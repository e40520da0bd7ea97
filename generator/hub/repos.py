"""Hugging Face links: the facts of every catalog link, asked the way the Hub works.

One ``model_info(repo, files_metadata=True)`` per distinct repo answers, in one API call, whether the repo
exists, is gated, disabled or renamed (the Hub's relative 307 is followed by the client; a rename shows as
``info.id != requested``), and gives every sibling's size and LFS sha256. Files and folders are looked up
in the siblings; a file gone from its path whose previous sha256 (from the snapshot) sits at another
sibling path is *moved* -- found without any further call. Users and organisations cost one or two
overview calls; other ``https`` links are probed by :mod:`generator.hub.urls`.

Transient failures are retried by :mod:`generator.hub.retry` and paced by :mod:`generator.hub.pacing`.

Status mapping:

=========================================  ==============================================
what the Hub / server said                  status
=========================================  ==============================================
``RepositoryNotFoundError`` (401/404)       ``missing_repo`` (also a missing user/org)
``RevisionNotFoundError``                   ``missing_revision``
``DisabledRepoError`` or ``disabled: true``  ``disabled``
file or folder not among the siblings       ``missing_file`` (``moved`` if its sha256 sits elsewhere)
``info.id != requested``                    ``renamed`` (``new_repo``)
``gated: auto|manual``                      ``gated``
https link: 404 / 410                       ``missing_file`` (the page is gone)
408/429/5xx, timeouts, resets, bad JSON     retried, then ``unverified`` with the error
any other answer (401, 403, 400 …)          ``unverified`` with the error (never dead)
an answer lacking what we need or malformed ``unverified`` (never dead)
=========================================  ==============================================

The Hub's answers are untrusted: a repo id, commit, path, size or sha256 that does not have the Hub's
own format is never stored; a 200 without its file list cannot say a file is missing.

Dead beats moved beats renamed beats gated: a file missing from a renamed repo is ``missing_file`` with
``new_repo`` set.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import TypeAdapter, ValidationError

from generator.catalog.models import HfLink, RepoId, RepoPath
from generator.catalog.snapshot import Commit, FileSize, Sha256, Status, link_key
from generator.hub.client import (
    DisabledRepoError,
    GatedRepoError,
    HfApi,
    HfHubHTTPError,
    ModelInfo,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from generator.hub.findings import Finding, Listing, unverified
from generator.hub.retry import Retrier, Unverified


@dataclass(frozen=True)
class RepoQuery:
    """All catalog links into one repo; ``known_sha256`` maps paths to their last seen sha256 (for moves)."""

    repo: str
    links: tuple[HfLink, ...]
    known_sha256: Mapping[str, str] = field(default_factory=dict)
    revision: str | None = None


class HubChecker:
    """Checks repo groups and users through one HfApi, one Retrier and one Pacer."""

    def __init__(self, api: HfApi, retrier: Retrier) -> None:
        self.api, self.retrier = api, retrier
        self.listings: dict[str, Listing] = {}
        """Each repo's files as this run's model_info listed them (for discovery: no extra call)."""

    def check_repo(self, query: RepoQuery) -> dict[str, Finding]:
        """A finding per link of the query, from one model_info call (plus its retries)."""
        try:
            info = self.retrier.call(lambda: self._model_info(query))
        except Unverified as err:
            return dict.fromkeys(map(link_key, query.links), unverified(str(err)))
        except HfHubHTTPError as err:
            return dict.fromkeys(map(link_key, query.links), _repo_failure(err))
        except (ValueError, TypeError, KeyError, AttributeError) as err:  # huggingface_hub could not read it
            return dict.fromkeys(map(link_key, query.links), malformed(f"{type(err).__name__}"))
        base = _repo_finding(info, query.repo)
        if base.status == "unverified":
            return dict.fromkeys(map(link_key, query.links), base)
        files = _Siblings.of(info)
        listing = files.listing()
        if listing is not None:
            self.listings[query.repo] = listing
        return {link_key(link): _link_finding(link, base, files, query.known_sha256) for link in query.links}

    def check_user(self, name: str) -> Finding:
        """``ok`` when a user or an organisation of that name exists, ``missing_repo`` when neither does."""
        lookups: Sequence[Callable[[], object]] = (
            lambda: self.api.get_user_overview(name),
            lambda: self.api.get_organization_overview(name),
        )
        try:
            for lookup in lookups:
                if self._exists(lookup):
                    return Finding("ok")
        except Unverified as err:
            return unverified(str(err))
        except HfHubHTTPError as err:
            return _repo_failure(err)
        return Finding("missing_repo", http_status=404)

    def _exists(self, lookup: Callable[[], object]) -> bool:
        try:
            self.retrier.call(lookup)
        except HfHubHTTPError as err:
            if err.response.status_code == 404:
                return False
            raise
        except (ValueError, TypeError, KeyError, AttributeError) as err:  # an answer the client cannot read
            raise Unverified(f"the Hub's answer is malformed ({type(err).__name__})") from err
        return True

    def _model_info(self, query: RepoQuery) -> ModelInfo:
        return self.api.model_info(
            query.repo, revision=query.revision, files_metadata=True, timeout=self.retrier.policy.timeout
        )


def _repo_failure(err: HfHubHTTPError) -> Finding:
    """Map a final (non-transient) Hub error; catch order of hub-api.md §8."""
    status = err.response.status_code
    if isinstance(err, GatedRepoError):
        return Finding("gated", http_status=status)
    if isinstance(err, RepositoryNotFoundError):
        return Finding("missing_repo", http_status=status)
    if isinstance(err, RevisionNotFoundError):
        return Finding("missing_revision", http_status=status)
    if isinstance(err, DisabledRepoError):
        return Finding("disabled", http_status=status)
    if status in (404, 410):
        return Finding("missing_repo", http_status=status)
    return unverified(f"HTTP {status}: {err.server_message or 'no message'}", status)


def malformed(what: str) -> Finding:
    """The finding for an answer we cannot trust: unverified, never dead."""
    return unverified(f"the Hub's answer is malformed ({what})")


_SURROGATE = re.compile("[\ud800-\udfff]")
_REPO_ID: TypeAdapter[str] = TypeAdapter(RepoId)
_COMMIT: TypeAdapter[str] = TypeAdapter(Commit)
_PATH: TypeAdapter[str] = TypeAdapter(RepoPath)
_SIZE: TypeAdapter[int] = TypeAdapter(FileSize, config={"strict": True})
_SHA256: TypeAdapter[str] = TypeAdapter(Sha256)


def _valid(adapter: TypeAdapter[Any], value: object) -> bool:
    try:
        adapter.validate_python(value)
    except ValidationError:
        return False
    return True


def _repo_finding(info: ModelInfo, requested: str) -> Finding:
    """The repo-level verdict shared by every link into it (unverified when the answer is malformed)."""
    if not _valid(_REPO_ID, info.id):
        return malformed("repo id")
    if info.sha is not None and not _valid(_COMMIT, info.sha):
        return malformed("commit")
    if info.gated not in (None, False, "auto", "manual") or info.disabled not in (None, False, True):
        return malformed("gated or disabled flag")
    gated = info.gated if info.gated in ("auto", "manual") else None
    new_repo = info.id if info.id != requested else None
    status: Status = "ok"
    if info.disabled:
        status = "disabled"
    elif new_repo is not None:
        status = "renamed"
    elif gated is not None:
        status = "gated"
    return Finding(status, commit=info.sha, gated=gated, new_repo=new_repo)


@dataclass(frozen=True)
class _Siblings:
    """The repo's files as model_info listed them, each judged on its own; ``files`` is None when it listed none.

    A name is kept in ``files`` (path -> size, sha256) when the catalog can hold it and its facts have the Hub's
    format; in ``unsure`` when its size or sha256 do not (that file's link is unverified, no other); in ``odd``
    when it is a real name the catalog cannot hold (an invisible character, 1,001 characters): skipped, it says
    nothing about any catalogued file. Only a name no repository can have (not a string, empty, a NUL, an
    empty, '.' or '..' segment, a lone surrogate) goes to ``malformed``: the answer itself is broken and may
    have mangled the very file looked for, so no file of the repo is called missing on its word.
    """

    files: Mapping[str, tuple[int | None, str | None]] | None
    malformed: frozenset[str] = frozenset()
    unsure: frozenset[str] = frozenset()
    odd: frozenset[str] = frozenset()

    @classmethod
    def of(cls, info: ModelInfo) -> _Siblings:
        if not isinstance(info.siblings, list):
            return cls(None)
        files: dict[str, tuple[int | None, str | None]] = {}
        malformed: set[str] = set()
        unsure: set[str] = set()
        odd: set[str] = set()
        for sibling in info.siblings:
            name = getattr(sibling, "rfilename", None)
            size = getattr(sibling, "size", None)
            lfs = getattr(sibling, "lfs", None)
            sha256 = getattr(lfs, "sha256", None) if lfs is not None else None
            if not isinstance(name, str) or not hub_can_hold(name):
                malformed.add(name if isinstance(name, str) else repr(name))
            elif not _valid(_PATH, name):
                odd.add(name)
            elif (size is None or _valid(_SIZE, size)) and (sha256 is None or _valid(_SHA256, sha256)):
                files[name] = (size, sha256)
            else:
                unsure.add(name)
        return cls(files, frozenset(malformed), frozenset(unsure), frozenset(odd))

    def listing(self) -> Listing | None:
        """The files for discovery (None when none were listed); a broken list says why it is not used."""
        if self.files is None:
            return None
        if self.malformed:
            why = (
                f"the Hub's file list holds {len(self.malformed)} name(s) no repository can have "
                "(not text, empty, a NUL, an empty, '.' or '..' segment, a lone surrogate)"
            )
            return Listing({}, broken=why)
        return Listing(self.files, self.unsure, self.odd)

    def has_folder(self, path: str) -> bool:
        prefix = f"{path}/"
        names = (*(self.files or ()), *self.unsure, *self.odd)
        return any(name.startswith(prefix) for name in names)

    def path_of(self, sha256: str) -> str | None:
        """The one path holding this sha256 (None when absent or ambiguous)."""
        paths = sorted(name for name, (_, digest) in (self.files or {}).items() if digest == sha256)
        return paths[0] if len(paths) == 1 else None


def hub_can_hold(name: str) -> bool:
    """True for a name some repository can have: git's rules (no NUL, no empty, '.' or '..' segment) in UTF-8.

    Whether the catalog can hold it too is :data:`~generator.catalog.fields.RepoPath`'s question.
    """
    if not name or "\x00" in name or _SURROGATE.search(name):
        return False
    return all(part not in ("", ".", "..") for part in name.split("/"))


def _link_finding(link: HfLink, base: Finding, siblings: _Siblings, known: Mapping[str, str]) -> Finding:
    """One link's finding from the repo verdict and the sibling list."""
    if base.status == "disabled" or link.kind == "repo":
        return base
    assert link.path is not None
    if siblings.files is None:
        return malformed("no file list")
    if link.kind == "folder":
        if siblings.has_folder(link.path):
            return base
        return malformed("file list") if siblings.malformed else replace(base, status="missing_file")
    if link.path in siblings.files:
        size, sha256 = siblings.files[link.path]
        return replace(base, size=size, sha256=sha256)
    if link.path in siblings.unsure:
        return malformed("size or sha256 of this file")
    previous = known.get(link.path)
    new_path = siblings.path_of(previous) if previous else None
    if new_path is None:
        return malformed("file list") if siblings.malformed else replace(base, status="missing_file")
    size, sha256 = siblings.files[new_path]
    return replace(base, status="moved", size=size, sha256=sha256, new_path=new_path)


def group_by_repo(links: Iterable[HfLink]) -> dict[str, tuple[HfLink, ...]]:
    """Repo and file/folder links grouped by repo id (user links are left out), in a stable order."""
    groups: dict[str, list[HfLink]] = {}
    for link in links:
        if link.kind != "user":
            groups.setdefault(link.repo, []).append(link)
    return {repo: tuple(sorted(group, key=link_key)) for repo, group in sorted(groups.items())}
