"""Every link of the catalog, deduplicated by snapshot key, with the data files that hold it."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from generator.catalog.models import HfLink, Link
from generator.catalog.snapshot import link_key
from generator.catalog.validate import Catalog


class UsageError(Exception):
    """A problem with the command line or the git state, reported with exit status 2."""


@dataclass(frozen=True)
class LinkRef:
    """One distinct link and the data files that hold it."""

    link: HfLink | str
    sources: tuple[str, ...]

    @property
    def key(self) -> str:
        """The snapshot key."""
        return link_key(self.link)


def catalog_links(catalog: Catalog, data: str = "data") -> Iterator[tuple[str, HfLink | str]]:
    """Every (data file, link) pair of the catalog: each Link field of each kind of entry."""
    for lora in catalog.loras:
        for file in lora.files:  # a mirror is checked like any file: its sha256 tells whether it is the same
            yield catalog.sources[f"loras/{lora.id}"], file.link
    for model in catalog.models:
        links = (model.source, *(download.link for download in model.downloads), model.workflow)
        yield from _pairs(catalog.sources[f"models/{model.id}"], links)
    for combo in catalog.combinations:
        yield from _pairs(catalog.sources[f"combinations/{combo.id}"], (d.link for d in combo.downloads))
    for use in catalog.special_use:
        yield catalog.sources[f"special-use/{use.id}"], use.link
    yield from _pairs(f"{data}/notes/rcm.yaml", (named.link for named in catalog.rcm.links))
    yield from _pairs(f"{data}/notes/merging.yaml", (catalog.merging.quote.source,))
    for release in catalog.releases:
        yield from _pairs(catalog.sources[f"releases/{release.id}"], (release.source,))


def _pairs(source: str, links: Iterator[Link | None] | tuple[Link | None, ...]) -> Iterator[tuple[str, Link]]:
    return ((source, link) for link in links if link is not None)


def collect(pairs: Iterator[tuple[str, HfLink | str]], only: set[str] | None = None) -> list[LinkRef]:
    """Distinct links sorted by key, each with its sorted data files; ``only`` keeps those files' links."""
    sources: dict[str, set[str]] = {}
    links: dict[str, HfLink | str] = {}
    for source, link in pairs:
        if only is None or source in only:
            links.setdefault(link_key(link), link)
            sources.setdefault(link_key(link), set()).add(source)
    return [LinkRef(links[key], tuple(sorted(sources[key]))) for key in sorted(links)]


def changed_files(root: Path, ref: str) -> set[str]:
    """Data files (relative to root) that differ from the git ref, via ``git diff --name-only``."""
    command = ["git", "-C", str(root), "diff", "--name-only", "--relative", ref, "--", "data/"]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise UsageError(f"--changed-since {ref}: {result.stderr.strip() or 'git diff failed'}")
    return {line.strip() for line in result.stdout.splitlines() if line.strip()}
