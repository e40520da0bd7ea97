"""feed.xml: an Atom feed (RFC 4287) of the catalog's changes, which every page links from its head.

After context in the site stage (… → context → catalog_json → feed → render): the Changes page's entries,
newest first, the newest FEED_ENTRIES of them. Pure and stable, so two builds write the same bytes: an entry is
dated by its `added` date and the feed by its newest entry (never by the build's clock), and each id is a name
based UUID of the entry's kind and id, so it stays the same when the site moves to another address. Links are
absolute when the build knows the site's address (mkdocs.yml's site_url), else relative to the feed, which
sits at the site's root.
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from urllib.parse import urljoin

from generator.catalog import models as m
from generator.catalog.recipes import Recipe
from generator.site.context import Context
from generator.site.views import Change

FEED_ENTRIES = 50
"""How many of the newest changes the feed holds."""
FEED_PATH = "feed.xml"
ATOM = "http://www.w3.org/2005/Atom"
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_DNS, "lora-alchemy.github.io")
"""The namespace of every id in the feed (a fixed name: ids do not follow the site's address)."""


def feed_xml(ctx: Context) -> str:
    """The Atom feed of the newest changes, as UTF-8 XML text."""
    changes = ctx.changes()[:FEED_ENTRIES]
    site = ctx.catalog.site
    feed = ET.Element("feed", xmlns=ATOM)
    _text(feed, "id", _urn("feed:changes"))
    _text(feed, "title", f"{site.title}: changes")
    _text(feed, "subtitle", site.tagline)
    _text(feed, "updated", _stamp(changes[0].entry.added if changes else ctx.as_of.date))
    ET.SubElement(feed, "link", rel="self", type="application/atom+xml", href=_url(ctx, FEED_PATH))
    ET.SubElement(feed, "link", rel="alternate", type="text/html", href=_url(ctx, "changes/"))
    author = ET.SubElement(feed, "author")
    _text(author, "name", f"{site.title} contributors")
    for change in changes:
        _entry(ctx, feed, change)
    ET.indent(feed)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="unicode") + "\n"


def _entry(ctx: Context, feed: ET.Element, change: Change) -> None:
    entry = ET.SubElement(feed, "entry")
    _text(entry, "id", _urn(f"{change.kind}:{change.entry.id}"))
    _text(entry, "title", f"{change.kind[:1].upper()}{change.kind[1:]} added: {change.title}")
    _text(entry, "updated", _stamp(change.entry.added))
    ET.SubElement(entry, "link", rel="alternate", type="text/html", href=_url(ctx, _page_url(change.href)))
    ET.SubElement(entry, "category", term=change.kind)
    _text(entry, "summary", summary(change))


def summary(change: Change) -> str:
    """One sentence or two on what was added, from the entry's own fields (nothing is made up)."""
    entry = change.entry
    if isinstance(entry, m.Lora):
        expert = f", {entry.expert}-noise expert" if entry.expert else ""
        said = f" {entry.comment}" if entry.comment else ""
        return f"A LoRA for Wan {entry.generation} {entry.task}{expert}, of the {entry.family} family.{said}"
    if isinstance(entry, m.BaseModelEntry):
        architecture = f", architecture {entry.architecture}" if entry.architecture else ""
        return f"A Wan {entry.generation} {entry.task} model ({change.kind}){architecture}."
    if isinstance(entry, Recipe):
        source = entry.source
        return f"A setup read from {source.package} {source.version}, template {source.template}."
    if isinstance(entry, m.Combination):
        who = "the catalog's original page" if entry.source == "seed" else "its contributor"
        return f"A combination of LoRAs and models that {who} calls good; nobody here has tested it."
    if isinstance(entry, m.SpecialUse):
        return f"For {entry.purpose}: {entry.label}."
    return f"A {change.kind}: {change.title}."


def _text(parent: ET.Element, tag: str, text: str) -> None:
    ET.SubElement(parent, tag).text = text


def _urn(name: str) -> str:
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, name)}"


def _stamp(day: object) -> str:
    """An Atom date-time: the day at midnight UTC (the catalog dates its entries by the day)."""
    return f"{day}T00:00:00Z"


def _page_url(href: str) -> str:
    """A page's address from its Markdown path, as MkDocs serves it: 'loras/x.md' -> 'loras/x/',
    'setups.md#id' -> 'setups/#id', 'index.md' -> ''."""
    path, hash_mark, fragment = href.partition("#")
    stem = path.removesuffix(".md")
    page = "" if stem == "index" else f"{stem.removesuffix('/index')}/"
    return page + hash_mark + fragment


def _url(ctx: Context, path: str) -> str:
    base = ctx.edition.site_url
    return urljoin(base if base.endswith("/") else base + "/", path) if base else path
