"""Reports of a link check: Markdown for a GitHub issue body or job summary, and JSON for machines.

The Markdown opens with a summary line, then lists problems by kind -- dead first, then moved or
renamed, gated, unverified -- one line per link naming the data file(s) that hold it. It stays under
:data:`MARKDOWN_LIMIT` characters (GitHub refuses issue bodies over 65,536), ending with a note when
lines had to be left out.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from urllib.parse import quote

from generator.catalog.snapshot import DEAD
from generator.hub.findings import Finding
from generator.text import code_span, one_line

MARKDOWN_LIMIT = 60_000
SECTIONS: tuple[tuple[str, frozenset[str]], ...] = (
    ("Dead links", DEAD),
    ("Moved or renamed", frozenset({"moved", "renamed"})),
    ("Gated", frozenset({"gated"})),
    ("Unverified (the check could not reach a verdict)", frozenset({"unverified"})),
)


@dataclass(frozen=True)
class Row:
    """One checked link: its snapshot key, where it points, the data files holding it, the finding."""

    key: str
    label: str
    url: str
    sources: tuple[str, ...]
    finding: Finding


def summary(rows: Sequence[Row]) -> str:
    """'N links checked: a ok, b dead, …' (zero counts left out, except ok)."""
    counts = Counter(_group(row.finding.status) for row in rows)
    parts = [f"{counts['ok']} ok"] + [f"{counts[name]} {name}" for name in _GROUPS[1:] if counts[name]]
    noun = "link" if len(rows) == 1 else "links"
    return f"{len(rows)} {noun} checked: {', '.join(parts)}"


_GROUPS = ("ok", "dead", "moved/renamed", "gated", "unverified")


def _group(status: str) -> str:
    for name, (_, statuses) in zip(_GROUPS[1:], SECTIONS, strict=True):
        if status in statuses:
            return name
    return "ok"


@dataclass(frozen=True)
class CandidateRow:
    """A file that appeared in a followed folder, as the report lists it."""

    repo: str
    path: str
    url: str
    size: int | None
    sha256: str | None
    found_at: str
    header: str
    add_command: str


@dataclass(frozen=True)
class DiscoveryNote:
    """Something discovery could not do in a repo (a file name it cannot hold, a file list it cannot trust)."""

    repo: str
    message: str
    name: str | None = None


def markdown(
    rows: Sequence[Row],
    *,
    checked_at: str,
    warnings: Sequence[FileWarning] = (),
    candidates: Sequence[CandidateRow] = (),
    notes: Sequence[DiscoveryNote] = (),
    limit: int = MARKDOWN_LIMIT,
) -> str:
    """The Markdown report, at most ``limit`` characters; header warnings, discovery notes and candidates
    after the links."""
    head = f"## Link check\n\n{summary(rows)} ({checked_at}).\n"
    lines = [
        *_body_lines(rows),
        *_warning_lines(warnings),
        *_note_lines(notes),
        *candidate_lines(candidates, checked_at),
    ]
    if not lines:
        return head + "\nEvery link is alive.\n"
    return head + _fit(lines, limit - len(head))


def candidate_lines(candidates: Sequence[CandidateRow], checked_at: str) -> Iterable[str]:
    """The "not in the catalog yet" section (Markdown), also used for the snapshot PR's body."""
    if not candidates:
        return
    yield f"\n### Not in the catalog yet ({len(candidates)})\n\n"
    yield "Files that appeared in a folder the catalog follows; `generator add` turns one into a data file.\n\n"
    for item in candidates:
        size = f"{item.size:,} bytes" if item.size is not None else "size unknown"
        sha = code_span(item.sha256) if item.sha256 else "sha256 unknown"
        found = "found by this check" if item.found_at == checked_at else f"found {item.found_at[:10]}"
        yield (
            f"- [{code_span(f'{item.repo}/{item.path}')}]({_inert_url(item.url)}): {size}, sha256 {sha}, "
            f"{code_span(item.header)}; {found}. Add it: {code_span(item.add_command)}\n"
        )


def _body_lines(rows: Sequence[Row]) -> Iterable[str]:
    for title, statuses in SECTIONS:
        picked = sorted((row for row in rows if row.finding.status in statuses), key=_order)
        if picked:
            yield f"\n### {title} ({len(picked)})\n\n"
            yield from (_line(row) for row in picked)


@dataclass(frozen=True)
class FileWarning:
    """A finding about a file's content (header contradictions, unreadable headers)."""

    source: str
    label: str
    message: str


def _warning_lines(warnings: Sequence[FileWarning]) -> Iterable[str]:
    if warnings:
        yield f"\n### File contents disagree or could not be read ({len(warnings)})\n\n"
        for item in sorted(warnings, key=lambda w: (w.source, w.message)):
            yield f"- {code_span(item.label)} in {code_span(item.source)}: {code_span(item.message)}\n"


def _note_lines(notes: Sequence[DiscoveryNote]) -> Iterable[str]:
    if notes:
        yield f"\n### Discovery could not look at everything ({len(notes)})\n\n"
        for note in notes:
            name = f" {code_span(one_line(note.name, 200))}" if note.name is not None else ""
            yield f"- {code_span(note.repo)}{name}: {code_span(note.message)}\n"


def _order(row: Row) -> tuple[str, str]:
    return (row.finding.status, row.key)


def _fit(lines: list[str], budget: int) -> str:
    """Join whole lines while they fit, keeping room for a note on what was left out."""
    note_room = 200
    kept: list[str] = []
    used = 0
    for line in lines:
        if used + len(line) > budget - note_room:
            break
        kept.append(line)
        used += len(line)
    left = sum(1 for line in lines[len(kept) :] if line.startswith("- "))
    if left:
        kept.append(
            f"\n_… {left} more link(s) not shown to stay under the size limit; see the JSON report._\n"
        )
    return "".join(kept)


def _line(row: Row) -> str:
    finding = row.finding
    where = ", ".join(code_span(source) for source in row.sources)
    detail = _detail(finding)
    link = f"[{code_span(row.label)}]({_inert_url(row.url)})"
    return f"- **{finding.status}** {link} in {where}{' — ' + detail if detail else ''}\n"


def _inert_url(url: str) -> str:
    """A URL that cannot end the Markdown link early: brackets, angle brackets, quotes and spaces
    percent-encoded (an https URL from the data may hold them; a browser decodes them back)."""
    return quote(url, safe="/:?#@!$&'*+,;=%~-._")


def _detail(finding: Finding) -> str:
    parts: list[str] = []
    if finding.new_path:
        parts.append(f"now at {code_span(finding.new_path)}")
    if finding.new_repo:
        parts.append(f"repo now {code_span(finding.new_repo)}")
    if finding.gated:
        parts.append(f"gated ({finding.gated})")
    if finding.error:
        parts.append(code_span(finding.error))
    elif finding.http_status and finding.status != "ok":
        parts.append(f"HTTP {finding.http_status}")
    return "; ".join(parts)


def json_report(
    rows: Sequence[Row],
    *,
    checked_at: str,
    exit_code: int,
    warnings: Sequence[FileWarning] = (),
    candidates: Sequence[CandidateRow] = (),
    notes: Sequence[DiscoveryNote] = (),
) -> str:
    """The JSON report: time, exit code, counts per status, every checked link, file warning, discovery note
    and candidate."""
    counts = Counter(row.finding.status for row in rows)
    data = {
        "checked_at": checked_at,
        "exit_code": exit_code,
        "counts": dict(sorted(counts.items())),
        "links": [_json_row(row) for row in sorted(rows, key=lambda row: row.key)],
        "file_warnings": [asdict(item) for item in sorted(warnings, key=lambda w: (w.source, w.message))],
        "candidates": [asdict(item) for item in candidates],
        "discovery_notes": [asdict(item) for item in notes],
    }
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _json_row(row: Row) -> dict[str, object]:
    facts = {name: value for name, value in asdict(row.finding).items() if value is not None}
    return {"key": row.key, "label": row.label, "url": row.url, "sources": list(row.sources), **facts}
