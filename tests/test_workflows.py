"""The GitHub workflows, Dependabot and pre-commit config: linters (offline) plus the project's own rules.

GitHub cannot be reached from here, so the workflows are proven by static checks: zizmor (security),
actionlint (expressions, shell scripts through shellcheck when installed), the JSON Schemas that
check-jsonschema ships, and structural assertions for the rules zizmor does not enforce by default.
The tools run inside an unshared network namespace when the machine allows it, so a tool that tried
the network would fail here instead of silently passing.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
GITHUB = ROOT / ".github"
WORKFLOWS = sorted((GITHUB / "workflows").glob("*.yml"))
DEPENDABOT = GITHUB / "dependabot.yml"
PRE_COMMIT = ROOT / ".pre-commit-config.yaml"
BIN = Path(sys.executable).parent
CANONICAL_REPO = "lora-alchemy/lora-alchemy"

PINNED_USES = re.compile(
    r"^\s*(?:-\s+)?uses:\s+(?P<action>[\w.-]+/[\w./-]+)@(?P<sha>[0-9a-f]{40})\s+# v\d+\.\d+\.\d+\s*$"
)
ZIZMOR = ["--offline", "--persona", "auditor", "--color", "never", "--no-progress"]


# --- helpers -----------------------------------------------------------------------------------


@cache
def offline_prefix() -> tuple[str, ...]:
    """`unshare -rn` (no network at all) when this machine allows it, else nothing."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return ()
    probe = subprocess.run([unshare, "-rn", "true"], capture_output=True, check=False)
    return (unshare, "-rn") if probe.returncode == 0 else ()


def run_tool(name: str, *args: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """Run a tool from the venv's bin directory, offline, capturing its output."""
    tool = BIN / name
    assert tool.exists(), f"{tool} is missing: run `make venv`"
    argv = [*offline_prefix(), str(tool), *map(str, args)]
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def assert_clean(done: subprocess.CompletedProcess[str]) -> None:
    """Exit status 0, else fail with everything the tool printed."""
    assert done.returncode == 0, f"{done.args} exited {done.returncode}\n{done.stdout}\n{done.stderr}"


@cache
def load(path: Path) -> dict[str, Any]:
    """A workflow as a dict; PyYAML reads the key `on` as True, so it is renamed back."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), path
    if True in data:
        data["on"] = data.pop(True)
    return data


def jobs(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """(job id, job) pairs of a workflow."""
    yield from load(path)["jobs"].items()


def steps(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """(job id, step) pairs of a workflow."""
    for job_id, job in jobs(path):
        for step in job.get("steps", []):
            yield job_id, step


def triggers(path: Path) -> set[str]:
    """Event names of a workflow's `on:`, whatever its form (string, list or mapping)."""
    on = load(path)["on"]
    return {on} if isinstance(on, str) else set(on)


workflow_param = pytest.mark.parametrize("workflow", WORKFLOWS, ids=[p.name for p in WORKFLOWS])


def test_the_three_workflows_exist() -> None:
    """CI, Pages and the scheduled link check are all there."""
    assert [p.name for p in WORKFLOWS] == ["ci.yml", "link-check.yml", "pages.yml"]


# --- linters -----------------------------------------------------------------------------------


class TestLinters:
    """Each linter exits 0; on failure the test prints its output."""

    def test_zizmor(self) -> None:
        """zizmor finds nothing, even with the `auditor` persona (its strictest)."""
        done = run_tool(
            "zizmor", *ZIZMOR, "--collect=workflows,dependabot,pre-commit", "--", GITHUB, PRE_COMMIT
        )
        assert_clean(done)
        assert "No findings to report" in done.stdout + done.stderr

    def test_zizmor_fails_on_a_finding(self, tmp_path: Path) -> None:
        """The same invocation does fail on a bad workflow, so the clean result above means something."""
        bad = tmp_path / ".github" / "workflows" / "bad.yml"
        bad.parent.mkdir(parents=True)
        bad.write_text(
            "on: pull_request_target\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n"
            "      - uses: actions/checkout@v4\n      - run: echo ${{ github.event.pull_request.title }}\n",
            encoding="utf-8",
        )
        done = run_tool("zizmor", *ZIZMOR, tmp_path / ".github")
        assert done.returncode != 0
        assert "unpinned-uses" in done.stdout
        assert "template-injection" in done.stdout

    def test_actionlint(self) -> None:
        """actionlint (it finds .github/workflows from the repository root)."""
        assert_clean(run_tool("actionlint", "-no-color", *WORKFLOWS))

    @workflow_param
    def test_workflow_schema(self, workflow: Path) -> None:
        """Each workflow against the schema bundled with check-jsonschema (no download)."""
        assert_clean(run_tool("check-jsonschema", "--builtin-schema", "vendor.github-workflows", workflow))

    def test_dependabot_schema(self) -> None:
        """dependabot.yml against its bundled schema."""
        assert_clean(run_tool("check-jsonschema", "--builtin-schema", "vendor.dependabot", DEPENDABOT))

    @pytest.mark.parametrize(
        ("schema", "pattern"),
        [("vendor.github-issue-forms", "[!c]*.yml"), ("vendor.github-issue-config", "config.yml")],
    )
    def test_issue_template_schemas(self, schema: str, pattern: str) -> None:
        """Issue forms and the issue-chooser config against their bundled schemas."""
        files = sorted((GITHUB / "ISSUE_TEMPLATE").glob(pattern))
        assert files
        assert_clean(run_tool("check-jsonschema", "--builtin-schema", schema, *files))


# --- structural rules --------------------------------------------------------------------------


@workflow_param
class TestWorkflowRules:
    """Least privilege, pinned, bounded: the rules of style.md §2 item 12."""

    def test_top_level_permissions_empty(self, workflow: Path) -> None:
        """Nothing is granted at the top; every job states its own grants."""
        assert load(workflow)["permissions"] == {}
        missing = [job_id for job_id, job in jobs(workflow) if "permissions" not in job]
        assert missing == [], f"jobs without their own permissions: {missing}"

    def test_every_uses_pinned_to_a_sha_with_version_comment(self, workflow: Path) -> None:
        """`uses: owner/repo@<40 hex> # vX.Y.Z`, on every line that has `uses:`."""
        lines = [line for line in workflow.read_text(encoding="utf-8").splitlines() if "uses:" in line]
        assert lines, "expected at least one action"
        unpinned = [line.strip() for line in lines if not PINNED_USES.match(line)]
        assert unpinned == []

    def test_checkout_never_persists_credentials(self, workflow: Path) -> None:
        """Every actions/checkout step has `persist-credentials: false`."""
        checkouts = [
            (job, s) for job, s in steps(workflow) if str(s.get("uses", "")).startswith("actions/checkout@")
        ]
        leaking = [job for job, s in checkouts if s.get("with", {}).get("persist-credentials") is not False]
        assert leaking == [], f"checkout persisting credentials in jobs {leaking}"

    def test_every_job_has_a_timeout(self, workflow: Path) -> None:
        """`timeout-minutes` on every job, and a sane one."""
        timeouts = {job_id: job.get("timeout-minutes") for job_id, job in jobs(workflow)}
        assert all(isinstance(t, int) and 0 < t <= 60 for t in timeouts.values()), timeouts

    def test_no_pull_request_target(self, workflow: Path) -> None:
        """Fork PRs run with `pull_request` (read-only token), never `pull_request_target`."""
        assert "pull_request_target" not in triggers(workflow)
        assert "pull_request_target" not in workflow.read_text(encoding="utf-8")

    def test_concurrency_group(self, workflow: Path) -> None:
        """A concurrency group keyed on the workflow."""
        assert "${{ github.workflow }}" in load(workflow)["concurrency"]["group"]

    def test_no_expressions_in_run_scripts(self, workflow: Path) -> None:
        """`${{ }}` goes through `env:`, never straight into a shell script."""
        injected = [(job, s.get("name")) for job, s in steps(workflow) if "${{" in str(s.get("run", ""))]
        assert injected == []

    def test_write_grants_are_commented(self, workflow: Path) -> None:
        """Every `: write` grant carries a comment saying why."""
        grants = [
            line
            for line in workflow.read_text(encoding="utf-8").splitlines()
            if re.search(r":\s*write\b", line)
        ]
        assert all("#" in line for line in grants), grants


def test_same_action_same_sha_everywhere() -> None:
    """One version of each action across all workflows (Dependabot bumps them together)."""
    pins: dict[str, set[str]] = {}
    for workflow in WORKFLOWS:
        for line in workflow.read_text(encoding="utf-8").splitlines():
            if match := PINNED_USES.match(line):
                pins.setdefault(match["action"], set()).add(match["sha"])
    assert {action: shas for action, shas in pins.items() if len(shas) > 1} == {}


class TestSpecificWorkflows:
    """What each workflow promises beyond the shared rules."""

    def test_ci_triggers(self) -> None:
        """CI runs on pull requests and pushes to main."""
        path = GITHUB / "workflows" / "ci.yml"
        assert triggers(path) == {"pull_request", "push"}
        assert load(path)["on"]["push"]["branches"] == ["main"]

    def test_ci_hub_check_is_secret_free(self) -> None:
        """The PR Hub check runs in dry run from the base commit and sees no secret (fork-safe)."""
        text = (GITHUB / "workflows" / "ci.yml").read_text(encoding="utf-8")
        assert "${{ secrets." not in text
        assert "--changed-since" in text
        assert "--dry-run" in text

    def test_pages_only_deploy_job_can_write(self) -> None:
        """pages: write and id-token: write exist only on the deploy job, which runs no project code."""
        path = GITHUB / "workflows" / "pages.yml"
        grants = {job_id: job["permissions"] for job_id, job in jobs(path)}
        assert grants == {"build": {"contents": "read"}, "deploy": {"pages": "write", "id-token": "write"}}
        assert not any("run" in step for job_id, step in steps(path) if job_id == "deploy")

    def test_link_check_schedule_guard_and_dispatch(self) -> None:
        """Weekly off the hour, manual dispatch, and no run outside the canonical repository."""
        path = GITHUB / "workflows" / "link-check.yml"
        on = load(path)["on"]
        assert "workflow_dispatch" in on
        minute = on["schedule"][0]["cron"].split()[0]
        assert minute.isdigit()
        assert int(minute) not in (0, 30)
        assert load(path)["jobs"]["check"]["if"] == f"github.repository == '{CANONICAL_REPO}'"

    def test_link_check_uses_rolling_issue(self) -> None:
        """The issue job goes through `python -m generator link-issue`, with issues: write only."""
        path = GITHUB / "workflows" / "link-check.yml"
        job = load(path)["jobs"]["issue"]
        assert job["permissions"] == {"contents": "read", "issues": "write"}
        assert any("-m generator link-issue" in str(step.get("run", "")) for step in job["steps"])


def test_dependabot_grouped_weekly_with_cooldown() -> None:
    """Actions and pip, grouped, weekly, with a 7-day cooldown."""
    updates = yaml.safe_load(DEPENDABOT.read_text(encoding="utf-8"))["updates"]
    assert {u["package-ecosystem"] for u in updates} == {"github-actions", "pip"}
    for update in updates:
        assert update["schedule"]["interval"] == "weekly"
        assert update["cooldown"]["default-days"] == 7
        assert update["groups"]


def test_pre_commit_hooks_use_the_venv() -> None:
    """Every hook is local and runs a tool installed in .venv, so no hook repository is ever fetched."""
    config = yaml.safe_load(PRE_COMMIT.read_text(encoding="utf-8"))
    assert [repo["repo"] for repo in config["repos"]] == ["local"]
    hooks = config["repos"][0]["hooks"]
    assert {hook["id"] for hook in hooks} >= {
        "validate-data",
        "ruff-check",
        "ruff-format",
        "zizmor",
        "actionlint",
    }
    for hook in hooks:
        executable = hook["entry"].split()[0]
        assert executable.startswith(".venv/bin/"), hook["id"]
        assert (BIN / Path(executable).name).exists(), hook["id"]


@pytest.mark.parametrize(
    ("line", "pinned"),
    [
        ("      - uses: actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8 # v5.0.0", True),
        ("        uses: actions/deploy-pages@d6db90164ac5ed86f2b6aed7e0febac5b3c0c03e # v4.0.5", True),
        ("      - uses: actions/checkout@v5", False),
        ("      - uses: actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8", False),
        ("      - uses: actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8 # v5", False),
        ("      - uses: actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a # v5.0.0", False),
    ],
)
def test_pin_rule_itself(line: str, pinned: bool) -> None:
    """The pin rule accepts only a full 40-hex SHA followed by a full `# vX.Y.Z` comment."""
    assert bool(PINNED_USES.match(line)) is pinned
