"""Setups read right (issue 20, points 1-6), each on the installed package's own templates.

The recipes are imported afresh from comfyui-workflow-templates-json into a copy of data/ without the
recipes, so what is checked is what the importer reads today, not what was committed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from generator.catalog.recipes import RecipeStage
from generator.recipes.graph import workflow
from generator.recipes.importer import installed
from generator.recipes.jsonfile import parse
from generator.recipes.paths import Switch, switches
from generator.recipes.read import Reader
from tests.importing import read_recipe


def _settings(stage: RecipeStage) -> tuple[object, ...]:
    return stage.steps, stage.cfg, stage.sampler, stage.shift


# --- point 4: custom sampler graphs ------------------------------------------------------------------


@pytest.mark.parametrize(
    "recipe_id", ["wan21-scail2-character-replacement", "wan21-scail2-character-replacement-int8"]
)
def test_scail2_reads_its_custom_sampler(imported: Path, recipe_id: str) -> None:
    """SCAIL-2: 6 steps, CFG 1, euler, shift 5 with the distill LoRA; 40 steps, CFG 5 without it."""
    recipe = read_recipe(imported, recipe_id)
    (lora,) = recipe.lora_path.stages
    assert _settings(lora) == (6, 1.0, "euler", 5.0)
    assert recipe.default_path is not None
    (plain,) = recipe.default_path.stages
    assert _settings(plain) == (40, 5.0, "euler", 5.0)
    assert [use.file for use in plain.loras] == ["wan2.1_SCAIL_2_DPO_lora_bf16.safetensors"]


def test_custom_samplers_of_animate_dancer_and_infinitetalk(imported: Path) -> None:
    """SamplerCustom (Animate 2), SamplerCustomAdvanced with CFGGuider (Dancer, InfiniteTalk)."""
    (animate,) = read_recipe(imported, "wan-animate2").lora_path.stages
    assert (*_settings(animate), animate.scheduler) == (6, 1.0, "lcm", 5.0, "simple")
    dancer = read_recipe(imported, "wan-dancer").lora_path.stages
    assert [_settings(stage) for stage in dancer] == [(6, 1.0, "euler", 5.0), (6, 1.0, "euler", None)]
    (talk,) = read_recipe(imported, "wan2-1-infinitetalk").lora_path.stages
    assert (*_settings(talk), talk.scheduler) == (6, 1.0, "euler", None, "normal")


def test_no_shift_node_means_the_model_default(imported: Path) -> None:
    """A stage with no ModelSamplingSD3 on its chain says so; one with a shift node does not."""
    (talk,) = read_recipe(imported, "wan2-1-infinitetalk").lora_path.stages
    assert talk.shift is None
    assert talk.default_shift
    (animate,) = read_recipe(imported, "wan-animate2").lora_path.stages
    assert not animate.default_shift
    for path in (imported / "data" / "recipes").glob("*.yaml"):
        assert "custom sampler nodes that the importer does not read" not in path.read_text(encoding="utf-8")


# --- point 1: which path the template opens with --------------------------------------------------


def _switch(name: str) -> Switch:
    """The LoRA switch of an installed template, as the reader finds it."""
    _, value = parse((installed().folder / f"{name}.json").read_bytes())
    graph, faults = workflow(value)
    assert graph is not None, faults
    (found,) = set(switches(graph, Reader(graph)))
    return found


@pytest.mark.parametrize(
    ("name", "form", "saved"),
    [
        ("video_wan2_2_14B_i2v", "instance widget", False),  # instance 129, its last widget value
        ("video_wan2_2_14B_t2v", "proxied inner node", False),
        ("video_wan_vace_flf2v", "proxied inner node", False),
        ("video_wan_vace_inpainting", "proxied inner node", True),
        ("video_wan21_scail2_character_replacement", "proxied inner node", True),
        ("video_wan21_scail2_character_replacement_int8", "proxied inner node", True),
        ("video_wanmove_480p", "proxied inner node", False),
        ("video_wan_dancer", "inner node", True),  # node 639, shown by no proxy
    ],
)
def test_the_switch_is_read_where_the_template_keeps_it(name: str, form: str, saved: bool) -> None:
    """The saved value of the LoRA boolean, in each of its three storage forms."""
    switch = _switch(name)
    assert (switch.form, switch.saved) == (form, saved)


@pytest.mark.parametrize(
    ("recipe_id", "opens_with"),
    [
        ("wan2-2-14b-i2v", "default_path"),
        ("wan2-2-14b-t2v", "default_path"),
        ("wan-vace-inpainting", "lora_path"),
        ("wan-dancer", "lora_path"),
        ("wan21-scail2-character-replacement", "lora_path"),
        ("wan21-scail2-character-replacement-int8", "lora_path"),
        ("wanmove-480p", "default_path"),
        ("wan2-2-14b-flf2v", "default_path"),  # its LoRA group ships bypassed
        ("wan-vace-14b-t2v", "lora_path"),  # CausVid is on, with no switch
    ],
)
def test_the_recipe_says_which_path_the_template_opens_with(
    imported: Path, recipe_id: str, opens_with: str
) -> None:
    """No card may call a path the default unless the template opens with it."""
    recipe = read_recipe(imported, recipe_id)
    assert recipe.opens_with == opens_with
    assert not any("off by default" in note for note in recipe.notes)


def test_vace_inpainting_opens_with_causvid(imported: Path) -> None:
    """VACE inpainting opens with CausVid at 0.3, 6 steps, CFG 1, shift 5; 20 steps, CFG 6 is the other path."""
    recipe = read_recipe(imported, "wan-vace-inpainting")
    (stage,) = recipe.lora_path.stages
    assert [(use.file, use.strength) for use in stage.loras] == [
        ("Wan21_CausVid_14B_T2V_lora_rank32.safetensors", 0.3)
    ]
    assert (stage.steps, stage.cfg, stage.shift) == (6, 1.0, 5.0)
    assert recipe.default_path is not None
    (other,) = recipe.default_path.stages
    assert (other.steps, other.cfg, other.loras) == (20, 6.0, ())
    assert "saved on: it opens with the LoRA path" in recipe.notes[0]


# --- point 3: every file of the setup ------------------------------------------------------------


def test_infinitetalk_lists_all_six_files(imported: Path) -> None:
    """Read from the loaders' properties.models: the diffusion model, LoRA, VAE, text and audio encoder, patch."""
    files = read_recipe(imported, "wan2-1-infinitetalk").files
    assert sorted(file.folder for file in files) == sorted(
        ["diffusion_models", "loras", "vae", "text_encoders", "audio_encoders", "model_patches"]
    )
    (lora,) = [file for file in files if file.folder == "loras"]
    assert (lora.repo, lora.lora) == (
        "Kijai/WanVideo_comfy",
        "lightx2v-i2v-14b-480p-cfg-step-distill-rank64-bf16",
    )


@pytest.mark.parametrize(
    "recipe_id",
    [
        "wan2-2-14b-s2v",
        "wan2-1-infinitetalk",
        "wan-vace-14b-ref2v",
        "wan-vace-14b-t2v",
        "wan-vace-14b-v2v",
        "wan-vace-outpainting",
    ],
)
def test_the_download_block_holds_the_lora(imported: Path, recipe_id: str) -> None:
    """The LoRA each of these loads is in its download block, linked to its catalog entry."""
    recipe = read_recipe(imported, recipe_id)
    listed = {file.path.rsplit("/", 1)[-1]: file.lora for file in recipe.files if file.folder == "loras"}
    for use in (use for stage in recipe.lora_path.stages for use in stage.loras):
        assert use.lora is not None
        assert listed[use.file] == use.lora


def test_every_card_lists_every_file_its_paths_load(imported: Path) -> None:
    """Each stage's model and LoRA files are in the recipe's files; a bypassed 1.3B alternative is not."""
    for path in sorted((imported / "data" / "recipes").glob("*.yaml")):
        recipe = read_recipe(imported, path.stem)
        listed = {file.path.rsplit("/", 1)[-1] for file in recipe.files}
        stages = [*recipe.lora_path.stages, *(recipe.default_path.stages if recipe.default_path else ())]
        for stage in stages:
            assert {stage.model_file, *(use.file for use in stage.loras)} - {None} <= listed, path.name
    assert not any("1.3B" in file.path for file in read_recipe(imported, "wan-vace-14b-t2v").files)


def test_causvid_is_linked_from_all_five_vace_templates(imported: Path) -> None:
    """Every template that loads the CausVid LoRA names its catalog entry (the LoRA page lists five)."""
    using = [
        path.stem
        for path in sorted((imported / "data" / "recipes").glob("*.yaml"))
        if any(
            use.lora == "wan21-causvid-14b-t2v-lora-rank32"
            for stage in read_recipe(imported, path.stem).lora_path.stages
            for use in stage.loras
        )
    ]
    assert using == [
        "wan-vace-14b-ref2v",
        "wan-vace-14b-t2v",
        "wan-vace-14b-v2v",
        "wan-vace-inpainting",
        "wan-vace-outpainting",
    ]


# --- point 2: the template's own settings for its LoRA path ------------------------------------------


def test_alpha_t2v_takes_the_lora_path_settings_from_its_note(imported: Path) -> None:
    """The note's table: 4 steps, CFG 1 with the 4-step LoRA (the KSampler keeps 20 and 6 for the default)."""
    recipe = read_recipe(imported, "wan2.1-alpha-t2v-14b")
    (lora,) = recipe.lora_path.stages
    assert [(use.file, use.bypassed) for use in lora.loras] == [
        ("lightx2v_T2V_14B_cfg_step_distill_v2_lora_rank64_bf16.safetensors", True),
        ("wan_alpha_2.1_rgba_lora.safetensors", False),
    ]
    assert (lora.steps, lora.cfg) == (4, 1.0)
    assert recipe.lora_path.source is not None
    assert recipe.lora_path.source.note == "KSampler Setting"
    assert "| steps     | 20                             | 4              |" in recipe.lora_path.source.text
    assert recipe.lora_path.from_note == ("cfg", "steps")
    assert recipe.default_path is not None
    (default,) = recipe.default_path.stages
    assert (default.steps, default.cfg, [use.file for use in default.loras]) == (
        20,
        6.0,
        ["wan_alpha_2.1_rgba_lora.safetensors"],
    )
    assert recipe.default_path.from_note == ()  # the nodes and the note agree
    assert recipe.opens_with == "default_path"


# --- point 5: alternatives and caveats ---------------------------------------------------------------


def test_bypassed_groups_without_lora_are_kept_as_the_other_path(imported: Path) -> None:
    """S2V: 20 steps, CFG 6 (its 'Basic sampling' group); Fun Inpaint: 20 steps, CFG 3.5, shift 8."""
    s2v = read_recipe(imported, "wan2-2-14b-s2v")
    assert s2v.default_path is not None
    assert [(stage.steps, stage.cfg, stage.loras) for stage in s2v.default_path.stages] == [(20, 6.0, ())]
    assert s2v.default_path.group == "Basic sampling"
    inpaint = read_recipe(imported, "wan2-2-14b-fun-inpaint")
    assert inpaint.default_path is not None
    assert {(stage.steps, stage.cfg, stage.shift) for stage in inpaint.default_path.stages} == {
        (20, 3.5, 8.0)
    }
    assert (s2v.opens_with, inpaint.opens_with) == ("lora_path", "lora_path")


@pytest.mark.parametrize(
    "recipe_id", ["wan-vace-14b-ref2v", "wan-vace-14b-t2v", "wan-vace-14b-v2v", "wan-vace-outpainting"]
)
def test_vace_shows_the_path_only_its_note_gives(imported: Path, recipe_id: str) -> None:
    """'KSampler Setting': default 20 steps, CFG 6, shown as the note's; CausVid's 2-4 steps cited."""
    recipe = read_recipe(imported, recipe_id)
    assert recipe.default_path is not None
    (default,) = recipe.default_path.stages
    assert (default.steps, default.cfg, default.loras) == (20, 6.0, ())
    assert recipe.default_path.from_note == ("cfg", "steps")
    assert recipe.default_path.source is not None
    assert recipe.default_path.source.note == "KSampler Setting"
    assert "- steps: 2-4" in recipe.default_path.source.text
    assert recipe.lora_path.source == recipe.default_path.source
    assert recipe.opens_with == "lora_path"


@pytest.mark.parametrize(
    ("recipe_id", "words", "note"),
    [
        ("wan2-2-14b-flf2v", "will result in the loss of video dynamics", "Note: About 4 Steps LoRA"),
        ("wan2-2-14b-fun-inpaint", "will result in the loss of video dynamics", "About 4 Steps LoRA"),
        ("wan-vace-14b-t2v", "which should be between 0.3 and 0.7", "About CausVid LoRA"),
        ("wan-vace-outpainting", "which should be between 0.3 and 0.7", "About CausVid LoRA"),
        ("wan2-2-14b-s2v", "all worked, but many keys didn't match", "About lightning LoRA"),
    ],
)
def test_the_templates_caveats_are_quoted_and_cited(
    imported: Path, recipe_id: str, words: str, note: str
) -> None:
    """The author's words, verbatim, with the note they are in."""
    quotes = [quote for quote in read_recipe(imported, recipe_id).quotes if words in quote.text]
    assert len(quotes) == 1
    assert quotes[0].note == note
    raw = (installed().folder / f"{read_recipe(imported, recipe_id).source.template}.json").read_text(
        encoding="utf-8"
    )
    assert json_text(quotes[0].text) in raw


def json_text(text: str) -> str:
    """A quote as the template's JSON writes it (without the quotes around it)."""
    return json.dumps(text, ensure_ascii=False)[1:-1]


# --- point 6: bypassed groups --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("recipe_id", "group", "how"),
    [
        ("wan2-2-14b-flf2v", "Enable lightning lora version", "Ctrl + B"),
        ("wan2-2-14b-fun-camera", "LightX2V 4 Steps LoRA", "you can enable one as needed"),
        (
            "wan2-2-14b-fun-control",
            "Wan2.2 Fun Control fp8 scaled+ 4 steps LoRA",
            "you can enable one as needed",
        ),
    ],
)
def test_a_bypassed_lora_group_says_to_switch_the_group(
    imported: Path, recipe_id: str, group: str, how: str
) -> None:
    """Switching the LoRA nodes on changes nothing: the recipe names the group and quotes the note's way."""
    recipe = read_recipe(imported, recipe_id)
    assert recipe.lora_path.group is not None
    assert recipe.lora_path.group.startswith(group)
    assert all(stage.loras and all(use.bypassed for use in stage.loras) for stage in recipe.lora_path.stages)
    assert recipe.opens_with == "default_path"
    assert any("switching its LoRA nodes on changes nothing" in note for note in recipe.notes)
    assert not any("until they are switched on" in note for note in recipe.notes)
    assert any(how in quote.text for quote in recipe.quotes)
