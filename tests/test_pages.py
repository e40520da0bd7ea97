"""What a reader finds on each generated page, read from the fixture catalog and its Hub snapshot.

A few golden files (tests/golden/, checked by test_render.py) freeze the shape of the catalog, one LoRA page, one
model page, the combinations and the setups. Every other page is checked here by facts: each expected value comes
from the data or the snapshot (a size, a sha256, a verdict of the stored header facts, a date), never from
rendered output, so a change of wording or layout changes no test here, and a wrong fact fails one.
"""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from generator.catalog import models as m
from generator.catalog.snapshot import LinkFact, Snapshot, facts_of, link_key, load_snapshot
from generator.catalog.validate import Catalog, load_catalog
from generator.cli import main

FIXTURE = Path(__file__).parent / "fixtures" / "catalog"
HUB = "https://huggingface.co"
LORA_IDS = sorted(p.stem for p in (FIXTURE / "loras").glob("*.yaml"))
MODEL_IDS = sorted(p.stem for p in (FIXTURE / "models").glob("*.yaml"))


@pytest.fixture(scope="module", name="pages")
def _pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Every file `generator build` writes for the fixture catalog, by path under docs/."""
    root = tmp_path_factory.mktemp("fixture-project")
    shutil.copytree(FIXTURE, root / "data")
    docs = root / "docs"
    assert main(["--root", str(root), "build", "--docs", str(docs)]) == 0
    return {
        p.relative_to(docs).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(docs.rglob("*"))
        if p.is_file() and p.name != ".generated"
    }


@pytest.fixture(scope="module", name="catalog")
def _catalog() -> Catalog:
    return load_catalog(FIXTURE, FIXTURE.parent)


@pytest.fixture(scope="module", name="snapshot")
def _snapshot() -> Snapshot:
    return load_snapshot(FIXTURE / "hub-snapshot.json")


def plain(markdown: str) -> str:
    """What a reader sees of Markdown: tags and emphasis dropped, escapes and entities resolved, white space folded."""
    text = re.sub(r"(?<!\\)\*+", "", re.sub(r"<[^>]+>", " ", markdown))
    text = html.unescape(re.sub(r"\\(.)", r"\1", text))
    return " ".join(text.split())


def links(markdown: str) -> set[str]:
    """Every link target of a page: HTML href attributes and Markdown (target) parts."""
    return set(re.findall(r'href="([^"]+)"', markdown)) | set(re.findall(r"\]\(([^)\s]+)\)", markdown))


def fact_table(markdown: str) -> dict[str, str]:
    """The two-column "| Fact | Value |" table of a page, as plain text."""
    rows = [line for line in markdown.splitlines() if line.startswith("| ") and line.endswith(" |")]
    cells = [[plain(cell) for cell in row.strip("|").split(" | ")] for row in rows]
    return {cell[0]: cell[1] for cell in cells[2:] if len(cell) == 2}


def link_fact(snapshot: Snapshot, lora: m.Lora) -> LinkFact | None:
    return snapshot.links.get(link_key(lora.file.link))


def fit_badges(fragment: str) -> list[tuple[str, bool]]:
    """(answer, claimed) of each fit badge in an HTML fragment, in order."""
    found = re.findall(r'class="la-badge la-fit-(\w+)( la-claimed)?"', fragment)
    return [(answer, bool(claimed)) for answer, claimed in found]


# --- the set of pages --------------------------------------------------------------------------------


def test_every_lora_and_model_has_a_page_and_every_section_is_rendered(pages: dict[str, str]) -> None:
    """One page per LoRA and per base model (no more), the section pages and the machine-readable catalog."""
    assert {p for p in pages if p.startswith("loras/")} == {f"loras/{i}.md" for i in LORA_IDS}
    assert {p for p in pages if p.startswith("models/")} == {f"models/{i}.md" for i in MODEL_IDS}
    sections = {"index", "catalog", "compatibility", "combinations", "setups", "merging", "rcm", "trivia"}
    assert {f"{name}.md" for name in sections | {"special-use", "changes"}} | {"catalog.json"} <= set(pages)
    assert len(LORA_IDS) == 11
    assert len(MODEL_IDS) == 8


# --- LoRA pages --------------------------------------------------------------------------------------


@pytest.mark.parametrize("lora_id", LORA_IDS)
def test_a_lora_page_states_the_entry_and_its_hub_facts(
    lora_id: str, pages: dict[str, str], catalog: Catalog, snapshot: Snapshot
) -> None:
    """Title, repo, path, generation, task, expert, family and date from the entry; size, sha256, status and
    the date since which they hold from the snapshot; the download commands name the file exactly."""
    lora = catalog.lora(lora_id)
    page = pages[f"loras/{lora_id}.md"]
    name = Path(lora.file.path).name
    assert plain(page.splitlines()[0]) == f"# {Path(name).stem}"
    facts = fact_table(page)
    assert facts["Repo"] == lora.file.repo
    assert facts["Path"] == lora.file.path
    assert facts["Wan generation"] == lora.generation
    assert facts["Task"] == lora.task
    assert facts["Noise expert"].split(";")[0] == (lora.expert or "not stated")
    assert facts["Family"] == lora.family
    assert facts["Added to the catalog"] == lora.added.isoformat()
    fact = link_fact(snapshot, lora)
    assert fact is not None
    assert facts["Link status"] == fact.status.replace("_", " ")
    assert facts["Hub facts unchanged since"].startswith((fact.verified_at or fact.checked_at)[:10])
    assert facts["SHA-256"] == (fact.sha256 or "unknown")
    assert (
        facts["Size"] == "unknown" if fact.size is None else facts["Size"].endswith(f"({fact.size:,} bytes)")
    )
    assert f"{HUB}/{lora.file.repo}/blob/main/{lora.file.path}" in links(page)
    assert f"\nhf download {lora.file.repo} -- {lora.file.path}\n" in page
    assert f"curl -L -o ComfyUI/models/loras/{name} '{HUB}/{lora.file.repo}/resolve/main/" in page
    if lora.comment:
        assert plain(lora.comment) in plain(page)
    assert f"../catalog.md#{lora_id}" in links(page)


@pytest.mark.parametrize("lora_id", LORA_IDS)
def test_a_lora_page_gives_the_header_verdict_for_every_base_model(
    lora_id: str, pages: dict[str, str], catalog: Catalog, snapshot: Snapshot
) -> None:
    """One compatibility row per base model; where the header was read, each row's verdict is the stored
    header facts' verdict for the model's architecture, else the page says the file is not inspected yet."""
    lora = catalog.lora(lora_id)
    page = pages[f"loras/{lora_id}.md"]
    header = facts_of(snapshot, lora)
    for model in catalog.models:
        row = page.split(f'<tr id="compat-{model.id}">', 1)[1].split("</tr>", 1)[0]
        assert f'href="../../models/{model.id}/"' in row
        ((answer, claimed),) = fit_badges(row)
        if header is not None and model.architecture is not None:
            assert (answer, claimed) == (header.fits[model.architecture].verdict, False), model.id
        elif header is not None:
            assert (answer, claimed) == ("unknown", False), model.id  # a variant of unknown layout
        else:
            assert claimed, model.id
    assert ("has not been inspected yet" in page) == (header is None)
    if header is not None:
        table = fact_table(
            page.replace("<tr><td>", "| ").replace("</td><td>", " | ").replace("</td></tr>", " |")
        )
        assert table["Tensors"].startswith(f"{header.tensor_count:,} ")


@pytest.mark.parametrize("lora_id", LORA_IDS)
def test_a_lora_page_links_the_combinations_that_use_it(
    lora_id: str, pages: dict[str, str], catalog: Catalog
) -> None:
    """Each combination naming the LoRA for an expert is linked by its anchor; none, and the page says so."""
    page = pages[f"loras/{lora_id}.md"]
    using = {
        combo.id
        for combo in catalog.combinations
        for setup in (combo.high, combo.low)
        if setup is not None and any(use.lora == lora_id for use in setup.loras or ())
    }
    linked = {target.split("#", 1)[1] for target in links(page) if target.startswith("../combinations.md#")}
    assert linked == using
    assert ("Not part of any listed combination yet" in page) == (not using)


# --- model pages -------------------------------------------------------------------------------------


@pytest.mark.parametrize("model_id", MODEL_IDS)
def test_a_model_page_states_the_entry_and_where_its_file_goes(
    model_id: str, pages: dict[str, str], catalog: Catalog
) -> None:
    """Name, generation, task, architecture, kind and date from the entry; its official page; the ComfyUI folder;
    links to LoRA pages that exist and to the compatibility page."""
    model = catalog.model(model_id)
    page = pages[f"models/{model_id}.md"]
    assert plain(page.splitlines()[0]) == f"# {model.name}"
    facts = fact_table(page)
    assert facts["Wan generation"] == model.generation
    assert facts["Task"] == model.task
    assert facts["Architecture"].startswith(model.architecture or "not known to the catalog")
    assert facts["Kind"].startswith("distilled checkpoint" if model.kind == "distilled" else "base model")
    assert facts["Added to the catalog"] == model.added.isoformat()
    if model.source is not None:
        assert m.link_url(model.source) in links(page)
    assert "ComfyUI/models/diffusion_models/" in page
    assert "../compatibility.md" in links(page)
    for target in links(page):
        if target.startswith("../loras/"):
            assert target.removeprefix("../").split("#")[0] in pages, target


# --- catalog.json, the compatibility matrix ----------------------------------------------------------


def test_catalog_json_holds_each_entry_with_its_hub_facts_and_fits(
    pages: dict[str, str], catalog: Catalog, snapshot: Snapshot
) -> None:
    """Every LoRA with its entry's fields, its file's URL, the snapshot's facts and one fit per base model
    (distilled checkpoints apart): verified from the stored header where it was read, else claimed."""
    data = json.loads(pages["catalog.json"])
    assert data["snapshot_checked_at"] == snapshot.checked_at
    assert [model["id"] for model in data["models"]] == [model.id for model in catalog.models]
    assert [c["id"] for c in data["combinations"]] == [c.id for c in catalog.combinations]
    assert len(data["special_use"]) == len(catalog.special_use)
    bases = [model for model in catalog.models if model.kind == "base"]
    assert sorted(entry["id"] for entry in data["loras"]) == LORA_IDS
    for entry in data["loras"]:
        lora = catalog.lora(entry["id"])
        own = lora.model_dump(mode="json", exclude_none=True, exclude={"file"})
        assert {key: entry[key] for key in own} == own
        assert entry["file"] == {"repo": lora.file.repo, "path": lora.file.path, "url": lora.file.link.url}
        fact = link_fact(snapshot, lora)
        assert fact is not None
        assert entry["hub"] == fact.model_dump(mode="json", exclude_none=True)
        header = facts_of(snapshot, lora)
        fits: dict[str, Any] = {fit["model"]: fit for fit in entry["fit"]}
        assert list(fits) == [model.id for model in bases]
        for model in bases:
            fit = fits[model.id]
            if header is not None and model.architecture is not None:
                verdict = header.fits[model.architecture]
                assert (fit["answer"], fit["basis"], fit["reason"]) == (
                    verdict.verdict,
                    "verified",
                    verdict.reason,
                )
            else:
                assert fit["basis"] == "claimed"


def test_compatibility_matrix_has_a_cell_per_lora_and_model_with_the_headers_verdict(
    pages: dict[str, str], catalog: Catalog, snapshot: Snapshot
) -> None:
    """One column per base model (titled with its architecture), one row per LoRA; a read header gives each cell
    its stored verdict, linked to the LoRA page's row; an unread one gives claimed cells."""
    page = pages["compatibility.md"]
    head, body = page.split("</thead>", 1)
    columns = re.findall(r'<th title="([^"]+)"><a href="\.\./models/([^/]+)/"', head)
    assert [model_id for _, model_id in columns] == [model.id for model in catalog.models]
    assert [arch for arch, _ in columns] == [model.architecture for model in catalog.models]
    assert re.findall(r'<tr id="([^"]+)"', body) == [lora.id for lora in catalog.loras]
    for lora in catalog.loras:
        row = body.split(f'<tr id="{lora.id}">', 1)[1].split("</tr>", 1)[0]
        header = facts_of(snapshot, lora)
        badges = fit_badges(row)
        if header is None:
            assert [claimed for _, claimed in badges] == [True] * len(columns), lora.id
            continue
        assert badges == [(header.fits[arch].verdict, False) for arch, _ in columns], lora.id
        for _, model_id in columns:
            assert f'href="../loras/{lora.id}/#compat-{model_id}"' in row


# --- home, changes and the note pages ------------------------------------------------------------------


def test_home_page_counts_the_catalog_and_links_every_page(
    pages: dict[str, str], catalog: Catalog, snapshot: Snapshot
) -> None:
    """The counts of LoRAs, base models and combinations, how many files were verified and header-read, the
    date the facts last changed; a link to every page and to catalog.json."""
    page = pages["index.md"]
    text = plain(page)
    loras = catalog.loras
    assert f"The catalog lists {len(loras)} LoRAs, {len(catalog.models)} base models and " in text
    assert f"and {len(catalog.combinations)} combinations" in text
    verified = [lora for lora in loras if (fact := link_fact(snapshot, lora)) and fact.verified_at]
    read = [lora for lora in loras if facts_of(snapshot, lora) is not None]
    assert f"{len(verified)} of {len(loras)} LoRA files" in text
    assert f"header (real rank, precision, fit by shape) of {len(read)} of them" in text
    assert snapshot.checked_at is not None
    assert f"facts last changed on {snapshot.checked_at[:10]}" in text
    assert f"latest catalog change was on {max(lora.added for lora in loras).isoformat()}" in text
    targets = links(page)
    assert {p for p in pages if p.endswith(".md") and p != "index.md"} <= targets
    assert "catalog.json" in targets


def test_home_page_lists_the_setups_page(pages: dict[str, str]) -> None:
    """The home page's list of pages names every section, the newest one (Setups) included."""
    pages_list = pages["index.md"].split("## Pages", 1)[1].split("\n## ", 1)[0]
    assert "setups.md" in links(pages_list)


def test_changes_page_lists_every_entry_newest_first(pages: dict[str, str], catalog: Catalog) -> None:
    """Each LoRA, base model, combination and special-use entry with the date it was added, newest first,
    linked to where it is shown."""
    page = pages["changes.md"]
    rows = [
        line
        for line in page.split("## Not in the catalog yet")[0].splitlines()
        if re.match(r"\| \d{4}-", line)
    ]
    dates = [row.split(" | ")[0].removeprefix("| ") for row in rows]
    assert dates == sorted(dates, reverse=True)
    expected = [
        *((lora.added, f"loras/{lora.id}.md") for lora in catalog.loras),
        *((model.added, f"models/{model.id}.md") for model in catalog.models),
        *((combo.added, f"combinations.md#{combo.id}") for combo in catalog.combinations),
        *((use.added, "special-use.md") for use in catalog.special_use),
    ]
    assert len(rows) == len(expected)
    for added, target in expected:
        assert any(row.startswith(f"| {added.isoformat()} |") and f"]({target})" in row for row in rows), (
            target
        )


def test_merging_page_quotes_every_point_with_the_catalogs_reading(
    pages: dict[str, str], catalog: Catalog
) -> None:
    """The quote and its author; each approach, its qualifier and each point followed by its plus or minus mark."""
    notes = catalog.merging
    page = pages["merging.md"]
    text = plain(page)
    assert plain(notes.quote.text) in text
    assert notes.quote.author in text
    for approach in notes.approaches:
        assert f"## {approach.name}" in page
        if approach.qualifier:
            assert approach.qualifier in text
        for point in approach.points:
            mark = "plus" if point.kind == "pro" else "minus"
            line = next(
                line for line in page.splitlines() if plain(line).startswith(f"- {plain(point.text)}")
            )
            assert f'la-badge la-{point.kind}"' in line
            assert plain(line) == f"- {plain(point.text)} {mark}"


def test_trivia_rcm_and_special_use_pages_hold_every_item(pages: dict[str, str], catalog: Catalog) -> None:
    """Every trivia item; the rCM summary, its links and extracted LoRAs; each special use with its link."""
    trivia = plain(pages["trivia.md"])
    assert all(f"- {plain(item)}" in trivia for item in catalog.trivia.items)
    rcm = pages["rcm.md"]
    assert plain(catalog.rcm.summary) in plain(rcm)
    assert {m.link_url(named.link) for named in catalog.rcm.links} <= links(rcm)
    assert {f"loras/{lora_id}.md" for lora_id in catalog.rcm.loras} <= links(rcm)
    special = pages["special-use.md"]
    for use in catalog.special_use:
        assert f"{use.purpose}: {use.label}" in plain(special)
        assert m.link_url(use.link) in links(special)
