"""Setups read right (issue 20, points 1-6), each on the installed package's own templates.

The recipes are imported afresh from comfyui-workflow-templates-json into a copy of data/ without the
recipes, so what is checked is what the importer reads today, not what was committed.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
import yaml

from generator.catalog.recipes import Recipe, RecipeStage
from generator.recipes.importer import import_templates

ROOT = Path(__file__).resolve().parents[1]
DAY = dt.date(2026, 11, 30)


@pytest.fixture(name="imported", scope="module")
def _imported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("project")
    shutil.copytree(ROOT / "data", root / "data")
    for path in (root / "data" / "recipes").glob("*.yaml"):
        path.unlink()
    import_templates(root, DAY)
    return root


def _recipe(root: Path, recipe_id: str) -> Recipe:
    data = yaml.safe_load((root / "data" / "recipes" / f"{recipe_id}.yaml").read_text(encoding="utf-8"))
    return Recipe.model_validate(data)


def _settings(stage: RecipeStage) -> tuple[object, ...]:
    return stage.steps, stage.cfg, stage.sampler, stage.shift


# --- point 4: custom sampler graphs ------------------------------------------------------------------


@pytest.mark.parametrize(
    "recipe_id", ["wan21-scail2-character-replacement", "wan21-scail2-character-replacement-int8"]
)
def test_scail2_reads_its_custom_sampler(imported: Path, recipe_id: str) -> None:
    """SCAIL-2: 6 steps, CFG 1, euler, shift 5 with the distill LoRA; 40 steps, CFG 5 without it."""
    recipe = _recipe(imported, recipe_id)
    (lora,) = recipe.lora_path.stages
    assert _settings(lora) == (6, 1.0, "euler", 5.0)
    assert recipe.default_path is not None
    (plain,) = recipe.default_path.stages
    assert _settings(plain) == (40, 5.0, "euler", 5.0)
    assert [use.file for use in plain.loras] == ["wan2.1_SCAIL_2_DPO_lora_bf16.safetensors"]


def test_custom_samplers_of_animate_dancer_and_infinitetalk(imported: Path) -> None:
    """SamplerCustom (Animate 2), SamplerCustomAdvanced with CFGGuider (Dancer, InfiniteTalk)."""
    (animate,) = _recipe(imported, "wan-animate2").lora_path.stages
    assert (*_settings(animate), animate.scheduler) == (6, 1.0, "lcm", 5.0, "simple")
    dancer = _recipe(imported, "wan-dancer").lora_path.stages
    assert [_settings(stage) for stage in dancer] == [(6, 1.0, "euler", 5.0), (6, 1.0, "euler", None)]
    (talk,) = _recipe(imported, "wan2-1-infinitetalk").lora_path.stages
    assert (*_settings(talk), talk.scheduler) == (6, 1.0, "euler", None, "normal")


def test_no_shift_node_means_the_model_default(imported: Path) -> None:
    """A stage with no ModelSamplingSD3 on its chain says so; one with a shift node does not."""
    (talk,) = _recipe(imported, "wan2-1-infinitetalk").lora_path.stages
    assert talk.shift is None
    assert talk.default_shift
    (animate,) = _recipe(imported, "wan-animate2").lora_path.stages
    assert not animate.default_shift
    for path in (imported / "data" / "recipes").glob("*.yaml"):
        assert "custom sampler nodes that the importer does not read" not in path.read_text(encoding="utf-8")
