"""What a Wan LoRA really is, derived from its safetensors header alone.

Pure analysis, no I/O: parse a header (raw bytes or ``HfApi.parse_safetensors_file_metadata`` output), map every
key onto a canonical Wan module, and derive format, rank, precision, alpha, dimensions, coverage, per-architecture
fit, a training-base guess and contradictions with what a name or catalog claims. The algorithm follows
``wan-lora-format.md`` §5 (inference) and §6 (compatibility).
"""

from __future__ import annotations

import json
import math
import re
import statistics
import struct
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from generator.architectures import (
    ARCHITECTURE_IDS,
    ARCHITECTURES,
    Architecture,
    Generation,
    ModuleShape,
    SizeClass,
    Task,
    expected_shape,
    get_architecture,
    is_image_branch,
    split_block,
)

if TYPE_CHECKING:
    from huggingface_hub.utils._safetensors import SafetensorsFileMetadata

MAX_HEADER_BYTES = 25_000_000
"""Largest JSON header accepted (the Hub's own limit)."""

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
NoiseLevel = Literal["high", "low"]

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class HeaderError(ValueError):
    """The bytes are not a readable safetensors header."""


# --------------------------------------------------------------------------------------------- parsing


class TensorSpec(BaseModel):
    """One tensor as the header describes it (no values)."""

    model_config = _FROZEN

    dtype: str
    shape: tuple[int, ...]


def header_from_bytes(data: bytes) -> tuple[dict[str, TensorSpec], dict[str, str]]:
    """Parse the start of a safetensors file (u64le ``N`` + ``N`` bytes of JSON; more bytes are ignored)."""
    if len(data) < 8:
        raise HeaderError("fewer than 8 bytes: no safetensors header length")
    (size,) = struct.unpack("<Q", data[:8])
    if size > MAX_HEADER_BYTES:
        raise HeaderError(f"header length {size} exceeds {MAX_HEADER_BYTES} bytes")
    if len(data) < 8 + size:
        raise HeaderError(f"header declares {size} bytes but only {len(data) - 8} follow")
    try:
        raw = json.loads(data[8 : 8 + size].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise HeaderError(f"header is not JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise HeaderError("header JSON is not an object")
    return _tensors_from_json(raw), _metadata_from_json(raw.get("__metadata__"))


def _tensors_from_json(raw: dict[str, object]) -> dict[str, TensorSpec]:
    """Turn the header's tensor entries into :class:`TensorSpec` values, sorted by name."""
    tensors: dict[str, TensorSpec] = {}
    for name in sorted(raw):
        entry = raw[name]
        if name == "__metadata__":
            continue
        if not isinstance(entry, dict) or "dtype" not in entry or "shape" not in entry:
            raise HeaderError(f"tensor {name!r} lacks dtype or shape")
        try:
            tensors[name] = TensorSpec(dtype=str(entry["dtype"]), shape=entry["shape"])
        except ValidationError as exc:
            raise HeaderError(f"tensor {name!r} has an invalid shape: {entry['shape']!r}") from exc
    return tensors


def _metadata_from_json(raw: object) -> dict[str, str]:
    """``__metadata__`` as a sorted string map (absent or empty gives ``{}``)."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise HeaderError("__metadata__ is not an object")
    return {str(k): str(raw[k]) for k in sorted(raw)}


def header_from_hub(meta: SafetensorsFileMetadata) -> tuple[dict[str, TensorSpec], dict[str, str]]:
    """Adapt ``HfApi.parse_safetensors_file_metadata`` output to the shape :func:`analyse_header` takes."""
    tensors = {
        name: TensorSpec(dtype=info.dtype, shape=tuple(info.shape))
        for name, info in sorted(meta.tensors.items())
    }
    return tensors, {k: meta.metadata[k] for k in sorted(meta.metadata or {})}


# ------------------------------------------------------------------------------------ key splitting


_PAIR_SUFFIXES: tuple[tuple[str, Role, SuffixFamily], ...] = (
    (".lora_A.default.weight", "down", "lora_A/lora_B.default"),
    (".lora_B.default.weight", "up", "lora_A/lora_B.default"),
    (".lora_linear_layer.down.weight", "down", "legacy"),
    (".lora_linear_layer.up.weight", "up", "legacy"),
    (".lora_down.weight", "down", "lora_down/lora_up"),
    (".lora_up.weight", "up", "lora_down/lora_up"),
    (".lora_mid.weight", "mid", "lora_down/lora_up"),
    (".lora_A.weight", "down", "lora_A/lora_B"),
    (".lora_B.weight", "up", "lora_A/lora_B"),
    (".lora_B.bias", "diff_b", "lora_A/lora_B"),
    ("_loras.down.weight", "down", "stand-in"),
    ("_loras.up.weight", "up", "stand-in"),
    ("_lora.down.weight", "down", "legacy"),
    ("_lora.up.weight", "up", "legacy"),
    (".lora.down.weight", "down", "legacy"),
    (".lora.up.weight", "up", "legacy"),
    (".lora_A", "down", "legacy"),
    (".lora_B", "up", "legacy"),
)
_PLAIN_SUFFIXES: tuple[tuple[str, Role], ...] = (
    (".dora_scale", "dora_scale"),
    (".alpha", "alpha"),
    (".diff_b", "diff_b"),
    (".diff_m", "diff_m"),
    (".diff", "diff"),
)
_SUFFIXES: tuple[tuple[str, Role, SuffixFamily | None], ...] = tuple(
    sorted([*_PAIR_SUFFIXES, *((s, r, None) for s, r in _PLAIN_SUFFIXES)], key=lambda t: -len(t[0]))
)
_LYCORIS = re.compile(r"\.(?:hada_(?:w[12]_[ab]|t[12])|lokr_(?:w[12](?:_[ab])?|t2))$")


def split_key(name: str) -> tuple[str, Role, SuffixFamily | None] | None:
    """Split a key into ``(module path, role, suffix family)`` by the longest known suffix (§5 step 2)."""
    lycoris = _LYCORIS.search(name)
    if lycoris is not None:
        return name[: lycoris.start()], "lycoris", "lycoris"
    for suffix, role, family in _SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)], role, family
    return None


# --------------------------------------------------------------------------------- canonical names

_S = "[._]"
_LOCAL_ATTN = r"(self_attn|cross_attn)" + _S + r"(q|k|v|o|k_img|v_img|norm_q|norm_k|norm_k_img)"
_VOCABULARY: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), template)
    for pattern, template in (
        (rf"blocks{_S}(\d+){_S}{_LOCAL_ATTN}", r"blocks.\1.\2.\3"),
        (rf"blocks{_S}(\d+){_S}ffn{_S}(0|2)", r"blocks.\1.ffn.\2"),
        (rf"blocks{_S}(\d+){_S}(norm3|modulation)", r"blocks.\1.\2"),
        (rf"vace_blocks{_S}(\d+){_S}(.+)", r"vace_blocks.\1.\2"),
        (rf"(text_embedding|time_embedding){_S}(0|2)", r"\1.\2"),
        (rf"time_projection{_S}1", "time_projection.1"),
        (rf"head{_S}(head|modulation)", r"head.\1"),
        (rf"img_emb{_S}proj{_S}(0|1|3|4)", r"img_emb.proj.\1"),
        (rf"img_emb{_S}emb_pos", "img_emb.emb_pos"),
        (r"(vace_patch_embedding|patch_embedding)", r"\1"),
    )
)
"""Closed vocabulary of original Wan module names; separators may be ``.`` or ``_`` (§5 step 4)."""

_MODULATION_OWNER = re.compile(rf"(?:blocks{_S}(\d+)|head)")

_DIFFUSERS_BLOCK: dict[str, str] = {
    **{
        f"{new}.{d}": f"{old}.{o}"
        for new, old in (("attn1", "self_attn"), ("attn2", "cross_attn"))
        for d, o in (("to_q", "q"), ("to_k", "k"), ("to_v", "v"), ("to_out.0", "o"))
    },
    **{
        f"{n}.norm_{x}": f"{o}.norm_{x}"
        for n, o in (("attn1", "self_attn"), ("attn2", "cross_attn"))
        for x in "qk"
    },
    "attn2.add_k_proj": "cross_attn.k_img",
    "attn2.add_v_proj": "cross_attn.v_img",
    "attn2.norm_added_k": "cross_attn.norm_k_img",
    "norm2": "norm3",
    "ffn.net.0.proj": "ffn.0",
    "ffn.net.2": "ffn.2",
    "scale_shift_table": "modulation",
}
"""diffusers block-local names → original names (diffusers ``norm2`` is the original ``norm3``)."""

_IMAGE_EMBEDDER = "condition_embedder.image_embedder."
_DIFFUSERS_TOP: dict[str, str] = {
    "patch_embedding": "patch_embedding",
    "condition_embedder.text_embedder.linear_1": "text_embedding.0",
    "condition_embedder.text_embedder.linear_2": "text_embedding.2",
    "condition_embedder.time_embedder.linear_1": "time_embedding.0",
    "condition_embedder.time_embedder.linear_2": "time_embedding.2",
    "condition_embedder.time_proj": "time_projection.1",
    "proj_out": "head.head",
    "scale_shift_table": "head.modulation",
    _IMAGE_EMBEDDER + "norm1": "img_emb.proj.0",
    _IMAGE_EMBEDDER + "ff.net.0.proj": "img_emb.proj.1",
    _IMAGE_EMBEDDER + "ff.net.2": "img_emb.proj.3",
    _IMAGE_EMBEDDER + "norm2": "img_emb.proj.4",
    _IMAGE_EMBEDDER + "pos_embed": "img_emb.emb_pos",
}
_DIFFUSERS_BLOCK_PATH = re.compile(r"blocks\.(\d+)\.(.+)")

_PREFIXES: tuple[tuple[str, str], ...] = (
    ("model.diffusion_model.", "diffusion_model"),
    ("diffusion_model.", "diffusion_model"),
    ("lora_unet__", "videox-fun"),
    ("lora_unet_", "kohya"),
    ("transformer.", "transformer"),
    ("base_model.model.", "peft-other"),
    ("pipe.dit.", "peft-other"),
    ("lycoris_", "peft-other"),
    ("", "peft-other"),
)
"""Key prefixes and the format family they vote for (§4.2, §5 step 3); the bare prefix is tried last."""


def _original_name(path: str, *, modulation_owner: bool = False) -> str | None:
    """Canonical Wan name of an original-style path (dots, underscores or a mixture), else ``None``."""
    if modulation_owner:
        owner = _MODULATION_OWNER.fullmatch(path)
        if owner is None:
            return None
        return f"blocks.{owner.group(1)}.modulation" if owner.group(1) else "head.modulation"
    for pattern, template in _VOCABULARY:
        match = pattern.fullmatch(path)
        if match is not None:
            return match.expand(template)
    return None


def _diffusers_name(path: str) -> str | None:
    """Canonical Wan name of a diffusers ``WanTransformer3DModel`` path, else ``None``."""
    block = _DIFFUSERS_BLOCK_PATH.fullmatch(path)
    if block is not None:
        local = _DIFFUSERS_BLOCK.get(block.group(2))
        return f"blocks.{block.group(1)}.{local}" if local else None
    return _DIFFUSERS_TOP.get(path)


def canonicalise(stem: str, *, modulation_owner: bool = False) -> tuple[str, str | None]:
    """Return ``(format vote, canonical module)`` for a key stem; unknown modules vote ``"unknown"``."""
    for prefix, vote in _PREFIXES:
        if not stem.startswith(prefix):
            continue
        path = stem[len(prefix) :]
        if vote == "transformer":
            diffusers = None if modulation_owner else _diffusers_name(path)
            if diffusers is not None:
                return "diffusers", diffusers
            vote = "peft-other"
        module = _original_name(path, modulation_owner=modulation_owner)
        if module is not None:
            return vote, module
        return "unknown", None
    return "unknown", None  # pragma: no cover - the bare prefix always matches


@dataclass(frozen=True)
class _Key:
    """One header key after suffix split and canonicalisation."""

    name: str
    vote: str
    module: str | None
    role: Role | None
    family: SuffixFamily | None
    spec: TensorSpec


def _classify(name: str, spec: TensorSpec) -> _Key:
    """Split and canonicalise one key; unmatched keys get ``module=None``."""
    split = split_key(name)
    if split is None:
        return _Key(name, "unknown", None, None, None, spec)
    stem, role, family = split
    vote, module = canonicalise(stem, modulation_owner=role == "diff_m")
    return _Key(name, vote, module, "diff" if role == "diff_m" else role, family, spec)


# ------------------------------------------------------------------------------------ module groups


@dataclass
class _Module:
    """All roles seen for one canonical module."""

    name: str
    roles: dict[Role, TensorSpec] = field(default_factory=dict)
    keys: int = 0

    def get(self, role: Role) -> tuple[int, ...] | None:
        spec = self.roles.get(role)
        return spec.shape if spec is not None else None

    @property
    def rank(self) -> int | None:
        """``down.shape[0]`` for a complete pair, else ``None``."""
        down, up = self.get("down"), self.get("up")
        if down is None or up is None or not down:
            return None
        return down[0]

    @property
    def out_features(self) -> int | None:
        for shape in (self.get("up"), self.get("diff"), self.get("diff_b")):
            if shape:
                return shape[0]
        return None

    @property
    def in_features(self) -> int | None:
        down, diff = self.get("down"), self.get("diff")
        if down is not None and len(down) >= 2:
            return math.prod(down[1:])
        if diff is not None and len(diff) >= 2:
            return math.prod(diff[1:])
        return None


def _group(keys: Iterable[_Key]) -> dict[str, _Module]:
    """Group recognised keys by canonical module, sorted by module name."""
    modules: dict[str, _Module] = {}
    for key in keys:
        if key.module is None or key.role is None:
            continue
        module = modules.setdefault(key.module, _Module(key.module))
        module.roles[key.role] = key.spec
        module.keys += 1
    return {name: modules[name] for name in sorted(modules)}


def generic_name(module: str) -> str:
    """``blocks.7.ffn.0`` → ``blocks.*.ffn.0`` (VACE blocks likewise); top-level names are unchanged."""
    return re.sub(r"^(vace_blocks|blocks)\.\d+\.", r"\1.*.", module)


def module_family(module: str) -> str:
    """Family of a canonical module for coverage reports (``self_attn``, ``ffn``, ``norms``, ``head`` …)."""
    if module.startswith("vace"):
        return "vace"
    if is_image_branch(module):
        return "img_emb" if module.startswith("img_emb.") else "cross_attn_img"
    _index, local = split_block(module)
    if local in {"self_attn.norm_q", "self_attn.norm_k", "cross_attn.norm_q", "cross_attn.norm_k", "norm3"}:
        return "norms"
    if local.endswith("modulation"):
        return "modulation"
    return local.split(".")[0]


# ------------------------------------------------------------------------------------ public models


class ModuleEvidence(BaseModel):
    """Shapes one (generic) module shows; ``None`` where the file does not reveal them."""

    model_config = _FROZEN

    out_features: int | None
    in_features: int | None
    weight: tuple[int, ...] | None
    bias: tuple[int, ...] | None
    instances: int
    keys: int


class RankSummary(BaseModel):
    """Per-module LoRA ranks, capped modules excluded (§5 step 6)."""

    model_config = _FROZEN

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

    model_config = _FROZEN

    label: str
    shares: dict[str, float]


class AlphaSummary(BaseModel):
    """Alpha tensors, metadata alpha and the resulting scale (§5 step 12)."""

    model_config = _FROZEN

    pairs: int
    with_alpha: int
    tensor_dtypes: tuple[str, ...]
    metadata_alpha: float | None
    scale: float | None
    note: str


class DimSignature(BaseModel):
    """Base-model dimensions visible in the LoRA (each ``None`` when not observable)."""

    model_config = _FROZEN

    dim: int | None = None
    ffn_dim: int | None = None
    in_dim: int | None = None
    out_dim: int | None = None
    text_dim: int | None = None
    freq_dim: int | None = None


class BlockCoverage(BaseModel):
    """Which transformer blocks carry LoRA keys."""

    model_config = _FROZEN

    count: int
    layers_seen: int
    absent: tuple[int, ...]
    vace_blocks: int


class Verdict(BaseModel):
    """Whether a LoRA fits one base architecture, and why."""

    model_config = _FROZEN

    verdict: VerdictKind
    reason: str


class BaseGuess(BaseModel):
    """The architecture the LoRA was most likely trained on."""

    model_config = _FROZEN

    architecture: str | None
    candidates: tuple[str, ...]
    shape_candidates: tuple[str, ...]
    confidence: Confidence
    source: GuessSource
    noise_level: NoiseLevel | None
    reason: str


class HeaderFacts(BaseModel):
    """Everything the header says about a LoRA; JSON round-trips via ``model_validate``."""

    model_config = _FROZEN

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

    model_config = _FROZEN

    source: str = "name"
    rank: int | None = None
    rank_adaptive: bool = False
    average_rank: int | None = None
    precision: str | None = None
    generation: Generation | None = None
    task: Task | None = None
    size_class: SizeClass | None = None
    noise_level: NoiseLevel | None = None


# ----------------------------------------------------------------------------------------- format


_VOTED_FORMATS: dict[str, KeyFormat] = {
    "comfyui": "comfyui",
    "diffusion-pipe": "diffusion-pipe",
    "kohya": "kohya",
    "videox-fun": "videox-fun",
    "diffusers": "diffusers",
    "peft-other": "peft-other",
}
"""Per-key votes that name a Wan key format."""


def _key_format(keys: list[_Key], suffix_family: SuffixFamily) -> tuple[KeyFormat, dict[str, int]]:
    """Majority vote over key prefixes (§5 step 3); ``diffusion_model.`` splits into A and A′."""
    has_alpha = any(k.role == "alpha" for k in keys)
    peft_suffixes = suffix_family == "lora_A/lora_B"
    a_format = "diffusion-pipe" if peft_suffixes and not has_alpha else "comfyui"
    votes = Counter(a_format if k.vote == "diffusion_model" else k.vote for k in keys)
    known = {v: n for v, n in votes.items() if v != "unknown"}
    ordered = {v: votes[v] for v in sorted(votes)}
    if not known or votes["unknown"] > sum(known.values()):
        return "unknown", ordered
    top, top_count = max(sorted(known.items()), key=lambda item: item[1])
    if len(known) > 1 and top_count < 0.9 * sum(known.values()):
        return "mixed", ordered
    return _VOTED_FORMATS[top], ordered


def _suffix_family(keys: list[_Key]) -> SuffixFamily:
    """The suffix family of the LoRA pairs: the only one seen, ``mixed`` or ``none`` (diff-only)."""
    families = {
        k.family for k in keys if k.module is not None and k.family is not None and k.role != "diff_b"
    }
    if not families:
        return "none"
    if len(families) > 1:
        return "mixed"
    return families.pop()


# ------------------------------------------------------------------------------------------- rank


@dataclass(frozen=True)
class _Pair:
    module: str
    rank: int
    in_features: int
    out_features: int


def _pairs(modules: Mapping[str, _Module]) -> list[_Pair]:
    """Complete down/up pairs with consistent rank (LyCORIS and broken pairs excluded)."""
    pairs = []
    for m in modules.values():
        up = m.get("up")
        if m.rank is None or up is None or len(up) < 2 or up[1] != m.rank:
            continue
        pairs.append(_Pair(m.name, m.rank, m.in_features or 0, up[0]))
    return pairs


def _capped(pair: _Pair, max_rank: int) -> bool:
    """A rank forced down to ``min(in, out)`` (e.g. ``head.head`` at 64) says nothing about the nominal rank."""
    return pair.rank == min(pair.in_features, pair.out_features) < max_rank


def _rank_summary(pairs: list[_Pair]) -> RankSummary:
    """Rank statistics over the uncapped pairs; ``adaptive`` when they differ (§5 step 6)."""
    if not pairs:
        return RankSummary(kind="none")
    top = max(p.rank for p in pairs)
    capped = sorted({generic_name(p.module) for p in pairs if _capped(p, top)})
    kept = [p for p in pairs if not _capped(p, top)]
    ranks = sorted(p.rank for p in kept)
    uniform = len(set(ranks)) == 1
    return RankSummary(
        kind="uniform" if uniform else "adaptive",
        nominal=ranks[0] if uniform else None,
        min=ranks[0],
        max=ranks[-1],
        mean=round(statistics.fmean(ranks), 2),
        weighted_mean=_weighted_mean(kept),
        median=float(statistics.median(ranks)),
        modules=len(ranks),
        capped=tuple(capped),
    )


def _weighted_mean(pairs: list[_Pair]) -> float | None:
    """Mean rank weighted by each module's ``in + out`` (its LoRA size per rank), for size comparisons."""
    total = sum(p.in_features + p.out_features for p in pairs)
    if not total:
        return None
    return round(sum(p.rank * (p.in_features + p.out_features) for p in pairs) / total, 2)


# -------------------------------------------------------------------------------------- precision

_DTYPES: dict[str, tuple[str, int]] = {
    "F64": ("fp64", 8),
    "F32": ("fp32", 4),
    "BF16": ("bf16", 2),
    "F16": ("fp16", 2),
    "F8_E4M3": ("fp8_e4m3fn", 1),
    "F8_E5M2": ("fp8_e5m2", 1),
    "I64": ("int64", 8),
    "I32": ("int32", 4),
    "I16": ("int16", 2),
    "I8": ("int8", 1),
    "U8": ("uint8", 1),
    "BOOL": ("bool", 1),
}
MIXED_SHARE = 0.05
"""A dtype holding at least this share of the weight bytes makes the precision ``mixed``."""


def dtype_name(dtype: str) -> str:
    """Safetensors dtype → the name used in filenames (``BF16`` → ``bf16``, ``F8_E4M3`` → ``fp8_e4m3fn``)."""
    return _DTYPES.get(dtype, (dtype.lower(), 1))[0]


def tensor_bytes(spec: TensorSpec) -> int:
    """Bytes the tensor occupies in the data area."""
    return math.prod(spec.shape) * _DTYPES.get(spec.dtype, ("", 1))[1]


def _precision(keys: list[_Key]) -> PrecisionSummary:
    """Byte-weighted dtype histogram, alphas ignored; ``mixed`` when two dtypes carry real weight."""
    weights: Counter[str] = Counter()
    for key in keys:
        if key.role != "alpha":
            weights[dtype_name(key.spec.dtype)] += tensor_bytes(key.spec)
    total = sum(weights.values())
    if total == 0:
        return PrecisionSummary(label="unknown", shares={})
    shares = {name: round(weights[name] / total, 4) for name in sorted(weights)}
    real = [name for name, share in shares.items() if share >= MIXED_SHARE]
    return PrecisionSummary(label=real[0] if len(real) == 1 else "mixed", shares=shares)


# ------------------------------------------------------------------------------------------ alpha


def _metadata_json(metadata: Mapping[str, str], key: str) -> dict[str, object]:
    """A JSON-object metadata value (e.g. ``lora_adapter_metadata``), ``{}`` when absent or unreadable."""
    try:
        value = json.loads(metadata.get(key, "{}"))
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def _number(value: object) -> float | None:
    """A finite float from a metadata value, else ``None`` (``"Dynamic"``, ``"None"`` …)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _metadata_alpha(metadata: Mapping[str, str]) -> float | None:
    """Alpha hinted by kohya ``ss_network_alpha`` or diffusers ``lora_adapter_metadata.lora_alpha``."""
    if "ss_network_alpha" in metadata:
        return _number(metadata["ss_network_alpha"])
    return _number(_metadata_json(metadata, "lora_adapter_metadata").get("lora_alpha"))


def _metadata_rank(metadata: Mapping[str, str]) -> float | None:
    """Rank hinted by ``ss_network_dim`` or ``lora_adapter_metadata.r``."""
    if "ss_network_dim" in metadata:
        return _number(metadata["ss_network_dim"])
    return _number(_metadata_json(metadata, "lora_adapter_metadata").get("r"))


def _alpha(keys: list[_Key], pairs: int, rank: RankSummary, metadata: Mapping[str, str]) -> AlphaSummary:
    """Alpha share, metadata alpha and scale; the alpha values themselves live in the data area."""
    alphas = [k for k in keys if k.role == "alpha" and k.module is not None]
    meta_alpha = _metadata_alpha(metadata)
    scale, note = _scale(len(alphas), meta_alpha, rank.nominal or _metadata_rank(metadata))
    return AlphaSummary(
        pairs=pairs,
        with_alpha=len(alphas),
        tensor_dtypes=tuple(sorted({dtype_name(k.spec.dtype) for k in alphas})),
        metadata_alpha=meta_alpha,
        scale=scale,
        note=note,
    )


def _scale(alpha_tensors: int, meta_alpha: float | None, rank: float | None) -> tuple[float | None, str]:
    """``alpha / rank`` when both are known, 1.0 without any alpha, otherwise unknown."""
    if meta_alpha is not None and rank:
        scale = round(meta_alpha / rank, 6)
        return scale, f"alpha {meta_alpha:g} / rank {rank:g} = {scale:g} (from metadata)"
    if alpha_tensors == 0 and meta_alpha is None:
        return 1.0, "1.0 (no alpha)"
    return None, "unknown (alpha in data)"


# -------------------------------------------------------------------------------------- evidence


def _evidence(modules: Mapping[str, _Module]) -> dict[str, tuple[ModuleEvidence, ...]]:
    """Merge the shapes of every module into one entry per generic name and distinct shape set."""
    merged: dict[str, dict[tuple[object, ...], list[int]]] = defaultdict(dict)
    for m in modules.values():
        sig = (m.out_features, m.in_features, m.get("diff"), m.get("diff_b"))
        counts = merged[generic_name(m.name)].setdefault(sig, [0, 0])
        counts[0] += 1
        counts[1] += m.keys
    return {name: _evidence_entries(merged[name]) for name in sorted(merged)}


def _evidence_entries(signatures: dict[tuple[object, ...], list[int]]) -> tuple[ModuleEvidence, ...]:
    entries = [
        ModuleEvidence.model_validate(
            {"out_features": o, "in_features": i, "weight": w, "bias": b, "instances": n, "keys": k}
        )
        for (o, i, w, b), (n, k) in signatures.items()
    ]
    return tuple(sorted(entries, key=lambda e: e.model_dump_json()))


_Picker = Callable[[ModuleEvidence], int | None]


def _most_common(
    evidence: Mapping[str, tuple[ModuleEvidence, ...]], names: Iterable[str], pick: _Picker
) -> int | None:
    """Most common value ``pick`` finds over the evidence of ``names`` (ties: the smaller value)."""
    values: Counter[int] = Counter()
    for name in names:
        for e in evidence.get(name, ()):
            value = pick(e)
            if value is not None:
                values[value] += e.instances
    return max(sorted(values), key=lambda v: values[v]) if values else None


def _out(e: ModuleEvidence) -> int | None:
    return e.out_features


def _in(e: ModuleEvidence) -> int | None:
    return e.in_features


def _conv_in(e: ModuleEvidence) -> int | None:
    """Input channels of ``patch_embedding``: from a 5-D diff, or a conv LoRA's ``Din·1·2·2``."""
    return e.weight[1] if e.weight and len(e.weight) == 5 else _div(e.in_features, 4)


def _div(value: int | None, by: int) -> int | None:
    return value // by if value is not None and value % by == 0 else None


_ATTN = [f"blocks.*.{a}.{p}" for a in ("self_attn", "cross_attn") for p in "qkvo"]
_NORMS = [f"blocks.*.{a}.norm_{x}" for a in ("self_attn", "cross_attn") for x in "qk"] + ["blocks.*.norm3"]


def _dims(evidence: Mapping[str, tuple[ModuleEvidence, ...]]) -> DimSignature:
    """Dimension signature (§5 step 8): each value from the modules that show it."""
    return DimSignature(
        dim=_most_common(evidence, _ATTN + _NORMS, _out) or _most_common(evidence, ["blocks.*.ffn.0"], _in),
        ffn_dim=_most_common(evidence, ["blocks.*.ffn.0"], _out)
        or _most_common(evidence, ["blocks.*.ffn.2"], _in),
        in_dim=_most_common(evidence, ["patch_embedding"], _conv_in),
        out_dim=_div(_most_common(evidence, ["head.head"], _out), 4),
        text_dim=_most_common(evidence, ["text_embedding.0"], _in),
        freq_dim=_most_common(evidence, ["time_embedding.0"], _in),
    )


def _coverage(modules: Iterable[str]) -> BlockCoverage:
    """Block indices present, the highest seen and the gaps below it."""
    blocks: set[int] = set()
    vace: set[int] = set()
    for name in modules:
        match = re.match(r"(vace_blocks|blocks)\.(\d+)\.", name)
        if match is not None:
            (vace if match.group(1) == "vace_blocks" else blocks).add(int(match.group(2)))
    seen = max(blocks) + 1 if blocks else 0
    absent = tuple(i for i in range(seen) if i not in blocks)
    return BlockCoverage(count=len(blocks), layers_seen=seen, absent=absent, vace_blocks=len(vace))


# ------------------------------------------------------------------------------------ compatibility

_SOFT_MISMATCH = frozenset({"patch_embedding", "head.head"})
"""Modules whose mismatch loaders skip with a warning; the rest of the LoRA still applies (§5 step 9)."""


def _concrete(generic: str) -> str:
    return generic.replace(".*.", ".0.")


def _matches(e: ModuleEvidence, exp: ModuleShape) -> bool:
    """True when every shape the evidence shows equals the architecture's."""
    checks = (
        e.out_features is None or e.out_features == exp.weight[0],
        e.in_features is None or e.in_features == math.prod(exp.weight[1:]),
        e.weight is None or e.weight == exp.weight,
        e.bias is None or e.bias == exp.bias,
    )
    return all(checks)


@dataclass
class _Fit:
    mismatched: list[str] = field(default_factory=list)
    missing_image: int = 0
    missing_other: int = 0


def _classify_modules(modules: Mapping[str, tuple[ModuleEvidence, ...]], arch: Architecture) -> _Fit:
    """Classify every module ``ok``, ``missing`` (keys counted) or ``mismatch`` on ``arch``."""
    fit = _Fit()
    for name, entries in modules.items():
        exp = expected_shape(arch, _concrete(name))
        keys = sum(e.keys for e in entries)
        if exp is None and is_image_branch(_concrete(name)):
            fit.missing_image += keys
        elif exp is None:
            fit.missing_other += keys
        elif not all(_matches(e, exp) for e in entries):
            fit.mismatched.append(name)
    return fit


def compatibility(facts: HeaderFacts, architecture_id: str) -> Verdict:
    """Verdict for applying this LoRA to one architecture (§5 step 9, §6)."""
    return _judge(facts.modules, facts.dims, facts.blocks_covered, get_architecture(architecture_id))


def _judge(
    modules: Mapping[str, tuple[ModuleEvidence, ...]],
    dims: DimSignature,
    blocks: BlockCoverage,
    arch: Architecture,
) -> Verdict:
    if not modules:
        return Verdict(verdict="no", reason="no Wan module recognised in the header")
    fit = _classify_modules(modules, arch)
    hard = [m for m in fit.mismatched if m not in _SOFT_MISMATCH]
    if hard:
        return Verdict(verdict="no", reason=_mismatch_reason(dims, arch, hard))
    ignored = _ignored_reasons(fit, blocks, arch)
    if fit.mismatched or ignored:
        soft = [_soft_reason(name, dims, arch) for name in fit.mismatched]
        return Verdict(verdict="partial", reason="; ".join(soft + ignored))
    return Verdict(verdict="fits", reason=_fit_reason(modules, blocks, arch))


def _dim_differences(dims: DimSignature, arch: Architecture) -> list[str]:
    """``dim 1536 vs 5120``-style differences between the LoRA's dimensions and ``arch``."""
    pairs = (("dim", dims.dim, arch.dim), ("ffn_dim", dims.ffn_dim, arch.ffn_dim))
    more = (("in_dim", dims.in_dim, arch.in_dim), ("out_dim", dims.out_dim, arch.out_dim))
    return [
        f"{n} {mine} vs {theirs}"
        for n, mine, theirs in (*pairs, *more)
        if mine is not None and mine != theirs
    ]


def _mismatch_reason(dims: DimSignature, arch: Architecture, mismatched: list[str]) -> str:
    diffs = _dim_differences(dims, arch)
    detail = ", ".join(diffs) if diffs else "modules " + ", ".join(mismatched[:3])
    return f"shape mismatch with {arch.label}: {detail} ({len(mismatched)} module kinds differ)"


def _soft_reason(name: str, dims: DimSignature, arch: Architecture) -> str:
    if name == "patch_embedding":
        seen = f"in_dim {dims.in_dim}" if dims.in_dim else "a different shape"
        return f"patch_embedding has {seen} but {arch.label} expects in_dim {arch.in_dim}; loaders skip that weight"
    return f"head.head does not match {arch.label} (out_dim {arch.out_dim}); loaders skip that weight"


def _ignored_reasons(fit: _Fit, blocks: BlockCoverage, arch: Architecture) -> list[str]:
    """Human reasons for keys the architecture has no module for."""
    reasons = []
    if fit.missing_image:
        reasons.append(f"{fit.missing_image} image-branch keys ignored ({arch.label} has no CLIP branch)")
    if blocks.layers_seen > arch.layers:
        reasons.append(f"blocks {arch.layers}–{blocks.layers_seen - 1} do not exist on {arch.label}")
    elif fit.missing_other:
        reasons.append(f"{fit.missing_other} keys for modules absent from {arch.label} ignored")
    return reasons


def _fit_reason(
    modules: Mapping[str, tuple[ModuleEvidence, ...]], blocks: BlockCoverage, arch: Architecture
) -> str:
    coverage = "" if blocks.count in (0, arch.layers) else f"; covers {blocks.count} of {arch.layers} blocks"
    if arch.has_clip_branch and not any(is_image_branch(_concrete(m)) for m in modules):
        return (
            "all keys map; the LoRA has no image-branch keys, so the CLIP branch stays untouched" + coverage
        )
    if arch.size_class == "14B" and not arch.has_clip_branch:
        return (
            "all modules match; shape cannot distinguish Wan 2.1 T2V 14B from the Wan 2.2 A14B experts, "
            "nor high-noise from low-noise" + coverage
        )
    return f"all modules match {arch.label}" + coverage


# ----------------------------------------------------------------------------------------- claims

_B = r"(?<![a-z0-9])"
_E = r"(?![a-z0-9])"
_AVERAGE = re.compile(r"(?:average_rank|to_dynamic|dynamic)[_-]?(\d+)", re.IGNORECASE)
_RESIZED = re.compile(r"resized_from_\d+_to", re.IGNORECASE)
_ADAPTIVE = re.compile(r"adaptive_rank|rank_adaptive|dynamic", re.IGNORECASE)
_RANK = re.compile(rf"rank[_-]?(\d+)(?!\d)|{_B}r(\d+){_E}", re.IGNORECASE)
_PRECISION = re.compile(rf"{_B}(fp8_e4m3fn|fp8_e5m2|fp8|bf16|fp16|fp32|float16|float32){_E}", re.IGNORECASE)
_GEN = {
    "2.2": re.compile(rf"wan[-_. ]?2[-_.]?2(?!\d)|{_B}a14b{_E}", re.IGNORECASE),
    "2.1": re.compile(r"wan[-_. ]?2[-_.]?1(?!\d)", re.IGNORECASE),
}
_TASK = re.compile(rf"{_B}(ti2v|i2v|t2v|flf2v){_E}", re.IGNORECASE)
_SIZE = re.compile(rf"(?<![a-z0-9.])(1[._]3b|a?14b|5b){_E}", re.IGNORECASE)
_NOISE = {
    "high": re.compile(r"(?<![a-z])(?:high_noise|high)(?![a-z])|(?<![a-z])HN(?![a-z])|_H(?![a-z0-9])", re.I),
    "low": re.compile(r"(?<![a-z])(?:low_noise|low)(?![a-z])|(?<![a-z])LN(?![a-z])|_L(?![a-z0-9])", re.I),
}
_PRECISION_ALIASES = {"float16": "fp16", "float32": "fp32"}
_TASKS: dict[str, Task] = {"t2v": "T2V", "i2v": "I2V", "flf2v": "I2V", "ti2v": "TI2V"}
_SIZES: dict[str, SizeClass] = {"1.3b": "1.3B", "1_3b": "1.3B", "14b": "14B", "a14b": "14B", "5b": "5B"}


def _only(values: Iterable[str]) -> str | None:
    """The single distinct value, or ``None`` when there are none or several."""
    distinct = set(values)
    return distinct.pop() if len(distinct) == 1 else None


def _rank_tokens(text: str) -> tuple[int | None, int | None, bool]:
    """``(rank, average rank, adaptive)`` from rank tokens (§5 step 6 filename hints)."""
    average = _AVERAGE.search(text)
    rest = _RESIZED.sub(" ", _AVERAGE.sub(" ", text))
    ranks = {int(a or b) for a, b in _RANK.findall(rest)}
    rank = ranks.pop() if len(ranks) == 1 else None
    return rank, int(average.group(1)) if average else None, bool(_ADAPTIVE.search(text))


def claims_from_text(text: str, source: str = "name") -> Claims:
    """Claims made by free text (a filename, a repo path, a model title)."""
    rank, average, adaptive = _rank_tokens(text)
    precision = _only(_PRECISION_ALIASES.get(p.lower(), p.lower()) for p in _PRECISION.findall(text))
    generations = [g for g, pattern in _GEN.items() if pattern.search(text)]
    task = _only(_TASKS[t.lower()] for t in _TASK.findall(text))
    size = _only(_SIZES[s.lower()] for s in _SIZE.findall(text))
    noise = [n for n, pattern in _NOISE.items() if pattern.search(text)]
    return Claims.model_validate(
        {
            "source": source,
            "rank": rank,
            "rank_adaptive": adaptive or average is not None,
            "average_rank": average,
            "precision": precision,
            "generation": generations[0] if len(generations) == 1 else None,
            "task": task,
            "size_class": size,
            "noise_level": noise[0] if len(noise) == 1 else None,
        }
    )


def claims_from_filename(filename: str) -> Claims:
    """Claims made by a filename or repo path (``…_rank_64_bf16``, ``Wan2.2-I2V-A14B…/high_noise_model``)."""
    return claims_from_text(filename, source="name")


def _claimed_architectures(claims: Claims) -> list[str]:
    """Architecture ids consistent with the generation, task and size a claim names."""
    return [
        a.id
        for a in ARCHITECTURES.values()
        if claims.generation in (None, a.generation)
        and claims.task in (None, a.task)
        and claims.size_class in (None, a.size_class)
    ]


def _claim_label(claims: Claims) -> str:
    parts = [f"Wan {claims.generation}" if claims.generation else None, claims.task, claims.size_class]
    return " ".join(p for p in parts if p)


def contradictions(facts: HeaderFacts, claims: Claims) -> list[str]:
    """Human messages for every claim the header contradicts; empty when consistent."""
    rank_claims = [] if facts.suffix_family == "lycoris" else _rank_contradictions(facts.rank, claims)
    return [
        *rank_claims,
        *_precision_contradictions(facts.precision, claims),
        *_base_contradictions(facts, claims),
    ]


def _rank_contradictions(rank: RankSummary, claims: Claims) -> list[str]:
    who = claims.source
    if rank.kind == "none":
        claimed = claims.rank or claims.average_rank
        wording = f"rank {claimed}" if claimed else "adaptive rank"
        has_claim = claimed is not None or claims.rank_adaptive
        return [f"{who} says {wording} but the file has no LoRA pairs"] if has_claim else []
    found = []
    if claims.rank is not None and rank.kind == "uniform" and claims.rank != rank.nominal:
        found.append(f"{who} says rank {claims.rank} but the header is rank {rank.nominal}")
    if claims.rank is not None and rank.kind == "adaptive" and not claims.rank_adaptive:
        found.append(
            f"{who} says rank {claims.rank} but the header has adaptive ranks {rank.min}–{rank.max} (mean {rank.mean})"
        )
    if claims.rank_adaptive and rank.kind == "uniform":
        found.append(f"{who} says adaptive rank but every module has rank {rank.nominal}")
    found.extend(_average_contradiction(rank, claims))
    return found


AVERAGE_RANK_TOLERANCE = 0.05
"""Relative tolerance between a claimed average rank and the computed mean (minimum 2 ranks)."""


def _average_contradiction(rank: RankSummary, claims: Claims) -> list[str]:
    if claims.average_rank is None or rank.mean is None:
        return []
    tolerance = max(2.0, AVERAGE_RANK_TOLERANCE * claims.average_rank)
    if abs(rank.mean - claims.average_rank) <= tolerance:
        return []
    return [
        f"{claims.source} says average rank {claims.average_rank} but the header's mean rank is {rank.mean:g}"
    ]


def _precision_contradictions(precision: PrecisionSummary, claims: Claims) -> list[str]:
    claimed = claims.precision
    if claimed is None or precision.label == "unknown":
        return []
    actual = precision.label
    if actual == claimed or (claimed == "fp8" and actual.startswith("fp8")):
        return []
    if actual == "mixed":
        shares = ", ".join(f"{d} {s:.0%}" for d, s in precision.shares.items())
        return [f"{claims.source} says {claimed} but the tensors are mixed ({shares})"]
    return [f"{claims.source} says {claimed} but the tensors are {actual}"]


def _base_contradictions(facts: HeaderFacts, claims: Claims) -> list[str]:
    """Generation/task/size claims that no fully fitting architecture supports."""
    if claims.generation is None and claims.task is None and claims.size_class is None:
        return []
    claimed = _claimed_architectures(claims)
    if any(facts.fits[a].verdict == "fits" for a in claimed if a in facts.fits):
        return []
    who, label = claims.source, _claim_label(claims)
    if facts.i2v_keys and not any(ARCHITECTURES[a].has_clip_branch for a in claimed):
        return [f"{who} says {label} but the file has {facts.i2v_keys} image-branch keys"]
    if claims.task == "I2V" and facts.dims.in_dim is not None and facts.dims.in_dim != 36:
        return [f"{who} says {label} but patch_embedding has in_dim {facts.dims.in_dim}, not 36"]
    fitting = [ARCHITECTURES[a].label for a, v in facts.fits.items() if v.verdict == "fits"]
    where = "fit only " + ", ".join(fitting) if fitting else "fit no Wan architecture"
    return [f"{who} says {label} but the shapes {where}"]


# ------------------------------------------------------------------------------------- base guess

_SIZE_BY_DIM = {1536: ("wan2.1-t2v-1.3b",), 3072: ("wan2.2-ti2v-5b",)}
_T2V_TYPE_14B = ("wan2.1-t2v-14b", "wan2.2-t2v-a14b", "wan2.2-i2v-a14b")


def _shape_candidates(dims: DimSignature, i2v_keys: int) -> tuple[str, ...]:
    """Training bases consistent with the shapes alone (§5 step 10)."""
    if dims.dim in _SIZE_BY_DIM:
        return _SIZE_BY_DIM[dims.dim]
    if dims.dim != 5120:
        return ()
    if i2v_keys:
        return ("wan2.1-i2v-14b",)
    if dims.in_dim == 36:
        return ("wan2.2-i2v-a14b",)
    if dims.in_dim == 16:
        return ("wan2.1-t2v-14b", "wan2.2-t2v-a14b")
    return _T2V_TYPE_14B


def _narrow(candidates: tuple[str, ...], claims: Claims) -> tuple[str, ...]:
    """Candidates a claim agrees with; the original set when the claim names none of them."""
    claimed = set(_claimed_architectures(claims))
    narrowed = tuple(c for c in candidates if c in claimed)
    return narrowed or candidates


_GUESS_METADATA_KEYS = ("ss_sd_model_name", "modelspec.title")
"""Metadata values that name the base checkpoint a LoRA was trained on."""


def _base_guess(dims: DimSignature, i2v_keys: int, metadata: Mapping[str, str], filename: str) -> BaseGuess:
    """Shape first, then metadata (``ss_sd_model_name``, ``modelspec.title``), then filename tokens."""
    shape = _shape_candidates(dims, i2v_keys)
    hints = _hints(metadata, filename)
    noise = next((c.noise_level for _, c in reversed(hints) if c.noise_level), None)
    if len(shape) > 1:
        for source, claims in hints:
            narrowed = _narrow(shape, claims)
            if len(narrowed) == 1:
                return _guess(narrowed, shape, source, noise)
    return _guess(shape, shape, "shape", noise)


def _hints(metadata: Mapping[str, str], filename: str) -> tuple[tuple[GuessSource, Claims], ...]:
    """Claims from metadata and from the filename, in the order they are trusted."""
    text = " ".join(metadata[k] for k in _GUESS_METADATA_KEYS if k in metadata)
    return ("metadata", claims_from_text(text, "metadata")), ("filename", claims_from_filename(filename))


def _guess(
    candidates: tuple[str, ...], shape: tuple[str, ...], source: GuessSource, noise: NoiseLevel | None
) -> BaseGuess:
    """A :class:`BaseGuess`: high confidence when shape alone decides, medium from hints, low if ambiguous."""
    confidence = _confidence(len(candidates), source)
    labels = " or ".join(ARCHITECTURES[c].label for c in candidates)
    reasons = {"none": "no Wan dimension signature in the header", "low": f"ambiguous by shape: {labels}"}
    return BaseGuess(
        architecture=candidates[0] if len(candidates) == 1 else None,
        candidates=candidates,
        shape_candidates=shape,
        confidence=confidence,
        source="none" if not candidates else source,
        noise_level=noise,
        reason=reasons.get(confidence, f"{labels} (from {source})"),
    )


def _confidence(count: int, source: GuessSource) -> Confidence:
    if count == 0:
        return "none"
    if count > 1:
        return "low"
    return "high" if source == "shape" else "medium"


# ------------------------------------------------------------------------------------------ notes


def _notes(facts: HeaderFacts, pairs: list[_Pair], metadata: Mapping[str, str]) -> list[str]:
    """Human sentences about what the header can and cannot tell."""
    notes: list[str] = []
    for builder in (
        _note_unmatched,
        _note_ambiguity,
        _note_in_dim,
        _note_diffusers,
        _note_capped,
        _note_coverage,
        _note_integrity,
    ):
        notes.extend(builder(facts))
    notes.extend(_note_overparameterised(pairs))
    notes.extend(_note_metadata_rank(facts.rank, metadata))
    return notes


def _note_unmatched(facts: HeaderFacts) -> list[str]:
    unmatched, total = facts.unmatched_keys, facts.tensor_count
    if not unmatched:
        return []
    if facts.key_format == "unknown":
        return [f"{unmatched} of {total} keys match no Wan module: this does not look like a Wan LoRA"]
    return [f"{unmatched} of {total} keys match no Wan module and are ignored"]


def _note_ambiguity(facts: HeaderFacts) -> list[str]:
    """What shape alone cannot decide among the 14B T2V-type bases (§6)."""
    shape = facts.base_guess.shape_candidates
    notes = []
    if "wan2.1-t2v-14b" in shape and len(shape) > 1:
        notes.append("shape cannot tell a Wan 2.1 T2V 14B LoRA from a Wan 2.2 A14B one (T2V or I2V expert)")
    if any(ARCHITECTURES[a].experts for a in shape):
        notes.append("shape cannot tell the high-noise from the low-noise expert; only the path can")
    return notes


def _note_in_dim(facts: HeaderFacts) -> list[str]:
    if facts.dims.in_dim is not None or facts.dims.dim is None:
        return []
    return [
        "in_dim is not observable (no patch_embedding weight): 16-channel T2V and 36-channel I2V inputs look alike"
    ]


def _note_diffusers(facts: HeaderFacts) -> list[str]:
    if facts.key_format != "diffusers":
        return []
    return ["diffusers key names: native ComfyUI does not load this LoRA; diffusers and Kijai's wrapper do"]


def _note_capped(facts: HeaderFacts) -> list[str]:
    if not facts.rank.capped:
        return []
    return [
        f"rank capped by the layer size on {', '.join(facts.rank.capped)}; excluded from the rank statistics"
    ]


def _note_coverage(facts: HeaderFacts) -> list[str]:
    absent, families = facts.blocks_covered.absent, set(facts.module_families)
    notes = []
    if absent:
        notes.append(f"partial blocks: no keys for block(s) {', '.join(map(str, absent))}")
    attention = {"self_attn", "cross_attn"} & families
    if attention and "ffn" not in families:
        notes.append("partial modules: attention only, no FFN")
    elif "ffn" in families and not attention:
        notes.append("partial modules: FFN only, no attention")
    return notes


def _note_integrity(facts: HeaderFacts) -> list[str]:
    """Structural oddities a loader would warn about or silently resolve."""
    checks = (
        (facts.diff_overrides, "module(s) carry both a LoRA pair and a full .diff; ComfyUI applies the diff"),
        (facts.lone_halves, "module(s) have a lora down without an up (or the reverse)"),
        (facts.orphan_alphas, "alpha tensor(s) have no LoRA pair"),
        (facts.duplicate_keys, "key(s) map to a module role already present (mixed spellings)"),
    )
    return [f"{count} {text}" for count, text in checks if count]


def _note_overparameterised(pairs: list[_Pair]) -> list[str]:
    heavy = sorted(
        {generic_name(p.module) for p in pairs if 2 * p.rank >= min(p.in_features, p.out_features)}
    )
    if not heavy:
        return []
    return [f"over-parameterised (rank ≥ half the layer size) on {', '.join(heavy)}"]


def _note_metadata_rank(rank: RankSummary, metadata: Mapping[str, str]) -> list[str]:
    hinted = _metadata_rank(metadata)
    if hinted is None or rank.nominal is None or hinted == rank.nominal:
        return []
    return [f"metadata says rank {hinted:g} but the shapes say {rank.nominal}; the shapes win"]


# ---------------------------------------------------------------------------------------- analyse


def analyse_header(
    tensors: Mapping[str, TensorSpec], metadata: Mapping[str, str], filename: str
) -> HeaderFacts:
    """Derive every fact of :class:`HeaderFacts` from a parsed header (§5 steps 2-13)."""
    keys = [_classify(name, tensors[name]) for name in sorted(tensors)]
    suffix_family = _suffix_family(keys)
    key_format, votes = _key_format(keys, suffix_family)
    recognised = [k for k in keys if k.module is not None] if key_format != "unknown" else []
    modules = _group(recognised)
    pairs = _pairs(modules)
    rank = _rank_summary(pairs)
    structure = _structure(modules)
    facts = HeaderFacts.model_validate(
        {
            "key_format": key_format,
            "format_votes": votes,
            "suffix_family": suffix_family,
            **_sizes(keys, recognised),
            "rank": rank,
            "precision": _precision(keys),
            "alpha": _alpha(recognised, len(pairs), rank, metadata),
            **structure,
            **_integrity(modules, recognised),
            "base_guess": _base_guess(structure["dims"], structure["i2v_keys"], metadata, filename),
            "notes": (),
        }
    )
    return facts.model_copy(update={"notes": tuple(_notes(facts, pairs, metadata))})


def _sizes(keys: list[_Key], recognised: list[_Key]) -> dict[str, int]:
    """Tensor, parameter and byte counts (§5 step 13) and how many keys matched no Wan module."""
    return {
        "tensor_count": len(keys),
        "parameter_count": sum(math.prod(k.spec.shape) for k in keys),
        "payload_bytes": sum(tensor_bytes(k.spec) for k in keys),
        "unmatched_keys": len(keys) - len(recognised),
    }


def _structure(modules: Mapping[str, _Module]) -> dict[str, Any]:
    """Shape evidence, dimensions, coverage, families, flags and per-architecture fits."""
    evidence = _evidence(modules)
    dims, blocks = _dims(evidence), _coverage(modules)
    return {
        "modules": evidence,
        "dims": dims,
        "blocks_covered": blocks,
        "module_families": tuple(sorted({module_family(m) for m in modules})),
        "has_diff": any("diff" in m.roles for m in modules.values()),
        "has_diff_b": any("diff_b" in m.roles for m in modules.values()),
        "i2v_keys": sum(m.keys for m in modules.values() if is_image_branch(m.name)),
        "has_flf": "img_emb.emb_pos" in modules,
        "has_vace": any(m.startswith("vace") for m in modules),
        "fits": {a: _judge(evidence, dims, blocks, ARCHITECTURES[a]) for a in sorted(ARCHITECTURE_IDS)},
    }


def _integrity(modules: Mapping[str, _Module], recognised: list[_Key]) -> dict[str, int]:
    """Lone ups/downs, alphas without a pair, diffs next to a pair, keys mapping to the same slot (§5 step 5)."""
    slots = Counter((k.module, k.role) for k in recognised)
    return {
        "lone_halves": sum(1 for m in modules.values() if ("down" in m.roles) != ("up" in m.roles)),
        "orphan_alphas": sum(1 for m in modules.values() if "alpha" in m.roles and m.rank is None),
        "diff_overrides": sum(1 for m in modules.values() if "diff" in m.roles and m.rank is not None),
        "duplicate_keys": sum(n - 1 for n in slots.values()),
    }
