"""Rendering: golden files of a few pages (their shape), purity, escaping; the facts of every page are in test_pages.py."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import markdown
import pytest

from generator.catalog.snapshot import LinkFact, Snapshot, link_key, load_snapshot
from generator.catalog.validate import load_catalog
from generator.site.catalog_page import FIRST_ROWS
from generator.site.commands import hf_command
from generator.site.filters import fenced, human_size, md
from generator.site.render import render_pages
from tests.catalog_scenario import facts_json
from tests.safetensors_factory import make_lora_header
from tests.sitebuild import catalog_fits

FIXTURES = Path(__file__).parent / "fixtures"
GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


def _catalog_fits(rows_json: str) -> dict[str, list[str]]:
    """Each catalog row's fit as the page's JSON gives it to the filter, as `model:answer` tokens, by LoRA id."""
    fits = catalog_fits(json.loads(rows_json))
    return {lora: [f"{m}:{answer}" for m, answer in by_model.items()] for lora, by_model in fits.items()}


def _render(data: Path) -> dict[str, str]:
    catalog = load_catalog(data, data.parent)
    return render_pages(catalog, load_snapshot(data / "hub-snapshot.json"))


GOLDEN_PAGES = (
    "catalog.md",
    "combinations.md",
    "setups.md",
    "loras/wan22-a14b-t2v-high-lightning-4steps-250928.md",
    "models/wan22-t2v-a14b-high.md",
)
"""The pages whose whole text is frozen, to show the shape of each kind; test_pages.py checks the facts of all."""


def test_pages_match_the_golden_files() -> None:
    """The catalog, the combinations, the setups, one LoRA page and one model page rendered from the fixture
    catalog equal their reviewed golden files (and tests/golden/ holds nothing else).

    Regenerate deliberately with `UPDATE_GOLDEN=1 make pytest` and review the diff.
    """
    pages = _render(FIXTURES / "catalog")
    if UPDATE:
        shutil.rmtree(GOLDEN, ignore_errors=True)
        for rel in GOLDEN_PAGES:
            (GOLDEN / rel).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN / rel).write_text(pages[rel], encoding="utf-8")
    golden = {
        p.relative_to(GOLDEN).as_posix(): p.read_text(encoding="utf-8")
        for p in GOLDEN.rglob("*")
        if p.is_file()
    }
    assert sorted(golden) == sorted(GOLDEN_PAGES)
    for rel in GOLDEN_PAGES:
        assert pages[rel] == golden[rel], f"{rel} differs from tests/golden/{rel}"


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
    ids = [row[0] for row in json.loads(pages["catalog-rows.json"])[3]]
    row = json.loads(pages["catalog-rows-html.json"])[1][ids.index("fusionx-t2v-14b")]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in row  # the row's HTML, escaped like the table's
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
    cells = re.sub(r' data-label="[^"]*"', "", page)  # each cell names its column for the phone's cards
    assert (
        '<tr id="compat-wan21-t2v-1.3b"><td><a href="../../models/wan21-t2v-1.3b/">Wan 2.1 T2V 1.3B</a></td>'
        '<td>wan2.1-t2v-1.3b</td><td><span class="la-badge la-fit-fits">fits</span>' in cells
    )
    assert (
        '<tr id="compat-wan21-t2v-14b"><td><a href="../../models/wan21-t2v-14b/">Wan 2.1 T2V 14B</a></td>'
        '<td>wan2.1-t2v-14b</td><td><span class="la-badge la-fit-no">no</span>' in cells
    )
    # the counts behind each verdict (issue 19): a 1.3B pair per Linear of 30 blocks × 10, all merging on 1.3B,
    # all failing at merge on the wider models
    assert 'fits</span><br><span class="la-muted la-fit-counts">300 of 300 patches applied</span>' in page
    assert (
        'no</span><br><span class="la-muted la-fit-counts">0 of 300 patches applied, 300 failing</span>'
        in page
    )
    compat = pages["compatibility.md"].split('<tr id="fusionx-t2v-14b">', 1)[1].split("</tr>", 1)[0]
    assert (
        compat.count('<span class="la-muted la-fit-counts">0 of 300 patches applied, 300 failing</span>') == 7
    )
    tokens = _catalog_fits(pages["catalog-rows.json"])["fusionx-t2v-14b"]
    fitting = [token.split(":")[0] for token in tokens if token.split(":")[1] in ("fits", "partial")]
    assert fitting == ["wan21-t2v-1.3b"]  # verified: replaces the name's claim
    # the header contradicts the catalog (Wan 2.1 14B T2V, as the name says): a warning on the page and in the row
    assert '<div class="admonition warning" id="header-warnings">' in page
    assert "header disagrees" in pages["catalog.md"]
    assert "<td>fp16</td>" in pages["catalog.md"]
    assert 'href="../loras/fusionx-t2v-14b/#compat-wan21-t2v-1.3b"' in pages["compatibility.md"]
    assert 'data-sort="99000"' in pages["catalog.md"]
    assert "has not been inspected yet" in pages["loras/fusionx-i2v-14b.md"]


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


@pytest.mark.slow  # three builds, each in a fresh process
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


def test_a_fit_is_shown_with_what_the_lora_was_made_for() -> None:
    """Issues 11 and 19: a high-noise LoRA that fits the low-noise expert says it was made for the high-noise
    one; the compatibility page names the ComfyUI release its verified fits describe."""
    from generator.lora.comfyui_loader import COMFYUI_LABEL

    pages = _render(FIXTURES / "catalog")
    page = pages["loras/wan22-a14b-t2v-high-lightning-4steps-250928.md"]
    row = next(line for line in page.splitlines() if 'id="compat-wan22-t2v-a14b-low"' in line)
    assert "la-fit-fits" in row
    assert "made for Wan 2.2 T2V A14B, high-noise expert" in row
    own = next(line for line in page.splitlines() if 'id="compat-wan22-t2v-a14b-high"' in line)
    assert "made for this model" in own
    matrix = pages["compatibility.md"]
    assert "**Made for**" in matrix
    assert f"what native ComfyUI's `LoraLoaderModelOnly` ({COMFYUI_LABEL}) does" in matrix
    assert "A fit is not advice" in matrix


def test_candidates_are_listed_on_the_changes_page() -> None:
    """Issue 12: a file that appeared in a followed folder is on the changes page, with its add command."""

    from generator.catalog.snapshot import Candidate

    catalog = load_catalog(FIXTURES / "catalog", FIXTURES)
    snapshot = load_snapshot(FIXTURES / "catalog" / "hub-snapshot.json")
    path = "LoRAs/Wan22-Lightning/New_[x](javascript:alert(1))_rank64.safetensors"
    candidate = Candidate(repo="Kijai/WanVideo_comfy", path=path, size=1234, found_at="2026-11-27T10:00:00Z")
    snapshot = snapshot.model_copy(update={"candidates": {link_key(candidate.link): candidate}})
    page = render_pages(catalog, snapshot)["changes.md"]
    assert "## Not in the catalog yet" in page
    assert "python -m generator add https://huggingface.co/Kijai/WanVideo_comfy/blob/main/" in html.unescape(
        page
    )
    assert "header not read yet" in page
    assert "](javascript" not in page


def test_the_changes_page_lists_the_newest_candidates_and_stays_small_whatever_their_count() -> None:
    """Issue 26: 5,000 candidates give a page of the 50 newest, with their stored header lines, and the count."""

    from generator.catalog.snapshot import Candidate, CandidateHeader
    from generator.site.context import CANDIDATES_SHOWN

    catalog = load_catalog(FIXTURES / "catalog", FIXTURES)
    snapshot = load_snapshot(FIXTURES / "catalog" / "hub-snapshot.json")
    found = {}
    for number in range(5000):
        day = 1 + number % 28
        candidate = Candidate(
            repo="Kijai/WanVideo_comfy",
            path=f"LoRAs/Many/lora_{number:04d}_rank64.safetensors",
            size=1000 + number,
            found_at=f"2026-11-{day:02d}T10:00:00Z",
            header=CandidateHeader(summary=f"rank 64, bf16 (file {number})") if number % 2 else None,
        )
        found[link_key(candidate.link)] = candidate
    pages = render_pages(catalog, snapshot.model_copy(update={"candidates": found}))
    page = pages["changes.md"]
    rows = [line for line in page.splitlines() if "LoRAs/Many/lora_" in line]
    assert len(rows) == CANDIDATES_SHOWN == 50
    newest = sorted((n for n in range(5000) if n % 28 == 27), key=lambda n: f"{n:04d}")[:50]
    assert [f"lora_{n:04d}_rank64" in row for n, row in zip(newest, rows, strict=True)] == [True] * 50
    # the stored header line, not "header not read yet"
    assert "rank 64, bf16 (file 27)" in html.unescape(page)
    assert "The 50 newest of 5,000 files are shown" in page
    assert len(page.encode()) < 60_000


# --- issue 13: the reader site ------------------------------------------------------------------------


def _fixture_pages(snapshot: Snapshot | None = None) -> dict[str, str]:
    catalog = load_catalog(FIXTURES / "catalog", FIXTURES)
    return render_pages(catalog, snapshot or load_snapshot(FIXTURES / "catalog" / "hub-snapshot.json"))


@pytest.mark.parametrize(
    ("path", "architecture", "answer", "reason"),
    [
        ("x/Wan2.1_T2V_14B_lora.safetensors", "wan2.1-t2v-1.3b", "no", "a 14B LoRA on a 1.3B model"),
        ("x/Wan2.1_T2V_14B_lora.safetensors", "wan2.2-ti2v-5b", "no", "a 14B LoRA on a 5B model"),
        (
            "x/Wan2.1_T2V_14B_lora.safetensors",
            "wan2.2-t2v-a14b",
            "fits",
            "a 14B LoRA on a 14B model: the sizes match",
        ),
        ("x/wan2.1_t2v_1.3b_lora.safetensors", "wan2.1-t2v-14b", "no", "a 1.3B LoRA on a 14B model"),
        ("x/some_style_lora.safetensors", "wan2.1-t2v-14b", "unknown", "the file name states no model size"),
    ],
)
def test_the_file_name_claims_a_fit_until_the_header_is_read(
    path: str, architecture: str, answer: str, reason: str
) -> None:
    """Issues 13.1 and 19: the size class the name states decides a claimed fit; no size (Wan 2.1 T2V: 1.3B or
    14B), no answer."""
    from generator.catalog import models as m
    from generator.catalog.fit import FitRules

    catalog = load_catalog(FIXTURES / "catalog", FIXTURES)
    lora = catalog.lora("fusionx-t2v-14b")
    lora = lora.model_copy(update={"file": m.LoraFile(repo="a/b", path=path)})
    model = m.BaseModelEntry(
        id="x", name="X", generation="2.1", task="T2V", architecture=architecture, added="2026-01-01"
    )
    found = FitRules(catalog).claimed_fit(lora, model)
    assert (found.answer, found.basis) == (answer, "claimed")
    assert found.reason.startswith(reason)
    assert FitRules(catalog).fit(lora, model, None) == found


def test_compatibility_answers_from_the_name_marked_claimed() -> None:
    """Issue 13.1: before inspection every cell answers (claimed), next to the intended use; LoRA pages too."""
    pages = _fixture_pages(Snapshot())
    row = next(
        line for line in pages["compatibility.md"].splitlines() if line.startswith('<tr id="fusionx-t2v-14b"')
    )
    cells = pages["compatibility.md"].split(row, 1)[1].split("</tr>", 1)[0]
    assert "not yet inspected" not in cells
    assert '<span class="la-badge la-fit-no la-claimed"' in cells
    assert "<em>claimed</em>: a 14B LoRA on a 1.3B model" in cells
    assert "made for Wan 2.1 T2V 14B" in cells  # what it was made for stays
    page = pages["loras/fusionx-t2v-14b.md"]
    line = next(line for line in page.splitlines() if 'id="compat-wan21-t2v-1.3b"' in line)
    assert "la-fit-no la-claimed" in line
    assert "14B LoRA on a 1.3B model" in line


def test_for_my_model_offers_made_for_and_loads_on_each_base_model_that_narrows() -> None:
    """Issue 22.3 (on 13.2): per base model (distilled checkpoints left out), "made for" and "loads on" it, the
    fit rules' two definitions, each with the count it keeps; a choice that keeps every LoRA is not offered but
    named; the rows' JSON says per model what it was made for and whether it fits, verified or claimed."""
    from generator.catalog.fit import FitRules

    pages = _fixture_pages(Snapshot())
    catalog = pages["catalog.md"]
    data = load_catalog(FIXTURES / "catalog", FIXTURES)
    rules = FitRules(data)
    bases = [model for model in data.models if model.kind == "base"]
    total = len(data.loras)
    counts = {
        **{f"made:{m.id}": sum(rules.is_made_for(lora, m) for lora in data.loras) for m in bases},
        **{f"loads:{m.id}": sum(m.id in rules.loads_on(lora, None) for lora in data.loras) for m in bases},
    }
    select = catalog.split('data-la-filter="for"', 1)[1].split("</select>", 1)[0]
    values = re.findall(r'<option value="([^"]*)"', select)
    assert values == ["", *(value for value, count in counts.items() if count < total)]
    assert (
        0 < len(values) - 1 < 2 * len(bases)
    )  # the claimed fits of the fixture: some choices keep every LoRA
    for value, text in re.findall(r'<option value="([^"]+)"[^>]*>([^<]*)</option>', select):
        shown = {0: "none", total: "all"}.get(counts[value], str(counts[value]))
        assert text.endswith(f" ({shown})"), value
    unoffered = [value for value, count in counts.items() if count == total]
    sentence = catalog.split("Not offered, because every LoRA of the catalog passes them:", 1)[1].split("\n")[
        0
    ]
    for value in unoffered:
        model = data.model(value.split(":", 1)[1])
        assert f"{'made for' if value.startswith('made') else 'loads on'} {model.name}" in sentence
    for value, empty in re.findall(r'<option value="([^"]+)" data-la-empty="([^"]*)"', select):
        model = data.model(value.split(":", 1)[1])
        pointer = f"(“loads on {html.escape(model.name)}”)"  # names the other choice only where it is offered
        assert (pointer in empty) == (value.startswith("made") and 0 < counts[f"loads:{model.id}"] < total), (
            value
        )
        assert " 1 made for it do not" not in empty
    _, _, models, rows = json.loads(pages["catalog-rows.json"])
    for row in rows:
        made = {model for model, digit in zip(models, row[5], strict=True) if digit == "1"}
        assert made == set(rules.made_for(data.lora(row[0]))) & set(models), row[0]
    tokens = _catalog_fits(pages["catalog-rows.json"])["fusionx-t2v-14b"]  # what the page's filter reads
    assert "wan21-t2v-1.3b:no" in tokens
    assert "wan21-t2v-14b:fits" in tokens
    assert not [token for token in tokens if "dyno" in token]
    data = json.loads(pages["catalog.json"])
    entry = next(lora for lora in data["loras"] if lora["id"] == "fusionx-t2v-14b")
    assert entry["made_for"] == ["wan21-t2v-14b"]
    assert {
        "model": "wan22-ti2v-5b",
        "answer": "no",
        "basis": "claimed",
        "reason": "a 14B LoRA on a 5B model: its weights fail at merge",
    } in (entry["fit"])
    assert len(entry["fit"]) == 7
    dyno = next(model for model in data["models"] if model["id"].endswith("dyno-high"))
    assert dyno["kind"] == "distilled"


def test_downloads_are_ready_for_comfyui() -> None:
    """Issue 13.5: a shell-quoted curl into ComfyUI/models/loras/ under the file's name, with its size; per
    combination one block fetching every file it names exactly; base models get pages."""
    from generator.site.commands import comfy_command

    command = comfy_command("a/b", "dir/it's $(x).safetensors", size=1_250_000_000)
    assert command == (
        "curl -L -o 'ComfyUI/models/loras/it'\"'\"'s $(x).safetensors' "
        "'https://huggingface.co/a/b/resolve/main/dir/it%27s%20%24%28x%29.safetensors?download=true'  # 1.25 GB"
    )
    assert comfy_command("a/b", "m.safetensors", "model").startswith(
        "curl -L -o ComfyUI/models/diffusion_models/"
    )
    pages = _fixture_pages()
    page = pages["loras/wan22-a14b-t2v-low-lightning-4steps-250928.md"]
    assert (
        "curl -L -o ComfyUI/models/loras/Wan22_A14B_T2V_LOW_Lightning_4steps_lora_250928_rank64_fp16.safetensors"
        in page
    )
    combos = pages["combinations.md"]
    block = combos.split("{ #dyno-high-lightning-low }", 1)[1].split("``` sh\n")[1].split("\n```")[0]
    assert block.count("curl -L -o ") == 1  # the one LoRA it names; its models are folders or repos
    assert "# 631 MB" in block
    assert "(its page lists its downloads)" in combos
    assert {f"models/{m}.md" for m in ("wan21-t2v-1.3b", "wan22-t2v-a14b-4steps-250928-dyno-high")} <= set(
        pages
    )
    dyno = pages["models/wan22-t2v-a14b-4steps-250928-dyno-high.md"]
    assert "ComfyUI/models/diffusion_models/" in dyno
    assert "distilled checkpoint" in dyno


def test_combinations_link_pages_here_and_have_anchors() -> None:
    """Issue 13.6: LoRAs and models link to their pages here; each combination has an anchor that the changes
    page and the LoRA pages link to; HIGH and LOW experts of one release link each other."""
    pages = _fixture_pages()
    combos = pages["combinations.md"]
    assert '<a href="../loras/wan22-a14b-t2v-low-lightning-4steps-250928/">' in combos
    assert "/blob/main/" not in combos  # no LoRA is linked off-site any more
    assert '<a href="../models/wan22-t2v-a14b-high/">' in combos
    assert "{ #dyno-high-lightning-low }" in combos
    assert "](combinations.md#dyno-high-lightning-low)" in pages["changes.md"]
    assert "](models/wan21-t2v-1.3b.md)" in pages["changes.md"]
    low = pages["loras/wan22-a14b-t2v-low-lightning-4steps-250928.md"]
    assert "](../combinations.md#dyno-high-lightning-low)" in low
    assert "](wan22-a14b-t2v-high-lightning-4steps-250928.md)" in low
    high = pages["loras/wan22-a14b-t2v-high-lightning-4steps-250928.md"]
    assert "](wan22-a14b-t2v-low-lightning-4steps-250928.md)" in high
    assert "same release" not in pages["loras/wan22-i2v-a14b-high-lightx2v-moe-distill.md"]


def test_home_page_says_plainly_what_is_verified() -> None:
    """Issue 13.9: no 'link-checked' promise next to 'not yet checked'; counts when checked; sources named."""
    unchecked = _fixture_pages(Snapshot())["index.md"]
    assert "link-checked" not in unchecked
    assert "**Nothing is verified yet**" in unchecked
    checked = _fixture_pages()["index.md"]
    assert "of 11 LoRA files" in checked
    merging = _fixture_pages()["merging.md"]
    assert "as quoted by the catalog's original page (the seed" in merging
    assert (
        "the catalog's original page (the seed this site was built from)"
        in _fixture_pages()["combinations.md"]
    )


def test_made_for_reads_size_and_noise_level_from_the_file_name() -> None:
    """Issues 13.1 and 19: a HIGH name without an entry expert is made for the high-noise expert, and every other
    model's cell names it; the distilled checkpoint has no LoRA made for it."""
    from generator.site.context import Context

    catalog = load_catalog(FIXTURES / "catalog", FIXTURES)
    ctx = Context(catalog, Snapshot())
    lora = catalog.lora("wan22-a14b-t2v-high-lightning-4steps-250928").model_copy(update={"expert": None})
    high = "made for Wan 2.2 T2V A14B, high-noise expert"
    assert ctx.intended_use(lora, catalog.model("wan22-t2v-a14b-low")) == high
    assert ctx.intended_use(lora, catalog.model("wan21-t2v-1.3b")) == high
    assert ctx.intended_use(lora, catalog.model("wan22-t2v-a14b-4steps-250928-dyno-high")) == high
    assert ctx.intended_use(lora, catalog.model("wan22-t2v-a14b-high")) == "made for this model"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("LoRAs/a b.safetensors", "hf download o/r -- 'LoRAs/a b.safetensors'"),
        ("-x.safetensors", "hf download o/r -- -x.safetensors"),
        ("--local-dir=/etc.safetensors", "hf download o/r -- --local-dir=/etc.safetensors"),
    ],
)
def test_the_hf_command_ends_its_options_before_the_path(path: str, expected: str) -> None:
    """A path the Hub allows may start with '-': after `--` hf reads it as a file name, never as an option."""
    assert hf_command("o/r", path) == expected


def test_a_model_name_in_the_not_offered_sentence_stays_text(tmp_path: Path) -> None:
    """The sentence naming the choices not offered is Markdown prose: a model's name there is escaped for it (a
    name in link syntax made a javascript: link)."""
    data = tmp_path / "catalog"
    shutil.copytree(FIXTURES / "catalog", data)
    model = data / "models" / "wan21-i2v-14b-480p.yaml"
    evil = "[Wan](javascript:alert(1)) *x*"
    model.write_text(
        model.read_text(encoding="utf-8").replace('name: "Wan 2.1 I2V 14B 480P"', f'name: "{evil}"'),
        encoding="utf-8",
    )
    page = _render(data)["catalog.md"]
    sentence = page.split("Not offered, because every LoRA of the catalog passes them:", 1)[1].split("\n")[0]
    assert "loads on" in sentence
    shown = markdown.markdown(sentence)
    assert "<a " not in shown
    assert "<em>" not in shown
    assert evil in html.unescape(re.sub(r"<[^>]+>", "", shown))


def test_the_rows_html_file_holds_each_rows_html_in_the_rows_order() -> None:
    """catalog-rows-html.json holds one row of HTML per row of catalog-rows.json, in its order; the first rows
    are those the page's table holds."""
    pages = _fixture_pages()
    ids = [row[0] for row in json.loads(pages["catalog-rows.json"])[3]]
    form, rows = json.loads(pages["catalog-rows-html.json"])
    assert form == json.loads(pages["catalog-rows.json"])[0]
    assert [re.match(r'<tr id="([^"]+)">', row)[1] for row in rows] == ids  # type: ignore[index]
    table = pages["catalog.md"].split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert table.split() == "\n".join(rows[:FIRST_ROWS]).split()
