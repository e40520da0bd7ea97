"""What the Setups page and the model pages show of the recipes: grouped by base model, each stage's
settings in words, one download block per recipe.

Fourth step of the site stage (filters → commands → fit → setups → context): pure functions of the
validated catalog (no snapshot, no clock). The base models' names are the architectures' labels.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from generator.catalog import models as m
from generator.catalog.recipes import Recipe, RecipeLora, RecipePath, RecipeStage
from generator.catalog.validate import Catalog
from generator.lora.architectures import ARCHITECTURES
from generator.site.commands import recipe_commands
from generator.site.filters import number, strength_text
from generator.vocabulary import ArchitectureId

SETUP_ORDER: tuple[ArchitectureId, ...] = (
    "wan2.2-t2v-a14b",
    "wan2.2-i2v-a14b",
    "wan2.2-ti2v-5b",
    "wan2.1-t2v-14b",
    "wan2.1-i2v-14b",
    "wan2.1-t2v-1.3b",
)
"""The base models of the Setups page, in its order: Wan 2.2 first, the large models before the small."""


@dataclass(frozen=True)
class StageView:
    """One stage of a recipe path, with what the pages write of it."""

    stage: RecipeStage
    where: str
    """'high expert', 'low expert' or 'model'."""
    sampler: str
    """'euler / simple', or 'not given'."""
    steps_run: str
    """'all', or the steps this stage runs: '0–2', '2–end'."""
    settings: str
    """', 4 steps, CFG 1, shift 5': what the model pages write after the stage's LoRAs (given values only)."""


@dataclass(frozen=True)
class PathView:
    """A recipe path (the one with the LoRAs, or the template's default) as its stages."""

    label: str
    stages: tuple[StageView, ...]


@dataclass(frozen=True)
class RecipeView:
    """A recipe with its paths and the commands that download its files (none when it lists none)."""

    recipe: Recipe
    lora_path: PathView
    default_path: PathView | None
    commands: tuple[str, ...]


@dataclass(frozen=True)
class BaseSetups:
    """What the catalog cites for one base model (an architecture on the Setups page, or one model entry on its
    page): the official baseline (the template without LoRAs), recipes with LoRAs, the seed's combinations, and
    variants that run its weights; ``missing`` says why no setup runs it on its own, when none does."""

    architecture: str
    name: str
    anchor: str
    """The section's id on the Setups page ('wan2-2-t2v-a14b')."""
    recipes: tuple[RecipeView, ...]
    combinations: tuple[m.Combination, ...]
    variants: tuple[RecipeView, ...]
    baselines: tuple[RecipeView, ...] = ()
    missing: str | None = None

    @property
    def empty(self) -> bool:
        """True when no source cites any setup that loads the model."""
        return not (self.baselines or self.recipes or self.combinations or self.variants)


def stage_view(stage: RecipeStage) -> StageView:
    """What the pages write of one stage."""
    sampler = (stage.sampler or "not given") + (f" / {stage.scheduler}" if stage.scheduler else "")
    if stage.start_step is None and stage.end_step is None:
        steps_run = "all"
    else:
        steps_run = f"{stage.start_step or 0}–{stage.end_step if stage.end_step is not None else 'end'}"
    settings = "".join(
        (
            f", {stage.steps} steps" if stage.steps else "",
            f", CFG {number(stage.cfg)}" if stage.cfg is not None else "",
            f", shift {number(stage.shift)}" if stage.shift is not None else "",
        )
    )
    where = f"{stage.expert} expert" if stage.expert else "model"
    return StageView(stage, where, sampler, steps_run, settings)


def _path_view(path: RecipePath) -> PathView:
    return PathView(path.label, tuple(stage_view(stage) for stage in path.stages))


def recipe_view(recipe: Recipe) -> RecipeView:
    """A recipe as the pages show it."""
    default = _path_view(recipe.default_path) if recipe.default_path else None
    commands = tuple(recipe_commands(recipe)) if recipe.files else ()
    return RecipeView(recipe, _path_view(recipe.lora_path), default, commands)


def setups_by_base(catalog: Catalog) -> list[BaseSetups]:
    """For each base model of the Setups page, the recipes and combinations that cite a setup."""
    found = []
    for arch in SETUP_ORDER:
        recipes = [r for r in catalog.recipes if r.architecture == arch]
        combos = tuple(c for c in catalog.combinations if arch in _combination_architectures(catalog, c))
        models = {model.id for model in catalog.models if model.architecture == arch}
        label, anchor = ARCHITECTURES[arch].label, arch.replace(".", "-")
        found.append(_setups(catalog, arch, label, anchor, recipes, combos, models))
    return found


def model_setups(catalog: Catalog, model: m.BaseModelEntry) -> BaseSetups:
    """What the model's page shows: the recipes whose stages run this very model entry and the combinations
    that name it, grouped as on the Setups page (where the same cards stand under its architecture)."""
    recipes = [r for r in catalog.recipes if r.loads_model(model.id)]
    combos = tuple(
        c for c in catalog.combinations if any(s is not None and s.model == model.id for s in (c.high, c.low))
    )
    arch = model.architecture or ""
    anchor = arch.replace(".", "-") if model.architecture in SETUP_ORDER else "models-of-their-own"
    return _setups(catalog, arch, model.name, anchor, recipes, combos, {model.id})


def _setups(
    catalog: Catalog,
    arch: str,
    name: str,
    anchor: str,
    recipes: list[Recipe],
    combos: tuple[m.Combination, ...],
    models: set[str],
) -> BaseSetups:
    """The cards of one section; ``missing`` when no recipe path nor combination runs ``models`` without a
    LoRA (a variant's recipes run its own setup, not the model's)."""
    plain = [r for r in recipes if r.variant is None]
    setups = BaseSetups(
        architecture=arch,
        name=name,
        anchor=anchor,
        recipes=tuple(recipe_view(r) for r in plain if not r.baseline),
        combinations=combos,
        variants=tuple(recipe_view(r) for r in recipes if r.variant is not None),
        baselines=tuple(recipe_view(r) for r in plain if r.baseline),
    )
    lora_free = any(r.baseline or _lora_free(r.default_path) for r in plain) or any(
        setup is not None and setup.model in models and setup.loras == ()
        for combo in combos
        for setup in (combo.high, combo.low)
    )
    if lora_free or not catalog.recipes:  # no template was read: the templates' contents are not known
        return setups
    return replace(setups, missing=_missing(catalog, name, setups))


def _lora_free(path: RecipePath | None) -> bool:
    """A path whose stages load no LoRA: the model's own setting."""
    return path is not None and not any(stage.loras for stage in path.stages)


def _missing(catalog: Catalog, name: str, setups: BaseSetups) -> str:
    """Why no card runs the model on its own: the official templates hold none that does (when the catalog's
    recipes were read from them), and whether other setups load it."""
    versions = sorted({f"{r.source.package} {r.source.version}" for r in catalog.recipes})
    source = f"The official templates ({', '.join(versions)})"
    sentence = f"{source} hold no template that runs {name} on its own, without a LoRA"
    return sentence + (
        "; the setups below load it." if not setups.empty else "; no source cites a setup for it yet."
    )


def other_recipes(catalog: Catalog) -> list[RecipeView]:
    """Recipes for models of their own (VACE, Fun, S2V, Animate …), which no base above runs."""
    return [recipe_view(r) for r in catalog.recipes if r.architecture is None]


def _combination_architectures(catalog: Catalog, combo: m.Combination) -> set[str]:
    models = {setup.model for setup in (combo.high, combo.low) if setup is not None and setup.model}
    return {arch for model_id in models if (arch := catalog.model(model_id).architecture) is not None}


def recipes_using(catalog: Catalog) -> dict[str, list[tuple[Recipe, str]]]:
    """LoRA id -> the recipes that load it, each with where and how: 'on the high-noise expert at 1.0'."""
    found: dict[str, list[tuple[Recipe, str]]] = {}
    for recipe in catalog.recipes:
        uses: dict[str, list[tuple[RecipeStage, RecipeLora]]] = {}
        for stage in recipe.lora_path.stages:
            for use in stage.loras:
                if use.lora is not None:
                    uses.setdefault(use.lora, []).append((stage, use))
        for lora_id, lora_uses in uses.items():
            found.setdefault(lora_id, []).append((recipe, _uses_text(lora_uses)))
    return found


def _uses_text(uses: list[tuple[RecipeStage, RecipeLora]]) -> str:
    parts = []
    for stage, use in uses:
        where = f"the {stage.expert}-noise expert" if stage.expert in ("high", "low") else "the model"
        bypassed = " (bypassed in the template)" if use.bypassed else ""
        steps = stage.steps or stage.steps_text
        with_steps = f" with {steps} steps" if steps else ""
        parts.append(f"on {where} at {strength_text(use.strength)}{with_steps}{bypassed}")
    if len(parts) == 2 and parts[0].split(" at ")[1] == parts[1].split(" at ")[1] and "expert" in parts[0]:
        return f"at {parts[0].split(' at ')[1]} on both experts"
    return "; ".join(dict.fromkeys(parts))
