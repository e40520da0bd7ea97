"""The shape of the code that the project relies on: an offline core, a network edge, one table of stages."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from collections import deque
from collections.abc import Iterator, Mapping
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


# ------------------------------------------------------------------------ the runtime import graph


def _module_name(path: Path, root: Path) -> str:
    """``generator/site/render.py`` → ``generator.site.render``; a package's ``__init__`` is the package."""
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    """``if TYPE_CHECKING:`` or ``if typing.TYPE_CHECKING:``: imports only the type checker runs."""
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_nodes(node: ast.AST) -> Iterator[ast.AST]:
    """Every node Python may execute: all of them, at any depth, but the body of a TYPE_CHECKING block."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child):
            for other in child.orelse:
                yield other
                yield from _runtime_nodes(other)
            continue
        yield child
        yield from _runtime_nodes(child)


def _imported_names(node: ast.AST, module: str, is_package: bool) -> Iterator[str]:
    """Dotted names an import statement loads: ``from a import b`` loads ``a.b`` when that is a module."""
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
    elif isinstance(node, ast.ImportFrom):
        base = module if is_package else module.rpartition(".")[0]
        for _ in range(max(node.level - 1, 0)):
            base = base.rpartition(".")[0]
        parent = ".".join(filter(None, (base if node.level else "", node.module or "")))
        yield parent
        yield from (f"{parent}.{alias.name}" for alias in node.names)


def import_graph(root: Path, package: str = "generator") -> dict[str, set[str]]:
    """Module → the package's modules it imports at run time (lazy imports in functions count), with the
    packages whose ``__init__`` each import runs; TYPE_CHECKING blocks do not count."""
    files = {_module_name(path, root): path for path in sorted((root / package).rglob("*.py"))}
    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        names = {
            name
            for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8")))
            for name in _imported_names(node, module, path.name == "__init__.py")
        }
        loaded = {
            ".".join(name.split(".")[:depth]) for name in names for depth in range(1, name.count(".") + 2)
        }
        graph[module] = {name for name in loaded if name in files and name != module}
    return graph


def subpackage_graph(graph: Mapping[str, set[str]]) -> dict[str, set[str]]:
    """The same graph between subpackages (``generator.site``) and top-level modules (``generator.cli``)."""

    def unit(module: str) -> str:
        return ".".join(module.split(".")[:2])

    collapsed: dict[str, set[str]] = {unit(module): set() for module in graph}
    for module, imported in graph.items():
        collapsed[unit(module)] |= {unit(name) for name in imported} - {unit(module)}
    return collapsed


def cycles(graph: Mapping[str, set[str]]) -> list[str]:
    """Readable import cycles (``a -> b -> a``), the shortest through each node not yet in one; empty if none."""
    found: list[str] = []
    seen: set[str] = set()
    for start in sorted(graph):
        cycle = [] if start in seen else _shortest_cycle(graph, start)
        if cycle:
            found.append(" -> ".join(cycle))
            seen.update(cycle)
    return found


def _shortest_cycle(graph: Mapping[str, set[str]], start: str) -> list[str]:
    """The shortest import chain from ``start`` back to itself (breadth first), or [] when none returns."""
    parents: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for name in sorted(graph.get(node, ())):
            if name == start:
                chain = [node]
                while chain[-1] != start:
                    chain.append(parents[chain[-1]])
                return [*reversed(chain), start]
            if name not in parents:
                parents[name] = node
                queue.append(name)
    return []


def test_no_import_cycle_between_modules() -> None:
    """No module of the generator imports itself back through others, at run time."""
    found = cycles(import_graph(ROOT))
    assert not found, "import cycles between modules:\n" + "\n".join(found)


def test_no_import_cycle_between_subpackages() -> None:
    """The stages form a line: no subpackage imports one that imports it back (e.g. catalog ↔ lora)."""
    found = cycles(subpackage_graph(import_graph(ROOT)))
    assert not found, "import cycles between subpackages:\n" + "\n".join(found)


def test_the_header_package_never_imports_the_data_model() -> None:
    """generator.lora reads headers and file names alone: none of its modules imports generator.catalog."""
    graph = import_graph(ROOT)
    offending = sorted(
        f"{module} imports {name}"
        for module, imported in graph.items()
        if module.startswith("generator.lora.") or module == "generator.lora"
        for name in imported
        if name.startswith("generator.catalog")
    )
    assert offending == []


def test_the_import_graph_counts_lazy_and_relative_imports_but_not_type_checking(tmp_path: Path) -> None:
    """A cycle made by an import inside a function or a relative import is found; a TYPE_CHECKING one is not."""
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    for name, text in {
        "__init__.py": "",
        "a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import c\n",
        "b.py": "def f():\n    from pkg.sub import d\n",
        "c.py": "import pkg.a\n",
        "sub/__init__.py": "",
        "sub/d.py": "from .. import b\n",
    }.items():
        (package / name).write_text(text, encoding="utf-8")
    graph = import_graph(tmp_path, "pkg")
    assert graph["pkg.a"] == set()
    assert graph["pkg.c"] == {"pkg", "pkg.a"}
    assert cycles(graph) == ["pkg.b -> pkg.sub.d -> pkg.b"]
    assert cycles(subpackage_graph(graph)) == ["pkg.b -> pkg.sub -> pkg.b"]


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


def test_every_generated_file_is_ignored_by_git(pages: dict[str, str]) -> None:
    """What `build` writes into docs/ (pages, catalog.json, workflows, the feed) never shows as a change to commit."""
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    generated = sorted(f"docs/{path}" for path in pages)
    assert {
        "docs/feed.xml",
        "docs/catalog.json",
        "docs/catalog-rows.json",
        "docs/catalog-rows-html.json",
        "docs/index.md",
    } <= set(generated)
    done = subprocess.run(
        ["git", "check-ignore", "--no-index", *generated],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert sorted(done.stdout.split()) == generated
