"""How to run it: for a LoRA and for a base model, what each source cites, every value with its source.

A step of the site stage (filters → commands → setups → howto → views → context → …): pure functions of the
validated catalog and the fit rules. Readers come with one question: on my model, which LoRA on the high expert
and which on the low, at what strength, with how many steps, which CFG, shift and sampler. The answer is never
merged across sources: each row is one source's setup (a recipe's path read from an official template, or a
combination of the seed or of a contributor), each value that source's, or "no cited value".

A LoRA's rows come from the recipes that load this very file; then from those that load another version of the
same release (same generation, task and expert, on a model this file was made for), labelled with the version
they were cited for (:func:`generator.catalog.releases.version_label`); then from the combinations that use it.
For a LoRA made for one expert of Wan 2.2, the other expert: what the same setups put there, or, when no setup
cites the file, what the setups of that expert's model put there, and whether the LoRA's source says anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

from generator.catalog import models as m
from generator.catalog.fit import FitRules
from generator.catalog.recipes import Recipe, RecipePath, RecipeStage
from generator.catalog.releases import files_of, other_versions, release_of, version_label
from generator.catalog.validate import Catalog
from generator.site.filters import number, strength_text
from generator.site.setups import Quote, shift_text, steps_text

NO_VALUE = "no cited value"
OTHER_EXPERT = {"high": "low", "low": "high"}
SAID_BY = {"seed": "The original page", "contributor": "Its contributor"}


@dataclass(frozen=True)
class Use:
    """A LoRA on a stage: its catalog id (None when not listed), its name, its strength as cited."""

    lora: str | None
    name: str
    strength: str
    bypassed: bool = False


@dataclass(frozen=True)
class Run:
    """One stage of one cited setup: what runs on one expert (or on the one model), each value as that source
    gives it, or NO_VALUE."""

    setup: str
    """The setup's title: a recipe's (an official template) or a combination's."""
    detail: str
    """Which path of the template ('switch … on, the template opens with this path') or whose combination."""
    href: str
    """Where the setup is shown, from the site's root ('setups/#wan2-2-14b-t2v')."""
    stage: str
    """'high expert', 'low expert' or 'model'."""
    model: str
    model_id: str | None
    uses: tuple[Use, ...] | None
    """The LoRAs on the stage; None when the source leaves them unknown ('?')."""
    steps: str
    cfg: str
    shift: str
    sampler: str
    strength: str = NO_VALUE
    """On a LoRA's page: this file's strength on the stage."""
    mine: str | None = None
    """On a LoRA's page: the id of the file whose strength ``strength`` is (the others are listed beside)."""
    label: str | None = None
    """For a setup cited for another version of the release: which version it was cited for."""
    cited_file: m.Lora | None = None
    """That other version's file."""
    words: str | None = None
    """A combination's notes: the words of its source, as written ('2.5 str on high')."""
    recipe: Recipe | None = None
    path: RecipePath | None = None
    combo: m.Combination | None = None


@dataclass(frozen=True)
class Caveat:
    """A template's words of warning or guidance, once, with every place it stands."""

    text: str
    cites: tuple[str, ...]


@dataclass(frozen=True)
class OtherExpert:
    """For a LoRA made for one Wan 2.2 expert: what the sources put on the other one."""

    expert: str
    model: m.BaseModelEntry | None
    runs: tuple[Run, ...]
    same_setups: bool
    """True when the rows are the other stage of the setups that cite this file (or its other version);
    False when none does and they are what the setups of the other expert's model put there."""
    silent: str | None = None
    """'The original page': the LoRA's source names no LoRA for the other expert with this file."""


@dataclass(frozen=True)
class HowTo:
    """A LoRA's "How to run it": its rows, the templates' caveats, its source's words, the other expert."""

    runs: tuple[Run, ...]
    caveats: tuple[Caveat, ...]
    words: str | None
    said_by: str | None
    other: OtherExpert | None


@dataclass(frozen=True)
class ModelHowTo:
    """A base model's "How to run it": every cited setup that runs it, each expert's stage as a row."""

    runs: tuple[Run, ...]
    caveats: tuple[Caveat, ...]


def _split(stage: RecipeStage) -> int | None:
    """The step where the high expert hands over: the high stage's end, the low stage's start."""
    if stage.end_step is not None and not stage.start_step:
        return stage.end_step
    return stage.start_step or None


def _steps(stage: RecipeStage, path: RecipePath) -> str:
    steps = steps_text(stage)
    if steps is None:
        return NO_VALUE
    split = _split(stage)
    shown = f"{steps}, split at {split}" if split is not None else steps
    return shown + (" (from the template's note)" if "steps" in path.from_note else "")


def _cfg(stage: RecipeStage, path: RecipePath) -> str:
    if stage.cfg is None:
        return NO_VALUE
    return number(stage.cfg) + (" (from the template's note)" if "cfg" in path.from_note else "")


def _detail(recipe: Recipe, path: RecipePath) -> str:
    """The path's label, whether the template opens with it, and the bypassed group it ships as."""
    name = "lora_path" if path is recipe.lora_path else "default_path"
    opens = ", the template opens with this path" if recipe.opens_with == name else ""
    group = f"; shipped as the bypassed group ‘{path.group}’ (enable it with Ctrl+B)" if path.group else ""
    return f"{path.label}{opens}{group}"


class HowToRun:
    """The "How to run it" of every LoRA and base model; the recipes' stages are indexed once."""

    def __init__(self, catalog: Catalog, rules: FitRules) -> None:
        self.catalog = catalog
        self.rules = rules
        self.recipes = sorted(catalog.recipes, key=lambda r: r.variant is not None)
        """The recipes, those of the plain base models before the variants', else in catalog order."""
        self._loads: dict[str, list[tuple[Recipe, RecipePath, RecipeStage]]] = {}
        for recipe in self.recipes:
            for path in _paths(recipe):
                for stage in path.stages:
                    for lora_id in dict.fromkeys(use.lora for use in stage.loras if use.lora):
                        assert lora_id is not None
                        self._loads.setdefault(lora_id, []).append((recipe, path, stage))

    # --- rows ----------------------------------------------------------------------------------------------

    def _model(self, model_id: str | None, fallback: str | None) -> tuple[str, str | None]:
        if model_id is not None:
            return self.catalog.model(model_id).name, model_id
        return fallback or NO_VALUE, None

    def recipe_run(
        self, recipe: Recipe, path: RecipePath, stage: RecipeStage, lora_id: str | None = None
    ) -> Run:
        """A recipe path's stage as a row; with ``lora_id``, that LoRA's strength on it."""
        model, model_id = self._model(stage.model, stage.model_file)
        uses = tuple(Use(u.lora, u.file, strength_text(u.strength), u.bypassed) for u in stage.loras)
        mine = [u for u in stage.loras if lora_id is not None and u.lora == lora_id]
        return Run(
            setup=recipe.title,
            detail=_detail(recipe, path),
            href=f"setups/#{recipe.id}",
            stage=f"{stage.expert} expert" if stage.expert else "model",
            model=model,
            model_id=model_id,
            uses=uses,
            steps=_steps(stage, path),
            cfg=_cfg(stage, path),
            shift=shift_text(stage) or NO_VALUE,
            sampler=(stage.sampler or NO_VALUE) + (f" / {stage.scheduler}" if stage.scheduler else ""),
            strength=", ".join(strength_text(u.strength) for u in mine if u.strength is not None) or NO_VALUE,
            mine=lora_id,
            recipe=recipe,
            path=path,
        )

    def combo_run(self, combo: m.Combination, expert: str, lora_id: str | None = None) -> Run:
        """A combination's expert as a row: its model and LoRAs; it cites no steps, CFG, shift or sampler."""
        setup = combo.high if expert == "high" else combo.low
        assert setup is not None
        model, model_id = self._model(setup.model, setup.model_note)
        uses = None
        if setup.loras is not None:
            uses = tuple(
                Use(u.lora, self.catalog.lora(u.lora).file.stem, _strength(u.strength)) for u in setup.loras
            )
        strength = next((u.strength for u in setup.loras or () if u.lora == lora_id), None)
        who = "the original page's combination" if combo.source == "seed" else "a contributor's combination"
        return Run(
            setup=combo.title,
            detail=who + ("; allegedly good, not tested here" if combo.source == "seed" else ""),
            href=f"combinations/#{combo.id}",
            stage=f"{expert} expert",
            model=model,
            model_id=model_id,
            uses=uses,
            steps=NO_VALUE,
            cfg=NO_VALUE,
            shift=NO_VALUE,
            sampler=NO_VALUE,
            strength=_strength(strength),
            mine=lora_id,
            words=combo.notes,
            combo=combo,
        )

    # --- a LoRA --------------------------------------------------------------------------------------------

    def _own(self, lora: m.Lora) -> list[Run]:
        return [self.recipe_run(r, p, s, lora.id) for r, p, s in self._loads.get(lora.id, ())]

    def _other_versions(self, lora: m.Lora) -> list[Run]:
        """Rows of the recipes that load another version's file of this release on a model this file was made
        for, labelled with the version they were cited for."""
        release = release_of(self.catalog, lora)
        if release is None:
            return []
        made_for = set(self.rules.made_for(lora))
        found = []
        for version in other_versions(self.catalog, release):
            for other in files_of(self.catalog, version):
                if (other.generation, other.task, other.expert) != (lora.generation, lora.task, lora.expert):
                    continue
                label = version_label(self.catalog, other, lora)
                for recipe, path, stage in self._loads.get(other.id, ()):
                    if stage.model in made_for:
                        run = self.recipe_run(recipe, path, stage, other.id)
                        found.append(_labelled(run, label, other))
        return found

    def _combos(self, lora: m.Lora) -> list[Run]:
        return [
            self.combo_run(combo, expert, lora.id)
            for combo in self.catalog.combinations
            for expert, setup in (("high", combo.high), ("low", combo.low))
            if setup is not None and any(u.lora == lora.id for u in setup.loras or ())
        ]

    def lora(self, lora: m.Lora, siblings: tuple[m.Lora, ...] = ()) -> HowTo:
        """A LoRA's "How to run it"."""
        runs = (*self._own(lora), *self._other_versions(lora), *self._combos(lora))
        words = lora.comment if lora.source in SAID_BY else None
        other = self._other_expert(lora, runs, siblings)
        return HowTo(
            runs=runs,
            caveats=caveats(run.recipe for run in (*runs, *(other.runs if other else ()))),
            words=words,
            said_by=SAID_BY.get(lora.source) if words else None,
            other=other,
        )

    def _other_expert(
        self, lora: m.Lora, runs: tuple[Run, ...], siblings: tuple[m.Lora, ...]
    ) -> OtherExpert | None:
        stages = {run.stage for run in runs}
        named = lora.expert or (stages.pop().split()[0] if len(stages) == 1 else "")
        expert = OTHER_EXPERT.get(named)  # a LoRA for one expert, or one its setups put on one expert only
        if expert is None:
            return None
        partner = self._partner(lora, expert)
        same = tuple(self._partner_runs(runs, expert))
        if same:
            return OtherExpert(expert, partner, same, same_setups=True)
        silent = None
        if lora.source in SAID_BY and not siblings and not any(run.combo for run in runs):
            silent = SAID_BY[lora.source]
        found = tuple(self.model_runs(partner, expert)) if partner is not None else ()
        return OtherExpert(expert, partner, found, same_setups=False, silent=silent)

    def _partner(self, lora: m.Lora, expert: str) -> m.BaseModelEntry | None:
        """The base model of the other expert, for the architecture this LoRA was made for."""
        archs = [self.catalog.model(i).architecture for i in self.rules.made_for(lora)]
        return next(
            (
                model
                for model in self.catalog.models
                if model.kind == "base" and model.expert == expert and model.architecture in archs
            ),
            None,
        )

    def _partner_runs(self, runs: tuple[Run, ...], expert: str) -> Iterator[Run]:
        """The other expert's stage of each setup a row comes from, once each."""
        seen: set[tuple[str, str]] = set()
        for run in runs:
            rows: list[Run] = []
            if run.recipe is not None and run.path is not None:
                rows = [
                    self.recipe_run(run.recipe, run.path, s) for s in run.path.stages if s.expert == expert
                ]
            elif (
                run.combo is not None and (run.combo.high if expert == "high" else run.combo.low) is not None
            ):
                rows = [self.combo_run(run.combo, expert)]
            for row in rows:
                if (row.href, row.detail) not in seen:
                    seen.add((row.href, row.detail))
                    yield row

    # --- a base model --------------------------------------------------------------------------------------

    def model_runs(self, model: m.BaseModelEntry, expert: str | None = None) -> Iterator[Run]:
        """Every stage (or, with ``expert``, that expert's stage) of each cited setup that runs the model: the
        recipes' paths that load it, then the combinations that name it."""
        for recipe in self.recipes:
            for path in _paths(recipe):
                if not any(stage.model == model.id for stage in path.stages):
                    continue
                for stage in path.stages:
                    if expert is None or stage.expert == expert:
                        yield self.recipe_run(recipe, path, stage)
        for combo in self.catalog.combinations:
            named = [(e, s) for e, s in (("high", combo.high), ("low", combo.low)) if s is not None]
            if any(s.model == model.id for _, s in named):
                yield from (self.combo_run(combo, e) for e, _ in named if expert is None or e == expert)

    def model(self, model: m.BaseModelEntry) -> ModelHowTo:
        """A base model's "How to run it"."""
        runs = tuple(self.model_runs(model))
        return ModelHowTo(runs, caveats(run.recipe for run in runs))


def _paths(recipe: Recipe) -> tuple[RecipePath, ...]:
    """The recipe's paths: the one with the LoRAs, then the one without, when it has one."""
    return (recipe.lora_path, recipe.default_path) if recipe.default_path else (recipe.lora_path,)


def _labelled(run: Run, label: str | None, cited: m.Lora) -> Run:
    return replace(run, label=label, cited_file=cited)


def _strength(value: float | None) -> str:
    return strength_text(value) if value is not None else NO_VALUE


def caveats(recipes: Iterable[Recipe | None]) -> tuple[Caveat, ...]:
    """The quotes of the given recipes, each text once with every note it stands in (catalog order)."""
    found: dict[str, list[str]] = {}
    for recipe in dict.fromkeys(r for r in recipes if r is not None):
        for quote in recipe.quotes:
            cites = found.setdefault(quote.text, [])
            cite = Quote(quote, recipe).cite
            if cite not in cites:
                cites.append(cite)
    return tuple(Caveat(text, tuple(cites)) for text, cites in found.items())
