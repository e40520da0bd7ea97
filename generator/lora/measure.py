"""Measurements of a grouped header: key format, rank, precision, alpha, shape evidence and coverage."""

from __future__ import annotations

import json
import math
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from generator.lora.facts import (
    AlphaSummary,
    BlockCoverage,
    DimSignature,
    KeyFormat,
    ModuleEvidence,
    PrecisionSummary,
    RankSummary,
    SuffixFamily,
)
from generator.lora.keys import Key
from generator.lora.modules import Module, generic_name
from generator.lora.parse import TensorSpec
from generator.vocabulary import HEADER_PRECISION, Precision

_VOTED_FORMATS: dict[str, KeyFormat] = {
    "comfyui": "comfyui",
    "comfyui-peft": "comfyui-peft",
    "kohya": "kohya",
    "videox-fun": "videox-fun",
    "diffusers": "diffusers",
    "peft-other": "peft-other",
}
"""Per-key votes that name a Wan key format."""


def key_format_of(keys: list[Key], suffix_family: SuffixFamily) -> tuple[KeyFormat, dict[str, int]]:
    """Majority vote over key prefixes (§5 step 3); ``diffusion_model.`` splits into A and A′.

    A file of LyCORIS factors is ``lycoris`` whatever its prefix (the votes still show the prefix).
    """
    has_alpha = any(k.role == "alpha" for k in keys)
    peft_suffixes = suffix_family == "lora_A/lora_B"
    a_format = "comfyui-peft" if peft_suffixes and not has_alpha else "comfyui"
    votes = Counter(a_format if k.vote == "diffusion_model" else k.vote for k in keys)
    known = {v: n for v, n in votes.items() if v != "unknown"}
    ordered = {v: votes[v] for v in sorted(votes)}
    if not known or votes["unknown"] > sum(known.values()):
        return "unknown", ordered
    if suffix_family == "lycoris":
        return "lycoris", ordered
    top, top_count = max(sorted(known.items()), key=lambda item: item[1])
    if len(known) > 1 and top_count < 0.9 * sum(known.values()):
        return "mixed", ordered
    return _VOTED_FORMATS[top], ordered


def suffix_family_of(keys: list[Key]) -> SuffixFamily:
    """The suffix family of the LoRA pairs: the only one seen, ``mixed`` or ``none`` (diff-only)."""
    families = {
        k.family for k in keys if k.module is not None and k.family is not None and k.role != "diff_b"
    }
    if not families:
        return "none"
    if len(families) > 1:
        return "mixed"
    return families.pop()


@dataclass(frozen=True)
class LoraPair:
    module: str
    rank: int
    in_features: int
    out_features: int


def lora_pairs(modules: Mapping[str, Module]) -> list[LoraPair]:
    """Complete down/up pairs with consistent rank (LyCORIS and broken pairs excluded)."""
    pairs = []
    for m in modules.values():
        up = m.get("up")
        if m.rank is None or up is None or len(up) < 2 or up[1] != m.rank:
            continue
        pairs.append(LoraPair(m.name, m.rank, m.in_features or 0, up[0]))
    return pairs


def _capped(pair: LoraPair, max_rank: int) -> bool:
    """A rank forced down to ``min(in, out)`` (e.g. ``head.head`` at 64) says nothing about the nominal rank."""
    return pair.rank == min(pair.in_features, pair.out_features) < max_rank


def rank_summary(pairs: list[LoraPair]) -> RankSummary:
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


def _weighted_mean(pairs: list[LoraPair]) -> float | None:
    """Mean rank weighted by each module's ``in + out`` (its LoRA size per rank), for size comparisons."""
    total = sum(p.in_features + p.out_features for p in pairs)
    if not total:
        return None
    return round(sum(p.rank * (p.in_features + p.out_features) for p in pairs) / total, 2)


_PRECISIONS: dict[str, tuple[Precision, int]] = {
    "F32": ("fp32", 4),
    "BF16": ("bf16", 2),
    "F16": ("fp16", 2),
    "F8_E4M3": ("fp8_e4m3", 1),
    "F8_E5M2": ("fp8_e5m2", 1),
}
"""Safetensors dtypes a catalog precision names, with their bytes per element."""
_DTYPES: dict[str, tuple[str, int]] = {
    **{dtype: (HEADER_PRECISION[precision], size) for dtype, (precision, size) in _PRECISIONS.items()},
    "F64": ("fp64", 8),
    "I64": ("int64", 8),
    "I32": ("int32", 4),
    "I16": ("int16", 2),
    "I8": ("int8", 1),
    "U8": ("uint8", 1),
    "BOOL": ("bool", 1),
}
"""Every safetensors dtype → its name in file names and in the analysis, and its bytes per element."""
MIXED_SHARE = 0.05
"""A dtype holding at least this share of the weight bytes makes the precision ``mixed``."""


def dtype_name(dtype: str) -> str:
    """Safetensors dtype → the name used in filenames (``BF16`` → ``bf16``, ``F8_E4M3`` → ``fp8_e4m3fn``)."""
    return _DTYPES.get(dtype, (dtype.lower(), 1))[0]


def tensor_bytes(spec: TensorSpec) -> int:
    """Bytes the tensor occupies in the data area."""
    return math.prod(spec.shape) * _DTYPES.get(spec.dtype, ("", 1))[1]


def precision_summary(keys: list[Key]) -> PrecisionSummary:
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


def metadata_json(metadata: Mapping[str, str], key: str) -> dict[str, object]:
    """A JSON-object metadata value (e.g. ``lora_adapter_metadata``), ``{}`` when absent or unreadable.

    Unreadable includes what json refuses beyond syntax: an integer of more than 4,300 digits (ValueError) and
    nesting deeper than the recursion limit.
    """
    try:
        value = json.loads(metadata.get(key, "{}"))
    except (ValueError, RecursionError):  # JSONDecodeError is a ValueError
        return {}
    return value if isinstance(value, dict) else {}


def _adapter_config(metadata: Mapping[str, str], field: str) -> object:
    """A ``LoraConfig`` field of diffusers' ``lora_adapter_metadata``.

    diffusers prefixes each field with the component (``{"transformer.r": 32, "transformer.lora_alpha": 16}``,
    huggingface/diffusers ``src/diffusers/loaders/lora_base.py``, ``_save_lora_weights``); a bare field is accepted
    too.
    """
    config = metadata_json(metadata, "lora_adapter_metadata")
    return config.get(f"transformer.{field}", config.get(field))


MAX_METADATA_NUMBER = 1e6
"""Largest rank or alpha read from metadata: real ones are at most a few thousand; beyond this, none is stated."""


def _number(value: object) -> float | None:
    """A finite float of at most :data:`MAX_METADATA_NUMBER` from a metadata value, else ``None`` (``"Dynamic"``,
    ``"None"``, a number of 5,000 digits …)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    if isinstance(value, str) and len(value) > 40:
        return None
    try:
        number = float(value)
    except (ValueError, OverflowError):  # OverflowError: an int too large for a float
        return None
    return number if math.isfinite(number) and abs(number) <= MAX_METADATA_NUMBER else None


def _metadata_alpha(metadata: Mapping[str, str]) -> float | None:
    """Alpha hinted by kohya ``ss_network_alpha`` or diffusers ``lora_adapter_metadata`` ``lora_alpha``."""
    if "ss_network_alpha" in metadata:
        return _number(metadata["ss_network_alpha"])
    return _number(_adapter_config(metadata, "lora_alpha"))


def metadata_rank(metadata: Mapping[str, str]) -> float | None:
    """Rank hinted by ``ss_network_dim`` or ``lora_adapter_metadata`` ``r``; a rank is at least 1 (``None`` if not)."""
    if "ss_network_dim" in metadata:
        rank = _number(metadata["ss_network_dim"])
    else:
        rank = _number(_adapter_config(metadata, "r"))
    return rank if rank is not None and rank >= 1 else None


def alpha_summary(
    keys: list[Key], pairs: int, rank: RankSummary, metadata: Mapping[str, str]
) -> AlphaSummary:
    """Alpha share, metadata alpha and scale; the alpha values themselves live in the data area.

    The scale is what ComfyUI applies (``comfy/lora.py`` reads ``X.alpha`` tensors only): ``alpha / rank`` with alpha
    tensors whose value the metadata states, 1.0 without alpha tensors. A metadata alpha without alpha tensors is
    never the scale: musubi-tuner's ``convert_lora.py --target other`` folds alpha into the weights and copies the
    old ``ss_network_alpha``; diffusers applies ``lora_alpha`` only in its own loader. It is kept in the note.
    """
    alphas = [k for k in keys if k.role == "alpha" and k.module is not None]
    meta_alpha = _metadata_alpha(metadata)
    rank_value = rank.nominal or metadata_rank(metadata)
    if alphas:
        scale, note = _tensor_scale(meta_alpha, rank_value)
    else:
        scale, note = 1.0, "1.0 (no alpha tensors)" + _unapplied(meta_alpha, rank_value, metadata)
    return AlphaSummary(
        pairs=pairs,
        with_alpha=len(alphas),
        tensor_dtypes=tuple(sorted({dtype_name(k.spec.dtype) for k in alphas})),
        metadata_alpha=meta_alpha,
        scale=scale,
        note=note,
    )


def _tensor_scale(meta_alpha: float | None, rank: float | None) -> tuple[float | None, str]:
    """Scale of a file with alpha tensors: their value is in the data area, hinted by ``ss_network_alpha``."""
    if meta_alpha is not None and rank:
        scale = round(meta_alpha / rank, 6)
        return scale, f"alpha {meta_alpha:g} / rank {rank:g} = {scale:g} (alpha tensors; value from metadata)"
    return None, "unknown (alpha in data)"


def _unapplied(meta_alpha: float | None, rank: float | None, metadata: Mapping[str, str]) -> str:
    """Why a metadata alpha without alpha tensors does not set the scale ('' when there is none)."""
    if meta_alpha is None:
        return ""
    if "ss_network_alpha" in metadata:
        return (
            f"; metadata ss_network_alpha {meta_alpha:g} is not applied: loaders read alpha only from alpha "
            "tensors (a converter such as musubi-tuner's convert_lora.py folds it into the weights)"
        )
    ratio = f" / r {rank:g} = {round(meta_alpha / rank, 6):g}" if rank else ""
    return f"; diffusers' own loader applies lora_alpha {meta_alpha:g}{ratio} from lora_adapter_metadata"


_PATCHING_ROLES = ("down", "up", "diff", "diff_b")


def module_evidence(modules: Mapping[str, Module]) -> dict[str, tuple[ModuleEvidence, ...]]:
    """Merge the shapes of every module into one entry per generic name and distinct shape set.

    Modules that patch nothing (a lone alpha, ``dora_scale`` or ``lora_mid``) give no evidence; the integrity
    counts report them.
    """
    merged: dict[str, dict[tuple[object, ...], list[int]]] = defaultdict(dict)
    for m in modules.values():
        if not m.lycoris and not any(role in m.roles for role in _PATCHING_ROLES):
            continue
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
_VACE_ATTN = ["vace_" + name for name in _ATTN]


def dim_signature(evidence: Mapping[str, tuple[ModuleEvidence, ...]]) -> DimSignature:
    """Dimension signature (§5 step 8): each value from the modules that show it (VACE blocks last)."""
    return DimSignature(
        dim=_most_common(evidence, _ATTN + _NORMS, _out)
        or _most_common(evidence, ["blocks.*.ffn.0"], _in)
        or _most_common(evidence, _VACE_ATTN, _out),
        ffn_dim=_most_common(evidence, ["blocks.*.ffn.0"], _out)
        or _most_common(evidence, ["blocks.*.ffn.2"], _in),
        in_dim=_most_common(evidence, ["patch_embedding"], _conv_in),
        out_dim=_div(_most_common(evidence, ["head.head"], _out), 4),
        text_dim=_most_common(evidence, ["text_embedding.0"], _in),
        freq_dim=_most_common(evidence, ["time_embedding.0"], _in),
    )


def block_coverage(modules: Iterable[str]) -> BlockCoverage:
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
