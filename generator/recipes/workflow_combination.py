"""A seed combination as a workflow: the official template of its base model, carrying its parts (pure).

A combination names, per noise expert, a model and the LoRAs on it ("allegedly good" on the original
page). Where the catalog cites an official template of that base model (a recipe without a variant) whose
LoRA path has a stage per expert, the combination is carried into the template's LoRA path: each expert's
LoRAs into its loaders (a loader left empty is bypassed), a model the combination names in place of the
template's. What the combination does not give keeps the template's value and says so: a strength not
given, a model only described ("some wan 2.2"); steps, CFG and shift are the template's LoRA path's. A
part that is not named (a LoRA given as "?", a model named without a file) gives no workflow, and the
reason says which.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from generator.catalog import models as m
from generator.catalog.recipes import Recipe, RecipeStage
from generator.recipes.workflow import LoraTarget, NoWorkflow, StageTarget, saved_name

Kind = Literal["strength", "described model", "same model", "model file", "empty loader"]


@dataclass(frozen=True)
class Kept:
    """A value the workflow keeps from the template, or a choice it made, for the card to say."""

    kind: Kind
    """strength: a strength not given (value: the template's); described model: a model given only in
    words (value: the template's file, note: the words); same model: the template's model, which the
    combination names (value: the template's file, note: the model's name); model file: the file loaded
    for another model (value: the file, note: the model's name, first: chosen from several files); empty
    loader: no LoRA on this expert, its loader bypassed."""
    expert: str
    value: float | str | None = None
    note: str | None = None
    first: bool = False


@dataclass(frozen=True)
class Carried:
    """A combination's parts as the template's stages, and what keeps the template's values."""

    targets: tuple[StageTarget, ...]
    kept: tuple[Kept, ...]


def template_recipe(
    combo: m.Combination, recipes: tuple[Recipe, ...], model: Callable[[str], m.BaseModelEntry]
) -> Recipe:
    """The official recipe of the combination's base model that can carry it (NoWorkflow: none can)."""
    named = [setup.model for setup in (combo.high, combo.low) if setup is not None and setup.model]
    architectures = {model(model_id).architecture for model_id in named}
    if len(architectures) != 1:
        raise NoWorkflow("the combination names no single base model")
    (architecture,) = architectures
    for recipe in recipes:
        experts = [stage.expert for stage in recipe.lora_path.stages]
        if recipe.architecture == architecture and recipe.variant is None and experts == ["high", "low"]:
            return recipe
    raise NoWorkflow("the catalog cites no official template of its base model with a high and a low expert")


def carried(
    combo: m.Combination,
    recipe: Recipe,
    lora: Callable[[str], m.Lora],
    model: Callable[[str], m.BaseModelEntry],
) -> Carried:
    """The combination's parts on each stage of the recipe's LoRA path."""
    kept: list[Kept] = []
    targets = tuple(_stage(combo, stage, lora, model, kept) for stage in recipe.lora_path.stages)
    return Carried(targets, tuple(kept))


def _stage(
    combo: m.Combination,
    stage: RecipeStage,
    lora: Callable[[str], m.Lora],
    model: Callable[[str], m.BaseModelEntry],
    kept: list[Kept],
) -> StageTarget:
    if stage.expert not in ("high", "low"):
        raise NoWorkflow("the template's stage names no noise expert")
    expert: str = stage.expert
    setup = combo.high if expert == "high" else combo.low
    if setup is None:
        raise NoWorkflow(f"the combination says nothing of the {expert}-noise expert")
    if setup.loras is None:
        raise NoWorkflow(f"the {expert}-noise expert's LoRA is unknown ('?' on the original page)")
    if len(setup.loras) > len(stage.loras):
        raise NoWorkflow(
            f"the template has {len(stage.loras)} LoRA loader(s) on the {expert}-noise expert, "
            f"the combination puts {len(setup.loras)} there"
        )
    loras: list[LoraTarget | None] = []
    for index, use in enumerate(setup.loras):
        loras.append(LoraTarget(lora(use.lora).file.filename, use.strength))
        if use.strength is None:
            kept.append(Kept("strength", expert, stage.loras[index].strength))
    if len(loras) < len(stage.loras):
        kept.append(Kept("empty loader", expert))
        loras += [None] * (len(stage.loras) - len(loras))
    return StageTarget(tuple(loras), _model_file(setup, stage, model, kept))


def _model_file(
    setup: m.ExpertSetup, stage: RecipeStage, model: Callable[[str], m.BaseModelEntry], kept: list[Kept]
) -> str | None:
    """The file the stage's model loader loads: None keeps the template's."""
    expert = str(stage.expert)
    if setup.model is None:
        if not setup.model_note:
            raise NoWorkflow(f"the combination names no model for the {expert}-noise expert")
        kept.append(Kept("described model", expert, stage.model_file, setup.model_note))
        return None
    entry = model(setup.model)
    if setup.model == stage.model:
        kept.append(Kept("same model", expert, stage.model_file, entry.name))
        return None
    files = [
        d.link.path
        for d in entry.downloads
        if isinstance(d.link, m.HfLink) and d.link.kind == "file" and d.link.path is not None
    ]
    if not files:
        why = "its downloads are folders" if entry.downloads else "it lists no download"
        raise NoWorkflow(f"the {expert}-noise model, {entry.name}, is named without a file ({why})")
    name = saved_name(files[0])
    kept.append(Kept("model file", expert, name, entry.name, first=len(files) > 1))
    return name
