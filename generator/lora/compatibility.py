"""Does a LoRA fit a Wan architecture? Verdicts from shape evidence (wan-lora-format.md §6)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from generator.lora.architectures import (
    Architecture,
    ModuleShape,
    expected_shape,
    get_architecture,
    is_image_branch,
)
from generator.lora.facts import BlockCoverage, DimSignature, HeaderFacts, ModuleEvidence, Verdict

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
    return judge(facts.modules, facts.dims, facts.blocks_covered, get_architecture(architecture_id))


def judge(
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
