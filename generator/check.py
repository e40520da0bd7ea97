"""Stage `check`: verify every link of the catalog against the Hub and refresh data/hub-snapshot.json.

Links are collected from every Link field of the catalog and deduplicated by :func:`link_key`; Hub links
are grouped by repo (one API call each, see :mod:`generator.hub`), users and plain https links are checked
one by one, all in a small thread pool.

Snapshot stability rule (a repeated run on an unchanged Hub writes nothing):

* a verified result whose facts -- status, size, sha256, gated, new repo, new path, HTTP status -- equal
  the stored ones keeps the stored fact untouched, including its times and the commit it was first seen
  at (a new commit that changed nothing about the file is not news);
* when the facts differ, the fact is replaced: ``verified_at`` is the time of this run and ``checked_at``
  the time the current *status* was first seen (kept while the status stays the same);
* an ``unverified`` result keeps the previous facts and status and adds ``error`` and ``error_at`` (the
  start of the current failure streak, so a repeated failure with the same error changes nothing); a
  link never verified gets status ``unverified``; the next verified result clears the error;
* the top-level ``checked_at`` is the time of the last run that changed anything; facts of links no
  longer in the catalog are dropped (only on a full run, not with ``--changed-since``).

The snapshot is written atomically (temporary file, fsync, rename) and only when its text changes.

Exit status: 0 all alive, 1 dead links found, 2 data or usage error, 3 incomplete (only unverified
problems). Gated, moved and renamed links are reported but alive (the snapshot's ``DEAD`` set decides).
"""

from __future__ import annotations

import argparse
import datetime as dt
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from generator.errors import DataError, count_line
from generator.headers import (
    facts_of,
    lora_contradictions,
    merge_headers,
    read_headers,
    targets,
    unreadable_of,
)
from generator.hub import (
    Finding,
    HubChecker,
    Pacer,
    RepoQuery,
    Retrier,
    RetryPolicy,
    Timer,
    UrlChecker,
    classify_hub_error,
    classify_url_error,
    group_by_repo,
    make_api,
    observing,
    unverified,
)
from generator.models import HfLink, Link, link_url
from generator.report import FileWarning, Row, json_report, markdown
from generator.snapshot import DEAD, LinkFact, Snapshot, link_key, load_snapshot, save_snapshot, write_atomic
from generator.validate import Catalog, load_catalog

SNAPSHOT_NAME = "hub-snapshot.json"
EXIT_ALIVE, EXIT_DEAD, EXIT_USAGE, EXIT_INCOMPLETE = 0, 1, 2, 3


def utc_now() -> str:
    """The current UTC time, ISO 8601 with seconds: 2026-11-26T12:00:00Z."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class UsageError(Exception):
    """A problem with the command line or the git state, reported with exit status 2."""


# --- collecting links ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkRef:
    """One distinct link and the data files that hold it."""

    link: HfLink | str
    sources: tuple[str, ...]

    @property
    def key(self) -> str:
        """The snapshot key."""
        return link_key(self.link)


def catalog_links(catalog: Catalog, data: str = "data") -> Iterator[tuple[str, HfLink | str]]:
    """Every (data file, link) pair of the catalog: each Link field of each kind of entry."""
    for lora in catalog.loras:
        yield catalog.sources[f"loras/{lora.id}"], lora.file.link
    for model in catalog.models:
        links = (model.source, *(download.link for download in model.downloads))
        yield from _pairs(catalog.sources[f"models/{model.id}"], links)
    for combo in catalog.combinations:
        yield from _pairs(catalog.sources[f"combinations/{combo.id}"], (d.link for d in combo.downloads))
    for use in catalog.special_use:
        yield catalog.sources[f"special-use/{use.id}"], use.link
    yield from _pairs(f"{data}/notes/rcm.yaml", (named.link for named in catalog.rcm.links))
    yield from _pairs(f"{data}/notes/merging.yaml", (catalog.merging.quote.source,))


def _pairs(source: str, links: Iterator[Link | None] | tuple[Link | None, ...]) -> Iterator[tuple[str, Link]]:
    return ((source, link) for link in links if link is not None)


def collect(pairs: Iterator[tuple[str, HfLink | str]], only: set[str] | None = None) -> list[LinkRef]:
    """Distinct links sorted by key, each with its sorted data files; ``only`` keeps those files' links."""
    sources: dict[str, set[str]] = {}
    links: dict[str, HfLink | str] = {}
    for source, link in pairs:
        if only is None or source in only:
            links.setdefault(link_key(link), link)
            sources.setdefault(link_key(link), set()).add(source)
    return [LinkRef(links[key], tuple(sorted(sources[key]))) for key in sorted(links)]


def changed_files(root: Path, ref: str) -> set[str]:
    """Data files (relative to root) that differ from the git ref, via ``git diff --name-only``."""
    command = ["git", "-C", str(root), "diff", "--name-only", "--relative", ref, "--", "data/"]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise UsageError(f"--changed-since {ref}: {result.stderr.strip() or 'git diff failed'}")
    return {line.strip() for line in result.stdout.splitlines() if line.strip()}


# --- running the checks ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckOptions:
    """Knobs of a run; tests pass a fast policy and a fake timer."""

    workers: int = 4
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    timer: Timer = field(default_factory=Timer)
    budget: int = 500
    window: float = 300.0
    progress: bool | None = None  # None: only on a terminal


Task = tuple[tuple[str, ...], Callable[[], Mapping[str, Finding]]]  # the link keys a task answers for


def check_links(refs: Sequence[LinkRef], snapshot: Snapshot, options: CheckOptions) -> dict[str, Finding]:
    """A finding per link key, from the Hub (grouped by repo) and from plain https probes."""
    api = make_api()
    pacer = Pacer(api.endpoint, budget=options.budget, window=options.window, timer=options.timer)
    hub = HubChecker(api, Retrier(options.policy, classify_hub_error, pacer=pacer, timer=options.timer))
    urls = UrlChecker(Retrier(options.policy, classify_url_error, timer=options.timer))
    tasks = list(_tasks(refs, snapshot, hub, urls))
    with observing(pacer):
        return _run_tasks(tasks, len(refs), options)


def _tasks(refs: Sequence[LinkRef], snapshot: Snapshot, hub: HubChecker, urls: UrlChecker) -> Iterator[Task]:
    hf_links = [ref.link for ref in refs if isinstance(ref.link, HfLink)]
    for repo, links in group_by_repo(hf_links).items():
        query = RepoQuery(repo, links, _known_sha256(snapshot, links))
        yield tuple(link_key(link) for link in links), lambda query=query: hub.check_repo(query)  # type: ignore[misc]
    for link in hf_links:
        if link.kind == "user":
            yield (link_key(link),), lambda link=link: {link_key(link): hub.check_user(link.repo)}  # type: ignore[misc]
    for ref in refs:
        if isinstance(ref.link, str):
            yield (ref.key,), lambda url=ref.link: {link_key(url): urls.check(url)}  # type: ignore[misc]


def _known_sha256(snapshot: Snapshot, links: Sequence[HfLink]) -> dict[str, str]:
    """The last seen sha256 of each file link (to recognise a file that moved)."""
    known: dict[str, str] = {}
    for link in links:
        fact = snapshot.fact(link_key(link))
        if link.kind == "file" and link.path and fact is not None and fact.sha256:
            known[link.path] = fact.sha256
    return known


def _run_tasks(tasks: Sequence[Task], total: int, options: CheckOptions) -> dict[str, Finding]:
    show = sys.stderr.isatty() if options.progress is None else options.progress
    findings: dict[str, Finding] = {}
    with (
        tqdm(total=total, unit="link", disable=not show, file=sys.stderr, desc="check") as bar,
        ThreadPoolExecutor(max_workers=options.workers) as pool,
    ):
        futures = {pool.submit(fn): keys for keys, fn in tasks}
        for future in as_completed(futures):
            findings.update(_result(future, futures[future]))
            bar.update(len(futures[future]))
    return findings


def _result(future: Future[Mapping[str, Finding]], keys: tuple[str, ...]) -> Mapping[str, Finding]:
    """A task's findings; an unexpected failure leaves its links unverified instead of ending the run."""
    try:
        return future.result()
    except Exception as err:
        failure = unverified(f"check failed: {type(err).__name__}: {err}")
        return dict.fromkeys(keys, failure)


# --- merging into the snapshot ---------------------------------------------------------------------

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


def exit_status(findings: Mapping[str, Finding]) -> int:
    """1 when a link is dead, else 3 when one is unverified, else 0."""
    statuses = {finding.status for finding in findings.values()}
    if statuses & DEAD:
        return EXIT_DEAD
    return EXIT_INCOMPLETE if "unverified" in statuses else EXIT_ALIVE


# --- the stage -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """The result of one check run."""

    rows: tuple[Row, ...]
    checked_at: str
    snapshot: Snapshot
    exit_code: int
    written: bool
    warnings: tuple[FileWarning, ...] = ()


def check_catalog(
    root: Path,
    *,
    changed_since: str | None = None,
    dry_run: bool = False,
    hub_only: bool = False,
    options: CheckOptions | None = None,
    now: Callable[[], str] = utc_now,
) -> Outcome:
    """Check the catalog under root, merge the findings and save the snapshot (unless dry_run)."""
    catalog = load_catalog(root / "data", root)
    only = changed_files(root, changed_since) if changed_since is not None else None
    refs = [
        ref for ref in collect(catalog_links(catalog), only) if not hub_only or isinstance(ref.link, HfLink)
    ]
    full = changed_since is None and not hub_only
    path = root / "data" / SNAPSHOT_NAME
    previous = load_snapshot(path, f"data/{SNAPSHOT_NAME}")
    options = options or CheckOptions()
    findings = check_links(refs, previous, options)
    checked_at = now()
    snapshot = merge_snapshot(previous, findings, checked_at, prune=full)
    snapshot, problems = inspect_headers(catalog, snapshot, options, checked_at, prune=full)
    written = False if dry_run else save_snapshot(path, snapshot)
    rows = tuple(_row(ref, findings[ref.key]) for ref in refs)
    warnings = file_warnings(catalog, snapshot, problems)
    return Outcome(rows, checked_at, snapshot, exit_status(findings), written, warnings)


def inspect_headers(
    catalog: Catalog, snapshot: Snapshot, options: CheckOptions, now: str, *, prune: bool
) -> tuple[Snapshot, dict[str, str]]:
    """Read the headers not yet in the snapshot (by sha256) and store their facts; unchanged files cost nothing."""
    wanted = targets(catalog.loras, snapshot.links, snapshot.headers)
    retrier = Retrier(options.policy, classify_hub_error, timer=options.timer)
    new, problems = read_headers(make_api(), retrier, wanted, options.workers)
    headers = merge_headers(snapshot, new, catalog.loras, prune=prune)
    if headers == snapshot.headers:
        return snapshot, problems
    return snapshot.model_copy(update={"headers": headers, "checked_at": now}), problems


def file_warnings(
    catalog: Catalog, snapshot: Snapshot, problems: Mapping[str, str]
) -> tuple[FileWarning, ...]:
    """Header contradictions of every inspected LoRA, and the headers that could not be read."""
    warnings: list[FileWarning] = []
    for lora in catalog.loras:
        source, label = catalog.sources[f"loras/{lora.id}"], lora.file.filename
        facts = facts_of(snapshot, lora)
        messages = lora_contradictions(facts, lora) if facts else []
        unread = problems.get(lora.id) or unreadable_of(snapshot, lora)
        messages += [unread] if unread else []
        warnings.extend(FileWarning(source, label, message) for message in messages)
    return tuple(warnings)


def _row(ref: LinkRef, finding: Finding) -> Row:
    label = ref.link.label if isinstance(ref.link, HfLink) else ref.link
    return Row(ref.key, label, link_url(ref.link), ref.sources, finding)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `python -m generator check`."""
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the JSON report to PATH")
    parser.add_argument("--report", type=Path, metavar="PATH", help="also write the Markdown report to PATH")
    parser.add_argument(
        "--changed-since",
        metavar="GIT_REF",
        help="check only the entries whose data files changed since GIT_REF",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="check and report, but do not write the snapshot"
    )
    parser.add_argument(
        "--hub-only",
        action="store_true",
        help="check only Hugging Face links (leave other https links as they are)",
    )
    parser.add_argument("--workers", type=int, default=4, help="concurrent requests (default: 4)")
    parser.add_argument("--attempts", type=int, default=5, help="attempts per request before 'unverified'")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per request (default: 30)")


def run(args: argparse.Namespace, *, now: Callable[[], str] = utc_now) -> int:
    """Run the stage: print the Markdown report; exit 0/1/3, or 2 on a data or usage error."""
    if args.workers < 1 or args.attempts < 1 or args.timeout <= 0:
        print("check: --workers and --attempts must be at least 1, --timeout positive", file=sys.stderr)
        return EXIT_USAGE
    policy = RetryPolicy(attempts=args.attempts, timeout=args.timeout)
    options = CheckOptions(workers=args.workers, policy=policy)
    try:
        outcome = check_catalog(
            args.root,
            changed_since=args.changed_since,
            dry_run=args.dry_run,
            hub_only=args.hub_only,
            options=options,
            now=now,
        )
    except DataError as err:
        print("\n".join(str(problem) for problem in err.problems))
        print(count_line(len(err.problems)))
        return EXIT_USAGE
    except UsageError as err:
        print(f"check: {err}", file=sys.stderr)
        return EXIT_USAGE
    _emit(args, outcome)
    return outcome.exit_code


def _emit(args: argparse.Namespace, outcome: Outcome) -> None:
    text = markdown(outcome.rows, checked_at=outcome.checked_at, warnings=outcome.warnings)
    print(text, end="")
    if args.report is not None:
        write_atomic(args.report, text)
    if args.json is not None:
        report = json_report(
            outcome.rows,
            checked_at=outcome.checked_at,
            exit_code=outcome.exit_code,
            warnings=outcome.warnings,
        )
        write_atomic(args.json, report)
