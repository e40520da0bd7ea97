"""Rendering: golden files of every generated page, purity, escaping."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from generator.catalog.snapshot import LinkFact, Snapshot, link_key, load_snapshot
from generator.catalog.validate import load_catalog
from generator.site.render import fenced, human_size, md, render_pages
from tests.catalog_scenario import facts_json
from tests.safetensors_factory import make_lora_header

FIXTURES = Path(__file__).parent / "fixtures"
GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


def _render(data: Path) -> dict[str, str]:
    catalog = load_catalog(data, data.parent)
    return render_pages(catalog, load_snapshot(data / "hub-snapshot.json"))


def test_pages_match_the_golden_files() -> None:
    """Each page rendered from the fixture catalog equals its reviewed golden file.

    Regenerate deliberately with `UPDATE_GOLDEN=1 make pytest` and review the diff.
    """
    pages = _render(FIXTURES / "catalog")
    if UPDATE:
        shutil.rmtree(GOLDEN, ignore_errors=True)
        for rel, text in pages.items():
            (GOLDEN / rel).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN / rel).write_text(text, encoding="utf-8")
    golden = {
        p.relative_to(GOLDEN).as_posix(): p.read_text(encoding="utf-8")
        for p in GOLDEN.rglob("*")
        if p.is_file()
    }
    assert sorted(pages) == sorted(golden)
    for rel, text in pages.items():
        assert text == golden[rel], f"{rel} differs from tests/golden/{rel}"


def test_rendering_is_a_pure_function_of_the_data(tmp_path: Path) -> None:
    """Two renders of the same data are identical, whatever the file order on disk."""
    first = _render(FIXTURES / "catalog")
    copy = tmp_path / "data"
    shutil.copytree(FIXTURES / "catalog", copy)
    for file in sorted(copy.rglob("*.yaml"), reverse=True):
        file.write_bytes(file.read_bytes())  # new mtimes, other inode order
    assert _render(copy) == first


def test_user_strings_are_escaped(tmp_path: Path) -> None:
    """HTML and Markdown in a comment or title cannot inject markup or links."""
    data = tmp_path / "data"
    shutil.copytree(FIXTURES / "catalog", data)
    lora = data / "loras" / "fusionx-t2v-14b.yaml"
    text = lora.read_text().replace(
        'comment: "Very good for 2.1"', "comment: '<script>alert(1)</script> | [x](javascript:alert(1))'"
    )
    lora.write_text(text)
    combo = data / "combinations" / "dyno-high-lightning-low.yaml"
    combo.write_text(
        combo.read_text().replace(
            "notes: Good motion", "notes: '<img src=x onerror=alert(1)> [x](javascript:y)'"
        )
    )
    pages = _render(data)
    assert "<script>" not in pages["catalog.md"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt; | [x](javascript:alert(1))" in pages["catalog.md"]
    assert "<img" not in pages["combinations.md"]
    assert r"&lt;img src=x onerror=alert\(1\)&gt; \[x\]\(javascript:y\)" in pages["combinations.md"]


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (None, "unknown"),
        (0, "0 B"),
        (999, "999 B"),
        (999_999, "1 MB"),
        (630_697_104, "631 MB"),
        (1_253_192_432, "1.25 GB"),
        (2_923_503_944, "2.92 GB"),
        (999_500 * 10**9, "1,000 TB"),
        (10**400, "more than 10^100 TB"),  # a float would overflow: integer arithmetic picks the unit
    ],
)
def test_human_size(size: int | None, text: str) -> None:
    """Sizes are shown in decimal units, as the Hub shows them; unknown stays unknown, absurd stays shown."""
    assert human_size(size) == text


def test_md_escapes_markdown_and_html() -> None:
    """The |md filter neutralises Markdown syntax and HTML."""
    assert str(md("a_b *c* [d](e) <f>")) == r"a\_b \*c\* \[d\]\(e\) &lt;f&gt;"


def test_fenced_blocks_cannot_be_closed_or_broken_by_the_text() -> None:
    """A command in a fenced block keeps its characters; backticks get a longer fence; newlines are refused."""
    assert str(fenced("hf download a/b 'x ```y'")) == "```` sh\nhf download a/b 'x ```y'\n````"
    with pytest.raises(ValueError, match="single line"):
        fenced("a\n```\n<script>")


def test_lora_pages_show_header_verdicts_or_say_not_inspected(tmp_path: Path) -> None:
    """Compatibility comes from the snapshot's header facts for the file's sha256, else 'not yet inspected'."""
    data = tmp_path / "data"
    shutil.copytree(FIXTURES / "catalog", data)
    catalog = load_catalog(data, data.parent)
    lora = catalog.lora("fusionx-t2v-14b")
    fact = LinkFact(status="ok", checked_at="2026-12-01T00:00:00Z", size=99_000, sha256="ab" * 32)
    header = make_lora_header("wan2.1-t2v-1.3b", "kohya", 32, "F16")
    snapshot = Snapshot(
        links={link_key(lora.file.link): fact}, headers={"ab" * 32: facts_json(header, lora.file.path)}
    )
    pages = render_pages(catalog, snapshot)
    page = pages["loras/fusionx-t2v-14b.md"]
    assert (
        '<tr id="compat-wan21-t2v-1.3b"><td>Wan 2.1 T2V 1.3B</td><td>wan2.1-t2v-1.3b</td><td><span class="la-badge la-fit-fits">fits</span>'
        in page
    )
    assert (
        '<tr id="compat-wan21-t2v-14b"><td>Wan 2.1 T2V 14B</td><td>wan2.1-t2v-14b</td><td><span class="la-badge la-fit-no">no</span>'
        in page
    )
    assert 'data-fits="wan2.1-t2v-1.3b"' in pages["catalog.md"]
    # the header contradicts the catalog (Wan 2.1 14B T2V, as the name says): a warning on the page and in the row
    assert '<div class="admonition warning" id="header-warnings">' in page
    assert "header disagrees" in pages["catalog.md"]
    assert "<td>fp16</td>" in pages["catalog.md"]
    assert 'href="../loras/fusionx-t2v-14b/#compat-wan21-t2v-1.3b"' in pages["compatibility.md"]
    assert 'data-sort="99000"' in pages["catalog.md"]
    assert "not yet inspected" in pages["loras/fusionx-i2v-14b.md"]


def test_parallel_rendering_gives_the_same_pages() -> None:
    """Large catalogs render LoRA pages in two forked workers; the pages are identical to a serial render."""
    catalog = load_catalog(FIXTURES / "catalog", FIXTURES)
    snapshot = load_snapshot(FIXTURES / "catalog" / "hub-snapshot.json")
    assert render_pages(catalog, snapshot, parallel_from=1) == render_pages(catalog, snapshot)


def test_a_pipe_in_a_file_path_does_not_split_table_cells(tmp_path: Path) -> None:
    """Hub paths may hold '|' or '<': links escape them, so Markdown tables keep their columns."""
    data = tmp_path / "data"
    shutil.copytree(FIXTURES / "catalog", data, ignore=shutil.ignore_patterns("hub-snapshot.json"))
    lora = data / "loras" / "fusionx-t2v-14b.yaml"
    lora.write_text(lora.read_text().replace("Wan2.1_T2V_14B_FusionX_LoRA", "odd|name<b>"))
    page = _render(data)["loras/fusionx-t2v-14b.md"]
    row = next(line for line in page.splitlines() if line.startswith("| Path |"))
    assert row.count("|") == 3
    assert "odd&#124;name&lt;b&gt;" in row


def _build(project: Path, out: Path, cache_home: Path) -> dict[str, bytes]:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache_home)}
    command = [sys.executable, "-m", "generator", "--root", str(project), "build", "--docs", str(out)]
    subprocess.run(command, cwd=Path(__file__).parent.parent, env=env, check=True, capture_output=True)
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_compiled_template_cache_changes_no_byte(tmp_path: Path) -> None:
    """A build with a cold template cache, a warm one and none at all (unusable folder) writes the same files."""
    project = tmp_path / "project"
    shutil.copytree(FIXTURES / "catalog", project / "data")
    cache_home = tmp_path / "cache"
    cold = _build(project, tmp_path / "cold", cache_home)
    compiled = list(cache_home.glob("lora-alchemy/jinja-*/__jinja2_*.cache"))
    warm = _build(project, tmp_path / "warm", cache_home)
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    uncached = _build(project, tmp_path / "uncached", not_a_folder)
    assert len(compiled) == len(
        list((Path(__file__).parent.parent / "generator/site/templates").glob("*.j2"))
    )
    assert cold == warm == uncached
    assert "catalog.md" in cold


def test_a_fit_by_shape_is_shown_with_the_intended_use() -> None:
    """Issue 11: a high-noise LoRA that fits the low-noise expert by shape says it was made for high."""
    pages = _render(FIXTURES / "catalog")
    page = pages["loras/wan22-a14b-t2v-high-lightning-4steps-250928.md"]
    row = next(line for line in page.splitlines() if 'id="compat-wan22-t2v-a14b-low"' in line)
    assert "la-fit-fits" in row
    assert "made for the high-noise expert" in row
    own = next(line for line in page.splitlines() if 'id="compat-wan22-t2v-a14b-high"' in line)
    assert "made for this model" in own
    matrix = pages["compatibility.md"]
    assert "Intended use" in matrix
    assert "A fit is not advice" in matrix
