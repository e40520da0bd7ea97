"""What a Wan LoRA really is, derived from its safetensors header alone: the entry point of :mod:`generator.lora`.

Pure analysis, no I/O: from a parsed header (:mod:`~generator.lora.parse`), map every key onto a canonical Wan module (:mod:`~generator.lora.keys`), and derive
format, rank, precision, alpha, dimensions and coverage (:mod:`~generator.lora.measure`), per-architecture fit
as native ComfyUI loads the file (:mod:`~generator.lora.comfyui`), a training-base guess (:mod:`~generator.lora.guess`) and notes;
what a file name claims is read by :mod:`~generator.lora.filename`, contradictions with it live in
:mod:`~generator.lora.claims` (with a catalog entry: :mod:`generator.catalog.contradictions`). The algorithm
follows ``wan-lora-format.md`` §5 (inference); the fit follows ComfyUI's loader code (issue 19).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from typing import Any

from generator.lora.architectures import is_image_branch
from generator.lora.comfyui import comfyui_fits
from generator.lora.facts import ANALYSER_VERSION, HeaderFacts
from generator.lora.guess import guess_base
from generator.lora.keys import Key, classify_key
from generator.lora.layout import describe_layout
from generator.lora.measure import (
    alpha_summary,
    block_coverage,
    dim_signature,
    key_format_of,
    lora_pairs,
    module_evidence,
    precision_summary,
    rank_summary,
    suffix_family_of,
    tensor_bytes,
)
from generator.lora.modules import Module, group_modules, module_family
from generator.lora.notes import header_notes
from generator.lora.parse import TensorSpec


def analyse_header(
    tensors: Mapping[str, TensorSpec], metadata: Mapping[str, str], filename: str
) -> HeaderFacts:
    """Derive every fact of :class:`HeaderFacts` from a parsed header (§5 steps 2-13)."""
    keys = [classify_key(name, tensors[name]) for name in sorted(tensors)]
    suffix_family = suffix_family_of(keys)
    key_format, votes = key_format_of(keys, suffix_family)
    recognised = [k for k in keys if k.module is not None] if key_format != "unknown" else []
    modules = group_modules(recognised)
    pairs = lora_pairs(modules)
    rank = rank_summary(pairs)
    structure = _structure(modules, tensors)
    layout, writer = describe_layout(key_format, suffix_family, keys, metadata)
    facts = HeaderFacts.model_validate(
        {
            "analyser": ANALYSER_VERSION,
            "key_format": key_format,
            "format_votes": votes,
            "suffix_family": suffix_family,
            "layout": layout,
            "writer": writer,
            "diffusers_named_keys": sum(1 for k in recognised if k.diffusers_named),
            **_sizes(keys, recognised),
            "rank": rank,
            "precision": precision_summary(keys),
            "alpha": alpha_summary(recognised, len(pairs), rank, metadata),
            **structure,
            **_integrity(modules, recognised),
            "base_guess": guess_base(structure["dims"], structure["i2v_keys"], metadata, filename),
            "notes": (),
        }
    )
    return facts.model_copy(update={"notes": tuple(header_notes(facts, pairs, metadata))})


def _sizes(keys: list[Key], recognised: list[Key]) -> dict[str, int]:
    """Tensor, parameter and byte counts (§5 step 13) and how many keys matched no Wan module."""
    return {
        "tensor_count": len(keys),
        "parameter_count": sum(math.prod(k.spec.shape) for k in keys),
        "payload_bytes": sum(tensor_bytes(k.spec) for k in keys),
        "unmatched_keys": len(keys) - len(recognised),
    }


def _structure(modules: Mapping[str, Module], tensors: Mapping[str, TensorSpec]) -> dict[str, Any]:
    """Shape evidence, dimensions, coverage, families, flags and per-architecture fits.

    The fits are what native ComfyUI does with the file's own keys (:mod:`~generator.lora.comfyui`), judged on
    the raw tensor names: the canonical modules above say what the file was made for, not what loads."""
    evidence = module_evidence(modules)
    dims, blocks = dim_signature(evidence), block_coverage(modules)
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
        "fits": {arch: fit.as_verdict() for arch, fit in comfyui_fits(tensors).items()},
    }


def _integrity(modules: Mapping[str, Module], recognised: list[Key]) -> dict[str, int]:
    """Lone ups/downs, alphas without a pair, diffs next to a pair, keys mapping to the same slot (§5 step 5)."""
    slots = Counter((k.module, k.role, k.part) for k in recognised)
    return {
        "lone_halves": sum(1 for m in modules.values() if ("down" in m.roles) != ("up" in m.roles)),
        "orphan_alphas": sum(
            1 for m in modules.values() if "alpha" in m.roles and m.rank is None and not m.lycoris
        ),
        "diff_overrides": sum(1 for m in modules.values() if "diff" in m.roles and m.rank is not None),
        "duplicate_keys": sum(n - 1 for n in slots.values()),
    }
