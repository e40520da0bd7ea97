"""Propose the refreshed Hub snapshot as a pull request (`python -m generator snapshot-pr`).

Every run that has new facts commits them to a **fresh branch** named after the run,
``link-check/hub-snapshot-<run id>-<attempt>``, cut from the base branch's *current* tip (fetched
just before, see :mod:`generator.github.branch`), and opens a pull request from it; the pull requests
of earlier runs are then closed and their branches deleted. No push ever rewrites a branch, and no
pushed tree differs from the base's tip in anything but the snapshot: GitHub refuses any other
difference in a workflow file to a token without the ``workflows`` permission (``GITHUB_TOKEN`` can
never have it). Whether the snapshot changed is judged against that tip too.

The decision is a pure function of the facts the workflow gathers; running it is a thin layer over
``git`` and the ``gh`` CLI, so the rule can be tested without GitHub.

The rule (one action per run):

=======================  ========================  ===============================================
the check run            no open snapshot PR       open snapshot PR(s)
=======================  ========================  ===============================================
snapshot changed         open a PR from the        open a PR from the run's branch, then close the
(exit 0, 1 or 3)         run's branch              old ones as superseded and delete their branches
unchanged, complete      nothing                   close them as stale (main's snapshot is
(exit 0 or 1)                                      current) and delete their branches
unchanged, incomplete    nothing                   nothing: an incomplete run proves nothing
(exit 3)
anything else (2: data   refused: exit 2, nothing touched
or usage error)
=======================  ========================  ===============================================

In every case, snapshot branches without an open pull request (a PR closed by hand, a push whose PR
could not be opened and whose deletion failed) are deleted. When GitHub refuses to open the pull
request, the branch this run just pushed is deleted at once, before the failure is reported. Pull requests and branches are ours only if the branch name has
the shape above (or is the old fixed ``link-check/hub-snapshot``) and, for a PR, its head lives in this
repository: a fork's PR is never touched, whatever its branch is called.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path

from generator.catalog.snapshot import read_snapshot
from generator.errors import DataError, ExitCode
from generator.github import gh
from generator.github.branch import SNAPSHOT_PATH, commit_commands, differs_from_base
from generator.github.gh import Command, Executor
from generator.hub.discover import candidate_rows
from generator.hub.report import candidate_lines
from generator.settings import Settings

BRANCH_PREFIX = "link-check/hub-snapshot"
BRANCH = re.compile(rf"{re.escape(BRANCH_PREFIX)}(?:-[0-9]+-[0-9]+)?")
"""Our branches: ``link-check/hub-snapshot-<run id>-<attempt>``, or the fixed name older runs used."""
TITLE = "Refresh the Hub snapshot"
PERMISSION_HINT = (
    "the token may not open pull requests: configure the GitHub App, or enable Settings → Actions → General"
    ' → "Allow GitHub Actions to create and approve pull requests" (MAINTAINING.md, "Snapshot pull requests")'
)


class Kind(Enum):
    """What to do with the snapshot pull request."""

    OPEN = "open"
    CLOSE = "close"
    NOTHING = "nothing"


@dataclass(frozen=True)
class PullRequest:
    """An open pull request as `gh pr list --json number,headRefName,isCrossRepository` returns it."""

    number: int
    branch: str
    cross_repository: bool = False

    @property
    def is_ours(self) -> bool:
        """Opened from one of our snapshot branches in this repository (never a fork's)."""
        return not self.cross_repository and is_snapshot_branch(self.branch)


@dataclass(frozen=True)
class Decision:
    """This run's action: open a PR from `branch`, or close `close`; `delete` branches in every case."""

    kind: Kind
    branch: str | None = None
    close: tuple[int, ...] = field(default_factory=tuple)
    delete: tuple[str, ...] = field(default_factory=tuple)


def is_snapshot_branch(name: str) -> bool:
    """Whether `name` is a branch this command created (and may therefore delete)."""
    return BRANCH.fullmatch(name) is not None


def branch_for_run(run_id: str | int, attempt: str | int = 1) -> str:
    """The fresh branch of one run attempt: a re-run gets its own, so no push ever replaces a branch."""
    name = f"{BRANCH_PREFIX}-{run_id}-{attempt}"
    if not is_snapshot_branch(name):
        raise ValueError(f"run id {run_id!r} and attempt {attempt!r} make no valid branch name")
    return name


# --- the pure decision -------------------------------------------------------------------------


def decide(
    *, changed: bool, exit_code: int, pulls: Sequence[PullRequest], branches: Sequence[str], candidate: str
) -> Decision:
    """Choose the action for a check that ended with `exit_code` and did (not) change the snapshot.

    `pulls` are the open pull requests, `branches` the repository's branches under ``link-check/``,
    `candidate` the fresh branch of this run. Raises ValueError for an exit code other than 0, 1 or 3,
    or a candidate that is not a fresh snapshot branch.
    """
    gh.require_outcome(exit_code)
    if candidate == BRANCH_PREFIX or not is_snapshot_branch(candidate):
        raise ValueError(f"{candidate!r} is not a snapshot branch name ({BRANCH_PREFIX}-<run id>-<attempt>)")
    if candidate in branches or any(pull.branch == candidate for pull in pulls):
        raise ValueError(f"branch {candidate!r} already exists: each run pushes to a branch of its own")
    ours = sorted((pull for pull in pulls if pull.is_ours), key=lambda pull: pull.number)
    if changed:
        kind = Kind.OPEN
    elif ours and exit_code != ExitCode.INCOMPLETE:
        kind = Kind.CLOSE
    else:
        kind = Kind.NOTHING
    closing = ours if kind is not Kind.NOTHING else []
    kept = {pull.branch for pull in ours} - {pull.branch for pull in closing}
    ended = {pull.branch for pull in closing} | {name for name in branches if is_snapshot_branch(name)}
    return Decision(
        kind,
        branch=candidate if kind is Kind.OPEN else None,
        close=tuple(pull.number for pull in closing),
        delete=tuple(sorted(ended - kept)),
    )


def pr_body(
    run_url: str | None, superseded: Sequence[int], *, branch: str, app_token: bool, extra: str = ""
) -> str:
    """The body of a new snapshot pull request from `branch` (``extra``: Markdown such as the candidates).

    The body stays under :data:`~generator.github.gh.BODY_LIMIT` characters, whatever `extra` holds
    (GitHub refuses a body over 65,536 and the pull request would then fail every week): `extra` is cut
    at a whole line, with a note pointing at the run's full JSON report.
    """
    where = f"[scheduled link check]({run_url})" if run_url else "scheduled link check"
    head = [
        f"Sizes, hashes and link status refreshed by the {where}.",
        "",
        f"Generated file (`{SNAPSHOT_PATH}`): review the diff, do not edit it by hand. The check's report is"
        f" in the run's job summary; all of it, as JSON: {gh.full_report(run_url)}.",
    ]
    tail: list[str] = []
    if superseded:
        tail += ["", "Supersedes " + ", ".join(f"#{number}" for number in superseded) + "."]
    if not app_token:
        tail += ["", *workflow_token_note(branch)]
    tail += [
        "",
        "---",
        "Maintained by `python -m generator snapshot-pr`: the next run that finds new facts replaces this"
        " pull request with a new one and deletes this branch.",
    ]
    if extra.strip():
        room = gh.BODY_LIMIT - len("\n".join([*head, "", "", *tail])) - 2
        head += ["", gh.truncate(extra.strip(), room, gh.full_report(run_url))]
    return "\n".join([*head, *tail]) + "\n"


def workflow_token_note(branch: str) -> list[str]:
    """What a pull request opened with ``GITHUB_TOKEN`` needs before "CI OK" reports on it.

    GitHub behaves one of two ways, depending on the repository and the time: either no workflow starts
    for such a pull request (GitHub's long-standing rule against runs triggered by its own token), or the
    runs are created and held until a maintainer approves them (GitHub's documentation as of mid-2026).
    The note says how to tell which, and what to do in each case.
    """
    runs = f"gh run list --branch {branch} --event pull_request --json workflowName,conclusion"
    return [
        "> [!NOTE]",
        "> Opened with the workflow token: GitHub either starts **no** CI run for this pull request, or holds"
        " its runs **for approval**. To tell which, look at the checks below, or run"
        f" `{runs}`:",
        "> - runs whose conclusion is `action_required` (an **Approve workflows to run** button here): approve"
        " them after a look at the diff;",
        "> - no run at all (an empty list): close this pull request and reopen it; the reopening is yours, so"
        " CI starts.",
        ">",
        "> MAINTAINING.md, “Snapshot pull requests”, says how a GitHub App avoids both.",
    ]


def superseded_comment(branch: str, run_url: str | None) -> str:
    """The comment left on a snapshot PR that a newer run replaces."""
    where = f" ([run]({run_url}))" if run_url else ""
    return f"Superseded by the snapshot on branch `{branch}`{where}: closing, and deleting this branch."


def stale_comment(run_url: str | None) -> str:
    """The comment left on a snapshot PR when a complete run finds main's snapshot current."""
    where = f"[The scheduled link check]({run_url})" if run_url else "The scheduled link check"
    return f"{where} found `{SNAPSHOT_PATH}` on the base branch current: closing, and deleting this branch."


# --- from a decision to git and gh command lines -----------------------------------------------


def plan(
    decision: Decision,
    *,
    base: str,
    repo: str | None = None,
    run_url: str | None = None,
    app_token: bool = False,
    extra: str = "",
) -> list[Command]:
    """The commands that carry out `decision`: commit, push and open first, then close, then delete."""
    commands: list[Command] = []
    if decision.kind is Kind.OPEN:
        body = pr_body(run_url, decision.close, branch=_branch(decision), app_token=app_token, extra=extra)
        commands += _open_commands(decision, base, repo, body)
        comment = superseded_comment(_branch(decision), run_url)
    else:
        comment = stale_comment(run_url)
    commands += [gh.gh(repo, "pr", "close", str(number), "--comment", comment) for number in decision.close]
    commands += [delete_branch_command(repo, name) for name in decision.delete]
    return commands


def _open_commands(decision: Decision, base: str, repo: str | None, body: str) -> list[Command]:
    """Commit and push the new branch, then open the pull request; if GitHub refuses the pull request,
    the branch just pushed is deleted at once rather than left behind as an orphan."""
    branch = _branch(decision)
    create = gh.gh(
        repo, "pr", "create", "--base", base, "--head", branch, "--title", TITLE, "--body-file", "-"
    )
    return [
        *commit_commands(branch, base),
        replace(create, stdin=body, on_failure=delete_branch_command(repo, branch)),
    ]


def delete_branch_command(repo: str | None, name: str) -> Command:
    """The `gh` command deleting branch `name` of the repository."""
    return Command(("gh", "api", "--method", "DELETE", f"repos/{gh.api_repo(repo)}/git/refs/heads/{name}"))


def list_pulls_command(repo: str | None = None) -> Command:
    """The `gh` command listing the open pull requests as JSON."""
    fields = "number,headRefName,isCrossRepository"
    return gh.gh(repo, "pr", "list", "--state", "open", "--json", fields, "--limit", "1000")


def list_branches_command(repo: str | None = None) -> Command:
    """The `gh` command listing the repository's branches under ``link-check/``, one ref per line."""
    path = f"repos/{gh.api_repo(repo)}/git/matching-refs/heads/link-check/"
    return Command(("gh", "api", "--paginate", path, "--jq", ".[].ref"))


def parse_pulls(raw: str) -> list[PullRequest]:
    """Pull requests from the JSON printed by :func:`list_pulls_command`."""
    items = json.loads(raw or "[]")
    if not isinstance(items, list):
        raise ValueError("expected a JSON list of pull requests")
    return [
        PullRequest(int(item["number"]), str(item["headRefName"]), bool(item.get("isCrossRepository")))
        for item in items
    ]


def parse_branches(raw: str) -> list[str]:
    """Branch names from the lines printed by :func:`list_branches_command` (``refs/heads/`` removed)."""
    return [line.strip().removeprefix("refs/heads/") for line in raw.splitlines() if line.strip()]


def _branch(decision: Decision) -> str:
    if decision.branch is None:
        raise ValueError("an open decision needs a branch")
    return decision.branch


# --- execution ---------------------------------------------------------------------------------


def carry_out(
    *,
    changed: bool,
    exit_code: int,
    candidate: str,
    base: str,
    execute: Executor,
    list_pulls: Callable[[], str],
    list_branches: Callable[[], str],
    repo: str | None = None,
    run_url: str | None = None,
    app_token: bool = False,
    extra: str = "",
) -> Decision:
    """List the pull requests and branches, decide, and run the resulting commands through `execute`.

    `changed` says the check changed the snapshot of the run's checkout; it counts only if the snapshot
    also differs from the base's current tip (a merge may have brought the same facts meanwhile).
    """
    pulls, branches = parse_pulls(list_pulls()), parse_branches(list_branches())

    def decide_for(changed: bool) -> Decision:
        return decide(
            changed=changed, exit_code=exit_code, pulls=pulls, branches=branches, candidate=candidate
        )

    decision = decide_for(changed)  # refuses a bad exit code or branch before any git command runs
    if decision.kind is Kind.OPEN and not differs_from_base(base, execute):
        decision = decide_for(False)
    gh.execute_all(
        plan(decision, base=base, repo=repo, run_url=run_url, app_token=app_token, extra=extra), execute
    )
    return decision


def summary(decision: Decision) -> str:
    """One line saying what the run did."""
    text = f"snapshot-pr: {decision.kind.value}"
    if decision.branch:
        text += f" from {decision.branch}"
    if decision.close:
        text += "; closed " + ", ".join(f"#{number}" for number in decision.close)
    if decision.delete:
        text += "; deleted " + ", ".join(decision.delete)
    return text


# --- CLI ---------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    """Entry point: 0 done, 1 a git or gh command failed, 2 usage error (bad exit code, branch, JSON)."""
    settings = Settings()
    repo: str | None = args.repo or settings.github_repository
    execute = gh.printing_executor if args.dry_run else gh.subprocess_executor
    try:
        decision = carry_out(
            changed=args.changed == "true",
            exit_code=args.exit_code,
            candidate=args.branch,
            base=args.base,
            execute=execute,
            list_pulls=gh.source(args.pulls_json, list_pulls_command(repo), gh.subprocess_executor),
            list_branches=gh.source(args.branches_json, list_branches_command(repo), gh.subprocess_executor),
            repo=repo,
            run_url=settings.run_url,
            app_token=args.app_token,
            extra=candidates_markdown(args.root),
        )
    except (OSError, ValueError, KeyError, DataError) as error:
        print(f"snapshot-pr: {error}", file=sys.stderr)
        return ExitCode.USAGE
    except subprocess.CalledProcessError as error:
        print(gh.failure_message("snapshot-pr", error), file=sys.stderr)
        if "not permitted to create or approve pull requests" in str(error.stderr):
            print(f"snapshot-pr: {PERMISSION_HINT}", file=sys.stderr)
        return ExitCode.PROBLEMS
    print(summary(decision))
    return 0


def candidates_markdown(root: Path) -> str:
    """The snapshot's "not in the catalog yet" section, for the PR body (empty when there is none)."""
    snapshot = read_snapshot(root)
    return "".join(candidate_lines(candidate_rows(snapshot), snapshot.checked_at or ""))
