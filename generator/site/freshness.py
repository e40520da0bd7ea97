"""When the data is from: the "data as of" every page states, the Changes page's weeks, the templates package
each setup was read from.

Between views and context in the site stage (… → views → freshness → context → …): pure functions of the
validated catalog and the snapshot. There is no clock. "Data as of" is the newest committed fact, or the date of
the commit being built when the build is given one the way reproducible builds are, through SOURCE_DATE_EPOCH
(read by the `build` stage, see :func:`commit_date`). The commit's date wins: the data is known to hold on the
day it was committed, which is never before its newest fact; a commit date before the newest fact (a clock
that was wrong, a rewritten history) is not believed, and the newest fact is stated instead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from generator.catalog.recipes import Recipe
from generator.catalog.releases import files_of
from generator.catalog.snapshot import Snapshot
from generator.catalog.validate import Catalog
from generator.site.views import Change

_EPOCH = dt.date(1970, 1, 1)
FROM_COMMIT = "the date of the commit this site was built from"
FROM_FACTS = "the date of the newest fact in the catalog"


@dataclass(frozen=True)
class Edition:
    """What one build adds to the committed data, both optional and neither from a clock: the date of the
    commit being built (SOURCE_DATE_EPOCH) and the site's address (mkdocs.yml's site_url, for the feed)."""

    commit_date: dt.date | None = None
    site_url: str | None = None


def commit_date(value: str | None) -> dt.date | None:
    """SOURCE_DATE_EPOCH (whole seconds since 1970-01-01 UTC) as a UTC date; None when unset or empty.

    A value that is not a whole number of seconds is refused with ValueError, as the reproducible-builds
    specification asks: a build must not quietly ignore the date it was given.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    if not text.isascii() or not text.isdigit():
        raise ValueError(f"not whole seconds since 1970-01-01 UTC: {value!r}")
    seconds = int(text)
    if seconds > 253_402_300_799:  # 9999-12-31T23:59:59Z, the last second a date can hold
        raise ValueError(f"past the year 9999: {value!r}")
    return _EPOCH + dt.timedelta(seconds=seconds)


class _Dated(Protocol):
    @property
    def added(self) -> dt.date: ...


@dataclass(frozen=True)
class AsOf:
    """The date every page states its data as of, and what that date is."""

    date: dt.date
    source: str
    """FROM_COMMIT or FROM_FACTS."""


def newest_fact(catalog: Catalog, snapshot: Snapshot) -> dt.date:
    """The newest date the committed data holds: an entry added (LoRA, model, combination, special use,
    release, setup), a file dismissed, or the last Hub check that changed a fact."""
    added: tuple[_Dated, ...] = (
        *catalog.loras,
        *catalog.models,
        *catalog.combinations,
        *catalog.special_use,
        *catalog.releases,
        *catalog.recipes,
    )
    dates = [entry.added for entry in added] + [item.dismissed for item in catalog.dismissed]
    checked = _date(snapshot.checked_at)
    if checked is not None:
        dates.append(checked)
    return max(dates, default=_EPOCH)


def _date(time: str | None) -> dt.date | None:
    """The date of a snapshot time, or None when it holds none: a snapshot validates its times, but pages are
    rendered from whatever snapshot they are given, and a time that is no date tells no date."""
    try:
        return dt.date.fromisoformat((time or "")[:10])
    except ValueError:
        return None


def as_of(newest: dt.date, commit: dt.date | None) -> AsOf:
    """The commit's date when one is given and is not older than the newest fact; else the newest fact."""
    if commit is not None and commit >= newest:
        return AsOf(commit, FROM_COMMIT)
    return AsOf(newest, FROM_FACTS)


@dataclass(frozen=True)
class Week:
    """The changes of one week, Monday to Sunday."""

    start: dt.date
    changes: tuple[Change, ...]

    @property
    def end(self) -> dt.date:
        """The week's Sunday."""
        return self.start + dt.timedelta(days=6)

    @property
    def anchor(self) -> str:
        """The week's id on the Changes page: 'week-2026-11-30'."""
        return f"week-{self.start.isoformat()}"


def weeks(changes: Sequence[Change]) -> list[Week]:
    """The changes (newest first) grouped by the week they were added in, newest week first, order kept."""
    found: dict[dt.date, list[Change]] = {}
    for change in changes:
        added = change.entry.added
        found.setdefault(added - dt.timedelta(days=added.weekday()), []).append(change)
    return [Week(start, tuple(items)) for start, items in sorted(found.items(), reverse=True)]


@dataclass(frozen=True)
class TemplatesImport:
    """One version of a templates package the setups were read from, and when those setups were added."""

    package: str
    version: str
    recipes: int
    first_added: dt.date
    last_added: dt.date


def templates_imports(recipes: Iterable[Recipe]) -> list[TemplatesImport]:
    """Per package and version, how many setups were read from it and when they were added (the importer keeps
    a setup's first `added` date when it reads it again), newest version first."""
    found: dict[tuple[str, str], list[dt.date]] = {}
    for recipe in recipes:
        found.setdefault((recipe.source.package, recipe.source.version), []).append(recipe.added)
    imports = [
        TemplatesImport(package, version, len(dates), min(dates), max(dates))
        for (package, version), dates in found.items()
    ]
    return sorted(imports, key=lambda item: (item.last_added, item.package, item.version), reverse=True)


MODEL_KINDS = {"base": "base model", "distilled": "distilled model", "variant": "model of its own"}
"""How the changes page names each kind of model entry."""


def changes(c: Catalog) -> list[Change]:
    """Every dated entry, newest first (by `added`, then kind and id: deterministic), linked to where it is shown."""
    found = [
        *(Change("LoRA", e, e.file.stem, f"loras/{e.id}.md") for e in c.loras),
        *(Change(MODEL_KINDS[e.kind], e, e.name, f"models/{e.id}.md") for e in c.models),
        *(
            Change("release", e, e.title, f"loras/{files[0].id}.md#release")
            for e in c.releases
            if (files := files_of(c, e))
        ),
        *(Change("combination", e, e.title, f"combinations.md#{e.id}") for e in c.combinations),
        *(Change("special use", e, e.label, "special-use.md", e.purpose) for e in c.special_use),
        *(Change("setup", e, e.title, f"setups.md#{e.id}") for e in c.recipes),
    ]
    found.sort(key=lambda ch: (ch.kind, ch.entry.id))
    found.sort(key=lambda ch: ch.entry.added, reverse=True)
    return found
