"""What the GitHub commands share: the command value, the `gh` command line, how commands run.

Both :mod:`generator.github.rolling_issue` and :mod:`generator.github.snapshot_pr` decide with a pure
function and then hand a list of :class:`Command` values to an :data:`Executor`; this module is that
thin layer, so neither command module imports the other and a test can pass its own executor.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from generator.errors import ExitCode

OUTCOMES = frozenset({ExitCode.OK, ExitCode.PROBLEMS, ExitCode.INCOMPLETE})
"""The exit codes of `check` that say something about the links."""

BODY_LIMIT = 60_000
"""Issue and pull-request bodies stay below this many characters (GitHub refuses more than 65,536)."""


@dataclass(frozen=True)
class Command:
    """One `git` or `gh` invocation; `stdin` feeds `--body-file -`.

    `on_failure` runs when this command fails, before the failure is reported: it undoes what the
    commands before it left behind (a pushed branch whose pull request could not be opened).
    """

    argv: tuple[str, ...]
    stdin: str | None = None
    on_failure: Command | None = None


Executor = Callable[[Command], str]
"""Runs a command and returns its standard output; raises CalledProcessError on failure."""


def require_outcome(exit_code: int) -> None:
    """Refuse an exit code of `check` that says nothing about the links (2: data or usage error)."""
    if exit_code not in OUTCOMES:
        raise ValueError(f"check exit code {exit_code} is not a link-check outcome (expected 0, 1 or 3)")


def full_report(run_url: str | None) -> str:
    """Where the whole JSON report of a run is: the workflow uploads it in the `link-check` artifact."""
    run = f"[this run]({run_url})" if run_url else "the run"
    return f"`report.json` in the `link-check` artifact of {run}"


def truncate(text: str, limit: int, whole: str) -> str:
    """`text` if it fits in `limit` characters, else its longest whole-line prefix plus a note saying how
    long it was and where the whole of it is (`whole`, e.g. :func:`full_report`)."""
    if len(text) <= limit:
        return text
    note = f"\n\n> [!NOTE]\n> Truncated: {len(text):,} characters, more than GitHub takes here."
    note += f" The whole of it: {whole}."
    cut = text[: max(limit - len(note), 0)]
    if "\n" in cut:
        cut = cut[: cut.rindex("\n")]
    return cut + note


def gh(repo: str | None, *args: str, stdin: str | None = None) -> Command:
    """``gh <group> <verb> [--repo repo] <args…>``: `--repo` goes after the subcommand, where gh reads it."""
    target = ("--repo", repo) if repo else ()
    return Command(("gh", *args[:2], *target, *args[2:]), stdin)


def api_repo(repo: str | None) -> str:
    """The ``owner/name`` of an API path; without one, gh fills its placeholders from the clone's remote."""
    return repo or "{owner}/{repo}"


def subprocess_executor(command: Command) -> str:
    """Run `command` for real; raise CalledProcessError on a non-zero exit."""
    done = subprocess.run(command.argv, input=command.stdin, capture_output=True, text=True, check=True)
    return done.stdout


def printing_executor(command: Command) -> str:
    """Dry run: print the command line (and the size of its stdin) instead of running it."""
    suffix = f"  # stdin: {len(command.stdin):,} characters" if command.stdin is not None else ""
    print(shlex.join(command.argv) + suffix)
    if command.on_failure is not None:
        print(f"  # if it fails: {shlex.join(command.on_failure.argv)}")
    return ""


def execute_all(commands: list[Command], execute: Executor) -> None:
    """Run `commands` in order and stop at the first failure, after running its `on_failure`.

    The original failure is the one raised; a failing clean-up only adds a line on stderr (what it
    should have removed is then removed by the next run).
    """
    for command in commands:
        try:
            execute(command)
        except subprocess.CalledProcessError:
            if command.on_failure is not None:
                _clean_up(command.on_failure, execute)
            raise


def _clean_up(command: Command, execute: Executor) -> None:
    try:
        execute(command)
    except subprocess.CalledProcessError as error:
        print(failure_message("clean-up", error), file=sys.stderr)


def source(path: Path | None, command: Command, execute: Executor) -> Callable[[], str]:
    """Where a listing comes from: the file a test or a dry run names, else `command` run for real."""
    if path is not None:
        return lambda: path.read_text(encoding="utf-8")
    return lambda: execute(command)


def failure_message(stage: str, error: subprocess.CalledProcessError) -> str:
    """One line naming the command that failed and what it printed on stderr."""
    argv = error.cmd if isinstance(error.cmd, (list, tuple)) else [str(error.cmd)]
    return f"{stage}: {shlex.join(str(arg) for arg in argv)} failed: {error.stderr}"
