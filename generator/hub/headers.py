"""Stage `check`, second half: read each LoRA's safetensors header and judge what the file really is.

Only the header is read (`parse_safetensors_file_metadata`: one or two Range requests), never the
tensors. Facts are stored in the snapshot keyed by the file's sha256, so a file whose sha256 did not
change is never read again. Contradictions between the header and the catalog or the file name, and the
compatibility with each base model, are computed from the stored facts when needed, offline
(:mod:`generator.lora.claims`, :mod:`generator.catalog.snapshot`).
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from generator.catalog import models as m
from generator.catalog.snapshot import LinkFact, Snapshot, StoredHeader, UnreadableHeader, link_key
from generator.hub.client import HfApi, HfHubHTTPError, SafetensorsParsingError, header_from_hub
from generator.hub.retry import Retrier, Unverified
from generator.lora.analyse import analyse_header
from generator.lora.facts import HeaderFacts
from generator.lora.parse import HeaderError

READABLE = frozenset({"ok", "moved", "renamed"})  # statuses whose file can be read (gated needs a grant)


@dataclass(frozen=True)
class HeaderTarget:
    """One file to read: where it lives now, and the sha256 its facts are stored under."""

    lora_id: str
    repo: str
    path: str
    revision: str | None
    sha256: str


def targets(
    loras: tuple[m.Lora, ...], links: Mapping[str, LinkFact], known: Mapping[str, object]
) -> list[HeaderTarget]:
    """The files whose header is not yet in the snapshot (one per sha256), following moves and renames."""
    found: dict[str, HeaderTarget] = {}
    for lora in loras:
        fact = links.get(link_key(lora.file.link))
        if fact is None or fact.status not in READABLE or not fact.sha256 or fact.sha256 in known:
            continue
        repo = fact.new_repo or lora.file.repo
        path = fact.new_path or lora.file.path
        found.setdefault(fact.sha256, HeaderTarget(lora.id, repo, path, fact.commit, fact.sha256))
    return sorted(found.values(), key=lambda target: target.sha256)


@dataclass(frozen=True)
class Unread:
    """Why a header was not read; `lasting` when reading again cannot help (the file is not safetensors)."""

    message: str
    lasting: bool


def read_header(api: HfApi, retrier: Retrier, target: HeaderTarget) -> HeaderFacts | Unread:
    """The analysed header, or why it could not be read."""
    try:
        meta = retrier.call(
            lambda: api.parse_safetensors_file_metadata(target.repo, target.path, revision=target.revision)
        )
        tensors, metadata = header_from_hub(meta)
        return analyse_header(tensors, metadata, target.path)
    except (SafetensorsParsingError, HeaderError) as err:
        return Unread(f"not a readable safetensors header: {err}", lasting=True)
    except Unverified as err:
        return Unread(f"header not read: {err}", lasting=False)
    except HfHubHTTPError as err:
        return Unread(f"header not read: {err.server_message or err}", lasting=False)


def read_headers(
    api: HfApi, retrier: Retrier, wanted: list[HeaderTarget], workers: int = 4
) -> tuple[dict[str, StoredHeader], dict[str, str]]:
    """Header entries (by sha256) to store, and this run's problems (by LoRA id).

    Headers are read concurrently (Range requests on the Hub's large resolver budget). A file that is not
    safetensors is stored as unreadable, so that it is not fetched again until its sha256 changes.
    """
    entries: dict[str, StoredHeader] = {}
    problems: dict[str, str] = {}
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = pool.map(lambda target: read_header(api, retrier, target), wanted)
        for target, result in zip(wanted, results, strict=True):
            if isinstance(result, HeaderFacts):
                entries[target.sha256] = result
                continue
            problems[target.lora_id] = result.message
            if result.lasting:
                entries[target.sha256] = UnreadableHeader(unreadable=result.message)
    return entries, problems


def merge_headers(
    snapshot: Snapshot, new: Mapping[str, StoredHeader], loras: tuple[m.Lora, ...], *, prune: bool
) -> dict[str, StoredHeader]:
    """Header facts after this run: the new ones added, those of files no longer catalogued dropped."""
    headers = {**snapshot.headers, **new}
    if prune:
        current = {
            fact.sha256 for lora in loras if (fact := snapshot.fact(link_key(lora.file.link))) and fact.sha256
        }
        headers = {sha: value for sha, value in headers.items() if sha in current}
    return dict(sorted(headers.items()))
