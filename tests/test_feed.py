"""Freshness from the data (issue 25 point 2): the Atom feed of changes, "data as of" on every page, the
Changes page by week, the templates package's version and date, and two builds of one commit writing the
same bytes.

The feed is parsed with xml.etree, as a feed reader would read it, and checked against entries read from the
fixture data directly (never against the generator's own list of changes). Builds run the `build` stage, which
reads SOURCE_DATE_EPOCH and mkdocs.yml's site_url, into a scratch folder.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from bench.bench_render import LORA
from generator.catalog.snapshot import load_snapshot
from generator.catalog.validate import load_catalog
from generator.cli import main
from generator.site.feed import FEED_ENTRIES
from generator.site.freshness import Edition, commit_date
from generator.site.render import render_pages
from tests.sitebuild import ROOT

FIXTURE = Path(__file__).parent / "fixtures" / "catalog"
A = "{http://www.w3.org/2005/Atom}"
SITE = "https://example.github.io/lora-alchemy/"
DAY = 86_400


def _project(tmp_path: Path, data: Path = FIXTURE, site_url: str | None = SITE) -> Path:
    root = tmp_path / "project"
    shutil.copytree(data, root / "data")
    if site_url:
        (root / "mkdocs.yml").write_text(f"site_name: x\nsite_url: {site_url}\n", encoding="utf-8")
    return root


def _build(root: Path, monkeypatch: pytest.MonkeyPatch, epoch: str | None = None) -> dict[str, bytes]:
    """Run `generator build` on root (with SOURCE_DATE_EPOCH when given); every file it wrote, as bytes."""
    if epoch is None:
        monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    else:
        monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch)
    docs = root / "docs"
    assert main(["--root", str(root), "build", "--docs", str(docs)]) == 0
    return {p.relative_to(docs).as_posix(): p.read_bytes() for p in sorted(docs.rglob("*")) if p.is_file()}


def _dated(data: Path) -> list[tuple[dt.date, str, str]]:
    """(added, page address, title) of every dated entry, read from the YAML files themselves."""
    catalog = load_catalog(data, data.parent)
    found = [
        *((e.added, f"loras/{e.id}/", e.file.stem) for e in catalog.loras),
        *((e.added, f"models/{e.id}/", e.name) for e in catalog.models),
        *((e.added, f"combinations/#{e.id}", e.title) for e in catalog.combinations),
        *((e.added, "special-use/", e.label) for e in catalog.special_use),
        *((e.added, f"setups/#{e.id}", e.title) for e in catalog.recipes),
    ]
    return sorted(found, key=lambda item: item[0], reverse=True)


def _href(entry: ET.Element) -> str:
    """The address an entry links to (its one link element)."""
    link = entry.find(f"{A}link")
    assert link is not None
    return link.get("href") or ""


def _feed(text: bytes) -> ET.Element:
    root = ET.fromstring(text)  # noqa: S314 - the generator's own output, parsed as a feed reader would
    assert root.tag == f"{A}feed"
    return root


def test_the_feed_is_atom_and_lists_the_newest_changes_with_their_pages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A feed reader finds the required Atom elements; every entry is a dated entry of the data, newest first,
    dated by its `added` day, linked to its page on the site (which the build wrote), with a unique, permanent id."""
    files = _build(_project(tmp_path), monkeypatch)
    feed = _feed(files["feed.xml"])
    dated = _dated(FIXTURE)
    assert feed.findtext(f"{A}title") == "Lora Alchemy: changes"
    assert (
        feed.findtext(f"{A}updated") == f"{dated[0][0]}T00:00:00Z"
    )  # the newest entry, not the build's clock
    assert (feed.findtext(f"{A}author/{A}name") or "").strip()
    links = {link.get("rel"): link.get("href") for link in feed.findall(f"{A}link")}
    assert links == {"self": f"{SITE}feed.xml", "alternate": f"{SITE}changes/"}
    entries = feed.findall(f"{A}entry")
    assert len(entries) == min(FEED_ENTRIES, len(dated)) == len(dated)
    ids = [entry.findtext(f"{A}id") or "" for entry in entries]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"urn:uuid:[0-9a-f-]{36}", i) for i in ids)
    expected = {(f"{added}T00:00:00Z", SITE + page, title) for added, page, title in dated}
    seen = set()
    for entry in entries:
        href = _href(entry)
        title = entry.findtext(f"{A}title") or ""
        updated = entry.findtext(f"{A}updated") or ""
        match = [item for item in expected if item[:2] == (updated, href) and title.endswith(f": {item[2]}")]
        assert len(match) == 1, (title, href)
        seen.add(match[0])
        assert (entry.findtext(f"{A}summary") or "").strip()
        page = href.removeprefix(SITE).split("#")[0]
        assert f"{page.rstrip('/') or 'index'}.md" in files  # the page the entry links to was written
    assert len(seen) == len(expected)
    dates = [entry.findtext(f"{A}updated") or "" for entry in entries]
    assert dates == sorted(dates, reverse=True)


def test_feed_ids_stay_when_the_site_moves_and_links_follow_it() -> None:
    """The same entries keep their ids at another address; without an address the links are relative to the
    feed, which sits at the site's root."""
    catalog = load_catalog(FIXTURE, FIXTURE.parent)
    snapshot = load_snapshot(FIXTURE / "hub-snapshot.json")
    feeds = [
        _feed(render_pages(catalog, snapshot, edition=Edition(site_url=url))["feed.xml"].encode())
        for url in (SITE, "https://other.example/catalog", None)
    ]
    ids = [[e.findtext(f"{A}id") for e in feed.findall(f"{A}entry")] for feed in feeds]
    assert ids[0] == ids[1] == ids[2]
    hrefs = [[_href(e) for e in feed.findall(f"{A}entry")] for feed in feeds]
    assert all(h.startswith(SITE) for h in hrefs[0])
    assert [h.removeprefix(SITE) for h in hrefs[0]] == [
        h.removeprefix("https://other.example/catalog/") for h in hrefs[1]
    ]
    assert [h.removeprefix(SITE) for h in hrefs[0]] == hrefs[2]


def test_the_feed_holds_the_newest_changes_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With more changes than the feed holds, it keeps the newest FEED_ENTRIES, newest first."""
    data = tmp_path / "data"
    shutil.copytree(FIXTURE, data)
    for n in range(FEED_ENTRIES + 10):
        expert = ("high", "low")[n % 2]
        text = LORA.format(
            n=n,
            r=n,
            f=n % 7,
            expert=expert,
            expert_upper=expert.upper(),
            rank=64,
            month=1 + n % 12,
            day=1 + n % 28,
        )
        (data / "loras" / f"synthetic-{n:05d}.yaml").write_text(text, encoding="utf-8")
    files = _build(_project(tmp_path, data), monkeypatch)
    entries = _feed(files["feed.xml"]).findall(f"{A}entry")
    newest = [f"{added}T00:00:00Z" for added, _, _ in _dated(data)[:FEED_ENTRIES]]
    assert [entry.findtext(f"{A}updated") for entry in entries] == newest


def _as_of(page: str) -> tuple[str, str]:
    """The date and its source from the "Data as of" line every page ends with."""
    found = re.search(r"\nData as of \*\*(\d{4}-\d\d-\d\d)\*\* \(([^)]+)\)", page)
    assert found, page[-300:]
    return found.group(1), found.group(2)


def test_every_page_states_when_its_data_is_from(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a commit date every page says the newest committed fact (read here from the data and snapshot);
    with SOURCE_DATE_EPOCH the commit's date, unless that is older than the newest fact."""
    root = _project(tmp_path)
    newest = max(
        max(added for added, _, _ in _dated(FIXTURE)),
        dt.date.fromisoformat((load_snapshot(FIXTURE / "hub-snapshot.json").checked_at or "1970-01-01")[:10]),
    )
    pages = {k: v.decode() for k, v in _build(root, monkeypatch).items() if k.endswith(".md")}
    assert len(pages) > 20
    assert {_as_of(page) for page in pages.values()} == {
        (newest.isoformat(), "the date of the newest fact in the catalog")
    }
    later = newest + dt.timedelta(days=9)
    epoch = (later - dt.date(1970, 1, 1)).days * DAY + 3600
    pages = {k: v.decode() for k, v in _build(root, monkeypatch, str(epoch)).items() if k.endswith(".md")}
    assert {_as_of(page) for page in pages.values()} == {
        (later.isoformat(), "the date of the commit this site was built from")
    }
    earlier = (newest - dt.date(1970, 1, 1)).days * DAY - DAY
    pages = {k: v.decode() for k, v in _build(root, monkeypatch, str(earlier)).items() if k.endswith(".md")}
    assert {_as_of(page)[0] for page in pages.values()} == {newest.isoformat()}


@pytest.mark.parametrize("value", ["yesterday", "-5", "1.5", "12e3", "٣٣", "99999999999999"])
def test_a_malformed_commit_date_stops_the_build(
    value: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A SOURCE_DATE_EPOCH that is not whole seconds since 1970 is named, exit 1, and nothing is written."""
    root = _project(tmp_path)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", value)
    assert main(["--root", str(root), "build"]) == 1
    assert capsys.readouterr().out.startswith("SOURCE_DATE_EPOCH:1:1: ")
    assert not (root / "docs").exists()


def test_commit_date_reads_seconds_since_1970_in_utc() -> None:
    assert commit_date(None) is None
    assert commit_date("") is None
    assert commit_date("0") == dt.date(1970, 1, 1)
    assert commit_date("1764547199") == dt.date(2025, 11, 30)  # 23:59:59 UTC, whatever the local zone
    assert commit_date(" 1764547200\n") == dt.date(2025, 12, 1)


def test_two_builds_of_one_commit_write_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two builds of the same data in two folders, files written in another order, give the same bytes for every
    generated file (the feed included), with and without a commit date."""
    first = _project(tmp_path / "a")
    second = _project(tmp_path / "b")
    for file in sorted((second / "data").rglob("*.yaml"), reverse=True):
        file.write_bytes(file.read_bytes())
    for epoch in (None, "1780000000"):
        assert _build(first, monkeypatch, epoch) == _build(second, monkeypatch, epoch)


def test_changes_are_grouped_by_week_newest_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Changes page has one section per week (Monday to Sunday) holding exactly the entries added in it, the
    newest week first."""
    data = tmp_path / "data"
    shutil.copytree(FIXTURE, data)
    lora = (data / "loras").glob("*.yaml").__next__()
    lora.write_text(re.sub(r"(?m)^added: .*$", "added: 2026-12-09", lora.read_text()), encoding="utf-8")
    page = _build(_project(tmp_path, data), monkeypatch)["changes.md"].decode()
    sections = re.split(
        r"\n## Week of (\d{4}-\d\d-\d\d) \{ #week-\1 \}\n", page.split("## Not in the catalog yet")[0]
    )
    starts = [dt.date.fromisoformat(day) for day in sections[1::2]]
    assert starts == sorted(set(starts), reverse=True)
    assert len(starts) == 2
    shown = 0
    for start, body in zip(starts, sections[2::2], strict=True):
        assert start.weekday() == 0
        for added in re.findall(r"(?m)^\| (\d{4}-\d\d-\d\d) \|", body):
            assert start <= dt.date.fromisoformat(added) <= start + dt.timedelta(days=6)
            shown += 1
    assert shown == len(_dated(data))


def test_not_in_the_catalog_yet_says_whether_discovery_has_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No followed folder: discovery has not run yet. Followed folders and no candidate: how many are followed
    and the snapshot's date."""
    page = _build(_project(tmp_path), monkeypatch)["changes.md"].decode()
    assert "discovery has not run yet" in page.split("## Not in the catalog yet")[1]
    data = tmp_path / "followed"
    shutil.copytree(FIXTURE, data)
    snapshot = load_snapshot(FIXTURE / "hub-snapshot.json")
    followed = snapshot.model_copy(update={"followed": {"a/b:loras": ("x.safetensors",), "c/d:": ()}})
    (data / "hub-snapshot.json").write_text(followed.model_dump_json(), encoding="utf-8")
    text = _build(_project(tmp_path / "second", data), monkeypatch)["changes.md"].decode()
    after = " ".join(text.split("## Not in the catalog yet")[1].split())
    assert "follows 2 folders holding a catalogued LoRA" in after
    assert f"snapshot of {snapshot.checked_at[:10]}" in after  # type: ignore[index]
    assert "has not run" not in after


def test_setups_and_home_page_name_the_templates_package_version_and_dates() -> None:
    """The Setups page and the home page say which package version the official recipes were read from, how many,
    and when they were added (read here from data/recipes/)."""
    catalog = load_catalog(ROOT / "data", ROOT)
    assert catalog.recipes
    pages = render_pages(catalog, load_snapshot(ROOT / "data" / "hub-snapshot.json"))
    versions: dict[tuple[str, str], list[dt.date]] = {}
    for recipe in catalog.recipes:
        versions.setdefault((recipe.source.package, recipe.source.version), []).append(recipe.added)
    for page in (pages["setups.md"], pages["index.md"]):
        text = " ".join(page.replace("\\", "").split())
        for (package, version), dates in versions.items():
            when = f"on {dates[0]}" if min(dates) == max(dates) else f"from {min(dates)} to {max(dates)}"
            assert (
                f"{package} {version} ({len(dates)} setup{'s' if len(dates) > 1 else ''}, added {when})"
                in text
            )
