"""The shapes of what the pages show: small frozen records that :mod:`generator.site.context` fills and the
templates place as they are. No logic beyond reading a field.
"""

from __future__ import annotations

from dataclasses import dataclass

from generator.catalog import models as m
from generator.catalog.fit import Fit
from generator.catalog.identity import Identity
from generator.catalog.recipes import Recipe
from generator.catalog.snapshot import Candidate, LinkFact
from generator.lora.facts import HeaderFacts
from generator.site.howto import ModelHowTo
from generator.site.setups import BaseSetups


@dataclass(frozen=True)
class Candidates:
    """The newest candidates the changes page lists (a bounded number, whatever the count), and how many exist."""

    shown: tuple[Candidate, ...]
    total: int


@dataclass(frozen=True)
class Shown:
    """A value of a table cell: *claimed* by the file name, or read from the header (or '?' when neither)."""

    value: str
    claimed: bool


@dataclass(frozen=True)
class CompatCell:
    """One LoRA against one base model: the fit (verified or claimed) and what the LoRA was made for."""

    model: m.BaseModelEntry
    fit: Fit
    judged: bool
    """False when the header was read but its analysis did not judge the model's architecture."""
    use: str


@dataclass(frozen=True)
class LoraView:
    """Everything the catalog row, the compatibility row, the LoRA page and catalog.json show of a LoRA."""

    lora: m.Lora
    fact: LinkFact | None
    facts: HeaderFacts | None
    header_problem: str | None
    """Why the file's header could not be read, when it is not a readable safetensors file."""
    warnings: tuple[str, ...]
    """Where the header disagrees with the file name or the catalog entry."""
    compat: tuple[CompatCell, ...]
    """One cell per model of the catalog, in catalog order."""
    row_fits: tuple[Fit, ...]
    """The fit on each base model a reader can filter by (distilled checkpoints left out)."""
    made_for: tuple[str, ...]
    """Ids of the base models the LoRA was made for (:meth:`generator.catalog.fit.FitRules.made_for`)."""
    rank: Shown
    rank_sort: float | None
    precision: Shown
    claimed_rank: str
    fit_summary: str
    fit_title: str
    repo_link: m.HfLink
    download_url: str
    hf_command: str
    comfy_command: str
    siblings: tuple[m.Lora, ...]
    """The other noise expert's LoRA of the same release."""
    combos: tuple[m.Combination, ...]
    recipes: tuple[tuple[Recipe, str], ...]
    """The recipes that load the LoRA, each with where and at what strength."""
    mirrors: tuple[Mirror, ...] = ()
    """The other places publishing the file, each with whether the check found the same bytes there."""
    namesakes: tuple[tuple[m.Lora, Identity], ...] = ()
    """Other entries publishing a file of the same name, with whether their bytes are the same."""
    release: ReleaseView | None = None
    qualifier: str = ""
    """The comment's words that qualify its recommendation badge ('very good for 2.1'), shown in the badge."""

    @property
    def folder(self) -> str | None:
        """The folder above the file in its repo, if any."""
        folder, slash, _ = self.lora.file.path.rpartition("/")
        return folder if slash else None

    @property
    def size(self) -> int | None:
        """The file's size on the Hub, when known."""
        return self.fact.size if self.fact else None


@dataclass(frozen=True)
class Mirror:
    """A mirror of a LoRA's file: where, its Hub facts, and whether it holds the same bytes."""

    file: m.LoraFile
    fact: LinkFact | None
    identity: Identity


@dataclass(frozen=True)
class ReleaseView:
    """The release a LoRA's file belongs to: its other files and the catalog's other versions of it."""

    release: m.Release
    files: tuple[m.Lora, ...]
    """The release's other files (the other expert, other repos' copies)."""
    versions: tuple[tuple[m.Release, tuple[m.Lora, ...]], ...]
    """The other versions of the same release, each with its files."""


@dataclass(frozen=True)
class Unfetched:
    """A model a combination names without naming one file: a catalogued model without a file download,
    or a model only described ('some wan 2.2')."""

    expert: str
    model: m.BaseModelEntry | None = None
    note: str | None = None


@dataclass(frozen=True)
class ExpertView:
    """One noise expert of a combination: its LoRAs with strengths (None: unknown) and its model."""

    name: str
    setup: m.ExpertSetup | None
    loras: tuple[tuple[m.Lora, float | None], ...] | None
    model: m.BaseModelEntry | None
    note: str | None


@dataclass(frozen=True)
class Download:
    """One download a combination lists (its models' and its own), for one expert or both."""

    expert: str
    precision: str
    link: m.HfLink | str


@dataclass(frozen=True)
class CombinationView:
    """A combination with its experts, its ComfyUI commands and what they cannot fetch, its downloads."""

    combo: m.Combination
    experts: tuple[ExpertView, ...]
    commands: tuple[str, ...]
    unfetched: tuple[Unfetched, ...]
    downloads: tuple[Download, ...]


@dataclass(frozen=True)
class ModelView:
    """What a base model's page shows besides the entry itself."""

    model: m.BaseModelEntry
    size_class: str
    commands: tuple[str, ...]
    """curl commands for the downloads that name one file."""
    loras: tuple[m.Lora, ...]
    """The LoRAs made for this model (:meth:`generator.catalog.fit.FitRules.loras_made_for`)."""
    combos: tuple[m.Combination, ...]
    setups: BaseSetups | None
    downloads: tuple[m.ModelDownload, ...] = ()
    """The model's downloads, single files first (what ComfyUI's loader takes), then folders and pages."""
    how: ModelHowTo | None = None
    """How to run it: every cited setup that runs the model, each expert's stage a row (generator.site.howto)."""


@dataclass(frozen=True)
class Change:
    """One entry of the changes page: what it is, its title and where its page is."""

    kind: str
    entry: m.Lora | m.BaseModelEntry | m.Combination | m.SpecialUse | m.Release | Recipe
    title: str
    href: str
    purpose: str | None = None
