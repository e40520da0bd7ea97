"""Keep ONE rolling GitHub issue for the scheduled link check (`python -m generator link-issue`).

The decision is a pure function of the open issues labelled ``link-check`` and the outcome of
``python -m generator check``; running it is a thin layer over the ``gh`` CLI, so the rule can be
tested without GitHub.

The rule (one action per run):

========================  ==========================  ===========================================
check exit code           no open issue               open issue(s)
========================  ==========================  ===========================================
0  every link alive       nothing                     close the oldest with a comment
1  dead links             create                      update the oldest (body replaced)
3  incomplete             nothing                     update the oldest, saying the run was
                                                      incomplete (the issue stays open until a
                                                      complete run finds every link alive)
anything else (2: data    refused: exit 2, nothing    refused: exit 2, nothing touched
or usage error)           touched
========================  ==========================  ===========================================

Issues are ours only if their body carries :data:`MARKER`; other issues with the label (opened by a
person) are never touched. When several of ours are open, the oldest (lowest number) is kept and
the others are closed as duplicates in the same run. An "incomplete" run never opens an issue:
unverified results (rate limits, server errors) are not evidence of a dead link.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum

from generator.errors import ExitCode
from generator.github import gh
from generator.github.gh import BODY_LIMIT, Command, Executor
from generator.settings import Settings

MARKER = "<!-- lora-alchemy:link-check -->"
LABEL = "link-check"
TITLE = "Link check: dead links in the catalog"
LABEL_STYLE = ("--color", "d73a4a", "--description", "Dead links found by the scheduled link check")


class Kind(Enum):
    """What to do with the rolling issue."""

    CREATE = "create"
    UPDATE = "update"
    CLOSE = "close"
    NOTHING = "nothing"


@dataclass(frozen=True)
class Issue:
    """An issue as `gh issue list --json number,title,body,state` returns it."""

    number: int
    title: str
    body: str
    state: str = "OPEN"

    @property
    def is_ours(self) -> bool:
        """Open, and written by this command (it carries the marker)."""
        return self.state.upper() == "OPEN" and MARKER in self.body


@dataclass(frozen=True)
class Decision:
    """The single action for this run, plus duplicates to close alongside it."""

    kind: Kind
    number: int | None = None
    body: str | None = None
    comment: str | None = None
    duplicates: tuple[int, ...] = field(default_factory=tuple)


# --- the pure decision -------------------------------------------------------------------------


def decide(issues: Sequence[Issue], exit_code: int, report: str, run_url: str | None = None) -> Decision:
    """Choose the action for a check that ended with `exit_code` and wrote `report`.

    Raises ValueError for an exit code other than 0, 1 or 3: a data or usage error says nothing
    about the links, so the issue is left alone.
    """
    gh.require_outcome(exit_code)
    ours = sorted((issue for issue in issues if issue.is_ours), key=lambda issue: issue.number)
    if not ours:
        if exit_code == ExitCode.PROBLEMS:
            return Decision(Kind.CREATE, body=issue_body(report, exit_code, run_url))
        return Decision(Kind.NOTHING)
    keep, duplicates = ours[0], tuple(issue.number for issue in ours[1:])
    if exit_code == ExitCode.OK:
        return Decision(Kind.CLOSE, keep.number, comment=closing_comment(run_url), duplicates=duplicates)
    body = issue_body(report, exit_code, run_url)
    return Decision(Kind.UPDATE, keep.number, body=body, duplicates=duplicates)


def issue_body(report: str, exit_code: int, run_url: str | None, limit: int = BODY_LIMIT) -> str:
    """The issue body: marker, status line, the report (truncated to fit `limit`), footer."""
    head = f"{MARKER}\n{_status_line(exit_code)}\n\n"
    foot = "\n\n---\n" + _footer(run_url)
    report = gh.truncate(report.strip(), limit - len(head) - len(foot) - 1, gh.full_report(run_url))
    return head + report + foot


def closing_comment(run_url: str | None) -> str:
    """The comment left when a complete check finds every link alive."""
    return "The scheduled link check found every link alive: closing. " + _footer(run_url)


def duplicate_comment(kept: int) -> str:
    """The comment left on a duplicate rolling issue."""
    return f"Duplicate of #{kept}: the link check keeps a single rolling issue."


def _status_line(exit_code: int) -> str:
    if exit_code == ExitCode.INCOMPLETE:
        return (
            "> [!WARNING]\n> The last check was **incomplete**: some links could not be verified"
            " (rate limits, server errors). No dead link was confirmed, but this issue stays open until"
            " a complete run finds every link alive."
        )
    return "The scheduled link check found **dead links**. Fix or remove the entries below."


def _footer(run_url: str | None) -> str:
    where = f"[this run]({run_url})" if run_url else "the scheduled run"
    return f"Maintained by `python -m generator link-issue` from {where}; edits to this body are overwritten."


# --- from a decision to gh command lines -------------------------------------------------------


def plan(decision: Decision, repo: str | None = None) -> list[Command]:
    """The `gh` commands that carry out `decision` (empty for NOTHING)."""
    commands = _main_commands(decision, repo)
    if decision.number is not None:
        comment = duplicate_comment(decision.number)
        commands += [_close(repo, dup, comment, "not planned") for dup in decision.duplicates]
    return commands


def _main_commands(decision: Decision, repo: str | None) -> list[Command]:
    """The commands of the action itself, without the duplicates."""
    if decision.kind is Kind.CREATE:
        label = gh.gh(repo, "label", "create", LABEL, "--force", *LABEL_STYLE)
        create = ("--title", TITLE, "--label", LABEL, "--body-file", "-")
        return [label, gh.gh(repo, "issue", "create", *create, stdin=decision.body)]
    if decision.kind is Kind.UPDATE:
        return [gh.gh(repo, "issue", "edit", str(_number(decision)), "--body-file", "-", stdin=decision.body)]
    if decision.kind is Kind.CLOSE:
        return [_close(repo, _number(decision), decision.comment or "", "completed")]
    return []


def list_command(repo: str | None = None) -> Command:
    """The `gh` command listing the open issues labelled `link-check` as JSON."""
    return gh.gh(
        repo,
        "issue",
        "list",
        "--label",
        LABEL,
        "--state",
        "open",
        "--json",
        "number,title,body,state",
        "--limit",
        "100",
    )


def parse_issues(raw: str) -> list[Issue]:
    """Issues from the JSON printed by :func:`list_command`."""
    items = json.loads(raw or "[]")
    if not isinstance(items, list):
        raise ValueError("expected a JSON list of issues")
    return [
        Issue(
            int(item["number"]),
            str(item.get("title", "")),
            str(item.get("body") or ""),
            str(item.get("state", "OPEN")),
        )
        for item in items
    ]


def _close(repo: str | None, number: int, comment: str, reason: str) -> Command:
    return gh.gh(repo, "issue", "close", str(number), "--reason", reason, "--comment", comment)


def _number(decision: Decision) -> int:
    if decision.number is None:
        raise ValueError(f"a {decision.kind.value} decision needs an issue number")
    return decision.number


# --- execution ---------------------------------------------------------------------------------


def carry_out(
    exit_code: int,
    report: str,
    execute: Executor,
    *,
    list_issues: Callable[[], str],
    repo: str | None = None,
    run_url: str | None = None,
) -> Decision:
    """List the issues, decide, and run the resulting commands through `execute`."""
    decision = decide(parse_issues(list_issues()), exit_code, report, run_url)
    gh.execute_all(plan(decision, repo), execute)
    return decision


# --- CLI ---------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    """Entry point: 0 done, 1 a gh command failed, 2 usage error (bad exit code, missing report)."""
    settings = Settings()
    repo: str | None = args.repo or settings.github_repository
    try:
        report = args.report.read_text(encoding="utf-8")
        list_issues = gh.source(args.issues_json, list_command(repo), gh.subprocess_executor)
        execute = gh.printing_executor if args.dry_run else gh.subprocess_executor
        decision = carry_out(
            args.exit_code, report, execute, list_issues=list_issues, repo=repo, run_url=settings.run_url
        )
    except (OSError, ValueError) as error:
        print(f"link-issue: {error}", file=sys.stderr)
        return ExitCode.USAGE
    except subprocess.CalledProcessError as error:
        print(gh.failure_message("link-issue", error), file=sys.stderr)
        return ExitCode.PROBLEMS
    print(
        f"link-issue: {decision.kind.value} #{decision.number}"
        if decision.number
        else f"link-issue: {decision.kind.value}"
    )
    return 0
