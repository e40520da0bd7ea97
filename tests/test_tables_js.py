"""docs/javascripts/tables.js in headless Chromium on a one-table page: the #fragment that names a row.

No site build: the page holds one table, the vendored tablesort and tables.js as the site loads them, and a
stand-in for Material's ``document$`` (the only thing the script takes from the theme). Issue 26, point 7:
a malformed %-escape in the fragment threw URIError at load and on every hash change.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browsing import Tab, open_tab, serve_folder

pytestmark = [pytest.mark.browser]

SCRIPTS = Path(__file__).resolve().parent.parent / "docs" / "javascripts"
VENDOR = ("vendor/tablesort-5.3.0.min.js", "vendor/tablesort.number-5.3.0.min.js")
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>t</title><link rel="icon" href="data:,"></head><body><article>
<table><thead><tr><th>LoRA</th></tr></thead>
<tbody><tr id="wan-x"><td>x</td></tr><tr id="é-lora"><td>y</td></tr></tbody></table>
</article>
<script>var document$ = { subscribe: function (run) { run(); } };  /* Material's observable, stood in */</script>
{scripts}
</body></html>
"""


@pytest.fixture(scope="module", name="base_url")
def _base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("tables-js")
    for name in (*VENDOR, "tables.js"):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SCRIPTS / name, folder / name)
    scripts = "\n".join(f'<script src="{name}"></script>' for name in (*VENDOR, "tables.js"))
    (folder / "index.html").write_text(PAGE.replace("{scripts}", scripts), encoding="utf-8")
    with serve_folder(folder) as url:
        yield url


@pytest.fixture(name="tab")
def _tab(browser: Any, base_url: str) -> Iterator[Tab]:
    with open_tab(browser, base_url, "light", {"width": 800, "height": 600}) as tab:  # asserts no error
        yield tab


def marked(tab: Tab) -> list[str]:
    """The ids of the rows the script highlights."""
    found: list[str] = tab.page.eval_on_selector_all("tr.la-target", "rows => rows.map(r => r.id)")
    return found


def go_to(tab: Tab, fragment: str) -> None:
    """Change the address's fragment as a click on a link would (a hashchange, no reload)."""
    tab.page.evaluate("fragment => { window.location.hash = fragment; }", fragment)
    tab.page.wait_for_function("fragment => window.location.hash === fragment", arg=fragment)
    tab.page.evaluate("() => new Promise(done => setTimeout(done, 50))")  # the hashchange handler ran


@pytest.mark.parametrize("fragment", ["#%E0%A4%A", "#%", "#wan-x%"])
def test_a_malformed_fragment_at_load_throws_nothing_and_marks_nothing(tab: Tab, fragment: str) -> None:
    """A truncated %-escape in the address the page is opened with: no error, no row marked, and the
    table is still made sortable (the script went on past the fragment)."""
    tab.open("index.html" + fragment)
    assert marked(tab) == []
    assert tab.page.locator("th button.la-sort").count() == 1


def test_a_malformed_fragment_on_hash_change_throws_nothing(tab: Tab) -> None:
    """Moving to a malformed fragment clears the mark and throws nothing; well-formed fragments, escaped
    or not, still mark their row afterwards."""
    tab.open("index.html#wan-x")
    assert marked(tab) == ["wan-x"]
    go_to(tab, "#%E0%A4%A")
    assert marked(tab) == []
    go_to(tab, "#%C3%A9-lora")
    assert marked(tab) == ["é-lora"]
    go_to(tab, "#wan-x")
    assert marked(tab) == ["wan-x"]
