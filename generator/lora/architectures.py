"""The Wan 2.1 / 2.2 base-model architectures as data, and the parameter shapes they imply.

Dimensions follow the Wan-Video/Wan2.1 and Wan-Video/Wan2.2 configs (reference: wan-lora-format.md §2-§3).
Module names are the *canonical* (original Wan) names, e.g. ``blocks.7.self_attn.q``, ``head.head`` or
``img_emb.proj.1``; LoRA key formats are mapped onto them by :mod:`generator.lora.keys`.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from pydantic import BaseModel, ConfigDict

from generator.vocabulary import ARCHITECTURE_IDS, ArchitectureId, Generation, SizeClass
from generator.vocabulary import ArchitectureTask as Task

TEXT_DIM = 4096
"""umT5-XXL width, input of ``text_embedding.0`` on every variant."""
FREQ_DIM = 256
"""Sinusoidal timestep width, input of ``time_embedding.0`` on every variant."""
CLIP_DIM = 1280
"""CLIP ViT-H width used by the ``img_emb`` branch of Wan 2.1 I2V."""


class Architecture(BaseModel):
    """One Wan base model (or a family of experts with identical shapes)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: ArchitectureId
    label: str
    generation: Generation
    task: Task
    size_class: SizeClass
    dim: int
    ffn_dim: int
    layers: int
    heads: int
    in_dim: int
    out_dim: int
    has_clip_branch: bool
    experts: tuple[str, ...] = ()


class ModuleShape(BaseModel):
    """Expected ``weight`` and ``bias`` shapes of one module (``bias`` is ``None`` when it has none)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    weight: tuple[int, ...]
    bias: tuple[int, ...] | None


def _arch(
    arch_id: ArchitectureId, label: str, generation: Generation, task: Task, size: SizeClass, **dims: int
) -> Architecture:
    """Build an :class:`Architecture`; the CLIP branch exists only on Wan 2.1 image-to-video models."""
    clip = generation == "2.1" and task == "I2V"
    experts = ("high_noise", "low_noise") if arch_id.endswith("a14b") else ()
    return Architecture(
        id=arch_id,
        label=label,
        generation=generation,
        task=task,
        size_class=size,
        has_clip_branch=clip,
        experts=experts,
        **dims,
    )


_DIMS_1_3B = {"dim": 1536, "ffn_dim": 8960, "layers": 30, "heads": 12, "out_dim": 16}
_DIMS_14B = {"dim": 5120, "ffn_dim": 13824, "layers": 40, "heads": 40, "out_dim": 16}
_DIMS_5B = {"dim": 3072, "ffn_dim": 14336, "layers": 30, "heads": 24, "out_dim": 48}

ARCHITECTURES: dict[str, Architecture] = {
    a.id: a
    for a in (
        _arch("wan2.1-t2v-1.3b", "Wan 2.1 T2V 1.3B", "2.1", "T2V", "1.3B", in_dim=16, **_DIMS_1_3B),
        _arch("wan2.1-t2v-14b", "Wan 2.1 T2V 14B", "2.1", "T2V", "14B", in_dim=16, **_DIMS_14B),
        _arch("wan2.1-i2v-14b", "Wan 2.1 I2V 14B", "2.1", "I2V", "14B", in_dim=36, **_DIMS_14B),
        _arch("wan2.2-t2v-a14b", "Wan 2.2 T2V A14B", "2.2", "T2V", "14B", in_dim=16, **_DIMS_14B),
        _arch("wan2.2-i2v-a14b", "Wan 2.2 I2V A14B", "2.2", "I2V", "14B", in_dim=36, **_DIMS_14B),
        _arch("wan2.2-ti2v-5b", "Wan 2.2 TI2V 5B", "2.2", "TI2V", "5B", in_dim=48, **_DIMS_5B),
    )
}
"""Every supported architecture by id, in a fixed (catalog) order."""

assert tuple(ARCHITECTURES) == ARCHITECTURE_IDS, "the vocabulary and the table list the same ids"


def get_architecture(arch_id: str) -> Architecture:
    """Return the architecture with this id; raise ``KeyError`` naming the known ids otherwise."""
    try:
        return ARCHITECTURES[arch_id]
    except KeyError:
        known = ", ".join(ARCHITECTURE_IDS)
        raise KeyError(f"unknown architecture {arch_id!r}; known: {known}") from None


_ShapeRule = Callable[[Architecture], ModuleShape]


def _linear(out: Callable[[Architecture], int], inp: Callable[[Architecture], int]) -> _ShapeRule:
    """Rule for an ``nn.Linear(in, out)``: weight ``[out, in]``, bias ``[out]``."""
    return lambda a: ModuleShape(weight=(out(a), inp(a)), bias=(out(a),))


def _norm(width: Callable[[Architecture], int], *, affine_bias: bool) -> _ShapeRule:
    """Rule for an RMSNorm (weight only) or an affine LayerNorm (weight and bias)."""
    return lambda a: ModuleShape(weight=(width(a),), bias=(width(a),) if affine_bias else None)


def _param(*shape: Callable[[Architecture], int]) -> _ShapeRule:
    """Rule for a bare ``nn.Parameter`` such as ``modulation``."""
    return lambda a: ModuleShape(weight=tuple(s(a) for s in shape), bias=None)


def _const(value: int) -> Callable[[Architecture], int]:
    """A dimension that does not depend on the architecture."""
    return lambda _a: value


def _d(a: Architecture) -> int:
    return a.dim


def _f(a: Architecture) -> int:
    return a.ffn_dim


_BLOCK_RULES: dict[str, _ShapeRule] = {
    **{f"self_attn.{p}": _linear(_d, _d) for p in "qkvo"},
    **{f"cross_attn.{p}": _linear(_d, _d) for p in ("q", "k", "v", "o", "k_img", "v_img")},
    **{
        f"{a}.{n}": _norm(_d, affine_bias=False)
        for a in ("self_attn", "cross_attn")
        for n in ("norm_q", "norm_k")
    },
    "cross_attn.norm_k_img": _norm(_d, affine_bias=False),
    "norm3": _norm(_d, affine_bias=True),
    "ffn.0": _linear(_f, _d),
    "ffn.2": _linear(_d, _f),
    "modulation": _param(_const(1), _const(6), _d),
}
"""Shapes inside ``blocks.{i}``, keyed by the block-local module name."""

_TOP_RULES: dict[str, _ShapeRule] = {
    "patch_embedding": lambda a: ModuleShape(weight=(a.dim, a.in_dim, 1, 2, 2), bias=(a.dim,)),
    "text_embedding.0": _linear(_d, _const(TEXT_DIM)),
    "text_embedding.2": _linear(_d, _d),
    "time_embedding.0": _linear(_d, _const(FREQ_DIM)),
    "time_embedding.2": _linear(_d, _d),
    "time_projection.1": _linear(lambda a: 6 * a.dim, _d),
    "head.head": _linear(lambda a: 4 * a.out_dim, _d),
    "head.modulation": _param(_const(1), _const(2), _d),
    "img_emb.proj.0": _norm(_const(CLIP_DIM), affine_bias=True),
    "img_emb.proj.1": _linear(_const(CLIP_DIM), _const(CLIP_DIM)),
    "img_emb.proj.3": _linear(_d, _const(CLIP_DIM)),
    "img_emb.proj.4": _norm(_d, affine_bias=True),
}
"""Shapes of the top-level modules, keyed by their canonical name."""

CLIP_BRANCH_BLOCK_MODULES = frozenset({"cross_attn.k_img", "cross_attn.v_img", "cross_attn.norm_k_img"})
"""Block-local modules that exist only on CLIP-branch (Wan 2.1 I2V) models."""

BLOCK_MODULES: tuple[str, ...] = tuple(sorted(_BLOCK_RULES))
TOP_MODULES: tuple[str, ...] = tuple(sorted(_TOP_RULES))

_BLOCK_NAME = re.compile(r"blocks\.(\d+)\.(.+)")


def split_block(module: str) -> tuple[int | None, str]:
    """Split ``blocks.7.ffn.0`` into ``(7, "ffn.0")``; top-level names give ``(None, name)``."""
    match = _BLOCK_NAME.fullmatch(module)
    if match is None:
        return None, module
    return int(match.group(1)), match.group(2)


FLF_MODULES = frozenset({"img_emb.emb_pos"})
"""Parameters only the Wan 2.1 FLF2V 14B model has: ``emb_pos [1, 514, 1280]`` (Wan-Video/Wan2.1
``wan/modules/model.py``, ``MLPProj(flf_pos_emb=True)`` when ``model_type == 'flf2v'``); Wan 2.1 I2V lacks it."""


def is_flf(module: str) -> bool:
    """True for the FLF2V-only ``img_emb.emb_pos``."""
    return module in FLF_MODULES


def is_vace(module: str) -> bool:
    """True for VACE modules (``vace_blocks.N.*``, ``vace_patch_embedding``), which no base model has."""
    return module.startswith("vace_")


def is_image_branch(module: str) -> bool:
    """True for modules of the Wan 2.1 I2V CLIP branch (``k_img``, ``v_img``, ``norm_k_img``, ``img_emb.*``)."""
    _, local = split_block(module)
    return local in CLIP_BRANCH_BLOCK_MODULES or module.startswith("img_emb.")


def expected_shape(arch: Architecture, module: str) -> ModuleShape | None:
    """Expected shapes of a canonical module on ``arch``, or ``None`` when ``arch`` has no such module.

    A module is absent when it belongs to the CLIP branch on a model without one, when its block index
    is beyond ``arch.layers``, or when it is not part of the base model at all (``vace_*``, ``emb_pos``).
    """
    if is_image_branch(module) and not arch.has_clip_branch:
        return None
    index, local = split_block(module)
    if index is None:
        rule = _TOP_RULES.get(local)
    else:
        rule = _BLOCK_RULES.get(local) if index < arch.layers else None
    return rule(arch) if rule is not None else None
