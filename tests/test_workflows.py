"""The GitHub workflows, Dependabot and pre-commit config: linters (offline) plus the project's own rules.

GitHub cannot be reached from here, so the workflows are proven by static checks: zizmor (security),
actionlint (expressions, shell scripts through shellcheck when installed), the JSON Schemas that
check-jsonschema ships, and property tests of the rules those tools do not enforce: least privilege,
pinned Node 24 actions, bounded jobs, per-PR concurrency, one honest required check, schedules that are
switched on by one repository variable, run only on main and keep themselves alive, no push that rewrites a
branch, the dev toolchain only where tests run, and a maintainer's guide naming every setting they read.

Each rule is a function that returns its violations (an empty list when the rule holds). The tests run
it on every workflow, job or step of the real files, parametrized so that a failure names the place, and
a second set of tests runs it on a mutated copy to show that it does catch what it claims to catch.
The tools run inside an unshared network namespace when the machine allows it, so a tool that tried
the network would fail here instead of silently passing.
"""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import yaml

from generator.cli import build_parser
from generator.github.gh import full_report

ROOT = Path(__file__).resolve().parent.parent
GITHUB = ROOT / ".github"
WORKFLOWS = sorted([*(GITHUB / "workflows").glob("*.yml"), *(GITHUB / "workflows").glob("*.yaml")])
CI = GITHUB / "workflows" / "ci.yml"
PAGES = GITHUB / "workflows" / "pages.yml"
LINK_CHECK = GITHUB / "workflows" / "link-check.yml"
DEPENDABOT = GITHUB / "dependabot.yml"
PRE_COMMIT = ROOT / ".pre-commit-config.yaml"
MAINTAINING = ROOT / "MAINTAINING.md"
MKDOCS = ROOT / "mkdocs.yml"
ISSUE_CONFIG = GITHUB / "ISSUE_TEMPLATE" / "config.yml"
PR_TEMPLATES = sorted([GITHUB / "PULL_REQUEST_TEMPLATE.md", *(GITHUB / "PULL_REQUEST_TEMPLATE").glob("*.md")])
BIN = Path(sys.executable).parent
ZIZMOR = ["--offline", "--persona", "auditor", "--color", "never", "--no-progress"]

Workflow = dict[str, Any]
Job = dict[str, Any]

# --- the rule tables: the only places where a workflow's specifics are written down -------------

# Every `write` scope a job may hold, with why that job needs it. Any other job gets read or nothing,
# so a new write grant fails the tests until it is added here with its reason.
WRITE_GRANTS: dict[tuple[str, str, str], str] = {
    (
        "link-check.yml",
        "snapshot",
        "contents",
    ): "pushes the run's new snapshot branch, deletes superseded ones",
    (
        "link-check.yml",
        "snapshot",
        "pull-requests",
    ): "opens the snapshot pull request, closes superseded ones",
    ("link-check.yml", "issue", "issues"): "creates, edits or closes the rolling link-check issue",
    ("link-check.yml", "keepalive", "actions"): "re-enables the scheduled workflow (60-day inactivity rule)",
    ("pages.yml", "deploy", "pages"): "deploy-pages publishes the site artifact",
    ("pages.yml", "deploy", "id-token"): "deploy-pages proves the run's identity to Pages (OIDC)",
}

# The first major version of each allowed action whose action.yml runs on Node 24 (or is a composite of
# Node 24 actions), as read at the tag: the team reference shared/reference/github-actions.md, "Action
# versions on Node 24". Runners default to Node 24 and Node 20 is scheduled for removal. Below the floor on
# purpose (Node 20): upload-artifact <= v5, download-artifact <= v6, upload-pages-artifact v4 (it wraps
# upload-artifact v4), deploy-pages v4; configure-pages has no Node 24 release and is not allowed at all.
# A floor, not a list: Dependabot's next major bump passes without an edit here, while a new action, or a
# downgrade to a Node 20 major, fails until someone reads its action.yml and writes its floor.
NODE24_FLOORS: dict[str, int] = {
    "actions/checkout": 5,
    "actions/setup-python": 6,
    "actions/upload-artifact": 6,
    "actions/download-artifact": 7,
    "actions/upload-pages-artifact": 5,
    "actions/deploy-pages": 5,
    "actions/create-github-app-token": 3,
}

# The jobs that install the whole dev toolchain (pytest, mypy, ruff, zensical, playwright, zizmor …), with
# why. Every other job installs requirements/site.txt only (`make venv-site`, or `make site`), above all
# the Pages build and the jobs that hold a secret or a write grant.
DEV_INSTALLS: dict[tuple[str, str], str] = {
    ("ci.yml", "test"): "runs `make test`: ruff, mypy and pytest",
}

# Workflows whose setup-python keeps a pip cache. Only CI: a cache written by one run is read by the next,
# so the Pages build and the jobs that hold secrets install from the registry each time.
CACHED_WORKFLOWS = frozenset({"ci.yml"})

# Branch protection requires a check of this name, and CONTRIBUTING.md tells contributors to wait for it.
REQUIRED_CHECK = "CI OK"
MAX_TIMEOUT_MINUTES = 60  # well under GitHub's 360-minute default: a hung job stops within the hour

# --- loading ------------------------------------------------------------------------------------


def parse(text: str) -> Workflow:
    """A workflow as a dict; YAML 1.1 reads the key `on` as True, so it is renamed back."""
    data = yaml.safe_load(text)
    assert isinstance(data, dict)
    if True in data:
        data["on"] = data.pop(True)
    return data


@cache
def _load(path: Path) -> Workflow:
    return parse(path.read_text(encoding="utf-8"))


def load(path: Path) -> Workflow:
    """A fresh copy of a workflow, safe to mutate."""
    return copy.deepcopy(_load(path))


def jobs(workflow: Workflow) -> Iterator[tuple[str, Job]]:
    """(job id, job) pairs of a workflow."""
    yield from workflow["jobs"].items()


def steps(job: Job) -> list[dict[str, Any]]:
    """A job's steps (none for a job that calls a reusable workflow)."""
    return list(job.get("steps", []))


def triggers(workflow: Workflow) -> set[str]:
    """Event names of a workflow's `on:`, whatever its form (string, list or mapping)."""
    on = workflow["on"]
    return {on} if isinstance(on, str) else set(on)


def strings(node: object) -> Iterator[str]:
    """Every string value anywhere in a parsed YAML tree."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from strings(value)


def is_checkout(step: dict[str, Any]) -> bool:
    return str(step.get("uses", "")).startswith("actions/checkout@")


# --- the rules: each returns its violations, [] when it holds ---------------------------------


def top_level_permission_violations(workflow: Workflow) -> list[str]:
    """Least privilege: `permissions: {}` at the top, so a job gets only what it asks for itself."""
    if workflow.get("permissions") != {}:
        return [f"top-level `permissions: {workflow.get('permissions')!r}`, expected {{}}"]
    return []


def job_permission_violations(workflow_name: str, job_id: str, job: Job) -> list[str]:
    """Least privilege per job: an explicit scope list; `write` only where WRITE_GRANTS says so;
    repository contents only for a job that checks the repository out."""
    grants = job.get("permissions")
    if grants is None:
        return ["no `permissions:` of its own"]
    if not isinstance(grants, dict):
        return [f"`permissions: {grants}` grants every scope at once; list the scopes it needs"]
    found = []
    for scope, level in grants.items():
        if level not in ("read", "write", "none"):
            found.append(f"{scope}: {level!r} is not read, write or none")
        if level == "write" and (workflow_name, job_id, scope) not in WRITE_GRANTS:
            found.append(f"{scope}: write is not an allowed grant (WRITE_GRANTS)")
        if scope == "contents" and level != "none" and not any(map(is_checkout, steps(job))):
            found.append(f"contents: {level} without an actions/checkout step")
    return found


def publisher_violations(job: Job) -> list[str]:
    """A job that can publish Pages or mint OIDC tokens runs no project code (no checkout, no `run:`)."""
    grants = job.get("permissions")
    writes = (
        {scope for scope, level in grants.items() if level == "write"} if isinstance(grants, dict) else set()
    )
    if not writes & {"pages", "id-token"}:
        return []
    return [
        f"step {step.get('name') or step.get('uses')!r} runs code in a job holding pages/id-token: write"
        for step in steps(job)
        if "run" in step or is_checkout(step)
    ]


def checkout_violations(job: Job) -> list[str]:
    """Every actions/checkout step sets `persist-credentials: false` (no token left in .git/config)."""
    return [
        f"checkout step {step.get('name') or step['uses']!r} persists credentials"
        for step in steps(job)
        if is_checkout(step) and (step.get("with") or {}).get("persist-credentials") is not False
    ]


def timeout_violations(job: Job) -> list[str]:
    """Every job has a `timeout-minutes` between 1 and MAX_TIMEOUT_MINUTES."""
    timeout = job.get("timeout-minutes")
    if not isinstance(timeout, int) or not 0 < timeout <= MAX_TIMEOUT_MINUTES:
        return [f"timeout-minutes is {timeout!r}, expected 1..{MAX_TIMEOUT_MINUTES}"]
    return []


DEADLINE_MARGIN = 5  # minutes for setup, in-flight requests (at most 2) and the report after the deadline


def deadline_violations(job: Job) -> list[str]:
    """Every `generator check` ends (its --deadline, 30 by default) well before the job's timeout."""
    timeout = job.get("timeout-minutes")
    found = []
    for step in steps(job):
        for match in GENERATOR_CALL.finditer(str(step.get("run", ""))):
            if match["command"] != "check":
                continue
            given = re.search(r"--deadline[ =](\d+(?:\.\d+)?)", match["args"])
            deadline = float(given[1]) if given else 30.0
            if not isinstance(timeout, int) or deadline + DEADLINE_MARGIN > timeout:
                found.append(
                    f"check --deadline {deadline:g} + {DEADLINE_MARGIN} min > timeout-minutes {timeout}"
                )
    return found


def run_expression_violations(job: Job) -> list[str]:
    """`${{ }}` reaches a shell script only through `env:`, never pasted into the script (injection)."""
    return [
        f"step {step.get('name')!r} has ${{{{ }}}} in its script"
        for step in steps(job)
        if "${{" in str(step.get("run", ""))
    ]


PER_PR_KEY = re.compile(r"github\.(?:event\.pull_request\.number|ref|run_id)(?![\w.])")


def pr_concurrency_violations(workflow: Workflow) -> list[str]:
    """A pull-request workflow's concurrency group is unique per PR (or per run): keyed on the PR number,
    `github.ref` or the run id, never on `github.head_ref`, the bare branch name, which every web-editor
    fork branch shares (`patch-1`), so PRs from different forks would cancel each other."""
    concurrency = workflow.get("concurrency")
    group = str(concurrency.get("group", "") if isinstance(concurrency, dict) else concurrency or "")
    found = []
    if "github.head_ref" in group:
        found.append(f"group {group!r} is keyed on github.head_ref (fork branches are all named patch-1)")
    if not PER_PR_KEY.search(group):
        found.append(f"group {group!r} has nothing unique per PR or run")
    return found


def aggregate_job(workflow: Workflow) -> tuple[str, Job] | None:
    """The job that `needs` every other job (the one check branch protection can require), if any."""
    ids = set(workflow["jobs"])
    for job_id, job in jobs(workflow):
        needs = job.get("needs", [])
        if len(ids) > 1 and set([needs] if isinstance(needs, str) else needs) == ids - {job_id}:
            return job_id, job
    return None


def aggregate_condition_violations(job: Job) -> list[str]:
    """The aggregate runs when a job failed (a skipped required check counts as passed) but not when the
    run was cancelled: `if: ${{ !cancelled() }}`, never `always()`."""
    condition = re.sub(r"\s+", "", str(job.get("if", "")))
    if "always()" in condition:
        return [f"`if: {job['if']}` also runs on a cancelled run and then reports red (or green) wrongly"]
    if "!cancelled()" not in condition:
        return [f"`if: {job.get('if')}`: a failed job would skip this check, and skipped counts as passed"]
    return []


SCHEDULE_SWITCH = re.compile(
    r"vars\.(?P<variable>[A-Z][A-Z0-9_]*)\s*==\s*'true'|github\.repository(?:_owner)?\s*=="
)
MAIN_GUARD = re.compile(r"github\.ref_name\s*==\s*'main'|github\.ref\s*==\s*'refs/heads/main'")
STATUS_OVERRIDE = re.compile(r"\b(?:always|cancelled|failure)\(\)")


def scheduled(workflow: Workflow) -> bool:
    """Whether the workflow has a `schedule:` trigger."""
    return "schedule" in triggers(workflow)


def schedule_violations(workflow: Workflow) -> list[str]:
    """A scheduled workflow can also be run by hand, fires off the hour, is switched on by a repository
    variable (a fork has none, and schedule payloads carry no github.event.repository to test for a fork)
    and runs only on main: each job is guarded directly, or through guarded jobs it needs (a job
    skipped by its guard skips its dependents unless they override with always()/cancelled()/failure())."""
    on = workflow["on"]
    if not scheduled(workflow):
        return []
    found = [] if "workflow_dispatch" in on else ["scheduled without workflow_dispatch"]
    for entry in on["schedule"]:
        minutes = entry["cron"].split()[0].split(",")
        if not all(m.isdigit() and int(m) not in (0, 30) for m in minutes):
            found.append(f"cron {entry['cron']!r} is not at a fixed minute off the hour and half-hour")
    guarded: set[str] = set()
    for job_id, job in jobs(workflow):  # a job can only need a job defined above it
        condition = str(job.get("if", ""))
        needs = job.get("needs", [])
        needs = [needs] if isinstance(needs, str) else needs
        if needs and set(needs) <= guarded and not STATUS_OVERRIDE.search(condition):
            guarded.add(job_id)
            continue
        missing = [
            text
            for pattern, text in (
                (SCHEDULE_SWITCH, "would run in every fork (no `vars.NAME == 'true'` switch)"),
                (MAIN_GUARD, "would run off main (no `github.ref_name == 'main'` guard)"),
            )
            if not pattern.search(condition)
        ]
        if missing:
            found.append(f"job {job_id!r} " + " and ".join(missing))
        else:
            guarded.add(job_id)
    return found


def schedule_payload_violations(workflow: Workflow) -> list[str]:
    """A scheduled workflow never reads `github.event.repository`: schedule payloads do not carry it, so
    e.g. a base branch taken from it is empty. `github.ref_name` and `github.repository` are always set."""
    if not scheduled(workflow):
        return []
    return [
        f"{text.strip()!r} reads github.event.repository"
        for text in strings(workflow)
        if "github.event.repository" in text
    ]


ENABLE_CALL = re.compile(r"gh\s+api\s+(?:--method|-X)\s+PUT\s+\S*/actions/workflows/\S+/enable\b")
STATE_CHECK = re.compile(r"gh\s+api\s+\S*/actions/workflows/[^\s/]+\s+--jq\s+\.state\b[\s\S]*!=\s*\"active\"")


def keepalive_violations(workflow: Workflow) -> list[str]:
    """A scheduled workflow keeps itself alive: one job, needing no other (a failed check must not skip
    it) and running no action or checkout, calls `PUT …/actions/workflows/<file>/enable` with
    `actions: write` as its only grant, then reads the workflow's `.state` and fails unless `active`."""
    if not scheduled(workflow):
        return []
    keepers = [
        (job_id, job)
        for job_id, job in jobs(workflow)
        if any(ENABLE_CALL.search(str(step.get("run", ""))) for step in steps(job))
    ]
    if not keepers:
        return ["no job re-enables the workflow (gh api --method PUT …/actions/workflows/<file>/enable)"]
    found = []
    for job_id, job in keepers:
        if job.get("permissions") != {"actions": "write"}:
            found.append(
                f"job {job_id!r}: permissions {job.get('permissions')!r}, expected {{actions: write}}"
            )
        if job.get("needs"):
            found.append(f"job {job_id!r} needs {job['needs']!r}: a failed check would skip the keepalive")
        found += [f"job {job_id!r} runs {step['uses']}" for step in steps(job) if "uses" in step]
        if not any(STATE_CHECK.search(str(step.get("run", ""))) for step in steps(job)):
            found.append(f"job {job_id!r} never checks that the workflow's state is active")
    return found


def environment_violations(job: Job) -> list[str]:
    """A job that uses an environment only for its secrets says `deployment: false`, so no deployment
    record is created every run; only the Pages deployment (deploy-pages needs one) records one."""
    environment = job.get("environment")
    if environment is None:
        return []
    name = environment.get("name") if isinstance(environment, dict) else environment
    if name == "github-pages":
        return []
    if not isinstance(environment, dict) or environment.get("deployment") is not False:
        return [f"environment {name!r} without `deployment: false` records a deployment every run"]
    return []


FORCED_PUSH = re.compile(r"\bgit\b[^\n]*\spush\b[^\n]*?\s(?:--force(?:-with-lease)?\b|-f\b|\+\S)")


def force_push_violations(job: Job) -> list[str]:
    """No script force-pushes (`--force`, `--force-with-lease`, `-f`, a `+` refspec): a rewritten branch
    that carries older workflow files is refused to any token without the `workflows` permission."""
    return [
        f"step {step.get('name')!r} force-pushes: {match[0].strip()!r}"
        for step in steps(job)
        for match in FORCED_PUSH.finditer(str(step.get("run", "")))
    ]


DEV_INSTALL = re.compile(
    r"\bmake\s+(?:venv|test|test-fast|lint|typecheck|pytest|bench)(?![\w-])|\.ci/run\b|requirements/dev\.txt"
)


def dev_install_violations(workflow_name: str, job_id: str, job: Job) -> list[str]:
    """The dev toolchain is installed only by the jobs DEV_INSTALLS names; the rest install the site's."""
    if (workflow_name, job_id) in DEV_INSTALLS:
        return []
    return [
        f"step {step.get('name')!r} installs the dev toolchain ({match[0]!r}); use `make venv-site`"
        for step in steps(job)
        for match in DEV_INSTALL.finditer(str(step.get("run", "")))
    ]


def cache_violations(workflow_name: str, job: Job) -> list[str]:
    """setup-python keeps a pip cache in CACHED_WORKFLOWS (always) and nowhere else; no actions/cache."""
    found = []
    for step in steps(job):
        uses = str(step.get("uses", ""))
        cache = (step.get("with") or {}).get("cache")
        if uses.startswith("actions/cache"):
            found.append(f"{uses}: caches are kept to setup-python's pip cache in CI")
        elif uses.startswith("actions/setup-python@"):
            if workflow_name in CACHED_WORKFLOWS and cache != "pip":
                found.append(f"setup-python has `cache: {cache!r}`, expected pip")
            elif workflow_name not in CACHED_WORKFLOWS and cache:
                found.append(f"setup-python caches ({cache!r}) outside CI")
    return found


def pr_secret_violations(workflow: Workflow) -> list[str]:
    """A workflow run by pull requests reads no secret: fork PRs get none, so it must work without."""
    if "pull_request" not in triggers(workflow):
        return []
    return [f"{text.strip()!r} reads a secret" for text in strings(workflow) if "secrets." in text]


class Uses(NamedTuple):
    """One `uses:` line of a workflow's raw text."""

    line: int
    target: str  # what follows `uses:`, e.g. actions/checkout@<sha>
    rest: str  # the rest of the line, where the version comment lives


USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(['\"]?)(?P<target>[^\s'\"#]+)\1(?P<rest>.*)$")
PINNED = re.compile(r"(?P<action>[\w.-]+/[\w.-]+)(?:/[\w./-]+)?@(?P<sha>[0-9a-f]{40})")
VERSION_COMMENT = re.compile(r"\s+# v(?P<major>\d+)\.\d+\.\d+\s*")


def uses_lines(text: str) -> list[Uses]:
    """Every `uses:` of remote actions in a workflow's text (local `./` actions are skipped)."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        if (match := USES_LINE.match(line)) and not match["target"].startswith("./"):
            found.append(Uses(number, match["target"], match["rest"]))
    return found


def pin_violations(text: str) -> list[str]:
    """Every remote `uses:` is pinned to a 40-hex commit SHA with a `# vX.Y.Z` comment on the same line."""
    found = []
    for uses in uses_lines(text):
        if not PINNED.fullmatch(uses.target):
            found.append(f"line {uses.line}: {uses.target} is not pinned to a 40-hex commit SHA")
        elif not VERSION_COMMENT.fullmatch(uses.rest):
            found.append(f"line {uses.line}: {uses.target} has no `# vX.Y.Z` comment")
    return found


def node24_violations(text: str) -> list[str]:
    """Every pinned action has a floor in NODE24_FLOORS and its release (the major of its `# v` comment) is
    at or above it (pins without a comment are pin_violations)."""
    found = []
    for uses in uses_lines(text):
        pin, version = PINNED.fullmatch(uses.target), VERSION_COMMENT.fullmatch(uses.rest)
        if not (pin and version):
            continue
        floor, release = NODE24_FLOORS.get(pin["action"]), uses.rest.strip()[2:]
        if floor is None:
            found.append(f"line {uses.line}: {pin['action']} has no Node 24 floor in NODE24_FLOORS")
        elif int(version["major"]) < floor:
            found.append(
                f"line {uses.line}: {pin['action']} v{release} is below v{floor}, its first Node 24 major"
            )
    return found


GENERATOR_CALL = re.compile(r"-m generator\s+(?P<command>[\w-]+)(?P<args>.*)")


@cache
def generator_help(command: str) -> str:
    """`python -m generator COMMAND --help`, or the error when there is no such command."""
    done = subprocess.run(
        [sys.executable, "-m", "generator", command, "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done.stdout if done.returncode == 0 else ""


def generator_call_violations(script: str) -> list[str]:
    """Every `python -m generator COMMAND --option` a script runs is a command and option the CLI has."""
    found = []
    for match in GENERATOR_CALL.finditer(script.replace("\\\n", " ")):
        command, options = match["command"], re.findall(r"(?<![\w-])--[a-z][\w-]*", match["args"])
        usage = generator_help(command)
        if not usage:
            found.append(f"`python -m generator {command}`: no such command")
        found += [
            f"`python -m generator {command} {option}`: no such option"
            for option in options
            if usage and not re.search(rf"(?<![\w-]){option}(?![\w-])", usage)
        ]
    return found


# --- parameters ---------------------------------------------------------------------------------

workflow_param = pytest.mark.parametrize("workflow", WORKFLOWS, ids=[p.name for p in WORKFLOWS])
job_param = pytest.mark.parametrize(
    ("workflow", "job_id"),
    [
        pytest.param(path, job_id, id=f"{path.name}:{job_id}")
        for path in WORKFLOWS
        for job_id in _load(path)["jobs"]
    ],
)


def assert_none(violations: list[str]) -> None:
    assert violations == [], "\n".join(violations)


# --- helpers for the linters --------------------------------------------------------------------


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


def test_workflows_are_found() -> None:
    """The parametrized rules below have something to run on, CI included (several rules are about it)."""
    assert WORKFLOWS
    assert CI in WORKFLOWS


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


# --- rules over every workflow ------------------------------------------------------------------


@workflow_param
class TestEveryWorkflow:
    """Rules each workflow file keeps (style.md §2 item 12; reference/github-actions.md for GitHub's side)."""

    def test_top_level_permissions_empty(self, workflow: Path) -> None:
        """Least privilege: `permissions: {}` at the top; every job states its own grants."""
        assert_none(top_level_permission_violations(load(workflow)))

    def test_every_remote_action_pinned_with_version_comment(self, workflow: Path) -> None:
        """`uses: owner/repo@<40 hex> # vX.Y.Z` on every line, and the text scan sees every `uses:`."""
        text = workflow.read_text(encoding="utf-8")
        assert_none(pin_violations(text))
        parsed = [
            str(entry["uses"])
            for _, job in jobs(load(workflow))
            for entry in [job, *steps(job)]
            if "uses" in entry and not str(entry["uses"]).startswith("./")
        ]
        assert sorted(parsed) == sorted(uses.target for uses in uses_lines(text)), (
            "a `uses:` the text scan missed"
        )

    def test_write_grants_are_commented(self, workflow: Path) -> None:
        """Every `: write` grant line carries a comment saying why."""
        grants = [
            line
            for line in workflow.read_text(encoding="utf-8").splitlines()
            if re.search(r":\s*write\b", line)
        ]
        assert all("#" in line for line in grants), grants

    def test_no_pull_request_target(self, workflow: Path) -> None:
        """Fork PRs run with `pull_request` (read-only token), never `pull_request_target`."""
        assert "pull_request_target" not in triggers(load(workflow))
        assert "pull_request_target" not in workflow.read_text(encoding="utf-8")

    def test_pull_request_workflows_read_no_secret(self, workflow: Path) -> None:
        """A workflow run by pull requests works without secrets, as fork PRs get none."""
        assert_none(pr_secret_violations(load(workflow)))

    def test_concurrency_group_keyed_on_the_workflow(self, workflow: Path) -> None:
        """Each workflow has its own concurrency group, so workflows never cancel each other's runs."""
        concurrency = load(workflow).get("concurrency")
        assert isinstance(concurrency, dict), "no concurrency group"
        assert "${{ github.workflow }}" in str(concurrency.get("group")), concurrency

    def test_scheduled_workflows_dispatchable_off_the_hour_switched_on_and_main_only(
        self, workflow: Path
    ) -> None:
        """A schedule comes with workflow_dispatch, an off-the-hour cron, and on every job a repository
        variable that switches it on (none in forks) and a main guard."""
        assert_none(schedule_violations(load(workflow)))

    def test_scheduled_workflows_read_no_repository_payload(self, workflow: Path) -> None:
        """Schedule payloads carry no github.event.repository: a scheduled workflow never reads it."""
        assert_none(schedule_payload_violations(load(workflow)))

    def test_scheduled_workflows_keep_themselves_alive(self, workflow: Path) -> None:
        """A scheduled workflow re-enables itself through the API every run (60-day inactivity rule)."""
        assert_none(keepalive_violations(load(workflow)))

    def test_generator_calls_exist(self, workflow: Path) -> None:
        """Every `python -m generator COMMAND --option` in a `run:` script is one the CLI has (scheduled
        workflows would otherwise only find out on their next run)."""
        scripts = [str(step.get("run", "")) for _, job in jobs(load(workflow)) for step in steps(job)]
        assert_none([v for script in scripts for v in generator_call_violations(script)])


@workflow_param
def test_only_node24_actions(workflow: Path) -> None:
    """Every pinned action is at or above its first Node 24 major (NODE24_FLOORS)."""
    assert_none(node24_violations(workflow.read_text(encoding="utf-8")))


def test_same_action_same_sha_everywhere() -> None:
    """One version of each action across all workflows (Dependabot bumps them together)."""
    pins: dict[str, set[str]] = {}
    for workflow in WORKFLOWS:
        for uses in uses_lines(workflow.read_text(encoding="utf-8")):
            if pin := PINNED.fullmatch(uses.target):
                pins.setdefault(pin["action"], set()).add(pin["sha"])
    assert {action: shas for action, shas in pins.items() if len(shas) > 1} == {}


# --- rules over every job -----------------------------------------------------------------------


@job_param
class TestEveryJob:
    """Rules each job of each workflow keeps; the test id names workflow and job."""

    def test_least_privilege(self, workflow: Path, job_id: str) -> None:
        """The job lists its own scopes; write scopes only as WRITE_GRANTS allows; contents only with a checkout."""
        assert_none(job_permission_violations(workflow.name, job_id, load(workflow)["jobs"][job_id]))

    def test_publishers_run_no_project_code(self, workflow: Path, job_id: str) -> None:
        """A job holding pages or id-token write runs no `run:` step and checks nothing out."""
        assert_none(publisher_violations(load(workflow)["jobs"][job_id]))

    def test_checkout_does_not_persist_credentials(self, workflow: Path, job_id: str) -> None:
        """Every actions/checkout step has `persist-credentials: false`."""
        assert_none(checkout_violations(load(workflow)["jobs"][job_id]))

    def test_has_a_timeout(self, workflow: Path, job_id: str) -> None:
        """`timeout-minutes` is set, and bounded."""
        assert_none(timeout_violations(load(workflow)["jobs"][job_id]))

    def test_check_ends_before_the_job_times_out(self, workflow: Path, job_id: str) -> None:
        """A hostile server makes `check` stop at its deadline and report, never the job's timeout kill it."""
        assert_none(deadline_violations(load(workflow)["jobs"][job_id]))

    def test_no_expressions_in_run_scripts(self, workflow: Path, job_id: str) -> None:
        """`${{ }}` goes through `env:`, never straight into a shell script."""
        assert_none(run_expression_violations(load(workflow)["jobs"][job_id]))

    def test_environment_without_deployment_record(self, workflow: Path, job_id: str) -> None:
        """An environment used for its secrets says `deployment: false` (only Pages records deployments)."""
        assert_none(environment_violations(load(workflow)["jobs"][job_id]))

    def test_never_force_pushes(self, workflow: Path, job_id: str) -> None:
        """No `git push --force` (or lease, `-f`, `+refspec`): pushes only create branches."""
        assert_none(force_push_violations(load(workflow)["jobs"][job_id]))

    def test_dev_toolchain_only_where_tests_run(self, workflow: Path, job_id: str) -> None:
        """Only DEV_INSTALLS jobs install requirements/dev.txt; the others install the site's only."""
        assert_none(dev_install_violations(workflow.name, job_id, load(workflow)["jobs"][job_id]))

    def test_pip_cache_in_ci_only(self, workflow: Path, job_id: str) -> None:
        """CI's setup-python caches pip; Pages and the link check (secrets, publishing) never cache."""
        assert_none(cache_violations(workflow.name, load(workflow)["jobs"][job_id]))


def test_write_grants_table_has_no_stale_entry() -> None:
    """Each WRITE_GRANTS entry is still granted, so the table cannot silently allow more than is used."""
    granted = {
        (path.name, job_id, scope)
        for path in WORKFLOWS
        for job_id, job in jobs(load(path))
        if isinstance(job.get("permissions"), dict)
        for scope, level in job["permissions"].items()
        if level == "write"
    }
    assert set(WRITE_GRANTS) - granted == set()


# --- CI: per-PR concurrency and one honest required check ------------------------------------------


def test_ci_runs_on_pull_requests() -> None:
    """CI is triggered by `pull_request`, so the required check reports on every PR, fork PRs included."""
    assert "pull_request" in triggers(load(CI))


def test_ci_concurrency_is_per_pull_request() -> None:
    """CI's concurrency group is unique per PR or run (PR number, ref or run id), not the branch name alone."""
    assert_none(pr_concurrency_violations(load(CI)))


def test_ci_has_one_aggregate_required_check() -> None:
    """One job needs every other CI job and is named REQUIRED_CHECK: adding a job without listing it in
    that job's `needs`, or renaming the check branch protection waits for, fails here."""
    found = aggregate_job(load(CI))
    assert found is not None, "no CI job needs every other job"
    assert found[1].get("name", found[0]) == REQUIRED_CHECK


def test_ci_aggregate_runs_unless_cancelled() -> None:
    """The aggregate job's `if:` is `!cancelled()`: it runs after a failure, not after a cancellation."""
    found = aggregate_job(load(CI))
    assert found is not None
    assert_none(aggregate_condition_violations(found[1]))


# --- the rules catch what they claim to catch -----------------------------------------------------


def test_permission_rules_catch_extra_grants() -> None:
    """A write grant outside WRITE_GRANTS, a missing or blanket job grant, and top-level grants all fail."""
    workflow = load(CI)
    assert top_level_permission_violations(workflow) == []
    assert job_permission_violations("ci.yml", "test", workflow["jobs"]["test"]) == []
    workflow["permissions"] = {"contents": "read"}
    assert top_level_permission_violations(workflow)
    workflow["jobs"]["test"]["permissions"]["pull-requests"] = "write"
    assert job_permission_violations("ci.yml", "test", workflow["jobs"]["test"])
    workflow["jobs"]["test"]["permissions"] = "write-all"
    assert job_permission_violations("ci.yml", "test", workflow["jobs"]["test"])
    del workflow["jobs"]["test"]["permissions"]
    assert job_permission_violations("ci.yml", "test", workflow["jobs"]["test"])
    ci_ok = workflow["jobs"]["ci-ok"]
    ci_ok["permissions"] = {"contents": "read"}  # nothing to check out: contents is not needed
    assert job_permission_violations("ci.yml", "ci-ok", ci_ok)
    # the same grant is fine where the table allows it
    assert job_permission_violations("pages.yml", "deploy", load(PAGES)["jobs"]["deploy"]) == []


def test_publisher_rule_catches_a_run_step() -> None:
    """A `run:` step in a job holding pages: write fails the publisher rule."""
    job = load(PAGES)["jobs"]["deploy"]
    assert publisher_violations(job) == []
    job["steps"].append({"name": "build here", "run": "make site"})
    assert publisher_violations(job)


def test_checkout_and_timeout_rules_catch_a_mutated_job() -> None:
    """Dropping `persist-credentials: false` or `timeout-minutes` from a real job fails the rule."""
    job = load(CI)["jobs"]["test"]
    assert checkout_violations(job) == []
    assert timeout_violations(job) == []
    del job["steps"][0]["with"]["persist-credentials"]
    del job["timeout-minutes"]
    assert checkout_violations(job)
    assert timeout_violations(job)


def test_deadline_rule_catches_a_check_outliving_its_job() -> None:
    """The default deadline (30 min) in a 15-minute job is caught; an explicit short one is not."""
    job: Job = {"timeout-minutes": 15, "steps": [{"run": ".venv/bin/python -m generator check --dry-run"}]}
    assert deadline_violations(job)
    job["steps"] = [{"run": ".venv/bin/python -m generator check --deadline 10 --dry-run"}]
    assert deadline_violations(job) == []


def test_run_expression_rule_catches_injection() -> None:
    """An expression pasted into a `run:` script fails the rule."""
    job = load(CI)["jobs"]["hub-check"]
    assert run_expression_violations(job) == []
    job["steps"][-1]["run"] = "echo ${{ github.event.pull_request.title }}"
    assert run_expression_violations(job)


@pytest.mark.parametrize(
    ("group", "ok"),
    [
        ("${{ github.workflow }}-${{ github.event.pull_request.number || github.run_id }}", True),
        ("${{ github.workflow }}-${{ github.ref }}", True),
        ("${{ github.workflow }}-${{ github.head_ref }}", False),
        ("${{ github.workflow }}-${{ github.head_ref || github.run_id }}", False),
    ],
)
def test_pr_concurrency_rule(group: str, ok: bool) -> None:
    """The per-PR concurrency rule accepts PR number / ref / run id keys and rejects head_ref."""
    workflow = load(CI)
    workflow["concurrency"]["group"] = group
    assert (pr_concurrency_violations(workflow) == []) is ok


@pytest.mark.parametrize(
    ("condition", "ok"),
    [("${{ !cancelled() }}", True), ("!cancelled()", True), ("always()", False), (None, False)],
)
def test_aggregate_condition_rule(condition: str | None, ok: bool) -> None:
    """The aggregate rule accepts `!cancelled()` and rejects `always()` or no condition at all."""
    found = aggregate_job(load(CI))
    assert found is not None
    job = found[1]
    job.pop("if", None)
    if condition is not None:
        job["if"] = condition
    assert (aggregate_condition_violations(job) == []) is ok


def test_aggregate_rule_catches_a_job_left_out() -> None:
    """A new CI job that the aggregate does not need leaves CI without an aggregate check."""
    workflow = load(CI)
    assert aggregate_job(workflow) is not None
    workflow["jobs"]["new"] = {"runs-on": "ubuntu-latest", "steps": [{"run": "true"}]}
    assert aggregate_job(workflow) is None


def test_schedule_rule_catches_an_unguarded_job() -> None:
    """Without the check job's guard, every job that needs it runs in forks and off main; a keepalive that
    lost its main guard, a job that overrides a skipped guard, a bad cron and no dispatch are all caught."""
    workflow = load(LINK_CHECK)
    assert schedule_violations(workflow) == []
    del workflow["jobs"]["check"]["if"]
    flagged = schedule_violations(workflow)
    assert [v.split("'")[1] for v in flagged] == ["check", "snapshot", "issue"]
    assert all("every fork" in v and "off main" in v for v in flagged)

    workflow = load(LINK_CHECK)
    workflow["jobs"]["keepalive"]["if"] = "vars.LINK_CHECK_ENABLED == 'true'"
    workflow["jobs"]["issue"]["if"] = "${{ !cancelled() }}"
    assert schedule_violations(workflow) == [
        "job 'issue' would run in every fork (no `vars.NAME == 'true'` switch) and would run off main"
        " (no `github.ref_name == 'main'` guard)",
        "job 'keepalive' would run off main (no `github.ref_name == 'main'` guard)",
    ]

    workflow = load(LINK_CHECK)
    workflow["on"]["schedule"] = [{"cron": "0 5 * * 1"}]
    del workflow["on"]["workflow_dispatch"]
    assert len(schedule_violations(workflow)) == 2


@pytest.mark.parametrize(
    ("condition", "ok"),
    [
        ("github.ref_name == 'main' && vars.LINK_CHECK_ENABLED == 'true'", True),
        ("github.ref == 'refs/heads/main' && github.repository == 'o/r'", True),
        ("vars.LINK_CHECK_ENABLED == 'true'", False),
        ("github.ref_name == 'main'", False),
        ("github.event.repository.fork == false && github.ref_name == 'main'", False),
        (None, False),
    ],
)
def test_schedule_guard_rule(condition: str | None, ok: bool) -> None:
    """The guard needs both a switch (variable or repository name) and a main-branch test."""
    workflow = load(LINK_CHECK)
    workflow["jobs"]["check"].pop("if")
    if condition is not None:
        workflow["jobs"]["check"]["if"] = condition
    assert ("job 'check'" not in " ".join(schedule_violations(workflow))) is ok


def test_schedule_payload_rule_catches_event_repository() -> None:
    """The base branch taken from github.event.repository (empty on a schedule) is caught."""
    workflow = load(LINK_CHECK)
    assert schedule_payload_violations(workflow) == []
    workflow["jobs"]["snapshot"]["steps"][-1]["env"]["BASE_BRANCH"] = (
        "${{ github.event.repository.default_branch }}"
    )
    assert schedule_payload_violations(workflow)
    workflow["on"] = {"workflow_dispatch": None}  # not scheduled: the payload has it
    assert schedule_payload_violations(workflow) == []


def test_keepalive_rule_catches_a_missing_or_overprivileged_keepalive() -> None:
    """No keepalive, a keepalive with more than actions: write, one that needs the check, one that runs
    an action, or one that never checks the state is `active` are each caught."""
    workflow = load(LINK_CHECK)
    assert keepalive_violations(workflow) == []
    keepalive = workflow["jobs"]["keepalive"]
    keepalive["permissions"]["contents"] = "write"
    keepalive["needs"] = "check"
    keepalive["steps"].insert(0, {"uses": PIN, "with": {"persist-credentials": False}})
    assert len(keepalive_violations(workflow)) == 3
    script = keepalive["steps"][1]["run"]
    keepalive["steps"][1]["run"] = script.replace('!= "active"', '= "missing"')
    assert (
        keepalive_violations(workflow)[-1]
        == "job 'keepalive' never checks that the workflow's state is active"
    )
    del workflow["jobs"]["keepalive"]
    assert keepalive_violations(workflow) == [
        "no job re-enables the workflow (gh api --method PUT …/actions/workflows/<file>/enable)"
    ]


def test_environment_rule_catches_a_deployment_record() -> None:
    """An environment named as a string, or a mapping without `deployment: false`, is caught; Pages is not."""
    job = load(LINK_CHECK)["jobs"]["check"]
    assert environment_violations(job) == []
    job["environment"] = "link-check"
    assert environment_violations(job)
    job["environment"] = {"name": "link-check", "deployment": True}
    assert environment_violations(job)
    assert environment_violations(load(PAGES)["jobs"]["deploy"]) == []


@pytest.mark.parametrize(
    ("script", "ok"),
    [
        ('git push origin "HEAD:refs/heads/$BRANCH"', True),
        ("git -c a=b push origin HEAD:refs/heads/x", True),
        ('git push --force origin "HEAD:refs/heads/$SNAPSHOT_BRANCH"', False),
        ("git push --force-with-lease origin HEAD:x", False),
        ("git push -f origin HEAD:x", False),
        ("git push origin +HEAD:refs/heads/x", False),
        ("echo 'no push' && git fetch --force origin", True),
    ],
)
def test_force_push_rule(script: str, ok: bool) -> None:
    """The force-push rule catches every way of rewriting a branch, and only those."""
    assert (force_push_violations({"steps": [{"name": "push", "run": script}]}) == []) is ok


@pytest.mark.parametrize(
    ("script", "ok"),
    [
        ("make venv-site", True),
        ("make site", True),
        (".venv/bin/python -m generator validate", True),
        ("make venv", False),
        ("make test", False),
        ("bash .ci/run", False),
        ("pip install -r requirements/dev.txt -c constraints.txt", False),
    ],
)
def test_dev_install_rule(script: str, ok: bool) -> None:
    """Outside DEV_INSTALLS, a dev install in any form is caught; the site install is not."""
    job: Job = {"steps": [{"name": "Install", "run": script}]}
    assert (dev_install_violations("link-check.yml", "check", job) == []) is ok
    assert dev_install_violations("ci.yml", "test", job) == []


def test_cache_rule_catches_a_cache_outside_ci_and_a_ci_job_without() -> None:
    """A pip cache in the Pages build, or a CI setup-python without one, is caught."""
    build = load(PAGES)["jobs"]["build"]
    assert cache_violations("pages.yml", build) == []
    build["steps"][1]["with"]["cache"] = "pip"
    assert cache_violations("pages.yml", build)
    site = load(CI)["jobs"]["site"]
    assert cache_violations("ci.yml", site) == []
    del site["steps"][1]["with"]["cache"]
    assert cache_violations("ci.yml", site)
    site["steps"].append({"uses": "actions/cache@" + "0" * 40})
    assert len(cache_violations("ci.yml", site)) == 2


def test_pr_secret_rule_catches_a_secret() -> None:
    """A secret read in a pull-request workflow fails the rule."""
    workflow = load(CI)
    workflow["jobs"]["test"]["env"] = {"HF_TOKEN": "${{ secrets.HF_TOKEN }}"}
    assert pr_secret_violations(workflow)


PIN = "actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8"


@pytest.mark.parametrize(
    ("line", "pinned"),
    [
        (f"      - uses: {PIN} # v5.0.0", True),
        ("        uses: actions/deploy-pages@d6db90164ac5ed86f2b6aed7e0febac5b3c0c03e # v4.0.5", True),
        (f"      - uses: '{PIN}' # v5.0.0", True),
        ("      - uses: ./.github/actions/local", True),
        ("      - uses: actions/checkout@v5", False),
        (f"      - uses: {PIN}", False),
        (f"      - uses: {PIN} # v5", False),
        (f"      - uses: {PIN} # main", False),
        (f"      - uses: {PIN[:-1]} # v5.0.0", False),
        ("      - uses: docker://alpine:3", False),
    ],
)
def test_pin_rule(line: str, pinned: bool) -> None:
    """The pin rule accepts only a full 40-hex SHA followed by a full `# vX.Y.Z` comment."""
    assert (pin_violations(line) == []) is pinned


@pytest.mark.parametrize(
    ("line", "node24"),
    [
        (f"      - uses: {PIN} # v5.0.0", True),
        ("      - uses: actions/deploy-pages@cd2ce8fcbc39b97be8ca5fce6e763baed58fa128 # v5.0.0", True),
        (f"      - uses: {PIN} # v7.0.1", True),
        (f"      - uses: {PIN} # v12.3.4", True),  # a future major: Dependabot's bump needs no edit here
        ("      - uses: actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02 # v4.6.2", False),
        ("      - uses: actions/download-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02 # v6.0.0", False),
        ("      - uses: actions/deploy-pages@d6db90164ac5ed86f2b6aed7e0febac5b3c0c03e # v4.0.5", False),
        ("      - uses: actions/configure-pages@983d7736d9b0ae728b81ab479565c72886d7745b # v5.0.0", False),
        ("      - uses: someone/else@983d7736d9b0ae728b81ab479565c72886d7745b # v1.0.0", False),
    ],
)
def test_node24_rule(line: str, node24: bool) -> None:
    """The Node 24 rule accepts any major at or above an action's floor, and rejects a Node 20 major or an
    action without a floor."""
    assert (node24_violations(line) == []) is node24


def test_generator_call_rule_catches_unknown_commands_and_options() -> None:
    """A misspelt generator command or option fails the rule; a real one passes."""
    assert (
        generator_call_violations(".venv/bin/python -m generator check \\\n  --dry-run --report r.md") == []
    )
    assert generator_call_violations(".venv/bin/python -m generator check --no-such-option")
    assert generator_call_violations(".venv/bin/python -m generator no-such-command")


# --- the link check's own steps, run with stand-ins for gh and python ------------------------------


def step_named(job: Job, needle: str) -> dict[str, Any]:
    """The one step of `job` whose `run:` script contains `needle`."""
    found = [step for step in steps(job) if needle in str(step.get("run", ""))]
    assert len(found) == 1, f"{len(found)} steps run {needle!r}"
    return found[0]


def run_step(step: dict[str, Any], cwd: Path, env: dict[str, str], bin_dir: Path) -> int:
    """The exit status of a step's script (see :func:`run_script`)."""
    return run_script(step, cwd, env, bin_dir).returncode


def run_script(
    step: dict[str, Any], cwd: Path, env: dict[str, str], bin_dir: Path
) -> subprocess.CompletedProcess[str]:
    """Run a step's script as GitHub does with no `shell:` (`bash -e`), stand-ins first on PATH."""
    script = cwd / "step.sh"
    script.write_text(str(step["run"]), encoding="utf-8")
    path = f"{bin_dir}:/usr/bin:/bin"
    return subprocess.run(
        ["bash", "-e", str(script)],
        cwd=cwd,
        env={"PATH": path, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def recorder(path: Path, log: Path, status: int = 0, answers: dict[str, str] | None = None) -> None:
    """An executable that appends its arguments (one line per call) to `log`, prints the answer of the
    first key of `answers` its arguments contain (as a `case` pattern), and exits with `status`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    cases = "".join(f'  *"{key}"*) echo "{text}" ;;\n' for key, text in (answers or {}).items())
    answer = f'case "$*" in\n{cases}esac\n' if cases else ""
    path.write_text(f'#!/bin/sh\necho "$*" >> "{log}"\n{answer}exit {status}\n', encoding="utf-8")
    path.chmod(0o755)


needs_bash = pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")


@needs_bash
def test_check_step_writes_the_full_json_report_into_the_artifact_the_bodies_link(tmp_path: Path) -> None:
    """Issue 26, point 2: the issue and the snapshot PR are cut under GitHub's limit and point at
    `report.json` in the `link-check` artifact; the check step really writes it (with the real CLI's
    `--json`) into the folder the upload step sends under that name, and the job summary links it."""
    job = load(LINK_CHECK)["jobs"]["check"]
    step = step_named(job, "-m generator check")
    log = tmp_path / "python.log"
    recorder(tmp_path / ".venv" / "bin" / "python", log)
    temp = tmp_path / "temp"
    env = {
        "RUNNER_TEMP": str(temp),
        "GITHUB_OUTPUT": str(tmp_path / "output"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
    }
    assert run_step(step, tmp_path, env, tmp_path / "bin") == 0
    args = build_parser().parse_args(log.read_text().split()[2:])
    assert args.json == temp / "link-check" / "report.json"
    [upload] = [s for s in steps(job) if str(s.get("uses", "")).startswith("actions/upload-artifact@")]
    assert upload["with"]["path"].rstrip("/") == "${{ runner.temp }}/link-check"
    assert f"`{args.json.name}` in the `{upload['with']['name']}` artifact" in full_report(None)
    linking = [s for s in steps(job) if f"steps.{upload['id']}.outputs.artifact-url" in str(s.get("env", ""))]
    assert len(linking) == 1
    assert "$GITHUB_STEP_SUMMARY" in linking[0]["run"]


@needs_bash
@pytest.mark.parametrize(
    ("state", "status"), [("active", 0), ("disabled_inactivity", 1), ("disabled_manually", 1)]
)
def test_keepalive_step_enables_its_own_workflow_file_and_checks_it_is_active(
    tmp_path: Path, state: str, status: int
) -> None:
    """Given GitHub's GITHUB_WORKFLOW_REF, the keepalive enables this very workflow file, then reads its
    state: `active` passes; any other state fails the run with an error annotation naming the state."""
    step = step_named(load(LINK_CHECK)["jobs"]["keepalive"], "/enable")
    assert set(step["env"]) == {"GH_TOKEN"}
    log = tmp_path / "gh.log"
    recorder(tmp_path / "bin" / "gh", log, answers={"--jq .state": state})
    env = {
        "GH_TOKEN": "token",
        "GITHUB_REPOSITORY": "o/r",
        "GITHUB_WORKFLOW_REF": f"o/r/.github/workflows/{LINK_CHECK.name}@refs/heads/main",
    }
    done = run_script(step, tmp_path, env, tmp_path / "bin")
    assert done.returncode == status
    assert log.read_text().splitlines() == [
        f"api --method PUT repos/o/r/actions/workflows/{LINK_CHECK.name}/enable",
        f"api repos/o/r/actions/workflows/{LINK_CHECK.name} --jq .state",
    ]
    if status:
        assert f"::error title=Link check schedule::{LINK_CHECK.name} is '{state}', not active" in done.stdout
    else:
        assert done.stdout == f"{LINK_CHECK.name} is active\n"


@needs_bash
@pytest.mark.parametrize(("changed", "with_app"), [("true", True), ("false", False)])
def test_snapshot_step_passes_the_run_facts_to_snapshot_pr(
    tmp_path: Path, changed: str, with_app: bool
) -> None:
    """The snapshot step puts the new snapshot in place only when it changed, lets git use gh's token,
    and calls `snapshot-pr` with the run's own fresh branch, the run's branch as base and --app-token only
    with the App's token; the arguments parse with the real CLI."""
    step = step_named(load(LINK_CHECK)["jobs"]["snapshot"], "snapshot-pr")
    assert set(step["env"]) == {"GH_TOKEN", "APP_TOKEN", "BASE_BRANCH", "CHANGED", "EXIT_CODE"}
    gh_log, py_log = tmp_path / "gh.log", tmp_path / "python.log"
    recorder(tmp_path / "bin" / "gh", gh_log)
    recorder(tmp_path / ".venv" / "bin" / "python", py_log)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "hub-snapshot.json").write_text("old", encoding="utf-8")
    (tmp_path / "temp" / "link-check").mkdir(parents=True)
    (tmp_path / "temp" / "link-check" / "hub-snapshot.json").write_text("new", encoding="utf-8")
    env = {
        "GH_TOKEN": "token",
        "APP_TOKEN": str(with_app).lower(),
        "BASE_BRANCH": "main",
        "CHANGED": changed,
        "EXIT_CODE": "3",
        "RUNNER_TEMP": str(tmp_path / "temp"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "GITHUB_RUN_ID": "4242",
        "GITHUB_RUN_ATTEMPT": "2",
    }
    assert run_step(step, tmp_path, env, tmp_path / "bin") == 0
    assert (tmp_path / "data" / "hub-snapshot.json").read_text() == ("new" if changed == "true" else "old")
    assert gh_log.read_text().splitlines() == ["auth setup-git"]
    [call] = py_log.read_text().splitlines()
    argv = call.split()
    assert argv[:3] == ["-m", "generator", "snapshot-pr"]
    args = build_parser().parse_args(argv[2:])
    assert (args.changed, args.exit_code, args.base) == (changed, 3, "main")
    assert args.branch == "link-check/hub-snapshot-4242-2"
    assert args.app_token is with_app


@needs_bash
def test_snapshot_step_fails_when_snapshot_pr_fails(tmp_path: Path) -> None:
    """A failing `snapshot-pr` fails the step, even though its output is piped into the job summary."""
    step = step_named(load(LINK_CHECK)["jobs"]["snapshot"], "snapshot-pr")
    recorder(tmp_path / "bin" / "gh", tmp_path / "gh.log")
    recorder(tmp_path / ".venv" / "bin" / "python", tmp_path / "python.log", status=1)
    env = {"CHANGED": "false", "APP_TOKEN": "false", "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md")}
    assert run_step(step, tmp_path, env, tmp_path / "bin") != 0


def test_snapshot_pr_token_is_the_apps_when_configured_else_the_workflows() -> None:
    """The App token step runs only when its client id variable is set, asks for exactly contents and
    pull-requests, and the PR step falls back to the workflow token; the job runs whether or not the
    snapshot changed (an unchanged run closes a stale PR)."""
    job = load(LINK_CHECK)["jobs"]["snapshot"]
    [app] = [
        step
        for step in steps(job)
        if str(step.get("uses", "")).startswith("actions/create-github-app-token@")
    ]
    switch = re.fullmatch(r"vars\.(?P<name>[A-Z_]+) != ''", str(app["if"]).strip())
    assert switch is not None, app["if"]
    inputs = app["with"]
    assert inputs["client-id"] == f"${{{{ vars.{switch['name']} }}}}"
    assert re.fullmatch(r"\$\{\{ secrets\.[A-Z_]+ \}\}", inputs["private-key"])
    assert {k: v for k, v in inputs.items() if k.startswith("permission-")} == {
        "permission-contents": "write",
        "permission-pull-requests": "write",
    }
    env = step_named(job, "snapshot-pr")["env"]
    assert env["GH_TOKEN"] == f"${{{{ steps.{app['id']}.outputs.token || github.token }}}}"
    assert env["APP_TOKEN"] == f"${{{{ steps.{app['id']}.outcome == 'success' }}}}"
    assert env["BASE_BRANCH"] == "${{ github.ref_name }}"
    assert "snapshot-changed" not in str(job.get("if", ""))


# --- the maintainer's guide and the repository address -----------------------------------------------

SETTING_REFERENCE = re.compile(r"\b(?P<kind>vars|secrets)\.(?P<name>[A-Z][A-Z0-9_]*)")


def settings_read(workflows: dict[str, Workflow]) -> set[str]:
    """Every repository variable, secret and environment the workflows read (GITHUB_TOKEN is GitHub's)."""
    found = {
        match["name"]
        for workflow in workflows.values()
        for text in strings(workflow)
        for match in SETTING_REFERENCE.finditer(text)
        if match["name"] != "GITHUB_TOKEN"
    }
    for workflow in workflows.values():
        for _, job in jobs(workflow):
            environment = job.get("environment")
            if environment is not None:
                found.add(environment.get("name") if isinstance(environment, dict) else environment)
    return found


def undocumented(workflows: dict[str, Workflow], guide: str) -> list[str]:
    """The settings the workflows read that the guide does not name (as `NAME`)."""
    return sorted(name for name in settings_read(workflows) if f"`{name}`" not in guide)


def test_maintainers_guide_names_every_setting_the_workflows_read() -> None:
    """MAINTAINING.md names each variable, secret and environment the workflows read, the required check,
    the pull-request setting and the Pages source; the README links to it."""
    guide = MAINTAINING.read_text(encoding="utf-8")
    workflows = {path.name: load(path) for path in WORKFLOWS}
    assert settings_read(workflows) >= {"LINK_CHECK_ENABLED", "HF_TOKEN", "link-check", "github-pages"}
    assert undocumented(workflows, guide) == []
    for text in (
        f'"{REQUIRED_CHECK}"',
        "Allow GitHub Actions to create and approve pull requests",
        "GitHub Actions",
    ):
        assert text in guide, text
    assert "(MAINTAINING.md)" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_guide_rule_catches_a_new_secret() -> None:
    """A secret added to a workflow but not to the guide is reported."""
    workflows = {path.name: load(path) for path in WORKFLOWS}
    guide = MAINTAINING.read_text(encoding="utf-8")
    workflows["ci.yml"]["jobs"]["test"]["env"] = {"X": "${{ secrets.NEW_SECRET }}"}
    assert undocumented(workflows, guide) == ["NEW_SECRET"]


def repository_address() -> tuple[str, str]:
    """(owner, name) of the repository, from its one documented place: mkdocs.yml's footer link."""
    config = yaml.safe_load(MKDOCS.read_text(encoding="utf-8"))
    links = [item["link"] for item in config["extra"]["social"] if "github.com" in item["link"]]
    assert len(links) == 1, links
    match = re.fullmatch(r"https://github\.com/(?P<owner>[\w.-]+)/(?P<name>[\w.-]+)", links[0])
    assert match is not None, links[0]
    return match["owner"], match["name"]


def test_repository_address_in_one_place() -> None:
    """mkdocs.yml names the repository; site_url and the issue chooser's link agree with it; the workflows,
    CONTRIBUTING.md and the PR templates never name it (relative links, variables, github.repository)."""
    owner, name = repository_address()
    config = yaml.safe_load(MKDOCS.read_text(encoding="utf-8"))
    assert config["site_url"] == f"https://{owner.lower()}.github.io/{name}/"
    chooser = yaml.safe_load(ISSUE_CONFIG.read_text(encoding="utf-8"))
    for link in chooser.get("contact_links", []):
        if "github.com" in link["url"]:
            assert link["url"].startswith(f"https://github.com/{owner}/{name}/"), link["url"]
    for path in [*WORKFLOWS, ROOT / "CONTRIBUTING.md", *PR_TEMPLATES]:
        text = path.read_text(encoding="utf-8")
        assert f"{owner}/{name}" not in text, path.name
        assert f"github.com/{owner}" not in text, path.name
    assert "site_url" in MAINTAINING.read_text(encoding="utf-8")


def test_pr_templates_name_the_required_check() -> None:
    """A template that asks for a green check names it as branch protection does ("CI OK")."""
    for path in PR_TEMPLATES:
        text = path.read_text(encoding="utf-8")
        assert '"CI" check' not in text, path.name
        if "check is green" in text:
            assert f'"{REQUIRED_CHECK}" check is green' in text, path.name


# --- Dependabot and pre-commit ------------------------------------------------------------------


def test_dependabot_covers_actions_and_pip_grouped_weekly_with_cooldown() -> None:
    """The pinned actions and the pip pins both get updates, grouped, weekly, after a 7-day cooldown."""
    updates = yaml.safe_load(DEPENDABOT.read_text(encoding="utf-8"))["updates"]
    assert {u["package-ecosystem"] for u in updates} >= {"github-actions", "pip"}
    for update in updates:
        name = update["package-ecosystem"]
        assert update["schedule"]["interval"] == "weekly", name
        assert update["cooldown"]["default-days"] >= 7, name
        assert update["groups"], name


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


WORKFLOW_COMMAND = re.compile(
    r"gh workflow (?:run|enable) (?P<file>[\w.-]+\.ya?ml)|actions/workflows/(?P<api>[\w.-]+\.ya?ml)"
)


def test_guide_fresh_fork_steps_name_real_workflows_and_the_keepalive_error() -> None:
    """Every workflow the guide tells a maintainer to run, enable or query exists; the fresh-fork steps
    enable the scheduled workflow and Issues before the first run; the keepalive's failure message is in
    the guide's symptom table."""
    guide = MAINTAINING.read_text(encoding="utf-8")
    named = {m["file"] or m["api"] for m in WORKFLOW_COMMAND.finditer(guide)}
    assert named >= {path.name for path in WORKFLOWS if scheduled(load(path))} | {PAGES.name}
    assert named <= {path.name for path in WORKFLOWS}
    steps_text = guide.split("## From a fresh fork, step by step")[1].split("\n## ")[0]
    for needle in (
        "gh workflow enable link-check.yml",
        "gh repo edit --enable-issues",
        "gh workflow run pages.yml",
    ):
        assert needle in steps_text
    assert steps_text.index("enable link-check.yml") < steps_text.index("gh workflow run link-check.yml")
    script = step_named(load(LINK_CHECK)["jobs"]["keepalive"], "/enable")["run"]
    error = re.search(r"::error title=[^:]+::\$file (is '\$state', not active)", script)
    assert error is not None
    assert f'"{LINK_CHECK.name} {error[1].replace("$state", "…")}"' in guide


CONSTRAINTS = ROOT / "constraints.txt"
HOLD = re.compile(
    r"^# (?P<name>[\w.-]+) is held at (?P<version>[\w.]+): .*?(?P<broken>\d+(?:\.\d+)+) ", re.MULTILINE
)


def test_dependabot_does_not_propose_what_constraints_hold_back() -> None:
    """Issue 26, point 11: each package constraints.txt holds back (a `# X is held at V: …` comment, naming
    the release that fails) is pinned at V and ignored by Dependabot's pip updates above V, the failing
    release included; and every ignore is such a hold, so lifting a hold cannot leave a stale ignore."""
    from packaging.specifiers import SpecifierSet

    text = CONSTRAINTS.read_text(encoding="utf-8")
    holds = {m["name"].lower(): (m["version"], m["broken"]) for m in HOLD.finditer(text)}
    assert "zensical" in holds
    [pip] = [
        u
        for u in yaml.safe_load(DEPENDABOT.read_text(encoding="utf-8"))["updates"]
        if u["package-ecosystem"] == "pip"
    ]
    ignored = {item["dependency-name"].lower(): item["versions"] for item in pip.get("ignore", [])}
    assert set(ignored) == set(holds)
    for name, (version, broken) in holds.items():
        assert re.search(rf"^{re.escape(name)}=={re.escape(version)}$", text, re.MULTILINE | re.IGNORECASE), (
            name
        )
        specs = [SpecifierSet(spec) for spec in ignored[name]]
        assert any(broken in spec for spec in specs), f"{name} {broken} would be proposed"
        assert not any(version in spec for spec in specs), f"{name} {version} (the pin) is ignored too"
