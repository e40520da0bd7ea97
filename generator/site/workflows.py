"""The setup cards' "Download workflow (.json)": made at build time from the pinned templates package.

A step of the site stage (filters → commands → setups → workflows → views → context → catalog_json →
render): for each recipe, its template opened on the card's LoRA path (:mod:`generator.recipes.workflow`);
for each combination an official template can carry, that template with the combination's parts
(:mod:`generator.recipes.workflow_combination`); for the others, the reason there is none. The files go to
docs/workflows/ with the pages, are listed in the manifest like them, and are never committed.

Why the build makes them rather than `import-templates` writing them into data/: a workflow is a pure
function of a template and of committed data (the recipe, and for a combination its models and LoRAs), and
the templates come from ``comfyui-workflow-templates-json``, pinned in constraints.txt. Stored in data/,
each of the 20 workflows (12–96 kB) would be a second copy of a file the pinned package already holds,
a diff nobody reviews, and stale as soon as the data it depends on changes: the dyno combination must
get its workflow the moment the dyno model's file is data, which `import-templates` is never re-run for.
Built here, the package is a site dependency (requirements/site.txt; ~31 MB installed, read offline from
the installed wheel), and a recipe read from another version of the package than the installed one gets
no workflow, with the two versions named, never a workflow that differs from its card.
"""

from __future__ import annotations

import importlib.metadata
import importlib.resources
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, partial

from generator.catalog import models as m
from generator.catalog.recipes import Recipe
from generator.catalog.validate import Catalog
from generator.lora.comfyui_loader import COMFYUI_VERSION
from generator.recipes.graph import Json
from generator.recipes.importer import MODULE, PACKAGE
from generator.recipes.jsonfile import Faults, parse
from generator.recipes.workflow import NoWorkflow, StageTarget, build, recipe_targets
from generator.recipes.workflow_combination import Kept, carried, template_recipe
from generator.site.filters import strength_text

FOLDER = "workflows"
_TEMPLATE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*")


@dataclass(frozen=True)
class Offer:
    """A card's workflow (its file under docs/, what it is built from) or the reason there is none."""

    href: str | None = None
    """The file's path under docs/ ('workflows/recipes/<id>.json'); None when there is no workflow."""
    reason: str | None = None
    recipe: Recipe | None = None
    """The recipe whose template the workflow is built from (a combination's: whose files it shares)."""
    kept: tuple[str, ...] = ()
    """For a combination: what keeps the template's value, or the file chosen, in words."""
    changes: int = 0
    size: int = 0
    comfyui: str = COMFYUI_VERSION


@dataclass(frozen=True)
class Workflows:
    """Every card's offer and the files to write under docs/."""

    recipes: dict[str, Offer] = field(default_factory=dict)
    combinations: dict[str, Offer] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)

    def recipe(self, recipe_id: str) -> Offer:
        """The offer of a recipe's card."""
        return self.recipes[recipe_id]

    def combination(self, combo_id: str) -> Offer:
        """The offer of a combination's card."""
        return self.combinations[combo_id]


def workflows(catalog: Catalog) -> Workflows:
    """Every recipe's and combination's workflow, built from the installed templates package."""
    found = Workflows()
    for recipe in catalog.recipes:
        path = f"{FOLDER}/recipes/{recipe.id}.json"
        found.recipes[recipe.id] = _offer(found.files, path, recipe, partial(recipe_targets, recipe))
    for combo in catalog.combinations:
        found.combinations[combo.id] = _combination(found.files, catalog, combo)
    return found


def _offer(
    files: dict[str, str],
    path: str,
    recipe: Recipe,
    targets: Callable[[], tuple[StageTarget, ...]],
    kept: tuple[str, ...] = (),
) -> Offer:
    """Build one workflow into files[path]; the offer, or the reason it could not be built."""
    try:
        template = _template(recipe.source.package, recipe.source.template, recipe.source.version)
        made = build(template, recipe, targets())
    except NoWorkflow as err:
        return Offer(reason=err.reason, recipe=recipe)
    files[path] = text = made.text
    size = len(text.encode("utf-8"))
    return Offer(href=path, recipe=recipe, kept=kept, changes=len(made.changes), size=size)


def _combination(files: dict[str, str], catalog: Catalog, combo: m.Combination) -> Offer:
    try:
        recipe = template_recipe(combo, catalog.recipes, catalog.model)
        parts = carried(combo, recipe, catalog.lora, catalog.model)
    except NoWorkflow as err:
        return Offer(reason=err.reason)
    kept = tuple(_said(item) for item in parts.kept)
    path = f"{FOLDER}/combinations/{combo.id}.json"
    return _offer(files, path, recipe, lambda: parts.targets, kept)


def _said(item: Kept) -> str:
    """What a combination's card says of a value kept from the template, or of a file chosen."""
    who = f"the {item.expert}-noise"
    if item.kind == "strength":
        value = item.value if isinstance(item.value, float) else None
        return f"{who} LoRA's strength, not given there, is the template's {strength_text(value)}"
    if item.kind == "described model":
        return f"{who} model is the template's {item.value} (the original page says only \u201c{item.note}\u201d)"
    if item.kind == "same model":
        return f"{who} model is the template's file of the same model, \u201c{item.note}\u201d: {item.value}"
    if item.kind == "model file":
        chosen = ", the first file its entry lists" if item.first else ""
        return f"{who} expert loads {item.value} ({item.note}{chosen})"
    return f"{who} expert's LoRA loader is bypassed (no LoRA there on the original page)"


def _template(package: str, name: str, version: str) -> Json:
    """The template's JSON from the installed package (NoWorkflow: another package or version, or absent)."""
    if package != PACKAGE or not _TEMPLATE_NAME.fullmatch(name):
        raise NoWorkflow(f"the recipe cites {package} template {name}, which the build does not read")
    try:
        installed = importlib.metadata.version(PACKAGE)
    except importlib.metadata.PackageNotFoundError as err:
        raise NoWorkflow(f"{PACKAGE} is not installed where the site was built") from err
    if installed != version:
        raise NoWorkflow(f"the recipe was read from {PACKAGE} {version}, the build has {installed}")
    return _read(name, version)


@cache
def _read(name: str, version: str) -> Json:
    """A template file of the installed package, parsed once per process (never changed in place)."""
    file = importlib.resources.files(MODULE) / "templates" / f"{name}.json"
    try:
        _, value = parse(file.read_bytes())
    except OSError as err:
        raise NoWorkflow(f"{PACKAGE} {version} has no template {name}") from err
    except Faults as err:
        raise NoWorkflow(f"the template {name} is not JSON ({err.faults[0].message})") from err
    if not isinstance(value, dict):
        raise NoWorkflow(f"the template {name} is not a workflow")
    return value
