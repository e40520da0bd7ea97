"""Stage `check`: verify every link of the catalog against the Hub and refresh data/hub-snapshot.json.

Links are collected from every Link field of the catalog and deduplicated by :func:`link_key`; Hub links
are grouped by repo (one API call each, see :mod:`generator.hub.repos`), users and plain https links
(:mod:`generator.hub.urls`) are checked one by one, all in a small thread pool. Then the headers of new
files are read (:mod:`generator.hub.headers`) and the snapshot is updated (:mod:`generator.hub.merge`).

Snapshot stability rule (a repeated run on an unchanged Hub writes nothing):

* a verified result whose facts -- status, size, sha256, gated, new repo, new path, HTTP status -- equal
  the stored ones keeps the stored fact untouched, including its times and the commit it was first seen
  at (a new commit that changed nothing about the file is not news);
* when the facts differ, the fact is replaced: ``verified_at`` is the time of this run and ``checked_at``
  the time the current *status* was first seen (kept while the status stays the same);
* an ``unverified`` result is no fact: the previous fact stays byte for byte and a link never verified
  stays absent; why it failed goes to the report (so an outage of the Hub changes nothing in the file,
  and opens neither a snapshot pull request nor a dead-links issue);
* the top-level ``checked_at`` is the time of the last run that changed anything; facts of links no
  longer in the catalog are dropped (only on a full run, not with ``--changed-since``).

The snapshot is written atomically (temporary file, fsync, rename) and only when its text changes.

Nothing a server does can hang the run: every request has a time and size limit
(:class:`~generator.hub.client.Limits`), every server-requested wait is capped, and the run has one
deadline (``--deadline``, 30 minutes by default: under the weekly job's timeout) after which the links
not yet checked are ``unverified``, the report is written and the snapshot keeps their last good facts.

One check at a time: a run that writes the snapshot holds an exclusive lock on data/ from reading the
snapshot to writing it (a second run stops at once with exit 2, instead of overwriting the first one's facts
with its older ones), and removes the temporary files that killed runs left there.

Exit status: 0 all alive, 1 dead links found, 2 data or usage error (or another check running), 3 incomplete
(only unverified problems), 4 a file could not be written (a full disk, a read-only data/: the message names
the file and the cause; the report is printed, and written to ``--report``/``--json`` where it can be, first).
Gated, moved and renamed links are reported but alive (the snapshot's ``DEAD`` set decides).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

from tqdm import tqdm

from generator.catalog.contradictions import file_contradictions
from generator.catalog.identity import identity_warnings
from generator.catalog.models import HfLink, link_url
from generator.catalog.snapshot import (
    DEAD,
    Snapshot,
    facts_of,
    link_key,
    read_snapshot,
    snapshot_path,
    unreadable_of,
)
from generator.catalog.validate import Catalog, load_catalog
from generator.errors import DataError, ExitCode, file_error, print_problems
from generator.files import Busy, exclusive, remove_stale_temporaries, write_atomic
from generator.hub.client import Limits, make_api
from generator.hub.collect import LinkRef, UsageError, catalog_links, changed_files, collect
from generator.hub.discover import HEADER_READS, candidate_rows, discover, with_headers
from generator.hub.findings import Finding, Listing, unverified
from generator.hub.headers import candidate_targets, catalog_entries, merge_headers, read_headers, targets
from generator.hub.merge import merge_snapshot, save_snapshot
from generator.hub.pacing import API_BUDGET, API_WINDOW, Pacer, Timer, observing
from generator.hub.report import CandidateRow, DiscoveryNote, FileWarning, Row, json_report, markdown
from generator.hub.repos import HubChecker, RepoQuery, group_by_repo
from generator.hub.retry import Retrier, RetryPolicy
from generator.hub.urls import UrlChecker


def utc_now() -> str:
    """The current UTC time, ISO 8601 with seconds: 2026-11-26T12:00:00Z."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- running the checks ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckOptions:
    """Knobs of a run; tests pass a fast policy and a fake clock for the pacer (retries wait through stamina)."""

    workers: int = 4
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    timer: Timer = field(default_factory=Timer)
    budget: int = API_BUDGET
    window: float = API_WINDOW
    progress: bool | None = None  # None: only on a terminal
    limits: Limits = field(default_factory=Limits)
    deadline: float = 30 * 60.0
    """Seconds the whole run may take; what is left unchecked then is unverified."""

    def started(self) -> CheckOptions:
        """These options with the run's deadline fixed from now, in the policy and the request limits."""
        ends = time.monotonic() + self.deadline
        return replace(
            self,
            policy=replace(self.policy, run_deadline=ends),
            limits=replace(self.limits, run_deadline=ends),
        )


Task = tuple[tuple[str, ...], Callable[[], Mapping[str, Finding]]]  # the link keys a task answers for


def check_links(
    refs: Sequence[LinkRef],
    snapshot: Snapshot,
    options: CheckOptions,
    listings: dict[str, Listing] | None = None,
) -> dict[str, Finding]:
    """A finding per link key, from the Hub (grouped by repo) and from plain https probes.

    ``listings`` receives each repo's file list as model_info gave it (for discovery, at no extra call).
    """
    api = make_api(limits=options.limits)
    pacer = Pacer(
        api.endpoint,
        budget=options.budget,
        window=options.window,
        timer=options.timer,
        max_wait=options.policy.max_server_wait,
        until=options.timer.monotonic() + options.deadline,
    )
    hub = HubChecker(api, Retrier(options.policy, pacer=pacer))
    urls = UrlChecker(options.policy, options.limits)
    tasks = list(_tasks(refs, snapshot, hub, urls))
    with observing(pacer):
        findings = _run_tasks(tasks, len(refs), options)
    if listings is not None:
        listings.update(hub.listings)
    return findings


def _tasks(refs: Sequence[LinkRef], snapshot: Snapshot, hub: HubChecker, urls: UrlChecker) -> Iterator[Task]:
    hf_links = [ref.link for ref in refs if isinstance(ref.link, HfLink)]
    for repo, links in group_by_repo(hf_links).items():
        query = RepoQuery(repo, links, _known_sha256(snapshot, links))
        yield tuple(link_key(link) for link in links), partial(hub.check_repo, query)
    for link in hf_links:
        if link.kind == "user":
            yield (link_key(link),), partial(_check_user, hub, link)
    for ref in refs:
        if isinstance(ref.link, str):
            yield (ref.key,), partial(_check_url, urls, ref.link)


def _check_user(hub: HubChecker, link: HfLink) -> dict[str, Finding]:
    """A user link's finding, keyed like every other task's (bound per link, never late-bound)."""
    return {link_key(link): hub.check_user(link.repo)}


def _check_url(urls: UrlChecker, url: str) -> dict[str, Finding]:
    """A plain https link's finding, keyed like every other task's."""
    return {link_key(url): urls.check(url)}


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


def exit_status(findings: Mapping[str, Finding]) -> ExitCode:
    """1 when a link is dead, else 3 when one is unverified, else 0."""
    statuses = {finding.status for finding in findings.values()}
    if statuses & DEAD:
        return ExitCode.PROBLEMS
    return ExitCode.INCOMPLETE if "unverified" in statuses else ExitCode.OK


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
    candidates: tuple[CandidateRow, ...] = ()
    notes: tuple[DiscoveryNote, ...] = ()
    unsaved: str | None = None
    """Why the snapshot could not be written (the file and the cause), when it could not."""
    cleaned: int = 0
    """Temporary files of killed runs removed from data/."""


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
    path = snapshot_path(root)
    with contextlib.nullcontext() if dry_run else exclusive(path.parent):  # Busy while another check writes
        cleaned = 0 if dry_run else remove_stale_temporaries(path)
        previous = read_snapshot(root)
        checked_at, snapshot, findings, notes, problems = _run_check(
            catalog, refs, previous, (options or CheckOptions()).started(), now, changed_since, hub_only
        )
        written, unsaved = (False, None) if dry_run else _save(path, snapshot, root)
    rows = tuple(_row(ref, findings[ref.key]) for ref in refs)
    warnings = file_warnings(catalog, snapshot, problems)
    candidates = candidate_rows(snapshot)
    status = exit_status(findings)
    return Outcome(rows, checked_at, snapshot, status, written, warnings, candidates, notes, unsaved, cleaned)


def _run_check(
    catalog: Catalog,
    refs: Sequence[LinkRef],
    previous: Snapshot,
    options: CheckOptions,
    now: Callable[[], str],
    changed_since: str | None,
    hub_only: bool,
) -> tuple[str, Snapshot, dict[str, Finding], tuple[DiscoveryNote, ...], dict[str, str]]:
    """Check the links, discover candidates and read headers: (time, new snapshot, findings, notes, problems)."""
    full = changed_since is None and not hub_only
    listings: dict[str, Listing] = {}
    findings = check_links(refs, previous, options, listings)
    checked_at = now()
    snapshot = merge_snapshot(previous, findings, checked_at, prune=full)
    notes: tuple[DiscoveryNote, ...] = ()
    if changed_since is None:  # every repo was listed: look for files next to the catalogued ones
        snapshot, notes = discover(catalog, snapshot, listings, checked_at)
    snapshot, problems = inspect_headers(catalog, snapshot, options, checked_at, prune=full)
    return checked_at, snapshot, findings, notes, problems


def _save(path: Path, snapshot: Snapshot, root: Path) -> tuple[bool, str | None]:
    """Write the snapshot: (whether its text changed, None), or (False, the file and why it was not written)."""
    try:
        return save_snapshot(path, snapshot), None
    except OSError as err:  # a full disk, a read-only data/: the run's report must still be written
        return False, file_error(err, path.relative_to(root).as_posix())


def inspect_headers(
    catalog: Catalog, snapshot: Snapshot, options: CheckOptions, now: str, *, prune: bool
) -> tuple[Snapshot, dict[str, str]]:
    """Read the headers not yet in the snapshot (by sha256) and store what they say; unchanged files cost
    nothing. Catalogued files keep their full facts; candidates a bounded line, at most HEADER_READS a run."""
    wanted = targets(catalog.loras, snapshot.links, snapshot.headers)
    wanted += candidate_targets(snapshot.candidates, HEADER_READS, now)
    retrier = Retrier(options.policy)
    results = read_headers(make_api(limits=options.limits), retrier, wanted, options.workers)
    new, problems = catalog_entries(results)
    snapshot = with_headers(
        snapshot, {target.sha256: result for target, result in results if target.candidate}, now
    )
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
        fact = snapshot.fact(link_key(lora.file.link))
        messages = file_contradictions(facts, lora, fact.size if fact else None) if facts else []
        unread = problems.get(lora.id) or unreadable_of(snapshot, lora)
        messages += [unread] if unread else []
        warnings.extend(FileWarning(source, label, message) for message in messages)
    for lora, message in identity_warnings(catalog, snapshot):  # a mirror of other bytes, a LoRA listed twice
        warnings.append(FileWarning(catalog.sources[f"loras/{lora.id}"], lora.file.filename, message))
    return tuple(warnings)


def _row(ref: LinkRef, finding: Finding) -> Row:
    label = ref.link.label if isinstance(ref.link, HfLink) else ref.link
    return Row(ref.key, label, link_url(ref.link), ref.sources, finding)


def run(args: argparse.Namespace, *, now: Callable[[], str] = utc_now) -> int:
    """Run the stage: print the Markdown report; exit 0/1/3, or 2 on a data or usage error."""
    if args.workers < 1 or args.attempts < 1 or args.timeout <= 0 or args.deadline <= 0:
        print(
            "check: --workers and --attempts must be at least 1, --timeout and --deadline positive",
            file=sys.stderr,
        )
        return ExitCode.USAGE
    policy = RetryPolicy(attempts=args.attempts, timeout=args.timeout)
    options = CheckOptions(workers=args.workers, policy=policy, deadline=args.deadline * 60)
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
        print_problems(err)
        return ExitCode.USAGE
    except UsageError as err:
        print(f"check: {err}", file=sys.stderr)
        return ExitCode.USAGE
    except Busy:
        print(f"check: {BUSY}", file=sys.stderr)
        return ExitCode.USAGE
    if outcome.cleaned:
        print(
            f"check: removed {outcome.cleaned} temporary file(s) that killed runs left in data/",
            file=sys.stderr,
        )
    failures = _emit(args, outcome)
    if outcome.unsaved is not None:
        failures.insert(0, f"{outcome.unsaved}: the snapshot was not written ({UNSAVED})")
    for failure in failures:
        print(f"check: {failure}", file=sys.stderr)
    return ExitCode.FILE_ERROR if failures else outcome.exit_code


BUSY = (
    "another check is running in this project (it holds the lock on data/); run this one when it has ended, "
    "so that neither loses the other's facts"
)
UNSAVED = (
    "the links were checked and the report is complete, but this run's facts are lost; free the disk or make "
    "data/ writable and run the check again"
)


def _emit(args: argparse.Namespace, outcome: Outcome) -> list[str]:
    """Print the Markdown report and write the report files; what could not be written (file and cause)."""
    text = markdown(
        outcome.rows,
        checked_at=outcome.checked_at,
        warnings=outcome.warnings,
        candidates=outcome.candidates,
        notes=outcome.notes,
    )
    print(text, end="")
    reports: list[tuple[Path, Callable[[], str]]] = []
    if args.report is not None:
        reports.append((args.report, lambda: text))
    if args.json is not None:
        reports.append((args.json, partial(_json, outcome)))
    failures: list[str] = []
    for path, content in reports:
        try:
            write_atomic(path, content())
        except OSError as err:
            failures.append(f"{file_error(err, path)}: the report was not written (it is printed above)")
    return failures


def _json(outcome: Outcome) -> str:
    return json_report(
        outcome.rows,
        checked_at=outcome.checked_at,
        exit_code=outcome.exit_code,
        warnings=outcome.warnings,
        candidates=outcome.candidates,
        notes=outcome.notes,
    )
