"""Plain sentences about what a header can and cannot tell."""

from __future__ import annotations

from collections.abc import Mapping

from generator.lora.architectures import ARCHITECTURES
from generator.lora.facts import HeaderFacts, RankSummary
from generator.lora.measure import LoraPair, metadata_rank
from generator.lora.modules import generic_name


def header_notes(facts: HeaderFacts, pairs: list[LoraPair], metadata: Mapping[str, str]) -> list[str]:
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


def _note_overparameterised(pairs: list[LoraPair]) -> list[str]:
    heavy = sorted(
        {generic_name(p.module) for p in pairs if 2 * p.rank >= min(p.in_features, p.out_features)}
    )
    if not heavy:
        return []
    return [f"over-parameterised (rank ≥ half the layer size) on {', '.join(heavy)}"]


def _note_metadata_rank(rank: RankSummary, metadata: Mapping[str, str]) -> list[str]:
    hinted = metadata_rank(metadata)
    if hinted is None or rank.nominal is None or hinted == rank.nominal:
        return []
    return [f"metadata says rank {hinted:g} but the shapes say {rank.nominal}; the shapes win"]
