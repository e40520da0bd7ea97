"""Discovery, at no extra cost: files that appear next to the catalogued ones, "not in the catalog yet".

The one ``model_info(files_metadata=True)`` per repo that the check makes anyway lists every file of the
repos we follow. A *followed folder* is a folder that holds a catalogued LoRA (the repo's root only when a
catalogued LoRA sits there). The first run records what each followed folder holds and proposes nothing;
later runs turn each ``.safetensors`` file that appeared there into a *candidate*, kept in the snapshot
(so that rendering stays pure) until it is catalogued or gone. Candidates are not "new": that is a word
only a source may say.

Pure: the listings come from :class:`generator.hub.repos.HubChecker`; no call is made here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from generator.catalog.fields import check_repo_path
from generator.catalog.models import HfLink
from generator.catalog.snapshot import Candidate, Snapshot, header_summary, link_key
from generator.catalog.validate import Catalog
from generator.hub.findings import Listing
from generator.hub.report import CandidateRow, DiscoveryNote

HEADER_READS = 20
"""Candidate headers read per run, at most (the rest are read by the next runs)."""


def followed_folders(catalog: Catalog) -> dict[str, frozenset[str]]:
    """Repo id -> the folders holding a catalogued LoRA ("" for the repo's root)."""
    folders: dict[str, set[str]] = {}
    for lora in catalog.loras:
        folders.setdefault(lora.file.repo, set()).add(lora.file.path.rpartition("/")[0])
    return {repo: frozenset(found) for repo, found in sorted(folders.items())}


def folder_key(repo: str, folder: str) -> str:
    """'owner/name:folder' (the snapshot's key of a followed folder)."""
    return f"{repo}:{folder}"


def discover(
    catalog: Catalog, snapshot: Snapshot, listings: Mapping[str, Listing], now: str
) -> tuple[Snapshot, tuple[DiscoveryNote, ...]]:
    """The snapshot with this run's followed folders and candidates (unchanged when nothing appeared), and
    what discovery could not do (a file name the catalog cannot hold, a file list it cannot trust)."""
    catalogued = {(lora.file.repo, lora.file.path) for lora in catalog.loras}
    followed: dict[str, tuple[str, ...]] = {}
    candidates = dict(snapshot.candidates)
    notes: list[DiscoveryNote] = []
    for repo, folders in followed_folders(catalog).items():
        files = listings.get(repo)
        if files is not None and files.broken is not None:
            notes.append(DiscoveryNote(repo, f"discovery skipped this run: {files.broken}"))
        for folder in sorted(folders):
            key = folder_key(repo, folder)
            if (
                files is None or files.broken is not None
            ):  # not listed this run (unverified): keep what we knew
                if key in snapshot.followed:
                    followed[key] = snapshot.followed[key]
                continue
            notes.extend(_odd_names(repo, folder, files))
            present = _safetensors_in(files, folder)
            followed[key] = tuple(
                sorted({path.rpartition("/")[2] for path in (*present, *_unsure_in(files, folder))})
            )
            seen = snapshot.followed.get(key)
            if seen is None:
                continue  # the first look at a folder records it and proposes nothing
            for path, (size, sha256) in sorted(present.items()):
                fresh = path.rpartition("/")[2] not in seen and (repo, path) not in catalogued
                ckey = link_key(HfLink(kind="file", repo=repo, path=path))
                if fresh and ckey not in candidates:
                    candidates[ckey] = Candidate(repo=repo, path=path, size=size, sha256=sha256, found_at=now)
    candidates = {
        key: candidate
        for key, candidate in sorted(candidates.items())
        if _still_a_candidate(candidate, catalogued, followed, listings)
    }
    if followed == snapshot.followed and candidates == snapshot.candidates:
        return snapshot, tuple(notes)
    update = {"followed": dict(sorted(followed.items())), "candidates": candidates}
    return snapshot.model_copy(update=update), tuple(notes)


def _odd_names(repo: str, folder: str, files: Listing) -> Iterator[DiscoveryNote]:
    """A note for each .safetensors name in the folder that the catalog cannot hold, saying why."""
    for name in sorted(files.odd):
        if name.endswith(".safetensors") and name.rpartition("/")[0] == folder:
            try:
                check_repo_path(name)
            except ValueError as err:
                yield DiscoveryNote(repo, f"not proposed, the catalog cannot hold this name: {err}", name)


def _unsure_in(files: Listing, folder: str) -> list[str]:
    """Listed .safetensors files of the folder whose size or sha256 this run could not trust."""
    return [
        path for path in files.unsure if path.endswith(".safetensors") and path.rpartition("/")[0] == folder
    ]


def _safetensors_in(files: Listing, folder: str) -> dict[str, tuple[int | None, str | None]]:
    """The .safetensors files directly inside folder (not in its subfolders)."""
    return {
        path: facts
        for path, facts in files.files.items()
        if path.endswith(".safetensors") and path.rpartition("/")[0] == folder
    }


def _still_a_candidate(
    candidate: Candidate,
    catalogued: set[tuple[str, str]],
    followed: Mapping[str, tuple[str, ...]],
    listings: Mapping[str, Listing],
) -> bool:
    """Not catalogued since, its folder still followed, and not gone from a listing of this run."""
    if (candidate.repo, candidate.path) in catalogued:
        return False
    if folder_key(candidate.repo, candidate.path.rpartition("/")[0]) not in followed:
        return False
    files = listings.get(candidate.repo)
    return files is None or files.broken is not None or candidate.path in files


def candidate_rows(snapshot: Snapshot) -> tuple[CandidateRow, ...]:
    """The snapshot's candidates as the report lists them, with what their header says."""
    return tuple(
        CandidateRow(
            candidate.repo,
            candidate.path,
            candidate.link.url,
            candidate.size,
            candidate.sha256,
            candidate.found_at,
            header_summary(snapshot.headers.get(candidate.sha256) if candidate.sha256 else None),
            candidate.add_command,
        )
        for candidate in snapshot.candidates.values()
    )
