"""What the Setups page and the model pages show of the recipes: grouped by base model, each stage's
settings in words, one download block per recipe.

Fourth step of the site stage (filters → commands → fit → setups → context): pure functions of the
validated catalog (no snapshot, no clock). The base models' names are the architectures' labels.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from generator.catalog import models as m
from generator.catalog.recipes import Recipe, RecipeLora, RecipePath, RecipeQuote, RecipeStage
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


NOT_GIVEN = "not given"
DEFAULT_SHIFT = "the model's default shift"


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
    steps: str = NOT_GIVEN
    """'4', or the range a template's note gives ('2–4'), or 'not given'."""
    cfg: str = NOT_GIVEN
    shift: str = NOT_GIVEN
    """'5', or "the model's default shift" when no shift node is on the chain, or 'not given'."""
    from_note: tuple[str, ...] = ()
    """The settings ('steps', 'cfg') taken from the template's note rather than read from its nodes."""


@dataclass(frozen=True)
class Quote:
    """A template author's words, with where they are: the note, its node, the template and its package."""

    quote: RecipeQuote
    recipe: Recipe

    @property
    def cite(self) -> str:
        """'note ‘About CausVid LoRA’ (node 117) of the template video_wan_vace_14B_t2v, <package> <version>'."""
        source = self.recipe.source
        return (
            f"note ‘{self.quote.note}’ (node {self.quote.node}) of the template {source.template}, "
            f"{source.package} {source.version}"
        )

    @property
    def short_cite(self) -> str:
        """'the template's note ‘About CausVid LoRA’ (node 117)': the cite inside the template's own card."""
        return f"the template's note ‘{self.quote.note}’ (node {self.quote.node})"


@dataclass(frozen=True)
class PathView:
    """A recipe path (the one with the LoRAs, or the one without) as its stages, and how the template keeps it:
    whether it opens with it, the bypassed group that holds it, the note that gives its settings."""

    label: str
    stages: tuple[StageView, ...]
    opens: bool = False
    """True when the template, as saved, opens with this path (never said of a path it does not open with)."""
    group: str | None = None
    """The bypassed group the template ships this path as: enabled as a whole (Ctrl+B), the other bypassed."""
    group_how: Quote | None = None
    """The template's note that says how to switch groups, when one does."""
    source: Quote | None = None
    """The template's note that gives this path's settings."""
    from_note: str = ""
    """'steps and CFG': the settings taken from that note rather than read from the nodes."""
    loads_loras: bool = False
    """True when a stage of the path loads a LoRA."""


@dataclass(frozen=True)
class RecipeView:
    """A recipe with its paths and the commands that download its files (none when it lists none)."""

    recipe: Recipe
    lora_path: PathView
    default_path: PathView | None
    commands: tuple[str, ...]
    quotes: tuple[Quote, ...] = ()
    """The template's own words, each once: the notes that give a path's settings, then its guidance."""
    loras: tuple[tuple[str, str], ...] = ()
    """(LoRA id, file name) of each LoRA file the download block fetches that the catalog lists."""


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


def steps_text(stage: RecipeStage) -> str | None:
    """The stage's steps: the count, or the range a template's note gives ('2–4'), or None."""
    if stage.steps is not None:
        return str(stage.steps)
    if stage.steps_text is not None:
        return re.sub(r"(?<=\d)\s*-\s*(?=\d)", "–", stage.steps_text)
    return None


def shift_text(stage: RecipeStage) -> str | None:
    """The stage's shift, "the model's default shift" when no shift node is on its chain, or None."""
    if stage.shift is not None:
        return number(stage.shift)
    return DEFAULT_SHIFT if stage.default_shift else None


def stage_view(stage: RecipeStage, from_note: tuple[str, ...] = ()) -> StageView:
    """What the pages write of one stage (``from_note``: the settings its path's note gives)."""
    sampler = (stage.sampler or NOT_GIVEN) + (f" / {stage.scheduler}" if stage.scheduler else "")
    if stage.start_step is None and stage.end_step is None:
        steps_run = "all"
    else:
        steps_run = f"{stage.start_step or 0}–{stage.end_step if stage.end_step is not None else 'end'}"
    steps, shift = steps_text(stage), shift_text(stage)
    settings = "".join(
        (
            f", {steps} steps" if steps else "",
            f", CFG {number(stage.cfg)}" if stage.cfg is not None else "",
            f", shift {shift}" if stage.shift is not None else f", {shift}" if shift else "",
        )
    )
    where = f"{stage.expert} expert" if stage.expert else "model"
    cfg = number(stage.cfg)
    return StageView(
        stage, where, sampler, steps_run, settings, steps or NOT_GIVEN, cfg, shift or NOT_GIVEN, from_note
    )


def _path_view(recipe: Recipe, path: RecipePath, opens: bool) -> PathView:
    noted = tuple(name for name in ("steps", "cfg") if name in path.from_note)
    return PathView(
        label=path.label,
        stages=tuple(stage_view(stage, noted) for stage in path.stages),
        opens=opens,
        group=path.group,
        group_how=_group_how(recipe) if path.group else None,
        source=Quote(path.source, recipe) if path.source else None,
        from_note=" and ".join("CFG" if name == "cfg" else name for name in noted),
        loads_loras=any(stage.loras for stage in path.stages),
    )


def _group_how(recipe: Recipe) -> Quote | None:
    """The template's note that says how to enable a bypassed group (the one that names Ctrl+B), if any."""
    return next((Quote(q, recipe) for q in recipe.quotes if "ctrl" in q.text.casefold()), None)


def _quotes(recipe: Recipe) -> tuple[Quote, ...]:
    """The notes that give a path's settings, then the template's guidance, each note once."""
    sources = [path.source for path in (recipe.lora_path, recipe.default_path) if path and path.source]
    found: dict[int, RecipeQuote] = {}
    for quote in (*sources, *recipe.quotes):
        found.setdefault(quote.node, quote)
    return tuple(Quote(quote, recipe) for quote in found.values())


def recipe_view(recipe: Recipe) -> RecipeView:
    """A recipe as the pages show it (validation made sure each file's ``lora`` has a page)."""
    opens = recipe.opens_with
    default = (
        _path_view(recipe, recipe.default_path, opens == "default_path") if recipe.default_path else None
    )
    commands = tuple(recipe_commands(recipe)) if recipe.files else ()
    loras = tuple((file.lora, file.path.rpartition("/")[2]) for file in recipe.files if file.lora)
    return RecipeView(
        recipe,
        _path_view(recipe, recipe.lora_path, opens == "lora_path"),
        default,
        commands,
        _quotes(recipe),
        loras,
    )


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
    """LoRA id -> the recipes that load it (or only download it), each with where and how: 'on the high-noise
    expert at 1.0'; every path of the recipe counts, and its download block."""
    found: dict[str, list[tuple[Recipe, str]]] = {}
    for recipe in catalog.recipes:
        uses: dict[str, list[tuple[RecipeStage, RecipeLora]]] = {}
        for path in (recipe.lora_path, recipe.default_path):
            for stage in path.stages if path else ():
                for use in stage.loras:
                    if use.lora is not None:
                        uses.setdefault(use.lora, []).append((stage, use))
        for lora_id, lora_uses in uses.items():
            found.setdefault(lora_id, []).append((recipe, _uses_text(lora_uses)))
        for file in recipe.files:
            if file.lora is not None and file.lora not in uses:
                found.setdefault(file.lora, []).append((recipe, "in its download block, on no stage"))
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
