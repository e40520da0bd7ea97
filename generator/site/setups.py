"""The Setups page's helpers: recipes grouped by base model, numbers without float noise, download blocks.

Pure functions of the validated catalog (no clock, no network).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from urllib.parse import quote

from markupsafe import Markup

from generator.catalog import models as m
from generator.catalog.recipes import Recipe, RecipeLora, RecipeStage
from generator.catalog.validate import Catalog
from generator.vocabulary import HUB_URL

SETUP_BASES: tuple[tuple[str, str], ...] = (
    ("wan2.2-t2v-a14b", "Wan 2.2 T2V A14B"),
    ("wan2.2-i2v-a14b", "Wan 2.2 I2V A14B"),
    ("wan2.2-ti2v-5b", "Wan 2.2 TI2V 5B"),
    ("wan2.1-t2v-14b", "Wan 2.1 T2V 14B"),
    ("wan2.1-i2v-14b", "Wan 2.1 I2V 14B"),
    ("wan2.1-t2v-1.3b", "Wan 2.1 T2V 1.3B"),
)
COMFY_ROOT = "ComfyUI/models"


@dataclass(frozen=True)
class BaseSetups:
    """What the catalog cites for one base model: official recipes, the seed's combinations, variants."""

    architecture: str
    name: str
    recipes: tuple[Recipe, ...]
    combinations: tuple[m.Combination, ...]
    variants: tuple[Recipe, ...]


def number(value: float | int | None) -> str:
    """A number as a page shows it: at most two decimals, no float noise (5.000000000000001 -> 5)."""
    if value is None:
        return "not given"
    text = f"{float(value):.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def strength_text(value: float | None) -> str:
    """A LoRA strength: 1.0, 0.75 (always with a decimal point)."""
    if value is None:
        return "strength not given"
    text = number(value)
    return text if "." in text else f"{text}.0"


def setups_by_base(catalog: Catalog) -> list[BaseSetups]:
    """For each base model and task of the Setups page, the recipes and combinations that cite a setup."""
    found = []
    for arch, name in SETUP_BASES:
        recipes = tuple(r for r in catalog.recipes if r.architecture == arch and r.variant is None)
        variants = tuple(r for r in catalog.recipes if r.architecture == arch and r.variant is not None)
        combos = tuple(c for c in catalog.combinations if arch in _combination_architectures(catalog, c))
        found.append(BaseSetups(arch, name, recipes, combos, variants))
    return found


def setups_for(catalog: Catalog, model: m.BaseModelEntry) -> BaseSetups | None:
    """The Setups page's entry for a base model's architecture (None for one the page does not cover)."""
    return next((base for base in setups_by_base(catalog) if base.architecture == model.architecture), None)


def other_recipes(catalog: Catalog) -> list[Recipe]:
    """Recipes for models of their own (VACE, Fun, S2V, Animate …), which no base above runs."""
    return [r for r in catalog.recipes if r.architecture is None]


def _combination_architectures(catalog: Catalog, combo: m.Combination) -> set[str]:
    models = {setup.model for setup in (combo.high, combo.low) if setup is not None and setup.model}
    return {catalog.model(model_id).architecture for model_id in models}


def recipes_using(catalog: Catalog, lora: m.Lora) -> list[tuple[Recipe, str]]:
    """The recipes that load a LoRA, each with where and how: 'on the high-noise expert at 1.0'."""
    found = []
    for recipe in catalog.recipes:
        uses = [
            (stage, use) for stage in recipe.lora_path.stages for use in stage.loras if use.lora == lora.id
        ]
        if uses:
            found.append((recipe, _uses_text(uses)))
    return found


def _uses_text(uses: list[tuple[RecipeStage, RecipeLora]]) -> str:
    parts = []
    for stage, use in uses:
        where = f"the {stage.expert}-noise expert" if stage.expert in ("high", "low") else "the model"
        strength = strength_text(getattr(use, "strength", None))
        bypassed = " (bypassed in the template)" if getattr(use, "bypassed", False) else ""
        parts.append(f"on {where} at {strength}{bypassed}")
    if len(parts) == 2 and parts[0].split(" at ")[1] == parts[1].split(" at ")[1] and "expert" in parts[0]:
        return f"at {parts[0].split(' at ')[1]} on both experts"
    return "; ".join(dict.fromkeys(parts))


def download_block(recipe: Recipe) -> Markup:
    """One fenced shell block that downloads every file of the recipe into its ComfyUI folder."""
    lines = [f"mkdir -p {' '.join(sorted({shlex.quote(f'{COMFY_ROOT}/{f.folder}') for f in recipe.files}))}"]
    for file in recipe.files:
        name = file.path.rsplit("/", 1)[-1]
        url = f"{HUB_URL}/{file.repo}/resolve/main/{quote(file.path)}?download=true"
        lines.append(f"curl -L -o {shlex.quote(f'{COMFY_ROOT}/{file.folder}/{name}')} {shlex.quote(url)}")
    text = "\n".join(lines)
    longest = max((len(run) for run in re.findall("`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return Markup(f"{fence} sh\n{text}\n{fence}")  # noqa: S704 - code block content is literal
