"""What a check run changes in the snapshot: the stability rule of :mod:`generator.hub.check`."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from generator.catalog.snapshot import LinkFact, Snapshot, dump_snapshot
from generator.files import write_atomic
from generator.hub.findings import Finding

_NOT_COMPARED = frozenset({"checked_at", "verified_at", "commit"})
"""Fields that do not make a fact news: times, the commit it was seen at."""


def merge_fact(previous: LinkFact | None, finding: Finding, now: str) -> LinkFact | None:
    """The new fact of one link, following the stability rule of :mod:`generator.hub.check`.

    An unverified result is no fact: it never overwrites a verified one (the previous fact stays, byte
    for byte) and a link never verified stays absent. Why it failed goes to the report only.
    """
    if not finding.verified:
        return previous
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
        return previous
    return fresh


def _facts(fact: LinkFact) -> dict[str, object]:
    return fact.model_dump(exclude=set(_NOT_COMPARED))


def merge_snapshot(snapshot: Snapshot, findings: Mapping[str, Finding], now: str, *, prune: bool) -> Snapshot:
    """The snapshot with this run's findings merged in; unchanged facts keep every byte."""
    links = {key: fact for key, fact in snapshot.links.items() if not prune or key in findings}
    for key, finding in findings.items():
        fact = merge_fact(snapshot.links.get(key), finding, now)
        if fact is not None:
            links[key] = fact
    links = dict(sorted(links.items()))
    if links == snapshot.links:
        return snapshot
    return snapshot.model_copy(update={"links": links, "checked_at": now})


def save_snapshot(path: Path, snapshot: Snapshot) -> bool:
    """Atomically write the snapshot (fsynced); return False if the file already held the same facts."""
    return write_atomic(path, dump_snapshot(snapshot))
