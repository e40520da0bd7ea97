"""What a header says, as data: the public facts models and their vocabularies."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from generator.vocabulary import ArchitectureTask as Task
from generator.vocabulary import Generation, NoiseLevel, SizeClass

KeyFormat = Literal[
    "comfyui", "diffusion-pipe", "kohya", "videox-fun", "diffusers", "peft-other", "unknown", "mixed"
]
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
VerdictKind = Literal["fits", "partial", "no"]
Confidence = Literal["high", "medium", "low", "none"]
GuessSource = Literal["shape", "metadata", "filename", "none"]

FROZEN = ConfigDict(frozen=True, extra="forbid")


class ModuleEvidence(BaseModel):
    """Shapes one (generic) module shows; ``None`` where the file does not reveal them."""

    model_config = FROZEN

    out_features: int | None
    in_features: int | None
    weight: tuple[int, ...] | None
    bias: tuple[int, ...] | None
    instances: int
    keys: int


class RankSummary(BaseModel):
    """Per-module LoRA ranks, capped modules excluded (§5 step 6)."""

    model_config = FROZEN

    kind: Literal["uniform", "adaptive", "none"]
    nominal: int | None = None
    min: int | None = None
    max: int | None = None
    mean: float | None = None
    weighted_mean: float | None = None
    median: float | None = None
    modules: int = 0
    capped: tuple[str, ...] = ()


class PrecisionSummary(BaseModel):
    """Byte-weighted dtype shares of every tensor except alphas (§5 step 7)."""

    model_config = FROZEN

    label: str
    shares: dict[str, float]


class AlphaSummary(BaseModel):
    """Alpha tensors, metadata alpha and the resulting scale (§5 step 12)."""

    model_config = FROZEN

    pairs: int
    with_alpha: int
    tensor_dtypes: tuple[str, ...]
    metadata_alpha: float | None
    scale: float | None
    note: str


class DimSignature(BaseModel):
    """Base-model dimensions visible in the LoRA (each ``None`` when not observable)."""

    model_config = FROZEN

    dim: int | None = None
    ffn_dim: int | None = None
    in_dim: int | None = None
    out_dim: int | None = None
    text_dim: int | None = None
    freq_dim: int | None = None


class BlockCoverage(BaseModel):
    """Which transformer blocks carry LoRA keys."""

    model_config = FROZEN

    count: int
    layers_seen: int
    absent: tuple[int, ...]
    vace_blocks: int


class Verdict(BaseModel):
    """Whether a LoRA fits one base architecture, and why."""

    model_config = FROZEN

    verdict: VerdictKind
    reason: str


class BaseGuess(BaseModel):
    """The architecture the LoRA was most likely trained on."""

    model_config = FROZEN

    architecture: str | None
    candidates: tuple[str, ...]
    shape_candidates: tuple[str, ...]
    confidence: Confidence
    source: GuessSource
    noise_level: NoiseLevel | None
    reason: str


class HeaderFacts(BaseModel):
    """Everything the header says about a LoRA; JSON round-trips via ``model_validate``."""

    model_config = FROZEN

    key_format: KeyFormat
    format_votes: dict[str, int]
    suffix_family: SuffixFamily
    tensor_count: int
    parameter_count: int
    payload_bytes: int
    unmatched_keys: int
    rank: RankSummary
    precision: PrecisionSummary
    alpha: AlphaSummary
    dims: DimSignature
    blocks_covered: BlockCoverage
    module_families: tuple[str, ...]
    has_diff: bool
    has_diff_b: bool
    i2v_keys: int
    has_flf: bool
    has_vace: bool
    lone_halves: int
    orphan_alphas: int
    diff_overrides: int
    duplicate_keys: int
    modules: dict[str, tuple[ModuleEvidence, ...]]
    fits: dict[str, Verdict]
    base_guess: BaseGuess
    notes: tuple[str, ...]


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
