"""What a header says, as data: the public facts models and their vocabularies."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    StringConstraints,
    model_serializer,
)

from generator.text import refuse_unsafe
from generator.vocabulary import ARCHITECTURE_IDS, ArchitectureId, Generation, NoiseLevel, SizeClass
from generator.vocabulary import ArchitectureTask as Task

MAX_COUNT = 2**53
"""Largest count, size or dimension stored (exact in JSON and JavaScript numbers alike)."""
Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]
Line = Annotated[str, StringConstraints(max_length=2000), AfterValidator(refuse_unsafe)]
"""One line of text: no line break, control or bidi character (it reaches pages and terminals)."""
Share = Annotated[float, Field(ge=0, le=1)]


def _known_architecture(value: str) -> str:
    if value not in ARCHITECTURE_IDS:
        raise ValueError(f"unknown architecture {value!r}; known: {', '.join(ARCHITECTURE_IDS)}")
    return value


ArchitectureKey = Annotated[str, AfterValidator(_known_architecture)]
"""An architecture id used as a mapping key (typed ``str`` so that any id string can look it up)."""
Scalar = Annotated[float, Field(ge=-MAX_COUNT, le=MAX_COUNT)]

KeyFormat = Literal[
    "comfyui",
    "comfyui-peft",
    "kohya",
    "videox-fun",
    "diffusers",
    "peft-other",
    "lycoris",
    "unknown",
    "mixed",
]
"""Key layout family: ``comfyui`` = ``diffusion_model.`` + lora_down/lora_up; ``comfyui-peft`` = the same names with
PEFT lora_A/lora_B and no alpha (written by diffusion-pipe, musubi-tuner's converter and ai-toolkit alike);
``lycoris`` = LoHa/LoKr factors under any prefix."""
SuffixFamily = Literal[
    "lora_down/lora_up",
    "lora_A/lora_B",
    "lora_A/lora_B.default",
    "legacy",
    "stand-in",
    "lycoris",
    "none",
    "mixed",
]
Role = Literal["down", "up", "mid", "alpha", "diff", "diff_b", "diff_m", "dora_scale", "lycoris"]
VerdictKind = Literal["fits", "partial", "no", "unknown"]
"""What native ComfyUI's ``LoraLoaderModelOnly`` does with the file on one architecture
(:mod:`generator.lora.comfyui`): ``fits`` = something applied, nothing fails at merge, no weight key left out;
``partial`` = some applied while other keys are not loaded, never merged, replaced or fail at merge; ``no`` =
nothing applied, merge errors outnumber what applies, or loading raises; ``unknown`` = no key looks like a LoRA
weight, or an adapter whose merge is not modelled (OFT, GLoRA) is loaded."""
PatchOutcome = Literal[
    "applied", "not_loaded", "never_merged", "merge_error", "superseded", "load_error", "unmodelled"
]
"""What becomes of one patch (one changed model parameter) or of keys ComfyUI does not load."""
NotLoadedCause = Literal[
    "prefix",
    "lora_unet__",
    "diffusers-names",
    "diff_m",
    "vace",
    "flf",
    "image-branch",
    "blocks-beyond",
    "no-parameter",
    "unread",
]
"""Why keys are not loaded, in the order reasons list them: a prefix ComfyUI maps nothing from for Wan, Wan-Fun
``lora_unet__`` without its trigger key, diffusers module names, LightX2V ``.diff_m``, VACE modules, FLF2V's
``img_emb.emb_pos``, the CLIP image branch on a model built without it, blocks beyond the model's last, another
parameter the model lacks, or a name no adapter reads."""
Confidence = Literal["high", "medium", "low", "none"]
GuessSource = Literal["shape", "metadata", "filename", "none"]

FROZEN = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class ModuleEvidence(BaseModel):
    """Shapes one (generic) module shows; ``None`` where the file does not reveal them."""

    model_config = FROZEN

    out_features: Count | None
    in_features: Count | None
    weight: tuple[Count, ...] | None
    bias: tuple[Count, ...] | None
    instances: Count
    keys: Count


class RankSummary(BaseModel):
    """Per-module LoRA ranks, capped modules excluded (§5 step 6)."""

    model_config = FROZEN

    kind: Literal["uniform", "adaptive", "none"]
    nominal: Count | None = None
    min: Count | None = None
    max: Count | None = None
    mean: Scalar | None = None
    weighted_mean: Scalar | None = None
    median: Scalar | None = None
    modules: Count = 0
    capped: tuple[Line, ...] = ()


class PrecisionSummary(BaseModel):
    """Byte-weighted dtype shares of every tensor except alphas (§5 step 7)."""

    model_config = FROZEN

    label: Line
    shares: dict[Line, Share]


class AlphaSummary(BaseModel):
    """Alpha tensors, metadata alpha and the resulting scale (§5 step 12)."""

    model_config = FROZEN

    pairs: Count
    with_alpha: Count
    tensor_dtypes: tuple[Line, ...]
    metadata_alpha: Scalar | None
    scale: Scalar | None
    note: Line


class DimSignature(BaseModel):
    """Base-model dimensions visible in the LoRA (each ``None`` when not observable)."""

    model_config = FROZEN

    dim: Count | None = None
    ffn_dim: Count | None = None
    in_dim: Count | None = None
    out_dim: Count | None = None
    text_dim: Count | None = None
    freq_dim: Count | None = None


class BlockCoverage(BaseModel):
    """Which transformer blocks carry LoRA keys."""

    model_config = FROZEN

    count: Count
    layers_seen: Count
    absent: tuple[Count, ...]
    vace_blocks: Count


class PatchCounts(BaseModel):
    """The counts behind a verified verdict, so that pages can show them and not only the reason's sentence.

    ``outcomes`` counts patches (a LoRA pair, a LyCORIS factor set or a full delta: one changed parameter) and,
    under ``not_loaded``, groups of keys that share a stem; ``keys_not_loaded`` counts the keys themselves (never
    ``.alpha`` scalars) by cause. ``wrapper_keys`` of those Kijai's WanVideoWrapper would load after renaming.
    """

    model_config = FROZEN

    patches: Count
    outcomes: dict[PatchOutcome, Count]
    keys_not_loaded: dict[NotLoadedCause, Count]
    wrapper_keys: Count

    @property
    def applied(self) -> int:
        """Patches ComfyUI merges into the model."""
        return self.outcomes.get("applied", 0)


class Verdict(BaseModel):
    """Whether a LoRA fits one base architecture, and why; ``comfyui`` names the release that judged it and
    ``counts`` holds the numbers behind the reason (both ``None`` in facts of analyser 2 and older)."""

    model_config = FROZEN

    verdict: VerdictKind
    reason: Line
    comfyui: Line | None = None
    counts: PatchCounts | None = None

    @model_serializer(mode="wrap")
    def _without_absent_counts(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Facts of analyser 2 and older are written as they were stored, without ``comfyui``/``counts`` keys,
        so that a snapshot holding them round-trips byte for byte until they are read again."""
        data: dict[str, Any] = handler(self)
        return {k: v for k, v in data.items() if v is not None or k not in ("comfyui", "counts")}


class BaseGuess(BaseModel):
    """The architecture the LoRA was most likely trained on."""

    model_config = FROZEN

    architecture: ArchitectureId | None
    candidates: tuple[ArchitectureId, ...]
    shape_candidates: tuple[ArchitectureId, ...]
    confidence: Confidence
    source: GuessSource
    noise_level: NoiseLevel | None
    reason: Line


ANALYSER_VERSION = 3
"""3: verdicts say what ComfyUI v0.29.0 does with the file, with their counts (issue 19). Raised whenever the analysis changes what it concludes: stored facts of an older version are re-read
(once), so a corrected verdict reaches the snapshot although unchanged files are otherwise never read."""


class HeaderFacts(BaseModel):
    """Everything the header says about a LoRA; JSON round-trips via ``model_validate``."""

    model_config = FROZEN

    analyser: Count = Field(
        default=0, description="ANALYSER_VERSION that produced these facts (0: before versions)"
    )
    key_format: KeyFormat
    format_votes: dict[KeyFormat, Count]
    suffix_family: SuffixFamily
    layout: Line
    writer: Line | None
    diffusers_named_keys: Count
    tensor_count: Count
    parameter_count: Count
    payload_bytes: Count
    unmatched_keys: Count
    rank: RankSummary
    precision: PrecisionSummary
    alpha: AlphaSummary
    dims: DimSignature
    blocks_covered: BlockCoverage
    module_families: tuple[Line, ...]
    has_diff: bool
    has_diff_b: bool
    i2v_keys: Count
    has_flf: bool
    has_vace: bool
    lone_halves: Count
    orphan_alphas: Count
    diff_overrides: Count
    duplicate_keys: Count
    modules: dict[Line, tuple[ModuleEvidence, ...]]
    fits: dict[ArchitectureKey, Verdict]
    base_guess: BaseGuess
    notes: tuple[Line, ...]


class Claims(BaseModel):
    """What a filename or catalog entry says about a LoRA; ``source`` names who says it."""

    model_config = FROZEN

    source: str = "name"
    rank: int | None = None
    rank_adaptive: bool = False
    average_rank: int | None = None
    precision: str | None = None
    generation: Generation | None = None
    task: Task | None = None
    size_class: SizeClass | None = None
    noise_level: NoiseLevel | None = None
