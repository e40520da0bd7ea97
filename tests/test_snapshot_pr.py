"""The snapshot pull request: every decision, its invariants, the git and gh command lines, the CLI."""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import TypeVar

import pytest

from generator.cli import build_parser
from generator.github import gh
from generator.github import snapshot_pr as sp
from generator.github.gh import Command
from generator.github.snapshot_pr import Decision, Kind, PullRequest

RUN = "link-check/hub-snapshot-900-1"  # this run's fresh branch
RUN_URL = "https://github.com/o/r/actions/runs/900"
LEGACY = "link-check/hub-snapshot"  # the fixed branch older runs force-pushed
T = TypeVar("T")


def ours(number: int, branch: str | None = None) -> PullRequest:
    """An open snapshot PR opened by an earlier run, from a branch of this repository."""
    return PullRequest(number, branch or f"link-check/hub-snapshot-{number}-1")


FORK = PullRequest(7, "link-check/hub-snapshot-7-1", cross_repository=True)  # a fork's PR, same branch name
HUMAN = PullRequest(8, "patch-1")  # somebody's data PR


def decide(changed: bool, exit_code: int, pulls: list[PullRequest], branches: list[str]) -> Decision:
    """`sp.decide` for this run's branch."""
    return sp.decide(changed=changed, exit_code=exit_code, pulls=pulls, branches=branches, candidate=RUN)


class TestDecide:
    """One row per situation: (changed, exit code, open PRs, branches) -> (action, closed, deleted)."""

    @pytest.mark.parametrize(
        ("changed", "exit_code", "pulls", "branches", "kind", "close", "delete"),
        [
            pytest.param(True, 0, [], [], Kind.OPEN, (), (), id="new-facts-first-pr"),
            pytest.param(True, 1, [], [], Kind.OPEN, (), (), id="new-facts-with-dead-links"),
            pytest.param(True, 3, [], [], Kind.OPEN, (), (), id="new-facts-incomplete-run"),
            pytest.param(
                True, 0, [ours(12)], ["link-check/hub-snapshot-12-1"], Kind.OPEN, (12,),
                ("link-check/hub-snapshot-12-1",), id="supersedes-the-old-pr",
            ),
            pytest.param(
                True, 0, [ours(30), ours(12, LEGACY)], [LEGACY, "link-check/hub-snapshot-30-1"], Kind.OPEN,
                (12, 30), (LEGACY, "link-check/hub-snapshot-30-1"), id="supersedes-all-incl-legacy-branch",
            ),
            pytest.param(False, 0, [], [], Kind.NOTHING, (), (), id="unchanged-no-pr"),
            pytest.param(
                False, 0, [ours(12)], [], Kind.CLOSE, (12,), ("link-check/hub-snapshot-12-1",),
                id="unchanged-complete-closes-stale",
            ),
            pytest.param(
                False, 1, [ours(12)], [], Kind.CLOSE, (12,), ("link-check/hub-snapshot-12-1",),
                id="unchanged-dead-links-closes-stale",
            ),
            pytest.param(
                False, 3, [ours(12)], ["link-check/hub-snapshot-12-1"], Kind.NOTHING, (), (),
                id="unchanged-incomplete-keeps-pr",
            ),
            pytest.param(
                False, 3, [ours(12)], ["link-check/hub-snapshot-12-1", "link-check/hub-snapshot-5-2"],
                Kind.NOTHING, (), ("link-check/hub-snapshot-5-2",), id="orphan-deleted-even-when-incomplete",
            ),
            pytest.param(
                False, 0, [], ["link-check/hub-snapshot-5-2"], Kind.NOTHING, (),
                ("link-check/hub-snapshot-5-2",), id="orphan-of-a-pr-closed-by-hand",
            ),
            pytest.param(True, 0, [FORK, HUMAN], [], Kind.OPEN, (), (), id="fork-and-human-prs-untouched"),
            pytest.param(False, 0, [FORK, HUMAN], [], Kind.NOTHING, (), (), id="fork-pr-never-closed"),
            pytest.param(
                True, 0, [], ["link-check/notes", "link-check/hub-snapshot-x", "link-check/hub-snapshot-1"],
                Kind.OPEN, (), (), id="other-branches-never-deleted",
            ),
        ],
    )  # fmt: skip
    def test_table(
        self,
        changed: bool,
        exit_code: int,
        pulls: list[PullRequest],
        branches: list[str],
        kind: Kind,
        close: tuple[int, ...],
        delete: tuple[str, ...],
    ) -> None:
        """The decision follows the table of the module docstring."""
        decision = decide(changed, exit_code, pulls, branches)
        assert (decision.kind, decision.close, decision.delete) == (kind, close, delete)
        assert decision.branch == (RUN if kind is Kind.OPEN else None)

    @pytest.mark.parametrize("exit_code", [2, 4, -1, 137])
    def test_other_exit_codes_are_refused(self, exit_code: int) -> None:
        """A data/usage error (2) or a crash says nothing about the links: nothing is touched."""
        with pytest.raises(ValueError, match="not a link-check outcome"):
            decide(True, exit_code, [ours(1)], [])

    @pytest.mark.parametrize(
        "candidate", [LEGACY, "main", "link-check/hub-snapshot-9", "link-check/hub-snapshot-9-1-x", ""]
    )
    def test_candidate_must_be_a_fresh_run_branch(self, candidate: str) -> None:
        """Only `link-check/hub-snapshot-<run id>-<attempt>` is pushed to; never the old fixed branch."""
        with pytest.raises(ValueError, match="not a snapshot branch name"):
            sp.decide(changed=True, exit_code=0, pulls=[], branches=[], candidate=candidate)

    @pytest.mark.parametrize(
        ("pulls", "branches"), [([], [RUN]), ([PullRequest(4, RUN)], []), ([FORK], [RUN, LEGACY])]
    )
    def test_existing_branch_is_never_reused(self, pulls: list[PullRequest], branches: list[str]) -> None:
        """A branch that already exists is refused: no push ever updates a branch."""
        with pytest.raises(ValueError, match="already exists"):
            decide(True, 0, pulls, branches)

    def test_branch_for_run(self) -> None:
        """The run id and attempt name the branch; a re-run (attempt 2) gets a new one."""
        assert sp.branch_for_run(900, 1) == RUN
        assert sp.branch_for_run("900", "2") == "link-check/hub-snapshot-900-2"
        with pytest.raises(ValueError, match="no valid branch name"):
            sp.branch_for_run("9 00", 1)


PULLS = [ours(12), ours(30), ours(5, LEGACY), FORK, HUMAN]
BRANCHES = ["link-check/hub-snapshot-12-1", "link-check/hub-snapshot-44-1", LEGACY, "link-check/notes"]


def _subsets(items: Sequence[T]) -> list[list[T]]:
    """Every subset of `items`, in order."""
    return [list(combo) for size in range(len(items) + 1) for combo in itertools.combinations(items, size)]


@pytest.mark.parametrize("changed", [True, False])
@pytest.mark.parametrize("exit_code", [0, 1, 3])
def test_invariants_over_every_combination(changed: bool, exit_code: int) -> None:
    """Whatever PRs and branches exist: a PR opens iff the snapshot changed; only our own PRs and
    branches are closed or deleted; this run's branch and the branches of PRs left open survive; every
    closed PR loses its branch; an unchanged, incomplete run closes nothing."""
    for pulls, branches in itertools.product(_subsets(PULLS), _subsets(BRANCHES)):
        decision = decide(changed, exit_code, pulls, branches)
        closed = [pull for pull in pulls if pull.number in decision.close]
        left_open = [pull for pull in pulls if pull not in closed]
        assert (decision.kind is Kind.OPEN) is changed
        assert all(pull.is_ours for pull in closed)
        assert all(sp.is_snapshot_branch(name) for name in decision.delete)
        assert RUN not in decision.delete
        assert not {pull.branch for pull in left_open if pull.is_ours} & set(decision.delete)
        assert {pull.branch for pull in closed} <= set(decision.delete)
        if not changed and exit_code == 3:
            assert decision.close == ()


class TestPlan:
    """The git and gh command lines for each decision, in an order that never loses a proposal."""

    def test_open_supersedes(self) -> None:
        """Commit on the fresh branch, push it (never forced), open the PR, then close and delete the old."""
        decision = Decision(Kind.OPEN, RUN, close=(12,), delete=("link-check/hub-snapshot-12-1",))
        commands = sp.plan(decision, base="main", repo="o/r", run_url=RUN_URL)
        assert [c.argv[:2] for c in commands] == [
            ("git", "fetch"), ("git", "switch"), ("git", "add"), ("git", "-c"), ("git", "switch"),
            ("git", "checkout"), ("git", "-c"), ("git", "push"), ("gh", "pr"), ("gh", "pr"), ("gh", "api"),
        ]  # fmt: skip
        assert commands[0].argv[-2:] == ("origin", "refs/heads/main")  # the base's current tip
        assert commands[4].argv[-2:] == (RUN, "FETCH_HEAD")
        assert commands[7].argv == ("git", "push", "--quiet", "origin", f"HEAD:refs/heads/{RUN}")
        create = commands[8]
        assert create.argv == (
            "gh", "pr", "create", "--repo", "o/r", "--base", "main", "--head", RUN,
            "--title", sp.TITLE, "--body-file", "-",
        )  # fmt: skip
        assert create.stdin is not None
        assert "Supersedes #12." in create.stdin
        assert f"[scheduled link check]({RUN_URL})" in create.stdin
        assert commands[9].argv == (
            "gh", "pr", "close", "--repo", "o/r", "12", "--comment", sp.superseded_comment(RUN, RUN_URL)
        )  # fmt: skip
        assert commands[10].argv == (
            "gh", "api", "--method", "DELETE", "repos/o/r/git/refs/heads/link-check/hub-snapshot-12-1"
        )  # fmt: skip

    def test_no_command_forces_a_push(self) -> None:
        """No planned push can rewrite a branch: no --force, no lease, no `+` refspec."""
        decision = Decision(Kind.OPEN, RUN, close=(1, 2), delete=(LEGACY,))
        pushes = [c.argv for c in sp.plan(decision, base="main") if c.argv[:2] == ("git", "push")]
        assert len(pushes) == 1
        assert not any(arg.startswith(("-f", "--force", "+")) for arg in pushes[0])

    @pytest.mark.parametrize("app_token", [False, True])
    def test_body_says_how_to_get_ci_running(self, app_token: bool) -> None:
        """Issue 26, point 8: a PR opened with the workflow token gets either no CI run or runs held for
        approval; its body describes both, says how to tell them apart for this very branch, and what to
        do in each case. An App's PR runs CI like a person's and carries no such note."""
        body = sp.pr_body(RUN_URL, (), branch=RUN, app_token=app_token)
        note = [line for line in body.splitlines() if line.startswith(">")]
        assert bool(note) is not app_token
        if not app_token:
            text = "\n".join(note)
            assert "**no** CI run" in text
            assert "**for approval**" in text
            assert f"`gh run list --branch {RUN} --event pull_request --json workflowName,conclusion`" in text
            assert "`action_required`" in text
            assert "Approve workflows to run" in text
            assert "close this pull request and reopen it" in text
        assert "Supersedes" not in body

    def test_close_stale(self) -> None:
        """A complete, unchanged run closes the PRs with the stale comment and deletes their branches."""
        decision = Decision(Kind.CLOSE, close=(12, 30), delete=("a", "b"))
        commands = sp.plan(decision, base="main", repo="o/r", run_url=RUN_URL)
        assert [c.argv[1:3] for c in commands] == [("pr", "close")] * 2 + [("api", "--method")] * 2
        assert commands[0].argv[-1] == sp.stale_comment(RUN_URL)
        assert "current" in sp.stale_comment(None)

    def test_nothing_but_orphans(self) -> None:
        """Nothing to open or close: only orphan branches are deleted; no repo given uses gh's placeholders."""
        assert sp.plan(Decision(Kind.NOTHING), base="main") == []
        commands = sp.plan(Decision(Kind.NOTHING, delete=("x",)), base="main")
        assert commands == [
            Command(("gh", "api", "--method", "DELETE", "repos/{owner}/{repo}/git/refs/heads/x"))
        ]

    def test_listing_commands(self) -> None:
        """The listings ask for exactly what the decision reads."""
        assert sp.list_pulls_command("o/r").argv == (
            "gh", "pr", "list", "--repo", "o/r", "--state", "open",
            "--json", "number,headRefName,isCrossRepository", "--limit", "1000",
        )  # fmt: skip
        assert sp.list_branches_command("o/r").argv == (
            "gh", "api", "--paginate", "repos/o/r/git/matching-refs/heads/link-check/", "--jq", ".[].ref"
        )  # fmt: skip

    def test_parsers(self) -> None:
        """gh's JSON and ref lines become PullRequest values and branch names."""
        raw = json.dumps([{"number": 5, "headRefName": LEGACY, "isCrossRepository": True}])
        assert sp.parse_pulls(raw) == [PullRequest(5, LEGACY, True)]
        assert sp.parse_branches(f"refs/heads/{LEGACY}\n\nrefs/heads/{RUN}\n") == [LEGACY, RUN]
        with pytest.raises(ValueError, match="JSON list"):
            sp.parse_pulls("{}")


REFUSED = "refusing to allow a GitHub App to create or update workflow without workflows permission"
GITHUB_RULE = f"""#!/bin/sh
# GitHub's rule for a token without the `workflows` permission: no pushed branch (new or not) may hold
# workflow files that differ from the base branch's current tip.
tip=$(git rev-parse refs/heads/main)
while read -r old new ref; do
  [ "$ref" = refs/heads/main ] && continue
  [ "$new" = 0000000000000000000000000000000000000000 ] && continue
  if [ -n "$(git diff --name-only "$tip" "$new" -- .github/workflows)" ]; then
    echo "{REFUSED}" >&2
    exit 1
  fi
done
"""


class Remote:
    """A bare `origin` that refuses workflow changes as GitHub does, a maintainer's clone that moves its
    main, and the run's checkout: a shallow clone of main as it was when the run started."""

    def __init__(self, tmp_path: Path) -> None:
        self.origin, self.maintainer, self.run = (
            tmp_path / "origin.git",
            tmp_path / "maintainer",
            tmp_path / "run",
        )
        _git(tmp_path, "init", "--bare", "--quiet", str(self.origin))
        hook = self.origin / "hooks" / "pre-receive"
        hook.write_text(GITHUB_RULE, encoding="utf-8")
        hook.chmod(0o755)
        _git(tmp_path, "clone", "--quiet", str(self.origin), str(self.maintainer))
        self.commit({SNAPSHOT: "{}\n", WORKFLOW: "on: push  # v1\n"}, "seed")
        _git(tmp_path, "clone", "--quiet", "--depth=1", f"file://{self.origin}", str(self.run))

    def commit(self, files: dict[str, str], message: str) -> str:
        """Commit `files` on the maintainer's main and push it: main moves on the remote."""
        for name, text in files.items():
            (self.maintainer / name).parent.mkdir(parents=True, exist_ok=True)
            (self.maintainer / name).write_text(text, encoding="utf-8")
        _git(self.maintainer, "add", ".")
        _git(self.maintainer, "commit", "--quiet", "-m", message)
        _git(self.maintainer, "push", "--quiet", "origin", "HEAD:refs/heads/main")
        return _git(self.origin, "rev-parse", "main")

    def show(self, ref: str, name: str) -> str:
        """A file as `ref` holds it on the remote."""
        return _git(self.origin, "show", f"{ref}:{name}")


SNAPSHOT, WORKFLOW = "data/hub-snapshot.json", ".github/workflows/ci.yml"


class FakeGit:
    """Runs git for real in the run's clone; records gh commands, and carries out a branch deletion
    (`gh api --method DELETE …/git/refs/heads/X`) on the bare remote as GitHub would."""

    def __init__(self, clone: Path, origin: Path | None = None, refuse: tuple[str, ...] = ()) -> None:
        self.clone, self.origin, self.refuse = clone, origin, refuse
        self.gh: list[Command] = []

    def __call__(self, command: Command) -> str:
        if command.argv[0] != "gh":
            done = subprocess.run(command.argv, cwd=self.clone, capture_output=True, text=True, check=True)
            return done.stdout
        self.gh.append(command)
        if command.argv[1:3] in {tuple(self.refuse[i : i + 2]) for i in range(0, len(self.refuse), 2)}:
            raise subprocess.CalledProcessError(1, list(command.argv), stderr="HTTP 422")
        ref = command.argv[-1].partition("/git/refs/")[2]
        if command.argv[1:4] == ("api", "--method", "DELETE") and self.origin is not None:
            _git(self.origin, "update-ref", "-d", f"refs/{ref}")
        return ""


def _git(cwd: Path, *args: str) -> str:
    env_free = ["-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "init.defaultBranch=main"]
    done = subprocess.run(["git", *env_free, *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def _refs(remote: Remote) -> set[str]:
    """The branches on the remote."""
    return set(_git(remote.origin, "for-each-ref", "--format=%(refname)").split())


def _open(fake: FakeGit, pulls: str = "[]", branches: str = "") -> Decision:
    """`carry_out` for a run whose check changed the snapshot, with this run's fresh branch."""
    return sp.carry_out(
        changed=True,
        exit_code=0,
        candidate=RUN,
        base="main",
        execute=fake,
        list_pulls=lambda: pulls,
        list_branches=lambda: branches,
        repo="o/r",
    )


needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


@needs_git
def test_the_github_rule_refuses_a_branch_cut_from_the_stale_checkout(tmp_path: Path) -> None:
    """The remote's hook does bite: the old way (a branch cut from the run's checkout, after a workflow
    change reached main) is refused, which is issue 26's first point."""
    remote = Remote(tmp_path)
    remote.commit({WORKFLOW: "on: push  # v2, merged while the run was checking\n"}, "ci: bump")
    (remote.run / SNAPSHOT).write_text('{"new": true}\n', encoding="utf-8")
    _git(remote.run, "switch", "--quiet", "--create", RUN)
    _git(remote.run, "commit", "--quiet", "-am", "snapshot")
    with pytest.raises(subprocess.CalledProcessError) as refused:
        _git(remote.run, "push", "origin", f"HEAD:refs/heads/{RUN}")
    assert REFUSED in refused.value.stderr


@needs_git
@pytest.mark.parametrize(
    "moved",
    [
        pytest.param({WORKFLOW: "on: push  # v2\n"}, id="a-workflow-changed"),
        pytest.param({WORKFLOW: "on: push  # v2\n", SNAPSHOT: '{"merged": 1}\n'}, id="workflow-and-snapshot"),
        pytest.param({"data/loras/new.yaml": "id: new\n"}, id="an-entry-added"),
    ],
)
def test_the_branch_is_cut_from_the_base_branch_tip(tmp_path: Path, moved: dict[str, str]) -> None:
    """Main moved after the run's checkout: the pushed branch is one commit on main's current tip that
    changes the snapshot alone (to exactly the run's file), GitHub's rule accepts it, main is untouched,
    and the superseded branch is deleted after the pull request is opened."""
    remote = Remote(tmp_path)
    _git(remote.maintainer, "push", "--quiet", "origin", f"HEAD:refs/heads/{LEGACY}")
    tip = remote.commit(moved, "main moves on")
    new = '{"new": true}\n'
    (remote.run / SNAPSHOT).write_text(new, encoding="utf-8")
    fake = FakeGit(remote.run, remote.origin)
    pulls = json.dumps([{"number": 3, "headRefName": LEGACY, "isCrossRepository": False}])
    decision = _open(fake, pulls, f"refs/heads/{LEGACY}\n")
    assert decision == Decision(Kind.OPEN, RUN, close=(3,), delete=(LEGACY,))
    assert _git(remote.origin, "rev-parse", "main", f"{RUN}~1").split() == [tip, tip]
    assert _git(remote.origin, "diff", "--name-only", "main", RUN) == SNAPSHOT
    assert remote.show(RUN, SNAPSHOT) + "\n" == new
    assert _refs(remote) == {"refs/heads/main", f"refs/heads/{RUN}"}
    assert [c.argv[1:3] for c in fake.gh] == [("pr", "create"), ("pr", "close"), ("api", "--method")]


@needs_git
def test_facts_already_on_the_base_tip_open_nothing(tmp_path: Path) -> None:
    """Last week's snapshot PR merged while this run was checking and this run found the same facts:
    the snapshot differs from the checkout but not from main's tip, so nothing is pushed or opened."""
    remote = Remote(tmp_path)
    remote.commit({SNAPSHOT: '{"new": true}\n'}, "Refresh the Hub snapshot (#41)")
    (remote.run / SNAPSHOT).write_text('{"new": true}\n', encoding="utf-8")
    fake = FakeGit(remote.run, remote.origin)
    assert _open(fake) == Decision(Kind.NOTHING)
    assert fake.gh == []
    assert _refs(remote) == {"refs/heads/main"}


@needs_git
def test_a_refused_pull_request_leaves_no_branch_behind(tmp_path: Path) -> None:
    """`gh pr create` fails after the push (the token may not open pull requests): the branch just pushed
    is deleted at once, the older pull request stays open, and the failure is still raised."""
    remote = Remote(tmp_path)
    (remote.run / SNAPSHOT).write_text('{"new": true}\n', encoding="utf-8")
    fake = FakeGit(remote.run, remote.origin, refuse=("pr", "create"))
    pulls = json.dumps([{"number": 3, "headRefName": LEGACY, "isCrossRepository": False}])
    with pytest.raises(subprocess.CalledProcessError):
        _open(fake, pulls)
    assert _refs(remote) == {"refs/heads/main"}
    assert [c.argv[1:4] for c in fake.gh] == [("pr", "create", "--repo"), ("api", "--method", "DELETE")]
    assert fake.gh[1].argv[-1] == f"repos/o/r/git/refs/heads/{RUN}"


def test_a_failing_clean_up_does_not_hide_the_failure(capsys: pytest.CaptureFixture[str]) -> None:
    """When the clean-up fails too, the original failure is raised and the clean-up's is on stderr; the
    commands after the failing one never run."""
    ran: list[tuple[str, ...]] = []

    def execute(command: Command) -> str:
        ran.append(command.argv)
        if command.argv[0] in {"create", "delete"}:
            raise subprocess.CalledProcessError(1, list(command.argv), stderr=f"{command.argv[0]} refused")
        return ""

    commands = [
        Command(("push",)),
        Command(("create",), on_failure=Command(("delete",))),
        Command(("close",)),
    ]
    with pytest.raises(subprocess.CalledProcessError, match="'create'"):
        gh.execute_all(commands, execute)
    assert ran == [("push",), ("create",), ("delete",)]
    assert "clean-up: delete failed: delete refused" in capsys.readouterr().err


class TestCli:
    """`python -m generator snapshot-pr` through the CLI's parser and the stage's run, never touching GitHub."""

    def parse(self, tmp_path: Path, *argv: str, pulls: Sequence[PullRequest] = ()) -> argparse.Namespace:
        """Parse argv with the CLI's own parser, reading PRs and branches from files."""
        listing, refs = tmp_path / "pulls.json", tmp_path / "refs.txt"
        rows = [
            {"number": p.number, "headRefName": p.branch, "isCrossRepository": p.cross_repository}
            for p in pulls
        ]
        listing.write_text(json.dumps(rows), encoding="utf-8")
        refs.write_text("".join(f"refs/heads/{p.branch}\n" for p in pulls), encoding="utf-8")
        files = ("--pulls-json", str(listing), "--branches-json", str(refs))
        return build_parser().parse_args(["snapshot-pr", *argv, *files])

    def test_dry_run_prints_the_commands(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Dry run prints the shell-quoted command lines and a summary, and runs nothing."""
        monkeypatch.setenv("GITHUB_REPOSITORY", "o/r")
        monkeypatch.setattr(gh, "subprocess_executor", _forbidden)
        args = self.parse(
            tmp_path, "--changed", "true", "--exit-code", "1", "--branch", RUN, "--base", "main", "--dry-run",
            pulls=[ours(12)],
        )  # fmt: skip
        assert sp.run(args) == 0
        lines = capsys.readouterr().out.splitlines()
        fetch = "git fetch --quiet --no-tags --depth=1 origin refs/heads/main"
        assert lines[:3] == [
            fetch,
            "git hash-object -- data/hub-snapshot.json",
            f"git ls-tree FETCH_HEAD -- {SNAPSHOT}",
        ]
        assert lines[3] == fetch
        assert lines[11].startswith(f"gh pr create --repo o/r --base main --head {RUN} ")
        assert lines[-1] == f"snapshot-pr: open from {RUN}; closed #12; deleted link-check/hub-snapshot-12-1"

    @pytest.mark.parametrize(
        "argv",
        [
            ("--changed", "true", "--exit-code", "2", "--branch", RUN, "--base", "main"),
            ("--changed", "true", "--exit-code", "0", "--branch", LEGACY, "--base", "main"),
        ],
    )
    def test_usage_errors_exit_2(
        self, tmp_path: Path, argv: tuple[str, ...], capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A check that failed with exit 2, or a branch that is not fresh, is refused before any command."""
        assert sp.run(self.parse(tmp_path, *argv)) == 2
        assert "snapshot-pr: " in capsys.readouterr().err

    def test_refused_pr_exits_1_with_the_setting_to_enable(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """GitHub's refusal to let the workflow token open PRs fails the step and names the fix."""
        ran: list[tuple[str, ...]] = []
        monkeypatch.setattr(gh, "subprocess_executor", functools.partial(_refusing, ran))
        args = self.parse(
            tmp_path, "--changed", "true", "--exit-code", "0", "--branch", RUN, "--base", "main"
        )
        assert sp.run(args) == 1
        err = capsys.readouterr().err
        assert "Allow GitHub Actions to create and approve pull requests" in err
        assert "MAINTAINING.md" in err
        assert ran[-1] == (
            "gh",
            "api",
            "--method",
            "DELETE",
            f"repos/{{owner}}/{{repo}}/git/refs/heads/{RUN}",
        )

    def test_dry_run_shows_the_clean_up(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The dry run says which branch a refused pull request would have deleted."""
        monkeypatch.setattr(gh, "subprocess_executor", _forbidden)
        args = self.parse(
            tmp_path, "--changed", "true", "--exit-code", "0", "--branch", RUN, "--base", "main", "--dry-run"
        )
        assert sp.run(args) == 0
        out = capsys.readouterr().out
        assert (
            f"  # if it fails: gh api --method DELETE 'repos/{{owner}}/{{repo}}/git/refs/heads/{RUN}'" in out
        )


def _forbidden(command: Command) -> str:
    raise AssertionError(f"dry run executed {command.argv}")


def _refusing(ran: list[tuple[str, ...]], command: Command) -> str:
    ran.append(command.argv)
    if command.argv[:3] == ("gh", "pr", "create"):
        message = (
            "pull request create failed: GitHub Actions is not permitted to create or approve pull requests"
        )
        raise subprocess.CalledProcessError(1, list(command.argv), stderr=message)
    return ""


def test_the_pr_body_lists_the_candidates_of_the_snapshot(tmp_path: Path) -> None:
    """Issue 12: files found next to catalogued ones are named in the snapshot pull request."""
    from generator.catalog.snapshot import Candidate, Snapshot, link_key
    from generator.github.snapshot_pr import candidates_markdown, pr_body
    from generator.hub.merge import save_snapshot

    candidate = Candidate(
        repo="Kijai/WanVideo_comfy",
        path="LoRAs/x/New_rank64.safetensors",
        size=10,
        found_at="2026-11-27T10:00:00Z",
    )
    snapshot = Snapshot(checked_at="2026-11-27T10:00:00Z", candidates={link_key(candidate.link): candidate})
    (tmp_path / "data").mkdir()
    save_snapshot(tmp_path / "data" / "hub-snapshot.json", snapshot)
    extra = candidates_markdown(tmp_path)
    assert "### Not in the catalog yet (1)" in extra
    body = pr_body(None, (), branch=RUN, app_token=True, extra=extra)
    assert (
        "python -m generator add https://huggingface.co/Kijai/WanVideo_comfy/blob/main/LoRAs/x/New_rank64"
        in body
    )
    assert candidates_markdown(tmp_path / "nowhere") == ""


@pytest.mark.parametrize("count", [150, 5_000])
def test_the_pr_body_stays_under_githubs_limit_whatever_the_candidates(tmp_path: Path, count: int) -> None:
    """Issue 26, point 2: at about 580 characters a candidate, 120 of them made a 71,763-character body,
    which GitHub refuses (65,536). The body stays under BODY_LIMIT with whole candidate lines, says how
    many characters were left out and links the run's full JSON report; the footer survives."""
    from generator.catalog.snapshot import Candidate, Snapshot, link_key
    from generator.hub.merge import save_snapshot

    at = "2026-11-27T10:00:00Z"
    candidates = [
        Candidate(
            repo="Kijai/WanVideo_comfy",
            path=f"LoRAs/Wan22_Lightx2v/Wan2_2-I2V-A14B-HIGH_lightx2v_4step_variant_{i:05d}_rank128_bf16.safetensors",
            size=1_234_567_890 + i,
            sha256=f"{i:064x}",
            found_at=at,
        )
        for i in range(count)
    ]
    snapshot = Snapshot(checked_at=at, candidates={link_key(c.link): c for c in candidates})
    (tmp_path / "data").mkdir()
    save_snapshot(tmp_path / "data" / "hub-snapshot.json", snapshot)
    extra = sp.candidates_markdown(tmp_path)
    assert len(extra) > 65_536  # the uncut section alone is more than GitHub takes
    body = sp.pr_body(RUN_URL, (12,), branch=RUN, app_token=False, extra=extra)
    assert len(body) < gh.BODY_LIMIT < 65_536
    assert f"Truncated: {len(extra.strip()):,} characters" in body
    assert f"`report.json` in the `link-check` artifact of [this run]({RUN_URL})" in body
    listed = [line for line in body.splitlines() if line.startswith("- [`Kijai/")]
    assert 50 < len(listed) < count
    assert all(line + "\n" in extra for line in listed)
    assert body.endswith("deletes this branch.\n")
    assert "Supersedes #12." in body


def test_the_guide_tells_the_two_workflow_token_behaviours_apart_as_the_body_does() -> None:
    """MAINTAINING.md gives the same command as the pull request's note (with the branch pattern), and
    names both behaviours and what to do about each."""
    guide = (Path(__file__).resolve().parent.parent / "MAINTAINING.md").read_text(encoding="utf-8")
    pattern = "link-check/hub-snapshot-<run id>-<attempt>"
    [command] = [line for line in sp.workflow_token_note(pattern) if "gh run list" in line]
    assert command.split("`")[1] in guide
    for words in (
        "**No run at all.**",
        "**Runs held for approval.**",
        "`action_required`",
        "close the pull request and reopen it",
    ):
        assert words in guide
    assert "never runs" not in guide
