"""The shape of the code that the project relies on: an offline core, a network edge, one table of stages."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from generator.cli import STAGES, Stage, build_parser
from generator.errors import EXIT_CODE_HELP, ExitCode
from generator.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
GENERATOR = ROOT / "generator"
OFFLINE = ("catalog", "lora", "site")
EDGE_PACKAGES = ("generator.hub", "generator.github")
NETWORK_LIBRARIES = ("huggingface_hub", "httpx2", "requests", "urllib3", "tqdm", "stamina")
MAX_LINES = 500


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at any depth (lazy imports inside functions count too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _offline_files() -> list[Path]:
    return sorted(file for package in OFFLINE for file in (GENERATOR / package).rglob("*.py"))


@pytest.mark.parametrize("path", _offline_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_offline_core_never_imports_the_network_edge(path: Path) -> None:
    """catalog/, lora/ and site/ import neither generator.hub/github nor an HTTP or progress library."""
    banned = EDGE_PACKAGES + NETWORK_LIBRARIES
    offending = sorted(
        name for name in _imports(path) if name.split(".")[0] in banned or name.startswith(banned)
    )
    assert offending == []


@pytest.mark.parametrize("stage", ["validate", "build"])
def test_offline_stages_load_no_network_library(stage: str, catalog_root: Path) -> None:
    """`python -X importtime -m generator validate|build` on the real catalog loads no network library."""
    command = [sys.executable, "-X", "importtime", "-m", "generator", "--root", str(catalog_root), stage]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True, timeout=120)
    loaded = {
        line.rsplit("|", 1)[-1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert loaded, "importtime printed nothing"
    assert sorted(name for name in loaded if name.split(".")[0] in NETWORK_LIBRARIES) == []
    assert "generator.catalog.load" in loaded  # the stage really ran and was measured


@pytest.mark.parametrize("path", sorted(GENERATOR.rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_over_the_size_limit(path: Path) -> None:
    """Every module of the generator stays under 500 lines."""
    assert len(path.read_text(encoding="utf-8").splitlines()) <= MAX_LINES


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.name)
def test_every_stage_names_a_runnable_function(stage: Stage) -> None:
    """Each row of the stage table points at a function that exists, and `--help` of the stage parses."""
    module_name, function = stage.runner.split(":")
    assert callable(getattr(importlib.import_module(module_name), function))
    with pytest.raises(SystemExit) as done:
        build_parser().parse_args([stage.name, "--help"])
    assert done.value.code == 0


def test_token_is_secret_and_endpoint_normalised(monkeypatch: pytest.MonkeyPatch) -> None:
    """HF_TOKEN never shows in a repr; HF_ENDPOINT loses its trailing slash; empty values fall back."""
    monkeypatch.setenv("HF_TOKEN", " hf_secret ")
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9/ ")
    settings = Settings()
    assert "hf_secret" not in repr(settings)
    assert settings.hf_token is not None
    assert settings.hf_token.get_secret_value() == "hf_secret"
    assert settings.hf_endpoint == "http://127.0.0.1:9"
    monkeypatch.setenv("HF_TOKEN", "  ")
    monkeypatch.setenv("HF_ENDPOINT", "")
    assert (Settings().hf_token, Settings().hf_endpoint) == (None, "https://huggingface.co")


def test_run_url_needs_all_three_github_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Actions run address is built only when server, repository and run id are all known."""
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.com")
    monkeypatch.setenv("GITHUB_REPOSITORY", "o/r")
    monkeypatch.delenv("GITHUB_RUN_ID", raising=False)
    assert Settings().run_url is None
    monkeypatch.setenv("GITHUB_RUN_ID", "42")
    assert Settings().run_url == "https://github.com/o/r/actions/runs/42"


def test_every_exit_code_is_explained_in_the_help() -> None:
    """`python -m generator --help` lists each exit status with its meaning."""
    text = build_parser().format_help()
    assert set(EXIT_CODE_HELP) == set(ExitCode)
    assert all(f"  {int(code):<4} {meaning}" in text for code, meaning in EXIT_CODE_HELP.items())


def test_no_source_file_is_ignored_by_git() -> None:
    """Every module and template under generator/ can be committed (a broad .gitignore rule once hid some)."""
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    sources = [str(p.relative_to(ROOT)) for p in GENERATOR.rglob("*") if p.suffix in (".py", ".j2")]
    done = subprocess.run(
        ["git", "check-ignore", "--no-index", *sources], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.stdout.split() == []
