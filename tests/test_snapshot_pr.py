"""The snapshot pull request: every decision, its invariants, the git and gh command lines, the CLI."""

from __future__ import annotations

import argparse
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
        assert [c.argv[:3] for c in commands] == [
            ("git", "switch", "--create"),
            ("git", "add", "--"),
            ("git", "-c", "user.name=github-actions[bot]"),
            ("git", "push", "origin"),
            ("gh", "pr", "create"),
            ("gh", "pr", "close"),
            ("gh", "api", "--method"),
        ]
        assert commands[0].argv == ("git", "switch", "--create", RUN)
        assert commands[3].argv == ("git", "push", "origin", f"HEAD:refs/heads/{RUN}")
        create = commands[4]
        assert create.argv == (
            "gh", "pr", "create", "--repo", "o/r", "--base", "main", "--head", RUN,
            "--title", sp.TITLE, "--body-file", "-",
        )  # fmt: skip
        assert create.stdin is not None
        assert "Supersedes #12." in create.stdin
        assert f"[scheduled link check]({RUN_URL})" in create.stdin
        assert commands[5].argv == (
            "gh", "pr", "close", "--repo", "o/r", "12", "--comment", sp.superseded_comment(RUN, RUN_URL)
        )  # fmt: skip
        assert commands[6].argv == (
            "gh", "api", "--method", "DELETE", "repos/o/r/git/refs/heads/link-check/hub-snapshot-12-1"
        )  # fmt: skip

    def test_no_command_forces_a_push(self) -> None:
        """No planned push can rewrite a branch: no --force, no lease, no `+` refspec."""
        decision = Decision(Kind.OPEN, RUN, close=(1, 2), delete=(LEGACY,))
        pushes = [c.argv for c in sp.plan(decision, base="main") if c.argv[:2] == ("git", "push")]
        assert len(pushes) == 1
        assert not any(arg.startswith(("-f", "--force", "+")) for arg in pushes[0])

    @pytest.mark.parametrize(("app_token", "note"), [(False, True), (True, False)])
    def test_body_says_how_to_run_ci(self, app_token: bool, note: bool) -> None:
        """A PR opened with the workflow token runs no CI, and its body says so; an App's PR does."""
        body = sp.pr_body(RUN_URL, (), app_token=app_token)
        assert ("close and reopen this pull request" in body) is note
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


class FakeGit:
    """Runs git for real in a clone; records gh commands and answers nothing."""

    def __init__(self, clone: Path) -> None:
        self.clone = clone
        self.gh: list[Command] = []

    def __call__(self, command: Command) -> str:
        if command.argv[0] == "gh":
            self.gh.append(command)
            return ""
        done = subprocess.run(command.argv, cwd=self.clone, capture_output=True, text=True, check=True)
        return done.stdout


def _git(cwd: Path, *args: str) -> str:
    env_free = ["-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "init.defaultBranch=main"]
    done = subprocess.run(["git", *env_free, *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout.strip()


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_open_plan_pushes_a_new_branch_and_leaves_main_alone(tmp_path: Path) -> None:
    """The planned git commands, run in a real clone: the new branch holds one commit on top of the run's
    commit, touching only the snapshot; the remote's main and the old branch are unchanged."""
    origin, clone = tmp_path / "origin.git", tmp_path / "clone"
    _git(tmp_path, "init", "--bare", "--quiet", str(origin))
    _git(tmp_path, "clone", "--quiet", str(origin), str(clone))
    (clone / "data").mkdir()
    (clone / "data" / "hub-snapshot.json").write_text("{}\n", encoding="utf-8")
    _git(clone, "add", ".")
    _git(clone, "commit", "--quiet", "-m", "seed")
    _git(clone, "push", "--quiet", "origin", "HEAD:refs/heads/main", f"HEAD:refs/heads/{LEGACY}")
    main_before = _git(origin, "rev-parse", "main")
    (clone / "data" / "hub-snapshot.json").write_text('{"new": true}\n', encoding="utf-8")
    fake = FakeGit(clone)
    decision = sp.carry_out(
        changed=True,
        exit_code=0,
        candidate=RUN,
        base="main",
        execute=fake,
        list_pulls=lambda: json.dumps([{"number": 3, "headRefName": LEGACY, "isCrossRepository": False}]),
        list_branches=lambda: f"refs/heads/{LEGACY}\n",
        repo="o/r",
    )
    assert decision == Decision(Kind.OPEN, RUN, close=(3,), delete=(LEGACY,))
    assert _git(origin, "rev-parse", "main", LEGACY).split() == [main_before, main_before]
    assert _git(origin, "rev-parse", f"{RUN}~1") == main_before
    assert _git(origin, "diff", "--name-only", "main", RUN) == "data/hub-snapshot.json"
    assert [c.argv[1:3] for c in fake.gh] == [("pr", "create"), ("pr", "close"), ("api", "--method")]


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
        assert lines[0] == f"git switch --create {RUN}"
        assert lines[4].startswith(f"gh pr create --repo o/r --base main --head {RUN} ")
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
        monkeypatch.setattr(gh, "subprocess_executor", _refusing)
        args = self.parse(
            tmp_path, "--changed", "true", "--exit-code", "0", "--branch", RUN, "--base", "main"
        )
        assert sp.run(args) == 1
        err = capsys.readouterr().err
        assert "Allow GitHub Actions to create and approve pull requests" in err
        assert "MAINTAINING.md" in err


def _forbidden(command: Command) -> str:
    raise AssertionError(f"dry run executed {command.argv}")


def _refusing(command: Command) -> str:
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
    body = pr_body(None, (), app_token=True, extra=extra)
    assert (
        "python -m generator add https://huggingface.co/Kijai/WanVideo_comfy/blob/main/LoRAs/x/New_rank64"
        in body
    )
    assert candidates_markdown(tmp_path / "nowhere") == ""
