"""The rolling link-check issue: every decision, the gh command lines, and the CLI in dry run."""

from __future__ import annotations

import argparse
import ast
import json
import subprocess
from pathlib import Path

import pytest

from generator.cli import build_parser
from generator.github import gh
from generator.github import rolling_issue as ri
from generator.github.gh import Command
from generator.github.rolling_issue import Decision, Issue, Kind

REPORT = "## Link check\n\n| entry | status |\n|---|---|\n| wan-x | missing-file |\n"
RUN_URL = "https://github.com/lora-alchemy/lora-alchemy/actions/runs/7"


def ours(number: int, body: str = "old report") -> Issue:
    """An open rolling issue written by a previous run."""
    return Issue(number, ri.TITLE, f"{ri.MARKER}\n{body}")


HUMAN = Issue(3, "Checker misses redirects", "labelled link-check by a person, no marker")
CLOSED = Issue(4, ri.TITLE, f"{ri.MARKER}\nold", state="CLOSED")


class TestDecide:
    """One row per situation: (open issues, exit code) -> (action, issue, duplicates)."""

    @pytest.mark.parametrize(
        ("issues", "exit_code", "kind", "number", "duplicates"),
        [
            pytest.param([], 0, Kind.NOTHING, None, (), id="alive-no-issue"),
            pytest.param([], 1, Kind.CREATE, None, (), id="dead-no-issue"),
            pytest.param([], 3, Kind.NOTHING, None, (), id="incomplete-no-issue-never-creates"),
            pytest.param([ours(12)], 0, Kind.CLOSE, 12, (), id="alive-closes"),
            pytest.param([ours(12)], 1, Kind.UPDATE, 12, (), id="dead-updates"),
            pytest.param([ours(12)], 3, Kind.UPDATE, 12, (), id="incomplete-updates"),
            pytest.param([ours(30), ours(12), ours(21)], 1, Kind.UPDATE, 12, (21, 30), id="dup-dead"),
            pytest.param([ours(30), ours(12)], 0, Kind.CLOSE, 12, (30,), id="dup-alive"),
            pytest.param([ours(30), ours(12)], 3, Kind.UPDATE, 12, (30,), id="dup-incomplete"),
            pytest.param([HUMAN], 1, Kind.CREATE, None, (), id="human-issue-ignored"),
            pytest.param([HUMAN], 0, Kind.NOTHING, None, (), id="human-issue-never-closed"),
            pytest.param([CLOSED], 1, Kind.CREATE, None, (), id="closed-issue-ignored"),
        ],
    )
    def test_table(
        self, issues: list[Issue], exit_code: int, kind: Kind, number: int | None, duplicates: tuple[int, ...]
    ) -> None:
        """The decision follows the documented table."""
        decision = ri.decide(issues, exit_code, REPORT)
        assert (decision.kind, decision.number, decision.duplicates) == (kind, number, duplicates)

    @pytest.mark.parametrize("exit_code", [2, 4, -1, 137])
    def test_other_exit_codes_are_refused(self, exit_code: int) -> None:
        """A data/usage error (2) or a crash says nothing about links: the issue is left alone."""
        with pytest.raises(ValueError, match="not a link-check outcome"):
            ri.decide([ours(1)], exit_code, REPORT)

    def test_created_body_has_marker_report_and_run_link(self) -> None:
        """The body is findable (marker), carries the report and points at the run."""
        body = ri.decide([], 1, REPORT, RUN_URL).body
        assert body is not None
        assert body.startswith(ri.MARKER)
        assert REPORT.strip() in body
        assert f"[this run]({RUN_URL})" in body
        assert "dead links" in body

    def test_incomplete_update_says_so(self) -> None:
        """An incomplete run replaces the body with a warning that nothing was confirmed."""
        body = ri.decide([ours(5)], 3, REPORT).body
        assert body is not None
        assert "**incomplete**" in body
        assert "[!WARNING]" in body

    def test_close_comment_links_the_run(self) -> None:
        """Closing leaves a comment that names the run which found every link alive."""
        comment = ri.decide([ours(5)], 0, REPORT, RUN_URL).comment
        assert comment is not None
        assert "every link alive" in comment
        assert RUN_URL in comment


class TestTruncation:
    """Bodies stay below the limit, cut at a line boundary, with a note."""

    def test_short_text_unchanged(self) -> None:
        """Nothing happens below the limit."""
        assert gh.truncate("abc\ndef", 100, "elsewhere") == "abc\ndef"

    def test_long_text_cut_on_a_line_with_note(self) -> None:
        """The cut keeps whole lines, says how long the text was and where the whole of it is."""
        text = "\n".join(f"| row {i} | dead |" for i in range(100))
        cut = gh.truncate(text, 400, gh.full_report(RUN_URL))
        assert len(cut) <= 400
        assert f"Truncated: {len(text):,} characters" in cut
        assert f"`report.json` in the `link-check` artifact of [this run]({RUN_URL})." in cut
        kept = cut.split("\n\n> [!NOTE]")[0]
        assert text.startswith(kept)
        assert kept.endswith("dead |")

    @pytest.mark.parametrize("size", [59_000, 60_000, 250_000])
    def test_body_below_limit(self, size: int) -> None:
        """Whatever the report size, the issue body stays below BODY_LIMIT and keeps marker and footer."""
        report = ("| wan-x | missing-file |\n" * (size // 25 + 1))[:size]
        body = ri.issue_body(report, 1, RUN_URL)
        assert len(body) < gh.BODY_LIMIT
        assert body.startswith(ri.MARKER)
        assert body.endswith(ri.closing_comment(RUN_URL).split("closing. ")[1])
        assert (f"artifact of [this run]({RUN_URL})" in body) is (size > 59_000)

    def test_truncated_only_when_needed(self) -> None:
        """A report that fits is not annotated."""
        assert "truncated" not in ri.issue_body(REPORT, 1, None)


class TestPlan:
    """The gh command lines for each decision."""

    def test_create(self) -> None:
        """Create makes sure the label exists, then creates the issue with the body on stdin."""
        commands = ri.plan(Decision(Kind.CREATE, body="B"), "o/r")
        assert [c.argv[:5] for c in commands] == [
            ("gh", "label", "create", "--repo", "o/r"),
            ("gh", "issue", "create", "--repo", "o/r"),
        ]
        create = commands[1]
        assert create.argv[5:] == ("--title", ri.TITLE, "--label", "link-check", "--body-file", "-")
        assert create.stdin == "B"

    def test_update_with_duplicates(self) -> None:
        """Update edits the oldest and closes each duplicate as not planned, pointing at the kept one."""
        commands = ri.plan(Decision(Kind.UPDATE, 12, body="B", duplicates=(21, 30)))
        assert commands == [
            Command(("gh", "issue", "edit", "12", "--body-file", "-"), "B"),
            Command(
                (
                    "gh",
                    "issue",
                    "close",
                    "21",
                    "--reason",
                    "not planned",
                    "--comment",
                    ri.duplicate_comment(12),
                )
            ),
            Command(
                (
                    "gh",
                    "issue",
                    "close",
                    "30",
                    "--reason",
                    "not planned",
                    "--comment",
                    ri.duplicate_comment(12),
                )
            ),
        ]

    def test_close(self) -> None:
        """Close completes the issue with the closing comment."""
        commands = ri.plan(Decision(Kind.CLOSE, 12, comment="all alive"))
        assert commands == [
            Command(("gh", "issue", "close", "12", "--reason", "completed", "--comment", "all alive"))
        ]

    def test_nothing(self) -> None:
        """Nothing means no command at all."""
        assert ri.plan(Decision(Kind.NOTHING)) == []

    def test_list_command(self) -> None:
        """The listing asks for exactly the fields the decision reads."""
        assert ri.list_command("o/r").argv == (
            "gh", "issue", "list", "--repo", "o/r", "--label", "link-check", "--state", "open",
            "--json", "number,title,body,state", "--limit", "100",
        )  # fmt: skip

    def test_parse_issues(self) -> None:
        """gh's JSON becomes Issue values; a null body is an empty one."""
        raw = json.dumps([{"number": 5, "title": "t", "body": None, "state": "OPEN"}])
        assert ri.parse_issues(raw) == [Issue(5, "t", "", "OPEN")]
        with pytest.raises(ValueError, match="JSON list"):
            ri.parse_issues("{}")


class FakeGh:
    """Records the commands it is given; answers `gh issue list` with canned issues."""

    def __init__(self, issues: list[Issue]) -> None:
        self.listing = json.dumps([vars(issue) for issue in issues])
        self.commands: list[Command] = []

    def __call__(self, command: Command) -> str:
        self.commands.append(command)
        return ""


@pytest.mark.parametrize(
    ("issues", "exit_code", "verbs"),
    [
        pytest.param([], 1, [("label", "create"), ("issue", "create")], id="create"),
        pytest.param([ours(2), ours(9)], 1, [("issue", "edit"), ("issue", "close")], id="update+dup"),
        pytest.param([ours(2)], 0, [("issue", "close")], id="close"),
        pytest.param([], 3, [], id="incomplete-nothing"),
    ],
)
def test_carry_out_with_fake_gh(issues: list[Issue], exit_code: int, verbs: list[tuple[str, str]]) -> None:
    """The runner lists, decides and runs exactly the planned commands through the executor."""
    fake = FakeGh(issues)
    ri.carry_out(exit_code, REPORT, fake, list_issues=lambda: fake.listing, repo="o/r")
    assert [c.argv[1:3] for c in fake.commands] == verbs


class TestCli:
    """`python -m generator link-issue` through the CLI's parser and the stage's run, never touching GitHub."""

    def parse(self, *argv: str) -> argparse.Namespace:
        """Parse argv with the CLI's own parser for the stage."""
        return build_parser().parse_args(["link-issue", *argv])

    def files(self, tmp_path: Path, issues: list[Issue]) -> tuple[Path, Path]:
        """A report file and an issues JSON file."""
        report, listing = tmp_path / "report.md", tmp_path / "issues.json"
        report.write_text(REPORT, encoding="utf-8")
        listing.write_text(json.dumps([vars(issue) for issue in issues]), encoding="utf-8")
        return report, listing

    def test_dry_run_prints_gh_commands(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Dry run prints the shell-quoted gh lines and runs nothing."""
        monkeypatch.setenv("GITHUB_REPOSITORY", "lora-alchemy/lora-alchemy")
        monkeypatch.setattr(gh, "subprocess_executor", _forbidden)
        report, listing = self.files(tmp_path, [ours(8), ours(3)])
        args = self.parse(
            "--report", str(report), "--exit-code", "1", "--dry-run", "--issues-json", str(listing)
        )
        assert ri.run(args) == 0
        lines = capsys.readouterr().out.splitlines()
        assert lines[0].startswith(
            "gh issue edit --repo lora-alchemy/lora-alchemy 3 --body-file -  # stdin: "
        )
        assert lines[1] == (
            "gh issue close --repo lora-alchemy/lora-alchemy 8 --reason 'not planned' "
            "--comment 'Duplicate of #3: the link check keeps a single rolling issue.'"
        )
        assert lines[2] == "link-issue: update #3"

    def test_usage_errors_exit_2(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """A check that failed with exit 2, or a missing report, is a usage error."""
        report, listing = self.files(tmp_path, [])
        assert (
            ri.run(self.parse("--report", str(report), "--exit-code", "2", "--issues-json", str(listing)))
            == 2
        )
        assert ri.run(self.parse("--report", str(tmp_path / "nope.md"), "--exit-code", "1", "--dry-run")) == 2
        assert "not a link-check outcome" in capsys.readouterr().err

    def test_gh_failure_exit_1(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """A failing gh command makes the step fail (exit 1)."""
        monkeypatch.setattr(gh, "subprocess_executor", _failing)
        report, listing = self.files(tmp_path, [])
        assert (
            ri.run(self.parse("--report", str(report), "--exit-code", "1", "--issues-json", str(listing)))
            == 1
        )


def _forbidden(command: Command) -> str:
    raise AssertionError(f"dry run executed {command.argv}")


def _failing(command: Command) -> str:
    raise subprocess.CalledProcessError(1, list(command.argv), stderr="HTTP 403")


class TestSharedHelper:
    """generator/github/gh.py: the one home of what both GitHub commands use."""

    @pytest.mark.parametrize("module", ["rolling_issue", "snapshot_pr"])
    def test_command_modules_import_gh_and_not_each_other(self, module: str) -> None:
        """Neither command module imports its sibling; both take Command and the executors from gh."""
        source = Path(ri.__file__).with_name(f"{module}.py").read_text(encoding="utf-8")
        imported = {
            node.module
            for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.ImportFrom) and node.module
        }
        sibling = {"rolling_issue": "snapshot_pr", "snapshot_pr": "rolling_issue"}[module]
        assert f"generator.github.{sibling}" not in imported
        assert {"generator.github", "generator.github.gh"} <= imported
        for name in ("def _gh(", "OUTCOMES =", "class Command", "def subprocess_executor("):
            assert name not in source, f"{module} defines {name!r} again"

    def test_gh_puts_the_repo_after_the_subcommand(self) -> None:
        """`--repo` goes after `gh <group> <verb>`, where gh reads it; without a repo it is left out."""
        assert gh.gh("o/r", "pr", "close", "5").argv == ("gh", "pr", "close", "--repo", "o/r", "5")
        assert gh.gh(None, "issue", "edit", "5", stdin="B") == Command(("gh", "issue", "edit", "5"), "B")
        assert gh.api_repo(None) == "{owner}/{repo}"

    def test_source_reads_the_file_else_runs_the_command(self, tmp_path: Path) -> None:
        """A listing comes from the named file when there is one, else from the command's output."""
        listing = tmp_path / "l.json"
        listing.write_text("[1]", encoding="utf-8")
        ran: list[Command] = []

        def execute(command: Command) -> str:
            ran.append(command)
            return "out"

        command = Command(("gh", "x"))
        assert gh.source(listing, command, execute)() == "[1]"
        assert ran == []
        assert gh.source(None, command, execute)() == "out"
        assert ran == [command]

    def test_subprocess_executor_runs_and_raises(self) -> None:
        """The real executor feeds stdin, returns stdout, and a failure names the command and its stderr."""
        assert gh.subprocess_executor(Command(("cat",), "body")) == "body"
        with pytest.raises(subprocess.CalledProcessError) as caught:
            gh.subprocess_executor(Command(("sh", "-c", "echo nope >&2; exit 3")))
        assert gh.failure_message("x", caught.value) == "x: sh -c 'echo nope >&2; exit 3' failed: nope\n"
