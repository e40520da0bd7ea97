"""The snapshot commit, made on the base branch's **current** tip (not on the commit the run checked out).

GitHub refuses a push whose tree's workflow files differ from the base branch's current tip to any token
without the ``workflows`` permission (``GITHUB_TOKEN`` can never have it), and that includes a *new*
branch. The run's checkout goes stale in two everyday ways: a workflow change (Dependabot's, on Monday)
merged while the run is in flight, and "Re-run failed jobs", which reuses the old commit. So the new
snapshot is committed on top of the tip fetched just before the push, and its tree differs from that tip
by ``data/hub-snapshot.json`` alone, whatever else moved.

How, with plain git and no conflict possible: the new file is committed on the run's own commit (a local
commit, never pushed), a branch is created at the fetched tip, and the file is taken whole from that
local commit. Nothing is merged: the run's snapshot replaces the tip's, as the check intends.
"""

from __future__ import annotations

from generator.github.gh import Command, Executor

SNAPSHOT_PATH = "data/hub-snapshot.json"
COMMIT_MESSAGE = "Refresh the Hub snapshot (scheduled link check)"
BOT = ("github-actions[bot]", "41898282+github-actions[bot]@users.noreply.github.com")


def fetch_command(base: str) -> Command:
    """Fetch the base branch's current tip into FETCH_HEAD (one commit is enough: nothing is merged)."""
    return Command(("git", "fetch", "--quiet", "--no-tags", "--depth=1", "origin", f"refs/heads/{base}"))


def differs_from_base(base: str, execute: Executor) -> bool:
    """Whether the snapshot in the working tree differs from the one on `base`'s current tip.

    A run whose new facts a merge has already brought to the base (last week's pull request merged
    while this run was checking) has nothing to propose. When the blob cannot be hashed (a dry run,
    whose executor runs nothing), the snapshot counts as different, so the plan is shown whole.
    """
    execute(fetch_command(base))
    ours = execute(Command(("git", "hash-object", "--", SNAPSHOT_PATH))).strip()
    theirs = execute(Command(("git", "ls-tree", "FETCH_HEAD", "--", SNAPSHOT_PATH))).split()
    return not ours or ours not in theirs


def commit_commands(branch: str, base: str) -> list[Command]:
    """Fetch `base`, commit the working tree's snapshot on `branch` created at its tip, push (never forced)."""
    name, email = BOT
    commit = Command(
        (
            "git",
            "-c",
            f"user.name={name}",
            "-c",
            f"user.email={email}",
            "commit",
            "--quiet",
            "--message",
            COMMIT_MESSAGE,
        )
    )
    return [
        fetch_command(base),  # again: the plan stands on its own, whatever ran before it
        Command(("git", "switch", "--quiet", "--detach")),  # the local commit below moves no local branch
        Command(("git", "add", "--", SNAPSHOT_PATH)),
        commit,  # the new facts on the run's own commit: a local step, never pushed
        Command(("git", "switch", "--quiet", "--create", branch, "FETCH_HEAD")),
        Command(("git", "checkout", "@{-1}", "--", SNAPSHOT_PATH)),  # the whole file, from that commit
        commit,  # the new facts on the base's current tip: the only difference from it
        Command(("git", "push", "--quiet", "origin", f"HEAD:refs/heads/{branch}")),  # a new branch
    ]
