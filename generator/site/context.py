"""What the pages show, computed once from the catalog and the snapshot: the templates only place it.

Fifth step of the site stage (filters → commands → setups → views → context → catalog_json → render). One
:class:`Context` per render: each LoRA's view (its Hub facts, header facts, fits, what it was made for, commands,
siblings, combinations, recipes) is built on first use and kept, so the catalog row, the compatibility row,
the LoRA page and catalog.json share it; the indexes behind them (siblings, combinations, recipes by LoRA)
are built once. Fits and "made for" are :mod:`generator.catalog.fit`'s, the one definition of both.
Pure, like the rest of rendering: no clock, no network, catalog order.
"""

from __future__ import annotations

import datetime as dt
from functools import cached_property

from generator.catalog import models as m
from generator.catalog.contradictions import file_contradictions
from generator.catalog.fit import FitRules
from generator.catalog.identity import entry_identity, mirror_identity, namesakes
from generator.catalog.recipes import Recipe
from generator.catalog.releases import files_of, other_versions
from generator.catalog.snapshot import (
    LinkFact,
    Snapshot,
    facts_of,
    link_key,
    unreadable_of,
)
from generator.catalog.validate import Catalog
from generator.lora.architectures import ARCHITECTURES
from generator.lora.comfyui_loader import COMFYUI_LABEL
from generator.lora.facts import HeaderFacts
from generator.lora.filename import sibling_stem
from generator.site.commands import comfy_command, hf_command
from generator.site.freshness import (
    AsOf,
    Edition,
    TemplatesImport,
    Week,
    as_of,
    changes,
    newest_fact,
    templates_imports,
    weeks,
)
from generator.site.howto import HowTo, HowToRun
from generator.site.setups import (
    BaseSetups,
    RecipeView,
    model_setups,
    other_recipes,
    recipes_using,
    setups_by_base,
)
from generator.site.views import (
    Candidates,
    Change,
    CombinationView,
    CompatCell,
    Download,
    ExpertView,
    LoraView,
    Mirror,
    ModelView,
    ReleaseView,
    Shown,
    Unfetched,
)
from generator.site.workflows import Workflows, workflows
from generator.vocabulary import hub_download_url

MADE_FOR_THIS = "made for this model"
CANDIDATES_SHOWN = 50  # the changes page lists this many newest candidates, whatever the count
_EPOCH = dt.date(1970, 1, 1)


def _sibling_key(lora: m.Lora) -> tuple[str, ...]:
    """What two experts of one release share: the release the entries name, else family, generation, task,
    folder and the name without expert, rank and precision."""
    if lora.release is not None:
        return ("release", lora.release)
    folder = lora.file.path.rpartition("/")[0]
    stem = sibling_stem(lora.file.path).casefold()
    return (lora.family, lora.generation, lora.task, lora.file.repo, folder, stem)


BADGE_WORDS = {"recommended": "recommended", "worth-trying": "worth a try", "deprecated": "deprecated"}
"""The one word (or two) of each recommendation badge."""


def badge_qualifier(lora: m.Lora) -> str:
    """The comment's words a recommendation badge would leave out: its comma-separated parts but 'new' and the
    badge's own word ('very good for 2.1' stays with 'recommended'; 'new, recommended' adds nothing)."""
    word = BADGE_WORDS.get(lora.recommendation)
    if word is None or not lora.comment:
        return ""
    parts = [part.strip() for part in lora.comment.split(",")]
    return ", ".join(part for part in parts if part and part.casefold() not in {"new", word})


def rank_text(facts: HeaderFacts) -> str:
    """The rank the header shows: '64', 'adaptive 100–196 (mean 148)' or 'no LoRA pairs'."""
    rank = facts.rank
    if rank.kind == "uniform":
        return str(rank.nominal)
    if rank.kind == "adaptive":
        return (
            f"adaptive {rank.min}–{rank.max} (mean {rank.mean:.0f})" if rank.mean is not None else "adaptive"
        )
    return "no LoRA pairs"


class Context:
    """The catalog, the snapshot, and every view the templates place (see the module's docstring)."""

    def __init__(self, catalog: Catalog, snapshot: Snapshot, edition: Edition | None = None) -> None:
        self.catalog = catalog
        self.snapshot = snapshot
        self.edition = edition or Edition()
        """The commit's date and the site's address, when the build gives them (freshness.Edition)."""
        self.snapshot_date = snapshot.checked_at[:10] if snapshot.checked_at else None
        """Date of the last check (from the snapshot), or None if never checked."""
        self._views: dict[str, LoraView] = {}
        self.fit_rules = FitRules(catalog)
        """Claimed and verified fits, made for (one definition, issue 19)."""
        self.comfyui = COMFYUI_LABEL
        """The ComfyUI release the verified fits describe."""

    # --- dates ---------------------------------------------------------------------------------------------

    @cached_property
    def latest_change(self) -> dt.date:
        """The catalog's latest change: the newest `added` date of any entry (deterministic)."""
        return max((entry.added for entry in self._dated), default=_EPOCH)

    @cached_property
    def first_day(self) -> dt.date:
        """The day the catalog began (the seed's import): its entries are never 'recently added'."""
        return min((entry.added for entry in self._dated), default=_EPOCH)

    @property
    def _dated(self) -> tuple[m.Lora | m.BaseModelEntry | m.Combination, ...]:
        return (*self.catalog.loras, *self.catalog.models, *self.catalog.combinations)

    @cached_property
    def as_of(self) -> AsOf:
        """The date every page states its data as of (freshness.as_of)."""
        return as_of(newest_fact(self.catalog, self.snapshot), self.edition.commit_date)

    def weeks(self) -> list[Week]:
        """The changes, week by week, newest first."""
        return weeks(self.changes())

    @cached_property
    def templates_imports(self) -> list[TemplatesImport]:
        """The templates package versions the setups were read from, and when."""
        return templates_imports(self.catalog.recipes)

    def recently_added(
        self, entry: m.Lora | m.Combination | m.BaseModelEntry | m.SpecialUse | m.Release | Recipe
    ) -> bool:
        """Added after the first day and within site.new_days of the latest change (computed, not said)."""
        age = (self.latest_change - entry.added).days
        return entry.added > self.first_day and age < self.catalog.site.new_days

    # --- snapshot ------------------------------------------------------------------------------------------

    def fact(self, link: m.HfLink | str) -> LinkFact | None:
        """The snapshot's facts for a link, if it was ever checked."""
        return self.snapshot.fact(link_key(link))

    def _size(self, link: m.HfLink) -> int | None:
        fact = self.fact(link)
        return fact.size if fact else None

    def verified_counts(self) -> tuple[int, int, int]:
        """(LoRA files checked on the Hub, LoRA headers inspected, LoRAs): what the home page says is verified."""
        views = [self.lora(lora) for lora in self.catalog.loras]
        checked = sum(1 for view in views if view.fact is not None)
        return checked, sum(1 for view in views if view.facts is not None), len(views)

    def candidates(self) -> Candidates:
        """The newest files that appeared next to catalogued ones (from the snapshot), at most CANDIDATES_SHOWN.

        A followed folder may fill with thousands of files: the page and the search index stay small whatever
        the count; the weekly check's report lists them all. Newest first, then by repo and path.
        """
        found = sorted(self.snapshot.candidates.values(), key=lambda c: (c.repo, c.path))
        found.sort(key=lambda c: c.found_at, reverse=True)
        return Candidates(tuple(found[:CANDIDATES_SHOWN]), len(found))

    # --- LoRAs ---------------------------------------------------------------------------------------------

    def lora(self, lora: m.Lora) -> LoraView:
        """The LoRA's view, built on first use."""
        view = self._views.get(lora.id)
        if view is None:
            view = self._views[lora.id] = self._lora_view(lora)
        return view

    @cached_property
    def _how(self) -> HowToRun:
        return HowToRun(self.catalog, self.fit_rules)

    def how_to_run(self, lora: m.Lora) -> HowTo:
        """What the LoRA page answers first: how to run it, each value with its source (generator.site.howto)."""
        return self._how.lora(lora, self.lora(lora).siblings)

    def intended_use(self, lora: m.Lora, model: m.BaseModelEntry) -> str:
        """What the LoRA was made for, next to a base model (:meth:`FitRules.made_for`): this model, or the
        models it was made for. A fit is not advice: a high-noise LoRA fits the low-noise expert, yet was not
        made for it."""
        rules = self.fit_rules
        if rules.is_made_for(lora, model):
            return MADE_FOR_THIS
        made = rules.made_for(lora)
        if not made:
            return "made for: no base model named"
        return "made for " + ", ".join(self.catalog.model(model_id).name for model_id in made)

    def _lora_view(self, lora: m.Lora) -> LoraView:
        fact = self.fact(lora.file.link)
        facts = facts_of(self.snapshot, lora)
        cells = tuple(self._compat_cell(lora, model, facts) for model in self.catalog.models)
        bases = [cell for cell in cells if cell.model.kind == "base"]
        warnings = file_contradictions(facts, lora, fact.size if fact else None) if facts else []
        return LoraView(
            lora=lora,
            fact=fact,
            facts=facts,
            header_problem=None if facts else unreadable_of(self.snapshot, lora),
            warnings=tuple(warnings),
            compat=cells,
            row_fits=tuple(cell.fit for cell in bases),
            made_for=self.fit_rules.made_for(lora),
            rank=_rank(lora, facts),
            rank_sort=_rank_sort(lora, facts),
            precision=_precision(lora, facts),
            claimed_rank=_claimed_rank(lora),
            fit_summary=_fit_summary(facts),
            fit_title=_fit_title(facts),
            repo_link=m.HfLink(kind="repo", repo=lora.file.repo),
            download_url=hub_download_url(lora.file.repo, lora.file.path),
            hf_command=hf_command(lora.file.repo, lora.file.path),
            comfy_command=comfy_command(lora.file.repo, lora.file.path, "lora", fact.size if fact else None),
            siblings=tuple(
                other
                for other in self._siblings.get(_sibling_key(lora), ())
                if other.id != lora.id and {other.expert, lora.expert} == {"high", "low"}
            ),
            combos=tuple(self._combos_by_lora.get(lora.id, ())),
            recipes=tuple(self._recipes_by_lora.get(lora.id, ())),
            mirrors=tuple(
                Mirror(mirror, self.fact(mirror.link), mirror_identity(self.snapshot, lora, mirror))
                for mirror in lora.mirrors
            ),
            namesakes=tuple(
                (other, entry_identity(self.snapshot, lora, other))
                for other in self._namesakes.get(lora.id, ())
            ),
            release=self._release_view(lora),
            qualifier=badge_qualifier(lora),
        )

    def _release_view(self, lora: m.Lora) -> ReleaseView | None:
        """The LoRA's release with its other files and the catalog's other versions of it."""
        if lora.release is None:
            return None
        release = self.catalog.release(lora.release)
        others = tuple(other for other in files_of(self.catalog, release) if other.id != lora.id)
        versions = tuple((v, files_of(self.catalog, v)) for v in other_versions(self.catalog, release))
        return ReleaseView(release, others, versions)

    @cached_property
    def _namesakes(self) -> dict[str, tuple[m.Lora, ...]]:
        return namesakes(self.catalog)

    def _compat_cell(self, lora: m.Lora, model: m.BaseModelEntry, facts: HeaderFacts | None) -> CompatCell:
        judged = facts is None or model.architecture in facts.fits
        use = self.intended_use(lora, model)
        return CompatCell(model, self.fit_rules.fit(lora, model, facts), judged, use)

    @cached_property
    def _siblings(self) -> dict[tuple[str, ...], list[m.Lora]]:
        found: dict[tuple[str, ...], list[m.Lora]] = {}
        for lora in self.catalog.loras:
            found.setdefault(_sibling_key(lora), []).append(lora)
        return found

    @cached_property
    def _combos_by_lora(self) -> dict[str, list[m.Combination]]:
        found: dict[str, list[m.Combination]] = {}
        for combo in self.catalog.combinations:
            for lora in self._loras_of(combo):
                found.setdefault(lora.id, []).append(combo)
        return found

    @cached_property
    def _recipes_by_lora(self) -> dict[str, list[tuple[Recipe, str]]]:
        return recipes_using(self.catalog)

    def _loras_of(self, combo: m.Combination) -> list[m.Lora]:
        """The LoRAs a combination uses, in order, once each."""
        ids: list[str] = []
        for setup in (combo.high, combo.low):
            for use in (setup.loras or ()) if setup else ():
                if use.lora not in ids:
                    ids.append(use.lora)
        return [self.catalog.lora(i) for i in ids]

    # --- models, combinations, setups ----------------------------------------------------------------------

    def model(self, model: m.BaseModelEntry) -> ModelView:
        """What a base model's page shows."""
        return ModelView(
            model=model,
            size_class=ARCHITECTURES[model.architecture].size_class
            if model.architecture
            else "layout not known",
            commands=tuple(self._model_command(link) for link in _file_links(model)),
            loras=self.fit_rules.loras_made_for(model),
            combos=tuple(
                combo
                for combo in self.catalog.combinations
                if any(setup is not None and setup.model == model.id for setup in (combo.high, combo.low))
            ),
            setups=model_setups(self.catalog, model),
            how=self._how.model(model),
            downloads=tuple(sorted(model.downloads, key=lambda d: not _is_file(d.link))),
        )

    @cached_property
    def setups(self) -> list[BaseSetups]:
        """The Setups page's sections, one per base model."""
        return setups_by_base(self.catalog)

    @cached_property
    def other_recipes(self) -> list[RecipeView]:
        """Recipes for models of their own, after the base models' sections."""
        return other_recipes(self.catalog)

    @cached_property
    def workflows(self) -> Workflows:
        """Each card's "Download workflow (.json)" (or why there is none) and the files it links to."""
        return workflows(self.catalog)

    def combination(self, combo: m.Combination) -> CombinationView:
        """What the combinations page (and the Setups page) shows of a combination."""
        experts = tuple(
            self._expert(name, setup) for name, setup in (("high", combo.high), ("low", combo.low))
        )
        downloads = [
            Download(expert.name, d.precision, d.link)
            for expert in experts
            if expert.model is not None
            for d in expert.model.downloads
        ]
        downloads += [Download(d.expert or "both", d.precision, d.link) for d in combo.downloads]
        commands, unfetched = self._combo_downloads(combo, experts)
        return CombinationView(combo, experts, tuple(commands), tuple(unfetched), tuple(downloads))

    def _expert(self, name: str, setup: m.ExpertSetup | None) -> ExpertView:
        loras = None
        if setup is not None and setup.loras is not None:
            loras = tuple((self.catalog.lora(use.lora), use.strength) for use in setup.loras)
        model = self.catalog.model(setup.model) if setup is not None and setup.model else None
        return ExpertView(name, setup, loras, model, setup.model_note if setup else None)

    def _combo_downloads(
        self, combo: m.Combination, experts: tuple[ExpertView, ...]
    ) -> tuple[list[str], list[Unfetched]]:
        """One curl command per file the combination names exactly (its LoRAs, its models' file downloads),
        and what it names without a single file, shown as such, never guessed."""
        commands = [self.lora(lora).comfy_command for lora in self._loras_of(combo)]
        others: list[Unfetched] = []
        for expert in experts:
            if expert.setup is None:
                continue
            if expert.model is None:
                others.append(Unfetched(expert.name, note=expert.setup.model_note or "not named"))
                continue
            files = _file_links(expert.model)
            commands += [self._model_command(link) for link in files]
            if not files:
                others.append(Unfetched(expert.name, model=expert.model))
        for download in combo.downloads:
            link = download.link
            if isinstance(link, m.HfLink) and link.kind == "file" and link.path is not None:
                commands.append(comfy_command(link.repo, link.path, "lora", self._size(link)))
            # a folder is listed with the combination's downloads: the reader picks the file
        return list(dict.fromkeys(commands)), others

    def _model_command(self, link: m.HfLink) -> str:
        """The curl command that puts a model file into ComfyUI/models/diffusion_models/."""
        assert link.path is not None
        return comfy_command(link.repo, link.path, "model", self._size(link))

    # --- the changes page ----------------------------------------------------------------------------------

    def changes(self) -> list[Change]:
        """Every dated entry, newest first (freshness.changes)."""
        return changes(self.catalog)


def _is_file(link: m.HfLink | str) -> bool:
    return isinstance(link, m.HfLink) and link.kind == "file"


def _file_links(model: m.BaseModelEntry) -> list[m.HfLink]:
    """The model's downloads that name one file (folders cannot be fetched by name)."""
    return [d.link for d in model.downloads if isinstance(d.link, m.HfLink) and d.link.kind == "file"]


def _rank(lora: m.Lora, facts: HeaderFacts | None) -> Shown:
    claimed = lora.claimed
    if facts is not None:
        return Shown(rank_text(facts), claimed=False)
    if claimed.rank == "adaptive":
        average = f" (avg {claimed.average_rank})" if claimed.average_rank else ""
        return Shown(f"adaptive{average}", claimed=True)
    return Shown(str(claimed.rank), claimed=True) if claimed.rank else Shown("?", claimed=False)


def _rank_sort(lora: m.Lora, facts: HeaderFacts | None) -> float | None:
    """The rank the catalog sorts by: the header's (nominal, else mean), else the name's."""
    if facts is not None:
        return facts.rank.nominal or facts.rank.mean
    claimed = lora.claimed
    return claimed.average_rank or (claimed.rank if isinstance(claimed.rank, int) else None)


def _precision(lora: m.Lora, facts: HeaderFacts | None) -> Shown:
    if facts is not None:
        return Shown(facts.precision.label, claimed=False)
    precision = lora.claimed.precision
    return Shown(precision, claimed=True) if precision else Shown("?", claimed=False)


def _claimed_rank(lora: m.Lora) -> str:
    """The rank as the name claims it, for the LoRA page: '64', 'adaptive (average 148)', 'not stated'."""
    claimed = lora.claimed
    if claimed.rank == "adaptive":
        return "adaptive" + (f" (average {claimed.average_rank})" if claimed.average_rank else "")
    return str(claimed.rank or "not stated")


def _fit_summary(facts: HeaderFacts | None) -> str:
    """'fits 2, 1 partly': how many architectures the header fits, fully and in part."""
    verdicts = [verdict.verdict for verdict in facts.fits.values()] if facts else []
    partly = verdicts.count("partial")
    return f"fits {verdicts.count('fits')}" + (f", {partly} partly" if partly else "")


def _fit_title(facts: HeaderFacts | None) -> str:
    """'Wan 2.1 T2V 14B: fits; …': the header's verdict per architecture, as the status cell's tooltip."""
    if facts is None:
        return ""
    return "; ".join(
        f"{ARCHITECTURES[arch].label if arch in ARCHITECTURES else arch}: {verdict.verdict}"
        for arch, verdict in sorted(facts.fits.items())
    )
