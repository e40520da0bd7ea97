"""The real site: strict MkDocs build of the real data, every seed fact on it, Zensical parity."""

from __future__ import annotations

import hashlib
import html
import json
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from generator.catalog.schema import schema_texts
from generator.catalog.validate import load_catalog
from tests.sitebuild import ROOT, build_site, make_project, mkdocs_build, page_text, render

SEED = Path(__file__).parent / "fixtures" / "seed.md"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", name="site")
def _site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_site(make_project(tmp_path_factory.mktemp("real")))


@pytest.fixture(scope="module", name="text")
def _text(site: Path) -> str:
    return " ".join(page_text(page)[0] for page in sorted(site.rglob("*.html")))


@pytest.fixture(scope="module", name="hrefs")
def _hrefs(site: Path) -> set[str]:
    return {href for page in site.rglob("*.html") for href in page_text(page)[1]}


# --- facts of the seed page, read from the seed itself -----------------------------------------------

# Where the catalog deliberately differs from the seed's wording: seed text -> text on the site.
FIXED_TYPOS = {
    "lightxv2/Wan2.2-Lightning/dyno": "lightx2v/Wan2.2-Lightning/Wan2.2-T2V-A14B-4steps-250928-dyno",
    "Car/Clorth/Product consistency": "Car/Cloth/Product consistency",
    "drnighthan on HuggingFace": "drnighthan on Hugging Face",
}


def _table(section: str) -> list[list[str]]:
    body = SEED.read_text(encoding="utf-8").split(f"## {section}", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in body.splitlines() if line.startswith("|")][2:]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows]


def _plain(cell: str) -> str:
    cell = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", cell)
    return cell.replace("<br>", "").strip()


def seed_lora_names() -> list[str]:
    """Each LoRA file name of the seed's table (the seed omits .safetensors)."""
    return [_plain(row[1]).rsplit("/", 1)[-1] for row in _table("Noteworthy Loras")]


def seed_comments() -> list[tuple[str, str]]:
    """(LoRA name, comment) for each commented row, the comment exactly as the seed writes it."""
    rows = zip(_table("Noteworthy Loras"), seed_lora_names(), strict=True)
    return [(name, row[3].strip()) for row, name in rows if row[3].strip() not in ("", "-")]


def seed_sentences() -> list[str]:
    """Every sentence of the seed's prose, quote and bullets (links reduced to their text)."""
    text = SEED.read_text(encoding="utf-8").replace("Lora Alchemy", "")
    found: list[str] = []
    for raw in text.splitlines():
        line = _plain(raw.lstrip("> ").removeprefix("* "))
        if not line or raw.startswith(("#", "|")):
            continue
        labels = re.findall(r"\[([^\]]+)\]\(", raw)
        if labels and ": " in line:  # "lead: [link](…), [link](…)": the lead, then each link's text
            lead, _, rest = line.partition(": ")
            found += [lead, *labels]
            line = rest.split(". ", 1)[1] if ". " in rest else ""  # what follows the links
        found += [part.strip() for part in re.split(r"(?<=[.?!])\s+", line) if part.strip()]
    return found


def seed_lines(section: str, prefix: str) -> list[str]:
    """Lines of a section starting with prefix (trivia lines, quote lines, bullet points)."""
    body = SEED.read_text(encoding="utf-8").split(f"## {section}", 1)[1].split("\n## ", 1)[0]
    return [line.removeprefix(prefix).strip() for line in body.splitlines() if line.startswith(prefix)]


def seed_links() -> list[str]:
    """Every URL of the seed, as the site must link it (a repo's /tree/main root is the repo page)."""
    urls = re.findall(r"\]\((https://[^)\s]+)\)", SEED.read_text(encoding="utf-8"))
    return [re.sub(r"/tree/main$", "", url) for url in urls]


def _fold(text: str) -> str:
    return re.sub(r"\s+", " ", text).casefold()


def test_seed_facts_are_found_by_the_extractors() -> None:
    """The seed parsers see what the seed holds (guards the tests below against silent emptiness)."""
    assert len(seed_lora_names()) == 11
    assert len(seed_comments()) == 9
    assert len(seed_sentences()) >= 20
    assert len(seed_lines("Trivia", "")) >= 2
    assert len(seed_lines("Kijai on Merging vs Unmerged LoRAs", "> * ")) == 7
    assert len(seed_links()) == 10


@pytest.mark.parametrize("name", seed_lora_names())
def test_each_seed_lora_is_on_the_site(name: str, text: str) -> None:
    """Every LoRA file name of the seed appears on the site."""
    assert name in text


@pytest.mark.parametrize(("name", "comment"), seed_comments())
def test_each_seed_comment_is_on_the_site(name: str, comment: str, site: Path) -> None:
    """Every curator comment appears in the catalog row of its LoRA."""
    catalog = (site / "catalog" / "index.html").read_text(encoding="utf-8")
    row = next(r for r in catalog.split("<tr") if name in r)
    assert _fold(comment) in _fold(page_text_of(row))


def page_text_of(fragment: str) -> str:
    """Visible text of an HTML fragment."""
    return re.sub(r"<[^>]+>", " ", fragment).replace("&#39;", "'").replace("&amp;", "&")


def test_new_is_only_where_the_seed_says_new(site: Path) -> None:
    """Exactly the rows the seed calls new carry "new" (HTML and catalog.json); nothing is computed new."""
    catalog = (site / "catalog" / "index.html").read_text(encoding="utf-8")
    data = json.loads((site / "catalog.json").read_text(encoding="utf-8"))
    said_new = {
        lora["file"]["path"].rsplit("/", 1)[-1].removesuffix(".safetensors"): lora["new"]
        for lora in data["loras"]
    }
    for row, name in zip(_table("Noteworthy Loras"), seed_lora_names(), strict=True):
        html_row = next(r for r in catalog.split("<tr") if name in r)
        seed_new = row[3].strip().lower().startswith("new")
        assert ("la-new" in html_row, said_new[name]) == (seed_new, seed_new), name
        assert "la-recent" not in html_row, name  # the seed's import is never "recently added"
        if "recommended" in row[3]:
            assert "la-recommended" in html_row, name
    assert sum(said_new.values()) == 3


def test_the_catalogs_readings_are_never_shown_as_the_seeds_words(site: Path) -> None:
    """Recommendation levels and pro/con marks are labelled as the catalog's reading."""
    catalog = (site / "catalog" / "index.html").read_text(encoding="utf-8")
    badges = re.findall(r'<span class="la-badge la-(?:recommended|worth|deprecated)"[^>]*>', catalog)
    loras = load_catalog(ROOT / "data", ROOT).loras
    read = [lora for lora in loras if lora.recommendation in ("recommended", "worth-trying", "deprecated")]
    assert len(badges) == len(read) > 0
    assert [badge for badge in badges if "catalog's reading" not in html.unescape(badge)] == []
    merging, _ = page_text(site / "merging" / "index.html")
    assert "marks are the catalog's reading" in merging
    lora, _ = page_text(site / "loras" / "fusionx-t2v-14b" / "index.html")
    assert "The original page of this catalog says, in its own words" in lora
    assert "The catalog reads this as recommended" in lora


def test_phantom_is_reference_to_video_not_speech_to_video(site: Path) -> None:
    """S2V is Wan's speech-to-video model; Phantom is subject/reference-to-video (R2V)."""
    text, _ = page_text(site / "loras" / "fusionx-phantom-14b" / "index.html")
    assert "R2V" in text
    assert "S2V" not in text


@pytest.mark.parametrize("sentence", seed_sentences())
def test_each_seed_sentence_is_on_the_site_as_written(sentence: str, text: str) -> None:
    """Sentence by sentence, the seed's words are on the site (its typos corrected, nothing reworded)."""
    for typo, fixed in FIXED_TYPOS.items():
        sentence = sentence.replace(typo, fixed)
    if sentence.endswith(":"):  # a list's lead-in ("merging loras:") became a heading
        words = re.findall(r"[\w.'/-]+", sentence)
        assert all(_fold(word) in _fold(text) for word in words), sentence
    else:
        assert _fold(sentence) in _fold(text), sentence


@pytest.mark.parametrize(
    "line",
    [
        *[line for line in seed_lines("Trivia", "") if line],
        *seed_lines("Kijai on Merging vs Unmerged LoRAs", "> * "),
        *[
            line
            for line in seed_lines("Kijai on Merging vs Unmerged LoRAs", "> ")
            if not line.startswith("*")
        ],
    ],
)
def test_each_note_line_is_on_the_site(line: str, text: str) -> None:
    """Every trivia line, every line of Kijai's quote and every pro/con point is on the site."""
    if line.endswith(":"):
        line = line.rstrip(":").replace("(", "").replace(")", "")
        assert all(_fold(word) in _fold(text) for word in line.split()), line
    else:
        assert _fold(line) in _fold(text)


def test_combinations_of_the_seed_are_on_the_site(site: Path) -> None:
    """Each 'allegedly good' row: its LoRAs per expert, models, notes and the 2.5 strength on high."""
    text = _fold(page_text(site / "combinations" / "index.html")[0])
    for needle in [
        "no lora",
        "wan22_a14b_t2v_low_lightning_4steps_lora_250928_rank64_fp16",
        "wan2.2-t2v-a14b-4steps-250928-dyno-high-lightx2v",
        "some wan 2.2",
        "good motion",
        "lightx2v_14b_t2v_cfg_step_distill_lora_adaptive_rank_quantile_0.15_bf16",
        "lightx2v_t2v_14b_cfg_step_distill_v2_lora_rank256_bf16 (strength 2.5)",
        "lora unknown (?)",
        "allegedly produced good results for some artists",
        "vastly incomplete",
        "2.5 str on high",
    ]:
        assert needle in text


@pytest.mark.parametrize("url", seed_links())
def test_each_seed_link_is_on_the_site(url: str, hrefs: set[str]) -> None:
    """Every link of the seed is linked from the site."""
    assert url in hrefs


@pytest.mark.parametrize(("seed", "site_text"), sorted(FIXED_TYPOS.items()))
def test_seed_typos_are_fixed(seed: str, site_text: str, text: str) -> None:
    """The seed's typos are corrected on the site."""
    assert site_text in text
    assert seed not in text


def test_rcm_and_special_use(text: str) -> None:
    """The rCM note and the special-use links are on the site."""
    for needle in [
        "New distillation of WAN 2.1 from NVidia associated developers",
        "Kijai has extracted a LoRA which can be used with WAN 2.1 and possibly 2.2 models",
        "Cseti/wan2.2-14B-Kinestasis_concept-lora-v1",
    ]:
        assert needle in text


def test_pages_request_nothing_from_outside_hosts(site: Path) -> None:
    """No stylesheet, script, font or image comes from another host (theme.font is false)."""
    for page in site.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert not re.findall(r"<(?:script|img)[^>]+src=\"(?:https?:)?//", html), page
        assert not re.findall(
            r"<link[^>]+rel=\"(?:stylesheet|preload|preconnect)\"[^>]+href=\"(?:https?:)?//", html
        ), page


def test_catalog_json_is_published(site: Path) -> None:
    """The machine-readable catalog is part of the site."""
    assert '"loras"' in (site / "catalog.json").read_text(encoding="utf-8")


def test_home_page_links_every_page(site: Path) -> None:
    """The home page links each page of the site, the per-LoRA pages included, and says how fresh the checks are."""
    text, hrefs = page_text(site / "index.html")
    pages = {
        p.parent.relative_to(site).as_posix() + "/" for p in site.rglob("index.html") if p.parent != site
    }
    assert pages - set(hrefs) == set()
    assert "Nothing is verified yet" in text  # the real data has no snapshot yet
    assert "link-checked" not in text


def test_changes_page_lists_entries_newest_first(site: Path) -> None:
    """The changes page lists dated entries, newest first, each LoRA linked to its page."""
    text, hrefs = page_text(site / "changes" / "index.html")
    dates = re.findall(r"\b(\d{4}-\d{2}-\d{2}) (?:LoRA|base model|combination|special use)\b", text)
    assert len(dates) >= len(list((ROOT / "data" / "loras").glob("*.yaml")))
    assert dates == sorted(dates, reverse=True)
    assert "../loras/fusionx-t2v-14b/" in hrefs


def test_each_lora_has_a_page_with_its_download_command(site: Path) -> None:
    """Each LoRA page names its file, gives the hf download command and says since when its facts hold."""
    for file in sorted((ROOT / "data" / "loras").glob("*.yaml")):
        text, _ = page_text(site / "loras" / file.stem / "index.html")
        assert "hf download " in text, file.stem
        assert "Hub facts unchanged since" in text, file.stem
        assert "Compatibility" in text, file.stem


# --- build behaviour ----------------------------------------------------------------------------------


def _digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(name="project")
def _project(tmp_path: Path) -> Path:
    project = make_project(tmp_path)
    shutil.copy(ROOT / "Makefile", project / "Makefile")
    # keep modification times, so make sees the venv as up to date
    shutil.copytree(ROOT / "requirements", project / "requirements")
    shutil.copy2(ROOT / "constraints.txt", project / "constraints.txt")
    return project


def _make_site(project: Path) -> subprocess.CompletedProcess[str]:
    venv = Path(sys.executable).parent.parent
    return subprocess.run(
        ["make", "--no-print-directory", "site", f"VENV={venv}"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def test_failed_validation_leaves_the_built_site_untouched(project: Path) -> None:
    """`make site` after breaking a data file fails with path:line:col and changes neither site/ nor docs/."""
    first = _make_site(project)
    assert first.returncode == 0, first.stdout + first.stderr
    before = (_digest(project / "site"), _digest(project / "docs"))
    lora = project / "data" / "loras" / "fusionx-t2v-14b.yaml"
    lora.write_text(lora.read_text().replace("task: T2V", "task: T3V"))
    second = _make_site(project)
    assert second.returncode != 0
    assert "data/loras/fusionx-t2v-14b.yaml:8:7: task: Input should be" in second.stdout
    assert "Traceback" not in second.stdout + second.stderr
    assert (_digest(project / "site"), _digest(project / "docs")) == before


def _built(project: Path, tool: str) -> tuple[list[str], list[str]]:
    """Build with one tool; return its pages and the LoRA ids of the catalog table's rows, in order."""
    result = mkdocs_build(project, tool=tool)
    assert result.returncode == 0, result.stdout + result.stderr
    site = project / "site"
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("index.html"))
    return pages, catalog_row_ids(site / "catalog" / "index.html")


def catalog_row_ids(page: Path) -> list[str]:
    """The id of each row of the catalog table (one per LoRA)."""
    table = page.read_text(encoding="utf-8").split('<table class="la-catalog"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<tr id="([^"]+)"', table)


def test_zensical_builds_the_same_pages_and_catalog_rows(tmp_path: Path) -> None:
    """The same mkdocs.yml builds with Zensical (Material's successor) into the same pages and catalog rows."""
    if shutil.which("zensical", path=str(Path(sys.executable).parent)) is None:
        pytest.skip("zensical is not installed")
    project = make_project(tmp_path)
    assert render(project) == 0
    zensical_pages, zensical_rows = _built(project, "zensical")
    _links_the_feed_and_dates_its_data(project / "site", "search.json", "items")
    mkdocs_pages, mkdocs_rows = _built(project, "mkdocs")
    assert zensical_pages == mkdocs_pages
    assert "loras/fusionx-t2v-14b/index.html" in mkdocs_pages
    assert zensical_rows == mkdocs_rows
    assert sorted(mkdocs_rows) == sorted(p.stem for p in (project / "data" / "loras").glob("*.yaml"))


def _links_the_feed_and_dates_its_data(site: Path, index: str, docs: str) -> None:
    """Every page's head links the site's Atom feed, every page says when its data is from, and that line (the
    same on every page) is left out of the search index, whose file and list name differ between the tools."""
    feed = site / "feed.xml"
    assert ET.fromstring(feed.read_bytes()).tag == "{http://www.w3.org/2005/Atom}feed"  # noqa: S314 - our own file
    for page in sorted(site.rglob("index.html")):
        html = page.read_text(encoding="utf-8")
        link = re.search(r'<link rel="alternate" type="application/atom\+xml" [^>]*href="([^"]+)"', html)
        assert link, page
        assert (page.parent / link.group(1)).resolve() == feed.resolve(), page
        assert re.search(r'<p class="la-as-of"[^>]*>Data as of <strong>\d{4}-\d\d-\d\d</strong>', html), page
    entries = json.loads((site / index).read_text(encoding="utf-8"))[docs]
    assert len(entries) > 50
    assert not [entry["location"] for entry in entries if "Data as of" in entry["text"]]
    _search_index_holds_prose_names_and_headings(entries)


# what only tables of facts and download commands hold: the search leaves them out (issue 25 point 3)
TABLE_TEXT = (
    "Fact Value",
    "curl -L -o",
    "hf download ",
    "Stage Model LoRAs",
    "Added Kind Entry",
    "Base model Architecture",
)


def _search_index_holds_prose_names_and_headings(entries: list[dict[str, str]]) -> None:
    """No entry holds a fact table's or a command's text, so a query's number does not match every cell; each
    LoRA page's first entry (the one a result shows) is its sentence, under the file name as title."""
    assert [entry["location"] for entry in entries if any(t in entry["text"] for t in TABLE_TEXT)] == []
    pages = {
        entry["location"]: entry for entry in entries if re.fullmatch(r"loras/[^/#]+/", entry["location"])
    }
    stems = {lora.id: lora.file.stem for lora in load_catalog(ROOT / "data", ROOT).loras}
    assert sorted(location.split("/")[1] for location in pages) == sorted(stems)
    for location, entry in pages.items():
        assert entry["text"].startswith("<p>A LoRA for Wan "), location
        assert entry["title"] == stems[location.split("/")[1]]


def test_every_page_links_the_feed_and_says_when_its_data_is_from(site: Path) -> None:
    """The Atom feed is found from any page's head (feed readers look there); "data as of" ends every page."""
    _links_the_feed_and_dates_its_data(site, "search/search_index.json", "docs")


def test_two_builds_of_one_commit_give_the_same_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Built twice from the same commit (its date in SOURCE_DATE_EPOCH, as CI passes it), in two folders, the
    site is the same byte for byte: pages, feed, search index, sitemap (MkDocs dates it by that variable too)."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1780000000")
    digests = []
    for name in ("first", "second"):
        (tmp_path / name).mkdir()
        digests.append(_digest(build_site(make_project(tmp_path / name))))
    assert digests[0] == digests[1]
    assert "feed.xml" in digests[0]


def test_mkdocs_yml_is_portable() -> None:
    """No hooks and only plugins Zensical supports, so the standalone generator stays the only build step."""
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    assert "\nhooks:" not in config
    plugins = re.findall(
        r"^  - (\w[\w-]*)", config.split("\nplugins:", 1)[1].split("\n\n", 1)[0], re.MULTILINE
    )
    assert set(plugins) <= {"search", "tags", "offline", "privacy", "social", "blog", "rss"}
    assert "font: false" in config
    assert "strict: true" in config


def test_committed_schemas_are_up_to_date() -> None:
    """schemas/ holds exactly what `python -m generator schema` writes."""
    committed = {p.name: p.read_text(encoding="utf-8") for p in (ROOT / "schemas").glob("*.json")}
    assert committed == schema_texts()


def test_every_data_file_points_editors_at_its_schema() -> None:
    """Each YAML data file starts with a yaml-language-server modeline naming an existing schema."""
    for file in sorted((ROOT / "data").rglob("*.yaml")):
        first = file.read_text(encoding="utf-8").splitlines()[0]
        match = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", first)
        assert match, file
        assert (file.parent / match.group(1)).resolve().is_file(), file


def test_crafted_strings_cannot_inject_links_or_markup(tmp_path: Path) -> None:
    """Markdown or HTML in labels, paths, comments and notes stays text in the built HTML."""
    project = make_project(tmp_path)
    evil = "[click](javascript:alert(1)) <script>alert(2)</script> *em* `code`"
    special = project / "data" / "special-use" / "drnighthan.yaml"
    special.write_text(special.read_text().replace("label: drnighthan on Hugging Face", f"label: '{evil}'"))
    lora = project / "data" / "loras" / "fusionx-t2v-14b.yaml"
    text = lora.read_text().replace("Wan2.1_T2V_14B_FusionX_LoRA", "x[x](javascript:alert(3))*em*")
    assert 'comment: "very good for 2.1"' in text
    lora.write_text(text.replace('comment: "very good for 2.1"', f"comment: '{evil}'"))
    site = build_site(project)
    for page in site.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert 'href="javascript:' not in html, page
        assert "<script>alert" not in html, page
        assert "<em>em</em>" not in html, page
    special_text = page_text(site / "special-use" / "index.html")[0]
    assert "[click](javascript:alert(1)) <script>alert(2)</script> *em* `code`" in special_text


def test_issue_13_reader_site(site: Path) -> None:
    """Issue 13: claimed fits before inspection, fit data per base model, ComfyUI downloads, model pages,
    combination anchors and pages linked here, sources of the quote and the combinations named."""
    compat = (site / "compatibility" / "index.html").read_text(encoding="utf-8")
    assert "not yet inspected" not in compat
    assert "a 14B LoRA on a 1.3B model" in compat
    catalog = (site / "catalog" / "index.html").read_text(encoding="utf-8")
    _, _, models, rows = json.loads((site / "catalog-rows.json").read_text(encoding="utf-8"))
    small = models.index("wan21-t2v-1.3b")
    assert [row[0] for row in rows if row[2] == "no" and row[3][small] == "n"]  # claimed: a 14B name, no
    assert "dyno" not in catalog.split('data-la-filter="for"', 1)[1].split("</select>", 1)[0]
    combos, hrefs = page_text(site / "combinations" / "index.html")
    html = (site / "combinations" / "index.html").read_text(encoding="utf-8")
    for combo in sorted((ROOT / "data" / "combinations").glob("*.yaml")):
        assert f'id="{combo.stem}"' in html, combo.stem
    assert "../loras/wan22-a14b-t2v-low-lightning-4steps-250928/" in hrefs
    assert "../models/wan22-t2v-a14b-4steps-250928-dyno-high/" in hrefs
    assert 'the model, given only as "some wan 2.2"' in combos
    assert "curl -L -o ComfyUI/models/loras/" in combos
    assert "the catalog's original page (the seed) lists it" in combos
    for model in sorted((ROOT / "data" / "models").glob("*.yaml")):
        text, _ = page_text(site / "models" / model.stem / "index.html")
        assert "ComfyUI/models/diffusion_models/" in text, model.stem
    merging, _ = page_text(site / "merging" / "index.html")
    assert "as quoted by the catalog's original page" in merging
    high, hrefs = page_text(site / "loras" / "wan22-a14b-t2v-high-lightning-4steps-250928" / "index.html")
    assert "../wan22-a14b-t2v-low-lightning-4steps-250928/" in hrefs
    assert "curl -L -o ComfyUI/models/loras/Wan22_A14B_T2V_HIGH" in high


def test_readme_sends_readers_to_a_server_not_to_files_on_disk() -> None:
    """Issue 13.10: pages link by folder, so site/index.html from disk shows directory listings and no search."""
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())  # wherever a line wraps
    assert "open `site/index.html`," not in readme
    assert "run `make serve` and open http://127.0.0.1:8000" in readme
    assert "Do not open `site/index.html` from disk" in readme
