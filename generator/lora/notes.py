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
    notes.extend(_note_metadata_alpha(facts, metadata))
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
    if set(shape) == {"wan2.1-i2v-14b", "wan2.2-i2v-a14b"}:
        notes.append(
            "shape cannot tell a Wan 2.1 I2V 14B LoRA from a Wan 2.2 I2V A14B one (a 36-channel patch_embedding "
            "and no image-branch keys)"
        )
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
    """Keys in diffusers module names. What ComfyUI, or Kijai's wrapper, does with them is the fit verdict's to
    say, with its counts (:mod:`generator.lora.comfyui`): this note only names the spelling."""
    if not facts.diffusers_named_keys:
        return []
    return [
        f"{facts.diffusers_named_keys} keys use diffusers module names (attn1/attn2, to_out.0, ffn.net …), "
        "the names diffusers loads"
    ]


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
        notes.append(f"partial blocks: no keys for block(s) {block_list(absent)}")
    attention = {"self_attn", "cross_attn"} & families
    if attention and "ffn" not in families:
        notes.append("partial modules: attention only, no FFN")
    elif "ffn" in families and not attention:
        notes.append("partial modules: FFN only, no attention")
    return notes


MAX_LISTED_BLOCKS = 40
"""Absent blocks a note names before it says how many more there are (Wan models have at most 40 blocks; a note
is one line of at most 2,000 characters)."""


def block_list(blocks: tuple[int, ...]) -> str:
    """``0, 3, 4``: block indices, at most :data:`MAX_LISTED_BLOCKS` of them, then how many more there are."""
    shown = ", ".join(map(str, blocks[:MAX_LISTED_BLOCKS]))
    more = len(blocks) - MAX_LISTED_BLOCKS
    return shown + (f" and {more} more" if more > 0 else "")


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
    """Pairs holding at least as many parameters as the dense delta, ``r·(in+out) ≥ in·out`` (§9), below full rank.

    A rank equal to the layer's smaller side is the full rank: the pair is then the exact dense delta in factored
    form, as an extraction writes it for a narrow layer (``head.head``, 64 outputs, at rank 64 or more), not a
    waste of parameters; the rank statistics already call such a layer capped.
    """
    heavy = sorted(
        {
            generic_name(p.module)
            for p in pairs
            if p.rank < min(p.in_features, p.out_features)
            and p.rank * (p.in_features + p.out_features) >= p.in_features * p.out_features
        }
    )
    if not heavy:
        return []
    return [
        f"over-parameterised (the pair holds at least as many parameters as the full weight, "
        f"r·(in+out) ≥ in·out) on {', '.join(heavy)}"
    ]


def _note_metadata_rank(rank: RankSummary, metadata: Mapping[str, str]) -> list[str]:
    hinted = metadata_rank(metadata)
    if hinted is None or rank.nominal is None or hinted == rank.nominal:
        return []
    return [f"metadata says rank {hinted:g} but the shapes say {rank.nominal}; the shapes win"]


def _note_metadata_alpha(facts: HeaderFacts, metadata: Mapping[str, str]) -> list[str]:
    """A metadata alpha that no alpha tensor carries is shown here, never applied as the scale."""
    alpha = facts.alpha
    if alpha.metadata_alpha is None or alpha.with_alpha or not alpha.pairs:
        return []
    if "ss_network_alpha" in metadata:
        return [
            f"metadata says alpha {alpha.metadata_alpha:g} (ss_network_alpha) but the file has no alpha tensors: "
            "ComfyUI applies scale 1.0 (musubi-tuner's convert_lora.py folds alpha into the weights and keeps "
            "the old metadata)"
        ]
    rank = metadata_rank(metadata)
    if rank is None or rank == alpha.metadata_alpha:
        return []
    return [
        f"lora_adapter_metadata says lora_alpha {alpha.metadata_alpha:g} with r {rank:g}: diffusers scales by "
        f"{alpha.metadata_alpha / rank:g}, loaders that read only tensors by 1.0"
    ]
