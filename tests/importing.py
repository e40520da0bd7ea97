"""Recipes imported afresh from the installed templates package, for the tests that read what the importer
writes today rather than what was committed (conftest.py's ``imported`` fixture, test_recipes' ``fresh``)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import yaml

from generator.catalog.recipes import Recipe
from generator.recipes.importer import import_templates

ROOT = Path(__file__).resolve().parents[1]
DAY = dt.date(2026, 11, 30)


def import_afresh(root: Path, *, without_written_loras: bool = False) -> Path:
    """root with a copy of the project's data whose recipes are removed, then imported again.

    The LoRA entries stay: once written, an entry is the curators' (a release, a mirror, a family), and the
    importer finds each template's LoRA file in it instead of writing it again. With
    `without_written_loras`, the entries the importer first wrote (source: official-templates) go too."""
    shutil.copytree(ROOT / "data", root / "data")
    for path in (root / "data" / "recipes").glob("*.yaml"):
        path.unlink()
    if without_written_loras:
        for path in (root / "data" / "loras").glob("*.yaml"):
            if "source: official-templates" in path.read_text(encoding="utf-8"):
                path.unlink()
    import_templates(root, DAY)
    return root


def read_recipe(root: Path, recipe_id: str) -> Recipe:
    """The recipe data/recipes/<recipe_id>.yaml under root, validated."""
    data = yaml.safe_load((root / "data" / "recipes" / f"{recipe_id}.yaml").read_text(encoding="utf-8"))
    return Recipe.model_validate(data)
