"""The built site in headless Chromium: pages load cleanly, sort, filter, search, dark mode, nothing leaves 127.0.0.1.

The real site is built from the real data plus a Hub snapshot fixture with known sizes and header facts, served by
a stdlib HTTP server on 127.0.0.1 and driven through Python playwright with Debian's chromium (no browser download).
Screenshots of the main pages (1440×900 and 390×844, light and dark) go to site-screenshots/ (ignored by git) for
reviewers; axe-core (tests/vendor, offline) checks them for serious and critical violations.
"""

from __future__ import annotations

import base64
import shutil
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from bench.bench_render import make_catalog
from generator.catalog.snapshot import LinkFact, Snapshot, dump_snapshot, link_key
from generator.catalog.validate import load_catalog
from generator.site.catalog_page import FIRST_ROWS
from tests.browsing import Tab, open_tab, serve_folder
from tests.catalog_scenario import facts_json
from tests.safetensors_factory import make_lora_header
from tests.sitebuild import ROOT, build_site, catalog_fits, make_project

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SCREENSHOTS = ROOT / "site-screenshots"
CHECKED_AT = "2026-12-01T08:00:00Z"
# LoRA id -> size in bytes; chosen so that sorting the shown text ("1.25 GB" < "631 MB" < "99 kB") differs
# from sorting by bytes. Every other LoRA has no facts, so its size is unknown and must sort last.
SIZES = {
    "wan22-a14b-t2v-high-lightning-4steps-250928": 1_253_192_432,
    "wan22-a14b-t2v-low-lightning-4steps-250928": 630_697_104,
    "fusionx-t2v-14b": 99_000,
    "lightx2v-t2v-14b-cfg-step-distill-v2-rank256": 2_923_503_944,
}
# LoRA id -> the architecture of a synthetic header analysed as the check would; the Lightning LoRA's fits
# its 14B models, the FusionX one is made 1.3B (fits no 14B model). Other LoRAs have no header facts.
HEADER_ARCH = {
    "wan22-a14b-t2v-high-lightning-4steps-250928": "wan2.2-t2v-a14b",
    "fusionx-t2v-14b": "wan2.1-t2v-1.3b",
}


def _snapshot(data: Path) -> Snapshot:
    """A snapshot with the sizes above and header facts keyed by a made-up sha256 per file."""
    catalog = load_catalog(data, data.parent)
    links: dict[str, LinkFact] = {}
    headers: dict[str, dict[str, Any]] = {}
    for number, (lora_id, size) in enumerate(sorted(SIZES.items())):
        sha = f"{number:064x}"
        links[link_key(catalog.lora(lora_id).file.link)] = LinkFact(
            status="ok", checked_at=CHECKED_AT, verified_at=CHECKED_AT, size=size, sha256=sha
        )
        if lora_id in HEADER_ARCH:
            file = catalog.lora(lora_id).file
            header = make_lora_header(HEADER_ARCH[lora_id], "comfyui", 64, "BF16")
            headers[sha] = facts_json(header, file.path)
    return Snapshot(checked_at=CHECKED_AT, links=links, headers=headers)


@pytest.fixture(scope="module", name="site")
def _site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("data") / "data"
    shutil.copytree(ROOT / "data", data)
    (data / "hub-snapshot.json").write_text(dump_snapshot(_snapshot(data)), encoding="utf-8")
    return build_site(make_project(tmp_path_factory.mktemp("browser"), data))


@pytest.fixture(scope="module", name="base_url")
def _base_url(site: Path) -> Iterator[str]:
    with serve_folder(site) as url:
        yield url


@pytest.fixture(name="tab")
def _tab(browser: Any, base_url: str) -> Iterator[Tab]:
    """A fresh light-mode context per test; after the test, no request may have left 127.0.0.1."""
    with open_tab(browser, base_url, "light", {"width": 1400, "height": 900}) as tab:
        yield tab


def _pages(site: Path) -> list[str]:
    return sorted(p.parent.relative_to(site).as_posix() + "/" for p in site.rglob("index.html"))


def test_every_page_loads_without_console_errors(tab: Tab, site: Path) -> None:
    """Each built page loads, shows its title and logs no console error; nothing leaves 127.0.0.1."""
    pages = [page.removeprefix("./") for page in _pages(site)]
    assert len(pages) >= 8 + len(SIZES)
    for page in pages:
        tab.open(page)
        assert tab.page.locator("article h1").count() == 1, page
        assert tab.errors == [], page


def _column(tab: Tab, header: str) -> list[str | None]:
    """The data-sort value of each catalog row's cell under the header (None where unknown)."""
    index = tab.page.locator("table.la-catalog thead th").all_inner_texts().index(header)
    cells = tab.page.locator(f"table.la-catalog tbody tr > td:nth-child({index + 1})")
    return [cell.get_attribute("data-sort") for cell in cells.all()]


def _sort_by(tab: Tab, header: str) -> list[str | None]:
    tab.page.locator("table.la-catalog thead th", has_text=header).click()
    return _column(tab, header)


def test_sorting_by_size_orders_rows_by_bytes_with_unknown_sizes_last(tab: Tab) -> None:
    """Size sorts by bytes, not by the text shown, both ways; unknown sizes stay at the end."""
    tab.open("catalog/")
    unknown = [None] * (len(_column(tab, "Size")) - len(SIZES))
    ascending = [str(size) for size in sorted(SIZES.values())]
    assert _sort_by(tab, "Size") == [*ascending, *unknown]
    assert _sort_by(tab, "Size") == [*reversed(ascending), *unknown]


def test_sorting_by_rank_is_numeric(tab: Tab) -> None:
    """Rank sorts as numbers (64 before 128 before 256), unknown ranks last."""
    tab.open("catalog/")
    ranks = _sort_by(tab, "Rank")
    known = [int(rank) for rank in ranks if rank is not None]
    assert known == sorted(known)
    assert len(set(known)) > 2
    assert ranks[len(known) :] == [None] * (len(ranks) - len(known))


def _visible_rows(tab: Tab) -> list[str]:
    return [
        row.get_attribute("id") or ""
        for row in tab.page.locator("table.la-catalog tbody tr").all()
        if row.is_visible()
    ]


@pytest.fixture(scope="module", name="loras")
def _loras(site: Path) -> dict[str, Any]:
    """The built site's LoRAs by id, read from its data folder."""
    return {lora.id: lora for lora in load_catalog(site.parent / "data", site.parent).loras}


def _fits(tab: Tab) -> dict[str, dict[str, str]]:
    """Each catalog row's fit per base model, as the page's JSON gives it to the filter (a letter per model)."""
    return catalog_fits(
        tab.page.evaluate(
            "fetch(document.getElementById('la-catalog').dataset.laRows).then(response => response.json())"
        )
    )


def test_filters_hide_rows(tab: Tab, loras: dict[str, Any]) -> None:
    """Choosing a generation hides the other rows; the count says how many are shown."""
    tab.open("catalog/")
    everything = _visible_rows(tab)
    assert everything == sorted(loras)
    tab.page.select_option('select[data-la-filter="generation"]', "2.2")
    shown = _visible_rows(tab)
    assert shown == [lora_id for lora_id in everything if loras[lora_id].generation == "2.2"]
    assert 0 < len(shown) < len(everything)
    assert tab.page.inner_text(".la-filter-count") == f"{len(shown)} of {len(everything)} shown"
    tab.page.select_option('select[data-la-filter="generation"]', "")
    assert _visible_rows(tab) == everything


def _made_for(tab: Tab) -> dict[str, set[str]]:
    """Each catalog row's models it was made for, as the page's JSON gives them to the filter (a digit each)."""
    _, _, models, rows = tab.page.evaluate(
        "fetch(document.getElementById('la-catalog').dataset.laRows).then(response => response.json())"
    )
    return {row[0]: {m for m, digit in zip(models, row[5], strict=True) if digit == "1"} for row in rows}


@pytest.mark.parametrize("width", [390, 1440])
def test_for_my_model_narrows_to_made_for_or_loads_on_and_says_when_nothing_is_left(
    browser: Any, base_url: str, site: Path, width: int
) -> None:
    """Issue 22.3 on a phone and a desktop: "made for" keeps exactly the LoRAs the fit rules say were made for the
    model, "loads on" those that fit or partly fit it (a fit nothing tells is not kept), each fewer than every
    LoRA; the 1.3B choices keep no 14B LoRA, and an empty answer is one sentence, not "0 of 20"."""
    from generator.catalog.fit import FitRules

    catalog = load_catalog(site.parent / "data", site.parent)
    rules = FitRules(catalog)
    viewport = {"width": width, "height": 844 if width == 390 else 900}
    with open_tab(browser, base_url, "light", viewport, touch=width == 390) as tab:
        tab.open("catalog/")
        everything = _visible_rows(tab)
        fits = _fits(tab)
        assert _made_for(tab) == {
            lora.id: set(rules.made_for(lora)) & set(fits[lora.id]) for lora in catalog.loras
        }
        model = catalog.model("wan22-t2v-a14b-high")
        tab.page.select_option('select[data-la-filter="for"]', f"made:{model.id}")
        made = _visible_rows(tab)
        assert made == sorted(lora.id for lora in catalog.loras if rules.is_made_for(lora, model))
        assert 0 < len(made) < len(everything)
        assert tab.page.inner_text(".la-filter-count") == f"{len(made)} of {len(everything)} shown"
        tab.page.select_option('select[data-la-filter="for"]', f"loads:{model.id}")
        loads = _visible_rows(tab)
        assert loads == sorted(lora for lora, fit in fits.items() if fit[model.id] in ("fits", "partial"))
        assert "fusionx-t2v-14b" not in loads  # its header (made 1.3B here) says it does not load
        assert set(made) <= set(loads)
        assert len(loads) < len(everything)
        small = catalog.model("wan21-t2v-1.3b")
        tab.page.select_option('select[data-la-filter="for"]', f"loads:{small.id}")
        assert _visible_rows(tab) == ["fusionx-t2v-14b"]  # the one whose header (1.3B here) says it loads
        tab.page.select_option('select[data-la-filter="for"]', f"made:{small.id}")
        assert _visible_rows(tab) == []
        said = tab.page.inner_text(".la-filter-count")
        assert (
            said
            == f"No LoRA in the catalog is made for {small.name}; 1 loads on it (“loads on {small.name}”)."
        )
        assert tab.page.locator(".la-filter-count").is_visible()
        assert tab.page.evaluate("document.documentElement.scrollWidth") <= width
        tab.page.select_option('select[data-la-filter="for"]', "")
        assert _visible_rows(tab) == everything


def test_an_address_of_the_former_fits_filter_is_read_as_loads_on(tab: Tab) -> None:
    """A bookmarked ?fits=<model> (the filter before issue 22) opens as "loads on" that model."""
    tab.open("catalog/?fits=wan22-t2v-a14b-high")
    assert tab.page.input_value('select[data-la-filter="for"]') == "loads:wan22-t2v-a14b-high"
    fits = _fits(tab)
    expected = sorted(lora for lora, fit in fits.items() if fit["wan22-t2v-a14b-high"] in ("fits", "partial"))
    assert _visible_rows(tab) == expected


def test_catalog_links_each_lora_page_with_download_and_command(browser: Any, base_url: str) -> None:
    """A row has a download link and its copy button puts the ComfyUI curl line on the clipboard (the line the
    LoRA page shows for ComfyUI); its name leads to its page with the command shown."""
    with open_tab(browser, base_url, "light", DESKTOP) as tab:
        tab.page.context.grant_permissions(["clipboard-read", "clipboard-write"])
        tab.open("catalog/")
        row = tab.page.locator('tr[id="wan22-a14b-t2v-high-lightning-4steps-250928"]')
        assert "/resolve/main/" in (row.locator("a[download]").get_attribute("href") or "")
        copy = row.locator("button.la-copy-cmd[data-clipboard-text]")
        assert copy.inner_text() == "copy for ComfyUI"
        copy.click()
        copied = tab.page.evaluate("navigator.clipboard.readText()")
        assert copied.startswith("curl -L -o ComfyUI/models/loras/Wan22_A14B_T2V_HIGH_Lightning_4steps_")
        assert copied.endswith("?download=true'  # 1.25 GB")
        row.locator("a.la-lora-link").click()
        tab.page.wait_for_url("**/loras/wan22-a14b-t2v-high-lightning-4steps-250928/")
        blocks = tab.page.locator("article pre code").all_inner_texts()
        assert copied in [block.strip() for block in blocks]
        _lora_page_shows_its_facts(tab)


def _lora_page_shows_its_facts(tab: Tab) -> None:
    article = tab.page.locator("article")
    assert "1.25 GB (1,253,192,432 bytes)" in article.inner_text()
    assert "2026-12-01" in article.inner_text()
    assert article.locator("pre code").first.inner_text().startswith("hf download ")
    assert article.locator(".md-code__button, .md-clipboard").count() >= 1


@pytest.mark.parametrize(
    ("fragment", "lora_id"),
    [
        ("Lightning_4steps", "wan22-a14b-t2v-high-lightning-4steps-250928"),
        ("MoE_distill", "wan22-i2v-a14b-high-lightx2v-moe-distill"),
        ("rank_quantile", "lightx2v-t2v-14b-cfg-step-distill-adaptive-quantile-0.15"),
    ],
)
def test_search_finds_a_lora_by_a_file_name_fragment(tab: Tab, fragment: str, lora_id: str) -> None:
    """The site search finds a LoRA's page from a piece of its file name (typed as a reader types)."""
    tab.open("")
    search = tab.page.locator("input.md-search__input")
    search.click()  # at this width the search box is in the header
    tab.page.keyboard.type(fragment, delay=10)
    result = tab.page.locator(f".md-search-result__item > a[href*='/loras/{lora_id}/']")
    result.wait_for(timeout=10_000)
    assert fragment.split("_")[0].casefold() in result.locator("h1").inner_text().casefold()


class Shot(NamedTuple):
    """A screenshot as written to disk: its pixel size and mean luminance (0 black, 1 white)."""

    width: int
    height: int
    luminance: float


_LUMINANCE = """async (url) => {
    const image = new Image();
    image.src = url;
    await image.decode();
    const canvas = document.createElement("canvas");
    [canvas.width, canvas.height] = [image.width, image.height];
    const context = canvas.getContext("2d");
    context.drawImage(image, 0, 0);
    const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
    let sum = 0;
    for (let i = 0; i < pixels.length; i += 4) sum += 0.2126 * pixels[i] + 0.7152 * pixels[i + 1] + 0.0722 * pixels[i + 2];
    return sum / (pixels.length / 4) / 255;
}"""


def _screenshot(tab: Tab, path: Path) -> Shot:
    """A full-page screenshot written to path, then read back from disk: the PNG's size from its IHDR chunk, its
    luminance from the browser decoding the file's bytes."""
    tab.page.screenshot(path=str(path), full_page=True)
    png = path.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n", path
    assert png[12:16] == b"IHDR", path
    width, height = struct.unpack(">II", png[16:24])
    url = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    return Shot(width, height, float(tab.page.evaluate(_LUMINANCE, url)))


def test_dark_mode_toggle_switches_the_scheme_and_screenshots(tab: Tab) -> None:
    """The palette toggle switches data-md-color-scheme; the dark screenshot is darker than the light one."""
    tab.open("catalog/")
    SCREENSHOTS.mkdir(exist_ok=True)
    body = tab.page.locator("body")
    assert body.get_attribute("data-md-color-scheme") == "default"
    light = _screenshot(tab, SCREENSHOTS / "catalog-light.png")
    tab.page.locator("form[data-md-component=palette] label:visible").first.click()
    tab.page.wait_for_function("document.body.getAttribute('data-md-color-scheme') === 'slate'")
    dark = _screenshot(tab, SCREENSHOTS / "catalog-dark.png")
    assert (light.width, dark.width) == (1400, 1400)
    assert light.luminance > 0.7 > 0.3 > dark.luminance, (light, dark)


# The main pages of the reader site (issue 13): a phone never pans them sideways, axe-core finds no serious or
# critical violation in either scheme, and each is photographed at desktop and phone size in both schemes.
MAIN_PAGES = {
    "home": "",
    "catalog": "catalog/",
    "compatibility": "compatibility/",
    "combinations": "combinations/",
    "lora": "loras/wan22-a14b-t2v-high-lightning-4steps-250928/",
}
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}
AXE = ROOT / "tests" / "vendor" / "axe-core-4.14.1" / "axe.min.js"


def test_a_phone_never_pans_a_page_sideways(browser: Any, base_url: str, site: Path) -> None:
    """At 390 px on a touch screen no page is wider than the screen, Setups included: wide tables scroll inside
    their own box or become cards, long names and commands wrap."""
    pages = [page.removeprefix("./") for page in _pages(site)]
    assert "setups/" in pages
    with open_tab(browser, base_url, "light", PHONE, touch=True) as tab:
        for path in pages:
            tab.open(path)
            # against the phone's width: a mobile browser widens its layout viewport to fit a page that overflows
            width = tab.page.evaluate("document.scrollingElement.scrollWidth")
            assert width <= PHONE["width"], (path, width)


def _axe_violations(tab: Tab) -> list[str]:
    """Serious and critical axe-core violations of the page (Material's own search dialog left out), with the
    WCAG 2.2 target-size rule switched on (24 px targets, or room around them)."""
    tab.page.add_script_tag(path=str(AXE))
    result = tab.page.evaluate(
        """async () => {
            const run = await axe.run({exclude: [[".md-search"]]},
                                      {resultTypes: ["violations"], rules: {"target-size": {enabled: true}}});
            return run.violations.filter(v => v.impact === "serious" || v.impact === "critical")
              .map(v => v.id + ": " + v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(" | "));
        }"""
    )
    return list(result)


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [DESKTOP["width"], PHONE["width"]])
def test_axe_finds_no_serious_violation_on_any_page(
    browser: Any, base_url: str, site: Path, scheme: str, width: int
) -> None:
    """axe-core (vendored, offline) reports no serious or critical violation on any page, light and dark, on a
    desktop and on a touch phone (where Material leaves scrolling code blocks without keyboard focus)."""
    expected = "slate" if scheme == "dark" else "default"
    phone = width == PHONE["width"]
    found: dict[str, list[str]] = {}
    with open_tab(browser, base_url, scheme, PHONE if phone else DESKTOP, touch=phone) as tab:
        for path in (page.removeprefix("./") for page in _pages(site)):
            tab.open(path)
            assert tab.page.get_attribute("body", "data-md-color-scheme") == expected
            violations = _axe_violations(tab)
            if violations:
                found[path] = violations
    assert found == {}


def test_recipe_tables_become_cards_on_a_phone(browser: Any, base_url: str) -> None:
    """On the Setups page a phone shows each recipe stage as a card, every value under its column's name; a
    desktop keeps the table with its header row."""
    cards = """() => [...document.querySelectorAll("table.la-recipe")].map(table => ({
        head: table.tHead.getBoundingClientRect().height,
        rows: [...table.tBodies[0].rows].map(row => getComputedStyle(row).display),
        labels: [...table.tBodies[0].rows[0].cells].map(c => getComputedStyle(c, "::before").content),
        names: [...table.tHead.rows[0].cells].map(c => JSON.stringify(c.textContent)),
        right: table.getBoundingClientRect().right}))"""
    with open_tab(browser, base_url, "light", PHONE, touch=True) as tab:
        tab.open("setups/")
        tables = tab.page.evaluate(cards)
        assert len(tables) >= 10
        for table in tables:
            assert set(table["rows"]) == {"block"}
            assert table["labels"] == table["names"]  # each value under its column's name
            assert table["head"] <= 1  # the header row is read by screen readers, not shown
            assert table["right"] <= PHONE["width"]
    with open_tab(browser, base_url, "light", DESKTOP) as tab:
        tab.open("setups/")
        for table in tab.page.evaluate(cards):
            assert set(table["rows"]) == {"table-row"}
            assert table["head"] > 10


_MATRIX = """() => {
    const box = document.querySelector(".la-matrix-wrap");
    const table = box.querySelector("table.la-matrix");
    const rect = e => e.getBoundingClientRect();
    const head = table.tHead.rows[0].cells;
    const row = table.tBodies[0].rows[table.tBodies[0].rows.length - 1];
    return {box: [rect(box).left, rect(box).top, rect(box).right, box.scrollWidth, box.clientWidth],
            lastHead: rect(head[head.length - 1]).right, firstHead: [rect(head[1]).top, rect(head[0]).left],
            firstCell: rect(row.cells[0]).left, tabindex: box.tabIndex, label: box.getAttribute("aria-label")};
}"""


def test_compatibility_matrix_fits_a_desktop_and_keeps_its_header_row_and_first_column_in_view(
    browser: Any, base_url: str
) -> None:
    """At 1440 px every column of the matrix is in view (none cut); on a phone the matrix scrolls inside its own
    box, which the keyboard can reach, and its header row and LoRA column stay in view while it scrolls."""
    with open_tab(browser, base_url, "light", DESKTOP) as tab:
        tab.open("compatibility/")
        m = tab.page.evaluate(_MATRIX)
        left, _, right, scroll_width, client_width = m["box"]
        assert scroll_width <= client_width
        assert m["lastHead"] <= right
        assert m["tabindex"] == 0
        assert m["label"]
    with open_tab(browser, base_url, "dark", PHONE, touch=True) as tab:
        tab.open("compatibility/")
        box = tab.page.locator(".la-matrix-wrap")
        box.scroll_into_view_if_needed()
        box.evaluate("b => { b.scrollTop = b.scrollHeight; b.scrollLeft = b.scrollWidth; }")
        m = tab.page.evaluate(_MATRIX)
        left, top, _, scroll_width, client_width = m["box"]
        assert scroll_width > client_width  # it did scroll sideways, inside its box
        assert abs(m["firstHead"][0] - top) <= 2  # the header row is still at the top of the box
        assert abs(m["firstHead"][1] - left) <= 2
        assert abs(m["firstCell"] - left) <= 2


def test_catalog_download_and_copy_are_24px_targets_apart(browser: Any, base_url: str) -> None:
    """In every catalog row, on a phone's cards and on a desktop, "download" and "copy for ComfyUI" are at least
    24 × 24 px and do not touch (WCAG 2.5.8, which axe checks too)."""
    targets = """() => [...document.querySelectorAll("table.la-catalog td.la-get")].map(cell =>
        [...cell.querySelectorAll("a, button")].map(e => { const r = e.getBoundingClientRect();
                                                         return [r.left, r.top, r.right, r.bottom]; }))"""
    for viewport, touch in ((PHONE, True), (DESKTOP, False)):
        with open_tab(browser, base_url, "light", viewport, touch=touch) as tab:
            tab.open("catalog/")
            rows = tab.page.evaluate(targets)
            assert len(rows) == len(_visible_rows(tab))
            for (l1, t1, r1, b1), (l2, t2, r2, b2) in rows:
                assert min(r1 - l1, b1 - t1, r2 - l2, b2 - t2) >= 24
                assert r1 <= l2 or b1 <= t2  # side by side or one under the other, never overlapping


def test_no_code_block_is_a_scrolling_region_out_of_keyboard_reach(
    browser: Any, base_url: str, site: Path
) -> None:
    """On a touch phone, where Material gives scrolling code blocks no keyboard focus, commands wrap: no code
    block of any page scrolls sideways unless it can take focus."""
    unreachable = """() => [...document.querySelectorAll("pre > code")]
        .filter(c => c.scrollWidth > c.clientWidth && c.tabIndex < 0).length"""
    with open_tab(browser, base_url, "light", PHONE, touch=True) as tab:
        blocks = 0
        for path in (page.removeprefix("./") for page in _pages(site)):
            tab.open(path)
            blocks += tab.page.locator("pre > code").count()
            assert tab.page.evaluate(unreachable) == 0, path
        assert blocks > 20


_SETTLED = """async () => { await Promise.race([Promise.all(document.getAnimations().map(a => a.finished)),
                                                new Promise(r => setTimeout(r, 1000))]); }"""
_FOCUSED = """async () => {
    await Promise.race([Promise.all(document.getAnimations().map(a => a.finished)),  /* the skip link fades in */
                        new Promise(r => setTimeout(r, 1000))]);
    let e = document.activeElement;
    if (!e || e === document.body) return null;
    if (e.classList.contains("md-option")) e = e.nextElementSibling;  /* the palette: its label shows the focus */
    const r = e.getBoundingClientRect();
    const kind = e.tagName + [...e.classList].filter(c => c !== "focus-visible").sort().join(".");
    return {name: e.tagName + " " + (e.textContent || e.getAttribute("aria-label") || "").trim().slice(0, 40),
            kind, search: Boolean(e.closest(".md-search")), box: [r.left, r.top, r.width, r.height],
            shown: e.checkVisibility({opacityProperty: true, visibilityProperty: true}) && r.width > 0 &&
                   r.height > 0 && r.right > 0 && r.bottom > 0 && r.left < innerWidth && r.top < innerHeight};
}"""


def _focus_stops(tab: Tab) -> tuple[list[str], int]:
    """Tab through the page: the focus stops outside Material's search dialog that are not on screen, and those
    of a kind (tag and classes) whose first stop looks the same focused and blurred (a screenshot of each); and
    how many stops there were (none would mean the keyboard reaches nothing)."""
    invisible: list[str] = []
    seen: set[str] = set()
    kinds: set[str] = set()
    for _ in range(400):
        tab.page.keyboard.press("Tab")
        stop = tab.page.evaluate(_FOCUSED)
        if stop is None or f"{stop['name']} {stop['box']}" in seen:  # back at the start
            return invisible, len(seen)
        seen.add(f"{stop['name']} {stop['box']}")
        if stop["search"] or (stop["shown"] and stop["kind"] in kinds):
            continue
        if not stop["shown"]:
            invisible.append(stop["name"])
            continue
        kinds.add(stop["kind"])
        left, top, width, height = stop["box"]
        screen = tab.page.viewport_size
        x, y = max(0, left - 3), max(0, top - 3)
        right, bottom = min(screen["width"], left + width + 3), min(screen["height"], top + height + 3)
        if right <= x or bottom <= y:  # off the screen (a mobile browser's viewport widened by an overflow)
            invisible.append(stop["name"])
            continue
        clip = {"x": x, "y": y, "width": right - x, "height": bottom - y}
        focused = tab.page.screenshot(clip=clip)
        tab.page.evaluate("() => { window.laFocused = document.activeElement; laFocused.blur(); }")
        tab.page.evaluate(_SETTLED)
        blurred = tab.page.screenshot(clip=clip)
        tab.page.evaluate("() => laFocused.focus({focusVisible: true})")
        if focused == blurred:
            invisible.append(stop["name"] + " (no focus indicator)")
    return invisible, len(seen)


@pytest.mark.parametrize("width", [DESKTOP["width"], PHONE["width"]])
def test_no_focus_stop_is_invisible(browser: Any, base_url: str, width: int) -> None:
    """Every stop of the Tab key on the main pages is on screen and shows its focus; on a phone the closed
    navigation drawer (slid off screen) and the closed search take no focus."""
    phone = width == PHONE["width"]
    viewport = PHONE if phone else DESKTOP
    found: dict[str, list[str]] = {}
    stops: dict[str, int] = {}
    with open_tab(browser, base_url, "light", viewport, touch=phone) as tab:
        for name, path in {**MAIN_PAGES, "changes": "changes/"}.items():
            tab.open(path)
            invisible, stops[name] = _focus_stops(tab)
            if invisible:
                found[name] = invisible
    assert found == {}
    assert min(stops.values()) >= 10, (
        stops
    )  # the keyboard reaches header, links, footer: 21 to 104 stops a page


def test_screenshots_of_the_main_pages(browser: Any, base_url: str) -> None:
    """Each main page at 1440×900 and 390×844, light and dark, in site-screenshots/ (ignored by git): each file is
    a PNG as wide as the screen and at least as tall, the whole page; light shots are light, dark shots dark."""
    SCREENSHOTS.mkdir(exist_ok=True)
    shots: dict[tuple[str, int, str], Shot] = {}
    for scheme in ("light", "dark"):
        for viewport in (DESKTOP, PHONE):
            with open_tab(browser, base_url, scheme, viewport) as tab:
                for name, path in MAIN_PAGES.items():
                    tab.open(path)
                    page_height = tab.page.evaluate("document.scrollingElement.scrollHeight")
                    shot = _screenshot(tab, SCREENSHOTS / f"{name}-{viewport['width']}-{scheme}.png")
                    assert (shot.width, shot.height) == (viewport["width"], page_height), (name, scheme)
                    assert shot.height >= viewport["height"], (name, scheme)
                    shots[name, viewport["width"], scheme] = shot
    assert len(shots) == len(MAIN_PAGES) * 4
    for (name, width, scheme), shot in shots.items():
        if scheme == "light":
            dark = shots[name, width, "dark"]
            assert shot.luminance > 0.7 > 0.3 > dark.luminance, (name, width, shot, dark)


def _search(tab: Tab, query: str) -> Any:
    tab.open("")
    tab.page.locator("input.md-search__input").click()
    tab.page.keyboard.type(query, delay=10)
    results = tab.page.locator(".md-search-result__item")
    results.first.wait_for(timeout=10_000)
    return results


def test_search_understands_word_forms(tab: Tab) -> None:
    """A word form finds its page: "merged" finds merging (search-worker.js searches each word's stem)."""
    results = _search(tab, "merged")
    assert tab.page.locator(".md-search-result__item > a[href*='/merging/']").count() >= 1
    assert results.count() >= 1


def test_search_keeps_a_model_size_whole(tab: Tab) -> None:
    """A model size is one word: "1.3B" finds the 1.3B model and highlights neither "14B" nor "148"."""
    _search(tab, "1.3B")
    marks = [m.casefold() for m in tab.page.locator(".md-search-result mark").all_inner_texts() if m.strip()]
    assert marks
    assert all(m.startswith("1.3b") for m in marks), marks


def _results(tab: Tab) -> list[tuple[str, str, str]]:
    """(address, title, shown text) of each search result, best first."""
    tab.page.wait_for_timeout(300)  # results arrive as the query is typed: let the last one settle
    return [
        (
            item.locator("a").first.get_attribute("href") or "",
            item.locator("article h1").first.inner_text(),
            item.locator("article").first.inner_text(),
        )
        for item in tab.page.locator(".md-search-result__item").all()
    ]


def test_a_number_in_a_query_is_a_whole_number(tab: Tab) -> None:
    """ "i2v 4 steps" ranks the Wan 2.2 I2V 4-step LoRAs first: "4" no longer matches "480p" (so the Wan 2.1
    480p LoRAs, which match "step" by their step distillation, come after them), and "4 steps" finds "4steps"."""
    _search(tab, "i2v 4 steps")
    results = _results(tab)
    assert len(results) >= 4
    wanted = [
        i for i, (_, title, _) in enumerate(results) if {"i2v", "4steps"} <= set(title.casefold().split("_"))
    ]
    resolution = [i for i, (_, title, _) in enumerate(results) if "480p" in title.casefold()]
    assert wanted[:2] == [0, 1]
    assert resolution
    assert max(wanted) < min(resolution)


def test_search_results_show_sentences_not_fact_tables(tab: Tab) -> None:
    """A LoRA found by name shows its sentence (generation, task, expert, family, repo), not a dump of its facts."""
    _search(tab, "Lightning_4steps")
    href, title, text = _results(tab)[0]
    assert "/loras/wan22-a14b-t2v-high-lightning-4steps-250928/" in href
    assert title == "Wan22_A14B_T2V_HIGH_Lightning_4steps_lora_250928_rank128_fp16"
    assert "A LoRA for Wan 2.2 T2V, for the high-noise expert, of the Lightning family" in text
    for cell in ("Fact", "SHA-256", "Repo", "hf download", "curl"):
        assert cell not in text, cell


def test_filters_live_in_the_address_survive_reload_and_back(tab: Tab, loras: dict[str, Any]) -> None:
    """A filter choice is in the URL, restored on reload and on a shared link; the back button undoes it."""
    tab.open("catalog/")
    everything = _visible_rows(tab)
    tab.page.select_option('select[data-la-filter="generation"]', "2.2")
    assert tab.page.url.endswith("catalog/?generation=2.2")
    shown = _visible_rows(tab)
    assert 0 < len(shown) < len(everything)
    tab.page.reload(wait_until="networkidle")
    assert tab.page.input_value('select[data-la-filter="generation"]') == "2.2"
    assert _visible_rows(tab) == shown
    tab.page.select_option('select[data-la-filter="family"]', loras[shown[0]].family)
    assert "generation=2.2" in tab.page.url
    assert "family=" in tab.page.url
    tab.page.go_back()
    tab.page.wait_for_function("document.querySelector('select[data-la-filter=\"family\"]').value === ''")
    assert _visible_rows(tab) == shown
    tab.open("catalog/?generation=2.1&unknown=1&task=nonsense")
    assert tab.page.input_value('select[data-la-filter="generation"]') == "2.1"
    assert tab.page.input_value('select[data-la-filter="task"]') == ""
    assert {loras[row].generation for row in _visible_rows(tab)} == {"2.1"}


def test_sorting_works_from_the_keyboard_and_says_so(tab: Tab) -> None:
    """Each sortable header holds a button; Enter on it sorts and the header's aria-sort tells the direction."""
    tab.open("catalog/")
    button = tab.page.locator("table.la-catalog thead th button.la-sort", has_text="Size")
    header = tab.page.locator("table.la-catalog thead th", has_text="Size")
    button.focus()
    tab.page.keyboard.press("Enter")
    assert header.get_attribute("aria-sort") == "ascending"
    ascending = [str(size) for size in sorted(SIZES.values())]
    assert _column(tab, "Size")[: len(SIZES)] == ascending
    tab.page.keyboard.press("Space")
    assert header.get_attribute("aria-sort") == "descending"
    assert tab.page.locator("table.la-catalog thead th[data-sort-method=none] button").count() == 0


def test_back_to_the_catalog_highlights_the_row(tab: Tab) -> None:
    """ "Back to the catalog" from a LoRA page lands on its row, highlighted and not under the sticky header."""
    lora_id = "fusionx-t2v-14b"
    tab.open(f"loras/{lora_id}/")
    tab.page.locator("article a", has_text="Back to the catalog").click()
    tab.page.wait_for_url(f"**/catalog/#{lora_id}")
    row = tab.page.locator(f'tr[id="{lora_id}"]')
    row.wait_for()
    tab.page.wait_for_function(f"document.getElementById('{lora_id}').classList.contains('la-target')")
    other = tab.page.locator("table.la-catalog tbody tr:not(.la-target)").first
    highlight = row.evaluate("r => getComputedStyle(r).boxShadow")
    assert highlight != "none"
    assert other.evaluate("r => getComputedStyle(r).boxShadow") == "none"
    top = row.evaluate("r => r.getBoundingClientRect().top")
    header_bottom = tab.page.locator("table.la-catalog thead").evaluate(
        "h => h.getBoundingClientRect().bottom"
    )
    assert top >= header_bottom - 1
    tab.open(f"catalog/#{lora_id}")  # a plain load of the address: CSS :target
    assert row.evaluate("r => getComputedStyle(r).boxShadow") != "none"


def test_catalog_is_readable_one_status_column_sticky_header_names_break_at_separators(tab: Tab) -> None:
    """Readable sizes, one status column (no column of "not yet" in every row), a sticky header, <wbr> in names."""
    tab.open("catalog/")
    table = tab.page.locator("table.la-catalog")
    headers = table.locator("thead th").all_inner_texts()
    assert len(headers) <= 10
    assert "Status" in headers
    cells = table.locator("tbody td")
    sizes = cells.evaluate_all("cs => cs.map(c => parseFloat(getComputedStyle(c).fontSize))")
    assert min(sizes) >= 13
    badges = table.locator(".la-badge:visible").evaluate_all(
        "bs => bs.map(b => parseFloat(getComputedStyle(b).fontSize))"
    )
    assert badges
    assert min(badges) >= 11
    for row in table.locator("tbody tr").all():
        assert row.inner_text().count("not yet") <= 1
    assert table.locator("thead").evaluate("head => getComputedStyle(head).position") == "sticky"
    tab.page.mouse.wheel(0, 1500)
    tab.page.wait_for_function(
        "document.querySelector('table.la-catalog thead').getBoundingClientRect().top < 80"
    )
    header = tab.page.locator("table.la-catalog thead").evaluate("head => head.getBoundingClientRect().top")
    assert 0 <= header < 80  # still on screen under Material's header after scrolling
    link = table.locator('tr[id="wan22-a14b-t2v-high-lightning-4steps-250928"] a.la-lora-link')
    assert link.locator("wbr").count() >= 3
    assert link.inner_text() == "Wan22_A14B_T2V_HIGH_Lightning_4steps_lora_250928_rank128_fp16"


# --- a catalog of a few hundred LoRAs: the first rows as HTML, the rest from the page's JSON (issue 25 point 5)


@pytest.fixture(scope="module", name="big")
def _big(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The site with 2.5 times FIRST_ROWS synthetic LoRAs added to the real data, served; and its data folder.
    The synthetic ids sort first (b-…), and the last is `constructor`, a name every JavaScript object has: a row
    the page holds only in its JSON, looked up by id."""
    data = make_catalog(FIRST_ROWS * 5 // 2, tmp_path_factory.mktemp("big-data"))
    synthetic = sorted((data / "loras").glob("synthetic-*.yaml"))
    for number, path in enumerate(synthetic):
        new_id = "constructor" if number == len(synthetic) - 1 else f"b-{path.stem}"
        path.with_name(f"{new_id}.yaml").write_text(
            path.read_text(encoding="utf-8").replace(f"id: {path.stem}", f"id: {new_id}"), encoding="utf-8"
        )
        path.unlink()
    site = build_site(make_project(tmp_path_factory.mktemp("big"), data))
    with serve_folder(site) as url:
        yield url, data


def _show_everything(tab: Tab) -> None:
    """Scroll to the end of the table until it holds every row that passes the filters."""
    more = tab.page.locator("p.la-more")
    for _ in range(50):
        if more.is_hidden():
            return
        tab.page.mouse.wheel(0, 100_000)
        tab.page.wait_for_timeout(100)
    raise AssertionError("the table never grew to its end")


def test_a_large_catalog_shows_its_first_rows_and_the_rest_as_the_reader_scrolls(
    browser: Any, big: tuple[str, Path]
) -> None:
    """The table starts with FIRST_ROWS rows and the count of all; scrolling down brings every other row, in the
    catalog's order, until the table holds them all."""
    base_url, data = big
    ids = sorted(p.stem for p in (data / "loras").glob("*.yaml"))
    with open_tab(browser, base_url, "light", DESKTOP) as tab:
        tab.open("catalog/")
        assert tab.page.locator("table.la-catalog tbody tr").count() == FIRST_ROWS
        assert tab.page.inner_text(".la-filter-count") == f"{len(ids)} of {len(ids)} shown"
        _show_everything(tab)
        assert _visible_rows(tab) == ids


def test_a_large_catalog_filters_and_sorts_every_row(browser: Any, big: tuple[str, Path]) -> None:
    """A filter counts and shows the rows of the whole catalog that pass, not only those in the table; a sort
    orders every row (numbers as numbers, unknown ranks last), in both directions."""
    base_url, data = big
    catalog = load_catalog(data, data.parent)
    family = [lora.id for lora in catalog.loras if lora.family == "Family3"]
    later = {lora.id for lora in catalog.loras[FIRST_ROWS:]}
    assert len(family) > 10
    assert later & set(family)  # some of the family lie beyond the rows the page holds as HTML
    with open_tab(browser, base_url, "light", DESKTOP) as tab:
        tab.open("catalog/")
        tab.page.select_option('select[data-la-filter="family"]', "Family3")
        assert tab.page.inner_text(".la-filter-count") == f"{len(family)} of {len(catalog.loras)} shown"
        _show_everything(tab)
        assert _visible_rows(tab) == family
        tab.page.select_option('select[data-la-filter="family"]', "")
        for direction in (1, -1):
            _sort_by(tab, "Rank")
            _show_everything(tab)
            ranks = _column(tab, "Rank")
            assert len(ranks) == len(catalog.loras)
            known = [float(rank) for rank in ranks if rank is not None]
            assert known == sorted(known, reverse=direction < 0)
            assert ranks[len(known) :] == [None] * (len(ranks) - len(known))
            assert len(set(known)) >= 4


def test_a_large_catalog_shows_the_row_its_address_names(browser: Any, big: tuple[str, Path]) -> None:
    """A link to a row past the first ones (a LoRA page's "Back to the catalog") shows it, highlighted, on screen."""
    base_url, data = big
    last = sorted(p.stem for p in (data / "loras").glob("*.yaml"))[-1]
    with open_tab(browser, base_url, "light", DESKTOP) as tab:
        tab.open(f"loras/{last}/")
        tab.page.locator("article a", has_text="Back to the catalog").click()
        shown = """id => { const row = document.getElementById(id);
            return Boolean(row) && row.classList.contains("la-target") &&
                   row.getBoundingClientRect().top >= 0 && row.getBoundingClientRect().top < innerHeight; }"""
        tab.page.wait_for_function(shown, arg=last, timeout=10_000)
    catalog = load_catalog(data, data.parent)
    family = [lora.id for lora in catalog.loras if lora.family == "Family3"]
    later = [
        lora_id
        for lora_id in family[:FIRST_ROWS]
        if lora_id not in {x.id for x in catalog.loras[:FIRST_ROWS]}
    ]
    assert later  # a row among the first that pass the filter, not among the rows the page holds as HTML
    with open_tab(browser, base_url, "light", DESKTOP) as tab:  # a filtered address with a #row
        tab.open(f"catalog/?family=Family3#{later[-1]}")
        tab.page.wait_for_function(shown, arg=later[-1], timeout=10_000)
    with open_tab(browser, base_url, "light", DESKTOP) as tab:  # the same, the rows' HTML arriving last
        held: list[Any] = []
        tab.page.route("**/catalog-rows-html.json", lambda route: held.append(route))
        tab.page.goto(f"{base_url}catalog/?family=Family3#{later[-1]}", wait_until="domcontentloaded")
        tab.page.wait_for_function("performance.getEntriesByName('la-catalog-ready').length > 0")
        assert tab.page.locator("form.la-filters").is_visible()  # the filters are ready without the HTML
        assert tab.page.evaluate(f"document.getElementById({later[-1]!r})") is None
        assert held  # the rows' HTML was asked for, and held
        tab.page.unroute(
            "**/catalog-rows-html.json"
        )  # the held requests go on (unroute lets them), later ones too
        tab.page.wait_for_function(shown, arg=later[-1], timeout=10_000)
        assert _visible_rows(tab) == family[: len(_visible_rows(tab))]


def test_without_javascript_every_lora_of_a_large_catalog_is_reachable(
    browser: Any, big: tuple[str, Path]
) -> None:
    """Without JavaScript the table holds the first rows and a list below it links every other LoRA's page."""
    base_url, data = big
    ids = sorted(p.stem for p in (data / "loras").glob("*.yaml"))
    context = browser.new_context(java_script_enabled=False, viewport=DESKTOP)
    try:
        page = context.new_page()
        page.goto(base_url + "catalog/")
        rows = page.locator("table.la-catalog tbody tr a.la-lora-link").evaluate_all(
            "as => as.map(a => a.href)"
        )
        listed = page.locator("ul.la-rest a").evaluate_all("as => as.map(a => a.href)")
        assert len(rows) == FIRST_ROWS
        assert page.locator("ul.la-rest").is_visible()
        assert page.locator("form.la-filters").is_hidden()
    finally:
        context.close()
    assert rows + listed == [f"{base_url}loras/{lora_id}/" for lora_id in ids]
