"""Stage `check`, second half: read each LoRA's safetensors header and judge what the file really is.

Only the header is read (one or two Range requests, read no further than the header even when a server
ignores Range), never the tensors. The bytes are untrusted: what is not a valid safetensors header is
stored as unreadable; a transport failure or a limit hit leaves the file unverified until the next run. Facts are stored in the snapshot keyed by the file's sha256, so a file whose sha256 did not
change is never read again. Contradictions between the header and the catalog or the file name, and the
compatibility with each base model, are computed from the stored facts when needed, offline
(:mod:`generator.lora.claims`, :mod:`generator.catalog.snapshot`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from pydantic import ValidationError

from generator.catalog import models as m
from generator.catalog.snapshot import (
    Candidate,
    LinkFact,
    Snapshot,
    StoredHeader,
    UnreadableHeader,
    is_current,
    link_key,
)
from generator.hub.client import HfApi, read_range
from generator.hub.retry import HttpFailure, Retrier, Unverified
from generator.lora.analyse import analyse_header
from generator.lora.facts import ANALYSER_VERSION, HeaderFacts
from generator.lora.filename import claims_from_filename
from generator.lora.keys import is_adapter_key
from generator.lora.parse import HeaderError, declared_length, header_from_bytes
from generator.text import one_line

READABLE = frozenset({"ok", "moved", "renamed"})  # statuses whose file can be read (gated needs a grant)


@dataclass(frozen=True)
class HeaderTarget:
    """One file to read: where it lives now, and the sha256 its facts are stored under; ``candidate`` for a
    file not in the catalog (whose header may show it is no LoRA at all)."""

    lora_id: str
    repo: str
    path: str
    revision: str | None
    sha256: str
    candidate: bool = False


def targets(
    loras: tuple[m.Lora, ...], links: Mapping[str, LinkFact], known: Mapping[str, StoredHeader]
) -> list[HeaderTarget]:
    """The files whose header is not in the snapshot, or was analysed by an older analyser (one per
    sha256), following moves and renames."""
    found: dict[str, HeaderTarget] = {}
    for lora in loras:
        fact = links.get(link_key(lora.file.link))
        if fact is None or fact.status not in READABLE or not fact.sha256:
            continue
        stored = known.get(fact.sha256)
        if stored is not None and is_current(stored):
            continue
        repo = fact.new_repo or lora.file.repo
        path = fact.new_path or lora.file.path
        found.setdefault(fact.sha256, HeaderTarget(lora.id, repo, path, fact.commit, fact.sha256))
    return sorted(found.values(), key=lambda target: target.sha256)


FIRST_READ = 100_000
"""Bytes asked for first: most LoRA headers fit, so one request is enough."""


def candidate_targets(candidates: Mapping[str, Candidate], limit: int, now: str) -> list[HeaderTarget]:
    """Headers of candidates to read in this run: at most limit, once per sha256, in turns that are fair.

    Candidates never tried come first: those whose name does not say LoRA (no 'lora', no rank) before the
    others, since only their header tells whether they are proposed at all (a full model, a VAE at a repo's
    root), then oldest first, so each is read within a few runs however many there are. The slots left go to
    those whose reads failed before (a gated repo's files fail every week), in an order drawn afresh each run
    from the run's time: no failing file can keep the others waiting, and each gets its turn, without the
    snapshot recording an attempt (which would change it every week).
    """
    pending: dict[str, Candidate] = {}
    order = sorted(
        candidates.values(), key=lambda c: (_named_like_a_lora(c.path), c.found_at, c.repo, c.path)
    )
    for candidate in order:
        outdated = candidate.header is None or candidate.header.analyser < ANALYSER_VERSION
        if candidate.sha256 and outdated:
            pending.setdefault(candidate.sha256, candidate)
    fresh = [candidate for candidate in pending.values() if candidate.unread_since is None]
    failed = [candidate for candidate in pending.values() if candidate.unread_since is not None]
    failed.sort(key=lambda candidate: _turn(now, candidate.sha256 or ""))
    return [_target(candidate) for candidate in [*fresh, *failed][:limit]]


def _named_like_a_lora(path: str) -> bool:
    """True when the file name says LoRA: the word, or a rank (``…_rank64_…``)."""
    return "lora" in path.rpartition("/")[2].lower() or claims_from_filename(path).rank is not None


def _turn(now: str, sha256: str) -> str:
    """A place in this run's order: the same for the same run, different from one run to the next."""
    return hashlib.sha256(f"{now}:{sha256}".encode()).hexdigest()


def _target(candidate: Candidate) -> HeaderTarget:
    label = f"candidate:{candidate.repo}/{candidate.path}"
    sha256 = candidate.sha256 or ""
    return HeaderTarget(label, candidate.repo, candidate.path, None, sha256, candidate=True)


@dataclass(frozen=True)
class Unread:
    """Why a header was not read; `lasting` when reading again cannot help (the file is not safetensors)."""

    message: str
    lasting: bool


@dataclass(frozen=True)
class NoLora:
    """A candidate whose header holds no adapter key at all (:func:`generator.lora.keys.is_adapter_key`): a full
    model, a VAE, a text encoder."""

    message: str


Result = HeaderFacts | Unread | NoLora


def read_header(api: HfApi, retrier: Retrier, target: HeaderTarget) -> Result:
    """The analysed header, or why it could not be read (or, for a candidate, that it is no LoRA)."""
    try:
        data = header_bytes(api, retrier, target)
        tensors, metadata = header_from_bytes(data)
        if target.candidate and not any(is_adapter_key(name) for name in tensors):
            return NoLora(f"no LoRA key among its {len(tensors):,} tensors: a full model, VAE or encoder")
        return analyse_header(tensors, metadata, target.path)
    except HeaderError as err:
        return Unread(one_line(f"not a readable safetensors header: {err}"), lasting=True)
    except (ValueError, OverflowError, RecursionError) as err:  # values the analysis cannot hold or digest
        return Unread(one_line(f"not a readable safetensors header: {_why(err)}"), lasting=True)
    except Unverified as err:
        return Unread(one_line(f"header not read: {err}"), lasting=False)
    except HttpFailure as err:
        return Unread(one_line(f"header not read: HTTP {err.status}"), lasting=False)


def _why(err: Exception) -> str:
    """A short reason: the first field pydantic refused (sizes beyond 2**53, odd names), or the error."""
    if isinstance(err, ValidationError):
        problem = err.errors(include_url=False)[0]
        return f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}"
    return f"{type(err).__name__}: {err}"


def _read_safely(api: HfApi, retrier: Retrier, target: HeaderTarget) -> Result:
    """read_header, where a failure nobody foresaw leaves this file unread, not the whole run ended."""
    try:
        return read_header(api, retrier, target)
    except Exception as err:  # one file's surprise must not cost every other file's facts
        return Unread(one_line(f"header not read: {type(err).__name__}: {err}"), lasting=False)


def header_bytes(api: HfApi, retrier: Retrier, target: HeaderTarget) -> bytes:
    """The file's first 8 + N bytes (the length prefix and the JSON header), and not a byte more."""

    def read(start: int, length: int) -> bytes:
        answer = read_range(api, target.repo, target.path, target.revision, start, length)
        if answer.status >= 400:
            raise HttpFailure(answer.status, answer.headers)
        return answer.data

    first = retrier.call(lambda: read(0, FIRST_READ))
    wanted = 8 + declared_length(first)
    if len(first) >= wanted or len(first) < FIRST_READ:  # complete, or the file ends there
        return first[:wanted]
    return first + retrier.call(lambda: read(len(first), wanted - len(first)))


def read_headers(
    api: HfApi, retrier: Retrier, wanted: list[HeaderTarget], workers: int = 4
) -> list[tuple[HeaderTarget, Result]]:
    """Each wanted header, read concurrently (Range requests on the Hub's large resolver budget)."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(
            zip(wanted, pool.map(lambda target: _read_safely(api, retrier, target), wanted), strict=True)
        )


def catalog_entries(
    results: Iterable[tuple[HeaderTarget, Result]],
) -> tuple[dict[str, StoredHeader], dict[str, str]]:
    """Header entries (by sha256) to store for catalogued files, and this run's problems (by LoRA id).

    A file that is not safetensors is stored as unreadable, so that it is not fetched again until its sha256
    changes. Candidates are left out: what is kept of them is bounded (:mod:`generator.hub.discover`).
    """
    entries: dict[str, StoredHeader] = {}
    problems: dict[str, str] = {}
    for target, result in results:
        if target.candidate:
            continue
        if isinstance(result, HeaderFacts):
            entries[target.sha256] = result
        elif isinstance(result, Unread):
            problems[target.lora_id] = result.message
            if result.lasting:
                entries[target.sha256] = UnreadableHeader(
                    unreadable=result.message, analyser=ANALYSER_VERSION
                )
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
