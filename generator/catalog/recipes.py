"""Recipes (data/recipes/<id>.yaml): a whole setup as one cited source gives it.

A recipe says which base model runs on each sampling stage (the high- and low-noise experts of Wan 2.2,
or the one model of Wan 2.1), which LoRAs are applied there and at what strength, and the sampler's
settings. Every recipe names its source; `python -m generator import-templates` writes the ones taken
from ComfyUI's official workflow templates. Numbers are rounded to the precision their widget offers.

Types are strict: a number is a YAML number (not `true`, not the text "1.5"), a count is a whole number,
and a flag is `true` or `false` (not "yes"), so an edit by hand cannot slip a wrong kind past validation.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, StrictBool, StrictFloat, StrictInt

from generator.catalog.models import Generation, Line, Prose, RepoId, RepoPath, Slug, Strict
from generator.vocabulary import ArchitectureId, Expert, Task

ComfyFolder = Literal[
    "diffusion_models",
    "loras",
    "vae",
    "text_encoders",
    "clip_vision",
    "audio_encoders",
    "model_patches",
    "checkpoints",
    "upscale_models",
]
"""The folders under ComfyUI/models/ a template's files go into."""


class RecipeSource(Strict):
    """Where the recipe comes from: a versioned package and the template in it."""

    kind: Literal["comfyui-workflow-template"] = "comfyui-workflow-template"
    package: Line = Field(description="the Python package, e.g. comfyui-workflow-templates-json")
    version: Line = Field(description="the package version the recipe was read from")
    template: Line = Field(description="the template's name inside the package")
    title: Line | None = Field(default=None, description="the template's title in the package's index")


class RecipeQuote(Strict):
    """The template author's words, verbatim, cited by the note they are in."""

    text: Prose = Field(description="the note's paragraph (or whole note), exactly as written")
    note: Line = Field(description="the note's title in the template, or 'note N' when it has none")
    node: StrictInt = Field(ge=0, description="the note's node id in the template")


class RecipeLora(Strict):
    """One LoRA loaded on a stage."""

    lora: Slug | None = Field(default=None, description="id of the LoRA in data/loras/, when it is listed")
    file: Line = Field(description="the file name as the source names it")
    strength: StrictFloat | None = Field(
        default=None, ge=-100, le=100, description="model strength, rounded to the widget's 0.01"
    )
    bypassed: StrictBool = Field(default=False, description="true when the source's node is bypassed (off)")


class RecipeStage(Strict):
    """One sampler of the setup: the model it runs, the LoRAs on it, and its settings."""

    expert: Expert | None = Field(default=None, description="noise expert, when the model file says it")
    model: Slug | None = Field(default=None, description="id of the base model in data/models/, if listed")
    model_file: Line | None = Field(default=None, description="the model file as the source names it")
    loras: tuple[RecipeLora, ...] = ()
    sampler: Line | None = None
    scheduler: Line | None = None
    steps: StrictInt | None = Field(default=None, ge=1, le=10_000)
    steps_text: Line | None = Field(
        default=None, description="steps as a note gives them when it gives a range ('2-4'); then no steps"
    )
    cfg: StrictFloat | None = Field(default=None, ge=0, le=100)
    shift: StrictFloat | None = Field(default=None, ge=0, le=100)
    default_shift: StrictBool = Field(
        default=False,
        description="true when no shift node (ModelSamplingSD3) is on the chain: the model's default shift",
    )
    start_step: StrictInt | None = Field(
        default=None, ge=0, le=10_000, description="first step of this stage"
    )
    end_step: StrictInt | None = Field(default=None, ge=0, le=10_000, description="step where it hands over")


class RecipePath(Strict):
    """One way through the template: with the LoRAs, or its default without them."""

    label: Line = Field(description="how the source names this path, e.g. 'with the 4-step LoRAs'")
    stages: tuple[RecipeStage, ...] = Field(min_length=1)
    group: Line | None = Field(
        default=None,
        description="the template's group that holds this path, when the template ships it bypassed: the "
        "whole group is enabled (and the other bypassed) to use it",
    )
    source: RecipeQuote | None = Field(
        default=None, description="the template's note that gives this path's settings, quoted"
    )
    from_note: tuple[Literal["steps", "cfg"], ...] = Field(
        default=(), description="the settings taken from that note rather than read from the nodes"
    )


class RecipeFile(Strict):
    """A file the setup downloads, and the ComfyUI folder it belongs in."""

    folder: ComfyFolder
    repo: RepoId
    path: RepoPath
    lora: Slug | None = Field(default=None, description="for a LoRA file: its id in data/loras/")


class Recipe(Strict):
    """A setup as one source gives it (data/recipes/<id>.yaml)."""

    id: Slug
    title: Line
    generation: Generation
    task: Task
    architecture: ArchitectureId | None = Field(
        default=None, description="the base model the setup runs on; none for variants of their own"
    )
    variant: Line | None = Field(
        default=None, description="a model variant (VACE, Fun Control, S2V …); none for the plain base"
    )
    width: StrictInt | None = Field(default=None, ge=1, le=100_000)
    height: StrictInt | None = Field(default=None, ge=1, le=100_000)
    frames: StrictInt | None = Field(default=None, ge=1, le=100_000)
    lora_path: RecipePath = Field(
        description="the path that loads the LoRAs; a baseline's one path (a template that loads no LoRA)"
    )
    default_path: RecipePath | None = Field(
        default=None,
        description="the path without the LoRAs (or with its LoRA switch off), when it offers both",
    )
    opens_with: Literal["lora_path", "default_path"] | None = Field(
        default=None,
        description="the path the template opens with, as saved (its LoRA switch's value, or LoRA nodes "
        "shipped bypassed); none when the source does not say",
    )
    notes: tuple[Prose, ...] = Field(default=(), description="what the reader should know (bypassed nodes)")
    quotes: tuple[RecipeQuote, ...] = Field(
        default=(),
        description="the template's own guidance, quoted: its caveats about the LoRA and how to switch paths",
    )
    files: tuple[RecipeFile, ...] = ()
    source: RecipeSource
    added: dt.date

    @property
    def baseline(self) -> bool:
        """True for a template that loads no LoRA: its one path (``lora_path``) is the model's own setting."""
        return self.default_path is None and not any(stage.loras for stage in self.lora_path.stages)

    def loads_model(self, model_id: str) -> bool:
        """True when a stage of either path runs the catalogued model ``model_id``."""
        paths = (self.lora_path, self.default_path) if self.default_path else (self.lora_path,)
        return any(stage.model == model_id for path in paths for stage in path.stages)
