"""Build the real site (render + `mkdocs build --strict`) in a scratch folder, for tests."""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from generator.cli import main

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def make_project(dest: Path, data: Path | None = None) -> Path:
    """A copy of the project's site inputs (mkdocs.yml, static docs/, data/) under dest."""
    shutil.copy(ROOT / "mkdocs.yml", dest / "mkdocs.yml")
    shutil.copytree(ROOT / "overrides", dest / "overrides")  # theme.custom_dir
    shutil.copytree(ROOT / "docs", dest / "docs", ignore=_generated_files)
    shutil.copytree(data or ROOT / "data", dest / "data")
    (dest / "generator").symlink_to(ROOT / "generator")  # mkdocs.yml watches generator/site/templates
    return dest


def _generated_files(folder: str, names: list[str]) -> list[str]:
    manifest = ROOT / "docs" / ".generated"
    owned = set(manifest.read_text().split()) if manifest.exists() else set()
    rel = Path(folder).relative_to(ROOT / "docs")
    return [n for n in names if (rel / n).as_posix() in owned or n == ".generated"]


def render(project: Path) -> int:
    """`python -m generator build` on the project; returns the exit status."""
    return main(["--root", str(project), "build"])


def mkdocs_build(project: Path, tool: str = "mkdocs") -> subprocess.CompletedProcess[str]:
    """Build the site with MkDocs (strict) or Zensical into project/site."""
    if tool == "mkdocs":
        command = [str(BIN / "mkdocs"), "build", "--strict", "--quiet", "--site-dir", "site"]
    else:
        command = [str(BIN / "zensical"), "build", "--clean"]
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    return subprocess.run(
        command, cwd=project, capture_output=True, text=True, env=env, check=False, timeout=300
    )


def build_site(project: Path) -> Path:
    """Render and build; fail loudly with the tool output."""
    assert render(project) == 0
    result = mkdocs_build(project)
    assert result.returncode == 0, result.stdout + result.stderr
    return project / "site"


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hrefs: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        self.hrefs += [value for name, value in attrs if name == "href" and value]

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def page_text(page: Path) -> tuple[str, list[str]]:
    """Visible text of an HTML page (white space folded) and its hrefs."""
    parser = _Text()
    parser.feed(page.read_text(encoding="utf-8"))
    text = re.sub(r"\s+", " ", html.unescape(" ".join(parser.parts)))
    return text, parser.hrefs


def catalog_fits(rows: list[Any]) -> dict[str, dict[str, str]]:
    """Each catalog row's fit per base model (fits, partial, no, unknown), by LoRA id, from the rows' JSON as
    the catalog page's script reads it (generator.site.catalog_page: a letter per model)."""
    _, _, models, entries = rows
    answers = {"f": "fits", "p": "partial", "n": "no", "u": "unknown"}
    return {row[0]: dict(zip(models, (answers[a] for a in row[3]), strict=True)) for row in entries}
