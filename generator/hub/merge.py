"""What a check run changes in the snapshot: the stability rule of :mod:`generator.hub.check`."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from generator.catalog.snapshot import LinkFact, Snapshot, dump_snapshot
from generator.files import write_atomic
from generator.hub.findings import Finding

_NOT_COMPARED = frozenset({"checked_at", "verified_at", "error", "error_at", "commit"})
"""Fields that do not make a fact news: times, the last error, the commit it was seen at."""


def merge_fact(previous: LinkFact | None, finding: Finding, now: str) -> LinkFact:
    """The new fact of one link, following the stability rule of the module docstring."""
    if not finding.verified:
        return _unverified_fact(previous, finding, now)
    since = previous.checked_at if previous is not None and previous.status == finding.status else now
    fresh = LinkFact(
        status=finding.status,
        checked_at=since,
        verified_at=now,
        size=finding.size,
        sha256=finding.sha256,
        commit=finding.commit,
        gated=finding.gated,
        new_repo=finding.new_repo,
        new_path=finding.new_path,
        http_status=finding.http_status,
    )
    if previous is not None and previous.verified_at and _facts(previous) == _facts(fresh):
        return previous.model_copy(update={"error": None, "error_at": None})
    return fresh


def _facts(fact: LinkFact) -> dict[str, object]:
    return fact.model_dump(exclude=set(_NOT_COMPARED))


def _unverified_fact(previous: LinkFact | None, finding: Finding, now: str) -> LinkFact:
    if previous is None:
        return LinkFact(status="unverified", checked_at=now, error=finding.error, error_at=now)
    error_at = previous.error_at if previous.error_at and previous.error == finding.error else now
    return previous.model_copy(update={"error": finding.error, "error_at": error_at})


def merge_snapshot(snapshot: Snapshot, findings: Mapping[str, Finding], now: str, *, prune: bool) -> Snapshot:
    """The snapshot with this run's findings merged in; unchanged facts keep every byte."""
    kept = {key: fact for key, fact in snapshot.links.items() if not prune or key in findings}
    links = dict(kept)
    for key, finding in findings.items():
        links[key] = merge_fact(snapshot.links.get(key), finding, now)
    links = dict(sorted(links.items()))
    if links == snapshot.links:
        return snapshot
    return snapshot.model_copy(update={"links": links, "checked_at": now})


def save_snapshot(path: Path, snapshot: Snapshot) -> bool:
    """Atomically write the snapshot (fsynced); return False if the file already held the same facts."""
    return write_atomic(path, dump_snapshot(snapshot))
