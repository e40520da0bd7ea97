"""The built site in headless Chromium: pages load cleanly, sort, filter, search, dark mode, nothing leaves 127.0.0.1.

The real site is built from the real data plus a Hub snapshot fixture with known sizes and header facts, served by
a stdlib HTTP server on 127.0.0.1 and driven through Python playwright with Debian's chromium (no browser download).
Screenshots of the catalog page in light and dark mode go to site-screenshots/ for reviewers.
"""

from __future__ import annotations

import functools
import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import sync_playwright

from generator.catalog.snapshot import LinkFact, Snapshot, dump_snapshot, link_key
from generator.catalog.validate import load_catalog
from tests.catalog_scenario import facts_json
from tests.safetensors_factory import make_lora_header
from tests.sitebuild import ROOT, build_site, make_project

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
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


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """No access log on stderr."""


@pytest.fixture(scope="module", name="base_url")
def _base_url(site: Path) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()
    thread.join()


def _chromium_path() -> str:
    found = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(found).exists():
        message = "chromium is not installed (apt-get install chromium); browser tests need it"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


@pytest.fixture(scope="module", name="browser")
def _browser() -> Iterator[Any]:
    executable = _chromium_path()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class Tab:
    """One browser page with everything it requested and every error it logged."""

    page: Any
    base_url: str
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def open(self, path: str) -> None:
        """Load a page of the site and wait until its scripts have run."""
        self.page.goto(self.base_url + path, wait_until="networkidle")

    def outside_requests(self) -> list[str]:
        """Requests to anything but 127.0.0.1 (data: and blob: URLs stay in the page)."""
        return [url for url in self.requests if not _is_local(url)]


def _is_local(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("data", "blob") or (
        parts.scheme in ("http", "https", "ws", "wss") and parts.hostname == "127.0.0.1"
    )


@pytest.fixture(name="tab")
def _tab(browser: Any, base_url: str) -> Iterator[Tab]:
    """A fresh light-mode context per test; after the test, no request may have left 127.0.0.1."""
    context = browser.new_context(color_scheme="light", viewport={"width": 1400, "height": 900})
    tab = Tab(context.new_page(), base_url)
    tab.page.on("request", lambda request: tab.requests.append(request.url))
    tab.page.on("console", lambda msg: tab.errors.append(msg.text) if msg.type == "error" else None)
    tab.page.on("pageerror", lambda error: tab.errors.append(str(error)))
    yield tab
    context.close()
    assert tab.requests, "the recorder saw no request at all"
    assert tab.outside_requests() == []


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


def test_filters_hide_rows(tab: Tab) -> None:
    """Choosing a generation hides the other rows; the count says how many are shown."""
    tab.open("catalog/")
    everything = _visible_rows(tab)
    tab.page.select_option('select[data-la-filter="generation"]', "2.2")
    shown = _visible_rows(tab)
    assert 0 < len(shown) < len(everything)
    generations = [tab.page.get_attribute(f'tr[id="{row}"]', "data-generation") for row in shown]
    assert set(generations) == {"2.2"}
    assert tab.page.inner_text(".la-filter-count") == f"{len(shown)} of {len(everything)} shown"
    tab.page.select_option('select[data-la-filter="generation"]', "")
    assert _visible_rows(tab) == everything


def test_fits_my_model_uses_header_facts_and_keeps_uninspected_rows_marked(tab: Tab) -> None:
    """A LoRA the header says does not fit is hidden; fitting ones stay; uninspected ones stay, marked."""
    tab.open("catalog/")
    everything = _visible_rows(tab)
    tab.page.select_option('select[data-la-filter="fits"]', "wan2.2-t2v-a14b")
    shown = _visible_rows(tab)
    assert "wan22-a14b-t2v-high-lightning-4steps-250928" in shown
    assert "fusionx-t2v-14b" not in shown
    assert len(shown) == len(everything) - 1
    hint = tab.page.locator('tr[id="wan22-a14b-t2v-low-lightning-4steps-250928"] .la-fit-hint')
    assert hint.is_visible()
    assert not tab.page.locator(
        'tr[id="wan22-a14b-t2v-high-lightning-4steps-250928"] .la-fit-hint'
    ).is_visible()


def test_catalog_links_each_lora_page_with_download_and_command(tab: Tab) -> None:
    """A LoRA's name leads to its page, which has the hf download command in a copyable code block."""
    tab.open("catalog/")
    row = tab.page.locator('tr[id="wan22-a14b-t2v-high-lightning-4steps-250928"]')
    assert "/resolve/main/" in (row.locator("a[download]").get_attribute("href") or "")
    command = row.locator("code.la-cmd").text_content() or ""
    assert command.startswith("hf download Kijai/WanVideo_comfy LoRAs/")
    assert row.locator("button[data-clipboard-text]").get_attribute("data-clipboard-text") == command
    row.locator("a.la-lora-link").click()
    tab.page.wait_for_url("**/loras/wan22-a14b-t2v-high-lightning-4steps-250928/")
    article = tab.page.locator("article")
    assert "1.25 GB (1,253,192,432 bytes)" in article.inner_text()
    assert "2026-12-01" in article.inner_text()
    assert article.locator("pre code").inner_text().startswith("hf download ")
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


def test_dark_mode_toggle_switches_the_scheme_and_screenshots(tab: Tab) -> None:
    """The palette toggle switches data-md-color-scheme; screenshots of both schemes are written."""
    tab.open("catalog/")
    SCREENSHOTS.mkdir(exist_ok=True)
    body = tab.page.locator("body")
    assert body.get_attribute("data-md-color-scheme") == "default"
    tab.page.screenshot(path=str(SCREENSHOTS / "catalog-light.png"), full_page=True)
    tab.page.locator("form[data-md-component=palette] label:visible").first.click()
    tab.page.wait_for_function("document.body.getAttribute('data-md-color-scheme') === 'slate'")
    tab.page.screenshot(path=str(SCREENSHOTS / "catalog-dark.png"), full_page=True)
    assert (SCREENSHOTS / "catalog-dark.png").stat().st_size > 0
