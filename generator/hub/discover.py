"""Discovery, at no extra cost: files that appear next to the catalogued ones, "not in the catalog yet".

The one ``model_info(files_metadata=True)`` per repo that the check makes anyway lists every file of the
repos we follow. A *followed folder* is a folder that holds a catalogued LoRA file or mirror (the repo's root
only when one sits there); a catalogued file, a known mirror included, is never proposed. The first run records what each followed folder holds and proposes nothing;
later runs turn each ``.safetensors`` file that appeared there into a *candidate*, kept in the snapshot
(so that rendering stays pure) until it is catalogued, dismissed (``data/dismissed.yaml``) or gone.
Candidates are not "new": that is a word only a source may say.

What is kept per candidate is bounded: its size, sha256 and one line on its header (never the header's
full facts, which only a catalogued file needs). A candidate whose header holds no adapter key at all (a full
model, a VAE, a text encoder: a repo root holds them; an OFT, GLoRA, ``w_norm`` or ``set_weight`` file is an
adapter ComfyUI loads, :func:`generator.lora.keys.is_adapter_key`) leaves the candidates for ``not_loras``, where its
sha256 keeps it from being read again; a new sha256 makes it a candidate once more.

Pure: the listings come from :class:`generator.hub.repos.HubChecker`, the header results from
:mod:`generator.hub.headers`; no call is made here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from generator.catalog.fields import UNSHOWN_PATH, check_repo_path
from generator.catalog.models import HfLink
from generator.catalog.snapshot import (
    SUMMARY_CHARACTERS,
    Candidate,
    CandidateHeader,
    NotLora,
    Snapshot,
    header_summary,
    link_key,
)
from generator.catalog.validate import Catalog
from generator.hub.findings import Listing
from generator.hub.headers import NoLora, Result, Unread
from generator.hub.report import CandidateRow, DiscoveryNote
from generator.lora.facts import ANALYSER_VERSION, HeaderFacts
from generator.text import one_line, unsafe_character

HEADER_READS = 20
"""Candidate headers read per run, at most (the rest are read by the next runs, in fair turns)."""
Facts = tuple[int | None, str | None]
"""A listed file's (size, sha256)."""


def followed_folders(catalog: Catalog) -> dict[str, frozenset[str]]:
    """Repo id -> the folders holding a catalogued LoRA file or mirror ("" for the repo's root)."""
    folders: dict[str, set[str]] = {}
    for lora in catalog.loras:
        for file in lora.files:
            folders.setdefault(file.repo, set()).add(file.path.rpartition("/")[0])
    return {repo: frozenset(found) for repo, found in sorted(folders.items())}


def folder_key(repo: str, folder: str) -> str:
    """'owner/name:folder' (the snapshot's key of a followed folder)."""
    return f"{repo}:{folder}"


def discover(
    catalog: Catalog, snapshot: Snapshot, listings: Mapping[str, Listing], now: str
) -> tuple[Snapshot, tuple[DiscoveryNote, ...]]:
    """The snapshot with this run's followed folders and candidates (unchanged when nothing appeared), and
    what discovery could not do (a file name the catalog cannot hold, a file list it cannot trust)."""
    skipped = {(file.repo, file.path) for lora in catalog.loras for file in lora.files}  # mirrors too
    skipped |= {(dismissal.repo, dismissal.path) for dismissal in catalog.dismissed}
    followed: dict[str, tuple[str, ...]] = {}
    found = _Found(dict(snapshot.candidates), dict(snapshot.not_loras), now)
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
            for path, facts in sorted(present.items()):
                new = path.rpartition("/")[2] not in seen and (repo, path) not in skipped
                found.see(repo, path, facts, new=new)
    kept = _Kept(skipped, followed, listings)
    candidates = {key: item for key, item in sorted(found.candidates.items()) if kept(item.repo, item.path)}
    not_loras = {key: item for key, item in sorted(found.not_loras.items()) if kept(*_file_of(key))}
    unchanged = (followed, candidates, not_loras) == (
        snapshot.followed,
        snapshot.candidates,
        snapshot.not_loras,
    )
    if unchanged:
        return snapshot, tuple(notes)
    update = {"followed": dict(sorted(followed.items())), "candidates": candidates, "not_loras": not_loras}
    return snapshot.model_copy(update={**update, "checked_at": now}), tuple(notes)


class _Found:
    """The candidates and known non-LoRAs while a run's listings are read."""

    def __init__(self, candidates: dict[str, Candidate], not_loras: dict[str, NotLora], now: str) -> None:
        self.candidates, self.not_loras, self.now = candidates, not_loras, now

    def see(self, repo: str, path: str, facts: Facts, *, new: bool) -> None:
        """A listed file: a new one becomes a candidate; a candidate or non-LoRA whose file changed is read again."""
        key = link_key(HfLink(kind="file", repo=repo, path=path))
        size, sha256 = facts
        known = self.candidates.get(key)
        if known is not None:
            if (known.size, known.sha256) != facts:  # another file under the same name: its header is unknown
                self.candidates[key] = known.model_copy(
                    update={"size": size, "sha256": sha256, "header": None, "unread_since": None}
                )
            return
        other = self.not_loras.get(key)
        if other is not None and other.sha256 == sha256:
            return
        if new or other is not None:
            self.not_loras.pop(key, None)
            self.candidates[key] = Candidate(
                repo=repo, path=path, size=size, sha256=sha256, found_at=self.now
            )


class _Kept:
    """Whether a file stays a candidate (or a known non-LoRA): not catalogued nor dismissed since, its
    folder still followed, and not gone from a listing of this run."""

    def __init__(
        self, skipped: set[tuple[str, str]], followed: Mapping[str, object], listings: Mapping[str, Listing]
    ) -> None:
        self.skipped, self.followed, self.listings = skipped, followed, listings

    def __call__(self, repo: str, path: str) -> bool:
        if (repo, path) in self.skipped or folder_key(repo, path.rpartition("/")[0]) not in self.followed:
            return False
        files = self.listings.get(repo)
        return files is None or files.broken is not None or path in files


def _file_of(key: str) -> tuple[str, str]:
    """(repo, path) of a file's link key 'hf:file:owner/name/path' (a repo id holds exactly one '/')."""
    owner, name, path = key.removeprefix("hf:file:").split("/", 2)
    return f"{owner}/{name}", path


def _odd_names(repo: str, folder: str, files: Listing) -> Iterator[DiscoveryNote]:
    """A note for each .safetensors name in the folder that the catalog cannot hold, saying why."""
    for name in sorted(files.odd):
        if name.endswith(".safetensors") and name.rpartition("/")[0] == folder:
            try:
                check_repo_path(name)
            except ValueError as err:
                why = (
                    "" if UNSHOWN_PATH in str(err) or unsafe_character(name) is None else f"; {UNSHOWN_PATH}"
                )
                yield DiscoveryNote(
                    repo, f"not proposed, the catalog cannot hold this name: {err}{why}", name
                )


def _unsure_in(files: Listing, folder: str) -> list[str]:
    """Listed .safetensors files of the folder whose size or sha256 this run could not trust."""
    return [
        path for path in files.unsure if path.endswith(".safetensors") and path.rpartition("/")[0] == folder
    ]


def _safetensors_in(files: Listing, folder: str) -> dict[str, Facts]:
    """The .safetensors files directly inside folder (not in its subfolders)."""
    return {
        path: facts
        for path, facts in files.files.items()
        if path.endswith(".safetensors") and path.rpartition("/")[0] == folder
    }


# --- what the candidates' headers said ------------------------------------------------------------------


def with_headers(snapshot: Snapshot, results: Mapping[str, Result], now: str) -> Snapshot:
    """The snapshot with this run's candidate header reads (by sha256): a bounded line for each LoRA or
    unreadable file, the first failed read's time for a failure, and non-LoRAs moved out of the candidates."""
    candidates: dict[str, Candidate] = {}
    not_loras = dict(snapshot.not_loras)
    for key, candidate in snapshot.candidates.items():
        result = results.get(candidate.sha256) if candidate.sha256 else None
        if result is None:
            candidates[key] = candidate
        elif isinstance(result, NoLora):
            not_loras[key] = NotLora(sha256=candidate.sha256 or "", reason=_bounded(result.message))
        else:
            candidates[key] = candidate.model_copy(update=_header_update(candidate, result, now))
    if candidates == snapshot.candidates and not_loras == snapshot.not_loras:
        return snapshot
    update = {"candidates": candidates, "not_loras": dict(sorted(not_loras.items())), "checked_at": now}
    return snapshot.model_copy(update=update)


def _header_update(candidate: Candidate, result: HeaderFacts | Unread, now: str) -> dict[str, object]:
    """The fields a read changes: the header line once read (or unreadable), else when reads began to fail."""
    if isinstance(result, HeaderFacts):
        header = CandidateHeader(summary=_bounded(header_summary(result)), analyser=result.analyser)
        return {"header": header, "unread_since": None}
    if result.lasting:  # not a safetensors header: reading again cannot help until the file changes
        header = CandidateHeader(summary=_bounded(result.message), analyser=ANALYSER_VERSION)
        return {"header": header, "unread_since": None}
    return {"unread_since": candidate.unread_since or now}


def _bounded(text: str) -> str:
    return one_line(text, SUMMARY_CHARACTERS)


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
            candidate.header_line,
            candidate.add_command,
        )
        for candidate in snapshot.candidates.values()
    )
