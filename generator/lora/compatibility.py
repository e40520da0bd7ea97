"""Does a LoRA fit a Wan architecture? Verdicts from shape evidence (wan-lora-format.md §6).

A verdict is ``fits`` (every module the file patches exists with the file's shapes), ``partial`` (some keys are
ignored or a weight loaders skip mismatches), ``no`` (a shape mismatch, or no key applies) or ``unknown`` (the
header does not show enough shapes to decide). Shapes that match several size classes (1.3B, 5B, 14B) decide
nothing, so such a file is ``unknown`` wherever it would otherwise fit: a LoRA for one size class never fits another.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from generator.lora.architectures import (
    ARCHITECTURES,
    Architecture,
    ModuleShape,
    expected_shape,
    get_architecture,
    is_flf,
    is_image_branch,
    is_vace,
    vace_shape,
)
from generator.lora.facts import BlockCoverage, DimSignature, HeaderFacts, ModuleEvidence, Verdict
from generator.vocabulary import ARCHITECTURE_IDS, ArchitectureId, SizeClass

_SOFT_MISMATCH = frozenset({"patch_embedding", "head.head"})
"""Modules whose mismatch loaders skip with a warning; the rest of the LoRA still applies (§5 step 9)."""
_SIZE_ORDER: tuple[SizeClass, ...] = ("1.3B", "5B", "14B")


def _concrete(generic: str) -> str:
    return generic.replace(".*.", ".0.")


def _shows_shape(e: ModuleEvidence) -> bool:
    """True when the evidence reveals at least one dimension of the module."""
    return any(v is not None for v in (e.out_features, e.in_features, e.weight, e.bias))


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
    """How the modules of a LoRA relate to one architecture; ``missing_*`` count keys, the rest module kinds."""

    mismatched: list[str] = field(default_factory=list)
    unshaped: list[str] = field(default_factory=list)
    applied: int = 0
    missing_image: int = 0
    missing_flf: int = 0
    missing_vace: int = 0
    missing_other: int = 0


def _classify_modules(modules: Mapping[str, tuple[ModuleEvidence, ...]], arch: Architecture) -> _Fit:
    """Classify every module ``ok``, ``missing`` (keys counted), ``mismatch`` or ``unshaped`` on ``arch``."""
    fit = _Fit()
    for name, entries in modules.items():
        concrete, keys = _concrete(name), sum(e.keys for e in entries)
        shaped = [e for e in entries if _shows_shape(e)]
        if is_vace(concrete):
            _classify_vace(fit, name, shaped, keys, vace_shape(arch, concrete))
            continue
        exp = expected_shape(arch, concrete)
        if exp is None:
            _count_missing(fit, concrete, keys)
        elif len(shaped) < len(entries):
            fit.unshaped.append(name)
        elif not all(_matches(e, exp) for e in shaped):
            fit.mismatched.append(name)
        else:
            fit.applied += 1
    return fit


def _classify_vace(
    fit: _Fit, name: str, shaped: list[ModuleEvidence], keys: int, exp: ModuleShape | None
) -> None:
    """VACE modules never apply to a base model, but their shapes still tell its size class."""
    if exp is not None and not all(_matches(e, exp) for e in shaped):
        fit.mismatched.append(name)
    else:
        fit.missing_vace += keys


def _count_missing(fit: _Fit, module: str, keys: int) -> None:
    if is_flf(module):
        fit.missing_flf += keys
    elif is_image_branch(module):
        fit.missing_image += keys
    else:
        fit.missing_other += keys


def compatibility(facts: HeaderFacts, architecture_id: str) -> Verdict:
    """Verdict for applying this LoRA to one architecture (§5 step 9, §6)."""
    arch = get_architecture(architecture_id)
    return judge_all(facts.modules, facts.dims, facts.blocks_covered)[arch.id]


def judge_all(
    modules: Mapping[str, tuple[ModuleEvidence, ...]], dims: DimSignature, blocks: BlockCoverage
) -> dict[ArchitectureId, Verdict]:
    """Verdicts on every architecture; ``unknown`` wherever shapes fit architectures of several size classes."""
    verdicts = {a: judge(modules, dims, blocks, ARCHITECTURES[a]) for a in sorted(ARCHITECTURE_IDS)}
    sizes = {ARCHITECTURES[a].size_class for a, v in verdicts.items() if v.verdict != "no"}
    if len(sizes) < 2:
        return verdicts
    shown = [s for s in _SIZE_ORDER if s in sizes]
    labels = ", ".join(shown[:-1]) + " and " + shown[-1]
    undecided = Verdict(
        verdict="unknown",
        reason=f"the shapes in the header match the {labels} models alike, so they cannot tell which one it is for",
    )
    return {a: undecided if v.verdict in ("fits", "partial") else v for a, v in verdicts.items()}


def judge(
    modules: Mapping[str, tuple[ModuleEvidence, ...]],
    dims: DimSignature,
    blocks: BlockCoverage,
    arch: Architecture,
) -> Verdict:
    """Verdict on one architecture, from the shape evidence alone (see :func:`judge_all` for the size check)."""
    if not modules:
        return Verdict(verdict="no", reason="no Wan module recognised in the header")
    fit = _classify_modules(modules, arch)
    hard = [m for m in fit.mismatched if m not in _SOFT_MISMATCH]
    if hard:
        return Verdict(verdict="no", reason=_mismatch_reason(dims, arch, hard))
    ignored = [_soft_reason(name, dims, arch) for name in fit.mismatched] + _ignored_reasons(
        fit, blocks, arch
    )
    if fit.unshaped:
        return Verdict(verdict="unknown", reason=_unshaped_reason(fit.unshaped, arch, ignored))
    if not fit.applied:
        return Verdict(verdict="no", reason=f"no key applies to {arch.label}: " + "; ".join(ignored))
    if ignored:
        return Verdict(verdict="partial", reason="; ".join(ignored))
    return Verdict(verdict="fits", reason=_fit_reason(modules, blocks, arch))


def _unshaped_reason(unshaped: list[str], arch: Architecture, ignored: list[str]) -> str:
    shown = ", ".join(unshaped[:3]) + (" …" if len(unshaped) > 3 else "")
    reason = (
        f"{len(unshaped)} module kind(s) show no shapes ({shown}), "
        f"so the header cannot tell whether they fit {arch.label}"
    )
    return "; ".join([reason, *ignored])


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
    if fit.missing_flf:
        reasons.append(
            f"{fit.missing_flf} FLF2V key(s) ignored (img_emb.emb_pos exists only in the Wan 2.1 FLF2V 14B model, "
            f"not in {arch.label})"
        )
    if fit.missing_vace:
        reasons.append(
            f"{fit.missing_vace} VACE keys ignored (vace_* modules exist only in the Wan 2.1 VACE models, "
            f"not in {arch.label})"
        )
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
